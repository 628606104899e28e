//! The Open Ephys binary format on the real recording without its
//! `continuous.dat` (metadata, timestamps and TTL folders against numpy:
//! `tests/golden/openephys_binary_golden.json`, made by
//! `tests/golden/make_openephys_binary_golden.py`), the error for the missing
//! samples, and a `continuous.dat` written from the format's description.

use burstscope_core::{BlockQuality, BlockSource};
use burstscope_formats::npy::write_npy_1d;
use burstscope_formats::openephys::BinaryRecording;
use std::path::{Path, PathBuf};

fn rec_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/real/extracellular/openephys_binary_v0.6.7_no_continuous/Record Node 101/experiment1/recording1");
    if d.is_dir() {
        return Some(d);
    }
    assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
    None
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn metadata_timestamps_and_events_equal_numpy_and_the_missing_samples_are_named() {
    let Some(d) = rec_dir() else { return };
    let golden: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/openephys_binary_golden.json"))
            .unwrap(),
    )
    .unwrap();
    let r = BinaryRecording::open(&d).unwrap();
    assert_eq!(r.gui_version, "0.6.7");
    assert_eq!(r.streams.len(), 1);
    let s = &r.streams[0];
    assert_eq!(s.rate_hz, golden["rate_hz"].as_f64().unwrap());
    assert_eq!(s.channels.len() as u64, golden["n_channels"].as_u64().unwrap());
    assert_eq!(s.n_samples as u64, golden["n_samples"].as_u64().unwrap());
    assert_eq!(s.first_sample, golden["first_sample"].as_i64().unwrap());
    assert_eq!(s.first_time_s, golden["first_time_s"].as_f64().unwrap());
    assert_eq!(s.channels[0], "CH1");
    for (folder, events) in &r.ttl {
        assert_eq!(events.len() as u64, golden["ttl_counts"][folder].as_u64().unwrap(), "{folder}");
        let f = &golden["ttl_first"][folder];
        for (k, ev) in events.iter().take(5).enumerate() {
            let state = f["states"][k].as_i64().unwrap();
            assert_eq!((i64::from(ev.line), ev.rising), (state.abs(), state > 0), "{folder} event {k}");
            assert_eq!(ev.sample, f["sample_numbers"][k].as_i64().unwrap());
            assert_eq!(ev.time_s, f["timestamps"][k].as_f64().unwrap());
        }
    }
    assert_eq!(r.ttl.len(), golden["ttl_counts"].as_object().unwrap().len());
    let e = r.continuous(0).unwrap_err().to_string();
    assert!(e.contains("continuous.dat") && e.contains("missing"), "{e}");
}

#[test]
fn a_continuous_dat_and_ttl_written_from_the_description() {
    let Some(d) = rec_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let rec = tmp.path().join("recording1");
    copy_dir(&d, &rec);
    let r = BinaryRecording::open(&rec).unwrap();
    let s = &r.streams[0];
    let (n, nch) = (s.n_samples, s.channels.len());
    let bytes: Vec<u8> = (0..n * nch).flat_map(|k| ((k % 1000) as i16 - 500).to_le_bytes()).collect();
    std::fs::write(s.folder.join("continuous.dat"), &bytes).unwrap();
    // TTL line 3 up at sample 40 100, down at 40 200
    let ttl = rec.join("events/File_Reader-100.example_data/TTL");
    write_npy_1d(
        &ttl.join("states.npy"),
        "<i2",
        2,
        &[3i16, -3].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>(),
    )
    .unwrap();
    write_npy_1d(
        &ttl.join("sample_numbers.npy"),
        "<i8",
        2,
        &[40_100i64, 40_200].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>(),
    )
    .unwrap();
    write_npy_1d(
        &ttl.join("timestamps.npy"),
        "<f8",
        2,
        &[1.0025f64, 1.005].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>(),
    )
    .unwrap();
    write_npy_1d(
        &ttl.join("full_words.npy"),
        "<u8",
        2,
        &[4u64, 0].iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>(),
    )
    .unwrap();
    let r = BinaryRecording::open(&rec).unwrap();
    let events = &r.ttl.iter().find(|t| t.0.starts_with("File_Reader")).unwrap().1;
    assert_eq!(events.len(), 2);
    assert!(events[0].rising && events[0].line == 3 && events[0].sample == 40_100);
    assert!(!events[1].rising && (events[1].time_s - 1.005).abs() < 1e-12);
    let src = r.continuous(0).unwrap();
    assert_eq!(src.n_samples(), n);
    let mut out = vec![0.0f32; 10 * nch];
    let mut q = BlockQuality::default();
    let cols: Vec<usize> = (0..nch).collect();
    src.read(100, 10, 1.0, &cols, nch, &mut out, 0..10, &mut q).unwrap();
    let want = |k: usize| f64::from((k % 1000) as i16 - 500) * s.bit_volts[0];
    for (i, v) in out.iter().enumerate() {
        assert!((f64::from(*v) - want(100 * nch + i)).abs() < 1e-4);
    }
    // a cut continuous.dat is named
    std::fs::write(s.folder.join("continuous.dat"), &bytes[..bytes.len() - 64]).unwrap();
    let e = r.continuous(0).unwrap_err().to_string();
    assert!(e.contains("sample_numbers.npy says"), "{e}");
}
