//! The controller, through the Kubernetes API server's service proxy, as kubeseal reaches it:
//! the controller's Service is read first for the name of its first port, then
//! `/api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy/v1/{cert.pem,verify,rotate}`.
//! The only network I/O besides fetching a `--cert` URL; every request is bounded by
//! `--request-timeout` and every failure is one line that says what could not be done, and
//! names the server, the URL or the missing permission.
//!
//! The requests are built and the answers judged by plain functions ([`service_path`],
//! [`proxy_path`], [`judge`]), so the error texts are unit-tested without a server.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use http::{Method, StatusCode, header};
use k8s_openapi::api::core::v1::Service;
use kube::client::Body;
use kube::config::KubeConfigOptions;

use crate::cert::{self, CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT};
use crate::io::Limit;
use crate::kubeconfig::{self, Selection, Target};

/// The controller's Service: `--controller-name` in `--controller-namespace`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    pub name: String,
    pub namespace: String,
}

/// A connection to one API server, for one run.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    client: kube::Client,
    /// The API server URL, without a trailing `/`.
    server: String,
    /// Where the settings came from, e.g. `kubeconfig context "dev"`.
    origin: String,
    timeout: Duration,
    /// Whether `--request-timeout` set `timeout`, for the hint in a timeout error.
    timeout_given: bool,
    controller: Controller,
    /// `spec.ports[0].name` of the controller's Service, once read.
    port_name: Option<String>,
}

/// The bodies seal accepts from the controller: a certificate (bundle), a SealedSecret.
const SERVICE_LIMIT: Limit = Limit {
    bytes: 1024 * 1024,
    what: "a Service",
};
const SEALED_SECRET_LIMIT: Limit = Limit {
    bytes: 64 * 1024 * 1024,
    what: "a SealedSecret",
};
/// How much of an error body is read and quoted.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// How long one request waits out the controller's rate limit (429) in all.
const RATE_LIMIT_PATIENCE: Duration = Duration::from_secs(300);
const QUOTED_ERROR_CHARS: usize = 300;

