//! GitOps health with the clients users run: Flux's kstatus and Argo CD's built-in SealedSecret
//! health check (the helper of tests/gitops, built at pinned versions by tests/gitops/build.sh),
//! reading live objects, with our controller and with the reference's, under our CRD and under
//! the reference's (a user migrating keeps theirs). Each case's verdicts go into a table, which
//! `GITOPS_HEALTH_TABLE=FILE` writes: between the `<!-- table -->` and `<!-- /table -->` lines
//! of FILE if it has them (tests/gitops/README.md does), else as the whole file. What our
//! controller must give is asserted; the reference's verdicts are recorded, and the few that
//! are asserted are regression guards on what was observed, marked as such.
//!
//! A test binary of its own: it replaces the cluster-wide CRD (and restores ours at the end).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, GetParams, Patch, PatchParams, PostParams};
use shared::{Certificate, SealedSecret};
use support::*;
use tests::cluster::{self, BitnamiController, is_api_status, wait_for};

const CRD_NAME: &str = "sealedsecrets.bitnami.com";
const OUR_CRD: &str = include_str!("../../manifests/crd.yaml");
/// How long a reference controller gets to write a status before the case is recorded as it is.
const REFERENCE_WAIT: Duration = Duration::from_secs(15);

/// The CRD installed while a case runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Crd {
    /// manifests/crd.yaml.
    Ours,
    /// manifests/crd.yaml without the rules that items are strings and `encryptedData` is
    /// required, as older CRDs were: the only way a malformed object reaches a controller.
    OursLenient,
    /// The reference's, from the module build-binaries.sh built the reference from.
    Reference,
}

impl Crd {
    fn label(self) -> &'static str {
        match self {
            Crd::Ours => "ours",
            Crd::OursLenient => "older lenient",
            Crd::Reference => "reference",
        }
    }

    /// Object-name prefix, so the stages of one controller share its namespace.
    fn tag(self) -> &'static str {
        match self {
            Crd::Ours => "oc",
            Crd::OursLenient => "lc",
            Crd::Reference => "rc",
        }
    }

    fn manifest(self) -> Result<serde_json::Value> {
        match self {
            Crd::Ours | Crd::OursLenient => {
                let mut crd: serde_json::Value = serde_saphyr::from_str(OUR_CRD)?;
                if self == Crd::OursLenient {
                    let spec = &mut crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
                        ["spec"];
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
                        "manifests/crd.yaml lost the rules a lenient CRD lacks"
                    );
                }
                Ok(crd)
            }
            Crd::Reference => {
                let path = reference_crd_path()?;
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Ok(serde_saphyr::from_str(&text)?)
            }
        }
    }
}

/// `share/bitnami.com_sealedsecrets.yaml` beside the bin dir of build-binaries.sh.
fn reference_crd_path() -> Result<PathBuf> {
    let kubectl = cluster::find_binary("kubectl")?;
    let bin = kubectl
        .parent()
        .ok_or_else(|| anyhow!("kubectl has no dir"))?;
    let path = bin.join("../share/bitnami.com_sealedsecrets.yaml");
    ensure!(path.is_file(), "no reference CRD at {}", path.display());
    Ok(path)
}

/// Field manager of the CRD, the one `support`'s `Env::start` applies it with: each apply
/// then leaves exactly the manifest (fields this manager set before and omits now are
/// removed), and the next test binary's `Env::start` restores ours exactly, also after a
/// failure here.
const CRD_MANAGER: &str = "unsealer-cluster-tests";

