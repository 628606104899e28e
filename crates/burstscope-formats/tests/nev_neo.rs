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
