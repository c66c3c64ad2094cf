//! observe + decide per tick, with windows of 10 and 100,000 samples.
//!
//! Run: `cargo bench -p scaler-benches --bench core`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scaler_benches::{observation, warm_scaler};
use scaler_core::TimeMs;

fn observe_decide(c: &mut Criterion) {
    let mut g = c.benchmark_group("observe_decide");
    g.throughput(Throughput::Elements(1));
    for samples in [10u64, 100_000] {
        g.bench_with_input(BenchmarkId::from_parameter(samples), &samples, |b, &samples| {
            let (mut s, mut t, mut rng) = warm_scaler(samples);
            b.iter(|| {
                let o = observation(t, &mut rng);
                s.observe(o).expect("in order");
                let d = s.decide(TimeMs(t)).expect("clock");
                if d.is_scaling() {
                    s.record_scaled(TimeMs(t));
                }
                t += 1;
                std::hint::black_box(d)
            });
            assert!(s.window().len() as u64 <= samples);
        });
    }
    g.finish();
}

criterion_group!(benches, observe_decide);
criterion_main!(benches);
