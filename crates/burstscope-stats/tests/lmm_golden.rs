//! REML mixed models equal statsmodels' `MixedLM` (0.14.5) on seeded
//! datasets; golden values by `tests/golden/make_lmm_golden.py`.

use burstscope_stats::lmm::{MixedData, mixed_lm_reml};

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!((got - want).abs() <= rel * want.abs().max(1e-12), "{what}: {got} vs statsmodels {want}");
}

#[test]
fn mixed_models_equal_statsmodels() {
    let g: serde_json::Value = serde_json::from_str(include_str!("golden/lmm_golden.json")).unwrap();
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let fs = |v: &serde_json::Value| v.as_array().unwrap().iter().map(f).collect::<Vec<f64>>();
    let us =
        |v: &serde_json::Value| v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect::<Vec<_>>();
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let y = fs(&c["y"]);
        let subject = us(&c["subject"]);
        let session = (!c["session"].is_null()).then(|| us(&c["session"]));
        let (x, p) = if c["x"].is_null() {
            (vec![1.0; y.len()], 1)
        } else {
            (fs(&c["x"]).iter().flat_map(|&v| [1.0, v]).collect(), 2)
        };
        let fit = mixed_lm_reml(&MixedData { y: &y, x: &x, p, subject: &subject, session: session.as_deref() })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let tol = 1e-4;
        for j in 0..p {
            close(fit.fe[j], f(&c["fe"][j]), tol, &format!("{name} estimate {j}"));
            close(fit.se[j], f(&c["se"][j]), tol, &format!("{name} SE {j}"));
            close(fit.z[j], f(&c["z"][j]), tol, &format!("{name} z {j}"));
            close(fit.p_values[j], f(&c["p"][j]), tol, &format!("{name} p {j}"));
        }
        close(fit.scale, f(&c["scale"]), tol, &format!("{name} scale"));
        close(fit.subject_var, f(&c["subject_var"]), 1e-3, &format!("{name} subject variance"));
        if let Some(v) = fit.session_var {
            close(v, f(&c["session_var"]), 1e-3, &format!("{name} session variance"));
        }
        close(fit.llf, f(&c["llf"]), 1e-6, &format!("{name} llf"));
        assert_eq!(fit.n_obs, y.len());
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let y = [1.0, 2.0, 3.0];
    let x = [1.0; 3];
    assert!(mixed_lm_reml(&MixedData { y: &y, x: &x[..2], p: 1, subject: &[0, 0, 1], session: None }).is_err());
    assert!(mixed_lm_reml(&MixedData { y: &y[..1], x: &x[..1], p: 1, subject: &[0], session: None }).is_err());
    let nan = [1.0, f64::NAN, 3.0];
    assert!(mixed_lm_reml(&MixedData { y: &nan, x: &x, p: 1, subject: &[0, 0, 1], session: None }).is_err());
    // A constant second column duplicates the intercept.
    let xx = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    assert!(mixed_lm_reml(&MixedData { y: &y, x: &xx, p: 2, subject: &[0, 0, 1], session: None }).is_err());
}
