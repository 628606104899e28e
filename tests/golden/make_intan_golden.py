"""Intan RHD2000 test recordings and neo's reading of them.

Writes two small RHD files into tests/fixtures/intan/ from Intan's
description of the traditional (header-attached) .rhd format (RHD2000
application note "Data file formats"): a version 1.3 file (60-sample data
blocks: int32 timestamps, amplifier uint16 channels, auxiliary inputs at a
quarter of the rate, a supply voltage, board ADC and
digital input words; no temperature sensor, which neo 0.14.6 cannot
read) and a version 3.0 file (128-sample blocks, a reference
channel string, a disabled channel left out), both with a 4-channel tetrode.
Then reads them with neo's IntanRawIO (../shared/tools/peer-env, neo 0.14.6)
and writes tests/golden/intan_golden.json: per file the rate, amplifier
channel names, gain and offset, sample count, first samples and sums in µV,
and the first timestamp. crates/burstscope-formats/tests/intan_neo.rs compares.

    PY=$(../shared/tools/peer-env)/bin/python; $PY tests/golden/make_intan_golden.py
"""
import json
import os
import struct

import numpy as np
from neo.rawio import IntanRawIO

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "intan")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(5)


def qstring(s):
    if s is None:
        return struct.pack("<I", 0xFFFFFFFF)
    b = s.encode("utf-16-le")
    return struct.pack("<I", len(b)) + b


def channel(native, custom, order, signal_type, enabled=1, chip=0):
    return (qstring(native) + qstring(custom)
            + struct.pack("<hhhhhhhhhh", order, order, signal_type, enabled, chip, 0, 0, 0, 0, 0)
            + struct.pack("<ff", 1.0e5 + order, -45.0))


def write(name, major, minor, n_blocks, first_ts):
    block = 128 if major >= 2 else 60
    rate = 20000.0
    h = struct.pack("<Ihh", 0xC6912702, major, minor)
    h += struct.pack("<fhffffffhff", rate, 1, 1.0, 0.1, 7500.0, 1.0, 0.1, 7500.0, 0, 1000.0, 1000.0)
    h += qstring("note one") + qstring("") + qstring(None)
    h += struct.pack("<h", 0)  # temperature sensors (v1.1+; neo 0.14.6 fails on files with them)
    h += struct.pack("<h", 0)  # eval board mode (v1.3+)
    if major >= 2:
        h += qstring("hardware")
    # groups: port A (5 amplifier channels, the last disabled in v3; 2 aux; 1 supply), board ADC, digital in
    groups = []
    amps = [channel(f"A-{k:03d}", f"TT1-{k}", k, 0, enabled=0 if (major >= 2 and k == 4) else 1, chip=k) for k in range(5)]
    aux = [channel(f"A-AUX{k + 1}", f"AUX{k + 1}", 5 + k, 1) for k in range(2)]
    vdd = [channel("A-VDD1", "VDD1", 7, 2)]
    groups.append((qstring("Port A") + qstring("A") + struct.pack("<hhh", 1, 8, 5), amps + aux + vdd))
    groups.append((qstring("Board ADC Inputs") + qstring("ADC") + struct.pack("<hhh", 1, 1, 0), [channel("ADC-00", "ADC-00", 0, 3)]))
    groups.append((qstring("Board Digital Inputs") + qstring("DIN") + struct.pack("<hhh", 1, 1, 0), [channel("DIN-00", "DIN-00", 0, 4)]))
    h += struct.pack("<h", len(groups))
    for g, chans in groups:
        h += g + b"".join(chans)
    n_amp = 4 if major >= 2 else 5
    body = bytearray()
    for b in range(n_blocks):
        ts = np.arange(first_ts + b * block, first_ts + (b + 1) * block, dtype="<i4")
        body += ts.tobytes()
        body += (32768 + rng.integers(-3000, 3000, size=(n_amp, block))).astype("<u2").tobytes()
        body += rng.integers(0, 65535, size=(2, block // 4)).astype("<u2").tobytes()
        body += rng.integers(40000, 50000, size=(1, 1)).astype("<u2").tobytes()
        body += rng.integers(0, 65535, size=(1, block)).astype("<u2").tobytes()
        body += (np.arange(block) // 16 % 2).astype("<u2").tobytes()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(h + bytes(body))


write("tetrode_v13.rhd", 1, 3, 12, 1000)
write("tetrode_v30.rhd", 3, 0, 6, 0)

golden = {"neo": "0.14.6", "files": {}}
for name in ["tetrode_v13.rhd", "tetrode_v30.rhd"]:
    r = IntanRawIO(filename=os.path.join(OUT, name))
    r.parse_header()
    amp_stream = [i for i, s in enumerate(r.header["signal_streams"]) if "amplifier" in str(s["name"])][0]
    sid = r.header["signal_streams"][amp_stream]["id"]
    ch = r.header["signal_channels"]
    ch = ch[ch["stream_id"] == sid]
    n = r.get_signal_size(0, 0, amp_stream)
    raw = r.get_analogsignal_chunk(0, 0, 0, n, amp_stream)
    scaled = raw.astype("float64") * ch["gain"] + ch["offset"]
    golden["files"][name] = {
        "rate_hz": float(ch["sampling_rate"][0]),
        "names": [str(x) for x in ch["name"]],
        "gain": float(ch["gain"][0]), "offset": float(ch["offset"][0]),
        "n_samples": int(n),
        "t_start_s": float(r.get_signal_t_start(0, 0, amp_stream)),
        "first": [[float(v) for v in row] for row in scaled[:3]],
        "sums": [float(x) for x in scaled.sum(axis=0)],
    }
with open(os.path.join(HERE, "intan_golden.json"), "w") as f:
    json.dump(golden, f, indent=1, sort_keys=True)
    f.write("\n")
print(json.dumps({k: (v["names"], v["n_samples"], v["t_start_s"]) for k, v in golden["files"].items()}))
