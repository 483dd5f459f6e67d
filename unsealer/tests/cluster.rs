//! The unsealer against a real cluster (etcd + kube-apiserver with RBAC + kube-controller-manager
//! with the garbage collector), run as a local process with the ServiceAccount token of the
//! shipped `manifests/rbac.yaml`.
//!
//! Run: `tests/cluster/with-cluster.sh cargo test -p unsealer --test cluster`.
//! Without the cluster these tests fail with a message saying so, unless SKIP_CLUSTER_TESTS=1.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use shared::keys::{KeySize, generate};
use shared::marks::{MANAGED, PATCH, SKIP_SET_OWNER_REFERENCES};
use shared::resource::SealedSecretStatus;
use shared::{Certificate, Scope, SealedSecret};
use support::*;
use tests::cluster::{self, wait_for};

const NO_KEY: &str = "no key could decrypt secret";

fn string_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An existing Secret made by someone else (the admin), with `annotations`.
fn plain_secret(
    name: &str,
    annotations: &[(&str, &str)],
    labels: &[(&str, &str)],
    items: &[(&str, &str)],
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            annotations: Some(string_map(annotations)).filter(|a| !a.is_empty()),
            labels: Some(string_map(labels)).filter(|l| !l.is_empty()),
            ..ObjectMeta::default()
        },
        data: Some(byte_items(items)),
        ..Secret::default()
    }
}

/// Create (data, ownerReference, label, status, event, metrics), update (new items, removed item
/// gone, observedGeneration 2) and delete (the Secret is garbage-collected).
#[tokio::test]
async fn create_update_delete() -> Result<()> {
    let Some(env) = Env::start("uns-crud").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    let (user, pass) = (env.plain("user"), env.plain("pass"));

    let ss = env
        .create(&seal_items(
            &cert,
            &ns,
            "app",
            &[("username", &user), ("password", &pass)],
        )?)
        .await?;
    let secret = env.wait_secret(&ns, "app").await?;
    assert_eq!(
        data(&secret),
        expected(&[("username", &user), ("password", &pass)])
    );
    assert_owned_by(&secret, &ss);
    // Exactly the template's labels (none here), as the reference writes them: no mark of ours.
    assert_eq!(
        secret.metadata.labels.clone().unwrap_or_default(),
        BTreeMap::new()
    );
    assert_eq!(secret.type_.as_deref(), Some("Opaque"));

    let status = env.wait_synced(&ns, "app", true).await?;
    assert_eq!(status.observed_generation, Some(1));
    let synced = condition(&status, "Synced").unwrap();
    assert!(
        synced.message.as_deref().unwrap_or("").is_empty(),
        "no message on success: {synced:?}"
    );
    assert!(
        synced.last_transition_time.is_some() && synced.last_update_time.is_some(),
        "{synced:?}"
    );
    assert_eq!(
        condition(&status, "Ready").map(|c| c.status.as_str()),
        Some("True")
    );
    let event = env.wait_event(&ns, "app", "Unsealed").await?;
    assert_eq!(event.type_.as_deref(), Some("Normal"));
    assert_eq!(
        event.note.as_deref(),
        Some("SealedSecret unsealed successfully")
    );
    let requests = ctl
        .metric("sealed_secrets_controller_unseal_requests_total")
        .await?;
    assert!(
        requests.is_some_and(|n| n >= 1.0),
        "unseal_requests_total: {requests:?}\n{}",
        ctl.metrics().await?
    );

    // Update: password replaced by token.
    let token = env.plain("token");
    let next = seal_items(&cert, &ns, "app", &[("username", &user), ("token", &token)])?;
    env.update_spec(&ns, "app", &next.spec).await?;
    let want = expected(&[("username", &user), ("token", &token)]);
    let secret = env
        .wait_secret_where(&ns, "app", "to hold the new items", |s| data(s) == want)
        .await?;
    assert_owned_by(&secret, &ss);
    let status = env.wait_synced(&ns, "app", true).await?;
    assert_eq!(status.observed_generation, Some(2));

    // Delete: the garbage collector removes the Secret with its owner.
    env.delete_sealed(&ns, "app").await?;
    env.wait_secret_gone(&ns, "app", GC_TIMEOUT).await?;
    env.finish().await
}

/// Strict (the default), namespace-wide moved to another name, cluster-wide moved to another
/// namespace and name; a namespace-wide one moved to another namespace fails.
#[tokio::test]
async fn scopes() -> Result<()> {
    let Some(env) = Env::start("uns-scope").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let other = env.namespace("uns-scope-b").await?;
    let ctl = env
        .unsealer(&[&format!("--additional-namespaces={other}")])
        .await?;
    let cert = ctl.cert().await?;

    let v = env.plain("strict");
    env.create(&seal_items(&cert, &ns, "strict", &[("v", &v)])?)
        .await?;

    let nsw = env.plain("nswide");
    let sealed = seal(
        &cert,
        &secret(&ns, "orig", Scope::NamespaceWide, &[("v", &nsw)]),
    )?;
    env.create(&moved(&sealed, &ns, "renamed")).await?;
    env.create(&moved(&sealed, &other, "orig")).await?;

    let cw = env.plain("clusterwide");
    let sealed = seal(
        &cert,
        &secret(&ns, "orig-cw", Scope::ClusterWide, &[("v", &cw)]),
    )?;
    env.create(&moved(&sealed, &other, "elsewhere")).await?;

    let s = env.wait_secret(&ns, "strict").await?;
    assert_eq!(data(&s), expected(&[("v", &v)]));
    let s = env.wait_secret(&ns, "renamed").await?;
    assert_eq!(data(&s), expected(&[("v", &nsw)]));
    let s = env.wait_secret(&other, "elsewhere").await?;
    assert_eq!(data(&s), expected(&[("v", &cw)]));
    for (n, name) in [(&ns, "strict"), (&ns, "renamed"), (&other, "elsewhere")] {
        env.wait_synced(n, name, true).await?;
    }
    env.assert_fails(&other, "orig", NO_KEY, "ErrUnsealFailed")
        .await?;
    assert!(env.secret_api(&other).get_opt("orig").await?.is_none());
    env.finish().await
}

/// A strict SealedSecret put under another name or into another namespace does not unseal:
/// Synced False, ErrUnsealFailed, no Secret.
#[tokio::test]
async fn wrong_namespace_or_name_fails() -> Result<()> {
    let Some(env) = Env::start("uns-wrong").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let other = env.namespace("uns-wrong-b").await?;
    let ctl = env
        .unsealer(&[&format!("--additional-namespaces={other}")])
        .await?;
    let cert = ctl.cert().await?;
    let v = env.plain("v");
    let sealed = seal_items(&cert, &ns, "right", &[("v", &v)])?;
    env.create(&moved(&sealed, &ns, "wrong-name")).await?;
    env.create(&moved(&sealed, &other, "right")).await?;
    for (n, name) in [(&ns, "wrong-name"), (&other, "right")] {
        let status = env
            .assert_fails(n, name, &format!("{NO_KEY} (v)"), "ErrUnsealFailed")
            .await?;
        assert_eq!(
            condition(&status, "Synced").unwrap().reason.as_deref(),
            Some("UnsealFailed")
        );
        assert!(
            env.secret_api(n).get_opt(name).await?.is_none(),
            "no Secret for {n}/{name}"
        );
    }
    let (_, note) = env
        .events(&ns, "wrong-name")
        .await?
        .into_iter()
        .find(|(r, _)| r == "ErrUnsealFailed")
        .unwrap();
    assert!(note.contains(NO_KEY), "event note: {note}");
    // The right place still works.
    env.create(&sealed).await?;
    assert_eq!(
        data(&env.wait_secret(&ns, "right").await?),
        expected(&[("v", &v)])
    );
    env.finish().await
}

