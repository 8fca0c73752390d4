//! What `wfc check` proves before anything runs. Each file here is one family of
//! rules; all of them run, and every problem comes back at once as data. Nothing in
//! `check` reads files or stops at the first error.

mod expr;
mod flow;
mod graph;
mod program;
mod scope;

mod values;

pub use program::Program;

use crate::diagnostic::{self, Diagnostic};
use crate::loader::Loaded;

/// A loaded program and everything the checker found wrong with it.
#[derive(Debug)]
pub struct Checked {
    pub program: Program,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks every file of a loaded program: names, values, types and the graph. The
/// declarations move into the returned program, and the loader's diagnostics into
/// its list: `loaded` keeps its sources, for reports.
pub fn check(loaded: &mut Loaded) -> Checked {
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let program = Program::build(std::mem::take(&mut loaded.files), &mut diagnostics);
    values::check(&program, &mut diagnostics);
    flow::check(&program, &mut diagnostics);
    graph::check(&program, &mut diagnostics);
    diagnostic::sort(&mut diagnostics);
    Checked {
        program,
        diagnostics,
    }
}
