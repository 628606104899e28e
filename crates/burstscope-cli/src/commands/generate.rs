//! `burstscope generate tetrode|slices|dataset`: synthetic NWB files with ground truth.

use super::{Bars, settings};
use crate::Outcome;
use crate::args::{DatasetArgs, SlicesArgs, TetrodeArgs};
use anyhow::Result;
use burstscope_pipeline::generate::{DatasetParams, write_dataset, write_slice_dataset, write_tetrode_session};
use burstscope_synth::{SliceParams, TetrodeParams};

/// Resolves the parameters from the config file and flags.
pub(crate) fn tetrode_params(a: &TetrodeArgs) -> Result<TetrodeParams> {
    let mut p: TetrodeParams = settings(a.config.as_deref())?;
    if let Some(v) = a.tetrodes {
        p.n_tetrodes = v;
    }
    if let Some(v) = a.duration {
        p.duration_s = v;
    }
    if let Some(v) = a.rate {
        p.rate_hz = v;
    }
    if a.injection.is_some() {
        p.injection_s = a.injection;
    }
    if let Some(v) = a.units_per_tetrode {
        p.units_per_tetrode = v;
    }
    if let Some(v) = a.ketamine_burst_factor {
        p.ketamine_burst_factor = v;
    }
    if let Some(v) = a.seed {
        p.seed = v;
    }
    p.validate()?;
    Ok(p)
}

pub(crate) fn tetrode(a: &TetrodeArgs) -> Result<Outcome> {
    let params = tetrode_params(a)?;
    let o = write_tetrode_session(&params, &a.out, a.gzip, &Bars::default())?;
    eprintln!("wrote {} and {} in {:.1} s", o.nwb.display(), o.truth.display(), o.seconds);
    Ok(Outcome::Success)
}

pub(crate) fn slices(a: &SlicesArgs) -> Result<Outcome> {
    let base: SliceParams = settings(a.config.as_deref())?;
    let written = write_slice_dataset(&base, &a.out, &a.regions, a.cells_per_region, a.drift_cells, a.seed)?;
    eprintln!("wrote {} cells to {}", written.len(), a.out.display());
    Ok(Outcome::Success)
}

/// `generate dataset`.
pub(crate) fn dataset(a: &DatasetArgs) -> Result<Outcome> {
    let d = DatasetParams {
        animals: a.animals,
        sessions_per_animal: a.sessions,
        session_s: a.duration,
        tetrodes: a.tetrodes,
        slice_animals: a.slice_animals,
        cells_per_region: a.cells_per_region,
        seed: a.seed,
        ..DatasetParams::default()
    };
    let t0 = std::time::Instant::now();
    let o = write_dataset(&d, &a.out)?;
    eprintln!(
        "{} sessions in {:.1} s -> {} (truth: {})",
        o.sessions,
        t0.elapsed().as_secs_f64(),
        o.manifest.display(),
        o.truth.display()
    );
    Ok(Outcome::Success)
}
