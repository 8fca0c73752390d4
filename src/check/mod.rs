//! What `wfc check` proves before anything runs. Each file here is one family of
//! rules; all of them run, and every problem comes back at once as data. Nothing in
//! `check` reads files or stops at the first error.

mod alerts;
mod declarations;
mod expand;
mod expr;
mod flow;
mod graph;
mod lower;
mod scope;
mod test_blocks;

mod values;

pub use declarations::Declarations;

use crate::diagnostic::{self, Diagnostic};
use crate::loader::Loaded;
use crate::program::Program;

/// A loaded program and everything the checker found wrong with it.
#[derive(Debug)]
pub struct Checked {
    /// Every declaration by kind and name, as written (also when there are errors).
    pub declarations: Declarations,
    /// The checked program: `Some` exactly when there are no errors.
    pub program: Option<Program>,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether the program cannot run: errors were found (or, were the checker
    /// to miss one, the program could not be lowered).
    pub fn has_errors(&self) -> bool {
        self.program.is_none()
    }
}

/// Checks every file of a loaded program: names, values, types and the graph. The
/// declarations move into the returned program, and the loader's diagnostics into
/// its list: `loaded` keeps its sources, for reports.
/// `wfc check --env`: a warning at each secret the program reads that `is_set`
/// says is not set where it would run.
pub fn unset_secrets(program: &Program, is_set: impl Fn(&str) -> bool) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for agent in program.agents() {
        for (name, span) in agent.body.secret_uses() {
            if !is_set(&name) {
                found.push(
                    Diagnostic::new(
                        crate::diagnostic::Code::UnsetSecret,
                        span,
                        format!("secret `{name}` is not set in this environment"),
                        format!("agent `{}` cannot run without it", agent.name),
                    )
                    .with_help(format!(
                        "set the environment variable `{name}`, or give a file of `NAME=value` lines with --secrets"
                    )),
                );
            }
        }
    }
    found
}

pub fn check(loaded: &mut Loaded) -> Checked {
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let declarations = Declarations::build(std::mem::take(&mut loaded.files), &mut diagnostics);
    values::check(&declarations, &mut diagnostics);
    flow::check(&declarations, &mut diagnostics);
    graph::check(&declarations, &mut diagnostics);
    test_blocks::check(&declarations, &mut diagnostics);
    alerts::check(&declarations, &mut diagnostics);
    diagnostic::sort(&mut diagnostics);
    let program = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        lower::lower(&declarations, &loaded.sources)
    };
    Checked {
        declarations,
        program,
        diagnostics,
    }
}
