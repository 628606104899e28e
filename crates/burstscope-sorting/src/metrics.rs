//! Spike-train quality metrics of one unit, defined exactly as SpikeInterface
//! 0.105 computes them (`spikeinterface.metrics.quality`, one segment), so
//! burstscope's numbers can be compared with other labs'. Spike times are
//! sample indices, sorted.

use crate::SortError;

/// Parameters, at SpikeInterface's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainMetricParams {
    /// Presence-ratio bin, s (60).
    pub presence_bin_s: f64,
    /// A bin counts as "present" above floor(rate × bin × this) spikes (0).
    pub presence_mean_fr_ratio_thresh: f64,
    /// ISIs shorter than this are violations, ms (1.5).
    pub isi_threshold_ms: f64,
    /// Shortest possible ISI, ms (0).
    pub min_isi_ms: f64,
    /// Refractory period of `rp_contamination`, ms (1.0).
    pub refractory_period_ms: f64,
    /// Censored period of `rp_contamination`, ms (0).
    pub censored_period_ms: f64,
}

impl Default for TrainMetricParams {
    fn default() -> Self {
        Self {
            presence_bin_s: 60.0,
            presence_mean_fr_ratio_thresh: 0.0,
            isi_threshold_ms: 1.5,
            min_isi_ms: 0.0,
            refractory_period_ms: 1.0,
            censored_period_ms: 0.0,
        }
    }
}

/// One unit's spike-train metrics (NaN where SpikeInterface gives NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainMetrics {
    /// Spikes.
    pub n_spikes: usize,
    /// Spikes per second of recording.
    pub firing_rate_hz: f64,
    /// Fraction of whole bins with spikes (NaN for a recording shorter than a bin).
    pub presence_ratio: f64,
    /// Hill et al. 2011 / UMS: violations relative to the rate (can exceed 1).
    pub isi_violations_ratio: f64,
    /// Consecutive ISIs below the threshold.
    pub isi_violations_count: usize,
    /// Llobet et al. 2022 contamination from all pairs within the refractory period.
    pub rp_contamination: f64,
    /// Those pairs.
    pub rp_violations: usize,
}

/// The metrics of a unit with spikes at `samples` (sorted) in a recording of
/// `n_samples` samples at `fs_hz`.
///
/// ```
/// use burstscope_sorting::{TrainMetricParams, train_metrics};
/// let s: Vec<i64> = (0..600).map(|k| k * 2_000).collect(); // 10 Hz for 60 s at 20 kHz
/// let m = train_metrics(&s, 20_000.0, 1_200_000, &TrainMetricParams::default()).unwrap();
/// assert_eq!((m.n_spikes, m.isi_violations_count, m.rp_violations), (600, 0, 0));
/// assert!((m.firing_rate_hz - 10.0).abs() < 1e-12 && m.presence_ratio == 1.0);
/// ```
///
/// # Errors
/// [`SortError::Param`] for unsorted spikes, spikes outside the recording, or
/// a non-positive rate or length.
pub fn train_metrics(
    samples: &[i64],
    fs_hz: f64,
    n_samples: u64,
    p: &TrainMetricParams,
) -> Result<TrainMetrics, SortError> {
    if !(fs_hz > 0.0 && fs_hz.is_finite()) || n_samples == 0 {
        return Err(SortError::Param {
            field: "fs_hz",
            message: format!("expected a positive rate and length, got {fs_hz} Hz, {n_samples} samples"),
        });
    }
    if samples.windows(2).any(|w| w[1] < w[0]) {
        return Err(SortError::Param {
            field: "samples",
            message: "expected spike samples in increasing order".into(),
        });
    }
    if samples.first().is_some_and(|&s| s < 0) || samples.last().is_some_and(|&s| s as u64 >= n_samples) {
        return Err(SortError::Param { field: "samples", message: format!("expected samples within 0..{n_samples}") });
    }
    let n = samples.len();
    let nf = n as f64;
    let total_s = n_samples as f64 / fs_hz;
    let nan_if_empty = |v: f64| if n == 0 { f64::NAN } else { v };
    let firing_rate_hz = nan_if_empty(nf / total_s);

    // presence ratio: bins of whole bin lengths from 0, numpy.histogram style
    // (half-open bins, the last closed); the tail shorter than a bin is not counted.
    let bin = (p.presence_bin_s * fs_hz) as u64;
    let presence_ratio = if bin == 0 || n_samples < bin {
        f64::NAN
    } else {
        let n_bins = (n_samples / bin) as usize;
        let last_edge = n_bins as u64 * bin;
        let thresh = (nf / total_s * p.presence_bin_s * p.presence_mean_fr_ratio_thresh).floor();
        let mut counts = vec![0u64; n_bins];
        for &s in samples {
            let s = s as u64;
            if s > last_edge {
                continue;
            }
            let k = ((s / bin) as usize).min(n_bins - 1);
            counts[k] += 1;
        }
        counts.iter().filter(|&&c| c as f64 > thresh).count() as f64 / n_bins as f64
    };

    // ISI violations (Hill / UMS), on times in seconds.
    let thr_s = p.isi_threshold_ms / 1000.0;
    let min_s = p.min_isi_ms / 1000.0;
    // As SpikeInterface: the difference of times in seconds (not of samples),
    // so an ISI of exactly the threshold counts or not as its rounding does there.
    let isi_violations_count =
        samples.windows(2).filter(|w| (w[1] as f64 / fs_hz - w[0] as f64 / fs_hz) < thr_s).count();
    let isi_violations_ratio = if n == 0 {
        f64::NAN
    } else {
        let violation_time = 2.0 * nf * (thr_s - min_s);
        let total_rate = nf / total_s;
        (isi_violations_count as f64 / violation_time) / total_rate
    };

    // Refractory-period contamination (Llobet et al. 2022): every pair (i<j)
    // within t_r samples, the censored period used only in the formula.
    let t_c = (p.censored_period_ms * fs_hz * 1e-3).round() as i64;
    let t_r = (p.refractory_period_ms * fs_hz * 1e-3).round() as i64;
    let mut rp_violations = 0usize;
    let mut j0 = 0;
    for i in 0..n {
        j0 = j0.max(i + 1);
        while j0 < n && samples[j0] - samples[i] <= t_r {
            j0 += 1;
        }
        rp_violations += j0 - (i + 1);
    }
    let rp_contamination = if n <= 1 {
        f64::NAN
    } else {
        let d =
            1.0 - rp_violations as f64 * (n_samples as f64 - 2.0 * nf * t_c as f64) / (nf * nf * (t_r - t_c) as f64);
        if d < 0.0 { 1.0 } else { 1.0 - d.sqrt() }
    };
    Ok(TrainMetrics {
        n_spikes: n,
        firing_rate_hz,
        presence_ratio,
        isi_violations_ratio,
        isi_violations_count,
        rp_contamination,
        rp_violations,
    })
}
