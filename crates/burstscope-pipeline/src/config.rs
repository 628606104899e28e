//! Every setting that changes a result, per stage, as a typed, serialisable,
//! validated config.
//!
//! Each stage has a plain `*Settings` struct (public fields, serde, every
//! field optional in TOML, unknown fields refused) and a `*Config` that can
//! only be made from settings that passed validation: a config that exists
//! has been validated. Command-line flags are applied to the settings before
//! validation, so a TOML file and flags give one config and one error type
//! ([`ParamError`]) naming the stage, the field, the value and what is allowed.
//!
//! ```
//! use burstscope_pipeline::{BurstsConfig, BurstsSettings};
//!
//! let mut s: BurstsSettings = toml::from_str("bin_s = 30.0\n[lhb]\nmin_spikes = 3\n").unwrap();
//! s.windows.exclude_after_s = 120.0;
//! let cfg = BurstsConfig::new(s).unwrap();
//! assert_eq!(cfg.bin_s, 30.0);
//!
//! let bad: BurstsSettings = toml::from_str("bin_s = -1.0").unwrap();
//! let err = BurstsConfig::new(bad).unwrap_err();
//! assert_eq!((err.stage, err.field.as_str()), ("bursts", "bin_s"));
//! assert!(toml::from_str::<BurstsSettings>("bni_s = 1.0").is_err()); // unknown field
//! ```

use crate::error::{ParamError, ShowValue};
use crate::lfp::LfpParams;
use burstscope_bursts::{
    BurstError, CmaParams, IntervalParams, LogIsiParams, MaxIntervalParams, Method, MetricParams, PoissonParams,
    RankParams,
};
use burstscope_epsc::{CellParams, EpscError, SweepParams};
use burstscope_io::Mapping;
use burstscope_spikes::{DetectParams, ParamIssue};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Table file format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableFormat {
    /// Apache Parquet (Snappy), the default.
    #[default]
    Parquet,
    /// Comma-separated values.
    Csv,
}

impl From<TableFormat> for burstscope_tables::Format {
    fn from(f: TableFormat) -> Self {
        match f {
            TableFormat::Parquet => Self::Parquet,
            TableFormat::Csv => Self::Csv,
        }
    }
}

/// Reads a TOML settings file (unknown fields are errors naming the file).
///
/// # Errors
/// [`crate::Error::Input`] naming the file, the line and the field.
pub fn read_settings<T: serde::de::DeserializeOwned>(path: &Path) -> crate::Result<T> {
    let text = std::fs::read_to_string(path).map_err(crate::error::file_err(path))?;
    toml::from_str(&text).map_err(|e| crate::Error::Input(format!("{}: invalid settings: {e}", path.display())))
}

macro_rules! validated {
    ($(#[$m:meta])* $cfg:ident, $settings:ident, $sname:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(try_from = $sname, into = $sname)]
        pub struct $cfg($settings);

        impl $cfg {
            /// Validates `settings` into a config.
            ///
            /// # Errors
            /// The first [`ParamError`].
            pub fn new(settings: $settings) -> Result<Self, ParamError> {
                settings.validate()?;
                Ok(Self(settings))
            }

            /// The validated settings.
            #[must_use]
            pub fn settings(&self) -> &$settings {
                &self.0
            }
        }

        impl std::ops::Deref for $cfg {
            type Target = $settings;
            fn deref(&self) -> &$settings {
                &self.0
            }
        }

        impl TryFrom<$settings> for $cfg {
            type Error = ParamError;
            fn try_from(s: $settings) -> Result<Self, ParamError> {
                Self::new(s)
            }
        }

        impl From<$cfg> for $settings {
            fn from(c: $cfg) -> Self {
                c.0
            }
        }

        impl Default for $cfg {
            /// The defaults (valid: a unit test checks them).
            fn default() -> Self {
                Self($settings::default())
            }
        }
    };
}

fn finite_positive(stage: &'static str, field: &str, v: f64, what: &str) -> Result<(), ParamError> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(ParamError::new(stage, field, v, what)) }
}

fn finite_non_negative(stage: &'static str, field: &str, v: f64, what: &str) -> Result<(), ParamError> {
    if v.is_finite() && v >= 0.0 { Ok(()) } else { Err(ParamError::new(stage, field, v, what)) }
}

// ---------------------------------------------------------------- detect

/// An interleaved raw binary input: its layout and how its channels group
/// (`[raw]` in `detect.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInput {
    /// Sample type (`int16`, `uint16`, `int32`, `float32`, `float64`; little-endian).
    pub dtype: burstscope_formats::raw::RawDtype,
    /// Channels per frame.
    pub n_channels: usize,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Bytes before the first frame.
    #[serde(default)]
    pub offset_bytes: u64,
    /// Microvolts per stored unit.
    #[serde(default = "one_uv")]
    pub gain_uv: f64,
}

