//! `wfc run FILE --workflow NAME | --trigger NAME [--input JSON | --input-file PATH]`

use super::Error;
use super::{exit, open_store, report_diagnostics, DbArgs};
use crate::clock::Clock;
use crate::loader::Loaded;
use crate::program::Program;
use crate::runtime::{AttemptReport, Engine, Execution, Origin, Progress, StartReport};
use crate::store::{AttemptStatus, ExecutionStatus, Outcome, StartedBy, Store};
use clap::{ArgGroup, Args};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args)]
#[command(group(ArgGroup::new("target").required(true).args(["workflow", "trigger"])))]
pub struct RunArgs {
    /// The .wf file (checked first: a file with errors never runs).
    file: PathBuf,
    #[command(flatten)]
    otlp: super::OtlpArgs,
    /// Run this workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// Run every workflow this trigger starts.
    #[arg(long)]
    trigger: Option<String>,
    /// The input as JSON (default `{}`).
    // A negative number is JSON too.
    #[arg(long, conflicts_with = "input_file", allow_hyphen_values = true)]
    input: Option<String>,
    /// Read the input JSON from a file (`-` for stdin).
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// On SIGINT/SIGTERM, how long running steps may take to finish (e.g. 10s); a
    /// second signal stops at once.
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse_std)]
    grace: Duration,
}

pub fn run(args: RunArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let (loaded, program) = checked_program(&args.file)?;
    args.otlp.start()?;
    // Every workflow this run starts, checked before the first one starts (an
    // unknown name is the engine's to report).
    let starts: Vec<_> = match (&args.workflow, &args.trigger) {
        (Some(workflow), _) => program
            .workflow_named(workflow)
            .map(|w| w.id)
            .into_iter()
            .collect(),
        (None, Some(trigger)) => program
            .trigger_named(trigger)
            .map(|t| t.workflows.clone())
            .unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    let missing = program.missing_secrets(starts, |_| false, crate::secrets::is_set);
    if !missing.is_empty() {
        return Err(Error::usage(missing.join("\n")));
    }
    let input = read_input(&args)?;
    let store = open_store(db)?;
    let engine = engine(loaded, program, &args.file, store);
    let runtime = runtime()?;
    let work = async {
        match (&args.workflow, &args.trigger) {
            (Some(workflow), _) => {
                let origin = Origin {
                    trigger: Some(StartedBy::Manual),
                    ..Origin::default()
                };
                engine.run(workflow, input, origin).await.map(|e| vec![e])
            }
            (None, Some(trigger)) => engine.run_trigger(trigger, input).await,
            (None, None) => unreachable!("clap requires --workflow or --trigger"),
        }
    };
    match runtime.block_on(until_signal(&engine, args.grace, work)) {
        Ok(Err(crate::runtime::RunError::Store(error))) => {
            // The store failed mid-run (a full disk, an I/O error): nothing was
            // recorded as failed; what ran is kept and the rest can be resumed.
            left_resumable(db);
            Err(Error::Run(crate::runtime::RunError::Store(error)))
        }
        Ok(executions) => Ok(print_results(&executions?, args.trigger.is_some(), db)),
        Err(Stopped::Signal(signal)) => Ok(interrupted(db, signal)),
        Err(Stopped::CannotListen(error)) => {
            Err(Error::Problems(format!("cannot wait for signals: {error}")))
        }
    }
}

/// Why a run stopped before its executions ended.
enum Stopped {
    /// SIGINT or SIGTERM (the number).
    Signal(i32),
    CannotListen(std::io::Error),
}

/// Runs `work` until it ends or a SIGINT/SIGTERM arrives. Then, as `wfc serve` does,
/// no new step starts, running steps may finish for `grace` (a second signal cuts
/// that short), and `work` is dropped, which kills the agents' process groups. The
/// executions stay `running` under this dead process: `wfc resume` continues them.
async fn until_signal<T>(
    engine: &Engine,
    grace: Duration,
    work: impl std::future::Future<Output = T>,
) -> Result<T, Stopped> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).map_err(Stopped::CannotListen)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(Stopped::CannotListen)?;
    tokio::pin!(work);
    let signal = tokio::select! {
        biased;
        done = &mut work => return Ok(done),
        _ = terminate.recv() => libc::SIGTERM,
        _ = interrupt.recv() => libc::SIGINT,
    };
    eprintln!(
        "stopping: no new steps; running steps may finish within {} (signal again to stop now)",
        crate::duration::format(grace)
    );
    engine.drain();
    let settled = async {
        while engine.busy() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        biased;
        done = &mut work => return Ok(done),
        () = settled => {}
        () = tokio::time::sleep(grace) => {}
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Err(Stopped::Signal(signal))
}

