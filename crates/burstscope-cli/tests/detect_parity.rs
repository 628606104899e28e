//! The streamed detection pipeline on real files: its band-pass against
//! scipy's whole-signal `sosfiltfilt` (golden values made by
//! `tests/golden/make_dsp_golden.py`), and thread-count independence.

use burstscope_io::Recording;
use burstscope_spikes::{ChannelGroup, DetectParams, Plan};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn plan_for(rec: &Recording, params: &DetectParams) -> (Plan, burstscope_io::SeriesReader) {
    let s = rec.series_named(None).unwrap();
    let groups: Vec<ChannelGroup> =
        s.channel_groups().into_iter().map(|(name, channels)| ChannelGroup { name, channels }).collect();
    let plan = Plan::new(params, s.rate_hz, s.n_samples, s.n_channels, &groups, 1e6).unwrap();
    (plan, rec.stream(&s).unwrap())
}

#[test]
fn streamed_filter_matches_scipy_within_1e3_rms_away_from_the_ends() {
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/golden/dsp_golden.json")).unwrap()).unwrap();
    let ff = &g["filtfilt"];
    let rec = Recording::open(&repo().join("tests/fixtures/tetrode_raw.nwb")).unwrap();
    // Small blocks so that many block boundaries fall inside the compared range.
    let params = DetectParams { block_samples: 4096, ..DetectParams::default() };
    let (plan, reader) = plan_for(&rec, &params);
    let rms: Vec<f64> = ff["rms"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let idx: Vec<usize> = ff["indices"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let vals = ff["values"].as_array().unwrap();
    let mut worst = 0.0f64;
    // Read the filtered signal the way detection does, in several stretches.
    for (k, &i) in idx.iter().enumerate() {
        if k % 4 != 0 {
            continue;
        }
        let y = plan.filtered_range(&reader, i, i + 1).unwrap();
        for ch in 0..4 {
            let want = vals[k][ch].as_f64().unwrap();
            let err = (f64::from(y[ch]) - want).abs() / rms[ch];
            worst = worst.max(err);
        }
    }
    // And through whole blocks of the grid (as detection reads them).
    let block = plan.filtered_range(&reader, 3000, 900_000 - 3000).unwrap();
    for (k, &i) in idx.iter().enumerate() {
        for ch in 0..4 {
            let want = vals[k][ch].as_f64().unwrap();
            let err = (f64::from(block[(i - 3000) * 4 + ch]) - want).abs() / rms[ch];
            worst = worst.max(err);
        }
    }
    eprintln!("worst |streamed - scipy| / rms = {worst:.2e}");
    assert!(worst < 1e-3, "worst relative error {worst}");
}

#[test]
fn events_are_identical_whatever_the_thread_count() {
    let rec = Recording::open(&repo().join("tests/fixtures/tetrode_raw.nwb")).unwrap();
    let params = DetectParams { block_samples: 8192, ..DetectParams::default() };
    let (plan, reader) = plan_for(&rec, &params);
    let noise = plan.noise(&reader).unwrap();
    let collect = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut ev = Vec::new();
            // Each event with its values (peaks and snippet), which live in its block.
            burstscope_spikes::run(&plan, &reader, &noise, &|_| {}, &mut |b| {
                ev.extend(
                    b.events
                        .iter()
                        .map(|e| (e.sample, e.group, e.channel, b.peaks(e).to_vec(), b.waveform(e).to_vec())),
                );
                Ok(())
            })
            .unwrap();
            ev
        })
    };
    let one = collect(1);
    let three = collect(3);
    assert!(one.len() > 700);
    assert_eq!(one, three);
    // Sorted by time, one event per group within the dead time.
    assert!(one.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(one.windows(2).all(|w| w[1].0 - w[0].0 >= 30));
    // Every snippet holds the group's 4 channels, with the peak values among its rows.
    assert!(one.iter().all(|e| e.3.len() == 4 && e.4.len() % 4 == 0 && e.4.chunks(4).any(|r| r == e.3.as_slice())));
}
