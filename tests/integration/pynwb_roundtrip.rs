//! Files burstscope writes open in pynwb. Runs when `BURSTSCOPE_PYTHON` points
//! at a Python with pynwb (`../shared/tools/peer-env` makes one; `cargo xtask
//! test` finds it); under CI the Python is required.

use crate::util::bin;
use std::process::Command;

pub(crate) fn python() -> Option<String> {
    let py = std::env::var("BURSTSCOPE_PYTHON").ok().filter(|p| !p.is_empty());
    let ok = py
        .as_ref()
        .is_some_and(|p| Command::new(p).args(["-c", "import pynwb"]).output().is_ok_and(|o| o.status.success()));
    if ok {
        return py;
    }
    assert!(std::env::var_os("CI").is_none(), "CI must set BURSTSCOPE_PYTHON to a Python with pynwb");
    eprintln!("notice: no BURSTSCOPE_PYTHON with pynwb; skipping the pynwb round trip");
    None
}

const CHECK: &str = r#"
import sys, warnings, pynwb
from pynwb import validate
tet, cell = sys.argv[1], sys.argv[2]
with pynwb.NWBHDF5IO(tet, "r") as io:
    nwb = io.read()
    es = nwb.acquisition["ElectricalSeries"]
    assert es.data.shape == (60000, 8), es.data.shape
    assert es.rate == 30000.0
    assert len(nwb.units) == 6
    assert nwb.units["electrode_group"][0].name == "tetrode0"
    assert list(nwb.epochs["tags"][1]) == ["ketamine"]
    assert list(es.electrodes.table["group_name"][:4]) == ["tetrode0"] * 4
with pynwb.NWBHDF5IO(cell, "r") as io:
    nwb = io.read()
    r = nwb.acquisition["response_021"]
    assert type(r).__name__ == "VoltageClampSeries"
    assert r.sweep_number == 21 and r.stimulus_description == "ketamine"
    assert r.electrode.location == "LHb" and r.electrode.cell_id == "LHb-01"
    assert len(nwb.stimulus) == 60
for p in (tet, cell):
    errors = validate(path=p)
    errors = errors[0] if isinstance(errors, tuple) else errors
    assert not errors, errors
print("pynwb ok")
"#;

#[test]
fn generated_files_open_and_validate_in_pynwb() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let tet = dir.path().join("t.nwb");
    bin()
        .args(["generate", "tetrode", "--out"])
        .arg(&tet)
        .args(["--tetrodes", "2", "--duration", "2"])
        .assert()
        .success();
    bin().args(["generate", "slices", "--out"]).arg(dir.path()).args(["--cells-per-region", "1"]).assert().success();
    let out = Command::new(py).args(["-c", CHECK]).arg(&tet).arg(dir.path().join("LHb_cell01.nwb")).output().unwrap();
    assert!(
        out.status.success(),
        "pynwb failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pynwb ok"));
}
