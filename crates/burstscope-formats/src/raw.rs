//! Interleaved raw binary recordings: a header of `offset_bytes`, then frames
//! of one sample per channel (`n_channels` values of `dtype`, little-endian),
//! as many acquisition systems and converters write them (Open Ephys's
//! `continuous.dat`, SpikeGLX's `.bin`, Intan's `amplifier.dat`, a lab's own
//! `.raw`). The layout is not in the file: it is given ([`RawParams`]).
//!
//! ```no_run
//! use burstscope_core::{BlockQuality, BlockSource};
//! use burstscope_formats::raw::{RawBinary, RawDtype, RawParams};
//! let p = RawParams { dtype: RawDtype::I16, n_channels: 4, rate_hz: 15_000.0, offset_bytes: 0, gain_uv: 0.195 };
//! let raw = RawBinary::open("trial.raw".as_ref(), p).unwrap();
//! let mut block = vec![0.0f32; 1000 * 4];
//! raw.read(0, 1000, 1.0, &[0, 1, 2, 3], 4, &mut block, 0..1000, &mut BlockQuality::default()).unwrap();
//! ```

use burstscope_core::{BlockQuality, BlockSource};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Errors reading a raw binary file.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    /// The file cannot be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The parameters do not describe the file.
    #[error("{}: {field}: {problem}", path.display())]
    Layout {
        /// The file.
        path: PathBuf,
        /// The parameter.
        field: &'static str,
        /// What is wrong and what was expected.
        problem: String,
    },
}

/// The sample type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawDtype {
    /// Signed 16-bit integers (most amplifiers).
    #[serde(rename = "int16")]
    I16,
    /// Unsigned 16-bit integers (Intan, offset 32768).
    #[serde(rename = "uint16")]
    U16,
    /// Signed 32-bit integers.
    #[serde(rename = "int32")]
    I32,
    /// 32-bit floats.
    #[serde(rename = "float32")]
    F32,
    /// 64-bit floats.
    #[serde(rename = "float64")]
    F64,
}

impl RawDtype {
    /// Bytes per sample.
    #[must_use]
    pub fn width(self) -> usize {
        match self {
            Self::I16 | Self::U16 => 2,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }

    /// The numpy-style name (`int16`, ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::I16 => "int16",
            Self::U16 => "uint16",
            Self::I32 => "int32",
            Self::F32 => "float32",
            Self::F64 => "float64",
        }
    }

    /// Parses a numpy-style name (`int16`, `i2`, `<i2`, `uint16`, `float32`, ...).
    ///
    /// # Errors
    /// The name, and the accepted ones.
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s.trim().trim_start_matches('<').to_ascii_lowercase().as_str() {
            "int16" | "i2" | "short" => Self::I16,
            "uint16" | "u2" => Self::U16,
            "int32" | "i4" => Self::I32,
            "float32" | "f4" | "float" => Self::F32,
            "float64" | "f8" | "double" => Self::F64,
            other => return Err(format!("'{other}': expected int16, uint16, int32, float32 or float64")),
        })
    }
}

/// How a raw file is laid out and scaled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParams {
    /// Sample type (little-endian).
    pub dtype: RawDtype,
    /// Channels per frame.
    pub n_channels: usize,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Bytes before the first frame.
    #[serde(default)]
    pub offset_bytes: u64,
    /// Microvolts per stored unit (uint16 values are centred on 32768 first).
    #[serde(default = "one")]
    pub gain_uv: f64,
}

fn one() -> f64 {
    1.0
}

impl RawParams {
    /// Checks the values.
    ///
    /// # Errors
    /// The field and what was expected.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.n_channels == 0 || self.n_channels > 65_536 {
            return Err(("n_channels", format!("{}: expected 1 to 65536 channels", self.n_channels)));
        }
        if !(self.rate_hz.is_finite() && self.rate_hz > 0.0) {
            return Err(("rate_hz", format!("{}: expected a positive sampling rate in Hz", self.rate_hz)));
        }
        if !(self.gain_uv.is_finite() && self.gain_uv != 0.0) {
            return Err(("gain_uv", format!("{}: expected a non-zero number of µV per unit", self.gain_uv)));
        }
        Ok(())
    }
}

