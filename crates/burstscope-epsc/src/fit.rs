//! Exponential decay fits by least squares (Levenberg–Marquardt, written here,
//! with analytic Jacobians; a log-linear fit gives the starting point).

use serde::{Deserialize, Serialize};

/// Result of a decay fit: y(t) = Σ A_i e^{−t/τ_i}, t from the fit start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpFit {
    /// Amplitudes (same unit as y), fastest first.
    pub amplitudes: Vec<f64>,
    /// Time constants (same unit as t), fastest first.
    pub taus: Vec<f64>,
    /// Residual sum of squares.
    pub sse: f64,
    /// Coefficient of determination.
    pub r2: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether the fit converged to a valid minimum (positive τ, finite values).
    pub converged: bool,
}

impl ExpFit {
    /// Amplitude-weighted time constant Σ A_i τ_i / Σ A_i.
    #[must_use]
    pub fn weighted_tau(&self) -> f64 {
        let a: f64 = self.amplitudes.iter().sum();
        self.amplitudes.iter().zip(&self.taus).map(|(a, t)| a * t).sum::<f64>() / a
    }
}

/// Model value and gradient for parameters [A1, τ1, A2, τ2, …].
fn model(p: &[f64], t: f64, grad: &mut [f64]) -> f64 {
    let mut y = 0.0;
    for k in 0..p.len() / 2 {
        let (a, tau) = (p[2 * k], p[2 * k + 1]);
        let e = (-t / tau).exp();
        y += a * e;
        grad[2 * k] = e;
        grad[2 * k + 1] = a * e * t / (tau * tau);
    }
    y
}

fn sse(p: &[f64], t: &[f64], y: &[f64]) -> f64 {
    let mut g = vec![0.0; p.len()];
    t.iter().zip(y).map(|(&ti, &yi)| (yi - model(p, ti, &mut g)).powi(2)).sum()
}

/// Solves the small dense system `a x = b` (Gaussian elimination with pivoting).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let piv = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[piv][c].abs() < 1e-300 {
            return None;
        }
        a.swap(c, piv);
        b.swap(c, piv);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// Levenberg–Marquardt from `p0` (Marquardt's diagonal scaling).
fn levenberg_marquardt(p0: &[f64], t: &[f64], y: &[f64], max_iter: usize) -> (Vec<f64>, f64, usize, bool) {
    let n = p0.len();
    let mut p = p0.to_vec();
    let mut cost = sse(&p, t, y);
    let mut lambda = 1e-3;
    let mut g = vec![0.0; n];
    for it in 1..=max_iter {
        let mut jtj = vec![vec![0.0; n]; n];
        let mut jtr = vec![0.0; n];
        for (&ti, &yi) in t.iter().zip(y) {
            let r = yi - model(&p, ti, &mut g);
            for i in 0..n {
                jtr[i] += g[i] * r;
                for j in 0..=i {
                    jtj[i][j] += g[i] * g[j];
                }
            }
        }
        for i in 0..n {
            for j in 0..i {
                jtj[j][i] = jtj[i][j];
            }
        }
        let mut improved = false;
        for _ in 0..30 {
            let mut a = jtj.clone();
            for i in 0..n {
                a[i][i] *= 1.0 + lambda;
                if a[i][i] == 0.0 {
                    a[i][i] = lambda;
                }
            }
            let Some(step) = solve(a, jtr.clone()) else {
                lambda *= 10.0;
                continue;
            };
            let trial: Vec<f64> = p.iter().zip(&step).map(|(a, b)| a + b).collect();
            let valid = trial.iter().skip(1).step_by(2).all(|tau| *tau > 0.0 && tau.is_finite());
            let c = if valid { sse(&trial, t, y) } else { f64::INFINITY };
            if c < cost {
                let rel = (cost - c) / cost.max(1e-300);
                let small_step = step.iter().zip(&p).all(|(s, v)| s.abs() <= 1e-10 * (v.abs() + 1e-12));
                p = trial;
                cost = c;
                lambda = (lambda / 10.0).max(1e-12);
                improved = true;
                if rel < 1e-12 || small_step {
                    return (p, cost, it, true);
                }
                break;
            }
            lambda *= 10.0;
            if lambda > 1e12 {
                break;
            }
        }
        if !improved {
            // no step lowers the cost: a minimum (to machine precision)
            return (p, cost, it, true);
        }
    }
    (p, cost, max_iter, false)
}

fn r2(sse: f64, y: &[f64]) -> f64 {
    let m = y.iter().sum::<f64>() / y.len() as f64;
    let sst: f64 = y.iter().map(|v| (v - m).powi(2)).sum();
    1.0 - sse / sst
}

