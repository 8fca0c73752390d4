//! The HTTP API. Every error is JSON with a 4xx status that names the problem; a
//! 500 means a bug or a database failure, never bad input.

use super::State;
use crate::runtime::{Origin, RunError};
use crate::store::{
    CancelRequest, ExecutionStatus, HistoryFilter, Location, StartedBy, Store, StoreError,
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State as Shared};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;
/// The longest request target (path and query) and the most header bytes and
/// headers answered with anything but a JSON 414 or 431.
const MAX_URI: usize = 8 * 1024;
const MAX_HEADER_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;
/// The most executions one `GET /executions` lists; more are pages (`before`).
pub const MAX_LIST: usize = 1000;

/// The connection a request comes over: its client's address, and whether a
/// request on it has shown a credential (such a connection is closed last).
#[derive(Debug, Clone)]
pub struct Client {
    pub addr: std::net::SocketAddr,
    pub trusted: Arc<std::sync::atomic::AtomicBool>,
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    hosts: super::guard::Hosts,
    idle_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut router = Router::new()
        .route("/", get(super::dashboard::index))
        .route("/login", post(super::dashboard::login))
        .route("/logout", post(super::dashboard::logout))
        .route("/health", get(health))
        .route("/events/{name}", post(post_event))
        .route("/metrics/{name}", post(post_metric))
        .route("/stream", get(super::stream::stream))
        .route("/agents", get(list_agents))
        .route("/agents/{name}/{change}", post(super::assignment::change))
        .route("/failures", get(super::analysis::failures))
        .route("/dead-letters", get(list_dead_letters))
        .route("/dead-letters/{id}/replay", post(replay_dead_letter))
        .route("/dead-letters/{id}/drop", post(drop_dead_letter))
        .route("/workflows", get(list_workflows))
        .route("/templates", get(list_templates))
        .route("/files", get(super::editor::list))
        .route(
            "/files/{*path}",
            get(super::editor::get).put(super::editor::save),
        )
        .route("/check", post(super::editor::check))
        .route("/diff", post(super::editor::diff))
        .route("/language", get(super::editor::language))
        .route("/complete", post(super::editor::complete))
        .route("/hover", post(super::editor::hover))
        .route("/workflows/{name}/versions/{blob}", get(get_version))
        .route("/workflows/{name}/diff", get(get_diff))
        .route("/workflows/{name}/graph", get(super::analysis::graph))
        .route("/stats", get(super::analysis::stats))
        .route("/goals", get(super::analysis::goals))
        .route("/metrics", get(super::analysis::metrics))
        .route("/alerts", get(super::alerts::list))
        .route("/workflows/{name}/runs", post(post_run))
        .route("/executions", get(list_executions))
        .route("/executions/{id}", get(get_execution))
        .route("/executions/{id}/cancel", post(cancel))
        .route("/executions/{id}/waits/{step}", post(super::waits::decide))
        .route("/waits", get(super::waits::list))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") });
    for (path, _, _) in super::dashboard::ASSETS {
        router = router.route(path, get(asset));
    }
    let router = router
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(middleware::from_fn(limits))
        .layer(middleware::map_response(json_errors))
        .layer(middleware::from_fn_with_state(
            Arc::new(hosts),
            super::guard::guard,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    let open = Arc::new(super::connections::Connections::default());
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => break,
        };
        let (stream, client) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, most likely: wait for some to close.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let slot = match open.admit(client.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                tokio::spawn(refuse(stream, refusal));
                continue;
            }
        };
        let service = TowerToHyperService::new(router.clone().layer(axum::Extension(Client {
            addr: client,
            trusted: slot.trusted.clone(),
        })));
        let mut stop = stop.clone();
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            let close = slot.close.clone();
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(idle_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                // A newer connection took its place.
                _ = close.notified() => {}
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(2), connection).await;
                }
            }
        });
    }
    while connections.join_next().await.is_some() {}
}

