//! `burstscope bursts`: bursts per unit, per-window metrics, pre/post
//! statistics, time course and figures.
//!
//! The analysis itself ([`analyse`]) is a pure function of the spike trains,
//! the windows and the parameters; loading, writing and drawing wrap it.

use super::write_json;
use crate::args::{BurstsArgs, MethodArg, TableFormat};
use anyhow::{Context, Result, bail};
use burstscope_bursts::{
    Burst, CmaParams, IntervalParams, LogIsiParams, MaxIntervalParams, Method, MetricParams, PoissonParams, RankParams,
    TimeBin, UnitMetrics, Window, burst_membership, check_train, detect, time_course, window_metrics,
};
use burstscope_core::{ColumnData, Epoch, Provenance, Table};
use burstscope_io::Recording;
use burstscope_plot as plot;
use burstscope_stats::{TestResult, finite_pairs, holm, summary, ttest_rel, wilcoxon};
use burstscope_tables::{Format, write_table};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Method and metric parameters from `--config` (every section optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct BurstsConfig {
    lhb: IntervalParams,
    maxinterval: MaxIntervalParams,
    poisson: PoissonParams,
    rank: RankParams,
    logisi: LogIsiParams,
    cma: CmaParams,
    metrics: MetricParams,
    lfp: super::lfp::LfpParams,
}

/// One unit's spike train.
#[derive(Debug, Clone)]
pub(crate) struct UnitTrain {
    pub(crate) label: String,
    pub(crate) times: Vec<f64>,
}

/// What an input file holds.
#[derive(Debug, Clone)]
pub(crate) struct Spikes {
    pub(crate) units: Vec<UnitTrain>,
    pub(crate) epochs: Vec<Epoch>,
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
    pub(crate) subject: Option<String>,
}

/// Everything [`analyse`] computes.
#[derive(Debug, Clone)]
pub(crate) struct Analysis {
    pub(crate) method: Method,
    pub(crate) windows: Vec<Window>,
    pub(crate) drug_at_s: Option<f64>,
    pub(crate) bursts: Vec<Vec<Burst>>,
    pub(crate) in_burst: Vec<Vec<bool>>,
    pub(crate) metrics: Vec<Vec<UnitMetrics>>,
    pub(crate) course: Vec<Vec<TimeBin>>,
    pub(crate) stats: Vec<StatRow>,
}

/// One row of the stats table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatRow {
    pub(crate) metric: &'static str,
    pub(crate) result: TestResult,
    pub(crate) p_holm: f64,
    pub(crate) pre: burstscope_stats::Summary,
    pub(crate) post: burstscope_stats::Summary,
}

/// The metrics compared pre vs post, with their labels for figures.
pub(crate) const TESTED: [(&str, &str); 8] = [
    ("firing_rate_hz", "Firing rate (Hz)"),
    ("tonic_rate_hz", "Tonic rate (Hz)"),
    ("bursts_per_min", "Bursts per minute"),
    ("pct_spikes_in_bursts", "Spikes in bursts (%)"),
    ("mean_spikes_per_burst", "Spikes per burst"),
    ("mean_intraburst_freq_hz", "Intra-burst frequency (Hz)"),
    ("mean_burst_duration_s", "Burst duration (s)"),
    ("isi_cv", "ISI CV"),
];

pub(crate) fn metric_value(m: &UnitMetrics, name: &str) -> f64 {
    match name {
        "firing_rate_hz" => m.firing_rate_hz,
        "tonic_rate_hz" => m.tonic_rate_hz,
        "bursts_per_min" => m.bursts_per_min,
        "pct_spikes_in_bursts" => m.pct_spikes_in_bursts,
        "mean_spikes_per_burst" => m.mean_spikes_per_burst,
        "mean_intraburst_freq_hz" => m.mean_intraburst_freq_hz,
        "mean_burst_duration_s" => m.mean_burst_duration_s,
        "isi_cv" => m.isi_cv,
        _ => f64::NAN,
    }
}

