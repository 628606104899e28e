//! The `bursts` stage: bursts per unit, per-window metrics, pre/post
//! statistics, time course, LFP band powers and figures.
//!
//! [`analyse`] is a pure function of the spike trains, the windows and the
//! config; [`run_bursts`] loads, analyses, writes the tables and figures and
//! commits the output folder with its record.

use crate::config::BurstsConfig;
use crate::error::{Context, Result, bail};
use crate::output::{Stage, StageOutput, identify};
use crate::spikes_in::{Spikes, UnitTrain, is_table, load_spikes};
use burstscope_bursts::{
    Burst, Method, TimeBin, UnitMetrics, Window, burst_membership, detect, time_course, window_metrics,
};
use burstscope_core::{ColumnData, Epoch, Record, Table};
use burstscope_plot as plot;
use burstscope_stats::{Summary, TestKind, TestResult, finite_pairs, holm, summary, ttest_rel, wilcoxon};
use burstscope_tables::write_table;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `bursts` stage.
pub const BURSTS_STAGE: Stage = Stage { name: "bursts", algorithm_version: 1 };

/// The per-window metrics compared before vs after the drug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Firing rate, Hz.
    FiringRateHz,
    /// Rate of spikes outside bursts, Hz.
    TonicRateHz,
    /// Bursts per minute.
    BurstsPerMin,
    /// % of spikes in bursts.
    PctSpikesInBursts,
    /// Mean spikes per burst.
    MeanSpikesPerBurst,
    /// Mean intra-burst frequency, Hz.
    MeanIntraburstFreqHz,
    /// Mean burst duration, s.
    MeanBurstDurationS,
    /// Coefficient of variation of the ISIs.
    IsiCv,
}

impl Metric {
    /// Every tested metric, in table order.
    pub const TESTED: [Self; 8] = [
        Self::FiringRateHz,
        Self::TonicRateHz,
        Self::BurstsPerMin,
        Self::PctSpikesInBursts,
        Self::MeanSpikesPerBurst,
        Self::MeanIntraburstFreqHz,
        Self::MeanBurstDurationS,
        Self::IsiCv,
    ];

    /// Column name (snake_case with units).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::FiringRateHz => "firing_rate_hz",
            Self::TonicRateHz => "tonic_rate_hz",
            Self::BurstsPerMin => "bursts_per_min",
            Self::PctSpikesInBursts => "pct_spikes_in_bursts",
            Self::MeanSpikesPerBurst => "mean_spikes_per_burst",
            Self::MeanIntraburstFreqHz => "mean_intraburst_freq_hz",
            Self::MeanBurstDurationS => "mean_burst_duration_s",
            Self::IsiCv => "isi_cv",
        }
    }

    /// Axis label for figures.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::FiringRateHz => "Firing rate (Hz)",
            Self::TonicRateHz => "Tonic rate (Hz)",
            Self::BurstsPerMin => "Bursts per minute",
            Self::PctSpikesInBursts => "Spikes in bursts (%)",
            Self::MeanSpikesPerBurst => "Spikes per burst",
            Self::MeanIntraburstFreqHz => "Intra-burst frequency (Hz)",
            Self::MeanBurstDurationS => "Burst duration (s)",
            Self::IsiCv => "ISI CV",
        }
    }

    /// The metric's value in one window.
    #[must_use]
    pub fn of(self, m: &UnitMetrics) -> f64 {
        match self {
            Self::FiringRateHz => m.firing_rate_hz,
            Self::TonicRateHz => m.tonic_rate_hz,
            Self::BurstsPerMin => m.bursts_per_min,
            Self::PctSpikesInBursts => m.pct_spikes_in_bursts,
            Self::MeanSpikesPerBurst => m.mean_spikes_per_burst,
            Self::MeanIntraburstFreqHz => m.mean_intraburst_freq_hz,
            Self::MeanBurstDurationS => m.mean_burst_duration_s,
            Self::IsiCv => m.isi_cv,
        }
    }
}

/// One unit's results.
#[derive(Debug, Clone)]
pub struct UnitResult {
    /// The unit's spike train.
    pub train: UnitTrain,
    /// Its bursts.
    pub bursts: Vec<Burst>,
    /// Per spike: inside a burst.
    pub in_burst: Vec<bool>,
    /// Metrics per window (same order as [`Analysis::windows`]).
    pub windows: Vec<UnitMetrics>,
    /// Time course around the drug (empty without one).
    pub course: Vec<TimeBin>,
}

