//! The dashboard `wfc serve` answers at `/`: one page of HTML, CSS and plain
//! JavaScript embedded in the binary (no build step, nothing fetched from the
//! network), reading the same JSON endpoints as any client. With a token set,
//! a browser signs in once: `POST /login` checks the token and sets it as an
//! HttpOnly cookie, which the API accepts in place of the `Authorization` header.

use axum::extract::State as Shared;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use std::sync::Arc;

use super::State;

const INDEX: &str = include_str!("dashboard/index.html");
const LOGIN: &str = include_str!("dashboard/login.html");
/// The cookie a signed-in browser sends.
pub const COOKIE: &str = "wfc_token";

pub async fn index() -> Html<&'static str> {
    Html(INDEX)
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

pub async fn login(Shared(state): Shared<Arc<State>>, Form(form): Form<Login>) -> Response {
    let Some(token) = &state.token else {
        return Redirect::to("/").into_response();
    };
    if !super::http::same(form.token.as_bytes(), token.as_bytes()) {
        return login_page(StatusCode::UNAUTHORIZED, "That is not the token.");
    }
    // Only this server's pages read it, over the same origin.
    let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", form.token);
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The token a request's cookie carries, if any.
pub fn cookie_token(headers: &axum::http::HeaderMap) -> Option<&str> {
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
