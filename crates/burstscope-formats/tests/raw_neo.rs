//! The raw binary reader against neo's `RawBinarySignalRawIO` on the real
//! locust tetrode recordings (`tests/golden/raw_golden.json`, made by
//! `tests/golden/make_raw_golden.py`): frame count, rate, first and last
//! samples, min, max and sums per channel.

use burstscope_core::{BlockQuality, BlockSource};
use burstscope_formats::raw::{RawBinary, RawDtype, RawParams};
use std::path::{Path, PathBuf};

fn dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real/extracellular/locust_tetrode");
    if d.is_dir() {
        return Some(d);
    }
    assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
    eprintln!("../shared/real/extracellular absent: skipped");
    None
}

#[test]
fn locust_recordings_equal_neo() {
    let Some(d) = dir() else { return };
    let golden: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/raw_golden.json")).unwrap(),
    )
    .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("info.json")).unwrap()).unwrap();
    let params = RawParams {
        dtype: RawDtype::parse(info["dtype"].as_str().unwrap()).unwrap(),
        n_channels: info["shape"][1].as_u64().unwrap() as usize,
        rate_hz: info["sample_rate"].as_f64().unwrap(),
        offset_bytes: 0,
        gain_uv: 1.0,
    };
    let files = golden["files"].as_object().unwrap();
    assert_eq!(files.len(), 2);
    for (name, want) in files {
        let r = RawBinary::open(&d.join(name), params).unwrap();
        assert_eq!(r.n_samples as u64, want["n_samples"].as_u64().unwrap(), "{name}");
        assert_eq!(r.rate_hz(), want["rate_hz"].as_f64().unwrap());
        assert_eq!(r.trailing_bytes, 0);
        let n = r.n_samples;
        let nch = r.n_channels();
        // the whole file through the block interface, in blocks as detection reads it
        let mut all = vec![0.0f32; n * nch];
        let block = 65_536;
        let mut start = 0;
        while start < n {
            let len = block.min(n - start);
            let mut q = BlockQuality::default();
            let cols: Vec<usize> = (0..nch).collect();
            r.read(start, len, 1.0, &cols, nch, &mut all[start * nch..(start + len) * nch], 0..len, &mut q).unwrap();
            start += len;
        }
        for c in 0..nch {
            let col: Vec<f64> = (0..n).map(|t| f64::from(all[t * nch + c])).collect();
            for k in 0..3 {
                assert_eq!(col[k], want["head"][k][c].as_f64().unwrap(), "{name} head");
                assert_eq!(col[n - 3 + k], want["tail"][k][c].as_f64().unwrap(), "{name} tail");
            }
            assert_eq!(col.iter().copied().fold(f64::INFINITY, f64::min), want["min"][c].as_f64().unwrap());
            assert_eq!(col.iter().copied().fold(f64::NEG_INFINITY, f64::max), want["max"][c].as_f64().unwrap());
            assert_eq!(col.iter().sum::<f64>(), want["sum"][c].as_f64().unwrap(), "{name} channel {c} sum");
        }
    }
}
