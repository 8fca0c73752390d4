//! `wfc test` end to end: test blocks run through the built binary, their mocks,
//! virtual clock, isolation and reports.

use crate::support::Project;

const PIPELINE: &str = r#"
retry patient { attempts 3 backoff constant 10s }
agent scorer {
  input { name: string }
  output { score: number }
  run ["sh", "-c", "echo called >> scorer.log; echo '{\"score\": 1}'"]
  retry patient
  timeout 5s
}
agent planner {
  input { score: number }
  output { plan: string }
  compute { plan: if input.score > 5 then "expand" else "hold" }
}
trigger go { manual }
trigger leads { on event "lead.created" }
trigger big_month { when metric revenue.monthly >= 5000 }
metric revenue { unit "USD" }
workflow pipeline {
  on go, leads
  input { name: string }
  on_failure dead_letter
  steps {
    s = scorer(input)
    wait 1h
    p = planner(s)
    emit "lead.scored" { score: s.score, name: input.name }
  }
  record lead_value = s.score * 1000
  output { plan: p.plan }
}
workflow review { on big_month steps { let seen = input.value } output { seen: seen } }
"#;

/// `wfc test` output with real times (which vary) taken out of its lines.
fn stable(stdout: &str) -> String {
    stdout
        .lines()
        .map(|line| match (line.find(" ("), line.find(", ")) {
            (Some(open), Some(comma)) if line.starts_with("ok") || line.starts_with("FAILED") => {
                format!("{}(…{}", &line[..open + 1], &line[comma..])
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn mocks_that_fail_then_succeed_drive_real_retry_policies_on_virtual_time() {
    let project = Project::new("testing_retries")
        .file("flow.wf", PIPELINE)
        .file(
            "flow.test.wf",
            r#"import "flow.wf"
test "a hot lead is planned for expansion" {
  mock scorer fails timeout 2 times then returns { score: len(input.name) * 2 }
  run pipeline with { name: "Ada Lovelace" }
  expect status completed
  expect output.plan == "expand"
  expect scorer called 3 times
  expect step s attempts 3
  expect event "lead.scored" { score: 24 }
  expect metric lead_value == 24000
}
"#,
        );
    let run = project.wfc(["test", "flow.test.wf"]).expect_code(0);
    // Two retry delays of 10s and the 1h wait, all virtual.
    assert!(
        run.stdout
            .contains("ok     flow.test.wf: a hot lead is planned for expansion (")
            && run.stdout.contains(", 1h 0m 20s virtual)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with("1 passed, 0 failed\n"),
        "{}",
        run.stdout
    );
    assert!(
        !project.dir.join("scorer.log").exists(),
        "a mocked agent never runs"
    );
}

#[test]
fn every_kind_of_expectation_reports_what_it_found() {
    let project = Project::new("testing_failures")
        .file("flow.wf", PIPELINE)
        .file(
            "failing.test.wf",
            r#"import "flow.wf"
test "everything expected is wrong" {
  mock scorer fails failed
  run pipeline with { name: "Ada" }
  expect status completed
  expect output.plan == "expand"
  expect scorer called 2 times
  expect step s attempts 1
  expect event "lead.scored"
  expect metric lead_value >= 1
}
test "the opposite holds" {
  mock scorer returns { score: 1 }
  run pipeline with { name: "Bo" }
  expect status failed
  expect dead_letter
  expect output.plan != "hold"
  expect output.plan == 3
  expect event "lead.scored" { score: 2 }
  expect metric lead_value < 1000
  expect planner called 0 times
}
"#,
        );
    // Not a terminal, so no colour.
    let run = project.wfc(["test", "failing.test.wf"]).expect_code(1);
    assert!(
        run.stdout.ends_with("0 passed, 2 failed\n"),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!(stable(&run.stdout));
}

#[test]
fn unmocked_agents_run_for_real_and_events_and_metrics_start_runs() {
    let project = Project::new("testing_starts")
        .file("flow.wf", PIPELINE)
        .file(
            "starts.test.wf",
            r#"import "flow.wf"
test "an event starts the pipeline with the real scorer" {
  given event "lead.created" { name: "Cy" }
  expect status completed
  expect output.plan == "hold"
  expect scorer called 1 times
}
test "a big month starts the review" {
  given metric revenue.monthly = 6000
  expect output.seen == 6000
}
"#,
        );
    let run = project.wfc(["test", "starts.test.wf"]).expect_code(0);
    assert!(
        run.stdout.ends_with("2 passed, 0 failed\n"),
        "{}",
        run.stdout
    );
    let log = std::fs::read_to_string(project.dir.join("scorer.log")).unwrap();
    assert_eq!(log, "called\n", "the unmocked agent ran once, for real");
}

#[test]
fn tests_running_at_once_never_see_each_others_rows() {
    // Each test runs the pipeline once: with a shared store either would count two
    // calls, two events and two samples.
    let tests: String = (0..6)
        .map(|i| {
            format!(
                "test \"run {i}\" {{\n  mock scorer returns {{ score: {i} }}\n  \
                 run pipeline with {{ name: \"n{i}\" }}\n  expect scorer called 1 times\n  \
                 expect event \"lead.scored\" {{ name: \"n{i}\" }}\n  \
                 expect metric count(lead_value) == 1\n  expect metric lead_value == {}\n}}\n",
                i * 1000
            )
        })
        .collect();
    let project = Project::new("testing_isolation")
        .file("flow.wf", PIPELINE)
        .file("many.test.wf", &format!("import \"flow.wf\"\n{tests}"));
    let run = project
        .wfc(["test", "many.test.wf", "--jobs", "6"])
        .expect_code(0);
    assert!(
        run.stdout.ends_with("6 passed, 0 failed\n"),
        "{}",
        run.stdout
    );
    // --filter picks by name; JUnit XML counts what ran.
    let run = project
        .wfc(["test", ".", "--filter", "run 3", "--format", "junit"])
        .expect_code(0);
    assert!(run.stdout.starts_with("<?xml"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("<testsuite name=\"many.test.wf\" tests=\"1\" failures=\"0\""),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("name=\"run 3\""), "{}", run.stdout);
}

#[test]
fn a_mock_slower_than_its_timeout_times_out_and_a_broken_file_runs_no_test() {
    let project = Project::new("testing_timeouts")
        .file("flow.wf", PIPELINE)
        .file(
            "slow.test.wf",
            r#"import "flow.wf"
test "a slow scorer times out every attempt" {
  mock scorer takes 1m returns { score: 9 }
  run pipeline with { name: "Di" }
  expect status failed
  expect step s attempts 3
  expect dead_letter
}
"#,
        )
        .file(
            "broken.test.wf",
            "import \"flow.wf\"\ntest \"x\" { run pipelin }\n",
        );
    let run = project.wfc(["test", "slow.test.wf"]).expect_code(0);
    // Three 5s timeouts and two 10s delays.
    assert!(run.stdout.contains(", 35s virtual)"), "{}", run.stdout);
    // A run that would wait ten years fails at the virtual limit, at once, and
    // its expectations are not read off a run that never ended.
    let project = project.file(
        "forever.wf",
        "trigger go { manual }\nworkflow slow { on go steps { wait 3650d } }\n\
         test \"ten years\" { run slow expect status completed }\n",
    );
    let run = project.wfc(["test", "forever.wf"]).expect_code(1);
    assert!(
        run.stdout
            .contains("still waits after 366 days of virtual time"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("found running"), "{}", run.stdout);
    std::fs::remove_file(project.dir.join("forever.wf")).unwrap();
    let run = project.wfc(["test", "."]).expect_code(1);
    assert!(
        run.stderr.contains("wf::unknown_workflow"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("its tests did not run"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("1 passed, 0 failed"), "{}", run.stdout);
}
