//! The checker's diagnostics as LSP diagnostics: the same code and message as
//! `wfc check`, the primary label's range, the other labels as related
//! information (in whichever file they are), the help appended.

use super::position::LineIndex;
use super::Analysis;
use crate::diagnostic::Diagnostic;
use crate::source::{Sources, Span};
use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString};
use miette::Severity;

/// What the check of a root found in the root file itself.
pub fn of_root(analysis: &Analysis) -> Vec<lsp_types::Diagnostic> {
    let root = super::ROOT;
    let sources = &analysis.loaded.sources;
    analysis
        .checked
        .diagnostics
        .iter()
        .filter(|d| d.span().file == root)
        .map(|d| convert(d, sources))
        .collect()
}

fn convert(diagnostic: &Diagnostic, sources: &Sources) -> lsp_types::Diagnostic {
    let primary = &diagnostic.labels[0];
    let mut message = format!("{} ({})", diagnostic.message, primary.message);
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<_> = diagnostic.labels[1..]
        .iter()
        .filter_map(|label| {
            Some(DiagnosticRelatedInformation {
                location: location(label.span, sources)?,
                message: label.message.clone(),
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range: range(primary.span, sources),
        severity: Some(match diagnostic.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Advice => DiagnosticSeverity::HINT,
        }),
        code: Some(NumberOrString::String(diagnostic.code.to_string())),
        source: Some("wfc".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}

pub fn range(span: Span, sources: &Sources) -> lsp_types::Range {
    LineIndex::of(sources.get(span.file)).range(span.start, span.end)
}

pub fn location(span: Span, sources: &Sources) -> Option<Location> {
    let file = sources.get(span.file);
    let uri = match &file.pinned {
        None => super::uri_of(&file.path)?,
        Some(pinned) => super::uri_of(&super::pinned_copy(pinned, &file.text)?)?,
    };
    Some(Location::new(uri, range(span, sources)))
}
