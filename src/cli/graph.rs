//! `wfc graph FILE [--workflow NAME | --goals] [--format mermaid|dot]`

use super::run::checked_program;
use super::Error;
use crate::graph;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct GraphArgs {
    /// The .wf file.
    file: PathBuf,
    /// Only this workflow (default: every workflow, one group each).
    #[arg(long, conflicts_with = "goals")]
    workflow: Option<String>,
    /// The goal tree instead of workflows.
    #[arg(long)]
    goals: bool,
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

pub fn run(args: GraphArgs) -> Result<ExitCode, Error> {
    let (loaded, program) = checked_program(&args.file)?;
    let program = &program;
    if let Some(name) = &args.workflow {
        if program.workflow_named(name).is_none() {
            let names = program.workflow_names();
            let hint = crate::text::closest(name, names.iter().map(String::as_str))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(Error::from(format!("no workflow named `{name}`{hint}")));
        }
    }
    let graph = if args.goals {
        graph::goals(program)
    } else {
        graph::workflows(program, &loaded.sources, args.workflow.as_deref())
    };
    print!(
        "{}",
        match args.format {
            GraphFormat::Mermaid => graph::mermaid(&graph),
            GraphFormat::Dot => graph::dot(&graph),
        }
    );
    Ok(ExitCode::SUCCESS)
}