impl Session {
    /// Reads the kubeconfig and flags and builds the client. Nothing is sent yet.
    pub fn connect(
        sel: &Selection,
        controller: &Controller,
        request_timeout: Option<Duration>,
    ) -> Result<Session> {
        let target = kubeconfig::target(sel)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow!("cannot start the I/O runtime: {e}"))?;
        let timeout = request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
        let (mut config, server, origin, proxy) = match target {
            Target::Kubeconfig {
                config,
                server,
                origin,
                proxy,
            } => {
                let options = KubeConfigOptions {
                    context: Some(Target::NAME.to_owned()),
                    ..KubeConfigOptions::default()
                };
                let config = runtime
                    .block_on(kube::Config::from_custom_kubeconfig(*config, &options))
                    .map_err(|e| anyhow!("{origin}: {e}"))?;
                (config, server, origin, proxy)
            }
            Target::InCluster => {
                let config = kube::Config::incluster()
                    .map_err(|e| anyhow!("in-cluster configuration: {e}"))?;
                let server = config.cluster_url.to_string();
                (config, server, "the Pod's ServiceAccount".to_owned(), None)
            }
        };
        let server = server.trim_end_matches('/').to_owned();
        // client-go takes a proxy from the kubeconfig or --proxy-url as is, and otherwise
        // from the environment as Go's net/http does; kube's own fallback differs.
        let proxy = proxy.or_else(|| {
            kubeconfig::env_proxy(&config.cluster_url, |name| std::env::var(name).ok())
        });
        config.proxy_url = match proxy {
            Some(p) => Some(
                p.parse::<http::Uri>()
                    .map_err(|e| anyhow!("{origin}: invalid proxy URL {p:?}: {e}"))?,
            ),
            None => None,
        };
        config.connect_timeout = Some(timeout.min(CONNECT_TIMEOUT));
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        // One request, one answer: a 503 from the proxy is reported, not retried.
        config.default_retry = false;
        let client = {
            // The client spawns its connection tasks on the runtime.
            let _guard = runtime.enter();
            kube::Client::try_from(config).map_err(|e| anyhow!("{origin}: {e}"))?
        };
        tracing::info!(%server, %origin, "talking to the Kubernetes API server");
        Ok(Session {
            runtime,
            client,
            server,
            origin,
            timeout,
            timeout_given: request_timeout.is_some(),
            controller: controller.clone(),
            port_name: None,
        })
    }

    /// `GET .../proxy/v1/cert.pem`: the controller's certificate (the newest key's).
    pub fn fetch_cert(&mut self) -> Result<Vec<u8>> {
        let port = self.port_name()?;
        let path = proxy_path(&self.controller, &port, "/v1/cert.pem");
        let reply = self.call(
            Method::GET,
            &path,
            None,
            "application/x-pem-file, */*",
            cert_limit(),
        )?;
        judge(&self.context(Op::Cert, &port, &path), reply)
    }

    /// `GET .../proxy/v1/keys`: the sealing keys, public information only (JSON).
    pub fn keys(&mut self) -> Result<Vec<u8>> {
        let port = self.port_name()?;
        let path = proxy_path(&self.controller, &port, "/v1/keys");
        let reply = self.call(
            Method::GET,
            &path,
            None,
            "application/json, */*",
            SEALED_SECRET_LIMIT,
        )?;
        judge(&self.context(Op::Keys, &port, &path), reply)
    }

    /// `POST .../proxy/v1/verify`: whether the controller can decrypt `sealed` (JSON).
    pub fn verify(&mut self, name: &str, sealed: Vec<u8>) -> Result<()> {
        let port = self.port_name()?;
        let path = proxy_path(&self.controller, &port, "/v1/verify");
        let reply = self.post_patiently(&path, sealed)?;
        judge(&self.context(Op::Verify(name), &port, &path), reply).map(drop)
    }

    /// `POST .../proxy/v1/rotate`: `sealed` (JSON) re-encrypted with the newest key.
    pub fn rotate(&mut self, name: &str, sealed: Vec<u8>) -> Result<Vec<u8>> {
        let port = self.port_name()?;
        let path = proxy_path(&self.controller, &port, "/v1/rotate");
        let reply = self.post_patiently(&path, sealed)?;
        judge(&self.context(Op::Rotate(name), &port, &path), reply)
    }

    /// POSTs a SealedSecret, waiting out the controller's rate limit: a 429 is retried after
    /// its `Retry-After` (1 s without one, at most 30 s each) for up to [`RATE_LIMIT_PATIENCE`],
    /// so that re-encrypting many objects goes at the rate the controller allows.
    fn post_patiently(&self, path: &str, sealed: Vec<u8>) -> Result<Reply> {
        let mut waited = Duration::ZERO;
        loop {
            let reply = self.call(
                Method::POST,
                path,
                Some(sealed.clone()),
                "application/json, */*",
                SEALED_SECRET_LIMIT,
            )?;
            if reply.status != StatusCode::TOO_MANY_REQUESTS || waited >= RATE_LIMIT_PATIENCE {
                return Ok(reply);
            }
            let pause = reply
                .retry_after
                .unwrap_or(Duration::from_secs(1))
                .clamp(Duration::from_millis(100), Duration::from_secs(30));
            tracing::debug!(?pause, "rate-limited by the controller; waiting");
            std::thread::sleep(pause);
            waited += pause;
        }
    }

    /// The Service's first port name, as kubeseal reads it (`spec.ports[0].name`).
    fn port_name(&mut self) -> Result<String> {
        if let Some(port) = &self.port_name {
            return Ok(port.clone());
        }
        let path = service_path(&self.controller);
        let reply = self.call(Method::GET, &path, None, "application/json", SERVICE_LIMIT)?;
        let body = judge(&self.context(Op::Service, "", &path), reply)?;
        let port = port_name_of(&self.controller, &body)?;
        tracing::debug!(port, "controller service port");
        self.port_name = Some(port.clone());
        Ok(port)
    }

    fn context<'a>(&'a self, op: Op<'a>, port: &'a str, path: &str) -> Context<'a> {
        Context {
            op,
            controller: &self.controller,
            port,
            server: &self.server,
            origin: &self.origin,
            url: format!("{}{path}", self.server),
        }
    }

    /// One request, bounded by the timeout as a whole (connecting, TLS, an exec credential
    /// plugin, the answer and its body). A transport failure is an error naming the server;
    /// any HTTP answer comes back for [`judge`].
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        accept: &str,
        limit: Limit,
    ) -> Result<Reply> {
        let url = format!("{}{path}", self.server);
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::ACCEPT, accept);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Body::from(body.unwrap_or_default()))
            .map_err(|e| anyhow!("{method} {url}: {e}"))?;
        tracing::debug!(%method, %url, "request");
        let exchange = async {
            let response = self.client.send(request).await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let cap = if status.is_success() {
                limit.bytes
            } else {
                ERROR_BODY_LIMIT as u64
            };
            let body = read_capped(response.into_body(), cap).await?;
            Ok::<_, kube::Error>((status, body, retry_after))
        };
        // The timer belongs to the runtime: made inside it.
        let (status, body, retry_after) = match self
            .runtime
            .block_on(async { tokio::time::timeout(self.timeout, exchange).await })
        {
            Err(_elapsed) => {
                let hint = if self.timeout_given {
                    " (--request-timeout)"
                } else {
                    " (the default; --request-timeout sets it)"
                };
                bail!(
                    "{method} {url}: timed out after {}{hint}",
                    cert::go_duration(self.timeout)
                );
            }
            Ok(Err(e)) => return Err(self.transport_error(e)),
            Ok(Ok(reply)) => reply,
        };
        tracing::debug!(%method, %url, status = status.as_u16(), "response");
        match body {
            Some(body) => Ok(Reply {
                status,
                body,
                retry_after,
            }),
            None if status.is_success() => bail!(
                "{method} {url}: the answer is larger than {limit}, the limit for {}",
                limit.what
            ),
            // An error body is only quoted: its start will do.
            None => Ok(Reply {
                status,
                body: Vec::new(),
                retry_after,
            }),
        }
    }

    fn transport_error(&self, e: kube::Error) -> anyhow::Error {
        let (server, origin) = (&self.server, &self.origin);
        match &e {
            kube::Error::Auth(auth) => {
                anyhow!(
                    "cannot authenticate to the Kubernetes API server at {server} ({origin}): {auth}"
                )
            }
            _ => anyhow!(
                "cannot reach the Kubernetes API server at {server} ({origin}): {}",
                transport_cause(&e, self.timeout.min(CONNECT_TIMEOUT))
            ),
        }
    }
}

