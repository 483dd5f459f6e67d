//! What the controller knows of Secrets from its metadata watch, so that a reconcile decides
//! without reading the target Secret: whose it is ([`Target`]), and whether it is current.
//!
//! - Someone else's Secret (no SealedSecret controls it, no `managed` or `patch`, no mark of
//!   ours) is held as a bare name ([`Entry::Foreign`]): the cache grows with the cluster's
//!   Secrets by a few dozen bytes each, and never keeps their annotations, labels or
//!   managedFields.
//! - Any other Secret keeps the few facts the write needs ([`Target`]).
//! - The API server's preconditions cover what the cache cannot know: a create fails if a
//!   Secret appeared meanwhile, and every other write carries the resourceVersion it was
//!   decided on; either failure makes the reconcile read the Secret and decide again.
//!
//! It also holds what the reference's timing decides implicitly. A SealedSecret whose target
//! was someone else's Secret when it appeared is not created when that Secret is deleted
//! moments later, before the controller looked ([`SecretCache::blocked`]): the reference
//! refuses and gives up, and a deletion of a Secret it does not own does not wake it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::watcher::Event;
use shared::marks::{MANAGED, PATCH, SKIP_SET_OWNER_REFERENCES, is_true};

use crate::interner::Interner;
use crate::marks::{Source, keys_of_annotations};

/// A Secret's namespace and name.
pub type Key = (String, String);

/// The facts about an existing Secret that decide whether and how a SealedSecret may write it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// The UID of the SealedSecret holding its controller ownerReference, if one does.
    pub controller: Option<String>,
    /// Whether anything (a SealedSecret or not) holds its controller ownerReference.
    pub controlled: bool,
    /// Our `unsealed-from` mark.
    pub source: Option<Source>,
    /// Our `unsealed-with` mark: the keys that opened it last time.
    pub keys: Vec<String>,
    pub managed: bool,
    pub patch: bool,
    pub skip_owner: bool,
    /// Its data item names (not values).
    pub items: Vec<String>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

impl Target {
    fn of(meta: &ObjectMeta, items: Vec<String>) -> Target {
        let annotations = meta.annotations.as_ref();
        let controller_ref = meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true));
        Target {
            controller: controller_ref
                .filter(|o| o.kind == "SealedSecret")
                .map(|o| o.uid.clone()),
            controlled: controller_ref.is_some(),
            source: Source::of_annotations(annotations),
            keys: keys_of_annotations(annotations),
            managed: is_true(annotations, MANAGED),
            patch: is_true(annotations, PATCH),
            skip_owner: is_true(annotations, SKIP_SET_OWNER_REFERENCES),
            items,
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
        }
    }

    /// From a metadata-only object: the item names come from its managedFields (every field
    /// has a manager), since the data itself is not watched.
    pub fn of_meta(meta: &ObjectMeta) -> Target {
        let mut items = BTreeSet::new();
        for entry in meta.managed_fields.iter().flatten() {
            let data = entry
                .fields_v1
                .as_ref()
                .and_then(|f| f.0.get("f:data"))
                .and_then(|d| d.as_object());
            for field in data.into_iter().flat_map(|d| d.keys()) {
                if let Some(item) = field.strip_prefix("f:") {
                    items.insert(item.to_owned());
                }
            }
        }
        Target::of(meta, items.into_iter().collect())
    }

    /// From a Secret read whole.
    pub fn of_secret(secret: &Secret) -> Target {
        let items = secret
            .data
            .iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect();
        Target::of(&secret.metadata, items)
    }

    /// No SealedSecret may write it: nothing of ours controls or marked it, and it carries
    /// neither `managed` nor `patch`.
    pub fn is_foreign(&self) -> bool {
        self.controller.is_none() && self.source.is_none() && !self.managed && !self.patch
    }

    /// Whether it is written again once deleted, as the reference decides: a SealedSecret
    /// controlled it (taken-over `managed` Secrets are), or the controller wrote it without an
    /// owner (`skip-set-owner-references`, by its source mark). `patch`-only and foreign
    /// Secrets are not.
    pub fn recreated_if_deleted(&self) -> bool {
        self.controller.is_some() || (self.source.is_some() && self.skip_owner && !self.controlled)
    }
}

