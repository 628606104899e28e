//! Per-unit, per-window burst and firing metrics (docs/bursts.md, "Metrics").
//!
//! Bursts are detected once on the whole train, so a window's edge never cuts
//! a burst in two; a burst belongs to the window that holds its first spike.
//! Spike-level quantities (% spikes in bursts, tonic rate) count the spikes
//! inside the window, each marked by whether any burst holds it.

use crate::{Burst, BurstError};
use serde::{Deserialize, Serialize};

/// A named time window [start, stop) in seconds on the recording's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Name (e.g. an epoch tag: `baseline`, `ketamine`).
    pub name: String,
    /// Start (s, inclusive).
    pub start_s: f64,
    /// Stop (s, exclusive).
    pub stop_s: f64,
}

impl Window {
    /// Builds a window.
    #[must_use]
    pub fn new(name: &str, start_s: f64, stop_s: f64) -> Self {
        Self { name: name.into(), start_s, stop_s }
    }

    /// Length (s).
    #[must_use]
    pub fn duration_s(&self) -> f64 {
        self.stop_s - self.start_s
    }

    /// Index range of the spikes of sorted `times` inside the window.
    #[must_use]
    pub fn spike_range(&self, times: &[f64]) -> std::ops::Range<usize> {
        times.partition_point(|&t| t < self.start_s)..times.partition_point(|&t| t < self.stop_s)
    }
}

/// Thresholds of the metrics and the classification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricParams {
    /// A unit firing below this (Hz) in a window is silent; default 0.05.
    pub silent_below_hz: f64,
    /// A non-silent unit with at least this many bursts per minute is bursting; default 1 (sjemea).
    pub bursting_min_per_min: f64,
    /// ISIs shorter than this (s) are refractory violations; default 0.002.
    pub isi_violation_s: f64,
}

impl Default for MetricParams {
    fn default() -> Self {
        Self { silent_below_hz: 0.05, bursting_min_per_min: 1.0, isi_violation_s: 0.002 }
    }
}

