//! Burst detection in spike trains, and the burst metrics papers report.
//!
//! Every detector is a pure function of one unit's sorted spike times (seconds)
//! and a plain, validated parameter struct; nothing here reads files or knows
//! about tables. The methods and their conventions follow
//! `docs/bursts.md` (Cotterill et al. 2016, J Neurophysiol 116:306,
//! and the reference implementations it compares):
//!
//! | name | method | struct |
//! |---|---|---|
//! | `lhb` | interval rule with a required preceding silence | [`IntervalParams`] |
//! | `maxinterval` | MaxInterval (NeuroExplorer) | [`MaxIntervalParams`] |
//! | `poisson` | Poisson surprise (Legendy & Salcman 1985) | [`PoissonParams`] |
//! | `rank` | rank surprise (Gourevitch & Eggermont 2007) | [`RankParams`] |
//! | `logisi` | logISI (Pasquale et al. 2010) | [`LogIsiParams`] |
//! | `cma` | cumulative moving average (Kapucu et al. 2012) | [`CmaParams`] |
//!
//! ```
//! use burstscope_bursts::{Method, detect};
//! // two LHb-style bursts: silence, then spikes 5 ms apart
//! let t = [0.5, 1.0, 1.005, 1.010, 2.0, 2.004, 2.3];
//! let bursts = detect(&t, &Method::from_name("lhb").unwrap()).unwrap();
//! assert_eq!(bursts.len(), 2);
//! assert_eq!((bursts[0].first, bursts[0].n_spikes), (1, 3));
//! assert_eq!((bursts[1].first, bursts[1].n_spikes), (4, 2));
//! ```

mod cma;
mod interval;
mod logisi;
mod metrics;
mod params;
mod surprise;
pub mod synthetic;

pub use cma::{cma, cma_thresholds};
pub use interval::{interval_rule, max_interval};
pub use logisi::{LogIsiThreshold, logisi, logisi_threshold, lowess};
pub use metrics::{
    FiringClass, MetricParams, TimeBin, UnitMetrics, Window, burst_membership, isi_stats, time_course, window_metrics,
};
pub use params::{
    CmaParams, CmaSkew, IntervalParams, LogIsiParams, METHOD_NAMES, MaxIntervalParams, Method, PoissonParams,
    RankParams,
};
pub use surprise::{ln_poisson_upper_tail, poisson_surprise, rank_surprise};

use serde::{Deserialize, Serialize};

/// One burst of one unit.
///
/// Spike indices are 0-based positions in the train given to the detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Burst {
    /// Index of the burst's first spike.
    pub first: usize,
    /// Number of spikes in the burst.
    pub n_spikes: usize,
    /// Time of the first spike (s).
    pub start_s: f64,
    /// Time of the last spike (s).
    pub end_s: f64,
    /// Surprise (−ln p) for the surprise methods; `None` for the others.
    pub surprise: Option<f64>,
}

impl Burst {
    /// Builds a burst from inclusive spike indices into `times`.
    #[must_use]
    pub fn from_indices(times: &[f64], first: usize, last: usize, surprise: Option<f64>) -> Self {
        Self { first, n_spikes: last - first + 1, start_s: times[first], end_s: times[last], surprise }
    }

    /// Index of the last spike.
    #[must_use]
    pub fn last(&self) -> usize {
        self.first + self.n_spikes - 1
    }

    /// Last spike minus first spike (s).
    #[must_use]
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }

    /// Mean intra-burst frequency (n − 1)/duration (Hz); NaN for a zero duration.
    #[must_use]
    pub fn intraburst_freq_hz(&self) -> f64 {
        let d = self.duration_s();
        if d > 0.0 { (self.n_spikes - 1) as f64 / d } else { f64::NAN }
    }
}

/// How an inter-burst interval is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IbiConvention {
    /// First spike of burst k+1 minus last spike of burst k (sjemea, Cotterill).
    EndToStart,
    /// First spike to first spike (NeuroExplorer).
    StartToStart,
}

