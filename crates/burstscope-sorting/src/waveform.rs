//! Waveform features of a unit's mean waveform on one channel, following
//! SpikeInterface 0.105's `template_metrics` definitions (the template
//! upsampled 10× before measuring):
//!
//! * `trough_to_peak_ms`: time from the trough to the largest value after it;
//! * `half_width_ms`: width of the trough where it is below half its depth;
//! * `peak_trough_ratio`: that peak's height over the trough's depth,
//!   |peak| / |trough| (SpikeInterface 0.105's `peak_after_to_trough_ratio`);
//! * `repolarization_slope`: slope (µV/s) of a least-squares line through
//!   the template from the trough to where it first returns to 0.

/// The features of one channel's mean waveform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaveformFeatures {
    /// Trough to following peak, ms.
    pub trough_to_peak_ms: f64,
    /// Width at half the trough depth, ms.
    pub half_width_ms: f64,
    /// |Peak| / |trough|.
    pub peak_trough_ratio: f64,
    /// Repolarisation slope, µV/s.
    pub repolarization_slope: f64,
}

/// Cubic (Catmull–Rom) upsampling by `factor`.
fn upsample(x: &[f64], factor: usize) -> Vec<f64> {
    let n = x.len();
    if n < 2 || factor <= 1 {
        return x.to_vec();
    }
    let at = |i: isize| x[i.clamp(0, n as isize - 1) as usize];
    let mut out = Vec::with_capacity((n - 1) * factor + 1);
    for i in 0..n - 1 {
        let (p0, p1, p2, p3) = (at(i as isize - 1), at(i as isize), at(i as isize + 1), at(i as isize + 2));
        for k in 0..factor {
            let f = k as f64 / factor as f64;
            let (f2, f3) = (f * f, f * f * f);
            out.push(
                0.5 * (2.0 * p1
                    + (p2 - p0) * f
                    + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * f2
                    + (3.0 * p1 - p0 - 3.0 * p2 + p3) * f3),
            );
        }
    }
    out.push(x[n - 1]);
    out
}

/// Features of `template_uv` (one channel, µV) sampled at `rate_hz`.
/// NaN where a feature is undefined (no trough below 0, no return to 0).
///
/// ```
/// use burstscope_sorting::waveform_features;
/// // A trough at sample 10, a peak 9 samples later, at 30 kHz.
/// let t: Vec<f64> = (0..40).map(|i| {
///     let i = i as f64;
///     -100.0 * (-((i - 10.0) / 2.0).powi(2)).exp() + 30.0 * (-((i - 19.0) / 4.0).powi(2)).exp()
/// }).collect();
/// let f = waveform_features(&t, 30_000.0);
/// assert!((f.trough_to_peak_ms - 0.3).abs() < 0.02);
/// assert!(f.peak_trough_ratio > 0.0 && f.peak_trough_ratio < 0.4);
/// assert!(f.half_width_ms > 0.05 && f.repolarization_slope > 0.0);
/// ```
#[must_use]
pub fn waveform_features(template_uv: &[f64], rate_hz: f64) -> WaveformFeatures {
    const UP: usize = 10;
    let nan = WaveformFeatures {
        trough_to_peak_ms: f64::NAN,
        half_width_ms: f64::NAN,
        peak_trough_ratio: f64::NAN,
        repolarization_slope: f64::NAN,
    };
    if template_uv.len() < 3 || !(rate_hz > 0.0) {
        return nan;
    }
    let x = upsample(template_uv, UP);
    let dt_s = 1.0 / (rate_hz * UP as f64);
    let trough = (0..x.len()).min_by(|&a, &b| x[a].total_cmp(&x[b])).unwrap_or(0);
    let tv = x[trough];
    if !(tv < 0.0) {
        return nan;
    }
    let mut out = nan;
    if trough + 1 < x.len() {
        let peak = (trough + 1..x.len()).max_by(|&a, &b| x[a].total_cmp(&x[b]).then(b.cmp(&a))).unwrap_or(trough);
        out.trough_to_peak_ms = (peak - trough) as f64 * dt_s * 1e3;
        out.peak_trough_ratio = x[peak].abs() / tv.abs();
    }
    let half = 0.5 * tv;
    let mut lo = trough;
    while lo > 0 && x[lo - 1] <= half {
        lo -= 1;
    }
    let mut hi = trough;
    while hi + 1 < x.len() && x[hi + 1] <= half {
        hi += 1;
    }
    if lo > 0 && hi + 1 < x.len() {
        out.half_width_ms = (hi - lo + 1) as f64 * dt_s * 1e3;
    }
    if let Some(zero) = (trough + 1..x.len()).find(|&i| x[i] >= 0.0) {
        let seg = &x[trough..=zero];
        let n = seg.len() as f64;
        let mt = (n - 1.0) / 2.0;
        let my = seg.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, y) in seg.iter().enumerate() {
            let dx = i as f64 - mt;
            sxy += dx * (y - my);
            sxx += dx * dx;
        }
        if sxx > 0.0 {
            out.repolarization_slope = sxy / sxx / dt_s;
        }
    }
    out
}
