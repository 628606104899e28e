//! The shared data model of burstscope.
//!
//! Every stage of the pipeline speaks in these plain types: what a recording
//! file holds ([`FileSummary`], [`SeriesInfo`], [`Electrode`]), sorted spike
//! trains ([`Unit`]), experimental epochs ([`Epoch`]), intracellular sweeps
//! ([`SweepInfo`]) and session metadata ([`SessionMeta`]). They carry units in
//! their field names (`rate_hz`, `starting_time_s`) and serialise with serde,
//! so that parameters and results can be written next to every output.
//!
//! The crate has no heavy dependencies: readers (HDF5), algorithms and
//! writers all depend on it, never the other way round.
//!
//! # Example
//!
//! ```
//! use burstscope_core::{Epoch, epochs_tagged};
//!
//! let epochs = vec![
//!     Epoch { start_s: 0.0, stop_s: 900.0, tags: vec!["baseline".into()] },
//!     Epoch { start_s: 900.0, stop_s: 1800.0, tags: vec!["ketamine".into()] },
//! ];
//! let post = epochs_tagged(&epochs, "ketamine");
//! assert_eq!(post.len(), 1);
//! assert_eq!(post[0].start_s, 900.0);
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod atomic;
mod hash;
mod record;
mod source;
mod table;
pub use atomic::{
    AtomicFile, OutputDir, TEMP_MARKER, remove_uncommitted, sync_dir, temp_path, unique_suffix, write_file,
};
pub use hash::{HASH_SCHEME, HashTap, PIECE_BYTES, content_hash_of, hash_bytes, hash_file};
pub use record::{
    InputIdentity, OutputFile, ProgramId, RECORD_SCHEMA, Record, RecordKey, RecordOutputs, RunInfo, canonical_json,
    hash_file_remembered, host_name, key_digest, list_outputs, now_utc, program_version, rfc3339,
};
pub use source::{ArraySource, BlockQuality, BlockSource};
pub use table::{Column, ColumnData, Table};

/// One row of an extracellular electrodes table, as referenced by a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Electrode {
    /// 0-based row in the file's electrodes table.
    pub row: usize,
    /// The table's `id` for this row.
    pub id: i64,
    /// Electrode group name (e.g. `tetrode0`); the channel group for
    /// detection. Empty when the file names no group (see [`Electrode::group_name`]).
    pub group: String,
    /// Brain location (e.g. `LHb`), `unknown` when absent.
    pub location: String,
}

/// Name given to the one group of channels whose file names no group.
pub const UNNAMED_GROUP: &str = "group0";

impl Electrode {
    /// The group name, or [`UNNAMED_GROUP`] when the file names none.
    #[must_use]
    pub fn group_name(&self) -> &str {
        if self.group.is_empty() { UNNAMED_GROUP } else { &self.group }
    }
}

/// Kind of a time series found in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// Extracellular `ElectricalSeries` (wide-band, LFP or filtered).
    Electrical,
    /// A dataset mapped by the user (plain HDF5 layout).
    Mapped,
}

/// Description of a continuous multi-channel series (no samples).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesInfo {
    /// Name of the series (the HDF5 group's last path component).
    pub name: String,
    /// HDF5 path of the series group (or of the dataset for mapped layouts).
    pub path: String,
    /// What kind of series this is.
    pub kind: SeriesKind,
    /// Stored element type, e.g. `int16`, `float32`.
    pub dtype: String,
    /// Number of time samples.
    pub n_samples: usize,
    /// Number of channels.
    pub n_channels: usize,
    /// Sampling rate in Hz (from `rate`, or estimated from `timestamps`).
    pub rate_hz: f64,
    /// Time of the first sample on the session clock, in seconds.
    pub starting_time_s: f64,
    /// True when time comes from an explicit `timestamps` dataset.
    pub has_timestamps: bool,
    /// Duration in seconds (`n_samples / rate_hz`).
    pub duration_s: f64,
    /// Scale from stored value to the physical unit (`conversion`).
    pub conversion: f64,
    /// Physical offset added after scaling (`offset`).
    pub offset: f64,
    /// Per-channel extra scale (`channel_conversion`), if present.
    pub channel_conversion: Option<Vec<f64>>,
    /// Physical unit of the values after scaling (e.g. `volts`).
    pub unit: String,
    /// Electrodes in channel order (resolved from the region).
    pub electrodes: Vec<Electrode>,
}

