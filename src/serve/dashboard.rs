//! The dashboard `wfc serve` answers at `/`: a page, its stylesheet and its
//! script, embedded in the binary (nothing fetched from the network; nothing
//! inline, so the page's `Content-Security-Policy` allows only these), reading
//! the same JSON endpoints as any client. With a token set, a browser signs in
//! once: `POST /login` checks the token and sets a session's id as an HttpOnly
//! cookie, which the API accepts in place of the `Authorization` header;
//! `POST /logout` ends it.

use super::http::Client;
use super::sessions;
use axum::extract::{Extension, State as Shared};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use std::sync::Arc;

use super::State;

const INDEX: &str = include_str!("dashboard/index.html");
const LOGIN: &str = include_str!("dashboard/login.html");
/// The files a page loads, by path: served to anyone (they hold no data), so
/// the sign-in page is styled before signing in.
pub const ASSETS: [(&str, &str, &str); 3] = [
    (
        "/dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/dashboard.js"),
    ),
    (
        "/dashboard.css",
        "text/css; charset=utf-8",
        include_str!("dashboard/dashboard.css"),
    ),
    (
        "/login.css",
        "text/css; charset=utf-8",
        include_str!("dashboard/login.css"),
    ),
];
/// The cookie a signed-in browser sends: a session's id, never the token.
pub const COOKIE: &str = "wfc_session";

pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// One of [`ASSETS`].
pub fn asset(path: &str) -> Option<Response> {
    let (_, kind, body) = ASSETS.iter().find(|(at, _, _)| *at == path)?;
    Some(([(header::CONTENT_TYPE, *kind)], *body).into_response())
}

/// The sign-in page, with `problem` said on it.
pub fn login_page(status: StatusCode, problem: &str) -> Response {
    let page = LOGIN.replace("<!--problem-->", &escape(problem));
    (status, Html(page)).into_response()
}

#[derive(serde::Deserialize)]
pub struct Login {
    token: String,
}

pub async fn login(
    Shared(state): Shared<Arc<State>>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    Form(form): Form<Login>,
) -> Response {
    let Some(token) = &state.token else {
        return Redirect::to("/").into_response();
    };
    if let Err(wait) = state.sessions.attempt(client.addr.ip()) {
        let seconds = wait.as_secs() + 1;
        let problem = format!("Too many sign-in attempts; try again in {seconds} s.");
        let mut page = login_page(StatusCode::TOO_MANY_REQUESTS, &problem);
        page.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return page;
    }
    if !super::http::same(form.token.as_bytes(), token.as_bytes()) {
        return login_page(StatusCode::UNAUTHORIZED, "That is not the token.");
    }
    let session = state.sessions.start();
    // `Secure` once the browser reached the server over HTTPS (through a proxy
    // that says so, or a page whose origin shows it).
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
        || headers
            .get(header::ORIGIN)
            .is_some_and(|v| v.as_bytes().starts_with(b"https://"));
    let cookie = format!(
        "{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        sessions::LIFETIME.as_secs(),
        if https { "; Secure" } else { "" }
    );
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

/// Ends the browser's session and clears its cookie.
pub async fn logout(Shared(state): Shared<Arc<State>>, headers: HeaderMap) -> Response {
    if let Some(session) = cookie_session(&headers) {
        state.sessions.end(session);
    }
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The session id a request's cookie carries, if any.
pub fn cookie_session(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
