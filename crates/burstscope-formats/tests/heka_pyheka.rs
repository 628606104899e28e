//! Every HEKA PatchMaster bundle in `../shared/real/heka/` read by [`Heka`]
//! and compared with pyheka 1.0.1 (`tests/golden/heka_golden.json`, written
//! by `tests/golden/make_heka_golden.py`): the group/series/sweep/trace tree
//! with labels, counts and times, every trace's sample count, interval,
//! units, format, scale and recording mode, and its samples (first values,
//! sum, minimum, maximum); the stimulus tree's stimulations. The command
//! waveforms laid out from the stimulus tree are checked against the
//! amplifier's own voltage monitor recorded beside them.

use burstscope_formats::heka::{Heka, HekaDataFormat};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn real() -> Option<PathBuf> {
    let d = root().join("../shared/real/heka");
    if d.is_dir() {
        Some(d)
    } else {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real/heka");
        eprintln!("../shared/real/heka absent: skipped");
        None
    }
}

/// Equal to the last bits: serde_json (without `float_roundtrip`) may parse
/// the golden file's decimals one unit in the last place off.
fn ulps(a: f64, b: f64) -> bool {
    (a - b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs())
}

#[test]
fn every_real_heka_bundle_equals_pyheka() {
    let Some(dir) = real() else { return };
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("tests/golden/heka_golden.json")).unwrap()).unwrap();
    let files = g["files"].as_object().unwrap();
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x.eq_ignore_ascii_case("dat")))
        .count();
    assert_eq!(files.len(), on_disk, "a golden entry for every bundle");
    let mut traces = 0usize;
    let mut samples = 0usize;
    for (name, want) in files {
        let h = Heka::open(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(h.version, want["version"].as_str().unwrap(), "{name}");
        let wg = want["groups"].as_array().unwrap();
        assert_eq!(h.groups.len(), wg.len(), "{name}: groups");
        for (gi, (group, wg)) in h.groups.iter().zip(wg).enumerate() {
            assert_eq!(group.label, wg["label"].as_str().unwrap());
            let ws = wg["series"].as_array().unwrap();
            assert_eq!(group.series.len(), ws.len(), "{name}: group {gi} series");
            for (si, (series, ws)) in group.series.iter().zip(ws).enumerate() {
                assert_eq!(series.label, ws["label"].as_str().unwrap());
                assert!((series.time_unix_s - ws["time_unix_s"].as_f64().unwrap()).abs() < 1e-5, "{name}: series time");
                let ww = ws["sweeps"].as_array().unwrap();
                assert_eq!(series.sweeps.len(), ww.len(), "{name}: {gi}/{si} sweeps");
                for (wi, (sweep, ww)) in series.sweeps.iter().zip(ww).enumerate() {
                    let at = format!("{name}: {gi}/{si}/{wi}");
                    assert_eq!(i64::from(sweep.stim_count), ww["stim_count"].as_i64().unwrap(), "{at}");
                    assert_eq!(i64::from(sweep.sweep_count), ww["sweep_count"].as_i64().unwrap(), "{at}");
                    assert!((sweep.time_unix_s - ww["time_unix_s"].as_f64().unwrap()).abs() < 1e-5, "{at}: time");
                    let wt = ww["traces"].as_array().unwrap();
                    assert_eq!(sweep.traces.len(), wt.len(), "{at}: traces");
                    for (ti, (tr, wt)) in sweep.traces.iter().zip(wt).enumerate() {
                        let at = format!("{at}/{ti} {}", tr.label);
                        assert_eq!(tr.label, wt["label"].as_str().unwrap(), "{at}");
                        assert_eq!(tr.points as u64, wt["points"].as_u64().unwrap(), "{at}");
                        assert_eq!(tr.x_interval_s, wt["x_interval_s"].as_f64().unwrap(), "{at}");
                        assert_eq!(tr.y_unit, wt["y_unit"].as_str().unwrap(), "{at}");
                        assert!(ulps(tr.scaler, wt["scaler"].as_f64().unwrap()), "{at}: scaler {}", tr.scaler);
                        assert_eq!(tr.recording_mode.name(), wt["recording_mode"].as_str().unwrap(), "{at}");
                        assert_eq!(i64::from(tr.adc_channel), wt["adc_channel"].as_i64().unwrap(), "{at}");
                        let fmt = match tr.format {
                            HekaDataFormat::Int16 => "int16",
                            HekaDataFormat::Int32 => "int32",
                            HekaDataFormat::Real32 => "real32",
                            HekaDataFormat::Real64 => "real64",
                        };
                        assert_eq!(fmt, wt["format"].as_str().unwrap(), "{at}");
                        let y = h.trace(gi, si, wi, ti).unwrap();
                        assert_eq!(y.len() as u64, wt["len"].as_u64().unwrap(), "{at}");
                        for (k, v) in wt["first"].as_array().unwrap().iter().enumerate() {
                            assert!(ulps(y[k], v.as_f64().unwrap()), "{at}: sample {k}: {} against {v}", y[k]);
                        }
                        let sum: f64 = y.iter().sum();
                        let want_sum = wt["sum"].as_f64().unwrap();
                        // numpy sums pairwise, we in order: equal to 1e-12 of the magnitude
                        let mag: f64 = y.iter().map(|v| v.abs()).sum();
                        assert!((sum - want_sum).abs() <= 1e-12 * mag, "{at}: sum {sum} against {want_sum}");
                        let min = y.iter().copied().fold(f64::INFINITY, f64::min);
                        let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        assert!(ulps(min, wt["min"].as_f64().unwrap()), "{at}: min {min}");
                        assert!(ulps(max, wt["max"].as_f64().unwrap()), "{at}: max {max}");
                        traces += 1;
                        samples += y.len();
                    }
                }
            }
        }
        let st = want["stimulations"].as_array().unwrap();
        assert_eq!(h.stimulations.len(), st.len(), "{name}: stimulations");
        for (a, b) in h.stimulations.iter().zip(st) {
            assert_eq!(a.name, b["name"].as_str().unwrap());
            assert_eq!(a.sample_interval_s, b["sample_interval_s"].as_f64().unwrap());
            assert_eq!(i64::from(a.number_sweeps), b["number_sweeps"].as_i64().unwrap());
        }
    }
    eprintln!("{traces} traces, {samples} samples equal to pyheka");
    assert!(traces >= 68);
}

