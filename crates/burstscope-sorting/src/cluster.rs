//! Clustering one channel group's spikes: principal components of the
//! snippets' central window (all channels together), ISO-SPLIT, and a
//! recursive split of each cluster in its own principal components (the
//! MountainSort "branch" idea: a second neuron hiding in a cluster shows up
//! once the components are refitted to that cluster alone). A Gaussian
//! model of the final clusters assigns spikes that were not in the training
//! set.

use crate::SortError;
use crate::isosplit::{IsoSplitParams, isosplit};
use crate::linalg::{invert, sym_eigen};

/// Clustering parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterParams {
    /// Samples before the trough used for features (0.4 ms at 30 kHz = 12).
    pub window_before: usize,
    /// Samples from the trough on (0.9 ms at 30 kHz = 27).
    pub window_after: usize,
    /// Principal components of the window (all channels) clustered.
    pub n_components: usize,
    /// ISO-SPLIT settings.
    pub isosplit: IsoSplitParams,
    /// How many times a cluster is re-split in its own components.
    pub max_depth: usize,
    /// Rows used to fit each set of components (every k-th spike).
    pub max_fit_rows: usize,
    /// Normalise snippets before the components ([`Featurize::normalize`]).
    pub normalize: bool,
    /// Weight of the ln(norm) feature ([`Featurize::amplitude_weight`]).
    pub amplitude_weight: f64,
    /// Whiten the components ([`Featurize::whiten`]).
    pub whiten: bool,
    /// Waveform correlation from which two clusters are tested for a merge
    /// (1.0: no merge step).
    pub merge_min_corr: f64,
    /// Dip score a two-means split of a cluster must reach.
    pub split_threshold: f64,
}

impl Default for ClusterParams {
    fn default() -> Self {
        Self {
            window_before: 12,
            window_after: 27,
            n_components: 10,
            isosplit: IsoSplitParams::default(),
            max_depth: 3,
            max_fit_rows: 10_000,
            normalize: true,
            amplitude_weight: 1.0,
            whiten: true,
            merge_min_corr: 0.9,
            split_threshold: 4.0,
        }
    }
}

/// Snippets of one group: spike × sample × channel, µV.
#[derive(Debug, Clone, Copy)]
pub struct Snippets<'a> {
    /// Values.
    pub data: &'a [f32],
    /// Spikes.
    pub n_spikes: usize,
    /// Samples per snippet.
    pub n_samples: usize,
    /// Channels.
    pub n_channels: usize,
    /// Index of the trough sample in each snippet.
    pub trough: usize,
}

impl Snippets<'_> {
    /// Checks the shape.
    ///
    /// # Errors
    /// [`SortError::Shape`].
    pub fn check(&self) -> Result<(), SortError> {
        if self.data.len() != self.n_spikes * self.n_samples * self.n_channels || self.trough >= self.n_samples {
            return Err(SortError::Shape {
                got: self.data.len(),
                spikes: self.n_spikes,
                samples: self.n_samples,
                channels: self.n_channels,
            });
        }
        Ok(())
    }

    /// One spike's snippet.
    #[must_use]
    pub fn spike(&self, s: usize) -> &[f32] {
        let w = self.n_samples * self.n_channels;
        &self.data[s * w..(s + 1) * w]
    }
}

/// How snippets become feature vectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Featurize {
    /// First snippet sample of the window.
    pub start: usize,
    /// Window length (samples).
    pub len: usize,
    /// Position of the trough within the window.
    pub trough_offset: usize,
    /// Divide each windowed snippet by its norm before the components
    /// (shape and wire profile, not size: burst decrement and drift scale a
    /// neuron's spikes, and would otherwise dominate the variance).
    pub normalize: bool,
    /// With `normalize`, the weight of an extra feature ln(norm), which
    /// keeps size information at a strength chosen here.
    pub amplitude_weight: f64,
    /// Scale each component to unit variance (the over-segmentation then
    /// cuts along every direction alike, not only the largest ones).
    pub whiten: bool,
}

