//! `seal` against the real API server of `tests/cluster/with-cluster.sh`, as kubeseal is used:
//! `seal < secret.yaml > sealed.yaml`, `--fetch-cert`, `--validate` and `--re-encrypt` through
//! the API server's service proxy, to our unsealer and to the reference controller (each on
//! the run's own service address, `TEST_CLUSTER_SERVICE_IP`, wired as the Service
//! `sealed-secrets-controller` by `tests/cluster/expose-service.sh`); the sealed output is
//! applied and each controller must turn it into the Secret. Then the failures a user meets:
//! a user without `services/proxy`, a missing Service, a wrong `--controller-namespace`, and
//! the client-go connection flags against the real TLS and authentication.
//!
//! Run: `tests/cluster/with-cluster.sh cargo test --workspace` (our unsealer's binary must be
//! built: `--workspace` does it, or `cargo build -p unsealer`). Without the cluster the tests
//! fail saying how to run them, unless SKIP_CLUSTER_TESTS=1.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use k8s_openapi::api::core::v1::{Secret, Service};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use kube::{Client, ResourceExt as _};
use tests::cluster::{self, BitnamiController, TestCluster, wait_for};

use common::*;

const SERVICE: &str = "sealed-secrets-controller";
const TIMEOUT: Duration = Duration::from_secs(90);

/// `seal` with the admin kubeconfig of the test cluster.
fn seal_in(cluster: &TestCluster, args: &[&str]) -> Run {
    seal(args).env("KUBECONFIG", &cluster.kubeconfig)
}

/// Our unsealer as a child process (killed on drop): keys and watch in `namespace`, its HTTP
/// API on `addr`.
struct Unsealer {
    _child: tokio::process::Child,
    log_path: PathBuf,
}

impl Unsealer {
    async fn start(
        cluster: &TestCluster,
        namespace: &str,
        addr: SocketAddr,
        extra: &[&str],
    ) -> Result<Unsealer> {
        let bin = cluster::workspace_binary("unsealer")?;
        let log_path = cluster
            .dir
            .join("logs")
            .join(format!("unsealer-seal-cli-{namespace}.log"));
        let log = std::fs::File::create(&log_path)?;
        let metrics_port = cluster::free_port()?;
        let mut child = tokio::process::Command::new(bin)
            .arg(format!("--kubeconfig={}", cluster.kubeconfig.display()))
            .arg(format!("--namespace={namespace}"))
            .arg("--all-namespaces=false")
            .arg(format!("--listen-addr={addr}"))
            .arg(format!("--listen-metrics-addr=127.0.0.1:{metrics_port}"))
            .arg("--key-size=2048")
            .arg("--key-renew-period=0")
            // The tests call /v1/verify and /v1/rotate back to back.
            .arg("--rate-limit=1000")
            .arg("--rate-limit-burst=1000")
            .args(extra)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting the unsealer")?;
        let url = format!("http://{addr}/v1/cert.pem");
        let ready = wait_for("the unsealer's /v1/cert.pem", TIMEOUT, || {
            let exited = child.try_wait().ok().flatten();
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
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(e.context(format!("unsealer log:\n{log}")));
        }
        Ok(Unsealer {
            _child: child,
            log_path,
        })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

/// Waits until `seal --fetch-cert` gets the certificate through the proxy (the API server
/// learns a new EndpointSlice from an informer, so the first requests may get 503) and
/// returns it.
async fn wait_for_proxy(cluster: &TestCluster, ns: &str) -> Result<String> {
    wait_for(
        "seal --fetch-cert through the service proxy",
        TIMEOUT,
        || {
            let out = seal_in(cluster, &["--fetch-cert", "--controller-namespace", ns]).run();
            async move {
                if out.code() == Some(0) {
                    return Ok(Some(out.stdout()));
                }
                let err = out.stderr();
                if err.contains("503") || err.contains("502") {
                    return Ok(None);
                }
                bail!("seal --fetch-cert: {err}")
            }
        },
    )
    .await
}

/// A Secret with a distinctive value, in `ns`.
fn input_secret(ns: &str, name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: web\ntype: Opaque\nstringData:\n  password: {value}\n"
    )
}

/// Applies a SealedSecret (YAML or JSON, as seal printed it) and waits for its Secret to hold
/// `value` under `password`.
async fn apply_and_wait(client: &Client, ns: &str, sealed: &str, value: &str) -> Result<()> {
    let obj: DynamicObject = serde_saphyr::from_str(sealed.trim_start_matches("---\n"))
        .context("parsing seal's output")?;
    let ar = ApiResource {
        group: "bitnami.com".into(),
        version: "v1alpha1".into(),
        api_version: "bitnami.com/v1alpha1".into(),
        kind: "SealedSecret".into(),
        plural: "sealedsecrets".into(),
    };
    let name = obj.name_any();
    Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar)
        .create(&PostParams::default(), &obj)
        .await
        .context("creating the SealedSecret")?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    wait_for(&format!("Secret {ns}/{name}"), TIMEOUT, || async {
        let Some(s) = secrets.get_opt(&name).await? else {
            return Ok(None);
        };
        let got = s
            .data
            .as_ref()
            .and_then(|d| d.get("password"))
            .map(|v| v.0.clone());
        Ok((got.as_deref() == Some(value.as_bytes())).then_some(()))
    })
    .await
}

/// The vectors' sealing key Secret, in `ns` (so a controller there knows the vectors' key).
async fn load_vector_key(client: &Client, ns: &str) -> Result<()> {
    let text = std::fs::read_to_string(vector("sealing-key-secret.yaml"))?;
    let mut key: Secret = serde_saphyr::from_str(text.trim_start_matches("---\n"))?;
    key.metadata.namespace = Some(ns.to_owned());
    key.metadata.generate_name = None;
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &key)
        .await
        .context("creating the vectors' key Secret")?;
    Ok(())
}

