//! Use-dependent block: how the normalised amplitude falls with every
//! stimulus in the drug (docs/epsc.md, "Per cell").
//!
//! An open-channel blocker such as ketamine or MK-801 can only enter receptors
//! that open, so after a wash-in without stimulation each stimulus traps a
//! fixed fraction `r` of the receptors still unblocked, and the amplitude
//! approaches a plateau geometrically:
//!
//! y(n) = plateau + span · e^{−n/τ},   r = 1 − e^{−1/τ},
//!
//! with `n` the stimulus number in the drug (1, 2, …) and `y` the amplitude as
//! a fraction of the baseline mean. The fit is a variable projection: for each
//! τ the plateau and span follow by linear least squares, and τ minimises the
//! residual over a fixed logarithmic grid refined by golden-section search, so
//! the result never depends on a starting guess.

use serde::{Deserialize, Serialize};

/// Widest 95 % interval of τ (upper / lower bound) for τ, the rate and the
/// plateau to count as determined: τ known to within a factor of about 1.7
/// either way.
pub const MAX_CI_RATIO: f64 = 3.0;

/// Result of [`fit_use_dependence`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UseDependence {
    /// Fraction of the baseline amplitude left at the plateau.
    pub plateau: f64,
    /// Fraction that the block removes with stimulation (y(0) − plateau).
    pub span: f64,
    /// Decay constant in stimuli.
    pub tau_stimuli: f64,
    /// Fraction of the still-unblocked receptors blocked per stimulus, 1 − e^{−1/τ}.
    pub block_per_stimulus: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Points fitted.
    pub n: usize,
    /// Fitted fall from the first to the second stimulus, as a fraction of
    /// baseline (span · q · (1 − q), q = e^{−1/τ}): the initial rate of
    /// block, determined even where the decline is still straight.
    pub initial_decline: f64,
    /// 95 % profile-likelihood interval of τ (stimuli): the τ whose best
    /// residual stays below SSE_min · (1 + t²_{0.975, n−3} / (n − 3)).
    pub tau_ci_stimuli: (f64, f64),
    /// Whether τ and the plateau are determined by the data: the interval of
    /// τ inside the searched range (0.2 stimuli to 20 × the stimuli recorded)
    /// and at most [`MAX_CI_RATIO`] wide, and the plateau between 0 and
    /// 1.5 × baseline. A decline that is still
    /// straight at the last stimulus does not determine its plateau or rate.
    pub determined: bool,
}

impl UseDependence {
    /// The fitted normalised amplitude at stimulus `n`.
    ///
    /// ```
    /// let n: Vec<f64> = (1..=20).map(f64::from).collect();
    /// let y: Vec<f64> = n.iter().map(|k| 0.2 + 0.8 * 0.9f64.powf(*k)).collect();
    /// let f = burstscope_epsc::fit_use_dependence(&n, &y).unwrap();
    /// assert!((f.at(5.0) - y[4]).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn at(&self, n: f64) -> f64 {
        self.plateau + self.span * (-n / self.tau_stimuli).exp()
    }
}

/// Linear least squares of y on (1, e^{−n/τ}): (plateau, span, sse).
fn project(n: &[f64], y: &[f64], tau: f64) -> (f64, f64, f64) {
    let m = n.len() as f64;
    let e: Vec<f64> = n.iter().map(|k| (-k / tau).exp()).collect();
    let (se, sy) = (e.iter().sum::<f64>(), y.iter().sum::<f64>());
    let see: f64 = e.iter().map(|v| v * v).sum();
    let sey: f64 = e.iter().zip(y).map(|(a, b)| a * b).sum();
    let det = m * see - se * se;
    if det.abs() < 1e-300 * m.max(1.0) {
        let c = sy / m;
        return (c, 0.0, y.iter().map(|v| (v - c).powi(2)).sum());
    }
    let span = (m * sey - se * sy) / det;
    let plateau = (sy - span * se) / m;
    let sse = e.iter().zip(y).map(|(ei, yi)| (yi - plateau - span * ei).powi(2)).sum();
    (plateau, span, sse)
}

