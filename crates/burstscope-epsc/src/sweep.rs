//! One voltage-clamp sweep: stimulus and test pulse, then the EPSC measures.

use crate::fit::{ExpFit, fit_exp1, fit_exp2_from};
use crate::{EpscError, SweepParams, membrane_test};
use serde::{Deserialize, Serialize};

/// Direction of the synaptic current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// From the holding potential (outward above 0 mV, inward below), else
    /// the larger extremum after the stimulus.
    Auto,
    /// Positive currents (e.g. NMDAR EPSCs at +40 mV).
    Outward,
    /// Negative currents (e.g. AMPAR EPSCs at −70 mV).
    Inward,
}

/// A voltage step in the command, in sample indices of the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TestPulse {
    /// First sample of the step.
    pub start: usize,
    /// First sample after the step.
    pub stop: usize,
    /// Step size (mV, signed).
    pub delta_mv: f64,
}

/// Holding potential (the command's level at the start of the sweep: the
/// median of its first 1/64, where acquisition programs hold before playing
/// the protocol, mV) and the first voltage step away from it (at least 1 mV,
/// at least 1 ms long), if any.
///
/// ```
/// use burstscope_epsc::command_levels;
/// let mut v = vec![40.0; 8000];
/// v[500..1000].iter_mut().for_each(|x| *x = 35.0);
/// let (hold, tp) = command_levels(&v, 10_000.0);
/// assert_eq!(hold, 40.0);
/// let tp = tp.unwrap();
/// assert_eq!((tp.start, tp.stop, tp.delta_mv), (500, 1000, -5.0));
/// ```
#[must_use]
pub fn command_levels(command_mv: &[f64], fs_hz: f64) -> (f64, Option<TestPulse>) {
    if command_mv.is_empty() {
        return (f64::NAN, None);
    }
    let mut s = command_mv[..(command_mv.len() / 64).max(1)].to_vec();
    s.sort_by(f64::total_cmp);
    let hold = s[s.len() / 2];
    let off = |v: f64| (v - hold).abs() >= 1.0;
    let Some(start) = command_mv.iter().position(|&v| off(v)) else { return (hold, None) };
    let stop = command_mv[start..].iter().position(|&v| !off(v)).map_or(command_mv.len(), |k| start + k);
    if ((stop - start) as f64) < 1e-3 * fs_hz {
        return (hold, None);
    }
    let delta = command_mv[start..stop].iter().sum::<f64>() / (stop - start) as f64 - hold;
    (hold, Some(TestPulse { start, stop, delta_mv: delta }))
}

/// The stimulus: the sample after the largest jump between neighbouring samples
/// (the artifact's edge), away from the test pulse's edges; `None` when no jump
/// stands out of the noise (20 × the median jump).
///
/// ```
/// use burstscope_epsc::find_stimulus;
/// let mut i: Vec<f64> = (0..5000).map(|k| (k as f64 * 0.7).sin()).collect();
/// i[2000] -= 3000.0;
/// assert_eq!(find_stimulus(&i, 10_000.0, None), Some(2000));
/// let flat: Vec<f64> = (0..5000).map(|k| (k as f64 * 0.7).sin()).collect();
/// assert_eq!(find_stimulus(&flat, 10_000.0, None), None);
/// ```
#[must_use]
pub fn find_stimulus(current_pa: &[f64], fs_hz: f64, test_pulse: Option<&TestPulse>) -> Option<usize> {
    let edges: Vec<usize> = test_pulse.map(|tp| vec![tp.start, tp.stop]).unwrap_or_default();
    find_stimulus_away_from(current_pa, fs_hz, &edges)
}

/// [`find_stimulus`] away from every sample in `edges` (±2 ms): the
/// command's steps and ramp corners, whose capacitive transients are not
/// stimuli (see [`command_edges`]).
#[must_use]
pub fn find_stimulus_away_from(current_pa: &[f64], fs_hz: f64, edges: &[usize]) -> Option<usize> {
    find_stimuli_away_from(current_pa, fs_hz, edges).first().copied()
}

