//! Parameters of every method: plain structs with documented defaults, kept
//! apart from the algorithms, serialisable (TOML/JSON) and validated.

use crate::BurstError;
use serde::{Deserialize, Serialize};

/// The method names accepted on the command line, in documentation order.
pub const METHOD_NAMES: [&str; 6] = ["lhb", "maxinterval", "poisson", "rank", "logisi", "cma"];

fn positive(method: &'static str, field: &'static str, v: f64) -> Result<(), BurstError> {
    if !(v > 0.0) || !v.is_finite() {
        return Err(BurstError::Param {
            method,
            field,
            message: format!("expected a positive number of seconds, got {v}"),
        });
    }
    Ok(())
}

fn non_negative(method: &'static str, field: &'static str, v: f64) -> Result<(), BurstError> {
    if !(v >= 0.0) || !v.is_finite() {
        return Err(BurstError::Param { method, field, message: format!("expected a number ≥ 0, got {v}") });
    }
    Ok(())
}

fn min_spikes(method: &'static str, v: usize, least: usize) -> Result<(), BurstError> {
    if v < least {
        return Err(BurstError::Param {
            method,
            field: "min_spikes",
            message: format!("expected at least {least}, got {v}"),
        });
    }
    Ok(())
}

/// Interval rule with a required preceding silence (the LHb style, method `lhb`).
///
/// Spike i opens a burst when the ISI to spike i+1 is ≤ `start_isi_max_s`
/// (< when `start_inclusive` is false) **and** the silence before spike i,
/// t_i − t_{i−1}, is ≥ `min_preceding_silence_s`; the burst extends while
/// ISIs are ≤ `end_isi_max_s` (< when `end_inclusive` is false). Bursts closer
/// than `min_ibi_s` (end to start) are merged; bursts with fewer than
/// `min_spikes` spikes or shorter than `min_duration_s` are dropped.
///
/// Defaults (a = b = 20 ms, c = 100 ms, n = 2) are a common choice in the LHb
/// literature; the reference docs could not confirm them as the cited papers'
/// exact values, so every one is a parameter and is written with the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntervalParams {
    /// a: largest ISI that opens a burst (s).
    pub start_isi_max_s: f64,
    /// Whether an ISI equal to `start_isi_max_s` opens a burst.
    pub start_inclusive: bool,
    /// b: largest ISI that continues a burst (s).
    pub end_isi_max_s: f64,
    /// Whether an ISI equal to `end_isi_max_s` continues a burst.
    pub end_inclusive: bool,
    /// c: silence required before the first spike of a burst (s, inclusive).
    pub min_preceding_silence_s: f64,
    /// Whether the train's first spike (whose preceding silence is unknown) may open a burst.
    pub first_spike_opens: bool,
    /// n: fewest spikes in a burst.
    pub min_spikes: usize,
    /// Merge bursts closer than this (end to start, s); 0 disables merging.
    pub min_ibi_s: f64,
    /// Drop bursts shorter than this (first to last spike, s).
    pub min_duration_s: f64,
}

impl Default for IntervalParams {
    fn default() -> Self {
        Self {
            start_isi_max_s: 0.020,
            start_inclusive: true,
            end_isi_max_s: 0.020,
            end_inclusive: true,
            min_preceding_silence_s: 0.100,
            first_spike_opens: true,
            min_spikes: 2,
            min_ibi_s: 0.0,
            min_duration_s: 0.0,
        }
    }
}

