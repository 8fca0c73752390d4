//! `wfc db copy --from A --to B`: moves a recorded history between stores (an
//! SQLite file into PostgreSQL when a team scales out, or back).

use super::Error;
use crate::store::{Location, Store};
use clap::{Args, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

#[derive(Args)]
pub struct DbCommandArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Copy every execution, attempt, event, metric sample, dead letter, breaker,
    /// trigger state and alert episode of one store into another, empty one, in one
    /// transaction.
    Copy {
        /// The store to read: an SQLite file or a postgres:// URL.
        #[arg(long, value_name = "PATH|URL")]
        from: OsString,
        /// The store to write (created and migrated if need be; must be empty).
        #[arg(long, value_name = "PATH|URL")]
        to: OsString,
    },
}

pub fn run(args: DbCommandArgs) -> Result<ExitCode, Error> {
    match args.command {
        DbCommand::Copy { from, to } => {
            let (from, to) = (Location::parse(&from), Location::parse(&to));
            if from == to {
                return Err(Error::usage(format!("--from and --to are both {from}")));
            }
            if let Location::File(path) = &from {
                if !path.is_file() {
                    return Err(Error::usage(format!("there is no database file {from}")));
                }
            }
            let source = Store::open_read_only(&from)?;
            let mut destination = Store::open(&to)?;
            let copied = source.copy_into(&mut destination)?;
            for (table, rows) in copied {
                println!("{table:<22} {rows}");
            }
            eprintln!("copied {from} into {to}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
