//! The sealing keys: load the key Secrets of the controller's namespace, generate and renew
//! keys, and follow changes live. The ring is swapped whole, so readers never see a half update.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use shared::keys::{Certificate, KeyRing, KeySize, PrivateKey, generate};
use time::OffsetDateTime;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::config::{Config, KeyOrder};
use crate::error::StartError;
use shared::marks::OBJECTS_ANNOTATION;
use shared::marks::{KEY_ACTIVE, KEY_LABEL};

/// How often the leader writes the key counts.
const COUNT_INTERVAL: Duration = Duration::from_secs(5);
/// How often the leader re-reads the key Secrets' counts when nothing changed.
const COUNT_REFRESH: Duration = Duration::from_secs(300);

/// Selects the key Secrets in use.
fn active_keys() -> String {
    format!("{KEY_LABEL}={KEY_ACTIVE}")
}

/// One loaded key with what orders it.
struct Loaded {
    name: String,
    key: PrivateKey,
    cert_pem: String,
    not_before: OffsetDateTime,
    created: OffsetDateTime,
}

/// The keys in force: all unseal, the newest seals.
pub struct Keys {
    pub ring: KeyRing,
    /// PEM certificate of the newest key, served at `/v1/cert.pem`.
    pub newest_cert_pem: Option<String>,
    /// When the newest key was made, for renewal.
    pub newest_at: Option<OffsetDateTime>,
    /// When each key of the ring was made (as the ring orders them), for its age.
    pub made_at: Vec<OffsetDateTime>,
    /// The name of each key's Secret (as the ring orders them).
    pub secret_names: Vec<String>,
}

/// Shared handle on the current keys; `changed()` fires after each swap.
#[derive(Clone)]
pub struct KeyStore {
    current: Arc<RwLock<Arc<Keys>>>,
    version: watch::Sender<u64>,
}

impl Default for KeyStore {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyStore {
    pub fn new() -> KeyStore {
        let empty = Keys {
            ring: KeyRing::default(),
            newest_cert_pem: None,
            newest_at: None,
            made_at: Vec::new(),
            secret_names: Vec::new(),
        };
        KeyStore {
            current: Arc::new(RwLock::new(Arc::new(empty))),
            version: watch::channel(0).0,
        }
    }

    pub fn get(&self) -> Arc<Keys> {
        self.current
            .read()
            .expect("key store lock is never poisoned: writers do not panic")
            .clone()
    }

    /// A receiver that sees a new version after each swap.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    fn set(&self, keys: Keys) {
        *self
            .current
            .write()
            .expect("key store lock is never poisoned: writers do not panic") = Arc::new(keys);
        self.version.send_modify(|v| *v += 1);
    }
}

/// Parses key Secrets into a ring, newest first. A Secret that does not parse is skipped with a
/// warning (never a panic, never key material in the message).
fn build(secrets: &[Secret], order: KeyOrder) -> Keys {
    let mut loaded: Vec<Loaded> = secrets.iter().filter_map(|s| match load(s) {
        Ok(l) => Some(l),
        Err(e) => {
            warn!(secret = s.metadata.name.as_deref().unwrap_or(""), error = %e, "skipping key Secret that does not parse");
            None
        }
    }).collect();
    // Newest first. Keys made in the same second tie, and the store's order is a hash map's:
    // the name breaks the tie, or every rebuild (a count annotation written on a key Secret)
    // could reorder the ring and reconcile every object again.
    let when = |l: &Loaded| match order {
        KeyOrder::CertNotBefore => (l.not_before, l.created),
        KeyOrder::SecretCreationTimestamp => (l.created, l.not_before),
    };
    loaded.sort_by(|a, b| when(b).cmp(&when(a)).then_with(|| a.name.cmp(&b.name)));
    // The same key stored twice (a restore beside the original) is kept once.
    let mut seen = std::collections::HashSet::new();
    loaded.retain(|l| seen.insert(l.key.fingerprint().to_owned()));
    let newest_cert_pem = loaded.first().map(|l| l.cert_pem.clone());
    let made_at: Vec<OffsetDateTime> = loaded
        .iter()
        .map(|l| match order {
            KeyOrder::CertNotBefore => l.not_before,
            KeyOrder::SecretCreationTimestamp => l.created,
        })
        .collect();
    let secret_names = loaded.iter().map(|l| l.name.clone()).collect();
    Keys {
        ring: KeyRing::new(loaded.into_iter().map(|l| l.key).collect()),
        newest_cert_pem,
        newest_at: made_at.first().copied(),
        made_at,
        secret_names,
    }
}

