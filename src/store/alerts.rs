//! What alerts ask of the store: how a workflow's executions ended within a
//! window, and the episodes of each alert — opened once (whichever process sees
//! the condition first), closed when it stops holding, with how the firing was
//! delivered.

use super::db::{params, Row, NONE};
use super::queries::timestamp;
use super::{Result, Store};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// One stretch of time an alert's condition held.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertEpisode {
    pub id: i64,
    pub alert: String,
    /// The condition as written when it fired.
    pub condition: String,
    /// The signal's value when it fired (none for a goal's status).
    pub value: Option<f64>,
    pub started_at: String,
    /// `None` while it is firing.
    pub ended_at: Option<String>,
    /// How the webhook call went, once it went.
    pub delivery: Option<String>,
}

/// A new firing: what to record, and the event to emit with it.
pub struct Firing<'a> {
    pub alert: &'a str,
    pub condition: &'a str,
    pub value: Option<f64>,
    pub event: Option<(&'a str, &'a Value)>,
}

impl Store {
    /// `(completed, failed)`: executions of `workflow` that ended at or after `since`.
    pub fn outcomes_since(&self, workflow: &str, since: DateTime<Utc>) -> Result<(u64, u64)> {
        Ok(self
            .conn
            .row(
                "SELECT CAST(COUNT(CASE WHEN status = 'completed' THEN 1 END) AS BIGINT),
                        CAST(COUNT(CASE WHEN status = 'failed' THEN 1 END) AS BIGINT)
                 FROM executions WHERE workflow = ?1 AND finished_at >= ?2",
                params![workflow, timestamp(since)],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?
            .unwrap_or((0, 0)))
    }

    /// Opens an episode of `firing.alert` and emits its event, in one transaction;
    /// `None` when an episode is already open (this process or another fired it).
    pub fn open_episode(&mut self, firing: &Firing<'_>) -> Result<Option<i64>> {
        let now = self.now();
        let tx = self.conn.begin(false)?;
        let Some(id) = tx.row(
            "INSERT INTO alert_episodes (alert, condition, value, started_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING RETURNING id",
            params![firing.alert, firing.condition, firing.value, now],
            |row| row.get::<i64>(0),
        )?
        else {
            return Ok(None);
        };
        if let Some((name, payload)) = firing.event {
            tx.execute(
                "INSERT INTO events (name, payload, emitted_at) VALUES (?1, ?2, ?3)",
                params![name, payload.to_string(), now],
            )?;
        }
        tx.commit()?;
        Ok(Some(id))
    }

    /// Closes the open episode of `alert`; false when none was open.
    pub fn close_episode(&self, alert: &str) -> Result<bool> {
        let closed = self.conn.execute(
            "UPDATE alert_episodes SET ended_at = ?2 WHERE alert = ?1 AND ended_at IS NULL",
            params![alert, self.now()],
        )?;
        Ok(closed == 1)
    }

    pub fn set_delivery(&self, episode: i64, delivery: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE alert_episodes SET delivery = ?2 WHERE id = ?1",
            params![episode, delivery],
        )?;
        Ok(())
    }

    /// The open episode of `alert`, if it is firing.
    pub fn open_episode_of(&self, alert: &str) -> Result<Option<AlertEpisode>> {
        self.conn.row(
            &format!("{SELECT} WHERE alert = ?1 AND ended_at IS NULL"),
            params![alert],
            episode,
        )
    }

    /// The names of the alerts firing now.
    pub fn firing_alerts(&self) -> Result<Vec<String>> {
        self.rows(
            "SELECT alert FROM alert_episodes WHERE ended_at IS NULL ORDER BY alert",
            NONE,
            |row| row.get(0),
        )
    }

    /// The newest `limit` episodes of every alert, newest first.
    pub fn episodes(&self, limit: usize) -> Result<Vec<AlertEpisode>> {
        self.rows(
            &format!("{SELECT} ORDER BY id DESC LIMIT ?1"),
            params![limit as i64],
            episode,
        )
    }
}

const SELECT: &str =
    "SELECT id, alert, condition, value, started_at, ended_at, delivery FROM alert_episodes";

fn episode(row: &Row) -> Result<AlertEpisode> {
    Ok(AlertEpisode {
        id: row.get(0)?,
        alert: row.get(1)?,
        condition: row.get(2)?,
        value: row.get(3)?,
        started_at: row.get(4)?,
        ended_at: row.get(5)?,
        delivery: row.get(6)?,
    })
}
