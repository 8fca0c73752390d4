//! The HTTP API. Every error is JSON with a 4xx status that names the problem; a
//! 500 means a bug or a database failure, never bad input.

use super::State;
use crate::runtime::{process_alive, Origin, RunError};
use crate::store::{CancelRequest, HistoryFilter, Store, StoreError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State as Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::watch;

/// The largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) {
    let router = Router::new()
        .route("/health", get(health))
        .route("/events/{name}", post(post_event))
        .route("/workflows/{name}/runs", post(post_run))
        .route("/executions", get(list_executions))
        .route("/executions/{id}", get(get_execution))
        .route("/executions/{id}/cancel", post(cancel))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    let shutdown = async move {
        let _ = stop.changed().await;
    };
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(%error, "the HTTP server stopped");
    }
}

struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let status = match error {
            StoreError::NoSuchExecution(_) => StatusCode::NOT_FOUND,
            StoreError::AmbiguousExecution { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    }
}

type ApiResult = Result<Response, ApiError>;

/// Mutating requests carry `Authorization: Bearer <token>` when a token is set.
fn authorize(state: &State, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &state.token else {
        return Ok(());
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given == Some(token.as_str()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token: send `Authorization: Bearer <token>`",
        ))
    }
}

/// A JSON body; an empty body is `{}`.
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes =
        body.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })
}

/// Runs a store query off the async threads.
async fn with_store<T: Send + 'static>(
    state: &State,
    query: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&db)?;
        query(&mut store)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(ApiError::from)
}

async fn health(Shared(state): Shared<Arc<State>>) -> Json<Value> {
    let engines = state.engines();
    let files: Vec<&str> = engines.iter().map(|e| e.root_path()).collect();
    let workflows: Vec<&String> = engines
        .iter()
        .flat_map(|e| e.program().workflows.keys())
        .collect();
    Json(json!({ "status": "ok", "files": files, "workflows": workflows }))
}

async fn post_event(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    authorize(&state, &headers)?;
    if let Some(message) = crate::check::invalid_event_name(&name) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
    }
    let payload = json_body(body)?;
    let id = with_store(&state, move |store| {
        store.record_event(&name, &payload, None)
    })
    .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "event": id }))).into_response())
}

async fn post_run(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    authorize(&state, &headers)?;
    let input = json_body(body)?;
    let engines = state.engines();
    let Some(engine) = engines
        .iter()
        .find(|e| e.program().workflows.contains_key(&name))
    else {
        let known = engines
            .iter()
            .flat_map(|e| e.program().workflows.keys().cloned())
            .collect();
        let error = RunError::UnknownWorkflow { name, known };
        return Err(ApiError::new(StatusCode::NOT_FOUND, error.to_string()));
    };
    let id = uuid::Uuid::now_v7().to_string();
    let origin = Origin {
        trigger: Some("http"),
        ..Origin::default()
    };
    let begun = engine.begin(id, &name, input, origin).map_err(|error| {
        let status = match error {
            RunError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    })?;
    let id = begun.id.clone();
    let engine = engine.clone();
    tokio::spawn(async move {
        if let Err(error) = engine.proceed(begun).await {
            tracing::error!(%error, "execution stopped: database error");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "execution": id, "workflow": name })),
    )
        .into_response())
}

async fn list_executions(
    Shared(state): Shared<Arc<State>>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(params) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let limit = match params.get("limit") {
        Some(text) => Some(text.parse::<usize>().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("`limit` must be a whole number, not `{text}`"),
            )
        })?),
        None => Some(20),
    };
    if let Some(status) = params.get("status") {
        if !["running", "completed", "failed", "cancelled"].contains(&status.as_str()) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("`status` must be running, completed, failed or cancelled, not `{status}`"),
            ));
        }
    }
    let filter = HistoryFilter {
        workflow: params.get("workflow").cloned(),
        version: params.get("version").cloned(),
        status: params.get("status").cloned(),
        limit,
    };
    let rows = with_store(&state, move |store| store.executions(&filter)).await?;
    Ok(Json(json!(rows)).into_response())
}

async fn get_execution(Shared(state): Shared<Arc<State>>, Path(id): Path<String>) -> ApiResult {
    let timeline = with_store(&state, move |store| store.timeline(&id)).await?;
    Ok(Json(timeline).into_response())
}

async fn cancel(
    Shared(state): Shared<Arc<State>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    authorize(&state, &headers)?;
    let request = with_store(&state, move |store| {
        store.request_cancel(&id, process_alive)
    })
    .await?;
    Ok(match request {
        CancelRequest::Cancelled(id) => {
            Json(json!({ "execution": id, "status": "cancelled" })).into_response()
        }
        CancelRequest::Requested(id) => (
            StatusCode::ACCEPTED,
            Json(json!({ "execution": id, "status": "cancelling" })),
        )
            .into_response(),
        CancelRequest::Finished(id, status) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("execution {id} is already {status}"),
            ))
        }
    })
}
