//! `burstscope convert`: every real recording we have becomes an NWB file
//! that pynwb opens and `nwbinspector` passes (no CRITICAL finding but the
//! missing subject, which no acquisition format records — with `--subject`
//! none at all — and no BEST_PRACTICE_VIOLATION); analysing the NWB gives
//! the tables analysing the original gives (detect: the same spikes;
//! epsc and cclamp: the same sweeps, to float32 storage of SI units).

use crate::pynwb_roundtrip::python;
use crate::util::bin;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real");
    if d.is_dir() {
        return Some(d);
    }
    assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
    None
}

fn convert(input: &Path, out: &Path, extra: &[&str]) {
    let r = bin().arg("convert").arg(input).arg("--out").arg(out).args(extra).output().unwrap();
    assert!(r.status.success(), "{}: {}", input.display(), String::from_utf8_lossy(&r.stderr));
    assert!(out.is_file());
}

/// `nwbinspector` beside the Python with pynwb (`pip install nwbinspector`;
/// `.ci/run` installs it into the peer environment).
fn inspector() -> Option<PathBuf> {
    let py = python()?;
    let p = Path::new(&py).with_file_name("nwbinspector");
    if p.exists() {
        return Some(p);
    }
    assert!(std::env::var_os("CI").is_none(), "CI installs nwbinspector beside BURSTSCOPE_PYTHON");
    eprintln!("notice: no nwbinspector beside {py}; skipping the inspection");
    None
}

