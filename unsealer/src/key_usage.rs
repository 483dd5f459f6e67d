//! Which sealing keys each SealedSecret needs: the fingerprints of the keys that opened its
//! items when it was last unsealed (or recorded on its Secret when it was skipped as current).
//! What an admin needs before retiring a key (its count must be 0) and after a key leaks (the
//! objects that depended on it). Pure bookkeeping; the reconcile feeds it, metrics read it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::interner::Interner;

/// A SealedSecret, by namespace and name.
pub type ObjectKey = (String, String);

/// The fingerprints that opened one object, sorted. Each is shared with every other object
/// it opened: a cluster has a handful of keys and thousands of objects, and a set per object
/// of its own strings cost about 350 bytes each (a B-tree node and a 64-byte string).
type Fingerprints = Box<[Arc<str>]>;

#[derive(Debug, Default)]
pub struct KeyUsage {
    by_object: HashMap<ObjectKey, Fingerprints>,
    /// One copy of each fingerprint some object needs.
    interned: Interner,
    /// Whether the counts are complete: every SealedSecret of the first lists reconciled.
    start: Start,
}

/// How far the counting has come since this replica began reconciling.
#[derive(Debug, Default)]
enum Start {
    /// Not reconciling (a follower): the counts are not known.
    #[default]
    Idle,
    /// Reconciling: waiting for `lists_left` first lists, then for the objects they listed.
    Counting {
        lists_left: usize,
        reconciled: HashSet<ObjectKey>,
        unreconciled: HashSet<ObjectKey>,
    },
    Complete,
}

impl KeyUsage {
    /// Reconciling begins with `lists` watches of SealedSecrets.
    pub fn begin(&mut self, lists: usize) {
        self.start = if lists == 0 {
            Start::Complete
        } else {
            Start::Counting {
                lists_left: lists,
                reconciled: HashSet::new(),
                unreconciled: HashSet::new(),
            }
        };
    }

    /// A watch's first list is done: these objects must be reconciled before the counts are
    /// complete.
    pub fn first_list_done(&mut self, listed: &HashSet<ObjectKey>) {
        if let Start::Counting {
            lists_left,
            reconciled,
            unreconciled,
        } = &mut self.start
        {
            unreconciled.extend(listed.iter().filter(|k| !reconciled.contains(*k)).cloned());
            *lists_left = lists_left.saturating_sub(1);
            self.settle();
        }
    }

    /// A reconcile of `object` ended, whatever its outcome.
    pub fn reconciled(&mut self, object: &ObjectKey) {
        if let Start::Counting {
            reconciled,
            unreconciled,
            ..
        } = &mut self.start
        {
            unreconciled.remove(object);
            reconciled.insert(object.clone());
            self.settle();
        }
    }

    fn settle(&mut self) {
        if let Start::Counting {
            lists_left: 0,
            unreconciled,
            ..
        } = &self.start
            && unreconciled.is_empty()
        {
            self.start = Start::Complete;
        }
    }

    /// Whether every SealedSecret has been looked at since reconciling began, so that
    /// [`KeyUsage::counts`] is the whole truth.
    pub fn complete(&self) -> bool {
        matches!(self.start, Start::Complete)
    }

    /// The keys that opened `object` (replacing what was known). An empty set (a failed
    /// unseal) forgets the object: it needs no key that is known to open it.
    pub fn record(&mut self, object: ObjectKey, fingerprints: BTreeSet<String>) {
        let dropped = if fingerprints.is_empty() {
            self.by_object.remove(&object)
        } else {
            let shared = fingerprints
                .iter()
                .map(|fp| self.interned.get(fp))
                .collect();
            self.by_object.insert(object, shared)
        };
        self.release(dropped);
    }

    /// The SealedSecret was deleted.
    pub fn forget(&mut self, object: &ObjectKey) {
        let dropped = self.by_object.remove(object);
        self.release(dropped);
    }

    /// Lets go of the fingerprints of `dropped` that no object needs any more, so that the
    /// interned set follows the objects (a fingerprint can come from a Secret's annotation).
    /// Only those of `dropped` are looked at, not the whole set: annotations could make it as
    /// large as the objects.
    fn release(&mut self, dropped: Option<Fingerprints>) {
        for fp in dropped.into_iter().flatten() {
            self.interned.release(&fp);
        }
    }

    /// After a relist of `namespace` (all namespaces when `None`): objects that are no longer
    /// there were deleted while the watch was away.
    pub fn relisted(&mut self, namespace: Option<&str>, present: &HashSet<ObjectKey>) {
        self.by_object
            .retain(|key, _| namespace.is_some_and(|ns| key.0 != ns) || present.contains(key));
        self.interned.sweep();
    }

