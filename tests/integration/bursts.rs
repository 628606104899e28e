//! `burstscope bursts` end to end: truth recovery on the pynwb fixture,
//! statistics and figures, every input kind, and bad input.

use crate::util::{bin, fixture};
use burstscope_core::Unit;
use burstscope_io::{NwbSession, NwbWriter};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Rows of a CSV written by burstscope (no quoted fields in these tables).
fn csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().expect("header").split(',').map(String::from).collect();
    lines.map(|l| head.iter().cloned().zip(l.split(',').map(String::from)).collect()).collect()
}

/// (unit, first spike time, n spikes) of a burst.
type Key = (String, String, String);

/// Truth bursts of the fixture, and the unit kinds.
fn truth() -> (BTreeSet<Key>, BTreeMap<String, String>) {
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("lhb_units_ketamine.truth.json")).expect("truth"))
            .expect("json");
    let mut set = BTreeSet::new();
    let mut kinds = BTreeMap::new();
    for u in t["units"].as_array().expect("units") {
        let id = u["id"].as_i64().expect("id").to_string();
        kinds.insert(id.clone(), u["kind"].as_str().expect("kind").to_string());
        for b in u["bursts"].as_array().expect("bursts") {
            set.insert((
                id.clone(),
                format!("{:.9}", b[0].as_f64().expect("t")),
                b[2].as_i64().expect("n").to_string(),
            ));
        }
    }
    (set, kinds)
}

fn run_method(method: &str, out: &Path, figures: bool) {
    let mut c = bin();
    c.args(["bursts", fixture("lhb_units_ketamine.nwb").to_str().expect("path"), "--out"])
        .arg(out)
        .args(["--method", method, "--format", "csv"]);
    if !figures {
        c.arg("--no-figures");
    }
    c.assert().success();
}

/// (recall, precision, precision on the bursting units) against the fixture's truth.
fn score(out: &Path) -> (f64, f64, f64) {
    let (truth, kinds) = truth();
    let rows = csv(&out.join("bursts.csv"));
    let ours: BTreeSet<Key> = rows
        .iter()
        .map(|r| {
            (r["unit"].clone(), format!("{:.9}", r["start_s"].parse::<f64>().expect("start")), r["n_spikes"].clone())
        })
        .collect();
    let hit = ours.intersection(&truth).count() as f64;
    let on_bursters: Vec<_> = ours.iter().filter(|o| kinds[&o.0] == "burst").collect();
    let hit_b = on_bursters.iter().filter(|o| truth.contains(o)).count() as f64;
    (hit / truth.len() as f64, hit / ours.len().max(1) as f64, hit_b / on_bursters.len().max(1) as f64)
}

#[test]
fn lhb_recovers_the_fixture_bursts_with_statistics_and_figures() {
    let dir = tempfile::tempdir().expect("tmp");
    run_method("lhb", dir.path(), true);
    let (recall, precision, precision_bursters) = score(dir.path());
    eprintln!("lhb: recall {recall:.4}, precision {precision:.4} (bursting units {precision_bursters:.4})");
    // a burst is recovered when unit, first spike and spike count agree
    assert!(recall >= 0.999, "recall {recall}");
    // every burst on the bursting units is a generated one; the tonic units'
    // chance pairs after a silence are what the rule defines as bursts
    assert!(precision_bursters >= 0.999, "precision on bursting units {precision_bursters}");
    let m = csv(&dir.path().join("unit_metrics.csv"));
    assert_eq!(m.len(), 24, "12 units × 2 windows");
    assert!(m.iter().any(|r| r["window"] == "ketamine"));
    let s = csv(&dir.path().join("stats.csv"));
    assert_eq!(s.len(), 16, "8 metrics × 2 tests");
    let bpm = s.iter().find(|r| r["metric"] == "bursts_per_min" && r["test"] == "ttest_rel").expect("row");
    let p: f64 = bpm["p_value"].parse().expect("p");
    let t: f64 = bpm["statistic"].parse().expect("t");
    assert!(t > 0.0 && p < 0.05, "bursting drops after ketamine: t {t}, p {p}");
    assert!(!csv(&dir.path().join("time_course.csv")).is_empty());
    for f in ["raster_baseline", "raster_ketamine", "isi_histogram", "time_course", "paired", "classes"] {
        for ext in ["svg", "png", "pdf"] {
            let p = dir.path().join("figures").join(format!("{f}.{ext}"));
            assert!(std::fs::metadata(&p).map(|m| m.len() > 1000).unwrap_or(false), "{}", p.display());
        }
    }
    let prov: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("bursts.json")).expect("json")).expect("json");
    assert_eq!(prov["key"]["config"]["lhb"]["start_isi_max_s"], 0.02);
    assert_eq!(prov["key"]["config"]["method"], "lhb");
    assert_eq!(prov["outputs"]["summary"]["windows"][1]["name"], "ketamine");
}