/// The method with parameters from the config and flags.
pub(crate) fn method_from(a: &BurstsArgs, cfg: &BurstsConfig) -> Result<Method> {
    let mut m = match a.method {
        MethodArg::Lhb => Method::Lhb(cfg.lhb.clone()),
        MethodArg::Maxinterval => Method::MaxInterval(cfg.maxinterval.clone()),
        MethodArg::Poisson => Method::Poisson(cfg.poisson.clone()),
        MethodArg::Rank => Method::Rank(cfg.rank.clone()),
        MethodArg::Logisi => Method::LogIsi(cfg.logisi.clone()),
        MethodArg::Cma => Method::Cma(cfg.cma.clone()),
    };
    if (a.start_isi_ms.is_some() || a.end_isi_ms.is_some() || a.silence_ms.is_some()) && !matches!(m, Method::Lhb(_)) {
        bail!("--start-isi-ms, --end-isi-ms and --silence-ms apply to --method lhb; use --config for other methods");
    }
    if let Method::Lhb(p) = &mut m {
        if let Some(v) = a.start_isi_ms {
            p.start_isi_max_s = v / 1000.0;
        }
        if let Some(v) = a.end_isi_ms {
            p.end_isi_max_s = v / 1000.0;
        }
        if let Some(v) = a.silence_ms {
            p.min_preceding_silence_s = v / 1000.0;
        }
    }
    if let Some(n) = a.min_spikes {
        match &mut m {
            Method::Lhb(p) => p.min_spikes = n,
            Method::MaxInterval(p) => p.min_spikes = n,
            Method::Poisson(p) => p.min_spikes = n,
            Method::Rank(p) => p.min_spikes = n,
            Method::LogIsi(p) => p.min_spikes = n,
            Method::Cma(p) => p.min_spikes = n,
        }
    }
    m.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(m)
}

fn is_table(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("parquet"))
}

/// Reads units from an NWB/MEA file or a spikes table.
pub(crate) fn load(path: &Path) -> Result<Spikes> {
    if is_table(path) {
        return load_table(path);
    }
    let rec = Recording::open(path)?;
    let units = rec.units()?;
    if units.is_empty() {
        bail!(
            "{}: no /units table (and not an MEA spike-train file); `burstscope bursts` needs sorted units — \
             an NWB file with /units, an MEA spike file, or a spikes table with columns unit,time_s",
            path.display()
        );
    }
    let epochs = rec.epochs()?;
    let subject = rec.session()?.subject.get("subject_id").cloned();
    let trains: Vec<UnitTrain> =
        units.into_iter().map(|u| UnitTrain { label: u.label.clone(), times: u.spike_times_s }).collect();
    let last_spike = trains.iter().filter_map(|u| u.times.last().copied()).fold(0.0f64, f64::max);
    let first_spike = trains.iter().filter_map(|u| u.times.first().copied()).fold(f64::INFINITY, f64::min);
    let end = rec.duration_s()?.unwrap_or(0.0).max(last_spike);
    let start = epochs.iter().map(|e| e.start_s).fold(first_spike.min(0.0), f64::min);
    Ok(Spikes { units: trains, epochs, start_s: start, end_s: end, subject })
}

