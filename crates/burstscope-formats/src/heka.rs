//! HEKA PatchMaster bundles (`.dat` with the `.pul`, `.pgf` and other trees
//! inside; PatchMaster v2x73 and later, tree format version 9), written
//! from HEKA's own description of the format (`DataFile_v9.txt`,
//! `PulsedFile_v9.txt`, `StimFile_v9.txt`, `TimeFormat.txt`).
//!
//! A bundle starts with a 256-byte header (`DAT2`, the writing program's
//! version, time, the endian flag and up to 12 items: start, length and
//! extension of each embedded file). The pulsed tree (`.pul`) holds the
//! recording: Root → Group (usually a cell) → Series (one run of a
//! protocol) → Sweep → Trace, each trace pointing at its samples in the raw
//! data (offset, count, int16/int32/float32/float64, scale to SI units,
//! interleaving). The stimulus tree (`.pgf`) holds the protocols: Root →
//! Stimulation → Channel → Segment, from which [`Heka::command`] lays out a
//! sweep's command waveform.
//!
//! Trees are read with the record sizes the file states (newer writers add
//! fields; older ones have fewer — missing fields read as zero), in either
//! byte order.
//!
//! ```no_run
//! let heka = burstscope_formats::heka::Heka::open("cell.dat".as_ref()).unwrap();
//! for (g, group) in heka.groups.iter().enumerate() {
//!     for (s, series) in group.series.iter().enumerate() {
//!         let trace = &series.sweeps[0].traces[0];
//!         let y = heka.trace(g, s, 0, 0).unwrap(); // in trace.y_unit (SI: A, V)
//!         println!("{} / {}: {} samples of {}", group.label, series.label, y.len(), trace.y_unit);
//!     }
//! }
//! ```

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Why a HEKA bundle cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum HekaError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a PatchMaster bundle or a tree in it is inconsistent.
    #[error("{}: {field}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The header field, tree or record.
        field: String,
        /// What was found and what was expected.
        problem: String,
    },
    /// A group, series, sweep or trace the file does not have.
    #[error("{}: {what}", path.display())]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// Which index.
        what: String,
    },
}

/// Sample format of a trace (`TrDataFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HekaDataFormat {
    /// 16-bit integers.
    Int16,
    /// 32-bit integers.
    Int32,
    /// 32-bit floats.
    Real32,
    /// 64-bit floats.
    Real64,
}

impl HekaDataFormat {
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => Self::Int16,
            1 => Self::Int32,
            2 => Self::Real32,
            3 => Self::Real64,
            _ => return None,
        })
    }

    /// Bytes per sample.
    #[must_use]
    pub fn bytes(self) -> usize {
        match self {
            Self::Int16 => 2,
            Self::Int32 | Self::Real32 => 4,
            Self::Real64 => 8,
        }
    }
}

/// The amplifier's recording mode of a trace (`TrRecordingMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingMode {
    /// Inside-out patch.
    InOut,
    /// Cell-attached.
    OnCell,
    /// Outside-out patch.
    OutOut,
    /// Whole-cell (voltage clamp).
    WholeCell,
    /// Current clamp.
    CClamp,
    /// Voltage clamp.
    VClamp,
    /// No mode recorded.
    NoMode,
}

impl RecordingMode {
    fn from_code(c: u8) -> Self {
        match c {
            0 => Self::InOut,
            1 => Self::OnCell,
            2 => Self::OutOut,
            3 => Self::WholeCell,
            4 => Self::CClamp,
            5 => Self::VClamp,
            _ => Self::NoMode,
        }
    }

    /// PatchMaster's name of the mode.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::InOut => "InOut",
            Self::OnCell => "OnCell",
            Self::OutOut => "OutOut",
            Self::WholeCell => "WholeCell",
            Self::CClamp => "CClamp",
            Self::VClamp => "VClamp",
            Self::NoMode => "NoMode",
        }
    }
}

