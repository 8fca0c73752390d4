//! The editor's HTTP side over a real socket: files listed and read with their
//! blobs; a typo checked as `wfc check` reports it; a save refused without
//! `--edit`, refused with 409 and both texts after a concurrent edit (nothing
//! is overwritten), refused with 422 when it does not check (a draft is kept
//! beside it, never served), and otherwise written and served at once.

use crate::server::Server;
use crate::support::Project;
use serde_json::{json, Value};

const FLOW: &str = "import \"lib.wf\"\ntrigger go { manual }\nworkflow greet { on go steps { r = hello({}) } output r }\n";
const LIB: &str = "agent hello { compute { says: \"v1\" } }\n";

fn project(name: &str) -> Project {
    Project::new(name).file("flow.wf", FLOW).file("lib.wf", LIB)
}

fn body(value: Value) -> String {
    value.to_string()
}

#[test]
fn files_are_read_and_checked_as_wfc_check_does() {
    let project = project("editor_check");
    let server = Server::start(&project, &[]);
    let (status, files) = server.http("GET", "/files", None, None);
    assert_eq!(status, 200);
    let names: Vec<&str> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["flow.wf", "lib.wf"]);
    assert_eq!(files["files"][0]["root"], true, "the served file");
    assert_eq!(files["files"][1]["root"], false, "an import");
    assert_eq!(files["editable"], false);
    let (status, lib) = server.http("GET", "/files/lib.wf", None, None);
    assert_eq!(status, 200);
    assert_eq!(lib["text"], LIB);
    assert_eq!(lib["blob"], wfc::source::git_blob_id(LIB.as_bytes()));
    let (status, _) = server.http("GET", "/files/../etc/passwd", None, None);
    assert!(status == 404 || status == 400, "{status}");

    // A typo in the import: the same code, message and place as `wfc check`.
    let typo = LIB.replace("agent hello", "agent helo");
    let (status, checked) = server.http(
        "POST",
        "/check",
        Some(&body(json!({ "path": "lib.wf", "text": typo }))),
        None,
    );
    assert_eq!(status, 200, "{checked}");
    let found = &checked["diagnostics"][0];
    assert_eq!(found["code"], "wf::unknown_agent", "{checked}");
    assert_eq!(found["file"], "flow.wf");
    std::fs::write(project.dir.join("lib.wf"), &typo).unwrap();
    let cli = project
        .wfc(["check", "--format", "json", "flow.wf"])
        .expect_code(1);
    let first: Value = serde_json::from_str(cli.stdout.lines().next().unwrap()).unwrap();
    // The editor's answer adds the range its marks use, in lines and UTF-16 units.
    let mut without_range = found.clone();
    let range = without_range.as_object_mut().unwrap().remove("range");
    assert_eq!(
        range,
        Some(
            json!({ "start": { "line": 2, "character": 35 }, "end": { "line": 2, "character": 40 } })
        )
    );
    assert_eq!(first, without_range, "the editor and wfc check agree");
    std::fs::write(project.dir.join("lib.wf"), LIB).unwrap();
    // Fixed, it is clean again.
    let (_, checked) = server.http(
        "POST",
        "/check",
        Some(&body(json!({ "path": "lib.wf", "text": LIB }))),
        None,
    );
    assert_eq!(checked["diagnostics"], json!([]));
    // A diff against the disk before saving.
    let (_, diff) = server.http(
        "POST",
        "/diff",
        Some(&body(
            json!({ "path": "lib.wf", "text": LIB.replace("v1", "v2") }),
        )),
        None,
    );
    let diff = diff["diff"].as_str().unwrap();
    assert!(
        diff.contains("-agent hello { compute { says: \"v1\" } }"),
        "{diff}"
    );
    assert!(
        diff.contains("+agent hello { compute { says: \"v2\" } }"),
        "{diff}"
    );
    // Without --edit nothing is written.
    let (status, said) = server.http(
        "PUT",
        "/files/lib.wf",
        Some(&body(json!({ "text": LIB, "blob": lib["blob"] }))),
        None,
    );
    assert_eq!(status, 403, "{said}");
    server.stop();
}

