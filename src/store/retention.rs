//! Retention (`wfc db prune`, `wfc serve --retain`): finished executions older
//! than a cutoff are removed, a whole tree (a root and its sub-workflows) at a
//! time, with their attempts, waits, refused deliveries, trigger fires and
//! dead letters; old dispatched events and closed alert episodes go too. Never
//! what resume, exactly-once or alerts still need:
//! - a tree with an execution not finished (queued, or running: waiting too);
//! - a tree holding its trigger's newest fire: a dispatcher that starts again
//!   compares the next cron slot, event or metric crossing with it;
//! - a tree with a dead letter not yet replayed (unless asked);
//! - an event not dispatched yet, one a running execution may still await
//!   (recorded since the oldest of them started), or one that decided a wait;
//! - an open alert episode.
//!
//! Metric samples stay (goals and metric triggers read all of them); a pruned
//! execution's sample loses its link. Each batch of trees is one transaction,
//! so a server writing meanwhile waits one batch at most.

use super::db::{params, Db, NONE};
use super::{ExecutionStatus, Result, Store};
use chrono::{DateTime, Utc};

/// Trees looked at per transaction.
const BATCH: i64 = 500;

/// What to remove.
#[derive(Debug, Clone)]
pub struct Retention {
    /// Executions that finished before this (and events, episodes older).
    pub cutoff: DateTime<Utc>,
    /// The finished statuses of the roots to remove.
    pub statuses: Vec<ExecutionStatus>,
    /// Remove trees with a dead letter not yet replayed too.
    pub dead_letters: bool,
    /// Count, remove nothing.
    pub dry_run: bool,
    /// Give the freed space back to the file system (SQLite: `VACUUM`, which
    /// holds the write lock while it rewrites the file).
    pub vacuum: bool,
}

/// What was removed (or would be, in a dry run), and what was kept and why.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    pub executions: u64,
    pub attempts: u64,
    pub events: u64,
    pub dead_letters: u64,
    pub alert_episodes: u64,
    /// Old trees kept because an execution in them is not finished.
    pub kept_unfinished: u64,
    /// Old trees kept for a dead letter not yet replayed.
    pub kept_dead_letters: u64,
    /// Old trees kept as their trigger's newest fire.
    pub kept_newest_fire: u64,
    /// Bytes of the SQLite file now free for new rows (`None` on PostgreSQL,
    /// whose autovacuum makes the space reusable).
    pub reusable_bytes: Option<u64>,
    /// Bytes the SQLite file shrank by, with `vacuum`.
    pub reclaimed_bytes: Option<u64>,
}

impl Store {
    /// Removes what `retention` names; see the module's comment for what stays.
    pub fn prune(&mut self, retention: &Retention) -> Result<Pruned> {
        let cutoff = super::timestamp(retention.cutoff);
        let size_before = self.file_size()?;
        let mut pruned = Pruned::default();
        self.conn.batch(
            "CREATE TEMP TABLE IF NOT EXISTS prune_roots (id TEXT PRIMARY KEY, finished_at TEXT NOT NULL);
             CREATE TEMP TABLE IF NOT EXISTS prune_tree (root TEXT NOT NULL, id TEXT PRIMARY KEY)",
        )?;
        // Never an unfinished root, whatever was asked.
        let statuses = retention
            .statuses
            .iter()
            .filter(|s| s.is_finished())
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        if statuses.is_empty() {
            return Ok(Pruned::default());
        }
        let mut after = (String::new(), String::new());
        loop {
            let tx = self.conn.begin(false)?;
            tx.batch("DELETE FROM prune_roots; DELETE FROM prune_tree")?;
            let found = tx.execute(
                &format!(
                    "INSERT INTO prune_roots (id, finished_at)
                     SELECT id, finished_at FROM executions
                     WHERE parent_id IS NULL AND status IN ({statuses}) AND finished_at < ?1
                       AND (finished_at > ?2 OR (finished_at = ?2 AND id > ?3))
                     ORDER BY finished_at, id LIMIT {BATCH}"
                ),
                params![cutoff, after.0, after.1],
            )?;
            if found == 0 {
                break;
            }
            if let Some(last) = tx.row(
                "SELECT finished_at, id FROM prune_roots ORDER BY finished_at DESC, id DESC LIMIT 1",
                NONE,
                |row| Ok((row.get::<String>(0)?, row.get::<String>(1)?)),
            )? {
                after = last;
            }
            prune_batch(&tx, retention.dead_letters, &mut pruned)?;
            if !retention.dry_run {
                tx.commit()?;
            }
        }
        self.prune_events(&cutoff, retention.dry_run, &mut pruned)?;
        let episodes = "FROM alert_episodes WHERE ended_at IS NOT NULL AND ended_at < ?1";
        pruned.alert_episodes = if retention.dry_run {
            self.count_where(episodes, &cutoff)?
        } else {
            self.conn
                .execute(&format!("DELETE {episodes}"), params![cutoff])? as u64
        };
        self.conn
            .batch("DROP TABLE IF EXISTS prune_roots; DROP TABLE IF EXISTS prune_tree")?;
        if !retention.dry_run {
            pruned.reusable_bytes = self.free_bytes()?;
            if retention.vacuum {
                pruned.reclaimed_bytes = self.vacuum(size_before)?;
            }
        }
        Ok(pruned)
    }

