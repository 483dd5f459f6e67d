//! Wires the watches to the reconciler: SealedSecrets (spec changes only), the metadata of
//! Secrets (into [`crate::secret_cache`]; deletions of the Secrets the controller wrote, and
//! takeover annotations, trigger their SealedSecret), and the rounds of [`crate::rounds`]: each
//! object again once an hour, and after each change of the keys.
//!
//! The watches survive API server restarts, expired resource versions (410 Gone) and stalls:
//! - each retries on its own short, capped backoff ([`WatchBackoff`]) and its errors stop there,
//!   so the controller's own trigger backoff (30 s at most, shared by every trigger) never
//!   engages;
//! - SealedSecrets go into the store one by one, a (re)list included ([`Mirror`]), before the
//!   reconciler hears of them: kube-runtime 5.0's reflector swaps a relist in only at its end,
//!   and the reconciler would drop the objects passed on before as "not found in local store";
//! - a re-list of Secrets reports what exists, not what vanished in the gap, so the deletions
//!   are worked out by comparing it with what was known (in the cache).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::WatchStreamExt as _;
use kube::runtime::controller::{Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, Event};
use tracing::{debug, warn};

use crate::guard::Guarded;
use crate::reconcile::{Context, error_policy, reconcile};
use crate::rounds;
use crate::sealed_store::{Mirror, generation_of, key_of};
use crate::secret_cache::Target;
use crate::throttle::Throttle;

/// Reconciles in flight at once. Unbounded, a start with thousands of objects keeps thousands of
/// requests and responses alive at once; the RSA work is bounded to the cores anyway.
const CONCURRENCY: u16 = 32;

/// Where to watch: every namespace, or a list of them.
#[derive(Clone, Debug)]
pub enum Scope {
    All,
    Namespaces(Vec<String>),
}

/// What to watch besides the scope (the reference's `--label-selector` and `--skip-recreate`).
#[derive(Clone, Debug, Default)]
pub struct Watching {
    /// Only SealedSecrets and Secrets with these labels.
    pub label_selector: Option<String>,
    /// No watch of Secrets: deleted Secrets are not recreated.
    pub skip_recreate: bool,
}

impl Watching {
    fn config(&self) -> watcher::Config {
        match &self.label_selector {
            Some(selector) if !selector.is_empty() => watcher::Config::default().labels(selector),
            _ => watcher::Config::default(),
        }
    }
}

/// Retry delays of a failing watch: 250 ms doubling to 4 s, with jitter, reset by any event.
/// Short, so that a watch is back within seconds of the API server, however long it was away.
pub struct WatchBackoff {
    next: Duration,
}

impl WatchBackoff {
    const FIRST: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(4);

    pub fn new() -> WatchBackoff {
        WatchBackoff { next: Self::FIRST }
    }
}

impl Default for WatchBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        // Up to a quarter less, so that many watches do not retry in lockstep.
        let jitter = delay.mul_f64(rand::random::<f64>() * 0.25);
        Some(delay - jitter)
    }
}

impl Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

/// Drops a watch's errors after logging them at a bounded rate: one line per watch per
/// backoff step at first, and at most one per [`WATCH_LOG_INTERVAL`] while it keeps failing.
pub fn logged<T>(
    what: &'static str,
    events: impl Stream<Item = Result<T, watcher::Error>> + Send + 'static,
) -> impl Stream<Item = T> + Send + 'static
where
    T: Send + 'static,
{
    let throttle = Arc::new(Throttle::new(WATCH_LOG_INTERVAL));
    events
        .backoff(WatchBackoff::new())
        .filter_map(move |event| {
            let throttle = throttle.clone();
            async move {
                match event {
                    Ok(event) => {
                        throttle.reset();
                        Some(event)
                    }
                    Err(e) => {
                        if let Some(held_back) = throttle.admit(Instant::now()) {
                            let error = shared::text::escape(&e.to_string());
                            warn!(watch = what, %error, held_back, "watch failed; retrying");
                        }
                        None
                    }
                }
            }
        })
}

