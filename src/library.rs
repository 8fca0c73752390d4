//! The template library as people read it (`wfc templates`, `GET /templates`):
//! each template a program declares or imports, with its doc comment,
//! parameters and the workflows made from it, and for one read at a git
//! revision that revision and the tags made since.

use crate::program::{Program, Takes, TemplateInfo};
use crate::source::Sources;
use std::path::Path;

/// One template as listed.
#[derive(serde::Serialize)]
pub struct Listed {
    pub name: String,
    /// The file that declares it.
    pub file: String,
    pub doc: Option<String>,
    pub parameters: Vec<String>,
    /// The workflows made from it, in the files given.
    pub instances: Vec<String>,
    /// The git revision its file was imported at, if pinned.
    pub pinned: Option<Pin>,
}

/// Where a pinned template was read, and the tags made since.
#[derive(serde::Serialize)]
pub struct Pin {
    pub revision: String,
    pub commit: String,
    /// Tags of commits made on top of the pinned one, newest first.
    pub newer_tags: Vec<String>,
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

/// Adds the templates of `program` to `listed`: one entry per template and
/// file, however many of the files given import it. Paths are shown from
/// `here` when they are below it.
pub fn gather(program: &Program, sources: &Sources, here: &Path, listed: &mut Vec<Listed>) {
    for template in &program.templates {
        let source = sources.get(template.file);
        let file = match &source.pinned {
            Some(pinned) => format!("{}@{}", pinned.path.display(), pinned.rev),
            None => source
                .path
                .strip_prefix(here)
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
                parameters: template.params.iter().map(|p| p.written.clone()).collect(),
                instances: template.instances.clone(),
                pinned: source.pinned.as_ref().map(Pin::of),
            }),
        }
    }
}

/// What a "new workflow from this template" form offers for each parameter
/// of `template`: for an agent, every agent of `program` with whether it fits
/// the contract as the checker decides (and why not); for a workflow, those
/// that take what the template passes; retry policies by name; a value's
/// form schema; and the default as written.
pub fn form(program: &Program, template: &TemplateInfo) -> Vec<serde_json::Value> {
    use serde_json::json;
    template
        .params
        .iter()
        .map(|param| {
            let mut field = json!({
                "name": param.name,
                "written": param.written,
                "default": param.default,
            });
            let (kind, extra) = match &param.takes {
                Takes::Agent { input, output } => {
                    let choices: Vec<_> = program
                        .agents()
                        .iter()
                        .map(|agent| {
                            let why = match (input.fits(&agent.input), agent.output.fits(output)) {
                                (Err(m), _) => {
                                    Some(format!("it cannot take what the template passes: {m}"))
                                }
                                (_, Err(m)) => {
                                    Some(format!("it does not give what the template wants: {m}"))
                                }
                                _ => None,
                            };
                            json!({ "name": agent.name, "fits": why.is_none(), "why": why })
                        })
                        .collect();
                    ("agent", json!({ "choices": choices }))
                }
                Takes::Workflow { input, .. } => {
                    let choices: Vec<_> = program
                        .workflows()
                        .iter()
                        .map(|workflow| {
                            let takes = workflow.input.clone().unwrap_or(crate::types::Type::Any);
                            let why = input
                                .fits(&takes)
                                .err()
                                .map(|m| format!("it cannot take what the template passes: {m}"));
                            json!({ "name": workflow.name, "fits": why.is_none(), "why": why })
                        })
                        .collect();
                    ("workflow", json!({ "choices": choices }))
                }
                Takes::Retry => {
                    let choices: Vec<_> = program
                        .retries()
                        .iter()
                        .map(|r| json!({ "name": r.name, "fits": true }))
                        .collect();
                    ("retry", json!({ "choices": choices }))
                }
                Takes::Duration => ("duration", json!({})),
                Takes::Value { r#type } => ("value", json!({ "schema": r#type.form_schema() })),
            };
            field["kind"] = json!(kind);
            if let (Some(target), Some(extra)) = (field.as_object_mut(), extra.as_object()) {
                target.extend(extra.clone());
            }
            field
        })
        .collect()
}
