//! `generate` then `inspect`: the generator's files read back with their truth.

use crate::util::{bin, fixture, json_out};

#[test]
fn generated_tetrode_session_reads_back_with_its_truth() {
    let dir = tempfile::tempdir().unwrap();
    let nwb = dir.path().join("s.nwb");
    bin()
        .args(["generate", "tetrode", "--out"])
        .arg(&nwb)
        .args(["--tetrodes", "2", "--duration", "20", "--injection", "8", "--seed", "3", "--gzip", "1"])
        .assert()
        .success();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.truth.json")).unwrap()).unwrap();
    let out = bin().arg("inspect").arg(&nwb).arg("--json").output().unwrap();
    assert!(out.status.success());
    let s = &json_out(&out)[0];
    let series = &s["series"][0];
    assert_eq!(series["n_channels"], 8);
    assert_eq!(series["n_samples"], 600_000);
    assert_eq!(series["rate_hz"], 30_000.0);
    assert_eq!(series["electrodes"][5]["group"], "tetrode1");
    assert_eq!(s["epochs"][1]["start_s"], 8.0);
    assert_eq!(s["epochs"][1]["tags"][0], "ketamine");
    let units = s["units"].as_array().unwrap();
    let tunits = truth["units"].as_array().unwrap();
    assert_eq!(units.len(), tunits.len());
    for (u, t) in units.iter().zip(tunits) {
        assert_eq!(u["n_spikes"], t["n_spikes"]);
        assert_eq!(u["electrode_group"], format!("tetrode{}", t["tetrode"]));
    }
    assert!(truth["params"]["seed"] == 3 && truth["version"].is_string());
    // No temporary files are left behind.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn generation_is_deterministic_by_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str| {
        let p = dir.path().join(name);
        bin()
            .args(["generate", "tetrode", "--out"])
            .arg(&p)
            .args(["--tetrodes", "1", "--duration", "3", "--seed", seed])
            .assert()
            .success();
        let out = bin().arg("inspect").arg(&p).arg("--json").output().unwrap();
        let mut v = json_out(&out);
        v[0]["path"] = serde_json::Value::Null;
        (v, std::fs::read_to_string(p.with_extension("truth.json")).unwrap())
    };
    let a = run("a.nwb", "5");
    let b = run("b.nwb", "5");
    let c = run("c.nwb", "6");
    assert_eq!(a, b);
    assert_ne!(a.1, c.1);
}

#[test]
fn slice_dataset_has_regions_sweeps_and_drift_truth() {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["generate", "slices", "--out"])
        .arg(dir.path())
        .args(["--cells-per-region", "2", "--drift-cells", "1"])
        .assert()
        .success();
    let out = bin().arg("inspect").arg(dir.path().join("CA1_cell02.nwb")).arg("--json").output().unwrap();
    let s = &json_out(&out)[0];
    let sweeps = s["sweeps"].as_array().unwrap();
    assert_eq!(sweeps.len(), 60);
    assert_eq!(sweeps[0]["electrode"]["location"], "CA1");
    assert_eq!(sweeps[0]["electrode"]["cell_id"], "CA1-02");
    assert_eq!(sweeps[59]["stimulus_description"], "ketamine");
    assert_eq!(sweeps[0]["mode"], "voltage_clamp");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("CA1_cell02.truth.json")).unwrap()).unwrap();
    let rs: Vec<f64> = truth["sweeps"].as_array().unwrap().iter().map(|s| s["rs_MOhm"].as_f64().unwrap()).collect();
    assert!(rs[59] > 1.5 * rs[0], "the drift cell's access resistance rises: {} -> {}", rs[0], rs[59]);
    let lhb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("LHb_cell01.truth.json")).unwrap()).unwrap();
    let f = |t: &serde_json::Value| t["sweeps"][59]["unblocked_fraction"].as_f64().unwrap();
    assert!(f(&lhb) < 0.5 && f(&truth) > 0.75);
}

#[test]
fn inspect_reads_the_pynwb_fixtures() {
    let out =
        bin().arg("inspect").arg(fixture("tetrode_raw.nwb")).arg(fixture("slices/CA1_cell01.nwb")).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("group tetrode0: 4 ch"));
    assert!(text.contains("units: 3 (741 spikes)"));
    assert!(text.contains("cell CA1-01 (CA1): 60 sweeps; baseline x20, ketamine x40"));
}

#[test]
fn help_shows_examples() {
    let out = bin().args(["inspect", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Examples:") && text.contains("--dataset"));
    bin().args(["generate", "tetrode", "--help"]).assert().success();
}
