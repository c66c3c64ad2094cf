//! Tasks in the pool: the FIFO queue, running tasks by end time, and the
//! completions window that `avg_task_duration_s` is computed over.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use scaler_core::{CompletionWindow, DurationMs, TimeMs};

use crate::pool::{remap_heap, NO_WORKER};
use crate::stats::TimeIntegral;
use crate::trace::Task;

/// A task waiting in the queue (one of `count` alike: see [`Run`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Queued {
    pub(crate) arrival_ms: u64,
    pub(crate) duration_ms: u64,
    /// Run again after a crash: its wait was recorded at its first dispatch.
    pub(crate) retry: bool,
    /// It arrived while no worker was ready: it waits for a cold start.
    pub(crate) cold: bool,
}

/// `count` alike tasks in a row of the queue (same arrival, duration and retry flag): a bin
/// of a rate trace whose arrivals share milliseconds is one entry per millisecond, not one per
/// task, so the queue's memory grows with the distinct arrivals waiting, not the tasks.
#[derive(Clone, Copy, Debug)]
struct Run {
    arrival_ms: u64,
    duration_ms: u64,
    /// Up to `u32::MAX` (a longer row of alike tasks takes several runs); with the flag it
    /// fits the padding, so a run is no larger than a task was.
    count: u32,
    retry: bool,
    cold: bool,
}

impl Run {
    fn task(&self) -> Queued {
        Queued { arrival_ms: self.arrival_ms, duration_ms: self.duration_ms, retry: self.retry, cold: self.cold }
    }
}

/// A running task. Ordered by end time first (then worker, duration, arrival, generation),
/// so that the heap yields the earliest end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RunningTask {
    /// When it completes, ms.
    pub(crate) end_ms: u64,
    /// The worker it runs on.
    pub(crate) worker: u32,
    /// Its run time, ms.
    pub(crate) duration_ms: u64,
    /// When it arrived, ms.
    pub(crate) arrival_ms: u64,
    /// The worker's generation when it started: void once the worker crashed.
    pub(crate) generation: u32,
}

/// The queue, the running tasks and the task counts.
pub(crate) struct Tasks {
    queue: VecDeque<Run>,
    /// Tasks in the queue (the sum of the runs' counts).
    queued: u64,
    /// The queue length over time.
    queue_len: TimeIntegral,
    /// Running tasks, earliest end first.
    running: BinaryHeap<Reverse<RunningTask>>,
    /// Valid entries in `running`.
    running_count: u64,
    completions: CompletionWindow,
    pub(crate) arrived: u64,
    pub(crate) completed: u64,
    /// The last arrival or completion.
    pub(crate) last_event_ms: u64,
}

impl Tasks {
    pub(crate) fn new() -> Tasks {
        Tasks {
            queue: VecDeque::new(),
            queued: 0,
            queue_len: TimeIntegral::new(0),
            running: BinaryHeap::new(),
            running_count: 0,
            completions: CompletionWindow::new(),
            arrived: 0,
            completed: 0,
            last_event_ms: 0,
        }
    }

    /// Queued tasks.
    #[inline]
    pub(crate) fn pending(&self) -> u64 {
        self.queued
    }

    /// True when no task waits.
    #[inline]
    pub(crate) fn queue_is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Running tasks (valid heap entries).
    #[inline]
    pub(crate) fn running(&self) -> u64 {
        self.running_count
    }

    /// The integral of the queue length over time, task-ms.
    pub(crate) fn queue_integral(&self) -> u128 {
        self.queue_len.integral()
    }

    /// The integral of the queue length over `[0, t]`, task-ms (`t` not before the last change).
    pub(crate) fn queue_integral_until(&self, t: u64) -> u128 {
        self.queue_len.until(t).unwrap_or_else(|| self.queue_len.integral())
    }

    /// Entries of the running-task heap, void ones included.
    pub(crate) fn running_entries(&self) -> usize {
        self.running.len()
    }