fn vector_text(name: &str) -> String {
    std::fs::read_to_string(vector(name)).unwrap()
}

/// The whole kubeseal workflow against our unsealer: the certificate, sealing by default,
/// the controller unsealing what seal sealed, --validate, and --re-encrypt of a SealedSecret
/// sealed with an older key (the vectors' one) to the newest, in place.
#[tokio::test]
async fn kubeseal_workflow_with_our_unsealer() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let ip = cluster.service_ip()?;
    let client = cluster.admin_client().await?;
    cluster::ensure_sealed_secret_crd(&client, TIMEOUT).await?;
    let ns = cluster::create_namespace(&client, "seal-ours").await?;
    // The vectors' key first, then a cutoff time that makes the unsealer add a newer one.
    load_vector_key(&client, &ns).await?;
    let cutoff = rfc1123z(time::OffsetDateTime::now_utc());
    let addr = SocketAddr::new(ip, cluster::free_port_on(ip)?);
    let unsealer = Unsealer::start(
        &cluster,
        &ns,
        addr,
        &[&format!("--key-cutoff-time={cutoff}")],
    )
    .await?;
    cluster::expose_service(&ns, SERVICE, "http", addr).await?;

    let res = async {
        let served =
            String::from_utf8(cluster::http_get(&format!("http://{addr}/v1/cert.pem")).await?)?;
        let fetched = wait_for_proxy(&cluster, &ns).await?;
        ensure!(
            fetched == served,
            "--fetch-cert gave {fetched:?}, the unsealer serves {served:?}"
        );
        ensure!(
            fetched != vector_text("sealing-cert.pem"),
            "the unsealer should seal with its new key, not the vectors'"
        );

        // seal < secret.yaml > sealed.yaml, and the controller unseals it.
        let value = format!("s3cret-{}", std::process::id());
        let sealed = seal_in(&cluster, &["--controller-namespace", &ns, "-o", "yaml"])
            .stdin(input_secret(&ns, "web", &value))
            .run()
            .ok();
        apply_and_wait(&client, &ns, &sealed, &value).await?;

        // seal keys: the vectors' key and the unsealer's (the newest, which sealed "web");
        // once the leader has counted, "web" needs the newest and nothing needs the old one.
        let newest = shared::Certificate::from_pem(fetched.as_bytes())?
            .public_key()
            .fingerprint();
        let listed = wait_for("seal keys with the counts", TIMEOUT, || async {
            let out = seal_in(
                &cluster,
                &["keys", "-o", "json", "--controller-namespace", &ns],
            )
            .run();
            ensure!(out.code() == Some(0), "seal keys: {}", out.stderr());
            let keys: Vec<serde_json::Value> = serde_json::from_str(&out.stdout())?;
            Ok(keys.iter().all(|k| !k["objects"].is_null()).then_some(keys))
        })
        .await?;
        ensure!(listed.len() == 2, "{listed:?}");
        let (first, second) = (&listed[0], &listed[1]);
        ensure!(
            first["fingerprint"] == newest.as_str() && first["newest"] == true,
            "{first}"
        );
        ensure!(
            first["objects"] == 1 && second["objects"] == 0,
            "{listed:?}"
        );
        ensure!(
            second["state"] == "active" && second["newest"] == false,
            "{second}"
        );
        let table = seal_in(&cluster, &["keys", "--controller-namespace", &ns])
            .run()
            .ok();
        ensure!(
            table.starts_with("FINGERPRINT") && table.contains(&newest),
            "{table}"
        );

        // --validate: what seal sealed, and the vectors' (an older key it also has), pass;
        // a SealedSecret for a key it lacks does not.
        let validate = |input: String| {
            seal_in(&cluster, &["--validate", "--controller-namespace", &ns])
                .stdin(input)
                .run()
        };
        ensure!(validate(sealed.clone()).ok().is_empty());
        validate(vector_text("sealedsecret-strict-default-db-creds.yaml")).ok();
        let other_key = seal_with_a_foreign_key(&ns);
        let line = validate(other_key).fails_with(&[]);
        ensure!(
            line == "error: unable to decrypt sealed secret: foreign\n",
            "{line:?}"
        );

        // --re-encrypt -f FILE, no -w: rewritten in place with the newest key.
        let dir = TempDir::new("reencrypt-ours");
        let file = dir.write(
            "db-creds.yaml",
            vector_text("sealedsecret-strict-default-db-creds.yaml"),
        );
        let before = std::fs::read_to_string(&file)?;
        seal_in(
            &cluster,
            &[
                "--re-encrypt",
                "--controller-namespace",
                &ns,
                "-f",
                file.to_str().unwrap(),
            ],
        )
        .run()
        .ok();
        let after = std::fs::read_to_string(&file)?;
        ensure!(after != before, "the file was not rewritten");
        ensure!(
            after.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
            "{after}"
        );
        ensure!(
            dir.files() == ["db-creds.yaml"],
            "a temporary file was left behind"
        );
        // The vectors' key no longer opens it; the controller still does.
        seal(&["--recovery-unseal", "--recovery-private-key", &key()])
            .stdin(&after)
            .run()
            .fails_with(&[]);
        validate(after.clone()).ok();

        // The reference kubeseal's --re-encrypt against our controller (its /v1/rotate): the
        // vectors' SealedSecret comes back under the newest key, and one already under it comes
        // back with every ciphertext unchanged (no Git churn).
        let kubeseal = cluster::find_binary("kubeseal")?;
        let kubeseal_rotate = |input: &str| -> Result<serde_json::Value> {
            let out = run_kubeseal(
                &kubeseal,
                &cluster,
                &["--re-encrypt", "--controller-namespace", &ns, "-o", "json"],
                input,
            )?;
            ensure!(out.status.success(), "kubeseal --re-encrypt: {out:?}");
            Ok(serde_json::from_slice(&out.stdout)?)
        };
        let encrypted = |doc: &serde_json::Value| doc["spec"]["encryptedData"].clone();
        let vectors = vector_text("sealedsecret-strict-default-db-creds.yaml");
        let theirs = kubeseal_rotate(&vectors)?;
        let original: serde_json::Value = serde_saphyr::from_str(&vectors)?;
        ensure!(
            theirs["metadata"]["name"] == original["metadata"]["name"],
            "{theirs}"
        );
        let (old_items, new_items) = (encrypted(&original), encrypted(&theirs));
        ensure!(
            new_items.as_object().map(|m| m.len()) == old_items.as_object().map(|m| m.len()),
            "kubeseal --re-encrypt changed the items: {theirs}"
        );
        for (item, value) in new_items.as_object().into_iter().flatten() {
            ensure!(value != &old_items[item], "{item} was not re-encrypted");
        }
        let theirs_text = serde_json::to_string(&theirs)?;
        seal(&["--recovery-unseal", "--recovery-private-key", &key()])
            .stdin(&theirs_text)
            .run()
            .fails_with(&[]);
        validate(theirs_text).ok();
        let ours_after: serde_json::Value = serde_saphyr::from_str(&after)?;
        let again = kubeseal_rotate(&after)?;
        ensure!(
            encrypted(&again) == encrypted(&ours_after),
            "kubeseal --re-encrypt of a current SealedSecret changed its ciphertexts"
        );

        // `seal re-encrypt DIR` through the controller: the vectors' object (the older key)
        // changes in place beside a ConfigMap; the current one and the ConfigMap stay; a
        // second run writes nothing.
        let repo = TempDir::new("reencrypt-repo");
        let config_map = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
        let mixed = format!(
            "{}{config_map}{after}",
            vector_text("sealedsecret-strict-default-db-creds.yaml")
        );
        let file = repo.write("apps.yaml", &mixed);
        let repo_dir = repo.path().display().to_string();
        let first = seal_in(
            &cluster,
            &["re-encrypt", "--controller-namespace", &ns, &repo_dir],
        )
        .run();
        ensure!(
            first.code() == Some(0),
            "seal re-encrypt: {}",
            first.stderr()
        );
        ensure!(
            first
                .stderr()
                .contains("re-encrypted 3 items of 1 SealedSecrets in 1 files (2 SealedSecrets"),
            "{}",
            first.stderr()
        );
        let rewritten = std::fs::read_to_string(&file)?;
        ensure!(
            rewritten.contains(config_map) && rewritten.ends_with(&after),
            "{rewritten}"
        );
        let second = seal_in(
            &cluster,
            &["re-encrypt", "--controller-namespace", &ns, &repo_dir],
        )
        .run();
        ensure!(
            second
                .stderr()
                .contains("re-encrypted 0 items of 0 SealedSecrets in 0 files"),
            "{}",
            second.stderr()
        );
        ensure!(std::fs::read_to_string(&file)? == rewritten);

        // And a failure leaves the file exactly as it was.
        let bad = dir.write("foreign.yaml", seal_with_a_foreign_key(&ns));
        let bad_before = std::fs::read_to_string(&bad)?;
        seal_in(
            &cluster,
            &[
                "--re-encrypt",
                "--controller-namespace",
                &ns,
                "-f",
                bad.to_str().unwrap(),
            ],
        )
        .run()
        .fails_with(&["unable to re-encrypt sealed secret \"foreign\""]);
        ensure!(
            std::fs::read_to_string(&bad)? == bad_before,
            "the failed file changed"
        );
        Ok(())
    }
    .await;
    if res.is_err() {
        eprintln!("unsealer log:\n{}", unsealer.log());
    }
    drop(unsealer);
    cluster::unexpose_service(&ns, SERVICE).await?;
    cluster::delete_namespace(&client, &ns).await;
    res
}

