//! The cluster modes against a stand-in API server on 127.0.0.1 (plain HTTP, in the test
//! itself): which requests seal sends (method, path, headers, body) for each connection flag
//! and kubeconfig setting, and the one-line error for each answer a real API server or
//! controller gives. The real API server is in `cluster.rs`.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

const SERVICE_PATH: &str = "/api/v1/namespaces/kube-system/services/sealed-secrets-controller";
const PROXY: &str =
    "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy";

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: BTreeMap<String, Vec<String>>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// An answer: status, content type, body.
struct Answer(u16, &'static str, Vec<u8>);

fn status_json(code: u16, reason: &str, message: &str) -> Answer {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code
    });
    Answer(code, "application/json", body.to_string().into_bytes())
}

fn service(port_name: &str) -> Answer {
    let body = serde_json::json!({
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "sealed-secrets-controller", "namespace": "kube-system"},
        "spec": {"ports": [{"name": port_name, "port": 8080, "targetPort": 8080}]}
    });
    Answer(200, "application/json", body.to_string().into_bytes())
}

fn cert_pem() -> Vec<u8> {
    std::fs::read(vector("sealing-cert.pem")).unwrap()
}

type Handler = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;

/// The stand-in API server: answers with `handler`, records every request. It also plays an
/// HTTP proxy: a `CONNECT` is answered 200 and the tunnel is served as the API server, and
/// recorded too.
struct Mock {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    fn start(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (handler, record) = (handler.clone(), record.clone());
                std::thread::spawn(move || serve(stream, &handler, &record));
            }
        });
        Mock { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn paths(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }
}

fn serve(stream: TcpStream, handler: &Handler, record: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or_default().to_owned(),
            parts.next().unwrap_or_default().to_owned(),
        );
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers
                    .entry(k.trim().to_ascii_lowercase())
                    .or_default()
                    .push(v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v[0].parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let seen = Seen {
            method: method.clone(),
            path,
            headers,
            body,
        };
        record.lock().unwrap().push(seen.clone());
        if method == "CONNECT" {
            let _ = out.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            continue;
        }
        let Answer(code, content_type, body) = handler(&seen);
        let head = format!(
            "HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if out.write_all(head.as_bytes()).is_err() || out.write_all(&body).is_err() {
            return;
        }
    }
}

/// The usual controller: Service with port "http", the vectors' certificate, verify says
/// yes to everything named "good", rotate gives back the body with a marker annotation.
fn controller(seen: &Seen) -> Answer {
    match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", SERVICE_PATH) => service("http"),
        ("GET", p) if p == format!("{PROXY}/v1/cert.pem") => {
            Answer(200, "application/x-pem-file", cert_pem())
        }
        ("POST", p) if p == format!("{PROXY}/v1/verify") => {
            let ss: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
            if ss["metadata"]["name"] == "good" {
                Answer(200, "text/plain", Vec::new())
            } else {
                Answer(409, "text/plain", Vec::new())
            }
        }
        ("POST", p) if p == format!("{PROXY}/v1/rotate") => {
            let mut ss: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
            if ss["metadata"]["name"] == "broken" {
                return Answer(500, "text/plain", Vec::new());
            }
            ss["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z".into();
            ss["metadata"]["generation"] = 3.into();
            ss["spec"]["encryptedData"]["rotated"] = "AgBy".into();
            Answer(200, "application/json", ss.to_string().into_bytes())
        }
        _ => status_json(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
    }
}

fn sealed(name: &str) -> String {
    format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: ns\nspec:\n  encryptedData:\n    a: AgAA\n  template:\n    metadata:\n      name: {name}\n      namespace: ns\n"
    )
}

const SECRET: &str =
    "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\nstringData: {a: b}\n";

#[test]
fn seals_with_the_controllers_certificate() {
    let mock = Mock::start(controller);
    let out = seal(&["-s", &mock.url, "--token", "t0k3n", "-o", "yaml"])
        .stdin(SECRET)
        .run()
        .ok();
    assert_eq!(unseal_data(&out, &[&key()])["a"], b"b");
    assert_eq!(
        mock.paths(),
        [
            format!("GET {SERVICE_PATH}"),
            format!("GET {PROXY}/v1/cert.pem")
        ],
        "kubeseal's two requests: the Service for its port name, then the proxy"
    );
    let cert_request = &mock.seen()[1];
    assert_eq!(cert_request.header("authorization"), Some("Bearer t0k3n"));
    assert_eq!(
        cert_request.header("accept"),
        Some("application/x-pem-file, */*")
    );

    let pem = seal(&["--fetch-cert", "--server", &mock.url]).run().ok();
    assert_eq!(pem.as_bytes(), cert_pem());
}

