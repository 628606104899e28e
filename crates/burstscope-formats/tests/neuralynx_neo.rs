//! A Neuralynx session written from Neuralynx's documented file layouts
//! (`tests/fixtures/neuralynx/`, by `tests/golden/make_neuralynx_golden.py`)
//! read by [`NcsRecording`], [`Ntt`] and [`NlxEvents`] and by neo's
//! `NeuralynxRawIO` (`tests/golden/neuralynx_golden.json`): channel names,
//! rate, µV per count (an inverted input negative), start, every sample
//! (first values and sums); spikes per cell with their first times; event
//! times and strings. No real Neuralynx recording is available here.

use burstscope_core::{BlockQuality, BlockSource};
use burstscope_formats::neuralynx::{NcsRecording, NlxEvents, Ntt};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn a_neuralynx_session_equals_neo() {
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("tests/golden/neuralynx_golden.json")).unwrap()).unwrap();
    let dir = root().join("tests/fixtures/neuralynx");
    let rec = NcsRecording::open(&dir).unwrap();
    assert_eq!(rec.channels.len(), 4);
    let (n, c) = (rec.n_samples(), rec.n_channels());
    let mut out = vec![0.0f32; n * c];
    let cols: Vec<usize> = (0..c).collect();
    rec.read(0, n, 1.0, &cols, c, &mut out, 0..n, &mut BlockQuality::default()).unwrap();
    for (j, ch) in rec.channels.iter().enumerate() {
        let want = &g["channels"][&ch.name];
        assert!(want.is_object(), "neo has channel {}", ch.name);
        assert_eq!(rec.rate_hz, want["rate_hz"].as_f64().unwrap());
        assert_eq!(n as u64, want["n_samples"].as_u64().unwrap());
        let gain = want["gain_uv"].as_f64().unwrap();
        assert!((ch.uv_per_bit - gain).abs() < 1e-12 * gain.abs(), "{}: {} against {gain}", ch.name, ch.uv_per_bit);
        for (k, v) in want["first"].as_array().unwrap().iter().enumerate() {
            let v = v.as_f64().unwrap();
            assert!((f64::from(out[k * c + j]) - v).abs() <= 1e-5 * v.abs().max(1.0), "{} sample {k}", ch.name);
        }
        let sum: f64 = (0..n).map(|t| f64::from(out[t * c + j])).sum();
        let ws = want["sum"].as_f64().unwrap();
        assert!((sum - ws).abs() <= 1e-5 * ws.abs().max(1.0), "{}: sum {sum} against {ws}", ch.name);
    }
    // neo's times start at the first record's timestamp
    assert_eq!(g["channels"]["CSC1"]["t_start_s"].as_f64().unwrap(), 0.0);
    assert!((rec.start_s - 1000.0).abs() < 1e-9);

    let ntt = Ntt::open(&dir.join("TT1.ntt")).unwrap();
    assert_eq!(ntt.name, "TT1");
    let cells = ntt.cells();
    assert_eq!(cells.len(), 3);
    for (cell, times) in &cells {
        let want = &g["units"][format!("chTT1#0#{cell}")];
        assert_eq!(times.len() as u64, want["count"].as_u64().unwrap());
        assert!((times[0] - rec.start_s - want["first_s"].as_f64().unwrap()).abs() < 1e-6);
    }

    let ev = NlxEvents::open(&dir.join("Events.nev")).unwrap();
    let mut want: Vec<(f64, String)> = g["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["time_s"].as_f64().unwrap(), e["label"].as_str().unwrap().to_string()))
        .collect();
    want.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(ev.events.len(), want.len());
    for (e, (t, label)) in ev.events.iter().zip(&want) {
        assert!((e.timestamp_us as f64 * 1e-6 - rec.start_s - t).abs() < 1e-6);
        assert_eq!(&e.text, label);
    }
    assert_eq!(ev.events[1].ttl, 1);
}
