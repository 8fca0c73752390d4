//! A store that cannot be written (a full disk, an I/O error) never finalises an
//! execution as failed: the run stops with the store's exit status, the
//! execution stays resumable, and `wfc resume` completes it once writes work.
//! The disk is filled without mount privileges: the process's file-size limit
//! (RLIMIT_FSIZE, with SIGXFSZ ignored) makes SQLite's writes fail for real.

use crate::support::Project;
use std::os::unix::process::CommandExt;
use wfc::store::{ExecutionStatus, HistoryFilter};

const FLOW: &str = r#"trigger go { manual }
agent big { output { blob: string } run ["sh", "big.sh"] }
workflow w { on go steps { a = big({}) b = big({}) c = big({}) d = big({}) e = big({}) } output { n: 1 } }
"#;

/// Each call is logged, and answers 100 KB: five of them outgrow the limit.
const BIG: &str = "echo called >> calls.log\nhead -c 100000 /dev/zero | tr '\\0' x | sed 's/.*/{\"blob\": \"&\"}/'\n";

fn calls(project: &Project) -> usize {
    std::fs::read_to_string(project.dir.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn a_full_disk_leaves_the_execution_resumable_and_resume_completes_it() {
    let project = Project::sqlite("full_disk")
        .file("flow.wf", FLOW)
        .file("big.sh", BIG);
    // The store exists before the limit, as on a disk that filled up since
    // (created and migrated here: `wfc history` only looks, and makes nothing).
    drop(project.store());
    let mut command = project.command();
    command.args(["run", "flow.wf", "--workflow", "w"]);
    // SAFETY: between fork and exec only async-signal-safe calls are made.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 250_000,
                rlim_max: 250_000,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("is resumable: `wfc resume"), "{stderr}");
    assert!(stderr.contains("database error"), "{stderr}");
    let ran_before = calls(&project);
    assert!(
        (1..5).contains(&ran_before),
        "{ran_before} calls before the disk filled"
    );
    let store = project.store();
    let executions = store.executions(&HistoryFilter::default()).unwrap();
    assert_eq!(executions.len(), 1);
    assert_eq!(
        executions[0].status,
        ExecutionStatus::Running,
        "never failed"
    );
    // Its process is gone: listed as waiting for `wfc resume`.
    let history = project.wfc(["history"]).expect_code(0);
    assert!(
        history.stdout.contains("interrupted (wfc resume)"),
        "{}",
        history.stdout
    );
    // Space is back: resume finishes it, without rerunning what was recorded.
    let resumed = project.wfc(["resume"]).expect_code(0);
    assert!(
        resumed.stdout.contains("\"completed\""),
        "{}",
        resumed.stdout
    );
    let executions = store.executions(&HistoryFilter::default()).unwrap();
    assert_eq!(executions[0].status, ExecutionStatus::Completed);
    let recorded = store.step_records(&executions[0].id).unwrap();
    assert_eq!(recorded.len(), 5, "{recorded:?}");
    assert!(
        calls(&project) <= ran_before + 5,
        "{} calls",
        calls(&project)
    );
}

/// A tmpfs of 3 MiB, unmounted when dropped; `None` where this process may not
/// mount (the test then says so and checks nothing).
struct Tiny(std::path::PathBuf);

impl Tiny {
    fn mount(dir: &std::path::Path) -> Option<Tiny> {
        std::fs::create_dir_all(dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Tiny(dir.to_path_buf()))
    }

    /// Fills all but `room` bytes of it.
    fn fill(&self, room: u64) {
        let stat = nix_free(&self.0);
        let filler = stat.saturating_sub(room);
        std::fs::write(self.0.join("filler"), vec![0u8; filler as usize]).unwrap();
    }

    fn empty(&self) {
        std::fs::remove_file(self.0.join("filler")).unwrap();
    }
}

impl Drop for Tiny {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Bytes free on the filesystem holding `dir`.
fn nix_free(dir: &std::path::Path) -> u64 {
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a statvfs to fill.
    assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut stat) }, 0);
    stat.f_bavail as u64 * stat.f_frsize as u64
}

#[test]
fn a_server_on_a_full_disk_resumes_its_executions_once_there_is_room() {
    let project = Project::sqlite("full_disk_serve")
        .file("flow.wf", FLOW)
        .file("big.sh", BIG);
    let Some(tiny) = Tiny::mount(&project.dir.join("tiny")) else {
        eprintln!("skipped: cannot mount a tmpfs here to fill");
        return;
    };
    let db = tiny.0.join("wfc.db");
    let mut command = project.command();
    command.env("WFC_DB", &db);
    let server = crate::server::Server::spawn(command, "flow.wf", &[]);
    tiny.fill(150_000);
    let (status, started) = server.http("POST", "/workflows/w/runs", Some("{}"), None);
    assert_eq!(status, 202, "{started}");
    let id = started["execution"].as_str().unwrap().to_string();
    let store = wfc::store::Store::open_read_only(wfc::store::Location::File(db.clone())).unwrap();
    // It stops when the disk is full, and is not recorded as failed.
    crate::support::wait_for(std::time::Duration::from_secs(10), || {
        server.logged("database or disk is full") || server.logged("disk I/O error")
    });
    assert_eq!(
        store.execution(&id).unwrap().status,
        ExecutionStatus::Running
    );
    // Room again: the server finishes it by itself.
    tiny.empty();
    crate::support::wait_for(std::time::Duration::from_secs(15), || {
        store
            .execution(&id)
            .is_ok_and(|e| e.status == ExecutionStatus::Completed)
    });
    assert_eq!(store.step_records(&id).unwrap().len(), 5);
    let (status, health) = server.http("GET", "/health", None, None);
    assert_eq!(status, 200, "{health}");
    server.stop();
}
