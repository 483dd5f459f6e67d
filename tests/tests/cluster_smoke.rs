//! Smoke tests for the real test cluster (tests/cluster/with-cluster.sh): CRDs and custom
//! objects work, Secrets can be created/read/deleted, RBAC is enforced for ServiceAccount tokens,
//! the garbage collector deletes dependents, and the reference Bitnami binaries run.
//!
//! Run: `tests/cluster/with-cluster.sh cargo test -p tests --test cluster_smoke`.
//! Without the cluster these tests fail with a message saying so, unless SKIP_CLUSTER_TESTS=1.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams,
};
use tests::cluster::{self, BitnamiController, TestCluster, is_api_status, wait_for};

const TIMEOUT: Duration = Duration::from_secs(60);

fn json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T> {
    Ok(serde_json::from_value(v)?)
}

#[tokio::test]
async fn crd_and_custom_object() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let client = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&client, "smoke-crd").await?;

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = json(serde_json::json!({
        "metadata": {"name": "widgets.smoke.sealed-secrets.test"},
        "spec": {
            "group": "smoke.sealed-secrets.test",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}
            }]
        }
    }))?;
    match crds.create(&PostParams::default(), &crd).await {
        Ok(_) => {}
        Err(e) if is_api_status(&e, 409) => {}
        Err(e) => return Err(e).context("creating the Widget CRD"),
    }
    cluster::wait_crd_established(&client, "widgets.smoke.sealed-secrets.test", TIMEOUT).await?;

    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("smoke.sealed-secrets.test", "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
    let mut w = DynamicObject::new("w1", &ar);
    w.data = serde_json::json!({"spec": {"size": 3}});
    // Right after Established the REST handler can still answer 404 for a moment: retry.
    wait_for("creating a Widget", TIMEOUT, || async {
        match widgets.create(&PostParams::default(), &w).await {
            Ok(_) => Ok(Some(())),
            Err(e) if is_api_status(&e, 404) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let got = widgets.get("w1").await?;
    assert_eq!(got.data["spec"]["size"], 3, "stored Widget: {got:?}");

    cluster::delete_namespace(&client, &ns).await;
    Ok(())
}

#[tokio::test]
async fn secret_create_read_delete() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let client = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&client, "smoke-secret").await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);

    let secret = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some("s1".into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "password".to_owned(),
            ByteString(b"hunter2".to_vec()),
        )])),
        ..Default::default()
    };
    secrets.create(&PostParams::default(), &secret).await?;
    let got = secrets.get("s1").await?;
    assert_eq!(
        got.data.unwrap_or_default().get("password"),
        Some(&ByteString(b"hunter2".to_vec()))
    );
    assert_eq!(got.type_.as_deref(), Some("Opaque"), "defaulted type");

    secrets.delete("s1", &DeleteParams::default()).await?;
    let err = secrets.get("s1").await.expect_err("secret should be gone");
    assert!(is_api_status(&err, 404), "unexpected error: {err}");

    cluster::delete_namespace(&client, &ns).await;
    Ok(())
}

/// A ServiceAccount bound to a Role that only allows reading ConfigMaps in one namespace gets
/// exactly that: RBAC is on, and ServiceAccount tokens from the TokenRequest API authenticate.
#[tokio::test]
async fn rbac_limits_service_account_token() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let admin = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&admin, "smoke-rbac").await?;

    cluster::create_service_account(&admin, &ns, "narrow").await?;
    let role = json(serde_json::json!({
        "metadata": {"name": "configmap-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
    }))?;
    Api::<k8s_openapi::api::rbac::v1::Role>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &role)
        .await?;
    let binding = json(serde_json::json!({
        "metadata": {"name": "narrow-reads-configmaps"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "narrow", "namespace": ns}]
    }))?;
    Api::<k8s_openapi::api::rbac::v1::RoleBinding>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &binding)
        .await?;

    let token =
        cluster::service_account_token(&admin, &ns, "narrow", Duration::from_secs(3600)).await?;
    let user = cluster.token_client(&token, &ns).await?;

    // Granted: list ConfigMaps in its namespace (the RBAC informer may lag a moment).
    let cms: Api<ConfigMap> = Api::namespaced(user.clone(), &ns);
    wait_for("the token user to list ConfigMaps", TIMEOUT, || async {
        match cms.list(&ListParams::default()).await {
            Ok(_) => Ok(Some(())),
            Err(e) if is_api_status(&e, 403) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await?;

    // Not granted: reading Secrets, writing ConfigMaps, and anything in another namespace.
    let err = Api::<Secret>::namespaced(user.clone(), &ns)
        .list(&ListParams::default())
        .await
        .expect_err("listing secrets must be forbidden");
    assert!(is_api_status(&err, 403), "expected 403, got {err}");
    let cm: ConfigMap = json(serde_json::json!({"metadata": {"name": "nope"}}))?;
    let err = cms
        .create(&PostParams::default(), &cm)
        .await
        .expect_err("creating a ConfigMap must be forbidden");
    assert!(is_api_status(&err, 403), "expected 403, got {err}");
    let err = Api::<ConfigMap>::namespaced(user.clone(), "default")
        .list(&ListParams::default())
        .await
        .expect_err("other namespaces must be forbidden");
    assert!(is_api_status(&err, 403), "expected 403, got {err}");

    // A token the API server did not sign is not authenticated at all.
    let bogus = cluster.token_client("not-a-real-token", &ns).await?;
    let err = Api::<ConfigMap>::namespaced(bogus, &ns)
        .list(&ListParams::default())
        .await
        .expect_err("a bogus token must be rejected");
    assert!(is_api_status(&err, 401), "expected 401, got {err}");

    cluster::delete_namespace(&admin, &ns).await;
    Ok(())
}

/// kube-controller-manager's garbage collector deletes a Secret whose owner is deleted (the
/// mechanism that removes unsealed Secrets with their SealedSecret).
#[tokio::test]
async fn garbage_collector_deletes_dependents() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let client = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&client, "smoke-gc").await?;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);

    let owner: ConfigMap = json(serde_json::json!({"metadata": {"name": "owner"}}))?;
    let owner = cms.create(&PostParams::default(), &owner).await?;
    let uid = owner.metadata.uid.clone().context("owner has no uid")?;
    let dependent: Secret = json(serde_json::json!({
        "metadata": {"name": "dependent", "ownerReferences": [{
            "apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid,
            "controller": true
        }]},
        "stringData": {"k": "v"}
    }))?;
    secrets.create(&PostParams::default(), &dependent).await?;

    cms.delete("owner", &DeleteParams::default()).await?;
    wait_for(
        "the garbage collector to delete the dependent Secret",
        TIMEOUT,
        || async {
            match secrets.get("dependent").await {
                Ok(_) => Ok(None),
                Err(e) if is_api_status(&e, 404) => Ok(Some(())),
                Err(e) => Err(e.into()),
            }
        },
    )
    .await?;

    cluster::delete_namespace(&client, &ns).await;
    Ok(())
}

