//! Synthetic recordings with ground truth written as NWB: a tetrode session
//! and a slice dataset (`generate`, and the demo's inputs).

use crate::Progress;
use crate::error::{Result, bail, file_err};
use crate::output::write_json;
use burstscope_core::{Epoch, Unit};
use burstscope_io::{ElectricalSeriesSpec, NwbSession, NwbWriter, SweepSpec};
use burstscope_synth::{RENDER_BLOCK, SliceCell, SliceParams, TetrodeParams, TetrodeSession};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Fixed session start so that the same parameters give the same file content.
const SESSION_START: &str = "2026-01-01T10:00:00+00:00";

/// What `generate tetrode` wrote.
#[derive(Debug)]
pub struct TetrodeOutput {
    /// The NWB file.
    pub nwb: PathBuf,
    /// Its truth JSON.
    pub truth: PathBuf,
    /// Wall time, s.
    pub seconds: f64,
}

/// Generates and writes a session to `out` (NWB) and `out.truth.json`.
///
/// # Errors
/// Invalid parameters, or the files cannot be written.
pub fn write_tetrode_session(
    params: &TetrodeParams,
    out: &Path,
    gzip: u8,
    progress: &dyn Progress,
) -> Result<TetrodeOutput> {
    let t0 = Instant::now();
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(file_err(parent))?;
    }
    let session = TetrodeSession::new(params.clone())?;
    let p = &session.params;
    let nwb = session_header(&session, out)?;
    let n_ch = session.n_channels();
    let series = nwb.add_electrical_series(&ElectricalSeriesSpec {
        name: "ElectricalSeries".into(),
        n_samples: p.n_samples(),
        electrode_rows: (0..n_ch).collect(),
        rate_hz: p.rate_hz,
        conversion: p.conversion_v,
        chunk_samples: RENDER_BLOCK,
        gzip_level: gzip,
        description: "wide-band signal (synthetic)".into(),
        starting_time_s: 0.0,
        channel_conversion: None,
    })?;
    let n_blocks = session.n_blocks();
    let batch = (2 * rayon::current_num_threads()).max(4);
    progress.start(n_blocks as u64, "generating");
    let mut next = session.render_blocks(0..batch.min(n_blocks));
    let mut b0 = 0;
    while b0 < n_blocks {
        let cur = std::mem::take(&mut next);
        let b1 = (b0 + cur.len()).min(n_blocks);
        let (written, rendered) = rayon::join(
            || -> Result<()> {
                for (k, block) in cur.iter().enumerate() {
                    series.write_block((b0 + k) * RENDER_BLOCK, block)?;
                    progress.inc(1);
                }
                Ok(())
            },
            || session.render_blocks(b1..(b1 + batch).min(n_blocks)),
        );
        written?;
        next = rendered;
        b0 = b1;
    }
    progress.finish();
    drop(series);
    let (nwb_path, truth_path) = session_footer(nwb, &session, out, "burstscope generate tetrode")?;
    let seconds = t0.elapsed().as_secs_f64();
    tracing::info!("wrote {} ({n_ch} channels, {} s) in {seconds:.2} s", nwb_path.display(), p.duration_s);
    Ok(TetrodeOutput { nwb: nwb_path, truth: truth_path, seconds })
}

/// A session file's metadata, device, tetrode groups and electrodes.
fn session_header(session: &TetrodeSession, out: &Path) -> Result<NwbWriter> {
    let p = &session.params;
    let inj = p.injection();
    let nwb = NwbWriter::create(
        out,
        &NwbSession {
            identifier: format!("burstscope-synthetic-tetrode-seed{}", p.seed),
            session_description: format!(
                "burstscope synthetic tetrode session: {} tetrodes, {} s at {} Hz, ketamine at {inj} s",
                p.n_tetrodes, p.duration_s, p.rate_hz
            ),
            session_start_time: SESSION_START.into(),
            pharmacology: Some(format!("ketamine 10 mg/kg i.p. at t={inj} s (synthetic)")),
            experimenter: vec!["burstscope generator".into()],
            subject: vec![
                ("subject_id".into(), format!("synthetic-{}", p.seed)),
                ("species".into(), "Rattus norvegicus".into()),
                ("description".into(), "synthetic animal".into()),
            ],
        },
    )?;
    nwb.add_device("drive", "tetrode microdrive (synthetic)")?;
    let mut rows = Vec::new();
    for t in 0..p.n_tetrodes {
        let name = format!("tetrode{t}");
        nwb.add_electrode_group(&name, "tetrode", &p.location, "drive")?;
        for _ in 0..4 {
            rows.push((name.clone(), p.location.clone()));
        }
    }
    nwb.add_electrodes(&rows)?;
    Ok(nwb)
}

