//! `POST /v1/verify` and `POST /v1/rotate` of the real unsealer binary, under the real cluster,
//! on 127.0.0.1 only: answers, no churn, CVE-2026-22728, templates never rendered, the body
//! cap and parser budgets, the rate limit, the timeouts, the metrics, and no plaintext in any
//! answer or log line.
//!
//! Run: `tests/cluster/with-cluster.sh cargo test -p unsealer --test http_api`.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use shared::keys::{KeySize, generate};
use shared::marks::CLUSTER_WIDE;
use shared::{Certificate, Scope, SealedSecret};
use support::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// The unsealer's one answer to any decryption failure.
const UNDECRYPTABLE: &str = "cannot decrypt the SealedSecret with the controller's keys";
/// What the controller's status says for items no key opens.
const NO_KEY: &str = "no key could decrypt secret";
/// Flags that keep the rate limit out of the way of the tests that are not about it.
const NO_LIMIT: [&str; 2] = ["--rate-limit=1000", "--rate-limit-burst=1000"];
/// Later than any key's NotBefore: the unsealer makes a new key at start.
const CUTOFF: &str = "--key-cutoff-time=Wed, 01 Jan 2031 00:00:00 +0000";

/// The certificate the unsealer seals with once the key newer than `old` that
/// `--key-cutoff-time` asks for is made (by the leader, after the unsealer starts serving).
async fn key_newer_than(ctl: &Unsealer, old: &Certificate) -> Result<Certificate> {
    let old = old.public_key().fingerprint();
    tests::cluster::wait_for("a key newer than the cutoff", TIMEOUT, || async {
        let cert = ctl.cert().await?;
        Ok((cert.public_key().fingerprint() != old).then_some(cert))
    })
    .await
}

/// One HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Parses a whole HTTP/1.1 response (the server closes after it: `Connection: close`).
fn parse(raw: &[u8]) -> Result<Answer> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .with_context(|| format!("no response head in {:?}", String::from_utf8_lossy(raw)))?;
    let head = std::str::from_utf8(&raw[..end])?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("bad chunk")?;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end])?.trim(), 16)?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

async fn read_all(s: &mut TcpStream, within: Duration) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + within;
    loop {
        match timeout(deadline - Instant::now(), s.read(&mut buf)).await {
            Err(_) => bail!("no complete answer within {within:?}"),
            Ok(Ok(0)) => return Ok(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            // A reset after the answer (the server closed with part of our body unread).
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset && !out.is_empty() => {
                return Ok(out);
            }
            Ok(Err(e)) => return Err(e.into()),
        }
    }
}

/// Sends one request (`Connection: close`) with `headers` and `body` and reads the answer.
async fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Answer> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    }) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await?;
    // The server may answer (413) before reading it all: a failed write is not the answer.
    let _ = s.write_all(body).await;
    parse(&read_all(&mut s, Duration::from_secs(30)).await?)
}

/// What every test remembers of its answers, to check none holds a plaintext.
#[derive(Default)]
struct Seen(Vec<Answer>);

impl Seen {
    async fn post(&mut self, ctl: &Unsealer, path: &str, body: &[u8]) -> Result<&Answer> {
        self.post_with(ctl, path, &[], body).await
    }