/// A tampered ciphertext and one from a key the controller does not have both fail, naming
/// exactly the bad items, and the whole object fails (no partial Secret).
#[tokio::test]
async fn tampered_and_unknown_key_fail() -> Result<()> {
    let Some(env) = Env::start("uns-tamper").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;

    let (good, bad) = (env.plain("good"), env.plain("bad"));
    let mut ss = seal_items(&cert, &ns, "tampered", &[("good", &good), ("bad", &bad)])?;
    let mut bytes = B64.decode(&ss.spec.encrypted_data["bad"])?;
    let last = bytes.len() - 20; // inside the AES-GCM payload
    bytes[last] ^= 0x01;
    ss.spec
        .encrypted_data
        .insert("bad".into(), B64.encode(&bytes));
    env.create(&ss).await?;

    let stranger = generate(
        KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        Duration::from_secs(3600),
        "",
        [7; 16],
    )?;
    let stranger = Certificate::from_pem(stranger.cert_pem.as_bytes())?;
    let foreign = env.plain("foreign");
    env.create(&seal_items(
        &stranger,
        &ns,
        "unknown-key",
        &[("x", &foreign)],
    )?)
    .await?;

    let status = env
        .assert_fails(
            &ns,
            "tampered",
            &format!("{NO_KEY} (bad)"),
            "ErrUnsealFailed",
        )
        .await?;
    let message = condition(&status, "Synced")
        .unwrap()
        .message
        .clone()
        .unwrap_or_default();
    assert!(
        !message.contains("good"),
        "only the bad item is named: {message}"
    );
    env.assert_fails(
        &ns,
        "unknown-key",
        &format!("{NO_KEY} (x)"),
        "ErrUnsealFailed",
    )
    .await?;
    for name in ["tampered", "unknown-key"] {
        assert!(
            env.secret_api(&ns).get_opt(name).await?.is_none(),
            "no Secret for {name}"
        );
    }
    assert!(
        ctl.metric("sealed_secrets_controller_unseal_errors_total")
            .await?
            .is_some_and(|n| n >= 2.0)
    );
    env.finish().await
}

/// Template labels and annotations, the types kubernetes.io/tls and kubernetes.io/dockerconfigjson,
/// and immutable (an update of an immutable Secret's data fails with ErrUpdateFailed).
#[tokio::test]
async fn template_metadata_type_and_immutable() -> Result<()> {
    let Some(env) = Env::start("uns-tmpl").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;

    let v = env.plain("labelled");
    let mut s = secret(&ns, "labelled", Scope::Strict, &[("v", &v)]);
    s.metadata.labels = Some(string_map(&[("app", "web"), ("tier", "db")]));
    s.metadata.annotations = Some(string_map(&[("example.com/note", "hello")]));
    env.create(&seal(&cert, &s)?).await?;

    let (crt, key) = (env.plain("tls-crt"), env.plain("tls-key"));
    let mut s = secret(
        &ns,
        "tls",
        Scope::Strict,
        &[("tls.crt", &crt), ("tls.key", &key)],
    );
    s.type_ = Some("kubernetes.io/tls".into());
    env.create(&seal(&cert, &s)?).await?;

    let auth = env.plain("docker-auth");
    let docker = serde_json::json!({"auths": {"registry.example.com": {"auth": auth}}}).to_string();
    let mut s = secret(
        &ns,
        "docker",
        Scope::Strict,
        &[(".dockerconfigjson", &docker)],
    );
    s.type_ = Some("kubernetes.io/dockerconfigjson".into());
    env.create(&seal(&cert, &s)?).await?;

    let frozen = env.plain("frozen");
    let mut s = secret(&ns, "frozen", Scope::Strict, &[("v", &frozen)]);
    s.immutable = Some(true);
    env.create(&seal(&cert, &s)?).await?;

    let got = env.wait_secret(&ns, "labelled").await?;
    let labels = got.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get("app").map(String::as_str),
        Some("web"),
        "{labels:?}"
    );
    assert_eq!(
        labels.get("tier").map(String::as_str),
        Some("db"),
        "{labels:?}"
    );
    let annotations = got.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations.get("example.com/note").map(String::as_str),
        Some("hello"),
        "{annotations:?}"
    );
    assert_eq!(data(&got), expected(&[("v", &v)]));

    let got = env.wait_secret(&ns, "tls").await?;
    assert_eq!(got.type_.as_deref(), Some("kubernetes.io/tls"));
    assert_eq!(
        data(&got),
        expected(&[("tls.crt", &crt), ("tls.key", &key)])
    );
    let got = env.wait_secret(&ns, "docker").await?;
    assert_eq!(got.type_.as_deref(), Some("kubernetes.io/dockerconfigjson"));
    assert_eq!(data(&got), expected(&[(".dockerconfigjson", &docker)]));
    let got = env.wait_secret(&ns, "frozen").await?;
    assert_eq!(got.immutable, Some(true));
    assert_eq!(data(&got), expected(&[("v", &frozen)]));
    for name in ["labelled", "tls", "docker", "frozen"] {
        env.wait_synced(&ns, name, true).await?;
    }

    // New data for an immutable Secret cannot be written.
    let thawed = env.plain("thawed");
    let mut s = secret(&ns, "frozen", Scope::Strict, &[("v", &thawed)]);
    s.immutable = Some(true);
    env.update_spec(&ns, "frozen", &seal(&cert, &s)?.spec)
        .await?;
    env.assert_fails(&ns, "frozen", "immutable", "ErrUpdateFailed")
        .await?;
    let got = env.secret_api(&ns).get("frozen").await?;
    assert_eq!(
        data(&got),
        expected(&[("v", &frozen)]),
        "the immutable Secret is unchanged"
    );
    env.finish().await
}

/// An existing Secret that is neither owned nor annotated is left untouched: Synced False with
/// the reference's message, ErrUpdateFailed.
#[tokio::test]
async fn existing_unowned_secret_is_left_untouched() -> Result<()> {
    let Some(env) = Env::start("uns-foreign").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let mine = env.plain("mine");
    let before = env
        .secret_api(&ns)
        .create(
            &PostParams::default(),
            &plain_secret(
                "taken",
                &[("owner", "me")],
                &[("team", "x")],
                &[("mine", &mine)],
            ),
        )
        .await?;
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    let theirs = env.plain("theirs");
    env.create(&seal_items(&cert, &ns, "taken", &[("theirs", &theirs)])?)
        .await?;

    let status = env
        .assert_fails(
            &ns,
            "taken",
            "Resource \"taken\" already exists and is not managed by SealedSecret",
            "ErrUpdateFailed",
        )
        .await?;
    assert_eq!(
        condition(&status, "Synced").unwrap().reason.as_deref(),
        Some("SecretNotOwned")
    );
    let after = env.secret_api(&ns).get("taken").await?;
    assert_eq!(
        after.metadata.resource_version, before.metadata.resource_version,
        "the Secret was not written"
    );
    assert_eq!(data(&after), expected(&[("mine", &mine)]));
    assert!(after.metadata.owner_references.is_none());
    env.finish().await
}

