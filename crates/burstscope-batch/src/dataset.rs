//! The dataset stage: the per-session tables concatenated with the
//! manifest's columns, and the pre vs post statistics of every unit metric
//! with animals as the experimental unit.

use crate::Manifest;
pub use crate::report::NotDone;
use burstscope_core::{ColumnData, OutputDir, Table};
use burstscope_stats::animals::{AnimalTest, between_groups, pre_post};
use burstscope_tables::{Format, read_table, write_table};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why the dataset stage failed.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A session table could not be read.
    #[error(transparent)]
    Table(#[from] burstscope_tables::TableError),
    /// The output could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// Where.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Tables that cannot be merged.
    #[error("{0}")]
    Invalid(String),
}

/// Tables merged: (stage, file stem in the stage folder, merged name).
const TABLES: [(&str, &str, &str); 6] = [
    ("bursts", "unit_metrics", "unit_metrics"),
    ("bursts", "bursts", "bursts"),
    ("bursts", "time_course", "time_course"),
    ("sort", "units", "units"),
    ("epsc", "cells", "epsc_cells"),
    ("epsc", "sweeps", "epsc_sweeps"),
];

/// The report page of the dataset folder.
pub const REPORT: &str = "report.html";
/// The record file of the dataset folder.
pub const DATASET_RECORD: &str = "dataset.json";
/// Version of the dataset stage's results (merge and statistics).
pub const DATASET_ALGORITHM_VERSION: u32 = 2;

/// What the dataset stage wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSummary {
    /// The folder.
    pub dir: PathBuf,
    /// Rows per merged table.
    pub rows: BTreeMap<String, usize>,
    /// Sessions merged per table.
    pub sessions: BTreeMap<String, usize>,
    /// Statistics rows.
    pub stats_rows: usize,
    /// Figures drawn (file stems in `figures/`).
    pub figures: Vec<String>,
}

/// Concatenates `parts` (each with the manifest's columns for its session
/// first). Columns missing from a part are filled (NaN for numbers, "" for
/// text, false for flags); a column whose type differs between parts is an
/// error.
fn concat(name: &str, parts: &[(Vec<(String, String)>, Table)]) -> Result<Table, DatasetError> {
    let mut order: Vec<String> = Vec::new();
    let mut kinds: BTreeMap<String, &'static str> = BTreeMap::new();
    let kind = |d: &ColumnData| match d {
        ColumnData::I64(_) | ColumnData::U64(_) | ColumnData::F64(_) | ColumnData::F32(_) => "number",
        ColumnData::Str(_) => "text",
        ColumnData::Bool(_) => "flag",
    };
    for (meta, t) in parts {
        for (c, _) in meta {
            if !kinds.contains_key(c) {
                kinds.insert(c.clone(), "text");
                order.push(c.clone());
            }
        }
        for c in &t.columns {
            match kinds.get(&c.name) {
                Some(k) if *k != kind(&c.data) => {
                    return Err(DatasetError::Invalid(format!(
                        "{name}: column {} is {} in one session and {} in another",
                        c.name,
                        k,
                        kind(&c.data)
                    )));
                }
                Some(_) => {}
                None => {
                    kinds.insert(c.name.clone(), kind(&c.data));
                    order.push(c.name.clone());
                }
            }
        }
    }
    // Integer columns stay integers when every part has them as such.
    let all_int = |c: &str| parts.iter().all(|(_, t)| matches!(t.column(c), Some(ColumnData::I64(_))));
    let mut out = Table::new(name);
    for c in &order {
        let data = match kinds[c] {
            "text" => ColumnData::Str(
                parts
                    .iter()
                    .flat_map(|(meta, t)| {
                        let n = t.n_rows();
                        // The table's own column (e.g. each cell's region) wins
                        // over the manifest's value for the session.
                        match (t.column(c), meta.iter().find(|(k, _)| k == c)) {
                            (Some(ColumnData::Str(v)), _) => v.clone(),
                            (_, Some((_, v))) => vec![v.clone(); n],
                            _ => vec![String::new(); n],
                        }
                    })
                    .collect(),
            ),
            "flag" => ColumnData::Bool(
                parts
                    .iter()
                    .flat_map(|(_, t)| match t.column(c) {
                        Some(ColumnData::Bool(v)) => v.clone(),
                        _ => vec![false; t.n_rows()],
                    })
                    .collect(),
            ),
            _ if all_int(c) => ColumnData::I64(
                parts
                    .iter()
                    .flat_map(|(_, t)| match t.column(c) {
                        Some(ColumnData::I64(v)) => v.clone(),
                        _ => Vec::new(),
                    })
                    .collect(),
            ),
            _ => ColumnData::F64(
                parts
                    .iter()
                    .flat_map(|(_, t)| {
                        #[allow(clippy::cast_precision_loss)]
                        let v: Vec<f64> = match t.column(c) {
                            Some(ColumnData::I64(v)) => v.iter().map(|&x| x as f64).collect(),
                            Some(ColumnData::U64(v)) => v.iter().map(|&x| x as f64).collect(),
                            Some(ColumnData::F64(v)) => v.clone(),
                            Some(ColumnData::F32(v)) => v.iter().map(|&x| f64::from(x)).collect(),
                            _ => vec![f64::NAN; t.n_rows()],
                        };
                        v
                    })
                    .collect(),
            ),
        };
        out.push(c, data);
    }
    Ok(out)
}

