//! Whether and how the controller may write an existing Secret: pure, so it is unit-tested.

use k8s_openapi::api::core::v1::Secret;
use shared::scope::{MANAGED, PATCH, SKIP_SET_OWNER_REFERENCES};

use crate::reconcile::{SOURCE_ANNOTATION, UNSEALED_LABEL, UNSEALED_VALUE};

/// What to do with the target Secret.
#[derive(Debug, PartialEq, Eq)]
pub enum Write {
    /// Absent, or already controlled by this SealedSecret: apply the desired Secret whole.
    Apply,
    /// Carries `managed: "true"`: take it over, replacing data, labels, annotations and owners.
    TakeOver,
    /// Carries `patch: "true"`: merge the items, labels and annotations into it; owners are
    /// set only if `managed` is also there.
    Merge { set_owner: bool },
    /// Someone else's Secret: leave it alone.
    Refuse,
}

fn annotated(secret: &Secret, key: &str) -> bool {
    secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .is_some_and(|v| v == "true")
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
/// `skip-set-owner-references` (our label, that annotation, our source annotation naming this
/// UID, no controller): it has no owner to check, but it is still ours to update (the reference
/// refuses, which turns every later reconcile into an error).
fn written_without_owner(secret: &Secret, owner_uid: &str) -> bool {
    let labelled = secret
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(UNSEALED_LABEL))
        .is_some_and(|v| v == UNSEALED_VALUE);
    let from_us = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SOURCE_ANNOTATION))
        .and_then(|v| v.split_once(':'))
        .is_some_and(|(uid, _)| !owner_uid.is_empty() && uid == owner_uid);
    let controlled = secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true));
    labelled && from_us && annotated(secret, SKIP_SET_OWNER_REFERENCES) && !controlled
}

/// Decides how to write, given the existing Secret (if any) and the SealedSecret's UID.
pub fn decide(existing: Option<&Secret>, owner_uid: &str) -> Write {
    let Some(secret) = existing else {
        return Write::Apply;
    };
    let managed = annotated(secret, MANAGED);
    if annotated(secret, PATCH) {
        return Write::Merge {
            set_owner: managed || is_controlled_by(secret, owner_uid),
        };
    }
    if is_controlled_by(secret, owner_uid) || written_without_owner(secret, owner_uid) {
        Write::Apply
    } else if managed {
        Write::TakeOver
    } else {
        Write::Refuse
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
    use std::collections::BTreeMap;

    fn secret(annotations: &[(&str, &str)], owner: Option<(&str, bool)>) -> Secret {
        Secret {
            metadata: ObjectMeta {
                annotations: Some(
                    annotations
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect::<BTreeMap<_, _>>(),
                ),
                owner_references: owner.map(|(uid, controller)| {
                    vec![OwnerReference {
                        api_version: "bitnami.com/v1alpha1".into(),
                        kind: "SealedSecret".into(),
                        name: "x".into(),
                        uid: uid.into(),
                        controller: Some(controller),
                        block_owner_deletion: None,
                    }]
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn decisions() {
        assert_eq!(decide(None, "u"), Write::Apply);
        assert_eq!(
            decide(Some(&secret(&[], Some(("u", true)))), "u"),
            Write::Apply
        );
        assert_eq!(
            decide(Some(&secret(&[], Some(("other", true)))), "u"),
            Write::Refuse
        );
        assert_eq!(
            decide(Some(&secret(&[], Some(("u", false)))), "u"),
            Write::Refuse
        );
        assert_eq!(decide(Some(&secret(&[], None)), "u"), Write::Refuse);
        assert_eq!(
            decide(Some(&secret(&[(MANAGED, "true")], None)), "u"),
            Write::TakeOver
        );
        assert_eq!(
            decide(Some(&secret(&[(MANAGED, "yes")], None)), "u"),
            Write::Refuse
        );
        assert_eq!(
            decide(Some(&secret(&[(PATCH, "true")], None)), "u"),
            Write::Merge { set_owner: false }
        );
        let mut ours = secret(&[(SKIP_SET_OWNER_REFERENCES, "true")], None);
        assert_eq!(
            decide(Some(&ours), "u"),
            Write::Refuse,
            "the annotation alone is not enough"
        );
        ours.metadata.labels = Some(BTreeMap::from([(
            UNSEALED_LABEL.to_owned(),
            UNSEALED_VALUE.to_owned(),
        )]));
        assert_eq!(
            decide(Some(&ours), "u"),
            Write::Refuse,
            "our label alone is not enough"
        );
        let annotations = ours.metadata.annotations.get_or_insert_default();
        annotations.insert(SOURCE_ANNOTATION.to_owned(), "other:1".to_owned());
        assert_eq!(
            decide(Some(&ours), "u"),
            Write::Refuse,
            "written for another SealedSecret"
        );
        let annotations = ours.metadata.annotations.get_or_insert_default();
        annotations.insert(SOURCE_ANNOTATION.to_owned(), "u:1".to_owned());
        assert_eq!(
            decide(Some(&ours), "u"),
            Write::Apply,
            "written by us for this one without an owner"
        );
        assert_eq!(
            decide(
                Some(&secret(&[(PATCH, "true"), (MANAGED, "true")], None)),
                "u"
            ),
            Write::Merge { set_owner: true }
        );
    }
}
