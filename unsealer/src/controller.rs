//! Wires the watches to the reconciler: SealedSecrets (spec changes only), deletions of the
//! Secrets the controller wrote, and key changes, which retry every object.

use std::sync::Arc;

use futures::{Stream, StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::Secret;
use kube::Resource as _;
use kube::api::Api;
use kube::runtime::controller::{Config, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt as _, predicates, reflector};
use tracing::{debug, warn};

use crate::reconcile::{Context, Guarded, UNSEALED_LABEL, UNSEALED_VALUE, error_policy, reconcile};

/// Reconciles in flight at once. Unbounded, a start with thousands of objects keeps thousands of
/// requests and responses alive at once; the RSA work is bounded to the cores anyway.
const CONCURRENCY: u16 = 32;

/// Where to watch: every namespace, or a list of them.
pub enum Scope {
    All,
    Namespaces(Vec<String>),
}

/// Deleted Secrets that the controller wrote, as triggers for their SealedSecret. Only
/// deletions are kept: our own writes must not wake the reconciler again.
fn deleted_secrets(
    api: Api<Secret>,
) -> impl Stream<Item = Result<Secret, watcher::Error>> + Send + 'static {
    let selector = format!("{UNSEALED_LABEL}={UNSEALED_VALUE}");
    watcher::watcher(api, watcher::Config::default().labels(&selector))
        .default_backoff()
        .try_filter_map(|event| async move {
            Ok(match event {
                Event::Delete(secret) => Some(secret),
                _ => None,
            })
        })
}

fn owner_of(secret: Secret) -> Option<ObjectRef<Guarded>> {
    let name = secret.metadata.name?;
    let namespace = secret.metadata.namespace?;
    debug!(%namespace, %name, "managed Secret deleted; recreating");
    Some(ObjectRef::new(&name).within(&namespace))
}

async fn run_one(
    ss_api: Api<Guarded>,
    secret_api: Api<Secret>,
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let (reader, writer) = reflector::store();
    // Spec changes only (the generation predicate): status and metadata edits, including our
    // own status writes, do not trigger work, as in the reference.
    let sealed = watcher::watcher(ss_api, watcher::Config::default())
        .default_backoff()
        // managedFields are most of a cached object's size and never read here.
        .modify(|obj: &mut Guarded| obj.meta_mut().managed_fields = None)
        .reflect(writer)
        .applied_objects()
        .predicate_filter(predicates::generation, Default::default());
    let keys_changed = futures::stream::unfold(ctx.keys.subscribe(), |mut versions| async move {
        versions.changed().await.ok()?;
        Some(((), versions))
    });
    Controller::for_stream(sealed, reader)
        .with_config(Config::default().concurrency(CONCURRENCY))
        .watches_stream(deleted_secrets(secret_api), owner_of)
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

/// Runs until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    scope: Scope,
    shutdown: impl std::future::Future<Output = ()> + Clone + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    match scope {
        Scope::All => run_one(Api::all(client.clone()), Api::all(client), ctx, shutdown).await,
        Scope::Namespaces(namespaces) => {
            let runs = namespaces.into_iter().map(|ns| {
                run_one(
                    Api::namespaced(client.clone(), &ns),
                    Api::namespaced(client.clone(), &ns),
                    ctx.clone(),
                    shutdown.clone(),
                )
            });
            futures::future::join_all(runs).await;
        }
    }
    warn!("controller stopped");
}
