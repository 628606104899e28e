//! burstscope's analysis as a library: what a command line, a batch runner or
//! a Python binding calls to analyse a session.
//!
//! * **Configs** ([`config`]): every setting that changes a result, per stage,
//!   typed, serialisable and validated — a [`DetectConfig`], [`BurstsConfig`]
//!   or [`EpscConfig`] can only exist once its settings passed validation.
//! * **Stages**: [`run_detect`], [`run_bursts`], [`run_epsc`] load a
//!   session's inputs, run the algorithms (plain-slice crates), build tables,
//!   draw figures and write one output folder each, returning typed results and
//!   **warnings as values** (nothing is printed here, so sessions can run in
//!   parallel).
//! * **Records and atomic outputs** ([`output`]): each folder is built beside
//!   its destination and swapped into place with a [`burstscope_core::Record`]
//!   whose `key` (inputs, config, program, algorithm version) can decide
//!   "already done".
//!
//! ```no_run
//! use burstscope_pipeline::{BurstsConfig, BurstsSettings, run_bursts};
//! use std::path::Path;
//!
//! let mut s = BurstsSettings::default();
//! s.windows.drug_at_s = Some(1800.0);
//! let cfg = BurstsConfig::new(s)?;
//! let run = run_bursts(Path::new("session.nwb"), Path::new("out/bursts"), &cfg)?;
//! println!("{} bursts; record key {}", run.analysis.n_bursts(), run.record.key_digest());
//! # Ok::<(), burstscope_pipeline::Error>(())
//! ```

pub mod bursts;
pub mod cclamp;
pub mod config;
pub mod convert;
pub mod demo;
pub mod detect;
pub mod epsc;
mod error;
pub mod generate;
pub mod inspect;
pub mod lfp;
pub mod output;
pub mod sort;
mod spikes_in;

pub use bursts::{Analysis, BURSTS_STAGE, BurstsRun, FigureFile, Metric, StatRow, UnitResult, run_bursts};
pub use cclamp::{CCLAMP_STAGE, CclampConfig, CclampRun, CclampSettings, run_cclamp};
pub use config::{
    BurstsConfig, BurstsSettings, DetectConfig, DetectSettings, EpscConfig, EpscSettings, MethodName, TableFormat,
    TestPulseSpec, WindowSettings, read_settings,
};
pub use demo::{DemoOptions, DemoReport, run_demo};
pub use detect::{DETECT_STAGE, DetectRun, run_detect};
pub use epsc::{EPSC_STAGE, EpscRun, run_epsc};
pub use error::{Context, Error, ParamError, Result, ShowValue};
pub use output::{Stage, StageOutput, program};
pub use sort::{SORT_STAGE, SortConfig, SortRun, SortSettings, SortedUnit, UnitQuality, run_sort};
pub use spikes_in::{
    MAX_TRAIN_SPAN_S, Spikes, UnitTrain, filter_labels, is_table, load_spikes, phy_inputs, repair_train,
};

/// Where long work reports how far it is; the command line draws bars, a
/// batch runner counts, a library caller may ignore it ([`Silent`]).
pub trait Progress: Sync {
    /// A task of `len` steps begins.
    fn start(&self, _len: u64, _what: &str) {}
    /// `n` more steps are done.
    fn inc(&self, _n: u64) {}
    /// The task is done.
    fn finish(&self) {}
    /// A named step of a longer run (e.g. the demo's six steps).
    fn step(&self, _message: &str) {}
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
