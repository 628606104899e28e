//! The `sort` stage: raw recording → detected events → units per electrode
//! group, with quality metrics, in one output folder.
//!
//! Two passes over the recording keep memory bounded whatever its length:
//!
//! 1. detection; per group, the events' samples and peak values, and a
//!    training set of snippets (every event until `max_train_spikes`, then
//!    every 2nd, 4th, … event: a uniform, deterministic subsample);
//! 2. clustering of each group's training set (in parallel across groups);
//! 3. detection again (identical events), each event assigned to its
//!    training label or classified, and per-cluster waveform sums kept;
//! 4. burst-aware and template merges on all spikes of each group, then
//!    per-unit waveforms, features and quality metrics.

use crate::Progress;
use crate::config::{DetectConfig, DetectSettings, TableFormat, detect_param_error};
use crate::detect::to_microvolts;
use crate::error::{Context, Error, ParamError, Result, bail};
use crate::output::{Stage, StageOutput, identify};
use burstscope_core::{ColumnData, Record, SeriesInfo, Table};
use burstscope_io::Recording;
use burstscope_sorting::{ClusterParams, GroupSpikes, Merge, MergeKind, MergeParams, Snippets, Templates};
use burstscope_spikes::{ChannelGroup, Plan};
use burstscope_tables::write_table;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `sort` stage.
pub const SORT_STAGE: Stage = Stage { name: "sort", algorithm_version: 1 };

/// `sort` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SortSettings {
    /// Detection (as `detect`; its `waveforms` options are not used).
    pub detect: DetectSettings,
    /// Snippets per group clustered; groups with more events cluster a
    /// uniform subsample and classify the rest.
    pub max_train_spikes: usize,
    /// Feature window before the trough, ms.
    pub window_before_ms: f64,
    /// Feature window after the trough, ms.
    pub window_after_ms: f64,
    /// Principal components clustered.
    pub n_components: usize,
    /// ISO-SPLIT dip threshold.
    pub isocut_threshold: f64,
    /// Smallest cluster ISO-SPLIT keeps.
    pub min_cluster_size: usize,
    /// Re-split depth.
    pub max_depth: usize,
    /// Cluster waveform shape (snippets divided by their norm) ...
    pub normalize: bool,
    /// ... plus ln(size) with this weight (0: shape only).
    pub amplitude_weight: f64,
    /// Whiten the components before clustering.
    pub whiten: bool,
    /// Dip score needed to split a cluster in two.
    pub split_threshold: f64,
    /// Waveform correlation from which clusters are tested for a merge.
    pub merge_min_corr: f64,
    /// Units with fewer spikes are unassigned (unit −1).
    pub min_unit_spikes: usize,
    /// Refractory period for merges, ms.
    pub refractory_ms: f64,
    /// Burst window (shortest, longest intra-burst interval), ms.
    pub burst_isi_ms: (f64, f64),
    /// Merge burst tails into their neuron.
    pub burst_merge: bool,
    /// Merge clusters with the same waveform (over-split, drift).
    pub template_merge: bool,
    /// Table format.
    pub format: TableFormat,
}

impl Default for SortSettings {
    fn default() -> Self {
        Self {
            detect: DetectSettings { waveforms: false, ..DetectSettings::default() },
            max_train_spikes: 40_000,
            window_before_ms: 0.4,
            window_after_ms: 0.9,
            n_components: 10,
            isocut_threshold: 2.0,
            min_cluster_size: 10,
            max_depth: 3,
            normalize: true,
            amplitude_weight: 1.0,
            whiten: true,
            split_threshold: 4.0,
            merge_min_corr: 0.9,
            min_unit_spikes: 20,
            refractory_ms: 1.5,
            burst_isi_ms: (2.0, 15.0),
            burst_merge: true,
            template_merge: false,
            format: TableFormat::Parquet,
        }
    }
}

