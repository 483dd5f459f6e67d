//! The API server's service-proxy path, as kubeseal uses it to reach the controller:
//! `GET /api/v1/namespaces/<ns>/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem`.
//! Our unsealer and the reference controller each listen on the cluster run's own service
//! address (`TEST_CLUSTER_SERVICE_IP`, see tests/cluster/service-net.sh), are wired as the
//! Service `sealed-secrets-controller` (tests/cluster/expose-service.sh), and must answer
//! `/v1/cert.pem` through the proxy, to a kube-rs client and to the reference
//! `kubeseal --fetch-cert`.
//!
//! Run: `tests/cluster/with-cluster.sh cargo test -p tests --test service_proxy` (the unsealer
//! binary must be built: `cargo build -p unsealer`, or `cargo test --workspace` does it).

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use kube::Client;
use tests::cluster::{self, BitnamiController, TestCluster, is_api_status, wait_for};

const SERVICE: &str = "sealed-secrets-controller";
const TIMEOUT: Duration = Duration::from_secs(90);

/// Our controller as a child process (killed on drop), keys and watch in `namespace`, its HTTP
/// API on `addr`.
struct Unsealer {
    child: tokio::process::Child,
    log_path: std::path::PathBuf,
}

impl Unsealer {
    async fn start(cluster: &TestCluster, namespace: &str, addr: SocketAddr) -> Result<Self> {
        let bin = cluster::workspace_binary("unsealer")?;
        let log_path = cluster
            .dir
            .join("logs")
            .join(format!("unsealer-{namespace}.log"));
        let log = std::fs::File::create(&log_path)?;
        let metrics_port = cluster::free_port()?;
        let child = tokio::process::Command::new(bin)
            .arg(format!("--kubeconfig={}", cluster.kubeconfig.display()))
            .arg(format!("--namespace={namespace}"))
            .arg("--all-namespaces=false")
            .arg(format!("--listen-addr={addr}"))
            .arg(format!("--listen-metrics-addr=127.0.0.1:{metrics_port}"))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting the unsealer")?;
        let mut me = Self { child, log_path };
        let url = format!("http://{addr}/v1/cert.pem");
        let ready = wait_for("the unsealer's /v1/cert.pem", TIMEOUT, || {
            let exited = me.child.try_wait().ok().flatten();
            let url = url.clone();
            async move {
                if let Some(status) = exited {
                    bail!("the unsealer exited early with {status}");
                }
                Ok(cluster::http_get(&url).await.ok().map(|_| ()))
            }
        })
        .await;
        if let Err(e) = ready {
            let log = std::fs::read_to_string(&me.log_path).unwrap_or_default();
            return Err(e.context(format!("unsealer log:\n{log}")));
        }
        Ok(me)
    }
}

