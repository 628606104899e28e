//! Writing standard NWB 2.x files that pynwb opens: session metadata,
//! devices, electrode groups and table, `ElectricalSeries` written block by
//! block, `/units`, `/intervals/epochs`, intracellular electrodes and
//! voltage-clamp sweeps with their stimuli.
//!
//! The file is written to a temporary name beside the destination and renamed
//! by [`NwbWriter::finish`]; dropped without `finish`, the temporary is removed,
//! so a failed run never leaves a half-written output.

use crate::error::{IoError, Result};
use burstscope_core::{AtomicFile, Epoch, Unit};
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Group, H5Type, Location, ObjectReference1};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The NWB schema version whose layout the writer follows (the same as
/// pynwb 4.x writes: `ElectrodesTable` typed electrodes table).
pub const NWB_VERSION: &str = "2.9.0";

/// Session-level facts written to the file root and `/general`.
#[derive(Debug, Clone)]
pub struct NwbSession {
    /// Unique identifier of the file.
    pub identifier: String,
    /// What the session was.
    pub session_description: String,
    /// ISO 8601 start time with offset, e.g. `2026-01-01T10:00:00+00:00`.
    pub session_start_time: String,
    /// Drug, dose and timing as free text.
    pub pharmacology: Option<String>,
    /// Experimenters.
    pub experimenter: Vec<String>,
    /// Subject fields (`subject_id`, `species`, ...), written to `/general/subject`.
    pub subject: Vec<(String, String)>,
}

/// One extracellular series to create.
#[derive(Debug, Clone)]
pub struct ElectricalSeriesSpec {
    /// Name under `/acquisition`.
    pub name: String,
    /// Number of samples.
    pub n_samples: usize,
    /// Number of channels (one electrode-table row each, in order).
    pub electrode_rows: Vec<usize>,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Volts per stored integer step.
    pub conversion: f64,
    /// Samples per chunk along time.
    pub chunk_samples: usize,
    /// gzip level (0 = no compression).
    pub gzip_level: u8,
    /// Description attribute.
    pub description: String,
    /// Time of the first sample on the session clock, s.
    pub starting_time_s: f64,
    /// Per-channel factors applied on top of `conversion` (NWB
    /// `channel_conversion`), for channels with different gains.
    pub channel_conversion: Option<Vec<f32>>,
}

/// The clamp of a patch-clamp sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clamp {
    /// Voltage clamp: the response in amperes, the command in volts.
    Voltage,
    /// Current clamp: the response in volts, the command in amperes.
    Current,
}

/// One patch-clamp sweep of any clamp, with its command when there is one.
#[derive(Debug, Clone)]
pub struct PatchSweepSpec<'a> {
    /// Voltage or current clamp.
    pub clamp: Clamp,
    /// Name of the response series under `/acquisition`.
    pub name: String,
    /// Name of the stimulus series under `/stimulus/presentation`.
    pub stimulus_name: String,
    /// Sweep number.
    pub sweep_number: u32,
    /// Sweep start on the session clock, s.
    pub starting_time_s: f64,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Response (A in voltage clamp, V in current clamp).
    pub response: &'a [f32],
    /// Command (V in voltage clamp, A in current clamp), when known.
    pub command: Option<&'a [f32]>,
    /// Condition or protocol name (`stimulus_description`).
    pub stimulus_description: String,
    /// What the series is (`description`).
    pub description: String,
    /// Name of the intracellular electrode (under `/general/intracellular_ephys`).
    pub electrode: String,
}

/// A sorter's `/units`: spike times, groups, electrodes, mean and SD
/// waveforms, observation intervals and metric columns.
#[derive(Debug, Clone, Default)]
pub struct SortedUnitsSpec {
    /// Unit ids.
    pub ids: Vec<i64>,
    /// Spike times per unit, s.
    pub spike_times_s: Vec<Vec<f64>>,
    /// Sampling resolution of the times (1 / rate), s.
    pub resolution_s: f64,
    /// Observation intervals per unit, s.
    pub obs_intervals_s: Vec<Vec<(f64, f64)>>,
    /// Electrode group name per unit (must exist).
    pub electrode_group: Vec<String>,
    /// Electrode-table rows per unit.
    pub electrodes: Vec<Vec<u64>>,
    /// Samples per waveform.
    pub waveform_samples: usize,
    /// Electrodes per waveform (the largest group; shorter groups are NaN-padded).
    pub waveform_electrodes: usize,
    /// Mean waveforms, units × samples × electrodes, volts.
    pub waveform_mean_v: Vec<f32>,
    /// SD waveforms, same layout, volts.
    pub waveform_sd_v: Vec<f32>,
    /// Waveform sampling rate, Hz.
    pub waveform_rate_hz: f64,
    /// Float columns: (name, description, one value per unit).
    pub float_columns: Vec<(String, String, Vec<f64>)>,
    /// Integer columns.
    pub int_columns: Vec<(String, String, Vec<i64>)>,
    /// Text columns.
    pub text_columns: Vec<(String, String, Vec<String>)>,
}

