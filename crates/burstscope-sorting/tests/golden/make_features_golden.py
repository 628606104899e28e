"""Golden values for burstscope-sorting's per-channel PCA features, from
numpy.linalg.eigh (LAPACK) on the same synthetic snippets the Rust test
builds. Run with the peer environment:

    $(../../../../../shared/tools/peer-env)/bin/python make_features_golden.py

Writes features_golden.json (numpy version recorded).
"""
import json
import math

import numpy as np

N_SPIKES, N_SAMPLES, N_CHANNELS, N_COMP = 150, 24, 2, 3


def value(s, t, c):
    amp = 50.0 + 30.0 * math.sin(0.37 * s)
    width = 1.0 + 0.3 * math.cos(0.11 * s)
    gain = 1.0 if c == 0 else 0.6
    v = -amp * gain * math.exp(-(((t - 8.0) / (2.0 * width)) ** 2)) + 0.4 * amp * math.exp(-(((t - 14.0) / 4.0) ** 2))
    v += 3.0 * math.sin(12.9898 * s + 78.233 * t + 37.719 * c)
    return v


w = np.array(
    [[[value(s, t, c) for c in range(N_CHANNELS)] for t in range(N_SAMPLES)] for s in range(N_SPIKES)],
    dtype=np.float32,
).astype(np.float64)

out = {"numpy": np.__version__, "n_spikes": N_SPIKES, "n_samples": N_SAMPLES, "n_channels": N_CHANNELS, "channels": []}
for c in range(N_CHANNELS):
    x = w[:, :, c]
    mean = x.mean(axis=0)
    cov = np.cov(x, rowvar=False, ddof=1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    for k in range(vecs.shape[1]):
        v = vecs[:, k]
        if v[np.argmax(np.abs(v))] < 0:
            vecs[:, k] = -v
    comps = vecs[:, :N_COMP]
    scores = (x - mean) @ comps
    total = vals.clip(min=0).sum()
    out["channels"].append(
        {
            "values": vals[:N_COMP].tolist(),
            "explained": (vals[:N_COMP].clip(min=0) / total).tolist(),
            "components": comps.T.tolist(),
            "scores_first_10": scores[:10].tolist(),
            "peak_first_10": x[:10].min(axis=1).tolist(),
            "energy_first_10": np.sqrt((x[:10] ** 2).mean(axis=1)).tolist(),
        }
    )
with open("features_golden.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote features_golden.json")
