//! Linear mixed models fitted by REML, as statsmodels' `MixedLM` (0.14)
//! fits them: fixed effects `β`, a random intercept per subject (variance
//! `τ²`), optionally a random intercept per session within subject (a
//! variance component `ω²`), and residual variance `σ²`:
//!
//! `y = Xβ + Z_subject b + Z_session c + ε`, `b ~ N(0, τ²)`, `c ~ N(0, ω²)`,
//! `ε ~ N(0, σ²)`.
//!
//! With `V = I + Z G Zᵀ` (`G` holding `τ²/σ²` and `ω²/σ²`) the REML
//! log-likelihood with `σ²` profiled out is
//!
//! `L = −½ log|V| − (n−p)/2 · log(rᵀV⁻¹r) − ½ log|XᵀV⁻¹X| + const`,
//!
//! `r = y − Xβ̂`, `β̂` the generalised least-squares estimate for `G`. Each
//! subject's block is inverted through the Woodbury identity on its few
//! random effects, so an evaluation costs O(n). `L` is maximised over the
//! relative variances (a grid, then Nelder–Mead on their square roots to
//! 10⁻¹² in `L`). Standard errors of `β̂` are, as statsmodels', the fixed-effect
//! block of the inverse of −H, H the Hessian of `L` in (β, relative
//! variances) — here by central differences — so they include the
//! uncertainty of the variances; z = β̂ / SE and p = 2 (1 − Φ(|z|)).
//!
//! ```
//! use burstscope_stats::lmm::{MixedData, mixed_lm_reml};
//! // Two subjects, three observations each; intercept only.
//! let y = [1.0, 1.2, 0.8, 2.1, 1.9, 2.3];
//! let x = [1.0; 6];
//! let subject = [0, 0, 0, 1, 1, 1];
//! let fit = mixed_lm_reml(&MixedData { y: &y, x: &x, p: 1, subject: &subject, session: None }).unwrap();
//! assert!((fit.fe[0] - 1.55).abs() < 1e-9); // balanced: the grand mean
//! assert!(fit.subject_var > 0.0 && fit.se[0] > 0.0);
//! ```

use statrs::function::erf::erfc;

/// The data of one model.
#[derive(Debug, Clone, Copy)]
pub struct MixedData<'a> {
    /// Response, one value per observation.
    pub y: &'a [f64],
    /// Fixed-effects design, `n × p` row-major (a column of ones for the intercept).
    pub x: &'a [f64],
    /// Fixed-effect columns.
    pub p: usize,
    /// Subject of each observation (any ids): a random intercept per subject.
    pub subject: &'a [usize],
    /// Session of each observation (ids, nested in the subject): a random
    /// intercept per (subject, session); `None` for none.
    pub session: Option<&'a [usize]>,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct MixedFit {
    /// Fixed effects β̂, in the order of `x`'s columns.
    pub fe: Vec<f64>,
    /// Their standard errors.
    pub se: Vec<f64>,
    /// Wald z = β̂ / SE.
    pub z: Vec<f64>,
    /// Two-sided p of z under the standard normal.
    pub p_values: Vec<f64>,
    /// Residual variance σ².
    pub scale: f64,
    /// Subject random-intercept variance τ².
    pub subject_var: f64,
    /// Session (within subject) variance ω², when modelled.
    pub session_var: Option<f64>,
    /// REML log-likelihood (statsmodels' `llf`).
    pub llf: f64,
    /// Observations, subjects and (subject, session) pairs.
    pub n_obs: usize,
    /// Subjects.
    pub n_subjects: usize,
    /// Sessions (0 when not modelled).
    pub n_sessions: usize,
}

/// Why a model could not be fitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MixedError {
    /// Inconsistent lengths.
    #[error("mixed model: {0}")]
    Shape(String),
    /// Not more observations than fixed effects, or non-finite values.
    #[error("mixed model: {0}")]
    Data(String),
    /// `XᵀX` is singular (a constant or collinear column).
    #[error("mixed model: the fixed-effects design is singular (collinear or constant columns)")]
    Singular,
}

