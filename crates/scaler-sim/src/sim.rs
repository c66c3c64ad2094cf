//! The closed-loop simulator (SPEC section 6): a discrete-event model of a
//! worker pool, with `scaler-core` deciding at every tick.
//!
//! Time jumps from event to event (provisioning ends, task completions,
//! arrivals, ticks); nothing steps through idle time. Per task the work is a
//! heap push and pop (O(log running tasks)) and a lowest-free-worker lookup in
//! a two-level bitset (O(workers / 4096)), so a run costs O(tasks log workers)
//! plus O(ticks x live workers) for the per-tick cost column.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use scaler_core::{Action, Decision, DurationMs, Fixed9, Observation, Scaler, ScalerConfig, TimeMs};

use crate::error::SimError;
use crate::scenario::Cluster;
use crate::trace::{Task, TaskSource};

/// Everything the simulator needs besides the trace.
#[derive(Clone, Debug)]
pub struct SimParams {
    /// The pool.
    pub cluster: Cluster,
    /// The scaler.
    pub scaler: ScalerConfig,
    /// Injected faults (all off by default).
    pub faults: Faults,
    /// The run's seed (the faults' random streams derive from it).
    pub seed: u64,
}

/// Faults injected into a run (`[faults]`); each draws from its own random stream, so
/// turning one on changes neither the arrivals nor the other faults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Probability that a requested worker never becomes ready (it fails when it would have).
    pub provision_failure: f64,
    /// Provisioning delays are multiplied by a log-normal factor with this sigma (a long tail).
    pub provision_jitter: f64,
    /// Crashes per ready worker-hour; a crash sends the worker's running tasks back to the
    /// head of the queue, to run again.
    pub crash_rate_per_hour: f64,
    /// Probability that a tick's observation is lost (the window simply lacks it).
    pub missing_observation: f64,
    /// Probability that a tick's observation carries the previous tick's values.
    pub stale_metrics: f64,
    /// Probability that a scaling call fails (nothing changes, no cooldown starts).
    pub scaling_failure: f64,
}

impl Faults {
    /// True when any fault is on.
    #[must_use]
    pub fn any(&self) -> bool {
        self.provision_failure > 0.0
            || self.provision_jitter > 0.0
            || self.crash_rate_per_hour > 0.0
            || self.missing_observation > 0.0
            || self.stale_metrics > 0.0
            || self.scaling_failure > 0.0
    }

    /// Rates drawn from the seed (swarm testing): each fault on or off, at a random rate.
    #[must_use]
    pub fn swarm(seed: u64) -> Faults {
        use rand::RngExt;
        let mut r = crate::trace::stream_rng(seed, crate::trace::streams::SWARM);
        let mut pick = |max: f64| if r.random::<f64>() < 0.6 { r.random::<f64>() * max } else { 0.0 };
        Faults {
            provision_failure: pick(0.4),
            provision_jitter: pick(1.5),
            crash_rate_per_hour: pick(3.0),
            missing_observation: pick(0.4),
            stale_metrics: pick(0.4),
            scaling_failure: pick(0.5),
        }
    }
}

/// One row of the timeline: the tick's decision and the state at the end of that instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TickRow {
    /// The tick's time.
    pub time: TimeMs,
    /// Provisioning plus ready workers.
    pub current_workers: u32,
    /// Ready workers.
    pub ready: u32,
    /// Provisioning workers.
    pub provisioning: u32,
    /// Draining workers.
    pub draining: u32,
    /// Queued tasks.
    pub pending_tasks: u64,
    /// Running tasks (draining workers included).
    pub running_tasks: u64,
    /// Busy slots of ready workers / their slots (SPEC 6.4), after the decision was applied.
    pub worker_utilization: Fixed9,
    /// The tick's decision.
    pub decision: Decision,
    /// The observation the decision was made on.
    pub observation: Observation,
    /// False when the fault injector dropped this tick's observation.
    pub observed: bool,
    /// Billed so far, counting live workers as if terminated now.
    pub cost: f64,
}

