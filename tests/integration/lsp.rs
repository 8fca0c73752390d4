//! `wfc lsp` driven over stdio by a small client: diagnostics as you type (UTF-16
//! columns, an edit into an invalid state and back, an import edited in another
//! file), hover, go to definition across an import, the outline, formatting,
//! unknown requests and bad parameters answered, and shutdown then exit ending
//! the process.

use crate::support::{git, git_or_skip, Project};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(project: &Project) -> Client {
        Client::start_with(project, Stdio::null())
    }

    /// A client of a server whose stderr goes to `stderr`.
    fn start_with(project: &Project, stderr: Stdio) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wfc"))
            .arg("lsp")
            .current_dir(&project.dir)
            // Copies of pinned files go to the project's own cache.
            .env("XDG_CACHE_HOME", project.dir.join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length: ") {
                    length = n.parse::<usize>().ok();
                }
            }
            let mut body = vec![0; length.expect("a Content-Length header")];
            stdout.read_exact(&mut body).unwrap();
            if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            next_id: 0,
        };
        let root = url::Url::from_directory_path(&project.dir).unwrap();
        let answer = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": root.as_str(), "capabilities": {} }),
        );
        assert_eq!(
            answer["result"]["capabilities"]["hoverProvider"], true,
            "{answer}"
        );
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its response (notifications before it are kept
    /// for `diagnostics`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.wait(|m| m["id"] == id)
    }

    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("no answer within 20 s"),
                Err(RecvTimeoutError::Disconnected) => panic!("the server ended"),
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let message = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "wf", "version": 1, "text": text } }),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "text": text }] }),
        );
    }
}

fn uri(project: &Project, file: &str) -> String {
    let path = project.dir.canonicalize().unwrap().join(file);
    url::Url::from_file_path(path).unwrap().to_string()
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

const AGENTS: &str = r#"agent fetch { output { n: number } compute { n: 1 } }
agent score { input { n: number } output { s: number } compute { s: input.n * 2 } retry standard }
retry standard { attempts 3 backoff exponential 1s }
"#;

const FLOW: &str = r#"import "agents.wf"
trigger go { manual }
workflow rank { on go chain fetch -> score }
"#;

/// A project of `agents.wf` and `flow` (which must check), a client, and the
/// flow open in it: the project (it must outlive the client), the client, and
/// the two files' URIs.
fn opened(name: &str, flow: &str) -> (Project, Client, String, String) {
    let project = Project::new(name)
        .file("agents.wf", AGENTS)
        .file("flow.wf", flow);
    project.wfc(["check", "flow.wf"]).expect_code(0);
    let mut client = Client::start(&project);
    let (flow_uri, agents_uri) = (uri(&project, "flow.wf"), uri(&project, "agents.wf"));
    client.open(&flow_uri, flow);
    assert_eq!(client.diagnostics(&flow_uri), Vec::<Value>::new());
    (project, client, flow_uri, agents_uri)
}

#[test]
fn diagnostics_follow_edits_in_the_file_and_in_its_import() {
    let project = Project::new("lsp_diagnostics")
        .file("agents.wf", AGENTS)
        .file("flow.wf", FLOW);
    let mut client = Client::start(&project);
    let (flow, agents) = (uri(&project, "flow.wf"), uri(&project, "agents.wf"));
    client.open(&flow, FLOW);
    assert_eq!(client.diagnostics(&flow), Vec::<Value>::new());
    // A typo after non-ASCII text on the same line: columns count UTF-16 units.
    let typo = FLOW.replace("chain fetch -> score", "/* é😀 */ chain fetch -> scor");
    client.change(&flow, 2, &typo);
    let found = client.diagnostics(&flow);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["code"], "wf::unknown_agent");
    assert_eq!(found[0]["source"], "wfc");
    let line = typo.lines().nth(2).unwrap();
    let byte = line.find("scor").unwrap();
    let units = line[..byte].encode_utf16().count();
    assert_ne!(
        byte, units,
        "the test needs non-ASCII text before the error"
    );
    assert_eq!(
        found[0]["range"]["start"],
        json!({ "line": 2, "character": units })
    );
    assert_eq!(
        found[0]["range"]["end"],
        json!({ "line": 2, "character": units + 4 })
    );
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `score`?"),
        "{found:?}"
    );
    // Back to a valid text: the diagnostic goes.
    client.change(&flow, 3, FLOW);
    assert_eq!(client.diagnostics(&flow), Vec::<Value>::new());
    // The import, edited in its own buffer (unsaved), breaks the file that imports it.
    client.open(&agents, AGENTS);
    client.change(&agents, 2, &AGENTS.replace("agent score", "agent scorer"));
    let found = loop {
        let found = client.diagnostics(&flow);
        if !found.is_empty() {
            break found;
        }
    };
    assert_eq!(found[0]["code"], "wf::unknown_agent", "{found:?}");
    // A half-typed file gets a syntax error, not a crash; the server still answers.
    client.change(&agents, 3, "agent score { input { n: num");
    let found = loop {
        let found = client.diagnostics(&agents);
        if !found.is_empty() {
            break found;
        }
    };
    assert_eq!(found[0]["code"], "wf::syntax", "{found:?}");
    let answer = client.request("textDocument/hover", at(&agents, 0, 8));
    assert!(answer.get("error").is_none(), "{answer}");
}

