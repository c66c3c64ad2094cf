//! An exact utilization: a ratio of integers, never a rounded decimal.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};

use crate::exact::gcd;
use crate::units::{round_div, Fixed9};

/// A busy share of capacity, `0..=1`, held exactly as `num / den`.
///
/// A utilization read from decimal text is its 9-decimal value (`den = 10^9`); one the
/// simulator or the runtime computes from a pool is `busy slots / slots` (SPEC section 6.4),
/// kept as that ratio so the window compares it with thresholds exactly (SPEC section 1).
/// Equality and order are by value: `1/2 == 0.5`.
#[derive(Clone, Copy, Debug)]
pub struct Utilization {
    num: u64,
    den: u64,
}

impl Utilization {
    /// No load.
    pub const ZERO: Utilization = Utilization { num: 0, den: 1 };
    /// Full load.
    pub const ONE: Utilization = Utilization { num: 1, den: 1 };

    /// `num / den`, reduced; `None` unless `den > 0` and `num <= den`.
    #[must_use]
    pub fn ratio(num: u64, den: u64) -> Option<Utilization> {
        if den == 0 || num > den {
            return None;
        }
        let g = u64::try_from(gcd(u128::from(num), u128::from(den))).unwrap_or(1).max(1);
        Some(Utilization { num: num / g, den: den / g })
    }

    /// The 9-decimal value `f`; `None` above 1. Kept over `10^9` (not reduced: the common
    /// case of decimal text then shares one denominator in the window).
    #[must_use]
    pub fn from_fixed9(f: Fixed9) -> Option<Utilization> {
        (f <= Fixed9::ONE).then_some(Utilization { num: f.units(), den: Fixed9::SCALE })
    }

    /// The utilization of a pool (SPEC section 6.4): `busy_slots / total_slots` of the ready
    /// workers, and when no slot is ready, 1 if tasks are pending, else 0. `None` when
    /// `busy_slots > total_slots`.
    #[must_use]
    pub fn of_pool(busy_slots: u64, total_slots: u64, pending_tasks: u64) -> Option<Utilization> {
        if total_slots == 0 {
            return (busy_slots == 0).then_some(if pending_tasks > 0 { Utilization::ONE } else { Utilization::ZERO });
        }
        Utilization::ratio(busy_slots, total_slots)
    }

    /// The numerator.
    #[must_use]
    pub fn num(self) -> u64 {
        self.num
    }

    /// The denominator (at least 1).
    #[must_use]
    pub fn den(self) -> u64 {
        self.den
    }

    /// The value rounded to 9 decimal places, ties away from zero (for files and reports).
    #[must_use]
    pub fn to_fixed9(self) -> Fixed9 {
        let v = round_div(u128::from(self.num) * u128::from(Fixed9::SCALE), u128::from(self.den));
        Fixed9::from_units(u64::try_from(v).unwrap_or(Fixed9::SCALE))
    }

    /// The nearest `f64` (for display and plotting only; never for decisions).
    #[must_use]
    pub fn to_f64(self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let v = self.num as f64 / self.den as f64;
        v
    }

    /// Exactly compares with a 9-decimal value.
    #[must_use]
    pub fn cmp_fixed9(self, t: Fixed9) -> Ordering {
        (u128::from(self.num) * u128::from(Fixed9::SCALE)).cmp(&(u128::from(t.units()) * u128::from(self.den)))
    }
}

impl PartialEq for Utilization {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Utilization {}

impl PartialOrd for Utilization {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Utilization {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if self.den == other.den {
            return self.num.cmp(&other.num);
        }
        (u128::from(self.num) * u128::from(other.den)).cmp(&(u128::from(other.num) * u128::from(self.den)))
    }
}

impl Hash for Utilization {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal values hash alike: hash the reduced form.
        let g = u64::try_from(gcd(u128::from(self.num), u128::from(self.den))).unwrap_or(1).max(1);
        (self.num / g, self.den / g).hash(state);
    }
}

impl fmt::Display for Utilization {
    /// The 9-decimal value, as files write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_fixed9(), f)
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::Utilization;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Repr {
        num: u64,
        den: u64,
    }

    impl serde::Serialize for Utilization {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            Repr { num: self.num, den: self.den }.serialize(s)
        }
    }

    impl<'de> serde::Deserialize<'de> for Utilization {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let r = Repr::deserialize(d)?;
            if r.den == 0 || r.num > r.den {
                return Err(serde::de::Error::custom("a utilization needs den > 0 and num <= den"));
            }
            Ok(Utilization { num: r.num, den: r.den })
        }
    }
}
