//! Synthetic in vivo tetrode sessions: LHb-like bursters and tonic units whose
//! bursting drops after a ketamine injection, rendered into a wide-band
//! signal with noise, common-mode noise, LFP and multi-channel spikes.

use crate::SynthError;
use crate::rng::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Samples per render block. The noise of each block comes from its own
/// random stream, so the signal is the same whatever the number of threads.
pub const RENDER_BLOCK: usize = 32_768;

/// Parameters of a synthetic tetrode session (all plain, serialisable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TetrodeParams {
    /// Number of tetrodes (4 channels each).
    pub n_tetrodes: usize,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Session length, s.
    pub duration_s: f64,
    /// Time of the ketamine injection, s (`None`: half-way).
    pub injection_s: Option<f64>,
    /// Units per tetrode.
    pub units_per_tetrode: usize,
    /// Fraction of units that are LHb-like bursters (the rest fire tonically).
    pub burster_fraction: f64,
    /// Bursts per second of a burster before the injection.
    pub burst_rate_hz: f64,
    /// Single (non-burst) spikes per second of a burster.
    pub single_rate_hz: f64,
    /// Burst rate after the injection as a fraction of baseline (the ketamine effect).
    pub ketamine_burst_factor: f64,
    /// Single-spike rate of bursters after the injection as a fraction of baseline.
    pub ketamine_single_factor: f64,
    /// Seconds over which the drug effect ramps in after the injection.
    pub ketamine_ramp_s: f64,
    /// Tonic units' firing rate range, Hz.
    pub tonic_rate_hz: (f64, f64),
    /// Spike trough amplitude range on the unit's best channel, µV.
    pub spike_amplitude_uv: (f64, f64),
    /// Per-channel white noise, µV RMS.
    pub noise_uv: f64,
    /// Common-mode noise shared by all channels, µV RMS (plus 50 Hz hum of the same size).
    pub common_mode_uv: f64,
    /// LFP amplitude (delta + theta + gamma components), µV.
    pub lfp_uv: f64,
    /// Theta power after the injection as a fraction of baseline amplitude.
    pub ketamine_theta_factor: f64,
    /// Volts per int16 step in the written file.
    pub conversion_v: f64,
    /// Brain location of every electrode.
    pub location: String,
    /// Random seed.
    pub seed: u64,
}

impl Default for TetrodeParams {
    fn default() -> Self {
        Self {
            n_tetrodes: 8,
            rate_hz: 30_000.0,
            duration_s: 300.0,
            injection_s: None,
            units_per_tetrode: 3,
            burster_fraction: 0.5,
            burst_rate_hz: 0.5,
            single_rate_hz: 2.0,
            ketamine_burst_factor: 0.15,
            ketamine_single_factor: 1.0,
            ketamine_ramp_s: 20.0,
            tonic_rate_hz: (4.0, 12.0),
            spike_amplitude_uv: (90.0, 250.0),
            noise_uv: 10.0,
            common_mode_uv: 4.0,
            lfp_uv: 80.0,
            ketamine_theta_factor: 0.5,
            conversion_v: 0.195e-6,
            location: "LHb".into(),
            seed: 1,
        }
    }
}

impl TetrodeParams {
    /// The injection time actually used.
    #[must_use]
    pub fn injection(&self) -> f64 {
        self.injection_s.unwrap_or(self.duration_s / 2.0)
    }

