//! The demo: generates a tetrode session and a slice dataset, detects
//! spikes and scores them against the truth, detects bursts with every method
//! (scored against the generated bursts), runs the pre/post-ketamine metrics,
//! statistics and figures, analyses the slice EPSCs and writes `report.md` —
//! all through the library's stages, with nothing read back from disk but
//! the generator's truth.

use crate::Progress;
use crate::bursts::{Metric, run_bursts};
use crate::config::{BurstsConfig, DetectConfig, EpscConfig};
use crate::detect::run_detect;
use crate::epsc::{CellData, run_epsc};
use crate::error::{Result, file_err};
use crate::generate::{write_slice_dataset, write_tetrode_session};
use crate::inspect::render_summary;
use crate::output::write_json;
use crate::sort::{SortConfig, SortedUnit, run_sort};
use crate::spikes_in::UnitTrain;
use burstscope_io::Recording;
use burstscope_stats::TestKind;
use burstscope_synth::{SliceParams, TetrodeParams};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

/// What the demo generates.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Session length, s.
    pub duration_s: f64,
    /// Tetrodes in the session.
    pub tetrodes: usize,
    /// Slice cells per region (LHb and CA1).
    pub cells_per_region: usize,
    /// Random seed.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self { out: PathBuf::from("out/demo"), duration_s: 300.0, tetrodes: 4, cells_per_region: 4, seed: 1 }
    }
}

/// Where the demo wrote its report.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// `report.md`.
    pub report: PathBuf,
    /// Spike detection recall and precision against the truth.
    pub detection: (f64, f64),
    /// Wall time, s.
    pub seconds: f64,
}

