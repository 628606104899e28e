"""Golden values for the Blackrock NEV reader, from neo (BlackrockRawIO).

For ../shared/real/extracellular/blackrock_utah/l101210-001-02.nev: neo's
spike channels (`ch<electrode>#<unit>`) with their spike counts and first and
last three timestamps (in 30 kHz ticks), the timestamp resolution, and the
digital-input events' timestamps and labels; for l101210-001.ns2 (NSx 2.1,
scaled from the NEV's digitization factors) the channel names, ids, rate,
gains, sample count, start and the first and last values and sums. The Rust test
(crates/burstscope-formats/tests/nev_neo.rs) compares.

    $(../shared/tools/peer-env)/bin/python tests/golden/make_nev_golden.py
"""
import json
import os
import warnings

import neo
from neo.rawio import BlackrockRawIO

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "..", "..", "shared", "real", "extracellular", "blackrock_utah")


def main():
    r = BlackrockRawIO(filename=os.path.join(DIR, "l101210-001"),
                       nsx_override=os.path.join(DIR, "l101210-001"),
                       nev_override=os.path.join(DIR, "l101210-001-02"))
    r.parse_header()
    units = []
    for i, ch in enumerate(r.header["spike_channels"]):
        ts = r.get_spike_timestamps(0, 0, i)
        units.append({
            "name": str(ch["name"]),
            "count": int(len(ts)),
            "head": [int(t) for t in ts[:3]],
            "tail": [int(t) for t in ts[-3:]],
            "sum": int(sum(int(t) for t in ts)),
        })
    ev = {}
    for i, ch in enumerate(r.header["event_channels"]):
        n = r.event_count(0, 0, i)
        if n:
            t, _, labels = r.get_event_timestamps(0, 0, i)
            ev[str(ch["name"])] = {"timestamps": [int(x) for x in t], "labels": [str(x) for x in labels]}
    ch = r.header["signal_channels"]
    n = r.get_signal_size(0, 0, 0)
    x = r.get_analogsignal_chunk(0, 0, 0, n, 0).astype("int64")
    nsx = {
        "names": [str(c["name"]) for c in ch],
        "ids": [int(c["id"]) for c in ch],
        "rate_hz": float(r.get_signal_sampling_rate(0)),
        "gain_uv": [float(c["gain"]) for c in ch],
        "n_samples": int(n),
        "t_start_s": float(r.get_signal_t_start(0, 0, 0)),
        "head": x[:3].tolist(),
        "tail": x[-3:].tolist(),
        "sum": x.sum(axis=0).tolist(),
    }
    out = {
        "nsx": nsx,
        "neo": neo.__version__,
        "timestamp_resolution_hz": 30000,
        "units": units,
        "events": ev,
        "n_spikes": int(sum(u["count"] for u in units)),
    }
    with open(os.path.join(HERE, "nev_golden.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
