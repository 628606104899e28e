//! Detection parameters: a plain, serialisable struct with validated defaults.

use burstscope_dsp::Reference;
use serde::{Deserialize, Serialize};

/// Which deflections count as spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    /// Negative troughs (extracellular spikes; the default).
    Neg,
    /// Positive peaks.
    Pos,
    /// Both.
    Both,
}

/// A detection parameter out of range: the field (as in `detect.toml`) and
/// a message naming its value and the accepted range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParamIssue {
    /// Field name.
    pub field: &'static str,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl ParamIssue {
    fn new(field: &'static str, message: String) -> Self {
        Self { field, message }
    }
}

/// Spike detection parameters. Defaults equal SpikeInterface's band-pass
/// (300–6000 Hz, order 5) and MAD threshold (5σ) so results are comparable.
///
/// ```
/// let p = burstscope_spikes::DetectParams::default();
/// assert_eq!((p.band_hz, p.filter_order, p.threshold), ((300.0, 6000.0), 5, 5.0));
/// assert!(p.validate(30_000.0).is_ok());
/// assert!(p.validate(10_000.0).is_err()); // 6 kHz is above Nyquist
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectParams {
    /// Band-pass edges, Hz.
    pub band_hz: (f64, f64),
    /// Butterworth order (applied forward and backward: effective order doubled).
    pub filter_order: usize,
    /// Common reference within each channel group, after filtering.
    pub reference: Reference,
    /// Threshold in robust σ (MAD / 0.6745) of the filtered signal.
    pub threshold: f64,
    /// Deflection sign.
    pub sign: Sign,
    /// Within a group, a candidate is suppressed by a larger |x|/threshold on
    /// any channel of the group within ± this window, ms (SpikeInterface's
    /// locally-exclusive rule restricted to the group).
    pub exclusion_ms: f64,
    /// Dead time per group, ms: of two events closer than this, the one with
    /// the larger |x|/threshold is kept.
    pub dead_time_ms: f64,
    /// Waveform snippet before the peak, ms.
    pub ms_before: f64,
    /// Waveform snippet after the peak, ms.
    pub ms_after: f64,
    /// Noise: number of chunks.
    pub noise_chunks: usize,
    /// Noise: chunk length, s.
    pub noise_chunk_s: f64,
    /// Noise: seed of the chunk positions.
    pub noise_seed: u64,
    /// Filter margin on each side of a block, ms (`None`: 7 / low edge, 23.3 ms
    /// at 300 Hz — SpikeInterface uses 5 / low edge; at 7 the streamed output
    /// equals whole-signal `sosfiltfilt` to the f32 floor, 7e-5 × RMS — widened
    /// if the detection windows and clipping guard need more).
    pub margin_ms: Option<f64>,
    /// Samples per block of the fixed processing grid (not tied to threads).
    pub block_samples: usize,
}

impl Default for DetectParams {
    fn default() -> Self {
        Self {
            band_hz: (300.0, 6000.0),
            filter_order: 5,
            reference: Reference::None,
            threshold: 5.0,
            sign: Sign::Neg,
            exclusion_ms: 0.5,
            dead_time_ms: 1.0,
            ms_before: 1.0,
            ms_after: 2.0,
            noise_chunks: 20,
            noise_chunk_s: 0.5,
            noise_seed: 0,
            margin_ms: None,
            block_samples: 32_768,
        }
    }
}

impl DetectParams {
    /// The filter margin asked for, ms (before widening for the detection windows).
    #[must_use]
    pub fn margin(&self) -> f64 {
        self.margin_ms.unwrap_or(7_000.0 / self.band_hz.0)
    }

    /// Checks the parameters against a sampling rate.
    ///
    /// # Errors
    /// A [`ParamIssue`] naming the parameter and the accepted range.
    pub fn validate(&self, rate_hz: f64) -> Result<(), ParamIssue> {
        let (lo, hi) = self.band_hz;
        if !(lo > 0.0 && hi > lo && hi < rate_hz / 2.0) {
            return Err(ParamIssue::new(
                "band_hz",
                format!("band {lo}:{hi} Hz: expected 0 < low < high < {} Hz (half the sampling rate)", rate_hz / 2.0),
            ));
        }
        if self.filter_order == 0 || self.filter_order > 12 {
            return Err(ParamIssue::new(
                "filter_order",
                format!("filter_order {}: expected 1..=12", self.filter_order),
            ));
        }
        if !(self.threshold > 0.0 && self.threshold.is_finite()) {
            return Err(ParamIssue::new(
                "threshold",
                format!("threshold {}: expected a positive number of σ", self.threshold),
            ));
        }
        for (n, v, max) in [
            ("exclusion_ms", self.exclusion_ms, 10.0),
            ("dead_time_ms", self.dead_time_ms, 100.0),
            ("ms_before", self.ms_before, 20.0),
            ("ms_after", self.ms_after, 20.0),
        ] {
            if !(v >= 0.0 && v <= max) {
                return Err(ParamIssue::new(n, format!("{n} {v}: expected 0..={max}")));
            }
        }
        if self.noise_chunks == 0 || !(self.noise_chunk_s > 0.0 && self.noise_chunk_s.is_finite()) {
            return Err(ParamIssue::new(
                "noise_chunks",
                "noise_chunks and noise_chunk_s: expected at least one chunk of positive length".into(),
            ));
        }
        let m = self.margin();
        if !(m.is_finite() && (1.0..=2000.0).contains(&m)) {
            return Err(ParamIssue::new("margin_ms", format!("margin_ms {m}: expected 1..=2000")));
        }
        if self.block_samples < 1024 || self.block_samples > (1 << 24) {
            return Err(ParamIssue::new(
                "block_samples",
                format!("block_samples {}: expected 1024..=16777216", self.block_samples),
            ));
        }
        Ok(())
    }
}
