//! Alerts: a condition (a signal of a declared workflow over a window, or a goal
//! in a status) and somewhere to send a firing (a webhook, an event).

use super::flow::reference;
use super::Declarations;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::program::GoalStatus as Status;
use crate::program::Signal;
use crate::text as suggest;

pub fn check(program: &Declarations, out: &mut Vec<Diagnostic>) {
    let goals: std::collections::BTreeMap<String, ()> = program
        .all_goals()
        .into_iter()
        .map(|g| (g.name.name.clone(), ()))
        .collect();
    for alert in program.alerts.values() {
        match &alert.condition {
            None => out.push(incomplete(
                alert,
                "does not say when it fires",
                "add `when failure_rate(workflow) > 0.2 within 15m` or `when goal name is at_risk`",
            )),
            Some(AlertCondition::Signal {
                signal,
                workflow,
                threshold,
                within,
                ..
            }) => {
                match Signal::parse(&signal.name) {
                    None => out.push(
                        Diagnostic::new(
                            Code::UnknownAlertSignal,
                            signal.span,
                            format!("unknown alert signal `{}`", signal.name),
                            "not a signal",
                        )
                        .with_help(
                            suggest::did_you_mean(&signal.name, Signal::names()).unwrap_or_else(
                                || {
                                    format!(
                                        "the signals are {}",
                                        Signal::names().collect::<Vec<_>>().join(", ")
                                    )
                                },
                            ),
                        ),
                    ),
                    Some(signal) => {
                        if let Some(problem) = signal.threshold_problem(threshold.value) {
                            out.push(Diagnostic::new(
                                Code::InvalidNumber,
                                threshold.span,
                                format!(
                                    "`{}` cannot be compared with {}",
                                    signal.name(),
                                    threshold.value
                                ),
                                problem,
                            ));
                        }
                    }
                }
                reference(
                    &program.workflows,
                    workflow,
                    Code::UnknownWorkflow,
                    "workflow",
                    out,
                );
                super::values::duration(Some(within), out);
            }
            Some(AlertCondition::Goal { goal, status, .. }) => {
                reference(&goals, goal, Code::UnknownGoal, "goal", out);
                if Status::parse(&status.name).is_none() {
                    let names = Status::ALL.map(Status::name);
                    out.push(
                        Diagnostic::new(
                            Code::UnknownGoalStatus,
                            status.span,
                            format!("unknown goal status `{}`", status.name),
                            "not a status",
                        )
                        .with_help(
                            suggest::did_you_mean(&status.name, names)
                                .unwrap_or_else(|| format!("a goal is {}", names.join(", "))),
                        ),
                    );
                }
            }
        }
        if alert.webhook.is_none() && alert.emit.is_none() {
            out.push(incomplete(
                alert,
                "sends its firing nowhere",
                "add `notify webhook \"https://…\"` or `emit \"alert.name\"`",
            ));
        }
        if let Some(url) = &alert.webhook {
            if let Some(problem) = super::values::url_problem(&url.value) {
                out.push(Diagnostic::new(
                    Code::InvalidUrl,
                    url.span,
                    problem,
                    "this URL",
                ));
            }
        }
        if let Some(event) = &alert.emit {
            super::values::event_name(event, out);
        }
    }
}

fn incomplete(alert: &Alert, what: &str, help: &str) -> Diagnostic {
    Diagnostic::new(
        Code::IncompleteAlert,
        alert.name.span,
        format!("alert `{}` {what}", alert.name.name),
        "this alert",
    )
    .with_help(help)
}
