//! Agreement with the published reference implementations' bursts on the real
//! hiPSC MEA trains of Cotterill et al. 2016 (`../shared/real/hipsc`).
//!
//! `reference/<recording>.csv` holds the bursts the paper's own R code found
//! (sjemea `mi.find.bursts`, Cotterill's `PS.method`, `RS.method`,
//! `logisi.pasq.method`, `CMA.method`); `spikes/<recording>.csv` the trains.
//! MaxInterval must agree exactly. For the other methods the remaining
//! differences come from quirks of the reference code that we do not copy
//! (docs/bursts.md lists each one); the floors below pin today's agreement so a
//! regression fails.

use burstscope_bursts::{Method, detect};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn hipsc_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real/hipsc");
    if d.join("reference").is_dir() {
        return Some(d);
    }
    assert!(std::env::var_os("CI").is_none(), "{} is missing under CI", d.display());
    eprintln!("skipping: {} not found", d.display());
    None
}

type Trains = BTreeMap<String, Vec<f64>>;
/// (unit, method) → set of (beg, end) 0-based inclusive
type Ref = BTreeMap<(String, String), BTreeSet<(usize, usize)>>;

fn read(dir: &Path, name: &str) -> (Trains, Ref) {
    let spikes = std::fs::read_to_string(dir.join("spikes").join(name)).expect("spikes csv");
    let mut trains = Trains::new();
    for line in spikes.lines().skip(1) {
        let (u, t) = line.split_once(',').expect("unit,time_s");
        trains.entry(u.to_string()).or_default().push(t.parse().expect("time"));
    }
    let reference = std::fs::read_to_string(dir.join("reference").join(name)).expect("reference csv");
    let mut r = Ref::new();
    for line in reference.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let beg: usize = f[3].parse().expect("beg");
        let end: usize = f[4].parse().expect("end");
        r.entry((f[1].to_string(), f[2].to_string())).or_default().insert((beg - 1, end - 1));
    }
    (trains, r)
}

/// Per method: (reference bursts, ours, identical).
fn compare(method_ref: &str, method: &Method) -> (usize, usize, usize) {
    let Some(dir) = hipsc_dir() else { return (0, 0, 0) };
    let mut names: Vec<String> = std::fs::read_dir(dir.join("reference"))
        .expect("reference dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "expected 20 reference recordings, found {}", names.len());
    let (mut n_ref, mut n_ours, mut same) = (0, 0, 0);
    for name in &names {
        let (trains, reference) = read(&dir, name);
        for (unit, t) in &trains {
            if t.len() < 10 {
                continue; // the reference skipped trains with fewer than 10 spikes
            }
            let ours: BTreeSet<(usize, usize)> =
                detect(t, method).expect("valid train").iter().map(|b| (b.first, b.last())).collect();
            let empty = BTreeSet::new();
            let theirs = reference.get(&(unit.clone(), method_ref.to_string())).unwrap_or(&empty);
            n_ref += theirs.len();
            n_ours += ours.len();
            same += ours.intersection(theirs).count();
            if std::env::var_os("SHOW").is_some() && ours != *theirs {
                let a: Vec<_> = ours.difference(theirs).take(3).collect();
                let b: Vec<_> = theirs.difference(&ours).take(3).collect();
                eprintln!(
                    "{name} {unit} n={} ours-only {a:?} ref-only {b:?} (ours {}, ref {})",
                    t.len(),
                    ours.len(),
                    theirs.len()
                );
            }
        }
    }
    eprintln!(
        "{method_ref}: reference {n_ref}, ours {n_ours}, identical {same} ({:.2}% of reference, {:.2}% of ours)",
        100.0 * same as f64 / n_ref.max(1) as f64,
        100.0 * same as f64 / n_ours.max(1) as f64
    );
    (n_ref, n_ours, same)
}

fn agreement(method_ref: &str, method: &Method, recall_floor: f64, precision_floor: f64) {
    let (n_ref, n_ours, same) = compare(method_ref, method);
    if n_ref == 0 {
        return;
    }
    let recall = same as f64 / n_ref as f64;
    let precision = same as f64 / n_ours as f64;
    assert!(
        recall >= recall_floor && precision >= precision_floor,
        "{method_ref}: {recall:.4} of the reference's bursts and {precision:.4} of ours identical"
    );
}

#[test]
fn maxinterval_agrees_exactly() {
    let (n_ref, n_ours, same) = compare("maxinterval", &Method::from_name("maxinterval").unwrap());
    assert_eq!((n_ours, same), (n_ref, n_ref));
}

#[test]
fn rank_surprise_agrees_exactly() {
    let (n_ref, n_ours, same) = compare("rank_surprise", &Method::from_name("rank").unwrap());
    assert_eq!((n_ours, same), (n_ref, n_ref));
}

/// Measured 85.6 % / 92.0 %. Emulating the reference's look-ahead index quirk
/// (it tests the ISI at absolute position i instead of the burst's newest ISI)
/// raises this to 99.6 % / 98.9 % (docs/bursts.md).
#[test]
fn poisson_surprise_agrees() {
    agreement("poisson_surprise", &Method::from_name("poisson").unwrap(), 0.85, 0.91);
}

/// Measured 99.78 % / 99.90 %: every difference is a burst at the end of a
/// train, where the reference appends the last spike without testing its ISI.
#[test]
fn logisi_agrees() {
    agreement("logisi", &Method::from_name("logisi").unwrap(), 0.997, 0.998);
}

/// Measured 100 % / 99.65 %: every reference burst is found; the extra 0.35 %
/// are whole units for which the reference reported no bursts.
#[test]
fn cma_agrees() {
    agreement("cma", &Method::from_name("cma").unwrap(), 1.0, 0.996);
}
