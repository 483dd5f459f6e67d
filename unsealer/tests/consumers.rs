//! `--restart-consumers` on the real cluster, with the RBAC of `manifests/restart-consumers/`:
//! when the data of a Secret the controller wrote changes, each opted-in Deployment whose pods
//! read it gets exactly one rolling restart (its pod template's `restartedAt` set, so its
//! generation goes up by one). Nothing is restarted when the Secret is created, when a new
//! generation unseals to the same data, on a controller restart, or for workloads that did not
//! opt in or read another Secret.
//!
//! Run: `tests/cluster/with-cluster.sh cargo test -p unsealer --test consumers`.

mod support;

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DeleteParams, PostParams};
use support::*;
use tests::cluster::wait_for;
use unsealer::consumers::RESTARTED_AT;
use unsealer::marks::{RESTART_ANNOTATION, SOURCE_ANNOTATION};

const RBAC: &str = include_str!("../../manifests/restart-consumers/rbac.yaml");

/// A Deployment whose pods read the Secret `secret` as an environment variable.
fn deployment(name: &str, secret: &str, opted_in: bool) -> Result<Deployment> {
    let annotations = if opted_in {
        serde_json::json!({ RESTART_ANNOTATION: "true" })
    } else {
        serde_json::json!({})
    };
    Ok(serde_json::from_value(serde_json::json!({
        "metadata": { "name": name, "annotations": annotations },
        "spec": {
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{
                    "name": "app",
                    "image": "registry.example/app:1",
                    "env": [{ "name": "PASSWORD", "valueFrom": {
                        "secretKeyRef": { "name": secret, "key": "password" } } }],
                }] },
            },
        },
    }))?)
}

