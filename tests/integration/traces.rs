//! OpenTelemetry traces through the binary, received by an OTLP/HTTP receiver
//! in the test that decodes the protobuf requests (`opentelemetry-proto`): an
//! execution is a span, its attempts spans under it, a sub-workflow's execution
//! a span under its parent's, one trace; a model's call carries `gen_ai.*`; no
//! key appears anywhere in what was sent.

use crate::server::Server;
use crate::support::{wait_for, Project};
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    /// Every request body as sent, to look for secrets in.
    raw: Vec<Vec<u8>>,
    services: Vec<String>,
}

type Shared = Arc<Mutex<Received>>;

async fn traces(State(received): State<Shared>, body: Bytes) -> &'static str {
    let request = ExportTraceServiceRequest::decode(body.as_ref()).expect("an OTLP trace request");
    let mut received = received.lock().unwrap();
    received.raw.push(body.to_vec());
    for resource in request.resource_spans {
        if let Some(resource_attributes) = &resource.resource {
            for kv in &resource_attributes.attributes {
                if kv.key == "service.name" {
                    if let Some(Any::StringValue(name)) =
                        kv.value.as_ref().and_then(|v| v.value.clone())
                    {
                        received.services.push(name);
                    }
                }
            }
        }
        for scope in resource.scope_spans {
            received.spans.extend(scope.spans);
        }
    }
    ""
}

/// A collector on a free port; its base URL and what it received.
fn collector() -> (String, Shared) {
    let received: Shared = Arc::default();
    let state = received.clone();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let router = Router::new()
                .route("/v1/traces", post(traces))
                .with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    (format!("http://{}", receiver.recv().unwrap()), received)
}

fn attribute(span: &Span, key: &str) -> Option<Any> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.clone())
}

const FLOW: &str = r#"
trigger go { manual }
agent planner { input { growth: number } output { plan: string } compute { plan: "hold" } }
workflow review { input { score: number } steps { a = analyst({ score: input.score }) p = planner({ growth: a.growth }) } output p }
workflow intake { on go input { score: number } steps { r = workflow review({ score: input.score }) } output r }
"#;

fn flow(base: &str) -> String {
    FLOW.to_string() + &crate::llm_agents::analyst(base, "analyst", "plain:otel", "")
}

#[test]
fn a_run_exports_one_trace_of_its_executions_and_attempts_with_gen_ai_attributes() {
    let (model, _) = crate::http_agents::serve();
    let (collector, received) = collector();
    let project = Project::new("traces_run").file("flow.wf", &flow(&model));
    let out = project
        .cli([
            "run",
            "flow.wf",
            "--workflow",
            "intake",
            "--input",
            "{\"score\": 7}",
            "--otlp",
            &collector,
        ])
        .env("OPENAI_API_KEY", crate::llm_agents::KEY)
        .run()
        .expect_code(0);
    let listed: serde_json::Value =
        project.json(["history", "--workflow", "intake", "--format", "json"]);
    let root = listed[0]["id"].as_str().unwrap().to_string();
    // Sent before the process ended.
    let received = received.lock().unwrap();
    let spans = &received.spans;
    assert_eq!(
        spans.len(),
        2 + 3,
        "two executions, three attempts: {spans:#?}\n{}",
        out.stderr
    );
    let trace = uuid::Uuid::parse_str(&root).unwrap().as_bytes().to_vec();
    assert!(
        spans.iter().all(|s| s.trace_id == trace),
        "one trace, the root execution's id"
    );
    let named = |name: &str| {
        spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
            panic!(
                "{name} in {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
    };
    let intake = named("workflow intake");
    assert!(intake.parent_span_id.is_empty(), "the root span");
    assert_eq!(intake.span_id, trace[8..].to_vec());
    let review = named("workflow review");
    assert_eq!(
        review.parent_span_id, intake.span_id,
        "the sub-workflow under its parent"
    );
    assert_eq!(named("step r").parent_span_id, intake.span_id);
    assert_eq!(named("step p").parent_span_id, review.span_id);
    let chat = named("chat plain:otel");
    assert_eq!(chat.parent_span_id, review.span_id);
    assert_eq!(
        attribute(chat, "gen_ai.request.model"),
        Some(Any::StringValue("plain:otel".into()))
    );
    assert_eq!(
        attribute(chat, "gen_ai.operation.name"),
        Some(Any::StringValue("chat".into()))
    );
    assert_eq!(
        attribute(chat, "gen_ai.usage.input_tokens"),
        Some(Any::IntValue(120))
    );
    assert_eq!(
        attribute(chat, "gen_ai.usage.output_tokens"),
        Some(Any::IntValue(30))
    );
    assert_eq!(
        attribute(chat, "wfc.agent"),
        Some(Any::StringValue("analyst".into()))
    );
    assert!(chat.end_time_unix_nano > chat.start_time_unix_nano);
    assert!(intake.start_time_unix_nano <= chat.start_time_unix_nano);
    assert_eq!(
        received.services,
        vec!["wfc".to_string(); received.services.len()]
    );
    // No key in anything sent.
    let key = crate::llm_agents::KEY.as_bytes();
    assert!(received
        .raw
        .iter()
        .all(|body| !body.windows(key.len()).any(|w| w == key)));
}

#[test]
fn a_server_exports_to_the_standard_environments_collector_and_a_bad_url_is_refused() {
    let (collector, received) = collector();
    let project = Project::new("traces_serve").file(
        "flow.wf",
        "agent a { compute { ok: true } }\ntrigger go { manual }\nworkflow w { on go steps { r = a({}) } output r }\n",
    );
    let mut command = project.command();
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector)
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .env("OTEL_SERVICE_NAME", "billing-wfc");
    let server = Server::spawn(command, "flow.wf", &[]);
    let (status, _) = server.http("POST", "/workflows/w/runs", Some("{}"), None);
    assert_eq!(status, 202);
    wait_for(Duration::from_secs(10), || {
        received
            .lock()
            .unwrap()
            .spans
            .iter()
            .any(|s| s.name == "workflow w")
    });
    server.stop();
    let received = received.lock().unwrap();
    assert!(received.spans.iter().any(|s| s.name == "step r"));
    assert!(received.services.iter().all(|s| s == "billing-wfc"));
    let out = project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "w",
            "--otlp",
            "ftp://nowhere",
        ])
        .expect_code(2);
    assert!(
        out.stderr.contains("not an http:// or https:// address"),
        "{}",
        out.stderr
    );
}
