//! Streaming a continuous series in blocks of (time × channel), in physical
//! units, without loading the whole dataset: memory is bounded by the block.

use crate::direct::DirectIndex;
use crate::error::{IoError, Result};
use crate::h5util::Ctx;
use burstscope_core::{BlockQuality, BlockSource, SeriesInfo};
use hdf5::Dataset;
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use ndarray::s;

/// Reads blocks of a series. Values are `(stored × conversion ×
/// channel_conversion[ch] + offset) × scale`, time-major (sample, channel).
///
/// ```no_run
/// # use burstscope_io::Recording;
/// let rec = Recording::open("session.nwb".as_ref())?;
/// let series = rec.series_named(None)?;
/// let reader = rec.stream(&series)?;
/// let mut block = Vec::new();
/// for (start, len) in reader.block_ranges(30_000) {
///     reader.read_block(start, len, 1e6, &mut block)?; // microvolts
///     assert_eq!(block.len(), len * series.n_channels);
/// }
/// # Ok::<(), burstscope_io::IoError>(())
/// ```
#[derive(Debug)]
pub struct SeriesReader {
    ctx: Ctx,
    ds: Dataset,
    path: String,
    info: SeriesInfo,
    channel_major: bool,
    dtype: TypeDescriptor,
    gains: Vec<f64>,
    /// Lock-free positioned reads when the layout allows (see `direct`).
    direct: Option<DirectIndex>,
}

macro_rules! dispatch_read {
    ($self:ident, $td:expr, $f:ident, $($arg:expr),*) => {
        match $td {
            TypeDescriptor::Integer(IntSize::U1) => $self.$f::<i8>($($arg),*),
            TypeDescriptor::Integer(IntSize::U2) => $self.$f::<i16>($($arg),*),
            TypeDescriptor::Integer(IntSize::U4) => $self.$f::<i32>($($arg),*),
            TypeDescriptor::Integer(IntSize::U8) => $self.$f::<i64>($($arg),*),
            TypeDescriptor::Unsigned(IntSize::U1) => $self.$f::<u8>($($arg),*),
            TypeDescriptor::Unsigned(IntSize::U2) => $self.$f::<u16>($($arg),*),
            TypeDescriptor::Unsigned(IntSize::U4) => $self.$f::<u32>($($arg),*),
            TypeDescriptor::Unsigned(IntSize::U8) => $self.$f::<u64>($($arg),*),
            TypeDescriptor::Float(FloatSize::U4) => $self.$f::<f32>($($arg),*),
            _ => $self.$f::<f64>($($arg),*),
        }
    };
}

/// Stored element types that convert to `f64` for scaling.
trait Sample: hdf5::H5Type + Copy + Default + bytemuck::Pod {
    /// From little-endian bytes (exactly `size_of::<Self>()`).
    fn from_le(b: &[u8]) -> Self;
    fn to_f64(self) -> f64;
    fn to_f32(self) -> f32;
    /// At the type's limit (integer rails: the ADC saturated) or not finite.
    fn is_bad(self) -> bool;
}
macro_rules! impl_int_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            #[inline]
            fn from_le(b: &[u8]) -> Self { <$t>::from_le_bytes(b.try_into().unwrap_or_default()) }
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            #[inline]
            fn to_f64(self) -> f64 { self as f64 }
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            #[inline]
            fn to_f32(self) -> f32 { self as f32 }
            #[inline]
            fn is_bad(self) -> bool { self == <$t>::MIN || self == <$t>::MAX }
        }
    )*};
}
impl_int_sample!(i8, i16, i32, i64, u8, u16, u32, u64);
impl Sample for f32 {
    fn from_le(b: &[u8]) -> Self {
        f32::from_le_bytes(b.try_into().unwrap_or_default())
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn to_f32(self) -> f32 {
        self
    }
    fn is_bad(self) -> bool {
        !self.is_finite()
    }
}
impl Sample for f64 {
    fn from_le(b: &[u8]) -> Self {
        f64::from_le_bytes(b.try_into().unwrap_or_default())
    }
    fn to_f64(self) -> f64 {
        self
    }
    #[allow(clippy::cast_possible_truncation)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn is_bad(self) -> bool {
        !self.is_finite()
    }
}

