//! `POST /v1/verify` and `POST /v1/rotate`: the reference controller's endpoints, made safe to
//! offer to every user of the cluster (they come through the API server's service proxy).
//!
//! * **No oracle.** Neither endpoint renders `spec.template.data` (the reference did until
//!   2026: pairing a victim's items with a crafted template leaked the plaintext through
//!   render success or failure), and every decryption failure gets one fixed answer that names
//!   neither the item nor the cause ([`shared::unseal::verify`], [`shared::unseal::rotate`]).
//! * **The scope is the object's own.** The OAEP label comes from the SealedSecret's metadata,
//!   never the template's annotations, and rotate keeps the metadata as it is
//!   (CVE-2026-22728).
//! * **No churn.** Rotate gives back items already sealed for the newest key byte for byte;
//!   only items opened by an older key are sealed again.
//! * **Bounded.** Per-client rate limits ([`crate::ratelimit`]), a body cap ([`BODY_LIMIT`])
//!   read within `--read-timeout`, YAML without aliases and with small budgets, the precheck
//!   bounds (item count, key names) before any RSA work, at most one request doing RSA work
//!   at a time beside the controller (on the controller's own fair core slots, handed back
//!   between items), and `--write-timeout` on the wait and the work.
//!
//! Answers: `text/plain; charset=utf-8` with a one-line message, except rotate's 200, which is
//! the SealedSecret as `application/json`.
//!
//! Where the reference (v0.36.6) differs, as a kubeseal user sees it:
//! * rotate answers **409** when it cannot decrypt; the reference answered 500. kubeseal
//!   `--re-encrypt` looks for a 409 (it then says `unable to rotate secret`); on a 500 it says
//!   `cannot re-encrypt secret: <client-go's error>`.
//! * rotate's 200 carries `Content-Type: application/json`; the reference set the header after
//!   `WriteHeader`, so Go sniffed `text/plain; charset=utf-8`. kubeseal reads the body raw.
//! * rotate keeps the object (metadata, labels, template, `template.data`) and every item the
//!   newest key opens; the reference rebuilt the object from the unsealed Secret: every item
//!   new on every run, rendered `template.data` turned into items, outer labels dropped.
//! * bad bodies get 400, 413 or 415 with a message; the reference answered 500 (kubeseal says
//!   `cannot validate sealed secret: ...` / `cannot re-encrypt secret: ...` either way). Only
//!   POST is served (405 otherwise); the reference took any method.
//! * both paths are rate limited (the reference: verify only, until PR #1971), keyed on the
//!   last `X-Forwarded-For` entry rather than the whole header; past `--write-timeout` the
//!   answer is 503, where Go would cut the connection.

use std::borrow::Cow;
use std::num::NonZeroU32;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use shared::unseal::{CheckError, UnsealError, UnsealOptions, rotate_with, verify_with};
use shared::{SealedSecret, SealedSecretSpec};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::config::Config;
use crate::http::ConnInfo;
use crate::keyring::KeyStore;
use crate::ratelimit::{ClientLimiter, client_of};

/// Largest request body. etcd stores an object of at most 1.5 MiB, so no SealedSecret that can
/// exist is larger; the reference reads bodies without any limit.
pub const BODY_LIMIT: usize = 2 << 20;
/// Deepest YAML nesting accepted (a SealedSecret needs about 6; managedFields a few more).
const MAX_YAML_DEPTH: usize = 32;
/// Most YAML nodes (a SealedSecret of 1,000 items has about 2,000).
const MAX_YAML_NODES: usize = 100_000;
/// Longest parse error quoted in an answer.
const MAX_ERROR_LEN: usize = 300;

pub const API_VERSION: &str = "bitnami.com/v1alpha1";
pub const KIND: &str = "SealedSecret";

/// The one answer to any decryption failure: no item, no key, no cause.
pub const UNDECRYPTABLE: &str = "cannot decrypt the SealedSecret with the controller's keys";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Verify,
    Rotate,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Verify => "/v1/verify",
            Endpoint::Rotate => "/v1/rotate",
        }
    }
}

