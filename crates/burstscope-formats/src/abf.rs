//! Axon Binary Format (pCLAMP / Clampex / AxoScope), ABF1 (1.x) and ABF2
//! (2.x), written from the format's description: the ABF1 header's fixed
//! layout (Axon's ABF User Guide as transcribed in pyABF's documentation)
//! and ABF2's section map with its protocol, ADC, DAC, epoch, strings, tag
//! and synch-array sections (Axon's SDK structures).
//!
//! [`Abf::open`] reads the header; samples are read per sweep and channel
//! with [`Abf::sweep`], scaled to the channel's physical units as float32
//! (`raw × gain + offset`, the gain from the ADC range and resolution, the
//! instrument scale factor, signal and programmable gains and a telegraphed
//! gain). Sweeps are fixed-length (episodic), variable-length (triggered,
//! from the synch array) or one gap-free sweep. The protocol's epoch table
//! per DAC (holding, steps, ramps, pulses, digital outputs) is in
//! [`Abf::dacs`], laid out per sweep by [`Abf::sweep_epochs`]; tags and
//! comments with their times in [`Abf::tags`].
//!
//! ```no_run
//! let abf = burstscope_formats::abf::Abf::open("cell.abf".as_ref()).unwrap();
//! for s in 0..abf.sweeps.len() {
//!     let y = abf.sweep(s, 0).unwrap(); // channel 0, in abf.channels[0].units
//!     println!("sweep {s}: {} samples at {} Hz", y.len(), abf.rate_hz);
//! }
//! ```

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// ABF block size: section positions are in blocks.
const BLOCK: u64 = 512;

/// Why an ABF file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum AbfError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not ABF or its header is inconsistent.
    #[error("{}: {field}: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The header field or section.
        field: String,
        /// What was found and what was expected.
        problem: String,
    },
    /// A sweep or channel that the file does not have.
    #[error("{}: {what}", path.display())]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// Which index.
        what: String,
    },
}

/// The ABF generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbfFormat {
    /// ABF 1.x (fixed 2048- or 6144-byte header).
    V1,
    /// ABF 2.x (section map).
    V2,
}

/// Acquisition mode (`nOperationMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationMode {
    /// 1: triggered sweeps of variable length.
    VariableLengthEvents,
    /// 2: triggered sweeps of fixed length.
    FixedLengthEvents,
    /// 3: one continuous recording.
    GapFree,
    /// 4: high-speed oscilloscope.
    HighSpeedOscilloscope,
    /// 5: episodic stimulation (sweeps with a command waveform).
    Episodic,
}

impl OperationMode {
    fn from_code(c: i16) -> Option<Self> {
        Some(match c {
            1 => Self::VariableLengthEvents,
            2 => Self::FixedLengthEvents,
            3 => Self::GapFree,
            4 => Self::HighSpeedOscilloscope,
            5 => Self::Episodic,
            _ => return None,
        })
    }

    /// The header's code.
    #[must_use]
    pub fn code(self) -> i16 {
        match self {
            Self::VariableLengthEvents => 1,
            Self::FixedLengthEvents => 2,
            Self::GapFree => 3,
            Self::HighSpeedOscilloscope => 4,
            Self::Episodic => 5,
        }
    }
}

/// One recorded (ADC) channel.
#[derive(Debug, Clone, PartialEq)]
pub struct AbfChannel {
    /// Name as the acquisition program shows it (e.g. `IN 0`).
    pub name: String,
    /// Physical units (e.g. `pA`, `mV`).
    pub units: String,
    /// Physical ADC number.
    pub adc: i16,
    /// Physical units per stored count (integer data).
    pub gain: f32,
    /// Added after the gain.
    pub offset: f32,
    /// A telegraphed amplifier gain was applied.
    pub telegraph_enabled: bool,
    /// The telegraphed amplifier mode: `Some(true)` current clamp,
    /// `Some(false)` voltage clamp, `None` not telegraphed.
    pub telegraph_current_clamp: Option<bool>,
    /// Telegraphed low-pass filter (Hz), when telegraphed.
    pub telegraph_filter_hz: Option<f32>,
    /// Telegraphed membrane capacitance compensation (pF), when telegraphed.
    pub telegraph_membrane_cap_pf: Option<f32>,
}

/// Kind of an epoch of the waveform editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochKind {
    /// A constant level.
    Step,
    /// A linear ramp from the previous level to this one.
    Ramp,
    /// A pulse train (period and width).
    Pulse,
    /// A triangle train.
    Triangle,
    /// A cosine train.
    Cosine,
    /// A biphasic pulse train.
    Biphasic,
    /// A type code this reader does not know.
    Other(i16),
}

impl EpochKind {
    fn from_code(c: i16) -> Option<Self> {
        Some(match c {
            0 => return None,
            1 => Self::Step,
            2 => Self::Ramp,
            3 => Self::Pulse,
            4 => Self::Triangle,
            5 => Self::Cosine,
            7 => Self::Biphasic,
            o => Self::Other(o),
        })
    }

    /// A short name (`step`, `ramp`, `pulse`, `triangle`, `cosine`, `biphasic`).
    #[must_use]
    pub fn name(self) -> String {
        match self {
            Self::Step => "step".into(),
            Self::Ramp => "ramp".into(),
            Self::Pulse => "pulse".into(),
            Self::Triangle => "triangle".into(),
            Self::Cosine => "cosine".into(),
            Self::Biphasic => "biphasic".into(),
            Self::Other(c) => format!("type {c}"),
        }
    }
}

/// One epoch of a DAC's waveform (the protocol's epoch table row).
#[derive(Debug, Clone, PartialEq)]
pub struct Epoch {
    /// Epoch number (0 = A, 1 = B, ...).
    pub index: usize,
    /// Kind.
    pub kind: EpochKind,
    /// Level in the DAC's units at sweep 0.
    pub init_level: f32,
    /// Level added per sweep.
    pub level_inc: f32,
    /// Duration at sweep 0 (samples per channel).
    pub init_duration: i64,
    /// Duration added per sweep (samples).
    pub duration_inc: i64,
    /// Train period (samples), for trains.
    pub pulse_period: i64,
    /// Train pulse width (samples), for trains.
    pub pulse_width: i64,
    /// Digital outputs during the epoch (bit k = output k).
    pub digital: u16,
}

