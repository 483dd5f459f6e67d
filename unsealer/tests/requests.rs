//! What one SealedSecret costs the API server, counted in its audit log
//! (`TEST_CLUSTER_AUDIT_LOG`): a first unseal creates the Secret, writes the status and records
//! one event, and reads nothing; a new generation applies the Secret (status, event); a
//! restart with everything current makes no request for any object, and no RSA operation; a
//! deleted Secret costs one read of its SealedSecret, whose spec the store no longer holds,
//! and its create. The controller decides from its metadata cache of Secrets
//! (`unsealer::secret_cache`) and keeps only the specs still to be unsealed
//! (`unsealer::sealed_store`).
//!
//! Run: `tests/cluster/with-cluster.sh cargo test -p unsealer --test requests`.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use support::*;
use tests::cluster::wait_for;

const N: usize = 12;

/// The controller's requests about objects since `since`: Secrets (but not its key Secrets),
/// SealedSecrets and events, without its lists and watches, counted by
/// `verb resource[/subresource]`.
fn object_requests(user: &str, since: Timestamp) -> Result<BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    for r in requests_of(user, since)? {
        let about_objects = matches!(r.resource.as_str(), "secrets" | "sealedsecrets" | "events");
        let key_secret = r.uri.contains("/secrets/sealed-secrets-key");
        if !about_objects || key_secret || matches!(r.verb.as_str(), "list" | "watch") {
            continue;
        }
        let what = if r.subresource.is_empty() {
            format!("{} {}", r.verb, r.resource)
        } else {
            format!("{} {}/{}", r.verb, r.resource, r.subresource)
        };
        *counts.entry(what).or_default() += 1;
    }
    Ok(counts)
}

/// Waits until the audit log shows `expected` (entries are written as responses complete),
/// then a little longer, and returns what it shows then.
async fn settled(
    user: &str,
    since: Timestamp,
    expected: &BTreeMap<String, usize>,
) -> Result<BTreeMap<String, usize>> {
    let _ = wait_for("the audit log to show the requests", TIMEOUT, || async {
        let now = object_requests(user, since)?;
        Ok((now == *expected).then_some(()))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    object_requests(user, since)
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

#[tokio::test]
async fn first_sync_costs_three_requests_and_a_current_restart_none() -> Result<()> {
    let Some(env) = Env::start("uns-requests").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let user = format!("system:serviceaccount:{ns}:{UNSEALER_SA}");
    let admin_secrets: Api<Secret> = Api::namespaced(env.admin.clone(), &ns);
    for i in 0..5 {
        let other = Secret {
            metadata: ObjectMeta {
                name: Some(format!("someone-elses-{i}")),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        };
        admin_secrets.create(&PostParams::default(), &other).await?;
    }
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;

    let since = Timestamp::now();
    for i in 0..N {
        let (a, b) = (env.plain("a"), env.plain("b"));
        env.create(&seal_items(
            &cert,
            &ns,
            &format!("s{i}"),
            &[("a", &a), ("b", &b)],
        )?)
        .await?;
    }
    for i in 0..N {
        env.wait_synced(&ns, &format!("s{i}"), true).await?;
        env.wait_event(&ns, &format!("s{i}"), "Unsealed").await?;
    }
    let first = counts(&[
        ("create secrets", N),
        ("patch sealedsecrets/status", N),
        ("create events", N),
    ]);
    assert_eq!(
        settled(&user, since, &first).await?,
        first,
        "first sync: the Secret created, the status and one event per object; nothing read"
    );

    // A new generation: one apply, one status, one event.
    let value = env.plain("a2");
    let b = env.plain("b2");
    let resealed = seal_items(&cert, &ns, "s0", &[("a", &value), ("b", &b)])?;
    let since = Timestamp::now();
    env.update_spec(&ns, "s0", &resealed.spec).await?;
    env.wait_secret_where(&ns, "s0", "the new value", |s| {
        data(s).get("a") == Some(&value)
    })
    .await?;
    let update = counts(&[
        ("patch secrets", 1),
        ("patch sealedsecrets/status", 1),
        ("create events", 1),
    ]);
    assert_eq!(settled(&user, since, &update).await?, update, "an update");

    // A restart with everything current: every object looked at, nothing requested.
    ctl.terminate().await?;
    let since = Timestamp::now();
    let ctl = env.unsealer(&[]).await?;
    wait_for("every object looked at again", TIMEOUT, || async {
        Ok(ctl
            .metric("sealed_secrets_controller_unseal_requests_total")
            .await?
            .filter(|n| *n >= N as f64))
    })
    .await?;
    let none = BTreeMap::new();
    assert_eq!(
        settled(&user, since, &none).await?,
        none,
        "a restart with everything current"
    );
    assert_eq!(
        ctl.metric("sealed_secrets_controller_rsa_operations_total")
            .await?
            .unwrap_or_default(),
        0.0,
        "RSA operations on a restart with everything current"
    );

    // The Secret of a current object deleted: the store keeps no spec once an object is
    // reconciled, so the object is read once and its Secret created again; the status and
    // the event stand.
    let since = Timestamp::now();
    admin_secrets
        .delete("s1", &kube::api::DeleteParams::default())
        .await?;
    env.wait_secret(&ns, "s1").await?;
    let recreate = counts(&[("get sealedsecrets", 1), ("create secrets", 1)]);
    assert_eq!(
        settled(&user, since, &recreate).await?,
        recreate,
        "a deleted Secret created again"
    );
    drop(ctl);
    env.finish().await
}
