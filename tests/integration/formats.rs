//! Files from other acquisition programs through the command line: every
//! real ABF file in `../shared/real/abf/` opens in `inspect` with the counts
//! pyABF gives (`tests/golden/abf_golden.json`), and a damaged one is a
//! clear error with exit code 2 that does not stop the other files.

use crate::util::bin;
use std::path::{Path, PathBuf};

fn real_abf() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/abf");
    if d.is_dir() {
        return Some(d);
    }
    assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real/abf");
    eprintln!("../shared/real/abf absent: skipped");
    None
}

#[test]
fn inspect_reads_every_real_abf_file() {
    let Some(dir) = real_abf() else { return };
    let golden: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/abf_golden.json")).unwrap(),
    )
    .unwrap();
    let files = golden["files"].as_object().unwrap();
    let paths: Vec<PathBuf> = files.keys().map(|k| dir.join(k)).collect();
    let r = bin().arg("inspect").arg("--json").args(&paths).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let got = v.as_array().unwrap();
    assert_eq!(got.len(), files.len());
    for (s, (name, want)) in got.iter().zip(files) {
        assert!(s["path"].as_str().unwrap().ends_with(name.as_str()));
        assert_eq!(s["sweeps"], want["sweeps"], "{name}");
        assert_eq!(s["channels"].as_array().unwrap().len() as u64, want["channels"].as_u64().unwrap(), "{name}");
        assert_eq!(s["abf_version"], want["version"], "{name}");
        assert_eq!(s["tags"].as_array().unwrap().len(), want["tag_comments"].as_array().unwrap().len(), "{name}");
    }
}

#[test]
fn a_damaged_abf_is_exit_2_and_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("cut.abf");
    // An ABF2 signature and nothing else.
    std::fs::write(&bad, b"ABF2\x00\x00\x06\x02").unwrap();
    let r = bin().arg("inspect").arg(&bad).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("cut.abf") && err.contains("header") && err.contains("truncated"), "{err}");
    let Some(real) = real_abf() else { return };
    let r = bin().arg("inspect").arg(&bad).arg(real.join("model_vc_step.abf")).output().unwrap();
    assert_eq!(r.status.code(), Some(1), "one of two files failed");
    assert!(String::from_utf8_lossy(&r.stdout).contains("model_vc_step.abf (ABF2 2.6.0.0, episodic stimulation)"));
}

/// A Blackrock NEV file's online-sorted units go into `bursts` (the reader
/// equals neo: crates/burstscope-formats/tests/nev_neo.rs); `--labels sorted`
/// keeps units 1–16 and leaves the unsorted (0) and noise (255) ones out.
#[test]
fn blackrock_nev_units_go_into_bursts() {
    let nev =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/extracellular/blackrock_utah/l101210-001-02.nev");
    if !nev.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        eprintln!("{} absent: skipped", nev.display());
        return;
    }
    let golden: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/nev_golden.json")).unwrap(),
    )
    .unwrap();
    let sorted: Vec<&serde_json::Value> = golden["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            let unit: u32 = u["name"].as_str().unwrap().rsplit_once('#').unwrap().1.parse().unwrap();
            (1..=16).contains(&unit) && u["count"].as_u64().unwrap() > 0
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let r = bin()
        .arg("bursts")
        .arg(&nev)
        .arg("--out")
        .arg(dir.path())
        .args(["--labels", "sorted", "--format", "csv"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(dir.path().join("unit_metrics.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (ui, ni) =
        (head.iter().position(|h| *h == "unit").unwrap(), head.iter().position(|h| *h == "n_spikes").unwrap());
    let rows: Vec<(String, u64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[ui].trim_matches('"').to_string(), f[ni].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), sorted.len());
    for u in sorted {
        let name = u["name"].as_str().unwrap();
        let row = rows.iter().find(|r| r.0 == name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(row.1, u["count"].as_u64().unwrap(), "{name}");
    }
}

/// `inspect` summarises the extracellular formats (Open Ephys legacy, NEV,
/// NSx) and `detect` reads an NSx file with the scale from its NEV file;
/// without the NEV an NSx 2.1 file is a clear error, exit 2.
#[test]
fn inspect_and_detect_read_open_ephys_and_blackrock_files() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/extracellular");
    if !base.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        return;
    }
    let (ns2, nev, node) = (
        base.join("blackrock_utah/l101210-001.ns2"),
        base.join("blackrock_utah/l101210-001-02.nev"),
        base.join("openephys_legacy_v0.6.7/Record Node 101"),
    );
    let r = bin().arg("inspect").arg("--json").arg(&ns2).arg(&nev).arg(&node).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v[0]["format"], "blackrock_nsx");
    assert_eq!(v[0]["rate_hz"], 1000.0);
    assert!((v[0]["channels"][0]["uv_per_unit"].as_f64().unwrap() - 152.592547).abs() < 1e-9);
    assert_eq!(v[1]["format"], "blackrock_nev");
    assert_eq!(v[1]["n_spikes"], 14210);
    assert_eq!(v[1]["digital"].as_array().unwrap().len(), 8);
    assert_eq!(v[2]["format"], "openephys_legacy");
    assert_eq!(v[2]["channels"].as_array().unwrap().len(), 16);
    // detect on the NSx file: the NEV beside it is one of the inputs (its scale)
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("det");
    let r = bin().arg("detect").arg(&ns2).arg("--out").arg(&out).args(["--band", "10:400"]).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("detect.json")).unwrap()).unwrap();
    let inputs = d["key"]["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert!(inputs[1]["path"].as_str().unwrap().ends_with(".nev"));
    // alone, the NSx 2.1 file has no scale
    let alone = dir.path().join("alone.ns2");
    std::fs::copy(&ns2, &alone).unwrap();
    let r = bin().arg("detect").arg(&alone).arg("--out").arg(dir.path().join("x")).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("alone.ns2") && err.contains("NEV"), "{err}");
    assert!(!dir.path().join("x").exists());
}
