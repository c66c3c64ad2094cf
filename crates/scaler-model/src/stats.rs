//! What the run measures as it goes: every wait (a histogram of distinct waits, for exact
//! percentiles) and time integrals of counts (workers, live workers, queue length).

use crate::error::ModelError;

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

/// Waits below this many ms are counted in a dense array (8 bytes per value up to the
/// longest such wait seen, at most 512 KiB); longer ones in the sparse part.
pub(crate) const DENSE_WAITS: u64 = 65_536;

/// The sparse part merges its pending entries into its sorted run when they are this many,
/// or a quarter of what the run holds, whichever is more.
const PENDING_MIN: usize = 4_096;

/// Pending entries that make a merge, with `run` entries in the run.
fn pending_limit(run: usize) -> usize {
    PENDING_MIN.max(run / 4)
}

/// What a failed allocation of the wait record says.
const WAITS_WHAT: &str = "the distinct waits of dispatched tasks (kept for exact percentiles)";
const WAITS_LOWER: &str =
    "lower the trace's arrivals in its busiest bins, or add workers so that waits take fewer distinct values";

/// `len` more elements of `T` could not be reserved for the wait record.
fn waits_oom<T>(len: usize) -> ModelError {
    let bytes = (len as u64).saturating_mul(size_of::<T>() as u64);
    ModelError::OutOfMemory { what: WAITS_WHAT, bytes, lower: WAITS_LOWER }
}

/// Every wait, as a histogram of its distinct values (ms) with their counts, for exact
/// nearest-rank percentiles: memory grows with the distinct waits (at most the tasks, and at
/// most the longest wait in ms), not with the tasks.
///
/// Waits below [`DENSE_WAITS`] ms are counted in a dense array grown to the longest of them
/// (8 bytes a value, 512 KiB at most). Longer ones go to a sparse part: a run of `(wait,
/// count)` sorted by wait, and pending entries (consecutive equal waits share one) merged into
/// it when they are a quarter of the run (at least [`PENDING_MIN`]). A wait costs O(1)
/// amortized plus the pending entries' sort (O(log) each; O(1) when they come in order, as a
/// draining queue's rising waits do), and the sparse part holds at most 1.25 entries (20
/// bytes) per distinct long wait, reserved exactly. Every growth is fallible: an allocation
/// that fails is a [`ModelError::OutOfMemory`], not an abort.
#[derive(Clone, Debug, Default)]
pub(crate) struct Waits {
    /// `dense[w]`: how many waits of `w` ms (`w < DENSE_WAITS`).
    dense: Vec<u64>,
    /// Distinct long waits and their counts, strictly increasing by wait.
    run: Vec<(u64, u64)>,
    /// Long waits not yet merged into `run`, in arrival order.
    pending: Vec<(u64, u64)>,
    /// Waits recorded.
    count: u64,
}

impl Waits {
    /// Records one wait of `w` ms.
    #[inline]
    pub(crate) fn push(&mut self, w: u64) -> Result<(), ModelError> {
        match usize::try_from(w).ok().and_then(|i| self.dense.get_mut(i)) {
            Some(c) => *c += 1,
            None => self.push_slow(w)?,
        }
        self.count += 1;
        Ok(())
    }

    /// A wait outside the dense array as it is: grows it, or goes to the sparse part.
    #[cold]
    #[inline(never)]
    fn push_slow(&mut self, w: u64) -> Result<(), ModelError> {
        if w < DENSE_WAITS {
            // `w` fits usize: it is below 65,536.
            let i = w as usize;
            let len = (i + 1).next_power_of_two().clamp(64, DENSE_WAITS as usize);
            self.dense.try_reserve_exact(len - self.dense.len()).map_err(|_| waits_oom::<u64>(len))?;
            self.dense.resize(len, 0);
            self.dense[i] += 1;
            return Ok(());
        }
        if let Some(last) = self.pending.last_mut() {
            if last.0 == w {
                last.1 += 1;
                return Ok(());
            }
        }
        if self.pending.len() >= pending_limit(self.run.len()) {
            self.merge()?;
        }
        if self.pending.len() == self.pending.capacity() {
            let limit = pending_limit(self.run.len());
            self.pending.try_reserve_exact(limit - self.pending.len()).map_err(|_| waits_oom::<(u64, u64)>(limit))?;
        }
        self.pending.push((w, 1));
        Ok(())
    }