/// `managed: "true"` on an existing Secret: taken over (owner set, data, labels and annotations
/// replaced); later updates replace the data whole (an item removed from the SealedSecret goes).
#[tokio::test]
async fn managed_secret_is_taken_over() -> Result<()> {
    let Some(env) = Env::start("uns-managed").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let old = env.plain("old");
    env.secret_api(&ns)
        .create(
            &PostParams::default(),
            &plain_secret(
                "legacy",
                &[(MANAGED, "true"), ("x", "y")],
                &[("old-label", "1")],
                &[("old", &old), ("a", &old)],
            ),
        )
        .await?;
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    let (a, b) = (env.plain("a"), env.plain("b"));
    let mut s = secret(&ns, "legacy", Scope::Strict, &[("a", &a), ("b", &b)]);
    s.metadata.labels = Some(string_map(&[("new-label", "2")]));
    let ss = env.create(&seal(&cert, &s)?).await?;

    let want = expected(&[("a", &a), ("b", &b)]);
    let got = env
        .wait_secret_where(&ns, "legacy", "to be taken over", |s| data(s) == want)
        .await?;
    assert_owned_by(&got, &ss);
    let labels = got.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get("new-label").map(String::as_str),
        Some("2"),
        "{labels:?}"
    );
    assert!(
        !labels.contains_key("old-label"),
        "labels replaced: {labels:?}"
    );
    let annotations = got.metadata.annotations.clone().unwrap_or_default();
    assert!(
        !annotations.contains_key(MANAGED) && !annotations.contains_key("x"),
        "annotations replaced: {annotations:?}"
    );
    env.wait_synced(&ns, "legacy", true).await?;

    // Drop item b: the taken-over Secret must follow exactly.
    env.update_spec(
        &ns,
        "legacy",
        &seal(&cert, &secret(&ns, "legacy", Scope::Strict, &[("a", &a)]))?.spec,
    )
    .await?;
    let want = expected(&[("a", &a)]);
    env.wait_secret_where(&ns, "legacy", "to hold exactly the updated items", |s| {
        data(s) == want
    })
    .await?;
    env.finish().await
}

/// A Secret already controlled by the SealedSecret but written by another client (as after a
/// migration from the reference controller, which writes with Update) is replaced whole: an item
/// the SealedSecret does not have does not survive.
#[tokio::test]
async fn secret_written_by_previous_controller_is_replaced_whole() -> Result<()> {
    let Some(env) = Env::start("uns-migrate").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    // A first run only to get a key; the SealedSecret is created while no controller runs.
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    ctl.kill().await?;
    let (v, stale) = (env.plain("v"), env.plain("stale"));
    let ss = env
        .create(&seal_items(&cert, &ns, "migrated", &[("v", &v)])?)
        .await?;
    let mut existing = plain_secret("migrated", &[], &[], &[("v", &v), ("stale", &stale)]);
    existing.metadata.owner_references =
        Some(vec![shared::unseal::owner_reference(&ss, "migrated")]);
    env.secret_api(&ns)
        .create(&PostParams::default(), &existing)
        .await?;

    let _ctl = env.unsealer(&[]).await?;
    let want = expected(&[("v", &v)]);
    env.wait_secret_where(
        &ns,
        "migrated",
        "to hold exactly the SealedSecret's items",
        |s| data(s) == want,
    )
    .await?;
    env.wait_synced(&ns, "migrated", true).await?;
    env.finish().await
}

/// `patch: "true"` on an existing Secret: the items, labels and annotations are merged in, the
/// Secret's own items are kept, and no ownerReference is set.
#[tokio::test]
async fn patch_secret_is_merged() -> Result<()> {
    let Some(env) = Env::start("uns-patch").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let (other, old) = (env.plain("other"), env.plain("old"));
    env.secret_api(&ns)
        .create(
            &PostParams::default(),
            &plain_secret(
                "cfg",
                &[(PATCH, "true")],
                &[("team", "x")],
                &[("other", &other), ("shared", &old)],
            ),
        )
        .await?;
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    let (new, added) = (env.plain("new"), env.plain("added"));
    let mut s = secret(
        &ns,
        "cfg",
        Scope::Strict,
        &[("shared", &new), ("added", &added)],
    );
    s.metadata.labels = Some(string_map(&[("app", "y")]));
    env.create(&seal(&cert, &s)?).await?;

    let want = expected(&[("other", &other), ("shared", &new), ("added", &added)]);
    let got = env
        .wait_secret_where(&ns, "cfg", "to be merged", |s| data(s) == want)
        .await?;
    assert!(
        got.metadata
            .owner_references
            .as_ref()
            .is_none_or(|o| o.is_empty()),
        "no owner: {:?}",
        got.metadata.owner_references
    );
    let labels = got.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get("team").map(String::as_str),
        Some("x"),
        "{labels:?}"
    );
    assert_eq!(
        labels.get("app").map(String::as_str),
        Some("y"),
        "{labels:?}"
    );
    assert_eq!(
        got.metadata
            .annotations
            .unwrap_or_default()
            .get(PATCH)
            .map(String::as_str),
        Some("true")
    );
    env.wait_synced(&ns, "cfg", true).await?;
    env.finish().await
}

