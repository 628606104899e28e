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
        let nch = self.channels.len();
        if out.len() != len * stride || cols.len() > stride || cols.iter().any(|&c| c >= nch) {
            return Err(format!("{}: bad block request", self.dir.display()));
        }
        quality.clipped = vec![0; nch];
        quality.nonfinite = vec![0; nch];
        quality.bad_rows = vec![false; len];
        out.fill(0.0);
        for (j, &c) in cols.iter().enumerate() {
            let ch = &self.channels[c];
            let v = ch.read_values(start, len).map_err(|e| e.to_string())?;
            #[allow(clippy::cast_possible_truncation)]
            let factor = (ch.bit_volts * scale) as f32;
            for (t, &x) in v.iter().enumerate() {
                if x == i16::MIN || x == i16::MAX {
                    quality.bad_rows[t] = true;
                    if count.contains(&t) {
                        quality.clipped[c] += 1;
                    }
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