fn one_uv() -> f64 {
    1.0
}

impl RawInput {
    /// The file layout.
    #[must_use]
    pub fn layout(&self) -> burstscope_formats::raw::RawParams {
        burstscope_formats::raw::RawParams {
            dtype: self.dtype,
            n_channels: self.n_channels,
            rate_hz: self.rate_hz,
            offset_bytes: self.offset_bytes,
            gain_uv: self.gain_uv,
        }
    }
}

/// `detect` settings: every [`DetectParams`] field at the top level (as
/// `detect.toml` has always had them) plus the input and output choices.
/// Unknown keys are refused (serde's `flatten` would let them through, so
/// the two parts are split by hand).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectSettings {
    /// Filter, threshold, detection windows, noise estimate and block grid.
    #[serde(flatten)]
    pub params: DetectParams,
    /// Series to use (name or HDF5 path; default: the first under `/acquisition`).
    pub series: Option<String>,
    /// How to read a plain HDF5 file (ignored for NWB files).
    pub mapping: Option<Mapping>,
    /// Read the input as interleaved raw binary with this layout (no HDF5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawInput>,
    /// Raw binary and Open Ephys inputs: consecutive channels per group (2
    /// stereotrodes, 4 tetrodes); default: one group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels_per_group: Option<usize>,
    /// Write `waveforms.h5`.
    pub waveforms: bool,
    /// gzip level of `waveforms.h5` (0 = none).
    pub waveforms_gzip: u8,
    /// Store snippets as float32 µV instead of int16 counts of σ/32 (twice
    /// the bytes).
    pub waveforms_float32: bool,
    /// Table format.
    pub format: TableFormat,
}

impl Default for DetectSettings {
    fn default() -> Self {
        Self {
            params: DetectParams::default(),
            series: None,
            mapping: None,
            raw: None,
            channels_per_group: None,
            waveforms: true,
            waveforms_gzip: 0,
            waveforms_float32: false,
            format: TableFormat::Parquet,
        }
    }
}

/// The `detect` keys that are not detection parameters.
const DETECT_EXTRA_KEYS: [&str; 8] =
    ["series", "mapping", "raw", "channels_per_group", "waveforms", "waveforms_gzip", "waveforms_float32", "format"];

impl<'de> Deserialize<'de> for DetectSettings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Extra {
            series: Option<String>,
            mapping: Option<Mapping>,
            raw: Option<RawInput>,
            channels_per_group: Option<usize>,
            waveforms: Option<bool>,
            waveforms_gzip: Option<u8>,
            waveforms_float32: Option<bool>,
            format: Option<TableFormat>,
        }
        let serde_json::Value::Object(all) = serde_json::Value::deserialize(d)? else {
            return Err(D::Error::custom("expected a table of detection settings"));
        };
        let (extra, params): (serde_json::Map<_, _>, serde_json::Map<_, _>) =
            all.into_iter().partition(|(k, _)| DETECT_EXTRA_KEYS.contains(&k.as_str()));
        let params: DetectParams =
            serde_json::from_value(serde_json::Value::Object(params)).map_err(D::Error::custom)?;
        let extra: Extra = serde_json::from_value(serde_json::Value::Object(extra)).map_err(D::Error::custom)?;
        let d = Self::default();
        Ok(Self {
            params,
            series: extra.series,
            mapping: extra.mapping,
            raw: extra.raw,
            channels_per_group: extra.channels_per_group,
            waveforms: extra.waveforms.unwrap_or(d.waveforms),
            waveforms_gzip: extra.waveforms_gzip.unwrap_or(d.waveforms_gzip),
            waveforms_float32: extra.waveforms_float32.unwrap_or(d.waveforms_float32),
            format: extra.format.unwrap_or(d.format),
        })
    }
}