/// `skip-set-owner-references` in the template: no ownerReference, the Secret outlives its
/// SealedSecret, and the controller can still update the Secret it wrote.
#[tokio::test]
async fn skip_set_owner_references() -> Result<()> {
    let Some(env) = Env::start("uns-skip").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    let v = env.plain("v");
    let mut s = secret(&ns, "orphan", Scope::Strict, &[("v", &v)]);
    s.metadata.annotations = Some(string_map(&[(SKIP_SET_OWNER_REFERENCES, "true")]));
    env.create(&seal(&cert, &s)?).await?;
    let got = env.wait_secret(&ns, "orphan").await?;
    assert!(
        got.metadata
            .owner_references
            .as_ref()
            .is_none_or(|o| o.is_empty()),
        "{:?}",
        got.metadata.owner_references
    );
    assert_eq!(data(&got), expected(&[("v", &v)]));
    env.wait_synced(&ns, "orphan", true).await?;

    let w = env.plain("w");
    let mut s = secret(&ns, "orphan", Scope::Strict, &[("w", &w)]);
    s.metadata.annotations = Some(string_map(&[(SKIP_SET_OWNER_REFERENCES, "true")]));
    env.update_spec(&ns, "orphan", &seal(&cert, &s)?.spec)
        .await?;
    let status = env.wait_synced(&ns, "orphan", true).await;
    let (_, now) = env.status(&ns, "orphan").await?;
    status.with_context(|| {
        format!("updating a Secret written with skip-set-owner-references; status {now:?}")
    })?;
    let want = expected(&[("w", &w)]);
    env.wait_secret_where(&ns, "orphan", "to be updated", |s| data(s) == want)
        .await?;

    env.delete_sealed(&ns, "orphan").await?;
    wait_for("the SealedSecret to be gone", TIMEOUT, || async {
        Ok(env
            .sealed_api(&ns)
            .get_opt("orphan")
            .await?
            .is_none()
            .then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        env.secret_api(&ns).get_opt("orphan").await?.is_some(),
        "the Secret outlives its SealedSecret"
    );
    env.finish().await
}

/// A Secret the controller wrote and someone deleted is recreated.
#[tokio::test]
async fn deleted_secret_is_recreated() -> Result<()> {
    let Some(env) = Env::start("uns-recreate").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    let v = env.plain("v");
    let ss = env
        .create(&seal_items(&cert, &ns, "again", &[("v", &v)])?)
        .await?;
    let first = env.wait_secret(&ns, "again").await?;
    env.secret_api(&ns)
        .delete("again", &DeleteParams::default())
        .await?;
    let old_uid = first.metadata.uid.clone();
    let second = env
        .wait_secret_where(&ns, "again", "to be recreated", |s| {
            s.metadata.uid != old_uid
        })
        .await?;
    assert_eq!(data(&second), expected(&[("v", &v)]));
    assert_owned_by(&second, &ss);
    env.finish().await
}

/// A key Secret added by hand (the reference vector key) is picked up live: a SealedSecret
/// sealed with it that was failing starts to unseal, without a restart.
#[tokio::test]
async fn key_added_by_hand_is_used_without_restart() -> Result<()> {
    let Some(env) = Env::start("uns-addkey").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let own_cert = ctl.cert_pem().await?;
    let vector = Certificate::from_pem(VECTOR_CERT.as_bytes())?;
    let v = env.plain("v");
    env.create(&seal_items(&vector, &ns, "later", &[("v", &v)])?)
        .await?;
    env.assert_fails(&ns, "later", NO_KEY, "ErrUnsealFailed")
        .await?;

    env.install_vector_key("sealed-secrets-key-byhand").await?;
    let got = env.wait_secret(&ns, "later").await?;
    assert_eq!(data(&got), expected(&[("v", &v)]));
    env.wait_synced(&ns, "later", true).await?;
    // The controller's own key is newer (NotBefore), so it still seals.
    assert_eq!(ctl.cert_pem().await?, own_cert);
    env.finish().await
}

/// `--key-renew-period 10s`: a new key appears, /v1/cert.pem changes, and SealedSecrets sealed
/// with the old key keep unsealing (existing and new ones).
#[tokio::test]
async fn key_renewal_keeps_old_keys() -> Result<()> {
    let Some(env) = Env::start("uns-renew").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&["--key-renew-period=10s"]).await?;
    let first_pem = ctl.cert_pem().await?;
    let first = Certificate::from_pem(first_pem.as_bytes())?;
    let (a, b, c) = (env.plain("a"), env.plain("b"), env.plain("c"));
    env.create(&seal_items(&first, &ns, "before", &[("v", &a)])?)
        .await?;
    env.wait_synced(&ns, "before", true).await?;

    let second_pem = wait_for(
        "/v1/cert.pem to change after renewal",
        Duration::from_secs(40),
        || async {
            let pem = ctl.cert_pem().await?;
            Ok((pem != first_pem).then_some(pem))
        },
    )
    .await?;
    let second = Certificate::from_pem(second_pem.as_bytes())?;
    env.create(&seal_items(&second, &ns, "after", &[("v", &b)])?)
        .await?;
    env.create(&seal_items(
        &first,
        &ns,
        "old-key-new-object",
        &[("v", &c)],
    )?)
    .await?;
    for (name, v) in [("after", &b), ("old-key-new-object", &c), ("before", &a)] {
        let got = env.wait_secret(&ns, name).await?;
        assert_eq!(data(&got), expected(&[("v", v)]), "{name}");
        env.wait_synced(&ns, name, true).await?;
    }
    let keys = env.key_secrets().await?;
    assert!(
        keys.len() >= 2,
        "renewal added a key Secret: {}",
        keys.len()
    );
    env.finish().await
}

/// A key relabelled `compromised` is retired live: no longer served, no longer used to unseal
/// new objects; the remaining key takes over.
/// The runbook's compromise: the newest key relabelled `compromised`. The controller makes a
/// new key at once (it seals, not the next older key); the object that needed the compromised
/// key gets one `KeyNotActive` warning and is counted as needing an inactive key; an object
/// sealed for the compromised key no longer opens; one for a key still active does.
#[tokio::test]
async fn compromised_key_is_retired() -> Result<()> {
    let Some(env) = Env::start("uns-compromised").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let own_pem = ctl.cert_pem().await?;
    let own = Certificate::from_pem(own_pem.as_bytes())?;
    env.install_vector_key("sealed-secrets-key-kept").await?;
    wait_for("both keys loaded", TIMEOUT, || async {
        Ok(ctl
            .metric("sealed_secrets_controller_keys")
            .await?
            .filter(|n| *n == 2.0))
    })
    .await?;
    let w = env.plain("w");
    env.create(&seal_items(&own, &ns, "before", &[("v", &w)])?)
        .await?;
    env.wait_synced(&ns, "before", true).await?;

    let own_key = env
        .key_secrets()
        .await?
        .into_iter()
        .find(|s| s.metadata.name.as_deref() != Some("sealed-secrets-key-kept"))
        .context("the controller's own key Secret")?;
    let patch = serde_json::json!({"metadata": {"labels": {KEY_LABEL: "compromised"}}});
    env.secret_api(&ns)
        .patch(
            own_key.metadata.name.as_deref().unwrap(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;

    let vector_pem = VECTOR_CERT.to_owned();
    let fresh_pem = wait_for(
        "/v1/cert.pem to serve a new key instead of the compromised one",
        TIMEOUT,
        || async {
            let pem = ctl.cert_pem().await?;
            Ok((pem != own_pem && pem.trim() != vector_pem.trim()).then_some(pem))
        },
    )
    .await?;
    let fresh = Certificate::from_pem(fresh_pem.as_bytes())?;
    let active: Vec<Secret> = env
        .key_secrets()
        .await?
        .into_iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.get(KEY_LABEL).map(String::as_str) == Some("active"))
        })
        .collect();
    assert_eq!(active.len(), 2, "the kept key and the new one");

    // The object that needed the compromised key: warned once, and counted.
    let warning = env.wait_event(&ns, "before", "KeyNotActive").await?;
    let fingerprint = own.public_key().fingerprint();
    assert!(
        warning
            .note
            .as_deref()
            .unwrap_or_default()
            .contains(&fingerprint),
        "{warning:?}"
    );
    wait_for(
        "the object counted as needing an inactive key",
        TIMEOUT,
        || async {
            Ok(ctl
                .metric("sealed_secrets_controller_objects_needing_inactive_keys")
                .await?
                .filter(|n| *n == 1.0))
        },
    )
    .await?;
    let warnings = env
        .events(&ns, "before")
        .await?
        .into_iter()
        .filter(|(reason, _)| reason == "KeyNotActive")
        .count();
    assert_eq!(warnings, 1);

    let (x, y, z) = (env.plain("x"), env.plain("y"), env.plain("z"));
    env.create(&seal_items(&own, &ns, "with-compromised", &[("v", &x)])?)
        .await?;
    let vector = Certificate::from_pem(VECTOR_CERT.as_bytes())?;
    env.create(&seal_items(&vector, &ns, "with-kept", &[("v", &y)])?)
        .await?;
    env.create(&seal_items(&fresh, &ns, "with-new", &[("v", &z)])?)
        .await?;
    env.assert_fails(&ns, "with-compromised", NO_KEY, "ErrUnsealFailed")
        .await?;
    assert_eq!(
        data(&env.wait_secret(&ns, "with-kept").await?),
        expected(&[("v", &y)])
    );
    assert_eq!(
        data(&env.wait_secret(&ns, "with-new").await?),
        expected(&[("v", &z)])
    );
    assert!(
        env.secret_api(&ns)
            .get_opt("with-compromised")
            .await?
            .is_none()
    );
    env.finish().await
}

