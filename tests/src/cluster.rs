//! Helpers for tests that run against the real, throwaway Kubernetes control plane started by
//! `tests/cluster/with-cluster.sh` (etcd + kube-apiserver with RBAC + kube-controller-manager on
//! 127.0.0.1).
//!
//! Every cluster test starts with
//! ```ignore
//! let Some(cluster) = tests::cluster::TestCluster::from_env() else { return Ok(()) };
//! ```
//! which panics with a clear message when the test is run without the cluster, unless
//! `SKIP_CLUSTER_TESTS=1` is set, in which case it prints a line and the test returns early.
//!
//! Each test should work in its own namespace ([`create_namespace`]), because the tests of one
//! binary run in parallel against the same cluster.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

/// How to run the cluster tests; part of every "cluster missing" message.
pub const RUN_HINT: &str = "run them under the test cluster: \
     `tests/cluster/with-cluster.sh cargo test -p tests` \
     (or set SKIP_CLUSTER_TESTS=1 to skip them)";

/// The test cluster made by `with-cluster.sh`, as described by its environment variables.
#[derive(Debug, Clone)]
pub struct TestCluster {
    /// `TEST_CLUSTER_DIR`: the run dir (ca.crt, admin.crt/.key, admin.kubeconfig, server-url,
    /// logs/). Removed when with-cluster.sh exits.
    pub dir: PathBuf,
    /// `KUBECONFIG`: the admin kubeconfig (client cert in group system:masters).
    pub kubeconfig: PathBuf,
    /// The API server URL, `https://127.0.0.1:PORT`.
    pub server: String,
    /// PEM of the CA that signed the API server's serving certificate.
    pub ca_pem: String,
    /// `TEST_CLUSTER_SERVICE_IP`: an address of this cluster run's own (on an interface that
    /// with-cluster.sh makes and removes, see `tests/cluster/service-net.sh`), for servers that
    /// the API server's service proxy must reach ([`expose_service`]); `None` if it could not
    /// be made. See [`Self::service_ip`].
    pub service_ip: Option<IpAddr>,
}