/// A [`Target`] as the cache holds it, in about half the memory: exact-size strings, the
/// SealedSecret's UID once when it is both the controller and the source (as it is for every
/// Secret the controller wrote), and key fingerprints and item names shared through
/// [`Interner`], since thousands of Secrets repeat the same few.
#[derive(Debug)]
struct Stored {
    controller: Option<Box<str>>,
    /// The source mark; its UID `None` when it is the controller's.
    source: Option<(Option<Box<str>>, i64)>,
    keys: Box<[Arc<str>]>,
    items: Box<[Arc<str>]>,
    uid: Option<Box<str>>,
    resource_version: Option<Box<str>>,
    controlled: bool,
    managed: bool,
    patch: bool,
    skip_owner: bool,
}

impl Stored {
    fn of(target: Target, interner: &mut Interner) -> Stored {
        let source = target.source.map(|s| {
            let uid = (target.controller.as_deref() != Some(s.uid.as_str())).then(|| s.uid.into());
            (uid, s.generation)
        });
        Stored {
            controller: target.controller.map(String::into_boxed_str),
            source,
            keys: target.keys.iter().map(|k| interner.get(k)).collect(),
            items: target.items.iter().map(|i| interner.get(i)).collect(),
            uid: target.uid.map(String::into_boxed_str),
            resource_version: target.resource_version.map(String::into_boxed_str),
            controlled: target.controlled,
            managed: target.managed,
            patch: target.patch,
            skip_owner: target.skip_owner,
        }
    }

    fn target(&self) -> Target {
        let owned = |s: &Option<Box<str>>| s.as_deref().map(str::to_owned);
        Target {
            controller: owned(&self.controller),
            controlled: self.controlled,
            source: self.source.as_ref().map(|(uid, generation)| Source {
                uid: owned(uid)
                    .or_else(|| owned(&self.controller))
                    .unwrap_or_default(),
                generation: *generation,
            }),
            keys: self.keys.iter().map(|k| k.to_string()).collect(),
            managed: self.managed,
            patch: self.patch,
            skip_owner: self.skip_owner,
            items: self.items.iter().map(|i| i.to_string()).collect(),
            uid: owned(&self.uid),
            resource_version: owned(&self.resource_version),
        }
    }
}

/// The Secrets of one namespace: a bare name for each of someone else's, the facts for the
/// others. Names are boxed strings and namespaces are held once, so that a cluster's unrelated
/// Secrets cost a few dozen bytes each.
#[derive(Debug, Default)]
struct Namespace {
    foreign: HashSet<Box<str>>,
    known: HashMap<Box<str>, Box<Stored>>,
}

/// What a namespace held at a name.
enum Held {
    Foreign,
    Known(Target),
}

impl Namespace {
    fn get(&self, name: &str) -> Option<Held> {
        if self.foreign.contains(name) {
            Some(Held::Foreign)
        } else {
            self.known.get(name).map(|t| Held::Known(t.target()))
        }
    }

    /// Whether it holds the facts of a Secret that is not someone else's (without rebuilding
    /// its [`Target`]).
    fn is_known(&self, name: &str) -> bool {
        self.known.contains_key(name)
    }

    fn contains(&self, name: &str) -> bool {
        self.foreign.contains(name) || self.known.contains_key(name)
    }

    fn resource_version(&self, name: &str) -> Option<&str> {
        self.known
            .get(name)
            .and_then(|t| t.resource_version.as_deref())
    }

    fn insert(&mut self, name: &str, target: Target, interner: &mut Interner) {
        if target.is_foreign() {
            self.known.remove(name);
            self.foreign.insert(name.into());
        } else {
            self.foreign.remove(name);
            self.known
                .insert(name.into(), Box::new(Stored::of(target, interner)));
        }
    }

    fn remove(&mut self, name: &str) -> Option<Held> {
        if self.foreign.remove(name) {
            Some(Held::Foreign)
        } else {
            self.known.remove(name).map(|t| Held::Known(t.target()))
        }
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.foreign.iter().chain(self.known.keys()).map(|n| &**n)
    }

    fn len(&self) -> usize {
        self.foreign.len() + self.known.len()
    }
}

