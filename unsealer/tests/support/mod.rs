//! Harness for the real-cluster tests of the unsealer (run under `tests/cluster/with-cluster.sh`).
//!
//! Each test gets an [`Env`]: its own namespace (the unsealer's key namespace), the shipped RBAC
//! of `manifests/rbac.yaml` rewritten for that namespace (cluster-scoped names made unique), a
//! ServiceAccount token kubeconfig, and unsealer processes ([`Unsealer`]) that run as that
//! ServiceAccount and watch only the test's namespaces. Every plaintext a test seals is made by
//! [`Env::plain`], so [`Env::finish`] can check that none of them reached the controller's logs.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::{Client, Resource};
use shared::resource::{SealedSecretCondition, SealedSecretStatus};
use shared::{Certificate, Scope, SealedSecret};
use tests::cluster::{self, TestCluster, is_api_status, wait_for};

/// How long a test waits for one outcome.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// The garbage collector can need a discovery resync (30 s) to notice a fresh CRD.
pub const GC_TIMEOUT: Duration = Duration::from_secs(90);
/// Field manager of the tests' own writes.
const MANAGER: &str = "unsealer-cluster-tests";
/// The ServiceAccount of manifests/rbac.yaml.
pub const UNSEALER_SA: &str = "sealed-secrets-controller";
pub use shared::marks::KEY_LABEL;

const CRD_YAML: &str = include_str!("../../../manifests/crd.yaml");
const RBAC_YAML: &str = include_str!("../../../manifests/rbac.yaml");
/// The reference vectors (shared/tests/vectors).
pub const VECTOR_KEY_SECRET: &str =
    include_str!("../../../shared/tests/vectors/sealing-key-secret.yaml");
pub const VECTOR_CERT: &str = include_str!("../../../shared/tests/vectors/sealing-cert.pem");
pub const VECTOR_STRICT: &str =
    include_str!("../../../shared/tests/vectors/sealedsecret-strict-default-db-creds.yaml");
pub const VECTOR_NSWIDE: &str =
    include_str!("../../../shared/tests/vectors/sealedsecret-nswide-team-a-api.yaml");
pub const VECTOR_EXPECTED: &str =
    include_str!("../../../shared/tests/vectors/manifests-expected.json");

/// The `ApiResource` of SealedSecrets, for untyped (possibly malformed) objects.
pub fn sealed_secret_resource() -> ApiResource {
    ApiResource::erase::<SealedSecret>(&())
}

/// One test's world: namespace, RBAC, token kubeconfig, and what to check at the end.
pub struct Env {
    pub cluster: TestCluster,
    pub admin: Client,
    /// The test namespace; also the unsealer's key namespace.
    pub ns: String,
    kubeconfig: PathBuf,
    cluster_role: String,
    extra_namespaces: Mutex<Vec<String>>,
    plaintexts: Mutex<Vec<String>>,
    logs: Mutex<Vec<PathBuf>>,
    starts: AtomicU32,
    forbidden_allowed: std::sync::atomic::AtomicBool,
}

impl Env {
    /// Sets up a test: CRD, namespace, RBAC, token. `None` when the cluster tests are skipped.
    pub async fn start(prefix: &str) -> Result<Option<Env>> {
        Env::start_with(prefix, false).await
    }

    /// [`Env::start`] with an older, lenient CRD installed: `manifests/crd.yaml` without the
    /// reference's rules that `encryptedData` is required and holds strings, so that malformed
    /// objects reach the controller. For a test binary of its own (the CRD is cluster-wide).
    pub async fn start_with_older_crd(prefix: &str) -> Result<Option<Env>> {
        Env::start_with(prefix, true).await
    }

