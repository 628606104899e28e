//! Blackrock Microsystems NEV files (Cerebus / NeuroPort event files,
//! versions 2.1–2.3), written from the format's description: a basic header
//! (`NEURALEV`, version, bytes of headers, bytes per data packet, timestamp
//! resolution, time origin, application, comment, number of extended
//! headers), 32-byte extended headers (`NEUEVWAV`, `NEUEVLBL`, `DIGLABEL`,
//! ...), then fixed-size data packets: a uint32 timestamp and a uint16 packet
//! id — 0 for the digital and serial inputs (insertion reason, the 16-bit
//! digital input, five analog inputs), 1–2048 for a spike on that electrode
//! (its online-sorted unit: 0 unsorted, 1–16 units, 255 noise; then the
//! waveform).

use std::path::{Path, PathBuf};

/// Errors reading a NEV file.
#[derive(Debug, thiserror::Error)]
pub enum NevError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file does not hold what the format says.
    #[error("{}: {field}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The header field or part.
        field: &'static str,
        /// What is wrong and what was expected.
        problem: String,
    },
}

/// One spike: its electrode, online-sorted unit and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NevSpike {
    /// Timestamp in ticks of [`Nev::timestamp_hz`].
    pub timestamp: u64,
    /// Electrode id (1–2048).
    pub electrode: u16,
    /// Unit: 0 unsorted, 1–16 sorted units, 255 noise.
    pub unit: u8,
}

/// A change on the digital input port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NevDigital {
    /// Timestamp in ticks.
    pub timestamp: u64,
    /// The 16-bit port value after the change.
    pub value: u16,
    /// Packet insertion reason (bit 0: the digital input changed; bit 7: periodic sampling).
    pub reason: u8,
}

/// An opened NEV file (all packets read: NEV files hold events, not samples).
#[derive(Debug, Clone)]
pub struct Nev {
    /// The file.
    pub path: PathBuf,
    /// `major.minor` (e.g. `2.1`).
    pub version: String,
    /// Timestamp ticks per second.
    pub timestamp_hz: f64,
    /// Waveform sample rate, Hz.
    pub sample_hz: f64,
    /// Bytes per data packet.
    pub packet_bytes: usize,
    /// Electrode labels from `NEUEVLBL` headers.
    pub labels: Vec<(u16, String)>,
    /// Digitization factors (nV per unit) per electrode from `NEUEVWAV`
    /// headers (the scale of the electrode's waveforms and of NSx 2.1 data).
    pub digitization_nv: Vec<(u16, u16)>,
    /// Spikes in file order.
    pub spikes: Vec<NevSpike>,
    /// Digital-input changes in file order.
    pub digital: Vec<NevDigital>,
    /// Packets of other ids (e.g. video/tracking in NEV 2.3) and a cut last packet.
    pub warnings: Vec<String>,
}

fn u16_at(b: &[u8], k: usize) -> u16 {
    u16::from_le_bytes([b[k], b[k + 1]])
}

fn u32_at(b: &[u8], k: usize) -> u32 {
    u32::from_le_bytes([b[k], b[k + 1], b[k + 2], b[k + 3]])
}