/// Says which executions were left and how to continue them; exits 128 + signal.
fn interrupted(db: &DbArgs, signal: i32) -> ExitCode {
    left_resumable(db);
    ExitCode::from(128 + signal as u8)
}

/// Says which executions this process leaves unfinished and how to continue
/// them, marking them interrupted where the store still takes a write.
fn left_resumable(db: &DbArgs) {
    let me = std::process::id();
    let mine = open_store(db).and_then(|store| {
        let running = store.running_executions()?;
        let mine: Vec<_> = running
            .into_iter()
            .filter(|e| e.owner_pid == Some(me))
            .collect();
        for execution in &mine {
            // A store that cannot be written now (a full disk) is read alike:
            // `wfc resume` finds a running execution of a dead process either way.
            let _ = store.mark_interrupted(&execution.id);
        }
        Ok(mine)
    });
    match mine {
        Ok(mine) => {
            for execution in &mine {
                eprintln!(
                    "interrupted: execution {} of `{}` is resumable: `wfc resume {}{}`",
                    execution.id,
                    execution.workflow,
                    super::table::short_id(&execution.id),
                    db.flag()
                );
            }
        }
        Err(error) => eprintln!("error: cannot list the interrupted executions: {error}"),
    }
}

/// Loads and checks `path`, printing its diagnostics; a file with errors is refused.
pub(super) fn checked_program(path: &Path) -> Result<(Loaded, Program), Error> {
    let (loaded, checked) = crate::check_file(path)?;
    let errors = report_diagnostics(&loaded, &checked.diagnostics);
    match checked.program {
        Some(program) if !errors => Ok((loaded, program)),
        _ => Err(Error::Problems(format!(
            "`{}` has errors; nothing was run",
            path.display()
        ))),
    }
}

pub(super) fn engine(loaded: Loaded, program: Program, path: &Path, store: Store) -> Engine {
    Engine::new(
        program,
        loaded.sources,
        path,
        store,
        crate::telemetry::traced(Arc::new(StderrProgress::new())),
        Clock::system(),
    )
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Runtime::new()
        .map_err(|error| Error::Problems(format!("cannot start the runtime: {error}")))
}

fn read_input(args: &RunArgs) -> Result<Value, String> {
    let (text, origin) = match (&args.input, &args.input_file) {
        (Some(text), _) => (text.clone(), "--input".to_string()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("cannot read the input from stdin: {e}"))?;
            (text, "stdin".to_string())
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            (text, format!("`{}`", path.display()))
        }
        (None, None) => return Ok(Value::Object(Default::default())),
    };
    serde_json::from_str(&text).map_err(|e| format!("the input in {origin} is not JSON: {e}"))
}

