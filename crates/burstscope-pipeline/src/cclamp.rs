//! `burstscope cclamp`: current-clamp sweeps — action potentials per sweep,
//! the F–I curve per cell, and the cells' spike trains as a `unit,time_s`
//! table that `burstscope bursts` reads. Each file (cell or cells) is
//! analysed by a pure function of its sweeps and the parameters; files run in
//! parallel; a bad file among several is reported and skipped.

use crate::bursts::FigureFile;
use crate::config::TableFormat;
use crate::epsc::FailedFile;
use crate::error::{Error, ParamError, Result, bail};
use crate::output::{Stage, StageOutput, identify};
use burstscope_cclamp::{
    ApParams, CclampError, CurrentStep, FiCurve, SweepFiring, fi_curve, longest_step, measure_sweep,
    steps_across_sweeps,
};
use burstscope_core::{ClampMode, ColumnData, Record, Table};
use burstscope_io::Recording;
use burstscope_plot as plot;
use burstscope_tables::write_table;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `cclamp` stage.
pub const CCLAMP_STAGE: Stage = Stage { name: "cclamp", algorithm_version: 1 };

/// `cclamp` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CclampSettings {
    /// Action-potential detection.
    pub aps: ApParams,
    /// Table format.
    pub format: TableFormat,
    /// Draw figures.
    pub figures: bool,
}

impl Default for CclampSettings {
    fn default() -> Self {
        Self { aps: ApParams::default(), format: TableFormat::Parquet, figures: true }
    }
}

impl CclampSettings {
    /// Checks every field.
    ///
    /// # Errors
    /// The first [`ParamError`].
    pub fn validate(&self) -> std::result::Result<(), ParamError> {
        self.aps.validate().map_err(|e| match e {
            CclampError::Param { field, message } => {
                let value = serde_json::to_value(self.aps)
                    .ok()
                    .and_then(|v| v.get(field).map(crate::ShowValue::show))
                    .unwrap_or_default();
                ParamError {
                    stage: "cclamp",
                    field: format!("aps.{field}"),
                    value,
                    allowed: message.strip_prefix("expected ").unwrap_or(&message).to_string(),
                }
            }
        })
    }
}

/// Validated `cclamp` settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CclampSettings", into = "CclampSettings")]
pub struct CclampConfig(CclampSettings);

impl CclampConfig {
    /// Validates.
    ///
    /// # Errors
    /// The first [`ParamError`].
    pub fn new(s: CclampSettings) -> std::result::Result<Self, ParamError> {
        s.validate()?;
        Ok(Self(s))
    }
}

impl std::ops::Deref for CclampConfig {
    type Target = CclampSettings;
    fn deref(&self) -> &CclampSettings {
        &self.0
    }
}

impl TryFrom<CclampSettings> for CclampConfig {
    type Error = ParamError;
    fn try_from(s: CclampSettings) -> std::result::Result<Self, ParamError> {
        Self::new(s)
    }
}

impl From<CclampConfig> for CclampSettings {
    fn from(c: CclampConfig) -> Self {
        c.0
    }
}

/// One current-clamp sweep of one cell.
#[derive(Debug, Clone)]
struct IcSweep {
    number: u64,
    time_s: f64,
    rate_hz: f64,
    v_mv: Vec<f64>,
    command_pa: Option<Vec<f64>>,
}

/// One analysed sweep.
#[derive(Debug, Clone)]
pub struct CclampSweep {
    /// Sweep number in the file.
    pub sweep: u64,
    /// Start on the recording's clock (s).
    pub time_s: f64,
    /// The current step, when the command has one.
    pub step: Option<CurrentStep>,
    /// Mean potential before the step (mV; the whole sweep's median without one).
    pub baseline_mv: f64,
    /// Sampling rate (Hz).
    pub rate_hz: f64,
    /// Action potentials and counts.
    pub firing: SweepFiring,
}

/// One analysed cell.
#[derive(Debug, Clone)]
pub struct CclampCell {
    /// The file.
    pub file: PathBuf,
    /// Cell id (file stem, with the channel when the file has several).
    pub cell: String,
    /// Its sweeps in order.
    pub sweeps: Vec<CclampSweep>,
    /// The F–I curve (from the sweeps with a step).
    pub fi: FiCurve,
    /// What could not be measured or looked odd.
    pub warnings: Vec<String>,
}

