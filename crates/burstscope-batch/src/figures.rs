//! The dataset stage's figures, with animals as the unit: per-animal paired
//! plots (units faint, animal means bold), baseline values per group and
//! cell measures per region with one point per animal, the time course
//! around the injection (mean ± SEM across animals, per group) and the
//! firing classes per group and window.

use crate::dataset::{DatasetError, UnitPairs, text_col};
use burstscope_core::{ColumnData, Table};
use burstscope_plot as plot;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A figure written by the dataset stage.
#[derive(Debug, Clone)]
pub(crate) struct DatasetFigure {
    /// File stem in `dataset/figures/` (with `.svg`, `.png`, `.pdf`).
    pub name: String,
    /// Caption for the report.
    pub caption: String,
    /// The SVG text (inlined by the report).
    pub svg: String,
}

/// Unit metrics drawn, with their axis labels.
const FIG_METRICS: [(&str, &str); 6] = [
    ("bursts_per_min", "Bursts per minute"),
    ("pct_spikes_in_bursts", "Spikes in bursts (%)"),
    ("firing_rate_hz", "Firing rate (Hz)"),
    ("tonic_rate_hz", "Tonic rate (Hz)"),
    ("mean_spikes_per_burst", "Spikes per burst"),
    ("mean_intraburst_freq_hz", "Intraburst frequency (Hz)"),
];

/// Cell measures drawn per region.
const CELL_FIG: [(&str, &str); 3] = [
    ("block_pct", "Block (%)"),
    ("pct_of_baseline", "Amplitude (% of baseline)"),
    ("baseline_amplitude_pa", "Baseline amplitude (pA)"),
];

/// Time-course panels.
const COURSE: [(&str, &str); 3] = [
    ("firing_rate_hz", "Firing rate (Hz)"),
    ("bursts_per_min", "Bursts per minute"),
    ("pct_spikes_in_bursts", "Spikes in bursts (%)"),
];

/// A statistics row found by comparison, metric and test.
struct StatRow {
    estimate: f64,
    se: f64,
    p_holm: f64,
    n_animals: i64,
    n_units: i64,
}

/// Looks up rows of the dataset's `stats` table.
struct Stats<'a>(Option<&'a Table>);

impl Stats<'_> {
    fn get(&self, comparison: &str, metric: &str, test: &str) -> Option<StatRow> {
        let t = self.0?;
        let s = |c: &str| match t.column(c) {
            Some(ColumnData::Str(v)) => Some(v),
            _ => None,
        };
        let f = |c: &str, i: usize| match t.column(c) {
            Some(ColumnData::F64(v)) => v[i],
            _ => f64::NAN,
        };
        let n = |c: &str, i: usize| match t.column(c) {
            Some(ColumnData::I64(v)) => v[i],
            _ => 0,
        };
        let (cmp, met, te) = (s("comparison")?, s("metric")?, s("test")?);
        let i = (0..t.n_rows()).find(|&i| cmp[i] == comparison && met[i] == metric && te[i] == test)?;
        Some(StatRow {
            estimate: f("estimate", i),
            se: f("se", i),
            p_holm: f("p_holm", i),
            n_animals: n("n_animals", i),
            n_units: n("n_units", i),
        })
    }
}

/// Three significant digits, with a true minus sign.
fn sig(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.2e}")
    } else {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.decimals$}")
    };
    s.replace('-', "−")
}

/// "= 0.012", "< 1e-300" or "= n/a", to follow "p(Holm)".
fn p_text(p: f64) -> String {
    let t = if p.is_finite() { burstscope_stats::format_p(p) } else { "n/a".into() };
    if t.starts_with('<') { t } else { format!("= {t}") }
}

fn numbers(t: &Table, c: &str) -> Option<Vec<f64>> {
    #[allow(clippy::cast_precision_loss)]
    match t.column(c)? {
        ColumnData::F64(v) => Some(v.clone()),
        ColumnData::F32(v) => Some(v.iter().map(|&x| f64::from(x)).collect()),
        ColumnData::I64(v) => Some(v.iter().map(|&x| x as f64).collect()),
        ColumnData::U64(v) => Some(v.iter().map(|&x| x as f64).collect()),
        _ => None,
    }
}

fn mean(v: &[f64]) -> f64 {
    let x: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    #[allow(clippy::cast_precision_loss)]
    if x.is_empty() { f64::NAN } else { x.iter().sum::<f64>() / x.len() as f64 }
}