#[test]
fn hover_definition_outline_and_formatting() {
    let (_project, mut client, flow, agents) = opened("lsp_navigation", FLOW);
    // `score` in `chain fetch -> score`, declared in the imported file.
    let column = FLOW.lines().nth(2).unwrap().find("score").unwrap() as u32 + 2;
    let answer = client.request("textDocument/definition", at(&flow, 2, column));
    assert_eq!(answer["result"]["uri"], agents.as_str(), "{answer}");
    assert_eq!(
        answer["result"]["range"]["start"],
        json!({ "line": 1, "character": 6 })
    );
    let answer = client.request("textDocument/hover", at(&flow, 2, column));
    let hover = answer["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        hover.contains("agent `score`** (in `agents.wf`)"),
        "{hover}"
    );
    assert!(
        hover.contains("takes:   { n: number }"),
        "the agent's contract: {hover}"
    );
    // A retry policy's hover gives its delays (`wfc explain`).
    client.open(&agents, AGENTS);
    client.diagnostics(&agents);
    let answer = client.request("textDocument/hover", at(&agents, 2, 8));
    let hover = answer["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        hover.contains("retry policy `standard`") && hover.contains("1s"),
        "{hover}"
    );
    // Not on a name: nothing.
    let answer = client.request("textDocument/hover", at(&flow, 2, 0));
    assert!(answer["result"].is_null(), "{answer}");
    // The outline of a file: its own declarations in order.
    let answer = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": flow } }),
    );
    let names: Vec<&str> = answer["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["go", "rank"]);
    // Formatting: one edit with `wfc fmt`'s text; none for a text that does not parse.
    let messy = "trigger go {   manual }\nworkflow rank { on go\n chain fetch->score }\n";
    client.change(&flow, 2, &format!("import \"agents.wf\"\n{messy}"));
    client.diagnostics(&flow);
    let answer = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": flow }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let edits = answer["result"].as_array().unwrap();
    assert_eq!(edits.len(), 1, "{answer}");
    let formatted = edits[0]["newText"].as_str().unwrap();
    assert_eq!(
        formatted,
        wfc::format::format(&format!("import \"agents.wf\"\n{messy}"))
    );
    assert!(formatted.contains("chain fetch -> score"), "{formatted}");
    client.change(&flow, 3, "workflow rank {");
    client.diagnostics(&flow);
    let answer = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": flow }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert!(answer["result"].is_null(), "{answer}");
}

