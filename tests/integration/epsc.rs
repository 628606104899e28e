//! `burstscope epsc` end to end: accuracy against the pynwb fixtures' truth,
//! the LHb-vs-CA1 comparison equal to scipy, QC flags, and bad input.

use crate::util::{bin, fixture};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) fn csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let head: Vec<String> = lines.next().expect("header").split(',').map(String::from).collect();
    lines.map(|l| head.iter().cloned().zip(l.split(',').map(|s| s.trim_matches('"').to_string())).collect()).collect()
}

pub(crate) fn f(v: &str) -> f64 {
    v.parse().unwrap_or(f64::NAN)
}

/// All six pynwb-written cells (three per region) from ../shared, else the two copied here.
fn slice_dir() -> PathBuf {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/slices");
    if shared.join("LHb_cell03.nwb").exists() {
        return shared;
    }
    assert!(std::env::var_os("CI").is_none(), "{} is missing under CI", shared.display());
    fixture("slices")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn fixture_cells_match_truth_and_lhb_blocks_more_than_ca1() {
    let dir = tempfile::tempdir().expect("tmp");
    let slices = slice_dir();
    bin().arg("epsc").arg(&slices).arg("--out").arg(dir.path()).args(["--format", "csv"]).assert().success();
    let sweeps = csv(&dir.path().join("sweeps.csv"));
    let cells = csv(&dir.path().join("cells.csv"));
    for c in &cells {
        let id = &c["cell"];
        let file = Path::new(&c["file"]);
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file.with_extension("truth.json")).expect("truth json"))
                .expect("json");
        let ts = truth["sweeps"].as_array().expect("sweeps");
        let ours: Vec<&BTreeMap<String, String>> = sweeps.iter().filter(|s| &s["cell"] == id).collect();
        assert_eq!(ours.len(), ts.len(), "{id}");
        let amp_err = median(
            ours.iter()
                .zip(ts)
                .map(|(o, t)| {
                    let want = t["amplitude_pA"].as_f64().expect("amp");
                    (f(&o["amplitude_pa"]) - want).abs() / want
                })
                .collect(),
        );
        let rs_err = median(
            ours.iter()
                .zip(ts)
                .map(|(o, t)| {
                    let want = t["rs_MOhm"].as_f64().expect("rs");
                    (f(&o["rs_mohm"]) - want).abs() / want
                })
                .collect(),
        );
        let ff = truth["frac_fast"].as_f64().expect("frac");
        let tau_w = 1e3
            * (ff * truth["tau_fast_s"].as_f64().expect("tf") + (1.0 - ff) * truth["tau_slow_s"].as_f64().expect("ts"));
        let ours_tau =
            median(ours.iter().filter(|o| o["condition"] == "baseline").map(|o| f(&o["tau_weighted_ms"])).collect());
        let tau_err = (ours_tau - tau_w).abs() / tau_w;
        eprintln!(
            "{id}: amplitude error {:.2} %, access error {:.2} %, weighted tau {ours_tau:.1} vs {tau_w:.1} ms ({:.1} %), block {} %",
            100.0 * amp_err,
            100.0 * rs_err,
            100.0 * tau_err,
            c["block_pct"]
        );
        assert!(amp_err < 0.03, "{id}: amplitude error {amp_err}");
        assert!(rs_err < 0.10, "{id}: access error {rs_err}");
        assert!(tau_err < 0.10, "{id}: weighted tau error {tau_err}");
        assert_eq!(c["qc_pass"], "true", "{id}: {}", c["qc_reason"]);
    }
    let block =
        |r: &str| -> Vec<f64> { cells.iter().filter(|c| c["region"] == r).map(|c| f(&c["block_pct"])).collect() };
    let (lhb, ca1) = (block("LHb"), block("CA1"));
    let min_lhb = lhb.iter().copied().fold(f64::INFINITY, f64::min);
    let max_ca1 = ca1.iter().copied().fold(0.0, f64::max);
    assert!(min_lhb > max_ca1 + 20.0, "LHb block {lhb:?} vs CA1 {ca1:?}");
    // the statistics equal scipy's on the same numbers
    let stats = csv(&dir.path().join("group_stats.csv"));
    if let (Some(py), true) = (std::env::var_os("BURSTSCOPE_PYTHON"), lhb.len() >= 2) {
        let code = format!(
            "from scipy import stats; a={ca1:?}; b={lhb:?}; t=stats.ttest_ind(a,b,equal_var=False); u=stats.mannwhitneyu(a,b); print(repr(float(t.statistic)), repr(float(t.pvalue)), repr(float(u.statistic)), repr(float(u.pvalue)))"
        );
        let out = std::process::Command::new(py).args(["-c", &code]).output().expect("python");
        let want: Vec<f64> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(f).collect();
        assert_eq!(want.len(), 4, "{}", String::from_utf8_lossy(&out.stderr));
        let row = |test: &str| stats.iter().find(|r| r["metric"] == "block_pct" && r["test"] == test).expect("row");
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 || (a - b).abs() <= 1e-9 * b.abs();
        let w = row("ttest_welch");
        assert!(close(f(&w["statistic"]), want[0]) && close(f(&w["p_value"]), want[1]), "{w:?} vs {want:?}");
        let m = row("mannwhitneyu");
        assert!(close(f(&m["statistic"]), want[2]) && close(f(&m["p_value"]), want[3]), "{m:?} vs {want:?}");
    }
    for name in ["traces_cells", "traces_regions", "amplitude_time_course", "block_by_region"] {
        assert!(dir.path().join("figures").join(format!("{name}.png")).exists(), "{name}");
    }
}

