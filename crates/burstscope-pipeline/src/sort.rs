//! The `sort` stage: raw recording → detected events → units per electrode
//! group, with quality metrics, in one output folder.
//!
//! Two passes over the recording keep memory bounded whatever its length:
//!
//! 1. detection; per group, the events' samples and peak values, and a
//!    training set of snippets (every event until `max_train_spikes`, then
//!    every 2nd, 4th, … event: a uniform, deterministic subsample); every
//!    snippet too while they fit in `snippet_cache_mb`;
//! 2. clustering of each group's training set (in parallel across groups);
//! 3. each event (from the kept snippets, or from detection run again, which
//!    finds identical events) assigned to its training label or classified,
//!    and per-cluster waveform sums kept;
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

/// The `sort` stage. Version 2: ISO-SPLIT's cluster covariances are summed
/// in blocks (another rounding order), which can change borderline splits.
pub const SORT_STAGE: Stage = Stage { name: "sort", algorithm_version: 3 };

/// `sort` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SortSettings {
    /// Detection (as `detect`; its `waveforms` options are not used).
    pub detect: DetectSettings,
    /// Snippets per group clustered; groups with more events cluster a
    /// uniform subsample and classify the rest.
    pub max_train_spikes: usize,
    /// Memory (MiB) for keeping every event's snippet after detection, which
    /// saves the second detection pass; recordings with more events run the
    /// second pass instead (identical results, bounded memory).
    pub snippet_cache_mb: usize,
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
    /// Clusters with fewer spikes are unassigned (unit −1).
    pub min_unit_spikes: usize,
    /// Clusters whose template SNR is below this are unassigned (unit −1):
    /// the distant background ("hash"). About twice the 5 σ detection
    /// threshold, so a unit's smaller burst spikes (−10 % each) and drift
    /// stay above threshold and the unit is whole.
    pub min_unit_snr: f64,
    /// PC-based metrics use at most this many spikes per unit (a uniform,
    /// deterministic subsample: every k-th spike), as SpikeInterface uses 500
    /// random ones.
    pub pc_metrics_max_spikes: usize,
    /// Labels: `good` needs SNR ≥ this ...
    pub good_min_snr: f64,
    /// ... an ISI-violation ratio (1.5 ms) below this ...
    pub good_max_isi_violations_ratio: f64,
    /// ... a presence ratio of at least this ...
    pub good_min_presence_ratio: f64,
    /// ... and an amplitude cut-off below this (NaN passes); otherwise `mua`.
    pub good_max_amplitude_cutoff: f64,
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
    /// Draw the figures (SVG, 300-dpi PNG, PDF in DIR/figures).
    pub figures: bool,
}

impl Default for SortSettings {
    fn default() -> Self {
        Self {
            detect: DetectSettings::default(),
            max_train_spikes: 40_000,
            snippet_cache_mb: 256,
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
            min_unit_snr: 9.5,
            pc_metrics_max_spikes: 500,
            good_min_snr: 8.0,
            good_max_isi_violations_ratio: 0.5,
            good_min_presence_ratio: 0.9,
            good_max_amplitude_cutoff: 0.1,
            refractory_ms: 1.5,
            burst_isi_ms: (2.0, 15.0),
            burst_merge: true,
            template_merge: false,
            format: TableFormat::Parquet,
            figures: true,
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
            return Err(ParamError::new(
                st,
                "isocut_threshold",
                self.isocut_threshold,
                "a number > 0 (2.0 in isosplit6)",
            ));
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
        for (f, v) in [
            ("min_unit_snr", self.min_unit_snr),
            ("good_min_snr", self.good_min_snr),
            ("good_max_isi_violations_ratio", self.good_max_isi_violations_ratio),
            ("split_threshold", self.split_threshold),
            ("amplitude_weight", self.amplitude_weight),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(ParamError::new(st, f, v, "a finite number ≥ 0"));
            }
        }
        for (f, v) in [
            ("good_min_presence_ratio", self.good_min_presence_ratio),
            ("good_max_amplitude_cutoff", self.good_max_amplitude_cutoff),
            ("merge_min_corr", self.merge_min_corr),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(ParamError::new(st, f, v, "a number in 0..=1"));
            }
        }
        if self.pc_metrics_max_spikes < 10 {
            return Err(ParamError::new(st, "pc_metrics_max_spikes", self.pc_metrics_max_spikes as u64, "at least 10"));
        }
        let (a, b) = self.burst_isi_ms;
        if !(a.is_finite() && b.is_finite() && a >= 0.0 && b > a) {
            return Err(ParamError::new(
                st,
                "burst_isi_ms",
                format!("[{a}, {b}]"),
                "[shortest, longest] ms with 0 ≤ shortest < longest",
            ));
        }
        Ok(())
    }
}

/// Validated `sort` settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Quality metrics and waveform features.
    pub quality: UnitQuality,
    /// `good`, `mua` or `noise`.
    pub label: &'static str,
}

