//! Synthetic recordings with ground truth, for demos, tests and benchmarks.
//!
//! - [`TetrodeSession`]: in vivo tetrode sessions with LHb-like bursters and
//!   tonic units; at the injection time the bursters switch to much less
//!   bursting (the ketamine effect). The wide-band signal — white noise,
//!   common-mode noise and 50 Hz hum, LFP (delta, theta, gamma), spikes with
//!   per-channel amplitude profiles, smaller late in a burst — is rendered in
//!   fixed blocks of [`RENDER_BLOCK`] samples, each from its own random
//!   stream, so output is identical whatever the thread count.
//! - [`SliceCell`]: whole-cell voltage clamp at +40 mV, sweeps at 0.1 Hz with a
//!   test pulse, a stimulus artifact and an NMDAR EPSC (rise and
//!   bi-exponential decay); baseline, wash-in, then use-dependent block that
//!   is strong in LHb and weak in CA1; optional access-resistance drift.
//!
//! Everything is a pure function of the parameters (including the seed).
//! This crate does no I/O: the CLI writes what it generates through
//! `burstscope-io`.

mod rng;
mod slice;
mod tetrode;

pub use rng::Rng;
pub use slice::{SliceCell, SliceParams, SweepTruth, SynthSweep};
pub use tetrode::{RENDER_BLOCK, SynthUnit, TetrodeParams, TetrodeSession, TruthBurst, UnitKind};

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A parameter is out of range.
    #[error("invalid generator parameter {0}")]
    Param(String),
}