/// Runs the dataset stage over the sessions whose stages are in `done`
/// (session index, stage name), writing `out/dataset/` atomically: the
/// merged tables, `stats`, the figures in `figures/`, `report.html` (which
/// lists `not_done`, the stages that did not complete) and a record whose key
/// lists `upstream` (the keys of the stages merged).
///
/// # Errors
/// [`DatasetError`].
pub fn run_dataset(
    m: &Manifest,
    out: &Path,
    done: &[(usize, &str)],
    not_done: &[NotDone],
    upstream: &[String],
) -> Result<DatasetSummary, DatasetError> {
    let t0 = std::time::Instant::now();
    let mut seconds: BTreeMap<&str, f64> = BTreeMap::new();
    let dest = out.join("dataset");
    let dir =
        OutputDir::create(&dest, DATASET_RECORD).map_err(|e| DatasetError::Io { path: dest.clone(), source: e })?;
    let mut rows = BTreeMap::new();
    let mut sessions = BTreeMap::new();
    let mut unit_metrics: Option<Table> = None;
    let mut epsc_cells: Option<Table> = None;
    let mut time_course: Option<Table> = None;
    for (stage, stem, merged) in TABLES {
        let mut parts = Vec::new();
        for &(s, st) in done {
            if st != stage {
                continue;
            }
            let sess = &m.sessions[s];
            let path = out.join("sessions").join(&sess.session).join(stage).join(format!("{stem}.parquet"));
            if !path.exists() {
                continue;
            }
            let mut meta = vec![
                ("session".to_string(), sess.session.clone()),
                ("subject".to_string(), sess.subject.clone()),
                ("group".to_string(), sess.group.clone()),
                ("region".to_string(), sess.region.clone()),
                ("drug".to_string(), sess.drug.clone()),
                ("kind".to_string(), sess.kind.as_str().to_string()),
            ];
            for c in &m.extra_columns {
                meta.push((c.clone(), sess.extra.get(c).cloned().unwrap_or_default()));
            }
            parts.push((meta, read_table(&path)?));
        }
        if parts.is_empty() {
            continue;
        }
        sessions.insert(merged.to_string(), parts.len());
        let t = concat(merged, &parts)?;
        rows.insert(merged.to_string(), t.n_rows());
        write_table(&t, dir.path(), Format::Parquet)?;
        match merged {
            "unit_metrics" => unit_metrics = Some(t),
            "epsc_cells" => epsc_cells = Some(t),
            "time_course" => time_course = Some(t),
            _ => {}
        }
    }
    seconds.insert("merge", t0.elapsed().as_secs_f64());
    let t1 = std::time::Instant::now();
    let stats = stats_table(unit_metrics.as_ref(), epsc_cells.as_ref())?;
    let stats_rows = stats.as_ref().map_or(0, Table::n_rows);
    if let Some(t) = &stats {
        write_table(t, dir.path(), Format::Parquet)?;
    }
    seconds.insert("statistics", t1.elapsed().as_secs_f64());
    let t2 = std::time::Instant::now();
    let figures = crate::figures::dataset_figures(
        unit_metrics.as_ref(),
        time_course.as_ref(),
        epsc_cells.as_ref(),
        stats.as_ref(),
        &dir.path().join("figures"),
    )?;
    let html = crate::report::report_html(&crate::report::ReportInput {
        manifest: m,
        out,
        done,
        not_done,
        unit_metrics: unit_metrics.as_ref(),
        cells: epsc_cells.as_ref(),
        stats: stats.as_ref(),
        figures: &figures,
        rows: &rows,
    });
    let report = dir.path().join(REPORT);
    std::fs::write(&report, html).map_err(|e| DatasetError::Io { path: report.clone(), source: e })?;
    seconds.insert("figures_and_report", t2.elapsed().as_secs_f64());
    // A burstscope record, so that the batch cache can verify and reuse it.
    let sessions_json: Vec<serde_json::Value> =
        done.iter().map(|&(s, st)| serde_json::json!({"session": m.sessions[s].session, "stage": st})).collect();
    let files = burstscope_core::list_outputs(dir.path(), DATASET_RECORD)
        .map_err(|e| DatasetError::Io { path: dir.path().to_path_buf(), source: e })?;
    let mut summary = BTreeMap::new();
    summary.insert("manifest".to_string(), serde_json::json!(m.file.display().to_string()));
    summary.insert("sessions".to_string(), serde_json::json!(sessions_json));
    summary.insert("rows".to_string(), serde_json::json!(rows));
    summary.insert("stats_rows".to_string(), serde_json::json!(stats_rows));
    let not_done_json: Vec<serde_json::Value> = not_done
        .iter()
        .map(|d| serde_json::json!({"session": m.sessions[d.session].session, "stage": d.stage, "reason": d.reason}))
        .collect();
    summary.insert("not_done".to_string(), serde_json::json!(not_done_json));
    summary.insert("seconds".to_string(), serde_json::json!(seconds));
    let record = burstscope_core::Record {
        schema: burstscope_core::RECORD_SCHEMA.into(),
        key: burstscope_core::RecordKey {
            stage: "dataset".into(),
            algorithm_version: DATASET_ALGORITHM_VERSION,
            program: burstscope_core::ProgramId {
                name: "burstscope".into(),
                version: burstscope_core::program_version().into(),
                git_commit: None,
            },
            inputs: Vec::new(),
            upstream: upstream.to_vec(),
            config: serde_json::json!({}),
        },
        outputs: burstscope_core::RecordOutputs { files, warnings: Vec::new(), summary },
        run: burstscope_core::RunInfo {
            started_utc: burstscope_core::now_utc(),
            host: burstscope_core::host_name(),
            threads: 1,
            wall_s: t0.elapsed().as_secs_f64(),
        },
    };
    std::fs::write(dir.path().join(DATASET_RECORD), serde_json::to_vec_pretty(&record).unwrap_or_default())
        .map_err(|e| DatasetError::Io { path: dir.path().join(DATASET_RECORD), source: e })?;
    let committed = dir.commit().map_err(|e| DatasetError::Io { path: dest.clone(), source: e })?;
    let figures = figures.into_iter().map(|f| f.name).collect();
    Ok(DatasetSummary { dir: committed, rows, sessions, stats_rows, figures })
}

