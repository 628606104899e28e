//! The presets in `data/` parse with the program's own config types, the
//! default presets equal the built-in defaults, and they name every setting.

use burstscope_pipeline::{BurstsConfig, BurstsSettings, DetectConfig, DetectSettings, EpscConfig, EpscSettings};
use serde::Serialize;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data").join(name)
}

/// Leaf keys of a serialised value, as `section.key`.
fn keys(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    if let serde_json::Value::Object(m) = v {
        for (k, x) in m {
            let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            if matches!(x, serde_json::Value::Object(_)) {
                keys(x, &name, out);
            } else {
                out.push(name);
            }
        }
    }
}

/// Equal up to float rounding in the last digits.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Number, Object};
    match (a, b) {
        (Number(x), Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Object(x), Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

/// The preset names every setting of `defaults`, set or commented out
/// (optional settings without a default).
fn names_every_setting<T: Serialize>(text: &str, defaults: &T, file: &str) {
    let mut all = Vec::new();
    keys(&serde_json::to_value(defaults).unwrap(), "", &mut all);
    // Optional settings absent by default serialise as null.
    for k in all {
        let leaf = k.rsplit('.').next().unwrap();
        let present = text.lines().any(|l| {
            let l = l.trim_start_matches('#').trim();
            l.starts_with(&format!("{leaf} =")) || l.starts_with(&format!("{leaf}=")) || l == format!("[{leaf}]")
        });
        assert!(present, "{file} does not document `{k}`");
    }
}

#[test]
fn default_presets_equal_the_built_in_defaults_and_name_every_setting() {
    let text = std::fs::read_to_string(data("detect.toml")).unwrap();
    let s: DetectSettings = toml::from_str(&text).unwrap();
    DetectConfig::new(s.clone()).unwrap();
    let d = DetectSettings::default();
    assert!(same(&serde_json::to_value(&s).unwrap(), &serde_json::to_value(&d).unwrap()), "detect.toml ≠ defaults");
    names_every_setting(&text, &d, "detect.toml");

    let text = std::fs::read_to_string(data("bursts-lhb.toml")).unwrap();
    let s: BurstsSettings = toml::from_str(&text).unwrap();
    BurstsConfig::new(s.clone()).unwrap();
    let d = BurstsSettings::default();
    assert!(same(&serde_json::to_value(&s).unwrap(), &serde_json::to_value(&d).unwrap()), "bursts-lhb.toml ≠ defaults");
    names_every_setting(&text, &d, "bursts-lhb.toml");

    let text = std::fs::read_to_string(data("epsc.toml")).unwrap();
    let s: EpscSettings = toml::from_str(&text).unwrap();
    EpscConfig::new(s.clone()).unwrap();
    let d = EpscSettings::default();
    assert!(same(&serde_json::to_value(&s).unwrap(), &serde_json::to_value(&d).unwrap()), "epsc.toml ≠ defaults");
    names_every_setting(&text, &d, "epsc.toml");

    let text = std::fs::read_to_string(data("sort.toml")).unwrap();
    let s: burstscope_pipeline::SortSettings = toml::from_str(&text).unwrap();
    burstscope_pipeline::SortConfig::new(s.clone()).unwrap();
    let d = burstscope_pipeline::SortSettings::default();
    assert!(same(&serde_json::to_value(&s).unwrap(), &serde_json::to_value(&d).unwrap()), "sort.toml ≠ defaults");
    names_every_setting(&text, &d, "sort.toml");
}

#[test]
fn the_other_presets_are_valid() {
    let s: BurstsSettings =
        toml::from_str(&std::fs::read_to_string(data("bursts-cotterill-hipsc.toml")).unwrap()).unwrap();
    let cfg = BurstsConfig::new(s).unwrap();
    assert_eq!(cfg.method().name(), "maxinterval");
    let m = burstscope_io::Mapping::from_file(&data("mapping.example.toml")).unwrap();
    m.validate().unwrap();
    assert_eq!(m.channels_per_group, Some(4));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("record.schema.json")).unwrap()).unwrap();
    assert_eq!(schema["properties"]["schema"]["const"], burstscope_core::RECORD_SCHEMA);
}
