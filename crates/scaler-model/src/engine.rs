//! The closed-loop simulator (SPEC section 6): a discrete-event model of a
//! worker pool, with `scaler-core` deciding at every tick.
//!
//! Time jumps from event to event (provisioning ends, task completions,
//! arrivals, ticks); nothing steps through idle time. Per task the work is a
//! heap push and pop (O(log running tasks)), a lowest-free-worker lookup in
//! a two-level bitset (O(workers / 4096)) and a count in the wait histogram
//! (O(1) for waits under 65.536 s, O(log distinct waits) amortized above), so a run
//! costs O(tasks log workers). The per-tick cost column is kept from counts (see the
//! `pool` module: O(1) amortized per tick for the usual billing settings, never a sum over
//! the live workers), and each worker costs O(log) amortized to request, remove and, once
//! gone, drop from the pool's table.
//!
//! Memory grows with what the run must hold: the tasks waiting (runs of alike tasks) and
//! running, the live workers (and at most as many gone ones as live workers and heap
//! entries, before they are dropped), and the distinct waits (at most the tasks, and at most
//! the longest wait in ms), not with the trace or the workers ever requested. With crashes
//! on, a worker removed before its drawn crash time keeps a 16-byte entry in the crash heap
//! until that time (the instant it marks is kept exactly).
//!
//! The parts live in their own modules (`pool`, `tasks`, `faults`, `stats`); this one
//! holds the order in which they act: [`Engine::run`] moves from instant to instant and
//! `Engine::instant` is the one place where what happens at one instant (SPEC 6.3) is read.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use scaler_core::{Action, Observation, Outcome, PoolSnapshot, Reason, Scaler, ScalerConfig, TimeMs};

use crate::error::{invariant, ModelError};
use crate::faults::{FaultStreams, Faults};
use crate::pool::{remap_heap, Cluster, Pool, NO_WORKER};
use crate::stats::{TimeIntegral, WaitStats};
use crate::summary::{Summary, TickRow};
use crate::tasks::Tasks;
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

/// With tasks waiting, no worker alive or provisioning and no task arriving later, the
/// scaler is the only thing that can still move the run. Its inputs no longer change once
/// its warm-up, metrics window and cooldown have passed; if it then holds (decides no scale
/// up) for this many consecutive ticks, the run is stopped as stuck.
const HOLD_LIMIT_TICKS: u64 = 10_000;

/// A task whose run expects more than this many crashes (crash rate x duration) completes
/// with probability below `e^-50` per attempt: it can never finish, and the run is stopped.
const HOPELESS_EXPECTED_CRASHES: f64 = 50.0;

/// The task duration (ms) above which `crash_rate_per_hour` makes more than
/// [`HOPELESS_EXPECTED_CRASHES`] crashes expected per attempt.
fn hopeless_above_ms(crash_rate_per_hour: f64) -> u64 {
    if crash_rate_per_hour <= 0.0 {
        return u64::MAX;
    }
    // Saturating cast: a tiny rate gives u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ms = (HOPELESS_EXPECTED_CRASHES * 3_600_000.0 / crash_rate_per_hour) as u64;
    ms
}

/// The simulator's state.
pub struct Engine {
    params: SimParams,
    scaler: Scaler,
    pool: Pool,
    tasks: Tasks,
    /// Crash times `(at, worker, generation)` of ready workers.
    crash_at: BinaryHeap<Reverse<(u64, u32, u32)>>,
    /// Spot interruptions `(at, worker, generation, end)`: the notice (`end = false`) drains
    /// the worker; its end, `notice` later, takes it away with what still runs.
    spot_at: BinaryHeap<Reverse<(u64, u32, u32, bool)>>,
    faults: FaultStreams,
    waits: WaitStats,
    /// The waits of the tasks that arrived while no worker was ready.
    cold_waits: WaitStats,
    /// `current_workers` over time, as seen at ticks.
    current_workers: TimeIntegral,
    max_workers_seen: u32,
    /// Workers whose zero-duration task started in the current dispatch pass.
    zero_started: Vec<u32>,
    last_observation: Option<Observation>,
    last_cost: f64,
    scale_ups: u64,
    scale_downs: u64,
    ticks: u64,
    next_tick_ms: u64,
    /// Consecutive ticks at which the pool was idle-stuck (see [`Engine::idle_stuck`]) and the
    /// scaler decided no scale up, and the time the first of them happened.
    holding: (u64, u64),
    /// A task started that crashes make impossible to finish: its duration, ms.
    hopeless_ms: Option<u64>,
    /// Tasks longer than this expect more than [`HOPELESS_EXPECTED_CRASHES`] crashes per
    /// attempt (`u64::MAX` without crashes): one integer test per dispatch.
    hopeless_above_ms: u64,
    /// The reason of the last decision (for the stuck message).
    last_reason: Option<Reason>,
    /// The warm-up's end, ms (0: no warm-up, everything is measured).
    warmup_ms: u64,
    /// What the run had accumulated when the warm-up ended (taken at the start of the
    /// instant at `warmup_ms`, before anything happens then).
    at_warmup: Option<Mark>,
    /// The most `current_workers` seen from the warm-up's end (with a warm-up).
    max_workers_measured: u32,
}

