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
        if G.is_multiple_of(2) && has_avx512() {
            let (wide, _) = rows.as_flattened_mut().as_flattened_mut().as_chunks_mut::<16>();
            match G {
                2 => return self.pass16::<1>(wide.as_chunks_mut::<1>().0, reverse),
                4 => return self.pass16::<2>(wide.as_chunks_mut::<2>().0, reverse),
                6 => return self.pass16::<3>(wide.as_chunks_mut::<3>().0, reverse),
                8 => return self.pass16::<4>(wide.as_chunks_mut::<4>().0, reverse),
                _ => {}
            }
        }
        let first = if reverse { rows[rows.len() - 1] } else { rows[0] };
        // Lane vectors are filtered in pairs and sections two at a time: four
        // independent recursions per row hide the latency of each, and their
        // states fit in registers. Every section starts from scipy's
        // steady-state `zi` scaled by the cascade's first input, as sosfilt.
        let mut g0 = 0;
        while g0 < G {
            let k = (G - g0).min(2);
            let mut s = 0;
            while s < self.coef.len() {
                let ns = (self.coef.len() - s).min(2);
                let mut z = [[[0f32; LANES]; 2]; 4]; // [section][z0/z1] × lane pair
                for j in 0..ns {
                    for g in 0..k {
                        for l in 0..LANES {
                            z[2 * j][g][l] = self.zi[s + j][0] * first[g0 + g][l];
                            z[2 * j + 1][g][l] = self.zi[s + j][1] * first[g0 + g][l];
                        }
                    }
                }
                let c1 = self.coef[s].0;
                let c2 = if ns == 2 { self.coef[s + 1].0 } else { c1 };
                match (k, ns) {
                    (2, 2) => sections::<G, 2, 2>(c1, c2, rows, g0, &mut z, reverse),
                    (2, _) => sections::<G, 2, 1>(c1, c2, rows, g0, &mut z, reverse),
                    (_, 2) => sections::<G, 1, 2>(c1, c2, rows, g0, &mut z, reverse),
                    (_, _) => sections::<G, 1, 1>(c1, c2, rows, g0, &mut z, reverse),
                }
                s += ns;
            }
            g0 += k;
        }
    }
}

impl ZeroPhase {
    /// The same pass on 16-lane vectors (two adjacent 8-lane vectors each),
    /// for AVX-512: same per-lane arithmetic as the AVX2 + FMA path.
    fn pass16<const H: usize>(&self, rows: &mut [[[f32; 16]; H]], reverse: bool) {
        let first = if reverse { rows[rows.len() - 1] } else { rows[0] };
        let mut g0 = 0;
        while g0 < H {
            let k = (H - g0).min(2);
            let mut s = 0;
            while s < self.coef.len() {
                let ns = (self.coef.len() - s).min(2);
                let mut z = [[[0f32; 16]; 2]; 4];
                for j in 0..ns {
                    for g in 0..k {
                        for l in 0..16 {
                            z[2 * j][g][l] = self.zi[s + j][0] * first[g0 + g][l];
                            z[2 * j + 1][g][l] = self.zi[s + j][1] * first[g0 + g][l];
                        }
                    }
                }
                let c1 = self.coef[s].0;
                let c2 = if ns == 2 { self.coef[s + 1].0 } else { c1 };
                match (k, ns) {
                    (2, 2) => sections16::<H, 2, 2>(c1, c2, rows, g0, &mut z, reverse),
                    (2, _) => sections16::<H, 2, 1>(c1, c2, rows, g0, &mut z, reverse),
                    (_, 2) => sections16::<H, 1, 2>(c1, c2, rows, g0, &mut z, reverse),
                    (_, _) => sections16::<H, 1, 1>(c1, c2, rows, g0, &mut z, reverse),
                }
                s += ns;
            }
            g0 += k;
        }
    }
}

