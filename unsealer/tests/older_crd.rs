//! Objects that the CRD refuses at apply time, as the reference's does (a non-string item,
//! no `encryptedData`), can still reach the controller from an older, lenient CRD: the
//! controller reports them on the object, once, and never stalls on them. These tests install
//! such a CRD (manifests/crd.yaml without those two rules); every other test binary applies
//! the strict one again when it starts. A test binary of its own: the CRD is cluster-wide.

mod support;

use std::time::Duration;

use anyhow::{Result, ensure};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use support::*;

/// Malformed objects beside good ones: an item that is a number and an item that is not base64
/// each get Synced False with a message naming the item; the good ones unseal; fixing a
/// malformed one makes it unseal.
#[tokio::test]
async fn malformed_objects_beside_good_ones() -> Result<()> {
    let Some(env) = Env::start_with_older_crd("uns-malformed").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;

    let g1 = env.plain("good1");
    env.create(&seal_items(&cert, &ns, "good-before", &[("v", &g1)])?)
        .await?;
    let ok_item = seal_items(&cert, &ns, "number", &[("fine", &env.plain("fine"))])?
        .spec
        .encrypted_data["fine"]
        .clone();
    env.create_json(
        &ns,
        serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "number", "namespace": ns},
            "spec": {"encryptedData": {"fine": ok_item, "count": 42}}
        }),
    )
    .await?;
    let ok_item = seal_items(&cert, &ns, "not-base64", &[("fine", &env.plain("fine"))])?
        .spec
        .encrypted_data["fine"]
        .clone();
    env.create_json(
        &ns,
        serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "not-base64", "namespace": ns},
            "spec": {"encryptedData": {"fine": ok_item, "broken": "%%% not base64 %%%"}}
        }),
    )
    .await?;
    let g2 = env.plain("good2");
    env.create(&seal_items(&cert, &ns, "good-after", &[("v", &g2)])?)
        .await?;

    let status = env
        .assert_fails(&ns, "number", "count", "ErrUnsealFailed")
        .await?;
    let message = condition(&status, "Synced")
        .unwrap()
        .message
        .clone()
        .unwrap_or_default();
    assert!(
        message.contains("spec.encryptedData.count") && message.contains("number"),
        "clear message: {message}"
    );
    let status = env
        .assert_fails(&ns, "not-base64", "(broken)", "ErrUnsealFailed")
        .await?;
    let message = condition(&status, "Synced")
        .unwrap()
        .message
        .clone()
        .unwrap_or_default();
    assert!(message.contains("base64"), "clear message: {message}");
    assert!(
        !message.contains("fine"),
        "only the broken item is named: {message}"
    );
    for (name, v) in [("good-before", &g1), ("good-after", &g2)] {
        assert_eq!(
            data(&env.wait_secret(&ns, name).await?),
            expected(&[("v", v)])
        );
        env.wait_synced(&ns, name, true).await?;
    }
    for name in ["number", "not-base64"] {
        assert!(
            env.secret_api(&ns).get_opt(name).await?.is_none(),
            "no Secret for {name}"
        );
    }

    // Fixing the malformed object makes it unseal.
    let fixed = env.plain("fixed");
    let spec = seal_items(&cert, &ns, "number", &[("count", &fixed)])?.spec;
    let patch = serde_json::json!({"spec": {"encryptedData": {"fine": null, "count": spec.encrypted_data["count"]}}});
    env.dynamic_api(&ns)
        .patch("number", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    assert_eq!(
        data(&env.wait_secret(&ns, "number").await?),
        expected(&[("count", &fixed)])
    );
    let status = env.wait_synced(&ns, "number", true).await?;
    assert_eq!(status.observed_generation, Some(2));
    env.finish().await
}

/// The shipped CRD refuses, at apply time, what the reference's refuses.
#[tokio::test]
async fn the_shipped_crd_refuses_non_string_items_and_a_missing_encrypted_data() -> Result<()> {
    let Some(env) = Env::start("uns-strict-crd").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let api = env.dynamic_api(&ns);
    for (name, spec) in [
        (
            "number",
            serde_json::json!({"encryptedData": {"password": 12345}}),
        ),
        (
            "missing",
            serde_json::json!({"template": {"type": "Opaque"}}),
        ),
    ] {
        let obj: kube::api::DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        }))?;
        let err = api
            .create(&PostParams::default(), &obj)
            .await
            .expect_err(name);
        ensure!(tests::cluster::is_api_status(&err, 422), "{name}: {err}");
        let text = err.to_string();
        ensure!(text.contains("encryptedData"), "{name}: {text}");
    }
    env.finish().await
}

/// A malformed object from an older CRD gets its condition and one Warning event, and a
/// restart writes neither again (finding: its status was rewritten, with a new event, at every
/// restart and key change).
#[tokio::test]
async fn a_malformed_object_is_reported_once() -> Result<()> {
    let Some(env) = Env::start_with_older_crd("uns-malformed-once").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    env.create_json(
        &ns,
        serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "bad", "namespace": ns},
            "spec": {"encryptedData": {"v": 12345}}
        }),
    )
    .await?;
    let status = env
        .assert_fails(&ns, "bad", "spec.encryptedData.v", "ErrUnsealFailed")
        .await?;
    let warnings = || async {
        let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(env.admin.clone(), &ns);
        anyhow::Ok(
            api.list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .filter(|e| e.type_.as_deref() == Some("Warning"))
                .map(|e| e.series.map_or(1, |s| s.count))
                .collect::<Vec<_>>(),
        )
    };
    ensure!(warnings().await? == vec![1], "{:?}", warnings().await?);
    drop(ctl);
    let ctl = env.unsealer(&[]).await?;
    tests::cluster::wait_for("the object looked at again", TIMEOUT, || async {
        let n = ctl
            .metric("sealed_secrets_controller_unseal_requests_total")
            .await?
            .unwrap_or(0.0);
        Ok((n >= 1.0).then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, after) = env.status(&ns, "bad").await?;
    ensure!(
        after.as_ref() == Some(&status),
        "status rewritten: {after:?}"
    );
    ensure!(warnings().await? == vec![1], "{:?}", warnings().await?);
    drop(ctl);
    env.finish().await
}