/// Applies the CRD `which` and waits until the API server serves its schema.
async fn install_crd(env: &Env, which: Crd) -> Result<()> {
    let desired: CustomResourceDefinition = serde_json::from_value(which.manifest()?)?;
    let api: Api<CustomResourceDefinition> = Api::all(env.admin.clone());
    let params = PatchParams::apply(CRD_MANAGER).force();
    wait_for("applying the SealedSecret CRD", TIMEOUT, || async {
        match api.patch(CRD_NAME, &params, &Patch::Apply(&desired)).await {
            Ok(_) => Ok(Some(())),
            Err(e) if is_api_status(&e, 409) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    cluster::wait_crd_established(&env.admin, CRD_NAME, Duration::from_secs(60)).await?;
    wait_for(
        &format!("the {which:?} CRD to be served"),
        TIMEOUT,
        || async { Ok((served_crd(env).await? == which).then_some(())) },
    )
    .await
}

/// Which CRD the API server applies now, from dry-run creations: only the lenient one takes a
/// number as an item; only ours keeps an explicit `template: null` (nullable there, pruned by
/// the reference's).
async fn served_crd(env: &Env) -> Result<Crd> {
    let api = env.dynamic_api(&env.ns);
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let probe = |item: serde_json::Value| -> Result<kube::api::DynamicObject> {
        Ok(serde_json::from_value(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "crd-probe", "namespace": env.ns},
            "spec": {"encryptedData": {"v": item}, "template": null},
        }))?)
    };
    match api.create(&dry, &probe(1.into())?).await {
        Ok(_) => return Ok(Crd::OursLenient),
        Err(e) if is_api_status(&e, 422) => {}
        Err(e) => return Err(e.into()),
    }
    let created = api.create(&dry, &probe("x".into())?).await?;
    Ok(if created.data["spec"].get("template").is_some() {
        Crd::Ours
    } else {
        Crd::Reference
    })
}

/// The helper of tests/gitops.
struct Helper {
    bin: PathBuf,
}

impl Helper {
    /// Runs tests/gitops/build.sh (cached: instant after the first build), then the helper's
    /// check that it reproduces Argo CD's own test cases for the script.
    async fn build() -> Result<Self> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/gitops/build.sh");
        let out = tokio::process::Command::new(&script)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {}", script.display()))?;
        ensure!(
            out.status.success(),
            "{} failed ({}):\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout)?;
        let bin = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
        ensure!(bin.is_file(), "build.sh printed no binary: {stdout:?}");
        let helper = Helper { bin };
        let check = helper.run(&["argo-testdata"], b"").await?;
        ensure!(
            check.contains(" passed, 0 failed"),
            "Argo CD's own cases: {check}"
        );
        Ok(helper)
    }

    async fn run(&self, args: &[&str], stdin: &[u8]) -> Result<String> {
        use tokio::io::AsyncWriteExt as _;
        let mut child = tokio::process::Command::new(&self.bin)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut input = child.stdin.take().expect("piped");
        input.write_all(stdin).await?;
        drop(input);
        let out = child.wait_with_output().await?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        ensure!(
            out.status.success(),
            "gitops-health {args:?} failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(stdout)
    }

    /// Both tools' verdicts on one snapshot of the object as the API server returns it.
    async fn verdicts(&self, object: &[u8]) -> Result<Verdicts> {
        let out = self.run(&["verdict"], object).await?;
        let v: serde_json::Value = serde_json::from_str(&out)?;
        let get = |tool: &str, field: &str| v[tool][field].as_str().unwrap_or_default().to_owned();
        Ok(Verdicts {
            kstatus: get("kstatus", "status"),
            kstatus_message: get("kstatus", "message"),
            argo: get("argocd", "status"),
            argo_message: get("argocd", "message"),
        })
    }

    async fn versions(&self) -> Result<String> {
        Ok(self.run(&["versions"], b"").await?.trim().to_owned())
    }
}

#[derive(Clone, Debug)]
struct Verdicts {
    kstatus: String,
    kstatus_message: String,
    argo: String,
    argo_message: String,
}

/// What one cell of the table shows.
#[derive(Clone, Debug)]
enum Outcome {
    Seen(Verdicts),
    /// The API server refused the object.
    Refused(String),
}

struct Row {
    case: &'static str,
    controller: &'static str,
    crd: Crd,
    outcome: Outcome,
    note: String,
}

/// A controller under test and where its objects go.
enum Controller {
    Ours(Unsealer),
    Reference(BitnamiController),
}

impl Controller {
    /// The sealing certificate, once the controller serves one (a controller can answer
    /// `/healthz` before its first key exists).
    async fn cert(&self) -> Result<Certificate> {
        let url = match self {
            Controller::Ours(u) => u.url("/v1/cert.pem"),
            Controller::Reference(r) => r.url("/v1/cert.pem"),
        };
        let pem = wait_for("the sealing certificate", TIMEOUT, || async {
            Ok(cluster::http_get(&url).await.ok())
        })
        .await?;
        Ok(Certificate::from_pem(&pem)?)
    }

