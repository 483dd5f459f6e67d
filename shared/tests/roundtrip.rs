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
        data in prop::collection::btree_map("[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,19}", prop::collection::vec(any::<u8>(), 0..300), 0..5),
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

/// Hardening: item names must be valid Secret keys, and there is a cap on items; both are
/// checked before any RSA work, and messages stay bounded whatever the input.
#[test]
fn invalid_item_names_and_too_many_items_are_refused_before_decrypting() {
    use shared::unseal::{MAX_ITEMS, precheck};
    let good = sealed("team", "app", Scope::Strict, &one_item());
    let value = good.spec.encrypted_data.values().next().unwrap().clone();
    for (key, reason) in [
        ("a/b", "may contain only"),
        ("", "empty"),
        (".", "may not be"),
        ("a\nFORGED-LOG-LINE", "may contain only"),
        (&*"k".repeat(254), "longer than 253"),
        (&*"k".repeat(600_000), "longer than 253"),
    ] {
        let mut ss = good.clone();
        ss.spec.encrypted_data.insert(key.to_owned(), value.clone());
        let err = unseal(&ss, ring(), UnsealOptions::default()).unwrap_err();
        assert_eq!(precheck(&ss).unwrap_err(), err);
        let text = err.to_string();
        assert!(text.contains(reason), "{text}");
        assert!(text.contains("spec.encryptedData"), "{text}");
        assert!(text.len() < 300, "{} bytes", text.len());
        assert!(!text.contains('\n'), "{text}");
    }
    let k254 = "k".repeat(253);
    let mut ss = good.clone();
    ss.spec.encrypted_data.insert(k254, value.clone());
    assert!(unseal(&ss, ring(), UnsealOptions::default()).is_ok());

    let mut template = good.clone();
    template.spec.template = Some(shared::SecretTemplateSpec {
        data: Some(BTreeMap::from([("bad key".to_owned(), "x".to_owned())])),
        ..Default::default()
    });
    let text = unseal(&template, ring(), UnsealOptions::default())
        .unwrap_err()
        .to_string();
    assert!(text.contains("spec.template.data key"), "{text}");

    let mut many = good.clone();
    for i in 0..MAX_ITEMS + 800 {
        many.spec
            .encrypted_data
            .insert(format!("item{i}"), "AAAA".into());
    }
    let err = precheck(&many).unwrap_err();
    assert!(matches!(err, UnsealError::TooManyItems { count, .. } if count == MAX_ITEMS + 801));
}

/// Hardening: 20,000 failing items made a 160 KB condition message. Now the first few names
/// and a count.
#[test]
fn item_errors_are_bounded() {
    let mut ss = sealed("team", "app", Scope::Strict, &one_item());
    for i in 0..900 {
        ss.spec
            .encrypted_data
            .insert(format!("garbage-{i:04}"), "not base64!".into());
    }
    let text = unseal(&ss, ring(), UnsealOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with("invalid base64 (garbage-0000, garbage-0001"),
        "{text}"
    );
    assert!(text.ends_with(" and 895 more)"), "{text}");
    assert!(text.len() < 200, "{text}");
}

