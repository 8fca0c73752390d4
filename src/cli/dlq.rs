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
    /// Show one dead letter: its input, its error and its execution.
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
            print_json(&letter(&store, id)?);
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
