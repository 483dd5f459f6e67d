//! Prometheus metrics under the reference's `sealed_secrets_controller_` prefix. Labels hold
//! namespaces, reasons, the HTTP route table's paths and public key fingerprints only, never
//! names of items or values,
//! nor a raw request path (which would let any client add series at will).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use time::OffsetDateTime;

use crate::key_usage::KeyUsage;
use crate::keyring::Keys;

/// Locks one of the metrics' mutexes; none is held across a panic.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub reason: String,
    pub namespace: String,
}

/// A sealing key, by its public fingerprint (`SHA256:...`): public information.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KeyLabels {
    pub fingerprint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub revision: String,
}

/// `http_requests_total` labels, as the reference's promhttp: the route's path, the status
/// code, the lower-case method (`unknown` for others).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub path: &'static str,
    pub code: u16,
    pub method: &'static str,
}

/// `http_request_duration_seconds` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpDurationLabels {
    pub path: &'static str,
    pub method: &'static str,
}

/// The reference's buckets (Prometheus' `DefBuckets`), in seconds.
pub const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

pub struct Metrics {
    pub registry: Registry,
    pub unseal_requests: Counter,
    pub unseal_errors: Family<ErrorLabels, Counter>,
    pub keys: Gauge,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<HttpDurationLabels, Histogram, fn() -> Histogram>,
    /// RSA private-key operations of the reconciles (one per key tried on an item).
    pub rsa_operations: Counter,
    key_objects: Family<KeyLabels, Gauge>,
    key_age: Family<KeyLabels, Gauge>,
    needing_inactive: Gauge,
    /// Which keys each SealedSecret needs; read into `key_objects` at each scrape.
    pub key_usage: Mutex<KeyUsage>,
    /// Each key's fingerprint and when it was made, newest first.
    keys_made: Mutex<Vec<(String, OffsetDateTime)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("sealed_secrets_controller");
        let unseal_requests = Counter::default();
        let unseal_errors = Family::<ErrorLabels, Counter>::default();
        let keys = Gauge::default();
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                revision: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .set(1);
        registry.register(
            "unseal_requests",
            "Number of SealedSecret unseal attempts",
            unseal_requests.clone(),
        );
        registry.register(
            "unseal_errors",
            "Number of failed unseals, by reason",
            unseal_errors.clone(),
        );
        registry.register("keys", "Number of active sealing keys", keys.clone());
        registry.register("build_info", "Build information", build);
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration =
            Family::<HttpDurationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        registry.register(
            "http_requests",
            "HTTP requests, by route, status code and method",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latencies, by route and method",
            http_duration.clone(),
        );
        let rsa_operations = Counter::default();
        registry.register(
            "rsa_operations",
            "RSA private-key operations of unsealing (one per key tried on an item)",
            rsa_operations.clone(),
        );
        let key_objects = Family::<KeyLabels, Gauge>::default();
        registry.register(
            "key_objects",
            "SealedSecrets whose items the key opened when last unsealed, by key fingerprint",
            key_objects.clone(),
        );
        let key_age = Family::<KeyLabels, Gauge>::default();
        registry.register(
            "key_age_seconds",
            "Age of each sealing key, by key fingerprint",
            key_age.clone(),
        );
        let needing_inactive = Gauge::default();
        registry.register(
            "objects_needing_inactive_keys",
            "SealedSecrets last opened by a key that is no longer active (to re-encrypt)",
            needing_inactive.clone(),
        );
        Metrics {
            registry,
            unseal_requests,
            unseal_errors,
            keys,
            http_requests,
            http_duration,
            rsa_operations,
            key_objects,
            key_age,
            needing_inactive,
            key_usage: Mutex::new(KeyUsage::default()),
            keys_made: Mutex::new(Vec::new()),
        }
    }

    /// Counts one HTTP request of `path` (a route of the table, never the raw URL).
    pub fn http_request(&self, path: &'static str, method: &'static str, code: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&HttpLabels { path, code, method })
            .inc();
        self.http_duration
            .get_or_create(&HttpDurationLabels { path, method })
            .observe(seconds);
    }

    pub fn error(&self, reason: &str, namespace: &str) {
        self.unseal_errors
            .get_or_create(&ErrorLabels {
                reason: reason.to_owned(),
                namespace: namespace.to_owned(),
            })
            .inc();
    }

    /// The keys in force: fingerprints and when each was made.
    pub fn set_keys(&self, keys: &Keys) {
        let made = keys
            .ring
            .keys()
            .iter()
            .zip(&keys.made_at)
            .map(|(k, at)| (k.fingerprint().to_owned(), *at))
            .collect();
        *lock(&self.keys_made) = made;
        self.keys.set(keys.ring.len() as i64);
    }

    /// Refreshes the per-key gauges: every key in force, and every key an object still needs
    /// (also one that is no longer in force, which is what a retirement must not leave).
    fn refresh_keys(&self, now: OffsetDateTime) {
        let made = lock(&self.keys_made).clone();
        // Counts only from a replica that has looked at every object (the leader, once its first
        // sync is done): a follower's or a partial zero would read as "safe to retire".
        let counted = {
            let usage = lock(&self.key_usage);
            let active = || made.iter().map(|(fp, _)| fp.as_str());
            usage
                .complete()
                .then(|| (usage.counts(active()), usage.needing_inactive(active())))
        };
        self.key_objects.clear();
        self.key_age.clear();
        let (counts, inactive) = counted.unwrap_or_default();
        self.needing_inactive
            .set(i64::try_from(inactive).unwrap_or(i64::MAX));
        for (fingerprint, n) in counts {
            self.key_objects
                .get_or_create(&KeyLabels { fingerprint })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        for (fingerprint, at) in made {
            self.key_age
                .get_or_create(&KeyLabels { fingerprint })
                .set((now - at).whole_seconds().max(0));
        }
    }

    pub fn encode(&self) -> String {
        self.refresh_keys(OffsetDateTime::now_utc());
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
