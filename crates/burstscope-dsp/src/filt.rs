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

/// Calls `$go!(K, NS, S1, S2)` with literal lane-vector and section counts
/// and the numerator shapes of the section pair, for the pairs Butterworth
/// designs produce; any other pair runs the general form.
macro_rules! by_shape {
    ($k:expr, $ns:expr, $s1:expr, $s2:expr, $go:ident) => {
        match ($k, $ns, $s1, $s2) {
            (2, 2, GENERAL, ONE_TWO_ONE) => $go!(2, 2, GENERAL, ONE_TWO_ONE),
            (2, 2, GENERAL, ONE_MINUS_TWO_ONE) => $go!(2, 2, GENERAL, ONE_MINUS_TWO_ONE),
            (2, 2, GENERAL, ONE_ZERO_MINUS_ONE) => $go!(2, 2, GENERAL, ONE_ZERO_MINUS_ONE),
            (2, 2, ONE_ZERO_MINUS_ONE, ONE_MINUS_TWO_ONE) => $go!(2, 2, ONE_ZERO_MINUS_ONE, ONE_MINUS_TWO_ONE),
            (2, 2, ONE_MINUS_TWO_ONE, ONE_MINUS_TWO_ONE) => $go!(2, 2, ONE_MINUS_TWO_ONE, ONE_MINUS_TWO_ONE),
            (2, 2, ONE_TWO_ONE, ONE_MINUS_TWO_ONE) => $go!(2, 2, ONE_TWO_ONE, ONE_MINUS_TWO_ONE),
            (2, 2, _, _) => $go!(2, 2, GENERAL, GENERAL),
            (2, _, ONE_MINUS_TWO_ONE, _) => $go!(2, 1, ONE_MINUS_TWO_ONE, GENERAL),
            (2, _, _, _) => $go!(2, 1, GENERAL, GENERAL),
            (_, 2, GENERAL, ONE_TWO_ONE) => $go!(1, 2, GENERAL, ONE_TWO_ONE),
            (_, 2, GENERAL, ONE_MINUS_TWO_ONE) => $go!(1, 2, GENERAL, ONE_MINUS_TWO_ONE),
            (_, 2, GENERAL, ONE_ZERO_MINUS_ONE) => $go!(1, 2, GENERAL, ONE_ZERO_MINUS_ONE),
            (_, 2, ONE_ZERO_MINUS_ONE, ONE_MINUS_TWO_ONE) => $go!(1, 2, ONE_ZERO_MINUS_ONE, ONE_MINUS_TWO_ONE),
            (_, 2, ONE_MINUS_TWO_ONE, ONE_MINUS_TWO_ONE) => $go!(1, 2, ONE_MINUS_TWO_ONE, ONE_MINUS_TWO_ONE),
            (_, 2, ONE_TWO_ONE, ONE_MINUS_TWO_ONE) => $go!(1, 2, ONE_TWO_ONE, ONE_MINUS_TWO_ONE),
            (_, 2, _, _) => $go!(1, 2, GENERAL, GENERAL),
            (_, _, ONE_MINUS_TWO_ONE, _) => $go!(1, 1, ONE_MINUS_TWO_ONE, GENERAL),
            (_, _, _, _) => $go!(1, 1, GENERAL, GENERAL),
        }
    };
}

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
    /// Numerator shape of each section (which multiplies are exact).
    shape: Vec<u8>,
    zi: Vec<[f32; 2]>,
    padlen: usize,
}

impl ZeroPhase {
    /// Prepares `sos` for `f32` block filtering.
    #[must_use]
    pub fn new(sos: &Sos) -> Self {
        #[allow(clippy::cast_possible_truncation)]
        let coef: Vec<Coef> = sos
            .sections
            .iter()
            .map(|s| Coef([s[0] as f32, s[1] as f32, s[2] as f32, s[4] as f32, s[5] as f32]))
            .collect();
        #[allow(clippy::cast_possible_truncation)]
        let zi = sos.zi().iter().map(|z| [z[0] as f32, z[1] as f32]).collect();
        let shape: Vec<u8> = coef.iter().map(|c: &Coef| shape(c.0)).collect();
        Self { coef, shape, zi, padlen: sos.padlen() }
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
        // Lane vectors are filtered in pairs and sections two at a time: four
        // independent recursions per row hide the latency of each, and their
        // states fit in registers. Every section starts from scipy's
        // steady-state `zi` scaled by the cascade's first input, as sosfilt.
        let first = if reverse { rows[rows.len() - 1] } else { rows[0] };
        let mut states = self.initial_states::<LANES, G>(&first);
        self.tiled(
            rows,
            reverse,
            |tile, k, g0, s, ns, z| {
                let c1 = self.coef[s].0;
                let c2 = if ns == 2 { self.coef[s + 1].0 } else { c1 };
                macro_rules! go {
                    ($k:literal, $ns:literal, $s1:expr, $s2:expr) => {
                        sections::<G, $k, $ns, { $s1 }, { $s2 }>(c1, c2, tile, g0, z, reverse)
                    };
                }
                by_shape!(k, ns, self.shape[s], if ns == 2 { self.shape[s + 1] } else { GENERAL }, go);
            },
            &mut states,
        );
    }