/// A unit's quality metrics (SpikeInterface 0.105 definitions and defaults)
/// and waveform features on its peak channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitQuality {
    /// Spike-train metrics.
    pub train: burstscope_sorting::TrainMetrics,
    /// |template extremum| on the peak channel / that channel's noise σ.
    pub snr: f64,
    /// Amplitude cut-off (Hill et al. 2011).
    pub amplitude_cutoff: f64,
    /// Median amplitude on the peak channel, µV.
    pub amplitude_median_uv: f64,
    /// Isolation distance.
    pub isolation_distance: f64,
    /// L-ratio.
    pub l_ratio: f64,
    /// d′.
    pub d_prime: f64,
    /// Simplified silhouette.
    pub silhouette: f64,
    /// Nearest-neighbour hit rate.
    pub nn_hit_rate: f64,
    /// Nearest-neighbour miss rate.
    pub nn_miss_rate: f64,
    /// Waveform features on the peak channel.
    pub waveform: burstscope_sorting::WaveformFeatures,
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
    /// Every event's snippet, while the cache lasts.
    cache: Vec<f32>,
}

impl Pass1Group {
    fn push(&mut self, sample: i64, peaks: &[f32], snippet: &[f32], cap: usize) {
        let i = self.samples.len();
        self.samples.push(sample);
        self.peaks.extend_from_slice(peaks);
        if i.is_multiple_of(self.stride) {
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
    /// Per-channel principal components for the PC-based metrics (whitened).
    metric_basis: MetricBasis,
    labels_train: Vec<usize>,
    stride: usize,
    classifier: burstscope_sorting::Classifier,
    n_clusters: usize,
}

/// Isolation distance, L-ratio, d′, silhouette, (hit, miss) rates.
type PcMetrics = (f64, f64, f64, f64, (f64, f64));

/// Per-channel PCA (5 components, whitened) as SpikeInterface's
/// `principal_components(mode="by_channel_local", whiten=True)`.
struct MetricBasis {
    n_channels: usize,
    means: Vec<Vec<f64>>,
    /// Per channel, per component: the component divided by its score SD.
    components: Vec<Vec<Vec<f64>>>,
}

/// SpikeInterface's `max_spikes` of the nearest-neighbour metrics.
const NN_MAX_SPIKES: usize = 10_000;

/// PC components per channel for the metrics.
const METRIC_PCS: usize = 5;

impl MetricBasis {
    fn fit(
        train: &[f32],
        rows: usize,
        ns: usize,
        nc: usize,
    ) -> std::result::Result<Self, burstscope_sorting::SortError> {
        let f = burstscope_sorting::channel_pca(
            train,
            rows,
            ns,
            nc,
            &burstscope_sorting::FeatureParams { n_components: METRIC_PCS.min(ns) },
        )?;
        // Whitened: each component divided by the SD of its scores (√eigenvalue).
        let components = f
            .components
            .iter()
            .zip(&f.variances)
            .map(|(comps, vars)| {
                comps
                    .iter()
                    .zip(vars)
                    .map(|(comp, &var)| {
                        let inv = if var > 0.0 { 1.0 / var.sqrt() } else { 0.0 };
                        comp.iter().map(|x| x * inv).collect()
                    })
                    .collect()
            })
            .collect();
        Ok(Self { n_channels: nc, means: f.means, components })
    }

    fn dim(&self) -> usize {
        self.components.iter().map(Vec::len).sum()
    }

    fn project(&self, snippet: &[f32], out: &mut Vec<f32>) {
        let nc = self.n_channels;
        for c in 0..nc {
            for comp in &self.components[c] {
                let mut acc = 0.0f64;
                for (t, (m, w)) in self.means[c].iter().zip(comp).enumerate() {
                    acc += (f64::from(snippet[t * nc + c]) - m) * w;
                }
                #[allow(clippy::cast_possible_truncation)]
                out.push(acc as f32);
            }
        }
    }
}

/// Runs `sort` on `file`, writing `out`.
///
/// # Errors
/// The recording cannot be used, or writing failed (`out` is then unchanged).
#[allow(clippy::too_many_lines)]
pub fn run_sort(file: &Path, out: &Path, cfg: &SortConfig, progress: &dyn Progress) -> Result<SortRun> {
    let dcfg = &cfg.detect;
    let params = &dcfg.params;
    if dcfg.raw.is_none()
        && let Ok(Some(x)) = crate::detect::open_extracellular(file, None, None)
    {
        bail!(
            "{}: {} recordings are sorted from NWB; convert it first: burstscope convert '{}' --out session.nwb",
            file.display(),
            x.format,
            file.display()
        );
    }
    let rec = Recording::open_with(file, dcfg.mapping.clone())?;
    let series = rec.series_named(dcfg.series.as_deref())?;
    params
        .validate(series.rate_hz)
        .map_err(|e| Error::from(detect_param_error(params, &e)))
        .ctx(|| format!("{}: {} at {} Hz", file.display(), series.path, series.rate_hz))?;
    let scale = to_microvolts(&series)?;
    let mut warnings = Vec::new();
    let groups: Vec<ChannelGroup> = if series.has_groups() {
        series.channel_groups().into_iter().map(|(name, channels)| ChannelGroup { name, channels }).collect()
    } else {
        // Without groups, channels far apart on a probe would be clustered as
        // one tetrode; sorting each channel alone is the safe reading.
        let w = format!(
            "{}: {} names no electrode groups: each of its {} channels is sorted as its own group \
             (tetrodes: give the electrodes table a group_name column, or a plain HDF5 file \
             --channels-per-group 4)",
            file.display(),
            series.path,
            series.n_channels
        );
        warnings.push(w);
        (0..series.n_channels).map(|c| ChannelGroup { name: format!("ch{c}"), channels: vec![c] }).collect()
    };
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
    // Stage timings for `RUST_LOG=debug`.
    let clock = std::time::Instant::now();
    let lap =
        |what: &str| tracing::debug!("sort {}: {what} done at {:.3} s", file.display(), clock.elapsed().as_secs_f64());
    // ---- pass 1
    let mut p1: Vec<Pass1Group> = pgroups
        .iter()
        .map(|_| Pass1Group {
            samples: Vec::new(),
            peaks: Vec::new(),
            train: Vec::new(),
            train_rows: 0,
            stride: 1,
            cache: Vec::new(),
        })
        .collect();
    progress.start(plan.n_blocks() as u64, "sorting: detect");
    let on_progress = |n: u64| progress.inc(n);
    let cache_floats = cfg.snippet_cache_mb.saturating_mul(1 << 20) / std::mem::size_of::<f32>();
    let mut cached = 0usize;
    let mut caching = cache_floats > 0;
    {
        let mut sink = |o: burstscope_spikes::BlockOutput| -> std::result::Result<(), String> {
            for ev in &o.events {
                let g = &mut p1[ev.group];
                #[allow(clippy::cast_possible_wrap)]
                g.push(ev.sample as i64, o.peaks(ev), o.waveform(ev), cap);
                if caching {
                    // The budget counts what is allocated, growth included.
                    let before = g.cache.capacity();
                    g.cache.extend_from_slice(o.waveform(ev));
                    cached += g.cache.capacity() - before;
                    if cached > cache_floats {
                        // Over budget: free it now; assignment runs detection again.
                        caching = false;
                        for g in &mut p1 {
                            g.cache = Vec::new();
                        }
                        tracing::debug!(
                            "snippet cache full ({} MiB): a second detection pass will assign",
                            cfg.snippet_cache_mb
                        );
                    }
                }
            }
            Ok(())
        };
        burstscope_spikes::run(&plan, &reader, &noise, &on_progress, &mut sink)
            .ctx(|| format!("{}: detection", file.display()))?;
    }
    lap("detection");
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
            let metric_basis = MetricBasis::fit(&g.train, g.train_rows, ns, pg.channels.len())
                .map_err(|e| Error::Input(format!("{}: group {}: {e}", file.display(), pg.name)))?;
            Ok(Some(GroupModel {
                metric_basis,
                labels_train: c.labels,
                stride: g.stride,
                classifier: c.classifier,
                n_clusters: c.n_clusters,
            }))
        })
        .collect::<Result<_>>()?;
    for (g, pg) in p1.iter_mut().zip(&pgroups) {
        g.train = Vec::new();
        if g.samples.is_empty() {
            warnings.push(format!("group {}: no spikes detected; no units", pg.name));
        }
    }
    lap("clustering");
    // ---- pass 2: assign every event, accumulate waveforms
    let mut labels: Vec<Vec<usize>> = p1.iter().map(|g| Vec::with_capacity(g.samples.len())).collect();
    let mut pcs: Vec<Vec<f32>> = models
        .iter()
        .zip(&p1)
        .map(|(m, g)| Vec::with_capacity(m.as_ref().map_or(0, |m| m.metric_basis.dim()) * g.samples.len()))
        .collect();
    let mut templates: Vec<Templates> = models
        .iter()
        .zip(&pgroups)
        .map(|(m, pg)| Templates::new(m.as_ref().map_or(0, |m| m.n_clusters), ns, pg.channels.len(), n_before))
        .collect();
    // One event of group g: its label, its waveform in the sums, its PCs.
    let assign = |m: &GroupModel, labels: &mut Vec<usize>, t: &mut Templates, pcs: &mut Vec<f32>, w: &[f32]| {
        let i = labels.len();
        let l = if i.is_multiple_of(m.stride) && i / m.stride < m.labels_train.len() {
            m.labels_train[i / m.stride]
        } else {
            m.classifier.classify(w)
        };
        labels.push(l);
        t.add(l, w);
        m.metric_basis.project(w, pcs);
    };
    if caching {
        tracing::debug!("{}: every snippet kept ({} MiB); no second detection pass", file.display(), cached >> 18);
        labels.par_iter_mut().zip(templates.par_iter_mut()).zip(pcs.par_iter_mut()).zip(&p1).zip(&models).for_each(
            |((((l, t), pc), g), m)| {
                if let Some(m) = m {
                    for snip in g.cache.chunks_exact(ns * t.n_channels) {
                        assign(m, l, t, pc, snip);
                    }
                }
            },
        );
    } else {
        p1.iter_mut().for_each(|g| g.cache = Vec::new());
        progress.start(plan.n_blocks() as u64, "sorting: assign");
        let mut sink = |o: burstscope_spikes::BlockOutput| -> std::result::Result<(), String> {
            for ev in &o.events {
                let g = ev.group;
                let Some(m) = &models[g] else { continue };
                assign(m, &mut labels[g], &mut templates[g], &mut pcs[g], o.waveform(ev));
            }
            Ok(())
        };
        burstscope_spikes::run(&plan, &reader, &noise, &on_progress, &mut sink)
            .ctx(|| format!("{}: detection (second pass)", file.display()))?;
    }
    for g in &mut p1 {
        g.cache = Vec::new();
    }
    progress.finish();
    for (g, pg) in p1.iter().zip(&pgroups) {
        let n = labels[pgroups.iter().position(|x| x.name == pg.name).unwrap_or(0)].len();
        if n != g.samples.len() {
            bail!(
                "{}: group {}: the second detection pass found {n} events, the first {}",
                file.display(),
                pg.name,
                g.samples.len()
            );
        }
    }
    lap("assignment");
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
            let s = GroupSpikes {
                samples: &g.samples,
                peaks_uv: &g.peaks,
                n_channels: pg.channels.len(),
                rate_hz: series.rate_hz,
            };
            burstscope_sorting::merge_clusters(&s, l, t, &mparams)
        })
        .collect();
    lap("merges");
    // ---- units
    let n_total = series.n_samples as u64;
    let tparams = burstscope_sorting::TrainMetricParams { isi_threshold_ms: 1.5, ..Default::default() };
    let mut units: Vec<SortedUnit> = Vec::new();
    let mut unit_of: Vec<Vec<i64>> = Vec::with_capacity(pgroups.len());
    let mut unassigned_clusters = 0usize;
    for (gi, pg) in pgroups.iter().enumerate() {
        let t = &templates[gi];
        let nc = pg.channels.len();
        let sigma: Vec<f64> = pg.channels.iter().map(|&c| noise.sigma[c]).collect();
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
        let first = units.len();
        for c in order {
            let mean = t.mean(c);
            let ext = |ch: usize| (0..ns).map(|s| mean[s * nc + ch].abs()).fold(0.0, f64::max);
            let peak_channel = (0..nc).max_by(|&a, &b| ext(a).total_cmp(&ext(b)).then(b.cmp(&a))).unwrap_or(0);
            let snr = ext(peak_channel) / sigma[peak_channel];
            if t.counts[c] < cfg.min_unit_spikes || !(snr >= cfg.min_unit_snr) {
                unassigned_clusters += 1;
                continue;
            }
            let id = units.len() as i64;
            map[c] = id;
            let rows: Vec<usize> = (0..labels[gi].len()).filter(|&i| labels[gi][i] == c).collect();
            let samples: Vec<i64> = rows.iter().map(|&i| p1[gi].samples[i]).collect();
            let train = burstscope_sorting::train_metrics(&samples, series.rate_hz, n_total, &tparams)
                .map_err(|e| Error::Input(format!("{}: unit {id}: {e}", file.display())))?;
            let amps: Vec<f64> = rows.iter().map(|&i| f64::from(p1[gi].peaks[i * nc + peak_channel])).collect();
            let chan: Vec<f64> = (0..ns).map(|s| mean[s * nc + peak_channel]).collect();
            let quality = UnitQuality {
                train,
                snr,
                amplitude_cutoff: burstscope_sorting::amplitude_cutoff(
                    &amps,
                    &burstscope_sorting::AmplitudeCutoffParams::default(),
                ),
                amplitude_median_uv: burstscope_sorting::median(&amps),
                isolation_distance: f64::NAN,
                l_ratio: f64::NAN,
                d_prime: f64::NAN,
                silhouette: f64::NAN,
                nn_hit_rate: f64::NAN,
                nn_miss_rate: f64::NAN,
                waveform: burstscope_sorting::waveform_features(&chan, series.rate_hz),
            };
            units.push(SortedUnit {
                id,
                group: gi,
                group_name: pg.name.clone(),
                samples,
                mean_uv: mean,
                sd_uv: t.sd(c),
                peak_channel,
                quality,
                label: "mua",
            });
        }
        if units.len() == first && !labels[gi].is_empty() {
            warnings.push(format!(
                "group {}: {} spike(s) detected but no cluster of at least {} spikes with SNR >= {}; no units",
                pg.name,
                labels[gi].len(),
                cfg.min_unit_spikes,
                cfg.min_unit_snr
            ));
        }
        let ids: Vec<i64> = labels[gi].iter().map(|&l| map[l]).collect();
        // PC-based metrics on the group's assigned spikes, one unit at a time (in parallel).
        if let Some(m) = &models[gi] {
            let dim = m.metric_basis.dim();
            let mut per_unit: Vec<Vec<usize>> = vec![Vec::new(); units.len() - first];
            for (i, &u) in ids.iter().enumerate() {
                if u >= 0 {
                    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
                    per_unit[u as usize - first].push(i);
                }
            }
            let cap = cfg.pc_metrics_max_spikes.max(1);
            let mut keep: Vec<usize> = per_unit
                .iter()
                .flat_map(|r| {
                    let step = r.len().div_ceil(cap).max(1);
                    r.iter().step_by(step).copied().collect::<Vec<_>>()
                })
                .collect();
            keep.sort_unstable();
            let feats: Vec<f64> =
                keep.iter().flat_map(|&i| pcs[gi][i * dim..(i + 1) * dim].iter().map(|&v| f64::from(v))).collect();
            let lab: Vec<i64> = keep.iter().map(|&i| ids[i]).collect();
            // Without subsampling every unit's neighbour search is over the
            // same spikes: search once for the group.
            let shared_nn = (lab.len() <= NN_MAX_SPIKES).then(|| burstscope_sorting::nearest_neighbors(&feats, dim, 5));
            let results: Vec<PcMetrics> = units[first..]
                .par_iter()
                .map(|u| {
                    let (iso, lr) = burstscope_sorting::isolation_distance(&feats, dim, &lab, u.id);
                    let several = units.len() - first > 1;
                    let dp = if several { burstscope_sorting::d_prime(&feats, dim, &lab, u.id) } else { f64::NAN };
                    let sil = if several {
                        burstscope_sorting::simplified_silhouette(&feats, dim, &lab, u.id)
                    } else {
                        f64::NAN
                    };
                    let nn = match &shared_nn {
                        Some((nb, k)) => burstscope_sorting::nearest_neighbor_rates_from(nb, *k, &lab, u.id),
                        None => burstscope_sorting::nearest_neighbor_rates(&feats, dim, &lab, u.id, NN_MAX_SPIKES, 5),
                    };
                    (iso, lr, dp, sil, nn)
                })
                .collect();
            for (u, (iso, lr, dp, sil, nn)) in units[first..].iter_mut().zip(results) {
                u.quality.isolation_distance = iso;
                u.quality.l_ratio = lr;
                u.quality.d_prime = dp;
                u.quality.silhouette = sil;
                u.quality.nn_hit_rate = nn.0;
                u.quality.nn_miss_rate = nn.1;
            }
        }
        unit_of.push(ids);
    }
    for u in &mut units {
        u.label = label_of(&u.quality, cfg);
    }
    lap("units and metrics");
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
    let ut = units_table(&units, &pgroups, &series);
    write_sorted_nwb(&stage.path().join("sorted.nwb"), &rec, &series, &pgroups, &units, &t_of, (n_before, n_after))?;
    write_table(&ut, stage.path(), cfg.format.into())?;
    let _ = spikes_path;
    write_phy_folder(&stage.path().join("phy"), &series, &pgroups, &units, &rows, &unit_of, &p1, ns)?;
    lap("tables, sorted.nwb and phy");
    if cfg.figures {
        draw_figures(&stage.path().join("figures"), &series, &pgroups, &units, &unit_of, &p1, &t_of, cfg)?;
    }
    let mut facts = BTreeMap::new();
    facts.insert("units".into(), json!(units.len()));
    facts.insert("clusters_unassigned".into(), json!(unassigned_clusters));
    facts.insert(
        "labels".into(),
        json!({
            "good": units.iter().filter(|u| u.label == "good").count(),
            "mua": units.iter().filter(|u| u.label == "mua").count(),
            "noise": units.iter().filter(|u| u.label == "noise").count(),
        }),
    );
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