/// Hardening: one budget for all template values of an object (a few dozen values of 1 MB
/// each used to be rendered, and of 16 MB each took 869 MiB), and a 1 MiB cap on the data.
#[test]
fn templates_share_one_budget_and_the_secret_is_capped() {
    let good = sealed("team", "app", Scope::Strict, &one_item());
    let with = |values: Vec<(String, String)>| {
        let mut ss = good.clone();
        ss.spec.template = Some(shared::SecretTemplateSpec {
            data: Some(values.into_iter().collect()),
            ..Default::default()
        });
        unseal(&ss, ring(), UnsealOptions::default())
    };
    let huge = (0..40)
        .map(|i| (format!("v{i}"), r#"{{ repeat 16000000 "x" }}"#.to_owned()))
        .collect();
    let text = with(huge).unwrap_err().to_string();
    assert!(text.contains("would exceed 1048576 bytes"), "{text}");
    let sneaky = (0..40)
        .map(|i| {
            (
                format!("v{i}"),
                r#"{{ repeat 1000000 "x" | trunc 1 }}"#.to_owned(),
            )
        })
        .collect();
    let text = with(sneaky).unwrap_err().to_string();
    assert!(
        text.contains("would build more than 16777216 bytes"),
        "{text}"
    );
    let big = (0..3)
        .map(|i| (format!("v{i}"), r#"{{ repeat 500000 "x" }}"#.to_owned()))
        .collect();
    let text = with(big).unwrap_err().to_string();
    assert!(
        text.contains("would hold 1500007 bytes of data; a Secret holds at most 1048576"),
        "{text}"
    );
    let fits = (0..2)
        .map(|i| (format!("v{i}"), r#"{{ repeat 500000 "x" }}"#.to_owned()))
        .collect();
    assert!(with(fits).is_ok());
}

/// Templates that use randomness render with the caller's environment (the controller's clock
/// and RNG), and are refused without one.
#[test]
fn random_template_functions_use_the_callers_environment() {
    let mut ss = sealed("team", "app", Scope::Strict, &one_item());
    ss.spec.template = Some(shared::SecretTemplateSpec {
        data: Some(BTreeMap::from([(
            "token".to_owned(),
            "{{ randAlphaNum 16 }}".to_owned(),
        )])),
        ..Default::default()
    });
    let mut env = shared::template::Context {
        now: time::OffsetDateTime::now_utc(),
        rng: rand::rng(),
    };
    let out =
        shared::unseal::unseal_with(&ss, ring(), UnsealOptions::default(), &mut env, &mut || {})
            .unwrap();
    let token = &out.data.unwrap()["token"].0;
    assert_eq!(token.len(), 16);
    assert!(token.iter().all(u8::is_ascii_alphanumeric));
    assert!(unseal(&ss, ring(), UnsealOptions::default()).is_err());
}

/// With many keys, the recorded key of an object is tried first: one RSA operation per item,
/// where an unrecorded object tries keys until one fits. A mixed object (items under two keys)
/// opens, and records both keys.
#[test]
fn recorded_keys_cost_one_rsa_operation_per_item() {
    use shared::template::Hermetic;
    use shared::unseal::unseal_preferring;
    let now = time::OffsetDateTime::now_utc();
    let ttl = std::time::Duration::from_secs(3600);
    // Keys of one size: a value is tried only with keys of its wrapped key's size.
    let keys: Vec<PrivateKey> = (0..24u8)
        .map(|i| {
            generate(KeySize::Rsa2048, now, ttl, "", [i; 16])
                .unwrap()
                .key
        })
        .collect();
    let ring = KeyRing::new(keys);
    let data: BTreeMap<String, Vec<u8>> = (0..3)
        .map(|i| (format!("k{i}"), format!("v{i}").into_bytes()))
        .collect();
    // Sealed with the last key of the ring, the one tried last without a record.
    let sealing = ring.keys()[23].public_key();
    let ss = seal::seal(
        &secret("ns", "name", Scope::Strict, &data),
        sealing,
        &mut rand::rng(),
    )
    .unwrap();
    let fingerprint = sealing.fingerprint();
    let unseal = |recorded: &[String]| {
        let (result, used) = unseal_preferring(
            &ss,
            &ring,
            UnsealOptions::default(),
            &mut Hermetic,
            &mut || {},
            recorded,
        );
        assert_eq!(plain(result.unwrap()), data);
        used
    };
    let first = unseal(&[]);
    assert_eq!(first.opened_by.iter().collect::<Vec<_>>(), [&fingerprint]);
    // 24 tries for the first item, then the key that opened it: 1 each for the others.
    assert_eq!(first.rsa_operations, 24 + 2);
    let again = unseal(std::slice::from_ref(&fingerprint));
    assert_eq!(again.rsa_operations, 3);
    assert_eq!(again.opened_by, first.opened_by);
    // A stale record (a key no longer in the ring) costs nothing extra.
    let stale = unseal(&["SHA256:gone".to_owned(), fingerprint.clone()]);
    assert_eq!(stale.rsa_operations, 3);

    // Mixed: k0 under another key of the ring, the rest under the vectors' key.
    let other = ring.keys()[5].public_key();
    let mut mixed = ss.clone();
    let one = seal::seal(
        &secret("ns", "name", Scope::Strict, &data),
        other,
        &mut rand::rng(),
    )
    .unwrap();
    mixed
        .spec
        .encrypted_data
        .insert("k0".into(), one.spec.encrypted_data["k0"].clone());
    let (result, used) = unseal_preferring(
        &mixed,
        &ring,
        UnsealOptions::default(),
        &mut Hermetic,
        &mut || {},
        &[other.fingerprint(), fingerprint.clone()],
    );
    assert_eq!(plain(result.unwrap()), data);
    assert_eq!(
        used.opened_by,
        [other.fingerprint(), fingerprint].into_iter().collect()
    );
    // k0 with the other key (1), k1 tries it first and then the vectors' key (2), k2 (1).
    assert_eq!(used.rsa_operations, 4);
}