/// One trace: one channel of one sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct HekaTrace {
    /// Label (e.g. `I-mon`, `V-mon`).
    pub label: String,
    /// Trace number within the sweep (1-based, `TrTraceID`).
    pub trace_id: i32,
    /// Byte offset of the first sample in the bundle.
    pub data_offset: u64,
    /// Number of samples.
    pub points: usize,
    /// Sample format.
    pub format: HekaDataFormat,
    /// Stored samples are little-endian.
    pub little_endian: bool,
    /// SI units per stored count.
    pub scaler: f64,
    /// The zero offset PatchMaster measured (`TrZeroData`, SI units; the
    /// stored samples are not zero-subtracted).
    pub zero_data: f64,
    /// Unit of the samples (SI: `A`, `V`).
    pub y_unit: String,
    /// Sampling interval (s).
    pub x_interval_s: f64,
    /// Time of the first sample relative to the sweep (s).
    pub x_start_s: f64,
    /// Unit of the abscissa (`s`).
    pub x_unit: String,
    /// The amplifier's mode.
    pub recording_mode: RecordingMode,
    /// A leak trace.
    pub is_leak: bool,
    /// Recorded from the current monitor.
    pub is_imon: bool,
    /// Recorded from the voltage monitor.
    pub is_vmon: bool,
    /// Analog bandwidth (Hz).
    pub bandwidth_hz: f64,
    /// Pipette resistance (Ω).
    pub pipette_resistance_ohm: f64,
    /// Seal resistance (Ω).
    pub seal_resistance_ohm: f64,
    /// C-slow compensation (F).
    pub c_slow_f: f64,
    /// Series conductance (S), the inverse of the compensated access resistance.
    pub g_series_s: f64,
    /// The trace's holding level (V in voltage clamp, A in current clamp).
    pub holding: f64,
    /// The AD channel.
    pub adc_channel: i16,
    /// The linked DA channel.
    pub linked_da_channel: i32,
    /// Interleave block size (bytes; 0: contiguous).
    pub interleave_size: usize,
    /// Bytes from the start of one interleave block to the next.
    pub interleave_skip: usize,
}

/// One sweep: its traces recorded together.
#[derive(Debug, Clone, PartialEq)]
pub struct HekaSweep {
    /// Label.
    pub label: String,
    /// The stimulation (1-based index into [`Heka::stimulations`]).
    pub stim_count: i32,
    /// Sweep number within the series (1-based).
    pub sweep_count: i32,
    /// Start (Unix seconds, UTC).
    pub time_unix_s: f64,
    /// PatchMaster's timer at the start (s).
    pub timer_s: f64,
    /// Bath temperature (°C).
    pub temperature_c: f64,
    /// Traces.
    pub traces: Vec<HekaTrace>,
}

/// One series: one run of a protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct HekaSeries {
    /// Label (usually the protocol's name).
    pub label: String,
    /// Comment.
    pub comment: String,
    /// Start (Unix seconds, UTC).
    pub time_unix_s: f64,
    /// Sweeps.
    pub sweeps: Vec<HekaSweep>,
}

/// One group: usually one cell or experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct HekaGroup {
    /// Label (e.g. `E-1`).
    pub label: String,
    /// Text.
    pub text: String,
    /// Experiment number.
    pub experiment_number: i32,
    /// Series.
    pub series: Vec<HekaSeries>,
}

/// How a segment's level or duration changes from sweep to sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrementMode {
    /// Sweep k: `x0·f^k + Δ·(1 + f + … + f^(k−1))` (with f = 1: `x0 + kΔ`).
    Increase,
    /// The same sequence, last sweep first.
    Decrease,
    /// Interleaved, alternating and logarithmic modes: not laid out.
    Other(u8),
}

/// A segment's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentClass {
    /// A constant level.
    Constant,
    /// A ramp from the previous level to this one.
    Ramp,
    /// Continuous, sine, square or chirp waves: not laid out.
    Other(u8),
}

/// One segment of a stimulus channel.
#[derive(Debug, Clone, PartialEq)]
pub struct HekaSegment {
    /// Class.
    pub class: SegmentClass,
    /// Stored (0: not stored, 1: stored, 2/3: start/end stored).
    pub store_kind: u8,
    /// Level of the first sweep (V or A; see [`HekaStimChannel::dac_unit`]).
    pub voltage: f64,
    /// 0: the constant above; 1: the holding level; other: a parameter.
    pub voltage_source: i32,
    /// Level factor per sweep.
    pub delta_v_factor: f64,
    /// Level increment per sweep.
    pub delta_v_increment: f64,
    /// How the level changes.
    pub voltage_inc_mode: IncrementMode,
    /// Duration of the first sweep (s).
    pub duration_s: f64,
    /// 0: the constant above; other: a parameter.
    pub duration_source: i32,
    /// Duration factor per sweep.
    pub delta_t_factor: f64,
    /// Duration increment per sweep (s).
    pub delta_t_increment: f64,
    /// How the duration changes.
    pub duration_inc_mode: IncrementMode,
}

