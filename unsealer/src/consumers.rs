//! Rolling restarts of the workloads that read a Secret, when the controller changes its data
//! (`--restart-consumers`, off by default). Pods that take a Secret as environment variables
//! keep the old value until they restart; a workload opts in with
//! [`crate::marks::RESTART_ANNOTATION`] `"true"`. The restart is what `kubectl rollout
//! restart` does: the pod template's `kubectl.kubernetes.io/restartedAt` annotation set to now.
//!
//! What to restart is decided here without I/O ([`data_changed`], [`references`],
//! [`opted_in`]); [`restart`] only lists and patches.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use crate::marks::{FIELD_MANAGER, RESTART_ANNOTATION};

/// The pod template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Whether a write changed what consumers read: the items or their values. A Secret that did
/// not exist before has no consumers running with an old value (they wait for it).
pub fn data_changed(
    before: Option<&BTreeMap<String, ByteString>>,
    after: Option<&BTreeMap<String, ByteString>>,
) -> bool {
    let empty = BTreeMap::new();
    before.unwrap_or(&empty) != after.unwrap_or(&empty)
}

/// Whether the workload opted in to restarts.
pub fn opted_in(meta: &ObjectMeta) -> bool {
    shared::marks::is_true(meta.annotations.as_ref(), RESTART_ANNOTATION)
}

/// Whether a pod spec reads the Secret `name`: as environment (`env`, `envFrom`, in any
/// container or init container), as a volume (also projected), or as an image pull Secret.
pub fn references(spec: &PodSpec, name: &str) -> bool {
    let in_container = |c: &Container| {
        let env = c.env.iter().flatten().any(|e| {
            e.value_from
                .as_ref()
                .and_then(|v| v.secret_key_ref.as_ref())
                .is_some_and(|r| r.name == name)
        });
        let env_from = c
            .env_from
            .iter()
            .flatten()
            .any(|e| e.secret_ref.as_ref().is_some_and(|r| r.name == name));
        env || env_from
    };
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(in_container);
    let volumes = spec.volumes.iter().flatten().any(|v| {
        let secret = v
            .secret
            .as_ref()
            .is_some_and(|s| s.secret_name.as_deref() == Some(name));
        let projected = v.projected.as_ref().is_some_and(|p| {
            p.sources
                .iter()
                .flatten()
                .any(|s| s.secret.as_ref().is_some_and(|s| s.name == name))
        });
        secret || projected
    });
    let pull = spec
        .image_pull_secrets
        .iter()
        .flatten()
        .any(|r| r.name == name);
    containers || volumes || pull
}

/// The patch that restarts a workload's pods, as `kubectl rollout restart` makes it.
pub fn restart_patch(now: &str) -> serde_json::Value {
    serde_json::json!({
        "spec": { "template": { "metadata": { "annotations": { RESTARTED_AT: now } } } }
    })
}

/// A workload kind with a pod template.
trait Workload: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
where
    Self: Clone + DeserializeOwned + std::fmt::Debug,
{
    fn template(&self) -> Option<&PodTemplateSpec>;
}

impl Workload for Deployment {
    fn template(&self) -> Option<&PodTemplateSpec> {
        Some(&self.spec.template)
    }
}

impl Workload for StatefulSet {
    fn template(&self) -> Option<&PodTemplateSpec> {
        Some(&self.spec.template)
    }
}

impl Workload for DaemonSet {
    fn template(&self) -> Option<&PodTemplateSpec> {
        Some(&self.spec.template)
    }
}

async fn restart_kind<K: Workload>(
    client: &Client,
    namespace: &str,
    secret: &str,
    now: &str,
    restarted: &mut Vec<String>,
) -> Result<(), kube::Error> {
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    for w in api.list(&ListParams::default()).await?.items {
        let reads = w
            .template()
            .and_then(|t| t.spec.as_ref())
            .is_some_and(|spec| references(spec, secret));
        if opted_in(w.meta()) && reads {
            let name = w.meta().name.clone().unwrap_or_default();
            api.patch(&name, &params, &Patch::Strategic(&restart_patch(now)))
                .await?;
            restarted.push(format!("{}/{name}", K::kind(&())));
        }
    }
    Ok(())
}