/// What the handlers need: the keys, the limits, and the cores.
pub struct Api {
    pub keys: KeyStore,
    limiter: ClientLimiter,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    options: UnsealOptions,
    /// The controller's RSA slots (one per core, FIFO), taken per item.
    rsa_slots: Arc<Semaphore>,
    /// Requests of these endpoints doing RSA work at once: one less than the cores, at least
    /// one, so a flood of requests never takes every core from the controller.
    working: Semaphore,
    /// The controller's namespace's Secrets, for `/v1/keys` (none in unit tests).
    key_secrets: Option<kube::Api<k8s_openapi::api::core::v1::Secret>>,
}

impl Api {
    /// The API for `config`, sharing `rsa_slots` with the controller's reconciles.
    pub fn new(keys: KeyStore, config: &Config, rsa_slots: Arc<Semaphore>) -> Api {
        let rate = NonZeroU32::new(config.rate_limit).unwrap_or(NonZeroU32::MIN);
        let cores = rsa_slots.available_permits();
        Api {
            keys,
            limiter: ClientLimiter::new(rate, config.rate_limit_burst),
            read_timeout: Some(config.read_timeout).filter(|t| !t.is_zero()),
            write_timeout: Some(config.write_timeout).filter(|t| !t.is_zero()),
            options: UnsealOptions {
                accept_v1_data: config.accept_deprecated_v1_data,
            },
            rsa_slots,
            working: Semaphore::new(cores.saturating_sub(1).max(1)),
            key_secrets: None,
        }
    }

    /// Lists the key Secrets from `api` for `/v1/keys`.
    pub fn with_key_secrets(mut self, api: kube::Api<k8s_openapi::api::core::v1::Secret>) -> Api {
        self.key_secrets = Some(api);
        self
    }
}

/// The path of [`keys`].
const KEYS_PATH: &str = "/v1/keys";

/// `GET /v1/keys`: every sealing key, public information only ([`crate::key_list`]), as JSON.
/// Rate-limited per client as `/v1/verify` is, since each answer lists the key Secrets.
pub async fn keys(State(api): State<Arc<Api>>, request: Request) -> Response {
    let conn = request.extensions().get::<ConnInfo>().cloned();
    let client = client_of(request.headers(), conn.as_ref().and_then(ConnInfo::peer));
    if let Err(wait) = api.limiter.check(KEYS_PATH, &client) {
        return Refusal::new(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded")
            .retry_after(wait)
            .into_response();
    }
    let Some(secrets_api) = &api.key_secrets else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "cannot list the keys");
    };
    match crate::keyring::list_all_keys(secrets_api).await {
        Ok(secrets) => {
            let keys = api.keys.get();
            let sealing = keys.ring.keys().first().map(|k| k.fingerprint());
            let list = shared::key_list::describe(&secrets, sealing);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()),
            )
                .into_response()
        }
        Err(e) => {
            warn!(error = %e, "cannot list the key Secrets for /v1/keys");
            text(StatusCode::SERVICE_UNAVAILABLE, "cannot list the keys")
        }
    }
}

