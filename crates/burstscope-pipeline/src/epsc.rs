//! `burstscope epsc`: slice voltage-clamp EPSCs from sweeps to the region
//! comparison. Each file (one cell) is analysed by a pure function of its
//! sweeps and the parameters; files run in parallel; a bad file among several
//! is reported and skipped.

use crate::bursts::FigureFile;
use crate::config::{EpscConfig, StimulusSource};
use crate::error::{Error, Result, bail, file_err};
use crate::output::{Stage, StageOutput, identify};
use burstscope_core::{ClampMode, ColumnData, Epoch, Record, SweepInfo, Table};
use burstscope_epsc::{
    CellParams, CellSummary, CellSweep, MembraneTest, NmdaAmpa, SweepParams, TestPulse, command_edges, command_levels,
    find_stimuli_away_from, measure_sweep, membrane_test, nmda_ampa_ratio, summarize_cell,
};
use burstscope_io::Recording;
use burstscope_plot as plot;
use burstscope_stats::{TestKind, TestResult, mannwhitneyu, summary, ttest_rel, ttest_welch, wilcoxon};
use burstscope_tables::write_table;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `epsc` stage.
pub const EPSC_STAGE: Stage = Stage { name: "epsc", algorithm_version: 3 };

/// One analysed cell.
#[derive(Debug, Clone)]
pub struct CellData {
    /// The file.
    pub file: PathBuf,
    /// Cell id.
    pub cell: String,
    /// Region.
    pub region: String,
    /// Treatment.
    pub treatment: String,
    /// Sweeps analysed.
    pub sweeps: Vec<CellSweep>,
    /// Summary and QC.
    pub summary: CellSummary,
    /// Drug onset on the session clock (epoch start, else the first drug sweep).
    pub drug_onset_s: f64,
    /// Holding potential analysed (mV; NaN without a command) and the sweeps
    /// left out for being held elsewhere.
    pub holding_mv: f64,
    /// Sweeps left out for another holding potential.
    pub sweeps_other_holding: usize,
    /// Averaged baseline-subtracted traces (pA): baseline sweeps, block-window sweeps; time in ms from the stimulus.
    pub trace_t_ms: Vec<f64>,
    /// Averaged baseline trace.
    pub trace_baseline: Vec<f64>,
    /// Averaged drug trace.
    pub trace_drug: Vec<f64>,
    /// Per sweep (as `sweeps`): the membrane test on the command's step.
    pub membrane: Vec<Option<MembraneTest>>,
    /// The NMDA/AMPA ratio, when the cell has baseline sweeps at both the
    /// AMPA and the NMDA holding potential.
    pub nmda_ampa: Option<NmdaAmpa>,
    /// Per sweep (as `sweeps`): the first stimulus's time in the sweep (ms;
    /// NaN without one).
    pub stim_ms: Vec<f64>,
    /// Per sweep (as `sweeps`): the train's later stimuli (pulse 1, 2, …),
    /// each measured up to the next; empty for single stimuli.
    pub pulses: Vec<Vec<Pulse>>,
    /// Mean second over mean first EPSC in the baseline sweeps of trains.
    pub paired_pulse_ratio: f64,
    /// Median interval between the first two stimuli (ms; NaN without trains).
    pub pulse_interval_ms: f64,
    /// What was left out or could not be measured.
    pub warnings: Vec<String>,
}

impl CellData {
    /// `epsc` when any sweep has a measured EPSC, else `membrane_test`
    /// (a file of membrane tests only, e.g. across a drug wash-in).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        if self.sweeps.iter().any(|s| s.result.is_some()) { "epsc" } else { "membrane_test" }
    }

    /// Median over the sweeps of a membrane-test value (NaN without any).
    #[must_use]
    pub fn membrane_median(&self, f: fn(&MembraneTest) -> f64) -> f64 {
        let mut v: Vec<f64> = self.membrane.iter().flatten().map(f).filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
    }
}

/// A later stimulus of a train within a sweep.
#[derive(Debug, Clone)]
pub struct Pulse {
    /// Its time in the sweep (ms; NaN when this sweep lacks it).
    pub stim_ms: f64,
    /// Its EPSC, measured from the baseline just before it up to the next stimulus.
    pub result: Option<burstscope_epsc::SweepResult>,
}

/// A file that could not be analysed, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedFile {
    /// The file.
    pub file: PathBuf,
    /// Why.
    pub error: String,
}

/// What the `epsc` stage produced.
#[derive(Debug, Clone)]
pub struct EpscRun {
    /// Every analysed cell.
    pub cells: Vec<CellData>,
    /// Files that failed (reported and skipped).
    pub failed: Vec<FailedFile>,
    /// Group summaries and tests.
    pub group_stats: Vec<GroupRow>,
    /// Figures (paths relative to [`EpscRun::dir`]).
    pub figures: Vec<FigureFile>,
    /// The output folder.
    pub dir: PathBuf,
    /// Its record.
    pub record: Record,
    /// Warnings (cells, sweeps and files left out).
    pub warnings: Vec<String>,
}

/// A per-cell value summarised or compared between groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EpscMetric {
    /// % block of the EPSC by the drug.
    BlockPct,
    /// Baseline EPSC amplitude, pA.
    BaselineAmplitudePa,
    /// Use-dependent block per stimulus (determined fits only).
    BlockPerStimulus,
    /// Initial decline per stimulus, %.
    InitialDeclinePctPerStimulus,
    /// Baseline minus drug amplitude within cells, pA.
    AmplitudePaBaselineMinusDrug,
    /// NMDA/AMPA ratio (cells with sweeps at both holding potentials).
    NmdaAmpaRatio,
}

impl EpscMetric {
    /// Column value in `group_stats`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::BlockPct => "block_pct",
            Self::BaselineAmplitudePa => "baseline_amplitude_pa",
            Self::BlockPerStimulus => "block_per_stimulus",
            Self::InitialDeclinePctPerStimulus => "initial_decline_pct_per_stimulus",
            Self::AmplitudePaBaselineMinusDrug => "amplitude_pa_baseline_minus_drug",
            Self::NmdaAmpaRatio => "nmda_ampa_ratio",
        }
    }
}

/// What a `group_stats` row holds: a summary, or a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupTest {
    /// Mean and SEM only.
    Summary,
    /// A statistical test.
    Test(TestKind),
}

impl GroupTest {
    /// Column value in `group_stats`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Summary => "summary",
            Self::Test(t) => t.as_str(),
        }
    }
}

/// One row of `group_stats`.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// Group (`region` or `region/treatment`) or `A vs B`.
    pub group: String,
    /// The metric.
    pub metric: EpscMetric,
    /// Cells.
    pub n: usize,
    /// Mean (difference of means between groups).
    pub mean: f64,
    /// SEM.
    pub sem: f64,
    /// Summary or test.
    pub test: GroupTest,
    /// Test statistic.
    pub statistic: f64,
    /// Two-sided p.
    pub p_value: f64,
}

fn to_pa(unit: &str, path: &str) -> Result<f64> {
    Ok(match unit.to_ascii_lowercase().as_str() {
        "amperes" | "ampere" | "a" => 1e12,
        "nanoamperes" | "na" => 1e3,
        "picoamperes" | "pa" => 1.0,
        other => bail!("{path}: unit '{other}'; expected amperes, nanoamperes or picoamperes"),
    })
}

fn to_mv(unit: &str) -> f64 {
    match unit.to_ascii_lowercase().as_str() {
        "millivolts" | "mv" => 1.0,
        _ => 1e3,
    }
}

/// Expands folders into their `.nwb` files (sorted).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(file_err(p))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e.eq_ignore_ascii_case("nwb")))
                .collect();
            v.sort();
            if v.is_empty() {
                bail!("{}: no .nwb files in the folder", p.display());
            }
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Cell metadata: cell → (region, treatment), each optional.
type CellMeta = BTreeMap<String, (Option<String>, Option<String>)>;

/// Reads a cell metadata table.
fn read_meta(path: &Path) -> Result<CellMeta> {
    let t = burstscope_tables::read_table(path)?;
    let text = |name: &str| -> Result<Option<Vec<String>>> {
        Ok(match t.column(name) {
            Some(ColumnData::Str(v)) => Some(v.clone()),
            Some(ColumnData::I64(v)) => Some(v.iter().map(ToString::to_string).collect()),
            Some(_) => bail!("{}: column {name} must be text", path.display()),
            None => None,
        })
    };
    let Some(cells) = text("cell")? else {
        bail!("{}: no column 'cell' (expected cell, region, treatment)", path.display());
    };
    let region = text("region")?;
    let treatment = text("treatment")?;
    if region.is_none() && treatment.is_none() {
        bail!("{}: expected a region or treatment column beside cell", path.display());
    }
    Ok(cells
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c, (region.as_ref().map(|r| r[i].clone()), treatment.as_ref().map(|r| r[i].clone()))))
        .collect())
}

/// One voltage-clamp sweep of one cell, read from any format.
#[derive(Debug, Clone)]
struct VcSweep {
    /// Sweep number in the file.
    number: u64,
    /// Start on the recording's clock (s).
    time_s: f64,
    /// Sampling rate (Hz).
    rate_hz: f64,
    /// The current (pA).
    current_pa: Vec<f64>,
    /// The command potential (mV), when the file has it.
    command_mv: Option<Vec<f64>>,
    /// The sweep's own condition label (NWB `stimulus_description`).
    description: Option<String>,
    /// Samples where any command of the recording steps or bends (this
    /// cell's and, in paired recordings, the other amplifiers'): their
    /// capacitive transients are not stimuli.
    edges: Vec<usize>,
    /// Stimuli the protocol defines: onsets of its digital outputs.
    protocol_stims: Vec<usize>,
}

