//! Wires the watches to the reconciler: SealedSecrets (spec changes only), deletions of the
//! Secrets the controller wrote, and key changes, which retry every object.
//!
//! The watches survive API server restarts, expired resource versions (410 Gone) and stalls:
//! - each retries on its own short, capped backoff ([`WatchBackoff`]) and its errors stop there,
//!   so the controller's own trigger backoff (30 s at most, shared by every trigger) never
//!   engages;
//! - objects of a (re)list reach the reconciler only once the store holds them
//!   ([`after_store_update`]): kube-runtime 5.0 passes them on before the store is swapped, and
//!   the reconciler then drops them as "not found in local store", for good;
//! - a re-list of the written Secrets reports what exists, not what vanished in the gap, so the
//!   deletions are worked out by comparing it with what was known ([`deleted_secrets`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt as _, predicates, reflector};
use tracing::{debug, warn};

use crate::guard::Guarded;
use crate::marks::Source;
use crate::reconcile::{Context, error_policy, reconcile};
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

/// The objects to reconcile from a reflected watch: applied objects at once, and the objects
/// of a (re)list only after its end, when the store has been swapped and holds them.
fn after_store_update(
    events: impl Stream<Item = Event<Guarded>> + Send + 'static,
    reader: Store<Guarded>,
) -> impl Stream<Item = Guarded> + Send + 'static {
    let mut listed: Vec<ObjectRef<Guarded>> = Vec::new();
    events
        .map(move |event| -> Box<dyn Iterator<Item = Guarded> + Send> {
            match event {
                Event::Apply(obj) => Box::new(std::iter::once(obj)),
                Event::Delete(_) => Box::new(std::iter::empty()),
                Event::Init => {
                    listed.clear();
                    Box::new(std::iter::empty())
                }
                Event::InitApply(obj) => {
                    listed.push(ObjectRef::from_obj(&obj));
                    Box::new(std::iter::empty())
                }
                Event::InitDone => {
                    let reader = reader.clone();
                    Box::new(
                        std::mem::take(&mut listed)
                            .into_iter()
                            .filter_map(move |r| reader.get(&r).map(|o| (*o).clone())),
                    )
                }
            }
        })
        .flat_map(futures::stream::iter)
}

/// What the deleted-Secret watch knows: the Secrets the controller wrote, and the ones seen so
/// far by a (re)list in progress.
#[derive(Default)]
pub struct Written {
    known: HashSet<(String, String)>,
    relisting: HashSet<(String, String)>,
}

/// A Secret as the deleted-Secret watch sees it: its namespace and name, and whether it is one
/// the controller must recreate ([`recreated_if_deleted`]).
pub type Seen = ((String, String), bool);

impl Written {
    /// The Secrets that an event says are gone: a deletion of one of ours, or, at the end of a
    /// re-list, every Secret of ours known before that the re-list did not report. Pure, so it
    /// is unit-tested.
    pub fn gone(&mut self, event: Event<Seen>) -> Vec<(String, String)> {
        match event {
            Event::Apply((key, ours)) => {
                if ours {
                    self.known.insert(key);
                } else {
                    // No longer ours (ownership handed over): not recreated.
                    self.known.remove(&key);
                }
                Vec::new()
            }
            Event::Delete((key, ours)) => {
                if self.known.remove(&key) || ours {
                    vec![key]
                } else {
                    Vec::new()
                }
            }
            Event::Init => {
                self.relisting.clear();
                Vec::new()
            }
            Event::InitApply((key, ours)) => {
                if ours {
                    self.relisting.insert(key);
                }
                Vec::new()
            }
            Event::InitDone => {
                let now = std::mem::take(&mut self.relisting);
                let gone = self.known.difference(&now).cloned().collect();
                self.known = now;
                gone
            }
        }
    }
}

