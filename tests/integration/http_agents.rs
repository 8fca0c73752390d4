//! HTTP agents against a real local server, started by the test on a free
//! loopback port: success, 5xx then success under retry, 429 with `Retry-After`,
//! timeouts, outputs that do not fit, a huge body, redirects, refused requests.
//! The same server plays a language model's API (`llm_agents`).

use crate::support::Project;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wfc::store::{AttemptStatus, ExecutionStatus, HistoryFilter};

pub type Hits = Arc<Mutex<HashMap<String, u32>>>;

/// A CRM-like service on a free port, served from its own thread until the test
/// process ends. Returns its base URL and how often each path was hit.
pub fn serve() -> (String, Hits) {
    let hits: Hits = Arc::default();
    let state = hits.clone();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let router = Router::new()
                .route("/score", post(score))
                .route("/flaky/{key}", post(flaky))
                .route("/limited/{key}", post(limited))
                .route("/slow", post(slow))
                .route("/bad", post(bad))
                .route("/huge", get(huge))
                .route("/echo", get(echo))
                .route(
                    "/hop",
                    get(|| async { Redirect::temporary("/echo?hopped=yes") }),
                )
                .route("/loop", get(|| async { Redirect::temporary("/loop") }))
                .route("/away", get(away))
                .route("/key", get(key))
                .route("/whoami", post(whoami))
                .route("/held/{key}", post(held))
                .route("/hook/{key}", post(hook))
                .route("/v1/chat/completions", post(crate::llm_agents::completions))
                .with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    let address = receiver.recv().unwrap();
    (format!("http://{address}"), hits)
}

/// Counts a hit of `key` and returns how many there were.
pub fn hit(hits: &Hits, key: &str) -> u32 {
    let mut hits = hits.lock().unwrap();
    let n = hits.entry(key.to_string()).or_default();
    *n += 1;
    *n
}

async fn score(headers: HeaderMap, Json(input): Json<Value>) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t0k3n") {
        return (StatusCode::UNAUTHORIZED, "no token").into_response();
    }
    let name = input["name"].as_str().unwrap_or_default();
    Json(json!({ "score": name.len() })).into_response()
}

/// An alert's webhook: counts the call and keeps the last body under `key`.
async fn hook(State(hits): State<Hits>, Path(key): Path<String>, body: String) -> Response {
    hit(&hits, &format!("hook/{key}"));
    hit(&hits, &format!("hook/{key}/{body}"));
    Json(json!({ "ok": true })).into_response()
}

async fn flaky(State(hits): State<Hits>, Path(key): Path<String>) -> Response {
    match hit(&hits, &format!("flaky/{key}")) {
        1 => (StatusCode::INTERNAL_SERVER_ERROR, "overloaded").into_response(),
        _ => Json(json!({ "score": 7 })).into_response(),
    }
}

async fn limited(State(hits): State<Hits>, Path(key): Path<String>) -> Response {
    match hit(&hits, &format!("limited/{key}")) {
        1 => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "slow down",
        )
            .into_response(),
        _ => Json(json!({ "score": 3 })).into_response(),
    }
}

async fn slow() -> Json<Value> {
    tokio::time::sleep(Duration::from_secs(3)).await;
    Json(json!({ "score": 1 }))
}

/// Echoes the credential back: in a 401 body without a name, else in the answer.
async fn whoami(headers: HeaderMap, Json(input): Json<Value>) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    match input["name"].as_str() {
        None => (StatusCode::UNAUTHORIZED, format!("bad credential {token}")).into_response(),
        Some(_) => Json(json!({ "you": token })).into_response(),
    }
}

