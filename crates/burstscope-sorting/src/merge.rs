//! Merging clusters that belong to one neuron, on all spikes of a group:
//!
//! * **burst merges** — the later spikes of a complex-spike burst are
//!   smaller and wider than the first, so clustering puts them apart. A
//!   cluster B is the burst tail of A when B's spike chains start 2–15 ms
//!   after an A spike far more often than chance and than the reverse, its
//!   amplitude profile across the wires is A's (same position, scaled down),
//!   its spikes following A are smaller than the A spike they follow, and
//!   the merged train has no new refractory violations;
//! * **template merges** — over-split clusters (slow amplitude drift, an
//!   elongated cluster cut in two) whose mean waveforms agree in shape and
//!   size, again only when merging adds no refractory violations.
//!
//! Merges are greedy, best evidence first, recomputed after each merge, so
//! a tail split into several clusters joins its neuron step by step.

/// Merge parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MergeParams {
    /// Make burst merges.
    pub burst: bool,
    /// Make template merges (off by default: on all spikes, without a
    /// unimodality test, two similar neurons can pass; the clustering's own
    /// unimodality-gated merge handles over-splits).
    pub template: bool,
    /// Refractory period: merged spikes closer than this are violations (ms).
    pub refractory_ms: f64,
    /// Shortest intra-burst interval looked at (ms).
    pub burst_min_ms: f64,
    /// Longest intra-burst interval (ms).
    pub burst_max_ms: f64,
    /// Minimum cosine between two clusters' peak-amplitude profiles across
    /// the wires for a burst merge.
    pub burst_profile_cos: f64,
    /// Minimum waveform correlation (best lag) for a burst merge.
    pub burst_shape_corr: f64,
    /// Minimum fraction of the tail's chain starts that follow the parent.
    pub burst_min_follow: f64,
    /// The follow fraction must exceed the reverse one by this factor.
    pub burst_asymmetry: f64,
    /// Minimum waveform correlation for a template merge.
    pub template_corr: f64,
    /// Largest relative size difference for a template merge (0.25: the
    /// smaller template's norm at least 75 % of the larger one's).
    pub template_size_tolerance: f64,
    /// Lags tried when comparing waveforms (± samples).
    pub max_lag: usize,
    /// Merged refractory violations allowed beyond each cluster's own, as a
    /// fraction of the chance expectation for independent trains.
    pub max_cross_violation_ratio: f64,
}

impl Default for MergeParams {
    fn default() -> Self {
        Self {
            burst: true,
            template: false,
            refractory_ms: 1.5,
            burst_min_ms: 2.0,
            burst_max_ms: 15.0,
            burst_profile_cos: 0.97,
            burst_shape_corr: 0.8,
            burst_min_follow: 0.4,
            burst_asymmetry: 3.0,
            template_corr: 0.97,
            template_size_tolerance: 0.2,
            max_lag: 4,
            max_cross_violation_ratio: 0.2,
        }
    }
}

/// Per-cluster waveform sums (to combine templates exactly when merging).
#[derive(Debug, Clone, PartialEq)]
pub struct Templates {
    /// Samples per snippet.
    pub n_samples: usize,
    /// Channels.
    pub n_channels: usize,
    /// Trough sample in the snippet.
    pub trough: usize,
    /// Per cluster: Σ snippets (samples × channels, time-major).
    pub sums: Vec<Vec<f64>>,
    /// Per cluster: Σ snippets², for the SD.
    pub sums_sq: Vec<Vec<f64>>,
    /// Per cluster: spikes.
    pub counts: Vec<usize>,
}

impl Templates {
    /// Empty sums for `k` clusters.
    #[must_use]
    pub fn new(k: usize, n_samples: usize, n_channels: usize, trough: usize) -> Self {
        let w = n_samples * n_channels;
        Self {
            n_samples,
            n_channels,
            trough,
            sums: vec![vec![0.0; w]; k],
            sums_sq: vec![vec![0.0; w]; k],
            counts: vec![0; k],
        }
    }

