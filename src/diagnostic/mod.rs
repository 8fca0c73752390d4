//! Diagnostics as data: every problem the loader, parser or checker finds is one
//! [`Diagnostic`]; nothing stops at the first. Rendering lives in [`render`].

mod code;
pub mod render;

pub use code::Code;

use crate::source::Span;
use miette::Severity;

/// One problem: a stable code, a message, labelled spans and optional help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// The first label is the primary one; its file is the diagnostic's file.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic whose primary label is `label` at `span`.
    pub fn new(
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            labels: vec![Label {
                span,
                message: label.into(),
            }],
            help: None,
        }
    }

    /// Adds a secondary label, e.g. the other side of a disagreement.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help only when there is one (e.g. a did-you-mean that found nothing).
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn span(&self) -> Span {
        self.labels[0].span
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// "`x` is set twice": a property given twice in one declaration.
pub fn set_twice(property: &str, again: Span, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateProperty,
        again,
        format!("`{property}` is set twice"),
        "set again here",
    )
    .with_label(first, "first set here")
    .with_help(format!("keep one `{property}`"))
}

/// Sorts diagnostics into reading order: by file, then position, then code.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| {
        let span = d.span();
        (span.file, span.start, span.end, d.code)
    });
}
