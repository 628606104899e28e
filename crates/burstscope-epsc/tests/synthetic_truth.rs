//! Measures against the generator's truth: amplitude, weighted τ, access
//! resistance; % block LHb vs CA1; drifting access flagged.

use burstscope_epsc::{
    CellParams, CellSweep, SweepParams, command_levels, find_stimulus, measure_sweep, summarize_cell,
};
use burstscope_synth::{SliceCell, SliceParams};

fn measure(cell: &SliceCell) -> Vec<CellSweep> {
    let fs = cell.params.rate_hz;
    cell.sweeps
        .iter()
        .map(|s| {
            let i: Vec<f64> = s.response_a.iter().map(|&v| f64::from(v) * 1e12).collect();
            let v: Vec<f64> = s.command_v.iter().map(|&v| f64::from(v) * 1e3).collect();
            let (hold, tp) = command_levels(&v, fs);
            let stim = find_stimulus(&i, fs, tp.as_ref()).expect("stimulus");
            let r = measure_sweep(&i, fs, stim, tp.as_ref(), Some(hold), &SweepParams::default()).expect("measure");
            CellSweep {
                sweep: u64::from(s.truth.sweep),
                time_s: s.truth.start_s,
                condition: s.truth.condition.clone(),
                result: Some(r),
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn generated_cells_match_truth() {
    for region in ["LHb", "CA1"] {
        let cell = SliceCell::new(SliceParams { region: region.into(), ..SliceParams::default() }).unwrap();
        let m = measure(&cell);
        let amp_err = median(
            m.iter()
                .zip(&cell.sweeps)
                .map(|(s, t)| {
                    (s.result.as_ref().unwrap().amplitude_pa - t.truth.amplitude_pa).abs() / t.truth.amplitude_pa
                })
                .collect(),
        );
        let rs_err = median(
            m.iter()
                .zip(&cell.sweeps)
                .map(|(s, t)| (s.result.as_ref().unwrap().rs_mohm - t.truth.rs_mohm).abs() / t.truth.rs_mohm)
                .collect(),
        );
        let tau_w = median(m[..20].iter().map(|s| s.result.as_ref().unwrap().tau_weighted_ms).collect());
        let tau_err = (tau_w - cell.tau_weighted_s * 1e3).abs() / (cell.tau_weighted_s * 1e3);
        eprintln!(
            "{region}: amplitude error {amp_err:.4}, access error {rs_err:.4}, weighted tau {tau_w:.1} ms (error {tau_err:.3})"
        );
        assert!(amp_err < 0.03, "{region} amplitude {amp_err}");
        assert!(rs_err < 0.10, "{region} access {rs_err}");
        assert!(tau_err < 0.10, "{region} tau {tau_err}");
        let s = summarize_cell(&m, &CellParams::default());
        assert!(s.qc_pass, "{region}: {:?}", s.qc_reasons);
        let truth_block = 100.0
            * (1.0
                - cell.sweeps[cell.sweeps.len() - 10..].iter().map(|s| s.truth.unblocked_fraction).sum::<f64>() / 10.0);
        eprintln!("{region}: block {:.1} % (truth ≈ {truth_block:.1} %)", s.block_pct);
        assert!((s.block_pct - truth_block).abs() < 5.0);
    }
}

#[test]
fn drifting_access_is_flagged() {
    let cell = SliceCell::new(SliceParams { rs_drift: 0.6, ..SliceParams::default() }).unwrap();
    let s = summarize_cell(&measure(&cell), &CellParams::default());
    assert!(!s.qc_pass);
    assert!(s.qc_reasons.iter().any(|r| r.contains("access resistance changed")), "{:?}", s.qc_reasons);
}

#[test]
fn use_dependent_block_rate_matches_truth() {
    // block per stimulus and plateau against the generator's model, over seeds:
    // y(n) = (1 − max) + max · (1 − rate)^n
    let mut lhb_initial = Vec::new();
    let mut ca1_initial = Vec::new();
    for seed in 1..=16 {
        for region in ["LHb", "CA1"] {
            let p = SliceParams { region: region.into(), seed, ..SliceParams::default() };
            let (rate, max) = (p.block_rate(), p.block_max());
            let initial_truth = max * (1.0 - rate) * rate;
            let cell = SliceCell::new(p).unwrap();
            let s = summarize_cell(&measure(&cell), &CellParams::default());
            let u = s.use_dependence.expect("fit");
            eprintln!(
                "{region} seed {seed}: block/stimulus {:.4} (truth {rate}), plateau {:.3} (truth {:.3}), \
                 initial decline {:.4} (truth {initial_truth:.4}), tau CI {:?}, r2 {:.3}, determined {}",
                u.block_per_stimulus,
                u.plateau,
                1.0 - max,
                u.initial_decline,
                u.tau_ci_stimuli,
                u.r2,
                u.determined
            );
            if region == "LHb" {
                assert!(u.determined, "{u:?}");
                assert!((u.block_per_stimulus - rate).abs() < 0.15 * rate, "LHb rate {u:?}");
                assert!((u.plateau - (1.0 - max)).abs() < 0.05, "LHb plateau {u:?}");
                assert!((u.initial_decline - initial_truth).abs() < 0.2 * initial_truth, "LHb initial {u:?}");
                lhb_initial.push(u.initial_decline);
            } else {
                // ~15 % lost over 40 stimuli, nearly straight: the plateau is not determined
                assert!(!u.determined, "{u:?}");
                // the initial slope of a noisy, nearly straight decline: right within a factor of 3
                assert!(u.initial_decline > 0.0 && u.initial_decline < 3.0 * initial_truth, "CA1 initial {u:?}");
                ca1_initial.push(u.initial_decline);
            }
        }
    }
    let max_ca1 = ca1_initial.iter().copied().fold(0.0, f64::max);
    let min_lhb = lhb_initial.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(max_ca1 < 0.5 * min_lhb, "CA1 {ca1_initial:?} vs LHb {lhb_initial:?}");
}
