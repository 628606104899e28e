//! NWB files written by other tools (`../shared/real/nwb/`, see its README):
//! they open, or are refused with a message that says why. Skipped with a
//! notice when `../shared` is absent (CI always has it).

use crate::util::bin;
use std::path::{Path, PathBuf};

fn real(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/nwb").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

#[test]
fn an_extension_subtype_of_nwbfile_opens() {
    let Some(f) = real("bluepyefe_99111002_ndx_root.nwb") else { return };
    let out = bin().args(["inspect".as_ref(), f.as_os_str(), "--json".as_ref()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["layout"], "nwb");
    assert_eq!(v[0]["sweeps"].as_array().map(Vec::len), Some(16), "16 current-clamp step sweeps");
}

#[test]
fn a_dandi_unit_with_unsorted_spike_times_is_sorted_and_reported() {
    let Some(f) = real("sub-anm369963_ses-20170228.nwb") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let o = bin()
        .args(["bursts".as_ref(), f.as_os_str(), "--out".as_ref(), out.as_os_str(), "--no-figures".as_ref()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bursts.json")).unwrap()).unwrap();
    let w = rec["outputs"]["warnings"].as_array().unwrap();
    assert!(w.iter().any(|w| w.as_str().unwrap().contains("not sorted")), "{w:?}");
}

#[test]
fn nwb_1_is_refused_with_the_reason() {
    let Some(f) = real("nwb1_allen_496908818s.nwb") else { return };
    let o = bin().args(["inspect".as_ref(), f.as_os_str()]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("NWB 1.x (1.0.5) is not supported; convert it to NWB 2"), "{err}");
}

#[test]
fn files_of_old_pynwb_versions_open() {
    for name in [
        "back_compat/1.0.2_nwbfile.nwb",
        "back_compat/1.1.2_nwbfile.nwb",
        "back_compat/1.5.1_timeseries_no_data.nwb",
        "back_compat/2.1.0_nwbfile_with_extension.nwb",
        "back_compat/2.2.0_subject_no_age__reference.nwb",
    ] {
        let Some(f) = real(name) else { return };
        let o = bin().args(["inspect".as_ref(), f.as_os_str()]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    }
}
