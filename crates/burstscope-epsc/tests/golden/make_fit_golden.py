"""Golden decay fits from scipy.optimize.curve_fit (scipy 1.17.1, ../shared/tools/peer-env).

Run: $(../../../../../shared/tools/peer-env)/bin/python make_fit_golden.py > fit_golden.json
Data: t = 0, 0.1, ..., 549.9 ms; y = a1·exp(−t/τ1) + a2·exp(−t/τ2) + 3·sin(1.3·k) (a
deterministic stand-in for noise, k the sample index), for the cases below. curve_fit
(Levenberg–Marquardt, default tolerances) from p0 = [y0/2, 10, y0/2, 200] and
[y0, 50] for one exponential.
"""
import json
import numpy as np
from scipy.optimize import curve_fit

def e1(t, a, tau):
    return a * np.exp(-t / tau)

def e2(t, a1, t1, a2, t2):
    return a1 * np.exp(-t / t1) + a2 * np.exp(-t / t2)

out = []
for a1, t1, a2, t2 in [(180.0, 45.0, 70.0, 260.0), (40.0, 30.0, 20.0, 180.0), (300.0, 60.0, 120.0, 250.0)]:
    k = np.arange(5500)
    t = k * 0.1
    y = e2(t, a1, t1, a2, t2) + 3.0 * np.sin(1.3 * k)
    y0 = a1 + a2
    p2, _ = curve_fit(e2, t, y, p0=[y0 / 2, 10.0, y0 / 2, 200.0], maxfev=20000)
    p1, _ = curve_fit(e1, t, y, p0=[y0, 50.0], maxfev=20000)
    out.append({"true": [a1, t1, a2, t2], "exp2": p2.tolist(), "exp1": p1.tolist()})
print(json.dumps(out, indent=1))