/// The accumulated totals at the warm-up's end, subtracted from the run's at its end.
#[derive(Clone, Copy, Debug)]
struct Mark {
    /// The bill had every live worker terminated then (as the timeline's cost column).
    cost: f64,
    /// Billed worker time so far, the live workers as if terminated then, ms.
    billed_ms: u128,
    /// The integral of live workers over `[0, warmup]`, worker-ms.
    live_ms: u128,
    /// The integral of `current_workers` over `[0, warmup]`, worker-ms.
    current_ms: u128,
    /// The integral of the queue length over `[0, warmup]`, task-ms.
    queue_ms: u128,
}

impl Engine {
    /// A pool at time 0 with `initial_workers` ready workers.
    #[must_use]
    pub fn new(params: SimParams) -> Engine {
        let scaler = Scaler::new(params.scaler.clone());
        let initial = params.cluster.initial_workers;
        let mut e = Engine {
            scaler,
            pool: Pool::new(&params.cluster),
            tasks: Tasks::new(),
            crash_at: BinaryHeap::new(),
            spot_at: BinaryHeap::new(),
            faults: FaultStreams::new(&params.faults, params.seed),
            waits: WaitStats::new(),
            cold_waits: WaitStats::new(),
            current_workers: TimeIntegral::new(u64::from(initial)),
            max_workers_seen: 0,
            zero_started: Vec::new(),
            last_observation: None,
            last_cost: 0.0,
            scale_ups: 0,
            scale_downs: 0,
            ticks: 0,
            next_tick_ms: 0,
            holding: (0, 0),
            hopeless_ms: None,
            hopeless_above_ms: hopeless_above_ms(params.faults.crash_rate_per_hour),
            last_reason: None,
            warmup_ms: params.cluster.warmup.as_ms(),
            at_warmup: None,
            max_workers_measured: 0,
            params,
        };
        for id in 0..initial {
            e.schedule_crash(id, 0);
        }
        e
    }

    /// Runs the whole trace; `on_tick` receives every timeline row as it happens.
    ///
    /// Errors of the source, of `on_tick` and of the model itself all end the run, as `E`.
    pub fn run<S, E>(mut self, source: &mut S, mut on_tick: impl FnMut(&TickRow) -> Result<(), E>) -> Result<Summary, E>
    where
        S: TaskSource + ?Sized,
        E: From<S::Error> + From<ModelError>,
    {
        self.drive(source, &mut on_tick)?;
        Ok(self.finish()?)
    }

    /// Runs the whole trace, up to its last event.
    fn drive<S, E>(&mut self, source: &mut S, on_tick: &mut impl FnMut(&TickRow) -> Result<(), E>) -> Result<(), E>
    where
        S: TaskSource + ?Sized,
        E: From<S::Error> + From<ModelError>,
    {
        let interval = self.params.scaler.evaluation_interval().as_ms();
        let mut next_arrival = source.next_task()?;
        let mut t = 0;
        loop {
            self.instant(t, source, &mut next_arrival, on_tick, interval)?;
            let work_remains = next_arrival.is_some() || !self.tasks.queue_is_empty() || self.tasks.running() > 0;
            if !work_remains {
                break;
            }
            let mut next = self.next_tick_ms;
            if let Some(at) = self.pool.next_ready_at() {
                next = next.min(at);
            }
            if let Some(at) = self.tasks.next_end() {
                next = next.min(at);
            }
            if let Some(Reverse((at, ..))) = self.crash_at.peek() {
                next = next.min(*at);
            }
            if let Some(Reverse((at, ..))) = self.spot_at.peek() {
                next = next.min(*at);
            }
            // The common case (progress possible) costs two tests; the diagnosis is out of line.
            if self.hopeless_ms.is_some() || self.idle_stuck(next_arrival.is_some()) {
                self.check_progress(t, next_arrival.is_some())?;
            }
            if let Some(a) = &next_arrival {
                next = next.min(a.arrival_ms);
            }
            // The warm-up's end is an instant of its own, so that its totals are exact.
            if self.at_warmup.is_none() && self.warmup_ms > t {
                next = next.min(self.warmup_ms);
            }
            if next < t {
                return Err(invariant(format!("time went backwards from {t} ms to {next} ms")).into());
            }
            t = next;
        }
        Ok(())
    }

    /// True when tasks wait and nothing but the scaler can ever run them: no task is running
    /// (so none completes, crashes or frees a slot), none arrives later, and no worker is
    /// alive or provisioning (so none becomes ready).
    #[inline]
    fn idle_stuck(&self, arrival_ahead: bool) -> bool {
        !self.tasks.queue_is_empty() && self.tasks.running() == 0 && !arrival_ahead && self.pool.current() == 0
    }

