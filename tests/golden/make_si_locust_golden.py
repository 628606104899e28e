"""SpikeInterface peaks on the real locust tetrode recording (trial 1).

SpikeInterface 0.105.3 reads the raw int16 file with its own extractor
(`read_binary`, 4 channels, 15 kHz as the recording's info.json says), band-
passes it 300-6000 Hz and runs `detect_peaks(method="by_channel",
peak_sign="neg", detect_threshold=5, exclude_sweep_ms=0.1)` — the settings of
../shared/tools/spikeinterface_detect.py. Writes
tests/golden/si_peaks_locust.csv (sample_index, channel_index, amplitude);
tests/integration/detect.rs compares `burstscope detect` with it.

    $(../shared/tools/peer-env)/bin/python tests/golden/make_si_locust_golden.py
"""
import os

import numpy as np
import spikeinterface.extractors as se
import spikeinterface.preprocessing as spre
from spikeinterface.core import get_noise_levels
from spikeinterface.sortingcomponents.peak_detection import detect_peaks

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = os.path.join(HERE, "..", "..", "..", "shared", "real", "extracellular", "locust_tetrode", "locust_trial_01.raw")

rec = se.read_binary(RAW, sampling_frequency=15000.0, num_channels=4, dtype="int16")
rec = spre.bandpass_filter(rec, freq_min=300.0, freq_max=6000.0)
# the noise levels from seeded random chunks, so the golden file is reproducible
noise = get_noise_levels(rec, return_in_uV=False, random_slices_kwargs=dict(seed=0))
peaks = detect_peaks(rec, method="by_channel",
                     method_kwargs=dict(peak_sign="neg", detect_threshold=5.0, exclude_sweep_ms=0.1,
                                        noise_levels=noise),
                     job_kwargs=dict(n_jobs=1, chunk_duration="1s", progress_bar=False))
np.savetxt(os.path.join(HERE, "si_peaks_locust.csv"),
           np.c_[peaks["sample_index"], peaks["channel_index"], peaks["amplitude"]],
           fmt=["%d", "%d", "%.6g"], delimiter=",", header="sample_index,channel_index,amplitude", comments="")
print(len(peaks), "peaks")