/// Runs the demo into `a.out`; `progress` hears each step.
///
/// # Errors
/// Any stage failed.
#[allow(clippy::too_many_lines)]
pub fn run_demo(a: &DemoOptions, progress: &dyn Progress) -> Result<DemoReport> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&a.out).map_err(file_err(&a.out))?;
    let params =
        TetrodeParams { n_tetrodes: a.tetrodes, duration_s: a.duration_s, seed: a.seed, ..TetrodeParams::default() };
    params.validate()?;
    progress.step(&format!("[1/7] generating a {} s, {}-channel tetrode session", a.duration_s, a.tetrodes * 4));
    let session = write_tetrode_session(&params, &a.out.join("session.nwb"), 0, progress)?;
    progress.step(&format!("[2/7] generating a slice dataset ({} cells per region, LHb and CA1)", a.cells_per_region));
    let slice_dir = a.out.join("slices");
    let cells = write_slice_dataset(
        &SliceParams::default(),
        &slice_dir,
        &["LHb".to_string(), "CA1".to_string()],
        a.cells_per_region,
        usize::from(a.cells_per_region > 1),
        a.seed,
    )?;
    progress.step("[3/7] detecting spikes in the session");
    let det = run_detect(&session.nwb, &a.out.join("detect"), &DetectConfig::default(), progress)?;
    let units = Recording::open(&session.nwb)?.units()?;
    let mut truth: Vec<i64> =
        units.iter().flat_map(|u| u.spike_times_s.iter().map(|t| (t * params.rate_hz).round() as i64)).collect();
    truth.sort_unstable();
    #[allow(clippy::cast_possible_truncation)]
    let m = burstscope_spikes::match_events(&truth, &det.samples, (0.4e-3 * params.rate_hz) as i64);
    progress.step("[4/7] sorting the session into units, per tetrode");
    let sorted = run_sort(&session.nwb, &a.out.join("sort"), &SortConfig::default(), progress)?;
    progress.step("[5/7] bursts, metrics, statistics and figures on the sorted units (pre vs post ketamine)");
    let bs = run_bursts(&sorted.dir.join("sorted.nwb"), &a.out.join("bursts"), &BurstsConfig::default())?;
    // The generator's own units: every burst method scored against the truth, and the LFP.
    let true_cfg = crate::config::BurstsSettings { figures: false, ..Default::default() };
    let b = run_bursts(&session.nwb, &a.out.join("bursts_true_units"), &BurstsConfig::new(true_cfg)?)?;
    let truth_text = std::fs::read_to_string(&session.truth).map_err(file_err(&session.truth))?;
    let truth: serde_json::Value = serde_json::from_str(&truth_text)
        .map_err(|e| crate::Error::Input(format!("{}: {e}", session.truth.display())))?;
    let trains: Vec<UnitTrain> = b.analysis.units.iter().map(|u| u.train.clone()).collect();
    let scores = score_methods(&trains, &truth)?;
    let sort_rows = sorting_accuracy(&units, &sorted.units, &truth, params.rate_hz);
    let recovered = burst_recovery(&units, &sorted.units, &sort_rows, &truth, params.rate_hz)?;
    progress.step("[6/7] slice EPSCs: per sweep, per cell, LHb vs CA1");
    let ep = run_epsc(std::slice::from_ref(&slice_dir), &a.out.join("epsc"), &EpscConfig::default(), None)?;
    let slice_acc = slice_accuracy(&ep.cells)?;
    progress.step("[7/7] writing the report");
    let mut report = String::from("# burstscope demo\n\n");
    let _ = writeln!(
        report,
        "A synthetic in vivo session (`{}`: {} tetrodes, {} s, ketamine at {} s; truth in `{}`) and {} \
         voltage-clamp slice cells in `{}`, generated in {:.1} s.\n",
        session.nwb.display(),
        a.tetrodes,
        a.duration_s,
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
        det.record.run.wall_s,
        det.spikes.display(),
        m.recall(),
        m.precision(),
        m.n_truth
    );
    let _ = writeln!(
        report,
        "## Spike sorting\n\n`burstscope sort` made {} units from the raw session in {:.2} s (`{}`). Each true unit \
         against its best-matching sorted unit (SpikeInterface's agreement: matches within 0.4 ms over \
         n_true + n_sorted − matches):\n\n| true unit | kind | peak (µV) | sorted unit | SNR | label | accuracy |\n|---|---|---|---|---|---|---|",
        sorted.units.len(),
        sorted.record.run.wall_s,
        sorted.dir.display()
    );
    for r in &sort_rows {
        let _ = writeln!(
            report,
            "| {} | {} | {:.0} | {} | {:.1} | {} | {:.3} |",
            r.true_id,
            r.kind,
            r.peak_uv,
            r.sorted.map_or_else(|| "—".into(), |i| sorted.units[i].id.to_string()),
            r.sorted.map_or(f64::NAN, |i| sorted.units[i].quality.snr),
            r.sorted.map_or("—", |i| sorted.units[i].label),
            r.accuracy
        );
    }
    let mean_acc = sort_rows.iter().map(|r| r.accuracy).sum::<f64>() / sort_rows.len().max(1) as f64;
    let _ = writeln!(
        report,
        "\nMean accuracy {mean_acc:.3}. True bursts (`lhb`, same first spike within 0.4 ms and same spike count) \
         recovered from the true units: {} of {}; from the sorted units: {} of {}.\n",
        recovered.0, recovered.2, recovered.1, recovered.2
    );
    let _ = writeln!(
        report,
        "## Bursts\n\nEvery method on the session's {} units, scored against the generated bursts (a burst is \
         recovered when unit, first spike and spike count agree). Tonic units fire chance pairs and runs \
         that a rule may call bursts, so precision is also given on the bursting units alone.\n\n\
         | method | bursts | recall | precision | precision (bursting units) |\n|---|---|---|---|---|",
        b.analysis.units.len()
    );
    for s in &scores {
        let _ = writeln!(report, "| `{}` | {} | {:.3} | {:.3} | {:.3} |", s.0, s.1, s.2, s.3, s.4);
    }
    let an = &bs.analysis;
    if an.windows.len() == 2 {
        let _ = writeln!(
            report,
            "\n## {} vs {} on the sorted units (`lhb` bursts; tables in `{}`)\n\nWindows {:.0}–{:.0} s and {:.0}–{:.0} s (injection at {} s). \
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
            an.units.len(),
            an.windows[0].name,
            an.windows[1].name
        );
        for metric in Metric::TESTED {
            let label = metric.label();
            let w = an.stat(metric, TestKind::Wilcoxon);
            let t = an.stat(metric, TestKind::TtestRel);
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
    if let Some(t) = &b.lfp_bands
        && let (
            Some(burstscope_core::ColumnData::Str(g)),
            Some(burstscope_core::ColumnData::Str(w)),
            Some(burstscope_core::ColumnData::Str(band)),
            Some(burstscope_core::ColumnData::F64(p)),
        ) = (t.column("group"), t.column("window"), t.column("band"), t.column("power_uv2"))
        && b.analysis.windows.len() == 2
    {
        let _ = writeln!(
            report,
            "\n## LFP (`lfp_bands`)\n\nTheta power (4–12 Hz, Welch on the decimated group mean) per tetrode; \
             the generator halves theta amplitude after the injection (expected ratio 0.25).\n\n\
             | group | {} (µV²) | {} (µV²) | ratio |\n|---|---|---|---|",
            b.analysis.windows[0].name, b.analysis.windows[1].name
        );
        let find = |grp: &str, win: &str| {
            (0..g.len()).find(|&i| g[i] == grp && w[i] == win && band[i] == "theta").map(|i| p[i])
        };
        let mut groups: Vec<&String> = g.iter().collect();
        groups.dedup();
        for grp in groups {
            if let (Some(x), Some(y)) = (find(grp, &b.analysis.windows[0].name), find(grp, &b.analysis.windows[1].name))
            {
                let _ = writeln!(report, "| {grp} | {x:.1} | {y:.1} | {:.3} |", y / x);
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
            r.metric.name(),
            r.n,
            r.mean,
            r.sem,
            r.test.name(),
            r.statistic,
            burstscope_stats::format_p(r.p_value)
        );
    }
    let _ = writeln!(report, "\n## Figures\n");
    let figs = bs.figures.iter().map(|f| (f, &bs.dir)).chain(ep.figures.iter().map(|f| (f, &ep.dir)));
    for (f, dir) in figs {
        let (label, png) = (&f.label, dir.join(&f.png));
        let rel = png.strip_prefix(&a.out).unwrap_or(&png);
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
        let text = render_summary(&s);
        let _ = writeln!(report, "```\n{text}```\n");
        summaries.push(s);
    }
    let report_path = a.out.join("report.md");
    burstscope_core::write_file(&report_path, report.as_bytes()).map_err(file_err(&report_path))?;
    write_json(&a.out.join("inspect.json"), &summaries)?;
    Ok(DemoReport { report: report_path, detection: (m.recall(), m.precision()), seconds: t0.elapsed().as_secs_f64() })
}

/// One true unit against its best sorted unit.
struct SortRow {
    true_id: i64,
    kind: String,
    peak_uv: f64,
    sorted: Option<usize>,
    accuracy: f64,
}

fn samples_of(times_s: &[f64], rate_hz: f64) -> Vec<i64> {
    #[allow(clippy::cast_possible_truncation)]
    times_s.iter().map(|t| (t * rate_hz).round() as i64).collect()
}

/// SpikeInterface's agreement of two sorted sample lists (each spike matched once, within `tol`).
fn agreement(a: &[i64], b: &[i64], tol: i64) -> f64 {
    let (mut i, mut j, mut m) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        if (a[i] - b[j]).abs() <= tol {
            m += 1;
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    let d = a.len() + b.len() - m;
    if d == 0 { 0.0 } else { m as f64 / d as f64 }
}

fn sorting_accuracy(
    truth_units: &[burstscope_core::Unit],
    sorted: &[SortedUnit],
    truth: &serde_json::Value,
    rate_hz: f64,
) -> Vec<SortRow> {
    #[allow(clippy::cast_possible_truncation)]
    let tol = (0.4e-3 * rate_hz) as i64;
    truth_units
        .iter()
        .enumerate()
        .map(|(k, u)| {
            let t = samples_of(&u.spike_times_s, rate_hz);
            let best = sorted
                .iter()
                .enumerate()
                .map(|(i, s)| (i, agreement(&t, &s.samples, tol)))
                .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)));
            let tu = &truth["units"][k];
            let peak = tu["peak_uV"]
                .as_array()
                .map_or(f64::NAN, |v| v.iter().filter_map(serde_json::Value::as_f64).map(f64::abs).fold(0.0, f64::max));
            SortRow {
                true_id: u.id,
                kind: tu["kind"].as_str().unwrap_or("").to_string(),
                peak_uv: peak,
                sorted: best.filter(|b| b.1 > 0.0).map(|b| b.0),
                accuracy: best.map_or(0.0, |b| b.1),
            }
        })
        .collect()
}