/// The run's results (SPEC section 5, summary).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Tasks in the trace (all completed).
    pub tasks: u64,
    /// Mean wait, s.
    pub wait_mean_s: f64,
    /// Median wait (nearest rank), s.
    pub wait_p50_s: f64,
    /// 95th percentile wait (nearest rank), s.
    pub wait_p95_s: f64,
    /// 99th percentile wait (nearest rank), s.
    pub wait_p99_s: f64,
    /// Longest wait, s.
    pub wait_max_s: f64,
    /// Share of tasks that waited longer than `slo_wait_s`.
    pub slo_violation_ratio: f64,
    /// Billed worker time times the price.
    pub cost: f64,
    /// Sum of worker lives, unrounded, s.
    pub worker_seconds: f64,
    /// Sum of billed worker lives (rounded up, minimum applied), s. (Extension.)
    pub billed_worker_seconds: f64,
    /// Ticks whose action was `scale_up`.
    pub scale_ups: u64,
    /// Ticks whose action was `scale_down`.
    pub scale_downs: u64,
    /// Time-weighted mean of `current_workers` over `[0, end_time_s]`.
    pub mean_workers: f64,
    /// Maximum of `current_workers`.
    pub max_workers: u32,
    /// The later of the last arrival and the last completion.
    pub end_time_s: f64,
    /// Ticks evaluated. (Extension.)
    pub ticks: u64,
    /// Workers requested over the run, initial ones included. (Extension.)
    pub workers_requested: u64,
    /// Tasks that waited longer than `slo_wait_s`. (Extension.)
    pub slo_violations: u64,
    /// Time-weighted mean of the queue length over `[0, end_time_s]`. (Extension.)
    pub mean_queue_length: f64,
    /// Task runs lost to worker crashes and run again. (Extension, faults.)
    pub retries: u64,
    /// Worker crashes. (Extension, faults.)
    pub crashes: u64,
    /// Requested workers that never became ready. (Extension, faults.)
    pub provision_failures: u64,
    /// Ticks whose observation was lost. (Extension, faults.)
    pub missing_observations: u64,
    /// Ticks that observed stale metrics. (Extension, faults.)
    pub stale_observations: u64,
    /// Scaling decisions whose call failed. (Extension, faults.)
    pub scaling_failures: u64,
}

/// Every summary metric, in the order `summary.json` and `results.csv` write them.
pub const METRICS: &[&str] = &[
    "tasks",
    "wait_mean_s",
    "wait_p50_s",
    "wait_p95_s",
    "wait_p99_s",
    "wait_max_s",
    "slo_violation_ratio",
    "cost",
    "worker_seconds",
    "billed_worker_seconds",
    "scale_ups",
    "scale_downs",
    "mean_workers",
    "max_workers",
    "end_time_s",
    "ticks",
    "workers_requested",
    "slo_violations",
    "mean_queue_length",
];

impl Summary {
    /// The metrics as numbers, in [`METRICS`] order.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn values(&self) -> Vec<f64> {
        vec![
            self.tasks as f64,
            self.wait_mean_s,
            self.wait_p50_s,
            self.wait_p95_s,
            self.wait_p99_s,
            self.wait_max_s,
            self.slo_violation_ratio,
            self.cost,
            self.worker_seconds,
            self.billed_worker_seconds,
            self.scale_ups as f64,
            self.scale_downs as f64,
            self.mean_workers,
            f64::from(self.max_workers),
            self.end_time_s,
            self.ticks as f64,
            self.workers_requested as f64,
            self.slo_violations as f64,
            self.mean_queue_length,
        ]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WState {
    Provisioning,
    Ready,
    Draining,
    Gone,
}

#[derive(Clone, Copy, Debug)]
struct Worker {
    state: WState,
    busy: u32,
    requested_ms: u64,
    /// Bumped when the worker crashes: running-task entries of an older generation are void.
    generation: u32,
}

/// Ready workers with a free slot, by id; the lowest id is found by scanning a
/// summary word per 4,096 workers.
#[derive(Clone, Debug, Default)]
struct FreeSet {
    words: Vec<u64>,
    summary: Vec<u64>,
}

impl FreeSet {
    fn insert(&mut self, id: u32) {
        let w = id as usize / 64;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
            self.summary.resize(w / 64 + 1, 0);
        }
        self.words[w] |= 1 << (id % 64);
        self.summary[w / 64] |= 1 << (w % 64);
    }

    fn remove(&mut self, id: u32) {
        let w = id as usize / 64;
        if let Some(word) = self.words.get_mut(w) {
            *word &= !(1 << (id % 64));
            if *word == 0 {
                self.summary[w / 64] &= !(1 << (w % 64));
            }
        }
    }

    fn first(&self) -> Option<u32> {
        for (si, &s) in self.summary.iter().enumerate() {
            if s != 0 {
                let w = si * 64 + s.trailing_zeros() as usize;
                let bit = self.words[w].trailing_zeros() as usize;
                return u32::try_from(w * 64 + bit).ok();
            }
        }
        None
    }
}

