//! Every statistic and p-value equals scipy.stats (golden values in
//! `tests/golden/stats_golden.json`, made by `make_stats_golden.py`) within
//! 1e-9 relative or 1e-12 absolute.

use burstscope_stats::{TestResult, holm, mannwhitneyu, ttest_rel, ttest_welch, wilcoxon};
use serde_json::Value;

fn close(ours: f64, theirs: f64) -> bool {
    (ours.is_nan() && theirs.is_nan()) || (ours - theirs).abs() <= 1e-12 || (ours - theirs).abs() <= 1e-9 * theirs.abs()
}

fn vec(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn check(case: usize, r: &TestResult, want: &Value) {
    let s = want["statistic"].as_f64().expect("statistic");
    let p = want["pvalue"].as_f64().expect("pvalue");
    assert!(close(r.statistic, s), "case {case} {}: statistic {} vs scipy {s}", r.test, r.statistic);
    assert!(close(r.p_value, p), "case {case} {} ({}): p {} vs scipy {p}", r.test, r.method, r.p_value);
    if let Some(df) = want.get("df").and_then(Value::as_f64) {
        assert!(close(r.df.expect("df"), df), "case {case} {}: df", r.test);
    }
}

#[test]
fn tests_equal_scipy() {
    let g: Value = serde_json::from_str(include_str!("golden/stats_golden.json")).expect("golden json");
    let cases = g["cases"].as_array().expect("cases");
    let mut methods = std::collections::BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        let (a, b) = (vec(&c["a"]), vec(&c["b"]));
        let results = if c["kind"] == "paired" {
            vec![(ttest_rel(&a, &b), "ttest_rel"), (wilcoxon(&a, &b), "wilcoxon")]
        } else {
            vec![(ttest_welch(&a, &b), "ttest_welch"), (mannwhitneyu(&a, &b), "mannwhitneyu")]
        };
        for (r, key) in results {
            check(i, &r, &c[key]);
            *methods.entry(format!("{key}/{}", r.method)).or_insert(0) += 1;
        }
    }
    eprintln!("{methods:?}");
    // every p-value regime was exercised
    for m in ["wilcoxon/exact", "wilcoxon/permutation", "wilcoxon/normal", "mannwhitneyu/exact", "mannwhitneyu/normal"]
    {
        assert!(methods.contains_key(m), "no golden case for {m}");
    }
}

#[test]
fn holm_equals_reference() {
    let g: Value = serde_json::from_str(include_str!("golden/stats_golden.json")).expect("golden json");
    let p = vec(&g["holm"]["p"]);
    let want = vec(&g["holm"]["adjusted"]);
    for (o, w) in holm(&p).iter().zip(&want) {
        assert!(close(*o, *w), "{o} vs {w}");
    }
}