/// SIGKILL shortly after start, while many SealedSecrets wait: after a restart every one ends
/// Synced with exactly its data and owner, and nothing else was written (no extra key either).
#[tokio::test]
async fn sigkill_mid_run_loses_nothing() -> Result<()> {
    const N: usize = 40;
    let Some(env) = Env::start("uns-sigkill").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    ctl.kill().await?;

    let mut want = BTreeMap::new();
    let mut objects = Vec::new();
    for i in 0..N {
        let name = format!("many-{i}");
        let (a, b) = (env.plain("a"), env.plain("b"));
        objects.push(seal_items(&cert, &ns, &name, &[("a", &a), ("b", &b)])?);
        want.insert(name, expected(&[("a", &a), ("b", &b)]));
    }
    let created = futures::future::try_join_all(objects.iter().map(|ss| env.create(ss))).await?;

    let ctl = env.unsealer(&[]).await?;
    wait_for("the first Secret", TIMEOUT, || async {
        let n = env.unsealed_secrets(&ns).await?.len();
        Ok((n > 0).then_some(()))
    })
    .await?;
    ctl.kill().await?;
    let at_kill = env.unsealed_secrets(&ns).await?.len();
    eprintln!("SIGKILL with {at_kill}/{N} Secrets written");

    let _ctl = env.unsealer(&[]).await?;
    for ss in &created {
        let name = ss.metadata.name.clone().unwrap();
        let got = env.wait_secret(&ns, &name).await?;
        assert_eq!(data(&got), want[&name], "{name}");
        assert_owned_by(&got, ss);
        env.wait_synced(&ns, &name, true).await?;
    }
    assert_eq!(
        env.unsealed_secrets(&ns).await?.len(),
        N,
        "no other Secret was written"
    );
    assert_eq!(env.key_secrets().await?.len(), 1, "restarts reuse the key");
    env.finish().await
}

/// What Argo CD's built-in health check for bitnami.com/SealedSecret reads: a `Synced`
/// condition False means Degraded with its message.
fn argo_health(status: Option<&SealedSecretStatus>) -> (&'static str, String) {
    for c in status.map(|s| s.conditions.as_slice()).unwrap_or_default() {
        if c.type_ == "Synced" && c.status == "False" {
            return ("Degraded", c.message.clone().unwrap_or_default());
        }
    }
    ("Healthy", String::new())
}

/// Flux's kstatus for a custom resource: observedGeneration must match, then the Ready condition.
fn kstatus(generation: Option<i64>, status: Option<&SealedSecretStatus>) -> &'static str {
    let Some(status) = status else {
        return "InProgress";
    };
    if status.observed_generation != generation {
        return "InProgress";
    }
    match condition(status, "Ready").map(|c| c.status.as_str()) {
        Some("True") => "Current",
        Some("False") => "Failed",
        _ => "InProgress",
    }
}

/// The status Argo CD (Synced True/False + message) and Flux kstatus (Ready, observedGeneration
/// == generation) need, for success, failure and a fix.
#[tokio::test]
async fn status_for_argo_cd_and_flux() -> Result<()> {
    let Some(env) = Env::start("uns-status").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    let wrong = seal_items(&cert, &ns, "someone-else", &[("v", &env.plain("v"))])?;
    env.create(&seal_items(&cert, &ns, "good", &[("v", &env.plain("v"))])?)
        .await?;
    env.create(&moved(&wrong, &ns, "bad")).await?;

    env.wait_synced(&ns, "good", true).await?;
    let (generation, status) = env.status(&ns, "good").await?;
    assert_eq!(argo_health(status.as_ref()).0, "Healthy");
    assert_eq!(
        kstatus(generation, status.as_ref()),
        "Current",
        "{status:?}"
    );
    let status = status.unwrap();
    assert_eq!(
        status.conditions[0].type_, "Synced",
        "printer columns read conditions[0]"
    );

    env.wait_synced(&ns, "bad", false).await?;
    let (generation, status) = env.status(&ns, "bad").await?;
    let (health, message) = argo_health(status.as_ref());
    assert_eq!(health, "Degraded");
    assert!(message.contains(NO_KEY), "{message}");
    assert_eq!(kstatus(generation, status.as_ref()), "Failed", "{status:?}");
    let ready = condition(status.as_ref().unwrap(), "Ready")
        .unwrap()
        .clone();
    assert!(
        ready.message.as_deref().unwrap_or("").contains(NO_KEY),
        "Ready carries the message: {ready:?}"
    );
    let failed_at = condition(status.as_ref().unwrap(), "Synced")
        .unwrap()
        .last_transition_time
        .clone();

    // Fix it: a new generation, Synced flips to True with the message cleared. (Times have
    // one-second resolution: let one pass so the transition is visible.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fixed = seal_items(&cert, &ns, "bad", &[("v", &env.plain("v"))])?;
    env.update_spec(&ns, "bad", &fixed.spec).await?;
    let status = env.wait_synced(&ns, "bad", true).await?;
    let (generation, status2) = env.status(&ns, "bad").await?;
    assert_eq!(generation, Some(2));
    assert_eq!(status.observed_generation, Some(2));
    assert_eq!(kstatus(generation, status2.as_ref()), "Current");
    assert_eq!(argo_health(Some(&status)).0, "Healthy");
    let synced = condition(&status, "Synced").unwrap();
    assert!(
        synced.message.as_deref().unwrap_or("").is_empty(),
        "message cleared: {synced:?}"
    );
    assert_ne!(
        synced.last_transition_time, failed_at,
        "lastTransitionTime moves on a flip"
    );
    env.finish().await
}