/// Every wait, for exact nearest-rank percentiles (4 bytes a task while waits fit).
#[derive(Clone, Debug)]
enum Waits {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Waits {
    fn push(&mut self, w: u64) {
        match self {
            Waits::Narrow(v) => match u32::try_from(w) {
                Ok(x) => v.push(x),
                Err(_) => {
                    let mut wide: Vec<u64> = v.iter().map(|&x| u64::from(x)).collect();
                    wide.push(w);
                    *self = Waits::Wide(wide);
                }
            },
            Waits::Wide(v) => v.push(w),
        }
    }

    /// The `ceil(q_num / q_den * n)`-th smallest wait (1-based), 0 with no waits.
    fn nearest_rank(&mut self, q_num: u64, q_den: u64) -> u64 {
        let n = match self {
            Waits::Narrow(v) => v.len(),
            Waits::Wide(v) => v.len(),
        } as u64;
        if n == 0 {
            return 0;
        }
        let rank = (q_num * n).div_ceil(q_den).max(1);
        let idx = usize::try_from(rank - 1).unwrap_or(usize::MAX);
        match self {
            Waits::Narrow(v) => u64::from(*v.select_nth_unstable(idx).1),
            Waits::Wide(v) => *v.select_nth_unstable(idx).1,
        }
    }
}

/// A task waiting in the queue.
#[derive(Clone, Copy, Debug)]
struct Queued {
    arrival_ms: u64,
    duration_ms: u64,
    /// Run again after a crash: its wait was recorded at its first dispatch.
    retry: bool,
}

/// `(end, worker, duration, arrival, worker generation)` of a running task.
type RunningTask = (u64, u32, u64, u64, u32);

/// One random stream per fault.
struct FaultRngs {
    provision: rand_chacha::ChaCha8Rng,
    jitter: rand_chacha::ChaCha8Rng,
    crash: rand_chacha::ChaCha8Rng,
    missing: rand_chacha::ChaCha8Rng,
    stale: rand_chacha::ChaCha8Rng,
    scaling: rand_chacha::ChaCha8Rng,
}

impl FaultRngs {
    fn new(seed: u64) -> FaultRngs {
        use crate::trace::{stream_rng, streams};
        FaultRngs {
            provision: stream_rng(seed, streams::FAULT_PROVISION),
            jitter: stream_rng(seed, streams::FAULT_JITTER),
            crash: stream_rng(seed, streams::FAULT_CRASH),
            missing: stream_rng(seed, streams::FAULT_MISSING),
            stale: stream_rng(seed, streams::FAULT_STALE),
            scaling: stream_rng(seed, streams::FAULT_SCALING),
        }
    }
}

fn chance(rng: &mut rand_chacha::ChaCha8Rng, p: f64) -> bool {
    use rand::RngExt;
    p > 0.0 && rng.random::<f64>() < p
}

/// The simulator's state.
pub struct Engine {
    params: SimParams,
    scaler: Scaler,
    slots: u32,
    workers: Vec<Worker>,
    /// Ids of workers not yet gone, increasing.
    live: Vec<u32>,
    free: FreeSet,
    provisioning: BinaryHeap<Reverse<(u64, u32)>>,
    /// Running tasks, earliest end first.
    running: BinaryHeap<Reverse<RunningTask>>,
    /// Valid entries in `running`.
    running_count: u64,
    /// Crash times `(at, worker, generation)` of ready workers.
    crash_at: BinaryHeap<Reverse<(u64, u32, u32)>>,
    fault_rngs: FaultRngs,
    fault_counts: [u64; 6],
    last_observation: Option<Observation>,
    last_cost: f64,
    queue: VecDeque<Queued>,
    /// Integral of the queue length over time (task-ms), and when it last changed.
    queue_integral: u128,
    queue_since_ms: u64,
    zero_started: Vec<u32>,
    n_prov: u32,
    n_ready: u32,
    n_drain: u32,
    busy_ready_slots: u64,
    /// Completions in the metrics window: `(time, duration sum, count)`.
    completions: VecDeque<(u64, u64, u64)>,
    completions_sum: u128,
    completions_count: u64,
    waits: Waits,
    wait_sum_ms: u128,
    wait_max_ms: u64,
    slo_violations: u64,
    tasks_arrived: u64,
    tasks_completed: u64,
    last_event_ms: u64,
    /// The last arrival or completion (for the no-progress guard).
    last_progress_ms: u64,
    billed_ms: u128,
    lives_ms: u128,
    live_integral: u128,
    live_since_ms: u64,
    cw: u32,
    cw_since_ms: u64,
    cw_integral: u128,
    cw_max: u32,
    scale_ups: u64,
    scale_downs: u64,
    ticks: u64,
    next_tick_ms: u64,
}

/// With work left but no arrival or completion for this long, a run is stopped.
const NO_PROGRESS_LIMIT_MS: u64 = 30 * 86_400_000;

/// A simulation that broke one of its own invariants (a bug, reported with the seed).
fn invariant(what: String) -> SimError {
    SimError::Invariant(what)
}

impl Engine {
    /// A pool at time 0 with `initial_workers` ready workers.
    #[must_use]
    pub fn new(params: SimParams) -> Engine {
        let scaler = Scaler::new(params.scaler.clone());
        let slots = params.cluster.slots_per_worker;
        let initial = params.cluster.initial_workers;
        let mut e = Engine {
            scaler,
            slots,
            workers: Vec::with_capacity(initial as usize),
            live: Vec::with_capacity(initial as usize),
            free: FreeSet::default(),
            provisioning: BinaryHeap::new(),
            running: BinaryHeap::new(),
            running_count: 0,
            crash_at: BinaryHeap::new(),
            fault_rngs: FaultRngs::new(params.seed),
            fault_counts: [0; 6],
            last_observation: None,
            last_cost: 0.0,
            queue: VecDeque::new(),
            queue_integral: 0,
            queue_since_ms: 0,
            zero_started: Vec::new(),
            n_prov: 0,
            n_ready: 0,
            n_drain: 0,
            busy_ready_slots: 0,
            completions: VecDeque::new(),
            completions_sum: 0,
            completions_count: 0,
            waits: Waits::Narrow(Vec::new()),
            wait_sum_ms: 0,
            wait_max_ms: 0,
            slo_violations: 0,
            tasks_arrived: 0,
            tasks_completed: 0,
            last_event_ms: 0,
            last_progress_ms: 0,
            billed_ms: 0,
            lives_ms: 0,
            live_integral: 0,
            live_since_ms: 0,
            cw: initial,
            cw_since_ms: 0,
            cw_integral: 0,
            cw_max: 0,
            scale_ups: 0,
            scale_downs: 0,
            ticks: 0,
            next_tick_ms: 0,
            params,
        };
        for id in 0..initial {
            e.workers.push(Worker { state: WState::Ready, busy: 0, requested_ms: 0, generation: 0 });
            e.live.push(id);
            e.free.insert(id);
            e.schedule_crash(id, 0);
        }
        e.n_ready = initial;
        e
    }