/// Columns of `unit_metrics` that are not metrics.
const NOT_METRICS: [&str; 4] = ["unit", "window_start_s", "window_stop_s", "n_spikes"];
/// Cell measures compared between regions.
const CELL_MEASURES: [&str; 3] = ["block_pct", "pct_of_baseline", "baseline_amplitude_pa"];

/// One statistics row before adjustment.
struct Row {
    comparison: &'static str,
    first: String,
    second: String,
    metric: String,
    r: AnimalTest,
}

pub(crate) fn text_col<'a>(t: &'a Table, c: &str) -> Result<&'a Vec<String>, DatasetError> {
    match t.column(c) {
        Some(ColumnData::Str(v)) => Ok(v),
        _ => Err(DatasetError::Invalid(format!("{}: no text column {c}", t.name))),
    }
}

/// Dense ids of text values, in order of first appearance.
fn ids(v: &[String]) -> Vec<usize> {
    let mut m: BTreeMap<&str, usize> = BTreeMap::new();
    v.iter()
        .map(|s| {
            let n = m.len();
            *m.entry(s.as_str()).or_insert(n)
        })
        .collect()
}

/// The two levels of `v` over `rows` when there are exactly two (sorted).
fn two_levels(v: &[String], rows: &[usize]) -> Option<(String, String)> {
    let set: std::collections::BTreeSet<&str> = rows.iter().map(|&i| v[i].as_str()).filter(|s| !s.is_empty()).collect();
    let mut it = set.into_iter();
    match (it.next(), it.next(), it.next()) {
        (Some(a), Some(b), None) => Some((a.to_string(), b.to_string())),
        _ => None,
    }
}