    /// Merges the pending long waits into the sorted run.
    fn merge(&mut self) -> Result<(), ModelError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.pending.sort_unstable_by_key(|&(w, _)| w);
        coalesce_from(&mut self.pending, 0);
        let (old, add) = (self.run.len(), self.pending.len());
        self.run.try_reserve_exact(add).map_err(|_| waits_oom::<(u64, u64)>(old + add))?;
        self.run.resize(old + add, (0, 0));
        // Backwards, so that nothing unread is overwritten; an equal wait of the run lands
        // just before the pending one, and `coalesce_from` joins them. The run's entries
        // below `i` at the end are untouched (still strictly increasing).
        let (mut i, mut j) = (old, add);
        while j > 0 {
            let k = i + j - 1;
            if i > 0 && self.run[i - 1].0 > self.pending[j - 1].0 {
                self.run[k] = self.run[i - 1];
                i -= 1;
            } else {
                self.run[k] = self.pending[j - 1];
                j -= 1;
            }
        }
        coalesce_from(&mut self.run, i.saturating_sub(1));
        self.pending.clear();
        Ok(())
    }

    /// The `ceil(q_num / q_den * n)`-th smallest of the `n` waits (1-based), 0 with no waits.
    pub(crate) fn nearest_rank(&mut self, q_num: u64, q_den: u64) -> Result<u64, ModelError> {
        if self.count == 0 {
            return Ok(0);
        }
        let rank = (u128::from(q_num) * u128::from(self.count)).div_ceil(u128::from(q_den)).max(1);
        let mut seen: u128 = 0;
        for (w, &c) in self.dense.iter().enumerate() {
            seen += u128::from(c);
            if seen >= rank {
                return Ok(w as u64);
            }
        }
        self.merge()?;
        for &(w, c) in &self.run {
            seen += u128::from(c);
            if seen >= rank {
                return Ok(w);
            }
        }
        // Only a quantile above 1 gets here (its rank is past the last wait): the longest wait.
        let longest_dense = self.dense.iter().rposition(|&c| c > 0).unwrap_or(0) as u64;
        Ok(self.run.last().map_or(longest_dense, |&(w, _)| w))
    }

    /// Entries held (dense counters, sorted run, pending), for tests of the memory bound.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> (usize, usize, usize) {
        (self.dense.len(), self.run.len(), self.pending.len())
    }
}

