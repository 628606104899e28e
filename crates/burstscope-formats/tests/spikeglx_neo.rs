//! SpikeGLX streams written from SpikeGLX's metadata description
//! (`tests/fixtures/spikeglx/`, by `tests/golden/make_spikeglx_golden.py`)
//! read by [`SpikeGlx`] and by neo's `SpikeGLXRawIO`
//! (`tests/golden/spikeglx_golden.json`): rate, channel names, each
//! channel's gain (a Neuropixels 1.0 channel at gain 250 among 500s; the
//! NI-DAQ's MN, MA, XA and digital channels), start time from
//! `firstSample`, and every scaled sample (first row and per-channel sums).

use burstscope_core::{BlockQuality, BlockSource};
use burstscope_formats::spikeglx::SpikeGlx;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn all(s: &SpikeGlx) -> Vec<f32> {
    let (n, c) = (s.n_samples(), s.n_channels());
    let mut out = vec![0.0f32; n * c];
    let cols: Vec<usize> = (0..c).collect();
    s.read(0, n, 1.0, &cols, c, &mut out, 0..n, &mut BlockQuality::default()).unwrap();
    out
}

#[test]
fn spikeglx_streams_equal_neo() {
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("tests/golden/spikeglx_golden.json")).unwrap()).unwrap();
    let dir = root().join("tests/fixtures/spikeglx");
    // imec AP: neo splits the sync channel into its own stream
    let ap = SpikeGlx::open(&dir.join("run_g0_t0.imec0.ap.bin")).unwrap();
    let (want, sync) = (&g["streams"]["imec0.ap"], &g["streams"]["imec0.ap-SYNC"]);
    assert_eq!((ap.device.as_str(), ap.stream.as_str()), ("imec", "ap"));
    assert_eq!(ap.n_neural, 6);
    assert_eq!(ap.rate_hz(), want["rate_hz"].as_f64().unwrap());
    assert_eq!(ap.n_samples() as u64, want["n_samples"].as_u64().unwrap());
    assert!((ap.start_s() - want["t_start_s"].as_f64().unwrap()).abs() < 1e-12);
    let names: Vec<String> = want["names"]
        .as_array()
        .unwrap()
        .iter()
        .chain(sync["names"].as_array().unwrap())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ap.channel_names, names);
    let gains: Vec<f64> = want["gains"]
        .as_array()
        .unwrap()
        .iter()
        .chain(sync["gains"].as_array().unwrap())
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(ap.uv_per_bit, gains);
    assert_eq!(ap.shanks, Some(vec![0, 0, 0, 0, 1, 1]));
    let v = all(&ap);
    let sums: Vec<f64> = want["sums"]
        .as_array()
        .unwrap()
        .iter()
        .chain(sync["sums"].as_array().unwrap())
        .map(|v| v.as_f64().unwrap())
        .collect();
    let first: Vec<f64> = want["first_row"]
        .as_array()
        .unwrap()
        .iter()
        .chain(sync["first_row"].as_array().unwrap())
        .map(|v| v.as_f64().unwrap())
        .collect();
    let nch = ap.n_channels();
    for c in 0..nch {
        assert_eq!(f64::from(v[c]), first[c], "channel {c} first sample");
        let s: f64 = (0..ap.n_samples()).map(|t| f64::from(v[t * nch + c])).sum();
        assert!((s - sums[c]).abs() <= 1e-6 * sums[c].abs().max(1.0), "channel {c}: sum {s} against {}", sums[c]);
    }

    // NI-DAQ: neo reads volts
    let ni = SpikeGlx::open(&dir.join("run_g0_t0.nidq.meta")).unwrap();
    let want = &g["streams"]["nidq"];
    assert_eq!(ni.device, "nidq");
    assert_eq!(ni.n_neural, 3, "the MN and MA inputs");
    assert_eq!(ni.rate_hz(), want["rate_hz"].as_f64().unwrap());
    let names: Vec<&str> = want["names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(ni.channel_names, names);
    for (ours, theirs) in ni.uv_per_bit.iter().zip(want["gains"].as_array().unwrap()) {
        assert!((ours - theirs.as_f64().unwrap() * 1e6).abs() < 1e-9 * ours, "{ours} µV against {theirs} V");
    }
    let v = all(&ni);
    let nch = ni.n_channels();
    for (c, s) in want["sums"].as_array().unwrap().iter().enumerate() {
        let ours: f64 = (0..ni.n_samples()).map(|t| f64::from(v[t * nch + c])).sum::<f64>() * 1e-6;
        let s = s.as_f64().unwrap();
        assert!((ours - s).abs() <= 1e-6 * s.abs().max(1e-3), "nidq channel {c}: {ours} V against {s}");
    }
}

#[test]
fn a_meta_missing_a_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("tests/fixtures/spikeglx");
    std::fs::copy(src.join("run_g0_t0.imec0.ap.bin"), dir.path().join("x.imec0.ap.bin")).unwrap();
    let meta = std::fs::read_to_string(src.join("run_g0_t0.imec0.ap.meta")).unwrap();
    let cut: String = meta.lines().filter(|l| !l.starts_with("imAiRangeMax")).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("x.imec0.ap.meta"), cut).unwrap();
    let e = SpikeGlx::open(&dir.path().join("x.imec0.ap.bin")).unwrap_err().to_string();
    assert!(e.contains("x.imec0.ap.meta") && e.contains("imAiRangeMax") && e.contains("missing"), "{e}");
    std::fs::remove_file(dir.path().join("x.imec0.ap.meta")).unwrap();
    let e = SpikeGlx::open(&dir.path().join("x.imec0.ap.bin")).unwrap_err().to_string();
    assert!(e.contains("x.imec0.ap.meta"), "{e}");
}
