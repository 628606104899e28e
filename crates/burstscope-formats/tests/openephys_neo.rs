//! The Open Ephys legacy reader against neo's `OpenEphysRawIO` on the real
//! recording (2 record nodes × 16 channels, 40 kHz;
//! `tests/golden/openephys_golden.json`, made by
//! `tests/golden/make_openephys_golden.py`): channel names, rate, gain,
//! start time, sample count, first and last values and sums per channel.

use burstscope_core::{BlockQuality, BlockSource};
use burstscope_formats::openephys::LegacyRecording;
use std::path::{Path, PathBuf};

fn dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real/extracellular/openephys_legacy_v0.6.7");
    if d.is_dir() {
        return Some(d);
    }
    assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
    eprintln!("../shared/real/extracellular absent: skipped");
    None
}

#[test]
fn legacy_record_nodes_equal_neo() {
    let Some(d) = dir() else { return };
    let golden: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/openephys_golden.json")).unwrap(),
    )
    .unwrap();
    let nodes = golden["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), 2);
    for (node, want) in nodes {
        let r = LegacyRecording::open(&d.join(node)).unwrap();
        let names: Vec<&str> = r.channels.iter().map(|c| c.channel.as_str()).collect();
        let want_names: Vec<&str> = want["names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(names, want_names, "{node}");
        assert_eq!(r.rate_hz, want["rate_hz"].as_f64().unwrap());
        assert_eq!(r.n_samples as u64, want["n_samples"].as_u64().unwrap());
        assert!((r.start_s - want["t_start_s"].as_f64().unwrap()).abs() < 1e-9, "{node}: {}", r.start_s);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let n = r.n_samples;
        for (c, ch) in r.channels.iter().enumerate() {
            assert_eq!(ch.bit_volts, want["gain_uv"][c].as_f64().unwrap());
            let v = ch.read_values(0, n).unwrap();
            for k in 0..3 {
                assert_eq!(i64::from(v[k]), want["head"][k][c].as_i64().unwrap(), "{node} {c} head");
                assert_eq!(i64::from(v[n - 3 + k]), want["tail"][k][c].as_i64().unwrap(), "{node} {c} tail");
            }
            let sum: i64 = v.iter().map(|&x| i64::from(x)).sum();
            assert_eq!(sum, want["sum"][c].as_i64().unwrap(), "{node} channel {c}");
        }
        // the block interface, in µV
        let mut out = vec![0.0f32; 2048 * 2];
        let mut q = BlockQuality::default();
        r.read(1000, 2048, 1.0, &[0, 15], 2, &mut out, 0..2048, &mut q).unwrap();
        let v0 = r.channels[0].read_values(1000, 2048).unwrap();
        let v15 = r.channels[15].read_values(1000, 2048).unwrap();
        #[allow(clippy::cast_possible_truncation)]
        let g = r.channels[0].bit_volts as f32;
        for t in 0..2048 {
            assert_eq!(out[2 * t], f32::from(v0[t]) * g);
            assert_eq!(out[2 * t + 1], f32::from(v15[t]) * g);
        }
    }
}

/// Both record nodes' TTL events (`100_example-data.events`) equal the
/// Open Ephys GUI makers' reader, open-ephys-python-tools 1.0.1
/// (`tests/golden/openephys_events_golden.json`, by
/// `tests/golden/make_openephys_events_golden.py`): every event's line,
/// state and sample number, in order (neo does not read these events).
#[test]
fn legacy_ttl_events_equal_open_ephys_python_tools() {
    let Some(d) = dir() else { return };
    let g: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/openephys_events_golden.json"))
            .unwrap(),
    )
    .unwrap();
    for (node, want) in g["nodes"].as_object().unwrap() {
        let ev = burstscope_formats::openephys::legacy_ttl_events(&d.join(node), 40_000.0).unwrap();
        let want = want.as_array().unwrap();
        assert_eq!(ev.len(), want.len(), "{node}");
        for (e, w) in ev.iter().zip(want) {
            assert_eq!(u64::from(e.line), w["line"].as_u64().unwrap(), "{node}");
            assert_eq!(u64::from(e.rising), w["state"].as_u64().unwrap(), "{node}");
            assert_eq!(e.sample, w["sample"].as_i64().unwrap(), "{node}");
        }
    }
}
