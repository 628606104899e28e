//! `/units` as other tools write it: doubly ragged waveforms, ragged
//! `obs_intervals`, an `(n, 0)` column, array columns left unread unless asked
//! for; and `waveforms.h5` files of the wrong shape.

use burstscope_core::ColumnValue;
use burstscope_io::{Recording, UnitColumns, read_waveforms};
use hdf5::types::VarLenUnicode;
use std::str::FromStr;

fn text_attr(loc: &hdf5::Location, name: &str, value: &str) {
    loc.new_attr::<VarLenUnicode>()
        .shape(())
        .create(name)
        .unwrap()
        .write_scalar(&VarLenUnicode::from_str(value).unwrap())
        .unwrap();
}

/// Three units; spikes 2, 1, 3; each spike has a waveform on 2 electrodes of 4 samples.
fn write_units(path: &std::path::Path, extra: impl FnOnce(&hdf5::Group)) {
    let f = hdf5::File::create(path).unwrap();
    text_attr(&f, "neurodata_type", "NWBFile");
    text_attr(&f, "nwb_version", "2.8.0");
    let g = f.create_group("units").unwrap();
    g.new_dataset_builder().with_data(&[10i64, 11, 12]).create("id").unwrap();
    g.new_dataset_builder().with_data(&[0.1f64, 0.2, 0.5, 0.3, 0.4, 0.6]).create("spike_times").unwrap();
    g.new_dataset_builder().with_data(&[2i64, 3, 6]).create("spike_times_index").unwrap();
    extra(&g);
}

#[test]
fn doubly_ragged_waveforms_obs_intervals_and_empty_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("units.nwb");
    write_units(&path, |g| {
        // 6 spikes × 2 electrodes = 12 waveforms of 4 samples.
        let w: Vec<f32> = (0..48).map(|k| k as f32).collect();
        let w = ndarray::Array2::from_shape_vec((12, 4), w).unwrap();
        g.new_dataset_builder().with_data(&w).create("waveforms").unwrap();
        // waveforms_index: per spike, the end of its waveforms (2 per spike).
        g.new_dataset_builder().with_data(&[2i64, 4, 6, 8, 10, 12]).create("waveforms_index").unwrap();
        // waveforms_index_index: per unit, the end of its spikes.
        g.new_dataset_builder().with_data(&[2i64, 3, 6]).create("waveforms_index_index").unwrap();
        let obs = ndarray::arr2(&[[0.0f64, 1.0], [0.0, 0.5], [0.7, 1.0], [0.0, 1.0]]);
        g.new_dataset_builder().with_data(&obs).create("obs_intervals").unwrap();
        g.new_dataset_builder().with_data(&[1i64, 3, 4]).create("obs_intervals_index").unwrap();
        let empty = ndarray::Array2::<f64>::zeros((3, 0));
        g.new_dataset_builder().with_data(&empty).create("nothing").unwrap();
        g.new_dataset_builder().with_data(&[1.5f64, 2.5, 3.5]).create("snr").unwrap();
    });
    let rec = Recording::open(&path).unwrap();
    let units = rec.units().unwrap();
    assert_eq!(units.len(), 3);
    assert_eq!(units[0].spike_times_s, vec![0.1, 0.2]);
    assert_eq!(units[1].obs_intervals_s, vec![(0.0, 0.5), (0.7, 1.0)]);
    assert_eq!(units[0].columns["snr"], ColumnValue::Float(1.5));
    assert!(!units[0].columns.contains_key("waveforms"), "array columns are not read by default");
    let all = rec.units_with(UnitColumns::All).unwrap();
    let ColumnValue::Floats(w0) = &all[0].columns["waveforms"] else { panic!("waveforms") };
    assert_eq!(w0.len(), 2 * 2 * 4, "2 spikes × 2 electrodes × 4 samples");
    assert_eq!(w0[0], 0.0);
    let ColumnValue::Floats(w2) = &all[2].columns["waveforms"] else { panic!("waveforms") };
    assert_eq!(w2.len(), 3 * 2 * 4);
    assert_eq!(w2[0], 24.0);
    assert_eq!(all[1].columns["nothing"], ColumnValue::Floats(vec![]));
}

#[test]
fn a_waveforms_file_that_is_not_3d_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("waveforms.h5");
    {
        let f = hdf5::File::create(&path).unwrap();
        let g = f.create_group("tetrode0").unwrap();
        g.new_dataset_builder().with_data(&[1.0f32, 2.0, 3.0]).create("waveforms").unwrap();
        g.new_dataset_builder().with_data(&[0u64]).create("spike_index").unwrap();
        g.new_dataset_builder().with_data(&[0i64]).create("channels").unwrap();
    }
    let e = read_waveforms(&path).unwrap_err().to_string();
    assert!(e.contains("/tetrode0/waveforms") && e.contains("3 dimensions"), "{e}");
}