/// One subject's sufficient structure.
struct Block {
    rows: Vec<usize>,
    /// Session of each row of the block, 0..n_sessions.
    session_of: Vec<usize>,
    n_sessions: usize,
    /// Random effects in the block (1, or 1 + sessions).
    q: usize,
    /// ZᵀZ (q × q), ZᵀX (q × p), Zᵀy (q): fixed, so an evaluation never
    /// touches the rows.
    ztz: Vec<f64>,
    ztx: Vec<f64>,
    zty: Vec<f64>,
}

struct Model<'a> {
    d: MixedData<'a>,
    blocks: Vec<Block>,
    /// Variance parameters: 1 (subject) or 2 (subject, session).
    k: usize,
    /// XᵀX and Xᵀy over all observations.
    xtx: Vec<f64>,
    xty: Vec<f64>,
}

/// Cholesky factor (lower, row-major) of a symmetric positive definite matrix; None if not PD.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(s > 0.0) {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves L Lᵀ x = b in place.
fn chol_solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

fn chol_logdet(l: &[f64], n: usize) -> f64 {
    (0..n).map(|i| 2.0 * l[i * n + i].ln()).sum()
}

/// XᵀV⁻¹X, XᵀV⁻¹y and log|V| at one set of relative variances.
struct Eval {
    xvx: Vec<f64>,
    xvy: Vec<f64>,
    logdet_v: f64,
}

impl Model<'_> {
    /// Fills each block's ZᵀZ, ZᵀX, Zᵀy.
    fn prepare(&mut self) {
        let p = self.d.p;
        self.xtx = vec![0.0; p * p];
        self.xty = vec![0.0; p];
        for r in 0..self.d.y.len() {
            for i in 0..p {
                let xi = self.d.x[r * p + i];
                self.xty[i] += xi * self.d.y[r];
                for j in 0..p {
                    self.xtx[i * p + j] += xi * self.d.x[r * p + j];
                }
            }
        }
        for b in &mut self.blocks {
            let q = 1 + if self.k > 1 { b.n_sessions } else { 0 };
            b.q = q;
            b.ztz = vec![0.0; q * q];
            b.ztx = vec![0.0; q * p];
            b.zty = vec![0.0; q];
            for (j, &r) in b.rows.iter().enumerate() {
                let cols: &[usize] = if self.k > 1 { &[0, 1 + b.session_of[j]] } else { &[0] };
                for &c in cols {
                    for &c2 in cols {
                        b.ztz[c * q + c2] += 1.0;
                    }
                    for i in 0..p {
                        b.ztx[c * p + i] += self.d.x[r * p + i];
                    }
                    b.zty[c] += self.d.y[r];
                }
            }
        }
    }

    /// √ of the relative variances for each random effect of a block.
    fn dg(&self, b: &Block, g: &[f64]) -> Vec<f64> {
        let mut dg = vec![g[0].max(0.0).sqrt(); b.q];
        if self.k > 1 {
            for v in &mut dg[1..] {
                *v = g[1].max(0.0).sqrt();
            }
        }
        dg
    }

    /// Per block: the Cholesky factor of M = I + D ZᵀZ D and D.
    fn factor(&self, b: &Block, g: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
        let q = b.q;
        let dg = self.dg(b, g);
        let mut m = vec![0.0; q * q];
        for i in 0..q {
            for j in 0..q {
                m[i * q + j] = dg[i] * b.ztz[i * q + j] * dg[j] + f64::from(u8::from(i == j));
            }
        }
        Some((cholesky(&m, q)?, dg))
    }

    /// XᵀV⁻¹X, XᵀV⁻¹y and log|V| at relative variances `g`.
    fn xvx(&self, g: &[f64]) -> Option<Eval> {
        let p = self.d.p;
        let mut xvx = self.xtx.clone();
        let mut xvy = self.xty.clone();
        let mut logdet_v = 0.0;
        for b in &self.blocks {
            let q = b.q;
            let (l, dg) = self.factor(b, g)?;
            logdet_v += chol_logdet(&l, q);
            // W = D ZᵀX (q × p, column by column), w = D Zᵀy.
            let cols: Vec<Vec<f64>> = (0..p).map(|c| (0..q).map(|i| dg[i] * b.ztx[i * p + c]).collect()).collect();
            let w: Vec<f64> = (0..q).map(|i| dg[i] * b.zty[i]).collect();
            for i in 0..p {
                let mut mi = cols[i].clone();
                chol_solve(&l, q, &mut mi);
                xvy[i] -= mi.iter().zip(&w).map(|(a, c)| a * c).sum::<f64>();
                for j in 0..p {
                    xvx[i * p + j] -= mi.iter().zip(&cols[j]).map(|(a, c)| a * c).sum::<f64>();
                }
            }
        }
        Some(Eval { xvx, xvy, logdet_v })
    }

    /// rᵀV⁻¹r for r = y − Xβ.
    fn rvr(&self, g: &[f64], beta: &[f64]) -> Option<f64> {
        let p = self.d.p;
        let mut rr = 0.0;
        for r in 0..self.d.y.len() {
            let e = self.d.y[r] - (0..p).map(|c| self.d.x[r * p + c] * beta[c]).sum::<f64>();
            rr += e * e;
        }
        for b in &self.blocks {
            let q = b.q;
            let (l, dg) = self.factor(b, g)?;
            let zr: Vec<f64> =
                (0..q).map(|i| dg[i] * (b.zty[i] - (0..p).map(|c| b.ztx[i * p + c] * beta[c]).sum::<f64>())).collect();
            let mut s = zr.clone();
            chol_solve(&l, q, &mut s);
            rr -= zr.iter().zip(&s).map(|(a, c)| a * c).sum::<f64>();
        }
        Some(rr)
    }

    /// β̂(g): GLS.
    fn gls(&self, e: &Eval) -> Option<Vec<f64>> {
        let p = self.d.p;
        let l = cholesky(&e.xvx, p)?;
        let mut rhs = e.xvy.clone();
        chol_solve(&l, p, &mut rhs);
        Some(rhs)
    }

    /// L(β, g) without constants; None outside the parameter space.
    fn loglike_at(&self, beta: &[f64], g: &[f64]) -> Option<f64> {
        let e = self.xvx(g)?;
        self.loglike_with(beta, g, &e)
    }

    fn loglike_with(&self, beta: &[f64], g: &[f64], e: &Eval) -> Option<f64> {
        let p = self.d.p;
        let rvr = self.rvr(g, beta)?;
        let lx = cholesky(&e.xvx, p)?;
        if !(rvr > 0.0) {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let fac = (self.d.y.len() - p) as f64;
        Some(-0.5 * e.logdet_v - 0.5 * fac * rvr.ln() - 0.5 * chol_logdet(&lx, p))
    }

    /// Profile L(g) (β at its GLS value); −∞ where undefined.
    fn profile(&self, g: &[f64]) -> f64 {
        let Some(e) = self.xvx(g) else { return f64::NEG_INFINITY };
        let Some(beta) = self.gls(&e) else { return f64::NEG_INFINITY };
        self.loglike_with(&beta, g, &e).unwrap_or(f64::NEG_INFINITY)
    }
}

