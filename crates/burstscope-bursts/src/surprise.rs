//! Surprise methods: Poisson surprise and rank surprise.

use crate::{Burst, PoissonParams, RankParams};
use burstscope_stats::{quantile_sorted, rank_average};
use statrs::function::gamma::ln_gamma;

/// ln P(X ≥ k) for X ~ Poisson(λ), accurate far into the tail (no underflow).
///
/// ```
/// use burstscope_bursts::ln_poisson_upper_tail;
/// // P(X ≥ 1) = 1 − e^{−λ}
/// assert!((ln_poisson_upper_tail(1, 0.5) - (1.0 - (-0.5f64).exp()).ln()).abs() < 1e-14);
/// assert_eq!(ln_poisson_upper_tail(0, 3.0), 0.0);
/// // deep tail: finite although P < 1e-308
/// assert!(ln_poisson_upper_tail(400, 1.0) < -1800.0);
/// ```
#[must_use]
pub fn ln_poisson_upper_tail(k: usize, lambda: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if !(lambda > 0.0) {
        return f64::NEG_INFINITY;
    }
    let kf = k as f64;
    if lambda < kf + 1.0 {
        // Σ_{j≥k} e^{−λ} λ^j / j!, as term_k × (1 + λ/(k+1) + λ²/((k+1)(k+2)) + …)
        let ln_first = -lambda + kf * lambda.ln() - ln_gamma(kf + 1.0);
        let (mut sum, mut term) = (1.0f64, 1.0f64);
        let mut i = 1.0;
        loop {
            term *= lambda / (kf + i);
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
            i += 1.0;
        }
        ln_first + sum.ln()
    } else {
        // 1 − P(X ≤ k − 1); the lower tail is below ~½ here.
        let ln_last = -lambda + (kf - 1.0) * lambda.ln() - ln_gamma(kf);
        let (mut sum, mut term) = (1.0f64, 1.0f64);
        for j in (1..k).rev() {
            term *= j as f64 / lambda;
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
        }
        (-(ln_last.exp() * sum)).ln_1p()
    }
}

/// Poisson surprise. See [`PoissonParams`].
///
/// Expects a train that passed [`crate::check_train`] and valid parameters.
///
/// ```
/// use burstscope_bursts::{PoissonParams, poisson_surprise};
/// // a regular 1 Hz train with one dense burst of 6 spikes at 10 s
/// let mut t: Vec<f64> = (0..30).map(f64::from).collect();
/// t.extend([10.01, 10.02, 10.03, 10.04, 10.05]);
/// t.sort_by(f64::total_cmp);
/// let b = poisson_surprise(&t, &PoissonParams::default());
/// assert_eq!(b.len(), 1);
/// assert_eq!((b[0].first, b[0].n_spikes), (10, 6));
/// assert!(b[0].surprise.unwrap() > 4.6);
/// ```
#[must_use]
pub fn poisson_surprise(times: &[f64], p: &PoissonParams) -> Vec<Burst> {
    let n = times.len();
    let mut out = Vec::new();
    if n < 3 {
        return out;
    }
    let mean_isi = (times[n - 1] - times[0]) / (n - 1) as f64;
    let seed = p.seed_isi_factor * mean_isi;
    let stop = p.stop_isi_factor * mean_isi;
    // surprise of `len` spikes starting at `first`
    let s_of = |first: usize, len: usize| -> f64 {
        let dur = times[first + len - 1] - times[first];
        -ln_poisson_upper_tail(len - 1, dur / mean_isi)
    };
    let mut a = 0;
    while a + 2 < n {
        if !(times[a + 1] - times[a] < seed && times[a + 2] - times[a + 1] < seed) {
            a += 1;
            continue;
        }
        let mut first = a;
        let mut len = 3;
        let mut s = s_of(first, len);
        // Phase 1: append spikes while the surprise rises, looking ahead.
        loop {
            let mut check = p.look_ahead.min(n - (first + len));
            let mut l = len;
            let mut improved = None;
            while check > 0 {
                check -= 1;
                l += 1;
                let s_new = s_of(first, l);
                if s_new > s {
                    improved = Some((l, s_new));
                    break;
                }
                // the ISI that the newly added spike brings
                if times[first + l - 1] - times[first + l - 2] > stop {
                    break;
                }
            }
            match improved {
                Some((l, s_new)) => {
                    len = l;
                    s = s_new;
                }
                None => break,
            }
        }
        // Phase 2: drop front spikes while the surprise rises.
        while len > 3 {
            let s_new = s_of(first + 1, len - 1);
            if s_new > s {
                first += 1;
                len -= 1;
                s = s_new;
            } else {
                break;
            }
        }
        if s > p.min_surprise && len >= p.min_spikes {
            out.push(Burst::from_indices(times, first, first + len - 1, Some(s)));
            a = first + len;
        } else {
            a += 1;
        }
    }
    out
}

/// −ln P(T_q ≤ u) where T_q is the sum of q independent uniform ranks 1..n.
fn rank_surprise_value(u: f64, q: usize, n: usize, normal_from: usize) -> f64 {
    let (qf, nf) = (q as f64, n as f64);
    let p = if q < normal_from {
        let kmax = ((u - qf) / nf).floor() as usize;
        let mut p = 0.0;
        for k in 0..=kmax {
            let kf = k as f64;
            let mut ln = -ln_gamma(kf + 1.0) - ln_gamma(qf - kf + 1.0) - qf * nf.ln();
            for j in 0..q {
                ln += (u - kf * nf - j as f64).ln();
            }
            let term = ln.exp();
            p += if k % 2 == 0 { term } else { -term };
        }
        p
    } else {
        let z = (u - qf * (nf + 1.0) / 2.0) / (qf * (nf * nf - 1.0) / 12.0).sqrt();
        0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
    };
    -p.ln()
}