/// Answers a connection that gets no place and closes it: `GET /health` with 200
/// (a server that is full is alive), anything else with 503 saying why. The start
/// of the request is read first, briefly; what else the client sent is read and
/// dropped for a moment after: closing a socket with unread data resets it, and
/// the reset can destroy the answer before it is read.
async fn refuse(mut stream: tokio::net::TcpStream, refusal: super::connections::Refusal) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::with_capacity(64);
    let mut buffer = [0u8; 1024];
    let reading = async {
        while !head.contains(&b'\n') && head.len() < 1024 {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buffer[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(500), reading).await;
    let health = head.starts_with(b"GET /health ") || head.starts_with(b"HEAD /health ");
    let (status, body) = match health {
        true => (
            "200 OK",
            json!({ "status": "ok", "connections": refusal.message() }),
        ),
        false => (
            "503 Service Unavailable",
            json!({ "error": refusal.message() }),
        ),
    };
    let body = body.to_string();
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        while stream.read(&mut buffer).await? > 0 {}
        Ok::<(), std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_millis(200), answer).await;
}

/// With a token set, every request but `GET /health` carries
/// `Authorization: Bearer <token>`: recorded inputs and results are not public.
async fn authorize(Shared(state): Shared<Arc<State>>, request: Request, next: Next) -> Response {
    let trusted = request
        .extensions()
        .get::<Client>()
        .map(|c| c.trusted.clone());
    let Some(token) = &state.token else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let scraper = state.metrics_public
        && path == "/metrics"
        && super::prometheus::wants_exposition(
            request
                .headers()
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok()),
        )
        .is_some();
    let open = scraper
        || matches!(path, "/health" | "/login" | "/logout")
        || super::dashboard::ASSETS
            .iter()
            .any(|(at, _, _)| *at == path);
    if open {
        return next.run(request).await;
    }
    let headers = request.headers();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| same(given.as_bytes(), token.as_bytes()));
    let signed_in =
        || super::dashboard::cookie_session(headers).is_some_and(|id| state.sessions.valid(id));
    if bearer || signed_in() {
        if let Some(trusted) = trusted {
            trusted.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        next.run(request).await
    } else if request.uri().path() == "/" {
        super::dashboard::login_page(StatusCode::UNAUTHORIZED, "")
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token: send `Authorization: Bearer <token>`",
        )
        .into_response()
    }
}

/// One of the dashboard's files.
async fn asset(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    super::dashboard::asset(uri.path(), &headers)
        .unwrap_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such endpoint").into_response())
}

/// Compares in time that depends on the lengths only, not on where they differ.
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Refuses oversized request targets and headers with JSON, below the limits at
/// which the HTTP parser itself answers without a body.
async fn limits(request: Request, next: Next) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI {
        let message = format!("the request target is {target} bytes; at most {MAX_URI}");
        return ApiError::new(StatusCode::URI_TOO_LONG, message).into_response();
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        let message = format!(
            "{} headers of {bytes} bytes; at most {MAX_HEADERS} headers of {MAX_HEADER_BYTES} bytes",
            headers.len()
        );
        return ApiError::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, message).into_response();
    }
    next.run(request).await
}

/// Errors answered by the router itself (405 for a wrong method, a rejected body)
/// come without a JSON body: give them one.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    // The sign-in page is the one error that is not JSON.
    let is_json_or_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_json_or_page {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let message = match allow.as_ref().and_then(|v| v.to_str().ok()) {
        Some(allowed) if status == StatusCode::METHOD_NOT_ALLOWED => {
            format!("method not allowed here; allowed: {allowed}")
        }
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let mut fresh = ApiError::new(status, message).into_response();
    if let Some(allow) = allow {
        fresh.headers_mut().insert(header::ALLOW, allow);
    }
    fresh
}

pub(super) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
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
            StoreError::AmbiguousExecution { .. } | StoreError::ShortId(_) => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    }
}

pub(super) type ApiResult = Result<Response, ApiError>;

/// A request's query string, or why it is not one.
pub(super) type QueryParams =
    Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

/// The parameters of a query string; a malformed one is a 400.
pub(super) fn params(query: QueryParams) -> Result<HashMap<String, String>, ApiError> {
    query
        .map(|Query(params)| params)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))
}

/// A JSON body; an empty body is `{}`.
pub(super) fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
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

/// Runs a store query off the async threads, on a store opened by `open`
/// (`Store::open` to write, `Store::open_read_only` to look: a read takes no write
/// lock and runs no migration check).
pub(super) async fn with_store<T: Send + 'static>(
    state: &State,
    open: fn(Location) -> Result<Store, StoreError>,
    query: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = open(db)?;
        query(&mut store)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(ApiError::from)
}

