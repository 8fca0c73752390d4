//! The figures the dashboard charts: `GET /stats` (the KPIs of `wfc stats` with
//! their course over a window), `GET /goals` (the goal trees of `wfc goals`),
//! `GET /metrics` (each metric's newest samples) and `GET
//! /workflows/{name}/graph` (the graph of `wfc graph`, with the step each node
//! runs as).

use super::http::{params, ApiError, ApiResult, QueryParams};
use super::State;
use crate::store::Store;
use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The window `/stats` covers without `?since=`.
const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);
/// The most samples `/metrics` sends of one metric.
pub const SAMPLES: usize = 200;
/// The most metrics `/metrics` lists.
const METRICS: usize = 100;

/// The window `?since=` names, or `default`.
fn since(params: &HashMap<String, String>, default: Duration) -> Result<Duration, ApiError> {
    match params.get("since") {
        Some(text) => crate::duration::parse_std(text)
            .ok()
            .filter(|window| !window.is_zero())
            .ok_or_else(|| {
                let message = format!(
                    "`since` must be a duration like 15m, 1h or 7d (at most 10 years), not `{text}`"
                );
                ApiError::new(StatusCode::BAD_REQUEST, message)
            }),
        None => Ok(default),
    }
}

/// The window `/failures` covers without `?since=`.
const FAILURES_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// `{ "failures": [...], "since": … }`: failed attempts of the executions that
/// started in the window (`?since=`, 7 days without), grouped by workflow,
/// agent and kind.
pub async fn failures(Shared(state): Shared<Arc<State>>, query: QueryParams) -> ApiResult {
    let params = params(query)?;
    let window = since(&params, FAILURES_WINDOW)?;
    let start = state.clock.now() - chrono::Duration::from_std(window).unwrap_or_default();
    let groups = super::http::with_store(&state, Store::open_read_only, move |store| {
        store.failure_groups(start)
    })
    .await?;
    Ok(
        Json(json!({ "failures": groups, "since": crate::store::timestamp(start) }))
            .into_response(),
    )
}

/// `?since=1h&workflow=name`: `wfc stats --format json` over the window before now,
/// with `over_time`, the window in stretches.
pub async fn stats(Shared(state): Shared<Arc<State>>, query: QueryParams) -> ApiResult {
    let params = params(query)?;
    let window = since(&params, DEFAULT_WINDOW)?;
    let workflow = params.get("workflow").cloned();
    let capacities: HashMap<String, usize> = state
        .engines()
        .iter()
        .flat_map(|engine| {
            engine
                .program()
                .agents()
                .iter()
                .filter_map(|a| Some((a.name.clone(), a.capacity?.get())))
                .collect::<Vec<_>>()
        })
        .collect();
    let now = state.clock.now();
    let stats = super::http::with_store(&state, Store::open_read_only, move |store| {
        crate::stats::compute(store, workflow.as_deref(), &capacities, now, window)
    })
    .await?;
    Ok(Json(stats).into_response())
}

/// `{ "at": …, "goals": [...] }`: every served file's goal trees as of now.
pub async fn goals(Shared(state): Shared<Arc<State>>) -> ApiResult {
    let engines = state.engines();
    let now = state.clock.now();
    let goals = super::http::with_store(&state, Store::open_read_only, move |store| {
        let mut all = Vec::new();
        for engine in &engines {
            all.extend(crate::goals::evaluate(engine.program(), store, now)?);
        }
        Ok(all)
    })
    .await?;
    Ok(Json(json!({ "at": crate::store::timestamp(now), "goals": goals })).into_response())
}

/// `{ "metrics": [{ "name", "count", "samples": [{ "at", "value" }] }] }`: every
/// recorded metric (the first [`METRICS`] by name) with its newest [`SAMPLES`]
/// samples, oldest first.
/// `GET /metrics`: a scraper's exposition when its `Accept` asks for one
/// (Prometheus sends `application/openmetrics-text` or `text/plain`), the
/// business-metric samples as JSON otherwise.
pub async fn metrics(
    Shared(state): Shared<Arc<State>>,
    headers: axum::http::HeaderMap,
) -> ApiResult {
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if let Some(format) = super::prometheus::wants_exposition(accept) {
        let served = state.clone();
        let text = super::http::with_store(&state, Store::open_read_only, move |store| {
            super::prometheus::exposition(&served, store)
        })
        .await?;
        let text = match format {
            super::prometheus::Exposition::OpenMetrics => text,
            super::prometheus::Exposition::Text => super::prometheus::as_text_format(&text),
        };
        return Ok((
            [(axum::http::header::CONTENT_TYPE, format.content_type())],
            text,
        )
            .into_response());
    }
    let metrics = super::http::with_store(&state, Store::open_read_only, |store| {
        let mut metrics = Vec::new();
        for (name, count) in store.metric_names()?.into_iter().take(METRICS) {
            let samples: Vec<_> = store
                .latest_samples(&name, SAMPLES)?
                .into_iter()
                .map(|s| json!({ "at": s.recorded_at, "value": s.value }))
                .collect();
            metrics.push(json!({ "name": name, "count": count, "samples": samples }));
        }
        Ok(metrics)
    })
    .await?;
    Ok(Json(json!({ "metrics": metrics })).into_response())
}

/// `{ "nodes": [...], "edges": [...] }` of one served workflow.
pub async fn graph(Shared(state): Shared<Arc<State>>, Path(name): Path<String>) -> ApiResult {
    let engine = state
        .engines()
        .into_iter()
        .find(|engine| engine.program().workflow_named(&name).is_some())
        .ok_or_else(|| {
            let message = format!("no workflow `{name}` is served here");
            ApiError::new(StatusCode::NOT_FOUND, message)
        })?;
    let graph = crate::graph::workflows(engine.program(), engine.sources(), Some(&name));
    let nodes: Vec<_> = graph
        .groups
        .into_iter()
        .flat_map(|(_, nodes)| nodes)
        .collect();
    Ok(Json(json!({ "workflow": name, "nodes": nodes, "edges": graph.edges })).into_response())
}