impl IntervalParams {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`BurstError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), BurstError> {
        positive("lhb", "start_isi_max_s", self.start_isi_max_s)?;
        positive("lhb", "end_isi_max_s", self.end_isi_max_s)?;
        non_negative("lhb", "min_preceding_silence_s", self.min_preceding_silence_s)?;
        non_negative("lhb", "min_ibi_s", self.min_ibi_s)?;
        non_negative("lhb", "min_duration_s", self.min_duration_s)?;
        min_spikes("lhb", self.min_spikes, 2)
    }
}

/// MaxInterval (NeuroExplorer; sjemea `mi.find.bursts`).
///
/// 1. An ISI below `max_begin_isi_s` starts a burst (strictly below, as the
///    sjemea reference implementation does; `begin_inclusive` gives
///    NeuroExplorer's "≤").
/// 2. The burst continues while ISIs are ≤ `max_end_isi_s`; a larger ISI ends
///    it at the previous spike; a burst open at the end of the train ends at
///    the last spike.
/// 3. Bursts less than `min_ibi_s` apart (end to start, measured before
///    filtering) are merged, backwards, so chains merge into one.
/// 4. Bursts shorter than `min_duration_s` or with fewer than `min_spikes`
///    spikes are dropped.
///
/// Defaults: the NeuroExplorer manual values as quoted by Cotterill et al.
/// 2016 — 0.17 s, 0.3 s, 0.2 s, 0.01 s, 3 spikes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaxIntervalParams {
    /// Largest ISI that starts a burst (s).
    pub max_begin_isi_s: f64,
    /// Whether an ISI equal to `max_begin_isi_s` starts a burst (NeuroExplorer ≤; sjemea <).
    pub begin_inclusive: bool,
    /// Largest ISI inside a burst (s, inclusive).
    pub max_end_isi_s: f64,
    /// Merge bursts closer than this (s).
    pub min_ibi_s: f64,
    /// Drop bursts shorter than this (s).
    pub min_duration_s: f64,
    /// Fewest spikes in a burst.
    pub min_spikes: usize,
}

impl Default for MaxIntervalParams {
    fn default() -> Self {
        Self {
            max_begin_isi_s: 0.17,
            begin_inclusive: false,
            max_end_isi_s: 0.3,
            min_ibi_s: 0.2,
            min_duration_s: 0.01,
            min_spikes: 3,
        }
    }
}

impl MaxIntervalParams {
    /// Cotterill et al. 2016's values for the hiPSC recordings (beginning ISI 0.2 s).
    #[must_use]
    pub fn cotterill_hipsc() -> Self {
        Self { max_begin_isi_s: 0.2, ..Self::default() }
    }

    /// Checks ranges.
    ///
    /// # Errors
    /// [`BurstError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), BurstError> {
        positive("maxinterval", "max_begin_isi_s", self.max_begin_isi_s)?;
        positive("maxinterval", "max_end_isi_s", self.max_end_isi_s)?;
        non_negative("maxinterval", "min_ibi_s", self.min_ibi_s)?;
        non_negative("maxinterval", "min_duration_s", self.min_duration_s)?;
        min_spikes("maxinterval", self.min_spikes, 2)
    }
}

/// Poisson surprise (Legendy & Salcman 1985, as in sjemea/Cotterill).
///
/// The rate is 1/mean ISI of the whole train. A burst is seeded by two
/// consecutive ISIs below `seed_isi_factor` × mean ISI; phase 1 appends spikes
/// (looking up to `look_ahead` spikes ahead) while that raises the surprise,
/// giving up past an ISI longer than `stop_isi_factor` × mean ISI; phase 2
/// drops spikes from the front while that raises it (down to 3 spikes). The
/// surprise of i spikes spanning T is S = −ln P(X ≥ i − 1), X ~ Poisson(T/mean ISI).
/// Bursts with S > `min_surprise` (strictly) and at least `min_spikes` spikes are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoissonParams {
    /// Smallest accepted surprise (natural log); default −ln 0.01 ≈ 4.605.
    pub min_surprise: f64,
    /// Seed: two ISIs each below this × mean ISI.
    pub seed_isi_factor: f64,
    /// Phase 1 stops looking ahead past an ISI above this × mean ISI.
    pub stop_isi_factor: f64,
    /// How many spikes phase 1 looks ahead for a surprise increase.
    pub look_ahead: usize,
    /// Fewest spikes in a burst (the method itself never makes fewer than 3).
    pub min_spikes: usize,
}

impl Default for PoissonParams {
    fn default() -> Self {
        Self {
            min_surprise: -(0.01f64.ln()),
            seed_isi_factor: 0.5,
            stop_isi_factor: 2.0,
            look_ahead: 10,
            min_spikes: 3,
        }
    }
}

impl PoissonParams {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`BurstError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), BurstError> {
        non_negative("poisson", "min_surprise", self.min_surprise)?;
        positive("poisson", "seed_isi_factor", self.seed_isi_factor)?;
        positive("poisson", "stop_isi_factor", self.stop_isi_factor)?;
        if self.look_ahead == 0 {
            return Err(BurstError::Param {
                method: "poisson",
                field: "look_ahead",
                message: "expected at least 1".into(),
            });
        }
        min_spikes("poisson", self.min_spikes, 3)
    }
}

/// Rank surprise (Gourevitch & Eggermont 2007; Cotterill's `RS.method`).
///
/// ISIs are ranked (ties get their mean rank); inside every run of ISIs below
/// the `limit_quantile` quantile of the ISIs (R type 7), each sub-sequence of
/// q ≥ 2 ISIs gets RS = −ln P(T_q ≤ u), u = ⌊Σ ranks⌋ and T_q a sum of q
/// independent uniform ranks (exact for q < `normal_from`, normal otherwise);
/// the most surprising non-overlapping sub-sequences are taken greedily and
/// those with RS ≥ `min_surprise` kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RankParams {
    /// Smallest accepted rank surprise (natural log, inclusive); default −ln 0.01.
    pub min_surprise: f64,
    /// Quantile of the ISI distribution that bounds in-burst ISIs (strictly below); default 0.75.
    pub limit_quantile: f64,
    /// Fewest spikes in a burst.
    pub min_spikes: usize,
    /// Burst length (ISIs) from which the normal approximation is used; default 30.
    pub normal_from: usize,
}

impl Default for RankParams {
    fn default() -> Self {
        Self { min_surprise: -(0.01f64.ln()), limit_quantile: 0.75, min_spikes: 3, normal_from: 30 }
    }
}

impl RankParams {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`BurstError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), BurstError> {
        non_negative("rank", "min_surprise", self.min_surprise)?;
        if !(self.limit_quantile > 0.0 && self.limit_quantile <= 1.0) {
            return Err(BurstError::Param {
                method: "rank",
                field: "limit_quantile",
                message: format!("expected a quantile in (0, 1], got {}", self.limit_quantile),
            });
        }
        if self.normal_from < 2 {
            return Err(BurstError::Param {
                method: "rank",
                field: "normal_from",
                message: "expected at least 2".into(),
            });
        }
        min_spikes("rank", self.min_spikes, 3)
    }
}