/// The Secrets not written by the controller, as the metadata watch last saw them: those no
/// SealedSecret may write ([`Unowned::Foreign`]: no SealedSecret controls them, they carry
/// neither `managed` nor `patch`, and the controller did not write them), and those it may
/// merge into or take over ([`Unowned::Open`]). The reconcile refuses a foreign target without
/// reading it, and does not create a Secret the watch still shows as someone else's; a stale
/// entry only delays the write to a retry, which sees the watch's newer state.
#[derive(Debug, Default)]
pub struct Foreign {
    known: HashMap<(String, String), Unowned>,
    relisting: Option<HashMap<(String, String), Unowned>>,
}

/// A Secret the controller did not write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unowned {
    /// No SealedSecret may write it.
    Foreign,
    /// Annotated `managed` or `patch`: a SealedSecret may take it over or merge into it.
    Open,
}

impl Foreign {
    /// Follows the metadata watch ([`unowned`] says what each Secret is).
    pub fn apply(&mut self, event: &Event<((String, String), Option<Unowned>)>) {
        match event {
            Event::Apply((key, kind)) => match kind {
                Some(kind) => {
                    self.known.insert(key.clone(), *kind);
                }
                None => {
                    self.known.remove(key);
                }
            },
            Event::Delete((key, _)) => {
                self.known.remove(key);
            }
            Event::Init => self.relisting = Some(HashMap::new()),
            Event::InitApply((key, kind)) => {
                if let (Some(kind), Some(seen)) = (kind, self.relisting.as_mut()) {
                    seen.insert(key.clone(), *kind);
                }
            }
            Event::InitDone => {
                if let Some(seen) = self.relisting.take() {
                    self.known = seen;
                }
            }
        }
    }

    /// What the watch last saw at `namespace/name`, if it is someone else's.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Unowned> {
        self.known
            .get(&(namespace.to_owned(), name.to_owned()))
            .copied()
    }
}

/// What a Secret is to the controller: `None` for one a SealedSecret controls or the controller
/// wrote ([`Foreign`]).
pub fn unowned(meta: &ObjectMeta) -> Option<Unowned> {
    let annotations = meta.annotations.as_ref();
    let controlled = meta
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.kind == "SealedSecret");
    if controlled || Source::of_annotations(annotations).is_some() {
        None
    } else if shared::marks::is_true(annotations, shared::marks::MANAGED)
        || shared::marks::is_true(annotations, shared::marks::PATCH)
    {
        Some(Unowned::Open)
    } else {
        Some(Unowned::Foreign)
    }
}

/// Whether a deleted Secret is to be written again, as the reference decides: it was controlled
/// by a SealedSecret (taken-over `managed` Secrets are), or written by the controller without an
/// owner (`skip-set-owner-references`, by its source mark). `patch`-only and foreign Secrets are
/// not.
pub fn recreated_if_deleted(meta: &ObjectMeta) -> bool {
    let controlled = meta
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.kind == "SealedSecret");
    let unowned_ours = Source::of_annotations(meta.annotations.as_ref()).is_some()
        && shared::marks::is_true(
            meta.annotations.as_ref(),
            shared::marks::SKIP_SET_OWNER_REFERENCES,
        );
    controlled || unowned_ours
}