/// Secrets by namespace.
type Namespaces = HashMap<String, Namespace>;

/// What the cache says of a target Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The watch of its namespace has not listed Secrets yet: read it instead.
    NotSynced,
    Absent,
    Foreign,
    Known(Target),
}

/// A generation of a SealedSecret: its UID and `metadata.generation`.
pub type Generation = (String, i64);

/// The metadata cache of Secrets, and what it decides for targets that vanish.
#[derive(Debug, Default)]
pub struct SecretCache {
    entries: Namespaces,
    /// Re-lists in progress, by watch scope (a namespace, or `None` for all).
    relisting: HashMap<Option<String>, Namespaces>,
    /// Scopes whose first list is complete.
    synced: HashSet<Option<String>>,
    /// SealedSecret generations not yet reconciled.
    unreconciled: HashMap<Key, Generation>,
    /// Generations whose target was someone else's when they appeared.
    blocked: HashMap<Key, Generation>,
    interner: Interner,
}

/// Newer-than check for resourceVersions of one resource type, which Kubernetes 1.35 made
/// comparable (as integers); anything else counts as newer, as before.
fn older(candidate: Option<&str>, than: Option<&str>) -> bool {
    match (
        candidate.and_then(|v| v.parse::<u64>().ok()),
        than.and_then(|v| v.parse::<u64>().ok()),
    ) {
        (Some(c), Some(t)) => c < t,
        _ => false,
    }
}

impl SecretCache {
    fn is_known(&self, (namespace, name): &Key) -> bool {
        self.entries
            .get(namespace)
            .is_some_and(|ns| ns.is_known(name))
    }

    fn resource_version(&self, (namespace, name): &Key) -> Option<&str> {
        self.entries.get(namespace)?.resource_version(name)
    }

    fn insert(&mut self, (namespace, name): &Key, target: Target) {
        match self.entries.get_mut(namespace) {
            Some(ns) => ns.insert(name, target, &mut self.interner),
            None => self.entries.entry(namespace.clone()).or_default().insert(
                name,
                target,
                &mut self.interner,
            ),
        }
    }

    fn remove(&mut self, (namespace, name): &Key) -> Option<Held> {
        let ns = self.entries.get_mut(namespace)?;
        let held = ns.remove(name);
        if ns.len() == 0 {
            self.entries.remove(namespace);
        }
        held
    }

    /// Follows one watch's event; `scope` is the watch's namespace (`None`: all). Returns the
    /// targets whose SealedSecret must be reconciled: Secrets it must write again (deleted,
    /// also those a re-list no longer reports), and Secrets just opened to a takeover or merge.
    pub fn apply(&mut self, scope: Option<&str>, event: Event<(Key, Target)>) -> Vec<Key> {
        match event {
            Event::Apply((key, target)) => {
                if older(
                    target.resource_version.as_deref(),
                    self.resource_version(&key),
                ) {
                    return Vec::new(); // a write of ours already told more
                }
                let opened = !self.is_known(&key) && (target.managed || target.patch);
                if opened {
                    self.blocked.remove(&key);
                }
                self.insert(&key, target);
                if opened { vec![key] } else { Vec::new() }
            }
            Event::Delete((key, target)) => {
                if older(
                    target.resource_version.as_deref(),
                    self.resource_version(&key),
                ) {
                    return Vec::new(); // an older incarnation; the current one stays
                }
                let known = match self.remove(&key) {
                    Some(Held::Known(t)) => t,
                    Some(Held::Foreign) | None => target,
                };
                self.vanished(key, &known)
            }
            Event::Init => {
                self.relisting
                    .insert(scope.map(str::to_owned), Namespaces::new());
                Vec::new()
            }
            Event::InitApply(((namespace, name), target)) => {
                if let Some(seen) = self.relisting.get_mut(&scope.map(str::to_owned)) {
                    seen.entry(namespace)
                        .or_default()
                        .insert(&name, target, &mut self.interner);
                }
                Vec::new()
            }
            Event::InitDone => {
                let scope = scope.map(str::to_owned);
                let Some(mut seen) = self.relisting.remove(&scope) else {
                    return Vec::new();
                };
                let before = match &scope {
                    None => std::mem::take(&mut self.entries),
                    Some(ns) => self
                        .entries
                        .remove(ns)
                        .map(|held| Namespaces::from([(ns.clone(), held)]))
                        .unwrap_or_default(),
                };
                let mut gone = Vec::new();
                for (namespace, held) in &before {
                    let now = seen.get(namespace);
                    for name in held.names() {
                        if now.is_none_or(|n| !n.contains(name)) {
                            let target = match held.get(name) {
                                Some(Held::Known(t)) => t,
                                _ => Target::default(),
                            };
                            gone.push(((namespace.clone(), name.to_owned()), target));
                        }
                    }
                }
                drop(before);
                match &scope {
                    None => self.entries = seen,
                    Some(ns) => {
                        if let Some(held) = seen.remove(ns) {
                            self.entries.insert(ns.clone(), held);
                        }
                    }
                }
                self.synced.insert(scope);
                gone.into_iter()
                    .flat_map(|(k, t)| self.vanished(k, &t))
                    .collect()
            }
        }
    }

