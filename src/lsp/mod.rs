//! `wfc lsp`: the checker inside the editor, as a language server over stdio.
//! Built on `lsp-server` and `lsp-types` (rust-analyzer's own, synchronous and
//! released with it): the loop below reads one message at a time, so a request is
//! answered against the state every earlier notification left.
//!
//! Every open document is checked as a root with its imports, unsaved buffers
//! taken over what is on disk (`loader::load_overlaid`); a change to any open
//! document re-checks them all, so a file that imports the one edited is
//! re-checked too.

mod completion;
mod diagnostics;
mod navigation;
mod position;
pub mod remote;
mod transport;

use crate::check::Checked;
use crate::loader::Loaded;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as notifications, Notification as _};
use lsp_types::request::{self as requests, Request as _};
use lsp_types::{
    HoverProviderCapability, OneOf, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, Uri,
};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The client closed its end of the connection.
#[derive(Debug, thiserror::Error)]
#[error("the client closed the connection")]
struct Gone;

/// Serves one client over stdin and stdout until it says `exit`.
pub fn run() -> Result<(), Error> {
    let (connection, writer, reader_failure) = transport::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Simple(true)),
        completion_provider: Some(lsp_types::CompletionOptions {
            trigger_characters: Some(vec![".".into(), ">".into()]),
            ..lsp_types::CompletionOptions::default()
        }),
        rename_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    let served = connection
        .initialize(serde_json::to_value(capabilities)?)
        .map_err(Error::from)
        .and_then(|_| {
            let mut server = Server {
                connection: &connection,
                open: HashMap::new(),
                check: None,
            };
            match server.serve() {
                // A client that closed its end has ended the session.
                Err(error) if error.is::<Gone>() => Ok(()),
                other => other,
            }
        });
    // The writer ends when the last sender is gone; what it failed to write
    // went to a client that is gone.
    drop(connection);
    let _ = writer.join();
    // Input that was not LSP stopped the reader, and is why all else ended.
    let failure = reader_failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    match failure {
        Some(error) => Err(error.into()),
        None => served,
    }
}

/// The root of a load is the first file it adds (the check takes the parsed
/// files, so `Loaded::files` is empty by then).
pub(super) const ROOT: crate::source::FileId = crate::source::FileId(0);

/// An open document and what checking it found.
struct Document {
    uri: Uri,
    text: String,
    analysis: Option<Analysis>,
    /// The latest analysis whose root parsed, while the current one's does not:
    /// a half-typed file parses to nothing, and completion wants its names.
    parsed: Option<Analysis>,
}

impl Document {
    /// The analysis to take declared names from.
    fn names(&self) -> Option<&Analysis> {
        self.parsed.as_ref().or(self.analysis.as_ref())
    }
}

impl Analysis {
    pub(crate) fn root_parsed(&self) -> bool {
        !self
            .checked
            .diagnostics
            .iter()
            .any(|d| d.code == crate::diagnostic::Code::Syntax && d.span().file == ROOT)
    }
}

/// A document checked as a root, with its imports.
pub struct Analysis {
    pub loaded: Loaded,
    pub checked: Checked,
}

struct Server<'a> {
    connection: &'a Connection,
    /// By canonical path.
    open: HashMap<PathBuf, Document>,
    /// The check under way, if one is.
    check: Option<Check>,
}

/// A check of every open document, on a thread of its own so that the server
/// reads on while it runs: a newer edit abandons it (it stops before its next
/// document, and what it found is never published) for a check of the new text.
struct Check {
    abandoned: Arc<AtomicBool>,
    found: crossbeam_channel::Receiver<Vec<(PathBuf, Option<Analysis>)>>,
}