/// One cell's voltage-clamp sweeps in a file.
struct CellSource {
    cell: String,
    location: Option<String>,
    sweeps: Vec<VcSweep>,
}

/// What a file holds for the `epsc` stage: cells and the epochs (conditions
/// on the recording's clock).
struct FileSource {
    cells: Vec<CellSource>,
    epochs: Vec<Epoch>,
    warnings: Vec<String>,
}

/// Reads a file's voltage-clamp cells: NWB (one cell per intracellular
/// electrode) or Axon ABF (one cell per current channel).
fn load_file(path: &Path) -> Result<FileSource> {
    if crate::inspect::is_abf(path) {
        load_abf(path)
    } else if burstscope_formats::heka::is_heka(path) {
        load_heka(path)
    } else {
        load_nwb(path)
    }
}

/// A HEKA PatchMaster bundle: one cell per group (PatchMaster's usual
/// layout: a group per cell, a series per protocol run), its sweeps those
/// of every voltage-clamp series in order, the current from the trace in
/// amperes (the current monitor first), the command laid out from the
/// stimulus tree, times on the bundle's clock (from its first sweep).
fn load_heka(path: &Path) -> Result<FileSource> {
    use burstscope_formats::heka::{Heka, RecordingMode};
    let h = Heka::open(path)?;
    let warnings: Vec<String> = h.warnings.iter().map(|w| format!("{}: {w}", path.display())).collect();
    let t0 = h.first_sweep_unix_s();
    let stem = file_stem(path);
    let several = h.groups.len() > 1;
    let mut cells = Vec::new();
    let mut lags: Vec<f64> = Vec::new();
    for (gi, group) in h.groups.iter().enumerate() {
        let mut sweeps = Vec::new();
        for (si, series) in group.series.iter().enumerate() {
            for (wi, sweep) in series.sweeps.iter().enumerate() {
                let current = |t: &&burstscope_formats::heka::HekaTrace| {
                    t.y_unit.trim() == "A" && t.recording_mode != RecordingMode::CClamp && !t.is_leak
                };
                let Some(ti) = sweep
                    .traces
                    .iter()
                    .position(|t| t.is_imon && current(&t))
                    .or_else(|| sweep.traces.iter().position(|t| current(&t)))
                else {
                    continue;
                };
                let tr = &sweep.traces[ti];
                let current_pa: Vec<f64> = h.trace(gi, si, wi, ti)?.iter().map(|v| v * 1e12).collect();
                let mut command_mv = h.command(gi, si, wi, ti).map(|c| c.iter().map(|v| v * 1e3).collect::<Vec<f64>>());
                // where the rig delivers the steps later than the protocol's
                // segment boundaries, the voltage monitor says by how much
                let vmon = sweep.traces.iter().position(|t| t.is_vmon && t.y_unit.trim() == "V");
                let vmon_mv = match vmon {
                    Some(vi) => Some(h.trace(gi, si, wi, vi)?.iter().map(|v| v * 1e3).collect::<Vec<f64>>()),
                    None => None,
                };
                if let (Some(cmd), Some(v)) = (command_mv.as_mut(), vmon_mv.as_ref()) {
                    let max_lag = (0.01 / tr.x_interval_s) as usize;
                    if let Some(lag) = burstscope_epsc::monitor_lag(cmd, v, max_lag).filter(|&l| l > 0) {
                        let first = cmd[0];
                        cmd.rotate_right(lag);
                        cmd[..lag].iter_mut().for_each(|x| *x = first);
                        lags.push(lag as f64 * tr.x_interval_s * 1e3);
                    }
                }
                let mut edges = command_mv.as_deref().map(command_edges).unwrap_or_default();
                if let Some(v) = &vmon_mv {
                    edges.extend(burstscope_epsc::monitor_edges(v, 2.0));
                    edges.sort_unstable();
                    edges.dedup();
                }
                sweeps.push(VcSweep {
                    number: sweeps.len() as u64,
                    time_s: sweep.time_unix_s - t0,
                    rate_hz: 1.0 / tr.x_interval_s,
                    current_pa,
                    command_mv,
                    description: None,
                    edges,
                    protocol_stims: Vec::new(),
                });
            }
        }
        if sweeps.is_empty() {
            continue;
        }
        let cell = if several { format!("{stem}/{}", group.label) } else { stem.clone() };
        cells.push(CellSource { cell, location: None, sweeps });
    }
    if cells.is_empty() {
        bail!("{}: no voltage-clamp current trace (a trace in A, not in current clamp) in any group", path.display());
    }
    let mut warnings = warnings;
    if !lags.is_empty() {
        let (lo, hi) = lags.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        warnings.push(format!(
            "{}: the voltage monitor follows the protocol's segments by {lo:.2}–{hi:.2} ms in {} sweeps: commands shifted to it",
            path.display(),
            lags.len()
        ));
    }
    let epochs = vec![Epoch { start_s: f64::NEG_INFINITY, stop_s: f64::INFINITY, tags: vec!["baseline".into()] }];
    Ok(FileSource { cells, epochs, warnings })
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map_or_else(|| "cell".into(), |s| s.to_string_lossy().into_owned())
}

fn load_nwb(path: &Path) -> Result<FileSource> {
    let rec = Recording::open(path)?;
    let all = rec.sweeps()?;
    if all.is_empty() {
        bail!("{}: no sweeps (expected VoltageClampSeries under /acquisition)", path.display());
    }
    let vc: Vec<_> = all.iter().filter(|s| s.mode == ClampMode::VoltageClamp).cloned().collect();
    if vc.is_empty() {
        bail!(
            "{}: {} current-clamp sweep(s) and no voltage-clamp sweeps; `epsc` measures voltage-clamp EPSCs",
            path.display(),
            all.len()
        );
    }
    let epochs = rec.epochs()?;
    let stem = file_stem(path);
    let mut by_electrode: BTreeMap<Option<String>, Vec<SweepInfo>> = BTreeMap::new();
    for s in vc {
        by_electrode.entry(s.electrode.as_ref().map(|e| e.name.clone())).or_default().push(s);
    }
    let several = by_electrode.len() > 1;
    let mut cells = Vec::new();
    for mut infos in by_electrode.into_values() {
        infos.sort_by(|x, y| x.starting_time_s.total_cmp(&y.starting_time_s).then(x.sweep_number.cmp(&y.sweep_number)));
        let electrode = infos.iter().find_map(|s| s.electrode.clone());
        let cell_id = electrode.as_ref().and_then(|e| e.cell_id.clone()).filter(|id| !id.trim().is_empty());
        let cell = match (cell_id, &electrode) {
            (Some(id), _) => id,
            (None, Some(e)) if several => format!("{stem}/{}", e.name),
            _ => stem.clone(),
        };
        let location = electrode.and_then(|e| e.location).filter(|l| !l.trim().is_empty());
        let mut sweeps = Vec::with_capacity(infos.len());
        for (k, s) in infos.iter().enumerate() {
            let scale = to_pa(&s.unit, &s.path)?;
            let current_pa: Vec<f64> = rec.read_sweep(s)?.iter().map(|v| v * scale).collect();
            let mv = to_mv("volts");
            let command_mv: Option<Vec<f64>> = rec.read_stimulus(s)?.map(|v| v.iter().map(|x| x * mv).collect());
            let edges = command_mv.as_deref().map(command_edges).unwrap_or_default();
            sweeps.push(VcSweep {
                edges,
                number: s.sweep_number.unwrap_or(k as u64),
                time_s: s.starting_time_s,
                rate_hz: s.rate_hz,
                current_pa,
                command_mv,
                description: s.stimulus_description.clone(),
                protocol_stims: Vec::new(),
            });
        }
        cells.push(CellSource { cell, location, sweeps });
    }
    Ok(FileSource { cells, epochs, warnings: Vec::new() })
}

/// The drug a tag or comment announces: `+name …` starts `name` (the text
/// up to ` at `, e.g. `+drug at 3min` → `drug`); `-name` starts its washout.
fn tag_condition(comment: &str) -> Option<String> {
    let c = comment.trim();
    let name = |rest: &str| {
        let rest = rest.trim();
        let cut = rest.to_ascii_lowercase().find(" at ").unwrap_or(rest.len());
        let n = rest[..cut].trim().to_string();
        (!n.is_empty()).then_some(n)
    };
    if let Some(rest) = c.strip_prefix('+') {
        name(rest)
    } else if let Some(rest) = c.strip_prefix('-') {
        name(rest).map(|n| format!("washout {n}"))
    } else {
        None
    }
}

/// Conditions from an ABF file's tags: sweeps before the first drug tag are
/// the baseline; each `+drug` / `-drug` tag starts the next condition.
pub(crate) fn conditions_from_tags(tags: &[burstscope_formats::abf::AbfTag], end_s: f64) -> Vec<Epoch> {
    let marks: Vec<(f64, String)> =
        tags.iter().filter_map(|t| tag_condition(&t.comment).map(|c| (t.time_s, c))).collect();
    if marks.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Epoch { start_s: f64::NEG_INFINITY, stop_s: marks[0].0, tags: vec!["baseline".into()] }];
    for (k, (t, c)) in marks.iter().enumerate() {
        let stop = marks.get(k + 1).map_or(end_s.max(*t) + 1.0, |m| m.0);
        out.push(Epoch { start_s: *t, stop_s: stop, tags: vec![c.clone()] });
    }
    out
}

