//! Drug times from the files' own events (`--drug-at event:NAME`): an NWB
//! epoch tag, an NWB `AnnotationSeries` written by pynwb, and a Blackrock
//! NEV digital line's rising edge; the record says which event was used; a
//! name the file does not have is exit 2 listing the names it has.

use crate::pynwb_roundtrip::python;
use crate::util::bin;
use std::path::Path;
use std::process::Command;

fn record(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("bursts.json")).unwrap()).unwrap()
}

fn fixtures() -> Option<std::path::PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    if d.is_dir() {
        return Some(d);
    }
    assert!(std::env::var_os("CI").is_none(), "CI has ../shared/fixtures");
    None
}

/// The fixture's `ketamine` epoch: `--drug-at event:ketamine` puts the
/// injection at the epoch's start (the truth's ketamine time), as the
/// epochs themselves do.
#[test]
fn drug_time_from_an_epoch_tag() {
    let Some(fx) = fixtures() else { return };
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx.join("lhb_units_ketamine.truth.json")).unwrap()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().join("b");
    let r = bin()
        .args(["bursts"])
        .arg(fx.join("lhb_units_ketamine.nwb"))
        .arg("--out")
        .arg(&o)
        .args(["--drug-at", "event:Ketamine", "--format", "csv"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rec = record(&o);
    let s = &rec["outputs"]["summary"];
    assert_eq!(s["drug_at_s"].as_f64().unwrap(), truth["ketamine_s"].as_f64().unwrap(), "{s}");
    assert_eq!(s["drug_at_event"]["matched"], "ketamine");
    assert_eq!(s["drug_at_event"]["source"], "/intervals/epochs");
    assert_eq!(rec["key"]["config"]["windows"]["drug_at_event"], "Ketamine");

    // an event the file does not have: exit 2, naming what it has, nothing written
    let o2 = out.path().join("c");
    let r = bin()
        .args(["bursts"])
        .arg(fx.join("lhb_units_ketamine.nwb"))
        .arg("--out")
        .arg(&o2)
        .args(["--drug-at", "event:saline"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("saline") && err.contains("baseline") && err.contains("ketamine"), "{err}");
    assert!(!o2.exists());
}

const WRITE: &str = r#"
import sys, datetime, numpy as np, pynwb
from pynwb.misc import AnnotationSeries
nwb = pynwb.NWBFile(session_description="events", identifier="ev1",
                    session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
rng = np.random.default_rng(1)
for u in range(3):
    nwb.add_unit(spike_times=np.sort(rng.uniform(0, 600, 1200)))
notes = AnnotationSeries(name="notes", data=["electrode lowered", "ketamine i.p."], timestamps=[5.0, 300.0])
nwb.add_acquisition(notes)
with pynwb.NWBHDF5IO(sys.argv[1], "w") as io:
    io.write(nwb)
"#;

/// An `AnnotationSeries` written by pynwb: `inspect` lists its texts and
/// `--drug-at "event:ketamine i.p."` takes its time (300 s).
#[test]
fn drug_time_from_a_pynwb_annotation() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ev.nwb");
    let w = Command::new(py).args(["-c", WRITE]).arg(&f).output().unwrap();
    assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
    let r = bin().arg("inspect").arg(&f).output().unwrap();
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(text.contains("/acquisition/notes: 2 from 5.000 s: electrode lowered, ketamine i.p."), "{text}");
    let o = dir.path().join("b");
    let r = bin()
        .arg("bursts")
        .arg(&f)
        .arg("--out")
        .arg(&o)
        .args(["--drug-at", "event:ketamine i.p.", "--format", "csv"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s = &record(&o)["outputs"]["summary"];
    assert_eq!(s["drug_at_s"].as_f64(), Some(300.0), "{s}");
    assert_eq!(s["drug_at_event"]["source"], "/acquisition/notes");
}

/// A NEV file's digital input: `event:digital:1` is line 1's first rising
/// edge (2.2508 s in the real Utah-array file, as neo reads its digital events).
#[test]
fn drug_time_from_a_nev_digital_line() {
    let f =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real/extracellular/blackrock_utah/l101210-001-02.nev");
    if !f.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("b");
    let r = bin()
        .arg("bursts")
        .arg(&f)
        .arg("--out")
        .arg(&o)
        .args(["--drug-at", "event:digital:1", "--format", "csv"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s = &record(&o)["outputs"]["summary"];
    assert!((s["drug_at_s"].as_f64().unwrap() - 2.2508).abs() < 1e-9, "{s}");
    assert_eq!(s["drug_at_event"]["source"], "NEV digital input");
}

/// A Neuralynx folder (`tests/fixtures/neuralynx`, written from the record
/// layouts and read equal to neo): its tetrode file's cells are the units
/// (`TT1#<cell>`) and a typed `ketamine` note in `Events.nev` sets the drug
/// time (1000.15 s on Cheetah's clock).
#[test]
fn drug_time_from_a_neuralynx_event_note() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("b");
    let r = bin()
        .arg("bursts")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/neuralynx"))
        .arg("--out")
        .arg(&o)
        .args(["--drug-at", "event:ketamine", "--format", "csv", "--no-figures"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rec = record(&o);
    let s = &rec["outputs"]["summary"];
    assert!((s["drug_at_s"].as_f64().unwrap() - 1000.15).abs() < 1e-9, "{s}");
    assert_eq!(s["n_units"], 3);
    assert_eq!(rec["key"]["inputs"].as_array().unwrap().len(), 2, "TT1.ntt and Events.nev");
}

/// TTL lines of the real Open Ephys legacy recording (its `.events` file,
/// read equal to open-ephys-python-tools) reach the sorted units' file:
/// `convert` writes the 64 rising edges as an `AnnotationSeries`, and
/// `sort` copies the session's events into `sorted.nwb`, where
/// `bursts --drug-at event:ttl:LINE` finds them.
#[test]
fn ttl_events_travel_from_open_ephys_through_convert_and_sort() {
    let node = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real/extracellular/openephys_legacy_v0.6.7/Record Node 101");
    if !node.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let nwb = dir.path().join("oe.nwb");
    let r =
        bin().arg("convert").arg(&node).arg("--out").arg(&nwb).args(["--channels-per-group", "2"]).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let events = |f: &Path| -> Vec<(String, f64)> {
        let r = bin().arg("inspect").arg("--json").arg(f).output().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        v[0]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e["time_s"].as_f64().unwrap()))
            .collect()
    };
    let converted = events(&nwb);
    assert_eq!(converted.len(), 64);
    // line 1's first rising edge: sample 251 635 at 40 kHz
    assert_eq!(converted[0].0, "ttl:1");
    assert!((converted[0].1 - 251_635.0 / 40_000.0).abs() < 1e-9);
    // the folder itself is not sorted: the message says to convert it
    let r = bin().arg("sort").arg(&node).arg("--out").arg(dir.path().join("x")).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("burstscope convert"));
    let sorted = dir.path().join("sort");
    let r = bin().arg("sort").arg(&nwb).arg("--out").arg(&sorted).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(events(&sorted.join("sorted.nwb")), converted);
}
