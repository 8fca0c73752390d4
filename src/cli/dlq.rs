//! `wfc dlq list | show ID | replay ID | drop ID`: the dead-letter queue.

use super::run::{checked_program, engine, print_results, run_error, runtime};
use super::table::short_id;
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

pub fn run(args: DlqArgs, db: &DbArgs) -> ExitCode {
    let opened = match args.command {
        DlqCommand::List | DlqCommand::Show { .. } => open_store_read(db),
        _ => open_store(db),
    };
    let mut store = match opened {
        Ok(store) => store,
        Err(error) => return super::usage_error(error),
    };
    let letter = |store: &crate::store::Store, id: i64| match store.dead_letter(id) {
        Ok(Some(letter)) => Ok(letter),
        Ok(None) => Err(super::usage_error(format!(
            "no dead letter {id}; see `wfc dlq list`"
        ))),
        Err(error) => Err(super::usage_error(error)),
    };
    match args.command {
        DlqCommand::List => {
            let letters = match store.dead_letters() {
                Ok(letters) => letters,
                Err(error) => return super::usage_error(error),
            };
            print_list(
                &letters,
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
                        super::table::printable(d.error["message"].as_str().unwrap_or(""))
                            .into_owned(),
                        d.replayed_by
                            .as_deref()
                            .map(short_id)
                            .unwrap_or("-")
                            .to_string(),
                    ]
                },
            )
        }
        DlqCommand::Show { id } => match letter(&store, id) {
            Ok(letter) => {
                print_json(&letter);
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        DlqCommand::Drop { id } => match store.drop_dead_letter(id) {
            Ok(true) => {
                eprintln!("dead letter {id} dropped");
                ExitCode::SUCCESS
            }
            Ok(false) => super::usage_error(format!("no dead letter {id}; see `wfc dlq list`")),
            Err(error) => super::usage_error(error),
        },
        DlqCommand::Replay { id, file } => {
            let letter = match letter(&store, id) {
                Ok(letter) => letter,
                Err(code) => return code,
            };
            let failed = match store.execution(&letter.execution_id) {
                Ok(execution) => execution,
                Err(error) => return super::usage_error(error),
            };
            let path = file.unwrap_or_else(|| PathBuf::from(&failed.root_path));
            let (loaded, program) = match checked_program(&path) {
                Ok(program) => program,
                Err(code) => return code,
            };
            let runtime = match runtime() {
                Ok(runtime) => runtime,
                Err(code) => return code,
            };
            let replay_store = match open_store(db) {
                Ok(store) => store,
                Err(error) => return super::usage_error(error),
            };
            let engine = engine(loaded, program, &path, replay_store);
            let origin = Origin {
                trigger: Some("replay"),
                replay_of: Some(id),
                ..Origin::default()
            };
            let result =
                runtime.block_on(engine.run(&letter.workflow, letter.input.clone(), origin));
            match result {
                Ok(execution) => {
                    if let Err(error) = store.mark_replayed(id, &execution.id) {
                        return super::usage_error(error);
                    }
                    print_results(&[execution], false)
                }
                Err(error) => run_error(error),
            }
        }
    }
}
