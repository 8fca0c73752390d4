//! `wfc dlq list | show ID | replay ID | drop ID`: the dead-letter queue.

use super::run::{checked_program, engine, print_results, runtime};
use super::table::short_id;
use super::Error;
use super::{open_store, open_store_read, print_json, print_list, DbArgs, Format};
use crate::runtime::Origin;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    command: DlqCommand,
    /// How `list` prints (before or after the subcommand).
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    format: Format,
}

#[derive(Subcommand)]
enum DlqCommand {
    /// List dead letters, oldest first.
    List,
    /// Show one dead letter: the root cause first, then every failed attempt,
    /// its input and its execution.
    Show { id: i64 },
    /// Run the failed workflow again with the same input, as a new linked execution.
    Replay {
        id: i64,
        /// The .wf file to run (default: the file the failed execution ran).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Remove a dead letter.
    Drop { id: i64 },
}

pub fn run(args: DlqArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let mut store = match args.command {
        DlqCommand::List | DlqCommand::Show { .. } => open_store_read(db)?,
        _ => open_store(db)?,
    };
    let letter = |store: &crate::store::Store, id: i64| match store.dead_letter(id)? {
        Some(letter) => Ok(letter),
        None => Err(Error::from(format!(
            "no dead letter {id}; see `wfc dlq list`"
        ))),
    };
    match args.command {
        DlqCommand::List => print_list(
            &store.dead_letters()?,
            args.format,
            "the dead-letter queue is empty",
            &[
                "ID",
                "WORKFLOW",
                "EXECUTION",
                "FAILED",
                "ERROR",
                "REPLAYED BY",
            ],
            |d| {
                vec![
                    d.id.to_string(),
                    d.workflow.clone(),
                    short_id(&d.execution_id).to_string(),
                    d.created_at.clone(),
                    super::table::printable(d.error["message"].as_str().unwrap_or("")).into_owned(),
                    d.replayed_by
                        .as_deref()
                        .map(short_id)
                        .unwrap_or("-")
                        .to_string(),
                ]
            },
        ),
        DlqCommand::Show { id } => {
            let letter = letter(&store, id)?;
            let failed = store.failed_attempts(&letter.execution_id)?;
            if args.format == Format::Json {
                let mut shown = serde_json::to_value(&letter).unwrap_or_default();
                shown["failed_attempts"] = serde_json::json!(failed
                    .iter()
                    .map(|a| serde_json::json!({
                        "step": a.step, "agent": a.agent, "attempt": a.attempt,
                        "status": a.status.to_string(), "error": a.error,
                        "started_at": a.started_at,
                    }))
                    .collect::<Vec<_>>());
                print_json(&shown);
                return Ok(ExitCode::SUCCESS);
            }
            print!("{}", letter_text(&letter, &failed, db));
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Drop { id } => {
            if !store.drop_dead_letter(id)? {
                return Err(Error::from(format!(
                    "no dead letter {id}; see `wfc dlq list`"
                )));
            }
            eprintln!("dead letter {id} dropped");
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Replay { id, file } => {
            let letter = letter(&store, id)?;
            let failed = store.execution(&letter.execution_id)?;
            let path = file.unwrap_or_else(|| PathBuf::from(&failed.root_path));
            let (loaded, program) = checked_program(&path)?;
            let runtime = runtime()?;
            let engine = engine(loaded, program, &path, open_store(db)?);
            let origin = Origin {
                trigger: Some(crate::store::StartedBy::Replay),
                replay_of: Some(id),
                ..Origin::default()
            };
            let execution =
                runtime.block_on(engine.run(&letter.workflow, letter.input.clone(), origin))?;
            store.mark_replayed(id, &execution.id)?;
            Ok(print_results(&[execution], false, db))
        }
    }
}

/// A dead letter for a person: what caused it first, then the chain.
fn letter_text(
    letter: &crate::store::DeadLetterRow,
    failed: &[crate::store::AttemptRow],
    db: &DbArgs,
) -> String {
    use std::fmt::Write;
    let printable = |text: &str| super::table::printable(text).into_owned();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dead letter {}: workflow `{}` failed {} (execution {}; `wfc show {}{}`)",
        letter.id,
        letter.workflow,
        letter.created_at,
        letter.execution_id,
        short_id(&letter.execution_id),
        db.flag()
    );
    let attempt = |a: &crate::store::AttemptRow| {
        let agent = a
            .agent
            .as_deref()
            .map(|x| format!(", agent `{x}`"))
            .unwrap_or_default();
        format!(
            "attempt {} of step `{}`{agent}: {} ({})",
            a.attempt,
            a.step,
            printable(a.error.as_deref().unwrap_or("-")),
            a.status
        )
    };
    match failed.split_first() {
        Some((first, rest)) => {
            let _ = writeln!(out, "root cause: {}", attempt(first));
            for a in rest {
                let _ = writeln!(out, "  then {}", attempt(a));
            }
        }
        None => {
            let _ = writeln!(
                out,
                "root cause: {}",
                printable(letter.error["message"].as_str().unwrap_or("-"))
            );
        }
    }
    let recorded = letter.error["message"].as_str().unwrap_or("-");
    let _ = writeln!(out, "recorded as: {}", printable(recorded));
    let _ = writeln!(out, "input: {}", letter.input);
    if let Some(replay) = &letter.replayed_by {
        let _ = writeln!(out, "replayed by execution {replay}");
    }
    out
}
