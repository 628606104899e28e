//! Unusual-but-valid layouts are read; malformed files give errors that name
//! the file, the HDF5 path and what was expected. The files are made by
//! `tests/fixtures/bad/make_bad.py` (h5py).

use burstscope_core::ColumnValue;
use burstscope_io::{IoError, Mapping, Orientation, Recording};
use std::path::{Path, PathBuf};

fn bad(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/bad").join(name)
}

fn open_err(name: &str) -> String {
    let e = Recording::open(&bad(name)).and_then(|r| r.summary()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(name), "message should name the file: {msg}");
    msg
}

#[test]
fn physical_values_apply_conversion_channel_conversion_and_offset() {
    let rec = Recording::open(&bad("variants.nwb")).unwrap();
    let s = rec.series_named(Some("lfp")).unwrap();
    assert_eq!(s.path, "/processing/ecephys/LFP/lfp");
    assert_eq!(s.rate_hz, 1000.0);
    assert_eq!(s.starting_time_s, 2.5);
    // The region [3, 1, 2, 0] is gathered row by row, not sorted.
    let ids: Vec<i64> = s.electrodes.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![13, 11, 12, 10]);
    assert_eq!(s.electrodes[0].group, "shankB");
    assert_eq!(s.electrodes[1].location, "CA1");
    let r = rec.stream(&s).unwrap();
    let mut b = Vec::new();
    r.read_block(10, 1, 1e6, &mut b).unwrap();
    // data[10] = 40..44; value = data × 1e-6 × cc[ch] + 0.5 (volts) → ×1e6 for µV.
    let conv = f64::from(1e-6f32);
    let cc = [1.0, 2.0, 1.0, 0.5];
    for ch in 0..4 {
        let want = ((40.0 + ch as f64) * conv * cc[ch] + 0.5) * 1e6;
        assert!((f64::from(b[ch]) - want).abs() < 1e-2 * want.abs(), "ch {ch}: {} vs {want}", b[ch]);
    }
}

#[test]
fn timestamps_integer_widths_and_typed_columns() {
    let rec = Recording::open(&bad("variants.nwb")).unwrap();
    let s = rec.series_named(Some("raw_ts")).unwrap();
    assert!(s.has_timestamps);
    assert!((s.rate_hz - 2000.0).abs() < 1e-6);
    assert_eq!(s.starting_time_s, 10.0);
    assert_eq!(s.dtype, "uint16");
    let mut b = Vec::new();
    rec.stream(&s).unwrap().read_block(0, 2, 1.0, &mut b).unwrap();
    assert!((f64::from(b[0]) - 40_000.0 * f64::from(1e-6f32)).abs() < 1e-9);
    let units = rec.units().unwrap();
    assert_eq!(units.iter().map(|u| u.id).collect::<Vec<_>>(), vec![5, 6, 7]);
    assert_eq!(units[1].spike_times_s.len(), 0);
    assert_eq!(units[2].spike_times_s, vec![f64::from(0.2f32), f64::from(0.4f32), f64::from(0.9f32)]);
    assert_eq!(units[0].columns["snr"], ColumnValue::Float(3.5));
    assert_eq!(units[2].columns["quality"], ColumnValue::Int(2));
    assert_eq!(units[1].electrode_group.as_deref(), Some("shankB"));
    let epochs = rec.epochs().unwrap();
    assert_eq!(epochs[1].tags, vec!["drug".to_string(), "late".to_string()]);
}

#[test]
fn mapped_plain_hdf5_both_orientations() {
    let m = Mapping { channels_per_group: Some(2), ..Mapping::new("/data/raw", 20_000.0) };
    let rec = Recording::open_with(&bad("not_nwb.h5"), Some(m)).unwrap();
    let s = rec.series_named(None).unwrap();
    assert_eq!((s.n_samples, s.n_channels), (1000, 4));
    assert_eq!(s.channel_groups().len(), 2);
    let m = Mapping { orientation: Orientation::ChannelMajor, ..Mapping::new("data/raw_cm", 1000.0) };
    let rec = Recording::open_with(&bad("not_nwb.h5"), Some(m)).unwrap();
    let s = rec.series_named(None).unwrap();
    assert_eq!((s.n_samples, s.n_channels), (1000, 4));
    let mut b = Vec::new();
    rec.stream(&s).unwrap().read_block(5, 2, 1.0, &mut b).unwrap();
    // raw_cm[ch, t] = ch*1000 + t, read back time-major.
    assert_eq!(b, vec![5.0, 1005.0, 2005.0, 3005.0, 6.0, 1006.0, 2006.0, 3006.0]);
    let m = Mapping::new("/nope", 1000.0);
    let e = Recording::open_with(&bad("not_nwb.h5"), Some(m)).unwrap_err().to_string();
    assert!(e.contains("/nope") && e.contains("missing"), "{e}");
}

#[test]
fn malformed_files_name_the_path_and_the_expectation() {
    assert!(open_err("missing_data.nwb").contains("/acquisition/es/data: missing"));
    assert!(open_err("string_data.nwb").contains("unsupported data type string"));
    assert!(open_err("timestamps_mismatch.nwb").contains("90 timestamps for 100 samples"));
    assert!(open_err("zero_rate.nwb").contains("starting_time@rate: rate 0"));
    assert!(open_err("negative_rate.nwb").contains("rate -5"));
    assert!(open_err("empty_series.nwb").contains("empty series"));
    assert!(open_err("units_bad_index.nwb").contains("/units/spike_times_index"));
    assert!(open_err("not_hdf5.nwb").contains("not an HDF5 file"));
    let e = open_err("not_nwb.h5");
    assert!(e.contains("--dataset") && e.contains("--map"), "{e}");
    let e = Recording::open(Path::new("/definitely/not/here.nwb")).unwrap_err();
    assert!(matches!(e, IoError::Open { .. }));
    assert!(e.to_string().contains("/definitely/not/here.nwb"));
}

#[test]
fn a_mapping_file_with_unknown_fields_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.toml");
    std::fs::write(&p, "dataset = \"/x\"\nrate_hz = 100.0\nrat_hz = 3\n").unwrap();
    let e = Mapping::from_file(&p).unwrap_err().to_string();
    assert!(e.contains("m.toml") && e.contains("rat_hz"), "{e}");
    std::fs::write(&p, "dataset = \"/x\"\nrate_hz = 0.0\n").unwrap();
    assert!(Mapping::from_file(&p).unwrap_err().to_string().contains("rate_hz"));
}