/// One channel of a stimulation: what it records and what it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct HekaStimChannel {
    /// The channel whose segments define this one's stimulus (1-based).
    pub linked_channel: i32,
    /// Unit of the recorded trace.
    pub y_unit: String,
    /// The AD channel recorded.
    pub adc_channel: i16,
    /// Stored to the data file.
    pub do_write: bool,
    /// The amplifier mode (1: voltage clamp, 2: current clamp, 0: any).
    pub ampl_mode: u8,
    /// The DA channel driven.
    pub dac_channel: i16,
    /// Unit of the levels (`V` or `A`).
    pub dac_unit: String,
    /// Holding level.
    pub holding: f64,
    /// Levels are relative to the holding level (`StimToDacID` bit 1).
    pub relative: bool,
    /// Segments.
    pub segments: Vec<HekaSegment>,
}

/// One stimulation protocol of the stimulus tree.
#[derive(Debug, Clone, PartialEq)]
pub struct HekaStimulation {
    /// Name.
    pub name: String,
    /// Sampling interval (s).
    pub sample_interval_s: f64,
    /// Interval between sweep starts (s).
    pub sweep_interval_s: f64,
    /// Sweeps.
    pub number_sweeps: i32,
    /// Data are stored from this segment on (0: from the start).
    pub data_start_segment: i32,
    /// ... and from this time into it (s).
    pub data_start_time_s: f64,
    /// Channels.
    pub channels: Vec<HekaStimChannel>,
}

/// An opened PatchMaster bundle: the trees; samples are read on demand.
#[derive(Debug, Clone)]
pub struct Heka {
    /// The file.
    pub path: PathBuf,
    /// The writing program's version (e.g. `v2x73.5, 21-May-2015`).
    pub version: String,
    /// Last modification (Unix seconds, UTC).
    pub time_unix_s: f64,
    /// The bundle's endian flag.
    pub little_endian: bool,
    /// The items of the bundle (extension, start, length).
    pub items: Vec<(String, u64, u64)>,
    /// The pulsed tree's start of the recording (Unix seconds, UTC).
    pub start_unix_s: f64,
    /// The pulsed tree's groups.
    pub groups: Vec<HekaGroup>,
    /// The stimulus tree's stimulations (empty when the bundle has no `.pgf`).
    pub stimulations: Vec<HekaStimulation>,
    /// Odd values that were read anyway.
    pub warnings: Vec<String>,
    /// Bytes of the bundle.
    pub file_len: u64,
}

/// HEKA stores times as seconds since 1990-01-01 in a Mac-derived epoch
/// (`TimeFormat.txt`): subtract `JanFirst1990`, wrap negatives by 2³², add
/// the Windows base (seconds from 1601 to the Mac epoch); Unix time is that
/// minus the seconds from 1601 to 1970.
#[must_use]
pub fn heka_time_to_unix(t: f64) -> f64 {
    const JAN_FIRST_1990: f64 = 1_580_970_496.0;
    const HIGH_DWORD: f64 = 4_294_967_296.0;
    const MAC_BASE: f64 = 9_561_652_096.0;
    const WINDOWS_TO_UNIX: f64 = 11_644_473_600.0;
    let mut x = t - JAN_FIRST_1990;
    if x < 0.0 {
        x += HIGH_DWORD;
    }
    x + MAC_BASE - WINDOWS_TO_UNIX
}

/// A record's bytes in a tree, read with the file's byte order; fields past
/// the record's stored size read as zero (older writers).
#[derive(Clone, Copy)]
struct Rec<'a> {
    b: &'a [u8],
    le: bool,
}

impl Rec<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(s) = self.b.get(at..at + N) {
            out.copy_from_slice(s);
            if !self.le {
                out.reverse();
            }
        }
        out
    }
    fn u8(&self, at: usize) -> u8 {
        self.b.get(at).copied().unwrap_or(0)
    }
    fn i16(&self, at: usize) -> i16 {
        i16::from_le_bytes(self.bytes(at))
    }
    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes(self.bytes(at))
    }
    fn i32(&self, at: usize) -> i32 {
        i32::from_le_bytes(self.bytes(at))
    }
    fn f64(&self, at: usize) -> f64 {
        f64::from_le_bytes(self.bytes(at))
    }
    fn str(&self, at: usize, len: usize) -> String {
        let end = (at + len).min(self.b.len());
        let s = self.b.get(at..end).unwrap_or(&[]);
        let s = s.split(|&c| c == 0).next().unwrap_or(&[]);
        String::from_utf8_lossy(s).trim_end().to_string()
    }
}

/// A tree node: its record and children.
struct Node<'a> {
    rec: Rec<'a>,
    children: Vec<Node<'a>>,
}