    /// A Secret is gone: written again if it was ours to recreate; if it was someone else's
    /// and its SealedSecret's generation has not been looked at yet, that generation is
    /// blocked, as if the controller had looked first.
    fn vanished(&mut self, key: Key, was: &Target) -> Vec<Key> {
        if was.recreated_if_deleted() {
            return vec![key];
        }
        if !was.managed
            && let Some(generation) = self.unreconciled.get(&key)
        {
            self.blocked.insert(key, generation.clone());
        }
        Vec::new()
    }

    /// What the cache says of `namespace/name`.
    pub fn lookup(&self, namespace: &str, name: &str) -> Lookup {
        if !self.is_synced(namespace) {
            return Lookup::NotSynced;
        }
        match self.entries.get(namespace).and_then(|ns| ns.get(name)) {
            None => Lookup::Absent,
            Some(Held::Foreign) => Lookup::Foreign,
            Some(Held::Known(t)) => Lookup::Known(t),
        }
    }

    /// Whether the Secrets of `namespace` have been listed.
    pub fn is_synced(&self, namespace: &str) -> bool {
        self.synced.contains(&None) || self.synced.contains(&Some(namespace.to_owned()))
    }

    /// Records a Secret as the controller just wrote it (the API server's answer), so that
    /// the next write does not wait for the watch to catch up.
    pub fn wrote(&mut self, key: Key, target: Target) {
        if !older(
            target.resource_version.as_deref(),
            self.resource_version(&key),
        ) {
            self.insert(&key, target);
        }
    }

    /// A SealedSecret as its watch shows it: `reconciled` when its status already reports
    /// this generation.
    pub fn sealed_seen(&mut self, key: Key, generation: Generation, reconciled: bool) {
        if self.blocked.get(&key).is_some_and(|b| *b != generation) {
            self.blocked.remove(&key);
        }
        if reconciled {
            self.unreconciled.remove(&key);
        } else {
            self.unreconciled.insert(key, generation);
        }
    }

    /// A SealedSecret deleted.
    pub fn sealed_gone(&mut self, key: &Key) {
        self.unreconciled.remove(key);
        self.blocked.remove(key);
    }

    /// A generation's reconcile reached its outcome (written, current, or refused for good).
    pub fn reconciled(&mut self, key: &Key, generation: &Generation) {
        if self.unreconciled.get(key) == Some(generation) {
            self.unreconciled.remove(key);
        }
    }

    /// Marks `generation` as blocked by someone else's Secret at its target.
    pub fn block(&mut self, key: Key, generation: Generation) {
        self.blocked.insert(key, generation);
    }

    /// Whether `generation` found someone else's Secret at its target (see the module doc).
    pub fn blocked(&self, key: &Key, generation: &Generation) -> bool {
        self.blocked.get(key) == Some(generation)
    }