/// Inter-burst interval before each burst (`None` for the first), in seconds.
///
/// ```
/// use burstscope_bursts::{Burst, IbiConvention, ibis};
/// let t = [0.0, 0.01, 1.0, 1.01];
/// let b = [Burst::from_indices(&t, 0, 1, None), Burst::from_indices(&t, 2, 3, None)];
/// assert_eq!(ibis(&b, IbiConvention::EndToStart), vec![None, Some(0.99)]);
/// assert_eq!(ibis(&b, IbiConvention::StartToStart), vec![None, Some(1.0)]);
/// ```
#[must_use]
pub fn ibis(bursts: &[Burst], convention: IbiConvention) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(bursts.len());
    for (k, b) in bursts.iter().enumerate() {
        out.push(if k == 0 {
            None
        } else {
            let prev = &bursts[k - 1];
            Some(match convention {
                IbiConvention::EndToStart => b.start_s - prev.end_s,
                IbiConvention::StartToStart => b.start_s - prev.start_s,
            })
        });
    }
    out
}

/// Errors of burst detection.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BurstError {
    /// A spike time is NaN or infinite.
    #[error("spike {index} has a non-finite time ({value})")]
    NonFinite {
        /// 0-based spike index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Spike times go backwards.
    #[error("spike times are not sorted: spike {index} at {value} s comes after {previous} s")]
    Unsorted {
        /// 0-based index of the offending spike.
        index: usize,
        /// Its time (s).
        value: f64,
        /// The time before it (s).
        previous: f64,
    },
    /// Two spikes at the same time (a zero ISI).
    #[error("duplicate spike time {value} s at spikes {} and {index} (a zero inter-spike interval)", index - 1)]
    Duplicate {
        /// 0-based index of the second spike.
        index: usize,
        /// The repeated time (s).
        value: f64,
    },
    /// A parameter is out of range.
    #[error("invalid {method} parameter {field}: {message}")]
    Param {
        /// Method name.
        method: &'static str,
        /// Parameter field.
        field: &'static str,
        /// What was expected.
        message: String,
    },
}

/// Checks that spike times are finite and strictly increasing.
///
/// # Errors
/// [`BurstError::NonFinite`], [`BurstError::Unsorted`] or [`BurstError::Duplicate`].
pub fn check_train(times: &[f64]) -> Result<(), BurstError> {
    for (i, &t) in times.iter().enumerate() {
        if !t.is_finite() {
            return Err(BurstError::NonFinite { index: i, value: t });
        }
        if i > 0 {
            let p = times[i - 1];
            if t < p {
                return Err(BurstError::Unsorted { index: i, value: t, previous: p });
            }
            if t == p {
                return Err(BurstError::Duplicate { index: i, value: t });
            }
        }
    }
    Ok(())
}

/// Validates the train and the parameters, then runs the method.
///
/// # Errors
/// A bad train (see [`check_train`]) or bad parameters.
pub fn detect(times: &[f64], method: &Method) -> Result<Vec<Burst>, BurstError> {
    check_train(times)?;
    method.validate()?;
    Ok(match method {
        Method::Lhb(p) => interval_rule(times, p),
        Method::MaxInterval(p) => max_interval(times, p),
        Method::Poisson(p) => poisson_surprise(times, p),
        Method::Rank(p) => rank_surprise(times, p),
        Method::LogIsi(p) => logisi(times, p),
        Method::Cma(p) => cma(times, p),
    })
}

/// Inclusive (first, last) spike-index spans, the working form inside detectors.
pub(crate) type Span = (usize, usize);

pub(crate) fn spans_to_bursts(times: &[f64], spans: &[Span]) -> Vec<Burst> {
    spans.iter().map(|&(a, b)| Burst::from_indices(times, a, b, None)).collect()
}

/// Merges spans whose end-to-start gap is below `min_ibi_s`, working backwards
/// over gaps measured before any merging (so chains of 3+ merge into one).
pub(crate) fn merge_close(times: &[f64], spans: &mut Vec<Span>, min_ibi_s: f64) {
    if spans.len() < 2 {
        return;
    }
    let merge: Vec<bool> =
        (0..spans.len()).map(|k| k > 0 && times[spans[k].0] - times[spans[k - 1].1] < min_ibi_s).collect();
    for k in (1..spans.len()).rev() {
        if merge[k] {
            spans[k - 1].1 = spans[k].1;
        }
    }
    let mut k = 0;
    spans.retain(|_| {
        let keep = !merge[k];
        k += 1;
        keep
    });
}

