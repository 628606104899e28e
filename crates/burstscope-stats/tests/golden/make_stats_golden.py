"""Golden values for burstscope-stats, computed by scipy.stats.

Run with the peer environment (scipy 1.17.1):
    $(../../../../../shared/tools/peer-env)/bin/python make_stats_golden.py > stats_golden.json
Every case is a pair of samples and what scipy returns for each test with its
defaults (two-sided). Samples cover exact and approximate regimes, ties and
zero differences, and tiny p-values.
"""
import json
import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261122)
cases = []


def add(kind, a, b):
    a = [float(v) for v in a]
    b = [float(v) for v in b]
    out = {"kind": kind, "a": a, "b": b}
    if kind == "paired":
        t = stats.ttest_rel(a, b)
        w = stats.wilcoxon(a, b)
        out["ttest_rel"] = {"statistic": float(t.statistic), "pvalue": float(t.pvalue), "df": float(t.df)}
        out["wilcoxon"] = {"statistic": float(w.statistic), "pvalue": float(w.pvalue)}
    else:
        t = stats.ttest_ind(a, b, equal_var=False)
        u = stats.mannwhitneyu(a, b)
        out["ttest_welch"] = {"statistic": float(t.statistic), "pvalue": float(t.pvalue), "df": float(t.df)}
        out["mannwhitneyu"] = {"statistic": float(u.statistic), "pvalue": float(u.pvalue)}
    cases.append(out)


for n in [3, 5, 8, 10, 12, 13, 14, 20, 30, 50, 51, 80]:
    # continuous, no ties: exact (n <= 50) or normal
    a = rng.normal(10, 3, n)
    add("paired", a, a - rng.normal(1.0, 2.0, n))
    # rounded: ties and zero differences (permutation for n <= 13, else normal)
    a = np.round(rng.normal(5, 2, n))
    add("paired", a, np.round(a - rng.normal(0.5, 1.5, n)))
# strong effect: tiny p
a = rng.normal(20, 1, 40)
add("paired", a, a - 5 - rng.normal(0, 0.5, 40))
# percentages with many zeros, as per-unit burst metrics have
add("paired", [0, 0, 12.5, 30, 0, 44, 8, 0, 21, 0, 5, 17], [0, 0, 2.0, 4.5, 0, 10, 0, 0, 3.5, 0, 0, 1.5])

for n1, n2 in [(3, 4), (5, 5), (8, 12), (6, 30), (9, 9), (12, 15), (25, 40), (7, 8)]:
    add("unpaired", rng.normal(60, 15, n1), rng.normal(25, 10, n2))
    add("unpaired", np.round(rng.normal(5, 2, n1)), np.round(rng.normal(4, 2, n2)))
add("unpaired", rng.normal(80, 2, 30), rng.normal(20, 2, 30))

pv = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.049]
m = len(pv)
order = np.argsort(pv)
holm = [0.0] * m
running = 0.0
for k, i in enumerate(order):
    running = max(running, min(1.0, (m - k) * pv[i]))
    holm[i] = running

print(json.dumps({"scipy": scipy.__version__, "cases": cases, "holm": {"p": pv, "adjusted": holm}}, indent=1))
