//! A stage's output folder and its record.
//!
//! [`StageOutput::begin`] opens a staging folder for the destination; the
//! stage writes its tables, figures and files into [`StageOutput::path`];
//! [`StageOutput::finish`] lists and hashes every file, writes the
//! [`Record`] (key, outputs, run) and swaps the folder into place atomically.
//! Dropped without finishing (an error, a panic), nothing changes on disk.

use crate::error::{Error, Result, file_err};
use burstscope_core::{
    InputIdentity, OutputDir, ProgramId, RECORD_SCHEMA, Record, RecordKey, RecordOutputs, RunInfo, list_outputs,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// The program that writes the records: version and, when built from a git
/// checkout, its commit.
#[must_use]
pub fn program() -> ProgramId {
    let commit = env!("BURSTSCOPE_GIT_COMMIT");
    ProgramId {
        name: "burstscope".into(),
        version: burstscope_core::program_version().into(),
        git_commit: (!commit.is_empty()).then(|| commit.to_string()),
    }
}

/// A stage: its name, record file and algorithm version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// Name (`detect`, `bursts`, `epsc`).
    pub name: &'static str,
    /// Version of the stage's algorithms: bumped whenever a change alters its
    /// results, so that cached outputs made before are recomputed.
    pub algorithm_version: u32,
}

impl Stage {
    /// The record's file name in the output folder (`<name>.json`).
    #[must_use]
    pub fn record_name(&self) -> String {
        format!("{}.json", self.name)
    }
}

/// An output folder being written.
#[derive(Debug)]
pub struct StageOutput {
    dir: OutputDir,
    stage: Stage,
    key: RecordKey,
    started: Instant,
    started_utc: String,
}

impl StageOutput {
    /// Starts the output of `stage` for `dest`.
    ///
    /// # Errors
    /// The destination exists and is not an output of this stage, or the
    /// staging folder cannot be made.
    pub fn begin(
        dest: &Path,
        stage: Stage,
        inputs: Vec<InputIdentity>,
        upstream: Vec<String>,
        config: &impl Serialize,
    ) -> Result<Self> {
        let dir = OutputDir::create(dest, &stage.record_name()).map_err(file_err(dest))?;
        let key = RecordKey {
            stage: stage.name.into(),
            algorithm_version: stage.algorithm_version,
            program: program(),
            inputs,
            upstream,
            config: serde_json::to_value(config).map_err(|e| Error::Input(format!("config: {e}")))?,
        };
        Ok(Self { dir, stage, key, started: Instant::now(), started_utc: burstscope_core::now_utc() })
    }

    /// Where to write the outputs now (the staging folder).
    #[must_use]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where they go.
    #[must_use]
    pub fn dest(&self) -> &Path {
        self.dir.dest()
    }

    /// Sets the input identities (e.g. hashed while the stage ran).
    pub fn set_inputs(&mut self, inputs: Vec<InputIdentity>) {
        self.key.inputs = inputs;
    }

    /// Writes the record and commits the folder; returns the record.
    ///
    /// # Errors
    /// Listing, writing or renaming failed (the destination is unchanged).
    pub fn finish(self, summary: BTreeMap<String, serde_json::Value>, warnings: Vec<String>) -> Result<Record> {
        let record_name = self.stage.record_name();
        let files = list_outputs(self.dir.path(), &record_name).map_err(file_err(self.dir.path()))?;
        let record = Record {
            schema: RECORD_SCHEMA.into(),
            key: self.key,
            outputs: RecordOutputs { files, warnings, summary },
            run: RunInfo {
                started_utc: self.started_utc,
                host: burstscope_core::host_name(),
                threads: rayon::current_num_threads(),
                wall_s: self.started.elapsed().as_secs_f64(),
            },
        };
        write_json(&self.dir.path().join(&record_name), &record)?;
        let dest = self.dir.dest().to_path_buf();
        self.dir.commit().map_err(file_err(dest))?;
        Ok(record)
    }
}

/// Writes pretty JSON atomically.
///
/// # Errors
/// Serialisation or I/O failure naming the file.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    bytes.push(b'\n');
    burstscope_core::write_file(path, &bytes).map_err(file_err(path))
}

/// Identities of input files (hashed once per process per file).
///
/// # Errors
/// A file cannot be read.
pub fn identify(paths: &[&Path]) -> Result<Vec<InputIdentity>> {
    paths.iter().map(|p| InputIdentity::of(p).map_err(file_err(*p))).collect()
}
