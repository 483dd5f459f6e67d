//! Rust-only tests of the renderer: refusals, errors, limits and budgets, and properties.
//! What Go renders is checked in `shared/tests/template_go.rs`, against data made by Go.

use super::value::Data;
use super::*;
use proptest::prelude::*;

fn data_of(items: &[(&str, &[u8])]) -> Data {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect()
}

/// The items of the "default" set in `shared/tests/data/template/cases.json`.
fn data() -> Data {
    data_of(&[
        ("a", b"x"),
        ("b", b"y"),
        ("foo", b"bar"),
        ("password", b"hunter2'\"="),
        ("html", b"<a href=\"x\">&amp;</a>"),
        ("bin", b"\xff\x00\xc3("),
        ("uni", "héllo wörld ǆ ß".as_bytes()),
        ("ws", b"  \t hi there \n "),
        ("b64", b"aGVsbG8gd29ybGQ="),
        ("num", b"42"),
        ("empty", b""),
        ("nl", b"line1\nline2"),
        ("key-with-dash", b"dashed"),
    ])
}

fn ok(template: &str) -> Vec<u8> {
    render(template, &data()).unwrap_or_else(|e| panic!("{template:?} failed: {e}"))
}

fn err(template: &str) -> TemplateError {
    match render(template, &data()) {
        Ok(out) => panic!("{template:?} rendered {:?}", String::from_utf8_lossy(&out)),
        Err(e) => e,
    }
}