/// How often a watch that keeps failing is logged.
const WATCH_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// The metadata watch of Secrets, feeding the cache ([`crate::secret_cache::SecretCache`]); its triggers are the
/// SealedSecrets to reconcile: those whose Secret was deleted and is theirs to write again, and
/// those whose target was just opened to a takeover or merge. The controller's own writes do
/// not wake it. The controller puts no label on the Secrets it writes, so this watches every
/// Secret's metadata; the list comes in pages, and the cache keeps only a name for each of
/// the Secrets that are not its business.
fn secret_triggers(
    api: Api<PartialObjectMeta<Secret>>,
    config: watcher::Config,
    scope: Option<String>,
    ctx: Arc<Context>,
) -> impl Stream<Item = ObjectRef<Guarded>> + Send + 'static {
    let events = watcher::watcher(api, config);
    logged("Secrets", events)
        .map(move |event| {
            let seen = |m: PartialObjectMeta<Secret>| {
                let key = (
                    m.metadata.namespace.clone().unwrap_or_default(),
                    m.metadata.name.clone().unwrap_or_default(),
                );
                (key, Target::of_meta(&m.metadata))
            };
            let listed = matches!(event, Event::InitDone);
            let event = match event {
                Event::Apply(m) => Event::Apply(seen(m)),
                Event::Delete(m) => Event::Delete(seen(m)),
                Event::Init => Event::Init,
                Event::InitApply(m) => Event::InitApply(seen(m)),
                Event::InitDone => Event::InitDone,
            };
            let triggers = ctx.secrets().apply(scope.as_deref(), event);
            if listed {
                ctx.secrets_listed.notify_waiters();
            }
            futures::stream::iter(triggers)
        })
        .flatten()
        .map(|(namespace, name)| {
            debug!(%namespace, %name, "target Secret deleted or opened; reconciling");
            ObjectRef::new(&name).within(&namespace)
        })
}

/// Tells the Secret cache which SealedSecret generations exist and are not yet reconciled
/// ([`crate::secret_cache::SecretCache::sealed_seen`]), as their events arrive, before any reconcile.
fn generations_seen(ctx: Arc<Context>) -> impl FnMut(&Event<Guarded>) {
    move |event| {
        let seen = |obj: &Guarded| {
            let generation = generation_of(&obj.metadata);
            let reconciled = obj
                .status()
                .and_then(|s| s.observed_generation)
                .is_some_and(|g| g == generation.1);
            (key_of(&obj.metadata), generation, reconciled)
        };
        match event {
            Event::Apply(obj) | Event::InitApply(obj) => {
                let (key, generation, reconciled) = seen(obj);
                ctx.secrets().sealed_seen(key, generation, reconciled);
            }
            Event::Delete(obj) => ctx.secrets().sealed_gone(&seen(obj).0),
            Event::Init | Event::InitDone => {}
        }
    }
}

