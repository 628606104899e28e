//! Robust noise: σ = median(|x − median(x)|) / 0.6744897501960817 per
//! channel, averaged over chunks at seeded positions (SpikeInterface's
//! `get_noise_levels(method="mad")`, made deterministic).

/// The MAD-to-σ factor for Gaussian noise (`scipy.stats.norm.ppf(0.75)`).
pub const MAD_TO_SIGMA: f64 = 0.674_489_750_196_081_7;

/// Median as numpy computes it (mean of the two central values for even
/// lengths). Reorders `v`. `None` when empty.
pub fn median_in_place(v: &mut [f32]) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let (_, hi, _) = v.select_nth_unstable_by(n / 2, f32::total_cmp);
    let hi = f64::from(*hi);
    if n % 2 == 1 {
        return Some(hi);
    }
    let lo = v[..n / 2].iter().copied().fold(f32::NEG_INFINITY, f32::max);
    Some((f64::from(lo) + hi) / 2.0)
}

/// Order-preserving integer key of a float (total order, NaN last).
#[inline]
fn key(x: f32) -> u32 {
    let b = x.to_bits();
    if b & 0x8000_0000 != 0 { !b } else { b | 0x8000_0000 }
}

#[inline]
fn unkey(k: u32) -> f32 {
    f32::from_bits(if k & 0x8000_0000 != 0 { k & 0x7fff_ffff } else { !k })
}

/// Median of `v` by integer selection on order-preserving keys (the same
/// value as [`median_in_place`], several times faster). `scratch` is reused.
fn median_keys(v: &[f32], scratch: &mut Vec<u32>) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    scratch.clear();
    scratch.extend(v.iter().map(|&x| key(x)));
    let (lo_part, hi, _) = scratch.select_nth_unstable(n / 2);
    let hi = f64::from(unkey(*hi));
    if n % 2 == 1 {
        return Some(hi);
    }
    let lo = lo_part.iter().copied().max().map_or(hi, |k| f64::from(unkey(k)));
    Some((lo + hi) / 2.0)
}

/// Robust σ of `values` (reorders and overwrites them). `None` when empty.
///
/// ```
/// let mut v = vec![1.0f32, -1.0, 2.0, -2.0, 0.0];
/// let s = burstscope_dsp::mad_sigma(&mut v).unwrap();
/// assert!((s - 1.0 / burstscope_dsp::MAD_TO_SIGMA).abs() < 1e-12);
/// ```
pub fn mad_sigma(values: &mut [f32]) -> Option<f64> {
    let mut keys = Vec::with_capacity(values.len());
    let m = median_keys(values, &mut keys)?;
    #[allow(clippy::cast_possible_truncation)]
    for x in values.iter_mut() {
        *x = (f64::from(*x) - m).abs() as f32;
    }
    median_keys(values, &mut keys).map(|d| d / MAD_TO_SIGMA)
}

/// `(start, length)` of the chunks the noise is estimated on: `n_chunks`
/// chunks of `chunk_len` samples at positions drawn from `seed`
/// (SplitMix64), sorted. A recording no longer than those chunks would
/// sample (`n_chunks × chunk_len ≥ n_samples`) is instead tiled by equal,
/// non-overlapping chunks of about `chunk_len` covering every sample once:
/// random chunks would overlap and count some stretches several times and
/// others not at all (on a 3.3 s recording, 20 random half-second chunks put
/// the estimate 2–4 % off the whole recording's).
///
/// ```
/// use burstscope_dsp::noise_chunk_starts;
/// // 3.3 s at 40 kHz: tiled by 7 chunks of 18 857 samples (the last has 2 more)
/// let c = noise_chunk_starts(132_000, 20_000, 20, 0);
/// assert_eq!(c.len(), 7);
/// assert_eq!(c.iter().map(|x| x.1).sum::<usize>(), 132_000);
/// // 300 s: 20 chunks at seeded positions
/// assert_eq!(noise_chunk_starts(9_000_000, 15_000, 20, 0).len(), 20);
/// ```
#[must_use]
pub fn noise_chunk_starts(n_samples: usize, chunk_len: usize, n_chunks: usize, seed: u64) -> Vec<(usize, usize)> {
    if n_samples == 0 || n_chunks == 0 {
        return Vec::new();
    }
    if n_samples <= chunk_len {
        return vec![(0, n_samples)];
    }
    if n_chunks.saturating_mul(chunk_len) >= n_samples {
        let tiles = n_samples.div_ceil(chunk_len.max(1));
        let len = n_samples / tiles;
        return (0..tiles).map(|k| (k * len, if k + 1 == tiles { n_samples - k * len } else { len })).collect();
    }
    let span = (n_samples - chunk_len) as u64 + 1;
    let mut x = seed;
    let mut out: Vec<(usize, usize)> = (0..n_chunks)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            #[allow(clippy::cast_possible_truncation)]
            let start = (z % span) as usize;
            (start, chunk_len)
        })
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_key_median_equals_float_median() {
        let mut x = 12345u32;
        for n in [1usize, 2, 3, 10, 101, 1000] {
            let v: Vec<f32> = (0..n)
                .map(|_| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (x >> 8) as f32 / 1000.0 - 8000.0
                })
                .collect();
            let mut a = v.clone();
            let mut k = Vec::new();
            assert_eq!(median_keys(&v, &mut k), median_in_place(&mut a), "n = {n}");
        }
        assert_eq!(unkey(key(-0.5)), -0.5);
        assert!(key(-1.0) < key(-0.5) && key(-0.5) < key(0.0) && key(0.0) < key(2.0));
    }
}
