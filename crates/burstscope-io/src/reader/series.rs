//! Continuous series: `ElectricalSeries` anywhere in the file, their electrodes, time bases, and mapped plain-HDF5 datasets.

use crate::error::{IoError, Result};
use crate::h5util::{basename, dtype_name, is_numeric, join, members, neurodata_type};
use crate::mapping::Orientation;
use crate::stream::SeriesReader;
use burstscope_core::{Electrode, SeriesInfo, SeriesKind};
use hdf5::Group;
use std::path::PathBuf;

use super::{Layout, Recording};

impl Recording {
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

    pub(super) fn find_typed(&self, g: &Group, types: &[&str], depth: usize, out: &mut Vec<String>) {
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
            vec![String::new(); n]
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
                .map(|ch| Electrode { row: ch, id: ch as i64, group: String::new(), location: "unknown".into() })
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
    pub(super) fn time_base(&self, g: &Group, path: &str, n_samples: usize) -> Result<(f64, f64, bool)> {
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

    pub(super) fn mapped_series(&self) -> Result<SeriesInfo> {
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
}