async fn run_one(
    ss_api: Api<Guarded>,
    secret_api: Api<PartialObjectMeta<Secret>>,
    namespace: Option<String>,
    watching: Watching,
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let (mut mirror, reader) = Mirror::new(ctx.specs.clone());
    let specs = ctx.specs.clone();
    // managedFields and kubectl's last-applied copy are dropped as objects are read
    // (`crate::guard`).
    let events = watcher::watcher(ss_api, watching.config())
        .inspect_ok(generations_seen(ctx.clone()))
        .inspect_ok(usage_tracker(namespace.clone(), ctx.clone()));
    // Into the lean store, each generation passed on once (spec changes only: status and
    // metadata edits, including our own status writes, do not trigger work, as in the
    // reference), and no further while the limit of specs waits for reconciles.
    let sealed = logged("SealedSecrets", events)
        .then(move |event| {
            let specs = specs.clone();
            async move {
                specs.room().await;
                event
            }
        })
        .filter_map(move |event| {
            std::future::ready(mirror.observe(event).map(Ok::<_, watcher::Error>))
        });
    let triggers = if watching.skip_recreate {
        futures::stream::pending().boxed()
    } else {
        ctx.secrets_watched
            .store(true, std::sync::atomic::Ordering::Relaxed);
        secret_triggers(secret_api, watching.config(), namespace, ctx.clone()).boxed()
    };
    let resyncs = rounds::resync(reader.clone());
    let started = {
        let ctx = ctx.clone();
        move || ctx.metrics.unseal_requests.get()
    };
    let key_rounds = rounds::key_rounds(reader.clone(), ctx.keys.subscribe(), started);
    Controller::for_stream(sealed, reader)
        .with_config(Config::default().concurrency(CONCURRENCY))
        .trigger_backoff(WatchBackoff::new())
        .reconcile_on(triggers)
        .reconcile_on(resyncs)
        .reconcile_on(key_rounds)
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                debug!(error = %e, "reconcile error");
            }
        })
        .await;
}

/// Keeps the key usage ([`crate::key_usage`]) to the SealedSecrets that exist: a deleted one
/// is forgotten, and a relist of `namespace` (all when `None`) drops those gone meanwhile.
fn usage_tracker(namespace: Option<String>, ctx: Arc<Context>) -> impl FnMut(&Event<Guarded>) {
    let mut relist: Option<HashSet<(String, String)>> = None;
    let mut first = true;
    move |event| {
        let key = |obj: &Guarded| key_of(&obj.metadata);
        let usage = &ctx.metrics.key_usage;
        match event {
            Event::Delete(obj) => crate::metrics::lock(usage).forget(&key(obj)),
            Event::Init => relist = Some(HashSet::new()),
            Event::InitApply(obj) => {
                if let Some(seen) = relist.as_mut() {
                    seen.insert(key(obj));
                }
            }
            Event::InitDone => {
                if let Some(seen) = relist.take() {
                    let mut usage = crate::metrics::lock(usage);
                    usage.relisted(namespace.as_deref(), &seen);
                    if std::mem::take(&mut first) {
                        usage.first_list_done(&seen);
                    }
                }
            }
            Event::Apply(_) => {}
        }
    }
}

/// Runs until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    scope: Scope,
    watching: Watching,
    shutdown: impl std::future::Future<Output = ()> + Clone + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    ctx.watching_started();
    ctx.specs.clear();
    let lists = match &scope {
        Scope::All => 1,
        Scope::Namespaces(namespaces) => namespaces.len(),
    };
    crate::metrics::lock(&ctx.metrics.key_usage).begin(lists);
    match scope {
        Scope::All => {
            let (ss, secrets) = (Api::all(client.clone()), Api::all(client));
            run_one(ss, secrets, None, watching, ctx, shutdown).await
        }
        Scope::Namespaces(namespaces) => {
            let runs = namespaces.into_iter().map(|ns| {
                run_one(
                    Api::namespaced(client.clone(), &ns),
                    Api::namespaced(client.clone(), &ns),
                    Some(ns),
                    watching.clone(),
                    ctx.clone(),
                    shutdown.clone(),
                )
            });
            futures::future::join_all(runs).await;
        }
    }
    warn!("controller stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_backoff_is_short_and_resets() {
        let mut b = WatchBackoff::new();
        let delays: Vec<Duration> = (0..10).map(|_| b.next().unwrap()).collect();
        assert!(delays[0] <= Duration::from_millis(250));
        assert!(delays.iter().all(|d| *d <= WatchBackoff::MAX));
        assert!(delays[9] >= WatchBackoff::MAX * 3 / 4);
        b.reset();
        assert!(b.next().unwrap() <= Duration::from_millis(250));
    }
}
