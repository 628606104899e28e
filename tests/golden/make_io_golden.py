"""Golden values for the NWB reader tests, read with pynwb (independent of burstscope).

Run: PY=$(../shared/tools/peer-env)/bin/python; $PY tests/golden/make_io_golden.py > tests/golden/io_golden.json
"""
import json
import pynwb

out = {}
with pynwb.NWBHDF5IO("tests/fixtures/tetrode_raw.nwb", "r") as io:
    nwb = io.read()
    es = nwb.acquisition["ElectricalSeries"]
    volts = es.get_data_in_units()  # data * conversion (+ offset)
    picks = [0, 1, 12345, 450000, 899999]
    out["tetrode"] = {
        "rate_hz": float(es.rate),
        "n_samples": int(es.data.shape[0]),
        "n_channels": int(es.data.shape[1]),
        "samples": {str(i): [float(v) for v in volts[i, :]] for i in picks},
        "groups": [str(g) for g in es.electrodes.table["group_name"][:]],
        "locations": [str(g) for g in es.electrodes.table["location"][:]],
        "epochs": [[float(r.start_time), float(r.stop_time), list(r.tags)] for r in nwb.epochs.to_dataframe().itertuples()],
        "pharmacology": nwb.pharmacology,
        "units_n_spikes": [int(len(nwb.units["spike_times"][i])) for i in range(len(nwb.units))],
        "units_kind": [str(k) for k in nwb.units["kind"][:]],
        "units_group": [nwb.units["electrode_group"][i].name for i in range(len(nwb.units))],
    }
with pynwb.NWBHDF5IO("tests/fixtures/slices/LHb_cell01.nwb", "r") as io:
    nwb = io.read()
    names = sorted(nwb.acquisition)
    r = nwb.acquisition[names[25]]
    out["slice"] = {
        "n_sweeps": len(names),
        "sweep25_name": names[25],
        "sweep25_number": int(r.sweep_number),
        "sweep25_start_s": float(r.starting_time),
        "sweep25_rate_hz": float(r.rate),
        "sweep25_desc": r.stimulus_description,
        "sweep25_samples": {str(i): float(r.data[i] * r.conversion) for i in [0, 600, 2100, 7999]},
        "location": r.electrode.location,
        "cell_id": r.electrode.cell_id,
    }
print(json.dumps(out, indent=1))
