//! One cell: normalisation to baseline, % block, use-dependence and QC.

use crate::{CellParams, SweepResult, UseDependence, fit_use_dependence};
use serde::{Deserialize, Serialize};

/// A measured sweep with its place in the experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSweep {
    /// `sweep_number` (or position).
    pub sweep: u64,
    /// Start on the session clock (s).
    pub time_s: f64,
    /// Condition as written (`stimulus_description` or epoch tag).
    pub condition: String,
    /// Measures; `None` when the sweep could not be measured (e.g. no stimulus).
    pub result: Option<SweepResult>,
}

/// What a cell's sweeps say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    /// Mean peak amplitude of the baseline sweeps (pA, signed).
    pub baseline_amplitude_pa: f64,
    /// Per sweep: amplitude / baseline mean (NaN when unmeasured).
    pub normalized: Vec<f64>,
    /// Per sweep: stimulus number in the drug (0 in baseline).
    pub stimulus: Vec<u32>,
    /// Per sweep: time since the first drug sweep's condition began (s; negative in baseline).
    pub time_since_drug_s: Vec<f64>,
    /// Mean normalised amplitude over the block window, in percent of baseline.
    pub pct_of_baseline: f64,
    /// 100 − `pct_of_baseline`.
    pub block_pct: f64,
    /// Normalised amplitude against stimulus number in the drug, fitted with
    /// a geometric approach to a plateau; `None` with fewer than 4 measured
    /// drug sweeps.
    pub use_dependence: Option<UseDependence>,
    /// Sweeps averaged for the block.
    pub n_block_sweeps: usize,
    /// Baseline and drug sweeps.
    pub n_baseline: usize,
    /// Drug sweeps.
    pub n_drug: usize,
    /// Mean access resistance over the first and the last 3 measured sweeps (MΩ).
    pub rs_first_mohm: f64,
    /// See `rs_first_mohm`.
    pub rs_last_mohm: f64,
    /// Whether every QC check passed.
    pub qc_pass: bool,
    /// Failed checks, each with its measured value and threshold.
    pub qc_reasons: Vec<String>,
}

fn mean(x: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = x.filter(|v| v.is_finite()).collect();
    if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
}

fn rel_change(a: f64, b: f64) -> f64 {
    (b - a).abs() / a.abs()
}

