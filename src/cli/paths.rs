//! The `.wf` sources a command line names: a file as given, a directory as every
//! `.wf` file below it in path order, `-` as standard input. A walk skips what
//! `.gitignore` and `.ignore` files ignore (in a git repository or not) and hidden
//! entries, as `git` and ripgrep do; a file named outright is never skipped.

use super::Error;
use std::path::{Path, PathBuf};

#[derive(Debug, PartialEq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

pub fn sources(paths: &[PathBuf]) -> Result<Vec<Source>, Error> {
    let mut sources = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            if sources.contains(&Source::Stdin) {
                return Err(Error::usage("`-` (standard input) is named twice"));
            }
            sources.push(Source::Stdin);
        } else if path.is_dir() {
            let found = walk(path)?;
            if found.is_empty() {
                return Err(Error::usage(format!(
                    "no .wf file under `{}` (ignored and hidden files are skipped)",
                    path.display()
                )));
            }
            sources.extend(found.into_iter().map(Source::File));
        } else {
            if let Err(error) = std::fs::metadata(path) {
                return Err(Error::usage(format!(
                    "cannot read `{}`: {error}",
                    path.display()
                )));
            }
            sources.push(Source::File(path.clone()));
        }
    }
    Ok(sources)
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let walker = ignore::WalkBuilder::new(dir)
        .require_git(false)
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry
            .map_err(|error| Error::usage(format!("cannot read `{}`: {error}", dir.display())))?;
        let is_file = entry.file_type().is_some_and(|t| t.is_file());
        if is_file && entry.path().extension().is_some_and(|e| e == "wf") {
            // Shown as the user would name them: `flow.wf`, not `./flow.wf`.
            let path = entry.into_path();
            let shown = match dir == Path::new(".") {
                true => path
                    .strip_prefix(".")
                    .map(Path::to_path_buf)
                    .unwrap_or(path),
                false => path,
            };
            files.push(shown);
        }
    }
    Ok(files)
}
