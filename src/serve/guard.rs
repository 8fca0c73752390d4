//! What keeps other sites out of the API, whatever a browser on the same machine
//! visits:
//! - a request's `Host` must name this server: an address, `localhost`, or a name
//!   given with `--allowed-host`; a page whose name an attacker made resolve to
//!   this machine (DNS rebinding) is refused, since its requests carry that name;
//! - a request that changes anything (any method but GET and HEAD) from a browser
//!   must come from this server's own origin: a browser says where a request
//!   comes from in `Origin` (and `Sec-Fetch-Site`), so a page on another port or
//!   host is refused whether or not it holds the sign-in cookie, which browsers
//!   send to every port of a host. A request without them (curl, scripts) is
//!   judged by the token alone;
//! - every answer forbids framing and allows a page only this server's own
//!   scripts, styles and connections (`Content-Security-Policy`).

use super::http::ApiError;
use axum::extract::{Request, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// The pages' policy: nothing inline, nothing from elsewhere, never in a
/// frame. A page may allow `<style>` elements carrying a nonce it made for
/// that answer alone (the dashboard's editor styles itself with one).
pub fn policy(style_nonce: Option<&str>) -> String {
    let style = match style_nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}'"),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src {style}; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The names besides addresses and `localhost` that requests may give as `Host`.
#[derive(Debug, Default)]
pub struct Hosts {
    /// Lower-case, each a name or `name:port`.
    allowed: Vec<String>,
}

impl Hosts {
    pub fn new(allowed: &[String]) -> Hosts {
        Hosts {
            allowed: allowed
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
        }
    }

    /// Why `host` (a `Host` header's value) does not name this server, if it does not.
    fn refuses(&self, host: Option<&str>) -> Option<String> {
        let Some(host) = host else {
            return Some("the request has no Host header".into());
        };
        let authority: axum::http::uri::Authority = match host.parse() {
            Ok(authority) => authority,
            Err(_) => return Some(format!("`Host: {}` is not a host", shown(host))),
        };
        let name = authority.host().to_ascii_lowercase();
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        let known = bare.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || self.allowed.iter().any(|allowed| {
                *allowed == name || *allowed == authority.as_str().to_ascii_lowercase()
            });
        (!known).then(|| {
            format!(
                "`Host: {}` does not name this server; start it with `--allowed-host {}` to serve that name",
                shown(host),
                shown(&name)
            )
        })
    }
}

/// Refuses a request for another host or, when it would change something, from
/// another origin; adds the headers that keep every answer out of other pages.
pub async fn guard(Shared(hosts): Shared<Arc<Hosts>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let refusal = match hosts.refuses(host) {
        Some(why) => Some(ApiError::new(StatusCode::BAD_REQUEST, why)),
        None if !matches!(*request.method(), Method::GET | Method::HEAD) => {
            cross_site(headers, host.unwrap_or_default())
                .map(|why| ApiError::new(StatusCode::FORBIDDEN, why))
        }
        None => None,
    };
    let mut response = match refusal {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::try_from(policy(None)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: with it, a browser sends `Origin: null` on the page's
    // own form posts (the sign-in), which would then be refused.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Why a state-changing request is not from this server's own pages, if it is
/// not: an `Origin` other than `http(s)://{host}`, or `Sec-Fetch-Site` saying it
/// came from another site or another port of this one.
fn cross_site(headers: &HeaderMap, host: &str) -> Option<String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let own = ["http://", "https://"].iter().any(|scheme| {
            origin
                .strip_prefix(scheme)
                .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
        });
        if !own {
            return Some(format!(
                "a request from `{}` may not change anything here: only this server's own pages may",
                shown(origin)
            ));
        }
    }
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    match site {
        "same-origin" | "none" => None,
        other => Some(format!(
            "a {} request may not change anything here: only this server's own pages may",
            shown(other)
        )),
    }
}

/// A header value as quoted in a message: its start, at most 100 characters.
fn shown(text: &str) -> String {
    text.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_addresses_localhost_or_allowed_names() {
        let hosts = Hosts::new(&["wfc.example.com".into(), "Ops.Example:8443".into()]);
        for host in [
            "127.0.0.1:7878",
            "[::1]:7878",
            "10.0.0.5",
            "localhost:7878",
            "LOCALHOST",
            "wfc.example.com",
            "wfc.example.com:443",
            "ops.example:8443",
        ] {
            assert_eq!(hosts.refuses(Some(host)), None, "{host}");
        }
        for host in [
            "attacker.example:7878",
            "ops.example:9000",
            "localhost.evil",
            "a b",
        ] {
            assert!(hosts.refuses(Some(host)).is_some(), "{host}");
        }
        assert!(hosts.refuses(None).is_some());
    }

    #[test]
    fn only_this_servers_origin_may_change_anything() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_str(value).unwrap());
            }
            map
        };
        let host = "127.0.0.1:7878";
        assert_eq!(cross_site(&headers(&[]), host), None, "curl");
        assert_eq!(
            cross_site(
                &headers(&[
                    ("origin", "http://127.0.0.1:7878"),
                    ("sec-fetch-site", "same-origin")
                ]),
                host
            ),
            None
        );
        for refused in [
            headers(&[("origin", "http://127.0.0.1:8000")]),
            headers(&[("origin", "http://localhost:7878")]),
            headers(&[("origin", "null")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("sec-fetch-site", "cross-site")]),
        ] {
            assert!(cross_site(&refused, host).is_some(), "{refused:?}");
        }
    }
}
