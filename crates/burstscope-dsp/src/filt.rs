//! Filtering: the scalar `f64` reference (`sosfilt`, `sosfiltfilt` exactly as
//! scipy) and the fast multi-channel `f32` zero-phase block filter used on
//! recordings.

use crate::design::Sos;
use multiversion::multiversion;

/// Runs `sos` over `x` in place (transposed direct form II, like
/// `scipy.signal.sosfilt`) from the states `zi` (updated).
pub fn sosfilt_in_place(sos: &Sos, x: &mut [f64], zi: &mut [[f64; 2]]) {
    for (s, z) in sos.sections.iter().zip(zi.iter_mut()) {
        let (b0, b1, b2, a1, a2) = (s[0], s[1], s[2], s[4], s[5]);
        for v in x.iter_mut() {
            let xi = *v;
            let y = b0 * xi + z[0];
            z[0] = b1 * xi - a1 * y + z[1];
            z[1] = b2 * xi - a2 * y;
            *v = y;
        }
    }
}

/// Zero-phase filtering of a whole signal, equal to
/// `scipy.signal.sosfiltfilt(sos, x)` (odd extension of `padlen` samples,
/// steady-state initial conditions, forward then backward).
///
/// ```
/// use burstscope_dsp::{Band, butter, sosfiltfilt};
/// let sos = butter(2, Band::Lowpass(50.0), 1000.0).unwrap();
/// let x = vec![1.0; 200];
/// let y = sosfiltfilt(&sos, &x).unwrap();
/// assert!(y.iter().all(|v| (v - 1.0).abs() < 1e-9)); // DC passes unchanged
/// ```
///
/// # Errors
/// When `x` is not longer than the padding (as scipy).
pub fn sosfiltfilt(sos: &Sos, x: &[f64]) -> Result<Vec<f64>, crate::DspError> {
    let pad = sos.padlen();
    if x.len() <= pad {
        return Err(crate::DspError::TooShort { samples: x.len(), needed: pad + 1 });
    }
    let n = x.len();
    let mut ext = Vec::with_capacity(n + 2 * pad);
    ext.extend((1..=pad).rev().map(|i| 2.0 * x[0] - x[i]));
    ext.extend_from_slice(x);
    ext.extend((1..=pad).map(|i| 2.0 * x[n - 1] - x[n - 1 - i]));
    let zi = sos.zi();
    let x0 = ext[0];
    let mut z: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * x0, z[1] * x0]).collect();
    sosfilt_in_place(sos, &mut ext, &mut z);
    ext.reverse();
    let y0 = ext[0];
    let mut z: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * y0, z[1] * y0]).collect();
    sosfilt_in_place(sos, &mut ext, &mut z);
    ext.reverse();
    Ok(ext[pad..pad + n].to_vec())
}

/// Lanes per SIMD vector of the block filter.
pub const LANES: usize = 8;

/// One lane vector: 8 channels at one time step.
pub type Lane = [f32; LANES];

/// `f32` coefficients of one section: `[b0, b1, b2, a1, a2]`.
#[derive(Debug, Clone, Copy)]
struct Coef([f32; 5]);

/// A zero-phase band-pass (or any SOS) filter for multi-channel blocks.
///
/// Blocks are time-major rows of `G` lane vectors (`8·G` channels, padded).
/// Forward and backward passes start from scipy's steady-state initial
/// conditions scaled by the first (last) value, so a block that includes a
/// margin of real data before and after the samples of interest reproduces
/// whole-signal `sosfiltfilt` there up to a transient that decays within the
/// margin.
#[derive(Debug, Clone)]
pub struct ZeroPhase {
    coef: Vec<Coef>,
    zi: Vec<[f32; 2]>,
    padlen: usize,
}

impl ZeroPhase {
    /// Prepares `sos` for `f32` block filtering.
    #[must_use]
    pub fn new(sos: &Sos) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        let coef = sos
            .sections
            .iter()
            .map(|s| Coef([s[0] as f32, s[1] as f32, s[2] as f32, s[4] as f32, s[5] as f32]))
            .collect();
        #[allow(clippy::cast_possible_truncation)]
        let zi = sos.zi().iter().map(|z| [z[0] as f32, z[1] as f32]).collect();
        Self { coef, zi, padlen: sos.padlen() }
    }

    /// scipy's default padding for this filter (used at recording edges).
    #[must_use]
    pub fn padlen(&self) -> usize {
        self.padlen
    }

    /// Filters `rows` (each row `G` lane vectors) forward then backward, in place.
    pub fn filtfilt<const G: usize>(&self, rows: &mut [[Lane; G]]) {
        if rows.is_empty() {
            return;
        }
        self.pass::<G>(rows, false);
        self.pass::<G>(rows, true);
    }

    fn pass<const G: usize>(&self, rows: &mut [[Lane; G]], reverse: bool) {
        let first = if reverse { rows[rows.len() - 1] } else { rows[0] };
        for (c, zi) in self.coef.iter().zip(&self.zi) {
            let mut z0 = [[0f32; LANES]; G];
            let mut z1 = [[0f32; LANES]; G];
            for g in 0..G {
                for l in 0..LANES {
                    z0[g][l] = zi[0] * first[g][l];
                    z1[g][l] = zi[1] * first[g][l];
                }
            }
            if reverse {
                section_rev::<G>(c.0, rows, &mut z0, &mut z1);
            } else {
                section_fwd::<G>(c.0, rows, &mut z0, &mut z1);
            }
        }
    }
}

#[inline(always)]
fn step<const G: usize>(c: [f32; 5], row: &mut [Lane; G], z0: &mut [Lane; G], z1: &mut [Lane; G]) {
    let [b0, b1, b2, a1, a2] = c;
    for g in 0..G {
        for l in 0..LANES {
            let x = row[g][l];
            let y = b0 * x + z0[g][l];
            z0[g][l] = b1 * x - a1 * y + z1[g][l];
            z1[g][l] = b2 * x - a2 * y;
            row[g][l] = y;
        }
    }
}

/// One section over all rows, forward. Compiled for AVX-512, AVX2 and the
/// baseline, chosen at run time; no fused multiply-add contraction, so every
/// path computes the same values.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2", "aarch64+neon"))]
fn section_fwd<const G: usize>(c: [f32; 5], rows: &mut [[Lane; G]], z0: &mut [Lane; G], z1: &mut [Lane; G]) {
    for row in rows.iter_mut() {
        step::<G>(c, row, z0, z1);
    }
}

/// One section over all rows, backward.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2", "aarch64+neon"))]
fn section_rev<const G: usize>(c: [f32; 5], rows: &mut [[Lane; G]], z0: &mut [Lane; G], z1: &mut [Lane; G]) {
    for row in rows.iter_mut().rev() {
        step::<G>(c, row, z0, z1);
    }
}
