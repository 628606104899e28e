//! Per-channel waveform features for clustering: principal-component scores
//! of each channel's snippets, peak amplitude and energy.

use crate::SortError;
use crate::linalg::{SymEigen, sym_eigen};

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

/// Features of `n_spikes` snippets stored spike × sample × channel (as
/// `detect` writes them to `waveforms.h5`, in µV). The covariance of each
/// channel's snippets is accumulated in f64 in spike order and decomposed
/// exactly ([`sym_eigen`]), so the result never depends on threads.
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
    let at = |s: usize, t: usize, c: usize| f64::from(waveforms_uv[(s * n_samples + t) * n_channels + c]);
    let nc = p.n_components;
    let mut scores = vec![0.0f32; n_spikes * n_channels * nc];
    let mut means = Vec::with_capacity(n_channels);
    let mut components = Vec::with_capacity(n_channels);
    let mut explained = Vec::with_capacity(n_channels);
    let mut x = vec![0.0f64; n_samples];
    for c in 0..n_channels {
        let mut mean = vec![0.0f64; n_samples];
        for s in 0..n_spikes {
            for t in 0..n_samples {
                mean[t] += at(s, t, c);
            }
        }
        let inv = if n_spikes > 0 { 1.0 / n_spikes as f64 } else { 0.0 };
        mean.iter_mut().for_each(|m| *m *= inv);
        let mut cov = vec![0.0f64; n_samples * n_samples];
        for s in 0..n_spikes {
            for t in 0..n_samples {
                x[t] = at(s, t, c) - mean[t];
            }
            for i in 0..n_samples {
                let xi = x[i];
                let row = &mut cov[i * n_samples..(i + 1) * n_samples];
                for (j, r) in row.iter_mut().enumerate().skip(i) {
                    *r += xi * x[j];
                }
            }
        }
        let denom = if n_spikes > 1 { (n_spikes - 1) as f64 } else { 1.0 };
        cov.iter_mut().for_each(|v| *v /= denom);
        let e: SymEigen = sym_eigen(&cov, n_samples);
        let values = &e.values;
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let comps: Vec<Vec<f64>> = (0..nc).map(|k| e.vector(k).to_vec()).collect();
        explained.push((0..nc).map(|k| if total > 0.0 { values[k].max(0.0) / total } else { 0.0 }).collect());
        for s in 0..n_spikes {
            for (k, comp) in comps.iter().enumerate() {
                let v: f64 = (0..n_samples).map(|t| (at(s, t, c) - mean[t]) * comp[t]).sum();
                #[allow(clippy::cast_possible_truncation)]
                {
                    scores[(s * n_channels + c) * nc + k] = v as f32;
                }
            }
        }
        means.push(mean);
        components.push(comps);
    }
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
