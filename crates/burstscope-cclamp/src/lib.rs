//! Current-clamp sweeps on plain slices (mV, pA, Hz, ms): no HDF5, no tables.
//!
//! * [`detect_aps`]: action potentials where dV/dt rises through a threshold
//!   (20 V/s by default), each with its threshold potential, peak, amplitude,
//!   half-width, maximal rise rate and after-hyperpolarisation;
//! * [`measure_sweep`]: per sweep the count, rate and first-spike latency
//!   within the current step;
//! * [`fi_curve`]: the F–I curve across a cell's steps, its rheobase and gain.
//!
//! ```
//! use burstscope_cclamp::{ApParams, detect_aps};
//! // three 1-ms spikes from −65 mV to +30 mV, sampled at 20 kHz
//! let fs = 20_000.0;
//! let v: Vec<f64> = (0..20_000)
//!     .map(|k| {
//!         let t_ms = k as f64 / fs * 1e3;
//!         let mut v = -65.0;
//!         for t0 in [200.0, 400.0, 600.0] {
//!             let x = (t_ms - t0) / 0.3;
//!             v += 95.0 * (-x * x).exp();
//!         }
//!         v
//!     })
//!     .collect();
//! let aps = detect_aps(&v, fs, &ApParams::default()).unwrap();
//! assert_eq!(aps.len(), 3);
//! assert!((aps[0].peak_mv - 30.0).abs() < 0.5);
//! ```

use serde::{Deserialize, Serialize};

/// Errors of the current-clamp analysis.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CclampError {
    /// A parameter is out of range.
    #[error("invalid current-clamp parameter {field}: {message}")]
    Param {
        /// Field name.
        field: &'static str,
        /// What was expected.
        message: String,
    },
}

/// Action-potential detection parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApParams {
    /// dV/dt that starts an action potential (V/s = mV/ms).
    pub dvdt_threshold_v_per_s: f64,
    /// The peak must come within this of the threshold crossing (ms).
    pub max_rise_ms: f64,
    /// Peak minus threshold potential at least (mV): smaller events are
    /// spikelets or noise.
    pub min_amplitude_mv: f64,
    /// After-hyperpolarisation: the minimum within this after the peak (ms),
    /// or up to the next action potential.
    pub ahp_window_ms: f64,
}

impl Default for ApParams {
    fn default() -> Self {
        Self { dvdt_threshold_v_per_s: 20.0, max_rise_ms: 5.0, min_amplitude_mv: 20.0, ahp_window_ms: 20.0 }
    }
}

impl ApParams {
    /// Checks ranges.
    ///
    /// # Errors
    /// [`CclampError::Param`] naming the field.
    pub fn validate(&self) -> Result<(), CclampError> {
        let pos = |field: &'static str, v: f64, what: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(CclampError::Param { field, message: format!("expected {what}") })
            }
        };
        pos("dvdt_threshold_v_per_s", self.dvdt_threshold_v_per_s, "a positive rate in V/s")?;
        pos("max_rise_ms", self.max_rise_ms, "a positive number of ms")?;
        pos("min_amplitude_mv", self.min_amplitude_mv, "a positive number of mV")?;
        pos("ahp_window_ms", self.ahp_window_ms, "a positive number of ms")
    }
}

/// One action potential. Indices are samples of the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActionPotential {
    /// First sample where dV/dt is at or above the threshold.
    pub threshold_index: usize,
    /// Sample of the peak.
    pub peak_index: usize,
    /// Membrane potential at the threshold crossing (mV).
    pub threshold_mv: f64,
    /// Peak potential (mV).
    pub peak_mv: f64,
    /// Peak minus threshold (mV).
    pub amplitude_mv: f64,
    /// Width at half the amplitude above threshold (ms, interpolated).
    pub half_width_ms: f64,
    /// Largest dV/dt of the upstroke (V/s).
    pub max_dvdt_v_per_s: f64,
    /// After-hyperpolarisation: threshold minus the minimum after the peak (mV, positive when below threshold).
    pub ahp_mv: f64,
}

