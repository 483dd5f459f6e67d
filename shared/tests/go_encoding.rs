//! `shared::go`'s base64 and JSON string rules against Go. Every case in
//! `data/template/encoding.json` was computed by Go: `base64.StdEncoding.DecodeString` and
//! `EncodeToString`, `json.Marshal` of a string and an `Encoder` with `SetEscapeHTML(false)`.
//!
//! The cases are made by the Go program in `data/template/gen`; to regenerate or extend them
//! (needs Go and the Go module proxy; these tests need neither):
//!
//! ```sh
//! cd shared/tests/data/template/gen && go run . encoding > ../encoding.json
//! ```

use serde_json::Value;
use shared::go;

const CASES: &str = include_str!("data/template/encoding.json");

fn doc() -> Value {
    serde_json::from_str(CASES).expect("encoding.json is JSON")
}

fn cases<'d>(doc: &'d Value, key: &str, at_least: usize) -> &'d [Value] {
    let cases = doc[key].as_array().expect("a case list");
    // A truncated or emptied file must not pass quietly.
    assert!(cases.len() >= at_least, "{key}: {} cases", cases.len());
    cases
}

fn str_of<'v>(case: &'v Value, key: &str) -> &'v str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {case}"))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn base64_decodes_as_go_decodes() {
    let doc = doc();
    let mut failures = Vec::new();
    let all = cases(&doc, "base64_decode", 1500);
    for case in all {
        let input = str_of(case, "in");
        let got = go::base64_decode(input.as_bytes());
        let want = match case.get("out") {
            Some(out) => Ok(hex(out.as_str().expect("hex"))),
            None => Err(str_of(case, "error").to_owned()),
        };
        if got.clone().map_err(|e| e.to_string()) != want {
            failures.push(format!("{input:?}: {got:?}, Go {want:?}"));
        }
        // wire::decode, how encryptedData values are read, accepts exactly the same.
        if shared::wire::decode(input).is_ok() != got.is_ok() {
            failures.push(format!("{input:?}: wire::decode disagrees"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} disagree with Go:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn base64_encodes_as_go_encodes() {
    let doc = doc();
    for case in cases(&doc, "base64_encode", 10) {
        let input = hex(str_of(case, "in"));
        assert_eq!(go::base64_encode(&input), str_of(case, "out"), "{case}");
        assert_eq!(shared::wire::encode(&input), str_of(case, "out"), "{case}");
    }
}

#[test]
fn json_strings_as_go_encodes_them() {
    let doc = doc();
    let mut failures = Vec::new();
    let all = cases(&doc, "json_string", 400);
    for case in all {
        let input = hex(str_of(case, "in"));
        for (key, escape_html) in [("html", true), ("raw", false)] {
            let mut got = Vec::new();
            go::json_string(&input, escape_html, &mut got);
            let want = str_of(case, key);
            if got != want.as_bytes() {
                failures.push(format!(
                    "{:?} ({key}): {:?}, Go {want:?}",
                    String::from_utf8_lossy(&input),
                    String::from_utf8_lossy(&got)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} disagree with Go:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
