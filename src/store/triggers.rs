//! What triggers ask of the store: undispatched events, cron slots handled, metric
//! crossings seen, aggregates of metric samples, and which executions a fire started.

use super::db::{params, Dialect, NONE};
use super::queries::{event_row, metric_row, timestamp, EventRow, MetricRow};
use super::{Result, Store, StoreError};
use crate::metric::{Aggregation, MetricQuery};
use chrono::Utc;
use serde_json::Value;

impl Store {
    /// Calls `wake` each time another connection to this SQLite store records
    /// new work for triggers or waits (an event, a metric sample, a queued
    /// execution, a wait opened or decided);
    /// runs for as long as the process does. Every commit changes `PRAGMA
    /// data_version` (a step's row too), so a change is looked into before
    /// anyone is woken.
    pub(super) fn watch_for_work(self, wake: impl Fn()) {
        let mut version: Option<i64> = None;
        // The newest event, sample and queued execution, and how many waits are open.
        type Mark = (Option<i64>, Option<i64>, Option<i64>, i64);
        let mut mark: Option<Mark> = None;
        loop {
            std::thread::sleep(super::SQLITE_LOOK);
            let Ok(now) = self.conn.row("PRAGMA data_version", NONE, |row| row.get(0)) else {
                continue;
            };
            if now == version {
                continue;
            }
            version = now;
            let looked = self.conn.row(
                "SELECT (SELECT max(id) FROM events), (SELECT max(id) FROM metrics),
                        (SELECT max(w.id) FROM executions e
                         JOIN workflow_executions w ON w.workflow_id = e.id
                         WHERE e.status = 'queued'),
                        (SELECT count(*) FROM waits WHERE outcome IS NULL)",
                NONE,
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            );
            let Ok(Some(seen)) = looked else { continue };
            if mark.is_some_and(|before| before != seen) {
                wake();
            }
            mark = Some(seen);
        }
    }

