//! `wfc explain`: what a declared name means, from the built binary.

use crate::support::Project;

const FILE: &str = r#"
retry standard {
  attempts 4
  backoff exponential 500ms factor 2 max 1500ms
  jitter equal
  retry_on [timeout, failed]
}
retry none_at_all { attempts 1 }
agent scorer { input { name: string } output { score: number } run ["sh", "score.sh"] timeout 10s retry standard capacity 2 }
agent planner { input { score: number } output { plan: string } compute { plan: "hold" } }
agent slowpoke { run ["sh", "slow.sh"] }
trigger paris_morning { cron "30 2 * * *" timezone "Europe/Paris" }
trigger leads { on event "lead.*" }
trigger busy { when metric sum(load) per day > 100 }
metric load { unit "requests" description "fed by the gateway" }
workflow pipeline {
  on paris_morning, leads
  steps {
    s = scorer({ name: "x" })
    wait 1h
    parallel {
      p = planner(s)
      q = scorer({ name: "y" }) timeout 2s retry none_at_all
    }
    emit "lead.scored" { score: s.score }
  }
}
workflow unbounded { on busy steps { x = slowpoke({}) } }
"#;

#[test]
fn a_retry_policy_is_its_delay_schedule() {
    let project = Project::new("explain_retry").file("flow.wf", FILE);
    let run = project
        .wfc(["explain", "flow.wf", "standard"])
        .expect_code(0);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn a_cron_trigger_lists_its_next_slots_across_a_dst_change() {
    let project = Project::new("explain_cron").file("flow.wf", FILE);
    // Paris moves to summer time at 02:00 on 2026-03-29: 02:30 does not exist that
    // day (that slot is at 03:00 summer time), and from then on the slot is at
    // 00:30 UTC instead of 01:30.
    let run = project
        .wfc([
            "explain",
            "flow.wf",
            "paris_morning",
            "--at",
            "2026-03-27T12:00:00Z",
        ])
        .expect_code(0);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn a_workflow_adds_up_its_worst_case_time() {
    let project = Project::new("explain_workflow").file("flow.wf", FILE);
    let run = project
        .wfc(["explain", "flow.wf", "pipeline"])
        .expect_code(0);
    // scorer: 4 × 10s + 0.5s + 1s + 1.5s = 43s; the 1h wait; the parallel block's
    // slower branch (scorer with 2s and one attempt) 2s: 1h 0m 45s.
    assert!(
        run.stdout.contains("worst-case time: 1h 0m 45s"),
        "{}",
        run.stdout
    );
    let run = project
        .wfc(["explain", "flow.wf", "unbounded"])
        .expect_code(0);
    assert!(
        run.stdout
            .contains("worst-case time: unbounded (a call without a timeout)"),
        "{}",
        run.stdout
    );
    let run = project.wfc(["explain", "flow.wf", "leads"]).expect_code(0);
    assert!(
        run.stdout
            .contains("emitted in the program and matching: lead.scored"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_metric_trigger_reads_the_store_and_an_unknown_name_gets_did_you_mean() {
    let project = Project::new("explain_metric").file("flow.wf", FILE);
    let run = project
        .wfc(["explain", "flow.wf", "busy", "--at", "2026-11-26T12:00:00Z"])
        .expect_code(0);
    assert!(
        run.stdout.contains("now: no sample in period 2026-11-26"),
        "{}",
        run.stdout
    );
    for (value, at) in [
        ("70", "2026-11-26T08:00:00Z"),
        ("45", "2026-11-26T09:00:00Z"),
    ] {
        project
            .wfc([
                "metrics", "record", "load", value, "--at", at, "--file", "flow.wf",
            ])
            .expect_code(0);
    }
    let run = project
        .wfc(["explain", "flow.wf", "busy", "--at", "2026-11-26T12:00:00Z"])
        .expect_code(0);
    assert!(
        run.stdout
            .contains("now: 115 in period 2026-11-26 (UTC): the condition holds"),
        "{}",
        run.stdout
    );
    let run = project
        .wfc(["explain", "flow.wf", "pipelin"])
        .expect_code(2);
    assert!(
        run.stderr.contains("did you mean `pipeline`?"),
        "{}",
        run.stderr
    );
    let run = project
        .wfc(["explain", "flow.wf", "busy", "--at", "tomorrow"])
        .expect_code(2);
    assert!(
        run.stderr.contains("not an RFC 3339 time"),
        "{}",
        run.stderr
    );
}

/// The README says `wfc explain` takes any declared name: breakers and alerts
/// said "declares nothing named …", and full jitter's sentence ended mid-way.
#[test]
fn breakers_and_alerts_are_explained_and_jitter_in_a_whole_sentence() {
    let explain = |name: &str| {
        crate::support::Wfc::new(["explain", "examples/enterprise.wf", name])
            .run()
            .expect_code(0)
            .stdout
    };
    let breaker = explain("guarded");
    assert!(
        breaker.starts_with("breaker guarded: opens after 5 failures"),
        "{breaker}"
    );
    assert!(
        breaker.contains("guards finance_financial_analyst"),
        "{breaker}"
    );
    let alert = explain("revenue_review_failing");
    assert!(
        alert.contains("`failure_rate(revenue_review) > 0.2 within 15m`"),
        "{alert}"
    );
    let retry = explain("standard");
    assert!(
        retry.trim_end().ends_with("(the table's upper bound)"),
        "{retry}"
    );
}

#[test]
fn triggers_and_goals_show_their_doc_comments() {
    let project = Project::new("explain_docs").file(
        "flow.wf",
        r#"/// Sales closes a deal in the CRM.
/// Fired once per deal.
trigger sale_closed { on event "sale.closed" }
agent noop { compute { ok: true } }
workflow book { on sale_closed chain noop record revenue = 1 }
/// The year's revenue target, set by the board.
goal revenue {
  kpi sum(revenue) per year >= 100
  /// Half of it from new customers.
  goal new_business { kpi sum(revenue) per year >= 50 }
}
"#,
    );
    let trigger = project
        .wfc(["explain", "flow.wf", "sale_closed"])
        .expect_code(0)
        .stdout;
    let lines: Vec<&str> = trigger.lines().collect();
    assert!(
        lines[0].starts_with("event trigger sale_closed"),
        "{trigger}"
    );
    assert_eq!(
        &lines[1..3],
        [
            "  Sales closes a deal in the CRM.",
            "  Fired once per deal."
        ],
        "{trigger}"
    );
    let goal = project
        .wfc(["explain", "flow.wf", "revenue"])
        .expect_code(0)
        .stdout;
    assert!(
        goal.contains("goal revenue\n  The year's revenue target, set by the board.\n"),
        "{goal}"
    );
    let child = project
        .wfc(["explain", "flow.wf", "new_business"])
        .expect_code(0)
        .stdout;
    assert!(
        child.contains("goal new_business\n  Half of it from new customers.\n"),
        "{child}"
    );
}