/// An answer other than success: a status and a one-line message.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: Cow<'static, str>,
    pub retry_after: Option<Duration>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    fn retry_after(mut self, wait: Duration) -> Refusal {
        self.retry_after = Some(wait);
        self
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = text(self.status, &self.message);
        if let Some(wait) = self.retry_after {
            // Whole seconds, rounded up, as the reference's limiter sends it.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

fn text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

pub async fn verify(State(api): State<Arc<Api>>, request: Request) -> Response {
    serve(&api, Endpoint::Verify, request).await
}

pub async fn rotate(State(api): State<Arc<Api>>, request: Request) -> Response {
    serve(&api, Endpoint::Rotate, request).await
}

async fn serve(api: &Api, endpoint: Endpoint, request: Request) -> Response {
    let conn = request.extensions().get::<ConnInfo>().cloned();
    let client = client_of(request.headers(), conn.as_ref().and_then(ConnInfo::peer));
    let path = endpoint.path();
    match answer(api, endpoint, &client, conn, request).await {
        Ok(response) => {
            debug!(path, client = %client, status = response.status().as_u16(), "answered");
            response
        }
        Err(refusal) => {
            let status = refusal.status.as_u16();
            if refusal.status.is_server_error() {
                warn!(path, client = %client, status, reason = %refusal.message, "refused");
            } else {
                debug!(path, client = %client, status, reason = %refusal.message, "refused");
            }
            refusal.into_response()
        }
    }
}

async fn answer(
    api: &Api,
    endpoint: Endpoint,
    client: &str,
    conn: Option<ConnInfo>,
    request: Request,
) -> Result<Response, Refusal> {
    api.limiter.check(endpoint.path(), client).map_err(|wait| {
        Refusal::new(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded").retry_after(wait)
    })?;
    let (parts, body) = request.into_parts();
    let body = read_body(body, &parts.headers, BODY_LIMIT, api.read_timeout).await?;
    let sealed = decode(&body)?;
    drop(body);
    // From here on, the connection's I/O timeout waits for the work; the write timeout bounds it.
    let _working = conn.as_ref().map(ConnInfo::working);
    let deadline = api.write_timeout.map(|t| Instant::now() + t);
    let busy = || {
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the controller is busy: no answer within the write timeout; try again later",
        )
        .retry_after(Duration::from_secs(1))
    };
    let _turn = within(deadline, api.working.acquire())
        .await
        .ok_or_else(busy)?
        .map_err(|_| busy())?;
    let keys = api.keys.get();
    let slots = api.rsa_slots.clone();
    let options = api.options;
    let runtime = tokio::runtime::Handle::current();
    let worked = tokio::task::spawn_blocking(move || {
        let mut slot: Option<OwnedSemaphorePermit> = None;
        // Before each item: past the deadline, stop; else queue again for a core behind
        // whoever waits (the slots are FIFO), as the controller's reconciles do.
        let mut between_items = || {
            drop(slot.take());
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return ControlFlow::Break(());
            }
            slot = runtime
                .block_on(within(deadline, slots.clone().acquire_owned()))
                .and_then(Result::ok);
            if slot.is_none() {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        };
        match endpoint {
            Endpoint::Verify => {
                verify_with(&sealed, &keys.ring, options, &mut between_items).map(|()| None)
            }
            Endpoint::Rotate => {
                let Some(newest) = keys.ring.keys().first() else {
                    return Err(None);
                };
                rotate_with(
                    &sealed,
                    &keys.ring,
                    newest.public_key(),
                    options,
                    &mut rand::rng(),
                    &mut between_items,
                )
                .map(Some)
            }
        }
        .map_err(Some)
    })
    .await
    .map_err(|_| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?;
    match worked {
        Ok(None) => Ok(text(StatusCode::OK, "ok")),
        Ok(Some(rotated)) => {
            let json = serde_json::to_vec(&rotated).map_err(|_| {
                Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "cannot encode the result",
                )
            })?;
            // The reference meant to send this type but set it too late (Go sniffed
            // text/plain); kubeseal reads the body as JSON whatever the type.
            Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                json,
            )
                .into_response())
        }
        Err(None) => Err(Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot get the sealing key",
        )),
        Err(Some(e)) => Err(refusal_of(e, busy)),
    }
}

/// `future` with the deadline, if any: `None` past it.
async fn within<F: std::future::Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, future).await.ok(),
        None => Some(future.await),
    }
}

/// The answer to a failed check. Only the object's shape is ever described.
fn refusal_of(e: CheckError, busy: impl Fn() -> Refusal) -> Refusal {
    match e {
        // The controller would not unseal it either: as for any other failure, 409.
        CheckError::Refused(e @ UnsealError::V1DataRefused) => {
            Refusal::new(StatusCode::CONFLICT, e.to_string())
        }
        CheckError::Refused(e) => Refusal::new(StatusCode::BAD_REQUEST, e.to_string()),
        // For rotate too: kubeseal waits for a 409 (the reference answered 500).
        CheckError::Undecryptable => Refusal::new(StatusCode::CONFLICT, UNDECRYPTABLE),
        CheckError::Stopped => busy(),
        CheckError::Reseal(_) => {
            Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "re-sealing failed")
        }
    }
}

/// The body, at most `limit` bytes, within `timeout`.
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    timeout: Option<Duration>,
) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over {limit} bytes; a SealedSecret is smaller"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        // Said before a byte of it is read (with `Expect: 100-continue`, none is ever sent).
        return Err(too_large());
    }
    let read = async {
        let capacity = declared.map_or(0, |n| usize::try_from(n).unwrap_or(limit));
        let mut out = Vec::with_capacity(capacity.min(limit));
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| {
                Refusal::new(StatusCode::BAD_REQUEST, "cannot read the request body")
            })?;
            if out.len() + chunk.len() > limit {
                return Err(too_large());
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    };
    match timeout {
        Some(t) => tokio::time::timeout(t, read).await.map_err(|_| {
            Refusal::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive within the read timeout",
            )
        })?,
        None => read.await,
    }
}

