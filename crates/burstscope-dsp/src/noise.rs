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

/// Robust σ of `values` (reorders and overwrites them). `None` when empty.
///
/// ```
/// let mut v = vec![1.0f32, -1.0, 2.0, -2.0, 0.0];
/// let s = burstscope_dsp::mad_sigma(&mut v).unwrap();
/// assert!((s - 1.0 / burstscope_dsp::MAD_TO_SIGMA).abs() < 1e-12);
/// ```
pub fn mad_sigma(values: &mut [f32]) -> Option<f64> {
    let m = median_in_place(values)?;
    #[allow(clippy::cast_possible_truncation)]
    for x in values.iter_mut() {
        *x = (f64::from(*x) - m).abs() as f32;
    }
    median_in_place(values).map(|d| d / MAD_TO_SIGMA)
}

/// `n_chunks` start positions of chunks of `chunk_len` samples in a recording
/// of `n_samples`, drawn from `seed` (SplitMix64), sorted. Short recordings
/// give fewer chunks (at least one, clipped to the recording).
#[must_use]
pub fn noise_chunk_starts(n_samples: usize, chunk_len: usize, n_chunks: usize, seed: u64) -> Vec<(usize, usize)> {
    if n_samples == 0 || n_chunks == 0 {
        return Vec::new();
    }
    if n_samples <= chunk_len {
        return vec![(0, n_samples)];
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