/// One command (DAC) channel.
#[derive(Debug, Clone, PartialEq)]
pub struct AbfDac {
    /// Name (e.g. `Cmd 0`).
    pub name: String,
    /// Units of the command (`mV` in voltage clamp, `pA` in current clamp).
    pub units: String,
    /// Holding level in `units`.
    pub holding: f32,
    /// Waveform generated from the epoch table.
    pub waveform_enabled: bool,
    /// The membrane test was enabled on this DAC.
    pub membrane_test: bool,
    /// Between sweeps the DAC holds the last epoch's level instead of the
    /// holding level (`nInterEpisodeLevel`): the next sweep starts there.
    pub hold_last_level: bool,
    /// Enabled epochs in order.
    pub epochs: Vec<Epoch>,
}

/// An epoch laid out in one sweep: samples `[start, end)` of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepEpoch {
    /// `None` for the holding periods before the first and after the last epoch.
    pub epoch: Option<usize>,
    /// Kind (holding periods are steps).
    pub kind: EpochKind,
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
    /// Level in the DAC's units.
    pub level: f32,
    /// Digital outputs.
    pub digital: u16,
}

/// A sweep's place in the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepSpan {
    /// First multiplexed frame (one sample of every channel) of the sweep.
    pub first_frame: u64,
    /// Samples per channel.
    pub len: usize,
    /// Start time (s) on the acquisition's clock (the synch array's start
    /// times; the same clock as the tags), or sweep index × length when the
    /// file has no synch array.
    pub start_s: f64,
}

/// A tag or comment entered during the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct AbfTag {
    /// Time from the start of the recording (s).
    pub time_s: f64,
    /// The text (e.g. `+drug at 3min`).
    pub comment: String,
    /// 0 time tag, 1 comment, 2 external, 3 voice.
    pub kind: i16,
}

/// How samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// 16-bit integers, scaled by each channel's gain and offset.
    I16,
    /// 32-bit floats, already in physical units.
    F32,
}

/// An opened ABF file: its header, the layout of its data and warnings
/// about what it says.
#[derive(Debug)]
pub struct Abf {
    /// The file.
    pub path: PathBuf,
    /// ABF1 or ABF2.
    pub format: AbfFormat,
    /// Format version as `major.minor.bugfix.build` (e.g. `2.6.0.0`).
    pub version: String,
    /// Acquisition mode.
    pub mode: OperationMode,
    /// Samples per second per channel.
    pub rate_hz: f64,
    /// Recorded channels in their order in the data.
    pub channels: Vec<AbfChannel>,
    /// Command channels with their epoch tables.
    pub dacs: Vec<AbfDac>,
    /// Sweeps.
    pub sweeps: Vec<SweepSpan>,
    /// The protocol's sweep start-to-start interval (s); 0 when unset.
    pub episode_interval_s: f64,
    /// Tags and comments.
    pub tags: Vec<AbfTag>,
    /// The protocol file the recording used (may be empty).
    pub protocol_path: String,
    /// The file comment (may be empty).
    pub comment: String,
    /// The program that wrote it (ABF2; e.g. `Clampex`).
    pub creator: String,
    /// Recording start as `YYYY-MM-DDTHH:MM:SS.sss` when the header has it.
    pub start: Option<String>,
    /// `nExperimentType` (0 voltage clamp, 1 current clamp, 2 unspecified in Clampex 10+).
    pub experiment_type: i16,
    /// Sample storage.
    pub sample_format: SampleFormat,
    /// What looks wrong in the header; the values are still read.
    pub warnings: Vec<String>,
    data_offset: u64,
    n_points: u64,
    file: File,
}

/// Little-endian field access with the file name for errors.
struct Bytes<'a> {
    b: &'a [u8],
}

