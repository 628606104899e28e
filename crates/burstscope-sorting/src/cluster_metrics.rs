//! Cluster-quality metrics on feature vectors (PC projections), as
//! SpikeInterface 0.105's `pca_metrics` functions define them: isolation
//! distance and L-ratio (Schmitzer-Torbert et al. 2005), the simplified
//! silhouette, and nearest-neighbour hit and miss rates (Chung et al. 2017).
//!
//! `features` holds one row of `dim` values per spike, `labels` the unit of
//! each spike.

use crate::linalg::invert;

/// Isolation distance and L-ratio of `unit`: the unit's own mean and
/// covariance (n − 1) define a Mahalanobis distance; with n = min(spikes in,
/// spikes out), the isolation distance is the squared distance of the n-th
/// closest other spike and the L-ratio Σ_out (1 − χ²_dim cdf(D²)) / spikes in.
/// NaN when the covariance is singular or n < 2.
///
/// ```
/// let x = [0.0, 0.1, -0.1, 0.2, 0.1, -0.2, 10.0, 10.1, 9.9, 10.2];
/// let labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
/// let (iso, l) = burstscope_sorting::isolation_distance(&x, 1, &labels, 0);
/// assert!(iso > 1000.0 && l < 1e-6);
/// ```
#[must_use]
pub fn isolation_distance(features: &[f64], dim: usize, labels: &[i64], unit: i64) -> (f64, f64) {
    let (mine, others) = split(features, dim, labels, unit);
    let n_self = mine.len();
    let n = n_self.min(others.len());
    if n < 2 || dim == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = centroid(&mine, dim);
    let mut cov = vec![0.0; dim * dim];
    for r in &mine {
        for i in 0..dim {
            for j in 0..dim {
                cov[i * dim + j] += (r[i] - mean[i]) * (r[j] - mean[j]);
            }
        }
    }
    cov.iter_mut().for_each(|v| *v /= (n_self - 1) as f64);
    let Some(vi) = invert(&cov, dim) else { return (f64::NAN, f64::NAN) };
    let mut d2: Vec<f64> = others
        .iter()
        .map(|r| {
            let u: Vec<f64> = (0..dim).map(|i| mean[i] - r[i]).collect();
            (0..dim).map(|i| u[i] * (0..dim).map(|j| vi[i * dim + j] * u[j]).sum::<f64>()).sum::<f64>()
        })
        .collect();
    d2.sort_by(f64::total_cmp);
    let l_ratio = d2.iter().map(|&v| 1.0 - chi2_cdf(v, dim as f64)).sum::<f64>() / n_self as f64;
    (d2[n - 1], l_ratio)
}

/// d′ of `unit` against every other spike (Hill et al. 2011): the spikes
/// are projected on Fisher's linear discriminant, w = S_w⁻¹ (μ_in − μ_out)
/// with S_w the pooled within-class scatter (the direction scikit-learn's LDA
/// finds), and d′ = (mean_in − mean_out) / √((var_in + var_out) / 2) of the
/// projections (population variances). The sign is fixed: positive when the
/// unit separates (scikit-learn's projection sign is its SVD's). NaN without
/// other spikes or with a singular scatter.
#[must_use]
pub fn d_prime(features: &[f64], dim: usize, labels: &[i64], unit: i64) -> f64 {
    let (mine, others) = split(features, dim, labels, unit);
    if mine.is_empty() || others.is_empty() || dim == 0 {
        return f64::NAN;
    }
    let (m_in, m_out) = (centroid(&mine, dim), centroid(&others, dim));
    let mut sw = vec![0.0; dim * dim];
    for (rows, m) in [(&mine, &m_in), (&others, &m_out)] {
        for r in rows.iter() {
            for i in 0..dim {
                for j in 0..dim {
                    sw[i * dim + j] += (r[i] - m[i]) * (r[j] - m[j]);
                }
            }
        }
    }
    let Some(inv) = invert(&sw, dim) else { return f64::NAN };
    let dm: Vec<f64> = (0..dim).map(|i| m_in[i] - m_out[i]).collect();
    let w: Vec<f64> = (0..dim).map(|i| (0..dim).map(|j| inv[i * dim + j] * dm[j]).sum()).collect();
    let proj = |rows: &[&[f64]]| -> (f64, f64) {
        let p: Vec<f64> = rows.iter().map(|r| r.iter().zip(&w).map(|(a, b)| a * b).sum()).collect();
        let mean = p.iter().sum::<f64>() / p.len() as f64;
        let var = p.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / p.len() as f64;
        (mean, var)
    };
    let ((a, va), (b, vb)) = (proj(&mine), proj(&others));
    (a - b) / ((va + vb) / 2.0).sqrt()
}

