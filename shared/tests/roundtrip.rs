//! Seal then unseal: arbitrary data, every scope, and the moves and tampering that must fail.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use proptest::prelude::*;
use shared::keys::{Certificate, KeyRing, KeySize, PrivateKey, generate};
use shared::unseal::{UnsealError, UnsealOptions, unseal};
use shared::{Scope, SealedSecret, seal, wire};

fn vector(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

fn cert() -> &'static Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(|| Certificate::from_pem(vector("sealing-cert.pem").as_bytes()).unwrap())
}

fn ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| {
        KeyRing::new(vec![
            PrivateKey::from_pem(&vector("sealing-key.pem")).unwrap(),
        ])
    })
}

fn secret(namespace: &str, name: &str, scope: Scope, data: &BTreeMap<String, Vec<u8>>) -> Secret {
    let mut annotations = BTreeMap::new();
    scope.apply_to(&mut annotations);
    Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            annotations: Some(annotations),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.clone(), ByteString(v.clone())))
                .collect(),
        ),
        ..Default::default()
    }
}

fn sealed(
    namespace: &str,
    name: &str,
    scope: Scope,
    data: &BTreeMap<String, Vec<u8>>,
) -> SealedSecret {
    seal::seal(
        &secret(namespace, name, scope, data),
        cert().public_key(),
        &mut rand::rng(),
    )
    .unwrap()
}

fn plain(secret: Secret) -> BTreeMap<String, Vec<u8>> {
    secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect()
}

fn scopes() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Strict),
        Just(Scope::NamespaceWide),
        Just(Scope::ClusterWide)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn seal_then_unseal_gives_the_data_back(
        data in prop::collection::btree_map("[a-zA-Z0-9._-]{1,20}", prop::collection::vec(any::<u8>(), 0..300), 0..5),
        scope in scopes(),
    ) {
        let ss = sealed("team", "app", scope, &data);
        prop_assert_eq!(shared::unseal::scope_of(&ss), scope);
        let out = unseal(&ss, ring(), UnsealOptions::default()).unwrap();
        prop_assert_eq!(plain(out), data);
    }
}

fn one_item() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([("password".to_owned(), b"hunter2".to_vec())])
}

fn moved(mut ss: SealedSecret, namespace: &str, name: &str) -> SealedSecret {
    ss.metadata.namespace = Some(namespace.into());
    ss.metadata.name = Some(name.into());
    ss
}

fn unseals(ss: &SealedSecret) -> bool {
    unseal(ss, ring(), UnsealOptions::default()).is_ok()
}

#[test]
fn strict_binds_namespace_and_name() {
    let ss = sealed("team", "app", Scope::Strict, &one_item());
    assert!(unseals(&ss));
    assert!(!unseals(&moved(ss.clone(), "team", "other")));
    assert!(!unseals(&moved(ss, "other", "app")));
}

#[test]
fn namespace_wide_binds_namespace_only() {
    let ss = sealed("team", "app", Scope::NamespaceWide, &one_item());
    assert!(unseals(&moved(ss.clone(), "team", "other")));
    assert!(!unseals(&moved(ss, "other", "app")));
}

#[test]
fn cluster_wide_moves_anywhere() {
    let ss = sealed("team", "app", Scope::ClusterWide, &one_item());
    assert!(unseals(&moved(ss, "other", "else")));
}

#[test]
fn scope_comes_from_outer_metadata_not_the_template() {
    // A strict ciphertext with cluster-wide claimed only in the template must not widen.
    let mut ss = sealed("team", "app", Scope::Strict, &one_item());
    let tpl = ss.spec.template.as_mut().unwrap();
    Scope::ClusterWide.apply_to(tpl.metadata.annotations.get_or_insert_default());
    assert!(!unseals(&moved(ss, "other", "app")));
}

