//! Criterion benches of the pure core: sealing, unsealing and the raw RSA-4096 operations.
//!
//! Run with `cargo bench -p shared --bench seal` (see `benches/README.md` at the repo root).
//! Every bench uses the RSA-4096 reference vector key and certificate in
//! `shared/tests/vectors/`. The 24-key ring generates 23 extra RSA-4096 keys the first time a
//! bench that needs it runs (tens of seconds), never when it is filtered out.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::Secret;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::EncodePrivateKey as _;
use shared::keys::{Certificate, KeyRing, KeySize, PrivateKey, generate};
use shared::unseal::{UnsealOptions, unseal};
use shared::{Scope, SealedSecret, crypto, seal};
use time::OffsetDateTime;

/// Secrets in the batch benches: what the CLI seals for a 1,000-document file.
const BATCH: usize = 1_000;
/// Keys in the big ring: the right one is last, after 23 decoys.
const RING_SIZE: usize = 24;

fn vector(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

static CERT_PEM: LazyLock<String> = LazyLock::new(|| vector("sealing-cert.pem"));
static KEY_PEM: LazyLock<String> = LazyLock::new(|| vector("sealing-key.pem"));
static CERT: LazyLock<Certificate> =
    LazyLock::new(|| Certificate::from_pem(CERT_PEM.as_bytes()).expect("vector certificate"));

fn vector_key() -> PrivateKey {
    PrivateKey::from_pem(&KEY_PEM).expect("vector key")
}

/// One Secret document with five `data` items (8 to 88 bytes), as `benches/cli-vs-kubeseal.sh`
/// writes it, so both benches seal the same shape.
fn secret_yaml(i: usize) -> String {
    let b64 = |s: String| STANDARD.encode(s);
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-{i}\n  namespace: bench\ntype: Opaque\ndata:\n  username: {}\n  password: {}\n  api-token: {}\n  database-url: {}\n  config.json: {}\n",
        b64(format!("user{i:04}")),
        b64(format!("pw-{i:06}-Xq7!vR2#kL9@mN4$")),
        b64(format!("tok_{i:06}_0123456789abcdef0123456789ab")),
        b64(format!(
            "postgres://user{i:04}:pw-{i:06}@db.bench.svc.cluster.local:5432/app"
        )),
        b64(format!(
            "{{\"replicas\":3,\"region\":\"eu-west-1\",\"feature_flags\":[\"a\",\"b\",\"c\"],\"id\":{i},\"debug\":false}}"
        )),
    )
}

/// `count` documents joined as one multi-document YAML file.
fn batch_yaml(count: usize) -> String {
    (0..count)
        .map(|i| format!("---\n{}", secret_yaml(i)))
        .collect()
}

fn parse_secrets(yaml: &str) -> Vec<Secret> {
    serde_saphyr::from_multiple(yaml).expect("benchmark Secrets parse")
}

/// A SealedSecret with a single item, sealed for the vector certificate.
fn one_item_sealed() -> SealedSecret {
    let secret: Secret = serde_saphyr::from_str(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: one\n  namespace: bench\ndata:\n  password: cy0zY3IzdC1wYXNzd29yZC0xMjM0NTY3ODkw\n",
    )
    .unwrap();
    seal::seal(&secret, CERT.public_key(), &mut rand::rng()).unwrap()
}

/// 23 freshly generated RSA-4096 decoys, then the vector key: generated once per process.
static RING_24: LazyLock<KeyRing> = LazyLock::new(|| {
    let start = std::time::Instant::now();
    let mut keys: Vec<PrivateKey> = (1..RING_SIZE)
        .map(|i| {
            let mut serial = [0u8; 16];
            serial[15] = i as u8;
            generate(
                KeySize::Rsa4096,
                OffsetDateTime::now_utc(),
                Duration::from_secs(3600),
                "",
                serial,
            )
            .expect("decoy key")
            .key
        })
        .collect();
    keys.push(vector_key());
    eprintln!(
        "generated {} RSA-4096 decoy keys in {:.1?}",
        RING_SIZE - 1,
        start.elapsed()
    );
    KeyRing::new(keys)
});

