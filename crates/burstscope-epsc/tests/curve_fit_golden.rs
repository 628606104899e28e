//! Decay fits equal scipy.optimize.curve_fit's least-squares solutions
//! (golden values in `tests/golden/fit_golden.json`, made by `make_fit_golden.py`):
//! parameters within 1e-4 relative (curve_fit stops at a relative cost change
//! of 1.5e-8, where flat minima leave ~1e-5 in the parameters) and a residual
//! no larger than curve_fit's.

use burstscope_epsc::{fit_exp1, fit_exp2};
use serde_json::Value;

fn sse(t: &[f64], y: &[f64], p: &[f64]) -> f64 {
    t.iter()
        .zip(y)
        .map(|(t, y)| {
            let m: f64 = p.chunks(2).map(|c| c[0] * (-t / c[1]).exp()).sum();
            (y - m).powi(2)
        })
        .sum()
}

#[test]
fn fits_equal_curve_fit() {
    let g: Value = serde_json::from_str(include_str!("golden/fit_golden.json")).expect("json");
    for case in g.as_array().expect("cases") {
        let tr: Vec<f64> = case["true"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let t: Vec<f64> = (0..5500).map(|k| f64::from(k) * 0.1).collect();
        let y: Vec<f64> = (0..5500)
            .map(|k| {
                let tk = f64::from(k) * 0.1;
                tr[0] * (-tk / tr[1]).exp() + tr[2] * (-tk / tr[3]).exp() + 3.0 * (1.3 * f64::from(k)).sin()
            })
            .collect();
        let want2: Vec<f64> = case["exp2"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let f2 = fit_exp2(&t, &y);
        let got2 = [f2.amplitudes[0], f2.taus[0], f2.amplitudes[1], f2.taus[1]];
        for (a, b) in got2.iter().zip(&want2) {
            assert!((a - b).abs() <= 1e-4 * b.abs(), "exp2 {got2:?} vs curve_fit {want2:?}");
        }
        assert!(f2.sse <= sse(&t, &y, &want2) * (1.0 + 1e-9), "exp2 residual above curve_fit's");
        let want1: Vec<f64> = case["exp1"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let f1 = fit_exp1(&t, &y);
        assert!((f1.amplitudes[0] - want1[0]).abs() <= 1e-4 * want1[0].abs(), "exp1 {f1:?} vs {want1:?}");
        assert!((f1.taus[0] - want1[1]).abs() <= 1e-4 * want1[1].abs(), "exp1 {f1:?} vs {want1:?}");
        assert!(f1.sse <= sse(&t, &y, &want1) * (1.0 + 1e-9), "exp1 residual above curve_fit's");
    }
}
