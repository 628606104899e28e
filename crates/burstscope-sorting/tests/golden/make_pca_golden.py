"""Golden PCA-based cluster metrics from SpikeInterface 0.105's functions
(`spikeinterface.metrics.quality.pca_metrics`: mahalanobis_metrics,
d_prime_metric, simplified_silhouette_score, nearest_neighbors_metrics) on seeded feature
clusters: three overlapping units in 8 dimensions and a well-separated one.
Run with `../shared/tools/sort-peer-env`:

    $(../../../../../shared/tools/sort-peer-env)/bin/python make_pca_golden.py
"""
import json

import numpy as np
import spikeinterface
from spikeinterface.metrics.quality import pca_metrics as pm

rng = np.random.default_rng(3)
dim = 8
centres = [np.zeros(dim), np.r_[3.0, np.zeros(dim - 1)], np.r_[1.5, 2.5, np.zeros(dim - 2)], np.full(dim, 12.0)]
sizes = [220, 160, 140, 90]
scales = [1.0, 1.3, 0.8, 1.0]
pcs = np.concatenate([c + s * rng.standard_normal((n, dim)) for c, n, s in zip(centres, sizes, scales)])
labels = np.concatenate([np.full(n, k) for k, n in enumerate(sizes)])
# interleave the units' spikes as a recording would
order = rng.permutation(len(labels))
pcs, labels = np.round(pcs[order], 6), labels[order]
out = {"spikeinterface": spikeinterface.__version__, "dim": dim, "pcs": pcs.ravel().tolist(), "labels": labels.tolist(), "units": []}
for u in range(len(sizes)):
    iso, lr = pm.mahalanobis_metrics(pcs, labels, u)
    sil = pm.simplified_silhouette_score(pcs, labels, u)
    dp = pm.d_prime_metric(pcs, labels, u)
    hit, miss = pm.nearest_neighbors_metrics(pcs, labels, u, max_spikes=10000, n_neighbors=5)
    hit_s, miss_s = pm.nearest_neighbors_metrics(pcs, labels, u, max_spikes=300, n_neighbors=5)
    out["units"].append(
        {
            "unit": u,
            "isolation_distance": float(iso),
            "l_ratio": float(lr),
            "silhouette": float(sil),
            "d_prime": float(dp),
            "nn_hit_rate": float(hit),
            "nn_miss_rate": float(miss),
            "nn_hit_rate_300": float(hit_s),
            "nn_miss_rate_300": float(miss_s),
        }
    )
    print(out["units"][-1])
with open("pca_golden.json", "w") as f:
    json.dump(out, f)
