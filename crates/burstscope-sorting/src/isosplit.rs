//! ISO-SPLIT clustering (Magland & Barnett 2015; the isosplit6 variant that
//! MountainSort 5 uses), implemented from its published description: an
//! over-segmentation into parcels, then repeated tests of pairs of mutually
//! nearest clusters along their discriminant direction, merging a pair when
//! the projected points are unimodal (isocut) and otherwise moving the
//! boundary to the density dip. The number of clusters emerges from the
//! merges; there is no random number anywhere.

use crate::linalg::invert;

/// ISO-SPLIT parameters (isosplit6's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsoSplitParams {
    /// Dip score below which a pair is merged (2.0).
    pub isocut_threshold: f64,
    /// Clusters smaller than this merge with their nearest neighbour (10).
    pub min_cluster_size: usize,
    /// Parcels of the initial over-segmentation (200).
    pub k_init: usize,
    /// Iterations per pass (500).
    pub max_iterations_per_pass: usize,
}

impl Default for IsoSplitParams {
    fn default() -> Self {
        Self { isocut_threshold: 2.0, min_cluster_size: 10, k_init: 200, max_iterations_per_pass: 500 }
    }
}

/// Result of the 1-D unimodality test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Isocut {
    /// Kolmogorov–Smirnov distance between the points and their best
    /// unimodal density, scaled by √(n/2)-like counts: below ~2 the points
    /// are consistent with one mode.
    pub dip_score: f64,
    /// Where to cut when they are not: the deepest point of the dip.
    pub cut_point: f64,
}

/// Weighted least-squares increasing fit of `y` (pool-adjacent-violators),
/// returning the fit and, for every prefix `0..=j`, the weighted squared
/// error of the best increasing fit of that prefix.
fn pava(y: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>) {
    // Blocks: (weight, Σ w·y, Σ w·y², points).
    let mut blocks: Vec<(f64, f64, f64, usize)> = Vec::with_capacity(y.len());
    let mut errs = Vec::with_capacity(y.len());
    let mut total = 0.0f64;
    let err = |b: &(f64, f64, f64, usize)| if b.0 > 0.0 { (b.2 - b.1 * b.1 / b.0).max(0.0) } else { 0.0 };
    for (&v, &wt) in y.iter().zip(w) {
        blocks.push((wt, wt * v, wt * v * v, 1));
        while blocks.len() >= 2 {
            let b = blocks[blocks.len() - 1];
            let a = blocks[blocks.len() - 2];
            // a.mean <= b.mean, cross-multiplied (weights are positive).
            if a.1 * b.0 <= b.1 * a.0 {
                break;
            }
            total -= err(&a) + err(&b);
            let m = (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3);
            total += err(&m);
            blocks.pop();
            *blocks.last_mut().expect("two blocks") = m;
        }
        errs.push(total.max(0.0));
    }
    let mut fit = Vec::with_capacity(y.len());
    for b in &blocks {
        let mean = if b.0 > 0.0 { b.1 / b.0 } else { 0.0 };
        fit.extend(std::iter::repeat_n(mean, b.3));
    }
    (fit, errs)
}

/// Best weighted least-squares fit that increases up to one peak and
/// decreases after it.
fn up_down(y: &[f64], w: &[f64]) -> Vec<f64> {
    let n = y.len();
    if n == 0 {
        return Vec::new();
    }
    let (_, inc) = pava(y, w);
    // A decreasing fit read backwards is an increasing one.
    let rev: Vec<f64> = y.iter().rev().copied().collect();
    let wrev: Vec<f64> = w.iter().rev().copied().collect();
    let (_, dec_rev) = pava(&rev, &wrev);
    // The decreasing error of y[j..n) is dec_rev[n - 1 - j].
    let mut best = (f64::INFINITY, n - 1);
    for m in 0..n {
        let right = if m + 1 < n { dec_rev[n - 2 - m] } else { 0.0 };
        let e = inc[m] + right;
        if e < best.0 {
            best = (e, m);
        }
    }
    let m = best.1;
    let (mut fit, _) = pava(&y[..=m], &w[..=m]);
    if m + 1 < n {
        let (f, _) = pava(&rev[..n - 1 - m], &wrev[..n - 1 - m]);
        fit.extend(f.iter().rev());
    }
    fit
}

