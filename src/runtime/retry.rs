//! Retry policies as the language defines them: how many attempts, which error
//! kinds are retried, and the delay before each retry.

use super::error::ErrorKind;
use crate::ast::{BackoffKind, Jitter};
use crate::program::RetryPlan;
use std::hash::{Hash, Hasher};
use std::time::Duration;

/// A policy ready to apply; `None` policy means one attempt.
pub struct Plan<'a> {
    policy: Option<&'a RetryPlan>,
}

impl<'a> Plan<'a> {
    pub fn new(policy: Option<&'a RetryPlan>) -> Self {
        Plan { policy }
    }

    pub fn attempts(&self) -> u32 {
        self.policy.map_or(1, |p| p.attempts.get())
    }

    /// Whether a failure of this kind is retried (attempts permitting); without a
    /// policy nothing is.
    pub fn retries(&self, kind: ErrorKind) -> bool {
        self.policy.is_some_and(|p| p.retry_on.contains(&kind))
    }

    /// The delay before attempt `n + 1`, after attempt `n` (1-based) failed:
    /// `min(max, initial × factor^(n−1))` for exponential backoff, `min(max,
    /// initial × n)` for linear, `initial` for constant; then jitter, drawn from a
    /// generator seeded by `seed` so a run is reproducible.
    pub fn delay(&self, n: u32, seed: impl Hash) -> Duration {
        let Some(policy) = self.policy else {
            return Duration::ZERO;
        };
        let (low, high) = window(policy, n);
        low + (high - low).mul_f64(unit(seed))
    }
}

impl Plan<'_> {
    /// A service's `Retry-After`, within the policy's `max` delay (a minute
    /// without one): a hostile or confused server cannot park a step for days.
    pub fn honour(&self, asked: Duration) -> Duration {
        let max = self
            .policy
            .and_then(|p| p.backoff.as_ref())
            .and_then(|b| b.max)
            .unwrap_or(RETRY_AFTER_CAP);
        asked.min(max)
    }
}

/// The longest `Retry-After` honoured under a policy without a `max` delay.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// The range jitter draws the delay after failed attempt `n` from (one point
/// without jitter): `[0, d]` for full jitter, `[d/2, d]` for equal, where `d` is
/// the backoff's delay.
pub fn window(policy: &RetryPlan, n: u32) -> (Duration, Duration) {
    let Some(backoff) = policy.backoff.as_ref() else {
        return (Duration::ZERO, Duration::ZERO);
    };
    let initial = backoff.initial.as_millis() as f64;
    let max = backoff.max.map_or(f64::MAX, |m| m.as_millis() as f64);
    let raw = match backoff.kind {
        BackoffKind::Constant => initial,
        BackoffKind::Linear => initial * n as f64,
        BackoffKind::Exponential => {
            initial * backoff.factor.powi(n.saturating_sub(1).min(1024) as i32)
        }
    };
    let ms = |ms: f64| Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 10.0 * 365.0 * 86_400.0));
    let delay = raw.min(max);
    match policy.jitter {
        Jitter::None => (ms(delay), ms(delay)),
        Jitter::Full => (Duration::ZERO, ms(delay)),
        Jitter::Equal => (ms(delay / 2.0), ms(delay)),
    }
}

/// A number in [0, 1] derived from `seed` (splitmix64 over a fixed-key hash).
fn unit(seed: impl Hash) -> f64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    seed.hash(&mut hasher);
    let mut z = hasher.finish().wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The retry policy `r` that `text` declares, checked.
    fn policy(text: &str) -> RetryPlan {
        crate::program::checked(text).retries.remove(0)
    }

    fn delays(text: &str) -> Vec<u128> {
        let policy = policy(text);
        let plan = Plan::new(Some(&policy));
        (1..=5)
            .map(|n| plan.delay(n, ("x", n)).as_millis())
            .collect()
    }

    #[test]
    fn backoff_follows_the_formulas() {
        assert_eq!(
            delays("retry r { backoff exponential 100ms factor 2 max 1s }"),
            [100, 200, 400, 800, 1000]
        );
        assert_eq!(
            delays("retry r { backoff exponential 10ms factor 3 }"),
            [10, 30, 90, 270, 810]
        );
        assert_eq!(
            delays("retry r { backoff linear 50ms max 120ms }"),
            [50, 100, 120, 120, 120]
        );
        assert_eq!(
            delays("retry r { backoff constant 70ms }"),
            [70, 70, 70, 70, 70]
        );
        assert_eq!(delays("retry r { attempts 3 }"), [0, 0, 0, 0, 0]);
    }

    #[test]
    fn jitter_stays_within_its_bounds_and_is_reproducible() {
        let full = policy("retry r { backoff constant 100ms jitter full }");
        let equal = policy("retry r { backoff constant 100ms jitter equal }");
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..200u32 {
            let d = Plan::new(Some(&full)).delay(1, n).as_secs_f64() * 1000.0;
            assert!((0.0..=100.0).contains(&d), "{d}");
            seen.insert(d as u64 / 10);
            let e = Plan::new(Some(&equal)).delay(1, n).as_secs_f64() * 1000.0;
            assert!((50.0..=100.0).contains(&e), "{e}");
        }
        assert!(
            seen.len() >= 8,
            "full jitter spreads over the range: {seen:?}"
        );
        assert_eq!(
            Plan::new(Some(&full)).delay(1, 7),
            Plan::new(Some(&full)).delay(1, 7)
        );
    }

    #[test]
    fn retry_on_limits_the_kinds() {
        let only_timeouts = policy("retry r { attempts 3 retry_on [timeout] }");
        let plan = Plan::new(Some(&only_timeouts));
        assert!(plan.retries(ErrorKind::Timeout));
        assert!(!plan.retries(ErrorKind::Failed));
        let default = policy("retry r { attempts 3 }");
        let plan = Plan::new(Some(&default));
        assert!(plan.retries(ErrorKind::Failed) && plan.retries(ErrorKind::CircuitOpen));
        assert!(!plan.retries(ErrorKind::InvalidInput) && !plan.retries(ErrorKind::Expression));
        assert_eq!(Plan::new(None).attempts(), 1);
    }
}
