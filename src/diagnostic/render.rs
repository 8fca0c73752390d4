//! Turning diagnostics into text: miette's graphical report for people, JSON lines
//! for machines.

use super::{Diagnostic, Label};
use crate::source::{floor_char_boundary, SourceFile, Sources, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity};
use std::fmt;
use std::sync::Arc;

/// Renders one diagnostic as a report; `color` picks the themed or the plain style.
pub fn report(diagnostic: &Diagnostic, sources: &Sources, color: bool, width: usize) -> String {
    render(&Located::new(diagnostic, sources), color, width)
}

/// Renders a report that is no check diagnostic (a test expectation that did not
/// hold): `title` stands where a code would.
pub fn titled(
    title: &str,
    message: &str,
    labels: &[Label],
    sources: &Sources,
    color: bool,
    width: usize,
) -> String {
    let parts = Parts {
        code: title.to_string(),
        message,
        severity: Severity::Error,
        help: None,
        labels,
    };
    render(&Located::from_parts(parts, sources), color, width)
}

/// What a report shows, from a diagnostic or from a caller with no code.
struct Parts<'a> {
    code: String,
    message: &'a str,
    severity: Severity,
    help: Option<&'a String>,
    labels: &'a [Label],
}

fn render(located: &Located, color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = handler.render_report(&mut out, located);
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
    source: Excerpt,
    labels: Vec<LabeledSpan>,
    related: Vec<Located>,
}

impl Located {
    fn new(diagnostic: &Diagnostic, sources: &Sources) -> Self {
        let parts = Parts {
            code: diagnostic.code.to_string(),
            message: &diagnostic.message,
            severity: diagnostic.severity(),
            help: diagnostic.help.as_ref(),
            labels: &diagnostic.labels,
        };
        Located::from_parts(parts, sources)
    }

    fn from_parts(parts: Parts<'_>, sources: &Sources) -> Self {
        let primary = parts.labels[0].span.file;
        let here: Vec<Span> = parts
            .labels
            .iter()
            .map(|l| l.span)
            .filter(|s| s.file == primary)
            .collect();
        let (source, map) = excerpt(sources.get(primary), &here);
        let mut labels = Vec::new();
        let mut related = Vec::new();
        for (i, label) in parts.labels.iter().enumerate() {
            let message = Some(label.message.clone());
            if label.span.file == primary {
                let span = map.span(label.span);
                labels.push(if i == 0 {
                    LabeledSpan::new_primary_with_span(message, span)
                } else {
                    LabeledSpan::new_with_span(message, span)
                });
            } else {
                let file = sources.get(label.span.file);
                let (source, map) = excerpt(file, &[label.span]);
                related.push(Located {
                    code: String::new(),
                    message: format!("see {}", file.name),
                    severity: Severity::Advice,
                    help: None,
                    source,
                    labels: vec![LabeledSpan::new_with_span(message, map.span(label.span))],
                    related: Vec::new(),
                });
            }
        }
        Located {
            code: parts.code,
            message: parts.message.to_string(),
            severity: parts.severity,
            help: parts.help.cloned(),
            source,
            labels,
            related,
        }
    }
}

/// The longest stretch of one line a report shows, in bytes. miette lays out a whole
/// line under each label, which fails on very long lines (it panics past about 65,000
/// columns), so a longer labelled line is cut to a window around its labels.
const MAX_LINE: usize = 240;
/// How much of a cut line is shown before the first label on it.
const LEAD: usize = 60;
const CUT: &str = "…";

