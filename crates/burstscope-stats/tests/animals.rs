//! Animal-level statistics: the per-animal tests are the plain tests on
//! per-animal means, and the mixed model does not pseudoreplicate.

use burstscope_stats::animals::{between_groups, pre_post};
use burstscope_stats::{ttest_rel, wilcoxon};

/// A fixed pseudo-random normal sequence (Box–Muller on an LCG).
fn normals(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut u = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n).map(|_| (-2.0 * u().ln()).sqrt() * (2.0 * std::f64::consts::PI * u()).cos()).collect()
}

#[test]
fn units_of_one_animal_are_not_independent() {
    // Six animals, 20 units each; each animal's change differs (SD 1.3),
    // units vary little around their animal (SD 0.3).
    let effect = [3.0, 0.5, 2.5, -0.5, 1.5, 0.0];
    let noise = normals(240, 11);
    let (mut pre, mut post, mut subject) = (Vec::new(), Vec::new(), Vec::new());
    for (a, e) in effect.iter().enumerate() {
        for u in 0..20 {
            let base = 10.0 + 2.0 * noise[a * 20 + u];
            pre.push(base);
            post.push(base + e + 0.3 * noise[120 + a * 20 + u]);
            subject.push(a);
        }
    }
    let session = subject.clone();
    let rows = pre_post(&pre, &post, &subject, &session).unwrap();
    let per_unit = ttest_rel(&post, &pre);
    assert!(per_unit.p_value < 1e-10, "per-unit p {}", per_unit.p_value);
    let lmm = &rows[0];
    assert_eq!((lmm.test.as_str(), lmm.n_units, lmm.n_sessions, lmm.n_animals), ("lmm", 120, 6, 6));
    let mean_e = effect.iter().sum::<f64>() / 6.0;
    let sd_e = (effect.iter().map(|e| (e - mean_e).powi(2)).sum::<f64>() / 5.0).sqrt();
    assert!((lmm.estimate - mean_e).abs() < 0.1, "{}", lmm.estimate);
    // The SE is that of six animal means, not of 120 units.
    assert!((lmm.se / (sd_e / 6f64.sqrt()) - 1.0).abs() < 0.1, "SE {} vs {}", lmm.se, sd_e / 6f64.sqrt());
    assert!(lmm.p_value > 1e-3, "lmm p {}", lmm.p_value);
    let t = &rows[1];
    assert!(t.test == "ttest_rel_animals" && t.p_value > 0.05, "{t:?}");
}

#[test]
fn per_animal_tests_are_the_tests_on_animal_means() {
    let pre = [10.0, 12.0, 8.0, 9.0, 11.0, 13.0, 7.0, 7.5, f64::NAN];
    let post = [5.2, 6.1, 3.9, 4.4, 5.6, 6.3, 6.0, 6.6, 1.0];
    let subject = [0, 0, 1, 1, 2, 2, 3, 3, 3];
    let session = [0, 1, 2, 2, 3, 3, 4, 4, 4];
    let rows = pre_post(&pre, &post, &subject, &session).unwrap();
    // The NaN unit is left out; animal 0 has two sessions, so the model has
    // a session component and 5 sessions.
    assert!(rows.iter().all(|r| r.n_units == 8 && r.n_sessions == 5 && r.n_animals == 4), "{rows:?}");
    let mpre = [11.0, 8.5, 12.0, 7.25];
    let mpost = [5.65, 4.15, 5.95, 6.3];
    let t = ttest_rel(&mpost, &mpre);
    let w = wilcoxon(&mpost, &mpre);
    assert_eq!((rows[1].statistic, rows[1].p_value), (t.statistic, t.p_value));
    assert_eq!((rows[2].statistic, rows[2].p_value), (w.statistic, w.p_value));
    let mean_change = mpost.iter().zip(&mpre).map(|(a, b)| a - b).sum::<f64>() / 4.0;
    assert!((rows[1].estimate - mean_change).abs() < 1e-12);
    assert!(pre_post(&pre[..3], &post, &subject, &session).is_err());
}

#[test]
fn groups_of_animals() {
    // Ten animals, 5 in each group; the second group's values are 1.0 higher.
    let noise = normals(80, 5);
    let (mut v, mut second, mut subject) = (Vec::new(), Vec::new(), Vec::new());
    for a in 0..10 {
        let shift = 0.4 * noise[a];
        for u in 0..6 {
            v.push(2.0 + if a >= 5 { 1.0 } else { 0.0 } + shift + 0.5 * noise[10 + a * 6 + u]);
            second.push(a >= 5);
            subject.push(a);
        }
    }
    let rows = between_groups(&v, &second, &subject, &subject).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.test.as_str()).collect::<Vec<_>>(),
        ["lmm", "ttest_welch_animals", "mannwhitneyu_animals"]
    );
    let lmm = &rows[0];
    assert!((lmm.estimate - 1.0).abs() < 3.0 * lmm.se && lmm.p_value < 0.05, "{lmm:?}");
    assert_eq!((lmm.n_units, lmm.n_animals), (60, 10));
    // Balanced: the mixed-model difference is the difference of animal means.
    assert!((lmm.estimate - rows[1].estimate).abs() < 1e-6, "{} vs {}", lmm.estimate, rows[1].estimate);
}

#[test]
fn a_factor_within_animals_is_compared_within_animals() {
    // Six rats, each with LHb and CA1 cells; LHb blocks 40 points more, the
    // rats differ by up to 20 points.
    let noise = normals(100, 9);
    let (mut v, mut lhb, mut subject) = (Vec::new(), Vec::new(), Vec::new());
    for a in 0..6 {
        let rat = 20.0 * noise[a];
        for c in 0..6 {
            let is_lhb = c % 2 == 0;
            v.push(30.0 + if is_lhb { 40.0 } else { 0.0 } + rat + 3.0 * noise[10 + a * 6 + c]);
            lhb.push(is_lhb);
            subject.push(a);
        }
    }
    let rows = between_groups(&v, &lhb, &subject, &subject).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.test.as_str()).collect::<Vec<_>>(),
        ["lmm", "ttest_rel_animals", "wilcoxon_animals"]
    );
    assert!((rows[0].estimate - 40.0).abs() < 4.0 && rows[0].p_value < 1e-6, "{:?}", rows[0]);
    // Balanced within animals: the model's difference is the mean within-animal difference.
    assert!((rows[0].estimate - rows[1].estimate).abs() < 1e-6);
    assert_eq!(rows[1].n_animals, 6);
}