#[test]
fn the_port_name_comes_from_the_service() {
    let mock = Mock::start(|seen| match seen.path.as_str() {
        "/api/v1/namespaces/ctl/services/my-sealer" => service(""),
        "/api/v1/namespaces/ctl/services/http:my-sealer:/proxy/v1/cert.pem" => {
            Answer(200, "application/x-pem-file", cert_pem())
        }
        _ => status_json(404, "NotFound", "not found"),
    });
    seal(&[
        "--fetch-cert",
        "-s",
        &mock.url,
        "--controller-name",
        "my-sealer",
    ])
    .env("SEALED_SECRETS_CONTROLLER_NAMESPACE", "ctl")
    .run()
    .ok();
}

#[test]
fn kubeconfig_and_client_go_flags_shape_the_request() {
    let mock = Mock::start(controller);
    let other = Mock::start(controller);
    let dir = TempDir::new("mock-kubeconfig");
    // Two files in $KUBECONFIG: the first defines the current context and user, the second
    // the clusters; a second "dev" context in the second file is ignored (first wins).
    let a = dir.write(
        "a",
        "current-context: dev\ncontexts:\n- name: dev\n  context: {cluster: mock, user: alice}\n\
         - name: other\n  context: {cluster: other, user: bob}\n\
         users:\n- name: alice\n  user: {token: alice-token}\n- name: bob\n  user: {token: bob-token}\n",
    );
    let b = dir.write(
        "b",
        format!(
            "clusters:\n- name: mock\n  cluster: {{server: '{}'}}\n- name: other\n  cluster: {{server: '{}'}}\n\
             contexts:\n- name: dev\n  context: {{cluster: other, user: bob}}\n",
            mock.url, other.url
        ),
    );
    let list = format!(
        "{}:{}:{}",
        a.display(),
        dir.join("missing").display(),
        b.display()
    );
    let fetch = |args: &[&str]| {
        let mut all = vec!["--fetch-cert"];
        all.extend_from_slice(args);
        seal(&all).env("KUBECONFIG", &list).run().ok();
    };
    fetch(&[]);
    assert_eq!(
        mock.seen()[0].header("authorization"),
        Some("Bearer alice-token")
    );
    fetch(&["--context", "other"]);
    assert_eq!(
        other.seen()[0].header("authorization"),
        Some("Bearer bob-token")
    );
    fetch(&["--user", "bob"]);
    assert_eq!(
        mock.seen()[2].header("authorization"),
        Some("Bearer bob-token")
    );
    fetch(&["--cluster", "other", "--token", "flag-token"]);
    assert_eq!(
        other.seen()[2].header("authorization"),
        Some("Bearer flag-token")
    );

    // Impersonation headers, as client-go sends them.
    fetch(&[
        "--as",
        "carol",
        "--as-group",
        "g1",
        "--as-group",
        "g2",
        "--as-uid",
        "1234",
    ]);
    let seen = &mock.seen()[4];
    assert_eq!(seen.header("impersonate-user"), Some("carol"));
    assert_eq!(seen.headers["impersonate-group"], ["g1", "g2"]);
    assert_eq!(seen.header("impersonate-uid"), Some("1234"));

    // Basic authentication.
    fetch(&["--username", "u", "--password", "p"]);
    assert_eq!(mock.seen()[6].header("authorization"), Some("Basic dTpw"));

    // --kubeconfig wins over $KUBECONFIG.
    let only = dir.write(
        "only",
        format!(
            "current-context: x\ncontexts:\n- name: x\n  context: {{cluster: c}}\nclusters:\n- name: c\n  cluster: {{server: '{}'}}\n",
            other.url
        ),
    );
    let before = other.seen().len();
    fetch(&["--kubeconfig", only.to_str().unwrap()]);
    assert_eq!(other.seen().len(), before + 2);
    assert_eq!(other.seen()[before].header("authorization"), None);

    // A name given on the command line must exist.
    seal(&["--fetch-cert", "--context", "nope"])
        .env("KUBECONFIG", &list)
        .run()
        .fails_with(&["context \"nope\" does not exist"]);
    seal(&["--fetch-cert", "--as-group", "g"])
        .env("KUBECONFIG", &list)
        .run()
        .fails_with(&["--as-group needs --as"]);
}

