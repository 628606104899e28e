//! Opening a recording file and reading its metadata, units, epochs and sweeps.

use crate::error::{IoError, Result};
use crate::h5util::{Ctx, basename, dtype_name, is_numeric, is_string, join, members, neurodata_type};
use crate::mapping::{Mapping, Orientation};
use crate::stream::SeriesReader;
use burstscope_core::{
    ClampMode, ColumnValue, Electrode, Epoch, FileSummary, IcElectrode, SeriesInfo, SeriesKind, SessionMeta, SweepInfo,
    Unit, UnitSummary,
};
use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, Group, LocationToken, ObjectReference1};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The file layouts burstscope recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// NWB 2.x (root attribute `neurodata_type` = `NWBFile`).
    Nwb,
    /// MEA spike-train layout: `/spikes`, `/sCount`, `/names`, `/summary/duration`.
    MeaSpikes,
    /// A plain HDF5 dataset described by a [`Mapping`].
    Mapped,
}

impl Layout {
    /// Short name used in summaries.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Layout::Nwb => "nwb",
            Layout::MeaSpikes => "mea-spikes",
            Layout::Mapped => "mapped",
        }
    }
}

const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Checks the HDF5 signature at offset 0 or at a user-block offset (512, 1024, ...).
fn check_signature(path: &Path) -> Result<()> {
    let mut f =
        std::fs::File::open(path).map_err(|e| IoError::Open { file: path.to_path_buf(), reason: e.to_string() })?;
    let meta = f.metadata().map_err(|e| IoError::Open { file: path.to_path_buf(), reason: e.to_string() })?;
    if meta.is_dir() {
        return Err(IoError::Open { file: path.to_path_buf(), reason: "is a directory, expected a file".into() });
    }
    let mut head = vec![0u8; 8];
    let mut offset = 0u64;
    while offset + 8 <= meta.len() {
        use std::io::Seek;
        f.seek(std::io::SeekFrom::Start(offset)).map_err(|e| IoError::Os { file: path.to_path_buf(), source: e })?;
        f.read_exact(&mut head).map_err(|e| IoError::Os { file: path.to_path_buf(), source: e })?;
        if head.as_slice() == HDF5_SIGNATURE {
            return Ok(());
        }
        offset = if offset == 0 { 512 } else { offset * 2 };
        if offset > (1 << 20) {
            break;
        }
    }
    Err(IoError::NotHdf5 { file: path.to_path_buf() })
}

/// Which `/units` columns [`Recording::units_with`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitColumns {
    /// Spike times, electrode group, observation intervals and one-value-per-unit columns.
    Scalars,
    /// Every column, array-valued ones (waveforms, waveform means) included.
    All,
}

/// An opened recording file (NWB, MEA spike layout or mapped HDF5).
///
/// ```no_run
/// use burstscope_io::Recording;
/// let rec = Recording::open("session.nwb".as_ref())?;
/// for s in rec.series()? {
///     println!("{} {} ch at {} Hz", s.name, s.n_channels, s.rate_hz);
/// }
/// let units = rec.units()?;
/// # Ok::<(), burstscope_io::IoError>(())
/// ```
#[derive(Debug)]
pub struct Recording {
    pub(crate) ctx: Ctx,
    pub(crate) file: hdf5::File,
    layout: Layout,
    mapping: Option<Mapping>,
}

/// One row of the `IntracellularRecordingsTable`: response and stimulus as
/// (series path, first sample, count).
#[derive(Debug, Clone)]
struct TableRow {
    response: (String, usize, usize),
    stimulus: Option<(String, usize, usize)>,
}

