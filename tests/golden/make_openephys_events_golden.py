"""TTL events of the real Open Ephys legacy recording, from open-ephys-python-tools.

Reads ../shared/real/extracellular/openephys_legacy_v0.6.7 with the GUI
makers' own reader (open-ephys-python-tools 1.0.1: Session -> record node ->
recording.events) and writes tests/golden/openephys_events_golden.json: per
record node every TTL event's line, state and sample number.
crates/burstscope-formats/tests/openephys_neo.rs compares.

    python3 -m venv /root/.cache/burstscope-oe-env
    /root/.cache/burstscope-oe-env/bin/pip install open-ephys-python-tools==1.0.1
    /root/.cache/burstscope-oe-env/bin/python tests/golden/make_openephys_events_golden.py
"""
import json
import os

from open_ephys.analysis import Session

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..", "shared", "real", "extracellular", "openephys_legacy_v0.6.7")

s = Session(ROOT)
out = {"open_ephys_python_tools": "1.0.1", "nodes": {}}
for rn in s.recordnodes:
    ev = rn.recordings[0].events
    out["nodes"][os.path.basename(rn.directory)] = [
        {"line": int(r.line), "state": int(r.state), "sample": int(r.sample_number)} for r in ev.itertuples()
    ]
with open(os.path.join(HERE, "openephys_events_golden.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print({k: len(v) for k, v in out["nodes"].items()})
