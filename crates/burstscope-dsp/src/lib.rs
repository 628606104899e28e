//! Signal processing for burstscope, on plain slices (no I/O, no dataframes).
//!
//! - [`butter`]: Butterworth filters as second-order sections, coefficient for
//!   coefficient equal to `scipy.signal.butter(..., output="sos")`.
//! - [`sosfiltfilt`]: the `f64` reference zero-phase filter, equal to
//!   `scipy.signal.sosfiltfilt` (odd padding, steady-state initial conditions).
//! - [`ZeroPhase`]: the hot loop — `f32` zero-phase filtering of multi-channel
//!   blocks with channels in SIMD lanes (8 per vector, several vectors per row
//!   so independent recursions overlap), compiled for AVX-512, AVX2 and the
//!   baseline and chosen at run time.
//! - [`common_reference`] per channel group (median or average).
//! - [`welch`] power spectra (equal to `scipy.signal.welch` defaults) and a
//!   streaming [`Decimator`] for LFP.
//! - [`mad_sigma`] and [`noise_chunk_starts`]: SpikeInterface's MAD noise
//!   estimate over seeded chunks.
//!
//! Defaults follow SpikeInterface's `bandpass_filter`: 300–6000 Hz, order 5.

mod design;
mod filt;
mod noise;
mod reference;
mod spectrum;

pub use design::{Band, Sos, butter};
pub use filt::{LANES, Lane, ZeroPhase, sosfilt_in_place, sosfiltfilt};
pub use noise::{MAD_TO_SIGMA, mad_sigma, median_in_place, noise_chunk_starts};
pub use reference::{Reference, common_reference};
pub use spectrum::{Decimator, Spectrum, welch};

/// Errors of the signal-processing functions.
#[derive(Debug, thiserror::Error)]
pub enum DspError {
    /// A parameter is out of range.
    #[error("invalid filter parameter: {0}")]
    Param(String),
    /// The signal is too short for the filter.
    #[error("signal of {samples} samples is too short for the filter (needs at least {needed})")]
    TooShort {
        /// Samples given.
        samples: usize,
        /// Samples needed.
        needed: usize,
    },
}
