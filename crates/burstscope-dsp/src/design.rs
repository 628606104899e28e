//! Butterworth design as second-order sections, step for step as
//! `scipy.signal.butter(N, Wn, btype, fs=fs, output="sos")`: analog prototype
//! (`buttap`), frequency transform (`lp2lp_zpk`/`lp2hp_zpk`/`lp2bp_zpk`/
//! `lp2bs_zpk`) at pre-warped edges, `bilinear_zpk`, then `zpk2sos` with
//! `pairing="nearest"` (sections filled from the last, the pole nearest the
//! unit circle last, the gain in the first section).

use crate::DspError;
use serde::{Deserialize, Serialize};
use std::ops::{Add, Div, Mul, Neg, Sub};

#[derive(Debug, Clone, Copy, PartialEq)]
struct C {
    re: f64,
    im: f64,
}

impl C {
    const fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }
    fn real(re: f64) -> Self {
        Self { re, im: 0.0 }
    }
    fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }
    fn conj(self) -> Self {
        Self::new(self.re, -self.im)
    }
    fn is_real(self) -> bool {
        self.im == 0.0
    }
    /// Principal square root (as numpy's `sqrt` for complex).
    fn sqrt(self) -> Self {
        if self.re == 0.0 && self.im == 0.0 {
            return Self::real(0.0);
        }
        let r = self.abs();
        let t = ((r + self.re.abs()) / 2.0).sqrt();
        if self.re >= 0.0 {
            Self::new(t, self.im / (2.0 * t))
        } else {
            Self::new(self.im.abs() / (2.0 * t), t.copysign(self.im))
        }
    }
    fn exp_i(theta: f64) -> Self {
        Self::new(theta.cos(), theta.sin())
    }
}
impl Add for C {
    type Output = C;
    fn add(self, o: C) -> C {
        C::new(self.re + o.re, self.im + o.im)
    }
}
impl Sub for C {
    type Output = C;
    fn sub(self, o: C) -> C {
        C::new(self.re - o.re, self.im - o.im)
    }
}
impl Mul for C {
    type Output = C;
    fn mul(self, o: C) -> C {
        C::new(self.re * o.re - self.im * o.im, self.re * o.im + self.im * o.re)
    }
}
impl Div for C {
    type Output = C;
    fn div(self, o: C) -> C {
        // Smith's algorithm, as numpy's complex division.
        if o.re.abs() >= o.im.abs() {
            let r = o.im / o.re;
            let d = o.re + o.im * r;
            C::new((self.re + self.im * r) / d, (self.im - self.re * r) / d)
        } else {
            let r = o.re / o.im;
            let d = o.re * r + o.im;
            C::new((self.re * r + self.im) / d, (self.im * r - self.re) / d)
        }
    }
}
impl Neg for C {
    type Output = C;
    fn neg(self) -> C {
        C::new(-self.re, -self.im)
    }
}

/// The pass band of a filter, in Hz.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Pass below the cut-off.
    Lowpass(f64),
    /// Pass above the cut-off.
    Highpass(f64),
    /// Pass between the two edges.
    Bandpass(f64, f64),
    /// Reject between the two edges.
    Bandstop(f64, f64),
}

/// Second-order sections `[b0, b1, b2, a0, a1, a2]` (a0 = 1), applied in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sos {
    /// The sections.
    pub sections: Vec<[f64; 6]>,
}