/// One row of the stats table.
#[derive(Debug, Clone, Serialize)]
pub struct StatRow {
    /// The metric compared.
    pub metric: Metric,
    /// The test result.
    pub result: TestResult,
    /// Holm-adjusted p across the metrics (within the test).
    pub p_holm: f64,
    /// Summary before.
    pub pre: Summary,
    /// Summary after.
    pub post: Summary,
}

/// Everything [`analyse`] computes.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The method with its parameters.
    pub method: Method,
    /// The windows.
    pub windows: Vec<Window>,
    /// Injection time, s.
    pub drug_at_s: Option<f64>,
    /// Per unit.
    pub units: Vec<UnitResult>,
    /// Pre vs post statistics (two windows only).
    pub stats: Vec<StatRow>,
}

impl Analysis {
    /// Total bursts.
    #[must_use]
    pub fn n_bursts(&self) -> usize {
        self.units.iter().map(|u| u.bursts.len()).sum()
    }

    /// The stats row of a metric and test.
    #[must_use]
    pub fn stat(&self, metric: Metric, test: TestKind) -> Option<&StatRow> {
        self.stats.iter().find(|r| r.metric == metric && r.result.test == test)
    }
}

/// Windows from the config or the epochs, checked against the recording.
///
/// # Errors
/// A window is empty or outside the recording, or both have one name.
pub fn resolve_windows(cfg: &BurstsConfig, s: &Spikes) -> Result<(Vec<Window>, Option<f64>)> {
    let w = &cfg.windows;
    let gap = w.exclude_after_s;
    let post_name = |tag: Option<&str>| w.drug_name.clone().unwrap_or_else(|| tag.unwrap_or("post").to_string());
    // `drug_at_event`: the first event of the input with that name
    let drug_at_s = match &w.drug_at_event {
        Some(name) => Some(
            burstscope_core::find_event(&s.events, name)
                .ok_or_else(|| {
                    let mut names: Vec<&str> = s.events.iter().map(|e| e.name.as_str()).collect();
                    names.dedup();
                    names.truncate(20);
                    crate::Error::Input(format!(
                        "windows.drug_at_event = {name:?}: no such event in the input (its events: {})",
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ))
                })?
                .time_s,
        ),
        None => w.drug_at_s,
    };
    let (wins, drug) = if let (Some(b), Some(p)) = (w.baseline_s, w.post_s) {
        (vec![Window::new("baseline", b.0, b.1), Window::new(&post_name(None), p.0, p.1)], drug_at_s.or(Some(p.0)))
    } else if let Some(t) = drug_at_s {
        (vec![Window::new("baseline", s.start_s, t), Window::new(&post_name(None), t + gap, s.end_s)], Some(t))
    } else if !s.epochs.is_empty() {
        let mut ep: Vec<&Epoch> = s.epochs.iter().collect();
        ep.sort_by(|x, y| x.start_s.total_cmp(&y.start_s));
        let bi = ep.iter().position(|e| e.tags.iter().any(|t| t == "baseline")).unwrap_or(0);
        let base = ep[bi];
        let mut v = vec![Window::new("baseline", base.start_s, base.stop_s)];
        let mut drug = None;
        if let Some(post) = ep.get(bi + 1) {
            let tag = post.tags.first().map(String::as_str);
            v.push(Window::new(&post_name(tag), post.start_s + gap, post.stop_s));
            drug = Some(post.start_s);
        }
        (v, drug)
    } else {
        (vec![Window::new("all", s.start_s, s.end_s)], None)
    };
    let tol = 1e-6 * (s.end_s - s.start_s).abs().max(1.0);
    for win in &wins {
        if !(win.stop_s > win.start_s) {
            bail!(
                "window {} {}:{} s is empty (after windows.exclude_after_s = {gap} s)",
                win.name,
                win.start_s,
                win.stop_s
            );
        }
        if win.start_s < s.start_s - tol || win.stop_s > s.end_s + tol {
            bail!(
                "window {} {}:{} s lies outside the recording ({}–{} s)",
                win.name,
                win.start_s,
                win.stop_s,
                s.start_s,
                s.end_s
            );
        }
    }
    if wins.len() == 2 && wins[0].name == wins[1].name {
        bail!("the two windows have the same name '{}'; set windows.drug_name (--drug-name)", wins[0].name);
    }
    Ok((wins, drug))
}