    /// Adds one snippet to cluster `c`.
    pub fn add(&mut self, c: usize, snippet: &[f32]) {
        for ((s, q), v) in self.sums[c].iter_mut().zip(self.sums_sq[c].iter_mut()).zip(snippet) {
            let v = f64::from(*v);
            *s += v;
            *q += v * v;
        }
        self.counts[c] += 1;
    }

    /// Mean waveform of cluster `c`.
    #[must_use]
    pub fn mean(&self, c: usize) -> Vec<f64> {
        let n = self.counts[c].max(1) as f64;
        self.sums[c].iter().map(|s| s / n).collect()
    }

    /// Standard deviation (n − 1) of cluster `c` per sample and channel.
    #[must_use]
    pub fn sd(&self, c: usize) -> Vec<f64> {
        let n = self.counts[c] as f64;
        self.sums[c]
            .iter()
            .zip(&self.sums_sq[c])
            .map(|(s, q)| if n > 1.0 { ((q - s * s / n) / (n - 1.0)).max(0.0).sqrt() } else { 0.0 })
            .collect()
    }

    fn absorb(&mut self, into: usize, from: usize) {
        let (s, q) = (std::mem::take(&mut self.sums[from]), std::mem::take(&mut self.sums_sq[from]));
        let w = self.n_samples * self.n_channels;
        for (a, b) in self.sums[into].iter_mut().zip(&s) {
            *a += b;
        }
        for (a, b) in self.sums_sq[into].iter_mut().zip(&q) {
            *a += b;
        }
        self.sums[from] = vec![0.0; w];
        self.sums_sq[from] = vec![0.0; w];
        self.counts[into] += self.counts[from];
        self.counts[from] = 0;
    }
}

/// The spikes of one group, in time order.
#[derive(Debug, Clone, Copy)]
pub struct GroupSpikes<'a> {
    /// Trough samples, non-decreasing.
    pub samples: &'a [i64],
    /// Per spike and channel: the filtered value at the trough (µV).
    pub peaks_uv: &'a [f32],
    /// Channels.
    pub n_channels: usize,
    /// Sampling rate (Hz).
    pub rate_hz: f64,
}

/// Why two clusters were merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeKind {
    /// The absorbed cluster held the later spikes of the kept one's bursts.
    Burst,
    /// Same waveform (over-split or drift).
    Template,
}

/// One merge and its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// Cluster kept (the parent for a burst merge).
    pub kept: usize,
    /// Cluster absorbed.
    pub absorbed: usize,
    /// Why.
    pub kind: MergeKind,
    /// Waveform correlation at the best lag.
    pub shape_corr: f64,
    /// Cosine of the wires' amplitude profiles.
    pub profile_cos: f64,
    /// Burst merges: fraction of the absorbed cluster's chain starts that
    /// follow a kept spike within the burst window.
    pub follow_fraction: f64,
    /// Refractory violations the merge adds (pairs across the two clusters).
    pub cross_violations: usize,
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Best correlation of two templates over lags.
pub(crate) fn shape_corr(a: &[f64], b: &[f64], ns: usize, nc: usize, max_lag: usize) -> f64 {
    let mut best = f64::NEG_INFINITY;
    #[allow(clippy::cast_possible_wrap)]
    for lag in -(max_lag as isize)..=(max_lag as isize) {
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        for t in 0..ns {
            let u = t as isize + lag;
            if u < 0 || u >= ns as isize {
                continue;
            }
            #[allow(clippy::cast_sign_loss)]
            let u = u as usize;
            for c in 0..nc {
                let x = a[t * nc + c];
                let y = b[u * nc + c];
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }
        }
        if aa > 0.0 && bb > 0.0 {
            best = best.max(ab / (aa * bb).sqrt());
        }
    }
    best
}

