//! Matching detected events to ground truth, as SpikeInterface's comparison
//! does: an event matches a true spike within ±`tol` samples, each used once
//! (a sweep in time order over both sorted lists).

/// Counts of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matching {
    /// True spikes matched (true positives).
    pub matched: usize,
    /// True spikes.
    pub n_truth: usize,
    /// Detected events.
    pub n_detected: usize,
}

impl Matching {
    /// matched / true spikes (1 when there are none).
    #[must_use]
    pub fn recall(&self) -> f64 {
        if self.n_truth == 0 { 1.0 } else { self.matched as f64 / self.n_truth as f64 }
    }

    /// matched / detected events (1 when there are none).
    #[must_use]
    pub fn precision(&self) -> f64 {
        if self.n_detected == 0 { 1.0 } else { self.matched as f64 / self.n_detected as f64 }
    }
}

/// Matches sorted `truth` and sorted `detected` sample indices within `tol`.
///
/// ```
/// use burstscope_spikes::match_events;
/// let m = match_events(&[100, 200, 300], &[98, 205, 260, 301], 12);
/// assert_eq!((m.matched, m.n_truth, m.n_detected), (3, 3, 4));
/// assert_eq!(m.precision(), 0.75);
/// ```
#[must_use]
pub fn match_events(truth: &[i64], detected: &[i64], tol: i64) -> Matching {
    let (mut i, mut j, mut matched) = (0, 0, 0);
    while i < truth.len() && j < detected.len() {
        let d = detected[j] - truth[i];
        if d.abs() <= tol {
            // Prefer the closer of this and the next true spike for event j.
            if i + 1 < truth.len() && (detected[j] - truth[i + 1]).abs() < d.abs() {
                i += 1;
                continue;
            }
            matched += 1;
            i += 1;
            j += 1;
        } else if d < 0 {
            j += 1;
        } else {
            i += 1;
        }
    }
    Matching { matched, n_truth: truth.len(), n_detected: detected.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_matches_once_and_the_closer_spike_wins() {
        // Two true spikes 10 samples apart, one event between them, nearer the second.
        let m = match_events(&[100, 110], &[108], 12);
        assert_eq!(m.matched, 1);
        assert_eq!(match_events(&[], &[1, 2], 5).recall(), 1.0);
        assert_eq!(match_events(&[5], &[], 5).recall(), 0.0);
        assert_eq!(match_events(&[0, 100], &[13, 87], 12).matched, 0);
    }
}
