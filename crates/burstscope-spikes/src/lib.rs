//! Spike detection for tetrodes and other channel groups, on any
//! [`BlockSource`](burstscope_core::BlockSource) (no HDF5 or dataframes here).
//!
//! 1. **Band-pass**: Butterworth (default 300–6000 Hz, order 5) as second-order
//!    sections, zero-phase, streamed over a fixed grid of blocks with margins
//!    of real data (odd extension at the recording's ends, like
//!    `scipy.signal.sosfiltfilt`).
//! 2. **Common reference** per group (median or average), optional.
//! 3. **Noise**: σ = median(|x − median(x)|)/0.6745 per channel over 20
//!    seeded chunks of 500 ms, averaged (SpikeInterface's estimate made
//!    deterministic). Channels with σ = 0 are flat or dead and skipped.
//! 4. **Peaks**: a 16-row block reduction finds chunks with any sample beyond
//!    threshold (k·σ, default 5, sign neg/pos/both); those are scanned for
//!    SpikeInterface's peak test (`x ≤ −thr`, `x < x[t−1]`, `x ≤ x[t+1]`).
//! 5. **One event per spike per group**: the channel with the largest
//!    |x|/threshold within ±`exclusion_ms` (0.5) wins (locally exclusive, ties
//!    to the earlier); then a dead time (`dead_time_ms`, 1) keeps the larger of
//!    two events closer than that.
//! 6. **Outputs**: per event the sample, peak channel, signed amplitude, the
//!    filtered value on every channel of its group, and a waveform snippet
//!    (1 ms before, 2 ms after).
//!
//! Blocks are independent and run in parallel; the grid is fixed by the
//! parameters (`block_samples`), so results never depend on the thread count.
//!
//! ```
//! use burstscope_core::ArraySource;
//! use burstscope_spikes::{ChannelGroup, DetectParams, Plan, run};
//! // 1 s of 4-channel noise with one large spike on channel 2 at 0.5 s.
//! let fs = 30_000.0;
//! let mut data = vec![0f32; 30_000 * 4];
//! let mut x = 1u32;
//! for v in data.iter_mut() {
//!     x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
//!     *v = ((x >> 16) % 1000) as f32 / 100.0 - 5.0;
//! }
//! for (k, w) in [-20.0f32, -60.0, -100.0, -60.0, -20.0].iter().enumerate() {
//!     data[(15_000 + k) * 4 + 2] += w;
//! }
//! let src = ArraySource { data, n_channels: 4, rate_hz: fs };
//! let groups = [ChannelGroup { name: "tetrode0".into(), channels: vec![0, 1, 2, 3] }];
//! let plan = Plan::new(&DetectParams::default(), fs, 30_000, 4, &groups, 1.0).unwrap();
//! let noise = plan.noise(&src).unwrap();
//! let mut events = Vec::new();
//! run(&plan, &src, &noise, &|_| {}, &mut |b| { events.extend(b.events); Ok(()) }).unwrap();
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].channel, 2);
//! assert!((events[0].sample as i64 - 15_002).abs() <= 1);
//! ```

mod compare;
mod kernel;
mod params;
mod pipeline;

pub use compare::{Matching, match_events};
pub use params::{DetectParams, ParamIssue, Sign};
pub use pipeline::{BlockOutput, ChannelGroup, Event, MAX_STRIPE_CHANNELS, Noise, Plan, RunSummary, run};

/// Errors of detection.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// A parameter is out of range.
    #[error("invalid detection parameter: {0}")]
    Param(String),
    /// The recording is too short for the filter.
    #[error("recording of {samples} samples is too short for the band-pass filter (needs at least {needed})")]
    TooShort {
        /// Samples in the recording.
        samples: usize,
        /// Samples needed.
        needed: usize,
    },
    /// The source failed to read.
    #[error("{0}")]
    Source(String),
    /// The consumer of results failed.
    #[error("{0}")]
    Sink(String),
}