    async fn post_with(
        &mut self,
        ctl: &Unsealer,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<&Answer> {
        let answer = send(ctl.port, "POST", path, headers, body).await?;
        self.0.push(answer);
        Ok(self.0.last().expect("just pushed"))
    }

    /// No answer holds any of `plaintexts`, nor its base64.
    fn assert_no_plaintext(&self, plaintexts: &[&str]) {
        for a in &self.0 {
            let body = a.text();
            let head = format!("{:?}", a.headers);
            for p in plaintexts {
                let b64 = B64.encode(p.as_bytes());
                for text in [&body, &head] {
                    assert!(
                        !text.contains(p) && !text.contains(&b64),
                        "plaintext {p:?} in an answer: {a:?}"
                    );
                }
            }
        }
    }
}

fn json(ss: &SealedSecret) -> Vec<u8> {
    serde_json::to_vec(ss).expect("a SealedSecret serializes")
}

fn stranger_cert() -> Result<Certificate> {
    let key = generate(
        KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
        "",
        [9; 16],
    )?;
    Ok(Certificate::from_pem(key.cert_pem.as_bytes())?)
}

/// `ss` with the items of `other` added.
fn with_items(mut ss: SealedSecret, other: &SealedSecret) -> SealedSecret {
    ss.spec
        .encrypted_data
        .extend(other.spec.encrypted_data.clone());
    ss
}

fn set_template_data(ss: &mut SealedSecret, data: &[(&str, &str)]) {
    let template = ss.spec.template.get_or_insert_with(Default::default);
    template.data = Some(
        data.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
}

/// 200 when every item opens, 409 with one fixed message otherwise, whatever failed; JSON and
/// YAML bodies; the template never rendered, so it never changes the answer.
#[tokio::test]
async fn verify_answers_200_when_every_item_opens_and_409_otherwise() -> Result<()> {
    let Some(env) = Env::start("api-verify").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&NO_LIMIT).await?;
    let cert = ctl.cert().await?;
    let stranger = stranger_cert()?;
    let (a, b, c) = (env.plain("a"), env.plain("b"), env.plain("c"));
    let good = seal_items(&cert, &ns, "app", &[("a", &a), ("b", &b)])?;
    let foreign = seal_items(&stranger, &ns, "app", &[("c", &c)])?;
    let mut seen = Seen::default();

    let r = seen.post(&ctl, "/v1/verify", &json(&good)).await?;
    ensure!(r.status == 200, "good JSON: {r:?}");
    let yaml = serde_saphyr::to_string(&good)?;
    let r = seen.post(&ctl, "/v1/verify", yaml.as_bytes()).await?;
    ensure!(r.status == 200, "good YAML: {r:?}");

    // Failures, all with the same answer: a stranger's item, among good ones, first or last;
    // a tampered item; broken base64; the object moved to another name.
    let mut tampered = good.clone();
    let item = tampered.spec.encrypted_data.get_mut("a").expect("sealed");
    let mut bytes = B64.decode(item.as_bytes())?;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    *item = B64.encode(bytes);
    let mut broken = good.clone();
    broken
        .spec
        .encrypted_data
        .insert("z".into(), "%%% not base64".into());
    let failing = [
        ("foreign", foreign.clone()),
        ("mixed", with_items(good.clone(), &foreign)),
        ("tampered", tampered),
        ("broken", broken),
        ("moved", moved(&good, &ns, "elsewhere")),
    ];
    for (what, ss) in &failing {
        let r = seen.post(&ctl, "/v1/verify", &json(ss)).await?;
        ensure!(r.status == 409, "{what}: {r:?}");
        ensure!(r.text() == format!("{UNDECRYPTABLE}\n"), "{what}: {r:?}");
        ensure!(
            r.header("content-type") == Some("text/plain; charset=utf-8"),
            "{what}: {r:?}"
        );
    }

    // Templates are never rendered: ones that would fail, or tell values apart, change
    // nothing.
    for template in [
        "{{ fail \"boom\" }}",
        "{{ if eq .a \"x\" }}yes{{ end }}",
        "{{ .a | b64dec }}",
        "{{ .missing.deeper }}",
        "{{ unclosed",
    ] {
        let mut ss = good.clone();
        set_template_data(&mut ss, &[("t", template)]);
        let r = seen.post(&ctl, "/v1/verify", &json(&ss)).await?;
        ensure!(r.status == 200, "template {template:?}: {r:?}");
        let mut ss = foreign.clone();
        set_template_data(&mut ss, &[("t", template)]);
        let r = seen.post(&ctl, "/v1/verify", &json(&ss)).await?;
        ensure!(r.status == 409, "template {template:?}: {r:?}");
        ensure!(r.text() == format!("{UNDECRYPTABLE}\n"), "{r:?}");
    }
    seen.assert_no_plaintext(&[&a, &b, &c]);
    env.finish().await
}

/// Rotate re-seals only what an older key opened: items on the newest key come back byte for
/// byte, the others change, and everything still unseals, in place, in the cluster.
#[tokio::test]
async fn rotate_reseals_old_items_and_leaves_the_newest_alone() -> Result<()> {
    let Some(env) = Env::start("api-rotate").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    env.install_vector_key("sealed-secrets-key-old").await?;
    let ctl = env.unsealer(&[NO_LIMIT[0], NO_LIMIT[1], CUTOFF]).await?;
    let old = Certificate::from_pem(VECTOR_CERT.as_bytes())?;
    let newest = key_newer_than(&ctl, &old).await?;
    ensure!(
        newest.public_key().fingerprint() != old.public_key().fingerprint(),
        "the unsealer made a newer key"
    );
    let (n1, n2, o1) = (env.plain("n1"), env.plain("n2"), env.plain("o1"));
    let ss = with_items(
        seal_items(&newest, &ns, "rot", &[("n1", &n1), ("n2", &n2)])?,
        &seal_items(&old, &ns, "rot", &[("o1", &o1)])?,
    );
    let mut seen = Seen::default();
    let r = seen.post(&ctl, "/v1/rotate", &json(&ss)).await?;
    ensure!(r.status == 200, "{r:?}");
    ensure!(
        r.header("content-type") == Some("application/json"),
        "{r:?}"
    );
    let rotated: SealedSecret = serde_json::from_slice(&r.body)?;
    let (before, after) = (&ss.spec.encrypted_data, &rotated.spec.encrypted_data);
    ensure!(after.len() == 3, "{after:?}");
    ensure!(
        after["n1"] == before["n1"] && after["n2"] == before["n2"],
        "no churn"
    );
    ensure!(
        after["o1"] != before["o1"],
        "the old key's item is sealed again"
    );
    ensure!(rotated.metadata == ss.metadata, "metadata kept");
    ensure!(rotated.spec.template == ss.spec.template, "template kept");

    // Once more: nothing changes at all; and YAML in gives the same.
    let r = seen.post(&ctl, "/v1/rotate", &json(&rotated)).await?;
    ensure!(r.status == 200, "{r:?}");
    let again: SealedSecret = serde_json::from_slice(&r.body)?;
    ensure!(
        again.spec.encrypted_data == rotated.spec.encrypted_data,
        "stable"
    );
    let yaml = serde_saphyr::to_string(&rotated)?;
    let r = seen.post(&ctl, "/v1/rotate", yaml.as_bytes()).await?;
    ensure!(r.status == 200, "{r:?}");
    let from_yaml: SealedSecret = serde_json::from_slice(&r.body)?;
    ensure!(from_yaml.spec.encrypted_data == rotated.spec.encrypted_data);

    // The rotated object unseals in the cluster.
    env.create(&rotated).await?;
    let got = env.wait_secret(&ns, "rot").await?;
    ensure!(
        data(&got) == expected(&[("n1", &n1), ("n2", &n2), ("o1", &o1)]),
        "unsealed items"
    );
    env.wait_synced(&ns, "rot", true).await?;

    // Not decryptable: 409 (kubeseal waits for it; the reference answered 500).
    let stranger = stranger_cert()?;
    let x = env.plain("x");
    let foreign = with_items(
        seal_items(&newest, &ns, "rot2", &[("n", &n1)])?,
        &seal_items(&stranger, &ns, "rot2", &[("x", &x)])?,
    );
    let r = seen.post(&ctl, "/v1/rotate", &json(&foreign)).await?;
    ensure!(r.status == 409, "{r:?}");
    ensure!(r.text() == format!("{UNDECRYPTABLE}\n"), "{r:?}");
    seen.assert_no_plaintext(&[&n1, &n2, &o1, &x]);
    env.finish().await
}

/// CVE-2026-22728: a strict SealedSecret whose template claims cluster-wide. Rotated, it stays
/// strict: it unseals where it is, and fails under any other name.
#[tokio::test]
async fn rotate_keeps_the_objects_own_scope() -> Result<()> {
    let Some(env) = Env::start("api-cve").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let other_ns = env.namespace("api-cve-thief").await?;
    env.install_vector_key("sealed-secrets-key-old").await?;
    let ctl = env
        .unsealer(&[
            NO_LIMIT[0],
            NO_LIMIT[1],
            CUTOFF,
            &format!("--additional-namespaces={other_ns}"),
        ])
        .await?;
    let old = Certificate::from_pem(VECTOR_CERT.as_bytes())?;
    key_newer_than(&ctl, &old).await?;
    let pw = env.plain("pw");
    let mut ss = seal_items(&old, &ns, "victim", &[("password", &pw)])?;
    let template = ss.spec.template.get_or_insert_with(Default::default);
    template
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(CLUSTER_WIDE.to_owned(), "true".to_owned());
    let mut seen = Seen::default();
    let r = seen.post(&ctl, "/v1/rotate", &json(&ss)).await?;
    ensure!(r.status == 200, "{r:?}");
    let rotated: SealedSecret = serde_json::from_slice(&r.body)?;
    ensure!(
        Scope::from_annotations(rotated.metadata.annotations.as_ref()) == Scope::Strict,
        "still strict: {:?}",
        rotated.metadata
    );
    ensure!(
        rotated.spec.encrypted_data["password"] != ss.spec.encrypted_data["password"],
        "sealed again for the newest key"
    );
    // Under another name, or made cluster-wide, it does not open.
    let thief = moved(&rotated, &other_ns, "loot");
    let r = seen.post(&ctl, "/v1/verify", &json(&thief)).await?;
    ensure!(r.status == 409, "{r:?}");
    let mut wide = thief.clone();
    Scope::ClusterWide.apply_to(wide.metadata.annotations.get_or_insert_with(BTreeMap::new));
    let r = seen.post(&ctl, "/v1/verify", &json(&wide)).await?;
    ensure!(r.status == 409, "{r:?}");
    env.create(&wide).await?;
    env.assert_fails(&other_ns, "loot", NO_KEY, "ErrUnsealFailed")
        .await?;
    // Where it belongs, it unseals.
    env.create(&rotated).await?;
    let got = env.wait_secret(&ns, "victim").await?;
    ensure!(data(&got) == expected(&[("password", &pw)]));
    seen.assert_no_plaintext(&[&pw]);
    env.finish().await
}

/// Bodies over the cap, garbage, wrong kinds, several documents, YAML alias bombs and deep
/// nesting: refused at once with a short message, and the controller carries on.
#[tokio::test]
async fn bad_bodies_are_refused_with_a_short_message() -> Result<()> {
    let Some(env) = Env::start("api-bodies").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&NO_LIMIT).await?;
    let cert = ctl.cert().await?;
    let v = env.plain("v");
    let good = seal_items(&cert, &ns, "app", &[("v", &v)])?;
    let good_json = String::from_utf8(json(&good))?;
    let good_yaml = serde_saphyr::to_string(&good)?;
    let mut seen = Seen::default();