/// Deleted Secrets that the controller wrote, as triggers for their SealedSecret (same name
/// and namespace). Only deletions count: our own writes must not wake the reconciler again.
/// The controller puts no label on the Secrets it writes, so this watches the metadata of every
/// Secret and keeps only the names of its own: memory grows with the Secrets it wrote, not with
/// the cluster (the list comes in pages, and nothing else is stored).
fn deleted_secrets(
    api: Api<PartialObjectMeta<Secret>>,
    config: watcher::Config,
    ctx: Arc<Context>,
) -> impl Stream<Item = ObjectRef<Guarded>> + Send + 'static {
    let events = watcher::watcher(api, config);
    let mut written = Written::default();
    logged("Secrets", events)
        .map(move |event| {
            let foreign = |m: &PartialObjectMeta<Secret>| {
                let key = (
                    m.metadata.namespace.clone().unwrap_or_default(),
                    m.metadata.name.clone().unwrap_or_default(),
                );
                (key, unowned(&m.metadata))
            };
            let as_foreign = match &event {
                Event::Apply(m) => Event::Apply(foreign(m)),
                Event::Delete(m) => Event::Delete(foreign(m)),
                Event::Init => Event::Init,
                Event::InitApply(m) => Event::InitApply(foreign(m)),
                Event::InitDone => Event::InitDone,
            };
            ctx.foreign().apply(&as_foreign);
            let seen = |m: &PartialObjectMeta<Secret>| {
                let key = (
                    m.metadata.namespace.clone().unwrap_or_default(),
                    m.metadata.name.clone().unwrap_or_default(),
                );
                (key, recreated_if_deleted(&m.metadata))
            };
            let event = match event {
                Event::Apply(m) => Event::Apply(seen(&m)),
                Event::Delete(m) => Event::Delete(seen(&m)),
                Event::Init => Event::Init,
                Event::InitApply(m) => Event::InitApply(seen(&m)),
                Event::InitDone => Event::InitDone,
            };
            futures::stream::iter(written.gone(event))
        })
        .flatten()
        .map(|(namespace, name)| {
            debug!(%namespace, %name, "written Secret deleted; recreating");
            ObjectRef::new(&name).within(&namespace)
        })
}

