//! Interoperability with the reference: vectors made with Bitnami's own crypto code.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::core::v1::Secret;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use shared::keys::{Certificate, KeyRing, PrivateKey, private_keys_from_backup};
use shared::unseal::{UnsealOptions, unseal};
use shared::{Scope, SealedSecret, crypto, seal, wire};

fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(vector_path(name)).unwrap()
}

fn ring() -> KeyRing {
    KeyRing::new(vec![
        PrivateKey::from_pem(&read("sealing-key.pem")).unwrap(),
    ])
}

/// Replays a fixed byte stream: the session key, then the OAEP seed.
struct Replay(Vec<u8>);

impl rand_core::TryRng for Replay {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert!(dst.len() <= self.0.len(), "replay stream exhausted");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Replay {}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn all_eighteen_vectors_decrypt_and_only_with_their_label() {
    let ring = ring();
    let mut count = 0;
    for file in [
        "vectors-strict.json",
        "vectors-namespace-wide.json",
        "vectors-cluster-wide.json",
    ] {
        let vectors: Vec<Value> = serde_json::from_str(&read(file)).unwrap();
        for v in vectors {
            let scope: Scope = v["scope"].as_str().unwrap().parse().unwrap();
            let label = scope.label(
                v["namespace"].as_str().unwrap(),
                v["name"].as_str().unwrap(),
            );
            assert_eq!(
                label.as_bytes(),
                v["oaep_label"].as_str().unwrap().as_bytes()
            );
            let sealed = wire::decode(v["ciphertext_b64"].as_str().unwrap()).unwrap();
            assert_eq!(sealed.len() as u64, v["ciphertext_len"].as_u64().unwrap());
            let plain = crypto::decrypt(&ring, &sealed, &label, &mut None).unwrap();
            assert_eq!(plain.len() as u64, v["plaintext_len"].as_u64().unwrap());
            let digest: String = Sha256::digest(&*plain)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(digest, v["plaintext_sha256"].as_str().unwrap());
            assert_eq!(
                STANDARD.encode(&*plain),
                v["plaintext_b64"].as_str().unwrap()
            );

            let wrong = Scope::Strict.label("elsewhere", "other");
            assert_eq!(
                crypto::decrypt(&ring, &sealed, &wrong, &mut None),
                Err(crypto::DecryptError::NoKeyCouldDecrypt)
            );
            count += 1;
        }
    }
    assert_eq!(count, 18);
}

#[test]
fn deterministic_vector_is_reproduced_byte_for_byte() {
    let v: Value = serde_json::from_str(&read("vector-deterministic.json")).unwrap();
    let cert = Certificate::from_pem(read("sealing-cert.pem").as_bytes()).unwrap();
    assert_eq!(
        cert.public_key().fingerprint(),
        v["public_key_fp"].as_str().unwrap()
    );
    let mut stream = hex(v["session_key_hex"].as_str().unwrap());
    stream.extend(hex(v["oaep_seed_hex"].as_str().unwrap()));
    let mut rng = Replay(stream);
    let label = Scope::Strict.label(
        v["namespace"].as_str().unwrap(),
        v["name"].as_str().unwrap(),
    );
    let plaintext = STANDARD
        .decode(v["plaintext_b64"].as_str().unwrap())
        .unwrap();
    let sealed =
        crypto::encrypt_with_seed_from(&mut rng, cert.public_key(), &plaintext, &label).unwrap();
    assert_eq!(wire::encode(&sealed), v["ciphertext_b64"].as_str().unwrap());
    assert!(
        rng.0.is_empty(),
        "the whole stream is used: session key then seed"
    );
}

const MANIFESTS: [&str; 2] = [
    "sealedsecret-strict-default-db-creds",
    "sealedsecret-nswide-team-a-api",
];

#[test]
fn full_manifests_unseal_to_their_expected_data() {
    let expected: Value = serde_json::from_str(&read("manifests-expected.json")).unwrap();
    for ring in [
        ring(),
        KeyRing::new({
            let yaml = read("sealing-key-secret.yaml");
            let secret: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
            private_keys_from_backup(&[secret], &yaml).unwrap()
        }),
    ] {
        for name in MANIFESTS {
            let from_yaml: SealedSecret =
                serde_saphyr::from_str(&read(&format!("{name}.yaml"))).unwrap();
            let from_json: SealedSecret =
                serde_json::from_str(&read(&format!("{name}.json"))).unwrap();
            assert_eq!(from_yaml.spec, from_json.spec);
            assert_eq!(from_yaml.metadata, from_json.metadata);
            let secret = unseal(&from_yaml, &ring, UnsealOptions::default()).unwrap();
            let data: BTreeMap<String, String> = secret
                .data
                .unwrap()
                .into_iter()
                .map(|(k, v)| (k, STANDARD.encode(v.0)))
                .collect();
            let want: BTreeMap<String, String> =
                serde_json::from_value(expected[name]["unsealed_data_b64"].clone()).unwrap();
            assert_eq!(data, want, "{name}");
            assert_eq!(
                secret.metadata.name.as_deref(),
                expected[name]["name"].as_str()
            );
            let owner = &secret.metadata.owner_references.unwrap()[0];
            assert_eq!(
                (owner.kind.as_str(), owner.controller),
                ("SealedSecret", Some(true))
            );
        }
    }
}

/// Blanks every ciphertext so two sealings of the same input compare equal.
fn without_ciphertexts(mut v: Value) -> Value {
    if let Some(items) = v
        .pointer_mut("/spec/encryptedData")
        .and_then(Value::as_object_mut)
    {
        for value in items.values_mut() {
            *value = Value::String("<ciphertext>".into());
        }
    }
    v
}

#[test]
fn our_sealing_of_their_inputs_matches_their_structure() {
    let cert = Certificate::from_pem(read("sealing-cert.pem").as_bytes()).unwrap();
    let expected: Value = serde_json::from_str(&read("manifests-expected.json")).unwrap();
    for name in MANIFESTS {
        let mut input: Secret =
            serde_saphyr::from_str(&read(&format!("{name}.input-secret.yaml"))).unwrap();
        let scope: Scope = expected[name]["scope"].as_str().unwrap().parse().unwrap();
        if scope != Scope::Strict {
            scope.apply_to(input.metadata.annotations.get_or_insert_default());
        }
        seal::validate(&input, false).unwrap();
        let ours = seal::seal(&input, cert.public_key(), &mut rand::rng()).unwrap();
        let theirs: Value = serde_json::from_str(&read(&format!("{name}.json"))).unwrap();
        assert_eq!(
            without_ciphertexts(serde_json::to_value(&ours).unwrap()),
            without_ciphertexts(theirs),
            "{name}"
        );
        // And ours unseals to what theirs does.
        let secret = unseal(&ours, &ring(), UnsealOptions::default()).unwrap();
        assert_eq!(
            secret.data.unwrap().len(),
            expected[name]["unsealed_data_b64"]
                .as_object()
                .unwrap()
                .len()
        );
    }
}
