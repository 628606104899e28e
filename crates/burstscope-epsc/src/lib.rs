//! Voltage-clamp EPSC analysis on plain slices (pA, Hz, ms): no HDF5, no tables.
//!
//! Per sweep ([`measure_sweep`], docs/epsc.md): baseline from a
//! pre-stimulus window, stimulus-artifact blanking, sign-aware peak amplitude
//! (averaged around the extremum) and the amplitude at a fixed latency (50 ms)
//! relative to baseline, 10–90 % rise time, one- and two-exponential decay fits
//! by Levenberg–Marquardt ([`fit_exp1`], [`fit_exp2`]) with the
//! amplitude-weighted τ, charge transfer, and the membrane test on the test
//! pulse ([`membrane_test`]: holding current, access, input and membrane
//! resistance, capacitance). The stimulus is found from its artifact
//! ([`find_stimulus`]) and the test pulse from the command ([`command_levels`]).
//!
//! Per cell ([`summarize_cell`]): amplitudes normalised to the baseline mean,
//! % block over the last N drug sweeps (or minutes), stimulus number for
//! use-dependence (the block per stimulus from an exponential fit against the
//! stimulus number, [`fit_use_dependence`]), and QC flags with documented
//! thresholds.
//!
//! ```
//! use burstscope_epsc::{SweepParams, measure_sweep};
//! // an outward EPSC (rise τ 2 ms, decay τ 40 ms), stimulus at 200 ms, 10 kHz
//! let fs = 10_000.0;
//! let i: Vec<f64> = (0..8000)
//!     .map(|k| {
//!         let t = (k as f64 - 2000.0) / fs * 1e3; // ms after the stimulus
//!         if t > 2.0 { 300.0 * (1.0 - (-(t - 2.0) / 2.0).exp()) * (-(t - 2.0) / 40.0).exp() } else { 0.0 }
//!     })
//!     .collect();
//! let peak = i.iter().copied().fold(0.0, f64::max);
//! let r = measure_sweep(&i, fs, 2000, None, Some(40.0), &SweepParams::default()).unwrap();
//! assert!((r.amplitude_pa - peak).abs() / peak < 0.01);
//! assert!((r.tau_mono_ms - 40.0).abs() < 2.0);
//! assert!(r.rise_ms > 2.0 && r.rise_ms < 8.0);
//! ```

mod cell;
mod fit;
mod memtest;
mod ratio;
mod sweep;
mod usedep;

pub use cell::{CellSummary, CellSweep, summarize_cell};
pub use fit::{ExpFit, fit_exp1, fit_exp2, fit_exp2_from};
pub use memtest::{MembraneTest, membrane_test};
pub use ratio::{NmdaAmpa, nmda_ampa_ratio, paired_pulse_ratio};
pub use sweep::{
    Polarity, SweepResult, TestPulse, command_edges, command_levels, find_stimuli_away_from, find_stimulus,
    find_stimulus_away_from, measure_sweep, monitor_edges, monitor_lag,
};
pub use usedep::{MAX_CI_RATIO, UseDependence, fit_use_dependence};

use serde::{Deserialize, Serialize};

/// Errors of the EPSC analysis.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EpscError {
    /// A measurement window does not fit the sweep.
    #[error("{0}")]
    Window(String),
    /// A parameter is out of range.
    #[error("invalid EPSC parameter {field}: {message}")]
    Param {
        /// Field name.
        field: &'static str,
        /// What was expected.
        message: String,
    },
}

/// Per-sweep measurement parameters. Times in ms relative to the stimulus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SweepParams {
    /// Baseline window (ms, start inclusive, end exclusive); default −20 to −5 ms.
    pub baseline_ms: (f64, f64),
    /// Artifact blanking after the stimulus (ms); default 2.
    pub blank_ms: f64,
    /// Where the peak is searched (ms); default 2–300.
    pub peak_window_ms: (f64, f64),
    /// Samples averaged around the extremum (ms); default 0.5.
    pub peak_average_ms: f64,
    /// Fixed latency for the NMDA amplitude (ms); default 50.
    pub latency_ms: f64,
    /// Window averaged at the latency (ms); default 1.
    pub latency_average_ms: f64,
    /// Rise-time levels as fractions of the peak; default (0.1, 0.9).
    pub rise_fractions: (f64, f64),
    /// Decay fitted from the peak over this long (ms), clipped to the sweep; default 550.
    pub decay_window_ms: f64,
    /// Charge integrated over this window (ms after the stimulus, blanking excluded); default 0–500.
    pub charge_window_ms: (f64, f64),
    /// Direction of the EPSC.
    pub polarity: Polarity,
}