/// The checks shared by both controllers: the certificate the controller serves at `direct`
/// (`http://addr/v1/cert.pem`) comes back identical through the service proxy, by port name
/// and by port number, and from `kubeseal --fetch-cert`. An empty port name is refused, as in a
/// real cluster, because the Service's port is named (`kubeseal` asks for the name it reads in
/// the Service's `spec.ports[0].name`).
async fn check_proxy_path(
    cluster: &TestCluster,
    client: &Client,
    ns: &str,
    direct: &str,
) -> Result<()> {
    let want = String::from_utf8(cluster::http_get(direct).await?)?;
    ensure!(
        want.starts_with("-----BEGIN CERTIFICATE-----"),
        "{direct} is not a PEM certificate: {want:?}"
    );

    // Right after the EndpointSlice is written the API server's informer may not have it yet
    // (503 "no endpoints available"): poll.
    for service in [
        format!("http:{SERVICE}:http"),
        format!("http:{SERVICE}:8080"),
    ] {
        let got = wait_for(&format!("{service} through the proxy"), TIMEOUT, || async {
            match cluster::service_proxy_get(client, ns, &service, "/v1/cert.pem").await {
                Ok(body) => Ok(Some(body)),
                Err(e) => Err(e),
            }
        })
        .await?;
        ensure!(
            got == want,
            "{service}: the proxy gave {got:?}, the controller {want:?}"
        );
    }

    let empty =
        cluster::service_proxy_get(client, ns, &format!("http:{SERVICE}:"), "/v1/cert.pem").await;
    match empty {
        Err(e)
            if e.downcast_ref::<kube::Error>()
                .is_some_and(|e| is_api_status(e, 503)) => {}
        other => {
            bail!("http:{SERVICE}: (no port name) should be 503 with a named port, got {other:?}")
        }
    }

    let kubeseal = cluster::find_binary("kubeseal")?;
    let out = tokio::process::Command::new(kubeseal)
        .args([
            "--fetch-cert",
            "--controller-namespace",
            ns,
            "--controller-name",
            SERVICE,
        ])
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .stdin(Stdio::null())
        .output()
        .await
        .context("running kubeseal --fetch-cert")?;
    ensure!(
        out.status.success(),
        "kubeseal --fetch-cert failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let fetched = String::from_utf8(out.stdout)?;
    ensure!(
        fetched == want,
        "kubeseal --fetch-cert printed {fetched:?}, the controller serves {want:?}"
    );
    Ok(())
}

#[tokio::test]
async fn unsealer_answers_through_the_service_proxy() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let ip = cluster.service_ip()?;
    // Without kube's retry layer: a 503 from the proxy is an answer here (see there).
    let client = cluster.admin_client_without_retry().await?;
    cluster::ensure_sealed_secret_crd(&client, TIMEOUT).await?;
    let ns = cluster::create_namespace(&client, "proxy-ours").await?;

    let addr = SocketAddr::new(ip, cluster::free_port_on(ip)?);
    let unsealer = Unsealer::start(&cluster, &ns, addr).await?;
    cluster::expose_service(&ns, SERVICE, "http", addr).await?;
    let res = check_proxy_path(
        &cluster,
        &client,
        &ns,
        &format!("http://{addr}/v1/cert.pem"),
    )
    .await;
    if res.is_err() {
        let log = std::fs::read_to_string(&unsealer.log_path).unwrap_or_default();
        eprintln!("unsealer log:\n{log}");
    }
    drop(unsealer);
    cluster::unexpose_service(&ns, SERVICE).await?;
    cluster::delete_namespace(&client, &ns).await;
    res
}

#[tokio::test]
async fn reference_controller_answers_through_the_service_proxy() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let ip = cluster.service_ip()?;
    // Without kube's retry layer: a 503 from the proxy is an answer here (see there).
    let client = cluster.admin_client_without_retry().await?;
    cluster::ensure_sealed_secret_crd(&client, TIMEOUT).await?;
    let ns = cluster::create_namespace(&client, "proxy-ref").await?;

    let ctl = BitnamiController::start_on(&ns, ip, &[]).await?;
    cluster::expose_service(&ns, SERVICE, "http", ctl.addr()).await?;
    let mut res = check_proxy_path(&cluster, &client, &ns, &ctl.url("/v1/cert.pem")).await;
    if res.is_ok() {
        res = unnamed_port(&client, &ns, &ctl).await;
    }
    ctl.stop().await?;
    cluster::unexpose_service(&ns, SERVICE).await?;
    cluster::delete_namespace(&client, &ns).await;
    res
}

/// With the Service's port unnamed, the empty port name (`http:NAME:`, what kubeseal then asks
/// for) reaches the controller.
async fn unnamed_port(client: &Client, ns: &str, ctl: &BitnamiController) -> Result<()> {
    cluster::expose_service(ns, SERVICE, "", ctl.addr()).await?;
    let want = String::from_utf8(cluster::http_get(&ctl.url("/v1/cert.pem")).await?)?;
    let service = format!("http:{SERVICE}:");
    let got = wait_for("http:NAME: through the proxy", TIMEOUT, || async {
        Ok(Some(
            cluster::service_proxy_get(client, ns, &service, "/v1/cert.pem").await?,
        ))
    })
    .await?;
    ensure!(
        got == want,
        "{service}: the proxy gave {got:?}, the controller {want:?}"
    );
    Ok(())
}
