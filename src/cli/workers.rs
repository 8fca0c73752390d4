//! `wfc workers`: the processes sharing the store, their leases and their load.

use super::{open_store_read, print_list, DbArgs, Error, Format};
use crate::clock::Clock;
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct WorkersArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: WorkersArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let now = Clock::system().now();
    let workers = open_store_read(db)?.workers()?;
    print_list(
        &workers,
        args.format,
        "no worker is running on this store (a worker's row goes when it stops cleanly; a killed one's stays until an hour after its lease)",
        &[
            "WORKER",
            "KIND",
            "HOST",
            "PID",
            "RUNNING",
            "LEASE",
            "HEARTBEAT",
        ],
        |w| {
            let lease = if w.leased(now) {
                format!("until {}", w.lease_until)
            } else {
                format!("ran out {}", w.lease_until)
            };
            vec![
                super::table::short_id(&w.id).to_string(),
                w.kind.clone(),
                w.host.clone(),
                w.pid.to_string(),
                w.running.to_string(),
                lease,
                w.heartbeat_at.clone(),
            ]
        },
    )
}
