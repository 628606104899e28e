//! Interval rules: the LHb rule with preceding silence, and MaxInterval.

use crate::{Burst, IntervalParams, MaxIntervalParams, Span, merge_close, spans_to_bursts};

fn passes(isi: f64, max: f64, inclusive: bool) -> bool {
    if inclusive { isi <= max } else { isi < max }
}

fn filter(times: &[f64], spans: &mut Vec<Span>, min_spikes: usize, min_duration_s: f64) {
    spans.retain(|&(a, b)| b - a + 1 >= min_spikes && times[b] - times[a] >= min_duration_s);
}

/// The interval rule with a required preceding silence (`lhb`). See [`IntervalParams`].
///
/// Expects a train that passed [`crate::check_train`] and valid parameters.
///
/// ```
/// use burstscope_bursts::{IntervalParams, interval_rule};
/// let p = IntervalParams::default(); // 20 ms / 20 ms / 100 ms / 2 spikes
/// // spike 2 follows spike 1 by only 50 ms: no silence, so no burst opens there
/// let t = [0.0, 0.5, 0.55, 0.56, 1.0, 1.015];
/// let b = interval_rule(&t, &p);
/// assert_eq!(b.len(), 1); // 1.0 → 1.015, after 440 ms of silence
/// assert_eq!(b[0].first, 4);
/// ```
#[must_use]
pub fn interval_rule(times: &[f64], p: &IntervalParams) -> Vec<Burst> {
    let n = times.len();
    let mut spans: Vec<Span> = Vec::new();
    let mut i = 0;
    while i + 1 < n {
        let silent = if i == 0 { p.first_spike_opens } else { times[i] - times[i - 1] >= p.min_preceding_silence_s };
        if !(silent && passes(times[i + 1] - times[i], p.start_isi_max_s, p.start_inclusive)) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end + 1 < n && passes(times[end + 1] - times[end], p.end_isi_max_s, p.end_inclusive) {
            end += 1;
        }
        spans.push((i, end));
        i = end + 1;
    }
    if p.min_ibi_s > 0.0 {
        merge_close(times, &mut spans, p.min_ibi_s);
    }
    filter(times, &mut spans, p.min_spikes, p.min_duration_s);
    spans_to_bursts(times, &spans)
}

/// MaxInterval. See [`MaxIntervalParams`].
///
/// Expects a train that passed [`crate::check_train`] and valid parameters.
///
/// ```
/// use burstscope_bursts::{MaxIntervalParams, max_interval};
/// let t = [0.0, 0.1, 0.2, 0.45, 2.0, 2.05, 2.1, 5.0];
/// let b = max_interval(&t, &MaxIntervalParams::default());
/// assert_eq!(b.iter().map(|b| (b.first, b.n_spikes)).collect::<Vec<_>>(), [(0, 4), (4, 3)]);
/// ```
#[must_use]
pub fn max_interval(times: &[f64], p: &MaxIntervalParams) -> Vec<Burst> {
    let n = times.len();
    let mut spans: Vec<Span> = Vec::new();
    let mut beg = 0;
    let mut in_burst = false;
    for k in 1..n {
        let isi = times[k] - times[k - 1];
        if in_burst {
            if isi > p.max_end_isi_s {
                spans.push((beg, k - 1));
                in_burst = false;
            }
        } else if passes(isi, p.max_begin_isi_s, p.begin_inclusive) {
            beg = k - 1;
            in_burst = true;
        }
    }
    if in_burst {
        spans.push((beg, n - 1));
    }
    merge_close(times, &mut spans, p.min_ibi_s);
    filter(times, &mut spans, p.min_spikes, p.min_duration_s);
    spans_to_bursts(times, &spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(b: &[Burst]) -> Vec<(usize, usize)> {
        b.iter().map(|b| (b.first, b.n_spikes)).collect()
    }

    #[test]
    fn lhb_edges() {
        let p = IntervalParams::default();
        assert!(interval_rule(&[], &p).is_empty());
        assert!(interval_rule(&[1.0], &p).is_empty());
        // all spikes in one burst
        let t: Vec<f64> = (0..10).map(|i| 1.0 + 0.005 * f64::from(i)).collect();
        assert_eq!(spans(&interval_rule(&t, &p)), [(0, 10)]);
        // the first spike may not open a burst when asked
        let q = IntervalParams { first_spike_opens: false, ..p.clone() };
        assert_eq!(spans(&interval_rule(&t, &q)), []);
    }

    #[test]
    fn lhb_threshold_ties() {
        // ISIs and silence built from exactly representable binary fractions.
        let a = 1.0 / 64.0; // 15.625 ms
        let t = [0.0, 0.5, 0.5 + a, 1.0, 1.0 + a + a];
        let p = IntervalParams {
            start_isi_max_s: a,
            end_isi_max_s: a,
            min_preceding_silence_s: 0.5,
            first_spike_opens: false,
            ..IntervalParams::default()
        };
        // silence before spike 1 is exactly 0.5 (inclusive), ISI exactly a (inclusive)
        assert_eq!(spans(&interval_rule(&t, &p)), [(1, 2)]);
        let strict = IntervalParams { start_inclusive: false, ..p.clone() };
        assert_eq!(spans(&interval_rule(&t, &strict)), []);
        let quieter = IntervalParams { min_preceding_silence_s: 0.5 + a, ..p };
        assert_eq!(spans(&interval_rule(&t, &quieter)), []);
    }

    #[test]
    fn lhb_extends_with_end_isi_and_filters() {
        let t = [0.0, 1.0, 1.01, 1.04, 1.07, 2.0, 2.01];
        let p = IntervalParams { end_isi_max_s: 0.05, min_spikes: 3, ..IntervalParams::default() };
        assert_eq!(spans(&interval_rule(&t, &p)), [(1, 4)]);
        let p = IntervalParams { min_duration_s: 0.1, ..IntervalParams::default() };
        assert_eq!(spans(&interval_rule(&t, &p)), []);
    }

    #[test]
    fn maxinterval_edges() {
        let p = MaxIntervalParams::default();
        assert!(max_interval(&[], &p).is_empty());
        assert!(max_interval(&[3.0], &p).is_empty());
        // open at the end of the train: ends at the last spike
        let t = [0.0, 0.1, 0.2, 0.3];
        assert_eq!(spans(&max_interval(&t, &p)), [(0, 4)]);
        // begin ISI tie: strict by default, inclusive on request (exact binary values)
        let q =
            MaxIntervalParams { max_begin_isi_s: 0.125, max_end_isi_s: 0.25, min_ibi_s: 0.0, min_duration_s: 0.0, ..p };
        let t = [0.0, 0.125, 0.25, 0.375];
        assert_eq!(spans(&max_interval(&t, &q)), []);
        let qi = MaxIntervalParams { begin_inclusive: true, ..q.clone() };
        assert_eq!(spans(&max_interval(&t, &qi)), [(0, 4)]);
        // end ISI tie continues the burst
        let t = [0.0, 0.0625, 0.125, 0.375, 1.0];
        assert_eq!(spans(&max_interval(&t, &q)), [(0, 4)]);
    }

    #[test]
    fn maxinterval_merges_then_filters() {
        // three short bursts 0.15 s apart merge into one; a pair far away is too small
        let t = [0.0, 0.05, 0.2, 0.25, 0.4, 0.45, 10.0, 10.05];
        let p = MaxIntervalParams { max_end_isi_s: 0.1, ..MaxIntervalParams::default() };
        assert_eq!(spans(&max_interval(&t, &p)), [(0, 6)]);
    }
}