fn cert_limit() -> Limit {
    Limit::CERT
}

/// Reads a body up to `cap` bytes; `None` if there is more.
async fn read_capped(mut body: Body, cap: u64) -> Result<Option<Vec<u8>>, kube::Error> {
    use http_body_util::BodyExt as _;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        if let Ok(data) = frame.into_data() {
            if out.len() as u64 + data.len() as u64 > cap {
                return Ok(None);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Some(out))
}

/// The innermost cause of a failed connection, in plain words.
fn transport_cause(e: &kube::Error, connect_timeout: Duration) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut last = e.to_string();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".to_owned(),
                std::io::ErrorKind::TimedOut => {
                    return format!(
                        "timed out connecting after {}",
                        cert::go_duration(connect_timeout)
                    );
                }
                _ => {}
            }
        }
        last = err.to_string();
        source = err.source();
    }
    // "os error 111"-style suffixes say nothing more.
    match last.find(" (os error") {
        Some(i) => last[..i].to_owned(),
        None => last,
    }
}

/// An HTTP answer, judged by [`judge`].
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// A 429's `Retry-After`, in seconds.
    pub retry_after: Option<Duration>,
}

/// What a request was for: it decides the verb and resource a 403 names, and the wording.
#[derive(Clone, Copy, Debug)]
enum Op<'a> {
    Service,
    Cert,
    Keys,
    /// The SealedSecret's name.
    Verify(&'a str),
    Rotate(&'a str),
}

#[derive(Debug)]
struct Context<'a> {
    op: Op<'a>,
    controller: &'a Controller,
    port: &'a str,
    server: &'a str,
    origin: &'a str,
    url: String,
}