fn load(secret: &Secret) -> Result<Loaded, String> {
    let data = secret.data.as_ref().ok_or("no data")?;
    let key_pem = data.get("tls.key").ok_or("no tls.key")?;
    let key_pem = std::str::from_utf8(&key_pem.0).map_err(|_| "tls.key is not PEM")?;
    // Key errors name what is wrong and where, never key material (shared::keys::KeyError).
    let key = PrivateKey::from_pem(key_pem).map_err(|e| format!("tls.key: {e}"))?;
    let created = secret
        .metadata
        .creation_timestamp
        .as_ref()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let cert_bytes = data.get("tls.crt").map(|c| c.0.clone()).unwrap_or_default();
    let (cert_pem, not_before) = match Certificate::from_pem(&cert_bytes) {
        Ok(cert) if cert.public_key().fingerprint() == key.fingerprint() => (
            String::from_utf8_lossy(&cert_bytes).into_owned(),
            cert.not_before(),
        ),
        Ok(_) => return Err("tls.crt does not match tls.key".into()),
        Err(e) => return Err(format!("tls.crt: {e}")),
    };
    Ok(Loaded {
        name: secret.metadata.name.clone().unwrap_or_default(),
        key,
        cert_pem,
        not_before,
        created,
    })
}

/// Makes a key the reference's way and stores it as a `kubernetes.io/tls` Secret with
/// `generateName`, the active label and a PKCS#1 `tls.key`.
pub async fn generate_and_store(api: &Api<Secret>, config: &Config) -> Result<String, StartError> {
    let size = KeySize::from_bits(config.key_size).ok_or(StartError::KeySize(config.key_size))?;
    let ttl = config.key_ttl;
    let cn = config.my_cn.clone();
    let serial: [u8; 16] = rand::random();
    let generated = tokio::task::spawn_blocking(move || {
        generate(size, OffsetDateTime::now_utc(), ttl, &cn, serial)
    })
    .await
    .map_err(|e| StartError::GenerateKey(e.to_string()))?
    .map_err(|e| StartError::GenerateKey(e.to_string()))?;
    let key_pem = generated
        .key
        .to_pkcs1_pem()
        .map_err(|e| StartError::GenerateKey(e.to_string()))?;
    let secret = Secret {
        metadata: ObjectMeta {
            generate_name: Some(config.key_prefix.clone()),
            // The reference's --privatekey-labels/-annotations; the key label wins.
            labels: Some(
                config
                    .privatekey_labels
                    .iter()
                    .cloned()
                    .chain([(KEY_LABEL.to_owned(), KEY_ACTIVE.to_owned())])
                    .collect(),
            ),
            annotations: Some(config.privatekey_annotations.iter().cloned().collect())
                .filter(|a: &BTreeMap<String, String>| !a.is_empty()),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/tls".to_owned()),
        data: Some(BTreeMap::from([
            (
                "tls.crt".to_owned(),
                ByteString(generated.cert_pem.clone().into_bytes()),
            ),
            (
                "tls.key".to_owned(),
                ByteString(key_pem.as_bytes().to_vec()),
            ),
        ])),
        ..Secret::default()
    };
    let created = api
        .create(&PostParams::default(), &secret)
        .await
        .map_err(StartError::StoreKey)?;
    let name = created.metadata.name.unwrap_or_default();
    info!(secret = %name, fingerprint = generated.key.fingerprint(), "new sealing key");
    // The reference logs the certificate on creation; it is public.
    info!(certificate = %generated.cert_pem, "sealing certificate");
    Ok(name)
}

async fn list_keys(api: &Api<Secret>, prefix: &str) -> Result<Vec<Secret>, StartError> {
    let mut secrets = api
        .list(&kube::api::ListParams::default().labels(&active_keys()))
        .await
        .map_err(StartError::ReadKeys)?
        .items;
    // The pre-0.9 key Secret carries no label but is named exactly after the prefix.
    if let Some(legacy) = api.get_opt(prefix).await.map_err(StartError::ReadKeys)?
        && !secrets
            .iter()
            .any(|s| s.metadata.name.as_deref() == Some(prefix))
    {
        secrets.push(legacy);
    }
    Ok(secrets)
}

/// Loads the keys as they are: what every replica does, leader or not.
pub async fn load_all(
    api: &Api<Secret>,
    config: &Config,
    store: &KeyStore,
) -> Result<(), StartError> {
    let keys = build(
        &list_keys(api, &config.key_prefix).await?,
        config.key_order_priority,
    );
    info!(keys = keys.ring.len(), newest = ?keys.ring.keys().first().map(|k| k.fingerprint()), "sealing keys loaded");
    store.set(keys);
    Ok(())
}

/// The leader's part: the first key, or one newer than `--key-cutoff-time`, when needed.
pub async fn ensure_current(
    api: &Api<Secret>,
    config: &Config,
    store: &KeyStore,
) -> Result<(), StartError> {
    // Read afresh: another leader may have made one since this replica loaded the keys.
    load_all(api, config, store).await?;
    let keys = store.get();
    let stale = match (config.key_cutoff_time.0, keys.newest_at) {
        (Some(cutoff), Some(newest)) => newest < cutoff,
        _ => false,
    };
    if keys.ring.is_empty() || stale {
        generate_and_store(api, config).await?;
        load_all(api, config, store).await?;
    }
    Ok(())
}

/// Follows the key Secrets of the namespace (labelled ones; the legacy one is re-read on each
/// change) and swaps the ring on every change. Runs until the stream ends.
pub async fn watch(api: Api<Secret>, config: Arc<Config>, store: KeyStore) {
    let (reader, writer) = kube::runtime::reflector::store();
    let stream = kube::runtime::reflector(
        writer,
        watcher(
            api.clone(),
            watcher::Config::default().labels(&active_keys()),
        ),
    );
    // Errors are retried on the controller's short backoff and logged at a bounded rate.
    let mut changes = std::pin::pin!(crate::controller::logged("key Secrets", stream));
    while let Some(event) = changes.next().await {
        // Rebuild on any touched key Secret, including deletions and relabels (which leave the
        // selection and so arrive as deletions). During a (re)list, wait for its end: the store
        // is ready only once InitDone has gone through this very stream.
        match event {
            watcher::Event::Init | watcher::Event::InitApply(_) => continue,
            watcher::Event::InitDone | watcher::Event::Apply(_) | watcher::Event::Delete(_) => {}
        }
        if reader.wait_until_ready().await.is_err() {
            return;
        }
        let mut secrets: Vec<Secret> = reader.state().iter().map(|s| (**s).clone()).collect();
        if let Ok(Some(legacy)) = api.get_opt(&config.key_prefix).await
            && !secrets
                .iter()
                .any(|s| s.metadata.name == legacy.metadata.name)
        {
            secrets.push(legacy);
        }
        let keys = build(&secrets, config.key_order_priority);
        let current = store.get();
        let same = keys.ring.keys().iter().map(|k| k.fingerprint()).eq(current
            .ring
            .keys()
            .iter()
            .map(|k| k.fingerprint()));
        if !same {
            info!(keys = keys.ring.len(), "sealing keys changed");
            store.set(keys);
        }
    }
}

/// Generates a new key each renewal period, counted from the newest key's date.
pub async fn renew(api: Api<Secret>, config: Arc<Config>, store: KeyStore) {
    let period = config.key_renew_period;
    if period.is_zero() {
        info!("key renewal is off (--key-renew-period=0)");
        return;
    }
    loop {
        let newest = store
            .get()
            .newest_at
            .unwrap_or_else(OffsetDateTime::now_utc);
        let due = newest + period;
        let wait = (due - OffsetDateTime::now_utc())
            .try_into()
            .unwrap_or(Duration::ZERO);
        info!(next_key_in = %humantime::format_duration(Duration::from_secs(wait.as_secs())), "key renewal scheduled");
        let mut versions = store.subscribe();
        tokio::select! {
            () = tokio::time::sleep(wait) => {
                if let Err(e) = generate_and_store(&api, &config).await {
                    warn!(error = %e, "key renewal failed; retrying in a minute");
                    tokio::time::sleep(Duration::from_secs(60)).await;
                } else {
                    // Wait for the watch to load it, so the next deadline counts from it.
                    let _ = tokio::time::timeout(Duration::from_secs(30), versions.changed()).await;
                }
            }
            // A key added by hand moves the deadline.
            _ = versions.changed() => {}
        }
    }
}

/// The keys of `before` that `after` no longer has (relabelled or deleted), by fingerprint,
/// with their Secrets' names; the newest of `before` first when it is among them.
pub fn retired(before: &Keys, after: &Keys) -> Vec<(String, String)> {
    let kept: std::collections::HashSet<&str> =
        after.ring.keys().iter().map(|k| k.fingerprint()).collect();
    before
        .ring
        .keys()
        .iter()
        .zip(&before.secret_names)
        .filter(|(k, _)| !kept.contains(k.fingerprint()))
        .map(|(k, name)| (k.fingerprint().to_owned(), name.clone()))
        .collect()
}

/// The leader's answer to a compromise: when the newest key leaves the active set because its
/// Secret was relabelled (to `compromised`, or anything but `active`), a new key is made at
/// once, so that the next older key, which may be as exposed, seals only for the moment until
/// the new key is loaded (about a second). (A
/// deleted key Secret is not a compromise: the next newest key seals, as in the reference.)
pub async fn replace_retired_newest(api: Api<Secret>, config: Arc<Config>, store: KeyStore) {
    let mut versions = store.subscribe();
    let mut before = store.get();
    while versions.changed().await.is_ok() {
        let after = store.get();
        let newest = before
            .ring
            .keys()
            .first()
            .map(|k| k.fingerprint().to_owned());
        let gone = retired(&before, &after);
        before = after;
        let Some((fingerprint, name)) =
            gone.into_iter().find(|(fp, _)| Some(fp) == newest.as_ref())
        else {
            continue;
        };
        let label = match api.get_opt(&name).await {
            Ok(Some(secret)) => secret
                .metadata
                .labels
                .and_then(|l| l.get(KEY_LABEL).cloned())
                .unwrap_or_default(),
            Ok(None) => continue,
            Err(e) => {
                warn!(secret = %name, error = %e, "cannot read the retired key Secret");
                continue;
            }
        };
        warn!(secret = %name, %fingerprint, label = %label, "the newest sealing key is no longer active; making a new one");
        if let Err(e) = generate_and_store(&api, &config).await {
            warn!(error = %e, "making a key to replace the retired one failed");
        }
    }
}

/// Every key Secret, whatever its label's value (`active`, `compromised`, ...).
pub async fn list_all_keys(api: &Api<Secret>) -> Result<Vec<Secret>, kube::Error> {
    Ok(api
        .list(&kube::api::ListParams::default().labels(KEY_LABEL))
        .await?
        .items)
}

/// The leader writes how many SealedSecrets need each key onto its Secret
/// ([`shared::key_list::count_updates`]), every few seconds once the counts are complete, and
/// only where a count changed.
pub async fn publish_counts(
    api: Api<Secret>,
    metrics: Arc<crate::metrics::Metrics>,
    store: KeyStore,
) {
    // What was last written, to list the key Secrets only when something may differ: the
    // counts or the keys changed, or a while has passed (a key relabelled or added by hand).
    let mut written: Option<(BTreeMap<String, u64>, u64)> = None;
    let mut since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(COUNT_INTERVAL).await;
        let counts = {
            let usage = crate::metrics::lock(&metrics.key_usage);
            if !usage.complete() {
                continue;
            }
            usage.counts(std::iter::empty())
        };
        let version = *store.subscribe().borrow();
        let state = (counts.clone(), version);
        if written.as_ref() == Some(&state) && since.elapsed() < COUNT_REFRESH {
            continue;
        }
        let secrets = match list_all_keys(&api).await {
            Ok(s) => s,
            Err(e) => {
                debug!(error = %e, "cannot list the key Secrets to write their counts");
                continue;
            }
        };
        let mut failed = false;
        for (name, value) in shared::key_list::count_updates(&secrets, &counts) {
            let patch =
                serde_json::json!({"metadata": {"annotations": {OBJECTS_ANNOTATION: value}}});
            if let Err(e) = api
                .patch(
                    &name,
                    &kube::api::PatchParams::default(),
                    &kube::api::Patch::Merge(&patch),
                )
                .await
            {
                debug!(secret = %name, error = %e, "cannot write the key's count");
                failed = true;
            }
        }
        if !failed {
            written = Some(state);
            since = tokio::time::Instant::now();
        }
    }
}

