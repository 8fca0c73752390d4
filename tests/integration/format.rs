//! `wfc fmt`: idempotent, the same program (AST equal, spans aside), every comment
//! kept — for the examples, the diagnostic cases and thousands of derived programs.

use crate::support::{scratch, Wfc};
use wfc::format::format;

/// The AST's debug form without byte offsets.
fn shape(text: &str) -> Option<String> {
    let (file, diagnostics) = wfc::syntax::parse(text, wfc::source::FileId(0));
    if diagnostics.iter().any(|d| {
        d.code == wfc::diagnostic::Code::Syntax || d.code == wfc::diagnostic::Code::TooDeeplyNested
    }) {
        return None;
    }
    let debug = format!("{file:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(i) = rest.find("start: ") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find('}').unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    Some(out)
}

fn comments(text: &str) -> Vec<String> {
    // Comments as the formatter's lexer would see them: outside strings.
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, d)) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == '"' {
                        break;
                    }
                }
            }
            '/' if text[i..].starts_with("//") => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                found.push(text[i..end].trim_end().to_string());
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
            }
            '/' if text[i..].starts_with("/*") => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
                found.push(text[i..end].to_string());
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    found
}

/// Asserts the formatter's three promises for one program that parses.
fn holds(text: &str) {
    let Some(before) = shape(text) else { return };
    let once = format(text);
    assert_eq!(
        format(&once),
        once,
        "not idempotent for:\n{text}\n---\n{once}"
    );
    assert_eq!(
        shape(&once).as_deref(),
        Some(before.as_str()),
        "the program changed:\n{text}\n---\n{once}"
    );
    assert_eq!(
        comments(&once),
        comments(text),
        "comments changed:\n{text}\n---\n{once}"
    );
}

fn corpus() -> Vec<String> {
    let mut texts = Vec::new();
    for dir in ["examples", "examples/lib", "tests/cases"] {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|e| e == "wf") {
                texts.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }
    texts
}

#[test]
fn examples_and_cases_format_stably_to_the_same_program() {
    for text in corpus() {
        holds(&text);
    }
}

#[test]
fn thousands_of_derived_programs_format_stably() {
    let mut state: u64 = 0x00c0_ffee;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut checked = 0;
    for text in corpus() {
        let bytes = text.as_bytes();
        for _ in 0..150 {
            let mut mutated = bytes.to_vec();
            let i = next(mutated.len().max(2) - 1);
            match next(4) {
                0 => {
                    mutated.remove(i);
                }
                1 => mutated.insert(i, b' '),
                2 => mutated.insert(i, b'\n'),
                _ => mutated.swap(i, i + 1),
            }
            let mutated = String::from_utf8_lossy(&mutated).into_owned();
            if shape(&mutated).is_some() {
                holds(&mutated);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} derived programs parsed");
}

#[test]
fn the_examples_are_formatted() {
    let run = Wfc::new(["fmt", "--check", "examples"])
        .run()
        .expect_code(0);
    let files = crate::support::example_files();
    assert!(
        run.stderr
            .contains(&format!("0 of {files} files would be reformatted")),
        "{}",
        run.stderr
    );
}

#[test]
fn check_prints_a_diff_and_fmt_rewrites() {
    let dir = scratch("fmt_cli");
    let path = dir.join("messy.wf");
    std::fs::write(
        &path,
        "agent a{compute{ok:true}}   // hi\n\n\n\ntrigger t{manual}\n",
    )
    .unwrap();
    let run = Wfc::new(["fmt", "--check", "messy.wf"])
        .dir(&dir)
        .run()
        .expect_code(1);
    assert!(
        run.stdout
            .contains("+agent a { compute { ok: true } }  // hi"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("-agent a{compute{ok:true}}   // hi"));
    Wfc::new(["fmt", "messy.wf"]).dir(&dir).run().expect_code(0);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "agent a { compute { ok: true } }  // hi\n\ntrigger t { manual }\n"
    );
    Wfc::new(["fmt", "--check", "messy.wf"])
        .dir(&dir)
        .run()
        .expect_code(0);
    std::fs::write(dir.join("broken.wf"), "agent {").unwrap();
    let run = Wfc::new(["fmt", "broken.wf"])
        .dir(&dir)
        .run()
        .expect_code(1);
    assert!(
        run.stderr.contains("wf::syntax") && run.stderr.contains("not formatted"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.wf")).unwrap(),
        "agent {"
    );
}

#[test]
fn stdin_is_formatted_to_stdout() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wfc"))
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"trigger  t {manual}")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "trigger t { manual }\n"
    );
}
