//! One step (observe + decide + outcome) per tick, with windows of 10 and 100,000 samples of
//! decimal utilization (one denominator), and with pool observations whose exact ratios have
//! up to 50 distinct denominators in the window.
//!
//! Run: `cargo bench -p scaler-benches --bench core`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scaler_benches::{observation, pool_observation, warm_scaler};
use scaler_core::{Outcome, TimeMs};

/// One step of the core with its outcome reported, as every driver does it.
fn step(s: &mut scaler_core::Scaler, t: u64, o: scaler_core::Observation) -> scaler_core::Decision {
    let tick = s.tick(TimeMs(t), Some(o)).expect("in order");
    if let Some(ticket) = tick.ticket {
        s.outcome(ticket, Outcome::Applied).expect("pending");
    }
    tick.decision
}

fn observe_decide(c: &mut Criterion) {
    let mut g = c.benchmark_group("observe_decide");
    g.throughput(Throughput::Elements(1));
    for samples in [10u64, 100_000] {
        g.bench_with_input(BenchmarkId::from_parameter(samples), &samples, |b, &samples| {
            let (mut s, mut t, mut rng) = warm_scaler(samples);
            b.iter(|| {
                let d = step(&mut s, t, observation(t, &mut rng));
                t += 1;
                std::hint::black_box(d)
            });
            assert!(s.window().len() as u64 <= samples);
        });
    }
    g.finish();
}

fn observe_decide_pool(c: &mut Criterion) {
    let mut g = c.benchmark_group("observe_decide_pool");
    g.throughput(Throughput::Elements(1));
    for samples in [10u64, 100] {
        g.bench_with_input(BenchmarkId::from_parameter(samples), &samples, |b, &samples| {
            let (mut s, mut t, mut rng) = warm_scaler(samples);
            b.iter(|| {
                let d = step(&mut s, t, pool_observation(t, &mut rng));
                t += 1;
                std::hint::black_box(d)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, observe_decide, observe_decide_pool);
criterion_main!(benches);