impl Bytes<'_> {
    fn u8(&self, at: usize) -> u8 {
        self.b.get(at).copied().unwrap_or(0)
    }
    fn i16(&self, at: usize) -> i16 {
        self.b.get(at..at + 2).map_or(0, |s| i16::from_le_bytes([s[0], s[1]]))
    }
    fn i32(&self, at: usize) -> i32 {
        self.b.get(at..at + 4).map_or(0, |s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u32(&self, at: usize) -> u32 {
        self.b.get(at..at + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn i64(&self, at: usize) -> i64 {
        self.b.get(at..at + 8).map_or(0, |s| i64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
    }
    fn f32(&self, at: usize) -> f32 {
        f32::from_bits(self.u32(at))
    }
    /// Fixed-width text: up to the first NUL, trailing spaces trimmed, µ as u.
    fn text(&self, at: usize, len: usize) -> String {
        let s = self.b.get(at..(at + len).min(self.b.len())).unwrap_or(&[]);
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        latin1(&s[..end]).trim().to_string()
    }
}

/// Latin-1 bytes as text (Clampex writes µ as 0xB5).
fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| if c == 0xB5 { 'u' } else { char::from(c) }).collect()
}

impl Abf {
    /// Reads the header of `path`.
    ///
    /// # Errors
    /// [`AbfError`] naming the file and the field when it is not ABF or its
    /// header does not describe its data.
    pub fn open(path: &Path) -> Result<Self, AbfError> {
        let io = |e| AbfError::Io { path: path.to_path_buf(), source: e };
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut sig = [0u8; 4];
        file.read_exact_at(&mut sig, 0).map_err(|_| AbfError::Invalid {
            path: path.to_path_buf(),
            field: "signature".into(),
            problem: format!("the file has {size} bytes; an ABF file starts with \"ABF \" or \"ABF2\""),
        })?;
        match &sig {
            b"ABF " => v1::read(path, file, size),
            b"ABF2" => v2::read(path, file, size),
            _ => Err(AbfError::Invalid {
                path: path.to_path_buf(),
                field: "signature".into(),
                problem: format!(
                    "starts with {:?}; expected \"ABF \" (ABF1) or \"ABF2\"",
                    String::from_utf8_lossy(&sig)
                ),
            }),
        }
    }

    /// The samples of one sweep of one channel, in the channel's units.
    ///
    /// # Errors
    /// A sweep or channel out of range, or a read error.
    pub fn sweep(&self, sweep: usize, channel: usize) -> Result<Vec<f32>, AbfError> {
        let mut all = self.sweep_channels(sweep, &[channel])?;
        Ok(all.pop().unwrap_or_default())
    }

    /// The samples of one sweep for several channels (one read of the sweep).
    ///
    /// # Errors
    /// A sweep or channel out of range, or a read error.
    pub fn sweep_channels(&self, sweep: usize, channels: &[usize]) -> Result<Vec<Vec<f32>>, AbfError> {
        let span = *self.sweeps.get(sweep).ok_or_else(|| AbfError::OutOfRange {
            path: self.path.clone(),
            what: format!(
                "sweep {sweep}: the file has {} sweeps (0–{})",
                self.sweeps.len(),
                self.sweeps.len().saturating_sub(1)
            ),
        })?;
        let nch = self.channels.len();
        if let Some(&c) = channels.iter().find(|&&c| c >= nch) {
            return Err(AbfError::OutOfRange {
                path: self.path.clone(),
                what: format!("channel {c}: the file has {nch} channels"),
            });
        }
        let width = match self.sample_format {
            SampleFormat::I16 => 2,
            SampleFormat::F32 => 4,
        };
        let frames = span.len;
        let mut raw = vec![0u8; frames * nch * width];
        let at = self.data_offset + span.first_frame * (nch * width) as u64;
        self.file.read_exact_at(&mut raw, at).map_err(|e| AbfError::Invalid {
            path: self.path.clone(),
            field: "data section".into(),
            problem: format!("sweep {sweep} ({} bytes at byte {at}) is past the end of the file: {e}", raw.len()),
        })?;
        Ok(channels
            .iter()
            .map(|&c| {
                let ch = &self.channels[c];
                match self.sample_format {
                    SampleFormat::I16 => (0..frames)
                        .map(|i| {
                            let k = (i * nch + c) * 2;
                            f32::from(i16::from_le_bytes([raw[k], raw[k + 1]])) * ch.gain + ch.offset
                        })
                        .collect(),
                    SampleFormat::F32 => (0..frames)
                        .map(|i| {
                            let k = (i * nch + c) * 4;
                            f32::from_le_bytes([raw[k], raw[k + 1], raw[k + 2], raw[k + 3]])
                        })
                        .collect(),
                }
            })
            .collect())
    }

    /// The command waveform's epochs in `sweep` for `dac`: Clampex holds
    /// for the first 1/64 of the sweep, then plays the enabled epochs
    /// (levels and durations incremented per sweep), then holds again to
    /// the end. Empty when the DAC's waveform is off (it held its holding
    /// level) or the sweep is out of range.
    #[must_use]
    pub fn sweep_epochs(&self, sweep: usize, dac: usize) -> Vec<SweepEpoch> {
        if !self.dacs.get(dac).is_some_and(|d| d.waveform_enabled) {
            return Vec::new();
        }
        self.epoch_layout(sweep, dac)
    }

    /// The DAC's epoch table laid out in `sweep` as [`Abf::sweep_epochs`]
    /// does, whether or not the waveform was played (a table can be written
    /// with its waveform switched off).
    #[must_use]
    pub fn epoch_layout(&self, sweep: usize, dac: usize) -> Vec<SweepEpoch> {
        let (Some(span), Some(d)) = (self.sweeps.get(sweep), self.dacs.get(dac)) else { return Vec::new() };
        if d.epochs.is_empty() {
            return Vec::new();
        }
        let level_of = |e: &Epoch, k: usize| {
            #[allow(clippy::cast_precision_loss)]
            let k = k as f32;
            e.init_level + e.level_inc * k
        };
        // With `hold_last_level` the sweep starts (and ends) at the level of
        // the last epoch (of the previous sweep, at the start).
        let last_level = |k: usize| d.epochs.last().map_or(d.holding, |e| level_of(e, k));
        let (before, after) = if d.hold_last_level {
            (if sweep == 0 { d.holding } else { last_level(sweep - 1) }, last_level(sweep))
        } else {
            (d.holding, d.holding)
        };
        let n = span.len;
        let mut pos = n / 64;
        let mut out =
            vec![SweepEpoch { epoch: None, kind: EpochKind::Step, start: 0, end: pos, level: before, digital: 0 }];
        for e in &d.epochs {
            let dur = e.init_duration + e.duration_inc * sweep as i64;
            let dur = usize::try_from(dur.max(0)).unwrap_or(0);
            let end = (pos + dur).min(n);
            out.push(SweepEpoch {
                epoch: Some(e.index),
                kind: e.kind,
                start: pos,
                end,
                level: level_of(e, sweep),
                digital: e.digital,
            });
            pos = end;
        }
        out.push(SweepEpoch { epoch: None, kind: EpochKind::Step, start: pos, end: n, level: after, digital: 0 });
        out
    }

    /// The command waveform of `sweep` on `dac` (in the DAC's units, one
    /// value per sample): the holding level, then the epochs as Clampex plays
    /// them (steps; ramps from the previous level; pulse trains at the level
    /// for the pulse width of each period, else the previous level). Only the
    /// holding level when the DAC's waveform is off; empty for a sweep or DAC
    /// out of range.
    ///
    /// ```no_run
    /// # use burstscope_formats::abf::Abf;
    /// let abf = Abf::open("cell.abf".as_ref()).unwrap();
    /// let command_mv = abf.sweep_command(0, 0);
    /// assert_eq!(command_mv.len(), abf.sweeps[0].len);
    /// ```
    #[must_use]
    pub fn sweep_command(&self, sweep: usize, dac: usize) -> Vec<f32> {
        let (Some(span), Some(d)) = (self.sweeps.get(sweep), self.dacs.get(dac)) else { return Vec::new() };
        let mut out = vec![d.holding; span.len];
        let mut previous = d.holding;
        for e in self.sweep_epochs(sweep, dac) {
            if e.epoch.is_none() {
                out[e.start.min(span.len)..e.end.min(span.len)].fill(e.level);
                previous = e.level;
                continue;
            }
            let seg = &mut out[e.start.min(span.len)..e.end.min(span.len)];
            let width = seg.len();
            match e.kind {
                EpochKind::Ramp => {
                    // from the previous level to this one, both ends included
                    #[allow(clippy::cast_precision_loss)]
                    let steps = width.saturating_sub(1).max(1) as f64;
                    for (k, v) in seg.iter_mut().enumerate() {
                        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
                        let x = f64::from(previous) + f64::from(e.level - previous) * (k as f64 / steps);
                        #[allow(clippy::cast_possible_truncation)]
                        {
                            *v = x as f32;
                        }
                    }
                }
                EpochKind::Pulse | EpochKind::Biphasic | EpochKind::Triangle | EpochKind::Cosine => {
                    let ep = e.epoch.and_then(|i| d.epochs.iter().find(|x| x.index == i));
                    let (period, on) = ep.map_or((0, 0), |x| (x.pulse_period, x.pulse_width));
                    if period > 0 && on > 0 {
                        let (period, on) =
                            (usize::try_from(period).unwrap_or(usize::MAX), usize::try_from(on).unwrap_or(0));
                        for (k, v) in seg.iter_mut().enumerate() {
                            *v = if k % period < on { e.level } else { previous };
                        }
                    } else {
                        seg.fill(e.level);
                    }
                }
                EpochKind::Step | EpochKind::Other(_) => seg.fill(e.level),
            }
            previous = e.level;
        }
        out
    }

    /// Whether `channel` records in current clamp: the amplifier's telegraph
    /// says so, or the command (DAC 0) is a current. A channel whose units say
    /// pA in current clamp records membrane potential under a wrong label.
    #[must_use]
    pub fn is_current_clamp(&self, channel: usize) -> bool {
        let Some(c) = self.channels.get(channel) else { return false };
        c.telegraph_current_clamp == Some(true)
            || (c.telegraph_current_clamp.is_none() && self.dacs.first().is_some_and(|d| is_current_unit(&d.units)))
            || is_voltage_unit(&c.units) && c.telegraph_current_clamp != Some(false)
    }

    /// Total samples per channel in the file.
    #[must_use]
    pub fn total_samples(&self) -> u64 {
        self.n_points / self.channels.len().max(1) as u64
    }

    /// Sweeps laid out from the data size (fixed length) or the synch array
    /// (variable length), with warnings for what does not fit.
    fn layout_sweeps(
        path: &Path,
        mode: OperationMode,
        episodes: u32,
        nch: usize,
        n_points: u64,
        synch: &[(i64, i64)],
        synch_unit_s: f64,
        rate_hz: f64,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<SweepSpan>, AbfError> {
        let frames_total = n_points / nch as u64;
        if !n_points.is_multiple_of(nch as u64) {
            warnings.push(format!(
                "{n_points} samples are not a whole number of frames of {nch} channels; the last is dropped"
            ));
        }
        if mode == OperationMode::VariableLengthEvents
            || (!synch.is_empty() && mode != OperationMode::Episodic && mode != OperationMode::GapFree)
        {
            let mut out = Vec::with_capacity(synch.len());
            let mut frame = 0u64;
            for (i, &(start, len)) in synch.iter().enumerate() {
                let frames = u64::try_from(len.max(0)).unwrap_or(0) / nch as u64;
                if frame + frames > frames_total {
                    return Err(AbfError::Invalid {
                        path: path.to_path_buf(),
                        field: format!("synch array entry {i}"),
                        problem: format!(
                            "sweep of {frames} samples ends past the {frames_total} samples in the data section"
                        ),
                    });
                }
                #[allow(clippy::cast_precision_loss)]
                let start_s =
                    if synch_unit_s > 0.0 { start as f64 * synch_unit_s } else { start as f64 / nch as f64 / rate_hz };
                out.push(SweepSpan { first_frame: frame, len: usize::try_from(frames).unwrap_or(0), start_s });
                frame += frames;
            }
            if !out.is_empty() {
                return Ok(out);
            }
            warnings.push("variable-length sweeps without a synch array: read as one sweep".into());
        }
        let sweeps = if mode == OperationMode::GapFree { 1 } else { u64::from(episodes.max(1)) };
        if sweeps > frames_total.max(1) {
            return Err(AbfError::Invalid {
                path: path.to_path_buf(),
                field: "lActualEpisodes".into(),
                problem: format!("{sweeps} sweeps but only {frames_total} samples per channel in the data section"),
            });
        }
        let per = frames_total / sweeps;
        if !frames_total.is_multiple_of(sweeps) {
            warnings.push(format!("{frames_total} samples per channel do not divide into {sweeps} sweeps"));
        }
        #[allow(clippy::cast_precision_loss)]
        Ok((0..sweeps)
            .map(|k| {
                let start_s = match synch.get(usize::try_from(k).unwrap_or(usize::MAX)) {
                    Some(&(t, _)) if synch_unit_s > 0.0 => t as f64 * synch_unit_s,
                    _ => (k * per) as f64 / rate_hz,
                };
                SweepSpan { first_frame: k * per, len: usize::try_from(per).unwrap_or(0), start_s }
            })
            .collect())
    }
}

/// Warnings about channels whose units contradict the amplifier mode.
/// A current unit as ABF headers write them.
#[must_use]
pub fn is_current_unit(u: &str) -> bool {
    matches!(u.trim(), "pA" | "nA" | "A" | "uA" | "µA" | "fA")
}

/// A voltage unit as ABF headers write them.
#[must_use]
pub fn is_voltage_unit(u: &str) -> bool {
    matches!(u.trim(), "mV" | "V" | "uV" | "µV")
}

fn unit_warnings(channels: &[AbfChannel], dacs: &[AbfDac], warnings: &mut Vec<String>) {
    for (i, c) in channels.iter().enumerate() {
        let cc = c.telegraph_current_clamp == Some(true) || dacs.first().is_some_and(|d| is_current_unit(&d.units));
        if cc && is_current_unit(&c.units) {
            warnings.push(format!(
                "channel {i} ({}) says {} but the amplifier is in current clamp (command in {}): it probably records membrane potential; its values are kept as stored",
                c.name,
                c.units,
                dacs.first().map_or("?", |d| d.units.as_str())
            ));
        }
        if c.units.is_empty() {
            warnings.push(format!("channel {i}: no units in the header"));
        }
    }
}

/// A float field that is not a plausible level (uninitialised header bytes).
fn level(v: f32) -> f32 {
    if !v.is_finite() || v.abs() > 1e6 {
        f32::NAN
    } else if v.abs() < 1e-6 {
        0.0
    } else {
        v
    }
}

/// The gain and offset of a channel (the scale computed in double precision
/// and stored as float32, as the data are scaled in float32).
#[allow(clippy::too_many_arguments, clippy::cast_possible_truncation)]
fn scale(
    adc_range: f32,
    resolution: i32,
    instrument: f32,
    signal_gain: f32,
    programmable: f32,
    telegraph: Option<f32>,
    instrument_offset: f32,
    signal_offset: f32,
) -> (f32, f32) {
    let nz = |v: f32| if v == 0.0 || !v.is_finite() { 1.0 } else { f64::from(v) };
    let mut g = 1.0 / nz(instrument) / nz(signal_gain) / nz(programmable);
    if let Some(t) = telegraph {
        g /= nz(t);
    }
    g *= f64::from(adc_range);
    g /= if resolution == 0 { 1.0 } else { f64::from(resolution) };
    (g as f32, (f64::from(instrument_offset) - f64::from(signal_offset)) as f32)
}

fn read_block(file: &File, path: &Path, at: u64, len: usize, what: &str) -> Result<Vec<u8>, AbfError> {
    // Checked before allocating: a damaged count must not ask for gigabytes.
    let size = file.metadata().map_err(|e| AbfError::Io { path: path.to_path_buf(), source: e })?.len();
    if at.saturating_add(len as u64) > size {
        return Err(AbfError::Invalid {
            path: path.to_path_buf(),
            field: what.to_string(),
            problem: format!(
                "{len} bytes at byte {at} end past the file's {size} bytes; the file is truncated or the header damaged"
            ),
        });
    }
    let mut b = vec![0u8; len];
    file.read_exact_at(&mut b, at).map_err(|e| AbfError::Invalid {
        path: path.to_path_buf(),
        field: what.to_string(),
        problem: format!("{len} bytes at byte {at} cannot be read ({e}); the file is truncated"),
    })?;
    Ok(b)
}

mod v1 {
    use super::*;

    /// ABF1's header is 2048 bytes before version 1.6, 6144 after.
    pub(super) fn read(path: &Path, file: File, size: u64) -> Result<Abf, AbfError> {
        let head_len = usize::try_from(size.min(6144)).unwrap_or(6144);
        let raw = read_block(&file, path, 0, head_len, "header")?;
        let h = Bytes { b: &raw };
        let bad =
            |field: &str, problem: String| AbfError::Invalid { path: path.to_path_buf(), field: field.into(), problem };
        let mut warnings = Vec::new();
        let fver = h.f32(4);
        // The first four digits of the float's shortest decimal form
        // (1.83 -> 1.8.3.0; a 1.3 stored as 1.2999999523 -> 1.2.9.9).
        let version = {
            let digits: String = format!("{}", f64::from(fver))
                .chars()
                .filter(char::is_ascii_digit)
                .chain(std::iter::repeat('0'))
                .take(4)
                .collect();
            digits.chars().map(String::from).collect::<Vec<_>>().join(".")
        };
        let extended = fver >= 1.6 && raw.len() >= 6144;
        if !extended {
            warnings.push(format!(
                "ABF {version}: an old header (before 1.6) without telegraphs, protocol path or comment; channel names and the epoch table may be empty"
            ));
        }
        let mode_code = h.i16(8);
        let mode = OperationMode::from_code(mode_code)
            .ok_or_else(|| bad("nOperationMode", format!("{mode_code}; expected 1–5")))?;
        let n_points =
            u64::try_from(h.i32(10)).map_err(|_| bad("lActualAcqLength", format!("{}; expected ≥ 0", h.i32(10))))?;
        let ignored = u64::try_from(h.i16(14).max(0)).unwrap_or(0);
        let episodes = u32::try_from(h.i32(16).max(0)).unwrap_or(0);
        let data_ptr = u64::try_from(h.i32(40)).map_err(|_| bad("lDataSectionPtr", "negative".into()))?;
        let fmt = h.i16(100);
        let sample_format = match fmt {
            0 => SampleFormat::I16,
            1 => SampleFormat::F32,
            o => return Err(bad("nDataFormat", format!("{o}; expected 0 (int16) or 1 (float32)"))),
        };
        let nch = usize::try_from(h.i16(120))
            .ok()
            .filter(|&n| (1..=16).contains(&n))
            .ok_or_else(|| bad("nADCNumChannels", format!("{}; expected 1–16", h.i16(120))))?;
        let interval_us = h.f32(122);
        if !(interval_us.is_finite() && interval_us > 0.0) {
            return Err(bad("fADCSampleInterval", format!("{interval_us} µs; expected > 0")));
        }
        #[allow(clippy::cast_precision_loss)]
        let rate_hz = 1e6 / f64::from(interval_us) / nch as f64;
        let synch_unit = h.f32(130);
        let adc_range = h.f32(244);
        let resolution = h.i32(252);
        let experiment_type = h.i16(260);
        let data_offset = data_ptr * BLOCK + ignored * 2;
        let width = if sample_format == SampleFormat::I16 { 2 } else { 4 };
        if data_offset.saturating_add(n_points.saturating_mul(width)) > size {
            return Err(bad(
                "lActualAcqLength",
                format!(
                    "{n_points} samples from byte {data_offset} need {} bytes; the file has {size}",
                    data_offset + n_points * width
                ),
            ));
        }
        let mut channels = Vec::with_capacity(nch);
        for i in 0..nch {
            let phys = h.i16(410 + 2 * i);
            let p = usize::try_from(phys).ok().filter(|&p| p < 16).ok_or_else(|| {
                bad(&format!("nADCSamplingSeq[{i}]"), format!("{phys}; expected a physical channel 0–15"))
            })?;
            let f = |base: usize| h.f32(base + 4 * p);
            let tele_on = extended && h.i16(4512 + 2 * p) == 1;
            let (gain, offset) = scale(
                adc_range,
                resolution,
                f(922),
                f(1050),
                f(730),
                tele_on.then(|| h.f32(4576 + 4 * p)),
                f(986),
                f(1114),
            );
            channels.push(AbfChannel {
                name: h.text(442 + 10 * p, 10),
                units: h.text(602 + 8 * p, 8),
                adc: phys,
                gain,
                offset,
                telegraph_enabled: tele_on,
                telegraph_current_clamp: tele_on.then(|| h.i16(4768 + 2 * p) == 1),
                telegraph_filter_hz: tele_on.then(|| h.f32(4640 + 4 * p)),
                telegraph_membrane_cap_pf: tele_on.then(|| h.f32(4704 + 4 * p)),
            });
        }
        // DACs: names, units, holding; epochs for the two waveform channels.
        let digital_enabled = h.i16(1436) != 0;
        let active_dac = usize::try_from(h.i16(1440)).unwrap_or(0);
        let mut dacs = Vec::new();
        for d in 0..4 {
            let mut epochs = Vec::new();
            let waveform_enabled = extended && d < 2 && h.i16(2296 + 2 * d) != 0 && h.i16(2300 + 2 * d) == 1;
            if extended && d < 2 {
                for e in 0..10 {
                    let i = d * 10 + e;
                    let Some(kind) = EpochKind::from_code(h.i16(2308 + 2 * i)) else { continue };
                    epochs.push(Epoch {
                        index: e,
                        kind,
                        init_level: level(h.f32(2348 + 4 * i)),
                        level_inc: level(h.f32(2428 + 4 * i)),
                        init_duration: i64::from(h.i32(2508 + 4 * i)),
                        duration_inc: i64::from(h.i32(2588 + 4 * i)),
                        pulse_period: i64::from(h.i32(2136 + 4 * i)),
                        pulse_width: i64::from(h.i32(2216 + 4 * i)),
                        digital: if digital_enabled && d == active_dac {
                            u16::try_from(h.i16(1588 + 2 * e)).unwrap_or(0)
                        } else {
                            0
                        },
                    });
                }
            }
            dacs.push(AbfDac {
                name: h.text(1306 + 10 * d, 10),
                units: h.text(1346 + 8 * d, 8),
                holding: level(h.f32(1394 + 4 * d)),
                waveform_enabled,
                membrane_test: false,
                hold_last_level: extended && d < 2 && h.i16(2304 + 2 * d) != 0,
                epochs,
            });
        }
        // Synch array and tags.
        let synch_ptr = u64::try_from(h.i32(92).max(0)).unwrap_or(0);
        let synch_n = usize::try_from(h.i32(96).max(0)).unwrap_or(0);
        let mut synch = Vec::new();
        if synch_ptr > 0 && synch_n > 0 {
            let b = read_block(&file, path, synch_ptr.saturating_mul(BLOCK), synch_n.saturating_mul(8), "synch array")?;
            let s = Bytes { b: &b };
            synch = (0..synch_n).map(|i| (i64::from(s.i32(8 * i)), i64::from(s.i32(8 * i + 4)))).collect();
        }
        let synch_unit_s = f64::from(synch_unit) * 1e-6;
        let sweeps =
            Abf::layout_sweeps(path, mode, episodes, nch, n_points, &synch, synch_unit_s, rate_hz, &mut warnings)?;
        let tag_ptr = u64::try_from(h.i32(44).max(0)).unwrap_or(0);
        let tag_n = usize::try_from(h.i32(48).max(0)).unwrap_or(0);
        let mut tags = Vec::new();
        if tag_ptr > 0 && tag_n > 0 {
            let b = read_block(&file, path, tag_ptr.saturating_mul(BLOCK), tag_n.saturating_mul(64), "tag section")?;
            let t = Bytes { b: &b };
            // Tag times are in fSynchTimeUnit µs, or in multiplexed samples when it is 0.
            let unit_s = if synch_unit > 0.0 { f64::from(synch_unit) * 1e-6 } else { f64::from(interval_us) * 1e-6 };
            for i in 0..tag_n {
                tags.push(AbfTag {
                    time_s: f64::from(t.i32(64 * i)) * unit_s,
                    comment: t.text(64 * i + 4, 56),
                    kind: t.i16(64 * i + 60),
                });
            }
        }
        let date = h.i32(20);
        let secs = h.i32(24);
        let start = (date > 0).then(|| {
            let (yy, mm, dd) = (date / 10000, date / 100 % 100, date % 100);
            let year = if yy < 100 { if yy >= 80 { 1900 + yy } else { 2000 + yy } } else { yy };
            let ms = i32::from(h.i16(366)).clamp(0, 999);
            format!("{year:04}-{mm:02}-{dd:02}T{:02}:{:02}:{:02}.{ms:03}", secs / 3600, secs / 60 % 60, secs % 60)
        });
        unit_warnings(&channels, &dacs, &mut warnings);
        Ok(Abf {
            path: path.to_path_buf(),
            format: AbfFormat::V1,
            version,
            mode,
            rate_hz,
            channels,
            dacs,
            sweeps,
            episode_interval_s: f64::from(h.f32(178)),
            tags,
            protocol_path: if extended { h.text(4898, 256) } else { String::new() },
            comment: if extended { h.text(5154, 128) } else { String::new() },
            creator: String::new(),
            start,
            experiment_type,
            sample_format,
            warnings,
            data_offset,
            n_points,
            file,
        })
    }
}

mod v2 {
    use super::*;

    /// A section of the map: (first block, bytes per entry, entries).
    #[derive(Clone, Copy)]
    struct Section {
        block: u64,
        bytes: usize,
        entries: usize,
    }

    fn section(h: &Bytes<'_>, at: usize) -> Section {
        Section {
            block: u64::from(h.u32(at)),
            bytes: usize::try_from(h.u32(at + 4)).unwrap_or(0),
            entries: usize::try_from(h.i64(at + 8).max(0)).unwrap_or(0),
        }
    }

    fn read_section(file: &File, path: &Path, s: Section, name: &str, size: u64) -> Result<Vec<u8>, AbfError> {
        if s.block == 0 || s.entries == 0 || s.bytes == 0 {
            return Ok(Vec::new());
        }
        let len = s.bytes.saturating_mul(s.entries);
        let at = s.block * BLOCK;
        if at.saturating_add(len as u64) > size {
            return Err(AbfError::Invalid {
                path: path.to_path_buf(),
                field: name.to_string(),
                problem: format!(
                    "{} entries of {} bytes at block {} end past the file's {size} bytes",
                    s.entries, s.bytes, s.block
                ),
            });
        }
        read_block(file, path, at, len, name)
    }

    /// The indexed strings: index 0 is empty, then the NUL-separated
    /// strings that follow the section's 44-byte header.
    fn strings(b: &[u8]) -> Vec<String> {
        let body = if b.starts_with(b"SSCH") && b.len() > 44 { &b[44..] } else { b };
        let mut out = vec![String::new()];
        out.extend(body.split(|&c| c == 0).map(|s| latin1(s).trim().to_string()));
        out
    }

    pub(super) fn read(path: &Path, file: File, size: u64) -> Result<Abf, AbfError> {
        let raw = read_block(&file, path, 0, 512, "header")?;
        let h = Bytes { b: &raw };
        let bad =
            |field: &str, problem: String| AbfError::Invalid { path: path.to_path_buf(), field: field.into(), problem };
        let mut warnings = Vec::new();
        let version = format!("{}.{}.{}.{}", h.u8(7), h.u8(6), h.u8(5), h.u8(4));
        let episodes = h.u32(12);
        let sample_format = match h.i16(30) {
            0 => SampleFormat::I16,
            1 => SampleFormat::F32,
            o => return Err(bad("nDataFormat", format!("{o}; expected 0 (int16) or 1 (float32)"))),
        };
        let sec = |at| section(&h, at);
        let (protocol_s, adc_s, dac_s, epoch_s, epd_s, strings_s, data_s, tag_s, synch_s) =
            (sec(76), sec(92), sec(108), sec(124), sec(156), sec(220), sec(236), sec(252), sec(316));
        let protocol = read_section(&file, path, protocol_s, "protocol section", size)?;
        if protocol.len() < 206 {
            return Err(bad("protocol section", format!("{} bytes; expected at least 206", protocol.len())));
        }
        let p = Bytes { b: &protocol };
        let strings =
            strings(&read_section(&file, path, Section { entries: 1, ..strings_s }, "strings section", size)?);
        let s = |i: i64| usize::try_from(i).ok().and_then(|i| strings.get(i)).cloned().unwrap_or_default();
        let mode_code = p.i16(0);
        let mode = OperationMode::from_code(mode_code)
            .ok_or_else(|| bad("protocol nOperationMode", format!("{mode_code}; expected 1–5")))?;
        let interval_us = p.f32(2);
        if !(interval_us.is_finite() && interval_us > 0.0) {
            return Err(bad("protocol fADCSequenceInterval", format!("{interval_us} µs; expected > 0")));
        }
        let rate_hz = 1e6 / f64::from(interval_us);
        let synch_unit = p.f32(14);
        let adc_range = p.f32(110);
        let resolution = p.i32(118);
        let experiment_type = p.i16(126);
        let comment = s(i64::from(p.i32(132)));
        let digital_enabled = p.i16(140) != 0;
        let active_dac = usize::try_from(p.i16(142)).unwrap_or(0);
        // ADCs, in the order of the data.
        let adc = read_section(&file, path, adc_s, "ADC section", size)?;
        let nch = adc_s.entries;
        if nch == 0 || adc_s.bytes < 82 {
            return Err(bad("ADC section", format!("{nch} channels of {} bytes; expected ≥ 1 of 128", adc_s.bytes)));
        }
        let mut channels = Vec::with_capacity(nch);
        for i in 0..nch {
            let a = Bytes { b: &adc[i * adc_s.bytes..(i + 1) * adc_s.bytes] };
            let tele_on = a.i16(2) == 1;
            let (gain, offset) = scale(
                adc_range,
                resolution,
                a.f32(40),
                a.f32(48),
                a.f32(28),
                tele_on.then(|| a.f32(6)),
                a.f32(44),
                a.f32(52),
            );
            channels.push(AbfChannel {
                name: s(i64::from(a.i32(74))),
                units: s(i64::from(a.i32(78))),
                adc: a.i16(0),
                gain,
                offset,
                telegraph_enabled: tele_on,
                telegraph_current_clamp: tele_on.then(|| a.i16(18) == 1),
                telegraph_filter_hz: tele_on.then(|| a.f32(10)),
                telegraph_membrane_cap_pf: tele_on.then(|| a.f32(14)),
            });
        }
        // DACs and their epochs.
        let dac = read_section(&file, path, dac_s, "DAC section", size)?;
        let epd = read_section(&file, path, epd_s, "epoch-per-DAC section", size)?;
        let ep = read_section(&file, path, epoch_s, "epoch section", size)?;
        let digital_of = |epoch: i16| -> u16 {
            if !digital_enabled || epoch_s.bytes < 4 {
                return 0;
            }
            (0..epoch_s.entries)
                .map(|k| Bytes { b: &ep[k * epoch_s.bytes..(k + 1) * epoch_s.bytes] })
                .find(|e| e.i16(0) == epoch)
                .map_or(0, |e| u16::try_from(e.i16(2)).unwrap_or(0))
        };
        let mut dacs = Vec::new();
        if dac_s.bytes >= 92 {
            for k in 0..dac_s.entries {
                let d = Bytes { b: &dac[k * dac_s.bytes..(k + 1) * dac_s.bytes] };
                let num = d.i16(0);
                let mut epochs = Vec::new();
                if epd_s.bytes >= 30 {
                    for j in 0..epd_s.entries {
                        let e = Bytes { b: &epd[j * epd_s.bytes..(j + 1) * epd_s.bytes] };
                        if e.i16(2) != num {
                            continue;
                        }
                        let Some(kind) = EpochKind::from_code(e.i16(4)) else { continue };
                        let index = usize::try_from(e.i16(0)).unwrap_or(0);
                        epochs.push(Epoch {
                            index,
                            kind,
                            init_level: level(e.f32(6)),
                            level_inc: level(e.f32(10)),
                            init_duration: i64::from(e.i32(14)),
                            duration_inc: i64::from(e.i32(18)),
                            pulse_period: i64::from(e.i32(22)),
                            pulse_width: i64::from(e.i32(26)),
                            digital: if usize::try_from(num).ok() == Some(active_dac) {
                                digital_of(e.i16(0))
                            } else {
                                0
                            },
                        });
                    }
                }
                epochs.sort_by_key(|e| e.index);
                dacs.push(AbfDac {
                    name: s(i64::from(d.i32(24))),
                    units: s(i64::from(d.i32(28))),
                    holding: level(d.f32(12)),
                    waveform_enabled: d.i16(40) != 0 && d.i16(42) == 1,
                    membrane_test: d.i16(90) != 0,
                    hold_last_level: d.i16(44) != 0,
                    epochs,
                });
            }
        }
        // Data layout.
        let width: u64 = if sample_format == SampleFormat::I16 { 2 } else { 4 };
        if data_s.bytes != 0 && data_s.bytes as u64 != width {
            return Err(bad("data section", format!("{} bytes per sample; nDataFormat says {width}", data_s.bytes)));
        }
        let n_points = data_s.entries as u64;
        let data_offset = data_s.block * BLOCK;
        if data_offset.saturating_add(n_points.saturating_mul(width)) > size {
            return Err(bad(
                "data section",
                format!(
                    "{n_points} samples from byte {data_offset} need {} bytes; the file has {size}",
                    data_offset + n_points * width
                ),
            ));
        }
        let synch_raw = read_section(&file, path, synch_s, "synch array", size)?;
        let sy = Bytes { b: &synch_raw };
        let synch: Vec<(i64, i64)> = if synch_s.bytes >= 8 {
            (0..synch_s.entries)
                .map(|k| (i64::from(sy.i32(k * synch_s.bytes)), i64::from(sy.i32(k * synch_s.bytes + 4))))
                .collect()
        } else {
            Vec::new()
        };
        let synch_unit_s = f64::from(synch_unit) * 1e-6;
        let sweeps =
            Abf::layout_sweeps(path, mode, episodes, nch, n_points, &synch, synch_unit_s, rate_hz, &mut warnings)?;
        // Tags: times in fSynchTimeUnit µs, or in multiplexed samples when it is 0.
        let tag_raw = read_section(&file, path, tag_s, "tag section", size)?;
        let mut tags = Vec::new();
        if tag_s.bytes >= 62 {
            #[allow(clippy::cast_precision_loss)]
            let unit_s = if synch_unit > 0.0 { f64::from(synch_unit) * 1e-6 } else { 1.0 / rate_hz / nch as f64 };
            for k in 0..tag_s.entries {
                let t = Bytes { b: &tag_raw[k * tag_s.bytes..(k + 1) * tag_s.bytes] };
                tags.push(AbfTag { time_s: f64::from(t.i32(0)) * unit_s, comment: t.text(4, 56), kind: t.i16(60) });
            }
        }
        let date = h.u32(16);
        let ms = h.u32(20);
        let start = (date > 19_000_000).then(|| {
            let (y, m, d) = (date / 10000, date / 100 % 100, date % 100);
            let t = ms / 1000;
            format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}", t / 3600, t / 60 % 60, t % 60, ms % 1000)
        });
        unit_warnings(&channels, &dacs, &mut warnings);
        Ok(Abf {
            path: path.to_path_buf(),
            format: AbfFormat::V2,
            version,
            mode,
            rate_hz,
            channels,
            dacs,
            sweeps,
            episode_interval_s: f64::from(p.f32(62)),
            tags,
            protocol_path: s(i64::from(h.u32(72))),
            comment,
            creator: s(i64::from(h.u32(60))),
            start,
            experiment_type,
            sample_format,
            warnings,
            data_offset,
            n_points,
            file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_abf_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.abf");
        std::fs::write(&p, b"HDF5 not an abf").unwrap();
        let e = Abf::open(&p).unwrap_err().to_string();
        assert!(e.contains("x.abf") && e.contains("signature") && e.contains("\"ABF2\""), "{e}");
        std::fs::write(&p, b"AB").unwrap();
        let e = Abf::open(&p).unwrap_err().to_string();
        assert!(e.contains("the file has 2 bytes"), "{e}");
    }

    #[test]
    fn a_truncated_abf2_names_the_section() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.abf");
        let mut b = vec![0u8; 512];
        b[..4].copy_from_slice(b"ABF2");
        // protocol section at block 1, 512 bytes, 1 entry: past the end of the file
        b[76..80].copy_from_slice(&1u32.to_le_bytes());
        b[80..84].copy_from_slice(&512u32.to_le_bytes());
        b[84..92].copy_from_slice(&1i64.to_le_bytes());
        std::fs::write(&p, &b).unwrap();
        let e = Abf::open(&p).unwrap_err().to_string();
        assert!(e.contains("protocol section") && e.contains("past the file"), "{e}");
    }

    #[test]
    fn scale_follows_the_gains() {
        // 10 V over 32768 counts, 0.5 V/unit instrument, x2 signal, x5 telegraph
        let (g, o) = scale(10.0, 32768, 0.5, 2.0, 1.0, Some(5.0), 1.0, 0.25);
        assert!((f64::from(g) - 10.0 / 32768.0 / 0.5 / 2.0 / 5.0).abs() < 1e-12);
        assert_eq!(o, 0.75);
    }
}