    for path in ["/v1/verify", "/v1/rotate"] {
        // Over the cap, said from Content-Length before the body is sent.
        let started = Instant::now();
        let big = send(
            ctl.port,
            "POST",
            path,
            &[("Content-Length", "3145728"), ("Expect", "100-continue")],
            b"",
        )
        .await?;
        ensure!(big.status == 413, "{path} 413 by Content-Length: {big:?}");
        ensure!(
            started.elapsed() < Duration::from_secs(5),
            "{path}: at once"
        );
        // Over the cap, streamed without a length.
        let mut chunked = Vec::new();
        let chunk = vec![b' '; 256 * 1024];
        for _ in 0..12 {
            chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            chunked.extend_from_slice(&chunk);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let r = send(
            ctl.port,
            "POST",
            path,
            &[("Transfer-Encoding", "chunked")],
            &chunked,
        )
        .await;
        // The answer may be lost to a reset when the server closes with body unread; if it
        // arrives, it is 413.
        if let Ok(r) = r {
            ensure!(r.status == 413, "{path} 413 streamed: {r:?}");
        }
    }

    let bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n\
                b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n\
                d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n\
                f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n\
                apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: x}\n";
    let deep_flow = format!("x: {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    let deep_block: String = (0..200)
        .map(|i| format!("{}k:\n", "  ".repeat(i)))
        .collect();
    // Deep in a field that is skipped (serde_json skips without recursing), and deep in one
    // that is parsed (its recursion limit).
    let deep_skipped = format!(r#"{{"x":{}1{}}}"#, "[".repeat(50_000), "]".repeat(50_000));
    let deep_json = format!(
        r#"{{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{{"name":"x","managedFields":[{{"fieldsV1":{}1{}}}]}},"spec":{{}}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "binary",
            vec![0xff, 0xfe, 0x00, 0x9c, 0x80],
            415,
            "JSON or YAML",
        ),
        ("empty", Vec::new(), 400, "empty"),
        (
            "garbage",
            b"{ this is not JSON".to_vec(),
            400,
            "invalid JSON",
        ),
        ("yaml garbage", b"a: [b\n".to_vec(), 400, "invalid YAML"),
        (
            "a Secret",
            good_json.replace("SealedSecret", "Secret").into_bytes(),
            400,
            "kind \"Secret\"",
        ),
        (
            "another apiVersion",
            good_json
                .replace("bitnami.com/v1alpha1", "bitnami.com/v2")
                .into_bytes(),
            400,
            "apiVersion \"bitnami.com/v2\"",
        ),
        (
            "two documents",
            format!("{good_yaml}---\n{good_yaml}").into_bytes(),
            400,
            "several YAML documents",
        ),
        ("alias bomb", bomb.as_bytes().to_vec(), 400, "aliases"),
        (
            "deep flow YAML",
            deep_flow.into_bytes(),
            400,
            "invalid YAML",
        ),
        (
            "deep block YAML",
            deep_block.into_bytes(),
            400,
            "nested deeper",
        ),
        ("deep skipped JSON", deep_skipped.into_bytes(), 400, "kind"),
        ("deep JSON", deep_json.into_bytes(), 400, "recursion limit"),
        (
            "bad item name",
            good_json.replace("\"v\":", "\"v/../x\":").into_bytes(),
            400,
            "not a valid Secret key",
        ),
    ];
    for path in ["/v1/verify", "/v1/rotate"] {
        for (what, body, status, says) in &cases {
            let started = Instant::now();
            let r = seen.post(&ctl, path, body).await?;
            ensure!(r.status == *status, "{path} {what}: {r:?}");
            let text = r.text();
            ensure!(text.contains(says), "{path} {what}: {text:?}");
            ensure!(
                text.len() < 400 && text.lines().count() == 1,
                "{path} {what}: one short line: {text:?}"
            );
            ensure!(
                started.elapsed() < Duration::from_secs(2),
                "{path} {what}: took {:?}",
                started.elapsed()
            );
        }
        // Not POST: 405.
        let r = send(ctl.port, "GET", path, &[], b"").await?;
        ensure!(r.status == 405, "{path} GET: {r:?}");
    }
    // The unsealer is fine: still serving, still verifying.
    cluster_http_ok(&ctl).await?;
    let r = seen.post(&ctl, "/v1/verify", good_json.as_bytes()).await?;
    ensure!(r.status == 200, "{r:?}");
    seen.assert_no_plaintext(&[&v]);
    env.finish().await
}

/// The value of the first sample of `name` whose labels include every one of `labels`.
async fn metric_where(ctl: &Unsealer, name: &str, labels: &[&str]) -> Result<Option<f64>> {
    let text = ctl.metrics().await?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split([' ', '{']).next() == Some(name))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok()))
}