#[test]
fn unknown_requests_and_bad_parameters_are_answered_and_shutdown_ends_it() {
    let project = Project::new("lsp_protocol").file("flow.wf", FLOW);
    let mut client = Client::start(&project);
    let answer = client.request("textDocument/somethingElse", json!({}));
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
    let answer = client.request("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    // A document never opened: no answer to give, but an answer.
    let answer = client.request("textDocument/hover", at("file:///nowhere/x.wf", 0, 0));
    assert!(answer["result"].is_null(), "{answer}");
    let answer = client.request("shutdown", Value::Null);
    assert!(
        answer["result"].is_null() && answer.get("error").is_none(),
        "{answer}"
    );
    client.notify("exit", Value::Null);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "wfc lsp did not exit");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn references_rename_and_workspace_symbols_span_the_open_files_and_their_imports() {
    let flow = r#"import "agents.wf"
trigger go { manual }
workflow rank { on go chain fetch -> score }
workflow again { on go steps { r = score({ n: 1 }) let x = { score: r.s } } output x }
"#;
    let (project, mut client, flow_uri, agents_uri) = opened("lsp_references", flow);
    let column = flow.lines().nth(2).unwrap().find("score").unwrap() as u32;
    let mut places = |with_declaration: bool| {
        let mut params = at(&flow_uri, 2, column);
        params["context"] = json!({ "includeDeclaration": with_declaration });
        let answer = client.request("textDocument/references", params);
        let mut places: Vec<(String, u64, u64)> = answer["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|l| {
                let start = &l["range"]["start"];
                let file = l["uri"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string();
                (
                    file,
                    start["line"].as_u64().unwrap(),
                    start["character"].as_u64().unwrap(),
                )
            })
            .collect();
        places.sort();
        places
    };
    // The declaration, the chain and the call; not the object key `score:`.
    let call = flow.lines().nth(3).unwrap().find("score").unwrap() as u64;
    let expected = vec![
        ("agents.wf".to_string(), 1, 6),
        ("flow.wf".to_string(), 2, column as u64),
        ("flow.wf".to_string(), 3, call),
    ];
    assert_eq!(places(true), expected);
    assert_eq!(places(false), expected[1..]);
    // Rename across both files; the renamed program still checks.
    let answer = client.request("textDocument/rename", {
        let mut params = at(&flow_uri, 2, column);
        params["newName"] = json!("grade");
        params
    });
    let changes = &answer["result"]["changes"];
    assert_eq!(
        changes[&agents_uri].as_array().unwrap().len(),
        1,
        "{answer}"
    );
    assert_eq!(changes[&flow_uri].as_array().unwrap().len(), 2, "{answer}");
    for (file, text) in [("flow.wf", flow), ("agents.wf", AGENTS)] {
        let edits = changes[&uri(&project, file)].as_array().unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        // Edits on one line from the right, so earlier columns stay valid.
        let mut edits: Vec<&Value> = edits.iter().collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e["range"]["start"]["character"].as_u64()));
        for edit in edits {
            let range = &edit["range"];
            let line = range["start"]["line"].as_u64().unwrap() as usize;
            let (from, to) = (
                range["start"]["character"].as_u64().unwrap() as usize,
                range["end"]["character"].as_u64().unwrap() as usize,
            );
            lines[line].replace_range(from..to, edit["newText"].as_str().unwrap());
        }
        std::fs::write(project.dir.join(file), lines.join("\n") + "\n").unwrap();
    }
    project.wfc(["check", "flow.wf"]).expect_code(0);
    let renamed = std::fs::read_to_string(project.dir.join("flow.wf")).unwrap();
    assert!(
        renamed.contains("-> grade") && renamed.contains("{ score: r.s }"),
        "{renamed}"
    );
    // A keyword is not a name; a place with no declared name has nothing to rename.
    let mut params = at(&flow_uri, 2, column);
    params["newName"] = json!("workflow");
    let answer = client.request("textDocument/rename", params);
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
    let mut params = at(&flow_uri, 1, 13);
    params["newName"] = json!("x");
    let answer = client.request("textDocument/rename", params);
    assert_eq!(answer["error"]["code"], -32803, "{answer}");
    // Workspace symbols: by part of a name, from the imports too.
    let answer = client.request("workspace/symbol", json!({ "query": "SCO" }));
    let symbols = answer["result"].as_array().unwrap();
    assert_eq!(symbols.len(), 1, "{answer}");
    assert_eq!(symbols[0]["name"], "score");
    assert_eq!(symbols[0]["containerName"], "agent");
    assert_eq!(symbols[0]["location"]["uri"], agents_uri.as_str());
}