fn seal_benches(c: &mut Criterion) {
    let public = CERT.public_key();
    let one: Secret = serde_saphyr::from_str(&secret_yaml(0)).unwrap();
    seal::validate(&one, false).unwrap();

    let mut group = c.benchmark_group("seal");
    group.bench_function("one_secret_5_items", |b| {
        let mut rng = rand::rng();
        b.iter(|| seal::seal(black_box(&one), public, &mut rng).unwrap());
    });

    let yaml = batch_yaml(BATCH);
    let secrets = parse_secrets(&yaml);
    assert_eq!(secrets.len(), BATCH);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("batch_1000_secrets_5_items", |b| {
        let mut rng = rand::rng();
        b.iter(|| {
            secrets
                .iter()
                .map(|s| seal::seal(s, public, &mut rng).unwrap())
                .collect::<Vec<_>>()
        });
    });
    // What the CLI does with a 1,000-document file, minus the file I/O: parse the YAML,
    // validate, seal, and print each SealedSecret as YAML.
    group.bench_function("pipeline_1000_secrets_yaml_in_yaml_out", |b| {
        let mut rng = rand::rng();
        b.iter(|| {
            let mut out = String::new();
            for secret in parse_secrets(black_box(&yaml)) {
                seal::validate(&secret, false).unwrap();
                let sealed = seal::seal(&secret, public, &mut rng).unwrap();
                out.push_str("---\n");
                out.push_str(&serde_saphyr::to_string(&sealed).unwrap());
            }
            out
        });
    });
    // The non-crypto share of the pipeline, to see whether parsing or printing matters.
    group.bench_function("parse_only_1000_secrets_yaml", |b| {
        b.iter(|| parse_secrets(black_box(&yaml)));
    });
    let sealed: Vec<SealedSecret> = {
        let mut rng = rand::rng();
        secrets
            .iter()
            .map(|s| seal::seal(s, public, &mut rng).unwrap())
            .collect()
    };
    group.bench_function("print_only_1000_sealed_yaml", |b| {
        b.iter(|| {
            let mut out = String::new();
            for s in black_box(&sealed) {
                out.push_str("---\n");
                out.push_str(&serde_saphyr::to_string(s).unwrap());
            }
            out
        });
    });
    group.finish();
}

fn unseal_benches(c: &mut Criterion) {
    let one = one_item_sealed();
    let ring_1 = KeyRing::new(vec![vector_key()]);
    let five: SealedSecret = {
        let secret: Secret = serde_saphyr::from_str(&secret_yaml(7)).unwrap();
        seal::seal(&secret, CERT.public_key(), &mut rand::rng()).unwrap()
    };

    let mut group = c.benchmark_group("unseal");
    group.bench_function("one_item_1_key", |b| {
        b.iter(|| unseal(black_box(&one), &ring_1, UnsealOptions::default()).unwrap());
    });
    group.bench_function("five_items_1_key", |b| {
        b.iter(|| unseal(black_box(&five), &ring_1, UnsealOptions::default()).unwrap());
    });
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("one_item_24_keys_right_key_last", |b| {
        let ring = &*RING_24;
        assert_eq!(ring.len(), RING_SIZE);
        b.iter(|| unseal(black_box(&one), ring, UnsealOptions::default()).unwrap());
    });
    // The hint: the first item pays for the 23 misses, the other four hit at once.
    group.bench_function("five_items_24_keys_right_key_last", |b| {
        let ring = &*RING_24;
        b.iter(|| unseal(black_box(&five), ring, UnsealOptions::default()).unwrap());
    });
    group.finish();
}

fn raw_benches(c: &mut Criterion) {
    let der = {
        let body: String = KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        STANDARD.decode(body).unwrap()
    };
    let rsa_private = rsa::PrivateKey::from_pkcs1_der(&der).unwrap();
    let rsa_public = rsa_private.to_public_key();
    let pkcs8 = rsa_private.to_pkcs8_der().unwrap();
    let lc_private = PrivateDecryptingKey::from_pkcs8(pkcs8.as_bytes()).unwrap();
    let lc_public = OaepPublicEncryptingKey::new(lc_private.public_key()).unwrap();
    let lc_public_from_spki = {
        use aws_lc_rs::encoding::AsDer as _;
        let spki = lc_private.public_key().as_der().unwrap();
        PublicEncryptingKey::from_der(spki.as_ref()).unwrap()
    };
    let lc_private = OaepPrivateDecryptingKey::new(lc_private).unwrap();
    assert_eq!(lc_private.key_size_bits(), 4096);

    let label = Scope::Strict.label("bench", "one");
    let session_key = [0x42u8; 32];
    let mut rng = rand::rng();
    let padding = || rsa::Oaep::<sha2::Sha256>::new_with_label(label.as_bytes());
    let wrapped = rsa_public
        .encrypt(&mut rng, padding(), &session_key)
        .unwrap();

    let mut group = c.benchmark_group("rsa4096");
    group.throughput(Throughput::Elements(1));
    group.bench_function("oaep_encrypt_rsa_crate", |b| {
        b.iter(|| {
            rsa_public
                .encrypt(&mut rng, padding(), black_box(&session_key))
                .unwrap()
        });
    });
    group.bench_function("oaep_encrypt_aws_lc", |b| {
        let mut out = vec![0u8; lc_public.ciphertext_size()];
        b.iter(|| {
            lc_public
                .encrypt(
                    &OAEP_SHA256_MGF1SHA256,
                    black_box(&session_key),
                    &mut out,
                    Some(label.as_bytes()),
                )
                .unwrap()
                .len()
        });
    });
    group.bench_function("oaep_decrypt_aws_lc", |b| {
        let mut out = vec![0u8; lc_private.min_output_size()];
        b.iter(|| {
            lc_private
                .decrypt(
                    &OAEP_SHA256_MGF1SHA256,
                    black_box(&wrapped),
                    &mut out,
                    Some(label.as_bytes()),
                )
                .unwrap()
                .len()
        });
    });
    // One whole item: RSA-OAEP around a fresh AES-256-GCM key, as shared::crypto does it
    // (`encrypt`: aws-lc-rs draws the OAEP seed; `encrypt_with_seed_from`: the rsa crate, with
    // the caller's RNG, as the deterministic vector needs).
    let ring_1 = KeyRing::new(vec![vector_key()]);
    let item = crypto::encrypt(
        &mut rng,
        CERT.public_key(),
        b"s3cr3t-password-1234567890",
        &label,
    )
    .unwrap();
    group.bench_function("item_encrypt_shared_crypto", |b| {
        b.iter(|| {
            crypto::encrypt(
                &mut rng,
                CERT.public_key(),
                black_box(b"s3cr3t-password-1234567890"),
                &label,
            )
            .unwrap()
        });
    });
    group.bench_function("item_encrypt_with_seed_from_shared_crypto", |b| {
        b.iter(|| {
            crypto::encrypt_with_seed_from(
                &mut rng,
                CERT.public_key(),
                black_box(b"s3cr3t-password-1234567890"),
                &label,
            )
            .unwrap()
        });
    });
    group.bench_function("item_decrypt_shared_crypto", |b| {
        b.iter(|| crypto::decrypt(&ring_1, black_box(&item), &label, &mut None).unwrap());
    });
    group.finish();

    // What every CLI run pays before the first item: reading the certificate or the keys.
    let mut group = c.benchmark_group("parse");
    group.bench_function("certificate_pem", |b| {
        b.iter(|| Certificate::from_pem(black_box(CERT_PEM.as_bytes())).unwrap());
    });
    group.bench_function("private_key_pem_pkcs1", |b| {
        b.iter(|| PrivateKey::from_pem(black_box(&KEY_PEM)).unwrap());
    });
    group.bench_function("aws_lc_public_key_from_spki", |b| {
        use aws_lc_rs::encoding::AsDer as _;
        let spki = lc_public_from_spki.as_der().unwrap();
        b.iter(|| PublicEncryptingKey::from_der(black_box(spki.as_ref())).unwrap());
    });
    group.bench_function("fingerprint", |b| {
        b.iter(|| black_box(CERT.public_key()).fingerprint());
    });
    group.finish();
}