#[test]
fn generated_cells_with_drift_and_without_stimulus_fail_qc() {
    let dir = tempfile::tempdir().expect("tmp");
    let generated = dir.path().join("gen");
    bin()
        .args(["generate", "slices", "--out"])
        .arg(&generated)
        .args(["--cells-per-region", "2", "--drift-cells", "1", "--seed", "5"])
        .assert()
        .success();
    let out = dir.path().join("out");
    let o = bin()
        .arg("epsc")
        .arg(&generated)
        .arg("--out")
        .arg(&out)
        .args(["--format", "csv", "--no-figures"])
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cells = csv(&out.join("cells.csv"));
    let flagged: Vec<_> = cells.iter().filter(|c| c["qc_pass"] == "false").collect();
    assert_eq!(flagged.len(), 2, "one drifting cell per region: {cells:?}");
    assert!(flagged.iter().all(|c| c["qc_reason"].contains("access resistance changed")));
    assert!(String::from_utf8_lossy(&o.stderr).contains("left out of group statistics"));
    let stats = csv(&out.join("group_stats.csv"));
    let lhb = stats.iter().find(|r| r["group"] == "LHb" && r["metric"] == "block_pct").expect("row");
    assert_eq!(lhb["n"], "1", "the drifting cell is left out");

    // a stimulus that is never there: every sweep unmeasured, reported as a QC failure
    let cfg = dir.path().join("noart.toml");
    std::fs::write(&cfg, "artifact_pa = 0.0\n").expect("write");
    let noart = dir.path().join("noart");
    bin()
        .args(["generate", "slices", "--out"])
        .arg(&noart)
        .args(["--cells-per-region", "1", "--regions", "LHb", "--config"])
        .arg(&cfg)
        .assert()
        .success();
    let out2 = dir.path().join("out2");
    bin().arg("epsc").arg(&noart).arg("--out").arg(&out2).args(["--format", "csv", "--no-figures"]).assert().success();
    let c = csv(&out2.join("cells.csv"));
    assert_eq!(c[0]["qc_pass"], "false");
    assert!(c[0]["qc_reason"].contains("without a measurable stimulus response"), "{}", c[0]["qc_reason"]);
    // given the stimulus time, the same cell is measured
    let out3 = dir.path().join("out3");
    bin()
        .arg("epsc")
        .arg(&noart)
        .arg("--out")
        .arg(&out3)
        .args(["--format", "csv", "--no-figures", "--stim-ms", "200"])
        .assert()
        .success();
    assert_eq!(csv(&out3.join("cells.csv"))[0]["qc_pass"], "true");

    // decay fits that cannot work (a 0.5 ms fit window) are a reported QC failure
    let bad_fit = dir.path().join("fit.toml");
    std::fs::write(&bad_fit, "[sweep]\ndecay_window_ms = 0.5\n").expect("write");
    let out4 = dir.path().join("out4");
    bin()
        .arg("epsc")
        .arg(&generated)
        .arg("--out")
        .arg(&out4)
        .args(["--format", "csv", "--no-figures", "--config"])
        .arg(&bad_fit)
        .assert()
        .success();
    assert!(csv(&out4.join("cells.csv")).iter().all(|c| c["qc_reason"].contains("decay fit failed")));
}

