"""Golden values for the Open Ephys binary-format reader, read with numpy and json.

../shared/real/extracellular/openephys_binary_v0.6.7_no_continuous/Record Node
101/experiment1/recording1: the first continuous stream's rate and channel
count (structure.oebin), its sample count and first sample number
(sample_numbers.npy) and first time (timestamps.npy), and the number of TTL
events in each TTL folder. The Rust test
(crates/burstscope-formats/tests/openephys_binary.rs) compares.

    $(../shared/tools/peer-env)/bin/python tests/golden/make_openephys_binary_golden.py
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REC = os.path.join(HERE, "..", "..", "..", "shared", "real", "extracellular", "openephys_binary_v0.6.7_no_continuous",
                   "Record Node 101", "experiment1", "recording1")

meta = json.load(open(os.path.join(REC, "structure.oebin")))
c = meta["continuous"][0]
d = os.path.join(REC, "continuous", c["folder_name"].rstrip("/"))
sn = np.load(os.path.join(d, "sample_numbers.npy"))
ts = np.load(os.path.join(d, "timestamps.npy"))
ttl, first = {}, {}
for e in meta["events"]:
    if e["folder_name"].rstrip("/").endswith("TTL"):
        ed = os.path.join(REC, "events", e["folder_name"].rstrip("/"))
        st = np.load(os.path.join(ed, "states.npy"))
        ttl[e["folder_name"]] = int(len(st))
        first[e["folder_name"]] = {
            "states": [int(x) for x in st[:5]],
            "sample_numbers": [int(x) for x in np.load(os.path.join(ed, "sample_numbers.npy"))[:5]],
            "timestamps": [float(x) for x in np.load(os.path.join(ed, "timestamps.npy"))[:5]],
        }
out = {
    "rate_hz": c["sample_rate"],
    "n_channels": c["num_channels"],
    "n_samples": int(len(sn)),
    "first_sample": int(sn[0]),
    "first_time_s": float(ts[0]),
    "ttl_counts": ttl,
    "ttl_first": first,
}
with open(os.path.join(HERE, "openephys_binary_golden.json"), "w") as fh:
    json.dump(out, fh, indent=1, sort_keys=True)
    fh.write("\n")
