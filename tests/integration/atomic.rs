//! Output folders are committed whole: a run killed with SIGKILL at any moment
//! leaves the previous complete folder or the new complete one, never a mix,
//! never a partial folder, never a stale table.

use crate::util::{bin_std, fixture};
use burstscope_core::Record;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            files_under(&e.path(), root, out);
        } else {
            out.push(e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
}

/// The folder is absent, or holds exactly what its record lists, verified.
fn assert_complete(out: &Path, inputs: &[PathBuf]) -> Option<String> {
    if !out.exists() {
        return None;
    }
    let rec = Record::read(&out.join("bursts.json")).unwrap_or_else(|e| panic!("folder without a valid record: {e}"));
    assert!(rec.verify(out), "record does not match the files in {}", out.display());
    let mut on_disk = Vec::new();
    files_under(out, out, &mut on_disk);
    on_disk.retain(|f| f != "bursts.json");
    on_disk.sort();
    let listed: Vec<String> = rec.outputs.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(on_disk, listed, "files beside the record that it does not list");
    let input = &rec.key.inputs[0].path;
    assert!(inputs.iter().any(|i| i.display().to_string() == *input));
    Some(input.clone())
}

#[test]
fn sigkill_at_random_moments_never_leaves_a_mixed_or_partial_folder() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("bursts");
    // Two inputs whose outputs differ in their files (LFP tables or not).
    let inputs = [fixture("tetrode_raw.nwb"), fixture("lhb_units_ketamine.nwb")];
    let run = |input: &Path| -> std::process::Child {
        let mut c = bin_std();
        c.args(["bursts".as_ref(), input.as_os_str(), "--out".as_ref(), out.as_os_str()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c.spawn().unwrap()
    };
    let t0 = Instant::now();
    assert!(run(&inputs[0]).wait().unwrap().success());
    let full = t0.elapsed();
    assert_eq!(assert_complete(&out, &inputs).as_deref(), Some(inputs[0].display().to_string().as_str()));
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut seen_new = 0;
    for k in 0..20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delay = full.mul_f64((state % 1000) as f64 / 1000.0 * 1.2);
        let input = &inputs[(k + 1) % 2];
        let mut child = run(input);
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let after = assert_complete(&out, &inputs);
        if status.success() || after.as_deref() == Some(input.display().to_string().as_str()) {
            seen_new += 1;
        }
        assert!(after.is_some(), "kill {k} after {delay:?} removed the previous output");
    }
    assert!(seen_new > 0, "no run finished: the delays never reached the end of a run");
    let leftovers: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "bursts")
        .map(|e| e.file_name())
        .collect();
    // A killed run's staging folder is removed by the next run; at most the last one remains.
    assert!(leftovers.len() <= 1, "staging folders pile up: {leftovers:?}");
}
