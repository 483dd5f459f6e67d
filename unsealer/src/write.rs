//! Whether and how the controller may write the target Secret, decided without I/O:
//! [`precheck`] before any RSA work (so a foreign or current Secret costs none), [`plan_write`]
//! after unsealing. These are the rules that keep the controller off other people's Secrets
//! ("never overwrite a Secret you do not own"), so each of them is unit-tested here.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::marks::{KEYS_ANNOTATION, SOURCE_ANNOTATION, Source, keys_mark};
use crate::secret_cache::Target;

/// What to do before unsealing.
#[derive(Debug)]
pub enum Precheck {
    /// Someone else's Secret: leave it alone.
    Refuse,
    /// Already unsealed from this generation of this SealedSecret, with the keys recorded on it.
    UpToDate { keys: Vec<String> },
    /// Unseal, then write this way.
    Unseal(Strategy),
}

/// How to write once unsealed, with what the write needs of the existing Secret.
#[derive(Debug)]
pub struct Strategy {
    pub how: How,
    /// The keys recorded on the existing Secret: tried first.
    pub recorded_keys: Vec<String>,
}

/// Every write to an existing Secret names its UID, which the API server checks: a Secret
/// deleted meanwhile is not brought back, and one that replaced it is not overwritten. The
/// reconcile then reads the Secret and decides again.
#[derive(Debug)]
pub enum How {
    /// Absent: create it (refused by the API server if one appeared meanwhile).
    Create,
    /// Already this SealedSecret's: apply the desired Secret whole. The existing items are
    /// listed so that those the new data lacks can be dropped.
    Apply {
        existing_items: Vec<String>,
        uid: Option<String>,
    },
    /// Carries `managed: "true"`: take it over, replacing data, labels, annotations and
    /// owners. Needs the Secret read whole.
    TakeOver,
    /// Carries `patch: "true"`: merge the items, labels and annotations into it; owners are set
    /// only if `managed` is also there, or it is already controlled by this SealedSecret.
    Merge {
        set_owner: bool,
        uid: Option<String>,
    },
}

/// The writes that bring the target Secret to the unsealed one.
#[derive(Debug)]
pub enum WritePlan {
    /// Create `secret`.
    Create(Secret),
    /// Server-side apply of `secret`, after a merge patch that deletes the `stale` items:
    /// apply removes only items this manager applied before, and the Secret is written whole.
    Apply { stale: Vec<String>, secret: Secret },
    /// Replace the existing object with `secret` (a takeover), on the version read.
    Replace(Secret),
    /// Server-side apply of the items, labels and annotations in `secret` only.
    Merge(Secret),
}

/// A takeover was planned without the Secret read whole.
#[derive(Debug, PartialEq, Eq)]
pub struct NeedsRead;

/// Whether a Secret with this controller UID is controlled by the SealedSecret `owner_uid`.
fn controlled_by(target: &Target, owner_uid: &str) -> bool {
    target.controller.as_deref() == Some(owner_uid)
}

/// Whether `secret` has a controller ownerReference to the SealedSecret with this UID.
pub fn is_controlled_by(secret: &Secret, owner_uid: &str) -> bool {
    secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.uid == owner_uid && o.kind == "SealedSecret")
}

/// Whether the controller itself wrote this Secret whole for this SealedSecret with
/// `skip-set-owner-references` (that annotation, our source mark naming this UID, no
/// controller): it has no owner to check, but it is still ours to update (the reference
/// refuses, which turns every later reconcile into an error).
fn written_without_owner(target: &Target, owner_uid: &str) -> bool {
    let from_us = target
        .source
        .as_ref()
        .is_some_and(|s| !owner_uid.is_empty() && s.uid == owner_uid);
    from_us && target.skip_owner && !target.controlled
}

