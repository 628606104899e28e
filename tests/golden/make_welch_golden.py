"""Golden values for burstscope-dsp's welch(), from scipy 1.17.1 (../shared/tools/peer-env).

Run from the repository root:
    PY=$(../shared/tools/peer-env)/bin/python; $PY tests/golden/make_welch_golden.py
Writes tests/golden/welch_golden.json: scipy.signal.welch(x, fs, nperseg=n) with its
defaults (hann, 50 % overlap, constant detrend, density, one-sided, mean) for a formula
signal x[i] = sin(2π·7·t) + 0.5·sin(2π·31·t + 0.3) + 0.2·cos(0.37·i)² + 0.01·i·1e-3,
t = i/fs, for even and odd segment lengths.
"""
import json
import numpy as np
from scipy import signal

out = []
for fs, n_samples, nperseg in [(1000.0, 5000, 1000), (250.0, 3001, 257), (1000.0, 2048, 2048)]:
    i = np.arange(n_samples)
    t = i / fs
    x = np.sin(2 * np.pi * 7 * t) + 0.5 * np.sin(2 * np.pi * 31 * t + 0.3) + 0.2 * np.cos(0.37 * i) ** 2 + 0.01 * i * 1e-3
    f, p = signal.welch(x, fs, nperseg=nperseg)
    out.append({"fs": fs, "n_samples": n_samples, "nperseg": nperseg, "freqs": f.tolist(), "psd": p.tolist()})
json.dump({"cases": out}, open("tests/golden/welch_golden.json", "w"))
