//! Team formation: `size` agents that together cover a goal's skills, preferring
//! the goal's department, then the least loaded — with the reason for each pick.

use crate::ast::Team;
use crate::program::{Agent, Program};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub agent: String,
    pub department: Option<String>,
    /// The required skills this member brings that no earlier pick did.
    pub covers: Vec<String>,
    pub in_flight: u32,
    /// Calls started in the hour before evaluation.
    pub recent_calls: u32,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamReport {
    pub skills: Vec<String>,
    pub size: usize,
    pub members: Vec<Member>,
    /// Why the team is short of skills or members, when it is.
    pub problem: Option<String>,
}

/// Forms the team: first from the goal's department alone, each pick covering the
/// most skills still uncovered (ties: fewer calls in flight, fewer recent calls,
/// name order); when the department cannot cover every skill, from all agents
/// having any of the skills, department members still preferred on ties. Places
/// left after every skill is covered go to the least loaded, department first.
pub fn form_team(
    program: &Program,
    department: Option<&str>,
    team: &Team,
    load: &HashMap<String, (u32, u32)>,
) -> TeamReport {
    let skills: Vec<String> = team.skills.iter().map(|s| s.name.clone()).collect();
    let size = team
        .size
        .as_ref()
        .map_or(skills.len().max(1), |s| s.value as usize);
    let candidates: Vec<&Agent> = program
        .agents()
        .iter()
        .filter(|a| a.skills.iter().any(|s| skills.contains(s)))
        .collect();
    let in_department = |a: &Agent| department.is_some() && a.department.as_deref() == department;
    let local: Vec<&Agent> = candidates
        .iter()
        .copied()
        .filter(|a| in_department(a))
        .collect();
    let picker = Picker {
        skills: &skills,
        size,
        load,
        in_department: &in_department,
    };
    let from_department = picker.pick(&local, &candidates);
    let picks = if from_department.1.is_empty() {
        from_department
    } else {
        picker.pick(&candidates, &candidates)
    };
    let (chosen, uncovered) = picks;
    let members: Vec<Member> = chosen
        .into_iter()
        .map(|(agent, brings)| {
            let (in_flight, recent_calls) = load.get(&agent.name).copied().unwrap_or((0, 0));
            let mut reasons = vec![if brings.is_empty() {
                "adds capacity".to_string()
            } else {
                format!("covers {}", brings.join(", "))
            }];
            match (department, agent.department.as_ref()) {
                (Some(wanted), Some(d)) if d == wanted => reasons.push(format!("in {wanted}")),
                (Some(wanted), _) => reasons.push(format!("outside {wanted}, which has too few")),
                _ => {}
            }
            reasons.push(format!(
                "{in_flight} in flight, {} in the last hour",
                crate::text::plural(recent_calls as usize, "call")
            ));
            Member {
                agent: agent.name.clone(),
                department: agent.department.clone(),
                covers: brings,
                in_flight,
                recent_calls,
                reason: reasons.join("; "),
            }
        })
        .collect();
    let problem = if let Some(missing) = uncovered.iter().find(|s| !program.has_skill(s)) {
        Some(format!("no agent has the skill `{missing}`"))
    } else if !uncovered.is_empty() {
        Some(format!(
            "a team of {size} cannot cover every skill: {} still uncovered",
            uncovered.join(", ")
        ))
    } else if members.len() < size {
        Some(format!(
            "only {} agents have these skills; {size} were asked for",
            members.len()
        ))
    } else {
        None
    };
    TeamReport {
        skills,
        size,
        members,
        problem,
    }
}

struct Picker<'a> {
    skills: &'a [String],
    size: usize,
    load: &'a HashMap<String, (u32, u32)>,
    in_department: &'a dyn Fn(&Agent) -> bool,
}

impl<'a> Picker<'a> {
    /// Covers the skills from `pool`, then fills the remaining places from `fill`.
    /// Returns the picks with the skills each brings, and the skills left uncovered.
    fn pick<'p>(
        &self,
        pool: &[&'p Agent],
        fill: &[&'p Agent],
    ) -> (Vec<(&'p Agent, Vec<String>)>, Vec<String>) {
        let mut uncovered: BTreeSet<&str> = self.skills.iter().map(String::as_str).collect();
        let mut chosen: Vec<(&'p Agent, Vec<String>)> = Vec::new();
        while chosen.len() < self.size && !uncovered.is_empty() {
            let best = pool
                .iter()
                .filter(|a| !chosen.iter().any(|(c, _)| c.id == a.id))
                .map(|a| {
                    let brings: Vec<String> = a
                        .skills
                        .iter()
                        .filter(|s| uncovered.contains(s.as_str()))
                        .cloned()
                        .collect();
                    (self.key(a, brings.len()), *a, brings)
                })
                .filter(|(_, _, brings)| !brings.is_empty())
                .min_by(|x, y| x.0.cmp(&y.0));
            let Some((_, agent, brings)) = best else {
                break;
            };
            for skill in &brings {
                uncovered.remove(skill.as_str());
            }
            chosen.push((agent, brings));
        }
        if uncovered.is_empty() {
            let mut rest: Vec<&&'p Agent> = fill
                .iter()
                .filter(|a| !chosen.iter().any(|(c, _)| c.id == a.id))
                .collect();
            rest.sort_by_key(|a| self.key(a, 0));
            for agent in rest
                .into_iter()
                .take(self.size.saturating_sub(chosen.len()))
            {
                chosen.push((agent, Vec::new()));
            }
        }
        (chosen, uncovered.into_iter().map(str::to_string).collect())
    }

    /// Smaller is better: more new skills, in the department, less loaded, by name.
    fn key(
        &self,
        agent: &Agent,
        brings: usize,
    ) -> (std::cmp::Reverse<usize>, bool, u32, u32, String) {
        let (in_flight, recent) = self.load.get(&agent.name).copied().unwrap_or((0, 0));
        (
            std::cmp::Reverse(brings),
            !(self.in_department)(agent),
            in_flight,
            recent,
            agent.name.clone(),
        )
    }
}
