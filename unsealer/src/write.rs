//! Whether and how the controller may write the target Secret, decided without I/O:
//! [`precheck`] before any RSA work (so a foreign or current Secret costs none), [`plan_write`]
//! after unsealing. These are the rules that keep the controller off other people's Secrets
//! ("never overwrite a Secret you do not own"), so each of them is unit-tested here.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use shared::marks::{MANAGED, PATCH, SKIP_SET_OWNER_REFERENCES, is_true};

use crate::marks::{KEYS_ANNOTATION, SOURCE_ANNOTATION, Source, keys_mark, keys_of_annotations};

type Data = BTreeMap<String, ByteString>;

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
    /// The data of an existing immutable Secret: it can only stay exactly as it is.
    pub immutable: Option<Data>,
}

#[derive(Debug)]
pub enum How {
    /// Absent, or already this SealedSecret's: apply the desired Secret whole. The existing
    /// items are listed so that those the new data lacks can be dropped.
    Apply { existing_items: Vec<String> },
    /// Carries `managed: "true"`: take it over, replacing data, labels, annotations and owners.
    TakeOver { existing: Box<Secret> },
    /// Carries `patch: "true"`: merge the items, labels and annotations into it; owners are set
    /// only if `managed` is also there, or it is already controlled by this SealedSecret. The
    /// write is made on this `resource_version` only, so that a merge never creates a Secret
    /// that was deleted meanwhile (it is someone else's).
    Merge {
        set_owner: bool,
        resource_version: Option<String>,
    },
}

/// The writes that bring the target Secret to the unsealed one.
#[derive(Debug)]
pub enum WritePlan {
    /// An immutable Secret that already holds the data.
    Nothing,
    /// Server-side apply of `secret`, after a merge patch that deletes the `stale` items:
    /// apply removes only items this manager applied before, and the Secret is written whole.
    Apply { stale: Vec<String>, secret: Secret },
    /// Replace the existing object with `secret` (a takeover).
    Replace(Secret),
    /// Server-side apply of the items, labels and annotations in `secret` only.
    Merge(Secret),
}

/// The target Secret is immutable and its data differs from the unsealed data.
#[derive(Debug, PartialEq, Eq)]
pub struct ImmutableDiffers;

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
pub fn written_without_owner(secret: &Secret, owner_uid: &str) -> bool {
    let annotations = secret.metadata.annotations.as_ref();
    let from_us = Source::of_annotations(annotations)
        .is_some_and(|s| !owner_uid.is_empty() && s.uid == owner_uid);
    let controlled = secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true));
    from_us && is_true(annotations, SKIP_SET_OWNER_REFERENCES) && !controlled
}

/// Decides, from the existing Secret (if any), what the SealedSecret at `source` may do.
pub fn precheck(existing: Option<Secret>, source: &Source) -> Precheck {
    let Some(secret) = existing else {
        return Precheck::Unseal(Strategy {
            how: How::Apply {
                existing_items: Vec::new(),
            },
            immutable: None,
            recorded_keys: Vec::new(),
        });
    };
    let annotations = secret.metadata.annotations.as_ref();
    let recorded_keys = keys_of_annotations(annotations);
    let managed = is_true(annotations, MANAGED);
    let immutable =
        (secret.immutable == Some(true)).then(|| secret.data.clone().unwrap_or_default());
    let how = if is_true(annotations, PATCH) {
        How::Merge {
            set_owner: managed || is_controlled_by(&secret, &source.uid),
            resource_version: secret.metadata.resource_version.clone(),
        }
    } else if is_controlled_by(&secret, &source.uid) || written_without_owner(&secret, &source.uid)
    {
        if Source::of_annotations(annotations).as_ref() == Some(source) {
            return Precheck::UpToDate {
                keys: recorded_keys,
            };
        }
        How::Apply {
            existing_items: secret
                .data
                .iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .collect(),
        }
    } else if managed {
        How::TakeOver {
            existing: Box::new(secret),
        }
    } else {
        return Precheck::Refuse;
    };
    Precheck::Unseal(Strategy {
        how,
        immutable,
        recorded_keys,
    })
}