impl SortSettings {
    /// Checks every field.
    ///
    /// # Errors
    /// The first [`ParamError`].
    pub fn validate(&self) -> std::result::Result<(), ParamError> {
        let st = "sort";
        DetectConfig::new(self.detect.clone()).map_err(|mut e| {
            e.stage = st;
            e.field = format!("detect.{}", e.field);
            e
        })?;
        if self.max_train_spikes < 100 {
            return Err(ParamError::new(st, "max_train_spikes", self.max_train_spikes as u64, "at least 100"));
        }
        for (f, v) in [("window_before_ms", self.window_before_ms), ("window_after_ms", self.window_after_ms)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ParamError::new(st, f, v, "a number of ms ≥ 0 within the snippet"));
            }
        }
        if self.window_before_ms + self.window_after_ms <= 0.0 {
            return Err(ParamError::new(st, "window_after_ms", self.window_after_ms, "a window longer than 0 ms"));
        }
        if !(1..=30).contains(&self.n_components) {
            return Err(ParamError::new(st, "n_components", self.n_components as u64, "1..=30"));
        }
        if !(self.isocut_threshold.is_finite() && self.isocut_threshold > 0.0) {
            return Err(ParamError::new(st, "isocut_threshold", self.isocut_threshold, "a number > 0 (2.0 in isosplit6)"));
        }
        if self.min_cluster_size < 2 {
            return Err(ParamError::new(st, "min_cluster_size", self.min_cluster_size as u64, "at least 2"));
        }
        if self.max_depth == 0 || self.max_depth > 8 {
            return Err(ParamError::new(st, "max_depth", self.max_depth as u64, "1..=8"));
        }
        if !(self.refractory_ms.is_finite() && self.refractory_ms > 0.0) {
            return Err(ParamError::new(st, "refractory_ms", self.refractory_ms, "a number of ms > 0"));
        }
        let (a, b) = self.burst_isi_ms;
        if !(a.is_finite() && b.is_finite() && a >= 0.0 && b > a) {
            return Err(ParamError::new(st, "burst_isi_ms", format!("[{a}, {b}]"), "[shortest, longest] ms with 0 ≤ shortest < longest"));
        }
        Ok(())
    }
}

/// Validated `sort` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SortSettings", into = "SortSettings")]
pub struct SortConfig(SortSettings);

impl SortConfig {
    /// Validates.
    ///
    /// # Errors
    /// The first [`ParamError`].
    pub fn new(s: SortSettings) -> std::result::Result<Self, ParamError> {
        s.validate()?;
        Ok(Self(s))
    }
}

impl std::ops::Deref for SortConfig {
    type Target = SortSettings;
    fn deref(&self) -> &SortSettings {
        &self.0
    }
}

impl TryFrom<SortSettings> for SortConfig {
    type Error = ParamError;
    fn try_from(s: SortSettings) -> std::result::Result<Self, ParamError> {
        Self::new(s)
    }
}

impl From<SortConfig> for SortSettings {
    fn from(c: SortConfig) -> Self {
        c.0
    }
}

impl Default for SortConfig {
    fn default() -> Self {
        Self(SortSettings::default())
    }
}

/// One sorted unit.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedUnit {
    /// Unit id (0-based, in group order then by first spike).
    pub id: i64,
    /// Group index and name.
    pub group: usize,
    /// Group name.
    pub group_name: String,
    /// Trough samples.
    pub samples: Vec<i64>,
    /// Mean waveform, samples × group channels (µV).
    pub mean_uv: Vec<f64>,
    /// SD waveform (µV).
    pub sd_uv: Vec<f64>,
    /// Channel (index within the group) with the largest template extremum.
    pub peak_channel: usize,
}