/// A projection onto principal components of a snippet window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowPca {
    /// Windowing and scaling.
    pub how: Featurize,
    /// Channels.
    pub n_channels: usize,
    /// Mean of the windowed snippets (len × channels, time-major).
    pub mean: Vec<f64>,
    /// Components as rows of `len × channels` values (already divided by
    /// √eigenvalue when whitening).
    pub components: Vec<Vec<f64>>,
}

impl WindowPca {
    /// The windowed (and, if set, normalised) snippet in `buf`; returns its norm.
    ///
    /// The window is taken at the snippet's sub-sample trough: the offset of
    /// a parabola through the trough and its neighbours on the channel with
    /// the deepest trough, the values interpolated (Catmull–Rom) at that
    /// offset. Without this, a neuron's spikes fall into separate clusters
    /// by how their trough fell between samples.
    fn window(how: &Featurize, nc: usize, snippet: &[f32], buf: &mut [f64]) -> f64 {
        let ns = snippet.len() / nc.max(1);
        let t0 = how.start + how.trough_offset;
        let at = |t: usize, c: usize| f64::from(snippet[t * nc + c]);
        let mut delta = 0.0f64;
        if t0 >= 1 && t0 + 1 < ns {
            let c = (0..nc).min_by(|&a, &b| at(t0, a).total_cmp(&at(t0, b))).unwrap_or(0);
            let (ym, y0, yp) = (at(t0 - 1, c), at(t0, c), at(t0 + 1, c));
            let den = ym - 2.0 * y0 + yp;
            if den.abs() > 0.0 {
                delta = (0.5 * (ym - yp) / den).clamp(-0.5, 0.5);
            }
        }
        let interpolate = how.start >= 2 && how.start + how.len + 2 <= ns && delta != 0.0;
        let mut sq = 0.0f64;
        for j in 0..how.len {
            let t = how.start + j;
            for c in 0..nc {
                let v = if interpolate {
                    // Catmull–Rom between t and t ± 1 at fraction |delta|.
                    let (p0, p1, p2, p3, f) = if delta > 0.0 {
                        (at(t - 1, c), at(t, c), at(t + 1, c), at(t + 2, c), delta)
                    } else {
                        (at(t - 2, c), at(t - 1, c), at(t, c), at(t + 1, c), 1.0 + delta)
                    };
                    let f2 = f * f;
                    let f3 = f2 * f;
                    0.5 * (2.0 * p1
                        + (p2 - p0) * f
                        + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * f2
                        + (3.0 * p1 - p0 - 3.0 * p2 + p3) * f3)
                } else {
                    at(t, c)
                };
                buf[j * nc + c] = v;
                sq += v * v;
            }
        }
        let norm = sq.sqrt();
        if how.normalize && norm > 0.0 {
            let inv = 1.0 / norm;
            buf.iter_mut().for_each(|b| *b *= inv);
        }
        norm
    }

    /// Fits `k` components to the spikes `rows` (every ⌈n / max_fit_rows⌉-th
    /// of them), exactly and deterministically.
    #[must_use]
    pub fn fit(s: &Snippets<'_>, rows: &[usize], how: Featurize, k: usize, max_fit_rows: usize) -> Self {
        let step = rows.len().div_ceil(max_fit_rows.max(1)).max(1);
        let fit_rows: Vec<usize> = rows.iter().step_by(step).copied().collect();
        let w = Windowed::new(s, how, &fit_rows);
        let all: Vec<usize> = (0..fit_rows.len()).collect();
        Self::from_scatter(how, s.n_channels, &Scatter::of(&w, &all), k)
    }

