//! Helpers shared by the end-to-end tests.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The `burstscope` binary under test.
pub(crate) fn bin() -> Command {
    let mut c = Command::cargo_bin("burstscope").expect("binary built");
    c.env_remove("RUST_LOG");
    // Some tests write NWB files in this process. HDF5 opens files without
    // O_CLOEXEC, so a child that another test spawns meanwhile inherits the
    // descriptor and, with it, the writer's lock: a reader started later would
    // fail with "unable to lock file" until that child exits.
    c.env("HDF5_USE_FILE_LOCKING", "FALSE");
    c
}

/// A file under `tests/fixtures`.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// Parses stdout as JSON.
pub(crate) fn json_out(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// The binary as a plain `std::process::Command` (for spawning and killing).
pub(crate) fn bin_std() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_burstscope"));
    c.env_remove("RUST_LOG");
    c.env("HDF5_USE_FILE_LOCKING", "FALSE");
    c
}
