//! `burstscope demo`: the README's first command, through the library.

use super::Bars;
use crate::Outcome;
use crate::args::DemoArgs;
use anyhow::Result;
use burstscope_pipeline::{DemoOptions, run_demo};

pub(crate) fn run(a: &DemoArgs) -> Result<Outcome> {
    let opts = DemoOptions {
        out: a.out.clone(),
        duration_s: a.duration,
        tetrodes: a.tetrodes,
        cells_per_region: a.cells_per_region,
        seed: a.seed,
    };
    let r = run_demo(&opts, &Bars::default())?;
    eprintln!("demo finished in {:.1} s; see {}", r.seconds, r.report.display());
    Ok(Outcome::Success)
}