/// Reads a tree (`Tree` magic, levels, level sizes, records depth-first
/// each followed by its number of children).
fn read_tree<'a>(b: &'a [u8], what: &str, path: &Path) -> Result<Node<'a>, HekaError> {
    let bad = |problem: String| HekaError::Invalid { path: path.into(), field: what.into(), problem };
    if b.len() < 8 {
        return Err(bad(format!("{} bytes; a tree needs at least 8", b.len())));
    }
    let le = match &b[..4] {
        b"eerT" => true,
        b"Tree" => false,
        m => return Err(bad(format!("starts with {m:?}, expected the magic \"Tree\" or \"eerT\""))),
    };
    let r = Rec { b, le };
    let levels = r.i32(4);
    if !(1..=10).contains(&levels) {
        return Err(bad(format!("{levels} levels, expected 1 to 10")));
    }
    let levels = levels as usize;
    let mut sizes = Vec::with_capacity(levels);
    for k in 0..levels {
        let s = r.i32(8 + 4 * k);
        if s < 0 || 8 + 4 * levels > b.len() {
            return Err(bad(format!("level {k} has record size {s}")));
        }
        sizes.push(s as usize);
    }
    let mut pos = 8 + 4 * levels;
    load_node(b, le, &sizes, 0, &mut pos).map_err(bad)
}

fn load_node<'a>(b: &'a [u8], le: bool, sizes: &[usize], level: usize, pos: &mut usize) -> Result<Node<'a>, String> {
    let size = sizes[level];
    let end = pos.checked_add(size).filter(|&e| e + 4 <= b.len()).ok_or_else(|| {
        format!("a level-{level} record of {size} bytes at byte {} runs past the tree's {} bytes", *pos, b.len())
    })?;
    let rec = Rec { b: &b[*pos..end], le };
    let count = Rec { b, le }.i32(end);
    *pos = end + 4;
    if count < 0 {
        return Err(format!("a level-{level} record at byte {} has {count} children", end - size));
    }
    let mut children = Vec::new();
    if level + 1 < sizes.len() {
        // every child takes at least 4 bytes: a count past that is damage
        let room = (b.len() - *pos) / (sizes[level + 1] + 4);
        if count as usize > room {
            return Err(format!(
                "a level-{level} record at byte {} says {count} children; only {room} fit in the tree",
                end - size
            ));
        }
        children.reserve(count as usize);
        for _ in 0..count {
            children.push(load_node(b, le, sizes, level + 1, pos)?);
        }
    }
    Ok(Node { rec, children })
}

fn inc_mode(c: u8) -> IncrementMode {
    match c {
        0 => IncrementMode::Increase,
        1 => IncrementMode::Decrease,
        c => IncrementMode::Other(c),
    }
}

impl Heka {
    /// Opens a bundle: reads the header and the pulsed and stimulus trees.
    ///
    /// # Errors
    /// Not a `DAT2` bundle, no pulsed tree, a tree that does not fit its
    /// item, or an unreadable file.
    pub fn open(path: &Path) -> Result<Self, HekaError> {
        let io = |source| HekaError::Io { path: path.into(), source };
        let bad = |field: &str, problem: String| HekaError::Invalid { path: path.into(), field: field.into(), problem };
        let file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut head = [0u8; 256];
        if file_len < 256 {
            return Err(bad("bundle header", format!("{file_len} bytes; a PatchMaster bundle has a 256-byte header")));
        }
        file.read_exact_at(&mut head, 0).map_err(io)?;
        match &head[..4] {
            b"DAT2" => {}
            b"DAT1" => {
                return Err(bad(
                    "signature",
                    "DAT1: the bundle header is empty (separate .pul/.pgf files); export a bundled .dat".into(),
                ));
            }
            s => {
                return Err(bad("signature", format!("{s:?}, expected \"DAT2\" (a PatchMaster bundle)")));
            }
        }
        let little_endian = head[52] != 0;
        let h = Rec { b: &head, le: little_endian };
        let version = h.str(8, 32);
        let time_unix_s = heka_time_to_unix(h.f64(40));
        let n_items = h.i32(48);
        if !(0..=12).contains(&n_items) {
            return Err(bad("items", format!("{n_items}, expected 0 to 12")));
        }
        let mut items = Vec::new();
        for k in 0..n_items as usize {
            let at = 64 + 16 * k;
            let start = h.i32(at);
            let len = h.i32(at + 4);
            let ext = h.str(at + 8, 8);
            if ext.is_empty() {
                continue;
            }
            if start < 0 || len < 0 || start as u64 + len as u64 > file_len {
                return Err(bad(
                    &format!("item {k} ({ext})"),
                    format!("{len} bytes at {start} in a {file_len}-byte bundle"),
                ));
            }
            items.push((ext, start as u64, len as u64));
        }
        let read_item = |ext: &str| -> Result<Option<Vec<u8>>, HekaError> {
            let Some((_, start, len)) = items.iter().find(|(e, _, _)| e.eq_ignore_ascii_case(ext)) else {
                return Ok(None);
            };
            let mut b = vec![0u8; *len as usize];
            file.read_exact_at(&mut b, *start).map_err(io)?;
            Ok(Some(b))
        };
        let pul = read_item(".pul")?.ok_or_else(|| {
            bad("items", format!("no .pul (pulsed tree) among {:?}", items.iter().map(|i| &i.0).collect::<Vec<_>>()))
        })?;
        let mut warnings = Vec::new();
        let root = read_tree(&pul, ".pul tree", path)?;
        let start_unix_s = heka_time_to_unix(root.rec.f64(520));
        let groups = root.children.iter().map(|g| group_from(g, &mut warnings)).collect();
        let stimulations = match read_item(".pgf")? {
            Some(pgf) => {
                let root = read_tree(&pgf, ".pgf tree", path)?;
                root.children.iter().map(stimulation_from).collect()
            }
            None => {
                warnings.push("no .pgf (stimulus tree) in the bundle: no command waveforms".into());
                Vec::new()
            }
        };
        Ok(Self {
            path: path.into(),
            version,
            time_unix_s,
            little_endian,
            items,
            start_unix_s,
            groups,
            stimulations,
            warnings,
            file_len,
        })
    }