    /// Fits `k` components to the windowed spikes `rows` of `w` (every
    /// ⌈n / max_fit_rows⌉-th of them).
    fn fit_windowed(w: &Windowed, rows: &[usize], k: usize, max_fit_rows: usize) -> Self {
        let step = rows.len().div_ceil(max_fit_rows.max(1)).max(1);
        if step == 1 {
            return Self::from_scatter(w.how, w.n_channels, &Scatter::of(w, rows), k);
        }
        let fit_rows: Vec<usize> = rows.iter().step_by(step).copied().collect();
        Self::from_scatter(w.how, w.n_channels, &Scatter::of(w, &fit_rows), k)
    }

    /// The `k` leading components of a scatter matrix.
    fn from_scatter(how: Featurize, nc: usize, sc: &Scatter, k: usize) -> Self {
        let dim = sc.mean.len();
        let k = k.min(dim);
        let e = crate::linalg::top_eigen(&sc.scatter, dim, k);
        #[allow(clippy::cast_precision_loss)]
        let nf = sc.n.max(1) as f64;
        let components = (0..k)
            .map(|c| {
                let v = e.vector(c);
                let var = e.values[c] / (nf - 1.0).max(1.0);
                if how.whiten && var > 0.0 {
                    let inv = 1.0 / var.sqrt();
                    v.iter().map(|x| x * inv).collect()
                } else {
                    v.to_vec()
                }
            })
            .collect();
        Self { how, n_channels: nc, mean: sc.mean.clone(), components }
    }

    /// Feature dimension: the components, plus ln(norm) when weighted.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.components.len() + usize::from(self.how.normalize && self.how.amplitude_weight > 0.0)
    }

    /// Features of one snippet (samples × channels, the full snippet).
    pub fn project_into(&self, snippet: &[f32], out: &mut [f64]) {
        let mut x = vec![0.0f64; self.how.len * self.n_channels];
        let norm = Self::window(&self.how, self.n_channels, snippet, &mut x);
        for (o, comp) in out.iter_mut().zip(&self.components) {
            let mut acc = 0.0f64;
            for ((v, m), c) in x.iter().zip(&self.mean).zip(comp) {
                acc += (v - m) * c;
            }
            *o = acc;
        }
        if self.dim() > self.components.len() {
            out[self.components.len()] = self.how.amplitude_weight * norm.max(1e-12).ln();
        }
    }

    /// Features of the windowed spikes `rows` of `w`, row-major.
    fn project_windowed(&self, w: &Windowed, rows: &[usize]) -> Vec<f64> {
        let k = self.dim();
        let nk = self.components.len();
        let mut out = vec![0.0f64; rows.len() * k];
        // Components dotted with the mean, subtracted once per component.
        let offsets: Vec<f64> = self.components.iter().map(|c| crate::linalg::dot(c, &self.mean)).collect();
        let mut x = vec![0.0f64; w.dim];
        for (o, &r) in out.chunks_exact_mut(k).zip(rows) {
            for (xi, v) in x.iter_mut().zip(w.row(r)) {
                *xi = f64::from(*v);
            }
            for ((oi, comp), off) in o.iter_mut().zip(&self.components).zip(&offsets) {
                *oi = crate::linalg::dot(&x, comp) - off;
            }
            if k > nk {
                o[nk] = self.how.amplitude_weight * w.norms[r].max(1e-12).ln();
            }
        }
        out
    }

    /// Features of the spikes `rows`, row-major.
    #[must_use]
    pub fn project(&self, s: &Snippets<'_>, rows: &[usize]) -> Vec<f64> {
        let k = self.dim();
        let mut out = vec![0.0f64; rows.len() * k];
        for (i, &r) in rows.iter().enumerate() {
            self.project_into(s.spike(r), &mut out[i * k..(i + 1) * k]);
        }
        out
    }
}

/// The feature window ([`Featurize`]) of each of a group's snippets,
/// computed once and shared by every fit and projection of the clustering.
struct Windowed {
    how: Featurize,
    n_channels: usize,
    /// `len × channels`.
    dim: usize,
    /// Windowed (normalised) snippets, row-major.
    x: Vec<f32>,
    /// Norm of each windowed snippet before normalisation.
    norms: Vec<f64>,
}