/// One voltage- or current-clamp sweep to write.
#[derive(Debug, Clone)]
pub struct SweepSpec<'a> {
    /// Name of the response series under `/acquisition`.
    pub name: String,
    /// Name of the stimulus series under `/stimulus/presentation`.
    pub stimulus_name: String,
    /// Sweep number.
    pub sweep_number: u32,
    /// Sweep start on the session clock, s.
    pub starting_time_s: f64,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Response in amperes.
    pub response_a: &'a [f32],
    /// Command voltage in volts.
    pub command_v: &'a [f32],
    /// Condition or protocol name (`stimulus_description`).
    pub stimulus_description: String,
    /// Name of the intracellular electrode (under `/general/intracellular_ephys`).
    pub electrode: String,
}

/// One row of the `IntracellularRecordingsTable`.
#[derive(Debug, Clone)]
pub struct IcRecordingRow {
    /// The intracellular electrode's name.
    pub electrode: String,
    /// The stimulus series' path, when the sweep has one.
    pub stimulus: Option<String>,
    /// The response series' path.
    pub response: String,
    /// Samples of the response (and stimulus).
    pub count: usize,
}

/// Writes one NWB file; see the module documentation.
#[derive(Debug)]
pub struct NwbWriter {
    file: Option<hdf5::File>,
    tmp: AtomicFile,
    dest: PathBuf,
    id_seed: String,
}

fn vlu(s: &str) -> VarLenUnicode {
    // Interior NULs cannot be stored in HDF5 strings: replace them.
    VarLenUnicode::from_str(&s.replace('\0', " ")).unwrap_or_default()
}

impl NwbWriter {
    /// Creates `dest` (through a temporary file) with the session metadata and
    /// the groups every NWB file has.
    ///
    /// # Errors
    /// The temporary file cannot be created.
    pub fn create(dest: &Path, session: &NwbSession) -> Result<Self> {
        let tmp = AtomicFile::reserve(dest);
        // No object modification times: the same content gives the same bytes
        // (and so the same content hash for a regenerated session).
        let file = hdf5::File::with_options()
            .with_fcpl(|p| p.obj_track_times(false))
            .create(tmp.temp())
            .map_err(|e| IoError::Hdf5 { file: dest.to_path_buf(), h5path: "/".into(), source: e })?;
        let w = Self { file: Some(file), tmp, dest: dest.to_path_buf(), id_seed: session.identifier.clone() };
        w.init(session).map_err(|e| w.err("/", e))?;
        Ok(w)
    }

    fn f(&self) -> &hdf5::File {
        self.file.as_ref().expect("file is open until finish")
    }

    fn err(&self, h5path: &str, source: hdf5::Error) -> IoError {
        IoError::Hdf5 { file: self.dest.clone(), h5path: h5path.into(), source }
    }

