//! `wfc check` end to end through the built binary.

use crate::support::{scratch, Project, Wfc};

#[test]
fn a_valid_file_exits_zero_and_says_so() {
    let run = Wfc::new(["check", "examples/enterprise.wf"])
        .run()
        .expect_code(0);
    assert!(
        run.stderr.contains("checked 1 file: no problems"),
        "{}",
        run.stderr
    );
}

#[test]
fn errors_exit_one_with_a_plain_report_when_piped() {
    let run = Wfc::new(["check", "tests/cases/unknown_agent.wf"])
        .run()
        .expect_code(1);
    assert!(run.stderr.contains("wf::unknown_agent"));
    assert!(run
        .stderr
        .contains("did you mean `finance_financial_analyst`?"));
    assert!(!run.stderr.contains('\u{1b}'), "no colour codes when piped");
    assert!(run.stderr.contains("1 error, 0 warnings"), "{}", run.stderr);
}

#[test]
fn warnings_pass_unless_denied() {
    Wfc::new(["check", "tests/cases/unused_trigger.wf"])
        .run()
        .expect_code(0);
    let run = Wfc::new([
        "check",
        "--deny",
        "warnings",
        "tests/cases/unused_trigger.wf",
    ])
    .run()
    .expect_code(1);
    assert!(run.stderr.contains("wf::unused_trigger"));
}

#[test]
fn json_format_prints_one_object_per_diagnostic() {
    let run = Wfc::new(["check", "--format", "json", "tests/cases/invalid_cron.wf"])
        .run()
        .expect_code(1);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(lines[0]["code"], "wf::invalid_cron");
    assert_eq!(lines[0]["severity"], "error");
    assert_eq!(lines[0]["file"], "tests/cases/invalid_cron.wf");
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[0]["column"], 22);
    assert_eq!(lines[0]["span"]["start"], 21);
}