#[test]
fn edit_needs_a_token() {
    let project = project("editor_token");
    let out = project
        .cli(["serve", "flow.wf", "--listen", "127.0.0.1:0", "--edit"])
        .env("WFC_TOKEN", "")
        .run()
        .expect_code(2);
    assert!(
        out.stderr.contains("it needs a token too"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_save_is_refused_on_conflict_or_error_and_otherwise_served_at_once() {
    let project = project("editor_save");
    let server = Server::start(&project, &["--edit", "--token", "t"]);
    let token = Some("t");
    let (status, _) = server.http("GET", "/files/lib.wf", None, None);
    assert_eq!(status, 401, "reading needs the token too");
    let (_, lib) = server.http("GET", "/files/lib.wf", None, token);
    let opened = lib["blob"].clone();

    // Someone else saves meanwhile: the save is refused and both texts come back.
    let theirs = LIB.replace("v1", "theirs");
    std::fs::write(project.dir.join("lib.wf"), &theirs).unwrap();
    let mine = LIB.replace("v1", "mine");
    let (status, conflict) = server.http(
        "PUT",
        "/files/lib.wf",
        Some(&body(json!({ "text": mine, "blob": opened }))),
        token,
    );
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["disk"]["text"], theirs);
    assert_eq!(conflict["yours"]["text"], mine);
    assert_eq!(
        std::fs::read_to_string(project.dir.join("lib.wf")).unwrap(),
        theirs
    );

    // Opened again: a text that does not check is refused, or kept as a draft.
    let (_, lib) = server.http("GET", "/files/lib.wf", None, token);
    let broken = "agent hello { compute { says: } }\n";
    let (status, refused) = server.http(
        "PUT",
        "/files/lib.wf",
        Some(&body(json!({ "text": broken, "blob": lib["blob"] }))),
        token,
    );
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["diagnostics"][0]["code"], "wf::syntax");
    let (status, drafted) = server.http(
        "PUT",
        "/files/lib.wf",
        Some(&body(
            json!({ "text": broken, "blob": lib["blob"], "draft": true }),
        )),
        token,
    );
    assert_eq!(
        (status, &drafted["served"]),
        (200, &json!(false)),
        "{drafted}"
    );
    assert_eq!(
        std::fs::read_to_string(project.dir.join("lib.wf.draft")).unwrap(),
        broken
    );
    assert_eq!(
        std::fs::read_to_string(project.dir.join("lib.wf")).unwrap(),
        theirs
    );

    // A valid save is written and runs at once.
    let saved_text = LIB.replace("v1", "saved");
    let (status, saved) = server.http(
        "PUT",
        "/files/lib.wf",
        Some(&body(json!({ "text": saved_text, "blob": lib["blob"] }))),
        token,
    );
    assert_eq!((status, &saved["served"]), (200, &json!(true)), "{saved}");
    assert_eq!(
        std::fs::read_to_string(project.dir.join("lib.wf")).unwrap(),
        saved_text
    );
    let (status, started) = server.http("POST", "/workflows/greet/runs", Some("{}"), token);
    assert_eq!(status, 202);
    let id = started["execution"].as_str().unwrap().to_string();
    crate::support::wait_for(std::time::Duration::from_secs(10), || {
        let (_, detail) = server.http("GET", &format!("/executions/{id}"), None, token);
        detail["execution"]["result"]["r"]["says"] == "saved"
            || detail["execution"]["result"]["says"] == "saved"
    });
    server.stop();
}

/// A file the served program imports from outside the served files'
/// directories is read by the editor but never written.
#[test]
fn an_import_from_outside_the_served_directories_is_not_written() {
    let project = Project::new("editor_outside")
        .file("shared/lib.wf", LIB)
        .file(
            "app/flow.wf",
            &FLOW.replace("\"lib.wf\"", "\"../shared/lib.wf\""),
        );
    let mut command = project.command();
    command.current_dir(project.dir.join("app"));
    let server = Server::spawn(command, "flow.wf", &["--edit", "--token", "t"]);
    let token = Some("t");
    let (status, lib) = server.http("GET", "/files/../shared/lib.wf", None, token);
    assert_eq!(status, 200, "{lib}");
    let (status, said) = server.http(
        "PUT",
        "/files/../shared/lib.wf",
        Some(&body(
            json!({ "text": LIB.replace("v1", "v2"), "blob": lib["blob"] }),
        )),
        token,
    );
    assert_eq!(status, 403, "{said}");
    assert!(
        said["error"]
            .as_str()
            .unwrap()
            .contains("outside the directories"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(project.dir.join("shared/lib.wf")).unwrap(),
        LIB
    );
    server.stop();
}

/// In a git repository, a save commits the saved file alone, with the author
/// and message given; another file's staged change stays staged, not
/// committed, and the saved file is clean afterwards.
#[test]
fn a_save_commits_that_file_alone() {
    if !crate::support::git_or_skip("a save committed into a repository built here") {
        return;
    }
    let project = project("editor_commit");
    let git = |args: &[&str]| crate::support::git(&project.dir, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "flow.wf", "lib.wf"]);
    git(&["commit", "-qm", "first"]);
    // Someone's unrelated change, staged but not committed.
    std::fs::write(project.dir.join("notes.txt"), "staged\n").unwrap();
    git(&["add", "notes.txt"]);
    let server = Server::start(&project, &["--edit", "--token", "t"]);
    let token = Some("t");
    let (_, lib) = server.http("GET", "/files/lib.wf", None, token);
    let saved_text = LIB.replace("v1", "committed");
    let (status, saved) = server.http(
        "PUT",
        "/files/lib.wf",
        Some(&body(json!({
            "text": saved_text, "blob": lib["blob"],
            "author": "Ann Ops", "email": "ann@example.com", "message": "Say committed",
        }))),
        token,
    );
    assert_eq!(status, 200, "{saved}");
    let commit = saved["commit"].as_str().expect("a commit id").to_string();
    server.stop();
    let out = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&project.dir)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(out(&["rev-parse", "HEAD"]).trim(), commit);
    assert_eq!(
        out(&["log", "-1", "--format=%an <%ae>|%s"]).trim(),
        "Ann Ops <ann@example.com>|Say committed"
    );
    assert_eq!(
        out(&["show", "--name-only", "--format=", "HEAD"]).trim(),
        "lib.wf"
    );
    assert_eq!(out(&["show", "HEAD:lib.wf"]), saved_text);
    // The other change is still staged; the saved file is clean.
    assert_eq!(
        out(&["status", "--porcelain", "--untracked-files=no"]),
        "A  notes.txt\n"
    );
}