/// Holds the first request of each key for 3 s; answers later ones at once.
async fn held(State(hits): State<Hits>, Path(key): Path<String>) -> Json<Value> {
    if hit(&hits, &format!("held/{key}")) == 1 {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    Json(json!({ "score": 1 }))
}

/// Redirects to the same server under another origin (`localhost` for
/// `127.0.0.1`).
async fn away(headers: HeaderMap) -> Redirect {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Redirect::temporary(&format!(
        "http://{}/key",
        host.replace("127.0.0.1", "localhost")
    ))
}

/// Says which API key reached it.
async fn key(headers: HeaderMap) -> Json<Value> {
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    Json(json!({ "key": key.unwrap_or("none") }))
}

async fn bad() -> Json<Value> {
    Json(json!({ "score": "high" }))
}

async fn huge() -> String {
    format!("\"{}\"", "x".repeat(17 * 1024 * 1024))
}

async fn echo(Query(query): Query<HashMap<String, String>>) -> Json<Value> {
    Json(json!({ "query": query }))
}

fn program(base: &str) -> String {
    format!(
        r#"
retry quick {{ attempts 3 backoff constant 10ms max 300ms }}
trigger go {{ manual }}
agent crm {{
  input {{ name: string }}
  output {{ score: number }}
  http POST "{base}/score" headers {{ Authorization: "Bearer " + "t0k3n", "X-Caller": input.name }}
  timeout 5s
}}
agent no_token {{ input {{ name: string }} output {{ score: number }} http POST "{base}/score" timeout 5s retry quick }}
agent flaky {{ input {{ key: string }} output {{ score: number }} http POST "{base}/flaky/one" timeout 5s retry quick }}
agent limited {{ output {{ score: number }} http POST "{base}/limited/one" timeout 5s retry quick }}
agent slow {{ output {{ score: number }} http POST "{base}/slow" timeout 100ms retry quick }}
agent bad {{ output {{ score: number }} http POST "{base}/bad" timeout 5s }}
agent huge {{ http GET "{base}/huge" timeout 20s }}
agent echo {{ input {{ name: string, n: number }} http GET "{base}/echo" timeout 5s }}
agent hop {{ http GET "{base}/hop" timeout 5s }}
agent looping {{ http GET "{base}/loop" timeout 5s }}
agent planner {{ input {{ score: number }} output {{ plan: string }} compute {{ plan: if input.score > 5 then "expand" else "hold" }} }}
workflow pipeline {{ on go input {{ name: string }} chain crm -> planner }}
"#
    ) + &[
        "no_token", "flaky", "limited", "slow", "bad", "huge", "echo", "hop", "looping",
    ]
    .iter()
    .map(|agent| {
        let input = match *agent {
            "no_token" => r#"{ name: "x" }"#,
            "flaky" => r#"{ key: "one" }"#,
            "echo" => r#"{ name: "Ada L", n: 2 }"#,
            _ => "{}",
        };
        format!("workflow call_{agent} {{ on go steps {{ r = {agent}({input}) }} output r }}\n")
    })
    .collect::<String>()
}

/// Runs workflow `name`; its exit code, printed output, and the attempts of its
/// step as (status, delay in ms).
fn run(
    project: &Project,
    name: &str,
    input: &str,
) -> (Option<i32>, Value, Vec<(AttemptStatus, f64)>) {
    let run = project.wfc(["run", "flow.wf", "--workflow", name, "--input", input]);
    let store = project.store();
    let filter = HistoryFilter {
        workflow: Some(name.into()),
        ..HistoryFilter::default()
    };
    let execution = &store.executions(&filter).unwrap()[0];
    let attempts = store
        .attempts(&execution.id)
        .unwrap()
        .into_iter()
        .map(|a| (a.status, a.delay_ms.unwrap_or(0.0)))
        .collect();
    let output = match execution.status {
        ExecutionStatus::Completed => serde_json::from_str(&run.stdout).unwrap(),
        _ => execution.error.clone().unwrap_or(Value::Null),
    };
    (run.code, output, attempts)
}

#[test]
fn an_http_agent_chains_into_a_compute_agent_with_its_headers() {
    let (base, _) = serve();
    let project = Project::new("http_chain").file("flow.wf", &program(&base));
    project.wfc(["check", "flow.wf"]).expect_code(0);
    let (code, output, _) = run(&project, "pipeline", r#"{"name": "Initech"}"#);
    assert_eq!(code, Some(0), "{output}");
    assert_eq!(output, json!({ "plan": "expand" }));
    // GET sends the input as query parameters; a redirect is followed.
    let (_, output, _) = run(&project, "call_echo", "{}");
    assert_eq!(output, json!({ "query": { "name": "Ada L", "n": "2" } }));
    let (_, output, _) = run(&project, "call_hop", "{}");
    assert_eq!(output, json!({ "query": { "hopped": "yes" } }));
}

#[test]
fn failures_are_typed_and_retried_as_their_kind_says() {
    let (base, hits) = serve();
    let project = Project::new("http_failures").file("flow.wf", &program(&base));
    // 500 then success: retried.
    let (code, output, attempts) = run(&project, "call_flaky", "{}");
    assert_eq!((code, output), (Some(0), json!({ "score": 7 })));
    assert_eq!(
        attempts[0].0,
        AttemptStatus::Failed(wfc::program::ErrorKind::Http5xx)
    );
    assert_eq!(attempts.len(), 2);
    // 429 with Retry-After: 1 is honoured over the policy's 10ms delay, within
    // its 300ms max.
    let (code, _, attempts) = run(&project, "call_limited", "{}");
    assert_eq!(code, Some(0));
    assert_eq!(
        attempts[0].0,
        AttemptStatus::Failed(wfc::program::ErrorKind::RateLimited)
    );
    let waited = attempts[1].1;
    assert!(
        (300.0..1000.0).contains(&waited),
        "the retry waited {waited} ms"
    );
    // 401 is http_4xx: not retried by default.
    let (code, error, attempts) = run(&project, "call_no_token", "{}");
    assert_eq!(code, Some(1));
    assert_eq!(error["kind"], "http_4xx");
    assert!(
        error["message"].as_str().unwrap().contains("401"),
        "{error}"
    );
    assert_eq!(attempts.len(), 1);
    // Too slow: every attempt times out.
    let (_, error, attempts) = run(&project, "call_slow", "{}");
    assert_eq!(error["kind"], "timeout");
    assert_eq!(attempts.len(), 3);
    // A reply that does not fit the declared output.
    let (_, error, _) = run(&project, "call_bad", "{}");
    assert_eq!(error["kind"], "invalid_output");
    assert!(
        error["message"].as_str().unwrap().contains("score"),
        "{error}"
    );
    // A body over 16 MiB is refused, not held.
    let (_, error, _) = run(&project, "call_huge", "{}");
    assert_eq!(error["kind"], "invalid_output");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("larger than 16 MiB"),
        "{error}"
    );
    // A redirect loop ends.
    let (_, error, _) = run(&project, "call_looping", "{}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("more than 5 redirects"),
        "{error}"
    );
    assert_eq!(hits.lock().unwrap().get("flaky/one"), Some(&2));
}

#[test]
fn an_unreachable_service_is_connect_and_a_bad_url_does_not_check() {
    // A port nothing listens on: bind one and drop it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let project = Project::new("http_connect").file(
        "flow.wf",
        &format!(
            "trigger go {{ manual }}\nagent gone {{ http POST \"http://127.0.0.1:{port}/x\" timeout 5s }}\n\
             workflow w {{ on go steps {{ r = gone({{}}) }} }}\n"
        ),
    );
    let (code, error, _) = run(&project, "w", "{}");
    assert_eq!(code, Some(1));
    assert_eq!(error["kind"], "connect");
    let project = project.file(
        "bad.wf",
        "agent a { http GET \"ftp://example.com/x\" }\nagent b { http POST \"not a url\" }\n",
    );
    let run = project.wfc(["check", "bad.wf"]).expect_code(1);
    assert!(run.stderr.contains("wf::invalid_url"), "{}", run.stderr);
    assert!(run.stderr.contains("is a `ftp` URL"), "{}", run.stderr);
}