    /// Stops a run that truly cannot progress, saying what is stuck. Long idle gaps in the
    /// trace, long tasks and long provisioning are all progress still to come and never stop
    /// a run; only these do:
    /// - tasks wait, nothing runs or arrives, no worker is alive or provisioning, and no
    ///   worker can ever be added (`max_workers = 0`, every provisioning fails, or every
    ///   scaling call fails);
    /// - the same, and the scaler, whose inputs no longer change, has held for
    ///   [`HOLD_LIMIT_TICKS`] consecutive ticks since its warm-up, window and cooldown passed;
    /// - a task was started that crashes make impossible to finish.
    #[cold]
    #[inline(never)]
    fn check_progress(&self, t: u64, arrival_ahead: bool) -> Result<(), ModelError> {
        if let Some(d) = self.hopeless_ms {
            #[allow(clippy::cast_precision_loss)]
            let expected = self.params.faults.crash_rate_per_hour * d as f64 / 3_600_000.0;
            return Err(ModelError::Stuck(format!(
                "a task of {} s can never complete: with crash_rate_per_hour = {} its worker is expected to crash {expected:.0} times during each attempt (at {t} ms)",
                d as f64 / 1000.0,
                self.params.faults.crash_rate_per_hour
            )));
        }
        if !self.idle_stuck(arrival_ahead) {
            return Ok(());
        }
        let f = &self.params.faults;
        let never = if self.params.scaler.max_workers() == 0 {
            Some("max_workers = 0".to_string())
        } else if f.provision_failure >= 1.0 {
            Some(format!("every provisioning fails (provision_failure = {})", f.provision_failure))
        } else if f.scaling_failure >= 1.0 {
            Some(format!("every scaling call fails (scaling_failure = {})", f.scaling_failure))
        } else {
            None
        };
        let waiting = self.tasks.pending();
        if let Some(why) = never {
            return Err(ModelError::Stuck(format!(
                "{waiting} tasks wait at {t} ms with no worker alive or provisioning and no task arriving later, and no worker can ever start: {why}"
            )));
        }
        let (held, since) = self.holding;
        let cfg = &self.params.scaler;
        let settle = cfg
            .warmup_period()
            .as_ms()
            .saturating_add(cfg.metrics_window().as_ms())
            .saturating_add(cfg.cooldown_period().as_ms());
        if held >= HOLD_LIMIT_TICKS && t.saturating_sub(since) >= settle {
            let reason = self.scaler_reason();
            return Err(ModelError::Stuck(format!(
                "{waiting} tasks wait at {t} ms with no worker alive or provisioning and no task arriving later, and the scaler has not scaled up for {held} ticks (since {since} ms; its last reason: {reason})"
            )));
        }
        Ok(())
    }

    /// Counts the consecutive ticks at which the pool is idle-stuck and the scaler holds.
    fn note_hold(&mut self, t: u64, action: Action, arrival_ahead: bool) {
        if action != Action::ScaleUp && self.idle_stuck(arrival_ahead) {
            if self.holding.0 == 0 {
                self.holding.1 = t;
            }
            self.holding.0 += 1;
        } else {
            self.holding = (0, t);
        }
    }