impl Default for SweepParams {
    fn default() -> Self {
        Self {
            baseline_ms: (-20.0, -5.0),
            blank_ms: 2.0,
            peak_window_ms: (2.0, 300.0),
            peak_average_ms: 0.5,
            latency_ms: 50.0,
            latency_average_ms: 1.0,
            rise_fractions: (0.1, 0.9),
            decay_window_ms: 550.0,
            charge_window_ms: (0.0, 500.0),
            polarity: Polarity::Auto,
        }
    }
}

impl SweepParams {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`EpscError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), EpscError> {
        let bad = |field, message: String| Err(EpscError::Param { field, message });
        if !(self.baseline_ms.0 < self.baseline_ms.1 && self.baseline_ms.1 <= 0.0) {
            return bad("baseline_ms", format!("expected start < end ≤ 0 ms, got {:?}", self.baseline_ms));
        }
        if !(self.peak_window_ms.0 < self.peak_window_ms.1) || !(self.blank_ms >= 0.0) {
            return bad("peak_window_ms", format!("expected start < end, got {:?}", self.peak_window_ms));
        }
        if !(self.latency_ms > 0.0) {
            return bad("latency_ms", format!("expected a positive latency, got {}", self.latency_ms));
        }
        let (a, b) = self.rise_fractions;
        if !(0.0 < a && a < b && b < 1.0) {
            return bad("rise_fractions", format!("expected 0 < low < high < 1, got {a}, {b}"));
        }
        if !(self.decay_window_ms > 0.0 && self.decay_window_ms.is_finite()) {
            return bad("decay_window_ms", "expected a positive duration".into());
        }
        let (c0, c1) = self.charge_window_ms;
        if !(c0 >= 0.0 && c1 > c0 && c1.is_finite()) {
            return bad("charge_window_ms", format!("expected 0 ≤ start < end in ms, got {c0}, {c1}"));
        }
        for (field, v) in [
            ("blank_ms", self.blank_ms),
            ("peak_average_ms", self.peak_average_ms),
            ("latency_average_ms", self.latency_average_ms),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(field, format!("expected a duration ≥ 0 ms, got {v}"));
            }
        }
        if !(self.latency_ms.is_finite() && self.peak_window_ms.1.is_finite() && self.baseline_ms.0.is_finite()) {
            return bad("latency_ms", "expected finite times".into());
        }
        Ok(())
    }
}

/// Per-cell parameters: the block window and the QC thresholds
/// (docs/epsc.md, "QC": access < 25 MΩ and changing ≤ 20 %,
/// holding and baseline drift ≤ 20 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CellParams {
    /// Condition of the baseline sweeps (compared case-insensitively); default `baseline`.
    pub baseline_condition: String,
    /// % block from the last N drug sweeps; default 10.
    pub last_sweeps: usize,
    /// Or from the drug sweeps of the last M minutes (overrides `last_sweeps`).
    pub last_minutes: Option<f64>,
    /// Largest access resistance (MΩ); default 25.
    pub rs_max_mohm: f64,
    /// Largest relative change of access resistance, first vs last sweeps; default 0.2.
    pub rs_max_change: f64,
    /// Largest relative drift of the holding current; default 0.2.
    pub holding_max_drift: f64,
    /// Holding drifts smaller than this (pA) are ignored (near-zero holding currents); default 20.
    pub holding_min_drift_pa: f64,
    /// Largest drift of the baseline amplitude (first vs last third); default 0.2.
    pub baseline_max_drift: f64,
    /// Largest fraction of sweeps whose decay fit may fail; default 0.2.
    pub max_failed_fit_fraction: f64,
}

impl Default for CellParams {
    fn default() -> Self {
        Self {
            baseline_condition: "baseline".into(),
            last_sweeps: 10,
            last_minutes: None,
            rs_max_mohm: 25.0,
            rs_max_change: 0.2,
            holding_max_drift: 0.2,
            holding_min_drift_pa: 20.0,
            baseline_max_drift: 0.2,
            max_failed_fit_fraction: 0.2,
        }
    }
}

impl CellParams {
    /// Whether a sweep's condition is the baseline (case-insensitive).
    ///
    /// ```
    /// let p = burstscope_epsc::CellParams::default();
    /// assert!(p.is_baseline("Baseline") && !p.is_baseline("ketamine"));
    /// ```
    #[must_use]
    pub fn is_baseline(&self, condition: &str) -> bool {
        condition.trim().eq_ignore_ascii_case(self.baseline_condition.trim())
    }

    /// Checks ranges.
    ///
    /// # Errors
    /// [`EpscError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), EpscError> {
        if self.last_sweeps == 0 {
            return Err(EpscError::Param { field: "last_sweeps", message: "expected at least 1".into() });
        }
        if let Some(m) = self.last_minutes
            && !(m > 0.0)
        {
            return Err(EpscError::Param {
                field: "last_minutes",
                message: format!("expected a positive number, got {m}"),
            });
        }
        Ok(())
    }
}
