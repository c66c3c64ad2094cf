//! The worker pool: workers and their states, the two-level bitset of ready
//! workers with free slots, scaling up and the order of removal on scaling down,
//! and billing.
//!
//! # Memory: O(peak live workers)
//!
//! Ids increase as workers are requested. Once the gone workers are at least 1,024, and at
//! least the live ones plus half the entries of the heaps that name workers (provisioning
//! ends here; running tasks and crash times in the engine), `Pool::compact` drops them and
//! renumbers the live workers `0..live` in their order, so every order that depends on ids
//! (dispatch to the lowest free id, removal newest first, ties in the heaps) is unchanged;
//! heap entries of dropped workers keep only the instant they mark. The engine asks before
//! each scaling, so the table holds the live workers, one step's new ones and at most as
//! many gone ones as live workers and heap entries. A compaction's work (a pass over the
//! table, a sort of the heaps) is at most a constant times the workers it drops, times a
//! log: O(log) amortized per worker.
//!
//! # The cost column: O(1) amortized per tick
//!
//! At every tick the engine asks for the bill so far with the live workers counted as if
//! they ended now (`Pool::billed_if_ended`). A life `x` is billed `f(x) = max(m, inc *
//! ceil(x / inc))` (`m` the minimum, `inc` the increment, at least 1 ms), which is not a sum
//! of simple terms, so instead of summing `f` over the live workers the pool keeps counts:
//! - With `X0 = floor(m / inc) * inc`, `f(x) = m` for `x <= X0`. Workers are requested in time
//!   order, so those whose life is at most `X0` (young) are the most recently requested: a
//!   FIFO of `(request time, count)` groups, the oldest moved out as the clock passes them.
//! - Above `X0`, `f(x) = inc * ceil(x / inc)`. Writing the clock `t = qt * inc + st` and a
//!   request time `r = qr * inc + sr`, `ceil((t - r) / inc) = qt - qr + [sr < st]`, so the old
//!   workers' bills sum to `inc * (n * qt - sum(qr) + #{sr < st})`: kept are `n`, `sum(qr)`,
//!   the old workers by residue `sr` (an ordered map), and the count below `st`, moved with
//!   `st` by summing the map over the narrowest of `[st before, st)`, `[0, st)` and
//!   `[st, inc)`.
//!
//! A request, an end, and a group's move from young to old cost O(log) each. A tick costs
//! O(log d + k), `d` residues held and `k` of them in the range summed. The engine requests
//! workers and asks for the bill only at ticks, multiples of the evaluation interval `P`, so
//! residues lie on the `L = inc / gcd(inc, P)` points `j * gcd(inc, P)`, and `st` moves by
//! `u = (P mod inc) / gcd(inc, P)` of them per tick: the range holds at most `min(u, L - u)`
//! of them. When `P` is a multiple of `inc` (`L = 1`) or `inc` a multiple of `P` (`u = 1`),
//! which covers ticks every millisecond and the usual settings (`inc = 1 s` or `1 h`, `P =
//! 30 s`), `k <= 1`: O(1) per tick, plus O(log d) for the map's search. Unusual ratios (`inc =
//! 61 s`, `P = 30 s`) sum more, never more than the distinct request instants of the old
//! live workers. Within one increment of `u64::MAX` ms a bill can saturate; there, and only
//! there, the live workers' bills are summed one by one.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

use scaler_core::{DurationMs, Utilization};

use crate::stats::TimeIntegral;

/// The `[cluster]` table: the pool and its prices.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Ready workers at time 0.
    pub initial_workers: u32,
    /// Task slots per worker.
    pub slots_per_worker: u32,
    /// Time from a request to a ready worker.
    pub provision_delay: DurationMs,
    /// Price of one worker for one hour.
    pub price_per_worker_hour: f64,
    /// Billing rounds each life up to a multiple of this.
    pub billing_increment: DurationMs,
    /// Each life is billed at least this long.
    pub billing_minimum: DurationMs,
    /// Waits longer than this violate the SLO.
    pub slo_wait: DurationMs,
    /// Ephemeral workers (CI runners): a worker runs one task and terminates when it ends,
    /// and a scale-down removes idle workers first. Needs one slot per worker.
    pub ephemeral_workers: bool,
    /// Spot capacity: a share of the workers at a lower price, interrupted (`None`: all on
    /// demand).
    pub spot: Option<Spot>,
    /// A warm pool of pre-initialised stopped workers (`None`: none).
    pub warm_pool: Option<WarmPool>,
    /// The warm-up (`warmup_s`): `[0, warmup)` is simulated but not measured. Waits count
    /// only the tasks that arrive at or after it; cost, worker time, means over time and
    /// scale counts count from it (see `Summary`). Zero: everything is measured.
    pub warmup: DurationMs,
}

/// An AWS-style warm pool: `size` pre-initialised, stopped workers that start in
/// `start_delay` instead of the provisioning delay, cost `price_per_worker_hour` while
/// stopped, and are refilled (a new one prepares for the provisioning delay) when taken.
#[derive(Clone, Debug, PartialEq)]
pub struct WarmPool {
    /// Stopped workers kept (full at time 0).
    pub size: u32,
    /// From a warm worker's start to ready.
    pub start_delay: DurationMs,
    /// A stopped worker's price for one hour (its volumes).
    pub price_per_worker_hour: f64,
    /// Workers removed by a scale-in go back into the pool, when it has room (AWS's
    /// `ReuseOnScaleIn`), instead of terminating; idle and starting ones, not draining ones.
    pub reuse_on_scale_in: bool,
}