    /// The last decision's reason code, for messages.
    fn scaler_reason(&self) -> &'static str {
        self.last_reason.map_or("none", |r| r.as_str())
    }

    /// Everything that happens at instant `t`, in the order of SPEC 6.3.
    fn instant<S, E>(
        &mut self,
        t: u64,
        source: &mut S,
        next_arrival: &mut Option<Task>,
        on_tick: &mut impl FnMut(&TickRow) -> Result<(), E>,
        interval: u64,
    ) -> Result<(), E>
    where
        S: TaskSource + ?Sized,
        E: From<S::Error> + From<ModelError>,
    {
        if t == self.warmup_ms && t > 0 && self.at_warmup.is_none() {
            self.mark_warmup(t);
        }
        // 1. provisioning that ends now.
        self.finish_provisioning(t);
        // 2. completions (entries voided by a crash are dropped), then crashes.
        while let Some(r) = self.tasks.pop_ended(t, |r| self.pool.runs(r.worker, r.generation)) {
            self.complete(r.worker, t, r.duration_ms);
        }
        while let Some(&Reverse((at, w, generation))) = self.crash_at.peek() {
            if at > t {
                break;
            }
            self.crash_at.pop();
            self.crash(w, generation, t);
        }
        // Spot interruptions: notices, then the ends of earlier ones.
        while let Some(&Reverse((at, w, generation, end))) = self.spot_at.peek() {
            if at > t {
                break;
            }
            self.spot_at.pop();
            self.spot_event(w, generation, end, t);
        }
        // 3. arrivals, in file order.
        while let Some(task) = *next_arrival {
            if task.arrival_ms != t {
                if task.arrival_ms < t {
                    return Err(invariant(format!("arrival at {} ms seen after {t} ms", task.arrival_ms)).into());
                }
                break;
            }
            // No ready worker: the task waits for one to start (a cold start).
            let cold = self.pool.ready() == 0;
            self.tasks.arrive(t, task, cold);
            *next_arrival = source.next_task()?;
        }
        // 4. dispatch.
        self.dispatch(t)?;
        // 5. tick.
        if t == self.next_tick_ms {
            let row = self.tick(t)?;
            self.note_hold(t, row.decision.action, next_arrival.is_some());
            self.last_reason = Some(row.decision.reason);
            on_tick(&row)?;
            self.next_tick_ms = t.checked_add(interval).ok_or_else(|| {
                ModelError::Stuck(format!(
                    "the tick after {t} ms would pass the end of the clock (2^64 ms, about 584 million years): the trace or evaluation_interval ({interval} ms) is too long to simulate"
                ))
            })?;
        }
        Ok(())
    }

    /// Workers whose provisioning ends at `t` become ready, or fail (the fault).
    fn finish_provisioning(&mut self, t: u64) {
        while let Some(id) = self.pool.next_provisioned(t) {
            if self.faults.provisioning_fails() {
                // It never becomes ready: billed for its attempt, gone.
                self.pool.terminate(id, t);
                continue;
            }
            self.pool.make_ready(id);
            self.schedule_crash(id, t);
        }
    }

    /// Draws when a ready worker will crash (if crashes are on), and when a ready spot
    /// worker will be interrupted (if interruptions are on).
    fn schedule_crash(&mut self, id: u32, t: u64) {
        if let Some(s) = &self.params.cluster.spot {
            if self.pool.is_spot(id) {
                if let Some(after_ms) = self.faults.spot_after_ms(s.interruptions_per_hour) {
                    let generation = self.pool.generation(id);
                    self.spot_at.push(Reverse((t.saturating_add(after_ms), id, generation, false)));
                }
            }
        }
        if let Some(after_ms) = self.faults.crash_after_ms() {
            let generation = self.pool.generation(id);
            self.crash_at.push(Reverse((t.saturating_add(after_ms), id, generation)));
        }
    }

    /// A spot interruption's notice or end for worker `w` of `generation` at `t`.
    fn spot_event(&mut self, w: u32, generation: u32, end: bool, t: u64) {
        if !self.pool.can_crash(w, generation) {
            return;
        }
        if end {
            self.lose_worker(w, generation, t);
            return;
        }
        self.faults.counts.spot_interruptions += 1;
        let notice = self.params.cluster.spot.as_ref().map_or(0, |s| s.notice.as_ms());
        if self.pool.notice(w, t) {
            self.spot_at.push(Reverse((t.saturating_add(notice), w, generation, true)));
        }
    }

    /// A worker crashes: its running tasks go back to the head of the queue.
    fn crash(&mut self, w: u32, generation: u32, t: u64) {
        if !self.pool.can_crash(w, generation) {
            return;
        }
        self.faults.counts.crashes += 1;
        self.lose_worker(w, generation, t);
    }

    /// Worker `w` of `generation` is gone at `t` (a crash, a spot interruption's end): what
    /// it still ran goes back to the head of the queue to run again.
    fn lose_worker(&mut self, w: u32, generation: u32, t: u64) {
        self.faults.counts.retries += self.tasks.requeue_lost(t, w, generation);
        self.pool.crash(w, t);
    }

    fn complete(&mut self, w: u32, t: u64, dur: u64) {
        self.tasks.complete(t, dur);
        self.pool.release_slot(w, t);
    }

    /// FIFO dispatch to the lowest-id ready worker with a free slot.
    fn dispatch(&mut self, t: u64) -> Result<(), ModelError> {
        let slo_ms = self.params.cluster.slo_wait.as_ms();
        loop {
            self.zero_started.clear();
            while !self.tasks.queue_is_empty() {
                let Some((w, generation)) = self.pool.take_slot() else { break };
                let task = self.tasks.pop_queued(t).expect("not empty");
                // A task that arrived during the warm-up is not measured.
                if !task.retry && task.arrival_ms >= self.warmup_ms {
                    self.waits.record(t - task.arrival_ms, slo_ms)?;
                    if task.cold {
                        self.cold_waits.record(t - task.arrival_ms, slo_ms)?;
                    }
                }
                if task.duration_ms == 0 {
                    self.zero_started.push(w);
                } else {
                    if task.duration_ms > self.hopeless_above_ms {
                        self.hopeless_ms = Some(task.duration_ms);
                    }
                    self.tasks.start(t, w, generation, task);
                }
            }
            if self.zero_started.is_empty() {
                return Ok(());
            }
            // Zero-duration tasks complete once the pass can place no more, freeing their slots.
            for i in 0..self.zero_started.len() {
                let w = self.zero_started[i];
                self.complete(w, t, 0);
            }
            if self.tasks.queue_is_empty() {
                return Ok(());
            }
        }
    }

    /// Drops gone workers from the pool's table once they are many (see [`Pool::compact`]),
    /// renumbering the live ones in their order in every structure that names them.
    fn compact_workers(&mut self) {
        let held = self.tasks.running_entries() + self.crash_at.len() + self.spot_at.len();
        let Some(map) = self.pool.compact(held) else { return };
        self.tasks.remap_workers(&map);
        remap_heap(&mut self.crash_at, |Reverse((at, w, generation))| {
            let new = map.get(w as usize).copied().unwrap_or(NO_WORKER);
            if new == NO_WORKER {
                (Reverse((at, NO_WORKER, 0)), true)
            } else {
                (Reverse((at, new, generation)), false)
            }
        });
        remap_heap(&mut self.spot_at, |Reverse((at, w, generation, end))| {
            let new = map.get(w as usize).copied().unwrap_or(NO_WORKER);
            if new == NO_WORKER {
                (Reverse((at, NO_WORKER, 0, end)), true)
            } else {
                (Reverse((at, new, generation, end)), false)
            }
        });
    }

    /// What the scaler observes at a tick (SPEC section 6.4): the pool's snapshot, turned
    /// into the observation by the core, exactly as the runtime does.
    pub fn pool_snapshot(&mut self, t: u64) -> PoolSnapshot {
        let window = self.params.scaler.metrics_window();
        PoolSnapshot {
            ready_workers: self.pool.ready(),
            provisioning_workers: self.pool.provisioning(),
            busy_slots: self.pool.busy_ready_slots(),
            slots_per_worker: self.pool.slots_per_worker(),
            pending_tasks: self.tasks.pending(),
            running_tasks: self.tasks.running(),
            avg_task_duration: self.tasks.avg_duration(TimeMs(t), window),
        }
    }

    fn observe(&mut self, t: u64) -> Result<Observation, ModelError> {
        let pool = self.pool_snapshot(t);
        Observation::from_pool(TimeMs(t), &pool).map_err(|e| invariant(format!("observation at {t} ms: {e}")))
    }

    fn tick(&mut self, t: u64) -> Result<TickRow, ModelError> {
        self.ticks += 1;
        let mut obs = self.observe(t)?;
        if let Some(prev) = self.last_observation {
            if self.faults.stale() {
                // The previous sample delivered again, as if it were new.
                obs = prev.at(TimeMs(t));
            }
        }
        let observed = !self.faults.missing();
        // The core's one step: observe (if the sample arrived) and decide.
        let tick = self
            .scaler
            .tick(TimeMs(t), observed.then_some(obs))
            .map_err(|e| invariant(format!("scaler step at {t} ms: {e}")))?;
        if observed {
            self.last_observation = Some(obs);
        }
        let d = tick.decision;
        if let Some(ticket) = tick.ticket {
            // Before a scale up adds to the table, so that it holds O(peak live workers).
            self.compact_workers();
            // The decision's `current_workers` may be stale or missing: the pool's real count is what changes.
            let now_workers = self.pool.current();
            let outcome = if self.faults.scaling_fails() {
                Outcome::Failed
            } else {
                match d.action {
                    Action::ScaleUp => {
                        let delay = self.params.cluster.provision_delay.as_ms();
                        let faults = &mut self.faults;
                        self.pool
                            .scale_up(t, d.target_workers.saturating_sub(now_workers), delay, |d| faults.jittered(d));
                        self.scale_ups += u64::from(t >= self.warmup_ms);
                    }
                    Action::ScaleDown => {
                        self.pool.scale_down(t, now_workers.saturating_sub(d.target_workers));
                        self.scale_downs += u64::from(t >= self.warmup_ms);
                    }
                    Action::Hold => {}
                }
                Outcome::Applied
            };
            self.scaler.outcome(ticket, outcome).map_err(|e| invariant(format!("scaling outcome at {t} ms: {e}")))?;
        }
        let cw = self.pool.current();
        self.current_workers.set(t, u64::from(cw));
        self.max_workers_seen = self.max_workers_seen.max(cw);
        if t >= self.warmup_ms {
            self.max_workers_measured = self.max_workers_measured.max(cw);
        }
        if cw > self.params.scaler.max_workers() {
            return Err(invariant(format!("{cw} workers at {t} ms exceed max_workers")));
        }
        // Step 5 re-runs steps 1 and 4.
        self.finish_provisioning(t);
        self.dispatch(t)?;
        let billed = self.pool.billed_if_ended(t);
        let cost = self.cost_of(billed, self.pool.warm_ms(t));
        if cost < self.last_cost {
            return Err(invariant(format!("the cost went down from {} to {cost} at {t} ms", self.last_cost)));
        }
        self.last_cost = cost;
        Ok(TickRow {
            time: TimeMs(t),
            current_workers: self.pool.current(),
            ready: self.pool.ready(),
            provisioning: self.pool.provisioning(),
            draining: self.pool.draining(),
            pending_tasks: self.tasks.pending(),
            running_tasks: self.tasks.running(),
            worker_utilization: self.pool.utilization(self.tasks.pending()),
            decision: d,
            observation: obs,
            observed,
            cost,
        })
    }

    /// The cost of `(on demand, spot)` billed ms and of `warm_ms` of stopped warm-pool workers.
    #[allow(clippy::cast_precision_loss)]
    fn cost_of(&self, (od_ms, spot_ms): (u128, u128), warm_ms: u128) -> f64 {
        let c = &self.params.cluster;
        let mut cost = od_ms as f64 / 3_600_000.0 * c.price_per_worker_hour;
        if let Some(s) = &c.spot {
            if spot_ms > 0 {
                cost += spot_ms as f64 / 3_600_000.0 * s.price_per_worker_hour;
            }
        }
        if let Some(w) = &c.warm_pool {
            if warm_ms > 0 {
                cost += warm_ms as f64 / 3_600_000.0 * w.price_per_worker_hour;
            }
        }
        cost
    }

    /// Records the totals at the warm-up's end `t` (before anything happens at `t`).
    fn mark_warmup(&mut self, t: u64) {
        let billed = self.pool.billed_if_ended(t);
        self.at_warmup = Some(Mark {
            cost: self.cost_of(billed, self.pool.warm_ms(t)),
            billed_ms: billed.0 + billed.1,
            live_ms: self.pool.live_integral_until(t),
            current_ms: self.current_workers.until(t).unwrap_or_else(|| self.current_workers.integral()),
            queue_ms: self.tasks.queue_integral_until(t),
        });
        self.max_workers_measured = self.max_workers_measured.max(self.pool.current());
    }

    /// Terminates what is left at `end_time`, checks conservation, and summarises.
    fn finish(mut self) -> Result<Summary, ModelError> {
        let end = self.tasks.last_event_ms;
        if self.warmup_ms > 0 && self.at_warmup.is_none() {
            // The run ended within its warm-up: nothing of it is measured.
            self.mark_warmup(end);
            self.max_workers_measured = 0;
        }
        let Some(cw_integral) = self.current_workers.until(end) else {
            return Err(invariant(format!(
                "end {end} ms before the last worker change {} ms",
                self.current_workers.since_ms()
            )));
        };
        self.pool.terminate_all(end);
        // Conservation: every task arrived once and completed once; lives equal the integral of live workers.
        let tasks = &self.tasks;
        if tasks.completed != tasks.arrived || !tasks.queue_is_empty() || tasks.running() != 0 {
            return Err(invariant(format!(
                "{} tasks arrived but {} completed ({} queued, {} running)",
                tasks.arrived,
                tasks.completed,
                tasks.pending(),
                tasks.running()
            )));
        }
        if self.pool.lives_ms() != self.pool.live_integral() {
            return Err(invariant(format!(
                "worker lives sum to {} ms but the integral of live workers is {} ms",
                self.pool.lives_ms(),
                self.pool.live_integral()
            )));
        }
        let n = self.tasks.arrived;
        let ms = |v: u64| v as f64 / 1000.0;
        if let Some(mark) = self.at_warmup {
            return self.measured_summary(end, cw_integral, mark);
        }
        #[allow(clippy::cast_precision_loss)]
        let summary = Summary {
            tasks: n,
            wait_mean_s: if n == 0 { 0.0 } else { self.waits.sum_ms() as f64 / n as f64 / 1000.0 },
            wait_p50_s: ms(self.waits.nearest_rank(50, 100)?),
            wait_p95_s: ms(self.waits.nearest_rank(95, 100)?),
            wait_p99_s: ms(self.waits.nearest_rank(99, 100)?),
            wait_max_s: ms(self.waits.max_ms()),
            slo_violation_ratio: if n == 0 { 0.0 } else { self.waits.slo_violations as f64 / n as f64 },
            cost: self.cost_of((self.pool.billed_ms(), self.pool.spot_billed_ms()), self.pool.warm_ms(end)),
            worker_seconds: self.pool.lives_ms() as f64 / 1000.0,
            billed_worker_seconds: (self.pool.billed_ms() + self.pool.spot_billed_ms()) as f64 / 1000.0,
            scale_ups: self.scale_ups,
            scale_downs: self.scale_downs,
            mean_workers: if end == 0 { self.current_workers.value() as f64 } else { cw_integral as f64 / end as f64 },
            max_workers: self.max_workers_seen,
            end_time_s: ms(end),
            ticks: self.ticks,
            workers_requested: self.pool.requested(),
            slo_violations: self.waits.slo_violations,
            mean_queue_length: if end == 0 { 0.0 } else { self.tasks.queue_integral() as f64 / end as f64 },
            warm_starts: self.pool.warm_starts(),
            warm_pool_worker_seconds: self.pool.warm_ms(end) as f64 / 1000.0,
            cold_start_tasks: self.cold_waits.count,
            cold_start_wait_mean_s: if self.cold_waits.count == 0 {
                0.0
            } else {
                self.cold_waits.sum_ms() as f64 / self.cold_waits.count as f64 / 1000.0
            },
            cold_start_wait_p95_s: ms(self.cold_waits.nearest_rank(95, 100)?),
            cold_start_wait_max_s: ms(self.cold_waits.max_ms()),
            faults: self.faults.counts,
            warmup_s: 0.0,
            measured_tasks: None,
        };
        Ok(summary)
    }

    /// The summary of a run with a warm-up: its metrics over `[warmup, end]` (see
    /// [`Summary`]); `end`, the integral of `current_workers` over `[0, end]`.
    #[allow(clippy::cast_precision_loss)]
    fn measured_summary(&mut self, end: u64, cw_integral: u128, mark: Mark) -> Result<Summary, ModelError> {
        let ms = |v: u64| v as f64 / 1000.0;
        let mean = |sum: u128, count: u64| if count == 0 { 0.0 } else { sum as f64 / count as f64 / 1000.0 };
        let (p50, p95, p99) = (
            ms(self.waits.nearest_rank(50, 100)?),
            ms(self.waits.nearest_rank(95, 100)?),
            ms(self.waits.nearest_rank(99, 100)?),
        );
        let cold_p95 = ms(self.cold_waits.nearest_rank(95, 100)?);
        let w = &self.waits;
        let n = w.count;
        let span = end.saturating_sub(self.warmup_ms);
        let over_span = |integral: u128, before: u128| {
            if span == 0 {
                0.0
            } else {
                integral.saturating_sub(before) as f64 / span as f64
            }
        };
        let billed = self.pool.billed_ms() + self.pool.spot_billed_ms();
        let cost = self.cost_of((self.pool.billed_ms(), self.pool.spot_billed_ms()), self.pool.warm_ms(end));
        Ok(Summary {
            tasks: self.tasks.arrived,
            wait_mean_s: mean(w.sum_ms(), n),
            wait_p50_s: p50,
            wait_p95_s: p95,
            wait_p99_s: p99,
            wait_max_s: ms(w.max_ms()),
            slo_violation_ratio: if n == 0 { 0.0 } else { w.slo_violations as f64 / n as f64 },
            cost: (cost - mark.cost).max(0.0),
            worker_seconds: self.pool.lives_ms().saturating_sub(mark.live_ms) as f64 / 1000.0,
            billed_worker_seconds: billed.saturating_sub(mark.billed_ms) as f64 / 1000.0,
            scale_ups: self.scale_ups,
            scale_downs: self.scale_downs,
            mean_workers: over_span(cw_integral, mark.current_ms),
            max_workers: self.max_workers_measured,
            end_time_s: ms(end),
            ticks: self.ticks,
            workers_requested: self.pool.requested(),
            slo_violations: w.slo_violations,
            mean_queue_length: over_span(self.tasks.queue_integral(), mark.queue_ms),
            warm_starts: self.pool.warm_starts(),
            warm_pool_worker_seconds: self.pool.warm_ms(end) as f64 / 1000.0,
            cold_start_tasks: self.cold_waits.count,
            cold_start_wait_mean_s: mean(self.cold_waits.sum_ms(), self.cold_waits.count),
            cold_start_wait_p95_s: cold_p95,
            cold_start_wait_max_s: ms(self.cold_waits.max_ms()),
            faults: self.faults.counts,
            warmup_s: ms(self.warmup_ms),
            measured_tasks: Some(n),
        })
    }
}