async fn cluster_http_ok(ctl: &Unsealer) -> Result<()> {
    let r = send(ctl.port, "GET", "/healthz", &[], b"").await?;
    ensure!(r.status == 200, "{r:?}");
    Ok(())
}

/// The reference's defaults, 2 a second and a burst of 2 (3 requests at once), per path and
/// client (the last X-Forwarded-For entry, else the peer); 429 with Retry-After past them.
#[tokio::test]
async fn requests_past_the_burst_get_429() -> Result<()> {
    let Some(env) = Env::start("api-rate").await? else {
        return Ok(());
    };
    let ctl = env.unsealer(&[]).await?;
    let mut seen = Seen::default();
    let body = b"not a SealedSecret";
    let first = [("X-Forwarded-For", "forged, 198.51.100.1")];
    for i in 0..3 {
        let r = seen.post_with(&ctl, "/v1/verify", &first, body).await?;
        ensure!(r.status == 400, "request {i} within the burst: {r:?}");
    }
    let r = seen.post_with(&ctl, "/v1/verify", &first, body).await?;
    ensure!(r.status == 429, "past the burst: {r:?}");
    ensure!(r.header("retry-after") == Some("1"), "{r:?}");
    ensure!(r.text() == "rate limit exceeded\n", "{r:?}");
    // Changing the part a client writes itself does not help.
    let forged = [("X-Forwarded-For", "another-lie, 198.51.100.1")];
    let r = seen.post_with(&ctl, "/v1/verify", &forged, body).await?;
    ensure!(r.status == 429, "same client: {r:?}");
    // Another client, and the other path, have their own allowance.
    let second = [("X-Forwarded-For", "198.51.100.2")];
    let r = seen.post_with(&ctl, "/v1/verify", &second, body).await?;
    ensure!(r.status == 400, "another client: {r:?}");
    let r = seen.post_with(&ctl, "/v1/rotate", &first, body).await?;
    ensure!(r.status == 400, "the other path: {r:?}");
    // Without the header, the peer address is the client.
    for i in 0..3 {
        let r = seen.post(&ctl, "/v1/rotate", body).await?;
        ensure!(r.status == 400, "peer request {i}: {r:?}");
    }
    let r = seen.post(&ctl, "/v1/rotate", body).await?;
    ensure!(r.status == 429, "peer past the burst: {r:?}");
    // The rate refills the allowance: one request per 500 ms.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = seen.post_with(&ctl, "/v1/verify", &first, body).await?;
    ensure!(r.status == 400, "after 600 ms: {r:?}");
    let limited = metric_where(
        &ctl,
        "sealed_secrets_controller_http_requests_total",
        &["path=\"/v1/verify\"", "code=\"429\"", "method=\"post\""],
    )
    .await?;
    ensure!(limited == Some(2.0), "429s counted: {limited:?}");
    env.finish().await
}