    /// Claims up to `limit` events no worker has dispatched or holds a live
    /// claim on, for `worker` until `until`, oldest first. Workers sharing a
    /// PostgreSQL store skip the rows another is claiming (`SKIP LOCKED`); an
    /// event whose claimer died before dispatching it is claimed again once
    /// the claim runs out (its fires are unique rows, so none repeats).
    pub fn claim_events(
        &self,
        worker: &str,
        now: chrono::DateTime<Utc>,
        until: chrono::DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<EventRow>> {
        let skip_locked = match self.conn.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let mut events: Vec<EventRow> = self.rows(
            &format!(
                "UPDATE events SET claimed_by = ?1, claimed_until = ?2
                 WHERE id IN (SELECT id FROM events WHERE dispatched_at IS NULL
                                AND (claimed_until IS NULL OR claimed_until < ?3)
                              ORDER BY id LIMIT ?4 {skip_locked})
                 RETURNING id, name, payload, execution_id, emitted_at"
            ),
            params![worker, timestamp(until), timestamp(now), limit],
            event_row,
        )?;
        events.sort_by_key(|event| event.id);
        Ok(events)
    }

    /// Marks a dispatcher's batch of events handled, in one statement.
    pub fn mark_all_dispatched(&self, events: &[i64]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = events.iter().map(i64::to_string).collect();
        self.conn.execute(
            &format!(
                "UPDATE events SET dispatched_at = ?1 WHERE id IN ({})",
                list.join(", ")
            ),
            params![self.now()],
        )?;
        Ok(())
    }

    /// `(workflow, execution id)` for every execution a trigger occurrence started.
    pub fn fires(&self, occurrence: &str) -> Result<Vec<(String, String)>> {
        self.rows(
            "SELECT workflow, execution_id FROM trigger_fires WHERE occurrence = ?1 ORDER BY workflow",
            params![occurrence],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    pub fn cron_last_slot(&self, trigger: &str) -> Result<Option<String>> {
        self.conn.row(
            "SELECT last_slot FROM cron_state WHERE trigger = ?1",
            params![trigger],
            |row| row.get(0),
        )
    }

    pub fn set_cron_last_slot(&self, trigger: &str, slot: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO cron_state (trigger, last_slot) VALUES (?1, ?2)
             ON CONFLICT(trigger) DO UPDATE SET last_slot = ?2 WHERE cron_state.last_slot < ?2",
            params![trigger, slot],
        )?;
        Ok(())
    }

    /// `(above, crossings)` of a metric trigger in a period.
    pub fn metric_trigger_state(&self, trigger: &str, period: &str) -> Result<(bool, u32)> {
        Ok(self
            .conn
            .row(
                "SELECT above, crossings FROM metric_trigger_state WHERE trigger = ?1 AND period = ?2",
                params![trigger, period],
                |row| Ok((row.get::<i64>(0)? != 0, row.get(1)?)),
            )?
            .unwrap_or((false, 0)))
    }

    pub fn set_metric_trigger_state(
        &self,
        trigger: &str,
        period: &str,
        above: bool,
        crossings: u32,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO metric_trigger_state (trigger, period, above, crossings) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(trigger, period) DO UPDATE SET above = ?3, crossings = ?4",
            params![trigger, period, above, crossings],
        )?;
        Ok(())
    }

    /// Records one metric sample at a given time (workflows record theirs when they
    /// complete; this is for imports and tests).
    pub fn record_metric(&self, name: &str, value: f64, at: chrono::DateTime<Utc>) -> Result<i64> {
        let id = self
            .conn
            .row(
                "INSERT INTO metrics (name, value, recorded_at) VALUES (?1, ?2, ?3) RETURNING id",
                params![name, value, timestamp(at)],
                |row| row.get(0),
            )?
            .ok_or_else(|| StoreError::Postgres("an insert returned no id".into()))?;
        self.conn.announce_work()?;
        Ok(id)
    }

    /// At most `limit` samples recorded after sample `after`, in the order they were
    /// recorded.
    pub fn metrics_after(&self, after: i64, limit: usize) -> Result<Vec<MetricRow>> {
        self.rows(
            "SELECT id, name, value, execution_id, recorded_at FROM metrics
             WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![after, limit as i64],
            metric_row,
        )
    }

    pub fn last_metric_id(&self) -> Result<i64> {
        Ok(self
            .conn
            .row(
                "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM metrics",
                NONE,
                |row| row.get(0),
            )?
            .unwrap_or(0))
    }

    /// A metric read as it stood at sample `upto` (every sample without one), over
    /// the period containing `at` in `tz`; with that period's key (`2026-11`, or
    /// empty for a read without a period).
    pub fn metric_value(
        &self,
        query: &MetricQuery,
        at: chrono::DateTime<Utc>,
        tz: chrono_tz::Tz,
        upto: Option<i64>,
    ) -> Result<(Option<f64>, String)> {
        let window = query.period.map(|p| p.window(at, tz));
        let (from, to, period) = match &window {
            Some((from, to, key)) => (Some(timestamp(*from)), Some(timestamp(*to)), key.clone()),
            None => (None, None, String::new()),
        };
        let value = self.metric_aggregate(
            &query.series,
            query.aggregation,
            from.as_deref(),
            to.as_deref(),
            upto,
        )?;
        Ok((value, period))
    }

    /// The aggregate of a series over samples recorded in `[from, to)` (all of them
    /// without bounds) and, with `upto`, only those up to that sample id: the value as
    /// it stood when that sample was recorded. `None` when there is no sample (`count`
    /// is then 0).
    pub fn metric_aggregate(
        &self,
        series: &str,
        aggregation: Aggregation,
        from: Option<&str>,
        to: Option<&str>,
        upto: Option<i64>,
    ) -> Result<Option<f64>> {
        let window =
            "name = ?1 AND (CAST(?2 AS TEXT) IS NULL OR recorded_at >= ?2) AND (CAST(?3 AS TEXT) IS NULL OR recorded_at < ?3)
             AND (CAST(?4 AS BIGINT) IS NULL OR id <= ?4)";
        let sql = match aggregation {
            Aggregation::Latest => format!(
                "SELECT value FROM metrics WHERE {window} ORDER BY recorded_at DESC, id DESC LIMIT 1"
            ),
            Aggregation::Sum => format!("SELECT SUM(value) FROM metrics WHERE {window}"),
            Aggregation::Avg => format!("SELECT AVG(value) FROM metrics WHERE {window}"),
            Aggregation::Min => format!("SELECT MIN(value) FROM metrics WHERE {window}"),
            Aggregation::Max => format!("SELECT MAX(value) FROM metrics WHERE {window}"),
            Aggregation::Count => {
                format!("SELECT CAST(COUNT(*) AS DOUBLE PRECISION) FROM metrics WHERE {window}")
            }
        };
        Ok(self
            .conn
            .row(&sql, params![series, from, to, upto], |row| {
                row.get::<Option<f64>>(0)
            })?
            .flatten())
    }

    /// Samples of a series recorded in `[from, to)`, oldest first.
    pub fn samples_between(
        &self,
        series: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<MetricRow>> {
        self.rows("SELECT id, name, value, execution_id, recorded_at FROM metrics
             WHERE name = ?1 AND (CAST(?2 AS TEXT) IS NULL OR recorded_at >= ?2) AND (CAST(?3 AS TEXT) IS NULL OR recorded_at < ?3)
             ORDER BY recorded_at, id", params![series, from, to], metric_row)
    }

    /// The newest `limit` samples of a series, oldest first.
    pub fn latest_samples(&self, series: &str, limit: usize) -> Result<Vec<MetricRow>> {
        let mut rows: Vec<MetricRow> = self.rows(
            "SELECT id, name, value, execution_id, recorded_at FROM metrics
             WHERE name = ?1 ORDER BY recorded_at DESC, id DESC LIMIT ?2",
            params![series, limit as i64],
            metric_row,
        )?;
        rows.reverse();
        Ok(rows)
    }

    /// Every metric name with its sample count, oldest first by name.
    pub fn metric_names(&self) -> Result<Vec<(String, i64)>> {
        self.rows(
            "SELECT name, COUNT(*) FROM metrics GROUP BY name ORDER BY name",
            NONE,
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    /// Per agent, as things stood at `at`: calls in flight then, and calls started
    /// from `since` until then.
    pub fn agent_load(
        &self,
        since: &str,
        at: &str,
    ) -> Result<std::collections::HashMap<String, (u32, u32)>> {
        self.rows(
            "SELECT agent,
                    CAST(COUNT(CASE WHEN started_at < ?2
                                     AND (finished_at IS NULL OR finished_at > ?2) THEN 1 END) AS BIGINT),
                    CAST(COUNT(CASE WHEN started_at >= ?1 AND started_at < ?2 THEN 1 END) AS BIGINT)
             FROM step_attempts
             WHERE agent IS NOT NULL AND execution_id IN
               -- Only executions that can hold such calls, found by index:
               -- started in the hour, under way at `at`, or not finished.
               (SELECT id FROM executions
                WHERE started_at >= ?1 OR finished_at > ?2 OR finished_at IS NULL)
             GROUP BY agent",
            params![since, at],
            |row| Ok((row.get::<String>(0)?, (row.get(1)?, row.get(2)?))),
        )
    }

    /// One execution as JSON: its row, its attempts and, nested, its sub-workflows.
    pub fn timeline(&self, id: &str) -> Result<Value> {
        let execution = self.execution(id)?;
        let attempts = self.attempts(&execution.id)?;
        let children = self
            .children(&execution.id)?
            .iter()
            .map(|child| self.timeline(&child.id))
            .collect::<Result<Vec<_>>>()?;
        let waits = self.waits_of(&execution.id)?;
        let refused = self.refused_deliveries(&execution.id)?;
        Ok(serde_json::json!({
            "execution": execution,
            "attempts": attempts,
            "waits": waits,
            "refused_deliveries": refused,
            "children": children,
        }))
    }
}