fn labels(answer: &Value) -> Vec<String> {
    let items = answer["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    items
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

/// The position at the end of `text`.
fn end_of(uri: &str, text: &str) -> Value {
    let line = text.lines().count() as u32 - 1;
    let column = text.lines().last().unwrap().encode_utf16().count() as u32;
    at(uri, line, column)
}

#[test]
fn completion_offers_keywords_names_and_fields_and_typos_get_a_quick_fix() {
    let (_project, mut client, flow, _) = opened("lsp_completion", FLOW);
    // Half-typed: the file does not parse; the names come from its last parsed text.
    let typing = format!("{FLOW}workflow more {{ on go chain fetch -> ");
    client.change(&flow, 2, &typing);
    client.diagnostics(&flow);
    let offered = labels(&client.request("textDocument/completion", end_of(&flow, &typing)));
    assert_eq!(offered, ["fetch", "score"]);
    let typing = format!("{FLOW}workflow more {{ on ");
    client.change(&flow, 3, &typing);
    client.diagnostics(&flow);
    let offered = labels(&client.request("textDocument/completion", end_of(&flow, &typing)));
    assert_eq!(offered, ["go"]);
    // Keywords the grammar takes there: declarations at the top, properties inside.
    let typing = format!("{FLOW}\n");
    client.change(&flow, 4, &typing);
    client.diagnostics(&flow);
    let offered = labels(&client.request("textDocument/completion", at(&flow, 3, 0)));
    for keyword in ["agent", "workflow", "trigger", "alert", "goal", "import"] {
        assert!(
            offered.contains(&keyword.to_string()),
            "{keyword} in {offered:?}"
        );
    }
    let typing = format!("{FLOW}agent x {{ ret");
    client.change(&flow, 5, &typing);
    client.diagnostics(&flow);
    let offered = labels(&client.request("textDocument/completion", end_of(&flow, &typing)));
    for keyword in ["retry", "department", "compute", "timeout", "capacity"] {
        assert!(
            offered.contains(&keyword.to_string()),
            "{keyword} in {offered:?}"
        );
    }
    assert!(!offered.contains(&"workflow".to_string()), "{offered:?}");
    // Fields after `.`: the workflow's input, and a step's agent output.
    let shaped = format!(
        "{FLOW}workflow priced {{ on go input {{ amount: number, who: string? }} steps {{\n  r = score({{ n: input.amount }})\n}} output r }}\n"
    );
    client.change(&flow, 6, &shaped);
    client.diagnostics(&flow);
    let typing = shaped.replace("output r }", "output r.");
    client.change(&flow, 7, &typing);
    client.diagnostics(&flow);
    let line = typing
        .lines()
        .position(|l| l.contains("output r."))
        .unwrap() as u32;
    let column = typing.lines().nth(line as usize).unwrap().len() as u32;
    let answer = client.request("textDocument/completion", at(&flow, line, column));
    assert_eq!(labels(&answer), ["s"]);
    assert_eq!(answer["result"][0]["detail"], "number");
    let typing = shaped.replace("input.amount", "input.");
    client.change(&flow, 8, &typing);
    client.diagnostics(&flow);
    let line = typing.lines().position(|l| l.contains("input.")).unwrap() as u32;
    let column = typing
        .lines()
        .nth(line as usize)
        .unwrap()
        .find("input.")
        .unwrap() as u32
        + 6;
    let answer = client.request("textDocument/completion", at(&flow, line, column));
    assert_eq!(labels(&answer), ["amount", "who"]);
    assert_eq!(answer["result"][1]["detail"], "string?");
    // A typo's did-you-mean is a quick fix.
    let typo = FLOW.replace("-> score", "-> scor");
    client.change(&flow, 9, &typo);
    let found = client.diagnostics(&flow);
    let answer = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": flow }, "range": found[0]["range"],
                "context": { "diagnostics": found } }),
    );
    let action = &answer["result"][0];
    assert_eq!(action["title"], "Change to `score`", "{answer}");
    let edit = &action["edit"]["changes"][&flow][0];
    assert_eq!(edit["newText"], "score");
    assert_eq!(edit["range"], found[0]["range"]);
}