impl TestCluster {
    /// The cluster from the environment. Returns `None` (after printing a line) when
    /// `SKIP_CLUSTER_TESTS=1`; panics with a message saying how to run the tests when the
    /// environment of with-cluster.sh is missing.
    ///
    /// Both `KUBECONFIG` and `TEST_CLUSTER_DIR` are required, so that a developer's own
    /// `KUBECONFIG` never points these tests (which create and delete objects) at a real cluster.
    #[track_caller]
    pub fn from_env() -> Option<Self> {
        if std::env::var("SKIP_CLUSTER_TESTS").is_ok_and(|v| v == "1") {
            // libtest names each test's thread after the test.
            let thread = std::thread::current();
            let test = thread.name().unwrap_or("a cluster test");
            // Written to the real stderr (not eprintln!, which libtest captures) so the skip
            // is visible in normal test output.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIP_CLUSTER_TESTS=1: skipping {test}");
            return None;
        }
        let (Some(kubeconfig), Some(dir)) = (
            std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()),
            std::env::var_os("TEST_CLUSTER_DIR").filter(|v| !v.is_empty()),
        ) else {
            panic!(
                "this test needs the real test cluster, but KUBECONFIG and/or TEST_CLUSTER_DIR \
                 are not set: {RUN_HINT}"
            );
        };
        let dir = PathBuf::from(dir);
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
                panic!(
                    "TEST_CLUSTER_DIR={} has no readable {name} ({e}); is the cluster from \
                     with-cluster.sh still running? {RUN_HINT}",
                    dir.display()
                )
            })
        };
        let server = read("server-url").trim().to_owned();
        let ca_pem = read("ca.crt");
        let service_ip = std::env::var("TEST_CLUSTER_SERVICE_IP")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse().unwrap_or_else(|e| {
                    panic!("TEST_CLUSTER_SERVICE_IP={v:?} is not an IP address: {e}")
                })
            });
        Some(Self {
            kubeconfig: PathBuf::from(kubeconfig),
            dir,
            server,
            ca_pem,
            service_ip,
        })
    }

    /// [`Self::service_ip`], or an error saying why there is none: the address a server must
    /// listen on to be reachable through the API server's service proxy (which refuses
    /// loopback endpoints).
    pub fn service_ip(&self) -> Result<IpAddr> {
        self.service_ip.ok_or_else(|| {
            anyhow!(
                "TEST_CLUSTER_SERVICE_IP is not set: with-cluster.sh could not make the service \
                 address (it needs root for a network namespace and a veth pair, and iproute2; \
                 see its log and tests/cluster/service-net.sh)"
            )
        })
    }

    /// A client authenticated as the cluster admin (system:masters).
    pub async fn admin_client(&self) -> Result<Client> {
        Ok(Client::try_from(self.admin_config().await?)?)
    }

    /// [`Self::admin_client`] without kube's default retry layer. That layer retries every 429,
    /// 503 and 504 answer 15 times with exponential backoff (5 ms doubling, capped at 1000 s):
    /// a service-proxy request to a Service without a ready endpoint (503 "no endpoints
    /// available") then takes about 6 minutes to fail. Use this client to see such answers.
    pub async fn admin_client_without_retry(&self) -> Result<Client> {
        let mut config = self.admin_config().await?;
        config.default_retry = false;
        Ok(Client::try_from(config)?)
    }

    async fn admin_config(&self) -> Result<Config> {
        install_crypto_provider();
        let kc = Kubeconfig::read_from(&self.kubeconfig)
            .with_context(|| format!("reading {}", self.kubeconfig.display()))?;
        Ok(Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?)
    }

    /// A kubeconfig (YAML text) for a bearer-token user of this cluster. The CA is referenced
    /// by path (`TEST_CLUSTER_DIR/ca.crt`), which lives exactly as long as the cluster.
    pub fn token_kubeconfig_yaml(&self, token: &str, namespace: &str) -> String {
        let doc = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "test", "cluster": {
                "server": self.server,
                "certificate-authority": self.dir.join("ca.crt")}}],
            "users": [{"name": "token-user", "user": {"token": token}}],
            "contexts": [{"name": "test", "context": {
                "cluster": "test", "user": "token-user", "namespace": namespace}}],
            "current-context": "test",
        });
        // JSON is YAML; kubectl, client-go and kube-rs all read it.
        doc.to_string()
    }

    /// Writes [`Self::token_kubeconfig_yaml`] to `TEST_CLUSTER_DIR/<file_name>` (mode 0600) and
    /// returns its path, e.g. for running a controller binary as a restricted user.
    pub fn write_token_kubeconfig(
        &self,
        file_name: &str,
        token: &str,
        namespace: &str,
    ) -> Result<PathBuf> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.dir.join(file_name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        f.write_all(self.token_kubeconfig_yaml(token, namespace).as_bytes())?;
        Ok(path)
    }

    /// A client that authenticates with a bearer token (e.g. a ServiceAccount token from
    /// [`service_account_token`]), verifying the API server against the cluster CA.
    pub async fn token_client(&self, token: &str, namespace: &str) -> Result<Client> {
        install_crypto_provider();
        let kc = Kubeconfig::from_yaml(&self.token_kubeconfig_yaml(token, namespace))?;
        let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?;
        Ok(Client::try_from(config)?)
    }
}

/// kube's rustls needs a process-wide crypto provider; install aws-lc-rs (the project's
/// crypto backend) once. Harmless if one is already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A name that is unique within this cluster run: `prefix-<pid>-<counter>-<time>`, cut to the
/// 63-character DNS label limit.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    let mut name = format!("{prefix}-{}-{n}-{t}", std::process::id());
    name.truncate(63);
    name.trim_end_matches('-').to_owned()
}

/// Creates a fresh namespace named after `prefix` and returns its name.
pub async fn create_namespace(client: &Client, prefix: &str) -> Result<String> {
    let name = unique_name(prefix);
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"sealed-secrets-test": "true"}}
    }))?;
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .with_context(|| format!("creating namespace {name}"))?;
    Ok(name)
}