/// Pre vs post per unit metric; baseline values between two treatment
/// groups; cell measures between two regions — each as the mixed model and
/// the tests on animal means, Holm-adjusted across metrics within each
/// comparison and test.
fn stats_table(um: Option<&Table>, cells: Option<&Table>) -> Result<Option<Table>, DatasetError> {
    let mut rows: Vec<Row> = Vec::new();
    if let Some(um) = um {
        unit_stats(um, &mut rows)?;
    }
    if let Some(c) = cells {
        cell_stats(c, &mut rows)?;
    }
    if um.is_none() && cells.is_none() {
        return Ok(None);
    }
    let mut p_holm = vec![f64::NAN; rows.len()];
    let keys: std::collections::BTreeSet<(&str, String)> =
        rows.iter().map(|r| (r.comparison, r.r.test.clone())).collect();
    for (c, t) in keys {
        let idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].comparison == c && rows[i].r.test == t).collect();
        let adj = burstscope_stats::holm(&idx.iter().map(|&i| rows[i].r.p_value).collect::<Vec<_>>());
        for (&i, a) in idx.iter().zip(adj) {
            p_holm[i] = a;
        }
    }
    let mut t = Table::new("stats");
    let col_f = |f: &dyn Fn(&AnimalTest) -> f64| ColumnData::F64(rows.iter().map(|x| f(&x.r)).collect());
    #[allow(clippy::cast_possible_wrap)]
    let col_i = |f: &dyn Fn(&AnimalTest) -> usize| ColumnData::I64(rows.iter().map(|x| f(&x.r) as i64).collect());
    t.push("comparison", ColumnData::Str(rows.iter().map(|x| x.comparison.to_string()).collect()));
    t.push("first", ColumnData::Str(rows.iter().map(|x| x.first.clone()).collect()));
    t.push("second", ColumnData::Str(rows.iter().map(|x| x.second.clone()).collect()));
    t.push("metric", ColumnData::Str(rows.iter().map(|x| x.metric.clone()).collect()));
    t.push("test", ColumnData::Str(rows.iter().map(|x| x.r.test.clone()).collect()));
    t.push("estimate", col_f(&|r| r.estimate));
    t.push("se", col_f(&|r| r.se));
    t.push("statistic", col_f(&|r| r.statistic));
    t.push("p_value", col_f(&|r| r.p_value));
    t.push("p_holm", ColumnData::F64(p_holm));
    t.push("n_units", col_i(&|r| r.n_units));
    t.push("n_sessions", col_i(&|r| r.n_sessions));
    t.push("n_animals", col_i(&|r| r.n_animals));
    Ok(Some(t))
}

