//! The CLI's modules are layers (see `src/lib.rs`): each imports only modules listed before it
//! in [`LAYERS`], so data flows one way and no two modules import each other. The codecs
//! (`decode`, `print`, `rewrite`, `edit_text`) do no I/O, and `main.rs` stays a thin binary
//! over the library.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// Bottom to top. `cmd` is `src/cmd/*.rs` (whose files may use each other through `super::`),
/// `lib` is `src/lib.rs`.
const LAYERS: [&str; 13] = [
    "io",
    "decode",
    "print",
    "rewrite",
    "edit_text",
    "editor",
    "cli",
    "kubeconfig",
    "cert",
    "cluster",
    "plan",
    "cmd",
    "lib",
];

/// The module a source file belongs to: `cmd/seal.rs` is `cmd`.
fn module_of(rel: &str) -> &str {
    rel.split('/').next().unwrap_or(rel).trim_end_matches(".rs")
}

/// The code without `//` comments (doc comments may name any module).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules named after each `crate::`: `crate::io::Limit` and
/// `crate::{cert, io::{self, Limit}}` name `io`, and `cert` and `io`.
fn crate_imports(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: after `{` and after each `,` at depth 0.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        out.insert(ident(&group[j..]));
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn sources(dir: &Path, rel: &str, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if path.is_dir() {
            sources(&path, &rel, out);
        } else if rel.ends_with(".rs") {
            out.push((rel, fs::read_to_string(&path).unwrap()));
        }
    }
}

fn all_sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "",
        &mut files,
    );
    files.sort();
    files
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let mut problems = Vec::new();
    for (rel, text) in all_sources() {
        if rel == "main.rs" {
            continue; // The binary: it sees the library only as `seal_cli`.
        }
        let module = module_of(&rel);
        let Some(level) = LAYERS.iter().position(|m| *m == module) else {
            problems.push(format!("{rel}: module {module:?} is not in LAYERS"));
            continue;
        };
        for import in crate_imports(&code(&text)) {
            match LAYERS.iter().position(|m| *m == import) {
                Some(l) if l < level || (import == module && module == "cmd") => {}
                Some(_) => problems.push(format!(
                    "{rel}: {module} imports {import}, which is not below it"
                )),
                None => problems.push(format!("{rel}: imports unknown module {import:?}")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn codecs_do_no_io() {
    let forbidden = [
        "std::fs",
        "std::net",
        "std::env",
        "File::",
        "OpenOptions",
        "stdin(",
        "stdout(",
        "stderr(",
        "read_to_",
    ];
    for (rel, text) in all_sources() {
        if !matches!(
            rel.as_str(),
            "decode.rs" | "print.rs" | "edit_text.rs" | "rewrite.rs"
        ) {
            continue;
        }
        let code = code(&text);
        for word in forbidden {
            assert!(!code.contains(word), "{rel} does I/O: {word}");
        }
    }
}

#[test]
fn main_is_thin() {
    let main = all_sources()
        .into_iter()
        .find(|(rel, _)| rel == "main.rs")
        .unwrap()
        .1;
    let main = code(&main);
    assert!(!main.contains("mod "), "main.rs declares no modules");
    assert!(main.contains("seal_cli::run("), "main.rs runs the library");
}

#[test]
fn the_import_scanner_reads_groups() {
    let found = crate_imports("use crate::{cert, io::{self, Limit}};\nuse crate::plan::Plan;\n");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["cert", "io", "plan"]
    );
}