/// A Butterworth filter of `order` as second-order sections, equal to
/// `scipy.signal.butter(order, edges, btype, fs=fs_hz, output="sos")`.
///
/// ```
/// use burstscope_dsp::{Band, butter};
/// let sos = butter(5, Band::Bandpass(300.0, 6000.0), 30_000.0).unwrap();
/// assert_eq!(sos.sections.len(), 5);
/// // Unit gain in the pass band: sum over frequency response at 1 kHz ≈ 1.
/// let g = sos.gain_at(1000.0, 30_000.0);
/// assert!((g - 1.0).abs() < 0.01);
/// ```
///
/// # Errors
/// Order 0 or above 24, edges outside (0, fs/2), or unordered band edges.
pub fn butter(order: usize, band: Band, fs_hz: f64) -> Result<Sos, DspError> {
    if order == 0 || order > 24 {
        return Err(DspError::Param(format!("filter order {order}: expected 1..=24")));
    }
    if !(fs_hz > 0.0 && fs_hz.is_finite()) {
        return Err(DspError::Param(format!("sampling rate {fs_hz} Hz: expected a positive rate")));
    }
    let nyq = fs_hz / 2.0;
    let check = |f: f64| {
        if f > 0.0 && f < nyq {
            Ok(())
        } else {
            Err(DspError::Param(format!("cut-off {f} Hz: expected 0 < f < {nyq} Hz (half the sampling rate)")))
        }
    };
    match band {
        Band::Lowpass(f) | Band::Highpass(f) => check(f)?,
        Band::Bandpass(a, b) | Band::Bandstop(a, b) => {
            check(a)?;
            check(b)?;
            if a >= b {
                return Err(DspError::Param(format!("band {a}:{b} Hz: expected low < high")));
            }
        }
    }
    // buttap
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_wrap)]
    let n = order as i64;
    let p: Vec<C> = (0..n)
        .map(|i| {
            let m = (-n + 1 + 2 * i) as f64;
            -C::exp_i(std::f64::consts::PI * m / (2.0 * n as f64))
        })
        .collect();
    let z: Vec<C> = Vec::new();
    let k = 1.0;
    // iirfilter: normalise to Nyquist = 1, then fs = 2 and pre-warp.
    let fs = 2.0;
    let warp = |f: f64| 2.0 * fs * (std::f64::consts::PI * (2.0 * f / fs_hz) / fs).tan();
    let (z, p, k) = match band {
        Band::Lowpass(f) => lp2lp(&z, &p, k, warp(f)),
        Band::Highpass(f) => lp2hp(&z, &p, k, warp(f)),
        Band::Bandpass(a, b) => {
            let (wa, wb) = (warp(a), warp(b));
            lp2bp(&z, &p, k, (wa * wb).sqrt(), wb - wa)
        }
        Band::Bandstop(a, b) => {
            let (wa, wb) = (warp(a), warp(b));
            lp2bs(&z, &p, k, (wa * wb).sqrt(), wb - wa)
        }
    };
    let (z, p, k) = bilinear(&z, &p, k, fs);
    Ok(Sos { sections: zpk2sos(z, p, k) })
}

fn lp2lp(z: &[C], p: &[C], k: f64, wo: f64) -> (Vec<C>, Vec<C>, f64) {
    let degree = p.len() - z.len();
    let w = C::real(wo);
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let kk = k * wo.powi(degree as i32);
    (z.iter().map(|&x| w * x).collect(), p.iter().map(|&x| w * x).collect(), kk)
}

fn lp2hp(z: &[C], p: &[C], k: f64, wo: f64) -> (Vec<C>, Vec<C>, f64) {
    let degree = p.len() - z.len();
    let w = C::real(wo);
    let mut zh: Vec<C> = z.iter().map(|&x| w / x).collect();
    let ph: Vec<C> = p.iter().map(|&x| w / x).collect();
    zh.extend(std::iter::repeat_n(C::real(0.0), degree));
    let num = z.iter().fold(C::real(1.0), |acc, &x| acc * -x);
    let den = p.iter().fold(C::real(1.0), |acc, &x| acc * -x);
    (zh, ph, k * (num / den).re)
}

fn lp2bp(z: &[C], p: &[C], k: f64, wo: f64, bw: f64) -> (Vec<C>, Vec<C>, f64) {
    let degree = p.len() - z.len();
    let half = C::real(bw / 2.0);
    let wo2 = C::real(wo * wo);
    let split = |v: &[C]| -> Vec<C> {
        let lp: Vec<C> = v.iter().map(|&x| x * half).collect();
        let plus = lp.iter().map(|&x| x + (x * x - wo2).sqrt());
        let minus = lp.iter().map(|&x| x - (x * x - wo2).sqrt());
        plus.chain(minus).collect()
    };
    let mut zb = split(z);
    let pb = split(p);
    zb.extend(std::iter::repeat_n(C::real(0.0), degree));
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let kb = k * bw.powi(degree as i32);
    (zb, pb, kb)
}

