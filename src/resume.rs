//! The resume policy, shared by `wfc resume` and `wfc serve`: which executions are
//! interrupted (running, with their process gone), and which program one resumes
//! with — the file as it is when its workflow's source is the one the execution
//! started with, else the stored source of that version, never a mix of the two.

use crate::loader::{self, Loaded};
use crate::program::Program;
use crate::runtime::{process_alive, worker, Engine};
use crate::store::{short_id, ExecutionRow, ExecutionStatus, Store, StoreError};
use std::collections::HashMap;
use std::path::PathBuf;

/// Why an execution cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("execution {id} is {status}; only interrupted executions resume")]
    NotRunning { id: String, status: ExecutionStatus },
    #[error("execution {id} is still running in process {pid} on {host}")]
    StillRunning { id: String, pid: u32, host: String },
    #[error("execution {id} is a sub-workflow; resume its parent {parent}")]
    SubWorkflow { id: String, parent: String },
    /// The file changed since the execution started, and its stored version
    /// cannot stand in: the message says why and what to do.
    #[error("{0}")]
    SourceChanged(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Top-level executions still marked running whose owner is gone, oldest first.
pub fn orphans(store: &Store) -> Result<Vec<ExecutionRow>, StoreError> {
    let mut orphans = Vec::new();
    for execution in store.running_executions()? {
        if !owner_alive(store, &execution)? {
            orphans.push(execution);
        }
    }
    Ok(orphans)
}

/// Whether the process that runs `execution` lives ([`worker::alive`]). An
/// execution recorded before workers had rows has only its pid.
pub fn owner_alive(store: &Store, execution: &ExecutionRow) -> Result<bool, StoreError> {
    match &execution.owner {
        Some(id) => worker::alive(store, id),
        None => Ok(execution.owner_pid.is_some_and(process_alive)),
    }
}

/// Execution `id`, if it is one that can be resumed now.
pub fn interrupted(store: &Store, id: &str) -> Result<ExecutionRow, Refusal> {
    let execution = store.execution(id)?;
    if execution.status != ExecutionStatus::Running {
        return Err(Refusal::NotRunning {
            id: execution.id,
            status: execution.status,
        });
    }
    if owner_alive(store, &execution)? {
        let worker = match &execution.owner {
            Some(owner) => store.worker(owner)?,
            None => None,
        };
        return Err(Refusal::StillRunning {
            id: execution.id,
            pid: execution.owner_pid.unwrap_or_default(),
            host: worker.map_or_else(|| "this host".to_string(), |w| w.host),
        });
    }
    if let Some(parent) = execution.parent_id {
        return Err(Refusal::SubWorkflow {
            id: execution.id,
            parent,
        });
    }
    Ok(execution)
}

/// Whether `engine` runs the version of the file `execution` started with.
pub fn runs_version_of(engine: &Engine, execution: &ExecutionRow) -> bool {
    // A wfc before schema 8 recorded the path as given, relative to where it
    // ran; resuming from there finds the same file.
    let same_file = engine.root_path() == execution.root_path
        || std::path::Path::new(&execution.root_path)
            .canonicalize()
            .is_ok_and(|path| path.display().to_string() == engine.root_path());
    let template = engine.template_origin(&execution.workflow).map(|t| t.blob);
    same_file
        && engine.source_blob(&execution.workflow) == Some(execution.source_blob.as_str())
        && template == execution.template_blob
}

/// The program of the version `execution` started with, from the source the
/// store kept when it first ran. Refused when that source imports other files
/// (they may have changed too) or no longer checks.
pub fn stored_program(
    execution: &ExecutionRow,
    store: &Store,
) -> Result<(Loaded, Program), Refusal> {
    let refuse = |why: &str| {
        Refusal::SourceChanged(format!(
            "cannot resume execution {}: the source of workflow `{}` changed since it started \
             (it ran file content {}) and {why}; restore that version of `{}` (e.g. with git), \
             or stop the execution with `wfc cancel {}`",
            execution.id,
            execution.workflow,
            &execution.source_blob[..execution.source_blob.len().min(12)],
            execution.root_path,
            short_id(&execution.id),
        ))
    };
    let (source_path, text) = store
        .version_source(&execution.workflow, &execution.source_blob)?
        .ok_or_else(|| refuse("its source was not stored"))?;
    // A template read at a git revision is read again at the commit it named;
    // one read from the working tree, as the store kept it.
    let pins: loader::Pins = execution
        .template_rev
        .clone()
        .zip(execution.template_commit.clone())
        .into_iter()
        .collect();
    let template = match (&execution.template_blob, &execution.template_commit) {
        (Some(blob), None) => store.template_source(blob)?,
        _ => None,
    };
    let open: HashMap<PathBuf, String> = template
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.clone()))
        .collect();
    let mut loaded: Loaded = loader::load_text_pinned(&source_path, &text, &open, &pins);
    // Any other file from the working tree may have changed since.
    let unknown = loaded
        .sources
        .iter()
        .skip(1)
        .any(|(_, file)| file.pinned.is_none() && !open.contains_key(&file.path));
    if unknown {
        return Err(refuse(
            "its stored version imports files from the working tree, which may have changed too",
        ));
    }
    let Some(program) = crate::check::check(&mut loaded).program else {
        return Err(refuse("its stored version no longer checks"));
    };
    let blob = |file| crate::source::git_blob_id(loaded.sources.get(file).text.as_bytes());
    let template = program.workflow_named(&execution.workflow).and_then(|w| {
        let made = w.made_from.as_ref()?;
        let t = program.templates.iter().find(|t| t.name == made.template)?;
        Some(blob(t.file))
    });
    if template != execution.template_blob {
        return Err(refuse(
            "the template it was made from can no longer be read as it was",
        ));
    }
    Ok((loaded, program))
}