#[test]
fn every_method_runs_and_reports_recall() {
    for m in ["maxinterval", "poisson", "rank", "logisi", "cma"] {
        let dir = tempfile::tempdir().expect("tmp");
        run_method(m, dir.path(), false);
        let (r, p, pb) = score(dir.path());
        eprintln!("{m}: recall {r:.4}, precision {p:.4} (bursting units {pb:.4})");
        assert!(!csv(&dir.path().join("bursts.csv")).is_empty(), "{m} found no bursts");
    }
}

#[test]
fn spikes_table_input_with_flag_windows() {
    let dir = tempfile::tempdir().expect("tmp");
    let spikes = dir.path().join("spikes.csv");
    let mut text = String::from("unit,time_s\n");
    for u in ["a", "b"] {
        for k in 0..200 {
            let s = f64::from(k) * 0.5;
            for i in 0..3 {
                text.push_str(&format!("{u},{:.4}\n", s + 0.004 * f64::from(i)));
            }
        }
    }
    std::fs::write(&spikes, text).expect("write");
    let out = dir.path().join("out");
    bin()
        .args(["bursts"])
        .arg(&spikes)
        .arg("--out")
        .arg(&out)
        .args(["--drug-at", "50", "--exclude-after", "10", "--format", "csv", "--no-figures"])
        .assert()
        .success();
    let m = csv(&out.join("unit_metrics.csv"));
    assert_eq!(m.len(), 4);
    let post = m.iter().find(|r| r["unit"] == "a" && r["window"] == "post").expect("post row");
    assert_eq!(post["window_start_s"].parse::<f64>().expect("number"), 60.0);
    assert_eq!(post["n_bursts"], "80", "bursts every 0.5 s from 60 s to 99.5 s");
    assert_eq!(post["class"], "bursting");
}

#[test]
fn parquet_is_the_default_and_mea_files_open() {
    let dir = tempfile::tempdir().expect("tmp");
    bin()
        .args(["bursts", fixture("lhb_units_ketamine.nwb").to_str().expect("path"), "--out"])
        .arg(dir.path())
        .args(["--no-figures", "--method", "maxinterval"])
        .assert()
        .success();
    for t in ["bursts", "unit_metrics", "time_course", "stats"] {
        assert!(dir.path().join(format!("{t}.parquet")).exists(), "{t}.parquet");
    }
    let mea = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/hipsc/h5/hiPSN_tc146_d28_spikes6sd.h5");
    if mea.exists() {
        let out = dir.path().join("mea");
        bin()
            .args(["bursts"])
            .arg(&mea)
            .arg("--out")
            .arg(&out)
            .args(["--format", "csv", "--no-figures", "--method", "maxinterval"])
            .assert()
            .success();
        let m = csv(&out.join("unit_metrics.csv"));
        assert!(m.iter().all(|r| r["window"] == "all"));
        assert!(m.iter().any(|r| r["unit"].starts_with("ch_")));
    }
}

fn expect_error(args: &[&str], input: &Path, needles: &[&str]) {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    let o = bin().arg("bursts").arg(input).arg("--out").arg(&out).args(args).output().expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks '{n}': {err}");
    }
    assert!(!out.join("bursts.parquet").exists(), "no output on error");
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let nan = dir.path().join("nan.csv");
    std::fs::write(&nan, "unit,time_s\nu1,1.0\nu1,NaN\nu1,1.5\n").expect("write");
    expect_error(&[], &nan, &["nan.csv", "unit u1", "non-finite"]);
    let nocol = dir.path().join("nocol.csv");
    std::fs::write(&nocol, "cell,t\nu1,1.0\n").expect("write");
    expect_error(&[], &nocol, &["nocol.csv", "'unit'"]);
    let nwb = fixture("lhb_units_ketamine.nwb");
    expect_error(&["--baseline", "0:100", "--post", "100:99999"], &nwb, &["outside the recording", "0–3600"]);
    expect_error(&["--method", "poisson", "--start-isi-ms", "10"], &nwb, &["--method lhb"]);
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[lhb]\nstart_isi_ms = 10\n").expect("write");
    expect_error(&["--config", cfg.to_str().expect("path")], &nwb, &["bad.toml", "unknown field"]);
    // an NWB file without units
    let cells: Vec<_> = std::fs::read_dir(fixture("slices")).expect("slices").map(|e| e.expect("e").path()).collect();
    let cell = cells.iter().find(|p| p.extension().is_some_and(|e| e == "nwb")).expect("a slice file");
    expect_error(&[], cell, &["no /units"]);
}

