//! Error lines never pass control characters from the input to the terminal: names, keys,
//! paths and flag values are printed with `\n`, `\r`, `\t`, `\0` and `\u{hex}` escapes, so
//! stderr stays one line and an ESC sequence in a Secret cannot recolour or clear the screen.

mod common;

use common::*;

/// No byte of stderr is a C0 control (other than the final newline) or DEL, and no C1
/// control, line separator or bidi override survives.
#[track_caller]
fn assert_no_controls(stderr: &str) {
    let body = stderr.strip_suffix('\n').expect("ends with a newline");
    for c in body.chars() {
        assert!(
            !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}'),
            "raw {c:?} in {stderr:?}"
        );
    }
}

#[test]
fn escape_sequences_and_newlines_in_a_key() {
    // JSON input, so every control character is spelled out exactly.
    let input = r#"{"metadata": {"name": "s"}, "data": {"k\u001b[31m\nx\r\t\u0000\u007f\u0085\u202e": "not base64!"}}"#;
    let line = seal(&["--cert", &cert()])
        .stdin(input)
        .run()
        .fails_with(&[]);
    assert_no_controls(&line);
    assert_eq!(
        line,
        "error: secret \"s\": data.k\\u{1b}[31m\\nx\\r\\t\\0\\u{7f}\\u{85}\\u{202e}: \
         invalid base64 (use stringData for plain text)\n"
    );
}

#[test]
fn escape_sequences_and_newlines_in_a_name() {
    let input = "{\"metadata\": {\"name\": \"n\\u001b[31m\\nevil\"}, \"data\": {\"k\": \"!\"}}";
    let line = seal(&["--cert", &cert()])
        .stdin(input)
        .run()
        .fails_with(&["data.k: invalid base64"]);
    assert_no_controls(&line);
    assert!(
        line.starts_with("error: secret \"n\\u{1b}[31m\\nevil\": "),
        "{line:?}"
    );
}

#[test]
fn escape_sequences_in_a_yaml_key() {
    // YAML's double-quoted "\e" is ESC; "\x85" is NEL, a C1 control.
    let input = "metadata: {name: s}\nstringData: {\"a\\e[2J\\x85b\": 5}\n";
    let line = seal(&["--cert", &cert()])
        .stdin(input)
        .run()
        .fails_with(&["stringData.a\\u{1b}[2J\\u{85}b: expected a string"]);
    assert_no_controls(&line);
}

#[test]
fn control_characters_in_a_path() {
    let path = "/nonexistent/a\u{1b}]0;title\u{7}\nb.yaml";
    let line = seal(&["--cert", &cert(), "-f", path]).run().fails_with(&[]);
    assert_no_controls(&line);
    assert_eq!(
        line,
        "error: open /nonexistent/a\\u{1b}]0;title\\u{7}\\nb.yaml: no such file or directory\n"
    );
}

#[test]
fn control_characters_in_a_flag_value() {
    // Checked by seal (exit 1) ...
    let line = seal(&["--cert", &cert(), "--scope", "x\u{1b}[31m\ny"])
        .stdin("")
        .run()
        .fails_with(&["x\\u{1b}[31m\\ny"]);
    assert_no_controls(&line);
    // ... and by the command-line parser (exit 2).
    let out = seal(&["-v", "\u{1b}[31m\n"]).run();
    let stderr = out.stderr();
    assert_eq!(out.code(), Some(2), "{stderr:?}");
    assert_no_controls(&stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert_eq!(
        stderr,
        "error: invalid value '\\u{1b}[31m\\n' for '--v <LEVEL>': invalid digit found in string\n"
    );
}