impl SeriesReader {
    pub(crate) fn new(ctx: Ctx, ds: Dataset, path: String, info: SeriesInfo, channel_major: bool) -> Result<Self> {
        let dtype = ctx.descriptor(&ds, &path)?;
        let gains = (0..info.n_channels)
            .map(|ch| info.conversion * info.channel_conversion.as_ref().map_or(1.0, |c| c[ch]))
            .collect();
        let elem = match &dtype {
            TypeDescriptor::Integer(s) | TypeDescriptor::Unsigned(s) => *s as usize,
            TypeDescriptor::Float(FloatSize::U4) => 4,
            TypeDescriptor::Float(FloatSize::U8) => 8,
            _ => 0,
        };
        let cols = if ds.ndim() == 1 { 1 } else { info.n_channels };
        // BURSTSCOPE_HDF5_READS=1 forces the HDF5 library path (comparisons, benchmarks).
        let forced = std::env::var_os("BURSTSCOPE_HDF5_READS").is_some_and(|v| v == "1");
        let direct =
            if channel_major || forced { None } else { DirectIndex::new(&ctx.file, &ds, info.n_samples, cols, elem) };
        tracing::debug!("{path}: direct reads {}", if direct.is_some() { "on" } else { "off (HDF5 library)" });
        Ok(Self { ctx, ds, path, info, channel_major, dtype, gains, direct })
    }

    /// True when blocks are read directly (positioned reads, parallel) rather
    /// than through the HDF5 library.
    #[must_use]
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// The same reader without direct reads: every block through the HDF5
    /// library (for comparisons and benchmarks).
    #[must_use]
    pub fn through_hdf5(mut self) -> Self {
        self.direct = None;
        self
    }

    /// The series being read.
    #[must_use]
    pub fn info(&self) -> &SeriesInfo {
        &self.info
    }

    /// The dataset's chunk length along time, when chunked (reads aligned to
    /// it avoid decompressing chunks twice).
    #[must_use]
    pub fn time_chunk(&self) -> Option<usize> {
        let c = self.ds.chunk()?;
        if self.channel_major && c.len() == 2 { c.get(1).copied() } else { c.first().copied() }
    }

    /// `(start, len)` of consecutive blocks of `block_samples` covering the series.
    #[must_use]
    pub fn block_ranges(&self, block_samples: usize) -> Vec<(usize, usize)> {
        let b = block_samples.max(1);
        let n = self.info.n_samples;
        (0..n.div_ceil(b)).map(|i| (i * b, b.min(n - i * b))).collect()
    }

    /// Reads samples `start..start+len` of every channel into `out`
    /// (time-major, `len × n_channels`), multiplied by `scale` after the
    /// file's own conversion (e.g. `1e6` for microvolts from volts).
    ///
    /// # Errors
    /// Range outside the series or an HDF5 read error.
    pub fn read_block(&self, start: usize, len: usize, scale: f64, out: &mut Vec<f32>) -> Result<()> {
        let n_ch = self.info.n_channels;
        let cols: Vec<usize> = (0..n_ch).collect();
        out.clear();
        out.resize(len * n_ch, 0.0);
        self.read_block_into(start, len, scale, &cols, n_ch, out, 0..0, &mut BlockQuality::default())
    }

    /// Reads samples `start..start+len` into a padded layout: row `t` of `out`
    /// holds `stride` values, value `j < cols.len()` from source channel
    /// `cols[j]`, the rest 0; values are in the file's unit × `scale`.
    /// Clipped and non-finite samples are counted in `quality` (non-finite
    /// values become 0).
    ///
    /// # Errors
    /// Range outside the series, a column beyond the channel count, or an HDF5 read error.
    #[allow(clippy::too_many_arguments)]
    pub fn read_block_into(
        &self,
        start: usize,
        len: usize,
        scale: f64,
        cols: &[usize],
        stride: usize,
        out: &mut [f32],
        count: std::ops::Range<usize>,
        quality: &mut BlockQuality,
    ) -> Result<()> {
        let _watch = self.direct.is_none().then(|| {
            crate::watchdog::guard(|| format!("{}: reading {len} samples of {}", self.ctx.file.display(), self.path))
        });
        if out.len() != len * stride {
            return Err(self
                .ctx
                .invalid(&self.path, format!("output of {} values for {len} rows of {stride}", out.len())));
        }
        if start + len > self.info.n_samples {
            return Err(self.ctx.invalid(
                &self.path,
                format!("block {start}..{} outside the series (0..{})", start + len, self.info.n_samples),
            ));
        }
        if cols.len() > stride || cols.iter().any(|&c| c >= self.info.n_channels) {
            return Err(self
                .ctx
                .invalid(&self.path, format!("columns {cols:?} do not fit {} channels", self.info.n_channels)));
        }
        dispatch_read!(self, self.dtype.clone(), read_into_typed, start, len, scale, cols, stride, out, count, quality)
    }