impl Server<'_> {
    fn serve(&mut self) -> Result<(), Error> {
        loop {
            let message = match &self.check {
                Some(check) => crossbeam_channel::select! {
                    recv(self.connection.receiver) -> message => message,
                    recv(check.found) -> found => {
                        self.check = None;
                        // A check thread that died (a checker bug) publishes nothing.
                        if let Ok(found) = found {
                            self.checked(found)?;
                        }
                        continue;
                    }
                },
                None => self.connection.receiver.recv(),
            };
            let Ok(message) = message else {
                return Ok(());
            };
            match message {
                Message::Request(request) => {
                    match self.connection.handle_shutdown(&request) {
                        Ok(true) => return Ok(()),
                        Ok(false) => {}
                        // Shutdown was answered; a client that then goes away
                        // without `exit` has ended the session all the same.
                        Err(_) if request.method == requests::Shutdown::METHOD => return Ok(()),
                        Err(error) => return Err(error.into()),
                    }
                    // A request is answered against every edit before it: one
                    // that reads what checking found waits for the check under way.
                    let text_only = [requests::Completion::METHOD, requests::Formatting::METHOD];
                    if !text_only.contains(&request.method.as_str()) {
                        if let Some(check) = self.check.take() {
                            if let Ok(found) = check.found.recv() {
                                self.checked(found)?;
                            }
                        }
                    }
                    let response = self.answer(request);
                    self.send(Message::Response(response))?;
                }
                Message::Notification(notification) => {
                    let method = notification.method.clone();
                    match self.notified(notification) {
                        // A notification gets no answer: one whose parameters do
                        // not fit is dropped, and said so in a bounded line.
                        Err(error) if error.is::<serde_json::Error>() => {
                            let mut why = format!("dropped `{method}`: {error}");
                            why.truncate(crate::source::floor_char_boundary(&why, 300));
                            eprintln!("wfc lsp: {why}");
                        }
                        other => other?,
                    }
                }
                Message::Response(_) => {}
            }
        }
    }

    fn notified(&mut self, notification: Notification) -> Result<(), Error> {
        match notification.method.as_str() {
            notifications::DidOpenTextDocument::METHOD => {
                let params: lsp_types::DidOpenTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                let document = params.text_document;
                if let Some(path) = path_of(&document.uri) {
                    self.open.insert(
                        path,
                        Document {
                            uri: document.uri,
                            text: document.text,
                            analysis: None,
                            parsed: None,
                        },
                    );
                    self.recheck()?;
                }
            }
            notifications::DidChangeTextDocument::METHOD => {
                let params: lsp_types::DidChangeTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                let path = path_of(&params.text_document.uri);
                // Full sync: the last change holds the whole text.
                let text = params.content_changes.into_iter().last().map(|c| c.text);
                if let (Some(document), Some(text)) =
                    (path.and_then(|p| self.open.get_mut(&p)), text)
                {
                    document.text = text;
                    self.recheck()?;
                }
            }
            notifications::DidSaveTextDocument::METHOD => self.recheck()?,
            notifications::DidCloseTextDocument::METHOD => {
                let params: lsp_types::DidCloseTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                if let Some(path) = path_of(&params.text_document.uri) {
                    self.open.remove(&path);
                    self.publish(&params.text_document.uri, Vec::new())?;
                    self.recheck()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Starts checking every open document again, abandoning a check under way.
    fn recheck(&mut self) -> Result<(), Error> {
        if let Some(check) = self.check.take() {
            check.abandoned.store(true, Ordering::Relaxed);
        }
        let texts: HashMap<PathBuf, String> = self
            .open
            .iter()
            .map(|(path, document)| (path.clone(), document.text.clone()))
            .collect();
        let abandoned = Arc::new(AtomicBool::new(false));
        let (send, found) = crossbeam_channel::bounded(1);
        let stop = abandoned.clone();
        std::thread::Builder::new()
            .name("wfc-lsp-check".into())
            .spawn(move || {
                let mut analyses = Vec::new();
                for path in texts.keys() {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let analysis = crate::check_overlaid(path, texts.clone())
                        .ok()
                        .map(|(loaded, checked)| Analysis { loaded, checked });
                    analyses.push((path.clone(), analysis));
                }
                let _ = send.send(analyses);
            })?;
        self.check = Some(Check { abandoned, found });
        Ok(())
    }

    /// Takes what a check found and publishes what each document's own file has.
    fn checked(&mut self, found: Vec<(PathBuf, Option<Analysis>)>) -> Result<(), Error> {
        let mut published = Vec::new();
        for (path, analysis) in found {
            // A document closed since is left alone.
            let Some(document) = self.open.get_mut(&path) else {
                continue;
            };
            if analysis.as_ref().is_some_and(Analysis::root_parsed) {
                document.parsed = None;
            } else if document
                .analysis
                .as_ref()
                .is_some_and(Analysis::root_parsed)
            {
                document.parsed = document.analysis.take();
            }
            document.analysis = analysis;
            let found = document
                .analysis
                .as_ref()
                .map(diagnostics::of_root)
                .unwrap_or_default();
            published.push((document.uri.clone(), found));
        }
        for (uri, found) in published {
            self.publish(&uri, found)?;
        }
        Ok(())
    }

    fn publish(&self, uri: &Uri, found: Vec<lsp_types::Diagnostic>) -> Result<(), Error> {
        let params = lsp_types::PublishDiagnosticsParams::new(uri.clone(), found, None);
        let notification = Notification::new(
            notifications::PublishDiagnostics::METHOD.to_string(),
            params,
        );
        self.send(Message::Notification(notification))
    }

    /// Sends a message; [`Gone`] when the client closed its end.
    fn send(&self, message: Message) -> Result<(), Error> {
        self.connection
            .sender
            .send(message)
            .map_err(|_| Box::new(Gone).into())
    }

    /// The answer to a request: its result, or an error saying why there is none.
    fn answer(&self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            requests::HoverRequest::METHOD => self
                .params::<lsp_types::HoverParams>(request)
                .map(|p| self.with_document(&p.text_document_position_params, navigation::hover)),
            requests::GotoDefinition::METHOD => self
                .params::<lsp_types::GotoDefinitionParams>(request)
                .map(|p| {
                    self.with_document(&p.text_document_position_params, navigation::definition)
                }),
            requests::DocumentSymbolRequest::METHOD => self
                .params::<lsp_types::DocumentSymbolParams>(request)
                .map(|p| self.document_symbols(&p.text_document.uri)),
            requests::References::METHOD => {
                self.params::<lsp_types::ReferenceParams>(request).map(|p| {
                    let with_declaration = p.context.include_declaration;
                    let found = self.references(&p.text_document_position);
                    json!(found.map(|found| found
                        .into_iter()
                        .filter(|(_, declaration)| with_declaration || !declaration)
                        .map(|(location, _)| location)
                        .collect::<Vec<_>>()))
                })
            }
            requests::Completion::METHOD => self
                .params::<lsp_types::CompletionParams>(request)
                .map(|p| json!(self.complete(&p.text_document_position))),
            requests::CodeActionRequest::METHOD => self
                .params::<lsp_types::CodeActionParams>(request)
                .map(|p| json!(code_actions(&p))),
            requests::Rename::METHOD => self
                .params::<lsp_types::RenameParams>(request)
                .and_then(|p| self.rename(id.clone(), &p.text_document_position, &p.new_name)),
            requests::WorkspaceSymbolRequest::METHOD => self
                .params::<lsp_types::WorkspaceSymbolParams>(request)
                .map(|p| self.workspace_symbols(&p.query)),
            requests::Formatting::METHOD => self
                .params::<lsp_types::DocumentFormattingParams>(request)
                .map(|p| self.formatting(&p.text_document.uri)),
            method => Err(response_error(
                id.clone(),
                ErrorCode::MethodNotFound,
                format!("wfc lsp does not answer `{method}`"),
            )),
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(response) => response,
        }
    }

    fn params<P: serde::de::DeserializeOwned>(&self, request: Request) -> Result<P, Response> {
        serde_json::from_value(request.params).map_err(|e| {
            response_error(
                request.id,
                ErrorCode::InvalidParams,
                format!("bad parameters for `{}`: {e}", request.method),
            )
        })
    }

    /// Runs `answer` on the document at `at` and the byte offset of its position;
    /// `null` for a document that is not open or did not load.
    fn with_document(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
        answer: fn(&Analysis, usize) -> serde_json::Value,
    ) -> serde_json::Value {
        let Some(document) = path_of(&at.text_document.uri).and_then(|p| self.open.get(&p)) else {
            return serde_json::Value::Null;
        };
        let Some(analysis) = &document.analysis else {
            return serde_json::Value::Null;
        };
        let offset = position::LineIndex::new(&document.text).offset(at.position);
        answer(analysis, offset)
    }

    /// Where the name at `at` is declared and used, in every open document and
    /// the files they import; `None` when the cursor is on no declared name.
    fn references(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Option<Vec<(lsp_types::Location, bool)>> {
        let document = path_of(&at.text_document.uri).and_then(|p| self.open.get(&p))?;
        let analysis = document.analysis.as_ref()?;
        let offset = position::LineIndex::new(&document.text).offset(at.position);
        let target = navigation::target(analysis, offset)?;
        let mut found: Vec<(lsp_types::Location, bool)> = Vec::new();
        for analysis in self.open.values().filter_map(|d| d.analysis.as_ref()) {
            for reference in navigation::references(analysis, &target) {
                if !found.contains(&reference) {
                    found.push(reference);
                }
            }
        }
        Some(found)
    }

    fn complete(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Vec<lsp_types::CompletionItem> {
        let Some(document) = path_of(&at.text_document.uri).and_then(|p| self.open.get(&p)) else {
            return Vec::new();
        };
        let offset = position::LineIndex::new(&document.text).offset(at.position);
        completion::complete(&document.text, offset, document.names())
    }

    /// Every reference to the name at `at` and its declaration, renamed.
    // `WorkspaceEdit` is keyed by `Uri`, whose lazily parsed parts clippy takes
    // for mutable state; its hash never changes.
    #[allow(clippy::mutable_key_type)]
    fn rename(
        &self,
        id: RequestId,
        at: &lsp_types::TextDocumentPositionParams,
        new_name: &str,
    ) -> Result<serde_json::Value, Response> {
        let valid = new_name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && new_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !crate::syntax::is_keyword(new_name);
        if !valid {
            let message =
                format!("`{new_name}` is not a name: letters, digits and `_`, not a keyword");
            return Err(response_error(id, ErrorCode::InvalidParams, message));
        }
        let Some(found) = self.references(at) else {
            let message = "there is no declared name here to rename".to_string();
            return Err(response_error(id, ErrorCode::RequestFailed, message));
        };
        let mut changes: HashMap<Uri, Vec<lsp_types::TextEdit>> = HashMap::new();
        for (location, _) in found {
            let edit = lsp_types::TextEdit::new(location.range, new_name.to_string());
            changes.entry(location.uri).or_default().push(edit);
        }
        Ok(json!(lsp_types::WorkspaceEdit::new(changes)))
    }

    /// The declarations of every open document and its imports matching `query`.
    fn workspace_symbols(&self, query: &str) -> serde_json::Value {
        let mut found: Vec<lsp_types::SymbolInformation> = Vec::new();
        for analysis in self.open.values().filter_map(|d| d.analysis.as_ref()) {
            for symbol in navigation::workspace_symbols(analysis, query) {
                if !found.iter().any(|s| s.location == symbol.location) {
                    found.push(symbol);
                }
            }
        }
        json!(found)
    }

    fn document_symbols(&self, uri: &Uri) -> serde_json::Value {
        let analysis = path_of(uri)
            .and_then(|p| self.open.get(&p))
            .and_then(|d| d.analysis.as_ref());
        match analysis {
            Some(analysis) => navigation::symbols(analysis),
            None => serde_json::Value::Null,
        }
    }

    /// One edit replacing the whole text with `wfc fmt`'s; none for a text that
    /// does not parse (as `wfc fmt` leaves such a file alone).
    fn formatting(&self, uri: &Uri) -> serde_json::Value {
        let Some(document) = path_of(uri).and_then(|p| self.open.get(&p)) else {
            return serde_json::Value::Null;
        };
        let (_, problems) = crate::syntax::parse(&document.text, crate::source::FileId(0));
        if !problems.is_empty() {
            return serde_json::Value::Null;
        }
        let formatted = crate::format::format(&document.text);
        if formatted == document.text {
            return serde_json::json!([]);
        }
        let index = position::LineIndex::new(&document.text);
        let edit = lsp_types::TextEdit::new(index.range(0, document.text.len()), formatted);
        serde_json::json!([edit])
    }
}

/// A quick fix for each of the client's diagnostics that suggests a name: the
/// name put in the diagnostic's range.
#[allow(clippy::mutable_key_type)] // as in `rename`
fn code_actions(params: &lsp_types::CodeActionParams) -> Vec<lsp_types::CodeAction> {
    params
        .context
        .diagnostics
        .iter()
        .filter(|d| d.source.as_deref() == Some("wfc"))
        .filter_map(|diagnostic| {
            let name = crate::text::suggestion(&diagnostic.message)?;
            let edit = lsp_types::TextEdit::new(diagnostic.range, name.to_string());
            let changes = HashMap::from([(params.text_document.uri.clone(), vec![edit])]);
            Some(lsp_types::CodeAction {
                title: format!("Change to `{name}`"),
                kind: Some(lsp_types::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(lsp_types::WorkspaceEdit::new(changes)),
                is_preferred: Some(true),
                ..lsp_types::CodeAction::default()
            })
        })
        .collect()
}

fn response_error(id: RequestId, code: ErrorCode, message: String) -> Response {
    Response::new_err(id, code as i32, message)
}

/// The canonical path of a `file:` URI.
fn path_of(uri: &Uri) -> Option<PathBuf> {
    let path = url::Url::parse(uri.as_str()).ok()?.to_file_path().ok()?;
    Some(path.canonicalize().unwrap_or(path))
}

/// A read-only copy of a file as committed at a revision, for an editor to
/// open (going to a definition across a pinned import): under the user's
/// cache directory, by commit and path, written once (a commit never changes).
pub(crate) fn pinned_copy(pinned: &crate::source::Pinned, text: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    let path = cache
        .join("wfc/pinned")
        .join(&pinned.commit)
        .join(&pinned.path);
    if path.is_file() {
        return Some(path);
    }
    std::fs::create_dir_all(path.parent()?).ok()?;
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text).ok()?;
    std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o444)).ok()?;
    std::fs::rename(&partial, &path).ok()?;
    Some(path)
}

/// The `file:` URI of a path.
pub(crate) fn uri_of(path: &std::path::Path) -> Option<Uri> {
    let url = url::Url::from_file_path(path).ok()?;
    Uri::from_str(url.as_str()).ok()
}
