//! Who runs a call and when: per-agent `capacity` limits, and for `any [skills]`
//! the candidate with the fewest calls in flight (ties: least recently used, then
//! name order) — workload balancing across a skill-matched team.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Default)]
struct Load {
    in_flight: usize,
    /// A tick of the scheduler's clock at the last pick; 0 = never.
    last_used: u64,
}

#[derive(Default)]
struct State {
    loads: HashMap<String, Load>,
    clock: u64,
}

pub struct Scheduler {
    limits: HashMap<String, Arc<Semaphore>>,
    state: Arc<Mutex<State>>,
}

/// A call's claim on its agent: counts as in flight until dropped, and holds a
/// capacity permit once [`Claim::acquire`] returns.
pub struct Claim {
    agent: String,
    state: Arc<Mutex<State>>,
    limit: Option<Arc<Semaphore>>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Scheduler {
    /// `capacities`: agent name → most calls at once (agents without a limit omitted).
    pub fn new(capacities: impl IntoIterator<Item = (String, usize)>) -> Self {
        Scheduler {
            limits: capacities
                .into_iter()
                .map(|(agent, n)| (agent, Arc::new(Semaphore::new(n))))
                .collect(),
            state: Arc::default(),
        }
    }

    /// How many calls of `agent` are claimed now (running, or waiting for
    /// capacity).
    pub fn in_flight(&self, agent: &str) -> usize {
        lock(&self.state)
            .loads
            .get(agent)
            .map_or(0, |l| l.in_flight)
    }

    /// Claims `agent` for one call.
    pub fn claim(&self, agent: &str) -> Claim {
        self.claim_locked(&mut lock(&self.state), agent)
    }

    fn claim_locked(&self, state: &mut State, agent: &str) -> Claim {
        state.clock += 1;
        let clock = state.clock;
        let load = state.loads.entry(agent.to_string()).or_default();
        load.in_flight += 1;
        load.last_used = clock;
        Claim {
            agent: agent.to_string(),
            state: self.state.clone(),
            limit: self.limits.get(agent).cloned(),
            permit: None,
        }
    }

    /// Picks and claims the least-loaded of `candidates` (which must not be empty),
    /// atomically, so concurrent picks spread over the team.
    pub fn claim_least_loaded(&self, candidates: &[&str]) -> Claim {
        let mut state = lock(&self.state);
        let key = |name: &&&str| {
            let load = state.loads.get(**name);
            (
                load.map_or(0, |l| l.in_flight),
                load.map_or(0, |l| l.last_used),
                name.to_string(),
            )
        };
        let chosen = candidates
            .iter()
            .min_by_key(key)
            .map(|s| s.to_string())
            .unwrap_or_default();
        self.claim_locked(&mut state, &chosen)
    }
}

impl Claim {
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// Waits for a capacity permit (at once when the agent has no limit).
    pub async fn acquire(&mut self) {
        if let Some(limit) = &self.limit {
            // The semaphore is never closed, so acquiring cannot fail.
            self.permit = limit.clone().acquire_owned().await.ok();
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        if let Some(load) = state.loads.get_mut(&self.agent) {
            load.in_flight = load.in_flight.saturating_sub(1);
        }
    }
}

/// A poisoned lock only means another call panicked mid-update of plain counters;
/// the counters are still usable.
fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_spread_over_equal_agents() {
        let scheduler = Scheduler::new([]);
        let a = scheduler.claim_least_loaded(&["a", "b"]);
        let b = scheduler.claim_least_loaded(&["a", "b"]);
        assert_ne!(a.agent(), b.agent());
        drop(a);
        // `a` is free again and least recently used among the idle.
        let c = scheduler.claim_least_loaded(&["a", "b"]);
        assert_eq!(c.agent(), "a");
    }

    #[test]
    fn ties_go_to_the_least_recently_used() {
        let scheduler = Scheduler::new([]);
        drop(scheduler.claim_least_loaded(&["a", "b"]));
        drop(scheduler.claim_least_loaded(&["a", "b"]));
        let third = scheduler.claim_least_loaded(&["a", "b"]);
        assert_eq!(third.agent(), "a");
    }
}