/// Restarts the opted-in Deployments, StatefulSets and DaemonSets of `namespace` that read the
/// Secret `secret`; returns them as `Kind/name`.
pub async fn restart(
    client: &Client,
    namespace: &str,
    secret: &str,
    now: &str,
) -> Result<Vec<String>, kube::Error> {
    let mut restarted = Vec::new();
    restart_kind::<Deployment>(client, namespace, secret, now, &mut restarted).await?;
    restart_kind::<StatefulSet>(client, namespace, secret, now, &mut restarted).await?;
    restart_kind::<DaemonSet>(client, namespace, secret, now, &mut restarted).await?;
    Ok(restarted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        EnvFromSource, EnvVar, EnvVarSource, LocalObjectReference, ProjectedVolumeSource,
        SecretEnvSource, SecretKeySelector, SecretProjection, SecretVolumeSource, Volume,
        VolumeProjection,
    };

    fn container(env: Vec<EnvVar>, env_from: Vec<EnvFromSource>) -> Container {
        Container {
            name: "c".into(),
            env: Some(env),
            env_from: Some(env_from),
            ..Container::default()
        }
    }

    #[test]
    fn every_way_a_pod_reads_a_secret_counts() {
        let key_ref = EnvVar {
            name: "X".into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: "db".into(),
                    key: "k".into(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        };
        let env_from = EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: "db".into(),
                optional: None,
            }),
            ..EnvFromSource::default()
        };
        let specs = [
            PodSpec {
                containers: vec![container(vec![key_ref], vec![])],
                ..PodSpec::default()
            },
            PodSpec {
                init_containers: Some(vec![container(vec![], vec![env_from])]),
                ..PodSpec::default()
            },
            PodSpec {
                volumes: Some(vec![Volume {
                    name: "v".into(),
                    secret: Some(SecretVolumeSource {
                        secret_name: Some("db".into()),
                        ..SecretVolumeSource::default()
                    }),
                    ..Volume::default()
                }]),
                ..PodSpec::default()
            },
            PodSpec {
                volumes: Some(vec![Volume {
                    name: "v".into(),
                    projected: Some(ProjectedVolumeSource {
                        sources: Some(vec![VolumeProjection {
                            secret: Some(SecretProjection {
                                name: "db".into(),
                                ..SecretProjection::default()
                            }),
                            ..VolumeProjection::default()
                        }]),
                        ..ProjectedVolumeSource::default()
                    }),
                    ..Volume::default()
                }]),
                ..PodSpec::default()
            },
            PodSpec {
                image_pull_secrets: Some(vec![LocalObjectReference { name: "db".into() }]),
                ..PodSpec::default()
            },
        ];
        for spec in &specs {
            assert!(references(spec, "db"), "{spec:?}");
            assert!(!references(spec, "other"), "{spec:?}");
        }
        assert!(!references(&PodSpec::default(), "db"));
    }

    #[test]
    fn only_a_change_of_the_data_restarts() {
        let d = |pairs: &[(&str, &str)]| -> BTreeMap<String, ByteString> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), ByteString(v.as_bytes().to_vec())))
                .collect()
        };
        assert!(!data_changed(
            Some(&d(&[("a", "1")])),
            Some(&d(&[("a", "1")]))
        ));
        assert!(data_changed(
            Some(&d(&[("a", "1")])),
            Some(&d(&[("a", "2")]))
        ));
        assert!(data_changed(
            Some(&d(&[("a", "1")])),
            Some(&d(&[("a", "1"), ("b", "2")]))
        ));
        assert!(!data_changed(None, Some(&BTreeMap::new())));
    }

    #[test]
    fn opt_in_is_an_annotation_of_the_workload() {
        let meta = |v: &str| ObjectMeta {
            annotations: Some([(RESTART_ANNOTATION.to_owned(), v.to_owned())].into()),
            ..ObjectMeta::default()
        };
        assert!(opted_in(&meta("true")));
        assert!(!opted_in(&meta("no")));
        assert!(!opted_in(&ObjectMeta::default()));
        assert_eq!(
            restart_patch("2026-12-01T00:00:00Z")["spec"]["template"]["metadata"]["annotations"]
                [RESTARTED_AT],
            "2026-12-01T00:00:00Z"
        );
    }
}
