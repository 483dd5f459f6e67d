//! The reference controller's flags, on the real cluster: a Deployment written for the
//! reference starts, and the flags that change behaviour do.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, ensure};
use kube::api::DeleteParams;
use support::*;
use tests::cluster::wait_for;

/// The reference's full argument list (its Helm chart's and controller.yaml's flags with their
/// documented values) starts, and the labels, annotations, selector and skip-recreate act.
#[tokio::test]
async fn the_reference_argument_list_starts_and_acts() -> Result<()> {
    let Some(env) = Env::start("uns-ref-flags").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env
        .unsealer(&[
            "--key-prefix=sealed-secrets-key",
            "--key-renew-period=0",
            "--key-ttl=87600h",
            "--key-cutoff-time=",
            "--my-cn=",
            "--label-selector=team=a",
            "--privatekey-labels=owner=ops,tier=keys",
            "--privatekey-annotations=backup=daily",
            "--skip-recreate=true",
            "--old-gc-behavior=false",
            "--update-status=true",
            "--accept-deprecated-v1-data=true",
            "--watch-for-secrets=false",
            "--max-unseal-retries=5",
            "--rate-limit=2",
            "--rate-limit-burst=2",
            "--kubeclient-qps=5",
            "--kubeclient-burst=10",
            "--log-info-stdout=true",
            "--read-timeout=2m",
            "--write-timeout=2m",
            "--key-order-priority=CertNotBefore",
        ])
        .await?;
    let key = env.key_secrets().await?.pop().expect("a generated key");
    let labels = key.metadata.labels.clone().unwrap_or_default();
    ensure!(
        labels.get("owner").map(String::as_str) == Some("ops")
            && labels.get("tier").map(String::as_str) == Some("keys")
            && labels.get(KEY_LABEL).map(String::as_str) == Some("active"),
        "key labels: {labels:?}"
    );
    let annotations = key.metadata.annotations.clone().unwrap_or_default();
    ensure!(
        annotations.get("backup").map(String::as_str) == Some("daily"),
        "key annotations: {annotations:?}"
    );

    let cert = ctl.cert().await?;
    let mut selected = seal_items(&cert, &ns, "selected", &[("v", &env.plain("selected"))])?;
    selected.metadata.labels = Some(BTreeMap::from([("team".into(), "a".into())]));
    env.create(&selected).await?;
    let other = seal_items(&cert, &ns, "other", &[("v", &env.plain("other"))])?;
    env.create(&other).await?;
    env.wait_secret(&ns, "selected").await?;
    // --skip-recreate: a deleted Secret stays deleted.
    env.secret_api(&ns)
        .delete("selected", &DeleteParams::default())
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(
        env.secret_api(&ns).get_opt("selected").await?.is_none(),
        "recreated despite --skip-recreate"
    );
    // --label-selector: the unlabelled object is not the controller's.
    ensure!(
        env.secret_api(&ns).get_opt("other").await?.is_none(),
        "unsealed an object outside --label-selector"
    );
    let (_, status) = env.status(&ns, "other").await?;
    ensure!(status.is_none(), "status on an object outside the selector");
    drop(ctl);
    env.finish().await
}

/// SIGUSR1 makes a new key at once, as with the reference.
#[tokio::test]
async fn sigusr1_generates_a_key() -> Result<()> {
    let Some(env) = Env::start("uns-usr1").await? else {
        return Ok(());
    };
    let ctl = env.unsealer(&[]).await?;
    let before = ctl.cert_pem().await?;
    ensure!(env.key_secrets().await?.len() == 1, "one key at start");
    // The newest key is the one with the latest certificate NotBefore, in whole seconds (as
    // the reference orders them): let the second key's be later than the first's.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let pid = ctl.pid().expect("running");
    let status = std::process::Command::new("kill")
        .args(["-USR1", &pid.to_string()])
        .status()?;
    ensure!(status.success(), "kill -USR1 failed");
    wait_for("a second key", TIMEOUT, || async {
        Ok((env.key_secrets().await?.len() == 2).then_some(()))
    })
    .await?;
    wait_for("the new certificate served", TIMEOUT, || async {
        Ok((ctl.cert_pem().await? != before).then_some(()))
    })
    .await?;
    drop(ctl);
    env.finish().await
}