    async fn stop(self) -> Result<()> {
        match self {
            Controller::Ours(u) => u.kill().await,
            Controller::Reference(r) => r.stop().await,
        }
    }
}

/// The whole run: the table and what failed among the assertions on our controller.
struct Run<'a> {
    env: &'a Env,
    helper: Helper,
    rows: Vec<Row>,
    failures: Vec<String>,
    /// Namespaces to write as `<ns>` in the table.
    namespaces: Vec<String>,
}

/// One controller under one CRD.
struct Stage<'r, 'a> {
    run: &'r mut Run<'a>,
    /// Our controller, or the reference's.
    ours: bool,
    crd: Crd,
    ns: String,
    cert: Certificate,
}

impl Run<'_> {
    async fn raw(&self, ns: &str, name: &str) -> Result<Vec<u8>> {
        let req = kube::core::Request::new(format!(
            "/apis/bitnami.com/v1alpha1/namespaces/{ns}/sealedsecrets"
        ))
        .get(name, &GetParams::default())?;
        Ok(self.env.admin.request_text(req).await?.into_bytes())
    }

    async fn verdicts(&self, ns: &str, name: &str) -> Result<Verdicts> {
        let object = self.raw(ns, name).await?;
        self.helper.verdicts(&object).await
    }

    /// Records a failed expectation: on our controller, or a change in the reference's
    /// observed behaviour (whose table in tests/gitops/README.md would then be stale).
    fn check(&mut self, ok: bool, ours: bool, what: String) {
        if !ok {
            self.failures.push(if ours {
                what
            } else {
                format!("the reference's behaviour changed (update tests/gitops/README.md): {what}")
            });
        }
    }

    /// The text without what differs between runs and stages: namespaces, name prefixes.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for ns in &self.namespaces {
            text = text.replace(ns.as_str(), "<ns>");
        }
        for crd in [Crd::Ours, Crd::OursLenient, Crd::Reference] {
            text = text.replace(&format!("\"{}-", crd.tag()), "\"");
        }
        text
    }
}