/// The editor's completion and hover are the language server's, positions
/// in lines and UTF-16 units; each diagnostic says its range that way too.
#[test]
fn completion_hover_and_ranges_are_the_language_servers() {
    let project = project("editor_language");
    let server = Server::start(&project, &[]);
    let (status, language) = server.http("GET", "/language", None, None);
    assert_eq!(status, 200);
    let words = language["keywords"].as_array().unwrap();
    for word in ["workflow", "await", "cron"] {
        assert!(words.contains(&json!(word)), "{language}");
    }
    // `r = h|`: the declared agents (and `hello` among them).
    let half = FLOW.replace("steps { r = hello({}) }", "steps {\n    r = h\n  }");
    let line = half.lines().position(|l| l.contains("r = h")).unwrap();
    let character = half.lines().nth(line).unwrap().find("r = h").unwrap() + 5;
    let at = json!({ "path": "flow.wf", "text": half, "line": line, "character": character });
    let (status, completed) = server.http("POST", "/complete", Some(&body(at)), None);
    assert_eq!(status, 200, "{completed}");
    let labels: Vec<&str> = completed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"hello"), "{completed}");
    // Hover on the agent's name, after a line with a character of two UTF-16 units.
    let text = format!("// 𝄞 music\n{FLOW}");
    let line = text.lines().position(|l| l.contains("hello(")).unwrap();
    let character = text.lines().nth(line).unwrap().find("hello(").unwrap() + 2;
    let at = json!({ "path": "flow.wf", "text": text, "line": line, "character": character });
    let (status, hovered) = server.http("POST", "/hover", Some(&body(at)), None);
    assert_eq!(status, 200, "{hovered}");
    let markdown = hovered["hover"]["contents"]["value"].as_str().unwrap();
    assert!(markdown.contains("agent `hello`"), "{hovered}");
    // A diagnostic's range on a line after a two-unit character.
    let typo = "// 𝄞\nimport \"lib.wf\"\ntrigger go { manual }\nworkflow greet { on go steps { r = helo({}) } output r }\n";
    let (_, checked) = server.http(
        "POST",
        "/check",
        Some(&body(json!({ "path": "flow.wf", "text": typo }))),
        None,
    );
    let found = &checked["diagnostics"][0];
    assert_eq!(found["code"], "wf::unknown_agent", "{checked}");
    let column = typo.lines().nth(3).unwrap().find("helo").unwrap();
    assert_eq!(
        found["range"],
        json!({ "start": { "line": 3, "character": column }, "end": { "line": 3, "character": column + 4 } })
    );
    let (status, refused) = server.http("POST", "/complete", Some("{\"path\": 1}"), None);
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("`line`"));
    server.stop();
}