/// Decides, from what is known of the existing Secret (if any), what the SealedSecret at
/// `source` may do.
pub fn precheck(existing: Option<&Target>, source: &Source) -> Precheck {
    let Some(target) = existing else {
        return Precheck::Unseal(Strategy {
            how: How::Create,
            recorded_keys: Vec::new(),
        });
    };
    let recorded_keys = target.keys.clone();
    let how = if target.patch {
        How::Merge {
            set_owner: target.managed || controlled_by(target, &source.uid),
            uid: target.uid.clone(),
        }
    } else if controlled_by(target, &source.uid) || written_without_owner(target, &source.uid) {
        if target.source.as_ref() == Some(source) {
            return Precheck::UpToDate {
                keys: recorded_keys,
            };
        }
        How::Apply {
            existing_items: target.items.clone(),
            uid: target.uid.clone(),
        }
    } else if target.managed {
        How::TakeOver
    } else {
        return Precheck::Refuse;
    };
    Precheck::Unseal(Strategy { how, recorded_keys })
}

/// The writes for the `desired` (unsealed) Secret, with the controller's marks where it
/// writes a Secret whole: its source, and the keys that opened it (`opened_by`). A takeover
/// needs the `existing` Secret, read whole.
pub fn plan_write(
    strategy: Strategy,
    mut desired: Secret,
    source: &Source,
    opened_by: &BTreeSet<String>,
    existing: Option<Secret>,
) -> Result<WritePlan, NeedsRead> {
    let mark = |desired: &mut Secret| {
        let annotations = desired.metadata.annotations.get_or_insert_default();
        annotations.insert(SOURCE_ANNOTATION.into(), source.to_string());
        if !opened_by.is_empty() {
            annotations.insert(KEYS_ANNOTATION.into(), keys_mark(opened_by));
        }
    };
    Ok(match strategy.how {
        How::Create => {
            mark(&mut desired);
            WritePlan::Create(desired)
        }
        How::Apply {
            existing_items,
            uid,
        } => {
            let stale = existing_items
                .into_iter()
                .filter(|k| !desired.data.as_ref().is_some_and(|d| d.contains_key(k)))
                .collect();
            mark(&mut desired);
            desired.metadata.uid = uid;
            WritePlan::Apply {
                stale,
                secret: desired,
            }
        }
        How::TakeOver => {
            let mut secret = existing.ok_or(NeedsRead)?;
            secret.metadata.labels = desired.metadata.labels.take();
            secret.metadata.annotations = desired.metadata.annotations.take();
            secret.metadata.owner_references = desired.metadata.owner_references.take();
            secret.data = desired.data.take();
            secret.string_data = None;
            secret.type_ = desired.type_.take().or(secret.type_);
            secret.immutable = desired.immutable;
            WritePlan::Replace(secret)
        }
        How::Merge { set_owner, uid } => WritePlan::Merge(Secret {
            metadata: ObjectMeta {
                name: desired.metadata.name.take(),
                uid,
                namespace: desired.metadata.namespace.take(),
                labels: desired.metadata.labels.take(),
                annotations: desired.metadata.annotations.take(),
                owner_references: if set_owner {
                    desired.metadata.owner_references.take()
                } else {
                    None
                },
                ..ObjectMeta::default()
            },
            data: desired.data.take().or_else(|| Some(BTreeMap::new())),
            ..Secret::default()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use shared::marks::{MANAGED, PATCH, SKIP_SET_OWNER_REFERENCES};

    type Data = BTreeMap<String, ByteString>;

    fn check(secret: &Secret, source: &Source) -> Precheck {
        precheck(Some(&Target::of_secret(secret)), source)
    }

    fn source() -> Source {
        Source {
            uid: "u".into(),
            generation: 2,
        }
    }

    fn data(items: &[(&str, &str)]) -> Data {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
            .collect()
    }

    fn secret(annotations: &[(&str, &str)], owner: Option<(&str, bool)>) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some("s".into()),
                namespace: Some("ns".into()),
                resource_version: Some("41".into()),
                uid: Some("secret-uid".into()),
                annotations: Some(
                    annotations
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                owner_references: owner.map(|(uid, controller)| {
                    vec![OwnerReference {
                        api_version: "bitnami.com/v1alpha1".into(),
                        kind: "SealedSecret".into(),
                        name: "s".into(),
                        uid: uid.into(),
                        controller: Some(controller),
                        block_owner_deletion: None,
                    }]
                }),
                ..Default::default()
            },
            data: Some(data(&[("old", "1"), ("kept", "2")])),
            type_: Some("Opaque".into()),
            ..Default::default()
        }
    }

    /// The unsealed Secret as `shared::unseal` builds it.
    fn desired() -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some("s".into()),
                namespace: Some("ns".into()),
                labels: Some(BTreeMap::from([("team".into(), "a".into())])),
                annotations: Some(BTreeMap::from([("note".into(), "n".into())])),
                owner_references: Some(vec![OwnerReference {
                    api_version: "bitnami.com/v1alpha1".into(),
                    kind: "SealedSecret".into(),
                    name: "s".into(),
                    uid: "u".into(),
                    controller: Some(true),
                    block_owner_deletion: None,
                }]),
                ..Default::default()
            },
            data: Some(data(&[("kept", "3"), ("new", "4")])),
            ..Default::default()
        }
    }

    fn how(p: Precheck) -> How {
        match p {
            Precheck::Unseal(s) => s.how,
            other => panic!("expected Unseal, got {other:?}"),
        }
    }

    #[test]
    fn foreign_secrets_are_refused() {
        let s = source();
        let refused = |secret: Secret| matches!(check(&secret, &s), Precheck::Refuse);
        assert!(refused(secret(&[], None)), "no owner, no annotation");
        assert!(refused(secret(&[], Some(("other", true)))), "another owner");
        assert!(
            refused(secret(&[], Some(("u", false)))),
            "owner but not controller"
        );
        assert!(
            refused(secret(&[(MANAGED, "yes")], None)),
            "only \"true\" counts"
        );
        let mut ours = secret(&[(SKIP_SET_OWNER_REFERENCES, "true")], None);
        assert!(refused(ours.clone()), "the annotation alone is not enough");
        let a = ours.metadata.annotations.get_or_insert_default();
        a.insert(SOURCE_ANNOTATION.to_owned(), "other:1".to_owned());
        assert!(refused(ours.clone()), "written for another SealedSecret");
        let a = ours.metadata.annotations.get_or_insert_default();
        a.insert(SOURCE_ANNOTATION.to_owned(), "u:1".to_owned());
        assert!(
            matches!(how(check(&ours, &s)), How::Apply { .. }),
            "written by us for this one without an owner"
        );
    }

    fn opened() -> BTreeSet<String> {
        ["SHA256:a".to_owned(), "SHA256:b".to_owned()].into()
    }

    #[test]
    fn current_secrets_cost_nothing() {
        let s = source();
        let mut current = secret(
            &[(SOURCE_ANNOTATION, "u:2"), (KEYS_ANNOTATION, "SHA256:k")],
            Some(("u", true)),
        );
        assert!(matches!(
            check(&current, &s),
            Precheck::UpToDate { keys } if keys == ["SHA256:k"]
        ));
        current
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(SOURCE_ANNOTATION.into(), "u:1".into());
        let Precheck::Unseal(strategy) = check(&current, &s) else {
            panic!()
        };
        // The recorded keys go with the strategy, to be tried first.
        assert_eq!(strategy.recorded_keys, ["SHA256:k"]);
        assert!(matches!(
            strategy.how,
            How::Apply { existing_items, uid } if existing_items == ["kept", "old"]
                && uid.as_deref() == Some("secret-uid")
        ));
        // A patch Secret is merged every time: others may have changed it.
        let patch = secret(
            &[(PATCH, "true"), (SOURCE_ANNOTATION, "u:2")],
            Some(("u", true)),
        );
        assert!(matches!(
            how(check(&patch, &s)),
            How::Merge {
                set_owner: true,
                ..
            }
        ));
    }

    #[test]
    fn apply_writes_whole_with_our_marks_and_drops_stale_items() {
        let s = source();
        let Precheck::Unseal(strategy) = check(&secret(&[], Some(("u", true))), &s) else {
            panic!()
        };
        let WritePlan::Apply { stale, secret } =
            plan_write(strategy, desired(), &s, &opened(), None).unwrap()
        else {
            panic!()
        };
        assert_eq!(stale, ["old"]);
        assert_eq!(secret.data, Some(data(&[("kept", "3"), ("new", "4")])));
        // Exactly the template's labels: no mark of ours, as the reference writes them.
        assert_eq!(
            secret.metadata.labels,
            Some(BTreeMap::from([("team".into(), "a".into())]))
        );
        let annotations = secret.metadata.annotations.unwrap();
        assert_eq!(annotations[SOURCE_ANNOTATION], "u:2");
        assert_eq!(annotations[KEYS_ANNOTATION], "SHA256:a,SHA256:b");
        assert_eq!(
            secret.metadata.uid.as_deref(),
            Some("secret-uid"),
            "only onto the Secret decided on"
        );
        // Absent: created whole, with the marks.
        let Precheck::Unseal(strategy) = precheck(None, &s) else {
            panic!()
        };
        let WritePlan::Create(secret) =
            plan_write(strategy, desired(), &s, &opened(), None).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            secret.metadata.annotations.unwrap()[SOURCE_ANNOTATION],
            "u:2"
        );
        assert_eq!(secret.metadata.uid, None);
    }

    #[test]
    fn takeover_replaces_data_labels_annotations_and_owners() {
        let s = source();
        let existing = secret(&[(MANAGED, "true"), ("theirs", "x")], None);
        let plan = |existing: Option<Secret>| {
            let Precheck::Unseal(strategy) = check(&secret(&[(MANAGED, "true")], None), &s) else {
                panic!()
            };
            plan_write(strategy, desired(), &s, &opened(), existing)
        };
        assert_eq!(
            plan(None).unwrap_err(),
            NeedsRead,
            "a takeover reads the Secret"
        );
        let WritePlan::Replace(secret) = plan(Some(existing)).unwrap() else {
            panic!()
        };
        assert_eq!(secret.metadata.resource_version.as_deref(), Some("41"));
        assert_eq!(secret.data, Some(data(&[("kept", "3"), ("new", "4")])));
        assert_eq!(
            secret.metadata.annotations,
            Some(BTreeMap::from([("note".into(), "n".into())]))
        );
        assert!(is_controlled_by(&secret, "u"));
        assert_eq!(secret.type_.as_deref(), Some("Opaque"), "the type is kept");
        assert_eq!(
            secret.metadata.labels,
            Some(BTreeMap::from([("team".into(), "a".into())])),
            "exactly the template's labels"
        );
    }

    #[test]
    fn merge_holds_only_our_items_and_owners_when_allowed() {
        let s = source();
        for (annotations, owner, set_owner) in [
            (vec![(PATCH, "true")], None, false),
            (vec![(PATCH, "true"), (MANAGED, "true")], None, true),
            (vec![(PATCH, "true")], Some(("u", true)), true),
        ] {
            let existing = secret(&annotations, owner);
            let Precheck::Unseal(strategy) = check(&existing, &s) else {
                panic!()
            };
            let WritePlan::Merge(m) = plan_write(strategy, desired(), &s, &opened(), None).unwrap()
            else {
                panic!()
            };
            assert_eq!(m.data, Some(data(&[("kept", "3"), ("new", "4")])));
            assert_eq!(m.metadata.name.as_deref(), Some("s"));
            assert_eq!(is_controlled_by(&m, "u"), set_owner, "{annotations:?}");
            // Only onto the Secret decided on: a merge never creates a Secret deleted meanwhile.
            assert_eq!(m.metadata.uid.as_deref(), Some("secret-uid"));
            assert!(
                !m.metadata
                    .annotations
                    .unwrap_or_default()
                    .keys()
                    .any(|k| k == SOURCE_ANNOTATION || k == KEYS_ANNOTATION),
                "no marks of ours on a merged Secret"
            );
        }
    }
}