fn lp2bs(z: &[C], p: &[C], k: f64, wo: f64, bw: f64) -> (Vec<C>, Vec<C>, f64) {
    let degree = p.len() - z.len();
    let half = C::real(bw / 2.0);
    let wo2 = C::real(wo * wo);
    let split = |v: &[C]| -> Vec<C> {
        let hp: Vec<C> = v.iter().map(|&x| half / x).collect();
        let plus = hp.iter().map(|&x| x + (x * x - wo2).sqrt());
        let minus = hp.iter().map(|&x| x - (x * x - wo2).sqrt());
        plus.chain(minus).collect()
    };
    let mut zb = split(z);
    let pb = split(p);
    zb.extend(std::iter::repeat_n(C::new(0.0, wo), degree));
    zb.extend(std::iter::repeat_n(C::new(0.0, -wo), degree));
    let num = z.iter().fold(C::real(1.0), |acc, &x| acc * -x);
    let den = p.iter().fold(C::real(1.0), |acc, &x| acc * -x);
    (zb, pb, k * (num / den).re)
}

fn bilinear(z: &[C], p: &[C], k: f64, fs: f64) -> (Vec<C>, Vec<C>, f64) {
    let degree = p.len() - z.len();
    let fs2 = C::real(2.0 * fs);
    let mut zz: Vec<C> = z.iter().map(|&x| (fs2 + x) / (fs2 - x)).collect();
    let pz: Vec<C> = p.iter().map(|&x| (fs2 + x) / (fs2 - x)).collect();
    zz.extend(std::iter::repeat_n(C::real(-1.0), degree));
    let num = z.iter().fold(C::real(1.0), |acc, &x| acc * (fs2 - x));
    let den = p.iter().fold(C::real(1.0), |acc, &x| acc * (fs2 - x));
    (zz, pz, k * (num / den).re)
}

/// scipy's `_cplxreal`: complex values with positive imaginary part (pairs
/// averaged), then real values; sorted by real part, then |imag|.
fn cplxreal(mut v: Vec<C>) -> Vec<C> {
    let tol = 100.0 * f64::EPSILON;
    v.sort_by(|a, b| a.re.total_cmp(&b.re).then(a.im.abs().total_cmp(&b.im.abs())));
    let (reals, cplx): (Vec<C>, Vec<C>) = v.into_iter().partition(|x| x.im.abs() <= tol * x.abs());
    let zp: Vec<C> = cplx.iter().copied().filter(|x| x.im > 0.0).collect();
    let zn: Vec<C> = cplx.iter().copied().filter(|x| x.im < 0.0).collect();
    let mut out: Vec<C> = zp.iter().zip(&zn).map(|(&a, &b)| (a + b.conj()) / C::real(2.0)).collect();
    out.extend(reals.iter().map(|x| C::real(x.re)));
    out
}

/// Index of the first minimum of `f` over `v` (as `np.argmin`).
fn argmin_by(v: &[C], f: impl Fn(C) -> f64) -> usize {
    let mut best = 0;
    for i in 1..v.len() {
        if f(v[i]) < f(v[best]) {
            best = i;
        }
    }
    best
}

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Real,
    Any,
}

fn nearest_idx(from: &[C], to: C, which: Which) -> Option<usize> {
    let mut order: Vec<usize> = (0..from.len()).collect();
    order.sort_by(|&a, &b| (from[a] - to).abs().total_cmp(&(from[b] - to).abs()));
    order.into_iter().find(|&i| which == Which::Any || from[i].is_real())
}

fn single_section(z: &[C], p: &[C]) -> [f64; 6] {
    let poly = |r: &[C]| -> Vec<f64> {
        let mut c = vec![C::real(1.0)];
        for &x in r {
            let mut next = vec![C::real(0.0); c.len() + 1];
            for (i, &ci) in c.iter().enumerate() {
                next[i] = next[i] + ci;
                next[i + 1] = next[i + 1] - ci * x;
            }
            c = next;
        }
        c.iter().map(|x| x.re).collect()
    };
    let (b, a) = (poly(z), poly(p));
    let mut s = [0.0; 6];
    s[3 - b.len()..3].copy_from_slice(&b);
    s[6 - a.len()..6].copy_from_slice(&a);
    s
}

