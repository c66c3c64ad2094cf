//! `[trace] resample`: a task trace resampled per seed, deterministic from the seed,
//! different across seeds, its arrivals sorted; jitter keeps every task (moved inside its
//! bin), a block bootstrap draws whole blocks of the trace.

use std::sync::Arc;

use scaler_model::trace::{BlockBootstrap, Jitter, LoadedTrace, Resample};
use scaler_model::{Task, TaskSource, VecSource};

fn drain(mut s: impl TaskSource<Error = std::convert::Infallible>) -> Vec<Task> {
    let mut v = Vec::new();
    while let Some(t) = s.next_task().unwrap_or_else(|e| match e {}) {
        v.push(t);
    }
    v
}

/// A trace recorded to the second: bins of 1 to 4 tasks, some seconds empty, distinct durations.
fn seconds_trace() -> Vec<Task> {
    let mut v = Vec::new();
    let mut x: u64 = 7;
    for sec in 0..2000u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        for _ in 0..(x >> 62) {
            v.push(Task { arrival_ms: sec * 1000, duration_ms: 1 + v.len() as u64 });
        }
    }
    v
}

fn sorted(v: &[Task]) -> bool {
    v.windows(2).all(|w| w[0].arrival_ms <= w[1].arrival_ms)
}

#[test]
fn jitter_keeps_every_task_in_its_bin_in_order_and_depends_only_on_the_seed() {
    let tasks = seconds_trace();
    let shared: Arc<[Task]> = tasks.clone().into();
    let loaded = LoadedTrace::Tasks(Arc::clone(&shared), Resample::Jitter { resolution_ms: 1000 });
    let a = drain(loaded.source(1));
    assert_eq!(a, drain(loaded.source(1)), "the same seed gives the same trace");
    let b = drain(loaded.source(2));
    assert_ne!(a, b, "another seed moves the arrivals");
    for out in [&a, &b] {
        assert_eq!(out.len(), tasks.len(), "jitter keeps the task count");
        assert!(sorted(out), "arrivals stay non-decreasing");
        for (o, t) in out.iter().zip(&tasks) {
            assert_eq!(o.duration_ms, t.duration_ms, "tasks keep their order and durations");
            assert_eq!(o.arrival_ms / 1000, t.arrival_ms / 1000, "{o:?} left the second of {t:?}");
        }
    }
    // The arrivals are spread over the bin, not left at its start.
    let moved = a.iter().zip(&tasks).filter(|(o, t)| o.arrival_ms != t.arrival_ms).count();
    assert!(moved > tasks.len() * 9 / 10, "only {moved} of {} moved", tasks.len());
    let mean_offset = a.iter().map(|t| t.arrival_ms % 1000).sum::<u64>() as f64 / a.len() as f64;
    assert!((400.0..600.0).contains(&mean_offset), "mean offset {mean_offset} ms, about 500 expected");
    // Streaming over any source gives the same as over the shared tasks.
    assert_eq!(drain(Jitter::new(VecSource::new(tasks.clone()), 1000, 1)), a);
}

