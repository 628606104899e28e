//! Worker processes: every way a stage can end is reported with its reason.
#![cfg(unix)]

use burstscope_batch::run::Outcome;
use burstscope_batch::worker::run_process;
use std::process::Command;
use std::time::{Duration, Instant};

fn sh(script: &str, timeout: Duration) -> (Outcome, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/s.stage.log");
    let mut c = Command::new("sh");
    c.args(["-c", script]);
    let o = run_process(&mut c, timeout, &log);
    (o, std::fs::read_to_string(&log).unwrap_or_default())
}

#[test]
fn every_ending_is_reported() {
    let long = Duration::from_secs(20);
    let (o, log) = sh("echo working; echo done", long);
    assert_eq!(o, Outcome::Done);
    assert_eq!(log, "working\ndone\n", "standard output goes to the log");
    assert_eq!(
        sh("echo 'a.nwb: not HDF5' >&2; exit 2", long).0,
        Outcome::Failed("exit status 2: a.nwb: not HDF5".into())
    );
    assert_eq!(sh("exit 101", long).0, Outcome::Failed("exit status 101".into()));
    assert_eq!(
        sh("echo dying >&2; kill -9 $$", long).0,
        Outcome::Failed("killed by signal 9 (SIGKILL: e.g. out of memory): dying".into())
    );
    assert_eq!(sh("kill -11 $$", long).0, Outcome::Failed("killed by signal 11 (SIGSEGV: a crash)".into()));
    let t = Instant::now();
    let (o, _) = sh("echo start; exec sleep 30", Duration::from_millis(300));
    assert!(t.elapsed() < Duration::from_secs(10), "the hang was killed");
    assert_eq!(o, Outcome::Failed("timed out after 0.3 s and was killed: start".into()));
    let mut missing = Command::new("/nonexistent/burstscope");
    let dir = tempfile::tempdir().unwrap();
    let o = run_process(&mut missing, long, &dir.path().join("x.log"));
    assert!(matches!(&o, Outcome::Failed(m) if m.starts_with("cannot start")), "{o:?}");
}
