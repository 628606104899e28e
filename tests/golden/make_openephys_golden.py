"""Golden values for the Open Ephys legacy reader, from neo (OpenEphysRawIO).

For each record node in ../shared/real/extracellular/openephys_legacy_v0.6.7/
neo's channel names, sampling rate, gain (µV per unit), start time, sample
count and per channel the first and last three stored values and their sum.
The Rust test (crates/burstscope-formats/tests/openephys_neo.rs) compares.

    $(../shared/tools/peer-env)/bin/python tests/golden/make_openephys_golden.py
"""
import glob
import json
import os

import neo
import numpy as np
from neo.rawio import OpenEphysRawIO

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "..", "..", "shared", "real", "extracellular", "openephys_legacy_v0.6.7")


def main():
    out = {"neo": neo.__version__, "nodes": {}}
    for node in sorted(glob.glob(os.path.join(DIR, "Record Node *"))):
        r = OpenEphysRawIO(dirname=node)
        r.parse_header()
        ch = r.header["signal_channels"]
        n = r.get_signal_size(0, 0, 0)
        x = np.asarray(r.get_analogsignal_chunk(0, 0, 0, n, 0), dtype=np.int64)
        out["nodes"][os.path.basename(node)] = {
            "names": [str(c["name"]) for c in ch],
            "rate_hz": float(r.get_signal_sampling_rate(0)),
            "gain_uv": [float(c["gain"]) for c in ch],
            "units": [str(c["units"]) for c in ch],
            "t_start_s": float(r.get_signal_t_start(0, 0, 0)),
            "n_samples": int(n),
            "head": x[:3].tolist(),
            "tail": x[-3:].tolist(),
            "sum": x.sum(axis=0).tolist(),
        }
    with open(os.path.join(HERE, "openephys_golden.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
