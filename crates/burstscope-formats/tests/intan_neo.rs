//! Intan RHD2000 files written from Intan's description of the format
//! (`tests/fixtures/intan/`: versions 1.3 and 3.0, by
//! `tests/golden/make_intan_golden.py`) read by [`Rhd`] and by neo's
//! `IntanRawIO` (`tests/golden/intan_golden.json`): rate, amplifier
//! channel names (a disabled channel left out), sample count and every
//! amplifier sample in µV (first rows, sums). No real Intan recording is
//! available here.

use burstscope_core::{BlockQuality, BlockSource};
use burstscope_formats::intan::Rhd;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn rhd_files_equal_neo() {
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("tests/golden/intan_golden.json")).unwrap()).unwrap();
    for (name, want) in g["files"].as_object().unwrap() {
        let r = Rhd::open(&root().join("tests/fixtures/intan").join(name)).unwrap();
        assert!(r.warnings.is_empty(), "{name}: {:?}", r.warnings);
        assert_eq!(r.rate_hz, want["rate_hz"].as_f64().unwrap(), "{name}");
        let names: Vec<&str> = r.channels.iter().map(|c| c.custom_name.as_str()).collect();
        let want_names: Vec<&str> = want["names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(names, want_names, "{name}");
        let (n, c) = (r.n_samples(), r.n_channels());
        assert_eq!(n as u64, want["n_samples"].as_u64().unwrap(), "{name}");
        let mut out = vec![0.0f32; n * c];
        let cols: Vec<usize> = (0..c).collect();
        r.read(0, n, 1.0, &cols, c, &mut out, 0..n, &mut BlockQuality::default()).unwrap();
        for (t, row) in want["first"].as_array().unwrap().iter().enumerate() {
            for (j, v) in row.as_array().unwrap().iter().enumerate() {
                let v = v.as_f64().unwrap();
                assert!((f64::from(out[t * c + j]) - v).abs() < 1e-3, "{name} sample {t} channel {j}");
            }
        }
        for (j, s) in want["sums"].as_array().unwrap().iter().enumerate() {
            let ours: f64 = (0..n).map(|t| f64::from(out[t * c + j])).sum();
            let s = s.as_f64().unwrap();
            assert!((ours - s).abs() <= 1e-6 * s.abs().max(1e3), "{name} channel {j}: {ours} against {s}");
        }
        // reads from the middle of a block match the whole read
        let mut part = vec![0.0f32; 100 * c];
        r.read(70, 100, 1.0, &cols, c, &mut part, 0..100, &mut BlockQuality::default()).unwrap();
        assert_eq!(&part[..], &out[70 * c..170 * c]);
    }
    let v13 = Rhd::open(&root().join("tests/fixtures/intan/tetrode_v13.rhd")).unwrap();
    assert_eq!((v13.block_samples, v13.first_timestamp), (60, 1000));
    assert!((v13.start_s() - 0.05).abs() < 1e-12, "the board's clock: 1000 samples at 20 kHz");
}

#[test]
fn a_cut_or_foreign_rhd_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read(root().join("tests/fixtures/intan/tetrode_v30.rhd")).unwrap();
    let p = dir.path().join("x.rhd");
    for cut in [2usize, 10, 40, 100, 300] {
        std::fs::write(&p, &src[..cut]).unwrap();
        let e = Rhd::open(&p).unwrap_err().to_string();
        assert!(e.contains("x.rhd") && (e.contains("truncated") || e.contains("magic")), "{cut}: {e}");
    }
    std::fs::write(&p, b"NEURALEV....").unwrap();
    assert!(Rhd::open(&p).unwrap_err().to_string().contains("magic number"));
}