    /// How many objects need each key, for every key in `ring` (0 when none does) and every
    /// recorded key, by fingerprint.
    pub fn counts<'a>(&self, ring: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, u64> {
        let mut counts: BTreeMap<String, u64> =
            ring.into_iter().map(|fp| (fp.to_owned(), 0)).collect();
        let mut tally: HashMap<&str, u64> = HashMap::new();
        for fp in self.by_object.values().flatten() {
            *tally.entry(fp).or_default() += 1;
        }
        for (fp, n) in tally {
            *counts.entry(fp.to_owned()).or_default() += n;
        }
        counts
    }

    /// How many objects need some key that is not among `active`: what must be re-encrypted
    /// before those keys are gone.
    pub fn needing_inactive<'a>(&self, active: impl IntoIterator<Item = &'a str>) -> u64 {
        let active: HashSet<&str> = active.into_iter().collect();
        self.by_object
            .values()
            .filter(|fps| fps.iter().any(|fp| !active.contains(&**fp)))
            .count() as u64
    }

    /// The objects that need the key with this fingerprint, sorted.
    pub fn objects_needing(&self, fingerprint: &str) -> Vec<ObjectKey> {
        let mut objects: Vec<ObjectKey> = self
            .by_object
            .iter()
            .filter(|(_, fps)| fps.iter().any(|fp| &**fp == fingerprint))
            .map(|(k, _)| k.clone())
            .collect();
        objects.sort();
        objects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ns: &str, name: &str) -> ObjectKey {
        (ns.to_owned(), name.to_owned())
    }

    fn fps(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn counts_are_complete_once_every_listed_object_was_reconciled() {
        let mut u = KeyUsage::default();
        assert!(!u.complete(), "a follower does not know");
        u.begin(2);
        u.reconciled(&key("a", "early"));
        u.first_list_done(&[key("a", "early"), key("a", "x")].into());
        assert!(!u.complete());
        u.reconciled(&key("a", "x"));
        assert!(!u.complete(), "one list still to come");
        u.first_list_done(&[key("b", "y")].into());
        u.reconciled(&key("b", "y"));
        assert!(u.complete());
        u.begin(1);
        assert!(!u.complete(), "a new leadership counts again");
    }

    #[test]
    fn counts_follow_records_deletions_and_relists() {
        let mut u = KeyUsage::default();
        u.record(key("a", "x"), fps(&["A"]));
        u.record(key("a", "y"), fps(&["A", "B"]));
        u.record(key("b", "z"), fps(&["B"]));
        let counts = u.counts(["A", "B", "C"]);
        assert_eq!(
            counts,
            [("A", 2), ("B", 2), ("C", 0)]
                .map(|(k, v)| (k.to_owned(), v))
                .into()
        );
        // Re-encrypted to C: A is needed by one object less.
        u.record(key("a", "x"), fps(&["C"]));
        assert_eq!(u.counts(["A"])["A"], 1);
        assert_eq!(u.objects_needing("B"), [key("a", "y"), key("b", "z")]);
        u.forget(&key("a", "y"));
        assert_eq!(u.counts(["A"])["A"], 0);
        // A failed unseal: the object opens with no key.
        u.record(key("a", "x"), BTreeSet::new());
        assert_eq!(u.counts(["C"])["C"], 0);
        // A relist of namespace a that no longer has b's objects keeps them (another watch);
        // one of all namespaces drops what is gone.
        u.relisted(Some("a"), &HashSet::new());
        assert_eq!(u.counts(["B"])["B"], 1);
        u.relisted(None, &HashSet::new());
        assert_eq!(u.counts(["B"])["B"], 0);
        // A key that no longer exists still shows while an object needs it.
        u.record(key("a", "w"), fps(&["OLD"]));
        assert_eq!(u.counts(["A"]).get("OLD"), Some(&1));
        assert_eq!(u.needing_inactive(["A"]), 1);
        assert_eq!(u.needing_inactive(["OLD"]), 0);
    }

    #[test]
    fn each_fingerprint_is_kept_once_and_only_while_an_object_needs_it() {
        let mut u = KeyUsage::default();
        for i in 0..100 {
            u.record(key("a", &format!("o{i}")), fps(&["A", "B"]));
        }
        assert_eq!(u.interned.len(), 2);
        let a = u.by_object[&key("a", "o0")][0].clone();
        assert!(Arc::ptr_eq(&a, &u.by_object[&key("a", "o99")][0]));
        drop(a);
        // Re-encrypted, one by one, to C: A and B go once the last object no longer needs them.
        for i in 0..99 {
            u.record(key("a", &format!("o{i}")), fps(&["C"]));
        }
        assert_eq!(u.interned.len(), 3);
        u.record(key("a", "o99"), fps(&["C"]));
        assert_eq!(u.interned.len(), 1);
        // Fingerprints that come and go (say, a Secret's annotation edited again and again)
        // do not pile up.
        for i in 0..50 {
            u.record(key("b", "x"), fps(&[&format!("junk{i}")]));
        }
        assert_eq!(u.interned.len(), 2);
        u.forget(&key("b", "x"));
        u.relisted(Some("a"), &HashSet::new());
        assert_eq!(u.interned.len(), 0);
        assert_eq!(u.counts(["C"])["C"], 0);
    }
}
