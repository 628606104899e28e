//! Spike-train metrics equal SpikeInterface 0.105.3's on the same trains
//! (golden values by `tests/golden/make_metrics_golden.py`): exact for the
//! counts, within 1e-12 relative for the ratios.

use burstscope_sorting::{TrainMetricParams, train_metrics};

fn close(a: f64, b: Option<f64>) -> bool {
    match b {
        None => a.is_nan(),
        Some(b) => (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0),
    }
}

#[test]
fn train_metrics_equal_spikeinterface() {
    let g: serde_json::Value = serde_json::from_str(include_str!("golden/metrics_golden.json")).unwrap();
    let fs = g["fs_hz"].as_f64().unwrap();
    let n = g["n_samples"].as_u64().unwrap();
    let units = g["units"].as_array().unwrap();
    assert!(units.len() >= 6);
    for u in units {
        let id = u["id"].as_str().unwrap();
        let s: Vec<i64> = u["samples"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        let m = train_metrics(&s, fs, n, &TrainMetricParams::default()).unwrap();
        let f = |k: &str| u[k].as_f64();
        assert_eq!(m.n_spikes as f64, f("num_spikes").unwrap(), "{id}");
        assert_eq!(m.isi_violations_count as f64, f("isi_violations_count").unwrap(), "{id}");
        assert_eq!(m.rp_violations as f64, f("rp_violations").unwrap(), "{id}");
        assert!(
            close(m.firing_rate_hz, f("firing_rate")),
            "{id} firing rate {} vs {:?}",
            m.firing_rate_hz,
            f("firing_rate")
        );
        assert!(
            close(m.presence_ratio, f("presence_ratio")),
            "{id} presence {} vs {:?}",
            m.presence_ratio,
            f("presence_ratio")
        );
        assert!(
            close(m.isi_violations_ratio, f("isi_violations_ratio")),
            "{id} isi ratio {} vs {:?}",
            m.isi_violations_ratio,
            f("isi_violations_ratio")
        );
        assert!(
            close(m.rp_contamination, f("rp_contamination")),
            "{id} rp {} vs {:?}",
            m.rp_contamination,
            f("rp_contamination")
        );
    }
}

#[test]
fn bad_trains_are_errors() {
    let p = TrainMetricParams::default();
    assert!(train_metrics(&[5, 3], 1000.0, 10, &p).is_err());
    assert!(train_metrics(&[5, 30], 1000.0, 10, &p).is_err());
    assert!(train_metrics(&[1], 0.0, 10, &p).is_err());
    let m = train_metrics(&[], 1000.0, 100_000, &p).unwrap();
    assert!(m.firing_rate_hz.is_nan() && m.rp_contamination.is_nan());
}

#[test]
fn amplitude_cutoff_and_median_equal_spikeinterface() {
    use burstscope_sorting::{AmplitudeCutoffParams, amplitude_cutoff, median};
    let g: serde_json::Value = serde_json::from_str(include_str!("golden/amplitude_golden.json")).unwrap();
    for s in g["sets"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let a: Vec<f64> = s["amplitudes"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let got = amplitude_cutoff(&a, &AmplitudeCutoffParams::default());
        assert!(close(got, s["amplitude_cutoff"].as_f64()), "{name}: cutoff {got} vs {:?}", s["amplitude_cutoff"]);
        assert!(close(median(&a), s["amplitude_median"].as_f64()), "{name}: median");
    }
}

#[test]
fn cluster_metrics_equal_spikeinterface() {
    use burstscope_sorting::{d_prime, isolation_distance, nearest_neighbor_rates, simplified_silhouette};
    let g: serde_json::Value = serde_json::from_str(include_str!("golden/pca_golden.json")).unwrap();
    let dim = g["dim"].as_u64().unwrap() as usize;
    let x: Vec<f64> = g["pcs"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let labels: Vec<i64> = g["labels"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    let near = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0);
    for u in g["units"].as_array().unwrap() {
        let id = u["unit"].as_i64().unwrap();
        let f = |k: &str| u[k].as_f64().unwrap();
        let (iso, l) = isolation_distance(&x, dim, &labels, id);
        assert!(near(iso, f("isolation_distance"), 1e-9), "unit {id}: isolation {iso} vs {}", f("isolation_distance"));
        assert!(near(l, f("l_ratio"), 1e-9), "unit {id}: l_ratio {l} vs {}", f("l_ratio"));
        let dp = d_prime(&x, dim, &labels, id);
        assert!(near(dp, f("d_prime"), 1e-9), "unit {id}: d_prime {dp} vs {}", f("d_prime"));
        let s = simplified_silhouette(&x, dim, &labels, id);
        assert!(near(s, f("silhouette"), 1e-12), "unit {id}: silhouette {s} vs {}", f("silhouette"));
        let (h, m) = nearest_neighbor_rates(&x, dim, &labels, id, 10_000, 5);
        assert!(near(h, f("nn_hit_rate"), 1e-12) && near(m, f("nn_miss_rate"), 1e-12), "unit {id}: nn {h} {m}");
        let (h, m) = nearest_neighbor_rates(&x, dim, &labels, id, 300, 5);
        assert!(
            near(h, f("nn_hit_rate_300"), 1e-12) && near(m, f("nn_miss_rate_300"), 1e-12),
            "unit {id}: nn (subsampled) {h} {m} vs {} {}",
            f("nn_hit_rate_300"),
            f("nn_miss_rate_300")
        );
    }
}
