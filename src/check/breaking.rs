//! `wfc check --against REV`: what a change would break for those who depend
//! on the program as it was — HTTP callers and triggers that start its
//! workflows, parent workflows, the departments whose workflows are made from
//! its templates, dashboards that read its metrics and goals. Compares two
//! checked programs (as written, with their spans); reads nothing itself.

use super::Checked;
use crate::ast::{Goal, ParamKind, TriggerKind};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;
use crate::types::Type;
use std::collections::BTreeMap;

/// The program before (`rev` names it) and after; `before_span` moves a span
/// of `before` into the sources the report is rendered with.
pub fn compare(
    before: &Checked,
    after: &Checked,
    rev: &str,
    before_span: impl Fn(Span) -> Span,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let was = |span: Span| before_span(span);
    removed(before, after, rev, &was, &mut out);
    workflows(before, after, rev, &was, &mut out);
    templates(before, after, rev, &was, &mut out);
    triggers(before, after, rev, &was, &mut out);
    crate::diagnostic::sort(&mut out);
    out
}

/// Each kind of declaration others name, by name with its span.
fn names(checked: &Checked) -> Vec<(&'static str, BTreeMap<&str, Span>)> {
    let d = &checked.declarations;
    let mut goals = BTreeMap::new();
    let mut stack: Vec<&Goal> = d.goals.iter().collect();
    while let Some(goal) = stack.pop() {
        goals.insert(goal.name.name.as_str(), goal.name.span);
        stack.extend(&goal.children);
    }
    vec![
        (
            "workflow",
            d.workflows
                .iter()
                .map(|(n, w)| (n.as_str(), w.name.span))
                .collect(),
        ),
        (
            "template",
            d.templates
                .iter()
                .map(|(n, t)| (n.as_str(), t.name.span))
                .collect(),
        ),
        (
            "agent",
            d.agents
                .iter()
                .map(|(n, a)| (n.as_str(), a.name.span))
                .collect(),
        ),
        (
            "trigger",
            d.triggers
                .iter()
                .map(|(n, t)| (n.as_str(), t.name.span))
                .collect(),
        ),
        (
            "metric",
            d.metrics
                .iter()
                .map(|(n, m)| (n.as_str(), m.name.span))
                .collect(),
        ),
        ("goal", goals),
    ]
}

/// Who depends on a declaration of each kind, for the help of its removal.
fn dependents(kind: &str) -> &'static str {
    match kind {
        "workflow" => "HTTP callers, triggers of other files and parent workflows start it by name",
        "template" => "the workflows made from it elsewhere stop checking",
        "agent" => "files that import this one call it by name",
        "trigger" => "workflows of files that import this one name it in `on`",
        "metric" => "dashboards, goals and alerts read its samples by name",
        _ => "dashboards and alerts follow it by name",
    }
}

fn removed(
    before: &Checked,
    after: &Checked,
    rev: &str,
    was: &dyn Fn(Span) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    let now = names(after);
    for ((kind, then), (_, now)) in names(before).into_iter().zip(&now) {
        let added: Vec<&str> = now
            .keys()
            .copied()
            .filter(|n| !then.contains_key(n))
            .collect();
        for (name, span) in &then {
            if now.contains_key(name) {
                continue;
            }
            let keep = match crate::text::closest(name, added.iter().copied()) {
                Some(new) => {
                    format!("if it became `{new}`, keep `{name}` beside it until nothing uses it")
                }
                None => format!("keep `{name}` until nothing uses it"),
            };
            out.push(
                Diagnostic::new(
                    Code::RemovedDeclaration,
                    was(*span),
                    format!("{kind} `{name}` is gone since `{rev}`"),
                    format!("declared here at `{rev}`"),
                )
                .with_help(format!("{}; {keep}", dependents(kind))),
            );
        }
    }
}

fn declared(ty: &Option<crate::ast::TypeExpr>) -> Type {
    super::flow::declared(ty)
}

fn workflows(
    before: &Checked,
    after: &Checked,
    rev: &str,
    was: &dyn Fn(Span) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    for (name, old) in &before.declarations.workflows {
        let Some(new) = after.declarations.workflows.get(name) else {
            continue;
        };
        // Whatever a caller sent before must still be taken.
        let (old_input, new_input) = (declared(&old.input), declared(&new.input));
        if let Err(mismatch) = old_input.fits(&new_input) {
            let at = new.input.as_ref().map_or(new.name.span, |i| i.span);
            let mut diagnostic = Diagnostic::new(
                Code::InputNarrowed,
                at,
                format!("workflow `{name}` takes less than it did at `{rev}`"),
                format!("an input that fitted `{old_input}` may not fit here: {mismatch}"),
            )
            .with_help(
                "HTTP callers, triggers and parent workflows send what fitted before; \
                 make a new field optional (`field: type?`) or keep the old type",
            );
            if let Some(input) = &old.input {
                diagnostic =
                    diagnostic.with_label(was(input.span), format!("its input at `{rev}`"));
            }
            out.push(diagnostic);
        }
        // Whatever a caller read before must still be there.
        let (Some(old_output), Some(new_output)) =
            (before.outputs.get(name), after.outputs.get(name))
        else {
            continue;
        };
        if let Err(mismatch) = new_output.fits(old_output) {
            let at = new.output.as_ref().map_or(new.name.span, |o| o.span);
            let mut diagnostic = Diagnostic::new(
                Code::OutputNarrowed,
                at,
                format!("workflow `{name}` gives less than it did at `{rev}`"),
                format!("its output no longer fits `{old_output}`: {mismatch}"),
            )
            .with_help(
                "parent workflows and HTTP callers read the fields it gave; keep them, \
                 with the same types",
            );
            if let Some(output) = &old.output {
                diagnostic =
                    diagnostic.with_label(was(output.span), format!("its output at `{rev}`"));
            }
            out.push(diagnostic);
        }
    }
}

