//! The simulator engine alone (trace already in memory) on a one-day synthetic trace.
//!
//! Run: `cargo bench -p scaler-benches --bench sim`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scaler_benches::one_day_trace;
use scaler_core::{DurationMs, ScalerConfig};
use scaler_model::Cluster;
use scaler_model::VecSource;
use scaler_model::{simulate, ModelError, SimParams};

fn engine_one_day(c: &mut Criterion) {
    // About 864,000 tasks; about 50 busy workers on average.
    let tasks = one_day_trace(10.0, 5.0, 1);
    let scaler = ScalerConfig::builder()
        .min_workers(5)
        .max_workers(200)
        .cooldown_period(DurationMs::from_secs(120))
        .metrics_window(DurationMs::from_secs(120))
        .evaluation_interval(DurationMs::from_secs(30))
        .build()
        .expect("valid");
    let cluster = Cluster {
        initial_workers: 20,
        slots_per_worker: 1,
        provision_delay: DurationMs::from_secs(30),
        price_per_worker_hour: 0.1,
        billing_increment: DurationMs(1000),
        billing_minimum: DurationMs::from_secs(60),
        slo_wait: DurationMs::from_secs(10),
        ephemeral_workers: false,
        spot: None,
        warm_pool: None,
        warmup: DurationMs::ZERO,
    };
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.throughput(Throughput::Elements(tasks.len() as u64));
    g.bench_function("one_day_864k_tasks", |b| {
        b.iter(|| {
            let mut src = VecSource::new(tasks.clone());
            let params =
                SimParams { cluster: cluster.clone(), scaler: scaler.clone(), faults: Default::default(), seed: 1 };
            let s = simulate(params, &mut src, |_| Ok::<(), ModelError>(())).expect("runs");
            assert_eq!(s.tasks as usize, tasks.len());
            std::hint::black_box(s)
        });
    });
    g.finish();
}

criterion_group!(benches, engine_one_day);
criterion_main!(benches);
