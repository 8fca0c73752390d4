//! The template library as people read it (`wfc templates`, `GET /templates`):
//! each template a program declares or imports, with its doc comment,
//! parameters and the workflows made from it, and for one read at a git
//! revision that revision and the tags made since.

use crate::program::Program;
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
                parameters: template.params.clone(),
                instances: template.instances.clone(),
                pinned: source.pinned.as_ref().map(Pin::of),
            }),
        }
    }
}
