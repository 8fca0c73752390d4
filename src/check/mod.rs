//! What `wfc check` proves before anything runs. Each file here is one family of
//! rules; all of them run, and every problem comes back at once as data. Nothing in
//! `check` reads files or stops at the first error.

mod alerts;
pub mod breaking;
mod declarations;
mod expand;
mod expr;
mod flow;
mod graph;
mod lower;
mod scope;
mod templates;
mod test_blocks;

mod values;

pub use declarations::Declarations;
pub use flow::declared;

use crate::diagnostic::{self, Code, Diagnostic};
use crate::loader::Loaded;
use crate::program::Program;
use std::collections::HashMap;

/// A loaded program and everything the checker found wrong with it.
#[derive(Debug)]
pub struct Checked {
    /// Every declaration by kind and name, as written (also when there are errors).
    pub declarations: Declarations,
    /// The checked program: `Some` exactly when there are no errors.
    pub program: Option<Program>,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Each workflow's output type, as far as it could be worked out.
    pub outputs: HashMap<String, crate::types::Type>,
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

/// The programs interpreters are given a script to run by: their first argument
/// that is not an option is a path as much as the program is.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "python", "python3", "node", "ruby", "perl", "php", "deno",
];

/// A warning at each subprocess agent whose program (a path with a `/`) or
/// whose interpreter's script does not exist where it will run, resolved as it
/// will be; `exists` is the file system's (`wfc check` passes `Path::exists`: the
/// checker itself does no I/O) and `shown` writes a path for the message
/// (relative to the working directory, where it is below it).
pub fn missing_programs(
    program: &Program,
    exists: impl Fn(&std::path::Path) -> bool,
    shown: impl Fn(&std::path::Path) -> String,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for agent in program.agents() {
        let crate::program::AgentBody::Run(command) = &agent.body else {
            continue;
        };
        let script = command
            .args
            .iter()
            .position(|arg| !arg.starts_with('-'))
            .filter(|_| INTERPRETERS.contains(&command.written.as_str()));
        let (path, span, what) = match script {
            _ if command.written.contains('/') => {
                (command.program.clone(), command.spans[0], "program")
            }
            // An absolute script stays itself when joined.
            Some(i) => (
                command.cwd.join(&command.args[i]),
                command.spans[i + 1],
                "script",
            ),
            _ => continue,
        };
        // `a/./b` is `a/b`.
        let path: std::path::PathBuf = path.components().collect();
        if exists(&path) {
            continue;
        }
        found.push(
            Diagnostic::new(
                crate::diagnostic::Code::MissingProgram,
                span,
                format!("agent `{}`'s {what} `{}` does not exist", agent.name, shown(&path)),
                "nothing is there",
            )
            .with_help("paths in `run` are relative to the directory of the .wf file (or the agent's `cwd`)"),
        );
    }
    found
}

/// In a file whose import could not be read, an unknown name most likely is one
/// that file declares: one missing import once gave eleven errors. Those are
/// left out, and the import's diagnostic says how many.
fn quiet_after_missing_imports(diagnostics: &mut Vec<Diagnostic>) {
    use crate::diagnostic::Code;
    let unknown_name = |code: Code| {
        matches!(
            code,
            Code::UnknownAgent
                | Code::UnknownWorkflow
                | Code::UnknownTrigger
                | Code::UnknownRetry
                | Code::UnknownBreaker
                | Code::UnknownSkill
                | Code::NoAgentWithSkills
                | Code::UnknownGoal
                | Code::UnknownAlertSignal
                | Code::UnknownTemplate
                | Code::UnreachableWorkflow
                | Code::UnusedTrigger
        )
    };
    // An import that could not be read, from the working tree or git.
    let unread = |code| matches!(code, Code::ImportNotFound | Code::UnknownRevision);
    let missing: Vec<crate::source::FileId> = diagnostics
        .iter()
        .filter(|d| unread(d.code))
        .map(|d| d.span().file)
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut left_out: HashMap<crate::source::FileId, usize> = HashMap::new();
    diagnostics.retain(|d| {
        let file = d.span().file;
        let follows = unknown_name(d.code) && missing.contains(&file);
        if follows {
            *left_out.entry(file).or_default() += 1;
        }
        !follows
    });
    for diagnostic in diagnostics.iter_mut() {
        if !unread(diagnostic.code) {
            continue;
        }
        // Said once per file, on its first missing import.
        if let Some(count) = left_out.remove(&diagnostic.span().file) {
            let note = format!(
                "{} about names it may declare left out until it is found",
                crate::text::plural(count, "more diagnostic")
            );
            let help = match diagnostic.help.take() {
                Some(help) if help.ends_with('?') => format!("{help} {note}"),
                Some(help) => format!("{help}; {note}"),
                None => note,
            };
            diagnostic.help = Some(help);
        }
    }
}

impl Checked {
    /// The program to explain declarations from: the checked one, or, while the
    /// file has errors, that of the declarations that check on their own.
    pub fn explainable(
        &self,
        sources: &crate::source::Sources,
    ) -> Option<std::borrow::Cow<'_, Program>> {
        if let Some(program) = &self.program {
            return Some(std::borrow::Cow::Borrowed(program));
        }
        let errors: Vec<_> = self
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(Diagnostic::span)
            .collect();
        lower::on_their_own(&self.declarations, &errors, sources).map(std::borrow::Cow::Owned)
    }
}

pub fn check(loaded: &mut Loaded) -> Checked {
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let mut declarations = Declarations::build(std::mem::take(&mut loaded.files), &mut diagnostics);
    let pending = templates::expand(&mut declarations, &mut diagnostics);
    let mut found = Vec::new();
    values::check(&declarations, &mut found);
    let outputs = flow::check(&declarations, &mut found);
    graph::check(&declarations, &mut found);
    test_blocks::check(&declarations, &mut found);
    alerts::check(&declarations, &mut found);
    // What an instance's body (the template's, its parameters replaced) would
    // report is the template's to report, once, below; but a cycle is made by
    // the arguments, not the body.
    diagnostics.extend(found.into_iter().filter(|d| {
        d.code == Code::WorkflowCycle
            || !declarations
                .templates
                .values()
                .any(|t| templates::inside(d.span(), t.span))
    }));
    templates::check_outputs(&pending, &outputs, &mut diagnostics);
    templates::check_bodies(
        &declarations,
        |program, out| {
            values::check(program, out);
            flow::check(program, out);
            graph::check(program, out);
        },
        &mut diagnostics,
    );
    quiet_after_missing_imports(&mut diagnostics);
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
        outputs,
    }
}
