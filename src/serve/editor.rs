//! Editing the served `.wf` files over HTTP, for the dashboard's definition
//! editor. The same checker as `wfc check` and `wfc lsp` answers, so an editor
//! and the server never disagree:
//! - `GET /files`: every served file (roots and their working-tree imports)
//!   with its git blob id; `GET /files/{path}`: one, with its text;
//! - `POST /check` `{"path", "text"}`: the diagnostics of that text in place
//!   of the file (`wfc check --format json` objects), with its imports;
//! - `POST /diff` `{"path", "text"}`: the unified diff from the file on disk;
//! - `PUT /files/{path}` `{"text", "blob", "draft"?}` (only with `wfc serve
//!   --edit`, which needs a token: a file can declare `run [...]` agents):
//!   refused with 409 and both texts when the file changed since it was
//!   opened (its blob differs), with 422 and the diagnostics when the text
//!   does not check (`"draft": true` keeps it beside the file as `.draft`,
//!   never served); otherwise written atomically and served at once, and
//!   when the file is tracked in a git repository, committed alone (`author`,
//!   `email`, `message` from the body; other staged changes stay as they are).

use super::http::{json_body, ApiError, ApiResult};
use super::State;
use crate::lsp::Analysis;
use crate::source::git_blob_id;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// A file the server serves and may edit: as listed, on disk, and the served
/// files whose programs read it.
struct Editable {
    name: String,
    path: PathBuf,
    /// The served files whose programs read it.
    roots: Vec<PathBuf>,
    /// Whether it is itself a served file (not only imported).
    served: bool,
    /// Whether it is on disk: "New workflow" names a file to create.
    exists: bool,
}

/// Every working-tree file of the served programs, by the name it is listed
/// with (the root's name as served, an import's as the loader names it).
fn editable(state: &State) -> Vec<Editable> {
    let served = state.served.read().unwrap_or_else(|e| e.into_inner());
    let mut files: Vec<Editable> = Vec::new();
    for entry in served.iter() {
        for (id, file) in entry.engine.sources().iter() {
            if file.pinned.is_some() {
                continue;
            }
            // The loader reads the served file first.
            let root = id == crate::source::FileId(0);
            match files.iter_mut().find(|f| f.path == file.path) {
                Some(known) => {
                    known.roots.push(entry.path.clone());
                    known.served |= root;
                }
                None => files.push(Editable {
                    name: file.name.clone(),
                    path: file.path.clone(),
                    roots: vec![entry.path.clone()],
                    served: root,
                    exists: true,
                }),
            }
        }
    }
    files
}

fn find(state: &State, name: &str) -> Result<Editable, ApiError> {
    let files = editable(state);
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    files.into_iter().find(|f| f.name == name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "`{name}` is not a file this server serves{}",
                crate::text::unknown_tail(name, &names)
            ),
        )
    })
}

/// A served file, or a new one: a `.wf` name (relative to the server's
/// directory, without `..`) of a file not on disk, in a served file's directory.
fn find_or_new(state: &State, name: &str) -> Result<Editable, ApiError> {
    let missing = match find(state, name) {
        Ok(file) => return Ok(file),
        Err(missing) => missing,
    };
    let relative = std::path::Path::new(name);
    let plain = relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain || relative.extension().is_none_or(|e| e != "wf") {
        return Err(missing);
    }
    let file = Editable {
        name: name.to_string(),
        path: crate::loader::canonical(relative),
        roots: Vec::new(),
        served: false,
        exists: false,
    };
    if file.path.exists() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("`{name}` exists but is not served: give it to `wfc serve` to edit it here"),
        ));
    }
    if !under_served_roots(state, &file) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "a new file goes in the directory of a served file, and `{name}` is not in one"
            ),
        ));
    }
    Ok(file)
}

/// Whether `file` lies in the directory of a served file (or below it): an
/// import from elsewhere (`../../shared.wf`) is read, never written.
fn under_served_roots(state: &State, file: &Editable) -> bool {
    let served = state.served.read().unwrap_or_else(|e| e.into_inner());
    served.iter().any(|entry| {
        let root = entry
            .path
            .canonicalize()
            .unwrap_or_else(|_| entry.path.clone());
        root.parent().is_some_and(|dir| file.path.starts_with(dir))
    })
}