/// Starts deleting a namespace (the namespace controller finishes it asynchronously).
/// Errors are ignored: this is cleanup, and the whole cluster is thrown away afterwards.
pub async fn delete_namespace(client: &Client, name: &str) {
    let _ = Api::<Namespace>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await;
}

/// Creates ServiceAccount `namespace/name`.
pub async fn create_service_account(client: &Client, namespace: &str, name: &str) -> Result<()> {
    let sa: ServiceAccount =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))?;
    Api::<ServiceAccount>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &sa)
        .await
        .with_context(|| format!("creating ServiceAccount {namespace}/{name}"))?;
    Ok(())
}

/// A token for ServiceAccount `namespace/name` from the TokenRequest API (what
/// `kubectl create token` does), valid for `ttl`.
pub async fn service_account_token(
    client: &Client,
    namespace: &str,
    name: &str,
    ttl: Duration,
) -> Result<String> {
    // Empty audiences: the API server's default audience (its issuer).
    let req: TokenRequest = serde_json::from_value(serde_json::json!({
        "spec": {"audiences": [], "expirationSeconds": ttl.as_secs()}
    }))?;
    let resp: TokenRequest = Api::<ServiceAccount>::namespaced(client.clone(), namespace)
        .create_subresource("token", name, &PostParams::default(), &req)
        .await
        .with_context(|| format!("TokenRequest for ServiceAccount {namespace}/{name}"))?;
    resp.status
        .and_then(|s| s.token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| anyhow!("TokenRequest for {namespace}/{name} returned no token"))
}

/// Polls `check` every 200 ms until it returns `Ok(Some(value))`, and returns that value.
/// `Ok(None)` means "not yet"; an `Err` is remembered and reported if time runs out.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last_err = None;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if start.elapsed() >= timeout {
            return Err(match last_err {
                Some(e) => e.context(format!("timed out after {timeout:?} waiting for {what}")),
                None => anyhow!("timed out after {timeout:?} waiting for {what}"),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// True if `err` is an API error with HTTP status `code` (e.g. 403, 404, 409).
pub fn is_api_status(err: &kube::Error, code: u16) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == code)
}

