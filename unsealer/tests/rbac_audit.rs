//! `manifests/rbac.yaml` grants exactly what the controller uses, proven with the API server's
//! audit log (`TEST_CLUSTER_AUDIT_LOG`, level Metadata, written by `tests/cluster/with-cluster.sh`).
//!
//! The unsealer runs as the manifest's ServiceAccount (the harness binds the manifest's roles
//! in the test's namespace) through every path: key generation, create, update, takeover of a
//! `managed` Secret, merge into a `patch` Secret, a foreign Secret refused, the deletion of an
//! owned Secret (recreated), a malformed object (status and event), then a second instance
//! watching all namespaces with `--update-status=false` (cluster-scope watches, and a repeated
//! event, which the recorder patches). Then the audit entries of that ServiceAccount show that
//! (1) no request was refused and every resource request was allowed by one of the manifest's
//! roles for it, and (2) every (verb, group, resource, subresource) those roles grant was used,
//! and allowed by that very role.
//!
//! Run: `tests/cluster/with-cluster.sh cargo test -p unsealer --test rbac_audit`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use shared::marks::{MANAGED, PATCH};
use support::*;
use tests::cluster::{self, is_api_status, wait_for};

const RBAC_YAML: &str = include_str!("../../manifests/rbac.yaml");

/// Grants the controller needs only on paths this test cannot reach, each with its reason.
/// There are none: every rule of the controller's roles is exercised below.
const UNREACHABLE: &[(&str, &str, &str, &str)] = &[];

fn string_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A Secret made by someone else (the admin).
fn plain_secret(name: &str, annotations: &[(&str, &str)], items: &[(&str, &str)]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            annotations: Some(string_map(annotations)).filter(|a| !a.is_empty()),
            ..ObjectMeta::default()
        },
        data: Some(byte_items(items)),
        ..Secret::default()
    }
}

/// (verb, API group, resource, subresource) as RBAC rules and audit entries name them.
type Grant = (String, String, String, String);

/// A role of the manifest bound to the controller's ServiceAccount: how the audit log names
/// it (`ClusterRole "…"` or `Role "…"`) and what it grants.
struct BoundRole {
    audit_name: String,
    grants: BTreeSet<Grant>,
}

/// The roles `manifests/rbac.yaml` binds to the ServiceAccount `UNSEALER_SA`, by the names
/// the harness gives them in namespace `ns`. The service-proxier Role is bound to the group
/// system:authenticated, for kubeseal's users, and is not the controller's: it is left out.
fn controller_roles(ns: &str) -> Result<Vec<BoundRole>> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(RBAC_YAML)?;
    let docs: Vec<_> = docs.into_iter().filter(|d| !d.is_null()).collect();
    let mut roles = Vec::new();
    for binding in docs.iter().filter(|d| {
        matches!(
            d["kind"].as_str(),
            Some("ClusterRoleBinding" | "RoleBinding")
        )
    }) {
        let to_us = binding["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["kind"] == "ServiceAccount" && s["name"] == UNSEALER_SA);
        if !to_us {
            continue;
        }
        let (kind, name) = (
            binding["roleRef"]["kind"].as_str().unwrap_or_default(),
            binding["roleRef"]["name"].as_str().unwrap_or_default(),
        );
        let role = docs
            .iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .ok_or_else(|| anyhow!("{kind} {name} is bound but not in manifests/rbac.yaml"))?;
        // The harness makes cluster-scoped names unique per test.
        let audit_name = match kind {
            "ClusterRole" => format!("ClusterRole \"secrets-unsealer-{ns}\""),
            _ => format!("Role \"{name}\""),
        };
        let mut grants = BTreeSet::new();
        for rule in role["rules"].as_array().into_iter().flatten() {
            ensure!(
                rule.get("resourceNames").is_none(),
                "{kind} {name}: resourceNames are not checked here: {rule}"
            );
            let list = |key: &str| -> Vec<String> {
                rule[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            };
            for group in list("apiGroups") {
                for resource in list("resources") {
                    let (resource, sub) = match resource.split_once('/') {
                        Some((r, s)) => (r.to_owned(), s.to_owned()),
                        None => (resource, String::new()),
                    };
                    for verb in list("verbs") {
                        grants.insert((verb, group.clone(), resource.clone(), sub.clone()));
                    }
                }
            }
        }
        roles.push(BoundRole { audit_name, grants });
    }
    ensure!(
        !roles.is_empty(),
        "manifests/rbac.yaml binds nothing to {UNSEALER_SA}"
    );
    Ok(roles)
}

/// Whether `r` used `grant` of the role named `role` (in the audit's words). A server-side
/// apply that creates its object is logged as a patch (201 Created) but is also authorized as
/// create (apiserver `handlers/patch.go`, checked by `apply_that_creates_needs_create` below).
fn uses(r: &Request, role: &str, grant: &Grant) -> bool {
    let (verb, group, resource, sub) = grant;
    let verb_matches = r.verb == *verb || (verb == "create" && r.verb == "patch" && r.code == 201);
    verb_matches
        && r.group == *group
        && r.resource == *resource
        && r.subresource == *sub
        && r.code < 400
        && r.reason.contains(role)
}

/// The events about SealedSecret `ns/name` with `reason`.
async fn events(env: &Env, ns: &str, name: &str, reason: &str) -> Result<Vec<Event>> {
    let api: Api<Event> = Api::namespaced(env.admin.clone(), ns);
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|e| {
            e.reason.as_deref() == Some(reason)
                && e.regarding
                    .as_ref()
                    .is_some_and(|r| r.name.as_deref() == Some(name))
        })
        .collect())
}