/// True `lhb` bursts (unit, first spike within 0.4 ms, same spike count)
/// recovered from the true trains and from each true unit's best sorted unit:
/// (from true units, from sorted units, true bursts).
fn burst_recovery(
    truth_units: &[burstscope_core::Unit],
    sorted: &[SortedUnit],
    rows: &[SortRow],
    truth: &serde_json::Value,
    rate_hz: f64,
) -> Result<(usize, usize, usize)> {
    let method = burstscope_bursts::Method::from_name("lhb").ok_or_else(|| crate::Error::Input("method".into()))?;
    let tol = 0.4e-3;
    let (mut from_true, mut from_sorted, mut total) = (0, 0, 0);
    for (k, (u, row)) in truth_units.iter().zip(rows).enumerate() {
        let want: Vec<(f64, u64)> = truth["units"][k]["bursts"]
            .as_array()
            .map(|v| v.iter().map(|b| (b[0].as_f64().unwrap_or(f64::NAN), b[2].as_u64().unwrap_or(0))).collect())
            .unwrap_or_default();
        total += want.len();
        let found = |times: &[f64]| -> Result<usize> {
            let bursts = burstscope_bursts::detect(times, &method).map_err(|e| crate::Error::Input(e.to_string()))?;
            let got: Vec<(f64, u64)> = bursts.iter().map(|b| (times[b.first], b.n_spikes as u64)).collect();
            Ok(want.iter().filter(|w| got.iter().any(|g| (g.0 - w.0).abs() <= tol && g.1 == w.1)).count())
        };
        from_true += found(&u.spike_times_s)?;
        if let Some(i) = row.sorted {
            #[allow(clippy::cast_precision_loss)]
            let times: Vec<f64> = sorted[i].samples.iter().map(|&s| s as f64 / rate_hz).collect();
            from_sorted += found(&times)?;
        }
    }
    Ok((from_true, from_sorted, total))
}