fn load_abf(path: &Path) -> Result<FileSource> {
    use burstscope_formats::abf::{Abf, is_current_unit};
    let abf = Abf::open(path)?;
    let mut warnings: Vec<String> = abf.warnings.iter().map(|w| format!("{}: {w}", path.display())).collect();
    let vc: Vec<usize> = (0..abf.channels.len())
        .filter(|&c| is_current_unit(&abf.channels[c].units) && !abf.is_current_clamp(c))
        .collect();
    if vc.is_empty() {
        bail!(
            "{}: no voltage-clamp channel (channels {}); `epsc` measures voltage-clamp currents",
            path.display(),
            abf.channels.iter().map(|c| format!("{} in {}", c.name, c.units)).collect::<Vec<_>>().join(", ")
        );
    }
    if abf.sweeps.is_empty() {
        bail!("{}: no sweeps in the data section", path.display());
    }
    let stem = file_stem(path);
    // Stimuli from the protocol: where a digital output switches on.
    let digital: Vec<Vec<usize>> = (0..abf.sweeps.len())
        .map(|k| {
            let mut on: Vec<usize> = (0..abf.dacs.len())
                .flat_map(|d| {
                    let layout = abf.epoch_layout(k, d);
                    layout
                        .windows(2)
                        .filter(|w| w[1].digital & !w[0].digital != 0 && w[1].start > w[0].start)
                        .map(|w| w[1].start)
                        .collect::<Vec<_>>()
                })
                .collect();
            on.sort_unstable();
            on.dedup();
            on
        })
        .collect();
    let edges: Vec<Vec<usize>> = (0..abf.sweeps.len())
        .map(|k| {
            let mut e: Vec<usize> = (0..abf.dacs.len())
                .flat_map(|d| {
                    let cmd: Vec<f64> = abf.sweep_command(k, d).iter().map(|&v| f64::from(v)).collect();
                    command_edges(&cmd)
                })
                .collect();
            e.sort_unstable();
            e.dedup();
            e
        })
        .collect();
    let mut cells = Vec::new();
    for &c in &vc {
        let ch = &abf.channels[c];
        let scale = to_pa(&ch.units, &format!("channel {c} ({})", ch.name))?;
        // Clampex pairs ADC channel k with DAC k when it has one.
        let dac = if c < abf.dacs.len() { Some(c) } else { abf.dacs.first().map(|_| 0) };
        let dac_mv = dac.filter(|&d| burstscope_formats::abf::is_voltage_unit(&abf.dacs[d].units));
        if dac.is_some() && dac_mv.is_none() {
            warnings.push(format!(
                "{}: channel {c} ({}): its command is not in mV; no holding potential or test pulse from it",
                path.display(),
                ch.name
            ));
        }
        let mut sweeps = Vec::with_capacity(abf.sweeps.len());
        for (k, span) in abf.sweeps.iter().enumerate() {
            let current_pa: Vec<f64> = abf.sweep(k, c)?.iter().map(|&v| f64::from(v) * scale).collect();
            let command_mv = dac_mv.map(|d| {
                let unit = if abf.dacs[d].units.trim() == "V" { 1e3 } else { 1.0 };
                abf.sweep_command(k, d).iter().map(|&v| f64::from(v) * unit).collect()
            });
            sweeps.push(VcSweep {
                number: k as u64,
                time_s: span.start_s,
                rate_hz: abf.rate_hz,
                current_pa,
                command_mv,
                description: None,
                edges: edges[k].clone(),
                protocol_stims: digital[k].clone(),
            });
        }
        let cell = if vc.len() > 1 { format!("{stem}/{}", ch.name.trim()) } else { stem.clone() };
        cells.push(CellSource { cell, location: None, sweeps });
    }
    let end_s = abf.sweeps.last().map_or(0.0, |s| s.start_s + s.len as f64 / abf.rate_hz);
    let mut epochs = conditions_from_tags(&abf.tags, end_s);
    if epochs.is_empty() {
        // no drug tags: every sweep is the baseline
        epochs.push(Epoch { start_s: f64::NEG_INFINITY, stop_s: f64::INFINITY, tags: vec!["baseline".into()] });
    }
    Ok(FileSource { cells, epochs, warnings })
}

/// Analyses one file: one cell per intracellular electrode or channel.
fn analyse_file(path: &Path, cfg: &EpscConfig, meta: &CellMeta) -> Result<Vec<CellData>> {
    let src = load_file(path)?;
    let mut out = Vec::with_capacity(src.cells.len());
    for c in src.cells {
        let mut cell = analyse_cell(
            CellInput { path, cell: c.cell, location: c.location, sweeps: &c.sweeps, epochs: &src.epochs },
            cfg,
            meta,
        )?;
        cell.warnings.splice(0..0, src.warnings.iter().cloned());
        out.push(cell);
    }
    Ok(out)
}

/// One cell's sweeps in a file.
struct CellInput<'a> {
    path: &'a Path,
    cell: String,
    location: Option<String>,
    sweeps: &'a [VcSweep],
    epochs: &'a [Epoch],
}

