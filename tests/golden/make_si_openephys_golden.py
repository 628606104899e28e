"""SpikeInterface peaks on the real Open Ephys legacy recording (Record Node 101).

SpikeInterface 0.105.3 reads the record node with its own extractor
(`read_openephys`, legacy format: 16 channels, 40 kHz), band-passes it
300-6000 Hz and runs `detect_peaks(method="by_channel", peak_sign="neg",
detect_threshold=5, exclude_sweep_ms=0.1)` — the settings of
../shared/tools/spikeinterface_detect.py, with the noise levels from seeded
random chunks. Writes tests/golden/si_peaks_openephys.csv (sample_index,
channel_index, amplitude); tests/integration/detect.rs compares.

    $(../shared/tools/peer-env)/bin/python tests/golden/make_si_openephys_golden.py
"""
import os

import numpy as np
import spikeinterface.extractors as se
import spikeinterface.preprocessing as spre
from spikeinterface.core import get_noise_levels
from spikeinterface.sortingcomponents.peak_detection import detect_peaks

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.path.join(HERE, "..", "..", "..", "shared", "real", "extracellular", "openephys_legacy_v0.6.7",
                    "Record Node 101")

rec = se.read_openephys(NODE)
rec = spre.bandpass_filter(rec, freq_min=300.0, freq_max=6000.0)
noise = get_noise_levels(rec, return_in_uV=False, random_slices_kwargs=dict(seed=0))
peaks = detect_peaks(rec, method="by_channel",
                     method_kwargs=dict(peak_sign="neg", detect_threshold=5.0, exclude_sweep_ms=0.1,
                                        noise_levels=noise),
                     job_kwargs=dict(n_jobs=1, chunk_duration="1s", progress_bar=False))
print(rec.get_channel_ids()[:4], rec.get_sampling_frequency(), rec.get_num_samples())
np.savetxt(os.path.join(HERE, "si_peaks_openephys.csv"),
           np.c_[peaks["sample_index"], peaks["channel_index"], peaks["amplitude"]],
           fmt=["%d", "%d", "%.6g"], delimiter=",", header="sample_index,channel_index,amplitude", comments="")
print(len(peaks), "peaks")
