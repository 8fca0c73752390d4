//! `wfc check --against REV` through the built binary, on a repository built
//! here: each kind of breaking change committed on its own is reported with
//! its code and both places (exit 1); a change that breaks nothing (a new
//! optional input field, a new workflow, a wider pattern) passes (exit 0);
//! JSON output; a revision that is not there is a usage error.

use crate::support::{git, git_or_skip, Project};
use serde_json::Value;

const V1: &str = r#"import "lib.wf"
agent scorer {
  input { name: string }
  output { score: number, tier: string }
  compute { score: 1, tier: "a" }
}
trigger lead_events { on event "lead.*" }
metric nps { unit "points" }
workflow qualify {
  on lead_events
  input { name: string }
  steps { s = scorer(input) }
  output { score: s.score, tier: s.tier }
}
"#;

const LIB: &str = r#"template approval(
  reviewer: agent { amount: number } -> { approved: bool },
  threshold: number = 1000,
) {
  input { amount: number }
  steps { when input.amount >= threshold { d = reviewer(input) } }
  output { approved: if d != null then d.approved else true }
}
"#;

fn repository(name: &str) -> Project {
    let project = Project::new(name).file("flow.wf", V1).file("lib.wf", LIB);
    git(&project.dir, &["init", "-q", "-b", "main"]);
    git(&project.dir, &["add", "flow.wf", "lib.wf"]);
    git(&project.dir, &["commit", "-qm", "v1"]);
    git(&project.dir, &["tag", "v1"]);
    project
}

/// Writes `file` as `text`, commits it, and checks against v1.
fn committed(project: &Project, file: &str, text: &str) -> crate::support::Run {
    std::fs::write(project.dir.join(file), text).unwrap();
    git(&project.dir, &["commit", "-qam", "change"]);
    project.wfc(["check", "--against", "v1", "flow.wf"])
}

#[test]
fn each_breaking_change_is_reported_at_both_places() {
    if !git_or_skip("breaking changes against a revision") {
        return;
    }
    let project = repository("against_breaking");
    let changes: [(&str, String, &str, &str); 6] = [
        (
            "flow.wf",
            V1.replace(
                "input { name: string }\n  steps",
                "input { name: string, region: string }\n  steps",
            ),
            "wf::input_narrowed",
            "field `region` is missing",
        ),
        (
            "flow.wf",
            V1.replace(", tier: s.tier", ""),
            "wf::output_narrowed",
            "field `tier` is missing",
        ),
        (
            "flow.wf",
            V1.replace("metric nps { unit \"points\" }\n", ""),
            "wf::removed_declaration",
            "metric `nps` is gone since `v1`",
        ),
        (
            "flow.wf",
            V1.replace("\"lead.*\"", "\"lead.created\""),
            "wf::trigger_narrowed",
            "no longer hears every event `lead.*`",
        ),
        (
            "lib.wf",
            LIB.replace("threshold: number = 1000", "threshold: number"),
            "wf::parameter_narrowed",
            "`threshold` lost its default",
        ),
        (
            "lib.wf",
            LIB.replace("{ approved: bool }", "{ approved: bool, by: string }"),
            "wf::parameter_narrowed",
            "field `by` is missing",
        ),
    ];
    for (file, text, code, says) in changes {
        let out = committed(&project, file, &text).expect_code(1);
        assert!(
            out.stderr.contains(code) && out.stderr.contains(says),
            "{code}: {}",
            out.stderr
        );
        // Labelled where it was too (a removal only there).
        assert!(
            out.stderr.contains("flow.wf@v1") || out.stderr.contains("lib.wf@v1"),
            "{}",
            out.stderr
        );
        // Put back before the next change, so each is reported alone.
        std::fs::write(project.dir.join("flow.wf"), V1).unwrap();
        std::fs::write(project.dir.join("lib.wf"), LIB).unwrap();
        git(&project.dir, &["commit", "-qam", "back"]);
    }
    // A renamed workflow is a removal that names its likely new name.
    let out = committed(
        &project,
        "flow.wf",
        &V1.replace("workflow qualify", "workflow qualify2"),
    )
    .expect_code(1);
    assert!(
        out.stderr.contains("workflow `qualify` is gone since `v1`")
            && out.stderr.contains("if it became")
            && out.stderr.contains("`qualify2`, keep `qualify` beside it"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_change_that_breaks_nothing_passes_and_json_lists_what_breaks() {
    if !git_or_skip("a change that breaks nothing") {
        return;
    }
    let project = repository("against_fine");
    let wider = V1
        .replace(
            "input { name: string }\n  steps",
            "input { name: string, note: string? }\n  steps",
        )
        .replace("\"lead.*\"", "\"*.*\"")
        + "workflow extra { on lead_events chain scorer }\n";
    let out = committed(&project, "flow.wf", &wider).expect_code(0);
    assert!(out.stderr.contains("no problems"), "{}", out.stderr);
    // The working tree, uncommitted, is what is compared.
    std::fs::write(
        project.dir.join("flow.wf"),
        V1.replace(", tier: s.tier", ""),
    )
    .unwrap();
    let out = project
        .wfc(["check", "--against", "v1", "--format", "json", "flow.wf"])
        .expect_code(1);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{}", out.stdout);
    assert_eq!(lines[0]["code"], "wf::output_narrowed");
    // A revision that is not there is a usage error that names it.
    let out = project
        .wfc(["check", "--against", "v9", "flow.wf"])
        .expect_code(2);
    assert!(out.stderr.contains("no revision `v9`"), "{}", out.stderr);
    // A file that was not there at the revision: all of it is new.
    std::fs::write(project.dir.join("new.wf"), LIB).unwrap();
    let out = project
        .wfc(["check", "--against", "v1", "new.wf"])
        .expect_code(0);
    assert!(
        out.stderr
            .contains("`new.wf` is not in `v1`: everything in it is new"),
        "{}",
        out.stderr
    );
}