/// The writes for the `desired` (unsealed) Secret, with the controller's marks where it
/// writes a Secret whole: its source, and the keys that opened it (`opened_by`).
pub fn plan_write(
    strategy: Strategy,
    mut desired: Secret,
    source: &Source,
    opened_by: &BTreeSet<String>,
) -> Result<WritePlan, ImmutableDiffers> {
    if let Some(data) = strategy.immutable {
        return if desired.data.unwrap_or_default() == data {
            Ok(WritePlan::Nothing)
        } else {
            Err(ImmutableDiffers)
        };
    }
    Ok(match strategy.how {
        How::Apply { existing_items } => {
            let stale = existing_items
                .into_iter()
                .filter(|k| !desired.data.as_ref().is_some_and(|d| d.contains_key(k)))
                .collect();
            let annotations = desired.metadata.annotations.get_or_insert_default();
            annotations.insert(SOURCE_ANNOTATION.into(), source.to_string());
            if !opened_by.is_empty() {
                annotations.insert(KEYS_ANNOTATION.into(), keys_mark(opened_by));
            }
            WritePlan::Apply {
                stale,
                secret: desired,
            }
        }
        How::TakeOver { existing } => {
            let mut secret = *existing;
            secret.metadata.labels = desired.metadata.labels.take();
            secret.metadata.annotations = desired.metadata.annotations.take();
            secret.metadata.owner_references = desired.metadata.owner_references.take();
            secret.data = desired.data.take();
            secret.string_data = None;
            secret.type_ = desired.type_.take().or(secret.type_);
            secret.immutable = desired.immutable;
            WritePlan::Replace(secret)
        }
        How::Merge {
            set_owner,
            resource_version,
        } => WritePlan::Merge(Secret {
            metadata: ObjectMeta {
                name: desired.metadata.name.take(),
                resource_version,
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
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

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
        let refused = |secret: Secret| matches!(precheck(Some(secret), &s), Precheck::Refuse);
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
            matches!(how(precheck(Some(ours), &s)), How::Apply { .. }),
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
            precheck(Some(current.clone()), &s),
            Precheck::UpToDate { keys } if keys == ["SHA256:k"]
        ));
        current
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(SOURCE_ANNOTATION.into(), "u:1".into());
        let Precheck::Unseal(strategy) = precheck(Some(current), &s) else {
            panic!()
        };
        // The recorded keys go with the strategy, to be tried first.
        assert_eq!(strategy.recorded_keys, ["SHA256:k"]);
        assert!(matches!(
            strategy.how,
            How::Apply { existing_items } if existing_items == ["kept", "old"]
        ));
        // A patch Secret is merged every time: others may have changed it.
        let patch = secret(
            &[(PATCH, "true"), (SOURCE_ANNOTATION, "u:2")],
            Some(("u", true)),
        );
        assert!(matches!(
            how(precheck(Some(patch), &s)),
            How::Merge {
                set_owner: true,
                ..
            }
        ));
    }

    #[test]
    fn apply_writes_whole_with_our_marks_and_drops_stale_items() {
        let s = source();
        let Precheck::Unseal(strategy) = precheck(Some(secret(&[], Some(("u", true)))), &s) else {
            panic!()
        };
        let WritePlan::Apply { stale, secret } =
            plan_write(strategy, desired(), &s, &opened()).unwrap()
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
        // Absent: nothing stale.
        let Precheck::Unseal(strategy) = precheck(None, &s) else {
            panic!()
        };
        let WritePlan::Apply { stale, .. } =
            plan_write(strategy, desired(), &s, &opened()).unwrap()
        else {
            panic!()
        };
        assert!(stale.is_empty());
    }

    #[test]
    fn takeover_replaces_data_labels_annotations_and_owners() {
        let s = source();
        let existing = secret(&[(MANAGED, "true"), ("theirs", "x")], None);
        let Precheck::Unseal(strategy) = precheck(Some(existing), &s) else {
            panic!()
        };
        let WritePlan::Replace(secret) = plan_write(strategy, desired(), &s, &opened()).unwrap()
        else {
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
            let Precheck::Unseal(strategy) = precheck(Some(existing), &s) else {
                panic!()
            };
            let WritePlan::Merge(m) = plan_write(strategy, desired(), &s, &opened()).unwrap()
            else {
                panic!()
            };
            assert_eq!(m.data, Some(data(&[("kept", "3"), ("new", "4")])));
            assert_eq!(m.metadata.name.as_deref(), Some("s"));
            assert_eq!(is_controlled_by(&m, "u"), set_owner, "{annotations:?}");
            // Only on the version it read: a merge never creates a Secret deleted meanwhile.
            assert_eq!(m.metadata.resource_version.as_deref(), Some("41"));
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

    #[test]
    fn immutable_targets_stay_as_they_are() {
        let s = source();
        let mut existing = secret(&[], Some(("u", true)));
        existing.immutable = Some(true);
        let Precheck::Unseal(strategy) = precheck(Some(existing.clone()), &s) else {
            panic!()
        };
        assert_eq!(
            plan_write(strategy, desired(), &s, &opened()).unwrap_err(),
            ImmutableDiffers
        );
        existing.data = desired().data;
        let Precheck::Unseal(strategy) = precheck(Some(existing), &s) else {
            panic!()
        };
        assert!(matches!(
            plan_write(strategy, desired(), &s, &opened()),
            Ok(WritePlan::Nothing)
        ));
    }
}