impl Windowed {
    fn new(s: &Snippets<'_>, how: Featurize, rows: &[usize]) -> Self {
        let nc = s.n_channels;
        let dim = how.len * nc;
        let mut x = Vec::with_capacity(rows.len() * dim);
        let mut norms = Vec::with_capacity(rows.len());
        let mut buf = vec![0.0f64; dim];
        for &r in rows {
            norms.push(WindowPca::window(&how, nc, s.spike(r), &mut buf));
            #[allow(clippy::cast_possible_truncation)]
            x.extend(buf.iter().map(|&v| v as f32));
        }
        Self { how, n_channels: nc, dim, x, norms }
    }

    fn row(&self, r: usize) -> &[f32] {
        &self.x[r * self.dim..(r + 1) * self.dim]
    }
}

/// Mean and scatter matrix (the sum of outer products about the mean, both
/// triangles) of a set of windowed snippets.
#[derive(Clone)]
struct Scatter {
    n: usize,
    mean: Vec<f64>,
    scatter: Vec<f64>,
}

impl Scatter {
    /// Of the rows `rows` of `w`.
    fn of(w: &Windowed, rows: &[usize]) -> Self {
        let (mean, scatter) = crate::linalg::mean_and_scatter(rows.len(), w.dim, |i, out| {
            for (o, v) in out.iter_mut().zip(w.row(rows[i])) {
                *o = f64::from(*v);
            }
        });
        Self { n: rows.len(), mean, scatter }
    }

    /// The scatter of the union of two disjoint sets.
    fn union(a: &Self, b: &Self) -> Self {
        let n = a.n + b.n;
        #[allow(clippy::cast_precision_loss)]
        let (na, nb, nt) = (a.n as f64, b.n as f64, n.max(1) as f64);
        let mean: Vec<f64> = a.mean.iter().zip(&b.mean).map(|(x, y)| (na * x + nb * y) / nt).collect();
        let d: Vec<f64> = a.mean.iter().zip(&b.mean).map(|(x, y)| x - y).collect();
        let f = na * nb / nt;
        let dim = mean.len();
        let mut scatter = vec![0.0f64; dim * dim];
        for i in 0..dim {
            let row = &mut scatter[i * dim..(i + 1) * dim];
            for (j, r) in row.iter_mut().enumerate() {
                *r = a.scatter[i * dim + j] + b.scatter[i * dim + j] + f * d[i] * d[j];
            }
        }
        Self { n, mean, scatter }
    }
}

/// A Gaussian per cluster in the top-level components: assigns spikes that
/// were not clustered by the largest likelihood.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    /// The projection.
    pub pca: WindowPca,
    /// Per cluster: mean.
    pub means: Vec<Vec<f64>>,
    /// Per cluster: inverse covariance.
    pub precisions: Vec<Vec<f64>>,
    /// Per cluster: log determinant of the covariance minus 2 log prior.
    pub offsets: Vec<f64>,
}

impl Classifier {
    /// The most likely cluster of a snippet.
    #[must_use]
    pub fn classify(&self, snippet: &[f32]) -> usize {
        let k = self.pca.dim();
        let mut f = vec![0.0f64; k];
        self.pca.project_into(snippet, &mut f);
        let mut best = (f64::INFINITY, 0usize);
        let mut d = vec![0.0f64; k];
        for (c, ((mu, p), off)) in self.means.iter().zip(&self.precisions).zip(&self.offsets).enumerate() {
            for ((di, fi), mi) in d.iter_mut().zip(&f).zip(mu) {
                *di = fi - mi;
            }
            let mut q = 0.0;
            for i in 0..k {
                let row = &p[i * k..(i + 1) * k];
                q += d[i] * row.iter().zip(&d).map(|(a, b)| a * b).sum::<f64>();
            }
            let score = q + off;
            if score < best.0 {
                best = (score, c);
            }
        }
        best.1
    }
}

