//! An agent's `capacity` across every worker sharing the store. The scheduler's
//! semaphore bounds this process's calls first (no store round trip while one
//! waits here); then a call takes one of the agent's numbered slots in the
//! store, so N workers together never run more than `capacity` calls at once.

use super::worker;
use super::Engine;
use crate::clock::Clock;
use crate::store::StoreError;
use std::time::Duration;

/// How long a call waits before looking again when other workers hold every slot.
const LOOK_AGAIN: Duration = Duration::from_millis(20);

/// A slot of an agent's shared capacity, given back when dropped (a cancelled
/// call too); a worker that dies holding one frees it by dying.
pub(super) struct Slot<'a> {
    engine: &'a Engine,
    agent: String,
    number: i64,
}

impl Engine {
    /// Waits for a free slot of `agent`, which runs `capacity` calls at once.
    pub(super) async fn take_slot(
        &self,
        agent: &str,
        capacity: usize,
    ) -> Result<Slot<'_>, StoreError> {
        let me = worker::me();
        loop {
            let taken = self.record(|store| -> Result<Option<i64>, StoreError> {
                // Others must find this worker's row to know its slots are held.
                me.beat_if_due(store)?;
                let holders = store.capacity_holders(agent)?;
                for number in 0..capacity as i64 {
                    let from = match holders.iter().find(|(n, _)| *n == number) {
                        None => None,
                        Some((_, holder)) if *holder == me.id => continue,
                        Some((_, holder)) if worker::alive(store, holder)? => continue,
                        Some((_, dead)) => Some(dead.as_str()),
                    };
                    if store.take_capacity_slot(agent, number, &me.id, from)? {
                        return Ok(Some(number));
                    }
                }
                Ok(None)
            })?;
            if let Some(number) = taken {
                return Ok(Slot {
                    engine: self,
                    agent: agent.to_string(),
                    number,
                });
            }
            Clock::system().sleep(LOOK_AGAIN).await;
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let me = worker::me();
        let released = self
            .engine
            .record(|store| store.release_capacity_slot(&self.agent, self.number, &me.id));
        if let Err(error) = released {
            tracing::error!(agent = %self.agent, %error,
                "cannot give a capacity slot back; it is free again when this worker ends");
        }
    }
}
