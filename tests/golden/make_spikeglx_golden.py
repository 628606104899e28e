"""SpikeGLX test recordings and neo's reading of them.

Writes two small SpikeGLX streams into tests/fixtures/spikeglx/ from
SpikeGLX's metadata description (Metadata_30.md): a Neuropixels 1.0 AP
stream `run_g0_t0.imec0.ap.bin/.meta` (6 AP channels on 2 shanks, one at
gain 250 and the rest at 500, and the sync channel; a saved subset;
firstSample) and a NI-DAQ stream `run_g0_t0.nidq.bin/.meta` (2 MN, 1 MA, 1 XA
and 1 digital word). Then reads them with neo's SpikeGLXRawIO
(../shared/tools/peer-env, neo 0.14.6) and writes
tests/golden/spikeglx_golden.json: per stream its rate, channel names,
gains, offsets, sample count, t_start and scaled samples (first row, sums).
The Rust test (crates/burstscope-formats/tests/spikeglx_neo.rs) compares.

    PY=$(../shared/tools/peer-env)/bin/python; $PY tests/golden/make_spikeglx_golden.py
"""
import json
import os

import numpy as np
from neo.rawio import SpikeGLXRawIO

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "spikeglx")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)


def write(stem, meta, data):
    data.astype("<i2").tofile(os.path.join(OUT, stem + ".bin"))
    meta["fileSizeBytes"] = str(data.size * 2)
    meta["fileName"] = "D:/data/run_g0/" + stem + ".bin"
    with open(os.path.join(OUT, stem + ".meta"), "w") as f:
        for k, v in meta.items():
            f.write(f"{k}={v}\n")


# Neuropixels 1.0 AP: 8 acquired AP channels, 6 saved (0:4,6) + SY (8)
n = 3000
acq_ap = 8
saved = [0, 1, 2, 3, 4, 6, 8]
gains = [500, 500, 250, 500, 500, 500, 500, 500]
imro = "(0,8)" + "".join(f"({c} 0 0 {gains[c]} 250 1)" for c in range(acq_ap))
chanmap = "(8,8,1)" + "".join(f"(AP{c};{c}:{c})" for c in saved[:-1]) + "(SY0;8:8)"
shank = "(2,2,4)" + "".join(f"({0 if c < 4 else 1}:{c % 2}:{c // 2}:1)" for c in saved[:-1])
ap = rng.integers(-300, 300, size=(n, len(saved)))
ap[:, -1] = (np.arange(n) // 100) % 2 * 64  # the sync word
write("run_g0_t0.imec0.ap", {
    "typeThis": "imec", "imSampRate": "30000", "nSavedChans": str(len(saved)),
    "snsApLfSy": f"{acq_ap},0,1", "snsSaveChanSubset": "0:4,6,8",
    "imAiRangeMax": "0.6", "imAiRangeMin": "-0.6", "imMaxInt": "512",
    "imDatPrb_pn": "NP1000", "imDatPrb_type": "0", "firstSample": "12345",
    "~imroTbl": imro, "~snsChanMap": chanmap, "~snsShankMap": shank,
}, ap)

# NI-DAQ: 2 MN, 1 MA, 1 XA, 1 digital word
nidq = rng.integers(-2000, 2000, size=(n, 5))
write("run_g0_t0.nidq", {
    "typeThis": "nidq", "niSampRate": "25000", "nSavedChans": "5", "snsMnMaXaDw": "2,1,1,1",
    "snsSaveChanSubset": "all", "niAiRangeMax": "5", "niAiRangeMin": "-5", "niMNGain": "200",
    "niMAGain": "1", "firstSample": "0",
    "~snsChanMap": "(2,1,1,1,1)(MN0;0:0)(MN1;1:1)(MA0;2:2)(XA0;3:3)(XD0;4:4)",
}, nidq)

r = SpikeGLXRawIO(dirname=OUT)
r.parse_header()
golden = {"neo": "0.14.6", "streams": {}}
for si, s in enumerate(r.header["signal_streams"]):
    sid = s["id"]
    chans = r.header["signal_channels"]
    chans = chans[chans["stream_id"] == sid]
    n_s = r.get_signal_size(0, 0, si)
    raw = r.get_analogsignal_chunk(0, 0, 0, n_s, si)
    scaled = raw.astype("float64") * chans["gain"] + chans["offset"]
    golden["streams"][str(s["name"])] = {
        "rate_hz": float(chans["sampling_rate"][0]),
        "names": [str(x) for x in chans["name"]],
        "units": [str(x) for x in chans["units"]],
        "gains": [float(x) for x in chans["gain"]],
        "offsets": [float(x) for x in chans["offset"]],
        "n_samples": int(n_s),
        "t_start_s": float(r.get_signal_t_start(0, 0, si)),
        "first_row": [float(x) for x in scaled[0]],
        "sums": [float(x) for x in scaled.sum(axis=0)],
    }
with open(os.path.join(HERE, "spikeglx_golden.json"), "w") as f:
    json.dump(golden, f, indent=1, sort_keys=True)
    f.write("\n")
print(json.dumps({k: (v["names"], v["gains"], v["t_start_s"]) for k, v in golden["streams"].items()}, indent=1))