    /// Number of samples.
    #[must_use]
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn n_samples(&self) -> usize {
        (self.duration_s * self.rate_hz).round() as usize
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`SynthError::Param`] naming the field and the accepted range.
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |name: &str, expected: &str| Err(SynthError::Param(format!("{name}: expected {expected}")));
        if self.n_tetrodes == 0 || self.n_tetrodes > 256 {
            return bad("n_tetrodes", "1..=256");
        }
        if !(self.rate_hz >= 1000.0 && self.rate_hz <= 200_000.0) {
            return bad("rate_hz", "1000..=200000 Hz");
        }
        if !(self.duration_s > 0.0 && self.duration_s.is_finite()) {
            return bad("duration_s", "a positive number of seconds");
        }
        let inj = self.injection();
        if !(0.0..=self.duration_s).contains(&inj) {
            return bad("injection_s", "a time within the session");
        }
        if self.units_per_tetrode > 16 {
            return bad("units_per_tetrode", "0..=16");
        }
        if !(0.0..=1.0).contains(&self.burster_fraction) {
            return bad("burster_fraction", "0..=1");
        }
        for (n, v) in [
            ("burst_rate_hz", self.burst_rate_hz),
            ("single_rate_hz", self.single_rate_hz),
            ("ketamine_burst_factor", self.ketamine_burst_factor),
            ("ketamine_single_factor", self.ketamine_single_factor),
            ("ketamine_ramp_s", self.ketamine_ramp_s),
            ("noise_uv", self.noise_uv),
            ("common_mode_uv", self.common_mode_uv),
            ("lfp_uv", self.lfp_uv),
            ("ketamine_theta_factor", self.ketamine_theta_factor),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(n, "a finite value >= 0");
            }
        }
        if self.burst_rate_hz > 5.0 || self.single_rate_hz > 20.0 {
            return bad("burst_rate_hz/single_rate_hz", "at most 5 bursts/s and 20 single spikes/s");
        }
        let (a, b) = self.tonic_rate_hz;
        if !(a > 0.0 && b >= a && b <= 30.0) {
            return bad("tonic_rate_hz", "0 < low <= high <= 30 Hz");
        }
        let (a, b) = self.spike_amplitude_uv;
        if !(a > 0.0 && b >= a && b < 3000.0) {
            return bad("spike_amplitude_uv", "0 < low <= high < 3000 µV");
        }
        if !(self.conversion_v > 0.0 && self.conversion_v < 1e-3) {
            return bad("conversion_v", "volts per bit in (0, 1e-3)");
        }
        Ok(())
    }
}

/// Firing pattern of a synthetic unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// LHb-like: single spikes and bursts after a silence.
    Burst,
    /// Regular single spikes.
    Tonic,
}

impl UnitKind {
    /// `burst` or `tonic` (the fixtures' column values).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            UnitKind::Burst => "burst",
            UnitKind::Tonic => "tonic",
        }
    }
}

/// A generated burst (ground truth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthBurst {
    /// Time of the first spike, s.
    pub start_s: f64,
    /// Time of the last spike, s.
    pub end_s: f64,
    /// Number of spikes.
    pub n_spikes: usize,
    /// Index of the first spike within the unit's train.
    pub first_spike: usize,
}

/// A synthetic unit with its ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthUnit {
    /// Unit id (0-based across the session).
    pub id: i64,
    /// Tetrode index.
    pub tetrode: usize,
    /// Firing pattern.
    pub kind: UnitKind,
    /// Spike times, s (sorted).
    pub spike_times_s: Vec<f64>,
    /// Per-spike amplitude scale (smaller late in a burst).
    pub spike_scale: Vec<f64>,
    /// Bursts, in order.
    pub bursts: Vec<TruthBurst>,
    /// Trough of the unfiltered template on each of the 4 channels, µV (negative).
    pub peak_uv: Vec<f64>,
    /// Template width factor (1 = 0.12 ms trough σ).
    pub width: f64,
}

/// A synthetic session: parameters, units and truth; renders its signal on demand.
#[derive(Debug, Clone)]
pub struct TetrodeSession {
    /// Parameters it was made from.
    pub params: TetrodeParams,
    /// Units with ground truth.
    pub units: Vec<SynthUnit>,
    lfp: Vec<LfpComponent>,
}

#[derive(Debug, Clone)]
struct LfpComponent {
    tetrode: usize,
    freq_hz: f64,
    amp_uv: f64,
    phase: f64,
    theta: bool,
}

/// Normalised spike waveform at `dt_ms` from the trough: −1 at the trough,
/// a positive after-potential about 0.45 ms later.
fn waveform(dt_ms: f64, width: f64) -> f64 {
    let s1 = 0.12 * width;
    let s2 = 0.28 * width;
    let trough = -(-0.5 * (dt_ms / s1).powi(2)).exp();
    let bump = 0.32 * (-0.5 * ((dt_ms - 0.45 * width) / s2).powi(2)).exp();
    trough + bump
}

const WAVE_BEFORE_MS: f64 = 0.8;
const WAVE_AFTER_MS: f64 = 2.0;

