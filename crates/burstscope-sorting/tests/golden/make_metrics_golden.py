"""Golden spike-train quality metrics from SpikeInterface 0.105 for
burstscope-sorting's `train_metrics`. Builds a seeded sorting (bursting,
tonic, contaminated and sparse units, one shorter than a presence bin's worth
of activity), computes SpikeInterface's metrics on it and writes the trains
and the values to metrics_golden.json. Run with the sorting peer environment:

    $(../../../../../shared/tools/sort-peer-env)/bin/python make_metrics_golden.py
"""
import json

import numpy as np
import spikeinterface as si
import spikeinterface.metrics as sm

FS = 20_000.0
DURATION_S = 185.0  # not a whole number of 60 s bins
N = int(FS * DURATION_S)
rng = np.random.default_rng(7)


def poisson(rate, t0=0.0, t1=DURATION_S, refractory_s=0.0):
    t, out = t0, []
    while True:
        t += refractory_s + rng.exponential(1.0 / rate)
        if t >= t1:
            return np.array(out)
        out.append(t)


trains = {
    # tonic, clean
    "tonic": poisson(8.0, refractory_s=0.002),
    # bursting: 3-5 spikes 4-8 ms apart, bursts every ~1 s
    "burster": np.concatenate(
        [b + np.cumsum(np.r_[0, rng.uniform(0.004, 0.008, rng.integers(2, 5))]) for b in poisson(1.0, t1=DURATION_S - 0.1)]
    ),
    # contaminated: no refractory period at all
    "contaminated": poisson(20.0),
    # mostly clean, 10 spikes 0.5 ms after another: a fractional rp_contamination
    "mild": (lambda t: np.sort(np.r_[t, t[:: max(1, len(t) // 10)][:10] + 0.0005]))(poisson(20.0, refractory_s=0.002)),
    # active only in the first minute
    "early": poisson(5.0, t1=55.0),
    # two spikes
    "pair": np.array([10.0, 10.0004]),
}
samples = {k: np.unique(np.round(v * FS).astype(np.int64)) for k, v in trains.items()}
samples = {k: v[(v >= 0) & (v < N)] for k, v in samples.items()}
ids = list(samples)
sorting = si.NumpySorting.from_unit_dict({k: samples[k] for k in ids}, sampling_frequency=FS)
# The spike-train metrics read only the sorting and the recording's length.
recording = si.generate_recording(num_channels=1, sampling_frequency=FS, durations=[N / FS], seed=0)
analyzer = si.create_sorting_analyzer(sorting, recording, sparse=False)
names = ["num_spikes", "firing_rate", "presence_ratio", "isi_violation", "rp_violation"]
m = sm.compute_quality_metrics(analyzer, metric_names=names)
out = {
    "spikeinterface": si.__version__,
    "fs_hz": FS,
    "n_samples": N,
    "units": [],
}
for k in ids:
    row = m.loc[k]
    out["units"].append(
        {
            "id": k,
            "samples": samples[k].tolist(),
            **{c: (None if (isinstance(row[c], float) and np.isnan(row[c])) else float(row[c])) for c in m.columns},
        }
    )
with open("metrics_golden.json", "w") as f:
    json.dump(out, f)
print(m)