/// What the `cclamp` stage produced.
#[derive(Debug, Clone)]
pub struct CclampRun {
    /// Every analysed cell.
    pub cells: Vec<CclampCell>,
    /// Files that failed (reported and skipped).
    pub failed: Vec<FailedFile>,
    /// Figures (paths relative to the output folder).
    pub figures: Vec<FigureFile>,
    /// Its record.
    pub record: Record,
    /// Warnings.
    pub warnings: Vec<String>,
}

struct IcCell {
    cell: String,
    sweeps: Vec<IcSweep>,
}

fn stem(path: &Path) -> String {
    path.file_stem().map_or_else(|| "cell".into(), |s| s.to_string_lossy().into_owned())
}

fn load(path: &Path) -> Result<(Vec<IcCell>, Vec<String>)> {
    if crate::inspect::is_abf(path) {
        load_abf(path)
    } else if burstscope_formats::heka::is_heka(path) {
        load_heka(path)
    } else {
        load_nwb(path)
    }
}

/// A HEKA PatchMaster bundle: one cell per group, its sweeps those of every
/// current-clamp series (a trace in volts recorded in current clamp), the
/// current command laid out from the stimulus tree.
fn load_heka(path: &Path) -> Result<(Vec<IcCell>, Vec<String>)> {
    use burstscope_formats::heka::{Heka, RecordingMode};
    let h = Heka::open(path)?;
    let warnings: Vec<String> = h.warnings.iter().map(|w| format!("{}: {w}", path.display())).collect();
    let t0 = h.first_sweep_unix_s();
    let several = h.groups.len() > 1;
    let mut cells = Vec::new();
    let mut modes = std::collections::BTreeSet::new();
    for (gi, group) in h.groups.iter().enumerate() {
        let mut sweeps = Vec::new();
        for (si, series) in group.series.iter().enumerate() {
            for (wi, sweep) in series.sweeps.iter().enumerate() {
                modes.extend(sweep.traces.iter().map(|t| t.recording_mode.name()));
                let Some(ti) = sweep
                    .traces
                    .iter()
                    .position(|t| t.recording_mode == RecordingMode::CClamp && t.y_unit.trim() == "V" && !t.is_leak)
                else {
                    continue;
                };
                let tr = &sweep.traces[ti];
                let v_mv = h.trace(gi, si, wi, ti)?.iter().map(|v| v * 1e3).collect();
                let command_pa = h.command(gi, si, wi, ti).map(|c| c.iter().map(|v| v * 1e12).collect::<Vec<f64>>());
                sweeps.push(IcSweep {
                    number: sweeps.len() as u64,
                    time_s: sweep.time_unix_s - t0,
                    rate_hz: 1.0 / tr.x_interval_s,
                    v_mv,
                    command_pa,
                });
            }
        }
        if !sweeps.is_empty() {
            let cell = if several { format!("{}/{}", stem(path), group.label) } else { stem(path) };
            cells.push(IcCell { cell, sweeps });
        }
    }
    if cells.is_empty() {
        bail!(
            "{}: no current-clamp trace (a trace in V recorded in CClamp mode; the bundle's modes: {}); \
             `cclamp` analyses membrane potential in current clamp",
            path.display(),
            modes.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok((cells, warnings))
}

fn load_abf(path: &Path) -> Result<(Vec<IcCell>, Vec<String>)> {
    use burstscope_formats::abf::{Abf, is_current_unit};
    let abf = Abf::open(path)?;
    let mut warnings: Vec<String> = abf.warnings.iter().map(|w| format!("{}: {w}", path.display())).collect();
    let ic: Vec<usize> = (0..abf.channels.len())
        .filter(|&c| {
            abf.is_current_clamp(c) && !is_current_unit(&abf.channels[c].units)
                || abf.is_current_clamp(c) && abf.channels.len() == 1
        })
        .collect();
    if ic.is_empty() {
        bail!(
            "{}: no current-clamp channel (channels {}); `cclamp` analyses membrane potential in current clamp",
            path.display(),
            abf.channels.iter().map(|c| format!("{} in {}", c.name, c.units)).collect::<Vec<_>>().join(", ")
        );
    }
    let several = ic.len() > 1;
    let mut cells = Vec::new();
    for &c in &ic {
        let ch = &abf.channels[c];
        let scale = match ch.units.trim() {
            "mV" => 1.0,
            "V" => 1e3,
            "uV" | "µV" => 1e-3,
            u => {
                warnings.push(format!(
                    "{}: channel {c} ({}) says {u} in current clamp: read as mV, as stored",
                    path.display(),
                    ch.name
                ));
                1.0
            }
        };
        let dac = if c < abf.dacs.len() { Some(c) } else { abf.dacs.first().map(|_| 0) };
        let dac_scale = dac.and_then(|d| match abf.dacs[d].units.trim() {
            "pA" => Some(1.0),
            "nA" => Some(1e3),
            "A" => Some(1e12),
            _ => None,
        });
        if dac_scale.is_none() {
            warnings.push(format!(
                "{}: channel {c}: no current command (DAC units {}); no current steps",
                path.display(),
                dac.map_or("none", |d| abf.dacs[d].units.as_str())
            ));
        }
        let mut sweeps = Vec::with_capacity(abf.sweeps.len());
        for (k, span) in abf.sweeps.iter().enumerate() {
            let v_mv = abf.sweep(k, c)?.iter().map(|&v| f64::from(v) * scale).collect();
            let command_pa = dac
                .zip(dac_scale)
                .map(|(d, sc)| abf.sweep_command(k, d).iter().map(|&v| f64::from(v) * sc).collect::<Vec<f64>>());
            sweeps.push(IcSweep { number: k as u64, time_s: span.start_s, rate_hz: abf.rate_hz, v_mv, command_pa });
        }
        let cell = if several { format!("{}/{}", stem(path), ch.name.trim()) } else { stem(path) };
        cells.push(IcCell { cell, sweeps });
    }
    Ok((cells, warnings))
}

fn load_nwb(path: &Path) -> Result<(Vec<IcCell>, Vec<String>)> {
    let rec = Recording::open(path)?;
    let all = rec.sweeps()?;
    let ic: Vec<_> = all.iter().filter(|s| s.mode == ClampMode::CurrentClamp).cloned().collect();
    if ic.is_empty() {
        bail!(
            "{}: {} sweep(s) and none in current clamp (expected CurrentClampSeries under /acquisition)",
            path.display(),
            all.len()
        );
    }
    let mut by: BTreeMap<Option<String>, Vec<burstscope_core::SweepInfo>> = BTreeMap::new();
    for s in ic {
        by.entry(s.electrode.as_ref().map(|e| e.name.clone())).or_default().push(s);
    }
    let several = by.len() > 1;
    let mut cells = Vec::new();
    for (electrode, mut infos) in by {
        infos.sort_by(|a, b| a.starting_time_s.total_cmp(&b.starting_time_s).then(a.sweep_number.cmp(&b.sweep_number)));
        let v_scale = match infos[0].unit.to_ascii_lowercase().as_str() {
            "volts" | "volt" | "v" => 1e3,
            "millivolts" | "mv" => 1.0,
            other => bail!("{}: {}: unit '{other}'; expected volts or millivolts", path.display(), infos[0].path),
        };
        let mut sweeps = Vec::with_capacity(infos.len());
        for (k, s) in infos.iter().enumerate() {
            let v_mv = rec.read_sweep(s)?.iter().map(|v| v * v_scale).collect();
            // NWB stimuli are in amperes
            let command_pa = rec.read_stimulus(s)?.map(|v| v.iter().map(|x| x * 1e12).collect());
            sweeps.push(IcSweep {
                number: s.sweep_number.unwrap_or(k as u64),
                time_s: s.starting_time_s,
                rate_hz: s.rate_hz,
                v_mv,
                command_pa,
            });
        }
        let cell = match (several, electrode) {
            (true, Some(e)) => format!("{}/{e}", stem(path)),
            _ => stem(path),
        };
        cells.push(IcCell { cell, sweeps });
    }
    Ok((cells, Vec::new()))
}

fn analyse_cell(path: &Path, c: IcCell, p: &ApParams, file_warnings: &[String]) -> Result<CclampCell> {
    let mut warnings = file_warnings.to_vec();
    let mut sweeps = Vec::with_capacity(c.sweeps.len());
    // the protocol's step: where the sweeps' commands differ (all sweeps with a command)
    let steps: Vec<Option<CurrentStep>> =
        match c.sweeps.iter().map(|s| s.command_pa.as_deref()).collect::<Option<Vec<_>>>() {
            Some(cmds) => steps_across_sweeps(&cmds, c.sweeps.first().map_or(1.0, |s| s.rate_hz)),
            None => c.sweeps.iter().map(|s| s.command_pa.as_deref().and_then(|i| longest_step(i, s.rate_hz))).collect(),
        };
    for (s, step) in c.sweeps.iter().zip(steps) {
        let firing = measure_sweep(&s.v_mv, s.rate_hz, step.as_ref(), p)?;
        let pre = step.map_or(0, |st| st.start);
        let baseline_mv = if pre > 0 {
            s.v_mv[..pre].iter().sum::<f64>() / pre as f64
        } else {
            let mut v = s.v_mv.clone();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        sweeps.push(CclampSweep { sweep: s.number, time_s: s.time_s, step, baseline_mv, rate_hz: s.rate_hz, firing });
    }
    let points: Vec<(f64, f64)> =
        sweeps.iter().filter_map(|s| s.step.map(|st| (st.delta_pa, s.firing.rate_hz))).collect();
    if points.is_empty() {
        warnings.push(format!("{}: no current steps in the command: no F–I curve", c.cell));
    }
    let fi = fi_curve(&points);
    Ok(CclampCell { file: path.to_path_buf(), cell: c.cell, sweeps, fi, warnings })
}

fn analyse_file(path: &Path, cfg: &CclampConfig) -> Result<Vec<CclampCell>> {
    let (cells, warnings) = load(path)?;
    cells.into_iter().map(|c| analyse_cell(path, c, &cfg.aps, &warnings)).collect()
}

fn analyse_guarded(path: &Path, cfg: &CclampConfig) -> Result<Vec<CclampCell>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| analyse_file(path, cfg))) {
        Ok(r) => r,
        Err(_) => {
            Err(Error::Input(format!("{}: internal error while analysing this file; please report it", path.display())))
        }
    }
}

