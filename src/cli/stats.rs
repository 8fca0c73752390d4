//! `wfc stats`: prints what `crate::stats` computes, as tables or JSON.

use super::table;
use super::Error;
use super::{open_store_read, print_json, DbArgs, Format};
use crate::stats::{self, Stats};
use clap::Args;
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
    /// The executions that started in this stretch of time until now, and
    /// those still running (e.g. 15m, 1h, 7d); utilisation is measured over it.
    /// Figures are never over the whole history: a year's is millions of rows.
    #[arg(long, default_value = "1d", value_parser = crate::duration::parse_std)]
    since: std::time::Duration,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
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
    let now = crate::clock::Clock::system().now();
    let stats = stats::compute(
        &store,
        args.workflow.as_deref(),
        &capacities,
        now,
        args.since,
    )?;
    if args.format == Format::Json {
        print_json(&stats);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", text(&stats));
    Ok(ExitCode::SUCCESS)
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
    let mut out = format!(
        "{}\n{}",
        table::render(
            &["WORKFLOW", "RUNS", "SUCCESS", "P50", "P95", "MAX"],
            &workflows
        ),
        table::render(
            &["AGENT", "CALLS", "FAILURES", "MEAN", &utilisation_header],
            &agents
        )
    );
    let models: Vec<Vec<String>> = stats
        .agents
        .iter()
        .filter(|a| a.tokens_in + a.tokens_out > 0)
        .map(|a| {
            vec![
                a.agent.clone(),
                a.tokens_in.to_string(),
                a.tokens_out.to_string(),
                a.cost_usd.map_or("-".into(), table::dollars),
            ]
        })
        .collect();
    if !models.is_empty() {
        out.push('\n');
        out.push_str(&table::render(
            &["MODEL AGENT", "TOKENS IN", "TOKENS OUT", "COST"],
            &models,
        ));
    }
    out
}
