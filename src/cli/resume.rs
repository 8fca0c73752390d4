//! `wfc resume [ID]` and `wfc cancel ID`.

use super::run::{engine, print_results, runtime};
use super::Error;
use super::{exit, open_store, DbArgs};
use crate::resume;
use crate::runtime::Engine;
use crate::store::{CancelRequest, ExecutionRow, ExecutionStatus};
use clap::Args;
use futures::future::join_all;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct ResumeArgs {
    /// The execution to resume (id, or a unique prefix or suffix); default: every interrupted one.
    id: Option<String>,
    #[command(flatten)]
    otlp: super::OtlpArgs,
}

pub fn resume(args: ResumeArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    args.otlp.start()?;
    let store = open_store(db)?;
    let interrupted = match args.id.as_deref() {
        Some(id) => vec![resume::interrupted(&store, id)?],
        None => resume::orphans(&store)?,
    };
    if interrupted.is_empty() {
        eprintln!("nothing to resume: no interrupted execution");
        return Ok(ExitCode::SUCCESS);
    }
    drop(store);
    let mut failed = false;
    let mut engines: Vec<(Engine, ExecutionRow)> = Vec::new();
    for execution in interrupted {
        // A refusal is reported; the other executions still resume.
        match engine_for(&execution, db) {
            Ok(engine) => engines.push((engine, execution)),
            Err(error) => {
                error.report();
                failed = true;
            }
        }
    }
    let runtime = runtime()?;
    let results = runtime.block_on(join_all(
        engines
            .iter()
            .map(|(engine, execution)| engine.resume(execution)),
    ));
    let mut finished = Vec::new();
    for ((_, execution), result) in engines.iter().zip(results) {
        match result {
            Ok(Some(done)) => finished.push(done),
            Ok(None) => eprintln!(
                "execution {} was taken over by another process",
                execution.id
            ),
            Err(error) => {
                failed = true;
                Error::from(error).report();
            }
        }
    }
    let code = print_results(&finished, true, db);
    Ok(if failed {
        ExitCode::from(exit::PROBLEMS)
    } else {
        code
    })
}

/// An engine over the program the execution started with (see `crate::resume`).
fn engine_for(execution: &ExecutionRow, db: &DbArgs) -> Result<Engine, Error> {
    let path = Path::new(&execution.root_path);
    let current = crate::check_file(path)
        .ok()
        .and_then(|(loaded, checked)| Some((loaded, checked.program?)));
    if let Some((loaded, program)) = current {
        let engine = engine(loaded, program, path, open_store(db)?);
        if resume::runs_version_of(&engine, execution) {
            return Ok(engine);
        }
    }
    let store = open_store(db)?;
    let (loaded, program) = resume::stored_program(execution, &store)?;
    eprintln!(
        "note: `{}` changed since execution {} started; resuming it with the stored version",
        path.display(),
        execution.id
    );
    Ok(engine(loaded, program, path, store))
}

#[derive(Args)]
pub struct CancelArgs {
    /// The execution to cancel (id, or a unique prefix or suffix).
    id: String,
}

/// How long `wfc cancel` waits to see the execution stop.
const CANCEL_WAIT: Duration = Duration::from_secs(5);

pub fn cancel(args: CancelArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let mut store = open_store(db)?;
    let request = store.request_cancel(&args.id, crate::resume::owner_alive)?;
    let id = match request {
        CancelRequest::Cancelled(id) => id,
        CancelRequest::Finished(id, status) => {
            return Err(Error::from(format!(
                "execution {id} is already {status}; only running or queued executions can be cancelled"
            )))
        }
        CancelRequest::Requested(id) => {
            let started = Instant::now();
            while store
                .execution(&id)
                .is_ok_and(|e| e.status == ExecutionStatus::Running)
            {
                if started.elapsed() > CANCEL_WAIT {
                    return Err(Error::Problems(format!(
                        "execution {id} did not stop within {}s",
                        CANCEL_WAIT.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            id
        }
    };
    eprintln!("execution {id} cancelled");
    Ok(ExitCode::SUCCESS)
}