async fn health(Shared(state): Shared<Arc<State>>) -> Response {
    if let Some(reason) = state.reachability.lost() {
        let body = json!({
            "status": "unavailable",
            "error": format!("the database cannot be reached: {reason}"),
        });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    let engines = state.engines();
    let files: Vec<&str> = engines.iter().map(|e| e.root_path()).collect();
    let workflows: Vec<String> = engines
        .iter()
        .flat_map(|e| e.program().workflow_names())
        .collect();
    Json(json!({ "status": "ok", "files": files, "workflows": workflows })).into_response()
}

/// `{ "workflows": [...] }`: each served workflow as `workflows.rs` describes it.
async fn list_workflows(Shared(state): Shared<Arc<State>>) -> ApiResult {
    let engines = state.engines();
    let workflows = with_store(&state, Store::open_read_only, move |store| {
        let mut all = Vec::new();
        for engine in &engines {
            all.extend(super::workflows::describe(
                engine.program(),
                engine.root_path(),
                store,
            )?);
        }
        Ok(all)
    })
    .await?;
    Ok(Json(json!({ "workflows": workflows })).into_response())
}

/// The template library of the served files (see `crate::library`).
async fn list_templates(Shared(state): Shared<Arc<State>>) -> ApiResult {
    let engines = state.engines();
    // Newer tags are read from git: off the async workers.
    let listed = tokio::task::spawn_blocking(move || {
        let here = std::env::current_dir().unwrap_or_default();
        let mut listed = Vec::new();
        for engine in &engines {
            crate::library::gather(engine.program(), engine.sources(), &here, &mut listed);
        }
        // Each with what a form for a new workflow made from it offers, from the
        // first served program that has it, and that program's triggers.
        let mut shown: Vec<Value> = Vec::new();
        for template in listed {
            let mut row = json!(template);
            let served = engines.iter().find_map(|engine| {
                let program = engine.program();
                let info = program.templates.iter().find(|t| t.name == template.name)?;
                Some((program, info))
            });
            if let Some((program, info)) = served {
                row["form"] = json!(crate::library::form(program, info));
                row["triggers"] = json!(program.trigger_names());
            }
            shown.push(row);
        }
        shown
    })
    .await
    .map_err(|error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))?;
    Ok(Json(json!({ "templates": listed })).into_response())
}

/// The source of the file of one version of a workflow that ran, by its blob id.
async fn get_version(
    Shared(state): Shared<Arc<State>>,
    Path((name, blob)): Path<(String, String)>,
) -> ApiResult {
    let (workflow, wanted) = (name.clone(), blob.clone());
    let found = with_store(&state, Store::open_read_only, move |store| {
        store.version_source(&workflow, &wanted)
    })
    .await?;
    let Some((path, source)) = found else {
        let message =
            format!("workflow `{name}` has no recorded version with source blob `{blob}`");
        return Err(ApiError::new(StatusCode::NOT_FOUND, message));
    };
    Ok(
        Json(json!({ "workflow": name, "source_blob": blob, "path": path, "source": source }))
            .into_response(),
    )
}

/// `?from=BLOB&to=BLOB`: the unified diff between two recorded versions' files.
async fn get_diff(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    query: QueryParams,
) -> ApiResult {
    let params = params(query)?;
    let (Some(from), Some(to)) = (params.get("from").cloned(), params.get("to").cloned()) else {
        let message = "give the two versions' source blobs as `?from=…&to=…`";
        return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
    };
    // A workflow made from a template: its versions differ by the template's
    // file too (`from_template`, `to_template`: the blobs `GET /workflows` lists).
    let templates = (
        params.get("from_template").cloned(),
        params.get("to_template").cloned(),
    );
    let workflow = name.clone();
    let ((old, new), template_diff) = with_store(&state, Store::open_read_only, move |store| {
        let sources = (
            store.version_source(&workflow, &from)?.map(|v| (from, v)),
            store.version_source(&workflow, &to)?.map(|v| (to, v)),
        );
        let template_diff = match templates {
            (Some(a), Some(b)) if a != b => {
                match (store.template_source(&a)?, store.template_source(&b)?) {
                    (Some((old_path, old)), Some((new_path, new))) => Some(
                        similar::TextDiff::from_lines(&old, &new)
                            .unified_diff()
                            .header(&format!("{old_path} ({a})"), &format!("{new_path} ({b})"))
                            .to_string(),
                    ),
                    _ => None,
                }
            }
            _ => None,
        };
        Ok((sources, template_diff))
    })
    .await?;
    let (Some((from, (old_path, old))), Some((to, (new_path, new)))) = (old, new) else {
        let message =
            format!("workflow `{name}` has no recorded version with one of those source blobs");
        return Err(ApiError::new(StatusCode::NOT_FOUND, message));
    };
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .header(
            &format!("{old_path} ({from})"),
            &format!("{new_path} ({to})"),
        )
        .to_string();
    let diff = diff + &template_diff.unwrap_or_default();
    Ok(Json(json!({ "workflow": name, "from": from, "to": to, "diff": diff })).into_response())
}