/// Rank surprise. See [`RankParams`].
///
/// Expects a train that passed [`crate::check_train`] and valid parameters.
///
/// ```
/// use burstscope_bursts::{RankParams, rank_surprise};
/// // irregular background with two tight bursts of 6 spikes
/// let mut t: Vec<f64> = (0..40).map(|i| f64::from(i) + 0.3 * f64::from(i).sin()).collect();
/// for s in [10.5, 25.5] {
///     t.extend((0..6).map(|i| s + 0.01 * f64::from(i)));
/// }
/// t.sort_by(f64::total_cmp);
/// let b = rank_surprise(&t, &RankParams::default());
/// assert_eq!(b.len(), 2);
/// assert!(b.iter().all(|b| b.n_spikes >= 6 && b.surprise.unwrap() > 4.6));
/// ```
#[must_use]
pub fn rank_surprise(times: &[f64], p: &RankParams) -> Vec<Burst> {
    let n_isi = times.len().saturating_sub(1);
    if n_isi < 2 {
        return Vec::new();
    }
    let isi: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let mut sorted = isi.clone();
    sorted.sort_by(f64::total_cmp);
    let limit = quantile_sorted(&sorted, p.limit_quantile);
    let (ranks, _) = rank_average(&isi);
    let mut prefix = vec![0.0; n_isi + 1];
    for i in 0..n_isi {
        prefix[i + 1] = prefix[i] + ranks[i];
    }
    let min_isis = p.min_spikes - 1;
    let mut found: Vec<(usize, usize, f64)> = Vec::new(); // (first ISI, q ISIs, RS)
    let mut i = 0;
    while i < n_isi {
        if isi[i] >= limit {
            i += 1;
            continue;
        }
        let b = i;
        while i < n_isi && isi[i] < limit {
            i += 1;
        }
        let len = i - b;
        if len < min_isis {
            continue;
        }
        // every sub-sequence of at least `min_isis` ISIs in the run
        let mut cand: Vec<(f64, usize, usize)> = Vec::new();
        for start in 0..=(len - min_isis) {
            for q in min_isis..=(len - start) {
                let u = (prefix[b + start + q] - prefix[b + start]).floor();
                cand.push((rank_surprise_value(u, q, n_isi, p.normal_from), start, q));
            }
        }
        // most surprising first; equal values keep enumeration order; NaN last
        cand.sort_by(|x, y| match (x.0.is_nan(), y.0.is_nan()) {
            (false, false) => y.0.total_cmp(&x.0),
            (a, b) => a.cmp(&b),
        });
        let mut used = vec![false; len];
        for (rs, start, q) in cand {
            if rs.is_nan() {
                break;
            }
            if used[start..start + q].iter().any(|&u| u) {
                continue;
            }
            used[start..start + q].iter_mut().for_each(|u| *u = true);
            if rs >= p.min_surprise {
                found.push((b + start, q, rs));
            }
        }
    }
    found.sort_by_key(|f| f.0);
    found.into_iter().map(|(s, q, rs)| Burst::from_indices(times, s, s + q, Some(rs))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ln P(X ≥ k) by direct summation, for moderate values.
    fn direct(k: usize, lambda: f64) -> f64 {
        let mut lower = 0.0;
        let mut term = (-lambda).exp();
        for j in 0..k {
            lower += term;
            term *= lambda / (j + 1) as f64;
        }
        (1.0 - lower).ln()
    }

    #[test]
    fn poisson_tail_matches_direct_sum() {
        for &(k, l) in &[(1, 0.1), (2, 0.7), (5, 3.0), (5, 8.0), (10, 2.0), (20, 19.5), (3, 40.0)] {
            let a = ln_poisson_upper_tail(k, l);
            let b = direct(k, l);
            assert!((a - b).abs() < 1e-10 * b.abs().max(1.0), "k={k} λ={l}: {a} vs {b}");
        }
        // scipy: -poisson.logsf(9, 1.0) = 16.009909825202023
        let s = -ln_poisson_upper_tail(10, 1.0);
        assert!((s - 16.009_909_825_202_023).abs() < 1e-9, "{s}");
    }

    #[test]
    fn poisson_edges() {
        let p = PoissonParams::default();
        assert!(poisson_surprise(&[], &p).is_empty());
        assert!(poisson_surprise(&[1.0, 2.0], &p).is_empty());
        // a perfectly regular train has no seed (ISIs never below half the mean)
        let t: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.1).collect();
        assert!(poisson_surprise(&t, &p).is_empty());
    }

    #[test]
    fn rank_sum_probability_is_a_distribution() {
        // P(T_q ≤ u) at the top of the range is 1 → RS = 0
        assert!(rank_surprise_value(20.0, 2, 10, 30).abs() < 1e-12);
        // smallest sum: both ranks 1 → P = 1/n²
        let rs = rank_surprise_value(2.0, 2, 10, 30);
        assert!((rs - 100f64.ln()).abs() < 1e-12, "{rs}");
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(rank_average(&[3.0, 1.0, 3.0, 2.0]).0, vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.75), 3.25);
    }
}
