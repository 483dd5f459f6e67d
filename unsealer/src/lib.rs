//! `unsealer`: the in-cluster controller. Owns the sealing keys, unseals SealedSecrets into
//! Secrets, and serves `/healthz`, `/v1/cert.pem`, `/v1/verify`, `/v1/rotate` and metrics. The binary is a thin `main`
//! over [`run`].
//!
//! Data flows one way: watch ([`controller`], into [`secret_cache`]) → precheck ([`write::precheck`]) → unseal
//! (`shared::unseal`) → plan the write ([`write::plan_write`]) → apply ([`reconcile`]) →
//! status ([`status`]).

pub mod api;
pub mod config;
pub mod consumers;
pub mod controller;
pub mod error;
pub mod events;
pub mod guard;
pub mod http;
pub mod interner;
pub mod key_usage;
pub mod keyring;
pub mod leader;
pub mod marks;
pub mod metrics;
pub mod ratelimit;
pub mod reconcile;
pub mod rounds;
pub mod sealed_store;
pub mod secret_cache;
pub mod status;
pub mod throttle;
pub mod write;

use std::sync::Arc;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::Api;
use kube::runtime::events::Reporter;
use shared::unseal::UnsealOptions;
use tracing::{error, info};

use crate::config::{Config, LogFormat};

/// The CRD generated from the Rust types; `manifests/crd.yaml` is this output.
pub fn crd_yaml() -> anyhow::Result<String> {
    let crd = shared::resource::crd();
    Ok(serde_saphyr::to_string(&crd)?)
}

pub fn init_logging(config: &Config) {
    // kube's client logs every failed request as an error: during an API server outage that
    // is one line per request, megabytes a minute. The controller logs each failure itself, at
    // a bounded rate, so those lines are off.
    // Likewise kube-lease-manager's error per failed renewal; the controller logs when it gains
    // or loses the lease.
    let quiet =
        |level: &str| format!("{level},kube_client::client::builder=off,kube_lease_manager=off");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(quiet(&config.log_level)));
    // Colour only on a terminal: log files and `kubectl logs` get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // The reference's --log-info-stdout (its default): info and below to stdout.
    use tracing_subscriber::fmt::writer::{BoxMakeWriter, MakeWriterExt as _};
    let writer = if config.log_info_stdout {
        BoxMakeWriter::new(
            std::io::stderr
                .with_max_level(tracing::Level::WARN)
                .or_else(std::io::stdout),
        )
    } else {
        BoxMakeWriter::new(std::io::stderr)
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    match config.log_format {
        // JSON strings escape control characters by construction.
        LogFormat::Json => builder.json().init(),
        // Text lines: every field value escaped, so an item name with a newline cannot forge a
        // log line.
        LogFormat::Text => builder.fmt_fields(escaped_fields()).init(),
    }
}

/// `key=value` fields (the message bare), each value escaped by [`shared::text::escape`].
fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    use tracing_subscriber::field::MakeExt as _;
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let text = shared::text::escape(&format!("{value:?}"));
        if field.name() == "message" {
            w.write_str(&text)
        } else {
            write!(w, "{field}={text}")
        }
    })
    .delimited(" ")
}

/// The controller's own namespace: flag, POD_NAMESPACE, the service account's, then kube-system.
fn own_namespace(config: &Config) -> String {
    if let Some(ns) = &config.namespace {
        return ns.clone();
    }
    if let Ok(ns) = std::env::var("POD_NAMESPACE")
        && !ns.is_empty()
    {
        return ns;
    }
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "kube-system".to_owned())
}