impl TetrodeSession {
    /// Draws units and spike trains from `params`.
    ///
    /// ```
    /// use burstscope_synth::{TetrodeParams, TetrodeSession};
    /// let p = TetrodeParams { n_tetrodes: 1, duration_s: 20.0, ..TetrodeParams::default() };
    /// let s = TetrodeSession::new(p).unwrap();
    /// assert_eq!(s.units.len(), 3);
    /// assert!(s.units.iter().all(|u| u.spike_times_s.windows(2).all(|w| w[0] < w[1])));
    /// ```
    ///
    /// # Errors
    /// Invalid parameters.
    pub fn new(params: TetrodeParams) -> Result<Self, SynthError> {
        params.validate()?;
        let mut units = Vec::new();
        let n_units = params.n_tetrodes * params.units_per_tetrode;
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n_bursters = (params.burster_fraction * n_units as f64).round() as usize;
        for id in 0..n_units {
            let tetrode = id / params.units_per_tetrode.max(1);
            let mut rng = Rng::new(params.seed, 1_000_000 + id as u64);
            // Interleave bursters and tonic units across tetrodes.
            let kind = if (id * n_bursters) / n_units.max(1) != ((id + 1) * n_bursters) / n_units.max(1) {
                UnitKind::Burst
            } else {
                UnitKind::Tonic
            };
            let amp = rng.range(params.spike_amplitude_uv.0, params.spike_amplitude_uv.1);
            let best = rng.weighted(0, &[1.0; 4]);
            let peak_uv: Vec<f64> =
                (0..4).map(|c| if c == best { -amp } else { -amp * rng.range(0.2, 0.75) }).collect();
            let width = rng.range(0.8, 1.3);
            let (spike_times_s, spike_scale, bursts) = match kind {
                UnitKind::Burst => burster_train(&params, &mut rng),
                UnitKind::Tonic => tonic_train(&params, &mut rng),
            };
            units.push(SynthUnit { id: id as i64, tetrode, kind, spike_times_s, spike_scale, bursts, peak_uv, width });
        }
        let mut rng = Rng::new(params.seed, 7);
        let mut lfp = Vec::new();
        for t in 0..params.n_tetrodes {
            for (f, a, theta) in [(1.5, 0.6, false), (3.0, 0.35, false), (7.5, 0.5, true), (40.0, 0.08, false)] {
                let freq_hz = f * rng.range(0.9, 1.1);
                lfp.push(LfpComponent {
                    tetrode: t,
                    freq_hz,
                    amp_uv: a * params.lfp_uv,
                    phase: rng.range(0.0, std::f64::consts::TAU),
                    theta,
                });
            }
        }
        Ok(Self { params, units, lfp })
    }

    /// Number of channels (4 per tetrode).
    #[must_use]
    pub fn n_channels(&self) -> usize {
        self.params.n_tetrodes * 4
    }

    /// Number of render blocks covering the session.
    #[must_use]
    pub fn n_blocks(&self) -> usize {
        self.params.n_samples().div_ceil(RENDER_BLOCK)
    }

    /// Sample range `(start, len)` of render block `b`.
    #[must_use]
    pub fn block_range(&self, b: usize) -> (usize, usize) {
        let n = self.params.n_samples();
        let start = b * RENDER_BLOCK;
        (start, RENDER_BLOCK.min(n.saturating_sub(start)))
    }

    /// Renders block `b` as time-major int16 counts (`len × n_channels`).
    /// The result depends only on the parameters and `b`.
    #[must_use]
    pub fn render_block(&self, b: usize) -> Vec<i16> {
        let (start, len) = self.block_range(b);
        let n_ch = self.n_channels();
        let p = &self.params;
        let fs = p.rate_hz;
        let mut x = vec![0f32; len * n_ch];
        // Slow components per block: LFP per tetrode and common mode, by phasor
        // rotation from an exact start so blocks never depend on each other.
        let inj = p.injection();
        #[allow(clippy::cast_precision_loss)]
        let t0 = start as f64 / fs;
        let mut lfp = vec![0f64; len * p.n_tetrodes];
        for c in &self.lfp {
            let w = std::f64::consts::TAU * c.freq_hz / fs;
            let (dsin, dcos) = w.sin_cos();
            let (mut s, mut co) = (std::f64::consts::TAU * c.freq_hz * t0 + c.phase).sin_cos();
            for t in 0..len {
                #[allow(clippy::cast_precision_loss)]
                let g = if c.theta && t0 + t as f64 / fs >= inj { p.ketamine_theta_factor } else { 1.0 };
                lfp[t * p.n_tetrodes + c.tetrode] += g * c.amp_uv * s;
                (s, co) = (s * dcos + co * dsin, co * dcos - s * dsin);
            }
        }
        let mut rng = Rng::new(p.seed, b as u64);
        let w50 = std::f64::consts::TAU * 50.0 / fs;
        let (dsin, dcos) = w50.sin_cos();
        let (mut hs, mut hc) = (std::f64::consts::TAU * 50.0 * t0 + 0.3).sin_cos();
        for t in 0..len {
            let common = p.common_mode_uv * (rng.normal() + hs);
            (hs, hc) = (hs * dcos + hc * dsin, hc * dcos - hs * dsin);
            let row = &mut x[t * n_ch..(t + 1) * n_ch];
            for tet in 0..p.n_tetrodes {
                let l = lfp[t * p.n_tetrodes + tet];
                for ch in 0..4 {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
                    {
                        row[tet * 4 + ch] = (p.noise_uv * rng.normal() + common + l * (1.0 - 0.05 * ch as f64)) as f32;
                    }
                }
            }
        }
        // Spikes overlapping the block.
        let before = WAVE_BEFORE_MS * 1e-3;
        let after = WAVE_AFTER_MS * 1e-3;
        #[allow(clippy::cast_precision_loss)]
        let (t_lo, t_hi) = (start as f64 / fs, (start + len) as f64 / fs);
        for u in &self.units {
            let first = u.spike_times_s.partition_point(|&s| s + after < t_lo);
            for (k, &ts) in u.spike_times_s.iter().enumerate().skip(first) {
                if ts - before >= t_hi {
                    break;
                }
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let i0 = (((ts - before) * fs).ceil().max(start as f64)) as usize;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let i1 = (((ts + after) * fs).floor() as usize).min(start + len - 1);
                for i in i0..=i1 {
                    #[allow(clippy::cast_precision_loss)]
                    let w = waveform((i as f64 / fs - ts) * 1e3, u.width) * u.spike_scale[k];
                    let row = &mut x[(i - start) * n_ch..(i - start + 1) * n_ch];
                    for ch in 0..4 {
                        #[allow(clippy::cast_possible_truncation)]
                        {
                            row[u.tetrode * 4 + ch] += (-u.peak_uv[ch] * w) as f32;
                        }
                    }
                }
            }
        }
        let to_counts = 1e-6 / p.conversion_v;
        #[allow(clippy::cast_possible_truncation)]
        x.iter().map(|&v| (f64::from(v) * to_counts).round().clamp(-32768.0, 32767.0) as i16).collect()
    }