    /// The trace at (group, series, sweep, trace), 0-based.
    ///
    /// # Errors
    /// An index the file does not have.
    pub fn trace_info(&self, g: usize, s: usize, w: usize, t: usize) -> Result<&HekaTrace, HekaError> {
        self.groups
            .get(g)
            .and_then(|x| x.series.get(s))
            .and_then(|x| x.sweeps.get(w))
            .and_then(|x| x.traces.get(t))
            .ok_or_else(|| HekaError::OutOfRange {
                path: self.path.clone(),
                what: format!("group {g}, series {s}, sweep {w}, trace {t}: not in the file"),
            })
    }

    /// The samples of a trace in its SI unit (`raw × scaler`; not
    /// zero-subtracted, as PatchMaster stores them).
    ///
    /// # Errors
    /// An index the file does not have, samples past the end of the file,
    /// or an unreadable file.
    pub fn trace(&self, g: usize, s: usize, w: usize, t: usize) -> Result<Vec<f64>, HekaError> {
        let tr = self.trace_info(g, s, w, t)?;
        let bytes = read_samples(&self.path, self.file_len, tr)?;
        let scale = tr.scaler;
        let bs = tr.format.bytes();
        let v = bytes.chunks_exact(bs).map(|c| {
            let mut a = [0u8; 8];
            a[..bs].copy_from_slice(c);
            if !tr.little_endian {
                a[..bs].reverse();
            }
            match tr.format {
                HekaDataFormat::Int16 => f64::from(i16::from_le_bytes([a[0], a[1]])) * scale,
                HekaDataFormat::Int32 => f64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])) * scale,
                HekaDataFormat::Real32 => f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])) * scale,
                HekaDataFormat::Real64 => f64::from_le_bytes(a) * scale,
            }
        });
        Ok(v.collect())
    }

    /// The start of the bundle's earliest sweep (Unix seconds): the zero of
    /// the recording's clock when sweeps are placed in time.
    #[must_use]
    pub fn first_sweep_unix_s(&self) -> f64 {
        self.groups
            .iter()
            .flat_map(|g| g.series.iter().flat_map(|s| s.sweeps.iter().map(|w| w.time_unix_s)))
            .fold(f64::INFINITY, f64::min)
    }

    /// The stimulation a sweep ran (its `StimCount`), when the stimulus tree has it.
    #[must_use]
    pub fn stimulation_of(&self, g: usize, s: usize, w: usize) -> Option<&HekaStimulation> {
        let sw = self.groups.get(g)?.series.get(s)?.sweeps.get(w)?;
        usize::try_from(sw.stim_count).ok()?.checked_sub(1).and_then(|k| self.stimulations.get(k))
    }

    /// The command waveform behind a trace of a sweep (in the stimulus
    /// channel's [`HekaStimChannel::dac_unit`], one value per stored
    /// sample), laid out from the stimulus tree: the trace's channel is the
    /// stimulation's stored channel in the trace's position, its stimulus
    /// the channel it links to (`chLinkedChannel`). `None` when the bundle
    /// has no stimulus tree or the protocol uses segments or increment
    /// modes this reader does not lay out (sine, chirp, square, continuous;
    /// interleaved, alternating or logarithmic steps; parameters as
    /// sources).
    #[must_use]
    pub fn command(&self, g: usize, s: usize, w: usize, t: usize) -> Option<Vec<f64>> {
        let stim = self.stimulation_of(g, s, w)?;
        let tr = self.trace_info(g, s, w, t).ok()?;
        let sweep = &self.groups[g].series[s].sweeps[w];
        let stored: Vec<&HekaStimChannel> = stim.channels.iter().filter(|c| c.do_write).collect();
        let ch = stored
            .get(t)
            .filter(|c| c.adc_channel == tr.adc_channel)
            .or_else(|| stored.iter().find(|c| c.adc_channel == tr.adc_channel))?;
        let link = usize::try_from(ch.linked_channel).ok().and_then(|k| k.checked_sub(1));
        let src = link.and_then(|k| stim.channels.get(k)).unwrap_or(ch);
        let n_sweeps = usize::try_from(stim.number_sweeps.max(1)).ok()?;
        let k = usize::try_from(sweep.sweep_count).ok()?.checked_sub(1)?.min(n_sweeps - 1);
        lay_out(stim, src, k, n_sweeps, tr.x_interval_s, tr.points)
    }
}