#[test]
fn every_flipped_byte_position_class_fails() {
    let ss = sealed("team", "app", Scope::Strict, &one_item());
    let raw = wire::decode(&ss.spec.encrypted_data["password"]).unwrap();
    // Length prefix, RSA part, GCM body and tag.
    for pos in [1, 2, 300, 513, 514, raw.len() - 1] {
        let mut bad = raw.clone();
        bad[pos] ^= 0x01;
        let mut tampered = ss.clone();
        tampered
            .spec
            .encrypted_data
            .insert("password".into(), wire::encode(&bad));
        let err = unseal(&tampered, ring(), UnsealOptions::default()).unwrap_err();
        assert!(err.to_string().contains("(password)"), "{err}");
    }
}

#[test]
fn unknown_key_fails_with_the_opaque_message() {
    let other = generate(
        KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(3600),
        "",
        [7; 16],
    )
    .unwrap();
    let ss = sealed("team", "app", Scope::Strict, &one_item());
    let err = unseal(
        &ss,
        &KeyRing::new(vec![other.key]),
        UnsealOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (password)");
}

#[test]
fn the_right_key_is_found_among_many() {
    let mut keys: Vec<PrivateKey> = (0..3)
        .map(|i| {
            generate(
                KeySize::Rsa2048,
                time::OffsetDateTime::now_utc(),
                std::time::Duration::from_secs(3600),
                "",
                [i; 16],
            )
            .unwrap()
            .key
        })
        .collect();
    keys.push(PrivateKey::from_pem(&vector("sealing-key.pem")).unwrap());
    let data = BTreeMap::from([
        ("a".to_owned(), b"1".to_vec()),
        ("b".to_owned(), b"2".to_vec()),
    ]);
    let ss = sealed("team", "app", Scope::Strict, &data);
    assert_eq!(
        plain(unseal(&ss, &KeyRing::new(keys), UnsealOptions::default()).unwrap()),
        data
    );
}

#[test]
fn invalid_base64_names_the_item_and_does_not_say_decrypt() {
    let mut ss = sealed("team", "app", Scope::Strict, &one_item());
    ss.spec
        .encrypted_data
        .insert("broken".into(), "not base64!".into());
    let err = unseal(&ss, ring(), UnsealOptions::default()).unwrap_err();
    assert!(matches!(err, UnsealError::Items(_)));
    let text = err.to_string();
    assert!(text.contains("invalid base64 (broken)"), "{text}");
    assert!(!text.contains("decrypt"), "{text}");
}

#[test]
fn generated_key_has_the_reference_certificate_shape() {
    let now = time::OffsetDateTime::now_utc();
    let ttl = std::time::Duration::from_secs(10 * 365 * 24 * 3600);
    let generated = generate(KeySize::Rsa2048, now, ttl, "", [0xAB; 16]).unwrap();
    let cert = Certificate::from_pem(generated.cert_pem.as_bytes()).unwrap();
    assert_eq!(cert.public_key().fingerprint(), generated.key.fingerprint());
    assert_eq!(
        cert.not_after().unix_timestamp() - cert.not_before().unix_timestamp(),
        ttl.as_secs() as i64
    );
    // The stored form is PKCS#1, as the reference writes tls.key.
    let pem = generated.key.to_pkcs1_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
}

#[test]
fn template_metadata_type_and_immutable_carry_over() {
    let mut s = secret("team", "app", Scope::Strict, &one_item());
    s.type_ = Some("kubernetes.io/basic-auth".into());
    s.immutable = Some(true);
    s.metadata.labels = Some(BTreeMap::from([("app".into(), "x".into())]));
    s.metadata.annotations.get_or_insert_default().insert(
        "kubectl.kubernetes.io/last-applied-configuration".into(),
        "{\"data\":{\"password\":\"aHVudGVyMg==\"}}".into(),
    );
    let ss = seal::seal(&s, cert().public_key(), &mut rand::rng()).unwrap();
    let tpl = ss.spec.template.as_ref().unwrap();
    assert!(
        tpl.metadata.annotations.is_none(),
        "last-applied must be stripped"
    );
    let out = unseal(&ss, ring(), UnsealOptions::default()).unwrap();
    assert_eq!(out.type_.as_deref(), Some("kubernetes.io/basic-auth"));
    assert_eq!(out.immutable, Some(true));
    assert_eq!(out.metadata.labels.unwrap()["app"], "x");
}
