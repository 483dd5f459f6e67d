//! Text from objects and files, made safe to show: in an error, a log line, an event, a
//! status message or on a terminal. The one home of that rule for the whole workspace.

use std::fmt::Write as _;

/// `s` with every control character (C0, DEL, C1), the Unicode line and paragraph separators
/// and the bidirectional formatting controls (which make a line read otherwise than it holds)
/// written as a Rust-style escape (`\n`, `\t`, `\r`, `\0`, `\u{1b}`), so the result is one
/// line that cannot forge another or drive a terminal. Backslashes are left alone, so that
/// escaping text that is already escaped changes nothing (each layer may escape again).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || is_layout_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// Line and paragraph separators, and the bidirectional marks, embeddings, overrides and
/// isolates.
fn is_layout_control(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// A name from an object for a message: escaped, and cut to about `max` bytes with the full
/// length said, so a 600 KB item name cannot make a 600 KB message.
pub fn name(s: &str, max: usize) -> String {
    if s.len() <= max {
        return escape(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", escape(&s[..end]), s.len())
}

/// At most `max` bytes of `s` (cut at a character boundary, with `...` appended when cut).
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Names for a message: the first `shown`, then how many more there are.
pub fn list<'a>(names: impl ExactSizeIterator<Item = &'a str>, shown: usize, max: usize) -> String {
    let total = names.len();
    let mut out = String::new();
    for (i, n) in names.take(shown).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&name(n, max));
    }
    if total > shown {
        let _ = write!(out, " and {} more", total - shown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_forge_a_line() {
        assert_eq!(escape("a\nb"), "a\\nb");
        assert_eq!(escape("x\x1b[31my"), "x\\u{1b}[31my");
        assert_eq!(
            escape("\r\t\u{7f}\u{85}\u{2028}"),
            "\\r\\t\\u{7f}\\u{85}\\u{2028}"
        );
        assert_eq!(escape("back\\slash"), "back\\slash");
        let once = escape("a\n\u{1b}b");
        assert_eq!(escape(&once), once);
        assert_eq!(
            escape("plain ünïcode ☃ 'q' \"d\""),
            "plain ünïcode ☃ 'q' \"d\""
        );
        assert_eq!(escape("\0\u{202e}\u{2066}"), "\\0\\u{202e}\\u{2066}");
        for c in (0u32..0x110000).filter_map(char::from_u32) {
            let e = escape(&c.to_string());
            assert!(!e.chars().any(|c| c.is_control()), "{c:?}");
        }
    }

    #[test]
    fn long_names_are_cut() {
        let long = "k".repeat(600_000);
        let shown = name(&long, 40);
        assert!(shown.len() < 80, "{shown}");
        assert!(shown.ends_with("(600000 bytes)"));
        assert_eq!(name("ä".repeat(30).as_str(), 5), "ää... (60 bytes)");
        assert_eq!(truncate("abcdef", 5), "ab...");
        assert_eq!(truncate("abc", 5), "abc");
        let names = ["a", "b", "c", "d"];
        assert_eq!(list(names.iter().copied(), 2, 10), "a, b and 2 more");
        assert_eq!(list(names.iter().copied(), 5, 10), "a, b, c, d");
    }
}
