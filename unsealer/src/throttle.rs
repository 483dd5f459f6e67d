//! Log lines at a bounded rate: during an API server outage every watch and every in-flight
//! reconcile fails again and again, and one line each would write megabytes a minute.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lets one line through per `interval`, and counts the ones it held back.
pub struct Throttle {
    interval: Duration,
    state: Mutex<State>,
}

struct State {
    last: Option<Instant>,
    held_back: u64,
}

impl Throttle {
    pub const fn new(interval: Duration) -> Throttle {
        Throttle {
            interval,
            state: Mutex::new(State {
                last: None,
                held_back: 0,
            }),
        }
    }

    /// `Some(n)` when a line may be written now, `n` being how many were held back since the
    /// last one; `None` when this one is to be held back.
    pub fn admit(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match state.last {
            Some(last) if now.duration_since(last) < self.interval => {
                state.held_back += 1;
                None
            }
            _ => {
                state.last = Some(now);
                Some(std::mem::take(&mut state.held_back))
            }
        }
    }

    /// Forgets the last line, so the next failure after a recovery is logged at once.
    pub fn reset(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_a_count() {
        let t = Throttle::new(Duration::from_secs(30));
        let t0 = Instant::now();
        assert_eq!(t.admit(t0), Some(0));
        for s in 1..30 {
            assert_eq!(t.admit(t0 + Duration::from_secs(s)), None);
        }
        assert_eq!(t.admit(t0 + Duration::from_secs(30)), Some(29));
        assert_eq!(t.admit(t0 + Duration::from_secs(31)), None);
        t.reset();
        assert_eq!(t.admit(t0 + Duration::from_secs(32)), Some(1));
    }
}