/// (method, bursts, recall, precision, precision on bursting units).
type MethodScore = (&'static str, usize, f64, f64, f64);

/// Every method against the generator's bursts.
fn score_methods(units: &[UnitTrain], truth: &serde_json::Value) -> Result<Vec<MethodScore>> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut want: BTreeSet<(String, u64, u64)> = BTreeSet::new();
    let mut kind: BTreeMap<String, String> = BTreeMap::new();
    for u in truth["units"].as_array().ok_or_else(|| crate::Error::Input("truth: no units".into()))? {
        let id = u["id"].as_i64().ok_or_else(|| crate::Error::Input("truth: unit id".into()))?.to_string();
        kind.insert(id.clone(), u["kind"].as_str().unwrap_or("").to_string());
        let firsts =
            u["burst_first_spike"].as_array().ok_or_else(|| crate::Error::Input("truth: burst_first_spike".into()))?;
        for (b, f) in
            u["bursts"].as_array().ok_or_else(|| crate::Error::Input("truth: bursts".into()))?.iter().zip(firsts)
        {
            want.insert((id.clone(), f.as_u64().unwrap_or(u64::MAX), b[2].as_u64().unwrap_or(0)));
        }
    }
    let mut out = Vec::new();
    for name in burstscope_bursts::METHOD_NAMES {
        let method = burstscope_bursts::Method::from_name(name).ok_or_else(|| crate::Error::Input("method".into()))?;
        let mut found: BTreeSet<(String, u64, u64)> = BTreeSet::new();
        for u in units {
            for b in burstscope_bursts::detect(&u.times, &method)
                .map_err(|e| crate::Error::Input(format!("unit {}: {e}", u.label)))?
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
fn slice_accuracy(cells: &[CellData]) -> Result<(f64, f64, f64)> {
    let median = |mut v: Vec<f64>| -> f64 {
        v.retain(|x| x.is_finite());
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (mut amp, mut rs, mut tau) = (Vec::new(), Vec::new(), Vec::new());
    for c in cells {
        let truth_path = c.file.with_extension("truth.json");
        let t: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&truth_path).map_err(file_err(&truth_path))?)
                .map_err(|e| crate::Error::Input(format!("{}: {e}", truth_path.display())))?;
        let ts = t["sweeps"].as_array().ok_or_else(|| crate::Error::Input("truth: sweeps".into()))?;
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
