//! `wfc graph`: snapshots of the enterprise example's graphs, and DOT that Graphviz
//! accepts.

use crate::support::{tool_or_skip, Wfc};

fn graph(args: &[&str]) -> String {
    let mut all = vec!["graph", "examples/enterprise.wf"];
    all.extend_from_slice(args);
    Wfc::new(all).run().expect_code(0).stdout
}

#[test]
fn mermaid_snapshots_of_the_enterprise_example() {
    insta::assert_snapshot!("revenue_review", graph(&["--workflow", "revenue_review"]));
    insta::assert_snapshot!(
        "daily_operations",
        graph(&["--workflow", "daily_operations"])
    );
    insta::assert_snapshot!(
        "compliance_sweep",
        graph(&["--workflow", "compliance_sweep"])
    );
    insta::assert_snapshot!("goals", graph(&["--goals"]));
}

#[test]
fn dot_snapshot_and_graphviz_accepts_every_graph() {
    insta::assert_snapshot!(
        "lead_pipeline_dot",
        graph(&["--workflow", "lead_pipeline", "--format", "dot"])
    );
    if !tool_or_skip("dot", "Graphviz", "DOT output is accepted by Graphviz") {
        return;
    }
    for args in [
        &["--format", "dot"][..],
        &["--goals", "--format", "dot"],
        &["--workflow", "daily_operations", "--format", "dot"],
    ] {
        let text = graph(args);
        let mut dot = std::process::Command::new("dot")
            .args(["-Tsvg", "-o", "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("Graphviz `dot` starts");
        use std::io::Write;
        dot.stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let output = dot.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "dot refused {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn an_unknown_workflow_is_a_usage_error() {
    let run = Wfc::new([
        "graph",
        "examples/enterprise.wf",
        "--workflow",
        "lead_pipelin",
    ])
    .run()
    .expect_code(2);
    assert!(
        run.stderr.contains("did you mean `lead_pipeline`?"),
        "{}",
        run.stderr
    );
}
