//! One SealedSecret: read the target, precheck, unseal, plan the write, apply it, report.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{ObjectReference, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Client, Resource as _};
use shared::SealedSecret;
use shared::unseal::{KeyUse, UnsealError, UnsealOptions, unseal_preferring};
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::error::Error;
use crate::guard::{Guarded, Spec};
use crate::keyring::KeyStore;
use crate::marks::{FIELD_MANAGER, Source};
use crate::metrics::Metrics;
use crate::sealed_store::{generation_of, key_of};
use crate::secret_cache::{Lookup, SecretCache, Target};
use crate::status::{self, Outcome};
use crate::throttle::Throttle;
use crate::write::{self, How, Precheck, WritePlan};

/// Longest condition message and event note: the first few items and a count, never the
/// 160 KB a list of 20,000 failing items would make (events.k8s.io refuses notes over 1 KB).
pub const MAX_MESSAGE_LEN: usize = 400;

/// Retry delay cap while the API server cannot be reached: it may be back any second.
const UNAVAILABLE_RETRY_MAX: Duration = Duration::from_secs(5);
/// Retry delay cap for other failures that may heal (conflicts, server errors).
const RETRY_MAX: Duration = Duration::from_secs(300);

/// One log line per this interval for reconciles failing because the API server is away.
const UNAVAILABLE_LOG_INTERVAL: Duration = Duration::from_secs(30);

pub struct Context {
    pub client: Client,
    pub keys: KeyStore,
    pub metrics: Arc<Metrics>,
    pub recorder: crate::events::Events,
    pub update_status: bool,
    pub unseal_options: UnsealOptions,
    /// Bounds RSA work to the cores; the blocking pool itself is much larger. Fair (FIFO), and
    /// given back between items, so an object with many items cannot hold a core for long.
    pub unseal_slots: Arc<Semaphore>,
    failures: Mutex<HashMap<(String, String), Failures>>,
    /// What the metadata watch of Secrets knows of them.
    secrets: Mutex<SecretCache>,
    /// The specs of the generations handed to reconciles ([`crate::sealed_store`]).
    pub specs: Arc<crate::sealed_store::Specs>,
    /// Woken when a watch of Secrets completes a list.
    pub secrets_listed: tokio::sync::Notify,
    /// Whether Secrets are watched at all (not with `--skip-recreate`).
    pub secrets_watched: std::sync::atomic::AtomicBool,
    /// When the watches last started (this replica began leading).
    watching_since: Mutex<std::time::Instant>,
    /// Retries of a failure that may heal before the object waits for a change.
    pub max_retries: u32,
    /// Restart the opted-in workloads reading a Secret whose data changed
    /// ([`crate::consumers`]).
    pub restart_consumers: bool,
    unavailable_log: Throttle,
    forbidden_log: Throttle,
}

impl Context {
    pub fn new(
        client: Client,
        keys: KeyStore,
        metrics: Arc<Metrics>,
        recorder: crate::events::Events,
        update_status: bool,
        unseal_options: UnsealOptions,
    ) -> Context {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Context {
            client,
            keys,
            metrics,
            recorder,
            update_status,
            unseal_options,
            unseal_slots: Arc::new(Semaphore::new(cores)),
            failures: Mutex::new(HashMap::new()),
            secrets: Mutex::new(SecretCache::default()),
            specs: Arc::new(crate::sealed_store::Specs::default()),
            secrets_listed: tokio::sync::Notify::new(),
            secrets_watched: std::sync::atomic::AtomicBool::new(false),
            watching_since: Mutex::new(std::time::Instant::now()),
            max_retries: 5,
            restart_consumers: false,
            unavailable_log: Throttle::new(UNAVAILABLE_LOG_INTERVAL),
            forbidden_log: Throttle::new(UNAVAILABLE_LOG_INTERVAL),
        }
    }

    /// Records which keys opened an object (see [`crate::key_usage`]).
    fn record_key_use(
        &self,
        namespace: &str,
        name: &str,
        keys: std::collections::BTreeSet<String>,
    ) {
        crate::metrics::lock(&self.metrics.key_usage)
            .record((namespace.to_owned(), name.to_owned()), keys);
    }

    pub fn secrets(&self) -> std::sync::MutexGuard<'_, SecretCache> {
        // Every entry is whole after each insert; carry on with a poisoned cache.
        self.secrets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The watches start (again): a replica that begins leading waits for its lists too.
    pub fn watching_started(&self) {
        *self
            .watching_since
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = std::time::Instant::now();
    }

