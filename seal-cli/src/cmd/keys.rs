//! `seal keys`: the sealing keys, from the controller (`/v1/keys`, public information only) or
//! offline from a key backup, as a table or JSON.

use anyhow::{Result, anyhow, bail};
use k8s_openapi::api::core::v1::Secret;
use serde_json::Value;
use shared::key_list::{self, KeyInfo};

use crate::cluster::Session;
use crate::decode;
use crate::io::{self, Limit, Sensitivity, Sink};
use crate::plan::{KeySource, KeysPlan};

/// The key Secrets of one backup file: Secrets, and the items of Lists.
fn backup_secrets(bytes: &[u8], what: &str) -> Result<Vec<Secret>> {
    fn collect(doc: Value, out: &mut Vec<Value>) {
        match doc.get("items").and_then(Value::as_array) {
            Some(items) => {
                for item in items.clone() {
                    collect(item, out);
                }
            }
            None => out.push(doc),
        }
    }
    let mut docs = Vec::new();
    // The parser's message is left out: the file holds private keys, which it could quote.
    let all = decode::documents(bytes).map_err(|_| anyhow!("{what}: not JSON or YAML"))?;
    for doc in all {
        collect(doc, &mut docs);
    }
    docs.into_iter()
        .filter(|d| {
            d.get("data")
                .is_some_and(|data| data.get("tls.crt").is_some())
        })
        .map(|d| serde_json::from_value(d).map_err(|e| anyhow!("{what}: not a key Secret: {e}")))
        .collect()
}

fn keys_of(plan: &KeysPlan) -> Result<Vec<KeyInfo>> {
    match &plan.from {
        KeySource::Controller(r) => {
            let mut session = Session::connect(&r.kubeconfig, &r.controller, r.request_timeout)?;
            let body = session.keys()?;
            serde_json::from_slice(&body)
                .map_err(|e| anyhow!("the controller's list of keys is not what seal reads: {e}"))
        }
        KeySource::Backup(files) => {
            let mut secrets = Vec::new();
            for path in files {
                let shown = path.display().to_string();
                let found = backup_secrets(&io::read_file(path, Limit::PRIVATE_KEY)?, &shown)?;
                if found.is_empty() {
                    bail!("{shown}: no key Secret with a certificate (tls.crt)");
                }
                secrets.extend(found);
            }
            Ok(key_list::describe(&secrets, None))
        }
    }
}

/// A table as kubectl prints one: left-aligned columns, two spaces apart.
fn table(keys: &[KeyInfo]) -> String {
    let header = [
        "FINGERPRINT",
        "SECRET",
        "CREATED",
        "EXPIRES",
        "STATE",
        "NEWEST",
        "OBJECTS",
    ];
    let rows: Vec<[String; 7]> = keys
        .iter()
        .map(|k| {
            [
                k.fingerprint.clone(),
                k.secret.clone(),
                k.created.clone(),
                k.expires.clone(),
                k.state.clone(),
                if k.newest { "yes" } else { "" }.to_owned(),
                k.objects.map_or("-".to_owned(), |n| n.to_string()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(shared::text::escape(cell).chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row.iter().map(|c| shared::text::escape(c)).collect()));
    }
    out
}

pub fn run(plan: &KeysPlan) -> Result<()> {
    let keys = keys_of(plan)?;
    let out = if plan.json {
        serde_json::to_string_pretty(&keys)? + "\n"
    } else {
        table(&keys)
    };
    Sink::Stdout.write(out.as_bytes(), Sensitivity::Public)
}