impl DetectSettings {
    /// Checks every field that can be checked without the recording (the band
    /// against the sampling rate is checked when the file is opened).
    ///
    /// # Errors
    /// The first [`ParamError`].
    pub fn validate(&self) -> Result<(), ParamError> {
        self.params.validate(f64::INFINITY).map_err(|e| detect_param_error(&self.params, &e))?;
        if self.waveforms_gzip > 9 {
            return Err(ParamError::new("detect", "waveforms_gzip", u64::from(self.waveforms_gzip), "0..=9"));
        }
        if let Some(m) = &self.mapping {
            m.validate().map_err(|e| ParamError::new("detect", "mapping", m.dataset.clone(), e))?;
        }
        if self.channels_per_group == Some(0) {
            return Err(ParamError::new("detect", "channels_per_group", 0u64, "a positive number of channels"));
        }
        if let Some(r) = &self.raw {
            r.layout().validate().map_err(|(field, problem)| {
                ParamError::new("detect", format!("raw.{field}"), String::new(), problem)
            })?;
            if let Some(k) = self.channels_per_group
                && (k == 0 || r.n_channels % k != 0)
            {
                return Err(ParamError::new(
                    "detect",
                    "channels_per_group",
                    k,
                    format!("a divisor of the {} channels (2 for stereotrodes, 4 for tetrodes)", r.n_channels),
                ));
            }
        }
        Ok(())
    }
}

/// A detection parameter problem as a [`ParamError`].
pub(crate) fn detect_param_error(p: &DetectParams, issue: &ParamIssue) -> ParamError {
    let value =
        serde_json::to_value(p).ok().and_then(|v| v.get(issue.field).cloned()).map_or_else(String::new, |v| v.show());
    let m = issue.message.as_str();
    let allowed = m.split_once(": expected ").map_or(m, |(_, a)| a).to_string();
    ParamError { stage: "detect", field: issue.field.to_string(), value, allowed }
}

validated!(
    /// Validated `detect` settings.
    DetectConfig,
    DetectSettings,
    "DetectSettings"
);

// ---------------------------------------------------------------- bursts

/// Burst detection methods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    /// Interval rule with a preceding silence (LHb), the default.
    #[default]
    Lhb,
    /// NeuroExplorer MaxInterval.
    Maxinterval,
    /// Poisson surprise.
    Poisson,
    /// Rank surprise.
    Rank,
    /// logISI (Pasquale).
    Logisi,
    /// Cumulative moving average.
    Cma,
}

/// How the baseline and post-drug windows are chosen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WindowSettings {
    /// Injection time, s: baseline = start..T, post = T + `exclude_after_s`..end.
    pub drug_at_s: Option<f64>,
    /// Injection time from the input's events: the first event with this
    /// name (an epoch tag, an annotation's text, an event series' label or
    /// name, `digital:<bit>` for a NEV digital line's rising edge); then as
    /// `drug_at_s`.
    pub drug_at_event: Option<String>,
    /// Baseline window START:STOP, s (with `post_s`).
    pub baseline_s: Option<(f64, f64)>,
    /// Post-drug window START:STOP, s (with `baseline_s`).
    pub post_s: Option<(f64, f64)>,
    /// Time left out after the injection, s.
    pub exclude_after_s: f64,
    /// Name of the post-drug window (default: the epoch tag, else `post`).
    pub drug_name: Option<String>,
}

/// `bursts` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BurstsSettings {
    /// The method used.
    pub method: MethodName,
    /// `lhb` parameters.
    pub lhb: IntervalParams,
    /// `maxinterval` parameters.
    pub maxinterval: MaxIntervalParams,
    /// `poisson` parameters.
    pub poisson: PoissonParams,
    /// `rank` parameters.
    pub rank: RankParams,
    /// `logisi` parameters.
    pub logisi: LogIsiParams,
    /// `cma` parameters.
    pub cma: CmaParams,
    /// Metric and classification thresholds.
    pub metrics: MetricParams,
    /// LFP band powers.
    pub lfp: LfpParams,
    /// Baseline and post-drug windows.
    pub windows: WindowSettings,
    /// Time-course bin, s.
    pub bin_s: f64,
    /// Table format.
    pub format: TableFormat,
    /// Draw figures.
    pub figures: bool,
    /// Keep only units with these curation labels (e.g. `["good"]`; empty:
    /// all): phy's `cluster_group.tsv`, Kilosort's `KSLabel`, or a
    /// `label`/`quality` column of NWB `/units`.
    pub labels: Vec<String>,
}

