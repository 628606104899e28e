//! Statistics for burstscope, equal to `scipy.stats` (1.17) defaults.
//!
//! - Paired (same unit or cell, before vs after): [`ttest_rel`] and
//!   [`wilcoxon`] (`zero_method="wilcox"`, `correction=False`,
//!   `method="auto"`: exact distribution for n ≤ 50 without ties or zeros,
//!   exact sign-flip permutation for n ≤ 13 with ties or zeros, normal
//!   approximation otherwise).
//! - Unpaired (LHb vs CA1): [`ttest_welch`] (`ttest_ind(equal_var=False)`)
//!   and [`mannwhitneyu`] (`use_continuity=True`, `method="auto"`: exact when
//!   a sample has ≤ 8 values and there are no ties).
//! - [`summary`] (mean, SD, SEM, median, quartiles as numpy's linear
//!   interpolation), effect sizes, and [`holm`] adjustment.
//! - Animals as the experimental unit: [`lmm::mixed_lm_reml`], a linear
//!   mixed model with a random intercept per subject (and per session within
//!   subject) fitted by REML, equal to statsmodels' `MixedLM`; and
//!   [`animals`]: pre vs post and between groups as a mixed model plus the
//!   tests on per-animal means, with n units, sessions and animals.
//!
//! All tests are two-sided. Golden values from scipy are in
//! `tests/golden/stats_golden.json` (made by `tests/golden/make_stats_golden.py`).
//!
//! ```
//! use burstscope_stats::{ttest_rel, wilcoxon};
//! let pre = [4.1, 5.0, 3.2, 6.3, 5.5, 4.8];
//! let post = [2.0, 2.9, 2.8, 3.1, 4.0, 1.2];
//! let t = ttest_rel(&pre, &post);
//! assert!(t.p_value < 0.01 && t.statistic > 0.0);
//! let w = wilcoxon(&pre, &post);
//! assert_eq!(w.statistic, 0.0); // every difference positive
//! assert!((w.p_value - 2.0 / 64.0).abs() < 1e-15); // exact: 2 × 2⁻⁶
//! ```

pub mod animals;
pub mod lmm;

use serde::{Deserialize, Serialize};
use statrs::function::beta::beta_reg;
use statrs::function::erf::erfc;

/// Descriptive statistics of one sample (NaN values are the caller's to drop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Standard deviation (n − 1).
    pub sd: f64,
    /// Standard error of the mean, sd/√n.
    pub sem: f64,
    /// Median.
    pub median: f64,
    /// First quartile (linear interpolation, numpy's default).
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
}

impl Summary {
    /// q3 − q1.
    #[must_use]
    pub fn iqr(&self) -> f64 {
        self.q3 - self.q1
    }
}

/// Linear-interpolation quantile of sorted data (numpy default, R type 7).
#[must_use]
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() { f64::NAN } else { x.iter().sum::<f64>() / x.len() as f64 }
}

fn var1(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64
}

/// Summary of a sample.
///
/// ```
/// let s = burstscope_stats::summary(&[1.0, 2.0, 3.0, 4.0]);
/// assert_eq!((s.mean, s.median, s.q1, s.q3), (2.5, 2.5, 1.75, 3.25));
/// ```
#[must_use]
pub fn summary(x: &[f64]) -> Summary {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let sd = var1(x).sqrt();
    Summary {
        n: x.len(),
        mean: mean(x),
        sd,
        sem: sd / (x.len() as f64).sqrt(),
        median: quantile_sorted(&s, 0.5),
        q1: quantile_sorted(&s, 0.25),
        q3: quantile_sorted(&s, 0.75),
    }
}

/// The result of a two-sided test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// Which test.
    pub test: TestKind,
    /// Pairs (paired tests) or total values (unpaired).
    pub n: usize,
    /// The statistic scipy reports (t; min(W+, W−); t; U of the first sample).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Degrees of freedom for t tests.
    pub df: Option<f64>,
    /// How the p-value was computed (`t`, `exact`, `permutation`, `normal`).
    pub method: String,
    /// Effect size (see `effect_size_kind`).
    pub effect_size: f64,
    /// `cohen_dz` (paired t), `rank_biserial` (rank tests), `hedges_g` (Welch).
    pub effect_size_kind: String,
}

