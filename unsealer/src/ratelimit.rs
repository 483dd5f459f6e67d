//! Per-client rate limiting of `/v1/verify` and `/v1/rotate` (`--rate-limit`,
//! `--rate-limit-burst`): GCRA, as the reference's `throttled`, keyed by path and client.
//!
//! The client is the **last** `X-Forwarded-For` entry, else the peer's IP address. Users reach
//! the controller through the API server's service proxy, which appends the address it saw:
//! the last entry is the one a client cannot choose. (The reference keys on the whole header,
//! so a client that changes the part it writes itself gets a fresh allowance every time.)
//!
//! The state is bounded: clients whose allowance is whole again are forgotten at each sweep,
//! and at most [`MAX_CLIENTS`] are tracked (the reference's store holds 65,536 too); when that
//! many are active at once, requests are refused until some recover.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

/// Most clients tracked at once.
pub const MAX_CLIENTS: usize = 65_536;
/// How often clients back to a whole allowance are forgotten.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Longest client identity kept (an `X-Forwarded-For` entry is whatever the client wrote).
const MAX_CLIENT_LEN: usize = 64;
/// Retry-After when the table is full.
const FULL_RETRY: Duration = Duration::from_secs(1);

type Key = (&'static str, String);

pub struct ClientLimiter {
    limiter: RateLimiter<Key, HashMapStateStore<Key>, DefaultClock>,
    clock: DefaultClock,
    last_sweep: Mutex<Instant>,
    max_clients: usize,
}

impl ClientLimiter {
    /// `rate` requests a second sustained, and `burst` more at once: `burst + 1` requests in a
    /// row pass, as with the reference's `throttled` (whose burst counts beyond the first).
    pub fn new(rate: NonZeroU32, burst: u32) -> ClientLimiter {
        ClientLimiter::with_capacity(rate, burst, MAX_CLIENTS)
    }

    fn with_capacity(rate: NonZeroU32, burst: u32, max_clients: usize) -> ClientLimiter {
        let burst = NonZeroU32::new(burst.saturating_add(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rate).allow_burst(burst);
        let clock = DefaultClock::default();
        ClientLimiter {
            limiter: RateLimiter::hashmap_with_clock(quota, clock.clone()),
            clock,
            last_sweep: Mutex::new(Instant::now()),
            max_clients,
        }
    }

    /// Counts one request of `client` to `path`; `Err(wait)` when it is over its allowance.
    pub fn check(&self, path: &'static str, client: &str) -> Result<(), Duration> {
        self.sweep_if_due();
        if self.limiter.len() >= self.max_clients {
            self.sweep();
            if self.limiter.len() >= self.max_clients {
                return Err(FULL_RETRY);
            }
        }
        self.limiter
            .check_key(&(path, client.to_owned()))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    fn sweep_if_due(&self) {
        let due = {
            let mut last = self.last_sweep.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() >= SWEEP_EVERY {
                *last = Instant::now();
                true
            } else {
                false
            }
        };
        if due {
            self.sweep();
        }
    }

    fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Clients tracked now.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

/// Who sent a request: the last `X-Forwarded-For` entry, else the peer's IP (no port);
/// lower-case, at most [`MAX_CLIENT_LEN`] bytes.
pub fn client_of(headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty());
    let mut client = match (forwarded, peer) {
        (Some(f), _) => f.to_ascii_lowercase(),
        (None, Some(peer)) => peer.ip().to_string(),
        (None, None) => String::new(),
    };
    if client.len() > MAX_CLIENT_LEN {
        let mut end = MAX_CLIENT_LEN;
        while !client.is_char_boundary(end) {
            end -= 1;
        }
        client.truncate(end);
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn a_burst_of_two_admits_three_then_the_rate() {
        let l = ClientLimiter::new(nz(2), 2);
        for _ in 0..3 {
            l.check("/v1/verify", "a").unwrap();
        }
        let wait = l.check("/v1/verify", "a").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        // Other clients and the other path have their own allowance.
        l.check("/v1/verify", "b").unwrap();
        l.check("/v1/rotate", "a").unwrap();
        std::thread::sleep(wait + Duration::from_millis(20));
        l.check("/v1/verify", "a").unwrap();
        assert!(l.check("/v1/verify", "a").is_err());
    }

    #[test]
    fn burst_zero_admits_one() {
        let l = ClientLimiter::new(nz(1), 0);
        l.check("/v1/verify", "a").unwrap();
        assert!(l.check("/v1/verify", "a").is_err());
    }

    #[test]
    fn the_table_is_bounded_and_recovered_clients_are_forgotten() {
        let l = ClientLimiter::with_capacity(nz(50), 0, 3);
        for c in ["a", "b", "c"] {
            l.check("/v1/verify", c).unwrap();
        }
        // Full of clients still recovering: a newcomer waits.
        assert_eq!(l.check("/v1/verify", "d"), Err(FULL_RETRY));
        std::thread::sleep(Duration::from_millis(60));
        // All recovered: forgotten at the sweep, room again.
        l.check("/v1/verify", "d").unwrap();
        assert!(l.len() <= 3);
    }

    #[test]
    fn the_client_is_the_last_forwarded_entry_else_the_peer() {
        let peer: SocketAddr = "10.0.0.7:4242".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(client_of(&h, Some(peer)), "10.0.0.7");
        assert_eq!(client_of(&h, None), "");
        h.insert("x-forwarded-for", "forged, 192.0.2.1".parse().unwrap());
        assert_eq!(client_of(&h, Some(peer)), "192.0.2.1");
        h.append("x-forwarded-for", "2001:DB8::1 ,".parse().unwrap());
        assert_eq!(client_of(&h, Some(peer)), "2001:db8::1");
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "x".repeat(500).parse().unwrap());
        assert_eq!(client_of(&h, Some(peer)).len(), MAX_CLIENT_LEN);
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", " , ".parse().unwrap());
        assert_eq!(client_of(&h, Some(peer)), "10.0.0.7");
    }
}
