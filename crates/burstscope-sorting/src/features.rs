//! Per-channel waveform features for clustering: principal-component scores
//! of each channel's snippets, peak amplitude and energy.

use crate::SortError;
use crate::linalg::top_eigen;

/// Feature parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureParams {
    /// Principal components kept per channel (3 in klusta and MountainSort).
    pub n_components: usize,
}

impl Default for FeatureParams {
    fn default() -> Self {
        Self { n_components: 3 }
    }
}

/// Features of every spike of one channel group.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelFeatures {
    /// Spikes.
    pub n_spikes: usize,
    /// Channels.
    pub n_channels: usize,
    /// Components per channel.
    pub n_components: usize,
    /// Scores, spike-major: `scores[(spike * n_channels + channel) * n_components + k]`.
    pub scores: Vec<f32>,
    /// Per channel: the mean snippet (µV) subtracted before projecting.
    pub means: Vec<Vec<f64>>,
    /// Per channel: the components (unit vectors over samples), largest variance first.
    pub components: Vec<Vec<Vec<f64>>>,
    /// Per channel: the fraction of variance each kept component explains.
    pub explained: Vec<Vec<f64>>,
    /// Per spike and channel: the snippet's most negative value (µV), spike-major.
    pub peak_uv: Vec<f32>,
    /// Per spike and channel: the snippet's energy, √(mean of squares) (µV), spike-major.
    pub energy_uv: Vec<f32>,
}

/// Per-channel principal components of a group's snippets.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelPca {
    /// Per channel: the mean snippet (µV).
    pub means: Vec<Vec<f64>>,
    /// Per channel: the components (unit vectors over samples), largest variance first.
    pub components: Vec<Vec<Vec<f64>>>,
    /// Per channel: the variance of the scores on each component (its eigenvalue, µV²).
    pub variances: Vec<Vec<f64>>,
    /// Per channel: the fraction of variance each kept component explains.
    pub explained: Vec<Vec<f64>>,
}

/// The principal components of each channel's snippets (the part of
/// [`channel_features`] that does not project every spike). Same shapes and
/// errors.
///
/// # Errors
/// As [`channel_features`].
pub fn channel_pca(
    waveforms_uv: &[f32],
    n_spikes: usize,
    n_samples: usize,
    n_channels: usize,
    p: &FeatureParams,
) -> Result<ChannelPca, SortError> {
    if waveforms_uv.len() != n_spikes * n_samples * n_channels {
        return Err(SortError::Shape {
            got: waveforms_uv.len(),
            spikes: n_spikes,
            samples: n_samples,
            channels: n_channels,
        });
    }
    if p.n_components == 0 || p.n_components > n_samples {
        return Err(SortError::Param {
            field: "n_components",
            message: format!("expected 1..={n_samples} (the samples per snippet), got {}", p.n_components),
        });
    }
    let nc = p.n_components;
    let mut out =
        ChannelPca { means: Vec::new(), components: Vec::new(), variances: Vec::new(), explained: Vec::new() };
    #[allow(clippy::cast_precision_loss)]
    let denom = if n_spikes > 1 { (n_spikes - 1) as f64 } else { 1.0 };
    for c in 0..n_channels {
        let (mean, mut cov) = crate::linalg::mean_and_scatter(n_spikes, n_samples, |s, x| {
            let w = &waveforms_uv[s * n_samples * n_channels..(s + 1) * n_samples * n_channels];
            for (t, xt) in x.iter_mut().enumerate() {
                *xt = f64::from(w[t * n_channels + c]);
            }
        });
        cov.iter_mut().for_each(|v| *v /= denom);
        let e = top_eigen(&cov, n_samples, nc);
        let values = &e.values;
        // The total variance: the trace, the sum of all eigenvalues.
        let total: f64 = (0..n_samples).map(|t| cov[t * n_samples + t]).sum();
        out.explained.push((0..nc).map(|k| if total > 0.0 { values[k].max(0.0) / total } else { 0.0 }).collect());
        out.variances.push(values[..nc].iter().map(|v| v.max(0.0)).collect());
        out.components.push((0..nc).map(|k| e.vector(k).to_vec()).collect());
        out.means.push(mean);
    }
    Ok(out)
}

/// Features of `n_spikes` snippets stored spike × sample × channel (as
/// `detect` writes them to `waveforms.h5`, read back in µV). The covariance of each
/// channel's snippets is accumulated in f64 in spike order and decomposed
/// exactly (Householder tridiagonalisation, bisection and inverse iteration,
/// equal to LAPACK's `eigh` to rounding), so the result never depends on
/// threads.
///
/// # Errors
/// [`SortError::Shape`] when the array does not match the shape;
/// [`SortError::Param`] when `n_components` is 0 or exceeds the samples.
pub fn channel_features(
    waveforms_uv: &[f32],
    n_spikes: usize,
    n_samples: usize,
    n_channels: usize,
    p: &FeatureParams,
) -> Result<ChannelFeatures, SortError> {
    let at = |s: usize, t: usize, c: usize| f64::from(waveforms_uv[(s * n_samples + t) * n_channels + c]);
    let pca = channel_pca(waveforms_uv, n_spikes, n_samples, n_channels, p)?;
    let nc = p.n_components;
    let mut scores = vec![0.0f32; n_spikes * n_channels * nc];
    let mut x = vec![0.0f64; n_samples];
    for c in 0..n_channels {
        let mean = &pca.means[c];
        for s in 0..n_spikes {
            for (t, xt) in x.iter_mut().enumerate() {
                *xt = at(s, t, c) - mean[t];
            }
            for (k, comp) in pca.components[c].iter().enumerate() {
                #[allow(clippy::cast_possible_truncation)]
                {
                    scores[(s * n_channels + c) * nc + k] = crate::linalg::dot(&x, comp) as f32;
                }
            }
        }
    }
    let ChannelPca { means, components, explained, .. } = pca;
    let mut peak_uv = vec![0.0f32; n_spikes * n_channels];
    let mut energy_uv = vec![0.0f32; n_spikes * n_channels];
    for s in 0..n_spikes {
        for c in 0..n_channels {
            let (mut lo, mut sq) = (f64::INFINITY, 0.0);
            for t in 0..n_samples {
                let v = at(s, t, c);
                lo = lo.min(v);
                sq += v * v;
            }
            #[allow(clippy::cast_possible_truncation)]
            {
                peak_uv[s * n_channels + c] = lo as f32;
                energy_uv[s * n_channels + c] = (sq / n_samples.max(1) as f64).sqrt() as f32;
            }
        }
    }
    Ok(ChannelFeatures {
        n_spikes,
        n_channels,
        n_components: nc,
        scores,
        means,
        components,
        explained,
        peak_uv,
        energy_uv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_parameter_errors() {
        assert!(matches!(
            channel_features(&[0.0; 7], 2, 2, 2, &FeatureParams::default()),
            Err(SortError::Shape { got: 7, .. })
        ));
        assert!(matches!(
            channel_features(&[0.0; 8], 2, 2, 2, &FeatureParams { n_components: 3 }),
            Err(SortError::Param { field: "n_components", .. })
        ));
        // No spikes: empty features, not a panic.
        let f = channel_features(&[], 0, 30, 4, &FeatureParams::default()).unwrap();
        assert!(f.scores.is_empty() && f.peak_uv.is_empty());
    }
}
