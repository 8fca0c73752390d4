//! A small builder for running the `wfc` binary the way a user does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root; tests run with it as the working directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One `wfc` invocation: `Wfc::new(["check", "x.wf"]).env("NO_COLOR", "1").run()`.
pub struct Wfc {
    command: Command,
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
        Wfc { command }
    }

    pub fn dir(mut self, dir: &Path) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn run(mut self) -> Run {
        let output: Output = self.command.output().expect("the wfc binary runs");
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

    pub fn store(&self) -> wfc::store::Store {
        wfc::store::Store::open(&self.dir.join("wfc.db")).expect("the store opens")
    }
}