/// logISI (Pasquale et al. 2010; Cotterill's `logisi.pasq.method`).
///
/// The ISI threshold comes from the log-binned ISI histogram (ISIs in ms,
/// ISIs < 1 ms discarded, `bins_per_decade` bins per decade from 1 ms,
/// normalised, smoothed by lowess with span `lowess_frac`); the intra-burst
/// peak is the largest peak below `cutoff_s`; the first later peak whose
/// minimum in between has a void parameter ≥ `void_threshold` gives ISImax.
/// Bursts: runs of ISIs ≤ the cut-off with at least `min_spikes` spikes, where
/// the cut-off is ISImax when ISImax ≤ `cutoff_s`; when ISImax is larger (and
/// below `max_isimax_s`) cores at `cutoff_s` closer than ISImax are merged and
/// extended with burst-related spikes at ISImax; without ISImax, `cutoff_s`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogIsiParams {
    /// Largest intra-burst peak position and largest cut-off (s); default 0.1.
    pub cutoff_s: f64,
    /// Void parameter needed between the peaks; default 0.7.
    pub void_threshold: f64,
    /// An ISImax at or above this is ignored (the cut-off is used); default 1 s.
    pub max_isimax_s: f64,
    /// Histogram bins per decade of ISI; default 10.
    pub bins_per_decade: usize,
    /// lowess span (fraction of bins); default 0.05.
    pub lowess_frac: f64,
    /// Fewest spikes in a burst; default 3.
    pub min_spikes: usize,
    /// Trains with fewer spikes are not analysed (no bursts); default 10.
    pub min_train_spikes: usize,
}

impl Default for LogIsiParams {
    fn default() -> Self {
        Self {
            cutoff_s: 0.1,
            void_threshold: 0.7,
            max_isimax_s: 1.0,
            bins_per_decade: 10,
            lowess_frac: 0.05,
            min_spikes: 3,
            min_train_spikes: 10,
        }
    }
}

impl LogIsiParams {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`BurstError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), BurstError> {
        positive("logisi", "cutoff_s", self.cutoff_s)?;
        positive("logisi", "max_isimax_s", self.max_isimax_s)?;
        if !(self.void_threshold > 0.0 && self.void_threshold <= 1.0) {
            return Err(BurstError::Param {
                method: "logisi",
                field: "void_threshold",
                message: format!("expected a value in (0, 1], got {}", self.void_threshold),
            });
        }
        if self.bins_per_decade == 0 {
            return Err(BurstError::Param {
                method: "logisi",
                field: "bins_per_decade",
                message: "expected at least 1".into(),
            });
        }
        if !(self.lowess_frac > 0.0 && self.lowess_frac <= 1.0) {
            return Err(BurstError::Param {
                method: "logisi",
                field: "lowess_frac",
                message: format!("expected a fraction in (0, 1], got {}", self.lowess_frac),
            });
        }
        min_spikes("logisi", self.min_spikes, 2)
    }
}

/// Which skewness selects CMA's α values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmaSkew {
    /// Skewness of the CMA curve (Cotterill et al. 2016's code).
    CmaCurve,
    /// Skewness of the ISI distribution (Kapucu-group code).
    Isi,
}

/// CMA, cumulative moving average of the ISI histogram (Kapucu et al. 2012).
///
/// The ISI histogram (bin width range/1000 from 0, or range/10 when the range
/// is below 1 ms) gives CMA_k = mean of the first k counts, maximal at bin m.
/// The skewness (of the CMA curve by default) selects (α1, α2) from
/// < 1: (1, 0.5); < 4: (0.7, 0.5); < 9: (0.5, 0.3); else (0.3, 0.1). The
/// thresholds are the bin mid-points at or after m whose CMA is closest to
/// α1·CMA_m (xt) and α2·CMA_m (xt2). Bursts are runs of ISIs ≤ xt with at least
/// `min_spikes` spikes, extended with burst-related spikes at xt2 when
/// `include_related`, then merged when closer than xt2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CmaParams {
    /// Skewness source.
    pub skew: CmaSkew,
    /// Extend bursts with burst-related spikes (ISI ≤ xt2).
    pub include_related: bool,
    /// Fewest spikes in a burst; default 3.
    pub min_spikes: usize,
    /// Cotterill's post-hoc screen: a train whose mean burst is longer than
    /// this (s) is declared non-bursting. `None` (default) disables it.
    pub screen_max_mean_duration_s: Option<f64>,
    /// Screen: a mean of more spikes per burst than this → non-bursting.
    pub screen_max_mean_spikes: Option<f64>,
}

impl Default for CmaParams {
    fn default() -> Self {
        Self {
            skew: CmaSkew::CmaCurve,
            include_related: true,
            min_spikes: 3,
            screen_max_mean_duration_s: None,
            screen_max_mean_spikes: None,
        }
    }
}

impl CmaParams {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`BurstError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), BurstError> {
        if let Some(v) = self.screen_max_mean_duration_s {
            positive("cma", "screen_max_mean_duration_s", v)?;
        }
        if let Some(v) = self.screen_max_mean_spikes {
            positive("cma", "screen_max_mean_spikes", v)?;
        }
        min_spikes("cma", self.min_spikes, 2)
    }
}

