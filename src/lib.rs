//! wfc: a declarative workflow language for chains of agents.
//!
//! The pipeline, one module per stage: [`loader`] reads a file and its imports,
//! [`syntax`] parses each into the [`ast`], [`check`] proves what can be proved
//! before anything runs and reports it as [`diagnostic`]s, and [`cli`] is the thin
//! command line over all of it.

pub mod assign;
pub mod ast;
pub mod check;
pub mod cli;
pub mod clock;
pub mod decide;
pub mod diagnostic;
pub mod duration;
pub mod explain;
pub mod format;
pub mod git;
pub mod goals;
pub mod graph;
pub mod library;
pub mod loader;
pub mod lsp;
pub mod metric;
pub mod program;
pub mod resume;
pub mod runtime;
pub mod secrets;
pub mod serve;
pub mod source;
pub mod stats;
pub mod store;
pub mod syntax;
pub mod telemetry;
pub mod testing;
pub mod text;
pub mod types;

use std::path::Path;

/// Loads `path` with its imports and checks it. Runs on a thread with a large stack:
/// the parser's pre-pass bounds nesting, and this leaves the recursive passes ample
/// room whatever the input.
pub fn check_file(path: &Path) -> Result<(loader::Loaded, check::Checked), loader::LoadError> {
    let path = path.to_path_buf();
    with_large_stack(move || {
        let mut loaded = loader::load(&path)?;
        let checked = check::check(&mut loaded);
        Ok((loaded, checked))
    })
}

/// Like [`check_file`], with the text of the files in `open` (by canonical
/// path) taken instead of what is on disk: an editor's unsaved buffers.
pub fn check_overlaid(
    path: &Path,
    open: std::collections::HashMap<std::path::PathBuf, String>,
) -> Result<(loader::Loaded, check::Checked), loader::LoadError> {
    let path = path.to_path_buf();
    with_large_stack(move || {
        let mut loaded = loader::load_overlaid(&path, &open)?;
        let checked = check::check(&mut loaded);
        Ok((loaded, checked))
    })
}

/// Checks source text that imports nothing (tests, benchmarks, editors).
pub fn check_text(name: &str, text: &str) -> (loader::Loaded, check::Checked) {
    let (name, text) = (name.to_string(), text.to_string());
    with_large_stack(move || {
        let mut loaded = loader::load_text(&name, &text);
        let checked = check::check(&mut loaded);
        (loaded, checked)
    })
}

fn with_large_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let worker = std::thread::Builder::new()
        .name("wfc-check".into())
        .stack_size(256 * 1024 * 1024)
        .spawn(work);
    match worker {
        Ok(handle) => match handle.join() {
            Ok(result) => result,
            // A panic in the checker is a bug; let it surface as one.
            Err(panic) => std::panic::resume_unwind(panic),
        },
        // Only an exhausted operating system refuses a thread; nothing sensible is left.
        Err(error) => panic!("cannot start the checker thread: {error}"),
    }
}