impl Default for BurstsSettings {
    fn default() -> Self {
        Self {
            method: MethodName::Lhb,
            lhb: IntervalParams::default(),
            maxinterval: MaxIntervalParams::default(),
            poisson: PoissonParams::default(),
            rank: RankParams::default(),
            logisi: LogIsiParams::default(),
            cma: CmaParams::default(),
            metrics: MetricParams::default(),
            lfp: LfpParams::default(),
            windows: WindowSettings::default(),
            bin_s: 60.0,
            format: TableFormat::Parquet,
            figures: true,
            labels: Vec::new(),
        }
    }
}

fn burst_param_error(settings: &serde_json::Value, e: &BurstError) -> ParamError {
    match e {
        BurstError::Param { method, field, message } => {
            let section = if *method == "metrics" { "metrics".to_string() } else { (*method).to_string() };
            let value = settings.get(&section).and_then(|s| s.get(*field)).map_or_else(String::new, ShowValue::show);
            let allowed = message.strip_prefix("expected ").unwrap_or(message).to_string();
            ParamError { stage: "bursts", field: format!("{section}.{field}"), value, allowed }
        }
        other => ParamError::new("bursts", "parameters", String::new(), other.to_string()),
    }
}

impl BurstsSettings {
    /// The burst detection method with its parameters.
    #[must_use]
    pub fn method(&self) -> Method {
        match self.method {
            MethodName::Lhb => Method::Lhb(self.lhb.clone()),
            MethodName::Maxinterval => Method::MaxInterval(self.maxinterval.clone()),
            MethodName::Poisson => Method::Poisson(self.poisson.clone()),
            MethodName::Rank => Method::Rank(self.rank.clone()),
            MethodName::Logisi => Method::LogIsi(self.logisi.clone()),
            MethodName::Cma => Method::Cma(self.cma.clone()),
        }
    }

    /// Sets the fewest spikes per burst of the chosen method.
    pub fn set_min_spikes(&mut self, n: usize) {
        match self.method {
            MethodName::Lhb => self.lhb.min_spikes = n,
            MethodName::Maxinterval => self.maxinterval.min_spikes = n,
            MethodName::Poisson => self.poisson.min_spikes = n,
            MethodName::Rank => self.rank.min_spikes = n,
            MethodName::Logisi => self.logisi.min_spikes = n,
            MethodName::Cma => self.cma.min_spikes = n,
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// The first [`ParamError`].
    pub fn validate(&self) -> Result<(), ParamError> {
        let json = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        for m in [
            Method::Lhb(self.lhb.clone()),
            Method::MaxInterval(self.maxinterval.clone()),
            Method::Poisson(self.poisson.clone()),
            Method::Rank(self.rank.clone()),
            Method::LogIsi(self.logisi.clone()),
            Method::Cma(self.cma.clone()),
        ] {
            m.validate().map_err(|e| burst_param_error(&json, &e))?;
        }
        self.metrics.validate().map_err(|e| burst_param_error(&json, &e))?;
        self.lfp.validate()?;
        finite_positive("bursts", "bin_s", self.bin_s, "a positive number of seconds")?;
        let w = &self.windows;
        finite_non_negative("bursts", "windows.exclude_after_s", w.exclude_after_s, "a number of seconds ≥ 0")?;
        if let Some(t) = w.drug_at_s
            && !t.is_finite()
        {
            return Err(ParamError::new("bursts", "windows.drug_at_s", t, "a finite time in seconds"));
        }
        if let Some(n) = &w.drug_at_event {
            if n.trim().is_empty() {
                return Err(ParamError::new("bursts", "windows.drug_at_event", "\"\"", "an event's name"));
            }
            if w.drug_at_s.is_some() {
                return Err(ParamError::new(
                    "bursts",
                    "windows.drug_at_event",
                    n.as_str(),
                    "either windows.drug_at_s or windows.drug_at_event, not both",
                ));
            }
        }
        match (w.baseline_s, w.post_s) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(ParamError::new(
                    "bursts",
                    if w.baseline_s.is_some() { "windows.post_s" } else { "windows.baseline_s" },
                    "none",
                    "both windows.baseline_s and windows.post_s, or neither",
                ));
            }
            _ => {}
        }
        for (name, r) in [("windows.baseline_s", w.baseline_s), ("windows.post_s", w.post_s)] {
            if let Some((a, b)) = r
                && !(a.is_finite() && b.is_finite() && b > a)
            {
                return Err(ParamError::new("bursts", name, (a, b), "START:STOP in seconds with STOP after START"));
            }
        }
        if let Some(n) = &w.drug_name
            && (n.trim().is_empty() || n.trim().eq_ignore_ascii_case("baseline"))
        {
            return Err(ParamError::new(
                "bursts",
                "windows.drug_name",
                n.clone(),
                "a non-empty name other than baseline",
            ));
        }
        Ok(())
    }
}