/// Runs a whole simulation (see [`Engine::run`]).
pub fn simulate<S, E>(
    params: SimParams,
    source: &mut S,
    on_tick: impl FnMut(&TickRow) -> Result<(), E>,
) -> Result<Summary, E>
where
    S: TaskSource + ?Sized,
    E: From<S::Error> + From<ModelError>,
{
    Engine::new(params).run(source, on_tick)
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use scaler_core::{DurationMs, Fixed9, PolicyKind, Step};

    use super::*;
    use crate::pool::COMPACT_MIN;
    use crate::trace::VecSource;

    /// A run's rows and result, with the pool's compaction threshold set to `compact_min`;
    /// also the most worker entries held at once and the compactions made.
    fn run(
        params: &SimParams,
        tasks: &[Task],
        compact_min: usize,
    ) -> (Vec<TickRow>, Result<Summary, ModelError>, usize, usize) {
        let mut e = Engine::new(params.clone());
        e.pool.set_compact_min(compact_min);
        let mut rows = Vec::new();
        let r = e.drive(&mut VecSource::new(tasks.to_vec()), &mut |r: &TickRow| {
            rows.push(*r);
            Ok::<(), ModelError>(())
        });
        let (peak, compactions) = (e.pool.peak_table(), e.pool.compactions());
        (rows, r.and_then(|()| e.finish()), peak, compactions)
    }

    fn pick<T: Copy>(rng: &mut ChaCha8Rng, from: &[T]) -> T {
        from[rng.random_range(0..from.len())]
    }

    /// A random scenario: bursts of tasks, a small pool that scales often, random billing
    /// and (half the time) the swarm's faults. `None` when the scaler settings are invalid.
    fn scenario(case: u64) -> Option<(SimParams, Vec<Task>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(case);
        let interval = pick(&mut rng, &[1000, 3000, 15_000, 60_000]);
        let min_workers = rng.random_range(0..4);
        let scaler = ScalerConfig::builder()
            .policy(pick(
                &mut rng,
                &[PolicyKind::Threshold, PolicyKind::Threshold, PolicyKind::Queue, PolicyKind::Step],
            ))
            .min_workers(min_workers)
            .max_workers(min_workers + rng.random_range(1..120))
            .evaluation_interval(DurationMs(interval))
            .metrics_window(DurationMs(interval * rng.random_range(1..4)))
            .cooldown_period(DurationMs(pick(&mut rng, &[0, interval, 5 * interval])))
            .scale_up_threshold(Fixed9::from_units(rng.random_range(100_000_000..900_000_000)))
            .scale_down_threshold(Fixed9::from_units(rng.random_range(0..100_000_000)))
            .scale_up_step(Step::new(
                Fixed9::from_units(rng.random_range(0..300) * Fixed9::SCALE),
                rng.random_range(1..40),
            )?)
            .scale_down_step(Step::new(
                Fixed9::from_units(rng.random_range(0..100) * Fixed9::SCALE),
                rng.random_range(1..40),
            )?)
            .build()
            .ok()?;
        let any_minimum = rng.random_range(0..500_000);
        let cluster = Cluster {
            initial_workers: rng.random_range(0..30),
            slots_per_worker: rng.random_range(1..4),
            provision_delay: DurationMs(pick(&mut rng, &[0, 1, 700, 30_000, 200_000])),
            price_per_worker_hour: 1.0,
            billing_increment: DurationMs(pick(&mut rng, &[0, 1, 1000, 7_000, 61_000, 3_600_000])),
            billing_minimum: DurationMs(pick(&mut rng, &[0, 1, 1000, 60_000, any_minimum])),
            slo_wait: DurationMs(10_000),
            ephemeral_workers: false,
            spot: None,
            warm_pool: None,
            warmup: DurationMs::ZERO,
        };
        let mut faults = if rng.random_range(0..2) == 0 { Faults::swarm(case) } else { Faults::default() };
        if rng.random_range(0..4) == 0 {
            faults.crash_rate_per_hour = rng.random_range(5.0..20.0);
        }
        let mut tasks = Vec::new();
        let mut t = 0;
        for _ in 0..rng.random_range(1..40) {
            t += rng.random_range(0..600_000);
            let any = rng.random_range(0..300_000);
            let duration = pick(&mut rng, &[0, 1, 5_000, 60_000, any]);
            for _ in 0..rng.random_range(1..200) {
                tasks.push(Task { arrival_ms: t + rng.random_range(0..20_000), duration_ms: duration });
            }
        }
        tasks.sort_by_key(|x| x.arrival_ms);
        Some((SimParams { cluster, scaler, faults, seed: case }, tasks))
    }

    /// Dropping gone workers and renumbering the live ones changes nothing a run reports:
    /// every row and the summary (or the error) are those of a run that never compacts.
    /// Every tick's bill of the live workers is also checked against the one-by-one sum.
    #[test]
    fn compaction_changes_no_output() {
        let (mut runs, mut compacted, mut errors) = (0, 0, 0);
        for case in 0..400 {
            let Some((params, tasks)) = scenario(case) else { continue };
            let (rows, summary, _, none) = run(&params, &tasks, usize::MAX);
            let (rows_c, summary_c, _, compactions) = run(&params, &tasks, 1);
            assert_eq!(none, 0);
            assert_eq!(rows_c, rows, "case {case}: rows");
            assert_eq!(summary_c, summary, "case {case}: summary");
            runs += 1;
            compacted += usize::from(compactions > 0);
            errors += usize::from(summary.is_err());
        }
        assert!(runs > 300 && compacted > 100 && errors < 20, "{runs} runs, {compacted} compacted, {errors} errors");
    }

    /// A step of a million workers up and down, again and again: the pool's table holds the
    /// live workers and at most one step's gone ones, not every worker ever requested.
    #[test]
    fn a_repeated_million_worker_step_keeps_the_table_small() {
        const STEP: u32 = 999_999;
        const CYCLES: u64 = 8;
        let scaler = ScalerConfig::builder()
            .min_workers(1)
            .max_workers(STEP + 1)
            .cooldown_period(DurationMs::ZERO)
            .metrics_window(DurationMs::from_secs(1))
            .evaluation_interval(DurationMs::from_secs(1))
            .scale_up_step(Step::new(Fixed9::from_units(0), STEP).unwrap())
            .scale_down_step(Step::new(Fixed9::from_units(100 * Fixed9::SCALE), 1).unwrap())
            .build()
            .unwrap();
        let cluster = Cluster {
            initial_workers: 1,
            slots_per_worker: 1,
            provision_delay: DurationMs::ZERO,
            price_per_worker_hour: 1.0,
            billing_increment: DurationMs(1000),
            billing_minimum: DurationMs::from_secs(60),
            slo_wait: DurationMs::from_secs(60),
            ephemeral_workers: false,
            spot: None,
            warm_pool: None,
            warmup: DurationMs::ZERO,
        };
        // Three tasks every 2 s: one waits at the even tick (up a million), the next tick
        // finds the pool idle (down to one).
        let tasks: Vec<Task> =
            (0..CYCLES).flat_map(|k| [Task { arrival_ms: 2000 * k, duration_ms: 1500 }; 3]).collect();
        let params = SimParams { cluster, scaler, faults: Faults::default(), seed: 1 };
        let (_, summary, peak, compactions) = run(&params, &tasks, COMPACT_MIN);
        let s = summary.unwrap();
        assert_eq!((s.scale_ups, s.scale_downs), (CYCLES, CYCLES));
        assert_eq!(s.workers_requested, 1 + CYCLES * u64::from(STEP));
        assert_eq!(compactions as u64, CYCLES - 1);
        assert!(peak <= STEP as usize + 10, "the table held {peak} workers at once");
    }
}