/// The simplified silhouette of `unit`: the mean over its spikes of
/// (b − a)/max(a, b), a = distance to the unit's centroid, b = distance to the
/// centroid of the other unit whose centroid is nearest on average. NaN with
/// no other unit.
#[must_use]
pub fn simplified_silhouette(features: &[f64], dim: usize, labels: &[i64], unit: i64) -> f64 {
    let (mine, _) = split(features, dim, labels, unit);
    if mine.is_empty() {
        return f64::NAN;
    }
    let c = centroid(&mine, dim);
    let a: Vec<f64> = mine.iter().map(|r| dist(r, &c)).collect();
    let mut ids: Vec<i64> = labels.iter().copied().filter(|&l| l != unit).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut best: Option<(f64, Vec<f64>)> = None;
    for id in ids {
        let (theirs, _) = split(features, dim, labels, id);
        let co = centroid(&theirs, dim);
        let b: Vec<f64> = mine.iter().map(|r| dist(r, &co)).collect();
        let m = b.iter().sum::<f64>() / b.len() as f64;
        if best.as_ref().is_none_or(|(bm, _)| m < *bm) {
            best = Some((m, b));
        }
    }
    let Some((_, b)) = best else { return f64::NAN };
    a.iter().zip(&b).map(|(a, b)| (b - a) / a.max(*b)).sum::<f64>() / a.len() as f64
}

