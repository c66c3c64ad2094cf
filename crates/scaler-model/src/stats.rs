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
/// or a sixteenth of the run's entries, whichever is more.
const PENDING_MIN: usize = 4_096;

/// Pending entries that make a merge, with `run` entries in the run.
fn pending_limit(run: usize) -> usize {
    PENDING_MIN.max(run / 16)
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
/// (8 bytes a value, 512 KiB at most). Longer ones go to a sparse part: a [`Run`] of
/// `(wait, count)` sorted by wait and encoded as varints of the differences (about 3 bytes
/// an entry when waits are close), and pending entries (consecutive equal waits share one)
/// merged into it when they are a sixteenth of its entries (at least [`PENDING_MIN`]).
/// Pending entries above the run's longest wait, as a draining queue's rising waits are, are
/// appended without decoding it; others are merged with it into a new run (16 entries decoded
/// and encoded per pending one, at most). A wait costs O(1) amortized plus the pending
/// entries' sort (O(log) each; O(1) when they come in order), and the sparse part holds about
/// 4 bytes per distinct long wait (plus, while merging out of order, a second copy of the run). Every growth is
/// fallible: an allocation that fails is a [`ModelError::OutOfMemory`], not an abort.
#[derive(Clone, Debug, Default)]
pub(crate) struct Waits {
    /// `dense[w]`: how many waits of `w` ms (`w < DENSE_WAITS`).
    dense: Vec<u64>,
    /// Distinct long waits and their counts, strictly increasing by wait.
    run: Run,
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
        if self.pending.len() >= pending_limit(self.run.len) {
            self.merge()?;
        }
        if self.pending.len() == self.pending.capacity() {
            let limit = pending_limit(self.run.len);
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
        coalesce(&mut self.pending);
        if self.run.len == 0 || self.pending[0].0 > self.run.last {
            let mut need = 0;
            let mut prev = self.run.last;
            for &(w, c) in &self.pending {
                need += varint_len(w - prev) + varint_len(c);
                prev = w;
            }
            let total = self.run.bytes.len() + need;
            self.run.bytes.try_reserve_exact(need).map_err(|_| waits_oom::<u8>(total))?;
            for &(w, c) in &self.pending {
                self.run.push(w, c);
            }
        } else {
            let mut need = 0;
            let mut prev = 0;
            merged(&self.run, &self.pending, |w, c| {
                need += varint_len(w - prev) + varint_len(c);
                prev = w;
            });
            let mut run = Run::default();
            run.bytes.try_reserve_exact(need).map_err(|_| waits_oom::<u8>(self.run.bytes.len() + need))?;
            merged(&self.run, &self.pending, |w, c| run.push(w, c));
            self.run = run;
        }
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
        for (w, c) in self.run.iter() {
            seen += u128::from(c);
            if seen >= rank {
                return Ok(w);
            }
        }
        // Only a quantile above 1 gets here (its rank is past the last wait): the longest wait.
        let longest_dense = self.dense.iter().rposition(|&c| c > 0).unwrap_or(0) as u64;
        Ok(if self.run.len > 0 { self.run.last } else { longest_dense })
    }

    /// Entries held (dense counters, sorted run, pending) and the run's bytes, for tests of
    /// the memory bound.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> (usize, usize, usize, usize) {
        (self.dense.len(), self.run.len, self.pending.len(), self.run.bytes.len())
    }
}

/// Distinct waits and their counts, strictly increasing by wait, encoded: for each, the
/// varint (7 bits a byte, low first) of its difference from the previous wait (from 0 for
/// the first), then the varint of its count.
#[derive(Clone, Debug, Default)]
struct Run {
    bytes: Vec<u8>,
    /// Entries.
    len: usize,
    /// The longest wait (0 when empty).
    last: u64,
}

impl Run {
    /// Appends `(w, c)`, `w` above every wait held; the bytes must already be reserved.
    fn push(&mut self, w: u64, c: u64) {
        debug_assert!(self.len == 0 || w > self.last);
        put_varint(&mut self.bytes, w - self.last);
        put_varint(&mut self.bytes, c);
        self.last = w;
        self.len += 1;
    }

