//! `test` blocks: unique names, one run started, mocks of declared agents whose
//! results fit what the agent declares, inputs that fit the workflow, and
//! expectations that name what exists.

use super::expr::{self, type_of};
use super::flow::{declared, unknown, InputOnly};
use super::values::{duration, unknown_error_kind};
use super::Declarations;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::program::ErrorKind;
use crate::types::Type;
use std::collections::HashMap;

pub fn check(program: &Declarations, out: &mut Vec<Diagnostic>) {
    let mut names: HashMap<&str, &Test> = HashMap::new();
    for test in &program.tests {
        if let Some(first) = names.insert(&test.name.value, test) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateTest,
                    test.name.span,
                    format!("test `{}` is declared twice", test.name.value),
                    "declared again here",
                )
                .with_label(first.name.span, "first declared here")
                .with_help("give each test its own name: `wfc test --filter` selects by name"),
            );
        }
        self::test(test, program, out);
    }
}

fn test(test: &Test, program: &Declarations, out: &mut Vec<Diagnostic>) {
    let mut starts = Vec::new();
    let mut mocked: HashMap<&str, &Mock> = HashMap::new();
    let mut given_metrics = 0;
    for statement in &test.statements {
        match statement {
            TestStatement::Mock(mock) => {
                if let Some(first) = mocked.insert(&mock.agent.name, mock) {
                    out.push(
                        Diagnostic::new(
                            Code::DuplicateProperty,
                            mock.agent.span,
                            format!("agent `{}` is mocked twice in this test", mock.agent.name),
                            "mocked again here",
                        )
                        .with_label(first.agent.span, "first mocked here")
                        .with_help("one `mock` says everything: `takes`, `fails … then returns`"),
                    );
                }
                self::mock(mock, program, out);
            }
            TestStatement::Run {
                workflow,
                input,
                span,
            } => {
                starts.push(*span);
                match program.workflows.get(&workflow.name) {
                    None => out.push(unknown(
                        Code::UnknownWorkflow,
                        "workflow",
                        workflow,
                        program.workflows.keys(),
                    )),
                    Some(declaration) => {
                        if let Some(input) = input {
                            let found = value_type(input, Type::Any, program, out);
                            let wanted = declared(&declaration.input);
                            if let Err(mismatch) = found.fits(&wanted) {
                                out.push(Diagnostic::new(
                                    Code::InputMismatch,
                                    input.span,
                                    format!(
                                        "this input does not fit workflow `{}`'s `input`",
                                        workflow.name
                                    ),
                                    mismatch.to_string(),
                                ));
                            }
                        }
                    }
                }
            }
            TestStatement::GivenEvent { payload, span, .. } => {
                starts.push(*span);
                if let Some(payload) = payload {
                    value_type(payload, Type::Any, program, out);
                }
            }
            TestStatement::GivenMetric { .. } => given_metrics += 1,
            TestStatement::Send {
                event,
                payload,
                after,
                ..
            } => {
                super::values::event_name(event, out);
                super::values::duration(after.as_ref(), out);
                if let Some(payload) = payload {
                    value_type(payload, Type::Any, program, out);
                }
            }
            TestStatement::Expect(expectation) => self::expectation(expectation, program, out),
        }
    }
    match starts.as_slice() {
        [] if given_metrics == 0 => out.push(
            Diagnostic::new(
                Code::TestStart,
                test.name.span,
                format!("test `{}` starts nothing", test.name.value),
                "nothing to run",
            )
            .with_help("start one run: `run WORKFLOW with { … }` or `given event \"name\" { … }`"),
        ),
        [_] | [] => {}
        [first, second, ..] => out.push(
            Diagnostic::new(
                Code::TestStart,
                *second,
                format!("test `{}` starts more than one run", test.name.value),
                "a second start",
            )
            .with_label(*first, "the first")
            .with_help("a test exercises one run; split it into two tests"),
        ),
    }
}

fn mock(mock: &Mock, program: &Declarations, out: &mut Vec<Diagnostic>) {
    duration(mock.takes.as_ref(), out);
    if let Some((kind, times)) = &mock.fails {
        if !ErrorKind::from_name(&kind.name).is_some_and(ErrorKind::retriable) {
            out.push(unknown_error_kind(kind, ErrorKind::retriable_kinds));
        }
        if let Some(times) = times {
            whole(times, 1, out);
        }
    }
    let Some(agent) = program.agents.get(&mock.agent.name) else {
        out.push(unknown(
            Code::UnknownAgent,
            "agent",
            &mock.agent,
            program.agents.keys(),
        ));
        return;
    };
    if let Some(returns) = &mock.returns {
        let found = value_type(returns, declared(&agent.input), program, out);
        let context = format!("a mock of `{}`", agent.name.name);
        expr::expect(
            &found,
            &declared(&agent.output),
            returns.span,
            &context,
            out,
        );
    }
}

fn expectation(expectation: &Expectation, program: &Declarations, out: &mut Vec<Diagnostic>) {
    match &expectation.kind {
        ExpectationKind::Called { agent, times } => {
            if !program.agents.contains_key(&agent.name) {
                out.push(unknown(
                    Code::UnknownAgent,
                    "agent",
                    agent,
                    program.agents.keys(),
                ));
            }
            whole(times, 0, out);
        }
        ExpectationKind::StepAttempts { attempts, .. } => whole(attempts, 0, out),
        ExpectationKind::StepResolved {
            with: Some(value), ..
        } => {
            value_type(value, Type::Any, program, out);
        }
        ExpectationKind::Event {
            payload: Some(payload),
            ..
        } => {
            value_type(payload, Type::Any, program, out);
        }
        ExpectationKind::Output { path, value, .. } => {
            for access in path {
                if let Access::Index(index) = access {
                    value_type(index, Type::Any, program, out);
                }
            }
            value_type(value, Type::Any, program, out);
        }
        ExpectationKind::Metric(threshold) => super::values::threshold(threshold, out),
        ExpectationKind::Status(_)
        | ExpectationKind::DeadLetter
        | ExpectationKind::StepTimedOut { .. }
        | ExpectationKind::StepResolved { with: None, .. }
        | ExpectationKind::Event { payload: None, .. } => {}
    }
}

/// A whole number of at least `least`.
fn whole(value: &Spanned<f64>, least: u32, out: &mut Vec<Diagnostic>) {
    let n = value.value;
    if n.fract() != 0.0 || n < f64::from(least) || n > f64::from(u32::MAX) {
        out.push(Diagnostic::new(
            Code::InvalidCount,
            value.span,
            format!("expected a whole number of at least {least}, not {n}"),
            "not a count",
        ));
    }
}

/// The type of a value written in a test; it sees `input` (the mocked call's, or
/// nothing) and no names.
fn value_type(
    value: &Expr,
    input: Type,
    program: &Declarations,
    out: &mut Vec<Diagnostic>,
) -> Type {
    let mut env = InputOnly {
        program,
        input,
        place: "not visible in a test",
        help: "a test's values are literals; a mock's `returns` may read `input`",
        secrets: false,
    };
    type_of(value, &mut env, out)
}