/// Analyses one cell's voltage-clamp sweeps.
#[allow(clippy::too_many_lines)]
fn analyse_cell(input: CellInput<'_>, cfg: &EpscConfig, meta: &CellMeta) -> Result<CellData> {
    let CellInput { path, cell, location, sweeps: vc, epochs } = input;
    let sp: &SweepParams = &cfg.sweep;
    let cp: &CellParams = &cfg.cell;
    let mut warnings = Vec::new();
    let (m_region, m_treat) = meta.get(&cell).cloned().unwrap_or((None, None));
    let region = m_region.or(location).unwrap_or_else(|| "unknown".into());
    let treatment = m_treat.unwrap_or_else(|| "unknown".into());
    // The condition is the sweep's `stimulus_description` when that tells the
    // conditions apart; many acquisition programs write the protocol's name
    // there instead (the same on every sweep), and then the tags of the epochs
    // holding the sweeps are the conditions.
    let descriptions: std::collections::BTreeSet<&str> =
        vc.iter().map(|s| s.description.as_deref().filter(|d| !is_placeholder(d)).unwrap_or("")).collect();
    let covered =
        |s: &VcSweep| epochs.iter().any(|e| s.time_s >= e.start_s && s.time_s < e.stop_s && !e.tags.is_empty());
    let conditions_from_epochs = descriptions.len() == 1 && vc.iter().all(covered);
    let fs = vc[0].rate_hz;
    let mut sweeps = Vec::with_capacity(vc.len());
    let mut traces: Vec<Vec<f64>> = Vec::with_capacity(vc.len());
    let mut stims: Vec<Option<usize>> = Vec::with_capacity(vc.len());
    let mut holds: Vec<Option<f64>> = Vec::with_capacity(vc.len());
    let mut membranes: Vec<Option<MembraneTest>> = Vec::with_capacity(vc.len());
    // Stimuli from the artifact: an evoked response comes at the same time in
    // most sweeps; jumps elsewhere (spontaneous events, another cell's
    // command) are not stimuli.
    // Trains: every stimulus time most sweeps share is a pulse; from the
    // protocol's digital outputs, or from the artifacts in the current.
    let from_protocol = match cfg.stimulus_source {
        StimulusSource::Protocol => true,
        StimulusSource::Artifact => false,
        StimulusSource::Auto => vc.iter().any(|s| !s.protocol_stims.is_empty()),
    };
    if from_protocol && cfg.stim_ms.is_none() {
        if vc.iter().all(|s| s.protocol_stims.is_empty()) {
            warnings.push(format!("{cell}: stimulus_source = \"protocol\" but the protocol has no digital output"));
        } else {
            warnings.push(format!("{cell}: stimuli from the protocol's digital outputs"));
        }
    }
    let trains = consistent_trains(
        &vc.iter()
            .map(|s| {
                if from_protocol {
                    return s.protocol_stims.clone();
                }
                let mut edges = s.edges.clone();
                if let Some(tp) = s.command_mv.as_deref().and_then(|v| command_levels(v, s.rate_hz).1) {
                    edges.extend([tp.start, tp.stop]);
                }
                find_stimuli_away_from(&s.current_pa, s.rate_hz, &edges)
            })
            .collect::<Vec<_>>(),
        fs,
    );
    let found: Vec<Option<usize>> = trains.iter().map(|t| t.first().copied().flatten()).collect();
    let mut pulses: Vec<Vec<Pulse>> = Vec::with_capacity(vc.len());
    let mut stim_ms: Vec<f64> = Vec::with_capacity(vc.len());
    let mut pulse_failures = 0usize;
    if cfg.stim_ms.is_none() && found.iter().all(Option::is_none) && vc.len() > 1 {
        warnings.push(format!("{cell}: no stimulus at a consistent time across the sweeps (stim_ms to give it)"));
    }
    for (k, s) in vc.iter().enumerate() {
        let i = &s.current_pa;
        let (hold, tp) = match &s.command_mv {
            Some(v) => {
                let (h, tp) = command_levels(v, s.rate_hz);
                (Some(h).filter(|h| h.is_finite()), tp)
            }
            None => (None, None),
        };
        let tp = match cfg.test_pulse {
            Some(spec) => {
                let start = (spec.start_ms * 1e-3 * s.rate_hz).round() as usize;
                let stop = ((spec.stop_ms * 1e-3 * s.rate_hz).round() as usize).min(i.len());
                if start + 2 > stop {
                    bail!(
                        "{}: sweep {k}: test_pulse {}–{} ms does not fit the {:.1} ms sweep",
                        path.display(),
                        spec.start_ms,
                        spec.stop_ms,
                        i.len() as f64 / s.rate_hz * 1e3
                    );
                }
                Some(TestPulse { start, stop, delta_mv: spec.step_mv })
            }
            None => tp,
        };
        let stim = match cfg.stim_ms {
            Some(ms) => Some((ms * 1e-3 * s.rate_hz).round() as usize).filter(|&x| x < i.len()),
            None => found[k],
        };
        let epoch_tag = || {
            epochs.iter().find(|e| s.time_s >= e.start_s && s.time_s < e.stop_s).and_then(|e| e.tags.first().cloned())
        };
        let condition = if conditions_from_epochs {
            epoch_tag()
        } else {
            s.description.clone().filter(|d| !is_placeholder(d)).or_else(epoch_tag)
        }
        .unwrap_or_else(|| "unknown".into());
        membranes.push(tp.as_ref().map(|tp| membrane_test(i, s.rate_hz, tp)));
        // a train's pulses: each measured up to the next stimulus
        let train: &[Option<usize>] = if cfg.stim_ms.is_none() { &trains[k] } else { &[] };
        let end_of = |j: usize| train.iter().skip(j + 1).flatten().next().copied().unwrap_or(i.len());
        let mut later = Vec::new();
        for j in 1..train.len() {
            let result = train[j].and_then(|st| {
                let r = measure_sweep(&i[..end_of(j)], s.rate_hz, st, None, hold, sp).ok();
                if r.is_none() {
                    pulse_failures += 1;
                }
                r
            });
            later.push(Pulse { stim_ms: train[j].map_or(f64::NAN, |st| st as f64 / s.rate_hz * 1e3), result });
        }
        pulses.push(later);
        stim_ms.push(stim.map_or(f64::NAN, |st| st as f64 / s.rate_hz * 1e3));
        let first_end = if train.len() > 1 { end_of(0) } else { i.len() };
        let result = match stim {
            Some(st) => match measure_sweep(&i[..first_end], s.rate_hz, st, tp.as_ref(), hold, sp) {
                Ok(r) => Some(r),
                Err(e) => {
                    warnings.push(format!("{}: sweep {k}: {e}", path.display()));
                    None
                }
            },
            None => None,
        };
        sweeps.push(CellSweep { sweep: s.number, time_s: s.time_s, condition, result });
        traces.push(i.clone());
        stims.push(stim);
        holds.push(hold);
    }
    let tolerance = cfg.holding_tolerance_mv;
    // The NMDA/AMPA ratio from the baseline sweeps at the two holding
    // potentials: AMPA's peak, NMDA's amplitude at the fixed latency.
    let at = |target: f64, f: fn(&burstscope_epsc::SweepResult) -> f64| -> Vec<f64> {
        sweeps
            .iter()
            .zip(&holds)
            .filter(|(s, h)| h.is_some_and(|h| (h - target).abs() <= tolerance) && cp.is_baseline(&s.condition))
            .filter_map(|(s, _)| s.result.as_ref().map(f))
            .collect()
    };
    let nmda_ampa = nmda_ampa_ratio(
        &at(cfg.ampa_holding_mv, |r| r.amplitude_pa),
        &at(cfg.nmda_holding_mv, |r| r.amplitude_at_latency_pa),
    );
    // One holding potential per analysis: a cell also recorded at −70 mV
    // (AMPA) keeps its +40 mV (NMDA) sweeps, or those at --holding-mv.
    let target = cfg.holding_mv.or_else(|| most_common_holding(&holds));
    let keep: Vec<bool> =
        holds.iter().map(|h| !matches!((h, target), (Some(h), Some(t)) if (h - t).abs() > tolerance)).collect();
    let other_holding = keep.iter().filter(|k| !**k).count();
    if other_holding > 0 {
        let mut others: Vec<i64> =
            holds.iter().zip(&keep).filter(|(_, k)| !**k).filter_map(|(h, _)| h.map(|v| v.round() as i64)).collect();
        others.sort_unstable();
        others.dedup();
        warnings.push(format!(
            "{cell}: {other_holding} sweep(s) held at {others:?} mV left out; analysing the {} at {:.0} mV \
             (holding_mv / --holding-mv to choose)",
            keep.iter().filter(|k| **k).count(),
            target.unwrap_or(f64::NAN)
        ));
        retain_where(&mut sweeps, &keep);
        retain_where(&mut traces, &keep);
        retain_where(&mut stims, &keep);
        retain_where(&mut membranes, &keep);
        retain_where(&mut pulses, &keep);
        retain_where(&mut stim_ms, &keep);
    }
    if pulse_failures > 0 {
        warnings.push(format!("{cell}: {pulse_failures} later pulse(s) of trains could not be measured"));
    }
    // paired-pulse ratio over the baseline sweeps
    let (first, second): (Vec<f64>, Vec<f64>) = sweeps
        .iter()
        .zip(&pulses)
        .filter(|(s, p)| cp.is_baseline(&s.condition) && !p.is_empty())
        .map(|(s, p)| {
            let a = |r: Option<&burstscope_epsc::SweepResult>| r.map_or(f64::NAN, |r| r.amplitude_pa);
            (a(s.result.as_ref()), a(p[0].result.as_ref()))
        })
        .unzip();
    let paired_pulse_ratio = burstscope_epsc::paired_pulse_ratio(&first, &second).unwrap_or(f64::NAN);
    let mut intervals: Vec<f64> = stim_ms
        .iter()
        .zip(&pulses)
        .filter_map(|(a, p)| p.first().map(|p| p.stim_ms - a))
        .filter(|d| d.is_finite())
        .collect();
    intervals.sort_by(f64::total_cmp);
    let pulse_interval_ms = if intervals.is_empty() { f64::NAN } else { intervals[intervals.len() / 2] };
    if sweeps.is_empty() {
        bail!(
            "{}: cell {cell}: no voltage-clamp sweeps at {:.1} mV (±{tolerance} mV)",
            path.display(),
            target.unwrap_or(f64::NAN)
        );
    }
    let summary = summarize_cell(&sweeps, cp);
    let first_drug = sweeps.iter().find(|s| !cp.is_baseline(&s.condition));
    let drug_onset_s = first_drug.map_or(f64::NAN, |d| {
        epochs
            .iter()
            .filter(|e| e.tags.contains(&d.condition) && e.start_s <= d.time_s)
            .map(|e| e.start_s)
            .fold(d.time_s, f64::min)
    });
    // averaged traces, -20..+600 ms around the stimulus, blanking set to NaN
    let pre = (cfg.trace_window_ms.0 * 1e-3 * fs).round() as usize;
    let post = (cfg.trace_window_ms.1 * 1e-3 * fs).round() as usize;
    let blank = (sp.blank_ms * 1e-3 * fs).ceil() as usize;
    let avg = |idx: &[usize]| -> Vec<f64> {
        let mut acc = vec![0.0; pre + post];
        let mut n = vec![0usize; pre + post];
        for &k in idx {
            let (Some(st), Some(r)) = (stims[k], sweeps[k].result.as_ref()) else { continue };
            for j in 0..pre + post {
                let Some(v) = (st + j).checked_sub(pre).and_then(|q| traces[k].get(q)) else { continue };
                acc[j] += v - r.baseline_pa;
                n[j] += 1;
            }
        }
        acc.iter()
            .zip(&n)
            .enumerate()
            .map(|(j, (a, c))| if (pre..pre + blank).contains(&j) || *c == 0 { f64::NAN } else { a / *c as f64 })
            .collect()
    };
    let base_idx: Vec<usize> = (0..sweeps.len()).filter(|&k| cp.is_baseline(&sweeps[k].condition)).collect();
    let drug_idx: Vec<usize> = (0..sweeps.len()).filter(|&k| !cp.is_baseline(&sweeps[k].condition)).collect::<Vec<_>>();
    let block_idx: Vec<usize> = drug_idx.iter().rev().take(summary.n_block_sweeps.max(1)).copied().collect();
    Ok(CellData {
        file: path.to_path_buf(),
        cell,
        region,
        treatment,
        drug_onset_s,
        holding_mv: target.unwrap_or(f64::NAN),
        sweeps_other_holding: other_holding,
        trace_t_ms: (0..pre + post).map(|j| (j as f64 - pre as f64) / fs * 1e3).collect(),
        trace_baseline: avg(&base_idx),
        trace_drug: avg(&block_idx),
        sweeps,
        summary,
        membrane: membranes,
        nmda_ampa,
        stim_ms,
        pulses,
        paired_pulse_ratio,
        pulse_interval_ms,
        warnings,
    })
}

/// The stimulus times a train's sweeps share: every time (±1 ms) found in
/// at least half of the sweeps is a pulse, in time order; per sweep, the
/// stimulus found within ±2 ms of each pulse's time (or `None`). A single
/// stimulus is a train of one; an artifact-like jump in a few sweeps only
/// (a spontaneous event) is not a pulse.
fn consistent_trains(found: &[Vec<usize>], fs_hz: f64) -> Vec<Vec<Option<usize>>> {
    let tol = (1e-3 * fs_hz).ceil() as usize;
    let sweeps_near = |t: usize| found.iter().filter(|f| f.iter().any(|&u| u.abs_diff(t) <= tol)).count();
    let mut times: Vec<usize> = found.iter().flatten().copied().collect();
    times.sort_unstable();
    let mut centres: Vec<usize> = Vec::new();
    loop {
        let best = times.iter().map(|&t| (t, sweeps_near(t))).max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some((t, n)) if 2 * n >= found.len() => {
                centres.push(t);
                times.retain(|&u| u.abs_diff(t) > 2 * tol);
            }
            _ => break,
        }
    }
    centres.sort_unstable();
    found
        .iter()
        .map(|f| {
            centres
                .iter()
                .map(|&c| f.iter().copied().filter(|&u| u.abs_diff(c) <= 2 * tol).min_by_key(|&u| u.abs_diff(c)))
                .collect()
        })
        .collect()
}

