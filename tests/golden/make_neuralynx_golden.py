"""Neuralynx test session and neo's reading of it.

Writes a small Cheetah-style session into tests/fixtures/neuralynx/ from
Neuralynx's documented file layouts (a 16 384-byte text header, then
little-endian records): four continuous channels CSC1..CSC4.ncs (1 044-byte
records: uint64 timestamp in µs, uint32 channel, uint32 sampling frequency,
uint32 valid samples, 512 int16 samples; CSC3 with -InputInverted True), a
tetrode spike file TT1.ntt (304-byte records: timestamp, entity, cell, 8
features, 32 x 4 samples; cells 0, 1 and 2) and Events.nev (184-byte
records with TTL values and event strings). Then reads the folder with neo's
NeuralynxRawIO (../shared/tools/peer-env, neo 0.14.6) and writes
tests/golden/neuralynx_golden.json: per channel its name, rate, gain, first
samples and sum in µV, t_start; spike counts and first times per unit;
event times and labels. crates/burstscope-formats/tests/neuralynx_neo.rs
compares.

    PY=$(../shared/tools/peer-env)/bin/python; $PY tests/golden/make_neuralynx_golden.py
"""
import json
import os
import struct

import numpy as np
from neo.rawio import NeuralynxRawIO

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "neuralynx")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(11)
FS = 32000
T0 = 1_000_000_000  # µs on Cheetah's clock
N_REC = 20


def header(fields):
    lines = ["######## Neuralynx Data File Header",
             "## File Name C:\\CheetahData\\2026-01-05_10-00-00\\x",
             "## Time Opened (m/d/y): 1/5/2026  (h:m:s.ms) 10:0:0.0",
             "## Time Closed (m/d/y): 1/5/2026  (h:m:s.ms) 10:5:0.0",
             "-CheetahRev 5.6.3"] + [f"-{k} {v}" for k, v in fields.items()]
    text = "\r\n".join(lines) + "\r\n"
    return text.encode("latin-1").ljust(16384, b"\0")


for ch in range(4):
    fields = {"FileType": "CSC", "RecordSize": "1044", "SamplingFrequency": str(FS), "ADMaxValue": "32767",
              "ADBitVolts": "0.000000061037", "AcqEntName": f"CSC{ch + 1}", "NumADChannels": "1",
              "ADChannel": str(ch), "InputRange": "2000", "InputInverted": "True" if ch == 2 else "False"}
    with open(os.path.join(OUT, f"CSC{ch + 1}.ncs"), "wb") as f:
        f.write(header(fields))
        for r in range(N_REC):
            ts = T0 + int(round(r * 512 * 1e6 / FS))
            samples = rng.integers(-2000, 2000, 512).astype("<i2")
            f.write(struct.pack("<QIII", ts, ch, FS, 512) + samples.tobytes())

with open(os.path.join(OUT, "TT1.ntt"), "wb") as f:
    f.write(header({"FileType": "Spike", "RecordSize": "304", "SamplingFrequency": str(FS), "ADMaxValue": "32767",
                    "ADBitVolts": "0.000000061037 0.000000061037 0.000000061037 0.000000061037",
                    "AcqEntName": "TT1", "NumADChannels": "4", "ADChannel": "0 1 2 3",
                    "InputInverted": "False", "WaveformLength": "32", "AlignmentPt": "8"}))
    for k in range(60):
        ts = T0 + 1000 + k * 4000
        cell = k % 3
        f.write(struct.pack("<QII8i", ts, 0, cell, *range(8)) + rng.integers(-500, 500, 128).astype("<i2").tobytes())

with open(os.path.join(OUT, "Events.nev"), "wb") as f:
    f.write(header({"FileType": "Event", "RecordSize": "184"}))
    for k, (ttl, text) in enumerate([(0, "Starting Recording"), (1, "TTL Input on AcqSystem1_0 board 0 port 0 value (0x0001)."),
                                     (0, "TTL Input on AcqSystem1_0 board 0 port 0 value (0x0000)."), (0, "ketamine")]):
        ts = T0 + k * 50_000
        f.write(struct.pack("<hhhQhhhhh8i", 2048, 4, 2, ts, 11 if ttl else 19, ttl, 0, 0, 0, *([0] * 8))
                + text.encode("latin-1").ljust(128, b"\0"))

r = NeuralynxRawIO(dirname=OUT)
r.parse_header()
golden = {"neo": "0.14.6", "channels": {}, "units": {}, "events": []}
sig = r.header["signal_channels"]
for si in range(r.signal_streams_count()):
    n = r.get_signal_size(0, 0, si)
    raw = r.get_analogsignal_chunk(0, 0, 0, n, si)
    chans = sig[sig["stream_id"] == r.header["signal_streams"][si]["id"]]
    scaled = raw.astype("float64") * chans["gain"] + chans["offset"]
    for j, c in enumerate(chans):
        golden["channels"][str(c["name"])] = {
            "rate_hz": float(c["sampling_rate"]), "gain_uv": float(c["gain"]), "n_samples": int(n),
            "t_start_s": float(r.get_signal_t_start(0, 0, si)),
            "first": [float(x) for x in scaled[:5, j]], "sum": float(scaled[:, j].sum()),
        }
for ui, u in enumerate(r.header["spike_channels"]):
    ts = r.get_spike_timestamps(0, 0, ui, None, None)
    t = r.rescale_spike_timestamp(ts, "float64")
    golden["units"][str(u["name"])] = {"count": int(len(t)), "first_s": float(t[0]) if len(t) else None}
for ei, e in enumerate(r.header["event_channels"]):
    ts, _, labels = r.get_event_timestamps(0, 0, ei, None, None)
    t = r.rescale_event_timestamp(ts, "float64")
    golden["events"] += [{"channel": str(e["name"]), "time_s": float(a), "label": str(b)} for a, b in zip(t, labels)]
with open(os.path.join(HERE, "neuralynx_golden.json"), "w") as f:
    json.dump(golden, f, indent=1, sort_keys=True)
    f.write("\n")
print(json.dumps({k: v["gain_uv"] for k, v in golden["channels"].items()}), golden["units"], golden["events"][:3])