/// Most time-course bins per unit.
pub const MAX_TIME_BINS: f64 = 1.0e6;

/// The whole analysis of one session: a pure function of its inputs.
///
/// # Errors
/// A unit's train is not usable by the method.
pub fn analyse(
    units: Vec<UnitTrain>,
    cfg: &BurstsConfig,
    windows: &[Window],
    drug_at_s: Option<f64>,
    span: (f64, f64),
) -> Result<Analysis> {
    let method = cfg.method();
    let mp = &cfg.metrics;
    if drug_at_s.is_some() {
        let bins = (span.1 - span.0) / cfg.bin_s;
        if !(bins.is_finite() && bins <= MAX_TIME_BINS) {
            bail!(
                "the time course would have {bins:.0} bins of {} s over {}–{} s (at most {MAX_TIME_BINS}); set a longer bin_s (--bin)",
                cfg.bin_s,
                span.0,
                span.1
            );
        }
    }
    let results: Vec<Result<UnitResult>> = units
        .into_par_iter()
        .map(|train| {
            let bursts = detect(&train.times, &method).ctx(|| format!("unit {}", train.label))?;
            let in_burst = burst_membership(train.times.len(), &bursts);
            let wins = windows.iter().map(|w| window_metrics(&train.times, &bursts, &in_burst, w, mp)).collect();
            let course = drug_at_s
                .map_or_else(Vec::new, |t| time_course(&train.times, &bursts, &in_burst, t, cfg.bin_s, span.0, span.1));
            Ok(UnitResult { train, bursts, in_burst, windows: wins, course })
        })
        .collect();
    let units: Vec<UnitResult> = results.into_iter().collect::<Result<_>>()?;
    let mut stats = Vec::new();
    if windows.len() == 2 {
        let mut rows: Vec<(Metric, TestResult, Vec<f64>, Vec<f64>)> = Vec::new();
        for metric in Metric::TESTED {
            let pre: Vec<f64> = units.iter().map(|u| metric.of(&u.windows[0])).collect();
            let post: Vec<f64> = units.iter().map(|u| metric.of(&u.windows[1])).collect();
            let (a, b) = finite_pairs(&pre, &post);
            rows.push((metric, ttest_rel(&a, &b), a.clone(), b.clone()));
            rows.push((metric, wilcoxon(&a, &b), a, b));
        }
        for test in [TestKind::TtestRel, TestKind::Wilcoxon] {
            let idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].1.test == test).collect();
            let p: Vec<f64> = idx.iter().map(|&i| rows[i].1.p_value).collect();
            let adj = holm(&p);
            for (k, &i) in idx.iter().enumerate() {
                let (metric, r, a, b) = &rows[i];
                stats.push(StatRow {
                    metric: *metric,
                    result: r.clone(),
                    p_holm: adj[k],
                    pre: summary(a),
                    post: summary(b),
                });
            }
        }
        stats.sort_by_key(|s| s.metric);
    }
    Ok(Analysis { method, windows: windows.to_vec(), drug_at_s, units, stats })
}

fn window_of(windows: &[Window], t: f64) -> String {
    windows.iter().find(|w| t >= w.start_s && t < w.stop_s).map_or_else(|| "none".into(), |w| w.name.clone())
}

