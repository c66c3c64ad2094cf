//! The worker pool: workers and their states, the two-level bitset of ready
//! workers with free slots, scaling up and the order of removal on scaling down,
//! and billing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

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

/// The workers, by id, with their counts and what they have been billed.
pub(crate) struct Pool {
    slots: u32,
    billing_increment_ms: u64,
    billing_minimum_ms: u64,
    workers: Vec<Worker>,
    /// Ids of workers not yet gone, increasing.
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
        let mut p = Pool {
            slots: cluster.slots_per_worker,
            billing_increment_ms: cluster.billing_increment.as_ms(),
            billing_minimum_ms: cluster.billing_minimum.as_ms(),
            workers: Vec::with_capacity(initial as usize),
            live: Vec::with_capacity(initial as usize),
            free: FreeSet::default(),
            provisioning: BinaryHeap::new(),
            n_prov: 0,
            n_ready: initial,
            n_drain: 0,
            busy_ready_slots: 0,
            billed_ms: 0,
            lives_ms: 0,
            live_workers: TimeIntegral::new(u64::from(initial)),
        };
        for id in 0..initial {
            p.workers.push(Worker { state: WState::Ready, busy: 0, requested_ms: 0, generation: 0 });
            p.live.push(id);
            p.free.insert(id);
        }
        p
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
        self.workers.len() as u64
    }

    /// The generation of worker `id` (bumped by a crash).
    #[inline]
    pub(crate) fn generation(&self, id: u32) -> u32 {
        self.workers[id as usize].generation
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
    /// worker with nothing left to run terminates.
    #[inline]
    pub(crate) fn release_slot(&mut self, w: u32, t: u64) {
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

    /// The next worker whose provisioning ends at or before `t` (no longer counted as
    /// provisioning: the caller makes it ready or fails it).
    #[inline]
    pub(crate) fn next_provisioned(&mut self, t: u64) -> Option<u32> {
        while let Some(&Reverse((at, id))) = self.provisioning.peek() {
            if at > t {
                break;
            }
            self.provisioning.pop();
            if self.workers[id as usize].state != WState::Provisioning {
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
        for _ in 0..k {
            let ready_at = t.saturating_add(delay(provision_delay));
            let id = u32::try_from(self.workers.len()).expect("worker ids fit u32 (max_workers is bounded)");
            self.workers.push(Worker { state: WState::Provisioning, busy: 0, requested_ms: t, generation: 0 });
            self.live.push(id);
            self.provisioning.push(Reverse((ready_at, id)));
            self.n_prov += 1;
        }
        self.live_workers.set(t, self.live_count());
    }

    /// Up to `k` live workers matching `pick`, newest first.
    fn newest(&self, k: u32, pick: impl Fn(&Worker) -> bool) -> Vec<u32> {
        self.live.iter().rev().copied().filter(|&id| pick(&self.workers[id as usize])).take(k as usize).collect()
    }

    /// Removes `k` workers at `t`: provisioning ones first, then idle ready ones, then
    /// busy ready ones (which drain), newest first in each group.
    pub(crate) fn scale_down(&mut self, t: u64, k: u32) {
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

    /// Whether worker `w` of `generation` is still up to crash (ready or draining).
    #[inline]
    pub(crate) fn can_crash(&self, w: u32, generation: u32) -> bool {
        let worker = &self.workers[w as usize];
        worker.generation == generation && matches!(worker.state, WState::Ready | WState::Draining)
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
        self.free.remove(id);
        self.lives_ms += u128::from(life);
        self.billed_ms += u128::from(self.billed(life));
        self.live_workers.set(t, self.live_count());
    }

    /// A life of `life_ms` as billed: rounded up to the increment, at least the minimum.
    fn billed(&self, life_ms: u64) -> u64 {
        let inc = self.billing_increment_ms.max(1);
        let rounded = life_ms.div_ceil(inc).saturating_mul(inc);
        rounded.max(self.billing_minimum_ms)
    }

    /// Billed so far, ms, counting live workers as if terminated at `t`.
    pub(crate) fn billed_if_ended(&mut self, t: u64) -> u128 {
        self.live.retain(|&id| self.workers[id as usize].state != WState::Gone);
        let live_billed: u128 =
            self.live.iter().map(|&id| u128::from(self.billed(t - self.workers[id as usize].requested_ms))).sum();
        self.billed_ms + live_billed
    }

    /// Billed worker time of terminated workers, ms.
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
}