/// Once, one notification without its parameters ended the server, and a
/// 60 MiB body that was not JSON was copied whole to stderr.
#[test]
fn a_client_sending_malformed_messages_is_answered_and_served_on() {
    let project = Project::new("lsp_malformed")
        .file("agents.wf", AGENTS)
        .file("flow.wf", FLOW);
    let log = project.dir.join("stderr.log");
    let mut client =
        Client::start_with(&project, Stdio::from(std::fs::File::create(&log).unwrap()));
    client.notify("textDocument/didOpen", Value::Null);
    client.send(json!({ "jsonrpc": "2.0", "method": "textDocument/didChange" }));
    // A request whose shape is wrong gets an error with its id.
    client.send(json!({ "jsonrpc": "2.0", "id": 99, "params": {} }));
    let answer = client.wait(|m| m["id"] == 99);
    assert_eq!(answer["error"]["code"], -32600, "{answer}");
    // A body of garbage, and one longer than any message is read.
    let garbage = "x".repeat(60 << 20);
    write!(
        client.stdin,
        "Content-Length: {}\r\n\r\n{garbage}",
        garbage.len()
    )
    .unwrap();
    let past = 4 * (16 << 20) + (1 << 20) + 1;
    write!(client.stdin, "Content-Length: {past}\r\n\r\n").unwrap();
    client.stdin.write_all(&vec![b' '; past]).unwrap();
    // Still serving.
    let flow = uri(&project, "flow.wf");
    client.open(&flow, FLOW);
    assert_eq!(client.diagnostics(&flow), Vec::<Value>::new());
    let answer = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": flow } }),
    );
    assert_eq!(
        answer["result"].as_array().map(Vec::len),
        Some(2),
        "{answer}"
    );
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert!(client.child.wait().unwrap().success());
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.len() < 4096, "{} bytes of log", said.len());
    assert!(said.contains("dropped `textDocument/didOpen`"), "{said}");
    assert!(said.contains("not JSON"), "{said}");
    assert!(said.contains("skipped a message of"), "{said}");
}

#[test]
fn input_that_cannot_be_framed_gets_a_clear_error_and_an_exit() {
    let project = Project::new("lsp_garbage");
    // No length at all; and a length whose body never comes.
    let inputs: [(&[u8], &str); 2] = [
        (b"hello\r\n\r\n", "malformed header"),
        (
            b"Content-Length: 99999999999999\r\n\r\n{}",
            "ended inside a message",
        ),
    ];
    for (input, said) in inputs {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wfc"))
            .arg("lsp")
            .current_dir(&project.dir)
            // Copies of pinned files go to the project's own cache.
            .env("XDG_CACHE_HOME", project.dir.join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input).unwrap();
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("the language server stopped") && stderr.contains(said),
            "{stderr}"
        );
    }
}

#[test]
fn steps_and_imports_are_places_to_go_to() {
    let flow = r#"import "agents.wf"
trigger go { manual }
workflow again { on go steps { r = score({ n: 1 }) let x = { score: r.s } } output x }
workflow other { on go steps { x = fetch({}) } output x }
"#;
    let (_project, mut client, flow_uri, agents_uri) = opened("lsp_steps", flow);
    let line = flow.lines().nth(2).unwrap();
    // `r` in `r.s` goes to `r = score(…)`.
    let read = line.find("r.s").unwrap() as u32;
    let answer = client.request("textDocument/definition", at(&flow_uri, 2, read));
    let bound = line.find("r = ").unwrap() as u64;
    assert_eq!(
        answer["result"]["range"]["start"],
        json!({ "line": 2, "character": bound })
    );
    // `x` of `again` is its `let` and its output, not the `x` of `other`.
    let mut params = at(&flow_uri, 2, line.rfind('x').unwrap() as u32);
    params["context"] = json!({ "includeDeclaration": true });
    let answer = client.request("textDocument/references", params);
    let found = answer["result"].as_array().unwrap();
    assert_eq!(found.len(), 2, "{answer}");
    assert!(
        found.iter().all(|l| l["range"]["start"]["line"] == 2),
        "{answer}"
    );
    // The import's file.
    let answer = client.request("textDocument/definition", at(&flow_uri, 0, 10));
    assert_eq!(answer["result"]["uri"], agents_uri.as_str(), "{answer}");
    assert_eq!(
        answer["result"]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );
}