fn tables(cells: &[CclampCell]) -> Vec<Table> {
    // sweeps
    let mut t = Table::new("sweeps");
    let rows: Vec<(&CclampCell, &CclampSweep)> =
        cells.iter().flat_map(|c| c.sweeps.iter().map(move |s| (c, s))).collect();
    let first = |s: &CclampSweep, g: fn(&burstscope_cclamp::ActionPotential) -> f64| {
        let a = s.step.map_or(0, |st| st.start);
        s.firing.aps.iter().find(|ap| ap.threshold_index >= a).map_or(f64::NAN, g)
    };
    t.push("cell", ColumnData::Str(rows.iter().map(|(c, _)| c.cell.clone()).collect()));
    t.push("sweep", ColumnData::I64(rows.iter().map(|(_, s)| s.sweep as i64).collect()));
    t.push("time_s", ColumnData::F64(rows.iter().map(|(_, s)| s.time_s).collect()));
    t.push("step_pa", ColumnData::F64(rows.iter().map(|(_, s)| s.step.map_or(f64::NAN, |x| x.delta_pa)).collect()));
    t.push(
        "step_start_ms",
        ColumnData::F64(
            rows.iter().map(|(_, s)| s.step.map_or(f64::NAN, |x| x.start as f64 / s.rate_hz * 1e3)).collect(),
        ),
    );
    t.push(
        "step_duration_ms",
        ColumnData::F64(
            rows.iter()
                .map(|(_, s)| s.step.map_or(f64::NAN, |x| (x.stop - x.start) as f64 / s.rate_hz * 1e3))
                .collect(),
        ),
    );
    t.push("baseline_mv", ColumnData::F64(rows.iter().map(|(_, s)| s.baseline_mv).collect()));
    t.push("n_aps_sweep", ColumnData::I64(rows.iter().map(|(_, s)| s.firing.aps.len() as i64).collect()));
    t.push("n_aps_step", ColumnData::I64(rows.iter().map(|(_, s)| s.firing.n_in_step as i64).collect()));
    t.push("rate_hz", ColumnData::F64(rows.iter().map(|(_, s)| s.firing.rate_hz).collect()));
    t.push("first_latency_ms", ColumnData::F64(rows.iter().map(|(_, s)| s.firing.first_latency_ms).collect()));
    t.push("first_isi_rate_hz", ColumnData::F64(rows.iter().map(|(_, s)| s.firing.first_isi_rate_hz).collect()));
    t.push("first_threshold_mv", ColumnData::F64(rows.iter().map(|(_, s)| first(s, |a| a.threshold_mv)).collect()));
    t.push("first_amplitude_mv", ColumnData::F64(rows.iter().map(|(_, s)| first(s, |a| a.amplitude_mv)).collect()));
    t.push("first_half_width_ms", ColumnData::F64(rows.iter().map(|(_, s)| first(s, |a| a.half_width_ms)).collect()));
    t.push("first_ahp_mv", ColumnData::F64(rows.iter().map(|(_, s)| first(s, |a| a.ahp_mv)).collect()));
    t.push(
        "first_max_dvdt_v_per_s",
        ColumnData::F64(rows.iter().map(|(_, s)| first(s, |a| a.max_dvdt_v_per_s)).collect()),
    );
    // every AP
    let mut a = Table::new("aps");
    let aps: Vec<(&CclampCell, &CclampSweep, &burstscope_cclamp::ActionPotential)> =
        rows.iter().flat_map(|(c, s)| s.firing.aps.iter().map(move |ap| (*c, *s, ap))).collect();
    a.push("cell", ColumnData::Str(aps.iter().map(|x| x.0.cell.clone()).collect()));
    a.push("sweep", ColumnData::I64(aps.iter().map(|x| x.1.sweep as i64).collect()));
    a.push(
        "time_in_sweep_ms",
        ColumnData::F64(aps.iter().map(|x| x.2.threshold_index as f64 / x.1.rate_hz * 1e3).collect()),
    );
    a.push(
        "time_s",
        ColumnData::F64(aps.iter().map(|x| x.1.time_s + x.2.threshold_index as f64 / x.1.rate_hz).collect()),
    );
    a.push(
        "in_step",
        ColumnData::Bool(
            aps.iter().map(|x| x.1.step.is_none_or(|st| (st.start..st.stop).contains(&x.2.threshold_index))).collect(),
        ),
    );
    for (name, g) in [
        ("threshold_mv", (|ap: &burstscope_cclamp::ActionPotential| ap.threshold_mv) as fn(&_) -> f64),
        ("peak_mv", |ap| ap.peak_mv),
        ("amplitude_mv", |ap| ap.amplitude_mv),
        ("half_width_ms", |ap| ap.half_width_ms),
        ("max_dvdt_v_per_s", |ap| ap.max_dvdt_v_per_s),
        ("ahp_mv", |ap| ap.ahp_mv),
    ] {
        a.push(name, ColumnData::F64(aps.iter().map(|x| g(x.2)).collect()));
    }
    // cells
    let mut c = Table::new("cells");
    c.push("cell", ColumnData::Str(cells.iter().map(|c| c.cell.clone()).collect()));
    c.push("file", ColumnData::Str(cells.iter().map(|c| c.file.display().to_string()).collect()));
    c.push("n_sweeps", ColumnData::I64(cells.iter().map(|c| c.sweeps.len() as i64).collect()));
    c.push(
        "n_aps",
        ColumnData::I64(cells.iter().map(|c| c.sweeps.iter().map(|s| s.firing.aps.len() as i64).sum()).collect()),
    );
    c.push("rheobase_pa", ColumnData::F64(cells.iter().map(|c| c.fi.rheobase_pa).collect()));
    c.push("fi_gain_hz_per_pa", ColumnData::F64(cells.iter().map(|c| c.fi.gain_hz_per_pa).collect()));
    c.push("max_rate_hz", ColumnData::F64(cells.iter().map(|c| c.fi.max_rate_hz).collect()));
    // spike trains for `bursts`: one unit per cell, on the recording's clock
    let mut sp = Table::new("spikes");
    sp.push("unit", ColumnData::Str(aps.iter().map(|x| x.0.cell.clone()).collect()));
    sp.push(
        "time_s",
        ColumnData::F64(aps.iter().map(|x| x.1.time_s + x.2.threshold_index as f64 / x.1.rate_hz).collect()),
    );
    vec![t, a, c, sp]
}