/// An opened raw binary file.
#[derive(Debug)]
pub struct RawBinary {
    /// The file.
    pub path: PathBuf,
    /// Its layout.
    pub params: RawParams,
    /// Frames (samples per channel).
    pub n_samples: usize,
    /// Bytes after the last whole frame (a cut file), ignored.
    pub trailing_bytes: u64,
    file: File,
    /// Where the bytes read go to be hashed, when the file's identity is wanted.
    tap: Option<std::sync::Arc<burstscope_core::HashTap>>,
}

impl RawBinary {
    /// Opens `path` with the layout `params`.
    ///
    /// # Errors
    /// Invalid parameters, a file shorter than the header, no whole frame, or
    /// an unreadable file.
    pub fn open(path: &Path, params: RawParams) -> Result<Self, RawError> {
        params.validate().map_err(|(field, problem)| RawError::Layout { path: path.into(), field, problem })?;
        let file = File::open(path).map_err(|source| RawError::Io { path: path.into(), source })?;
        let size = file.metadata().map_err(|source| RawError::Io { path: path.into(), source })?.len();
        if size < params.offset_bytes {
            return Err(RawError::Layout {
                path: path.into(),
                field: "offset_bytes",
                problem: format!("{} bytes of header in a {size}-byte file", params.offset_bytes),
            });
        }
        let frame = (params.n_channels * params.dtype.width()) as u64;
        let body = size - params.offset_bytes;
        let n_samples = usize::try_from(body / frame).unwrap_or(usize::MAX);
        if n_samples == 0 {
            return Err(RawError::Layout {
                path: path.into(),
                field: "n_channels",
                problem: format!(
                    "{body} bytes of data hold no whole frame of {} × {} ({frame} bytes)",
                    params.n_channels,
                    params.dtype.name()
                ),
            });
        }
        let tap = burstscope_core::HashTap::of(&file);
        Ok(Self { path: path.into(), params, n_samples, trailing_bytes: body % frame, file, tap })
    }

    /// Reads frames `start..start + len` of all channels in stored units
    /// (time-major), as f64.
    ///
    /// # Errors
    /// Out of range or a read error.
    pub fn read_raw(&self, start: usize, len: usize) -> Result<Vec<f64>, RawError> {
        let bytes = self.read_bytes(start, len)?;
        let w = self.params.dtype.width();
        Ok(bytes.chunks_exact(w).map(|b| self.value(b)).collect())
    }

    fn read_bytes(&self, start: usize, len: usize) -> Result<Vec<u8>, RawError> {
        if start.checked_add(len).is_none_or(|e| e > self.n_samples) {
            return Err(RawError::Layout {
                path: self.path.clone(),
                field: "n_samples",
                problem: format!("frames {start}..{} requested of {}", start.saturating_add(len), self.n_samples),
            });
        }
        let frame = self.params.n_channels * self.params.dtype.width();
        let mut buf = vec![0u8; len * frame];
        let at = self.params.offset_bytes + (start * frame) as u64;
        self.file.read_exact_at(&mut buf, at).map_err(|source| RawError::Io { path: self.path.clone(), source })?;
        if let Some(t) = &self.tap {
            t.offer(at, &buf);
        }
        Ok(buf)
    }