/// Checking a large file takes a while; an edit that arrives meanwhile is what
/// gets checked and published, not the text it replaced.
#[test]
fn an_edit_during_a_long_check_abandons_it() {
    let project = Project::new("lsp_abandon").file("flow.wf", "");
    let mut client = Client::start(&project);
    let flow = uri(&project, "flow.wf");
    let big: String = (0..20_000)
        .map(|i| format!("agent a{i} {{ output {{ n: number }} compute {{ n: {i} }} }}\n"))
        .collect();
    client.open(&flow, &big);
    let edited = "trigger go { manual }\nworkflow w { on go chain missing_agent }\n";
    client.change(&flow, 2, edited);
    let found = client.diagnostics(&flow);
    assert_eq!(
        found.len(),
        1,
        "the first diagnostics are the edit's: {found:?}"
    );
    assert_eq!(found[0]["code"], "wf::unknown_agent");
    // Requests are answered against the edit too.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": flow } }),
    );
    assert_eq!(
        symbols["result"].as_array().map(Vec::len),
        Some(2),
        "{symbols}"
    );
}

/// After `x = ` only keywords were offered, and after `any [` nothing useful:
/// now the agents (and `workflow`, `any`), and the skills not yet listed.
#[test]
fn completion_offers_agents_after_a_binding_and_skills_in_any() {
    let text = "agent fetch { skills [crm, finance] output { n: number } compute { n: 1 } }\n\
                agent score { skills [finance] input { n: number } output { s: number } compute { s: input.n } }\n\
                trigger go { manual }\nworkflow w { on go steps { r = fetch({}) } output r }\n";
    let (_project, mut client, flow, _) = opened("lsp_completion_calls", text);
    for (n, (typing, wanted, unwanted)) in [
        (
            text.replace("r = fetch({})", "r = fetch({})\n  s = "),
            vec!["fetch", "score", "workflow", "any"],
            vec!["trigger"],
        ),
        (
            text.replace("r = fetch({})", "r = fetch({})\n  s = any ["),
            vec!["crm", "finance"],
            vec!["fetch"],
        ),
        (
            text.replace("r = fetch({})", "r = fetch({})\n  s = any [crm, "),
            vec!["finance"],
            vec!["crm"],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        client.change(&flow, n as i64 + 2, &typing);
        client.diagnostics(&flow);
        let line = typing.lines().position(|l| l.contains("  s = ")).unwrap() as u32;
        // The cursor ends what was typed, before the rest of the line.
        let column = typing
            .lines()
            .nth(line as usize)
            .unwrap()
            .find(" } output")
            .unwrap() as u32;
        let offered = labels(&client.request("textDocument/completion", at(&flow, line, column)));
        for word in wanted {
            assert!(offered.contains(&word.to_string()), "{word} in {offered:?}");
        }
        for word in unwanted {
            assert!(
                !offered.contains(&word.to_string()),
                "{word} in {offered:?}"
            );
        }
    }
}

/// Fields after `.` of any name the workflow binds, on a line that does not
/// parse yet: a step's agent output, a `for` item, a `let` of a path, and a
/// path of fields.
#[test]
fn completion_offers_the_fields_of_bound_names_and_paths() {
    let text = "agent fetch { input { id: string } output { total: number, customer: { name: string, tier: string } } compute { total: 1, customer: { name: \"a\", tier: \"b\" } } }\n\
                trigger go { manual }\n\
                workflow w {\n  on go\n  input { id: string, invoices: [{ id: string, amount: number }] }\n  steps {\n    inv = fetch({ id: input.id })\n    for each in input.invoices {\n      let c = inv.customer\n    }\n  }\n  output inv\n}\n";
    let (_project, mut client, flow, _) = opened("lsp_completion_bound", text);
    for (n, (typed, wanted)) in [
        ("inv.", vec!["total", "customer"]),
        ("each.", vec!["id", "amount"]),
        ("c.", vec!["name", "tier"]),
        ("inv.customer.", vec!["name", "tier"]),
        ("input.invoices.", vec![]),
    ]
    .into_iter()
    .enumerate()
    {
        let line = format!("      let y = {typed}");
        let typing = text.replace(
            "      let c = inv.customer\n",
            &format!("      let c = inv.customer\n{line}\n"),
        );
        client.change(&flow, n as i64 + 2, &typing);
        client.diagnostics(&flow);
        let answer = client.request("textDocument/completion", at(&flow, 9, line.len() as u32));
        assert_eq!(labels(&answer), wanted, "after `{typed}`");
    }
}

/// Hover explains every declaration that checks on its own while the file has
/// errors elsewhere; one with an error (or naming one) shows its source.
#[test]
fn hover_explains_what_checks_on_its_own_in_a_file_with_errors() {
    let text = "retry standard { attempts 3 backoff exponential 1s }\n\
                agent fetch { output { n: number } compute { n: 1 } retry standard }\n\
                agent broken { output { n: number } compute { n: \"x\" } }\n\
                trigger go { manual }\n\
                workflow w { on go chain fetch }\n\
                workflow uses_broken { on go chain broken }\n";
    let (_project, mut client, flow, _) = opened("lsp_hover_errors", &text.replace("\"x\"", "2"));
    client.change(&flow, 2, text);
    let found = client.diagnostics(&flow);
    assert_eq!(found.len(), 1, "{found:?}");
    let hover = |client: &mut Client, line, column| {
        let answer = client.request("textDocument/hover", at(&flow, line, column));
        answer["result"]["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let fetch = hover(&mut client, 1, 7);
    assert!(fetch.contains("retry: standard (3 attempts)"), "{fetch}");
    let policy = hover(&mut client, 0, 8);
    assert!(policy.contains("up to 3 attempts"), "{policy}");
    let workflow = hover(&mut client, 4, 10);
    assert!(workflow.contains("worst-case time"), "{workflow}");
    for (line, column) in [(2, 8), (5, 12)] {
        let source = hover(&mut client, line, column);
        assert!(source.contains("```wf\n"), "{source}");
    }
}

/// `await` is offered where a step binds; `event.` in its `where` offers the
/// payload's fields, as does the step after it; hover on the step shows it.
#[test]
fn completion_and_hover_know_await() {
    let text = "trigger go { manual }\nworkflow w {\n  on go\n  input { id: string }\n  steps {\n    decision = await \"invoice.approved\" { approved: bool, by: string }\n        where event.by == input.id\n        timeout 2d\n  }\n  output decision\n}\n";
    let (_project, mut client, flow, _) = opened("lsp_await", text);
    let typing = text.replace("where event.by", "where event.");
    client.change(&flow, 2, &typing);
    client.diagnostics(&flow);
    let offered = labels(&client.request("textDocument/completion", at(&flow, 6, 20)));
    assert_eq!(offered, ["approved", "by"]);
    let typing = text.replace("  output decision", "  output decision.");
    client.change(&flow, 3, &typing);
    client.diagnostics(&flow);
    let offered = labels(&client.request("textDocument/completion", at(&flow, 9, 18)));
    assert_eq!(offered, ["approved", "by"]);
    let typing = text.replace("    decision = await", "    x = \n    decision = await");
    client.change(&flow, 4, &typing);
    client.diagnostics(&flow);
    let offered = labels(&client.request("textDocument/completion", at(&flow, 5, 8)));
    assert!(offered.contains(&"await".to_string()), "{offered:?}");
    client.change(&flow, 5, text);
    client.diagnostics(&flow);
    let answer = client.request("textDocument/hover", at(&flow, 9, 10));
    let shown = answer["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(shown.contains("await \"invoice.approved\""), "{answer}");
}

/// `workflow w = ` offers the templates; hover on a template explains its
/// parameters and the workflows made from it; go to definition lands on it.
#[test]
fn templates_are_offered_explained_and_found() {
    let text = "agent a { input { n: number } output { ok: bool } compute { ok: true } }\ntrigger go { manual }\ntemplate check(reviewer: agent { n: number } -> { ok: bool }, cap: number = 3) {\n  input { n: number }\n  chain reviewer\n}\nworkflow w = check(reviewer: a) { on go }\n";
    let (_project, mut client, flow, _) = opened("lsp_templates", text);
    let typing = format!("{text}workflow v = ");
    client.change(&flow, 2, &typing);
    client.diagnostics(&flow);
    let offered = labels(&client.request("textDocument/completion", end_of(&flow, &typing)));
    assert_eq!(offered, ["check"]);
    client.change(&flow, 3, text);
    client.diagnostics(&flow);
    let answer = client.request("textDocument/hover", at(&flow, 6, 14));
    let shown = answer["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(shown.contains("**template `check`**"), "{answer}");
    assert!(
        shown.contains("cap: number = 3") && shown.contains("workflows made from it"),
        "{shown}"
    );
    let found = client.request("textDocument/definition", at(&flow, 6, 14));
    assert_eq!(found["result"]["range"]["start"]["line"], 2, "{found}");
    // On an argument's name: the parameter it gives, as declared.
    let answer = client.request("textDocument/hover", at(&flow, 6, 20));
    let shown = answer["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        shown.contains("**parameter `reviewer` of template `check`**")
            && shown.contains("reviewer: agent { n: number } -> { ok: bool }"),
        "{answer}"
    );
}

/// Going to a template read at a git revision opens that revision's text (a
/// read-only copy), not the working tree's.
#[test]
fn definition_across_a_pinned_import_opens_the_committed_text() {
    if !git_or_skip("going to a pinned definition") {
        return;
    }
    let library = "agent a { input { n: number } output { ok: bool } compute { ok: true } }\n\ntemplate check(reviewer: agent { n: number } -> { ok: bool }) {\n  input { n: number }\n  chain reviewer\n}\n";
    let flow = "import \"lib/checks.wf\" at \"v1\"\ntrigger go { manual }\nworkflow w = check(reviewer: a) { on go }\n";
    let project = Project::new("lsp_pinned").file("lib/checks.wf", library);
    git(&project.dir, &["init", "-q", "-b", "main"]);
    git(&project.dir, &["add", "lib"]);
    git(&project.dir, &["commit", "-qm", "v1"]);
    git(&project.dir, &["tag", "v1"]);
    // The working tree moves on; the pin does not.
    std::fs::write(
        project.dir.join("lib/checks.wf"),
        format!("// edited\n\n{library}"),
    )
    .unwrap();
    let project = project.file("flow.wf", flow);
    let mut client = Client::start(&project);
    let flow_uri = uri(&project, "flow.wf");
    client.open(&flow_uri, flow);
    assert_eq!(client.diagnostics(&flow_uri), Vec::<Value>::new());
    let found = client.request("textDocument/definition", at(&flow_uri, 2, 14));
    let target = found["result"]["uri"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        target.contains("/cache/wfc/pinned/") && target.ends_with("/lib/checks.wf"),
        "{found}"
    );
    assert_eq!(found["result"]["range"]["start"]["line"], 2, "{found}");
    let path = url::Url::parse(&target).unwrap().to_file_path().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), library);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o222, 0, "the copy is read-only");
}