impl MetricParams {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`BurstError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), BurstError> {
        for (field, v) in [
            ("silent_below_hz", self.silent_below_hz),
            ("bursting_min_per_min", self.bursting_min_per_min),
            ("isi_violation_s", self.isi_violation_s),
        ] {
            if !(v >= 0.0) || !v.is_finite() {
                return Err(BurstError::Param {
                    method: "metrics",
                    field,
                    message: format!("expected a number ≥ 0, got {v}"),
                });
            }
        }
        Ok(())
    }
}

/// Firing class of a unit in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FiringClass {
    /// Rate below `silent_below_hz`.
    Silent,
    /// Firing, with fewer bursts per minute than `bursting_min_per_min`.
    Tonic,
    /// At least `bursting_min_per_min` bursts per minute.
    Bursting,
}

impl FiringClass {
    /// Lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Silent => "silent",
            Self::Tonic => "tonic",
            Self::Bursting => "bursting",
        }
    }
}

/// Metrics of one unit in one window. Quantities that need bursts (or ISIs)
/// the window does not have are NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitMetrics {
    /// Spikes in the window.
    pub n_spikes: usize,
    /// Window length (s).
    pub duration_s: f64,
    /// Spikes / duration (Hz).
    pub firing_rate_hz: f64,
    /// Spikes outside bursts / duration (Hz).
    pub tonic_rate_hz: f64,
    /// Bursts starting in the window.
    pub n_bursts: usize,
    /// Bursts per minute.
    pub bursts_per_min: f64,
    /// 100 × spikes in bursts / spikes.
    pub pct_spikes_in_bursts: f64,
    /// Mean spikes per burst.
    pub mean_spikes_per_burst: f64,
    /// Mean over bursts of (n − 1)/duration (Hz).
    pub mean_intraburst_freq_hz: f64,
    /// Mean burst duration, first to last spike (s).
    pub mean_burst_duration_s: f64,
    /// Mean inter-burst interval, end of one burst to start of the next (s).
    pub mean_ibi_s: f64,
    /// Mean inter-burst interval, start to start (NeuroExplorer) (s).
    pub mean_ibi_start_to_start_s: f64,
    /// sd/mean of the end-to-start IBIs (sd with n − 1, as sjemea).
    pub cv_ibi: f64,
    /// Coefficient of variation of the ISIs (sd with n, as `scipy.stats.variation`).
    pub isi_cv: f64,
    /// Local variation of the ISIs (Shinomoto 2003).
    pub isi_lv: f64,
    /// Fraction of ISIs shorter than `isi_violation_s`.
    pub isi_violation_fraction: f64,
    /// Silent, tonic or bursting.
    pub class: FiringClass,
}

/// Marks each spike that belongs to a burst.
#[must_use]
pub fn burst_membership(n_spikes: usize, bursts: &[Burst]) -> Vec<bool> {
    let mut m = vec![false; n_spikes];
    for b in bursts {
        m[b.first..=b.last()].iter_mut().for_each(|v| *v = true);
    }
    m
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() { f64::NAN } else { x.iter().sum::<f64>() / x.len() as f64 }
}

fn sd(x: &[f64], ddof: usize) -> f64 {
    if x.len() <= ddof {
        return f64::NAN;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - ddof) as f64).sqrt()
}

/// (CV, LV) of a sequence of ISIs: CV = sd/mean with sd over n (as
/// `scipy.stats.variation`), LV = 3/(n−1) Σ ((I_i − I_{i+1})/(I_i + I_{i+1}))².
/// NaN with fewer than two ISIs.
///
/// ```
/// use burstscope_bursts::isi_stats;
/// let (cv, lv) = isi_stats(&[1.0, 1.0, 1.0]);
/// assert_eq!((cv, lv), (0.0, 0.0));
/// ```
#[must_use]
pub fn isi_stats(isi: &[f64]) -> (f64, f64) {
    if isi.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let cv = sd(isi, 0) / mean(isi);
    let lv =
        3.0 * isi.windows(2).map(|w| ((w[0] - w[1]) / (w[0] + w[1])).powi(2)).sum::<f64>() / (isi.len() - 1) as f64;
    (cv, lv)
}

/// Metrics of one unit in one window.
///
/// `bursts` are the unit's bursts on the whole train (sorted), `in_burst` from
/// [`burst_membership`].
///
/// ```
/// use burstscope_bursts::{Burst, MetricParams, Window, burst_membership, window_metrics};
/// let t = [1.0, 10.0, 10.01, 10.02, 30.0, 50.0, 50.01];
/// let b = [Burst::from_indices(&t, 1, 3, None), Burst::from_indices(&t, 5, 6, None)];
/// let m = window_metrics(&t, &b, &burst_membership(t.len(), &b), &Window::new("all", 0.0, 60.0), &MetricParams::default());
/// assert_eq!((m.n_spikes, m.n_bursts), (7, 2));
/// assert!((m.pct_spikes_in_bursts - 500.0 / 7.0).abs() < 1e-12);
/// assert!((m.tonic_rate_hz - 2.0 / 60.0).abs() < 1e-12);
/// assert_eq!(m.class.as_str(), "bursting"); // 2 bursts per minute
/// ```
#[must_use]
pub fn window_metrics(times: &[f64], bursts: &[Burst], in_burst: &[bool], w: &Window, p: &MetricParams) -> UnitMetrics {
    let r = w.spike_range(times);
    let n = r.len();
    let dur = w.duration_s();
    let in_b = in_burst[r.clone()].iter().filter(|&&v| v).count();
    let first = bursts.partition_point(|b| b.start_s < w.start_s);
    let last = bursts.partition_point(|b| b.start_s < w.stop_s);
    let bs = &bursts[first..last];
    let lens: Vec<f64> = bs.iter().map(|b| b.n_spikes as f64).collect();
    let durs: Vec<f64> = bs.iter().map(Burst::duration_s).collect();
    let freqs: Vec<f64> = bs.iter().map(Burst::intraburst_freq_hz).filter(|f| f.is_finite()).collect();
    let ibi: Vec<f64> = bs.windows(2).map(|p| p[1].start_s - p[0].end_s).collect();
    let ibi_ss: Vec<f64> = bs.windows(2).map(|p| p[1].start_s - p[0].start_s).collect();
    let isi: Vec<f64> = times[r].windows(2).map(|p| p[1] - p[0]).collect();
    let (isi_cv, isi_lv) = isi_stats(&isi);
    let rate = n as f64 / dur;
    let bpm = bs.len() as f64 / dur * 60.0;
    let class = if rate < p.silent_below_hz {
        FiringClass::Silent
    } else if bpm >= p.bursting_min_per_min {
        FiringClass::Bursting
    } else {
        FiringClass::Tonic
    };
    UnitMetrics {
        n_spikes: n,
        duration_s: dur,
        firing_rate_hz: rate,
        tonic_rate_hz: (n - in_b) as f64 / dur,
        n_bursts: bs.len(),
        bursts_per_min: bpm,
        pct_spikes_in_bursts: if n > 0 { 100.0 * in_b as f64 / n as f64 } else { f64::NAN },
        mean_spikes_per_burst: mean(&lens),
        mean_intraburst_freq_hz: mean(&freqs),
        mean_burst_duration_s: mean(&durs),
        mean_ibi_s: mean(&ibi),
        mean_ibi_start_to_start_s: mean(&ibi_ss),
        cv_ibi: sd(&ibi, 1) / mean(&ibi),
        isi_cv,
        isi_lv,
        isi_violation_fraction: if isi.is_empty() {
            f64::NAN
        } else {
            isi.iter().filter(|&&d| d < p.isi_violation_s).count() as f64 / isi.len() as f64
        },
        class,
    }
}

/// One bin of a time course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeBin {
    /// Bin start relative to the origin (injection) (s).
    pub start_s: f64,
    /// Bin end relative to the origin (s).
    pub stop_s: f64,
    /// Spikes in the bin.
    pub n_spikes: usize,
    /// Firing rate (Hz).
    pub firing_rate_hz: f64,
    /// Bursts starting in the bin, per minute.
    pub bursts_per_min: f64,
    /// Non-burst spikes per second.
    pub tonic_rate_hz: f64,
    /// 100 × burst spikes / spikes (NaN without spikes).
    pub pct_spikes_in_bursts: f64,
}