    fn value(&self, b: &[u8]) -> f64 {
        match self.params.dtype {
            RawDtype::I16 => f64::from(i16::from_le_bytes([b[0], b[1]])),
            RawDtype::U16 => f64::from(u16::from_le_bytes([b[0], b[1]])),
            RawDtype::I32 => f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            RawDtype::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            RawDtype::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }

    /// Whether a stored value is at the type's limit (a saturated ADC).
    fn clipped(&self, b: &[u8]) -> bool {
        match self.params.dtype {
            RawDtype::I16 => matches!(i16::from_le_bytes([b[0], b[1]]), i16::MIN | i16::MAX),
            RawDtype::U16 => matches!(u16::from_le_bytes([b[0], b[1]]), 0 | u16::MAX),
            RawDtype::I32 => matches!(i32::from_le_bytes([b[0], b[1], b[2], b[3]]), i32::MIN | i32::MAX),
            RawDtype::F32 | RawDtype::F64 => false,
        }
    }
}

impl BlockSource for RawBinary {
    fn n_samples(&self) -> usize {
        self.n_samples
    }
    fn n_channels(&self) -> usize {
        self.params.n_channels
    }
    fn rate_hz(&self) -> f64 {
        self.params.rate_hz
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
        let nch = self.params.n_channels;
        quality.begin(&self.path.display(), nch, len, cols, stride, out.len())?;
        let bytes = self.read_bytes(start, len).map_err(|e| e.to_string())?;
        let w = self.params.dtype.width();
        let centre = if self.params.dtype == RawDtype::U16 { 32_768.0 } else { 0.0 };
        let factor = self.params.gain_uv * scale;
        for t in 0..len {
            let row = &bytes[t * nch * w..(t + 1) * nch * w];
            let o = &mut out[t * stride..(t + 1) * stride];
            o.fill(0.0);
            for (j, &c) in cols.iter().enumerate() {
                let b = &row[c * w..(c + 1) * w];
                let v = self.value(b);
                if !v.is_finite() {
                    quality.nonfinite_at(c, t, &count);
                    continue;
                }
                if self.clipped(b) {
                    quality.clip(c, t, &count);
                }
                #[allow(clippy::cast_possible_truncation)]
                {
                    o[j] = ((v - centre) * factor) as f32;
                }
            }
        }
        Ok(())
    }
    fn feeds_hash_tap(&self) -> bool {
        self.tap.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_interleaved_frames_scaled_and_flags_clipping() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.raw");
        let mut bytes = vec![0xAB; 8]; // a header
        for t in 0..100i16 {
            for c in 0..3i16 {
                let v = if t == 50 && c == 1 { i16::MAX } else { t * 10 + c };
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        bytes.push(7); // a cut last frame
        std::fs::write(&path, &bytes).unwrap();
        let p = RawParams { dtype: RawDtype::I16, n_channels: 3, rate_hz: 1000.0, offset_bytes: 8, gain_uv: 0.5 };
        let r = RawBinary::open(&path, p).unwrap();
        assert_eq!((r.n_samples, r.trailing_bytes), (100, 1));
        let mut out = vec![0.0f32; 10 * 4];
        let mut q = BlockQuality::default();
        r.read(45, 10, 2.0, &[2, 1], 4, &mut out, 0..10, &mut q).unwrap();
        assert_eq!(&out[..4], &[452.0, 451.0, 0.0, 0.0]);
        assert_eq!(q.clipped, vec![0, 1, 0]);
        assert!(q.bad_rows[5] && !q.bad_rows[4]);
        assert_eq!(r.read_raw(99, 1).unwrap(), vec![990.0, 991.0, 992.0]);
        assert!(r.read_raw(99, 2).is_err());
        // layouts that cannot be right are errors naming the field
        let e = RawBinary::open(&path, RawParams { offset_bytes: 1 << 20, ..p }).unwrap_err().to_string();
        assert!(e.contains("x.raw") && e.contains("offset_bytes"), "{e}");
        let e = RawBinary::open(&path, RawParams { n_channels: 0, ..p }).unwrap_err().to_string();
        assert!(e.contains("n_channels"), "{e}");
        assert!(RawDtype::parse("<i2").unwrap() == RawDtype::I16 && RawDtype::parse("int8").is_err());
    }
}