/// Runs of consecutive ISIs passing `inside` (ISI k is t[k+1] − t[k]); a run
/// of r ISIs is a span of r + 1 spikes. Spans shorter than `min_spikes` are dropped.
pub(crate) fn runs(times: &[f64], min_spikes: usize, inside: impl Fn(f64) -> bool) -> Vec<Span> {
    let mut out = Vec::new();
    let mut beg: Option<usize> = None;
    for n in 1..times.len() {
        let isi = times[n] - times[n - 1];
        match (beg, inside(isi)) {
            (None, true) => beg = Some(n - 1),
            (Some(b), false) => {
                if n - b >= min_spikes {
                    out.push((b, n - 1));
                }
                beg = None;
            }
            _ => {}
        }
    }
    if let Some(b) = beg
        && times.len() - b >= min_spikes
    {
        out.push((b, times.len() - 1));
    }
    out
}

/// Extends each core burst with the first "burst-related spikes" run that
/// contains its first or last spike, then drops repeats (Cotterill's `add.brs`,
/// used by logISI and CMA).
pub(crate) fn add_related(cores: &[Span], related: &[Span]) -> Vec<Span> {
    let between = |x: usize, s: &Span| x >= s.0 && x <= s.1;
    let mut adj: Vec<Span> = Vec::with_capacity(cores.len());
    for c in cores {
        let mut out = *c;
        // runs ending before the core starts can neither hold it nor stop the scan
        let from = related.partition_point(|r| r.1 < c.0);
        for r in &related[from..] {
            if between(c.0, r) || between(c.1, r) {
                out = (c.0.min(r.0), c.1.max(r.1));
                break;
            }
            if r.1 > c.1 {
                break;
            }
        }
        adj.push(out);
    }
    // Equal starts: keep the later row; then equal ends: keep the earlier row.
    let n = adj.len();
    let mut keep = vec![true; n];
    for i in 0..n.saturating_sub(1) {
        if adj[i].0 == adj[i + 1].0 {
            keep[i] = false;
        }
    }
    let adj: Vec<Span> = adj.into_iter().zip(keep).filter(|(_, k)| *k).map(|(s, _)| s).collect();
    let n = adj.len();
    let mut keep = vec![true; n];
    for i in 0..n.saturating_sub(1) {
        if adj[i].1 == adj[i + 1].1 {
            keep[i + 1] = false;
        }
    }
    adj.into_iter().zip(keep).filter(|(_, k)| *k).map(|(s, _)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_checks() {
        assert!(check_train(&[]).is_ok());
        assert!(check_train(&[1.0]).is_ok());
        assert_eq!(check_train(&[1.0, 0.5]), Err(BurstError::Unsorted { index: 1, value: 0.5, previous: 1.0 }));
        assert_eq!(check_train(&[1.0, 1.0]), Err(BurstError::Duplicate { index: 1, value: 1.0 }));
        assert!(matches!(check_train(&[0.0, f64::NAN]), Err(BurstError::NonFinite { index: 1, .. })));
        let e = check_train(&[0.0, 2.0, 2.0]).unwrap_err().to_string();
        assert!(e.contains("spikes 1 and 2"), "{e}");
    }

    #[test]
    fn merge_chains_backwards() {
        let t = [0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 5.0, 5.1];
        let mut s = vec![(0, 1), (2, 3), (4, 5), (6, 7)];
        merge_close(&t, &mut s, 0.2);
        assert_eq!(s, vec![(0, 5), (6, 7)]);
    }

    #[test]
    fn runs_include_last_isi() {
        let t = [0.0, 1.0, 1.01, 1.02];
        assert_eq!(runs(&t, 3, |d| d <= 0.05), vec![(1, 3)]);
        assert_eq!(runs(&t, 4, |d| d <= 0.05), vec![]);
    }

    #[test]
    fn related_spikes_extend_cores() {
        // core 2..4 inside related 1..6; core 8..9 with no related run
        assert_eq!(add_related(&[(2, 4), (8, 9)], &[(1, 6)]), vec![(1, 6), (8, 9)]);
        // two cores inside one related run collapse to one
        assert_eq!(add_related(&[(2, 3), (5, 6)], &[(1, 7)]), vec![(1, 7)]);
    }
}
