//! Calling an HTTP agent once: its input as a JSON body (query parameters for
//! GET), its headers evaluated over the input, the response read up to a cap and
//! parsed as JSON. Each way of failing is its own error kind, so retry policies
//! and breakers can tell a refused request from a service that is down.

use super::agent::{AgentCall, ComputeScope, Failure};
use super::error::ErrorKind;
use super::eval;
use super::subprocess::MAX_STDOUT;
use crate::ast::HttpMethod;
use crate::program::HttpRequest;
use serde_json::Value;
use std::sync::OnceLock;
use std::time::Duration;

/// Redirects followed before the call fails (credentials are not sent on to
/// another host: the client drops them on a cross-origin redirect).
pub const MAX_REDIRECTS: usize = 5;
/// How long connecting may take, within the call's own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an error response a failure message quotes.
const QUOTED: usize = 300;

fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // ring is the one TLS provider built in; a second install is a no-op.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
                .connect_timeout(CONNECT_TIMEOUT)
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

pub async fn call(request: &HttpRequest, call: &AgentCall<'_>) -> Result<Value, Failure> {
    let secrets = Secrets::read(request);
    // A service may echo a credential back, in an error or in its answer: none
    // reaches a message, the store or a screen.
    match send(request, call, &secrets).await {
        Ok(value) => Ok(secrets.redact_value(value)),
        Err(failure) => Err(Failure {
            message: secrets.redact(&failure.message),
            ..failure
        }),
    }
}

async fn send(
    request: &HttpRequest,
    call: &AgentCall<'_>,
    secrets: &Secrets,
) -> Result<Value, Failure> {
    let client = client()
        .map_err(|e| Failure::new(ErrorKind::Connect, format!("cannot set up HTTP: {e}")))?;
    let method = match request.method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
    };
    let mut target = request.url.clone();
    let mut builder = match request.method {
        HttpMethod::Get => {
            target.query_pairs_mut().extend_pairs(query(call.input));
            client.request(method, target)
        }
        _ => client.request(method, target).json(call.input),
    };
    if let Some(headers) = &request.headers {
        let scope = HeaderScope {
            compute: ComputeScope(call.input, call.clock),
            secrets,
        };
        let headers = eval::eval(headers, &scope).map_err(|e| {
            Failure::new(
                ErrorKind::Expression,
                format!("headers of `{}`: {}", call.agent.name, e.message),
            )
        })?;
        for (name, value) in headers.as_object().into_iter().flatten() {
            let Some(value) = value.as_str() else {
                let message = format!("header `{name}` is {}, not a string", eval::describe(value));
                return Err(Failure::new(ErrorKind::Expression, message));
            };
            builder = builder.header(name.as_str(), value);
        }
    }
    let url = &request.url;
    let exchange = async {
        let response = builder.send().await.map_err(|e| sent_error(&e, url))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_capped(response, url).await?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                Failure::new(
                    ErrorKind::InvalidOutput,
                    format!("the response of {url} is not JSON: {e}"),
                )
            });
        }
        let quoted = String::from_utf8_lossy(&body[..body.len().min(QUOTED)]).into_owned();
        let message = format!("{url} answered {status}: {}", quoted.trim());
        let kind = match status.as_u16() {
            429 => ErrorKind::RateLimited,
            400..=499 => ErrorKind::Http4xx,
            500..=599 => ErrorKind::Http5xx,
            _ => ErrorKind::Failed,
        };
        Err(Failure {
            retry_after: retry_after.filter(|_| kind == ErrorKind::RateLimited),
            ..Failure::new(kind, message)
        })
    };
    match call.timeout {
        Some(limit) => tokio::time::timeout(limit, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(Failure::new(
                    ErrorKind::Timeout,
                    format!(
                        "{url} did not answer within {}",
                        crate::duration::human(limit)
                    ),
                ))
            }),
        None => exchange.await,
    }
}

/// The secrets an agent's headers read, with their values.
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn read(request: &HttpRequest) -> Secrets {
        let names = request
            .headers
            .as_ref()
            .map(crate::program::secret_names)
            .unwrap_or_default();
        let values = names
            .into_iter()
            .filter_map(|name| std::env::var(&name).ok().map(|value| (name, value)))
            .filter(|(_, value)| !value.is_empty())
            .collect();
        Secrets(values)
    }

    fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (name, value) in &self.0 {
            text = text.replace(value, &format!("[secret {name}]"));
        }
        text
    }

    fn redact_value(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.redact(&s)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (self.redact(&k), self.redact_value(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// What headers see: the call's input and time, and the agent's secrets.
struct HeaderScope<'a> {
    compute: ComputeScope<'a>,
    secrets: &'a Secrets,
}

impl eval::Scope for HeaderScope<'_> {
    fn input(&self) -> &Value {
        self.compute.input()
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.compute.get(name)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.compute.now()
    }

    fn secret(&self, name: &str) -> Option<String> {
        let found = self.secrets.0.iter().find(|(n, _)| n == name);
        found.map(|(_, value)| value.clone())
    }
}

/// GET's input as query parameters: each field of an object, strings as they are,
/// other values as JSON text; `null` fields left out.
fn query(input: &Value) -> Vec<(String, String)> {
    input
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// The response body, refused past [`MAX_STDOUT`] bytes as an agent's output is.
async fn read_capped(mut response: reqwest::Response, url: &url::Url) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::new(
            ErrorKind::InvalidOutput,
            format!(
                "the response of {url} is larger than {} MiB",
                MAX_STDOUT >> 20
            ),
        )
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_STDOUT as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| sent_error(&e, url))? {
        if body.len() + chunk.len() > MAX_STDOUT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn sent_error(error: &reqwest::Error, url: &url::Url) -> Failure {
    if error.is_timeout() {
        return Failure::new(ErrorKind::Timeout, format!("{url} timed out: {error}"));
    }
    if error.is_redirect() {
        let message = format!("{url} redirected more than {MAX_REDIRECTS} times");
        return Failure::new(ErrorKind::Failed, message);
    }
    if error.is_builder() || error.is_request() && !error.is_connect() {
        return Failure::new(ErrorKind::Failed, format!("cannot send to {url}: {error}"));
    }
    // The source chain says why (refused, DNS, TLS).
    let mut why = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        why.push_str(": ");
        why.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure::new(ErrorKind::Connect, format!("cannot reach {url}: {why}"))
}