fn load_table(path: &Path) -> Result<Spikes> {
    let t = burstscope_tables::read_table(path)?;
    let unit: Vec<String> = match t.column("unit") {
        Some(ColumnData::Str(v)) => v.clone(),
        Some(ColumnData::I64(v)) => v.iter().map(ToString::to_string).collect(),
        Some(ColumnData::U64(v)) => v.iter().map(ToString::to_string).collect(),
        Some(_) => bail!("{}: column unit must hold text or integers", path.display()),
        None => bail!("{}: no column 'unit'; expected columns unit and time_s", path.display()),
    };
    let time: Vec<f64> = match t.column("time_s") {
        Some(ColumnData::F64(v)) => v.clone(),
        Some(ColumnData::F32(v)) => v.iter().map(|&x| f64::from(x)).collect(),
        #[allow(clippy::cast_precision_loss)]
        Some(ColumnData::I64(v)) => v.iter().map(|&x| x as f64).collect(),
        Some(_) => bail!("{}: column time_s must hold numbers (seconds)", path.display()),
        None => bail!("{}: no column 'time_s'; expected columns unit and time_s", path.display()),
    };
    let mut order: Vec<String> = Vec::new();
    let mut by: std::collections::HashMap<String, Vec<f64>> = std::collections::HashMap::new();
    for (u, t) in unit.into_iter().zip(time) {
        if !by.contains_key(&u) {
            order.push(u.clone());
        }
        by.entry(u).or_default().push(t);
    }
    let units: Vec<UnitTrain> =
        order.into_iter().map(|l| UnitTrain { times: by.remove(&l).unwrap_or_default(), label: l }).collect();
    let end = units.iter().filter_map(|u| u.times.last().copied()).fold(0.0f64, f64::max);
    let start = units.iter().filter_map(|u| u.times.first().copied()).fold(0.0f64, f64::min);
    Ok(Spikes { units, epochs: Vec::new(), start_s: start, end_s: end, subject: None })
}

