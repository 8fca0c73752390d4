//! A template library pinned at git revisions, through the built binary: a
//! repository built here with tags v1 and v2 whose template bodies differ; the
//! pin decides which body runs, the working tree's uncommitted edit is
//! ignored, a missing tag or a file in no repository is a check error, and a
//! resumed execution reads the commit it started with even after its tag moved.

use crate::support::{git, git_or_skip, wait_for, Project};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;
use wfc::store::HistoryFilter;

/// The library's template at one revision: its output says which (`body`),
/// and it waits for a gate agent the department supplies.
fn library(body: &str) -> String {
    format!(
        r#"/// Ask a reviewer when the amount is over a threshold; small amounts pass.
template approval(
  reviewer: agent {{ amount: number, id: string }} -> {{ approved: bool, by: string }},
  threshold: number = 1000,
) {{
  input {{ amount: number, id: string }}
  steps {{
    when input.amount >= threshold {{ d = reviewer(input) }}
  }}
  output {{ approved: if d != null then d.approved else true, body: "{body}" }}
}}
"#
    )
}

fn department(rev: &str) -> String {
    format!(
        r#"import "../library/approvals.wf" at "{rev}"
agent controller {{
  input {{ amount: number, id: string }}
  output {{ approved: bool, by: string }}
  run ["sh", "gate.sh"]
}}
trigger invoice_received {{ manual }}
workflow invoice_approval = approval(reviewer: controller, threshold: 5000) {{
  version "1.0.0"
  on invoice_received
}}
"#
    )
}

/// A repository with `library/approvals.wf` at tags v1 and v2 and an
/// uncommitted third body in the working tree, a gate agent that answers once
/// the file `go` exists, and a department file pinned at `rev`.
fn repository(name: &str, rev: &str) -> Project {
    let project = Project::new(name);
    let go = project.dir.join("go");
    let gate = format!(
        "cat >/dev/null\nwhile [ ! -f '{}' ]; do sleep 0.02; done\necho '{{\"approved\": true, \"by\": \"gate\"}}'\n",
        go.display()
    );
    let project = project
        .file("library/approvals.wf", &library("v1"))
        .file("dept/gate.sh", &gate)
        .file("dept/finance.wf", &department(rev));
    let dir = &project.dir;
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "library"]);
    git(dir, &["commit", "-qm", "v1"]);
    git(dir, &["tag", "v1"]);
    std::fs::write(dir.join("library/approvals.wf"), library("v2")).unwrap();
    git(dir, &["commit", "-qam", "v2"]);
    git(dir, &["tag", "v2"]);
    std::fs::write(dir.join("library/approvals.wf"), library("uncommitted")).unwrap();
    project
}

fn body(project: &Project) -> String {
    std::fs::write(project.dir.join("go"), "").unwrap();
    let out: Value = project.json([
        "run",
        "dept/finance.wf",
        "--workflow",
        "invoice_approval",
        "--input",
        r#"{"amount": 6000, "id": "inv-1"}"#,
    ]);
    out["body"].as_str().unwrap_or_default().to_string()
}

#[test]
fn the_pin_decides_which_body_runs_and_the_working_tree_is_ignored() {
    if !git_or_skip("a pinned import read from a repository built here") {
        return;
    }
    let project = repository("library_pin", "v1");
    assert_eq!(body(&project), "v1");
    let pinned = |rev: &str| {
        std::fs::write(project.dir.join("dept/finance.wf"), department(rev)).unwrap();
    };
    pinned("v2");
    assert_eq!(body(&project), "v2");
    // A branch and a commit id pin as a tag does.
    pinned("main");
    assert_eq!(body(&project), "v2");
    let head = Command::new("git")
        .args(["rev-parse", "v1"])
        .current_dir(&project.dir)
        .output()
        .unwrap();
    let v1 = String::from_utf8(head.stdout).unwrap().trim().to_string();
    pinned(&v1);
    assert_eq!(body(&project), "v1");

    // Each execution records the template's blob, the revision and its commit.
    let executions = project
        .store()
        .executions(&HistoryFilter::default())
        .unwrap();
    let newest = &executions[0];
    assert_eq!(newest.template.as_deref(), Some("approval"));
    assert_eq!(newest.template_rev.as_deref(), Some(v1.as_str()));
    assert_eq!(newest.template_commit.as_deref(), Some(v1.as_str()));
    let show = project.wfc(["show", &newest.id]).expect_code(0).stdout;
    assert!(
        show.contains("template  approval (source blob") && show.contains(&v1[..12]),
        "{show}"
    );

    // `wfc templates` says where a pinned template was read and what is newer.
    pinned("v1");
    let listed = project
        .wfc(["templates", "dept/finance.wf"])
        .expect_code(0)
        .stdout;
    assert!(
        listed.contains("template approval (library/approvals.wf@v1)")
            && listed.contains("pinned at v1")
            && listed.contains("newer tags: v2"),
        "{listed}"
    );
    pinned("v2");
    let listed: Value = project.json(["templates", "dept/finance.wf", "--format", "json"]);
    assert_eq!(listed[0]["pinned"]["revision"], "v2");
    assert_eq!(listed[0]["pinned"]["newer_tags"], json!([]));
    assert_eq!(listed[0]["instances"], json!(["invoice_approval"]));
}