fn mean_sem(v: &[f64]) -> (f64, f64) {
    let x: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if x.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    #[allow(clippy::cast_precision_loss)]
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (m, 0.0);
    }
    let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (m, sd / n.sqrt())
}

/// The name shown for a group value.
fn group_name(g: &str) -> String {
    if g.is_empty() { "all".into() } else { g.to_string() }
}

fn render(
    fig: &impl plot::Figure,
    dir: &Path,
    name: &str,
    caption: String,
    out: &mut Vec<DatasetFigure>,
) -> Result<(), DatasetError> {
    let r = plot::render(fig, dir, name).map_err(|e| DatasetError::Invalid(e.to_string()))?;
    let svg = std::fs::read_to_string(&r.svg).map_err(|e| DatasetError::Io { path: r.svg.clone(), source: e })?;
    out.push(DatasetFigure { name: name.to_string(), caption, svg });
    Ok(())
}

/// Draws every figure the merged tables allow into `dir`.
///
/// # Errors
/// A figure could not be drawn or written.
pub(crate) fn dataset_figures(
    um: Option<&Table>,
    course: Option<&Table>,
    cells: Option<&Table>,
    stats: Option<&Table>,
    dir: &Path,
) -> Result<Vec<DatasetFigure>, DatasetError> {
    let stats = Stats(stats);
    let mut out = Vec::new();
    if let Some(um) = um {
        let pairs = UnitPairs::of(um)?;
        paired(um, &pairs, &stats, dir, &mut out)?;
        groups(um, &pairs, &stats, dir, &mut out)?;
        classes(um, dir, &mut out)?;
    }
    if let Some(tc) = course {
        time_course(tc, dir, &mut out)?;
    }
    if let Some(c) = cells {
        regions(c, &stats, dir, &mut out)?;
    }
    Ok(out)
}