impl Context<'_> {
    /// The `error: ` line's start, kubeseal's wording.
    fn prefix(&self) -> String {
        match self.op {
            Op::Service => "cannot get sealed secret service".to_owned(),
            Op::Cert => "cannot fetch certificate".to_owned(),
            Op::Keys => "cannot list the sealing keys".to_owned(),
            Op::Verify(name) => format!("cannot validate sealed secret {name:?}"),
            Op::Rotate(name) => format!("cannot re-encrypt sealed secret {name:?}"),
        }
    }

    fn method(&self) -> &'static str {
        match self.op {
            Op::Service | Op::Cert | Op::Keys => "GET",
            Op::Verify(_) | Op::Rotate(_) => "POST",
        }
    }

    /// The RBAC verb, resource and name the request needs.
    fn permission(&self) -> (&'static str, &'static str, String) {
        match self.op {
            Op::Service => ("get", "services", self.controller.name.clone()),
            Op::Cert | Op::Keys => (
                "get",
                "services/proxy",
                proxy_name(self.controller, self.port),
            ),
            Op::Verify(_) | Op::Rotate(_) => (
                "create",
                "services/proxy",
                proxy_name(self.controller, self.port),
            ),
        }
    }
}

/// The API server's own error answers are `Status` objects; the controller's are plain text.
fn api_status(body: &[u8]) -> Option<kube::core::Status> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if value.get("kind").and_then(|k| k.as_str()) != Some("Status") {
        return None;
    }
    serde_json::from_value(value).ok()
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// The start of a plain-text body, quoted, for an error line.
fn quoted(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut cut: String = text.chars().take(QUOTED_ERROR_CHARS).collect();
    if cut.len() < text.len() {
        cut.push_str("...");
    }
    Some(format!("{cut:?}"))
}

/// The answer's body if it is what was asked for, else the error, in one line.
fn judge(cx: &Context<'_>, reply: Reply) -> Result<Vec<u8>> {
    let Reply { status, body, .. } = reply;
    if status == StatusCode::OK {
        return Ok(body);
    }
    let prefix = cx.prefix();
    let (method, url) = (cx.method(), &cx.url);
    let api = api_status(&body);
    let ns = &cx.controller.namespace;
    match (cx.op, status.as_u16(), &api) {
        (_, 401, _) => bail!(
            "{prefix}: the Kubernetes API server at {} rejected the credentials (401 \
             Unauthorized; settings from {}); check the kubeconfig user, --token or the client \
             certificate",
            cx.server,
            cx.origin
        ),
        (_, 403, Some(s)) => {
            let (verb, resource, name) = cx.permission();
            let who = forbidden_user(&s.message).unwrap_or("the kubeconfig user");
            bail!("{prefix}: forbidden: {who} cannot {verb} {resource} {name:?} in namespace {ns}")
        }
        (Op::Service, 404, Some(_)) => bail!(
            "{prefix}: services {:?} not found in namespace {ns}; use the flags \
             --controller-name and --controller-namespace to name the controller's Service \
             and its namespace",
            cx.controller.name
        ),
        (Op::Cert, 500, None) => bail!(
            "{prefix}: the controller has no certificate to give ({method} {url}: {}{}); \
             it may have no sealing key yet: see its logs in namespace {ns}",
            status_text(status),
            quoted(&body).map(|q| format!(": {q}")).unwrap_or_default()
        ),
        (Op::Verify(name), 409, _) => bail!("unable to decrypt sealed secret: {name}"),
        (Op::Rotate(name), 409, _) => bail!(
            "unable to re-encrypt sealed secret {name:?}: the controller cannot decrypt it with any of its keys"
        ),
        (_, 502..=504, Some(s)) => bail!(
            "{prefix}: {method} {url}: {}: {}; is the controller running and ready?",
            status_text(status),
            s.message
        ),
        (_, _, Some(s)) if !s.message.is_empty() => {
            bail!(
                "{prefix}: {method} {url}: {}: {}",
                status_text(status),
                s.message
            )
        }
        (_, _, _) => bail!(
            "{prefix}: {method} {url}: {}{}",
            status_text(status),
            quoted(&body).map(|q| format!(": {q}")).unwrap_or_default()
        ),
    }
}

/// `User "x"` in the API server's `... is forbidden: User "x" cannot get resource ...`.
fn forbidden_user(message: &str) -> Option<&str> {
    let start = message.find("User \"")?;
    let rest = &message[start..];
    let end = rest[6..].find('"')? + 7;
    Some(&rest[..end])
}

