"""Golden values for the HEKA PatchMaster reader, from pyheka 1.0.1 (numpy 2.4).

Reads every bundle in ../shared/real/heka/ with pyheka and writes
tests/golden/heka_golden.json: per file the bundle version and items, the
pulsed tree (group, series, sweep and trace labels and counts, series and
sweep times as Unix seconds, sweep stimulation and sweep numbers) and per
trace its sample count, interval, units, format, scaler, recording mode,
first samples, float64 sum, minimum and maximum; and the stimulus tree's
stimulation names, sample intervals and sweep counts. The Rust test
(crates/burstscope-formats/tests/heka_pyheka.rs) compares its reader with it.

    python3 -m venv /root/.cache/burstscope-heka-env
    /root/.cache/burstscope-heka-env/bin/pip install pyheka==1.0.1
    /root/.cache/burstscope-heka-env/bin/python tests/golden/make_heka_golden.py
"""
import datetime
import glob
import json
import os

import numpy as np
import pyheka

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "..", "..", "shared", "real", "heka")


def unix(t):
    # pyheka gives naive datetimes on HEKA's UTC-based clock
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


out = {"pyheka": "1.0.1", "files": {}}
for path in sorted(glob.glob(os.path.join(REAL, "*.dat"))):
    b = pyheka.Bundle(path)
    f = {"version": b.pul.VersionName, "groups": []}
    for gi, g in enumerate(b.pul.children):
        G = {"label": g.Label, "series": []}
        for si, s in enumerate(g.children):
            S = {"label": s.Label, "time_unix_s": unix(s.Time), "sweeps": []}
            for wi, w in enumerate(s.children):
                W = {
                    "stim_count": int(w.StimCount),
                    "sweep_count": int(w.SweepCount),
                    "time_unix_s": unix(w.Time),
                    "traces": [],
                }
                for ti, t in enumerate(w.children):
                    d = np.asarray(b.data[gi, si, wi, ti], dtype=np.float64)
                    W["traces"].append({
                        "label": t.Label,
                        "points": int(t.DataPoints),
                        "x_interval_s": float(t.XInterval),
                        "y_unit": t.YUnit,
                        "format": str(t.DataFormat),
                        "scaler": float(t.DataScaler),
                        "recording_mode": str(t.RecordingMode),
                        "adc_channel": int(t.AdcChannel),
                        "len": int(d.size),
                        "first": [float(x) for x in d[:5]],
                        "sum": float(d.sum()),
                        "min": float(d.min()),
                        "max": float(d.max()),
                    })
                S["sweeps"].append(W)
            G["series"].append(S)
        f["groups"].append(G)
    f["stimulations"] = [
        {"name": st.EntryName, "sample_interval_s": float(st.SampleInterval), "number_sweeps": int(st.NumberSweeps)}
        for st in b.pgf.children
    ]
    out["files"][os.path.basename(path)] = f

with open(os.path.join(HERE, "heka_golden.json"), "w") as fh:
    json.dump(out, fh, indent=1, sort_keys=True)
    fh.write("\n")
print("wrote", sum(len(w["traces"]) for f in out["files"].values() for g in f["groups"] for s in g["series"] for w in s["sweeps"]), "traces")
