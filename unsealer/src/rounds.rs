//! When objects that had no event are looked at again: the hourly resync round, and the round
//! after a change of the keys. Both walk the store as it was when the round began: an object
//! deleted since is not found in the store, and the controller passes over it.
//!
//! Neither hands kube's scheduler more than a few objects at a time. It keeps about 650 bytes
//! for each object it holds (13 MiB at 20,000), and its queue does not shrink afterwards, so
//! a requeue per object, or every object at once on each key change (what kube's
//! `reconcile_all_on` does), would cost that much for the rest of the process's life.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::guard::Guarded;

/// How often each object is looked at again, as a safety net for missed deletions.
pub const RESYNC: Duration = Duration::from_secs(3600);

/// The gap between two objects of a resync round over `objects`: the round takes [`RESYNC`].
fn resync_pace(objects: usize) -> Duration {
    RESYNC / u32::try_from(objects.max(1)).unwrap_or(u32::MAX)
}

/// Every object in the store once per [`RESYNC`], one at a time, spread over it. The first
/// round starts an hour in: the first sync has just looked at everything.
pub fn resync(store: Store<Guarded>) -> impl Stream<Item = ObjectRef<Guarded>> + Send + 'static {
    let first = (store, Vec::<Arc<Guarded>>::new(), RESYNC);
    futures::stream::unfold(first, |(store, mut due, mut pace)| async move {
        loop {
            tokio::time::sleep(pace).await;
            if due.is_empty() {
                due = store.state();
                pace = resync_pace(due.len());
            }
            if let Some(obj) = due.pop() {
                return Some((ObjectRef::from_obj(&*obj), (store, due, pace)));
            }
        }
    })
}

/// Objects of a key round handed on and not yet started. A full window must last a whole
/// poll at the fastest rate seen: about 14,000 current objects a second (20,000 all at once in
/// 1.4 s) is 70 per poll, and 64 held a round of 20,000 to 2.6 s. 256 leaves room for a faster
/// machine; kube's scheduler holds a few hundred bytes per object in hand.
const KEY_ROUND_WINDOW: u64 = 256;

/// How often a full window looks whether reconciles have started.
const KEY_ROUND_POLL: Duration = Duration::from_millis(5);

/// After this long without a reconcile starting, one more object is handed on anyway. An
/// object the scheduler already held (a watch event came first) starts once for two hand-ons,
/// so without this the window would close a little with each such object.
const KEY_ROUND_STALL: Duration = Duration::from_secs(1);

/// After each change of the keys (a version of `versions`), every object in the store once: an
/// object that failed may open now, and one whose key left the ring is warned about. Those not
/// Synced come first. The round goes as fast as the controller starts reconciles (`started`:
/// how many it has started so far), at most [`KEY_ROUND_WINDOW`] ahead of them. A change during
/// a round starts a new one. The stream ends with `versions`'s sender.
pub fn key_rounds(
    store: Store<Guarded>,
    versions: watch::Receiver<u64>,
    started: impl Fn() -> u64 + Send + 'static,
) -> impl Stream<Item = ObjectRef<Guarded>> + Send + 'static {
    let round = KeyRound {
        store,
        versions,
        started,
        due: Vec::new(),
        baseline: 0,
        handed_on: 0,
        full_since: None,
    };
    futures::stream::unfold(round, |mut round| async move {
        let obj = round.next().await?;
        Some((ObjectRef::from_obj(&*obj), round))
    })
}

struct KeyRound<F> {
    store: Store<Guarded>,
    versions: watch::Receiver<u64>,
    started: F,
    /// What is left of the round, the next at the end.
    due: Vec<Arc<Guarded>>,
    /// `started` when the round began, less one for each stall.
    baseline: u64,
    handed_on: u64,
    /// Since when the window has been full.
    full_since: Option<Instant>,
}

impl<F: Fn() -> u64> KeyRound<F> {
    fn begin(&mut self) {
        self.versions.borrow_and_update();
        self.due = self.store.state();
        // Sorted ascending and taken from the end: the objects not Synced go first.
        self.due
            .sort_by_key(|o| !crate::status::is_synced(o.status(), o.metadata.generation));
        self.baseline = (self.started)();
        self.handed_on = 0;
        self.full_since = None;
    }

