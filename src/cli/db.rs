//! `wfc db copy --from A --to B`: moves a recorded history between stores (an
//! SQLite file into PostgreSQL when a team scales out, or back). `wfc db
//! upgrade`: brings a store an older wfc wrote to this one's schema.

use super::{db_location, DbArgs, Error};
use crate::store::{ExecutionStatus, Location, Retention, Store};
use clap::{Args, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

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
    /// Copy the SQLite store (--db) into FILE, consistent as of one moment,
    /// while servers write it (SQLite's online backup). For a PostgreSQL store
    /// use PostgreSQL's own tools (see the README); `wfc db copy` moves a
    /// history between stores of either kind.
    Backup {
        /// The new file (never overwritten).
        file: std::path::PathBuf,
    },
    /// Remove finished executions older than --older-than, whole trees with
    /// their attempts, waits, trigger fires and dead letters, and old
    /// dispatched events and closed alert episodes; then give the space back.
    /// Never removed: unfinished executions (waiting ones too) and their trees,
    /// each trigger's newest fire, dead letters not yet replayed (unless
    /// --dead-letters), events a running execution may await, open alert
    /// episodes, metric samples.
    Prune {
        /// How long ago an execution must have finished, e.g. 90d.
        #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_std)]
        older_than: Duration,
        /// Which finished statuses to remove, comma-separated (default: completed,failed,cancelled).
        #[arg(long, value_delimiter = ',', value_parser = finished_status)]
        status: Vec<ExecutionStatus>,
        /// Remove executions with a dead letter not yet replayed too.
        #[arg(long)]
        dead_letters: bool,
        /// Say what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Give the freed space back to the file system (SQLite: a full VACUUM,
        /// which holds the write lock while it rewrites the file). Without it,
        /// freed pages are reused by new rows and the file stops growing.
        #[arg(long, conflicts_with = "dry_run")]
        vacuum: bool,
        /// `json` prints the counts as one object.
        #[arg(long, value_enum, default_value_t = super::Format::Text)]
        format: super::Format,
    },
}

/// A status `--status` takes: a finished one.
fn finished_status(text: &str) -> Result<ExecutionStatus, String> {
    match ExecutionStatus::parse(text.trim()) {
        Some(status) if status.is_finished() => Ok(status),
        Some(status) => Err(format!(
            "{} executions are never pruned: only finished ones (completed, failed, cancelled)",
            status.as_str()
        )),
        None => Err(format!(
            "not a status: the finished ones are completed, failed and cancelled{}",
            crate::text::unknown_tail(
                text,
                &ExecutionStatus::names()
                    .into_iter()
                    .map(String::from)
                    .collect::<Vec<_>>()
            )
        )),
    }
}

pub fn run(args: DbCommandArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    match args.command {
        DbCommand::Upgrade => upgrade(db),
        DbCommand::Backup { file } => backup(db, &file),
        DbCommand::Prune {
            older_than,
            status,
            dead_letters,
            dry_run,
            vacuum,
            format,
        } => prune(
            db,
            older_than,
            status,
            dead_letters,
            (dry_run, vacuum),
            format,
        ),
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

fn prune(
    db: &DbArgs,
    older_than: Duration,
    statuses: Vec<ExecutionStatus>,
    dead_letters: bool,
    (dry_run, vacuum): (bool, bool),
    format: super::Format,
) -> Result<ExitCode, Error> {
    let at = db_location(db);
    if let Location::File(path) = &at {
        // Pruning creates nothing: a mistyped path is not a new empty store.
        if !path.is_file() {
            return Err(Error::usage(format!("there is no database file {at}")));
        }
    }
    let statuses = if statuses.is_empty() {
        ExecutionStatus::ALL
            .into_iter()
            .filter(|s| s.is_finished())
            .collect()
    } else {
        statuses
    };
    let older_than = chrono::Duration::from_std(older_than)
        .map_err(|_| Error::usage("--older-than is too long"))?;
    let cutoff = crate::clock::Clock::system().now() - older_than;
    let mut store = Store::open(&at)?;
    let pruned = store.prune(&Retention {
        cutoff,
        statuses,
        dead_letters,
        dry_run,
        vacuum,
    })?;
    if matches!(format, super::Format::Json) {
        let mut value = serde_json::to_value(&pruned).unwrap_or_default();
        value["cutoff"] = serde_json::json!(crate::store::timestamp(cutoff));
        value["dry_run"] = serde_json::json!(dry_run);
        println!("{value}");
        return Ok(ExitCode::SUCCESS);
    }
    let plural = |n: u64, noun: &str| crate::text::plural(n as usize, noun);
    println!(
        "{} {} ({}), {}, {} and {} from before {}",
        if dry_run { "would remove" } else { "removed" },
        plural(pruned.executions, "execution"),
        plural(pruned.attempts, "step attempt"),
        plural(pruned.events, "event"),
        plural(pruned.dead_letters, "dead letter"),
        plural(pruned.alert_episodes, "closed alert episode"),
        crate::store::timestamp(cutoff),
    );
    let kept = [
        (pruned.kept_unfinished, "not finished"),
        (
            pruned.kept_dead_letters,
            "with a dead letter not yet replayed (--dead-letters removes them)",
        ),
        (
            pruned.kept_newest_fire,
            "holding their trigger's newest fire",
        ),
    ];
    for (count, why) in kept.into_iter().filter(|(count, _)| *count > 0) {
        println!("kept {} {why}", plural(count, "old execution tree"));
    }
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    match (pruned.reclaimed_bytes, pruned.reusable_bytes) {
        (Some(bytes), _) => println!("the file shrank by {:.1} MiB", mib(bytes)),
        (None, Some(bytes)) if !dry_run => println!(
            "{:.1} MiB of the file is free for new rows (--vacuum gives it back to the file system)",
            mib(bytes)
        ),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn backup(db: &DbArgs, file: &std::path::Path) -> Result<ExitCode, Error> {
    let at = db_location(db);
    let Location::File(path) = &at else {
        return Err(Error::usage(format!(
            "{at} is a PostgreSQL store: back it up with pg_dump or pg_basebackup \
             (see the README), or copy it into an SQLite file with `wfc db copy`"
        )));
    };
    if !path.is_file() {
        return Err(Error::usage(format!("there is no database file {at}")));
    }
    let copied = crate::store::backup(path, file)?;
    println!(
        "backed up {at} into {}: {:.1} MiB, {}, integrity {}",
        file.display(),
        copied.bytes as f64 / (1024.0 * 1024.0),
        crate::text::plural(copied.executions as usize, "execution"),
        copied.check
    );
    Ok(ExitCode::SUCCESS)
}
