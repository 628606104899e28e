//! Kernel benchmarks: `cargo bench -p burstscope-spikes`.
//!
//! - `filtfilt/32ch`: zero-phase band-pass (300–6000 Hz, order 5) of one
//!   32 768-sample block of 32 channels (4 lane vectors per row).
//! - `detect_block/32ch`: a whole block of the detection pipeline on an
//!   in-memory source (read, filter, reduce, scan, select, snippets).
//! - `noise/32ch`: the noise estimate before detection (20 half-second
//!   chunks of 32 channels: read, filter, median and MAD per channel).

use burstscope_core::ArraySource;
use burstscope_dsp::{Band, LANES, ZeroPhase, butter};
use burstscope_spikes::{ChannelGroup, DetectParams, Plan};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn session(seconds: f64) -> (ArraySource, Vec<ChannelGroup>) {
    let p = burstscope_synth::TetrodeParams { n_tetrodes: 8, duration_s: seconds, ..Default::default() };
    let s = burstscope_synth::TetrodeSession::new(p).unwrap();
    let conv = s.params.conversion_v as f32 * 1e6;
    let data: Vec<f32> = s.render_blocks(0..s.n_blocks()).concat().iter().map(|&v| f32::from(v) * conv).collect();
    let groups =
        (0..8).map(|t| ChannelGroup { name: format!("tetrode{t}"), channels: (t * 4..t * 4 + 4).collect() }).collect();
    (ArraySource { data, n_channels: 32, rate_hz: 30_000.0 }, groups)
}

fn kernels(c: &mut Criterion) {
    let sos = butter(5, Band::Bandpass(300.0, 6000.0), 30_000.0).unwrap();
    let zp = ZeroPhase::new(&sos);
    let n = 32_768;
    let mut rows = vec![[[0f32; LANES]; 4]; n];
    for (i, r) in rows.iter_mut().enumerate() {
        for g in 0..4 {
            for l in 0..LANES {
                r[g][l] = ((i * 7 + g * 13 + l) % 97) as f32 - 48.0;
            }
        }
    }
    let mut group = c.benchmark_group("filtfilt");
    group.throughput(Throughput::Elements((n * 32) as u64));
    group.bench_function("32ch", |b| {
        b.iter(|| {
            let mut x = rows.clone();
            zp.filtfilt::<4>(black_box(&mut x));
            x
        })
    });
    group.finish();

    let (src, groups) = session(4.0);
    let plan = Plan::new(&DetectParams::default(), 30_000.0, src.data.len() / 32, 32, &groups, 1.0).unwrap();
    let noise = plan.noise(&src).unwrap();
    let (long, long_groups) = session(12.0);
    let long_plan = Plan::new(&DetectParams::default(), 30_000.0, long.data.len() / 32, 32, &long_groups, 1.0).unwrap();
    let mut group = c.benchmark_group("noise");
    group.throughput(Throughput::Elements(20 * 15_000 * 32));
    group.bench_function("32ch", |b| b.iter(|| long_plan.noise(black_box(&long)).unwrap()));
    group.finish();
    let mut group = c.benchmark_group("detect_block");
    group.throughput(Throughput::Elements(32_768 * 32));
    group.bench_function("32ch", |b| b.iter(|| plan.detect_block(&src, &noise, black_box(1)).unwrap()));
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
