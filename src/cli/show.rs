//! `wfc show ID`: one execution as a timeline.

use super::table::{self, short_id};
use super::Error;
use super::{open_store_read, print_json, DbArgs, Format};
use crate::store::{
    parse_timestamp, DecisionSource, ExecutionRow, Store, StoreError, WaitOutcome, WaitRow,
};
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct ShowArgs {
    /// The execution id, or a unique prefix or suffix of it (history shows the last 8 characters).
    id: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: ShowArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let store = open_store_read(db)?;
    let execution = store.execution(&args.id)?;
    match args.format {
        Format::Json => print_json(&store.timeline(&execution.id)?),
        Format::Text => {
            let mut out = String::new();
            timeline_text(&store, &execution, 0, &mut out)?;
            print!("{out}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn timeline_text(
    store: &Store,
    execution: &ExecutionRow,
    depth: usize,
    out: &mut String,
) -> Result<(), StoreError> {
    let indent = "    ".repeat(depth);
    let version = execution.version.as_deref().unwrap_or("unversioned");
    out.push_str(&format!(
        "{indent}execution {}\n{indent}  workflow  {} {version} (source blob {})\n",
        execution.id,
        execution.workflow,
        short_id(&execution.source_blob),
    ));
    if let (Some(template), Some(blob)) = (&execution.template, &execution.template_blob) {
        let at = match (&execution.template_rev, &execution.template_commit) {
            (Some(rev), Some(commit)) => {
                format!(", at `{rev}`: commit {}", crate::git::short(commit))
            }
            _ => String::new(),
        };
        out.push_str(&format!(
            "{indent}  template  {template} (source blob {}{at})\n",
            short_id(blob)
        ));
    }
    out.push_str(&format!(
        "{indent}  trigger   {}\n{indent}  status    {} after {}\n{indent}  started   {}\n{indent}  input     {}\n",
        execution.trigger.as_deref().unwrap_or("-"),
        execution.status,
        table::duration(execution.duration_ms),
        execution.started_at,
        execution.input,
    ));
    if let Some(parent) = &execution.parent_id {
        out.push_str(&format!(
            "{indent}  parent    {} (step {})\n",
            parent,
            execution.parent_step.as_deref().unwrap_or("?")
        ));
    }
    match (&execution.result, &execution.error) {
        (Some(result), _) => out.push_str(&format!("{indent}  result    {result}\n")),
        (_, Some(error)) => out.push_str(&format!("{indent}  error     {error}\n")),
        _ => {}
    }
    let start = parse_timestamp(&execution.started_at);
    let attempts = store.attempts(&execution.id)?;
    let used: Vec<_> = attempts.iter().filter_map(|a| a.tokens).collect();
    if !used.is_empty() {
        out.push_str(&format!(
            "{indent}  tokens    {}\n",
            tokens_text(
                used.iter().map(|t| t.input).sum(),
                used.iter().map(|t| t.output).sum(),
                used.iter().filter_map(|t| t.cost_usd).reduce(|a, b| a + b),
            )
        ));
    }
    let children = store.children(&execution.id)?;
    if !attempts.is_empty() {
        out.push_str(&format!("{indent}  steps\n"));
    }
    for attempt in &attempts {
        let offset = match (start, parse_timestamp(&attempt.started_at)) {
            (Some(a), Some(b)) => format!(
                "+{}",
                table::duration(Some((b - a).num_milliseconds() as f64))
            ),
            _ => "?".into(),
        };
        out.push_str(&format!(
            "{indent}    {offset:>8}  {}  {}  #{}  {}  {}\n",
            attempt.step,
            attempt.agent.as_deref().unwrap_or("-"),
            attempt.attempt,
            table::duration(attempt.duration_ms),
            attempt.status,
        ));
        if let Some(tokens) = attempt.tokens {
            let text = tokens_text(tokens.input, tokens.output, tokens.cost_usd);
            out.push_str(&format!("{indent}              tokens: {text}\n"));
        }
        if let Some(error) = &attempt.error {
            let error = table::printable(error);
            out.push_str(&format!("{indent}              error: {error}\n"));
        }
        if let Some(stderr) = &attempt.stderr_tail {
            for line in stderr
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                let line = table::printable(line);
                out.push_str(&format!("{indent}              stderr| {line}\n"));
            }
        }
        if let Some(child) = children
            .iter()
            .find(|c| Some(&c.id) == attempt.child_execution_id.as_ref())
        {
            timeline_text(store, child, depth + 1, out)?;
        }
    }
    waits_text(store, &execution.id, &indent, out)
}

/// Each `await` the execution reached: what for, since and until when, and
/// how it ended; then the deliveries it refused.
fn waits_text(store: &Store, id: &str, indent: &str, out: &mut String) -> Result<(), StoreError> {
    let waits = store.waits_of(id)?;
    if waits.is_empty() {
        return Ok(());
    }
    out.push_str(&format!(
        "{indent}  waits
"
    ));
    for wait in &waits {
        let condition = wait
            .condition
            .as_ref()
            .map_or_else(String::new, |c| format!(" where {c}"));
        out.push_str(&format!(
            "{indent}    {}  \"{}\" {}{condition}\n{indent}      since {} until {}\n",
            wait.step, wait.pattern, wait.shape, wait.since, wait.until
        ));
        out.push_str(&format!("{indent}      {}\n", ending(wait)));
    }
    for refused in store.refused_deliveries(id)? {
        out.push_str(&format!(
            "{indent}    {}  refused event {} at {}: {}\n",
            refused.step,
            refused.event_id,
            refused.refused_at,
            table::printable(&refused.reason)
        ));
    }
    Ok(())
}

/// How a wait ended, or that it still waits.
fn ending(wait: &WaitRow) -> String {
    let at = wait.decided_at.as_deref().unwrap_or("?");
    let payload = wait
        .payload
        .as_ref()
        .map_or_else(String::new, |p| format!(" with {p}"));
    match (wait.outcome, wait.source) {
        (None, _) => "waiting".to_string(),
        (Some(WaitOutcome::TimedOut), _) => format!("timed out at {at}"),
        (Some(WaitOutcome::Resolved), Some(DecisionSource::Event)) => format!(
            "resolved at {at} by event {}{payload}",
            wait.event_id.map_or("?".to_string(), |id| id.to_string())
        ),
        (Some(WaitOutcome::Resolved), source) => {
            let source = source.map_or("?", DecisionSource::as_str);
            let who = match (&wait.decided_by, &wait.os_user) {
                (Some(name), Some(user)) => {
                    format!(", by \"{name}\" as they said (os user {user})")
                }
                (Some(name), None) => format!(", by \"{name}\" as they said"),
                (None, Some(user)) => format!(" (os user {user})"),
                (None, None) => String::new(),
            };
            format!("resolved at {at} from {source}{who}{payload}")
        }
    }
}

fn tokens_text(input: u64, output: u64, cost: Option<f64>) -> String {
    match cost {
        Some(cost) => format!("{input} in, {output} out, {}", table::dollars(cost)),
        None => format!("{input} in, {output} out"),
    }
}
