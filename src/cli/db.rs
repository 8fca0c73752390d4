//! `wfc db copy --from A --to B`: moves a recorded history between stores (an
//! SQLite file into PostgreSQL when a team scales out, or back). `wfc db
//! upgrade`: brings a store an older wfc wrote to this one's schema.

use super::{db_location, DbArgs, Error};
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
    /// Bring the store (--db) to this wfc's schema and say what that added.
    /// Commands that only read leave an older store as it is; this, and any
    /// command that records, upgrades it. Refused while a worker of an older wfc
    /// holds a lease on it: stop those first. An upgraded store is refused by
    /// the older wfc.
    Upgrade,
}

pub fn run(args: DbCommandArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    match args.command {
        DbCommand::Upgrade => upgrade(db),
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

fn upgrade(db: &DbArgs) -> Result<ExitCode, Error> {
    let at = db_location(db);
    if let Location::File(path) = &at {
        // Upgrading creates nothing: a mistyped path is not a new empty store.
        if !path.is_file() {
            return Err(Error::usage(format!("there is no database file {at}")));
        }
    }
    let (store, upgrade) = Store::upgrade(&at)?;
    if upgrade.applied().is_empty() {
        println!(
            "{at} is at schema {}, this wfc's: nothing to upgrade",
            upgrade.to
        );
        return Ok(ExitCode::SUCCESS);
    }
    if upgrade.from == 0 {
        println!("{at} held no store: created one at schema {}", upgrade.to);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "upgraded {at} from schema {} to {}:",
        upgrade.from, upgrade.to
    );
    for (number, migration) in (upgrade.from + 1..).zip(upgrade.applied()) {
        println!("  {number:>2}  {}", migration.what);
    }
    let count = |table, noun| -> Result<String, Error> {
        Ok(crate::text::plural(store.count(table)? as usize, noun))
    };
    println!(
        "kept {}, {} and {}",
        count("executions", "execution")?,
        count("dead_letters", "dead letter")?,
        count("events", "event")?,
    );
    Ok(ExitCode::SUCCESS)
}