/// The file's text on disk (empty for a new file).
fn read(file: &Editable) -> Result<String, ApiError> {
    if !file.exists {
        return Ok(String::new());
    }
    std::fs::read_to_string(&file.path).map_err(|error| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("`{}` cannot be read now: {error}", file.name),
        )
    })
}

pub(super) async fn list(Shared(state): Shared<Arc<State>>) -> ApiResult {
    let files: Vec<Value> = editable(&state)
        .iter()
        .map(|file| {
            let blob = std::fs::read(&file.path).ok().map(|b| git_blob_id(&b));
            json!({ "path": file.name, "blob": blob, "root": file.served })
        })
        .collect();
    Ok(Json(json!({ "files": files, "editable": state.edit })).into_response())
}

/// `GET /language`: the words an editor highlights, from the grammar.
pub(super) async fn language() -> ApiResult {
    Ok(Json(json!({ "keywords": crate::syntax::words() })).into_response())
}

pub(super) async fn get(Shared(state): Shared<Arc<State>>, Path(name): Path<String>) -> ApiResult {
    let file = find(&state, &name)?;
    let text = read(&file)?;
    Ok(
        Json(json!({ "path": file.name, "text": text, "blob": git_blob_id(text.as_bytes()) }))
            .into_response(),
    )
}

/// `path` and `text` of a body.
fn path_and_text(body: &Value) -> Result<(String, String), ApiError> {
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("the body needs `{name}` as a string"),
                )
            })
    };
    Ok((field("path")?, field("text")?))
}

/// The diagnostics of `text` in place of `file`, from each served program
/// that reads it (a new file: as a program of its own), as `wfc check
/// --format json` gives them, each with its `range` as the language server
/// reports it; the file's own first.
async fn diagnostics(file: &Editable, text: String) -> Result<Vec<Value>, ApiError> {
    let roots = if file.roots.is_empty() {
        vec![PathBuf::from(&file.name)]
    } else {
        file.roots.clone()
    };
    let mut found: Vec<Value> = Vec::new();
    for root in roots {
        let open = HashMap::from([(file.path.clone(), text.clone())]);
        let checked = tokio::task::spawn_blocking(move || crate::check_overlaid(&root, open)).await;
        let Ok(Ok((loaded, checked))) = checked else {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the file could not be checked",
            ));
        };
        for diagnostic in &checked.diagnostics {
            let mut line = crate::diagnostic::render::json(diagnostic, &loaded.sources);
            line["range"] = crate::lsp::remote::range(diagnostic, &loaded.sources);
            if !found.contains(&line) {
                found.push(line);
            }
        }
    }
    // The file's own first: what an editor marks in it.
    found.sort_by_key(|d| d["file"] != file.name.as_str());
    Ok(found)
}

fn has_errors(diagnostics: &[Value]) -> bool {
    diagnostics.iter().any(|d| d["severity"] == "error")
}

pub(super) async fn check(
    Shared(state): Shared<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let (name, text) = path_and_text(&json_body(body)?)?;
    let file = find_or_new(&state, &name)?;
    let found = diagnostics(&file, text).await?;
    Ok(Json(json!({ "path": file.name, "diagnostics": found })).into_response())
}

/// The body of `POST /complete` and `POST /hover`: a file's whole text as
/// the editor has it, and the cursor in lines and UTF-16 units (as the
/// language server counts them).
#[derive(serde::Deserialize)]
struct Cursor {
    path: String,
    text: String,
    line: u32,
    character: u32,
}

fn cursor(body: Result<Bytes, BytesRejection>) -> Result<Cursor, ApiError> {
    serde_json::from_value(json_body(body)?).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body needs `path`, `text`, `line` and `character`: {error}"),
        )
    })
}

