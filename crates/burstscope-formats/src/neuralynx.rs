//! Neuralynx Cheetah files, written from Neuralynx's description of the
//! file formats: every file starts with a 16 384-byte text header (`-Key
//! value` lines: `-SamplingFrequency`, `-ADBitVolts`, `-ADChannel`,
//! `-AcqEntName`, `-InputInverted`, ...), followed by fixed-size
//! little-endian records:
//!
//! - `.ncs` continuous: 1 044-byte records — uint64 timestamp (µs), uint32
//!   channel, uint32 sampling frequency, uint32 number of valid samples,
//!   512 int16 samples. [`NcsRecording`] reads a folder of them (one channel
//!   each: `CSC1.ncs`, …) as a [`BlockSource`] in µV.
//! - `.ntt` tetrode spikes: 304-byte records — uint64 timestamp, uint32
//!   spike-acquisition entity, uint32 cell (0 unsorted, else the cluster of
//!   the offline sorter), 8 int32 features, 32 × 4 int16 samples. [`Ntt`].
//! - `.nev` events: 184-byte records — int16 nstx, packet id, data size,
//!   uint64 timestamp, int16 event id, uint16 TTL value, int16 CRC, two
//!   int16 dummies, 8 int32 extras, a 128-byte event string. [`NlxEvents`].
//!
//! Timestamps are microseconds on Cheetah's clock; times here are seconds on
//! the same clock.

use burstscope_core::{BlockQuality, BlockSource};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes of the text header.
pub const HEADER_BYTES: u64 = 16_384;
const NCS_RECORD: u64 = 1_044;
const NCS_SAMPLES: usize = 512;
const NTT_RECORD: u64 = 304;
const NEV_RECORD: u64 = 184;

/// Why a Neuralynx file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum NlxError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The header or records do not hold what the format says.
    #[error("{}: {field}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The header key or record field.
        field: String,
        /// What was found and what was expected.
        problem: String,
    },
}

/// A file's text header: the `-Key value` lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NlxHeader(pub BTreeMap<String, String>);