    /// Runs the whole trace; `on_tick` receives every timeline row as it happens.
    pub fn run<S: TaskSource>(
        mut self,
        source: &mut S,
        mut on_tick: impl FnMut(&TickRow) -> Result<(), SimError>,
    ) -> Result<Summary, SimError> {
        let interval = self.params.scaler.evaluation_interval().as_ms();
        let mut next_arrival = source.next_task()?;
        let mut t = 0;
        loop {
            self.instant(t, source, &mut next_arrival, &mut on_tick, interval)?;
            let work_remains = next_arrival.is_some() || !self.queue.is_empty() || self.running_count > 0;
            if !work_remains {
                break;
            }
            let mut next = self.next_tick_ms;
            if let Some(Reverse((at, _))) = self.provisioning.peek() {
                next = next.min(*at);
            }
            if let Some(Reverse((at, ..))) = self.running.peek() {
                next = next.min(*at);
            }
            if let Some(Reverse((at, ..))) = self.crash_at.peek() {
                next = next.min(*at);
            }
            if next > self.last_progress_ms.saturating_add(NO_PROGRESS_LIMIT_MS) {
                return Err(invariant(format!(
                    "no task arrived or completed for {} days of simulated time (at {t} ms); are faults preventing every worker from starting?",
                    NO_PROGRESS_LIMIT_MS / 86_400_000
                )));
            }
            if let Some(a) = &next_arrival {
                next = next.min(a.arrival_ms);
            }
            if next < t {
                return Err(invariant(format!("time went backwards from {t} ms to {next} ms")));
            }
            t = next;
        }
        self.finish()
    }

