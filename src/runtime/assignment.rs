//! The agent assignment this engine follows (`wfc agents pause|exclude …`):
//! what the store says, read again at most every [`FRESH`], so a change made
//! anywhere reaches every worker within that. A call to a paused agent waits
//! for it, counted where `GET /agents` shows it; an `any [skills]` call
//! chooses among the agents neither paused nor excluded from those skills,
//! and waits while there is none.

use super::engine::Engine;
use crate::store::Assignment;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How old a read of the store's assignment may be before a call reads it again.
const FRESH: Duration = Duration::from_millis(200);

/// The longest a waiting call sleeps between looks.
const MOST_BETWEEN_LOOKS: Duration = Duration::from_secs(1);

/// What is in effect, as last read.
#[derive(Debug, Default)]
pub struct Snapshot {
    paused: HashSet<String>,
    /// `(agent, skill)` pairs.
    excluded: HashSet<(String, String)>,
}

impl Snapshot {
    fn of(rows: Vec<Assignment>) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for row in rows {
            if row.paused.is_some() {
                snapshot.paused.insert(row.agent.clone());
            }
            for (skill, _) in row.excluded {
                snapshot.excluded.insert((row.agent.clone(), skill));
            }
        }
        snapshot
    }

    pub fn is_paused(&self, agent: &str) -> bool {
        self.paused.contains(agent)
    }

    /// Whether `agent` may take an `any [skills]` call of `skills`.
    fn available(&self, agent: &str, skills: &[String]) -> bool {
        !self.is_paused(agent)
            && !skills
                .iter()
                .any(|s| self.excluded.contains(&(agent.to_string(), s.clone())))
    }
}

/// The engine's cached read, and the calls waiting for a paused agent.
#[derive(Default)]
pub(super) struct Assignments {
    read: Mutex<Option<(Instant, Arc<Snapshot>)>>,
    /// Calls waiting, by the agent they wait for (for an `any` call, each of
    /// its candidates).
    waiting: Mutex<HashMap<String, usize>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts a call as waiting for `agents` until dropped.
struct Waiting<'a> {
    assignments: &'a Assignments,
    agents: Vec<String>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut waiting = lock(&self.assignments.waiting);
        for agent in &self.agents {
            if let Some(count) = waiting.get_mut(agent) {
                *count = count.saturating_sub(1);
            }
        }
    }
}

impl Engine {
    /// The assignment in effect: the store's, read at most [`FRESH`] ago. A
    /// store that cannot be read leaves the last read in effect (the call's
    /// own writes will meet the failure).
    pub fn assignment(&self) -> Arc<Snapshot> {
        let assignments = &self.assignments;
        if let Some((at, snapshot)) = lock(&assignments.read).as_ref() {
            if at.elapsed() < FRESH {
                return snapshot.clone();
            }
        }
        let rows = self.record(|store| store.assignments());
        let mut read = lock(&assignments.read);
        match rows {
            Ok(rows) => {
                let snapshot = Arc::new(Snapshot::of(rows));
                *read = Some((Instant::now(), snapshot.clone()));
                snapshot
            }
            Err(_) => read
                .as_ref()
                .map(|(_, snapshot)| snapshot.clone())
                .unwrap_or_default(),
        }
    }

    /// Forgets the last read: this process just changed the assignment, and
    /// its next call must follow the change.
    pub fn reread_assignment(&self) {
        *lock(&self.assignments.read) = None;
    }

    /// How many calls wait for `agent` now, because it is paused (or, for an
    /// `any` call, because every candidate is).
    pub fn calls_waiting_for(&self, agent: &str) -> usize {
        lock(&self.assignments.waiting)
            .get(agent)
            .copied()
            .unwrap_or(0)
    }

    /// Of `candidates`, those that may take a call of `skills` now, waiting
    /// until there is one (`skills` empty: a call of one named agent).
    pub(super) async fn available<'c>(
        &self,
        candidates: &[&'c str],
        skills: &[String],
        step: &str,
    ) -> Vec<&'c str> {
        let mut waiting: Option<Waiting<'_>> = None;
        let mut pause = Duration::from_millis(50);
        loop {
            let snapshot = self.assignment();
            let free: Vec<&str> = candidates
                .iter()
                .copied()
                .filter(|agent| snapshot.available(agent, skills))
                .collect();
            if !free.is_empty() {
                return free;
            }
            if waiting.is_none() {
                tracing::info!(agents = %candidates.join(", "), %step,
                    "call waits: its agent is paused or excluded");
                let mut counts = lock(&self.assignments.waiting);
                for agent in candidates {
                    *counts.entry(agent.to_string()).or_default() += 1;
                }
                waiting = Some(Waiting {
                    assignments: &self.assignments,
                    agents: candidates.iter().map(|a| a.to_string()).collect(),
                });
            }
            // Process time, not workflow time: a pause is lifted by a person.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MOST_BETWEEN_LOOKS);
        }
    }
}
