//! The command line: parses arguments with clap, calls the library, prints. The only
//! code that writes to the terminal.

mod agents;
mod check;
mod db;
mod dlq;
mod error;
mod explain;
mod fmt;
mod goals;
mod graph;
mod history;
mod paths;
mod resume;
mod run;
mod serve;
mod show;
mod stats;
mod table;
mod templates;
mod test;
mod waits;
mod workers;

use crate::diagnostic::{render, Diagnostic};
use crate::loader::Loaded;
use crate::store::{Location, Store, DEFAULT_PATH};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
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
    /// Global: accepted before or after any subcommand.
    #[command(flatten)]
    db: DbArgs,
    /// A file of `NAME=value` lines that `secret("NAME")` reads before the
    /// environment (global; for run, serve, resume, dlq replay and check --env).
    #[arg(long, value_name = "FILE", global = true)]
    secrets: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check .wf files; report every problem at once.
    Check(check::CheckArgs),
    /// Format .wf files in the one canonical layout (--check for CI).
    Fmt(fmt::FmtArgs),
    /// Run the `test` blocks of .wf files: mocked agents, a virtual clock, a fresh store each.
    Test(test::TestArgs),
    /// Explain a declared name: retry delays, next cron slots, what a pattern matches,
    /// a workflow's steps and worst-case time, an agent's contract.
    Explain(explain::ExplainArgs),
    /// The templates the files declare or import: doc, parameters, the workflows made from them.
    Templates(templates::TemplatesArgs),
    /// Draw workflows or the goal tree as Mermaid or Graphviz DOT.
    Graph(graph::GraphArgs),
    /// Run a workflow (or every workflow a trigger starts) and record it.
    Run(run::RunArgs),
    /// List recorded executions, newest first.
    History(history::HistoryArgs),
    /// Show one execution as a timeline of its steps and attempts.
    Show(show::ShowArgs),
    /// Completion times, success rates and agent utilisation.
    Stats(stats::StatsArgs),
    /// List emitted events, newest first.
    Events(history::EventsArgs),
    /// Continue interrupted executions (all of them without an ID).
    Resume(resume::ResumeArgs),
    /// Stop a running execution, in whichever process it runs.
    Cancel(resume::CancelArgs),
    /// The dead-letter queue: list, show, replay or drop failed executions.
    Dlq(dlq::DlqArgs),
    /// Fire triggers by themselves (cron, events, metrics) and serve the HTTP API.
    Serve(serve::ServeArgs),
    /// Append an event; a running `wfc serve` picks it up.
    Emit(serve::EmitArgs),
    /// The goal tree: progress, projections, status and teams, from the recorded metrics.
    Goals(goals::GoalsArgs),
    /// Recorded metric samples and aggregates; `wfc metrics record NAME VALUE` adds one.
    Metrics(goals::MetricsArgs),
    /// The processes sharing the store: each worker's host, pid, lease and load.
    Workers(workers::WorkersArgs),
    /// Every `await` step waiting for a decision now: what for, until when.
    Waits(waits::WaitsArgs),
    /// Agent assignment: `wfc agents list FILE`, `pause|resume FILE AGENT`,
    /// `exclude|include FILE AGENT --skill S`, `history`.
    Agents(agents::AgentsArgs),
    /// Answer a waiting `await` step: `wfc decide ID STEP --data '{"approved": true}'`.
    Decide(waits::DecideArgs),
    /// The store itself: `wfc db copy --from wfc.db --to postgres://…` moves a history.
    Db(db::DbCommandArgs),
    /// Print a shell completion script: `wfc completions bash > /etc/bash_completion.d/wfc`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `wfc man > wfc.1 && man ./wfc.1`; with
    /// `--dir`, write it and one page per subcommand (`wfc-check.1`, …), the
    /// pages it refers to, into that directory.
    Man {
        /// Write every page into this directory instead (made if missing).
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
    /// A language server over stdin and stdout: diagnostics, hover, go to
    /// definition, outline and formatting in any LSP editor.
    Lsp,
}

pub use error::{exit, Error};

/// `--db`, shared by every command that reads or writes the store.
#[derive(Args)]
pub struct DbArgs {
    /// The store: an SQLite file, or a PostgreSQL database as
    /// postgres://user:password@host:port/name (default: $WFC_DB, else wfc.db in
    /// the working directory).
    #[arg(long, value_name = "PATH|URL", global = true)]
    db: Option<std::ffi::OsString>,
}

/// How `history`, `show`, `stats` and `events` print.
#[derive(Clone, Copy, clap::ValueEnum, PartialEq)]
pub enum Format {
    Text,
    Json,
}