async fn post_event(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    if let Some(message) = crate::program::invalid_event_name(&name) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
    }
    let payload = json_body(body)?;
    let id = state.ingest.record(name, payload).await?;
    // Started now, not at the next tick; a waiting step it decides goes on now.
    state.announce();
    Ok((StatusCode::ACCEPTED, Json(json!({ "event": id }))).into_response())
}

/// `POST /metrics/NAME` with `{"value": 12.5, "at"?: "…"}`: a sample of a metric
/// a served file declares (or records), fed from outside; metric triggers see it
/// on their next check.
async fn post_metric(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let engines = state.engines();
    let Some(engine) = engines.iter().find(|e| e.program().knows_metric(&name)) else {
        let known = engines
            .iter()
            .flat_map(|e| e.program().metrics.keys().map(String::as_str));
        let message = crate::metric::unknown_metric(&name, known);
        return Err(ApiError::new(StatusCode::NOT_FOUND, message));
    };
    let body = json_body(body)?;
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let Some(value) = body.get("value").and_then(Value::as_f64) else {
        return Err(bad(
            "the body needs a number `value`, like {\"value\": 12.5}".into(),
        ));
    };
    let at = match body.get("at") {
        None | Some(Value::Null) => None,
        Some(Value::String(at)) => Some(at.as_str()),
        Some(_) => return Err(bad("`at` must be an RFC 3339 time string".into())),
    };
    let (value, at) = crate::metric::sample(value, at, engine.clock().now()).map_err(bad)?;
    let stored = name.clone();
    let id = with_store(&state, Store::open, move |store| {
        store.record_metric(&stored, value, at)
    })
    .await?;
    state.wake.notify_one();
    let at = crate::store::timestamp(at);
    let answer = json!({ "sample": id, "name": name, "value": value, "recorded_at": at });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

async fn post_run(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let input = json_body(body)?;
    let origin = Origin {
        trigger: Some(StartedBy::Http),
        ..Origin::default()
    };
    let id = start(&state, &name, input, origin).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "execution": id, "workflow": name })),
    )
        .into_response())
}