/// The four tables: `bursts`, `unit_metrics`, `time_course`, `stats`.
#[must_use]
pub fn tables(an: &Analysis, n_animals: i64) -> Vec<Table> {
    let name = an.method.name().to_string();
    let mut t = Table::new("bursts");
    let (
        mut unit,
        mut window,
        mut burst,
        mut first,
        mut start,
        mut end,
        mut n,
        mut dur,
        mut ibi,
        mut ibi_ss,
        mut freq,
        mut surprise,
    ) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for u in &an.units {
        let bs = &u.bursts;
        for (k, b) in bs.iter().enumerate() {
            unit.push(u.train.label.clone());
            window.push(window_of(&an.windows, b.start_s));
            burst.push(k as i64);
            first.push(b.first as i64);
            start.push(b.start_s);
            end.push(b.end_s);
            n.push(b.n_spikes as i64);
            dur.push(b.duration_s());
            ibi.push(if k == 0 { f64::NAN } else { b.start_s - bs[k - 1].end_s });
            ibi_ss.push(if k == 0 { f64::NAN } else { b.start_s - bs[k - 1].start_s });
            freq.push(b.intraburst_freq_hz());
            surprise.push(b.surprise.unwrap_or(f64::NAN));
        }
    }
    let rows = unit.len();
    t.push("unit", ColumnData::Str(unit));
    t.push("method", ColumnData::Str(vec![name.clone(); rows]));
    t.push("window", ColumnData::Str(window));
    t.push("burst", ColumnData::I64(burst));
    t.push("first_spike", ColumnData::I64(first));
    t.push("start_s", ColumnData::F64(start));
    t.push("end_s", ColumnData::F64(end));
    t.push("n_spikes", ColumnData::I64(n));
    t.push("duration_s", ColumnData::F64(dur));
    t.push("ibi_s", ColumnData::F64(ibi));
    t.push("ibi_start_to_start_s", ColumnData::F64(ibi_ss));
    t.push("intraburst_freq_hz", ColumnData::F64(freq));
    t.push("surprise", ColumnData::F64(surprise));

    let mut m = Table::new("unit_metrics");
    let rows: Vec<(&UnitResult, &Window, &UnitMetrics)> =
        an.units.iter().flat_map(|u| an.windows.iter().zip(&u.windows).map(move |(w, x)| (u, w, x))).collect();
    m.push("unit", ColumnData::Str(rows.iter().map(|r| r.0.train.label.clone()).collect()));
    m.push("method", ColumnData::Str(vec![name.clone(); rows.len()]));
    m.push("window", ColumnData::Str(rows.iter().map(|r| r.1.name.clone()).collect()));
    m.push("window_start_s", ColumnData::F64(rows.iter().map(|r| r.1.start_s).collect()));
    m.push("window_stop_s", ColumnData::F64(rows.iter().map(|r| r.1.stop_s).collect()));
    m.push("n_spikes", ColumnData::I64(rows.iter().map(|r| r.2.n_spikes as i64).collect()));
    m.push("n_bursts", ColumnData::I64(rows.iter().map(|r| r.2.n_bursts as i64).collect()));
    let f = |get: fn(&UnitMetrics) -> f64| ColumnData::F64(rows.iter().map(|r| get(r.2)).collect());
    m.push("firing_rate_hz", f(|x| x.firing_rate_hz));
    m.push("tonic_rate_hz", f(|x| x.tonic_rate_hz));
    m.push("bursts_per_min", f(|x| x.bursts_per_min));
    m.push("pct_spikes_in_bursts", f(|x| x.pct_spikes_in_bursts));
    m.push("mean_spikes_per_burst", f(|x| x.mean_spikes_per_burst));
    m.push("mean_intraburst_freq_hz", f(|x| x.mean_intraburst_freq_hz));
    m.push("mean_burst_duration_s", f(|x| x.mean_burst_duration_s));
    m.push("mean_ibi_s", f(|x| x.mean_ibi_s));
    m.push("mean_ibi_start_to_start_s", f(|x| x.mean_ibi_start_to_start_s));
    m.push("cv_ibi", f(|x| x.cv_ibi));
    m.push("isi_cv", f(|x| x.isi_cv));
    m.push("isi_lv", f(|x| x.isi_lv));
    m.push("isi_violation_fraction", f(|x| x.isi_violation_fraction));
    m.push("class", ColumnData::Str(rows.iter().map(|r| r.2.class.as_str().to_string()).collect()));

    let mut c = Table::new("time_course");
    let rows: Vec<(&UnitResult, &TimeBin)> =
        an.units.iter().flat_map(|u| u.course.iter().map(move |b| (u, b))).collect();
    c.push("unit", ColumnData::Str(rows.iter().map(|r| r.0.train.label.clone()).collect()));
    c.push("bin_start_s", ColumnData::F64(rows.iter().map(|r| r.1.start_s).collect()));
    c.push("bin_stop_s", ColumnData::F64(rows.iter().map(|r| r.1.stop_s).collect()));
    c.push("n_spikes", ColumnData::I64(rows.iter().map(|r| r.1.n_spikes as i64).collect()));
    c.push("firing_rate_hz", ColumnData::F64(rows.iter().map(|r| r.1.firing_rate_hz).collect()));
    c.push("bursts_per_min", ColumnData::F64(rows.iter().map(|r| r.1.bursts_per_min).collect()));
    c.push("tonic_rate_hz", ColumnData::F64(rows.iter().map(|r| r.1.tonic_rate_hz).collect()));
    c.push("pct_spikes_in_bursts", ColumnData::F64(rows.iter().map(|r| r.1.pct_spikes_in_bursts).collect()));

    let mut s = Table::new("stats");
    let st = &an.stats;
    let pre_name = an.windows.first().map_or_else(String::new, |w| w.name.clone());
    let post_name = an.windows.get(1).map_or_else(String::new, |w| w.name.clone());
    s.push("metric", ColumnData::Str(st.iter().map(|r| r.metric.name().to_string()).collect()));
    s.push("test", ColumnData::Str(st.iter().map(|r| r.result.test.as_str().to_string()).collect()));
    s.push("window_pre", ColumnData::Str(vec![pre_name; st.len()]));
    s.push("window_post", ColumnData::Str(vec![post_name; st.len()]));
    s.push("n", ColumnData::I64(st.iter().map(|r| r.result.n as i64).collect()));
    s.push("n_animals", ColumnData::I64(vec![n_animals; st.len()]));
    s.push("statistic", ColumnData::F64(st.iter().map(|r| r.result.statistic).collect()));
    s.push("df", ColumnData::F64(st.iter().map(|r| r.result.df.unwrap_or(f64::NAN)).collect()));
    s.push("p_value", ColumnData::F64(st.iter().map(|r| r.result.p_value).collect()));
    s.push("p_holm", ColumnData::F64(st.iter().map(|r| r.p_holm).collect()));
    s.push("p_method", ColumnData::Str(st.iter().map(|r| r.result.method.clone()).collect()));
    s.push("effect_size", ColumnData::F64(st.iter().map(|r| r.result.effect_size).collect()));
    s.push("effect_size_kind", ColumnData::Str(st.iter().map(|r| r.result.effect_size_kind.clone()).collect()));
    for (side, pre) in [("pre", true), ("post", false)] {
        let sm = |r: &StatRow| if pre { r.pre.clone() } else { r.post.clone() };
        s.push(&format!("mean_{side}"), ColumnData::F64(st.iter().map(|r| sm(r).mean).collect()));
        s.push(&format!("sem_{side}"), ColumnData::F64(st.iter().map(|r| sm(r).sem).collect()));
        s.push(&format!("median_{side}"), ColumnData::F64(st.iter().map(|r| sm(r).median).collect()));
        s.push(&format!("iqr_{side}"), ColumnData::F64(st.iter().map(|r| sm(r).iqr()).collect()));
    }
    vec![t, m, c, s]
}

