//! OpenTelemetry traces (`--otlp URL` on `wfc run`, `wfc resume` and `wfc
//! serve`, or the standard `OTEL_EXPORTER_OTLP_ENDPOINT`): each execution is a
//! span, its step attempts are spans under it, and a sub-workflow's execution
//! is a span under its parent's, all in one trace. Exported over OTLP/HTTP
//! (protobuf) by the opentelemetry crates' batch processor, on a thread of its
//! own.
//!
//! Ids come from the executions, so every process that runs part of one (a
//! resume, a takeover, a child) adds to the same trace: the trace id is the
//! root execution's UUID, an execution's span id the UUID's last eight bytes.
//! Spans carry names, statuses, timings, error messages (already redacted) and
//! token counts; never inputs, outputs, prompts or keys. Language-model calls
//! carry the `gen_ai.*` semantic-convention attributes.

use crate::runtime::{AttemptReport, ExecutionReport, Progress, StartReport};
use crate::store::{AttemptStatus, ExecutionStatus};
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SdkTracerProvider};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// Why traces cannot be exported as asked.
#[derive(Debug, thiserror::Error)]
#[error("cannot export traces to `{endpoint}`: {reason}")]
pub struct TelemetryError {
    endpoint: String,
    reason: String,
}

/// The exporter of this process, once set up.
static TRACES: OnceLock<Traces> = OnceLock::new();

struct Traces {
    provider: SdkTracerProvider,
    tracer: opentelemetry_sdk::trace::SdkTracer,
}

/// Sets up exporting to `endpoint` (an OTLP/HTTP base such as
/// `http://collector:4318`, or its `/v1/traces`), or to the standard
/// environment's when none is given; nothing when neither names one.
pub fn start(endpoint: Option<&str>) -> Result<(), TelemetryError> {
    let from_env = [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
    let Some(base) = endpoint.map(str::to_string).or(from_env) else {
        return Ok(());
    };
    let failed = |reason: String| TelemetryError {
        endpoint: base.clone(),
        reason,
    };
    let parsed = url::Url::parse(&base).map_err(|e| failed(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(failed("it is not an http:// or https:// address".into()));
    }
    let url = if parsed.path().ends_with("/v1/traces") {
        parsed.to_string()
    } else {
        format!("{}/v1/traces", parsed.as_str().trim_end_matches('/'))
    };
    use opentelemetry_otlp::WithExportConfig;
    crate::runtime::install_tls();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .with_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "wfc".into());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_id_generator(ExecutionIds)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service)
                .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        )
        .build();
    let tracer = provider.tracer("wfc");
    let _ = TRACES.set(Traces { provider, tracer });
    Ok(())
}

/// `progress`, its reports also made into spans when traces are exported.
pub fn traced(progress: Arc<dyn Progress>) -> Arc<dyn Progress> {
    if TRACES.get().is_none() {
        return progress;
    }
    Arc::new(Traced {
        inner: progress,
        open: Mutex::default(),
    })
}

/// Sends what is still buffered and stops the exporter (at the end of a command).
pub fn shutdown() {
    if let Some(traces) = TRACES.get() {
        if let Err(error) = traces.provider.shutdown() {
            tracing::warn!(%error, "traces not all exported");
        }
    }
}

thread_local! {
    /// The ids the next span built on this thread takes (see [`ExecutionIds`]).
    static NEXT: Cell<Option<(Option<TraceId>, SpanId)>> = const { Cell::new(None) };
}

/// Ids as this module chooses them for the span being built, random otherwise:
/// the SDK takes ids only from its generator.
#[derive(Debug)]
struct ExecutionIds;

impl IdGenerator for ExecutionIds {
    fn new_trace_id(&self) -> TraceId {
        NEXT.with(|next| next.get().and_then(|(trace, _)| trace))
            .unwrap_or_else(|| RandomIdGenerator::default().new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        NEXT.with(|next| next.get().map(|(_, span)| span))
            .unwrap_or_else(|| RandomIdGenerator::default().new_span_id())
    }
}

/// The 16 bytes of an execution's UUID.
fn uuid_bytes(id: &str) -> [u8; 16] {
    uuid::Uuid::parse_str(id).map_or([0; 16], |u| *u.as_bytes())
}

fn span_of(id: &str) -> SpanId {
    let bytes = uuid_bytes(id);
    let mut last = [0; 8];
    last.copy_from_slice(&bytes[8..]);
    SpanId::from_bytes(last)
}

/// An execution running here: when it began and the trace it is in.
struct Open {
    began: SystemTime,
    trace: TraceId,
    parent: Option<String>,
    workflow: String,
}

struct Traced {
    inner: Arc<dyn Progress>,
    /// By execution id; an entry lives while its execution runs here.
    open: Mutex<HashMap<String, Open>>,
}

impl Traced {
    fn context(trace: TraceId, span: SpanId) -> Context {
        Context::new().with_remote_span_context(SpanContext::new(
            trace,
            span,
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ))
    }