/// Starts workflow `name` of whichever served file has it and lets it run (or,
/// on a server that takes no work, queues it for the workers); answers its
/// execution id once its first row is written.
async fn start(
    state: &State,
    name: &str,
    input: Value,
    origin: Origin<'_>,
) -> Result<String, ApiError> {
    let engines = state.engines();
    let Some(engine) = engines
        .iter()
        .find(|e| e.program().workflow_named(name).is_some())
    else {
        let known = engines
            .iter()
            .flat_map(|e| e.program().workflow_names())
            .collect();
        let error = RunError::UnknownWorkflow {
            name: name.to_string(),
            known,
        };
        return Err(ApiError::new(StatusCode::NOT_FOUND, error.to_string()));
    };
    let refused = |error: RunError| {
        let status = match error {
            RunError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            RunError::MissingSecrets { .. } => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, error.to_string())
    };
    if !state.role.works() {
        return engine.enqueue(name, &input, origin).map_err(refused);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let begun = engine.begin(id, name, input, origin).map_err(refused)?;
    let id = begun.id.clone();
    let engine = engine.clone();
    tokio::spawn(async move {
        if let Err(error) = engine.proceed(begun).await {
            tracing::error!(%error, "execution stopped: database error");
        }
    });
    Ok(id)
}

/// `{ "agents": [...] }`: each served agent with its calls under way in this
/// server against its `capacity`, its breaker (shared through the store)
/// with when an open one lets a trial call through, and its assignment (shared
/// too): paused, excluded from skills, and the calls here waiting for it.
async fn list_agents(Shared(state): Shared<Arc<State>>) -> ApiResult {
    let (breakers, assignments) = with_store(&state, Store::open_read_only, |store| {
        Ok((store.breakers()?, store.assignments()?))
    })
    .await?;
    let mut agents = Vec::new();
    for engine in state.engines() {
        for agent in engine.program().agents() {
            let breaker = agent.breaker.as_ref().map(|policy| {
                let row = breakers
                    .iter()
                    .find(|(name, _)| *name == agent.name)
                    .map(|(_, row)| row.clone())
                    .unwrap_or_default();
                let closes_at = row
                    .opened_at
                    .filter(|_| row.state != crate::store::BreakerState::Closed)
                    .map(|at| crate::store::timestamp(at + policy.cool_down));
                json!({
                    "state": row.state,
                    "recent_failures": row.failures.len(),
                    "opened_at": row.opened_at.map(crate::store::timestamp),
                    "trial_at": closes_at,
                })
            });
            let assignment = assignments.iter().find(|a| a.agent == agent.name);
            agents.push(json!({
                "name": agent.name,
                "department": agent.department,
                "skills": agent.skills,
                "capacity": agent.capacity,
                "in_flight": engine.in_flight(&agent.name),
                "breaker": breaker,
                "paused": assignment.and_then(|a| a.paused.clone()),
                "excluded": assignment.map(|a| a.excluded.clone()).unwrap_or_default(),
                "waiting": engine.calls_waiting_for(&agent.name),
            }));
        }
    }
    Ok(Json(json!({ "agents": agents })).into_response())
}

/// `{ "dead_letters": [...] }`, oldest first, as `wfc dlq list`, each with its
/// `root_cause`: the error of its execution's first failed attempt (what it
/// records is the last, a `circuit_open` that followed an outage, say), and
/// whether this server `served` its workflow (and so can replay it).
async fn list_dead_letters(Shared(state): Shared<Arc<State>>) -> ApiResult {
    let engines = state.engines();
    let letters = with_store(&state, Store::open_read_only, move |store| {
        store
            .dead_letters()?
            .into_iter()
            .map(|letter| {
                let first = store
                    .failed_attempts(&letter.execution_id)?
                    .into_iter()
                    .next();
                let mut shown = serde_json::to_value(&letter).unwrap_or_default();
                shown["root_cause"] = json!(first.and_then(|a| a.error));
                // Only a workflow this server serves can be replayed here.
                shown["served"] = json!(engines
                    .iter()
                    .any(|e| e.program().workflow_named(&letter.workflow).is_some()));
                Ok(shown)
            })
            .collect::<Result<Vec<_>, StoreError>>()
    })
    .await?;
    Ok(Json(json!({ "dead_letters": letters })).into_response())
}

fn letter_id(text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| {
        let message = format!("`{text}` is not a dead letter's id (a whole number)");
        ApiError::new(StatusCode::BAD_REQUEST, message)
    })
}

fn no_letter(id: i64) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no dead letter {id}"))
}

/// Runs a dead letter's workflow again with its input, as a new execution
/// linked to it (as `wfc dlq replay`, with the served file).
async fn replay_dead_letter(
    Shared(state): Shared<Arc<State>>,
    Path(id): Path<String>,
) -> ApiResult {
    let id = letter_id(&id)?;
    let letter = with_store(&state, Store::open_read_only, move |store| {
        store.dead_letter(id)
    })
    .await?
    .ok_or_else(|| no_letter(id))?;
    let origin = Origin {
        trigger: Some(StartedBy::Replay),
        replay_of: Some(id),
        ..Origin::default()
    };
    let execution = start(&state, &letter.workflow, letter.input, origin).await?;
    let replay = execution.clone();
    with_store(&state, Store::open, move |store| {
        store.mark_replayed(id, &replay)
    })
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "dead_letter": id, "execution": execution, "workflow": letter.workflow })),
    )
        .into_response())
}