/// "New workflow": a `.wf` name in a served directory that is not on disk is
/// checked as a program of its own; saved (blob null) it is created — never
/// over a file that appeared meanwhile — served at once, and committed.
#[test]
fn a_new_file_is_checked_created_served_and_committed() {
    let with_git = crate::support::git_or_skip("a new file committed into a repository built here");
    let project = project("editor_new");
    let git = |args: &[&str]| crate::support::git(&project.dir, args);
    if with_git {
        git(&["init", "-q", "-b", "main"]);
        git(&["add", "flow.wf", "lib.wf"]);
        git(&["commit", "-qm", "first"]);
    }
    std::fs::write(project.dir.join("unserved.wf"), "trigger t { manual }\n").unwrap();
    let server = Server::start(&project, &["--edit", "--token", "t"]);
    let token = Some("t");
    let skeleton = wfc::serve::dashboard::SKELETON.replace("{name}", "intake");
    let check = |path: &str, text: &str| {
        server.http(
            "POST",
            "/check",
            Some(&body(json!({ "path": path, "text": text }))),
            token,
        )
    };
    let (status, checked) = check("intake.wf", &skeleton);
    assert_eq!(
        (status, &checked["diagnostics"]),
        (200, &json!([])),
        "{checked}"
    );
    let (_, checked) = check("intake.wf", &skeleton.replace("greeter(", "greter("));
    assert_eq!(checked["diagnostics"][0]["code"], "wf::unknown_agent");
    assert_eq!(checked["diagnostics"][0]["file"], "intake.wf");
    for (path, code) in [
        ("../intake.wf", 404),
        ("intake.txt", 404),
        ("unserved.wf", 409),
        ("/tmp/x.wf", 404),
    ] {
        let (status, said) = check(path, &skeleton);
        assert_eq!(status, code, "{path}: {said}");
    }
    let save = |blob: Value| {
        server.http(
            "PUT",
            "/files/intake.wf",
            Some(&body(json!({ "text": skeleton, "blob": blob, "author": "Nea Ops", "message": "Add intake" }))),
            token,
        )
    };
    let (status, saved) = save(Value::Null);
    assert_eq!((status, &saved["served"]), (200, &json!(true)), "{saved}");
    assert_eq!(
        std::fs::read_to_string(project.dir.join("intake.wf")).unwrap(),
        skeleton
    );
    // Created already: a second "new" save is a conflict, nothing overwritten.
    let (status, conflict) = save(Value::Null);
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(conflict["disk"]["text"], skeleton);
    let (status, started) = server.http(
        "POST",
        "/workflows/intake/runs",
        Some("{\"name\": \"Ada\"}"),
        token,
    );
    assert_eq!(status, 202, "{started}");
    let id = started["execution"].as_str().unwrap().to_string();
    crate::support::wait_for(std::time::Duration::from_secs(10), || {
        let (_, detail) = server.http("GET", &format!("/executions/{id}"), None, token);
        detail["execution"]["result"]["text"] == "Hello, Ada"
    });
    let (_, files) = server.http("GET", "/files", None, token);
    assert!(files["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "intake.wf" && f["root"] == true));
    server.stop();
    if with_git {
        let out = std::process::Command::new("git")
            .args(["log", "-1", "--name-only", "--format=%an|%s"])
            .current_dir(&project.dir)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "Nea Ops|Add intake\n\nintake.wf"
        );
        // Tracked now, and clean.
        let status = std::process::Command::new("git")
            .args(["status", "--porcelain", "--", "intake.wf", "unserved.wf"])
            .current_dir(&project.dir)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&status.stdout), "?? unserved.wf\n");
    }
}
