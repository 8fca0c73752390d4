//! One small invalid file per diagnostic code under `tests/cases/`, each with its
//! rendered report as a snapshot.

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
    let (loaded, checked) = wfc::check_file(Path::new(&relative(path))).expect("case file loads");
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
