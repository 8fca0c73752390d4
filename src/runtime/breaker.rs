//! The circuit breaker as a state machine over a stored row: pure functions of the
//! row, the policy and the time. The store only loads and saves the row, in one
//! transaction around them, so processes sharing the store share the breaker.

pub use crate::program::BreakerPolicy;
use crate::store::{BreakerRow, BreakerState};
use chrono::{DateTime, Utc};

/// Whether a breaker lets a call through.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Closed: call as usual.
    Closed,
    /// Was open and has cooled down: this call is the one trial.
    Trial,
    /// Open (or another caller holds the trial): fail fast until this time.
    Rejected { until: DateTime<Utc> },
}

/// Decides whether a call may pass now; an open breaker that has cooled down
/// becomes half-open and admits this one call as its trial.
pub fn admit(row: &mut BreakerRow, policy: &BreakerPolicy, now: DateTime<Utc>) -> Admission {
    if row.state == BreakerState::Closed {
        return Admission::Closed;
    }
    let until = row.opened_at.map_or(now, |at| at + policy.cool_down);
    if row.state == BreakerState::Open && now >= until {
        row.state = BreakerState::HalfOpen;
        Admission::Trial
    } else {
        Admission::Rejected { until }
    }
}

/// Records a call's result: a success closes the breaker; a failed trial reopens
/// it; otherwise failures within the window add up until `open_after` opens it.
pub fn record(row: &mut BreakerRow, success: bool, policy: &BreakerPolicy, now: DateTime<Utc>) {
    if success {
        row.failures.clear();
        row.state = BreakerState::Closed;
    } else if row.state == BreakerState::HalfOpen {
        row.state = BreakerState::Open;
        row.opened_at = Some(now);
    } else {
        row.failures.retain(|at| now - *at <= policy.window);
        row.failures.push(now);
        if row.failures.len() >= policy.open_after {
            row.state = BreakerState::Open;
            row.opened_at = Some(now);
        } else {
            row.state = BreakerState::Closed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::Duration;

    const POLICY: BreakerPolicy = BreakerPolicy {
        name: String::new(),
        open_after: 2,
        window: Duration::minutes(1),
        cool_down: Duration::seconds(30),
    };

    fn clock() -> ManualClock {
        ManualClock::new(crate::store::parse_timestamp("2026-11-25T12:00:00Z").unwrap())
    }

    fn seconds(n: u64) -> std::time::Duration {
        std::time::Duration::from_secs(n)
    }

    #[test]
    fn failures_within_the_window_open_it_and_the_cool_down_admits_one_trial() {
        let clock = clock();
        let mut row = BreakerRow::default();
        record(&mut row, false, &POLICY, clock.now());
        assert_eq!(admit(&mut row, &POLICY, clock.now()), Admission::Closed);
        clock.advance(seconds(10));
        record(&mut row, false, &POLICY, clock.now());
        assert_eq!(row.state, BreakerState::Open);
        let until = clock.now() + POLICY.cool_down;
        assert_eq!(
            admit(&mut row, &POLICY, clock.now()),
            Admission::Rejected { until }
        );
        clock.advance(seconds(29));
        assert_eq!(
            admit(&mut row, &POLICY, clock.now()),
            Admission::Rejected { until }
        );
        clock.advance(seconds(1));
        assert_eq!(admit(&mut row, &POLICY, clock.now()), Admission::Trial);
        // While the trial runs, everyone else is refused.
        assert_eq!(
            admit(&mut row, &POLICY, clock.now()),
            Admission::Rejected { until }
        );
        record(&mut row, true, &POLICY, clock.now());
        assert_eq!(row.state, BreakerState::Closed);
        assert!(row.failures.is_empty());
        assert_eq!(admit(&mut row, &POLICY, clock.now()), Admission::Closed);
    }

    #[test]
    fn a_failed_trial_reopens_it_for_a_new_cool_down() {
        let clock = clock();
        let mut row = BreakerRow::default();
        record(&mut row, false, &POLICY, clock.now());
        record(&mut row, false, &POLICY, clock.now());
        clock.advance(seconds(30));
        assert_eq!(admit(&mut row, &POLICY, clock.now()), Admission::Trial);
        clock.advance(seconds(5));
        record(&mut row, false, &POLICY, clock.now());
        assert_eq!(row.state, BreakerState::Open);
        assert_eq!(
            admit(&mut row, &POLICY, clock.now()),
            Admission::Rejected {
                until: clock.now() + POLICY.cool_down
            }
        );
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let clock = clock();
        let mut row = BreakerRow::default();
        record(&mut row, false, &POLICY, clock.now());
        clock.advance(seconds(61));
        record(&mut row, false, &POLICY, clock.now());
        assert_eq!(row.state, BreakerState::Closed);
        assert_eq!(row.failures, [clock.now()]);
    }
}