/// Clustering of one group's training spikes.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Cluster of each training spike, 0..K, numbered by first spike.
    pub labels: Vec<usize>,
    /// Number of clusters.
    pub n_clusters: usize,
    /// Assigns other spikes.
    pub classifier: Classifier,
}

/// Clusters all spikes of `s`.
///
/// # Errors
/// [`SortError::Shape`] for a malformed array, [`SortError::Param`] when the
/// window does not fit the snippet.
pub fn cluster_snippets(s: &Snippets<'_>, p: &ClusterParams) -> Result<Clustering, SortError> {
    s.check()?;
    if p.window_before > s.trough || s.trough + p.window_after > s.n_samples || p.window_before + p.window_after == 0 {
        return Err(SortError::Param {
            field: "window",
            message: format!(
                "{} samples before and {} after the trough do not fit a {}-sample snippet with the trough at {}",
                p.window_before, p.window_after, s.n_samples, s.trough
            ),
        });
    }
    if p.n_components == 0 {
        return Err(SortError::Param { field: "n_components", message: "expected at least 1".into() });
    }
    let how = Featurize {
        start: s.trough - p.window_before,
        len: p.window_before + p.window_after,
        trough_offset: p.window_before,
        normalize: p.normalize,
        amplitude_weight: p.amplitude_weight,
        whiten: p.whiten,
    };
    let all: Vec<usize> = (0..s.n_spikes).collect();
    let w = Windowed::new(s, how, &all);
    let top = WindowPca::fit_windowed(&w, &all, p.n_components, p.max_fit_rows);
    let mut labels = vec![0usize; s.n_spikes];
    let leaves = split_recursive(&w, all.clone(), p, 0, Some(&top));
    let next = leaves.len();
    for (c, leaf) in leaves.iter().enumerate() {
        for &r in leaf {
            labels[r] = c;
        }
    }
    if p.merge_min_corr < 1.0 {
        merge_unimodal(s, &w, p, &mut labels, next);
    }
    // Renumber by first spike.
    let mut map = vec![usize::MAX; next.max(1)];
    let mut k = 0;
    for l in &mut labels {
        if map[*l] == usize::MAX {
            map[*l] = k;
            k += 1;
        }
        *l = map[*l];
    }
    let classifier = classifier(&w, &top, &labels, k);
    Ok(Clustering { labels, n_clusters: k, classifier })
}

/// The leaves (sets of rows) of the recursive split of `rows`, in
/// depth-first order. Sub-clusters are split in parallel; the order of the
/// leaves, so the labels, never depends on the threads.
fn split_recursive(
    w: &Windowed,
    rows: Vec<usize>,
    p: &ClusterParams,
    depth: usize,
    pca: Option<&WindowPca>,
) -> Vec<Vec<usize>> {
    use rayon::prelude::*;
    if rows.len() < 2 * p.isosplit.min_cluster_size {
        return vec![rows];
    }
    let fitted;
    let pca = if let Some(p0) = pca {
        p0
    } else {
        fitted = WindowPca::fit_windowed(w, &rows, p.n_components, p.max_fit_rows);
        &fitted
    };
    let k = pca.dim();
    let x = pca.project_windowed(w, &rows);
    let l = isosplit(&x, rows.len(), k, &p.isosplit);
    let n_clusters = l.iter().max().map_or(0, |m| m + 1);
    if n_clusters <= 1 {
        // ISO-SPLIT saw one cluster; look for two neurons along the best
        // two-means direction before accepting it.
        return match (depth < p.max_depth).then(|| bisect(&x, rows.len(), k, &p.isosplit, p.split_threshold)).flatten()
        {
            Some(side) => {
                let half = |h: bool| -> Vec<usize> {
                    rows.iter().zip(&side).filter(|(_, s)| **s == h).map(|(r, _)| *r).collect()
                };
                let (mut a, b) = rayon::join(
                    || split_recursive(w, half(false), p, depth + 1, None),
                    || split_recursive(w, half(true), p, depth + 1, None),
                );
                a.extend(b);
                a
            }
            None => vec![rows],
        };
    }
    let subs: Vec<Vec<usize>> =
        (0..n_clusters).map(|c| rows.iter().zip(&l).filter(|(_, lab)| **lab == c).map(|(r, _)| *r).collect()).collect();
    if depth + 1 >= p.max_depth {
        return subs;
    }
    subs.into_par_iter().map(|sub| split_recursive(w, sub, p, depth + 1, None)).collect::<Vec<_>>().concat()
}