/// Spot capacity, as AWS's mixed-instances policy states it: the first `on_demand_base`
/// workers are on demand, and of the workers above that base `spot_percent` % are spot.
#[derive(Clone, Debug, PartialEq)]
pub struct Spot {
    /// Workers always on demand (`OnDemandBaseCapacity`).
    pub on_demand_base: u32,
    /// The share of the workers above the base that are spot, percent (`100 -
    /// OnDemandPercentageAboveBaseCapacity`), 1 to 100.
    pub spot_percent: u32,
    /// A spot worker's price for one hour.
    pub price_per_worker_hour: f64,
    /// Interruptions per spot worker-hour (a ready spot worker is interrupted after an
    /// exponential time drawn from the seed).
    pub interruptions_per_hour: f64,
    /// From the interruption notice to the worker's end (AWS: two minutes): it takes no new
    /// task meanwhile, and what still runs at the end goes back to the queue.
    pub notice: DurationMs,
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
    /// A spot worker (billed at the spot price, interruptible).
    spot: bool,
}

/// Ready workers with a free slot, by id; the lowest id is found by scanning a
/// summary word per 4,096 workers.
#[derive(Clone, Debug, Default)]
struct FreeSet {
    words: Vec<u64>,
    summary: Vec<u64>,
}

impl FreeSet {
    #[inline]
    fn insert(&mut self, id: u32) {
        let w = id as usize / 64;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
            self.summary.resize(w / 64 + 1, 0);
        }
        self.words[w] |= 1 << (id % 64);
        self.summary[w / 64] |= 1 << (w % 64);
    }

    #[inline]
    fn remove(&mut self, id: u32) {
        let w = id as usize / 64;
        if let Some(word) = self.words.get_mut(w) {
            *word &= !(1 << (id % 64));
            if *word == 0 {
                self.summary[w / 64] &= !(1 << (w % 64));
            }
        }
    }

    fn contains(&self, id: u32) -> bool {
        self.words.get(id as usize / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    #[inline]
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

/// The id that heap entries of a worker no longer in the pool carry after [`Pool::compact`]:
/// such entries only mark an instant (as a void entry did before), never a worker.
pub(crate) const NO_WORKER: u32 = u32::MAX;

/// Gone workers are dropped (and live ones renumbered) only once at least this many.
pub(crate) const COMPACT_MIN: usize = 1024;

/// The workers, by id, with their counts and what they have been billed.
pub(crate) struct Pool {
    slots: u32,
    /// Workers run one task each (`Cluster::ephemeral_workers`).
    ephemeral: bool,
    /// How new workers split between on demand and spot.
    spot: Option<Spot>,
    /// Live spot workers (provisioning, ready or draining).
    n_spot: u32,
    /// The warm pool's settings, its stopped workers ready to start, the ends of those being
    /// prepared, how many started from it, and its stopped and preparing workers over time.
    warm: Option<WarmPool>,
    n_warm: u32,
    /// Preparation ends, in order (they are pushed at non-decreasing times plus one delay).
    warm_filling: VecDeque<u64>,
    warm_starts: u64,
    warm_time: TimeIntegral,
    /// The live spot workers' bills, and what gone spot workers were billed.
    spot_bills: LiveBills,
    spot_billed_ms: u128,
    billing_increment_ms: u64,
    billing_minimum_ms: u64,
    /// Workers by id: the live ones and those gone since the last compaction.
    workers: Vec<Worker>,
    /// Workers requested so far, initial ones included.
    requested: u64,
    /// The most entries `workers` has held.
    peak_table: usize,
    /// Gone workers are dropped only once at least this many ([`COMPACT_MIN`]; tests vary it).
    compact_min: usize,
    /// Compactions so far.
    #[cfg(test)]
    compactions: usize,
    /// The live workers' bills as if they ended now.
    bills: LiveBills,
    /// Ids of workers not yet gone, increasing (gone ones are dropped lazily).
    live: Vec<u32>,
    free: FreeSet,
    /// Provisioning ends `(at, worker)`.
    provisioning: BinaryHeap<Reverse<(u64, u32)>>,
    n_prov: u32,
    n_ready: u32,
    n_drain: u32,
    busy_ready_slots: u64,
    billed_ms: u128,
    lives_ms: u128,
    /// Provisioning, ready and draining workers over time.
    live_workers: TimeIntegral,
}

impl Pool {
    /// A pool at time 0 with `initial_workers` ready workers (ids `0..initial_workers`).
    pub(crate) fn new(cluster: &Cluster) -> Pool {
        let initial = cluster.initial_workers;
        let (inc, min) = (cluster.billing_increment.as_ms(), cluster.billing_minimum.as_ms());
        let mut p = Pool {
            slots: cluster.slots_per_worker,
            ephemeral: cluster.ephemeral_workers,
            spot: cluster.spot.clone(),
            n_spot: 0,
            warm: cluster.warm_pool.clone(),
            n_warm: cluster.warm_pool.as_ref().map_or(0, |w| w.size),
            warm_filling: VecDeque::new(),
            warm_starts: 0,
            warm_time: TimeIntegral::new(u64::from(cluster.warm_pool.as_ref().map_or(0, |w| w.size))),
            spot_bills: LiveBills::new(inc, min),
            spot_billed_ms: 0,
            billing_increment_ms: inc,
            billing_minimum_ms: min,
            workers: Vec::with_capacity(initial as usize),
            requested: u64::from(initial),
            peak_table: initial as usize,
            compact_min: COMPACT_MIN,
            #[cfg(test)]
            compactions: 0,
            bills: LiveBills::new(inc, min),
            live: Vec::with_capacity(initial as usize),
            free: FreeSet::default(),
            provisioning: BinaryHeap::new(),
            n_prov: 0,
            n_ready: 0,
            n_drain: 0,
            busy_ready_slots: 0,
            billed_ms: 0,
            lives_ms: 0,
            live_workers: TimeIntegral::new(u64::from(initial)),
        };
        for id in 0..initial {
            let spot = p.next_is_spot();
            p.workers.push(Worker { state: WState::Ready, busy: 0, requested_ms: 0, generation: 0, spot });
            p.live.push(id);
            p.free.insert(id);
            p.n_ready += 1;
            p.n_spot += u32::from(spot);
            if spot {
                p.spot_bills.add(0, 1);
            } else {
                p.bills.add(0, 1);
            }
        }
        p
    }

    /// Whether the next worker requested is a spot one: the first `on_demand_base` live
    /// workers are on demand, and of those above the base, on-demand ones are kept at
    /// `ceil(above * (100 - spot_percent) / 100)`, the new worker included.
    fn next_is_spot(&self) -> bool {
        let Some(s) = &self.spot else { return false };
        let live = self.n_prov + self.n_ready + self.n_drain;
        let on_demand = live - self.n_spot;
        if on_demand < s.on_demand_base {
            return false;
        }
        let above = u64::from(live - s.on_demand_base.min(live)) + 1;
        let on_demand_wanted = (above * u64::from(100 - s.spot_percent)).div_ceil(100);
        u64::from(on_demand - s.on_demand_base) >= on_demand_wanted
    }

    /// Workers that started from the warm pool.
    pub(crate) fn warm_starts(&self) -> u64 {
        self.warm_starts
    }

    /// Stopped (and preparing) warm-pool worker time up to `t`, ms.
    pub(crate) fn warm_ms(&self, t: u64) -> u128 {
        self.warm_time.until(t).unwrap_or_else(|| self.warm_time.integral())
    }

    /// Warm workers whose preparation ended by `t` are ready to start.
    fn warm_refilled(&mut self, t: u64) {
        while let Some(&at) = self.warm_filling.front() {
            if at > t {
                break;
            }
            self.warm_filling.pop_front();
            self.n_warm += 1;
        }
    }

    /// A worker a scale-in removes at `t` goes back to the warm pool when it reuses them:
    /// it takes the place of the replacement prepared last (which is no longer needed), or of
    /// a free place; a full pool lets it terminate.
    fn warm_return(&mut self, t: u64) {
        let Some((reuse, size)) = self.warm.as_ref().map(|w| (w.reuse_on_scale_in, w.size)) else { return };
        if !reuse {
            return;
        }
        self.warm_refilled(t);
        if self.warm_filling.pop_back().is_some() {
            self.n_warm += 1;
            return;
        }
        let held = u64::from(self.n_warm) + self.warm_filling.len() as u64;
        if held < u64::from(size) {
            self.n_warm += 1;
            self.warm_time.set(t, held + 1);
        }
    }

    /// A ready worker starts draining: it takes no new task and ends with its last one.
    fn start_draining(&mut self, id: u32) {
        let w = &mut self.workers[id as usize];
        w.state = WState::Draining;
        self.n_ready -= 1;
        self.n_drain += 1;
        self.busy_ready_slots -= u64::from(w.busy);
        self.free.remove(id);
    }

    /// Whether worker `id` is a spot worker.
    #[inline]
    pub(crate) fn is_spot(&self, id: u32) -> bool {
        self.workers.get(id as usize).is_some_and(|w| w.spot)
    }

    /// A spot interruption's notice for worker `id` at `t`: an idle ready worker ends at once,
    /// a busy one drains (takes no new task). Returns whether it is still alive (to end at the
    /// notice's end).
    pub(crate) fn notice(&mut self, id: u32, t: u64) -> bool {
        let w = self.workers[id as usize];
        match w.state {
            WState::Ready if w.busy == 0 => {
                self.n_ready -= 1;
                self.terminate(id, t);
                false
            }
            WState::Ready => {
                self.start_draining(id);
                true
            }
            WState::Draining => true,
            WState::Provisioning | WState::Gone => false,
        }
    }

    /// Provisioning plus ready workers (`current_workers`).
    #[inline]
    pub(crate) fn current(&self) -> u32 {
        self.n_prov + self.n_ready
    }

    /// Ready workers.
    #[inline]
    pub(crate) fn ready(&self) -> u32 {
        self.n_ready
    }

    /// Provisioning workers.
    #[inline]
    pub(crate) fn provisioning(&self) -> u32 {
        self.n_prov
    }

    /// Draining workers.
    #[inline]
    pub(crate) fn draining(&self) -> u32 {
        self.n_drain
    }

    /// Workers requested so far, initial ones included.
    pub(crate) fn requested(&self) -> u64 {
        self.requested
    }

    /// The most worker entries held at once (live workers and gone ones not yet dropped).
    #[cfg(test)]
    pub(crate) fn peak_table(&self) -> usize {
        self.peak_table
    }

    /// Worker entries held now, and the capacities of the table and the live list.
    #[cfg(test)]
    pub(crate) fn table(&self) -> (usize, usize, usize) {
        (self.workers.len(), self.workers.capacity(), self.live.capacity())
    }

    /// Compactions so far.
    #[cfg(test)]
    pub(crate) fn compactions(&self) -> usize {
        self.compactions
    }

    /// Drops gone workers once at least `n` (`usize::MAX`: never).
    #[cfg(test)]
    pub(crate) fn set_compact_min(&mut self, n: usize) {
        self.compact_min = n;
    }

    /// The generation of live worker `id` (bumped by a crash).
    #[inline]
    pub(crate) fn generation(&self, id: u32) -> u32 {
        self.workers[id as usize].generation
    }

    /// Whether a running-task entry of worker `id` at `generation` is still valid: the worker
    /// has not crashed since (entries of workers dropped by [`Pool::compact`] carry
    /// [`NO_WORKER`] and are never valid).
    #[inline]
    pub(crate) fn runs(&self, id: u32, generation: u32) -> bool {
        self.workers.get(id as usize).is_some_and(|w| w.generation == generation)
    }

    /// The next provisioning end, if any.
    #[inline]
    pub(crate) fn next_ready_at(&self) -> Option<u64> {
        self.provisioning.peek().map(|Reverse((at, _))| *at)
    }

    /// Busy slots of ready workers / their slots, exact; with no ready worker, 1 if tasks
    /// wait (SPEC section 6.4).
    pub(crate) fn utilization(&self, pending: u64) -> Utilization {
        Utilization::of_pool(self.busy_ready_slots, u64::from(self.n_ready) * u64::from(self.slots), pending)
            .unwrap_or(Utilization::ONE)
    }

    /// Busy slots of the ready workers.
    #[inline]
    pub(crate) fn busy_ready_slots(&self) -> u64 {
        self.busy_ready_slots
    }

    /// Task slots per worker.
    #[inline]
    pub(crate) fn slots_per_worker(&self) -> u32 {
        self.slots
    }

    /// Takes a slot on the lowest-id ready worker with one free: `(worker, generation)`.
    #[inline]
    pub(crate) fn take_slot(&mut self) -> Option<(u32, u32)> {
        let w = self.free.first()?;
        let worker = &mut self.workers[w as usize];
        worker.busy += 1;
        self.busy_ready_slots += 1;
        if worker.busy >= self.slots {
            self.free.remove(w);
        }
        Some((w, worker.generation))
    }

    /// A task on worker `w` ended at `t`: its slot is free again, and a draining
    /// worker with nothing left to run terminates, as does an ephemeral worker.
    #[inline]
    pub(crate) fn release_slot(&mut self, w: u32, t: u64) {
        let worker = &mut self.workers[w as usize];
        worker.busy -= 1;
        match worker.state {
            WState::Ready if self.ephemeral => {
                self.busy_ready_slots -= 1;
                self.n_ready -= 1;
                self.terminate(w, t);
            }
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

    /// The next worker whose provisioning ends at or before `t` (no longer counted as
    /// provisioning: the caller makes it ready or fails it).
    #[inline]
    pub(crate) fn next_provisioned(&mut self, t: u64) -> Option<u32> {
        while let Some(&Reverse((at, id))) = self.provisioning.peek() {
            if at > t {
                break;
            }
            self.provisioning.pop();
            if self.workers.get(id as usize).is_none_or(|w| w.state != WState::Provisioning) {
                continue;
            }
            self.n_prov -= 1;
            return Some(id);
        }
        None
    }

    /// A provisioned worker becomes ready.
    #[inline]
    pub(crate) fn make_ready(&mut self, id: u32) {
        self.workers[id as usize].state = WState::Ready;
        self.n_ready += 1;
        self.free.insert(id);
    }

    /// Requests `k` workers at `t`, each ready after `delay(provision_delay)`.
    pub(crate) fn scale_up(&mut self, t: u64, k: u32, provision_delay: u64, mut delay: impl FnMut(u64) -> u64) {
        let mut spots = 0u64;
        // Warm workers first: they start in the warm pool's delay, and each is replaced by
        // one that prepares for the provisioning delay (the pool's count is unchanged).
        self.warm_refilled(t);
        let (from_warm, warm_delay) = match &self.warm {
            Some(w) => (k.min(self.n_warm), w.start_delay.as_ms()),
            None => (0, 0),
        };
        self.n_warm -= from_warm;
        self.warm_starts += u64::from(from_warm);
        for _ in 0..from_warm {
            self.warm_filling.push_back(t.saturating_add(provision_delay));
        }
        for i in 0..k {
            let base = if i < from_warm { warm_delay } else { provision_delay };
            let ready_at = t.saturating_add(delay(base));
            // Ids stay below 2 x (live workers + heap entries) + COMPACT_MIN (see `compact`).
            let id = u32::try_from(self.workers.len())
                .ok()
                .filter(|&id| id != NO_WORKER)
                .expect("worker ids fit u32 below NO_WORKER (max_workers is a u32 and gone workers are compacted)");
            let spot = self.next_is_spot();
            spots += u64::from(spot);
            self.n_spot += u32::from(spot);
            self.workers.push(Worker { state: WState::Provisioning, busy: 0, requested_ms: t, generation: 0, spot });
            self.live.push(id);
            self.provisioning.push(Reverse((ready_at, id)));
            self.n_prov += 1;
        }
        self.requested += u64::from(k);
        self.peak_table = self.peak_table.max(self.workers.len());
        self.bills.add(t, u64::from(k) - spots);
        self.spot_bills.add(t, spots);
        self.live_workers.set(t, self.live_count());
    }

    /// Up to `k` live workers matching `pick`, newest first.
    fn newest(&self, k: u32, pick: impl Fn(&Worker) -> bool) -> Vec<u32> {
        self.live.iter().rev().copied().filter(|&id| pick(&self.workers[id as usize])).take(k as usize).collect()
    }

    /// Removes `k` workers at `t`: provisioning ones first, then idle ready ones, then
    /// busy ready ones (which drain), newest first in each group. With ephemeral workers
    /// idle ready ones go first, as actions-runner-controller deletes idle runners.
    pub(crate) fn scale_down(&mut self, t: u64, k: u32) {
        let is_idle = |w: &Worker| w.state == WState::Ready && w.busy == 0;
        let is_provisioning = |w: &Worker| w.state == WState::Provisioning;
        let (cancel, idle) = if self.ephemeral {
            let idle = self.newest(k, is_idle);
            (self.newest(k - idle.len() as u32, is_provisioning), idle)
        } else {
            // Provisioning workers, newest first, cancelled at once; then idle ready ones,
            // newest first, terminated at once.
            let cancel = self.newest(k, is_provisioning);
            let idle = self.newest(k - cancel.len() as u32, is_idle);
            (cancel, idle)
        };
        // Busy ready workers, newest first, drain.
        let drain = self.newest(k - (cancel.len() + idle.len()) as u32, |w| w.state == WState::Ready && w.busy > 0);
        for id in cancel {
            self.n_prov -= 1;
            self.terminate(id, t);
            self.warm_return(t);
        }
        for id in idle {
            self.n_ready -= 1;
            self.terminate(id, t);
            self.warm_return(t);
        }
        for id in drain {
            self.start_draining(id);
        }
        self.live.retain(|&id| self.workers[id as usize].state != WState::Gone);
    }

    /// Whether worker `w` of `generation` is still up to crash (ready or draining).
    #[inline]
    pub(crate) fn can_crash(&self, w: u32, generation: u32) -> bool {
        self.workers.get(w as usize).is_some_and(|worker| {
            worker.generation == generation && matches!(worker.state, WState::Ready | WState::Draining)
        })
    }

    /// Worker `w` crashes at `t`: its running-task entries become void, and it is gone.
    pub(crate) fn crash(&mut self, w: u32, t: u64) {
        let worker = self.workers[w as usize];
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

    /// Terminates every live worker at `end`.
    pub(crate) fn terminate_all(&mut self, end: u64) {
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
    }

    fn live_count(&self) -> u64 {
        u64::from(self.n_prov) + u64::from(self.n_ready) + u64::from(self.n_drain)
    }

    /// Bills and removes a worker whose counts the caller has already updated.
    pub(crate) fn terminate(&mut self, id: u32, t: u64) {
        let w = &mut self.workers[id as usize];
        let life = t - w.requested_ms;
        w.state = WState::Gone;
        let (requested, spot) = (w.requested_ms, w.spot);
        self.free.remove(id);
        self.lives_ms += u128::from(life);
        let billed = u128::from(self.billed(life));
        if spot {
            self.spot_bills.remove(requested);
            self.spot_billed_ms += billed;
            self.n_spot -= 1;
        } else {
            self.bills.remove(requested);
            self.billed_ms += billed;
        }
        self.live_workers.set(t, self.live_count());
    }

    /// A life of `life_ms` as billed: rounded up to the increment, at least the minimum.
    fn billed(&self, life_ms: u64) -> u64 {
        let inc = self.billing_increment_ms.max(1);
        let rounded = life_ms.div_ceil(inc).saturating_mul(inc);
        rounded.max(self.billing_minimum_ms)
    }

    /// Billed so far, ms, counting live workers as if terminated at `t` (`t` never decreases
    /// from one call to the next, and is at least every live worker's request time).
    ///
    /// O(1) amortized for the engine's ticks (see [`LiveBills`]); the sum over live workers
    /// only when `t` is within one billing increment of `u64::MAX` ms, where a bill saturates.
    ///
    /// Returns `(on demand, spot)`.
    pub(crate) fn billed_if_ended(&mut self, t: u64) -> (u128, u128) {
        let od = match self.bills.total(t) {
            Some(b) => {
                #[cfg(test)]
                assert_eq!(b, self.billed_one_by_one(t, false), "live bills at {t} ms");
                b
            }
            None => self.billed_one_by_one(t, false),
        };
        let sp = match self.spot_bills.total(t) {
            Some(b) => {
                #[cfg(test)]
                assert_eq!(b, self.billed_one_by_one(t, true), "live spot bills at {t} ms");
                b
            }
            None => self.billed_one_by_one(t, true),
        };
        (self.billed_ms + od, self.spot_billed_ms + sp)
    }

    /// The live on-demand (or spot) workers' bills as if they ended at `t`, one by one.
    fn billed_one_by_one(&self, t: u64, spot: bool) -> u128 {
        self.live
            .iter()
            .map(|&id| &self.workers[id as usize])
            .filter(|w| w.state != WState::Gone && w.spot == spot)
            .map(|w| u128::from(self.billed(t - w.requested_ms)))
            .sum()
    }

    /// Drops the gone workers and renumbers the live ones `0..live` in their order, once the
    /// gone ones are at least [`COMPACT_MIN`] and at least the live ones plus half of `held`
    /// (the entries of the engine's heaps that name workers, which the caller rewrites), so
    /// that the work is at most a constant times the workers dropped.
    ///
    /// Returns the new id of every old id ([`NO_WORKER`] for a gone one), for the caller's
    /// heaps (see [`remap_heap`]); the pool's own are rewritten here.
    pub(crate) fn compact(&mut self, held: usize) -> Option<Vec<u32>> {
        let live = usize::try_from(self.live_count()).unwrap_or(usize::MAX);
        let gone = self.workers.len() - live;
        let held = held.saturating_add(self.provisioning.len());
        if gone < self.compact_min || gone < live.saturating_add(held / 2) {
            return None;
        }
        #[cfg(test)]
        {
            self.compactions += 1;
        }
        let mut map = Vec::with_capacity(self.workers.len());
        let mut next = 0u32;
        let mut free = FreeSet::default();
        for (old, w) in self.workers.iter().enumerate() {
            if w.state == WState::Gone {
                map.push(NO_WORKER);
                continue;
            }
            // The old id fits u32: it was one.
            if self.free.contains(old as u32) {
                free.insert(next);
            }
            map.push(next);
            next += 1;
        }
        self.workers.retain(|w| w.state != WState::Gone);
        self.live.clear();
        self.live.extend(0..next);
        self.free = free;
        remap_heap(&mut self.provisioning, |Reverse((at, id))| {
            let new = map.get(id as usize).copied().unwrap_or(NO_WORKER);
            (Reverse((at, new)), new == NO_WORKER)
        });
        Some(map)
    }

    /// Billed worker time of terminated spot workers, ms.
    pub(crate) fn spot_billed_ms(&self) -> u128 {
        self.spot_billed_ms
    }

    /// Billed worker time of terminated on-demand workers, ms.
    pub(crate) fn billed_ms(&self) -> u128 {
        self.billed_ms
    }

    /// Sum of the lives of terminated workers, ms.
    pub(crate) fn lives_ms(&self) -> u128 {
        self.lives_ms
    }

    /// The integral of live workers over time, worker-ms, up to the last change.
    pub(crate) fn live_integral(&self) -> u128 {
        self.live_workers.integral()
    }

    /// The integral of live workers over `[0, t]`, worker-ms (`t` not before the last change).
    pub(crate) fn live_integral_until(&self, t: u64) -> u128 {
        self.live_workers.until(t).unwrap_or_else(|| self.live_workers.integral())
    }
}

/// Rewrites the worker ids of a heap's entries with `f`, which returns the new entry and
/// whether it is void (its worker is no longer in the pool; it then names [`NO_WORKER`]).
/// Identical void entries become one: a void entry only marks an instant, so one per
/// distinct entry keeps every instant. Valid entries are all kept, even identical ones (two
/// alike tasks on one worker). The order of valid entries is unchanged by an order-preserving
/// renumbering, so the heap yields them as before.
pub(crate) fn remap_heap<T: Ord + Copy>(heap: &mut BinaryHeap<T>, mut f: impl FnMut(T) -> (T, bool)) {
    let mut entries: Vec<(T, bool)> = std::mem::take(heap).into_iter().map(&mut f).collect();
    entries.sort_unstable();
    entries.dedup_by(|next, kept| next.1 && kept.1 && next.0 == kept.0);
    *heap = entries.into_iter().map(|(e, _)| e).collect();
}

/// The live workers' bills as if they all ended at `now`, the last time asked
/// ([`LiveBills::total`]), kept from counts (see the module documentation: a FIFO of young
/// groups, and the old workers by billing residue).
#[derive(Clone, Debug)]
pub(crate) struct LiveBills {
    inc: u64,
    min: u64,
    /// `X0`: lives up to this are billed `min`.
    young_max: u64,
    /// `floor(u64::MAX / inc) * inc`: no bill saturates while `now` is at most this.
    exact_until: u64,
    now: u64,
    /// Workers whose life at `now` is at most `young_max`, as `(requested_ms, count)` groups
    /// in request order (a group whose workers all ended is kept, empty, until it is old or
    /// the empty groups are many).
    young: VecDeque<(u64, u64)>,
    young_n: u64,
    young_empty: usize,
    /// Old workers by `requested_ms % inc`.
    residues: BTreeMap<u64, u64>,
    old_n: u64,
    /// The sum of `requested_ms / inc` over old workers.
    old_q: u128,
    /// `now % inc`, and the old workers whose residue is below it.
    st: u64,
    below: u64,
}

impl LiveBills {
    /// No worker yet, billed `max(min, inc * ceil(life / inc))` with `inc = max(1, increment)`.
    pub(crate) fn new(increment: u64, min: u64) -> LiveBills {
        let inc = increment.max(1);
        LiveBills {
            inc,
            min,
            young_max: min / inc * inc,
            exact_until: u64::MAX / inc * inc,
            now: 0,
            young: VecDeque::new(),
            young_n: 0,
            young_empty: 0,
            residues: BTreeMap::new(),
            old_n: 0,
            old_q: 0,
            st: 0,
            below: 0,
        }
    }

    /// `k` workers requested at `r` (not before the last call's `now`, nor before earlier requests).
    pub(crate) fn add(&mut self, r: u64, k: u64) {
        if k == 0 {
            return;
        }
        debug_assert!(r >= self.now, "a request at {r} ms before the bill at {} ms", self.now);
        self.young_n += k;
        if let Some(back) = self.young.back_mut() {
            debug_assert!(r >= back.0, "requests out of time order");
            if back.0 == r {
                if back.1 == 0 {
                    self.young_empty -= 1;
                }
                back.1 += k;
                return;
            }
        }
        self.young.push_back((r, k));
    }

    /// One worker requested at `r` ended.
    pub(crate) fn remove(&mut self, r: u64) {
        if self.now.saturating_sub(r) <= self.young_max {
            let i = self.young.binary_search_by_key(&r, |g| g.0).expect("a young worker's group is in the FIFO");
            let g = &mut self.young[i];
            g.1 -= 1;
            self.young_n -= 1;
            if g.1 == 0 {
                self.young_empty += 1;
                if self.young_empty > 32 && self.young_empty > self.young.len() / 2 {
                    self.young.retain(|g| g.1 > 0);
                    self.young_empty = 0;
                }
            }
            return;
        }
        let sr = r % self.inc;
        let c = self.residues.get_mut(&sr).expect("an old worker's residue is counted");
        *c -= 1;
        if *c == 0 {
            self.residues.remove(&sr);
        }
        self.old_n -= 1;
        self.old_q -= u128::from(r / self.inc);
        if sr < self.st {
            self.below -= 1;
        }
    }

    /// The live workers' bills as if they ended at `t` (never before the last call), or
    /// `None` when some bill could saturate (`t` within one increment of `u64::MAX`): the
    /// caller then sums them one by one.
    pub(crate) fn total(&mut self, t: u64) -> Option<u128> {
        if t > self.exact_until {
            return None;
        }
        debug_assert!(t >= self.now, "bills asked at {t} ms after {} ms", self.now);
        self.now = t;
        while let Some(&(r, k)) = self.young.front() {
            if t.saturating_sub(r) <= self.young_max {
                break;
            }
            self.young.pop_front();
            if k == 0 {
                self.young_empty -= 1;
                continue;
            }
            self.young_n -= k;
            let sr = r % self.inc;
            *self.residues.entry(sr).or_insert(0) += k;
            self.old_n += k;
            self.old_q += u128::from(k) * u128::from(r / self.inc);
            if sr < self.st {
                self.below += k;
            }
        }
        self.seek(t % self.inc);
        let ceil_sum = u128::from(self.old_n) * u128::from(t / self.inc) - self.old_q + u128::from(self.below);
        Some(u128::from(self.young_n) * u128::from(self.min) + u128::from(self.inc) * ceil_sum)
    }

    /// Moves the residue `st` to `to`, keeping `below` = the old workers with a residue below it.
    fn seek(&mut self, to: u64) {
        let from = self.st;
        if to == from {
            return;
        }
        let between = to.abs_diff(from);
        let count = |r: std::ops::Range<u64>, m: &BTreeMap<u64, u64>| m.range(r).map(|(_, &c)| c).sum::<u64>();
        if between <= to && between <= self.inc - to {
            if to > from {
                self.below += count(from..to, &self.residues);
            } else {
                self.below -= count(to..from, &self.residues);
            }
        } else if to <= self.inc - to {
            self.below = count(0..to, &self.residues);
        } else {
            self.below = self.old_n - count(to..self.inc, &self.residues);
        }
        self.st = to;
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// `Pool::billed`, the definition.
    fn billed(life: u64, increment: u64, min: u64) -> u64 {
        let inc = increment.max(1);
        life.div_ceil(inc).saturating_mul(inc).max(min)
    }

    fn pick<T: Copy>(rng: &mut ChaCha8Rng, from: &[T]) -> T {
        from[rng.random_range(0..from.len())]
    }

    /// Model test: random requests, ends and bills (the clock never going back, ticks on a
    /// grid or anywhere, increments and minimums of 0, 1, small, odd and huge) against the
    /// sum of every live worker's bill.
    #[test]
    fn live_bills_equal_the_sum_over_live_workers() {
        for case in 0..3_000u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(case);
            let inc: u64 = match rng.random_range(0..8) {
                0 => 0,
                1 => 1,
                2 => rng.random_range(2..10),
                3 => 1000,
                4 => 61_000,
                5 => 3_600_000,
                6 => rng.random_range(1..1_000_000_000),
                _ => pick(&mut rng, &[u64::MAX / 3, u64::MAX - 1, u64::MAX]),
            };
            let i = inc.max(1);
            let min: u64 = match rng.random_range(0..7) {
                0 => 0,
                1 => 1,
                2 => i - 1,
                3 => i,
                4 => i.saturating_add(1),
                5 => i.saturating_mul(rng.random_range(2..7)).saturating_sub(rng.random_range(0..2)),
                _ => rng.random::<u64>() >> rng.random_range(0..64),
            };
            // The clock: from 0, or near the end of time (where bills saturate).
            let mut now: u64 =
                if rng.random_range(0..10) == 0 { u64::MAX - rng.random_range(0..3 * i.min(1 << 40)) } else { 0 };
            let grid: u64 = pick(&mut rng, &[1, 7, 1000, 30_000, 60_000, 61_000, 3_600_000]);
            let mut bills = LiveBills::new(inc, min);
            let mut live: Vec<u64> = Vec::new();
            for _ in 0..rng.random_range(1..300) {
                match rng.random_range(0..10) {
                    0..=2 => {
                        let k = if rng.random_range(0..5) == 0 { rng.random_range(0..100) } else { 1 };
                        bills.add(now, k);
                        live.extend(std::iter::repeat_n(now, k as usize));
                    }
                    3..=4 if !live.is_empty() => {
                        let r = live.swap_remove(rng.random_range(0..live.len()));
                        bills.remove(r);
                    }
                    _ => {
                        let step = match rng.random_range(0..4) {
                            0 => 0,
                            1 => grid,
                            2 => grid * rng.random_range(1..5),
                            _ => rng.random_range(0..3 * i.min(1 << 40)),
                        };
                        now = now.saturating_add(step);
                        let want: u128 = live.iter().map(|&r| u128::from(billed(now - r, inc, min))).sum();
                        match bills.total(now) {
                            Some(got) => assert_eq!(got, want, "case {case}: inc {inc} min {min} at {now}"),
                            None => assert!(now > u64::MAX / i * i, "case {case}: exact sums refused at {now}"),
                        }
                    }
                }
            }
        }
    }

    /// The pool's bill as if its workers ended (checked against the one-by-one sum in every
    /// call under test) stays exact through compactions, crashes and removals.
    #[test]
    fn the_pool_renumbers_its_workers_in_order() {
        let cluster = Cluster {
            initial_workers: 3,
            slots_per_worker: 2,
            provision_delay: DurationMs(10),
            price_per_worker_hour: 1.0,
            billing_increment: DurationMs(7),
            billing_minimum: DurationMs(20),
            slo_wait: DurationMs(0),
            ephemeral_workers: false,
            spot: None,
            warm_pool: None,
            warmup: DurationMs::ZERO,
        };
        let mut p = Pool::new(&cluster);
        p.set_compact_min(1);
        p.scale_up(0, 5, 10, |d| d);
        assert_eq!(p.next_provisioned(10), Some(3));
        p.make_ready(3);
        assert_eq!(p.take_slot(), Some((0, 0)));
        // Workers 1 and 2 ready and idle, 4..=7 provisioning: remove the four provisioning
        // and worker 3, newest first.
        p.scale_down(10, 5);
        assert_eq!(p.current(), 3);
        let map = p.compact(0).expect("five gone of eight");
        assert_eq!(map, vec![0, 1, 2, NO_WORKER, NO_WORKER, NO_WORKER, NO_WORKER, NO_WORKER]);
        assert_eq!(p.next_provisioned(20), None, "the cancelled provisioning only marks instants");
        assert_eq!(p.table().0, 3);
        assert_eq!(p.requested(), 8);
        assert_eq!((p.take_slot(), p.take_slot(), p.take_slot()), (Some((0, 0)), Some((1, 0)), Some((1, 0))));
        // Five ended at 10 ms, billed the 20 ms minimum; three live for 20 ms, billed 21.
        assert_eq!(p.billed_if_ended(20), (5 * 20 + 3 * 21, 0));
        p.crash(1, 25);
        assert!(!p.runs(1, 0) && p.runs(0, 0) && !p.runs(NO_WORKER, 0));
        assert_eq!(p.billed_if_ended(30), (5 * 20 + 28 + 2 * 35, 0));
    }

    #[test]
    fn an_ephemeral_worker_exits_with_its_task_and_idle_ones_go_first() {
        let cluster = Cluster {
            initial_workers: 3,
            slots_per_worker: 1,
            provision_delay: DurationMs(10),
            price_per_worker_hour: 1.0,
            billing_increment: DurationMs(1),
            billing_minimum: DurationMs(0),
            slo_wait: DurationMs(0),
            ephemeral_workers: true,
            spot: None,
            warm_pool: None,
            warmup: DurationMs::ZERO,
        };
        let mut p = Pool::new(&cluster);
        p.scale_up(0, 2, 10, |d| d);
        assert_eq!((p.current(), p.ready(), p.provisioning()), (5, 3, 2));
        // Worker 0 takes a task and exits when it ends: it takes no second one.
        assert_eq!(p.take_slot(), Some((0, 0)));
        p.release_slot(0, 7);
        assert_eq!((p.current(), p.ready(), p.busy_ready_slots()), (4, 2, 0));
        assert_eq!(p.take_slot(), Some((1, 0)), "the next task goes to another worker");
        // A scale-down of 2 removes the idle ready worker (2) before a starting one, then
        // the newest starting one (4); the busy worker 1 keeps its task.
        p.scale_down(8, 2);
        assert_eq!((p.current(), p.ready(), p.provisioning(), p.draining()), (2, 1, 1, 0));
        p.release_slot(1, 9);
        assert_eq!(p.current(), 1);
        // Lives: 7 (worker 0), 8 (worker 2), 8 (worker 4 cancelled), 9 (worker 1); 3 is live.
        assert_eq!(p.billed_if_ended(20), (7 + 8 + 8 + 9 + 20, 0));
    }

    #[test]
    fn spot_workers_follow_the_base_and_the_percent_above_it_and_bill_apart() {
        let cluster = Cluster {
            initial_workers: 6,
            slots_per_worker: 1,
            provision_delay: DurationMs(10),
            price_per_worker_hour: 1.0,
            billing_increment: DurationMs(1),
            billing_minimum: DurationMs(0),
            slo_wait: DurationMs(0),
            ephemeral_workers: false,
            spot: Some(Spot {
                on_demand_base: 2,
                spot_percent: 50,
                price_per_worker_hour: 0.3,
                interruptions_per_hour: 0.0,
                notice: DurationMs(120_000),
            }),
            warm_pool: None,
            warmup: DurationMs::ZERO,
        };
        let mut p = Pool::new(&cluster);
        // Two on demand (the base), then above it on demand rounded up: od, spot, od, spot.
        let flags: Vec<bool> = (0..6).map(|id| p.is_spot(id)).collect();
        assert_eq!(flags, [false, false, false, true, false, true]);
        p.scale_up(0, 2, 10, |d| d);
        assert_eq!((p.is_spot(6), p.is_spot(7)), (false, true));
        assert_eq!(p.billed_if_ended(10), (5 * 10, 3 * 10));
        // A notice: the idle spot worker 3 ends at once; a busy one drains.
        assert!(!p.notice(3, 10));
        assert_eq!((p.current(), p.ready()), (7, 5));
        let (w, _) = p.take_slot().expect("a ready worker");
        assert_eq!(w, 0);
        for _ in 0..4 {
            p.take_slot();
        }
        assert!(p.notice(5, 12), "busy: it drains");
        assert_eq!(p.draining(), 1);
        p.crash(5, 20);
        assert_eq!(p.billed_if_ended(20), (5 * 20, 10 + 20 + 20));
    }

    #[test]
    fn warm_workers_start_fast_are_refilled_and_take_back_what_a_scale_in_removes() {
        let cluster = Cluster {
            initial_workers: 0,
            slots_per_worker: 1,
            provision_delay: DurationMs(100),
            price_per_worker_hour: 1.0,
            billing_increment: DurationMs(1),
            billing_minimum: DurationMs(0),
            slo_wait: DurationMs(0),
            ephemeral_workers: false,
            spot: None,
            warm_pool: Some(WarmPool {
                size: 2,
                start_delay: DurationMs(5),
                price_per_worker_hour: 0.1,
                reuse_on_scale_in: true,
            }),
            warmup: DurationMs::ZERO,
        };
        let mut p = Pool::new(&cluster);
        // Three asked at 0: two from the warm pool (ready at 5), one new (ready at 100).
        p.scale_up(0, 3, 100, |d| d);
        assert_eq!(p.next_provisioned(5), Some(0));
        assert_eq!(p.next_provisioned(5), Some(1));
        assert_eq!(p.next_provisioned(99), None);
        assert_eq!(p.warm_starts(), 2);
        // The two replacements prepare until 100: one asked at 50 starts cold.
        p.scale_up(50, 1, 100, |d| d);
        assert_eq!(p.warm_starts(), 2);
        // At 120 both are ready to start: fast again.
        p.scale_up(120, 1, 100, |d| d);
        assert_eq!(p.warm_starts(), 3);
        // A scale-in at 130 cancels the newest starting worker (4), which takes back the
        // place of the replacement prepared last (ready at 220), so the next start at 140 is
        // warm at once.
        p.scale_down(130, 1);
        p.scale_up(140, 1, 100, |d| d);
        assert_eq!(p.warm_starts(), 4);
        // The warm pool held its two places all along.
        assert_eq!(p.warm_ms(200), 2 * 200);
    }
}
