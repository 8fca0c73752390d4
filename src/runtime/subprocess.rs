//! Running one subprocess agent call: argv without a shell, JSON on stdin, stdout
//! collected (bounded), the tail of stderr kept, and on timeout the whole process
//! group killed, so an agent's own children die with it.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// The most stdout an agent may print; more is `invalid_output`.
pub const MAX_STDOUT: usize = 16 * 1024 * 1024;
/// How much of the end of stderr is kept.
pub const STDERR_TAIL: usize = 4 * 1024;

pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub stdin: Vec<u8>,
    pub timeout: Option<Duration>,
}

#[derive(Debug)]
pub enum Exit {
    Status(ExitStatus),
    TimedOut,
}

#[derive(Debug)]
pub struct Finished {
    pub exit: Exit,
    pub stdout: Vec<u8>,
    /// Whether stdout passed [`MAX_STDOUT`] (and was cut there).
    pub stdout_overflow: bool,
    pub stderr_tail: String,
}

/// Runs the invocation to completion or timeout. An `Err` means the program could
/// not be started at all.
pub async fn run(invocation: Invocation) -> std::io::Result<Finished> {
    let mut command = Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .current_dir(&invocation.cwd)
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout can kill everything it started.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    let pid = child.id();
    // Kills the group if this future is dropped mid-call (a cancelled execution).
    let mut guard = GroupGuard { pid };
    let mut stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let input = invocation.stdin;
    // Feed stdin while reading the outputs, so a large input cannot deadlock against a
    // full stdout pipe. An agent that exits without reading its input is not an error.
    let feed = async move {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(&input).await;
            let _ = stdin.shutdown().await;
        }
        drop(stdin);
    };
    let work = async {
        let (_, out, err, status) = tokio::join!(
            feed,
            read_bounded(stdout, MAX_STDOUT),
            read_tail(stderr, STDERR_TAIL),
            child.wait()
        );
        (out, err, status)
    };
    let outcome = match invocation.timeout {
        Some(limit) => tokio::time::timeout(limit, work).await.ok(),
        None => Some(work.await),
    };
    match outcome {
        Some(((stdout, stdout_overflow), stderr_tail, status)) => {
            guard.pid = None;
            Ok(Finished {
                exit: Exit::Status(status?),
                stdout,
                stdout_overflow,
                stderr_tail,
            })
        }
        None => {
            if let Some(pid) = guard.pid.take() {
                kill_group(pid);
            }
            let _ = child.wait().await;
            Ok(Finished {
                exit: Exit::TimedOut,
                stdout: Vec::new(),
                stdout_overflow: false,
                stderr_tail: String::new(),
            })
        }
    }
}

/// Kills a still-running agent's process group when dropped.
struct GroupGuard {
    pid: Option<u32>,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            kill_group(pid);
        }
    }
}

fn kill_group(pid: u32) {
    // SAFETY: killpg has no memory-safety preconditions; the group id is the child's
    // pid because it was spawned with `process_group(0)`.
    unsafe {
        libc::killpg(pid as libc::pid_t, libc::SIGKILL);
    }
}

async fn read_bounded(pipe: Option<impl AsyncRead + Unpin>, limit: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let Some(mut pipe) = pipe else {
        return (out, false);
    };
    let mut buffer = vec![0u8; 8192];
    let mut overflow = false;
    while let Ok(n) = pipe.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        // Keep draining past the limit so the agent is not blocked on a full pipe.
        if out.len() + n > limit {
            overflow = true;
        } else {
            out.extend_from_slice(&buffer[..n]);
        }
    }
    (out, overflow)
}

async fn read_tail(pipe: Option<impl AsyncRead + Unpin>, keep: usize) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };
    let mut tail: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 8192];
    while let Ok(n) = pipe.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&buffer[..n]);
        if tail.len() > keep * 2 {
            tail.drain(..tail.len() - keep);
        }
    }
    if tail.len() > keep {
        tail.drain(..tail.len() - keep);
    }
    String::from_utf8_lossy(&tail).into_owned()
}
