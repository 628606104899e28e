//! `burstscope demo`: the README's first command. Generates a tetrode session
//! and a slice dataset, then summarises them; later stages extend it into the
//! full analysis.

use super::generate::{write_slice_dataset, write_tetrode_session};
use super::inspect::render;
use super::write_json;
use crate::Outcome;
use crate::args::{DemoArgs, DetectArgs, MappingArgs, Orientation, TableFormat};
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
    eprintln!("[1/4] generating a {} s, {}-channel tetrode session", a.duration, a.tetrodes * 4);
    let session = write_tetrode_session(&params, &a.out.join("session.nwb"), 0)?;
    eprintln!("[2/4] generating a slice dataset ({} cells per region, LHb and CA1)", a.cells_per_region);
    let slice_dir = a.out.join("slices");
    let cells = write_slice_dataset(
        &SliceParams::default(),
        &slice_dir,
        &["LHb".to_string(), "CA1".to_string()],
        a.cells_per_region,
        usize::from(a.cells_per_region > 1),
        a.seed,
    )?;
    eprintln!("[3/4] detecting spikes in the session");
    let det_dir = a.out.join("detect");
    let det = super::detect::run(&DetectArgs {
        file: session.nwb.clone(),
        out: det_dir.clone(),
        series: None,
        config: None,
        threshold: None,
        band: None,
        order: None,
        sign: None,
        reference: None,
        dead_time_ms: None,
        exclusion_ms: None,
        format: TableFormat::Parquet,
        no_waveforms: false,
        waveforms_gzip: 0,
        threads: None,
        mapping: MappingArgs {
            dataset: None,
            rate: None,
            orientation: Orientation::TimeMajor,
            conversion: 1.0,
            channels_per_group: None,
            map: None,
        },
    })?;
    let units = Recording::open(&session.nwb)?.units()?;
    let mut truth: Vec<i64> =
        units.iter().flat_map(|u| u.spike_times_s.iter().map(|t| (t * params.rate_hz).round() as i64)).collect();
    truth.sort_unstable();
    #[allow(clippy::cast_possible_truncation)]
    let m = burstscope_spikes::match_events(&truth, &det.samples, (0.4e-3 * params.rate_hz) as i64);
    eprintln!("[4/4] inspecting what was written");
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
        "## Spike detection\n\n`burstscope detect` found {} events in {:.2} s (`{}`); against the \
         generator's truth within 0.4 ms: recall {:.3}, precision {:.3} ({} true spikes).\n",
        det.samples.len(),
        det.seconds,
        det.spikes.display(),
        m.recall(),
        m.precision(),
        m.n_truth
    );
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