/// The file's text analysed as `wfc lsp` analyses an open document, and the
/// file as saved (completion's names while the text is half typed).
async fn analyses(
    file: &Editable,
    text: &str,
) -> Result<(Option<Analysis>, Option<Analysis>), ApiError> {
    let (path, text) = (file.path.clone(), text.to_string());
    let saved = file.exists.then(|| file.path.clone());
    tokio::task::spawn_blocking(move || {
        let now = crate::lsp::remote::analyse(&path, &text);
        let before = saved
            .filter(|_| !now.as_ref().is_some_and(Analysis::root_parsed))
            .and_then(|saved| std::fs::read_to_string(&saved).ok())
            .and_then(|disk| crate::lsp::remote::analyse(&path, &disk));
        (now, before)
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the file could not be checked",
        )
    })
}

pub(super) async fn complete(
    Shared(state): Shared<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let at = cursor(body)?;
    let file = find_or_new(&state, &at.path)?;
    let (now, before) = analyses(&file, &at.text).await?;
    let position = lsp_types::Position::new(at.line, at.character);
    let answer = crate::lsp::remote::complete(&at.text, position, now.as_ref(), before.as_ref());
    Ok(Json(answer).into_response())
}

pub(super) async fn hover(
    Shared(state): Shared<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let at = cursor(body)?;
    let file = find_or_new(&state, &at.path)?;
    let (now, _) = analyses(&file, &at.text).await?;
    let position = lsp_types::Position::new(at.line, at.character);
    let answer = now.map_or(Value::Null, |now| {
        crate::lsp::remote::hover(&at.text, position, &now)
    });
    Ok(Json(json!({ "hover": answer })).into_response())
}

pub(super) async fn diff(
    Shared(state): Shared<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let (name, text) = path_and_text(&json_body(body)?)?;
    let file = find_or_new(&state, &name)?;
    let disk = read(&file)?;
    let diff = similar::TextDiff::from_lines(&disk, &text)
        .unified_diff()
        .header(
            &format!("{} (on disk)", file.name),
            &format!("{} (edited)", file.name),
        )
        .to_string();
    Ok(Json(json!({ "path": file.name, "diff": diff })).into_response())
}

pub(super) async fn save(
    Shared(state): Shared<Arc<State>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    if !state.edit {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this server does not edit files: start it with `wfc serve --edit` (and a token)",
        ));
    }
    let body = json_body(body)?;
    let text = body.get("text").and_then(Value::as_str);
    // The blob of the file as it was opened; null for a file to create.
    let opened = match body.get("blob") {
        Some(Value::String(blob)) => Some(Some(blob.as_str())),
        Some(Value::Null) => Some(None),
        _ => None,
    };
    let (Some(text), Some(opened)) = (text, opened) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the body needs `text` and `blob` (the blob of the file as it was opened, \
             null for a new file)",
        ));
    };
    let draft = body.get("draft").and_then(Value::as_bool).unwrap_or(false);
    let file = find_or_new(&state, &name)?;
    if !under_served_roots(&state, &file) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "`{}` is outside the directories of the served files: the editor reads it but \
                 does not write it",
                file.name
            ),
        ));
    }
    let disk = read(&file)?;
    let on_disk = file.exists.then(|| git_blob_id(disk.as_bytes()));
    if on_disk.as_deref() != opened {
        return Ok(conflict(&file, disk, on_disk, text));
    }
    let found = diagnostics(&file, text.to_string()).await?;
    if has_errors(&found) && !draft {
        let answer = json!({
            "error": format!("`{}` does not check: it is not served; save it as a draft \
                              to keep it", file.name),
            "diagnostics": found,
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(answer)).into_response());
    }
    let (target, served) = if has_errors(&found) {
        let mut draft = file.path.clone().into_os_string();
        draft.push(".draft");
        (PathBuf::from(draft), false)
    } else {
        (file.path.clone(), true)
    };
    // A file created meanwhile is not overwritten: the same conflict.
    let replace = file.exists || !served;
    match write_atomically(&target, text, replace) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let disk = std::fs::read_to_string(&target).unwrap_or_default();
            let blob = git_blob_id(disk.as_bytes());
            return Ok(conflict(&file, disk, Some(blob), text));
        }
        Err(error) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot write `{}`: {error}", target.display()),
            ))
        }
        Ok(()) => {}
    }
    if served && !file.exists {
        if let Err(error) = serve_new(&state, &file) {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": error })),
            )
                .into_response());
        }
    }
    let committed = if served {
        super::dispatch::reload(&state);
        commit(&file, text, &body)
    } else {
        Err("a draft is not committed".to_string())
    };
    tracing::info!(file = %target.display(), served, commit = ?committed.as_ref().ok(),
        "saved from the editor");
    Ok(Json(json!({
        "path": file.name,
        "written": target.display().to_string(),
        "blob": git_blob_id(text.as_bytes()),
        "served": served,
        "diagnostics": found,
        "commit": committed.as_ref().ok(),
        "not_committed": committed.err(),
    }))
    .into_response())
}