    #[allow(clippy::too_many_arguments)]
    fn read_into_typed<T: Sample>(
        &self,
        start: usize,
        len: usize,
        scale: f64,
        cols: &[usize],
        stride: usize,
        out: &mut [f32],
        count: std::ops::Range<usize>,
        quality: &mut BlockQuality,
    ) -> Result<()> {
        let n_ch = self.info.n_channels;
        let identity = cols.iter().enumerate().all(|(j, &c)| j == c) && cols.len() == n_ch;
        if !(identity && stride == n_ch) {
            out.fill(0.0); // padding columns
        }
        quality.clipped.clear();
        quality.clipped.resize(n_ch, 0);
        quality.nonfinite.clear();
        quality.nonfinite.resize(n_ch, 0);
        quality.bad_rows.clear();
        quality.bad_rows.resize(len, false);
        if len == 0 {
            return Ok(());
        }
        #[allow(clippy::cast_possible_truncation)]
        let gains: Vec<f32> = cols.iter().map(|&c| (self.gains[c] * scale) as f32).collect();
        #[allow(clippy::cast_possible_truncation)]
        let conv = Convert { cols, identity, gains, offset: (self.info.offset * scale) as f32, n_ch, stride };
        let err = |e| self.ctx.h5err(&self.path, e);
        let sz = std::mem::size_of::<T>();
        let row_bytes = n_ch * sz;
        if let Some(d) = &self.direct {
            // Piece by piece straight from the file's bytes into `out`.
            let mut owned: Vec<T> = Vec::new();
            d.read_rows(start, start + len, |r0, bytes| {
                let t0 = r0 - start;
                let rows = bytes.len() / row_bytes;
                let vals: &[T] = match bytemuck::try_cast_slice::<u8, T>(bytes) {
                    Ok(v) if cfg!(target_endian = "little") => v,
                    _ => {
                        owned.clear();
                        owned.extend(bytes.chunks_exact(sz).map(T::from_le));
                        &owned
                    }
                };
                conv.rows(vals, &mut out[t0 * stride..(t0 + rows) * stride], t0, &count, quality);
            })
            .map_err(|e| IoError::Os { file: self.ctx.file.clone(), source: e })?;
            return Ok(());
        }
        // Time-major raw values, n_ch per row.
        let raw: Vec<T> = if self.ds.ndim() == 1 {
            self.ds.read_slice_1d::<T, _>(s![start..start + len]).map_err(err)?.into_raw_vec_and_offset().0
        } else if self.channel_major {
            let a = self.ds.read_slice_2d::<T, _>(s![.., start..start + len]).map_err(err)?;
            a.t().as_standard_layout().into_owned().into_raw_vec_and_offset().0
        } else {
            // A fresh read is in standard (row-major) layout: take its buffer as is.
            self.ds.read_slice_2d::<T, _>(s![start..start + len, ..]).map_err(err)?.into_raw_vec_and_offset().0
        };
        conv.rows(&raw, out, 0, &count, quality);
        Ok(())
    }
}

/// Scaling of stored values into a padded, time-major `f32` layout.
struct Convert<'a> {
    cols: &'a [usize],
    identity: bool,
    gains: Vec<f32>,
    offset: f32,
    n_ch: usize,
    stride: usize,
}

impl Convert<'_> {
    /// Converts whole rows `raw` (n_ch values each) into `out` rows; `t0` is
    /// the block row of the first one (for `count` and `bad_rows`).
    fn rows<T: Sample>(
        &self,
        raw: &[T],
        out: &mut [f32],
        t0: usize,
        count: &std::ops::Range<usize>,
        quality: &mut BlockQuality,
    ) {
        let (cols, gains, offset) = (self.cols, &self.gains, self.offset);
        let bad_rows = if self.identity {
            scale_rows(raw, out, self.n_ch, self.stride, gains, offset)
        } else {
            for (orow, irow) in out.chunks_exact_mut(self.stride).zip(raw.chunks_exact(self.n_ch)) {
                for (j, &c) in cols.iter().enumerate() {
                    orow[j] = irow[c].to_f32() * gains[j] + offset;
                }
            }
            raw.chunks_exact(self.n_ch).any(|irow| cols.iter().any(|&c| irow[c].is_bad()))
        };
        if !bad_rows {
            return;
        }
        for (k, (orow, irow)) in out.chunks_exact_mut(self.stride).zip(raw.chunks_exact(self.n_ch)).enumerate() {
            let t = t0 + k;
            if cols.iter().any(|&c| irow[c].is_bad()) {
                quality.bad_rows[t] = true;
                for (j, &c) in cols.iter().enumerate() {
                    let v = irow[c];
                    if v.is_bad() {
                        let counted = count.contains(&t);
                        if v.to_f64().is_finite() {
                            quality.clipped[c] += u64::from(counted);
                        } else {
                            quality.nonfinite[c] += u64::from(counted);
                            orow[j] = 0.0;
                        }
                    }
                }
            }
        }
    }
}