/// The tests this crate computes, named as scipy.stats names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestKind {
    /// Paired t (`scipy.stats.ttest_rel`).
    #[serde(rename = "ttest_rel")]
    TtestRel,
    /// Wilcoxon signed-rank (`scipy.stats.wilcoxon`).
    Wilcoxon,
    /// Welch's unequal-variance t (`scipy.stats.ttest_ind(equal_var=False)`).
    #[serde(rename = "ttest_welch")]
    TtestWelch,
    /// Mann–Whitney U (`scipy.stats.mannwhitneyu`).
    #[serde(rename = "mannwhitneyu")]
    MannWhitneyU,
}

impl TestKind {
    /// The scipy-style name written to tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TtestRel => "ttest_rel",
            Self::Wilcoxon => "wilcoxon",
            Self::TtestWelch => "ttest_welch",
            Self::MannWhitneyU => "mannwhitneyu",
        }
    }
}

impl std::fmt::Display for TestKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Two-sided p of Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, ½).
#[must_use]
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || !(df > 0.0) {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    beta_reg(df / 2.0, 0.5, df / (df + t * t)).min(1.0)
}

/// Standard normal lower tail Φ(z).
#[must_use]
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Pairs with both values finite.
#[must_use]
pub fn finite_pairs(a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    a.iter().zip(b).filter(|(x, y)| x.is_finite() && y.is_finite()).map(|(x, y)| (*x, *y)).unzip()
}

/// Paired t-test of a − b, as `scipy.stats.ttest_rel(a, b)`.
///
/// # Panics
/// If the slices differ in length.
#[must_use]
pub fn ttest_rel(a: &[f64], b: &[f64]) -> TestResult {
    assert_eq!(a.len(), b.len(), "paired samples differ in length");
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len();
    let m = mean(&d);
    let sd = var1(&d).sqrt();
    let t = m / (sd / (n as f64).sqrt());
    let df = n as f64 - 1.0;
    TestResult {
        test: TestKind::TtestRel,
        n,
        statistic: t,
        p_value: t_two_sided_p(t, df),
        df: Some(df),
        method: "t".into(),
        effect_size: m / sd,
        effect_size_kind: "cohen_dz".into(),
    }
}

/// Welch's unequal-variance t-test, as `scipy.stats.ttest_ind(a, b, equal_var=False)`.
#[must_use]
pub fn ttest_welch(a: &[f64], b: &[f64]) -> TestResult {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (var1(a), var1(b));
    let (sa, sb) = (va / na, vb / nb);
    let t = (mean(a) - mean(b)) / (sa + sb).sqrt();
    let df = (sa + sb).powi(2) / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    let pooled = (((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0)).sqrt();
    let j = 1.0 - 3.0 / (4.0 * (na + nb) - 9.0);
    TestResult {
        test: TestKind::TtestWelch,
        n: a.len() + b.len(),
        statistic: t,
        p_value: t_two_sided_p(t, df),
        df: Some(df),
        method: "t".into(),
        effect_size: j * (mean(a) - mean(b)) / pooled,
        effect_size_kind: "hedges_g".into(),
    }
}

/// Average ranks (1-based) and the sizes of tie groups.
#[must_use]
pub fn rank_average(x: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let idx = argsort_total(x);
    let mut r = vec![0.0; x.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let v = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = v;
        }
        ties.push(j - i + 1);
        i = j + 1;
    }
    (r, ties)
}

/// Indices of `x` in `f64::total_cmp` order (ties in any order): sorts
/// (key, index) pairs held together, the key the IEEE bits mapped to an
/// integer that orders as `total_cmp` does — several times faster than
/// sorting indices through comparisons that look the values up.
///
/// ```
/// use burstscope_stats::argsort_total;
/// assert_eq!(argsort_total(&[0.5, -1.0, 2.0, f64::INFINITY, -0.0, 0.0]), vec![1, 4, 5, 0, 2, 3]);
/// ```
#[must_use]
pub fn argsort_total(x: &[f64]) -> Vec<usize> {
    let key = |v: f64| {
        let b = v.to_bits();
        if b >> 63 == 1 { !b } else { b | 1 << 63 }
    };
    let mut pairs: Vec<(u64, usize)> = x.iter().enumerate().map(|(i, &v)| (key(v), i)).collect();
    pairs.sort_unstable();
    pairs.into_iter().map(|(_, i)| i).collect()
}

fn tie_term(ties: &[usize]) -> f64 {
    ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum()
}