/// The label from the documented thresholds: `noise` for a waveform without
/// a trough (no trough-to-peak time), `good` when every `good_*` threshold
/// holds, `mua` otherwise.
fn label_of(q: &UnitQuality, cfg: &SortSettings) -> &'static str {
    if q.waveform.trough_to_peak_ms.is_nan() {
        return "noise";
    }
    let good = q.snr >= cfg.good_min_snr
        && q.train.isi_violations_ratio < cfg.good_max_isi_violations_ratio
        && nan_or(q.train.presence_ratio, |p| p >= cfg.good_min_presence_ratio)
        && nan_or(q.amplitude_cutoff, |a| a < cfg.good_max_amplitude_cutoff);
    if good { "good" } else { "mua" }
}

/// True for NaN (a metric that is undefined does not fail a threshold), else `f(v)`.
fn nan_or(v: f64, f: impl Fn(f64) -> bool) -> bool {
    v.is_nan() || f(v)
}

/// The `units` table: one row per unit, metrics with units in their names.
fn units_table(units: &[SortedUnit], groups: &[ChannelGroup], series: &SeriesInfo) -> Table {
    let f = |g: &dyn Fn(&SortedUnit) -> f64| ColumnData::F64(units.iter().map(g).collect());
    let mut t = Table::new("units");
    t.push("unit", ColumnData::I64(units.iter().map(|u| u.id).collect()));
    t.push("group", ColumnData::Str(units.iter().map(|u| u.group_name.clone()).collect()));
    t.push(
        "peak_channel",
        ColumnData::I64(
            units.iter().map(|u| series.electrodes[groups[u.group].channels[u.peak_channel]].row as i64).collect(),
        ),
    );
    t.push("label", ColumnData::Str(units.iter().map(|u| u.label.to_string()).collect()));
    t.push("n_spikes", ColumnData::I64(units.iter().map(|u| u.quality.train.n_spikes as i64).collect()));
    t.push("firing_rate_hz", f(&|u| u.quality.train.firing_rate_hz));
    t.push("presence_ratio", f(&|u| u.quality.train.presence_ratio));
    t.push("snr", f(&|u| u.quality.snr));
    t.push("isi_violations_ratio", f(&|u| u.quality.train.isi_violations_ratio));
    t.push(
        "isi_violations_count",
        ColumnData::I64(units.iter().map(|u| u.quality.train.isi_violations_count as i64).collect()),
    );
    t.push("rp_contamination", f(&|u| u.quality.train.rp_contamination));
    t.push("amplitude_cutoff", f(&|u| u.quality.amplitude_cutoff));
    t.push("amplitude_median_uv", f(&|u| u.quality.amplitude_median_uv));
    t.push("isolation_distance", f(&|u| u.quality.isolation_distance));
    t.push("l_ratio", f(&|u| u.quality.l_ratio));
    t.push("d_prime", f(&|u| u.quality.d_prime));
    t.push("silhouette", f(&|u| u.quality.silhouette));
    t.push("nn_hit_rate", f(&|u| u.quality.nn_hit_rate));
    t.push("nn_miss_rate", f(&|u| u.quality.nn_miss_rate));
    t.push("trough_to_peak_ms", f(&|u| u.quality.waveform.trough_to_peak_ms));
    t.push("half_width_ms", f(&|u| u.quality.waveform.half_width_ms));
    t.push("peak_trough_ratio", f(&|u| u.quality.waveform.peak_trough_ratio));
    t.push("repolarization_slope_uv_per_s", f(&|u| u.quality.waveform.repolarization_slope));
    t
}