/// A burst detection method with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Interval rule with preceding silence.
    Lhb(IntervalParams),
    /// MaxInterval.
    MaxInterval(MaxIntervalParams),
    /// Poisson surprise.
    Poisson(PoissonParams),
    /// Rank surprise.
    Rank(RankParams),
    /// logISI.
    LogIsi(LogIsiParams),
    /// CMA.
    Cma(CmaParams),
}

impl Method {
    /// The method with default parameters, by its command-line name.
    ///
    /// ```
    /// use burstscope_bursts::Method;
    /// assert_eq!(Method::from_name("maxinterval").unwrap().name(), "maxinterval");
    /// assert!(Method::from_name("hsmm").is_none());
    /// ```
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "lhb" => Self::Lhb(IntervalParams::default()),
            "maxinterval" => Self::MaxInterval(MaxIntervalParams::default()),
            "poisson" => Self::Poisson(PoissonParams::default()),
            "rank" => Self::Rank(RankParams::default()),
            "logisi" => Self::LogIsi(LogIsiParams::default()),
            "cma" => Self::Cma(CmaParams::default()),
            _ => return None,
        })
    }

    /// The command-line name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Lhb(_) => "lhb",
            Self::MaxInterval(_) => "maxinterval",
            Self::Poisson(_) => "poisson",
            Self::Rank(_) => "rank",
            Self::LogIsi(_) => "logisi",
            Self::Cma(_) => "cma",
        }
    }

    /// Whether the method reports a surprise per burst.
    #[must_use]
    pub fn has_surprise(&self) -> bool {
        matches!(self, Self::Poisson(_) | Self::Rank(_))
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`BurstError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), BurstError> {
        match self {
            Self::Lhb(p) => p.validate(),
            Self::MaxInterval(p) => p.validate(),
            Self::Poisson(p) => p.validate(),
            Self::Rank(p) => p.validate(),
            Self::LogIsi(p) => p.validate(),
            Self::Cma(p) => p.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_round_trip() {
        for name in METHOD_NAMES {
            let m = Method::from_name(name).unwrap();
            m.validate().unwrap();
            let s = serde_json::to_string(&m).unwrap();
            let back: Method = serde_json::from_str(&s).unwrap();
            assert_eq!(back, m, "{s}");
        }
    }

    #[test]
    fn bad_values_name_the_field() {
        let p = IntervalParams { start_isi_max_s: -1.0, ..IntervalParams::default() };
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("start_isi_max_s"), "{e}");
        let p = RankParams { limit_quantile: 1.5, ..RankParams::default() };
        assert!(p.validate().unwrap_err().to_string().contains("limit_quantile"));
        let p = PoissonParams { min_spikes: 2, ..PoissonParams::default() };
        assert!(p.validate().is_err());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(serde_json::from_str::<IntervalParams>(r#"{"start_isi_max":0.01}"#).is_err());
        let p: IntervalParams = serde_json::from_str(r#"{"min_spikes":3}"#).unwrap();
        assert_eq!(p.min_spikes, 3);
        assert_eq!(p.start_isi_max_s, 0.020);
    }
}