/// Every stimulus of a train: each artifact's first edge (a jump of at
/// least half the largest, standing out of the noise as in
/// [`find_stimulus`]), at least 5 ms apart, away from `edges` (±2 ms).
///
/// ```
/// use burstscope_epsc::find_stimuli_away_from;
/// let mut i: Vec<f64> = (0..5000).map(|k| (k as f64 * 0.7).sin()).collect();
/// for s in [2000, 2500] {
///     i[s] -= 3000.0;
///     i[s + 1] -= 1500.0;
/// }
/// assert_eq!(find_stimuli_away_from(&i, 10_000.0, &[]), vec![2000, 2500]);
/// ```
#[must_use]
pub fn find_stimuli_away_from(current_pa: &[f64], fs_hz: f64, edges: &[usize]) -> Vec<usize> {
    if current_pa.len() < 3 {
        return Vec::new();
    }
    let guard = (2e-3 * fs_hz).ceil() as usize;
    let near_edge = |k: usize| edges.iter().any(|&e| k + guard >= e && k <= e + guard);
    let d: Vec<f64> = current_pa.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let mut sorted = d.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let m = d.iter().enumerate().filter(|(k, _)| !near_edge(*k)).map(|(_, v)| *v).fold(0.0f64, f64::max);
    if !(m > 20.0 * median.max(1e-12)) {
        return Vec::new();
    }
    // each artifact's first edge: a jump of at least half the largest, the
    // artifact's own later edges (within 5 ms) belonging to it
    let gap = (5e-3 * fs_hz).ceil() as usize;
    let mut out: Vec<usize> = Vec::new();
    for (k, v) in d.iter().enumerate() {
        if !near_edge(k) && *v >= 0.5 * m && out.last().is_none_or(|&l| k + 1 >= l + gap) {
            out.push(k + 1);
        }
    }
    out
}

/// Samples where the command potential steps (≥ 0.5 mV) or a ramp starts or
/// ends (its slope changes by ≥ 1 µV per sample): each draws a capacitive
/// transient.
///
/// ```
/// use burstscope_epsc::command_edges;
/// let mut v = vec![-70.0; 1000];
/// v[100..200].iter_mut().for_each(|x| *x = -80.0);
/// for k in 500..600 { v[k] = -70.0 - 0.1 * (k - 500) as f64; }
/// v[600..].iter_mut().for_each(|x| *x = -80.0);
/// assert_eq!(command_edges(&v), vec![100, 200, 500, 600]);
/// ```
#[must_use]
pub fn command_edges(command_mv: &[f64]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for k in 1..command_mv.len() {
        let step = (command_mv[k] - command_mv[k - 1]).abs() >= 0.5;
        let corner =
            k >= 2 && ((command_mv[k] - command_mv[k - 1]) - (command_mv[k - 1] - command_mv[k - 2])).abs() >= 1e-3;
        if step || corner {
            // one edge per corner: a ramp's corner shows in two neighbouring second differences
            if out.last().is_none_or(|&l| k > l + 2) {
                out.push(if corner && !step { k - 1 } else { k });
            }
        }
    }
    out
}

/// The delay (samples, `0..=max_lag`) by which a recorded command monitor
/// (the amplifier's V-mon) follows a command laid out from the protocol:
/// the lag that best lines the command's steps up with the monitor's, each
/// step weighted by its size and sign. Some rigs deliver the stimulus a
/// fixed time after the protocol's nominal segment boundaries; shifting the
/// laid-out command by this lag puts its edges where the capacitive
/// transients are. `None` when the command has no step or the monitor is
/// shorter than the command.
///
/// ```
/// use burstscope_epsc::monitor_lag;
/// let mut cmd = vec![0.0; 400];
/// cmd[100..300].iter_mut().for_each(|x| *x = -10.0);
/// let mut vmon = vec![0.0; 400];
/// vmon[152..352].iter_mut().for_each(|x| *x = -9.8);
/// vmon[160] = 3.0; // noise and a glitch do not move it
/// assert_eq!(monitor_lag(&cmd, &vmon, 80), Some(52));
/// ```
#[must_use]
pub fn monitor_lag(command: &[f64], monitor: &[f64], max_lag: usize) -> Option<usize> {
    if monitor.len() < command.len() || command.len() < 4 {
        return None;
    }
    let steps: Vec<(usize, f64)> = (1..command.len())
        .map(|k| (k, command[k] - command[k - 1]))
        .filter(|(_, d)| d.abs() > 0.0 && d.is_finite())
        .collect();
    if steps.is_empty() {
        return None;
    }
    let n = monitor.len();
    // the monitor's mean after minus its mean before the shifted step, over
    // `h` samples each side: largest where the step splits the windows
    let h = 8usize;
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for &v in monitor {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + if v.is_finite() { v } else { 0.0 });
    }
    let score = |lag: usize| -> f64 {
        steps
            .iter()
            .map(|&(k, d)| {
                let j = k + lag;
                if j < h || j + h > n { 0.0 } else { d * (prefix[j + h] - 2.0 * prefix[j] + prefix[j - h]) }
            })
            .sum()
    };
    let mut best = (0, score(0));
    for lag in 1..=max_lag {
        let s = score(lag);
        if s > best.1 {
            best = (lag, s);
        }
    }
    (best.1 > 0.0).then_some(best.0)
}

