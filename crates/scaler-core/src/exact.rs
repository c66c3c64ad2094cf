//! Exact rational arithmetic for the window's aggregates.
//!
//! The window's mean is a sum of fractions `busy / slots` with different
//! denominators, divided by the sample count. Its comparisons with thresholds
//! must be exact (SPEC section 1), so they are made on integers: in `u128` when
//! the numbers fit (the common case: one denominator, or a few small ones), and
//! otherwise on [`Big`], a minimal unsigned big integer. Both paths are exact;
//! the second exists only so that no input can make the first overflow.
//!
//! Hand-written rather than taken from a big-integer crate: it needs three
//! operations (multiply by a small number, add, compare), and `scaler-core`
//! keeps its dependencies to `thiserror` and `serde`. It is checked against
//! `num-bigint`-backed rationals by the model tests.

use alloc::vec::Vec;
use core::cmp::Ordering;

/// An unsigned integer of any size: little-endian 64-bit limbs, no trailing zero limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Big(Vec<u64>);

impl Big {
    pub(crate) fn from_u128(x: u128) -> Big {
        #[allow(clippy::cast_possible_truncation)]
        let mut b = Big(alloc::vec![x as u64, (x >> 64) as u64]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// `self * m`.
    pub(crate) fn mul_u64(&self, m: u64) -> Big {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry: u128 = 0;
        for &limb in &self.0 {
            let v = u128::from(limb) * u128::from(m) + carry;
            #[allow(clippy::cast_possible_truncation)]
            out.push(v as u64);
            carry = v >> 64;
        }
        #[allow(clippy::cast_possible_truncation)]
        out.push(carry as u64);
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `self * m`.
    pub(crate) fn mul_u128(&self, m: u128) -> Big {
        #[allow(clippy::cast_possible_truncation)]
        let (lo, hi) = (m as u64, (m >> 64) as u64);
        let low = self.mul_u64(lo);
        if hi == 0 {
            return low;
        }
        let mut high = self.mul_u64(hi);
        if !high.0.is_empty() {
            high.0.insert(0, 0);
        }
        low.add(&high)
    }

    /// `self + other`.
    pub(crate) fn add(&self, other: &Big) -> Big {
        let n = self.0.len().max(other.0.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = false;
        for i in 0..n {
            let a = self.0.get(i).copied().unwrap_or(0);
            let b = other.0.get(i).copied().unwrap_or(0);
            let (s1, c1) = a.overflowing_add(b);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            out.push(s2);
            carry = c1 || c2;
        }
        out.push(u64::from(carry));
        let mut b = Big(out);
        b.trim();
        b
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Big) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

/// A non-negative fraction `num / den` (`den > 0`), small or big.
#[derive(Clone, Debug)]
pub(crate) enum Frac {
    /// Both parts fit a `u128`.
    Small(u128, u128),
    /// Either part is big.
    Big(Big, Big),
}

impl Frac {
    fn big_parts(&self) -> (Big, Big) {
        match self {
            Frac::Small(n, d) => (Big::from_u128(*n), Big::from_u128(*d)),
            Frac::Big(n, d) => (n.clone(), d.clone()),
        }
    }

    /// Compares `num / den` with `a / b` (`b > 0`).
    #[inline]
    pub(crate) fn cmp_ratio(&self, a: u128, b: u128) -> Ordering {
        if let Frac::Small(n, d) = self {
            // The common case: every part fits 64 bits, so the cross products cannot overflow.
            if let (Ok(n), Ok(d), Ok(a), Ok(b)) =
                (u64::try_from(*n), u64::try_from(*d), u64::try_from(a), u64::try_from(b))
            {
                return (u128::from(n) * u128::from(b)).cmp(&(u128::from(a) * u128::from(d)));
            }
            if let (Some(l), Some(r)) = (n.checked_mul(b), a.checked_mul(*d)) {
                return l.cmp(&r);
            }
        }
        let (n, d) = self.big_parts();
        n.mul_u128(b).cmp(&d.mul_u128(a))
    }

    /// `floor(num * s / den)`, for results known to be at most `s` (the fraction is at most 1).
    pub(crate) fn floor_scaled(&self, s: u128) -> u128 {
        if let Frac::Small(n, d) = self {
            if let Some(p) = n.checked_mul(s) {
                return p / d;
            }
        }
        // The largest q in [0, s] with q * den <= num * s, by bisection on exact comparisons.
        let (mut lo, mut hi) = (0u128, s);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            // mid <= num * s / den  <=>  self >= mid / s
            if s == 0 || self.cmp_ratio(mid, s) != Ordering::Less {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    /// `num * s / den` rounded to the nearest integer, ties away from zero (the fraction is at most 1).
    pub(crate) fn round_scaled(&self, s: u128) -> u128 {
        // The common case (decimal text, one denominator 10^9 over `count` samples): `den` is a
        // multiple of `s`, so `num * s / den = num / (den / s)`, in 64-bit integers.
        if let Frac::Small(n, d) = self {
            if let (Ok(n), Ok(d), Ok(s64)) = (u64::try_from(*n), u64::try_from(*d), u64::try_from(s)) {
                if s64 != 0 && d % s64 == 0 {
                    let k = d / s64;
                    let (q, r) = (n / k, n % k);
                    // Ties away from zero: round up when the remainder is at least half.
                    return u128::from(q + u64::from(r >= k - r));
                }
            }
        }
        let q = self.floor_scaled(s);
        // Round up when num * s / den >= q + 1/2, i.e. self >= (2q + 1) / (2s).
        if q < s && s.checked_mul(2).is_some() && self.cmp_ratio(2 * q + 1, 2 * s) != Ordering::Less {
            q + 1
        } else {
            q
        }
    }
}

/// Greatest common divisor (binary), in 64-bit arithmetic when both fit.
pub(crate) fn gcd(a: u128, b: u128) -> u128 {
    if let (Ok(a), Ok(b)) = (u64::try_from(a), u64::try_from(b)) {
        return u128::from(gcd64(a, b));
    }
    gcd128(a, b)
}

/// Binary gcd for one unsigned type (the same steps for 64 and 128 bits).
macro_rules! binary_gcd {
    ($name:ident, $t:ty) => {
        fn $name(mut a: $t, mut b: $t) -> $t {
            if a == 0 {
                return b;
            }
            if b == 0 {
                return a;
            }
            let shift = (a | b).trailing_zeros();
            a >>= a.trailing_zeros();
            loop {
                b >>= b.trailing_zeros();
                if a > b {
                    core::mem::swap(&mut a, &mut b);
                }
                b -= a;
                if b == 0 {
                    return a << shift;
                }
            }
        }
    };
}

binary_gcd!(gcd64, u64);
binary_gcd!(gcd128, u128);

/// The exact mean of samples grouped by denominator: `sum over g of (sum_g / den_g)`, divided by
/// `count`, as a fraction.
pub(crate) fn mean_of_groups(groups: &[(u64, u128, u64)], count: u64) -> Frac {
    if let [(den, sum, _)] = groups {
        // A u64 times a u64 always fits a u128.
        return Frac::Small(*sum, u128::from(*den) * u128::from(count));
    }
    let count = u128::from(count);
    // Fast path: a common multiple of the denominators that fits, and sums that fit.
    let mut l: Option<u128> = Some(1);
    for &(den, _, _) in groups {
        l = l.and_then(|l| {
            let d = u128::from(den);
            (l / gcd(l, d)).checked_mul(d)
        });
    }
    if let Some(l) = l {
        let mut num: Option<u128> = Some(0);
        for &(den, sum, _) in groups {
            num = num.and_then(|n| sum.checked_mul(l / u128::from(den)).and_then(|x| n.checked_add(x)));
        }
        if let (Some(num), Some(den)) = (num, l.checked_mul(count)) {
            return Frac::Small(num, den);
        }
    }
    // Exact in any case: num = sum_g sum_g * prod_{h != g} den_h, den = count * prod_h den_h.
    let mut num = Big::from_u128(0);
    let mut den = Big::from_u128(count);
    for (i, &(_, sum, _)) in groups.iter().enumerate() {
        let mut term = Big::from_u128(sum);
        for (j, &(d, _, _)) in groups.iter().enumerate() {
            if i != j {
                term = term.mul_u64(d);
            }
        }
        num = num.add(&term);
    }
    for &(d, _, _) in groups {
        den = den.mul_u64(d);
    }
    Frac::Big(num, den)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_matches_u128() {
        let xs = [0u128, 1, 7, u128::from(u64::MAX), u128::from(u64::MAX) + 1, 1 << 100, 123_456_789_012_345_678_901];
        for &a in &xs {
            for &b in &xs {
                assert_eq!(Big::from_u128(a).cmp(&Big::from_u128(b)), a.cmp(&b));
                if let Some(s) = a.checked_add(b) {
                    assert_eq!(Big::from_u128(a).add(&Big::from_u128(b)), Big::from_u128(s));
                }
                if let Some(p) = a.checked_mul(b) {
                    assert_eq!(Big::from_u128(a).mul_u128(b), Big::from_u128(p));
                }
            }
        }
    }

    #[test]
    fn big_and_small_paths_agree() {
        let groups = [(68u64, 204u128, 4), (23, 9, 2), (1_000_000_000, 750_000_000, 1)];
        let small = mean_of_groups(&groups, 7);
        let (n, d) = small.big_parts();
        let big = Frac::Big(n, d);
        for (a, b) in [(3u128, 4u128), (1, 2), (2, 3), (0, 1), (1, 1)] {
            assert_eq!(small.cmp_ratio(a, b), big.cmp_ratio(a, b));
        }
        assert_eq!(small.floor_scaled(1_000_000_000), big.floor_scaled(1_000_000_000));
        assert_eq!(small.round_scaled(1_000_000_000), big.round_scaled(1_000_000_000));
    }

    #[test]
    fn the_spec_example_is_exactly_three_quarters() {
        // 67/68, 50/68, 43/68, 44/68: mean 204/272 = 0.75.
        let m = mean_of_groups(&[(68, 67 + 50 + 43 + 44, 4)], 4);
        assert_eq!(m.cmp_ratio(3, 4), Ordering::Equal);
        assert_eq!(m.round_scaled(1_000_000_000), 750_000_000);
    }

    #[test]
    fn gcd_works() {
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(0, 5), 5);
        assert_eq!(gcd(7, 0), 7);
        assert_eq!(gcd(1 << 70, 1 << 65), 1 << 65);
    }
}
