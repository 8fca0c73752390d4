//! `GET /metrics` for a Prometheus scraper, in the text exposition format
//! (`prometheus-client`, the Prometheus project's Rust client). What this
//! process did is counted as it happens (executions started and finished,
//! step durations, tokens and cost, event lag: each worker exposes its own, and
//! Prometheus sums across them); what the store holds for every worker
//! (queued executions, breakers, firing alerts) and this process's calls in
//! flight are read at each scrape.

use super::State;
use crate::runtime::{AttemptReport, ExecutionReport, Progress};
use crate::store::{AttemptStatus, ExecutionStatus, Store};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, LazyLock};

type Labels = Vec<(&'static str, String)>;

/// The seconds a step or an event's lag is counted in: 5 ms to about 3 min.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 16))
}

/// What this process counts as it goes; one set per process, as a
/// Prometheus client's default registry is.
pub struct Instruments {
    started: Family<Labels, Counter>,
    finished: Family<Labels, Counter>,
    step_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    tokens: Family<Labels, Counter>,
    cost: Family<Labels, Counter<f64, AtomicU64>>,
    event_lag: Histogram,
}

pub static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| Instruments {
    started: Family::default(),
    finished: Family::default(),
    step_seconds: Family::new_with_constructor(seconds),
    tokens: Family::default(),
    cost: Family::default(),
    event_lag: seconds(),
});

impl Instruments {
    /// An event recorded `seconds` before the dispatcher started what it triggers.
    pub fn event_dispatched(&self, seconds: f64) {
        self.event_lag.observe(seconds.max(0.0));
    }

    fn attempt(&self, report: &AttemptReport<'_>) {
        let agent = report.start.agent.unwrap_or("").to_string();
        if report.status != AttemptStatus::Running {
            self.step_seconds
                .get_or_create(&vec![("agent", agent.clone())])
                .observe(report.duration_ms / 1000.0);
        }
        if let Some(tokens) = report.tokens {
            for (direction, count) in [("input", tokens.input), ("output", tokens.output)] {
                self.tokens
                    .get_or_create(&vec![
                        ("agent", agent.clone()),
                        ("direction", direction.into()),
                    ])
                    .inc_by(count);
            }
            if let Some(cost) = tokens.cost_usd {
                self.cost
                    .get_or_create(&vec![("agent", agent)])
                    .inc_by(cost);
            }
        }
    }
}

/// Step attempts as log lines, and every report counted.
pub struct Observed;

impl Progress for Observed {
    fn attempt_finished(&self, r: &AttemptReport<'_>) {
        INSTRUMENTS.attempt(r);
        if r.status == AttemptStatus::Completed {
            tracing::info!(
                execution = r.start.execution_id,
                workflow = r.start.workflow,
                step = r.start.step,
                agent = r.start.agent,
                attempt = r.start.attempt,
                ms = r.duration_ms as u64,
                "step completed"
            );
        } else {
            tracing::warn!(
                execution = r.start.execution_id,
                workflow = r.start.workflow,
                step = r.start.step,
                agent = r.start.agent,
                attempt = r.start.attempt,
                ms = r.duration_ms as u64,
                status = %r.status,
                error = r.error,
                "step failed"
            );
        }
    }

    fn execution_started(&self, report: &ExecutionReport<'_>) {
        INSTRUMENTS
            .started
            .get_or_create(&vec![("workflow", report.workflow.to_string())])
            .inc();
    }

    fn execution_finished(&self, report: &ExecutionReport<'_>, status: ExecutionStatus) {
        INSTRUMENTS
            .finished
            .get_or_create(&vec![
                ("workflow", report.workflow.to_string()),
                ("status", status.as_str().to_string()),
            ])
            .inc();
    }
}

/// The exposition of everything, counted and read now.
pub fn exposition(state: &State, store: &Store) -> crate::store::Result<String> {
    let mut registry = Registry::with_prefix("wfc");
    let counted = &*INSTRUMENTS;
    registry.register(
        "executions_started",
        "Executions that began running in this process (a resumed one again), by workflow",
        counted.started.clone(),
    );
    registry.register(
        "executions_finished",
        "Executions that ran in this process and ended, by workflow and status",
        counted.finished.clone(),
    );
    registry.register(
        "step_duration_seconds",
        "How long step attempts took in this process, by agent",
        counted.step_seconds.clone(),
    );
    registry.register(
        "agent_tokens",
        "Language-model tokens this process's calls used, by agent and direction",
        counted.tokens.clone(),
    );
    registry.register(
        "agent_cost_usd",
        "What this process's language-model calls cost in US dollars, by agent",
        counted.cost.clone(),
    );
    registry.register(
        "event_lag_seconds",
        "From an event's recording to this process starting what it triggers",
        counted.event_lag.clone(),
    );

    let in_flight = Family::<Labels, Gauge>::default();
    let capacity = Family::<Labels, Gauge>::default();
    let breakers = Family::<Labels, Gauge>::default();
    let rows = store.breakers()?;
    for engine in state.engines() {
        for agent in engine.program().agents() {
            let name = vec![("agent", agent.name.clone())];
            in_flight
                .get_or_create(&name)
                .set(engine.in_flight(&agent.name) as i64);
            if let Some(limit) = agent.capacity {
                capacity.get_or_create(&name).set(limit.get() as i64);
            }
            if agent.breaker.is_some() {
                let now = rows
                    .iter()
                    .find(|(n, _)| *n == agent.name)
                    .map(|(_, row)| row.state)
                    .unwrap_or_default();
                for state in crate::store::BreakerState::ALL {
                    breakers
                        .get_or_create(&vec![
                            ("agent", agent.name.clone()),
                            ("state", state.as_str().to_string()),
                        ])
                        .set(i64::from(state == now));
                }
            }
        }
    }
    registry.register(
        "agent_calls_in_flight",
        "Calls under way in this process, by agent",
        in_flight,
    );
    registry.register(
        "agent_capacity",
        "An agent's declared capacity (calls at once across every worker)",
        capacity,
    );
    registry.register(
        "breaker_state",
        "1 for each agent's breaker's current state (shared by every worker)",
        breakers,
    );
    let queued = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
    queued.set(store.count_queued()? as i64);
    registry.register(
        "executions_queued",
        "Executions waiting for a worker to claim them (every worker's store)",
        queued,
    );
    let firing = store.firing_alerts()?;
    let alerts = Family::<Labels, Gauge>::default();
    for engine in state.engines() {
        for alert in &engine.program().alerts {
            alerts
                .get_or_create(&vec![("alert", alert.name.clone())])
                .set(i64::from(firing.contains(&alert.name)));
        }
    }
    registry.register("alert_firing", "1 while an alert is firing", alerts);

    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &registry);
    Ok(text)
}

/// The OpenMetrics text as Prometheus's older text format (`text/plain;
/// version=0.0.4`): a counter's family named with its `_total`, no `# EOF`.
pub fn as_text_format(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# TYPE ", "# HELP "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Whether a request's `Accept` asks for an exposition format rather than JSON.
pub fn wants_exposition(accept: Option<&str>) -> Option<Exposition> {
    let accept = accept?.to_ascii_lowercase();
    if accept.contains("application/openmetrics-text") {
        Some(Exposition::OpenMetrics)
    } else if accept.contains("text/plain") {
        Some(Exposition::Text)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    OpenMetrics,
    Text,
}

impl Exposition {
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Exposition::Text => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// What every served engine reports to.
pub fn observed() -> Arc<dyn Progress> {
    crate::telemetry::traced(Arc::new(Observed))
}