fn figures(cells: &[CclampCell], root: &Path) -> Result<Vec<FigureFile>> {
    let dir = root.join("figures");
    let with_steps: Vec<&CclampCell> =
        cells.iter().filter(|c| c.sweeps.iter().filter(|s| s.step.is_some()).count() >= 2).collect();
    if with_steps.is_empty() {
        return Ok(Vec::new());
    }
    // F–I: rate against the injected current, one line per cell
    let mut currents: Vec<i64> = with_steps
        .iter()
        .flat_map(|c| c.sweeps.iter().filter_map(|s| s.step.map(|x| x.delta_pa.round() as i64)))
        .collect();
    currents.sort_unstable();
    currents.dedup();
    let series: Vec<plot::CourseSeries> = with_steps
        .iter()
        .take(8)
        .map(|c| {
            let mean = currents
                .iter()
                .map(|&i| {
                    let r: Vec<f64> = c
                        .sweeps
                        .iter()
                        .filter(|s| s.step.is_some_and(|x| x.delta_pa.round() as i64 == i))
                        .map(|s| s.firing.rate_hz)
                        .collect();
                    if r.is_empty() { f64::NAN } else { r.iter().sum::<f64>() / r.len() as f64 }
                })
                .collect::<Vec<f64>>();
            plot::CourseSeries { label: c.cell.clone(), sem: vec![0.0; mean.len()], mean }
        })
        .collect();
    let fig = plot::StimulusCourse {
        stimulus: currents.iter().map(|&i| i as f64).collect(),
        series,
        fits: Vec::new(),
        x_label: "Injected current (pA)".into(),
        y_label: "Firing rate in the step (Hz)".into(),
        title: "F–I curve: firing rate in the current step".into(),
    };
    plot::render(&fig, &dir, "fi_curve")?;
    Ok(vec![FigureFile { label: "F–I curve".into(), png: PathBuf::from("figures/fi_curve.png") }])
}