/// What `sort` produced.
#[derive(Debug, Clone)]
pub struct SortRun {
    /// Output folder.
    pub dir: PathBuf,
    /// Units.
    pub units: Vec<SortedUnit>,
    /// Record.
    pub record: Record,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// Per-group state of pass 1.
struct Pass1Group {
    samples: Vec<i64>,
    peaks: Vec<f32>,
    train: Vec<f32>,
    train_rows: usize,
    stride: usize,
}

impl Pass1Group {
    fn push(&mut self, sample: i64, peaks: &[f32], snippet: &[f32], cap: usize) {
        let i = self.samples.len();
        self.samples.push(sample);
        self.peaks.extend_from_slice(peaks);
        if i % self.stride == 0 {
            self.train.extend_from_slice(snippet);
            self.train_rows += 1;
            if self.train_rows >= cap {
                // Keep every other training snippet: still uniform in time.
                let w = snippet.len();
                let mut kept = 0;
                for r in (0..self.train_rows).step_by(2) {
                    self.train.copy_within(r * w..(r + 1) * w, kept * w);
                    kept += 1;
                }
                self.train.truncate(kept * w);
                self.train_rows = kept;
                self.stride *= 2;
            }
        }
    }
}

/// A group's clustering state between the passes.
struct GroupModel {
    labels_train: Vec<usize>,
    stride: usize,
    classifier: burstscope_sorting::Classifier,
    n_clusters: usize,
}

/// Runs `sort` on `file`, writing `out`.
///
/// # Errors
/// The recording cannot be used, or writing failed (`out` is then unchanged).
#[allow(clippy::too_many_lines)]
pub fn run_sort(file: &Path, out: &Path, cfg: &SortConfig, progress: &dyn Progress) -> Result<SortRun> {
    let dcfg = &cfg.detect;
    let params = &dcfg.params;
    let rec = Recording::open_with(file, dcfg.mapping.clone())?;
    let series = rec.series_named(dcfg.series.as_deref())?;
    params
        .validate(series.rate_hz)
        .map_err(|e| Error::from(detect_param_error(params, &e)))
        .ctx(|| format!("{}: {} at {} Hz", file.display(), series.path, series.rate_hz))?;
    let scale = to_microvolts(&series)?;
    let mut warnings = Vec::new();
    let named = series.channel_groups();
    let groups: Vec<ChannelGroup> =
        named.into_iter().map(|(name, channels)| ChannelGroup { name, channels }).collect();
    let plan = Plan::new(params, series.rate_hz, series.n_samples, series.n_channels, &groups, scale)
        .ctx(|| format!("{}: {}", file.display(), series.path))?;
    let reader = rec.stream(&series)?;
    let timestamps = rec.timestamps(&series)?;
    let identity = identify(&[file])?;
    let stage = StageOutput::begin(out, SORT_STAGE, identity, Vec::new(), cfg)?;
    let noise = plan.noise(&reader).ctx(|| format!("{}: noise estimate", file.display()))?;
    let pgroups = plan.groups().to_vec();
    let (n_before, n_after) = plan.snippet();
    let ns = n_before + n_after;
    let cap = cfg.max_train_spikes;
    // ---- pass 1
    let mut p1: Vec<Pass1Group> = pgroups
        .iter()
        .map(|_| Pass1Group { samples: Vec::new(), peaks: Vec::new(), train: Vec::new(), train_rows: 0, stride: 1 })
        .collect();
    progress.start(2 * plan.n_blocks() as u64, "sorting: detect");
    let on_progress = |n: u64| progress.inc(n);
    {
        let mut sink = |o: burstscope_spikes::BlockOutput| -> std::result::Result<(), String> {
            for ev in o.events {
                #[allow(clippy::cast_possible_wrap)]
                p1[ev.group].push(ev.sample as i64, &ev.peaks, &ev.waveform, cap);
            }
            Ok(())
        };
        burstscope_spikes::run(&plan, &reader, &noise, &on_progress, &mut sink)
            .ctx(|| format!("{}: detection", file.display()))?;
    }
    // ---- clustering per group
    let ms_to_samples = |ms: f64| -> usize {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = (ms * 1e-3 * series.rate_hz).round() as usize;
        v
    };
    let cparams = ClusterParams {
        window_before: ms_to_samples(cfg.window_before_ms).min(n_before),
        window_after: ms_to_samples(cfg.window_after_ms).clamp(1, n_after),
        n_components: cfg.n_components,
        isosplit: burstscope_sorting::IsoSplitParams {
            isocut_threshold: cfg.isocut_threshold,
            min_cluster_size: cfg.min_cluster_size,
            ..burstscope_sorting::IsoSplitParams::default()
        },
        max_depth: cfg.max_depth,
        normalize: cfg.normalize,
        amplitude_weight: cfg.amplitude_weight,
        whiten: cfg.whiten,
        split_threshold: cfg.split_threshold,
        merge_min_corr: cfg.merge_min_corr,
        ..ClusterParams::default()
    };
    let models: Vec<Option<GroupModel>> = p1
        .par_iter()
        .zip(&pgroups)
        .map(|(g, pg)| -> Result<Option<GroupModel>> {
            if g.train_rows == 0 {
                return Ok(None);
            }
            let s = Snippets {
                data: &g.train,
                n_spikes: g.train_rows,
                n_samples: ns,
                n_channels: pg.channels.len(),
                trough: n_before,
            };
            let c = burstscope_sorting::cluster_snippets(&s, &cparams)
                .map_err(|e| Error::Input(format!("{}: group {}: {e}", file.display(), pg.name)))?;
            Ok(Some(GroupModel { labels_train: c.labels, stride: g.stride, classifier: c.classifier, n_clusters: c.n_clusters }))
        })
        .collect::<Result<_>>()?;
    for (g, pg) in p1.iter_mut().zip(&pgroups) {
        g.train = Vec::new();
        if g.samples.is_empty() {
            warnings.push(format!("group {}: no spikes detected; no units", pg.name));
        }
    }
    // ---- pass 2: assign every event, accumulate waveforms
    let mut labels: Vec<Vec<usize>> = p1.iter().map(|g| Vec::with_capacity(g.samples.len())).collect();
    let mut templates: Vec<Templates> = models
        .iter()
        .zip(&pgroups)
        .map(|(m, pg)| Templates::new(m.as_ref().map_or(0, |m| m.n_clusters), ns, pg.channels.len(), n_before))
        .collect();
    progress.start(plan.n_blocks() as u64, "sorting: assign");
    {
        let mut sink = |o: burstscope_spikes::BlockOutput| -> std::result::Result<(), String> {
            for ev in o.events {
                let g = ev.group;
                let Some(m) = &models[g] else { continue };
                let i = labels[g].len();
                let l = if i % m.stride == 0 && i / m.stride < m.labels_train.len() {
                    m.labels_train[i / m.stride]
                } else {
                    m.classifier.classify(&ev.waveform)
                };
                labels[g].push(l);
                templates[g].add(l, &ev.waveform);
            }
            Ok(())
        };
        burstscope_spikes::run(&plan, &reader, &noise, &on_progress, &mut sink)
            .ctx(|| format!("{}: detection (second pass)", file.display()))?;
    }
    progress.finish();
    for (g, pg) in p1.iter().zip(&pgroups) {
        let n = labels[pgroups.iter().position(|x| x.name == pg.name).unwrap_or(0)].len();
        if n != g.samples.len() {
            bail!("{}: group {}: the second detection pass found {n} events, the first {}", file.display(), pg.name, g.samples.len());
        }
    }
    // ---- merges
    let mparams = MergeParams {
        refractory_ms: cfg.refractory_ms,
        burst_min_ms: cfg.burst_isi_ms.0,
        burst_max_ms: cfg.burst_isi_ms.1,
        burst: cfg.burst_merge,
        template: cfg.template_merge,
        ..MergeParams::default()
    };
    let merges: Vec<Vec<Merge>> = p1
        .par_iter()
        .zip(labels.par_iter_mut())
        .zip(templates.par_iter_mut())
        .zip(pgroups.par_iter())
        .map(|(((g, l), t), pg)| {
            let s = GroupSpikes { samples: &g.samples, peaks_uv: &g.peaks, n_channels: pg.channels.len(), rate_hz: series.rate_hz };
            burstscope_sorting::merge_clusters(&s, l, t, &mparams)
        })
        .collect();
    // ---- units
    let mut units: Vec<SortedUnit> = Vec::new();
    let mut unit_of: Vec<Vec<i64>> = Vec::with_capacity(pgroups.len());
    for (gi, pg) in pgroups.iter().enumerate() {
        let t = &templates[gi];
        let nc = pg.channels.len();
        // Clusters in order of first spike.
        let mut order: Vec<usize> = Vec::new();
        let mut seen = vec![false; t.counts.len()];
        for &l in &labels[gi] {
            if !seen[l] {
                seen[l] = true;
                order.push(l);
            }
        }
        let mut map = vec![-1i64; t.counts.len()];
        for c in order {
            if t.counts[c] < cfg.min_unit_spikes {
                continue;
            }
            let id = units.len() as i64;
            map[c] = id;
            let mean = t.mean(c);
            let peak_channel = (0..nc)
                .max_by(|&a, &b| {
                    let ea = (0..ns).map(|s| mean[s * nc + a].abs()).fold(0.0, f64::max);
                    let eb = (0..ns).map(|s| mean[s * nc + b].abs()).fold(0.0, f64::max);
                    ea.total_cmp(&eb)
                })
                .unwrap_or(0);
            let samples: Vec<i64> =
                p1[gi].samples.iter().zip(&labels[gi]).filter(|(_, l)| **l == c).map(|(s, _)| *s).collect();
            units.push(SortedUnit { id, group: gi, group_name: pg.name.clone(), samples, mean_uv: mean, sd_uv: t.sd(c), peak_channel });
        }
        unit_of.push(labels[gi].iter().map(|&l| map[l]).collect());
    }
    // ---- spikes table (all groups, in time order)
    let mut rows: Vec<(i64, usize, usize)> = Vec::new();
    for (gi, g) in p1.iter().enumerate() {
        for i in 0..g.samples.len() {
            rows.push((g.samples[i], gi, i));
        }
    }
    rows.sort_unstable();
    let t_of = |s: i64| -> f64 {
        #[allow(clippy::cast_precision_loss, clippy::cast_sign_loss)]
        match &timestamps {
            Some(ts) => ts[s as usize],
            None => series.starting_time_s + s as f64 / series.rate_hz,
        }
    };
    let mut table = Table::new("spikes");
    table.push("sample", ColumnData::I64(rows.iter().map(|r| r.0).collect()));
    table.push("time_s", ColumnData::F64(rows.iter().map(|r| t_of(r.0)).collect()));
    table.push("group", ColumnData::Str(rows.iter().map(|r| pgroups[r.1].name.clone()).collect()));
    table.push("unit", ColumnData::I64(rows.iter().map(|r| unit_of[r.1][r.2]).collect()));
    let spikes_path = write_table(&table, stage.path(), cfg.format.into())?;
    let mut ut = Table::new("units");
    ut.push("unit", ColumnData::I64(units.iter().map(|u| u.id).collect()));
    ut.push("group", ColumnData::Str(units.iter().map(|u| u.group_name.clone()).collect()));
    ut.push("n_spikes", ColumnData::I64(units.iter().map(|u| u.samples.len() as i64).collect()));
    ut.push(
        "peak_channel",
        ColumnData::I64(units.iter().map(|u| series.electrodes[pgroups[u.group].channels[u.peak_channel]].row as i64).collect()),
    );
    write_table(&ut, stage.path(), cfg.format.into())?;
    let _ = spikes_path;
    let mut facts = BTreeMap::new();
    facts.insert("units".into(), json!(units.len()));
    facts.insert(
        "merges".into(),
        json!(
            merges
                .iter()
                .zip(&pgroups)
                .map(|(m, pg)| json!({"group": pg.name, "merges": m.iter().map(|x| json!({
                    "kind": match x.kind { MergeKind::Burst => "burst", MergeKind::Template => "template" },
                    "kept": x.kept, "absorbed": x.absorbed, "shape_corr": x.shape_corr, "profile_cos": x.profile_cos,
                    "follow_fraction": x.follow_fraction, "cross_violations": x.cross_violations,
                })).collect::<Vec<_>>()}))
                .collect::<Vec<_>>()
        ),
    );
    let dir = stage.dest().to_path_buf();
    let record = stage.finish(facts, warnings.clone())?;
    let _: &SeriesInfo = &series;
    Ok(SortRun { dir, units, record, warnings })
}