/// (importance, check name, file) of every finding.
fn inspect(dir: &Path) -> Vec<(String, String, String)> {
    let Some(nwbi) = inspector() else { return Vec::new() };
    let report = dir.join("report.json");
    let r = Command::new(nwbi).arg(dir).arg("--json-file-path").arg(&report).arg("--overwrite").output().unwrap();
    assert!(report.exists(), "nwbinspector: {}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["importance"].as_str().unwrap_or("").to_string(),
                m["check_function_name"].as_str().unwrap_or("").to_string(),
                m["file_path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

const OPEN: &str = r#"
import sys, warnings, pynwb
warnings.simplefilter("ignore")
for p in sys.argv[1:]:
    with pynwb.NWBHDF5IO(p, "r") as io:
        n = io.read()
        ic = n.intracellular_recordings
        if ic is not None:
            r = ic["responses"]["response"][0]
            assert r.count > 0 and r.timeseries.data.shape[0] == r.count, p
        for name, es in n.acquisition.items():
            if type(es).__name__ == "ElectricalSeries":
                assert es.data.shape[1] == len(es.electrodes.data), p
                es.data[:10]
print("opened", len(sys.argv) - 1)
"#;

/// Every real ABF, HEKA, NEV, NSx, Open Ephys legacy and raw recording and
/// the SpikeGLX, Neuralynx and Intan fixtures convert; pynwb opens each; nwbinspector finds no
/// BEST_PRACTICE_VIOLATION and no CRITICAL but the missing subject — and
/// with `--subject` given, not even that.
#[test]
fn every_real_recording_converts_opens_in_pynwb_and_passes_nwbinspector() {
    let Some(real) = shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nwb");
    std::fs::create_dir(&out).unwrap();
    let mut files = Vec::new();
    let mut abfs: Vec<PathBuf> = std::fs::read_dir(real.join("abf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "abf"))
        .collect();
    abfs.sort();
    let mut failed = Vec::new();
    for f in &abfs {
        let o = out.join(format!("{}.nwb", f.file_stem().unwrap().to_string_lossy()));
        let r = bin().arg("convert").arg(f).arg("--out").arg(&o).output().unwrap();
        if r.status.success() {
            files.push(o);
        } else {
            failed.push(format!("{}: {}", f.display(), String::from_utf8_lossy(&r.stderr)));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
    let ex = real.join("extracellular");
    let cases: Vec<(PathBuf, &str, Vec<&str>)> = vec![
        (real.join("heka/epc9_patchmaster_v2x73.dat"), "heka.nwb", vec![]),
        (ex.join("blackrock_utah/l101210-001-02.nev"), "nev.nwb", vec![]),
        (ex.join("blackrock_utah/l101210-001.ns2"), "ns2.nwb", vec![]),
        (
            ex.join("openephys_legacy_v0.6.7/Record Node 101"),
            "oe.nwb",
            vec!["--channels-per-group", "2", "--gzip", "4"],
        ),
        (
            ex.join("locust_tetrode/locust_trial_01.raw"),
            "locust.nwb",
            vec!["--dtype", "int16", "--channels", "4", "--rate", "15000", "--channels-per-group", "4"],
        ),
        (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spikeglx/run_g0_t0.imec0.ap.bin"),
            "glx.nwb",
            vec![],
        ),
        (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/neuralynx"),
            "nlx.nwb",
            vec!["--channels-per-group", "4"],
        ),
        (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intan/tetrode_v30.rhd"),
            "rhd.nwb",
            vec!["--channels-per-group", "4"],
        ),
    ];
    for (input, name, extra) in &cases {
        let o = out.join(name);
        convert(input, &o, extra);
        files.push(o);
    }
    eprintln!("{} files converted", files.len());
    if let Some(py) = python() {
        let r = Command::new(py).args(["-c", OPEN]).args(&files).output().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let findings = inspect(&out);
    let serious: Vec<_> = findings
        .iter()
        .filter(|f| (f.0 == "CRITICAL" && f.1 != "check_subject_exists") || f.0 == "BEST_PRACTICE_VIOLATION")
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");

    // with the subject given, no critical finding at all
    let with = dir.path().join("with_subject");
    std::fs::create_dir(&with).unwrap();
    convert(
        &real.join("abf/model_vc_step.abf"),
        &with.join("m.nwb"),
        &[
            "--subject",
            "subject_id=rat7",
            "--subject",
            "species=Rattus norvegicus",
            "--subject",
            "sex=M",
            "--subject",
            "age=P60D",
            "--experimenter",
            "Doe, Jane",
        ],
    );
    let findings = inspect(&with);
    let serious: Vec<_> = findings.iter().filter(|f| f.0 == "CRITICAL" || f.0 == "BEST_PRACTICE_VIOLATION").collect();
    assert!(serious.is_empty(), "{serious:#?}");
}

fn csv_rows(p: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(p).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines.map(|l| header.iter().cloned().zip(l.split(',').map(str::to_string)).collect()).collect()
}

/// Numbers equal to float32 storage of SI units (1e-5 relative), text equal.
fn same_rows(a: &[BTreeMap<String, String>], b: &[BTreeMap<String, String>], skip: &[&str], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: rows");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        for (k, va) in x {
            if skip.contains(&k.as_str()) {
                continue;
            }
            let vb = &y[k];
            match (va.parse::<f64>(), vb.parse::<f64>()) {
                (Ok(p), Ok(q)) if p.is_nan() || q.is_nan() => {
                    assert!(p.is_nan() && q.is_nan(), "{what} row {i} {k}: {va} vs {vb}")
                }
                (Ok(p), Ok(q)) => {
                    assert!((p - q).abs() <= 1e-5 * p.abs().max(q.abs()).max(1e-3), "{what} row {i} {k}: {va} vs {vb}");
                }
                _ => assert_eq!(va, vb, "{what} row {i} {k}"),
            }
        }
    }
}

/// The locust tetrode as raw binary and as its NWB conversion: `detect`
/// finds the same spikes (sample, group, channel) in both.
#[test]
fn detect_on_the_converted_nwb_equals_detect_on_the_raw_file() {
    let Some(real) = shared() else { return };
    let raw = real.join("extracellular/locust_tetrode/locust_trial_01.raw");
    let dir = tempfile::tempdir().unwrap();
    let layout = ["--dtype", "int16", "--channels", "4", "--rate", "15000", "--channels-per-group", "4"];
    let nwb = dir.path().join("locust.nwb");
    convert(&raw, &nwb, &layout);
    for (input, out, extra) in [(&raw, "a", &layout[..]), (&nwb, "b", &[][..])] {
        let r = bin()
            .arg("detect")
            .arg(input)
            .arg("--out")
            .arg(dir.path().join(out))
            .args(["--format", "csv", "--no-waveforms"])
            .args(extra)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let (a, b) = (csv_rows(&dir.path().join("a/spikes.csv")), csv_rows(&dir.path().join("b/spikes.csv")));
    assert!(a.len() > 500);
    let key = |v: &[BTreeMap<String, String>]| -> Vec<(String, String, String)> {
        v.iter().map(|r| (r["sample"].clone(), r["group"].clone(), r["channel"].clone())).collect()
    };
    assert_eq!(key(&a), key(&b));
    same_rows(&a, &b, &[], "spikes");
}

/// ABF files and their NWB conversions through `epsc` (a membrane-test
/// file, the model cell, a drug wash-in whose `+drug at 3min` tag became an
/// epoch) and `cclamp` (current steps): the same sweeps tables.
#[test]
fn epsc_and_cclamp_on_the_converted_nwb_equal_the_abf_analysis() {
    let Some(real) = shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (stem, stage) in [
        ("model_vc_step", "epsc"),
        ("171116sh_0011", "epsc"),
        ("2018_11_16_sh_0006", "epsc"),
        ("17o05028_ic_steps", "cclamp"),
    ] {
        let abf = real.join(format!("abf/{stem}.abf"));
        let nwb_dir = dir.path().join(format!("{stem}_nwb"));
        std::fs::create_dir(&nwb_dir).unwrap();
        let nwb = nwb_dir.join(format!("{stem}.nwb"));
        convert(&abf, &nwb, &[]);
        for (input, out) in [(&abf, "a"), (&nwb, "b")] {
            let r = bin()
                .arg(stage)
                .arg(input)
                .arg("--out")
                .arg(dir.path().join(format!("{stem}_{out}")))
                .args(["--format", "csv", "--no-figures"])
                .output()
                .unwrap();
            assert!(r.status.success(), "{stem}: {}", String::from_utf8_lossy(&r.stderr));
        }
        let a = csv_rows(&dir.path().join(format!("{stem}_a/sweeps.csv")));
        let b = csv_rows(&dir.path().join(format!("{stem}_b/sweeps.csv")));
        same_rows(&a, &b, &[], &format!("{stem} {stage} sweeps"));
        if stem == "2018_11_16_sh_0006" {
            assert!(b.iter().any(|r| r["condition"] == "drug"), "the tag's condition came through as an epoch");
        }
    }
}

/// What convert cannot use is exit 2 with the reason, and nothing is written.
#[test]
fn bad_inputs_are_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.nwb");
    let bad = dir.path().join("cut.abf");
    std::fs::write(&bad, b"ABF2\x00\x00").unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "a lab notebook").unwrap();
    for (input, extra, says) in [
        (&bad, vec![], "truncated"),
        (&text, vec![], "not a format convert reads"),
        (&bad, vec!["--subject", "colour=brown"], "--subject colour=brown"),
    ] {
        let r = bin().arg("convert").arg(input).arg("--out").arg(&out).args(&extra).output().unwrap();
        assert_eq!(r.status.code(), Some(2));
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(says), "{err}");
        assert!(!out.exists());
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary left behind");
}
