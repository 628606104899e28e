"""Golden values for burstscope-stats' linear mixed models, computed by
statsmodels' MixedLM (REML).

statsmodels is not in the peer environment; make one with
    python3 -m venv /tmp/sm && /tmp/sm/bin/pip install statsmodels==0.14.5 pandas scipy==1.17.1
and run
    /tmp/sm/bin/python make_lmm_golden.py > lmm_golden.json
Each case is a seeded dataset (the values themselves are written out, so the
Rust test needs no random generator) and what MixedLM.fit(reml=True) returns:
 - "change": a unit's post - pre change ~ 1, random intercept per subject,
   unbalanced (3-15 units per animal);
 - "nested": change ~ 1, random intercept per subject and a variance
   component per session within subject (1-3 sessions per animal);
 - "groups": value ~ group (0/1, subjects nested in the groups), random
   intercept per subject;
 - "small_subject_effect": change ~ 1 with a subject variance near zero.
"""
import json
import warnings

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.formula.api as smf

rng = np.random.default_rng(20261203)
cases = []


def record(name, df, formula, vc=False):
    kw = {"groups": df["subject"]}
    if vc:
        kw["re_formula"] = "1"
        kw["vc_formula"] = {"session": "0 + C(session)"}
    # statsmodels' default optimiser can stop short of the REML maximum (on
    # "nested": llf -125.7853 against -125.7740 with Powell, estimate off by
    # 2e-3 relative); the golden fit is the best llf over its methods.
    model = smf.mixedlm(formula, df, **kw)
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in [None, "nm", "powell", "lbfgs"]:
            f = model.fit(reml=True, **({} if method is None else {"method": [method]}))
            ok = np.isfinite(f.llf) and np.all(np.isfinite(f.bse_fe)) and f.scale > 1e-8
            if f.converged and ok:
                fits.append((f.llf, method or "default", f))
    llf, method, fit = max(fits, key=lambda t: t[0])
    fe = [float(v) for v in fit.fe_params]
    cases.append({
        "name": name,
        "y": [float(v) for v in df["y"]],
        "x": [float(v) for v in df["g"]] if "g" in df else None,
        "subject": [int(v) for v in df["subject"]],
        "session": [int(v) for v in df["session"]] if vc else None,
        "fe": fe,
        "se": [float(v) for v in fit.bse_fe],
        "z": [float(fit.tvalues.iloc[i]) for i in range(len(fe))],
        "p": [float(fit.pvalues.iloc[i]) for i in range(len(fe))],
        "scale": float(fit.scale),
        "subject_var": float(fit.cov_re.iloc[0, 0]),
        "session_var": float(fit.vcomp[0]) if vc else None,
        "llf": float(fit.llf),
        "method": method,
        "llf_default_method": float([t[0] for t in fits if t[1] == "default"][0]) if any(t[1] == "default" for t in fits) else None,
    })


def units(n_subjects, lo, hi, sd_subject, sd_unit, mean):
    rows = []
    for s in range(n_subjects):
        b = rng.normal(0, sd_subject)
        for _ in range(int(rng.integers(lo, hi + 1))):
            rows.append({"subject": s, "session": 0, "y": mean + b + rng.normal(0, sd_unit)})
    return pd.DataFrame(rows)


record("change", units(6, 3, 15, 0.8, 1.0, -1.2), "y ~ 1")

rows = []
for s in range(5):
    b = rng.normal(0, 0.6)
    for sess in range(int(rng.integers(1, 4))):
        c = rng.normal(0, 0.4)
        for _ in range(int(rng.integers(4, 12))):
            rows.append({"subject": s, "session": 10 * s + sess, "y": -0.7 + b + c + rng.normal(0, 0.9)})
record("nested", pd.DataFrame(rows), "y ~ 1", vc=True)

rows = []
for s in range(10):
    g = s % 2
    b = rng.normal(0, 0.5)
    for _ in range(int(rng.integers(3, 10))):
        rows.append({"subject": s, "session": 0, "g": float(g), "y": 2.0 + 0.9 * g + b + rng.normal(0, 0.7)})
record("groups", pd.DataFrame(rows), "y ~ g")

record("small_subject_effect", units(8, 4, 10, 0.05, 1.0, 0.3), "y ~ 1")

print(json.dumps({"statsmodels": statsmodels.__version__, "cases": cases}, indent=1))