/// `Mon, 02 Jan 2006 15:04:05 +0000`, the unsealer's --key-cutoff-time syntax.
fn rfc1123z(t: time::OffsetDateTime) -> String {
    let day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        [t.weekday().number_days_from_monday() as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][t.month() as usize - 1];
    format!(
        "{day}, {:02} {month} {} {:02}:{:02}:{:02} +0000",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A SealedSecret named `foreign` in `ns`, sealed offline for a fresh key no controller has.
fn seal_with_a_foreign_key(ns: &str) -> String {
    let dir = TempDir::new("foreign-key");
    let key = shared::keys::generate(
        shared::keys::KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        Duration::from_secs(86_400),
        "",
        rand::random(),
    )
    .unwrap();
    let cert = dir.write("cert.pem", &key.cert_pem);
    seal(&["--cert", cert.to_str().unwrap(), "-o", "yaml"])
        .stdin(input_secret(ns, "foreign", "x"))
        .run()
        .ok()
}

/// The same workflow against the reference controller v0.36.6: seal talks to it as kubeseal
/// does, and it unseals what seal sealed. The reference kubeseal agrees on --validate.
#[tokio::test]
async fn kubeseal_workflow_with_the_reference_controller() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let ip = cluster.service_ip()?;
    let client = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&client, "seal-ref").await?;
    let ctl =
        BitnamiController::start_on(&ns, ip, &["--rate-limit=1000", "--rate-limit-burst=1000"])
            .await?;
    cluster::expose_service(&ns, SERVICE, "http", ctl.addr()).await?;

    let res = async {
        cluster::ensure_sealed_secret_crd(&client, TIMEOUT).await?;
        let served = String::from_utf8(cluster::http_get(&ctl.url("/v1/cert.pem")).await?)?;
        let fetched = wait_for_proxy(&cluster, &ns).await?;
        ensure!(
            fetched == served,
            "--fetch-cert gave {fetched:?}, the controller serves {served:?}"
        );

        let value = format!("ref-s3cret-{}", std::process::id());
        let sealed = seal_in(&cluster, &["--controller-namespace", &ns])
            .stdin(input_secret(&ns, "web", &value))
            .run()
            .ok();
        apply_and_wait(&client, &ns, &sealed, &value).await?;

        let kubeseal = cluster::find_binary("kubeseal")?;
        for (input, ok) in [
            (sealed.clone(), true),
            (seal_with_a_foreign_key(&ns), false),
        ] {
            let ours = seal_in(&cluster, &["--validate", "--controller-namespace", &ns])
                .stdin(&input)
                .run();
            let theirs = run_kubeseal(
                &kubeseal,
                &cluster,
                &["--validate", "--controller-namespace", &ns],
                &input,
            )?;
            ensure!(
                theirs.status.success() == ok,
                "kubeseal --validate: {theirs:?}"
            );
            if ok {
                ours.ok();
            } else {
                let line = ours.fails_with(&[]);
                ensure!(
                    line == "error: unable to decrypt sealed secret: foreign\n",
                    "{line:?}"
                );
                ensure!(
                    String::from_utf8_lossy(&theirs.stderr) == line,
                    "kubeseal says {:?}, seal {line:?}",
                    String::from_utf8_lossy(&theirs.stderr)
                );
            }
        }

        // --re-encrypt: the reference re-seals what it can open (with its one key, to
        // equivalent values), and answers 500 to what it cannot.
        let rotated = seal_in(
            &cluster,
            &["--re-encrypt", "--controller-namespace", &ns, "-o", "yaml"],
        )
        .stdin(&sealed)
        .run()
        .ok();
        ensure!(
            rotated.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
            "{rotated}"
        );
        seal_in(&cluster, &["--validate", "--controller-namespace", &ns])
            .stdin(&rotated)
            .run()
            .ok();
        seal_in(&cluster, &["--re-encrypt", "--controller-namespace", &ns])
            .stdin(seal_with_a_foreign_key(&ns))
            .run()
            .fails_with(&[
                "cannot re-encrypt sealed secret \"foreign\": POST ",
                "500 Internal Server Error",
            ]);
        Ok(())
    }
    .await;
    ctl.stop().await?;
    cluster::unexpose_service(&ns, SERVICE).await?;
    cluster::delete_namespace(&client, &ns).await;
    res
}

