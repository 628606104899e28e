//! Amplitude metrics of one unit, as SpikeInterface 0.105 computes them.

/// Parameters of [`amplitude_cutoff`], at SpikeInterface's registered defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmplitudeCutoffParams {
    /// Histogram bins (100; the function's own signature says 500).
    pub n_bins: usize,
    /// σ of the Gaussian smoothing, in bins (3).
    pub smoothing_bins: f64,
    /// NaN below this many spikes per bin (5).
    pub min_spikes_per_bin: f64,
}

impl Default for AmplitudeCutoffParams {
    fn default() -> Self {
        Self { n_bins: 100, smoothing_bins: 3.0, min_spikes_per_bin: 5.0 }
    }
}

/// The estimated fraction of a unit's spikes missed below the detection
/// threshold (Hill et al. 2011, as in SpikeInterface): amplitudes are
/// sign-flipped when their median is negative; their 100-bin histogram is
/// smoothed (`scipy.ndimage.gaussian_filter1d`, σ = 3 bins, `mode="nearest"`,
/// integer output as for the integer histogram); the bins past the last one as
/// high as the lowest-amplitude bin are the mirror of the missing tail. Capped
/// at 0.5; NaN with fewer than 5 spikes per bin.
///
/// ```
/// use burstscope_sorting::{AmplitudeCutoffParams, amplitude_cutoff};
/// let a: Vec<f64> = (0..1000).map(|k| 60.0 + 40.0 * (k as f64 / 1000.0)).collect();
/// assert_eq!(amplitude_cutoff(&a, &AmplitudeCutoffParams::default()), 0.0);
/// assert!(amplitude_cutoff(&a[..400], &AmplitudeCutoffParams::default()).is_nan());
/// ```
#[must_use]
pub fn amplitude_cutoff(amplitudes: &[f64], p: &AmplitudeCutoffParams) -> f64 {
    let n = amplitudes.len();
    if p.n_bins == 0 || (n as f64) / (p.n_bins as f64) < p.min_spikes_per_bin {
        return f64::NAN;
    }
    let flip = median(amplitudes) < 0.0;
    let a: Vec<f64> = amplitudes.iter().map(|&v| if flip { -v } else { v }).collect();
    let h = histogram(&a, p.n_bins);
    let pdf = gaussian_filter_nearest_int(&h, p.smoothing_bins);
    let cutoff = pdf[0];
    let g = pdf.iter().rposition(|&v| v >= cutoff).unwrap_or(0);
    let missed: i64 = pdf[g + 1..].iter().sum();
    let missed = missed as f64;
    (missed / (n as f64 + missed)).min(0.5)
}

/// The median (mean of the middle two for an even count), as numpy's.
#[must_use]
pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 { s[m] } else { 0.5 * (s[m - 1] + s[m]) }
}

/// `numpy.histogram(a, bins)` counts: equal bins over [min, max] (±0.5 when
/// all values are equal), edges as `numpy.linspace`, the last bin closed.
fn histogram(a: &[f64], bins: usize) -> Vec<i64> {
    let (mut lo, mut hi) = a.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    if lo == hi {
        lo -= 0.5;
        hi += 0.5;
    }
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|k| k as f64 * step + lo).collect();
    edges[bins] = hi;
    let norm = bins as f64 / (hi - lo);
    let mut counts = vec![0i64; bins];
    for &v in a {
        let mut k = (((v - lo) * norm) as i64).clamp(0, bins as i64) as usize;
        if k == bins {
            k -= 1;
        }
        if v < edges[k] && k > 0 {
            k -= 1;
        } else if k + 1 < bins && v >= edges[k + 1] {
            k += 1;
        }
        counts[k] += 1;
    }
    counts
}

/// `scipy.ndimage.gaussian_filter1d(h, sigma, mode="nearest")` on an integer
/// array: kernel radius ⌊4σ + 0.5⌋, weights normalised, edges repeated, the
/// result cast back to integers by truncation as ndimage does.
fn gaussian_filter_nearest_int(h: &[i64], sigma: f64) -> Vec<i64> {
    let r = (4.0 * sigma + 0.5) as i64;
    let w: Vec<f64> = (-r..=r).map(|x| (-0.5 * (x as f64 / sigma).powi(2)).exp()).collect();
    let sum: f64 = w.iter().sum();
    let n = h.len() as i64;
    (0..n)
        .map(|i| {
            let v: f64 = (-r..=r).zip(&w).map(|(d, wk)| wk / sum * h[(i + d).clamp(0, n - 1) as usize] as f64).sum();
            v as i64
        })
        .collect()
}