    /// Everything that happens at instant `t`, in the order of SPEC 6.3.
    fn instant<S: TaskSource>(
        &mut self,
        t: u64,
        source: &mut S,
        next_arrival: &mut Option<Task>,
        on_tick: &mut impl FnMut(&TickRow) -> Result<(), SimError>,
        interval: u64,
    ) -> Result<(), SimError> {
        // 1. provisioning that ends now.
        self.finish_provisioning(t);
        // 2. completions (entries voided by a crash are dropped), then crashes.
        while let Some(&Reverse((end, w, dur, _, generation))) = self.running.peek() {
            if end > t {
                break;
            }
            self.running.pop();
            if self.workers[w as usize].generation == generation {
                self.running_count -= 1;
                self.complete(w, t, dur);
            }
        }
        while let Some(&Reverse((at, w, generation))) = self.crash_at.peek() {
            if at > t {
                break;
            }
            self.crash_at.pop();
            self.crash(w, generation, t);
        }
        // 3. arrivals, in file order.
        while let Some(task) = *next_arrival {
            if task.arrival_ms != t {
                if task.arrival_ms < t {
                    return Err(invariant(format!("arrival at {} ms seen after {t} ms", task.arrival_ms)));
                }
                break;
            }
            self.queue_changes(t);
            self.queue.push_back(Queued { arrival_ms: task.arrival_ms, duration_ms: task.duration_ms, retry: false });
            self.last_progress_ms = t;
            self.tasks_arrived += 1;
            self.last_event_ms = t;
            *next_arrival = source.next_task()?;
        }
        // 4. dispatch.
        self.dispatch(t);
        // 5. tick.
        if t == self.next_tick_ms {
            let row = self.tick(t)?;
            on_tick(&row)?;
            self.next_tick_ms = t.checked_add(interval).ok_or_else(|| invariant("tick time overflow".into()))?;
        }
        Ok(())
    }

    /// Integrates the queue length up to `t`, before it changes.
    fn queue_changes(&mut self, t: u64) {
        self.queue_integral += self.queue.len() as u128 * u128::from(t - self.queue_since_ms);
        self.queue_since_ms = t;
    }

    fn finish_provisioning(&mut self, t: u64) {
        while let Some(&Reverse((at, id))) = self.provisioning.peek() {
            if at > t {
                break;
            }
            self.provisioning.pop();
            if self.workers[id as usize].state != WState::Provisioning {
                continue;
            }
            self.n_prov -= 1;
            if chance(&mut self.fault_rngs.provision, self.params.faults.provision_failure) {
                // It never becomes ready: billed for its attempt, gone.
                self.fault_counts[2] += 1;
                self.terminate(id, t);
                continue;
            }
            self.workers[id as usize].state = WState::Ready;
            self.n_ready += 1;
            self.free.insert(id);
            self.schedule_crash(id, t);
        }
    }

    /// Draws when a ready worker will crash (if crashes are on).
    fn schedule_crash(&mut self, id: u32, t: u64) {
        let rate = self.params.faults.crash_rate_per_hour;
        if rate <= 0.0 {
            return;
        }
        use rand::RngExt;
        let u: f64 = self.fault_rngs.crash.random();
        let after_h = -(1.0 - u).ln() / rate;
        let after_ms = crate::trace::seconds_to_ms(after_h * 3600.0).max(1);
        let generation = self.workers[id as usize].generation;
        self.crash_at.push(Reverse((t.saturating_add(after_ms), id, generation)));
    }

    /// A worker crashes: its running tasks go back to the head of the queue.
    fn crash(&mut self, w: u32, generation: u32, t: u64) {
        let worker = self.workers[w as usize];
        if worker.generation != generation || !matches!(worker.state, WState::Ready | WState::Draining) {
            return;
        }
        self.fault_counts[1] += 1;
        let mut lost: Vec<(u64, u64)> = self
            .running
            .iter()
            .filter(|Reverse((_, rw, _, _, g))| *rw == w && *g == generation)
            .map(|Reverse((_, _, dur, arrival, _))| (*arrival, *dur))
            .collect();
        lost.sort_unstable();
        self.running_count -= lost.len() as u64;
        self.fault_counts[0] += lost.len() as u64;
        self.queue_changes(t);
        for &(arrival, dur) in lost.iter().rev() {
            self.queue.push_front(Queued { arrival_ms: arrival, duration_ms: dur, retry: true });
        }
        match worker.state {
            WState::Ready => {
                self.n_ready -= 1;
                self.busy_ready_slots -= u64::from(worker.busy);
            }
            _ => self.n_drain -= 1,
        }
        let wk = &mut self.workers[w as usize];
        wk.generation += 1;
        wk.busy = 0;
        self.terminate(w, t);
    }

    fn complete(&mut self, w: u32, t: u64, dur: u64) {
        self.tasks_completed += 1;
        self.last_event_ms = t;
        self.last_progress_ms = t;
        match self.completions.back_mut() {
            Some(last) if last.0 == t => {
                last.1 += dur;
                last.2 += 1;
            }
            _ => self.completions.push_back((t, dur, 1)),
        }
        self.completions_sum += u128::from(dur);
        self.completions_count += 1;
        let worker = &mut self.workers[w as usize];
        worker.busy -= 1;
        match worker.state {
            WState::Ready => {
                self.busy_ready_slots -= 1;
                self.free.insert(w);
            }
            WState::Draining => {
                if worker.busy == 0 {
                    self.n_drain -= 1;
                    self.terminate(w, t);
                }
            }
            WState::Provisioning | WState::Gone => {}
        }
    }

