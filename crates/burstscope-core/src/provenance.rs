//! What made an output: program version, command, parameters and input identity.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The burstscope version that wrote an output.
#[must_use]
pub fn program_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// FNV-1a 64-bit hash of a byte stream, as 16 hex digits.
///
/// Used to identify inputs and to key outputs by what made them; it is not a
/// cryptographic hash.
///
/// ```
/// let h = burstscope_core::fnv1a64_hex(&b"hello"[..]).unwrap();
/// assert_eq!(h, "a430d84680aabd0b");
/// ```
///
/// # Errors
/// Returns the reader's I/O error.
pub fn fnv1a64_hex<R: Read>(mut r: R) -> std::io::Result<String> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(format!("{h:016x}"))
}

/// Identity of an input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputIdentity {
    /// Path as given.
    pub path: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Content hash (`fnv1a64:`, `xxh3:` of the whole file, or `xxh3-blocks:`
    /// of the samples used; see `hash_scope`).
    pub content_hash: String,
    /// What the hash covers when it is not the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_scope: Option<String>,
}

impl InputIdentity {
    /// Reads the file once to hash it.
    ///
    /// # Errors
    /// Returns the I/O error of opening or reading the file.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let f = std::fs::File::open(path)?;
        let size_bytes = f.metadata()?.len();
        let content_hash = fnv1a64_hex(std::io::BufReader::new(f))?;
        Ok(Self { path: path.display().to_string(), size_bytes, content_hash, hash_scope: None })
    }
}

/// The provenance record written next to every output (`*.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `burstscope`.
    pub program: String,
    /// Program version.
    pub version: String,
    /// Subcommand that produced the output.
    pub command: String,
    /// Parameters, as serialised by the command.
    pub parameters: serde_json::Value,
    /// Inputs with their identities.
    pub inputs: Vec<InputIdentity>,
    /// Extra facts (e.g. noise levels, counts).
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Provenance {
    /// A record for `command` with `parameters`.
    #[must_use]
    pub fn new(command: &str, parameters: serde_json::Value) -> Self {
        Self {
            program: "burstscope".into(),
            version: program_version().into(),
            command: command.into(),
            parameters,
            inputs: Vec::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a
/// rename, so readers never see a half-written output.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("bs-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let p = dir.join("x.json");
/// burstscope_core::write_atomic(&p, b"{}").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"{}");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// The I/O error of writing or renaming.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