/// Fits y(n) = plateau + span · e^{−n/τ} to (stimulus number, normalised
/// amplitude) pairs; non-finite points are skipped. `None` with fewer than 4
/// points or no spread in the stimulus numbers.
///
/// ```
/// use burstscope_epsc::fit_use_dependence;
/// // 6 % of the unblocked receptors trapped per stimulus, 85 % at most
/// let n: Vec<f64> = (1..=40).map(f64::from).collect();
/// let y: Vec<f64> = n.iter().map(|k| 0.15 + 0.85 * 0.94f64.powf(*k)).collect();
/// let f = fit_use_dependence(&n, &y).unwrap();
/// assert!(f.determined);
/// assert!((f.block_per_stimulus - 0.06).abs() < 1e-6);
/// assert!((f.plateau - 0.15).abs() < 1e-6);
/// ```
#[must_use]
pub fn fit_use_dependence(stimulus: &[f64], normalized: &[f64]) -> Option<UseDependence> {
    let (n, y): (Vec<f64>, Vec<f64>) =
        stimulus.iter().zip(normalized).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(a, b)| (*a, *b)).unzip();
    if n.len() < 4 {
        return None;
    }
    let (lo, hi) = n.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    if !(hi > lo) {
        return None;
    }
    // τ from 0.2 stimuli to 20 × the range, log-spaced
    let (l0, l1) = (0.2f64.ln(), (20.0 * (hi - lo).max(1.0)).ln());
    const GRID: usize = 240;
    let at = |i: usize| (l0 + (l1 - l0) * i as f64 / (GRID - 1) as f64).exp();
    let cost = |lt: f64| project(&n, &y, lt.exp()).2;
    let profile: Vec<f64> = (0..GRID).map(|i| project(&n, &y, at(i)).2).collect();
    let best = (0..GRID).min_by(|&a, &b| profile[a].total_cmp(&profile[b])).unwrap_or(0);
    // golden-section on ln τ between the neighbours of the best grid point
    let (mut a, mut b) = (at(best.saturating_sub(1)).ln(), at((best + 1).min(GRID - 1)).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (cost(c), cost(d));
    for _ in 0..80 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = cost(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = cost(d);
        }
    }
    let tau = ((a + b) / 2.0).exp();
    let (plateau, span, sse) = project(&n, &y, tau);
    let my = y.iter().sum::<f64>() / y.len() as f64;
    let sst: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    // profile-likelihood interval: walk out from the minimum along the grid
    let dof = n.len() as f64 - 3.0;
    let limit = if dof >= 1.0 {
        let t = t_quantile_975(dof);
        sse.min(profile[best]) * (1.0 + t * t / dof)
    } else {
        f64::INFINITY
    };
    let lo = (0..best).rev().find(|&i| profile[i] > limit).map(|i| i + 1);
    let hi = (best + 1..GRID).find(|&i| profile[i] > limit).map(|i| i - 1);
    let tau_ci = (lo.map_or(0.0, at), hi.map_or(f64::INFINITY, at));
    let q = (-1.0 / tau).exp();
    Some(UseDependence {
        plateau,
        span,
        tau_stimuli: tau,
        block_per_stimulus: 1.0 - q,
        initial_decline: span * q * (1.0 - q),
        tau_ci_stimuli: tau_ci,
        r2: if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN },
        n: n.len(),
        determined: lo.is_some()
            && hi.is_some()
            && tau_ci.1 <= MAX_CI_RATIO * tau_ci.0
            && (0.0..=1.5).contains(&plateau)
            && span > 0.0,
    })
}

/// Two-sided 95 % quantile of Student's t with `dof` degrees of freedom
/// (bisection on burstscope-stats' p-value, to 1e-10).
fn t_quantile_975(dof: f64) -> f64 {
    let (mut a, mut b) = (0.0, 1e3);
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        if burstscope_stats::t_two_sided_p(m, dof) > 0.05 {
            a = m;
        } else {
            b = m;
        }
        if b - a < 1e-10 {
            break;
        }
    }
    0.5 * (a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_noisy_geometric_block() {
        // deterministic ±3 % wiggle
        let n: Vec<f64> = (1..=40).map(f64::from).collect();
        let y: Vec<f64> = n.iter().map(|k| (0.3 + 0.7 * 0.9f64.powf(*k)) * (1.0 + 0.03 * (k * 2.3).sin())).collect();
        let f = fit_use_dependence(&n, &y).unwrap();
        assert!(f.determined, "{f:?}");
        assert!((f.block_per_stimulus - 0.1).abs() < 0.02, "{f:?}");
        assert!((f.plateau - 0.3).abs() < 0.05, "{f:?}");
        assert!(f.r2 > 0.95);
    }

    #[test]
    fn a_straight_decline_leaves_the_plateau_undetermined() {
        let n: Vec<f64> = (1..=40).map(f64::from).collect();
        let y: Vec<f64> = n.iter().map(|k| 1.0 - 0.002 * k).collect();
        let f = fit_use_dependence(&n, &y).unwrap();
        assert!(!f.determined, "{f:?}");
    }

    #[test]
    fn t_quantiles_equal_scipy() {
        // scipy.stats.t.ppf(0.975, [1, 5, 37])
        for (dof, want) in [(1.0, 12.706204736174698), (5.0, 2.5705818356363146), (37.0, 2.026192463029109)] {
            assert!((t_quantile_975(dof) - want).abs() < 1e-7, "{dof}");
        }
    }

    #[test]
    fn too_few_points() {
        assert!(fit_use_dependence(&[1.0, 2.0, 3.0], &[1.0, 0.9, 0.8]).is_none());
        assert!(fit_use_dependence(&[1.0; 6], &[1.0, 0.9, 0.8, 0.7, 0.6, 0.5]).is_none());
        assert!(fit_use_dependence(&[1.0, 2.0, f64::NAN, 4.0], &[1.0, 0.9, 0.8, 0.7]).is_none());
    }
}
