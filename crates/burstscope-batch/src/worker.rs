//! A session stage in a worker process of its own: a crash inside a C
//! library, a panic, running out of memory or a hang ends that process, and
//! the batch records why and goes on.

use crate::run::Outcome;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `cmd` with its standard output and error appended to `log`, waiting
/// at most `timeout` (then it is killed). [`Outcome::Done`] on exit status 0;
/// otherwise [`Outcome::Failed`] with the exit status, signal or timeout and
/// the last line the process wrote (the command line prints its error as
/// one line).
///
/// ```
/// # #[cfg(unix)] {
/// use burstscope_batch::{run::Outcome, worker::run_process};
/// let dir = tempfile::tempdir().unwrap();
/// let log = dir.path().join("s1.detect.log");
/// let mut c = std::process::Command::new("sh");
/// c.args(["-c", "echo 'f.nwb: not an NWB file' >&2; exit 2"]);
/// let o = run_process(&mut c, std::time::Duration::from_secs(10), &log);
/// assert_eq!(o, Outcome::Failed("exit status 2: f.nwb: not an NWB file".into()));
/// # }
/// ```
pub fn run_process(cmd: &mut Command, timeout: Duration, log: &Path) -> Outcome {
    if let Some(parent) = log.parent()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return Outcome::Failed(format!("{}: {e}", parent.display()));
    }
    let file = match std::fs::OpenOptions::new().create(true).append(true).open(log) {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(format!("{}: {e}", log.display())),
    };
    let err = match file.try_clone() {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(format!("{}: {e}", log.display())),
    };
    let mut child = match cmd.stdin(std::process::Stdio::null()).stdout(file).stderr(err).spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("cannot start {:?}: {e}", cmd.get_program())),
    };
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ok(s),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {:.1} s and was killed", timeout.as_secs_f64()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("waiting for the worker: {e}")),
        }
    };
    let last = last_line(log);
    let with_last = |what: String| if last.is_empty() { what } else { format!("{what}: {last}") };
    match status {
        Ok(s) if s.success() => Outcome::Done,
        Ok(s) => Outcome::Failed(with_last(describe(s))),
        Err(what) => Outcome::Failed(with_last(what)),
    }
}

fn describe(s: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            let name = match sig {
                6 => " (SIGABRT: an abort, e.g. in the HDF5 library)",
                9 => " (SIGKILL: e.g. out of memory)",
                11 => " (SIGSEGV: a crash)",
                15 => " (SIGTERM)",
                _ => "",
            };
            return format!("killed by signal {sig}{name}");
        }
    }
    match s.code() {
        Some(c) => format!("exit status {c}"),
        None => "ended without an exit status".into(),
    }
}

/// The last non-empty line of a log (at most 400 characters of it).
fn last_line(log: &Path) -> String {
    let text = std::fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    line.chars().take(400).collect()
}