    /// Renders the blocks `range` in parallel (identical to rendering them one by one).
    #[must_use]
    pub fn render_blocks(&self, range: std::ops::Range<usize>) -> Vec<Vec<i16>> {
        range.into_par_iter().map(|b| self.render_block(b)).collect()
    }
}

/// Drug effect (1 before the injection, ramping to `factor`).
fn drug_factor(p: &TetrodeParams, t: f64, factor: f64) -> f64 {
    let inj = p.injection();
    if t < inj {
        1.0
    } else if p.ketamine_ramp_s <= 0.0 || t >= inj + p.ketamine_ramp_s {
        factor
    } else {
        1.0 + (factor - 1.0) * (t - inj) / p.ketamine_ramp_s
    }
}

/// Silence required before a burst, s (LHb bursts follow a hyperpolarised pause).
const PRE_BURST_SILENCE_S: f64 = 0.12;
/// Quiet period after a burst's last spike, s.
const POST_BURST_GAP_S: f64 = 0.05;
/// Minimum interval after a single spike, s (keeps single spikes out of the 20 ms burst rule).
const SINGLE_GAP_S: f64 = 0.025;

type Train = (Vec<f64>, Vec<f64>, Vec<TruthBurst>);

fn burster_train(p: &TetrodeParams, rng: &mut Rng) -> Train {
    let (mut times, mut scale, mut bursts) = (Vec::new(), Vec::new(), Vec::new());
    let mut last_spike = f64::NEG_INFINITY;
    let mut free_at = 0.0f64;
    // Thinning of a Poisson process at the maximum rate handles the drug ramp.
    let r_max = p.burst_rate_hz + p.single_rate_hz;
    if r_max <= 0.0 {
        return (times, scale, bursts);
    }
    let mut t = rng.exponential(1.0 / r_max);
    while t < p.duration_s {
        let rb = p.burst_rate_hz * drug_factor(p, t, p.ketamine_burst_factor);
        let rs = p.single_rate_hz * drug_factor(p, t, p.ketamine_single_factor);
        let u = rng.uniform() * r_max;
        if u < rb {
            let start = t.max(last_spike + PRE_BURST_SILENCE_S).max(free_at);
            let n = rng.weighted(2, &[0.25, 0.25, 0.2, 0.14, 0.1, 0.06]);
            let mut isi = rng.range(0.003, 0.006);
            let first = times.len();
            let mut s = start;
            for k in 0..n {
                if k > 0 {
                    s += isi;
                    isi = (isi * rng.range(1.1, 1.35)).min(0.015);
                }
                if s >= p.duration_s {
                    break;
                }
                times.push(s);
                #[allow(clippy::cast_precision_loss)]
                scale.push((1.0 - 0.12 * k as f64).max(0.55) * rng.range(0.95, 1.05));
            }
            let got = times.len() - first;
            if got >= 2 {
                bursts.push(TruthBurst {
                    start_s: start,
                    end_s: times[times.len() - 1],
                    n_spikes: got,
                    first_spike: first,
                });
            }
            if got > 0 {
                last_spike = times[times.len() - 1];
                free_at = last_spike + POST_BURST_GAP_S;
                t = free_at;
            }
        } else if u < rb + rs {
            let s = t.max(free_at);
            if s < p.duration_s {
                times.push(s);
                scale.push(rng.range(0.95, 1.05));
                last_spike = s;
                free_at = s + SINGLE_GAP_S;
                t = free_at;
            }
        }
        t += rng.exponential(1.0 / r_max);
    }
    (times, scale, bursts)
}

