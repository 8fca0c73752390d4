//! `wfc templates FILE…`: each template the files declare or import, with its
//! doc comment, parameters (their contracts and defaults) and the workflows
//! made from it.

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
            let path = &loaded.sources.get(template.file).path;
            let file = path
                .strip_prefix(&here)
                .unwrap_or(path)
                .display()
                .to_string();
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
    }
    Ok(ExitCode::SUCCESS)
}
