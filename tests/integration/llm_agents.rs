//! Language-model agents against the local test server playing an
//! OpenAI-compatible chat-completions API: the rendered prompt and the output
//! schema it receives, replies that do not fit and then do, timeouts, refused
//! keys, tokens and cost recorded per attempt, a crash in mid-request, and the
//! key written nowhere.

use crate::http_agents::{hit, serve, Hits};
use crate::support::{Project, Wfc};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::Duration;
use wfc::store::{AttemptStatus, ExecutionStatus, HistoryFilter};

/// The one key the test model accepts.
pub const KEY: &str = "sk-llm-5ecret-7781";
/// What every reply reports it used.
const USAGE: (u64, u64) = (120, 30);

/// Every request body the test model received (tests tell theirs apart by model).
static REQUESTS: Mutex<Vec<Value>> = Mutex::new(Vec::new());

/// `POST /v1/chat/completions`. It answers a value of the schema it is sent.
/// The model name says how to behave, and its part after `:` keeps each test's
/// hit counts apart: `unfit` answers a shape that does
/// not fit the first time, `prose` answers text, `slow` and `held` hold their
/// first request for 3 s, `fenced` wraps its JSON in a Markdown fence, `wrapped`
/// answers a list in the `value` field. A wrong key is refused with a 401 that
/// quotes it.
pub async fn completions(
    State(hits): State<Hits>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    REQUESTS.lock().unwrap().push(body.clone());
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if auth != format!("Bearer {KEY}") {
        return (StatusCode::UNAUTHORIZED, format!("invalid key {auth}")).into_response();
    }
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let behaviour = model.split(':').next().unwrap_or_default();
    let first = hit(&hits, &model) == 1;
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    let schema = &body["response_format"]["json_schema"]["schema"];
    let good = instance(schema, prompt).to_string();
    let content = match behaviour {
        "unfit" if first => json!({ "summary": 5 }).to_string(),
        "prose" => "Growth looks fine to me.".to_string(),
        "slow" | "held" if first => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            good
        }
        "fenced" => format!("```json\n{good}\n```"),
        "wrapped" => json!({ "value": ["churn", "pricing"] }).to_string(),
        _ => good,
    };
    // `greedy` reports more tokens than any counter holds.
    let usage = match behaviour {
        "greedy" => json!({ "prompt_tokens": u64::MAX, "completion_tokens": 1 }),
        _ => {
            json!({ "prompt_tokens": USAGE.0, "completion_tokens": USAGE.1, "total_tokens": USAGE.0 + USAGE.1 })
        }
    };
    Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content },
            "finish_reason": "stop",
        }],
        "usage": usage,
    }))
    .into_response()
}

/// A value of `schema` such as a model would give: strings say the prompt,
/// numbers are 0.25.
fn instance(schema: &Value, prompt: &str) -> Value {
    match schema["type"].as_str() {
        Some("object") => {
            let fields = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let object = fields.iter().map(|(k, s)| (k.clone(), instance(s, prompt)));
            Value::Object(object.collect())
        }
        Some("array") => json!([instance(&schema["items"], prompt)]),
        Some("number") => json!(0.25),
        Some("boolean") => json!(true),
        Some("string") => json!(prompt),
        _ => Value::Null,
    }
}

fn requests_for(model: &str) -> Vec<Value> {
    let requests = REQUESTS.lock().unwrap();
    requests
        .iter()
        .filter(|r| r["model"] == model)
        .cloned()
        .collect()
}

/// An analyst agent asking `model`, with `extra` lines in its body.
pub fn analyst(base: &str, name: &str, model: &str, extra: &str) -> String {
    format!(
        r#"
agent {name} {{
  input {{ score: number }}
  output {{ summary: string, growth: number }}
  llm "{model}"
    endpoint "{base}/v1"
    key secret("OPENAI_API_KEY")
    system """
      You are a careful analyst.
    """
    prompt """
      The lead scored {{{{ input.score }}}}.
        Reply in JSON.
    """
    temperature 0
    max_tokens 200
    price input 0.15 output 0.60
  {extra}
}}
"#
    )
}