impl Stage<'_, '_> {
    fn controller(&self) -> &'static str {
        if self.ours { "ours" } else { "reference" }
    }

    fn name(&self, base: &str) -> String {
        format!("{}-{base}", self.crd.tag())
    }

    fn seal(&self, name: &str, value: &str) -> Result<SealedSecret> {
        seal_items(&self.cert, &self.ns, name, &[("v", value)])
    }

    /// Waits until the status describes the current generation (with `Synced` = `want` for
    /// our controller, which must get there), then records both verdicts.
    async fn record(
        &mut self,
        case: &'static str,
        name: &str,
        want: Option<bool>,
        note: &str,
    ) -> Result<Verdicts> {
        let mut note = note.to_owned();
        if self.ours {
            let want =
                want.ok_or_else(|| anyhow!("{case}: our controller needs an expectation"))?;
            self.run.env.wait_synced(&self.ns, name, want).await?;
        } else if !self.settled(name).await? {
            note = join(
                &note,
                &format!("no status for this generation after {REFERENCE_WAIT:?}"),
            );
        }
        let v = self.run.verdicts(&self.ns, name).await?;
        self.run.rows.push(Row {
            case,
            controller: self.controller(),
            crd: self.crd,
            outcome: Outcome::Seen(v.clone()),
            note,
        });
        Ok(v)
    }

    /// For the reference: whether `status.observedGeneration` reached the generation with a
    /// `Synced` condition within [`REFERENCE_WAIT`].
    async fn settled(&self, name: &str) -> Result<bool> {
        let env = self.run.env;
        let res = wait_for("the reference's status", REFERENCE_WAIT, || async {
            let (generation, status) = env.status(&self.ns, name).await?;
            Ok(status
                .filter(|s| s.observed_generation == generation && condition(s, "Synced").is_some())
                .map(|_| ()))
        })
        .await;
        Ok(res.is_ok())
    }

    /// Ours: Current (from Ready) and Healthy. The reference (regression guard on what was
    /// observed with v0.36.6): Current, because kstatus finds no condition it knows, and Healthy.
    fn expect_healthy(&mut self, case: &str, v: &Verdicts) {
        let ok = v.kstatus == "Current" && v.argo == "Healthy";
        let what = format!(
            "{case} ({}, {} CRD): want Current/Healthy, got {v:?}",
            self.controller(),
            self.crd.label()
        );
        self.run.check(ok, self.ours, what);
    }

    /// Ours: Failed (from Stalled) and Degraded, both with the Synced message, which holds
    /// `text`. The reference (regression guard on what was observed with v0.36.6): Degraded
    /// for Argo CD, but Current for kstatus, which finds neither Stalled nor Ready: Flux would
    /// call the failure healthy.
    fn expect_failed(&mut self, case: &str, v: &Verdicts, text: &str) {
        let (ok, want) = if self.ours {
            let ok = v.kstatus == "Failed"
                && v.argo == "Degraded"
                && v.kstatus_message.contains(text)
                && v.argo_message == v.kstatus_message;
            (
                ok,
                format!("Failed/Degraded with {text:?} in both messages"),
            )
        } else {
            let ok = v.kstatus == "Current" && v.argo == "Degraded";
            (ok, "Current/Degraded".to_owned())
        };
        let what = format!(
            "{case} ({}, {} CRD): want {want}, got {v:?}",
            self.controller(),
            self.crd.label()
        );
        self.run.check(ok, self.ours, what);
    }

    /// Valid, updated, wrong scope, tampered, a broken update after a good one, a good one
    /// after that, the Secret deleted; a malformed object (refused by every CRD but the
    /// lenient one, which has a stage of its own).
    async fn cases(&mut self) -> Result<()> {
        let env = self.run.env;
        let ns = self.ns.clone();

        // Valid.
        let valid = self.name("valid");
        let first = env.plain("first");
        env.create(&self.seal(&valid, &first)?).await?;
        let v = self.record("valid", &valid, Some(true), "").await?;
        self.expect_healthy("valid", &v);
        let secret = env.wait_secret(&ns, &valid).await?;
        ensure!(data(&secret) == expected(&[("v", &first)]), "{valid}: data");

        // Updated: a new generation, recorded once its Secret holds the new value.
        let second = env.plain("second");
        env.update_spec(&ns, &valid, &self.seal(&valid, &second)?.spec)
            .await?;
        env.wait_secret_where(&ns, &valid, "to hold the update", |s| {
            data(s) == expected(&[("v", &second)])
        })
        .await?;
        let v = self
            .record("updated (new generation)", &valid, Some(true), "")
            .await?;
        self.expect_healthy("updated", &v);

        // Wrong scope: a strict object copied under another name.
        let moved_name = self.name("moved");
        let original = self.seal(&self.name("original"), &env.plain("scoped"))?;
        env.create(&moved(&original, &ns, &moved_name)).await?;
        let v = self
            .record(
                "wrong scope (strict, renamed)",
                &moved_name,
                Some(false),
                "",
            )
            .await?;
        self.expect_failed("wrong scope", &v, "no key could decrypt");

        // Tampered: one ciphertext byte changed.
        let tampered_name = self.name("tampered");
        let tampered = tamper(self.seal(&tampered_name, &env.plain("tampered"))?)?;
        env.create(&tampered).await?;
        let v = self
            .record("tampered ciphertext", &tampered_name, Some(false), "")
            .await?;
        self.expect_failed("tampered", &v, "no key could decrypt");

        // A broken update after a good one: the new generation fails; the Secret keeps the
        // last good value.
        let broken = tamper(self.seal(&valid, &env.plain("broken"))?)?;
        env.update_spec(&ns, &valid, &broken.spec).await?;
        let v = self
            .record("broken update after a good one", &valid, Some(false), "")
            .await?;
        self.expect_failed("broken update", &v, "no key could decrypt");
        let (generation, status) = env.status(&ns, &valid).await?;
        let observed = status.as_ref().and_then(|s| s.observed_generation);
        let ok = generation == Some(3) && observed == Some(3);
        let what = format!("broken update: generation {generation:?}, observed {observed:?}");
        self.run.check(ok, self.ours, what);
        let kept = data(&env.secret_api(&ns).get(&valid).await?) == expected(&[("v", &second)]);
        if !kept {
            let row = self.run.rows.last_mut().expect("recorded");
            row.note = join(&row.note, "the Secret lost the last good value");
        }
        let what = "broken update: the Secret lost the last good value".to_owned();
        self.run.check(kept, self.ours, what);

        // A good generation after the broken one.
        let third = env.plain("third");
        env.update_spec(&ns, &valid, &self.seal(&valid, &third)?.spec)
            .await?;
        env.wait_secret_where(&ns, &valid, "to hold the fix", |s| {
            data(s) == expected(&[("v", &third)])
        })
        .await?;
        let v = self
            .record("good update after the broken one", &valid, Some(true), "")
            .await?;
        self.expect_healthy("good after broken", &v);

        // The Secret deleted: recorded once it is back.
        let old_uid = env.wait_secret(&ns, &valid).await?.metadata.uid;
        env.secret_api(&ns)
            .delete(&valid, &DeleteParams::default())
            .await?;
        let recreated = wait_for("the Secret to be recreated", TIMEOUT, || async {
            Ok(env
                .secret_api(&ns)
                .get_opt(&valid)
                .await?
                .filter(|s| s.metadata.uid != old_uid && data(s) == expected(&[("v", &third)])))
        })
        .await;
        let note = if recreated.is_ok() {
            ""
        } else {
            "the Secret was not recreated"
        };
        let what = "the deleted Secret was not recreated".to_owned();
        self.run.check(recreated.is_ok(), self.ours, what);
        let v = self
            .record("Secret deleted, then recreated", &valid, Some(true), note)
            .await?;
        self.expect_healthy("deleted Secret", &v);

        // A Secret of that name exists already, not made from a SealedSecret.
        let foreign = self.name("foreign");
        env.secret_api(&ns)
            .create(
                &PostParams::default(),
                &support::secret(&ns, &foreign, shared::Scope::Strict, &[("v", "mine")]),
            )
            .await?;
        env.create(&self.seal(&foreign, &env.plain("foreign"))?)
            .await?;
        let v = self
            .record(
                "a Secret of that name exists, not ours",
                &foreign,
                Some(false),
                "",
            )
            .await?;
        self.expect_failed("foreign Secret", &v, "not managed by SealedSecret");

        // Malformed: the CRDs with the reference's rules refuse it.
        let malformed = self.name("malformed");
        let obj: kube::api::DynamicObject =
            serde_json::from_value(malformed_object(&ns, &malformed))?;
        let message = match env
            .dynamic_api(&ns)
            .create(&PostParams::default(), &obj)
            .await
        {
            Ok(_) => bail!("the {:?} CRD accepted a non-string item", self.crd),
            Err(kube::Error::Api(s)) if s.code == 422 => s.message,
            Err(e) => return Err(anyhow!(e).context(format!("creating {malformed}"))),
        };
        self.run.rows.push(Row {
            case: "malformed (non-string item)",
            controller: self.controller(),
            crd: self.crd,
            outcome: Outcome::Refused(message),
            note: String::new(),
        });
        Ok(())
    }

    /// With the controller stopped: a new generation of the valid object reads as in progress
    /// until a controller works on it (`observedGeneration` behind).
    async fn update_while_down(&mut self) -> Result<()> {
        let env = self.run.env;
        let valid = self.name("valid");
        let spec = self.seal(&valid, &env.plain("unseen"))?.spec;
        env.update_spec(&self.ns, &valid, &spec).await?;
        let v = self.run.verdicts(&self.ns, &valid).await?;
        self.run.rows.push(Row {
            case: "updated while the controller is down",
            controller: self.controller(),
            crd: self.crd,
            outcome: Outcome::Seen(v.clone()),
            note: String::new(),
        });
        let ok = v.kstatus == "InProgress" && v.argo == "Progressing";
        let what = format!(
            "update while down ({}, {} CRD): want InProgress/Progressing, got {v:?}",
            self.controller(),
            self.crd.label()
        );
        self.run.check(ok, self.ours, what);
        Ok(())
    }

    /// Under the lenient CRD: a non-string item reaches the controller.
    async fn malformed(&mut self) -> Result<()> {
        let env = self.run.env;
        let name = self.name("malformed");
        env.create_json(&self.ns, malformed_object(&self.ns, &name))
            .await?;
        let v = self
            .record("malformed (non-string item)", &name, Some(false), "")
            .await?;
        self.expect_failed("malformed", &v, "spec.encryptedData.count");
        env.delete_sealed(&self.ns, &name).await
    }
}