/// Number of subsets of {1..n} with each rank sum (index = sum).
fn signed_rank_counts(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    let mut c = vec![0.0f64; max + 1];
    c[0] = 1.0;
    for k in 1..=n {
        for s in (k..=max).rev() {
            c[s] += c[s - k];
        }
    }
    c
}

/// Wilcoxon signed-rank test of a − b, as `scipy.stats.wilcoxon(a, b)` with
/// its defaults (see the crate docs for the method choice).
///
/// # Panics
/// If the slices differ in length.
#[must_use]
pub fn wilcoxon(a: &[f64], b: &[f64]) -> TestResult {
    assert_eq!(a.len(), b.len(), "paired samples differ in length");
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n_all = d.len();
    let nz: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
    let n_zero = n_all - nz.len();
    let count = nz.len();
    let abs: Vec<f64> = nz.iter().map(|v| v.abs()).collect();
    let (r, ties) = rank_average(&abs);
    let r_plus: f64 = nz.iter().zip(&r).filter(|(v, _)| **v > 0.0).map(|(_, r)| r).sum();
    let r_minus: f64 = nz.iter().zip(&r).filter(|(v, _)| **v < 0.0).map(|(_, r)| r).sum();
    let has_ties = ties.iter().any(|&t| t > 1);
    let total = r_plus + r_minus;
    let mut out = TestResult {
        test: TestKind::Wilcoxon,
        n: n_all,
        statistic: r_plus.min(r_minus) + 0.0, // sums of nothing are −0.0
        p_value: f64::NAN,
        df: None,
        method: String::new(),
        effect_size: if total > 0.0 { (r_plus - r_minus) / total } else { f64::NAN },
        effect_size_kind: "rank_biserial".into(),
    };
    if n_all == 0 || count == 0 {
        out.method = "none".into();
        return out;
    }
    let method = if n_all > 50 {
        "normal"
    } else if !(has_ties || n_zero > 0) {
        "exact"
    } else if n_all <= 13 {
        "permutation"
    } else {
        "normal"
    };
    out.method = method.into();
    out.p_value = match method {
        "exact" => {
            let c = signed_rank_counts(count);
            let denom = 2f64.powi(count as i32);
            let k = r_plus.round() as usize;
            let cdf: f64 = c[..=k].iter().sum::<f64>() / denom;
            let sf: f64 = c[k..].iter().sum::<f64>() / denom;
            (2.0 * cdf.min(sf)).clamp(0.0, 1.0)
        }
        "permutation" => {
            // every sign flip of the differences (zeros stay out of the ranks)
            let gamma = (f64::EPSILON * 100.0 * r_plus).abs();
            let (mut less, mut greater) = (0u64, 0u64);
            let signs: Vec<(f64, bool)> = {
                let mut k = 0;
                d.iter()
                    .map(|v| {
                        if *v == 0.0 {
                            (0.0, false)
                        } else {
                            k += 1;
                            (r[k - 1], *v > 0.0)
                        }
                    })
                    .collect()
            };
            for mask in 0u64..(1u64 << n_all) {
                let mut s = 0.0;
                for (i, &(rank, pos)) in signs.iter().enumerate() {
                    let flipped = mask >> i & 1 == 1;
                    if rank > 0.0 && pos != flipped {
                        s += rank;
                    }
                }
                less += u64::from(s <= r_plus + gamma);
                greater += u64::from(s >= r_plus - gamma);
            }
            let total = (1u64 << n_all) as f64;
            (2.0 * (less as f64 / total).min(greater as f64 / total)).clamp(0.0, 1.0)
        }
        _ => {
            let cf = count as f64;
            let mn = cf * (cf + 1.0) * 0.25;
            let se = ((cf * (cf + 1.0) * (2.0 * cf + 1.0) - tie_term(&ties) / 2.0) / 24.0).sqrt();
            let z = (r_plus - mn) / se;
            (2.0 * normal_cdf(-z.abs())).min(1.0)
        }
    };
    out
}