    async fn start_with(prefix: &str, older_crd: bool) -> Result<Option<Env>> {
        let Some(cluster) = TestCluster::from_env() else {
            return Ok(None);
        };
        let admin = cluster.admin_client().await?;
        ensure_crd(&admin, older_crd).await?;
        let ns = cluster::create_namespace(&admin, prefix).await?;
        let cluster_role = install_rbac(&admin, &ns).await?;
        let token =
            cluster::service_account_token(&admin, &ns, UNSEALER_SA, Duration::from_secs(3600))
                .await?;
        let kubeconfig =
            cluster.write_token_kubeconfig(&format!("unsealer-{ns}.kubeconfig"), &token, &ns)?;
        // The RBAC authorizer learns new bindings from an informer: wait until they apply.
        let user = cluster.token_client(&token, &ns).await?;
        let secrets: Api<Secret> = Api::namespaced(user.clone(), &ns);
        let sealed: Api<SealedSecret> = Api::namespaced(user, &ns);
        wait_for("the unsealer's RBAC to take effect", TIMEOUT, || async {
            for r in [
                secrets
                    .list(&ListParams::default().limit(1))
                    .await
                    .map(|_| ()),
                sealed
                    .list(&ListParams::default().limit(1))
                    .await
                    .map(|_| ()),
            ] {
                match r {
                    Ok(()) => {}
                    Err(e) if is_api_status(&e, 403) || is_api_status(&e, 404) => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Some(()))
        })
        .await?;
        Ok(Some(Env {
            cluster,
            admin,
            ns,
            kubeconfig,
            cluster_role,
            extra_namespaces: Mutex::new(Vec::new()),
            plaintexts: Mutex::new(Vec::new()),
            logs: Mutex::new(Vec::new()),
            starts: AtomicU32::new(0),
            forbidden_allowed: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// Another namespace for this test, deleted by [`Env::finish`].
    pub async fn namespace(&self, prefix: &str) -> Result<String> {
        let ns = cluster::create_namespace(&self.admin, prefix).await?;
        self.extra_namespaces.lock().unwrap().push(ns.clone());
        Ok(ns)
    }

    /// Creates namespace `name` unless it exists (for the vectors' fixed namespaces); it is
    /// not deleted afterwards.
    pub async fn ensure_namespace(&self, name: &str) -> Result<()> {
        let ns: k8s_openapi::api::core::v1::Namespace =
            serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))?;
        match Api::<k8s_openapi::api::core::v1::Namespace>::all(self.admin.clone())
            .create(&PostParams::default(), &ns)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_api_status(&e, 409) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A distinctive plaintext (`what-<random>`), remembered for the log check.
    pub fn plain(&self, what: &str) -> String {
        let value = format!(
            "{what}-{:016x}{:08x}",
            rand::random::<u64>(),
            rand::random::<u32>()
        );
        self.remember(&value);
        value
    }

    /// Remembers a plaintext that is not made by [`Env::plain`] (e.g. from the vectors).
    pub fn remember(&self, value: &str) {
        self.plaintexts.lock().unwrap().push(value.to_owned());
    }

    /// Starts an unsealer as the test's ServiceAccount. Defaults: key namespace = watched
    /// namespace = `self.ns`, `--key-size=2048`, `--key-renew-period=0`, a 4 s lease, JSON logs
    /// with the unsealer's own debug lines. `args` (`--flag=value`) replace defaults of the same flag.
    pub async fn unsealer(&self, args: &[&str]) -> Result<Unsealer> {
        let n = self.starts.fetch_add(1, Ordering::Relaxed);
        let log_path = self
            .cluster
            .dir
            .join("logs")
            .join(format!("unsealer-{}-{n}.log", self.ns));
        self.logs.lock().unwrap().push(log_path.clone());
        let port = cluster::free_port()?;
        let metrics_port = cluster::free_port()?;
        let mut flags: Vec<(String, String)> = vec![
            ("--kubeconfig".into(), self.kubeconfig.display().to_string()),
            ("--namespace".into(), self.ns.clone()),
            ("--all-namespaces".into(), "false".into()),
            ("--listen-addr".into(), format!("127.0.0.1:{port}")),
            (
                "--listen-metrics-addr".into(),
                format!("127.0.0.1:{metrics_port}"),
            ),
            ("--key-size".into(), "2048".into()),
            ("--key-renew-period".into(), "0".into()),
            ("--log-format".into(), "json".into()),
            ("--log-level".into(), "info,unsealer=debug".into()),
            // Leader election on, as shipped, with a short lease: a test that kills an
            // unsealer and starts another waits for the lease to run out.
            ("--leader-elect-lease-duration".into(), "4s".into()),
        ];
        for arg in args {
            let (flag, value) = arg
                .split_once('=')
                .ok_or_else(|| anyhow!("write unsealer args as --flag=value: {arg}"))?;
            match flags.iter_mut().find(|(f, _)| f == flag) {
                Some(slot) => slot.1 = value.to_owned(),
                None => flags.push((flag.to_owned(), value.to_owned())),
            }
        }
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_unsealer"))
            .args(flags.iter().map(|(f, v)| format!("{f}={v}")))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting the unsealer")?;
        let mut ctl = Unsealer {
            child,
            port,
            metrics_port,
            log_path,
        };
        let url = ctl.url("/healthz");
        let ready = wait_for("the unsealer's /healthz", Duration::from_secs(60), || {
            let exited = ctl.child.try_wait().ok().flatten();
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
            return Err(e.context(format!("unsealer log:\n{}", ctl.log())));
        }
        // Every replica serves at once; the keys come once one of them leads (it makes the
        // first key if there is none).
        let cert = ctl.url("/v1/cert.pem");
        let keyed = wait_for(
            "the unsealer's certificate",
            Duration::from_secs(60),
            || {
                let cert = cert.clone();
                async move { Ok(cluster::http_get(&cert).await.ok().map(|_| ())) }
            },
        )
        .await;
        if let Err(e) = keyed {
            return Err(e.context(format!("unsealer log:\n{}", ctl.log())));
        }
        Ok(ctl)
    }

    pub fn sealed_api(&self, ns: &str) -> Api<SealedSecret> {
        Api::namespaced(self.admin.clone(), ns)
    }

    pub fn dynamic_api(&self, ns: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.admin.clone(), ns, &sealed_secret_resource())
    }

    pub fn secret_api(&self, ns: &str) -> Api<Secret> {
        Api::namespaced(self.admin.clone(), ns)
    }

    /// Creates a SealedSecret in its own namespace (retrying the short 404 window right after the
    /// CRD becomes Established).
    pub async fn create(&self, ss: &SealedSecret) -> Result<SealedSecret> {
        let ns = ss
            .metadata
            .namespace
            .clone()
            .ok_or_else(|| anyhow!("SealedSecret without namespace"))?;
        let api = self.sealed_api(&ns);
        wait_for("creating a SealedSecret", TIMEOUT, || async {
            match api.create(&PostParams::default(), ss).await {
                Ok(created) => Ok(Some(created)),
                Err(e) if is_api_status(&e, 404) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Creates an arbitrary (possibly malformed) SealedSecret from JSON.
    pub async fn create_json(&self, ns: &str, value: serde_json::Value) -> Result<DynamicObject> {
        let obj: DynamicObject = serde_json::from_value(value)?;
        let api = self.dynamic_api(ns);
        wait_for("creating a SealedSecret", TIMEOUT, || async {
            match api.create(&PostParams::default(), &obj).await {
                Ok(created) => Ok(Some(created)),
                Err(e) if is_api_status(&e, 404) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Replaces the spec of an existing SealedSecret (a new generation).
    pub async fn update_spec(
        &self,
        ns: &str,
        name: &str,
        spec: &shared::SealedSecretSpec,
    ) -> Result<()> {
        let patch = serde_json::json!({ "spec": spec });
        // A JSON merge patch cannot remove map entries it does not name: send the whole spec
        // with the items that disappear set to null.
        let current = self.dynamic_api(ns).get(name).await?;
        let mut patch = patch;
        if let Some(old) = current.data["spec"]["encryptedData"].as_object() {
            for key in old.keys() {
                if !spec.encrypted_data.contains_key(key) {
                    patch["spec"]["encryptedData"][key] = serde_json::Value::Null;
                }
            }
        }
        self.dynamic_api(ns)
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .with_context(|| format!("updating SealedSecret {ns}/{name}"))?;
        Ok(())
    }

    pub async fn delete_sealed(&self, ns: &str, name: &str) -> Result<()> {
        self.sealed_api(ns)
            .delete(name, &DeleteParams::default())
            .await?;
        Ok(())
    }

    /// Waits for Secret `ns/name` to exist.
    pub async fn wait_secret(&self, ns: &str, name: &str) -> Result<Secret> {
        self.wait_secret_where(ns, name, "to exist", |_| true).await
    }

    /// Waits for Secret `ns/name` to exist and satisfy `pred`.
    pub async fn wait_secret_where(
        &self,
        ns: &str,
        name: &str,
        what: &str,
        pred: impl Fn(&Secret) -> bool,
    ) -> Result<Secret> {
        let api = self.secret_api(ns);
        let last = std::cell::RefCell::new(None);
        let (last_ref, pred, api) = (&last, &pred, &api);
        let res = wait_for(
            &format!("Secret {ns}/{name} {what}"),
            TIMEOUT,
            || async move {
                match api.get_opt(name).await? {
                    Some(s) if pred(&s) => Ok(Some(s)),
                    other => {
                        *last_ref.borrow_mut() = other;
                        Ok(None)
                    }
                }
            },
        )
        .await;
        res.map_err(|e| {
            let seen = last.into_inner().map(|s| {
                let keys = data_keys(&s);
                (s.metadata.labels, s.metadata.owner_references, keys)
            });
            e.context(format!("last seen (labels, owners, item keys): {seen:?}"))
        })
    }

    /// Waits for Secret `ns/name` to be gone.
    pub async fn wait_secret_gone(&self, ns: &str, name: &str, timeout: Duration) -> Result<()> {
        let api = self.secret_api(ns);
        wait_for(
            &format!("Secret {ns}/{name} to be deleted"),
            timeout,
            || async { Ok(api.get_opt(name).await?.is_none().then_some(())) },
        )
        .await
    }

    /// Reads a SealedSecret's generation and status (works for malformed objects too).
    pub async fn status(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<(Option<i64>, Option<SealedSecretStatus>)> {
        let obj = self.dynamic_api(ns).get(name).await?;
        let status = match obj.data.get("status") {
            Some(s) if !s.is_null() => {
                Some(serde_json::from_value(s.clone()).context("parsing .status")?)
            }
            _ => None,
        };
        Ok((obj.metadata.generation, status))
    }

    /// Waits until the SealedSecret's `Synced` condition is `ok` for its current generation,
    /// and returns its status.
    pub async fn wait_synced(&self, ns: &str, name: &str, ok: bool) -> Result<SealedSecretStatus> {
        let want = if ok { "True" } else { "False" };
        let last = std::cell::RefCell::new(None);
        let last_ref = &last;
        let res = wait_for(
            &format!("SealedSecret {ns}/{name} Synced={want}"),
            TIMEOUT,
            || async move {
                let (generation, status) = self.status(ns, name).await?;
                let done = status.as_ref().is_some_and(|s| {
                    s.observed_generation == generation
                        && condition(s, "Synced").is_some_and(|c| c.status == want)
                });
                if done {
                    return Ok(status);
                }
                *last_ref.borrow_mut() = status;
                Ok(None)
            },
        )
        .await;
        res.map_err(|e| e.context(format!("last status: {:?}", last.into_inner())))
    }

    /// Waits for an event with `reason` about SealedSecret `ns/name`.
    pub async fn wait_event(&self, ns: &str, name: &str, reason: &str) -> Result<Event> {
        let api: Api<Event> = Api::namespaced(self.admin.clone(), ns);
        wait_for(
            &format!("event {reason} on SealedSecret {ns}/{name}"),
            TIMEOUT,
            || async {
                let events = api.list(&ListParams::default()).await?;
                Ok(events.items.into_iter().find(|e| {
                    e.reason.as_deref() == Some(reason)
                        && e.regarding.as_ref().is_some_and(|r| {
                            r.name.as_deref() == Some(name)
                                && r.kind.as_deref() == Some("SealedSecret")
                        })
                }))
            },
        )
        .await
    }

    /// All events about SealedSecret `ns/name`, as (reason, note).
    pub async fn events(&self, ns: &str, name: &str) -> Result<Vec<(String, String)>> {
        let api: Api<Event> = Api::namespaced(self.admin.clone(), ns);
        Ok(api
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|e| {
                e.regarding
                    .as_ref()
                    .is_some_and(|r| r.name.as_deref() == Some(name))
            })
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect())
    }

    /// Asserts a failed unseal: Synced False with `message` in it, Ready False, no Secret, and
    /// a Warning event with `event_reason`. Returns the status.
    pub async fn assert_fails(
        &self,
        ns: &str,
        name: &str,
        message: &str,
        event_reason: &str,
    ) -> Result<SealedSecretStatus> {
        let status = self.wait_synced(ns, name, false).await?;
        let synced = condition(&status, "Synced").expect("waited for it");
        let text = synced.message.clone().unwrap_or_default();
        ensure!(
            text.contains(message),
            "Synced message of {ns}/{name} should contain {message:?}: {text:?}"
        );
        let ready =
            condition(&status, "Ready").ok_or_else(|| anyhow!("no Ready condition: {status:?}"))?;
        ensure!(ready.status == "False", "Ready should be False: {ready:?}");
        ensure!(
            status.conditions[0].type_ == "Synced",
            "conditions[0] must be Synced (printer columns): {status:?}"
        );
        let event = self.wait_event(ns, name, event_reason).await?;
        ensure!(
            event.type_.as_deref() == Some("Warning"),
            "{event_reason} should be a Warning: {event:?}"
        );
        Ok(status)
    }

    /// Secrets in `ns` controlled by a SealedSecret.
    pub async fn unsealed_secrets(&self, ns: &str) -> Result<Vec<Secret>> {
        Ok(self
            .secret_api(ns)
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|s| {
                s.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| o.kind == "SealedSecret" && o.controller == Some(true))
            })
            .collect())
    }

    /// Key Secrets in the key namespace (any value of the key label).
    pub async fn key_secrets(&self) -> Result<Vec<Secret>> {
        Ok(self
            .secret_api(&self.ns)
            .list(&ListParams::default().labels(KEY_LABEL))
            .await?
            .items)
    }

    /// Installs a generated key as an active key Secret named `name` in the key namespace, as an
    /// admin restoring a backup would.
    pub async fn install_key(
        &self,
        name: &str,
        key: &shared::keys::GeneratedKey,
    ) -> Result<Secret> {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some([(KEY_LABEL.to_owned(), "active".to_owned())].into()),
                ..ObjectMeta::default()
            },
            type_: Some("kubernetes.io/tls".into()),
            data: Some(
                [
                    ("tls.crt", key.cert_pem.clone().into_bytes()),
                    ("tls.key", key.key.to_pkcs1_pem()?.as_bytes().to_vec()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), k8s_openapi::ByteString(v)))
                .collect(),
            ),
            ..Secret::default()
        };
        Ok(self
            .secret_api(&self.ns)
            .create(&PostParams::default(), &secret)
            .await?)
    }

    /// Installs the reference vector key Secret by hand (as `kubectl apply` would) in the key
    /// namespace, under `name`.
    pub async fn install_vector_key(&self, name: &str) -> Result<Secret> {
        let mut key: Secret =
            serde_saphyr::from_str(VECTOR_KEY_SECRET.trim_start_matches("---\n"))?;
        key.metadata.name = Some(name.to_owned());
        key.metadata.generate_name = None;
        key.metadata.namespace = Some(self.ns.clone());
        Ok(self
            .secret_api(&self.ns)
            .create(&PostParams::default(), &key)
            .await?)
    }

    /// The end of a successful test: the controller logs hold no plaintext (nor its base64) and
    /// no authorization failure; then the test's namespaces and RBAC are deleted.
    pub async fn finish(self) -> Result<()> {
        self.check_logs()?;
        let admin = &self.admin;
        let extra = self.extra_namespaces.lock().unwrap().clone();
        for ns in extra {
            cluster::delete_namespace(admin, &ns).await;
        }
        cluster::delete_namespace(admin, &self.ns).await;
        let _ = Api::<ClusterRoleBinding>::all(admin.clone())
            .delete(&self.cluster_role, &DeleteParams::default())
            .await;
        let _ = Api::<ClusterRole>::all(admin.clone())
            .delete(&self.cluster_role, &DeleteParams::default())
            .await;
        Ok(())
    }

    /// For a test that restarts the API server: right after a restart its RBAC authorizer
    /// refuses for a moment, until its caches fill, so 403s in the log are expected there.
    pub fn allow_transient_forbidden(&self) {
        self.forbidden_allowed.store(true, Ordering::Relaxed);
    }

    /// Checks every log of this test's unsealers for leaked plaintexts and for 403s.
    pub fn check_logs(&self) -> Result<()> {
        let plaintexts = self.plaintexts.lock().unwrap().clone();
        for path in self.logs.lock().unwrap().iter() {
            let log = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            for p in plaintexts.iter().filter(|p| p.len() >= 6) {
                let encoded = B64.encode(p.as_bytes());
                ensure!(
                    !log.contains(p.as_str()),
                    "plaintext {p:?} found in {}",
                    path.display()
                );
                ensure!(
                    !log.contains(&encoded),
                    "base64 of plaintext {p:?} found in {}",
                    path.display()
                );
            }
            let lower = log.to_lowercase();
            ensure!(
                self.forbidden_allowed.load(Ordering::Relaxed) || !lower.contains("forbidden"),
                "authorization failure in {}:\n{log}",
                path.display()
            );
        }
        Ok(())
    }
}

/// A running unsealer, killed (SIGKILL, by PID) on drop.
pub struct Unsealer {
    child: tokio::process::Child,
    pub port: u16,
    pub metrics_port: u16,
    pub log_path: PathBuf,
}

impl Unsealer {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The current sealing certificate from `GET /v1/cert.pem`.
    pub async fn cert_pem(&self) -> Result<String> {
        let body = cluster::http_get(&self.url("/v1/cert.pem")).await?;
        Ok(String::from_utf8(body)?)
    }

    pub async fn cert(&self) -> Result<Certificate> {
        let pem = self.cert_pem().await?;
        Ok(Certificate::from_pem(pem.as_bytes())?)
    }

    /// `GET /metrics`.
    pub async fn metrics(&self) -> Result<String> {
        let body =
            cluster::http_get(&format!("http://127.0.0.1:{}/metrics", self.metrics_port)).await?;
        Ok(String::from_utf8(body)?)
    }

    /// A metric's value (first sample whose line starts with `name`).
    pub async fn metric(&self, name: &str) -> Result<Option<f64>> {
        let text = self.metrics().await?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find(|l| l.split([' ', '{']).next() == Some(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok()))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The process ID, for /proc checks (descriptors, memory).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGKILL (by PID) and reap.
    pub async fn kill(mut self) -> Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// SIGTERM (by PID), as the kubelet stops a Pod, and wait for the exit.
    pub async fn terminate(mut self) -> Result<std::process::ExitStatus> {
        let pid = self.child.id().ok_or_else(|| anyhow!("already exited"))?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        ensure!(status.success(), "kill -TERM {pid} failed");
        Ok(tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await??)
    }

    /// Whether this replica has said it leads (and not since that it lost the lease).
    pub fn leads(&self) -> bool {
        let log = self.log();
        match (
            log.rfind("leading: reconciling"),
            log.rfind("lost the lease"),
        ) {
            (Some(led), Some(lost)) => led > lost,
            (led, _) => led.is_some(),
        }
    }
}

/// The condition of `type_`.
pub fn condition<'a>(
    status: &'a SealedSecretStatus,
    type_: &str,
) -> Option<&'a SealedSecretCondition> {
    status.conditions.iter().find(|c| c.type_ == type_)
}

/// A Secret `ns/name` with `items` (string values) and the annotations of `scope`.
pub fn secret(ns: &str, name: &str, scope: Scope, items: &[(&str, &str)]) -> Secret {
    let mut annotations = BTreeMap::new();
    scope.apply_to(&mut annotations);
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(ns.to_owned()),
            annotations: Some(annotations).filter(|a| !a.is_empty()),
            ..ObjectMeta::default()
        },
        data: Some(byte_items(items)),
        ..Secret::default()
    }
}

/// String items as Secret data.
pub fn byte_items(items: &[(&str, &str)]) -> BTreeMap<String, ByteString> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
        .collect()
}

/// Seals `secret` for `cert` the way kubeseal does.
pub fn seal(cert: &Certificate, secret: &Secret) -> Result<SealedSecret> {
    Ok(shared::seal::seal(
        secret,
        cert.public_key(),
        &mut rand::rng(),
    )?)
}

/// Seals strict-scope `items` for `ns/name`.
pub fn seal_items(
    cert: &Certificate,
    ns: &str,
    name: &str,
    items: &[(&str, &str)],
) -> Result<SealedSecret> {
    seal(cert, &secret(ns, name, Scope::Strict, items))
}

/// The same sealed object placed at another namespace and name (as a user copying YAML would).
pub fn moved(ss: &SealedSecret, ns: &str, name: &str) -> SealedSecret {
    let mut ss = ss.clone();
    ss.metadata.namespace = Some(ns.to_owned());
    ss.metadata.name = Some(name.to_owned());
    if let Some(t) = ss.spec.template.as_mut() {
        t.metadata.namespace = Some(ns.to_owned());
        t.metadata.name = Some(name.to_owned());
    }
    ss
}

/// A Secret's data as strings (lossy), for comparisons.
pub fn data(s: &Secret) -> BTreeMap<String, String> {
    s.data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect()
}

pub fn data_keys(s: &Secret) -> Vec<String> {
    s.data.iter().flatten().map(|(k, _)| k.clone()).collect()
}

/// `items` as the map [`data`] returns.
pub fn expected(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Asserts the Secret is controlled by the SealedSecret (the reference's ownerReference).
pub fn assert_owned_by(secret: &Secret, ss: &SealedSecret) {
    let owners = secret.metadata.owner_references.clone().unwrap_or_default();
    assert_eq!(owners.len(), 1, "exactly one ownerReference: {owners:?}");
    let o = &owners[0];
    assert_eq!(o.api_version, "bitnami.com/v1alpha1");
    assert_eq!(o.kind, "SealedSecret");
    assert_eq!(Some(&o.name), ss.metadata.name.as_ref());
    assert_eq!(Some(&o.uid), ss.metadata.uid.as_ref());
    assert_eq!(o.controller, Some(true));
}

/// Server-side applies the CRD of manifests/crd.yaml (idempotent) and waits until Established.
async fn ensure_crd(admin: &Client, older: bool) -> Result<()> {
    let mut crd: serde_json::Value =
        serde_saphyr::from_str(CRD_YAML).context("parsing manifests/crd.yaml")?;
    if older {
        let spec =
            &mut crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        let removed = spec
            .as_object_mut()
            .and_then(|s| s.remove("required"))
            .is_some()
            && spec["properties"]["encryptedData"]
                .as_object_mut()
                .and_then(|e| e.remove("additionalProperties"))
                .is_some();
        ensure!(
            removed,
            "manifests/crd.yaml no longer has the rules an older CRD lacks"
        );
    }
    let crd: CustomResourceDefinition = serde_json::from_value(crd)?;
    let name = crd
        .metadata
        .name
        .clone()
        .ok_or_else(|| anyhow!("CRD without a name"))?;
    let api: Api<CustomResourceDefinition> = Api::all(admin.clone());
    let params = PatchParams::apply(MANAGER).force();
    wait_for("applying the SealedSecret CRD", TIMEOUT, || async {
        match api.patch(&name, &params, &Patch::Apply(&crd)).await {
            Ok(_) => Ok(Some(())),
            // Parallel tests apply at once: a conflict just means "try again".
            Err(e) if is_api_status(&e, 409) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    cluster::wait_crd_established(admin, &name, Duration::from_secs(60)).await
}

/// Applies manifests/rbac.yaml with `kube-system` replaced by `ns` and the cluster-scoped names
/// made unique; returns the ClusterRole (and ClusterRoleBinding) name.
async fn install_rbac(admin: &Client, ns: &str) -> Result<String> {
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(RBAC_YAML).context("parsing manifests/rbac.yaml")?;
    let unique = format!("secrets-unsealer-{ns}");
    let mut seen = Vec::new();
    for mut doc in docs.into_iter().filter(|d| !d.is_null()) {
        rewrite_namespace(&mut doc, ns);
        let kind = doc["kind"].as_str().unwrap_or_default().to_owned();
        seen.push(kind.clone());
        match kind.as_str() {
            "ServiceAccount" => {
                create::<ServiceAccount>(Api::namespaced(admin.clone(), ns), doc).await?
            }
            "Role" => create::<Role>(Api::namespaced(admin.clone(), ns), doc).await?,
            "RoleBinding" => create::<RoleBinding>(Api::namespaced(admin.clone(), ns), doc).await?,
            "ClusterRole" => {
                doc["metadata"]["name"] = unique.clone().into();
                create::<ClusterRole>(Api::all(admin.clone()), doc).await?;
            }
            "ClusterRoleBinding" => {
                doc["metadata"]["name"] = unique.clone().into();
                doc["roleRef"]["name"] = unique.clone().into();
                create::<ClusterRoleBinding>(Api::all(admin.clone()), doc).await?;
            }
            other => bail!("unexpected kind {other:?} in manifests/rbac.yaml"),
        }
    }
    for kind in [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
    ] {
        ensure!(
            seen.iter().any(|k| k == kind),
            "manifests/rbac.yaml has no {kind}"
        );
    }
    Ok(unique)
}

/// Replaces every `namespace: kube-system` (metadata and subjects) with `ns`.
fn rewrite_namespace(v: &mut serde_json::Value, ns: &str) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "namespace" && child.as_str() == Some("kube-system") {
                    *child = ns.into();
                } else {
                    rewrite_namespace(child, ns);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| rewrite_namespace(i, ns)),
        _ => {}
    }
}

async fn create<K>(api: Api<K>, doc: serde_json::Value) -> Result<()>
where
    K: Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(doc)?;
    api.create(&PostParams::default(), &obj)
        .await
        .with_context(|| format!("creating {:?}", obj.meta().name))?;
    Ok(())
}

/// One request of the controller, from the audit log.
#[derive(Debug)]
pub struct Request {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub code: i64,
    /// The RBAC authorizer's reason, naming the binding and role that allowed it.
    pub reason: String,
    pub uri: String,
}

/// The audit entries of `user` received at or after `since` (each request once).
pub fn requests_of(user: &str, since: k8s_openapi::jiff::Timestamp) -> Result<Vec<Request>> {
    let path = std::env::var("TEST_CLUSTER_AUDIT_LOG")
        .context("TEST_CLUSTER_AUDIT_LOG is not set: run under tests/cluster/with-cluster.sh")?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let Ok(e) = serde_json::from_str::<serde_json::Value>(line) else {
            continue; // a line being written
        };
        if e["user"]["username"] != user {
            continue;
        }
        let received: k8s_openapi::jiff::Timestamp = e["requestReceivedTimestamp"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .with_context(|| format!("timestamp of {line}"))?;
        // A watch is logged when its response starts and again when it ends.
        let id = e["auditID"].as_str().unwrap_or_default().to_owned();
        if received < since || !seen.insert(id) {
            continue;
        }
        let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        out.push(Request {
            verb: s(&e["verb"]),
            group: s(&e["objectRef"]["apiGroup"]),
            resource: s(&e["objectRef"]["resource"]),
            subresource: s(&e["objectRef"]["subresource"]),
            namespace: s(&e["objectRef"]["namespace"]),
            code: e["responseStatus"]["code"].as_i64().unwrap_or_default(),
            reason: s(&e["annotations"]["authorization.k8s.io/reason"]),
            uri: s(&e["requestURI"]),
        });
    }
    Ok(out)
}