fn mean_sem_per_bin(an: &Analysis, get: fn(&TimeBin) -> f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let nbins = an.units.iter().map(|u| u.course.len()).max().unwrap_or(0);
    let mut x = Vec::new();
    let (mut m, mut e) = (Vec::new(), Vec::new());
    for k in 0..nbins {
        let vals: Vec<f64> =
            an.units.iter().filter_map(|u| u.course.get(k)).map(get).filter(|v| v.is_finite()).collect();
        let centre = an.units.iter().find_map(|u| u.course.get(k)).map_or(0.0, |b| 0.5 * (b.start_s + b.stop_s) / 60.0);
        x.push(centre);
        let s = summary(&vals);
        m.push(s.mean);
        e.push(if vals.len() > 1 { s.sem } else { 0.0 });
    }
    (x, m, e)
}

/// A figure written: its caption and the PNG's path relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureFile {
    /// Caption.
    pub label: String,
    /// `figures/<name>.png` (SVG and PDF beside it).
    pub png: PathBuf,
}

fn rel_png(dir: &Path, r: &plot::Rendered) -> PathBuf {
    let name = r.png.file_name().map(PathBuf::from).unwrap_or_default();
    dir.join(name)
}

/// Draws the figures into `root/figures`.
///
/// # Errors
/// Drawing or writing a figure failed.
pub fn figures(an: &Analysis, root: &Path, title: &str) -> Result<Vec<FigureFile>> {
    let dir = root.join("figures");
    let rel = Path::new("figures");
    let mut out = Vec::new();
    let mut push = |label: String, r: plot::Rendered| out.push(FigureFile { label, png: rel_png(rel, &r) });
    // rasters: up to 12 units, 30 s from the start of each window
    let shown = &an.units[..an.units.len().min(12)];
    for w in &an.windows {
        let rows = shown
            .iter()
            .map(|u| plot::RasterRow {
                label: u.train.label.clone(),
                times: u.train.times.clone(),
                in_burst: u.in_burst.clone(),
            })
            .collect();
        let fig = plot::Raster {
            rows,
            t0_s: w.start_s,
            t1_s: (w.start_s + 30.0).min(w.stop_s),
            title: format!("{title}: {} ({} bursts)", w.name, an.method.name()),
        };
        push(format!("Raster, {}", w.name), plot::render(&fig, &dir, &format!("raster_{}", sanitize(&w.name)))?);
    }
    // ISI histogram, all units pooled, with the method's thresholds
    let isis: Vec<f64> = an.units.iter().flat_map(|u| u.train.times.windows(2).map(|p| p[1] - p[0])).collect();
    let thresholds = match &an.method {
        Method::Lhb(p) => vec![
            (p.start_isi_max_s, format!("onset ≤ {} ms", p.start_isi_max_s * 1e3)),
            (p.min_preceding_silence_s, format!("silence ≥ {} ms", p.min_preceding_silence_s * 1e3)),
        ],
        Method::MaxInterval(p) => vec![
            (p.max_begin_isi_s, format!("begin {} s", p.max_begin_isi_s)),
            (p.max_end_isi_s, format!("end {} s", p.max_end_isi_s)),
        ],
        Method::LogIsi(p) => vec![(p.cutoff_s, format!("cut-off {} s", p.cutoff_s))],
        _ => vec![],
    };
    let fig = plot::IsiHistogram { isis_s: isis, thresholds, title: format!("{title}: ISI distribution") };
    push("ISI histogram".into(), plot::render(&fig, &dir, "isi_histogram")?);
    if an.units.iter().any(|u| !u.course.is_empty()) {
        let (x, m1, e1) = mean_sem_per_bin(an, |b| b.firing_rate_hz);
        let (_, m2, e2) = mean_sem_per_bin(an, |b| b.bursts_per_min);
        let (_, m3, e3) = mean_sem_per_bin(an, |b| b.pct_spikes_in_bursts);
        let event = an.windows.get(1).map_or_else(|| "drug".into(), |w| w.name.clone());
        let fig = plot::TimeCourse {
            x_min: x,
            panels: vec![
                panel("Firing rate (Hz)", m1, e1),
                panel("Bursts per minute", m2, e2),
                panel("Spikes in bursts (%)", m3, e3),
            ],
            event,
            title: format!("{title}: mean ± SEM across {} units", an.units.len()),
        };
        push("Time course".into(), plot::render(&fig, &dir, "time_course")?);
    }
    if an.windows.len() == 2 {
        let panels = Metric::TESTED
            .iter()
            .take(6)
            .filter_map(|&metric| {
                let row = an.stat(metric, TestKind::Wilcoxon)?;
                Some(plot::PairedPanel {
                    label: metric.label().into(),
                    pre: an.units.iter().map(|u| metric.of(&u.windows[0])).collect(),
                    post: an.units.iter().map(|u| metric.of(&u.windows[1])).collect(),
                    p_value: row.result.p_value,
                    test: "Wilcoxon".into(),
                })
            })
            .collect();
        let fig = plot::PairedPlot {
            panels,
            conditions: [an.windows[0].name.clone(), an.windows[1].name.clone()],
            title: format!("{title}: per unit, mean ± SEM"),
        };
        push("Paired before/after".into(), plot::render(&fig, &dir, "paired")?);
    }
    let groups = an
        .windows
        .iter()
        .enumerate()
        .map(|(wi, w)| {
            let n = an.units.len().max(1) as f64;
            let count = |c: &str| an.units.iter().filter(|u| u.windows[wi].class.as_str() == c).count() as f64 / n;
            (w.name.clone(), [count("silent"), count("tonic"), count("bursting")])
        })
        .collect();
    let fig = plot::ClassBars { groups, title: format!("{title}: firing classes") };
    push("Firing classes".into(), plot::render(&fig, &dir, "classes")?);
    Ok(out)
}