    /// A deterministic UUID-shaped object id for `path` in this file.
    fn object_id(&self, path: &str) -> String {
        let h = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(format!("{}|{path}", self.id_seed).as_bytes()));
        format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
    }

    fn typed(&self, loc: &Location, ns: &str, ty: &str) -> hdf5::Result<()> {
        attr_str(loc, "namespace", ns)?;
        attr_str(loc, "neurodata_type", ty)?;
        attr_str(loc, "object_id", &self.object_id(&loc.name()))
    }

    fn init(&self, s: &NwbSession) -> hdf5::Result<()> {
        let f = self.f();
        attr_str(f, "nwb_version", NWB_VERSION)?;
        self.typed(f, "core", "NWBFile")?;
        ds_str(f, "identifier", &s.identifier)?;
        ds_str(f, "session_description", &s.session_description)?;
        ds_str(f, "session_start_time", &s.session_start_time)?;
        ds_str(f, "timestamps_reference_time", &s.session_start_time)?;
        ds_strs(f, "file_create_date", &[now_iso8601()])?;
        for g in [
            "acquisition",
            "analysis",
            "processing",
            "stimulus",
            "stimulus/presentation",
            "stimulus/templates",
            "general",
            "general/devices",
        ] {
            f.create_group_builder().obj_track_times(false).create(g)?;
        }
        let general = f.group("general")?;
        if let Some(p) = &s.pharmacology {
            ds_str(&general, "pharmacology", p)?;
        }
        if !s.experimenter.is_empty() {
            ds_strs(&general, "experimenter", &s.experimenter)?;
        }
        if !s.subject.is_empty() {
            let sg = general.create_group_builder().obj_track_times(false).create("subject")?;
            self.typed(&sg, "core", "Subject")?;
            for (k, v) in &s.subject {
                ds_str(&sg, k, v)?;
            }
        }
        Ok(())
    }

    /// Adds a device under `/general/devices`.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_device(&self, name: &str, description: &str) -> Result<()> {
        let path = format!("/general/devices/{name}");
        (|| {
            let g = self.f().create_group_builder().obj_track_times(false).create(path.as_str())?;
            attr_str(&g, "description", description)?;
            self.typed(&g, "core", "Device")
        })()
        .map_err(|e| self.err(&path, e))
    }

    /// Adds an `ElectrodeGroup` (e.g. one tetrode) linked to `device`.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_electrode_group(&self, name: &str, description: &str, location: &str, device: &str) -> Result<()> {
        let path = format!("/general/extracellular_ephys/{name}");
        (|| {
            let ee = ensure_group(self.f(), "general/extracellular_ephys")?;
            let g = ee.create_group_builder().obj_track_times(false).create(name)?;
            attr_str(&g, "description", description)?;
            attr_str(&g, "location", location)?;
            self.typed(&g, "core", "ElectrodeGroup")?;
            g.link_soft(&format!("/general/devices/{device}"), "device")
        })()
        .map_err(|e| self.err(&path, e))
    }

    /// Writes the electrodes table: one row per `(group name, location)`.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_electrodes(&self, rows: &[(String, String)]) -> Result<()> {
        let path = "/general/extracellular_ephys/electrodes";
        (|| {
            let ee = ensure_group(self.f(), "general/extracellular_ephys")?;
            let g = ee.create_group_builder().obj_track_times(false).create("electrodes")?;
            attr_strs(&g, "colnames", &["location", "group", "group_name"])?;
            attr_str(&g, "description", "metadata about extracellular electrodes")?;
            self.typed(&g, "core", "ElectrodesTable")?;
            let ids: Vec<i64> = (0..rows.len() as i64).collect();
            self.element_ids(&g, &ids)?;
            let locs: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
            self.vector_strs(&g, "location", "Location of the electrode (channel).", &locs)?;
            let refs = rows
                .iter()
                .map(|r| self.f().reference::<ObjectReference1>(&format!("/general/extracellular_ephys/{}", r.0)))
                .collect::<hdf5::Result<Vec<_>>>()?;
            let ds = g.new_dataset_builder().obj_track_times(false).with_data(refs.as_slice()).create("group")?;
            self.vector_attrs(&ds, "Reference to the ElectrodeGroup.")?;
            let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
            self.vector_strs(&g, "group_name", "Name of the ElectrodeGroup.", &names)
        })()
        .map_err(|e| self.err(path, e))
    }

    /// Creates an int16 `ElectricalSeries` to be filled block by block.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_electrical_series(&self, spec: &ElectricalSeriesSpec) -> Result<ElectricalSeriesWriter<'_>> {
        let path = format!("/acquisition/{}", spec.name);
        let n_ch = spec.electrode_rows.len();
        let data = (|| {
            let g = self.f().create_group_builder().obj_track_times(false).create(path.as_str())?;
            attr_str(&g, "comments", "no comments")?;
            attr_str(&g, "description", &spec.description)?;
            self.typed(&g, "core", "ElectricalSeries")?;
            let chunk = spec.chunk_samples.clamp(1, spec.n_samples.max(1));
            let mut b = g.new_dataset::<i16>().obj_track_times(false).chunk((chunk, n_ch));
            if spec.gzip_level > 0 {
                b = b.shuffle().deflate(spec.gzip_level);
            }
            let data = b.shape((spec.n_samples, n_ch)).create("data")?;
            attr_f64(&data, "conversion", spec.conversion)?;
            attr_f64(&data, "offset", 0.0)?;
            attr_f64(&data, "resolution", -1.0)?;
            attr_str(&data, "unit", "volts")?;
            let t0 = g.new_dataset::<f64>().obj_track_times(false).create("starting_time")?;
            t0.write_scalar(&spec.starting_time_s)?;
            attr_f64(&t0, "rate", spec.rate_hz)?;
            attr_str(&t0, "unit", "seconds")?;
            if let Some(cc) = &spec.channel_conversion {
                let ds = g
                    .new_dataset_builder()
                    .obj_track_times(false)
                    .with_data(cc.as_slice())
                    .create("channel_conversion")?;
                attr_i32(&ds, "axis", 1)?;
            }
            let rows: Vec<i64> = spec.electrode_rows.iter().map(|&r| r as i64).collect();
            let el = g.new_dataset_builder().obj_track_times(false).with_data(rows.as_slice()).create("electrodes")?;
            attr_str(&el, "description", "electrodes of this series")?;
            self.typed(&el, "hdmf-common", "DynamicTableRegion")?;
            let r = self.f().reference::<ObjectReference1>("/general/extracellular_ephys/electrodes")?;
            attr_ref(&el, "table", &r)?;
            Ok(data)
        })()
        .map_err(|e| self.err(&path, e))?;
        Ok(ElectricalSeriesWriter { writer: self, data, path, n_channels: n_ch })
    }

    /// Writes `/units` with spike times, electrode groups and text columns
    /// (`(name, description, one value per unit)`).
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_units(&self, units: &[Unit], text_columns: &[(&str, &str, Vec<String>)]) -> Result<()> {
        self.add_units_with_resolution(units, text_columns, None)
    }

    /// [`NwbWriter::add_units`] with the spike times' resolution (s; the
    /// acquisition system's tick), as NWB best practice asks.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_units_with_resolution(
        &self,
        units: &[Unit],
        text_columns: &[(&str, &str, Vec<String>)],
        resolution_s: Option<f64>,
    ) -> Result<()> {
        let path = "/units";
        (|| {
            let g = self.f().create_group_builder().obj_track_times(false).create("units")?;
            let mut colnames: Vec<&str> = vec!["spike_times"];
            let with_groups = units.iter().all(|u| u.electrode_group.is_some());
            if with_groups {
                colnames.push("electrode_group");
            }
            colnames.extend(text_columns.iter().map(|c| c.0));
            attr_strs(&g, "colnames", &colnames)?;
            attr_str(&g, "description", "units and their spike times")?;
            self.typed(&g, "core", "Units")?;
            self.element_ids(&g, &units.iter().map(|u| u.id).collect::<Vec<_>>())?;
            let all: Vec<f64> = units.iter().flat_map(|u| u.spike_times_s.iter().copied()).collect();
            let st = g.new_dataset_builder().obj_track_times(false).with_data(all.as_slice()).create("spike_times")?;
            self.vector_attrs(&st, "the spike times for each unit in seconds")?;
            if let Some(r) = resolution_s {
                attr_f64(&st, "resolution", r)?;
            }
            let mut ends = Vec::with_capacity(units.len());
            let mut acc = 0u64;
            for u in units {
                acc += u.spike_times_s.len() as u64;
                ends.push(acc);
            }
            self.vector_index(&g, "spike_times", &ends)?;
            if with_groups {
                let refs = units
                    .iter()
                    .map(|u| {
                        let name = u.electrode_group.as_deref().unwrap_or_default();
                        self.f().reference::<ObjectReference1>(&format!("/general/extracellular_ephys/{name}"))
                    })
                    .collect::<hdf5::Result<Vec<_>>>()?;
                let ds = g
                    .new_dataset_builder()
                    .obj_track_times(false)
                    .with_data(refs.as_slice())
                    .create("electrode_group")?;
                self.vector_attrs(&ds, "the electrode group that each spike unit came from")?;
            }
            for (name, desc, values) in text_columns {
                self.vector_strs(&g, name, desc, values)?;
            }
            Ok(())
        })()
        .map_err(|e| self.err(path, e))
    }

    /// Writes a sorter's `/units` ([`SortedUnitsSpec`]); the electrode
    /// groups and table must have been added.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_sorted_units(&self, u: &SortedUnitsSpec) -> Result<()> {
        let path = "/units";
        (|| {
            let g = self.f().create_group_builder().obj_track_times(false).create("units")?;
            let mut colnames: Vec<&str> =
                vec!["spike_times", "obs_intervals", "electrodes", "electrode_group", "waveform_mean", "waveform_sd"];
            colnames.extend(u.float_columns.iter().map(|c| c.0.as_str()));
            colnames.extend(u.int_columns.iter().map(|c| c.0.as_str()));
            colnames.extend(u.text_columns.iter().map(|c| c.0.as_str()));
            attr_strs(&g, "colnames", &colnames)?;
            attr_str(&g, "description", "units sorted by burstscope, with quality metrics")?;
            self.typed(&g, "core", "Units")?;
            self.element_ids(&g, &u.ids)?;
            let ends = |lens: &mut dyn Iterator<Item = usize>| -> Vec<u64> {
                let mut acc = 0u64;
                lens.map(|n| {
                    acc += n as u64;
                    acc
                })
                .collect()
            };
            let all: Vec<f64> = u.spike_times_s.iter().flatten().copied().collect();
            let st = g.new_dataset_builder().obj_track_times(false).with_data(all.as_slice()).create("spike_times")?;
            self.vector_attrs(&st, "the spike times for each unit in seconds")?;
            attr_f64(&st, "resolution", u.resolution_s)?;
            self.vector_index(&g, "spike_times", &ends(&mut u.spike_times_s.iter().map(Vec::len)))?;
            let oi: Vec<[f64; 2]> = u.obs_intervals_s.iter().flatten().map(|&(a, b)| [a, b]).collect();
            let oi_arr = ndarray::Array2::from_shape_vec((oi.len(), 2), oi.iter().flatten().copied().collect())
                .map_err(|e| hdf5::Error::from(e.to_string().as_str()))?;
            let ds = g.new_dataset_builder().obj_track_times(false).with_data(&oi_arr).create("obs_intervals")?;
            self.vector_attrs(&ds, "the observation intervals for each unit")?;
            self.vector_index(&g, "obs_intervals", &ends(&mut u.obs_intervals_s.iter().map(Vec::len)))?;
            let el: Vec<i64> = u.electrodes.iter().flatten().map(|&r| r as i64).collect();
            let ds = g.new_dataset_builder().obj_track_times(false).with_data(el.as_slice()).create("electrodes")?;
            attr_str(&ds, "description", "the electrodes that each spike unit came from")?;
            self.typed(&ds, "hdmf-common", "DynamicTableRegion")?;
            let r = self.f().reference::<ObjectReference1>("/general/extracellular_ephys/electrodes")?;
            attr_ref(&ds, "table", &r)?;
            self.vector_index(&g, "electrodes", &ends(&mut u.electrodes.iter().map(Vec::len)))?;
            let refs = u
                .electrode_group
                .iter()
                .map(|name| self.f().reference::<ObjectReference1>(&format!("/general/extracellular_ephys/{name}")))
                .collect::<hdf5::Result<Vec<_>>>()?;
            let ds =
                g.new_dataset_builder().obj_track_times(false).with_data(refs.as_slice()).create("electrode_group")?;
            self.vector_attrs(&ds, "the electrode group that each spike unit came from")?;
            let shape = (u.ids.len(), u.waveform_samples, u.waveform_electrodes);
            for (name, data, desc) in [
                ("waveform_mean", &u.waveform_mean_v, "the spike waveform mean for each spike unit"),
                ("waveform_sd", &u.waveform_sd_v, "the spike waveform standard deviation for each spike unit"),
            ] {
                let arr = ndarray::Array3::from_shape_vec(shape, data.clone())
                    .map_err(|e| hdf5::Error::from(e.to_string().as_str()))?;
                let ds = g.new_dataset_builder().obj_track_times(false).with_data(&arr).create(name)?;
                self.vector_attrs(&ds, desc)?;
                attr_f64(&ds, "sampling_rate", u.waveform_rate_hz)?;
                attr_str(&ds, "unit", "volts")?;
            }
            for (name, desc, v) in &u.float_columns {
                let ds =
                    g.new_dataset_builder().obj_track_times(false).with_data(v.as_slice()).create(name.as_str())?;
                self.vector_attrs(&ds, desc)?;
            }
            for (name, desc, v) in &u.int_columns {
                let ds =
                    g.new_dataset_builder().obj_track_times(false).with_data(v.as_slice()).create(name.as_str())?;
                self.vector_attrs(&ds, desc)?;
            }
            for (name, desc, v) in &u.text_columns {
                self.vector_strs(&g, name, desc, v)?;
            }
            Ok(())
        })()
        .map_err(|e| self.err(path, e))
    }

    /// Writes `/intervals/epochs`.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_epochs(&self, epochs: &[Epoch]) -> Result<()> {
        let path = "/intervals/epochs";
        (|| {
            let g =
                ensure_group(self.f(), "intervals")?.create_group_builder().obj_track_times(false).create("epochs")?;
            attr_strs(&g, "colnames", &["start_time", "stop_time", "tags"])?;
            attr_str(&g, "description", "experimental epochs")?;
            self.typed(&g, "core", "TimeIntervals")?;
            self.element_ids(&g, &(0..epochs.len() as i64).collect::<Vec<_>>())?;
            let start: Vec<f64> = epochs.iter().map(|e| e.start_s).collect();
            let stop: Vec<f64> = epochs.iter().map(|e| e.stop_s).collect();
            let ds = g.new_dataset_builder().obj_track_times(false).with_data(start.as_slice()).create("start_time")?;
            self.vector_attrs(&ds, "Start time of epoch, in seconds")?;
            let ds = g.new_dataset_builder().obj_track_times(false).with_data(stop.as_slice()).create("stop_time")?;
            self.vector_attrs(&ds, "Stop time of epoch, in seconds")?;
            let tags: Vec<String> = epochs.iter().flat_map(|e| e.tags.iter().cloned()).collect();
            self.vector_strs(&g, "tags", "user-defined tags", &tags)?;
            let mut ends = Vec::new();
            let mut acc = 0u64;
            for e in epochs {
                acc += e.tags.len() as u64;
                ends.push(acc);
            }
            self.vector_index(&g, "tags", &ends)
        })()
        .map_err(|e| self.err(path, e))
    }

    /// Adds an `IntracellularElectrode` linked to `device`.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_ic_electrode(
        &self,
        name: &str,
        device: &str,
        description: &str,
        location: &str,
        cell_id: &str,
    ) -> Result<()> {
        let path = format!("/general/intracellular_ephys/{name}");
        (|| {
            let ie = ensure_group(self.f(), "general/intracellular_ephys")?;
            let g = ie.create_group_builder().obj_track_times(false).create(name)?;
            self.typed(&g, "core", "IntracellularElectrode")?;
            ds_str(&g, "description", description)?;
            ds_str(&g, "location", location)?;
            ds_str(&g, "cell_id", cell_id)?;
            g.link_soft(&format!("/general/devices/{device}"), "device")
        })()
        .map_err(|e| self.err(&path, e))
    }

    /// Writes a voltage-clamp sweep (`VoltageClampSeries`) and its command
    /// (`VoltageClampStimulusSeries`).
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_voltage_clamp_sweep(&self, s: &SweepSpec<'_>) -> Result<()> {
        let rpath = format!("/acquisition/{}", s.name);
        self.patch_series(&rpath, "VoltageClampSeries", "amperes", s.response_a, s, &s.stimulus_description)
            .map_err(|e| self.err(&rpath, e))?;
        let spath = format!("/stimulus/presentation/{}", s.stimulus_name);
        self.patch_series(&spath, "VoltageClampStimulusSeries", "volts", s.command_v, s, "N/A")
            .map_err(|e| self.err(&spath, e))
    }

    /// Writes a patch-clamp sweep of either clamp
    /// (`VoltageClampSeries`/`CurrentClampSeries`) and, when given, its
    /// command (`VoltageClampStimulusSeries`/`CurrentClampStimulusSeries`);
    /// returns the paths of the response and the stimulus.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_patch_sweep(&self, s: &PatchSweepSpec<'_>) -> Result<(String, Option<String>)> {
        let (rty, runit, sty, sunit) = match s.clamp {
            Clamp::Voltage => ("VoltageClampSeries", "amperes", "VoltageClampStimulusSeries", "volts"),
            Clamp::Current => ("CurrentClampSeries", "volts", "CurrentClampStimulusSeries", "amperes"),
        };
        let legacy = SweepSpec {
            name: s.name.clone(),
            stimulus_name: s.stimulus_name.clone(),
            sweep_number: s.sweep_number,
            starting_time_s: s.starting_time_s,
            rate_hz: s.rate_hz,
            response_a: s.response,
            command_v: &[],
            stimulus_description: s.stimulus_description.clone(),
            electrode: s.electrode.clone(),
        };
        let rpath = format!("/acquisition/{}", s.name);
        self.patch_series(&rpath, rty, runit, s.response, &legacy, &s.stimulus_description)
            .and_then(|()| {
                let g = self.f().group(&rpath)?;
                g.attr("description")?.write_scalar(&vlu(&s.description))
            })
            .map_err(|e| self.err(&rpath, e))?;
        let spath = match s.command {
            Some(cmd) => {
                let spath = format!("/stimulus/presentation/{}", s.stimulus_name);
                self.patch_series(&spath, sty, sunit, cmd, &legacy, &s.stimulus_description)
                    .and_then(|()| {
                        let g = self.f().group(&spath)?;
                        g.attr("description")?.write_scalar(&vlu("the command of this sweep, from the protocol"))
                    })
                    .map_err(|e| self.err(&spath, e))?;
                Some(spath)
            }
            None => None,
        };
        Ok((rpath, spath))
    }

    /// Writes the `IntracellularRecordingsTable` (NWB 2.4+): one row per
    /// recording — its electrode, stimulus (when any) and response series,
    /// each referenced whole (`count` samples from 0).
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_intracellular_recordings(&self, rows: &[IcRecordingRow]) -> Result<()> {
        #[derive(hdf5::H5Type, Clone, Copy)]
        #[repr(C)]
        struct TsRef {
            idx_start: i32,
            count: i32,
            timeseries: ObjectReference1,
        }
        let path = "/general/intracellular_ephys/intracellular_recordings";
        (|| {
            let ie = ensure_group(self.f(), "general/intracellular_ephys")?;
            let g = ie.create_group_builder().obj_track_times(false).create("intracellular_recordings")?;
            attr_strs(&g, "categories", &["electrodes", "stimuli", "responses"])?;
            attr_strs(&g, "colnames", &[])?;
            attr_str(&g, "description", "A table to group together a stimulus and response from a single electrode and a single simultaneous recording and for storing metadata about the intracellular recording.")?;
            self.typed(&g, "core", "IntracellularRecordingsTable")?;
            let ids: Vec<i64> = (0..rows.len() as i64).collect();
            self.element_ids(&g, &ids)?;
            let sub = |name: &str, ty: &str, col: &str, desc: &str| -> hdf5::Result<Group> {
                let t = g.create_group_builder().obj_track_times(false).create(name)?;
                attr_strs(&t, "colnames", &[col])?;
                attr_str(&t, "description", desc)?;
                self.typed(&t, "core", ty)?;
                self.element_ids(&t, &ids)?;
                Ok(t)
            };
            let e = sub("electrodes", "IntracellularElectrodesTable", "electrode", "Table for storing intracellular electrode related metadata.")?;
            let refs = rows
                .iter()
                .map(|r| self.f().reference::<ObjectReference1>(&format!("/general/intracellular_ephys/{}", r.electrode)))
                .collect::<hdf5::Result<Vec<_>>>()?;
            let ds = e.new_dataset_builder().obj_track_times(false).with_data(refs.as_slice()).create("electrode")?;
            self.vector_attrs(&ds, "Column for storing the reference to the intracellular electrode.")?;
            for (name, ty, col, desc) in [
                ("stimuli", "IntracellularStimuliTable", "stimulus", "Table for storing intracellular stimulus related metadata."),
                ("responses", "IntracellularResponsesTable", "response", "Table for storing intracellular response related metadata."),
            ] {
                let t = sub(name, ty, col, desc)?;
                let refs = rows
                    .iter()
                    .map(|r| {
                        let target = if col == "stimulus" { r.stimulus.as_deref() } else { Some(r.response.as_str()) };
                        // an absent stimulus references the response with idx_start = -1, count = -1
                        let p = target.unwrap_or(r.response.as_str());
                        let timeseries = self.f().reference::<ObjectReference1>(p)?;
                        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                        let (idx_start, count) = if target.is_some() { (0, r.count as i32) } else { (-1, -1) };
                        Ok(TsRef { idx_start, count, timeseries })
                    })
                    .collect::<hdf5::Result<Vec<_>>>()?;
                let ds = t.new_dataset_builder().obj_track_times(false).with_data(refs.as_slice()).create(col)?;
                attr_str(&ds, "description", &format!("Column storing the reference to the recorded {col} for the recording (rows)."))?;
                self.typed(&ds, "core", "TimeSeriesReferenceVectorData")?;
            }
            Ok(())
        })()
        .map_err(|e| self.err(path, e))
    }

    /// Writes `/general/source_script` (the program and parameters that
    /// made the file) with its `file_name` attribute.
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_source_script(&self, text: &str, file_name: &str) -> Result<()> {
        let path = "/general/source_script";
        (|| {
            let g = self.f().group("general")?;
            let ds = g.new_dataset::<VarLenUnicode>().obj_track_times(false).shape(()).create("source_script")?;
            ds.write_scalar(&vlu(text))?;
            attr_str(&ds, "file_name", file_name)
        })()
        .map_err(|e| self.err(path, e))
    }

    /// Writes an `AnnotationSeries` under `/acquisition`: texts at times (s).
    ///
    /// # Errors
    /// HDF5 write errors.
    pub fn add_annotations(&self, name: &str, description: &str, texts: &[String], times_s: &[f64]) -> Result<()> {
        let path = format!("/acquisition/{name}");
        (|| {
            let g = self.f().create_group_builder().obj_track_times(false).create(path.as_str())?;
            attr_str(&g, "comments", "no comments")?;
            attr_str(&g, "description", description)?;
            self.typed(&g, "core", "AnnotationSeries")?;
            let v: Vec<VarLenUnicode> = texts.iter().map(|s| vlu(s)).collect();
            let d = g.new_dataset_builder().obj_track_times(false).with_data(v.as_slice()).create("data")?;
            attr_f64(&d, "conversion", 1.0)?;
            attr_f64(&d, "offset", 0.0)?;
            attr_f64(&d, "resolution", -1.0)?;
            attr_str(&d, "unit", "n/a")?;
            let t = g.new_dataset_builder().obj_track_times(false).with_data(times_s).create("timestamps")?;
            attr_i32(&t, "interval", 1)?;
            attr_str(&t, "unit", "seconds")
        })()
        .map_err(|e| self.err(&path, e))
    }

    fn patch_series(
        &self,
        path: &str,
        ty: &str,
        unit: &str,
        data: &[f32],
        s: &SweepSpec<'_>,
        stim: &str,
    ) -> hdf5::Result<()> {
        let g = self.f().create_group_builder().obj_track_times(false).create(path)?;
        attr_str(&g, "comments", "no comments")?;
        attr_str(&g, "description", "no description")?;
        attr_str(&g, "stimulus_description", stim)?;
        attr_u32(&g, "sweep_number", s.sweep_number)?;
        self.typed(&g, "core", ty)?;
        let chunk = data.len().clamp(1, 4096);
        let d = g
            .new_dataset::<f32>()
            .obj_track_times(false)
            .chunk(chunk)
            .shuffle()
            .deflate(4)
            .shape(data.len())
            .create("data")?;
        d.write_raw(data)?;
        attr_f64(&d, "conversion", 1.0)?;
        attr_f64(&d, "offset", 0.0)?;
        attr_f64(&d, "resolution", -1.0)?;
        attr_str(&d, "unit", unit)?;
        let t0 = g.new_dataset::<f64>().obj_track_times(false).create("starting_time")?;
        t0.write_scalar(&s.starting_time_s)?;
        attr_f64(&t0, "rate", s.rate_hz)?;
        attr_str(&t0, "unit", "seconds")?;
        g.link_soft(&format!("/general/intracellular_ephys/{}", s.electrode), "electrode")
    }

    /// Closes the file and moves it to its destination.
    ///
    /// # Errors
    /// Flush or rename failures.
    pub fn finish(mut self) -> Result<PathBuf> {
        let f = self.file.take().expect("file is open until finish");
        f.flush().map_err(|e| self.err("/", e))?;
        // close strongly: every handle into the file goes, so no lock outlives the writer
        f.close().map_err(|e| self.err("/", e))?;
        let tmp = std::mem::replace(&mut self.tmp, AtomicFile::reserve(&self.dest));
        tmp.commit().map_err(|e| IoError::Os { file: self.dest.clone(), source: e })
    }

    // ---- table helpers

    fn element_ids(&self, g: &Group, ids: &[i64]) -> hdf5::Result<()> {
        let ds = g.new_dataset_builder().obj_track_times(false).with_data(ids).create("id")?;
        self.typed(&ds, "hdmf-common", "ElementIdentifiers")
    }

    fn vector_attrs(&self, ds: &Dataset, description: &str) -> hdf5::Result<()> {
        attr_str(ds, "description", description)?;
        self.typed(ds, "hdmf-common", "VectorData")
    }

    fn vector_strs(&self, g: &Group, name: &str, description: &str, values: &[String]) -> hdf5::Result<()> {
        let v: Vec<VarLenUnicode> = values.iter().map(|s| vlu(s)).collect();
        let ds = g.new_dataset_builder().obj_track_times(false).with_data(v.as_slice()).create(name)?;
        self.vector_attrs(&ds, description)
    }

    fn vector_index(&self, g: &Group, target: &str, ends: &[u64]) -> hdf5::Result<()> {
        let name = format!("{target}_index");
        // uint32 when the offsets fit, as pynwb writes them: a uint64 index
        // mixed with Python ints becomes float64 in numpy, which readers such
        // as SpikeInterface's cannot slice with.
        let ds = if ends.last().is_none_or(|&e| e <= u64::from(u32::MAX)) {
            #[allow(clippy::cast_possible_truncation)]
            let small: Vec<u32> = ends.iter().map(|&e| e as u32).collect();
            g.new_dataset_builder().obj_track_times(false).with_data(small.as_slice()).create(name.as_str())?
        } else {
            g.new_dataset_builder().obj_track_times(false).with_data(ends).create(name.as_str())?
        };
        attr_str(&ds, "description", &format!("Index for VectorData '{target}'"))?;
        self.typed(&ds, "hdmf-common", "VectorIndex")?;
        let r = g.reference::<ObjectReference1>(target)?;
        attr_ref(&ds, "target", &r)
    }
}