/// Fitted fall of the normalised amplitude from the first to the second
/// stimulus in the drug (% of baseline): determined even where the decline is
/// still straight and the plateau is not.
fn initial_decline_pct(u: &burstscope_epsc::UseDependence) -> f64 {
    100.0 * u.initial_decline
}

fn initial_decline(c: &CellData) -> f64 {
    c.summary.use_dependence.as_ref().map_or(f64::NAN, initial_decline_pct)
}

fn nmda_ampa_of(c: &CellData) -> f64 {
    c.nmda_ampa.as_ref().map_or(f64::NAN, |r| r.ratio)
}

fn block_per_stimulus(c: &CellData) -> f64 {
    c.summary.use_dependence.as_ref().filter(|u| u.determined).map_or(f64::NAN, |u| u.block_per_stimulus)
}

/// Keeps the items whose flag in `keep` (same order) is set.
fn retain_where<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut flags = keep.iter();
    v.retain(|_| flags.next().copied().unwrap_or(true));
}

/// The holding potential most sweeps share (to 1 mV; ties go to the more
/// depolarised, the NMDA side); `None` when no sweep has a command.
fn most_common_holding(holds: &[Option<f64>]) -> Option<f64> {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for h in holds.iter().flatten().filter(|h| h.is_finite()) {
        *counts.entry(h.round() as i64).or_default() += 1;
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0))).map(|(mv, _)| mv as f64)
}

/// `stimulus_description` values that name no condition.
fn is_placeholder(d: &str) -> bool {
    let d = d.trim();
    d.is_empty() || d.eq_ignore_ascii_case("N/A") || d.eq_ignore_ascii_case("none")
}

/// A per-cell value compared between groups.
type CellMetric = fn(&CellData) -> f64;

fn group_of(c: &CellData) -> String {
    if c.treatment == "unknown" { c.region.clone() } else { format!("{}/{}", c.region, c.treatment) }
}

fn push_test(rows: &mut Vec<GroupRow>, group: &str, metric: EpscMetric, r: &TestResult, mean: f64, sem: f64) {
    rows.push(GroupRow {
        group: group.into(),
        metric,
        n: r.n,
        mean,
        sem,
        test: GroupTest::Test(r.test),
        statistic: r.statistic,
        p_value: r.p_value,
    });
}

/// Group summaries, paired tests within cells and tests between groups.
pub fn group_stats(cells: &[&CellData]) -> Vec<GroupRow> {
    let mut groups: BTreeMap<String, Vec<&CellData>> = BTreeMap::new();
    for c in cells {
        groups.entry(group_of(c)).or_default().push(c);
    }
    let mut rows = Vec::new();
    let drug_amp = |c: &CellData| c.summary.pct_of_baseline / 100.0 * c.summary.baseline_amplitude_pa;
    for (g, cs) in &groups {
        for (metric, vals) in [
            (EpscMetric::BlockPct, cs.iter().map(|c| c.summary.block_pct).collect::<Vec<f64>>()),
            (EpscMetric::BaselineAmplitudePa, cs.iter().map(|c| c.summary.baseline_amplitude_pa).collect()),
            (EpscMetric::BlockPerStimulus, cs.iter().map(|c| block_per_stimulus(c)).collect()),
            (EpscMetric::InitialDeclinePctPerStimulus, cs.iter().map(|c| initial_decline(c)).collect()),
            (EpscMetric::NmdaAmpaRatio, cs.iter().map(|c| nmda_ampa_of(c)).collect()),
        ] {
            let v: Vec<f64> = vals.into_iter().filter(|x| x.is_finite()).collect();
            if metric == EpscMetric::NmdaAmpaRatio && v.is_empty() {
                continue; // no cell of the group was recorded at both holding potentials
            }
            let s = summary(&v);
            rows.push(GroupRow {
                group: g.clone(),
                metric,
                n: v.len(),
                mean: s.mean,
                sem: s.sem,
                test: GroupTest::Summary,
                statistic: f64::NAN,
                p_value: f64::NAN,
            });
        }
        // within cells: baseline vs drug amplitude (pA)
        let (pre, post): (Vec<f64>, Vec<f64>) = cs
            .iter()
            .map(|c| (c.summary.baseline_amplitude_pa, drug_amp(c)))
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .unzip();
        if pre.len() >= 2 {
            let d: Vec<f64> = pre.iter().zip(&post).map(|(a, b)| a - b).collect();
            let s = summary(&d);
            push_test(&mut rows, g, EpscMetric::AmplitudePaBaselineMinusDrug, &ttest_rel(&pre, &post), s.mean, s.sem);
            push_test(&mut rows, g, EpscMetric::AmplitudePaBaselineMinusDrug, &wilcoxon(&pre, &post), s.mean, s.sem);
        }
    }
    // between groups, every pair
    let names: Vec<&String> = groups.keys().collect();
    let between: [(EpscMetric, CellMetric); 3] = [
        (EpscMetric::BlockPct, |c| c.summary.block_pct),
        (EpscMetric::InitialDeclinePctPerStimulus, initial_decline),
        (EpscMetric::NmdaAmpaRatio, nmda_ampa_of),
    ];
    for (metric, value) in between {
        for i in 0..names.len() {
            for j in i + 1..names.len() {
                let of =
                    |g: &String| -> Vec<f64> { groups[g].iter().map(|c| value(c)).filter(|x| x.is_finite()).collect() };
                let (a, b) = (of(names[i]), of(names[j]));
                if a.len() >= 2 && b.len() >= 2 {
                    let label = format!("{} vs {}", names[i], names[j]);
                    let diff = summary(&a).mean - summary(&b).mean;
                    push_test(&mut rows, &label, metric, &ttest_welch(&a, &b), diff, f64::NAN);
                    push_test(&mut rows, &label, metric, &mannwhitneyu(&a, &b), diff, f64::NAN);
                }
            }
        }
    }
    rows
}