impl Nev {
    /// Reads `path`.
    ///
    /// # Errors
    /// Not a NEV file, a header that does not fit the file, or an unreadable file.
    pub fn open(path: &Path) -> Result<Self, NevError> {
        let bad = |field: &'static str, problem: String| NevError::Invalid { path: path.into(), field, problem };
        let b = std::fs::read(path).map_err(|source| NevError::Io { path: path.into(), source })?;
        if b.len() < 336 || &b[..8] != b"NEURALEV" {
            return Err(bad("file type", "expected a NEV file starting with NEURALEV (336-byte basic header)".into()));
        }
        let (major, minor) = (b[8], b[9]);
        if major != 2 {
            return Err(bad("version", format!("{major}.{minor}: this reader knows NEV 2.1–2.3")));
        }
        let header_bytes = u32_at(&b, 12) as usize;
        let packet_bytes = u32_at(&b, 16) as usize;
        let timestamp_hz = f64::from(u32_at(&b, 20));
        let sample_hz = f64::from(u32_at(&b, 24));
        let n_ext = u32_at(&b, 332) as usize;
        if header_bytes < 336 + 32 * n_ext || header_bytes > b.len() {
            return Err(bad(
                "bytes in headers",
                format!("{header_bytes} for {n_ext} extended headers in a {}-byte file", b.len()),
            ));
        }
        if !(8..=1024).contains(&packet_bytes) || !(timestamp_hz > 0.0) {
            return Err(bad(
                "bytes per data packet",
                format!(
                    "{packet_bytes} bytes, timestamps at {timestamp_hz} Hz: expected 8–1024 bytes and a positive rate"
                ),
            ));
        }
        let mut labels = Vec::new();
        let mut digitization_nv = Vec::new();
        for e in 0..n_ext {
            let h = &b[336 + 32 * e..336 + 32 * (e + 1)];
            if &h[..8] == b"NEUEVWAV" {
                digitization_nv.push((u16_at(h, 8), u16_at(h, 12)));
            }
            if &h[..8] == b"NEUEVLBL" {
                let text: String =
                    h[10..26].iter().take_while(|&&c| c != 0).map(|&c| char::from(c)).collect::<String>().trim().into();
                labels.push((u16_at(h, 8), text));
            }
        }
        let mut spikes = Vec::new();
        let mut digital = Vec::new();
        let mut warnings = Vec::new();
        let body = &b[header_bytes..];
        let whole = body.len() / packet_bytes;
        if body.len() % packet_bytes != 0 {
            warnings.push(format!(
                "{} bytes after the last whole {packet_bytes}-byte packet (a cut file): ignored",
                body.len() % packet_bytes
            ));
        }
        let mut other = 0usize;
        for p in body.chunks_exact(packet_bytes).take(whole) {
            let timestamp = u64::from(u32_at(p, 0));
            let id = u16_at(p, 4);
            match id {
                0 if packet_bytes >= 10 => {
                    digital.push(NevDigital { timestamp, value: u16_at(p, 8), reason: p[6] });
                }
                1..=2048 => spikes.push(NevSpike { timestamp, electrode: id, unit: p[6] }),
                _ => other += 1,
            }
        }
        if other > 0 {
            warnings.push(format!("{other} packets with ids above 2048 (not spikes or digital events): skipped"));
        }
        Ok(Self {
            path: path.into(),
            version: format!("{major}.{minor}"),
            timestamp_hz,
            sample_hz,
            packet_bytes,
            labels,
            digitization_nv,
            spikes,
            digital,
            warnings,
        })
    }

    /// Spike times (s) per `(electrode, unit)`, in electrode then unit order.
    #[must_use]
    pub fn units(&self) -> Vec<((u16, u8), Vec<f64>)> {
        let mut m: std::collections::BTreeMap<(u16, u8), Vec<f64>> = std::collections::BTreeMap::new();
        for s in &self.spikes {
            #[allow(clippy::cast_precision_loss)]
            m.entry((s.electrode, s.unit)).or_default().push(s.timestamp as f64 / self.timestamp_hz);
        }
        m.into_iter().collect()
    }

    /// The digital-input port's changes (packets whose insertion reason says
    /// the port changed; periodic samples are left out).
    pub fn digital_changes(&self) -> impl Iterator<Item = &NevDigital> {
        self.digital.iter().filter(|d| d.reason & 1 == 1)
    }

    /// The rising edges of the digital input's lines: `(bit, timestamp)` for
    /// every change that sets a bit that was clear (the port starts at 0),
    /// in time order.
    #[must_use]
    pub fn digital_rising_edges(&self) -> Vec<(u8, u64)> {
        let mut prev = 0u16;
        let mut out = Vec::new();
        for d in self.digital_changes() {
            let up = d.value & !prev;
            for bit in 0..16u8 {
                if up >> bit & 1 == 1 {
                    out.push((bit, d.timestamp));
                }
            }
            prev = d.value;
        }
        out
    }
}

