//! What the run measures as it goes: every wait (for exact percentiles) and
//! time integrals of counts (workers, live workers, queue length).

/// The integral over time of a count that changes at instants: `sum(value * duration)`,
/// in count-ms, kept exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeIntegral {
    value: u64,
    since_ms: u64,
    integral: u128,
}

impl TimeIntegral {
    /// A count of `value` from time 0.
    #[must_use]
    pub fn new(value: u64) -> TimeIntegral {
        TimeIntegral { value, since_ms: 0, integral: 0 }
    }

    /// The count changes to `value` at `t` (nothing happens if it is unchanged).
    #[inline]
    pub fn set(&mut self, t: u64, value: u64) {
        if value != self.value {
            self.integral += u128::from(self.value) * u128::from(t - self.since_ms);
            self.since_ms = t;
            self.value = value;
        }
    }

    /// The count now.
    #[must_use]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// When the count last changed.
    #[must_use]
    pub fn since_ms(&self) -> u64 {
        self.since_ms
    }

    /// The integral up to the last change.
    #[must_use]
    pub fn integral(&self) -> u128 {
        self.integral
    }

    /// The integral up to `end`, or `None` if `end` is before the last change.
    #[must_use]
    pub fn until(&self, end: u64) -> Option<u128> {
        (end >= self.since_ms).then(|| self.integral + u128::from(self.value) * u128::from(end - self.since_ms))
    }
}

/// Every wait, for exact nearest-rank percentiles (4 bytes a task while waits fit).
#[derive(Clone, Debug)]
enum Waits {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Waits {
    #[inline]
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

/// The waits of dispatched tasks (a retried task's wait counts once, at its first dispatch).
#[derive(Clone, Debug)]
pub(crate) struct WaitStats {
    waits: Waits,
    sum_ms: u128,
    max_ms: u64,
    /// Waits longer than the SLO.
    pub(crate) slo_violations: u64,
}

impl WaitStats {
    pub(crate) fn new() -> WaitStats {
        WaitStats { waits: Waits::Narrow(Vec::new()), sum_ms: 0, max_ms: 0, slo_violations: 0 }
    }

    /// A task waited `wait` ms; waits above `slo_ms` violate the SLO.
    #[inline]
    pub(crate) fn record(&mut self, wait: u64, slo_ms: u64) {
        self.waits.push(wait);
        self.sum_ms += u128::from(wait);
        self.max_ms = self.max_ms.max(wait);
        if wait > slo_ms {
            self.slo_violations += 1;
        }
    }

    /// The sum of the waits, ms.
    pub(crate) fn sum_ms(&self) -> u128 {
        self.sum_ms
    }

    /// The longest wait, ms.
    pub(crate) fn max_ms(&self) -> u64 {
        self.max_ms
    }

    /// The `q_num / q_den` nearest-rank percentile, ms.
    pub(crate) fn nearest_rank(&mut self, q_num: u64, q_den: u64) -> u64 {
        self.waits.nearest_rank(q_num, q_den)
    }
}