/// A 20-line template of the kind Secrets carry (a config file built from the items), on
/// the decrypted items of the five-item Secret, against unsealing that Secret: rendering
/// must stay a small share (under 5%) of the RSA work.
fn template_benches(c: &mut Criterion) {
    use shared::template::{Budget, Context, render_with};
    const TEMPLATE: &str = r#"# generated for {{ .username | quote }}
{{- $cfg := index . "config.json" | fromJson }}
[database]
url = {{ index . "database-url" | quote }}
user = {{ .username | upper | quote }}
password = {{ .password | b64enc | quote }}
{{- if hasPrefix "postgres://" (index . "database-url") }}
driver = "postgres"
{{- else }}
driver = "other"
{{- end }}
[api]
token = {{ index . "api-token" | trunc 12 | quote }}
token_sha = {{ index . "api-token" | sha256sum | trunc 16 }}
replicas = {{ $cfg.replicas | int | add 1 }}
region = {{ $cfg.region | default "us-east-1" | quote }}
{{- range $i, $f := $cfg.feature_flags }}
flag_{{ $i }} = {{ $f | quote }}
{{- end }}
debug = {{ ternary "on" "off" $cfg.debug }}
"#;
    let template = TEMPLATE.replace(r#".["database-url"]"#, r#"index . "database-url""#);
    let five: SealedSecret = {
        let secret: Secret = serde_saphyr::from_str(&secret_yaml(7)).unwrap();
        seal::seal(&secret, CERT.public_key(), &mut rand::rng()).unwrap()
    };
    let ring_1 = KeyRing::new(vec![vector_key()]);
    let items: std::collections::BTreeMap<String, Vec<u8>> = {
        let secret: Secret = serde_saphyr::from_str(&secret_yaml(7)).unwrap();
        secret
            .data
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect()
    };
    let mut env = Context {
        now: OffsetDateTime::UNIX_EPOCH,
        rng: rand::rng(),
    };
    let out = render_with(
        "config",
        &template,
        &items,
        &mut Budget::per_object(),
        &mut env,
    )
    .expect("the bench template renders");
    assert_eq!(TEMPLATE.lines().count(), 20);
    assert!(out.len() > 300, "{}", String::from_utf8_lossy(&out));

    let mut group = c.benchmark_group("template");
    group.bench_function("render_20_lines_5_items", |b| {
        b.iter(|| {
            render_with(
                "config",
                black_box(&template),
                black_box(&items),
                &mut Budget::per_object(),
                &mut env,
            )
            .unwrap()
        });
    });
    group.bench_function("unseal_same_5_items_1_key", |b| {
        b.iter(|| unseal(black_box(&five), &ring_1, UnsealOptions::default()).unwrap());
    });
    group.finish();
}

criterion_group!(
    benches,
    seal_benches,
    unseal_benches,
    raw_benches,
    template_benches
);
criterion_main!(benches);