/// The session's units (the truth), epochs and truth JSON; closes the file.
fn session_footer(nwb: NwbWriter, session: &TetrodeSession, out: &Path, generator: &str) -> Result<(PathBuf, PathBuf)> {
    let p = &session.params;
    let inj = p.injection();
    let n_ch = session.n_channels();
    let units: Vec<Unit> = session
        .units
        .iter()
        .map(|u| Unit {
            id: u.id,
            label: u.id.to_string(),
            spike_times_s: u.spike_times_s.clone(),
            electrode_group: Some(format!("tetrode{}", u.tetrode)),
            obs_intervals_s: Vec::new(),
            columns: BTreeMap::new(),
        })
        .collect();
    let kinds: Vec<String> = session.units.iter().map(|u| u.kind.name().to_string()).collect();
    nwb.add_units(&units, &[("kind", "ground truth firing pattern", kinds)])?;
    nwb.add_epochs(&[
        Epoch { start_s: 0.0, stop_s: inj, tags: vec!["baseline".into()] },
        Epoch { start_s: inj, stop_s: p.duration_s, tags: vec!["ketamine".into()] },
    ])?;
    let nwb_path = nwb.finish()?;
    let truth_path = truth_path_for(out);
    let truth = json!({
        "generator": generator,
        "version": burstscope_core::program_version(),
        "params": p,
        "fs": p.rate_hz,
        "duration_s": p.duration_s,
        "ketamine_s": inj,
        "n_channels": n_ch,
        "units": session.units.iter().map(|u| json!({
            "id": u.id,
            "tetrode": u.tetrode,
            "kind": u.kind.name(),
            "n_spikes": u.spike_times_s.len(),
            "peak_uV": u.peak_uv,
            "bursts": u.bursts.iter().map(|b| json!([b.start_s, b.end_s, b.n_spikes])).collect::<Vec<_>>(),
            "burst_first_spike": u.bursts.iter().map(|b| b.first_spike).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    write_json(&truth_path, &truth)?;
    Ok((nwb_path, truth_path))
}

/// Writes a session's units (spike times of the truth, electrodes, groups,
/// epochs) without the wide-band signal: what a sorted recording holds, in
/// kilobytes instead of gigabytes. Same spike trains as
/// [`write_tetrode_session`] with the same parameters.
///
/// # Errors
/// Invalid parameters, or the files cannot be written.
pub fn write_units_session(params: &TetrodeParams, out: &Path) -> Result<TetrodeOutput> {
    let t0 = Instant::now();
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(file_err(parent))?;
    }
    let session = TetrodeSession::new(params.clone())?;
    let nwb = session_header(&session, out)?;
    let (nwb, truth) = session_footer(nwb, &session, out, "burstscope generate dataset")?;
    Ok(TetrodeOutput { nwb, truth, seconds: t0.elapsed().as_secs_f64() })
}

/// A synthetic study for `batch`: animals in two groups, each with unit
/// sessions around a ketamine injection, and slice cells.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetParams {
    /// Animals (alternately `cLH` and `control`).
    pub animals: usize,
    /// Unit sessions per animal.
    pub sessions_per_animal: usize,
    /// Session length, s (ketamine half-way).
    pub session_s: f64,
    /// Tetrodes per session.
    pub tetrodes: usize,
    /// Animals that also give slice cells (the first ones).
    pub slice_animals: usize,
    /// Slice cells per region (LHb, CA1) per slice animal.
    pub cells_per_region: usize,
    /// Mean ketamine burst factor (post / pre burst rate) in `cLH` animals.
    pub clh_ketamine_burst_factor: f64,
    /// ... and in `control` animals.
    pub control_ketamine_burst_factor: f64,
    /// SD of an animal's ln(burst factor) around its group's.
    pub animal_sd: f64,
    /// Baseline burst rate, Hz: `cLH`, `control`.
    pub burst_rate_hz: (f64, f64),
    /// Seed.
    pub seed: u64,
}

impl Default for DatasetParams {
    fn default() -> Self {
        Self {
            animals: 20,
            sessions_per_animal: 4,
            session_s: 1800.0,
            tetrodes: 4,
            slice_animals: 4,
            cells_per_region: 3,
            clh_ketamine_burst_factor: 0.3,
            control_ketamine_burst_factor: 0.8,
            animal_sd: 0.3,
            burst_rate_hz: (0.8, 0.4),
            seed: 1,
        }
    }
}

/// What `generate dataset` wrote.
#[derive(Debug, Clone)]
pub struct DatasetOutput {
    /// The manifest (`manifest.csv`).
    pub manifest: PathBuf,
    /// The truth (`truth.json`: each animal's group and ketamine burst factor).
    pub truth: PathBuf,
    /// Sessions in the manifest.
    pub sessions: usize,
}

/// Writes a study into `dir`: `units/<animal>-s<k>.nwb` per unit session,
/// `slices/<animal>/` per slice animal, `manifest.csv` for `batch`, and
/// `truth.json` with every animal's group and ketamine burst factor
/// (log-normal around its group's mean, SD `animal_sd`).
///
/// # Errors
/// Invalid parameters, or the files cannot be written.
pub fn write_dataset(d: &DatasetParams, dir: &Path) -> Result<DatasetOutput> {
    use rayon::prelude::*;
    if d.animals == 0 || d.sessions_per_animal == 0 && d.slice_animals == 0 {
        bail!("--animals and --sessions (or --slice-animals) must give at least one session");
    }
    if d.slice_animals > d.animals {
        bail!("--slice-animals ({}) exceeds --animals ({})", d.slice_animals, d.animals);
    }
    for (f, v) in [
        ("clh_ketamine_burst_factor", d.clh_ketamine_burst_factor),
        ("control_ketamine_burst_factor", d.control_ketamine_burst_factor),
    ] {
        if !(v.is_finite() && v > 0.0) {
            bail!("{f} = {v}: expected a factor > 0");
        }
    }
    if !(d.animal_sd.is_finite() && d.animal_sd >= 0.0) {
        bail!("animal_sd = {}: expected ≥ 0", d.animal_sd);
    }
    std::fs::create_dir_all(dir).map_err(file_err(dir))?;
    let mut rng = burstscope_synth::Rng::new(d.seed, 7);
    let animals: Vec<(String, &str, f64)> = (0..d.animals)
        .map(|a| {
            let clh = a % 2 == 0;
            let mean = if clh { d.clh_ketamine_burst_factor } else { d.control_ketamine_burst_factor };
            let factor = (mean.ln() + d.animal_sd * rng.normal()).exp();
            (format!("rat{:02}", a + 1), if clh { "cLH" } else { "control" }, factor)
        })
        .collect();
    let jobs: Vec<(usize, usize)> =
        (0..d.animals).flat_map(|a| (0..d.sessions_per_animal).map(move |k| (a, k))).collect();
    let written: Vec<PathBuf> = jobs
        .par_iter()
        .map(|&(a, k)| {
            let (name, group, factor) = &animals[a];
            let p = TetrodeParams {
                n_tetrodes: d.tetrodes,
                duration_s: d.session_s,
                burst_rate_hz: if *group == "cLH" { d.burst_rate_hz.0 } else { d.burst_rate_hz.1 },
                ketamine_burst_factor: *factor,
                seed: d.seed.wrapping_mul(10_000).wrapping_add((a * 100 + k) as u64),
                ..TetrodeParams::default()
            };
            let out = dir.join("units").join(format!("{name}-s{}.nwb", k + 1));
            write_units_session(&p, &out).map(|o| o.nwb)
        })
        .collect::<Result<_>>()?;
    let mut lines = vec!["session,path,kind,subject,group,region,drug,drug_at_s,config,tags".to_string()];
    for (&(a, k), path) in jobs.iter().zip(&written) {
        let (name, group, _) = &animals[a];
        let rel = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        lines.push(format!("{name}-s{},{rel},units,{name},{group},LHb,ketamine,{},,", k + 1, d.session_s / 2.0));
    }
    for (a, (name, group, _)) in animals.iter().enumerate().take(d.slice_animals) {
        let cells = dir.join("slices").join(name);
        write_slice_dataset(
            &SliceParams::default(),
            &cells,
            &["LHb".to_string(), "CA1".to_string()],
            d.cells_per_region.max(1),
            0,
            d.seed.wrapping_mul(77).wrapping_add(a as u64),
        )?;
        lines.push(format!("{name}-slices,slices/{name},slice,{name},{group},LHb,ketamine,,,slice"));
    }
    let manifest = dir.join("manifest.csv");
    burstscope_core::write_file(&manifest, (lines.join("\n") + "\n").as_bytes()).map_err(file_err(&manifest))?;
    let truth = dir.join("truth.json");
    write_json(
        &truth,
        &json!({
            "generator": "burstscope generate dataset",
            "version": burstscope_core::program_version(),
            "params": d,
            "animals": animals.iter().map(|(n, g, f)| json!({"subject": n, "group": g, "ketamine_burst_factor": f})).collect::<Vec<_>>(),
        }),
    )?;
    Ok(DatasetOutput { manifest, truth, sessions: lines.len() - 1 })
}

/// `x.nwb` → `x.truth.json`.
#[must_use]
pub fn truth_path_for(nwb: &Path) -> PathBuf {
    nwb.with_extension("truth.json")
}

/// Writes `cells_per_region` cells per region into `dir`.
///
/// # Errors
/// Invalid parameters, or the files cannot be written.
pub fn write_slice_dataset(
    base: &SliceParams,
    dir: &Path,
    regions: &[String],
    cells_per_region: usize,
    drift_cells: usize,
    seed: u64,
) -> Result<Vec<PathBuf>> {
    if cells_per_region == 0 || regions.is_empty() {
        bail!("--cells-per-region and --regions must name at least one cell");
    }
    if drift_cells > cells_per_region {
        bail!("--drift-cells ({drift_cells}) exceeds --cells-per-region ({cells_per_region})");
    }
    std::fs::create_dir_all(dir).map_err(file_err(dir))?;
    let jobs: Vec<(String, usize)> =
        regions.iter().flat_map(|r| (1..=cells_per_region).map(move |k| (r.clone(), k))).collect();
    let cells = jobs
        .iter()
        .enumerate()
        .map(|(i, (region, k))| {
            let mut p = base.clone();
            p.region.clone_from(region);
            p.cell_id = format!("{region}-{k:02}");
            p.seed = seed.wrapping_mul(1000).wrapping_add(i as u64);
            // Cells differ: amplitude, decay and access within physiological ranges.
            let mut rng = burstscope_synth::Rng::new(p.seed, 99);
            p.amplitude_pa *= rng.range(0.8, 1.2);
            p.tau_fast_s *= rng.range(0.8, 1.25);
            p.rs_mohm = rng.range(10.0, 18.0);
            if *k > cells_per_region - drift_cells {
                p.rs_drift = 0.6;
            }
            Ok((format!("{region}_cell{k:02}"), SliceCell::new(p)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut written = Vec::new();
    for (stem, cell) in &cells {
        let path = dir.join(format!("{stem}.nwb"));
        write_slice_cell(cell, &path)?;
        written.push(path);
    }
    Ok(written)
}

fn write_slice_cell(cell: &SliceCell, path: &Path) -> Result<()> {
    let p = &cell.params;
    let nwb = NwbWriter::create(
        path,
        &NwbSession {
            identifier: format!("burstscope-synthetic-slice-{}-seed{}", p.cell_id, p.seed),
            session_description: format!(
                "burstscope synthetic whole-cell voltage clamp at {} mV, NMDAR EPSCs, {} wash-in",
                p.holding_mv, p.drug
            ),
            session_start_time: SESSION_START.into(),
            pharmacology: Some(format!(
                "{} bath-applied at t={} s; AMPA and GABA-A receptors blocked (synthetic)",
                p.drug, cell.drug_on_s
            )),
            experimenter: vec!["burstscope generator".into()],
            subject: vec![("subject_id".into(), format!("synthetic-{}", p.cell_id))],
        },
    )?;
    nwb.add_device("amplifier", "patch-clamp amplifier (synthetic)")?;
    nwb.add_ic_electrode("elec0", "amplifier", "whole-cell patch electrode", &p.region, &p.cell_id)?;
    for s in &cell.sweeps {
        let k = s.truth.sweep;
        nwb.add_voltage_clamp_sweep(&SweepSpec {
            name: format!("response_{k:03}"),
            stimulus_name: format!("stimulus_{k:03}"),
            sweep_number: k,
            starting_time_s: s.truth.start_s,
            rate_hz: p.rate_hz,
            response_a: &s.response_a,
            command_v: &s.command_v,
            stimulus_description: s.truth.condition.clone(),
            electrode: "elec0".into(),
        })?;
    }
    let last = cell.sweeps.last().map_or(0.0, |s| s.truth.start_s + p.sweep_s);
    nwb.add_epochs(&[
        Epoch { start_s: 0.0, stop_s: cell.drug_on_s, tags: vec!["baseline".into()] },
        Epoch { start_s: cell.drug_on_s, stop_s: last, tags: vec![p.drug.clone()] },
    ])?;
    nwb.finish()?;
    let truth = json!({
        "generator": "burstscope generate slices",
        "version": burstscope_core::program_version(),
        "params": p,
        "region": p.region,
        "cell": p.cell_id,
        "fs": p.rate_hz,
        "treatment": p.drug,
        "stim_s": p.stim_s,
        "tau_rise_s": p.tau_rise_s,
        "tau_fast_s": p.tau_fast_s,
        "tau_slow_s": p.tau_slow_s,
        "frac_fast": p.frac_fast,
        "tau_weighted_s": cell.tau_weighted_s,
        "drug_on_s": cell.drug_on_s,
        "sweeps": cell.sweeps.iter().map(|s| &s.truth).collect::<Vec<_>>(),
    });
    write_json(&truth_path_for(path), &truth)
}
