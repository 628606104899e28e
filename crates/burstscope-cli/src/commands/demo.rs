//! `burstscope demo`: the README's first command. Generates a tetrode session
//! and a slice dataset, detects spikes and scores them against the truth,
//! detects bursts in the session's units with every method (scored against the
//! generated bursts), runs the pre/post-ketamine metrics, statistics and
//! figures, and writes `report.md`.

use super::generate::{write_slice_dataset, write_tetrode_session};
use super::inspect::render;
use super::write_json;
use crate::Outcome;
use crate::args::{BurstsArgs, DemoArgs, DetectArgs, EpscArgs, MappingArgs, MethodArg, Orientation, TableFormat};
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
    eprintln!("[1/6] generating a {} s, {}-channel tetrode session", a.duration, a.tetrodes * 4);
    let session = write_tetrode_session(&params, &a.out.join("session.nwb"), 0)?;
    eprintln!("[2/6] generating a slice dataset ({} cells per region, LHb and CA1)", a.cells_per_region);
    let slice_dir = a.out.join("slices");
    let cells = write_slice_dataset(
        &SliceParams::default(),
        &slice_dir,
        &["LHb".to_string(), "CA1".to_string()],
        a.cells_per_region,
        usize::from(a.cells_per_region > 1),
        a.seed,
    )?;
    eprintln!("[3/6] detecting spikes in the session");
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
    eprintln!("[4/6] bursts, metrics, statistics and figures (pre vs post ketamine)");
    let b = super::bursts::run(&BurstsArgs {
        input: session.nwb.clone(),
        out: a.out.join("bursts"),
        method: MethodArg::Lhb,
        config: None,
        start_isi_ms: None,
        end_isi_ms: None,
        silence_ms: None,
        min_spikes: None,
        drug_at: None,
        baseline: None,
        post: None,
        exclude_after: 0.0,
        drug_name: None,
        bin: 60.0,
        format: TableFormat::Parquet,
        no_figures: false,
    })?;
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&session.truth)
            .with_context(|| format!("{}: cannot read", session.truth.display()))?,
    )?;
    let scores = score_methods(&b.units, &truth)?;
    eprintln!("[5/6] slice EPSCs: per sweep, per cell, LHb vs CA1");
    let ep = super::epsc::run(&EpscArgs {
        paths: vec![slice_dir.clone()],
        out: a.out.join("epsc"),
        latency_ms: None,
        last_sweeps: None,
        last_minutes: None,
        stim_ms: None,
        holding_mv: None,
        test_pulse: None,
        cells: None,
        config: None,
        include_failed: false,
        format: TableFormat::Parquet,
        no_figures: false,
    })?;
    let slice_acc = slice_accuracy(&ep.cells)?;
    eprintln!("[6/6] writing the report");
    let mut report = String::from("# burstscope demo\n\n");
    let _ = writeln!(
        report,
        "A synthetic in vivo session (`{}`: {} tetrodes, {} s, ketamine at {} s; truth in `{}`) and {} \
         voltage-clamp slice cells in `{}`, generated in {:.1} s.\n",
        session.nwb.display(),
        a.tetrodes,
        a.duration,
        params.injection(),
        session.truth.display(),
        cells.len(),
        slice_dir.display(),
        session.seconds
    );
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
        "## Bursts\n\nEvery method on the session's {} units, scored against the generated bursts (a burst is \
         recovered when unit, first spike and spike count agree). Tonic units fire chance pairs and runs \
         that a rule may call bursts, so precision is also given on the bursting units alone.\n\n\
         | method | bursts | recall | precision | precision (bursting units) |\n|---|---|---|---|---|",
        b.units.len()
    );
    for s in &scores {
        let _ = writeln!(report, "| `{}` | {} | {:.3} | {:.3} | {:.3} |", s.0, s.1, s.2, s.3, s.4);
    }
    let an = &b.analysis;
    if an.windows.len() == 2 {
        let _ = writeln!(
            report,
            "\n## {} vs {} (`lhb` bursts; tables in `{}`)\n\nWindows {:.0}–{:.0} s and {:.0}–{:.0} s (injection at {} s). \
             Per unit, mean ± SEM, n = {} units; \
             Wilcoxon signed-rank (scipy's defaults), Holm-adjusted across the metrics.\n\n\
             | metric | {} | {} | Wilcoxon p | Holm p | paired t p |\n|---|---|---|---|---|---|",
            an.windows[0].name,
            an.windows[1].name,
            a.out.join("bursts").display(),
            an.windows[0].start_s,
            an.windows[0].stop_s,
            an.windows[1].start_s,
            an.windows[1].stop_s,
            an.drug_at_s.map_or_else(|| "?".into(), |t| format!("{t:.0}")),
            b.units.len(),
            an.windows[0].name,
            an.windows[1].name
        );
        for (name, label) in super::bursts::TESTED {
            let w = an.stats.iter().find(|r| r.metric == name && r.result.test == "wilcoxon");
            let t = an.stats.iter().find(|r| r.metric == name && r.result.test == "ttest_rel");
            if let (Some(w), Some(t)) = (w, t) {
                let _ = writeln!(
                    report,
                    "| {label} | {:.3} ± {:.3} | {:.3} ± {:.3} | {} | {} | {} |",
                    w.pre.mean,
                    w.pre.sem,
                    w.post.mean,
                    w.post.sem,
                    burstscope_stats::format_p(w.result.p_value),
                    burstscope_stats::format_p(w.p_holm),
                    burstscope_stats::format_p(t.result.p_value)
                );
            }
        }
    }
    let lfp = a.out.join("bursts").join("lfp_bands.parquet");
    if lfp.exists() {
        let t = burstscope_tables::read_table(&lfp)?;
        if let (
            Some(burstscope_core::ColumnData::Str(g)),
            Some(burstscope_core::ColumnData::Str(w)),
            Some(burstscope_core::ColumnData::Str(band)),
            Some(burstscope_core::ColumnData::F64(p)),
        ) = (t.column("group"), t.column("window"), t.column("band"), t.column("power_uv2"))
            && an.windows.len() == 2
        {
            let _ = writeln!(
                report,
                "\n## LFP (`lfp_bands`)\n\nTheta power (4–12 Hz, Welch on the decimated group mean) per tetrode; \
                 the generator halves theta amplitude after the injection (expected ratio 0.25).\n\n\
                 | group | {} (µV²) | {} (µV²) | ratio |\n|---|---|---|---|",
                an.windows[0].name, an.windows[1].name
            );
            let find = |grp: &str, win: &str| {
                (0..g.len()).find(|&i| g[i] == grp && w[i] == win && band[i] == "theta").map(|i| p[i])
            };
            let mut groups: Vec<&String> = g.iter().collect();
            groups.dedup();
            for grp in groups {
                if let (Some(x), Some(y)) = (find(grp, &an.windows[0].name), find(grp, &an.windows[1].name)) {
                    let _ = writeln!(report, "| {grp} | {x:.1} | {y:.1} | {:.3} |", y / x);
                }
            }
        }
    }
    let _ = writeln!(
        report,
        "\n## Slices: NMDAR EPSCs, LHb vs CA1 (`{}`)\n\n{} cells; per sweep against the generator's truth \
         (median over sweeps): amplitude error {:.2} %, access resistance error {:.2} %; weighted decay τ error \
         {:.1} % (median over cells' baseline sweeps).\n\n\
         | cell | region | baseline (pA) | block (%) | block per stimulus | QC |\n|---|---|---|---|---|---|",
        a.out.join("epsc").display(),
        ep.cells.len(),
        100.0 * slice_acc.0,
        100.0 * slice_acc.1,
        100.0 * slice_acc.2
    );
    for c in &ep.cells {
        let _ = writeln!(
            report,
            "| {} | {} | {:.1} | {:.1} | {} | {} |",
            c.cell,
            c.region,
            c.summary.baseline_amplitude_pa,
            c.summary.block_pct,
            c.summary
                .use_dependence
                .as_ref()
                .filter(|u| u.determined)
                .map_or_else(|| "not determined".to_string(), |u| format!("{:.3}", u.block_per_stimulus)),
            if c.summary.qc_pass { "pass".to_string() } else { format!("fail: {}", c.summary.qc_reasons.join("; ")) }
        );
    }
    let _ = writeln!(
        report,
        "\n| group | metric | n | mean | SEM | test | statistic | p |\n|---|---|---|---|---|---|---|---|"
    );
    for r in &ep.group_stats {
        let _ = writeln!(
            report,
            "| {} | {} | {} | {:.2} | {:.2} | {} | {:.3} | {} |",
            r.group,
            r.metric,
            r.n,
            r.mean,
            r.sem,
            r.test,
            r.statistic,
            burstscope_stats::format_p(r.p_value)
        );
    }
    let _ = writeln!(report, "\n## Figures\n");
    for (label, png) in b.figures.iter().chain(&ep.figures) {
        let rel = png.strip_prefix(&a.out).unwrap_or(png);
        let _ = writeln!(
            report,
            "**{label}** ({}, also `.svg` and `.pdf`)\n\n![{label}]({})\n",
            rel.display(),
            rel.display()
        );
    }
    let _ = writeln!(report, "## Files\n");
    let mut summaries = Vec::new();
    for path in std::iter::once(&session.nwb).chain(cells.iter().take(2)) {
        let s = Recording::open(path)?.summary()?;
        let text = render(&s);
        let _ = writeln!(report, "```\n{text}```\n");
        summaries.push(s);
    }
    burstscope_core::write_atomic(&a.out.join("report.md"), report.as_bytes())?;
    write_json(&a.out.join("inspect.json"), &summaries)?;
    eprintln!("demo finished in {:.1} s; see {}", t0.elapsed().as_secs_f64(), a.out.join("report.md").display());
    Ok(Outcome::Success)
}

