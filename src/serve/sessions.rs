//! Dashboard sign-ins. A browser that gives the token gets a random session id
//! in its cookie, never the token itself: browsers send a host's cookies to every
//! port of it, so a page another program serves on this machine would otherwise
//! be handed the token. Sessions expire and end at sign-out; they live in this
//! process's memory (a restart signs everyone out). Sign-in attempts are rationed
//! per client address, so the token cannot be guessed at a thousand tries a second.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a sign-in lasts.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Sessions kept at once; past it the one that ends soonest goes.
const MAX_SESSIONS: usize = 10_000;
/// Sign-in attempts a client may make at once, and how often one more is allowed.
const BURST: f64 = 10.0;
const REFILL: Duration = Duration::from_secs(6);
/// Clients whose attempts are remembered; past it the fullest allowances are forgotten.
const MAX_CLIENTS: usize = 10_000;

#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Session id → when it ends.
    ends: HashMap<String, Instant>,
    /// Client address → (attempts left, when last counted).
    allowance: HashMap<IpAddr, (f64, Instant)>,
}

impl Sessions {
    /// A new session: its id, for the cookie.
    pub fn start(&self) -> String {
        let id = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Instant::now();
        let mut inner = self.lock();
        inner.ends.retain(|_, end| *end > now);
        if inner.ends.len() >= MAX_SESSIONS {
            let soonest = inner
                .ends
                .iter()
                .min_by_key(|(_, end)| **end)
                .map(|(id, _)| id.clone());
            if let Some(soonest) = soonest {
                inner.ends.remove(&soonest);
            }
        }
        inner.ends.insert(id.clone(), now + LIFETIME);
        id
    }

    /// Whether `id` is a session that has not ended.
    pub fn valid(&self, id: &str) -> bool {
        self.lock()
            .ends
            .get(id)
            .is_some_and(|end| *end > Instant::now())
    }

    pub fn end(&self, id: &str) {
        self.lock().ends.remove(id);
    }

    /// Counts a sign-in attempt from `client`; when it has none left, how long
    /// until it has one.
    pub fn attempt(&self, client: IpAddr) -> Result<(), Duration> {
        self.attempt_at(client, Instant::now())
    }

    fn attempt_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut inner = self.lock();
        if inner.allowance.len() >= MAX_CLIENTS && !inner.allowance.contains_key(&client) {
            inner
                .allowance
                .retain(|_, (left, at)| refilled(*left, *at, now) < BURST);
        }
        let (left, at) = inner.allowance.entry(client).or_insert((BURST, now));
        let available = refilled(*left, *at, now);
        if available < 1.0 {
            return Err(REFILL.mul_f64(1.0 - available));
        }
        *left = available - 1.0;
        *at = now;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Attempts left `at`, as of `now`.
fn refilled(left: f64, at: Instant, now: Instant) -> f64 {
    (left + now.saturating_duration_since(at).as_secs_f64() / REFILL.as_secs_f64()).min(BURST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_random_and_end_at_sign_out() {
        let sessions = Sessions::default();
        let (a, b) = (sessions.start(), sessions.start());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(sessions.valid(&a) && sessions.valid(&b));
        sessions.end(&a);
        assert!(!sessions.valid(&a) && sessions.valid(&b));
        assert!(!sessions.valid("made-up"));
    }

    #[test]
    fn attempts_are_rationed_per_client() {
        let sessions = Sessions::default();
        let (one, other) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..10 {
            assert!(sessions.attempt_at(one, start).is_ok());
        }
        let wait = sessions.attempt_at(one, start).unwrap_err();
        assert!(wait > Duration::from_secs(5) && wait <= REFILL, "{wait:?}");
        assert!(sessions.attempt_at(other, start).is_ok(), "another client");
        assert!(
            sessions.attempt_at(one, start + REFILL).is_ok(),
            "one more later"
        );
        assert!(sessions.attempt_at(one, start + REFILL).is_err());
    }
}
