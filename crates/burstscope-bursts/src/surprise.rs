//! Surprise methods: Poisson surprise and rank surprise.

use crate::{Burst, PoissonParams, RankParams};
#[cfg(test)]
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

/// What [`rank_surprise_value`] needs of a train, computed once: ln k! for
/// the burst lengths of the exact formula and ln n.
struct RankTables {
    ln_fact: Vec<f64>,
    ln_n: f64,
}

impl RankTables {
    fn new(n: usize, normal_from: usize) -> Self {
        Self { ln_fact: (0..=normal_from.max(1)).map(|k| ln_gamma(k as f64 + 1.0)).collect(), ln_n: (n as f64).ln() }
    }
}

/// −ln P(T_q ≤ u) where T_q is the sum of q independent uniform ranks 1..n:
/// the exact alternating sum below `normal_from` ISIs — each term's falling
/// factorial (u − kn)(u − kn − 1)…(u − kn − q + 1) taken as one product and
/// one logarithm (its factors are all ≥ 1 and the product stays below
/// 10³⁰⁰ for q < 30), the factorials from a table — else the normal
/// approximation.
fn rank_surprise_value(u: f64, q: usize, n: usize, normal_from: usize, t: &RankTables) -> f64 {
    let (qf, nf) = (q as f64, n as f64);
    let p = if q < normal_from {
        let kmax = ((u - qf) / nf).floor() as usize;
        let mut p = 0.0;
        for k in 0..=kmax.min(q) {
            let x = u - k as f64 * nf;
            let mut prod = 1.0;
            for j in 0..q {
                prod *= x - j as f64;
            }
            let term = (prod.ln() - t.ln_fact[k] - t.ln_fact[q - k] - qf * t.ln_n).exp();
            p += if k % 2 == 0 { term } else { -term };
        }
        p
    } else {
        let z = (u - qf * (nf + 1.0) / 2.0) / (qf * (nf * nf - 1.0) / 12.0).sqrt();
        0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
    };
    -p.ln()
}

/// The average rank (1-based, ties averaged, as `scipy.stats.rankdata`) of
/// every ISI (≥ 0, finite: times are sorted) in `ranks[1..]` (`ranks[0]` is
/// 0, ready to become prefix sums), and the ISIs' `quantile` (linear
/// interpolation, as `numpy.quantile`), from one sort.
///
/// For non-negative doubles the IEEE bits order as the values do, so each
/// ISI is sorted as one `u64`: its bits without the sign, shortened by as
/// many low bits as the index needs, then the index. Values that differ only
/// in the dropped bits (relative differences below 2⁻³² for up to 2²⁰ ISIs)
/// land side by side with equal leading parts, and are put in exact order by
/// their whole bits there; equal bits are the ties.
fn isi_ranks(times: &[f64], quantile: f64) -> (Vec<f64>, f64) {
    debug_assert!(times.len() >= 2 && times.len() - 2 <= u32::MAX as usize);
    let n = times.len() - 1;
    let isi = |k: usize| times[k + 1] - times[k];
    let b = (usize::BITS - (n - 1).leading_zeros()).max(1);
    let mask = (1u64 << b) - 1;
    let mut keys: Vec<u64> =
        times.windows(2).enumerate().map(|(i, w)| (((w[1] - w[0]).to_bits() << 1) >> b << b) | i as u64).collect();
    keys.sort_unstable();
    let h = (n - 1) as f64 * quantile;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let (mut at_lo, mut at_hi) = (0.0, 0.0);
    let mut ranks = vec![0.0; n + 1];
    let mut group: Vec<(u64, u32)> = Vec::new();
    let mut i = 0;
    while i < n {
        let lead = keys[i] >> b;
        let mut j = i + 1;
        while j < n && keys[j] >> b == lead {
            j += 1;
        }
        if j == i + 1 {
            let k = (keys[i] & mask) as usize;
            ranks[k + 1] = (i + 1) as f64;
            if i == lo {
                at_lo = isi(k);
            }
            if i == hi {
                at_hi = isi(k);
            }
        } else {
            // positions i..j: exact order by (bits, index), then ties
            group.clear();
            group.extend(keys[i..j].iter().map(|&key| {
                let k = (key & mask) as u32;
                (isi(k as usize).to_bits(), k)
            }));
            if !group.is_sorted() {
                group.sort_unstable();
            }
            let mut a = 0;
            while a < group.len() {
                let mut e = a + 1;
                while e < group.len() && group[e].0 == group[a].0 {
                    e += 1;
                }
                let r = (2 * i + a + e - 1) as f64 / 2.0 + 1.0;
                for &(_, k) in &group[a..e] {
                    ranks[k as usize + 1] = r;
                }
                a = e;
            }
            if (i..j).contains(&lo) {
                at_lo = f64::from_bits(group[lo - i].0);
            }
            if (i..j).contains(&hi) {
                at_hi = f64::from_bits(group[hi - i].0);
            }
        }
        i = j;
    }
    (ranks, at_lo + (h - lo as f64) * (at_hi - at_lo))
}