/// P(U ≥ u) under the null for samples of sizes m and n (no ties).
fn mwu_sf(m: usize, n: usize, u: f64) -> f64 {
    let (small, large) = if m <= n { (m, n) } else { (n, m) };
    // f(s, l): counts of U for s items of one sample among l of the other;
    // f(s, l) = f(s − 1, l) shifted by l + f(s, l − 1)
    let mut cur: Vec<Vec<f64>> = vec![vec![1.0]; small + 1];
    for l in 1..=large {
        let prev = cur.clone();
        for s in 1..=small {
            let mut next = vec![0.0; s * l + 1];
            for (i, v) in cur[s - 1].iter().enumerate() {
                next[i + l] += v;
            }
            for (i, v) in prev[s].iter().enumerate() {
                next[i] += v;
            }
            cur[s] = next;
        }
    }
    let dist = &cur[small];
    let total: f64 = dist.iter().sum();
    let k = u.ceil().max(0.0) as usize;
    dist.iter().skip(k).sum::<f64>() / total
}

/// Mann–Whitney U test, as `scipy.stats.mannwhitneyu(a, b)` with its defaults.
/// The statistic is U of `a`.
#[must_use]
pub fn mannwhitneyu(a: &[f64], b: &[f64]) -> TestResult {
    let (n1, n2) = (a.len(), b.len());
    let mut xy = a.to_vec();
    xy.extend_from_slice(b);
    let (r, ties) = rank_average(&xy);
    let r1: f64 = r[..n1].iter().sum();
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u1 = r1 - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let u = u1.max(u2);
    let has_ties = ties.iter().any(|&t| t > 1);
    let exact = (n1 <= 8 || n2 <= 8) && !has_ties;
    let p = if n1 == 0 || n2 == 0 {
        f64::NAN
    } else if exact {
        (2.0 * mwu_sf(n1, n2, u)).clamp(0.0, 1.0)
    } else {
        let n = f1 + f2;
        let s = (f1 * f2 / 12.0 * ((n + 1.0) - tie_term(&ties) / (n * (n - 1.0)))).sqrt();
        let z = (u - f1 * f2 / 2.0 - 0.5) / s;
        (2.0 * normal_cdf(-z)).clamp(0.0, 1.0)
    };
    TestResult {
        test: TestKind::MannWhitneyU,
        n: n1 + n2,
        statistic: u1,
        p_value: p,
        df: None,
        method: if exact { "exact" } else { "normal" }.into(),
        effect_size: 2.0 * u1 / (f1 * f2) - 1.0,
        effect_size_kind: "rank_biserial".into(),
    }
}

/// A p-value as papers print it: three decimals, or two significant digits
/// in scientific notation below 0.001; `< 1e-300` for a p-value that
/// underflowed to 0; `n/a` for NaN.
///
/// ```
/// assert_eq!(burstscope_stats::format_p(0.01234), "0.012");
/// assert_eq!(burstscope_stats::format_p(0.0), "< 1e-300");
/// assert_eq!(burstscope_stats::format_p(1.2e-5), "1.2e-5");
/// ```
#[must_use]
pub fn format_p(p: f64) -> String {
    if p.is_nan() {
        "n/a".into()
    } else if p == 0.0 {
        // below the smallest double: the statistic is far in the tail
        "< 1e-300".into()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Holm step-down adjusted p-values (NaN entries stay NaN and do not count).
///
/// ```
/// let p = burstscope_stats::holm(&[0.01, 0.04, 0.03, f64::NAN]);
/// assert_eq!(&p[..3], &[0.03, 0.06, 0.06]);
/// assert!(p[3].is_nan());
/// ```
#[must_use]
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    idx.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let m = idx.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (k, &i) in idx.iter().enumerate() {
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_rank_distribution_sums_to_one() {
        let c = signed_rank_counts(10);
        assert_eq!(c.iter().sum::<f64>(), 1024.0);
        assert_eq!(c[0], 1.0);
        assert_eq!(c[55], 1.0);
    }

    #[test]
    fn mwu_exact_small() {
        // sizes 2 and 2: U ∈ {0,1,2,2,3,4} → P(U ≥ 4) = 1/6
        assert!((mwu_sf(2, 2, 4.0) - 1.0 / 6.0).abs() < 1e-15);
        assert!((mwu_sf(2, 2, 0.0) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn degenerate_inputs_give_nan_not_panic() {
        assert!(wilcoxon(&[1.0, 2.0], &[1.0, 2.0]).p_value.is_nan());
        assert!(ttest_rel(&[1.0], &[2.0]).p_value.is_nan());
        assert!(mannwhitneyu(&[], &[1.0]).p_value.is_nan());
        assert!(holm(&[]).is_empty());
    }
}
