//! Where continuous samples come from: a trait the I/O crate implements for
//! files and tests implement for arrays, so the detection crates stream
//! recordings without knowing about HDF5.

/// Bad samples found while reading a block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockQuality {
    /// Per source channel: integer samples at the type's minimum or maximum
    /// (the amplifier or ADC saturated), counted over the requested range.
    pub clipped: Vec<u64>,
    /// Per source channel: NaN or infinite samples (returned as 0), counted
    /// over the requested range.
    pub nonfinite: Vec<u64>,
    /// Per row read: true when any read channel was clipped or not finite.
    pub bad_rows: Vec<bool>,
}

impl BlockQuality {
    /// Starts a block of `len` rows from a source of `n_channels`: checks the
    /// request (`out` holds `len × stride` values, at most `stride` columns,
    /// each a channel of the source) and clears the counts.
    ///
    /// # Errors
    /// A request that does not fit, naming `source`.
    pub fn begin(
        &mut self,
        source: &dyn std::fmt::Display,
        n_channels: usize,
        len: usize,
        cols: &[usize],
        stride: usize,
        out_len: usize,
    ) -> Result<(), String> {
        if out_len != len * stride || cols.len() > stride || cols.iter().any(|&c| c >= n_channels) {
            return Err(format!("{source}: bad block request"));
        }
        self.clipped = vec![0; n_channels];
        self.nonfinite = vec![0; n_channels];
        self.bad_rows = vec![false; len];
        Ok(())
    }

    /// A clipped sample of channel `c` in row `t` (counted when `t` is in `count`).
    pub fn clip(&mut self, c: usize, t: usize, count: &std::ops::Range<usize>) {
        self.bad_rows[t] = true;
        if count.contains(&t) {
            self.clipped[c] += 1;
        }
    }

    /// A NaN or infinite sample of channel `c` in row `t` (counted when `t` is in `count`).
    pub fn nonfinite_at(&mut self, c: usize, t: usize, count: &std::ops::Range<usize>) {
        self.bad_rows[t] = true;
        if count.contains(&t) {
            self.nonfinite[c] += 1;
        }
    }
}

/// A multi-channel recording that can be read in blocks, in physical units.
pub trait BlockSource: Sync {
    /// Number of samples per channel.
    fn n_samples(&self) -> usize;
    /// Number of channels.
    fn n_channels(&self) -> usize;
    /// Sampling rate, Hz.
    fn rate_hz(&self) -> f64;
    /// Reads samples `start..start+len` into `out` (exactly `len × stride`
    /// values, time-major): value `j < cols.len()` of each row from source
    /// channel `cols[j]`, the rest 0, multiplied by `scale` after the source's
    /// own conversion to its physical unit. Bad samples are reported in
    /// `quality`; per-channel counts cover rows `count.start..count.end` of
    /// the block only (so overlapping reads do not count twice).
    ///
    /// # Errors
    /// A message naming the source and what failed.
    #[allow(clippy::too_many_arguments)]
    fn read(
        &self,
        start: usize,
        len: usize,
        scale: f64,
        cols: &[usize],
        stride: usize,
        out: &mut [f32],
        count: std::ops::Range<usize>,
        quality: &mut BlockQuality,
    ) -> Result<(), String>;

    /// Whether this source offers the file bytes it reads to the file's
    /// [`crate::HashTap`] (when one is wanted), so that the file's identity
    /// is best taken after the reading rather than beside it.
    fn feeds_hash_tap(&self) -> bool {
        false
    }
}

/// An in-memory time-major recording, for tests and small data.
///
/// ```
/// use burstscope_core::{ArraySource, BlockQuality, BlockSource};
/// let src = ArraySource { data: vec![1.0, 2.0, 3.0, 4.0, f32::NAN, 6.0], n_channels: 2, rate_hz: 10.0 };
/// let mut out = vec![0.0; 3 * 4];
/// let mut q = BlockQuality::default();
/// src.read(0, 3, 1.0, &[1, 0], 4, &mut out, 0..3, &mut q).unwrap();
/// assert_eq!(&out[..4], &[2.0, 1.0, 0.0, 0.0]);
/// assert_eq!(q.nonfinite, vec![1, 0]);
/// assert_eq!(q.bad_rows, vec![false, false, true]);
/// ```
#[derive(Debug, Clone)]
pub struct ArraySource {
    /// Samples, time-major.
    pub data: Vec<f32>,
    /// Channels per row.
    pub n_channels: usize,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
}

impl BlockSource for ArraySource {
    fn n_samples(&self) -> usize {
        self.data.len() / self.n_channels.max(1)
    }
    fn n_channels(&self) -> usize {
        self.n_channels
    }
    fn rate_hz(&self) -> f64 {
        self.rate_hz
    }
    fn read(
        &self,
        start: usize,
        len: usize,
        scale: f64,
        cols: &[usize],
        stride: usize,
        out: &mut [f32],
        count: std::ops::Range<usize>,
        quality: &mut BlockQuality,
    ) -> Result<(), String> {
        if start + len > self.n_samples() {
            return Err(format!("bad read {start}+{len} of {} samples", self.n_samples()));
        }
        quality.begin(&"array", self.n_channels, len, cols, stride, out.len())?;
        #[allow(clippy::cast_possible_truncation)]
        let scale = scale as f32;
        for t in 0..len {
            let row = &self.data[(start + t) * self.n_channels..(start + t + 1) * self.n_channels];
            let o = &mut out[t * stride..(t + 1) * stride];
            o.fill(0.0);
            for (j, &c) in cols.iter().enumerate() {
                let v = row[c];
                if v.is_finite() {
                    o[j] = v * scale;
                } else {
                    quality.nonfinite_at(c, t, &count);
                }
            }
        }
        Ok(())
    }
}
