//! The command line: parses arguments with clap, calls the library, prints. The only
//! code that writes to the terminal.

mod check;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "wfc",
    version,
    about = "Check and run declarative agent workflows (.wf files)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check .wf files; report every problem at once.
    Check(check::CheckArgs),
}

/// Exit statuses shared by every command.
pub mod exit {
    /// A diagnostic error (or a denied warning) was found.
    pub const PROBLEMS: u8 = 1;
    /// Bad usage or unreadable input.
    pub const USAGE: u8 = 2;
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check(args) => check::run(args),
    }
}

/// Whether to colour output on stderr: only on a terminal and without `NO_COLOR`.
pub fn color_stderr() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}