/// The text miette renders for `file`: the file itself, or, when a labelled line or
/// a line shown around one is longer than [`MAX_LINE`], a copy in which each such
/// line is cut to a window (around its first label, else at its start). Line numbers
/// stay the same, and the map turns file offsets into the copy's.
fn excerpt(file: &SourceFile, spans: &[Span]) -> (Excerpt, OffsetMap) {
    let text = &file.text;
    let starts = file.line_starts();
    let line_of = |offset: usize| {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = starts.partition_point(|&start| start <= offset) - 1;
        let end = starts.get(line + 1).map_or(text.len(), |next| next - 1);
        (starts[line], end)
    };
    // Line start → (line end, the first label on it).
    let mut lines: std::collections::BTreeMap<usize, (usize, Option<usize>)> = Default::default();
    for span in spans {
        for offset in [span.start, span.end] {
            let (start, end) = line_of(offset);
            let entry = lines.entry(start).or_insert((end, None));
            let first = entry.1.map_or(offset, |o| o.min(offset));
            entry.1 = Some(first.min(end));
            // The context lines miette shows around a label.
            if start > 0 {
                let (before, before_end) = line_of(start - 1);
                lines.entry(before).or_insert((before_end, None));
            }
            if end < text.len() {
                let (after, after_end) = line_of(end + 1);
                lines.entry(after).or_insert((after_end, None));
            }
        }
    }
    let mut windows = Vec::new();
    for (line_start, (line_end, label)) in lines {
        if line_end - line_start <= MAX_LINE {
            continue;
        }
        let lead = label.map_or(line_start, |o| o.saturating_sub(LEAD).max(line_start));
        let from = floor_char_boundary(text, lead);
        let to = floor_char_boundary(text, (from + MAX_LINE).min(line_end));
        windows.push(Window {
            line_start,
            line_end,
            from,
            to,
            shift: 0,
        });
    }
    if windows.is_empty() {
        let source = NamedSource::new(&file.name, text.clone());
        return (
            Excerpt {
                source,
                starts: starts.clone(),
                columns: Vec::new(),
            },
            OffsetMap::default(),
        );
    }
    let mut copy = String::new();
    let mut copied = 0;
    let mut columns = Vec::new();
    for window in &mut windows {
        copy.push_str(&text[copied..window.line_start]);
        let copy_line_start = copy.len();
        let mut skipped = window.from - window.line_start;
        if window.from > window.line_start {
            copy.push_str(CUT);
            skipped -= CUT.len().min(skipped);
        }
        // Where the window's first byte lands in the copy.
        window.shift = copy.len() as isize - window.from as isize;
        copy.push_str(&text[window.from..window.to]);
        if window.to < window.line_end {
            copy.push_str(CUT);
        }
        columns.push((copy_line_start..copy.len(), skipped));
        copied = window.line_end;
    }
    copy.push_str(&text[copied..]);
    let starts = crate::source::line_starts(&copy).into();
    let source = NamedSource::new(&file.name, Arc::from(copy));
    (
        Excerpt {
            source,
            starts,
            columns,
        },
        OffsetMap { windows },
    )
}

/// What miette reads: the file or its cut copy. For a label on a cut line, the
/// position in the report's header is the one in the file, not in the copy.
struct Excerpt {
    source: NamedSource<Arc<str>>,
    /// Where each of its lines starts: a span is read from a few lines before it,
    /// not from the start of the text (a file with thousands of diagnostics
    /// would be scanned once for each).
    starts: Arc<[usize]>,
    /// Each cut line's range in the copy, and how many more bytes precede a column
    /// on it in the file than in the copy.
    columns: Vec<(std::ops::Range<usize>, usize)>,
}

impl miette::SourceCode for Excerpt {
    /// The source's own `read_span`, reading from the line `before` lines above
    /// the span's; on a cut line the header's column is the one in the file.
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let skipped = match self
            .columns
            .iter()
            .find(|(range, _)| range.contains(&span.offset()))
        {
            Some((_, skipped)) if before == 0 && after == 0 => *skipped,
            _ => 0,
        };
        let text: &'a str = self.source.inner();
        let line = self.starts.partition_point(|&start| start <= span.offset());
        let first = line.saturating_sub(before + 1);
        let base = self.starts.get(first).copied().unwrap_or(0).min(text.len());
        let local = miette::SourceSpan::new((span.offset() - base).into(), span.len());
        let contents = miette::SourceCode::read_span(&text[base..], &local, before, after)?;
        let found = *contents.span();
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.source.name().to_string(),
            contents.data(),
            miette::SourceSpan::new((found.offset() + base).into(), found.len()),
            contents.line() + first,
            contents.column() + skipped,
            contents.line_count(),
        )))
    }
}

/// One cut line: the line's bounds, the part shown, and how far it moved.
struct Window {
    line_start: usize,
    line_end: usize,
    from: usize,
    to: usize,
    shift: isize,
}

/// Maps offsets of a file to offsets of its [`excerpt`].
#[derive(Default)]
struct OffsetMap {
    windows: Vec<Window>,
}

impl OffsetMap {
    fn offset(&self, offset: usize) -> usize {
        let mut shift = 0;
        for window in &self.windows {
            if offset < window.line_start {
                break;
            }
            if offset <= window.line_end {
                return (offset.clamp(window.from, window.to) as isize + window.shift) as usize;
            }
            // Past a cut line: it moved by what was cut from it.
            let shown = window.to - window.from;
            let kept = shown
                + if window.from > window.line_start {
                    CUT.len()
                } else {
                    0
                }
                + if window.to < window.line_end {
                    CUT.len()
                } else {
                    0
                };
            shift += kept as isize - (window.line_end - window.line_start) as isize;
        }
        (offset as isize + shift) as usize
    }

    fn span(&self, span: Span) -> miette::SourceSpan {
        let start = self.offset(span.start);
        let end = self.offset(span.end).max(start);
        (start, end - start).into()
    }
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