/// Samples where a recorded command monitor (the amplifier's V-mon, mV)
/// steps by at least `min_step_mv`: the mean of the 4 samples from there
/// on differs from the mean of the 4 before by that much; one edge per
/// step, where the difference is largest. Complements [`command_edges`]
/// where the delivered steps do not sit exactly on the protocol's segment
/// boundaries.
///
/// ```
/// use burstscope_epsc::monitor_edges;
/// let mut v = vec![-70.0; 1000];
/// v[252..7000.min(1000)].iter_mut().for_each(|x| *x = -80.0);
/// v[700..].iter_mut().for_each(|x| *x = -70.0);
/// assert_eq!(monitor_edges(&v, 2.0), vec![252, 700]);
/// ```
#[must_use]
pub fn monitor_edges(monitor_mv: &[f64], min_step_mv: f64) -> Vec<usize> {
    const H: usize = 4;
    let n = monitor_mv.len();
    let mut out = Vec::new();
    if n < 2 * H {
        return out;
    }
    let diff = |k: usize| -> f64 {
        let after: f64 = monitor_mv[k..k + H].iter().sum();
        let before: f64 = monitor_mv[k - H..k].iter().sum();
        ((after - before) / H as f64).abs()
    };
    let mut k = H;
    while k + H <= n {
        if diff(k) >= min_step_mv {
            // the run of samples over the threshold: keep its largest
            let mut best = (k, diff(k));
            let mut j = k + 1;
            while j + H <= n && diff(j) >= min_step_mv {
                if diff(j) > best.1 {
                    best = (j, diff(j));
                }
                j += 1;
            }
            out.push(best.0);
            k = j;
        } else {
            k += 1;
        }
    }
    out
}

/// Everything measured in one sweep. Currents in pA relative to the baseline
/// (positive outward), times in ms from the stimulus unless noted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// Baseline current (absolute, pA).
    pub baseline_pa: f64,
    /// Holding current before the test pulse (absolute, pA).
    pub holding_pa: f64,
    /// Peak EPSC amplitude relative to baseline (signed, pA).
    pub amplitude_pa: f64,
    /// Time of the peak after the stimulus (ms).
    pub peak_ms: f64,
    /// Mean current at the fixed latency relative to baseline (pA).
    pub amplitude_at_latency_pa: f64,
    /// 10–90 % rise time (ms).
    pub rise_ms: f64,
    /// One-exponential decay τ (ms).
    pub tau_mono_ms: f64,
    /// Two-exponential decay: fast τ (ms).
    pub tau_fast_ms: f64,
    /// Two-exponential decay: slow τ (ms).
    pub tau_slow_ms: f64,
    /// Amplitude-weighted τ of the two-exponential fit (ms), with the
    /// components' amplitudes taken at the stimulus (extrapolated from the fit).
    pub tau_weighted_ms: f64,
    /// R² of the one- and two-exponential fits.
    pub r2_mono: f64,
    /// R² of the two-exponential fit.
    pub r2_bi: f64,
    /// Whether the two-exponential fit converged with positive amplitudes.
    pub fit_ok: bool,
    /// Charge transfer over the charge window (pC, signed).
    pub charge_pc: f64,
    /// Access (series) resistance from the test pulse (MΩ).
    pub rs_mohm: f64,
    /// Input resistance `ΔV / ΔI` at the test pulse's steady state (MΩ).
    pub rin_mohm: f64,
    /// Membrane resistance, input minus access (MΩ).
    pub rm_mohm: f64,
    /// Membrane capacitance from the test pulse (pF).
    pub cm_pf: f64,
}

fn mean(x: &[f64]) -> f64 {
    if x.is_empty() { f64::NAN } else { x.iter().sum::<f64>() / x.len() as f64 }
}