/// Maximises `f` over `x ∈ ℝᵏ` by Nelder–Mead from `x0` (step `step`),
/// until the simplex's values agree to `tol`.
fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], step: f64, tol: f64) -> Vec<f64> {
    let k = x0.len();
    let neg = |x: &[f64]| -f(x);
    let mut simplex: Vec<(f64, Vec<f64>)> = Vec::with_capacity(k + 1);
    simplex.push((neg(x0), x0.to_vec()));
    for i in 0..k {
        let mut x = x0.to_vec();
        x[i] += step;
        simplex.push((neg(&x), x));
    }
    for _ in 0..5000 {
        simplex.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (best, worst) = (simplex[0].0, simplex[k].0);
        if (worst - best).abs() <= tol * (1.0 + best.abs()) {
            break;
        }
        let centroid: Vec<f64> = (0..k).map(|j| simplex[..k].iter().map(|s| s.1[j]).sum::<f64>() / k as f64).collect();
        let along = |t: f64| -> Vec<f64> { centroid.iter().zip(&simplex[k].1).map(|(c, w)| c + t * (w - c)).collect() };
        let xr = along(-1.0);
        let fr = neg(&xr);
        if fr < simplex[0].0 {
            let xe = along(-2.0);
            let fe = neg(&xe);
            simplex[k] = if fe < fr { (fe, xe) } else { (fr, xr) };
        } else if fr < simplex[k - 1].0 {
            simplex[k] = (fr, xr);
        } else {
            let xc = if fr < simplex[k].0 { along(-0.5) } else { along(0.5) };
            let fc = neg(&xc);
            if fc < simplex[k].0.min(fr) {
                simplex[k] = (fc, xc);
            } else {
                let b = simplex[0].1.clone();
                for s in simplex.iter_mut().skip(1) {
                    s.1 = b.iter().zip(&s.1).map(|(a, c)| a + 0.5 * (c - a)).collect();
                    s.0 = neg(&s.1);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.0.total_cmp(&b.0));
    simplex.swap_remove(0).1
}

/// Fits the model by REML.
///
/// # Errors
/// [`MixedError`] for inconsistent lengths, too few or non-finite
/// observations, or a singular design.
pub fn mixed_lm_reml(d: &MixedData<'_>) -> Result<MixedFit, MixedError> {
    let n = d.y.len();
    let p = d.p;
    if p == 0 || d.x.len() != n * p || d.subject.len() != n || d.session.is_some_and(|s| s.len() != n) {
        return Err(MixedError::Shape(format!(
            "{n} responses, {} design values for {p} columns, {} subjects, {} sessions",
            d.x.len(),
            d.subject.len(),
            d.session.map_or(n, <[usize]>::len)
        )));
    }
    if n <= p {
        return Err(MixedError::Data(format!("{n} observations for {p} fixed effects")));
    }
    if d.y.iter().chain(d.x).any(|v| !v.is_finite()) {
        return Err(MixedError::Data("non-finite response or design value".into()));
    }
    // Blocks by subject, in order of first appearance.
    let mut order: Vec<usize> = Vec::new();
    let mut index = std::collections::BTreeMap::new();
    for &s in d.subject {
        index.entry(s).or_insert_with(|| {
            order.push(s);
            order.len() - 1
        });
    }
    let mut blocks: Vec<Block> = order
        .iter()
        .map(|_| Block {
            rows: Vec::new(),
            session_of: Vec::new(),
            n_sessions: 0,
            q: 1,
            ztz: Vec::new(),
            ztx: Vec::new(),
            zty: Vec::new(),
        })
        .collect();
    let mut session_ids: Vec<std::collections::BTreeMap<usize, usize>> = vec![Default::default(); blocks.len()];
    for r in 0..n {
        let bi = index[&d.subject[r]];
        let b = &mut blocks[bi];
        b.rows.push(r);
        let s = d.session.map_or(0, |s| s[r]);
        let next = session_ids[bi].len();
        let si = *session_ids[bi].entry(s).or_insert(next);
        b.session_of.push(si);
        b.n_sessions = session_ids[bi].len();
    }
    let k = if d.session.is_some() { 2 } else { 1 };
    let mut model = Model { d: *d, blocks, k, xtx: Vec::new(), xty: Vec::new() };
    model.prepare();
    if model.xvx(&vec![0.0; k]).and_then(|e| cholesky(&e.xvx, p)).is_none() {
        return Err(MixedError::Singular);
    }
    // Grid over the relative variances (0 and 10⁻⁴ … 10³), then Nelder–Mead
    // on their square roots.
    let levels: Vec<f64> = std::iter::once(0.0).chain((0..15).map(|i| 10f64.powf(-4.0 + 0.5 * f64::from(i)))).collect();
    let mut best = (f64::NEG_INFINITY, vec![0.0; k]);
    let mut idx = vec![0usize; k];
    loop {
        let g: Vec<f64> = idx.iter().map(|&i| levels[i]).collect();
        let v = model.profile(&g);
        if v > best.0 {
            best = (v, g);
        }
        let mut j = 0;
        while j < k {
            idx[j] += 1;
            if idx[j] < levels.len() {
                break;
            }
            idx[j] = 0;
            j += 1;
        }
        if j == k {
            break;
        }
    }
    let f = |s: &[f64]| model.profile(&s.iter().map(|v| v * v).collect::<Vec<_>>());
    let s0: Vec<f64> = best.1.iter().map(|g| g.sqrt()).collect();
    let step = s0.iter().fold(0.1f64, |a, &v| a.max(0.2 * v));
    let mut s = nelder_mead(&f, &s0, step, 1e-13);
    // A restart from the result guards against a collapsed simplex.
    s = nelder_mead(&f, &s, 0.05 * s.iter().fold(0.1f64, |a, &v| a.max(v)), 1e-14);
    let g: Vec<f64> = s.iter().map(|v| v * v).collect();
    let e = model.xvx(&g).ok_or(MixedError::Singular)?;
    let beta = model.gls(&e).ok_or(MixedError::Singular)?;
    let rvr = model.rvr(&g, &beta).ok_or(MixedError::Singular)?;
    #[allow(clippy::cast_precision_loss)]
    let fac = (n - p) as f64;
    let scale = rvr / fac;
    // Hessian of L in (β, g) by central differences.
    let m = p + k;
    let theta: Vec<f64> = beta.iter().chain(&g).copied().collect();
    let h: Vec<f64> =
        (0..m).map(|i| if i < p { 1e-4 * scale.sqrt().max(1e-12) } else { 1e-4 * g[i - p].max(1e-2) }).collect();
    let at = |t: &[f64]| model.loglike_at(&t[..p], &t[p..]).unwrap_or(f64::NAN);
    let f0 = at(&theta);
    let mut hess = vec![0.0; m * m];
    for i in 0..m {
        let mut tp = theta.clone();
        let mut tm = theta.clone();
        tp[i] += h[i];
        tm[i] -= h[i];
        hess[i * m + i] = (at(&tp) - 2.0 * f0 + at(&tm)) / (h[i] * h[i]);
        for j in 0..i {
            let mut c = [theta.clone(), theta.clone(), theta.clone(), theta.clone()];
            c[0][i] += h[i];
            c[0][j] += h[j];
            c[1][i] += h[i];
            c[1][j] -= h[j];
            c[2][i] -= h[i];
            c[2][j] += h[j];
            c[3][i] -= h[i];
            c[3][j] -= h[j];
            let v = (at(&c[0]) - at(&c[1]) - at(&c[2]) + at(&c[3])) / (4.0 * h[i] * h[j]);
            hess[i * m + j] = v;
            hess[j * m + i] = v;
        }
    }
    let neg: Vec<f64> = hess.iter().map(|v| -v).collect();
    let cov = invert(&neg, m);
    let se: Vec<f64> = (0..p).map(|i| cov.as_ref().map_or(f64::NAN, |c| c[i * m + i].max(0.0).sqrt())).collect();
    let z: Vec<f64> = beta.iter().zip(&se).map(|(b, s)| b / s).collect();
    let p_values: Vec<f64> = z.iter().map(|z| erfc(z.abs() / std::f64::consts::SQRT_2)).collect();
    let llf = f0 - fac / 2.0 * (2.0 * std::f64::consts::PI).ln() + fac / 2.0 * fac.ln() - fac / 2.0;
    Ok(MixedFit {
        fe: beta,
        se,
        z,
        p_values,
        scale,
        subject_var: g[0] * scale,
        session_var: (k > 1).then(|| g[1] * scale),
        llf,
        n_obs: n,
        n_subjects: model.blocks.len(),
        n_sessions: if k > 1 { model.blocks.iter().map(|b| b.n_sessions).sum() } else { 0 },
    })
}

/// Inverse by Gauss–Jordan with partial pivoting; None when singular.
fn invert(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let piv = (col..n).max_by(|&x, &y| m[x * n + col].abs().total_cmp(&m[y * n + col].abs()))?;
        if m[piv * n + col] == 0.0 || !m[piv * n + col].is_finite() {
            return None;
        }
        for k in 0..n {
            m.swap(piv * n + k, col * n + k);
            inv.swap(piv * n + k, col * n + k);
        }
        let d = m[col * n + col];
        for k in 0..n {
            m[col * n + k] /= d;
            inv[col * n + k] /= d;
        }
        for r in 0..n {
            if r != col {
                let f = m[r * n + col];
                if f != 0.0 {
                    for k in 0..n {
                        m[r * n + k] -= f * m[col * n + k];
                        inv[r * n + k] -= f * inv[col * n + k];
                    }
                }
            }
        }
    }
    Some(inv)
}