/// `sorted.nwb`: the session's metadata, epochs, electrode groups and table
/// (one row per channel of the series, in its order), and `/units` with the
/// metric columns; no raw data.
fn write_sorted_nwb(
    dest: &Path,
    rec: &Recording,
    series: &SeriesInfo,
    groups: &[ChannelGroup],
    units: &[SortedUnit],
    t_of: &dyn Fn(i64) -> f64,
    snippet: (usize, usize),
) -> Result<()> {
    use burstscope_io::{NwbSession, NwbWriter, SortedUnitsSpec};
    let meta = rec.session().unwrap_or_default();
    let session = NwbSession {
        identifier: format!("{}-sorted", meta.identifier.clone().unwrap_or_else(|| "burstscope".into())),
        session_description: format!(
            "spike sorting by burstscope of {}",
            meta.session_description.clone().unwrap_or_else(|| rec.path().display().to_string())
        ),
        session_start_time: meta.session_start_time.clone().unwrap_or_else(|| "1970-01-01T00:00:00+00:00".into()),
        pharmacology: meta.pharmacology.clone(),
        experimenter: meta.experimenter.clone(),
        subject: meta.subject.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    let w = NwbWriter::create(dest, &session)?;
    w.add_device("recording_device", "the device of the sorted recording")?;
    let mut group_of_channel = vec![String::new(); series.n_channels];
    for g in groups {
        let loc = g.channels.first().map(|&c| series.electrodes[c].location.clone()).unwrap_or_default();
        w.add_electrode_group(&g.name, "electrode group (tetrode) sorted independently", &loc, "recording_device")?;
        for &c in &g.channels {
            group_of_channel[c] = g.name.clone();
        }
    }
    let rows: Vec<(String, String)> =
        (0..series.n_channels).map(|c| (group_of_channel[c].clone(), series.electrodes[c].location.clone())).collect();
    // Channels in no group (none today) would reference an empty name: give them the first group.
    let rows: Vec<(String, String)> = rows
        .into_iter()
        .map(|(g, l)| (if g.is_empty() { groups.first().map(|x| x.name.clone()).unwrap_or_default() } else { g }, l))
        .collect();
    w.add_electrodes(&rows)?;
    // The session's epochs (baseline, drug), so `bursts` finds its windows.
    let epochs = rec.epochs().unwrap_or_default();
    if !epochs.is_empty() {
        w.add_epochs(&epochs)?;
    }
    // The session's named events (annotations, TTL and digital edges), so
    // `bursts --drug-at event:NAME` finds them in the sorted units' file.
    let events: Vec<burstscope_core::Event> =
        rec.events().unwrap_or_default().into_iter().filter(|e| e.source != "/intervals/epochs").collect();
    let mut by: BTreeMap<&str, (Vec<String>, Vec<f64>)> = BTreeMap::new();
    for e in &events {
        let x = by.entry(e.source.as_str()).or_default();
        x.0.push(e.name.clone());
        x.1.push(e.time_s);
    }
    let mut used = std::collections::BTreeSet::new();
    for (source, (names, times)) in &by {
        let base = source.rsplit('/').next().unwrap_or("events");
        let mut name = base.to_string();
        let mut k = 1;
        while !used.insert(name.clone()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        w.add_annotations(&name, &format!("events of the sorted recording ({source})"), names, times)?;
    }
    let ns = snippet.0 + snippet.1;
    let ne = groups.iter().map(|g| g.channels.len()).max().unwrap_or(0);
    let mut mean_v = Vec::with_capacity(units.len() * ns * ne);
    let mut sd_v = Vec::with_capacity(units.len() * ns * ne);
    for u in units {
        let nc = groups[u.group].channels.len();
        for t in 0..ns {
            for c in 0..ne {
                #[allow(clippy::cast_possible_truncation)]
                if c < nc {
                    mean_v.push((u.mean_uv[t * nc + c] * 1e-6) as f32);
                    sd_v.push((u.sd_uv[t * nc + c] * 1e-6) as f32);
                } else {
                    mean_v.push(f32::NAN);
                    sd_v.push(f32::NAN);
                }
            }
        }
    }
    let start = t_of(0);
    #[allow(clippy::cast_possible_wrap)]
    let end = t_of(series.n_samples.saturating_sub(1) as i64) + 1.0 / series.rate_hz;
    let f = |name: &str, desc: &str, g: &dyn Fn(&SortedUnit) -> f64| {
        (name.to_string(), desc.to_string(), units.iter().map(g).collect::<Vec<f64>>())
    };
    let q = |u: &SortedUnit| u.quality;
    let spec = SortedUnitsSpec {
        ids: units.iter().map(|u| u.id).collect(),
        spike_times_s: units.iter().map(|u| u.samples.iter().map(|&s| t_of(s)).collect()).collect(),
        resolution_s: 1.0 / series.rate_hz,
        obs_intervals_s: units.iter().map(|_| vec![(start, end)]).collect(),
        electrode_group: units.iter().map(|u| u.group_name.clone()).collect(),
        electrodes: units.iter().map(|u| groups[u.group].channels.iter().map(|&c| c as u64).collect()).collect(),
        waveform_samples: ns,
        waveform_electrodes: ne,
        waveform_mean_v: mean_v,
        waveform_sd_v: sd_v,
        waveform_rate_hz: series.rate_hz,
        float_columns: vec![
            f("firing_rate_hz", "spikes per second of recording", &|u| q(u).train.firing_rate_hz),
            f("presence_ratio", "fraction of 60 s bins with spikes", &|u| q(u).train.presence_ratio),
            f("snr", "template extremum on the peak channel / its noise sigma", &|u| q(u).snr),
            f("isi_violations_ratio", "Hill et al. 2011 ratio, 1.5 ms", &|u| q(u).train.isi_violations_ratio),
            f("rp_contamination", "Llobet et al. 2022 contamination, 1 ms", &|u| q(u).train.rp_contamination),
            f("amplitude_cutoff", "Hill et al. 2011 missed fraction", &|u| q(u).amplitude_cutoff),
            f("amplitude_median_uv", "median peak-channel amplitude, microvolts", &|u| q(u).amplitude_median_uv),
            f("isolation_distance", "Schmitzer-Torbert isolation distance", &|u| q(u).isolation_distance),
            f("l_ratio", "Schmitzer-Torbert L-ratio", &|u| q(u).l_ratio),
            f("d_prime", "LDA d-prime against the group's other units", &|u| q(u).d_prime),
            f("silhouette", "simplified silhouette", &|u| q(u).silhouette),
            f("nn_hit_rate", "nearest-neighbour hit rate", &|u| q(u).nn_hit_rate),
            f("nn_miss_rate", "nearest-neighbour miss rate", &|u| q(u).nn_miss_rate),
            f("trough_to_peak_ms", "trough to following peak, ms", &|u| q(u).waveform.trough_to_peak_ms),
            f("half_width_ms", "trough width at half depth, ms", &|u| q(u).waveform.half_width_ms),
            f("peak_trough_ratio", "peak / trough value", &|u| q(u).waveform.peak_trough_ratio),
            f("repolarization_slope_uv_per_s", "repolarisation slope, microvolts per s", &|u| {
                q(u).waveform.repolarization_slope
            }),
        ],
        int_columns: vec![
            ("n_spikes".into(), "number of spikes".into(), units.iter().map(|u| u.samples.len() as i64).collect()),
            (
                "isi_violations_count".into(),
                "ISIs below 1.5 ms".into(),
                units.iter().map(|u| u.quality.train.isi_violations_count as i64).collect(),
            ),
            (
                "peak_channel".into(),
                "electrode-table row of the peak channel".into(),
                units.iter().map(|u| groups[u.group].channels[u.peak_channel] as i64).collect(),
            ),
        ],
        text_columns: vec![(
            "label".into(),
            "good, mua or noise (docs/sorting.md)".into(),
            units.iter().map(|u| u.label.to_string()).collect(),
        )],
    };
    w.add_sorted_units(&spec)?;
    w.finish()?;
    Ok(())
}

/// `DIR/phy/`: the sorting as phy opens it for curation (no raw data file:
/// phy shows waveforms from `templates.npy`; `dat_path = []`). Channel
/// positions are a drawing layout (groups 200 µm apart, wires on a 20 µm
/// square), since tetrode files rarely have real ones.
#[allow(clippy::too_many_arguments)]
fn write_phy_folder(
    dir: &Path,
    series: &SeriesInfo,
    groups: &[ChannelGroup],
    units: &[SortedUnit],
    rows: &[(i64, usize, usize)],
    unit_of: &[Vec<i64>],
    p1: &[Pass1Group],
    ns: usize,
) -> Result<()> {
    let nch = series.n_channels;
    let mut e = burstscope_io::phy::PhyExport {
        dat_path: None,
        n_channels: nch,
        sample_rate_hz: series.rate_hz,
        template_samples: ns,
        channel_groups: vec![-1; nch],
        channel_positions: vec![(0.0, 0.0); nch],
        ..Default::default()
    };
    for (gi, g) in groups.iter().enumerate() {
        for (k, &c) in g.channels.iter().enumerate() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_precision_loss)]
            {
                e.channel_groups[c] = gi as i32;
                e.channel_positions[c] = (200.0 * gi as f32 + 20.0 * (k % 2) as f32, 20.0 * (k / 2) as f32);
            }
        }
    }
    for &(sample, g, i) in rows {
        let u = unit_of[g][i];
        if u < 0 {
            continue;
        }
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        let unit = &units[u as usize];
        let nc = groups[g].channels.len();
        e.spike_samples.push(sample);
        #[allow(clippy::cast_possible_truncation)]
        e.spike_clusters.push(u as i32);
        e.amplitudes.push(p1[g].peaks[i * nc + unit.peak_channel].abs());
    }
    for u in units {
        let g = &groups[u.group];
        let nc = g.channels.len();
        let mut t = vec![0.0f32; ns * nch];
        for s in 0..ns {
            for (k, &c) in g.channels.iter().enumerate() {
                #[allow(clippy::cast_possible_truncation)]
                {
                    t[s * nch + c] = u.mean_uv[s * nc + k] as f32;
                }
            }
        }
        e.templates.extend(t);
        e.labels.push(u.label.to_string());
        e.cluster_group_names.push(u.group_name.clone());
    }
    e.cluster_columns = vec![
        ("snr".into(), units.iter().map(|u| u.quality.snr).collect()),
        ("firing_rate_hz".into(), units.iter().map(|u| u.quality.train.firing_rate_hz).collect()),
        ("isi_violations_ratio".into(), units.iter().map(|u| u.quality.train.isi_violations_ratio).collect()),
    ];
    burstscope_io::phy::write_phy(dir, &e)?;
    Ok(())
}

