//! `wfc explain FILE NAME [--at TIME]`

use super::run::checked_program;
use super::{open_store_read, DbArgs, Error};
use crate::clock::Clock;
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ExplainArgs {
    /// The .wf file that declares the name (with its imports).
    file: PathBuf,
    /// A retry policy, trigger, workflow, agent, metric or goal.
    name: String,
    /// Explain as of this time (RFC 3339; default: now): the next cron slots after
    /// it, a metric trigger's reading in its period.
    #[arg(long, value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("`{text}` is not an RFC 3339 time like 2026-11-25T09:00:00Z"))
}

pub fn run(args: ExplainArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let (_, program) = checked_program(&args.file)?;
    // What the program declares needs no store: a store an older wfc wrote is
    // left out (a reading command does not upgrade it), and the reader told.
    let (store, left_out) = match open_store_read(db) {
        Ok(store) => (Some(store), None),
        Err(outdated @ StoreError::Outdated { .. }) => (None, Some(outdated)),
        Err(other) => return Err(other.into()),
    };
    let now = args.at.unwrap_or_else(|| Clock::system().now());
    let text = crate::explain::explain(&program, &args.name, store.as_ref(), now);
    if text.is_empty() {
        let names = crate::explain::names(&program);
        let help = crate::text::did_you_mean(&args.name, names.iter().map(String::as_str))
            .unwrap_or_else(|| {
                "it explains retry policies, breakers, triggers, workflows, agents, metrics, goals and alerts".into()
            });
        return Err(Error::usage(format!(
            "`{}` declares nothing named `{}`; {help}",
            args.file.display(),
            args.name
        )));
    }
    print!("{text}");
    if let Some(outdated) = left_out {
        eprintln!("what the store recorded is left out: {outdated}");
    }
    Ok(ExitCode::SUCCESS)
}