/// Merges pairs of clusters whose mean waveforms agree (correlation ≥
/// `merge_min_corr` at the best of ±4 samples of lag) and whose spikes,
/// projected on the pair's discriminant in the pair's own whitened
/// components, are unimodal (isocut): over-split clusters, and a neuron cut
/// along its slow amplitude drift, rejoin; two similar neurons that a
/// discriminant separates do not. Greedy, most similar pair first. The
/// pair's components come from the two clusters' scatter matrices (each
/// computed once, combined exactly), on all of their spikes.
fn merge_unimodal(s: &Snippets<'_>, win: &Windowed, p: &ClusterParams, labels: &mut [usize], k: usize) {
    let nc = s.n_channels;
    let w = s.n_samples * nc;
    use rayon::prelude::*;
    // Per pair (a, b, size of a, size of b): the merged scatter when the pair is unimodal.
    let mut outcomes: std::collections::BTreeMap<(usize, usize, usize, usize), Option<Scatter>> =
        std::collections::BTreeMap::new();
    let mut scatters: Vec<Option<Scatter>> = vec![None; k];
    loop {
        let mut sums = vec![vec![0.0f64; w]; k];
        let mut counts = vec![0usize; k];
        for (i, &l) in labels.iter().enumerate() {
            counts[l] += 1;
            for (a, v) in sums[l].iter_mut().zip(s.spike(i)) {
                *a += f64::from(*v);
            }
        }
        let alive: Vec<usize> = (0..k).filter(|&c| counts[c] > 0).collect();
        for c in &alive {
            let n = counts[*c] as f64;
            sums[*c].iter_mut().for_each(|v| *v /= n);
        }
        let mut cands: Vec<(f64, usize, usize)> = Vec::new();
        for (i, &a) in alive.iter().enumerate() {
            for &b in &alive[i + 1..] {
                if matches!(outcomes.get(&(a, b, counts[a], counts[b])), Some(None)) {
                    continue;
                }
                let c = crate::merge::shape_corr(&sums[a], &sums[b], s.n_samples, nc, 4);
                if c >= p.merge_min_corr {
                    cands.push((c, a, b));
                }
            }
        }
        cands.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        // Candidates are tested in order, the first that passes merged. The
        // outcome of a test depends only on the two clusters, so tests run
        // ahead in parallel (one per thread) and are remembered by the pair's
        // key: the same merges as one test at a time, whatever the threads.
        let mut merged = false;
        let ahead = rayon::current_num_threads().max(1);
        let mut i = 0;
        while i < cands.len() && !merged {
            let todo: Vec<(usize, usize)> = cands[i..]
                .iter()
                .map(|&(_, a, b)| (a, b))
                .filter(|&(a, b)| !outcomes.contains_key(&(a, b, counts[a], counts[b])))
                .take(ahead)
                .collect();
            let need: std::collections::BTreeSet<usize> =
                todo.iter().flat_map(|&(a, b)| [a, b]).filter(|&c| scatters[c].is_none()).collect();
            let fresh: Vec<(usize, Scatter)> = need
                .into_par_iter()
                .map(|c| {
                    let own: Vec<usize> = (0..labels.len()).filter(|&r| labels[r] == c).collect();
                    (c, Scatter::of(win, &own))
                })
                .collect();
            for (c, sc) in fresh {
                scatters[c] = Some(sc);
            }
            let lab: &[usize] = labels;
            let results: Vec<((usize, usize), Option<Scatter>)> = todo
                .par_iter()
                .map(|&(a, b)| {
                    let (Some(sa), Some(sb)) = (&scatters[a], &scatters[b]) else { return ((a, b), None) };
                    ((a, b), unimodal_pair(win, lab, a, b, sa, sb, p))
                })
                .collect();
            for ((a, b), r) in results {
                outcomes.insert((a, b, counts[a], counts[b]), r);
            }
            // Walk the candidates in order through the known outcomes.
            while i < cands.len() {
                let (_, a, b) = cands[i];
                let Some(r) = outcomes.get(&(a, b, counts[a], counts[b])) else { break };
                i += 1;
                if let Some(pair) = r.clone() {
                    for l in labels.iter_mut() {
                        if *l == b {
                            *l = a;
                        }
                    }
                    scatters[a] = Some(pair);
                    scatters[b] = None;
                    merged = true;
                    break;
                }
            }
        }
        if !merged {
            break;
        }
    }
}

