//! Running statements: blocks, branches, loops, parallel branches, failure
//! handlers, events and durable waits.

use super::engine::{store_abort, Attempt, Env, Run};
use super::error::{Abort, StepError};
use super::eval::{self, EvalError};
use crate::program::{Block, ForLoop, Statement, StatementKind};
use crate::store;
use futures::future::{join_all, BoxFuture};
use futures::stream::{self, StreamExt};
use serde_json::{Map, Value};
use std::time::Duration;

impl Run<'_> {
    pub(super) fn block<'a>(
        &'a self,
        block: &'a Block,
        env: &'a mut Env,
        path: &'a str,
    ) -> BoxFuture<'a, Result<(), Abort>> {
        Box::pin(async move {
            for statement in &block.statements {
                self.statement(statement, env, path).await?;
            }
            Ok(())
        })
    }

    async fn statement(
        &self,
        statement: &Statement,
        env: &mut Env,
        path: &str,
    ) -> Result<(), Abort> {
        let step = || format!("{path}{}", statement.step);
        match &statement.kind {
            StatementKind::Call { name, call } => {
                // Boxed, like loops and parallel blocks below, so that a statement
                // parked in a `wait` holds a small future, not the largest branch.
                let value = Box::pin(self.call(call, env, &step())).await?;
                env.bind(name, value);
            }
            StatementKind::Let { name, value } => {
                let value = self.engine.eval(value, env, &step())?;
                env.bind(name, value);
            }
            StatementKind::When {
                branches,
                otherwise,
            } => {
                let mut chosen = otherwise.as_ref();
                for branch in branches {
                    let step = format!("{path}{}", branch.step);
                    let condition = &branch.condition;
                    let value = self.engine.eval(condition, env, &step)?;
                    let truth = eval::truth(&value, condition.span, "a `when` condition")
                        .map_err(|e| self.engine.expression_error(e, &step))?;
                    if truth {
                        chosen = Some(&branch.block);
                        break;
                    }
                }
                if let Some(block) = chosen {
                    self.block(block, env, path).await?;
                }
            }
            StatementKind::For(for_loop) => Box::pin(self.for_loop(for_loop, env, &step())).await?,
            StatementKind::Parallel(branches) => {
                Box::pin(self.parallel(branches, env, path)).await?
            }
            StatementKind::Try { body, catches } => match self.block(body, env, path).await {
                Ok(()) => {}
                Err(Abort::Step(failure)) => {
                    let Some(catch) = catches.iter().find(|c| c.takes(failure.kind)) else {
                        return Err(Abort::Step(failure));
                    };
                    env.bind(&catch.error, failure.to_json());
                    let handled = self.block(&catch.handler, env, path).await;
                    env.unbind(&catch.error);
                    handled?;
                }
                // `fail` ends the execution; no `try` catches it.
                Err(abort) => return Err(abort),
            },
            StatementKind::Fail(value) => {
                let step = step();
                return Err(match self.engine.eval(value, env, &step)? {
                    Value::String(message) => Abort::Fail { message, step },
                    error => StepError::from_json(&error)
                        .map(Abort::Step)
                        .ok_or_else(|| {
                            let message = format!(
                                "`fail` needs a message or a caught error, found {}",
                                eval::describe(&error)
                            );
                            let span = value.span;
                            self.engine
                                .expression_error(EvalError { message, span }, &step)
                        })?,
                });
            }
            StatementKind::Emit { event, payload } => {
                // Each emit that runs stores its event once (also across resume).
                let step = step();
                let payload = match payload {
                    Some(expr) => self.engine.eval(expr, env, &step)?,
                    None => Value::Object(Map::new()),
                };
                self.engine
                    .record(|store| store.record_event(event, &payload, Some((&self.id, &step))))
                    .map_err(store_abort)?;
                self.engine.announce();
            }
            StatementKind::Wait(duration) => self.wait(&step(), *duration).await?,
            StatementKind::Await { name, awaited } => {
                let value = Box::pin(self.await_decision(awaited, env, &step())).await?;
                env.bind(name, value);
            }
        }
        Ok(())
    }

    /// A durable pause: recorded as a step whose input is the wake-up time, so a
    /// resumed execution waits only for what is left.
    async fn wait(&self, step: &str, duration: Duration) -> Result<(), Abort> {
        let record = self.history.get(step);
        if record.is_some_and(|r| r.completed.is_some()) {
            return Ok(());
        }
        let earlier = record
            .and_then(|r| r.last_input.as_ref())
            .and_then(|input| input["until"].as_str())
            .and_then(store::parse_timestamp);
        let wake = earlier.unwrap_or_else(|| {
            self.engine.clock.now() + chrono::Duration::from_std(duration).unwrap_or_default()
        });
        let input = serde_json::json!({ "until": store::timestamp(wake) });
        self.engine.step_boundary().await;
        let number = record.map_or(1, |r| r.attempts + 1);
        let attempt = Attempt::new(&self.engine.clock, step, None, number, Some(&input));
        // Busy until the row with the wake-up time is committed: a draining
        // process must not stop before it, or a resume would wait all over again.
        let id = {
            let _busy = self.engine.busy_guard();
            self.start_attempt(&attempt).await?
        };
        self.engine.clock.sleep_until(wake).await;
        self.finish_attempt(Some(id), &attempt, Ok(&Value::Null), None)
            .await
    }

    /// `step`: the loop's step path; each iteration's steps are under `step[i].`.
    async fn for_loop(&self, for_loop: &ForLoop, env: &mut Env, step: &str) -> Result<(), Abort> {
        let items = match self.engine.eval(&for_loop.list, env, step)? {
            Value::Array(items) => items,
            other => {
                let message = format!("`for` needs a list, found {}", eval::describe(&other));
                let error = EvalError {
                    message,
                    span: for_loop.list.span,
                };
                return Err(self.engine.expression_error(error, step));
            }
        };
        let result_name = for_loop.body.bound.last();
        let iteration = |(i, item): (usize, Value)| {
            let mut scope = env.clone();
            scope.bind(&for_loop.item, item);
            if let Some(index) = &for_loop.index {
                scope.bind(index, Value::from(i));
            }
            let path = format!("{step}[{i}].");
            async move {
                self.block(&for_loop.body, &mut scope, &path).await?;
                if let Some(value) = &for_loop.value {
                    return self.engine.eval(value, &scope, &format!("{path}yield"));
                }
                Ok::<Value, Abort>(
                    result_name
                        .and_then(|name| scope.unbind(name))
                        .unwrap_or(Value::Null),
                )
            }
        };
        let results: Vec<Result<Value, Abort>> = if for_loop.parallel {
            let limit = for_loop.limit.map_or(items.len(), |l| l.get()).max(1);
            stream::iter(items.into_iter().enumerate())
                .map(iteration)
                .buffered(limit)
                .collect()
                .await
        } else {
            let mut results = Vec::new();
            for pair in items.into_iter().enumerate() {
                let result = iteration(pair).await;
                let failed = result.is_err();
                results.push(result);
                if failed {
                    break;
                }
            }
            results
        };
        let values = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        if let Some(result) = &for_loop.result {
            env.bind(result, Value::Array(values));
        }
        Ok(())
    }

    /// Each statement of the block runs concurrently on its own copy of the scope;
    /// what each binds is visible afterwards.
    async fn parallel(
        &self,
        branches: &[Statement],
        env: &mut Env,
        path: &str,
    ) -> Result<(), Abort> {
        let running = branches.iter().map(|statement| {
            let mut scope = env.clone();
            async move {
                self.statement(statement, &mut scope, path).await?;
                Ok::<Env, Abort>(scope)
            }
        });
        let finished = join_all(running).await;
        for (statement, result) in branches.iter().zip(finished) {
            let scope = result?;
            for name in &statement.bound {
                env.share(name, &scope);
            }
        }
        Ok(())
    }
}
