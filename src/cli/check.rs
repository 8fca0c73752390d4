//! `wfc check FILE...`

use super::exit;
use super::paths::{self, Source};
use super::Error;
use crate::diagnostic::render;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CheckArgs {
    /// The .wf files to check (each with its imports): directories for every .wf
    /// file below them (skipping what .gitignore ignores), `-` for standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// `text` reports on stderr, or `json`: one object per diagnostic on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Treat warnings as errors (`--deny warnings`).
    #[arg(long, value_name = "warnings")]
    deny: Option<Deny>,
    /// Also warn at each secret that is not set in this environment (or the
    /// --secrets file): will it run here?
    #[arg(long)]
    env: bool,
    /// Also report what the files' changes since git revision REV (a tag,
    /// branch or commit) would break for those who depend on them: removed
    /// declarations, narrowed inputs, outputs, template parameters and
    /// trigger patterns.
    #[arg(long, value_name = "REV")]
    against: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Format {
    /// `human` was this value's first name; it is still accepted.
    #[value(alias = "human")]
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Deny {
    Warnings,
}

pub fn run(args: CheckArgs) -> Result<ExitCode, Error> {
    let mut failed = false;
    let (mut errors, mut warnings) = (0, 0);
    let color = super::color_stderr();
    let sources = paths::sources(&args.files)?;
    for source in &sources {
        let (loaded, mut checked) = match source {
            Source::File(path) => crate::check_file(path)?,
            Source::Stdin => {
                let text = crate::loader::read_stdin()?;
                crate::check_text(crate::loader::STDIN, &text)
            }
        };
        if let Some(program) = &checked.program {
            let here = std::env::current_dir().unwrap_or_default();
            let shown = |path: &std::path::Path| {
                path.strip_prefix(&here)
                    .unwrap_or(path)
                    .display()
                    .to_string()
            };
            let missing = crate::check::missing_programs(program, std::path::Path::exists, shown);
            checked.diagnostics.extend(missing);
            if args.env {
                let unset = crate::check::unset_secrets(program, crate::secrets::is_set);
                checked.diagnostics.extend(unset);
            }
        }
        let mut loaded = loaded;
        if let Some(rev) = &args.against {
            let Source::File(path) = source else {
                return Err(Error::Usage(
                    "--against compares a file with its committed version; standard input has none"
                        .into(),
                ));
            };
            checked
                .diagnostics
                .extend(breaking_changes(path, rev, &mut loaded, &checked)?);
        }
        for diagnostic in &checked.diagnostics {
            if diagnostic.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
            match args.format {
                Format::Text => eprint!(
                    "{}",
                    render::report(diagnostic, &loaded.sources, color, super::terminal_width())
                ),
                Format::Json => {
                    let line = render::json(diagnostic, &loaded.sources);
                    let _ = writeln!(std::io::stdout(), "{line}");
                }
            }
        }
        // A breaking change is an error of a program that still runs.
        failed |= checked.has_errors() || checked.diagnostics.iter().any(|d| d.is_error());
    }
    failed |= args.deny.is_some() && warnings > 0;
    if args.format == Format::Text {
        eprintln!("{}", summary(sources.len(), errors, warnings));
    }
    if failed {
        Ok(ExitCode::from(exit::PROBLEMS))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// What the change of `path` since `rev` breaks, as diagnostics over
/// `loaded`'s sources (the files at `rev` are added to them, named `…@rev`).
fn breaking_changes(
    path: &std::path::Path,
    rev: &str,
    loaded: &mut crate::loader::Loaded,
    checked: &crate::check::Checked,
) -> Result<Vec<crate::diagnostic::Diagnostic>, Error> {
    use crate::git::GitError;
    let mut before = match crate::loader::load_at(path, rev) {
        Ok(before) => before,
        Err(GitError::NotInRevision { .. }) => {
            eprintln!(
                "note: `{}` is not in `{rev}`: everything in it is new",
                path.display()
            );
            return Ok(Vec::new());
        }
        Err(error) => return Err(Error::Usage(error.to_string())),
    };
    let then = crate::check::check(&mut before);
    if then.has_errors() {
        eprintln!(
            "note: `{}` had errors at `{rev}`; compared what it declared",
            path.display()
        );
    }
    let offset = loaded
        .sources
        .append(&before.sources, |name| name.to_string());
    let moved = |span: crate::source::Span| {
        crate::source::Span::new(
            crate::source::FileId(span.file.0 + offset),
            span.start,
            span.end,
        )
    };
    Ok(crate::check::breaking::compare(&then, checked, rev, moved))
}

fn summary(files: usize, errors: usize, warnings: usize) -> String {
    if errors == 0 && warnings == 0 {
        return format!(
            "checked {}: no problems",
            crate::text::plural(files, "file")
        );
    }
    format!(
        "checked {}: {}, {}",
        crate::text::plural(files, "file"),
        crate::text::plural(errors, "error"),
        crate::text::plural(warnings, "warning")
    )
}
