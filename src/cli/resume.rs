//! `wfc resume [ID]` and `wfc cancel ID`.

use super::run::{engine, print_results, runtime};
use super::Error;
use super::{exit, open_store, DbArgs};
use crate::loader::{self, Loaded};
use crate::runtime::{process_alive, Engine};
use crate::store::{CancelRequest, ExecutionRow, ExecutionStatus, Store};
use clap::Args;
use futures::future::join_all;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct ResumeArgs {
    /// The execution to resume (id, or a unique prefix or suffix); default: every interrupted one.
    id: Option<String>,
}

pub fn resume(args: ResumeArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let store = open_store(db)?;
    let interrupted = interrupted(&store, args.id.as_deref())?;
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
    let code = print_results(&finished, true);
    Ok(if failed {
        ExitCode::from(exit::PROBLEMS)
    } else {
        code
    })
}

/// The executions to resume: one by id, or every running one whose process is gone.
fn interrupted(store: &Store, id: Option<&str>) -> Result<Vec<ExecutionRow>, Error> {
    let Some(id) = id else {
        let running = store.running_executions()?;
        return Ok(running
            .into_iter()
            .filter(|e| e.owner_pid.is_none_or(|pid| !process_alive(pid)))
            .collect());
    };
    let execution = store.execution(id)?;
    if execution.status != ExecutionStatus::Running {
        return Err(Error::from(format!(
            "execution {} is {}; only interrupted executions resume",
            execution.id, execution.status
        )));
    }
    if let Some(pid) = execution.owner_pid.filter(|pid| process_alive(*pid)) {
        return Err(Error::from(format!(
            "execution {} is still running in process {pid}",
            execution.id
        )));
    }
    if execution.parent_id.is_some() {
        return Err(Error::from(format!(
            "execution {} is a sub-workflow; resume its parent {}",
            execution.id,
            execution.parent_id.as_deref().unwrap_or_default()
        )));
    }
    Ok(vec![execution])
}

/// An engine over the program the execution started with: the file as it is now
/// when its workflow's source is unchanged, else the stored source of that version.
/// Never a mix of the two.
fn engine_for(execution: &ExecutionRow, db: &DbArgs) -> Result<Engine, Error> {
    let path = Path::new(&execution.root_path);
    let store = open_store(db)?;
    let current = crate::check_file(path)
        .ok()
        .and_then(|(loaded, checked)| Some((loaded, checked.program?)));
    if let Some((loaded, program)) = current {
        let engine = engine(loaded, program, path, store);
        if engine.source_blob(&execution.workflow) == Some(execution.source_blob.as_str()) {
            return Ok(engine);
        }
        let store = open_store(db)?;
        return stored_version(execution, path, store);
    }
    stored_version(execution, path, store)
}

fn stored_version(execution: &ExecutionRow, path: &Path, store: Store) -> Result<Engine, Error> {
    let refuse = |why: &str| {
        Error::from(format!(
            "cannot resume execution {}: the source of workflow `{}` changed since it started \
             (it ran file content {}) and {why}; restore that version of `{}` (e.g. with git), \
             or stop the execution with `wfc cancel {}`",
            execution.id,
            execution.workflow,
            &execution.source_blob[..execution.source_blob.len().min(12)],
            path.display(),
            super::table::short_id(&execution.id),
        ))
    };
    let (source_path, text) = store
        .version_source(&execution.workflow, &execution.source_blob)?
        .ok_or_else(|| refuse("its source was not stored"))?;
    let mut loaded: Loaded = loader::load_text(&source_path, &text);
    let imports = loaded.files.iter().any(|(_, file)| {
        file.items
            .iter()
            .any(|item| matches!(item, crate::ast::Item::Import(_)))
    });
    if imports {
        return Err(refuse(
            "its stored version imports other files, which may have changed too",
        ));
    }
    let Some(program) = crate::check::check(&mut loaded).program else {
        return Err(refuse("its stored version no longer checks"));
    };
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
    let request = store.request_cancel(&args.id, process_alive)?;
    let id = match request {
        CancelRequest::Cancelled(id) => id,
        CancelRequest::Finished(id, status) => {
            return Err(Error::from(format!(
                "execution {id} is already {status}; only running executions can be cancelled"
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