/// (method, bursts, recall, precision, precision on bursting units).
type MethodScore = (&'static str, usize, f64, f64, f64);

/// Every method against the generator's bursts.
fn score_methods(units: &[super::bursts::UnitTrain], truth: &serde_json::Value) -> Result<Vec<MethodScore>> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut want: BTreeSet<(String, u64, u64)> = BTreeSet::new();
    let mut kind: BTreeMap<String, String> = BTreeMap::new();
    for u in truth["units"].as_array().context("truth: no units")? {
        let id = u["id"].as_i64().context("truth: unit id")?.to_string();
        kind.insert(id.clone(), u["kind"].as_str().unwrap_or("").to_string());
        let firsts = u["burst_first_spike"].as_array().context("truth: burst_first_spike")?;
        for (b, f) in u["bursts"].as_array().context("truth: bursts")?.iter().zip(firsts) {
            want.insert((id.clone(), f.as_u64().unwrap_or(u64::MAX), b[2].as_u64().unwrap_or(0)));
        }
    }
    let mut out = Vec::new();
    for name in burstscope_bursts::METHOD_NAMES {
        let method = burstscope_bursts::Method::from_name(name).context("method")?;
        let mut found: BTreeSet<(String, u64, u64)> = BTreeSet::new();
        for u in units {
            for b in
                burstscope_bursts::detect(&u.times, &method).map_err(|e| anyhow::anyhow!("unit {}: {e}", u.label))?
            {
                found.insert((u.label.clone(), b.first as u64, b.n_spikes as u64));
            }
        }
        let hit = found.intersection(&want).count() as f64;
        let on_b: Vec<_> = found.iter().filter(|f| kind.get(&f.0).is_some_and(|k| k == "burst")).collect();
        let hit_b = on_b.iter().filter(|f| want.contains(f)).count() as f64;
        out.push((
            name,
            found.len(),
            hit / want.len().max(1) as f64,
            hit / found.len().max(1) as f64,
            hit_b / on_b.len().max(1) as f64,
        ));
    }
    Ok(out)
}

