//! Bad input: one clear line naming the file (and HDF5 path), exit code 2,
//! no panic, nothing written; mixed good and bad inputs: exit code 1.

use crate::util::{bin, fixture};

fn fails_with(args: &[&std::ffi::OsStr], needle: &str) {
    let out = bin().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn each_kind_of_bad_input_exits_2_with_its_reason() {
    let cases = [
        ("missing_data.nwb", "/acquisition/es/data: missing"),
        ("string_data.nwb", "unsupported data type"),
        ("timestamps_mismatch.nwb", "90 timestamps for 100 samples"),
        ("zero_rate.nwb", "rate 0"),
        ("negative_rate.nwb", "rate -5"),
        ("empty_series.nwb", "empty series"),
        ("not_hdf5.nwb", "not an HDF5 file"),
        ("not_nwb.h5", "neither NWB"),
    ];
    for (file, needle) in cases {
        let p = fixture(&format!("bad/{file}"));
        fails_with(&["inspect".as_ref(), p.as_os_str()], needle);
    }
    fails_with(&["inspect".as_ref(), "/no/such/file.nwb".as_ref()], "/no/such/file.nwb: cannot open");
}

#[test]
fn bad_usage_exits_2() {
    let out = bin().args(["inspect"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().args(["generate", "tetrode", "--out", "x.nwb", "--gzip", "12"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn invalid_generator_parameters_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.nwb");
    let out = bin().args(["generate", "tetrode", "--out"]).arg(&p).args(["--rate", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rate_hz"));
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "n_tetrode = 3\n").unwrap();
    let out = bin().args(["generate", "tetrode", "--out"]).arg(&p).arg("--config").arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("n_tetrode"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only the config file remains");
}

#[test]
fn some_inputs_failing_exits_1_and_reports_each() {
    let good = fixture("tetrode_raw.nwb");
    let bad = fixture("bad/zero_rate.nwb");
    let out = bin().arg("inspect").arg(&good).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("tetrode_raw.nwb"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("zero_rate.nwb"));
}

#[test]
fn plain_hdf5_is_read_through_a_mapping() {
    let p = fixture("bad/not_nwb.h5");
    let out = bin()
        .arg("inspect")
        .arg(&p)
        .args(["--dataset", "/data/raw", "--rate", "20000", "--channels-per-group", "4", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["layout"], "mapped");
    assert_eq!(v[0]["series"][0]["n_channels"], 4);
    assert_eq!(v[0]["series"][0]["rate_hz"], 20000.0);
}
