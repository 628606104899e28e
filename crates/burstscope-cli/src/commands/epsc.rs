//! `burstscope epsc`: flags and `--config` into an [`EpscConfig`], then the
//! pipeline's EPSC stage; a bad file among several is reported and skipped.

use super::{print_warnings, settings, table_format};
use crate::Outcome;
use crate::args::EpscArgs;
use anyhow::Result;
use burstscope_pipeline::{EpscConfig, EpscSettings, TestPulseSpec, run_epsc};

/// The validated config from the settings file and flags.
pub(crate) fn config(a: &EpscArgs) -> Result<EpscConfig> {
    let mut s: EpscSettings = settings(a.config.as_deref())?;
    if let Some(v) = a.latency_ms {
        s.sweep.latency_ms = v;
    }
    if let Some(v) = a.last_sweeps {
        s.cell.last_sweeps = v;
        s.cell.last_minutes = None;
    }
    if let Some(v) = a.last_minutes {
        s.cell.last_minutes = Some(v);
    }
    if a.stim_ms.is_some() {
        s.stim_ms = a.stim_ms;
    }
    if let Some((start_ms, stop_ms, step_mv)) = a.test_pulse {
        s.test_pulse = Some(TestPulseSpec { start_ms, stop_ms, step_mv });
    }
    if a.holding_mv.is_some() {
        s.holding_mv = a.holding_mv;
    }
    if a.include_failed {
        s.include_failed = true;
    }
    if let Some(f) = a.format {
        s.format = table_format(f);
    }
    if a.no_figures {
        s.figures = false;
    }
    Ok(EpscConfig::new(s)?)
}

/// Runs `burstscope epsc`.
pub(crate) fn run(a: &EpscArgs) -> Result<Outcome> {
    let cfg = config(a)?;
    let r = run_epsc(&a.paths, &a.out, &cfg, a.cells.as_deref())?;
    print_warnings(&r.warnings);
    eprintln!(
        "{} cells ({} pass QC), {} sweeps → {}",
        r.cells.len(),
        r.cells.iter().filter(|c| c.summary.qc_pass).count(),
        r.cells.iter().map(|c| c.sweeps.len()).sum::<usize>(),
        a.out.display()
    );
    Ok(if r.failed.is_empty() { Outcome::Success } else { Outcome::Partial })
}