/// kubeseal's `getServicePortName`: the first port's name (empty for an unnamed port).
fn port_name_of(controller: &Controller, body: &[u8]) -> Result<String> {
    let Controller { name, namespace } = controller;
    let service: Service = serde_json::from_slice(body).map_err(|e| {
        anyhow!("cannot get sealed secret service: service {namespace}/{name}: {e}")
    })?;
    let port = service
        .spec
        .and_then(|s| s.ports)
        .and_then(|ports| ports.into_iter().next())
        .ok_or_else(|| {
            anyhow!("cannot get sealed secret service: service {namespace}/{name} has no ports")
        })?;
    Ok(port.name.unwrap_or_default())
}

/// A path segment: what a Kubernetes name may hold passes, the rest is percent-encoded.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET` of the controller's Service.
pub fn service_path(c: &Controller) -> String {
    format!(
        "/api/v1/namespaces/{}/services/{}",
        segment(&c.namespace),
        segment(&c.name)
    )
}

/// client-go's `net.JoinSchemeNamePort("http", name, port)`: three parts, even with an
/// empty port name.
fn proxy_name(c: &Controller, port: &str) -> String {
    format!("http:{}:{port}", c.name)
}

/// The service proxy path to `suffix` on the controller.
pub fn proxy_path(c: &Controller, port: &str, suffix: &str) -> String {
    format!(
        "/api/v1/namespaces/{}/services/{}/proxy{suffix}",
        segment(&c.namespace),
        segment(&proxy_name(c, port))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controller() -> Controller {
        Controller {
            name: "sealed-secrets-controller".into(),
            namespace: "kube-system".into(),
        }
    }

    fn cx(op: Op<'static>) -> Context<'static> {
        let controller: &'static Controller = Box::leak(Box::new(controller()));
        Context {
            op,
            controller,
            port: "http",
            server: "https://127.0.0.1:6443",
            origin: "kubeconfig context \"dev\"",
            url: "https://127.0.0.1:6443/some/path".into(),
        }
    }

    fn reply(code: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(code).unwrap(),
            body: body.as_bytes().to_vec(),
            retry_after: None,
        }
    }

    fn status(code: u16, reason: &str, message: &str) -> String {
        serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code
        })
        .to_string()
    }

    fn err(op: Op<'static>, r: Reply) -> String {
        judge(&cx(op), r).unwrap_err().to_string()
    }

    #[test]
    fn paths_are_kubeseals() {
        let c = controller();
        assert_eq!(
            service_path(&c),
            "/api/v1/namespaces/kube-system/services/sealed-secrets-controller"
        );
        assert_eq!(
            proxy_path(&c, "http", "/v1/cert.pem"),
            "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem"
        );
        assert_eq!(
            proxy_path(&c, "", "/v1/verify"),
            "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:/proxy/v1/verify"
        );
        let odd = Controller {
            name: "a/b c".into(),
            namespace: "x?y".into(),
        };
        assert_eq!(
            service_path(&odd),
            "/api/v1/namespaces/x%3Fy/services/a%2Fb%20c"
        );
    }

    #[test]
    fn port_name_is_the_first_ports() {
        let c = controller();
        let svc =
            |ports: &str| format!(r#"{{"metadata":{{"name":"s"}},"spec":{{"ports":{ports}}}}}"#);
        let one = svc(r#"[{"name":"http","port":8080},{"name":"metrics","port":8081}]"#);
        assert_eq!(port_name_of(&c, one.as_bytes()).unwrap(), "http");
        let unnamed = svc(r#"[{"port":8080}]"#);
        assert_eq!(port_name_of(&c, unnamed.as_bytes()).unwrap(), "");
        let none = svc("[]");
        assert_eq!(
            port_name_of(&c, none.as_bytes()).unwrap_err().to_string(),
            "cannot get sealed secret service: service kube-system/sealed-secrets-controller has no ports"
        );
    }

    #[test]
    fn forbidden_names_the_permission() {
        let message = "services \"http:sealed-secrets-controller:\" is forbidden: User \
            \"system:serviceaccount:t:nobody\" cannot get resource \"services/proxy\" in API \
            group \"\" in the namespace \"kube-system\"";
        let body = status(403, "Forbidden", message);
        let cx = Context {
            port: "",
            ..cx(Op::Cert)
        };
        assert_eq!(
            judge(&cx, reply(403, &body)).unwrap_err().to_string(),
            "cannot fetch certificate: forbidden: User \"system:serviceaccount:t:nobody\" cannot \
             get services/proxy \"http:sealed-secrets-controller:\" in namespace kube-system"
        );
        assert_eq!(
            err(Op::Service, reply(403, &body)),
            "cannot get sealed secret service: forbidden: User \"system:serviceaccount:t:nobody\" \
             cannot get services \"sealed-secrets-controller\" in namespace kube-system"
        );
        assert_eq!(
            err(Op::Verify("s"), reply(403, &body)),
            "cannot validate sealed secret \"s\": forbidden: User \"system:serviceaccount:t:nobody\" \
             cannot create services/proxy \"http:sealed-secrets-controller:http\" in namespace kube-system"
        );
        let anonymous = status(403, "Forbidden", "forbidden");
        assert!(
            err(Op::Rotate("s"), reply(403, &anonymous))
                .contains(": forbidden: the kubeconfig user cannot create services/proxy")
        );
    }

    #[test]
    fn missing_service() {
        let body = status(
            404,
            "NotFound",
            "services \"sealed-secrets-controller\" not found",
        );
        let e = err(Op::Service, reply(404, &body));
        assert_eq!(
            e,
            "cannot get sealed secret service: services \"sealed-secrets-controller\" not found \
             in namespace kube-system; use the flags --controller-name and --controller-namespace \
             to name the controller's Service and its namespace"
        );
    }

    #[test]
    fn controller_without_a_key() {
        assert_eq!(
            err(Op::Cert, reply(500, "cannot get certificate\n")),
            "cannot fetch certificate: the controller has no certificate to give \
             (GET https://127.0.0.1:6443/some/path: 500 Internal Server Error: \
             \"cannot get certificate\"); it may have no sealing key yet: see its logs in \
             namespace kube-system"
        );
    }

    #[test]
    fn verify_and_rotate_answers() {
        assert_eq!(
            err(Op::Verify("db-creds"), reply(409, "")),
            "unable to decrypt sealed secret: db-creds"
        );
        assert_eq!(
            err(Op::Rotate("db-creds"), reply(409, "")),
            "unable to re-encrypt sealed secret \"db-creds\": the controller cannot decrypt it with any of its keys"
        );
        // The reference answers 500 with no body to anything it cannot rotate.
        assert_eq!(
            err(Op::Rotate("db-creds"), reply(500, "")),
            "cannot re-encrypt sealed secret \"db-creds\": POST https://127.0.0.1:6443/some/path: 500 Internal Server Error"
        );
        assert_eq!(
            err(Op::Verify("x"), reply(429, "limit exceeded\n")),
            "cannot validate sealed secret \"x\": POST https://127.0.0.1:6443/some/path: 429 Too Many Requests: \"limit exceeded\""
        );
        assert_eq!(
            judge(&cx(Op::Rotate("x")), reply(200, "{}")).unwrap(),
            b"{}"
        );
    }

    #[test]
    fn proxy_failures_and_credentials() {
        let body = status(
            503,
            "ServiceUnavailable",
            "no endpoints available for service \"http:sealed-secrets-controller:http\"",
        );
        assert_eq!(
            err(Op::Cert, reply(503, &body)),
            "cannot fetch certificate: GET https://127.0.0.1:6443/some/path: 503 Service \
             Unavailable: no endpoints available for service \"http:sealed-secrets-controller:http\"; \
             is the controller running and ready?"
        );
        assert_eq!(
            err(
                Op::Service,
                reply(401, &status(401, "Unauthorized", "Unauthorized"))
            ),
            "cannot get sealed secret service: the Kubernetes API server at https://127.0.0.1:6443 \
             rejected the credentials (401 Unauthorized; settings from kubeconfig context \"dev\"); \
             check the kubeconfig user, --token or the client certificate"
        );
        let long = "x".repeat(1000);
        let e = err(Op::Cert, reply(418, &long));
        assert!(e.len() < 500, "{e}");
        assert!(e.ends_with("...\""), "{e}");
        let e = err(Op::Cert, reply(500, "line one\nline two"));
        assert!(!e.contains('\n'), "one line: {e:?}");
    }
}