/// Scales whole rows into `out` (identity column map) and reports whether any
/// sample was clipped or not finite. Compiled for AVX-512, AVX2 and the
/// baseline, chosen at run time. Common channel counts get a loop with the
/// row length known at compile time (no per-row loop set-up or remainder),
/// and the rails are checked in one pass over the whole block, so that the
/// check reduces across lanes once, not once per row.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2", "aarch64+neon"))]
fn scale_rows<T: Sample>(raw: &[T], out: &mut [f32], n_ch: usize, stride: usize, gains: &[f32], offset: f32) -> bool {
    #[inline(always)]
    fn row<T: Sample>(o: &mut [f32], v: &[T], gains: &[f32], offset: f32) {
        for ((o, v), g) in o.iter_mut().zip(v).zip(gains) {
            *o = v.to_f32() * g + offset;
        }
    }
    #[inline(always)]
    fn fixed<T: Sample, const N: usize>(raw: &[T], out: &mut [f32], stride: usize, gains: &[f32], offset: f32) {
        for (orow, irow) in out.chunks_exact_mut(stride).zip(raw.as_chunks::<N>().0) {
            row(&mut orow[..N], irow, &gains[..N], offset);
        }
    }
    let whole = gains.len() >= n_ch && stride >= n_ch;
    match n_ch {
        4 if whole => fixed::<T, 4>(raw, out, stride, gains, offset),
        8 if whole => fixed::<T, 8>(raw, out, stride, gains, offset),
        16 if whole => fixed::<T, 16>(raw, out, stride, gains, offset),
        32 if whole => fixed::<T, 32>(raw, out, stride, gains, offset),
        64 if whole => fixed::<T, 64>(raw, out, stride, gains, offset),
        _ => {
            for (orow, irow) in out.chunks_exact_mut(stride).zip(raw.chunks_exact(n_ch)) {
                row(orow, irow, gains, offset);
            }
        }
    }
    let rows = (out.len() / stride.max(1)).min(raw.len() / n_ch.max(1));
    raw[..rows * n_ch].iter().fold(false, |a, v| a | v.is_bad())
}

impl BlockSource for SeriesReader {
    fn n_samples(&self) -> usize {
        self.info.n_samples
    }
    fn n_channels(&self) -> usize {
        self.info.n_channels
    }
    fn rate_hz(&self) -> f64 {
        self.info.rate_hz
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
    ) -> std::result::Result<(), String> {
        self.read_block_into(start, len, scale, cols, stride, out, count, quality).map_err(|e| e.to_string())
    }
    fn feeds_hash_tap(&self) -> bool {
        self.direct.as_ref().is_some_and(DirectIndex::feeds_hash_tap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-width loops and the general one give the per-value
    /// reference `v · gain + offset` in every row's first `n_ch` slots, leave
    /// the padding alone, and report a rail anywhere in the block.
    #[test]
    fn scaled_rows_equal_the_per_value_formula_for_every_width() {
        for n_ch in [1usize, 3, 4, 8, 16, 32, 33, 64] {
            for pad in [0usize, 5] {
                let stride = n_ch + pad;
                let rows = 37;
                let raw: Vec<i16> =
                    (0..rows * n_ch).map(|i| i16::try_from((i * 7919) % 60_000).unwrap_or(0) - 30_000 + 1).collect();
                let gains: Vec<f32> = (0..n_ch).map(|j| 0.195 + j as f32 * 0.01).collect();
                let mut out = vec![-7.0f32; rows * stride];
                assert!(!scale_rows(&raw, &mut out, n_ch, stride, &gains, 2.5), "no rail in {n_ch}");
                for t in 0..rows {
                    for j in 0..stride {
                        let want = if j < n_ch { f32::from(raw[t * n_ch + j]) * gains[j] + 2.5 } else { -7.0 };
                        assert_eq!(out[t * stride + j].to_bits(), want.to_bits(), "n_ch {n_ch} row {t} col {j}");
                    }
                }
                for rail in [i16::MIN, i16::MAX] {
                    let mut r = raw.clone();
                    r[rows * n_ch - 1] = rail;
                    assert!(scale_rows(&r, &mut out, n_ch, stride, &gains, 0.0), "{rail} in the last value, {n_ch}");
                }
            }
        }
        let mut x = vec![0.5f32; 64];
        x[40] = f32::NAN;
        assert!(scale_rows(&x, &mut vec![0.0; 64], 32, 32, &[1.0; 32], 0.0));
    }
}
