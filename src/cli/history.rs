//! `wfc history` and `wfc events`.

use super::table::{self, short_id};
use super::Error;
use super::{open_store_read, print_list, DbArgs, Format};
use crate::store::{ExecutionStatus, HistoryFilter};
use clap::builder::{PossibleValuesParser, TypedValueParser};
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
    /// Only executions with this status.
    #[arg(long, value_parser = PossibleValuesParser::new(ExecutionStatus::names())
        .try_map(|s| s.parse::<ExecutionStatus>()))]
    status: Option<ExecutionStatus>,
    /// At most this many, newest first (text: 20 unless given; JSON: all).
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: HistoryArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let store = open_store_read(db)?;
    let filter = HistoryFilter {
        workflow: args.workflow,
        version: args.version,
        status: args.status,
        limit: limit(args.limit, args.format),
        ..HistoryFilter::default()
    };
    let filtered = filter.workflow.is_some() || filter.version.is_some() || filter.status.is_some();
    let executions = store.executions(&filter)?;
    // A running execution whose process is gone is waiting for `wfc resume`.
    let mut interrupted = std::collections::HashSet::new();
    for execution in &executions {
        if execution.status == ExecutionStatus::Running
            && !crate::resume::owner_alive(&store, execution)?
        {
            interrupted.insert(execution.id.as_str());
        }
    }
    cut_note(executions.len(), args.limit, args.format);
    // What an empty list means: nothing ran yet, or nothing that matched.
    let none = match (args.limit, filtered) {
        (Some(0), _) => "--limit 0 lists none",
        (_, true) => "no execution matches these filters",
        (_, false) => "no executions recorded yet",
    };
    print_list(
        &executions,
        args.format,
        none,
        &[
            "ID", "WORKFLOW", "VERSION", "TRIGGER", "STATUS", "STARTED", "DURATION", "AGENTS",
        ],
        |e| {
            vec![
                short_id(&e.id).to_string(),
                e.workflow.clone(),
                e.version.clone().unwrap_or_else(|| "-".into()),
                e.trigger.clone().unwrap_or_else(|| "-".into()),
                match interrupted.contains(e.id.as_str()) {
                    true => "interrupted (wfc resume)".to_string(),
                    false => e.status.to_string(),
                },
                e.started_at.clone(),
                table::duration(e.duration_ms),
                e.agents.join(", "),
            ]
        },
    )
}

#[derive(Args)]
pub struct EventsArgs {
    /// At most this many, newest first (text: 20 unless given; JSON: all).
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// How many rows a text table shows when `--limit` is not given.
const TEXT_LIMIT: usize = 20;

/// A text table stops at [`TEXT_LIMIT`] rows unless told otherwise; JSON, read by
/// programs, has everything unless told otherwise.
fn limit(given: Option<usize>, format: Format) -> Option<usize> {
    match format {
        Format::Text => Some(given.unwrap_or(TEXT_LIMIT)),
        Format::Json => given,
    }
}

/// Says on stderr when a text table may have been cut at the default limit.
fn cut_note(shown: usize, given: Option<usize>, format: Format) {
    if format == Format::Text && given.is_none() && shown == TEXT_LIMIT {
        eprintln!("(the newest {TEXT_LIMIT}; --limit N shows more)");
    }
}

pub fn events(args: EventsArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let store = open_store_read(db)?;
    let events = store.events(limit(args.limit, args.format))?;
    cut_note(events.len(), args.limit, args.format);
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