fn tables(cells: &[CellData], rows: &[GroupRow]) -> Vec<Table> {
    let mut s = Table::new("sweeps");
    let mut cols: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let (mut cell, mut region, mut cond, mut fit_ok, mut measured) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut sweep, mut stim) = (vec![], vec![]);
    let (mut time, mut since) = (vec![], vec![]);
    let (mut pulse, mut stim_at) = (vec![], vec![]);
    let names = [
        "amplitude_pa",
        "normalized_amplitude",
        "amplitude_at_latency_pa",
        "peak_ms",
        "rise_ms",
        "tau_mono_ms",
        "tau_fast_ms",
        "tau_slow_ms",
        "tau_weighted_ms",
        "charge_pc",
        "holding_pa",
        "rs_mohm",
        "rin_mohm",
        "rm_mohm",
        "cm_pf",
        "membrane_tau_ms",
    ];
    for c in cells {
        for (k, sw) in c.sweeps.iter().enumerate() {
            // one row per stimulus: the first (with the sweep's membrane test
            // and normalised amplitude), then a train's later pulses
            let later = c.pulses.get(k).map_or(&[][..], Vec::as_slice);
            for p in 0..=later.len() {
                cell.push(c.cell.clone());
                region.push(c.region.clone());
                sweep.push(sw.sweep as i64);
                time.push(sw.time_s);
                since.push(sw.time_s - c.drug_onset_s);
                cond.push(sw.condition.clone());
                stim.push(i64::from(c.summary.stimulus[k]));
                pulse.push(p as i64);
                let r = if p == 0 { sw.result.as_ref() } else { later[p - 1].result.as_ref() };
                stim_at.push(if p == 0 { c.stim_ms.get(k).copied().unwrap_or(f64::NAN) } else { later[p - 1].stim_ms });
                measured.push(r.is_some());
                fit_ok.push(r.is_some_and(|r| r.fit_ok));
                let g = |f: fn(&burstscope_epsc::SweepResult) -> f64| r.map_or(f64::NAN, f);
                let m = if p == 0 { c.membrane.get(k).copied().flatten() } else { None };
                let mt = |f: fn(&MembraneTest) -> f64| m.as_ref().map_or(f64::NAN, f);
                let vals = [
                    g(|r| r.amplitude_pa),
                    if p == 0 { c.summary.normalized[k] } else { f64::NAN },
                    g(|r| r.amplitude_at_latency_pa),
                    g(|r| r.peak_ms),
                    g(|r| r.rise_ms),
                    g(|r| r.tau_mono_ms),
                    g(|r| r.tau_fast_ms),
                    g(|r| r.tau_slow_ms),
                    g(|r| r.tau_weighted_ms),
                    g(|r| r.charge_pc),
                    m.map_or_else(|| g(|r| r.holding_pa), |m| m.holding_pa),
                    mt(|m| m.rs_mohm),
                    mt(|m| m.rin_mohm),
                    mt(|m| m.rm_mohm),
                    mt(|m| m.cm_pf),
                    mt(|m| m.tau_ms),
                ];
                for (n, v) in names.iter().zip(vals) {
                    cols.entry(n).or_default().push(v);
                }
            }
        }
    }
    s.push("cell", ColumnData::Str(cell));
    s.push("region", ColumnData::Str(region));
    s.push("sweep", ColumnData::I64(sweep));
    s.push("time_s", ColumnData::F64(time));
    s.push("time_since_drug_s", ColumnData::F64(since));
    s.push("condition", ColumnData::Str(cond));
    s.push("stimulus", ColumnData::I64(stim));
    s.push("pulse", ColumnData::I64(pulse));
    s.push("stim_ms", ColumnData::F64(stim_at));
    s.push("measured", ColumnData::Bool(measured));
    for n in names {
        s.push(n, ColumnData::F64(cols.remove(n).unwrap_or_default()));
    }
    s.push("fit_ok", ColumnData::Bool(fit_ok));

    let mut t = Table::new("cells");
    t.push("cell", ColumnData::Str(cells.iter().map(|c| c.cell.clone()).collect()));
    t.push("region", ColumnData::Str(cells.iter().map(|c| c.region.clone()).collect()));
    t.push("treatment", ColumnData::Str(cells.iter().map(|c| c.treatment.clone()).collect()));
    t.push("file", ColumnData::Str(cells.iter().map(|c| c.file.display().to_string()).collect()));
    t.push("kind", ColumnData::Str(cells.iter().map(|c| c.kind().to_string()).collect()));
    t.push("holding_mv", ColumnData::F64(cells.iter().map(|c| c.holding_mv).collect()));
    t.push("holding_pa", ColumnData::F64(cells.iter().map(|c| c.membrane_median(|m| m.holding_pa)).collect()));
    t.push("rs_mohm", ColumnData::F64(cells.iter().map(|c| c.membrane_median(|m| m.rs_mohm)).collect()));
    t.push("rin_mohm", ColumnData::F64(cells.iter().map(|c| c.membrane_median(|m| m.rin_mohm)).collect()));
    t.push("rm_mohm", ColumnData::F64(cells.iter().map(|c| c.membrane_median(|m| m.rm_mohm)).collect()));
    t.push("cm_pf", ColumnData::F64(cells.iter().map(|c| c.membrane_median(|m| m.cm_pf)).collect()));
    t.push("n_baseline", ColumnData::I64(cells.iter().map(|c| c.summary.n_baseline as i64).collect()));
    t.push("n_drug", ColumnData::I64(cells.iter().map(|c| c.summary.n_drug as i64).collect()));
    t.push("baseline_amplitude_pa", ColumnData::F64(cells.iter().map(|c| c.summary.baseline_amplitude_pa).collect()));
    t.push("pct_of_baseline", ColumnData::F64(cells.iter().map(|c| c.summary.pct_of_baseline).collect()));
    t.push("block_pct", ColumnData::F64(cells.iter().map(|c| c.summary.block_pct).collect()));
    let ud = |f: fn(&burstscope_epsc::UseDependence) -> f64, only_determined: bool| -> ColumnData {
        ColumnData::F64(
            cells
                .iter()
                .map(|c| {
                    c.summary.use_dependence.as_ref().filter(|u| u.determined || !only_determined).map_or(f64::NAN, f)
                })
                .collect(),
        )
    };
    t.push("block_per_stimulus", ud(|u| u.block_per_stimulus, true));
    t.push("use_dependence_tau_stimuli", ud(|u| u.tau_stimuli, true));
    t.push("use_dependence_tau_ci_low_stimuli", ud(|u| u.tau_ci_stimuli.0, false));
    t.push("use_dependence_tau_ci_high_stimuli", ud(|u| u.tau_ci_stimuli.1, false));
    t.push("plateau_pct_of_baseline", ud(|u| 100.0 * u.plateau, true));
    t.push("initial_decline_pct_per_stimulus", ud(initial_decline_pct, false));
    t.push("use_dependence_r2", ud(|u| u.r2, false));
    t.push("n_block_sweeps", ColumnData::I64(cells.iter().map(|c| c.summary.n_block_sweeps as i64).collect()));
    t.push("rs_first_mohm", ColumnData::F64(cells.iter().map(|c| c.summary.rs_first_mohm).collect()));
    t.push("rs_last_mohm", ColumnData::F64(cells.iter().map(|c| c.summary.rs_last_mohm).collect()));
    let na = |f: fn(&NmdaAmpa) -> f64| {
        ColumnData::F64(cells.iter().map(|c| c.nmda_ampa.as_ref().map_or(f64::NAN, f)).collect())
    };
    t.push("ampa_peak_pa", na(|r| r.ampa_peak_pa));
    t.push("nmda_latency_pa", na(|r| r.nmda_latency_pa));
    t.push("nmda_ampa_ratio", na(|r| r.ratio));
    t.push(
        "n_ampa_sweeps",
        ColumnData::I64(cells.iter().map(|c| c.nmda_ampa.map_or(0, |r| r.n_ampa as i64)).collect()),
    );
    t.push(
        "n_nmda_sweeps",
        ColumnData::I64(cells.iter().map(|c| c.nmda_ampa.map_or(0, |r| r.n_nmda as i64)).collect()),
    );
    t.push(
        "n_pulses",
        ColumnData::I64(cells.iter().map(|c| 1 + c.pulses.iter().map(Vec::len).max().unwrap_or(0) as i64).collect()),
    );
    t.push("pulse_interval_ms", ColumnData::F64(cells.iter().map(|c| c.pulse_interval_ms).collect()));
    t.push("paired_pulse_ratio", ColumnData::F64(cells.iter().map(|c| c.paired_pulse_ratio).collect()));
    t.push("qc_pass", ColumnData::Bool(cells.iter().map(|c| c.summary.qc_pass).collect()));
    t.push("qc_reason", ColumnData::Str(cells.iter().map(|c| c.summary.qc_reasons.join("; ")).collect()));

    let mut g = Table::new("group_stats");
    g.push("group", ColumnData::Str(rows.iter().map(|r| r.group.clone()).collect()));
    g.push("metric", ColumnData::Str(rows.iter().map(|r| r.metric.name().to_string()).collect()));
    g.push("n", ColumnData::I64(rows.iter().map(|r| r.n as i64).collect()));
    g.push("mean", ColumnData::F64(rows.iter().map(|r| r.mean).collect()));
    g.push("sem", ColumnData::F64(rows.iter().map(|r| r.sem).collect()));
    g.push("test", ColumnData::Str(rows.iter().map(|r| r.test.name().to_string()).collect()));
    g.push("statistic", ColumnData::F64(rows.iter().map(|r| r.statistic).collect()));
    g.push("p_value", ColumnData::F64(rows.iter().map(|r| r.p_value).collect()));
    vec![s, t, g]
}