async fn run_version(binary: &str, args: &[&str]) -> Result<String> {
    let path = cluster::find_binary(binary)?;
    let out = tokio::process::Command::new(&path)
        .args(args)
        .output()
        .await
        .with_context(|| format!("running {}", path.display()))?;
    ensure!(out.status.success(), "{binary} {args:?} failed: {out:?}");
    Ok(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[tokio::test]
async fn reference_binaries_run() -> Result<()> {
    let Some(_cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let v = run_version("kubeseal", &["--version"]).await?;
    assert!(v.contains("v0.36.6"), "kubeseal --version: {v}");
    let v = run_version("sealed-secrets-controller", &["--version"]).await?;
    assert!(v.contains("v0.36.6"), "controller --version: {v}");
    // kubectl is built at the cluster's version and talks to it through KUBECONFIG.
    let v = run_version("kubectl", &["version", "-o", "json"]).await?;
    assert!(
        v.contains("\"gitVersion\": \"v1.37."),
        "kubectl version: {v}"
    );
    let v = run_version("kubectl", &["get", "namespace", "default", "-o", "name"]).await?;
    assert_eq!(v.trim(), "namespace/default");
    Ok(())
}

/// The reference controller runs as a local process (in-cluster config faked by
/// run-bitnami-controller.sh), serves its certificate, and unseals what kubeseal sealed.
#[tokio::test]
async fn bitnami_controller_peer_unseals() -> Result<()> {
    let Some(cluster) = TestCluster::from_env() else {
        return Ok(());
    };
    let client = cluster.admin_client().await?;
    let ns = cluster::create_namespace(&client, "smoke-bitnami").await?;
    let ctl = BitnamiController::start(&ns, &[]).await?;

    let cert_url = ctl.url("/v1/cert.pem");
    let cert = wait_for("the controller's certificate", TIMEOUT, || async {
        Ok(cluster::http_get(&cert_url).await.ok())
    })
    .await?;
    ensure!(
        String::from_utf8_lossy(&cert).contains("BEGIN CERTIFICATE"),
        "cert.pem: {}",
        String::from_utf8_lossy(&cert)
    );

    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "peer-secret", "namespace": ns},
        "stringData": {"greeting": "hello from kubeseal"}
    });
    let sealed = seal_with_kubeseal(&cluster, &cert_url, &secret).await?;

    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("bitnami.com", "v1alpha1", "SealedSecret"),
        "sealedsecrets",
    );
    let obj: DynamicObject = serde_json::from_slice(&sealed).context("kubeseal output")?;
    Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &ar)
        .create(&PostParams::default(), &obj)
        .await?;

    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let unsealed = wait_for("the controller to unseal", TIMEOUT, || async {
        match secrets.get("peer-secret").await {
            Ok(s) => Ok(Some(s)),
            Err(e) if is_api_status(&e, 404) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    assert_eq!(
        unsealed.data.unwrap_or_default().get("greeting"),
        Some(&ByteString(b"hello from kubeseal".to_vec()))
    );
    let owner = unsealed.metadata.owner_references.unwrap_or_default();
    assert!(
        owner.iter().any(|o| o.kind == "SealedSecret"),
        "unsealed Secret should be owned by its SealedSecret: {owner:?}"
    );

    ctl.stop().await?;
    cluster::delete_namespace(&client, &ns).await;
    Ok(())
}

async fn seal_with_kubeseal(
    cluster: &TestCluster,
    cert_url: &str,
    secret: &serde_json::Value,
) -> Result<Vec<u8>> {
    let kubeseal = cluster::find_binary("kubeseal")?;
    // The input goes through a file in the run dir (removed with the cluster).
    let input = cluster.dir.join(cluster::unique_name("kubeseal-input"));
    std::fs::write(&input, secret.to_string())?;
    let out = tokio::process::Command::new(kubeseal)
        .args(["--cert", cert_url, "--format", "json"])
        .stdin(std::fs::File::open(&input)?)
        .output()
        .await?;
    let _ = std::fs::remove_file(&input);
    if !out.status.success() {
        bail!("kubeseal failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

/// Sanity check of the helpers that don't need a cluster.
#[test]
fn unique_names_are_dns_labels() {
    let a = cluster::unique_name("x");
    let b = cluster::unique_name("x");
    assert_ne!(a, b);
    let long = cluster::unique_name(&"y".repeat(80));
    assert!(long.len() <= 63);
}