fn chain_program(base: &str) -> String {
    format!(
        r#"
retry quick {{ attempts 3 backoff constant 10ms }}
trigger go {{ manual }}
agent crm {{
  input {{ name: string }}
  output {{ score: number }}
  http POST "{base}/score" headers {{ Authorization: "Bearer " + "t0k3n" }}
  timeout 5s
}}
agent planner {{
  input {{ growth: number }}
  output {{ plan: string }}
  compute {{ plan: if input.growth > 0.2 then "expand" else "hold" }}
}}
workflow pipeline {{ on go input {{ name: string }} chain crm -> analyst -> planner }}
"#
    ) + &analyst(base, "analyst", "unfit:chain", "timeout 5s retry quick")
}

#[test]
fn an_http_agent_chains_into_a_model_into_a_compute_agent_with_tokens_and_cost() {
    let (base, _) = serve();
    let project = Project::new("llm_chain")
        .file("flow.wf", &chain_program(&base))
        .file(
            "secrets.env",
            &format!("# test key\nOPENAI_API_KEY={KEY}\n"),
        );
    let wfc = |args: &[&str]| project.cli(args).run();
    // `--env` asks whether it would run here.
    let unset = wfc(&["check", "--env", "flow.wf"]).expect_code(0);
    assert!(
        unset.stderr.contains("wf::unset_secret") && unset.stderr.contains("OPENAI_API_KEY"),
        "{}",
        unset.stderr
    );
    wfc(&["check", "--env", "--deny", "warnings", "flow.wf"]).expect_code(1);
    let set = wfc(&["--secrets", "secrets.env", "check", "--env", "flow.wf"]).expect_code(0);
    assert!(!set.stderr.contains("unset_secret"), "{}", set.stderr);
    // Without the key nothing runs.
    let refused = wfc(&[
        "run",
        "flow.wf",
        "--workflow",
        "pipeline",
        "--input",
        r#"{"name":"Initech"}"#,
    ])
    .expect_code(2);
    assert!(
        refused
            .stderr
            .contains("secret `OPENAI_API_KEY` (read by agent `analyst`) is not set"),
        "{}",
        refused.stderr
    );
    let run = wfc(&[
        "run",
        "flow.wf",
        "--secrets",
        "secrets.env",
        "--workflow",
        "pipeline",
        "--input",
        r#"{"name":"Initech"}"#,
    ])
    .expect_code(0);
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap(),
        json!({ "plan": "expand" })
    );

    // The model saw the rendered prompt, the system message and the output shape
    // as a strict JSON schema.
    let requests = requests_for("unfit:chain");
    assert_eq!(
        requests.len(),
        2,
        "a reply that does not fit is asked again"
    );
    let request = &requests[0];
    assert_eq!(request["temperature"], json!(0.0));
    assert_eq!(request["max_tokens"], json!(200));
    assert_eq!(
        request["messages"],
        json!([
            { "role": "system", "content": "You are a careful analyst." },
            { "role": "user", "content": "The lead scored 7.\n  Reply in JSON." },
        ])
    );
    let format = &request["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(
        format["json_schema"]["schema"],
        json!({
            "type": "object",
            "properties": { "growth": { "type": "number" }, "summary": { "type": "string" } },
            "required": ["growth", "summary"],
            "additionalProperties": false,
        })
    );

    // Each attempt records what it used, the one that did not fit too.
    let store = project.store();
    let execution = &store.executions(&HistoryFilter::default()).unwrap()[0];
    let attempts: Vec<_> = store
        .attempts(&execution.id)
        .unwrap()
        .into_iter()
        .filter(|a| a.agent.as_deref() == Some("analyst"))
        .collect();
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        attempts[0].status,
        AttemptStatus::Failed(wfc::program::ErrorKind::InvalidOutput)
    );
    assert!(
        attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("field `growth` is missing"),
        "{:?}",
        attempts[0].error
    );
    assert_eq!(attempts[1].status, AttemptStatus::Completed);
    for attempt in &attempts {
        let tokens = attempt.tokens.expect("tokens recorded");
        assert_eq!((tokens.input, tokens.output), USAGE);
        let cost = tokens.cost_usd.unwrap();
        assert!((cost - 0.000036).abs() < 1e-12, "{cost}");
    }
    let crm = store
        .attempts(&execution.id)
        .unwrap()
        .into_iter()
        .find(|a| a.agent.as_deref() == Some("crm"))
        .unwrap();
    assert_eq!(crm.tokens, None);

    let show = wfc(&["show", &execution.id]).expect_code(0);
    assert!(
        show.stdout.contains("tokens    240 in, 60 out, $0.000072"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("tokens: 120 in, 30 out, $0.000036"),
        "{}",
        show.stdout
    );
    let stats = wfc(&["stats"]).expect_code(0);
    let row = stats
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("MODEL AGENT"))
        .find(|l| l.starts_with("analyst"))
        .unwrap_or_else(|| panic!("{}", stats.stdout));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["analyst", "240", "60", "$0.000072"]);
    let json_stats: Value =
        serde_json::from_str(&wfc(&["stats", "--format", "json"]).expect_code(0).stdout).unwrap();
    let analyst = json_stats["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "analyst")
        .unwrap();
    assert_eq!(
        (
            analyst["tokens_in"].as_u64(),
            analyst["tokens_out"].as_u64()
        ),
        (Some(240), Some(60))
    );

    // The key went to the model and nowhere else.
    let mut seen = vec![run.stdout, run.stderr, show.stdout, stats.stdout];
    for args in [
        vec!["show", execution.id.as_str(), "--format", "json"],
        vec!["history", "--format", "json"],
    ] {
        let out = wfc(&args).expect_code(0);
        seen.push(out.stdout);
        seen.push(out.stderr);
    }
    for text in &seen {
        assert!(!text.contains(KEY), "the key was printed:\n{text}");
    }
    for file in std::fs::read_dir(&project.dir).unwrap() {
        let path = file.unwrap().path();
        if path.ends_with("secrets.env") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let found = bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes());
        assert!(!found, "the key is in {}", path.display());
    }
}

