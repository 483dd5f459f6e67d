//! What the controller keeps of SealedSecrets, so that memory follows the work in hand rather
//! than the number of objects:
//!
//! - the store the reconciles read ([`Mirror`]) holds each object without its spec: metadata
//!   and status are all a reconcile needs to name the object, decide from the Secret cache
//!   that it is current, and report;
//! - the spec of each generation passed on to a reconcile waits in [`Specs`] until that
//!   reconcile is over, unless its status already reports it unsealed (as after a restart). A watch that brings more than [`Specs::LIMIT`] of them waits, so a
//!   start with 20,000 objects to unseal holds a few hundred ciphertexts, not 20,000;
//! - a reconcile that needs a spec no longer held (a deleted Secret to create again, a retry,
//!   a key change) reads the object.
//!
//! The mirror also applies the generation predicate: status and metadata edits, including the
//! controller's own status writes, update the store but start no reconcile. It puts each
//! object in the store as it comes, a (re)list included, and removes after a relist what the
//! list no longer had.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::reflector::{Store, store::Writer};
use kube::runtime::watcher::Event;
use shared::SealedSecretSpec;

use crate::guard::{Guarded, Spec};

/// A SealedSecret's namespace and name.
pub type Key = (String, String);
/// A SealedSecret's UID and generation: which spec.
pub type Generation = (String, i64);