/// Scaled KS distance between observed and fitted counts.
fn ks(obs: &[f64], fit: &[f64]) -> f64 {
    let s1: f64 = obs.iter().sum();
    let s2: f64 = fit.iter().sum();
    if s1 <= 0.0 || s2 <= 0.0 {
        return 0.0;
    }
    let (mut c1, mut c2, mut best) = (0.0f64, 0.0f64, 0.0f64);
    for (a, b) in obs.iter().zip(fit) {
        c1 += a;
        c2 += b;
        best = best.max((c1 / s1 - c2 / s2).abs());
    }
    best * ((s1 + s2) / 2.0).sqrt()
}

/// The isocut test on 1-D values (sorted in place). The sorted values are
/// cut into ⌈√(n/2)⌉ intervals of equal counts; the density of each
/// interval (count / width) is fitted by an up-down isotonic curve weighted
/// by the widths; the dip score is the largest scaled KS distance between
/// observed and fitted counts over windows shrinking from either end
/// towards the peak, and the cut point is the deepest point of a down-up fit
/// of the residual density within the window that gave it.
///
/// ```
/// use burstscope_sorting::isocut;
/// // Two well-separated groups are not one mode ...
/// let mut x: Vec<f64> = (0..200).map(|i| f64::from(i % 100) * 0.01 + if i < 100 { 0.0 } else { 5.0 }).collect();
/// let r = isocut(&mut x);
/// assert!(r.dip_score > 2.0 && r.cut_point > 1.0 && r.cut_point < 5.0);
/// // ... an evenly spread one is.
/// let mut y: Vec<f64> = (0..200).map(|i| f64::from(i) * 0.01).collect();
/// assert!(isocut(&mut y).dip_score < 2.0);
/// ```
pub fn isocut(x: &mut [f64]) -> Isocut {
    let n = x.len();
    x.sort_by(f64::total_cmp);
    if n < 8 {
        return Isocut { dip_score: 0.0, cut_point: x.get(n / 2).copied().unwrap_or(0.0) };
    }
    let range = x[n - 1] - x[0];
    if !(range > 0.0) {
        return Isocut { dip_score: 0.0, cut_point: x[0] };
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let bins = ((n as f64 / 2.0).sqrt().ceil() as usize).clamp(2, n - 1);
    // Interval edges at equal counts: indices 0 = e_0 < e_1 < ... < e_bins = n - 1.
    let edges: Vec<usize> = (0..=bins).map(|b| b * (n - 1) / bins).collect();
    let floor = range * 1e-9;
    let counts: Vec<f64> = edges.windows(2).map(|e| (e[1] - e[0]) as f64).collect();
    let widths: Vec<f64> = edges.windows(2).map(|e| (x[e[1]] - x[e[0]]).max(floor)).collect();
    let dens: Vec<f64> = counts.iter().zip(&widths).map(|(c, w)| c / w).collect();
    let fit = up_down(&dens, &widths);
    let fitted: Vec<f64> = fit.iter().zip(&widths).map(|(f, w)| f * w).collect();
    let m = dens.len();
    let peak = (0..m).max_by(|&a, &b| fit[a].total_cmp(&fit[b]).then(b.cmp(&a))).unwrap_or(0);
    let mut best = (-1.0f64, 0usize, m);
    // Windows from the left end, halving towards the peak.
    let mut len = peak + 1;
    loop {
        let k = ks(&counts[..len], &fitted[..len]);
        if k > best.0 {
            best = (k, 0, len);
        }
        if len < 4 {
            break;
        }
        len /= 2;
    }
    let mut len = m - peak;
    loop {
        let k = ks(&counts[m - len..], &fitted[m - len..]);
        if k > best.0 {
            best = (k, m - len, m);
        }
        if len < 4 {
            break;
        }
        len /= 2;
    }
    let (dip, lo, hi) = best;
    // Cut: the minimum of a down-up fit of the residual on the critical range.
    let resid: Vec<f64> = dens[lo..hi].iter().zip(&fit[lo..hi]).map(|(a, b)| -(a - b)).collect();
    let du: Vec<f64> = up_down(&resid, &widths[lo..hi]).into_iter().map(|v| -v).collect();
    let idx = lo + (0..du.len()).min_by(|&a, &b| du[a].total_cmp(&du[b]).then(a.cmp(&b))).unwrap_or(0);
    Isocut { dip_score: dip, cut_point: 0.5 * (x[edges[idx]] + x[edges[idx + 1]]) }
}

/// Points of a cluster and its statistics.
struct Cluster {
    members: Vec<usize>,
    centroid: Vec<f64>,
    cov: Vec<f64>,
    active: bool,
}

pub(crate) fn stats(x: &[f64], d: usize, members: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let (mu, mut cov) = crate::linalg::mean_and_scatter(members.len(), d, |i, out| {
        let r = members[i];
        out.copy_from_slice(&x[r * d..(r + 1) * d]);
    });
    #[allow(clippy::cast_precision_loss)]
    let inv = 1.0 / members.len().max(1) as f64;
    cov.iter_mut().for_each(|v| *v *= inv);
    (mu, cov)
}

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Over-segmentation: repeatedly split the widest parcels by assigning their
/// points to the nearest of their first three points.
fn parcelate(x: &[f64], n: usize, d: usize, p: &IsoSplitParams) -> Vec<Vec<usize>> {
    let radius = |m: &[usize]| -> f64 {
        let mu = mean(x, d, m);
        m.iter().map(|&i| sq_dist(&x[i * d..(i + 1) * d], &mu)).fold(0.0, f64::max).sqrt()
    };
    let mut parcels: Vec<(Vec<usize>, f64)> = vec![((0..n).collect(), 0.0)];
    parcels[0].1 = radius(&parcels[0].0);
    while parcels.len() < p.k_init {
        let big = |q: &(Vec<usize>, f64)| q.0.len() > p.min_cluster_size && q.1 > 0.0;
        let Some(rmax) = parcels.iter().filter(|q| big(q)).map(|q| q.1).reduce(f64::max) else { break };
        let target = 0.95 * rmax;
        let mut next = Vec::with_capacity(parcels.len() * 2);
        let mut split_any = false;
        for q in parcels {
            if !(big(&q) && q.1 >= target) || next.len() >= p.k_init * 4 {
                next.push(q);
                continue;
            }
            // Seeds: the first three distinct points.
            let mut seeds: Vec<usize> = Vec::with_capacity(3);
            for &i in &q.0 {
                if seeds.iter().all(|&s| sq_dist(&x[s * d..(s + 1) * d], &x[i * d..(i + 1) * d]) > 0.0) {
                    seeds.push(i);
                    if seeds.len() == 3 {
                        break;
                    }
                }
            }
            if seeds.len() < 2 {
                next.push((q.0, 0.0));
                continue;
            }
            let mut parts: Vec<Vec<usize>> = vec![Vec::new(); seeds.len()];
            for &i in &q.0 {
                let xi = &x[i * d..(i + 1) * d];
                let mut best = (f64::INFINITY, 0);
                for (k, &s) in seeds.iter().enumerate() {
                    let dd = sq_dist(xi, &x[s * d..(s + 1) * d]);
                    if dd < best.0 {
                        best = (dd, k);
                    }
                }
                parts[best.1].push(i);
            }
            let nonempty = parts.iter().filter(|v| !v.is_empty()).count();
            if nonempty < 2 {
                next.push((q.0, 0.0));
                continue;
            }
            split_any = true;
            for part in parts.into_iter().filter(|v| !v.is_empty()) {
                let r = radius(&part);
                next.push((part, r));
            }
        }
        parcels = next;
        if !split_any {
            break;
        }
    }
    parcels.into_iter().map(|q| q.0).collect()
}

fn mean(x: &[f64], d: usize, members: &[usize]) -> Vec<f64> {
    let n = members.len().max(1) as f64;
    let mut mu = vec![0.0; d];
    for &i in members {
        for (m, v) in mu.iter_mut().zip(&x[i * d..(i + 1) * d]) {
            *m += v;
        }
    }
    mu.iter_mut().for_each(|m| *m /= n);
    mu
}

/// Clusters `n` points of dimension `d` (row-major `x`). Returns a label per
/// point, 0..K, numbered by each cluster's first point, so the result
/// depends only on the data and its order.
///
/// ```
/// use burstscope_sorting::{IsoSplitParams, isosplit};
/// // Two blobs on a line, 150 points each, deterministic jitter.
/// let x: Vec<f64> = (0..300).flat_map(|i| {
///     let c = if i < 150 { 0.0 } else { 10.0 };
///     let j = f64::from((i * 37) % 101) / 101.0 - 0.5;
///     let k = f64::from((i * 53) % 97) / 97.0 - 0.5;
///     [c + j, k]
/// }).collect();
/// let labels = isosplit(&x, 300, 2, &IsoSplitParams::default());
/// assert!(labels[..150].iter().all(|&l| l == 0) && labels[150..].iter().all(|&l| l == 1));
/// ```
#[must_use]
pub fn isosplit(x: &[f64], n: usize, d: usize, p: &IsoSplitParams) -> Vec<usize> {
    assert_eq!(x.len(), n * d, "isosplit: x must hold n × d values");
    if n == 0 {
        return Vec::new();
    }
    let parcels = parcelate(x, n, d, p);
    let mut clusters: Vec<Cluster> = parcels
        .into_iter()
        .map(|m| {
            let (centroid, cov) = stats(x, d, &m);
            Cluster { members: m, centroid, cov, active: true }
        })
        .collect();
    let k = clusters.len();
    let mut compared = vec![false; k * k];
    let mut label = vec![0usize; n];
    for (c, cl) in clusters.iter().enumerate() {
        for &i in &cl.members {
            label[i] = c;
        }
    }
    let mut final_pass = false;
    loop {
        let mut merged_any = false;
        let mut changed_in_pass = vec![false; k];
        for _ in 0..p.max_iterations_per_pass {
            let active: Vec<usize> = (0..k).filter(|&c| clusters[c].active).collect();
            if active.len() < 2 {
                break;
            }
            // Mutually nearest, not yet compared, pairs.
            let mut nearest = vec![usize::MAX; k];
            for &a in &active {
                let mut best = (f64::INFINITY, usize::MAX);
                for &b in &active {
                    if a == b || compared[a * k + b] {
                        continue;
                    }
                    let dd = sq_dist(&clusters[a].centroid, &clusters[b].centroid);
                    if dd < best.0 {
                        best = (dd, b);
                    }
                }
                nearest[a] = best.1;
            }
            let pairs: Vec<(usize, usize)> = active
                .iter()
                .filter_map(|&a| {
                    let b = nearest[a];
                    (b != usize::MAX && a < b && nearest[b] == a).then_some((a, b))
                })
                .collect();
            if pairs.is_empty() {
                break;
            }
            for (a, b) in pairs {
                compared[a * k + b] = true;
                compared[b * k + a] = true;
                match compare(x, d, &clusters[a], &clusters[b], p) {
                    Outcome::Merge => {
                        let mb = std::mem::take(&mut clusters[b].members);
                        for &i in &mb {
                            label[i] = a;
                        }
                        clusters[a].members.extend(mb);
                        clusters[a].members.sort_unstable();
                        clusters[b].active = false;
                        let (c, v) = stats(x, d, &clusters[a].members);
                        clusters[a].centroid = c;
                        clusters[a].cov = v;
                        changed_in_pass[a] = true;
                        merged_any = true;
                    }
                    Outcome::Redistribute(ma, mb) => {
                        if ma != clusters[a].members {
                            for &i in &ma {
                                label[i] = a;
                            }
                            for &i in &mb {
                                label[i] = b;
                            }
                            clusters[a].members = ma;
                            clusters[b].members = mb;
                            for c in [a, b] {
                                let (m, v) = stats(x, d, &clusters[c].members);
                                clusters[c].centroid = m;
                                clusters[c].cov = v;
                                changed_in_pass[c] = true;
                            }
                        }
                    }
                    Outcome::Keep => {}
                }
            }
        }
        if final_pass {
            break;
        }
        if merged_any {
            for c in 0..k {
                if changed_in_pass[c] {
                    for o in 0..k {
                        compared[c * k + o] = false;
                        compared[o * k + c] = false;
                    }
                }
            }
        } else {
            compared.iter_mut().for_each(|v| *v = false);
            final_pass = true;
        }
    }
    // Renumber by first point.
    let mut map = vec![usize::MAX; k];
    let mut next = 0;
    for l in &mut label {
        if map[*l] == usize::MAX {
            map[*l] = next;
            next += 1;
        }
        *l = map[*l];
    }
    label
}

enum Outcome {
    Merge,
    Redistribute(Vec<usize>, Vec<usize>),
    Keep,
}

/// Projection of two clusters on their discriminant direction
/// V = ((C₁ + C₂)/2)⁻¹ (μ₂ − μ₁), regularised.
pub(crate) fn discriminant(c1: &[f64], c2: &[f64], mu1: &[f64], mu2: &[f64], d: usize) -> Vec<f64> {
    let mut avg: Vec<f64> = c1.iter().zip(c2).map(|(a, b)| 0.5 * (a + b)).collect();
    let tr: f64 = (0..d).map(|i| avg[i * d + i]).sum::<f64>() / d as f64;
    let eps = tr.abs().max(1e-12) * 1e-6;
    for i in 0..d {
        avg[i * d + i] += eps;
    }
    let diff: Vec<f64> = mu2.iter().zip(mu1).map(|(a, b)| a - b).collect();
    let v: Vec<f64> = match invert(&avg, d) {
        Some(inv) => (0..d).map(|i| (0..d).map(|j| inv[i * d + j] * diff[j]).sum()).collect(),
        None => diff,
    };
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm > 0.0 { v.iter().map(|a| a / norm).collect() } else { v }
}

fn compare(x: &[f64], d: usize, a: &Cluster, b: &Cluster, p: &IsoSplitParams) -> Outcome {
    if a.members.len() < p.min_cluster_size || b.members.len() < p.min_cluster_size {
        return Outcome::Merge;
    }
    let v = discriminant(&a.cov, &b.cov, &a.centroid, &b.centroid, d);
    let proj = |i: usize| -> f64 { x[i * d..(i + 1) * d].iter().zip(&v).map(|(p, q)| p * q).sum() };
    let pa: Vec<f64> = a.members.iter().map(|&i| proj(i)).collect();
    let pb: Vec<f64> = b.members.iter().map(|&i| proj(i)).collect();
    let mut all: Vec<f64> = pa.iter().chain(&pb).copied().collect();
    let r = isocut(&mut all);
    if r.dip_score < p.isocut_threshold {
        return Outcome::Merge;
    }
    let mut ma = Vec::new();
    let mut mb = Vec::new();
    for (&i, &q) in a.members.iter().zip(&pa).chain(b.members.iter().zip(&pb)) {
        if q < r.cut_point { ma.push(i) } else { mb.push(i) }
    }
    if ma.is_empty() || mb.is_empty() {
        // Not one mode, but the cut does not divide them: leave both.
        return Outcome::Keep;
    }
    ma.sort_unstable();
    mb.sort_unstable();
    if ma == a.members { Outcome::Keep } else { Outcome::Redistribute(ma, mb) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((*seed >> 11) as f64) / ((1u64 << 53) as f64)
    }

    fn gauss(seed: &mut u64) -> f64 {
        let u = lcg(seed).max(1e-300);
        let v = lcg(seed);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    #[test]
    fn pava_prefix_errors_match_brute_force() {
        let y = [3.0, 1.0, 2.0, 5.0, 4.0, 4.0, 0.0];
        let (fit, errs) = pava(&y, &[1.0; 7]);
        assert!(fit.windows(2).all(|w| w[0] <= w[1]));
        // Prefix 0..=1: [3, 1] → both 2, error 2.
        assert!((errs[1] - 2.0).abs() < 1e-12);
        let sse: f64 = fit.iter().zip(&y).map(|(a, b)| (a - b) * (a - b)).sum();
        assert!((errs[6] - sse).abs() < 1e-9);
    }

    #[test]
    fn unimodal_gaussian_is_not_cut_and_bimodal_is() {
        let mut s = 7;
        let mut one: Vec<f64> = (0..2000).map(|_| gauss(&mut s)).collect();
        assert!(isocut(&mut one).dip_score < 2.0);
        let mut two: Vec<f64> = (0..2000).map(|i| gauss(&mut s) + if i % 2 == 0 { 0.0 } else { 4.0 }).collect();
        let r = isocut(&mut two);
        assert!(r.dip_score > 2.0, "{r:?}");
        assert!(r.cut_point > 1.0 && r.cut_point < 3.0, "{r:?}");
        // A skewed but unimodal distribution (an amplitude tail) stays whole.
        let mut skew: Vec<f64> = (0..2000).map(|_| -lcg(&mut s).ln()).collect();
        assert!(isocut(&mut skew).dip_score < 2.0);
    }

    #[test]
    fn finds_the_number_of_gaussian_clusters() {
        let mut s = 3;
        let centres = [[0.0, 0.0, 0.0], [6.0, 0.0, 0.0], [0.0, 6.0, 0.0], [3.0, 3.0, 6.0]];
        let mut x = Vec::new();
        let mut truth = Vec::new();
        for i in 0..2000 {
            let c = i % 4;
            truth.push(c);
            for k in 0..3 {
                x.push(centres[c][k] + gauss(&mut s));
            }
        }
        let l = isosplit(&x, 2000, 3, &IsoSplitParams::default());
        let k = l.iter().max().unwrap() + 1;
        assert_eq!(k, 4);
        // Every true cluster maps to one label (≥ 97 % of its points).
        for c in 0..4 {
            let mut counts = [0usize; 8];
            for (t, &lab) in truth.iter().zip(&l) {
                if *t == c {
                    counts[lab] += 1;
                }
            }
            assert!(*counts.iter().max().unwrap() >= 485, "{counts:?}");
        }
    }

    #[test]
    fn one_elongated_cluster_stays_one() {
        let mut s = 11;
        let x: Vec<f64> = (0..3000).flat_map(|_| [gauss(&mut s) * 5.0, gauss(&mut s)]).collect();
        let l = isosplit(&x, 3000, 2, &IsoSplitParams::default());
        assert_eq!(l.iter().max().unwrap() + 1, 1);
    }

    #[test]
    fn degenerate_input_does_not_abort() {
        let x = vec![1.0; 300];
        let l = isosplit(&x, 100, 3, &IsoSplitParams::default());
        assert!(l.iter().all(|&v| v == 0));
        assert!(isosplit(&[], 0, 3, &IsoSplitParams::default()).is_empty());
        assert_eq!(isosplit(&[1.0, 2.0], 1, 2, &IsoSplitParams::default()), vec![0]);
    }
}