/// `--read-timeout` bounds the body; `--write-timeout` bounds the wait and the work (503).
#[tokio::test]
async fn read_and_write_timeouts_apply() -> Result<()> {
    let Some(env) = Env::start("api-timeouts").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env
        .unsealer(&[
            NO_LIMIT[0],
            NO_LIMIT[1],
            "--read-timeout=1s",
            "--write-timeout=100ms",
        ])
        .await?;
    // A body that stops coming: 408 after the read timeout, well before the I/O timeout.
    let mut s = TcpStream::connect(("127.0.0.1", ctl.port)).await?;
    s.write_all(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"api")
        .await?;
    let started = Instant::now();
    let r = parse(&read_all(&mut s, Duration::from_secs(10)).await?)?;
    ensure!(r.status == 408, "{r:?}");
    let took = started.elapsed();
    ensure!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // 1,000 items that all open cost far more than 100 ms of RSA work: 503, early.
    let cert = ctl.cert().await?;
    let v = env.plain("v");
    let one = seal_items(&cert, &ns, "many", &[("v", &v)])?;
    let mut many = one.clone();
    let value = one.spec.encrypted_data["v"].clone();
    for i in 0..999 {
        many.spec
            .encrypted_data
            .insert(format!("k{i}"), value.clone());
    }
    let mut seen = Seen::default();
    let started = Instant::now();
    let r = seen.post(&ctl, "/v1/verify", &json(&many)).await?;
    ensure!(r.status == 503, "{r:?}");
    ensure!(r.header("retry-after").is_some(), "{r:?}");
    ensure!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // A small object fits in the time.
    let r = seen.post(&ctl, "/v1/verify", &json(&one)).await?;
    ensure!(r.status == 200, "{r:?}");
    seen.assert_no_plaintext(&[&v]);
    env.finish().await
}