/// Action potentials in a sweep `v_mv` sampled at `fs_hz`: dV/dt (forward
/// difference) rises through the threshold; the spike must repolarise within
/// `max_rise_ms` (dV/dt falls to −½ the threshold: slow depolarisations are
/// not spikes); its peak is the maximum before that; it counts when it rises
/// `min_amplitude_mv` above its threshold potential; the next spike needs a
/// new upstroke after the repolarisation.
///
/// # Errors
/// Invalid parameters.
pub fn detect_aps(v_mv: &[f64], fs_hz: f64, p: &ApParams) -> Result<Vec<ActionPotential>, CclampError> {
    p.validate()?;
    if !(fs_hz > 0.0) {
        return Err(CclampError::Param { field: "fs_hz", message: "expected a positive sampling rate".into() });
    }
    let n = v_mv.len();
    let mut out: Vec<ActionPotential> = Vec::new();
    if n < 3 {
        return Ok(out);
    }
    let per_ms = fs_hz / 1e3;
    // mV per sample × samples per ms = mV/ms = V/s
    let dvdt = |k: usize| (v_mv[k + 1] - v_mv[k]) * per_ms;
    let max_rise = ((p.max_rise_ms * per_ms).ceil() as usize).max(1);
    let mut k = 0;
    while k + 1 < n {
        if !(dvdt(k) >= p.dvdt_threshold_v_per_s) || (k > 0 && dvdt(k - 1) >= p.dvdt_threshold_v_per_s) {
            k += 1;
            continue;
        }
        let t = k;
        // the upstroke ends where the potential falls at half the threshold
        // rate: a spike repolarises fast, a slow depolarisation does not
        let threshold_mv = v_mv[t];
        let Some(r) = (t + 1..(t + max_rise).min(n - 1)).find(|&q| dvdt(q) <= -0.5 * p.dvdt_threshold_v_per_s) else {
            k = t + 1;
            continue;
        };
        let (mut peak_index, mut max_dvdt) = (t, dvdt(t));
        for q in t..=r {
            if v_mv[q] > v_mv[peak_index] {
                peak_index = q;
            }
            if q < r {
                max_dvdt = max_dvdt.max(dvdt(q));
            }
        }
        let peak_mv = v_mv[peak_index];
        let amplitude = peak_mv - threshold_mv;
        if !(amplitude >= p.min_amplitude_mv) {
            k = r;
            continue;
        }
        let half = threshold_mv + amplitude / 2.0;
        // half-width: the rising and falling crossings of the half level
        let mut a = peak_index;
        while a > t && v_mv[a - 1] >= half {
            a -= 1;
        }
        let rise_x = if a > 0 && v_mv[a - 1] < half {
            (a - 1) as f64 + (half - v_mv[a - 1]) / (v_mv[a] - v_mv[a - 1])
        } else {
            a as f64
        };
        let window = (p.ahp_window_ms * per_ms).ceil() as usize;
        let mut b = peak_index;
        while b + 1 < n && b < peak_index + window && v_mv[b + 1] >= half {
            b += 1;
        }
        let fall_x = if b + 1 < n && v_mv[b + 1] < half {
            b as f64 + (v_mv[b] - half) / (v_mv[b] - v_mv[b + 1])
        } else {
            f64::NAN
        };
        let half_width_ms = (fall_x - rise_x) / per_ms;
        // AHP: the minimum after the peak, up to the window or the next upstroke
        let ahp_end = (peak_index + window).min(n);
        let mut ahp_min = f64::INFINITY;
        let mut q = peak_index;
        while q < ahp_end {
            if q > r && q + 1 < n && dvdt(q) >= p.dvdt_threshold_v_per_s {
                break;
            }
            ahp_min = ahp_min.min(v_mv[q]);
            q += 1;
        }
        out.push(ActionPotential {
            threshold_index: t,
            peak_index,
            threshold_mv,
            peak_mv,
            amplitude_mv: amplitude,
            half_width_ms,
            max_dvdt_v_per_s: max_dvdt,
            ahp_mv: threshold_mv - ahp_min,
        });
        // the next spike starts with a new upstroke after this one repolarised
        k = r.max(peak_index + 1);
    }
    Ok(out)
}

