//! logISI (Pasquale et al. 2010): the threshold from the log-ISI histogram, and
//! burst detection with it.

use crate::{Burst, LogIsiParams, Span, add_related, merge_close, runs, spans_to_bursts};
use serde::{Deserialize, Serialize};

/// What the log-ISI histogram says about a train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogIsiThreshold {
    /// Histogram bin edges (ms), log-spaced from 1 ms.
    pub edges_ms: Vec<f64>,
    /// Normalised counts smoothed by lowess, one per bin.
    pub density: Vec<f64>,
    /// Bins holding peaks (0-based).
    pub peaks: Vec<usize>,
    /// The intra-burst peak (largest peak below the cut-off), if any.
    pub intra_peak: Option<usize>,
    /// ISImax (s): the left edge of the minimum before the first peak with a
    /// large enough void parameter; `None` when no peak qualifies.
    pub isi_max_s: Option<f64>,
    /// The in-burst ISI cut-off used for detection (s); `None` when the train
    /// is not analysed (too few spikes, or no intra-burst peak).
    pub cutoff_s: Option<f64>,
}

/// Locally weighted regression, as R's `lowess(x, y, f, iter = 3)` (Cleveland
/// 1979; R's `clowess`, with every point fitted, i.e. `delta` = 0).
///
/// `x` must be sorted.
///
/// ```
/// use burstscope_bursts::lowess;
/// let x: Vec<f64> = (0..20).map(f64::from).collect();
/// let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
/// let s = lowess(&x, &y, 0.3, 3);
/// assert!(s.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-9)); // a line is kept
/// ```
#[must_use]
pub fn lowess(x: &[f64], y: &[f64], f: f64, iter: usize) -> Vec<f64> {
    let n = x.len();
    if n < 2 {
        return y.to_vec();
    }
    let ns = ((f * n as f64 + 1e-7) as usize).clamp(2, n);
    let range = x[n - 1] - x[0];
    let mut ys = vec![0.0; n];
    let mut rw = vec![1.0; n];
    let mut w = vec![0.0; n];
    for it in 0..=iter {
        let (mut nleft, mut nright) = (0usize, ns - 1);
        for i in 0..n {
            // slide the window of ns nearest neighbours
            while nright < n - 1 && x[i] - x[nleft] > x[nright + 1] - x[i] {
                nleft += 1;
                nright += 1;
            }
            let xs = x[i];
            let h = (xs - x[nleft]).max(x[nright] - xs);
            let (h9, h1) = (0.999 * h, 0.001 * h);
            let mut a = 0.0;
            let mut j = nleft;
            while j < n {
                w[j] = 0.0;
                let r = (x[j] - xs).abs();
                if r <= h9 {
                    w[j] = if r <= h1 { 1.0 } else { (1.0 - (r / h).powi(3)).powi(3) };
                    if it > 0 {
                        w[j] *= rw[j];
                    }
                    a += w[j];
                } else if x[j] > xs {
                    break;
                }
                j += 1;
            }
            let nrt = j - 1;
            if a <= 0.0 {
                ys[i] = y[i];
                continue;
            }
            for v in &mut w[nleft..=nrt] {
                *v /= a;
            }
            if h > 0.0 {
                let a: f64 = (nleft..=nrt).map(|j| w[j] * x[j]).sum();
                let c: f64 = (nleft..=nrt).map(|j| w[j] * (x[j] - a) * (x[j] - a)).sum();
                if c.sqrt() > 0.001 * range {
                    let b = (xs - a) / c;
                    for j in nleft..=nrt {
                        w[j] *= b * (x[j] - a) + 1.0;
                    }
                }
            }
            ys[i] = (nleft..=nrt).map(|j| w[j] * y[j]).sum();
        }
        if it == iter {
            break;
        }
        let res: Vec<f64> = (0..n).map(|i| y[i] - ys[i]).collect();
        let sc = res.iter().map(|r| r.abs()).sum::<f64>() / n as f64;
        let mut abs: Vec<f64> = res.iter().map(|r| r.abs()).collect();
        abs.sort_by(f64::total_cmp);
        let m = n / 2;
        let median = if n.is_multiple_of(2) { 0.5 * (abs[m - 1] + abs[m]) } else { abs[m] };
        let cmad = 6.0 * median;
        if cmad < 1e-7 * sc {
            break;
        }
        let (c9, c1) = (0.999 * cmad, 0.001 * cmad);
        for i in 0..n {
            let r = res[i].abs();
            rw[i] = if r <= c1 {
                1.0
            } else if r <= c9 {
                let u = r / cmad;
                (1.0 - u * u).powi(2)
            } else {
                0.0
            };
        }
    }
    ys
}

