//! Statistics with animals as the experimental unit (Aarts et al. 2014,
//! *Nat Neurosci* 17:491): units of one animal share its biology and its
//! electrode, so tests across units alone overstate n. Each comparison gives
//!
//! - a **linear mixed model** (REML, [`crate::lmm`]) on all units with a
//!   random intercept per animal (and per session within animal when an
//!   animal has several sessions), `test` = `lmm`; and
//! - the classic tests on **per-animal means** (one value per animal):
//!   paired t and Wilcoxon for pre vs post (and for a factor within
//!   animals), Welch t and Mann–Whitney U between groups of animals,
//!   `test` = `ttest_rel_animals` etc.;
//!
//! every row with its n units, n sessions and n animals.
//!
//! ```
//! use burstscope_stats::animals::pre_post;
//! // Three animals, two units each; every unit's rate halves.
//! let pre = [10.0, 12.0, 8.0, 9.0, 11.0, 13.0];
//! let post = [5.2, 6.1, 3.9, 4.4, 5.6, 6.3];
//! let rows = pre_post(&pre, &post, &[0, 0, 1, 1, 2, 2], &[0, 0, 1, 1, 2, 2]).unwrap();
//! assert_eq!(rows[0].test, "lmm");
//! assert!(rows[0].estimate < -4.0 && rows[0].n_animals == 3 && rows[0].n_units == 6);
//! ```

use crate::lmm::{MixedData, MixedError, mixed_lm_reml};
use crate::{finite_pairs, mannwhitneyu, ttest_rel, ttest_welch, wilcoxon};
use std::collections::BTreeMap;

/// One row of an animal-level comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AnimalTest {
    /// `lmm`, `ttest_rel_animals`, `wilcoxon_animals`, `ttest_welch_animals`, `mannwhitneyu_animals`.
    pub test: String,
    /// The effect: mean change (pre vs post) or group difference (second − first).
    pub estimate: f64,
    /// Its standard error (NaN for the rank tests).
    pub se: f64,
    /// z (mixed model), t, W or U.
    pub statistic: f64,
    /// Two-sided p.
    pub p_value: f64,
    /// Units (or cells) in the comparison.
    pub n_units: usize,
    /// Sessions.
    pub n_sessions: usize,
    /// Animals.
    pub n_animals: usize,
}

fn counts(subject: &[usize], session: &[usize]) -> (usize, usize) {
    let a: std::collections::BTreeSet<usize> = subject.iter().copied().collect();
    let s: std::collections::BTreeSet<(usize, usize)> = subject.iter().copied().zip(session.iter().copied()).collect();
    (s.len(), a.len())
}

/// Whether any animal has more than one session.
fn several_sessions(subject: &[usize], session: &[usize]) -> bool {
    let mut first: BTreeMap<usize, usize> = BTreeMap::new();
    subject.iter().zip(session).any(|(&a, &s)| *first.entry(a).or_insert(s) != s)
}

/// Per-animal means of `values`, in animal order.
fn animal_means(values: &[f64], subject: &[usize]) -> BTreeMap<usize, f64> {
    let mut acc: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
    for (&v, &a) in values.iter().zip(subject) {
        let e = acc.entry(a).or_insert((0.0, 0));
        e.0 += v;
        e.1 += 1;
    }
    #[allow(clippy::cast_precision_loss)]
    let means = acc.into_iter().map(|(a, (s, n))| (a, s / n as f64)).collect();
    means
}

/// Pre vs post per unit (`pre[i]`, `post[i]` of unit i, its animal and
/// session ids): the mixed model of the change post − pre (intercept = mean
/// change), then paired t and Wilcoxon on the per-animal mean pre and post.
/// Units with a non-finite value are left out.
///
/// # Errors
/// [`MixedError`] when the lengths differ or too few units remain for the model.
pub fn pre_post(
    pre: &[f64],
    post: &[f64],
    subject: &[usize],
    session: &[usize],
) -> Result<Vec<AnimalTest>, MixedError> {
    let n = pre.len();
    if post.len() != n || subject.len() != n || session.len() != n {
        return Err(MixedError::Shape(format!(
            "{n} pre, {} post, {} subject, {} session values",
            post.len(),
            subject.len(),
            session.len()
        )));
    }
    let keep: Vec<usize> = (0..n).filter(|&i| pre[i].is_finite() && post[i].is_finite()).collect();
    let change: Vec<f64> = keep.iter().map(|&i| post[i] - pre[i]).collect();
    let subj: Vec<usize> = keep.iter().map(|&i| subject[i]).collect();
    let sess: Vec<usize> = keep.iter().map(|&i| session[i]).collect();
    let (n_sessions, n_animals) = counts(&subj, &sess);
    let x = vec![1.0; change.len()];
    let nested = several_sessions(&subj, &sess);
    let fit = mixed_lm_reml(&MixedData {
        y: &change,
        x: &x,
        p: 1,
        subject: &subj,
        session: nested.then_some(sess.as_slice()),
    })?;
    let row = |test: &str, estimate: f64, se: f64, statistic: f64, p_value: f64, n_units: usize| AnimalTest {
        test: test.into(),
        estimate,
        se,
        statistic,
        p_value,
        n_units,
        n_sessions,
        n_animals,
    };
    let mut rows = vec![row("lmm", fit.fe[0], fit.se[0], fit.z[0], fit.p_values[0], change.len())];
    let pre_k: Vec<f64> = keep.iter().map(|&i| pre[i]).collect();
    let post_k: Vec<f64> = keep.iter().map(|&i| post[i]).collect();
    let (mpre, mpost) = (animal_means(&pre_k, &subj), animal_means(&post_k, &subj));
    let (a, b): (Vec<f64>, Vec<f64>) =
        finite_pairs(&mpost.values().copied().collect::<Vec<_>>(), &mpre.values().copied().collect::<Vec<_>>());
    #[allow(clippy::cast_precision_loss)]
    let mean_change = a.iter().zip(&b).map(|(x, y)| x - y).sum::<f64>() / a.len().max(1) as f64;
    let t = ttest_rel(&a, &b);
    let se = if t.statistic != 0.0 { mean_change / t.statistic } else { f64::NAN };
    rows.push(row("ttest_rel_animals", mean_change, se, t.statistic, t.p_value, change.len()));
    let w = wilcoxon(&a, &b);
    rows.push(row("wilcoxon_animals", mean_change, f64::NAN, w.statistic, w.p_value, change.len()));
    Ok(rows)
}