fn run_kubeseal(
    bin: &Path,
    cluster: &TestCluster,
    args: &[&str],
    stdin: &str,
) -> Result<std::process::Output> {
    use std::io::Write as _;
    let mut child = std::process::Command::new(bin)
        .args(args)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().unwrap().write_all(stdin.as_bytes())?;
    Ok(child.wait_with_output()?)
}

/// A Service named `sealed-secrets-controller` in `ns` with one port named `http`, and no
/// endpoints: enough for the requests that fail before the proxy dials anything.
async fn plain_service(client: &Client, ns: &str) -> Result<()> {
    let svc: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": SERVICE},
        "spec": {"ports": [{"name": "http", "port": 8080}]}
    }))?;
    Api::<Service>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &svc)
        .await?;
    Ok(())
}

/// A ServiceAccount allowed `rules` in `ns`, and a kubeconfig for it.
async fn restricted_user(
    cluster: &TestCluster,
    client: &Client,
    ns: &str,
    name: &str,
    rules: serde_json::Value,
) -> Result<PathBuf> {
    cluster::create_service_account(client, ns, name).await?;
    let role: Role = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name}, "rules": rules
    }))?;
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &role)
        .await?;
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]
    }))?;
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &binding)
        .await?;
    let token = cluster::service_account_token(client, ns, name, Duration::from_secs(3600)).await?;
    cluster.write_token_kubeconfig(&format!("seal-{ns}-{name}.kubeconfig"), &token, ns)
}

