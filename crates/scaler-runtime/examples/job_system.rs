//! A real in-process job system driven by the `AutoScaler`.
//!
//! A queue is fed from a task trace on a scaled clock (60x by default: a minute of
//! trace per second), workers are tokio tasks that take jobs and sleep for their
//! duration, and a cloud manager starts and stops those worker tasks. The
//! `AutoScaler` drives it, a line is printed per tick, every observation is
//! recorded, and at the end the recording is replayed through `scaler-sim replay`'s
//! library to show it reproduces the live decisions.
//!
//! ```sh
//! cargo run --release -p scaler-runtime --example job_system -- \
//!     --trace traces/bursty_onoff_2h_tasks.csv --speed 60 --out out/job_system
//! scaler-sim replay --config out/job_system/scaler.toml --observations out/job_system/observations.csv
//! ```

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scaler_core::{DurationMs, ScalerConfig};
use scaler_formats::scenario::{Spread, TraceSpec};
use scaler_model::TaskSource;
use scaler_runtime::{
    AutoScaler, BoxError, CloudManager, RuntimeConfig, TaskDistributor, TaskStats, WorkerCounts, WorkerRegistry,
};
use tokio::sync::Notify;
use tokio::time::Instant;

struct Job {
    arrived: Instant,
    run_for: Duration,
}

struct Worker {
    stop: Arc<AtomicBool>,
    busy: Arc<AtomicBool>,
}

/// The job system: a FIFO queue and a pool of worker tasks.
struct Jobs {
    queue: Mutex<VecDeque<Job>>,
    notify: Notify,
    workers: Mutex<Vec<Worker>>,
    /// Completions `(when, duration)` for the mean duration over the metrics window.
    completed: Mutex<VecDeque<(Instant, Duration)>>,
    window: Duration,
    done: AtomicU64,
    wait_ms_total: AtomicU64,
}

impl Jobs {
    fn spawn_worker(self: &Arc<Self>) {
        let stop = Arc::new(AtomicBool::new(false));
        let busy = Arc::new(AtomicBool::new(false));
        self.workers.lock().unwrap().push(Worker { stop: stop.clone(), busy: busy.clone() });
        let jobs = Arc::clone(self);
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let job = jobs.queue.lock().unwrap().pop_front();
                let Some(job) = job else {
                    // Wait for work (or re-check the stop flag now and then).
                    let _ = tokio::time::timeout(Duration::from_millis(50), jobs.notify.notified()).await;
                    continue;
                };
                busy.store(true, Ordering::SeqCst);
                let waited = job.arrived.elapsed();
                tokio::time::sleep(job.run_for).await;
                busy.store(false, Ordering::SeqCst);
                jobs.done.fetch_add(1, Ordering::SeqCst);
                jobs.wait_ms_total.fetch_add(u64::try_from(waited.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
                jobs.completed.lock().unwrap().push_back((Instant::now(), job.run_for));
            }
        });
    }
}

impl WorkerRegistry for Jobs {
    async fn workers(&self) -> Result<WorkerCounts, BoxError> {
        let w = self.workers.lock().unwrap();
        let live: Vec<&Worker> = w.iter().filter(|w| !w.stop.load(Ordering::SeqCst)).collect();
        let busy = live.iter().filter(|w| w.busy.load(Ordering::SeqCst)).count();
        // Workers start at once here (no provisioning), and each runs one job at a time.
        Ok(WorkerCounts { ready: live.len() as f64, provisioning: 0.0, busy_slots: busy as f64, slots_per_worker: 1.0 })
    }
}

impl TaskDistributor for Jobs {
    async fn tasks(&self) -> Result<TaskStats, BoxError> {
        let pending = self.queue.lock().unwrap().len();
        let running = self.workers.lock().unwrap().iter().filter(|w| w.busy.load(Ordering::SeqCst)).count();
        let mut c = self.completed.lock().unwrap();
        while c.front().is_some_and(|(t, _)| t.elapsed() >= self.window) {
            c.pop_front();
        }
        let avg = if c.is_empty() { 0.0 } else { c.iter().map(|(_, d)| d.as_secs_f64()).sum::<f64>() / c.len() as f64 };
        Ok(TaskStats { pending: pending as f64, running: running as f64, avg_task_duration_s: avg })
    }
}

/// Starts or stops worker tasks (stopped workers finish their job first).
struct Cloud(Arc<Jobs>);

impl CloudManager for Cloud {
    async fn set_workers(&self, target: u32) -> Result<(), BoxError> {
        let live = self.0.workers.lock().unwrap().iter().filter(|w| !w.stop.load(Ordering::SeqCst)).count();
        let target = target as usize;
        if target > live {
            for _ in live..target {
                self.0.spawn_worker();
            }
        } else {
            let mut w = self.0.workers.lock().unwrap();
            // Idle workers first, newest first; then busy ones (they drain).
            let mut to_stop = live - target;
            for pass_busy in [false, true] {
                for worker in w.iter().rev() {
                    if to_stop == 0 {
                        break;
                    }
                    if !worker.stop.load(Ordering::SeqCst) && worker.busy.load(Ordering::SeqCst) == pass_busy {
                        worker.stop.store(true, Ordering::SeqCst);
                        to_stop -= 1;
                    }
                }
            }
            w.retain(|x| !x.stop.load(Ordering::SeqCst) || x.busy.load(Ordering::SeqCst));
        }
        Ok(())
    }
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.to_string())
}