    /// Dispatched events recorded before the cutoff that no running execution
    /// may still await and no wait was decided by, in batches.
    fn prune_events(&self, cutoff: &str, dry_run: bool, pruned: &mut Pruned) -> Result<()> {
        // A running execution matches events recorded since it started.
        let oldest_running: Option<String> = self
            .conn
            .row(
                "SELECT MIN(started_at) FROM executions WHERE status IN ('queued', 'running')",
                NONE,
                |row| row.get(0),
            )?
            .flatten();
        let before = match oldest_running {
            Some(started) if started.as_str() < cutoff => started,
            _ => cutoff.to_string(),
        };
        let old = "FROM events WHERE emitted_at < ?1 AND dispatched_at IS NOT NULL
                   AND id NOT IN (SELECT event_id FROM waits WHERE event_id IS NOT NULL)";
        if dry_run {
            pruned.events = self.count_where(old, &before)?;
            return Ok(());
        }
        loop {
            let removed = self.conn.execute(
                &format!("DELETE FROM events WHERE id IN (SELECT id {old} ORDER BY id LIMIT 5000)"),
                params![before],
            )? as u64;
            pruned.events += removed;
            if removed == 0 {
                return Ok(());
            }
        }
    }

    fn count_where(&self, from_where: &str, cutoff: &str) -> Result<u64> {
        Ok(self
            .conn
            .row(
                &format!("SELECT CAST(COUNT(*) AS BIGINT) {from_where}"),
                params![cutoff],
                |row| row.get(0),
            )?
            .unwrap_or(0))
    }

    /// The SQLite file's size in bytes (pages in use and free); `None` on PostgreSQL.
    fn file_size(&self) -> Result<Option<u64>> {
        self.pages_in_bytes("page_count")
    }

    /// Bytes of the SQLite file's free pages, which new rows take first.
    fn free_bytes(&self) -> Result<Option<u64>> {
        self.pages_in_bytes("freelist_count")
    }

    /// A page count SQLite gives (`PRAGMA pages`), in bytes; `None` on PostgreSQL.
    fn pages_in_bytes(&self, pages: &str) -> Result<Option<u64>> {
        if !matches!(self.conn, Db::Sqlite(_)) {
            return Ok(None);
        }
        let pragma = |name: &str| -> Result<i64> {
            Ok(self
                .conn
                .row(&format!("PRAGMA {name}"), NONE, |row| row.get(0))?
                .unwrap_or(0))
        };
        Ok(Some((pragma(pages)? * pragma("page_size")?) as u64))
    }

    /// Rewrites the SQLite file without its free pages (a full `VACUUM`: no
    /// auto-vacuum mode, which changes how writes reach the disk), and says
    /// how much smaller it is.
    fn vacuum(&self, before: Option<u64>) -> Result<Option<u64>> {
        let Some(before) = before else {
            return Ok(None);
        };
        self.conn.batch("VACUUM")?;
        self.conn.batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        let after = self.file_size()?.unwrap_or(before);
        Ok(Some(before.saturating_sub(after)))
    }
}

/// Keeps out of `prune_roots` what must stay, then removes the rest of the
/// batch's trees (or counts them, when the transaction is rolled back).
fn prune_batch(tx: &Db, dead_letters: bool, pruned: &mut Pruned) -> Result<()> {
    tx.execute(
        "INSERT INTO prune_tree (root, id)
         WITH RECURSIVE tree(root, id) AS (
             SELECT id, id FROM prune_roots
             UNION ALL
             SELECT tree.root, e.id FROM executions e JOIN tree ON e.parent_id = tree.id
         )
         SELECT root, id FROM tree",
        NONE,
    )?;
    let keep = |which: &str| -> Result<u64> {
        Ok(tx.execute(
            &format!(
                "DELETE FROM prune_roots WHERE id IN (SELECT t.root FROM prune_tree t {which})"
            ),
            NONE,
        )? as u64)
    };
    pruned.kept_unfinished +=
        keep("JOIN executions e ON e.id = t.id WHERE e.status IN ('queued', 'running')")?;
    if !dead_letters {
        pruned.kept_dead_letters +=
            keep("JOIN dead_letters d ON d.execution_id = t.id WHERE d.replayed_by IS NULL")?;
    }
    pruned.kept_newest_fire += keep(
        "JOIN trigger_fires f ON f.execution_id = t.id
         WHERE f.fired_at = (SELECT MAX(g.fired_at) FROM trigger_fires g WHERE g.trigger = f.trigger)",
    )?;
    tx.execute(
        "DELETE FROM prune_tree WHERE root NOT IN (SELECT id FROM prune_roots)",
        NONE,
    )?;
    let tree = "SELECT id FROM prune_tree";
    let run =
        |sql: &str| -> Result<u64> { Ok(tx.execute(&sql.replace("TREE", tree), NONE)? as u64) };
    // A replay kept elsewhere loses its link to a dead letter removed here, as
    // when a dead letter is dropped.
    run("UPDATE executions SET replay_of = NULL WHERE replay_of IN
         (SELECT id FROM dead_letters WHERE execution_id IN (TREE))")?;
    pruned.dead_letters += run("DELETE FROM dead_letters WHERE execution_id IN (TREE)")?;
    pruned.attempts += run("DELETE FROM step_attempts WHERE execution_id IN (TREE)")?;
    run("DELETE FROM waits WHERE execution_id IN (TREE)")?;
    run("DELETE FROM refused_deliveries WHERE execution_id IN (TREE)")?;
    run("DELETE FROM trigger_fires WHERE execution_id IN (TREE)")?;
    run("UPDATE metrics SET execution_id = NULL WHERE execution_id IN (TREE)")?;
    run("UPDATE events SET execution_id = NULL WHERE execution_id IN (TREE)")?;
    run("DELETE FROM workflow_executions WHERE workflow_id IN (TREE)")?;
    pruned.executions += run("DELETE FROM executions WHERE id IN (TREE)")?;
    Ok(())
}
