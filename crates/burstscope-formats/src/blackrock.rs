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
        for e in 0..n_ext {
            let h = &b[336 + 32 * e..336 + 32 * (e + 1)];
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
