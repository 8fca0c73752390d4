//! Alerts, evaluated by `wfc serve` every [`EVERY`]: a condition that starts to
//! hold opens an episode and fires once (its event emitted in the same
//! transaction, its webhook called after); while it holds nothing more is sent;
//! when it stops holding the episode closes, and the next time it holds fires
//! again. Episodes live in the store, so two servers on one database fire once
//! between them, and a restart neither repeats nor forgets a firing.

use crate::goals::{self, GoalReport};
use crate::program::{Alert, Condition, Program, Signal};
use crate::runtime::Engine;
use crate::store::{Firing, Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// How often alerts are evaluated.
pub const EVERY: Duration = Duration::from_secs(1);
/// How long one webhook call may take.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// The pauses before the second and third webhook calls when one fails.
const WEBHOOK_RETRIES: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(2)];

/// What an alert's condition reads now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The signal's value (none for a goal's status, or a rate of nothing).
    pub value: Option<f64>,
    pub holds: bool,
}

/// A firing whose webhook is to be called.
pub struct Call {
    pub episode: i64,
    pub url: url::Url,
    pub body: Value,
}

/// Reads `alert`'s condition as of `now`; `goals` are the program's evaluated
/// goal trees, computed once per pass by the caller when an alert needs them.
pub fn read(
    alert: &Alert,
    store: &Store,
    now: DateTime<Utc>,
    goals: &mut Option<Vec<GoalReport>>,
    program: &Program,
) -> Result<Reading, StoreError> {
    match &alert.condition {
        Condition::Signal {
            signal,
            workflow,
            op,
            threshold,
            within,
        } => {
            let since = now - chrono::Duration::from_std(*within).unwrap_or_default();
            let (completed, failed) = store.outcomes_since(workflow, since)?;
            let value = match signal {
                Signal::FailureRate => {
                    (completed + failed > 0).then(|| failed as f64 / (completed + failed) as f64)
                }
                Signal::Failures => Some(failed as f64),
            };
            Ok(Reading {
                value,
                holds: value.is_some_and(|v| op.holds(v, *threshold)),
            })
        }
        Condition::Goal { goal, status } => {
            if goals.is_none() {
                *goals = Some(goals::evaluate(program, store, now)?);
            }
            let found = goals.as_deref().and_then(|trees| find(trees, goal));
            Ok(Reading {
                value: found.and_then(|g| g.progress),
                holds: found.is_some_and(|g| g.status == *status),
            })
        }
    }
}

fn find<'a>(trees: &'a [GoalReport], name: &str) -> Option<&'a GoalReport> {
    trees.iter().find_map(|goal| {
        if goal.name == name {
            Some(goal)
        } else {
            find(&goal.children, name)
        }
    })
}

/// One evaluation of every served alert: opens and closes episodes, emits the
/// events of new firings, and returns the webhooks to call.
pub fn pass(
    engines: &[Arc<Engine>],
    store: &mut Store,
    now: DateTime<Utc>,
) -> Result<Vec<Call>, StoreError> {
    let mut calls = Vec::new();
    let mut declared = Vec::new();
    for engine in engines {
        let program = engine.program();
        let mut goals = None;
        for alert in &program.alerts {
            declared.push(alert.name.as_str());
            let reading = read(alert, store, now, &mut goals, program)?;
            if !reading.holds {
                if store.close_episode(&alert.name)? {
                    tracing::info!(alert = %alert.name, "alert resolved");
                }
                continue;
            }
            let body = json!({
                "alert": alert.name,
                "condition": alert.text,
                "value": reading.value,
                "file": engine.root_path(),
                "fired_at": crate::store::timestamp(now),
            });
            let firing = Firing {
                alert: &alert.name,
                condition: &alert.text,
                value: reading.value,
                event: alert.emit.as_deref().map(|name| (name, &body)),
            };
            let Some(episode) = store.open_episode(&firing)? else {
                continue;
            };
            tracing::warn!(alert = %alert.name, condition = %alert.text, value = %crate::text::maybe_number(reading.value), "alert firing");
            if let Some(url) = &alert.webhook {
                calls.push(Call {
                    episode,
                    url: url.clone(),
                    body,
                });
            }
        }
    }
    // An alert no served file declares any more (a reload removed it) is over.
    for firing in store.firing_alerts()? {
        if !declared.contains(&firing.as_str()) {
            store.close_episode(&firing)?;
        }
    }
    Ok(calls)
}

/// Calls a firing's webhook, up to three times, and records how it went.
pub async fn deliver(call: Call, db: crate::store::Location) {
    let mut outcome = crate::runtime::post_json(&call.url, &call.body, WEBHOOK_TIMEOUT).await;
    for pause in WEBHOOK_RETRIES {
        if outcome.is_ok() {
            break;
        }
        tokio::time::sleep(pause).await;
        outcome = crate::runtime::post_json(&call.url, &call.body, WEBHOOK_TIMEOUT).await;
    }
    let delivery = match &outcome {
        Ok(status) => format!("delivered (HTTP {status})"),
        Err(problem) => format!("not delivered after 3 tries: {problem}"),
    };
    if let Err(problem) = &outcome {
        tracing::error!(alert = %call.body["alert"], %problem, "alert webhook failed");
    }
    let recorded = tokio::task::spawn_blocking(move || {
        Store::open(&db).and_then(|store| store.set_delivery(call.episode, &delivery))
    })
    .await;
    if !matches!(recorded, Ok(Ok(()))) {
        tracing::error!("cannot record an alert's delivery");
    }
}

/// How many past episodes `GET /alerts` lists.
const EPISODES: usize = 50;

/// `GET /alerts`: every served alert with what its condition reads now and its
/// open episode, and the newest episodes of all.
pub async fn list(
    axum::extract::State(state): axum::extract::State<Arc<super::State>>,
) -> super::http::ApiResult {
    use axum::response::IntoResponse;
    let engines = state.engines();
    let now = state.clock.now();
    let listed = super::http::with_store(&state, Store::open_read_only, move |store| {
        let mut alerts = Vec::new();
        for engine in &engines {
            let program = engine.program();
            let mut goals = None;
            for alert in &program.alerts {
                let reading = read(alert, store, now, &mut goals, program)?;
                alerts.push(json!({
                    "name": alert.name,
                    "condition": alert.text,
                    // A webhook URL often carries a secret in its path: only its origin.
                    "webhook": alert.webhook.as_ref().map(|u| u.origin().ascii_serialization()),
                    "emit": alert.emit,
                    "value": reading.value,
                    "holds": reading.holds,
                    "firing": store.open_episode_of(&alert.name)?,
                }));
            }
        }
        Ok(json!({ "alerts": alerts, "episodes": store.episodes(EPISODES)? }))
    })
    .await?;
    Ok(axum::Json(listed).into_response())
}
