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

/// A projection onto principal components of a snippet window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowPca {
    /// First snippet sample of the window.
    pub start: usize,
    /// Window length (samples).
    pub len: usize,
    /// Channels.
    pub n_channels: usize,
    /// Mean of the windowed snippets (len × channels, time-major).
    pub mean: Vec<f64>,
    /// Components as rows of `len × channels` values.
    pub components: Vec<Vec<f64>>,
}

impl WindowPca {
    /// Fits `k` components to the window of the spikes `rows` (every
    /// ⌈n / max_fit_rows⌉-th of them), exactly and deterministically.
    #[must_use]
    pub fn fit(s: &Snippets<'_>, rows: &[usize], start: usize, len: usize, k: usize, max_fit_rows: usize) -> Self {
        let nc = s.n_channels;
        let dim = len * nc;
        let step = rows.len().div_ceil(max_fit_rows.max(1)).max(1);
        let fit_rows: Vec<usize> = rows.iter().step_by(step).copied().collect();
        let mut mean = vec![0.0f64; dim];
        for &r in &fit_rows {
            let sp = &s.spike(r)[start * nc..(start + len) * nc];
            for (m, v) in mean.iter_mut().zip(sp) {
                *m += f64::from(*v);
            }
        }
        let nf = fit_rows.len().max(1) as f64;
        mean.iter_mut().for_each(|m| *m /= nf);
        let mut cov = vec![0.0f64; dim * dim];
        let mut x = vec![0.0f64; dim];
        for &r in &fit_rows {
            let sp = &s.spike(r)[start * nc..(start + len) * nc];
            for ((xi, v), m) in x.iter_mut().zip(sp).zip(&mean) {
                *xi = f64::from(*v) - m;
            }
            for i in 0..dim {
                let xi = x[i];
                let row = &mut cov[i * dim + i..(i + 1) * dim];
                for (c, xj) in row.iter_mut().zip(&x[i..]) {
                    *c += xi * xj;
                }
            }
        }
        let e = sym_eigen(&cov, dim);
        let k = k.min(dim);
        Self { start, len, n_channels: nc, mean, components: (0..k).map(|c| e.vector(c).to_vec()).collect() }
    }

    /// Projects one snippet (samples × channels, the full snippet).
    pub fn project_into(&self, snippet: &[f32], out: &mut [f64]) {
        let nc = self.n_channels;
        let w = &snippet[self.start * nc..(self.start + self.len) * nc];
        for (o, comp) in out.iter_mut().zip(&self.components) {
            let mut acc = 0.0f64;
            for ((v, m), c) in w.iter().zip(&self.mean).zip(comp) {
                acc += (f64::from(*v) - m) * c;
            }
            *o = acc;
        }
    }

    /// Projects the spikes `rows` into a row-major matrix.
    #[must_use]
    pub fn project(&self, s: &Snippets<'_>, rows: &[usize]) -> Vec<f64> {
        let k = self.components.len();
        let mut out = vec![0.0f64; rows.len() * k];
        for (i, &r) in rows.iter().enumerate() {
            self.project_into(s.spike(r), &mut out[i * k..(i + 1) * k]);
        }
        out
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
        let k = self.pca.components.len();
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
    let start = s.trough - p.window_before;
    let len = p.window_before + p.window_after;
    let all: Vec<usize> = (0..s.n_spikes).collect();
    let top = WindowPca::fit(s, &all, start, len, p.n_components, p.max_fit_rows);
    let mut labels = vec![0usize; s.n_spikes];
    let mut next = 0usize;
    split_recursive(s, &all, start, len, p, 0, &mut labels, &mut next, Some(&top));
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
    let classifier = classifier(s, &top, &labels, k);
    Ok(Clustering { labels, n_clusters: k, classifier })
}

#[allow(clippy::too_many_arguments)]
fn split_recursive(
    s: &Snippets<'_>,
    rows: &[usize],
    start: usize,
    len: usize,
    p: &ClusterParams,
    depth: usize,
    labels: &mut [usize],
    next: &mut usize,
    pca: Option<&WindowPca>,
) {
    let leaf = |labels: &mut [usize], next: &mut usize| {
        for &r in rows {
            labels[r] = *next;
        }
        *next += 1;
    };
    if rows.len() < 2 * p.isosplit.min_cluster_size {
        leaf(labels, next);
        return;
    }
    let fitted;
    let pca = if let Some(p0) = pca {
        p0
    } else {
        fitted = WindowPca::fit(s, rows, start, len, p.n_components, p.max_fit_rows);
        &fitted
    };
    let k = pca.components.len();
    let x = pca.project(s, rows);
    let l = isosplit(&x, rows.len(), k, &p.isosplit);
    let n_clusters = l.iter().max().map_or(0, |m| m + 1);
    if n_clusters <= 1 {
        leaf(labels, next);
        return;
    }
    for c in 0..n_clusters {
        let sub: Vec<usize> = rows.iter().zip(&l).filter(|(_, lab)| **lab == c).map(|(r, _)| *r).collect();
        if depth + 1 >= p.max_depth {
            for &r in &sub {
                labels[r] = *next;
            }
            *next += 1;
        } else {
            split_recursive(s, &sub, start, len, p, depth + 1, labels, next, None);
        }
    }
}

/// Gaussian model per cluster in the top-level components.
#[must_use]
pub fn classifier(s: &Snippets<'_>, top: &WindowPca, labels: &[usize], k: usize) -> Classifier {
    let d = top.components.len();
    let all: Vec<usize> = (0..s.n_spikes).collect();
    let x = top.project(s, &all);
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
