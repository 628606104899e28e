//! Open Ephys GUI recordings in the legacy format (`.continuous` per
//! channel), written from the format's own description: each file has a
//! 1024-byte text header (`header.sampleRate = 40000;`, `header.bitVolts =
//! 0.05;`, `header.channel = 'CH1';` ...), then records of one int64
//! timestamp (the first sample's index on the acquisition clock), one uint16
//! sample count N (1024), one uint16 recording number, N big-endian int16
//! samples and a 10-byte marker (0 1 2 3 4 5 6 7 8 255). A folder's
//! `*_CH<k>.continuous` files are one recording, read in blocks as a
//! [`BlockSource`] in microvolts.

use burstscope_core::{BlockQuality, BlockSource};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const HEADER: u64 = 1024;
const MARKER: [u8; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 255];

/// Errors reading an Open Ephys recording.
#[derive(Debug, thiserror::Error)]
pub enum OpenEphysError {
    /// A file cannot be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file does not hold what the format says.
    #[error("{}: {what}", path.display())]
    Invalid {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong and what was expected.
        what: String,
    },
}

fn invalid(path: &Path, what: impl Into<String>) -> OpenEphysError {
    OpenEphysError::Invalid { path: path.into(), what: what.into() }
}

/// One channel's `.continuous` file.
#[derive(Debug)]
pub struct Continuous {
    /// The file.
    pub path: PathBuf,
    /// `header.channel` (e.g. `CH1`).
    pub channel: String,
    /// `header.sampleRate`, Hz.
    pub rate_hz: f64,
    /// `header.bitVolts`: µV per stored unit.
    pub bit_volts: f64,
    /// Samples per record (`header.blockLength`, 1024).
    pub block: usize,
    /// Records in the file.
    pub n_records: usize,
    /// The first record's timestamp (samples on the acquisition clock).
    pub first_timestamp: i64,
    file: File,
}

fn header_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.split(';').find_map(|field| {
        let (k, v) = field.split_once('=')?;
        (k.trim() == format!("header.{key}")).then(|| v.trim().trim_matches('\''))
    })
}

impl Continuous {
    /// Opens one `.continuous` file and checks its header and first record.
    ///
    /// # Errors
    /// An unreadable file, a header without sampleRate or bitVolts, a size
    /// that is not whole records, or a record that is not 1024 samples.
    pub fn open(path: &Path) -> Result<Self, OpenEphysError> {
        let io = |source| OpenEphysError::Io { path: path.into(), source };
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size < HEADER {
            return Err(invalid(path, format!("{size} bytes: shorter than the 1024-byte header")));
        }
        let mut h = vec![0u8; HEADER as usize];
        file.read_exact_at(&mut h, 0).map_err(io)?;
        let text = String::from_utf8_lossy(&h);
        if !text.contains("Open Ephys Data Format") {
            return Err(invalid(path, "header does not say 'Open Ephys Data Format'"));
        }
        let num = |key: &str| -> Result<f64, OpenEphysError> {
            header_value(&text, key)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| invalid(path, format!("header.{key}: missing or not a number")))
        };
        let rate_hz = num("sampleRate")?;
        let bit_volts = num("bitVolts")?;
        let block = header_value(&text, "blockLength").and_then(|v| v.parse::<usize>().ok()).unwrap_or(1024);
        if !(rate_hz > 0.0) || block == 0 {
            return Err(invalid(path, format!("sampleRate {rate_hz}, blockLength {block}: expected positive values")));
        }
        let channel = header_value(&text, "channel").unwrap_or("").to_string();
        let rec = Self::record_bytes(block) as u64;
        let body = size - HEADER;
        if !body.is_multiple_of(rec) {
            return Err(invalid(
                path,
                format!("{body} bytes after the header are not whole records of {rec} bytes (a cut file?)"),
            ));
        }
        let n_records = usize::try_from(body / rec).unwrap_or(0);
        let mut c = Self { path: path.into(), channel, rate_hz, bit_volts, block, n_records, first_timestamp: 0, file };
        if n_records > 0 {
            let (ts, n, _) = c.record_head(0)?;
            if n != block {
                return Err(invalid(path, format!("record 0 holds {n} samples; expected {block}")));
            }
            c.first_timestamp = ts;
            let mut m = [0u8; 10];
            c.file.read_exact_at(&mut m, HEADER + rec - 10).map_err(io)?;
            if m != MARKER {
                return Err(invalid(path, "record 0 does not end with the marker 0 1 2 3 4 5 6 7 8 255"));
            }
        }
        Ok(c)
    }

    fn record_bytes(block: usize) -> usize {
        8 + 2 + 2 + 2 * block + 10
    }

    /// Timestamp, sample count and recording number of record `r`.
    fn record_head(&self, r: usize) -> Result<(i64, usize, u16), OpenEphysError> {
        let mut b = [0u8; 12];
        let at = HEADER + (r * Self::record_bytes(self.block)) as u64;
        self.file.read_exact_at(&mut b, at).map_err(|source| OpenEphysError::Io { path: self.path.clone(), source })?;
        let ts = i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        Ok((ts, usize::from(u16::from_le_bytes([b[8], b[9]])), u16::from_le_bytes([b[10], b[11]])))
    }

    /// Samples per channel.
    #[must_use]
    pub fn n_samples(&self) -> usize {
        self.n_records * self.block
    }

    /// Stored values of samples `start..start + len` (int16, big-endian in the file).
    ///
    /// # Errors
    /// Out of range or a read error.
    pub fn read_values(&self, start: usize, len: usize) -> Result<Vec<i16>, OpenEphysError> {
        if start + len > self.n_samples() {
            return Err(invalid(&self.path, format!("samples {start}..{} of {}", start + len, self.n_samples())));
        }
        let mut out = Vec::with_capacity(len);
        let rec = Self::record_bytes(self.block);
        let mut k = start;
        let mut buf = vec![0u8; 2 * self.block];
        while k < start + len {
            let (r, off) = (k / self.block, k % self.block);
            let n = (self.block - off).min(start + len - k);
            let at = HEADER + (r * rec + 12 + 2 * off) as u64;
            self.file
                .read_exact_at(&mut buf[..2 * n], at)
                .map_err(|source| OpenEphysError::Io { path: self.path.clone(), source })?;
            out.extend(buf[..2 * n].chunks_exact(2).map(|b| i16::from_be_bytes([b[0], b[1]])));
            k += n;
        }
        Ok(out)
    }
}