/// Nearest-neighbour hit and miss rates of `unit`: the unit's spikes first,
/// then the others, subsampled every `total / max_spikes` spikes when there
/// are more than `max_spikes`; for each spike its `n_neighbors` nearest other
/// spikes (Euclidean); hit = the fraction of the unit's neighbours in the
/// unit, miss = the fraction of the others' neighbours in the unit. (1, 0)
/// when there is no other unit. Exact (brute force) search.
#[must_use]
pub fn nearest_neighbor_rates(
    features: &[f64],
    dim: usize,
    labels: &[i64],
    unit: i64,
    max_spikes: usize,
    n_neighbors: usize,
) -> (f64, f64) {
    let (mine, others) = split(features, dim, labels, unit);
    if others.is_empty() {
        return (1.0, 0.0);
    }
    let total = mine.len() + others.len();
    let mut x: Vec<&[f64]> = mine.iter().copied().chain(others.iter().copied()).collect();
    let mut n_mine = mine.len();
    let ratio = max_spikes as f64 / total as f64;
    if ratio < 1.0 {
        // numpy.arange(0, total - 1, 1 / ratio).astype(int)
        let step = 1.0 / ratio;
        let count = (((total - 1) as f64) / step).ceil() as usize;
        x = (0..count).map(|k| x[(k as f64 * step) as usize]).collect();
        n_mine = (n_mine as f64 * ratio) as usize;
    }
    let m = x.len();
    let k = n_neighbors.min(m.saturating_sub(1));
    let mut hits = 0usize;
    let mut miss = 0usize;
    let mut d: Vec<(f64, usize)> = Vec::with_capacity(m);
    for i in 0..m {
        d.clear();
        d.extend((0..m).filter(|&j| j != i).map(|j| (sq_dist(x[i], x[j]), j)));
        let nth = k.saturating_sub(1).min(d.len() - 1);
        d.select_nth_unstable_by(nth, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let in_unit = d[..k].iter().filter(|(_, j)| *j < n_mine).count();
        if i < n_mine {
            hits += in_unit;
        } else {
            miss += in_unit;
        }
    }
    let hit_rate = hits as f64 / (n_mine * k) as f64;
    let miss_rate = miss as f64 / ((m - n_mine) * k) as f64;
    (hit_rate, miss_rate)
}

/// The `k` nearest other spikes of each of the `features.len() / dim`
/// spikes (exact Euclidean search; equal distances ordered by index),
/// row-major `n × k` with `k` clipped to `n - 1`. Rows run in parallel;
/// each row's result is independent of the others, so of the thread count.
#[must_use]
pub fn nearest_neighbors(features: &[f64], dim: usize, k: usize) -> (Vec<usize>, usize) {
    use rayon::prelude::*;
    let dim = dim.max(1);
    let n = features.len() / dim;
    let k = k.min(n.saturating_sub(1));
    let mut out = vec![0usize; n * k];
    if k == 0 {
        return (out, 0);
    }
    // Spikes in order of their first feature: the search from each spike
    // walks outwards in that order and stops on each side once the first
    // feature alone is farther than the k-th nearest so far (exact).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| features[a * dim].total_cmp(&features[b * dim]).then(a.cmp(&b)));
    let mut pos = vec![0usize; n];
    for (p, &i) in order.iter().enumerate() {
        pos[i] = p;
    }
    let key: Vec<f64> = order.iter().map(|&i| features[i * dim]).collect();
    out.par_chunks_mut(k * 64).enumerate().for_each(|(c, block)| {
        let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
        for (o, row) in block.chunks_exact_mut(k).enumerate() {
            let i = c * 64 + o;
            let xi = &features[i * dim..(i + 1) * dim];
            best.clear();
            let p = pos[i];
            let consider = |j: usize, best: &mut Vec<(f64, usize)>| {
                let d = sq_dist(xi, &features[j * dim..(j + 1) * dim]);
                let cand = (d, j);
                if best.len() == k && !lex_less(cand, best[k - 1]) {
                    return;
                }
                let at = best.partition_point(|&b| lex_less(b, cand));
                best.insert(at, cand);
                best.truncate(k);
            };
            let (mut lo, mut hi) = (p, p + 1);
            let (mut left, mut right) = (p > 0, p + 1 < n);
            while left || right {
                let bound = if best.len() == k { best[k - 1].0 } else { f64::INFINITY };
                if left {
                    let q = lo - 1;
                    let g = key[p] - key[q];
                    if g * g > bound {
                        left = false;
                    } else {
                        consider(order[q], &mut best);
                        lo = q;
                        left = q > 0;
                    }
                }
                let bound = if best.len() == k { best[k - 1].0 } else { f64::INFINITY };
                if right {
                    let g = key[hi] - key[p];
                    if g * g > bound {
                        right = false;
                    } else {
                        consider(order[hi], &mut best);
                        hi += 1;
                        right = hi < n;
                    }
                }
            }
            for (r, b) in row.iter_mut().zip(&best) {
                *r = b.1;
            }
        }
    });
    (out, k)
}

/// [`nearest_neighbor_rates`] of `unit` from the neighbours of every spike
/// ([`nearest_neighbors`] with `k` per spike): the same rates when the group
/// has no more than `max_spikes` spikes (no subsampling), computed once for
/// all units of the group instead of once per unit.
#[must_use]
pub fn nearest_neighbor_rates_from(neighbors: &[usize], k: usize, labels: &[i64], unit: i64) -> (f64, f64) {
    let n_mine = labels.iter().filter(|&&l| l == unit).count();
    if n_mine == labels.len() {
        return (1.0, 0.0);
    }
    if k == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (mut hits, mut miss) = (0usize, 0usize);
    for (row, &l) in neighbors.chunks_exact(k).zip(labels) {
        let in_unit = row.iter().filter(|&&j| labels[j] == unit).count();
        if l == unit {
            hits += in_unit;
        } else {
            miss += in_unit;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let rates = (hits as f64 / (n_mine * k) as f64, miss as f64 / ((labels.len() - n_mine) * k) as f64);
    rates
}

/// (distance, index) ordered by distance, then index.
fn lex_less(a: (f64, usize), b: (f64, usize)) -> bool {
    a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
}

fn split<'a>(features: &'a [f64], dim: usize, labels: &[i64], unit: i64) -> (Vec<&'a [f64]>, Vec<&'a [f64]>) {
    let rows = features.chunks_exact(dim.max(1));
    let mut mine = Vec::new();
    let mut others = Vec::new();
    for (r, &l) in rows.zip(labels) {
        if l == unit {
            mine.push(r);
        } else {
            others.push(r);
        }
    }
    (mine, others)
}

fn centroid(rows: &[&[f64]], dim: usize) -> Vec<f64> {
    let mut c = vec![0.0; dim];
    for r in rows {
        for i in 0..dim {
            c[i] += r[i];
        }
    }
    c.iter_mut().for_each(|v| *v /= rows.len().max(1) as f64);
    c
}

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    sq_dist(a, b).sqrt()
}

/// χ² cumulative distribution: the regularised lower incomplete gamma P(k/2, x/2).
fn chi2_cdf(x: f64, k: f64) -> f64 {
    if !(x > 0.0) {
        return 0.0;
    }
    gamma_p(0.5 * k, 0.5 * x)
}

fn ln_gamma(z: f64) -> f64 {
    // Lanczos, g = 7, n = 9 (relative error < 1e-15 for z > 0).
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let z = z - 1.0;
    let mut s = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        s += c / (z + i as f64);
    }
    let t = z + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (z + 0.5) * t.ln() - t + s.ln()
}

