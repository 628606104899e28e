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
        "generator": "burstscope generate tetrode",
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
    let seconds = t0.elapsed().as_secs_f64();
    tracing::info!("wrote {} ({n_ch} channels, {} s) in {seconds:.2} s", nwb_path.display(), p.duration_s);
    Ok(TetrodeOutput { nwb: nwb_path, truth: truth_path, seconds })
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