validated!(
    /// Validated `bursts` settings.
    BurstsConfig,
    BurstsSettings,
    "BurstsSettings"
);

// ---------------------------------------------------------------- epsc

/// A test pulse given by hand (when the file has no command series).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestPulseSpec {
    /// Step onset within the sweep, ms.
    pub start_ms: f64,
    /// Step end, ms.
    pub stop_ms: f64,
    /// Step size, mV.
    pub step_mv: f64,
}

/// Where the `epsc` stage takes the stimulus times from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StimulusSource {
    /// The protocol's digital outputs when the file's protocol has them,
    /// else the stimulus artifact.
    #[default]
    Auto,
    /// The stimulus artifact in the current (electrical stimulation).
    Artifact,
    /// The protocol: the onsets of its digital outputs (optogenetic or puff
    /// stimulation, which leave no artifact).
    Protocol,
}

/// `epsc` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EpscSettings {
    /// Per-sweep measurement.
    pub sweep: SweepParams,
    /// Per-cell summary and QC.
    pub cell: CellParams,
    /// Stimulus time within each sweep, ms (default: from `stimulus_source`).
    pub stim_ms: Option<f64>,
    /// Where stimuli come from when `stim_ms` is not given.
    pub stimulus_source: StimulusSource,
    /// Test pulse when the file has no command series.
    pub test_pulse: Option<TestPulseSpec>,
    /// Holding potential analysed, mV (default: each cell's most common).
    pub holding_mv: Option<f64>,
    /// Sweeps within this of the holding potential are analysed together, mV.
    pub holding_tolerance_mv: f64,
    /// NMDA/AMPA ratio: the AMPA peak is measured in sweeps held here, mV.
    pub ampa_holding_mv: f64,
    /// NMDA/AMPA ratio: the NMDA amplitude at `sweep.latency_ms` in sweeps held here, mV.
    pub nmda_holding_mv: f64,
    /// Keep QC-failed cells in the group statistics.
    pub include_failed: bool,
    /// Averaged traces: ms before and after the stimulus.
    pub trace_window_ms: (f64, f64),
    /// Table format.
    pub format: TableFormat,
    /// Draw figures.
    pub figures: bool,
}

impl Default for EpscSettings {
    fn default() -> Self {
        Self {
            sweep: SweepParams::default(),
            cell: CellParams::default(),
            stim_ms: None,
            stimulus_source: StimulusSource::Auto,
            test_pulse: None,
            holding_mv: None,
            holding_tolerance_mv: 2.5,
            ampa_holding_mv: -70.0,
            nmda_holding_mv: 40.0,
            include_failed: false,
            trace_window_ms: (20.0, 600.0),
            format: TableFormat::Parquet,
            figures: true,
        }
    }
}

fn epsc_param_error(section: &str, settings: &serde_json::Value, e: &EpscError) -> ParamError {
    match e {
        EpscError::Param { field, message } => {
            let value = settings.get(section).and_then(|s| s.get(*field)).map_or_else(String::new, ShowValue::show);
            let allowed = message.strip_prefix("expected ").unwrap_or(message).to_string();
            ParamError { stage: "epsc", field: format!("{section}.{field}"), value, allowed }
        }
        other => ParamError::new("epsc", section, String::new(), other.to_string()),
    }
}

