//! `wfc resume [ID]` and `wfc cancel ID`.

use super::run::{engine, print_results, run_error, runtime};
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

pub fn resume(args: ResumeArgs, db: &DbArgs) -> ExitCode {
    let store = match open_store(db) {
        Ok(store) => store,
        Err(error) => return super::usage_error(error),
    };
    let interrupted = match interrupted(&store, args.id.as_deref()) {
        Ok(rows) => rows,
        Err(code) => return code,
    };
    if interrupted.is_empty() {
        eprintln!("nothing to resume: no interrupted execution");
        return ExitCode::SUCCESS;
    }
    drop(store);
    let mut failed = false;
    let mut engines: Vec<(Engine, ExecutionRow)> = Vec::new();
    for execution in interrupted {
        // A refusal has been reported; the other executions still resume.
        match engine_for(&execution, db) {
            Ok(engine) => engines.push((engine, execution)),
            Err(_) => failed = true,
        }
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
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
                run_error(error);
            }
        }
    }
    let code = print_results(&finished, true);
    if failed {
        ExitCode::from(exit::PROBLEMS)
    } else {
        code
    }
}

/// The executions to resume: one by id, or every running one whose process is gone.
fn interrupted(store: &Store, id: Option<&str>) -> Result<Vec<ExecutionRow>, ExitCode> {
    let Some(id) = id else {
        let running = store.running_executions().map_err(super::usage_error)?;
        return Ok(running
            .into_iter()
            .filter(|e| e.owner_pid.is_none_or(|pid| !process_alive(pid)))
            .collect());
    };
    let execution = store.execution(id).map_err(super::usage_error)?;
    if execution.status != ExecutionStatus::Running {
        return Err(super::usage_error(format!(
            "execution {} is {}; only interrupted executions resume",
            execution.id, execution.status
        )));
    }
    if let Some(pid) = execution.owner_pid.filter(|pid| process_alive(*pid)) {
        return Err(super::usage_error(format!(
            "execution {} is still running in process {pid}",
            execution.id
        )));
    }
    if execution.parent_id.is_some() {
        return Err(super::usage_error(format!(
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
fn engine_for(execution: &ExecutionRow, db: &DbArgs) -> Result<Engine, ExitCode> {
    let path = Path::new(&execution.root_path);
    let store = open_store(db).map_err(super::usage_error)?;
    let current = crate::check_file(path)
        .ok()
        .and_then(|(loaded, checked)| Some((loaded, checked.program?)));
    if let Some((loaded, program)) = current {
        let engine = engine(loaded, program, path, store);
        if engine.source_blob(&execution.workflow) == Some(execution.source_blob.as_str()) {
            return Ok(engine);
        }
        let store = open_store(db).map_err(super::usage_error)?;
        return stored_version(execution, path, store);
    }
    stored_version(execution, path, store)
}

fn stored_version(execution: &ExecutionRow, path: &Path, store: Store) -> Result<Engine, ExitCode> {
    let refuse = |why: &str| {
        super::usage_error(format!(
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
        .version_source(&execution.workflow, &execution.source_blob)
        .map_err(super::usage_error)?
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

pub fn cancel(args: CancelArgs, db: &DbArgs) -> ExitCode {
    let mut store = match open_store(db) {
        Ok(store) => store,
        Err(error) => return super::usage_error(error),
    };
    let request = match store.request_cancel(&args.id, process_alive) {
        Ok(request) => request,
        Err(error) => return super::usage_error(error),
    };
    let id = match request {
        CancelRequest::Cancelled(id) => id,
        CancelRequest::Finished(id, status) => {
            return super::usage_error(format!(
                "execution {id} is already {status}; only running executions can be cancelled"
            ))
        }
        CancelRequest::Requested(id) => {
            let started = Instant::now();
            while store
                .execution(&id)
                .is_ok_and(|e| e.status == ExecutionStatus::Running)
            {
                if started.elapsed() > CANCEL_WAIT {
                    eprintln!(
                        "error: execution {id} did not stop within {}s",
                        CANCEL_WAIT.as_secs()
                    );
                    return ExitCode::from(exit::PROBLEMS);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            id
        }
    };
    eprintln!("execution {id} cancelled");
    ExitCode::SUCCESS
}
