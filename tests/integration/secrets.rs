//! Secrets and subprocess agents: a program's secrets never reach what a
//! subprocess's output becomes (its stored stderr tail, output, messages), and a
//! `--secrets` value reaches a subprocess only when its agent's `env` asks for it.

use crate::support::{execution_ids, in_no_file, Project};

const FILE_SECRET: &str = "k-from-file-77124";
const ENV_SECRET: &str = "crm-from-env-99310";

fn project() -> Project {
    Project::new("subprocess_secrets")
        .file("secrets.env", &format!("API_KEY={FILE_SECRET}\n"))
        .file(
            "leak.sh",
            "env >&2\nprintf '{\"key\": \"%s\", \"len\": %d}' \"$API_KEY\" ${#API_KEY}\n",
        )
        .file(
            "fail.sh",
            "env >&2\necho \"API_KEY is '$API_KEY'\" >&2\necho \"token $CRM_TOKEN\" >&2\nexit 3\n",
        )
        .file(
            "flow.wf",
            "trigger go { manual }\n\
             agent crm { http POST \"http://127.0.0.1:9/x\" headers { Authorization: secret(\"CRM_TOKEN\") } }\n\
             agent leaky {\n  output { key: string, len: number }\n  run [\"sh\", \"leak.sh\"]\n  env { API_KEY: secret(\"API_KEY\") }\n}\n\
             agent failing { run [\"sh\", \"fail.sh\"] }\n\
             workflow leak { on go steps { r = leaky({}) } output r }\n\
             workflow broken { on go steps { r = failing({}) } output r }\n\
             workflow unused { on go steps { r = crm({}) } output r }\n",
        )
}

#[test]
fn a_subprocess_gets_only_the_secrets_it_asks_for_and_none_is_kept() {
    let project = project();
    let wfc = |args: &[&str]| {
        let mut full = vec!["--secrets", "secrets.env"];
        full.extend_from_slice(args);
        project.cli(&full).env("CRM_TOKEN", ENV_SECRET).run()
    };
    let leak = wfc(&["run", "flow.wf", "--workflow", "leak"]).expect_code(0);
    let output: serde_json::Value = serde_json::from_str(&leak.stdout).unwrap();
    // It got the value (its length shows), and what it printed of it is redacted.
    assert_eq!(output["len"], FILE_SECRET.len(), "{}", leak.stdout);
    assert_eq!(output["key"], "[secret API_KEY]", "{}", leak.stdout);

    let fail = wfc(&["run", "flow.wf", "--workflow", "broken"]).expect_code(1);
    let mut seen = vec![leak.stdout, leak.stderr, fail.stdout, fail.stderr];
    let ids = execution_ids(&project.store());
    assert_eq!(ids.len(), 2);
    let mut stderr_tail = String::new();
    for id in &ids {
        let shown = wfc(&["show", id.as_str()]).expect_code(0);
        stderr_tail.push_str(&shown.stdout);
        seen.push(shown.stdout);
        seen.push(wfc(&["show", id.as_str()]).expect_code(0).stdout);
    }
    // The failing agent inherited CRM_TOKEN (printed, then redacted) but not the
    // file's API_KEY, which it did not ask for.
    assert!(
        stderr_tail.contains("token [secret CRM_TOKEN]"),
        "{stderr_tail}"
    );
    assert!(stderr_tail.contains("API_KEY is ''"), "{stderr_tail}");
    for text in &seen {
        assert!(!text.contains(FILE_SECRET), "printed:\n{text}");
        assert!(!text.contains(ENV_SECRET), "printed:\n{text}");
    }
    in_no_file(&project.dir, &[FILE_SECRET, ENV_SECRET], &["secrets.env"]);
}

#[test]
fn env_is_checked_like_headers() {
    let project = Project::new("subprocess_env_check").file(
        "flow.wf",
        "agent a { input { n: number } run [\"sh\", \"a.sh\"] env { COUNT: input.n, K: secret(\"K\") } }\n\
         agent b { compute { x: 1 } env { K: secret(\"K\") } }\n",
    );
    let run = project.wfc(["check", "flow.wf"]).expect_code(1);
    assert!(run.stderr.contains("wf::type_mismatch"), "{}", run.stderr);
    assert!(run.stderr.contains("variable `COUNT`"), "{}", run.stderr);
    assert!(run.stderr.contains("wf::invalid_env"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("wf::misplaced_secret"),
        "{}",
        run.stderr
    );
}
