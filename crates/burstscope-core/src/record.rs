//! What made an output, in a form that can key a cache.
//!
//! Every output folder holds one JSON [`Record`] with three parts:
//!
//! * **`key`** — everything that determines the results: the stage and its
//!   algorithm version (bumped whenever a change alters results), the program
//!   ([`ProgramId`]: version and, when built from a checkout, the git commit),
//!   the identities of the inputs ([`InputIdentity`]: size and a 128-bit
//!   content hash), the keys of the stages it consumed, and the full validated
//!   configuration;
//! * **`outputs`** — each file written with its size and content hash, plus
//!   the facts the stage reports (counts, noise levels, warnings); all of it a
//!   pure function of the key;
//! * **`run`** — when, where and how fast: time, host, threads, wall time.
//!
//! Two runs with the same key write byte-identical `key` and `outputs` parts;
//! [`Record::key_digest`] is the cache key.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::hash::{FileKey, HashTap, content_hash_of, file_key, hash_bytes, hash_file};

/// The burstscope version that wrote an output.
#[must_use]
pub fn program_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Identity of an input file: its content, independent of any parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputIdentity {
    /// Path as given.
    pub path: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// [`HASH_SCHEME`] of the whole file's bytes.
    pub content_hash: String,
}

/// Hashes computed in this process, by file key: a file is read once
/// however many stages identify it.
static MEMO: Mutex<Option<HashMap<FileKey, String>>> = Mutex::new(None);

impl InputIdentity {
    /// Hashes the file: reuses the hash this process already computed for the
    /// same unchanged file, else takes the pieces its readers hashed through
    /// a [`HashTap`] and reads the rest, else reads the whole file.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("a.bin");
    /// std::fs::write(&p, b"hello").unwrap();
    /// let id = burstscope_core::InputIdentity::of(&p).unwrap();
    /// assert_eq!(id.size_bytes, 5);
    /// assert_eq!(id.content_hash, burstscope_core::hash_bytes(b"hello"));
    /// ```
    ///
    /// # Errors
    /// The I/O error of opening or reading the file.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let f = std::fs::File::open(path)?;
        let meta = f.metadata()?;
        let key = file_key(&meta);
        if let Some(k) = key
            && let Some(h) = memoized(&k)
        {
            // a tap opened meanwhile is not needed
            drop(HashTap::take(&k));
            return Ok(Self { path: path.display().to_string(), size_bytes: meta.len(), content_hash: h });
        }
        let tap = key.as_ref().and_then(HashTap::take);
        let content_hash = match tap {
            Some(t) => t.finish(&f)?,
            None => content_hash_of(f)?,
        };
        if let Some(k) = key {
            remember(k, &content_hash);
        }
        Ok(Self { path: path.display().to_string(), size_bytes: meta.len(), content_hash })
    }
}

/// [`hash_file`] of `file`, remembered by its key (device, inode, size and
/// modification time) for the rest of the process: a large output hashed as
/// soon as it is closed (while its fsync waits for the disk) is not read again
/// when its folder's record lists it ([`list_outputs`]).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("w.bin");
/// std::fs::write(&p, b"waveforms").unwrap();
/// let h = burstscope_core::hash_file_remembered(&std::fs::File::open(&p).unwrap()).unwrap();
/// assert_eq!(h, burstscope_core::hash_bytes(b"waveforms"));
/// ```
///
/// # Errors
/// The I/O error of reading the file.
pub fn hash_file_remembered(file: &std::fs::File) -> std::io::Result<String> {
    let key = file_key(&file.metadata()?);
    if let Some(h) = key.as_ref().and_then(memoized) {
        return Ok(h);
    }
    let h = hash_file(file)?;
    if let Some(k) = key {
        remember(k, &h);
    }
    Ok(h)
}

fn remember(key: FileKey, hash: &str) {
    if let Ok(mut m) = MEMO.lock() {
        m.get_or_insert_with(HashMap::new).insert(key, hash.to_string());
    }
}

/// The hash this process already computed for the file with this key.
pub(crate) fn memoized(key: &FileKey) -> Option<String> {
    MEMO.lock().ok().and_then(|m| m.as_ref().and_then(|m| m.get(key).cloned()))
}

/// The program that made an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramId {
    /// `burstscope`.
    pub name: String,
    /// Cargo package version.
    pub version: String,
    /// `git rev-parse HEAD` when built from a checkout.
    pub git_commit: Option<String>,
}

/// Everything that determines a stage's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordKey {
    /// Stage name (`detect`, `bursts`, `epsc`, ...).
    pub stage: String,
    /// The stage's algorithm version: bumped by every change of results.
    pub algorithm_version: u32,
    /// The program.
    pub program: ProgramId,
    /// Input files.
    pub inputs: Vec<InputIdentity>,
    /// Key digests of the stages whose outputs this one consumed.
    pub upstream: Vec<String>,
    /// The full validated configuration.
    pub config: serde_json::Value,
}

/// One file an output folder holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputFile {
    /// Path relative to the output folder, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// [`HASH_SCHEME`] of its bytes.
    pub content_hash: String,
}

/// What a stage wrote.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordOutputs {
    /// Every file in the folder except the record itself, sorted by path.
    pub files: Vec<OutputFile>,
    /// Warnings about the inputs (e.g. unsorted spike times that were sorted).
    pub warnings: Vec<String>,
    /// Facts the stage reports (counts, windows, noise per channel, ...).
    pub summary: BTreeMap<String, serde_json::Value>,
}