/// A current step in the command, in samples of the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurrentStep {
    /// First sample of the step.
    pub start: usize,
    /// First sample after the step.
    pub stop: usize,
    /// Injected current during the step relative to the holding current (pA).
    pub delta_pa: f64,
}

/// The longest step away from the holding current (the command's level at
/// the start of the sweep) in a current command (pA), if any: at least 1 pA
/// and 1 ms.
///
/// ```
/// use burstscope_cclamp::longest_step;
/// let mut i = vec![0.0; 10_000];
/// i[500..700].iter_mut().for_each(|x| *x = -50.0); // a short test step
/// i[2_000..8_000].iter_mut().for_each(|x| *x = 100.0);
/// let s = longest_step(&i, 10_000.0).unwrap();
/// assert_eq!((s.start, s.stop, s.delta_pa), (2_000, 8_000, 100.0));
/// ```
#[must_use]
pub fn longest_step(command_pa: &[f64], fs_hz: f64) -> Option<CurrentStep> {
    let n = command_pa.len();
    if n == 0 {
        return None;
    }
    let mut head = command_pa[..(n / 64).max(1)].to_vec();
    head.sort_by(f64::total_cmp);
    let hold = head[head.len() / 2];
    let mut best: Option<CurrentStep> = None;
    let mut k = 0;
    while k < n {
        if (command_pa[k] - hold).abs() < 1.0 {
            k += 1;
            continue;
        }
        let level = command_pa[k];
        let start = k;
        while k < n && (command_pa[k] - level).abs() < 0.5 {
            k += 1;
        }
        let len = k - start;
        if (len as f64) >= 1e-3 * fs_hz && best.is_none_or(|b| len > b.stop - b.start) {
            best = Some(CurrentStep { start, stop: k, delta_pa: level - hold });
        }
        if k == start {
            k += 1;
        }
    }
    best
}

/// The current step of each sweep of a step protocol: the first run of
/// samples where the sweeps' commands differ (a protocol's F–I epoch, whose level changes from
/// sweep to sweep, also the sweep where it is 0 pA), each sweep's step the
/// mean command there minus its holding current. Without such a segment (one
/// sweep, sweeps of different lengths, identical commands) each sweep's
/// [`longest_step`].
///
/// ```
/// use burstscope_cclamp::steps_across_sweeps;
/// let sweep = |pa: f64| {
///     let mut i = vec![0.0; 10_000];
///     i[500..700].iter_mut().for_each(|x| *x = -20.0); // the same test step in every sweep
///     i[2_000..8_000].iter_mut().for_each(|x| *x = pa);
///     i
/// };
/// let cmds = [sweep(-50.0), sweep(0.0), sweep(50.0)];
/// let refs: Vec<&[f64]> = cmds.iter().map(|c| c.as_slice()).collect();
/// let steps = steps_across_sweeps(&refs, 10_000.0);
/// assert_eq!(steps[1].unwrap().start, 2_000);
/// assert_eq!(steps[1].unwrap().delta_pa, 0.0);
/// assert_eq!(steps[2].unwrap().delta_pa, 50.0);
/// ```
#[must_use]
pub fn steps_across_sweeps(commands_pa: &[&[f64]], fs_hz: f64) -> Vec<Option<CurrentStep>> {
    let per_sweep = || commands_pa.iter().map(|c| longest_step(c, fs_hz)).collect();
    let Some(first) = commands_pa.first() else { return Vec::new() };
    let n = first.len();
    if commands_pa.len() < 2 || commands_pa.iter().any(|c| c.len() != n) || n == 0 {
        return per_sweep();
    }
    let varies = |k: usize| {
        let (lo, hi) =
            commands_pa.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| (a.min(c[k]), b.max(c[k])));
        hi - lo > 0.5
    };
    // the first run of samples where they differ (a "dual steps" protocol
    // varies two epochs: the first is the F–I step)
    let Some(start) = (0..n).find(|&k| varies(k)) else { return per_sweep() };
    let stop = (start..n).find(|&k| !varies(k)).unwrap_or(n);
    if ((stop - start) as f64) < 1e-3 * fs_hz {
        return per_sweep();
    }
    commands_pa
        .iter()
        .map(|c| {
            let mut head = c[..(n / 64).max(1)].to_vec();
            head.sort_by(f64::total_cmp);
            let hold = head[head.len() / 2];
            let level = c[start..stop].iter().sum::<f64>() / (stop - start) as f64;
            Some(CurrentStep { start, stop, delta_pa: level - hold })
        })
        .collect()
}

