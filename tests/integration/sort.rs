//! `burstscope sort` end to end: accuracy against the fixture's truth,
//! outputs that other tools and `bursts` read, thread-count independence.

use crate::util::{bin, fixture};
use burstscope_io::Recording;
use std::path::Path;

fn sort_csv(file: &Path, out: &Path, extra: &[&str]) {
    let o = bin().arg("sort").arg(file).arg("--out").arg(out).args(["--format", "csv"]).args(extra).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// (sample, unit) of every event in spikes.csv.
fn events(dir: &Path) -> Vec<(i64, i64)> {
    let text = std::fs::read_to_string(dir.join("spikes.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (s, u) = (col("sample"), col("unit"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[s].parse().unwrap(), f[u].parse().unwrap())
        })
        .collect()
}

/// SpikeInterface's agreement: matches within `tol` (each spike once) over
/// n_true + n_sorted − matches.
fn agreement(truth: &[i64], sorted: &[i64], tol: i64) -> f64 {
    let (mut i, mut j, mut m) = (0, 0, 0usize);
    while i < truth.len() && j < sorted.len() {
        if (truth[i] - sorted[j]).abs() <= tol {
            m += 1;
            i += 1;
            j += 1;
        } else if truth[i] < sorted[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    m as f64 / (truth.len() + sorted.len() - m) as f64
}

#[test]
fn sorting_recovers_every_fixture_unit() {
    let nwb = fixture("tetrode_raw.nwb");
    let out = tempfile::tempdir().unwrap();
    sort_csv(&nwb, out.path(), &[]);
    let ev = events(out.path());
    let n_units = ev.iter().map(|e| e.1).max().unwrap() + 1;
    let truth = Recording::open(&nwb).unwrap().units().unwrap();
    let fs = 30_000.0;
    for u in &truth {
        let t: Vec<i64> = u.spike_times_s.iter().map(|s| (s * fs).round() as i64).collect();
        let best = (0..n_units)
            .map(|k| {
                let s: Vec<i64> = ev.iter().filter(|e| e.1 == k).map(|e| e.0).collect();
                agreement(&t, &s, 12)
            })
            .fold(0.0, f64::max);
        eprintln!("true unit {}: best accuracy {best:.3}", u.id);
        assert!(best >= 0.9, "unit {} sorted with accuracy {best}", u.id);
    }
    assert_eq!(n_units as usize, truth.len(), "one sorted unit per true unit");
}

#[test]
fn outputs_open_in_burstscope_and_carry_the_metrics() {
    let nwb = fixture("tetrode_raw.nwb");
    let out = tempfile::tempdir().unwrap();
    sort_csv(&nwb, out.path(), &[]);
    let units = std::fs::read_to_string(out.path().join("units.csv")).unwrap();
    let header = units.lines().next().unwrap();
    for col in [
        "unit",
        "group",
        "peak_channel",
        "label",
        "n_spikes",
        "firing_rate_hz",
        "presence_ratio",
        "snr",
        "isi_violations_ratio",
        "isi_violations_count",
        "rp_contamination",
        "amplitude_cutoff",
        "amplitude_median_uv",
        "isolation_distance",
        "l_ratio",
        "d_prime",
        "silhouette",
        "nn_hit_rate",
        "nn_miss_rate",
        "trough_to_peak_ms",
        "half_width_ms",
        "peak_trough_ratio",
        "repolarization_slope_uv_per_s",
    ] {
        assert!(header.split(',').any(|h| h == col), "units.csv lacks {col}: {header}");
    }
    let sorted = Recording::open(&out.path().join("sorted.nwb")).unwrap().units().unwrap();
    assert_eq!(sorted.len(), units.lines().count() - 1);
    assert!(sorted.iter().all(|u| u.electrode_group.as_deref() == Some("tetrode0") && !u.obs_intervals_s.is_empty()));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("sort.json")).unwrap()).unwrap();
    assert_eq!(record["key"]["stage"], "sort");
    // `bursts` runs on burstscope's own units.
    let b = tempfile::tempdir().unwrap();
    let o = bin().arg("bursts").arg(out.path().join("sorted.nwb")).arg("--out").arg(b.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn results_do_not_depend_on_the_thread_count_or_the_snippet_cache() {
    let nwb = fixture("tetrode_raw.nwb");
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sort_csv(&nwb, a.path(), &["--threads", "1"]);
    sort_csv(&nwb, b.path(), &["--threads", "2"]);
    // No snippet cache: assignment from a second detection pass.
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cfg.path(), "snippet_cache_mb = 0\nfigures = false\n").unwrap();
    sort_csv(&nwb, c.path(), &["--threads", "2", "--config", cfg.path().to_str().unwrap()]);
    for f in ["spikes.csv", "units.csv"] {
        let one = std::fs::read(a.path().join(f)).unwrap();
        assert_eq!(one, std::fs::read(b.path().join(f)).unwrap(), "{f} differs between 1 and 2 threads");
        assert_eq!(one, std::fs::read(c.path().join(f)).unwrap(), "{f} differs with a second detection pass");
    }
}

#[test]
fn invalid_settings_are_refused_with_the_field() {
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cfg.path(), "max_depth = 0\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("sort")
        .arg(fixture("tetrode_raw.nwb"))
        .arg("--out")
        .arg(out.path().join("s"))
        .arg("--config")
        .arg(cfg.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("max_depth"), "{err}");
    std::fs::write(cfg.path(), "max_detph = 2\n").unwrap();
    let o = bin()
        .arg("sort")
        .arg(fixture("tetrode_raw.nwb"))
        .arg("--out")
        .arg(out.path().join("s"))
        .arg("--config")
        .arg(cfg.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.path().join("s").exists());
}

#[test]
fn the_phy_folder_goes_back_into_bursts_with_a_label_filter() {
    let out = tempfile::tempdir().unwrap();
    let phy = out.path().join("curate");
    let o = bin()
        .arg("sort")
        .arg(fixture("tetrode_raw.nwb"))
        .arg("--out")
        .arg(out.path().join("s"))
        .arg("--phy")
        .arg(&phy)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "params.py",
        "spike_times.npy",
        "spike_clusters.npy",
        "spike_templates.npy",
        "amplitudes.npy",
        "templates.npy",
        "channel_map.npy",
        "channel_positions.npy",
        "channel_groups.npy",
        "cluster_group.tsv",
    ] {
        assert!(phy.join(f).is_file(), "{f} missing");
    }
    assert!(std::fs::read_to_string(phy.join("cluster_group.tsv")).unwrap().starts_with("cluster_id\tgroup\n"));
    // A curation as Kilosort 4 leaves it: cluster_group.tsv whose header says KSLabel.
    std::fs::write(phy.join("cluster_group.tsv"), "cluster_id\tKSLabel\n0\tgood\n1\tmua\n2\tgood\n").unwrap();
    let b = out.path().join("b");
    let o = bin()
        .arg("bursts")
        .arg(&phy)
        .arg("--out")
        .arg(&b)
        .args(["--labels", "good", "--format", "csv"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let metrics = std::fs::read_to_string(b.join("unit_metrics.csv")).unwrap();
    let units: std::collections::BTreeSet<&str> = metrics.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    assert_eq!(units.into_iter().collect::<Vec<_>>(), vec!["0", "2"], "{metrics}");
    // Inconsistent folders are clear errors, exit 2.
    std::fs::write(phy.join("spike_clusters.npy"), b"\x93NUMPY\x01\x00").unwrap();
    let o = bin().arg("bursts").arg(&phy).arg("--out").arg(out.path().join("c")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("spike_clusters.npy"));
    // One cluster id for fewer spikes than spike_times.npy holds.
    std::fs::write(phy.join("spike_clusters.npy"), burstscope_io::phy::npy_bytes(&[0i64, 0, 1], &[3])).unwrap();
    let o = bin().arg("bursts").arg(&phy).arg("--out").arg(out.path().join("c")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("spike_clusters.npy") && err.contains("3 entries for"), "{err}");
    // No cluster assignment at all.
    std::fs::remove_file(phy.join("spike_clusters.npy")).unwrap();
    std::fs::remove_file(phy.join("spike_templates.npy")).unwrap();
    let o = bin().arg("bursts").arg(&phy).arg("--out").arg(out.path().join("c")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.path().join("c").exists(), "nothing written");
}

/// SpikeInterface 0.105.3's metrics for this very sorting
/// (`tests/golden/sorting/make_si_sorting_golden.py`, run on all spikes).
#[test]
fn unit_metrics_equal_spikeinterface_on_the_same_sorting() {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("../golden/sorting/si_metrics_tetrode_raw.json")).unwrap(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    sort_csv(&fixture("tetrode_raw.nwb"), out.path(), &[]);
    let text = std::fs::read_to_string(out.path().join("units.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows.len(),
        golden["units"].as_object().unwrap().len(),
        "the sorting changed: regenerate the golden file"
    );
    // (ours, SpikeInterface's, relative tolerance, absolute tolerance)
    let checks: [(&str, &str, f64, f64); 17] = [
        ("n_spikes", "num_spikes", 0.0, 0.0),
        ("isi_violations_count", "isi_violations_count", 0.0, 0.0),
        ("firing_rate_hz", "firing_rate", 1e-12, 0.0),
        ("isi_violations_ratio", "isi_violations_ratio", 1e-12, 0.0),
        ("rp_contamination", "rp_contamination", 1e-12, 0.0),
        ("amplitude_median_uv", "amplitude_median", 0.01, 0.0),
        // SpikeInterface's noise comes from 20 unseeded random 0.5 s chunks, ours from 20 seeded ones.
        ("snr", "snr", 0.02, 0.0),
        ("isolation_distance", "isolation_distance", 0.10, 0.0),
        ("l_ratio", "l_ratio", 0.10, 1e-6),
        ("d_prime", "d_prime", 0.10, 0.0),
        ("silhouette", "silhouette", 0.10, 0.0),
        ("nn_hit_rate", "nn_hit_rate", 0.10, 0.0),
        ("nn_miss_rate", "nn_miss_rate", 0.10, 0.005),
        // Its templates are upsampled by FFT resampling, ours by cubic interpolation: ±1 upsampled sample.
        ("trough_to_peak_ms", "peak_to_trough_duration", 0.02, 0.0),
        ("half_width_ms", "trough_half_width", 0.02, 0.0),
        ("peak_trough_ratio", "peak_after_to_trough_ratio", 0.01, 0.0),
        ("repolarization_slope_uv_per_s", "repolarization_slope", 0.02, 0.0),
    ];
    for r in &rows {
        let unit = r[header.iter().position(|h| *h == "unit").unwrap()];
        let g = &golden["units"][unit];
        for (ours, theirs, rel, abs) in checks {
            let a: f64 = r[header.iter().position(|h| *h == ours).unwrap()].parse().unwrap();
            let mut b = g[theirs].as_f64().unwrap_or(f64::NAN);
            if theirs.ends_with("duration") || theirs.ends_with("half_width") {
                b *= 1e3; // s → ms
            }
            let ok = (a.is_nan() && b.is_nan()) || (a - b).abs() <= rel * b.abs() + abs;
            assert!(ok, "unit {unit} {ours}: burstscope {a}, SpikeInterface {b}");
        }
    }
}

fn record_warnings(dir: &Path) -> Vec<String> {
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("sort.json")).unwrap()).unwrap();
    r["outputs"]["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_string()).collect()
}

#[test]
fn groups_with_one_spike_or_none_are_reported_and_the_others_sorted() {
    // t0: one unit of 100 spikes; t1: a single spike; t2: noise only (make_bad.py).
    let nwb = fixture("bad/groups.nwb");
    let out = tempfile::tempdir().unwrap();
    sort_csv(&nwb, out.path(), &[]);
    let units = std::fs::read_to_string(out.path().join("units.csv")).unwrap();
    let rows: Vec<&str> = units.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{units}");
    assert!(rows[0].starts_with("0,t0,"), "{units}");
    let ev = events(out.path());
    assert_eq!(ev.iter().filter(|e| e.1 == 0).count(), 100);
    assert!(ev.iter().any(|e| (e.0 - 60_002).abs() <= 3 && e.1 == -1), "the t1 spike is kept, unassigned");
    let w = record_warnings(out.path());
    assert!(w.iter().any(|w| w.contains("group t1: 1 spike(s) detected but no cluster")), "{w:?}");
    assert!(w.iter().any(|w| w.contains("group t2: no spikes detected")), "{w:?}");
    // sorted.nwb holds the one unit, on its group.
    let rec = Recording::open(&out.path().join("sorted.nwb")).unwrap();
    let u = rec.units().unwrap();
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].electrode_group.as_deref(), Some("t0"));
}

#[test]
fn a_file_without_electrode_groups_is_sorted_channel_by_channel_and_says_so() {
    // nan_flat.nwb has no electrodes table: 19 spikes on channel 0, a dead channel 3.
    let out = tempfile::tempdir().unwrap();
    let o = bin().arg("sort").arg(fixture("bad/nan_flat.nwb")).arg("--out").arg(out.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("names no electrode groups") && err.contains("each of its 4 channels"), "{err}");
    let w = record_warnings(out.path());
    assert!(w.iter().any(|w| w.contains("names no electrode groups")), "{w:?}");
    // 19 spikes: below min_unit_spikes (20), so no unit, and the record says why.
    assert!(w.iter().any(|w| w.contains("group ch0: 19 spike(s)")), "{w:?}");
    assert!(w.iter().any(|w| w.contains("group ch3: no spikes")), "{w:?}");
    // A unit appears once the threshold allows it.
    let out2 = tempfile::tempdir().unwrap();
    let cfg = out2.path().join("s.toml");
    std::fs::write(&cfg, "min_unit_spikes = 10\n").unwrap();
    sort_csv(&fixture("bad/nan_flat.nwb"), &out2.path().join("o"), &["--config", cfg.to_str().unwrap()]);
    let units = std::fs::read_to_string(out2.path().join("o/units.csv")).unwrap();
    assert_eq!(units.lines().count(), 2, "{units}");
    assert!(units.lines().nth(1).unwrap().starts_with("0,ch0,"), "{units}");
}
