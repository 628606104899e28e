//! The NEV reader against neo's `BlackrockRawIO` on the real Utah-array file
//! (`tests/golden/nev_golden.json`, made by `tests/golden/make_nev_golden.py`):
//! every spike channel's count and first and last timestamps, the total, and
//! the digital-input events.

use burstscope_formats::blackrock::Nev;
use std::path::Path;

#[test]
fn utah_nev_equals_neo() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/real/extracellular/blackrock_utah/l101210-001-02.nev");
    if !f.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        eprintln!("{} absent: skipped", f.display());
        return;
    }
    let golden: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/nev_golden.json")).unwrap(),
    )
    .unwrap();
    let nev = Nev::open(&f).unwrap();
    assert_eq!(nev.timestamp_hz, golden["timestamp_resolution_hz"].as_f64().unwrap());
    assert_eq!(nev.spikes.len() as u64, golden["n_spikes"].as_u64().unwrap());
    let mut by: std::collections::BTreeMap<String, Vec<u64>> = std::collections::BTreeMap::new();
    for s in &nev.spikes {
        by.entry(format!("ch{}#{}", s.electrode, s.unit)).or_default().push(s.timestamp);
    }
    let units = golden["units"].as_array().unwrap();
    let mut with_spikes = 0;
    for u in units {
        let name = u["name"].as_str().unwrap();
        let count = u["count"].as_u64().unwrap();
        let got = by.get(name).cloned().unwrap_or_default();
        assert_eq!(got.len() as u64, count, "{name}");
        if count == 0 {
            continue;
        }
        with_spikes += 1;
        let want = |k: &str| -> Vec<u64> { u[k].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect() };
        assert_eq!(got[..3.min(got.len())].to_vec(), want("head"), "{name}");
        assert_eq!(got[got.len().saturating_sub(3)..].to_vec(), want("tail"), "{name}");
        assert_eq!(got.iter().sum::<u64>(), u["sum"].as_u64().unwrap(), "{name}");
    }
    // every (electrode, unit) we found is one of neo's channels
    assert_eq!(by.len(), with_spikes);
    let d = &golden["events"]["digital_input_port"];
    let ts: Vec<u64> = nev.digital_changes().map(|e| e.timestamp).collect();
    let values: Vec<String> = nev.digital_changes().map(|e| e.value.to_string()).collect();
    assert_eq!(ts, d["timestamps"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect::<Vec<_>>());
    assert_eq!(
        values,
        d["labels"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>()
    );
}

#[test]
fn utah_ns2_equals_neo() {
    use burstscope_formats::blackrock::Nsx;
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real/extracellular/blackrock_utah");
    if !d.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
        return;
    }
    let golden: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/nev_golden.json")).unwrap(),
    )
    .unwrap();
    let want = &golden["nsx"];
    let nev = Nev::open(&d.join("l101210-001-02.nev")).unwrap();
    let nsx = Nsx::open(&d.join("l101210-001.ns2"), Some(&nev)).unwrap();
    assert_eq!(nsx.version, "2.1");
    assert!(nsx.warnings.is_empty(), "{:?}", nsx.warnings);
    assert_eq!(nsx.rate_hz, want["rate_hz"].as_f64().unwrap());
    // neo counts an NSx 2.1 file's frames as (size − headers) / (2 · channels) − 1
    // and so leaves out its last frame; the 43 748-byte file holds 3 641 whole frames
    assert_eq!(nsx.n_samples as u64, want["n_samples"].as_u64().unwrap() + 1);
    assert_eq!(nsx.start_s, want["t_start_s"].as_f64().unwrap());
    let nch = nsx.channels.len();
    assert_eq!(nch, want["names"].as_array().unwrap().len());
    for (c, (id, label, gain)) in nsx.channels.iter().enumerate() {
        assert_eq!(label, want["names"][c].as_str().unwrap());
        assert_eq!(u64::from(*id), want["ids"][c].as_u64().unwrap());
        assert!((gain - want["gain_uv"][c].as_f64().unwrap()).abs() < 1e-9, "{label}: {gain}");
    }
    let n = nsx.n_samples - 1;
    let v = nsx.read_values(0, n).unwrap();
    for c in 0..nch {
        for k in 0..3 {
            assert_eq!(i64::from(v[k * nch + c]), want["head"][k][c].as_i64().unwrap());
            assert_eq!(i64::from(v[(n - 3 + k) * nch + c]), want["tail"][k][c].as_i64().unwrap());
        }
        let sum: i64 = (0..n).map(|t| i64::from(v[t * nch + c])).sum();
        assert_eq!(sum, want["sum"][c].as_i64().unwrap(), "channel {c}");
    }
}