fn zpk2sos(z: Vec<C>, p: Vec<C>, k: f64) -> Vec<[f64; 6]> {
    let (mut z, mut p) = (z, p);
    let pad = z.len().max(p.len());
    z.resize(pad, C::real(0.0));
    p.resize(pad, C::real(0.0));
    let n_sections = pad.div_ceil(2);
    if p.len() % 2 == 1 {
        p.push(C::real(0.0));
        z.push(C::real(0.0));
    }
    let mut z = cplxreal(z);
    let mut p = cplxreal(p);
    let worst = |v: &[C]| argmin_by(v, |x| (1.0 - x.abs()).abs());
    let mut sos = vec![[0.0; 6]; n_sections];
    for si in (0..n_sections).rev() {
        let p1 = p.remove(worst(&p));
        let n_real_p = p.iter().filter(|x| x.is_real()).count();
        if p1.is_real() && n_real_p == 0 {
            // Special case (1): last remaining real pole.
            let zi = nearest_idx(&z, p1, Which::Real).unwrap_or(0);
            let z1 = z.remove(zi);
            sos[si] = single_section(&[z1, C::real(0.0)], &[p1, C::real(0.0)]);
        } else if p.len() + 1 == z.len()
            && !p1.is_real()
            && n_real_p == 1
            && z.iter().filter(|x| x.is_real()).count() == 1
        {
            // Special case (2): pair with a complex zero.
            let zi = (0..z.len())
                .filter(|&i| !z[i].is_real())
                .min_by(|&a, &b| (z[a] - p1).abs().total_cmp(&(z[b] - p1).abs()))
                .unwrap_or(0);
            let z1 = z.remove(zi);
            sos[si] = single_section(&[z1, z1.conj()], &[p1, p1.conj()]);
        } else {
            let p2 = if p1.is_real() {
                let reals: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_real()).collect();
                let sub: Vec<C> = reals.iter().map(|&i| p[i]).collect();
                p.remove(reals[worst(&sub)])
            } else {
                p1.conj()
            };
            if z.is_empty() {
                sos[si] = single_section(&[], &[p1, p2]);
            } else {
                let z1 = z.remove(nearest_idx(&z, p1, Which::Any).unwrap_or(0));
                if z1.is_real() {
                    match nearest_idx(&z, p1, Which::Real) {
                        Some(i) => {
                            let z2 = z.remove(i);
                            sos[si] = single_section(&[z1, z2], &[p1, p2]);
                        }
                        None => sos[si] = single_section(&[z1], &[p1, p2]),
                    }
                } else {
                    sos[si] = single_section(&[z1, z1.conj()], &[p1, p2]);
                }
            }
        }
    }
    for c in &mut sos[0][..3] {
        *c *= k;
    }
    sos
}

impl Sos {
    /// Number of sections.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sections.len()
    }

    /// True when there are no sections.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// |H(f)| of the cascade at `f_hz`.
    #[must_use]
    pub fn gain_at(&self, f_hz: f64, fs_hz: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * f_hz / fs_hz;
        let z1 = C::exp_i(-w);
        let z2 = z1 * z1;
        self.sections
            .iter()
            .map(|s| {
                let num = C::real(s[0]) + C::real(s[1]) * z1 + C::real(s[2]) * z2;
                let den = C::real(s[3]) + C::real(s[4]) * z1 + C::real(s[5]) * z2;
                (num / den).abs()
            })
            .product()
    }

    /// Initial conditions for a step response steady state, per section
    /// (`scipy.signal.sosfilt_zi`); scale by the first input sample.
    #[must_use]
    pub fn zi(&self) -> Vec<[f64; 2]> {
        let mut scale = 1.0;
        self.sections
            .iter()
            .map(|s| {
                let (b, a) = (&s[..3], &s[3..]);
                let (b0, b1, b2) = (b[0] / a[0], b[1] / a[0], b[2] / a[0]);
                let (a1, a2) = (a[1] / a[0], a[2] / a[0]);
                let (bb0, bb1) = (b1 - a1 * b0, b2 - a2 * b0);
                let zi0 = (bb0 + bb1) / (1.0 + a1 + a2);
                let zi1 = bb1 - a2 * zi0;
                let out = [scale * zi0, scale * zi1];
                scale *= (b[0] + b[1] + b[2]) / (a[0] + a[1] + a[2]);
                out
            })
            .collect()
    }

    /// The padding `sosfiltfilt` uses by default: 3 × (2·sections + 1 − trailing zeros).
    #[must_use]
    pub fn padlen(&self) -> usize {
        let zb = self.sections.iter().filter(|s| s[2] == 0.0).count();
        let za = self.sections.iter().filter(|s| s[5] == 0.0).count();
        3 * (2 * self.sections.len() + 1 - zb.min(za))
    }
}