#[test]
fn a_secret_is_sent_but_never_written_anywhere() {
    let (base, _) = serve();
    let value = "s3cr3t-v4lue-8841";
    let project = Project::new("http_secrets").file(
        "flow.wf",
        &format!(
            "trigger go {{ manual }}\n\
             agent whoami {{ input {{ name: string? }} output {{ you: string }}\n  \
             http POST \"{base}/whoami\" headers {{ Authorization: \"Bearer \" + secret(\"CRM_TOKEN\") }}\n  timeout 5s\n}}\n\
             workflow ok {{ on go steps {{ me = whoami({{ name: \"Ada\" }}) }} output me }}\n\
             workflow refused {{ on go steps {{ me = whoami({{}}) }} output me }}\n"
        ),
    );
    let wfc = |args: &[&str]| project.cli(args).env("CRM_TOKEN", value).run();
    let ok = wfc(&["run", "flow.wf", "--workflow", "ok"]).expect_code(0);
    assert!(
        ok.stdout.contains("Bearer [secret CRM_TOKEN]"),
        "{}",
        ok.stdout
    );
    let refused = wfc(&["run", "flow.wf", "--workflow", "refused"]).expect_code(1);
    assert!(
        refused.stderr.contains("[secret CRM_TOKEN]"),
        "{}",
        refused.stderr
    );
    let mut seen = vec![ok.stdout, ok.stderr, refused.stdout, refused.stderr];
    let ids = crate::support::execution_ids(&project.store());
    assert_eq!(ids.len(), 2);
    let mut reads: Vec<Vec<&str>> = vec![vec!["history", "--format", "json"], vec!["stats"]];
    for id in &ids {
        reads.push(vec!["show", id.as_str(), "--format", "json"]);
        reads.push(vec!["show", id.as_str()]);
    }
    for args in reads {
        let run = wfc(&args).expect_code(0);
        seen.push(run.stdout);
        seen.push(run.stderr);
    }
    for text in &seen {
        assert!(!text.contains(value), "the secret was printed:\n{text}");
    }
    crate::support::in_no_file(&project.dir, &[value], &[]);
    // Without it, nothing runs.
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "ok"])
        .expect_code(2);
    assert!(
        run.stderr
            .contains("secret `CRM_TOKEN` (read by agent `whoami`) is not set"),
        "{}",
        run.stderr
    );
}

