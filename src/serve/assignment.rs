//! `POST /agents/{name}/{pause|resume|exclude|include}` with `{"by": "name",
//! "skill"?: "s"}`: changes an agent's assignment for every worker on the
//! store (see `crate::assign`); the dashboard's Agents section posts it too.

use super::http::{json_body, with_store, ApiError, ApiResult};
use super::State;
use crate::assign::Refusal;
use crate::store::{AssignmentChange, Store};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) async fn change(
    Shared(state): Shared<Arc<State>>,
    Path((agent, change)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let Some(change) = AssignmentChange::parse(&change) else {
        let known: Vec<&str> = AssignmentChange::ALL.iter().map(|c| c.as_str()).collect();
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no change `{change}` of an agent; there are: {}",
                known.join(", ")
            ),
        ));
    };
    let body = json_body(body)?;
    let text = |field: &str| match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(bad(format!("`{field}` must be a string"))),
    };
    let (by, skill) = (text("by")?.unwrap_or_default(), text("skill")?);
    // The program that declares it (the first served file that does).
    let engines = state.engines();
    let engine = engines
        .iter()
        .find(|engine| engine.program().agent_named(&agent).is_some())
        .or_else(|| engines.first())
        .cloned();
    let Some(engine) = engine else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no file is served"));
    };
    let name = agent.clone();
    let changed = with_store(&state, Store::open, move |store| {
        Ok(crate::assign::change(
            engine.program(),
            store,
            &name,
            change,
            skill.as_deref(),
            &by,
        ))
    })
    .await?;
    if matches!(changed, Ok(true)) {
        for engine in state.engines() {
            engine.reread_assignment();
        }
    }
    match changed {
        Ok(changed) => Ok(
            Json(json!({ "agent": agent, "change": change, "changed": changed })).into_response(),
        ),
        Err(Refusal::Store(error)) => Err(error.into()),
        Err(refusal @ Refusal::UnknownAgent { .. }) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, refusal.to_string()))
        }
        Err(refusal) => Err(bad(refusal.to_string())),
    }
}
