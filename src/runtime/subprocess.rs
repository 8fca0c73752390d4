//! Running one subprocess agent call: argv without a shell, JSON on stdin, stdout
//! collected (bounded), the tail of stderr kept, and on timeout the whole process
//! group killed, so an agent's own children die with it.
//!
//! The input is handed over as an unlinked temporary file, not a pipe: an agent that
//! exits without reading it cannot make wfc's write fail (no SIGPIPE, no EPIPE), and
//! a large input cannot deadlock against a full stdout pipe.
//!
//! The agent's exit decides when the call ends. Its output is read until end of
//! file, but once the agent has exited only for [`DRAIN`] more: a background child
//! that inherited stdout must not hold the step open. The process group is then
//! killed. A child that left the group (`setsid`) is not killed; wfc only stops
//! reading from it.

use std::io::{Seek, Write};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// The most stdout an agent may print; more is `invalid_output`.
pub const MAX_STDOUT: usize = 16 * 1024 * 1024;
/// How much of the end of stderr is kept.
pub const STDERR_TAIL: usize = 4 * 1024;
/// How long output is still read after the agent has exited.
pub const DRAIN: Duration = Duration::from_millis(100);

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
    /// Whether the agent wrote more to stderr than the tail keeps.
    pub stderr_cut: bool,
}

/// Runs the invocation to completion or timeout. An `Err` means the program could
/// not be started at all.
pub async fn run(invocation: Invocation) -> std::io::Result<Finished> {
    let mut input = input_file()?;
    input.write_all(&invocation.stdin)?;
    input.rewind()?;
    let mut command = Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .current_dir(&invocation.cwd)
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::from(input))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout can kill everything it started.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    // Kills the group if this future is dropped mid-call (a cancelled execution),
    // and in every case once the call is over.
    let guard = GroupGuard { pid: child.id() };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let mut out = Bounded::new(MAX_STDOUT);
    let mut err = Tail::new(STDERR_TAIL);
    let exit = {
        let reading = async { tokio::join!(out.read(stdout), err.read(stderr)) };
        tokio::pin!(reading);
        let work = async {
            tokio::select! {
                // The usual order: output ends, then the agent exits.
                _ = &mut reading => child.wait().await,
                status = child.wait() => {
                    let _ = tokio::time::timeout(DRAIN, &mut reading).await;
                    status
                }
            }
        };
        match invocation.timeout {
            Some(limit) => tokio::time::timeout(limit, work).await.ok(),
            None => Some(work.await),
        }
    };
    drop(guard);
    Ok(match exit {
        Some(status) => {
            let stderr_tail = err.finish();
            Finished {
                exit: Exit::Status(status?),
                stdout: out.bytes,
                stdout_overflow: out.overflow,
                stderr_tail,
                stderr_cut: err.cut,
            }
        }
        None => {
            let _ = child.wait().await;
            Finished {
                exit: Exit::TimedOut,
                stdout: Vec::new(),
                stdout_overflow: false,
                stderr_tail: String::new(),
                stderr_cut: false,
            }
        }
    })
}

/// An anonymous file for the agent's input: in memory (memfd) where the kernel has
/// it, which costs no file system work per call, else an unlinked temporary file.
fn input_file() -> std::io::Result<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::FromRawFd;
        // SAFETY: memfd_create takes a NUL-terminated name and flags; a returned
        // descriptor is new and owned by nobody else.
        let fd = unsafe { libc::memfd_create(c"wfc-agent-input".as_ptr(), libc::MFD_CLOEXEC) };
        if fd >= 0 {
            return Ok(unsafe { std::fs::File::from_raw_fd(fd) });
        }
    }
    tempfile::tempfile()
}

/// Kills the agent's process group when dropped.
struct GroupGuard {
    pid: Option<u32>,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            // SAFETY: killpg has no memory-safety preconditions; the group id is the
            // child's pid because it was spawned with `process_group(0)`. Once the
            // leader has been reaped the group may be empty, and then this is a no-op
            // (ESRCH), unless the pid was reused for a new group, which needs the
            // whole pid space to wrap within one call.
            unsafe {
                libc::killpg(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

/// Reads a pipe to its end (or its first error), handing over each chunk.
async fn drain(pipe: Option<impl AsyncRead + Unpin>, mut chunk: impl FnMut(&[u8])) {
    let Some(mut pipe) = pipe else { return };
    let mut buffer = vec![0u8; 8192];
    while let Ok(n) = pipe.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        chunk(&buffer[..n]);
    }
}

/// Stdout, kept up to a limit; what passes it is drained and dropped so the agent
/// is never blocked on a full pipe.
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
    overflow: bool,
}

impl Bounded {
    fn new(limit: usize) -> Self {
        Bounded {
            bytes: Vec::new(),
            limit,
            overflow: false,
        }
    }

    async fn read(&mut self, pipe: Option<impl AsyncRead + Unpin>) {
        drain(pipe, |chunk| {
            if self.bytes.len() + chunk.len() > self.limit {
                self.overflow = true;
            } else {
                self.bytes.extend_from_slice(chunk);
            }
        })
        .await
    }
}

/// The last `keep` bytes of stderr.
struct Tail {
    bytes: Vec<u8>,
    keep: usize,
    /// Whether anything was dropped from the front.
    cut: bool,
}

impl Tail {
    fn new(keep: usize) -> Self {
        Tail {
            bytes: Vec::new(),
            keep,
            cut: false,
        }
    }

    async fn read(&mut self, pipe: Option<impl AsyncRead + Unpin>) {
        drain(pipe, |chunk| {
            self.bytes.extend_from_slice(chunk);
            if self.bytes.len() > self.keep * 2 {
                self.bytes.drain(..self.bytes.len() - self.keep);
                self.cut = true;
            }
        })
        .await
    }

    fn finish(&mut self) -> String {
        if self.bytes.len() > self.keep {
            self.bytes.drain(..self.bytes.len() - self.keep);
            self.cut = true;
        }
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}
