//! Lowering `test "name" { … }` blocks: mocks, the run, and expectations.

use super::expr::lower_expr;
use super::pairs::{compare_op, keyword, unreachable_rule, Children, Lower};
use super::Rule;
use crate::ast::*;
use crate::source::Span;
use pest::iterators::Pair;

impl Lower {
    pub(super) fn test(&mut self, pair: Pair<'_, Rule>) -> Test {
        let span = self.span(&pair);
        let mut children = Children::of(pair);
        let name = self.string(children.next());
        let statements = children.rest().map(|s| self.test_statement(s)).collect();
        Test {
            name,
            statements,
            span,
        }
    }

    fn test_statement(&mut self, pair: Pair<'_, Rule>) -> TestStatement {
        // An optional part that is absent (`with …`) leaves the layout after the
        // statement inside its pair; the span ends at its last character.
        let mut span = self.span(&pair);
        span.end = span.start + pair.as_str().trim_end().len();
        let rule = pair.as_rule();
        let mut children = Children::of(pair);
        match rule {
            Rule::test_mock => TestStatement::Mock(self.mock(children, span)),
            Rule::test_run => TestStatement::Run {
                workflow: self.ident(children.next()),
                input: children.rest().next().map(|p| lower_expr(self, p)),
                span,
            },
            Rule::given_event => TestStatement::GivenEvent {
                event: self.string(children.next()),
                payload: children
                    .rest()
                    .next()
                    .map(|p| lower_expr(self, Children::of(p).next())),
                span,
            },
            Rule::test_send => {
                let event = self.string(children.next());
                let (mut payload, mut after) = (None, None);
                for part in children.rest() {
                    match part.as_rule() {
                        Rule::payload => {
                            payload = Some(lower_expr(self, Children::of(part).next()))
                        }
                        Rule::send_after => after = Some(self.duration(Children::of(part).next())),
                        rule => unreachable_rule(rule),
                    }
                }
                TestStatement::Send {
                    event,
                    payload,
                    after,
                    span,
                }
            }
            Rule::given_metric => {
                let name = children.next();
                TestStatement::GivenMetric {
                    metric: Spanned::new(name.as_str().to_string(), self.span(&name)),
                    value: self.number(children.next()),
                    span,
                }
            }
            Rule::test_expect => TestStatement::Expect(Expectation {
                kind: self.expectation(children.next()),
                span,
            }),
            rule => unreachable_rule(rule),
        }
    }

    fn mock(&mut self, mut children: Children<'_>, span: Span) -> Mock {
        let mut mock = Mock {
            agent: self.ident(children.next()),
            takes: None,
            fails: None,
            returns: None,
            span,
        };
        for part in children.rest() {
            let rule = part.as_rule();
            let mut inner = Children::of(part);
            match rule {
                Rule::mock_takes => mock.takes = Some(self.duration(inner.next())),
                Rule::mock_fails => {
                    let kind = self.ident(inner.next());
                    let times = inner.rest().next().map(|n| self.number(n));
                    mock.fails = Some((kind, times));
                }
                Rule::mock_returns => mock.returns = Some(lower_expr(self, inner.next())),
                rule => unreachable_rule(rule),
            }
        }
        mock
    }

    fn expectation(&mut self, pair: Pair<'_, Rule>) -> ExpectationKind {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut children = Children::of(pair.clone());
        match rule {
            Rule::expect_called => ExpectationKind::Called {
                agent: self.ident(children.next()),
                times: self.number(children.next()),
            },
            Rule::expect_status => match keyword(&children.next()) {
                Rule::status_completed => ExpectationKind::Status(RunStatus::Completed),
                Rule::status_failed => ExpectationKind::Status(RunStatus::Failed),
                rule => unreachable_rule(rule),
            },
            Rule::expect_dead_letter => ExpectationKind::DeadLetter,
            Rule::expect_event => ExpectationKind::Event {
                event: self.string(children.next()),
                payload: children
                    .rest()
                    .next()
                    .map(|p| lower_expr(self, Children::of(p).next())),
            },
            Rule::expect_metric => ExpectationKind::Metric(self.threshold(&mut children, span)),
            Rule::expect_step => {
                let step = children.next();
                let step = match step.as_rule() {
                    Rule::ident => Spanned::new(step.as_str().to_string(), self.span(&step)),
                    Rule::string => self.string(step),
                    rule => unreachable_rule(rule),
                };
                let how = children.next();
                let rule = how.as_rule();
                let mut parts = Children::of(how);
                match rule {
                    Rule::step_attempts => ExpectationKind::StepAttempts {
                        step,
                        attempts: self.number(parts.next()),
                    },
                    Rule::step_resolved => ExpectationKind::StepResolved {
                        step,
                        with: parts.rest().next().map(|p| lower_expr(self, p)),
                    },
                    Rule::step_timed_out => ExpectationKind::StepTimedOut { step },
                    rule => unreachable_rule(rule),
                }
            }
            Rule::expect_output => {
                let mut path = Vec::new();
                let mut next = children.next();
                while matches!(next.as_rule(), Rule::field | Rule::index) {
                    let inner = Children::of(next.clone()).next();
                    path.push(match next.as_rule() {
                        Rule::field => Access::Field(self.key(inner)),
                        Rule::index => Access::Index(lower_expr(self, inner)),
                        rule => unreachable_rule(rule),
                    });
                    next = children.next();
                }
                ExpectationKind::Output {
                    path,
                    op: compare_op(keyword(&next)),
                    value: lower_expr(self, children.next()),
                }
            }
            rule => unreachable_rule(rule),
        }
    }
}