/// SIGUSR1 makes a new key at once, as with the reference (the live key watch then loads it).
pub async fn on_signal(api: Api<Secret>, config: Arc<Config>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
            warn!("cannot listen for SIGUSR1; a key can still be added by hand");
            return;
        };
        while usr1.recv().await.is_some() {
            info!("SIGUSR1: generating a new key");
            if let Err(e) = generate_and_store(&api, &config).await {
                warn!(error = %e, "key generation on SIGUSR1 failed");
            }
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn key_secret(name: &str, key: &shared::keys::GeneratedKey, created: i64) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                creation_timestamp: Some(Time(
                    k8s_openapi::jiff::Timestamp::from_second(created).unwrap(),
                )),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([
                (
                    "tls.crt".to_owned(),
                    ByteString(key.cert_pem.clone().into_bytes()),
                ),
                (
                    "tls.key".to_owned(),
                    ByteString(key.key.to_pkcs1_pem().unwrap().as_bytes().to_vec()),
                ),
            ])),
            ..Secret::default()
        }
    }

    /// Keys made in the same second (a restore, a test, a script) come out in one order
    /// whatever order the Secrets are listed in: the key watch rebuilds on every key Secret
    /// change, and a reordered ring counts as a key change, which reconciles every object.
    #[test]
    fn keys_made_in_the_same_second_have_one_order() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let older = now - Duration::from_secs(60);
        let made: Vec<_> = [(now, 1u8), (now, 2), (now, 3), (older, 4)]
            .into_iter()
            .map(|(at, seed)| {
                generate(
                    KeySize::Rsa2048,
                    at,
                    Duration::from_secs(3600),
                    "",
                    [seed; 16],
                )
                .unwrap()
            })
            .collect();
        let secrets: Vec<Secret> = ["key-b", "key-c", "key-a", "key-old"]
            .iter()
            .zip(&made)
            .map(|(name, key)| key_secret(name, key, 1_800_000_000))
            .collect();
        for order in [KeyOrder::CertNotBefore, KeyOrder::SecretCreationTimestamp] {
            let mut orders = Vec::new();
            for rotation in 0..secrets.len() {
                let mut listed = secrets.clone();
                listed.rotate_left(rotation);
                if rotation % 2 == 1 {
                    listed.reverse();
                }
                orders.push(build(&listed, order).secret_names);
            }
            assert!(
                orders.iter().all(|o| *o == orders[0]),
                "{order:?}: {orders:?}"
            );
        }
        // By certificate date: the three of the same second by name, then the older one.
        assert_eq!(
            build(&secrets, KeyOrder::CertNotBefore).secret_names,
            ["key-a", "key-b", "key-c", "key-old"]
        );
    }
}