/// Each unit's baseline row and its first other window's row, per (session, unit).
pub(crate) struct UnitPairs {
    /// (baseline row, post row) of the units that have both.
    pub both: Vec<(usize, usize)>,
    /// Baseline rows of every unit.
    pub baselines: Vec<usize>,
    /// The post windows' names, joined with "/".
    pub post_name: String,
}

impl UnitPairs {
    pub(crate) fn of(um: &Table) -> Result<Self, DatasetError> {
        let (session, window) = (text_col(um, "session")?, text_col(um, "window")?);
        let unit: Vec<String> = match um.column("unit") {
            Some(ColumnData::I64(v)) => v.iter().map(ToString::to_string).collect(),
            Some(ColumnData::U64(v)) => v.iter().map(ToString::to_string).collect(),
            Some(ColumnData::F64(v)) => v.iter().map(ToString::to_string).collect(),
            Some(ColumnData::Str(v)) => v.clone(),
            _ => return Err(DatasetError::Invalid("unit_metrics: no unit column".into())),
        };
        // (session, unit) -> (baseline row, post row)
        type Rows = (Option<usize>, Option<usize>);
        let mut pairs: BTreeMap<(&str, &str), Rows> = BTreeMap::new();
        let mut post_names: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for i in 0..um.n_rows() {
            let e = pairs.entry((session[i].as_str(), unit[i].as_str())).or_default();
            if window[i] == "baseline" {
                e.0.get_or_insert(i);
            } else if e.1.is_none() {
                e.1 = Some(i);
                post_names.insert(window[i].as_str());
            }
        }
        Ok(Self {
            both: pairs.values().filter_map(|&(a, b)| Some((a?, b?))).collect(),
            baselines: pairs.values().filter_map(|&(a, _)| a).collect(),
            post_name: post_names.into_iter().collect::<Vec<_>>().join("/"),
        })
    }
}

fn unit_stats(um: &Table, out: &mut Vec<Row>) -> Result<(), DatasetError> {
    let (session, subject, group) = (text_col(um, "session")?, text_col(um, "subject")?, text_col(um, "group")?);
    let UnitPairs { both, baselines, post_name } = UnitPairs::of(um)?;
    let (subj_id, sess_id) = (ids(subject), ids(session));
    let groups = two_levels(group, &baselines);
    let group_rows = groups.as_ref().map(|(g0, g1)| {
        let rows = baselines.iter().copied().filter(|&i| group[i] == *g0 || group[i] == *g1).collect();
        LevelRows::new(rows, |i| group[i] == *g1, &subj_id, &sess_id)
    });
    // One metric per task (the mixed models dominate); rows in column order
    // whatever the thread count.
    let per_metric: Vec<Vec<Row>> = um
        .columns
        .par_iter()
        .map(|c| {
            let mut out = Vec::new();
            let ColumnData::F64(v) = &c.data else { return out };
            if NOT_METRICS.contains(&c.name.as_str()) {
                return out;
            }
            let pre: Vec<f64> = both.iter().map(|&(a, _)| v[a]).collect();
            let post: Vec<f64> = both.iter().map(|&(_, b)| v[b]).collect();
            let subj: Vec<usize> = both.iter().map(|&(a, _)| subj_id[a]).collect();
            let sess: Vec<usize> = both.iter().map(|&(a, _)| sess_id[a]).collect();
            // Metrics without variation or too few units give no rows.
            if let Ok(rows) = pre_post(&pre, &post, &subj, &sess) {
                out.extend(rows.into_iter().map(|r| Row {
                    comparison: "pre_post",
                    first: "baseline".into(),
                    second: post_name.clone(),
                    metric: c.name.clone(),
                    r,
                }));
            }
            if let (Some((g0, g1)), Some(levels)) = (&groups, &group_rows)
                && let Some(rows) = levels.compare(v)
            {
                out.extend(rows.into_iter().map(|r| Row {
                    comparison: "group_baseline",
                    first: g0.clone(),
                    second: g1.clone(),
                    metric: c.name.clone(),
                    r,
                }));
            }
            out
        })
        .collect();
    out.extend(per_metric.into_iter().flatten());
    Ok(())
}