pub fn run() -> ExitCode {
    // Like other command-line tools, end quietly when a reader such as `head` closes
    // the pipe, instead of failing to print. Safe for agents: their input is a file
    // (runtime/subprocess.rs), and sockets write with MSG_NOSIGNAL, so nothing else
    // wfc writes to can raise SIGPIPE.
    // SAFETY: called first thing, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
    if let Some(path) = &cli.secrets {
        if let Err(message) = crate::secrets::load(path) {
            eprintln!("error: {message}");
            return ExitCode::from(exit::USAGE);
        }
    }
    // Commands whose engine runs executions on the store `--db` names (`wfc test`
    // runs its own in memory; `wfc serve` retires itself).
    let works_on_store = matches!(
        cli.command,
        Command::Run(_) | Command::Resume(_) | Command::Dlq(_)
    );
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Test(args) => test::run(args),
        Command::Explain(args) => explain::run(args, &cli.db),
        Command::Templates(args) => templates::run(args),
        Command::Run(args) => run::run(args, &cli.db),
        Command::History(args) => history::run(args, &cli.db),
        Command::Show(args) => show::run(args, &cli.db),
        Command::Stats(args) => stats::run(args, &cli.db),
        Command::Events(args) => history::events(args, &cli.db),
        Command::Resume(args) => resume::resume(args, &cli.db),
        Command::Cancel(args) => resume::cancel(args, &cli.db),
        Command::Dlq(args) => dlq::run(args, &cli.db),
        Command::Serve(args) => serve::serve(args, &cli.db),
        Command::Emit(args) => serve::emit(args, &cli.db),
        Command::Goals(args) => goals::goals(args, &cli.db),
        Command::Metrics(args) => goals::metrics(args, &cli.db),
        Command::Db(args) => db::run(args, &cli.db),
        Command::Workers(args) => workers::run(args, &cli.db),
        Command::Waits(args) => waits::waits(args, &cli.db),
        Command::Agents(args) => agents::run(args, &cli.db),
        Command::Decide(args) => waits::decide(args, &cli.db),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "wfc", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Lsp => crate::lsp::run()
            .map(|()| ExitCode::SUCCESS)
            .map_err(|error| Error::usage(format!("the language server stopped: {error}"))),
        Command::Man { dir } => {
            let command = <Cli as clap::CommandFactory>::command();
            let written = match &dir {
                None => clap_mangen::Man::new(command).render(&mut std::io::stdout()),
                Some(dir) => std::fs::create_dir_all(dir)
                    .and_then(|()| clap_mangen::generate_to(command, dir))
                    .map(|()| {
                        eprintln!("wrote wfc.1 and a page per subcommand to {}", dir.display())
                    }),
            };
            written
                .map(|()| ExitCode::SUCCESS)
                .map_err(|error| Error::usage(format!("cannot write the man pages: {error}")))
        }
    };
    let me = crate::runtime::worker::me();
    if works_on_store && me.registered() {
        // A clean end; a killed process leaves its row for its lease to run out.
        if let Err(error) = open_store(&cli.db).and_then(|store| me.retire(&store)) {
            eprintln!("warning: cannot remove this process's worker row: {error}");
        }
    }
    // What traces are still buffered go out before the process ends.
    crate::telemetry::shutdown();
    // The one place an error becomes an exit status.
    result.unwrap_or_else(|error| {
        error.report();
        ExitCode::from(error.code())
    })
}

/// Where `wfc run`, `wfc resume` and `wfc serve` send traces.
#[derive(Args, Debug, Clone, Default)]
pub struct OtlpArgs {
    /// Export each execution as an OpenTelemetry trace over OTLP/HTTP to this
    /// collector (e.g. http://localhost:4318; default:
    /// $OTEL_EXPORTER_OTLP_ENDPOINT, none when unset).
    #[arg(long, value_name = "URL")]
    otlp: Option<String>,
}

impl OtlpArgs {
    /// Starts exporting, when a collector is named.
    pub fn start(&self) -> Result<(), Error> {
        crate::telemetry::start(self.otlp.as_deref()).map_err(Error::usage)
    }
}

/// Whether to colour output on stderr: only on a terminal and without `NO_COLOR`.
pub fn color_stderr() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

/// Prints diagnostics to stderr; returns whether any is an error.
fn report_diagnostics(loaded: &Loaded, diagnostics: &[Diagnostic]) -> bool {
    let color = color_stderr();
    for diagnostic in diagnostics {
        eprint!(
            "{}",
            render::report(diagnostic, &loaded.sources, color, terminal_width())
        );
    }
    diagnostics.iter().any(Diagnostic::is_error)
}

/// `--db`, else `$WFC_DB`, else `wfc.db` in the working directory.
impl DbArgs {
    /// ` --db PATH` when the command was given one, for the commands a message
    /// suggests: they must look at the same store (a PostgreSQL URL is shown
    /// without its password).
    fn flag(&self) -> String {
        let Some(given) = &self.db else {
            return String::new();
        };
        Location::parse(given).as_flag()
    }
}

fn db_location(args: &DbArgs) -> Location {
    args.db
        .clone()
        .or_else(|| std::env::var_os("WFC_DB"))
        .map_or_else(
            || Location::File(PathBuf::from(DEFAULT_PATH)),
            |text| Location::parse(&text),
        )
}

fn open_store(args: &DbArgs) -> Result<Store, crate::store::StoreError> {
    Store::open(db_location(args))
}

/// For commands that only read: never creates, migrates or writes the database.
fn open_store_read(args: &DbArgs) -> Result<Store, crate::store::StoreError> {
    Store::open_read_only(db_location(args))
}

/// Prints a list as JSON, or as a table of `row`s under `header` (or, when empty,
/// `empty` on stderr).
fn print_list<T: serde::Serialize>(
    items: &[T],
    format: Format,
    empty: &str,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<ExitCode, Error> {
    if format == Format::Json {
        print_json(&items);
    } else if items.is_empty() {
        eprintln!("{empty}");
    } else {
        let rows: Vec<Vec<String>> = items.iter().map(row).collect();
        print!("{}", table::render(header, &rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a value as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("error: cannot print JSON: {error}"),
    }
}

/// The operating-system user running this command, as a decision records it:
/// the account's name for the real uid (not `$USER`, which anyone sets).
pub(super) fn os_user() -> String {
    // SAFETY: getuid cannot fail; getpwuid answers null or a record valid until
    // the next call, read at once (this thread makes no other such call).
    let uid = unsafe { libc::getuid() };
    let name = unsafe {
        let record = libc::getpwuid(uid);
        (!record.is_null() && !(*record).pw_name.is_null()).then(|| {
            std::ffi::CStr::from_ptr((*record).pw_name)
                .to_string_lossy()
                .into_owned()
        })
    };
    name.unwrap_or_else(|| format!("uid {uid}"))
}