/// Results on stdout: one execution's result pretty-printed, or for a trigger one
/// JSON object per execution per line. Exit 1 when any execution failed.
pub(super) fn print_results(executions: &[Execution], per_line: bool, db: &DbArgs) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for execution in executions {
        let (status, value) = match &execution.outcome {
            Outcome::Completed(result) => (ExecutionStatus::Completed, result.clone()),
            Outcome::Cancelled => {
                failed = true;
                eprintln!(
                    "error: execution {} of `{}` was cancelled",
                    execution.id, execution.workflow
                );
                (ExecutionStatus::Cancelled, Value::Null)
            }
            Outcome::Failed(error) => {
                failed = true;
                eprintln!(
                    "error: execution {} of `{}` failed at `{}`: {} ({})",
                    execution.id,
                    execution.workflow,
                    error["step"].as_str().unwrap_or("?"),
                    super::table::printable(error["message"].as_str().unwrap_or("?")),
                    error["kind"].as_str().unwrap_or("?"),
                );
                (ExecutionStatus::Failed, error.clone())
            }
        };
        let text = if per_line {
            serde_json::json!({
                "workflow": execution.workflow,
                "execution": execution.id,
                "status": status,
                "result": value,
            })
            .to_string()
        } else if status == ExecutionStatus::Completed {
            serde_json::to_string_pretty(&value).unwrap_or_default()
        } else {
            continue;
        };
        let _ = writeln!(stdout, "{text}");
        eprintln!(
            "execution {} {status}; see `wfc show {}{}`",
            execution.id,
            super::table::short_id(&execution.id),
            db.flag()
        );
    }
    if failed {
        ExitCode::from(exit::PROBLEMS)
    } else {
        ExitCode::SUCCESS
    }
}

/// One line per finished step attempt on stderr; on a terminal, a spinner line
/// for the steps still running.
struct StderrProgress {
    spinner: Option<Arc<Spinner>>,
}

impl StderrProgress {
    fn new() -> Self {
        use std::io::IsTerminal;
        StderrProgress {
            spinner: std::io::stderr().is_terminal().then(Spinner::start),
        }
    }
}

impl Progress for StderrProgress {
    fn attempt_started(&self, report: &StartReport<'_>) {
        if let Some(spinner) = &self.spinner {
            let label = format!(
                "{}/{}  {}",
                report.workflow,
                report.step,
                report.agent.unwrap_or("-")
            );
            spinner.lock().running.push((
                key(report.execution_id, report.step),
                label,
                Instant::now(),
            ));
        }
    }

    fn attempt_finished(&self, report: &AttemptReport<'_>) {
        let mark = if report.status == AttemptStatus::Completed {
            "✓"
        } else {
            "✗"
        };
        let agent = report.start.agent.unwrap_or("-");
        let mut line = format!(
            "{mark} {}/{}  {agent}  #{}  {}  {}",
            report.start.workflow,
            report.start.step,
            report.start.attempt,
            super::table::duration(Some(report.duration_ms)),
            report.status
        );
        if let Some(error) = report.error {
            line.push_str(&format!(": {}", super::table::printable(error)));
        }
        match &self.spinner {
            Some(spinner) => {
                let mut state = spinner.lock();
                let key = key(report.start.execution_id, report.start.step);
                state.running.retain(|(k, _, _)| *k != key);
                // Replace the spinner line; the next tick draws it again below.
                eprint!("\r\x1b[2K{line}\n");
                state.drawn = false;
            }
            None => eprintln!("{line}"),
        }
    }
}

fn key(execution: &str, step: &str) -> String {
    format!("{execution}/{step}")
}

/// The steps running now, redrawn on one line every 100 ms.
struct Spinner {
    state: Mutex<SpinnerState>,
}

#[derive(Default)]
struct SpinnerState {
    running: Vec<(String, String, Instant)>,
    drawn: bool,
}

impl Spinner {
    fn start() -> Arc<Spinner> {
        let spinner = Arc::new(Spinner {
            state: Mutex::default(),
        });
        let ticking = spinner.clone();
        // A detached thread: it ends with the process.
        std::thread::spawn(move || {
            const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            for frame in FRAMES.iter().cycle() {
                std::thread::sleep(Duration::from_millis(100));
                let mut state = ticking.lock();
                if let Some((_, label, started)) = state.running.first() {
                    let more = match state.running.len() {
                        1 => String::new(),
                        n => format!("  (+{} more)", n - 1),
                    };
                    let elapsed =
                        super::table::duration(Some(started.elapsed().as_secs_f64() * 1000.0));
                    eprint!("\r\x1b[2K{frame} {label}  {elapsed}{more}");
                    state.drawn = true;
                } else if state.drawn {
                    eprint!("\r\x1b[2K");
                    state.drawn = false;
                }
            }
        });
        spinner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SpinnerState> {
        // Only display state lives here; a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