/// Joins adjacent entries of equal wait in a list sorted by wait, summing their counts,
/// from `start` on (the entries before it are strictly increasing, and below `v[start]`).
fn coalesce_from(v: &mut Vec<(u64, u64)>, start: usize) {
    if v.len() <= start + 1 {
        return;
    }
    let mut kept = start;
    for next in start + 1..v.len() {
        if v[next].0 == v[kept].0 {
            v[kept].1 += v[next].1;
        } else {
            kept += 1;
            v[kept] = v[next];
        }
    }
    v.truncate(kept + 1);
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
        WaitStats { waits: Waits::default(), sum_ms: 0, max_ms: 0, slo_violations: 0 }
    }

    /// A task waited `wait` ms; waits above `slo_ms` violate the SLO.
    #[inline]
    pub(crate) fn record(&mut self, wait: u64, slo_ms: u64) -> Result<(), ModelError> {
        self.waits.push(wait)?;
        self.sum_ms += u128::from(wait);
        self.max_ms = self.max_ms.max(wait);
        if wait > slo_ms {
            self.slo_violations += 1;
        }
        Ok(())
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
    pub(crate) fn nearest_rank(&mut self, q_num: u64, q_den: u64) -> Result<u64, ModelError> {
        self.waits.nearest_rank(q_num, q_den)
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// The old definition: the `ceil(q * n)`-th smallest (1-based) of the sorted waits.
    fn reference(sorted: &[u64], q_num: u64, q_den: u64) -> u64 {
        if sorted.is_empty() {
            return 0;
        }
        let rank = (q_num * sorted.len() as u64).div_ceil(q_den).max(1);
        sorted[(rank - 1) as usize]
    }

    /// A wait drawn from one of several shapes: small, around the dense limit, long, huge.
    fn wait(rng: &mut ChaCha8Rng, shape: u32) -> u64 {
        match shape {
            0 => rng.random_range(0..50),
            1 => DENSE_WAITS - 3 + rng.random_range(0..6),
            2 => rng.random_range(0..10 * DENSE_WAITS),
            3 => rng.random_range(DENSE_WAITS..DENSE_WAITS + 40),
            4 => rng.random::<u64>() >> rng.random_range(0..64),
            _ => u64::MAX - rng.random_range(0..3),
        }
    }

    /// Model test: random waits of random shapes (runs of equal waits included), queried at
    /// random quantiles while they are recorded and at the end, against the sorted list.
    #[test]
    fn percentiles_equal_those_of_the_sorted_waits() {
        for case in 0..400u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(case);
            let n = if case % 10 == 0 { rng.random_range(5_000..40_000) } else { rng.random_range(0..2_000) };
            let shapes: Vec<u32> = (0..rng.random_range(1..4)).map(|_| rng.random_range(0..6)).collect();
            let mut waits = Waits::default();
            let mut all = Vec::new();
            let mut i = 0;
            while i < n {
                let shape = shapes[rng.random_range(0..shapes.len())];
                let w = wait(&mut rng, shape);
                let repeat = if rng.random_range(0..4) == 0 { rng.random_range(1..50) } else { 1 };
                for _ in 0..repeat {
                    waits.push(w).unwrap();
                    all.push(w);
                }
                i += repeat;
                if rng.random_range(0..500) == 0 {
                    let mut sorted = all.clone();
                    sorted.sort_unstable();
                    let (q_num, q_den) = (rng.random_range(0..=100), 100);
                    assert_eq!(
                        waits.nearest_rank(q_num, q_den).unwrap(),
                        reference(&sorted, q_num, q_den),
                        "case {case}"
                    );
                }
            }
            all.sort_unstable();
            assert_eq!(waits.count, all.len() as u64);
            let mut quantiles = vec![(50, 100), (95, 100), (99, 100), (0, 1), (1, 1), (1, 3), (999_999, 1_000_000)];
            for _ in 0..20 {
                let den = rng.random_range(1..1_000_000);
                quantiles.push((rng.random_range(0..=den), den));
            }
            for (q_num, q_den) in quantiles {
                assert_eq!(
                    waits.nearest_rank(q_num, q_den).unwrap(),
                    reference(&all, q_num, q_den),
                    "case {case}: q = {q_num}/{q_den} of {} waits",
                    all.len()
                );
            }
            let (_, run, pending) = waits.entries();
            let mut distinct_long = all.clone();
            distinct_long.retain(|&w| w >= DENSE_WAITS);
            distinct_long.dedup();
            assert_eq!((run, pending), (distinct_long.len(), 0), "case {case}: merged at the end");
        }
    }

    /// Memory follows the distinct waits, not the tasks.
    #[test]
    fn many_alike_waits_take_one_entry_each() {
        let mut waits = Waits::default();
        for i in 0..3_000_000u64 {
            // Ten long waits and five short ones, interleaved: never two equal in a row.
            waits.push(if i % 3 == 0 { 5 + i % 5 } else { 1_000_000 + i % 10 }).unwrap();
        }
        let (dense, run, pending) = waits.entries();
        assert_eq!(dense, 64, "the dense part grows only to the longest short wait");
        assert!(run <= 10 && pending <= PENDING_MIN, "{run} + {pending} entries for 10 distinct long waits");
        assert_eq!(waits.nearest_rank(1, 3).unwrap(), 9);
        assert_eq!(waits.nearest_rank(34, 100).unwrap(), 1_000_000);
        assert_eq!(waits.nearest_rank(1, 1).unwrap(), 1_000_009);
    }

    #[test]
    fn an_allocation_failure_says_what_was_held_and_what_to_lower() {
        let e = waits_oom::<(u64, u64)>(1 << 40);
        assert_eq!(
            e.to_string(),
            "out of memory: 17592186044416 bytes could not be allocated to hold the distinct waits of dispatched \
             tasks (kept for exact percentiles); lower the trace's arrivals in its busiest bins, or add workers so \
             that waits take fewer distinct values"
        );
    }
}
