//! `wfc test [PATH...] [--filter TEXT] [--format text|junit]`

use super::exit;
use super::paths::{self, Source};
use super::Error;
use crate::diagnostic::render;
use crate::testing::{self, report, Outcome};
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct TestArgs {
    /// Files or directories (every .wf file below them, skipping what .gitignore
    /// ignores); each file runs the tests it declares itself. Default: `.`.
    paths: Vec<PathBuf>,
    /// Only the tests whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// `text`: a line per test and reports of failures on stdout; `junit`: JUnit XML.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Tests run at once (default: twice the available cores).
    #[arg(long)]
    jobs: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    Text,
    Junit,
}

pub fn run(args: TestArgs) -> Result<ExitCode, Error> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| 2 * std::thread::available_parallelism().map_or(1, |n| n.get()));
    // Lines and reports go to stdout, coloured only on a terminal.
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let stderr_color = super::color_stderr();
    let mut broken = false;
    let mut text = String::new();
    let mut junit = Vec::new();
    let mut all: Vec<Outcome> = Vec::new();
    for source in paths::sources(&paths)? {
        let Source::File(path) = source else {
            return Err(Error::usage("`wfc test` reads files: name a file, not `-`"));
        };
        let (loaded, checked) = crate::check_file(&path)?;
        let Some(mut program) = checked.program else {
            for diagnostic in checked.diagnostics.iter().filter(|d| d.is_error()) {
                eprint!(
                    "{}",
                    render::report(
                        diagnostic,
                        &loaded.sources,
                        stderr_color,
                        super::terminal_width()
                    )
                );
            }
            eprintln!(
                "error: `{}` has errors; its tests did not run",
                path.display()
            );
            broken = true;
            continue;
        };
        // A file runs the tests it declares; those of the files it imports run
        // when those files are tested.
        let root = loaded.sources.iter().next().map(|(id, _)| id);
        program.tests.retain(|t| Some(t.span.file) == root);
        let outcomes = testing::run(
            &program,
            &loaded.sources,
            &path,
            args.filter.as_deref(),
            jobs,
        )
        .map_err(|e| Error::usage(format!("cannot start the test runtime: {e}")))?;
        for outcome in &outcomes {
            text.push_str(&report::line(outcome, &loaded.sources));
            text.push('\n');
            text.push_str(&report::failures(
                outcome,
                &loaded.sources,
                color,
                super::terminal_width(),
            ));
        }
        junit.push(report::junit_suites(&outcomes, &loaded.sources));
        all.extend(outcomes);
    }
    match args.format {
        Format::Text => {
            print!("{text}");
            if all.is_empty() {
                println!("no test found");
            }
            println!("{}", report::summary(&all));
        }
        Format::Junit => print!("{}", report::junit_document(&junit)),
    }
    if broken || all.iter().any(|o| !o.passed()) {
        Ok(ExitCode::from(exit::PROBLEMS))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}
