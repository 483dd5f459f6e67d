//! The template renderer against Go. Every case in `data/template/cases.json` was run by Go's
//! text/template with sprig v3.3.0 and the reference controller's function map, on a
//! `map[string]string` of the items, as the reference renders `spec.template.data`.
//!
//! The cases are made by the Go program next to them; to regenerate or extend them (needs
//! Go and the Go module proxy; these tests need neither):
//!
//! ```sh
//! cd shared/tests/data/template/gen && go run . > ../cases.json
//! ```
//!
//! A case Go renders must render to the same bytes. A case Go refuses must be refused, with
//! the kind of error that matches where Go fails (its group). What the renderer refuses
//! although Go renders it (control actions, floats, unsupported functions, the limits) is
//! Rust-only and tested in `shared/src/template/tests.rs`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use shared::template::{Budget, Context, Env, Hermetic, TemplateError, render_with};

const CASES: &str = include_str!("data/template/cases.json");

type Items = BTreeMap<String, Vec<u8>>;

fn b64(value: &Value) -> Vec<u8> {
    STANDARD
        .decode(value.as_str().expect("a base64 string"))
        .expect("valid base64")
}

fn data_sets(doc: &Value) -> BTreeMap<String, Items> {
    doc["data"]
        .as_object()
        .expect("a data map")
        .iter()
        .map(|(name, items)| {
            let items = items.as_object().expect("an item map");
            let items = items.iter().map(|(k, v)| (k.clone(), b64(v))).collect();
            (name.clone(), items)
        })
        .collect()
}

/// Whether `e` is the kind of error the renderer gives for what Go refuses in `group`, at
/// `phase` (Go's "parse" or "exec"). The first groups are precise; the others (the control
/// structures, sprig and the enumerations) only tell a parse error from an execution one.
fn expected_kind(group: &str, phase: &str, e: &TemplateError) -> bool {
    let parse_kind = matches!(
        e,
        TemplateError::Syntax { .. }
            | TemplateError::UnknownFunction { .. }
            | TemplateError::TooDeep { .. }
    );
    let exec_kind = matches!(
        e,
        TemplateError::WrongArgCount { .. }
            | TemplateError::WrongArgType { .. }
            | TemplateError::Exec { .. }
            | TemplateError::CallFailed { .. }
            | TemplateError::Fail { .. }
    );
    match (group, phase) {
        ("syntax" | "trim", "parse") => matches!(
            e,
            TemplateError::Syntax { .. } | TemplateError::UnknownFunction { .. }
        ),
        ("types", "exec") => matches!(
            e,
            TemplateError::WrongArgCount { .. } | TemplateError::WrongArgType { .. }
        ),
        ("exec", "exec") => matches!(e, TemplateError::Exec { .. }),
        ("calls", "exec") => matches!(e, TemplateError::CallFailed { .. }),
        ("syntax" | "trim" | "types" | "exec" | "calls", _) => false,
        (_, "parse") => parse_kind,
        (_, "exec") => exec_kind,
        _ => false,
    }
}

fn seeded_env() -> Context<rand::rngs::StdRng> {
    use rand::SeedableRng as _;
    Context {
        now: time::OffsetDateTime::UNIX_EPOCH,
        rng: rand::rngs::StdRng::seed_from_u64(1),
    }
}

#[test]
fn renders_what_go_renders_and_refuses_what_go_refuses() {
    let doc: Value = serde_json::from_str(CASES).expect("cases.json is JSON");
    let sets = data_sets(&doc);
    let cases = doc["cases"].as_array().expect("a case list");
    let (mut rendered, mut refused) = (0, 0);
    let mut failures = Vec::new();
    // What Go renders and this renderer deliberately refuses (`Unsupported`): allowed, and
    // listed, never rendered differently.
    let mut declined = Vec::new();
    for case in cases {
        let template = case["template"].as_str().expect("a template");
        let group = case["group"].as_str().expect("a group");
        let items = &sets[case["data"].as_str().expect("a data set name")];
        let name = case.get("name").and_then(Value::as_str).unwrap_or("value");
        // Group "crypto-env" needs randomness; its templates show only what Go's random
        // output makes deterministic (a round trip, a length, a prefix).
        let mut seeded = seeded_env();
        let env: &mut dyn Env = if group == "crypto-env" {
            &mut seeded
        } else {
            &mut Hermetic
        };
        let got = render_with(name, template, items, &mut Budget::per_object(), env);
        let what = format!("[{group}] {template:?}");
        if let Some(want) = case.get("output") {
            rendered += 1;
            let want = b64(want);
            if let Some(text) = case.get("text") {
                assert_eq!(text.as_str().map(str::as_bytes), Some(&want[..]), "{what}");
            }
            match got {
                Ok(got) if got == want => {}
                Ok(got) => failures.push(format!(
                    "{what}: rendered {:?}, Go {:?}",
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want)
                )),
                Err(e @ TemplateError::Unsupported { .. }) => declined.push(format!("{what}: {e}")),
                Err(e) => failures.push(format!(
                    "{what}: refused ({e}), Go renders {:?}",
                    String::from_utf8_lossy(&want)
                )),
            }
        } else {
            refused += 1;
            let phase = case["error"].as_str().expect("an output or an error");
            let go_error = case["go_error"].as_str().unwrap_or_default();
            match got {
                Err(e) if expected_kind(group, phase, &e) => {}
                Err(e) => failures.push(format!(
                    "{what}: refused as {e:?}, not as expected for a Go {phase} error ({go_error})"
                )),
                Ok(got) => failures.push(format!(
                    "{what}: rendered {:?}, Go fails: {go_error}",
                    String::from_utf8_lossy(&got)
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with Go:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // A truncated or emptied file must not pass quietly.
    assert!(
        rendered >= 4000 && refused >= 500,
        "{rendered} rendered, {refused} refused"
    );
    // Deliberate refusals stay rare (each is listed in shared/src/template/mod.rs).
    assert!(
        declined.len() * 50 <= cases.len(),
        "{} cases that Go renders are refused:\n{}",
        declined.len(),
        declined.join("\n")
    );
    eprintln!(
        "{rendered} rendered and {refused} refused as Go does; {} declined:\n{}",
        declined.len(),
        declined.join("\n")
    );
}
