//! `GET /metrics` as Prometheus scrapes it, read back with a Prometheus text
//! parser (`prometheus-parse`): executions by workflow and status, step
//! durations by agent, calls in flight against capacity, breakers, queued
//! executions, event lag, alerts, tokens and cost; the token unless
//! `--metrics-public`; JSON for everyone else.

use crate::server::Server;
use crate::support::{wait_for, Project};
use prometheus_parse::{Sample, Scrape, Value as Metric};
use std::time::Duration;

fn flow(base: &str) -> String {
    format!(
        r#"
breaker careful {{ open_after 3 failures within 1m cool_down 1m }}
agent double {{ input {{ n: number }} output {{ n: number }} compute {{ n: input.n * 2 }} capacity 4 breaker careful }}
trigger go {{ manual }}
trigger arrived {{ on event "order.placed" }}
metric orders {{ unit "orders" }}
workflow twice {{ on go input {{ n: number }} steps {{ r = double({{ n: input.n }}) }} output r record orders = 1 }}
workflow on_order {{ on arrived steps {{ r = double({{ n: 1 }}) }} output r }}
workflow ask {{ on go input {{ score: number }} steps {{ a = analyst({{ score: input.score }}) }} output a }}
alert orders_seen {{ when failures(twice) >= 0 within 1h notify webhook "{base}/hooks" }}
"#
    ) + &crate::llm_agents::analyst(base, "analyst", "plain:prometheus", "")
}

/// `GET /metrics` with `accept`, and the token if given: status, content type, body.
fn scrape(server: &Server, accept: &str, token: Option<&str>) -> (String, String, String) {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let answer = server.raw_text(&format!(
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAccept: {accept}\r\n{auth}Connection: close\r\n\r\n",
        server.port
    ));
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("").to_string();
    let kind = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or("")
        .to_string();
    (status, kind, body.to_string())
}

fn parse(body: &str) -> Vec<Sample> {
    Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus's text format")
        .samples
}

fn value(samples: &[Sample], metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => *v,
            Metric::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Metric::Summary(_) => f64::NAN,
        })
}

#[test]
fn a_scraper_reads_what_the_server_did_in_prometheus_text() {
    let (base, _) = crate::http_agents::serve();
    let project = Project::new("prometheus_scrape").file("flow.wf", &flow(&base));
    let mut command = project.command();
    command.env("OPENAI_API_KEY", crate::llm_agents::KEY);
    let server = Server::spawn(command, "flow.wf", &["--token", "t"]);
    let token = Some("t");
    for n in [1, 2] {
        let (status, _) = server.http(
            "POST",
            "/workflows/twice/runs",
            Some(&format!("{{\"n\": {n}}}")),
            token,
        );
        assert_eq!(status, 202);
    }
    let (status, _) = server.http("POST", "/workflows/ask/runs", Some("{\"score\": 7}"), token);
    assert_eq!(status, 202);
    let (status, _) = server.http("POST", "/events/order.placed", Some("{}"), token);
    assert_eq!(status, 202);
    // A JSON client (and the dashboard, which sends no Accept) still gets the samples.
    let (status, kind, body) = scrape(&server, "*/*", token);
    assert_eq!(status, "200");
    assert!(kind.starts_with("application/json"), "{kind}");
    assert!(body.contains("\"metrics\""), "{body}");
    // Without the token a scraper is refused.
    assert_eq!(scrape(&server, "text/plain", None).0, "401");

    let mut samples = Vec::new();
    wait_for(Duration::from_secs(10), || {
        let (status, kind, body) = scrape(&server, "text/plain;version=0.0.4", token);
        assert_eq!(status, "200");
        assert_eq!(kind, "text/plain; version=0.0.4; charset=utf-8");
        assert!(!body.contains("# EOF"));
        samples = parse(&body);
        value(&samples, "wfc_executions_finished_total", &[("workflow", "on_order"), ("status", "completed")]) == Some(1.0)
            && value(&samples, "wfc_executions_finished_total", &[("workflow", "ask"), ("status", "completed")]) == Some(1.0)
            // Alerts are evaluated once a second.
            && value(&samples, "wfc_alert_firing", &[("alert", "orders_seen")]) == Some(1.0)
    });
    let at = |metric: &str, labels: &[(&str, &str)]| {
        value(&samples, metric, labels)
            .unwrap_or_else(|| panic!("{metric} {labels:?} in {samples:#?}"))
    };
    assert_eq!(
        at("wfc_executions_started_total", &[("workflow", "twice")]),
        2.0
    );
    assert_eq!(
        at(
            "wfc_executions_finished_total",
            &[("workflow", "twice"), ("status", "completed")]
        ),
        2.0
    );
    // Three calls of `double` (two runs and the event's), one of the model.
    assert_eq!(at("wfc_step_duration_seconds", &[("agent", "double")]), 3.0);
    assert_eq!(
        at("wfc_step_duration_seconds", &[("agent", "analyst")]),
        1.0
    );
    assert_eq!(
        at(
            "wfc_agent_tokens_total",
            &[("agent", "analyst"), ("direction", "input")]
        ),
        120.0
    );
    assert_eq!(
        at(
            "wfc_agent_tokens_total",
            &[("agent", "analyst"), ("direction", "output")]
        ),
        30.0
    );
    let cost = at("wfc_agent_cost_usd_total", &[("agent", "analyst")]);
    assert!(cost > 0.0, "{cost}");
    assert_eq!(at("wfc_agent_capacity", &[("agent", "double")]), 4.0);
    assert_eq!(at("wfc_agent_calls_in_flight", &[("agent", "double")]), 0.0);
    assert_eq!(
        at(
            "wfc_breaker_state",
            &[("agent", "double"), ("state", "closed")]
        ),
        1.0
    );
    assert_eq!(
        at(
            "wfc_breaker_state",
            &[("agent", "double"), ("state", "open")]
        ),
        0.0
    );
    assert_eq!(at("wfc_executions_queued", &[]), 0.0);
    assert_eq!(
        at("wfc_event_lag_seconds", &[]),
        1.0,
        "one event dispatched"
    );
    assert_eq!(at("wfc_alert_firing", &[("alert", "orders_seen")]), 1.0);

    // OpenMetrics, as Prometheus asks first.
    let (status, kind, body) = scrape(
        &server,
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        token,
    );
    assert_eq!(status, "200");
    assert!(
        kind.starts_with("application/openmetrics-text; version=1.0.0"),
        "{kind}"
    );
    assert!(body.trim_end().ends_with("# EOF"), "{body}");
    assert!(
        body.contains("# TYPE wfc_executions_started counter"),
        "{body}"
    );
    server.stop();
}

#[test]
fn metrics_public_opens_the_exposition_and_nothing_else() {
    let project = Project::new("prometheus_public").file(
        "flow.wf",
        "agent a { compute { ok: true } }\ntrigger go { manual }\nworkflow w { on go steps { r = a({}) } output r }\n",
    );
    let server = Server::start(&project, &["--token", "t", "--metrics-public"]);
    let (status, _, body) = scrape(&server, "text/plain", None);
    assert_eq!(status, "200", "{body}");
    assert!(parse(&body)
        .iter()
        .any(|s| s.metric == "wfc_executions_queued"));
    assert_eq!(scrape(&server, "application/json", None).0, "401");
    let (status, _) = server.http("GET", "/executions", None, None);
    assert_eq!(status, 401);
    server.stop();
}