/// A legacy-format recording: the `*_CH<k>.continuous` files of one folder
/// (one record node), in channel-number order.
#[derive(Debug)]
pub struct LegacyRecording {
    /// The folder.
    pub dir: PathBuf,
    /// The channels.
    pub channels: Vec<Continuous>,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Samples per channel (the shortest channel's).
    pub n_samples: usize,
    /// The first sample's time on the acquisition clock, s.
    pub start_s: f64,
    /// What did not fit (channels of different lengths).
    pub warnings: Vec<String>,
}

/// Whether `dir` holds legacy Open Ephys `.continuous` files.
#[must_use]
pub fn is_legacy_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "continuous"))))
}

/// The TTL events of a legacy-format record node: its `*.events` files
/// (the 1 024-byte text header, then 16-byte records: int64 timestamp on
/// the acquisition clock, int16 position in the buffer, uint8 event type —
/// 3 for TTL —, uint8 processor id, uint8 state (1 rising), uint8 channel
/// (0-based), uint16 recording number), times from `rate_hz`. Other event
/// types (messages, spikes) are skipped; `messages.events` is text and not
/// read.
///
/// # Errors
/// An events file shorter than its header, or unreadable.
pub fn legacy_ttl_events(dir: &Path, rate_hz: f64) -> Result<Vec<TtlEvent>, OpenEphysError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| OpenEphysError::Io { path: dir.into(), source })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "events") && p.file_name().is_some_and(|n| n != "messages.events")
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let b = std::fs::read(&f).map_err(|source| OpenEphysError::Io { path: f.clone(), source })?;
        if b.len() < HEADER as usize {
            return Err(invalid(&f, format!("{} bytes; an events file starts with a {HEADER}-byte header", b.len())));
        }
        for r in b[HEADER as usize..].chunks_exact(16) {
            if r[10] != 3 {
                continue;
            }
            let ts = i64::from_le_bytes(r[..8].try_into().unwrap_or_default());
            #[allow(clippy::cast_precision_loss)]
            out.push(TtlEvent {
                line: u16::from(r[13]) + 1,
                rising: r[12] == 1,
                sample: ts,
                time_s: ts as f64 / rate_hz,
            });
        }
    }
    // in time order, the file's order within a sample
    out.sort_by_key(|e| e.sample);
    Ok(out)
}

