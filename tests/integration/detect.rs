//! `burstscope detect` end to end: accuracy against ground truth, agreement
//! with SpikeInterface, outputs, bad data and thread-count independence.

use crate::util::{bin, fixture};
use burstscope_io::Recording;
use std::path::Path;

/// Spike samples from a spikes.csv, with the channel and group columns.
fn read_spikes(dir: &Path) -> Vec<(i64, String, i64)> {
    let text = std::fs::read_to_string(dir.join("spikes.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (s, g, c) = (col("sample"), col("group"), col("channel"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[s].parse().unwrap(), f[g].to_string(), f[c].parse().unwrap())
        })
        .collect()
}

fn detect_csv(file: &Path, out: &Path, extra: &[&str]) {
    let o = bin().arg("detect").arg(file).arg("--out").arg(out).args(["--format", "csv"]).args(extra).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Fraction of `x` with an element of sorted `y` within `tol`.
fn frac_matched(x: &[i64], y: &[i64], tol: i64) -> f64 {
    let hit = x
        .iter()
        .filter(|&&v| {
            let i = y.partition_point(|&w| w < v - tol);
            i < y.len() && (y[i] - v).abs() <= tol
        })
        .count();
    hit as f64 / x.len().max(1) as f64
}

/// SpikeInterface's peaks from a golden CSV (`sample_index,channel_index,amplitude`)
/// as (sample, channel, |amplitude|).
fn si_peaks(golden: &str) -> Vec<(i64, i64, f64)> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(golden)).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse::<f64>().unwrap().abs())
        })
        .collect()
}

/// One event per group: of the (sample, |amplitude|) peaks of one group, those
/// with no larger peak (or an equal, earlier one) within `w` samples; sorted.
fn one_per_group(mut peaks: Vec<(i64, f64)>, w: i64) -> Vec<i64> {
    peaks.sort_by_key(|a| a.0);
    peaks
        .iter()
        .enumerate()
        .filter(|(i, (s, a))| {
            !peaks
                .iter()
                .enumerate()
                .any(|(j, (s2, a2))| j != *i && (s2 - s).abs() <= w && (a2 > a || (a2 == a && s2 < s)))
        })
        .map(|(_, (s, _))| *s)
        .collect()
}