/// Per burst length q, the largest rank sum whose surprise can reach
/// `min_surprise` (with a margin for rounding), found once by bisection:
/// RS(u, q) decreases as u grows.
struct SumLimits {
    min_surprise: f64,
    by_q: Vec<f64>,
}

impl SumLimits {
    /// The limits for burst lengths `0..=q_max` (indexed by length).
    fn upto(&mut self, q_max: usize, n: usize, value: &impl Fn(f64, usize, usize) -> f64) -> &[f64] {
        for q in self.by_q.len()..=q_max {
            let ok = |u: f64| value(u, q, n) >= self.min_surprise;
            let (lo_u, hi_u) = (q as f64, (q * n) as f64);
            let v = if !ok(lo_u) {
                lo_u - 1.0
            } else if ok(hi_u) {
                hi_u
            } else {
                // ok(lo) and !ok(hi): bisect on integers
                let (mut lo, mut hi) = (lo_u, hi_u);
                while hi - lo > 1.0 {
                    let mid = ((lo + hi) / 2.0).floor();
                    if ok(mid) { lo = mid } else { hi = mid }
                }
                lo
            };
            // RS is computed, not exact: a margin so that a rounding wobble at
            // the limit never drops a candidate
            self.by_q.push(v + 2.0 + v.abs() * 1e-3);
        }
        &self.by_q[..=q_max]
    }
}

/// The first implementation of [`rank_surprise_value`] (a logarithm per
/// factor, ln Γ per term), kept as the reference the faster one is tested
/// against.
#[cfg(test)]
fn rank_surprise_value_reference(u: f64, q: usize, n: usize, normal_from: usize) -> f64 {
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
    let tables = RankTables::new(times.len().saturating_sub(1), p.normal_from);
    rank_surprise_by(times, p, |u, q, n| rank_surprise_value(u, q, n, p.normal_from, &tables))
}

