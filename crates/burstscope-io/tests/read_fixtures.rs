//! The reader against pynwb-written fixtures: values read by pynwb
//! (`tests/golden/io_golden.json`, made by `tests/golden/make_io_golden.py`)
//! and the simulators' truth JSON files.

use burstscope_core::ClampMode;
use burstscope_io::{Layout, Recording};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}
fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
fn golden() -> Value {
    json(&repo().join("tests/golden/io_golden.json"))
}
/// `../shared/fixtures` beside the checkout, when present.
fn shared(name: &str) -> Option<PathBuf> {
    let p = repo().join("../shared/fixtures").join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("notice: {} absent; skipping", p.display());
        None
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-30)
}

#[test]
fn tetrode_series_metadata_matches_pynwb() {
    let g = &golden()["tetrode"];
    let rec = Recording::open(&fixture("tetrode_raw.nwb")).unwrap();
    assert_eq!(rec.layout(), Layout::Nwb);
    let s = rec.series_named(None).unwrap();
    assert_eq!(s.name, "ElectricalSeries");
    assert_eq!(s.dtype, "int16");
    assert_eq!(s.rate_hz, g["rate_hz"].as_f64().unwrap());
    assert_eq!(s.n_samples as u64, g["n_samples"].as_u64().unwrap());
    assert_eq!(s.n_channels as u64, g["n_channels"].as_u64().unwrap());
    assert!((s.duration_s - 30.0).abs() < 1e-12);
    assert_eq!(s.conversion, 1.95e-7);
    let groups: Vec<&str> = s.electrodes.iter().map(|e| e.group.as_str()).collect();
    let want: Vec<&str> = g["groups"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(groups, want);
    assert!(s.electrodes.iter().all(|e| e.location == "LHb"));
    assert_eq!(s.channel_groups(), vec![("tetrode0".to_string(), vec![0, 1, 2, 3])]);
}

#[test]
fn streamed_samples_in_volts_match_pynwb() {
    let g = &golden()["tetrode"]["samples"];
    let rec = Recording::open(&fixture("tetrode_raw.nwb")).unwrap();
    let s = rec.series_named(Some("ElectricalSeries")).unwrap();
    let r = rec.stream(&s).unwrap();
    let mut buf = Vec::new();
    for (k, want) in g.as_object().unwrap() {
        let i: usize = k.parse().unwrap();
        r.read_block(i, 1, 1.0, &mut buf).unwrap();
        for (ch, w) in want.as_array().unwrap().iter().enumerate() {
            assert!(close(f64::from(buf[ch]), w.as_f64().unwrap(), 1e-6), "sample {i} ch {ch}");
        }
    }
    // Blocks that straddle chunk boundaries give the same values as single reads.
    r.read_block(29_990, 20, 1e6, &mut buf).unwrap();
    let mut one = Vec::new();
    r.read_block(30_005, 1, 1e6, &mut one).unwrap();
    assert_eq!(&buf[15 * 4..16 * 4], one.as_slice());
    // A block past the end is an error naming the dataset, not a panic.
    let e = r.read_block(899_990, 20, 1.0, &mut buf).unwrap_err().to_string();
    assert!(e.contains("/acquisition/ElectricalSeries/data"), "{e}");
}

#[test]
fn tetrode_units_epochs_and_session_match_truth() {
    let g = &golden()["tetrode"];
    let truth = json(&fixture("tetrode_raw.truth.json"));
    let rec = Recording::open(&fixture("tetrode_raw.nwb")).unwrap();
    let units = rec.units().unwrap();
    assert_eq!(units.len(), 3);
    for (u, t) in units.iter().zip(truth["units"].as_array().unwrap()) {
        assert_eq!(u.id, t["id"].as_i64().unwrap());
        assert_eq!(u.spike_times_s.len() as u64, t["n_spikes"].as_u64().unwrap());
        assert_eq!(u.electrode_group.as_deref(), Some("tetrode0"));
        assert_eq!(u.columns["kind"], burstscope_core::ColumnValue::Text(t["kind"].as_str().unwrap().into()));
        // Truth bursts start on spikes of the unit.
        for b in t["bursts"].as_array().unwrap() {
            let start = b[0].as_f64().unwrap();
            assert!(u.spike_times_s.iter().any(|&x| (x - start).abs() < 1e-9));
        }
    }
    let epochs = rec.epochs().unwrap();
    let want = g["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), want.len());
    for (e, w) in epochs.iter().zip(want) {
        assert_eq!(e.start_s, w[0].as_f64().unwrap());
        assert_eq!(e.stop_s, w[1].as_f64().unwrap());
        assert_eq!(e.tags[0], w[2][0].as_str().unwrap());
    }
    let session = rec.session().unwrap();
    assert_eq!(session.pharmacology.as_deref(), g["pharmacology"].as_str());
    assert_eq!(session.nwb_version.as_deref(), Some("2.11.0"));
    assert_eq!(rec.duration_s().unwrap(), Some(truth["duration_s"].as_f64().unwrap()));
}

#[test]
fn long_units_file_spike_times_match_truth() {
    let truth = json(&fixture("lhb_units_ketamine.truth.json"));
    let rec = Recording::open(&fixture("lhb_units_ketamine.nwb")).unwrap();
    assert!(rec.series().unwrap().is_empty());
    let units = rec.units().unwrap();
    let tunits = truth["units"].as_array().unwrap();
    assert_eq!(units.len(), tunits.len());
    let groups: std::collections::BTreeSet<_> = units.iter().filter_map(|u| u.electrode_group.clone()).collect();
    assert_eq!(groups.len(), 4);
    for (u, t) in units.iter().zip(tunits) {
        assert_eq!(u.spike_times_s.len() as u64, t["n_spikes"].as_u64().unwrap(), "unit {}", u.id);
        assert!(u.spike_times_s.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(u.electrode_group.as_deref(), Some(format!("tetrode{}", t["tetrode"]).as_str()));
    }
    let epochs = rec.epochs().unwrap();
    assert_eq!(epochs[1].start_s, truth["ketamine_s"].as_f64().unwrap());
    assert_eq!(epochs[1].tags, vec!["ketamine".to_string()]);
}

#[test]
fn slice_sweeps_match_pynwb_and_truth() {
    let g = &golden()["slice"];
    let truth = json(&fixture("slices/LHb_cell01.truth.json"));
    let rec = Recording::open(&fixture("slices/LHb_cell01.nwb")).unwrap();
    let sweeps = rec.sweeps().unwrap();
    assert_eq!(sweeps.len() as u64, g["n_sweeps"].as_u64().unwrap());
    let tsweeps = truth["sweeps"].as_array().unwrap();
    for (s, t) in sweeps.iter().zip(tsweeps) {
        assert_eq!(s.mode, ClampMode::VoltageClamp);
        assert_eq!(s.sweep_number, t["sweep"].as_u64());
        assert!((s.starting_time_s - t["start_s"].as_f64().unwrap()).abs() < 1e-9);
        assert_eq!(s.stimulus_description.as_deref(), t["condition"].as_str());
        let e = s.electrode.as_ref().unwrap();
        assert_eq!(e.location.as_deref(), Some("LHb"));
        assert_eq!(e.cell_id.as_deref(), truth["cell"].as_str());
        assert!(s.stimulus_path.as_deref().unwrap().starts_with("/stimulus/presentation/stimulus_"));
    }
    let s25 = &sweeps[25];
    assert_eq!(s25.path, format!("/acquisition/{}", g["sweep25_name"].as_str().unwrap()));
    assert_eq!(s25.rate_hz, g["sweep25_rate_hz"].as_f64().unwrap());
    assert_eq!(s25.unit, "amperes");
    let data = rec.read_sweep(s25).unwrap();
    assert_eq!(data.len(), 8000);
    for (k, v) in g["sweep25_samples"].as_object().unwrap() {
        let i: usize = k.parse().unwrap();
        assert!(close(data[i], v.as_f64().unwrap(), 1e-6), "sample {i}");
    }
    // The stimulus is the command voltage: +40 mV holding with a -5 mV test pulse.
    let stim = rec.read_stimulus(s25).unwrap().unwrap();
    assert!((stim[0] - 0.040).abs() < 1e-6, "holding {}", stim[0]);
    assert!((stim[750] - 0.035).abs() < 1e-6, "test pulse {}", stim[750]);
    let summary = rec.summary().unwrap();
    assert!(summary.has_intracellular_recordings_table);
}

#[test]
fn every_shared_slice_cell_reads_with_region_and_sweep_counts() {
    let Some(dir) = shared("slices") else { return };
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("nwb") {
            continue;
        }
        let truth = json(&p.with_extension("truth.json"));
        let rec = Recording::open(&p).unwrap();
        let sweeps = rec.sweeps().unwrap();
        assert_eq!(sweeps.len(), truth["sweeps"].as_array().unwrap().len(), "{}", p.display());
        let region = sweeps[0].electrode.as_ref().unwrap().location.clone().unwrap();
        assert_eq!(region, truth["region"].as_str().unwrap());
        n += 1;
    }
    assert_eq!(n, 6);
}

#[test]
fn mea_spike_layout_reads_as_units() {
    let p = repo().join("../shared/real/hipsc/h5/hiPSN_tc06_d12_spikes6sd.h5");
    if !p.exists() {
        eprintln!("notice: {} absent; skipping", p.display());
        return;
    }
    let rec = Recording::open(&p).unwrap();
    assert_eq!(rec.layout(), Layout::MeaSpikes);
    let units = rec.units().unwrap();
    assert_eq!(units.len(), 23);
    assert_eq!(units[0].label, "ch_12_unit_0");
    assert_eq!(units[0].spike_times_s.len(), 50);
    assert_eq!(units.iter().map(|u| u.spike_times_s.len()).sum::<usize>(), 4147);
    assert!((units[0].spike_times_s[0] - 8.84784).abs() < 1e-12);
    assert_eq!(rec.duration_s().unwrap(), Some(600.0));
}

#[test]
fn direct_reads_equal_hdf5_reads_for_gzip_and_plain_layouts() {
    use burstscope_core::BlockQuality;
    // The pynwb fixture is gzip-compressed in chunks of 30000 rows; the
    // generator's files are uncompressed. Compare both paths over ranges that
    // cross chunk boundaries.
    let rec = Recording::open(&fixture("tetrode_raw.nwb")).unwrap();
    let s = rec.series_named(None).unwrap();
    let direct = rec.stream(&s).unwrap();
    assert!(direct.is_direct());
    let cols = [0usize, 1, 2, 3];
    let read = |r: &burstscope_io::SeriesReader, a: usize, n: usize| {
        let mut out = vec![0f32; n * 8];
        let mut q = BlockQuality::default();
        r.read_block_into(a, n, 1e6, &cols, 8, &mut out, 0..n, &mut q).unwrap();
        out
    };
    let library = rec.stream(&s).unwrap().through_hdf5();
    assert!(!library.is_direct());
    for (a, n) in [(0, 100), (29_990, 40), (59_000, 62_000), (899_000, 1000)] {
        let d = read(&direct, a, n);
        assert_eq!(d, read(&library, a, n), "rows {a}..{}", a + n);
        assert!(d.chunks(8).all(|r| r[4..].iter().all(|&v| v == 0.0)), "padding");
    }
    // An uncompressed file written by burstscope (chunks of 32768 rows).
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("u.nwb");
    let w = burstscope_io::NwbWriter::create(
        &p,
        &burstscope_io::NwbSession {
            identifier: "u".into(),
            session_description: "u".into(),
            session_start_time: "2026-01-01T00:00:00+00:00".into(),
            pharmacology: None,
            experimenter: vec![],
            subject: vec![],
        },
    )
    .unwrap();
    w.add_device("d", "d").unwrap();
    w.add_electrode_group("g", "g", "LHb", "d").unwrap();
    w.add_electrodes(&vec![("g".to_string(), "LHb".to_string()); 4]).unwrap();
    let es = w
        .add_electrical_series(&burstscope_io::ElectricalSeriesSpec {
            name: "raw".into(),
            n_samples: 70_000,
            electrode_rows: vec![0, 1, 2, 3],
            rate_hz: 30_000.0,
            conversion: 1e-6,
            chunk_samples: 32_768,
            gzip_level: 0,
            description: "t".into(),
            starting_time_s: 0.0,
            channel_conversion: None,
        })
        .unwrap();
    let data: Vec<i16> = (0..70_000 * 4).map(|i| i16::try_from(i % 20_011).unwrap() - 10_000).collect();
    es.write_block(0, &data).unwrap();
    drop(es);
    w.finish().unwrap();
    let rec = Recording::open(&p).unwrap();
    let s = rec.series_named(None).unwrap();
    let direct = rec.stream(&s).unwrap();
    assert!(direct.is_direct());
    let library = rec.stream(&s).unwrap().through_hdf5();
    for (a, n) in [(0, 10), (32_760, 20), (1000, 69_000)] {
        assert_eq!(read(&direct, a, n), read(&library, a, n));
    }
}
