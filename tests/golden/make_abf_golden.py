"""Golden values for the ABF reader, from pyABF 2.3.8 (numpy 2.4).

Reads every file in ../shared/real/abf/ with pyabf and writes
tests/golden/abf_golden.json: per file the format version, operation mode,
channel and sweep counts, sample rate, per-sweep lengths and start times,
channel names and units, tags, the epoch table of sweep 0 per DAC, and per
checked sweep and channel a few samples plus the float64 sum of the float32
values and of the command waveform (sweepC). The Rust test (tests/integration/formats.rs) compares its reader
against this file.

    python3 -m venv /root/.cache/burstscope-abf-env
    /root/.cache/burstscope-abf-env/bin/pip install pyabf==2.3.8
    /root/.cache/burstscope-abf-env/bin/python tests/golden/make_abf_golden.py
"""
import glob
import json
import math
import os
import warnings

import numpy as np
import pyabf

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "..", "..", "shared", "real", "abf")


def f(x):
    x = float(x)
    return None if (math.isnan(x) or math.isinf(x)) else x


def main():
    out = {"pyabf": pyabf.__version__, "files": {}}
    for path in sorted(glob.glob(os.path.join(REAL, "*.abf"))):
        name = os.path.basename(path)
        a = pyabf.ABF(path)
        d = {
            "version": a.abfVersionString,
            "operation_mode": int(a.nOperationMode),
            "channels": a.channelCount,
            "sweeps": a.sweepCount,
            "rate_hz_int": int(a.dataRate),
            "adc_names": list(a.adcNames),
            "adc_units": list(a.adcUnits),
            "tag_comments": [str(c) for c in a.tagComments],
            "tag_times_s": [f(t) for t in a.tagTimesSec],
            "tag_sweeps": [f(t) for t in a.tagSweeps],
        }
        # Sweep start times: the first sample's absolute time (pyabf's
        # sweepTimesSec is sweep index x interval, also for triggered sweeps).
        starts = []
        for s in a.sweepList:
            a.setSweep(s, 0, absoluteTime=True)
            starts.append(f(a.sweepX[0]))
        d["sweep_times_s"] = starts
        if a.abfVersion["major"] == 2:
            d["holding"] = [f(h) for h in a.holdingCommand]
            d["dac_names"] = list(a.dacNames)
            d["dac_units"] = list(a.dacUnits)
        lengths, checks = [], []
        picked = sorted(set(list(range(min(3, a.sweepCount))) + [a.sweepCount - 1]))
        for s in a.sweepList:
            a.setSweep(s, 0)
            lengths.append(len(a.sweepY))
        for s in picked:
            for c in a.channelList:
                a.setSweep(s, c)
                y = np.asarray(a.sweepY, dtype=np.float32)
                n = len(y)
                idx = sorted(set([0, 1, 2, n // 3, n // 2, n - 1]))
                checks.append({
                    "sweep": s,
                    "channel": c,
                    "n": n,
                    "sum": float(np.sum(y.astype(np.float64))),
                    "index": idx,
                    "values": [float(y[i]) for i in idx],
                    "min": float(y.min()),
                    "max": float(y.max()),
                })
                # the command waveform pyabf builds from the epoch table
                try:
                    cmd = np.asarray(a.sweepC, dtype=np.float64)
                    if not np.all(np.isfinite(cmd)):
                        raise ValueError("non-finite command")
                    checks[-1]["command_sum"] = float(np.sum(cmd))
                    checks[-1]["command_values"] = [float(cmd[i]) for i in idx]
                except Exception as ex:  # pyabf cannot build it for some files
                    checks[-1]["command_error"] = type(ex).__name__
        d["sweep_lengths"] = lengths
        d["checks"] = checks
        # The epoch table of sweep 0, per DAC channel pyabf reports.
        epochs = []
        for c in range(min(a.channelCount, 4)):
            try:
                a.setSweep(0, c)
                e = a.sweepEpochs
                epochs.append({
                    "channel": c,
                    "p1s": [int(x) for x in e.p1s],
                    "p2s": [int(x) for x in e.p2s],
                    "levels": [f(x) for x in e.levels],
                    "types": list(e.types),
                })
            except Exception as ex:  # pyabf cannot build it for some files
                epochs.append({"channel": c, "error": type(ex).__name__})
        d["epochs_sweep0"] = epochs
        out["files"][name] = d
    with open(os.path.join(HERE, "abf_golden.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
