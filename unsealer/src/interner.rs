//! One shared copy of each string that many cached objects repeat: key fingerprints and item
//! names. A cluster has a handful of keys and thousands of objects, and an owned string per
//! object costs 50–100 bytes where a shared one costs a pointer.
//!
//! Copies nothing holds any more go two ways: [`Interner::release`] drops one at once when the
//! caller knows it let go of a string, and a sweep in [`Interner::get`] drops the rest once as
//! many new strings came as the last sweep kept. So the set stays within about twice what is in
//! use, at a constant cost per string, even for a user who lets strings go without saying so.

use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Interner {
    strings: HashSet<Arc<str>>,
    /// New strings since the last sweep, and how many that sweep kept.
    added: usize,
    kept: usize,
}

impl Interner {
    /// Sweeps never run more often than once in this many new strings.
    pub const SWEEP_AFTER: usize = 1024;

    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.strings.get(s) {
            return shared.clone();
        }
        self.added += 1;
        if self.added > self.kept.max(Self::SWEEP_AFTER) {
            self.sweep();
        }
        let shared: Arc<str> = s.into();
        self.strings.insert(shared.clone());
        shared
    }

    /// The caller is about to drop `s`: if only it and the set hold it, it goes now.
    pub fn release(&mut self, s: &Arc<str>) {
        if Arc::strong_count(s) == 2 && self.strings.get(s).is_some_and(|x| Arc::ptr_eq(x, s)) {
            self.strings.remove(s);
        }
    }

    /// Drops every copy only the set holds.
    pub fn sweep(&mut self) {
        self.strings.retain(|s| Arc::strong_count(s) > 1);
        self.added = 0;
        self.kept = self.strings.len();
    }

    /// Distinct strings held.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    pub fn contains(&self, s: &str) -> bool {
        self.strings.contains(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_string_and_released_ones_go_at_once() {
        let mut i = Interner::default();
        let a = i.get("a");
        let a2 = i.get("a");
        assert!(Arc::ptr_eq(&a, &a2));
        assert_eq!(i.len(), 1);
        drop(a2);
        i.release(&a);
        assert!(i.is_empty(), "only the caller and the set held it");
        // Released while someone else still holds it: kept.
        let b = i.get("b");
        let b2 = b.clone();
        i.release(&b);
        assert!(i.contains("b"));
        drop(b2);
        // A copy equal in content but not the set's own is not a reason to drop the set's.
        let foreign: Arc<str> = "b".into();
        let _kept = foreign.clone();
        i.release(&foreign);
        assert!(i.contains("b"));
    }

    #[test]
    fn strings_dropped_without_release_are_swept_and_the_set_stays_bounded() {
        let mut i = Interner::default();
        let held = i.get("held");
        for n in 0..10 * Interner::SWEEP_AFTER {
            drop(i.get(&n.to_string()));
            assert!(
                i.len() <= 2 * Interner::SWEEP_AFTER + 1,
                "{} at {n}",
                i.len()
            );
        }
        assert!(i.contains("held"));
        i.sweep();
        assert_eq!(i.len(), 1);
        drop(held);
        i.sweep();
        assert!(i.is_empty());
    }
}
