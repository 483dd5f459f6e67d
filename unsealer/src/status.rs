//! The status the controller writes, pure:
//! - `Synced`, as the reference writes it (Argo CD's health check reads it; `conditions[0]`,
//!   which the printer columns show);
//! - `Ready`, the same outcome under the name most tools look for;
//! - `Stalled` (True for a failure that no retry will cure: wrong key or scope, malformed data,
//!   a foreign or immutable Secret) and `Reconciling` (True while a failure is being retried),
//!   which Flux's kstatus reads: Stalled gives Failed, so `wait: true` fails at once with the
//!   message instead of timing out; Reconciling gives InProgress;
//! - `observedGeneration`, so that a new generation reads as in progress until it is worked on.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use shared::resource::{SealedSecretCondition, SealedSecretStatus};

/// The result of one reconcile, as the status shows it.
pub struct Outcome<'a> {
    pub ok: bool,
    /// A failure that is not retried on a timer: only a change of the object or the keys can
    /// cure it.
    pub permanent: bool,
    pub reason: &'a str,
    pub message: String,
}

fn condition(
    type_: &str,
    holds: bool,
    outcome: &Outcome<'_>,
    previous: Option<&SealedSecretCondition>,
    now: &Time,
) -> SealedSecretCondition {
    let status = if holds { "True" } else { "False" };
    let transition = match previous {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => Some(now.clone()),
    };
    SealedSecretCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        last_update_time: Some(now.clone()),
        last_transition_time: transition,
        reason: Some(outcome.reason.to_owned()),
        // The reference leaves the message empty on success; tools show it as-is. Stalled and
        // Reconciling carry it only when they hold.
        message: if outcome.ok || (!holds && matches!(type_, "Stalled" | "Reconciling")) {
            None
        } else {
            Some(outcome.message.clone())
        },
    }
}

/// Whether `current` reports generation `generation` unsealed (Synced, True).
pub fn is_synced(current: Option<&SealedSecretStatus>, generation: Option<i64>) -> bool {
    current.is_some_and(|s| {
        s.observed_generation.is_some()
            && s.observed_generation == generation
            && s.conditions
                .iter()
                .any(|c| c.type_ == "Synced" && c.status == "True")
    })
}

/// The new status, or `None` if the current one already says the same (so a reconcile that
/// changes nothing writes nothing, and status writes cannot feed a loop).
pub fn next(
    current: Option<&SealedSecretStatus>,
    generation: Option<i64>,
    outcome: &Outcome<'_>,
    now: &Time,
) -> Option<SealedSecretStatus> {
    let find = |t: &str| current.and_then(|s| s.conditions.iter().find(|c| c.type_ == t));
    let failed = !outcome.ok;
    let synced = condition("Synced", outcome.ok, outcome, find("Synced"), now);
    let ready = condition("Ready", outcome.ok, outcome, find("Ready"), now);
    let stalled = condition(
        "Stalled",
        failed && outcome.permanent,
        outcome,
        find("Stalled"),
        now,
    );
    let reconciling = condition(
        "Reconciling",
        failed && !outcome.permanent,
        outcome,
        find("Reconciling"),
        now,
    );
    let same = |new: &SealedSecretCondition, old: Option<&SealedSecretCondition>| {
        old.is_some_and(|o| {
            o.status == new.status && o.message == new.message && o.reason == new.reason
        })
    };
    let unchanged = current.is_some_and(|c| c.observed_generation == generation)
        && same(&synced, find("Synced"))
        && same(&ready, find("Ready"))
        && same(&stalled, find("Stalled"))
        && same(&reconciling, find("Reconciling"))
        && current
            .is_some_and(|c| c.conditions.first().map(|c| c.type_.as_str()) == Some("Synced"));
    if unchanged {
        return None;
    }
    // Synced first: the CRD's printer columns read conditions[0].
    Some(SealedSecretStatus {
        observed_generation: generation,
        conditions: vec![synced, ready, stalled, reconciling],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn at(secs: i64) -> Time {
        Time(Timestamp::from_second(secs).unwrap())
    }

    fn ok() -> Outcome<'static> {
        Outcome {
            ok: true,
            permanent: false,
            reason: "Unsealed",
            message: String::new(),
        }
    }

    fn failed(message: &str) -> Outcome<'static> {
        Outcome {
            ok: false,
            permanent: true,
            reason: "UnsealFailed",
            message: message.to_owned(),
        }
    }

    #[test]
    fn first_write_then_nothing_until_a_change() {
        let s1 = next(None, Some(1), &ok(), &at(10)).unwrap();
        assert_eq!(s1.conditions[0].type_, "Synced");
        assert_eq!(s1.conditions[0].status, "True");
        assert_eq!(s1.conditions[1].type_, "Ready");
        assert_eq!(s1.observed_generation, Some(1));
        assert!(next(Some(&s1), Some(1), &ok(), &at(20)).is_none());
        // A new generation is written even when still successful.
        let s2 = next(Some(&s1), Some(2), &ok(), &at(30)).unwrap();
        assert_eq!(s2.conditions[0].last_transition_time, Some(at(10)));
        assert_eq!(s2.conditions[0].last_update_time, Some(at(30)));
    }

    #[test]
    fn failure_then_success_clears_the_error() {
        let bad = next(
            None,
            Some(1),
            &failed("no key could decrypt secret (a)"),
            &at(10),
        )
        .unwrap();
        assert_eq!(bad.conditions[0].status, "False");
        // A different error message with the same status is still written (the reference drops it).
        let worse = next(Some(&bad), Some(1), &failed("other"), &at(15)).unwrap();
        assert_eq!(worse.conditions[0].message.as_deref(), Some("other"));
        assert_eq!(worse.conditions[0].last_transition_time, Some(at(10)));
        let good = next(Some(&worse), Some(2), &ok(), &at(20)).unwrap();
        assert_eq!(good.conditions[0].status, "True");
        assert_eq!(good.conditions[0].message, None);
        assert_eq!(good.conditions[0].last_transition_time, Some(at(20)));
    }

    fn find<'a>(s: &'a SealedSecretStatus, t: &str) -> &'a SealedSecretCondition {
        s.conditions.iter().find(|c| c.type_ == t).unwrap()
    }

    /// kstatus reads Stalled (Failed) and Reconciling (InProgress); Argo CD reads Synced.
    #[test]
    fn stalled_for_permanent_failures_reconciling_for_retried_ones() {
        let permanent = next(None, Some(1), &failed("wrong key"), &at(10)).unwrap();
        assert_eq!(find(&permanent, "Stalled").status, "True");
        assert_eq!(
            find(&permanent, "Stalled").message.as_deref(),
            Some("wrong key")
        );
        assert_eq!(find(&permanent, "Reconciling").status, "False");
        assert_eq!(find(&permanent, "Reconciling").message, None);
        let retried = Outcome {
            permanent: false,
            ..failed("API server unavailable")
        };
        let retrying = next(Some(&permanent), Some(1), &retried, &at(20)).unwrap();
        assert_eq!(find(&retrying, "Stalled").status, "False");
        assert_eq!(find(&retrying, "Reconciling").status, "True");
        assert_eq!(find(&retrying, "Synced").status, "False");
        assert!(next(Some(&retrying), Some(1), &retried, &at(30)).is_none());
        let good = next(Some(&retrying), Some(2), &ok(), &at(40)).unwrap();
        for t in ["Stalled", "Reconciling"] {
            assert_eq!(find(&good, t).status, "False", "{t}");
            assert_eq!(find(&good, t).message, None, "{t}");
        }
        assert_eq!(good.conditions[0].type_, "Synced");
    }
}
