//! The status the controller writes: the reference's `Synced` condition (Argo CD's health check
//! reads it), a `Ready` condition and `observedGeneration` (Flux kstatus). Pure.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use shared::resource::{SealedSecretCondition, SealedSecretStatus};

/// The result of one reconcile, as the status shows it.
pub struct Outcome<'a> {
    pub ok: bool,
    pub reason: &'a str,
    pub message: String,
}

fn condition(
    type_: &str,
    outcome: &Outcome<'_>,
    previous: Option<&SealedSecretCondition>,
    now: &Time,
) -> SealedSecretCondition {
    let status = if outcome.ok { "True" } else { "False" };
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
        // The reference leaves the message empty on success; tools show it as-is.
        message: if outcome.ok {
            None
        } else {
            Some(outcome.message.clone())
        },
    }
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
    let synced = condition("Synced", outcome, find("Synced"), now);
    let ready = condition("Ready", outcome, find("Ready"), now);
    let same = |new: &SealedSecretCondition, old: Option<&SealedSecretCondition>| {
        old.is_some_and(|o| {
            o.status == new.status && o.message == new.message && o.reason == new.reason
        })
    };
    let unchanged = current.is_some_and(|c| c.observed_generation == generation)
        && same(&synced, find("Synced"))
        && same(&ready, find("Ready"))
        && current
            .is_some_and(|c| c.conditions.first().map(|c| c.type_.as_str()) == Some("Synced"));
    if unchanged {
        return None;
    }
    // Synced first: the CRD's printer columns read conditions[0].
    Some(SealedSecretStatus {
        observed_generation: generation,
        conditions: vec![synced, ready],
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
            reason: "Unsealed",
            message: String::new(),
        }
    }

    fn failed(message: &str) -> Outcome<'static> {
        Outcome {
            ok: false,
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
}