/// Firing and burst rates in bins of `bin_s` aligned on `origin_s` (the
/// injection), covering whole bins inside [`start_s`, `stop_s`).
///
/// ```
/// use burstscope_bursts::time_course;
/// let t = [5.0, 65.0, 66.0, 130.0];
/// let bins = time_course(&t, &[], &[false; 4], 60.0, 60.0, 0.0, 180.0);
/// assert_eq!(bins.iter().map(|b| b.start_s).collect::<Vec<_>>(), [-60.0, 0.0, 60.0]);
/// assert_eq!(bins.iter().map(|b| b.n_spikes).collect::<Vec<_>>(), [1, 2, 1]);
/// ```
#[must_use]
pub fn time_course(
    times: &[f64],
    bursts: &[Burst],
    in_burst: &[bool],
    origin_s: f64,
    bin_s: f64,
    start_s: f64,
    stop_s: f64,
) -> Vec<TimeBin> {
    let mut out = Vec::new();
    if !(bin_s > 0.0) {
        return out;
    }
    let mut k = ((start_s - origin_s) / bin_s - 1e-9).ceil() as i64;
    loop {
        let a = origin_s + k as f64 * bin_s;
        let b = a + bin_s;
        if b > stop_s + 1e-9 * bin_s {
            break;
        }
        let w = Window::new("", a, b);
        let r = w.spike_range(times);
        let n = r.len();
        let in_b = in_burst[r].iter().filter(|&&v| v).count();
        let nb = bursts.partition_point(|x| x.start_s < b) - bursts.partition_point(|x| x.start_s < a);
        out.push(TimeBin {
            start_s: a - origin_s,
            stop_s: b - origin_s,
            n_spikes: n,
            firing_rate_hz: n as f64 / bin_s,
            bursts_per_min: nb as f64 / bin_s * 60.0,
            tonic_rate_hz: (n - in_b) as f64 / bin_s,
            pct_spikes_in_bursts: if n > 0 { 100.0 * in_b as f64 / n as f64 } else { f64::NAN },
        });
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_window_gives_nan_not_panic() {
        let m = window_metrics(&[], &[], &[], &Window::new("w", 0.0, 10.0), &MetricParams::default());
        assert_eq!(m.n_spikes, 0);
        assert_eq!(m.class, FiringClass::Silent);
        assert!(m.pct_spikes_in_bursts.is_nan() && m.mean_spikes_per_burst.is_nan() && m.isi_cv.is_nan());
    }

    #[test]
    fn ibi_conventions_and_cv() {
        let t = [0.0, 0.01, 1.0, 1.02, 3.0, 3.01];
        let b: Vec<Burst> =
            [(0, 1), (2, 3), (4, 5)].iter().map(|&(a, z)| Burst::from_indices(&t, a, z, None)).collect();
        let m = window_metrics(&t, &b, &burst_membership(6, &b), &Window::new("w", 0.0, 4.0), &MetricParams::default());
        assert!((m.mean_ibi_s - (0.99 + 1.98) / 2.0).abs() < 1e-12);
        assert!((m.mean_ibi_start_to_start_s - 1.5).abs() < 1e-12);
        let sd = ((0.99f64 - 1.485).powi(2) * 2.0).sqrt(); // n − 1 = 1
        assert!((m.cv_ibi - sd / 1.485).abs() < 1e-12);
        assert_eq!(m.isi_violation_fraction, 0.0);
    }

    #[test]
    fn lv_of_alternating_intervals() {
        // I = 1, 3, 1, 3: each pair gives ((1−3)/4)² = 0.25 → LV = 0.75
        let (_, lv) = isi_stats(&[1.0, 3.0, 1.0, 3.0]);
        assert!((lv - 0.75).abs() < 1e-12);
    }

    #[test]
    fn classification_thresholds() {
        let p = MetricParams::default();
        let w = Window::new("w", 0.0, 100.0);
        // 4 spikes in 100 s = 0.04 Hz → silent
        let t = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(window_metrics(&t, &[], &[false; 4], &w, &p).class, FiringClass::Silent);
        let t: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(window_metrics(&t, &[], &[false; 10], &w, &p).class, FiringClass::Tonic);
    }
}