/// Each missing permission is named: `get services`, `get services/proxy` (fetching the
/// certificate), `create services/proxy` (--validate, --re-encrypt).
#[tokio::test]
async fn forbidden_names_the_missing_permission() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let client = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&client, "seal-rbac").await?;
    plain_service(&client, &ns).await?;
    let user = |sa: &str| format!("User \"system:serviceaccount:{ns}:{sa}\"");

    let res = async {
        let nothing = restricted_user(&cluster, &client, &ns, "nothing", serde_json::json!([])).await?;
        let services_only = restricted_user(&cluster, &client, &ns, "services-only", serde_json::json!([
            {"apiGroups": [""], "resources": ["services"], "verbs": ["get"]}
        ])).await?;
        let read_proxy = restricted_user(&cluster, &client, &ns, "read-proxy", serde_json::json!([
            {"apiGroups": [""], "resources": ["services"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["services/proxy"], "verbs": ["get"]}
        ])).await?;
        let as_user = |kubeconfig: &Path, args: &[&str], stdin: &str| {
            let mut all = args.to_vec();
            all.extend(["--controller-namespace", &ns]);
            seal(&all).env("KUBECONFIG", kubeconfig).stdin(stdin).run()
        };
        // The RBAC authorizer learns new bindings from an informer: wait until the error
        // moves past the Service.
        let expected_proxy = format!(
            "error: cannot fetch certificate: forbidden: {} cannot get services/proxy \"http:{SERVICE}:http\" in namespace {ns}\n",
            user("services-only")
        );
        let line = wait_for("the Role to apply", TIMEOUT, || {
            let out = as_user(&services_only, &["--fetch-cert"], "");
            async move {
                let line = out.fails_with(&[]);
                Ok((!line.contains("cannot get services ")).then_some(line))
            }
        })
        .await?;
        ensure!(line == expected_proxy, "{line:?}");

        let line = as_user(&nothing, &["--fetch-cert"], "").fails_with(&[]);
        ensure!(
            line == format!(
                "error: cannot get sealed secret service: forbidden: {} cannot get services \"{SERVICE}\" in namespace {ns}\n",
                user("nothing")
            ),
            "{line:?}"
        );
        // Plain sealing needs the same two permissions as --fetch-cert.
        let line = as_user(&services_only, &[], &input_secret(&ns, "s", "v")).fails_with(&[]);
        ensure!(line == expected_proxy, "{line:?}");

        let sealed = vector_text("sealedsecret-strict-default-db-creds.yaml");
        let line = wait_for("the second Role to apply", TIMEOUT, || {
            let out = as_user(&read_proxy, &["--validate"], &sealed);
            async move {
                let line = out.fails_with(&[]);
                Ok((!line.contains("cannot get services ")).then_some(line))
            }
        })
        .await?;
        ensure!(
            line == format!(
                "error: cannot validate sealed secret \"db-creds\": forbidden: {} cannot create services/proxy \"http:{SERVICE}:http\" in namespace {ns}\n",
                user("read-proxy")
            ),
            "{line:?}"
        );
        let line = as_user(&read_proxy, &["--re-encrypt"], &sealed).fails_with(&[]);
        ensure!(line.starts_with("error: cannot re-encrypt sealed secret \"db-creds\": forbidden: "), "{line:?}");
        ensure!(line.contains("cannot create services/proxy"), "{line:?}");
        Ok(())
    }
    .await;
    cluster::delete_namespace(&client, &ns).await;
    res
}