/// Whether clusters `a` and `b` are one: their spikes projected on the
/// pair's discriminant in the pair's own whitened components are unimodal
/// (isocut dip below the ISO-SPLIT threshold). Returns the pair's scatter then.
fn unimodal_pair(
    win: &Windowed,
    labels: &[usize],
    a: usize,
    b: usize,
    sa: &Scatter,
    sb: &Scatter,
    p: &ClusterParams,
) -> Option<Scatter> {
    let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == a || labels[i] == b).collect();
    let pair = Scatter::union(sa, sb);
    let pca = WindowPca::from_scatter(win.how, win.n_channels, &pair, p.n_components);
    let d = pca.dim();
    let x = pca.project_windowed(win, &rows);
    let ia: Vec<usize> = (0..rows.len()).filter(|&i| labels[rows[i]] == a).collect();
    let ib: Vec<usize> = (0..rows.len()).filter(|&i| labels[rows[i]] == b).collect();
    let (m0, c0) = crate::isosplit::stats(&x, d, &ia);
    let (m1, c1) = crate::isosplit::stats(&x, d, &ib);
    let v = crate::isosplit::discriminant(&c0, &c1, &m0, &m1, d);
    let mut proj: Vec<f64> =
        (0..rows.len()).map(|i| x[i * d..(i + 1) * d].iter().zip(&v).map(|(q, r)| q * r).sum()).collect();
    (crate::isosplit::isocut(&mut proj).dip_score < p.isosplit.isocut_threshold).then_some(pair)
}

