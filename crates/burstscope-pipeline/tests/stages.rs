//! Every stage called as a library, without the binary: results, records that
//! key a cache, and output folders that are replaced whole.

use burstscope_core::{Record, canonical_json};
use burstscope_pipeline::{
    BurstsConfig, BurstsSettings, DetectConfig, EpscConfig, Silent, run_bursts, run_detect, run_epsc,
};
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel)
}

/// The `key` and `outputs` parts of a record exactly as written.
fn key_and_outputs(dir: &Path, name: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
    (canonical_json(&v["key"]), canonical_json(&v["outputs"]))
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

#[test]
fn detect_as_a_library_gives_identical_records_on_one_and_two_threads() {
    let root = tempfile::tempdir().unwrap();
    let cfg = DetectConfig::default();
    let a = in_pool(1, || run_detect(&fixture("tetrode_raw.nwb"), &root.path().join("a"), &cfg, &Silent)).unwrap();
    let b = in_pool(2, || run_detect(&fixture("tetrode_raw.nwb"), &root.path().join("b"), &cfg, &Silent)).unwrap();
    assert!(a.samples.len() > 500, "{} events", a.samples.len());
    assert_eq!(a.samples, b.samples);
    assert_eq!(a.record.key_digest(), b.record.key_digest());
    assert_eq!(key_and_outputs(&a.dir, "detect.json"), key_and_outputs(&b.dir, "detect.json"));
    assert_ne!(a.record.run.threads, b.record.run.threads);
    assert!(a.record.verify(&a.dir));
}

#[test]
fn bursts_as_a_library_and_the_key_follows_the_config() {
    let root = tempfile::tempdir().unwrap();
    let input = fixture("lhb_units_ketamine.nwb");
    let cfg = BurstsConfig::default();
    let a = run_bursts(&input, &root.path().join("a"), &cfg).unwrap();
    let b = run_bursts(&input, &root.path().join("b"), &cfg).unwrap();
    assert_eq!(a.analysis.windows.len(), 2);
    assert!(a.analysis.n_bursts() > 100);
    assert_eq!(key_and_outputs(&a.dir, "bursts.json"), key_and_outputs(&b.dir, "bursts.json"));
    let other = BurstsConfig::new(BurstsSettings { bin_s: 30.0, ..BurstsSettings::default() }).unwrap();
    let c = run_bursts(&input, &root.path().join("c"), &other).unwrap();
    assert_ne!(a.record.key_digest(), c.record.key_digest());
    assert_eq!(a.record.key.inputs, c.record.key.inputs, "the input identity does not depend on parameters");
}

#[test]
fn a_rerun_replaces_the_whole_folder_and_leaves_no_stale_table() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("b");
    // A session with a wide-band signal writes LFP tables ...
    let first = run_bursts(&fixture("tetrode_raw.nwb"), &out, &BurstsConfig::default()).unwrap();
    assert!(out.join("lfp_bands.parquet").exists());
    assert!(first.record.verify(&out));
    // ... a units-only file does not: they must not survive beside the new record.
    let second = run_bursts(&fixture("lhb_units_ketamine.nwb"), &out, &BurstsConfig::default()).unwrap();
    assert!(!out.join("lfp_bands.parquet").exists(), "stale LFP table left behind");
    let rec = Record::read(&out.join("bursts.json")).unwrap();
    assert_eq!(rec.key, second.record.key);
    assert!(rec.verify(&out));
    let listed: Vec<String> = rec.outputs.files.iter().map(|f| f.path.clone()).collect();
    let mut on_disk = Vec::new();
    for e in walk(&out) {
        let rel = e.strip_prefix(&out).unwrap().to_string_lossy().replace('\\', "/");
        if rel != "bursts.json" {
            on_disk.push(rel);
        }
    }
    on_disk.sort();
    assert_eq!(listed, on_disk);
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1, "no staging folder left");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            v.extend(walk(&e.path()));
        } else {
            v.push(e.path());
        }
    }
    v
}

#[test]
fn epsc_as_a_library() {
    let root = tempfile::tempdir().unwrap();
    let r = run_epsc(&[fixture("slices")], &root.path().join("e"), &EpscConfig::default(), None).unwrap();
    assert_eq!(r.cells.len(), 2);
    assert!(r.failed.is_empty());
    let lhb = r.cells.iter().find(|c| c.region == "LHb").unwrap();
    let ca1 = r.cells.iter().find(|c| c.region == "CA1").unwrap();
    assert!(lhb.summary.block_pct > 60.0 && ca1.summary.block_pct < 30.0);
    assert_eq!(r.record.key.inputs.len(), 2);
    let again = run_epsc(&[fixture("slices")], &root.path().join("f"), &EpscConfig::default(), None).unwrap();
    assert_eq!(key_and_outputs(&r.dir, "epsc.json"), key_and_outputs(&again.dir, "epsc.json"));
}

#[test]
fn a_failing_stage_leaves_the_previous_output_untouched() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("b");
    run_bursts(&fixture("lhb_units_ketamine.nwb"), &out, &BurstsConfig::default()).unwrap();
    let before = std::fs::read(out.join("bursts.json")).unwrap();
    let mut s = BurstsSettings::default();
    s.windows.drug_at_s = Some(1.0e9); // outside the recording
    let err = run_bursts(&fixture("lhb_units_ketamine.nwb"), &out, &BurstsConfig::new(s).unwrap()).unwrap_err();
    assert!(err.to_string().contains("outside the recording"), "{err}");
    assert_eq!(std::fs::read(out.join("bursts.json")).unwrap(), before);
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
}