#[test]
fn refuses_control_actions() {
    for (template, keyword, offset) in [
        ("{{ if .a }}x{{ end }}", "if", 3),
        ("ab{{range .}}x{{end}}", "range", 4),
        ("{{- with .a }}x{{ end }}", "with", 4),
        (r#"{{ define "x" }}{{ end }}"#, "define", 3),
        (r#"{{ template "x" }}"#, "template", 3),
        (r#"{{ block "x" . }}{{ end }}"#, "block", 3),
        ("{{ end }}", "end", 3),
        ("{{ else }}", "else", 3),
        ("{{ break }}", "break", 3),
        ("{{ continue }}", "continue", 3),
    ] {
        let e = err(template);
        assert_eq!(
            e,
            TemplateError::UnsupportedAction {
                keyword: keyword.into(),
                offset
            },
            "{template}"
        );
    }
    assert_eq!(
        err("{{ if .a }}x{{ end }}").to_string(),
        r#"unsupported action "if" at offset 3"#
    );
    assert_eq!(
        err("0123456789{{ range . }}{{ end }}").to_string(),
        r#"unsupported action "range" at offset 13"#
    );
}

#[test]
fn refuses_variables() {
    assert_eq!(
        err("{{ $x }}"),
        TemplateError::UnsupportedVariable {
            name: "$x".into(),
            offset: 3
        }
    );
    assert!(matches!(
        err("{{ $x := .a }}"),
        TemplateError::UnsupportedVariable { .. }
    ));
    assert!(matches!(
        err("{{ $ := .a }}"),
        TemplateError::Unsupported { .. }
    ));
    assert!(matches!(
        err("{{ .a = 1 }}"),
        TemplateError::Unsupported { .. }
    ));
}

#[test]
fn refuses_functions_it_does_not_have() {
    for name in ["env", "expandenv", "getHostByName", "nosuchfunc"] {
        let template = format!("{{{{ {name} \"HOME\" }}}}");
        assert_eq!(
            err(&template),
            TemplateError::UnknownFunction {
                name: name.into(),
                offset: 3
            }
        );
    }
    assert_eq!(
        err(r#"{{ env "HOME" }}"#).to_string(),
        r#"unknown function "env" at offset 3"#
    );
    for name in [
        "eq",
        "and",
        "regexMatch",
        "now",
        "randAlphaNum",
        "fail",
        "sha1sum",
        "list",
    ] {
        let template = format!("{{{{ {name} }}}}");
        assert_eq!(
            err(&template),
            TemplateError::UnsupportedFunction {
                name: name.into(),
                offset: 3
            }
        );
    }
}

#[test]
fn refuses_constants_it_cannot_represent() {
    for template in [
        "{{ 1.5 }}",
        "{{ 1e3 }}",
        "{{ 1_000 }}",
        "{{ 1i }}",
        "{{ 'a' }}",
        "{{ 0x1p4 }}",
        "{{ .é }}",
    ] {
        assert!(
            matches!(err(template), TemplateError::Unsupported { .. }),
            "{template}"
        );
    }
}

#[test]
fn arity_and_type_errors() {
    assert_eq!(
        err(r#"{{ upper "a" "b" }}"#),
        TemplateError::WrongArgCount {
            function: "upper".into(),
            want: "1".into(),
            got: 2,
            offset: 3
        }
    );
    assert_eq!(
        err("{{ printf }}"),
        TemplateError::WrongArgCount {
            function: "printf".into(),
            want: "at least 1".into(),
            got: 0,
            offset: 3
        }
    );
    assert!(matches!(
        err("{{ .a | replace \"x\" }}"),
        TemplateError::WrongArgCount { got: 2, .. }
    ));
    assert_eq!(
        err("{{ upper .missing }}").to_string(),
        "wrong type for argument of upper at offset 9: expected string, got no value"
    );
}

#[test]
fn limits() {
    let deep = format!(
        "{{{{ {}.a{} }}}}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    assert_eq!(ok(&deep), b"x");
    let deeper = format!(
        "{{{{ {}.a{} }}}}",
        "(".repeat(MAX_NESTING + 1),
        ")".repeat(MAX_NESTING + 1)
    );
    assert!(matches!(err(&deeper), TemplateError::TooDeep { .. }));
    assert!(matches!(
        err(r#"{{ repeat 20000000 "a" }}"#),
        TemplateError::TooLarge { .. }
    ));
    assert!(matches!(
        err(r#"{{ repeat 9223372036854775807 "ab" }}"#),
        TemplateError::TooLarge { .. }
    ));
    assert_eq!(ok(r#"{{ repeat 100000 "abcdefgh" | trunc 3 }}"#), b"abc");
    assert!(matches!(
        err(r#"{{ repeat 200000 "abcdefgh" | trunc 3 }}"#),
        TemplateError::TooLarge { .. }
    ));
    assert_eq!(ok(r#"{{ repeat 9223372036854775807 "" }}"#), b"");
    let big = data_of(&[("v", &vec![b'a'; 3 << 20])]);
    let many = "{{ .v }}".repeat(6);
    assert!(matches!(
        render(&many, &big),
        Err(TemplateError::TooLarge { .. })
    ));
}

/// Finding: a ~1 KB object with a few dozen `repeat 16000000` values took 869 MiB. One
/// budget per object bounds the sum, and each call's input is bounded too.
#[test]
fn one_budget_bounds_all_values_of_an_object() {
    let data = data();
    let mut budget = Budget::per_object();
    let value = r#"{{ repeat 1000000 "x" }}"#;
    let mut rendered = 0;
    let failure = loop {
        match render_within(value, &data, &mut budget) {
            Ok(out) => rendered += out.len(),
            Err(e) => break e,
        }
        assert!(rendered <= MAX_BUILT_PER_OBJECT, "budget not enforced");
    };
    assert!(
        matches!(failure, TemplateError::TooMuchOutput { .. }),
        "{failure}"
    );
    // Intermediates count: each value builds 1 MB twice (repeat, then the output).
    assert!(rendered >= MAX_BUILT_PER_OBJECT / 3, "{rendered}");
    // A fresh budget renders again.
    assert!(render(value, &data).is_ok());

    let steps = "{{ len . }}".repeat(MAX_STEPS_PER_OBJECT as usize / 2 + 1);
    assert!(matches!(
        render(&steps, &data),
        Err(TemplateError::TooManySteps { .. })
    ));
    // printf widths and many arguments cannot amplify past the value cap.
    let wide = format!(
        "{{{{ printf \"{}\"{} }}}}",
        "%999999d".repeat(50),
        " 1".repeat(50)
    );
    assert!(matches!(err(&wide), TemplateError::TooLarge { .. }));
    let big = data_of(&[("v", &vec![b'a'; 600_000])]);
    assert!(matches!(
        render("{{ print .v .v .v }}", &big),
        Err(TemplateError::TooLarge { .. })
    ));
    assert!(matches!(
        render("{{ print . . . }}", &big),
        Err(TemplateError::TooLarge { .. })
    ));
    assert_eq!(
        render(r#"{{ index . "v" | len }}"#, &big).unwrap(),
        b"600000"
    );
}

#[test]
fn errors_never_contain_item_values() {
    let secret = "s3cr3t-VALUE";
    let items = data_of(&[("pw", secret.as_bytes()), ("n", b"12")]);
    for template in [
        "{{ upper (len .pw) }}",
        "{{ .pw.x }}",
        r#"{{ .pw "arg" }}"#,
        "{{ index .pw 99 }}",
        "{{ index .n .pw }}",
        "{{ substr 50 60 .pw }}",
        "{{ repeat .n .pw }}",
        "{{ len (upper .pw | lt 3) }}",
        "{{ .pw | printf \"%d\" | upper 3 }}",
        "{{ .n | index .pw }}",
        "{{ .pw | trunc 1 | nindent }}",
        r#"{{ .pw | b64dec | upper | repeat -1 }}"#,
    ] {
        let e = render(template, &items).expect_err(template);
        let text = format!("{e} {e:?}");
        assert!(!text.contains("s3cr3t"), "{template}: {text}");
    }
}

fn fragment() -> impl Strategy<Value = String> {
    let pieces = [
        "{{",
        "}}",
        "{{- ",
        " -}}",
        "{{/*",
        "*/}}",
        " ",
        "\n",
        "(",
        ")",
        "|",
        ".",
        "$",
        ".a",
        ".bin",
        ".missing",
        "\"%s\"",
        "\"%5d|%-q\"",
        "\"\\xff\"",
        "`r`",
        "\"",
        "`",
        "'",
        "0x1f",
        "-3",
        "1.5",
        "9999999999999999999",
        "true",
        "nil",
        "upper",
        "title",
        "quote",
        "toJson",
        "b64dec",
        "printf",
        "index",
        "len",
        "repeat",
        "substr",
        "trunc",
        "indent",
        "replace",
        "default",
        "cat",
        "trimAll",
        "nospace",
        "range",
        "if",
        "end",
        "env",
        "$x",
        ":=",
        "=",
        ",",
        "é",
        "\u{2028}",
    ];
    prop::collection::vec(prop::sample::select(pieces.to_vec()), 0..24).prop_map(|v| v.concat())
}

fn items() -> impl Strategy<Value = Data> {
    prop::collection::btree_map(
        "[a-c]|bin|missing",
        prop::collection::vec(any::<u8>(), 0..12),
        0..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_text(template in any::<String>(), data in items()) {
        let _ = render(&template, &data);
    }

    #[test]
    fn never_panics_on_template_like_text(template in fragment(), data in items()) {
        let _ = render(&template, &data);
    }

    #[test]
    fn text_without_delimiters_is_copied(text in "[^{]*") {
        prop_assert_eq!(render(&text, &Data::new()).unwrap(), text.as_bytes());
    }
}
