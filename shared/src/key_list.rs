//! The sealing keys as `GET /v1/keys` and `seal keys` show them: public information only
//! (fingerprint, the certificate's dates, the key Secret's name and label, whether it seals, and
//! how many SealedSecrets still need it). The private key is never read here.
//!
//! The counts are the controller leader's (`unsealer::key_usage`); it writes them on each key
//! Secret as the annotation [`OBJECTS_ANNOTATION`] once it has looked at every SealedSecret, so
//! that every replica, a key backup, and `kubectl get secret` show them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use crate::keys::Certificate;
use crate::marks::{KEY_ACTIVE, KEY_LABEL, OBJECTS_ANNOTATION};

/// One key, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub fingerprint: String,
    /// The key Secret's name.
    pub secret: String,
    /// The certificate's NotBefore and NotAfter, RFC 3339.
    pub created: String,
    pub expires: String,
    /// The key label's value: `active`, `compromised`, or whatever it was relabelled to.
    pub state: String,
    /// Whether it is the key new SealedSecrets are sealed for.
    pub newest: bool,
    /// SealedSecrets whose items it opened when last unsealed; `None` until the leader has
    /// looked at every SealedSecret.
    pub objects: Option<u64>,
}

/// The fingerprint of a key Secret's certificate (`tls.crt`), if it has a readable one.
pub fn fingerprint_of(secret: &Secret) -> Option<String> {
    let crt = secret.data.as_ref()?.get("tls.crt")?;
    Certificate::from_pem(&crt.0)
        .ok()
        .map(|c| c.public_key().fingerprint())
}

/// The keys of `secrets` (key Secrets of any label value), newest certificate first;
/// `sealing` is the fingerprint of the key that seals now (`None`: the active key with the
/// latest certificate, as the controller picks by default). Secrets without a readable
/// certificate are left out.
pub fn describe(secrets: &[Secret], sealing: Option<&str>) -> Vec<KeyInfo> {
    let mut keys: Vec<(time::OffsetDateTime, KeyInfo)> = secrets
        .iter()
        .filter_map(|s| {
            let crt = s.data.as_ref()?.get("tls.crt")?;
            let cert = Certificate::from_pem(&crt.0).ok()?;
            let fingerprint = cert.public_key().fingerprint();
            let date = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
            let meta = &s.metadata;
            let info = KeyInfo {
                newest: sealing == Some(fingerprint.as_str()),
                fingerprint,
                secret: meta.name.clone().unwrap_or_default(),
                created: date(cert.not_before()),
                expires: date(cert.not_after()),
                state: meta
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(KEY_LABEL))
                    .cloned()
                    .unwrap_or_default(),
                objects: meta
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(OBJECTS_ANNOTATION))
                    .and_then(|v| v.parse().ok()),
            };
            Some((cert.not_before(), info))
        })
        .collect();
    keys.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.secret.cmp(&b.1.secret)));
    let mut keys: Vec<KeyInfo> = keys.into_iter().map(|(_, k)| k).collect();
    if sealing.is_none()
        && let Some(first) = keys.iter_mut().find(|k| k.state == KEY_ACTIVE)
    {
        first.newest = true;
    }
    keys
}

/// The annotation writes that bring each key Secret's count to `counts` (by fingerprint; a key
/// no object needs counts 0): `(secret name, new value)`, only where it differs.
pub fn count_updates(secrets: &[Secret], counts: &BTreeMap<String, u64>) -> Vec<(String, String)> {
    secrets
        .iter()
        .filter_map(|s| {
            let fingerprint = fingerprint_of(s)?;
            let want = counts.get(&fingerprint).copied().unwrap_or(0).to_string();
            let have = s
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(OBJECTS_ANNOTATION));
            (have != Some(&want)).then(|| (s.metadata.name.clone().unwrap_or_default(), want))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeySize, generate};
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn key_secret(name: &str, hours_ago: i64, label: &str, objects: Option<&str>) -> Secret {
        let made = time::OffsetDateTime::now_utc() - time::Duration::hours(hours_ago);
        let key = generate(
            KeySize::Rsa2048,
            made,
            std::time::Duration::from_secs(86400),
            "",
            [1; 16],
        )
        .unwrap();
        Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some([(KEY_LABEL.to_owned(), label.to_owned())].into()),
                annotations: objects
                    .map(|n| [(OBJECTS_ANNOTATION.to_owned(), n.to_owned())].into()),
                ..ObjectMeta::default()
            },
            data: Some(
                [
                    ("tls.crt".to_owned(), ByteString(key.cert_pem.into_bytes())),
                    // Never read here: not even a key.
                    ("tls.key".to_owned(), ByteString(b"not read".to_vec())),
                ]
                .into(),
            ),
            ..Secret::default()
        }
    }

    #[test]
    fn keys_are_listed_newest_first_with_their_state_and_counts() {
        let old = key_secret("k-old", 48, "compromised", Some("2"));
        let new = key_secret("k-new", 1, "active", None);
        let broken = Secret {
            metadata: ObjectMeta {
                name: Some("k-broken".into()),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        };
        let sealing = fingerprint_of(&new).unwrap();
        let listed = describe(&[old.clone(), broken, new.clone()], Some(&sealing));
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].secret, "k-new");
        assert!(listed[0].newest);
        assert_eq!(listed[0].objects, None, "not counted yet");
        assert_eq!(listed[1].state, "compromised");
        assert_eq!(listed[1].objects, Some(2));
        assert!(!listed[1].newest);
        assert!(listed[1].created < listed[0].created);
        // Without the controller's word: the active key with the latest certificate.
        let offline = describe(&[old.clone(), new.clone()], None);
        assert!(offline[0].newest && !offline[1].newest);

        let counts = [(fingerprint_of(&old).unwrap(), 2), (sealing, 5)].into();
        assert_eq!(
            count_updates(&[old, new], &counts),
            [("k-new".to_owned(), "5".to_owned())],
            "only the count that differs is written"
        );
    }
}