/// The namespace and name of the object `meta` describes.
pub fn key_of(meta: &ObjectMeta) -> Key {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// The UID and generation of the object `meta` describes.
pub fn generation_of(meta: &ObjectMeta) -> Generation {
    (
        meta.uid.clone().unwrap_or_default(),
        meta.generation.unwrap_or_default(),
    )
}

/// The specs of the generations handed to reconciles and not yet done with.
pub struct Specs {
    held: Mutex<HashMap<Key, (Generation, Arc<SealedSecretSpec>)>>,
    room: tokio::sync::Notify,
    limit: usize,
}

impl Default for Specs {
    fn default() -> Self {
        Specs::with_limit(Specs::LIMIT)
    }
}

impl Specs {
    /// Specs held at most before the watches wait for reconciles to finish: well above the
    /// reconciles in flight, so that they never wait for the watch.
    pub const LIMIT: usize = 256;

    pub fn with_limit(limit: usize) -> Specs {
        Specs {
            held: Mutex::new(HashMap::new()),
            room: tokio::sync::Notify::new(),
            limit,
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Generation, Arc<SealedSecretSpec>)>> {
        // Every entry is whole after each insert; carry on with a poisoned map.
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn len(&self) -> usize {
        self.held().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn hold(&self, key: Key, generation: Generation, spec: Box<SealedSecretSpec>) {
        self.held().insert(key, (generation, Arc::from(spec)));
    }

    /// The spec of `generation` of `key`, if it is still held.
    pub fn get(&self, key: &Key, generation: &Generation) -> Option<Arc<SealedSecretSpec>> {
        self.held()
            .get(key)
            .filter(|(g, _)| g == generation)
            .map(|(_, spec)| spec.clone())
    }

    /// A reconcile of `generation` is over: its spec is let go, unless a newer one came.
    pub fn done(&self, key: &Key, generation: &Generation) {
        let mut held = self.held();
        if held.get(key).is_some_and(|(g, _)| g == generation) {
            held.remove(key);
            drop(held);
            self.room.notify_waiters();
        }
    }

    /// Lets every spec go: a new term as leader starts its watches afresh, and the reconciles
    /// of the last term, which held them, were dropped with it.
    pub fn clear(&self) {
        self.held().clear();
        self.room.notify_waiters();
    }

    fn forget(&self, key: &Key) {
        if self.held().remove(key).is_some() {
            self.room.notify_waiters();
        }
    }

    /// Until fewer than the limit are held.
    pub async fn room(&self) {
        loop {
            let freed = self.room.notified();
            if self.len() < self.limit {
                return;
            }
            freed.await;
        }
    }
}

/// One watch's store of lean SealedSecrets, with the generation predicate and relists.
pub struct Mirror {
    writer: Writer<Guarded>,
    reader: Store<Guarded>,
    specs: Arc<Specs>,
    /// The generation last passed on to a reconcile, per object.
    passed: HashMap<Key, Generation>,
    /// The objects seen so far in a relist under way.
    relist: Option<HashSet<Key>>,
}

impl Mirror {
    /// An empty store, already "ready": objects reach it, and their reconciles, as they come.
    pub fn new(specs: Arc<Specs>) -> (Mirror, Store<Guarded>) {
        let (reader, mut writer) = kube::runtime::reflector::store();
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitDone);
        let mirror = Mirror {
            writer,
            reader: reader.clone(),
            specs,
            passed: HashMap::new(),
            relist: None,
        };
        (mirror, reader)
    }

    /// Applies one watch event; returns the object to reconcile, if any.
    pub fn observe(&mut self, event: Event<Guarded>) -> Option<Guarded> {
        match event {
            Event::Apply(obj) => self.put(obj),
            Event::InitApply(obj) => {
                if let Some(seen) = self.relist.as_mut() {
                    seen.insert(key_of(&obj.metadata));
                }
                self.put(obj)
            }
            Event::Delete(obj) => {
                let key = key_of(&obj.metadata);
                self.remove(&key, &obj);
                None
            }
            Event::Init => {
                self.relist = Some(HashSet::new());
                None
            }
            Event::InitDone => {
                let seen = self.relist.take().unwrap_or_default();
                for obj in self.reader.state() {
                    let key = key_of(&obj.metadata);
                    if !seen.contains(&key) {
                        self.remove(&key, &obj);
                    }
                }
                None
            }
        }
    }

    fn put(&mut self, mut obj: Guarded) -> Option<Guarded> {
        let key = key_of(&obj.metadata);
        let generation = generation_of(&obj.metadata);
        let new = self.passed.get(&key) != Some(&generation);
        // Not for a generation the status already reports unsealed (a restart): its reconcile
        // finds the Secret current and needs no spec, or reads the object if it is not.
        let synced = crate::status::is_synced(obj.status.as_ref(), obj.metadata.generation);
        if let Spec::Sealed(spec) = &mut obj.spec
            && let Some(spec) = spec.take()
            && new
            && !synced
        {
            self.specs.hold(key.clone(), generation.clone(), spec);
        }
        self.writer.apply_watcher_event(&Event::Apply(obj.clone()));
        if !new {
            return None;
        }
        self.passed.insert(key, generation);
        Some(obj)
    }

    fn remove(&mut self, key: &Key, obj: &Guarded) {
        self.writer.apply_watcher_event(&Event::Delete(obj.clone()));
        self.passed.remove(key);
        self.specs.forget(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::reflector::ObjectRef;
    use shared::SealedSecretStatus;
    use shared::resource::SealedSecretCondition;
    use std::collections::BTreeMap;

    fn sealed(name: &str, generation: i64, observed: Option<i64>) -> Guarded {
        Guarded {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("uid-{name}")),
                generation: Some(generation),
                ..ObjectMeta::default()
            },
            spec: Spec::Sealed(Some(Box::new(SealedSecretSpec {
                encrypted_data: BTreeMap::from([("a".into(), format!("ct-{generation}"))]),
                ..SealedSecretSpec::default()
            }))),
            status: observed.map(|g| SealedSecretStatus {
                observed_generation: Some(g),
                ..SealedSecretStatus::default()
            }),
        }
    }

    fn k(name: &str) -> Key {
        ("ns".into(), name.into())
    }

    fn g(name: &str, generation: i64) -> Generation {
        (format!("uid-{name}"), generation)
    }

    fn stored(reader: &Store<Guarded>, name: &str) -> Option<Arc<Guarded>> {
        reader.get(&ObjectRef::new(name).within("ns"))
    }

    #[test]
    fn the_store_holds_no_spec_and_each_generation_is_passed_on_once() {
        let specs = Arc::new(Specs::default());
        let (mut mirror, reader) = Mirror::new(specs.clone());
        let passed = mirror.observe(Event::Apply(sealed("a", 1, None))).unwrap();
        assert!(matches!(passed.spec, Spec::Sealed(None)));
        assert!(matches!(
            stored(&reader, "a").unwrap().spec,
            Spec::Sealed(None)
        ));
        let spec = specs.get(&k("a"), &g("a", 1)).unwrap();
        assert_eq!(spec.encrypted_data["a"], "ct-1");
        assert!(specs.get(&k("a"), &g("a", 2)).is_none());

        // Our status write: stored, not passed on, and the spec stays for the reconcile.
        assert!(
            mirror
                .observe(Event::Apply(sealed("a", 1, Some(1))))
                .is_none()
        );
        let updated = stored(&reader, "a").unwrap();
        assert_eq!(
            updated.status.as_ref().unwrap().observed_generation,
            Some(1)
        );
        assert_eq!(specs.len(), 1);
        specs.done(&k("a"), &g("a", 1));
        assert!(specs.is_empty());

        // A new generation is passed on with its spec.
        assert!(
            mirror
                .observe(Event::Apply(sealed("a", 2, Some(1))))
                .is_some()
        );
        assert_eq!(
            specs.get(&k("a"), &g("a", 2)).unwrap().encrypted_data["a"],
            "ct-2"
        );
    }

    #[test]
    fn a_generation_reported_unsealed_is_passed_on_without_its_spec() {
        let specs = Arc::new(Specs::default());
        let (mut mirror, _reader) = Mirror::new(specs.clone());
        let mut current = sealed("a", 2, Some(2));
        current.status.as_mut().unwrap().conditions = vec![SealedSecretCondition {
            type_: "Synced".into(),
            status: "True".into(),
            ..SealedSecretCondition::default()
        }];
        let mut failed = current.clone();
        failed.metadata.name = Some("b".into());
        failed.status.as_mut().unwrap().conditions[0].status = "False".into();
        assert!(mirror.observe(Event::Apply(current)).is_some());
        assert!(specs.is_empty());
        assert!(mirror.observe(Event::Apply(failed)).is_some());
        assert!(specs.get(&k("b"), &("uid-a".into(), 2)).is_some());
    }

    #[test]
    fn a_reconcile_of_an_older_generation_keeps_the_newer_spec() {
        let specs = Arc::new(Specs::default());
        let (mut mirror, _reader) = Mirror::new(specs.clone());
        mirror.observe(Event::Apply(sealed("a", 1, None)));
        mirror.observe(Event::Apply(sealed("a", 2, None)));
        specs.done(&k("a"), &g("a", 1));
        assert!(specs.get(&k("a"), &g("a", 2)).is_some());
        specs.done(&k("a"), &g("a", 2));
        assert!(specs.is_empty());
    }

    #[test]
    fn a_relist_removes_what_it_no_longer_has() {
        let specs = Arc::new(Specs::default());
        let (mut mirror, reader) = Mirror::new(specs.clone());
        mirror.observe(Event::Apply(sealed("a", 1, None)));
        mirror.observe(Event::Apply(sealed("b", 1, None)));
        mirror.observe(Event::Init);
        // Listed again at the same generation: stored, and present at once, not passed on.
        assert!(
            mirror
                .observe(Event::InitApply(sealed("a", 1, Some(1))))
                .is_none()
        );
        assert!(stored(&reader, "a").is_some());
        assert!(
            mirror
                .observe(Event::InitApply(sealed("c", 1, None)))
                .is_some()
        );
        assert!(stored(&reader, "c").is_some());
        mirror.observe(Event::InitDone);
        assert!(stored(&reader, "b").is_none());
        assert!(specs.get(&k("b"), &g("b", 1)).is_none());
        assert!(stored(&reader, "a").is_some() && stored(&reader, "c").is_some());
        // Deleted and created again under the same name: a new UID, passed on.
        mirror.observe(Event::Delete(sealed("c", 1, None)));
        assert!(stored(&reader, "c").is_none());
        assert!(mirror.observe(Event::Apply(sealed("c", 1, None))).is_some());
    }

    #[test]
    fn malformed_objects_are_passed_on_without_a_spec() {
        let specs = Arc::new(Specs::default());
        let (mut mirror, reader) = Mirror::new(specs.clone());
        let invalid = Guarded {
            metadata: ObjectMeta {
                name: Some("bad".into()),
                namespace: Some("ns".into()),
                generation: Some(1),
                ..ObjectMeta::default()
            },
            status: None,
            spec: Spec::Invalid("e".into()),
        };
        assert!(mirror.observe(Event::Apply(invalid)).is_some());
        assert!(stored(&reader, "bad").is_some());
        assert!(specs.is_empty());
    }

    /// Asserts that `room` waits while the specs are at their limit and returns once `free`
    /// lets one go.
    async fn waits_until_freed(specs: &Arc<Specs>, free: impl FnOnce(), what: &str) {
        let waiting = tokio::spawn({
            let specs = specs.clone();
            async move { specs.room().await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "did not wait before {what}");
        free();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .unwrap_or_else(|_| panic!("still waiting after {what}"))
            .unwrap();
    }

    #[tokio::test]
    async fn the_watch_waits_while_the_limit_of_specs_is_held() {
        let specs = Arc::new(Specs::with_limit(2));
        let (mut mirror, _reader) = Mirror::new(specs.clone());
        mirror.observe(Event::Apply(sealed("a", 1, None)));
        specs.room().await;
        mirror.observe(Event::Apply(sealed("b", 1, None)));
        waits_until_freed(
            &specs,
            || specs.done(&k("a"), &g("a", 1)),
            "a reconcile let its spec go",
        )
        .await;

        // A new term as leader: what the dropped reconciles held is let go.
        mirror.observe(Event::Apply(sealed("c", 1, None)));
        waits_until_freed(&specs, || specs.clear(), "the specs were cleared").await;
        assert!(specs.is_empty());
    }
}