impl Drop for NwbWriter {
    fn drop(&mut self) {
        // Close the file before the AtomicFile removes it.
        drop(self.file.take());
    }
}

/// Fills an `ElectricalSeries` created by [`NwbWriter::add_electrical_series`].
#[derive(Debug)]
pub struct ElectricalSeriesWriter<'w> {
    writer: &'w NwbWriter,
    data: Dataset,
    path: String,
    n_channels: usize,
}

impl ElectricalSeriesWriter<'_> {
    /// Writes time-major int16 samples starting at sample `start`.
    ///
    /// # Errors
    /// Length not a multiple of the channel count, or an HDF5 error.
    pub fn write_block(&self, start: usize, samples: &[i16]) -> Result<()> {
        if !samples.len().is_multiple_of(self.n_channels) {
            return Err(IoError::Invalid {
                file: self.writer.dest.clone(),
                h5path: self.path.clone(),
                problem: format!("block of {} values is not a multiple of {} channels", samples.len(), self.n_channels),
            });
        }
        let n = samples.len() / self.n_channels;
        let view = ndarray::ArrayView2::from_shape((n, self.n_channels), samples).map_err(|e| IoError::Invalid {
            file: self.writer.dest.clone(),
            h5path: self.path.clone(),
            problem: e.to_string(),
        })?;
        self.data
            .write_slice(view, ndarray::s![start..start + n, ..])
            .map_err(|e| self.writer.err(&format!("{}/data", self.path), e))
    }
}

