//! A small builder for running the `wfc` binary the way a user does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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
    ["examples", "examples/lib"]
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
/// store (`wfc.db`) that runs there write.
pub struct Project {
    pub dir: PathBuf,
}

impl Project {
    pub fn new(name: &str) -> Self {
        Project { dir: scratch(name) }
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
        Wfc::new(args).dir(&self.dir).run()
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
        wfc::store::Store::open(&self.dir.join("wfc.db")).expect("the store opens")
    }
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