/// The value of a sweep-dependent segment parameter for sweep `k` of `n`.
fn stepped(x0: f64, factor: f64, inc: f64, mode: IncrementMode, k: usize, n: usize) -> Option<f64> {
    let i = match mode {
        IncrementMode::Increase => k,
        IncrementMode::Decrease => n - 1 - k,
        IncrementMode::Other(_) => {
            if inc == 0.0 && factor == 1.0 {
                0
            } else {
                return None;
            }
        }
    };
    let mut x = x0;
    for _ in 0..i {
        x = x * factor + inc;
    }
    Some(x)
}

/// Lays out a channel's segments for sweep `k` at `dt_s`, keeping the
/// stored part (from the data start segment and time, stored segments
/// only), `points` samples.
fn lay_out(
    stim: &HekaStimulation,
    ch: &HekaStimChannel,
    k: usize,
    n: usize,
    dt_s: f64,
    points: usize,
) -> Option<Vec<f64>> {
    if !(dt_s > 0.0) {
        return None;
    }
    let base = if ch.relative { ch.holding } else { 0.0 };
    let mut out = Vec::with_capacity(points);
    let mut level = ch.holding;
    let start_seg = usize::try_from(stim.data_start_segment).unwrap_or(0);
    let mut t_seg = 0.0f64;
    for (i, seg) in ch.segments.iter().enumerate() {
        let v0 = match seg.voltage_source {
            0 => seg.voltage + base,
            1 => ch.holding,
            _ => return None,
        };
        if seg.duration_source != 0 {
            return None;
        }
        let v = stepped(v0, seg.delta_v_factor, seg.delta_v_increment, seg.voltage_inc_mode, k, n)?;
        let d =
            stepped(seg.duration_s, seg.delta_t_factor, seg.delta_t_increment, seg.duration_inc_mode, k, n)?.max(0.0);
        let samples = ((t_seg + d) / dt_s).round() as usize - (t_seg / dt_s).round() as usize;
        t_seg += d;
        let skip = if i == start_seg { (stim.data_start_time_s / dt_s).round() as usize } else { 0 };
        let keep = i >= start_seg && seg.store_kind != 0;
        if let SegmentClass::Other(_) = seg.class {
            return None;
        }
        if keep {
            let want = samples.min(skip.saturating_add(points - out.len()));
            for j in skip.min(want)..want {
                out.push(match seg.class {
                    SegmentClass::Ramp => level + (v - level) * (j as f64 + 1.0) / samples as f64,
                    _ => v,
                });
            }
        }
        level = v;
        if out.len() >= points {
            break;
        }
    }
    // PatchMaster may store a few samples past the last segment: hold the level
    while out.len() < points {
        out.push(level);
    }
    Some(out)
}

