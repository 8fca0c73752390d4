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

pub fn run(args: TemplatesArgs) -> Result<ExitCode, Error> {
    // Paths as the user would type them: from here when they are below it.
    let here = std::env::current_dir().unwrap_or_default();
    let mut listed: Vec<crate::library::Listed> = Vec::new();
    for path in &args.files {
        let (loaded, checked) = crate::check_file(path)?;
        let errors = report_diagnostics(&loaded, &checked.diagnostics);
        let Some(program) = checked.program.filter(|_| !errors) else {
            return Err(Error::Problems(format!(
                "`{}` has errors; its templates are not listed",
                path.display()
            )));
        };
        crate::library::gather(&program, &loaded.sources, &here, &mut listed);
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