fn finish(p: Vec<f64>, cost: f64, it: usize, ok: bool, y: &[f64]) -> ExpFit {
    let mut comps: Vec<(f64, f64)> = p.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    comps.sort_by(|a, b| a.1.total_cmp(&b.1));
    let valid = comps.iter().all(|(a, tau)| a.is_finite() && *tau > 0.0 && tau.is_finite()) && cost.is_finite();
    ExpFit {
        amplitudes: comps.iter().map(|c| c.0).collect(),
        taus: comps.iter().map(|c| c.1).collect(),
        sse: cost,
        r2: r2(cost, y),
        iterations: it,
        converged: ok && valid,
    }
}

/// Log-linear start: fit ln y over points above 10 % of the maximum.
fn log_linear(t: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !(max > 0.0) {
        return None;
    }
    let pts: Vec<(f64, f64)> = t.iter().zip(y).filter(|(_, v)| **v > 0.1 * max).map(|(a, b)| (*a, b.ln())).collect();
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let (sx, sy) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (mx, my) = (sx / n, sy / n);
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    if !(slope < 0.0) {
        return None;
    }
    Some(((my - slope * mx).exp(), -1.0 / slope))
}

/// One-exponential fit y ≈ A e^{−t/τ}.
///
/// ```
/// use burstscope_epsc::fit_exp1;
/// let t: Vec<f64> = (0..200).map(|i| i as f64 * 0.5).collect();
/// let y: Vec<f64> = t.iter().map(|t| 100.0 * (-t / 30.0).exp()).collect();
/// let f = fit_exp1(&t, &y);
/// assert!(f.converged && (f.taus[0] - 30.0).abs() < 1e-6);
/// ```
#[must_use]
pub fn fit_exp1(t: &[f64], y: &[f64]) -> ExpFit {
    let span = t.last().copied().unwrap_or(1.0) - t.first().copied().unwrap_or(0.0);
    let (a0, tau0) = log_linear(t, y).unwrap_or((y.first().copied().unwrap_or(1.0), span / 3.0));
    let (p, c, it, ok) = levenberg_marquardt(&[a0, tau0], t, y, 500);
    finish(p, c, it, ok, y)
}

/// Two-exponential fit y ≈ A1 e^{−t/τ1} + A2 e^{−t/τ2}, from several starts
/// around the one-exponential τ; the lowest residual wins.
///
/// ```
/// use burstscope_epsc::fit_exp2;
/// let t: Vec<f64> = (0..600).map(|i| i as f64).collect();
/// let y: Vec<f64> = t.iter().map(|t| 70.0 * (-t / 40.0).exp() + 30.0 * (-t / 250.0).exp()).collect();
/// let f = fit_exp2(&t, &y);
/// assert!(f.converged);
/// assert!((f.taus[0] - 40.0).abs() < 1e-4 && (f.taus[1] - 250.0).abs() < 1e-3);
/// assert!((f.weighted_tau() - (0.7 * 40.0 + 0.3 * 250.0)).abs() < 1e-3);
/// ```
#[must_use]
pub fn fit_exp2(t: &[f64], y: &[f64]) -> ExpFit {
    fit_exp2_from(t, y, &fit_exp1(t, y))
}

/// [`fit_exp2`] starting from an existing one-exponential fit of the same data.
#[must_use]
pub fn fit_exp2_from(t: &[f64], y: &[f64], one: &ExpFit) -> ExpFit {
    let (a, tau) = (one.amplitudes[0], one.taus[0]);
    let mut best: Option<ExpFit> = None;
    for (f1, f2, share) in [(0.3, 3.0, 0.6), (0.5, 2.0, 0.5), (0.15, 1.5, 0.7), (0.6, 5.0, 0.8)] {
        let p0 = [a * share, tau * f1, a * (1.0 - share), tau * f2];
        let (p, c, it, ok) = levenberg_marquardt(&p0, t, y, 500);
        let f = finish(p, c, it, ok, y);
        if f.converged && best.as_ref().is_none_or(|b| f.sse < b.sse) {
            best = Some(f);
        }
    }
    best.unwrap_or(ExpFit { converged: false, ..one.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_small_systems() {
        let x = solve(vec![vec![2.0, 1.0], vec![1.0, 3.0]], vec![3.0, 5.0]).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
        assert!(solve(vec![vec![0.0, 0.0], vec![0.0, 0.0]], vec![1.0, 1.0]).is_none());
    }

    #[test]
    fn noise_only_does_not_converge_to_a_valid_decay() {
        let t: Vec<f64> = (0..100).map(f64::from).collect();
        let y: Vec<f64> = t.iter().map(|v| (v * 1.7).sin()).collect();
        let f = fit_exp2(&t, &y);
        assert!(!f.converged || f.r2 < 0.2, "{f:?}");
    }
}
