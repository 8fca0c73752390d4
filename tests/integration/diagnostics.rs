//! One small invalid file per diagnostic code under `tests/cases/`, each with its
//! rendered report as a snapshot; checked as `wfc check --env` would where no
//! secret is set. A case with a namesake under `tests/cases/before/` is also
//! compared with it as `wfc check --against` compares a file with a revision.

use crate::support::root;
use std::collections::BTreeSet;
use std::path::Path;
use wfc::diagnostic::{render, Code};

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .expect("cases live in the repository")
        .display()
        .to_string()
}

fn render_all(path: &Path) -> (String, Vec<Code>) {
    let (loaded, mut checked) =
        wfc::check_file(Path::new(&relative(path))).expect("case file loads");
    // As `wfc check --env` sees them where no secret is set.
    if let Some(program) = &checked.program {
        let missing = wfc::check::missing_programs(program, Path::exists, |path| {
            path.strip_prefix(root())
                .unwrap_or(path)
                .display()
                .to_string()
        });
        checked.diagnostics.extend(missing);
        let unset = wfc::check::unset_secrets(program, |_| false);
        checked.diagnostics.extend(unset);
    }
    let mut loaded = loaded;
    let before = path
        .parent()
        .unwrap()
        .join("before")
        .join(path.file_name().unwrap());
    if before.exists() {
        let (then_loaded, then) = wfc::check_file(Path::new(&relative(&before))).unwrap();
        let offset = loaded
            .sources
            .append(&then_loaded.sources, |name| name.to_string());
        let moved = |span: wfc::source::Span| {
            wfc::source::Span::new(
                wfc::source::FileId(span.file.0 + offset),
                span.start,
                span.end,
            )
        };
        let breaking = wfc::check::breaking::compare(&then, &checked, "before", moved);
        checked.diagnostics.extend(breaking);
    }
    let mut text = String::new();
    for diagnostic in &checked.diagnostics {
        text.push_str(&render::report(diagnostic, &loaded.sources, false, 80));
    }
    let codes = checked.diagnostics.iter().map(|d| d.code).collect();
    (text, codes)
}

#[test]
fn every_case_reports_its_code() {
    insta::glob!("../cases", "*.wf", |path| {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let (text, codes) = render_all(path);
        assert!(
            codes.iter().any(|c| c.name() == name),
            "{name}.wf should report wf::{name}, got {codes:?}\n{text}"
        );
        insta::assert_snapshot!(text);
    });
}

#[test]
fn every_code_has_a_case() {
    let cases: BTreeSet<String> = std::fs::read_dir(root().join("tests/cases"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "wf").then(|| path.file_stem().unwrap().to_string_lossy().into())
        })
        .collect();
    let missing: Vec<_> = Code::ALL
        .iter()
        .filter(|c| !cases.contains(c.name()))
        .collect();
    assert!(missing.is_empty(), "codes without a case file: {missing:?}");
    let unknown: Vec<_> = cases
        .iter()
        .filter(|c| !Code::ALL.iter().any(|code| code.name() == c.as_str()))
        .collect();
    assert!(unknown.is_empty(), "case files naming no code: {unknown:?}");
}

#[test]
fn json_output_describes_each_diagnostic() {
    for case in ["unknown_agent", "chain_mismatch", "unreachable_workflow"] {
        let path = format!("tests/cases/{case}.wf");
        let (loaded, checked) = wfc::check_file(Path::new(&path)).unwrap();
        let lines: Vec<_> = checked
            .diagnostics
            .iter()
            .map(|d| render::json(d, &loaded.sources))
            .collect();
        insta::assert_json_snapshot!(case, lines);
    }
}

/// The one syntax error of `text`, rendered without colour.
fn syntax_report(text: &str) -> String {
    let (loaded, checked) = wfc::check_text("flow.wf", text);
    assert_eq!(checked.diagnostics.len(), 1, "{:?}", checked.diagnostics);
    render::report(&checked.diagnostics[0], &loaded.sources, false, 100)
}

#[test]
fn a_missing_brace_is_pointed_at_in_the_middle_and_at_the_end() {
    let middle =
        syntax_report("agent a {\n  compute { ok: true }\n\nagent b { compute { ok: false } }\n");
    assert!(middle.contains("this `{` is never closed"), "{middle}");
    assert!(
        middle.contains("1 │ agent a {"),
        "the label is on line 1: {middle}"
    );
    assert!(middle.contains("add the missing `}`"), "{middle}");
    let end = syntax_report("agent a {\n  compute { ok: true }\n");
    assert!(end.contains("this `{` is never closed"), "{end}");
    // At the end of the file the bracket is the message, not a list of every word
    // that could still follow.
    assert!(
        end.contains("the file ends before `{` is closed with `}`"),
        "{end}"
    );
    insta::assert_snapshot!("missing_brace_middle", middle);
    insta::assert_snapshot!("missing_brace_end", end);
    // Balanced brackets get no such label.
    let balanced = syntax_report("agent a { compute { ok: true } oops }\n");
    assert!(!balanced.contains("never closed"), "{balanced}");
}

#[test]
fn expected_keywords_are_listed_once() {
    let report = syntax_report("retry r { backoff exponentail 1s }\n");
    assert!(
        report.contains("expected `constant`, `exponential` or `linear`, found `exponentail`"),
        "{report}"
    );
}

#[test]
fn a_misplaced_yield_says_where_yield_goes() {
    let report = syntax_report(
        "trigger go { manual }\nworkflow w {\n  on go\n  steps {\n    \
         xs = for x in [1] {\n      when x > 0 { yield x }\n    }\n  }\n}\n",
    );
    assert!(report.contains("`yield`"), "{report}");
    assert!(
        report.contains("it is the last statement of the loop body"),
        "{report}"
    );
}
