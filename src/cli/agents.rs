//! `wfc agents list FILE`: each agent a file declares, with its skills and its
//! assignment (paused, excluded from skills: who did it, when);
//! `wfc agents pause|resume FILE AGENT` and `exclude|include FILE AGENT
//! --skill S` change it for every worker on the store; `wfc agents history`
//! lists the changes.

use super::{open_store, open_store_read, print_list, DbArgs, Error, Format};
use crate::assign::Refusal;
use crate::store::{Assignment, AssignmentChange, ChangeRow};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct AgentsArgs {
    #[command(subcommand)]
    command: AgentsCommand,
}

#[derive(Subcommand)]
enum AgentsCommand {
    /// Each agent of FILE: department, skills, calls waiting, and whether it is
    /// paused or excluded from a skill's pool (by whom, since when).
    List {
        /// The .wf file declaring the agents.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Give AGENT no new calls until it is resumed: its calls wait, and
    /// `any [skills]` calls go to another agent with the skills.
    Pause(Change),
    /// Let a paused AGENT take calls again.
    Resume(Change),
    /// Leave AGENT out of the pool of `--skill` for `any [skills]` calls.
    Exclude(SkillChange),
    /// Put AGENT back into the pool of `--skill`.
    Include(SkillChange),
    /// The changes made, newest first.
    History {
        /// Only this agent's.
        agent: Option<String>,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Args)]
struct Change {
    /// The .wf file declaring the agent.
    file: PathBuf,
    agent: String,
    /// Who makes the change, as recorded (default: your operating-system user).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
}

#[derive(Args)]
struct SkillChange {
    #[command(flatten)]
    change: Change,
    /// The skill whose pool the agent leaves or rejoins.
    #[arg(long)]
    skill: String,
}

/// One agent as listed.
#[derive(serde::Serialize)]
struct Listed {
    name: String,
    department: Option<String>,
    skills: Vec<String>,
    #[serde(flatten)]
    assignment: Assignment,
}

pub fn run(args: AgentsArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let (change, skill, kind) = match args.command {
        AgentsCommand::List { file, format } => return list(&file, format, db),
        AgentsCommand::History {
            agent,
            limit,
            format,
        } => return history(agent.as_deref(), limit, format, db),
        AgentsCommand::Pause(change) => (change, None, AssignmentChange::Pause),
        AgentsCommand::Resume(change) => (change, None, AssignmentChange::Resume),
        AgentsCommand::Exclude(c) => (c.change, Some(c.skill), AssignmentChange::Exclude),
        AgentsCommand::Include(c) => (c.change, Some(c.skill), AssignmentChange::Include),
    };
    let (_, program) = super::run::checked_program(&change.file)?;
    let store = open_store(db)?;
    let by = change.by.unwrap_or_else(super::os_user);
    let changed =
        crate::assign::change(&program, &store, &change.agent, kind, skill.as_deref(), &by)
            .map_err(|refusal| match refusal {
                Refusal::Store(error) => Error::from(error),
                refusal => Error::usage(refusal),
            })?;
    let agent = &change.agent;
    let pool = skill
        .map(|s| format!(" the pool of `{s}`"))
        .unwrap_or_default();
    let said = match (kind, changed) {
        (AssignmentChange::Pause, true) => format!("paused `{agent}`: it gets no new calls"),
        (AssignmentChange::Pause, false) => format!("`{agent}` was already paused"),
        (AssignmentChange::Resume, true) => format!("resumed `{agent}`"),
        (AssignmentChange::Resume, false) => format!("`{agent}` was not paused"),
        (AssignmentChange::Exclude, true) => format!("`{agent}` left{pool}"),
        (AssignmentChange::Exclude, false) => format!("`{agent}` was already out of{pool}"),
        (AssignmentChange::Include, true) => format!("`{agent}` rejoined{pool}"),
        (AssignmentChange::Include, false) => format!("`{agent}` was already in{pool}"),
    };
    println!("{said}");
    Ok(ExitCode::SUCCESS)
}

fn list(file: &std::path::Path, format: Format, db: &DbArgs) -> Result<ExitCode, Error> {
    let (_, program) = super::run::checked_program(file)?;
    let assignments = open_store_read(db)?.assignments()?;
    let listed: Vec<Listed> = program
        .agents()
        .iter()
        .map(|agent| Listed {
            name: agent.name.clone(),
            department: agent.department.clone(),
            skills: agent.skills.clone(),
            assignment: assignments
                .iter()
                .find(|a| a.agent == agent.name)
                .cloned()
                .unwrap_or_else(|| Assignment {
                    agent: agent.name.clone(),
                    ..Assignment::default()
                }),
        })
        .collect();
    print_list(
        &listed,
        format,
        "the file declares no agent",
        &["AGENT", "DEPARTMENT", "SKILLS", "ASSIGNMENT"],
        |agent| {
            let a = &agent.assignment;
            let mut state: Vec<String> = Vec::new();
            if let Some(since) = &a.paused {
                state.push(format!("paused by {} since {}", since.by, since.at));
            }
            for (skill, since) in &a.excluded {
                state.push(format!(
                    "out of {skill} (by {} since {})",
                    since.by, since.at
                ));
            }
            vec![
                agent.name.clone(),
                agent.department.clone().unwrap_or_default(),
                agent.skills.join(", "),
                if state.is_empty() {
                    "assigned".to_string()
                } else {
                    state.join("; ")
                },
            ]
        },
    )
}

fn history(
    agent: Option<&str>,
    limit: usize,
    format: Format,
    db: &DbArgs,
) -> Result<ExitCode, Error> {
    let changes = open_store_read(db)?.assignment_changes(agent, limit)?;
    print_list(
        &changes,
        format,
        "no assignment was changed",
        &["AT", "AGENT", "CHANGE", "SKILL", "BY"],
        |c: &ChangeRow| {
            vec![
                c.at.clone(),
                c.agent.clone(),
                c.change.to_string(),
                c.skill.clone().unwrap_or_default(),
                c.by.clone(),
            ]
        },
    )
}