/// A Blackrock NSx continuous file: NSx 2.1 (`NEURALSG`: label, sampling
/// period, channel ids, then int16 frames) or 2.2/2.3 (`NEURALCD`: basic
/// header, one 66-byte `CC` extended header per channel with its label and
/// analog/digital ranges, then data packets of a 0x01 byte, a uint32
/// timestamp, a uint32 frame count and the int16 frames), read in blocks as
/// a [`BlockSource`] in µV (the first data packet's frames; a file paused
/// into several packets gives a warning).
#[derive(Debug)]
pub struct Nsx {
    /// The file.
    pub path: PathBuf,
    /// `2.1`, `2.2` or `2.3`.
    pub version: String,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Per channel: electrode id, label, µV per unit (NaN when unknown).
    pub channels: Vec<(u32, String, f64)>,
    /// Frames in the (first) data packet.
    pub n_samples: usize,
    /// Its first frame's time (s; 0 for 2.1).
    pub start_s: f64,
    /// What could not be known (no scale for 2.1 without its NEV, several packets).
    pub warnings: Vec<String>,
    data_offset: u64,
    file: std::fs::File,
    /// Where the bytes read go to be hashed, when the file's identity is wanted.
    tap: Option<std::sync::Arc<burstscope_core::HashTap>>,
}

