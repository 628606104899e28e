//! `/units` (any NWB writer's columns) and MEA spike trains.

use crate::error::Result;
use crate::h5util::{basename, is_numeric, is_string, join, members};
use burstscope_core::{ColumnValue, Unit};
use hdf5::Group;
use hdf5::types::TypeDescriptor;
use std::collections::BTreeMap;

use super::{Layout, Recording, UnitColumns};

impl Recording {
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
    pub(super) fn ragged_ranges(
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
}
