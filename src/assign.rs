//! Changing an agent's assignment, shared by `wfc agents` and the HTTP API
//! (which the dashboard uses): the agent must be one the program declares, a
//! skill one it has, the name of who changes it given; then the store keeps
//! the change for every worker (see `runtime/assignment.rs`).

use crate::program::Program;
use crate::store::{AssignmentChange, Store, StoreError};

/// The longest name a change is recorded with.
pub const MAX_BY: usize = 200;

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no agent named `{name}`{}", crate::text::unknown_tail(name, known))]
    UnknownAgent { name: String, known: Vec<String> },
    #[error("`{change}` needs the skill whose pool `{agent}` leaves or rejoins (its skills: {})", list(.skills))]
    MissingSkill {
        agent: String,
        change: AssignmentChange,
        skills: Vec<String>,
    },
    #[error("agent `{agent}` has no skill `{skill}` (its skills: {})", list(.skills))]
    UnknownSkill {
        agent: String,
        skill: String,
        skills: Vec<String>,
    },
    #[error("who makes the change must be named, in at most {MAX_BY} characters")]
    Unnamed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list(skills: &[String]) -> String {
    if skills.is_empty() {
        "none".into()
    } else {
        skills.join(", ")
    }
}

/// Makes `change` to agent `agent` of `program` (`skill` for exclude and
/// include) on behalf of `by`; false when it was already so.
pub fn change(
    program: &Program,
    store: &Store,
    agent: &str,
    change: AssignmentChange,
    skill: Option<&str>,
    by: &str,
) -> Result<bool, Refusal> {
    let Some(declared) = program.agent_named(agent) else {
        return Err(Refusal::UnknownAgent {
            name: agent.to_string(),
            known: program.agents().iter().map(|a| a.name.clone()).collect(),
        });
    };
    let by = by.trim();
    if by.is_empty() || by.chars().count() > MAX_BY {
        return Err(Refusal::Unnamed);
    }
    let skill = match (change.takes_skill(), skill) {
        (false, _) => None,
        (true, None) => {
            return Err(Refusal::MissingSkill {
                agent: agent.to_string(),
                change,
                skills: declared.skills.clone(),
            })
        }
        (true, Some(skill)) if !declared.skills.iter().any(|s| s == skill) => {
            return Err(Refusal::UnknownSkill {
                agent: agent.to_string(),
                skill: skill.to_string(),
                skills: declared.skills.clone(),
            })
        }
        (true, Some(skill)) => Some(skill),
    };
    Ok(store.change_assignment(agent, change, skill, by)?)
}