fn templates(
    before: &Checked,
    after: &Checked,
    rev: &str,
    was: &dyn Fn(Span) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    for (name, old) in &before.declarations.templates {
        let Some(new) = after.declarations.templates.get(name) else {
            continue;
        };
        let narrowed = |span: Span, label: String, help: &str| {
            Diagnostic::new(
                Code::ParameterNarrowed,
                span,
                format!("template `{name}` asks more of its workflows than it did at `{rev}`"),
                label,
            )
            .with_help(help.to_string())
        };
        for param in &new.params {
            let before_param = old.params.iter().find(|p| p.name.name == param.name.name);
            let Some(before_param) = before_param else {
                if param.default.is_none() {
                    out.push(narrowed(
                        param.name.span,
                        format!("`{}` is new and has no default", param.name.name),
                        "the workflows made from it do not give it; give it a default",
                    ));
                }
                continue;
            };
            let param_name = &param.name.name;
            if before_param.default.is_some() && param.default.is_none() {
                out.push(
                    narrowed(
                        param.name.span,
                        format!("`{param_name}` lost its default"),
                        "workflows that left it out relied on the default; keep one",
                    )
                    .with_label(was(before_param.span), format!("with a default at `{rev}`")),
                );
            }
            if let Some(problem) = contract_narrowed(&before_param.kind, &param.kind) {
                out.push(
                    narrowed(
                        param.span,
                        format!("`{param_name}`: {problem}"),
                        "an argument that fitted before must still fit: widen the contract back",
                    )
                    .with_label(was(before_param.span), format!("as it was at `{rev}`")),
                );
            }
        }
        for gone in old
            .params
            .iter()
            .filter(|p| !new.params.iter().any(|n| n.name.name == p.name.name))
        {
            out.push(
                narrowed(
                    new.name.span,
                    format!("parameter `{}` is gone", gone.name.name),
                    "the workflows that give it get `wf::unknown_argument`; keep it, unused",
                )
                .with_label(was(gone.span), format!("a parameter at `{rev}`")),
            );
        }
    }
}

/// How a parameter's contract narrowed: an argument that fitted `old` may
/// not fit `new`.
fn contract_narrowed(old: &ParamKind, new: &ParamKind) -> Option<String> {
    let kind = |k: &ParamKind| match k {
        ParamKind::Agent { .. } => "an agent",
        ParamKind::Workflow { .. } => "a workflow",
        ParamKind::Retry => "a retry policy",
        ParamKind::Duration => "a duration",
        ParamKind::Value(_) => "a value",
    };
    match (old, new) {
        (
            ParamKind::Agent {
                input: old_in,
                output: old_out,
            },
            ParamKind::Agent {
                input: new_in,
                output: new_out,
            },
        )
        | (
            ParamKind::Workflow {
                input: old_in,
                output: old_out,
            },
            ParamKind::Workflow {
                input: new_in,
                output: new_out,
            },
        ) => {
            let (old_in, new_in) = (Type::from_ast(old_in), Type::from_ast(new_in));
            let (old_out, new_out) = (Type::from_ast(old_out), Type::from_ast(new_out));
            // The template now passes less than its arguments were promised.
            if let Err(mismatch) = new_in.fits(&old_in) {
                return Some(format!(
                    "what the template passes no longer fits `{old_in}`: {mismatch}"
                ));
            }
            // Or wants more back than they were asked to give.
            if let Err(mismatch) = old_out.fits(&new_out) {
                return Some(format!("it wants more back than `{old_out}`: {mismatch}"));
            }
            None
        }
        (ParamKind::Value(old), ParamKind::Value(new)) => {
            let (old, new) = (Type::from_ast(old), Type::from_ast(new));
            old.fits(&new)
                .err()
                .map(|mismatch| format!("a value of `{old}` may not fit `{new}`: {mismatch}"))
        }
        (ParamKind::Retry, ParamKind::Retry) | (ParamKind::Duration, ParamKind::Duration) => None,
        (old, new) => Some(format!("was {}, is {}", kind(old), kind(new))),
    }
}

fn triggers(
    before: &Checked,
    after: &Checked,
    rev: &str,
    was: &dyn Fn(Span) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    for (name, old) in &before.declarations.triggers {
        let Some(new) = after.declarations.triggers.get(name) else {
            continue;
        };
        for old_kind in &old.kinds {
            let TriggerKind::Event(old_pattern) = old_kind else {
                continue;
            };
            // Every event the old pattern matched must still be matched: the
            // new one matches the old one read as a name (its `*` a `*`).
            let still = new.kinds.iter().any(|kind| {
                matches!(kind, TriggerKind::Event(p)
                    if crate::program::matches(&p.value, &old_pattern.value))
            });
            if still {
                continue;
            }
            let at = new.kinds.first().map_or(new.name.span, TriggerKind::span);
            out.push(
                Diagnostic::new(
                    Code::TriggerNarrowed,
                    at,
                    format!(
                        "trigger `{name}` no longer hears every event `{}` matched at `{rev}`",
                        old_pattern.value
                    ),
                    "events that started its workflows before do not now",
                )
                .with_label(was(old_pattern.span), format!("its pattern at `{rev}`"))
                .with_help(
                    "whoever emits those events (other files, HTTP callers) is not heard; \
                     keep the old pattern in a trigger of its own",
                ),
            );
        }
    }
}
