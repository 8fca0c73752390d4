//! What `wfc test` prints: a line per test and a summary, the failed expectations as
//! reports pointing at them, or JUnit XML for CI systems.

use super::Outcome;
use crate::diagnostic::{render, Label};
use crate::duration::human;
use crate::source::Sources;
use std::fmt::Write;

/// One line per test: `ok`/`FAILED`, its name, real and virtual time.
pub fn line(outcome: &Outcome, sources: &Sources) -> String {
    let file = &sources.get(outcome.span.file).name;
    let verdict = if outcome.passed() { "ok" } else { "FAILED" };
    format!(
        "{verdict:<6} {file}: {} ({}, {} virtual)",
        outcome.name,
        human(outcome.real_time),
        human(outcome.virtual_time)
    )
}

/// Each failure of a test as a report at the expectation it breaks.
pub fn failures(outcome: &Outcome, sources: &Sources, color: bool, width: usize) -> String {
    let mut out = String::new();
    for failure in &outcome.failures {
        let label = Label {
            span: failure.span,
            message: if failure.span == outcome.span {
                "this test".into()
            } else {
                "does not hold".into()
            },
        };
        let title = format!("test failed: {}", outcome.name);
        out.push_str(&render::titled(
            &title,
            &failure.message,
            &[label],
            sources,
            color,
            width,
        ));
    }
    out
}

/// `N passed, N failed`.
pub fn summary(outcomes: &[Outcome]) -> String {
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    format!("{passed} passed, {} failed", outcomes.len() - passed)
}

/// JUnit XML around the `testsuite` elements of [`junit_suites`].
pub fn junit_document(suites: &[String]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for suite in suites {
        xml.push_str(suite);
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// The outcomes of one loaded program as JUnit `testsuite` elements, one per file.
pub fn junit_suites(outcomes: &[Outcome], sources: &Sources) -> String {
    let mut files: Vec<&str> = Vec::new();
    for outcome in outcomes {
        let file = sources.get(outcome.span.file).name.as_str();
        if !files.contains(&file) {
            files.push(file);
        }
    }
    let mut xml = String::new();
    for file in files {
        let mine: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| sources.get(o.span.file).name == file)
            .collect();
        let failed = mine.iter().filter(|o| !o.passed()).count();
        let time: f64 = mine.iter().map(|o| o.real_time.as_secs_f64()).sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" time=\"{time:.3}\">",
            escape(file),
            mine.len()
        );
        for outcome in mine {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(file),
                escape(&outcome.name),
                outcome.real_time.as_secs_f64()
            );
            if outcome.passed() {
                xml.push_str("/>\n");
                continue;
            }
            // One `failure` per test case, as JUnit readers expect: the first
            // problem as its message, every problem with its place as its text.
            let lines: Vec<String> = outcome
                .failures
                .iter()
                .map(|failure| {
                    let file = sources.get(failure.span.file);
                    let (line, column) = file.line_column(failure.span.start);
                    format!("{}:{line}:{column}: {}", file.name, failure.message)
                })
                .collect();
            let first = outcome.failures.first().map_or("", |f| f.message.as_str());
            let _ = writeln!(
                xml,
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                escape(first),
                escape(&lines.join("\n"))
            );
        }
        xml.push_str("  </testsuite>\n");
    }
    xml
}

/// Text made safe for XML attributes and content; characters XML 1.0 cannot carry
/// at all are replaced.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn xml_is_escaped() {
        assert_eq!(
            escape("a<\"b\"> & 'c'\u{1}"),
            "a&lt;&quot;b&quot;&gt; &amp; &apos;c&apos;\u{FFFD}"
        );
    }
}