    fn dispatch(&mut self, t: u64) {
        loop {
            self.zero_started.clear();
            while !self.queue.is_empty() {
                let Some(w) = self.free.first() else { break };
                self.queue_changes(t);
                let task = self.queue.pop_front().expect("not empty");
                if !task.retry {
                    let wait = t - task.arrival_ms;
                    self.waits.push(wait);
                    self.wait_sum_ms += u128::from(wait);
                    self.wait_max_ms = self.wait_max_ms.max(wait);
                    if wait > self.params.cluster.slo_wait.as_ms() {
                        self.slo_violations += 1;
                    }
                }
                let worker = &mut self.workers[w as usize];
                worker.busy += 1;
                self.busy_ready_slots += 1;
                if worker.busy >= self.slots {
                    self.free.remove(w);
                }
                if task.duration_ms == 0 {
                    self.zero_started.push(w);
                } else {
                    let generation = worker.generation;
                    self.running.push(Reverse((
                        t + task.duration_ms,
                        w,
                        task.duration_ms,
                        task.arrival_ms,
                        generation,
                    )));
                    self.running_count += 1;
                }
            }
            if self.zero_started.is_empty() {
                return;
            }
            // Zero-duration tasks complete once the pass can place no more, freeing their slots.
            for i in 0..self.zero_started.len() {
                let w = self.zero_started[i];
                self.complete(w, t, 0);
            }
            if self.queue.is_empty() {
                return;
            }
        }
    }

    fn billed(&self, life_ms: u64) -> u64 {
        let inc = self.params.cluster.billing_increment.as_ms().max(1);
        let rounded = life_ms.div_ceil(inc).saturating_mul(inc);
        rounded.max(self.params.cluster.billing_minimum.as_ms())
    }

    fn set_live_count_change(&mut self, t: u64) {
        let live_now = u128::from(self.n_prov) + u128::from(self.n_ready) + u128::from(self.n_drain);
        // Called *before* a change: integrate the old count up to t.
        self.live_integral += live_now * u128::from(t - self.live_since_ms);
        self.live_since_ms = t;
    }

    /// Bills and removes a worker whose counts the caller has already updated.
    fn terminate(&mut self, id: u32, t: u64) {
        let w = &mut self.workers[id as usize];
        let life = t - w.requested_ms;
        w.state = WState::Gone;
        self.free.remove(id);
        self.lives_ms += u128::from(life);
        self.billed_ms += u128::from(self.billed(life));
        // The live count dropped by one at t: integrate with the count before.
        let live_after = u128::from(self.n_prov) + u128::from(self.n_ready) + u128::from(self.n_drain);
        self.live_integral += (live_after + 1) * u128::from(t - self.live_since_ms);
        self.live_since_ms = t;
    }

    fn observe(&mut self, t: u64) -> Result<Observation, SimError> {
        let window = self.params.scaler.metrics_window().as_ms();
        while let Some(&(ct, sum, count)) = self.completions.front() {
            if u128::from(ct) + u128::from(window) > u128::from(t) {
                break;
            }
            self.completions.pop_front();
            self.completions_sum -= u128::from(sum);
            self.completions_count -= count;
        }
        let avg = if self.completions_count == 0 {
            0
        } else {
            let c = u128::from(self.completions_count);
            u64::try_from((self.completions_sum + c / 2) / c).unwrap_or(u64::MAX)
        };
        let pending = self.queue.len() as u64;
        Observation::new(
            TimeMs(t),
            self.n_prov + self.n_ready,
            pending,
            self.running_tasks(),
            DurationMs(avg),
            self.utilization(),
        )
        .map_err(|e| invariant(format!("observation at {t} ms: {e}")))
    }

    fn running_tasks(&self) -> u64 {
        self.running_count
    }

    fn utilization(&self) -> Fixed9 {
        if self.n_ready == 0 {
            if self.queue.is_empty() {
                Fixed9::ZERO
            } else {
                Fixed9::ONE
            }
        } else {
            Fixed9::from_ratio(self.busy_ready_slots, u64::from(self.n_ready) * u64::from(self.slots))
        }
    }