/// Inside `workflow w = template(`: the parameters not given yet; after an
/// agent parameter's `name: `, the agents that meet its contract only.
#[test]
fn template_arguments_complete_parameters_and_fitting_agents() {
    let text = "agent fits { input { n: number } output { ok: bool, by: string } compute { ok: true, by: \"a\" } }\nagent narrow { input { n: number } output { ok: bool } compute { ok: true } }\ntrigger go { manual }\ntemplate check(reviewer: agent { n: number } -> { ok: bool, by: string }, cap: number = 3) {\n  input { n: number }\n  chain reviewer\n}\nworkflow w = check(reviewer: fits) { on go }\n";
    let (_project, mut client, flow, _) = opened("lsp_template_args", text);
    for (n, (typing, wanted)) in [
        ("workflow v = check(", vec!["reviewer", "cap"]),
        ("workflow v = check(cap: 4, ", vec!["reviewer"]),
        ("workflow v = check(reviewer: ", vec!["fits"]),
    ]
    .into_iter()
    .enumerate()
    {
        let typing = format!("{text}{typing}");
        client.change(&flow, n as i64 + 2, &typing);
        client.diagnostics(&flow);
        let offered = labels(&client.request("textDocument/completion", end_of(&flow, &typing)));
        assert_eq!(offered, wanted, "{typing}");
    }
}
