#!/usr/bin/env python3
"""SpikeInterface 0.105.3's quality and template metrics for a sorting burstscope made.

Run with ../shared/tools/sort-peer-env:
  target/release/burstscope sort tests/fixtures/tetrode_raw.nwb --out /tmp/si_golden_sort
  PY=$(../shared/tools/sort-peer-env)/bin/python
  $PY tests/golden/sorting/make_si_sorting_golden.py tests/fixtures/tetrode_raw.nwb /tmp/si_golden_sort/sorted.nwb \
      > tests/golden/sorting/si_metrics_tetrode_raw.json

The recording is band-passed as burstscope's detection does (Butterworth order 5, 300-6000 Hz, forward and
backward); waveforms 1 ms before and 2 ms after; all spikes of every unit (max_spikes_per_unit large, so the
PCA-based metrics are on all spikes, as the issue asks); PCA by_channel_local, 5 components, whitened.
"""
import json, sys
import numpy as np
import spikeinterface.core as sc
import spikeinterface.extractors as se
import spikeinterface.preprocessing as spre
from spikeinterface.metrics import compute_quality_metrics  # noqa: F401  (0.105 module path)

raw, sorted_nwb = sys.argv[1], sys.argv[2]
rec = se.read_nwb_recording(raw, electrical_series_path="acquisition/ElectricalSeries")
from probeinterface import ProbeGroup, generate_tetrode
pg = ProbeGroup()
for t in range(rec.get_num_channels() // 4):
    p = generate_tetrode()
    p.move([t * 300.0, 0.0])  # tetrodes far apart: each unit's neighbours are its own tetrode's units
    p.set_device_channel_indices(np.arange(4 * t, 4 * t + 4))
    pg.add_probe(p)
rec.set_probegroup(pg, group_mode="by_probe", in_place=True)
rec = spre.bandpass_filter(rec, freq_min=300, freq_max=6000, filter_order=5, dtype="float32")
sorting = se.read_nwb_sorting(sorted_nwb, sampling_frequency=rec.get_sampling_frequency())
an = sc.create_sorting_analyzer(sorting, rec, sparse=False, format="memory")
an.compute("random_spikes", method="all")
an.compute("waveforms", ms_before=1.0, ms_after=2.0)
an.compute("templates", operators=["average", "std"])
an.compute("noise_levels")
an.compute("spike_amplitudes")
an.compute("principal_components", n_components=5, mode="by_channel_local", whiten=True)
qm = an.compute("quality_metrics", metric_names=[
    "num_spikes", "firing_rate", "presence_ratio", "snr", "isi_violation", "rp_violation", "amplitude_cutoff",
    "amplitude_median", "mahalanobis", "d_prime", "nearest_neighbor", "silhouette"]).get_data()
tm = an.compute("template_metrics").get_data()  # 0.105 names: peak_to_trough_duration, waveform_ratios, ...
out = {"spikeinterface": __import__("spikeinterface").__version__, "units": {}}
for u in sorting.get_unit_ids():
    row = {k: (None if not np.isfinite(v) else float(v)) for k, v in qm.loc[u].items()}
    row.update({k: (None if not np.isfinite(v) else float(v)) for k, v in tm.loc[u].items()})
    out["units"][str(u)] = row
json.dump(out, sys.stdout, indent=1, sort_keys=True)