#[test]
fn replies_that_are_not_json_slow_models_refused_keys_and_fenced_or_wrapped_replies() {
    let (base, _) = serve();
    let wrong = "sk-wrong-9931";
    let program = [
        analyst(&base, "prose", "prose:b", "timeout 5s"),
        analyst(&base, "slow", "slow:b", "timeout 200ms retry quick"),
        analyst(&base, "fenced", "fenced:b", "timeout 5s"),
        analyst(&base, "greedy", "greedy:b", "timeout 5s"),
        analyst(&base, "refused", "any:b", "timeout 5s")
            .replace("secret(\"OPENAI_API_KEY\")", "secret(\"WRONG_KEY\")"),
        format!(
            "agent risks {{ output [string] llm \"wrapped:b\" endpoint \"{base}/v1\" key secret(\"OPENAI_API_KEY\") prompt \"List {{{{ \"risks\" }}}} of \\\"Acme\\\".\" }}\n"
        ),
        "retry quick { attempts 3 backoff constant 10ms }\ntrigger go { manual }\n".to_string(),
    ]
    .concat()
        + &["prose", "slow", "fenced", "greedy", "refused", "risks"]
            .iter()
            .map(|a| {
                let input = if *a == "risks" { "{}" } else { "{ score: 1 }" };
                format!("workflow call_{a} {{ on go steps {{ r = {a}({input}) }} output r }}\n")
            })
            .collect::<String>();
    let project = Project::new("llm_failures").file("flow.wf", &program);
    let run = |workflow: &str| {
        let out = project
            .cli(["run", "flow.wf", "--workflow", workflow])
            .env("OPENAI_API_KEY", KEY)
            .env("WRONG_KEY", wrong)
            .run();
        let store = project.store();
        let filter = HistoryFilter {
            workflow: Some(workflow.into()),
            ..HistoryFilter::default()
        };
        let execution = store.executions(&filter).unwrap().remove(0);
        let attempts = store.attempts(&execution.id).unwrap();
        (out, execution, attempts)
    };
    let (_, execution, attempts) = run("call_prose");
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(attempts.len(), 1);
    let error = attempts[0].error.as_deref().unwrap();
    assert!(
        error.contains("not JSON") && error.contains("Growth looks fine"),
        "{error}"
    );
    assert!(
        attempts[0].tokens.is_some(),
        "a reply that is not JSON still used tokens"
    );

    let (_, execution, attempts) = run("call_slow");
    assert_eq!(execution.status, ExecutionStatus::Completed);
    let statuses: Vec<_> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            AttemptStatus::Failed(wfc::program::ErrorKind::Timeout),
            AttemptStatus::Completed
        ]
    );
    assert_eq!(
        attempts[0].tokens, None,
        "a call that timed out reports nothing"
    );

    let (out, execution, _) = run("call_fenced");
    assert_eq!(
        execution.status,
        ExecutionStatus::Completed,
        "{}",
        out.stderr
    );
    assert_eq!(execution.result.unwrap()["growth"], json!(0.25));

    let (_, execution, attempts) = run("call_greedy");
    assert_eq!(execution.status, ExecutionStatus::Completed);
    let tokens = attempts[0].tokens.unwrap();
    assert_eq!((tokens.input, tokens.output), (i64::MAX as u64, 1));
    assert!(tokens.cost_usd.unwrap().is_finite());

    let (out, execution, attempts) = run("call_refused");
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(
        attempts[0].status,
        AttemptStatus::Failed(wfc::program::ErrorKind::Http4xx)
    );
    let error = attempts[0].error.as_deref().unwrap();
    assert!(
        error.contains("invalid key Bearer [secret WRONG_KEY]"),
        "{error}"
    );
    assert!(
        !out.stderr.contains(wrong) && !error.contains(wrong),
        "{}",
        out.stderr
    );

    let (out, execution, _) = run("call_risks");
    assert_eq!(
        execution.status,
        ExecutionStatus::Completed,
        "{}",
        out.stderr
    );
    assert_eq!(execution.result.unwrap(), json!(["churn", "pricing"]));
    let request = &requests_for("wrapped:b")[0];
    // A one-line prompt: a string's escapes, and holes.
    assert_eq!(
        request["messages"][0]["content"],
        r#"List risks of "Acme"."#
    );
    let schema = &request["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["properties"]["value"]["type"], "array");
}