/// Summarises a cell's sweeps (in time order). See [`CellParams`] for the QC thresholds.
#[must_use]
pub fn summarize_cell(sweeps: &[CellSweep], p: &CellParams) -> CellSummary {
    let is_base = |s: &CellSweep| p.is_baseline(&s.condition);
    let amp = |s: &CellSweep| s.result.as_ref().map_or(f64::NAN, |r| r.amplitude_pa);
    let base: Vec<&CellSweep> = sweeps.iter().filter(|s| is_base(s)).collect();
    let drug: Vec<&CellSweep> = sweeps.iter().filter(|s| !is_base(s)).collect();
    let baseline_amplitude = mean(base.iter().map(|s| amp(s)));
    let normalized: Vec<f64> = sweeps.iter().map(|s| amp(s) / baseline_amplitude).collect();
    let mut k = 0u32;
    let stimulus: Vec<u32> = sweeps
        .iter()
        .map(|s| {
            if is_base(s) {
                0
            } else {
                k += 1;
                k
            }
        })
        .collect();
    let drug_t0 = drug.first().map_or(f64::NAN, |s| s.time_s);
    let time_since_drug_s: Vec<f64> = sweeps.iter().map(|s| s.time_s - drug_t0).collect();
    // block window: the last N drug sweeps, or the drug sweeps in the last M minutes
    let drug_idx: Vec<usize> = (0..sweeps.len()).filter(|&i| !is_base(&sweeps[i])).collect();
    let chosen: Vec<usize> = match p.last_minutes {
        Some(m) => {
            let end = drug_idx.last().map_or(f64::NAN, |&i| sweeps[i].time_s);
            drug_idx.iter().copied().filter(|&i| sweeps[i].time_s > end - m * 60.0).collect()
        }
        None => drug_idx.iter().rev().take(p.last_sweeps).copied().collect(),
    };
    let pct = 100.0 * mean(chosen.iter().map(|&i| normalized[i]));
    let use_dependence = fit_use_dependence(
        &drug_idx.iter().map(|&i| f64::from(stimulus[i])).collect::<Vec<_>>(),
        &drug_idx.iter().map(|&i| normalized[i]).collect::<Vec<_>>(),
    );
    let mut reasons = Vec::new();
    if base.is_empty() {
        reasons.push(format!("no baseline sweeps (condition '{}')", p.baseline_condition));
    }
    if drug.is_empty() {
        reasons.push("no drug sweeps".into());
    }
    // access resistance
    let rs: Vec<f64> =
        sweeps.iter().filter_map(|s| s.result.as_ref()).map(|r| r.rs_mohm).filter(|v| v.is_finite()).collect();
    let (rs_first, rs_last) = if rs.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        let k = rs.len().min(3);
        (mean(rs[..k].iter().copied()), mean(rs[rs.len() - k..].iter().copied()))
    };
    if let Some(max) = rs.iter().copied().reduce(f64::max)
        && max > p.rs_max_mohm
    {
        reasons.push(format!("access resistance up to {max:.1} MΩ (limit {} MΩ)", p.rs_max_mohm));
    }
    if rs_first.is_finite() && rel_change(rs_first, rs_last) > p.rs_max_change {
        reasons.push(format!(
            "access resistance changed {:.0} % ({rs_first:.1} → {rs_last:.1} MΩ; limit {:.0} %)",
            100.0 * rel_change(rs_first, rs_last),
            100.0 * p.rs_max_change
        ));
    }
    if rs.is_empty() {
        reasons.push("no test pulse to measure access resistance".into());
    }
    // holding current drift
    let hold: Vec<f64> = sweeps.iter().filter_map(|s| s.result.as_ref()).map(|r| r.holding_pa).collect();
    if hold.len() >= 2 {
        let k = hold.len().min(3);
        let (a, b) = (mean(hold[..k].iter().copied()), mean(hold[hold.len() - k..].iter().copied()));
        if rel_change(a, b) > p.holding_max_drift && (b - a).abs() > p.holding_min_drift_pa {
            reasons.push(format!(
                "holding current drifted {:.0} % ({a:.0} → {b:.0} pA; limit {:.0} %)",
                100.0 * rel_change(a, b),
                100.0 * p.holding_max_drift
            ));
        }
    }
    // baseline stability: first vs last third of the baseline sweeps
    if base.len() >= 6 {
        let third = base.len() / 3;
        let a = mean(base[..third].iter().map(|s| amp(s)));
        let b = mean(base[base.len() - third..].iter().map(|s| amp(s)));
        if rel_change(a, b) > p.baseline_max_drift {
            reasons.push(format!(
                "baseline amplitude drifted {:.0} % (limit {:.0} %)",
                100.0 * rel_change(a, b),
                100.0 * p.baseline_max_drift
            ));
        }
    }
    let unmeasured = sweeps.iter().filter(|s| s.result.is_none()).count();
    if unmeasured > 0 {
        reasons.push(format!("{unmeasured} sweep(s) without a measurable stimulus response"));
    }
    let failed = sweeps.iter().filter(|s| s.result.as_ref().is_some_and(|r| !r.fit_ok)).count();
    let measured = sweeps.len() - unmeasured;
    if measured > 0 && failed as f64 / measured as f64 > p.max_failed_fit_fraction {
        reasons.push(format!("decay fit failed in {failed} of {measured} sweeps"));
    }
    CellSummary {
        baseline_amplitude_pa: baseline_amplitude,
        normalized,
        stimulus,
        time_since_drug_s,
        pct_of_baseline: pct,
        block_pct: 100.0 - pct,
        use_dependence,
        n_block_sweeps: chosen.len(),
        n_baseline: base.len(),
        n_drug: drug.len(),
        rs_first_mohm: rs_first,
        rs_last_mohm: rs_last,
        qc_pass: reasons.is_empty(),
        qc_reasons: reasons,
    }
}