// ---- low-level attribute and dataset helpers

fn ensure_group(f: &hdf5::File, path: &str) -> hdf5::Result<Group> {
    if f.link_exists(path) { f.group(path) } else { f.create_group_builder().obj_track_times(false).create(path) }
}

fn attr_str(loc: &Location, name: &str, value: &str) -> hdf5::Result<()> {
    loc.new_attr::<VarLenUnicode>().shape(()).create(name)?.write_scalar(&vlu(value))
}

fn attr_strs(loc: &Location, name: &str, values: &[&str]) -> hdf5::Result<()> {
    let v: Vec<VarLenUnicode> = values.iter().map(|s| vlu(s)).collect();
    loc.new_attr_builder().with_data(v.as_slice()).create(name).map(|_| ())
}

fn attr_f64(loc: &Location, name: &str, value: f64) -> hdf5::Result<()> {
    loc.new_attr::<f64>().shape(()).create(name)?.write_scalar(&value)
}

fn attr_i32(loc: &Location, name: &str, value: i32) -> hdf5::Result<()> {
    loc.new_attr::<i32>().shape(()).create(name)?.write_scalar(&value)
}

fn attr_u32(loc: &Location, name: &str, value: u32) -> hdf5::Result<()> {
    loc.new_attr::<u32>().shape(()).create(name)?.write_scalar(&value)
}