/// A request body as the reference reads it: apiVersion and kind, then the object.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Incoming {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: SealedSecretSpec,
}

/// One SealedSecret from a request body: JSON (first character `{`) or YAML, one document, no
/// YAML aliases, nesting and size within bounds, `apiVersion: bitnami.com/v1alpha1` and
/// `kind: SealedSecret`. Its status, if any, is dropped.
pub fn decode(body: &[u8]) -> Result<SealedSecret, Refusal> {
    let bad = |message: String| Refusal::new(StatusCode::BAD_REQUEST, message);
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the request body must be one SealedSecret as JSON or YAML (UTF-8 text)",
        ));
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(bad(
            "the request body is empty; send one SealedSecret".into()
        ));
    }
    let incoming: Incoming = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| bad(format!("invalid JSON: {}", quoted(&e))))?
    } else {
        serde_saphyr::from_str_with_options(text, yaml_options())
            .map_err(|e| bad(yaml_error(&e)))?
    };
    let (api_version, kind) = (
        incoming.api_version.as_deref().unwrap_or_default(),
        incoming.kind.as_deref().unwrap_or_default(),
    );
    if api_version != API_VERSION || kind != KIND {
        return Err(bad(format!(
            "expected apiVersion {API_VERSION} and kind {KIND}, got apiVersion \"{}\" and kind \"{}\"",
            shared::text::name(api_version, 64),
            shared::text::name(kind, 64),
        )));
    }
    Ok(SealedSecret {
        metadata: incoming.metadata,
        spec: incoming.spec,
        status: None,
    })
}

/// serde-saphyr with budgets for one small object: no aliases at all (a SealedSecret has no
/// use for them, and they are what alias bombs are made of), one document, shallow, and no
/// more scalar bytes than a body may hold; errors without a source snippet.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_aliases: 0,
            max_depth: MAX_YAML_DEPTH,
            max_documents: 1,
            max_nodes: MAX_YAML_NODES,
            max_events: 4 * MAX_YAML_NODES,
            max_total_scalar_bytes: BODY_LIMIT,
            max_merge_keys: 0,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 0,
        },
        with_snippet: false,
    }
}

fn yaml_error(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::budget::BudgetBreach;
    match e.without_snippet() {
        serde_saphyr::Error::MultipleDocuments { .. }
        | serde_saphyr::Error::Budget {
            breach: BudgetBreach::Documents { .. },
            ..
        } => "the body holds several YAML documents; send one SealedSecret".into(),
        serde_saphyr::Error::Budget {
            breach: BudgetBreach::Aliases { .. },
            ..
        } => "YAML aliases are not accepted".into(),
        serde_saphyr::Error::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => format!("the YAML is nested deeper than {MAX_YAML_DEPTH} levels"),
        serde_saphyr::Error::Budget { .. } => "the YAML is over this endpoint's budget".into(),
        other => format!("invalid YAML: {}", quoted(other)),
    }
}