/// Runs the `cclamp` stage on `paths` (ABF or NWB files), writing `out`.
/// Files that fail are reported in [`CclampRun::failed`] and skipped.
///
/// # Errors
/// No file could be analysed, or writing failed (`out` is then unchanged).
pub fn run_cclamp(paths: &[PathBuf], out: &Path, cfg: &CclampConfig) -> Result<CclampRun> {
    let results: Vec<(PathBuf, Result<Vec<CclampCell>>)> =
        paths.par_iter().map(|p| (p.clone(), analyse_guarded(p, cfg))).collect();
    let (mut cells, mut failed, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    for (p, r) in results {
        match r {
            Ok(c) => cells.extend(c),
            Err(e) => {
                warnings.push(format!("skipped {}: {e}", p.display()));
                failed.push(FailedFile { file: p, error: e.to_string() });
            }
        }
    }
    if cells.is_empty() {
        let first = failed.first().map_or_else(String::new, |f| f.error.clone());
        bail!("no file could be analysed ({} failed): {first}", failed.len());
    }
    for c in &cells {
        warnings.extend(c.warnings.iter().cloned());
    }
    warnings.dedup();
    let ok: Vec<&Path> = paths.iter().filter(|p| !failed.iter().any(|f| &f.file == *p)).map(PathBuf::as_path).collect();
    let stage = StageOutput::begin(out, CCLAMP_STAGE, identify(&ok)?, Vec::new(), cfg)?;
    for t in tables(&cells) {
        write_table(&t, stage.path(), cfg.format.into())?;
    }
    let figs = if cfg.figures { figures(&cells, stage.path())? } else { Vec::new() };
    let mut summary = BTreeMap::new();
    summary.insert(
        "failed_files".into(),
        json!(
            failed.iter().map(|f| json!({"file": f.file.display().to_string(), "error": f.error})).collect::<Vec<_>>()
        ),
    );
    summary.insert("n_cells".into(), json!(cells.len()));
    summary.insert("n_sweeps".into(), json!(cells.iter().map(|c| c.sweeps.len()).sum::<usize>()));
    summary.insert(
        "n_aps".into(),
        json!(cells.iter().flat_map(|c| c.sweeps.iter()).map(|s| s.firing.aps.len()).sum::<usize>()),
    );
    let record = stage.finish(summary, warnings.clone())?;
    Ok(CclampRun { cells, failed, figures: figs, record, warnings })
}
