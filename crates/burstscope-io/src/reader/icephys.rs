//! Intracellular sweeps: clamp series, their stimuli and electrodes, and the `IntracellularRecordingsTable`.

use crate::error::Result;
use crate::h5util::{basename, is_numeric, join, members, neurodata_type};
use burstscope_core::{ClampMode, IcElectrode, SweepInfo};
use hdf5::{Dataset, Group, LocationToken, ObjectReference1};
use std::collections::HashMap;

use super::{Layout, Recording};

/// One row of the `IntracellularRecordingsTable`: response and stimulus as
/// (series path, first sample, count).
#[derive(Debug, Clone)]
struct TableRow {
    response: (String, usize, usize),
    stimulus: Option<(String, usize, usize)>,
}

impl Recording {
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