/// A missing Service, a wrong --controller-name or --controller-namespace (existing or not):
/// the line names both flags.
#[tokio::test]
async fn missing_service_and_wrong_controller_flags() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let client = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&client, "seal-nosvc").await?;
    let missing = |name: &str, namespace: &str| {
        format!(
            "error: cannot get sealed secret service: services \"{name}\" not found in namespace \
             {namespace}; use the flags --controller-name and --controller-namespace to name the \
             controller's Service and its namespace\n"
        )
    };
    let res = async {
        // kubeseal's defaults: kube-system has no such Service in the test cluster.
        let line = seal_in(&cluster, &["--fetch-cert"]).run().fails_with(&[]);
        ensure!(line == missing(SERVICE, "kube-system"), "{line:?}");
        let line = seal_in(&cluster, &["--controller-namespace", &ns])
            .stdin(input_secret(&ns, "s", "v"))
            .run()
            .fails_with(&[]);
        ensure!(line == missing(SERVICE, &ns), "{line:?}");
        let line = seal_in(
            &cluster,
            &[
                "--fetch-cert",
                "--controller-namespace",
                "no-such-namespace",
            ],
        )
        .run()
        .fails_with(&[]);
        ensure!(line == missing(SERVICE, "no-such-namespace"), "{line:?}");
        plain_service(&client, &ns).await?;
        let line = seal_in(
            &cluster,
            &[
                "--fetch-cert",
                "--controller-namespace",
                &ns,
                "--controller-name",
                "sealer",
            ],
        )
        .run()
        .fails_with(&[]);
        ensure!(line == missing("sealer", &ns), "{line:?}");
        // The Service is there, but nothing serves it.
        seal_in(&cluster, &["--fetch-cert", "--controller-namespace", &ns])
            .env("SEALED_SECRETS_REQUEST_TIMEOUT", "20s")
            .run()
            .fails_with(&[
                "cannot fetch certificate: GET ",
                "/proxy/v1/cert.pem: 503 Service Unavailable: ",
                "is the controller running and ready?",
            ]);
        Ok(())
    }
    .await;
    cluster::delete_namespace(&client, &ns).await;
    res
}