fn attr_ref<R: H5Type>(loc: &Location, name: &str, r: &R) -> hdf5::Result<()> {
    loc.new_attr::<R>().shape(()).create(name)?.write_scalar(r)
}

fn ds_str(g: &Group, name: &str, value: &str) -> hdf5::Result<()> {
    g.new_dataset::<VarLenUnicode>().obj_track_times(false).shape(()).create(name)?.write_scalar(&vlu(value))
}

fn ds_strs(g: &Group, name: &str, values: &[String]) -> hdf5::Result<()> {
    let v: Vec<VarLenUnicode> = values.iter().map(|s| vlu(s)).collect();
    g.new_dataset_builder().obj_track_times(false).with_data(v.as_slice()).create(name).map(|_| ())
}

/// The current UTC time as ISO 8601 with offset.
#[must_use]
pub fn now_iso8601() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    iso8601_from_unix(secs)
}

/// ISO 8601 (UTC, `+00:00`) for a Unix time in seconds.
///
/// ```
/// assert_eq!(burstscope_io::iso8601_from_unix(0), "1970-01-01T00:00:00+00:00");
/// assert_eq!(burstscope_io::iso8601_from_unix(1_767_268_800), "2026-01-01T12:00:00+00:00");
/// ```
#[must_use]
pub fn iso8601_from_unix(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00", rem / 3600, (rem % 3600) / 60, rem % 60)
}