    fn tick(&mut self, t: u64) -> Result<TickRow, SimError> {
        self.ticks += 1;
        let mut obs = self.observe(t)?;
        if let Some(prev) = self.last_observation {
            if chance(&mut self.fault_rngs.stale, self.params.faults.stale_metrics) {
                self.fault_counts[4] += 1;
                obs = Observation::new(
                    TimeMs(t),
                    prev.current_workers,
                    prev.pending_tasks,
                    prev.running_tasks,
                    prev.avg_task_duration,
                    prev.worker_utilization(),
                )
                .map_err(|e| invariant(format!("stale observation: {e}")))?;
            }
        }
        let observed = !chance(&mut self.fault_rngs.missing, self.params.faults.missing_observation);
        if observed {
            self.scaler
                .observe(obs)
                .map_err(|e| invariant(format!("scaler refused the observation at {t} ms: {e}")))?;
            self.last_observation = Some(obs);
        } else {
            self.fault_counts[3] += 1;
        }
        let d = self.scaler.decide(TimeMs(t)).map_err(|e| invariant(format!("scaler clock at {t} ms: {e}")))?;
        // The decision's `current_workers` may be stale or missing: the pool's real count is what changes.
        let now_workers = self.n_prov + self.n_ready;
        if d.is_scaling() && chance(&mut self.fault_rngs.scaling, self.params.faults.scaling_failure) {
            self.fault_counts[5] += 1;
        } else {
            match d.action {
                Action::ScaleUp => {
                    self.scale_up(t, d.target_workers.saturating_sub(now_workers));
                    self.scale_ups += 1;
                    self.scaler.record_scaled(TimeMs(t));
                }
                Action::ScaleDown => {
                    self.scale_down(t, now_workers.saturating_sub(d.target_workers));
                    self.scale_downs += 1;
                    self.scaler.record_scaled(TimeMs(t));
                }
                Action::Hold => {}
            }
        }
        let cw = self.n_prov + self.n_ready;
        if cw != self.cw {
            self.cw_integral += u128::from(self.cw) * u128::from(t - self.cw_since_ms);
            self.cw_since_ms = t;
            self.cw = cw;
        }
        self.cw_max = self.cw_max.max(cw);
        if cw > self.params.scaler.max_workers() {
            return Err(invariant(format!("{cw} workers at {t} ms exceed max_workers")));
        }
        // Step 5 re-runs steps 1 and 4.
        self.finish_provisioning(t);
        self.dispatch(t);
        self.live.retain(|&id| self.workers[id as usize].state != WState::Gone);
        let live_billed: u128 =
            self.live.iter().map(|&id| u128::from(self.billed(t - self.workers[id as usize].requested_ms))).sum();
        let cost = self.cost_of(self.billed_ms + live_billed);
        if cost < self.last_cost {
            return Err(invariant(format!("the cost went down from {} to {cost} at {t} ms", self.last_cost)));
        }
        self.last_cost = cost;
        Ok(TickRow {
            time: TimeMs(t),
            current_workers: self.n_prov + self.n_ready,
            ready: self.n_ready,
            provisioning: self.n_prov,
            draining: self.n_drain,
            pending_tasks: self.queue.len() as u64,
            running_tasks: self.running_tasks(),
            worker_utilization: self.utilization(),
            decision: d,
            observation: obs,
            observed,
            cost,
        })
    }

    fn cost_of(&self, billed_ms: u128) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let ms = billed_ms as f64;
        ms / 3_600_000.0 * self.params.cluster.price_per_worker_hour
    }

    fn scale_up(&mut self, t: u64, k: u32) {
        self.set_live_count_change(t);
        let delay = self.params.cluster.provision_delay.as_ms();
        for _ in 0..k {
            let ready_at = t.saturating_add(self.jittered(delay));
            let id = u32::try_from(self.workers.len()).expect("worker ids fit u32 (max_workers is bounded)");
            self.workers.push(Worker { state: WState::Provisioning, busy: 0, requested_ms: t, generation: 0 });
            self.live.push(id);
            self.provisioning.push(Reverse((ready_at, id)));
            self.n_prov += 1;
        }
    }

    /// A provisioning delay with the jitter fault: times a log-normal factor (median 1).
    fn jittered(&mut self, delay: u64) -> u64 {
        let sigma = self.params.faults.provision_jitter;
        if sigma <= 0.0 || delay == 0 {
            return delay;
        }
        use rand_distr::Distribution;
        let f: f64 = rand_distr::LogNormal::new(0.0, sigma).map_or(1.0, |d| d.sample(&mut self.fault_rngs.jitter));
        #[allow(clippy::cast_precision_loss)]
        crate::trace::seconds_to_ms(delay as f64 * f / 1000.0)
    }

