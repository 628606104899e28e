//! The batch cache reuses only verified outputs made with the same key, and
//! its locks are exclusive, survive by heartbeat and are taken over from a
//! dead worker.

use burstscope_batch::cache::{Lock, StageKey, Status, mark_done, mark_failed, status};
use burstscope_core::{ProgramId, RECORD_SCHEMA, Record, RecordKey, RecordOutputs, RunInfo, list_outputs};
use std::time::{Duration, SystemTime};

fn key(config: serde_json::Value, upstream: &[&str]) -> StageKey {
    StageKey {
        stage: "bursts".into(),
        algorithm_version: 1,
        program_version: "0.1.0".into(),
        inputs: vec!["xxh3-128:00".into()],
        config,
        upstream: upstream.iter().map(|s| (*s).to_string()).collect(),
    }
}

/// A committed stage folder with one file and its record.
fn stage_folder(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("bursts.csv"), b"unit,n\n0,3\n").unwrap();
    let record = Record {
        schema: RECORD_SCHEMA.into(),
        key: RecordKey {
            stage: "bursts".into(),
            algorithm_version: 1,
            program: ProgramId { name: "burstscope".into(), version: "0.1.0".into(), git_commit: None },
            inputs: Vec::new(),
            upstream: Vec::new(),
            config: serde_json::json!({}),
        },
        outputs: RecordOutputs { files: list_outputs(dir, "bursts.json").unwrap(), ..Default::default() },
        run: RunInfo { started_utc: String::new(), host: String::new(), threads: 1, wall_s: 0.0 },
    };
    std::fs::write(dir.join("bursts.json"), serde_json::to_vec(&record).unwrap()).unwrap();
}

#[test]
fn keys_change_with_what_determines_the_results() {
    let a = key(serde_json::json!({"max_isi_ms": 10, "min_spikes": 3}), &["k1"]);
    let same = key(serde_json::json!({"min_spikes": 3, "max_isi_ms": 10}), &["k1"]);
    assert_eq!(a.digest(), same.digest(), "object key order is not part of the key");
    assert_ne!(a.digest(), key(serde_json::json!({"max_isi_ms": 12, "min_spikes": 3}), &["k1"]).digest());
    assert_ne!(a.digest(), key(serde_json::json!({"max_isi_ms": 10, "min_spikes": 3}), &["k2"]).digest());
    let mut other_input = a.clone();
    other_input.inputs = vec!["xxh3-128:01".into()];
    assert_ne!(a.digest(), other_input.digest());
}

#[test]
fn only_a_verified_output_with_the_same_key_is_cached() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sessions/s1/bursts");
    assert_eq!(status(&dir, "bursts.json", "k1"), Status::Run);
    stage_folder(&dir);
    // Committed but not marked (killed before the marker): run again.
    assert_eq!(status(&dir, "bursts.json", "k1"), Status::Run);
    mark_done(&dir, "k1").unwrap();
    assert_eq!(status(&dir, "bursts.json", "k1"), Status::Cached);
    assert_eq!(status(&dir, "bursts.json", "k2"), Status::Run, "another key");
    // An output file changed after the fact: not trusted.
    std::fs::write(dir.join("bursts.csv"), b"unit,n\n0,4\n").unwrap();
    assert_eq!(status(&dir, "bursts.json", "k1"), Status::Run);
    // Failures are remembered per key, and cleared by a success.
    mark_failed(&dir, "k2", "exit status 2: bad file").unwrap();
    assert_eq!(status(&dir, "bursts.json", "k2"), Status::FailedBefore("exit status 2: bad file".into()));
    assert_eq!(status(&dir, "bursts.json", "k3"), Status::Run);
    // A rerun replaces the whole folder (the stage commits it atomically).
    std::fs::remove_dir_all(&dir).unwrap();
    stage_folder(&dir);
    mark_done(&dir, "k2").unwrap();
    assert_eq!(status(&dir, "bursts.json", "k2"), Status::Cached);
    assert!(!root.path().join("sessions/s1/bursts.failed.json").exists());
}

#[test]
fn locks_are_exclusive_kept_alive_and_taken_from_the_dead() {
    let root = tempfile::tempdir().unwrap();
    let p = root.path().join("locks/s1.sort.lock");
    let stale = Duration::from_millis(1000);
    let held = Lock::try_acquire(&p, stale).unwrap().expect("free");
    assert!(Lock::try_acquire(&p, stale).unwrap().is_none(), "held");
    // The holder's heartbeat keeps the lock fresh past `stale`.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(Lock::try_acquire(&p, stale).unwrap().is_none(), "still held after 2.5x the stale time");
    drop(held);
    assert!(!p.exists());
    let again = Lock::try_acquire(&p, stale).unwrap();
    assert!(again.is_some());
    drop(again);
    // A lock left by a dead worker (not touched for 10 s) is taken over.
    std::fs::write(&p, b"{\"pid\": 1}").unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(10)).unwrap();
    drop(f);
    let taken = Lock::try_acquire(&p, stale).unwrap().expect("stale lock taken over");
    assert!(std::fs::read_to_string(&p).unwrap().contains(&format!("\"pid\":{}", std::process::id())));
    drop(taken);

    // A lock of a process of this host that has exited is taken at once.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let host = burstscope_core::host_name();
    std::fs::write(&p, format!("{{\"host\":{host:?},\"pid\":{pid},\"since_utc\":\"\"}}")).unwrap();
    let long = Duration::from_secs(3600);
    if std::path::Path::new("/proc/self").exists() {
        assert!(Lock::try_acquire(&p, long).unwrap().is_some(), "the holder {pid} has exited");
    }
    // ... but not one of a live process.
    std::fs::write(&p, format!("{{\"host\":{host:?},\"pid\":1,\"since_utc\":\"\"}}")).unwrap();
    assert!(Lock::try_acquire(&p, long).unwrap().is_none(), "pid 1 is alive");
}