/// A parse error for an answer: escaped (it may quote the body) and cut short.
fn quoted(e: &dyn std::fmt::Display) -> String {
    shared::text::truncate(&shared::text::escape(&e.to_string()), MAX_ERROR_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_JSON: &str = r#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"a","namespace":"n","creationTimestamp":null},"spec":{"template":{"metadata":{"name":"a","namespace":"n","creationTimestamp":null}},"encryptedData":{"k":"AgBy"}},"status":{"conditions":[]}}"#;
    const GOOD_YAML: &str = "---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: a\n  namespace: n\nspec:\n  encryptedData:\n    k: AgBy\n";

    fn refused(body: &str) -> Refusal {
        decode(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn json_and_yaml_decode() {
        for body in [GOOD_JSON, GOOD_YAML] {
            let ss = decode(body.as_bytes()).unwrap();
            assert_eq!(ss.metadata.name.as_deref(), Some("a"));
            assert_eq!(ss.spec.encrypted_data["k"], "AgBy");
            assert!(ss.status.is_none());
        }
        let with_bom = format!("\u{feff}{GOOD_JSON}");
        assert!(decode(with_bom.as_bytes()).is_ok());
    }

    #[test]
    fn garbage_is_refused_with_a_short_message() {
        let r = decode(&[0xff, 0xfe, 0x00, 0x01]).unwrap_err();
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        for body in [
            "",
            "  \n",
            "{not json",
            "[1, 2",
            "just a string",
            "a: [",
            "{}",
        ] {
            let r = refused(body);
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body:?}: {r:?}");
            assert!(r.message.len() <= MAX_ERROR_LEN + 40, "{r:?}");
            assert!(!r.message.contains('\n'), "{r:?}");
        }
        // Non-string items are named, as the controller names them.
        let r = refused(&GOOD_JSON.replace(r#""AgBy""#, "5"));
        assert!(r.message.contains("spec.encryptedData.k"), "{r:?}");
    }

    #[test]
    fn wrong_kind_or_api_version_is_refused() {
        let r = refused(&GOOD_JSON.replace("SealedSecret", "Secret"));
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.message.contains("kind \"Secret\""), "{r:?}");
        let r = refused(&GOOD_YAML.replace("bitnami.com/v1alpha1", "v1"));
        assert!(r.message.contains("apiVersion \"v1\""), "{r:?}");
        let r = refused("metadata: {name: a}\nspec: {}\n");
        assert!(r.message.contains("kind \"\""), "{r:?}");
    }

    #[test]
    fn several_documents_are_refused() {
        for body in [
            format!("{GOOD_YAML}---\n{GOOD_YAML}"),
            format!("{GOOD_YAML}---\nkind: Other\n"),
        ] {
            let r = refused(&body);
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert!(r.message.contains("several YAML documents"), "{r:?}");
        }
        let r = refused(&format!("{GOOD_JSON}{GOOD_JSON}"));
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn aliases_and_deep_nesting_are_refused() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n";
        let r = refused(bomb);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.message, "YAML aliases are not accepted");
        let one = format!("{GOOD_YAML}spec2: &x {{a: 1}}\nspec3: *x\n");
        assert_eq!(refused(&one).message, "YAML aliases are not accepted");
        let deep = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
        let r = refused(&format!("x: {deep}\n"));
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let deep_json = format!(r#"{{"x":{}1{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        let r = refused(&deep_json);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let mut block = String::new();
        for i in 0..200 {
            block.push_str(&"  ".repeat(i));
            block.push_str("k:\n");
        }
        let r = refused(&block);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.message.contains("nested deeper"), "{r:?}");
    }

    #[tokio::test]
    async fn bodies_are_read_with_a_cap_and_a_deadline() {
        let mut headers = HeaderMap::new();
        let got = read_body(Body::from("hello"), &headers, 5, None)
            .await
            .unwrap();
        assert_eq!(got, b"hello");
        let r = read_body(Body::from("hello!"), &headers, 5, None)
            .await
            .unwrap_err();
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(6));
        let r = read_body(Body::from("hello"), &headers, 5, None)
            .await
            .unwrap_err();
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        let stalled =
            Body::from_stream(futures::stream::pending::<Result<Vec<u8>, std::io::Error>>());
        let r = read_body(
            stalled,
            &HeaderMap::new(),
            5,
            Some(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();
        assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
        let broken = Body::from_stream(futures::stream::iter([Err::<Vec<u8>, _>(
            std::io::Error::other("reset"),
        )]));
        let r = read_body(broken, &HeaderMap::new(), 5, None)
            .await
            .unwrap_err();
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn decryption_failures_say_one_thing() {
        let busy = || Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "busy");
        let r = refusal_of(CheckError::Undecryptable, busy);
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.message, UNDECRYPTABLE);
        let r = refusal_of(CheckError::Refused(UnsealError::V1DataRefused), busy);
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = refusal_of(CheckError::Refused(UnsealError::MissingName), busy);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            refusal_of(CheckError::Stopped, busy).status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let r = Refusal::new(StatusCode::TOO_MANY_REQUESTS, "x")
            .retry_after(Duration::from_millis(300))
            .into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }
}