/// Rows compared between two levels, with each row's level, animal and
/// session: the same for every metric of a comparison.
struct LevelRows {
    rows: Vec<usize>,
    second: Vec<bool>,
    subj: Vec<usize>,
    sess: Vec<usize>,
}

impl LevelRows {
    fn new(rows: Vec<usize>, is_second: impl Fn(usize) -> bool, subj_id: &[usize], sess_id: &[usize]) -> Self {
        Self {
            second: rows.iter().map(|&i| is_second(i)).collect(),
            subj: rows.iter().map(|&i| subj_id[i]).collect(),
            sess: rows.iter().map(|&i| sess_id[i]).collect(),
            rows,
        }
    }

    /// [`between_groups`] of the metric `v`; None when it cannot be fitted.
    fn compare(&self, v: &[f64]) -> Option<Vec<AnimalTest>> {
        let vals: Vec<f64> = self.rows.iter().map(|&i| v[i]).collect();
        between_groups(&vals, &self.second, &self.subj, &self.sess).ok()
    }
}

fn cell_stats(cells: &Table, out: &mut Vec<Row>) -> Result<(), DatasetError> {
    let (session, subject, region) =
        (text_col(cells, "session")?, text_col(cells, "subject")?, text_col(cells, "region")?);
    // Cells that failed QC are left out, as the slice analysis leaves them out.
    let pass: Vec<usize> = match cells.column("qc_pass") {
        Some(ColumnData::Bool(q)) => (0..cells.n_rows()).filter(|&i| q[i]).collect(),
        _ => (0..cells.n_rows()).collect(),
    };
    let Some((r0, r1)) = two_levels(region, &pass) else { return Ok(()) };
    let rows_r: Vec<usize> = pass.iter().copied().filter(|&i| region[i] == r0 || region[i] == r1).collect();
    let (subj_id, sess_id) = (ids(subject), ids(session));
    let levels = LevelRows::new(rows_r, |i| region[i] == r1, &subj_id, &sess_id);
    for m in CELL_MEASURES {
        let Some(ColumnData::F64(v)) = cells.column(m) else { continue };
        if let Some(rows) = levels.compare(v) {
            out.extend(rows.into_iter().map(|r| Row {
                comparison: "region_cells",
                first: r0.clone(),
                second: r1.clone(),
                metric: m.to_string(),
                r,
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(session: &str, unit: Vec<i64>, rate: Option<Vec<f64>>) -> (Vec<(String, String)>, Table) {
        let mut t = Table::new("unit_metrics");
        t.push("unit", ColumnData::I64(unit));
        if let Some(r) = rate {
            t.push("firing_rate_hz", ColumnData::F64(r));
        }
        (vec![("session".into(), session.into())], t)
    }

    #[test]
    fn sessions_concatenate_with_their_columns_and_gaps_filled() {
        let t =
            concat("unit_metrics", &[part("a", vec![0, 1], Some(vec![1.0, 2.0])), part("b", vec![0], None)]).unwrap();
        assert_eq!(t.column("session"), Some(&ColumnData::Str(vec!["a".into(), "a".into(), "b".into()])));
        assert_eq!(t.column("unit"), Some(&ColumnData::I64(vec![0, 1, 0])));
        let Some(ColumnData::F64(r)) = t.column("firing_rate_hz") else { panic!() };
        assert_eq!(&r[..2], &[1.0, 2.0]);
        assert!(r[2].is_nan());
        let mut bad = part("c", vec![0], None);
        bad.1.push("firing_rate_hz", ColumnData::Str(vec!["x".into()]));
        let e = concat("unit_metrics", &[part("a", vec![0], Some(vec![1.0])), bad]).unwrap_err();
        assert!(e.to_string().contains("firing_rate_hz is number in one session and text in another"), "{e}");
    }

    #[test]
    fn pre_post_group_and_region_comparisons() {
        // 6 animals (3 control, 3 cLH), 4 units each, baseline and ketamine.
        let (mut session, mut subject, mut group, mut window, mut unit, mut rate) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for a in 0..6i64 {
            for u in 0..4i64 {
                for (w, drop) in [("baseline", 0.0), ("ketamine", 2.0)] {
                    session.push(format!("s{a}"));
                    subject.push(format!("rat{a}"));
                    group.push(if a < 3 { "control" } else { "cLH" }.to_string());
                    window.push(w.to_string());
                    unit.push(u);
                    #[allow(clippy::cast_precision_loss)]
                    let base = 10.0 + if a >= 3 { 5.0 } else { 0.0 } + (a * 7 + u * 3) as f64 % 5.0 * 0.3;
                    rate.push(base - drop - 0.1 * u as f64);
                }
            }
        }
        let mut um = Table::new("unit_metrics");
        for (n, v) in [("session", &session), ("subject", &subject), ("group", &group), ("window", &window)] {
            um.push(n, ColumnData::Str(v.clone()));
        }
        um.push("unit", ColumnData::I64(unit));
        um.push("firing_rate_hz", ColumnData::F64(rate));
        // Cells: 3 rats with 2 LHb and 2 CA1 cells each.
        let mut cells = Table::new("epsc_cells");
        let n = 12;
        cells.push("session", ColumnData::Str((0..n).map(|i| format!("slice{}", i / 4)).collect()));
        cells.push("subject", ColumnData::Str((0..n).map(|i| format!("rat{}", i / 4)).collect()));
        cells.push(
            "region",
            ColumnData::Str((0..n).map(|i| if i % 2 == 0 { "LHb" } else { "CA1" }.to_string()).collect()),
        );
        #[allow(clippy::cast_precision_loss)]
        let block: Vec<f64> =
            (0..n).map(|i| if i % 2 == 0 { 70.0 } else { 20.0 } + (i % 3) as f64 * 2.0 + (i / 4) as f64).collect();
        cells.push("block_pct", ColumnData::F64(block));
        cells.push("qc_pass", ColumnData::Bool(vec![true; n]));
        let t = stats_table(Some(&um), Some(&cells)).unwrap().unwrap();
        // The metrics are fitted in parallel; the table does not depend on the thread count.
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let again = pool.install(|| stats_table(Some(&um), Some(&cells))).unwrap().unwrap();
            // NaN != NaN: compare the bits.
            assert_eq!(format!("{again:?}"), format!("{t:?}"), "{threads} threads");
        }
        let col = |c: &str| match t.column(c) {
            Some(ColumnData::Str(v)) => v.clone(),
            _ => panic!("{c}"),
        };
        let (cmp, test, first, second) = (col("comparison"), col("test"), col("first"), col("second"));
        let Some(ColumnData::F64(est)) = t.column("estimate") else { panic!() };
        let Some(ColumnData::I64(animals)) = t.column("n_animals") else { panic!() };
        let find = |c: &str, te: &str| (0..t.n_rows()).find(|&i| cmp[i] == c && test[i] == te).unwrap();
        let i = find("pre_post", "lmm");
        assert!((est[i] + 2.0).abs() < 1e-6 && animals[i] == 6 && second[i] == "ketamine", "{}", est[i]);
        let i = find("group_baseline", "lmm");
        assert_eq!((first[i].as_str(), second[i].as_str()), ("cLH", "control"));
        assert!(est[i] < -4.0 && animals[i] == 6, "control - cLH: {}", est[i]);
        assert!(test.iter().any(|x| x == "ttest_welch_animals"));
        let i = find("region_cells", "lmm");
        assert_eq!((first[i].as_str(), second[i].as_str(), animals[i]), ("CA1", "LHb", 3));
        assert!((est[i] - 50.0).abs() < 3.0, "{}", est[i]);
        assert!(test.iter().zip(&cmp).any(|(x, c)| x == "ttest_rel_animals" && c == "region_cells"), "within animals");
    }
}
