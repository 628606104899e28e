//! `burstscope cclamp`: flags and `--config` into a [`CclampConfig`], then the
//! pipeline's current-clamp stage; a bad file among several is reported and
//! skipped.

use super::{print_warnings, settings, table_format};
use crate::Outcome;
use crate::args::CclampArgs;
use anyhow::Result;
use burstscope_pipeline::{CclampConfig, CclampSettings, run_cclamp};

/// Runs `burstscope cclamp`.
pub(crate) fn run(a: &CclampArgs) -> Result<Outcome> {
    let mut s: CclampSettings = settings(a.config.as_deref())?;
    if let Some(v) = a.dvdt_threshold {
        s.aps.dvdt_threshold_v_per_s = v;
    }
    if let Some(f) = a.format {
        s.format = table_format(f);
    }
    if a.no_figures {
        s.figures = false;
    }
    let cfg = CclampConfig::new(s)?;
    let r = run_cclamp(&a.paths, &a.out, &cfg)?;
    print_warnings(&r.warnings);
    eprintln!(
        "{} cells, {} sweeps, {} action potentials → {}",
        r.cells.len(),
        r.cells.iter().map(|c| c.sweeps.len()).sum::<usize>(),
        r.cells.iter().flat_map(|c| c.sweeps.iter()).map(|s| s.firing.aps.len()).sum::<usize>(),
        a.out.display()
    );
    Ok(if r.failed.is_empty() { Outcome::Success } else { Outcome::Partial })
}
