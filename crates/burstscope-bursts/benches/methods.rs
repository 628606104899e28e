//! 1 M spikes per method: a bursting train (bursts of 3–8 spikes at 5 ms
//! within 0.2–2 s of Poisson-like background), deterministic.

use burstscope_bursts::{METHOD_NAMES, Method, detect};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn train(n: usize) -> Vec<f64> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut u = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut t = Vec::with_capacity(n);
    let mut now = 0.0;
    while t.len() < n {
        now += 0.2 - 0.5 * (1.0 - u()).ln();
        if u() < 0.4 {
            let k = 3 + (u() * 6.0) as usize;
            for i in 0..k {
                t.push(now + 0.005 * i as f64 + 0.001 * u());
            }
            now += 0.05;
        } else {
            t.push(now);
        }
    }
    t.truncate(n);
    t
}

fn methods(c: &mut Criterion) {
    let t = train(1_000_000);
    let mut g = c.benchmark_group("bursts_1M_spikes");
    g.sample_size(10);
    for name in METHOD_NAMES {
        let m = Method::from_name(name).expect("known method");
        g.bench_function(name, |b| b.iter(|| detect(black_box(&t), &m).expect("valid train")));
    }
    g.finish();
}

criterion_group!(benches, methods);
criterion_main!(benches);
