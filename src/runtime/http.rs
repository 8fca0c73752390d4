//! Calling an HTTP agent once: its input as a JSON body (query parameters for
//! GET), its headers evaluated over the input, the response read up to a cap and
//! parsed as JSON. Each way of failing is its own error kind, so retry policies
//! and breakers can tell a refused request from a service that is down.

use super::agent::{AgentCall, ComputeScope, Failure};
use super::error::ErrorKind;
use super::secrets::{HeaderScope, Secrets};
use super::subprocess::MAX_STDOUT;
use crate::ast::HttpMethod;
use crate::program::HttpRequest;
use serde_json::Value;
use std::sync::OnceLock;
use std::time::Duration;

/// Redirects followed before the call fails (a request carrying secrets follows
/// only those within its origin).
pub const MAX_REDIRECTS: usize = 5;
/// How long connecting may take, within the call's own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an error response a failure message quotes.
const QUOTED: usize = 300;

/// POSTs `body` to `url` as JSON (an alert's webhook): the status of a 2xx
/// answer, or what went wrong.
pub async fn post_json(url: &url::Url, body: &Value, timeout: Duration) -> Result<u16, String> {
    let client = client(false).map_err(|failure| failure.message)?;
    let response = client
        .post(url.clone())
        .json(body)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let status = response.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err(format!("HTTP {status}"))
    }
}

/// The shared client. One that sends secrets follows redirects only within the
/// origin it was sent to: a header such as `X-Api-Key` would otherwise go on to
/// whatever host a service redirects to (reqwest drops only `Authorization`).
pub(super) fn client(sends_secrets: bool) -> Result<&'static reqwest::Client, Failure> {
    static ANY_ORIGIN: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    static SAME_ORIGIN: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let cell = if sends_secrets {
        &SAME_ORIGIN
    } else {
        &ANY_ORIGIN
    };
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        let first = attempt.previous().first().map(url::Url::origin);
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if sends_secrets && first.is_some_and(|origin| origin != attempt.url().origin()) {
            let message = format!(
                "refused a redirect to another origin ({}): the request carries secrets",
                attempt.url().origin().ascii_serialization()
            );
            attempt.error(message)
        } else {
            attempt.follow()
        }
    });
    cell.get_or_init(|| {
        install_tls();
        reqwest::Client::builder()
            .redirect(policy)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Failure::new(ErrorKind::Connect, format!("cannot set up HTTP: {e}")))
}

pub async fn call(request: &HttpRequest, call: &AgentCall<'_>) -> Result<Value, Failure> {
    let secrets = Secrets::read(&call.agent.body);
    let sent = send(request, call, &secrets).await;
    secrets.redact_result(sent)
}

async fn send(
    request: &HttpRequest,
    call: &AgentCall<'_>,
    secrets: &Secrets,
) -> Result<Value, Failure> {
    let client = client(secrets.sends_any())?;
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
        for (name, value) in scope.strings(headers, "header", &call.agent.name)? {
            builder = builder.header(name, value);
        }
    }
    exchange(builder, &request.url, call.timeout).await
}

/// Sends a request and reads its JSON answer within `timeout`, each way of
/// failing its own kind.
pub(super) async fn exchange(
    builder: reqwest::RequestBuilder,
    url: &url::Url,
    timeout: Option<Duration>,
) -> Result<Value, Failure> {
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
    match timeout {
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
        let why = std::error::Error::source(error).map_or(error.to_string(), ToString::to_string);
        return Failure::new(ErrorKind::Failed, format!("{url}: {why}"));
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

/// Makes ring the process's TLS provider, before any HTTP client is built
/// (agents', the trace exporter's): the one provider built in; a second
/// install is a no-op.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