#[test]
fn several_files_are_all_checked() {
    let run = Wfc::new([
        "check",
        "tests/cases/unknown_agent.wf",
        "tests/cases/unknown_trigger.wf",
    ])
    .run()
    .expect_code(1);
    assert!(run.stderr.contains("wf::unknown_agent") && run.stderr.contains("wf::unknown_trigger"));
    assert!(run.stderr.contains("checked 2 files"));
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let run = Wfc::new(["check", "no/such/file.wf"]).run().expect_code(2);
    assert!(
        run.stderr.contains("cannot read `no/such/file.wf`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn a_directory_is_every_wf_file_below_it() {
    let files = crate::support::example_files();
    let run = Wfc::new(["check", "examples"]).run().expect_code(0);
    assert!(
        run.stderr
            .contains(&format!("checked {files} files: no problems")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_that_is_not_utf8_is_a_usage_error() {
    let dir = scratch("not_utf8");
    std::fs::write(dir.join("bad.wf"), b"agent a { run [\"\xff\xfe\"] }").unwrap();
    let run = Wfc::new(["check", "bad.wf"]).dir(&dir).run().expect_code(2);
    assert!(run.stderr.contains("not UTF-8"), "{}", run.stderr);
    assert!(run.stderr.contains("offset 16"), "{}", run.stderr);
}

#[test]
fn bad_arguments_are_usage_errors() {
    Wfc::new(["check"]).run().expect_code(2);
    Wfc::new(["check", "--format", "xml", "x.wf"])
        .run()
        .expect_code(2);
    Wfc::new(["frobnicate"]).run().expect_code(2);
}

#[test]
fn imports_resolve_from_the_importing_file_wherever_wfc_runs() {
    let dir = scratch("imports");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(
        dir.join("lib/agents.wf"),
        "agent echo { compute { ok: true } }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.wf"),
        "import \"lib/agents.wf\"\ntrigger go { manual }\nworkflow w { on go chain echo -> echo }\n",
    )
    .unwrap();
    Wfc::new(["check", dir.join("main.wf").to_str().unwrap()])
        .run()
        .expect_code(0);
    Wfc::new(["check", "main.wf"])
        .dir(&dir)
        .run()
        .expect_code(0);
}

#[test]
fn a_clash_across_files_points_into_both() {
    let run = Wfc::new(["check", "tests/cases/duplicate_agent.wf"])
        .run()
        .expect_code(1);
    assert!(
        run.stderr.contains("tests/cases/imports/shared_agent.wf"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("first declared here"));
}

#[test]
fn completions_and_a_man_page_come_from_the_one_command_definition() {
    let bash = Wfc::new(["completions", "bash"])
        .run()
        .expect_code(0)
        .stdout;
    assert!(bash.contains("_wfc()") && bash.contains("history") && bash.contains("--db"));
    let checked = std::process::Command::new("bash")
        .args(["-n", "-c", &bash])
        .status()
        .unwrap();
    assert!(checked.success(), "bash parses the completion script");
    let zsh = Wfc::new(["completions", "zsh"]).run().expect_code(0).stdout;
    assert!(zsh.starts_with("#compdef wfc"), "{zsh}");
    let fish = Wfc::new(["completions", "fish"])
        .run()
        .expect_code(0)
        .stdout;
    assert!(fish.contains("complete -c wfc") && fish.contains("serve"));
    let man = Wfc::new(["man"]).run().expect_code(0).stdout;
    assert!(man.contains(".TH wfc 1") && man.contains("serve"), "{man}");
    let run = Wfc::new(["completions", "tcsh"]).run().expect_code(2);
    assert!(run.stderr.contains("possible values"), "{}", run.stderr);
}

#[test]
fn global_options_work_in_any_position() {
    let dir = scratch("global_options");
    let db = dir.join("x.db");
    let db = db.to_str().unwrap();
    for args in [
        &["--db", db, "metrics", "record", "m", "1"][..],
        &["metrics", "--db", db, "record", "m", "2"],
        &["metrics", "record", "m", "3", "--db", db],
    ] {
        Wfc::new(args).run().expect_code(0);
    }
    let samples = |args: &[&str]| -> usize {
        let out = Wfc::new(args).run().expect_code(0).stdout;
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["samples"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        samples(&["--db", db, "metrics", "m", "--format", "json"]),
        3
    );
    assert_eq!(
        samples(&["metrics", "m", "--db", db, "--format", "json"]),
        3
    );
    for args in [
        &["dlq", "list", "--db", db, "--format", "json"][..],
        &["dlq", "--format", "json", "list", "--db", db],
        &["--db", db, "dlq", "--format", "json", "list"],
    ] {
        let out = Wfc::new(args).run().expect_code(0).stdout;
        assert_eq!(out.trim(), "[]", "{args:?}");
    }
    let run = Wfc::new(["history", "--status", "cancelled", "--db", db]).run();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn check_reads_standard_input_with_imports_from_the_current_directory() {
    let project = Project::new("cli_check_stdin").file(
        "lib/agents.wf",
        "agent noop { output { ok: bool } compute { ok: true } }\n",
    );
    let program =
        "import \"lib/agents.wf\"\ntrigger go { manual }\nworkflow w { on go chain noop }\n";
    let run = project
        .cli(["check", "-"])
        .stdin(program)
        .run()
        .expect_code(0);
    assert!(
        run.stderr.contains("checked 1 file: no problems"),
        "{}",
        run.stderr
    );
    let run = project
        .cli(["check", "-"])
        .stdin("workflow w { chain nope }\n")
        .run()
        .expect_code(1);
    assert!(run.stderr.contains("<stdin>:1:"), "{}", run.stderr);
    assert!(run.stderr.contains("wf::unknown_agent"), "{}", run.stderr);
    // Hostile input: not UTF-8, and more than a source file may be.
    let run = Wfc::new(["check", "-"])
        .stdin(vec![b'a', 0xff, b'b'])
        .run()
        .expect_code(2);
    assert!(run.stderr.contains("<stdin>"), "{}", run.stderr);
    let huge = vec![b' '; (wfc::loader::MAX_SOURCE + 10) as usize];
    let run = Wfc::new(["check", "-"]).stdin(huge).run().expect_code(2);
    assert!(run.stderr.contains("larger than 16 MiB"), "{}", run.stderr);
    let run = Wfc::new(["check", "-", "-"]).stdin("").run().expect_code(2);
    assert!(run.stderr.contains("named twice"), "{}", run.stderr);
}

#[test]
fn check_and_fmt_walk_directories_skipping_what_gitignore_ignores() {
    let good = "trigger go { manual }\nagent noop { compute { ok: true } }\nworkflow w { on go chain noop }\n";
    let project = Project::new("cli_check_dir")
        .file(".gitignore", "build/\n*.generated.wf\n")
        .file("flows/a.wf", good)
        .file("flows/deep/b.wf", good)
        .file("flows/skip.generated.wf", "agent {")
        .file("build/out.wf", "agent {")
        .file(".hidden/x.wf", "agent {")
        .file("notes.txt", "not a workflow");
    let run = project.wfc(["check", "."]).expect_code(0);
    assert!(
        run.stderr.contains("checked 2 files: no problems"),
        "{}",
        run.stderr
    );
    // Named outright, an ignored file is checked.
    project
        .wfc(["check", "flows", "build/out.wf"])
        .expect_code(1);
    let project = project.file("flows/deep/b.wf", "trigger  go {manual}\n");
    project.wfc(["fmt", "--check", "."]).expect_code(1);
    let run = project.wfc(["fmt", "."]).expect_code(0);
    assert!(
        run.stderr.contains("formatted 1 of 2 files"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(project.dir.join("build/out.wf")).unwrap(),
        "agent {",
        "an ignored file is left alone"
    );
    std::fs::create_dir_all(project.dir.join("empty")).unwrap();
    let run = project.wfc(["check", "empty"]).expect_code(2);
    assert!(
        run.stderr.contains("no .wf file under `empty`"),
        "{}",
        run.stderr
    );
    let run = project.wfc(["fmt", "-", "flows"]).expect_code(2);
    assert!(run.stderr.contains("name no other path"), "{}", run.stderr);
}

/// `wfc man` refers to `wfc-check(1)` and the others: `--dir` writes each of
/// them (once it wrote none).
#[test]
fn man_writes_every_page_it_refers_to() {
    let project = crate::support::Project::new("man_pages");
    let dir = project.dir.join("man1");
    project
        .wfc(["man", "--dir", dir.to_str().unwrap()])
        .expect_code(0);
    let main = std::fs::read_to_string(dir.join("wfc.1")).unwrap();
    let referred: Vec<&str> = main
        .split("wfc\\-")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    assert!(
        referred.contains(&"check") && referred.contains(&"run"),
        "{referred:?}"
    );
    for name in referred {
        assert!(
            dir.join(format!("wfc-{name}.1")).is_file(),
            "wfc-{name}.1 is missing"
        );
    }
    assert!(dir.join("wfc-dlq-replay.1").is_file());
}

/// Messages that were not true: "no executions recorded yet" under a filter or
/// `--limit 0`, a hint to `wfc show` without the `--db` given, and "no worker
/// has run anything" after workers did and stopped cleanly.
#[test]
fn empty_lists_and_hints_say_what_is_true() {
    let project = crate::support::Project::sqlite("true_messages").file(
        "flow.wf",
        "agent a { output { ok: bool } compute { ok: true } }\ntrigger go { manual }\nworkflow w { on go chain a }\n",
    );
    let said = |args: &[&str]| {
        let run = project.wfc(args).expect_code(0);
        format!("{}{}", run.stdout, run.stderr)
    };
    assert!(said(&["history", "--db", "other.db"]).contains("no executions recorded yet"));
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w", "--db", "other.db"])
        .expect_code(0);
    assert!(run.stderr.contains(" --db other.db`"), "{}", run.stderr);
    let history = |args: &[&str]| {
        let mut all = vec!["history", "--db", "other.db"];
        all.extend_from_slice(args);
        said(&all)
    };
    assert!(history(&["--status", "failed"]).contains("no execution matches these filters"));
    assert!(history(&["--workflow", "nope"]).contains("no execution matches these filters"));
    assert!(history(&["--limit", "0"]).contains("--limit 0 lists none"));
    let workers = said(&["workers", "--db", "other.db"]);
    assert!(
        workers.contains("no worker is running on this store"),
        "{workers}"
    );
}

/// `wfc check` said nothing of a `run` script that does not exist.
#[test]
fn check_warns_at_a_run_script_that_does_not_exist() {
    let project = crate::support::Project::new("missing_script")
        .file("agents/here.sh", "echo '{}'\n")
        .file(
            "flow.wf",
            "agent ok { run [\"sh\", \"agents/here.sh\"] }\nagent gone { run [\"sh\", \"agents/gone.sh\"] }\n",
        );
    let run = project.wfc(["check", "flow.wf"]).expect_code(0);
    assert!(run.stderr.contains("wf::missing_program"), "{}", run.stderr);
    assert!(
        run.stderr.contains("agents/gone.sh` does not exist"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("here.sh` does not"), "{}", run.stderr);
    project
        .wfc(["check", "--deny", "warnings", "flow.wf"])
        .expect_code(1);
}

/// One missing import once gave eleven errors, one per name it would have
/// declared: the import is reported, and what may follow from it is counted.
#[test]
fn a_missing_import_is_reported_once_not_once_per_name() {
    let project = crate::support::Project::new("missing_import").file(
        "flow.wf",
        "import \"gone.wf\"\ntrigger go { manual }\n\
         workflow w { on go chain fetch -> score -> publish }\n\
         workflow v { on go steps { r = rank({}) s = workflow sub({}) } }\n",
    );
    let run = project.wfc(["check", "flow.wf"]).expect_code(1);
    assert_eq!(run.stderr.matches("wf::").count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("wf::import_not_found"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("5 more diagnostics"), "{}", run.stderr);
    // Without the missing import, the unknown names are reported as before.
    let plain = crate::support::Project::new("no_import").file(
        "flow.wf",
        "trigger go { manual }\nworkflow w { on go chain fetch }\n",
    );
    let run = plain.wfc(["check", "flow.wf"]).expect_code(1);
    assert!(run.stderr.contains("wf::unknown_agent"), "{}", run.stderr);
}