impl Nsx {
    /// Opens `path`; for NSx 2.1, whose header has no scale, the channels'
    /// digitization factors come from `nev` (the recording's NEV file) when
    /// given — with Blackrock's documented correction of the Cerebus
    /// overflow value 21516 to 152592.547 nV.
    ///
    /// # Errors
    /// Not an NSx file, a header that does not fit, or an unreadable file.
    pub fn open(path: &Path, nev: Option<&Nev>) -> Result<Self, NevError> {
        use std::os::unix::fs::FileExt;
        let bad = |field: &'static str, problem: String| NevError::Invalid { path: path.into(), field, problem };
        let io = |source| NevError::Io { path: path.into(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut head = vec![0u8; usize::try_from(size.min(1 << 20)).unwrap_or(0)];
        file.read_exact_at(&mut head, 0).map_err(io)?;
        let b = &head;
        if b.len() < 32 {
            return Err(bad("file type", "expected an NSx file (NEURALSG or NEURALCD header)".into()));
        }
        let mut warnings = Vec::new();
        let (version, rate_hz, channels, data_offset, n_samples, start_s) = if &b[..8] == b"NEURALSG" {
            let period = u32_at(b, 24);
            let n = u32_at(b, 28) as usize;
            let off = 32 + 4 * n;
            if period == 0 || n == 0 || off > b.len() {
                return Err(bad("header", format!("sampling period {period}, {n} channels: expected positive values")));
            }
            let ids: Vec<u32> = (0..n).map(|k| u32_at(b, 32 + 4 * k)).collect();
            let chans = ids
                .iter()
                .map(|&id| {
                    let label = if id < 129 { format!("chan{id}") } else { format!("ainp{}", id - 128) };
                    let factor = nev.and_then(|nv| {
                        nv.digitization_nv
                            .iter()
                            .find(|d| u32::from(d.0) == id)
                            .map(|d| if d.1 == 21_516 { 152_592.547 } else { f64::from(d.1) })
                    });
                    // nV per unit → µV per unit
                    (id, label, factor.map_or(f64::NAN, |f| f / 1000.0))
                })
                .collect::<Vec<_>>();
            if chans.iter().any(|c| c.2.is_nan()) {
                warnings
                    .push("NSx 2.1 holds no scale: values are in stored units (give the recording's NEV file)".into());
            }
            let frames = usize::try_from((size - off as u64) / (2 * n) as u64).unwrap_or(0);
            ("2.1".to_string(), 30_000.0 / f64::from(period), chans, off as u64, frames, 0.0)
        } else if &b[..8] == b"NEURALCD" {
            if b.len() < 314 {
                return Err(bad("basic header", "shorter than its 314 bytes".into()));
            }
            let header_bytes = u32_at(b, 10) as usize;
            let period = u32_at(b, 286);
            let resolution = u32_at(b, 290);
            let n = u32_at(b, 310) as usize;
            if period == 0 || resolution == 0 || n == 0 || header_bytes != 314 + 66 * n || header_bytes + 9 > b.len() {
                return Err(bad(
                    "basic header",
                    format!("{header_bytes} header bytes for {n} channels, period {period}, resolution {resolution}"),
                ));
            }
            let mut chans = Vec::with_capacity(n);
            for k in 0..n {
                let h = &b[314 + 66 * k..314 + 66 * (k + 1)];
                if &h[..2] != b"CC" {
                    return Err(bad("extended header", format!("header {k} does not start with CC")));
                }
                let id = u32::from(u16_at(h, 2));
                let label: String = h[4..20].iter().take_while(|&&c| c != 0).map(|&c| char::from(c)).collect();
                let i16_at = |o: usize| f64::from(i16::from_le_bytes([h[o], h[o + 1]]));
                let (dmin, dmax, amin, amax) = (i16_at(22), i16_at(24), i16_at(26), i16_at(28));
                let unit: String = h[30..46].iter().take_while(|&&c| c != 0).map(|&c| char::from(c)).collect();
                let to_uv = match unit.trim() {
                    "uV" | "µV" => 1.0,
                    "mV" => 1e3,
                    "V" => 1e6,
                    _ => f64::NAN,
                };
                let per_unit = if dmax > dmin { (amax - amin) / (dmax - dmin) * to_uv } else { f64::NAN };
                chans.push((id, label.trim().to_string(), per_unit));
            }
            let p = header_bytes;
            if b[p] != 1 {
                return Err(bad("data packet", format!("header byte {} where 0x01 starts a packet", b[p])));
            }
            let ts = u32_at(b, p + 1);
            let frames = u32_at(b, p + 5) as usize;
            let off = (p + 9) as u64;
            let room = usize::try_from((size - off) / (2 * n) as u64).unwrap_or(0);
            if frames > room {
                return Err(bad("data packet", format!("{frames} frames announced, {room} in the file")));
            }
            if frames < room {
                warnings.push(format!(
                    "{} frames after the first data packet (a paused recording): only the first packet is read",
                    room - frames
                ));
            }
            let v = format!("{}.{}", b[8], b[9]);
            (v, f64::from(resolution) / f64::from(period), chans, off, frames, f64::from(ts) / f64::from(resolution))
        } else {
            return Err(bad("file type", "expected an NSx file (NEURALSG or NEURALCD header)".into()));
        };
        let tap = burstscope_core::HashTap::of(&file);
        Ok(Self { path: path.into(), version, rate_hz, channels, n_samples, start_s, warnings, data_offset, file, tap })
    }

    /// Stored values of frames `start..start + len` (time-major, all channels).
    ///
    /// # Errors
    /// Out of range or a read error.
    pub fn read_values(&self, start: usize, len: usize) -> Result<Vec<i16>, NevError> {
        use std::os::unix::fs::FileExt;
        if start + len > self.n_samples {
            return Err(NevError::Invalid {
                path: self.path.clone(),
                field: "frames",
                problem: format!("{start}..{} requested of {}", start + len, self.n_samples),
            });
        }
        let n = self.channels.len();
        let mut buf = vec![0u8; 2 * n * len];
        let at = self.data_offset + (2 * n * start) as u64;
        self.file.read_exact_at(&mut buf, at).map_err(|source| NevError::Io { path: self.path.clone(), source })?;
        if let Some(t) = &self.tap {
            t.offer(at, &buf);
        }
        Ok(buf.chunks_exact(2).map(|x| i16::from_le_bytes([x[0], x[1]])).collect())
    }
}

impl burstscope_core::BlockSource for Nsx {
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
        quality: &mut burstscope_core::BlockQuality,
    ) -> Result<(), String> {
        let n = self.channels.len();
        quality.begin(&self.path.display(), n, len, cols, stride, out.len())?;
        let v = self.read_values(start, len).map_err(|e| e.to_string())?;
        out.fill(0.0);
        // per read column: µV per unit (stored units without a scale) × scale
        let factors: Vec<f64> = cols
            .iter()
            .map(|&c| {
                let g = self.channels[c].2;
                if g.is_finite() { g * scale } else { scale }
            })
            .collect();
        for t in 0..len {
            for (j, (&c, f)) in cols.iter().zip(&factors).enumerate() {
                let x = v[t * n + c];
                if x == i16::MIN || x == i16::MAX {
                    quality.clip(c, t, &count);
                }
                #[allow(clippy::cast_possible_truncation)]
                {
                    out[t * stride + j] = (f64::from(x) * f) as f32;
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
    fn nsx_2_2_from_the_description() {
        let mut b = vec![0u8; 314];
        b[..8].copy_from_slice(b"NEURALCD");
        b[8] = 2;
        b[9] = 2;
        b[10..14].copy_from_slice(&(314u32 + 66 * 2).to_le_bytes());
        b[286..290].copy_from_slice(&1u32.to_le_bytes());
        b[290..294].copy_from_slice(&30_000u32.to_le_bytes());
        b[310..314].copy_from_slice(&2u32.to_le_bytes());
        for (k, label) in [(1u16, "elec1"), (2, "elec2")] {
            let mut h = vec![0u8; 66];
            h[..2].copy_from_slice(b"CC");
            h[2..4].copy_from_slice(&k.to_le_bytes());
            h[4..4 + label.len()].copy_from_slice(label.as_bytes());
            for (o, v) in [(22, -32_764i16), (24, 32_764), (26, -8_191), (28, 8_191)] {
                h[o..o + 2].copy_from_slice(&v.to_le_bytes());
            }
            h[30..32].copy_from_slice(b"uV");
            b.extend(h);
        }
        b.push(1);
        b.extend(300u32.to_le_bytes());
        b.extend(3u32.to_le_bytes());
        for v in [10i16, -10, 20, -20, 30, -30] {
            b.extend(v.to_le_bytes());
        }
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("x.ns5");
        std::fs::write(&f, &b).unwrap();
        let n = Nsx::open(&f, None).unwrap();
        assert_eq!((n.version.as_str(), n.rate_hz, n.n_samples), ("2.2", 30_000.0, 3));
        assert!((n.start_s - 0.01).abs() < 1e-12);
        assert_eq!(n.channels[1].1, "elec2");
        assert!((n.channels[0].2 - 0.25).abs() < 1e-3, "{}", n.channels[0].2);
        assert_eq!(n.read_values(1, 2).unwrap(), vec![20, -20, 30, -30]);
        std::fs::write(&f, &b[..320]).unwrap();
        assert!(Nsx::open(&f, None).is_err());
    }

    #[test]
    fn packets_from_the_description_and_bad_files() {
        let mut b = vec![0u8; 336];
        b[..8].copy_from_slice(b"NEURALEV");
        b[8] = 2;
        b[9] = 2;
        b[12..16].copy_from_slice(&(336u32 + 32).to_le_bytes());
        b[16..20].copy_from_slice(&16u32.to_le_bytes());
        b[20..24].copy_from_slice(&30_000u32.to_le_bytes());
        b[24..28].copy_from_slice(&30_000u32.to_le_bytes());
        b[332..336].copy_from_slice(&1u32.to_le_bytes());
        let mut ext = vec![0u8; 32];
        ext[..8].copy_from_slice(b"NEUEVLBL");
        ext[8..10].copy_from_slice(&3u16.to_le_bytes());
        ext[10..15].copy_from_slice(b"elec3");
        b.extend(ext);
        let packet = |ts: u32, id: u16, a: u8, v: u16| {
            let mut p = vec![0u8; 16];
            p[..4].copy_from_slice(&ts.to_le_bytes());
            p[4..6].copy_from_slice(&id.to_le_bytes());
            p[6] = a;
            p[8..10].copy_from_slice(&v.to_le_bytes());
            p
        };
        b.extend(packet(300, 3, 1, 0));
        b.extend(packet(600, 0, 1, 0xff01));
        b.extend(packet(900, 3, 1, 0));
        b.extend(packet(950, 3, 255, 0));
        b.extend([1, 2, 3]);
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("x.nev");
        std::fs::write(&f, &b).unwrap();
        let n = Nev::open(&f).unwrap();
        assert_eq!(n.version, "2.2");
        assert_eq!(n.labels, vec![(3, "elec3".to_string())]);
        assert_eq!(n.units(), vec![((3, 1), vec![0.01, 0.03]), ((3, 255), vec![950.0 / 30_000.0])]);
        assert_eq!(n.digital_changes().map(|d| d.value).collect::<Vec<_>>(), vec![0xff01]);
        assert_eq!(n.warnings.len(), 1);
        std::fs::write(&f, &b[..100]).unwrap();
        assert!(Nev::open(&f).unwrap_err().to_string().contains("NEURALEV"));
        let mut cut = b.clone();
        cut[12..16].copy_from_slice(&99_999u32.to_le_bytes());
        std::fs::write(&f, &cut).unwrap();
        assert!(Nev::open(&f).unwrap_err().to_string().contains("bytes in headers"));
    }
}