/// A value per unit (or cell) compared between two levels (`second[i]`:
/// unit i is in the second): the mixed model `value ~ 1 + level` with a
/// random intercept per animal (the estimate is second − first). When each
/// animal is in one level (treatment arms), Welch t and Mann–Whitney U on the
/// per-animal means follow; when animals have both (LHb and CA1 cells of one
/// rat), paired t and Wilcoxon on each animal's two means, over the animals
/// with both. Non-finite values are left out.
///
/// # Errors
/// [`MixedError`] when the lengths differ or too few units remain.
pub fn between_groups(
    values: &[f64],
    second: &[bool],
    subject: &[usize],
    session: &[usize],
) -> Result<Vec<AnimalTest>, MixedError> {
    let n = values.len();
    if second.len() != n || subject.len() != n || session.len() != n {
        return Err(MixedError::Shape(format!(
            "{n} values, {} group, {} subject, {} session values",
            second.len(),
            subject.len(),
            session.len()
        )));
    }
    let keep: Vec<usize> = (0..n).filter(|&i| values[i].is_finite()).collect();
    // Each animal in one group (a treatment arm), or some in both (a factor
    // within animals, e.g. LHb and CA1 cells of one rat).
    let mut levels: BTreeMap<usize, (bool, bool)> = BTreeMap::new();
    for &i in &keep {
        let e = levels.entry(subject[i]).or_default();
        if second[i] { e.1 = true } else { e.0 = true }
    }
    let within = levels.values().any(|&(a, b)| a && b);
    let y: Vec<f64> = keep.iter().map(|&i| values[i]).collect();
    let subj: Vec<usize> = keep.iter().map(|&i| subject[i]).collect();
    let sess: Vec<usize> = keep.iter().map(|&i| session[i]).collect();
    let x: Vec<f64> = keep.iter().flat_map(|&i| [1.0, f64::from(u8::from(second[i]))]).collect();
    let (n_sessions, n_animals) = counts(&subj, &sess);
    let nested = several_sessions(&subj, &sess);
    let fit =
        mixed_lm_reml(&MixedData { y: &y, x: &x, p: 2, subject: &subj, session: nested.then_some(sess.as_slice()) })?;
    let row = |test: &str, estimate: f64, se: f64, statistic: f64, p_value: f64| AnimalTest {
        test: test.into(),
        estimate,
        se,
        statistic,
        p_value,
        n_units: y.len(),
        n_sessions,
        n_animals,
    };
    let mut rows = vec![row("lmm", fit.fe[1], fit.se[1], fit.z[1], fit.p_values[1])];
    #[allow(clippy::cast_precision_loss)]
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let sec_k: Vec<bool> = keep.iter().map(|&i| second[i]).collect();
    let level_means = |want: bool| -> BTreeMap<usize, f64> {
        let v: Vec<f64> = y.iter().zip(&sec_k).filter(|(_, s)| **s == want).map(|(v, _)| *v).collect();
        let a: Vec<usize> = subj.iter().zip(&sec_k).filter(|(_, s)| **s == want).map(|(a, _)| *a).collect();
        animal_means(&v, &a)
    };
    let (m0, m1) = (level_means(false), level_means(true));
    if within {
        // Paired across animals that have both levels.
        let both: Vec<usize> = m0.keys().filter(|a| m1.contains_key(a)).copied().collect();
        let a1: Vec<f64> = both.iter().map(|a| m1[a]).collect();
        let a0: Vec<f64> = both.iter().map(|a| m0[a]).collect();
        let diff = mean(&a1) - mean(&a0);
        let t = ttest_rel(&a1, &a0);
        let se = if t.statistic != 0.0 { diff / t.statistic } else { f64::NAN };
        rows.push(row("ttest_rel_animals", diff, se, t.statistic, t.p_value));
        let w = wilcoxon(&a1, &a0);
        rows.push(row("wilcoxon_animals", diff, f64::NAN, w.statistic, w.p_value));
    } else {
        let first: Vec<f64> = m0.values().copied().collect();
        let sec: Vec<f64> = m1.values().copied().collect();
        let diff = mean(&sec) - mean(&first);
        let t = ttest_welch(&sec, &first);
        let se = if t.statistic != 0.0 { diff / t.statistic } else { f64::NAN };
        rows.push(row("ttest_welch_animals", diff, se, t.statistic, t.p_value));
        let u = mannwhitneyu(&sec, &first);
        rows.push(row("mannwhitneyu_animals", diff, f64::NAN, u.statistic, u.p_value));
    }
    Ok(rows)
}
