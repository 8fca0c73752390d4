//! `wfc history` and `wfc events`.

use super::table::{self, short_id};
use super::{open_store, print_list, DbArgs, Format};
use crate::store::HistoryFilter;
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct HistoryArgs {
    /// Only this workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// Only this workflow version.
    #[arg(long)]
    version: Option<String>,
    /// Only executions with this status: running, completed or failed.
    #[arg(long, value_parser = ["running", "completed", "failed"])]
    status: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    db: DbArgs,
}

pub fn run(args: HistoryArgs) -> ExitCode {
    let store = match open_store(&args.db) {
        Ok(store) => store,
        Err(error) => return super::usage_error(error),
    };
    let filter = HistoryFilter {
        workflow: args.workflow,
        version: args.version,
        status: args.status,
        limit: Some(args.limit),
    };
    let executions = match store.executions(&filter) {
        Ok(rows) => rows,
        Err(error) => return super::usage_error(error),
    };
    print_list(
        &executions,
        args.format,
        "no executions recorded yet",
        &[
            "ID", "WORKFLOW", "VERSION", "TRIGGER", "STATUS", "STARTED", "DURATION", "AGENTS",
        ],
        |e| {
            vec![
                short_id(&e.id).to_string(),
                e.workflow.clone(),
                e.version.clone().unwrap_or_else(|| "-".into()),
                e.trigger.clone().unwrap_or_else(|| "-".into()),
                e.status.clone(),
                e.started_at.clone(),
                table::duration(e.duration_ms),
                e.agents.join(", "),
            ]
        },
    )
}

#[derive(Args)]
pub struct EventsArgs {
    /// At most this many, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    db: DbArgs,
}

pub fn events(args: EventsArgs) -> ExitCode {
    let store = match open_store(&args.db) {
        Ok(store) => store,
        Err(error) => return super::usage_error(error),
    };
    let events = match store.events(Some(args.limit)) {
        Ok(rows) => rows,
        Err(error) => return super::usage_error(error),
    };
    print_list(
        &events,
        args.format,
        "no events emitted yet",
        &["ID", "EVENT", "EMITTED", "FROM", "STARTED", "PAYLOAD"],
        |e| {
            vec![
                e.id.to_string(),
                e.name.clone(),
                e.emitted_at.clone(),
                e.execution_id
                    .as_deref()
                    .map(short_id)
                    .unwrap_or("-")
                    .to_string(),
                started(&e.started),
                e.payload.to_string(),
            ]
        },
    )
}

/// `workflow short-id, …` of the executions an event started.
fn started(executions: &[(String, String)]) -> String {
    if executions.is_empty() {
        return "-".into();
    }
    executions
        .iter()
        .map(|(workflow, id)| format!("{workflow} {}", short_id(id)))
        .collect::<Vec<_>>()
        .join(", ")
}