#[tokio::test]
async fn rbac_grants_exactly_what_the_controller_uses() -> Result<()> {
    let Some(env) = Env::start("rbac-audit").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let other = env.namespace("rbac-audit-app").await?;
    let user = format!("system:serviceaccount:{ns}:{UNSEALER_SA}");
    let roles = controller_roles(&ns)?;
    // The harness itself used the ServiceAccount to wait for its RBAC (403s included, while
    // the bindings propagate): count only what comes after.
    let since = Timestamp::now();

    // --- A: watching `ns` (keys) and `other`; statuses written. Starting generates the key:
    // keys listed, the legacy key read, a key created, then watched. ---
    let ctl = env
        .unsealer(&[&format!("--additional-namespaces={other}")])
        .await?;
    let cert = ctl.cert().await?;

    // Create: the Secret is read (absent), applied (created), status and event written.
    let (a, b) = (env.plain("a"), env.plain("b"));
    let fresh = env
        .create(&seal_items(
            &cert,
            &other,
            "fresh",
            &[("a", &a), ("b", &b)],
        )?)
        .await?;
    let first = env.wait_secret(&other, "fresh").await?;
    assert_owned_by(&first, &fresh);
    env.wait_synced(&other, "fresh", true).await?;
    env.wait_event(&other, "fresh", "Unsealed").await?;

    // Update: item b goes (a merge patch drops it), c comes (apply).
    let c = env.plain("c");
    let next = seal_items(&cert, &other, "fresh", &[("a", &a), ("c", &c)])?;
    env.update_spec(&other, "fresh", &next.spec).await?;
    let want = expected(&[("a", &a), ("c", &c)]);
    env.wait_secret_where(&other, "fresh", "to hold the new items", |s| {
        data(s) == want
    })
    .await?;

    // Takeover: a Secret annotated managed is replaced whole (update).
    let old = env.plain("old");
    env.secret_api(&other)
        .create(
            &PostParams::default(),
            &plain_secret("taken", &[(MANAGED, "true")], &[("old", &old)]),
        )
        .await?;
    let t = env.plain("t");
    let taken = env
        .create(&seal_items(&cert, &other, "taken", &[("t", &t)])?)
        .await?;
    let want = expected(&[("t", &t)]);
    let got = env
        .wait_secret_where(&other, "taken", "to be taken over", |s| data(s) == want)
        .await?;
    assert_owned_by(&got, &taken);

    // Patch annotation: the items are merged in (apply), no owner.
    let own = env.plain("own");
    env.secret_api(&other)
        .create(
            &PostParams::default(),
            &plain_secret("merged", &[(PATCH, "true")], &[("own", &own)]),
        )
        .await?;
    let m = env.plain("m");
    env.create(&seal_items(&cert, &other, "merged", &[("m", &m)])?)
        .await?;
    let want = expected(&[("own", &own), ("m", &m)]);
    env.wait_secret_where(&other, "merged", "to be merged", |s| data(s) == want)
        .await?;

    // A foreign Secret is refused: read, not written; status and a Warning event.
    let mine = env.plain("mine");
    let before = env
        .secret_api(&other)
        .create(
            &PostParams::default(),
            &plain_secret("foreign", &[], &[("mine", &mine)]),
        )
        .await?;
    let f = env.plain("f");
    env.create(&seal_items(&cert, &other, "foreign", &[("f", &f)])?)
        .await?;
    env.assert_fails(
        &other,
        "foreign",
        "already exists and is not managed by SealedSecret",
        "ErrUpdateFailed",
    )
    .await?;
    let after = env.secret_api(&other).get("foreign").await?;
    ensure!(
        after.metadata.resource_version == before.metadata.resource_version,
        "the foreign Secret was written"
    );

    // The owned Secret deleted: seen by the watch, recreated.
    env.secret_api(&other)
        .delete("fresh", &DeleteParams::default())
        .await?;
    env.wait_secret_where(&other, "fresh", "to be recreated", |s| {
        s.metadata.uid != first.metadata.uid
    })
    .await?;

    // An object the controller refuses (an item name that is no Secret key; the CRD itself
    // refuses non-string items): status and a Warning event, no Secret.
    let fine = seal_items(&cert, &other, "bad", &[("fine", &env.plain("fine"))])?
        .spec
        .encrypted_data["fine"]
        .clone();
    env.create_json(
        &other,
        serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "bad", "namespace": other},
            "spec": {"encryptedData": {"fine": fine, "a/b": "AAAA"}}
        }),
    )
    .await?;
    env.assert_fails(
        &other,
        "bad",
        "is not a valid Secret key",
        "ErrUnsealFailed",
    )
    .await?;
    ctl.kill().await?;

    // --- B: all namespaces (cluster-scope list and watch), no status: every reconcile records
    // its event, so a second one about the same object is a repeat, which the recorder
    // patches (a series). ---
    let ctl = env
        .unsealer(&["--all-namespaces=true", "--update-status=false"])
        .await?;
    let q = env.plain("q");
    env.create(&seal_items(&cert, &other, "quiet", &[("q", &q)])?)
        .await?;
    let first = env.wait_secret(&other, "quiet").await?;
    env.wait_event(&other, "quiet", "Unsealed").await?;
    env.secret_api(&other)
        .delete("quiet", &DeleteParams::default())
        .await?;
    env.wait_secret_where(&other, "quiet", "to be recreated", |s| {
        s.metadata.uid != first.metadata.uid
    })
    .await?;
    wait_for("the Unsealed event of quiet to repeat", TIMEOUT, || async {
        let evs = events(&env, &other, "quiet", "Unsealed").await?;
        Ok(evs
            .iter()
            .any(|e| e.series.as_ref().is_some_and(|s| s.count >= 2))
            .then_some(()))
    })
    .await?;
    ctl.kill().await?;

    // --- The audit log. Entries are written as responses complete: wait until every grant has
    // been seen (or time out and report what is missing). ---
    let missing = |requests: &[Request]| -> Vec<String> {
        let mut missing = Vec::new();
        for role in &roles {
            for grant in &role.grants {
                let exempt = UNREACHABLE.iter().any(|(v, g, r, s)| {
                    (*v, *g, *r, *s)
                        == (
                            grant.0.as_str(),
                            grant.1.as_str(),
                            grant.2.as_str(),
                            grant.3.as_str(),
                        )
                });
                if !exempt && !requests.iter().any(|r| uses(r, &role.audit_name, grant)) {
                    missing.push(format!("{} grants {grant:?}", role.audit_name));
                }
            }
        }
        missing
    };
    let all_used = wait_for(
        "the audit log to show every grant used",
        TIMEOUT,
        || async {
            let requests = requests_of(&user, since)?;
            Ok(missing(&requests).is_empty().then_some(()))
        },
    )
    .await;
    let requests = requests_of(&user, since)?;

    // What was used, by which role: the evidence, printed.
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests {
        let scope = if r.namespace.is_empty() {
            "cluster"
        } else if r.namespace == ns {
            "key namespace"
        } else {
            "other namespace"
        };
        let role = r
            .reason
            .split(" of ")
            .nth(1)
            .and_then(|s| s.split(" to ").next())
            .unwrap_or(&r.reason);
        let line = format!(
            "{} {}/{}/{} ({scope}) → {}, by {role}",
            r.verb, r.group, r.resource, r.subresource, r.code
        );
        *used.entry(line).or_default() += 1;
    }
    eprintln!("{} requests by {user}:", requests.len());
    for (line, n) in &used {
        eprintln!("  {n:>4} × {line}");
    }

    // (1) Nothing refused; every resource request allowed by one of the controller's roles.
    let refused: Vec<_> = requests
        .iter()
        .filter(|r| r.code == 403)
        .map(|r| format!("{} {}", r.verb, r.uri))
        .collect();
    ensure!(refused.is_empty(), "requests refused: {refused:#?}");
    let elsewhere: Vec<_> = requests
        .iter()
        .filter(|r| !r.resource.is_empty())
        .filter(|r| !roles.iter().any(|role| r.reason.contains(&role.audit_name)))
        .collect();
    ensure!(
        elsewhere.is_empty(),
        "requests allowed by something other than manifests/rbac.yaml: {elsewhere:#?}"
    );
    // (2) Every grant used, by its own role.
    let missing = missing(&requests);
    if !missing.is_empty() {
        bail!(
            "granted but never used: {missing:#?}\n({:?})",
            all_used.err()
        );
    }
    env.finish().await
}

