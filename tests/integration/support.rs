//! A small builder for running the `wfc` binary the way a user does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use wfc::store::Location;

/// The repository root; tests run with it as the working directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One `wfc` invocation: `Wfc::new(["check", "x.wf"]).env("NO_COLOR", "1").run()`.
pub struct Wfc {
    command: Command,
    input: Option<Vec<u8>>,
}

impl Wfc {
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wfc"));
        command
            .args(args)
            .current_dir(root())
            .env_remove("NO_COLOR");
        Wfc {
            command,
            input: None,
        }
    }

    /// What the command reads on standard input (nothing otherwise).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.input = Some(input.into());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn dir(mut self, dir: &Path) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn run(mut self) -> Run {
        use std::io::Write;
        use std::process::Stdio;
        let stdin = if self.input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = self
            .command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the wfc binary runs");
        // Written from a thread: a large input must not block on a full pipe while
        // the child blocks on a full stdout.
        let writer = self.input.take().map(|input| {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            })
        });
        let output: Output = child.wait_with_output().expect("the wfc binary runs");
        if let Some(writer) = writer {
            writer.join().unwrap();
        }
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit status; stderr:\n{}",
            self.stderr
        );
        self
    }
}

/// How many `.wf` files `examples/` holds, its `lib/` included.
pub fn example_files() -> usize {
    ["examples", "examples/lib", "examples/library"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root().join(dir)).unwrap())
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "wf")
        })
        .count()
}

/// A fresh scratch directory under the target directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A scratch project: `.wf` files and agent scripts in a fresh directory, and the
/// store that runs there write: `wfc.db` in it, or, when `WFC_TEST_POSTGRES`
/// names a PostgreSQL server, a fresh database of the project's own there (so
/// the same tests run against both stores).
pub struct Project {
    pub dir: PathBuf,
    pub db: Location,
}

impl Project {
    pub fn new(name: &str) -> Self {
        let dir = scratch(name);
        let db = match postgres_server() {
            Some(server) => Location::Postgres(fresh_database(&server, name)),
            None => Location::File(dir.join("wfc.db")),
        };
        Project { dir, db }
    }

    /// A project on SQLite whatever store the suite runs on: for tests of the
    /// database file itself.
    pub fn sqlite(name: &str) -> Self {
        let dir = scratch(name);
        let db = Location::File(dir.join("wfc.db"));
        Project { dir, db }
    }

    /// The `wfc` binary to run in the project directory, on the project's store.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wfc"));
        command.current_dir(&self.dir).env_remove("NO_COLOR");
        if let Location::Postgres(url) = &self.db {
            command.env("WFC_DB", url);
        }
        command
    }

    pub fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(full, text).unwrap();
        self
    }

    /// Runs `wfc` in the project directory.
    pub fn wfc<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cli(args).run()
    }

    /// `wfc` to run in the project directory, on the project's store.
    pub fn cli<I, S>(&self, args: I) -> Wfc
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let wfc = Wfc::new(args).dir(&self.dir);
        match &self.db {
            Location::Postgres(url) => wfc.env("WFC_DB", url),
            Location::File(_) => wfc,
        }
    }

    /// Runs `wfc`, which must succeed, and parses what it printed as JSON.
    pub fn json<I, S, T>(&self, args: I) -> T
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
        T: serde::de::DeserializeOwned,
    {
        let stdout = self.wfc(args).expect_code(0).stdout;
        serde_json::from_str(&stdout).expect("wfc printed JSON")
    }

    pub fn store(&self) -> wfc::store::Store {
        wfc::store::Store::open(&self.db).expect("the store opens")
    }

    /// Runs `sql` on the project's store as it is, bypassing wfc: for a test
    /// that makes a store look as another wfc left it. `sqlite` or `postgres`
    /// is the statement for that back end.
    pub fn tamper(&self, sqlite: &str, postgres: &str) {
        match &self.db {
            Location::File(path) => rusqlite::Connection::open(path)
                .and_then(|conn| conn.execute_batch(sqlite))
                .expect("the SQLite store takes the statements"),
            Location::Postgres(url) => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                        .await
                        .expect("the PostgreSQL store answers");
                    tokio::spawn(connection);
                    client
                        .batch_execute(postgres)
                        .await
                        .expect("the PostgreSQL store takes the statements");
                });
            }
        }
    }
}

/// The PostgreSQL server the suite runs on, if any (`WFC_TEST_POSTGRES`, a URL
/// whose user may create databases).
pub fn postgres_server() -> Option<String> {
    std::env::var("WFC_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// An empty database named after `name` on `server`, made afresh; its URL.
pub fn fresh_database(server: &str, name: &str) -> String {
    let mut database: String = format!("wfc_{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    database.truncate(60);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("WFC_TEST_POSTGRES={server} does not answer: {e}"));
        tokio::spawn(connection);
        for statement in [
            format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            format!("CREATE DATABASE {database}"),
        ] {
            client.batch_execute(&statement).await.unwrap();
        }
    });
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&database);
    url.to_string()
}

/// Waits until `check` holds; panics after `limit`. Returns how long it took.
pub fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < limit,
            "condition not reached in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    started.elapsed()
}

/// Whether a process is still running (a zombie has exited).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .split(") ")
            .nth(1)
            .is_some_and(|rest| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Whether an outside tool (not part of a Rust toolchain) is on PATH. Without it, a
/// test that needs it says so on the terminal and skips that part; under `CI=true`,
/// where `.ci/run` installs every such tool, its absence fails the test instead.
pub fn tool_or_skip(program: &str, package: &str, what: &str) -> bool {
    let found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            let file = dir.join(program);
            std::fs::metadata(&file).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    });
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`{program}` ({package}) is not on PATH, and under CI=true .ci/run provides it"
        );
        // Written past the test harness's capture, so the skip is seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {what} (`{program}` from {package} is not installed)"
        );
    }
    found
}

/// A workflow `fan` whose `parallel for` over its input's `items` starts one
/// `child` execution per item (input `{ n }`), after `more`: the child workflow
/// and agents beyond `inc`.
pub fn fan_out(more: &str) -> String {
    format!(
        r#"
agent inc {{ input {{ n: number }} output {{ n: number }} compute {{ n: input.n + 1 }} }}
{more}
workflow fan {{
  input {{ items: [number] }}
  steps {{ all = parallel for i in input.items {{ r = workflow child({{ n: i }}) }} }}
  output {{ count: len(all) }}
}}
"#
    )
}

/// The id of every execution in `store`, newest first.
pub fn execution_ids(store: &wfc::store::Store) -> Vec<String> {
    store
        .executions(&wfc::store::HistoryFilter::default())
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// Asserts that no file directly in `dir` but those named `except` holds any of
/// `values`.
pub fn in_no_file(dir: &Path, values: &[&str], except: &[&str]) {
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        if except.iter().any(|name| path.ends_with(name)) || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for value in values {
            let found = bytes.windows(value.len()).any(|w| w == value.as_bytes());
            assert!(!found, "a secret is in {}", path.display());
        }
    }
}

/// Whether `git` is here to build a test's repository (wfc itself reads git
/// with gix and needs no `git`); see [`tool_or_skip`].
pub fn git_or_skip(what: &str) -> bool {
    tool_or_skip("git", "Debian's git", what)
}

/// Runs `git` in `dir` (to build a repository for a test; wfc itself reads
/// git with gix), as a committer of its own.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
