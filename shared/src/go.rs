//! The Go behaviours that users of the reference depend on, each implemented once for the
//! whole workspace. Pure.
//!
//! Tests against Go itself: `shared/tests/go_encoding.rs` reads what the Go program in
//! `shared/tests/data/template/gen` wrote (`go run . encoding > ../encoding.json`).

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Go's `strconv.ParseBool`, which pflag, Go's `flag` package and the reference's environment
/// variables use: `1 t T TRUE true True` and `0 f F FALSE false False`, nothing else.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "invalid boolean {:?} (want true or false)",
            crate::text::escape(s)
        )),
    }
}

/// Go's `base64.StdEncoding` as an engine: the standard alphabet, padding written and
/// required, and, unlike the base64 crate's `STANDARD`, non-zero trailing bits accepted
/// (Go decodes `AR==` as `[1]`, as `AQ==`; only Go's `Strict()` variant refuses it). Go's
/// decoder also skips CR and LF anywhere, which no engine does: decode with
/// [`base64_decode`].
pub const BASE64_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Go's `base64.CorruptInputError`: where Go's decoder gave up, as a byte offset in the
/// input. Its text is Go's, which sprig's `b64dec` returns as the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal base64 data at input byte {offset}")]
pub struct Base64Error {
    /// The byte offset Go reports, including Go's quirks: after a first `=` it may point
    /// at the byte before the one that is wrong, and for a truncated final group it is the
    /// input length less the group's data characters, line breaks counted.
    pub offset: usize,
}

/// Go's `base64.StdEncoding.EncodeToString`.
pub fn base64_encode(bytes: &[u8]) -> String {
    BASE64_STD.encode(bytes)
}

/// Go's `base64.StdEncoding.DecodeString`, with which the reference decodes `encryptedData`
/// values and sprig's `b64dec` its argument: CR and LF are skipped anywhere (folded YAML),
/// padding is required, non-zero trailing bits are accepted, nothing else is tolerated.
pub fn base64_decode(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
    let decoded = if text.contains(&b'\r') || text.contains(&b'\n') {
        let cleaned: Vec<u8> = text
            .iter()
            .copied()
            .filter(|b| !matches!(b, b'\r' | b'\n'))
            .collect();
        BASE64_STD.decode(cleaned)
    } else {
        BASE64_STD.decode(text)
    };
    decoded.map_err(|_| Base64Error {
        // The engine decides what decodes; Go's walk below only says where Go reports the
        // error. Both refuse the same inputs (tests/go_encoding.rs, and the exhaustive test
        // below); if they ever did not, the end of the input is reported.
        offset: corrupt_input_offset(text).unwrap_or(text.len()),
    })
}

/// The offset of Go's `CorruptInputError` for `src`, or `None` if Go decodes it: Go's
/// `Decode` / `decodeQuantum` loop (go/src/encoding/base64/base64.go) with the output
/// left out.
fn corrupt_input_offset(src: &[u8]) -> Option<usize> {
    let is_data = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let skip_newlines = |mut si: usize| {
        while matches!(src.get(si), Some(b'\n' | b'\r')) {
            si += 1;
        }
        si
    };
    let mut si = 0;
    while si < src.len() {
        // One quantum: up to four data characters, line breaks skipped.
        let mut j = 0;
        while j < 4 {
            let Some(&c) = src.get(si) else {
                return (j > 0).then(|| si - j);
            };
            si += 1;
            if is_data(c) {
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' || j < 2 {
                return Some(si - 1);
            }
            if j == 2 {
                // "==" is expected; the first "=" is consumed.
                si = skip_newlines(si);
                match src.get(si) {
                    None => return Some(src.len()),
                    Some(b'=') => si += 1,
                    Some(_) => return Some(si - 1),
                }
            }
            // Nothing but line breaks may follow the padding.
            si = skip_newlines(si);
            return (si < src.len()).then_some(si);
        }
    }
    None
}

/// Go's `encoding/json` encoding of a string (`appendString` in go/src/encoding/json/encode.go),
/// quotes included, appended to `out`. See [`json_escape`].
pub fn json_string(s: &[u8], escape_html: bool, out: &mut Vec<u8>) {
    out.push(b'"');
    json_escape(s, escape_html, out);
    out.push(b'"');
}

