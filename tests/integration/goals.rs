//! `wfc goals` and `wfc metrics` over samples with fixed timestamps, so every
//! figure is computed by hand.

use crate::support::Project;
use serde_json::Value;

fn record(project: &Project, name: &str, value: &str, at: &str) {
    project
        .wfc(["metrics", "record", name, value, "--at", at])
        .expect_code(0);
}

fn goals_json(project: &Project, at: &str) -> Value {
    let run = project
        .wfc(["goals", "flow.wf", "--at", at, "--format", "json"])
        .expect_code(0);
    serde_json::from_str(&run.stdout).unwrap()
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

const TREE: &str = r#"
goal root {
  title "The whole thing"
  department finance
  kpi sum(a) >= 100
  goal mid {
    weight 3
    goal leaf_b { kpi latest(b) >= 50 }
    goal leaf_c { kpi sum(c) per month >= 10  weight 3 }
  }
  goal side { kpi latest(d) <= 5 }
}
workflow feed { steps { wait 1ms } record a = 1 record b = 1 record c = 1 record d = 1 }
"#;

fn tree_project(name: &str) -> Project {
    let project = Project::new(name).file("flow.wf", TREE);
    for (metric, value, at) in [
        ("a", "30", "2026-11-02T10:00:00Z"),
        ("a", "10", "2026-11-03T10:00:00Z"),
        ("b", "40", "2026-11-01T10:00:00Z"),
        ("b", "20", "2026-11-05T10:00:00Z"),
        ("c", "100", "2026-10-15T10:00:00Z"), // last month: not in November's sum
        ("c", "4", "2026-11-04T10:00:00Z"),
        ("c", "2", "2026-11-06T10:00:00Z"),
        ("d", "10", "2026-11-07T10:00:00Z"),
    ] {
        record(&project, metric, value, at);
    }
    project
}

#[test]
fn a_three_level_tree_rolls_progress_up_by_weight() {
    let project = tree_project("goals_tree");
    let report = goals_json(&project, "2026-11-20");
    let root = &report["goals"][0];
    // Leaves: b = 20/50 = 0.4; c = (4 + 2)/10 = 0.6; d: target 5 under 10, 5/10 = 0.5.
    let mid = &root["children"][0];
    assert!(close(&mid["children"][0]["progress"], 0.4));
    assert!(close(&mid["children"][1]["progress"], 0.6));
    assert_eq!(mid["children"][1]["kpi"]["period"], "2026-11");
    // mid = (1 × 0.4 + 3 × 0.6) / 4 = 0.55
    assert!(close(&mid["progress"], 0.55), "{}", mid["progress"]);
    let side = &root["children"][1];
    assert!(close(&side["progress"], 0.5));
    // root = (3 × 0.55 + 1 × 0.5 + 1 × (30 + 10)/100) / 5 = 0.51
    assert!(close(&root["kpi"]["current"], 40.0));
    assert!(close(&root["progress"], 0.51), "{}", root["progress"]);
    assert_eq!(root["status"], "in_progress");
    assert_eq!(side["department"], "finance", "departments are inherited");
    insta::assert_json_snapshot!("goals_tree", report);
}

#[test]
fn at_evaluates_the_tree_as_of_a_past_date() {
    let project = tree_project("goals_at");
    let early = goals_json(&project, "2026-11-02");
    let root = &early["goals"][0];
    assert!(
        close(&root["kpi"]["current"], 30.0),
        "only the first sample of `a` counts"
    );
    let leaf_b = &root["children"][0]["children"][0];
    assert!(close(&leaf_b["kpi"]["current"], 40.0));
    assert_eq!(
        root["children"][1]["status"], "no_data",
        "d was first recorded on Nov 7"
    );
    let text = project
        .wfc(["goals", "flow.wf", "--at", "2026-11-02"])
        .expect_code(0)
        .stdout;
    assert!(text.contains("sum(a) = 30 (target >= 100)"), "{text}");
}

#[test]
fn projections_and_statuses_follow_the_trend() {
    let project = Project::new("goals_trend").file(
        "flow.wf",
        r#"
goal rising  { kpi latest(up) >= 100 by 2026-12-31 }
goal flat    { kpi latest(level) >= 100 by 2026-12-31 }
goal falling { kpi latest(down) >= 100 by 2026-12-31 }
goal done    { kpi latest(big) >= 100 by 2026-12-31 }
goal late    { kpi latest(level) >= 100 by 2026-11-10 }
goal empty   { kpi latest(nothing) >= 1 by 2026-12-31 }
workflow feed { steps { wait 1ms } record up = 1 record level = 1 record down = 1 record big = 1 record nothing = 1 }
"#,
    );
    for (day, up, level, down) in [
        ("01", "10", "50", "50"),
        ("11", "30", "50", "40"),
        ("21", "50", "50", "30"),
    ] {
        let at = format!("2026-11-{day}T00:00:00Z");
        record(&project, "up", up, &at);
        record(&project, "level", level, &at);
        record(&project, "down", down, &at);
    }
    record(&project, "big", "120", "2026-11-21T00:00:00Z");
    let report = goals_json(&project, "2026-11-21");
    let goal = |i: usize| report["goals"][i].clone();
    // Rising 2 a day from 10 on Nov 1: 10 + 2 × 61 = 132 at the end of Dec 31.
    assert!(
        close(&goal(0)["kpi"]["projection"], 132.0),
        "{}",
        goal(0)["kpi"]
    );
    assert_eq!(goal(0)["status"], "on_track");
    assert!(close(&goal(1)["kpi"]["projection"], 50.0));
    assert_eq!(goal(1)["status"], "at_risk");
    // Falling 1 a day from 50: 50 − 61 = −11.
    assert!(close(&goal(2)["kpi"]["projection"], -11.0));
    assert_eq!(goal(2)["status"], "at_risk");
    assert_eq!(goal(3)["status"], "achieved");
    assert!(close(&goal(3)["progress"], 1.0));
    assert_eq!(goal(4)["status"], "overdue");
    assert_eq!(goal(5)["status"], "no_data");
    assert!(goal(5)["progress"].is_null());
}

#[test]
fn teams_cover_the_skills_prefer_the_department_then_the_least_loaded() {
    let project = Project::new("goals_team").file(
        "flow.wf",
        r#"
agent m_busy   { department marketing skills [outreach]          compute { ok: true } }
agent m_idle   { department marketing skills [outreach]          compute { ok: true } }
agent m_data   { department marketing skills [analytics]         compute { ok: true } }
agent f_both   { department finance   skills [outreach, analytics] compute { ok: true } }
agent f_ledger { department finance   skills [ledger]            compute { ok: true } }
trigger go { manual }
workflow load { on go steps { a = m_busy({}) b = m_busy({}) c = m_busy({}) } }
goal campaign {
  department marketing
  kpi latest(reach) >= 10
  team { skills [outreach, analytics] size 2 }
}
goal books {
  department marketing
  kpi latest(reach) >= 10
  team { skills [outreach, ledger] size 2 }
}
goal impossible {
  kpi latest(reach) >= 10
  team { skills [outreach, analytics] size 1 }
}
workflow feed { on go steps { wait 1ms } record reach = 1 }
"#,
    );
    project
        .wfc(["run", "flow.wf", "--workflow", "load"])
        .expect_code(0);
    let report: Value = serde_json::from_str(
        &project
            .wfc(["goals", "flow.wf", "--format", "json"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    let members = |i: usize| -> Vec<String> {
        report["goals"][i]["team"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["agent"].as_str().unwrap().to_string())
            .collect()
    };
    // Marketing covers both skills; m_busy has 3 recent calls, so m_idle is chosen.
    assert_eq!(members(0), ["m_data", "m_idle"]);
    let idle = &report["goals"][0]["team"]["members"][1];
    assert_eq!(
        idle["reason"],
        "covers outreach; in marketing; 0 in flight, 0 calls in the last hour"
    );
    // Marketing has no `ledger`: the team reaches outside the department for it.
    assert_eq!(members(1), ["m_idle", "f_ledger"]);
    assert!(report["goals"][1]["team"]["members"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("outside marketing"));
    assert!(report["goals"][1]["team"]["problem"].is_null());
    // One place, two skills: only f_both has both.
    assert_eq!(members(2), ["f_both"]);
    let text = project.wfc(["goals", "flow.wf"]).expect_code(0).stdout;
    assert!(
        text.contains("team of 2: m_data (covers analytics; in marketing"),
        "{text}"
    );
}

#[test]
fn a_team_that_cannot_be_formed_says_why() {
    let project = Project::new("goals_team_short").file(
        "flow.wf",
        r#"
agent solo { department ops skills [a] compute { ok: true } }
agent other { department ops skills [b] compute { ok: true } }
goal g { kpi latest(x) >= 1 team { skills [a, b] size 1 } }
goal h { kpi latest(x) >= 1 team { skills [a] size 3 } }
workflow feed { steps { wait 1ms } record x = 1 }
"#,
    );
    let report: Value = serde_json::from_str(
        &project
            .wfc(["goals", "flow.wf", "--format", "json"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(
        report["goals"][0]["team"]["problem"],
        "a team of 1 cannot cover every skill: a still uncovered"
    );
    assert_eq!(
        report["goals"][1]["team"]["problem"],
        "only 1 agents have these skills; 3 were asked for"
    );
}

#[test]
fn metrics_lists_and_records_samples() {
    let project = Project::new("metrics_cli").file("flow.wf", TREE);
    project.wfc(["metrics"]).expect_code(0);
    record(&project, "a", "2.5", "2026-11-02T10:00:00Z");
    let listed: Vec<Value> = serde_json::from_str(
        &project
            .wfc(["metrics", "--format", "json"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(listed, [serde_json::json!({ "name": "a", "samples": 1 })]);
    let shown: Value = serde_json::from_str(
        &project
            .wfc(["metrics", "a", "--format", "json"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(shown["samples"][0]["value"], 2.5);
    assert_eq!(
        shown["samples"][0]["recorded_at"],
        "2026-11-02T10:00:00.000Z"
    );
    project
        .wfc(["metrics", "record", "a", "lots"])
        .expect_code(2);
    project
        .wfc(["metrics", "record", "a", "1", "--at", "yesterday"])
        .expect_code(2);
    project.wfc(["metrics", "nothing"]).expect_code(2);
    project
        .wfc(["goals", "flow.wf", "--at", "2026-13-01"])
        .expect_code(2);
}

/// "Reach $50K" showed 71% while revenue was far from it: the goal's progress
/// is a roll-up of its KPI and its sub-goals. The text says so, and shows the
/// KPI's own progress beside it; a goal without sub-goals has one line.
#[test]
fn a_rolled_up_goal_shows_its_own_kpi_beside_the_roll_up() {
    let project = tree_project("goals_rollup_text");
    let shown = project
        .wfc(["goals", "flow.wf", "--at", "2026-11-20"])
        .expect_code(0)
        .stdout;
    let lines: Vec<&str> = shown.lines().collect();
    // The root: 51% overall, its own KPI (40 of 100) at 40%.
    assert!(
        lines[1].contains("51% overall: its KPI and 2 sub-goals, weighted"),
        "{shown}"
    );
    assert!(lines[2].contains("40% its KPI"), "{shown}");
    assert_eq!(
        shown.matches("overall").count(),
        2,
        "root and mid only: {shown}"
    );
}
