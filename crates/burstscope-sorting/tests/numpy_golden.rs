//! Per-channel PCA features equal numpy.linalg.eigh (LAPACK) on the same
//! snippets; golden values by `tests/golden/make_features_golden.py`.

use burstscope_sorting::{FeatureParams, channel_features};

fn value(s: usize, t: usize, c: usize) -> f64 {
    let (s, t) = (s as f64, t as f64);
    let amp = 50.0 + 30.0 * (0.37 * s).sin();
    let width = 1.0 + 0.3 * (0.11 * s).cos();
    let gain = if c == 0 { 1.0 } else { 0.6 };
    let mut v =
        -amp * gain * (-((t - 8.0) / (2.0 * width)).powi(2)).exp() + 0.4 * amp * (-((t - 14.0) / 4.0).powi(2)).exp();
    v += 3.0 * (12.9898 * s + 78.233 * t + 37.719 * c as f64).sin();
    v
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn pca_scores_peaks_and_energy_equal_numpy() {
    let g: serde_json::Value = serde_json::from_str(include_str!("golden/features_golden.json")).unwrap();
    let (ns, nt, nc) = (150, 24, 2);
    let mut w = Vec::with_capacity(ns * nt * nc);
    for s in 0..ns {
        for t in 0..nt {
            for c in 0..nc {
                #[allow(clippy::cast_possible_truncation)]
                w.push(value(s, t, c) as f32);
            }
        }
    }
    let f = channel_features(&w, ns, nt, nc, &FeatureParams { n_components: 3 }).unwrap();
    let num = |v: &serde_json::Value| v.as_f64().unwrap();
    for c in 0..nc {
        let gc = &g["channels"][c];
        for k in 0..3 {
            let want = num(&gc["explained"][k]);
            assert!(close(f.explained[c][k], want, 1e-9), "ch {c} explained {k}: {} vs {want}", f.explained[c][k]);
            for t in 0..nt {
                let want = num(&gc["components"][k][t]);
                assert!(close(f.components[c][k][t], want, 1e-7), "ch {c} component {k}[{t}]");
            }
            for s in 0..10 {
                let want = num(&gc["scores_first_10"][s][k]);
                let got = f64::from(f.scores[(s * nc + c) * 3 + k]);
                assert!(close(got, want, 1e-5), "ch {c} spike {s} score {k}: {got} vs {want}");
            }
        }
        for s in 0..10 {
            assert!(close(f64::from(f.peak_uv[s * nc + c]), num(&gc["peak_first_10"][s]), 1e-6));
            assert!(close(f64::from(f.energy_uv[s * nc + c]), num(&gc["energy_first_10"][s]), 1e-6));
        }
    }
}
