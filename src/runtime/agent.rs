//! Invoking one agent once: a `compute` body evaluated in process, a subprocess
//! speaking the JSON protocol, an HTTP service or a language model. Output is
//! validated against the declared shape.

use super::error::{Abort, ErrorKind};
use super::eval::{self, EvalError, Scope};
use super::secrets::{HeaderScope, Secrets};
use super::subprocess::{self, Exit, Invocation};
use crate::clock::Clock;
use crate::program::{Agent, AgentBody, Command};
use crate::store::Tokens;
use serde_json::Value;
use std::time::Duration;

pub struct AgentCall<'a> {
    pub agent: &'a Agent,
    pub input: &'a Value,
    pub execution_id: &'a str,
    pub step: &'a str,
    pub attempt: u32,
    pub timeout: Option<Duration>,
    pub clock: &'a Clock,
    /// Every secret of the program: none of their values is kept from what a
    /// subprocess prints.
    pub redact: &'a Secrets,
}

/// Why one invocation failed.
#[derive(Debug)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    pub stderr_tail: Option<String>,
    /// How long the service asked to be left alone (`Retry-After` of a 429).
    pub retry_after: Option<Duration>,
    /// What a language model used before the attempt failed (a reply that does
    /// not fit still costs its tokens).
    pub tokens: Option<Tokens>,
}

/// What one successful invocation gave.
#[derive(Debug)]
pub struct Answer {
    pub output: Value,
    pub tokens: Option<Tokens>,
}

impl From<Value> for Answer {
    fn from(output: Value) -> Answer {
        Answer {
            output,
            tokens: None,
        }
    }
}

impl Failure {
    /// A failure with nothing but its kind and message.
    pub fn new(kind: ErrorKind, message: String) -> Failure {
        Failure {
            kind,
            message,
            stderr_tail: None,
            retry_after: None,
            tokens: None,
        }
    }
}

/// Runs the agent once. `expression` turns an evaluation error of a `compute` body
/// into the step's abort (it knows the source files).
pub async fn invoke(
    call: AgentCall<'_>,
    expression: impl Fn(EvalError) -> Abort,
) -> Result<Answer, Failure> {
    let (answer, stderr_tail) = match &call.agent.body {
        AgentBody::Compute(body) => {
            let scope = ComputeScope(call.input, call.clock);
            match eval::eval(body, &scope) {
                Ok(value) => (Answer::from(value), None),
                Err(error) => {
                    let message = expression(error).message().to_string();
                    return Err(Failure::new(ErrorKind::Expression, message));
                }
            }
        }
        AgentBody::Run(command) => {
            let (output, stderr) = Box::pin(run_process(&call, command)).await?;
            (Answer::from(output), stderr)
        }
        AgentBody::Http(request) => {
            let output = Box::pin(super::http::call(request, &call)).await?;
            (Answer::from(output), None)
        }
        AgentBody::Llm(request) => (Box::pin(super::llm::call(request, &call)).await?, None),
    };
    match call.agent.output.admits(&answer.output) {
        Ok(()) => Ok(answer),
        Err(mismatch) => Err(Failure {
            stderr_tail,
            tokens: answer.tokens,
            ..Failure::new(
                ErrorKind::InvalidOutput,
                format!(
                    "the output does not fit `{}`'s declared output: {mismatch}",
                    call.agent.name
                ),
            )
        }),
    }
}

/// What a `compute` body (or a mock's `returns`) sees: its input and the time.
pub(super) struct ComputeScope<'a>(pub(super) &'a Value, pub(super) &'a Clock);

impl Scope for ComputeScope<'_> {
    fn input(&self) -> &Value {
        self.0
    }

    fn get(&self, _: &str) -> Option<&Value> {
        None
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.1.now()
    }
}

async fn run_process(
    call: &AgentCall<'_>,
    command: &Command,
) -> Result<(Value, Option<String>), Failure> {
    let failure = |kind, message: String, stderr: &str| Failure {
        stderr_tail: (!stderr.is_empty()).then(|| stderr.to_string()),
        ..Failure::new(kind, message)
    };
    let program = &command.written;
    let mut env = vec![
        ("WFC_EXECUTION_ID".into(), call.execution_id.into()),
        ("WFC_STEP".into(), call.step.into()),
        ("WFC_ATTEMPT".into(), call.attempt.to_string()),
        ("WFC_AGENT".into(), call.agent.name.clone()),
    ];
    if let Some(object) = &command.env {
        let secrets = Secrets::read(&call.agent.body);
        let scope = HeaderScope {
            compute: ComputeScope(call.input, call.clock),
            secrets: &secrets,
        };
        let set = scope.strings(object, "variable", &call.agent.name);
        env.extend(set.map_err(|failure| secrets.redact_failure(failure))?);
    }
    let invocation = Invocation {
        program: command.program.clone(),
        args: command.args.clone(),
        cwd: command.cwd.clone(),
        env,
        stdin: call.input.to_string().into_bytes(),
        timeout: call.timeout,
    };
    let finished = subprocess::run(invocation).await.map_err(|e| {
        failure(
            ErrorKind::Failed,
            format!("cannot start `{program}`: {e}"),
            "",
        )
    })?;
    // Redacted before anything is cut from it or quoted: a kept tail that begins
    // inside a secret loses the part that could be one.
    let stderr = match finished.stderr_cut {
        true => call.redact.redact_tail(&finished.stderr_tail),
        false => call.redact.redact(&finished.stderr_tail),
    };
    let stderr = stderr.as_str();
    match finished.exit {
        Exit::TimedOut => {
            let limit = call.timeout.unwrap_or_default();
            return Err(failure(
                ErrorKind::Timeout,
                format!(
                    "no answer within {}; its process group was killed",
                    crate::duration::format(limit)
                ),
                stderr,
            ));
        }
        Exit::Status(status) if !status.success() => {
            let how = match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_string(),
            };
            let last_line = stderr.lines().rev().find(|l| !l.trim().is_empty());
            let message = match last_line {
                Some(line) => format!("`{program}` {how}: {}", line.trim()),
                None => format!("`{program}` {how}"),
            };
            return Err(failure(ErrorKind::Failed, message, stderr));
        }
        Exit::Status(_) => {}
    }
    if finished.stdout_overflow {
        let message = format!("the output is larger than {} bytes", subprocess::MAX_STDOUT);
        return Err(failure(ErrorKind::InvalidOutput, message, stderr));
    }
    match serde_json::from_slice::<Value>(&finished.stdout) {
        Ok(value) => Ok((
            call.redact.redact_value(value),
            (!stderr.is_empty()).then(|| stderr.to_string()),
        )),
        Err(error) => {
            let text = call
                .redact
                .redact(&String::from_utf8_lossy(&finished.stdout));
            let shown: String = text.trim().chars().take(80).collect();
            let message = if shown.is_empty() {
                "the agent printed nothing; it must print one JSON value".to_string()
            } else {
                format!("the output is not JSON ({error}): `{shown}`")
            };
            Err(failure(ErrorKind::InvalidOutput, message, stderr))
        }
    }
}
