//! Go's regexp (RE2 syntax, leftmost-first) on the `regex` crate: patterns are translated
//! where the two differ (`\d`, `\w`, `\s`, `\b` are ASCII-only in Go) and refused where a
//! difference cannot be translated (class set operations, `\Q`, the `x` flag, repeat counts
//! over 1000, text that is not UTF-8, which Go reads as U+FFFD runes).

use ::regex::bytes::{Regex, RegexBuilder};

use super::error::FnError;
use super::strings::decode_rune;

fn refuse(what: &str) -> FnError {
    FnError::Unsupported(format!("regular expression {what}"))
}

/// Translates a Go pattern to the regex crate's syntax, or refuses it.
fn translate(pattern: &str) -> Result<String, FnError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    let mut class_start = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&e) = chars.get(i + 1) else {
                return Err(refuse("ending in a backslash"));
            };
            i += 2;
            let (outside, inside): (&str, &str) = match e {
                'd' => ("[0-9]", "0-9"),
                'D' => ("[^0-9]", "[^0-9]"),
                'w' => ("[0-9A-Za-z_]", "0-9A-Za-z_"),
                'W' => ("[^0-9A-Za-z_]", "[^0-9A-Za-z_]"),
                's' => ("[\\t\\n\\f\\r ]", "\\t\\n\\f\\r "),
                'S' => ("[^\\t\\n\\f\\r ]", "[^\\t\\n\\f\\r ]"),
                'b' if !in_class => {
                    if chars.get(i) == Some(&'{') {
                        return Err(refuse("with \\b{...}"));
                    }
                    ("(?-u:\\b)", "")
                }
                'B' if !in_class => ("(?-u:\\B)", ""),
                'Q' | 'E' | '<' | '>' | 'h' | 'H' | 'v' | 'V' | 'R' | 'K' | 'X' | 'G' | 'e' => {
                    return Err(refuse(&format!("with \\{e}")));
                }
                _ => {
                    out.push('\\');
                    out.push(e);
                    class_start = false;
                    continue;
                }
            };
            out.push_str(if in_class { inside } else { outside });
            class_start = false;
            continue;
        }
        if in_class {
            match c {
                ']' if !class_start => in_class = false,
                '[' => {
                    if chars.get(i + 1) == Some(&':') {
                        // [:alpha:]: the same in both.
                        let end = chars[i..]
                            .windows(2)
                            .position(|w| w == [':', ']'])
                            .ok_or_else(|| refuse("with an unclosed [:class:]"))?;
                        out.extend(&chars[i..i + end + 2]);
                        i += end + 2;
                        class_start = false;
                        continue;
                    }
                    out.push_str("\\[");
                    i += 1;
                    class_start = false;
                    continue;
                }
                '&' | '-' | '~' if chars.get(i + 1) == Some(&c) => {
                    return Err(refuse("with a class set operator"));
                }
                _ => {}
            }
            if c == '^' && class_start && out.ends_with('[') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push(c);
            class_start = false;
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                class_start = true;
                out.push(c);
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                // Flags: Go knows i, m, s, U.
                let mut j = i + 2;
                while let Some(&f) = chars.get(j) {
                    match f {
                        'i' | 'm' | 's' | 'U' | '-' => j += 1,
                        ':' | ')' => break,
                        'P' | '<' => break,
                        _ => return Err(refuse(&format!("with the flag {f:?}"))),
                    }
                }
            }
            '{' => {
                let rest: String = chars[i + 1..].iter().take_while(|&&c| c != '}').collect();
                let counts: Vec<&str> = rest.split(',').collect();
                let numeric = !rest.is_empty()
                    && counts.len() <= 2
                    && counts.iter().enumerate().all(|(k, n)| {
                        n.chars().all(|c| c.is_ascii_digit()) && (k == 1 || !n.is_empty())
                    });
                if numeric && counts.iter().any(|n| n.parse::<u64>().unwrap_or(0) > 1000) {
                    return Err(refuse("with a repeat count over 1000"));
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// The compiled pattern, or `None` where Go would not compile it either (as far as the
/// regex crate can tell; where they may disagree, refused).
pub(super) fn compile(pattern: &[u8], subject: &[u8]) -> Result<Option<Regex>, FnError> {
    let (Ok(pattern), Ok(_)) = (std::str::from_utf8(pattern), std::str::from_utf8(subject)) else {
        return Err(refuse("on text that is not UTF-8"));
    };
    let translated = translate(pattern)?;
    match RegexBuilder::new(&translated)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
    {
        Ok(re) => Ok(Some(re)),
        Err(_) => Err(refuse("that the regex crate does not compile")),
    }
}

/// Go's allMatches: successive non-overlapping matches, no empty match right after one.
pub(super) fn find_all(re: &Regex, b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut prev_end: Option<usize> = None;
    while pos <= b.len() {
        let Some(m) = re.find_at(b, pos) else { break };
        let mut accept = true;
        if m.end() == pos {
            if Some(m.start()) == prev_end {
                accept = false;
            }
            let (_, width) = decode_rune(&b[pos..]);
            pos += width.max(1);
        } else {
            pos = m.end();
        }
        prev_end = Some(m.end());
        if accept {
            out.push((m.start(), m.end()));
        }
    }
    out
}

/// Go's Regexp.ReplaceAllString / ReplaceAllLiteralString.
pub(super) fn replace_all(
    re: &Regex,
    src: &[u8],
    repl: &[u8],
    literal: bool,
) -> Result<Vec<u8>, FnError> {
    let mut dst = Vec::with_capacity(src.len());
    let mut last_end = 0;
    let mut search = 0;
    while search <= src.len() {
        let Some(caps) = re.captures_at(src, search) else {
            break;
        };
        let m = caps.get(0).map_or((0, 0), |m| (m.start(), m.end()));
        dst.extend_from_slice(&src[last_end..m.0]);
        if m.1 > last_end || m.0 == 0 {
            if literal {
                dst.extend_from_slice(repl);
            } else {
                caps.expand(repl, &mut dst);
            }
            super::error::check_len(dst.len() as u128)?;
        }
        last_end = m.1;
        let (_, width) = decode_rune(&src[search..]);
        if search + width > m.1 {
            search += width;
        } else if search + 1 > m.1 {
            search += 1;
        } else {
            search = m.1;
        }
        if width == 0 && search == src.len() && m.1 == src.len() && m.0 == src.len() {
            break;
        }
    }
    dst.extend_from_slice(&src[last_end..]);
    Ok(dst)
}

/// Go's Regexp.Split.
pub(super) fn split(re: &Regex, pattern: &[u8], s: &[u8], n: i64) -> Vec<Vec<u8>> {
    if !pattern.is_empty() && s.is_empty() {
        return vec![Vec::new()];
    }
    let mut matches = find_all(re, s);
    if n >= 0 {
        matches.truncate(n as usize);
    }
    let mut out = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (i, j) in matches {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = i;
        if j != 0 {
            out.push(s[beg..end].to_vec());
        }
        beg = j;
    }
    if end != s.len() {
        out.push(s[beg..].to_vec());
    }
    out
}