/// How a run went (not part of the key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    /// Start time, UTC, RFC 3339.
    pub started_utc: String,
    /// Host name.
    pub host: String,
    /// Worker threads.
    pub threads: usize,
    /// Wall time, s.
    pub wall_s: f64,
}

/// The record written into every output folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Schema of this record (`burstscope-record/1`).
    pub schema: String,
    /// What determines the results.
    pub key: RecordKey,
    /// What was written.
    pub outputs: RecordOutputs,
    /// How the run went.
    pub run: RunInfo,
}

/// The record schema name.
pub const RECORD_SCHEMA: &str = "burstscope-record/1";

impl Record {
    /// The cache key: [`HASH_SCHEME`] of the canonical JSON of [`Record::key`].
    #[must_use]
    pub fn key_digest(&self) -> String {
        key_digest(&self.key)
    }

    /// Reads a record.
    ///
    /// # Errors
    /// A message naming the file when it cannot be read or parsed.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: not a burstscope record: {e}", path.display()))
    }

    /// Whether every file the record lists is present in `dir` with its size
    /// and hash (an output that can be trusted as done).
    #[must_use]
    pub fn verify(&self, dir: &Path) -> bool {
        self.outputs.files.iter().all(|f| {
            let p = dir.join(&f.path);
            std::fs::metadata(&p).is_ok_and(|m| m.len() == f.size_bytes)
                && std::fs::File::open(&p).and_then(|f| hash_file(&f)).is_ok_and(|h| h == f.content_hash)
        })
    }
}

/// [`HASH_SCHEME`] of the canonical JSON (keys sorted) of a key.
#[must_use]
pub fn key_digest(key: &RecordKey) -> String {
    let v = serde_json::to_value(key).unwrap_or(serde_json::Value::Null);
    hash_bytes(canonical_json(&v).as_bytes())
}

/// JSON with object keys sorted at every level and no whitespace.
#[must_use]
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    write(v, &mut s);
    s
}

/// Lists and hashes every file under `dir` (except `skip`), sorted by path.
///
/// # Errors
/// The I/O error of reading a file.
pub fn list_outputs(dir: &Path, skip: &str) -> std::io::Result<Vec<OutputFile>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                walk(root, &e.path(), out)?;
            } else {
                out.push(e.path().strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| e.path()));
            }
        }
        Ok(())
    }
    let mut rel = Vec::new();
    walk(dir, dir, &mut rel)?;
    let mut files = Vec::new();
    for r in rel {
        let name = r.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
        if name == skip {
            continue;
        }
        let p = dir.join(&r);
        let size_bytes = std::fs::metadata(&p)?.len();
        let content_hash = hash_file_remembered(&std::fs::File::open(&p)?)?;
        files.push(OutputFile { path: name, size_bytes, content_hash });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// This machine's host name (`unknown` when it cannot be found).
#[must_use]
pub fn host_name() -> String {
    #[cfg(unix)]
    {
        let u = rustix::system::uname();
        let n = u.nodename().to_string_lossy().into_owned();
        if !n.is_empty() {
            return n;
        }
    }
    std::env::var("HOSTNAME").or_else(|_| std::env::var("COMPUTERNAME")).unwrap_or_else(|_| "unknown".into())
}

/// The current time, UTC, as RFC 3339 with seconds (`2026-12-02T18:11:32Z`).
#[must_use]
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the Unix epoch as RFC 3339 UTC.
///
/// ```
/// assert_eq!(burstscope_core::rfc3339(0), "1970-01-01T00:00:00Z");
/// assert_eq!(burstscope_core::rfc3339(1_796_235_092), "2026-12-02T18:11:32Z");
/// ```
#[must_use]
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": "x"}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":"x","d":[1,{"y":1,"z":0}]},"b":1}"#);
    }

    #[test]
    fn key_digest_changes_with_the_config() {
        let mut k = RecordKey {
            stage: "bursts".into(),
            algorithm_version: 1,
            program: ProgramId { name: "burstscope".into(), version: "0".into(), git_commit: None },
            inputs: vec![],
            upstream: vec![],
            config: serde_json::json!({"bin_s": 60.0}),
        };
        let a = key_digest(&k);
        assert_eq!(a, key_digest(&k.clone()));
        k.config = serde_json::json!({"bin_s": 30.0});
        assert_ne!(a, key_digest(&k));
    }

    #[test]
    fn verify_detects_a_changed_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.csv"), "a\n1\n").unwrap();
        let files = list_outputs(dir.path(), "r.json").unwrap();
        let rec = Record {
            schema: RECORD_SCHEMA.into(),
            key: RecordKey {
                stage: "x".into(),
                algorithm_version: 1,
                program: ProgramId { name: "burstscope".into(), version: "0".into(), git_commit: None },
                inputs: vec![],
                upstream: vec![],
                config: serde_json::Value::Null,
            },
            outputs: RecordOutputs { files, ..RecordOutputs::default() },
            run: RunInfo { started_utc: now_utc(), host: host_name(), threads: 1, wall_s: 0.0 },
        };
        assert!(rec.verify(dir.path()));
        std::fs::write(dir.path().join("t.csv"), "a\n2\n").unwrap();
        assert!(!rec.verify(dir.path()));
    }
}