fn paired(
    um: &Table,
    pairs: &UnitPairs,
    stats: &Stats<'_>,
    dir: &Path,
    out: &mut Vec<DatasetFigure>,
) -> Result<(), DatasetError> {
    if pairs.both.is_empty() {
        return Ok(());
    }
    let (subject, group) = (text_col(um, "subject")?, text_col(um, "group")?);
    let group_names: Vec<String> =
        pairs.both.iter().map(|&(a, _)| group[a].clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let subjects: BTreeSet<&str> = pairs.both.iter().map(|&(a, _)| subject[a].as_str()).collect();
    let mut panels = Vec::new();
    for (metric, label) in FIG_METRICS {
        let Some(v) = numbers(um, metric) else { continue };
        let units: Vec<(f64, f64)> = pairs.both.iter().map(|&(a, b)| (v[a], v[b])).collect();
        let animals = subjects
            .iter()
            .map(|&s| {
                let mine: Vec<&(usize, usize)> = pairs.both.iter().filter(|&&(a, _)| subject[a] == s).collect();
                let ok: Vec<(f64, f64)> =
                    mine.iter().map(|&&(a, b)| (v[a], v[b])).filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
                let g = mine.first().map_or(0, |&&(a, _)| group_names.iter().position(|n| *n == group[a]).unwrap_or(0));
                (
                    g,
                    mean(&ok.iter().map(|p| p.0).collect::<Vec<_>>()),
                    mean(&ok.iter().map(|p| p.1).collect::<Vec<_>>()),
                )
            })
            .collect();
        let annotation = stats.get("pre_post", metric, "lmm").map_or_else(
            || "no mixed model (too few animals or no variation)".to_string(),
            |r| {
                format!(
                    "LMM change {} ± {}, p(Holm) {}\n{} animals, {} units",
                    sig(r.estimate),
                    sig(r.se),
                    p_text(r.p_holm),
                    r.n_animals,
                    r.n_units
                )
            },
        );
        panels.push(plot::AnimalPanel { label: label.into(), units, animals, annotation });
    }
    if panels.is_empty() {
        return Ok(());
    }
    let fig = plot::AnimalPairedPlot {
        panels,
        conditions: ["baseline".into(), pairs.post_name.clone()],
        groups: group_names.iter().map(|g| group_name(g)).collect(),
        title: format!("Before vs after, per animal ({} animals; grey: units)", subjects.len()),
    };
    render(
        &fig,
        dir,
        "paired_animals",
        format!(
            "Each unit's baseline and {} values (grey) and each animal's mean (bold, coloured by group). \
             The annotation is the mixed model of the change with a random intercept per animal.",
            pairs.post_name
        ),
        out,
    )
}

/// Per-animal means of `v` over `rows`, per level of `level` (levels sorted).
fn animal_means(
    rows: &[usize],
    level: &[String],
    subject: &[String],
    v: &[f64],
    levels: &[String],
) -> Vec<(String, Vec<f64>)> {
    levels
        .iter()
        .map(|l| {
            let mut per: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
            for &i in rows.iter().filter(|&&i| level[i] == *l) {
                per.entry(subject[i].as_str()).or_default().push(v[i]);
            }
            (group_name(l), per.values().map(|x| mean(x)).filter(|m| m.is_finite()).collect())
        })
        .collect()
}

fn groups(
    um: &Table,
    pairs: &UnitPairs,
    stats: &Stats<'_>,
    dir: &Path,
    out: &mut Vec<DatasetFigure>,
) -> Result<(), DatasetError> {
    let (subject, group) = (text_col(um, "subject")?, text_col(um, "group")?);
    let levels: Vec<String> = pairs
        .baselines
        .iter()
        .map(|&i| group[i].clone())
        .filter(|g| !g.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if levels.len() < 2 {
        return Ok(());
    }
    let panels: Vec<plot::GroupPoints> = FIG_METRICS
        .iter()
        .filter_map(|&(metric, label)| {
            let v = numbers(um, metric)?;
            let annotation = match (
                stats.get("group_baseline", metric, "lmm"),
                stats.get("group_baseline", metric, "ttest_welch_animals"),
            ) {
                (Some(l), Some(w)) => format!("LMM p(Holm) {}; Welch p(Holm) {}", p_text(l.p_holm), p_text(w.p_holm)),
                (Some(l), None) => format!("LMM p(Holm) {}", p_text(l.p_holm)),
                _ => String::new(),
            };
            Some(plot::GroupPoints {
                groups: animal_means(&pairs.baselines, group, subject, &v, &levels),
                y_label: label.into(),
                annotation,
                title: label.into(),
            })
        })
        .collect();
    if panels.is_empty() {
        return Ok(());
    }
    let fig = plot::GroupPanels { panels, title: "Baseline per group (points: animal means; bar: mean ± SEM)".into() };
    render(
        &fig,
        dir,
        "groups_baseline",
        "Baseline values per treatment group, one point per animal (the mean of its units), with the mixed model \
         (random intercept per animal) and Welch's test on animal means, Holm-adjusted across metrics."
            .into(),
        out,
    )
}

fn classes(um: &Table, dir: &Path, out: &mut Vec<DatasetFigure>) -> Result<(), DatasetError> {
    let (Some(ColumnData::Str(class)), Ok(group), Ok(window)) =
        (um.column("class"), text_col(um, "group"), text_col(um, "window"))
    else {
        return Ok(());
    };
    // baseline first, then the other windows in order of appearance
    let mut windows: Vec<&str> = vec!["baseline"];
    for w in window {
        if !windows.contains(&w.as_str()) {
            windows.push(w);
        }
    }
    let levels: BTreeSet<&str> = group.iter().map(String::as_str).collect();
    let mut bars = Vec::new();
    for g in &levels {
        for w in &windows {
            let mut n = [0usize; 3];
            for i in (0..um.n_rows()).filter(|&i| group[i] == *g && window[i] == *w) {
                match class[i].as_str() {
                    "silent" => n[0] += 1,
                    "tonic" => n[1] += 1,
                    "bursting" => n[2] += 1,
                    _ => {}
                }
            }
            let total: usize = n.iter().sum();
            if total > 0 {
                #[allow(clippy::cast_precision_loss)]
                let f = n.map(|k| k as f64 / total as f64);
                bars.push((format!("{} {w}", group_name(g)), f));
            }
        }
    }
    if bars.is_empty() {
        return Ok(());
    }
    let fig = plot::ClassBars { groups: bars, title: "Firing classes per group and window (units)".into() };
    render(
        &fig,
        dir,
        "classes_groups",
        "Fractions of silent, tonic and bursting units per group and window.".into(),
        out,
    )
}

fn time_course(tc: &Table, dir: &Path, out: &mut Vec<DatasetFigure>) -> Result<(), DatasetError> {
    let (subject, group) = (text_col(tc, "subject")?, text_col(tc, "group")?);
    let (Some(start), Some(stop)) = (numbers(tc, "bin_start_s"), numbers(tc, "bin_stop_s")) else { return Ok(()) };
    if tc.n_rows() == 0 {
        return Ok(());
    }
    // Bins keyed by their start in ms (bins are aligned on each session's injection).
    #[allow(clippy::cast_possible_truncation)]
    let key = |i: usize| (start[i] * 1e3).round() as i64;
    let mut centre: BTreeMap<i64, f64> = BTreeMap::new();
    for i in 0..tc.n_rows() {
        centre.entry(key(i)).or_insert(0.5 * (start[i] + stop[i]) / 60.0);
    }
    let bins: Vec<i64> = centre.keys().copied().collect();
    let levels: BTreeSet<&str> = group.iter().map(String::as_str).collect();
    let mut panels = Vec::new();
    for (metric, label) in COURSE {
        let Some(v) = numbers(tc, metric) else { continue };
        let mut series = Vec::new();
        for g in &levels {
            // bin -> animal -> unit values
            let mut per: BTreeMap<i64, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
            for i in (0..tc.n_rows()).filter(|&i| group[i] == *g) {
                per.entry(key(i)).or_default().entry(subject[i].as_str()).or_default().push(v[i]);
            }
            let n_animals = per.values().flat_map(BTreeMap::keys).collect::<BTreeSet<_>>().len();
            let (mut m, mut e) = (Vec::new(), Vec::new());
            for b in &bins {
                let animal: Vec<f64> = per.get(b).map(|a| a.values().map(|x| mean(x)).collect()).unwrap_or_default();
                let (mm, ee) = mean_sem(&animal);
                m.push(mm);
                e.push(ee);
            }
            let label =
                if levels.len() > 1 { format!("{} ({n_animals} animals)", group_name(g)) } else { String::new() };
            series.push(plot::CourseSeries { label, mean: m, sem: e });
        }
        panels.push(plot::TimeCoursePanel { y_label: label.into(), series });
    }
    let n_animals = subject.iter().collect::<BTreeSet<_>>().len();
    let fig = plot::TimeCourse {
        x_min: centre.values().copied().collect(),
        panels,
        event: "injection".into(),
        title: format!("Mean ± SEM across {n_animals} animals"),
    };
    render(
        &fig,
        dir,
        "time_course_animals",
        "The time course around the injection: each animal's mean over its units per bin, then the mean ± SEM \
         across animals, per group."
            .into(),
        out,
    )
}

fn regions(cells: &Table, stats: &Stats<'_>, dir: &Path, out: &mut Vec<DatasetFigure>) -> Result<(), DatasetError> {
    let (subject, region) = (text_col(cells, "subject")?, text_col(cells, "region")?);
    let pass: Vec<usize> = match cells.column("qc_pass") {
        Some(ColumnData::Bool(q)) => (0..cells.n_rows()).filter(|&i| q[i]).collect(),
        _ => (0..cells.n_rows()).collect(),
    };
    let levels: Vec<String> = pass
        .iter()
        .map(|&i| region[i].clone())
        .filter(|r| !r.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if levels.len() < 2 {
        return Ok(());
    }
    let panels: Vec<plot::GroupPoints> = CELL_FIG
        .iter()
        .filter_map(|&(m, label)| {
            let v = numbers(cells, m)?;
            let annotation = stats
                .get("region_cells", m, "lmm")
                .map(|r| format!("LMM {} ± {}, p(Holm) {}", sig(r.estimate), sig(r.se), p_text(r.p_holm)))
                .unwrap_or_default();
            Some(plot::GroupPoints {
                groups: animal_means(&pass, region, subject, &v, &levels),
                y_label: label.into(),
                annotation,
                title: label.into(),
            })
        })
        .collect();
    if panels.is_empty() {
        return Ok(());
    }
    let fig = plot::GroupPanels { panels, title: "Slice cells per region (points: animal means)".into() };
    render(
        &fig,
        dir,
        "regions_cells",
        "Cell measures per region (cells that passed QC), one point per animal; the mixed model has a random \
         intercept per animal."
            .into(),
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits() {
        assert_eq!(sig(-2.0), "−2.00");
        assert_eq!(sig(123.456), "123");
        assert_eq!(sig(0.012345), "0.0123");
        assert_eq!(sig(1.5e-5), "1.50e−5");
        assert_eq!(sig(f64::NAN), "n/a");
    }
}