/// An exec credential plugin (client-go's `users[].user.exec`) gives the token.
#[test]
fn exec_credential_plugin() {
    let mock = Mock::start(controller);
    let dir = TempDir::new("mock-exec");
    let plugin = dir.write(
        "plugin.sh",
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-exec\"}}'\n",
    );
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A relative command with a slash is relative to the kubeconfig's directory.
    let config = dir.write(
        "config",
        format!(
            "current-context: x\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\n\
             clusters:\n- name: c\n  cluster: {{server: '{}'}}\n\
             users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./plugin.sh\n      interactiveMode: Never\n",
            mock.url
        ),
    );
    seal(&["--fetch-cert", "--kubeconfig", config.to_str().unwrap()])
        .run()
        .ok();
    assert_eq!(
        mock.seen()[0].header("authorization"),
        Some("Bearer from-exec")
    );
}

/// `--proxy-url` and the proxy environment: client-go tunnels through the proxy with
/// CONNECT (the API server's name is never looked up here: the proxy answers for it); a
/// loopback API server is never proxied from the environment, as in Go.
#[test]
fn proxies() {
    let proxy = Mock::start(controller);
    // The API server's address does not matter: the proxy answers for it.
    let api = "http://api.invalid:6443";
    seal(&["--fetch-cert", "-s", api, "--proxy-url", &proxy.url])
        .run()
        .ok();
    let seen = proxy.seen();
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(seen[0].path, "api.invalid:6443");
    assert_eq!(seen[1].path, SERVICE_PATH);

    // From the environment, for a non-loopback server; NO_PROXY excludes it.
    let before = proxy.seen().len();
    seal(&["--fetch-cert", "-s", api])
        .env("HTTP_PROXY", &proxy.url)
        .run()
        .ok();
    assert_eq!(proxy.seen()[before].method, "CONNECT");
    let direct = Mock::start(controller);
    let before = proxy.seen().len();
    seal(&["--fetch-cert", "-s", &direct.url])
        .env("HTTP_PROXY", &proxy.url)
        .run()
        .ok();
    assert_eq!(proxy.seen().len(), before, "loopback is not proxied");
    // (NO_PROXY is unit-tested in kubeconfig.rs: here it would need a name lookup.)
}

#[test]
fn validate() {
    let mock = Mock::start(controller);
    let input = format!("{}---\n{}", sealed("good"), sealed("good"));
    let out = seal(&["--validate", "-s", &mock.url])
        .stdin(&input)
        .run()
        .ok();
    assert_eq!(out, "", "--validate prints nothing");
    let posts: Vec<_> = mock
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2, "one request per SealedSecret");
    assert_eq!(posts[0].path, format!("{PROXY}/v1/verify"));
    assert_eq!(posts[0].header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(body["kind"], "SealedSecret");
    assert_eq!(body["spec"]["encryptedData"]["a"], "AgAA");

    let input = format!("{}---\n{}", sealed("good"), sealed("db-creds"));
    let line = seal(&["--validate", "-s", &mock.url])
        .stdin(&input)
        .run()
        .fails_with(&[]);
    assert_eq!(line, "error: unable to decrypt sealed secret: db-creds\n");
}