/// The answer to a save over a file that changed since it was opened (or
/// was created meanwhile): 409 with both texts, nothing written.
fn conflict(
    file: &Editable,
    disk: String,
    blob: Option<String>,
    yours: &str,
) -> axum::response::Response {
    let answer = json!({
        "error": format!("`{}` changed since it was opened: nothing was written; \
                          merge your edit into the file as it is now", file.name),
        "disk": { "text": disk, "blob": blob },
        "yours": { "text": yours },
    });
    (StatusCode::CONFLICT, Json(answer)).into_response()
}

/// Serves a file the editor just created, as if given to `wfc serve`; when
/// it cannot be served (a trigger it declares cannot start its workflow), it
/// is kept as a draft instead and the reason returned.
fn serve_new(state: &State, file: &Editable) -> Result<(), String> {
    let path = PathBuf::from(&file.name);
    match super::load(&path, &state.db, &state.clock) {
        Ok(served) => {
            state
                .served
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .push(served);
            tracing::info!(file = %file.name, "serving a file created in the editor");
            Ok(())
        }
        Err(error) => {
            let mut draft = file.path.clone().into_os_string();
            draft.push(".draft");
            let kept = std::fs::rename(&file.path, &draft);
            Err(format!(
                "`{}` is not served: {error}{}",
                file.name,
                match kept {
                    Ok(()) => format!("; it is kept as `{}.draft`", file.name),
                    Err(_) => String::new(),
                }
            ))
        }
    }
}

/// Commits the saved file alone when it is in a git repository, with the
/// author and message the body gives (`author`, `email`, `message`); why
/// not, otherwise.
fn commit(file: &Editable, text: &str, body: &Value) -> Result<String, String> {
    let dir = file.path.parent().unwrap_or(std::path::Path::new("/"));
    let repo = crate::git::Repository::discover(dir).map_err(|e| e.to_string())?;
    let path = repo
        .relative(&file.path)
        .ok_or_else(|| "the file is outside its repository".to_string())?;
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::trim);
    let author = crate::git::Author {
        name: field("author")
            .filter(|a| !a.is_empty())
            .unwrap_or("wfc dashboard"),
        email: field("email")
            .filter(|e| !e.is_empty())
            .unwrap_or("wfc@localhost"),
    };
    let message = field("message")
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Edit {} in the wfc dashboard", file.name));
    repo.commit_file(&path, text, &author, &message, !file.exists)
        .map_err(|e| e.to_string())
}

/// Writes `text` to `path` so that a reader sees the old file or the new one,
/// never half of one: a temporary file beside it, synced, renamed over it
/// (without `replace`, refused when `path` exists by then).
fn write_atomically(path: &std::path::Path, text: &str, replace: bool) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    temporary.write_all(text.as_bytes())?;
    temporary.as_file().sync_all()?;
    if let Ok(metadata) = std::fs::metadata(path) {
        temporary
            .as_file()
            .set_permissions(metadata.permissions())?;
    }
    if replace {
        temporary.persist(path).map_err(|e| e.error)?;
    } else {
        temporary.persist_noclobber(path).map_err(|e| e.error)?;
    }
    Ok(())
}