/// The figures a tetrode user looks at before trusting a unit: per group
/// the six peak-amplitude projections and the units' cross-correlograms,
/// per unit its sheet (waveforms, autocorrelogram with the refractory
/// period, ISI histogram, amplitude over time). Drawn in parallel.
#[allow(clippy::too_many_arguments)]
/// Events drawn in a group's projection figure (about).
const PROJECTION_POINTS: usize = 6_000;
/// Events of a unit drawn at least (all if it has fewer).
const PROJECTION_MIN_PER_UNIT: usize = 400;

/// Indices (in time order) of the events drawn in a projection figure:
/// every k-th event of each unit (and of the unassigned, -1), k chosen so
/// that a unit keeps its share of [`PROJECTION_POINTS`] but at least
/// [`PROJECTION_MIN_PER_UNIT`] events.
fn projection_subsample(unit_of: &[i64]) -> Vec<usize> {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for &u in unit_of {
        *counts.entry(u).or_default() += 1;
    }
    let n = unit_of.len().max(1);
    let step: BTreeMap<i64, usize> = counts
        .iter()
        .map(|(&u, &c)| {
            let quota = (PROJECTION_POINTS * c / n).max(PROJECTION_MIN_PER_UNIT);
            (u, c.div_ceil(quota).max(1))
        })
        .collect();
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    (0..unit_of.len())
        .filter(|&i| {
            let u = unit_of[i];
            let k = seen.entry(u).or_default();
            *k += 1;
            (*k - 1).is_multiple_of(step[&u])
        })
        .collect()
}

