//! Agents replaced for a test (`mock a takes 3s fails timeout 2 times then returns
//! { … }`): each call first takes its virtual time, then fails while failures are
//! left, then returns its value. What a mock leaves out, the agent itself does.

use super::agent::{AgentCall, ComputeScope, Failure};
use super::error::ErrorKind;
use super::eval;
use crate::program::{AgentId, Mock};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Default)]
pub struct Mocks(HashMap<AgentId, MockAgent>);

struct MockAgent {
    mock: Mock,
    calls: AtomicU32,
}

impl Mocks {
    pub fn new(mocks: &[Mock]) -> Mocks {
        let agents = mocks.iter().map(|mock| {
            let agent = MockAgent {
                mock: mock.clone(),
                calls: AtomicU32::new(0),
            };
            (mock.agent, agent)
        });
        Mocks(agents.collect())
    }

    /// Whether calls of `agent` are mocked.
    pub fn covers(&self, agent: AgentId) -> bool {
        self.0.contains_key(&agent)
    }

    /// The mocked outcome of a call, or `None` when the agent itself is to run.
    pub async fn invoke(&self, call: &AgentCall<'_>) -> Option<Result<Value, Failure>> {
        let agent = self.0.get(&call.agent.id)?;
        let n = agent.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let name = &call.agent.name;
        if let Some(takes) = agent.mock.takes {
            match call.timeout {
                Some(limit) if takes >= limit => {
                    call.clock.sleep(limit).await;
                    return Some(Err(Failure::new(
                        ErrorKind::Timeout,
                        format!("mock of `{name}` takes {takes:?}, past its timeout of {limit:?}"),
                    )));
                }
                _ => call.clock.sleep(takes).await,
            }
        }
        if let Some((kind, times)) = agent.mock.fails {
            if times.is_none_or(|times| n <= times) {
                return Some(Err(Failure::new(
                    kind,
                    format!("mock of `{name}` fails call {n}"),
                )));
            }
        }
        let returns = agent.mock.returns.as_ref()?;
        let scope = ComputeScope(call.input, call.clock);
        let value = match eval::eval(returns, &scope) {
            Ok(value) => value,
            Err(error) => {
                let message = format!("mock of `{name}`: {}", error.message);
                return Some(Err(Failure::new(ErrorKind::Expression, message)));
            }
        };
        Some(match call.agent.output.admits(&value) {
            Ok(()) => Ok(value),
            Err(mismatch) => Err(Failure::new(
                ErrorKind::InvalidOutput,
                format!("mock of `{name}` returns what its output does not fit: {mismatch}"),
            )),
        })
    }
}