/// Success and every failure path with all log levels at debug: no plaintext, nor its base64,
/// appears in the controller's log.
#[tokio::test]
async fn no_secret_values_in_logs() -> Result<()> {
    let Some(env) = Env::start("uns-leak").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env
        .unsealer(&["--log-level=debug", "--log-format=text"])
        .await?;
    let cert = ctl.cert().await?;

    env.create(&seal_items(
        &cert,
        &ns,
        "ok",
        &[("password", &env.plain("password"))],
    )?)
    .await?;
    let mut tampered = seal_items(
        &cert,
        &ns,
        "tampered",
        &[("password", &env.plain("password"))],
    )?;
    let mut bytes = B64.decode(&tampered.spec.encrypted_data["password"])?;
    let n = bytes.len() - 1;
    bytes[n] ^= 0xff;
    tampered
        .spec
        .encrypted_data
        .insert("password".into(), B64.encode(&bytes));
    env.create(&tampered).await?;
    env.secret_api(&ns)
        .create(
            &PostParams::default(),
            &plain_secret("foreign", &[], &[], &[("x", &env.plain("x"))]),
        )
        .await?;
    env.create(&seal_items(
        &cert,
        &ns,
        "foreign",
        &[("password", &env.plain("password"))],
    )?)
    .await?;
    // The API server rejects this Secret (not JSON): its error must not echo the value either.
    let mut s = secret(
        &ns,
        "bad-docker",
        Scope::Strict,
        &[(".dockerconfigjson", &env.plain("not-json"))],
    );
    s.type_ = Some("kubernetes.io/dockerconfigjson".into());
    env.create(&seal(&cert, &s)?).await?;

    env.wait_synced(&ns, "ok", true).await?;
    env.wait_synced(&ns, "tampered", false).await?;
    env.wait_synced(&ns, "foreign", false).await?;
    env.wait_synced(&ns, "bad-docker", false).await?;
    let log = ctl.log();
    ensure!(log.contains("DEBUG"), "debug logging is on");
    env.finish().await
}

/// The reference vectors (sealed by the reference's code) unseal once their key Secret is
/// installed in the key namespace: default/db-creds (strict) and team-a/api (namespace-wide).
#[tokio::test]
async fn reference_vectors_unseal() -> Result<()> {
    let Some(env) = Env::start("uns-vectors").await? else {
        return Ok(());
    };
    env.ensure_namespace("team-a").await?;
    env.install_vector_key("sealed-secrets-key-vectors").await?;
    let ctl = env
        .unsealer(&["--additional-namespaces=default,team-a", "--key-size=4096"])
        .await?;
    assert_eq!(
        ctl.cert_pem().await?.trim(),
        VECTOR_CERT.trim(),
        "the installed key is used, none generated"
    );
    assert_eq!(env.key_secrets().await?.len(), 1);

    let expected_json: serde_json::Value = serde_json::from_str(VECTOR_EXPECTED)?;
    for (file, yaml) in [
        ("sealedsecret-strict-default-db-creds", VECTOR_STRICT),
        ("sealedsecret-nswide-team-a-api", VECTOR_NSWIDE),
    ] {
        let ss: SealedSecret = serde_saphyr::from_str(yaml.trim_start_matches("---\n"))
            .with_context(|| format!("parsing {file}"))?;
        let exp = &expected_json[file];
        let (ns, name) = (
            exp["namespace"].as_str().unwrap(),
            exp["name"].as_str().unwrap(),
        );
        let mut want = BTreeMap::new();
        for (k, v) in exp["unsealed_data_b64"].as_object().unwrap() {
            let bytes = B64.decode(v.as_str().unwrap())?;
            if let Ok(text) = std::str::from_utf8(&bytes) {
                env.remember(text);
            }
            want.insert(k.clone(), bytes);
        }
        let _ = env
            .sealed_api(ns)
            .delete(name, &DeleteParams::default())
            .await;
        env.wait_secret_gone(ns, name, GC_TIMEOUT).await?;
        let created = env.create(&ss).await?;
        let got = env.wait_secret(ns, name).await?;
        let got_data: BTreeMap<String, Vec<u8>> = got
            .data
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        assert_eq!(got_data, want, "{file}");
        assert_owned_by(&got, &created);
        let template_labels = ss
            .spec
            .template
            .as_ref()
            .and_then(|t| t.metadata.labels.clone())
            .unwrap_or_default();
        let labels = got.metadata.labels.clone().unwrap_or_default();
        for (k, v) in &template_labels {
            assert_eq!(labels.get(k), Some(v), "{file}: template label {k}");
        }
        env.wait_synced(ns, name, true).await?;
        env.delete_sealed(ns, name).await?;
    }
    env.finish().await
}

/// The reference's kubeseal, sealing with our /v1/cert.pem (a 4096-bit key, the default size),
/// produces SealedSecrets our controller unseals (strict and cluster-wide).
#[tokio::test]
async fn kubeseal_interop() -> Result<()> {
    let Some(env) = Env::start("uns-kubeseal").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&["--key-size=4096"]).await?;
    assert_eq!(ctl.cert().await?.public_key().bits(), 4096);
    let kubeseal = cluster::find_binary("kubeseal")?;
    let cert_url = ctl.url("/v1/cert.pem");

    for (name, scope) in [("ks-strict", "strict"), ("ks-cluster", "cluster-wide")] {
        let (pw, note) = (env.plain("pw"), env.plain("note"));
        let input = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": "interop"}},
            "type": "Opaque",
            "stringData": {"password": pw},
            "data": {"note": B64.encode(note.as_bytes())}
        });
        let path = env.cluster.dir.join(cluster::unique_name("kubeseal-input"));
        std::fs::write(&path, input.to_string())?;
        let out = tokio::process::Command::new(&kubeseal)
            .args(["--cert", &cert_url, "--format", "json", "--scope", scope])
            .stdin(std::fs::File::open(&path)?)
            .output()
            .await?;
        let _ = std::fs::remove_file(&path);
        ensure!(
            out.status.success(),
            "kubeseal failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ss: SealedSecret = serde_json::from_slice(&out.stdout).context("kubeseal output")?;
        env.create(&ss).await?;
        let got = env.wait_secret(&ns, name).await?;
        assert_eq!(
            data(&got),
            expected(&[("password", &pw), ("note", &note)]),
            "{name}"
        );
        assert_eq!(
            got.metadata
                .labels
                .unwrap_or_default()
                .get("app")
                .map(String::as_str),
            Some("interop")
        );
        env.wait_synced(&ns, name, true).await?;
    }
    env.finish().await
}

/// `spec.template.data` is rendered with the decrypted items (Go templates + sprig), and a
/// template the renderer refuses is a clear failure that names the template key.
#[tokio::test]
async fn template_data_is_rendered() -> Result<()> {
    let Some(env) = Env::start("uns-tpl").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&[]).await?;
    let cert = ctl.cert().await?;
    let user = env.plain("user");
    let pass = env.plain("pass");
    let mut ss = seal_items(&cert, &ns, "rendered", &[("user", &user), ("pass", &pass)])?;
    ss.spec.template.get_or_insert_default().data = Some(string_map(&[
        (
            "url",
            "postgres://{{ .user }}:{{ index . \"pass\" }}@{{ env \"DB_HOST\" }}",
        ),
        ("json", "{{ toJson .user }}"),
        ("upper", "{{ .user | upper | printf \"%s!\" }}"),
    ]));
    // `env` is one of the three functions the reference removes: a clear failure first.
    env.create(&ss).await?;
    let status = env.wait_synced(&ns, "rendered", false).await?;
    let message = condition(&status, "Synced")
        .and_then(|c| c.message.clone())
        .unwrap_or_default();
    ensure!(message.contains("spec.template.data.url"), "{message}");
    ensure!(
        !message.contains(&pass) && !message.contains(&user),
        "{message}"
    );
    ensure!(env.secret_api(&ns).get_opt("rendered").await?.is_none());

    let fixed = string_map(&[
        ("url", "postgres://{{ .user }}:{{ index . \"pass\" }}@db"),
        ("json", "{{ toJson .user }}"),
        ("upper", "{{ .user | upper | printf \"%s!\" }}"),
    ]);
    ss.spec.template.get_or_insert_default().data = Some(fixed);
    env.update_spec(&ns, "rendered", &ss.spec).await?;
    let got = env.wait_secret(&ns, "rendered").await?;
    let d = data(&got);
    assert_eq!(d["url"], format!("postgres://{user}:{pass}@db"));
    assert_eq!(d["json"], format!("\"{user}\""));
    assert_eq!(d["upper"], format!("{}!", user.to_uppercase()));
    assert_eq!(d["user"], user);
    env.remember(&user.to_uppercase());
    env.wait_synced(&ns, "rendered", true).await?;
    env.finish().await
}

