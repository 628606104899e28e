//! Every ABF file in `../shared/real/abf/` read by [`Abf`] and compared with
//! pyABF 2.3.8 (`tests/golden/abf_golden.json`, written by
//! `tests/golden/make_abf_golden.py`): sweep and channel counts, rate,
//! names and units, sweep lengths and start times, tags, the epoch table of
//! sweep 0, and samples equal as float32 after scaling.

use burstscope_formats::abf::{Abf, AbfFormat, EpochKind};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn real() -> Option<PathBuf> {
    let d = root().join("../shared/real/abf");
    if d.is_dir() {
        Some(d)
    } else {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real/abf");
        eprintln!("../shared/real/abf absent: skipped");
        None
    }
}

fn golden() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(root().join("tests/golden/abf_golden.json")).unwrap()).unwrap()
}

fn pyabf_kind(k: EpochKind) -> &'static str {
    match k {
        EpochKind::Step => "Step",
        EpochKind::Ramp => "Ramp",
        EpochKind::Pulse => "Pulse",
        EpochKind::Triangle => "Tri",
        EpochKind::Cosine => "Cos",
        EpochKind::Biphasic => "Biph",
        EpochKind::Other(_) => "?",
    }
}

#[test]
fn every_real_abf_file_equals_pyabf() {
    let Some(dir) = real() else { return };
    let g = golden();
    let files = g["files"].as_object().unwrap();
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "abf"))
        .count();
    assert_eq!(files.len(), on_disk, "a golden entry for every file");
    let mut samples_checked = 0usize;
    let (mut commands_checked, mut command_mismatch) = (0usize, Vec::<String>::new());
    for (name, want) in files {
        let abf = Abf::open(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ctx = |what: &str| format!("{name}: {what}");
        assert_eq!(abf.version, want["version"].as_str().unwrap(), "{}", ctx("version"));
        assert_eq!(i64::from(abf.mode.code()), want["operation_mode"].as_i64().unwrap(), "{}", ctx("mode"));
        assert_eq!(abf.channels.len() as u64, want["channels"].as_u64().unwrap(), "{}", ctx("channels"));
        assert_eq!(abf.sweeps.len() as u64, want["sweeps"].as_u64().unwrap(), "{}", ctx("sweeps"));
        #[allow(clippy::cast_possible_truncation)]
        let rate_int = abf.rate_hz as i64;
        assert_eq!(rate_int, want["rate_hz_int"].as_i64().unwrap(), "{}", ctx("rate"));
        let lens: Vec<u64> = abf.sweeps.iter().map(|s| s.len as u64).collect();
        let want_lens: Vec<u64> =
            want["sweep_lengths"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(lens, want_lens, "{}", ctx("sweep lengths"));
        for (i, c) in abf.channels.iter().enumerate() {
            // pyabf shows a missing name or unit as "?"
            let or_q = |s: &str| if s.is_empty() { "?".to_string() } else { s.to_string() };
            assert_eq!(or_q(&c.units), want["adc_units"][i].as_str().unwrap(), "{}", ctx("units"));
            assert_eq!(or_q(&c.name), want["adc_names"][i].as_str().unwrap(), "{}", ctx("names"));
        }
        // Tags: text and time.
        let comments: Vec<&str> =
            want["tag_comments"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(abf.tags.iter().map(|t| t.comment.as_str()).collect::<Vec<_>>(), comments, "{}", ctx("tags"));
        for (t, w) in abf.tags.iter().zip(want["tag_times_s"].as_array().unwrap()) {
            assert!((t.time_s - w.as_f64().unwrap()).abs() < 1e-9, "{}: {} vs {w}", ctx("tag time"), t.time_s);
        }
        // Sweep start times come from the synch array. pyABF takes them as
        // sweep index x the protocol's interval (ABF2) or x the sweep length
        // (ABF1), so they are compared on ABF2; File_axon_7's synch array
        // starts at 1050.3 s on the acquisition clock, 8.93 s apart, where
        // pyABF counts from 0 in the protocol's 10 s.
        if abf.format == AbfFormat::V2 && name != "File_axon_7.abf" {
            for (k, (s, w)) in abf.sweeps.iter().zip(want["sweep_times_s"].as_array().unwrap()).enumerate() {
                let w = w.as_f64().unwrap();
                assert!(
                    (s.start_s - w).abs() < 1e-6 * w.abs().max(1.0),
                    "{}: sweep {k}: {} vs {w}",
                    ctx("sweep start"),
                    s.start_s
                );
            }
        } else if abf.episode_interval_s > 0.0 && abf.sweeps.len() > 1 {
            // ABF1: the synch array agrees with the protocol's start-to-start interval.
            let d = abf.sweeps[1].start_s - abf.sweeps[0].start_s;
            assert!(
                (d - abf.episode_interval_s).abs() < 1e-6 || name == "File_axon_7.abf",
                "{}: {d} vs {}",
                ctx("sweep interval"),
                abf.episode_interval_s
            );
        }
        if abf.format == AbfFormat::V2 {
            for (d, w) in abf.dacs.iter().zip(want["holding"].as_array().unwrap()) {
                assert_eq!(f64::from(d.holding), w.as_f64().unwrap(), "{}", ctx("holding"));
            }
        }
        // Samples: equal as float32.
        for c in want["checks"].as_array().unwrap() {
            let (s, ch) = (c["sweep"].as_u64().unwrap() as usize, c["channel"].as_u64().unwrap() as usize);
            let y = abf.sweep(s, ch).unwrap();
            assert_eq!(y.len() as u64, c["n"].as_u64().unwrap(), "{}", ctx("sweep length"));
            for (i, v) in c["index"].as_array().unwrap().iter().zip(c["values"].as_array().unwrap()) {
                #[allow(clippy::cast_possible_truncation)]
                let want_v = v.as_f64().unwrap() as f32;
                let got = y[i.as_u64().unwrap() as usize];
                assert_eq!(
                    got.to_bits(),
                    want_v.to_bits(),
                    "{}: sweep {s} channel {ch} sample {i}: {got} vs {want_v}",
                    ctx("value")
                );
            }
            let sum: f64 = y.iter().map(|&v| f64::from(v)).sum();
            let w = c["sum"].as_f64().unwrap();
            assert!(
                (sum - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{}: sweep {s} channel {ch}: sum {sum} vs {w}",
                ctx("sum")
            );
            assert_eq!(y.iter().copied().fold(f32::INFINITY, f32::min), c["min"].as_f64().unwrap() as f32);
            assert_eq!(y.iter().copied().fold(f32::NEG_INFINITY, f32::max), c["max"].as_f64().unwrap() as f32);
            samples_checked += y.len();
            // The command waveform from the epoch table (DAC = channel, as
            // pyabf). pyabf takes an ABF1 file's holding level from the first
            // epoch's level (fEpochInitLevel) where the header has
            // fDACHoldingLevel (the ABF2 copies of the same recordings agree
            // with the latter), so in ABF1 files only the epochs are compared.
            let dac = if abf.format == AbfFormat::V1 && ch > 1 { 0 } else { ch };
            if let Some(ws) = c["command_sum"].as_f64()
                && dac < abf.dacs.len()
            {
                let cmd = abf.sweep_command(s, dac);
                let in_epoch = |i: usize| {
                    abf.format == AbfFormat::V2
                        || abf.sweep_epochs(s, dac).iter().any(|e| e.epoch.is_some() && (e.start..e.end).contains(&i))
                };
                let mut bad = Vec::new();
                for (i, v) in c["index"].as_array().unwrap().iter().zip(c["command_values"].as_array().unwrap()) {
                    let i = i.as_u64().unwrap() as usize;
                    let got = f64::from(cmd.get(i).copied().unwrap_or(f32::NAN));
                    if in_epoch(i) && (got - v.as_f64().unwrap()).abs() > 1e-3 {
                        bad.push(format!("sample {i}: {got} vs {v}"));
                    }
                }
                let sum: f64 = cmd.iter().map(|&v| f64::from(v)).sum();
                if abf.format == AbfFormat::V2 && (sum - ws).abs() > 1e-4 * ws.abs().max(cmd.len() as f64) {
                    bad.push(format!("sum {sum} vs {ws}"));
                }
                if bad.is_empty() {
                    commands_checked += 1;
                } else {
                    command_mismatch.push(format!("{name} sweep {s} channel {ch}: {}", bad.join(", ")));
                }
            }
        }
        // Epochs of sweep 0 where pyabf could build them from a sane header.
        for e in want["epochs_sweep0"].as_array().unwrap() {
            let Some(p1s) = e["p1s"].as_array() else { continue };
            let p1s: Vec<i64> = p1s.iter().map(|v| v.as_i64().unwrap()).collect();
            if p1s.iter().any(|&p| p < 0) {
                continue; // pyabf reads garbage epochs from the ABF 1.2 file; we give none (with a warning)
            }
            let dac = e["channel"].as_u64().unwrap() as usize;
            // pyabf lays the table out whether or not the waveform was played.
            let ours = abf.epoch_layout(0, dac);
            if ours.is_empty() {
                assert!(abf.dacs.get(dac).is_none_or(|d| d.epochs.is_empty()), "{}", ctx("epochs missing"));
                continue;
            }
            let p2s: Vec<i64> = e["p2s"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
            let types: Vec<&str> = e["types"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            let levels: Vec<Option<f64>> =
                e["levels"].as_array().unwrap().iter().map(serde_json::Value::as_f64).collect();
            assert_eq!(ours.iter().map(|x| x.start as i64).collect::<Vec<_>>(), p1s, "{}", ctx("epoch starts"));
            assert_eq!(ours.iter().map(|x| x.end as i64).collect::<Vec<_>>(), p2s, "{}", ctx("epoch ends"));
            assert_eq!(ours.iter().map(|x| pyabf_kind(x.kind)).collect::<Vec<_>>(), types, "{}", ctx("epoch types"));
            // Levels: pyabf takes ABF1's first epoch level for its holding, so
            // the holding periods are compared on ABF2 only.
            for (k, (x, w)) in ours.iter().zip(&levels).enumerate() {
                if x.epoch.is_none() && abf.format == AbfFormat::V1 {
                    continue;
                }
                assert_eq!(Some(f64::from(x.level)), *w, "{}: epoch {k}", ctx("epoch level"));
            }
        }
    }
    assert!(samples_checked > 1_000_000, "{samples_checked}");
    eprintln!("command waveforms equal to pyabf's sweepC: {commands_checked}");
    assert!(command_mismatch.is_empty(), "command waveforms differ from pyabf:\n{}", command_mismatch.join("\n"));
    assert!(commands_checked > 50, "{commands_checked}");
}

#[test]
fn abf1_and_abf2_copies_of_a_recording_agree() {
    let Some(dir) = real() else { return };
    for (a2, a1) in [("pclamp11_4ch.abf", "pclamp11_4ch_abf1.abf"), ("18425108.abf", "18425108_abf1.abf")] {
        let (x, y) = (Abf::open(&dir.join(a2)).unwrap(), Abf::open(&dir.join(a1)).unwrap());
        assert_eq!((x.format, y.format), (AbfFormat::V2, AbfFormat::V1));
        assert_eq!(x.sweeps.len(), y.sweeps.len(), "{a1}");
        assert_eq!(x.rate_hz, y.rate_hz);
        for c in 0..x.channels.len() {
            assert_eq!(x.channels[c].units, y.channels[c].units);
            for s in [0, x.sweeps.len() - 1] {
                // Clampfit's conversion to ABF1 rescales: within 2 counts.
                let (p, q) = (x.sweep(s, c).unwrap(), y.sweep(s, c).unwrap());
                assert_eq!(p.len(), q.len());
                let worst = p.iter().zip(&q).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
                assert!(worst <= 2.0 * x.channels[c].gain, "{a1} sweep {s} channel {c}: differ by {worst}");
            }
        }
        // The holding and the epochs of the first DAC are the same, holding included.
        assert_eq!(x.dacs[0].holding, y.dacs[0].holding, "{a1} holding");
        assert_eq!(x.sweep_epochs(1, 0), y.sweep_epochs(1, 0), "{a1} epochs");
    }
}

#[test]
fn odd_headers_give_values_and_warnings() {
    let Some(dir) = real() else { return };
    let old = Abf::open(&dir.join("130618-1-12.abf")).unwrap();
    assert!(old.warnings.iter().any(|w| w.contains("old header")), "{:?}", old.warnings);
    assert!(old.sweep(0, 0).unwrap().iter().all(|v| v.is_finite()));
    for f in ["opto_aps_bad_units.abf", "180329_ts_0005-badUnits.abf"] {
        let a = Abf::open(&dir.join(f)).unwrap();
        assert!(a.warnings.iter().any(|w| w.contains("current clamp")), "{f}: {:?}", a.warnings);
    }
    let good = Abf::open(&dir.join("opto_aps_good_units.abf")).unwrap();
    assert!(!good.warnings.iter().any(|w| w.contains("current clamp")), "{:?}", good.warnings);
    // Tags with their times: the drug wash-in comment.
    let t = Abf::open(&dir.join("2018_11_16_sh_0006.abf")).unwrap();
    assert_eq!(t.tags.len(), 1);
    assert_eq!(t.tags[0].comment, "+drug at 3min");
}

#[test]
fn damaged_copies_of_real_files_never_panic() {
    let Some(dir) = real() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for name in ["model_vc_step.abf", "05210017_vc_abf1.abf", "2020_06_16_0000.abf"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let p = tmp.path().join(name);
        // Truncated at many lengths, and with header bytes overwritten.
        let mut cases: Vec<Vec<u8>> = [0, 3, 100, 511, 512, 2048, 4000, 6144, bytes.len() / 2, bytes.len() - 1]
            .iter()
            .map(|&n| bytes[..n.min(bytes.len())].to_vec())
            .collect();
        for at in (4..600).step_by(7) {
            let mut b = bytes.clone();
            for k in 0..4 {
                b[at + k] = 0xFF;
            }
            cases.push(b);
        }
        for b in cases {
            std::fs::write(&p, &b).unwrap();
            if let Ok(a) = Abf::open(&p) {
                for s in 0..a.sweeps.len().min(3) {
                    for c in 0..a.channels.len() {
                        let _ = a.sweep(s, c);
                        let _ = a.sweep_epochs(s, c);
                    }
                }
            }
        }
    }
}
