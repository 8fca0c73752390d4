//! An agent's `capacity` shared by every worker on the store: a call holds one
//! of the agent's numbered slots while it runs. Who may take a slot a dead
//! worker holds is the runtime's decision (`runtime/capacity.rs`).

use super::db::params;
use super::{Result, Store};

impl Store {
    /// Who holds each taken slot of `agent`: `(slot, worker)`.
    pub fn capacity_holders(&self, agent: &str) -> Result<Vec<(i64, String)>> {
        self.rows(
            "SELECT slot, worker FROM capacity_slots WHERE agent = ?1",
            params![agent],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    /// Takes slot `slot` of `agent` for `worker`: a free slot, or (`from`) one
    /// whose holder is dead. False when someone else took it first.
    pub fn take_capacity_slot(
        &self,
        agent: &str,
        slot: i64,
        worker: &str,
        from: Option<&str>,
    ) -> Result<bool> {
        // A conflict updates only a slot still held by the dead `from`; a free
        // slot someone else inserted first stays theirs (NULL matches nothing).
        let changed = self.conn.execute(
            "INSERT INTO capacity_slots (agent, slot, worker, taken_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (agent, slot) DO UPDATE SET worker = ?3, taken_at = ?4
             WHERE capacity_slots.worker = ?5",
            params![agent, slot, worker, self.now(), from],
        )?;
        Ok(changed == 1)
    }

    /// Gives slot `slot` of `agent` back, if `worker` still holds it.
    pub fn release_capacity_slot(&self, agent: &str, slot: i64, worker: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM capacity_slots WHERE agent = ?1 AND slot = ?2 AND worker = ?3",
            params![agent, slot, worker],
        )?;
        Ok(())
    }
}
