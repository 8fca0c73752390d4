//! The program as a graph: sub-workflow cycles, workflows nothing starts, triggers
//! nothing uses, metrics read but never recorded, skills no agent has, and goals
//! that measure nothing.

use super::flow::{reference, unknown_skill};
use super::Declarations;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::metric;
use crate::text as suggest;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub fn check(program: &Declarations, out: &mut Vec<Diagnostic>) {
    let calls = call_graph(program);
    cycles(&calls, out);
    unreachable(program, &calls, out);
    unused_triggers(program, out);
    metrics(program, out);
    goals(program, out);
}

/// Each workflow's sub-workflow calls, by name.
fn call_graph(program: &Declarations) -> BTreeMap<&str, Vec<&Ident>> {
    program
        .workflows
        .iter()
        .map(|(name, w)| (name.as_str(), sub_workflow_calls(w)))
        .collect()
}

/// Every workflow, each after the workflows it calls (those that call each other
/// in name order): the order in which each one's output type is known before a
/// call to it is checked, without recursing from caller to callee.
pub fn callees_first(program: &Declarations) -> Vec<&Workflow> {
    let calls = call_graph(program);
    let (names, edges) = indexed(&calls);
    components(&edges)
        .into_iter()
        .flatten()
        .map(|i| &program.workflows[names[i]])
        .collect()
}

/// Each numbered workflow's calls, as (callee, the call).
type Edges<'p> = Vec<Vec<(usize, &'p Ident)>>;

/// The call graph with workflows numbered in name order: their names, and each
/// one's calls to workflows that exist as (callee, the call).
fn indexed<'p>(calls: &BTreeMap<&'p str, Vec<&'p Ident>>) -> (Vec<&'p str>, Edges<'p>) {
    let names: Vec<&str> = calls.keys().copied().collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges = names
        .iter()
        .map(|name| {
            calls[name]
                .iter()
                .filter_map(|call| Some((*index.get(call.name.as_str())?, *call)))
                .collect()
        })
        .collect();
    (names, edges)
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

/// Reports each group of workflows that call each other (a strongly connected
/// component of the call graph), once: at the call that closes the shortest cycle
/// through its first workflow by name. Linear in workflows and calls, so a long
/// chain of sub-workflows checks as fast as a short one.
fn cycles(calls: &BTreeMap<&str, Vec<&Ident>>, out: &mut Vec<Diagnostic>) {
    let (names, edges) = indexed(calls);
    let mut components = components(&edges);
    components.sort_unstable_by_key(|component| component[0]);
    for component in components {
        let start = component[0];
        let inside: HashSet<usize> = component.iter().copied().collect();
        // Breadth first from `start` within the component, until a call back to it.
        let mut parent: HashMap<usize, usize> = HashMap::from([(start, start)]);
        let mut queue = std::collections::VecDeque::from([start]);
        let closing = 'search: loop {
            let Some(at) = queue.pop_front() else {
                break None;
            };
            for (callee, call) in &edges[at] {
                if *callee == start {
                    break 'search Some((at, *call));
                }
                if inside.contains(callee) && !parent.contains_key(callee) {
                    parent.insert(*callee, at);
                    queue.push_back(*callee);
                }
            }
        };
        // A component of one workflow that does not call itself is no cycle.
        let Some((last, call)) = closing else {
            continue;
        };
        let mut cycle = vec![names[start]];
        let mut at = last;
        while at != start {
            cycle.insert(1, names[at]);
            at = parent[&at];
        }
        cycle.push(names[start]);
        out.push(
            Diagnostic::new(
                Code::WorkflowCycle,
                call.span,
                format!("workflow `{}` calls itself", names[start]),
                "this call closes the cycle",
            )
            .with_help(format!(
                "{}; a sub-workflow cannot call back into its callers",
                cycle.join(" calls ")
            )),
        );
    }
}

/// The strongly connected components of a graph (Tarjan's algorithm with an
/// explicit stack: a chain of thousands of calls must not recurse), each sorted,
/// every one after the components it reaches.
fn components<T>(edges: &[Vec<(usize, T)>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let mut order = vec![UNSEEN; edges.len()];
    let mut low = vec![0; edges.len()];
    let mut on_stack = vec![false; edges.len()];
    let mut stack = Vec::new();
    let mut found = Vec::new();
    let mut next = 0;
    for root in 0..edges.len() {
        if order[root] != UNSEEN {
            continue;
        }
        // (node, index of its next edge)
        let mut path = vec![(root, 0)];
        order[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut edge)) = path.last_mut() {
            if let Some((to, _)) = edges[node].get(*edge) {
                *edge += 1;
                let to = *to;
                if order[to] == UNSEEN {
                    order[to] = next;
                    low[to] = next;
                    next += 1;
                    stack.push(to);
                    on_stack[to] = true;
                    path.push((to, 0));
                } else if on_stack[to] {
                    low[node] = low[node].min(order[to]);
                }
                continue;
            }
            path.pop();
            if let Some(&(caller, _)) = path.last() {
                low[caller] = low[caller].min(low[node]);
            }
            if low[node] == order[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                component.sort_unstable();
                found.push(component);
            }
        }
    }
    found
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

#[cfg(test)]
mod tests {
    use super::components;

    #[test]
    fn components_are_found_without_recursion_and_in_order() {
        // 0 → 1 → 2 → 0, 3 → 3, 4 → 5, and a chain far deeper than a stack.
        let mut edges: Vec<Vec<(usize, ())>> = vec![
            vec![(1, ())],
            vec![(2, ())],
            vec![(0, ())],
            vec![(3, ())],
            vec![(5, ())],
            vec![],
        ];
        let deep = 200_000;
        for i in 0..deep {
            let next = edges.len() + 1;
            edges.push(if i + 1 < deep {
                vec![(next, ())]
            } else {
                vec![]
            });
        }
        let found = components(&edges);
        assert_eq!(found.len(), 4 + deep);
        // Each after what it reaches: the chain from its end, 5 before 4.
        assert_eq!(found[0], vec![0, 1, 2]);
        assert_eq!(found[1], vec![3]);
        assert_eq!(found[2..4], [vec![5], vec![4]]);
        assert_eq!(found[4], vec![5 + deep]);
        assert_eq!(found.last(), Some(&vec![6]));
    }
}