fn malformed_object(ns: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"encryptedData": {"count": 42}},
    })
}

/// The object with one byte of each item's AES-GCM part changed (still valid base64).
fn tamper(mut ss: SealedSecret) -> Result<SealedSecret> {
    for item in ss.spec.encrypted_data.values_mut() {
        let mut bytes = B64.decode(item.as_bytes())?;
        let last = bytes.last_mut().ok_or_else(|| anyhow!("empty item"))?;
        *last ^= 0x01;
        *item = B64.encode(bytes);
    }
    Ok(ss)
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}; {b}"),
    }
}

async fn start(env: &Env, ours: bool, reference_ns: &str) -> Result<Controller> {
    Ok(if ours {
        Controller::Ours(env.unsealer(&[]).await?)
    } else {
        Controller::Reference(BitnamiController::start(reference_ns, &["--key-size=2048"]).await?)
    })
}

#[tokio::test]
async fn gitops_health_of_ours_and_the_reference() -> Result<()> {
    let Some(env) = Env::start("gitops").await? else {
        return Ok(());
    };
    let helper = Helper::build().await?;
    let versions = helper.versions().await?;
    let reference =
        tokio::process::Command::new(cluster::find_binary("sealed-secrets-controller")?)
            .arg("--version")
            .output()
            .await?;
    let reference = String::from_utf8_lossy(&reference.stdout)
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    let reference_ns = env.namespace("gitops-ref").await?;
    let unwatched = env.namespace("gitops-none").await?;
    let mut run = Run {
        env: &env,
        helper,
        rows: Vec::new(),
        failures: Vec::new(),
        namespaces: vec![env.ns.clone(), reference_ns.clone(), unwatched.clone()],
    };

    for crd in [Crd::Ours, Crd::Reference] {
        install_crd(&env, crd).await?;
        // Before any controller has seen it: in a namespace none watches.
        let fresh = seal_items(
            &Certificate::from_pem(VECTOR_CERT.as_bytes())?,
            &unwatched,
            crd.tag(),
            &[("v", "x")],
        )?;
        env.create(&fresh).await?;
        let v = run.verdicts(&unwatched, crd.tag()).await?;
        // kstatus reads an object with no observedGeneration and no condition as Current,
        // with either CRD. (A CRD default of status {observedGeneration: 0} would make it
        // InProgress, but tools, the reference's suite among them, take a status as the sign
        // that a controller has seen the object: see shared::resource::crd.)
        let ok = v.kstatus == "Current" && v.argo == "Progressing";
        let what = format!("created, no status yet ({crd:?} CRD): got {v:?}");
        run.check(ok, true, what);
        run.rows.push(Row {
            case: "created, no status yet",
            controller: "(none yet)",
            crd,
            outcome: Outcome::Seen(v),
            note: String::new(),
        });
        for ours in [true, false] {
            let ctl = start(&env, ours, &reference_ns).await?;
            let cert = ctl.cert().await?;
            let ns = if ours {
                env.ns.clone()
            } else {
                reference_ns.clone()
            };
            let mut stage = Stage {
                run: &mut run,
                ours,
                crd,
                ns,
                cert,
            };
            stage.cases().await?;
            ctl.stop().await?;
            stage.update_while_down().await?;
        }
    }

    install_crd(&env, Crd::OursLenient).await?;
    for ours in [true, false] {
        let ctl = start(&env, ours, &reference_ns).await?;
        let cert = ctl.cert().await?;
        let ns = if ours {
            env.ns.clone()
        } else {
            reference_ns.clone()
        };
        let mut stage = Stage {
            run: &mut run,
            ours,
            crd: Crd::OursLenient,
            ns,
            cert,
        };
        stage.malformed().await?;
        ctl.stop().await?;
    }
    install_crd(&env, Crd::Ours).await?;

    let table = render(&run, &versions, &reference);
    println!("{table}");
    if let Some(path) = std::env::var_os("GITOPS_HEALTH_TABLE") {
        write_table(Path::new(&path), &table)?;
    }
    ensure!(
        run.failures.is_empty(),
        "our controller's GitOps health:\n{}\n{table}",
        run.failures.join("\n")
    );
    env.finish().await
}