/// `--key-cutoff-time` later than the newest key's NotBefore makes a new key at start, which
/// then seals; the old key still unseals.
#[tokio::test]
async fn key_cutoff_time_forces_a_new_key() -> Result<()> {
    let Some(env) = Env::start("uns-cutoff").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    env.install_vector_key("sealed-secrets-keyvector").await?;
    let vector = Certificate::from_pem(VECTOR_CERT.as_bytes())?;
    // Without a cutoff the vector key is the newest and seals.
    let first = env.unsealer(&[]).await?;
    ensure!(first.cert().await?.public_key().fingerprint() == vector.public_key().fingerprint());
    first.kill().await?;
    ensure!(
        env.key_secrets().await?.len() == 1,
        "no key generated without a cutoff"
    );

    let cutoff = "Wed, 01 Jan 2031 00:00:00 +0000";
    let second = env
        .unsealer(&[&format!("--key-cutoff-time={cutoff}")])
        .await?;
    // Served at once with the keys as they are; the new key comes once this replica leads
    // (the lease of the killed one runs out first).
    let vector_fp = vector.public_key().fingerprint();
    wait_for("a key newer than the cutoff", TIMEOUT, || async {
        let fp = second.cert().await?.public_key().fingerprint();
        Ok((fp != vector_fp).then_some(()))
    })
    .await?;
    ensure!(
        env.key_secrets().await?.len() == 2,
        "one key generated for the cutoff"
    );
    let v = env.plain("v");
    env.create(&seal_items(&vector, &ns, "old-key", &[("v", &v)])?)
        .await?;
    let got = env.wait_secret(&ns, "old-key").await?;
    assert_eq!(data(&got), expected(&[("v", &v)]));
    env.finish().await
}

/// `--update-status=false`: Secrets are still written, status is left alone.
#[tokio::test]
async fn update_status_false_writes_no_status() -> Result<()> {
    let Some(env) = Env::start("uns-nostatus").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&["--update-status=false"]).await?;
    let cert = ctl.cert().await?;
    let v = env.plain("v");
    env.create(&seal_items(&cert, &ns, "quiet", &[("v", &v)])?)
        .await?;
    let got = env.wait_secret(&ns, "quiet").await?;
    assert_eq!(data(&got), expected(&[("v", &v)]));
    // Give a status write time to happen if it were going to.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ss = env.sealed_api(&ns).get("quiet").await?;
    ensure!(ss.status.is_none(), "status written: {:?}", ss.status);
    env.finish().await
}