/// Measures one sweep. `current_pa` is the whole sweep; `stim` the stimulus
/// sample; `holding_mv` decides the polarity under [`Polarity::Auto`].
///
/// # Errors
/// [`EpscError::Window`] when the stimulus leaves no room for the baseline or
/// the peak window inside the sweep.
pub fn measure_sweep(
    current_pa: &[f64],
    fs_hz: f64,
    stim: usize,
    test_pulse: Option<&TestPulse>,
    holding_mv: Option<f64>,
    p: &SweepParams,
) -> Result<SweepResult, EpscError> {
    let ms = |v: f64| (v * 1e-3 * fs_hz).round() as isize;
    let idx = |off_ms: f64| -> isize { stim as isize + ms(off_ms) };
    let n = current_pa.len() as isize;
    let (b0, b1) = (idx(p.baseline_ms.0), idx(p.baseline_ms.1));
    if b0 < 0 || b1 <= b0 || b1 > n {
        return Err(EpscError::Window(format!(
            "baseline window {:?} ms around the stimulus at {:.1} ms is outside the sweep",
            p.baseline_ms,
            stim as f64 / fs_hz * 1e3
        )));
    }
    let (w0, w1) = (idx(p.blank_ms.max(p.peak_window_ms.0)), idx(p.peak_window_ms.1).min(n));
    if w1 <= w0 + 2 {
        return Err(EpscError::Window("the peak window after the stimulus is outside the sweep".into()));
    }
    let baseline = mean(&current_pa[b0 as usize..b1 as usize]);
    // A test pulse from a command series longer than the response is clipped to the sweep.
    let holding = test_pulse.map_or(baseline, |tp| mean(&current_pa[..tp.start.clamp(1, current_pa.len())]));
    let rel: Vec<f64> = current_pa.iter().map(|v| v - baseline).collect();
    let win = &rel[w0 as usize..w1 as usize];
    let sign = match p.polarity {
        Polarity::Outward => 1.0,
        Polarity::Inward => -1.0,
        Polarity::Auto => match holding_mv {
            Some(h) if h > 0.0 => 1.0,
            Some(h) if h < 0.0 => -1.0,
            _ => {
                let mx = win.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mn = win.iter().copied().fold(f64::INFINITY, f64::min);
                if mx >= -mn { 1.0 } else { -1.0 }
            }
        },
    };
    let (k_peak, _) = win
        .iter()
        .enumerate()
        .max_by(|a, b| (sign * a.1).total_cmp(&(sign * b.1)))
        .ok_or_else(|| EpscError::Window("empty peak window".into()))?;
    let peak_idx = w0 as usize + k_peak;
    let half = (p.peak_average_ms * 1e-3 * fs_hz / 2.0).round() as usize;
    let lo = peak_idx.saturating_sub(half).max(w0 as usize);
    let hi = (peak_idx + half + 1).min(w1 as usize);
    let amplitude = mean(&rel[lo..hi]);
    let lat = idx(p.latency_ms);
    let lat_half = ((p.latency_average_ms * 1e-3 * fs_hz / 2.0).round()) as isize;
    let amplitude_at_latency = if lat - lat_half >= 0 && lat + lat_half < n {
        mean(&rel[(lat - lat_half) as usize..=(lat + lat_half) as usize])
    } else {
        f64::NAN
    };
    // 10–90 % rise: walking back from the peak to the last sample below each
    // level, so an artifact before the rise (far below any level) cannot confuse it
    let a = sign * rel[peak_idx];
    let cross = |frac: f64| -> f64 {
        let level = frac * a;
        let mut k = peak_idx;
        while k > stim + 1 {
            let (y0, y1) = (sign * rel[k - 1], sign * rel[k]);
            if y0 < level && y1 >= level {
                return (k - 1) as f64 + (level - y0) / (y1 - y0);
            }
            k -= 1;
        }
        f64::NAN
    };
    let rise_ms = (cross(p.rise_fractions.1) - cross(p.rise_fractions.0)) / fs_hz * 1e3;
    // decay fits from the peak
    let d1 = (peak_idx as isize + ms(p.decay_window_ms)).min(n) as usize;
    // fitted on 1-ms bin means (decays of ≥ 10 ms lose < 0.1 % to the binning;
    // 10× fewer points, less noise)
    let bin = ((fs_hz / 1000.0).round() as usize).max(1);
    let (t, y): (Vec<f64>, Vec<f64>) = rel[peak_idx..d1]
        .chunks(bin)
        .enumerate()
        .map(|(b, c)| {
            let k0 = (b * bin) as f64;
            let tc = (k0 + (c.len() as f64 - 1.0) / 2.0) / fs_hz * 1e3;
            (tc, sign * c.iter().sum::<f64>() / c.len() as f64)
        })
        .unzip();
    let (mono, bi) = if t.len() >= 8 {
        let one = fit_exp1(&t, &y);
        let two = fit_exp2_from(&t, &y, &one);
        (one, two)
    } else {
        (failed(), failed())
    };
    let bi_ok = bi.converged && bi.amplitudes.iter().all(|a| *a > 0.0) && bi.taus[1] > bi.taus[0] * 1.05;
    let (c0, c1) = (
        idx(p.blank_ms.max(p.charge_window_ms.0)).clamp(0, n) as usize,
        idx(p.charge_window_ms.1).clamp(0, n) as usize,
    );
    let charge_pc = if c1 > c0 { rel[c0..c1].iter().sum::<f64>() / fs_hz } else { f64::NAN };
    let mt = test_pulse.map(|tp| membrane_test(current_pa, fs_hz, tp));
    let mt_value = |f: fn(&crate::MembraneTest) -> f64| mt.as_ref().map_or(f64::NAN, f);
    Ok(SweepResult {
        baseline_pa: baseline,
        holding_pa: holding,
        amplitude_pa: amplitude,
        peak_ms: (peak_idx - stim) as f64 / fs_hz * 1e3,
        amplitude_at_latency_pa: amplitude_at_latency,
        rise_ms,
        tau_mono_ms: if mono.converged { mono.taus[0] } else { f64::NAN },
        tau_fast_ms: if bi_ok { bi.taus[0] } else { f64::NAN },
        tau_slow_ms: if bi_ok { bi.taus[1] } else { f64::NAN },
        tau_weighted_ms: if bi_ok { weighted_at_onset(&bi, (peak_idx - stim) as f64 / fs_hz * 1e3) } else { f64::NAN },
        r2_mono: mono.r2,
        r2_bi: bi.r2,
        fit_ok: bi_ok,
        charge_pc,
        rs_mohm: mt_value(|m| m.rs_mohm),
        rin_mohm: mt_value(|m| m.rin_mohm),
        rm_mohm: mt_value(|m| m.rm_mohm),
        cm_pf: mt_value(|m| m.cm_pf),
    })
}