    /// The trace and span an attempt of execution `id` goes under.
    fn under(&self, id: &str) -> (TraceId, SpanId) {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let trace = open
            .get(id)
            .map_or_else(|| TraceId::from_bytes(uuid_bytes(id)), |o| o.trace);
        (trace, span_of(id))
    }
}

impl Progress for Traced {
    fn attempt_started(&self, report: &StartReport<'_>) {
        self.inner.attempt_started(report);
    }

    fn attempt_finished(&self, report: &AttemptReport<'_>) {
        self.inner.attempt_finished(report);
        let Some(traces) = TRACES.get() else { return };
        let end = SystemTime::now();
        let began = end - Duration::from_secs_f64(report.duration_ms.max(0.0) / 1000.0);
        let start = &report.start;
        let mut attributes = vec![
            KeyValue::new("wfc.execution.id", start.execution_id.to_string()),
            KeyValue::new("wfc.workflow", start.workflow.to_string()),
            KeyValue::new("wfc.step", start.step.to_string()),
            KeyValue::new("wfc.attempt", i64::from(start.attempt)),
            KeyValue::new("wfc.status", report.status.as_str()),
        ];
        if let Some(agent) = start.agent {
            attributes.push(KeyValue::new("wfc.agent", agent.to_string()));
        }
        let mut name = format!("step {}", start.step);
        if let Some(model) = report.model {
            name = format!("chat {model}");
            attributes.extend([
                KeyValue::new("gen_ai.operation.name", "chat"),
                KeyValue::new("gen_ai.provider.name", "openai"),
                KeyValue::new("gen_ai.request.model", model.to_string()),
            ]);
            if let Some(tokens) = report.tokens {
                attributes.extend([
                    KeyValue::new("gen_ai.usage.input_tokens", tokens.input as i64),
                    KeyValue::new("gen_ai.usage.output_tokens", tokens.output as i64),
                ]);
                if let Some(cost) = tokens.cost_usd {
                    attributes.push(KeyValue::new("wfc.cost_usd", cost));
                }
            }
        }
        let status = match report.status {
            AttemptStatus::Completed => Status::Ok,
            _ => Status::error(report.error.unwrap_or(report.status.as_str()).to_string()),
        };
        let (trace, parent) = self.under(start.execution_id);
        let mut span = traces.tracer.build_with_context(
            traces
                .tracer
                .span_builder(name)
                .with_kind(if report.model.is_some() {
                    SpanKind::Client
                } else {
                    SpanKind::Internal
                })
                .with_start_time(began)
                .with_attributes(attributes),
            &Self::context(trace, parent),
        );
        span.set_status(status);
        span.end_with_timestamp(end);
    }

    fn execution_started(&self, report: &ExecutionReport<'_>) {
        self.inner.execution_started(report);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        // A child is in its parent's trace; a root (or a child whose parent
        // runs elsewhere) in its own.
        let trace = report
            .parent
            .and_then(|parent| open.get(parent).map(|o| o.trace))
            .unwrap_or_else(|| TraceId::from_bytes(uuid_bytes(report.parent.unwrap_or(report.id))));
        open.insert(
            report.id.to_string(),
            Open {
                began: SystemTime::now(),
                trace,
                parent: report.parent.map(str::to_string),
                workflow: report.workflow.to_string(),
            },
        );
    }

    fn execution_finished(&self, report: &ExecutionReport<'_>, status: ExecutionStatus) {
        self.inner.execution_finished(report, status);
        let Some(traces) = TRACES.get() else { return };
        let Some(open) = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(report.id)
        else {
            return;
        };
        let attributes = vec![
            KeyValue::new("wfc.execution.id", report.id.to_string()),
            KeyValue::new("wfc.workflow", open.workflow.clone()),
            KeyValue::new("wfc.status", status.as_str()),
        ];
        let parent = match &open.parent {
            Some(parent) => Self::context(open.trace, span_of(parent)),
            None => Context::new(),
        };
        let builder = traces
            .tracer
            .span_builder(format!("workflow {}", open.workflow))
            .with_start_time(open.began)
            .with_attributes(attributes);
        NEXT.with(|next| next.set(Some((Some(open.trace), span_of(report.id)))));
        let mut span = traces.tracer.build_with_context(builder, &parent);
        NEXT.with(|next| next.set(None));
        span.set_status(match status {
            ExecutionStatus::Completed => Status::Ok,
            other => Status::error(other.as_str()),
        });
        span.end();
    }
}
