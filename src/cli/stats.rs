//! `wfc stats`: the seed's workflow KPIs — completion time, success rate — and, per
//! agent, calls, failures, mean duration and utilisation.

use super::table;
use super::Error;
use super::{open_store_read, print_json, DbArgs, Format};
use crate::store::{parse_timestamp, AttemptStatus, ExecutionStatus, HistoryFilter};
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct StatsArgs {
    /// The .wf file declaring the agents: utilisation is then a share of each
    /// agent's `capacity`.
    file: Option<PathBuf>,
    /// Only this workflow (and the agent calls of its executions).
    #[arg(long)]
    workflow: Option<String>,
    /// Utilisation over this stretch of time until now (e.g. 15m, 1h, 7d).
    #[arg(long, default_value = "1h", value_parser = crate::duration::parse_std)]
    since: std::time::Duration,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Serialize)]
struct WorkflowStats {
    workflow: String,
    executions: usize,
    completed: usize,
    failed: usize,
    running: usize,
    success_rate: Option<f64>,
    p50_ms: Option<f64>,
    p95_ms: Option<f64>,
    max_ms: Option<f64>,
}

#[derive(Serialize)]
struct AgentStats {
    agent: String,
    calls: usize,
    failures: usize,
    mean_ms: Option<f64>,
    /// The agent's declared `capacity`, when the file was given and declares one.
    capacity: Option<usize>,
    /// The share of the window its slots were busy: with a `capacity`, call time
    /// over window × capacity; without, the time at least one call ran over the
    /// window. 1.0 means busy all the time; it is never more.
    utilisation: f64,
}

#[derive(Serialize)]
struct Stats {
    /// Utilisation is measured over `[since, until)`; the other figures cover
    /// everything recorded.
    window: Window,
    workflows: Vec<WorkflowStats>,
    agents: Vec<AgentStats>,
}

#[derive(Serialize)]
struct Window {
    since: String,
    until: String,
}

pub fn run(args: StatsArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let capacities: std::collections::HashMap<String, usize> = match &args.file {
        Some(file) => super::run::checked_program(file)?
            .1
            .agents()
            .iter()
            .filter_map(|a| Some((a.name.clone(), a.capacity?.get())))
            .collect(),
        None => Default::default(),
    };
    let store = open_store_read(db)?;
    let filter = HistoryFilter {
        workflow: args.workflow.clone(),
        ..HistoryFilter::default()
    };
    let executions = store.executions(&filter)?;
    let attempts = store.all_attempts(args.workflow.as_deref())?;
    let mut by_workflow: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for e in &executions {
        by_workflow.entry(&e.workflow).or_default().push(e);
    }
    let workflows = by_workflow
        .into_iter()
        .map(|(workflow, runs)| {
            let count = |status| runs.iter().filter(|e| e.status == status).count();
            let (completed, failed) = (
                count(ExecutionStatus::Completed),
                count(ExecutionStatus::Failed),
            );
            let mut durations: Vec<f64> = runs
                .iter()
                .filter(|e| e.status == ExecutionStatus::Completed)
                .filter_map(|e| e.duration_ms)
                .collect();
            durations.sort_by(f64::total_cmp);
            WorkflowStats {
                workflow: workflow.to_string(),
                executions: runs.len(),
                completed,
                failed,
                running: count(ExecutionStatus::Running),
                success_rate: (completed + failed > 0)
                    .then(|| completed as f64 / (completed + failed) as f64),
                p50_ms: percentile(&durations, 0.50),
                p95_ms: percentile(&durations, 0.95),
                max_ms: durations.last().copied(),
            }
        })
        .collect();
    // The utilisation window, in ms since the epoch like the spans below.
    let now = crate::clock::Clock::system().now();
    let until = now.timestamp_micros() as f64 / 1000.0;
    let since = until - args.since.as_millis() as f64;
    let mut by_agent: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for a in &attempts {
        if let Some(agent) = &a.agent {
            by_agent.entry(agent).or_default().push(a);
        }
    }
    let agents = by_agent
        .into_iter()
        .map(|(agent, calls)| {
            let finished: Vec<f64> = calls.iter().filter_map(|a| a.duration_ms).collect();
            let busy: f64 = finished.iter().sum();
            // Each call as [start, end) in ms, a running one until now, cut to the window.
            let spans: Vec<(f64, f64)> = calls
                .iter()
                .filter_map(|a| {
                    let start = parse_timestamp(&a.started_at)?.timestamp_micros() as f64 / 1000.0;
                    let end = a.duration_ms.map_or(until, |d| start + d);
                    let (start, end) = (start.max(since), end.min(until));
                    (end > start).then_some((start, end))
                })
                .collect();
            let capacity = capacities.get(agent).copied();
            AgentStats {
                agent: agent.to_string(),
                capacity,
                calls: calls.len(),
                failures: calls
                    .iter()
                    .filter(|a| {
                        !matches!(a.status, AttemptStatus::Completed | AttemptStatus::Running)
                    })
                    .count(),
                mean_ms: (!finished.is_empty()).then(|| busy / finished.len() as f64),
                utilisation: utilisation(spans, until - since, capacity),
            }
        })
        .collect();
    let window = Window {
        since: crate::store::timestamp(
            now - chrono::Duration::from_std(args.since).unwrap_or_default(),
        ),
        until: crate::store::timestamp(now),
    };
    let stats = Stats {
        window,
        workflows,
        agents,
    };
    if args.format == Format::Json {
        print_json(&stats);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", text(&stats));
    Ok(ExitCode::SUCCESS)
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

fn text(stats: &Stats) -> String {
    let utilisation_header = format!("UTILISATION (SINCE {})", stats.window.since);
    let percent = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.0}%", v * 100.0));
    let workflows: Vec<Vec<String>> = stats
        .workflows
        .iter()
        .map(|w| {
            vec![
                w.workflow.clone(),
                w.executions.to_string(),
                percent(w.success_rate),
                table::duration(w.p50_ms),
                table::duration(w.p95_ms),
                table::duration(w.max_ms),
            ]
        })
        .collect();
    let agents: Vec<Vec<String>> = stats
        .agents
        .iter()
        .map(|a| {
            vec![
                a.agent.clone(),
                a.calls.to_string(),
                a.failures.to_string(),
                table::duration(a.mean_ms),
                percent(Some(a.utilisation)),
            ]
        })
        .collect();
    format!(
        "{}\n{}",
        table::render(
            &["WORKFLOW", "RUNS", "SUCCESS", "P50", "P95", "MAX"],
            &workflows
        ),
        table::render(
            &["AGENT", "CALLS", "FAILURES", "MEAN", &utilisation_header],
            &agents
        )
    )
}

#[cfg(test)]
mod tests {
    use super::{percentile, utilisation};

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
}