/// (amplitude, access) median relative errors over all sweeps, and the median
/// weighted-τ error over cells, against the generated slice truth.
fn slice_accuracy(cells: &[super::epsc::CellData]) -> Result<(f64, f64, f64)> {
    let median = |mut v: Vec<f64>| -> f64 {
        v.retain(|x| x.is_finite());
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (mut amp, mut rs, mut tau) = (Vec::new(), Vec::new(), Vec::new());
    for c in cells {
        let truth_path = c.file.with_extension("truth.json");
        let t: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&truth_path).with_context(|| format!("{}: cannot read", truth_path.display()))?,
        )?;
        let ts = t["sweeps"].as_array().context("truth: sweeps")?;
        for (s, tr) in c.sweeps.iter().zip(ts) {
            if let Some(r) = &s.result {
                let a = tr["amplitude_pA"].as_f64().unwrap_or(f64::NAN);
                let q = tr["rs_MOhm"].as_f64().unwrap_or(f64::NAN);
                amp.push((r.amplitude_pa - a).abs() / a);
                rs.push((r.rs_mohm - q).abs() / q);
            }
        }
        let want = t["tau_weighted_s"].as_f64().unwrap_or(f64::NAN) * 1e3;
        let got = median(
            c.sweeps
                .iter()
                .filter(|s| s.condition == "baseline")
                .filter_map(|s| s.result.as_ref().map(|r| r.tau_weighted_ms))
                .collect(),
        );
        tau.push((got - want).abs() / want);
    }
    Ok((median(amp), median(rs), median(tau)))
}
