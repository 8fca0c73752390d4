//! The declarations as one namespace: every declaration of every loaded file, by kind and
//! name. Building it reports names declared twice.

use crate::ast::*;
use crate::diagnostic::{set_twice, Code, Diagnostic};
use crate::source::FileId;
use std::collections::BTreeMap;

/// Declarations by name. The first of two same-named declarations wins; the second
/// is reported.
#[derive(Debug, Default, Clone)]
pub struct Declarations {
    pub agents: BTreeMap<String, Agent>,
    pub triggers: BTreeMap<String, Trigger>,
    pub workflows: BTreeMap<String, Workflow>,
    pub retries: BTreeMap<String, RetryPolicy>,
    pub breakers: BTreeMap<String, Breaker>,
    /// `test` blocks, in file order (their names are checked in `tests.rs`).
    pub tests: Vec<Test>,
    pub alerts: BTreeMap<String, Alert>,
    /// Workflow bodies over parameters; their instances are in `workflows`.
    pub templates: BTreeMap<String, Template>,
    /// Metrics declared to be recorded from outside.
    pub metrics: BTreeMap<String, Metric>,
    /// Top-level goals; children stay inside their parents.
    pub goals: Vec<Goal>,
    /// The root file's default timezone for metric periods.
    pub timezone: Option<Spanned<String>>,
    /// Agent names by skill, in name order.
    pub skills: BTreeMap<String, Vec<String>>,
}

trait Named {
    fn ident(&self) -> &Ident;
}

macro_rules! named {
    ($($ty:ty),*) => { $(impl Named for $ty { fn ident(&self) -> &Ident { &self.name } })* };
}
named!(
    Template,
    Agent,
    Trigger,
    Workflow,
    RetryPolicy,
    Breaker,
    Goal,
    Metric,
    Alert
);

impl<T: Named> Named for &T {
    fn ident(&self) -> &Ident {
        (*self).ident()
    }
}

impl Declarations {
    /// Takes the files' declarations (moved, not copied: a large program is not
    /// held twice).
    pub fn build(files: Vec<(FileId, File)>, diagnostics: &mut Vec<Diagnostic>) -> Declarations {
        let mut program = Declarations::default();
        let root = files.first().map(|(id, _)| *id);
        for (id, file) in files {
            for item in file.items {
                match item {
                    Item::Import(_) => {}
                    Item::Timezone(tz) if Some(id) == root => match &program.timezone {
                        Some(first) => diagnostics.push(set_twice("timezone", tz.span, first.span)),
                        None => program.timezone = Some(tz.clone()),
                    },
                    Item::Timezone(_) => {}
                    Item::Agent(a) => insert(
                        &mut program.agents,
                        a,
                        Code::DuplicateAgent,
                        "agent",
                        diagnostics,
                    ),
                    Item::Trigger(t) => insert(
                        &mut program.triggers,
                        t,
                        Code::DuplicateTrigger,
                        "trigger",
                        diagnostics,
                    ),
                    Item::Template(t) => insert(
                        &mut program.templates,
                        t,
                        Code::DuplicateTemplate,
                        "template",
                        diagnostics,
                    ),
                    Item::Workflow(w) => insert(
                        &mut program.workflows,
                        w,
                        Code::DuplicateWorkflow,
                        "workflow",
                        diagnostics,
                    ),
                    Item::Retry(r) => insert(
                        &mut program.retries,
                        r,
                        Code::DuplicateRetry,
                        "retry policy",
                        diagnostics,
                    ),
                    Item::Breaker(b) => insert(
                        &mut program.breakers,
                        b,
                        Code::DuplicateBreaker,
                        "breaker",
                        diagnostics,
                    ),
                    Item::Goal(g) => program.goals.push(g),
                    Item::Alert(a) => insert(
                        &mut program.alerts,
                        a,
                        Code::DuplicateAlert,
                        "alert",
                        diagnostics,
                    ),
                    Item::Test(t) => program.tests.push(t),
                    Item::Metric(m) => insert(
                        &mut program.metrics,
                        m,
                        Code::DuplicateMetric,
                        "metric",
                        diagnostics,
                    ),
                }
            }
        }
        for agent in program.agents.values() {
            for skill in &agent.skills {
                let holders = program.skills.entry(skill.name.clone()).or_default();
                if holders.last() != Some(&agent.name.name) {
                    holders.push(agent.name.name.clone());
                }
            }
        }
        let mut goals = BTreeMap::new();
        for goal in all_goals(&program.goals) {
            insert(&mut goals, goal, Code::DuplicateGoal, "goal", diagnostics);
        }
        program
    }

    /// Every goal, parents before their children.
    pub fn all_goals(&self) -> Vec<&Goal> {
        all_goals(&self.goals)
    }

    /// Agents that have every one of `skills`, in name order.
    pub fn agents_with_skills<'a>(&'a self, skills: &[Ident]) -> Vec<&'a Agent> {
        let Some((first, rest)) = skills.split_first() else {
            return Vec::new();
        };
        let holders = |skill: &Ident| self.skills.get(&skill.name).map_or(&[][..], Vec::as_slice);
        holders(first)
            .iter()
            .filter(|name| rest.iter().all(|s| holders(s).contains(name)))
            .filter_map(|name| self.agents.get(name))
            .collect()
    }

    /// Whether any agent declares `skill`.
    pub fn has_skill(&self, skill: &str) -> bool {
        self.skills.contains_key(skill)
    }

    pub fn all_skills(&self) -> impl Iterator<Item = &str> {
        self.skills.keys().map(String::as_str)
    }
}

fn all_goals(roots: &[Goal]) -> Vec<&Goal> {
    let mut out = Vec::new();
    let mut stack: Vec<&Goal> = roots.iter().rev().collect();
    while let Some(goal) = stack.pop() {
        out.push(goal);
        stack.extend(goal.children.iter().rev());
    }
    out
}

fn insert<T: Named>(
    map: &mut BTreeMap<String, T>,
    item: T,
    code: Code,
    kind: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let ident = item.ident();
    match map.get(&ident.name) {
        Some(first) => diagnostics.push(
            Diagnostic::new(
                code,
                ident.span,
                format!("{kind} `{}` is declared twice", ident.name),
                "declared again here",
            )
            .with_label(first.ident().span, "first declared here")
            .with_help(format!("rename one of them or remove the second {kind}")),
        ),
        None => {
            let name = ident.name.clone();
            map.insert(name, item);
        }
    }
}
