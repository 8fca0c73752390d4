//! The seed's workflow KPIs over the store — completion time, success rate — and,
//! per agent, calls, failures, mean duration, utilisation, and a model's tokens
//! and their cost. The CLI (`wfc stats`)
//! prints them; anything else (the HTTP API) can serve the same figures.

use crate::store::{
    parse_timestamp, AttemptStatus, CallFigure, ExecutionFigure, ExecutionStatus, Store, StoreError,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

#[derive(Serialize)]
pub struct WorkflowStats {
    pub workflow: String,
    pub executions: usize,
    pub completed: usize,
    pub failed: usize,
    pub running: usize,
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

#[derive(Serialize)]
pub struct AgentStats {
    pub agent: String,
    pub calls: usize,
    pub failures: usize,
    pub mean_ms: Option<f64>,
    /// The agent's declared `capacity`, when the file was given and declares one.
    pub capacity: Option<usize>,
    /// The share of the window its slots were busy: with a `capacity`, call time
    /// over window × capacity; without, the time at least one call ran over the
    /// window. 1.0 means busy all the time; it is never more.
    pub utilisation: f64,
    /// Tokens a language model's calls used (0 for other agents).
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// What they cost in US dollars, when the agent declares prices.
    pub cost_usd: Option<f64>,
}

#[derive(Serialize)]
pub struct Stats {
    /// Every figure covers the executions that started in `[since, until)`
    /// (and those still running); utilisation is measured over it.
    pub window: Window,
    pub workflows: Vec<WorkflowStats>,
    pub agents: Vec<AgentStats>,
    /// The executions that started within the window, in [`BUCKETS`] equal
    /// stretches of it, oldest first: how completion time and success moved.
    pub over_time: Vec<Bucket>,
}

/// How many stretches `over_time` cuts the window into.
pub const BUCKETS: usize = 12;

/// The executions started in `[since, until)`.
#[derive(Serialize)]
pub struct Bucket {
    pub since: String,
    pub until: String,
    pub completed: usize,
    pub failed: usize,
    pub success_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

#[derive(Serialize)]
pub struct Window {
    pub since: String,
    pub until: String,
}

/// The figures for `workflow` (all without one), with utilisation over the
/// `window` before `now`; `capacities` are the agents' declared `capacity`.
pub fn compute(
    store: &Store,
    workflow: Option<&str>,
    capacities: &HashMap<String, usize>,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<Stats, StoreError> {
    // Slim rows (no inputs or outputs) of the window only: a year's history is
    // never read whole.
    let start = now - chrono::Duration::from_std(window).unwrap_or_default();
    let executions = store.execution_figures(workflow, start)?;
    let calls = store.call_figures(workflow, start)?;
    let mut by_workflow: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for e in &executions {
        by_workflow.entry(&e.workflow).or_default().push(e);
    }
    let workflows = by_workflow
        .into_iter()
        .map(|(workflow, runs)| {
            let o = Outcomes::of(&runs);
            WorkflowStats {
                workflow: workflow.to_string(),
                executions: runs.len(),
                completed: o.completed,
                failed: o.failed,
                running: runs
                    .iter()
                    .filter(|e| e.status == ExecutionStatus::Running)
                    .count(),
                success_rate: o.success_rate(),
                p50_ms: percentile(&o.durations, 0.50),
                p95_ms: percentile(&o.durations, 0.95),
                max_ms: o.durations.last().copied(),
            }
        })
        .collect();
    // The utilisation window, in ms since the epoch like the spans below.
    let until = now.timestamp_micros() as f64 / 1000.0;
    let since = until - window.as_millis() as f64;
    let agents = agent_stats(&calls, capacities, since, until);
    let stats = Stats {
        window: Window {
            since: crate::store::timestamp(start),
            until: crate::store::timestamp(now),
        },
        workflows,
        agents,
        over_time: over_time(&executions, start, now),
    };
    Ok(stats)
}

/// How a set of executions ended: the finished ones' counts and the completed
/// ones' durations, sorted.
struct Outcomes {
    completed: usize,
    failed: usize,
    durations: Vec<f64>,
}

impl Outcomes {
    fn of(runs: &[&ExecutionFigure]) -> Self {
        let count = |status| runs.iter().filter(|e| e.status == status).count();
        let mut durations: Vec<f64> = runs
            .iter()
            .filter(|e| e.status == ExecutionStatus::Completed)
            .filter_map(|e| e.duration_ms)
            .collect();
        durations.sort_by(f64::total_cmp);
        Outcomes {
            completed: count(ExecutionStatus::Completed),
            failed: count(ExecutionStatus::Failed),
            durations,
        }
    }

    /// Completed over finished; none while nothing finished.
    fn success_rate(&self) -> Option<f64> {
        let finished = self.completed + self.failed;
        (finished > 0).then(|| self.completed as f64 / finished as f64)
    }
}

/// The executions started in `[start, end)` cut into [`BUCKETS`] stretches.
fn over_time(
    executions: &[ExecutionFigure],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<Bucket> {
    let step = (end - start) / BUCKETS as i32;
    let mut buckets: Vec<Vec<&ExecutionFigure>> = vec![Vec::new(); BUCKETS];
    if step > chrono::Duration::zero() {
        for e in executions {
            let Some(at) = parse_timestamp(&e.started_at) else {
                continue;
            };
            if at >= start && at < end {
                let index = ((at - start).num_microseconds().unwrap_or(0)
                    / step.num_microseconds().unwrap_or(1).max(1))
                    as usize;
                buckets[index.min(BUCKETS - 1)].push(e);
            }
        }
    }
    buckets
        .into_iter()
        .enumerate()
        .map(|(i, runs)| {
            let o = Outcomes::of(&runs);
            let since = start + step * i as i32;
            Bucket {
                since: crate::store::timestamp(since),
                until: crate::store::timestamp(if i + 1 == BUCKETS { end } else { since + step }),
                completed: o.completed,
                failed: o.failed,
                success_rate: o.success_rate(),
                p50_ms: percentile(&o.durations, 0.50),
                p95_ms: percentile(&o.durations, 0.95),
            }
        })
        .collect()
}

/// Each agent's figures from its calls, utilisation over `[since, until)` (ms
/// since the epoch). A call ends at its duration or, cancelled or interrupted,
/// when it was stopped; only one still running counts until now. A failure is a
/// call that failed: a cancelled or interrupted one is not.
fn agent_stats(
    calls: &[CallFigure],
    capacities: &HashMap<String, usize>,
    since: f64,
    until: f64,
) -> Vec<AgentStats> {
    let millis = |stamp: &str| Some(parse_timestamp(stamp)?.timestamp_micros() as f64 / 1000.0);
    let mut by_agent: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for call in calls {
        by_agent.entry(&call.agent).or_default().push(call);
    }
    by_agent
        .into_iter()
        .map(|(agent, calls)| {
            let finished: Vec<f64> = calls.iter().filter_map(|a| a.duration_ms).collect();
            let busy: f64 = finished.iter().sum();
            let spans: Vec<(f64, f64)> = calls
                .iter()
                .filter_map(|a| {
                    let start = millis(&a.started_at)?;
                    let end = match (a.duration_ms, &a.finished_at, a.status) {
                        (Some(d), _, _) => start + d,
                        (None, _, AttemptStatus::Running) => until,
                        (None, Some(at), _) => millis(at)?,
                        (None, None, _) => start,
                    };
                    let (start, end) = (start.max(since), end.min(until));
                    (end > start).then_some((start, end))
                })
                .collect();
            let capacity = capacities.get(agent).copied();
            let tokens: Vec<_> = calls.iter().filter_map(|a| a.tokens).collect();
            let costs: Vec<f64> = tokens.iter().filter_map(|t| t.cost_usd).collect();
            AgentStats {
                tokens_in: tokens.iter().map(|t| t.input).sum(),
                tokens_out: tokens.iter().map(|t| t.output).sum(),
                cost_usd: (!costs.is_empty()).then(|| costs.iter().sum()),
                agent: agent.to_string(),
                capacity,
                calls: calls.len(),
                failures: calls.iter().filter(|a| a.status.is_failure()).count(),
                mean_ms: (!finished.is_empty()).then(|| busy / finished.len() as f64),
                utilisation: utilisation(spans, until - since, capacity),
            }
        })
        .collect()
}

/// The share of a window of `length` ms that an agent's slots were busy, from its
/// calls' spans within the window: call time over length × capacity, or without a
/// capacity the time covered by at least one call over length. At most 1.
fn utilisation(mut spans: Vec<(f64, f64)>, length: f64, capacity: Option<usize>) -> f64 {
    if length <= 0.0 {
        return 0.0;
    }
    let busy = match capacity {
        Some(slots) => spans.iter().map(|(a, b)| b - a).sum::<f64>() / slots.max(1) as f64,
        None => {
            spans.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut covered = 0.0;
            let mut reached = f64::NEG_INFINITY;
            for (start, end) in spans {
                let start = start.max(reached);
                if end > start {
                    covered += end - start;
                    reached = end;
                }
            }
            covered
        }
    };
    // Stamps and durations are measured apart; never report more than all of it.
    (busy / length).clamp(0.0, 1.0)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::{over_time, percentile, utilisation, BUCKETS};
    use crate::store::{ExecutionFigure, ExecutionStatus};
    use chrono::{TimeZone, Utc};

    fn row(started_at: &str, status: ExecutionStatus, duration_ms: Option<f64>) -> ExecutionFigure {
        ExecutionFigure {
            workflow: "w".into(),
            status,
            started_at: started_at.into(),
            duration_ms,
        }
    }

    #[test]
    fn over_time_puts_each_execution_in_the_stretch_it_started_in() {
        use ExecutionStatus::*;
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        let runs = [
            row("2025-12-31T23:59:59.000Z", Completed, Some(1.0)), // before
            row("2026-01-01T00:10:00.000Z", Completed, Some(100.0)),
            row("2026-01-01T00:50:00.000Z", Completed, Some(300.0)),
            row("2026-01-01T00:59:00.000Z", Failed, None),
            row("2026-01-01T05:00:00.000Z", Failed, None),
            row("2026-01-01T11:59:59.000Z", Running, None),
            row("2026-01-01T12:00:00.000Z", Completed, Some(9.0)), // the end is out
        ];
        let buckets = over_time(&runs, start, end);
        assert_eq!(buckets.len(), BUCKETS);
        assert_eq!(buckets[0].since, "2026-01-01T00:00:00.000Z");
        assert_eq!(buckets[0].until, "2026-01-01T01:00:00.000Z");
        assert_eq!((buckets[0].completed, buckets[0].failed), (2, 1));
        assert_eq!(buckets[0].success_rate, Some(2.0 / 3.0));
        assert_eq!(buckets[0].p50_ms, Some(100.0));
        assert_eq!(buckets[0].p95_ms, Some(300.0));
        assert_eq!((buckets[5].failed, buckets[5].success_rate), (1, Some(0.0)));
        // A running execution is counted nowhere yet; an empty stretch has no rate.
        assert_eq!(buckets[11].success_rate, None);
        assert_eq!(buckets[11].until, "2026-01-01T12:00:00.000Z");
        let total: usize = buckets.iter().map(|b| b.completed + b.failed).sum();
        assert_eq!(total, 4);
    }

    #[test]
    fn utilisation_is_a_share_of_the_window_and_never_more_than_all_of_it() {
        // One call covering the whole window, measured a little long: 100%, not 102%.
        assert_eq!(utilisation(vec![(0.0, 1020.0)], 1000.0, None), 1.0);
        // Two overlapping calls with no capacity: the time covered, 75%.
        assert_eq!(
            utilisation(vec![(0.0, 500.0), (250.0, 750.0)], 1000.0, None),
            0.75
        );
        // The same with capacity 2: call time over two slots, 50%.
        assert_eq!(
            utilisation(vec![(0.0, 500.0), (250.0, 750.0)], 1000.0, Some(2)),
            0.5
        );
        assert_eq!(utilisation(vec![], 1000.0, Some(1)), 0.0);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&values, 0.5), Some(5.0));
        assert_eq!(percentile(&values, 0.95), Some(10.0));
        assert_eq!(percentile(&[3.0], 0.95), Some(3.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn a_cancelled_call_ends_when_it_was_stopped_and_is_no_failure() {
        use crate::store::{AttemptStatus, CallFigure};
        let call = |status, started: &str, finished: Option<&str>, duration| CallFigure {
            agent: "slow".into(),
            status,
            started_at: started.into(),
            finished_at: finished.map(String::from),
            duration_ms: duration,
            tokens: None,
        };
        let at = |s: &str| crate::store::parse_timestamp(s).unwrap().timestamp_millis() as f64;
        let (since, until) = (at("2026-12-07T10:00:00Z"), at("2026-12-07T10:10:00Z"));
        let calls = [
            // Cancelled after 5 s: 5 s of the 10 minutes, not until now.
            call(
                AttemptStatus::Cancelled,
                "2026-12-07T10:00:00Z",
                Some("2026-12-07T10:00:05Z"),
                None,
            ),
            call(
                AttemptStatus::Interrupted,
                "2026-12-07T10:01:00Z",
                Some("2026-12-07T10:01:05Z"),
                None,
            ),
            call(
                AttemptStatus::Completed,
                "2026-12-07T10:02:00Z",
                Some("2026-12-07T10:02:05Z"),
                Some(5000.0),
            ),
        ];
        let stats = super::agent_stats(&calls, &Default::default(), since, until);
        assert_eq!(stats[0].failures, 0);
        assert!(
            (stats[0].utilisation - 15.0 / 600.0).abs() < 1e-9,
            "{}",
            stats[0].utilisation
        );
        // Still running: until now.
        let running = [call(
            AttemptStatus::Running,
            "2026-12-07T10:05:00Z",
            None,
            None,
        )];
        let stats = super::agent_stats(&running, &Default::default(), since, until);
        assert!(
            (stats[0].utilisation - 0.5).abs() < 1e-9,
            "{}",
            stats[0].utilisation
        );
    }
}
