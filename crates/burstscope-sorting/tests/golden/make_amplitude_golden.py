"""Golden amplitude_cutoff and amplitude_median values from SpikeInterface
0.105 (`spikeinterface.metrics.quality.misc_metrics.amplitude_cutoff`, with
the sign flip of `compute_amplitude_cutoffs`) on seeded amplitude sets.
Amplitudes are float64 (SpikeInterface's are float32, whose histogram edges
are float32 too). Run with `../shared/tools/sort-peer-env`:

    $(../../../../../shared/tools/sort-peer-env)/bin/python make_amplitude_golden.py
"""
import json

import numpy as np
import spikeinterface
from spikeinterface.metrics.quality.misc_metrics import amplitude_cutoff

rng = np.random.default_rng(11)
sets = {
    "full_normal": rng.normal(80.0, 10.0, 2000),
    "cut_at_70": (lambda a: a[a > 70.0])(rng.normal(80.0, 10.0, 3000)),
    "cut_at_mean": (lambda a: a[a > 80.0])(rng.normal(80.0, 12.0, 4000)),
    "negative_cut": -(lambda a: a[a > 60.0])(rng.normal(75.0, 9.0, 3000)),
    "skewed": rng.gamma(3.0, 20.0, 1500),
    "too_few": rng.normal(80.0, 10.0, 499),
    "constant": np.full(600, 42.0),
}
out = {"spikeinterface": spikeinterface.__version__, "sets": []}
for name, a in sets.items():
    a = np.round(np.asarray(a, dtype=np.float64), 3)
    flipped = -a if np.median(a) < 0 else a
    cutoff = amplitude_cutoff(flipped, num_histogram_bins=100, histogram_smoothing_value=3, amplitudes_bins_min_ratio=5)
    out["sets"].append(
        {
            "name": name,
            "amplitudes": a.tolist(),
            "amplitude_cutoff": None if np.isnan(cutoff) else float(cutoff),
            "amplitude_median": float(np.median(a)),
        }
    )
    print(name, cutoff)
with open("amplitude_golden.json", "w") as f:
    json.dump(out, f)
