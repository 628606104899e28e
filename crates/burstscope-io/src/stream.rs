//! Streaming a continuous series in blocks of (time × channel), in physical
//! units, without loading the whole dataset: memory is bounded by the block.

use crate::error::Result;
use crate::h5util::Ctx;
use burstscope_core::SeriesInfo;
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
trait Sample: hdf5::H5Type + Copy {
    fn to_f64(self) -> f64;
}
macro_rules! impl_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            #[inline]
            fn to_f64(self) -> f64 { self as f64 }
        }
    )*};
}
impl_sample!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl SeriesReader {
    pub(crate) fn new(ctx: Ctx, ds: Dataset, path: String, info: SeriesInfo, channel_major: bool) -> Result<Self> {
        let dtype = ctx.descriptor(&ds, &path)?;
        let gains = (0..info.n_channels)
            .map(|ch| info.conversion * info.channel_conversion.as_ref().map_or(1.0, |c| c[ch]))
            .collect();
        Ok(Self { ctx, ds, path, info, channel_major, dtype, gains })
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
        if start + len > self.info.n_samples {
            return Err(self.ctx.invalid(
                &self.path,
                format!("block {start}..{} outside the series (0..{})", start + len, self.info.n_samples),
            ));
        }
        dispatch_read!(self, self.dtype.clone(), read_typed, start, len, scale, out)
    }

    fn read_typed<T: Sample>(&self, start: usize, len: usize, scale: f64, out: &mut Vec<f32>) -> Result<()> {
        let n_ch = self.info.n_channels;
        out.clear();
        out.resize(len * n_ch, 0.0);
        if len == 0 {
            return Ok(());
        }
        let err = |e| self.ctx.h5err(&self.path, e);
        let offset = self.info.offset * scale;
        let gains: Vec<f64> = self.gains.iter().map(|g| g * scale).collect();
        if self.ds.ndim() == 1 {
            let a = self.ds.read_slice_1d::<T, _>(s![start..start + len]).map_err(err)?;
            #[allow(clippy::cast_possible_truncation)]
            for (o, v) in out.iter_mut().zip(a.iter()) {
                *o = (v.to_f64() * gains[0] + offset) as f32;
            }
        } else if self.channel_major {
            let a = self.ds.read_slice_2d::<T, _>(s![.., start..start + len]).map_err(err)?;
            for (ch, row) in a.outer_iter().enumerate() {
                let g = gains[ch];
                #[allow(clippy::cast_possible_truncation)]
                for (t, v) in row.iter().enumerate() {
                    out[t * n_ch + ch] = (v.to_f64() * g + offset) as f32;
                }
            }
        } else {
            let a = self.ds.read_slice_2d::<T, _>(s![start..start + len, ..]).map_err(err)?;
            let raw = a.as_slice().ok_or_else(|| self.ctx.invalid(&self.path, "non-contiguous read"))?;
            for (orow, irow) in out.chunks_exact_mut(n_ch).zip(raw.chunks_exact(n_ch)) {
                #[allow(clippy::cast_possible_truncation)]
                for ((o, v), g) in orow.iter_mut().zip(irow).zip(&gains) {
                    *o = (v.to_f64() * g + offset) as f32;
                }
            }
        }
        Ok(())
    }
}