    /// Initial states of every (lane-vector pair, section pair) task, in the
    /// order [`Self::tiled`] visits them: scipy's `zi` times the first input.
    fn initial_states<const W: usize, const H: usize>(&self, first: &[[f32; W]; H]) -> Vec<[[[f32; W]; 2]; 4]> {
        let mut out = Vec::new();
        let mut g0 = 0;
        while g0 < H {
            let k = (H - g0).min(2);
            let mut s = 0;
            while s < self.coef.len() {
                let ns = (self.coef.len() - s).min(2);
                let mut z = [[[0f32; W]; 2]; 4];
                for j in 0..ns {
                    for g in 0..k {
                        for l in 0..W {
                            z[2 * j][g][l] = self.zi[s + j][0] * first[g0 + g][l];
                            z[2 * j + 1][g][l] = self.zi[s + j][1] * first[g0 + g][l];
                        }
                    }
                }
                out.push(z);
                s += ns;
            }
            g0 += k;
        }
        out
    }

    /// Runs every (lane-vector pair `g0..g0+k`, section pair `s..s+ns`) task
    /// over `rows` tile by tile (last tile first when `reverse`), so a tile
    /// stays in the L1 cache through all sections instead of the whole block
    /// streaming through memory once per section pair. Each task's state
    /// carries from tile to tile: the arithmetic, and so every value, is the
    /// same as running each task over all rows in turn.
    #[allow(clippy::type_complexity)]
    fn tiled<R, const W: usize>(
        &self,
        rows: &mut [R],
        reverse: bool,
        mut task: impl FnMut(&mut [R], usize, usize, usize, usize, &mut [[[f32; W]; 2]; 4]),
        states: &mut [[[[f32; W]; 2]; 4]],
    ) {
        let h = std::mem::size_of::<R>() / (W * 4);
        let tile = (TILE_BYTES / std::mem::size_of::<R>().max(1)).max(16);
        let n = rows.len();
        let n_tiles = n.div_ceil(tile);
        for t in 0..n_tiles {
            let t = if reverse { n_tiles - 1 - t } else { t };
            let rows = &mut rows[t * tile..((t + 1) * tile).min(n)];
            let mut i = 0;
            let mut g0 = 0;
            while g0 < h {
                let k = (h - g0).min(2);
                let mut s = 0;
                while s < self.coef.len() {
                    let ns = (self.coef.len() - s).min(2);
                    task(rows, k, g0, s, ns, &mut states[i]);
                    i += 1;
                    s += ns;
                }
                g0 += k;
            }
        }
    }
}

/// Bytes of rows filtered through all sections at a time (half the L1 data cache).
const TILE_BYTES: usize = 16 * 1024;

impl ZeroPhase {
    /// The same pass on 16-lane vectors (two adjacent 8-lane vectors each),
    /// for AVX-512: same per-lane arithmetic as the AVX2 + FMA path.
    fn pass16<const H: usize>(&self, rows: &mut [[[f32; 16]; H]], reverse: bool) {
        let first = if reverse { rows[rows.len() - 1] } else { rows[0] };
        let mut states = self.initial_states::<16, H>(&first);
        self.tiled(
            rows,
            reverse,
            |tile, k, g0, s, ns, z| {
                let c1 = self.coef[s].0;
                let c2 = if ns == 2 { self.coef[s + 1].0 } else { c1 };
                macro_rules! go {
                    ($k:literal, $ns:literal, $s1:expr, $s2:expr) => {
                        sections16::<H, $k, $ns, { $s1 }, { $s2 }>(c1, c2, tile, g0, z, reverse)
                    };
                }
                by_shape!(k, ns, self.shape[s], if ns == 2 { self.shape[s + 1] } else { GENERAL }, go);
            },
            &mut states,
        );
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
fn sections16<const H: usize, const K: usize, const NS: usize, const S1: u8, const S2: u8>(
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
            step2::<16, H, K, NS, true, S1, S2>(c1, c2, row, g0, &mut s);
        }
    } else {
        for row in rows.iter_mut() {
            step2::<16, H, K, NS, true, S1, S2>(c1, c2, row, g0, &mut s);
        }
    }
    *z = s;
}