/// Strict local maxima within ±`distance` bins, not at either end.
fn peaks(d: &[f64], distance: usize) -> Vec<usize> {
    let l = d.len();
    (1..l.saturating_sub(1))
        .filter(|&j| {
            let lo = j.saturating_sub(distance);
            let hi = (j + distance).min(l - 1);
            (lo..=hi).all(|k| k == j || d[j] > d[k])
        })
        .collect()
}

/// The log-ISI histogram, its peaks and the cut-off. See [`LogIsiParams`].
#[must_use]
pub fn logisi_threshold(times: &[f64], p: &LogIsiParams) -> LogIsiThreshold {
    let mut out = LogIsiThreshold {
        edges_ms: vec![],
        density: vec![],
        peaks: vec![],
        intra_peak: None,
        isi_max_s: None,
        cutoff_s: None,
    };
    if times.len() < p.min_train_spikes.max(2) {
        return out;
    }
    let isi_ms: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) * 1000.0).collect();
    let max = isi_ms.iter().copied().fold(0.0f64, f64::max);
    let decades = max.log10().ceil();
    if !(decades >= 1.0) {
        // every ISI ≤ 1 ms: no histogram, so no ISImax
        out.cutoff_s = Some(p.cutoff_s);
        return out;
    }
    let n_edges = p.bins_per_decade * decades as usize;
    let step = decades / (n_edges - 1) as f64;
    let edges: Vec<f64> = (0..n_edges).map(|i| 10f64.powf(i as f64 * step)).collect();
    let nb = n_edges - 1;
    // R's hist(): right-closed bins, lowest included, edges fuzzed by 1e-7 × median width
    let mut widths: Vec<f64> = edges.windows(2).map(|w| w[1] - w[0]).collect();
    widths.sort_by(f64::total_cmp);
    let diddle = 1e-7 * if nb.is_multiple_of(2) { 0.5 * (widths[nb / 2 - 1] + widths[nb / 2]) } else { widths[nb / 2] };
    let fuzzed: Vec<f64> = edges[1..].iter().map(|e| e + diddle).collect();
    let mut counts = vec![0.0f64; nb];
    let mut total = 0.0;
    for &v in isi_ms.iter().filter(|&&v| v >= 1.0) {
        let k = fuzzed.partition_point(|&e| e < v).min(nb - 1);
        counts[k] += 1.0;
        total += 1.0;
    }
    out.edges_ms = edges;
    if total == 0.0 {
        out.cutoff_s = Some(p.cutoff_s);
        return out;
    }
    let dens: Vec<f64> = counts.iter().map(|c| c / total).collect();
    let xs: Vec<f64> = (1..=nb).map(|i| i as f64).collect();
    let d = lowess(&xs, &dens, p.lowess_frac, 3);
    let pk = peaks(&d, 2);
    let cutoff_ms = p.cutoff_s * 1000.0;
    // intra-burst peak: the largest peak whose bin starts below the cut-off
    let mut intra: Option<usize> = None;
    for (i, &b) in pk.iter().enumerate() {
        if out.edges_ms[b] < cutoff_ms && intra.is_none_or(|m| d[b] > d[pk[m]]) {
            intra = Some(i);
        }
    }
    out.density = d;
    out.peaks = pk;
    let Some(mi) = intra else {
        return out; // not analysed
    };
    let d = &out.density;
    let loc1 = out.peaks[mi];
    out.intra_peak = Some(loc1);
    let y1 = d[loc1];
    for &loc in &out.peaks[mi + 1..] {
        let (mut xmin, mut ymin) = (loc1, d[loc1]);
        for (k, &v) in d.iter().enumerate().take(loc + 1).skip(loc1) {
            if v < ymin {
                (xmin, ymin) = (k, v);
            }
        }
        let void = 1.0 - ymin / (y1 * d[loc]).sqrt();
        if void >= p.void_threshold {
            out.isi_max_s = Some(out.edges_ms[xmin] / 1000.0);
            break;
        }
    }
    out.cutoff_s = Some(match out.isi_max_s {
        Some(m) if m < p.max_isimax_s => m.min(p.cutoff_s),
        _ => p.cutoff_s,
    });
    out
}

