//! burstscope-dsp against scipy 1.17.1: golden values in
//! `tests/golden/dsp_golden.json`, made by `tests/golden/make_dsp_golden.py`.

use burstscope_dsp::{Band, LANES, Lane, ZeroPhase, butter, sosfiltfilt};
use serde_json::Value;

fn golden() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/dsp_golden.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn butterworth_sos_and_zi_equal_scipy_to_1e9_relative() {
    let g = golden();
    for d in g["designs"].as_array().unwrap() {
        let wn: Vec<f64> = d["wn"].as_array().unwrap().iter().map(f).collect();
        let band = match d["btype"].as_str().unwrap() {
            "bandpass" => Band::Bandpass(wn[0], wn[1]),
            "bandstop" => Band::Bandstop(wn[0], wn[1]),
            "highpass" => Band::Highpass(wn[0]),
            _ => Band::Lowpass(wn[0]),
        };
        let order = usize::try_from(d["order"].as_u64().unwrap()).unwrap();
        let sos = butter(order, band, f(&d["fs"])).unwrap();
        let want = d["sos"].as_array().unwrap();
        assert_eq!(sos.sections.len(), want.len(), "{d}");
        let scale = want.iter().flat_map(|s| s.as_array().unwrap().iter().map(f)).fold(0.0f64, |m, x| m.max(x.abs()));
        for (s, w) in sos.sections.iter().zip(want) {
            for (a, b) in s.iter().zip(w.as_array().unwrap().iter().map(f)) {
                let tol = 1e-9 * b.abs().max(1e-6 * scale);
                assert!((a - b).abs() <= tol, "{band:?} order {order}: {a} vs {b}");
            }
        }
        for (z, w) in sos.zi().iter().zip(d["zi"].as_array().unwrap()) {
            for (a, b) in z.iter().zip(w.as_array().unwrap().iter().map(f)) {
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1e-9), "zi {band:?}: {a} vs {b}");
            }
        }
    }
}

fn synthetic() -> Vec<f64> {
    (0..6000)
        .map(|n| {
            let n = f64::from(n);
            let tau = 2.0 * std::f64::consts::PI;
            100.0 * (tau * 40.0 * n / 30000.0).sin()
                + 30.0 * (tau * 1234.5 * n / 30000.0).sin()
                + 10.0 * (tau * 9000.0 * n / 30000.0 + 0.3).sin()
                + 5.0 * ((n % 17.0) - 8.0)
        })
        .collect()
}

#[test]
fn reference_sosfiltfilt_equals_scipy() {
    let g = golden();
    let sos = butter(5, Band::Bandpass(300.0, 6000.0), 30_000.0).unwrap();
    let y = sosfiltfilt(&sos, &synthetic()).unwrap();
    let want: Vec<f64> = g["synthetic"]["y"].as_array().unwrap().iter().map(f).collect();
    let rms = (want.iter().map(|v| v * v).sum::<f64>() / want.len() as f64).sqrt();
    for (i, w) in want.iter().enumerate() {
        assert!((y[i * 7] - w).abs() <= 1e-9 * rms, "sample {}: {} vs {w}", i * 7, y[i * 7]);
    }
}

#[test]
fn f32_block_filter_with_odd_padding_matches_scipy_in_every_lane() {
    let g = golden();
    let sos = butter(5, Band::Bandpass(300.0, 6000.0), 30_000.0).unwrap();
    let zp = ZeroPhase::new(&sos);
    let x = synthetic();
    let pad = zp.padlen();
    let n = x.len();
    // Odd extension as scipy, every lane a scaled copy (lane l = x·(l+1)).
    let ext: Vec<f64> = (1..=pad)
        .rev()
        .map(|i| 2.0 * x[0] - x[i])
        .chain(x.iter().copied())
        .chain((1..=pad).map(|i| 2.0 * x[n - 1] - x[n - 1 - i]))
        .collect();
    let mut rows: Vec<[Lane; 2]> = ext
        .iter()
        .map(|&v| {
            let mut r = [[0f32; LANES]; 2];
            for g in 0..2 {
                for l in 0..LANES {
                    #[allow(clippy::cast_possible_truncation)]
                    {
                        r[g][l] = (v * (g * LANES + l + 1) as f64) as f32;
                    }
                }
            }
            r
        })
        .collect();
    zp.filtfilt::<2>(&mut rows);
    let want: Vec<f64> = g["synthetic"]["y"].as_array().unwrap().iter().map(f).collect();
    let rms = (want.iter().map(|v| v * v).sum::<f64>() / want.len() as f64).sqrt();
    for (i, w) in want.iter().enumerate() {
        for lane in 0..2 * LANES {
            let k = (lane + 1) as f64;
            let got = f64::from(rows[pad + i * 7][lane / LANES][lane % LANES]) / k;
            assert!((got - w).abs() <= 1e-4 * rms, "sample {} lane {lane}: {got} vs {w}", i * 7);
        }
    }
}