/// The directory of the binaries built by build-binaries.sh (`K8S_TEST_BIN`, set by
/// with-cluster.sh), if known.
pub fn bin_dir() -> Option<PathBuf> {
    std::env::var_os("K8S_TEST_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Finds a test binary (`kubectl`, `kubeseal`, `sealed-secrets-controller`, `etcd`, ...): first
/// in `K8S_TEST_BIN`, then on `PATH`.
pub fn find_binary(name: &str) -> Result<PathBuf> {
    let candidates = bin_dir().into_iter().chain(
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    for dir in candidates {
        let p = dir.join(name);
        if is_executable(&p) {
            return Ok(p);
        }
    }
    bail!(
        "{name} not found in K8S_TEST_BIN or PATH; it is built by tests/cluster/build-binaries.sh \
         and put on PATH by tests/cluster/with-cluster.sh"
    )
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Path of a script in `tests/cluster/`.
pub fn cluster_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("cluster")
        .join(name)
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> Result<u16> {
    free_port_on(IpAddr::from([127, 0, 0, 1]))
}

/// A free TCP port on `ip` (bound, read, released), e.g. on [`TestCluster::service_ip`].
pub fn free_port_on(ip: IpAddr) -> Result<u16> {
    let l = std::net::TcpListener::bind((ip, 0)).with_context(|| format!("binding {ip}:0"))?;
    Ok(l.local_addr()?.port())
}

/// A binary of this workspace (`unsealer`, `seal`), for tests outside its own package (which
/// cannot use `CARGO_BIN_EXE_*`): `$<NAME>_BIN` (upper case, `-` as `_`) if set, else the one
/// next to this test binary's `deps/` directory, i.e. `target/<profile>/<name>`, which
/// `cargo test --workspace` builds. Fails with a hint otherwise.
pub fn workspace_binary(name: &str) -> Result<PathBuf> {
    let var = format!("{}_BIN", name.to_uppercase().replace('-', "_"));
    if let Some(p) = std::env::var_os(&var).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("locating the test binary")?;
    let candidate = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join(name))
        .filter(|p| is_executable(p));
    candidate.ok_or_else(|| {
        anyhow!(
            "{name} is not built next to {} (run `cargo build -p {} --bin {name}` first, or set \
             {var})",
            exe.display(),
            if name == "seal" { "seal-cli" } else { name }
        )
    })
}

/// Makes a server listening on `target` (an address on [`TestCluster::service_ip`]) reachable
/// through the API server's service proxy as Service `namespace/name`, with one port 8080 named
/// `port_name` (the reference's Service: `"http"`), as kubeseal reaches the controller:
/// `/api/v1/namespaces/<namespace>/services/http:<name>:<port_name>/proxy/...`. Runs
/// `tests/cluster/expose-service.sh`, which makes the selector-less Service, its EndpointSlice
/// and the placeholder Pod the proxy insists on (see there). Idempotent.
pub async fn expose_service(
    namespace: &str,
    name: &str,
    port_name: &str,
    target: SocketAddr,
) -> Result<()> {
    run_expose_script(&[
        "--namespace",
        namespace,
        "--name",
        name,
        "--port-name",
        port_name,
        &target.to_string(),
    ])
    .await
}

/// Removes what [`expose_service`] made (`expose-service.sh --delete`).
pub async fn unexpose_service(namespace: &str, name: &str) -> Result<()> {
    run_expose_script(&["--namespace", namespace, "--name", name, "--delete"]).await
}

async fn run_expose_script(args: &[&str]) -> Result<()> {
    let out = tokio::process::Command::new(cluster_script("expose-service.sh"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .context("running tests/cluster/expose-service.sh")?;
    if !out.status.success() {
        bail!(
            "expose-service.sh {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// GET `path` (e.g. `/v1/cert.pem`) from Service `namespace/<service>` through the API server's
/// service proxy, with `client`'s credentials: `service` is the proxy's `[scheme:]name[:port]`,
/// e.g. `http:sealed-secrets-controller:http` (what kubeseal requests). Non-2xx answers are
/// errors ([`kube::Error::Api`] with the status code); a 503 surfaces quickly only with
/// [`TestCluster::admin_client_without_retry`].
pub async fn service_proxy_get(
    client: &Client,
    namespace: &str,
    service: &str,
    path: &str,
) -> Result<String> {
    let path = path.trim_start_matches('/');
    let req = kube::core::Request::new(format!("/api/v1/namespaces/{namespace}/services"))
        .get_subresource(&format!("proxy/{path}"), service)?;
    let uri = req.uri().to_string();
    client
        .request_text(req)
        .await
        .with_context(|| format!("GET {uri}"))
}

/// The reference Bitnami sealed-secrets controller (v0.36.6), running as a local process against
/// the test cluster via `tests/cluster/run-bitnami-controller.sh`. Killed (by PID) on drop.
pub struct BitnamiController {
    child: tokio::process::Child,
    /// Namespace holding its sealing keys (and the only namespace it watches unless started
    /// with `--all-namespaces=true`).
    pub namespace: String,
    /// The address of its HTTP API: 127.0.0.1, or [`TestCluster::service_ip`]
    /// ([`Self::start_on`]).
    pub host: IpAddr,
    /// Its HTTP port on [`Self::host`] (`/healthz`, `/v1/cert.pem`, `/v1/verify`, `/v1/rotate`).
    pub port: u16,
}

impl BitnamiController {
    /// Starts the controller with keys in `namespace` (which must exist), plus `extra_args`.
    /// It watches only `namespace` by default (`--all-namespaces=false`) so that parallel tests
    /// don't see each other's controllers; pass `--all-namespaces=true` to change that.
    /// Output goes to `TEST_CLUSTER_DIR/logs/bitnami-<namespace>.log`.
    pub async fn start(namespace: &str, extra_args: &[&str]) -> Result<Self> {
        Self::start_on(namespace, IpAddr::from([127, 0, 0, 1]), extra_args).await
    }

    /// As [`Self::start`], with the HTTP API on `host` instead of 127.0.0.1: pass
    /// [`TestCluster::service_ip`] to reach it through the API server's service proxy (then
    /// wire the Service with [`expose_service`]). Metrics stay on 127.0.0.1.
    pub async fn start_on(namespace: &str, host: IpAddr, extra_args: &[&str]) -> Result<Self> {
        let cluster = TestCluster::from_env().ok_or_else(|| anyhow!("no test cluster"))?;
        let port = free_port_on(host)?;
        let metrics_port = free_port()?;
        let log_path = cluster
            .dir
            .join("logs")
            .join(format!("bitnami-{namespace}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut args = vec!["--all-namespaces=false"];
        args.extend_from_slice(extra_args);
        let child = tokio::process::Command::new(cluster_script("run-bitnami-controller.sh"))
            .args(&args)
            .env("BITNAMI_NAMESPACE", namespace)
            .env("BITNAMI_LISTEN_HOST", host.to_string())
            .env("BITNAMI_LISTEN_PORT", port.to_string())
            .env("BITNAMI_METRICS_PORT", metrics_port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting run-bitnami-controller.sh")?;
        let mut ctl = Self {
            child,
            namespace: namespace.to_owned(),
            host,
            port,
        };
        let url = ctl.url("/healthz");
        let res = wait_for(
            "the Bitnami controller's /healthz",
            Duration::from_secs(60),
            || {
                let url = url.clone();
                let exited = ctl.child.try_wait().ok().flatten();
                async move {
                    if let Some(status) = exited {
                        bail!("run-bitnami-controller.sh exited early with {status}");
                    }
                    Ok(http_get(&url).await.ok().map(|_| ()))
                }
            },
        )
        .await;
        if let Err(e) = res {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(e.context(format!("Bitnami controller log:\n{log}")));
        }
        Ok(ctl)
    }

    /// `http://HOST:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    /// `HOST:PORT` of its HTTP API.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// Its PID (the script execs the controller, so this is the controller's PID).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the controller (SIGKILL by PID) and waits for it.
    pub async fn stop(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// GET over plain HTTP with curl (the Bitnami controller's endpoints are plain HTTP on
/// loopback; curl avoids another HTTP client dependency). Returns the body on 2xx.
pub async fn http_get(url: &str) -> Result<Vec<u8>> {
    let out = tokio::process::Command::new("curl")
        .args(["-sSf", "--max-time", "10", url])
        .stdin(Stdio::null())
        .output()
        .await
        .context("running curl")?;
    if !out.status.success() {
        bail!("GET {url}: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(out.stdout)
}

/// Waits until the CustomResourceDefinition `name` is Established (its API is served).
pub async fn wait_crd_established(client: &Client, name: &str, timeout: Duration) -> Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    wait_for(
        &format!("the CRD {name} to be Established"),
        timeout,
        || async {
            let crd = api.get(name).await?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            Ok(established.then_some(()))
        },
    )
    .await
}

/// Installs our CRD (`manifests/crd.yaml`) unless a `sealedsecrets.bitnami.com` CRD exists
/// (the reference's serves the same API), and waits until it is established.
pub async fn ensure_sealed_secret_crd(client: &Client, timeout: Duration) -> Result<()> {
    const CRD: &str = "sealedsecrets.bitnami.com";
    let api: kube::Api<CustomResourceDefinition> = kube::Api::all(client.clone());
    if api.get_opt(CRD).await?.is_none() {
        let crd: CustomResourceDefinition =
            serde_saphyr::from_str(include_str!("../../manifests/crd.yaml"))?;
        match api.create(&PostParams::default(), &crd).await {
            Ok(_) => {}
            Err(e) if is_api_status(&e, 409) => {}
            Err(e) => return Err(e).context("creating the SealedSecret CRD"),
        }
    }
    wait_crd_established(client, CRD, timeout).await
}