/// The component's ClusterRole and binding, renamed for this test's namespace.
async fn install_rbac(env: &Env) -> Result<String> {
    let suffix = format!("-{}", env.ns);
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(RBAC)?;
    for mut doc in docs.into_iter().filter(|d| !d.is_null()) {
        let name = doc["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        doc["metadata"]["name"] = format!("{name}{suffix}").into();
        match doc["kind"].as_str() {
            Some("ClusterRole") => {
                let role: ClusterRole = serde_json::from_value(doc)?;
                Api::<ClusterRole>::all(env.admin.clone())
                    .create(&PostParams::default(), &role)
                    .await?;
            }
            Some("ClusterRoleBinding") => {
                let role = doc["roleRef"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                doc["roleRef"]["name"] = format!("{role}{suffix}").into();
                doc["subjects"][0]["namespace"] = env.ns.clone().into();
                let binding: ClusterRoleBinding = serde_json::from_value(doc)?;
                Api::<ClusterRoleBinding>::all(env.admin.clone())
                    .create(&PostParams::default(), &binding)
                    .await?;
            }
            other => bail!("unexpected kind {other:?} in manifests/restart-consumers/rbac.yaml"),
        }
    }
    // The authorizer learns bindings from an informer: wait until it allows the patch.
    let reviews: Api<SubjectAccessReview> = Api::all(env.admin.clone());
    let user = format!("system:serviceaccount:{}:{UNSEALER_SA}", env.ns);
    wait_for("the restart RBAC to take effect", TIMEOUT, || async {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(user.clone()),
                resource_attributes: Some(ResourceAttributes {
                    group: Some("apps".into()),
                    resource: Some("deployments".into()),
                    verb: Some("patch".into()),
                    namespace: Some(env.ns.clone()),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let answer = reviews.create(&PostParams::default(), &review).await?;
        Ok(answer.status.is_some_and(|s| s.allowed).then_some(()))
    })
    .await?;
    Ok(suffix)
}

async fn remove_rbac(env: &Env, suffix: &str) {
    let _ = Api::<ClusterRoleBinding>::all(env.admin.clone())
        .delete(
            &format!("sealed-secrets-controller-restart-consumers{suffix}"),
            &DeleteParams::default(),
        )
        .await;
    let _ = Api::<ClusterRole>::all(env.admin.clone())
        .delete(
            &format!("secrets-unsealer-restart-consumers{suffix}"),
            &DeleteParams::default(),
        )
        .await;
}

/// Each Deployment's generation and its template's `restartedAt`.
async fn states(api: &Api<Deployment>, names: &[&str]) -> Result<Vec<(i64, Option<String>)>> {
    let mut out = Vec::new();
    for name in names {
        let d = api.get(name).await?;
        let restarted = d
            .spec
            .template
            .metadata
            .and_then(|m| m.annotations)
            .and_then(|a| a.get(RESTARTED_AT).cloned());
        out.push((d.metadata.generation.unwrap_or_default(), restarted));
    }
    Ok(out)
}

#[tokio::test]
async fn opted_in_workloads_restart_once_per_data_change() -> Result<()> {
    let Some(env) = Env::start("uns-restart").await? else {
        return Ok(());
    };
    let suffix = install_rbac(&env).await?;
    let result = scenario(&env).await;
    remove_rbac(&env, &suffix).await;
    result?;
    env.finish().await
}

async fn scenario(env: &Env) -> Result<()> {
    let ns = env.ns.clone();
    let deployments: Api<Deployment> = Api::namespaced(env.admin.clone(), &ns);
    let names = ["reads-db", "not-opted-in", "reads-other"];
    for (name, secret, opted) in [
        ("reads-db", "db", true),
        ("not-opted-in", "db", false),
        ("reads-other", "other", true),
    ] {
        deployments
            .create(&PostParams::default(), &deployment(name, secret, opted)?)
            .await?;
    }
    let ctl = env.unsealer(&["--restart-consumers=true"]).await?;
    let cert = ctl.cert().await?;
    let untouched = states(&deployments, &names).await?;
    assert!(
        untouched.iter().all(|(g, r)| *g == 1 && r.is_none()),
        "{untouched:?}"
    );

    // Created: nothing to restart (pods wait for a missing Secret).
    let first = env.plain("first");
    env.create(&seal_items(&cert, &ns, "db", &[("password", &first)])?)
        .await?;
    env.wait_synced(&ns, "db", true).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        states(&deployments, &names).await?,
        untouched,
        "after the create"
    );

    // The data changes: reads-db is restarted, once.
    let second = env.plain("second");
    let changed = seal_items(&cert, &ns, "db", &[("password", &second)])?;
    env.update_spec(&ns, "db", &changed.spec).await?;
    env.wait_secret_where(&ns, "db", "the new password", |s| {
        data(s).get("password") == Some(&second)
    })
    .await?;
    let restarted = wait_for("reads-db restarted", TIMEOUT, || async {
        let now = states(&deployments, &names).await?;
        Ok((now[0].0 == 2).then_some(now))
    })
    .await?;
    let stamp = restarted[0].1.clone().context("restartedAt on reads-db")?;
    assert_eq!(&restarted[1..], &untouched[1..], "the others");
    env.wait_event(&ns, "db", "ConsumersRestarted").await?;

    // A new generation with the same data (sealed again): written, nothing restarted.
    let same = seal_items(&cert, &ns, "db", &[("password", &second)])?;
    env.update_spec(&ns, "db", &same.spec).await?;
    env.wait_secret_where(&ns, "db", "the third generation's mark", |s| {
        s.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SOURCE_ANNOTATION))
            .is_some_and(|m| m.ends_with(":3"))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_same = states(&deployments, &names).await?;
    assert_eq!(after_same, restarted, "the same data again");
    assert_eq!(after_same[0].1.as_deref(), Some(stamp.as_str()));

    // A controller restart looks at everything again, and restarts nothing.
    ctl.terminate().await?;
    let ctl = env.unsealer(&["--restart-consumers=true"]).await?;
    wait_for("the object looked at again", TIMEOUT, || async {
        Ok(ctl
            .metric("sealed_secrets_controller_unseal_requests_total")
            .await?
            .filter(|n| *n >= 1.0))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        states(&deployments, &names).await?,
        restarted,
        "after a restart"
    );
    drop(ctl);
    Ok(())
}