/// The value of the `name{fingerprint="fp"}` series.
fn key_metric(text: &str, name: &str, fingerprint: &str) -> Option<f64> {
    let prefix = format!("{name}{{fingerprint=\"{fingerprint}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// Which key opened what: with 24 keys of one size and an object sealed with the oldest, the
/// Secret records that key's fingerprint and the per-key gauge counts the object; the next
/// generation tries the recorded key first, so it costs one RSA operation per item.
#[tokio::test]
async fn recorded_key_is_tried_first_and_counted() -> Result<()> {
    let Some(env) = Env::start("uns-keyuse").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    let ctl = env.unsealer(&["--key-size=2048"]).await?;
    let now = time::OffsetDateTime::now_utc();
    let mut oldest = None;
    for i in 1..24u8 {
        // Older than the controller's own key, one hour apart: the ring tries them newest first.
        let made = now - time::Duration::hours(i64::from(i));
        let key = generate(
            KeySize::Rsa2048,
            made,
            Duration::from_secs(86400),
            "",
            [i; 16],
        )?;
        env.install_key(&format!("sealed-secrets-key-old{i}"), &key)
            .await?;
        oldest = Some(Certificate::from_pem(key.cert_pem.as_bytes())?);
    }
    let oldest = oldest.unwrap();
    let fingerprint = oldest.public_key().fingerprint();
    wait_for("24 keys loaded", TIMEOUT, || async {
        Ok(ctl
            .metric("sealed_secrets_controller_keys")
            .await?
            .filter(|n| *n == 24.0))
    })
    .await?;
    let rsa = || async {
        ctl.metric("sealed_secrets_controller_rsa_operations_total")
            .await
            .map(Option::unwrap_or_default)
    };

    let items = [
        ("a", env.plain("a")),
        ("b", env.plain("b")),
        ("c", env.plain("c")),
    ];
    let pairs: Vec<(&str, &str)> = items.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let before = rsa().await?;
    env.create(&seal_items(&oldest, &ns, "old", &pairs)?)
        .await?;
    let secret = env.wait_secret(&ns, "old").await?;
    env.wait_synced(&ns, "old", true).await?;
    let first = rsa().await? - before;
    let annotations = secret.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations.get(unsealer::marks::KEYS_ANNOTATION),
        Some(&fingerprint),
        "{annotations:?}"
    );
    // Without a record: all 24 keys are tried on the first item (the oldest last), then the
    // key that opened it on the other two.
    assert_eq!(first, 26.0, "the first unseal's RSA operations");
    let text = ctl.metrics().await?;
    assert_eq!(
        key_metric(&text, "sealed_secrets_controller_key_objects", &fingerprint),
        Some(1.0),
        "{text}"
    );
    let age = key_metric(
        &text,
        "sealed_secrets_controller_key_age_seconds",
        &fingerprint,
    )
    .context("key age")?;
    assert!(
        (23.0 * 3600.0..23.0 * 3600.0 + 600.0).contains(&age),
        "{age}"
    );

    // A new generation (the same items sealed again with the same key): 3 operations.
    let again = env.plain("a2");
    let resealed = seal_items(&oldest, &ns, "old", &[("a", &again), pairs[1], pairs[2]])?;
    let before = rsa().await?;
    env.update_spec(&ns, "old", &resealed.spec).await?;
    env.wait_secret_where(&ns, "old", "the new value of a", |s| {
        data(s).get("a").map(String::as_str) == Some(again.as_str())
    })
    .await?;
    let second = rsa().await? - before;
    assert_eq!(second, 3.0, "a re-applied object with a recorded key");

    // Deleted: no object needs the key any more.
    env.delete_sealed(&ns, "old").await?;
    wait_for("the key's count back to 0", TIMEOUT, || async {
        let text = ctl.metrics().await?;
        Ok(
            (key_metric(&text, "sealed_secrets_controller_key_objects", &fingerprint) == Some(0.0))
                .then_some(()),
        )
    })
    .await?;
    env.finish().await
}

/// The runbook end to end: keys A (the vectors'), B (made a day ago) and C (the controller's,
/// the newest), an object under each. The counts say 1, 1, 1; after re-encrypting to C they say
/// 0, 0, 3; A retired, everything stays Synced; C compromised, a new key D seals, every object
/// that needed C is warned and counted, and `/v1/keys` shows all four with their states.
#[tokio::test]
async fn rotation_runbook_end_to_end() -> Result<()> {
    use shared::unseal::{UnsealOptions, rotate};
    let Some(env) = Env::start("uns-runbook").await? else {
        return Ok(());
    };
    let ns = env.ns.clone();
    // /v1/keys is polled below: above its default rate limit of 2 a second.
    let ctl = env
        .unsealer(&["--rate-limit=1000", "--rate-limit-burst=1000"])
        .await?;
    let c_pem = ctl.cert_pem().await?;
    let c = Certificate::from_pem(c_pem.as_bytes())?;
    env.install_vector_key("sealed-secrets-key-a").await?;
    let a = Certificate::from_pem(VECTOR_CERT.as_bytes())?;
    let made = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let b_key = generate(
        KeySize::Rsa2048,
        made,
        Duration::from_secs(86400 * 30),
        "",
        [5; 16],
    )?;
    let b = Certificate::from_pem(b_key.cert_pem.as_bytes())?;
    env.install_key("sealed-secrets-key-b", &b_key).await?;
    wait_for("3 keys loaded", TIMEOUT, || async {
        Ok(ctl
            .metric("sealed_secrets_controller_keys")
            .await?
            .filter(|n| *n == 3.0))
    })
    .await?;
    let fp = |cert: &Certificate| cert.public_key().fingerprint();
    let (fa, fb, fc) = (fp(&a), fp(&b), fp(&c));
    let values: Vec<String> = ["a", "b", "c"].iter().map(|v| env.plain(v)).collect();
    for (name, cert, value) in [
        ("obj-a", &a, &values[0]),
        ("obj-b", &b, &values[1]),
        ("obj-c", &c, &values[2]),
    ] {
        env.create(&seal_items(cert, &ns, name, &[("v", value)])?)
            .await?;
    }
    for name in ["obj-a", "obj-b", "obj-c"] {
        env.wait_synced(&ns, name, true).await?;
    }
    let counts = |want: [(&'static str, f64); 3]| {
        let ctl = &ctl;
        let want: Vec<(String, f64)> = want
            .iter()
            .map(|(which, n)| {
                let f = match *which {
                    "a" => fa.clone(),
                    "b" => fb.clone(),
                    _ => fc.clone(),
                };
                (f, *n)
            })
            .collect();
        async move {
            wait_for("the key counts", TIMEOUT, || async {
                let text = ctl.metrics().await?;
                Ok(want
                    .iter()
                    .all(|(f, n)| {
                        key_metric(&text, "sealed_secrets_controller_key_objects", f) == Some(*n)
                    })
                    .then_some(()))
            })
            .await
        }
    };
    counts([("a", 1.0), ("b", 1.0), ("c", 1.0)]).await?;

    // Re-encrypt a and b to C (offline here, as `seal re-encrypt --recovery-private-key` does).
    let ring = shared::KeyRing::new(vec![
        shared::PrivateKey::from_pem(include_str!("../../shared/tests/vectors/sealing-key.pem"))?,
        b_key.key,
    ]);
    for name in ["obj-a", "obj-b"] {
        let current = env.sealed_api(&ns).get(name).await?;
        let rotated = rotate(
            &current,
            &ring,
            c.public_key(),
            UnsealOptions::default(),
            &mut rand::rng(),
        )?;
        env.update_spec(&ns, name, &rotated.spec).await?;
    }
    counts([("a", 0.0), ("b", 0.0), ("c", 3.0)]).await?;

    // Retire A: nothing needs it; everything stays Synced.
    let relabel = |name: String, state: &'static str| {
        let api = env.secret_api(&ns);
        async move {
            let patch = serde_json::json!({"metadata": {"labels": {KEY_LABEL: state}}});
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(drop)
        }
    };
    relabel("sealed-secrets-key-a".into(), "retired").await?;
    wait_for("A unloaded", TIMEOUT, || async {
        Ok(ctl
            .metric("sealed_secrets_controller_keys")
            .await?
            .filter(|n| *n == 2.0))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for name in ["obj-a", "obj-b", "obj-c"] {
        env.wait_synced(&ns, name, true).await?;
    }
    assert_eq!(
        ctl.metric("sealed_secrets_controller_objects_needing_inactive_keys")
            .await?,
        Some(0.0)
    );

    // Compromise C: a new key D seals, and the three objects that needed C are warned.
    let c_secret = env
        .key_secrets()
        .await?
        .into_iter()
        .find(|s| {
            s.data
                .as_ref()
                .and_then(|d| d.get("tls.crt"))
                .is_some_and(|crt| crt.0 == c_pem.as_bytes())
        })
        .context("C's key Secret")?
        .metadata
        .name
        .unwrap_or_default();
    relabel(c_secret, "compromised").await?;
    // (B, the next newest, may seal for the moment between C's relabel and D's creation.)
    let fd = wait_for("a new key D", TIMEOUT, || async {
        let served = fp(&ctl.cert().await?);
        Ok((![&fa, &fb, &fc].contains(&&served)).then_some(served))
    })
    .await?;
    for name in ["obj-a", "obj-b", "obj-c"] {
        let event = env.wait_event(&ns, name, "KeyNotActive").await?;
        assert!(event.note.unwrap_or_default().contains(&fc));
    }
    wait_for("3 objects needing an inactive key", TIMEOUT, || async {
        Ok(ctl
            .metric("sealed_secrets_controller_objects_needing_inactive_keys")
            .await?
            .filter(|n| *n == 3.0))
    })
    .await?;

    // /v1/keys: all four, newest first, with their states and the leader's counts.
    let listed = wait_for("/v1/keys with C's count", TIMEOUT, || async {
        let body = cluster::http_get(&ctl.url("/v1/keys")).await?;
        let keys: Vec<serde_json::Value> = serde_json::from_slice(&body)?;
        let c_row = keys.iter().find(|k| k["fingerprint"] == fc.as_str());
        Ok(c_row.is_some_and(|k| k["objects"] == 3).then_some(keys))
    })
    .await?;
    let row = |f: &str| listed.iter().find(|k| k["fingerprint"] == f).cloned();
    let (ra, rb, rc, rd) = (
        row(&fa).unwrap(),
        row(&fb).unwrap(),
        row(&fc).unwrap(),
        row(&fd).unwrap(),
    );
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(
        listed[0]["fingerprint"],
        fd.as_str(),
        "newest first: {listed:?}"
    );
    assert!(rd["newest"] == true && rd["state"] == "active");
    assert_eq!(
        (ra["state"].as_str(), ra["objects"].as_u64()),
        (Some("retired"), Some(0))
    );
    assert_eq!(
        (rb["state"].as_str(), rb["objects"].as_u64()),
        (Some("active"), Some(0))
    );
    assert_eq!(
        (rc["state"].as_str(), rc["objects"].as_u64()),
        (Some("compromised"), Some(3))
    );
    let body = serde_json::to_string(&listed)?;
    assert!(
        !body.contains("PRIVATE KEY") && !body.contains("tls.key"),
        "{body}"
    );
    env.finish().await
}