fn read_samples(path: &Path, file_len: u64, tr: &HekaTrace) -> Result<Vec<u8>, HekaError> {
    let n = tr.points.checked_mul(tr.format.bytes());
    let past = || HekaError::Invalid {
        path: path.into(),
        field: format!("trace {} ({})", tr.trace_id, tr.label),
        problem: format!(
            "{} samples of {} bytes at byte {} (interleave {}/{}) run past the {file_len}-byte file",
            tr.points,
            tr.format.bytes(),
            tr.data_offset,
            tr.interleave_size,
            tr.interleave_skip
        ),
    };
    let n = n.ok_or_else(past)?;
    let file = File::open(path).map_err(|source| HekaError::Io { path: path.into(), source })?;
    let mut out = vec![0u8; 0];
    if tr.interleave_size == 0 || tr.interleave_size >= n {
        if tr.data_offset.checked_add(n as u64).is_none_or(|e| e > file_len) {
            return Err(past());
        }
        out.resize(n, 0);
        file.read_exact_at(&mut out, tr.data_offset).map_err(|source| HekaError::Io { path: path.into(), source })?;
        return Ok(out);
    }
    if tr.interleave_skip < tr.interleave_size {
        return Err(past());
    }
    let blocks = n.div_ceil(tr.interleave_size);
    let last =
        tr.data_offset + ((blocks - 1) * tr.interleave_skip) as u64 + (n - (blocks - 1) * tr.interleave_size) as u64;
    if last > file_len {
        return Err(past());
    }
    out.resize(n, 0);
    for (b, chunk) in out.chunks_mut(tr.interleave_size).enumerate() {
        let at = tr.data_offset + (b * tr.interleave_skip) as u64;
        file.read_exact_at(chunk, at).map_err(|source| HekaError::Io { path: path.into(), source })?;
    }
    Ok(out)
}

fn group_from(g: &Node<'_>, warnings: &mut Vec<String>) -> HekaGroup {
    let r = g.rec;
    let label = r.str(4, 32);
    HekaGroup {
        text: r.str(36, 80),
        experiment_number: r.i32(116),
        series: g.children.iter().map(|s| series_from(s, &label, warnings)).collect(),
        label,
    }
}

fn series_from(s: &Node<'_>, group: &str, warnings: &mut Vec<String>) -> HekaSeries {
    let r = s.rec;
    let label = r.str(4, 32);
    HekaSeries {
        comment: r.str(36, 80),
        time_unix_s: heka_time_to_unix(r.f64(136)),
        sweeps: s.children.iter().map(|w| sweep_from(w, &format!("{group}/{label}"), warnings)).collect(),
        label,
    }
}

fn sweep_from(w: &Node<'_>, series: &str, warnings: &mut Vec<String>) -> HekaSweep {
    let r = w.rec;
    HekaSweep {
        label: r.str(4, 32),
        stim_count: r.i32(40),
        sweep_count: r.i32(44),
        time_unix_s: heka_time_to_unix(r.f64(48)),
        timer_s: r.f64(56),
        temperature_c: r.f64(96),
        traces: w.children.iter().filter_map(|t| trace_from(t, series, warnings)).collect(),
    }
}

fn trace_from(t: &Node<'_>, series: &str, warnings: &mut Vec<String>) -> Option<HekaTrace> {
    let r = t.rec;
    let label = r.str(4, 32);
    let kind = r.u16(64);
    let Some(format) = HekaDataFormat::from_code(r.u8(70)) else {
        warnings.push(format!("{series}: trace {label}: data format {} unknown; trace skipped", r.u8(70)));
        return None;
    };
    let (points, offset) = (r.i32(44), r.i32(40));
    if points < 0 || offset < 0 {
        warnings.push(format!("{series}: trace {label}: {points} samples at byte {offset}; trace skipped"));
        return None;
    }
    let mut scaler = r.f64(72);
    if !scaler.is_finite() || scaler == 0.0 {
        warnings.push(format!("{series}: trace {label}: data scaler {scaler}; samples read unscaled"));
        scaler = 1.0;
    }
    Some(HekaTrace {
        label,
        trace_id: r.i32(36),
        data_offset: offset as u64,
        points: points as usize,
        format,
        little_endian: kind & 1 != 0,
        scaler,
        zero_data: r.f64(88),
        y_unit: r.str(96, 8),
        x_interval_s: r.f64(104),
        x_start_s: r.f64(112),
        x_unit: r.str(120, 8),
        recording_mode: RecordingMode::from_code(r.u8(68)),
        is_leak: kind & 2 != 0,
        is_imon: kind & 8 != 0,
        is_vmon: kind & 16 != 0,
        bandwidth_hz: r.f64(144),
        pipette_resistance_ohm: r.f64(152),
        seal_resistance_ohm: r.f64(168),
        c_slow_f: r.f64(176),
        g_series_s: r.f64(184),
        holding: r.f64(408),
        adc_channel: r.i16(222),
        linked_da_channel: r.i32(216),
        interleave_size: usize::try_from(r.i32(292)).unwrap_or(0),
        interleave_skip: usize::try_from(r.i32(296)).unwrap_or(0),
    })
}