async fn drop_dead_letter(Shared(state): Shared<Arc<State>>, Path(id): Path<String>) -> ApiResult {
    let id = letter_id(&id)?;
    let dropped = with_store(&state, Store::open, move |store| store.drop_dead_letter(id)).await?;
    if !dropped {
        return Err(no_letter(id));
    }
    Ok(Json(json!({ "dead_letter": id, "dropped": true })).into_response())
}

/// A page of executions, newest first, without their large fields (`GET
/// /executions/{id}` has them): `{ "executions": [...], "next": cursor | null }`;
/// `?before=<next>` gives the following page.
async fn list_executions(Shared(state): Shared<Arc<State>>, query: QueryParams) -> ApiResult {
    let params = params(query)?;
    let limit = match params.get("limit") {
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (1..=MAX_LIST).contains(&limit) => limit,
            _ => {
                let message =
                    format!("`limit` must be a whole number from 1 to {MAX_LIST}, not `{text}`");
                return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
            }
        },
        None => 20,
    };
    let status = match params.get("status") {
        Some(text) => match ExecutionStatus::parse(text) {
            Some(status) => Some(status),
            None => {
                let message = format!(
                    "`status` must be one of {}, not `{text}`",
                    ExecutionStatus::names().join(", ")
                );
                return Err(ApiError::new(StatusCode::BAD_REQUEST, message));
            }
        },
        None => None,
    };
    let filter = HistoryFilter {
        workflow: params.get("workflow").cloned(),
        version: params.get("version").cloned(),
        status,
        // One more than asked tells whether there is a next page.
        limit: Some(limit + 1),
        before: params.get("before").cloned(),
        summary: true,
    };
    // The blocking task first says whether the list can start (a bad cursor is a
    // 404 before the body starts); after that the body streams.
    let (started, start) = tokio::sync::oneshot::channel();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(16);
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || stream_executions(&db, &filter, limit, started, sender));
    match start.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(error.into()),
        Err(_) => {
            let message = "the listing stopped before it started";
            return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message));
        }
    }
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), receiver))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// Writes `{ "executions": [...], "next": … }` into `sender` a row at a time. A
/// failure halfway (the database, a client gone) ends the body early: the status
/// is already sent, and a cut JSON body does not parse, so no client mistakes it
/// for a whole list.
fn stream_executions(
    db: &Location,
    filter: &HistoryFilter,
    limit: usize,
    started: tokio::sync::oneshot::Sender<Result<(), StoreError>>,
    sender: tokio::sync::mpsc::Sender<Bytes>,
) {
    let send = |text: String| sender.blocking_send(Bytes::from(text)).is_ok();
    let opened = Store::open_read_only(db)
        .and_then(|store| store.check_cursor(filter.before.as_deref()).map(|()| store));
    let store = match opened {
        Ok(store) => {
            let _ = started.send(Ok(()));
            store
        }
        Err(error) => {
            let _ = started.send(Err(error));
            return;
        }
    };
    if !send("{\"executions\":[".into()) {
        return;
    }
    let (mut count, mut last, mut more) = (0, None, false);
    let listed = store.each_execution(filter, |row| {
        if count == limit {
            more = true;
            return false;
        }
        let mut value = json!(row);
        if let Some(object) = value.as_object_mut() {
            for large in ["input", "result", "error"] {
                object.remove(large);
            }
        }
        let comma = if count == 0 { "" } else { "," };
        count += 1;
        last = Some(row.id);
        send(format!("{comma}{value}"))
    });
    if listed.is_ok() {
        let next = if more { json!(last) } else { Value::Null };
        send(format!("],\"next\":{next}}}"));
    }
}

async fn get_execution(Shared(state): Shared<Arc<State>>, Path(id): Path<String>) -> ApiResult {
    let timeline = with_store(&state, Store::open_read_only, move |store| {
        store.timeline(&id)
    })
    .await?;
    Ok(Json(timeline).into_response())
}

async fn cancel(Shared(state): Shared<Arc<State>>, Path(id): Path<String>) -> ApiResult {
    let request = with_store(&state, Store::open, move |store| {
        store.request_cancel(&id, crate::resume::owner_alive)
    })
    .await?;
    Ok(match request {
        CancelRequest::Cancelled(id) => {
            Json(json!({ "execution": id, "status": ExecutionStatus::Cancelled })).into_response()
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