fn tonic_train(p: &TetrodeParams, rng: &mut Rng) -> Train {
    let rate = rng.range(p.tonic_rate_hz.0, p.tonic_rate_hz.1);
    let dead = SINGLE_GAP_S;
    let mean_rest = (1.0 / rate - dead).max(0.005);
    let shape = 3.0;
    let mut times = Vec::new();
    let mut t = rng.exponential(1.0 / rate);
    while t < p.duration_s {
        times.push(t);
        t += dead + rng.gamma(shape, mean_rest / shape);
    }
    let scale = times.iter().map(|_| rng.range(0.95, 1.05)).collect();
    (times, scale, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> TetrodeParams {
        TetrodeParams { n_tetrodes: 2, duration_s: 120.0, ..TetrodeParams::default() }
    }

    #[test]
    fn bursts_follow_the_lhb_definition_and_drop_after_injection() {
        let s = TetrodeSession::new(small()).unwrap();
        let inj = s.params.injection();
        let mut pre = 0;
        let mut post = 0;
        for u in s.units.iter().filter(|u| u.kind == UnitKind::Burst) {
            for b in &u.bursts {
                let i = b.first_spike;
                let train = &u.spike_times_s[i..i + b.n_spikes];
                assert!(train.windows(2).all(|w| w[1] - w[0] <= 0.015 + 1e-12));
                if i > 0 {
                    assert!(u.spike_times_s[i] - u.spike_times_s[i - 1] >= PRE_BURST_SILENCE_S - 1e-12);
                }
                if let Some(next) = u.spike_times_s.get(i + b.n_spikes) {
                    assert!(next - b.end_s >= POST_BURST_GAP_S - 1e-12);
                }
                if b.start_s < inj {
                    pre += 1
                } else if b.start_s > inj + s.params.ketamine_ramp_s {
                    post += 1
                }
            }
            // Outside bursts no two spikes are closer than 20 ms.
            let in_burst: std::collections::HashSet<usize> =
                u.bursts.iter().flat_map(|b| b.first_spike..b.first_spike + b.n_spikes).collect();
            for (k, w) in u.spike_times_s.windows(2).enumerate() {
                if !(in_burst.contains(&k) && in_burst.contains(&(k + 1))) {
                    assert!(w[1] - w[0] > 0.02, "unit {} spikes {k},{}", u.id, k + 1);
                }
            }
        }
        assert!(pre > 3 * post, "pre {pre} post {post}");
    }

    #[test]
    fn rendering_is_deterministic_and_holds_spikes() {
        let s =
            TetrodeSession::new(TetrodeParams { n_tetrodes: 1, duration_s: 3.0, ..TetrodeParams::default() }).unwrap();
        let a = s.render_block(1);
        let b = s.render_blocks(0..3);
        assert_eq!(a, b[1]);
        // The trough of a spike on its best channel reaches close to its amplitude.
        let u = &s.units[0];
        let ts = u.spike_times_s[u.spike_times_s.partition_point(|&t| t < 0.05)];
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = (ts * s.params.rate_hz).round() as usize;
        let best = u.peak_uv.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        let blocks = s.render_blocks(0..s.n_blocks());
        let flat: Vec<i16> = blocks.concat();
        // Relative to 1 ms before the spike (removes the slow LFP).
        let uv = |k: usize| f64::from(flat[k * 4 + best]) * s.params.conversion_v * 1e6;
        let v = uv(i) - uv(i - 30);
        assert!(v < 0.6 * u.peak_uv[best], "{v} vs {}", u.peak_uv[best]);
    }

    #[test]
    fn invalid_parameters_are_named() {
        let e = TetrodeSession::new(TetrodeParams { rate_hz: 0.0, ..TetrodeParams::default() }).unwrap_err();
        assert!(e.to_string().contains("rate_hz"));
    }
}
