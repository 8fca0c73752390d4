//! The language server's answers for an editor that is not a language client:
//! the dashboard's, which sends a file's whole text with each question over
//! the HTTP API (`POST /complete`, `POST /hover`). The same code answers as
//! in `wfc lsp`, positions counted the same way (lines and UTF-16 units, as
//! a browser's strings count them), so the two editors never disagree.

use super::position::LineIndex;
use super::Analysis;
use crate::diagnostic::Diagnostic;
use crate::source::Sources;
use lsp_types::Position;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

/// `text` checked in place of the file at `path` (which need not exist yet),
/// as a root with its imports; `None` when it cannot be loaded at all.
pub fn analyse(path: &Path, text: &str) -> Option<Analysis> {
    let open = HashMap::from([(crate::loader::canonical(path), text.to_string())]);
    let (loaded, checked) = crate::check_overlaid(path, open).ok()?;
    Some(Analysis { loaded, checked })
}

/// What completion offers at `at` in `text`. Names come from `analysis`,
/// or from `fallback` (the file as saved) while the text is half typed and
/// its declarations do not parse.
pub fn complete(
    text: &str,
    at: Position,
    analysis: Option<&Analysis>,
    fallback: Option<&Analysis>,
) -> Value {
    let names = analysis
        .filter(|a| a.root_parsed())
        .or(fallback)
        .or(analysis);
    let offset = LineIndex::new(text).offset(at);
    json!({ "items": super::completion::complete(text, offset, names) })
}

/// The hover at `at` in `text` (`null` on nothing that has one).
pub fn hover(text: &str, at: Position, analysis: &Analysis) -> Value {
    let offset = LineIndex::new(text).offset(at);
    super::navigation::hover(analysis, offset)
}

/// Where `diagnostic` is, as the language server reports it: a range in lines
/// and UTF-16 units of the file its span is in.
pub fn range(diagnostic: &Diagnostic, sources: &Sources) -> Value {
    json!(super::diagnostics::range(diagnostic.span(), sources))
}
