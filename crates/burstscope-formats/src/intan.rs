//! Intan RHD2000 recordings in the traditional single-file format
//! (`.rhd`: the header, then the data), written from Intan's description
//! of the format (RHD2000 application note, "Data file formats").
//!
//! The header: magic number `0xC6912702`, version, sampling rate, the
//! amplifier's filter settings, notch mode, impedance test frequencies,
//! three notes (Qt strings: a uint32 byte count, `0xFFFFFFFF` for none, then
//! UTF-16), from version 1.1 the number of temperature sensors, from 1.3
//! the evaluation board mode, from 2.0 the reference channel; then the
//! signal groups (name, prefix, enabled, channel count, amplifier count),
//! each enabled group followed by its channels (names, orders, signal type,
//! enabled, chip channel, stream, spike-scope settings, impedance).
//!
//! The data: blocks of 60 samples (128 from version 2.0), each the
//! timestamps (int32; uint32 before 1.2), every enabled amplifier channel
//! (uint16, 0.195 µV per count from 32768), the auxiliary inputs at a
//! quarter of the rate, one supply-voltage sample per channel, one
//! temperature sample per sensor, the board ADC channels, and one digital
//! input and one digital output word per sample when any such channel is
//! enabled. [`Rhd`] is a [`BlockSource`] of the amplifier channels in µV.

use burstscope_core::{BlockQuality, BlockSource};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// µV per amplifier count.
pub const AMPLIFIER_UV_PER_BIT: f64 = 0.195;
const MAGIC: u32 = 0xC691_2702;

/// Why an RHD file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum IntanError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The header does not hold what the format says.
    #[error("{}: {field}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The header field.
        field: String,
        /// What was found and what was expected.
        problem: String,
    },
}

/// An enabled amplifier channel.
#[derive(Debug, Clone, PartialEq)]
pub struct RhdChannel {
    /// Native name (`A-000`).
    pub native_name: String,
    /// The name the user gave it.
    pub custom_name: String,
    /// Electrode impedance magnitude at the test frequency (Ω).
    pub impedance_ohm: f32,
}

/// An opened `.rhd` file.
#[derive(Debug)]
pub struct Rhd {
    /// The file.
    pub path: PathBuf,
    /// Format version (major, minor).
    pub version: (i16, i16),
    /// Sampling rate of the amplifier channels (Hz).
    pub rate_hz: f64,
    /// Notch filter mode (0 none, 1 50 Hz, 2 60 Hz).
    pub notch_mode: i16,
    /// The notes.
    pub notes: Vec<String>,
    /// The enabled amplifier channels, in file order.
    pub channels: Vec<RhdChannel>,
    /// Samples per data block.
    pub block_samples: usize,
    /// Whole data blocks.
    pub n_blocks: usize,
    /// The first sample's timestamp (samples on the board's clock).
    pub first_timestamp: i64,
    /// Odd values.
    pub warnings: Vec<String>,
    header_bytes: u64,
    block_bytes: usize,
    file: File,
    /// Where the bytes read go to be hashed, when the file's identity is wanted.
    tap: Option<std::sync::Arc<burstscope_core::HashTap>>,
}

/// A cursor over the header bytes.
struct Cur<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cur<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|s| i16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f32(&mut self) -> Option<f32> {
        self.u32().map(f32::from_bits)
    }
    fn qstring(&mut self) -> Option<String> {
        let n = self.u32()?;
        if n == 0xFFFF_FFFF {
            return Some(String::new());
        }
        let s = self.take(n as usize)?;
        let units: Vec<u16> = s.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        Some(String::from_utf16_lossy(&units))
    }
}