async fn client(config: &Config) -> anyhow::Result<Client> {
    let kube_config = match &config.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?
        }
        None => kube::Config::infer()
            .await
            .context("no in-cluster configuration and no kubeconfig")?,
    };
    Ok(Client::try_from(kube_config)?)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    info!("shutting down");
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let config = Arc::new(config);
    info!(version = env!("CARGO_PKG_VERSION"), "starting unsealer");
    let namespace = own_namespace(&config);
    let client = client(&config).await?;
    let (api_listener, metrics_listener) =
        http::bind(config.listen_addr, config.listen_metrics_addr)
            .await
            .context("binding the HTTP listeners")?;

    let keys = keyring::KeyStore::new();
    let key_api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    keyring::load_all(&key_api, &config, &keys)
        .await
        .context("loading the sealing keys")?;
    let metrics = Arc::new(metrics::Metrics::new());
    metrics.set_keys(&keys.get());

    let shutdown = futures::FutureExt::shared(Box::pin(shutdown_signal()));
    let recorder = events::Events::new(
        client.clone(),
        Reporter {
            controller: "sealed-secrets".into(),
            instance: None,
        },
    );
    let mut ctx = reconcile::Context::new(
        client.clone(),
        keys.clone(),
        metrics.clone(),
        recorder,
        config.update_status,
        UnsealOptions {
            accept_v1_data: config.accept_deprecated_v1_data,
        },
    );
    ctx.max_retries = config.max_unseal_retries;
    ctx.restart_consumers = config.restart_consumers;
    let ctx = Arc::new(ctx);
    // verify/rotate take the reconciles' RSA slots (fair, per item).
    let api = Arc::new(
        api::Api::new(keys.clone(), &config, ctx.unseal_slots.clone())
            .with_key_secrets(key_api.clone()),
    );
    let scope = if !config.additional_namespaces.is_empty() {
        let mut namespaces = vec![namespace.clone()];
        namespaces.extend(
            config
                .additional_namespaces
                .iter()
                .filter(|n| !n.is_empty() && **n != namespace)
                .cloned(),
        );
        controller::Scope::Namespaces(namespaces)
    } else if config.all_namespaces {
        controller::Scope::All
    } else {
        controller::Scope::Namespaces(vec![namespace.clone()])
    };

    let watching = controller::Watching {
        label_selector: config.label_selector.clone(),
        skip_recreate: config.skip_recreate,
    };
    let key_metrics = {
        let (keys, metrics) = (keys.clone(), metrics.clone());
        async move {
            let mut versions = keys.subscribe();
            while versions.changed().await.is_ok() {
                metrics.set_keys(&keys.get());
            }
        }
    };
    // Every replica: the key watch (read-only) and the HTTP API.
    let background = async {
        tokio::join!(
            keyring::watch(key_api.clone(), config.clone(), keys.clone()),
            key_metrics,
        )
    };
    // The leader only: keys made and renewed, and the reconciles.
    let lead = || {
        let (ctx, scope, watching) = (ctx.clone(), scope.clone(), watching.clone());
        let (key_api, config, keys, shutdown) = (
            key_api.clone(),
            config.clone(),
            keys.clone(),
            shutdown.clone(),
        );
        async move {
            if let Err(e) = keyring::ensure_current(&key_api, &config, &keys).await {
                error!(error = %e, "cannot make the first sealing key; retrying in 10 s");
                tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                return;
            }
            tokio::join!(
                controller::run(ctx.clone(), scope, watching, shutdown),
                keyring::renew(key_api.clone(), config.clone(), keys.clone()),
                keyring::replace_retired_newest(key_api.clone(), config.clone(), keys.clone()),
                reconcile::warn_of_retired_keys(ctx.clone(), keys.clone()),
                keyring::publish_counts(key_api.clone(), ctx.metrics.clone(), keys),
                keyring::on_signal(key_api, config),
            );
        }
    };
    let election = leader::Election {
        enabled: config.leader_elect,
        lease_name: config.leader_elect_lease_name.clone(),
        namespace: namespace.clone(),
        lease_duration: config.leader_elect_lease_duration,
        identity: leader::identity(),
    };
    let leading = async {
        // A leader whose work ends (a failed first key) tries again.
        loop {
            leader::run(client.clone(), election.clone(), lead, shutdown.clone())
                .await
                .context("leader election")?;
            if futures::FutureExt::now_or_never(shutdown.clone()).is_some() {
                return anyhow::Ok(());
            }
        }
    };
    let served = http::serve(
        api_listener,
        metrics_listener,
        api,
        metrics.clone(),
        shutdown.clone(),
    );
    tokio::select! {
        (led, served) = async { tokio::join!(leading, served) } => {
            led?;
            served.context("HTTP server")?;
        }
        _ = background => {}
    }
    info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `manifests/crd.yaml` must be exactly what `unsealer crd` prints.
    #[test]
    fn shipped_crd_matches_the_rust_types() {
        let shipped = include_str!("../../manifests/crd.yaml");
        assert!(
            super::crd_yaml().unwrap() == shipped,
            "manifests/crd.yaml is stale: regenerate it with `cargo run -p unsealer -- crd > manifests/crd.yaml`"
        );
    }
}
