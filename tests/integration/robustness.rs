//! No input makes wfc panic or overflow its stack, and every input that is broken in
//! an obvious way (unbalanced brackets) gets an error. Inputs are derived from the
//! examples deterministically, so a failure reproduces.

use wfc::diagnostic::render;

fn examples() -> Vec<String> {
    let mut texts = Vec::new();
    for entry in [
        "examples/enterprise.wf",
        "examples/lib/policies.wf",
        "examples/library/approvals.wf",
    ] {
        texts.push(std::fs::read_to_string(entry).expect("example exists"));
    }
    texts
}

/// Checks `text` and renders every diagnostic; returns whether any is an error.
fn check(text: &str) -> bool {
    let (loaded, checked) = wfc::check_text("fuzz.wf", text);
    for diagnostic in &checked.diagnostics {
        for label in &diagnostic.labels {
            assert!(
                label.span.end <= text.len(),
                "span past the end: {diagnostic:?}"
            );
            assert!(
                text.is_char_boundary(label.span.start) && text.is_char_boundary(label.span.end)
            );
        }
        let report = render::report(diagnostic, &loaded.sources, false, 80);
        assert!(report.contains(&diagnostic.code.to_string()));
    }
    checked.has_errors()
}

/// Whether brackets are unbalanced outside strings and comments: such text can never
/// be valid, so it must get an error.
fn unbalanced(text: &str) -> bool {
    let mut depth: i64 = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for d in chars.by_ref() {
                    if d == '"' || d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    depth != 0
}

/// A fixed-seed xorshift generator: deterministic mutations without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn truncation_at_every_token_boundary() {
    let mut checked = 0;
    for text in examples() {
        let bytes = text.as_bytes();
        for i in 1..bytes.len() {
            let boundary = bytes[i].is_ascii_alphanumeric() != bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i].is_ascii_punctuation();
            if !boundary || !text.is_char_boundary(i) {
                continue;
            }
            let prefix = &text[..i];
            let has_error = check(prefix);
            if unbalanced(prefix) {
                assert!(has_error, "no error for truncated input:\n{prefix}");
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} truncations");
}

#[test]
fn bytes_deleted_duplicated_or_swapped() {
    let mut rng = Rng(0x5eed_cafe);
    for text in examples() {
        for round in 0..1500 {
            let mut bytes = text.clone().into_bytes();
            let i = rng.below(bytes.len() - 1);
            match round % 3 {
                0 => {
                    bytes.remove(i);
                }
                1 => bytes.insert(i, bytes[i]),
                _ => bytes.swap(i, i + 1),
            }
            let mutated = String::from_utf8_lossy(&bytes).into_owned();
            let has_error = check(&mutated);
            if unbalanced(&mutated) {
                assert!(has_error, "no error for mutated input:\n{mutated}");
            }
        }
    }
}

#[test]
fn pathological_nesting_and_sizes() {
    let wrap = |body: String| format!("agent a {{ compute {{ v: {body} }} }}");
    let cases = [
        "{".repeat(100_000),
        "[".repeat(100_000) + &"]".repeat(100_000),
        wrap("(".repeat(10_000) + "1" + &")".repeat(10_000)),
        wrap("if true then ".repeat(5_000) + "1" + &" else 2".repeat(5_000)),
        wrap("not ".repeat(100_000) + "true"),
        wrap("-".repeat(100_000) + "1"),
        wrap("1 + ".repeat(100_000) + "1"),
        wrap("input.a".to_string() + &".b".repeat(50_000)),
        format!("agent {} {{ compute {{ v: 1 }} }}", "a".repeat(1_000_000)),
        wrap("9".repeat(100_000)),
        wrap(format!("\"{}\"", "x".repeat(1_000_000))),
        "trigger t { cron \"".to_string() + &"* ".repeat(10_000) + "\" }",
        "workflow w { steps { ".to_string() + &"when true { ".repeat(60) + &"} ".repeat(60) + "} }",
        "workflow w { steps { when true { } ".to_string()
            + &"else when true { } ".repeat(20_000)
            + "} }",
        "\u{feff}agent é { }".to_string(),
        "\0\u{1}\u{7f}".to_string(),
    ];
    for (i, case) in cases.iter().enumerate() {
        let has_error = check(case);
        if i < 2 {
            assert!(has_error, "case {i} must be refused");
        }
    }
}

#[test]
fn deep_nesting_is_refused_with_a_diagnostic() {
    let deep = format!(
        "agent a {{ compute {{ v: {}1{} }} }}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let (_, checked) = wfc::check_text("deep.wf", &deep);
    assert_eq!(
        checked.diagnostics[0].code,
        wfc::diagnostic::Code::TooDeeplyNested
    );
}

/// A one-line template's hole was once outside the bound: the check passed and
/// `wfc run` and `wfc fmt` then overflowed their stacks (SIGABRT).
#[test]
fn a_deep_one_line_template_hole_is_refused_by_every_command() {
    let project = crate::support::Project::new("deep_line_template").file(
        "deep.wf",
        &format!(
            "trigger go {{ manual }}\n\
             agent a {{ output {{ x: number }} llm \"m\" endpoint \"http://127.0.0.1:9/\" prompt \"{{{{ {}1{} }}}}\" }}\n\
             workflow w {{ on go steps {{ r = a({{}}) }} output r }}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
    );
    for args in [
        vec!["check", "deep.wf"],
        vec!["fmt", "deep.wf"],
        vec!["run", "deep.wf", "--workflow", "w"],
    ] {
        let run = project.wfc(&args).expect_code(1);
        assert!(
            run.stderr.contains("wf::too_deeply_nested"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(project
        .store()
        .executions(&wfc::store::HistoryFilter::default())
        .map_or(true, |e| e.is_empty()));
}

/// A chain of workflows each calling the next: the checker once recursed from
/// caller to callee (60,000 of them overflowed its 256 MiB stack), and a run
/// nests a child's future in its parent's (3,000 overflowed a worker's stack).
/// Checking is callee first now, and a run refuses to nest deeper than 64.
#[test]
fn a_long_chain_of_sub_workflows_checks_and_runs_within_bounds() {
    let chain = |n: usize| {
        let mut text = String::from(
            "trigger go { manual }\nagent leaf { input { n: number } output { n: number } compute { n: input.n + 1 } }\n",
        );
        for i in 0..n {
            let callee = if i + 1 < n {
                format!("workflow w{}", i + 1)
            } else {
                "leaf".into()
            };
            let on = if i == 0 { "on go " } else { "" };
            text.push_str(&format!(
                "workflow w{i} {{ {on}input {{ n: number }} steps {{ r = {callee}(input) }} output r }}\n"
            ));
        }
        text
    };
    let project = crate::support::Project::new("long_chain")
        .file("long.wf", &chain(60_000))
        .file("deep.wf", &chain(3_000))
        .file("fits.wf", &chain(64));
    project.wfc(["check", "long.wf"]).expect_code(0);
    let deep = project
        .wfc([
            "run",
            "deep.wf",
            "--workflow",
            "w0",
            "--input",
            r#"{"n": 1}"#,
        ])
        .expect_code(1);
    assert!(
        deep.stderr
            .contains("would nest 65 levels deep; at most 64"),
        "{}",
        deep.stderr
    );
    let fits = project
        .wfc([
            "run",
            "fits.wf",
            "--workflow",
            "w0",
            "--input",
            r#"{"n": 1}"#,
        ])
        .expect_code(0);
    assert!(fits.stdout.contains("\"n\": 2"), "{}", fits.stdout);
}

/// ARCHITECTURE.md's one-way dependencies, as far as a text search sees them:
/// the checked program is below what evaluates it and what checks it, and the
/// runtime never imports the checker. (`program/alert.rs` once read its goal
/// statuses from `goals`.)
#[test]
fn dependencies_run_one_way() {
    let rules: [(&str, &[&str]); 2] = [
        (
            "src/program",
            &[
                "crate::goals",
                "crate::check",
                "crate::runtime",
                "crate::serve",
                "crate::store",
            ],
        ),
        ("src/runtime", &["crate::check"]),
    ];
    for (dir, forbidden) in rules {
        for entry in std::fs::read_dir(crate::support::root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            // A module's own tests may build what they test from text.
            let text = text.split("#[cfg(test)]").next().unwrap();
            for module in forbidden {
                assert!(
                    !text.contains(module),
                    "{} imports {module}",
                    path.display()
                );
            }
        }
    }
}
