//! `wfc fmt [PATH...] [--check]`

use super::exit;
use super::paths::{self, Source};
use super::Error;
use crate::diagnostic::{render, Code};
use crate::format::format;
use crate::loader::STDIN;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct FmtArgs {
    /// Files or directories (every .wf file below them, skipping what .gitignore
    /// ignores); `-` for stdin to stdout.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Change nothing: print a diff and exit 1 when a file is not formatted.
    #[arg(long)]
    check: bool,
}

pub fn run(args: FmtArgs) -> Result<ExitCode, Error> {
    let mut files = Vec::new();
    let sources = paths::sources(&args.paths)?;
    for source in sources {
        match source {
            Source::File(file) => files.push(file),
            // Standard input is formatted to standard output, so it stands alone.
            Source::Stdin if args.paths.len() == 1 => return stdin(args.check),
            Source::Stdin => {
                return Err(Error::usage(
                    "`-` formats standard input to standard output; name no other path with it",
                ))
            }
        }
    }
    let (mut unformatted, mut broken, mut changed) = (0, 0, 0);
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                return Err(Error::from(format!(
                    "cannot read `{}`: {error}",
                    file.display()
                )))
            }
        };
        let Some(formatted) = formatted(file, &text) else {
            broken += 1;
            continue;
        };
        if formatted == text {
            continue;
        }
        if args.check {
            unformatted += 1;
            print!("{}", diff(file, &text, &formatted));
        } else if let Err(error) = std::fs::write(file, &formatted) {
            return Err(Error::from(format!(
                "cannot write `{}`: {error}",
                file.display()
            )));
        } else {
            changed += 1;
        }
    }
    if args.check {
        eprintln!(
            "{unformatted} of {} would be reformatted",
            crate::text::plural(files.len(), "file")
        );
    } else {
        eprintln!(
            "formatted {changed} of {}",
            crate::text::plural(files.len(), "file")
        );
    }
    if unformatted > 0 || broken > 0 {
        Ok(ExitCode::from(exit::PROBLEMS))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

fn stdin(check: bool) -> Result<ExitCode, Error> {
    let text = crate::loader::read_stdin()?;
    let Some(formatted) = formatted(Path::new(STDIN), &text) else {
        return Ok(ExitCode::from(exit::PROBLEMS));
    };
    if !check {
        print!("{formatted}");
        return Ok(ExitCode::SUCCESS);
    }
    if formatted == text {
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", diff(Path::new(STDIN), &text, &formatted));
    Ok(ExitCode::from(exit::PROBLEMS))
}

/// The formatted text, or `None` (with the syntax error reported) when it does not parse.
fn formatted(path: &Path, text: &str) -> Option<String> {
    let (_, diagnostics) = crate::syntax::parse(text, crate::source::FileId(0));
    let fatal: Vec<_> = diagnostics
        .iter()
        .filter(|d| matches!(d.code, Code::Syntax | Code::TooDeeplyNested))
        .collect();
    if fatal.is_empty() {
        return Some(format(text));
    }
    let mut sources = crate::source::Sources::default();
    sources.add(path.display().to_string(), path, text);
    for diagnostic in fatal {
        eprint!(
            "{}",
            render::report(
                diagnostic,
                &sources,
                super::color_stderr(),
                super::terminal_width()
            )
        );
    }
    eprintln!(
        "error: `{}` does not parse; it was not formatted",
        path.display()
    );
    None
}

fn diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .header(&name, &name)
        .to_string()
}