fn stimulation_from(st: &Node<'_>) -> HekaStimulation {
    let r = st.rec;
    HekaStimulation {
        name: r.str(4, 32),
        sample_interval_s: r.f64(112),
        sweep_interval_s: r.f64(120),
        number_sweeps: r.i32(144),
        data_start_segment: r.i32(100),
        data_start_time_s: r.f64(104),
        channels: st.children.iter().map(channel_from).collect(),
    }
}

fn channel_from(c: &Node<'_>) -> HekaStimChannel {
    let r = c.rec;
    HekaStimChannel {
        linked_channel: r.i32(4),
        y_unit: r.str(12, 8),
        adc_channel: r.i16(20),
        do_write: r.u8(23) != 0,
        ampl_mode: r.u8(25),
        dac_channel: r.i16(28),
        dac_unit: r.str(40, 8),
        holding: r.f64(48),
        relative: r.u16(76) & 2 != 0,
        segments: c.children.iter().map(segment_from).collect(),
    }
}

fn segment_from(s: &Node<'_>) -> HekaSegment {
    let r = s.rec;
    HekaSegment {
        class: match r.u8(4) {
            0 => SegmentClass::Constant,
            1 => SegmentClass::Ramp,
            c => SegmentClass::Other(c),
        },
        store_kind: r.u8(5),
        voltage_inc_mode: inc_mode(r.u8(6)),
        duration_inc_mode: inc_mode(r.u8(7)),
        voltage: r.f64(8),
        voltage_source: r.i32(16),
        delta_v_factor: r.f64(20),
        delta_v_increment: r.f64(28),
        duration_s: r.f64(36),
        duration_source: r.i32(44),
        delta_t_factor: r.f64(48),
        delta_t_increment: r.f64(56),
    }
}

/// Is this a PatchMaster bundle (by its signature)?
#[must_use]
pub fn is_heka(path: &Path) -> bool {
    let mut sig = [0u8; 4];
    File::open(path).and_then(|f| f.read_exact_at(&mut sig, 0)).is_ok() && (&sig == b"DAT2" || &sig == b"DAT1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heka_times_follow_the_documented_examples() {
        // TimeFormat.txt: 221667551 → 09-Jan-1997; 4922414972 → 19-Nov-2009
        let day = |t: f64| (heka_time_to_unix(t) / 86_400.0).floor();
        // 1997-01-09 is day 9870 since 1970-01-01; 2009-11-19 is day 14567
        assert_eq!(day(221_667_551.0), 9870.0);
        assert_eq!(day(4_922_414_972.0), 14567.0);
    }

    #[test]
    fn stepped_levels_increase_decrease_and_refuse_other_modes() {
        assert_eq!(stepped(0.027, 1.0, -0.02, IncrementMode::Increase, 3, 11), Some(0.027 - 0.06));
        assert_eq!(stepped(1.0, 1.0, 1.0, IncrementMode::Decrease, 0, 3), Some(3.0));
        assert_eq!(stepped(1.0, 2.0, 0.0, IncrementMode::Increase, 3, 5), Some(8.0));
        assert_eq!(stepped(1.0, 1.0, 0.5, IncrementMode::Other(4), 1, 3), None);
        assert_eq!(stepped(1.0, 1.0, 0.0, IncrementMode::Other(4), 1, 3), Some(1.0));
    }

    #[test]
    fn damaged_trees_are_errors_not_panics() {
        let p = Path::new("x.pul");
        assert!(read_tree(b"eerT", "t", p).is_err());
        // 1 level of 4 bytes, root claims 1000 children in a 1-level tree: fine (no children read)
        let mut t = b"eerT".to_vec();
        t.extend(2i32.to_le_bytes());
        t.extend(4i32.to_le_bytes());
        t.extend(4i32.to_le_bytes());
        t.extend([0u8; 4]);
        t.extend(1000i32.to_le_bytes());
        assert!(matches!(read_tree(&t, "t", p), Err(e) if e.to_string().contains("children")));
        t.truncate(t.len() - 4);
        t.extend(1i32.to_le_bytes());
        t.extend([0u8; 4]);
        t.extend(0i32.to_le_bytes());
        let root = read_tree(&t, "t", p).unwrap();
        assert_eq!(root.children.len(), 1);
    }
}