/// Amplitude-weighted τ with the components' amplitudes extrapolated from the
/// peak back to the stimulus (`dt_ms` earlier), where the EPSC's components
/// start; weighting by the amplitudes at the peak would over-weight the slow
/// component by how much the fast one has already decayed.
fn weighted_at_onset(f: &ExpFit, dt_ms: f64) -> f64 {
    let a: Vec<f64> = f.amplitudes.iter().zip(&f.taus).map(|(a, t)| a * (dt_ms / t).exp()).collect();
    a.iter().zip(&f.taus).map(|(a, t)| a * t).sum::<f64>() / a.iter().sum::<f64>()
}

fn failed() -> ExpFit {
    ExpFit {
        amplitudes: vec![f64::NAN],
        taus: vec![f64::NAN],
        sse: f64::NAN,
        r2: f64::NAN,
        iterations: 0,
        converged: false,
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    fn sweep() -> Vec<f64> {
        // 1 s at 10 kHz: flat, an outward EPSC at 200 ms.
        (0..10_000)
            .map(|k| if (2_000..6_000).contains(&k) { 50.0 * (-((k - 2_000) as f64) / 500.0).exp() } else { 0.0 })
            .collect()
    }

    #[test]
    fn a_test_pulse_beyond_the_sweep_gives_values_not_a_panic() {
        let i = sweep();
        let tp = TestPulse { start: 50_000, stop: 60_000, delta_mv: -5.0 };
        let r = measure_sweep(&i, 10_000.0, 1_990, Some(&tp), Some(40.0), &SweepParams::default()).unwrap();
        assert!(r.rs_mohm.is_nan() && r.amplitude_pa > 40.0);
    }

    #[test]
    fn a_command_longer_than_the_response_is_clipped() {
        let i = sweep();
        // The command's test pulse starts inside the response and ends past it.
        let tp = TestPulse { start: 9_000, stop: 20_000, delta_mv: -5.0 };
        let r = measure_sweep(&i, 10_000.0, 1_990, Some(&tp), Some(40.0), &SweepParams::default()).unwrap();
        assert!(r.holding_pa.is_finite());
    }

    #[test]
    fn a_negative_charge_window_is_refused_and_never_wraps() {
        let p = SweepParams { charge_window_ms: (-5.0, -1.0), ..SweepParams::default() };
        assert!(p.validate().is_err());
        // Even unvalidated, the window is clipped to the sweep instead of wrapping.
        let r = measure_sweep(&sweep(), 10_000.0, 1_990, None, Some(40.0), &p).unwrap();
        assert!(r.charge_pc.is_nan());
    }
}
