//! `burstscope demo`: the README's first command. Generates a tetrode session
//! and a slice dataset, then summarises them; later stages extend it into the
//! full analysis.

use super::generate::{write_slice_dataset, write_tetrode_session};
use super::inspect::render;
use super::write_json;
use crate::Outcome;
use crate::args::DemoArgs;
use anyhow::{Context, Result};
use burstscope_io::Recording;
use burstscope_synth::{SliceParams, TetrodeParams};
use std::fmt::Write as _;
use std::time::Instant;

pub(crate) fn run(a: &DemoArgs) -> Result<Outcome> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&a.out).with_context(|| format!("{}: cannot create folder", a.out.display()))?;
    let params =
        TetrodeParams { n_tetrodes: a.tetrodes, duration_s: a.duration, seed: a.seed, ..TetrodeParams::default() };
    params.validate()?;
    eprintln!("[1/3] generating a {} s, {}-channel tetrode session", a.duration, a.tetrodes * 4);
    let session = write_tetrode_session(&params, &a.out.join("session.nwb"), 0)?;
    eprintln!("[2/3] generating a slice dataset ({} cells per region, LHb and CA1)", a.cells_per_region);
    let slice_dir = a.out.join("slices");
    let cells = write_slice_dataset(
        &SliceParams::default(),
        &slice_dir,
        &["LHb".to_string(), "CA1".to_string()],
        a.cells_per_region,
        usize::from(a.cells_per_region > 1),
        a.seed,
    )?;
    eprintln!("[3/3] inspecting what was written");
    let mut report = String::from("# burstscope demo\n\n");
    let mut summaries = Vec::new();
    for path in std::iter::once(&session.nwb).chain(cells.iter().take(2)) {
        let s = Recording::open(path)?.summary()?;
        let text = render(&s);
        print!("{text}");
        let _ = writeln!(report, "```\n{text}```\n");
        summaries.push(s);
    }
    let _ = writeln!(
        report,
        "Generated in {:.1} s: `{}` (truth: `{}`), {} slice cells in `{}`.",
        session.seconds,
        session.nwb.display(),
        session.truth.display(),
        cells.len(),
        slice_dir.display()
    );
    burstscope_core::write_atomic(&a.out.join("report.md"), report.as_bytes())?;
    write_json(&a.out.join("inspect.json"), &summaries)?;
    eprintln!("demo finished in {:.1} s; see {}", t0.elapsed().as_secs_f64(), a.out.join("report.md").display());
    Ok(Outcome::Success)
}
