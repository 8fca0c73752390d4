//! `wfc lsp` driven over stdio by a small client: diagnostics as you type (UTF-16
//! columns, an edit into an invalid state and back, an import edited in another
//! file), hover, go to definition across an import, the outline, formatting,
//! unknown requests and bad parameters answered, and shutdown then exit ending
//! the process.

use crate::support::Project;
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
        let mut child = Command::new(env!("CARGO_BIN_EXE_wfc"))
            .arg("lsp")
            .current_dir(&project.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
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
    let project = Project::new("lsp_navigation")
        .file("agents.wf", AGENTS)
        .file("flow.wf", FLOW);
    let mut client = Client::start(&project);
    let (flow, agents) = (uri(&project, "flow.wf"), uri(&project, "agents.wf"));
    client.open(&flow, FLOW);
    client.diagnostics(&flow);
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
