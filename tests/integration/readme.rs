//! The README's walk-through, run as written: its first screen's commands, then the
//! serve section's, in order, on a fresh database. A README change that breaks the
//! story (a step that no longer shows what it says) fails here.

use crate::server::Server;
use crate::support::{root, scratch, wait_for};
use std::process::Command;
use std::time::Duration;
use wfc::store::{HistoryFilter, Store};

/// The commands of the README's ```sh blocks between two headings, in order.
fn commands(from: &str, to: &str, prefix: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find(from).expect("the README has the section");
    let end = start + readme[start..].find(to).expect("the section ends");
    readme[start..end]
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with(prefix))
        .map(String::from)
        .collect()
}

/// Runs one README line with `sh`, where `cargo run --` and `wfc` are the built binary.
fn shell(line: &str, db: &std::path::Path) -> std::process::Output {
    let script =
        format!("cargo() {{ shift 2; \"$WFC\" \"$@\"; }}\nwfc() {{ \"$WFC\" \"$@\"; }}\n{line}\n");
    Command::new("sh")
        .args(["-c", &script])
        .current_dir(root())
        .env("WFC", env!("CARGO_BIN_EXE_wfc"))
        .env("WFC_DB", db)
        .output()
        .unwrap()
}

fn by_trigger(store: &Store, workflow: &str, trigger: &str) -> usize {
    let filter = HistoryFilter {
        workflow: Some(workflow.into()),
        ..HistoryFilter::default()
    };
    store
        .executions(&filter)
        .unwrap()
        .iter()
        .filter(|e| e.trigger.as_deref() == Some(trigger))
        .count()
}

#[test]
fn the_walk_through_runs_as_written() {
    let dir = scratch("readme_walk_through");
    let db = dir.join("wfc.db");
    let first = commands("# wfc", "## A taste", "cargo run -- ");
    assert!(first.len() >= 6, "{first:?}");
    // `show <id>` needs an id the reader copies; everything else runs as written.
    for line in first.iter().filter(|l| !l.contains('<')) {
        let output = shell(line, &db);
        assert!(
            output.status.success(),
            "`{line}`: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let store = Store::open(&db).unwrap();
    let serve = commands("## Triggers that fire by themselves", "- **Cron**", "wfc ");
    assert!(serve[0].starts_with("wfc serve examples/enterprise.wf"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_wfc"));
    command.current_dir(root()).env("WFC_DB", &db);
    let server = Server::spawn(command, "examples/enterprise.wf", &[]);
    // Nothing booked so far crosses the revenue threshold: the review waits.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(by_trigger(&store, "revenue_review", "revenue_milestone"), 0);
    for line in serve.iter().filter(|l| l.starts_with("wfc emit")) {
        let output = shell(line, &db);
        assert!(output.status.success(), "`{line}`");
    }
    wait_for(Duration::from_secs(10), || {
        by_trigger(&store, "lead_pipeline", "lead_qualification") == 1
            && by_trigger(&store, "revenue_review", "revenue_milestone") == 1
    });
    server.stop();
}

/// The main README says each editor folder has a README with its install steps:
/// each one has, and `editor-support/README.md` lists every folder (neovim,
/// helix and zed were missing from it, and neovim had none).
#[test]
fn every_editor_folder_has_a_readme_and_is_listed() {
    let editors = crate::support::root().join("editor-support");
    let index = std::fs::read_to_string(editors.join("README.md")).unwrap();
    for entry in std::fs::read_dir(&editors).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(path.join("README.md").is_file(), "{name}/ has no README");
        assert!(
            index.contains(&format!("`{name}/`")),
            "{name}/ is not listed"
        );
    }
}

/// docs/language.md's contents name every section it has (Alerts and Tests
/// were missing).
#[test]
fn the_language_reference_lists_every_section() {
    let text = std::fs::read_to_string(crate::support::root().join("docs/language.md")).unwrap();
    let contents = text.split("\n## ").next().unwrap();
    for heading in text.lines().filter_map(|l| l.strip_prefix("## ")) {
        if heading == "Lexical elements" {
            continue;
        }
        let anchor: String = heading
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        assert!(
            contents.contains(&format!("(#{anchor})")),
            "{heading} (#{anchor}) is not in the contents"
        );
    }
}

/// The body of the README's first ```LANG block after `after`.
fn block(after: &str, lang: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find(after).expect("the README has the section");
    let fence = format!("```{lang}\n");
    let body = start + readme[start..].find(&fence).expect("the block") + fence.len();
    let end = body + readme[body..].find("```\n").expect("the block ends");
    readme[body..end].to_string()
}

/// A line as the language reads it: its comment and surrounding blanks dropped.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or_default().trim()
}

/// The lines of the declaration `header` (`agent NAME`, `retry NAME` …) in the
/// example organisation or the files it imports, as [`code`].
fn declaration(header: &str) -> Vec<String> {
    let files = [
        "examples/enterprise.wf",
        "examples/lib/policies.wf",
        "examples/library/approvals.wf",
    ];
    for file in files {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let found = lines
            .iter()
            .position(|line| line.starts_with(&format!("{header} ")));
        if let Some(first) = found {
            let mut body = vec![code(lines[first]).to_string()];
            if !lines[first].trim_end().ends_with('}') {
                let rest = lines[first + 1..].iter().take_while(|line| **line != "}");
                body.extend(rest.map(|line| code(line).to_string()));
            }
            return body;
        }
    }
    panic!("no `{header}` in {files:?}");
}

/// "A taste" shows the example as it is (a version or a priority changed in
/// one and not the other fails): every line it shows is in the example's
/// declaration of the same name, and the declarations it shows check.
#[test]
fn the_taste_is_the_example_as_written() {
    let taste = block("## A taste", "wf");
    let mut header = String::new();
    let mut shown = 0;
    for raw in taste.lines() {
        let line = code(raw);
        if line.is_empty() || line == "}" {
            continue;
        }
        if !raw.starts_with(' ') {
            if let [kind, name, ..] = line.split_whitespace().collect::<Vec<_>>()[..] {
                if ["agent", "trigger", "workflow", "retry"].contains(&kind) {
                    header = format!("{kind} {name}");
                }
            }
        }
        let declared = declaration(&header);
        assert!(
            declared.iter().any(|l| l == line),
            "README's `{line}` is not in the example's `{header}`: {declared:#?}"
        );
        shown += 1;
    }
    assert!(shown >= 20, "{shown} lines compared");
}

/// The README's diagnostic and graph are what the built binary prints.
#[test]
fn the_shown_outputs_are_printed_as_shown() {
    let fixture = root().join("tests/fixtures/readme");
    let checked = Command::new(env!("CARGO_BIN_EXE_wfc"))
        .args(["check", "review.wf"])
        .current_dir(&fixture)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert_eq!(checked.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&checked.stderr),
        block("## A taste", "text")
    );
    let graph = Command::new(env!("CARGO_BIN_EXE_wfc"))
        .args([
            "graph",
            "examples/enterprise.wf",
            "--workflow",
            "revenue_review",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(graph.status.success());
    assert_eq!(
        String::from_utf8_lossy(&graph.stdout),
        block("## A taste", "mermaid")
    );
}