/// Pairs across `a` and `b` closer than `r` samples.
fn cross_violations(samples: &[i64], labels: &[usize], a: usize, b: usize, r: i64) -> usize {
    let mut n = 0;
    let mut last_a: Option<i64> = None;
    let mut last_b: Option<i64> = None;
    for (&s, &l) in samples.iter().zip(labels) {
        if l == a {
            if last_b.is_some_and(|t| s - t < r) {
                n += 1;
            }
            last_a = Some(s);
        } else if l == b {
            if last_a.is_some_and(|t| s - t < r) {
                n += 1;
            }
            last_b = Some(s);
        }
    }
    n
}

/// For the burst test: (fraction of B's chain starts that follow an A spike
/// within the burst window, the same for A's spikes following B, the
/// fraction of A→B follows where B is smaller, number of B chain starts).
fn follow_stats(
    s: &GroupSpikes<'_>,
    labels: &[usize],
    a: usize,
    b: usize,
    main: usize,
    win: (i64, i64),
) -> (f64, f64, f64, usize) {
    let nc = s.n_channels;
    let mut last_a: Option<usize> = None;
    let mut last_b: Option<usize> = None;
    let (mut starts, mut starts_follow, mut smaller) = (0usize, 0usize, 0usize);
    let (mut a_n, mut a_follow_b) = (0usize, 0usize);
    for (i, (&t, &l)) in s.samples.iter().zip(labels).enumerate() {
        let within = |j: Option<usize>| j.is_some_and(|j| (win.0..=win.1).contains(&(t - s.samples[j])));
        if l == b {
            let chain = last_b.is_some_and(|j| t - s.samples[j] <= win.1);
            if !chain {
                starts += 1;
                if within(last_a) && last_a > last_b {
                    starts_follow += 1;
                    let pa = s.peaks_uv[last_a.unwrap_or(0) * nc + main].abs();
                    if s.peaks_uv[i * nc + main].abs() < pa {
                        smaller += 1;
                    }
                }
            }
            last_b = Some(i);
        } else if l == a {
            a_n += 1;
            if within(last_b) {
                a_follow_b += 1;
            }
            last_a = Some(i);
        }
    }
    let f = |x: usize, n: usize| if n > 0 { x as f64 / n as f64 } else { 0.0 };
    (f(starts_follow, starts), f(a_follow_b, a_n), f(smaller, starts_follow), starts)
}