#[test]
fn unsorted_and_duplicate_spike_times_are_repaired_and_reported() {
    // Real sortings have them (trials concatenated, merged units).
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("unsorted.csv");
    let mut text = String::from("unit,time_s\n");
    for k in (0..200).rev() {
        text.push_str(&format!("u1,{}\nu2,{}\n", f64::from(k) * 0.5, f64::from(k) * 0.25));
    }
    text.push_str("u2,10.0\n");
    std::fs::write(&input, text).expect("write");
    let out = dir.path().join("b");
    let o = bin()
        .args(["bursts".as_ref(), input.as_os_str(), "--out".as_ref(), out.as_os_str(), "--no-figures".as_ref()])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("unit u1") && err.contains("not sorted"), "{err}");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bursts.json")).expect("record")).expect("json");
    let w: Vec<&str> =
        rec["outputs"]["warnings"].as_array().expect("warnings").iter().map(|v| v.as_str().unwrap_or("")).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("unit u1") && w[0].contains("199 out of order") && w[0].contains("0 duplicate"), "{w:?}");
    assert!(w[1].starts_with("unit u2") && w[1].contains("1 duplicate"), "{w:?}");
    let m = burstscope_tables::read_table(&out.join("unit_metrics.parquet")).expect("table");
    let Some(burstscope_core::ColumnData::I64(n)) = m.column("n_spikes") else { panic!("n_spikes") };
    // 400 distinct spikes; the "all" window's stop (the last spike, 99.5 s) is exclusive.
    assert_eq!(n.iter().sum::<i64>(), 399, "duplicates dropped, nothing else");
}

#[test]
fn a_unit_without_spikes_is_kept_as_silent() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("empty_unit.nwb");
    let w = NwbWriter::create(
        &path,
        &NwbSession {
            identifier: "empty-unit".into(),
            session_description: "a unit with no spikes".into(),
            session_start_time: "2026-01-01T00:00:00+00:00".into(),
            pharmacology: None,
            experimenter: vec![],
            subject: vec![("subject_id".into(), "rat7".into())],
        },
    )
    .expect("create");
    let busy: Vec<f64> = (0..300).flat_map(|k| [f64::from(k), f64::from(k) + 0.005]).collect();
    let unit = |id: i64, t: Vec<f64>| Unit {
        id,
        label: id.to_string(),
        spike_times_s: t,
        electrode_group: None,
        obs_intervals_s: Vec::new(),
        columns: BTreeMap::new(),
    };
    w.add_units(&[unit(0, busy), unit(1, vec![])], &[]).expect("units");
    w.add_epochs(&[
        burstscope_core::Epoch { start_s: 0.0, stop_s: 150.0, tags: vec!["baseline".into()] },
        burstscope_core::Epoch { start_s: 150.0, stop_s: 300.0, tags: vec!["ketamine".into()] },
    ])
    .expect("epochs");
    w.finish().expect("finish");
    let out = dir.path().join("out");
    bin().arg("bursts").arg(&path).arg("--out").arg(&out).args(["--format", "csv", "--no-figures"]).assert().success();
    let m = csv(&out.join("unit_metrics.csv"));
    let empty: Vec<_> = m.iter().filter(|r| r["unit"] == "1").collect();
    assert_eq!(empty.len(), 2);
    assert!(empty.iter().all(|r| r["n_spikes"] == "0" && r["class"] == "silent" && r["pct_spikes_in_bursts"] == "NaN"));
    let s = csv(&out.join("stats.csv"));
    let rate = s.iter().find(|r| r["metric"] == "firing_rate_hz" && r["test"] == "ttest_rel").expect("row");
    assert_eq!(rate["n"], "2", "the silent unit's rates (0 Hz) are paired values");
    assert_eq!(rate["n_animals"], "1");
}

#[test]
fn lfp_band_powers_follow_the_generated_theta_change() {
    // the generator halves theta amplitude after the injection: power × 0.25
    let dir = tempfile::tempdir().expect("tmp");
    let nwb = dir.path().join("s.nwb");
    bin()
        .args(["generate", "tetrode", "--out"])
        .arg(&nwb)
        .args(["--tetrodes", "1", "--duration", "60", "--seed", "3"])
        .assert()
        .success();
    let out = dir.path().join("out");
    bin().arg("bursts").arg(&nwb).arg("--out").arg(&out).args(["--format", "csv", "--no-figures"]).assert().success();
    let rows = csv(&out.join("lfp_bands.csv"));
    let theta = |w: &str| -> f64 {
        rows.iter().find(|r| r["band"] == "theta" && r["window"] == w).expect("theta row")["power_uv2"]
            .parse()
            .expect("power")
    };
    let ratio = theta("ketamine") / theta("baseline");
    assert!((ratio - 0.25).abs() < 0.05, "theta power ratio {ratio}");
    assert!(!csv(&out.join("lfp_spectra.csv")).is_empty());
}