#[test]
fn a_model_request_in_flight_when_the_process_is_killed_is_sent_again_on_resume() {
    let (base, hits) = serve();
    let program = analyst(&base, "analyst", "held:resume", "timeout 30s")
        + "trigger go { manual }\nworkflow w { on go steps { r = analyst({ score: 3 }) } output r }\n";
    let project = Project::new("llm_resume").file("flow.wf", &program);
    let mut running = project
        .command()
        .args(["run", "flow.wf", "--workflow", "w"])
        .env("OPENAI_API_KEY", KEY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    crate::support::wait_for(Duration::from_secs(5), || {
        hits.lock().unwrap().contains_key("held:resume")
    });
    running.kill().unwrap(); // SIGKILL, mid-request
    running.wait().unwrap();
    let resumed = project
        .cli(["resume"])
        .env("OPENAI_API_KEY", KEY)
        .run()
        .expect_code(0);
    assert!(
        resumed.stdout.contains(r#""status":"completed""#),
        "{}",
        resumed.stdout
    );
    assert_eq!(hits.lock().unwrap().get("held:resume"), Some(&2));
    let store = project.store();
    let execution = &store.executions(&HistoryFilter::default()).unwrap()[0];
    let attempts = store.attempts(&execution.id).unwrap();
    let done = attempts
        .iter()
        .find(|a| a.status == AttemptStatus::Completed)
        .unwrap();
    assert_eq!(done.tokens.map(|t| (t.input, t.output)), Some(USAGE));
}

#[test]
fn the_enterprise_examples_model_agents_run_against_the_endpoint_the_environment_names() {
    let (base, _) = serve();
    let project = Project::new("llm_example");
    let example = crate::support::root().join("examples/enterprise.wf");
    let run = |workflow: &str, input: &str| {
        Wfc::new([
            "run",
            example.to_str().unwrap(),
            "--workflow",
            workflow,
            "--input",
            input,
        ])
        .dir(&project.dir)
        .env("WFC_LLM_ENDPOINT", &format!("{base}/v1"))
        .env("WFC_LLM_MODEL", "any:example")
        .env("OPENAI_API_KEY", KEY)
        .run()
    };
    let review = run(
        "revenue_review_llm",
        r#"{"value": 5200, "period": "2026-11"}"#,
    )
    .expect_code(0);
    assert_eq!(
        serde_json::from_str::<Value>(&review.stdout).unwrap(),
        json!({ "plan": "expand", "priority": 2 })
    );
    let leads = run(
        "lead_scoring_llm",
        r#"{"name": "Initech", "source": "referral"}"#,
    )
    .expect_code(0);
    let lead: Value = serde_json::from_str(&leads.stdout).unwrap();
    assert_eq!(lead["score"], json!(0.25));
    let requests = requests_for("any:example");
    assert_eq!(requests.len(), 2);
    let prompt = requests[0]["messages"][1]["content"].as_str().unwrap();
    assert!(
        prompt.starts_with("Revenue for 2026-11 was 5200 USD"),
        "{prompt}"
    );
    let lead_prompt = requests[1]["messages"][0]["content"].as_str().unwrap();
    assert!(
        lead_prompt.contains(r#"lead "Initech" (source: referral)"#),
        "{lead_prompt}"
    );
}

#[test]
fn a_missing_key_stops_what_would_need_it_before_anything_runs() {
    let program = analyst("http://127.0.0.1:9", "analyst", "any:missing", "timeout 5s")
        + r#"
trigger leads { on event "lead.*" }
workflow auto { on leads input { score: number } chain analyst }
test "the real model is asked" {
  run auto with { score: 1 }
  expect status completed
}
test "a mocked model needs no key" {
  mock analyst returns { summary: "fine", growth: 0.3 }
  run auto with { score: 1 }
  expect output.growth == 0.3
}
"#;
    let project = Project::sqlite("llm_missing_key").file("flow.wf", &program);
    // A workflow that starts by itself must be able to run: the server refuses.
    let serve = project
        .wfc(["serve", "flow.wf", "--listen", "127.0.0.1:0"])
        .expect_code(2);
    assert!(
        serve.stderr.contains("`flow.wf` cannot run here:\nsecret `OPENAI_API_KEY` (read by agent `analyst`) is not set"),
        "{}",
        serve.stderr
    );
    let test = project.wfc(["test", "flow.wf"]).expect_code(1);
    assert!(
        test.stdout.contains("1 passed, 1 failed"),
        "{}\n{}",
        test.stdout,
        test.stderr
    );
    let report = format!("{}{}", test.stdout, test.stderr);
    assert!(
        report.contains("workflow `auto` cannot run here: secret `OPENAI_API_KEY`"),
        "{report}"
    );
    assert!(!project.dir.join("wfc.db").exists(), "nothing was recorded");
}

#[test]
fn a_key_a_model_echoes_back_is_redacted_in_every_api_answer_and_the_log() {
    let (base, _) = serve();
    let wrong = "sk-served-wrong-5150";
    let program = analyst(&base, "analyst", "any:served", "timeout 5s")
        + "trigger go { manual }\nworkflow w { on go input { score: number } chain analyst }\n";
    let project = Project::new("llm_served")
        .file("flow.wf", &program)
        .file("keys.env", &format!("OPENAI_API_KEY={wrong}\n"));
    let server = crate::server::Server::start(&project, &["--secrets", "keys.env"]);
    let (status, started) = server.http("POST", "/workflows/w/runs", Some(r#"{"score": 2}"#), None);
    assert_eq!(status, 202, "{started}");
    let id = started["execution"].as_str().unwrap().to_string();
    let path = format!("/executions/{id}");
    let mut execution = Value::Null;
    crate::support::wait_for(Duration::from_secs(5), || {
        execution = server.http("GET", &path, None, None).1;
        execution["execution"]["status"] == "failed"
    });
    let error = execution.to_string();
    assert!(
        error.contains("invalid key Bearer [secret OPENAI_API_KEY]"),
        "{error}"
    );
    let (_, list) = server.http("GET", "/executions", None, None);
    for answer in [execution.to_string(), list.to_string(), started.to_string()] {
        assert!(!answer.contains(wrong), "the key is in an answer: {answer}");
    }
    assert!(!server.logged(wrong), "the key is in the server's log");
    server.stop();
}
