//! The program as a graph: sub-workflow cycles, workflows nothing starts, triggers
//! nothing uses, metrics read but never recorded, skills no agent has, and goals
//! that measure nothing.

use super::flow::{reference, unknown_skill};
use super::Declarations;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::metric;
use crate::text as suggest;
use std::collections::{BTreeMap, BTreeSet};

pub fn check(program: &Declarations, out: &mut Vec<Diagnostic>) {
    let calls: BTreeMap<&str, Vec<&Ident>> = program
        .workflows
        .iter()
        .map(|(name, w)| (name.as_str(), sub_workflow_calls(w)))
        .collect();
    cycles(&calls, out);
    unreachable(program, &calls, out);
    unused_triggers(program, out);
    metrics(program, out);
    goals(program, out);
}

fn sub_workflow_calls(workflow: &Workflow) -> Vec<&Ident> {
    let mut calls = Vec::new();
    for body in &workflow.bodies {
        if let WorkflowBody::Steps(block) = body {
            block_calls(block, &mut calls);
        }
    }
    calls
}

fn block_calls<'a>(block: &'a Block, calls: &mut Vec<&'a Ident>) {
    block.walk(&mut |statement| {
        if let StatementKind::Call { call, .. } = &statement.kind {
            if let CallTarget::Workflow(name) = &call.target {
                calls.push(name);
            }
        }
    });
}

/// Reports each call that closes a cycle of sub-workflow calls, once per cycle.
fn cycles(calls: &BTreeMap<&str, Vec<&Ident>>, out: &mut Vec<Diagnostic>) {
    let mut reported: BTreeSet<Vec<String>> = BTreeSet::new();
    for start in calls.keys() {
        // Depth-first with an explicit stack of (workflow, next call index).
        let mut path: Vec<(&str, usize)> = vec![(start, 0)];
        let mut done: BTreeSet<&str> = BTreeSet::new();
        while let Some((current, index)) = path.last().copied() {
            let Some(call) = calls.get(current).and_then(|c| c.get(index)) else {
                done.insert(current);
                path.pop();
                continue;
            };
            path.last_mut().expect("path is not empty").1 += 1;
            let target = call.name.as_str();
            if target == *start {
                let mut cycle: Vec<String> = path.iter().map(|(w, _)| w.to_string()).collect();
                let mut key = cycle.clone();
                key.sort();
                if reported.insert(key) {
                    cycle.push(target.to_string());
                    out.push(
                        Diagnostic::new(
                            Code::WorkflowCycle,
                            call.span,
                            format!("workflow `{start}` calls itself"),
                            "this call closes the cycle",
                        )
                        .with_help(format!(
                            "{}; a sub-workflow cannot call back into its callers",
                            cycle.join(" calls ")
                        )),
                    );
                }
            } else if calls.contains_key(target)
                && !done.contains(target)
                && !path.iter().any(|(w, _)| *w == target)
            {
                path.push((target, 0));
            }
        }
    }
}

fn unreachable(
    program: &Declarations,
    calls: &BTreeMap<&str, Vec<&Ident>>,
    out: &mut Vec<Diagnostic>,
) {
    let called: BTreeSet<&str> = calls
        .values()
        .flatten()
        .map(|ident| ident.name.as_str())
        .collect();
    for workflow in program.workflows.values() {
        if workflow.triggers.is_empty() && !called.contains(workflow.name.name.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::UnreachableWorkflow,
                    workflow.name.span,
                    format!("workflow `{}` has no trigger and nothing calls it", workflow.name.name),
                    "never starts by itself",
                )
                .with_help("add `on some_trigger` (a `manual` trigger makes it runnable by hand), or call it from another workflow"),
            );
        }
    }
}

fn unused_triggers(program: &Declarations, out: &mut Vec<Diagnostic>) {
    let used: BTreeSet<&str> = program
        .workflows
        .values()
        .flat_map(|w| w.triggers.iter().map(|t| t.name.as_str()))
        .collect();
    for trigger in program.triggers.values() {
        if !used.contains(trigger.name.name.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::UnusedTrigger,
                    trigger.name.span,
                    format!("trigger `{}` starts no workflow", trigger.name.name),
                    "no workflow lists it in `on`",
                )
                .with_help(format!(
                    "add `on {}` to the workflow it should start",
                    trigger.name.name
                )),
            );
        }
    }
}

/// Metrics that triggers and goals read must be recorded by some workflow.
fn metrics(program: &Declarations, out: &mut Vec<Diagnostic>) {
    // Written by a workflow, or declared to be written from outside.
    let recorded: BTreeSet<&str> = program
        .workflows
        .values()
        .flat_map(|w| w.records.iter().map(|r| r.metric.value.as_str()))
        .chain(program.metrics.keys().map(String::as_str))
        .collect();
    let mut reads: Vec<&MetricRef> = program
        .triggers
        .values()
        .flat_map(|t| &t.kinds)
        .filter_map(|k| match k {
            TriggerKind::Metric(threshold) => Some(&threshold.metric),
            _ => None,
        })
        .collect();
    reads.extend(
        program
            .all_goals()
            .into_iter()
            .filter_map(|g| g.kpi.as_ref().map(|k| &k.threshold.metric)),
    );
    for read in reads {
        let Ok(query) = metric::resolve(read) else {
            continue;
        };
        if !recorded.contains(query.series.as_str()) {
            let help = suggest::did_you_mean(&query.series, recorded.iter().copied())
                .unwrap_or_else(|| {
                    format!(
                        "record it in a workflow (`record {0} = …`), or declare it as recorded from outside: `metric {0} {{ unit \"…\" }}`",
                        query.series
                    )
                });
            out.push(
                Diagnostic::new(
                    Code::UnrecordedMetric,
                    read.metric.span,
                    format!(
                        "no workflow records the metric `{}`, and no `metric` declares it",
                        query.series
                    ),
                    "read here, never written",
                )
                .with_help(help),
            );
        }
    }
}

fn goals(program: &Declarations, out: &mut Vec<Diagnostic>) {
    for goal in program.all_goals() {
        if goal.kpi.is_none() && goal.children.is_empty() {
            out.push(
                Diagnostic::new(
                    Code::UnmeasuredGoal,
                    goal.name.span,
                    format!("goal `{}` has no KPI and no sub-goals", goal.name.name),
                    "its progress cannot be measured",
                )
                .with_help("add `kpi metric >= target` or child goals"),
            );
        }
        if let Some(team) = &goal.team {
            for skill in &team.skills {
                if !program.has_skill(&skill.name) {
                    out.push(unknown_skill(skill, program));
                }
            }
        }
        for workflow in &goal.pursued_by {
            reference(
                &program.workflows,
                workflow,
                Code::UnknownWorkflow,
                "workflow",
                out,
            );
        }
    }
}