fn draw_figures(
    dir: &Path,
    series: &SeriesInfo,
    groups: &[ChannelGroup],
    units: &[SortedUnit],
    unit_of: &[Vec<i64>],
    p1: &[Pass1Group],
    t_of: &(dyn Fn(i64) -> f64 + Sync),
    cfg: &SortSettings,
) -> Result<()> {
    use burstscope_plot as plot;
    std::fs::create_dir_all(dir).map_err(crate::error::file_err(dir))?;
    enum Fig {
        Proj(plot::PeakProjections, String),
        Sheet(plot::UnitSheet, String),
        Ccg(plot::CrossCorrelograms, String),
    }
    let mut figs: Vec<Fig> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let nc = g.channels.len();
        let mine: Vec<&SortedUnit> = units.iter().filter(|u| u.group == gi).collect();
        if mine.is_empty() || nc < 2 {
            continue;
        }
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        let first = mine[0].id as usize;
        // About PROJECTION_POINTS events (every k-th of each unit and of the
        // unassigned, each keeping at least PROJECTION_MIN_PER_UNIT): small
        // units stay visible and the vector files stay small.
        let n = p1[gi].samples.len();
        let idx = projection_subsample(&unit_of[gi]);
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        let proj = plot::PeakProjections {
            title: format!("{}: peak amplitudes, channel pairs ({} of {n} events)", g.name, idx.len()),
            channels: g.channels.iter().map(|&c| series.electrodes[c].row.to_string()).collect(),
            peaks_uv: idx.iter().flat_map(|&i| p1[gi].peaks[i * nc..(i + 1) * nc].iter().map(|v| v.abs())).collect(),
            unit: idx.iter().map(|&i| (unit_of[gi][i] >= 0).then(|| unit_of[gi][i] as usize - first)).collect(),
            units: mine.iter().map(|u| format!("unit {}", u.id)).collect(),
        };
        figs.push(Fig::Proj(proj, format!("projections_{}", g.name)));
        let ccg_units: Vec<&&SortedUnit> = mine.iter().take(8).collect();
        figs.push(Fig::Ccg(
            plot::CrossCorrelograms {
                title: format!("{}: cross-correlograms (±50 ms)", g.name),
                units: ccg_units.iter().map(|u| format!("unit {}", u.id)).collect(),
                times_s: ccg_units.iter().map(|u| u.samples.iter().map(|&s| t_of(s)).collect()).collect(),
            },
            format!("ccg_{}", g.name),
        ));
        for (k, u) in mine.iter().enumerate() {
            let rows: Vec<usize> = (0..n).filter(|&i| unit_of[gi][i] == u.id).collect();
            let q = &u.quality;
            figs.push(Fig::Sheet(
                plot::UnitSheet {
                    title: format!(
                        "unit {} ({}, {}): {} spikes, {:.1} Hz, SNR {:.1}, ISI violations {:.3}, isolation distance {:.0}",
                        u.id, u.group_name, u.label, q.train.n_spikes, q.train.firing_rate_hz, q.snr,
                        q.train.isi_violations_ratio, q.isolation_distance
                    ),
                    colour: k,
                    mean_uv: u.mean_uv.clone(),
                    sd_uv: u.sd_uv.clone(),
                    n_channels: nc,
                    rate_hz: series.rate_hz,
                    times_s: u.samples.iter().map(|&s| t_of(s)).collect(),
                    amplitudes_uv: rows.iter().map(|&i| f64::from(p1[gi].peaks[i * nc + u.peak_channel])).collect(),
                    refractory_ms: cfg.refractory_ms,
                },
                format!("unit_{}", u.id),
            ));
        }
    }
    figs.par_iter()
        .map(|f| match f {
            Fig::Proj(p, name) => plot::render(p, dir, name).map(|_| ()),
            Fig::Sheet(p, name) => plot::render(p, dir, name).map(|_| ()),
            Fig::Ccg(p, name) => plot::render(p, dir, name).map(|_| ()),
        })
        .collect::<std::result::Result<Vec<()>, _>>()?;
    Ok(())
}