impl LegacyRecording {
    /// Opens the continuous channels of `dir` (`*_CH<k>.continuous`: the
    /// headstage channels; auxiliary `AUX` and `ADC` files are left out).
    ///
    /// # Errors
    /// No channel files, a bad file, or channels with different rates.
    pub fn open(dir: &Path) -> Result<Self, OpenEphysError> {
        let rd = std::fs::read_dir(dir).map_err(|source| OpenEphysError::Io { path: dir.into(), source })?;
        let mut files: Vec<(u32, PathBuf)> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "continuous"))
            .filter_map(|p| {
                let stem = p.file_stem()?.to_string_lossy().into_owned();
                let k = stem.rsplit_once("_CH").map(|(_, k)| k).or_else(|| stem.strip_prefix("CH"))?;
                Some((k.parse().ok()?, p))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(invalid(dir, "no *_CH<k>.continuous files (an Open Ephys legacy-format record node)"));
        }
        let channels: Vec<Continuous> = files.iter().map(|(_, p)| Continuous::open(p)).collect::<Result<_, _>>()?;
        let rate_hz = channels[0].rate_hz;
        if let Some(c) = channels.iter().find(|c| c.rate_hz != rate_hz) {
            return Err(invalid(
                &c.path,
                format!("{} Hz where {} has {rate_hz} Hz", c.rate_hz, channels[0].path.display()),
            ));
        }
        let n_samples = channels.iter().map(Continuous::n_samples).min().unwrap_or(0);
        let mut warnings = Vec::new();
        if channels.iter().any(|c| c.n_samples() != n_samples) {
            warnings.push(format!("channels have different lengths: read to the shortest ({n_samples} samples)"));
        }
        #[allow(clippy::cast_precision_loss)]
        let start_s = channels[0].first_timestamp as f64 / rate_hz;
        Ok(Self { dir: dir.into(), channels, rate_hz, n_samples, start_s, warnings })
    }
}