/// Merges clusters of one group in place (`labels` take the kept
/// cluster's number) and returns the merges in the order made.
///
/// # Panics
/// When `labels` and the spikes differ in length.
#[must_use]
pub fn merge_clusters(s: &GroupSpikes<'_>, labels: &mut [usize], t: &mut Templates, p: &MergeParams) -> Vec<Merge> {
    assert_eq!(labels.len(), s.samples.len(), "merge_clusters: one label per spike");
    let (ns, nc) = (t.n_samples, t.n_channels);
    let k = t.counts.len();
    let ms = |ms: f64| -> i64 {
        #[allow(clippy::cast_possible_truncation)]
        let v = (ms * 1e-3 * s.rate_hz).round() as i64;
        v
    };
    let refr = ms(p.refractory_ms).max(1);
    let win = (ms(p.burst_min_ms), ms(p.burst_max_ms));
    let duration_samples = match (s.samples.first(), s.samples.last()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64,
        _ => 1.0,
    };
    let mut merges = Vec::new();
    loop {
        let alive: Vec<usize> = (0..k).filter(|&c| t.counts[c] > 0).collect();
        let means: Vec<Vec<f64>> = (0..k).map(|c| if t.counts[c] > 0 { t.mean(c) } else { Vec::new() }).collect();
        // Amplitude profile: the template at the trough on each wire.
        let profile: Vec<Vec<f64>> = means
            .iter()
            .map(|m| if m.is_empty() { Vec::new() } else { (0..nc).map(|c| m[t.trough * nc + c]).collect() })
            .collect();
        let mut best: Option<(f64, Merge)> = None;
        for (i, &a) in alive.iter().enumerate() {
            for &b in &alive[i + 1..] {
                let corr = shape_corr(&means[a], &means[b], ns, nc, p.max_lag);
                let (pa, pb) = (&profile[a], &profile[b]);
                let cos = pa.iter().zip(pb).map(|(x, y)| x * y).sum::<f64>() / (norm(pa) * norm(pb)).max(1e-300);
                let cross = cross_violations(s.samples, labels, a, b, refr);
                let expected = t.counts[a] as f64 * t.counts[b] as f64 * 2.0 * refr as f64 / duration_samples;
                let refractory_ok = (cross as f64)
                    <= p.max_cross_violation_ratio * expected + 0.001 * (t.counts[a].min(t.counts[b]) as f64) + 1.0;
                if !refractory_ok {
                    continue;
                }
                // Template merge: same shape and size.
                let (na, nb) = (norm(&means[a]), norm(&means[b]));
                let size = na.min(nb) / na.max(nb).max(1e-300);
                if p.template && corr >= p.template_corr && size >= 1.0 - p.template_size_tolerance {
                    let score = corr;
                    let (kept, absorbed) = if t.counts[a] >= t.counts[b] { (a, b) } else { (b, a) };
                    let m = Merge {
                        kept,
                        absorbed,
                        kind: MergeKind::Template,
                        shape_corr: corr,
                        profile_cos: cos,
                        follow_fraction: 0.0,
                        cross_violations: cross,
                    };
                    if best.as_ref().is_none_or(|(s0, _)| score > *s0) {
                        best = Some((score, m));
                    }
                    continue;
                }
                // Burst merge: the smaller (on the main wire) is the candidate tail.
                if !p.burst || corr < p.burst_shape_corr || cos < p.burst_profile_cos {
                    continue;
                }
                let main = (0..nc)
                    .max_by(|&x, &y| pa[x].abs().max(pb[x].abs()).total_cmp(&pa[y].abs().max(pb[y].abs())))
                    .unwrap_or(0);
                let (parent, tail) = if pa[main].abs() >= pb[main].abs() { (a, b) } else { (b, a) };
                let (follow, reverse, smaller, starts) = follow_stats(s, labels, parent, tail, main, win);
                let chance = t.counts[parent] as f64 * (win.1 - win.0) as f64 / duration_samples;
                if starts >= 5
                    && follow >= p.burst_min_follow
                    && follow >= p.burst_asymmetry * reverse
                    && follow >= 4.0 * chance
                    && smaller >= 0.6
                {
                    let score = 1.0 + follow;
                    let m = Merge {
                        kept: parent,
                        absorbed: tail,
                        kind: MergeKind::Burst,
                        shape_corr: corr,
                        profile_cos: cos,
                        follow_fraction: follow,
                        cross_violations: cross,
                    };
                    if best.as_ref().is_none_or(|(s0, _)| score > *s0) {
                        best = Some((score, m));
                    }
                }
            }
        }
        let Some((_, m)) = best else { break };
        for l in labels.iter_mut() {
            if *l == m.absorbed {
                *l = m.kept;
            }
        }
        t.absorb(m.kept, m.absorbed);
        merges.push(m);
    }
    merges
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Templates: a trough of `amp` at sample 5 with the given wire profile.
    fn add_spikes(t: &mut Templates, c: usize, n: usize, amp: f64, profile: [f64; 4], width: f64) {
        let mut w = vec![0.0f32; 20 * 4];
        for s in 0..20 {
            let x = (s as f64 - 5.0) / width;
            let v = -amp * (-x * x).exp() + 0.3 * amp * (-((s as f64 - 9.0) / (2.0 * width)).powi(2)).exp();
            for ch in 0..4 {
                w[s * 4 + ch] = (v * profile[ch]) as f32;
            }
        }
        for _ in 0..n {
            t.add(c, &w);
        }
    }

    /// Spikes of three clusters: 0 = a burster's first spikes, 1 = its
    /// later, smaller spikes 4 ms after, 2 = an independent neuron with the
    /// same profile and size as cluster 1, firing on its own.
    fn scene() -> (Vec<i64>, Vec<usize>, Vec<f32>) {
        let mut ev: Vec<(i64, usize, f32)> = Vec::new();
        for b in 0..300i64 {
            let t0 = b * 6_000 + 100; // a burst every 200 ms
            ev.push((t0, 0, -100.0));
            ev.push((t0 + 120, 1, -80.0)); // 4 ms later, smaller
            ev.push((t0 + 240, 1, -65.0));
            ev.push((t0 + 3_000 + (b % 7) * 97, 2, -80.0)); // the other neuron, unrelated in time
        }
        ev.sort_by_key(|e| e.0);
        let samples = ev.iter().map(|e| e.0).collect();
        let labels = ev.iter().map(|e| e.1).collect();
        let peaks = ev.iter().flat_map(|e| [e.2, e.2 * 0.6, e.2 * 0.5, e.2 * 0.3]).collect();
        (samples, labels, peaks)
    }

    #[test]
    fn a_burst_tail_joins_its_neuron_and_a_lookalike_does_not() {
        let (samples, mut labels, peaks) = scene();
        let profile = [1.0, 0.6, 0.5, 0.3];
        let mut t = Templates::new(3, 20, 4, 5);
        add_spikes(&mut t, 0, 300, 100.0, profile, 1.0);
        add_spikes(&mut t, 1, 600, 72.0, profile, 1.05);
        add_spikes(&mut t, 2, 300, 72.0, profile, 1.05);
        let s = GroupSpikes { samples: &samples, peaks_uv: &peaks, n_channels: 4, rate_hz: 30_000.0 };
        let m = merge_clusters(&s, &mut labels, &mut t, &MergeParams::default());
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!((m[0].kind, m[0].kept, m[0].absorbed), (MergeKind::Burst, 0, 1));
        assert!(m[0].follow_fraction > 0.9 && m[0].cross_violations == 0);
        assert_eq!(labels.iter().filter(|&&l| l == 0).count(), 900);
        assert_eq!(labels.iter().filter(|&&l| l == 2).count(), 300);
        // Switched off, nothing merges.
        let (samples, mut labels, peaks) = scene();
        let s = GroupSpikes { samples: &samples, peaks_uv: &peaks, n_channels: 4, rate_hz: 30_000.0 };
        let mut t2 = Templates::new(3, 20, 4, 5);
        add_spikes(&mut t2, 0, 300, 100.0, profile, 1.0);
        add_spikes(&mut t2, 1, 600, 72.0, profile, 1.05);
        add_spikes(&mut t2, 2, 300, 72.0, profile, 1.05);
        assert!(
            merge_clusters(&s, &mut labels, &mut t2, &MergeParams { burst: false, ..MergeParams::default() })
                .is_empty()
        );
    }

    #[test]
    fn a_merge_that_would_violate_the_refractory_period_is_refused() {
        // The "tail" fires 0.5 ms after the parent: the same neuron cannot.
        let mut ev: Vec<(i64, usize)> = Vec::new();
        for b in 0..300i64 {
            ev.push((b * 6_000, 0));
            ev.push((b * 6_000 + 15, 1));
        }
        let samples: Vec<i64> = ev.iter().map(|e| e.0).collect();
        let mut labels: Vec<usize> = ev.iter().map(|e| e.1).collect();
        let peaks: Vec<f32> = ev
            .iter()
            .flat_map(|e| if e.1 == 0 { [-100.0f32, -60.0, -50.0, -30.0] } else { [-80.0, -48.0, -40.0, -24.0] })
            .collect();
        let profile = [1.0, 0.6, 0.5, 0.3];
        let mut t = Templates::new(2, 20, 4, 5);
        add_spikes(&mut t, 0, 300, 100.0, profile, 1.0);
        add_spikes(&mut t, 1, 300, 80.0, profile, 1.0);
        let s = GroupSpikes { samples: &samples, peaks_uv: &peaks, n_channels: 4, rate_hz: 30_000.0 };
        assert!(
            merge_clusters(&s, &mut labels, &mut t, &MergeParams { template: true, ..MergeParams::default() })
                .is_empty()
        );
    }
}