fn panel(y_label: &str, mean: Vec<f64>, sem: Vec<f64>) -> plot::TimeCoursePanel {
    plot::TimeCoursePanel {
        y_label: y_label.into(),
        series: vec![plot::CourseSeries { label: String::new(), mean, sem }],
    }
}

/// A name safe in file names.
#[must_use]
pub fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// What the `bursts` stage produced.
#[derive(Debug, Clone)]
pub struct BurstsRun {
    /// The analysis.
    pub analysis: Analysis,
    /// Figures (paths relative to [`BurstsRun::dir`]).
    pub figures: Vec<FigureFile>,
    /// The output folder.
    pub dir: PathBuf,
    /// Its record.
    pub record: Record,
    /// Warnings about the input.
    pub warnings: Vec<String>,
    /// Subject id, when the file names one.
    pub subject: Option<String>,
    /// Recording span, s.
    pub span_s: (f64, f64),
    /// LFP band powers, when the file has a wide-band signal.
    pub lfp_bands: Option<Table>,
}

/// Runs the `bursts` stage on `input`, writing the folder `out`.
///
/// # Errors
/// The input cannot be used, or the outputs cannot be written (the folder
/// `out` is then unchanged).
pub fn run_bursts(input: &Path, out: &Path, cfg: &BurstsConfig) -> Result<BurstsRun> {
    let mut spikes = load_spikes(input)?;
    crate::spikes_in::filter_labels(input, &mut spikes, &cfg.labels)?;
    let (windows, drug) = resolve_windows(cfg, &spikes).ctx(|| input.display().to_string())?;
    let phy = burstscope_io::phy::is_phy_dir(input);
    let identity = if phy {
        let files = crate::spikes_in::phy_inputs(input);
        identify(&files.iter().map(std::path::PathBuf::as_path).collect::<Vec<_>>())?
    } else if input.is_dir() {
        // a Neuralynx folder: its tetrode spike files and event files
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(input)
            .map_err(crate::error::file_err(input))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("ntt") || x.eq_ignore_ascii_case("nev")))
            .collect();
        files.sort();
        identify(&files.iter().map(std::path::PathBuf::as_path).collect::<Vec<_>>())?
    } else {
        identify(&[input])?
    };
    let mut warnings = spikes.warnings.clone();
    let span = (spikes.start_s, spikes.end_s);
    let n_units = spikes.units.len();
    let an = analyse(spikes.units, cfg, &windows, drug, span).ctx(|| input.display().to_string())?;
    let stage = StageOutput::begin(out, BURSTS_STAGE, identity, Vec::new(), cfg)?;
    let n_animals = i64::from(spikes.subject.is_some());
    for t in tables(&an, n_animals) {
        write_table(&t, stage.path(), cfg.format.into())?;
    }
    let mut lfp_bands = None;
    // spike-only inputs (NEV, Neuralynx .ntt files or folders) have no wide-band signal
    let nev = input.extension().is_some_and(|e| e.eq_ignore_ascii_case("nev") || e.eq_ignore_ascii_case("ntt"));
    if !is_table(input)
        && !phy
        && !nev
        && !input.is_dir()
        && let Some((bands, spectra)) =
            crate::lfp::lfp_tables(input, &windows, &cfg.lfp).ctx(|| format!("{}: LFP band powers", input.display()))?
    {
        write_table(&bands, stage.path(), cfg.format.into())?;
        write_table(&spectra, stage.path(), cfg.format.into())?;
        lfp_bands = Some(bands);
    }
    let lfp_written = lfp_bands.is_some();
    let title = input.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let figs = if cfg.figures { figures(&an, stage.path(), &title)? } else { Vec::new() };
    if an.units.iter().all(|u| u.train.times.is_empty()) {
        warnings.push("every unit is empty".into());
    }
    let mut summary = BTreeMap::new();
    summary.insert("method".into(), json!(an.method.name()));
    summary.insert("windows".into(), json!(windows));
    summary.insert("drug_at_s".into(), json!(drug));
    if let Some(name) = &cfg.windows.drug_at_event {
        let e = burstscope_core::find_event(&spikes.events, name);
        summary.insert(
            "drug_at_event".into(),
            json!({"name": name, "matched": e.map(|e| &e.name), "source": e.map(|e| &e.source), "time_s": e.map(|e| e.time_s)}),
        );
    }
    summary.insert("recording_s".into(), json!([span.0, span.1]));
    summary.insert("n_units".into(), json!(n_units));
    summary.insert("n_bursts".into(), json!(an.n_bursts()));
    summary.insert("subject".into(), json!(spikes.subject));
    summary.insert("lfp_tables".into(), json!(lfp_written));
    let record = stage.finish(summary, warnings.clone())?;
    Ok(BurstsRun {
        analysis: an,
        figures: figs,
        dir: out.to_path_buf(),
        record,
        warnings,
        subject: spikes.subject,
        span_s: span,
        lfp_bands,
    })
}