/// True when the CPU has AVX-512 (F, VL) and FMA.
fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *HAS.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("fma")
                && std::env::var_os("BURSTSCOPE_NO_AVX512").is_none()
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Two sections over all rows of 16-lane vectors (AVX-512 with FMA; the
/// fallback clone exists only for type-checking and is never chosen).
#[multiversion(targets("x86_64+avx512f+avx512vl+fma"))]
fn sections16<const H: usize, const K: usize, const NS: usize>(
    c1: [f32; 5],
    c2: [f32; 5],
    rows: &mut [[[f32; 16]; H]],
    g0: usize,
    z: &mut [[[f32; 16]; 2]; 4],
    reverse: bool,
) {
    let mut s = *z;
    if reverse {
        for row in rows.iter_mut().rev() {
            step2::<16, H, K, NS, true>(c1, c2, row, g0, &mut s);
        }
    } else {
        for row in rows.iter_mut() {
            step2::<16, H, K, NS, true>(c1, c2, row, g0, &mut s);
        }
    }
    *z = s;
}

#[inline(always)]
fn biquad<const W: usize, const FMA: bool>(c: [f32; 5], x: [f32; W], z0: &mut [f32; W], z1: &mut [f32; W]) -> [f32; W] {
    let [b0, b1, b2, a1, a2] = c;
    let mut y = [0f32; W];
    if FMA {
        // Fused multiply-adds (one rounding each): a two-operation chain per row.
        for l in 0..W {
            y[l] = b0.mul_add(x[l], z0[l]);
        }
        for l in 0..W {
            z0[l] = (-a1).mul_add(y[l], b1.mul_add(x[l], z1[l]));
        }
        for l in 0..W {
            z1[l] = (-a2).mul_add(y[l], b2 * x[l]);
        }
        return y;
    }
    for l in 0..W {
        y[l] = b0 * x[l] + z0[l];
    }
    // `b1·x + z1` and `b2·x` do not wait for `y`, which keeps the
    // loop-carried chain to add, multiply, subtract.
    for l in 0..W {
        z0[l] = (b1 * x[l] + z1[l]) - a1 * y[l];
    }
    for l in 0..W {
        z1[l] = b2 * x[l] - a2 * y[l];
    }
    y
}

/// `NS` (1 or 2) cascaded sections on lane vectors `g0..g0+K` of one row.
#[inline(always)]
fn step2<const W: usize, const G: usize, const K: usize, const NS: usize, const FMA: bool>(
    c1: [f32; 5],
    c2: [f32; 5],
    row: &mut [[f32; W]; G],
    g0: usize,
    z: &mut [[[f32; W]; 2]; 4],
) {
    for g in 0..K {
        let [s0, s1, s2, s3] = z;
        let y = biquad::<W, FMA>(c1, row[g0 + g], &mut s0[g], &mut s1[g]);
        row[g0 + g] = if NS == 2 { biquad::<W, FMA>(c2, y, &mut s2[g], &mut s3[g]) } else { y };
    }
}

/// Two sections over all rows (backward when `reverse`). Compiled for AVX2
/// with FMA, AVX2 and the baseline (NEON on aarch64), chosen at run time. The
/// FMA path rounds once per multiply-add, so its values differ from the
/// others in the last bits; on one machine the result never depends on the
/// thread count.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+avx2", "aarch64+neon"))]
fn sections<const G: usize, const K: usize, const NS: usize>(
    c1: [f32; 5],
    c2: [f32; 5],
    rows: &mut [[Lane; G]],
    g0: usize,
    z: &mut [[Lane; 2]; 4],
    reverse: bool,
) {
    // States by value so they stay in registers (through the references LLVM
    // falls back to gathers and scatters).
    let mut s = *z;
    multiversion::target::match_target! {
        "x86_64+fma" => {
            if reverse {
                for row in rows.iter_mut().rev() { step2::<LANES, G, K, NS, true>(c1, c2, row, g0, &mut s); }
            } else {
                for row in rows.iter_mut() { step2::<LANES, G, K, NS, true>(c1, c2, row, g0, &mut s); }
            }
        },
        _ => {
            if reverse {
                for row in rows.iter_mut().rev() { step2::<LANES, G, K, NS, false>(c1, c2, row, g0, &mut s); }
            } else {
                for row in rows.iter_mut() { step2::<LANES, G, K, NS, false>(c1, c2, row, g0, &mut s); }
            }
        },
    }
    *z = s;
}