/// One sweep's firing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepFiring {
    /// Every action potential in the sweep.
    pub aps: Vec<ActionPotential>,
    /// Action potentials within the step (all of them without a step).
    pub n_in_step: usize,
    /// Their rate over the step (Hz; over the sweep without a step).
    pub rate_hz: f64,
    /// First action potential's threshold crossing after the step onset (ms; NaN without one).
    pub first_latency_ms: f64,
    /// Mean instantaneous rate of the first two APs in the step (Hz; NaN with fewer).
    pub first_isi_rate_hz: f64,
}

/// Counts and rates of one sweep's APs, within `step` when given.
///
/// # Errors
/// Invalid parameters.
pub fn measure_sweep(
    v_mv: &[f64],
    fs_hz: f64,
    step: Option<&CurrentStep>,
    p: &ApParams,
) -> Result<SweepFiring, CclampError> {
    let aps = detect_aps(v_mv, fs_hz, p)?;
    let (a, b) = step.map_or((0, v_mv.len()), |s| (s.start, s.stop.min(v_mv.len())));
    let inside: Vec<&ActionPotential> = aps.iter().filter(|ap| (a..b).contains(&ap.threshold_index)).collect();
    let span_s = (b.saturating_sub(a)) as f64 / fs_hz;
    let first_latency_ms = inside.first().map_or(f64::NAN, |ap| (ap.threshold_index - a) as f64 / fs_hz * 1e3);
    let first_isi_rate_hz = if inside.len() >= 2 {
        fs_hz / (inside[1].threshold_index - inside[0].threshold_index) as f64
    } else {
        f64::NAN
    };
    Ok(SweepFiring {
        n_in_step: inside.len(),
        rate_hz: if span_s > 0.0 { inside.len() as f64 / span_s } else { f64::NAN },
        first_latency_ms,
        first_isi_rate_hz,
        aps,
    })
}

/// A cell's F–I relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiCurve {
    /// Smallest injected current that evoked an action potential (pA; NaN if none did).
    pub rheobase_pa: f64,
    /// Slope of the rate against current over the steps from the rheobase
    /// until the rate stops rising (Hz/pA; least squares; NaN with < 2 points).
    pub gain_hz_per_pa: f64,
    /// Highest rate in a step (Hz).
    pub max_rate_hz: f64,
}

