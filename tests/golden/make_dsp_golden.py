"""Golden values for burstscope-dsp, from scipy 1.17.1 (../shared/tools/peer-env).

Run from the repository root:
    PY=$(../shared/tools/peer-env)/bin/python; $PY tests/golden/make_dsp_golden.py
Writes tests/golden/dsp_golden.json:
- "designs": scipy.signal.butter(..., output="sos") and sosfilt_zi for several filters;
- "synthetic": sosfiltfilt of a formula signal (see the file), every 7th sample;
- "filtfilt": sosfiltfilt(butter(5, [300, 6000], fs=30000, output="sos"), x) over the whole
  30 s of tests/fixtures/tetrode_raw.nwb (4 channels, microvolts), sampled every 211 samples
  from 3000 (0.1 s) to 897000, with the RMS of each channel over 0.1 s .. 29.9 s.
"""
import json
import h5py
import numpy as np
from scipy import signal

designs = []
for order, wn, btype, fs in [
    (5, [300.0, 6000.0], "bandpass", 30000.0),
    (5, [300.0, 6000.0], "bandpass", 20000.0),
    (5, [300.0, 6000.0], "bandpass", 40000.0),
    (3, [600.0, 6000.0], "bandpass", 30000.0),
    (2, [1.0, 4.0], "bandpass", 1000.0),
    (3, 300.0, "highpass", 30000.0),
    (5, 300.0, "highpass", 30000.0),
    (1, 300.0, "highpass", 30000.0),
    (4, 100.0, "lowpass", 10000.0),
    (5, 1000.0, "lowpass", 10000.0),
    (4, [55.0, 65.0], "bandstop", 1000.0),
]:
    sos = signal.butter(order, wn, btype=btype, fs=fs, output="sos")
    designs.append({
        "order": order, "wn": wn if isinstance(wn, list) else [wn], "btype": btype, "fs": fs,
        "sos": sos.tolist(), "zi": signal.sosfilt_zi(sos).tolist(),
    })

with h5py.File("tests/fixtures/tetrode_raw.nwb", "r") as f:
    d = f["acquisition/ElectricalSeries/data"]
    x = d[:].astype(np.float64) * d.attrs["conversion"] * 1e6  # microvolts
sos = signal.butter(5, [300.0, 6000.0], btype="bandpass", fs=30000.0, output="sos")
y = signal.sosfiltfilt(sos, x, axis=0)
idx = list(range(3000, 897001, 211))
core = y[3000:897000]
n = np.arange(6000)
xs = (100 * np.sin(2 * np.pi * 40 * n / 30000) + 30 * np.sin(2 * np.pi * 1234.5 * n / 30000)
      + 10 * np.sin(2 * np.pi * 9000 * n / 30000 + 0.3) + 5 * ((n % 17) - 8))
ys = signal.sosfiltfilt(sos, xs)
out = {
    "designs": designs,
    "synthetic": {
        "formula": "100 sin(2pi 40 n/30000) + 30 sin(2pi 1234.5 n/30000) + 10 sin(2pi 9000 n/30000 + 0.3) + 5 ((n mod 17) - 8), n = 0..5999",
        "every": 7,
        "y": [float(v) for v in ys[::7]],
    },
    "filtfilt": {
        "fs": 30000.0,
        "band": [300.0, 6000.0],
        "order": 5,
        "indices": idx,
        "values": [[float(v) for v in y[i, :]] for i in idx],
        "rms": [float(v) for v in np.sqrt((core ** 2).mean(axis=0))],
    },
}
with open("tests/golden/dsp_golden.json", "w") as fh:
    json.dump(out, fh)
print("ok", len(idx))
