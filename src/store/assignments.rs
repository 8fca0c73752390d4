//! Agent assignment, shared by every worker on the store: which agents are
//! paused (they get no new calls) and which are excluded from a skill's pool
//! (`any [skills]` calls of that skill do not choose them), with every change
//! kept with who made it and when.

use super::db::{params, NONE};
use super::{AssignmentChange, Result, Store};

/// What is in effect for one agent.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Assignment {
    pub agent: String,
    /// Who paused it and since when, while it is paused.
    pub paused: Option<Since>,
    /// The skills whose pools it is excluded from, each with who and since.
    pub excluded: Vec<(String, Since)>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Since {
    pub by: String,
    pub at: String,
}

/// One change, as kept.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChangeRow {
    pub agent: String,
    pub change: AssignmentChange,
    pub skill: Option<String>,
    pub by: String,
    pub at: String,
}

impl Store {
    /// Every agent with something in effect, by name.
    pub fn assignments(&self) -> Result<Vec<Assignment>> {
        let rows: Vec<(String, String, String, String)> = self.rows(
            "SELECT agent, skill, by_whom, since FROM agent_assignments ORDER BY agent, skill",
            NONE,
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )?;
        let mut out: Vec<Assignment> = Vec::new();
        for (agent, skill, by, at) in rows {
            if out.last().is_none_or(|a| a.agent != agent) {
                out.push(Assignment {
                    agent: agent.clone(),
                    ..Assignment::default()
                });
            }
            let Some(current) = out.last_mut() else {
                continue;
            };
            let since = Since { by, at };
            if skill.is_empty() {
                current.paused = Some(since);
            } else {
                current.excluded.push((skill, since));
            }
        }
        Ok(out)
    }

    /// Makes `change` to `agent` (`skill` for exclude and include) on behalf
    /// of `by`; false when it was already so (nothing is kept then).
    pub fn change_assignment(
        &self,
        agent: &str,
        change: AssignmentChange,
        skill: Option<&str>,
        by: &str,
    ) -> Result<bool> {
        let key = if change.takes_skill() {
            skill.unwrap_or_default()
        } else {
            ""
        };
        let now = self.now();
        let tx = self.conn.begin(false)?;
        let changed = match change {
            AssignmentChange::Pause | AssignmentChange::Exclude => tx.execute(
                "INSERT INTO agent_assignments (agent, skill, by_whom, since)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![agent, key, by, now],
            )?,
            AssignmentChange::Resume | AssignmentChange::Include => tx.execute(
                "DELETE FROM agent_assignments WHERE agent = ?1 AND skill = ?2",
                params![agent, key],
            )?,
        };
        if changed == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO assignment_changes (agent, change, skill, by_whom, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![agent, change, change.takes_skill().then_some(key), by, now],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The newest `limit` changes, newest first (of `agent` alone when given).
    pub fn assignment_changes(&self, agent: Option<&str>, limit: usize) -> Result<Vec<ChangeRow>> {
        self.rows(
            "SELECT agent, change, skill, by_whom, at FROM assignment_changes
             WHERE CAST(?1 AS TEXT) IS NULL OR agent = ?1 ORDER BY id DESC LIMIT ?2",
            params![agent, limit as i64],
            |row| {
                Ok(ChangeRow {
                    agent: row.get(0)?,
                    change: row.get(1)?,
                    skill: row.get(2)?,
                    by: row.get(3)?,
                    at: row.get(4)?,
                })
            },
        )
    }
}