/// Writes `table` between the marker lines of `path`, or as the whole file.
fn write_table(path: &Path, table: &str) -> Result<()> {
    const START: &str = "<!-- table -->\n";
    const END: &str = "<!-- /table -->\n";
    let current = std::fs::read_to_string(path).unwrap_or_default();
    let text = match (current.find(START), current.find(END)) {
        (Some(a), Some(b)) if a < b => format!("{}{START}{table}{}", &current[..a], &current[b..]),
        _ => table.to_owned(),
    };
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The table: one row per case and controller, kstatus and Argo CD per CRD.
fn render(run: &Run<'_>, versions: &str, reference: &str) -> String {
    let cell = |o: &Outcome, kstatus: bool| -> String {
        let text = match o {
            Outcome::Refused(_) if kstatus => "refused by the API server (422)¹".to_owned(),
            Outcome::Refused(_) => "—".to_owned(),
            Outcome::Seen(v) => {
                let (status, message) = if kstatus {
                    (&v.kstatus, &v.kstatus_message)
                } else {
                    (&v.argo, &v.argo_message)
                };
                if message.is_empty() {
                    status.clone()
                } else {
                    format!("{status}: {message}")
                }
            }
        };
        run.scrub(&text).replace('|', "\\|")
    };
    let mut keys: Vec<(&str, &str)> = Vec::new();
    let mut cells: BTreeMap<(&str, &str, &str), (&Row, String, String)> = BTreeMap::new();
    for row in &run.rows {
        let key = (row.case, row.controller);
        if !keys.contains(&key) {
            keys.push(key);
        }
        let column = match row.crd {
            Crd::Ours | Crd::OursLenient => "ours",
            Crd::Reference => "reference",
        };
        // Under our CRD, the lenient stage's verdicts (recorded last) replace the refusal.
        cells.insert(
            (row.case, row.controller, column),
            (row, cell(&row.outcome, true), cell(&row.outcome, false)),
        );
    }
    let mut out = String::new();
    let versions: BTreeMap<String, String> = serde_json::from_str(versions).unwrap_or_default();
    let pinned: Vec<String> = versions
        .iter()
        .map(|(module, version)| format!("`{module}` {version}"))
        .collect();
    out.push_str(&format!(
        "Helper built from {}; reference controller {reference}.\n\n",
        pinned.join(", ")
    ));
    out.push_str(
        "| case | controller | kstatus, our CRD | Argo CD, our CRD | kstatus, reference CRD | \
         Argo CD, reference CRD |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let mut notes = Vec::new();
    for (case, controller) in keys {
        let mut line = format!("| {case} | {controller} |");
        for column in ["ours", "reference"] {
            match cells.get(&(case, controller, column)) {
                Some((row, k, a)) => {
                    let mut k = k.clone();
                    if row.crd == Crd::OursLenient {
                        k = format!("{k} ¹");
                    }
                    if !row.note.is_empty() {
                        notes.push(format!("{case}, {controller}, {column} CRD: {}", row.note));
                    }
                    line.push_str(&format!(" {k} | {a} |"));
                }
                None => line.push_str(" — | — |"),
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    let refusal = run.rows.iter().find_map(|r| match &r.outcome {
        Outcome::Refused(m) => Some(run.scrub(m)),
        Outcome::Seen(_) => None,
    });
    out.push_str(&format!(
        "\n¹ Our CRD and the reference's refuse a non-string item at apply time: `{}`. The \
         verdicts marked ¹ are from an older CRD without that rule.\n",
        refusal.unwrap_or_default()
    ));
    for n in notes {
        out.push_str(&format!("\n- {}", run.scrub(&n)));
    }
    out.push('\n');
    out
}
