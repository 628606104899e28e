//! Synthetic brain-slice voltage-clamp cells: NMDAR EPSCs at +40 mV, sweep by
//! sweep, with a test pulse, a stimulus artifact, a drug wash-in and a
//! use-dependent block whose strength depends on the region.

use crate::SynthError;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// Parameters of one synthetic cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SliceParams {
    /// Region (`LHb`, `CA1`, ...): sets the default block strength.
    pub region: String,
    /// Cell identifier, e.g. `LHb-01`.
    pub cell_id: String,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Sweep length, s.
    pub sweep_s: f64,
    /// Interval between sweep starts, s (10 s = 0.1 Hz).
    pub interval_s: f64,
    /// Baseline sweeps.
    pub n_baseline: usize,
    /// Wash-in without stimulation, s.
    pub washin_s: f64,
    /// Sweeps in drug.
    pub n_drug: usize,
    /// Holding potential, mV.
    pub holding_mv: f64,
    /// Test-pulse step, mV (negative).
    pub test_pulse_mv: f64,
    /// Test-pulse start within the sweep, s.
    pub test_pulse_start_s: f64,
    /// Test-pulse duration, s.
    pub test_pulse_dur_s: f64,
    /// Stimulus time within the sweep, s.
    pub stim_s: f64,
    /// Synaptic latency after the stimulus, s.
    pub latency_s: f64,
    /// Mean baseline EPSC amplitude, pA (outward at +40 mV).
    pub amplitude_pa: f64,
    /// Sweep-to-sweep amplitude variability (coefficient of variation).
    pub amplitude_cv: f64,
    /// Rise time constant, s.
    pub tau_rise_s: f64,
    /// Fast decay time constant, s.
    pub tau_fast_s: f64,
    /// Slow decay time constant, s.
    pub tau_slow_s: f64,
    /// Fraction of the fast component.
    pub frac_fast: f64,
    /// Access (series) resistance at the start, MΩ.
    pub rs_mohm: f64,
    /// Relative change of access resistance over the recording (0.5 = +50 %).
    pub rs_drift: f64,
    /// Input resistance, MΩ.
    pub rin_mohm: f64,
    /// Membrane capacitance, pF.
    pub cm_pf: f64,
    /// Holding current, pA.
    pub holding_pa: f64,
    /// Current noise, pA RMS.
    pub noise_pa: f64,
    /// Stimulus artifact peak, pA.
    pub artifact_pa: f64,
    /// Fraction of receptors blocked per stimulus in drug (use dependence);
    /// `None`: the region's default (LHb 0.06, others 0.012).
    pub block_per_stimulus: Option<f64>,
    /// Maximal block reachable (`None`: LHb 0.85, others 0.4).
    pub max_block: Option<f64>,
    /// Drug name (the in-drug sweeps' `stimulus_description`).
    pub drug: String,
    /// Random seed.
    pub seed: u64,
}

impl Default for SliceParams {
    fn default() -> Self {
        Self {
            region: "LHb".into(),
            cell_id: "LHb-01".into(),
            rate_hz: 10_000.0,
            sweep_s: 0.8,
            interval_s: 10.0,
            n_baseline: 20,
            washin_s: 360.0,
            n_drug: 40,
            holding_mv: 40.0,
            test_pulse_mv: -5.0,
            test_pulse_start_s: 0.05,
            test_pulse_dur_s: 0.05,
            stim_s: 0.2,
            latency_s: 0.002,
            amplitude_pa: 250.0,
            amplitude_cv: 0.04,
            tau_rise_s: 0.007,
            tau_fast_s: 0.06,
            tau_slow_s: 0.25,
            frac_fast: 0.7,
            rs_mohm: 15.0,
            rs_drift: 0.0,
            rin_mohm: 250.0,
            cm_pf: 25.0,
            holding_pa: 60.0,
            noise_pa: 4.0,
            artifact_pa: -3000.0,
            block_per_stimulus: None,
            max_block: None,
            drug: "ketamine".into(),
            seed: 1,
        }
    }
}

impl SliceParams {
    /// Block per stimulus actually used.
    #[must_use]
    pub fn block_rate(&self) -> f64 {
        self.block_per_stimulus.unwrap_or(if self.region.eq_ignore_ascii_case("LHb") { 0.06 } else { 0.012 })
    }

    /// Maximal block actually used.
    #[must_use]
    pub fn block_max(&self) -> f64 {
        self.max_block.unwrap_or(if self.region.eq_ignore_ascii_case("LHb") { 0.85 } else { 0.4 })
    }

