//! `wfc templates FILE…`: each template the files declare or import, with its
//! doc comment, parameters (their contracts and defaults) and the workflows
//! made from it; for a template read at a git revision, that revision and the
//! tags made since.

use super::{print_json, report_diagnostics, Error, Format};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct TemplatesArgs {
    /// The .wf files (with their imports) whose templates to list.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// One template as listed.
#[derive(serde::Serialize)]
struct Listed {
    name: String,
    /// The file that declares it.
    file: String,
    doc: Option<String>,
    parameters: Vec<String>,
    /// The workflows made from it, in the files given.
    instances: Vec<String>,
    /// The git revision its file was imported at, if pinned.
    pinned: Option<Pin>,
}

/// Where a pinned template was read, and the tags made since.
#[derive(serde::Serialize)]
struct Pin {
    revision: String,
    commit: String,
    /// Tags of commits made after the pinned one, newest first.
    newer_tags: Vec<String>,
}

impl Pin {
    fn of(pinned: &crate::source::Pinned) -> Pin {
        let newer = crate::git::Repository::discover(&pinned.repo)
            .and_then(|repo| repo.newer_tags(&pinned.commit))
            .unwrap_or_default();
        Pin {
            revision: pinned.rev.clone(),
            commit: pinned.commit.clone(),
            newer_tags: newer.into_iter().map(|tag| tag.name).collect(),
        }
    }
}

pub fn run(args: TemplatesArgs) -> Result<ExitCode, Error> {
    // Paths as the user would type them: from here when they are below it.
    let here = std::env::current_dir().unwrap_or_default();
    let mut listed: Vec<Listed> = Vec::new();
    for path in &args.files {
        let (loaded, checked) = crate::check_file(path)?;
        let errors = report_diagnostics(&loaded, &checked.diagnostics);
        let Some(program) = checked.program.filter(|_| !errors) else {
            return Err(Error::Problems(format!(
                "`{}` has errors; its templates are not listed",
                path.display()
            )));
        };
        for template in &program.templates {
            let source = loaded.sources.get(template.file);
            let file = match &source.pinned {
                Some(pinned) => format!("{}@{}", pinned.path.display(), pinned.rev),
                None => source
                    .path
                    .strip_prefix(&here)
                    .unwrap_or(&source.path)
                    .display()
                    .to_string(),
            };
            match listed
                .iter_mut()
                .find(|l| l.name == template.name && l.file == file)
            {
                // The same library imported by several files: one entry.
                Some(known) => {
                    for instance in &template.instances {
                        if !known.instances.contains(instance) {
                            known.instances.push(instance.clone());
                        }
                    }
                }
                None => listed.push(Listed {
                    name: template.name.clone(),
                    file,
                    doc: template.doc.clone(),
                    parameters: template.params.clone(),
                    instances: template.instances.clone(),
                    pinned: source.pinned.as_ref().map(Pin::of),
                }),
            }
        }
    }
    if args.format == Format::Json {
        print_json(&listed);
        return Ok(ExitCode::SUCCESS);
    }
    if listed.is_empty() {
        eprintln!("no template is declared or imported there");
    }
    for template in &listed {
        println!("template {} ({})", template.name, template.file);
        for line in template.doc.iter().flat_map(|d| d.lines()) {
            println!("  {line}");
        }
        println!("  parameters:");
        for parameter in &template.parameters {
            println!("    {parameter}");
        }
        match template.instances.as_slice() {
            [] => println!("  no workflow is made from it"),
            instances => println!("  made into: {}", instances.join(", ")),
        }
        if let Some(pin) = &template.pinned {
            let commit = crate::git::short(&pin.commit);
            match pin.newer_tags.as_slice() {
                [] => println!(
                    "  pinned at {} (commit {commit}); no newer tag",
                    pin.revision
                ),
                newer => println!(
                    "  pinned at {} (commit {commit}); newer tags: {}",
                    pin.revision,
                    newer.join(", ")
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
