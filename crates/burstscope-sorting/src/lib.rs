//! Spike sorting on plain slices (no I/O, no tables): features, clustering,
//! merges and quality metrics, computed deterministically, so that the same
//! snippets give the same units bit for bit whatever the thread count.
//!
//! * [`sym_eigen`]: the exact eigendecomposition of a symmetric matrix by
//!   cyclic Jacobi rotations (no randomized solver, no BLAS threading), with
//!   eigenvalues in descending order and a fixed sign per eigenvector (its
//!   largest-magnitude entry positive); the leading eigenpairs of the large
//!   covariances come from Householder tridiagonalisation, bisection and
//!   inverse iteration (same conventions, a fraction of the time).
//! * [`channel_pca`] / [`channel_features`]: per channel, the principal components of the
//!   snippets on that channel (`n_components` scores per channel, as klusta and
//!   MountainSort use for tetrodes), the peak amplitude and the energy.
//! * [`train_metrics`]: a unit's spike-train quality metrics (firing rate,
//!   presence ratio, ISI violations, refractory-period contamination) exactly
//!   as SpikeInterface 0.105 defines them.
//!
//! ```
//! use burstscope_sorting::{FeatureParams, channel_features};
//! // 3 spikes × 4 samples × 1 channel, spikes of growing size.
//! let w: Vec<f32> = vec![0.0, -1.0, -0.5, 0.0, 0.0, -2.0, -1.0, 0.0, 0.0, -3.0, -1.5, 0.0];
//! let f = channel_features(&w, 3, 4, 1, &FeatureParams { n_components: 1 }).unwrap();
//! assert_eq!(f.peak_uv, vec![-1.0, -2.0, -3.0]);
//! // One component carries all the variance; scores are ordered like the spikes.
//! assert!(f.explained[0][0] > 0.999);
//! assert!(f.scores[0] < f.scores[1] && f.scores[1] < f.scores[2] || f.scores[0] > f.scores[1] && f.scores[1] > f.scores[2]);
//! ```

mod amplitude;
mod cluster;
mod cluster_metrics;
mod features;
mod isosplit;
mod linalg;
mod merge;
mod metrics;
mod waveform;

pub use amplitude::{AmplitudeCutoffParams, amplitude_cutoff, median};
pub use cluster::{Classifier, ClusterParams, Clustering, Featurize, Snippets, WindowPca, cluster_snippets};
pub use cluster_metrics::{
    d_prime, isolation_distance, nearest_neighbor_rates, nearest_neighbor_rates_from, nearest_neighbors,
    simplified_silhouette,
};
pub use features::{ChannelFeatures, ChannelPca, FeatureParams, channel_features, channel_pca};
pub use isosplit::{IsoSplitParams, Isocut, isocut, isosplit};
pub use linalg::{SymEigen, sym_eigen};
pub use merge::{GroupSpikes, Merge, MergeKind, MergeParams, Templates, merge_clusters};
pub use metrics::{TrainMetricParams, TrainMetrics, train_metrics};
pub use waveform::{WaveformFeatures, waveform_features};

/// Errors of the sorting algorithms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SortError {
    /// The snippet array does not have the stated shape.
    #[error("waveforms: {got} values for {spikes} spikes × {samples} samples × {channels} channels")]
    Shape {
        /// Values given.
        got: usize,
        /// Spikes.
        spikes: usize,
        /// Samples per snippet.
        samples: usize,
        /// Channels.
        channels: usize,
    },
    /// A parameter is out of range.
    #[error("invalid sorting parameter {field}: {message}")]
    Param {
        /// Field name.
        field: &'static str,
        /// What was expected.
        message: String,
    },
}