/// A server-side apply that creates the object is audited as a patch, but the API server also
/// authorizes it as create: without `create` on Secrets, the controller could not write a new
/// Secret. (This is why the audit check above counts a patch answered 201 as a use of create.)
#[tokio::test]
async fn apply_that_creates_needs_create() -> Result<()> {
    let Some(env) = Env::start("rbac-create").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    // Another namespace than the controller's: only the ClusterRole applies there.
    let app = env.namespace("rbac-create-app").await?;
    let token =
        cluster::service_account_token(&env.admin, &ns, UNSEALER_SA, Duration::from_secs(600))
            .await?;
    let sa = env.cluster.token_client(&token, &ns).await?;
    let secrets: Api<Secret> = Api::namespaced(sa, &app);
    let apply = PatchParams::apply("rbac-audit-test").force();
    let new_secret = |name: &str| plain_secret(name, &[], &[("k", "v")]);
    let secret = |name: &str| {
        let mut s = new_secret(name);
        s.metadata.namespace = Some(app.clone());
        s
    };
    // With the shipped role: the apply creates the Secret.
    secrets
        .patch("with-create", &apply, &Patch::Apply(&secret("with-create")))
        .await
        .context("apply creating a Secret with the shipped role")?;

    // Without create (keeping patch): the same apply of a new Secret is refused, while an
    // apply to the existing one still goes through.
    let roles: Api<ClusterRole> = Api::all(env.admin.clone());
    let name = format!("secrets-unsealer-{ns}");
    let mut role = roles.get(&name).await?;
    let mut found = false;
    for rule in role.rules.iter_mut().flatten() {
        if rule.resources.iter().flatten().any(|r| r == "secrets")
            && let Some(create) = rule.verbs.iter().position(|v| v == "create")
        {
            rule.verbs.remove(create);
            found = true;
        }
    }
    ensure!(found, "the shipped ClusterRole has no create on secrets");
    // A rule set cannot merge-patch a list item away; replace the role.
    role.metadata.managed_fields = None;
    roles.replace(&name, &PostParams::default(), &role).await?;
    // The authorizer learns the change from an informer.
    let mut n = 0;
    wait_for("the apply of a new Secret to be refused", TIMEOUT, || {
        n += 1;
        let (secrets, apply, s) = (&secrets, &apply, secret(&format!("without-create-{n}")));
        async move {
            match secrets
                .patch(
                    s.metadata.name.as_deref().unwrap(),
                    apply,
                    &Patch::Apply(&s),
                )
                .await
            {
                Ok(_) => Ok(None),
                Err(e) if is_api_status(&e, 403) => Ok(Some(())),
                Err(e) => Err(e.into()),
            }
        }
    })
    .await?;
    let mut again = secret("with-create");
    again.data = Some(byte_items(&[("k", "w")]));
    secrets
        .patch("with-create", &apply, &Patch::Apply(&again))
        .await
        .context("apply to an existing Secret without create")?;
    env.finish().await
}