/// Two-means split of `n` points (best of several deterministic starts:
/// the sign of each of the first four coordinates about its median), kept
/// only when the points projected on the two halves' discriminant are not
/// unimodal (isocut) and both halves are big enough. Returns the side of
/// each point.
fn bisect(x: &[f64], n: usize, d: usize, p: &IsoSplitParams, threshold: f64) -> Option<Vec<bool>> {
    if n < 2 * p.min_cluster_size || d == 0 {
        return None;
    }
    let mut best: Option<(f64, Vec<bool>)> = None;
    for j in 0..d.min(4) {
        let mut col: Vec<f64> = (0..n).map(|i| x[i * d + j]).collect();
        col.sort_by(f64::total_cmp);
        let med = col[n / 2];
        let mut side: Vec<bool> = (0..n).map(|i| x[i * d + j] > med).collect();
        let mut sse = f64::INFINITY;
        for _ in 0..50 {
            let mut c = [vec![0.0f64; d], vec![0.0f64; d]];
            let mut cnt = [0usize; 2];
            for i in 0..n {
                let h = usize::from(side[i]);
                cnt[h] += 1;
                for (a, v) in c[h].iter_mut().zip(&x[i * d..(i + 1) * d]) {
                    *a += v;
                }
            }
            if cnt[0] == 0 || cnt[1] == 0 {
                break;
            }
            for h in 0..2 {
                c[h].iter_mut().for_each(|v| *v /= cnt[h] as f64);
            }
            let mut changed = false;
            sse = 0.0;
            for i in 0..n {
                let r = &x[i * d..(i + 1) * d];
                let d0: f64 = r.iter().zip(&c[0]).map(|(a, b)| (a - b) * (a - b)).sum();
                let d1: f64 = r.iter().zip(&c[1]).map(|(a, b)| (a - b) * (a - b)).sum();
                let h = d1 < d0;
                sse += d0.min(d1);
                if h != side[i] {
                    side[i] = h;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        if best.as_ref().is_none_or(|(b, _)| sse < *b) {
            best = Some((sse, side));
        }
    }
    let (_, side) = best?;
    let members: [Vec<usize>; 2] = [(0..n).filter(|&i| !side[i]).collect(), (0..n).filter(|&i| side[i]).collect()];
    if members.iter().any(|m| m.len() < p.min_cluster_size) {
        return None;
    }
    let (mu0, c0) = crate::isosplit::stats(x, d, &members[0]);
    let (mu1, c1) = crate::isosplit::stats(x, d, &members[1]);
    let v = crate::isosplit::discriminant(&c0, &c1, &mu0, &mu1, d);
    let proj: Vec<f64> = (0..n).map(|i| x[i * d..(i + 1) * d].iter().zip(&v).map(|(a, b)| a * b).sum()).collect();
    let mut sorted = proj.clone();
    let r = crate::isosplit::isocut(&mut sorted);
    if r.dip_score < threshold {
        return None;
    }
    let side: Vec<bool> = proj.iter().map(|&q| q >= r.cut_point).collect();
    let n1 = side.iter().filter(|&&s| s).count();
    (n1 >= p.min_cluster_size && n - n1 >= p.min_cluster_size).then_some(side)
}

/// Gaussian model per cluster in the top-level components.
#[must_use]
fn classifier(w: &Windowed, top: &WindowPca, labels: &[usize], k: usize) -> Classifier {
    let d = top.dim();
    let all: Vec<usize> = (0..labels.len()).collect();
    let x = top.project_windowed(w, &all);
    let mut means = vec![vec![0.0f64; d]; k];
    let mut counts = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        for (m, v) in means[l].iter_mut().zip(&x[i * d..(i + 1) * d]) {
            *m += v;
        }
    }
    for (m, &c) in means.iter_mut().zip(&counts) {
        m.iter_mut().for_each(|v| *v /= c.max(1) as f64);
    }
    let mut covs = vec![vec![0.0f64; d * d]; k];
    for (i, &l) in labels.iter().enumerate() {
        let row = &x[i * d..(i + 1) * d];
        let cv = &mut covs[l];
        for a in 0..d {
            let da = row[a] - means[l][a];
            for b in 0..d {
                cv[a * d + b] += da * (row[b] - means[l][b]);
            }
        }
    }
    let n_total = labels.len().max(1) as f64;
    let mut precisions = Vec::with_capacity(k);
    let mut offsets = Vec::with_capacity(k);
    for (cv, &c) in covs.iter_mut().zip(&counts) {
        cv.iter_mut().for_each(|v| *v /= c.max(2) as f64 - 1.0);
        let tr: f64 = (0..d).map(|i| cv[i * d + i]).sum::<f64>() / d as f64;
        for i in 0..d {
            cv[i * d + i] += tr.abs().max(1e-9) * 1e-3;
        }
        let e = sym_eigen(cv, d);
        let logdet: f64 = e.values.iter().map(|v| v.max(1e-300).ln()).sum();
        let prior = (c.max(1) as f64 / n_total).ln();
        precisions.push(invert(cv, d).unwrap_or_else(|| vec![0.0; d * d]));
        offsets.push(logdet - 2.0 * prior);
    }
    Classifier { pca: top.clone(), means, precisions, offsets }
}