    /// Up to `k` live workers matching `pick`, newest first.
    fn newest(&self, k: u32, pick: impl Fn(&Worker) -> bool) -> Vec<u32> {
        self.live.iter().rev().copied().filter(|&id| pick(&self.workers[id as usize])).take(k as usize).collect()
    }

    fn scale_down(&mut self, t: u64, k: u32) {
        // Provisioning workers, newest first, cancelled at once.
        let cancel = self.newest(k, |w| w.state == WState::Provisioning);
        // Idle ready workers, newest first, terminated at once.
        let idle = self.newest(k - cancel.len() as u32, |w| w.state == WState::Ready && w.busy == 0);
        // Busy ready workers, newest first, drain.
        let drain = self.newest(k - (cancel.len() + idle.len()) as u32, |w| w.state == WState::Ready && w.busy > 0);
        for id in cancel {
            self.n_prov -= 1;
            self.terminate(id, t);
        }
        for id in idle {
            self.n_ready -= 1;
            self.terminate(id, t);
        }
        for id in drain {
            let w = &mut self.workers[id as usize];
            w.state = WState::Draining;
            self.n_ready -= 1;
            self.n_drain += 1;
            self.busy_ready_slots -= u64::from(w.busy);
            self.free.remove(id);
        }
        self.live.retain(|&id| self.workers[id as usize].state != WState::Gone);
    }

    /// Terminates what is left at `end_time`, checks conservation, and summarises.
    fn finish(mut self) -> Result<Summary, SimError> {
        let end = self.last_event_ms;
        if end < self.cw_since_ms {
            return Err(invariant(format!("end {end} ms before the last worker change {} ms", self.cw_since_ms)));
        }
        self.cw_integral += u128::from(self.cw) * u128::from(end - self.cw_since_ms);
        for i in 0..self.live.len() {
            let id = self.live[i];
            match self.workers[id as usize].state {
                WState::Provisioning => self.n_prov -= 1,
                WState::Ready => self.n_ready -= 1,
                WState::Draining => self.n_drain -= 1,
                WState::Gone => continue,
            }
            self.terminate(id, end);
        }
        // Conservation: every task arrived once and completed once; lives equal the integral of live workers.
        if self.tasks_completed != self.tasks_arrived || !self.queue.is_empty() || self.running_count != 0 {
            return Err(invariant(format!(
                "{} tasks arrived but {} completed ({} queued, {} running)",
                self.tasks_arrived,
                self.tasks_completed,
                self.queue.len(),
                self.running_count
            )));
        }
        if self.lives_ms != self.live_integral {
            return Err(invariant(format!(
                "worker lives sum to {} ms but the integral of live workers is {} ms",
                self.lives_ms, self.live_integral
            )));
        }
        let n = self.tasks_arrived;
        let ms = |v: u64| v as f64 / 1000.0;
        #[allow(clippy::cast_precision_loss)]
        let summary = Summary {
            tasks: n,
            wait_mean_s: if n == 0 { 0.0 } else { self.wait_sum_ms as f64 / n as f64 / 1000.0 },
            wait_p50_s: ms(self.waits.nearest_rank(50, 100)),
            wait_p95_s: ms(self.waits.nearest_rank(95, 100)),
            wait_p99_s: ms(self.waits.nearest_rank(99, 100)),
            wait_max_s: ms(self.wait_max_ms),
            slo_violation_ratio: if n == 0 { 0.0 } else { self.slo_violations as f64 / n as f64 },
            cost: self.cost_of(self.billed_ms),
            worker_seconds: self.lives_ms as f64 / 1000.0,
            billed_worker_seconds: self.billed_ms as f64 / 1000.0,
            scale_ups: self.scale_ups,
            scale_downs: self.scale_downs,
            mean_workers: if end == 0 { f64::from(self.cw) } else { self.cw_integral as f64 / end as f64 },
            max_workers: self.cw_max,
            end_time_s: ms(end),
            ticks: self.ticks,
            workers_requested: self.workers.len() as u64,
            slo_violations: self.slo_violations,
            mean_queue_length: if end == 0 { 0.0 } else { self.queue_integral as f64 / end as f64 },
            retries: self.fault_counts[0],
            crashes: self.fault_counts[1],
            provision_failures: self.fault_counts[2],
            missing_observations: self.fault_counts[3],
            stale_observations: self.fault_counts[4],
            scaling_failures: self.fault_counts[5],
        };
        Ok(summary)
    }
}

/// Runs a whole simulation.
pub fn simulate<S: TaskSource>(
    params: SimParams,
    source: &mut S,
    on_tick: impl FnMut(&TickRow) -> Result<(), SimError>,
) -> Result<Summary, SimError> {
    Engine::new(params).run(source, on_tick)
}