/// [`rank_surprise`] with the surprise of a rank sum `u` over `q` of `n` ISIs
/// given by `value`.
fn rank_surprise_by(times: &[f64], p: &RankParams, value: impl Fn(f64, usize, usize) -> f64) -> Vec<Burst> {
    let n_isi = times.len().saturating_sub(1);
    if n_isi < 2 {
        return Vec::new();
    }
    // one sort gives both the ISI quantile and the ranks, written straight
    // where their prefix sums are accumulated (the running sum kept in a
    // register, not reloaded from the previous element)
    let (mut prefix, limit) = isi_ranks(times, p.limit_quantile);
    let mut acc = 0.0;
    for x in &mut prefix {
        acc += *x;
        *x = acc;
    }
    let isi = |k: usize| times[k + 1] - times[k];
    let min_isis = p.min_spikes - 1;
    let mut found: Vec<(usize, usize, f64)> = Vec::new(); // (first ISI, q ISIs, RS)
    let mut limits = SumLimits { min_surprise: p.min_surprise, by_q: Vec::new() };
    let mut cand: Vec<(f64, usize, usize)> = Vec::new();
    let mut used: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < n_isi {
        if isi(i) >= limit {
            i += 1;
            continue;
        }
        let b = i;
        while i < n_isi && isi(i) < limit {
            i += 1;
        }
        let len = i - b;
        if len < min_isis {
            continue;
        }
        // Every sub-sequence of at least `min_isis` ISIs in the run is a
        // candidate; the most surprising are taken first, each unless it
        // overlaps one taken before. Candidates below `min_surprise` come
        // after all those above it and are never reported, so only those
        // above are needed: a rank sum above the largest significant one
        // for its length (RS falls as the sum grows) is skipped unevaluated.
        cand.clear();
        let lims = limits.upto(len, n_isi, &value);
        for start in 0..=(len - min_isis) {
            let (base, sums) = (prefix[b + start], &prefix[b + start..=b + len]);
            for q in min_isis..=(len - start) {
                // rank sums are positive and below 2^53: truncation is floor
                // (through i64, one instruction each way on x86-64)
                let u = ((sums[q] - base) as i64) as f64;
                if u > lims[q] {
                    continue;
                }
                let rs = value(u, q, n_isi);
                if rs >= p.min_surprise {
                    cand.push((rs, start, q));
                }
            }
        }
        // most surprising first; equal values keep enumeration order
        cand.sort_by(|x, y| y.0.total_cmp(&x.0));
        used.clear();
        used.resize(len, false);
        for &(rs, start, q) in &cand {
            if used[start..start + q].iter().any(|&u| u) {
                continue;
            }
            used[start..start + q].iter_mut().for_each(|u| *u = true);
            found.push((b + start, q, rs));
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
        let t = RankTables::new(10, 30);
        assert!(rank_surprise_value(20.0, 2, 10, 30, &t).abs() < 1e-12);
        // smallest sum: both ranks 1 → P = 1/n²
        let rs = rank_surprise_value(2.0, 2, 10, 30, &t);
        assert!((rs - 100f64.ln()).abs() < 1e-12, "{rs}");
    }

    /// The one-product form of the exact rank-sum probability: against the
    /// exact distribution (a dynamic programme over the sum of q uniform
    /// ranks) within 1e-9 relative wherever RS ≥ 1, as the first
    /// implementation (a logarithm per factor) is; on large trains, where the
    /// sum has one term for the rank sums of bursts, the two agree to 1e-12;
    /// and both give the same bursts on bursty trains.
    #[test]
    fn rank_surprise_equals_the_reference_implementation() {
        let (mut worst, mut worst_first) = (0.0f64, 0.0f64);
        for &n in &[10usize, 97] {
            let t = RankTables::new(n, 30);
            // cdf[s] = P(sum of q ranks ≤ s), q = 1, 2, …
            let mut pmf = vec![0.0f64; n + 1];
            pmf[1..].iter_mut().for_each(|x| *x = 1.0 / n as f64);
            for q in 2..30usize {
                let mut next = vec![0.0f64; q * n + 1];
                for (s0, &pr) in pmf.iter().enumerate().filter(|(_, p)| **p > 0.0) {
                    for v in 1..=n {
                        next[s0 + v] += pr / n as f64;
                    }
                }
                pmf = next;
                let mut cdf = 0.0;
                for (u, &pr) in pmf.iter().enumerate() {
                    cdf += pr;
                    // where P is near 1 the alternating sum cancels and both
                    // forms carry rounding noise (RS ~1e-8 instead of ~0):
                    // compare where the decisions are made, RS ≥ 1
                    if u < q || u % 3 != 0 || cdf > (-1.0f64).exp() {
                        continue;
                    }
                    let exact = -cdf.min(1.0).ln();
                    let a = rank_surprise_value(u as f64, q, n, 30, &t);
                    let b = rank_surprise_value_reference(u as f64, q, n, 30);
                    let (ea, eb) = ((a - exact).abs(), (b - exact).abs());
                    assert!(
                        ea <= 1e-9 * exact,
                        "n={n} q={q} u={u}: ours {a} (error {ea:e}), first {b} ({eb:e}), exact {exact}"
                    );
                    worst = worst.max(ea);
                    worst_first = worst_first.max(eb);
                }
            }
        }
        eprintln!("largest error against the exact distribution: {worst:e} (first implementation {worst_first:e})");
        for &n in &[1000usize, 100_000, 1_000_000] {
            let t = RankTables::new(n, 30);
            for q in 2..30usize {
                // rank sums of q ISIs up to q + n − 1: one term (kmax = 0)
                let mut u = q as f64;
                while u < (q + n) as f64 {
                    let a = rank_surprise_value(u, q, n, 30, &t);
                    let b = rank_surprise_value_reference(u, q, n, 30);
                    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "n={n} q={q} u={u}: {a} vs {b}");
                    u = (u * 1.37 + 1.0).floor();
                }
            }
        }
        let mut s: u64 = 0x1234_5678;
        let mut rnd = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for trial in 0..6 {
            let mut t = Vec::new();
            let mut now = 0.0;
            while t.len() < 20_000 {
                now += 0.05 + 0.3 * -(1.0 - rnd()).ln();
                if rnd() < 0.3 + 0.05 * f64::from(trial) {
                    let k = 2 + (rnd() * 10.0) as usize;
                    t.extend((0..k).map(|i| now + 0.004 * i as f64 + 0.002 * rnd()));
                    now += 0.05;
                } else {
                    t.push(now);
                }
            }
            let params = [
                RankParams::default(),
                RankParams { min_spikes: 2, limit_quantile: 0.5, ..RankParams::default() },
                RankParams { min_surprise: 0.0, limit_quantile: 1.0, ..RankParams::default() },
                RankParams { min_spikes: 5, min_surprise: 10.0, normal_from: 8, ..RankParams::default() },
            ];
            for (k, p) in params.iter().enumerate() {
                // limit_quantile 1 makes the whole train one run: n² candidates
                let n = if k == 2 {
                    400
                } else if trial < 2 {
                    20_000
                } else {
                    3_000
                };
                let fast = rank_surprise(&t[..n], p);
                let slow = rank_surprise_reference(&t[..n], p);
                assert_eq!(fast.len(), slow.len(), "trial {trial} {p:?}");
                for (a, b) in fast.iter().zip(&slow) {
                    assert_eq!((a.first, a.n_spikes), (b.first, b.n_spikes), "trial {trial}");
                    let (x, y) = (a.surprise.unwrap(), b.surprise.unwrap());
                    assert!((x - y).abs() <= 1e-10 * y.abs().max(1.0), "{x} vs {y}");
                }
            }
        }
    }

    /// `isi_ranks` gives exactly `rank_average`'s ranks and `quantile_sorted`'s
    /// quantile: on trains of whole samples at 30 kHz (equal intervals in
    /// samples differ in their last bits, so they share the sorted key's
    /// leading part without being ties), on exactly repeated
    /// intervals and zero intervals (ties), and on random times, up to
    /// 300 000 ISIs (19 of the key's bits hold the index).
    #[test]
    fn isi_ranks_equal_rank_average_and_quantile() {
        let mut s: u64 = 0x9e37_79b9;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut trains: Vec<Vec<f64>> = Vec::new();
        for &n in &[2usize, 3, 17, 5_000, 300_000] {
            let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            let (mut k, mut x, mut y) = (0.0f64, 0.0f64, 0.0f64);
            for _ in 0..n {
                k += (1.0 + 8.0 * rnd() * rnd()).floor();
                a.push(k / 30_000.0);
                x += [0.0, 0.5, 0.25, 1.0][(rnd() * 4.0) as usize];
                b.push(x);
                y += 1e-3 * -(1.0 - rnd()).ln();
                c.push(y);
            }
            trains.extend([a, b, c]);
        }
        let mut mixed_groups = 0;
        for t in &trains {
            let isi: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
            let mut sorted = isi.clone();
            sorted.sort_by(f64::total_cmp);
            mixed_groups += sorted.windows(2).filter(|w| w[0] != w[1] && (w[1] - w[0]) < 1e-11 * w[1]).count();
            for q in [0.0, 0.3, 0.75, 1.0] {
                let (ranks, limit) = isi_ranks(t, q);
                assert_eq!(ranks[0], 0.0);
                assert_eq!(&ranks[1..], &rank_average(&isi).0[..], "{} ISIs", isi.len());
                assert_eq!(limit.to_bits(), quantile_sorted(&sorted, q).to_bits(), "{} ISIs, q {q}", isi.len());
            }
        }
        assert!(mixed_groups > 100, "the trains must have values equal but for their last bits: {mixed_groups}");
    }

    /// The first implementation of rank surprise: every candidate
    /// evaluated with the first value function, sorted, taken greedily.
    fn rank_surprise_reference(times: &[f64], p: &RankParams) -> Vec<Burst> {
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
        let mut found: Vec<(usize, usize, f64)> = Vec::new();
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
            let mut cand: Vec<(f64, usize, usize)> = Vec::new();
            for start in 0..=(len - min_isis) {
                for q in min_isis..=(len - start) {
                    let u = (prefix[b + start + q] - prefix[b + start]).floor();
                    cand.push((rank_surprise_value_reference(u, q, n_isi, p.normal_from), start, q));
                }
            }
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

    #[test]
    fn ranks_average_ties() {
        assert_eq!(rank_average(&[3.0, 1.0, 3.0, 2.0]).0, vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.75), 3.25);
    }
}
