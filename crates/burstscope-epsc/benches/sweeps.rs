//! 1,000 generated sweeps (10 kHz, 0.8 s) measured end to end: stimulus
//! detection, test pulse, peak, rise, both decay fits, charge.

use burstscope_epsc::{SweepParams, command_levels, find_stimulus, measure_sweep};
use burstscope_synth::{SliceCell, SliceParams};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn sweeps(c: &mut Criterion) {
    let mut data = Vec::new();
    for seed in 0..17 {
        let cell = SliceCell::new(SliceParams { seed, ..SliceParams::default() }).expect("cell");
        for s in cell.sweeps {
            let i: Vec<f64> = s.response_a.iter().map(|&v| f64::from(v) * 1e12).collect();
            let v: Vec<f64> = s.command_v.iter().map(|&v| f64::from(v) * 1e3).collect();
            data.push((i, v));
        }
    }
    data.truncate(1000);
    let p = SweepParams::default();
    let mut g = c.benchmark_group("epsc");
    g.sample_size(10);
    g.bench_function("1000_sweeps", |b| {
        b.iter(|| {
            for (i, v) in &data {
                let (hold, tp) = command_levels(v, 10_000.0);
                let stim = find_stimulus(i, 10_000.0, tp.as_ref()).expect("stimulus");
                black_box(measure_sweep(i, 10_000.0, stim, tp.as_ref(), Some(hold), &p).expect("measure"));
            }
        });
    });
    g.finish();
}

criterion_group!(benches, sweeps);
criterion_main!(benches);
