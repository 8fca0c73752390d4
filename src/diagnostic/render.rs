//! Turning diagnostics into text: miette's graphical report for people, JSON lines
//! for machines.

use super::Diagnostic;
use crate::source::{SourceFile, Sources};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity};
use std::fmt;
use std::sync::Arc;

/// Renders one diagnostic as a report; `color` picks the themed or the plain style.
pub fn report(diagnostic: &Diagnostic, sources: &Sources, color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width);
    let mut out = String::new();
    let located = Located::new(diagnostic, sources);
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, &located);
    out
}

/// One diagnostic as a JSON object: code, severity, message, file, line, column,
/// byte span, help and the labels.
pub fn json(diagnostic: &Diagnostic, sources: &Sources) -> serde_json::Value {
    let span = diagnostic.span();
    let file = sources.get(span.file);
    let (line, column) = file.line_column(span.start);
    let labels: Vec<_> = diagnostic
        .labels
        .iter()
        .map(|label| {
            let label_file = sources.get(label.span.file);
            let (line, column) = label_file.line_column(label.span.start);
            serde_json::json!({
                "file": label_file.name,
                "line": line,
                "column": column,
                "span": { "start": label.span.start, "end": label.span.end },
                "message": label.message,
            })
        })
        .collect();
    serde_json::json!({
        "code": diagnostic.code.to_string(),
        "severity": severity_name(diagnostic.severity()),
        "message": diagnostic.message,
        "file": file.name,
        "line": line,
        "column": column,
        "span": { "start": span.start, "end": span.end },
        "help": diagnostic.help,
        "labels": labels,
    })
}

pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Advice => "advice",
    }
}

/// A diagnostic bound to its file's text, as miette wants it. Labels that point into
/// another file (a clash across imports) become related notes carrying that file.
struct Located {
    code: String,
    message: String,
    severity: Severity,
    help: Option<String>,
    source: NamedSource<Arc<str>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Located>,
}

impl Located {
    fn new(diagnostic: &Diagnostic, sources: &Sources) -> Self {
        let primary = diagnostic.span().file;
        let mut labels = Vec::new();
        let mut related = Vec::new();
        for (i, label) in diagnostic.labels.iter().enumerate() {
            let labeled = if i == 0 {
                LabeledSpan::new_primary_with_span(Some(label.message.clone()), label.span)
            } else {
                LabeledSpan::new_with_span(Some(label.message.clone()), label.span)
            };
            if label.span.file == primary {
                labels.push(labeled);
            } else {
                let file = sources.get(label.span.file);
                related.push(Located {
                    code: String::new(),
                    message: format!("see {}", file.name),
                    severity: Severity::Advice,
                    help: None,
                    source: named(file),
                    labels: vec![labeled],
                    related: Vec::new(),
                });
            }
        }
        Located {
            code: diagnostic.code.to_string(),
            message: diagnostic.message.clone(),
            severity: diagnostic.severity(),
            help: diagnostic.help.clone(),
            source: named(sources.get(primary)),
            labels,
            related,
        }
    }
}

fn named(file: &SourceFile) -> NamedSource<Arc<str>> {
    NamedSource::new(&file.name, file.text.clone())
}

impl fmt::Debug for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Located {}

impl miette::Diagnostic for Located {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}