/// Trace seconds to real time at `speed`.
fn scaled(trace_ms: u64, speed: f64) -> Duration {
    Duration::from_secs_f64(trace_ms as f64 / 1000.0 / speed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let trace = PathBuf::from(arg("--trace", "traces/bursty_onoff_2h_tasks.csv"));
    let speed: f64 = arg("--speed", "60").parse()?;
    let limit: usize = arg("--limit", "1000000").parse()?;
    let out = PathBuf::from(arg("--out", "out/job_system"));
    std::fs::create_dir_all(&out)?;
    let spec = TraceSpec {
        path: trace.clone(),
        format: None,
        spread: Spread::Even,
        duration: None,
        resample: Default::default(),
    };
    let mut src = scaler_formats::trace::open(&spec, 0)?;
    let mut tasks = Vec::new();
    while let Some(t) = src.next_task()? {
        if tasks.len() >= limit {
            break;
        }
        tasks.push(t);
    }
    // The scaler works in real time: trace-time settings divided by the speed-up.
    let real = |trace_s: u64| DurationMs((trace_s as f64 * 1000.0 / speed).round().max(1.0) as u64);
    let scaler_cfg = ScalerConfig::builder()
        .min_workers(2)
        .max_workers(60)
        .evaluation_interval(real(60))
        .metrics_window(real(180))
        .cooldown_period(real(120))
        .build()?;
    let obs_path = out.join("observations.csv");
    let _ = std::fs::remove_file(&obs_path);
    let cfg_path = out.join("scaler.toml");
    let pairs: String = scaler_cfg.to_pairs().iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    std::fs::write(
        &cfg_path,
        format!("# Real-time settings of the job_system example ({speed}x).\n[scaler]\n{pairs}"),
    )?;

    let jobs = Arc::new(Jobs {
        queue: Mutex::new(VecDeque::new()),
        notify: Notify::new(),
        workers: Mutex::new(Vec::new()),
        completed: Mutex::new(VecDeque::new()),
        window: Duration::from_millis(scaler_cfg.metrics_window().as_ms()),
        done: AtomicU64::new(0),
        wait_ms_total: AtomicU64::new(0),
    });
    for _ in 0..scaler_cfg.min_workers() {
        jobs.spawn_worker();
    }
    let interval = Duration::from_millis(scaler_cfg.evaluation_interval().as_ms());
    let scaler = AutoScaler::new(
        Arc::clone(&jobs),
        Arc::clone(&jobs),
        Arc::new(Cloud(Arc::clone(&jobs))),
        RuntimeConfig::new(scaler_cfg.clone()).record_observations(&obs_path).call_timeout(interval),
    );
    println!("{} jobs from {} at {speed}x; a tick every {:?} of real time", tasks.len(), trace.display(), interval);
    let start = Instant::now();
    scaler.start_monitoring().await;
    // Feed the queue on the scaled clock.
    let feeder = {
        let jobs = Arc::clone(&jobs);
        let tasks = tasks.clone();
        tokio::spawn(async move {
            for t in tasks {
                tokio::time::sleep_until(start + scaled(t.arrival_ms, speed)).await;
                jobs.queue
                    .lock()
                    .unwrap()
                    .push_back(Job { arrived: Instant::now(), run_for: scaled(t.duration_ms, speed) });
                jobs.notify.notify_one();
            }
        })
    };
    // A live line per tick until every job is done.
    let total = tasks.len() as u64;
    let mut last_ticks = 0;
    while jobs.done.load(Ordering::SeqCst) < total {
        tokio::time::sleep(interval / 4).await;
        let m = scaler.get_scaling_metrics();
        if m.ticks != last_ticks {
            last_ticks = m.ticks;
            let trace_min = start.elapsed().as_secs_f64() * speed / 60.0;
            let d = m
                .last_decision
                .as_ref()
                .map_or_else(String::new, |d| format!("{} -> {} ({})", d.action, d.target_workers, d.reason));
            println!(
                "t={trace_min:6.1} min  workers {:3}  util {:4.2}  pending {:4}  done {:6}/{total}  {d}",
                m.current_workers,
                m.worker_utilization,
                m.pending_tasks,
                jobs.done.load(Ordering::SeqCst)
            );
        }
    }
    feeder.await?;
    scaler.stop_monitoring().await;
    let m = scaler.get_scaling_metrics();
    let mean_wait_trace_s = jobs.wait_ms_total.load(Ordering::SeqCst) as f64 / total.max(1) as f64 / 1000.0 * speed;
    println!(
        "done: {total} jobs, mean wait {mean_wait_trace_s:.1} s of trace time, {} scalings, {} failures",
        m.scalings, m.scaling_failures
    );

    // Replay the recording through scaler-sim's replay and compare with the live decisions.
    let config = scaler_formats::scenario::read_scaler_config(&cfg_path)?;
    let mut replayed = Vec::new();
    scaler_formats::replay::replay(&config, &obs_path, &mut replayed, Path::new("-"), false)?;
    let mut live = scaler_formats::replay::DECISIONS_HEADER.as_bytes().to_vec();
    for d in scaler.recent_decisions() {
        scaler_formats::replay::push_decision(&mut live, &d);
    }
    let same = replayed == live;
    println!(
        "recorded {} observations to {}; replay {} the live decisions",
        scaler.recent_decisions().len(),
        obs_path.display(),
        if same { "reproduces" } else { "DIFFERS FROM" }
    );
    println!("replay them under other thresholds with:");
    println!("  scaler-sim replay --config {} --observations {}", cfg_path.display(), obs_path.display());
    if !same {
        return Err("the replay did not reproduce the live decisions".into());
    }
    Ok(())
}