    async fn next(&mut self) -> Option<Arc<Guarded>> {
        loop {
            if self.due.is_empty() {
                self.versions.changed().await.ok()?;
                self.begin();
                continue;
            }
            if self.versions.has_changed().unwrap_or(false) {
                self.begin();
            }
            let started = (self.started)().saturating_sub(self.baseline);
            if self.handed_on.saturating_sub(started) >= KEY_ROUND_WINDOW {
                let since = *self.full_since.get_or_insert_with(Instant::now);
                if since.elapsed() < KEY_ROUND_STALL {
                    tokio::time::sleep(KEY_ROUND_POLL).await;
                    continue;
                }
                self.baseline = self.baseline.saturating_sub(1);
            }
            self.full_since = None;
            self.handed_on += 1;
            return self.due.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use futures::StreamExt as _;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use kube::runtime::watcher::Event;
    use shared::resource::{SealedSecretCondition, SealedSecretStatus};

    use super::*;

    fn sealed(name: &str, synced: bool) -> Guarded {
        let status = synced.then(|| SealedSecretStatus {
            observed_generation: Some(1),
            conditions: vec![SealedSecretCondition {
                type_: "Synced".into(),
                status: "True".into(),
                ..Default::default()
            }],
        });
        Guarded {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                generation: Some(1),
                ..Default::default()
            },
            status,
            spec: crate::guard::Spec::Sealed(None),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_resync_round_looks_at_each_object_once_an_hour_spread_over_it() {
        let (reader, mut writer) = kube::runtime::reflector::store::<Guarded>();
        for name in ["a", "b", "c", "d"] {
            writer.apply_watcher_event(&Event::Apply(sealed(name, true)));
        }
        let start = Instant::now();
        let mut rounds = std::pin::pin!(resync(reader));
        let mut seen = Vec::new();
        for _ in 0..8 {
            let r = rounds.next().await.unwrap();
            seen.push((r.name.clone(), start.elapsed()));
            if seen.len() == 4 {
                // Deleted mid-way and a new one: the next round has the store as it is then.
                writer.apply_watcher_event(&Event::Delete(sealed("a", true)));
                writer.apply_watcher_event(&Event::Apply(sealed("e", true)));
            }
        }
        let names = |r: &[(String, Duration)]| {
            let mut n: Vec<String> = r.iter().map(|(n, _)| n.clone()).collect();
            n.sort();
            n
        };
        assert_eq!(names(&seen[..4]), ["a", "b", "c", "d"]);
        assert_eq!(names(&seen[4..]), ["b", "c", "d", "e"]);
        // Nothing in the first hour (the first sync has just looked at everything), then one
        // object every quarter of an hour.
        let quarter = RESYNC / 4;
        let times: Vec<Duration> = seen.iter().map(|(_, t)| *t).collect();
        assert_eq!(times[0], RESYNC);
        for pair in times.windows(2) {
            assert_eq!(pair[1] - pair[0], quarter);
        }
    }

    #[test]
    fn the_pace_spreads_a_round_over_the_hour() {
        assert_eq!(resync_pace(0), RESYNC);
        assert_eq!(resync_pace(1), RESYNC);
        assert_eq!(resync_pace(20_000), Duration::from_millis(180));
    }

    /// The next name the stream hands on within `wait`, if any.
    async fn within(
        rounds: &mut (impl Stream<Item = ObjectRef<Guarded>> + Unpin),
        wait: Duration,
    ) -> Option<String> {
        tokio::time::timeout(wait, rounds.next())
            .await
            .ok()
            .flatten()
            .map(|r| r.name)
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_change_looks_at_every_object_unsynced_first_a_window_ahead_of_the_reconciles() {
        let window = usize::try_from(KEY_ROUND_WINDOW).unwrap();
        let (reader, mut writer) = kube::runtime::reflector::store::<Guarded>();
        let total = window + 10;
        for i in 0..total {
            // Two objects not Synced, among the others.
            let synced = i != 7 && i != 40;
            writer.apply_watcher_event(&Event::Apply(sealed(&format!("o-{i:02}"), synced)));
        }
        let (keys, versions) = watch::channel(0u64);
        let started = Arc::new(AtomicU64::new(0));
        let count = started.clone();
        let mut rounds = Box::pin(key_rounds(reader, versions, move || {
            count.load(Ordering::Relaxed)
        }));

        // No change of the keys, nothing to look at.
        assert_eq!(within(&mut rounds, RESYNC).await, None);

        keys.send_replace(1);
        let mut first = Vec::new();
        for _ in 0..window {
            first.push(
                within(&mut rounds, Duration::ZERO)
                    .await
                    .expect("a window at once"),
            );
        }
        assert_eq!(
            {
                let mut unsynced = first[..2].to_vec();
                unsynced.sort();
                unsynced
            },
            ["o-07", "o-40"]
        );
        // The window is full: nothing more until reconciles start, or a stall.
        assert_eq!(within(&mut rounds, KEY_ROUND_STALL / 2).await, None);
        started.fetch_add(3, Ordering::Relaxed);
        for _ in 0..3 {
            first.push(
                within(&mut rounds, KEY_ROUND_POLL)
                    .await
                    .expect("one for each start"),
            );
        }
        assert_eq!(within(&mut rounds, KEY_ROUND_STALL / 4).await, None);
        // No start for a second: one more anyway.
        first.push(
            within(&mut rounds, KEY_ROUND_STALL)
                .await
                .expect("one after a stall"),
        );

        // A change mid-round starts a new round with the whole store, the unsynced first.
        writer.apply_watcher_event(&Event::Apply(sealed("new", false)));
        keys.send_replace(2);
        let mut second = Vec::new();
        while let Some(name) = within(&mut rounds, KEY_ROUND_POLL).await {
            second.push(name);
            started.fetch_add(1, Ordering::Relaxed);
        }
        let mut heads = second[..3].to_vec();
        heads.sort();
        assert_eq!(heads, ["new", "o-07", "o-40"]);
        assert_eq!(second.len(), total + 1);
        second.sort();
        second.dedup();
        assert_eq!(second.len(), total + 1, "each object once");

        // The round is over; the stream ends with the keys' sender.
        drop(keys);
        assert_eq!(rounds.next().await.map(|r| r.name), None);
    }
}