#[test]
fn a_missing_revision_or_path_or_repository_is_a_check_error() {
    if !git_or_skip("a missing revision in a repository built here") {
        return;
    }
    let project = repository("library_missing", "v3");
    let out = project.wfc(["check", "dept/finance.wf"]).expect_code(1);
    assert!(
        out.stderr.contains("wf::unknown_revision"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("no revision `v3`") && out.stderr.contains("did you mean `v1`"),
        "{}",
        out.stderr
    );
    // The template the missing file would declare is not reported as unknown.
    assert!(
        !out.stderr.contains("wf::unknown_template"),
        "{}",
        out.stderr
    );

    std::fs::write(
        project.dir.join("dept/finance.wf"),
        department("v1").replace("approvals.wf", "approval.wf"),
    )
    .unwrap();
    let out = project.wfc(["check", "dept/finance.wf"]).expect_code(1);
    assert!(
        out.stderr.contains("wf::import_not_found")
            && out
                .stderr
                .contains("`library/approval.wf` is not in revision `v1`"),
        "{}",
        out.stderr
    );

    // A file in no repository cannot pin.
    let outside = std::env::temp_dir().join(format!("wfc-no-repo-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("flow.wf"),
        "import \"lib.wf\" at \"v1\"\nagent a { compute { ok: true } }\nworkflow w { on manual_start chain a }\ntrigger manual_start { manual }\n",
    )
    .unwrap();
    let out = crate::support::Wfc::new(["check", "flow.wf"])
        .dir(&outside)
        .run()
        .expect_code(1);
    assert!(
        out.stderr.contains("wf::unknown_revision") && out.stderr.contains("in no git repository"),
        "{}",
        out.stderr
    );
    let _ = std::fs::remove_dir_all(&outside);
}

/// Starts the department's workflow and kills `wfc run` while its reviewer
/// waits for the gate.
fn interrupted(project: &Project) {
    let _ = std::fs::remove_file(project.dir.join("go"));
    let mut child = project
        .command()
        .args([
            "run",
            "dept/finance.wf",
            "--workflow",
            "invoice_approval",
            "--input",
            r#"{"amount": 6000, "id": "inv-1"}"#,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let store = project.store();
    wait_for(Duration::from_secs(10), || {
        store
            .executions(&HistoryFilter::default())
            .is_ok_and(|e| !e.is_empty())
    });
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Resumes, and answers the body the resumed execution gave.
fn resumed_body(project: &Project) -> String {
    std::fs::write(project.dir.join("go"), "").unwrap();
    let resumed = project.wfc(["resume"]).expect_code(0);
    assert!(
        resumed
            .stderr
            .contains("resuming it with the stored version"),
        "{}",
        resumed.stderr
    );
    let execution = &project
        .store()
        .executions(&HistoryFilter::default())
        .unwrap()[0];
    let body = execution.result.as_ref().map(|r| r["body"].clone());
    body.and_then(|b| b.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn a_resumed_instance_runs_the_template_commit_it_started_with() {
    if !git_or_skip("resuming a pinned template after its tag moved") {
        return;
    }
    let project = repository("library_resume", "v1");
    interrupted(&project);
    // Meanwhile the tag v1 is moved to v2's commit: the resume must not follow it.
    git(&project.dir, &["tag", "-f", "v1", "v2"]);
    assert_eq!(resumed_body(&project), "v1");
}

#[test]
fn a_resumed_instance_runs_the_working_tree_template_it_started_with() {
    if !git_or_skip("resuming a template edited since") {
        return;
    }
    let project = repository("library_resume_tree", "v1");
    let unpinned = department("v1").replace(" at \"v1\"", "");
    std::fs::write(project.dir.join("dept/finance.wf"), unpinned).unwrap();
    interrupted(&project);
    // The library's file is edited meanwhile: the stored text runs.
    std::fs::write(project.dir.join("library/approvals.wf"), library("edited")).unwrap();
    assert_eq!(resumed_body(&project), "uncommitted");
}