fn gamma_p(a: f64, x: f64) -> f64 {
    let lg = ln_gamma(a);
    if x < a + 1.0 {
        // series
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        (sum.ln() - x + a * x.ln() - lg).exp()
    } else {
        // continued fraction for Q (modified Lentz)
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-17 {
                break;
            }
        }
        1.0 - (-x + a * x.ln() - lg).exp() * h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chi2_matches_known_values() {
        // scipy.stats.chi2.cdf (scipy 1.17.1)
        assert!((chi2_cdf(3.84145882069412, 1.0) - 0.95).abs() < 1e-12);
        assert!((chi2_cdf(15.5073130558655, 8.0) - 0.95).abs() < 1e-12);
        assert!((chi2_cdf(2.0, 8.0) - 0.01898815687615381).abs() < 1e-12);
        assert!((chi2_cdf(40.0, 8.0) - 0.9999967962802195).abs() < 1e-12);
        assert!((1.0 - chi2_cdf(100.0, 8.0)).abs() < 1e-15);
    }

    #[test]
    fn group_wide_neighbours_give_the_per_unit_rates() {
        // Three overlapping clouds in 4 dimensions.
        let (n, dim) = (300, 4);
        let mut state = 7u64;
        let mut rnd = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let labels: Vec<i64> = (0..n).map(|i| [0, 1, 2, 1][i % 4]).collect();
        let features: Vec<f64> = (0..n * dim).map(|q| f64::from(labels[q / dim] as i32) * 0.6 + rnd()).collect();
        let (nb, k) = nearest_neighbors(&features, dim, 5);
        assert_eq!(k, 5);
        for unit in 0..3 {
            let want = nearest_neighbor_rates(&features, dim, &labels, unit, 10_000, 5);
            assert_eq!(nearest_neighbor_rates_from(&nb, k, &labels, unit), want, "unit {unit}");
            assert!(want.0 > 0.3 && want.0 < 1.0 && want.1 > 0.0, "{want:?}");
        }
        // One unit alone: (1, 0) as the per-unit function.
        let one = vec![3i64; n];
        assert_eq!(nearest_neighbor_rates_from(&nb, k, &one, 3), (1.0, 0.0));
    }
}