impl EpscSettings {
    /// Checks every field.
    ///
    /// # Errors
    /// The first [`ParamError`].
    pub fn validate(&self) -> Result<(), ParamError> {
        let json = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        self.sweep.validate().map_err(|e| epsc_param_error("sweep", &json, &e))?;
        self.cell.validate().map_err(|e| epsc_param_error("cell", &json, &e))?;
        if let Some(v) = self.stim_ms {
            finite_non_negative("epsc", "stim_ms", v, "a time within the sweep in ms (≥ 0)")?;
        }
        if let Some(tp) = self.test_pulse
            && !(tp.start_ms.is_finite()
                && tp.start_ms >= 0.0
                && tp.stop_ms.is_finite()
                && tp.stop_ms > tp.start_ms
                && tp.step_mv.is_finite()
                && tp.step_mv != 0.0)
        {
            return Err(ParamError::new(
                "epsc",
                "test_pulse",
                format!("{}:{}:{}", tp.start_ms, tp.stop_ms, tp.step_mv),
                "START_MS:STOP_MS:STEP_MV with 0 ≤ START < STOP and a non-zero step",
            ));
        }
        if let Some(v) = self.holding_mv
            && !(v.is_finite() && v.abs() <= 200.0)
        {
            return Err(ParamError::new("epsc", "holding_mv", v, "a potential within ±200 mV"));
        }
        finite_positive("epsc", "holding_tolerance_mv", self.holding_tolerance_mv, "a positive number of mV")?;
        for (field, v) in [("ampa_holding_mv", self.ampa_holding_mv), ("nmda_holding_mv", self.nmda_holding_mv)] {
            if !(v.is_finite() && v.abs() <= 200.0) {
                return Err(ParamError::new("epsc", field, v, "a potential within ±200 mV"));
            }
        }
        if (self.ampa_holding_mv - self.nmda_holding_mv).abs() <= 2.0 * self.holding_tolerance_mv {
            return Err(ParamError::new(
                "epsc",
                "nmda_holding_mv",
                self.nmda_holding_mv,
                "a potential further than 2 × holding_tolerance_mv from ampa_holding_mv",
            ));
        }
        let (pre, post) = self.trace_window_ms;
        if !(pre.is_finite() && post.is_finite() && pre >= 0.0 && post > 0.0 && pre + post <= 60_000.0) {
            return Err(ParamError::new(
                "epsc",
                "trace_window_ms",
                (pre, post),
                "BEFORE, AFTER in ms with BEFORE ≥ 0, AFTER > 0 and at most 60 s in all",
            ));
        }
        Ok(())
    }
}

validated!(
    /// Validated `epsc` settings.
    EpscConfig,
    EpscSettings,
    "EpscSettings"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        DetectSettings::default().validate().unwrap();
        BurstsSettings::default().validate().unwrap();
        EpscSettings::default().validate().unwrap();
    }

    #[test]
    fn detect_toml_keeps_the_params_at_the_top_level_and_refuses_unknown_fields() {
        let s: DetectSettings = toml::from_str("threshold = 4.5\nformat = \"csv\"\n").unwrap();
        assert_eq!((s.params.threshold, s.format), (4.5, TableFormat::Csv));
        assert!(toml::from_str::<DetectSettings>("treshold = 4.5\n").is_err());
        let bad = DetectSettings {
            params: DetectParams { threshold: -1.0, ..DetectParams::default() },
            ..Default::default()
        };
        let e = DetectConfig::new(bad).unwrap_err();
        assert_eq!((e.stage, e.field.as_str(), e.value.as_str()), ("detect", "threshold", "-1.0"));
    }

    #[test]
    fn a_config_cannot_be_deserialised_without_validation() {
        let e = toml::from_str::<EpscConfig>("[sweep]\ncharge_window_ms = [-5.0, 500.0]\n").unwrap_err();
        assert!(e.to_string().contains("charge_window_ms"), "{e}");
        let e = toml::from_str::<BurstsConfig>("[windows]\nbaseline_s = [0.0, 10.0]\n").unwrap_err();
        assert!(e.to_string().contains("windows.post_s"), "{e}");
    }

    #[test]
    fn method_errors_name_the_section_and_field() {
        let mut s = BurstsSettings::default();
        s.maxinterval.min_spikes = 0;
        let e = BurstsConfig::new(s).unwrap_err();
        assert!(e.field.starts_with("maxinterval."), "{e}");
    }
}