impl Rhd {
    /// Opens an `.rhd` file: the header and the data block layout.
    ///
    /// # Errors
    /// Not an RHD file (magic number), a header that ends early or holds
    /// impossible counts, no whole data block, or an unreadable file.
    #[allow(clippy::too_many_lines)]
    pub fn open(path: &Path) -> Result<Self, IntanError> {
        let io = |source| IntanError::Io { path: path.into(), source };
        let bad =
            |field: &str, problem: String| IntanError::Invalid { path: path.into(), field: field.into(), problem };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        // the header is small: read up to 1 MiB of it
        let mut head = vec![0u8; usize::try_from(len.min(1 << 20)).unwrap_or(0)];
        file.read_exact_at(&mut head, 0).map_err(io)?;
        let mut c = Cur { b: &head, at: 0 };
        let end = |f: &str| bad(f, "the header ends here; the file is truncated or not an RHD file".into());
        let magic = c.u32().ok_or_else(|| end("magic number"))?;
        if magic != MAGIC {
            return Err(bad("magic number", format!("{magic:#010x}, expected 0xc6912702 (an Intan RHD2000 file)")));
        }
        let version = (c.i16().ok_or_else(|| end("version"))?, c.i16().ok_or_else(|| end("version"))?);
        let at_least = |ma: i16, mi: i16| version.0 > ma || (version.0 == ma && version.1 >= mi);
        let rate = c.f32().ok_or_else(|| end("sample rate"))?;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(bad("sample rate", format!("{rate}: expected a positive rate in Hz")));
        }
        let _dsp_enabled = c.i16();
        for _ in 0..6 {
            c.f32().ok_or_else(|| end("filter settings"))?;
        }
        let notch_mode = c.i16().ok_or_else(|| end("notch filter mode"))?;
        c.f32().ok_or_else(|| end("impedance test frequency"))?;
        c.f32().ok_or_else(|| end("impedance test frequency"))?;
        let mut notes = Vec::new();
        for _ in 0..3 {
            notes.push(c.qstring().ok_or_else(|| end("notes"))?);
        }
        let n_temp = if at_least(1, 1) { c.i16().ok_or_else(|| end("temperature sensors"))? } else { 0 };
        if at_least(1, 3) {
            c.i16().ok_or_else(|| end("evaluation board mode"))?;
        }
        if at_least(2, 0) {
            c.qstring().ok_or_else(|| end("reference channel"))?;
        }
        let n_groups = c.i16().ok_or_else(|| end("signal groups"))?;
        if !(0..=64).contains(&n_groups) || !(0..=64).contains(&n_temp) {
            return Err(bad("signal groups", format!("{n_groups} groups, {n_temp} temperature sensors")));
        }
        let (mut channels, mut n_aux, mut n_supply, mut n_adc, mut n_din, mut n_dout) = (Vec::new(), 0, 0, 0, 0, 0);
        for g in 0..n_groups {
            let field = format!("signal group {g}");
            c.qstring().ok_or_else(|| end(&field))?;
            c.qstring().ok_or_else(|| end(&field))?;
            let enabled = c.i16().ok_or_else(|| end(&field))?;
            let n = c.i16().ok_or_else(|| end(&field))?;
            c.i16().ok_or_else(|| end(&field))?;
            if !(0..=1024).contains(&n) {
                return Err(bad(&field, format!("{n} channels")));
            }
            if enabled == 0 {
                continue;
            }
            for _ in 0..n {
                let native_name = c.qstring().ok_or_else(|| end(&field))?;
                let custom_name = c.qstring().ok_or_else(|| end(&field))?;
                let mut v = [0i16; 10];
                for x in &mut v {
                    *x = c.i16().ok_or_else(|| end(&field))?;
                }
                let impedance_ohm = c.f32().ok_or_else(|| end(&field))?;
                c.f32().ok_or_else(|| end(&field))?;
                // v: native order, custom order, signal type, enabled, chip channel, ...
                if v[3] == 0 {
                    continue;
                }
                match v[2] {
                    0 => channels.push(RhdChannel { native_name, custom_name, impedance_ohm }),
                    1 => n_aux += 1,
                    2 => n_supply += 1,
                    3 => n_adc += 1,
                    4 => n_din += 1,
                    5 => n_dout += 1,
                    t => return Err(bad(&field, format!("signal type {t}, expected 0–5"))),
                }
            }
        }
        let block = if at_least(2, 0) { 128 } else { 60 };
        let n_temp = usize::try_from(n_temp).unwrap_or(0);
        let block_bytes = 4 * block
            + 2 * block * channels.len()
            + 2 * (block / 4) * n_aux
            + 2 * n_supply
            + 2 * n_temp
            + 2 * block * n_adc
            + if n_din > 0 { 2 * block } else { 0 }
            + if n_dout > 0 { 2 * block } else { 0 };
        let header_bytes = c.at as u64;
        let data = len - header_bytes;
        let n_blocks = usize::try_from(data / block_bytes as u64).unwrap_or(0);
        let mut warnings = Vec::new();
        if !data.is_multiple_of(block_bytes as u64) {
            warnings.push(format!(
                "{} bytes after the last whole data block of {block_bytes} bytes ignored",
                data % block_bytes as u64
            ));
        }
        if channels.is_empty() {
            warnings.push("no enabled amplifier channel".into());
        }
        let mut ts = [0u8; 4];
        let first_timestamp = if n_blocks > 0 {
            file.read_exact_at(&mut ts, header_bytes).map_err(io)?;
            if at_least(1, 2) { i64::from(i32::from_le_bytes(ts)) } else { i64::from(u32::from_le_bytes(ts)) }
        } else {
            0
        };
        Ok(Self {
            path: path.into(),
            version,
            rate_hz: f64::from(rate),
            notch_mode,
            notes,
            channels,
            block_samples: block,
            n_blocks,
            first_timestamp,
            warnings,
            header_bytes,
            block_bytes,
            tap: burstscope_core::HashTap::of(&file),
            file,
        })
    }

    /// Start of the recording on the board's clock (s).
    #[must_use]
    pub fn start_s(&self) -> f64 {
        self.first_timestamp as f64 / self.rate_hz
    }
}