/// A project whose workflow `w` calls `/held/{key}` once.
fn held_project(name: &str, base: &str, key: &str) -> Project {
    Project::new(name).file(
        "flow.wf",
        &format!(
            "trigger go {{ manual }}\nagent held {{ output {{ score: number }} http POST \"{base}/held/{key}\" timeout 30s }}\n\
             workflow w {{ on go steps {{ r = held({{}}) }} output r }}\n"
        ),
    )
}

#[test]
fn a_cancel_during_a_request_stops_the_execution() {
    let (base, hits) = serve();
    let project = held_project("http_cancel", &base, "cancel");
    let mut running = crate::failure::spawn_run(&project, "w");
    let store = project.store();
    crate::support::wait_for(Duration::from_secs(5), || {
        hits.lock().unwrap().contains_key("held/cancel")
            && store
                .executions(&HistoryFilter::default())
                .is_ok_and(|e| !e.is_empty())
    });
    let id = store.executions(&HistoryFilter::default()).unwrap()[0]
        .id
        .clone();
    project.wfc(["cancel", &id]).expect_code(0);
    let status = running.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert_eq!(
        store.execution(&id).unwrap().status,
        ExecutionStatus::Cancelled
    );
}

#[test]
fn a_request_in_flight_when_the_process_is_killed_is_sent_again_on_resume() {
    let (base, hits) = serve();
    let project = held_project("http_resume", &base, "resume");
    let mut running = crate::failure::spawn_run(&project, "w");
    crate::support::wait_for(Duration::from_secs(5), || {
        hits.lock().unwrap().contains_key("held/resume")
    });
    running.kill().unwrap(); // SIGKILL, mid-request
    running.wait().unwrap();
    let resumed = project.wfc(["resume"]).expect_code(0);
    assert!(
        resumed
            .stdout
            .contains(r#""result":{"score":1},"status":"completed""#),
        "{}",
        resumed.stdout
    );
    // At least once: the interrupted request was sent again.
    assert_eq!(hits.lock().unwrap().get("held/resume"), Some(&2));
}

#[test]
fn a_request_carrying_a_secret_follows_no_redirect_to_another_origin() {
    let (base, _) = serve();
    let project = Project::new("http_cross_origin").file(
        "flow.wf",
        &format!(
            "trigger go {{ manual }}\n\
             agent keyed {{ http GET \"{base}/away\" headers {{ \"X-Api-Key\": secret(\"CRM_TOKEN\") }} timeout 5s }}\n\
             agent open {{ http GET \"{base}/away\" headers {{ \"X-Api-Key\": \"public\" }} timeout 5s }}\n\
             workflow keyed {{ on go steps {{ r = keyed({{}}) }} output r }}\n\
             workflow open {{ on go steps {{ r = open({{}}) }} output r }}\n"
        ),
    );
    let wfc = |workflow: &str| {
        project
            .cli(["run", "flow.wf", "--workflow", workflow])
            .env("CRM_TOKEN", "k-7781-cross")
            .run()
    };
    let refused = wfc("keyed").expect_code(1);
    assert!(
        refused
            .stderr
            .contains("refused a redirect to another origin (http://localhost:"),
        "{}",
        refused.stderr
    );
    // Without a secret the same redirect is followed (and the header is not a secret).
    let open = wfc("open").expect_code(0);
    assert_eq!(
        serde_json::from_str::<Value>(&open.stdout).unwrap(),
        json!({ "key": "public" })
    );
}