impl Recording {
    /// Opens a file and detects its layout. A plain HDF5 file without a
    /// mapping is an [`IoError::UnknownLayout`].
    ///
    /// # Errors
    /// Missing file, not HDF5, unknown layout.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, None)
    }

    /// Opens a file with an optional mapping for plain HDF5 layouts. The
    /// mapping is used only when the file is not NWB.
    ///
    /// # Errors
    /// Missing file, not HDF5, unknown layout, mapping dataset missing.
    pub fn open_with(path: &Path, mapping: Option<Mapping>) -> Result<Self> {
        let _watch = crate::watchdog::guard(|| format!("{}: opening the file", path.display()));
        check_signature(path)?;
        let ctx = Ctx::new(path);
        let file = hdf5::File::open(path).map_err(|e| ctx.h5err("/", e))?;
        let root_type = neurodata_type(&ctx, &file);
        // NWB 2.x: the root is an `NWBFile`, or an extension's subtype of it
        // (e.g. `NDXICEphysFile`), which every NWB 2 writer marks with the
        // root attribute `nwb_version` = "2.x".
        let nwb2 = root_type.as_deref() == Some("NWBFile")
            || ctx.attr_string(&file, "nwb_version").ok().flatten().is_some_and(|v| v.trim().starts_with('2'));
        let layout = if nwb2 {
            Layout::Nwb
        } else if let Some(v) =
            ctx.opt_string_ds(&file, "nwb_version").ok().flatten().filter(|v| v.trim().starts_with("NWB-1"))
        {
            return Err(IoError::NotInFile {
                file: path.to_path_buf(),
                message: format!(
                    "NWB 1.x ({}) is not supported; convert it to NWB 2 (e.g. with pynwb's converter)",
                    v.trim().trim_start_matches("NWB-")
                ),
            });
        } else if mapping.is_some() {
            Layout::Mapped
        } else if file.link_exists("spikes") && file.link_exists("sCount") && file.link_exists("names") {
            Layout::MeaSpikes
        } else {
            return Err(IoError::UnknownLayout { file: path.to_path_buf() });
        };
        let rec = Self { ctx, file, layout, mapping: if layout == Layout::Mapped { mapping } else { None } };
        if layout == Layout::Mapped {
            // Validate the mapping against the file now, so errors surface at open.
            rec.mapped_series()?;
        }
        Ok(rec)
    }

    /// The path the file was opened from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.ctx.file
    }

    /// The detected layout.
    #[must_use]
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Everything `inspect` reports, without samples or spike times.
    ///
    /// # Errors
    /// Any malformed object the summary touches.
    pub fn summary(&self) -> Result<FileSummary> {
        let _watch = crate::watchdog::guard(|| format!("{}: summarising the file", self.ctx.file.display()));
        let units = self.units()?;
        Ok(FileSummary {
            path: self.ctx.file.display().to_string(),
            layout: self.layout.name().into(),
            session: self.session()?,
            series: self.series()?,
            units: units.iter().map(UnitSummary::from).collect(),
            epochs: self.epochs()?,
            sweeps: self.sweeps()?,
            has_intracellular_recordings_table: self.layout == Layout::Nwb
                && self.file.link_exists("general/intracellular_ephys/intracellular_recordings"),
            recording_duration_s: self.duration_s()?,
        })
    }

    /// Duration of the recording in seconds, from the longest series, the MEA
    /// summary or, failing those, the last epoch stop.
    ///
    /// # Errors
    /// Malformed series or summary.
    pub fn duration_s(&self) -> Result<Option<f64>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading the duration", self.ctx.file.display()));
        let series = self.series()?;
        if let Some(d) = series.iter().map(|s| s.starting_time_s + s.duration_s).reduce(f64::max) {
            return Ok(Some(d));
        }
        if self.layout == Layout::MeaSpikes && self.file.link_exists("summary/duration") {
            let ds = self.file.dataset("summary/duration").map_err(|e| self.ctx.h5err("/summary/duration", e))?;
            return self.ctx.read_f64_scalar(&ds, "/summary/duration").map(Some);
        }
        Ok(self.epochs()?.iter().map(|e| e.stop_s).reduce(f64::max))
    }

    // ------------------------------------------------------------------ session

    /// Session metadata (`/general`, root datasets).
    ///
    /// # Errors
    /// Malformed text datasets.
    pub fn session(&self) -> Result<SessionMeta> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading /general", self.ctx.file.display()));
        let c = &self.ctx;
        let mut m = SessionMeta { nwb_version: c.attr_string(&self.file, "nwb_version")?, ..SessionMeta::default() };
        if self.layout != Layout::Nwb {
            return Ok(m);
        }
        let root: &Group = &self.file;
        m.identifier = c.opt_string_ds(root, "identifier")?;
        m.session_description = c.opt_string_ds(root, "session_description")?;
        m.session_start_time = c.opt_string_ds(root, "session_start_time")?;
        if let Ok(general) = self.file.group("general") {
            m.pharmacology = c.opt_string_ds(&general, "pharmacology")?;
            if general.link_exists("experimenter") {
                let ds = c.dataset(&general, "experimenter", "text")?;
                m.experimenter = c.read_strings(&ds, "/general/experimenter")?;
            }
            if let Ok(subject) = general.group("subject") {
                for name in members(&subject) {
                    if let Ok(ds) = subject.dataset(&name) {
                        let td = c.descriptor(&ds, &join("/general/subject", &name))?;
                        if is_string(&td) || is_numeric(&td) {
                            let v = c.read_strings(&ds, &join("/general/subject", &name))?;
                            m.subject.insert(name, v.join("; "));
                        }
                    }
                }
            }
            for name in members(&general) {
                if matches!(name.as_str(), "pharmacology" | "experimenter") {
                    continue;
                }
                if let Ok(ds) = general.dataset(&name) {
                    let p = join("/general", &name);
                    let td = c.descriptor(&ds, &p)?;
                    if is_string(&td) {
                        m.general.insert(name, c.read_strings(&ds, &p)?.join("; "));
                    }
                }
            }
        }
        Ok(m)
    }

    // ------------------------------------------------------------------ series

    /// All continuous extracellular series: `ElectricalSeries` anywhere under
    /// `/acquisition` or `/processing`, or the mapped dataset.
    ///
    /// # Errors
    /// A series whose data, time base or electrodes are malformed.
    pub fn series(&self) -> Result<Vec<SeriesInfo>> {
        let _watch = crate::watchdog::guard(|| format!("{}: listing the series", self.ctx.file.display()));
        match self.layout {
            Layout::MeaSpikes => Ok(Vec::new()),
            Layout::Mapped => Ok(vec![self.mapped_series()?]),
            Layout::Nwb => {
                let mut paths = Vec::new();
                for top in ["acquisition", "processing"] {
                    if let Ok(g) = self.file.group(top) {
                        self.find_typed(&g, &["ElectricalSeries"], 0, &mut paths);
                    }
                }
                let table = self.electrodes_table()?;
                paths.iter().map(|p| self.electrical_series(p, table.as_ref())).collect()
            }
        }
    }

    /// The series called `name` (name or full HDF5 path). With `None`, the only
    /// series, or the first under `/acquisition` when there are several.
    ///
    /// # Errors
    /// [`IoError::NotInFile`] listing what there is.
    pub fn series_named(&self, name: Option<&str>) -> Result<SeriesInfo> {
        let _watch = crate::watchdog::guard(|| format!("{}: finding the series", self.ctx.file.display()));
        let all = self.series()?;
        let names = || all.iter().map(|s| s.path.clone()).collect::<Vec<_>>().join(", ");
        match name {
            Some(n) => all.iter().find(|s| s.name == n || s.path == n).cloned().ok_or_else(|| IoError::NotInFile {
                file: self.ctx.file.clone(),
                message: format!(
                    "no series named '{n}'; series in this file: {}",
                    if all.is_empty() { "none".into() } else { names() }
                ),
            }),
            None => {
                let pick = all.iter().find(|s| s.path.starts_with("/acquisition/")).or_else(|| all.first());
                pick.cloned().ok_or_else(|| IoError::NotInFile {
                    file: self.ctx.file.clone(),
                    message: "no ElectricalSeries under /acquisition or /processing (and no mapping given)".into(),
                })
            }
        }
    }

    /// A streaming reader over a series, yielding time-major blocks in physical units.
    ///
    /// # Errors
    /// The series' dataset cannot be opened.
    pub fn stream(&self, series: &SeriesInfo) -> Result<SeriesReader> {
        let _watch = crate::watchdog::guard(|| format!("{}: opening the series data", self.ctx.file.display()));
        let data_path =
            if series.kind == SeriesKind::Mapped { series.path.clone() } else { join(&series.path, "data") };
        let ds = self.file.dataset(&data_path).map_err(|e| self.ctx.h5err(&data_path, e))?;
        let channel_major = self.mapping.as_ref().is_some_and(|m| m.orientation == Orientation::ChannelMajor);
        SeriesReader::new(self.ctx.clone(), ds, data_path, series.clone(), channel_major)
    }

    /// The `timestamps` of a series that has them (seconds), else `None`.
    ///
    /// # Errors
    /// The dataset cannot be read.
    pub fn timestamps(&self, series: &SeriesInfo) -> Result<Option<Vec<f64>>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading the timestamps", self.ctx.file.display()));
        if !series.has_timestamps {
            return Ok(None);
        }
        let p = join(&series.path, "timestamps");
        let ds = self.file.dataset(&p).map_err(|e| self.ctx.h5err(&p, e))?;
        self.ctx.read_f64s(&ds, &p).map(Some)
    }

    fn find_typed(&self, g: &Group, types: &[&str], depth: usize, out: &mut Vec<String>) {
        if depth > 6 {
            return;
        }
        for name in members(g) {
            let Ok(child) = g.group(&name) else { continue };
            match neurodata_type(&self.ctx, &child) {
                Some(t) if types.contains(&t.as_str()) => out.push(child.name()),
                _ => self.find_typed(&child, types, depth + 1, out),
            }
        }
    }

    fn electrodes_table(&self) -> Result<Option<Vec<Electrode>>> {
        let path = "/general/extracellular_ephys/electrodes";
        if !self.file.link_exists("general/extracellular_ephys/electrodes") {
            return Ok(None);
        }
        self.read_electrodes_at(path).map(Some)
    }

    fn read_electrodes_at(&self, path: &str) -> Result<Vec<Electrode>> {
        let c = &self.ctx;
        let g = self.file.group(path).map_err(|e| c.h5err(path, e))?;
        let n = if g.link_exists("id") {
            c.dataset(&g, "id", "electrode ids")?.size()
        } else {
            return Err(c.missing(&join(path, "id"), "the electrodes table's id column"));
        };
        let ids = c.read_i64s(&*c.dataset(&g, "id", "electrode ids")?, &join(path, "id"))?;
        let groups: Vec<String> = if g.link_exists("group_name") {
            c.read_strings(&*c.dataset(&g, "group_name", "text")?, &join(path, "group_name"))?
        } else if g.link_exists("group") {
            let p = join(path, "group");
            c.read_ref_paths(&self.file, &*c.dataset(&g, "group", "ElectrodeGroup references")?, &p)?
                .iter()
                .map(|s| basename(s))
                .collect()
        } else {
            vec!["group0".to_string(); n]
        };
        let locations: Vec<String> = if g.link_exists("location") {
            c.read_strings(&*c.dataset(&g, "location", "text")?, &join(path, "location"))?
        } else {
            vec!["unknown".to_string(); n]
        };
        if groups.len() != n || locations.len() != n {
            return Err(c.invalid(
                path,
                format!(
                    "columns differ in length: id {n}, group {}, location {}; expected equal lengths",
                    groups.len(),
                    locations.len()
                ),
            ));
        }
        Ok((0..n)
            .map(|row| Electrode {
                row,
                id: ids[row],
                group: groups[row].clone(),
                location: if locations[row].is_empty() { "unknown".into() } else { locations[row].clone() },
            })
            .collect())
    }

    fn electrical_series(&self, path: &str, table: Option<&Vec<Electrode>>) -> Result<SeriesInfo> {
        let c = &self.ctx;
        let g = self.file.group(path).map_err(|e| c.h5err(path, e))?;
        let data = c.dataset(&g, "data", "the series' samples (time × channel)")?;
        let data_path = join(path, "data");
        let td = c.descriptor(&data, &data_path)?;
        if !is_numeric(&td) {
            return Err(c.unsupported(&data_path, &td, "an integer or float type"));
        }
        let shape = data.shape();
        let (n_samples, n_channels) = match shape.as_slice() {
            [n] => (*n, 1),
            [n, ch] => (*n, *ch),
            other => {
                return Err(c.invalid(&data_path, format!("shape {other:?}; expected (time,) or (time, channel)")));
            }
        };
        if n_samples == 0 || n_channels == 0 {
            return Err(c.invalid(&data_path, format!("empty series (shape {shape:?}); expected samples")));
        }
        let conversion = c.attr_f64(&data, "conversion")?.unwrap_or(1.0);
        let offset = c.attr_f64(&data, "offset")?.unwrap_or(0.0);
        let unit = c.attr_string(&data, "unit")?.unwrap_or_else(|| "volts".into());
        if !conversion.is_finite() || conversion == 0.0 {
            return Err(c.invalid(
                &format!("{data_path}@conversion"),
                format!("{conversion}; expected a finite non-zero scale"),
            ));
        }
        let (starting_time_s, rate_hz, has_timestamps) = self.time_base(&g, path, n_samples)?;
        let channel_conversion = if g.link_exists("channel_conversion") {
            let p = join(path, "channel_conversion");
            let v = c.read_f64s(&*c.dataset(&g, "channel_conversion", "per-channel scale")?, &p)?;
            if v.len() != n_channels {
                return Err(c.invalid(&p, format!("{} values; expected one per channel ({n_channels})", v.len())));
            }
            Some(v)
        } else {
            None
        };
        let electrodes = if g.link_exists("electrodes") {
            let p = join(path, "electrodes");
            let region_ds = c.dataset(&g, "electrodes", "electrode-table row indices")?;
            let rows = c.read_i64s(&region_ds, &p)?;
            // The region may point into another table than the default one.
            let own_table = match c.attr_ref_path(&self.file, &region_ds, "table")? {
                Some(t) if t != "/general/extracellular_ephys/electrodes" => Some(self.read_electrodes_at(&t)?),
                _ => None,
            };
            let table = own_table.as_ref().or(table).ok_or_else(|| {
                c.missing("/general/extracellular_ephys/electrodes", "the electrodes table the series refers to")
            })?;
            if rows.len() != n_channels {
                return Err(c.invalid(
                    &p,
                    format!("{} electrodes for {n_channels} data channels; expected one row per channel", rows.len()),
                ));
            }
            rows.iter()
                .map(|&r| {
                    usize::try_from(r).ok().and_then(|r| table.get(r).cloned()).ok_or_else(|| {
                        c.invalid(&p, format!("row index {r} outside the electrodes table (0..{})", table.len()))
                    })
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            (0..n_channels)
                .map(|ch| Electrode { row: ch, id: ch as i64, group: "group0".into(), location: "unknown".into() })
                .collect()
        };
        #[allow(clippy::cast_precision_loss)]
        let duration_s = n_samples as f64 / rate_hz;
        Ok(SeriesInfo {
            name: basename(path),
            path: path.to_string(),
            kind: SeriesKind::Electrical,
            dtype: dtype_name(&td),
            n_samples,
            n_channels,
            rate_hz,
            starting_time_s,
            has_timestamps,
            duration_s,
            conversion,
            offset,
            channel_conversion,
            unit,
            electrodes,
        })
    }

    /// `(starting_time_s, rate_hz, has_timestamps)` of a TimeSeries group.
    fn time_base(&self, g: &Group, path: &str, n_samples: usize) -> Result<(f64, f64, bool)> {
        let c = &self.ctx;
        if g.link_exists("starting_time") {
            let p = join(path, "starting_time");
            let ds = c.dataset(g, "starting_time", "the first sample's time")?;
            let t0 = c.read_f64_scalar(&ds, &p)?;
            let rate =
                c.attr_f64(&ds, "rate")?.ok_or_else(|| c.missing(&format!("{p}@rate"), "sampling rate in Hz"))?;
            if !(rate.is_finite() && rate > 0.0) {
                return Err(c.invalid(&format!("{p}@rate"), format!("rate {rate}; expected a positive rate in Hz")));
            }
            if !t0.is_finite() {
                return Err(c.invalid(&p, format!("{t0}; expected a finite time in seconds")));
            }
            Ok((t0, rate, false))
        } else if g.link_exists("timestamps") {
            let p = join(path, "timestamps");
            let ds = c.dataset(g, "timestamps", "sample times in seconds")?;
            if ds.size() != n_samples {
                return Err(c.invalid(
                    &p,
                    format!("{} timestamps for {n_samples} samples; expected one timestamp per sample", ds.size()),
                ));
            }
            let ts = c.read_f64s(&ds, &p)?;
            let (first, last) = (ts[0], ts[ts.len() - 1]);
            if ts.len() < 2 || last <= first || !first.is_finite() || !last.is_finite() {
                return Err(c.invalid(&p, "cannot derive a rate: expected at least two increasing timestamps"));
            }
            #[allow(clippy::cast_precision_loss)]
            let rate = (ts.len() - 1) as f64 / (last - first);
            Ok((first, rate, true))
        } else {
            Err(c.missing(&join(path, "starting_time"), "starting_time (with a rate attribute) or timestamps"))
        }
    }

    fn mapped_series(&self) -> Result<SeriesInfo> {
        let m = self.mapping.as_ref().ok_or(IoError::UnknownLayout { file: self.ctx.file.clone() })?;
        let c = &self.ctx;
        let ds_path = if m.dataset.starts_with('/') { m.dataset.clone() } else { format!("/{}", m.dataset) };
        if !self.file.link_exists(ds_path.trim_start_matches('/')) {
            return Err(c.missing(&ds_path, "the dataset named by the mapping"));
        }
        let ds = self.file.dataset(&ds_path).map_err(|e| c.h5err(&ds_path, e))?;
        let td = c.descriptor(&ds, &ds_path)?;
        if !is_numeric(&td) {
            return Err(c.unsupported(&ds_path, &td, "an integer or float type"));
        }
        let shape = ds.shape();
        let (n_samples, n_channels) = match (shape.as_slice(), m.orientation) {
            ([n], _) => (*n, 1),
            ([a, b], Orientation::TimeMajor) => (*a, *b),
            ([a, b], Orientation::ChannelMajor) => (*b, *a),
            (other, _) => return Err(c.invalid(&ds_path, format!("shape {other:?}; expected 1 or 2 dimensions"))),
        };
        if n_samples == 0 || n_channels == 0 {
            return Err(c.invalid(&ds_path, format!("empty dataset (shape {shape:?})")));
        }
        let groups = m.channel_groups(n_channels).map_err(|reason| IoError::Mapping {
            file: m.source.clone().unwrap_or_else(|| PathBuf::from("<command line>")),
            reason,
        })?;
        #[allow(clippy::cast_precision_loss)]
        let duration_s = n_samples as f64 / m.rate_hz;
        Ok(SeriesInfo {
            name: basename(&ds_path),
            path: ds_path,
            kind: SeriesKind::Mapped,
            dtype: dtype_name(&td),
            n_samples,
            n_channels,
            rate_hz: m.rate_hz,
            starting_time_s: m.starting_time_s,
            has_timestamps: false,
            duration_s,
            conversion: m.conversion,
            offset: m.offset,
            channel_conversion: None,
            unit: m.unit.clone(),
            electrodes: (0..n_channels)
                .map(|ch| Electrode { row: ch, id: ch as i64, group: groups[ch].clone(), location: m.location.clone() })
                .collect(),
        })
    }

    // ------------------------------------------------------------------ units

    /// Sorted units: NWB `/units` (ragged spike times, any index width, typed
    /// extra columns) or the MEA spike layout. A file without units gives an
    /// empty list.
    ///
    /// # Errors
    /// Malformed spike-time or index datasets.
    pub fn units(&self) -> Result<Vec<Unit>> {
        self.units_with(UnitColumns::Scalars)
    }

    /// Units with the chosen columns: [`UnitColumns::Scalars`] never reads
    /// array-valued columns (waveforms can be gigabytes); [`UnitColumns::All`]
    /// reads them too, the doubly ragged `waveforms` (`waveforms_index` +
    /// `waveforms_index_index`) flattened per unit.
    ///
    /// # Errors
    /// As [`Recording::units`].
    pub fn units_with(&self, which: UnitColumns) -> Result<Vec<Unit>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading /units", self.ctx.file.display()));
        match self.layout {
            Layout::MeaSpikes => self.mea_units(),
            Layout::Mapped => Ok(Vec::new()),
            Layout::Nwb => {
                if !self.file.link_exists("units") {
                    return Ok(Vec::new());
                }
                self.nwb_units(which)
            }
        }
    }

    /// True when the file has a units table or MEA spike trains.
    #[must_use]
    pub fn has_units(&self) -> bool {
        match self.layout {
            Layout::MeaSpikes => true,
            Layout::Mapped => false,
            Layout::Nwb => self.file.link_exists("units/spike_times"),
        }
    }

    fn nwb_units(&self, which: UnitColumns) -> Result<Vec<Unit>> {
        let c = &self.ctx;
        let g = self.file.group("units").map_err(|e| c.h5err("/units", e))?;
        if !g.link_exists("spike_times") {
            return Ok(Vec::new());
        }
        let ids_ds = c.dataset(&g, "id", "unit ids")?;
        let ids = c.read_i64s(&ids_ds, "/units/id")?;
        let n = ids.len();
        let times = c.read_f64s(&*c.dataset(&g, "spike_times", "spike times in seconds")?, "/units/spike_times")?;
        let ranges = self.ragged_ranges(&g, "/units", "spike_times", n, times.len())?;
        let groups: Vec<Option<String>> = if g.link_exists("electrode_group") {
            let ds = c.dataset(&g, "electrode_group", "ElectrodeGroup references")?;
            let td = c.descriptor(&ds, "/units/electrode_group")?;
            if matches!(td, TypeDescriptor::Reference(_)) {
                c.read_ref_paths(&self.file, &ds, "/units/electrode_group")?.iter().map(|p| Some(basename(p))).collect()
            } else {
                c.read_strings(&ds, "/units/electrode_group")?.into_iter().map(Some).collect()
            }
        } else {
            vec![None; n]
        };
        if groups.len() != n {
            return Err(c.invalid("/units/electrode_group", format!("{} rows; expected {n}", groups.len())));
        }
        let obs = self.obs_intervals(&g, n)?;
        let mut columns: Vec<(String, Vec<ColumnValue>)> = Vec::new();
        for name in members(&g) {
            let skip = matches!(
                name.as_str(),
                "id" | "spike_times" | "spike_times_index" | "electrode_group" | "obs_intervals"
            ) || name.ends_with("_index");
            if skip {
                continue;
            }
            if let Some(vals) = self.column_values(&g, &name, n, which)? {
                columns.push((name, vals));
            }
        }
        let mut units = Vec::with_capacity(n);
        for (u, (&id, (a, b))) in ids.iter().zip(ranges).enumerate() {
            let t = times[a..b].to_vec();
            let mut cols = BTreeMap::new();
            for (name, vals) in &columns {
                cols.insert(name.clone(), vals[u].clone());
            }
            units.push(Unit {
                id,
                label: id.to_string(),
                spike_times_s: t,
                electrode_group: groups[u].clone(),
                obs_intervals_s: obs.get(u).cloned().unwrap_or_default(),
                columns: cols,
            });
        }
        Ok(units)
    }

    /// Row ranges of a ragged column from its `<name>_index` (cumulative ends).
    fn ragged_ranges(
        &self,
        g: &Group,
        gpath: &str,
        name: &str,
        n_rows: usize,
        n_values: usize,
    ) -> Result<Vec<(usize, usize)>> {
        let c = &self.ctx;
        let idx_name = format!("{name}_index");
        let p = join(gpath, &idx_name);
        let idx = c.read_i64s(&*c.dataset(g, &idx_name, &format!("the ragged index of {name}"))?, &p)?;
        if idx.len() != n_rows {
            return Err(c.invalid(&p, format!("{} entries; expected one per row ({n_rows})", idx.len())));
        }
        let mut out = Vec::with_capacity(n_rows);
        let mut prev = 0usize;
        for &e in &idx {
            let e = usize::try_from(e).map_err(|_| c.invalid(&p, format!("negative index {e}")))?;
            if e < prev || e > n_values {
                return Err(c.invalid(
                    &p,
                    format!(
                        "index {e} out of order or beyond {n_values} values; expected non-decreasing cumulative ends"
                    ),
                ));
            }
            out.push((prev, e));
            prev = e;
        }
        Ok(out)
    }

    /// `obs_intervals` (k × 2, ragged through `obs_intervals_index`) per unit;
    /// empty when absent or not shaped as intervals.
    fn obs_intervals(&self, g: &Group, n: usize) -> Result<Vec<Vec<(f64, f64)>>> {
        let c = &self.ctx;
        let Ok(ds) = g.dataset("obs_intervals") else { return Ok(Vec::new()) };
        let p = join(&g.name(), "obs_intervals");
        let shape = ds.shape();
        if shape.len() != 2 || shape[1] != 2 || !g.link_exists("obs_intervals_index") {
            tracing::warn!(
                "{}: {p}: shape {shape:?}, expected (k, 2) with obs_intervals_index; ignored",
                c.file.display()
            );
            return Ok(Vec::new());
        }
        let vals = c.read_f64s(&ds, &p)?;
        let pairs: Vec<(f64, f64)> = vals.chunks_exact(2).map(|r| (r[0], r[1])).collect();
        let ranges = self.ragged_ranges(g, &g.name(), "obs_intervals", n, pairs.len())?;
        Ok(ranges.iter().map(|&(a, b)| pairs[a..b].to_vec()).collect())
    }

    fn column_values(&self, g: &Group, name: &str, n: usize, which: UnitColumns) -> Result<Option<Vec<ColumnValue>>> {
        let c = &self.ctx;
        let Ok(ds) = g.dataset(name) else { return Ok(None) };
        let p = join(&g.name(), name);
        let td = c.descriptor(&ds, &p)?;
        let ragged = g.link_exists(&format!("{name}_index"));
        let doubly = g.link_exists(&format!("{name}_index_index"));
        let shape = ds.shape();
        let row_len: usize = shape.get(1..).map_or(1, |s| s.iter().product());
        let array_valued = ragged || shape.len() > 1 && row_len != 1;
        if array_valued && which == UnitColumns::Scalars {
            // Not needed: never read (waveforms can be gigabytes).
            return Ok(None);
        }
        if ragged {
            if !is_numeric(&td) {
                return Ok(None);
            }
            let vals = c.read_f64s(&ds, &p)?;
            let per_row = row_len.max(1);
            let rows = vals.len() / per_row;
            if doubly {
                // values → rows of `name_index` (one per spike) → units of `name_index_index`
                let idx_name = format!("{name}_index");
                let idx_ds = c.dataset(g, &idx_name, "the first index of a doubly ragged column")?;
                let inner = self.ragged_ranges(g, &g.name(), name, idx_ds.size(), rows)?;
                let outer = self.ragged_ranges(g, &g.name(), &idx_name, n, inner.len())?;
                return Ok(Some(
                    outer
                        .iter()
                        .map(|&(a, b)| {
                            let (r0, r1) =
                                (inner.get(a).map_or(0, |r| r.0), inner.get(b.wrapping_sub(1)).map_or(0, |r| r.1));
                            if b > a && r1 >= r0 {
                                ColumnValue::Floats(vals[r0 * per_row..r1 * per_row].to_vec())
                            } else {
                                ColumnValue::Floats(Vec::new())
                            }
                        })
                        .collect(),
                ));
            }
            let ranges = self.ragged_ranges(g, &g.name(), name, n, rows)?;
            return Ok(Some(
                ranges.iter().map(|&(a, b)| ColumnValue::Floats(vals[a * per_row..b * per_row].to_vec())).collect(),
            ));
        }
        if shape.first().copied() != Some(n) {
            return Ok(None);
        }
        if row_len == 0 {
            // An (n, 0) column: a row of nothing per unit.
            return Ok(Some(vec![ColumnValue::Floats(Vec::new()); n]));
        }
        Ok(Some(match td {
            TypeDescriptor::Integer(_) if row_len == 1 => {
                c.read_i64s(&ds, &p)?.into_iter().map(ColumnValue::Int).collect()
            }
            TypeDescriptor::Unsigned(_) if row_len == 1 => ds
                .as_reader()
                .read_raw::<u64>()
                .map_err(|e| c.h5err(&p, e))?
                .into_iter()
                .map(ColumnValue::UInt)
                .collect(),
            TypeDescriptor::Boolean => ds
                .as_reader()
                .read_raw::<bool>()
                .map_err(|e| c.h5err(&p, e))?
                .into_iter()
                .map(ColumnValue::Bool)
                .collect(),
            TypeDescriptor::Float(_) if row_len == 1 => {
                c.read_f64s(&ds, &p)?.into_iter().map(ColumnValue::Float).collect()
            }
            t if is_numeric(&t) => {
                let v = c.read_f64s(&ds, &p)?;
                v.chunks(row_len).map(|r| ColumnValue::Floats(r.to_vec())).collect()
            }
            t if is_string(&t) => c.read_strings(&ds, &p)?.into_iter().map(ColumnValue::Text).collect(),
            TypeDescriptor::Reference(_) => {
                c.read_ref_paths(&self.file, &ds, &p)?.into_iter().map(ColumnValue::Text).collect()
            }
            _ => return Ok(None),
        }))
        .map(|o| o.filter(|v: &Vec<ColumnValue>| v.len() == n))
    }

    fn mea_units(&self) -> Result<Vec<Unit>> {
        let c = &self.ctx;
        let root: &Group = &self.file;
        let spikes = c.read_f64s(&*c.dataset(root, "spikes", "all spike times in seconds")?, "/spikes")?;
        let counts = c.read_i64s(&*c.dataset(root, "sCount", "spikes per channel")?, "/sCount")?;
        let names = c.read_strings(&*c.dataset(root, "names", "channel-unit names")?, "/names")?;
        if names.len() != counts.len() {
            return Err(c.invalid(
                "/names",
                format!("{} names for {} counts in /sCount; expected one name per count", names.len(), counts.len()),
            ));
        }
        let total: i64 = counts.iter().sum();
        if usize::try_from(total).ok() != Some(spikes.len()) || counts.iter().any(|&n| n < 0) {
            return Err(c.invalid(
                "/sCount",
                format!("counts sum to {total} but /spikes holds {}; expected equal", spikes.len()),
            ));
        }
        let mut units = Vec::with_capacity(counts.len());
        let mut start = 0usize;
        for (i, (&n, name)) in counts.iter().zip(&names).enumerate() {
            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
            let end = start + n as usize;
            units.push(Unit {
                id: i as i64,
                label: name.clone(),
                spike_times_s: spikes[start..end].to_vec(),
                electrode_group: None,
                obs_intervals_s: Vec::new(),
                columns: BTreeMap::new(),
            });
            start = end;
        }
        Ok(units)
    }

    // ------------------------------------------------------------------ epochs

    /// `/intervals/epochs` rows (start, stop, ragged tags). Empty when absent.
    ///
    /// # Errors
    /// Malformed epoch columns.
    pub fn epochs(&self) -> Result<Vec<Epoch>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading /intervals/epochs", self.ctx.file.display()));
        if self.layout != Layout::Nwb || !self.file.link_exists("intervals/epochs") {
            return Ok(Vec::new());
        }
        let c = &self.ctx;
        let gp = "/intervals/epochs";
        let g = self.file.group(gp).map_err(|e| c.h5err(gp, e))?;
        let start = c.read_f64s(&*c.dataset(&g, "start_time", "epoch start times (s)")?, &join(gp, "start_time"))?;
        let stop = c.read_f64s(&*c.dataset(&g, "stop_time", "epoch stop times (s)")?, &join(gp, "stop_time"))?;
        if start.len() != stop.len() {
            return Err(c.invalid(gp, format!("{} starts but {} stops; expected equal", start.len(), stop.len())));
        }
        let n = start.len();
        let tags: Vec<Vec<String>> = if g.link_exists("tags") {
            let all = c.read_strings(&*c.dataset(&g, "tags", "tag strings")?, &join(gp, "tags"))?;
            if g.link_exists("tags_index") {
                self.ragged_ranges(&g, gp, "tags", n, all.len())?.iter().map(|&(a, b)| all[a..b].to_vec()).collect()
            } else if all.len() == n {
                all.into_iter().map(|t| vec![t]).collect()
            } else {
                return Err(c.missing(&join(gp, "tags_index"), "the ragged index of tags"));
            }
        } else {
            vec![Vec::new(); n]
        };
        Ok((0..n).map(|i| Epoch { start_s: start[i], stop_s: stop[i], tags: tags[i].clone() }).collect())
    }

    // ------------------------------------------------------------------ icephys

    /// Intracellular sweeps (voltage-, current- and I=0-clamp series), each with
    /// its electrode and matching stimulus, sorted by sweep number then time.
    /// Uses the `IntracellularRecordingsTable` to pair responses and stimuli
    /// when present; otherwise pairs by `sweep_number`.
    ///
    /// # Errors
    /// Malformed series.
    pub fn sweeps(&self) -> Result<Vec<SweepInfo>> {
        let _watch = crate::watchdog::guard(|| format!("{}: listing the sweeps", self.ctx.file.display()));
        if self.layout != Layout::Nwb {
            return Ok(Vec::new());
        }
        let mut responses = Vec::new();
        for top in ["acquisition", "processing"] {
            if let Ok(g) = self.file.group(top) {
                self.find_typed(
                    &g,
                    &["VoltageClampSeries", "CurrentClampSeries", "IZeroClampSeries"],
                    0,
                    &mut responses,
                );
            }
        }
        if responses.is_empty() {
            return Ok(Vec::new());
        }
        let mut stimuli = Vec::new();
        if let Ok(g) = self.file.group("stimulus/presentation") {
            self.find_typed(
                &g,
                &["VoltageClampStimulusSeries", "CurrentClampStimulusSeries", "PatchClampSeries"],
                0,
                &mut stimuli,
            );
        }
        let table_pairs = self.recordings_table_pairs()?;
        // Without the IntracellularRecordingsTable (older files), a response
        // pairs with the stimulus of the same sweep number on the same
        // electrode (paired and multi-patch recordings reuse sweep numbers).
        let ic_objects = self.ic_electrode_objects();
        let mut stim_by_sweep: HashMap<(Option<String>, u64), String> = HashMap::new();
        for s in &stimuli {
            let g = self.file.group(s).map_err(|e| self.ctx.h5err(s, e))?;
            if let Some(n) = self.ctx.attr_f64(&g, "sweep_number")? {
                let electrode = self.linked_electrode(&g, &ic_objects).map(|(path, _)| basename(&path));
                #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
                stim_by_sweep.entry((electrode, n as u64)).or_insert_with(|| s.clone());
            }
        }
        let mut electrodes: HashMap<String, IcElectrode> = HashMap::new();
        let mut out = Vec::with_capacity(responses.len());
        for path in &responses {
            let mut s = self.sweep_info(path, &mut electrodes, &ic_objects)?;
            let rows: Vec<&TableRow> = table_pairs.iter().filter(|r| &r.response.0 == path).collect();
            let segments = rows.len() > 1 || rows.iter().any(|r| r.response.1 != 0 || r.response.2 != s.n_samples);
            if segments {
                // rows reference parts of one long series: each row is a sweep
                for r in rows {
                    let (_, start, count) = r.response;
                    if start + count > s.n_samples || count == 0 {
                        return Err(self.ctx.invalid(
                            &join(path, "data"),
                            format!(
                                "the intracellular recordings table references samples {start}..{} of a series of {}",
                                start + count,
                                s.n_samples
                            ),
                        ));
                    }
                    let mut seg = s.clone();
                    // the series' sweep_number names the whole series, not the row
                    seg.sweep_number = None;
                    seg.sample_start = start;
                    seg.n_samples = count;
                    #[allow(clippy::cast_precision_loss)]
                    {
                        seg.starting_time_s = s.starting_time_s + start as f64 / s.rate_hz;
                    }
                    seg.stimulus_path = r.stimulus.as_ref().map(|x| x.0.clone());
                    seg.stimulus_range = r.stimulus.as_ref().map(|x| (x.1, x.2));
                    out.push(seg);
                }
                continue;
            }
            match rows.first() {
                Some(r) => {
                    s.stimulus_path = r.stimulus.as_ref().map(|x| x.0.clone());
                    s.stimulus_range = r.stimulus.as_ref().map(|x| (x.1, x.2));
                }
                None => {
                    let key = s.electrode.as_ref().map(|e| e.name.clone());
                    s.stimulus_path = s
                        .sweep_number
                        .and_then(|n| stim_by_sweep.get(&(key, n)).or_else(|| stim_by_sweep.get(&(None, n))).cloned());
                }
            }
            out.push(s);
        }
        out.sort_by(|a, b| {
            (a.sweep_number, a.starting_time_s)
                .partial_cmp(&(b.sweep_number, b.starting_time_s))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(out)
    }

    /// The objects under `/general/intracellular_ephys` with their tokens, to
    /// name the electrode a series links to by its place there (a link opened
    /// through a series is named by the series' path).
    fn ic_electrode_objects(&self) -> Vec<(LocationToken, String)> {
        let Ok(g) = self.file.group("general/intracellular_ephys") else { return Vec::new() };
        members(&g)
            .into_iter()
            .filter_map(|m| {
                let e = g.group(&m).ok()?;
                Some((e.loc_info().ok()?.token, format!("/general/intracellular_ephys/{m}")))
            })
            .collect()
    }

    /// The electrode group a series links to (`electrode`) and its canonical path.
    fn linked_electrode(&self, g: &Group, objects: &[(LocationToken, String)]) -> Option<(String, Group)> {
        if !g.link_exists("electrode") {
            return None;
        }
        let e = g.group("electrode").ok()?;
        let token = e.loc_info().ok().map(|i| i.token);
        let path = objects.iter().find(|(t, _)| Some(*t) == token).map_or_else(|| e.name(), |(_, p)| p.clone());
        Some((path, e))
    }

    fn sweep_info(
        &self,
        path: &str,
        electrodes: &mut HashMap<String, IcElectrode>,
        ic_objects: &[(LocationToken, String)],
    ) -> Result<SweepInfo> {
        let c = &self.ctx;
        let g = self.file.group(path).map_err(|e| c.h5err(path, e))?;
        let mode = match neurodata_type(c, &g).as_deref() {
            Some("VoltageClampSeries") => ClampMode::VoltageClamp,
            Some("CurrentClampSeries") => ClampMode::CurrentClamp,
            _ => ClampMode::IZeroClamp,
        };
        let data = c.dataset(&g, "data", "the sweep's samples")?;
        let dp = join(path, "data");
        let td = c.descriptor(&data, &dp)?;
        if !is_numeric(&td) {
            return Err(c.unsupported(&dp, &td, "an integer or float type"));
        }
        let n_samples = data.size();
        if n_samples == 0 {
            return Err(c.invalid(&dp, "empty sweep; expected samples"));
        }
        if data.ndim() > 1 && data.shape().iter().filter(|&&d| d > 1).count() > 1 {
            return Err(c.invalid(&dp, format!("shape {:?}; expected a 1-D sweep", data.shape())));
        }
        let (starting_time_s, rate_hz, _) = self.time_base(&g, path, n_samples)?;
        let sweep_number = c.attr_f64(&g, "sweep_number")?.map(|x| {
            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
            let n = x as u64;
            n
        });
        let electrode = match self.linked_electrode(&g, ic_objects) {
            Some((name, eg)) => {
                if let Some(e) = electrodes.get(&name) {
                    Some(e.clone())
                } else {
                    let e = IcElectrode {
                        name: basename(&name),
                        location: c.opt_string_ds(&eg, "location")?,
                        cell_id: c.opt_string_ds(&eg, "cell_id")?,
                        description: c.opt_string_ds(&eg, "description")?,
                    };
                    electrodes.insert(name, e.clone());
                    Some(e)
                }
            }
            None => None,
        };
        Ok(SweepInfo {
            path: path.to_string(),
            mode,
            sweep_number,
            starting_time_s,
            rate_hz,
            n_samples,
            conversion: c.attr_f64(&data, "conversion")?.unwrap_or(1.0),
            offset: c.attr_f64(&data, "offset")?.unwrap_or(0.0),
            unit: c.attr_string(&data, "unit")?.unwrap_or_else(|| "amperes".into()),
            stimulus_description: c.attr_string(&g, "stimulus_description")?,
            electrode,
            stimulus_path: None,
            sample_start: 0,
            stimulus_range: None,
        })
    }

    /// The rows of the `IntracellularRecordingsTable` that have a response.
    fn recordings_table_pairs(&self) -> Result<Vec<TableRow>> {
        let base = "general/intracellular_ephys/intracellular_recordings";
        let mut out = Vec::new();
        if !(self.file.link_exists(base) && self.file.link_exists(&format!("{base}/responses/response"))) {
            return Ok(out);
        }
        let responses = self.ts_refs(&format!("/{base}/responses/response"))?;
        let stim_path = format!("/{base}/stimuli/stimulus");
        let stimuli =
            if self.file.link_exists(&stim_path) { self.ts_refs(&stim_path)? } else { vec![None; responses.len()] };
        for (r, s) in responses.into_iter().zip(stimuli) {
            if let Some(response) = r {
                out.push(TableRow { response, stimulus: s });
            }
        }
        Ok(out)
    }

    /// A `TimeSeriesReferenceVectorData` column: per row the referenced
    /// series path, first sample and count (`None` where the row is absent,
    /// `idx_start` = −1).
    fn ts_refs(&self, path: &str) -> Result<Vec<Option<(String, usize, usize)>>> {
        #[derive(hdf5::H5Type, Clone, Copy)]
        #[repr(C)]
        struct TsRef {
            idx_start: i32,
            count: i32,
            timeseries: ObjectReference1,
        }
        let c = &self.ctx;
        let ds: Dataset = self.file.dataset(path).map_err(|e| c.h5err(path, e))?;
        let rows = ds.as_reader().read_raw::<TsRef>().map_err(|e| c.h5err(path, e))?;
        rows.iter()
            .map(|r| {
                if r.idx_start < 0 || r.count < 0 {
                    Ok(None)
                } else {
                    #[allow(clippy::cast_sign_loss)]
                    crate::h5util::deref_path(&self.file, &r.timeseries)
                        .map(|p| Some((p, r.idx_start as usize, r.count as usize)))
                        .map_err(|e| c.h5err(path, e))
                }
            })
            .collect()
    }

    /// Samples of a sweep's response in its physical unit (amperes or volts).
    ///
    /// # Errors
    /// The data cannot be read.
    pub fn read_sweep(&self, sweep: &SweepInfo) -> Result<Vec<f64>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading a sweep", self.ctx.file.display()));
        self.read_series_1d(&sweep.path, Some((sweep.sample_start, sweep.n_samples)))
    }

    /// Samples of a sweep's stimulus in its physical unit, when it has one.
    ///
    /// # Errors
    /// The data cannot be read.
    pub fn read_stimulus(&self, sweep: &SweepInfo) -> Result<Option<Vec<f64>>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading a stimulus", self.ctx.file.display()));
        sweep.stimulus_path.as_deref().map(|p| self.read_series_1d(p, sweep.stimulus_range)).transpose()
    }

    /// A series' samples (all, or `count` from `start`) in its physical unit.
    fn read_series_1d(&self, path: &str, range: Option<(usize, usize)>) -> Result<Vec<f64>> {
        let c = &self.ctx;
        let g = self.file.group(path).map_err(|e| c.h5err(path, e))?;
        let data = c.dataset(&g, "data", "samples")?;
        let dp = join(path, "data");
        let conversion = c.attr_f64(&data, "conversion")?.unwrap_or(1.0);
        let offset = c.attr_f64(&data, "offset")?.unwrap_or(0.0);
        let n = data.size();
        let mut v = match range {
            Some((start, count)) if start > 0 || count < n => {
                if start + count > n {
                    return Err(c.invalid(&dp, format!("samples {start}..{} requested of {n}", start + count)));
                }
                if data.ndim() == 1 {
                    let d = c.descriptor(&data, &dp)?;
                    if !is_numeric(&d) {
                        return Err(c.unsupported(&dp, &d, "a numeric type"));
                    }
                    data.as_reader()
                        .read_slice_1d::<f64, _>(start..start + count)
                        .map_err(|e| c.h5err(&dp, e))?
                        .to_vec()
                } else {
                    c.read_f64s(&data, &dp)?[start..start + count].to_vec()
                }
            }
            _ => c.read_f64s(&data, &dp)?,
        };
        for x in &mut v {
            *x = *x * conversion + offset;
        }
        Ok(v)
    }
}
