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
/// the sign-in page is styled before signing in. `editor.js` is the definition
/// editor's bundle (CodeMirror 6 and `web/src`), built by `web/build` and
/// committed, with the notices of the packages in it; `skeleton.wf` is what
/// "New workflow" starts from.
pub const ASSETS: [(&str, &str, &str); 6] = [
    (
        "/dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/dashboard.js"),
    ),
    (
        "/editor.js",
        "text/javascript; charset=utf-8",
        include_str!("dashboard/editor.js"),
    ),
    (
        "/editor-licenses.txt",
        "text/plain; charset=utf-8",
        include_str!("dashboard/editor-licenses.txt"),
    ),
    ("/skeleton.wf", "text/plain; charset=utf-8", SKELETON),
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

/// The page, its script elements carrying a nonce made for this answer alone
/// and allowed by its policy for styles: the editor reads it from there and
/// puts it on the one `<style>` element it makes.
pub async fn index() -> Response {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let page = INDEX.replace(NONCE, &nonce);
    let mut response = Html(page).into_response();
    if let Ok(policy) = HeaderValue::try_from(super::guard::policy(Some(&nonce))) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// Where the page's nonce goes.
const NONCE: &str = "%NONCE%";

/// The skeleton of a new workflow, `{name}` standing for its name.
pub const SKELETON: &str = include_str!("dashboard/skeleton.wf");

/// One of [`ASSETS`], with a strong ETag of its content: a browser asks again
/// each time (`no-cache`) and gets 304 while it has the same bytes.
pub fn asset(path: &str, headers: &HeaderMap) -> Option<Response> {
    let (_, kind, body) = ASSETS.iter().find(|(at, _, _)| *at == path)?;
    let tag = format!("\"{}\"", crate::source::git_blob_id(body.as_bytes()));
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| given.split(',').any(|t| t.trim() == tag));
    let fixed = [
        (header::CONTENT_TYPE, *kind),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    let mut response = if cached {
        (StatusCode::NOT_MODIFIED, fixed).into_response()
    } else {
        (fixed, *body).into_response()
    };
    if let Ok(tag) = HeaderValue::try_from(tag) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    Some(response)
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