impl SeriesInfo {
    /// Channel groups in first-appearance order, each with the channel
    /// indices (positions within this series) that belong to it. Channels
    /// whose file names no group form one group, [`UNNAMED_GROUP`].
    ///
    /// ```
    /// use burstscope_core::{Electrode, SeriesInfo, SeriesKind};
    /// let e = |row, g: &str| Electrode { row, id: row as i64, group: g.into(), location: "LHb".into() };
    /// let s = SeriesInfo {
    ///     name: "raw".into(), path: "/acquisition/raw".into(), kind: SeriesKind::Electrical,
    ///     dtype: "int16".into(), n_samples: 10, n_channels: 3, rate_hz: 1.0, starting_time_s: 0.0,
    ///     has_timestamps: false, duration_s: 10.0, conversion: 1.0, offset: 0.0,
    ///     channel_conversion: None, unit: "volts".into(),
    ///     electrodes: vec![e(0, "t0"), e(1, "t1"), e(2, "t0")],
    /// };
    /// let groups = s.channel_groups();
    /// assert_eq!(groups, vec![("t0".to_string(), vec![0, 2]), ("t1".to_string(), vec![1])]);
    /// ```
    #[must_use]
    pub fn channel_groups(&self) -> Vec<(String, Vec<usize>)> {
        let mut out: Vec<(String, Vec<usize>)> = Vec::new();
        for (ch, e) in self.electrodes.iter().enumerate() {
            match out.iter_mut().find(|(g, _)| g == e.group_name()) {
                Some((_, v)) => v.push(ch),
                None => out.push((e.group_name().to_string(), vec![ch])),
            }
        }
        out
    }

    /// True when the file names an electrode group for at least one channel.
    #[must_use]
    pub fn has_groups(&self) -> bool {
        self.electrodes.iter().any(|e| !e.group.is_empty())
    }
}

/// A typed value from a table column (units table custom columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnValue {
    /// Signed integer.
    Int(i64),
    /// Unsigned integer.
    UInt(u64),
    /// Floating point.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Text.
    Text(String),
    /// Numeric vector (ragged or multi-dimensional column row).
    Floats(Vec<f64>),
}

/// A sorted unit: its identity and spike times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Unit id from the table's `id` column (or its position).
    pub id: i64,
    /// Label used in tables: the NWB unit id as text, or the layout's name.
    pub label: String,
    /// Spike times in seconds on the session clock, as stored.
    pub spike_times_s: Vec<f64>,
    /// Electrode group name when known.
    pub electrode_group: Option<String>,
    /// Observation intervals (start, stop) in seconds: when the unit was
    /// recorded and sortable (NWB `obs_intervals`); empty when not given.
    #[serde(default)]
    pub obs_intervals_s: Vec<(f64, f64)>,
    /// Any other columns of the units table, typed.
    pub columns: BTreeMap<String, ColumnValue>,
}

/// An experimental epoch (`/intervals/epochs` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Epoch {
    /// Start time in seconds.
    pub start_s: f64,
    /// Stop time in seconds.
    pub stop_s: f64,
    /// Tags such as `baseline` or `ketamine`.
    pub tags: Vec<String>,
}

/// A named event on the recording's clock: a tag or comment, an epoch's
/// start, an annotation, a TTL or digital-input edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What it says: the tag, annotation text or label (`ttl:3`, `digital:0`
    /// for a line's rising edge).
    pub name: String,
    /// Time in seconds.
    pub time_s: f64,
    /// Where it was found (`/intervals/epochs`, an annotation series' path,
    /// `ABF tags`, `NEV digital input`, ...).
    pub source: String,
}

/// The first event called `name` (case-insensitive), or the first event of
/// the series or source called `name`, for `--drug-at event:NAME`.
///
/// ```
/// use burstscope_core::{Event, find_event};
/// let ev = vec![
///     Event { name: "baseline".into(), time_s: 0.0, source: "/intervals/epochs".into() },
///     Event { name: "Ketamine".into(), time_s: 1800.0, source: "/intervals/epochs".into() },
///     Event { name: "ttl:1".into(), time_s: 12.5, source: "/acquisition/injection".into() },
/// ];
/// assert_eq!(find_event(&ev, "ketamine").map(|e| e.time_s), Some(1800.0));
/// assert_eq!(find_event(&ev, "injection").map(|e| e.time_s), Some(12.5));
/// assert!(find_event(&ev, "saline").is_none());
/// ```
#[must_use]
pub fn find_event<'a>(events: &'a [Event], name: &str) -> Option<&'a Event> {
    let n = name.trim();
    events.iter().find(|e| e.name.trim().eq_ignore_ascii_case(n)).or_else(|| {
        events.iter().find(|e| {
            e.source.eq_ignore_ascii_case(n) || e.source.rsplit('/').next().is_some_and(|b| b.eq_ignore_ascii_case(n))
        })
    })
}

