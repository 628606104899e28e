"""Golden values for the raw binary reader, from neo (RawBinarySignalRawIO).

For each recording in ../shared/real/extracellular/locust_tetrode/ (int16,
4 channels, 15 kHz: its info.json) neo's frame count, sampling rate and per
channel the first and last three samples, min, max and float64 sum. The Rust
test (crates/burstscope-formats/tests/raw_neo.rs) compares with these.

    $(../shared/tools/peer-env)/bin/python tests/golden/make_raw_golden.py
"""
import glob
import json
import os

import neo
import numpy as np
from neo.rawio import RawBinarySignalRawIO

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "..", "..", "shared", "real", "extracellular", "locust_tetrode")


def main():
    info = json.load(open(os.path.join(DIR, "info.json")))
    out = {"neo": neo.__version__, "files": {}}
    for path in sorted(glob.glob(os.path.join(DIR, "*.raw"))):
        r = RawBinarySignalRawIO(filename=path, dtype=info["dtype"], sampling_rate=info["sample_rate"],
                                 nb_channel=info["shape"][1])
        r.parse_header()
        n = r.get_signal_size(0, 0, 0)
        x = np.asarray(r.get_analogsignal_chunk(0, 0, 0, n, 0), dtype=np.float64)
        out["files"][os.path.basename(path)] = {
            "n_samples": int(n),
            "rate_hz": float(r.get_signal_sampling_rate(0)),
            "channels": int(x.shape[1]),
            "head": x[:3].tolist(),
            "tail": x[-3:].tolist(),
            "min": x.min(axis=0).tolist(),
            "max": x.max(axis=0).tolist(),
            "sum": x.sum(axis=0).tolist(),
        }
    with open(os.path.join(HERE, "raw_golden.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
