//! `wfc db copy`: every row of one store into another, empty one (SQLite to
//! PostgreSQL to move a history to a shared store, or back), in one transaction.

use super::db::{Cell, Dialect, Param};
use super::{Result, Store, StoreError};

/// Every table wfc writes, parents before the tables that refer to them. An
/// execution's `replay_of` points at a dead letter that points back at an
/// execution: it is copied empty, then set once the dead letters are in.
pub const TABLES: &[&str] = &[
    "workflow_versions",
    "template_sources",
    "executions",
    "workflow_executions",
    "step_attempts",
    "metrics",
    "events",
    "dead_letters",
    "breaker_state",
    "trigger_fires",
    "cron_state",
    "metric_trigger_state",
    "alert_episodes",
    "waits",
    "refused_deliveries",
    "agent_assignments",
    "assignment_changes",
];

/// Tables of live state, not history: a copy's workers are not running there,
/// nor holding capacity.
pub const NOT_COPIED: &[&str] = &["workers", "capacity_slots"];

/// How many rows of each table were copied, in [`TABLES`] order.
pub type Copied = Vec<(&'static str, u64)>;

impl Store {
    /// Copies every row of `self` into `to`, which must hold no execution,
    /// event or metric sample yet; nothing is written when any row fails.
    pub fn copy_into(&self, to: &mut Store) -> Result<Copied> {
        for table in ["executions", "events", "metrics"] {
            let count = to.count(table)?;
            if count > 0 {
                return Err(StoreError::NotEmpty { table, rows: count });
            }
        }
        // Read as of one moment, though servers may be writing the source.
        let snapshot = self.conn.snapshot()?;
        let tx = to.conn.begin(true)?;
        let mut copied = Vec::new();
        for &table in TABLES {
            let columns = self.columns(table)?;
            let list = columns.join(", ");
            let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
            let insert = format!(
                "INSERT INTO {table} ({list}) VALUES ({})",
                placeholders.join(", ")
            );
            let replay_of = columns.iter().position(|c| c == "replay_of");
            let mut rows = 0u64;
            self.conn.each(
                &format!("SELECT {list} FROM {table} ORDER BY {}", order(table)),
                &[],
                |row| {
                    let params: Vec<Param<'_>> = row
                        .0
                        .iter()
                        .enumerate()
                        .map(|(i, cell)| match cell {
                            _ if Some(i) == replay_of => Param::Null,
                            Cell::Null => Param::Null,
                            Cell::Int(n) => Param::Int(*n),
                            Cell::Real(x) => Param::Real(*x),
                            Cell::Text(text) => Param::Text(text.as_str().into()),
                        })
                        .collect();
                    tx.execute(&insert, &params)?;
                    rows += 1;
                    Ok(true)
                },
            )?;
            copied.push((table, rows));
        }
        self.conn.each(
            "SELECT id, replay_of FROM executions WHERE replay_of IS NOT NULL",
            &[],
            |row| {
                tx.execute(
                    "UPDATE executions SET replay_of = ?2 WHERE id = ?1",
                    &[
                        Param::Text(row.get::<String>(0)?.into()),
                        Param::Int(row.get(1)?),
                    ],
                )?;
                Ok(true)
            },
        )?;
        if tx.dialect() == Dialect::Postgres {
            // Rows came with their ids: new rows continue after them.
            for &table in TABLES {
                if !self.columns(table)?.iter().any(|c| c == "id") {
                    continue;
                }
                let sequence: Option<String> = tx
                    .row(
                        &format!("SELECT pg_get_serial_sequence('{table}', 'id')"),
                        &[],
                        |row| row.get(0),
                    )?
                    .flatten();
                if let Some(sequence) = sequence {
                    tx.execute(
                        &format!(
                            "SELECT setval(CAST(CAST(?1 AS TEXT) AS regclass), MAX(id)) FROM {table}
                             HAVING MAX(id) IS NOT NULL"
                        ),
                        &[Param::Text(sequence.into())],
                    )?;
                }
            }
        }
        tx.commit()?;
        drop(snapshot);
        Ok(copied)
    }

    /// How many rows `table` holds.
    pub fn count(&self, table: &str) -> Result<u64> {
        Ok(self
            .conn
            .row(
                &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"),
                &[],
                |row| row.get(0),
            )?
            .unwrap_or(0))
    }
}

/// The order rows are copied in: as they were written, so a sub-workflow's
/// execution follows its parent's.
fn order(table: &str) -> &'static str {
    match table {
        "workflow_versions" => "workflow, source_blob",
        "template_sources" => "blob",
        "executions" => {
            "(SELECT w.id FROM workflow_executions w WHERE w.workflow_id = executions.id)"
        }
        "step_attempts" => "execution_id, id",
        "breaker_state" => "agent",
        "trigger_fires" => "fired_at, trigger, occurrence, workflow",
        "cron_state" => "trigger",
        "metric_trigger_state" => "trigger, period",
        "waits" => "execution_id, step",
        "refused_deliveries" => "execution_id, step, event_id",
        "agent_assignments" => "agent, skill",
        _ => "id",
    }
}