/// The command laid out from the stimulus tree equals the amplifier's voltage
/// monitor (recorded on its own AD channel) in every sweep: the step levels
/// (+27 mV down to −173 mV in 20 mV steps in the fast-application series)
/// within 1 mV, away from the edges (where the monitor lags the command by
/// up to 2.6 ms).
#[test]
fn heka_commands_equal_the_voltage_monitor() {
    let Some(dir) = real() else { return };
    let h = Heka::open(&dir.join("epc9_patchmaster_v2x73.dat")).unwrap();
    let mut checked = 0usize;
    let mut levels = Vec::new();
    for (gi, group) in h.groups.iter().enumerate() {
        for (si, series) in group.series.iter().enumerate() {
            for (wi, sweep) in series.sweeps.iter().enumerate() {
                let imon = sweep.traces.iter().position(|t| t.is_imon).unwrap();
                let vmon = sweep.traces.iter().position(|t| t.is_vmon).unwrap();
                let cmd = h.command(gi, si, wi, imon).expect("a command for the current trace");
                let v = h.trace(gi, si, wi, vmon).unwrap();
                assert_eq!(cmd.len(), v.len());
                // compare away from the edges: the monitor settles within
                // 2.6 ms of a 27 mV step, so 5 ms either side of any change
                let margin = 100;
                let mut worst = 0.0f64;
                for k in margin..cmd.len() - margin {
                    if (cmd[k - margin] - cmd[k + margin]).abs() > 1e-9 {
                        continue;
                    }
                    worst = worst.max((cmd[k] - v[k]).abs());
                }
                assert!(worst < 1e-3, "{gi}/{si}/{wi}: command differs from V-mon by {:.2} mV", worst * 1e3);
                if si == 0 {
                    levels.push((cmd[cmd.len() / 2] * 1e3).round());
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 34);
    let want: Vec<f64> = (0..11).map(|k| 27.0 - 20.0 * f64::from(k)).collect();
    assert_eq!(levels, want);
}