/// Windows from the flags or the epochs, checked against the recording.
pub(crate) fn windows(a: &BurstsArgs, s: &Spikes) -> Result<(Vec<Window>, Option<f64>)> {
    let gap = a.exclude_after;
    if !(gap >= 0.0) {
        bail!("--exclude-after must be ≥ 0 s");
    }
    let post_name = |tag: Option<&str>| a.drug_name.clone().unwrap_or_else(|| tag.unwrap_or("post").to_string());
    let (w, drug) = if let (Some(b), Some(p)) = (a.baseline, a.post) {
        (vec![Window::new("baseline", b.0, b.1), Window::new(&post_name(None), p.0, p.1)], a.drug_at.or(Some(p.0)))
    } else if let Some(t) = a.drug_at {
        (vec![Window::new("baseline", s.start_s, t), Window::new(&post_name(None), t + gap, s.end_s)], Some(t))
    } else if !s.epochs.is_empty() {
        let mut ep: Vec<&Epoch> = s.epochs.iter().collect();
        ep.sort_by(|x, y| x.start_s.total_cmp(&y.start_s));
        let bi = ep.iter().position(|e| e.tags.iter().any(|t| t == "baseline")).unwrap_or(0);
        let base = ep[bi];
        let mut w = vec![Window::new("baseline", base.start_s, base.stop_s)];
        let mut drug = None;
        if let Some(post) = ep.get(bi + 1) {
            let tag = post.tags.first().map(String::as_str);
            w.push(Window::new(&post_name(tag), post.start_s + gap, post.stop_s));
            drug = Some(post.start_s);
        }
        (w, drug)
    } else {
        (vec![Window::new("all", s.start_s, s.end_s)], None)
    };
    let tol = 1e-6 * (s.end_s - s.start_s).abs().max(1.0);
    for win in &w {
        if !(win.stop_s > win.start_s) {
            bail!("window {} {}:{} s is empty (after --exclude-after {gap} s)", win.name, win.start_s, win.stop_s);
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
    if w.len() == 2 && w[0].name == w[1].name {
        bail!("the two windows have the same name '{}'; give --drug-name", w[0].name);
    }
    Ok((w, drug))
}

/// The whole analysis of one session: a pure function of its inputs.
pub(crate) fn analyse(
    units: &[UnitTrain],
    method: &Method,
    windows: &[Window],
    drug_at_s: Option<f64>,
    bin_s: f64,
    span: (f64, f64),
    mp: &MetricParams,
) -> Result<Analysis> {
    let per_unit: Vec<Result<(Vec<Burst>, Vec<bool>)>> = units
        .par_iter()
        .map(|u| {
            let b = detect(&u.times, method).with_context(|| format!("unit {}", u.label))?;
            let m = burst_membership(u.times.len(), &b);
            Ok((b, m))
        })
        .collect();
    let mut bursts = Vec::with_capacity(units.len());
    let mut in_burst = Vec::with_capacity(units.len());
    for r in per_unit {
        let (b, m) = r?;
        bursts.push(b);
        in_burst.push(m);
    }
    let metrics: Vec<Vec<UnitMetrics>> = units
        .iter()
        .zip(bursts.iter().zip(&in_burst))
        .map(|(u, (b, m))| windows.iter().map(|w| window_metrics(&u.times, b, m, w, mp)).collect())
        .collect();
    let course: Vec<Vec<TimeBin>> = match drug_at_s {
        Some(t) => units
            .iter()
            .zip(bursts.iter().zip(&in_burst))
            .map(|(u, (b, m))| time_course(&u.times, b, m, t, bin_s, span.0, span.1))
            .collect(),
        None => vec![Vec::new(); units.len()],
    };
    let mut stats = Vec::new();
    if windows.len() == 2 {
        let mut rows: Vec<(&'static str, TestResult, Vec<f64>, Vec<f64>)> = Vec::new();
        for (name, _) in TESTED {
            let pre: Vec<f64> = metrics.iter().map(|m| metric_value(&m[0], name)).collect();
            let post: Vec<f64> = metrics.iter().map(|m| metric_value(&m[1], name)).collect();
            let (a, b) = finite_pairs(&pre, &post);
            rows.push((name, ttest_rel(&a, &b), a.clone(), b.clone()));
            rows.push((name, wilcoxon(&a, &b), a, b));
        }
        for test in ["ttest_rel", "wilcoxon"] {
            let idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].1.test == test).collect();
            let p: Vec<f64> = idx.iter().map(|&i| rows[i].1.p_value).collect();
            let adj = holm(&p);
            for (k, &i) in idx.iter().enumerate() {
                let (name, r, a, b) = &rows[i];
                stats.push(StatRow {
                    metric: name,
                    result: r.clone(),
                    p_holm: adj[k],
                    pre: summary(a),
                    post: summary(b),
                });
            }
        }
        stats.sort_by_key(|s| TESTED.iter().position(|t| t.0 == s.metric));
    }
    Ok(Analysis {
        method: method.clone(),
        windows: windows.to_vec(),
        drug_at_s,
        bursts,
        in_burst,
        metrics,
        course,
        stats,
    })
}

fn format_of(f: TableFormat) -> Format {
    match f {
        TableFormat::Parquet => Format::Parquet,
        TableFormat::Csv => Format::Csv,
    }
}

fn window_of(windows: &[Window], t: f64) -> String {
    windows.iter().find(|w| t >= w.start_s && t < w.stop_s).map_or_else(|| "none".into(), |w| w.name.clone())
}

/// The four tables.
pub(crate) fn tables(units: &[UnitTrain], an: &Analysis, n_animals: i64) -> Vec<Table> {
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
    for (u, bs) in units.iter().zip(&an.bursts) {
        for (k, b) in bs.iter().enumerate() {
            unit.push(u.label.clone());
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
    let rows: Vec<(&UnitTrain, &Window, &UnitMetrics)> = units
        .iter()
        .zip(&an.metrics)
        .flat_map(|(u, ms)| an.windows.iter().zip(ms).map(move |(w, x)| (u, w, x)))
        .collect();
    m.push("unit", ColumnData::Str(rows.iter().map(|r| r.0.label.clone()).collect()));
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
    let rows: Vec<(&UnitTrain, &TimeBin)> =
        units.iter().zip(&an.course).flat_map(|(u, bins)| bins.iter().map(move |b| (u, b))).collect();
    c.push("unit", ColumnData::Str(rows.iter().map(|r| r.0.label.clone()).collect()));
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
    s.push("metric", ColumnData::Str(st.iter().map(|r| r.metric.to_string()).collect()));
    s.push("test", ColumnData::Str(st.iter().map(|r| r.result.test.clone()).collect()));
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
    for (side, get) in [("pre", 0usize), ("post", 1)] {
        let sm = |r: &StatRow| if get == 0 { r.pre.clone() } else { r.post.clone() };
        s.push(&format!("mean_{side}"), ColumnData::F64(st.iter().map(|r| sm(r).mean).collect()));
        s.push(&format!("sem_{side}"), ColumnData::F64(st.iter().map(|r| sm(r).sem).collect()));
        s.push(&format!("median_{side}"), ColumnData::F64(st.iter().map(|r| sm(r).median).collect()));
        s.push(&format!("iqr_{side}"), ColumnData::F64(st.iter().map(|r| sm(r).iqr()).collect()));
    }
    vec![t, m, c, s]
}

fn mean_sem_per_bin(an: &Analysis, get: fn(&TimeBin) -> f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let nbins = an.course.iter().map(Vec::len).max().unwrap_or(0);
    let mut x = Vec::new();
    let (mut m, mut e) = (Vec::new(), Vec::new());
    for k in 0..nbins {
        let vals: Vec<f64> = an.course.iter().filter_map(|c| c.get(k)).map(get).filter(|v| v.is_finite()).collect();
        let centre = an.course.iter().find_map(|c| c.get(k)).map_or(0.0, |b| 0.5 * (b.start_s + b.stop_s) / 60.0);
        x.push(centre);
        let s = summary(&vals);
        m.push(s.mean);
        e.push(if vals.len() > 1 { s.sem } else { 0.0 });
    }
    (x, m, e)
}

/// Draws the figures into `dir`; returns the PNG names for the report.
pub(crate) fn figures(units: &[UnitTrain], an: &Analysis, dir: &Path, title: &str) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    // rasters: up to 12 units, 30 s from the start of each window
    let shown: Vec<usize> = (0..units.len()).take(12).collect();
    for w in &an.windows {
        let t0 = w.start_s;
        let t1 = (w.start_s + 30.0).min(w.stop_s);
        let rows = shown
            .iter()
            .map(|&i| plot::RasterRow {
                label: units[i].label.clone(),
                times: units[i].times.clone(),
                in_burst: an.in_burst[i].clone(),
            })
            .collect();
        let name = format!("raster_{}", sanitize(&w.name));
        let fig = plot::Raster {
            rows,
            t0_s: t0,
            t1_s: t1,
            title: format!("{title}: {} ({} bursts)", w.name, an.method.name()),
        };
        let r = plot::render(&fig, dir, &name)?;
        out.push((format!("Raster, {}", w.name), r.png));
    }
    // ISI histogram, all units pooled, with the method's thresholds
    let isis: Vec<f64> = units.iter().flat_map(|u| u.times.windows(2).map(|p| p[1] - p[0])).collect();
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
    let r = plot::render(
        &plot::IsiHistogram { isis_s: isis, thresholds, title: format!("{title}: ISI distribution") },
        dir,
        "isi_histogram",
    )?;
    out.push(("ISI histogram".into(), r.png));
    if an.course.iter().any(|c| !c.is_empty()) {
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
            title: format!("{title}: mean ± SEM across {} units", units.len()),
        };
        let r = plot::render(&fig, dir, "time_course")?;
        out.push(("Time course".into(), r.png));
    }
    if an.windows.len() == 2 {
        let panels = TESTED
            .iter()
            .take(6)
            .filter_map(|(name, label)| {
                let row = an.stats.iter().find(|s| s.metric == *name && s.result.test == "wilcoxon")?;
                Some(plot::PairedPanel {
                    label: (*label).into(),
                    pre: an.metrics.iter().map(|m| metric_value(&m[0], name)).collect(),
                    post: an.metrics.iter().map(|m| metric_value(&m[1], name)).collect(),
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
        let r = plot::render(&fig, dir, "paired")?;
        out.push(("Paired before/after".into(), r.png));
    }
    let groups = an
        .windows
        .iter()
        .enumerate()
        .map(|(wi, w)| {
            let n = an.metrics.len().max(1) as f64;
            let count = |c: &str| an.metrics.iter().filter(|m| m[wi].class.as_str() == c).count() as f64 / n;
            (w.name.clone(), [count("silent"), count("tonic"), count("bursting")])
        })
        .collect();
    let r = plot::render(&plot::ClassBars { groups, title: format!("{title}: firing classes") }, dir, "classes")?;
    out.push(("Firing classes".into(), r.png));
    Ok(out)
}

fn panel(y_label: &str, mean: Vec<f64>, sem: Vec<f64>) -> plot::TimeCoursePanel {
    plot::TimeCoursePanel {
        y_label: y_label.into(),
        series: vec![plot::CourseSeries { label: String::new(), mean, sem }],
    }
}

pub(crate) fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// What `bursts` produced.
#[derive(Debug)]
pub(crate) struct BurstsOutput {
    pub(crate) analysis: Analysis,
    pub(crate) units: Vec<UnitTrain>,
    pub(crate) figures: Vec<(String, PathBuf)>,
}

/// Runs `burstscope bursts`.
pub(crate) fn run(a: &BurstsArgs) -> Result<BurstsOutput> {
    let cfg: BurstsConfig = match &a.config {
        Some(p) => super::read_toml(p)?,
        None => BurstsConfig::default(),
    };
    cfg.metrics.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    cfg.lfp.validate()?;
    let method = method_from(a, &cfg)?;
    if !(a.bin > 0.0) {
        bail!("--bin must be a positive number of seconds");
    }
    let input = load(&a.input)?;
    for u in &input.units {
        check_train(&u.times).map_err(|e| anyhow::anyhow!("{}: unit {}: {e}", a.input.display(), u.label))?;
    }
    let (windows, drug) = windows(a, &input).with_context(|| format!("{}", a.input.display()))?;
    let an = analyse(&input.units, &method, &windows, drug, a.bin, (input.start_s, input.end_s), &cfg.metrics)
        .with_context(|| format!("{}", a.input.display()))?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("{}: cannot create folder", a.out.display()))?;
    let n_animals = i64::from(input.subject.is_some());
    for t in tables(&input.units, &an, n_animals) {
        write_table(&t, &a.out, format_of(a.format))?;
    }
    let mut lfp_written = false;
    if !is_table(&a.input)
        && let Some((bands, spectra)) = super::lfp::lfp_tables(&a.input, &windows, &cfg.lfp)
            .with_context(|| format!("{}: LFP band powers", a.input.display()))?
    {
        write_table(&bands, &a.out, format_of(a.format))?;
        write_table(&spectra, &a.out, format_of(a.format))?;
        lfp_written = true;
    }
    let title = a.input.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let figs = if a.no_figures { Vec::new() } else { figures(&input.units, &an, &a.out.join("figures"), &title)? };
    let mut prov = Provenance::new(
        "bursts",
        json!({ "method": method, "metrics": cfg.metrics, "lfp": cfg.lfp, "bin_s": a.bin, "exclude_after_s": a.exclude_after }),
    );
    prov.inputs.push(
        burstscope_core::InputIdentity::of(&a.input).with_context(|| format!("{}: cannot hash", a.input.display()))?,
    );
    prov.extra.insert("windows".into(), json!(windows));
    prov.extra.insert("drug_at_s".into(), json!(drug));
    prov.extra.insert("recording_s".into(), json!([input.start_s, input.end_s]));
    prov.extra.insert("n_units".into(), json!(input.units.len()));
    prov.extra.insert("n_bursts".into(), json!(an.bursts.iter().map(Vec::len).sum::<usize>()));
    prov.extra.insert("subject".into(), json!(input.subject));
    prov.extra.insert("lfp_tables".into(), json!(lfp_written));
    write_json(&a.out.join("bursts.json"), &prov)?;
    eprintln!(
        "{}: {} units, {} bursts ({}) → {}",
        a.input.display(),
        input.units.len(),
        an.bursts.iter().map(Vec::len).sum::<usize>(),
        method.name(),
        a.out.display()
    );
    Ok(BurstsOutput { analysis: an, units: input.units, figures: figs })
}