    /// The entries in order.
    fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let (mut pos, mut w) = (0, 0u64);
        std::iter::from_fn(move || {
            if pos >= self.bytes.len() {
                return None;
            }
            w += get_varint(&self.bytes, &mut pos);
            Some((w, get_varint(&self.bytes, &mut pos)))
        })
    }
}

/// The entries of `run` and of `pending` (sorted, no two equal) in order, equal waits joined.
fn merged(run: &Run, pending: &[(u64, u64)], mut f: impl FnMut(u64, u64)) {
    let mut p = pending.iter().copied().peekable();
    for (w, c) in run.iter() {
        while let Some(&(pw, pc)) = p.peek() {
            if pw >= w {
                break;
            }
            f(pw, pc);
            p.next();
        }
        match p.peek() {
            Some(&(pw, pc)) if pw == w => {
                f(w, c + pc);
                p.next();
            }
            _ => f(w, c),
        }
    }
    for (pw, pc) in p {
        f(pw, pc);
    }
}

/// Bytes of `v` as a varint.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends `v` as a varint (into reserved capacity: the caller reserves fallibly).
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The varint at `pos`, moving `pos` past it.
fn get_varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let b = bytes[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Joins adjacent entries of equal wait in a list sorted by wait, summing their counts.
fn coalesce(v: &mut Vec<(u64, u64)>) {
    v.dedup_by(|next, kept| {
        if next.0 == kept.0 {
            kept.1 += next.1;
            true
        } else {
            false
        }
    });
}

/// The waits of dispatched tasks (a retried task's wait counts once, at its first dispatch).
#[derive(Clone, Debug)]
pub(crate) struct WaitStats {
    waits: Waits,
    sum_ms: u128,
    max_ms: u64,
    /// Waits recorded.
    pub(crate) count: u64,
    /// Waits longer than the SLO.
    pub(crate) slo_violations: u64,
}

impl WaitStats {
    pub(crate) fn new() -> WaitStats {
        WaitStats { waits: Waits::default(), sum_ms: 0, max_ms: 0, count: 0, slo_violations: 0 }
    }

    /// A task waited `wait` ms; waits above `slo_ms` violate the SLO.
    #[inline]
    pub(crate) fn record(&mut self, wait: u64, slo_ms: u64) -> Result<(), ModelError> {
        self.waits.push(wait)?;
        self.count += 1;
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
            let (_, run, pending, _) = waits.entries();
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
        let (dense, run, pending, _) = waits.entries();
        assert_eq!(dense, 64, "the dense part grows only to the longest short wait");
        assert!(run <= 10 && pending <= PENDING_MIN, "{run} + {pending} entries for 10 distinct long waits");
        assert_eq!(waits.nearest_rank(1, 3).unwrap(), 9);
        assert_eq!(waits.nearest_rank(34, 100).unwrap(), 1_000_000);
        assert_eq!(waits.nearest_rank(1, 1).unwrap(), 1_000_009);
    }

    /// Rising waits, as a queue that drains gives, are appended at about 3 bytes each.
    #[test]
    fn rising_long_waits_take_a_few_bytes_each() {
        let mut waits = Waits::default();
        for i in 0..1_000_000u64 {
            for _ in 0..1 + i % 3 {
                waits.push(100_000 + i * 1000 + i % 7).unwrap();
            }
        }
        // 1,999,999 waits: the 1,000,000th is the first of i = 500,000 (6 per 3 values of i).
        assert_eq!(waits.nearest_rank(1, 2).unwrap(), 100_000 + 500_000 * 1000 + 500_000 % 7);
        let (_, run, pending, bytes) = waits.entries();
        assert_eq!((run, pending), (1_000_000, 0));
        assert!(bytes <= 3 * run + 8, "{bytes} bytes for {run} entries");
    }

    #[test]
    fn varints_round_trip() {
        let values = [0, 1, 127, 128, 16_383, 16_384, u64::from(u32::MAX), u64::MAX - 1, u64::MAX];
        let mut bytes = Vec::new();
        for &v in &values {
            let before = bytes.len();
            put_varint(&mut bytes, v);
            assert_eq!(bytes.len() - before, varint_len(v), "{v}");
        }
        let mut pos = 0;
        for &v in &values {
            assert_eq!(get_varint(&bytes, &mut pos), v);
        }
        assert_eq!(pos, bytes.len());
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