#[test]
fn bad_files_are_reported_and_skipped() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    // among several: exit 1, the good one analysed
    let o = bin()
        .arg("epsc")
        .arg(fixture("slices/LHb_cell01.nwb"))
        .arg(fixture("bad/current_clamp.nwb"))
        .arg(fixture("lhb_units_ketamine.nwb"))
        .arg("--out")
        .arg(&out)
        .args(["--format", "csv", "--no-figures"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("current_clamp.nwb") && err.contains("current-clamp"), "{err}");
    assert!(err.contains("lhb_units_ketamine.nwb") && err.contains("no sweeps"), "{err}");
    assert_eq!(csv(&out.join("cells.csv")).len(), 1);
    // alone: exit 2, nothing written
    let out2 = dir.path().join("out2");
    let o = bin().arg("epsc").arg(fixture("bad/current_clamp.nwb")).arg("--out").arg(&out2).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(!out2.join("cells.parquet").exists());
    // bad flags
    let o = bin()
        .arg("epsc")
        .arg(fixture("slices"))
        .arg("--out")
        .arg(&out2)
        .args(["--test-pulse", "50:40:-5"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("START_MS:STOP_MS:STEP_MV"));
}

/// A new whole-cell NWB file at `path` with an amplifier device `amp`.
fn slice_writer(path: &Path) -> burstscope_io::NwbWriter {
    use burstscope_io::{NwbSession, NwbWriter};
    let nwb = NwbWriter::create(
        path,
        &NwbSession {
            identifier: path.file_stem().map_or_else(|| "cells".into(), |s| s.to_string_lossy().into_owned()),
            session_description: "whole-cell voltage clamp".into(),
            session_start_time: "2026-01-01T10:00:00+00:00".into(),
            pharmacology: None,
            experimenter: vec![],
            subject: vec![],
        },
    )
    .unwrap();
    nwb.add_device("amp", "amplifier").unwrap();
    nwb
}

/// Writes cells into one NWB file, one electrode each (name, location, cell),
/// with every sweep's `stimulus_description` set to `description` when given
/// (a protocol name, as many acquisition programs write) and the epochs.
fn write_cells(
    path: &Path,
    cells: &[(&str, &str, &burstscope_synth::SliceCell)],
    description: Option<&str>,
    epochs: &[burstscope_core::Epoch],
) {
    use burstscope_io::SweepSpec;
    let nwb = slice_writer(path);
    for (e, location, _) in cells {
        nwb.add_ic_electrode(e, "amp", "patch electrode", location, "").unwrap();
    }
    for (e, _, cell) in cells {
        for s in &cell.sweeps {
            let k = s.truth.sweep;
            nwb.add_voltage_clamp_sweep(&SweepSpec {
                name: format!("{e}_response_{k:03}"),
                stimulus_name: format!("{e}_stimulus_{k:03}"),
                sweep_number: k,
                starting_time_s: s.truth.start_s,
                rate_hz: cell.params.rate_hz,
                response_a: &s.response_a,
                command_v: &s.command_v,
                stimulus_description: description.map_or_else(|| s.truth.condition.clone(), String::from),
                electrode: (*e).into(),
            })
            .unwrap();
        }
    }
    if !epochs.is_empty() {
        nwb.add_epochs(epochs).unwrap();
    }
    nwb.finish().unwrap();
}

#[test]
fn paired_recording_gives_one_cell_per_electrode_with_its_own_stimuli() {
    use burstscope_synth::{SliceCell, SliceParams};
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("pair.nwb");
    // two cells patched at once; the same sweep numbers on both electrodes and
    // different test pulses, so a stimulus paired with the wrong electrode shows
    // in the access resistance
    let lhb = SliceCell::new(SliceParams { region: "LHb".into(), rs_mohm: 12.0, ..SliceParams::default() }).unwrap();
    let ca1 = SliceCell::new(SliceParams {
        region: "CA1".into(),
        rs_mohm: 20.0,
        test_pulse_mv: -10.0,
        seed: 2,
        ..SliceParams::default()
    })
    .unwrap();
    write_cells(&path, &[("elecA", "LHb", &lhb), ("elecB", "CA1", &ca1)], None, &[]);
    let out = dir.path().join("out");
    bin().arg("epsc").arg(&path).arg("--out").arg(&out).args(["--format", "csv", "--no-figures"]).assert().success();
    let cells = csv(&out.join("cells.csv"));
    assert_eq!(cells.len(), 2, "{cells:?}");
    let sweeps = csv(&out.join("sweeps.csv"));
    for (name, region, cell) in [("pair/elecA", "LHb", &lhb), ("pair/elecB", "CA1", &ca1)] {
        let c = cells.iter().find(|c| c["cell"] == name).unwrap_or_else(|| panic!("{name} in {cells:?}"));
        assert_eq!(c["region"], region);
        assert_eq!(c["qc_pass"], "true", "{name}: {}", c["qc_reason"]);
        let rs: Vec<f64> = sweeps.iter().filter(|s| s["cell"] == name).map(|s| f(&s["rs_mohm"])).collect();
        assert_eq!(rs.len(), cell.sweeps.len());
        let want = cell.params.rs_mohm;
        assert!((median(rs.clone()) - want).abs() < 0.1 * want, "{name}: access {} vs {want}", median(rs));
    }
    let lhb_block = f(&cells.iter().find(|c| c["region"] == "LHb").unwrap()["block_pct"]);
    let ca1_block = f(&cells.iter().find(|c| c["region"] == "CA1").unwrap()["block_pct"]);
    assert!(lhb_block > ca1_block + 20.0, "LHb {lhb_block} vs CA1 {ca1_block}");
}

#[test]
fn conditions_come_from_epochs_when_every_sweep_names_the_protocol() {
    use burstscope_core::Epoch;
    use burstscope_synth::{SliceCell, SliceParams};
    let dir = tempfile::tempdir().expect("tmp");
    let cell = SliceCell::new(SliceParams::default()).unwrap();
    let end = cell.sweeps.last().unwrap().truth.start_s + 1.0;
    let epochs = [
        Epoch { start_s: 0.0, stop_s: cell.drug_on_s, tags: vec!["Baseline".into()] },
        Epoch { start_s: cell.drug_on_s, stop_s: end, tags: vec!["ketamine".into()] },
    ];
    let path = dir.path().join("protocol.nwb");
    write_cells(&path, &[("elec0", "LHb", &cell)], Some("NMDA_+40mV"), &epochs);
    let out = dir.path().join("out");
    bin().arg("epsc").arg(&path).arg("--out").arg(&out).args(["--format", "csv", "--no-figures"]).assert().success();
    let sweeps = csv(&out.join("sweeps.csv"));
    for (s, t) in sweeps.iter().zip(&cell.sweeps) {
        let want = if t.truth.condition == "baseline" { "Baseline" } else { "ketamine" };
        assert_eq!(s["condition"], want, "sweep {}", s["sweep"]);
    }
    let c = &csv(&out.join("cells.csv"))[0];
    assert_eq!((c["n_baseline"].as_str(), c["n_drug"].as_str()), ("20", "40"));
    assert_eq!(c["qc_pass"], "true", "{}", c["qc_reason"]);
    let truth = 100.0
        * (1.0 - cell.sweeps[cell.sweeps.len() - 10..].iter().map(|s| s.truth.unblocked_fraction).sum::<f64>() / 10.0);
    assert!((f(&c["block_pct"]) - truth).abs() < 5.0, "block {} vs truth {truth}", c["block_pct"]);
    // the use-dependence of an LHb cell is determined: 6 % of receptors per stimulus
    assert!((f(&c["block_per_stimulus"]) - 0.06).abs() < 0.01, "{}", c["block_per_stimulus"]);
}

/// pynwb: one continuous response and command series holding every sweep of a
/// fixture cell back to back, the sweeps as `IntracellularRecordingsTable`
/// rows with `idx_start`/`count`, one protocol name for every sweep and the
/// conditions as epochs.
const CONTINUOUS: &str = r#"
import sys
from datetime import datetime, timezone
import numpy as np
from pynwb import NWBHDF5IO, NWBFile
from pynwb.icephys import VoltageClampSeries, VoltageClampStimulusSeries
src, dst = sys.argv[1], sys.argv[2]
with NWBHDF5IO(src, "r") as io:
    nwb = io.read()
    names = sorted(k for k in nwb.acquisition if k.startswith("response_"))
    resp = [np.asarray(nwb.acquisition[k].data[:]) for k in names]
    stim = [np.asarray(nwb.stimulus[k.replace("response", "stimulus")].data[:]) for k in names]
    conds = [nwb.acquisition[k].stimulus_description for k in names]
    rate = float(nwb.acquisition[names[0]].rate)
    loc = nwb.acquisition[names[0]].electrode.location
out = NWBFile(session_description="continuous voltage clamp", identifier="continuous",
              session_start_time=datetime(2026, 1, 1, tzinfo=timezone.utc))
dev = out.create_device(name="amp")
el = out.create_icephys_electrode(name="elec0", description="patch", device=dev, location=loc, cell_id="cont-01")
r = VoltageClampSeries(name="continuous", data=np.concatenate(resp), rate=rate, starting_time=0.0,
                       electrode=el, gain=1.0, stimulus_description="NMDA_+40mV", sweep_number=0)
s = VoltageClampStimulusSeries(name="command", data=np.concatenate(stim), rate=rate, starting_time=0.0,
                               electrode=el, gain=1.0, stimulus_description="NMDA_+40mV", sweep_number=0)
out.add_acquisition(r)
out.add_stimulus(s)
n = len(resp[0])
for k in range(len(resp)):
    out.add_intracellular_recording(electrode=el, stimulus=s, stimulus_start_index=k * n, stimulus_index_count=n,
                                    response=r, response_start_index=k * n, response_index_count=n)
nb = conds.count("baseline")
out.add_epoch(start_time=0.0, stop_time=nb * n / rate, tags=["baseline"])
out.add_epoch(start_time=nb * n / rate, stop_time=len(resp) * n / rate, tags=["ketamine"])
with NWBHDF5IO(dst, "w") as io:
    io.write(out)
print("written")
"#;

#[test]
fn sweeps_as_segments_of_one_series_measure_like_separate_sweeps() {
    let Some(py) = crate::pynwb_roundtrip::python() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let src = fixture("slices/LHb_cell01.nwb");
    let cont = dir.path().join("continuous.nwb");
    let o = std::process::Command::new(py).args(["-c", CONTINUOUS]).arg(&src).arg(&cont).output().expect("python");
    assert!(o.status.success(), "pynwb: {}", String::from_utf8_lossy(&o.stderr));
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (input, out) in [(&src, &a), (&cont, &b)] {
        bin().arg("epsc").arg(input).arg("--out").arg(out).args(["--format", "csv", "--no-figures"]).assert().success();
    }
    let (sa, sb) = (csv(&a.join("sweeps.csv")), csv(&b.join("sweeps.csv")));
    assert_eq!(sa.len(), sb.len());
    for (x, y) in sa.iter().zip(&sb) {
        assert_eq!(x["condition"], y["condition"], "sweep {}", x["sweep"]);
        for col in ["amplitude_pa", "rs_mohm", "tau_weighted_ms"] {
            assert!((f(&x[col]) - f(&y[col])).abs() <= 1e-9 * f(&x[col]).abs(), "{col}: {} vs {}", x[col], y[col]);
        }
    }
    let (ca, cb) = (&csv(&a.join("cells.csv"))[0], &csv(&b.join("cells.csv"))[0]);
    assert_eq!(cb["cell"], "cont-01");
    assert!((f(&ca["block_pct"]) - f(&cb["block_pct"])).abs() < 1e-9);
}

#[test]
fn sweeps_at_another_holding_potential_are_left_out() {
    use burstscope_io::SweepSpec;
    use burstscope_synth::{SliceCell, SliceParams};
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("mixed.nwb");
    // ten inward AMPA sweeps at −70 mV, then the cell's +40 mV NMDA experiment
    let ampa =
        SliceCell::new(SliceParams { holding_mv: -70.0, amplitude_pa: -150.0, ..SliceParams::default() }).unwrap();
    let nmda = SliceCell::new(SliceParams { seed: 3, ..SliceParams::default() }).unwrap();
    let nwb = slice_writer(&path);
    nwb.add_ic_electrode("elec0", "amp", "patch", "LHb", "mixed-01").unwrap();
    let t0 = 200.0;
    let sweeps = ampa.sweeps[..10].iter().map(|s| (s, 0.0, "AMPA")).chain(nmda.sweeps.iter().map(|s| (s, t0, "")));
    for (k, (s, offset, label)) in sweeps.enumerate() {
        nwb.add_voltage_clamp_sweep(&SweepSpec {
            name: format!("response_{k:03}"),
            stimulus_name: format!("stimulus_{k:03}"),
            sweep_number: k as u32,
            starting_time_s: s.truth.start_s + offset,
            rate_hz: 10_000.0,
            response_a: &s.response_a,
            command_v: &s.command_v,
            stimulus_description: if label.is_empty() { s.truth.condition.clone() } else { label.into() },
            electrode: "elec0".into(),
        })
        .unwrap();
    }
    nwb.finish().unwrap();
    let out = dir.path().join("out");
    let o =
        bin().arg("epsc").arg(&path).arg("--out").arg(&out).args(["--format", "csv", "--no-figures"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("10 sweep(s) held at [-70] mV left out"));
    let c = &csv(&out.join("cells.csv"))[0];
    assert_eq!((f(&c["holding_mv"]), c["n_baseline"].as_str(), c["n_drug"].as_str()), (40.0, "20", "40"));
    assert_eq!(c["qc_pass"], "true", "{}", c["qc_reason"]);
    let truth: f64 = nmda.sweeps[..20].iter().map(|s| s.truth.amplitude_pa).sum::<f64>() / 20.0;
    assert!((f(&c["baseline_amplitude_pa"]) - truth).abs() < 0.03 * truth, "{} vs {truth}", c["baseline_amplitude_pa"]);
    // asked for the AMPA sweeps: inward, ten of them, no drug period
    let out2 = dir.path().join("out2");
    bin()
        .arg("epsc")
        .arg(&path)
        .arg("--out")
        .arg(&out2)
        .args(["--format", "csv", "--no-figures", "--holding-mv", "-70", "--config"])
        .arg({
            let cfg = dir.path().join("ampa.toml");
            std::fs::write(&cfg, "[cell]\nbaseline_condition = \"AMPA\"\n").unwrap();
            cfg
        })
        .assert()
        .success();
    let c2 = &csv(&out2.join("cells.csv"))[0];
    assert_eq!((f(&c2["holding_mv"]), c2["n_baseline"].as_str()), (-70.0, "10"));
    let want: f64 = ampa.sweeps[..10].iter().map(|s| s.truth.amplitude_pa).sum::<f64>() / 10.0;
    assert!(
        want < 0.0 && (f(&c2["baseline_amplitude_pa"]) - want).abs() < 0.03 * want.abs(),
        "{} vs {want}",
        c2["baseline_amplitude_pa"]
    );
    assert!(c2["qc_reason"].contains("no drug sweeps"));
}