fn figures(cells: &[&CellData], rows: &[GroupRow], root: &Path, latency_ms: f64) -> Result<Vec<FigureFile>> {
    let dir = &root.join("figures");
    let mut out = Vec::new();
    let drug = cells
        .iter()
        .find_map(|c| {
            c.sweeps.iter().find(|s| !s.condition.eq_ignore_ascii_case("baseline")).map(|s| s.condition.clone())
        })
        .unwrap_or_else(|| "drug".into());
    let panels: Vec<plot::TraceSet> = cells
        .iter()
        .take(12)
        .map(|c| plot::TraceSet {
            title: format!("{} ({})", c.cell, c.region),
            t_ms: c.trace_t_ms.clone(),
            traces: vec![("baseline".into(), c.trace_baseline.clone()), (drug.clone(), c.trace_drug.clone())],
            marks_ms: vec![latency_ms],
        })
        .collect();
    if !panels.is_empty() {
        let fig = plot::TraceOverlay { panels, y_label: "EPSC (pA)".into(), title: "Averaged EPSCs per cell".into() };
        plot::render(&fig, dir, "traces_cells")?;
        out.push(FigureFile { label: "EPSC overlays per cell".into(), png: PathBuf::from("figures/traces_cells.png") });
    }
    let mut by: BTreeMap<String, Vec<&CellData>> = BTreeMap::new();
    for c in cells {
        by.entry(group_of(c)).or_default().push(c);
    }
    let mean_of = |cs: &[&CellData], f: fn(&CellData) -> &Vec<f64>| -> Vec<f64> {
        let n = cs.iter().map(|c| f(c).len()).min().unwrap_or(0);
        (0..n)
            .map(|j| summary(&cs.iter().map(|c| f(c)[j]).filter(|v| v.is_finite()).collect::<Vec<_>>()).mean)
            .collect()
    };
    let region_panels: Vec<plot::TraceSet> = by
        .iter()
        .map(|(g, cs)| plot::TraceSet {
            title: format!("{g} (n = {})", cs.len()),
            t_ms: cs[0].trace_t_ms.clone(),
            traces: vec![
                ("baseline".into(), mean_of(cs, |c| &c.trace_baseline)),
                (drug.clone(), mean_of(cs, |c| &c.trace_drug)),
            ],
            marks_ms: vec![latency_ms],
        })
        .collect();
    if !region_panels.is_empty() {
        let fig = plot::TraceOverlay {
            panels: region_panels,
            y_label: "EPSC (pA)".into(),
            title: "Averaged EPSCs per region".into(),
        };
        plot::render(&fig, dir, "traces_regions")?;
        out.push(FigureFile {
            label: "EPSC overlays per region".into(),
            png: PathBuf::from("figures/traces_regions.png"),
        });
    }
    // normalised amplitude time course, 1-min bins from the drug onset
    let bins: Vec<i64> = {
        let mut b: Vec<i64> = cells
            .iter()
            .flat_map(|c| c.sweeps.iter().map(move |s| ((s.time_s - c.drug_onset_s) / 60.0).floor() as i64))
            .collect();
        b.sort_unstable();
        // every minute between the first and the last, so empty minutes break the lines
        match (b.first(), b.last()) {
            (Some(&lo), Some(&hi)) => (lo..=hi).collect(),
            _ => Vec::new(),
        }
    };
    if !bins.is_empty() {
        let series: Vec<plot::CourseSeries> = by
            .iter()
            .map(|(g, cs)| {
                let (mut m, mut e) = (Vec::new(), Vec::new());
                for &b in &bins {
                    let per_cell: Vec<f64> = cs
                        .iter()
                        .filter_map(|c| {
                            let v: Vec<f64> = c
                                .sweeps
                                .iter()
                                .zip(&c.summary.normalized)
                                .filter(|(s, n)| {
                                    ((s.time_s - c.drug_onset_s) / 60.0).floor() as i64 == b && n.is_finite()
                                })
                                .map(|(_, n)| 100.0 * n)
                                .collect();
                            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                        })
                        .collect();
                    let s = summary(&per_cell);
                    m.push(if per_cell.is_empty() { f64::NAN } else { s.mean });
                    e.push(if per_cell.len() > 1 { s.sem } else { 0.0 });
                }
                plot::CourseSeries { label: format!("{g} (n = {})", cs.len()), mean: m, sem: e }
            })
            .collect();
        let fig = plot::TimeCourse {
            x_min: bins.iter().map(|&b| b as f64 + 0.5).collect(),
            panels: vec![plot::TimeCoursePanel { y_label: "EPSC amplitude (% of baseline)".into(), series }],
            event: drug.clone(),
            title: "Normalised EPSC amplitude, mean ± SEM across cells".into(),
        };
        plot::render(&fig, dir, "amplitude_time_course")?;
        out.push(FigureFile {
            label: "Normalised amplitude time course".into(),
            png: PathBuf::from("figures/amplitude_time_course.png"),
        });
    }
    // use-dependence: normalised amplitude against stimulus number in the drug
    let n_stim = cells.iter().flat_map(|c| c.summary.stimulus.iter().copied()).max().unwrap_or(0);
    if n_stim >= 4 {
        let x: Vec<f64> = (1..=n_stim).map(f64::from).collect();
        let (series, fits): (Vec<plot::CourseSeries>, Vec<Vec<f64>>) = by
            .iter()
            .map(|(g, cs)| {
                let (mut m, mut e) = (Vec::new(), Vec::new());
                for k in 1..=n_stim {
                    let v: Vec<f64> = cs
                        .iter()
                        .flat_map(|c| {
                            c.summary.stimulus.iter().zip(&c.summary.normalized).filter(move |(s, _)| **s == k)
                        })
                        .map(|(_, n)| 100.0 * n)
                        .filter(|v| v.is_finite())
                        .collect();
                    let s = summary(&v);
                    m.push(if v.is_empty() { f64::NAN } else { s.mean });
                    e.push(if v.len() > 1 { s.sem } else { 0.0 });
                }
                let frac: Vec<f64> = m.iter().map(|v| v / 100.0).collect();
                let fit = burstscope_epsc::fit_use_dependence(&x, &frac)
                    .map(|u| x.iter().map(|k| 100.0 * u.at(*k)).collect())
                    .unwrap_or_default();
                (plot::CourseSeries { label: format!("{g} (n = {})", cs.len()), mean: m, sem: e }, fit)
            })
            .unzip();
        let fig = plot::StimulusCourse {
            stimulus: x,
            series,
            fits,
            x_label: "Stimulus number in the drug".into(),
            y_label: "EPSC amplitude (% of baseline)".into(),
            title: format!("Use-dependent {drug} block, mean ± SEM across cells"),
        };
        plot::render(&fig, dir, "block_by_stimulus")?;
        out.push(FigureFile {
            label: "Use-dependent block".into(),
            png: PathBuf::from("figures/block_by_stimulus.png"),
        });
    }
    // % block per group with the between-group test
    let groups: Vec<(String, Vec<f64>)> =
        by.iter().map(|(g, cs)| (g.clone(), cs.iter().map(|c| c.summary.block_pct).collect())).collect();
    let welch =
        rows.iter().find(|r| r.metric == EpscMetric::BlockPct && r.test == GroupTest::Test(TestKind::TtestWelch));
    let mwu =
        rows.iter().find(|r| r.metric == EpscMetric::BlockPct && r.test == GroupTest::Test(TestKind::MannWhitneyU));
    let annotation = match (welch, mwu) {
        (Some(w), Some(m)) => format!("Welch t {}; Mann–Whitney {}", plot::fmt_p(w.p_value), plot::fmt_p(m.p_value)),
        _ => String::new(),
    };
    let fig = plot::GroupPoints {
        groups,
        y_label: "Block (%)".into(),
        annotation,
        title: format!("{drug} block per region"),
    };
    plot::render(&fig, dir, "block_by_region")?;
    out.push(FigureFile { label: "% block per region".into(), png: PathBuf::from("figures/block_by_region.png") });
    Ok(out)
}

/// The membrane test across each cell's sweeps (holding current, access and
/// input resistance, capacitance), around the drug when there is one: one
/// figure per cell with membrane tests in at least two sweeps (at most 24).
fn membrane_figures(cells: &[CellData], root: &Path) -> Result<Vec<FigureFile>> {
    let dir = &root.join("figures");
    let mut out = Vec::new();
    let with_tests =
        cells.iter().filter(|c| c.membrane.iter().flatten().filter(|m| m.rs_mohm.is_finite()).count() >= 2);
    for (k, c) in with_tests.take(24).enumerate() {
        let drug =
            c.sweeps.iter().find(|s| !s.condition.eq_ignore_ascii_case("baseline") && c.drug_onset_s.is_finite());
        let (origin, event) = match drug {
            Some(d) => (c.drug_onset_s, d.condition.clone()),
            None => (c.sweeps.first().map_or(0.0, |s| s.time_s), String::new()),
        };
        let x_min: Vec<f64> = c.sweeps.iter().map(|s| (s.time_s - origin) / 60.0).collect();
        let series = |f: fn(&MembraneTest) -> f64| plot::CourseSeries {
            label: String::new(),
            mean: c.membrane.iter().map(|m| m.as_ref().map_or(f64::NAN, f)).collect(),
            sem: vec![0.0; c.membrane.len()],
        };
        let panels = vec![
            plot::TimeCoursePanel { y_label: "Holding current (pA)".into(), series: vec![series(|m| m.holding_pa)] },
            plot::TimeCoursePanel { y_label: "Access resistance (MΩ)".into(), series: vec![series(|m| m.rs_mohm)] },
            plot::TimeCoursePanel { y_label: "Input resistance (MΩ)".into(), series: vec![series(|m| m.rin_mohm)] },
            plot::TimeCoursePanel { y_label: "Capacitance (pF)".into(), series: vec![series(|m| m.cm_pf)] },
        ];
        let fig = plot::TimeCourse { x_min, panels, event, title: format!("Membrane test: {}", c.cell) };
        let name = format!("membrane_test_{k:02}");
        plot::render(&fig, dir, &name)?;
        out.push(FigureFile {
            label: format!("Membrane test across sweeps: {}", c.cell),
            png: PathBuf::from(format!("figures/{name}.png")),
        });
    }
    Ok(out)
}

/// Analyses one file, turning a panic into an error so one bad file never
/// stops the others.
fn analyse_file_guarded(path: &Path, cfg: &EpscConfig, meta: &CellMeta) -> Result<Vec<CellData>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| analyse_file(path, cfg, meta))) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Error::Input(format!(
                "{}: internal error while analysing this file ({msg}); please report it",
                path.display()
            )))
        }
    }
}