/// client-go's connection flags against the real API server's TLS and authentication, with
/// no kubeconfig at all: each run gets as far as the (missing) Service, which proves it
/// connected and authenticated, or fails with the TLS or credential error.
#[tokio::test]
async fn connection_flags_against_the_real_api_server() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let client = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&client, "seal-flags").await?;
    let dir = cluster.dir.display().to_string();
    let (ca, crt, key) = (
        format!("{dir}/ca.crt"),
        format!("{dir}/admin.crt"),
        format!("{dir}/admin.key"),
    );
    let server = cluster.server.clone();
    let reached = format!(
        "error: cannot get sealed secret service: services \"{SERVICE}\" not found in namespace {ns}"
    );
    let probe = |args: &[&str]| {
        let mut all = vec![
            "--fetch-cert",
            "--controller-namespace",
            &ns,
            "--request-timeout",
            "10s",
        ];
        all.extend_from_slice(args);
        seal(&all).run().fails_with(&[])
    };
    let res = async {
        // Client certificate and CA from flags.
        let line = probe(&["--server", &server, "--certificate-authority", &ca, "--client-certificate", &crt, "--client-key", &key]);
        ensure!(line.starts_with(&reached), "{line:?}");
        // Without the CA, the server's certificate is refused ...
        let line = probe(&["--server", &server, "--client-certificate", &crt, "--client-key", &key]);
        ensure!(line.starts_with(&format!("error: cannot reach the Kubernetes API server at {server} (--server): ")), "{line:?}");
        ensure!(line.to_lowercase().contains("certificate"), "{line:?}");
        // ... unless told not to check it.
        let line = probe(&["--server", &server, "--insecure-skip-tls-verify", "--client-certificate", &crt, "--client-key", &key]);
        ensure!(line.starts_with(&reached), "{line:?}");
        // --tls-server-name: a name in the serving certificate, and one that is not.
        let line = probe(&["--server", &server, "--certificate-authority", &ca, "--tls-server-name", "kubernetes.default", "--client-certificate", &crt, "--client-key", &key]);
        ensure!(line.starts_with(&reached), "{line:?}");
        let line = probe(&["--server", &server, "--certificate-authority", &ca, "--tls-server-name", "wrong.example", "--client-certificate", &crt, "--client-key", &key]);
        ensure!(line.contains("cannot reach the Kubernetes API server"), "{line:?}");
        // A bearer token; a bad one is a 401.
        cluster::create_service_account(&client, &ns, "reader").await?;
        let token = cluster::service_account_token(&client, &ns, "reader", Duration::from_secs(600)).await?;
        let line = probe(&["--server", &server, "--certificate-authority", &ca, "--token", &token]);
        ensure!(
            line.contains(&format!("forbidden: User \"system:serviceaccount:{ns}:reader\" cannot get services")),
            "authenticated as the token's ServiceAccount: {line:?}"
        );
        let line = probe(&["--server", &server, "--certificate-authority", &ca, "--token", "not-a-token"]);
        ensure!(line.contains("rejected the credentials (401 Unauthorized; settings from --server)"), "{line:?}");
        // Impersonation, from the admin kubeconfig.
        let line = seal_in(&cluster, &["--fetch-cert", "--controller-namespace", &ns, "--as", "someone", "--as-group", "devs"])
            .run()
            .fails_with(&[]);
        ensure!(line.contains("forbidden: User \"someone\" cannot get services"), "{line:?}");
        // Nothing listens.
        let port = cluster::free_port()?;
        let down = format!("https://127.0.0.1:{port}");
        let line = seal_in(&cluster, &["--fetch-cert", "-s", &down]).run().fails_with(&[]);
        ensure!(
            line == format!("error: cannot reach the Kubernetes API server at {down} (--server): connection refused\n"),
            "{line:?}"
        );
        Ok(())
    }
    .await;
    cluster::delete_namespace(&client, &ns).await;
    res
}