/// The F–I curve from `(current_pa, rate_hz)` per step (any order).
///
/// ```
/// use burstscope_cclamp::fi_curve;
/// let fi = fi_curve(&[(-50.0, 0.0), (0.0, 0.0), (50.0, 5.0), (100.0, 10.0), (150.0, 15.0)]);
/// assert_eq!(fi.rheobase_pa, 50.0);
/// assert!((fi.gain_hz_per_pa - 0.1).abs() < 1e-12);
/// ```
#[must_use]
pub fn fi_curve(points: &[(f64, f64)]) -> FiCurve {
    let mut p: Vec<(f64, f64)> = points.iter().copied().filter(|(i, r)| i.is_finite() && r.is_finite()).collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(first) = p.iter().position(|(_, r)| *r > 0.0) else {
        return FiCurve { rheobase_pa: f64::NAN, gain_hz_per_pa: f64::NAN, max_rate_hz: 0.0 };
    };
    let max_rate_hz = p.iter().map(|x| x.1).fold(0.0, f64::max);
    // the rising part: from the rheobase to the highest rate
    let top = first + p[first..].iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1)).map_or(0, |(k, _)| k);
    let seg = &p[first..=top];
    let gain = if seg.len() >= 2 {
        let n = seg.len() as f64;
        let (mx, my) = (seg.iter().map(|x| x.0).sum::<f64>() / n, seg.iter().map(|x| x.1).sum::<f64>() / n);
        let sxx: f64 = seg.iter().map(|x| (x.0 - mx).powi(2)).sum();
        if sxx > 0.0 { seg.iter().map(|x| (x.0 - mx) * (x.1 - my)).sum::<f64>() / sxx } else { f64::NAN }
    } else {
        f64::NAN
    };
    FiCurve { rheobase_pa: p[first].0, gain_hz_per_pa: gain, max_rate_hz }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spikes(times_ms: &[f64], fs: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|k| {
                let t = k as f64 / fs * 1e3;
                let mut v = -65.0;
                for t0 in times_ms {
                    let x = t - t0;
                    // fast rise, slower fall, an AHP
                    v += if x < 0.0 { 95.0 * (-(x / 0.2).powi(2)).exp() } else { 95.0 * (-(x / 0.4).powi(2)).exp() };
                    v -= if x > 0.5 { 8.0 * (-(x - 0.5) / 5.0).exp() * (1.0 - (-(x - 0.5) / 0.5).exp()) } else { 0.0 };
                }
                v
            })
            .collect()
    }

    #[test]
    fn counts_thresholds_widths_and_ahps() {
        let fs = 50_000.0;
        let v = spikes(&[100.0, 150.0, 300.0], fs, 25_000);
        let aps = detect_aps(&v, fs, &ApParams::default()).unwrap();
        assert_eq!(aps.len(), 3);
        for ap in &aps {
            assert!((ap.peak_mv - 30.0).abs() < 0.2, "{ap:?}");
            assert!(ap.threshold_mv < -40.0 && ap.threshold_mv > -66.0, "{ap:?}");
            // half-width of the Gaussian halves: 0.2·√ln2 + 0.4·√ln2 ≈ 0.50 ms (above a slightly higher threshold)
            assert!(ap.half_width_ms > 0.35 && ap.half_width_ms < 0.55, "{ap:?}");
            assert!(ap.ahp_mv > 2.0, "{ap:?}");
        }
        // noise below threshold gives nothing; a small bump gives nothing
        let flat: Vec<f64> = (0..10_000).map(|k| -65.0 + 0.2 * (k as f64 * 0.37).sin()).collect();
        assert!(detect_aps(&flat, fs, &ApParams::default()).unwrap().is_empty());
        let bump: Vec<f64> =
            (0..10_000).map(|k| -65.0 + 10.0 * (-((k as f64 - 5_000.0) / 20.0).powi(2)).exp()).collect();
        assert!(detect_aps(&bump, fs, &ApParams::default()).unwrap().is_empty());
    }

    #[test]
    fn sweep_counts_are_within_the_step() {
        let fs = 20_000.0;
        let v = spikes(&[50.0, 250.0, 300.0, 700.0], fs, 20_000);
        let step = CurrentStep { start: 4_000, stop: 12_000, delta_pa: 100.0 };
        let f = measure_sweep(&v, fs, Some(&step), &ApParams::default()).unwrap();
        assert_eq!((f.aps.len(), f.n_in_step), (4, 2));
        assert!((f.rate_hz - 5.0).abs() < 1e-9);
        assert!((f.first_latency_ms - 50.0).abs() < 1.0, "{}", f.first_latency_ms);
        assert!((f.first_isi_rate_hz - 20.0).abs() < 0.5);
    }

    #[test]
    fn bad_parameters_and_short_input() {
        let p = ApParams { dvdt_threshold_v_per_s: 0.0, ..ApParams::default() };
        assert!(detect_aps(&[0.0; 10], 1e4, &p).is_err());
        assert!(detect_aps(&[0.0; 2], 1e4, &ApParams::default()).unwrap().is_empty());
        assert!(detect_aps(&[0.0; 10], 0.0, &ApParams::default()).is_err());
        assert!(fi_curve(&[]).rheobase_pa.is_nan());
        assert!(longest_step(&[], 1e4).is_none());
    }
}