/// Runs the `epsc` stage on `paths` (files or folders), writing the folder
/// `out`. Files that fail are reported in [`EpscRun::failed`] and skipped.
///
/// # Errors
/// No file could be analysed, the cell table is invalid, or writing failed
/// (`out` is then unchanged).
pub fn run_epsc(paths: &[PathBuf], out: &Path, cfg: &EpscConfig, cells_table: Option<&Path>) -> Result<EpscRun> {
    let meta = match cells_table {
        Some(p) => read_meta(p)?,
        None => BTreeMap::new(),
    };
    let files = expand(paths)?;
    let results: Vec<(PathBuf, Result<Vec<CellData>>)> =
        files.par_iter().map(|f| (f.clone(), analyse_file_guarded(f, cfg, &meta))).collect();
    let mut cells = Vec::new();
    let mut failed = Vec::new();
    let mut warnings = Vec::new();
    for (f, r) in results {
        match r {
            Ok(c) => cells.extend(c),
            Err(e) => {
                warnings.push(format!("skipped {}: {e}", f.display()));
                failed.push(FailedFile { file: f, error: e.to_string() });
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
    let included: Vec<&CellData> =
        cells.iter().filter(|c| c.kind() == "epsc" && (cfg.include_failed || c.summary.qc_pass)).collect();
    for c in cells.iter().filter(|c| c.kind() == "membrane_test") {
        warnings.push(format!(
            "cell {} has membrane tests and no EPSCs (no stimulus found): analysed as a membrane-test time course",
            c.cell
        ));
    }
    for c in cells.iter().filter(|c| c.kind() == "epsc" && !c.summary.qc_pass) {
        warnings.push(format!(
            "cell {} ({}) fails QC{}: {}",
            c.cell,
            c.region,
            if cfg.include_failed { " (kept)" } else { " and is left out of group statistics" },
            c.summary.qc_reasons.join("; ")
        ));
    }
    let rows = group_stats(&included);
    // Inputs: the analysed files (and the cell table), in order.
    let ok_files: Vec<&Path> = files
        .iter()
        .filter(|f| !failed.iter().any(|x| &x.file == *f))
        .map(PathBuf::as_path)
        .chain(cells_table)
        .collect();
    let identity = identify(&ok_files)?;
    let stage = StageOutput::begin(out, EPSC_STAGE, identity, Vec::new(), cfg)?;
    for t in tables(&cells, &rows) {
        write_table(&t, stage.path(), cfg.format.into())?;
    }
    let mut figs = Vec::new();
    if cfg.figures {
        if !included.is_empty() {
            figs = figures(&included, &rows, stage.path(), cfg.sweep.latency_ms)?;
        }
        figs.extend(membrane_figures(&cells, stage.path())?);
    }
    let mut summary = BTreeMap::new();
    summary.insert(
        "failed_files".into(),
        json!(
            failed.iter().map(|f| json!({"file": f.file.display().to_string(), "error": f.error})).collect::<Vec<_>>()
        ),
    );
    summary.insert(
        "sweeps_at_other_holding_potentials".into(),
        json!(
            cells
                .iter()
                .filter(|c| c.sweeps_other_holding > 0)
                .map(|c| json!({"cell": c.cell, "analysed_mv": c.holding_mv, "left_out": c.sweeps_other_holding}))
                .collect::<Vec<_>>()
        ),
    );
    summary.insert(
        "excluded_cells".into(),
        json!(
            cells
                .iter()
                .filter(|c| !c.summary.qc_pass)
                .map(|c| json!({"cell": c.cell, "reasons": c.summary.qc_reasons}))
                .collect::<Vec<_>>()
        ),
    );
    summary.insert("n_cells".into(), json!(cells.len()));
    summary.insert("n_cells_pass_qc".into(), json!(cells.iter().filter(|c| c.summary.qc_pass).count()));
    summary.insert("n_sweeps".into(), json!(cells.iter().map(|c| c.sweeps.len()).sum::<usize>()));
    let record = stage.finish(summary, warnings.clone())?;
    Ok(EpscRun { cells, failed, group_stats: rows, figures: figs, dir: out.to_path_buf(), record, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burstscope_synth::{SliceCell, SliceParams};

    fn vc_sweeps(c: &SliceCell, t0: f64) -> Vec<VcSweep> {
        let fs = c.params.rate_hz;
        c.sweeps
            .iter()
            .map(|s| {
                let command_mv: Vec<f64> = s.command_v.iter().map(|&v| f64::from(v) * 1e3).collect();
                VcSweep {
                    number: u64::from(s.truth.sweep),
                    time_s: t0 + s.truth.start_s,
                    rate_hz: fs,
                    current_pa: s.response_a.iter().map(|&v| f64::from(v) * 1e12).collect(),
                    edges: command_edges(&command_mv),
                    command_mv: Some(command_mv),
                    description: None,
                    protocol_stims: Vec::new(),
                }
            })
            .collect()
    }

    /// A cell recorded at −70 mV (an AMPA-like fast inward EPSC, 200 pA) and
    /// then at +40 mV (an NMDA-like slow outward one, 120 pA): its ratio is
    /// the NMDA current 50 ms after the stimulus over the AMPA peak, within
    /// 3 % of the generator's truth, and the +40 mV sweeps are analysed.
    #[test]
    fn a_cell_at_two_holding_potentials_gives_its_nmda_ampa_ratio() {
        let ampa = SliceCell::new(SliceParams {
            holding_mv: -70.0,
            amplitude_pa: -200.0,
            tau_rise_s: 0.001,
            tau_fast_s: 0.008,
            tau_slow_s: 0.03,
            frac_fast: 0.9,
            n_baseline: 10,
            n_drug: 0,
            seed: 3,
            ..SliceParams::default()
        })
        .unwrap();
        let nmda = SliceCell::new(SliceParams {
            holding_mv: 40.0,
            amplitude_pa: 120.0,
            n_baseline: 12,
            n_drug: 0,
            seed: 4,
            ..SliceParams::default()
        })
        .unwrap();
        let mut sweeps = vc_sweeps(&ampa, 0.0);
        sweeps.extend(vc_sweeps(&nmda, 200.0));
        let epochs = vec![Epoch { start_s: f64::NEG_INFINITY, stop_s: f64::INFINITY, tags: vec!["baseline".into()] }];
        let cfg = EpscConfig::new(crate::config::EpscSettings::default()).unwrap();
        let c = analyse_cell(
            CellInput { path: Path::new("x.nwb"), cell: "x".into(), location: None, sweeps: &sweeps, epochs: &epochs },
            &cfg,
            &CellMeta::new(),
        )
        .unwrap();
        let r = c.nmda_ampa.expect("a ratio");
        assert_eq!((r.n_ampa, r.n_nmda), (10, 12));
        // truth: the mean peak of the AMPA sweeps; the NMDA sweeps' mean peak
        // times the generator's normalised shape 50 ms after the stimulus
        let mean = |c: &SliceCell| c.sweeps.iter().map(|s| s.truth.amplitude_pa).sum::<f64>() / c.sweeps.len() as f64;
        let p = &nmda.params;
        let raw = |t: f64| {
            (1.0 - (-t / p.tau_rise_s).exp())
                * (p.frac_fast * (-t / p.tau_fast_s).exp() + (1.0 - p.frac_fast) * (-t / p.tau_slow_s).exp())
        };
        let peak = (1..20_000).map(|i| raw(f64::from(i) * 1e-5)).fold(0.0f64, f64::max);
        let nmda_at_50 = mean(&nmda) * raw(0.05 - p.latency_s) / peak;
        let want = nmda_at_50.abs() / mean(&ampa).abs();
        assert!(
            (r.ratio - want).abs() / want < 0.03,
            "ratio {:.4} (AMPA {:.1} pA, NMDA {:.1} pA); truth {want:.4} (AMPA {:.1}, NMDA {nmda_at_50:.1})",
            r.ratio,
            r.ampa_peak_pa,
            r.nmda_latency_pa,
            mean(&ampa)
        );
        eprintln!("NMDA/AMPA {:.4} against the truth {want:.4}", r.ratio);
        assert!(r.ampa_peak_pa < 0.0 && r.nmda_latency_pa > 0.0);
        assert_eq!(c.holding_mv.round(), 40.0, "the NMDA sweeps are the ones analysed");
        assert_eq!(c.sweeps_other_holding, 10);
        assert!(c.paired_pulse_ratio.is_nan() && c.pulses.iter().all(Vec::is_empty), "single stimuli");
    }

    /// Paired pulses 50 ms apart whose second EPSC is 1.5 × the first (a
    /// fast AMPA-like EPSC at −70 mV, facilitating): one `sweeps` row per
    /// stimulus with its 0-based `pulse`, the first pulse's results as for a
    /// single stimulus, and the cell's paired-pulse ratio within 3 % of 1.5.
    #[test]
    fn paired_pulses_give_a_row_per_pulse_and_the_paired_pulse_ratio() {
        let params = SliceParams {
            holding_mv: -70.0,
            amplitude_pa: -200.0,
            tau_rise_s: 0.001,
            tau_fast_s: 0.008,
            tau_slow_s: 0.008,
            frac_fast: 1.0,
            n_baseline: 12,
            n_drug: 0,
            seed: 9,
            ..SliceParams::default()
        };
        let with = SliceCell::new(params.clone()).unwrap();
        // the same sweeps without EPSC and artifact: their difference is one
        // stimulus's artifact and response
        let without = SliceCell::new(SliceParams { amplitude_pa: 0.0, artifact_pa: 0.0, ..params }).unwrap();
        let mut sweeps = vc_sweeps(&with, 0.0);
        let base = vc_sweeps(&without, 0.0);
        let d = (0.05 * with.params.rate_hz) as usize;
        for (s, b) in sweeps.iter_mut().zip(&base) {
            let template: Vec<f64> = s.current_pa.iter().zip(&b.current_pa).map(|(x, y)| x - y).collect();
            for k in d..s.current_pa.len() {
                s.current_pa[k] += 1.5 * template[k - d];
            }
        }
        let epochs = vec![Epoch { start_s: f64::NEG_INFINITY, stop_s: f64::INFINITY, tags: vec!["baseline".into()] }];
        let cfg = EpscConfig::new(crate::config::EpscSettings::default()).unwrap();
        let c = analyse_cell(
            CellInput { path: Path::new("x.nwb"), cell: "x".into(), location: None, sweeps: &sweeps, epochs: &epochs },
            &cfg,
            &CellMeta::new(),
        )
        .unwrap();
        assert!(c.pulses.iter().all(|p| p.len() == 1 && p[0].result.is_some()), "every sweep has its second pulse");
        assert!((c.pulse_interval_ms - 50.0).abs() < 0.2, "{}", c.pulse_interval_ms);
        eprintln!("paired-pulse ratio {:.4} (truth 1.5)", c.paired_pulse_ratio);
        assert!((c.paired_pulse_ratio - 1.5).abs() / 1.5 < 0.03, "{}", c.paired_pulse_ratio);
        // the first pulse is measured as a single stimulus would be
        for (sw, truth) in c.sweeps.iter().zip(&with.sweeps) {
            let a = sw.result.as_ref().unwrap().amplitude_pa;
            assert!((a - truth.truth.amplitude_pa).abs() < 0.05 * truth.truth.amplitude_pa.abs(), "{a}");
        }
        let t = tables(std::slice::from_ref(&c), &[]);
        let sweeps_table = &t[0];
        let Some(ColumnData::I64(pulse)) = sweeps_table.column("pulse") else { panic!("pulse is an integer column") };
        assert_eq!(*pulse, (0..12).flat_map(|_| [0, 1]).collect::<Vec<i64>>());
        let Some(ColumnData::F64(stim)) = sweeps_table.column("stim_ms") else { panic!("stim_ms") };
        assert!((stim[1] - stim[0] - 50.0).abs() < 0.2);
        let Some(ColumnData::F64(ppr)) = t[1].column("paired_pulse_ratio") else { panic!("paired_pulse_ratio") };
        assert!((ppr[0] - c.paired_pulse_ratio).abs() < 1e-12);
    }
}