    /// How many Secrets are held.
    pub fn len(&self) -> usize {
        self.entries.values().map(Namespace::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
        FieldsV1, ManagedFieldsEntry, OwnerReference,
    };

    fn k(name: &str) -> Key {
        ("ns".to_owned(), name.to_owned())
    }

    fn owner(kind: &str, uid: &str, controller: bool) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: kind.into(),
            name: "x".into(),
            uid: uid.into(),
            controller: Some(controller),
            block_owner_deletion: None,
        }
    }

    fn meta(owners: Vec<OwnerReference>, annotations: &[(&str, &str)], rv: &str) -> ObjectMeta {
        ObjectMeta {
            namespace: Some("ns".into()),
            name: Some("s".into()),
            resource_version: Some(rv.into()),
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

    fn foreign(rv: &str) -> Target {
        Target::of_meta(&meta(vec![], &[], rv))
    }

    fn ours(rv: &str) -> Target {
        Target::of_meta(&meta(vec![owner("SealedSecret", "u", true)], &[], rv))
    }

    fn synced(scope: Option<&str>) -> SecretCache {
        let mut c = SecretCache::default();
        c.apply(scope, Event::Init);
        c.apply(scope, Event::InitDone);
        c
    }

    #[test]
    fn who_may_write_what() {
        assert!(foreign("1").is_foreign());
        assert!(
            Target::of_meta(&meta(vec![owner("SealedSecret", "u", false)], &[], "1")).is_foreign(),
            "an owner that is not the controller"
        );
        assert!(
            Target::of_meta(&meta(vec![owner("Deployment", "d", true)], &[], "1")).is_foreign(),
            "controlled by something else"
        );
        let t = ours("1");
        assert!(!t.is_foreign());
        assert_eq!(t.controller.as_deref(), Some("u"));
        assert!(t.recreated_if_deleted());
        for a in [MANAGED, PATCH, crate::marks::SOURCE_ANNOTATION] {
            let value = if a == MANAGED || a == PATCH {
                "true"
            } else {
                "u:1"
            };
            assert!(
                !Target::of_meta(&meta(vec![], &[(a, value)], "1")).is_foreign(),
                "{a}"
            );
        }
        let patch = Target::of_meta(&meta(vec![], &[(PATCH, "true")], "1"));
        assert!(
            !patch.recreated_if_deleted(),
            "patch-only Secrets are not recreated"
        );
        let unowned_ours = Target::of_meta(&meta(
            vec![],
            &[
                (crate::marks::SOURCE_ANNOTATION, "u:1"),
                (SKIP_SET_OWNER_REFERENCES, "true"),
            ],
            "1",
        ));
        assert!(unowned_ours.recreated_if_deleted());
        assert!(
            !Target::of_meta(&meta(vec![], &[(SKIP_SET_OWNER_REFERENCES, "true")], "1"))
                .recreated_if_deleted()
        );
    }

    #[test]
    fn items_come_from_managed_fields() {
        let mut m = meta(vec![], &[], "1");
        let fields = |v: serde_json::Value| ManagedFieldsEntry {
            fields_v1: Some(FieldsV1(v)),
            ..ManagedFieldsEntry::default()
        };
        m.managed_fields = Some(vec![
            fields(serde_json::json!({"f:data": {"f:b": {}, "f:a": {}}, "f:type": {}})),
            fields(serde_json::json!({"f:data": {"f:a": {}, "f:c": {}}})),
            fields(serde_json::json!({"f:metadata": {"f:labels": {"f:x": {}}}})),
        ]);
        assert_eq!(Target::of_meta(&m).items, ["a", "b", "c"]);
    }

    #[test]
    fn the_stored_form_gives_back_the_same_target() {
        let mut interner = Interner::default();
        let source = crate::marks::SOURCE_ANNOTATION;
        let keys = crate::marks::KEYS_ANNOTATION;
        let mut targets = vec![
            foreign("1"),
            ours("2"),
            // Our source mark with the controller's UID, another UID, and no controller.
            Target::of_meta(&meta(
                vec![owner("SealedSecret", "u", true)],
                &[(source, "u:3"), (keys, "SHA256:a,SHA256:b")],
                "3",
            )),
            Target::of_meta(&meta(
                vec![owner("SealedSecret", "u", true)],
                &[(source, "v:4")],
                "4",
            )),
            Target::of_meta(&meta(
                vec![owner("Deployment", "d", true)],
                &[(source, "u:5"), (MANAGED, "true"), (PATCH, "true")],
                "5",
            )),
            Target::of_meta(&meta(
                vec![],
                &[(source, ":6"), (SKIP_SET_OWNER_REFERENCES, "true")],
                "6",
            )),
        ];
        targets[1].items = vec!["a".into(), "b".into()];
        targets[1].uid = Some("secret-uid".into());
        for t in targets {
            assert_eq!(Stored::of(t.clone(), &mut interner).target(), t);
        }
    }

    #[test]
    fn fingerprints_and_item_names_are_held_once_and_dropped_when_unused() {
        let mut c = synced(None);
        let with = |items: &[&str], rv: &str| {
            let mut t = Target::of_meta(&meta(
                vec![owner("SealedSecret", "u", true)],
                &[(crate::marks::KEYS_ANNOTATION, "SHA256:k")],
                rv,
            ));
            t.items = items.iter().map(|i| i.to_string()).collect();
            t
        };
        for n in 0..100 {
            c.apply(
                None,
                Event::Apply((k(&format!("s{n}")), with(&["a", "b"], "1"))),
            );
        }
        assert_eq!(c.interner.len(), 3, "SHA256:k, a and b");
        let stored = |c: &SecretCache, name: &str| {
            let ns = &c.entries["ns"].known[name];
            (ns.keys[0].clone(), ns.items[0].clone())
        };
        let (k0, a0) = stored(&c, "s0");
        let (k1, a1) = stored(&c, "s99");
        assert!(Arc::ptr_eq(&k0, &k1) && Arc::ptr_eq(&a0, &a1));
        drop((k0, k1, a0, a1));

        // Names no Secret holds any more go in a later sweep; the set stays bounded.
        for n in 0..5 * Interner::SWEEP_AFTER {
            let name = format!("item{n}");
            c.apply(
                None,
                Event::Apply((k("s0"), with(&[&name], &(n + 2).to_string()))),
            );
        }
        assert!(c.interner.len() <= 2 * Interner::SWEEP_AFTER);
        assert!(c.interner.contains("a"), "still held by s1..s99");
        assert_eq!(
            c.lookup("ns", "s0"),
            Lookup::Known(with(
                &[&format!("item{}", 5 * Interner::SWEEP_AFTER - 1)],
                &(5 * Interner::SWEEP_AFTER + 1).to_string()
            ))
        );
    }

    #[test]
    fn lookups_wait_for_the_first_list_of_their_namespace() {
        let mut c = SecretCache::default();
        assert_eq!(c.lookup("ns", "s"), Lookup::NotSynced);
        c.apply(Some("ns"), Event::Init);
        c.apply(Some("ns"), Event::InitApply((k("f"), foreign("1"))));
        assert_eq!(c.lookup("ns", "f"), Lookup::NotSynced);
        c.apply(Some("ns"), Event::InitDone);
        assert_eq!(c.lookup("ns", "f"), Lookup::Foreign);
        assert_eq!(c.lookup("ns", "s"), Lookup::Absent);
        assert_eq!(c.lookup("other", "s"), Lookup::NotSynced);
        assert_eq!(synced(None).lookup("any", "s"), Lookup::Absent);
    }

    #[test]
    fn deletions_of_ours_are_recreated_also_across_a_relist() {
        let mut c = synced(None);
        assert!(c.apply(None, Event::Apply((k("a"), ours("5")))).is_empty());
        assert!(c.apply(None, Event::Apply((k("b"), ours("6")))).is_empty());
        assert!(
            c.apply(None, Event::Apply((k("f"), foreign("7"))))
                .is_empty()
        );
        assert_eq!(c.apply(None, Event::Delete((k("a"), ours("5")))), [k("a")]);
        assert!(
            c.apply(None, Event::Delete((k("f"), foreign("7"))))
                .is_empty()
        );
        // b and g vanished while the watch was down; the re-list only reports c.
        c.apply(None, Event::Apply((k("g"), foreign("8"))));
        c.apply(None, Event::Init);
        c.apply(None, Event::InitApply((k("c"), ours("9"))));
        assert_eq!(
            c.lookup("ns", "b"),
            Lookup::Known(ours("6")),
            "until the list ends"
        );
        assert_eq!(c.apply(None, Event::InitDone), [k("b")]);
        assert_eq!(c.lookup("ns", "g"), Lookup::Absent);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn a_relist_of_one_namespace_leaves_the_others() {
        let mut c = SecretCache::default();
        for ns in ["a", "b"] {
            c.apply(Some(ns), Event::Init);
            c.apply(
                Some(ns),
                Event::InitApply(((ns.to_owned(), "s".to_owned()), ours("1"))),
            );
            c.apply(Some(ns), Event::InitDone);
        }
        c.apply(Some("a"), Event::Init);
        assert!(c.apply(Some("a"), Event::InitDone).len() == 1);
        assert_eq!(c.lookup("a", "s"), Lookup::Absent);
        assert_eq!(c.lookup("b", "s"), Lookup::Known(ours("1")));
    }

    #[test]
    fn older_events_do_not_undo_our_writes() {
        let mut c = synced(None);
        c.wrote(k("a"), ours("10"));
        c.apply(None, Event::Apply((k("a"), ours("9"))));
        assert_eq!(c.lookup("ns", "a"), Lookup::Known(ours("10")));
        assert!(c.apply(None, Event::Delete((k("a"), ours("8")))).is_empty());
        assert_eq!(c.lookup("ns", "a"), Lookup::Known(ours("10")));
        c.apply(None, Event::Apply((k("a"), ours("11"))));
        assert_eq!(c.lookup("ns", "a"), Lookup::Known(ours("11")));
        // A stale answer does not replace a newer event either.
        c.wrote(k("a"), ours("10"));
        assert_eq!(c.lookup("ns", "a"), Lookup::Known(ours("11")));
    }

    #[test]
    fn someone_elses_secret_deleted_before_the_first_look_blocks_that_generation() {
        let generation = ("u".to_owned(), 1);
        let mut c = synced(None);
        c.apply(None, Event::Apply((k("s"), foreign("3"))));
        c.sealed_seen(k("s"), generation.clone(), false);
        c.apply(None, Event::Delete((k("s"), foreign("3"))));
        assert_eq!(c.lookup("ns", "s"), Lookup::Absent);
        assert!(c.blocked(&k("s"), &generation));
        // A new generation is decided afresh.
        c.sealed_seen(k("s"), ("u".to_owned(), 2), false);
        assert!(!c.blocked(&k("s"), &generation));

        // patch-only Secrets block too; managed ones are taken over, so not.
        for (annotation, blocks) in [(PATCH, true), (MANAGED, false)] {
            let mut c = synced(None);
            let open = Target::of_meta(&meta(vec![], &[(annotation, "true")], "3"));
            c.sealed_seen(k("s"), generation.clone(), false);
            c.apply(None, Event::Delete((k("s"), open)));
            assert_eq!(c.blocked(&k("s"), &generation), blocks, "{annotation}");
        }

        // Once looked at, a later deletion decides nothing.
        let mut c = synced(None);
        c.sealed_seen(k("s"), generation.clone(), false);
        c.reconciled(&k("s"), &generation);
        c.apply(None, Event::Delete((k("s"), foreign("3"))));
        assert!(!c.blocked(&k("s"), &generation));
        // A status already on this generation counts as looked at (after a restart).
        c.sealed_seen(k("s"), generation.clone(), true);
        c.apply(None, Event::Delete((k("s"), foreign("4"))));
        assert!(!c.blocked(&k("s"), &generation));
    }

    #[test]
    fn a_block_ends_with_the_sealed_secret_or_a_takeover_annotation() {
        let generation = ("u".to_owned(), 1);
        let mut c = synced(None);
        c.block(k("s"), generation.clone());
        c.sealed_seen(k("s"), generation.clone(), true);
        assert!(
            c.blocked(&k("s"), &generation),
            "the same generation stays blocked"
        );
        c.sealed_gone(&k("s"));
        assert!(!c.blocked(&k("s"), &generation));

        c.apply(None, Event::Apply((k("s"), foreign("3"))));
        c.block(k("s"), generation.clone());
        let managed = Target::of_meta(&meta(vec![], &[(MANAGED, "true")], "4"));
        // Annotated for a takeover: its SealedSecret is woken, and no longer blocked.
        assert_eq!(c.apply(None, Event::Apply((k("s"), managed))), [k("s")]);
        assert!(!c.blocked(&k("s"), &generation));
    }
}