/// The inside of Go's `encoding/json` encoding of a string, appended to `out`: `"` and `\`
/// backslash-escaped; control characters as `\b`, `\f`, `\n`, `\r`, `\t` or `\u00XX` (DEL
/// as is); U+2028 and U+2029 as `\u2028` and `\u2029`; every byte that is not part of valid
/// UTF-8 as `\ufffd`. With `escape_html`, as `json.Marshal` and `json.MarshalIndent` do,
/// also `<`, `>` and `&` as `\u003c`, `\u003e` and `\u0026`; without it, as an `Encoder`
/// with `SetEscapeHTML(false)` (sprig's `toRawJson`).
pub fn json_escape(s: &[u8], escape_html: bool, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for chunk in s.utf8_chunks() {
        let valid = chunk.valid();
        let mut start = 0;
        for (i, c) in valid.char_indices() {
            let short: Option<&[u8]> = match c {
                '"' => Some(b"\\\""),
                '\\' => Some(b"\\\\"),
                '\u{8}' => Some(b"\\b"),
                '\u{c}' => Some(b"\\f"),
                '\n' => Some(b"\\n"),
                '\r' => Some(b"\\r"),
                '\t' => Some(b"\\t"),
                '\0'..'\u{20}' | '\u{2028}' | '\u{2029}' => None,
                '<' | '>' | '&' if escape_html => None,
                _ => continue,
            };
            out.extend_from_slice(&valid.as_bytes()[start..i]);
            match short {
                Some(escape) => out.extend_from_slice(escape),
                None => {
                    let code = u32::from(c);
                    out.extend_from_slice(b"\\u");
                    out.extend([12, 8, 4, 0].map(|shift| HEX[(code >> shift & 0xf) as usize]));
                }
            }
            start = i + c.len_utf8();
        }
        out.extend_from_slice(&valid.as_bytes()[start..]);
        for _ in chunk.invalid() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_strconv_parses_them() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        for bad in ["yes", "no", "on", "off", "tRUE", "", " true", "2"] {
            assert!(parse_bool(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn base64_as_go_decodes_it() {
        assert_eq!(base64_decode(b"aGVsbG8="), Ok(b"hello".to_vec()));
        assert_eq!(base64_decode(b"aGVs\r\nbG8=\n"), Ok(b"hello".to_vec()));
        assert_eq!(base64_decode(b""), Ok(Vec::new()));
        // Non-zero trailing bits, which the base64 crate's STANDARD refuses.
        assert_eq!(base64_decode(b"AR=="), Ok(vec![1]));
        assert_eq!(base64_decode(b"AQF="), Ok(vec![1, 1]));
        let offset = |text: &[u8]| base64_decode(text).map_err(|e| e.offset);
        assert_eq!(offset(b"aGVsbG8"), Err(4));
        assert_eq!(offset(b"aGVsbA="), Err(7));
        assert_eq!(offset(b"aGVsbA=x"), Err(6));
        assert_eq!(offset(b"aGVsbA==x"), Err(8));
        assert_eq!(offset(b"a==="), Err(1));
        assert_eq!(offset(b"aGVs*"), Err(4));
        assert_eq!(offset(b"ABC\n"), Err(1));
        assert_eq!(
            base64_decode(b"abc").unwrap_err().to_string(),
            "illegal base64 data at input byte 0"
        );
        for len in 0..10 {
            let input: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
            assert_eq!(base64_decode(base64_encode(&input).as_bytes()), Ok(input));
        }
    }

    /// The engine decides what decodes and Go's walk where it fails: they must refuse the
    /// same strings. All strings of up to 6 characters over a data character with and one
    /// without trailing bits, padding, both line breaks and a foreign byte.
    #[test]
    fn base64_engine_and_error_offsets_agree_on_what_is_corrupt() {
        let alphabet = [b'A', b'B', b'=', b'\n', b'\r', b'*'];
        let mut texts = vec![Vec::new()];
        let mut checked = 0;
        for _ in 0..6 {
            let mut longer = Vec::new();
            for text in &texts {
                for &c in &alphabet {
                    let mut t: Vec<u8> = text.clone();
                    t.push(c);
                    let cleaned: Vec<u8> = t
                        .iter()
                        .copied()
                        .filter(|b| !matches!(b, b'\r' | b'\n'))
                        .collect();
                    let engine_ok = BASE64_STD.decode(&cleaned).is_ok();
                    let go_ok = corrupt_input_offset(&t).is_none();
                    assert_eq!(engine_ok, go_ok, "{:?}", String::from_utf8_lossy(&t));
                    checked += 1;
                    longer.push(t);
                }
            }
            texts = longer;
        }
        assert_eq!(checked, (1..=6).map(|n| 6usize.pow(n)).sum::<usize>());
    }

    #[test]
    fn json_strings_as_go_encodes_them() {
        let json = |s: &[u8], html: bool| {
            let mut out = Vec::new();
            json_string(s, html, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(json(b"<a>&", true), r#""\u003ca\u003e\u0026""#);
        assert_eq!(json(b"<a>&", false), r#""<a>&""#);
        assert_eq!(
            json(
                "\"\\\u{8}\u{c}\n\r\t\u{1}\u{7f}\u{2028}\u{2029}é".as_bytes(),
                false
            ),
            "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\u{7f}\\u2028\\u2029é\""
        );
        // Each byte that is not valid UTF-8 becomes one U+FFFD.
        assert_eq!(
            json(b"\xff\x00\xc3(\xe2\x82", true),
            r#""\ufffd\u0000\ufffd(\ufffd\ufffd""#
        );
    }
}
