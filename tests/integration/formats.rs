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
    // both identities whole-file hashes: the NSx from the bytes detection read
    for (i, f) in [&ns2, &nev].into_iter().enumerate() {
        let h = burstscope_core::hash_bytes(&std::fs::read(f).unwrap());
        assert_eq!(inputs[i]["content_hash"].as_str().unwrap(), h, "{}", f.display());
    }
    // alone, the NSx 2.1 file has no scale
    let alone = dir.path().join("alone.ns2");
    std::fs::copy(&ns2, &alone).unwrap();
    let r = bin().arg("detect").arg(&alone).arg("--out").arg(dir.path().join("x")).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("alone.ns2") && err.contains("NEV"), "{err}");
    assert!(!dir.path().join("x").exists());
}

/// `detect` on an Open Ephys binary recording folder: the real folder (its
/// `structure.oebin`, timestamps and events) with a `continuous.dat` written
/// from the format's description (deterministic noise and a spike every
/// 100 ms on channel 3); without the file, a clear exit 2.
#[test]
fn detect_reads_an_open_ephys_binary_recording() {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../shared/real/extracellular/openephys_binary_v0.6.7_no_continuous/Record Node 101/experiment1/recording1",
    );
    if !real.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        return;
    }
    let r = bin().arg("inspect").arg("--json").arg(&real).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v[0]["format"], "openephys_binary");
    assert_eq!(v[0]["streams"][0]["continuous_dat"], false);
    assert_eq!(v[0]["ttl"][1]["events"].as_array().unwrap().len(), 128);
    let tmp = tempfile::tempdir().unwrap();
    let r = bin().arg("detect").arg(&real).arg("--out").arg(tmp.path().join("none")).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("continuous.dat: missing"));
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.path().is_dir() {
                copy_dir(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    let rec = tmp.path().join("recording1");
    copy_dir(&real, &rec);
    let (n, nch, rate) = (131_362usize, 16usize, 40_000.0);
    let mut x: u64 = 1;
    let mut data = Vec::with_capacity(n * nch * 2);
    for t in 0..n {
        for c in 0..nch {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let mut v = ((x >> 33) % 41) as i16 - 20;
            // a 0.2 ms spike of −600 units (−30 µV) every 4 000 samples on channel 3
            if c == 3 && t >= 2_000 && (t - 2_000) % 4_000 < 8 {
                v -= 600;
            }
            data.extend(v.to_le_bytes());
        }
    }
    std::fs::write(rec.join("continuous/File_Reader-100.example_data/continuous.dat"), data).unwrap();
    let out = tmp.path().join("det");
    let r = bin()
        .arg("detect")
        .arg(&rec)
        .arg("--out")
        .arg(&out)
        .args(["--format", "csv", "--channels-per-group", "4"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let expected = (n - 2_000).div_ceil(4_000);
    assert_eq!(rows.len(), expected, "one event per spike");
    for (k, row) in rows.iter().enumerate() {
        assert_eq!((row[2], row[3]), ("tetrode0", "3"));
        let sample: f64 = row[0].parse().unwrap();
        assert!((sample - (2_000.0 + 4_000.0 * k as f64)).abs() <= 8.0, "{row:?}");
        // times on the acquisition clock: the stream starts at 1.002275 s
        let t: f64 = row[1].parse().unwrap();
        assert!((t - (1.002_275 + sample / rate)).abs() < 1e-9, "{row:?}");
    }
}

/// A HEKA PatchMaster bundle (the reader equals pyheka:
/// crates/burstscope-formats/tests/heka_pyheka.rs) through the command line:
/// `inspect` shows its groups and series; `epsc` reads its voltage-clamp
/// series as one cell (the group), takes the step edges from the protocol
/// and the voltage monitor so no capacitive transient passes for a stimulus,
/// and — the sweeps having steps and no EPSCs — measures a membrane test in
/// every sweep; `cclamp` refuses it (no current-clamp trace) with exit 2
/// naming the modes it has.
#[test]
fn a_heka_bundle_is_inspected_and_analysed() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/heka/epc9_patchmaster_v2x73.dat");
    if !f.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real/heka");
        return;
    }
    let r = bin().arg("inspect").arg("--json").arg(&f).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let series = v[0]["groups"][0]["series"].as_array().unwrap();
    let sweeps: Vec<u64> = series.iter().map(|s| s["sweeps"].as_u64().unwrap()).collect();
    assert_eq!(sweeps, vec![11, 11, 11, 1]);
    assert_eq!(v[0]["format"], "heka_patchmaster");

    let out = tempfile::tempdir().unwrap();
    let r = bin().arg("epsc").arg(&f).arg("--out").arg(out.path().join("e")).output().unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("voltage monitor follows the protocol"), "{err}");
    assert!(err.contains("membrane-test time course"), "{err}");
    let rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("e/epsc.json")).unwrap()).unwrap();
    assert!(rec.to_string().contains("sweeps.parquet"));

    let r = bin().arg("cclamp").arg(&f).arg("--out").arg(out.path().join("c")).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("no current-clamp trace") && err.contains("WholeCell"), "{err}");
    assert!(!out.path().join("c").exists(), "nothing written");
}