/// `http_requests_total{path,code,method}` and `http_request_duration_seconds{path,method}`
/// for every route, `path` from the route table: arbitrary URLs are all `other`.
#[tokio::test]
async fn metrics_count_every_route_by_the_route_table() -> Result<()> {
    let Some(env) = Env::start("api-metrics").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&NO_LIMIT).await?;
    let cert = ctl.cert().await?;
    let v = env.plain("v");
    let good = seal_items(&cert, &ns, "app", &[("v", &v)])?;
    let foreign = seal_items(&stranger_cert()?, &ns, "app", &[("v", &v)])?;
    let mut seen = Seen::default();
    seen.post(&ctl, "/v1/verify", &json(&good)).await?;
    seen.post(&ctl, "/v1/verify", &json(&foreign)).await?;
    seen.post(&ctl, "/v1/rotate", &json(&good)).await?;
    send(ctl.port, "GET", "/v1/cert.pem", &[], b"").await?;
    send(ctl.port, "GET", "/healthz", &[], b"").await?;
    for i in 0..5 {
        let r = send(ctl.port, "GET", &format!("/random/{i}-{v}"), &[], b"").await?;
        ensure!(r.status == 404, "{r:?}");
    }
    send(ctl.port, "BREW", "/v1/verify", &[], b"").await?;
    const TOTAL: &str = "sealed_secrets_controller_http_requests_total";
    for (labels, want) in [
        (
            &["path=\"/v1/verify\"", "code=\"200\"", "method=\"post\""][..],
            1.0,
        ),
        (
            &["path=\"/v1/verify\"", "code=\"409\"", "method=\"post\""],
            1.0,
        ),
        (
            &["path=\"/v1/rotate\"", "code=\"200\"", "method=\"post\""],
            1.0,
        ),
        // Once by the harness (it waits for a key), once by `ctl.cert()`, once here.
        (
            &["path=\"/v1/cert.pem\"", "code=\"200\"", "method=\"get\""],
            3.0,
        ),
        (&["path=\"other\"", "code=\"404\"", "method=\"get\""], 5.0),
        (
            &["path=\"/v1/verify\"", "code=\"405\"", "method=\"unknown\""],
            1.0,
        ),
    ] {
        let got = metric_where(&ctl, TOTAL, labels).await?;
        ensure!(got == Some(want), "{labels:?}: {got:?}");
    }
    let healthz = metric_where(
        &ctl,
        TOTAL,
        &["path=\"/healthz\"", "code=\"200\"", "method=\"get\""],
    )
    .await?;
    ensure!(healthz.is_some_and(|n| n >= 1.0), "{healthz:?}");
    let text = ctl.metrics().await?;
    ensure!(!text.contains("/random"), "no raw paths in the metrics");
    ensure!(
        text.lines().any(|l| l
            .starts_with("sealed_secrets_controller_http_request_duration_seconds_bucket{")
            && l.contains("path=\"/v1/verify\"")
            && l.contains("method=\"post\"")),
        "the duration histogram has /v1/verify"
    );
    ensure!(
        text.contains("sealed_secrets_controller_http_request_duration_seconds_count{"),
        "histogram counts"
    );
    // The metrics listener counts itself too.
    let own = metric_where(&ctl, TOTAL, &["path=\"/metrics\"", "method=\"get\""]).await?;
    ensure!(own.is_some_and(|n| n >= 1.0), "{own:?}");
    seen.assert_no_plaintext(&[&v]);
    env.finish().await
}