impl BlockSource for Rhd {
    fn n_samples(&self) -> usize {
        self.n_blocks * self.block_samples
    }
    fn n_channels(&self) -> usize {
        self.channels.len()
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
        quality.begin(&self.path.display(), self.channels.len(), len, cols, stride, out.len())?;
        let end = start.checked_add(len).filter(|&e| e <= self.n_samples()).ok_or_else(|| {
            format!("{}: samples {start}..{} past {}", self.path.display(), start.saturating_add(len), self.n_samples())
        })?;
        if len == 0 {
            return Ok(());
        }
        let bs = self.block_samples;
        let (b0, b1) = (start / bs, end.div_ceil(bs));
        let mut buf = vec![0u8; (b1 - b0) * self.block_bytes];
        let at = self.header_bytes + (b0 * self.block_bytes) as u64;
        self.file.read_exact_at(&mut buf, at).map_err(|e| format!("{}: {e}", self.path.display()))?;
        if let Some(t) = &self.tap {
            t.offer(at, &buf);
        }
        #[allow(clippy::cast_possible_truncation)]
        let g = (AMPLIFIER_UV_PER_BIT * scale) as f32;
        for row in out.chunks_exact_mut(stride).take(len) {
            row.fill(0.0);
        }
        for (j, &c) in cols.iter().enumerate() {
            for t in 0..len {
                let s = start + t;
                let (b, k) = (s / bs - b0, s % bs);
                let at = b * self.block_bytes + 4 * bs + 2 * (c * bs + k);
                let v = u16::from_le_bytes([buf[at], buf[at + 1]]);
                if v == 0 || v == u16::MAX {
                    quality.clip(c, t, &count);
                }
                out[t * stride + j] = (f32::from(v) - 32_768.0) * g;
            }
        }
        Ok(())
    }
    fn feeds_hash_tap(&self) -> bool {
        self.tap.is_some()
    }
}

/// Whether `path` starts with the RHD2000 magic number.
#[must_use]
pub fn is_rhd(path: &Path) -> bool {
    let mut m = [0u8; 4];
    File::open(path).and_then(|f| f.read_exact_at(&mut m, 0)).is_ok() && u32::from_le_bytes(m) == MAGIC
}