impl NlxHeader {
    /// Parses the header text (latin-1, NUL-padded).
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Self {
        let text: String = bytes.iter().take_while(|&&b| b != 0).map(|&b| char::from(b)).collect();
        let mut m = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix('-') {
                let (k, v) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                m.insert(k.to_string(), v.trim().to_string());
            }
        }
        Self(m)
    }

    /// A value.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn number(&self, key: &str, path: &Path) -> Result<f64, NlxError> {
        let v = self.get(key).ok_or_else(|| NlxError::Invalid {
            path: path.into(),
            field: format!("-{key}"),
            problem: "missing from the header".into(),
        })?;
        v.split_whitespace().next().and_then(|x| x.parse::<f64>().ok()).filter(|x| x.is_finite()).ok_or_else(|| {
            NlxError::Invalid {
                path: path.into(),
                field: format!("-{key}"),
                problem: format!("{v:?}: expected a number"),
            }
        })
    }

    fn inverted(&self) -> bool {
        self.get("InputInverted").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

fn read_header(path: &Path) -> Result<(File, u64, NlxHeader), NlxError> {
    let io = |source| NlxError::Io { path: path.into(), source };
    let f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    if len < HEADER_BYTES {
        return Err(NlxError::Invalid {
            path: path.into(),
            field: "header".into(),
            problem: format!("{len} bytes; a Neuralynx file starts with a {HEADER_BYTES}-byte text header"),
        });
    }
    let mut h = vec![0u8; HEADER_BYTES as usize];
    f.read_exact_at(&mut h, 0).map_err(io)?;
    Ok((f, len, NlxHeader::parse(&h)))
}

/// One `.ncs` channel.
#[derive(Debug)]
pub struct Ncs {
    /// The file.
    pub path: PathBuf,
    /// Its header.
    pub header: NlxHeader,
    /// `-AcqEntName` (else the file stem).
    pub name: String,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// µV per stored count (`-ADBitVolts` × 10⁶, negative when `-InputInverted True`).
    pub uv_per_bit: f64,
    /// Whole records.
    pub n_records: usize,
    /// The first record's timestamp, µs.
    pub first_timestamp_us: u64,
    /// Records with fewer than 512 valid samples, and timestamp gaps.
    pub warnings: Vec<String>,
    file: File,
}

impl Ncs {
    /// Opens a `.ncs` file: the header and the record layout (every
    /// record's timestamp and valid-sample count are checked).
    ///
    /// # Errors
    /// No header, a missing or malformed `-SamplingFrequency` or
    /// `-ADBitVolts`, no whole record, or an unreadable file.
    pub fn open(path: &Path) -> Result<Self, NlxError> {
        let (file, len, header) = read_header(path)?;
        let rate_hz = header.number("SamplingFrequency", path)?;
        let bit_volts = header.number("ADBitVolts", path)?;
        if !(rate_hz > 0.0) || bit_volts == 0.0 {
            return Err(NlxError::Invalid {
                path: path.into(),
                field: "-SamplingFrequency/-ADBitVolts".into(),
                problem: format!("{rate_hz} Hz, {bit_volts} V per bit: expected positive values"),
            });
        }
        let n_records = usize::try_from((len - HEADER_BYTES) / NCS_RECORD).unwrap_or(0);
        if n_records == 0 {
            return Err(NlxError::Invalid {
                path: path.into(),
                field: "records".into(),
                problem: format!(
                    "{} bytes after the header hold no whole {NCS_RECORD}-byte record",
                    len - HEADER_BYTES
                ),
            });
        }
        let io = |source| NlxError::Io { path: path.into(), source };
        // every record's first 20 bytes: timestamp, channel, rate, valid samples
        let mut warnings = Vec::new();
        let (mut short, mut gaps) = (0usize, 0usize);
        let mut first = 0u64;
        let mut prev: Option<u64> = None;
        let step_us = NCS_SAMPLES as f64 / rate_hz * 1e6;
        // records read in runs of 512 (about 0.5 MB): one read each, not one per record
        const RUN: usize = 512;
        let mut buf = vec![0u8; RUN * NCS_RECORD as usize];
        for r in 0..n_records {
            if r % RUN == 0 {
                let n = RUN.min(n_records - r) * NCS_RECORD as usize;
                file.read_exact_at(&mut buf[..n], HEADER_BYTES + r as u64 * NCS_RECORD).map_err(io)?;
            }
            let at = (r % RUN) * NCS_RECORD as usize;
            let head = &buf[at..at + 20];
            let ts = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
            let valid = u32::from_le_bytes(head[16..20].try_into().unwrap_or_default());
            if r == 0 {
                first = ts;
            }
            if valid as usize != NCS_SAMPLES && r + 1 < n_records {
                short += 1;
            }
            if let Some(p) = prev {
                #[allow(clippy::cast_precision_loss)]
                let d = ts.wrapping_sub(p) as f64;
                if (d - step_us).abs() > 0.5 * step_us {
                    gaps += 1;
                }
            }
            prev = Some(ts);
        }
        if !(len - HEADER_BYTES).is_multiple_of(NCS_RECORD) {
            warnings.push(format!("{} bytes after the last whole record ignored", (len - HEADER_BYTES) % NCS_RECORD));
        }
        if short > 0 {
            warnings.push(format!("{short} records with fewer than 512 valid samples: read as 512"));
        }
        if gaps > 0 {
            warnings.push(format!(
                "{gaps} timestamp gaps between records (the recording was paused): samples read as one stretch"
            ));
        }
        let name = header
            .get("AcqEntName")
            .map(str::to_string)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned()));
        let uv_per_bit = bit_volts * 1e6 * if header.inverted() { -1.0 } else { 1.0 };
        Ok(Self {
            path: path.into(),
            name,
            rate_hz,
            uv_per_bit,
            n_records,
            first_timestamp_us: first,
            warnings,
            header,
            file,
        })
    }

    /// Samples per channel.
    #[must_use]
    pub fn n_samples(&self) -> usize {
        self.n_records * NCS_SAMPLES
    }

    /// Stored counts `start..start + len`.
    ///
    /// # Errors
    /// Out of range or a read error.
    pub fn read_counts(&self, start: usize, len: usize) -> Result<Vec<i16>, NlxError> {
        let end = start.checked_add(len).filter(|&e| e <= self.n_samples()).ok_or_else(|| NlxError::Invalid {
            path: self.path.clone(),
            field: "samples".into(),
            problem: format!("{start}..{} past the {} samples", start.saturating_add(len), self.n_samples()),
        })?;
        let mut out = Vec::with_capacity(len);
        let (r0, r1) = (start / NCS_SAMPLES, end.div_ceil(NCS_SAMPLES));
        let mut buf = vec![0u8; (r1 - r0) * NCS_RECORD as usize];
        self.file
            .read_exact_at(&mut buf, HEADER_BYTES + r0 as u64 * NCS_RECORD)
            .map_err(|source| NlxError::Io { path: self.path.clone(), source })?;
        for (k, rec) in buf.chunks_exact(NCS_RECORD as usize).enumerate() {
            let base = (r0 + k) * NCS_SAMPLES;
            let a = start.max(base) - base;
            let b = end.min(base + NCS_SAMPLES) - base;
            out.extend(rec[20 + 2 * a..20 + 2 * b].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])));
        }
        Ok(out)
    }
}

/// Natural order of file names (`CSC2` before `CSC10`).
fn natural_key(s: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).saturating_mul(10).saturating_add(u64::from(d)));
        } else {
            if let Some(n) = num.take() {
                out.push((std::mem::take(&mut text), n));
            }
            text.push(c);
        }
    }
    out.push((text, num.unwrap_or(0)));
    out
}