async fn run_one(
    ss_api: Api<Guarded>,
    secret_api: Api<PartialObjectMeta<Secret>>,
    namespace: Option<String>,
    watching: Watching,
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let (reader, writer) = reflector::store();
    let reflected = logged(
        "SealedSecrets",
        watcher::watcher(ss_api, watching.config())
            // managedFields are most of a cached object's size and never read here.
            .modify(|obj: &mut Guarded| {
                kube::Resource::meta_mut(obj).managed_fields = None;
            })
            .reflect(writer)
            .inspect_ok(usage_tracker(namespace, ctx.clone())),
    );
    // Spec changes only (the generation predicate): status and metadata edits, including our
    // own status writes, do not trigger work, as in the reference.
    let sealed = after_store_update(reflected, reader.clone())
        .map(Ok)
        .predicate_filter(predicates::generation, Default::default());
    let keys_changed = futures::stream::unfold(ctx.keys.subscribe(), |mut versions| async move {
        versions.changed().await.ok()?;
        Some(((), versions))
    });
    let deleted = if watching.skip_recreate {
        futures::stream::pending().boxed()
    } else {
        deleted_secrets(secret_api, watching.config(), ctx.clone()).boxed()
    };
    Controller::for_stream(sealed, reader)
        .with_config(Config::default().concurrency(CONCURRENCY))
        .trigger_backoff(WatchBackoff::new())
        .reconcile_on(deleted)
        .reconcile_all_on(keys_changed)
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
        let key = |obj: &Guarded| {
            let meta = kube::Resource::meta(obj);
            (
                meta.namespace.clone().unwrap_or_default(),
                meta.name.clone().unwrap_or_default(),
            )
        };
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

    fn k(name: &str) -> Seen {
        (("ns".into(), name.into()), true)
    }

    fn n(name: &str) -> (String, String) {
        ("ns".into(), name.into())
    }

    #[test]
    fn a_relist_reports_what_vanished_in_the_gap() {
        let mut w = Written::default();
        assert!(w.gone(Event::Init).is_empty());
        for name in ["a", "b", "c"] {
            assert!(w.gone(Event::InitApply(k(name))).is_empty());
        }
        // Someone else's Secret is never reported.
        w.gone(Event::InitApply((n("foreign"), false)));
        assert!(w.gone(Event::InitDone).is_empty());
        assert!(w.gone(Event::Apply(k("d"))).is_empty());
        assert_eq!(w.gone(Event::Delete(k("a"))), vec![n("a")]);
        assert!(w.gone(Event::Delete((n("foreign"), false))).is_empty());
        // The API server was away; b and d were deleted meanwhile, e created.
        w.gone(Event::Init);
        w.gone(Event::InitApply(k("c")));
        w.gone(Event::InitApply(k("e")));
        let mut gone = w.gone(Event::InitDone);
        gone.sort();
        assert_eq!(gone, vec![n("b"), n("d")]);
        // Nothing is reported twice.
        w.gone(Event::Init);
        w.gone(Event::InitApply(k("c")));
        w.gone(Event::InitApply(k("e")));
        assert!(w.gone(Event::InitDone).is_empty());
        // Handed over (owner removed), then deleted: not recreated.
        w.gone(Event::Apply((n("c"), false)));
        assert!(w.gone(Event::Delete((n("c"), false))).is_empty());
    }

    fn owner(controller: bool) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "bitnami.com/v1alpha1".into(),
            kind: "SealedSecret".into(),
            name: "s".into(),
            uid: "u".into(),
            controller: Some(controller),
            block_owner_deletion: None,
        }
    }

    fn meta(
        owners: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
        annotations: &[(&str, &str)],
    ) -> ObjectMeta {
        ObjectMeta {
            owner_references: Some(owners),
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn unowned_secrets_follow_the_watch() {
        use Unowned::{Foreign as F, Open};
        let mut f = Foreign::default();
        let key = |name: &str| ("ns".to_owned(), name.to_owned());
        f.apply(&Event::Apply((key("theirs"), Some(F))));
        f.apply(&Event::Apply((key("ours"), None)));
        assert_eq!(
            (f.get("ns", "theirs"), f.get("ns", "ours")),
            (Some(F), None)
        );
        // Annotated managed: open to a takeover.
        f.apply(&Event::Apply((key("theirs"), Some(Open))));
        assert_eq!(f.get("ns", "theirs"), Some(Open));
        f.apply(&Event::Apply((key("gone"), Some(F))));
        f.apply(&Event::Delete((key("gone"), Some(F))));
        assert_eq!(f.get("ns", "gone"), None);
        // A relist replaces what was known once it is done.
        f.apply(&Event::Apply((key("stale"), Some(F))));
        f.apply(&Event::Init);
        f.apply(&Event::InitApply((key("new"), Some(F))));
        assert_eq!(
            f.get("ns", "stale"),
            Some(F),
            "kept until the relist is done"
        );
        f.apply(&Event::InitDone);
        assert_eq!((f.get("ns", "new"), f.get("ns", "stale")), (Some(F), None));
        assert_eq!(unowned(&meta(vec![], &[])), Some(F));
        assert_eq!(
            unowned(&meta(vec![owner(false)], &[])),
            Some(F),
            "an owner, not the controller"
        );
        assert_eq!(unowned(&meta(vec![owner(true)], &[])), None);
        assert_eq!(
            unowned(&meta(vec![], &[(shared::marks::MANAGED, "true")])),
            Some(Open)
        );
        assert_eq!(
            unowned(&meta(vec![], &[(shared::marks::PATCH, "true")])),
            Some(Open)
        );
        assert_eq!(
            unowned(&meta(vec![], &[(crate::marks::SOURCE_ANNOTATION, "u:1")])),
            None
        );
    }

    #[test]
    fn which_deleted_secrets_are_recreated() {
        assert!(recreated_if_deleted(&meta(vec![owner(true)], &[])));
        assert!(!recreated_if_deleted(&meta(vec![owner(false)], &[])));
        assert!(!recreated_if_deleted(&meta(vec![], &[])));
        assert!(!recreated_if_deleted(&meta(
            vec![],
            &[(shared::marks::PATCH, "true")]
        )));
        let skip = shared::marks::SKIP_SET_OWNER_REFERENCES;
        assert!(recreated_if_deleted(&meta(
            vec![],
            &[(crate::marks::SOURCE_ANNOTATION, "u:1"), (skip, "true")]
        )));
        assert!(!recreated_if_deleted(&meta(vec![], &[(skip, "true")])));
    }

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
