//! The batch cache: whether a session stage's output can be reused, and the
//! locks that keep two workers (on one machine or several nodes sharing a
//! file system) from computing the same stage.
//!
//! A stage is **done** when its folder holds a record whose listed files all
//! verify (size and hash) *and* a marker, written atomically after the stage
//! finished, that carries the stage's [`StageKey`] digest. The marker lives in
//! the stage folder, which the stage itself replaces atomically, so a rerun
//! removes it; an interrupted run leaves either the old complete folder and
//! marker or a new folder without a marker — never a partial output that
//! looks done.

use burstscope_core::{Record, canonical_json, hash_bytes, now_utc, write_file};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Everything that determines a session stage's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageKey {
    /// Stage name (`detect`, `sort`, `bursts`, `epsc`).
    pub stage: String,
    /// The stage's algorithm version.
    pub algorithm_version: u32,
    /// The program's version.
    pub program_version: String,
    /// Content hashes of the input files (not their paths: moving a dataset
    /// keeps its cache).
    pub inputs: Vec<String>,
    /// The validated stage config.
    pub config: serde_json::Value,
    /// Digests of the keys of the stages whose outputs it consumes.
    pub upstream: Vec<String>,
}

impl StageKey {
    /// xxh3-128 of the key's canonical JSON.
    #[must_use]
    pub fn digest(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        hash_bytes(canonical_json(&v).as_bytes())
    }
}

/// The marker's file name inside a stage folder.
pub const DONE_MARKER: &str = "batch-done.json";
/// A failure note beside a stage folder (`<stage>.failed.json`).
const FAILED_SUFFIX: &str = ".failed.json";

#[derive(Debug, Serialize, Deserialize)]
struct Done {
    key: String,
    finished_utc: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Failed {
    key: String,
    reason: String,
    failed_utc: String,
}

/// What a stage needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Done with this key: reuse.
    Cached,
    /// Never done with this key (or its output does not verify): run.
    Run,
    /// Failed before with this key (the reason): run again.
    FailedBefore(String),
}

/// The status of the stage whose output folder is `dir` (record file
/// `record_name`) for the key digest `key`.
#[must_use]
pub fn status(dir: &Path, record_name: &str, key: &str) -> Status {
    let done = std::fs::read(dir.join(DONE_MARKER)).ok().and_then(|b| serde_json::from_slice::<Done>(&b).ok());
    if done.is_some_and(|d| d.key == key) && Record::read(&dir.join(record_name)).is_ok_and(|r| r.verify(dir)) {
        return Status::Cached;
    }
    let failed = std::fs::read(failed_path(dir)).ok().and_then(|b| serde_json::from_slice::<Failed>(&b).ok());
    match failed {
        Some(f) if f.key == key => Status::FailedBefore(f.reason),
        _ => Status::Run,
    }
}

fn failed_path(dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dir.with_file_name(format!("{name}{FAILED_SUFFIX}"))
}

/// Marks the stage in `dir` done with `key` (after the stage committed its
/// folder); clears a failure note.
///
/// # Errors
/// The I/O error of writing the marker.
pub fn mark_done(dir: &Path, key: &str) -> std::io::Result<()> {
    let d = Done { key: key.to_string(), finished_utc: now_utc() };
    write_file(&dir.join(DONE_MARKER), &serde_json::to_vec_pretty(&d).unwrap_or_default())?;
    match std::fs::remove_file(failed_path(dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Notes that the stage in `dir` failed with `key`, and why.
///
/// # Errors
/// The I/O error of writing the note.
pub fn mark_failed(dir: &Path, key: &str, reason: &str) -> std::io::Result<()> {
    let f = Failed { key: key.to_string(), reason: reason.to_string(), failed_utc: now_utc() };
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_file(&failed_path(dir), &serde_json::to_vec_pretty(&f).unwrap_or_default())
}

/// An exclusive claim on a stage, held as a lock file created atomically
/// (`O_EXCL`) and kept fresh by a heartbeat thread; removed on drop. A lock
/// whose file has not been touched for `stale_after` belongs to a dead
/// worker, as does one taken by a process of this host that no longer runs
/// (Linux `/proc`); either is taken over (renamed away atomically, so only
/// one worker wins it).
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    beat: Option<std::thread::JoinHandle<()>>,
}

impl Lock {
    /// Tries to claim `path`: `Ok(None)` when a live worker holds it.
    ///
    /// # Errors
    /// An I/O error other than the lock existing.
    pub fn try_acquire(path: &Path, stale_after: Duration) -> std::io::Result<Option<Self>> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        for attempt in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    use std::io::Write;
                    let who = format!(
                        "{{\"host\":{:?},\"pid\":{},\"since_utc\":{:?}}}\n",
                        burstscope_core::host_name(),
                        std::process::id(),
                        now_utc()
                    );
                    f.write_all(who.as_bytes())?;
                    f.sync_all()?;
                    return Ok(Some(Self::hold(path, stale_after)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt == 0 => {
                    let age = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_none_or(|a| a <= stale_after) && !holder_is_dead(path) {
                        return Ok(None);
                    }
                    // Stale: move it aside; whoever's rename succeeds retries the claim.
                    let aside = path.with_extension(format!("stale-{}", burstscope_core::unique_suffix()));
                    if std::fs::rename(path, &aside).is_err() {
                        return Ok(None);
                    }
                    let _ = std::fs::remove_file(&aside);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    fn hold(path: &Path, stale_after: Duration) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (p, s) = (path.to_path_buf(), stop.clone());
        let period = (stale_after / 4).max(Duration::from_millis(10));
        let beat = std::thread::spawn(move || {
            let step = Duration::from_millis(10).min(period);
            let mut waited = Duration::ZERO;
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(step);
                waited += step;
                if waited >= period {
                    waited = Duration::ZERO;
                    if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&p) {
                        let _ = f.set_modified(SystemTime::now());
                    }
                }
            }
        });
        Self { path: path.to_path_buf(), stop, beat: Some(beat) }
    }
}

/// Whether the lock at `path` was taken by a process of this host that no
/// longer runs (its worker was killed: no need to wait for the stale time).
fn holder_is_dead(path: &Path) -> bool {
    #[derive(Deserialize)]
    struct Holder {
        host: String,
        pid: u32,
    }
    let Some(h) = std::fs::read(path).ok().and_then(|b| serde_json::from_slice::<Holder>(&b).ok()) else {
        return false;
    };
    let proc_root = Path::new("/proc");
    h.host == burstscope_core::host_name()
        && h.pid != std::process::id()
        && proc_root.join("self").exists()
        && !proc_root.join(h.pid.to_string()).exists()
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(b) = self.beat.take() {
            let _ = b.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}