impl BlockSource for LegacyRecording {
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
        out.fill(0.0);
        for (j, &c) in cols.iter().enumerate() {
            let ch = &self.channels[c];
            let v = ch.read_values(start, len).map_err(|e| e.to_string())?;
            #[allow(clippy::cast_possible_truncation)]
            let factor = (ch.bit_volts * scale) as f32;
            for (t, &x) in v.iter().enumerate() {
                if x == i16::MIN || x == i16::MAX {
                    quality.clip(c, t, &count);
                }
                out[t * stride + j] = f32::from(x) * factor;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.continuous` file written from the format's description.
    fn write(path: &Path, channel: &str, records: usize, value: impl Fn(usize) -> i16) {
        let mut h = format!(
            "header.format = 'Open Ephys Data Format'; \nheader.version = 0.4;\nheader.header_bytes = 1024;\n\
             header.channel = '{channel}';\nheader.sampleRate = 30000;\nheader.blockLength = 1024;\n\
             header.bitVolts = 0.195;\n"
        )
        .into_bytes();
        h.resize(1024, b' ');
        for r in 0..records {
            h.extend_from_slice(&(5000i64 + (r * 1024) as i64).to_le_bytes());
            h.extend_from_slice(&1024u16.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            for k in 0..1024 {
                h.extend_from_slice(&value(r * 1024 + k).to_be_bytes());
            }
            h.extend_from_slice(&MARKER);
        }
        std::fs::write(path, h).unwrap();
    }

    #[test]
    fn reads_records_across_boundaries_in_microvolts() {
        let d = tempfile::tempdir().unwrap();
        write(&d.path().join("100_CH2.continuous"), "CH2", 3, |k| -((k % 3000) as i16));
        write(&d.path().join("100_CH1.continuous"), "CH1", 3, |k| (k % 3000) as i16);
        let r = LegacyRecording::open(d.path()).unwrap();
        assert_eq!((r.n_samples, r.rate_hz, r.channels[0].channel.as_str()), (3072, 30000.0, "CH1"));
        assert!((r.start_s - 5000.0 / 30000.0).abs() < 1e-12);
        let mut out = vec![0.0f32; 100 * 2];
        let mut q = BlockQuality::default();
        r.read(1000, 100, 1.0, &[1, 0], 2, &mut out, 0..100, &mut q).unwrap();
        for t in 0..100 {
            let k = (1000 + t) as f32;
            assert_eq!(out[2 * t], -k * 0.195f32);
            assert_eq!(out[2 * t + 1], k * 0.195f32);
        }
        assert!(r.read(3000, 100, 1.0, &[0], 1, &mut out[..100], 0..100, &mut q).is_err());
        // a cut file and a foreign file are errors naming the file
        let bad = d.path().join("x_CH3.continuous");
        let full = std::fs::read(d.path().join("100_CH1.continuous")).unwrap();
        std::fs::write(&bad, &full[..full.len() - 5]).unwrap();
        let e = Continuous::open(&bad).unwrap_err().to_string();
        assert!(e.contains("x_CH3.continuous") && e.contains("whole records"), "{e}");
        std::fs::write(&bad, vec![b'x'; 2000]).unwrap();
        assert!(Continuous::open(&bad).unwrap_err().to_string().contains("Open Ephys Data Format"));
    }
}

/// One continuous stream of an Open Ephys binary-format recording
/// (`structure.oebin`'s `continuous` entry).
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryStream {
    /// `folder_name` under `continuous/`.
    pub folder: PathBuf,
    /// `stream_name`.
    pub name: String,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Channel names.
    pub channels: Vec<String>,
    /// µV per stored unit per channel (`bit_volts`).
    pub bit_volts: Vec<f64>,
    /// Samples, from `sample_numbers.npy`.
    pub n_samples: usize,
    /// The first sample's number on the acquisition clock.
    pub first_sample: i64,
    /// The first sample's time (s, `timestamps.npy`; NaN without it).
    pub first_time_s: f64,
}

/// A TTL event: a line going high or low.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TtlEvent {
    /// The line (1-based, as the GUI numbers them).
    pub line: u16,
    /// Rising (true) or falling edge.
    pub rising: bool,
    /// Sample number on the acquisition clock.
    pub sample: i64,
    /// Time (s) from `timestamps.npy`.
    pub time_s: f64,
}

/// An Open Ephys binary-format recording (`recordingN/` with
/// `structure.oebin`, `continuous/<stream>/continuous.dat` (int16
/// interleaved), `sample_numbers.npy` and `timestamps.npy`, and
/// `events/<stream>/TTL/{states,sample_numbers,timestamps}.npy`).
#[derive(Debug, Clone)]
pub struct BinaryRecording {
    /// The `recordingN` folder.
    pub dir: PathBuf,
    /// The GUI version that wrote it.
    pub gui_version: String,
    /// Continuous streams.
    pub streams: Vec<BinaryStream>,
    /// TTL events per event folder (`folder_name` → events in file order).
    pub ttl: Vec<(String, Vec<TtlEvent>)>,
}

/// Whether `dir` is an Open Ephys binary-format recording folder.
#[must_use]
pub fn is_binary_dir(dir: &Path) -> bool {
    dir.join("structure.oebin").is_file()
}

impl BinaryRecording {
    /// Reads `dir/structure.oebin` and the timestamps and events it names.
    ///
    /// # Errors
    /// A missing or malformed `structure.oebin` or `.npy` file, named.
    pub fn open(dir: &Path) -> Result<Self, OpenEphysError> {
        let oebin = dir.join("structure.oebin");
        let text =
            std::fs::read_to_string(&oebin).map_err(|source| OpenEphysError::Io { path: oebin.clone(), source })?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| invalid(&oebin, format!("not JSON: {e}")))?;
        let gui_version = v["GUI version"].as_str().unwrap_or("").to_string();
        let npy = |p: &Path| crate::npy::read_npy(p).map_err(|e| invalid(p, e));
        let mut streams = Vec::new();
        for (k, s) in v["continuous"].as_array().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            let folder = s["folder_name"]
                .as_str()
                .ok_or_else(|| invalid(&oebin, format!("continuous[{k}].folder_name missing")))?;
            let rate_hz = s["sample_rate"]
                .as_f64()
                .filter(|r| *r > 0.0)
                .ok_or_else(|| invalid(&oebin, format!("continuous[{k}].sample_rate: expected a positive rate")))?;
            let chans =
                s["channels"].as_array().ok_or_else(|| invalid(&oebin, format!("continuous[{k}].channels missing")))?;
            let channels = chans.iter().map(|c| c["channel_name"].as_str().unwrap_or("").to_string()).collect();
            let bit_volts = chans.iter().map(|c| c["bit_volts"].as_f64().unwrap_or(f64::NAN)).collect();
            let sdir = dir.join("continuous").join(folder.trim_end_matches('/'));
            let sn = npy(&sdir.join("sample_numbers.npy"))?;
            let first_sample = sn.ints.as_ref().and_then(|v| v.first().copied()).unwrap_or(0);
            let ts = sdir.join("timestamps.npy");
            let first_time_s =
                if ts.is_file() { npy(&ts)?.floats.first().copied().unwrap_or(f64::NAN) } else { f64::NAN };
            streams.push(BinaryStream {
                folder: sdir,
                name: s["stream_name"].as_str().unwrap_or("").to_string(),
                rate_hz,
                channels,
                bit_volts,
                n_samples: sn.shape.first().copied().unwrap_or(0),
                first_sample,
                first_time_s,
            });
        }
        let mut ttl = Vec::new();
        for e in v["events"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(folder) = e["folder_name"].as_str() else { continue };
            if !folder.trim_end_matches('/').ends_with("TTL") {
                continue;
            }
            let edir = dir.join("events").join(folder.trim_end_matches('/'));
            let states = npy(&edir.join("states.npy"))?;
            let samples = npy(&edir.join("sample_numbers.npy"))?;
            let times = npy(&edir.join("timestamps.npy"))?;
            let (st, sa) = (states.ints.unwrap_or_default(), samples.ints.unwrap_or_default());
            if st.len() != sa.len() || times.floats.len() != st.len() {
                return Err(invalid(
                    &edir,
                    format!("{} states, {} sample numbers, {} timestamps", st.len(), sa.len(), times.floats.len()),
                ));
            }
            let events = st
                .iter()
                .zip(&sa)
                .zip(&times.floats)
                .map(|((&s, &n), &t)| TtlEvent {
                    line: u16::try_from(s.unsigned_abs()).unwrap_or(u16::MAX),
                    rising: s > 0,
                    sample: n,
                    time_s: t,
                })
                .collect();
            ttl.push((folder.to_string(), events));
        }
        if streams.is_empty() {
            return Err(invalid(&oebin, "no continuous streams"));
        }
        Ok(Self { dir: dir.into(), gui_version, streams, ttl })
    }

    /// The samples of stream `k` (`continuous.dat`, int16 interleaved) as a
    /// raw binary source in µV per the first channel's `bit_volts`.
    ///
    /// # Errors
    /// The stream does not exist, its `continuous.dat` is missing, or its size
    /// does not match `sample_numbers.npy`.
    pub fn continuous(&self, k: usize) -> Result<crate::raw::RawBinary, OpenEphysError> {
        let s = self
            .streams
            .get(k)
            .ok_or_else(|| invalid(&self.dir, format!("stream {k}: {} streams", self.streams.len())))?;
        let dat = s.folder.join("continuous.dat");
        if !dat.is_file() {
            return Err(invalid(
                &dat,
                "missing: the recording's samples (the folder has only its timestamps and events)",
            ));
        }
        let gain = s.bit_volts.first().copied().unwrap_or(f64::NAN);
        if s.bit_volts.iter().any(|b| (b - gain).abs() > 1e-12) {
            return Err(invalid(
                &self.dir.join("structure.oebin"),
                "channels with different bit_volts in one stream are not read yet",
            ));
        }
        let p = crate::raw::RawParams {
            dtype: crate::raw::RawDtype::I16,
            n_channels: s.channels.len(),
            rate_hz: s.rate_hz,
            offset_bytes: 0,
            gain_uv: gain,
        };
        let raw = crate::raw::RawBinary::open(&dat, p).map_err(|e| invalid(&dat, e.to_string()))?;
        if raw.n_samples != s.n_samples || raw.trailing_bytes != 0 {
            return Err(invalid(
                &dat,
                format!(
                    "{} samples of {} channels; sample_numbers.npy says {}",
                    raw.n_samples,
                    s.channels.len(),
                    s.n_samples
                ),
            ));
        }
        Ok(raw)
    }
}
