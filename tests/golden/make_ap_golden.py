"""Golden action-potential counts from pyABF 2.3.8 (pyabf.tools.ap).

For each current-clamp file in ../shared/real/abf/, per sweep and per channel
that records membrane potential: the number of APs pyABF's detector
(`ap_points_currentSweep`, dV/dt threshold 15 V/s) finds in the whole sweep,
and their sample indices (the dV/dt peak of each upstroke). The Rust test
(tests/integration/cclamp.rs) compares `burstscope cclamp` with these.

    python3 -m venv /root/.cache/burstscope-abf-env
    /root/.cache/burstscope-abf-env/bin/pip install pyabf==2.3.8
    /root/.cache/burstscope-abf-env/bin/python tests/golden/make_ap_golden.py
"""
import json
import os
import warnings

warnings.simplefilter("ignore")
import pyabf  # noqa: E402
import pyabf.tools.ap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "..", "..", "shared", "real", "abf")
# file -> channels recording membrane potential (180329_ts_0005 labels its
# potential "pA"; opto_aps_bad_units too)
FILES = {
    "17o05028_ic_steps.abf": [0],
    "2019_07_24_0055_fsi.abf": [0],
    "File_axon_5.abf": [0],
    "18425108.abf": [1],
    "18425108_abf1.abf": [1],
    "190619B_0003.abf": [0, 1],
    "opto_aps_good_units.abf": [0],
    "opto_aps_bad_units.abf": [0],
    "180329_ts_0005-badUnits.abf": [0],
}


def main():
    out = {"pyabf": pyabf.__version__, "threshold_v_per_s": 15, "files": {}}
    for name, channels in FILES.items():
        abf = pyabf.ABF(os.path.join(REAL, name))
        d = {}
        for c in channels:
            rows = []
            for s in abf.sweepList:
                abf.setSweep(s, c)
                pts = [int(p) for p in pyabf.tools.ap.ap_points_currentSweep(abf)]
                rows.append(pts)
            d[str(c)] = rows
        out["files"][name] = d
    with open(os.path.join(HERE, "ap_golden.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