    /// Renumbers the workers of the running tasks (`map[old]`, see `Pool::compact`): entries
    /// of workers no longer in the pool are void and keep only their end time.
    pub(crate) fn remap_workers(&mut self, map: &[u32]) {
        remap_heap(&mut self.running, |Reverse(r)| {
            let new = map.get(r.worker as usize).copied().unwrap_or(NO_WORKER);
            if new == NO_WORKER {
                let void =
                    RunningTask { end_ms: r.end_ms, worker: NO_WORKER, duration_ms: 0, arrival_ms: 0, generation: 0 };
                (Reverse(void), true)
            } else {
                (Reverse(RunningTask { worker: new, ..r }), false)
            }
        });
    }

    /// The earliest end of a running task (void entries included).
    #[inline]
    pub(crate) fn next_end(&self) -> Option<u64> {
        self.running.peek().map(|Reverse(r)| r.end_ms)
    }

    /// A task arrives at `t`, at the back of the queue; `cold` when no worker is ready.
    #[inline]
    pub(crate) fn arrive(&mut self, t: u64, task: Task, cold: bool) {
        match self.queue.back_mut() {
            Some(r)
                if r.arrival_ms == task.arrival_ms
                    && r.duration_ms == task.duration_ms
                    && !r.retry
                    && r.cold == cold
                    && r.count < u32::MAX =>
            {
                r.count += 1;
            }
            _ => self.queue.push_back(Run {
                arrival_ms: task.arrival_ms,
                duration_ms: task.duration_ms,
                count: 1,
                retry: false,
                cold,
            }),
        }
        self.queued += 1;
        self.queue_len.set(t, self.queued);
        self.arrived += 1;
        self.last_event_ms = t;
    }

    /// The head of the queue, taken at `t`.
    #[inline]
    pub(crate) fn pop_queued(&mut self, t: u64) -> Option<Queued> {
        let front = self.queue.front_mut()?;
        let task = front.task();
        if front.count > 1 {
            front.count -= 1;
        } else {
            self.queue.pop_front();
        }
        self.queued -= 1;
        self.queue_len.set(t, self.queued);
        Some(task)
    }

    /// `task` starts at `t` on `worker` of `generation` (a task of zero duration never runs).
    #[inline]
    pub(crate) fn start(&mut self, t: u64, worker: u32, generation: u32, task: Queued) {
        self.running.push(Reverse(RunningTask {
            end_ms: t + task.duration_ms,
            worker,
            duration_ms: task.duration_ms,
            arrival_ms: task.arrival_ms,
            generation,
        }));
        self.running_count += 1;
    }

    /// The next running task that ends at or before `t`; entries for which `valid` is
    /// false (voided by a crash) are dropped.
    #[inline]
    pub(crate) fn pop_ended(&mut self, t: u64, valid: impl Fn(&RunningTask) -> bool) -> Option<RunningTask> {
        while let Some(&Reverse(r)) = self.running.peek() {
            if r.end_ms > t {
                break;
            }
            self.running.pop();
            if valid(&r) {
                self.running_count -= 1;
                return Some(r);
            }
        }
        None
    }

    /// A task of `dur` ms completed at `t`.
    #[inline]
    pub(crate) fn complete(&mut self, t: u64, dur: u64) {
        self.completed += 1;
        self.last_event_ms = t;
        self.completions.record(TimeMs(t), DurationMs(dur));
    }

    /// The running tasks of `worker` of `generation` are lost at `t`: they go back to the
    /// head of the queue, in arrival order. Returns how many.
    pub(crate) fn requeue_lost(&mut self, t: u64, worker: u32, generation: u32) -> u64 {
        let mut lost: Vec<(u64, u64)> = self
            .running
            .iter()
            .filter(|Reverse(r)| r.worker == worker && r.generation == generation)
            .map(|Reverse(r)| (r.arrival_ms, r.duration_ms))
            .collect();
        lost.sort_unstable();
        self.running_count -= lost.len() as u64;
        for &(arrival, dur) in lost.iter().rev() {
            self.queue.push_front(Run { arrival_ms: arrival, duration_ms: dur, count: 1, retry: true, cold: false });
            self.queued += 1;
        }
        self.queue_len.set(t, self.queued);
        lost.len() as u64
    }

    /// `avg_task_duration` at `t`: the mean of the completions in the last `window`.
    pub(crate) fn avg_duration(&mut self, t: TimeMs, window: DurationMs) -> DurationMs {
        self.completions.mean_at(t, window)
    }
}