/// Recall over units whose template peak exceeds 5σ, and precision, against
/// the file's `/units` truth, matching within 0.4 ms (SpikeInterface's convention).
fn score(nwb: &Path, truth: &Path, det: &Path) -> (f64, f64) {
    let t = json(truth);
    let fs = t["fs"].as_f64().unwrap();
    let noise: Vec<f64> = json(&det.join("detect.json"))["outputs"]["summary"]["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["noise_uv"].as_f64().unwrap())
        .collect();
    let units = Recording::open(nwb).unwrap().units().unwrap();
    let mut ours: Vec<i64> = read_spikes(det).iter().map(|s| s.0).collect();
    ours.sort_unstable();
    let tol = (0.4e-3 * fs) as i64;
    let (mut hit, mut n, mut all) = (0.0, 0usize, Vec::new());
    for (u, tu) in units.iter().zip(t["units"].as_array().unwrap()) {
        let samples: Vec<i64> = u.spike_times_s.iter().map(|s| (s * fs).round() as i64).collect();
        let tet = tu["tetrode"].as_u64().unwrap() as usize;
        let sigma = noise[tet * 4..tet * 4 + 4].iter().copied().fold(0.0, f64::max);
        let peak = tu["peak_uV"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap().abs()).fold(0.0, f64::max);
        if peak > 5.0 * sigma {
            hit += frac_matched(&samples, &ours, tol) * samples.len() as f64;
            n += samples.len();
        }
        all.extend(samples);
    }
    all.sort_unstable();
    (hit / n as f64, frac_matched(&ours, &all, tol))
}

#[test]
fn fixture_recall_and_precision_against_truth() {
    let dir = tempfile::tempdir().unwrap();
    detect_csv(&fixture("tetrode_raw.nwb"), dir.path(), &[]);
    let (recall, precision) = score(&fixture("tetrode_raw.nwb"), &fixture("tetrode_raw.truth.json"), dir.path());
    eprintln!("tetrode_raw.nwb: recall {recall:.4} precision {precision:.4}");
    assert!(recall >= 0.95 && precision >= 0.95, "recall {recall} precision {precision}");
}

#[test]
fn generated_session_recall_and_precision_against_truth() {
    let dir = tempfile::tempdir().unwrap();
    let nwb = dir.path().join("s.nwb");
    bin()
        .args(["generate", "tetrode", "--out"])
        .arg(&nwb)
        .args(["--tetrodes", "4", "--duration", "40", "--seed", "11"])
        .assert()
        .success();
    let det = dir.path().join("det");
    detect_csv(&nwb, &det, &[]);
    let (recall, precision) = score(&nwb, &dir.path().join("s.truth.json"), &det);
    eprintln!("generated: recall {recall:.4} precision {precision:.4}");
    assert!(recall >= 0.95 && precision >= 0.95, "recall {recall} precision {precision}");
}

/// SpikeInterface 0.105.3 on the same file and settings (peaks committed in
/// tests/golden/si_peaks_tetrode_raw.csv by ../shared/tools/spikeinterface_detect.py
/// --jobs 2), reduced to one event per group: the largest |amplitude| within ±0.5 ms.
#[test]
fn agreement_with_spikeinterface_on_the_fixture() {
    let dir = tempfile::tempdir().unwrap();
    detect_csv(&fixture("tetrode_raw.nwb"), dir.path(), &[]);
    let mut ours: Vec<i64> = read_spikes(dir.path()).iter().map(|s| s.0).collect();
    ours.sort_unstable();
    // one tetrode; 0.5 ms at 30 kHz
    let events = one_per_group(si_peaks("si_peaks_tetrode_raw.csv").iter().map(|p| (p.0, p.2)).collect(), 15);
    let theirs_matched = frac_matched(&events, &ours, 12);
    let ours_matched = frac_matched(&ours, &events, 12);
    eprintln!(
        "SpikeInterface events {}, ours {}: {theirs_matched:.4} of theirs matched, {ours_matched:.4} of ours",
        events.len(),
        ours.len()
    );
    assert!(theirs_matched >= 0.98 && ours_matched >= 0.98);
}

#[test]
fn outputs_have_the_documented_columns_waveforms_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    detect_csv(&fixture("tetrode_raw.nwb"), dir.path(), &[]);
    let header = std::fs::read_to_string(dir.path().join("spikes.csv")).unwrap().lines().next().unwrap().to_string();
    assert_eq!(
        header,
        "sample,time_s,group,channel,amplitude_uv,threshold_ratio,peak_uv_0,peak_uv_1,peak_uv_2,peak_uv_3"
    );
    let spikes = read_spikes(dir.path());
    assert!(spikes.iter().all(|s| s.1 == "tetrode0" && (0..4).contains(&s.2)));
    assert!(spikes.windows(2).all(|w| w[0].0 <= w[1].0), "sorted by time");
    let w = burstscope_io::read_waveforms(&dir.path().join("waveforms.h5")).unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].shape, (spikes.len(), 90, 4));
    assert_eq!(w[0].spike_index, (0..spikes.len() as u64).collect::<Vec<_>>());
    assert_eq!(w[0].channels, vec![0, 1, 2, 3]);
    // The snippet's peak sample (index 30 = 1 ms) on the peak channel is the amplitude.
    let amp: Vec<f64> = std::fs::read_to_string(dir.path().join("spikes.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    // Stored as int16 counts of each channel's noise σ/32: within half a step.
    let d = json(&dir.path().join("detect.json"));
    let steps = w[0].uv_per_count.clone().expect("int16 counts by default");
    for (c, step) in steps.iter().enumerate() {
        let noise = d["outputs"]["summary"]["channels"][c]["noise_uv"].as_f64().unwrap();
        assert!((step - noise / 32.0).abs() <= 1e-12 * step, "channel {c}: step {step}, noise {noise}");
    }
    assert_eq!(d["outputs"]["summary"]["waveform_values_saturated"], 0);
    for (k, s) in spikes.iter().enumerate().take(50) {
        let v = w[0].waveforms[k * 90 * 4 + 30 * 4 + s.2 as usize];
        assert!((f64::from(v) - amp[k]).abs() <= steps[s.2 as usize] / 2.0 + 1e-4, "{v} vs {}", amp[k]);
    }
    // --waveforms-float32: the filtered values themselves.
    let f = dir.path().join("f32");
    detect_csv(&fixture("tetrode_raw.nwb"), &f, &["--waveforms-float32"]);
    let wf = burstscope_io::read_waveforms(&f.join("waveforms.h5")).unwrap();
    assert_eq!(wf[0].uv_per_count, None);
    for (k, s) in spikes.iter().enumerate().take(50) {
        let v = wf[0].waveforms[k * 90 * 4 + 30 * 4 + s.2 as usize];
        assert!((f64::from(v) - amp[k]).abs() < 1e-3);
    }
    assert_eq!(d["key"]["stage"], "detect");
    assert_eq!(d["key"]["config"]["threshold"], 5.0);
    assert_eq!(d["key"]["config"]["band_hz"], serde_json::json!([300.0, 6000.0]));
    let input = &d["key"]["inputs"][0];
    let bytes = std::fs::read(fixture("tetrode_raw.nwb")).unwrap();
    assert_eq!(input["content_hash"].as_str().unwrap(), burstscope_core::hash_bytes(&bytes), "hash of the whole file");
    assert_eq!(input["size_bytes"], bytes.len());
    let files: Vec<&str> =
        d["outputs"]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(files, ["spikes.csv", "waveforms.h5"]);
    let ch = &d["outputs"]["summary"]["channels"][0];
    assert!(ch["noise_uv"].as_f64().unwrap() > 1.0 && ch["threshold_uv"].as_f64().unwrap() > 5.0);
    assert!(d["key"]["program"]["version"].is_string());
    assert!(d["run"]["wall_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn tables_do_not_depend_on_the_thread_count_and_parquet_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    detect_csv(&fixture("tetrode_raw.nwb"), &a, &["--threads", "1"]);
    detect_csv(&fixture("tetrode_raw.nwb"), &b, &["--threads", "2"]);
    assert_eq!(std::fs::read(a.join("spikes.csv")).unwrap(), std::fs::read(b.join("spikes.csv")).unwrap());
    let p = dir.path().join("p");
    bin().arg("detect").arg(fixture("tetrode_raw.nwb")).arg("--out").arg(&p).assert().success();
    assert!(p.join("spikes.parquet").exists() && p.join("waveforms.h5").exists() && p.join("detect.json").exists());
}

/// The spikes table equals the one written before the speed-ups of issue 14
/// (`tests/golden/make_detect_golden.sh`): byte for byte where the kernels use
/// fused multiply-adds as when the golden was written (x86-64 with FMA), else
/// the same events with amplitudes within float rounding.
#[test]
fn detection_tables_are_unchanged_by_the_speed_ups() {
    let dir = tempfile::tempdir().unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let session = dir.path().join("s.nwb");
    let o = bin()
        .args(["generate", "tetrode", "--tetrodes", "8", "--duration", "10", "--seed", "7", "--out"])
        .arg(&session)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (input, name) in
        [(fixture("tetrode_raw.nwb"), "detect_tetrode_raw_spikes.csv"), (session, "detect_generated32_spikes.csv")]
    {
        // the 16-lane AVX-512 kernels, and the 8-lane AVX2 ones in their place
        for (threads, no_avx512) in [("1", false), ("2", false), ("2", true)] {
            let out = dir.path().join(format!("{name}-{threads}-{no_avx512}"));
            let mut c = bin();
            c.arg("detect").arg(&input).arg("--out").arg(&out).args(["--format", "csv", "--threads", threads]);
            if no_avx512 {
                c.env("BURSTSCOPE_NO_AVX512", "1");
            }
            let o = c.output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let got = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
            let want = std::fs::read_to_string(golden.join(name)).unwrap();
            if fma() {
                assert!(got == want, "{name}, {threads} threads: the spikes table changed");
                continue;
            }
            assert_eq!(got.lines().count(), want.lines().count(), "{name}");
            for (g, w) in got.lines().zip(want.lines()).skip(1) {
                let (g, w): (Vec<&str>, Vec<&str>) = (g.split(',').collect(), w.split(',').collect());
                assert_eq!(g[..4], w[..4], "{name}: sample, time, group, channel");
                for (a, b) in g[4..].iter().zip(&w[4..]) {
                    let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                    assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{name}: {a} vs {b}");
                }
            }
        }
    }
}

/// The input's identity is taken from the bytes detection reads (a hash tap)
/// plus the few pieces it did not read, and equals the hash of the whole file
/// read on its own: for an NWB file read directly, a gzip-compressed one and a
/// raw binary file.
#[test]
fn the_input_hash_comes_from_the_bytes_detection_read() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.nwb");
    let gzip = dir.path().join("gzip.nwb");
    for (f, level) in [(&plain, "0"), (&gzip, "1")] {
        let o = bin()
            .args([
                "generate",
                "tetrode",
                "--tetrodes",
                "2",
                "--duration",
                "20",
                "--seed",
                "3",
                "--gzip",
                level,
                "--out",
            ])
            .arg(f)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let raw = dir.path().join("rec.dat");
    let mut x = 1u32;
    let samples: Vec<u8> = (0..4 * 15_000 * 8)
        .flat_map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (((x >> 16) as i16) / 64).to_le_bytes()
        })
        .collect();
    std::fs::write(&raw, &samples).unwrap();
    let raw_args = ["--dtype", "int16", "--channels", "4", "--rate", "15000"];
    for (input, extra, min_share) in [(&plain, &[][..], 0.9), (&gzip, &[][..], 0.9), (&raw, &raw_args[..], 0.99)] {
        let out = dir.path().join(format!("det-{}", input.file_name().unwrap().to_string_lossy()));
        let o = bin()
            .env("RUST_LOG", "burstscope_pipeline=debug")
            .arg("detect")
            .arg(input)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        let d = json(&out.join("detect.json"));
        let bytes = std::fs::read(input).unwrap();
        assert_eq!(d["key"]["inputs"][0]["content_hash"].as_str().unwrap(), burstscope_core::hash_bytes(&bytes));
        // "<file>: K of N pieces of the content hash computed from the bytes detection read"
        let line = err.lines().find(|l| l.contains("pieces of the content hash")).unwrap_or_else(|| panic!("{err}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "of").unwrap();
        let (k, n): (f64, f64) = (words[at - 1].parse().unwrap(), words[at + 1].parse().unwrap());
        eprintln!("{}: {k} of {n} pieces hashed while detecting", input.display());
        assert!(k >= min_share * n, "{line}");
    }
}

fn fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[test]
fn nan_inf_and_flat_channels_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    detect_csv(&fixture("bad/nan_flat.nwb"), dir.path(), &[]);
    let d = json(&dir.path().join("detect.json"));
    let ch = d["outputs"]["summary"]["channels"].as_array().unwrap();
    assert_eq!(ch[1]["nonfinite_samples"], 101);
    assert_eq!(ch[3]["dead"], true);
    assert!(ch[3]["threshold_uv"].is_null());
    // The 19 spikes planted on channel 0 every 100 ms from 50 ms are all found, nothing else.
    let spikes = read_spikes(dir.path());
    assert_eq!(spikes.len(), 19, "{spikes:?}");
    assert!(spikes.iter().all(|s| s.2 == 0 && (s.0 - 1502).rem_euclid(3000) <= 2));
}

#[test]
fn saturated_stretches_are_counted_and_their_ringing_ignored() {
    let dir = tempfile::tempdir().unwrap();
    detect_csv(&fixture("bad/clipped.nwb"), dir.path(), &[]);
    let d = json(&dir.path().join("detect.json"));
    let ch = d["outputs"]["summary"]["channels"].as_array().unwrap();
    assert_eq!(ch[2]["clipped_samples"], 300);
    assert_eq!(ch[0]["clipped_samples"], 100);
    let spikes = read_spikes(dir.path());
    // Nothing within 10 ms of the clipped stretches (30000..30300 and 45000..45100).
    assert!(spikes.iter().all(|s| !(29_700..30_600).contains(&s.0) && !(44_700..45_400).contains(&s.0)), "{spikes:?}");
    let planted = spikes.iter().filter(|s| (s.0 - 1502).rem_euclid(3000) <= 2).count();
    assert_eq!(planted, 19);
}

#[test]
fn a_recording_shorter_than_the_filter_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin().arg("detect").arg(fixture("bad/short.nwb")).arg("--out").arg(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("short.nwb") && err.contains("too short"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
    let o = bin()
        .arg("detect")
        .arg(fixture("tetrode_raw.nwb"))
        .arg("--out")
        .arg(dir.path())
        .args(["--band", "300:16000"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("band"));
}

/// SpikeInterface 0.105.3 on the real locust tetrode (raw int16, 4 channels,
/// 15 kHz), read by its own `read_binary` extractor with the same band and
/// threshold (peaks committed in tests/golden/si_peaks_locust.csv by
/// tests/golden/make_si_locust_golden.py, noise levels from seeded chunks),
/// reduced to one event per tetrode: the largest |amplitude| within ±0.5 ms.
#[test]
fn raw_binary_locust_tetrode_agrees_with_spikeinterface() {
    let raw =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/extracellular/locust_tetrode/locust_trial_01.raw");
    if !raw.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        eprintln!("{} absent: skipped", raw.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    detect_csv(
        &raw,
        dir.path(),
        &["--dtype", "int16", "--channels", "4", "--rate", "15000", "--channels-per-group", "4"],
    );
    let spikes = read_spikes(dir.path());
    assert!(spikes.iter().all(|s| s.1 == "tetrode0"));
    let mut ours: Vec<i64> = spikes.iter().map(|s| s.0).collect();
    ours.sort_unstable();
    // one tetrode; 0.5 ms at 15 kHz
    let events = one_per_group(si_peaks("si_peaks_locust.csv").iter().map(|p| (p.0, p.2)).collect(), 8);
    let (theirs_matched, ours_matched) = (frac_matched(&events, &ours, 6), frac_matched(&ours, &events, 6));
    eprintln!(
        "locust: SpikeInterface events {}, ours {}: {theirs_matched:.4} of theirs matched, {ours_matched:.4} of ours",
        events.len(),
        ours.len()
    );
    assert!(theirs_matched >= 0.95 && ours_matched >= 0.95);
    // the record says how the file was read
    let d = json(&dir.path().join("detect.json"));
    assert_eq!(d["key"]["config"]["raw"]["dtype"], "int16");
    assert_eq!(d["key"]["config"]["raw"]["n_channels"], 4);
}

#[test]
fn a_raw_layout_that_does_not_fit_is_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.raw");
    std::fs::write(&f, vec![0u8; 100]).unwrap();
    let out = bin()
        .arg("detect")
        .arg(&f)
        .arg("--out")
        .arg(dir.path().join("o"))
        .args(["--dtype", "int16", "--channels", "4", "--rate", "15000", "--offset-bytes", "4096"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("x.raw") && err.contains("offset_bytes"), "{err}");
    assert!(!dir.path().join("o").exists());
    let out = bin()
        .arg("detect")
        .arg(&f)
        .arg("--out")
        .arg(dir.path().join("o"))
        .args(["--dtype", "int8", "--channels", "4", "--rate", "15000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("int16"));
    let out = bin()
        .arg("detect")
        .arg(&f)
        .arg("--out")
        .arg(dir.path().join("o"))
        .args(["--dtype", "int16", "--channels", "5", "--rate", "15000", "--channels-per-group", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("channels_per_group"));
}

/// The real Open Ephys legacy recording (Record Node 101: 8 stereotrodes,
/// 40 kHz, 3.3 s) read from its `.continuous` files, against SpikeInterface
/// 0.105.3 reading the same folder with `read_openephys` (peaks in
/// tests/golden/si_peaks_openephys.csv by
/// tests/golden/make_si_openephys_golden.py), one event per stereotrode
/// within ±0.5 ms: both fractions ≥ 0.95 (measured 0.976 of theirs, 0.988
/// of ours). This recording is shorter than the 20 half-second noise chunks,
/// which therefore tile it (docs/detection.md); overlapping random chunks
/// put the noise 2–4 % high and matched only 0.89 of SpikeInterface's.
#[test]
fn openephys_legacy_folder_is_detected_like_spikeinterface() {
    let node = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real/extracellular/openephys_legacy_v0.6.7/Record Node 101");
    if !node.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        eprintln!("{} absent: skipped", node.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    detect_csv(&node, dir.path(), &["--channels-per-group", "2"]);
    let spikes = read_spikes(dir.path());
    let group_of = |g: &str| g.strip_prefix("stereotrode").unwrap().parse::<i64>().unwrap();
    let si = si_peaks("si_peaks_openephys.csv");
    let (mut matched_theirs, mut n_theirs, mut matched_ours, mut n_ours) = (0.0, 0usize, 0.0, 0usize);
    for g in 0..8 {
        // stereotrode g: channels 2g and 2g + 1; 0.5 ms at 40 kHz
        let events = one_per_group(si.iter().filter(|x| x.1 / 2 == g).map(|x| (x.0, x.2)).collect(), 20);
        let mut ours: Vec<i64> = spikes.iter().filter(|s| group_of(&s.1) == g).map(|s| s.0).collect();
        ours.sort_unstable();
        matched_theirs += frac_matched(&events, &ours, 16) * events.len() as f64;
        matched_ours += frac_matched(&ours, &events, 16) * ours.len() as f64;
        n_theirs += events.len();
        n_ours += ours.len();
    }
    let (t, o) = (matched_theirs / n_theirs as f64, matched_ours / n_ours as f64);
    eprintln!("Open Ephys: SpikeInterface events {n_theirs}, ours {n_ours}: {t:.4} of theirs matched, {o:.4} of ours");
    assert!(o >= 0.95, "{o}");
    assert!(t >= 0.95, "{t}");
    // the record names the channel files and the recording's clock
    let d = json(&dir.path().join("detect.json"));
    assert_eq!(d["key"]["inputs"].as_array().unwrap().len(), 16);
    let first: f64 = std::fs::read_to_string(dir.path().join("spikes.csv"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(first >= 6.290875, "times on the acquisition clock: {first}");
}

/// The real locust tetrode wrapped as a SpikeGLX Neuropixels 2.0-style AP
/// stream (its 4 channels, then a sync channel with a square wave; a `.meta`
/// written from SpikeGLX's description: 0.5 V range, 14-bit, gain 80, all on
/// shank 0, firstSample 15000): `detect` reads the `.bin` beside its `.meta`,
/// leaves the sync channel out, groups by shank, starts the clock at 1 s,
/// and finds exactly the spikes of the same samples read as raw binary with
/// the same µV per count.
#[test]
fn a_spikeglx_stream_is_detected_like_the_same_samples_as_raw_binary() {
    let raw =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/extracellular/locust_tetrode/locust_trial_01.raw");
    if !raw.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&raw).unwrap();
    let n = bytes.len() / 8;
    let mut glx = Vec::with_capacity(n * 10);
    for t in 0..n {
        glx.extend_from_slice(&bytes[t * 8..t * 8 + 8]);
        let sync: i16 = if (t / 1500) % 2 == 0 { 0 } else { 64 };
        glx.extend_from_slice(&sync.to_le_bytes());
    }
    let bin_path = dir.path().join("locust_g0_t0.imec0.ap.bin");
    std::fs::write(&bin_path, &glx).unwrap();
    let meta = format!(
        "typeThis=imec\nimSampRate=15000\nnSavedChans=5\nsnsApLfSy=4,0,1\nsnsSaveChanSubset=all\n\
         imAiRangeMax=0.5\nimAiRangeMin=-0.5\nimMaxInt=8192\nimChan0apGain=80\nimDatPrb_pn=NP2000\n\
         firstSample=15000\nfileSizeBytes={}\n~imroTbl=(21,4)(0 1 0 0)(1 1 0 1)(2 1 0 2)(3 1 0 3)\n\
         ~snsChanMap=(4,0,1)(AP0;0:0)(AP1;1:1)(AP2;2:2)(AP3;3:3)(SY0;4:4)\n\
         ~snsShankMap=(1,2,480)(0:0:0:1)(0:1:0:1)(0:0:1:1)(0:1:1:1)\n",
        glx.len()
    );
    std::fs::write(dir.path().join("locust_g0_t0.imec0.ap.meta"), meta).unwrap();
    let uv = 0.5 / 8192.0 / 80.0 * 1e6;
    let (a, b) = (dir.path().join("glx"), dir.path().join("raw"));
    detect_csv(&bin_path, &a, &[]);
    detect_csv(
        &raw,
        &b,
        &[
            "--dtype",
            "int16",
            "--channels",
            "4",
            "--rate",
            "15000",
            "--channels-per-group",
            "4",
            "--gain-uv",
            &uv.to_string(),
        ],
    );
    let (sa, sb) = (read_spikes(&a), read_spikes(&b));
    assert!(sa.len() > 100, "{} spikes", sa.len());
    assert!(sa.iter().all(|s| s.1 == "shank0" && s.2 < 4), "groups by shank, the sync channel left out");
    let key = |v: &[(i64, String, i64)]| v.iter().map(|s| (s.0, s.2)).collect::<Vec<_>>();
    assert_eq!(key(&sa), key(&sb), "the same spikes as the raw binary read");
    // the acquisition clock: firstSample / rate = 1 s
    let text = std::fs::read_to_string(a.join("spikes.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (si, ti) =
        (header.iter().position(|h| *h == "sample").unwrap(), header.iter().position(|h| *h == "time_s").unwrap());
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (sample, time): (f64, f64) = (first[si].parse().unwrap(), first[ti].parse().unwrap());
    assert!((time - (1.0 + sample / 15000.0)).abs() < 1e-9, "time {time} for sample {sample}");
}

/// The real locust tetrode wrapped as a Neuralynx session (four `.ncs`
/// files written from Neuralynx's record layout: 16 KiB text header, then
/// 1 044-byte records of timestamp, channel, rate, valid samples and 512
/// int16 samples; one channel with `-InputInverted True`, its samples
/// stored negated) plus an `Events.nev` with a typed `ketamine` note:
/// `detect` on the folder finds the spikes of the same samples read as raw
/// binary, the clock starts at the first record's timestamp, and `inspect`
/// lists the event.
#[test]
fn a_neuralynx_folder_is_detected_like_the_same_samples_as_raw_binary() {
    let raw =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/extracellular/locust_tetrode/locust_trial_01.raw");
    if !raw.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("session");
    std::fs::create_dir(&session).unwrap();
    let bytes = std::fs::read(&raw).unwrap();
    let n = bytes.len() / 8 / 512 * 512; // whole records
    let bit_volts = 1e-6; // 1 µV per count, as the raw read below
    let header = |fields: &str| {
        let mut h = format!("######## Neuralynx Data File Header\r\n-CheetahRev 5.6.3\r\n{fields}").into_bytes();
        h.resize(16_384, 0);
        h
    };
    let t0: u64 = 2_000_000; // µs
    for ch in 0..4usize {
        let inverted = ch == 1;
        let mut f = header(&format!(
            "-FileType CSC\r\n-RecordSize 1044\r\n-SamplingFrequency 15000\r\n-ADBitVolts {bit_volts}\r\n-AcqEntName CSC{}\r\n-ADChannel {ch}\r\n-InputInverted {}\r\n",
            ch + 1,
            if inverted { "True" } else { "False" }
        ));
        for r in 0..n / 512 {
            let ts = t0 + (r as f64 * 512.0 / 15_000.0 * 1e6).round() as u64;
            f.extend_from_slice(&ts.to_le_bytes());
            f.extend_from_slice(&(ch as u32).to_le_bytes());
            f.extend_from_slice(&15_000u32.to_le_bytes());
            f.extend_from_slice(&512u32.to_le_bytes());
            for t in r * 512..(r + 1) * 512 {
                let v = i16::from_le_bytes([bytes[t * 8 + 2 * ch], bytes[t * 8 + 2 * ch + 1]]);
                // an inverted input stores the negated signal
                let v = if inverted { v.saturating_neg() } else { v };
                f.extend_from_slice(&v.to_le_bytes());
            }
        }
        std::fs::write(session.join(format!("CSC{}.ncs", ch + 1)), f).unwrap();
    }
    let mut ev = header("-FileType Event\r\n-RecordSize 184\r\n");
    let mut rec = vec![0u8; 184];
    rec[6..14].copy_from_slice(&(t0 + 10_000_000).to_le_bytes());
    rec[56..64].copy_from_slice(b"ketamine");
    ev.extend_from_slice(&rec);
    std::fs::write(session.join("Events.nev"), ev).unwrap();

    let (a, b) = (dir.path().join("nlx"), dir.path().join("raw"));
    detect_csv(&session, &a, &["--channels-per-group", "4"]);
    // the raw file, truncated to the same whole records
    let cut = dir.path().join("cut.raw");
    std::fs::write(&cut, &bytes[..n * 8]).unwrap();
    detect_csv(&cut, &b, &["--dtype", "int16", "--channels", "4", "--rate", "15000", "--channels-per-group", "4"]);
    let (sa, sb) = (read_spikes(&a), read_spikes(&b));
    assert!(sa.len() > 100, "{} spikes", sa.len());
    let key = |v: &[(i64, String, i64)]| v.iter().map(|s| (s.0, s.2)).collect::<Vec<_>>();
    assert_eq!(key(&sa), key(&sb), "the same spikes as the raw binary read");
    let d = json(&a.join("detect.json"));
    assert_eq!(d["key"]["inputs"].as_array().unwrap().len(), 5, "the four channels and the event file");
    let r = bin().arg("inspect").arg(&session).output().unwrap();
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(text.contains("Neuralynx") && text.contains("4 channels at 15000 Hz") && text.contains("events"), "{text}");
}

/// The real locust tetrode written as an Intan RHD2000 version 3.0 file
/// from Intan's format description (header with one signal group of four
/// amplifier channels; 128-sample blocks of timestamps and uint16 samples at
/// 0.195 µV per count from 32 768): `detect` on the `.rhd` finds the spikes
/// of the same samples read as raw binary at 0.195 µV per count, on the
/// board's clock (first timestamp 30 000 → 2 s).
#[test]
fn an_intan_rhd_file_is_detected_like_the_same_samples_as_raw_binary() {
    let raw =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/extracellular/locust_tetrode/locust_trial_01.raw");
    if !raw.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&raw).unwrap();
    let n = bytes.len() / 8 / 128 * 128;
    let qstring = |s: &str| {
        let u: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut v = (u.len() as u32).to_le_bytes().to_vec();
        v.extend(u);
        v
    };
    let mut f: Vec<u8> = Vec::new();
    f.extend(0xC691_2702u32.to_le_bytes());
    f.extend(3i16.to_le_bytes());
    f.extend(0i16.to_le_bytes());
    f.extend(15_000f32.to_le_bytes());
    f.extend(1i16.to_le_bytes());
    for x in [1.0f32, 0.1, 7500.0, 1.0, 0.1, 7500.0] {
        f.extend(x.to_le_bytes());
    }
    f.extend(0i16.to_le_bytes()); // notch
    f.extend(1000f32.to_le_bytes());
    f.extend(1000f32.to_le_bytes());
    for note in ["locust", "", ""] {
        f.extend(qstring(note));
    }
    f.extend(0i16.to_le_bytes()); // temperature sensors
    f.extend(0i16.to_le_bytes()); // board mode
    f.extend(qstring("hardware"));
    f.extend(1i16.to_le_bytes()); // one signal group
    f.extend(qstring("Port A"));
    f.extend(qstring("A"));
    for x in [1i16, 4, 4] {
        f.extend(x.to_le_bytes());
    }
    for ch in 0..4i16 {
        f.extend(qstring(&format!("A-{ch:03}")));
        f.extend(qstring(&format!("TT1-{ch}")));
        for x in [ch, ch, 0, 1, ch, 0, 0, 0, 0, 0] {
            f.extend(x.to_le_bytes());
        }
        f.extend(1e5f32.to_le_bytes());
        f.extend(0f32.to_le_bytes());
    }
    for b in 0..n / 128 {
        for k in 0..128 {
            f.extend((30_000 + (b * 128 + k) as i32).to_le_bytes());
        }
        for ch in 0..4 {
            for t in b * 128..(b + 1) * 128 {
                let v = i16::from_le_bytes([bytes[t * 8 + 2 * ch], bytes[t * 8 + 2 * ch + 1]]);
                f.extend(((i32::from(v) + 32_768) as u16).to_le_bytes());
            }
        }
    }
    let rhd = dir.path().join("locust.rhd");
    std::fs::write(&rhd, f).unwrap();
    let cut = dir.path().join("cut.raw");
    std::fs::write(&cut, &bytes[..n * 8]).unwrap();
    let (a, b) = (dir.path().join("rhd"), dir.path().join("raw"));
    detect_csv(&rhd, &a, &["--channels-per-group", "4"]);
    detect_csv(
        &cut,
        &b,
        &["--dtype", "int16", "--channels", "4", "--rate", "15000", "--channels-per-group", "4", "--gain-uv", "0.195"],
    );
    let (sa, sb) = (read_spikes(&a), read_spikes(&b));
    assert!(sa.len() > 100, "{} spikes", sa.len());
    let key = |v: &[(i64, String, i64)]| v.iter().map(|s| (s.0, s.2)).collect::<Vec<_>>();
    assert_eq!(key(&sa), key(&sb), "the same spikes as the raw binary read");
    // the identity, taken from the blocks the reader hashed, is the whole file's hash
    let d = json(&a.join("detect.json"));
    let whole = burstscope_core::hash_bytes(&std::fs::read(&rhd).unwrap());
    assert_eq!(d["key"]["inputs"][0]["content_hash"].as_str().unwrap(), whole);
    let text = std::fs::read_to_string(a.join("spikes.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (si, ti) =
        (header.iter().position(|h| *h == "sample").unwrap(), header.iter().position(|h| *h == "time_s").unwrap());
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (sample, time): (f64, f64) = (first[si].parse().unwrap(), first[ti].parse().unwrap());
    assert!((time - (2.0 + sample / 15_000.0)).abs() < 1e-9);
}