#[test]
fn design_rejects_bad_parameters() {
    assert!(butter(0, Band::Lowpass(10.0), 100.0).is_err());
    assert!(butter(4, Band::Bandpass(300.0, 6000.0), 10_000.0).is_err());
    assert!(butter(4, Band::Bandpass(600.0, 300.0), 30_000.0).is_err());
    assert!(butter(4, Band::Highpass(300.0), f64::NAN).is_err());
    let sos = butter(5, Band::Bandpass(300.0, 6000.0), 30_000.0).unwrap();
    assert!(sosfiltfilt(&sos, &[1.0; 20]).is_err());
}

#[test]
fn welch_equals_scipy() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/welch_golden.json");
    let g: Value = serde_json::from_str(&std::fs::read_to_string(p).expect("welch golden")).expect("json");
    for c in g["cases"].as_array().expect("cases") {
        let fs = f(&c["fs"]);
        let n = c["n_samples"].as_u64().expect("n") as usize;
        let nperseg = c["nperseg"].as_u64().expect("nperseg") as usize;
        let x: Vec<f64> = (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                let fi = i as f64;
                (2.0 * std::f64::consts::PI * 7.0 * t).sin()
                    + 0.5 * (2.0 * std::f64::consts::PI * 31.0 * t + 0.3).sin()
                    + 0.2 * (0.37 * fi).cos().powi(2)
                    + 0.01 * fi * 1e-3
            })
            .collect();
        let s = burstscope_dsp::welch(&x, fs, nperseg).expect("welch");
        let want = c["psd"].as_array().expect("psd");
        assert_eq!(s.psd.len(), want.len());
        let peak = want.iter().map(f).fold(0.0, f64::max);
        for (k, (a, b)) in s.psd.iter().zip(want).enumerate() {
            let b = f(b);
            assert!((a - b).abs() <= 1e-9 * b.abs() + 1e-12 * peak, "nperseg {nperseg} bin {k}: {a} vs {b}");
            assert!((s.freqs_hz[k] - f(&c["freqs"][k])).abs() < 1e-12);
        }
    }
}

/// The block filter's kernels (tiled, with the multiplies skipped for the
/// sections whose numerators are [1, ±2, 1] or [1, 0, −1]) compute, value for
/// value, the general transposed direct form II with fused multiply-adds,
/// channel by channel over the whole block: the speed-ups change no bit.
#[test]
fn block_filter_equals_the_general_form_bit_for_bit() {
    #[cfg(target_arch = "x86_64")]
    if !(std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")) {
        eprintln!("skipped: the kernels run without fused multiply-adds here");
        return;
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        eprintln!("skipped: the reference uses fused multiply-adds, as the x86-64 kernels");
        return;
    }
    #[allow(unreachable_code)]
    for (order, band) in
        [(5, Band::Bandpass(300.0, 6000.0)), (4, Band::Bandpass(600.0, 6000.0)), (3, Band::Highpass(300.0))]
    {
        let sos = butter(order, band, 30_000.0).unwrap();
        let zp = ZeroPhase::new(&sos);
        #[allow(clippy::cast_possible_truncation)]
        let coef: Vec<[f32; 5]> =
            sos.sections.iter().map(|s| [s[0] as f32, s[1] as f32, s[2] as f32, s[4] as f32, s[5] as f32]).collect();
        #[allow(clippy::cast_possible_truncation)]
        let zi: Vec<[f32; 2]> = sos.zi().iter().map(|z| [z[0] as f32, z[1] as f32]).collect();
        let pass = |x: &mut Vec<f32>| {
            let first = x[0];
            for (c, z) in coef.iter().zip(&zi) {
                let [b0, b1, b2, a1, a2] = *c;
                let (mut z0, mut z1) = (z[0] * first, z[1] * first);
                for v in x.iter_mut() {
                    let y = b0.mul_add(*v, z0);
                    z0 = (-a1).mul_add(y, b1.mul_add(*v, z1));
                    z1 = (-a2).mul_add(y, b2 * *v);
                    *v = y;
                }
            }
        };
        // 3 and 4 lane vectors: the 8-lane and the 16-lane kernels; a length
        // that is no multiple of any tile
        macro_rules! check {
            ($G:literal) => {{
                let n = 5_003;
                let mut rows = vec![[[0f32; LANES]; $G]; n];
                for (i, r) in rows.iter_mut().enumerate() {
                    for (j, v) in r.as_flattened_mut().iter_mut().enumerate() {
                        #[allow(clippy::cast_precision_loss)]
                        {
                            *v = ((i * 7_919 + j * 104_729) % 2_003) as f32 - 1_001.5 + (j as f32) * 0.25;
                        }
                    }
                }
                let cols: Vec<Vec<f32>> =
                    (0..$G * LANES).map(|j| rows.iter().map(|r| r[j / LANES][j % LANES]).collect()).collect();
                zp.filtfilt::<$G>(&mut rows);
                for (j, col) in cols.into_iter().enumerate() {
                    let mut x = col;
                    pass(&mut x);
                    x.reverse();
                    pass(&mut x);
                    x.reverse();
                    for (i, w) in x.iter().enumerate() {
                        let got = rows[i][j / LANES][j % LANES];
                        assert!(
                            got.to_bits() == w.to_bits(),
                            "order {order}, G {}, channel {j}, row {i}: {got} vs {w}",
                            $G
                        );
                    }
                }
            }};
        }
        check!(3);
        check!(4);
    }
}