/// Numerator shapes whose multiplies can be skipped without changing a bit:
/// a product by 1 or −1 is exact, `2·x` is `x + x` exactly, and a fused
/// `0·x + z` is `z`. Butterworth band-pass and high-pass designs have every
/// section but the first in one of these forms (zeros at z = ±1), so their
/// cascades run a fifth fewer operations, with additions on the adder ports.
const GENERAL: u8 = 0;
/// `b = [1, 2, 1]`.
const ONE_TWO_ONE: u8 = 1;
/// `b = [1, −2, 1]`.
const ONE_MINUS_TWO_ONE: u8 = 2;
/// `b = [1, 0, −1]`.
const ONE_ZERO_MINUS_ONE: u8 = 3;

fn shape(c: [f32; 5]) -> u8 {
    let b = (c[0], c[1], c[2]);
    if b == (1.0, 2.0, 1.0) {
        ONE_TWO_ONE
    } else if b == (1.0, -2.0, 1.0) {
        ONE_MINUS_TWO_ONE
    } else if b == (1.0, 0.0, -1.0) {
        ONE_ZERO_MINUS_ONE
    } else {
        GENERAL
    }
}

/// One transposed direct-form II section on `W` lanes. Every shape computes
/// the general form's values bit for bit (up to the sign of an exact zero).
#[inline(always)]
fn biquad<const W: usize, const FMA: bool, const S: u8>(
    c: [f32; 5],
    x: [f32; W],
    z0: &mut [f32; W],
    z1: &mut [f32; W],
) -> [f32; W] {
    let [b0, b1, b2, a1, a2] = c;
    // y = b0·x + z0; with b0 = 1 an addition (one rounding either way)
    let mut y = [0f32; W];
    for l in 0..W {
        y[l] = match S {
            GENERAL if FMA => b0.mul_add(x[l], z0[l]),
            GENERAL => b0 * x[l] + z0[l],
            _ => x[l] + z0[l],
        };
    }
    // t = b1·x + z1 and u = b2·x do not wait for y
    let mut t = [0f32; W];
    let mut u = [0f32; W];
    for l in 0..W {
        (t[l], u[l]) = match S {
            ONE_TWO_ONE => (z1[l] + (x[l] + x[l]), x[l]),
            ONE_MINUS_TWO_ONE => (z1[l] - (x[l] + x[l]), x[l]),
            ONE_ZERO_MINUS_ONE => (z1[l], -x[l]),
            _ if FMA => (b1.mul_add(x[l], z1[l]), b2 * x[l]),
            _ => (b1 * x[l] + z1[l], b2 * x[l]),
        };
    }
    if FMA {
        // fused multiply-adds (one rounding each): a two-operation chain per row
        for l in 0..W {
            z0[l] = (-a1).mul_add(y[l], t[l]);
            z1[l] = (-a2).mul_add(y[l], u[l]);
        }
    } else {
        // the loop-carried chain is add, multiply, subtract
        for l in 0..W {
            z0[l] = t[l] - a1 * y[l];
            z1[l] = u[l] - a2 * y[l];
        }
    }
    y
}

/// `NS` (1 or 2) cascaded sections on lane vectors `g0..g0+K` of one row.
#[inline(always)]
fn step2<
    const W: usize,
    const G: usize,
    const K: usize,
    const NS: usize,
    const FMA: bool,
    const S1: u8,
    const S2: u8,
>(
    c1: [f32; 5],
    c2: [f32; 5],
    row: &mut [[f32; W]; G],
    g0: usize,
    z: &mut [[[f32; W]; 2]; 4],
) {
    for g in 0..K {
        let [s0, s1, s2, s3] = z;
        let y = biquad::<W, FMA, S1>(c1, row[g0 + g], &mut s0[g], &mut s1[g]);
        row[g0 + g] = if NS == 2 { biquad::<W, FMA, S2>(c2, y, &mut s2[g], &mut s3[g]) } else { y };
    }
}

/// Two sections over all rows (backward when `reverse`). Compiled for AVX2
/// with FMA, AVX2 and the baseline (NEON on aarch64), chosen at run time. The
/// FMA path rounds once per multiply-add, so its values differ from the
/// others in the last bits; on one machine the result never depends on the
/// thread count.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+avx2", "aarch64+neon"))]
fn sections<const G: usize, const K: usize, const NS: usize, const S1: u8, const S2: u8>(
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
                for row in rows.iter_mut().rev() { step2::<LANES, G, K, NS, true, S1, S2>(c1, c2, row, g0, &mut s); }
            } else {
                for row in rows.iter_mut() { step2::<LANES, G, K, NS, true, S1, S2>(c1, c2, row, g0, &mut s); }
            }
        },
        _ => {
            if reverse {
                for row in rows.iter_mut().rev() { step2::<LANES, G, K, NS, false, S1, S2>(c1, c2, row, g0, &mut s); }
            } else {
                for row in rows.iter_mut() { step2::<LANES, G, K, NS, false, S1, S2>(c1, c2, row, g0, &mut s); }
            }
        },
    }
    *z = s;
}
