//! CMA: thresholds from the cumulative moving average of the ISI histogram
//! (Kapucu et al. 2012, as implemented by Cotterill et al. 2016).

use crate::{Burst, CmaParams, CmaSkew, add_related, merge_close, runs, spans_to_bursts};

/// Sample skewness with e1071's default (type 3): g1 · ((n − 1)/n)^{3/2}.
pub(crate) fn skewness_type3(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let (mut s2, mut s3) = (0.0, 0.0);
    for v in x {
        let d = v - mean;
        s2 += d * d;
        s3 += d * d * d;
    }
    let g1 = n.sqrt() * s3 / s2.powf(1.5);
    g1 * (1.0 - 1.0 / n).powf(1.5)
}

/// (α1, α2) for a skewness value (Cotterill's table; the manuscript's 0.9 for
/// 4 ≤ s < 9 is a typo — every code version uses 0.3).
pub(crate) fn alphas(skew: f64) -> (f64, f64) {
    if skew < 1.0 {
        (1.0, 0.5)
    } else if skew < 4.0 {
        (0.7, 0.5)
    } else if skew < 9.0 {
        (0.5, 0.3)
    } else {
        (0.3, 0.1)
    }
}

/// The two CMA thresholds (xt, xt2) in seconds, or `None` when the ISIs give no
/// usable histogram (fewer than 3 spikes, all ISIs equal).
#[must_use]
pub fn cma_thresholds(times: &[f64], skew_source: CmaSkew) -> Option<(f64, f64)> {
    if times.len() < 3 {
        return None;
    }
    let isi: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let min = isi.iter().copied().fold(f64::INFINITY, f64::min);
    let max = isi.iter().copied().fold(0.0f64, f64::max);
    let range = max - min;
    if !(range > 0.0) {
        return None;
    }
    let width = if range < 0.001 { range / 10.0 } else { range / 1000.0 };
    let nb = ((max + width) / width + 1e-10).floor() as usize;
    let edge = |k: usize| k as f64 * width;
    let diddle = 1e-7 * width;
    let mut counts = vec![0.0f64; nb];
    for &v in &isi {
        // right-closed bins (edge_k + fuzz, edge_{k+1} + fuzz], as R's hist()
        let mut k = ((v - diddle) / width).ceil() as isize - 1;
        k = k.clamp(0, nb as isize - 1);
        let mut k = k as usize;
        while k > 0 && v <= edge(k) + diddle {
            k -= 1;
        }
        while k + 1 < nb && v > edge(k + 1) + diddle {
            k += 1;
        }
        counts[k] += 1.0;
    }
    let mut cma = Vec::with_capacity(nb);
    let mut cum = 0.0;
    for (k, c) in counts.iter().enumerate() {
        cum += c;
        cma.push(cum / (k + 1) as f64);
    }
    let cmam = cma.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let m = cma.iter().position(|&v| v == cmam)?;
    let skew = match skew_source {
        CmaSkew::CmaCurve => skewness_type3(&cma),
        CmaSkew::Isi => skewness_type3(&isi),
    };
    if !skew.is_finite() {
        return None;
    }
    let (a1, a2) = alphas(skew);
    let closest = |alpha: f64| -> usize {
        let target = alpha * cmam;
        let mut best = m;
        for k in m..nb {
            if (cma[k] - target).abs() < (cma[best] - target).abs() {
                best = k;
            }
        }
        best
    };
    let mid = |k: usize| 0.5 * (edge(k) + edge(k + 1));
    Some((mid(closest(a1)), mid(closest(a2))))
}

/// CMA burst detection. See [`CmaParams`].
///
/// Expects a train that passed [`crate::check_train`] and valid parameters.
///
/// ```
/// use burstscope_bursts::{CmaParams, cma};
/// let mut t = Vec::new();
/// for k in 0..30 {
///     let s = 3.0 * f64::from(k) + 0.5 * f64::from(k % 4);
///     t.extend((0..6).map(|i| s + 0.01 * f64::from(i)));
/// }
/// let b = cma(&t, &CmaParams::default());
/// assert_eq!(b.len(), 30);
/// assert!(b.iter().all(|b| b.n_spikes == 6));
/// ```
#[must_use]
pub fn cma(times: &[f64], p: &CmaParams) -> Vec<Burst> {
    let Some((xt, xt2)) = cma_thresholds(times, p.skew) else { return Vec::new() };
    let cores = runs(times, p.min_spikes, |isi| isi <= xt);
    if cores.is_empty() {
        return Vec::new();
    }
    let mut spans = if p.include_related {
        let related = runs(times, p.min_spikes, |isi| isi <= xt2);
        add_related(&cores, &related)
    } else {
        cores
    };
    merge_close(times, &mut spans, xt2);
    let bursts = spans_to_bursts(times, &spans);
    let nb = bursts.len() as f64;
    let mean_dur = bursts.iter().map(Burst::duration_s).sum::<f64>() / nb;
    let mean_len = bursts.iter().map(|b| b.n_spikes as f64).sum::<f64>() / nb;
    if p.screen_max_mean_duration_s.is_some_and(|m| mean_dur > m)
        || p.screen_max_mean_spikes.is_some_and(|m| mean_len > m)
    {
        return Vec::new();
    }
    bursts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skewness_matches_e1071() {
        // e1071 type 3 = scipy.stats.skew (biased g1) × ((n−1)/n)^1.5
        let s = skewness_type3(&[1.0, 2.0, 3.0, 10.0]);
        let g1 = 1.018_233_764_908_628_4_f64; // scipy.stats.skew([1, 2, 3, 10])
        assert!((s - g1 * 0.75f64.powf(1.5)).abs() < 1e-12, "{s}");
    }

    #[test]
    fn alpha_table_boundaries() {
        assert_eq!(alphas(0.99), (1.0, 0.5));
        assert_eq!(alphas(1.0), (0.7, 0.5));
        assert_eq!(alphas(4.0), (0.5, 0.3));
        assert_eq!(alphas(9.0), (0.3, 0.1));
    }

    #[test]
    fn degenerate_trains() {
        let p = CmaParams::default();
        assert!(cma(&[], &p).is_empty());
        assert!(cma(&[0.0, 1.0], &p).is_empty());
        let regular: Vec<f64> = (0..50).map(f64::from).collect();
        assert!(cma(&regular, &p).is_empty());
    }

    #[test]
    fn screening_declares_long_bursts_non_bursting() {
        let mut t = Vec::new();
        for k in 0..20 {
            let s = 3.0 * f64::from(k) + 0.5 * f64::from(k % 4);
            t.extend((0..6).map(|i| s + 0.01 * f64::from(i)));
        }
        let p = CmaParams { screen_max_mean_spikes: Some(5.0), ..CmaParams::default() };
        assert!(cma(&t, &p).is_empty());
    }
}