#[test]
fn re_encrypt() {
    let mock = Mock::start(controller);
    let out = seal(&["--re-encrypt", "-s", &mock.url, "-o", "yaml"])
        .stdin(sealed("s1"))
        .run()
        .ok();
    let doc = parse(&out);
    assert_eq!(doc["spec"]["encryptedData"]["rotated"], "AgBy");
    assert!(
        doc["metadata"].get("creationTimestamp").is_none()
            && doc["metadata"].get("generation").is_none(),
        "server-set fields are cleared, as kubeseal: {out}"
    );

    // -f without -w: the file is rewritten in place, in the format its name says.
    let dir = TempDir::new("reencrypt");
    let file = dir.write("s.yaml", format!("{}---\n{}", sealed("s1"), sealed("s2")));
    let f = file.to_str().unwrap();
    seal(&["--rotate", "-s", &mock.url, "-f", f]).run().ok();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches("rotated: AgBy").count(), 2, "{text}");
    assert!(
        text.starts_with("---\napiVersion: bitnami.com/v1alpha1\n"),
        "{text}"
    );
    assert_eq!(dir.files(), ["s.yaml"], "no temporary file left behind");

    // A failure on the second one leaves the file exactly as it was.
    let original = format!("{}---\n{}", sealed("s1"), sealed("broken"));
    std::fs::write(&file, &original).unwrap();
    let line = seal(&["--re-encrypt", "-s", &mock.url, "-f", f])
        .run()
        .fails_with(&[]);
    assert_eq!(
        line,
        format!(
            "error: cannot re-encrypt sealed secret \"broken\": POST {}{PROXY}/v1/rotate: 500 Internal Server Error\n",
            mock.url
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    // So does it for -w.
    let w = dir.write("out.json", "old");
    seal(&[
        "--re-encrypt",
        "-s",
        &mock.url,
        "-f",
        f,
        "-w",
        w.to_str().unwrap(),
    ])
    .run()
    .fails_with(&["500 Internal Server Error"]);
    assert_eq!(std::fs::read_to_string(&w).unwrap(), "old");
    assert_eq!(dir.files(), ["out.json", "s.yaml"]);
}

#[test]
fn error_lines() {
    // The Service is missing.
    let mock = Mock::start(|_| {
        status_json(
            404,
            "NotFound",
            "services \"sealed-secrets-controller\" not found",
        )
    });
    let line = seal(&["-s", &mock.url]).stdin(SECRET).run().fails_with(&[]);
    assert_eq!(
        line,
        "error: cannot get sealed secret service: services \"sealed-secrets-controller\" not \
         found in namespace kube-system; use the flags --controller-name and \
         --controller-namespace to name the controller's Service and its namespace\n"
    );

    // Forbidden: the permission is named.
    let mock = Mock::start(|seen| match seen.path.as_str() {
        SERVICE_PATH => service(""),
        _ => status_json(
            403,
            "Forbidden",
            "services \"http:sealed-secrets-controller:\" is forbidden: User \"dev\" cannot get \
             resource \"services/proxy\" in API group \"\" in the namespace \"kube-system\"",
        ),
    });
    let line = seal(&["--fetch-cert", "-s", &mock.url])
        .run()
        .fails_with(&[]);
    assert_eq!(
        line,
        "error: cannot fetch certificate: forbidden: User \"dev\" cannot get services/proxy \
         \"http:sealed-secrets-controller:\" in namespace kube-system\n"
    );

    // The controller has no key yet.
    let mock = Mock::start(|seen| match seen.path.as_str() {
        SERVICE_PATH => service("http"),
        _ => Answer(500, "text/plain", b"cannot get certificate\n".to_vec()),
    });
    let line = seal(&["-s", &mock.url]).stdin(SECRET).run().fails_with(&[]);
    assert_eq!(
        line,
        format!(
            "error: cannot fetch certificate: the controller has no certificate to give (GET \
             {}{PROXY}/v1/cert.pem: 500 Internal Server Error: \"cannot get certificate\"); it \
             may have no sealing key yet: see its logs in namespace kube-system\n",
            mock.url
        )
    );

    // The answer is not a certificate.
    let mock = Mock::start(|seen| match seen.path.as_str() {
        SERVICE_PATH => service("http"),
        _ => Answer(200, "text/html", b"<html>login</html>".to_vec()),
    });
    seal(&["-s", &mock.url])
        .stdin(SECRET)
        .run()
        .fails_with(&["certificate from the controller kube-system/sealed-secrets-controller: "]);

    // Nothing listens.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let line = seal(&["-s", &format!("http://127.0.0.1:{port}")])
        .stdin(SECRET)
        .run()
        .fails_with(&[]);
    assert_eq!(
        line,
        format!(
            "error: cannot reach the Kubernetes API server at http://127.0.0.1:{port} (--server): connection refused\n"
        )
    );
}

#[test]
fn request_timeout_bounds_each_request() {
    // Accepts, reads, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in listener.incoming().flatten() {
            open.push(s);
        }
    });
    let start = Instant::now();
    let line = seal(&["--fetch-cert", "-s", &url, "--request-timeout", "1s"])
        .run()
        .fails_with(&[]);
    let took = start.elapsed();
    assert_eq!(
        line,
        format!("error: GET {url}{SERVICE_PATH}: timed out after 1s (--request-timeout)\n")
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

/// With `--cert`, no cluster is contacted, whatever the connection flags say.
#[test]
fn cert_never_contacts_the_cluster() {
    let mock = Mock::start(controller);
    let dir = TempDir::new("offline");
    let config = dir.write(
        "config",
        format!(
            "current-context: x\ncontexts:\n- name: x\n  context: {{cluster: c, namespace: from-ctx}}\n\
             clusters:\n- name: c\n  cluster: {{server: '{}'}}\n",
            mock.url
        ),
    );
    let input = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n";
    let out = seal(&["--cert", &cert(), "-s", &mock.url, "--token", "t"])
        .env("KUBECONFIG", &config)
        .stdin(input)
        .run()
        .ok();
    let doc = parse(&out);
    assert_eq!(
        doc["metadata"]["namespace"], "from-ctx",
        "the context is still read"
    );
    seal(&["--cert", &cert(), "--fetch-cert", "-s", &mock.url])
        .run()
        .ok();
    seal(&[
        "--cert",
        &cert(),
        "--raw",
        "-n",
        "x",
        "--name",
        "y",
        "-s",
        &mock.url,
    ])
    .stdin("v")
    .run()
    .ok();
    assert!(mock.seen().is_empty(), "{:?}", mock.paths());
}