/// Runs of ISIs within `thr` (with Cotterill's 1e-10 s tolerance), merged when
/// closer than `min_ibi_s`, then at least `min_spikes` long.
fn find(times: &[f64], thr: f64, min_ibi_s: f64, min_spikes: usize) -> Vec<Span> {
    let mut s = runs(times, 2, |isi| isi - thr <= 1e-10);
    merge_close(times, &mut s, min_ibi_s);
    s.retain(|&(a, b)| b - a + 1 >= min_spikes);
    s
}

/// logISI burst detection. See [`LogIsiParams`].
///
/// Expects a train that passed [`crate::check_train`] and valid parameters.
///
/// ```
/// use burstscope_bursts::{LogIsiParams, logisi};
/// // bursts of 5 spikes 5 ms apart every ~2 s
/// let mut t = Vec::new();
/// for k in 0..40 {
///     let s = 2.0 * f64::from(k) + 0.37 * f64::from(k % 3);
///     t.extend((0..5).map(|i| s + 0.005 * f64::from(i)));
/// }
/// let b = logisi(&t, &LogIsiParams::default());
/// assert_eq!(b.len(), 40);
/// assert!(b.iter().all(|b| b.n_spikes == 5));
/// ```
#[must_use]
pub fn logisi(times: &[f64], p: &LogIsiParams) -> Vec<Burst> {
    let th = logisi_threshold(times, p);
    let Some(_) = th.cutoff_s else { return Vec::new() };
    let spans = match th.isi_max_s {
        Some(m) if m > p.cutoff_s && m < p.max_isimax_s => {
            let cores = find(times, p.cutoff_s, m, p.min_spikes);
            if cores.is_empty() {
                cores
            } else {
                let related = find(times, m, 0.0, p.min_spikes);
                add_related(&cores, &related)
            }
        }
        Some(m) if m <= p.cutoff_s => find(times, m, 0.0, p.min_spikes),
        _ => find(times, p.cutoff_s, 0.0, p.min_spikes),
    };
    spans_to_bursts(times, &spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowess_small_span_is_identity() {
        // with 2-point windows the neighbour gets weight 0 (R gives the same)
        let x: Vec<f64> = (1..=30).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| (v * 0.7).sin()).collect();
        assert_eq!(lowess(&x, &y, 0.05, 3), y);
    }

    #[test]
    fn lowess_smooths_noisy_rising_data() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let y = [2.0, 4.0, 3.0, 8.0, 5.0, 9.0, 12.0, 10.0, 15.0, 11.0];
        let s = lowess(&x, &y, 0.5, 3);
        // smoothed values rise monotonically and stay within the data range
        assert!(s.windows(2).all(|w| w[1] > w[0] - 1e-9), "{s:?}");
        assert!(s.iter().all(|v| (1.5..=15.5).contains(v)));
    }

    #[test]
    fn peaks_are_strict_within_two_bins() {
        let d = [0.0, 1.0, 3.0, 1.0, 2.0, 2.5, 0.0, 0.0];
        assert_eq!(peaks(&d, 2), vec![2, 5]);
        let flat = [1.0, 2.0, 2.0, 1.0];
        assert!(peaks(&flat, 2).is_empty());
    }

    #[test]
    fn too_few_spikes_are_not_analysed() {
        let t: Vec<f64> = (0..9).map(|i| f64::from(i) * 0.01).collect();
        assert!(logisi(&t, &LogIsiParams::default()).is_empty());
        assert_eq!(logisi_threshold(&t, &LogIsiParams::default()).cutoff_s, None);
    }
}