/// Epochs that carry `tag` (case-insensitive).
#[must_use]
pub fn epochs_tagged<'a>(epochs: &'a [Epoch], tag: &str) -> Vec<&'a Epoch> {
    epochs.iter().filter(|e| e.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))).collect()
}

/// Session-level metadata from `/general` and the file root.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// NWB version attribute of the root (`None` for non-NWB layouts).
    pub nwb_version: Option<String>,
    /// `/identifier`.
    pub identifier: Option<String>,
    /// `/session_description`.
    pub session_description: Option<String>,
    /// `/session_start_time` (ISO 8601 text).
    pub session_start_time: Option<String>,
    /// `/general/pharmacology`.
    pub pharmacology: Option<String>,
    /// `/general/experimenter` entries.
    pub experimenter: Vec<String>,
    /// `/general/subject/*` text fields (subject_id, species, sex, age, ...).
    pub subject: BTreeMap<String, String>,
    /// Other text datasets directly under `/general`.
    pub general: BTreeMap<String, String>,
}

/// Clamp mode of an intracellular sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClampMode {
    /// `VoltageClampSeries`: response in amperes.
    VoltageClamp,
    /// `CurrentClampSeries`: response in volts.
    CurrentClamp,
    /// `IZeroClampSeries`.
    IZeroClamp,
}

/// An intracellular electrode (`/general/intracellular_ephys/<name>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcElectrode {
    /// Group name of the electrode.
    pub name: String,
    /// Brain location (e.g. `LHb`, `CA1`).
    pub location: Option<String>,
    /// Cell identifier.
    pub cell_id: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
}

/// One intracellular sweep: a response series and, when present, its stimulus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    /// HDF5 path of the response series group.
    pub path: String,
    /// Clamp mode of the response.
    pub mode: ClampMode,
    /// `sweep_number` attribute when present.
    pub sweep_number: Option<u64>,
    /// Start of the sweep on the session clock, seconds.
    pub starting_time_s: f64,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Number of samples.
    pub n_samples: usize,
    /// First sample of the sweep in the response series: 0 unless an
    /// `IntracellularRecordingsTable` row references a segment of a longer
    /// series (`idx_start`).
    #[serde(default)]
    pub sample_start: usize,
    /// `conversion` of the response data.
    pub conversion: f64,
    /// `offset` of the response data.
    pub offset: f64,
    /// Physical unit of the response (`amperes` or `volts`).
    pub unit: String,
    /// `stimulus_description` (protocol or condition name) as written.
    pub stimulus_description: Option<String>,
    /// The electrode the sweep was recorded with.
    pub electrode: Option<IcElectrode>,
    /// HDF5 path of the matching stimulus series, when found.
    pub stimulus_path: Option<String>,
    /// Segment of the stimulus series (first sample, count) when the
    /// recordings table gives one; `None`: the whole series.
    #[serde(default)]
    pub stimulus_range: Option<(usize, usize)>,
}

/// Everything `inspect` reports about a file, without sample data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Path of the file as given.
    pub path: String,
    /// Detected layout: `nwb`, `mea-spikes` or `mapped`.
    pub layout: String,
    /// Session metadata.
    pub session: SessionMeta,
    /// Continuous series found in the file.
    pub series: Vec<SeriesInfo>,
    /// Units with their spike counts (spike times omitted in summaries).
    pub units: Vec<UnitSummary>,
    /// Epochs.
    pub epochs: Vec<Epoch>,
    /// Intracellular sweeps.
    pub sweeps: Vec<SweepInfo>,
    /// Whether an `IntracellularRecordingsTable` was found and used.
    pub has_intracellular_recordings_table: bool,
    /// Duration of the recording in seconds, when it can be known.
    pub recording_duration_s: Option<f64>,
    /// Named events other than epoch tags (annotations, event series), for
    /// `--drug-at event:NAME`.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// A unit without its spike times, for summaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitSummary {
    /// Unit id.
    pub id: i64,
    /// Unit label.
    pub label: String,
    /// Number of spikes.
    pub n_spikes: usize,
    /// First spike time, s.
    pub first_spike_s: Option<f64>,
    /// Last spike time, s.
    pub last_spike_s: Option<f64>,
    /// Electrode group.
    pub electrode_group: Option<String>,
}

impl From<&Unit> for UnitSummary {
    fn from(u: &Unit) -> Self {
        Self {
            id: u.id,
            label: u.label.clone(),
            n_spikes: u.spike_times_s.len(),
            first_spike_s: u.spike_times_s.first().copied(),
            last_spike_s: u.spike_times_s.last().copied(),
            electrode_group: u.electrode_group.clone(),
        }
    }
}
