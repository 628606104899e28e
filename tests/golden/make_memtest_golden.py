"""Golden values for the membrane test, from pyABF 2.3.8's pyabf.tools.memtest.

For each voltage-clamp membrane-test file in ../shared/real/abf/ the
per-sweep holding current (Ih, pA), "membrane" resistance (Rm = dV/dI at
steady state, which is the input resistance Rs + Rm, MOhm), access resistance
(Ra = dV / peak transient, MOhm) and capacitance (CmStep = tau / Ra, pF) of
channel 0. The Rust test (tests/integration/epsc_abf.rs) compares
`burstscope epsc FILE.abf` with these (docs/epsc.md explains which values are
the same quantity and which differ by definition).

    python3 -m venv /root/.cache/burstscope-abf-env
    /root/.cache/burstscope-abf-env/bin/pip install pyabf==2.3.8
    /root/.cache/burstscope-abf-env/bin/python tests/golden/make_memtest_golden.py
"""
import json
import math
import os
import warnings

import numpy as np
import pyabf
import pyabf.tools.memtest

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "..", "..", "shared", "real", "abf")
FILES = [
    "model_vc_step.abf",
    "171116sh_0011.abf",
    "18808025.abf",
    "2018_11_16_sh_0006.abf",
    "171116sh_0020.abf",
    "14o16001_vc_pair_step.abf",
    "05210017_vc_abf1.abf",
]


def f(x):
    x = float(x)
    return None if (math.isnan(x) or math.isinf(x)) else x


def main():
    out = {"pyabf": pyabf.__version__, "files": {}}
    for name in FILES:
        abf = pyabf.ABF(os.path.join(REAL, name))
        m = pyabf.tools.memtest.Memtest(abf)
        out["files"][name] = {
            "holding_pa": [f(v) for v in m.Ih.values],
            "rin_mohm": [f(v) for v in m.Rm.values],
            "ra_mohm": [f(v) for v in m.Ra.values],
            "cm_pf": [f(v) for v in m.CmStep.values],
        }
    with open(os.path.join(HERE, "memtest_golden.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