/// The `.ncs` files of a folder, in natural order.
#[must_use]
pub fn ncs_files(dir: &Path) -> Vec<PathBuf> {
    files_with(dir, "ncs")
}

/// The `.ntt` tetrode files of a folder, in natural order.
#[must_use]
pub fn ntt_files(dir: &Path) -> Vec<PathBuf> {
    files_with(dir, "ntt")
}

/// A folder's files with extension `ext` (any case), in natural order.
fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case(ext)))
                .collect()
        })
        .unwrap_or_default();
    v.sort_by_key(|p| natural_key(&p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()));
    v
}

/// A folder of `.ncs` channels recorded together (a Cheetah session).
#[derive(Debug)]
pub struct NcsRecording {
    /// The folder.
    pub dir: PathBuf,
    /// The channels in natural file order.
    pub channels: Vec<Ncs>,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Samples per channel (the shortest channel's).
    pub n_samples: usize,
    /// The first sample's time on Cheetah's clock, s.
    pub start_s: f64,
    /// Warnings of every channel.
    pub warnings: Vec<String>,
}

impl NcsRecording {
    /// Opens every `.ncs` file of `dir` (or the one file given).
    ///
    /// # Errors
    /// No `.ncs` file, channels at different rates, or an unreadable channel.
    pub fn open(path: &Path) -> Result<Self, NlxError> {
        let files = if path.is_dir() { ncs_files(path) } else { vec![path.to_path_buf()] };
        if files.is_empty() {
            return Err(NlxError::Invalid {
                path: path.into(),
                field: "folder".into(),
                problem: "no .ncs files".into(),
            });
        }
        let channels = files.iter().map(|f| Ncs::open(f)).collect::<Result<Vec<_>, _>>()?;
        let rate_hz = channels[0].rate_hz;
        if let Some(c) = channels.iter().find(|c| c.rate_hz != rate_hz) {
            return Err(NlxError::Invalid {
                path: c.path.clone(),
                field: "-SamplingFrequency".into(),
                problem: format!("{} Hz where {} has {rate_hz} Hz", c.rate_hz, channels[0].path.display()),
            });
        }
        let n_samples = channels.iter().map(Ncs::n_samples).min().unwrap_or(0);
        let mut warnings: Vec<String> = channels
            .iter()
            .flat_map(|c| c.warnings.iter().map(move |w| format!("{}: {w}", c.path.display())))
            .collect();
        if channels.iter().any(|c| c.n_samples() != n_samples) {
            warnings.push(format!("channels of different lengths: the first {n_samples} samples of each read"));
        }
        #[allow(clippy::cast_precision_loss)]
        let start_s = channels[0].first_timestamp_us as f64 * 1e-6;
        Ok(Self { dir: path.into(), channels, rate_hz, n_samples, start_s, warnings })
    }
}

impl BlockSource for NcsRecording {
    fn n_samples(&self) -> usize {
        self.n_samples
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
        quality.begin(&self.dir.display(), self.channels.len(), len, cols, stride, out.len())?;
        if start.checked_add(len).is_none_or(|e| e > self.n_samples) {
            return Err(format!("{}: samples {start}..{} past {}", self.dir.display(), start + len, self.n_samples));
        }
        for row in out.chunks_exact_mut(stride).take(len) {
            row.fill(0.0);
        }
        for (j, &c) in cols.iter().enumerate() {
            let ch = &self.channels[c];
            let v = ch.read_counts(start, len).map_err(|e| e.to_string())?;
            #[allow(clippy::cast_possible_truncation)]
            let g = (ch.uv_per_bit * scale) as f32;
            for (t, &x) in v.iter().enumerate() {
                if x == i16::MIN || x == i16::MAX {
                    quality.clip(c, t, &count);
                }
                out[t * stride + j] = f32::from(x) * g;
            }
        }
        Ok(())
    }
}

/// One spike of a `.ntt` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NttSpike {
    /// Timestamp, µs.
    pub timestamp_us: u64,
    /// Spike-acquisition entity (the tetrode's number).
    pub entity: u32,
    /// Cell: 0 unsorted, else the offline sorter's cluster.
    pub cell: u32,
}

/// A `.ntt` tetrode spike file (times and cells; waveforms left in the file).
#[derive(Debug, Clone)]
pub struct Ntt {
    /// The file.
    pub path: PathBuf,
    /// Its header.
    pub header: NlxHeader,
    /// `-AcqEntName` (else the file stem), e.g. `TT1`.
    pub name: String,
    /// Spikes in file order.
    pub spikes: Vec<NttSpike>,
    /// Odd values.
    pub warnings: Vec<String>,
}

