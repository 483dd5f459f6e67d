//! Prometheus metrics under the reference's `sealed_secrets_controller_` prefix. Labels hold
//! namespaces and reasons only, never names of items or values.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub reason: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub revision: String,
}

pub struct Metrics {
    pub registry: Registry,
    pub unseal_requests: Counter,
    pub unseal_errors: Family<ErrorLabels, Counter>,
    pub keys: Gauge,
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
        Metrics {
            registry,
            unseal_requests,
            unseal_errors,
            keys,
        }
    }

    pub fn error(&self, reason: &str, namespace: &str) {
        self.unseal_errors
            .get_or_create(&ErrorLabels {
                reason: reason.to_owned(),
                namespace: namespace.to_owned(),
            })
            .inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