    /// In the first [`SYNC_WAIT`] of the watches, until the Secrets of `namespace` are listed.
    async fn wait_for_secrets(&self, namespace: &str) {
        let deadline = *self
            .watching_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            + SYNC_WAIT;
        loop {
            let listed = self.secrets_listed.notified();
            let watched = self
                .secrets_watched
                .load(std::sync::atomic::Ordering::Relaxed);
            if !watched || self.secrets().is_synced(namespace) {
                return;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return;
            }
            tokio::select! {
                () = listed => {}
                () = tokio::time::sleep(deadline - now) => return,
            }
        }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Failures>> {
        // A poisoned map only holds retry counts; carry on with it.
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a failure says on the status and in the event: escaped and bounded.
pub fn message(e: &Error) -> String {
    bounded(&e.status_text())
}

fn bounded(text: &str) -> String {
    shared::text::truncate(&shared::text::escape(text), MAX_MESSAGE_LEN)
}

pub async fn reconcile(obj: Arc<Guarded>, ctx: Arc<Context>) -> Result<Action, Error> {
    ctx.metrics.unseal_requests.inc();
    let meta = obj.meta_ref();
    let current_status = obj.status();
    let (namespace, name) = key_of(meta);
    let generation = generation_of(meta);
    let result = match &obj.spec {
        Spec::Sealed(_) => write_secret(meta, &ctx).await,
        Spec::Invalid(error) => Err(Error::Invalid(error.clone())),
    };
    // The spec held for this generation is let go whatever happened: a retry reads it.
    ctx.specs
        .done(&(namespace.clone(), name.clone()), &generation);
    let result = match result {
        Ok(Written::Superseded) => {
            debug!(%namespace, %name, "SealedSecret changed since its event; waiting for the next");
            return Ok(Action::requeue(SUPERSEDED_RETRY));
        }
        Ok(Written::Done) => Ok(()),
        Err(e) => Err(e),
    };
    crate::metrics::lock(&ctx.metrics.key_usage).reconciled(&(namespace.clone(), name.clone()));
    if result.as_ref().map_or_else(Error::is_permanent, |()| true) {
        ctx.secrets()
            .reconciled(&(namespace.clone(), name.clone()), &generation);
    }
    let outcome = match &result {
        Ok(()) => Outcome {
            ok: true,
            permanent: false,
            reason: "Unsealed",
            message: String::new(),
        },
        Err(e) => Outcome {
            ok: false,
            permanent: e.is_permanent(),
            reason: e.condition_reason(),
            message: message(e),
        },
    };
    if let Err(e) = &result {
        ctx.metrics.error(e.metric_reason(), &namespace);
        // Failures that hit every object at once (the API server away, or refusing while its
        // RBAC cache fills after a restart) are logged at a bounded rate; the rest per object.
        let now = std::time::Instant::now();
        if e.is_unavailable() {
            if let Some(held_back) = ctx.unavailable_log.admit(now) {
                warn!(%namespace, %name, error = %outcome.message, held_back, "reconcile failed: API server unavailable");
            }
        } else if e.is_forbidden() {
            if let Some(held_back) = ctx.forbidden_log.admit(now) {
                warn!(%namespace, %name, error = %outcome.message, held_back, "reconcile failed: forbidden");
            }
        } else {
            ctx.unavailable_log.reset();
            ctx.forbidden_log.reset();
            warn!(%namespace, %name, reason = e.event_reason(), error = %outcome.message, "reconcile failed");
        }
    }

    let changed = status::next(
        current_status,
        meta.generation,
        &outcome,
        &Time(Timestamp::now()),
    );
    if let Some(new_status) = changed {
        if ctx.update_status {
            // Unwritten, the status is tried again (with the event) on the next attempt.
            write_status(&ctx.client, &namespace, &name, &new_status).await?;
        }
        // One event per change of state, not one per resync.
        let event = match &result {
            Ok(()) => Event {
                type_: EventType::Normal,
                reason: "Unsealed".into(),
                note: Some("SealedSecret unsealed successfully".into()),
                action: "Unseal".into(),
                secondary: None,
            },
            Err(e) => Event {
                type_: EventType::Warning,
                reason: e.event_reason().into(),
                note: Some(bounded(&e.event_text())),
                action: "Unseal".into(),
                secondary: None,
            },
        };
        if let Err(e) = ctx.recorder.publish(&event, &reference(meta)).await {
            debug!(error = %e, "event not recorded");
        }
        if result.is_ok() {
            info!(%namespace, %name, "unsealed");
        }
    }

    match result {
        Ok(()) => {
            ctx.failures().remove(&(namespace, name));
            // Looked at again by the hourly resync round (`crate::rounds`), not by a requeue
            // each: kube's scheduler keeps about 650 bytes for each object it holds.
            Ok(Action::await_change())
        }
        Err(e) if e.is_permanent() => Ok(Action::await_change()),
        Err(e) => Err(e),
    }
}

/// Consecutive failures of one generation of one object, counted apart: an outage of the API
/// server says nothing about the object, so it must not lengthen the object's backoff once the
/// server is back, nor use up its retries.
#[derive(Debug, Default)]
pub struct Failures {
    generation: Option<i64>,
    unavailable: u32,
    other: u32,
}

impl Failures {
    /// The delay before the next attempt: 2 s, 4 s, ... 5 min for failures of the object, at
    /// most 5 s while the API server is unavailable; `None` once the object has failed
    /// `max_retries` times (the reference's `--max-unseal-retries`): it then waits until it or
    /// the keys change. A new generation starts the count again.
    pub fn next_delay(
        &mut self,
        generation: Option<i64>,
        unavailable: bool,
        max_retries: u32,
    ) -> Option<Duration> {
        if self.generation != generation {
            *self = Failures {
                generation,
                ..Failures::default()
            };
        }
        let (n, cap) = if unavailable {
            (&mut self.unavailable, UNAVAILABLE_RETRY_MAX)
        } else {
            self.unavailable = 0;
            if self.other >= max_retries {
                return None;
            }
            (&mut self.other, RETRY_MAX)
        };
        *n = n.saturating_add(1);
        Some(Duration::from_secs(2u64.saturating_pow((*n).min(9))).min(cap))
    }
}

/// Capped exponential backoff per object ([`Failures`]).
pub fn error_policy(obj: Arc<Guarded>, err: &Error, ctx: Arc<Context>) -> Action {
    let meta = obj.meta_ref();
    let mut failures = ctx.failures();
    let delay = failures.entry(key_of(meta)).or_default().next_delay(
        meta.generation,
        err.is_unavailable(),
        ctx.max_retries,
    );
    delay.map_or_else(Action::await_change, Action::requeue)
}

/// The object an event is about; built from metadata so invalid objects get events too.
fn reference(meta: &ObjectMeta) -> ObjectReference {
    ObjectReference {
        api_version: Some(SealedSecret::api_version(&()).into_owned()),
        kind: Some(SealedSecret::kind(&()).into_owned()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        ..ObjectReference::default()
    }
}

async fn write_status(
    client: &Client,
    namespace: &str,
    name: &str,
    status: &shared::SealedSecretStatus,
) -> Result<(), Error> {
    // The response (the whole object) is not parsed: nothing here reads it, and a malformed
    // object's (the case that needs a status most) would not parse as a SealedSecret.
    let url = DynamicObject::url_path(&ApiResource::erase::<SealedSecret>(&()), Some(namespace));
    let patch = serde_json::json!({ "status": status });
    let request = kube::core::Request::new(url)
        .patch_subresource(
            "status",
            name,
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .map_err(|e| Error::WriteStatus(kube::Error::BuildRequest(e)))?;
    client
        .request_text(request)
        .await
        .map(drop)
        .map_err(Error::WriteStatus)
}

/// How a reconcile's write ended, when nothing failed.
enum Written {
    /// The Secret is current: written now, or already.
    Done,
    /// The object read for its spec is another generation (or gone): the watch brings it, and
    /// its own reconcile does the work.
    Superseded,
}

/// When a superseded reconcile looks again, should the watch's event not come.
const SUPERSEDED_RETRY: Duration = Duration::from_secs(5);

/// The SealedSecret with its spec, which the lean store ([`crate::sealed_store`]) does not
/// hold: the spec kept since its watch event, or the object read again. `None` when what was
/// read is not this generation.
async fn with_spec(meta: &ObjectMeta, ctx: &Context) -> Result<Option<SealedSecret>, Error> {
    let key = key_of(meta);
    let generation = generation_of(meta);
    if let Some(spec) = ctx.specs.get(&key, &generation) {
        return Ok(Some(SealedSecret {
            metadata: meta.clone(),
            spec: (*spec).clone(),
            status: None,
        }));
    }
    let api: Api<Guarded> = Api::namespaced(ctx.client.clone(), &key.0);
    let read = api.get_opt(&key.1).await.map_err(Error::ReadSealedSecret)?;
    Ok(match read {
        Some(Guarded {
            metadata,
            spec: Spec::Sealed(Some(spec)),
            ..
        }) if metadata.uid == meta.uid && metadata.generation == meta.generation => {
            Some(SealedSecret {
                metadata,
                spec: *spec,
                status: None,
            })
        }
        _ => None,
    })
}

/// What the write is decided on: the metadata cache's view, or the Secret read whole.
enum Known {
    Cached(Option<Target>),
    Read(Option<Box<Secret>>),
}

/// How long the first reconciles wait for the first list of Secrets, so that a start decides
/// from the cache instead of reading every target.
const SYNC_WAIT: Duration = Duration::from_secs(30);

/// precheck → unseal → plan_write → the writes, decided on the metadata cache and read from
/// the API server only when the cache cannot say (not listed yet, a takeover, or a write
/// refused because the Secret changed). The decisions are `write`'s, pure; this only
/// sequences the API calls.
async fn write_secret(meta: &ObjectMeta, ctx: &Context) -> Result<Written, Error> {
    let key = key_of(meta);
    let (namespace, name) = key.clone();
    let source = Source {
        uid: meta.uid.clone().unwrap_or_default(),
        generation: meta.generation.unwrap_or_default(),
    };
    let generation = (source.uid.clone(), source.generation);
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let read = || async {
        api.get_opt(&name)
            .await
            .map(|s| Known::Read(s.map(Box::new)))
            .map_err(Error::ReadSecret)
    };
    ctx.wait_for_secrets(&namespace).await;
    let looked_up = ctx.secrets().lookup(&namespace, &name);
    let mut known = match looked_up {
        Lookup::NotSynced => read().await?,
        Lookup::Foreign => {
            ctx.secrets().block(key, generation);
            return Err(Error::ForeignSecret(name));
        }
        Lookup::Absent if ctx.secrets().blocked(&key, &generation) => {
            return Err(Error::ForeignSecret(name));
        }
        Lookup::Absent => Known::Cached(None),
        Lookup::Known(target) => Known::Cached(Some(target)),
    };
    let mut unsealed: Option<(Secret, std::collections::BTreeSet<String>)> = None;
    loop {
        let (target, existing) = match &known {
            Known::Cached(target) => (target.clone(), None),
            Known::Read(secret) => (
                secret.as_deref().map(Target::of_secret),
                secret.as_deref().cloned(),
            ),
        };
        // Before any RSA work: a Secret we may not touch, or one already current, costs none.
        let strategy = match write::precheck(target.as_ref(), &source) {
            Precheck::Refuse => {
                ctx.secrets().block(key, generation);
                return Err(Error::ForeignSecret(name));
            }
            Precheck::UpToDate { keys } => {
                debug!(%namespace, %name, "Secret already unsealed from this generation");
                ctx.record_key_use(&namespace, &name, keys.into_iter().collect());
                return Ok(Written::Done);
            }
            Precheck::Unseal(strategy) => strategy,
        };
        // Restarting consumers on a change needs the data before it: read once.
        if ctx.restart_consumers && existing.is_none() && !matches!(strategy.how, How::Create) {
            known = read().await?;
            if matches!(known, Known::Read(None))
                && target.as_ref().is_some_and(|t| !t.recreated_if_deleted())
            {
                return Err(Error::SecretChanging(name));
            }
            continue;
        }
        let (desired, opened_by) = match &unsealed {
            Some(done) => done.clone(),
            None => {
                let Some(full) = with_spec(meta, ctx).await? else {
                    return Ok(Written::Superseded);
                };
                let (result, used) =
                    unseal_on_a_core(full, ctx, strategy.recorded_keys.clone()).await?;
                ctx.metrics.rsa_operations.inc_by(used.rsa_operations);
                ctx.record_key_use(&namespace, &name, used.opened_by.clone());
                unsealed.insert((result?, used.opened_by)).clone()
            }
        };
        let before = existing
            .as_ref()
            .filter(|_| ctx.restart_consumers)
            .map(|s| s.data.clone().unwrap_or_default());
        let plan = match write::plan_write(strategy, desired, &source, &opened_by, existing) {
            Ok(plan) => plan,
            Err(write::NeedsRead) => {
                known = read().await?;
                continue;
            }
        };
        match apply_plan(&api, &name, plan).await {
            Ok(written) => {
                ctx.secrets()
                    .wrote(key.clone(), Target::of_secret(&written));
                if let Some(before) = &before
                    && crate::consumers::data_changed(Some(before), written.data.as_ref())
                {
                    restart_consumers(meta, ctx, &namespace, &name).await;
                }
                return Ok(Written::Done);
            }
            // Decided on the cache, which was behind: read the Secret and decide again, once.
            Err(e) if crate::error::is_stale_write(&e) && matches!(known, Known::Cached(_)) => {
                debug!(%namespace, %name, "Secret changed since the cache saw it; reading it");
                known = read().await?;
                // Gone under a write to someone else's Secret (a merge): not created here.
                // The watch's view of the deletion decides on the next attempt.
                if matches!(known, Known::Read(None))
                    && target.as_ref().is_some_and(|t| !t.recreated_if_deleted())
                {
                    return Err(Error::SecretChanging(name));
                }
            }
            Err(e) if crate::error::is_stale_write(&e) => {
                return Err(Error::SecretChanging(name));
            }
            Err(e) if crate::error::is_immutable_refusal(&e) => {
                return Err(Error::Immutable(format!("{namespace}/{name}")));
            }
            Err(e) => return Err(Error::WriteSecret(e)),
        }
    }
}

/// Restarts the workloads reading a Secret whose data just changed, with one event on the
/// SealedSecret saying which (or why not). A failure is not retried: the Secret is written,
/// and the restart is the workloads' business from here.
async fn restart_consumers(meta: &ObjectMeta, ctx: &Context, namespace: &str, name: &str) {
    let now = Timestamp::now().to_string();
    let event = match crate::consumers::restart(&ctx.client, namespace, name, &now).await {
        Ok(restarted) if restarted.is_empty() => return,
        Ok(restarted) => {
            info!(%namespace, %name, workloads = %restarted.join(","), "restarted consumers");
            Event {
                type_: EventType::Normal,
                reason: "ConsumersRestarted".into(),
                note: Some(bounded(&format!(
                    "Secret data changed; restarted {}",
                    restarted.join(", ")
                ))),
                action: "Restart".into(),
                secondary: None,
            }
        }
        Err(e) => {
            let error = crate::error::api_text(&e);
            warn!(%namespace, %name, %error, "restarting consumers failed");
            Event {
                type_: EventType::Warning,
                reason: "ErrRestartFailed".into(),
                note: Some(bounded(&format!(
                    "restarting the Secret's consumers: {error}"
                ))),
                action: "Restart".into(),
                secondary: None,
            }
        }
    };
    if let Err(e) = ctx.recorder.publish(&event, &reference(meta)).await {
        debug!(error = %e, "event not recorded");
    }
}

/// The API calls of one plan; the Secret as the API server answered the last one.
async fn apply_plan(api: &Api<Secret>, name: &str, plan: WritePlan) -> Result<Secret, kube::Error> {
    let post = PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PostParams::default()
    };
    let apply = PatchParams::apply(FIELD_MANAGER).force();
    match plan {
        WritePlan::Create(secret) => api.create(&post, &secret).await,
        WritePlan::Apply { stale, secret } => {
            if !stale.is_empty() {
                let nulls: serde_json::Map<String, serde_json::Value> = stale
                    .into_iter()
                    .map(|k| (k, serde_json::Value::Null))
                    .collect();
                let params = PatchParams {
                    field_manager: Some(FIELD_MANAGER.into()),
                    ..PatchParams::default()
                };
                // On the same UID as the apply: a merge patch of a missing Secret is a 404.
                let patch = serde_json::json!({
                    "metadata": { "uid": secret.metadata.uid },
                    "data": nulls,
                });
                api.patch(name, &params, &Patch::Merge(&patch)).await?;
            }
            api.patch(name, &apply, &Patch::Apply(&secret)).await
        }
        WritePlan::Replace(secret) => api.replace(name, &post, &secret).await,
        WritePlan::Merge(secret) => api.patch(name, &apply, &Patch::Apply(&secret)).await,
    }
}

/// When a key that objects still need leaves the active set (relabelled, e.g. `compromised`, or
/// deleted), one Warning event `KeyNotActive` on each of them: they open now only while their
/// Secret stays current, and must be re-encrypted (`seal re-encrypt`); after a compromise they
/// are the secrets whose values must change. The metric `key_objects` keeps counting them under
/// the retired key's fingerprint.
pub async fn warn_of_retired_keys(ctx: Arc<Context>, keys: crate::keyring::KeyStore) {
    let mut versions = keys.subscribe();
    let mut before = keys.get();
    while versions.changed().await.is_ok() {
        let after = keys.get();
        let retired = crate::keyring::retired(&before, &after);
        before = after;
        for (fingerprint, _) in retired {
            let objects =
                crate::metrics::lock(&ctx.metrics.key_usage).objects_needing(&fingerprint);
            if !objects.is_empty() {
                warn!(%fingerprint, objects = objects.len(), "a key that SealedSecrets need is no longer active");
            }
            for (namespace, name) in objects {
                let event = Event {
                    type_: EventType::Warning,
                    reason: "KeyNotActive".into(),
                    note: Some(format!(
                        "unsealed with key {fingerprint}, which is no longer active; re-encrypt \
                         this SealedSecret with the newest key (seal re-encrypt)"
                    )),
                    action: "Unseal".into(),
                    secondary: None,
                };
                let meta = ObjectMeta {
                    name: Some(name),
                    namespace: Some(namespace),
                    ..ObjectMeta::default()
                };
                if let Err(e) = ctx.recorder.publish(&event, &reference(&meta)).await {
                    debug!(error = %e, "event not recorded");
                }
            }
        }
    }
}

/// Unseals on the blocking pool, holding one of the cores' slots, trying the `recorded` keys
/// first; says which keys opened it and at what RSA cost, also when it failed.
/// How long an unseal keeps a core before it lets a waiting one have it: about 7 RSA-4096
/// decryptions.
const UNSEAL_SLICE: Duration = Duration::from_millis(10);

async fn unseal_on_a_core(
    ss: SealedSecret,
    ctx: &Context,
    recorded: Vec<String>,
) -> Result<(Result<Secret, UnsealError>, KeyUse), Error> {
    let keys = ctx.keys.get();
    let options = ctx.unseal_options;
    let slots = ctx.unseal_slots.clone();
    let slot = slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| Error::UnsealTask(e.to_string()))?;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut slot = Some(slot);
        let mut held_since = std::time::Instant::now();
        // After a time slice, queue again behind whoever waits for a core (the semaphore is
        // FIFO): a good object beside one with 1,000 items waits for a slice, not 1,000 items.
        // Not after every item: each hand-over is a thread switch, and a few-item object would
        // pay one per item.
        let mut between_items = || {
            if held_since.elapsed() < UNSEAL_SLICE {
                return;
            }
            drop(slot.take());
            slot = runtime.block_on(slots.clone().acquire_owned()).ok();
            held_since = std::time::Instant::now();
        };
        let mut env = shared::template::Context {
            now: time::OffsetDateTime::now_utc(),
            rng: rand::rng(),
        };
        unseal_preferring(
            &ss,
            &keys.ring,
            options,
            &mut env,
            &mut between_items,
            &recorded,
        )
    })
    .await
    .map_err(|e| Error::UnsealTask(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_does_not_lengthen_the_backoff_after_it() {
        let mut f = Failures::default();
        let g = Some(1);
        let outage: Vec<Duration> = (0..20).map(|_| f.next_delay(g, true, 5).unwrap()).collect();
        assert_eq!(outage[0], Duration::from_secs(2));
        assert!(outage.iter().all(|d| *d <= UNAVAILABLE_RETRY_MAX));
        // Back, but refused for a moment (RBAC warming up): short again.
        assert_eq!(f.next_delay(g, false, 5), Some(Duration::from_secs(2)));
        assert_eq!(f.next_delay(g, false, 5), Some(Duration::from_secs(4)));
        let mut many = Failures::default();
        let later: Vec<Duration> = (0..20)
            .map(|_| many.next_delay(g, false, 99).unwrap())
            .collect();
        assert_eq!(*later.last().unwrap(), RETRY_MAX);
    }

    #[test]
    fn retries_stop_after_max_until_a_new_generation() {
        let mut f = Failures::default();
        for _ in 0..3 {
            assert!(f.next_delay(Some(1), false, 3).is_some());
        }
        assert_eq!(f.next_delay(Some(1), false, 3), None);
        // An outage still retries: the object is not at fault.
        assert!(f.next_delay(Some(1), true, 3).is_some());
        assert_eq!(
            f.next_delay(Some(2), false, 3),
            Some(Duration::from_secs(2))
        );
    }
}