impl Ntt {
    /// Reads a `.ntt` file.
    ///
    /// # Errors
    /// No header or an unreadable file.
    pub fn open(path: &Path) -> Result<Self, NlxError> {
        let (file, len, header) = read_header(path)?;
        let n = usize::try_from((len - HEADER_BYTES) / NTT_RECORD).unwrap_or(0);
        let mut buf = vec![0u8; n * NTT_RECORD as usize];
        file.read_exact_at(&mut buf, HEADER_BYTES).map_err(|source| NlxError::Io { path: path.into(), source })?;
        let spikes = buf
            .chunks_exact(NTT_RECORD as usize)
            .map(|r| NttSpike {
                timestamp_us: u64::from_le_bytes(r[..8].try_into().unwrap_or_default()),
                entity: u32::from_le_bytes(r[8..12].try_into().unwrap_or_default()),
                cell: u32::from_le_bytes(r[12..16].try_into().unwrap_or_default()),
            })
            .collect();
        let mut warnings = Vec::new();
        if !(len - HEADER_BYTES).is_multiple_of(NTT_RECORD) {
            warnings.push(format!("{} bytes after the last whole record ignored", (len - HEADER_BYTES) % NTT_RECORD));
        }
        let name = header
            .get("AcqEntName")
            .map(str::to_string)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned()));
        Ok(Self { path: path.into(), header, name, spikes, warnings })
    }

    /// Spike times (s) per cell, sorted by cell.
    #[must_use]
    pub fn cells(&self) -> Vec<(u32, Vec<f64>)> {
        let mut m: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
        for s in &self.spikes {
            #[allow(clippy::cast_precision_loss)]
            m.entry(s.cell).or_default().push(s.timestamp_us as f64 * 1e-6);
        }
        m.into_iter().collect()
    }
}

/// One event of a Neuralynx `.nev` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NlxEvent {
    /// Timestamp, µs.
    pub timestamp_us: u64,
    /// Event id.
    pub event_id: i16,
    /// TTL port value.
    pub ttl: u16,
    /// The event string (e.g. `TTL Input on AcqSystem1_0 board 0 port 0 value (0x0001).`, or a typed note).
    pub text: String,
}

/// A Neuralynx `.nev` event file.
#[derive(Debug, Clone)]
pub struct NlxEvents {
    /// The file.
    pub path: PathBuf,
    /// Events in file order.
    pub events: Vec<NlxEvent>,
}

impl NlxEvents {
    /// Reads a Neuralynx `.nev` file.
    ///
    /// # Errors
    /// No header or an unreadable file.
    pub fn open(path: &Path) -> Result<Self, NlxError> {
        let (file, len, _) = read_header(path)?;
        let n = usize::try_from((len - HEADER_BYTES) / NEV_RECORD).unwrap_or(0);
        let mut buf = vec![0u8; n * NEV_RECORD as usize];
        file.read_exact_at(&mut buf, HEADER_BYTES).map_err(|source| NlxError::Io { path: path.into(), source })?;
        let events = buf
            .chunks_exact(NEV_RECORD as usize)
            .map(|r| {
                let text: String = r[56..184].iter().take_while(|&&b| b != 0).map(|&b| char::from(b)).collect();
                NlxEvent {
                    timestamp_us: u64::from_le_bytes(r[6..14].try_into().unwrap_or_default()),
                    event_id: i16::from_le_bytes([r[14], r[15]]),
                    ttl: u16::from_le_bytes([r[16], r[17]]),
                    text: text.trim().to_string(),
                }
            })
            .collect();
        Ok(Self { path: path.into(), events })
    }
}

/// Whether `path` starts like a Neuralynx file (a text header beginning
/// `######## Neuralynx` or holding `-SamplingFrequency`/`-FileType`).
#[must_use]
pub fn is_neuralynx(path: &Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(f) = File::open(path) else { return false };
    let Ok(n) = f.read_at(&mut head, 0) else { return false };
    let text = String::from_utf8_lossy(&head[..n]);
    text.starts_with("######## Neuralynx") || text.contains("-FileType") || text.contains("-CheetahRev")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_natural_order() {
        let h = NlxHeader::parse(b"######## Neuralynx Data File Header\r\n-SamplingFrequency 32000\r\n-ADBitVolts 0.000000030518 \r\n-InputInverted True\r\n\0\0\0");
        assert_eq!(h.get("SamplingFrequency"), Some("32000"));
        assert_eq!(h.number("ADBitVolts", Path::new("x")).unwrap(), 0.000_000_030_518);
        assert!(h.inverted());
        let mut v = vec!["CSC10.ncs", "CSC2.ncs", "CSC1.ncs"];
        v.sort_by_key(|s| natural_key(s));
        assert_eq!(v, vec!["CSC1.ncs", "CSC2.ncs", "CSC10.ncs"]);
    }
}