#[test]
fn jitter_of_arrivals_off_the_grid_keeps_them_in_their_bin_and_sorted() {
    // Arrivals at 0.3 s, 0.9 s, 1.2 s, 5 s, 5 s, 5.999 s with 2 s bins: bins [0, 2) and [4, 6).
    let tasks: Vec<Task> = [300, 900, 1200, 5000, 5000, 5999]
        .iter()
        .enumerate()
        .map(|(i, &a)| Task { arrival_ms: a, duration_ms: i as u64 })
        .collect();
    for seed in 0..200 {
        let out = drain(Jitter::new(VecSource::new(tasks.clone()), 2000, seed));
        assert_eq!(out.len(), 6);
        assert!(sorted(&out), "seed {seed}: {out:?}");
        assert!(out[..3].iter().all(|t| t.arrival_ms < 2000), "seed {seed}: {out:?}");
        assert!(out[3..].iter().all(|t| (4000..6000).contains(&t.arrival_ms)), "seed {seed}: {out:?}");
        assert_eq!(out.iter().map(|t| t.duration_ms).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    }
}

/// Blocks of 10 s starting at 30 s (block 3): block `k` holds `k + 1` tasks, whose durations
/// name the block (`1000 * k + j`), at offsets `j` s.
fn block_trace() -> Vec<Task> {
    let mut v = Vec::new();
    for k in 3..15u64 {
        for j in 0..=k.min(9) {
            v.push(Task { arrival_ms: k * 10_000 + j * 1000, duration_ms: 1000 * k + j });
        }
    }
    v
}

#[test]
fn a_block_bootstrap_is_made_of_whole_blocks_of_the_trace_shifted_into_place() {
    let tasks = block_trace();
    let shared: Arc<[Task]> = tasks.clone().into();
    let loaded = LoadedTrace::Tasks(Arc::clone(&shared), Resample::BlockBootstrap { block_ms: 10_000 });
    let a = drain(loaded.source(5));
    assert_eq!(a, drain(loaded.source(5)), "the same seed gives the same trace");
    assert_ne!(a, drain(loaded.source(6)), "another seed draws other blocks");
    let first = tasks[0].arrival_ms;
    let end = tasks.last().unwrap().arrival_ms + 1;
    let mut counts = Vec::new();
    for seed in 0..50 {
        let out = drain(loaded.source(seed));
        assert!(sorted(&out), "seed {seed}: arrivals stay non-decreasing");
        assert!(out.iter().all(|t| (30_000..end).contains(&t.arrival_ms)), "seed {seed}: within the span");
        // Every output block is one source block, whole, at the same offsets.
        for slot in 3..15u64 {
            let in_slot: Vec<&Task> = out.iter().filter(|t| t.arrival_ms / 10_000 == slot).collect();
            let Some(t0) = in_slot.first() else { panic!("seed {seed}: block {slot} is empty") };
            let k = t0.duration_ms / 1000;
            let want: Vec<Task> = tasks
                .iter()
                .filter(|t| t.arrival_ms / 10_000 == k)
                .map(|t| Task { arrival_ms: t.arrival_ms - k * 10_000 + slot * 10_000, duration_ms: t.duration_ms })
                .filter(|t| t.arrival_ms < end)
                .collect();
            assert_eq!(in_slot.into_iter().copied().collect::<Vec<_>>(), want, "seed {seed}, block {slot}");
        }
        counts.push(out.len());
    }
    // The count varies with the blocks drawn, around the trace's.
    let mean = counts.iter().sum::<usize>() as f64 / counts.len() as f64;
    assert!(counts.iter().any(|&c| c != counts[0]), "{counts:?}");
    let n = tasks.len() as f64;
    assert!((0.8 * n..1.2 * n).contains(&mean), "mean count {mean} against {n}");
    assert_eq!(BlockBootstrap::new(shared, 10_000, 0).blocks(), 12);
    assert_eq!(first, 30_000);
}

#[test]
fn without_resampling_every_seed_replays_the_trace_as_recorded() {
    let tasks = seconds_trace();
    let loaded = LoadedTrace::Tasks(tasks.clone().into(), Resample::None);
    assert!(!loaded.seed_changes_workload());
    for seed in [0, 1, 42] {
        assert_eq!(drain(loaded.source(seed)), tasks);
    }
    assert!(LoadedTrace::Tasks(tasks.into(), Resample::Jitter { resolution_ms: 1 }).seed_changes_workload());
}

#[test]
fn an_empty_trace_resamples_to_nothing() {
    let empty: Arc<[Task]> = Vec::new().into();
    assert!(drain(BlockBootstrap::new(Arc::clone(&empty), 1000, 3)).is_empty());
    assert!(drain(Jitter::new(VecSource::shared(empty), 1000, 3)).is_empty());
}

#[test]
fn a_long_jittered_stream_stays_sorted_holding_one_bin() {
    // 2 million tasks from a generator (never in memory at once), 1 to 3 a second.
    struct Gen(u64, u64);
    impl TaskSource for Gen {
        type Error = std::convert::Infallible;
        fn next_task(&mut self) -> Result<Option<Task>, Self::Error> {
            if self.0 == 2_000_000 {
                return Ok(None);
            }
            self.0 += 1;
            self.1 += (self.0 % 3) * 500;
            Ok(Some(Task { arrival_ms: self.1 / 1000 * 1000, duration_ms: 1 }))
        }
    }
    let mut j = Jitter::new(Gen(0, 0), 1000, 9);
    let (mut n, mut last) = (0u64, 0u64);
    while let Some(t) = j.next_task().unwrap_or_else(|e| match e {}) {
        assert!(t.arrival_ms >= last);
        last = t.arrival_ms;
        n += 1;
    }
    assert_eq!(n, 2_000_000);
}
