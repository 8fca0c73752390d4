//! `GET /waits`: every `await` step waiting for a decision, with the time left.
//! `POST /executions/{id}/waits/{step}` with `{"decision": {…}, "by"?: "name",
//! "from"?: "dashboard"}`: answers one (the dashboard's form posts it too).

use super::http::{json_body, with_store, ApiError, ApiResult};
use super::State;
use crate::decide::{Answerer, Refusal, MAX_BY};
use crate::store::{parse_timestamp, DecisionSource, Store};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) async fn list(Shared(state): Shared<Arc<State>>) -> ApiResult {
    let now = state.clock.now();
    let waits = with_store(&state, Store::open_read_only, |store| store.open_waits()).await?;
    let waits: Vec<Value> = waits
        .into_iter()
        .map(|wait| {
            let left =
                parse_timestamp(&wait.until).map(|until| (until - now).num_milliseconds().max(0));
            // What the dashboard's form for it is generated from.
            let schema = crate::syntax::parse_type(&wait.shape).and_then(|t| t.json_schema());
            let mut row = json!(wait);
            row["left_ms"] = json!(left);
            row["schema"] = json!(schema);
            row
        })
        .collect();
    Ok(Json(json!({ "waits": waits })).into_response())
}

pub(super) async fn decide(
    Shared(state): Shared<Arc<State>>,
    Path((id, step)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let body = json_body(body)?;
    let Some(decision) = body.get("decision").cloned() else {
        return Err(bad(
            "the body needs the `decision`, like {\"decision\": {\"approved\": true}, \"by\": \"Ann\"}"
                .into(),
        ));
    };
    let by = match body.get("by") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) if name.chars().count() <= MAX_BY => {
            Some(name.trim().to_string()).filter(|n| !n.is_empty())
        }
        Some(_) => {
            return Err(bad(format!(
                "`by` must be a name of at most {MAX_BY} characters"
            )))
        }
    };
    let source = match body.get("from").and_then(Value::as_str) {
        None => DecisionSource::Api,
        Some("dashboard") => DecisionSource::Dashboard,
        Some(other) => {
            return Err(bad(format!(
                "`from` is `dashboard` or left out (the API), not `{other}`"
            )))
        }
    };
    let answered = with_store(&state, Store::open, move |store| {
        let answerer = Answerer {
            source,
            os_user: None,
            by: by.as_deref(),
        };
        Ok(crate::decide::decide(
            store, &id, &step, &decision, &answerer,
        ))
    })
    .await?;
    let wait = answered.map_err(|refusal| {
        let status = match refusal {
            Refusal::Misfit { .. } => StatusCode::BAD_REQUEST,
            Refusal::NoSuchWait { .. } => StatusCode::NOT_FOUND,
            Refusal::NotRunning { .. } | Refusal::Decided { .. } | Refusal::Overdue { .. } => {
                StatusCode::CONFLICT
            }
            Refusal::Store(error) => return ApiError::from(error),
        };
        ApiError::new(status, refusal.to_string())
    })?;
    state.announce();
    Ok(Json(json!(wait)).into_response())
}