    /// Samples per sweep.
    #[must_use]
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn n_samples(&self) -> usize {
        (self.sweep_s * self.rate_hz).round() as usize
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`SynthError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |name: &str, expected: &str| Err(SynthError::Param(format!("{name}: expected {expected}")));
        if !(self.rate_hz >= 1000.0 && self.rate_hz <= 200_000.0) {
            return bad("rate_hz", "1000..=200000 Hz");
        }
        if !(self.sweep_s > 0.0 && self.sweep_s <= 60.0) {
            return bad("sweep_s", "0 < sweep_s <= 60 s");
        }
        if self.interval_s < self.sweep_s {
            return bad("interval_s", "at least the sweep length");
        }
        if self.n_baseline == 0 {
            return bad("n_baseline", "at least 1 sweep");
        }
        if !(self.test_pulse_start_s >= 0.0 && self.test_pulse_start_s + self.test_pulse_dur_s < self.stim_s) {
            return bad("test_pulse_start_s/test_pulse_dur_s", "a test pulse that ends before the stimulus");
        }
        if !(self.stim_s + self.latency_s < self.sweep_s) {
            return bad("stim_s", "a stimulus within the sweep");
        }
        for (n, v) in [
            ("tau_rise_s", self.tau_rise_s),
            ("tau_fast_s", self.tau_fast_s),
            ("tau_slow_s", self.tau_slow_s),
            ("rs_mohm", self.rs_mohm),
            ("rin_mohm", self.rin_mohm),
            ("cm_pf", self.cm_pf),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return bad(n, "a positive value");
            }
        }
        if self.tau_fast_s <= self.tau_rise_s || self.tau_slow_s < self.tau_fast_s {
            return bad("tau_fast_s/tau_slow_s", "tau_rise < tau_fast <= tau_slow");
        }
        if !(0.0..=1.0).contains(&self.frac_fast) {
            return bad("frac_fast", "0..=1");
        }
        if !(0.0..=1.0).contains(&self.block_rate()) || !(0.0..=1.0).contains(&self.block_max()) {
            return bad("block_per_stimulus/max_block", "fractions in 0..=1");
        }
        if !(self.rs_drift > -0.9 && self.rs_drift < 10.0) {
            return bad("rs_drift", "a relative change in (-0.9, 10)");
        }
        if self.amplitude_cv < 0.0 || self.noise_pa < 0.0 {
            return bad("amplitude_cv/noise_pa", "values >= 0");
        }
        Ok(())
    }
}

/// Ground truth of one sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepTruth {
    /// Sweep number (0-based).
    pub sweep: u32,
    /// Start on the session clock, s.
    pub start_s: f64,
    /// `baseline` or the drug name.
    pub condition: String,
    /// Stimulus number in drug (1-based; 0 in baseline).
    pub drug_stimulus: u32,
    /// Fraction of current left by the block (1 in baseline).
    pub unblocked_fraction: f64,
    /// Peak EPSC above baseline, pA (noise-free).
    #[serde(rename = "amplitude_pA")]
    pub amplitude_pa: f64,
    /// Access resistance, MΩ.
    #[serde(rename = "rs_MOhm")]
    pub rs_mohm: f64,
    /// Input resistance, MΩ.
    #[serde(rename = "rin_MOhm")]
    pub rin_mohm: f64,
}

/// One generated sweep: response (A), command (V) and truth.
#[derive(Debug, Clone)]
pub struct SynthSweep {
    /// Membrane current, amperes.
    pub response_a: Vec<f32>,
    /// Command voltage, volts.
    pub command_v: Vec<f32>,
    /// Truth.
    pub truth: SweepTruth,
}

/// A generated cell.
#[derive(Debug, Clone)]
pub struct SliceCell {
    /// Parameters.
    pub params: SliceParams,
    /// Sweeps in order.
    pub sweeps: Vec<SynthSweep>,
    /// Time the drug reaches the bath, s.
    pub drug_on_s: f64,
    /// Weighted decay time constant of the EPSC, s.
    pub tau_weighted_s: f64,
}

/// Normalised dual-exponential NMDAR waveform with a rising phase; peak = 1.
fn epsc_shape(p: &SliceParams) -> impl Fn(f64) -> f64 + '_ {
    let raw = move |t: f64| {
        if t <= 0.0 {
            0.0
        } else {
            (1.0 - (-t / p.tau_rise_s).exp())
                * (p.frac_fast * (-t / p.tau_fast_s).exp() + (1.0 - p.frac_fast) * (-t / p.tau_slow_s).exp())
        }
    };
    // Peak by a fine grid search (0.01 ms) over the first 200 ms.
    let peak = (1..20_000).map(|i| raw(f64::from(i) * 1e-5)).fold(0.0f64, f64::max);
    move |t| raw(t) / peak
}

impl SliceCell {
    /// Generates every sweep of a cell.
    ///
    /// ```
    /// use burstscope_synth::{SliceCell, SliceParams};
    /// let lhb = SliceCell::new(SliceParams::default()).unwrap();
    /// let ca1 = SliceCell::new(SliceParams { region: "CA1".into(), ..SliceParams::default() }).unwrap();
    /// let last = |c: &SliceCell| c.sweeps.last().unwrap().truth.unblocked_fraction;
    /// assert!(last(&lhb) < 0.5 && last(&ca1) > 0.75);
    /// ```
    ///
    /// # Errors
    /// Invalid parameters.
    pub fn new(params: SliceParams) -> Result<Self, SynthError> {
        params.validate()?;
        let p = &params;
        let mut rng = Rng::new(p.seed, 0x511ce);
        let n = p.n_samples();
        let dt = 1.0 / p.rate_hz;
        let shape = epsc_shape(p);
        let n_total = p.n_baseline + p.n_drug;
        #[allow(clippy::cast_precision_loss)]
        let drug_on_s = p.n_baseline as f64 * p.interval_s;
        let mut sweeps = Vec::with_capacity(n_total);
        let mut unblocked = 1.0;
        for k in 0..n_total {
            let in_drug = k >= p.n_baseline;
            #[allow(clippy::cast_precision_loss)]
            let start_s = if in_drug {
                drug_on_s + p.washin_s + (k - p.n_baseline) as f64 * p.interval_s
            } else {
                k as f64 * p.interval_s
            };
            let drug_stimulus = if in_drug { u32::try_from(k - p.n_baseline + 1).unwrap_or(u32::MAX) } else { 0 };
            if in_drug {
                // Use-dependent open-channel block: each stimulus traps a fraction of the unblocked receptors.
                let floor = 1.0 - p.block_max();
                unblocked = floor + (unblocked - floor) * (1.0 - p.block_rate());
            }
            #[allow(clippy::cast_precision_loss)]
            let rs_mohm = p.rs_mohm * (1.0 + p.rs_drift * k as f64 / (n_total.max(2) - 1) as f64);
            let amplitude_pa = p.amplitude_pa * (1.0 + p.amplitude_cv * rng.normal()).max(0.2) * unblocked;
            let (rs, rin, cm) = (rs_mohm * 1e6, p.rin_mohm * 1e6, p.cm_pf * 1e-12);
            let tau_c = rs * rin * cm / (rs + rin);
            let dv = p.test_pulse_mv * 1e-3;
            let mut response = Vec::with_capacity(n);
            let mut command = Vec::with_capacity(n);
            let tp_on = p.test_pulse_start_s;
            let tp_off = p.test_pulse_start_s + p.test_pulse_dur_s;
            let step = |t: f64| {
                // Current after a voltage step of dv at t = 0 through Rs into Rin || Cm.
                if t < 0.0 { 0.0 } else { dv / (rs + rin) + (dv / rs - dv / (rs + rin)) * (-t / tau_c).exp() }
            };
            for i in 0..n {
                #[allow(clippy::cast_precision_loss)]
                let t = i as f64 * dt;
                let mut pa = p.holding_pa + p.noise_pa * rng.normal();
                pa += (step(t - tp_on) - step(t - tp_off)) * 1e12;
                let ts = t - p.stim_s;
                if (0.0..3.0 * dt).contains(&ts) {
                    pa += p.artifact_pa;
                }
                pa += amplitude_pa * shape(ts - p.latency_s);
                #[allow(clippy::cast_possible_truncation)]
                response.push((pa * 1e-12) as f32);
                let v = p.holding_mv + if (tp_on..tp_off).contains(&t) { p.test_pulse_mv } else { 0.0 };
                #[allow(clippy::cast_possible_truncation)]
                command.push((v * 1e-3) as f32);
            }
            sweeps.push(SynthSweep {
                response_a: response,
                command_v: command,
                truth: SweepTruth {
                    sweep: u32::try_from(k).unwrap_or(u32::MAX),
                    start_s,
                    condition: if in_drug { p.drug.clone() } else { "baseline".into() },
                    drug_stimulus,
                    unblocked_fraction: unblocked,
                    amplitude_pa,
                    rs_mohm,
                    rin_mohm: p.rin_mohm,
                },
            });
        }
        let tau_weighted_s = p.frac_fast * p.tau_fast_s + (1.0 - p.frac_fast) * p.tau_slow_s;
        drop(shape);
        Ok(Self { params, sweeps, drug_on_s, tau_weighted_s })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_pulse_peak_gives_access_resistance() {
        let c = SliceCell::new(SliceParams { noise_pa: 0.0, ..SliceParams::default() }).unwrap();
        let s = &c.sweeps[0];
        let i_on = 500; // 50 ms at 10 kHz
        let base = f64::from(s.response_a[i_on - 1]);
        let peak = f64::from(s.response_a[i_on]) - base;
        let rs = -5e-3 / peak / 1e6;
        assert!((rs - 15.0).abs() < 0.1, "{rs}");
        // EPSC peak above baseline equals the truth amplitude.
        let epsc_peak = s.response_a[2100..4000].iter().map(|&x| f64::from(x)).fold(f64::MIN, f64::max) - base;
        let want = s.truth.amplitude_pa * 1e-12;
        assert!((epsc_peak - want).abs() / want < 0.01, "{epsc_peak} {want}");
    }

    #[test]
    fn block_deepens_with_each_stimulus_and_drift_changes_access() {
        let c = SliceCell::new(SliceParams { rs_drift: 0.5, ..SliceParams::default() }).unwrap();
        let f: Vec<f64> = c.sweeps.iter().map(|s| s.truth.unblocked_fraction).collect();
        assert!(f[..20].iter().all(|&x| x == 1.0));
        assert!(f[20..].windows(2).all(|w| w[1] < w[0]));
        assert!((c.sweeps.last().unwrap().truth.rs_mohm - 22.5).abs() < 1e-9);
    }
}
