//! Time and fixed-point newtypes, and the exact decimal reader behind them.
//!
//! Every number a user writes (in a file, a config, a command line) is read
//! from its decimal text, never through a binary float, so that `1.0005` s is
//! 1001 ms and a mean utilization of `0.8` is not above a threshold of `0.8`.

use core::fmt;

/// A point on the injected clock, in whole milliseconds since the clock's origin.
///
/// `scaler-core` never reads a clock: every time-dependent call takes a `TimeMs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct TimeMs(pub u64);

/// A length of time in whole milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct DurationMs(pub u64);

impl TimeMs {
    /// The clock's origin.
    pub const ZERO: TimeMs = TimeMs(0);

    /// Milliseconds since the origin.
    #[must_use]
    pub const fn as_ms(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of time instead of overflowing.
    #[must_use]
    pub const fn saturating_add(self, d: DurationMs) -> TimeMs {
        TimeMs(self.0.saturating_add(d.0))
    }

    /// `self - earlier`, or zero when `earlier` is later than `self`.
    #[must_use]
    pub const fn saturating_since(self, earlier: TimeMs) -> DurationMs {
        DurationMs(self.0.saturating_sub(earlier.0))
    }

    /// Reads seconds written in decimal (`"12.5"`), rounded to whole milliseconds.
    pub fn parse_seconds(text: &str) -> Result<TimeMs, DecimalError> {
        Decimal::parse(text)?.to_scaled_u64(3).map(TimeMs)
    }

    /// [`TimeMs::parse_seconds`] on bytes, with a one-pass fast path for plain decimals
    /// (what file readers use).
    pub fn parse_seconds_bytes(b: &[u8]) -> Result<TimeMs, DecimalError> {
        parse_scaled(b, 3, false).map(TimeMs)
    }
}

impl DurationMs {
    /// No time at all.
    pub const ZERO: DurationMs = DurationMs(0);

    /// The length in milliseconds.
    #[must_use]
    pub const fn as_ms(self) -> u64 {
        self.0
    }

    /// A length given in whole seconds.
    #[must_use]
    pub const fn from_secs(s: u64) -> DurationMs {
        DurationMs(s.saturating_mul(1000))
    }

    /// Reads seconds written in decimal (`"0.25"`), rounded to whole milliseconds.
    ///
    /// A positive value that rounds to 0 ms is refused.
    pub fn parse_seconds(text: &str) -> Result<DurationMs, DecimalError> {
        Decimal::parse(text)?.to_positive_scaled_u64(3).map(DurationMs)
    }

    /// [`DurationMs::parse_seconds`] on bytes, with a one-pass fast path for plain decimals.
    pub fn parse_seconds_bytes(b: &[u8]) -> Result<DurationMs, DecimalError> {
        parse_scaled(b, 3, true).map(DurationMs)
    }
}

/// Why a duration with units (`"1h30m"`) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationTextError {
    /// Not of the form `<number><unit>...`.
    #[error("must be a number of seconds or a duration such as \"90s\", \"5m\", \"1h30m\", \"250ms\" (units ms, s, m, h, d)")]
    Malformed,
    /// A part of it has a unit that is not one of ms, s, m, h, d.
    #[error("has an unknown unit (use ms, s, m, h or d: \"90s\", \"1h30m\")")]
    UnknownUnit,
    /// A number with no unit after it, inside a duration string.
    #[error(
        "needs a unit after every number (\"90s\", not \"90\"; a plain number of seconds is written without quotes)"
    )]
    MissingUnit,
    /// Below zero.
    #[error("must not be negative")]
    Negative,
    /// Positive as written, but zero after rounding to milliseconds.
    #[error("is positive but rounds to 0 ms")]
    RoundsToZero,
    /// Too large to represent.
    #[error("is too large")]
    TooLarge,
}

impl DurationMs {
    /// Reads a duration written with units, as Go and Kubernetes write them: one or more
    /// `<decimal><unit>` parts with units `ms`, `s`, `m`, `h` and `d` (`"90s"`, `"5m"`,
    /// `"1h30m"`, `"1.5h"`, `"250ms"`), summed exactly and rounded once to whole
    /// milliseconds, ties away from zero. A positive total that rounds to 0 ms is refused.
    pub fn parse_with_units(text: &str) -> Result<DurationMs, DurationTextError> {
        let t = text.trim();
        let b = t.as_bytes();
        if b.first() == Some(&b'-') {
            return Err(DurationTextError::Negative);
        }
        let mut rest = b.strip_prefix(b"+").unwrap_or(b);
        if rest.is_empty() {
            return Err(DurationTextError::Malformed);
        }
        // The total in units of 10^-9 ms, exact for every part of up to 9 decimals.
        let mut total: u128 = 0;
        let mut any_nonzero = false;
        while !rest.is_empty() {
            let num_len = rest.iter().position(|c| !(c.is_ascii_digit() || *c == b'.')).unwrap_or(rest.len());
            if num_len == 0 {
                return Err(DurationTextError::Malformed);
            }
            let unit_len =
                rest[num_len..].iter().position(|c| c.is_ascii_digit() || *c == b'.').unwrap_or(rest.len() - num_len);
            if unit_len == 0 {
                return Err(DurationTextError::MissingUnit);
            }
            let ms_per_unit: u128 = match &rest[num_len..num_len + unit_len] {
                b"ms" => 1,
                b"s" => 1_000,
                b"m" => 60_000,
                b"h" => 3_600_000,
                b"d" => 86_400_000,
                _ => return Err(DurationTextError::UnknownUnit),
            };
            let number = Decimal::parse_bytes(&rest[..num_len]).map_err(|_| DurationTextError::Malformed)?;
            let nano_units = number.to_scaled_u64(9).map_err(|_| DurationTextError::TooLarge)?;
            any_nonzero |= !number.is_zero();
            total = total.checked_add(u128::from(nano_units) * ms_per_unit).ok_or(DurationTextError::TooLarge)?;
            rest = &rest[num_len + unit_len..];
        }
        let ms = (total + 500_000_000) / 1_000_000_000;
        if ms == 0 && any_nonzero {
            return Err(DurationTextError::RoundsToZero);
        }
        u64::try_from(ms).map(DurationMs).map_err(|_| DurationTextError::TooLarge)
    }
}

/// Writes milliseconds as decimal seconds with no trailing zeros (`1500` → `1.5`).
fn fmt_ms_as_seconds(ms: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt_scaled(u128::from(ms), 3, f)
}

impl fmt::Display for TimeMs {
    /// Seconds, as the file formats write them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_ms_as_seconds(self.0, f)
    }
}

impl fmt::Display for DurationMs {
    /// Seconds, as the file formats write them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_ms_as_seconds(self.0, f)
    }
}

/// Writes `value / 10^scale` in decimal without trailing fractional zeros.
fn fmt_scaled(value: u128, scale: u32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let unit = 10u128.pow(scale);
    let int = value / unit;
    let mut frac = value % unit;
    if frac == 0 {
        return write!(f, "{int}");
    }
    let mut digits = scale as usize;
    while frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    write!(f, "{int}.{frac:0digits$}")
}

/// A non-negative number with exactly 9 decimal places (`1.0` is `1_000_000_000` units).
///
/// Utilizations, thresholds and percentages are `Fixed9`, so comparisons are
/// exact integer comparisons and never decided by floating-point drift.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Fixed9(u64);

impl Fixed9 {
    /// Units in one whole (`10^9`).
    pub const SCALE: u64 = 1_000_000_000;
    /// Zero.
    pub const ZERO: Fixed9 = Fixed9(0);
    /// One (a utilization of 100 %).
    pub const ONE: Fixed9 = Fixed9(Self::SCALE);

    /// A value from raw units of `10^-9`.
    #[must_use]
    pub const fn from_units(units: u64) -> Fixed9 {
        Fixed9(units)
    }

    /// The raw units of `10^-9`.
    #[must_use]
    pub const fn units(self) -> u64 {
        self.0
    }

    /// Reads a decimal (`"0.8"`, `"8e-1"`), rounding to 9 places, ties away from zero.
    pub fn parse(text: &str) -> Result<Fixed9, DecimalError> {
        Decimal::parse(text)?.to_scaled_u64(9).map(Fixed9)
    }

    /// [`Fixed9::parse`] on bytes, with a one-pass fast path for plain decimals.
    pub fn parse_bytes(b: &[u8]) -> Result<Fixed9, DecimalError> {
        parse_scaled(b, 9, false).map(Fixed9)
    }

    /// `num / den` rounded to 9 places, ties away from zero. `den == 0` gives zero.
    #[must_use]
    pub fn from_ratio(num: u64, den: u64) -> Fixed9 {
        Fixed9(u64::try_from(round_div(u128::from(num) * u128::from(Self::SCALE), u128::from(den))).unwrap_or(u64::MAX))
    }

    /// Converts a float, rounding to 9 places. `None` for NaN, infinities,
    /// negative values and values too large to hold.
    #[must_use]
    pub fn from_f64(x: f64) -> Option<Fixed9> {
        if !x.is_finite() || x < 0.0 {
            return None;
        }
        // Through the shortest decimal text that reads back as `x`, so that
        // `0.8_f64` is exactly 0.8 and not 0.8000000000000000444.
        let text = alloc::format!("{x}");
        Fixed9::parse(&text).ok()
    }

    /// The nearest `f64` (for display and plotting only; never for decisions).
    #[must_use]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }
}

impl fmt::Display for Fixed9 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_scaled(u128::from(self.0), 9, f)
    }
}

/// `num / den` rounded to the nearest integer, ties away from zero; 0 when `den == 0`.
#[must_use]
pub(crate) fn round_div(num: u128, den: u128) -> u128 {
    if den == 0 {
        return 0;
    }
    let q = num / den;
    let r = num % den;
    // r >= den - r  <=>  remainder is at least one half.
    if r >= den - r {
        q + 1
    } else {
        q
    }
}

/// Why a decimal number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// Not a decimal number at all (empty, letters, `NaN`, `inf`, ...).
    #[error("must be a decimal number")]
    NotANumber,
    /// Below zero.
    #[error("must not be negative")]
    Negative,
    /// Positive as written, but zero after rounding to the unit.
    #[error("is positive but rounds to zero")]
    RoundsToZero,
    /// Has a fractional part where a whole number is required.
    #[error("must be a whole number")]
    NotWhole,
    /// Too large to represent.
    #[error("is too large")]
    TooLarge,
}

/// Reads non-negative decimal text straight into units of `10^-scale`, rounding
/// ties away from zero; a positive value that rounds to zero is refused when
/// `refuse_rounding_to_zero`.
///
/// The common case (`digits[.digits]`, no more fractional digits than `scale`,
/// at most 18 digits) is read in one pass; anything else goes through [`Decimal`].
pub(crate) fn parse_scaled(b: &[u8], scale: u32, refuse_rounding_to_zero: bool) -> Result<u64, DecimalError> {
    let mut acc: u64 = 0;
    let mut i = 0;
    let n = b.len();
    while i < n && b[i].is_ascii_digit() {
        acc = acc.wrapping_mul(10).wrapping_add(u64::from(b[i] - b'0'));
        i += 1;
    }
    let int_len = i;
    let mut frac_len = 0;
    if i < n && b[i] == b'.' {
        i += 1;
        while i < n && b[i].is_ascii_digit() {
            acc = acc.wrapping_mul(10).wrapping_add(u64::from(b[i] - b'0'));
            i += 1;
            frac_len += 1;
        }
    }
    let digits = int_len + frac_len;
    if i == n && digits > 0 && digits <= 18 && frac_len <= scale as usize {
        if let Some(v) = POW10.get(scale as usize - frac_len).and_then(|&m| acc.checked_mul(m)) {
            return Ok(v);
        }
    }
    let d = Decimal::parse_bytes(b)?;
    if refuse_rounding_to_zero {
        d.to_positive_scaled_u64(scale)
    } else {
        d.to_scaled_u64(scale)
    }
}

/// Reads a whole non-negative number (`"3"`, `"3.0"`, `"3e2"`); `1.5` is refused.
pub(crate) fn parse_whole(b: &[u8]) -> Result<u64, DecimalError> {
    if !b.is_empty() && b.len() <= 19 && b.iter().all(u8::is_ascii_digit) {
        return Ok(b.iter().fold(0u64, |a, &d| a * 10 + u64::from(d - b'0')));
    }
    Decimal::parse_bytes(b)?.to_whole_u64()
}

/// Reads a whole non-negative count from bytes (`"3"`, `"3.0"`, `"3e2"`; `1.5` is refused),
/// with a one-pass fast path for plain digits.
pub fn parse_count(b: &[u8]) -> Result<u64, DecimalError> {
    parse_whole(b)
}

/// Powers of ten that fit a u64.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// A decimal number exactly as written: sign, digits and a power of ten.
///
/// This is the single reader of numeric text in the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal<'a> {
    negative: bool,
    /// Significant digits, without the decimal point (ASCII digits only, may have leading zeros).
    int_digits: &'a [u8],
    frac_digits: &'a [u8],
    exponent: i64,
}

impl<'a> Decimal<'a> {
    /// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (at least one digit in the mantissa).
    pub fn parse(text: &'a str) -> Result<Decimal<'a>, DecimalError> {
        Decimal::parse_bytes(text.as_bytes())
    }

    /// [`Decimal::parse`] on bytes (any non-ASCII byte makes it [`DecimalError::NotANumber`]).
    pub fn parse_bytes(b: &'a [u8]) -> Result<Decimal<'a>, DecimalError> {
        let mut i = 0;
        let mut negative = false;
        if let Some(&c) = b.first() {
            if c == b'+' || c == b'-' {
                negative = c == b'-';
                i = 1;
            }
        }
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = &b[int_start..i];
        let mut frac_digits: &[u8] = &[];
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac_digits = &b[s..i];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(DecimalError::NotANumber);
        }
        let mut exponent: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let mut exp_neg = false;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                exp_neg = b[i] == b'-';
                i += 1;
            }
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                // Saturate: an exponent beyond a few thousand means zero or overflow anyway.
                exponent = (exponent * 10 + i64::from(b[i] - b'0')).min(1_000_000);
                i += 1;
            }
            if s == i {
                return Err(DecimalError::NotANumber);
            }
            if exp_neg {
                exponent = -exponent;
            }
        }
        if i != b.len() {
            return Err(DecimalError::NotANumber);
        }
        Ok(Decimal { negative, int_digits, frac_digits, exponent })
    }

    /// True when every digit is zero.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.int_digits.iter().chain(self.frac_digits).all(|&d| d == b'0')
    }

    /// True when the number is below zero as written (`-0` is not).
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.negative && !self.is_zero()
    }

    /// The magnitude times `10^scale`, rounded to an integer, ties away from zero.
    fn scaled_magnitude(&self, scale: u32) -> Result<u128, DecimalError> {
        // Fast path, the common case in files: no exponent, at most `scale`
        // fractional digits, and few enough digits for a u64 (no rounding needed).
        let frac_len = self.frac_digits.len();
        if self.exponent == 0 && frac_len <= scale as usize && self.int_digits.len() + frac_len <= 18 {
            let mut acc: u64 = 0;
            for &d in self.int_digits {
                acc = acc * 10 + u64::from(d - b'0');
            }
            for &d in self.frac_digits {
                acc = acc * 10 + u64::from(d - b'0');
            }
            let p = scale as usize - frac_len;
            return match POW10.get(p) {
                Some(&m) => Ok(u128::from(acc) * u128::from(m)),
                None => Ok(u128::from(acc) * 10u128.pow(u32::try_from(p).unwrap_or(u32::MAX))),
            };
        }
        // value = digits * 10^(exponent - frac_len); times 10^scale.
        let frac_len = i64::try_from(frac_len).unwrap_or(i64::MAX);
        let shift = self.exponent.saturating_sub(frac_len).saturating_add(i64::from(scale));
        let all = self.int_digits.iter().chain(self.frac_digits);
        let total = self.int_digits.len() + self.frac_digits.len();
        // Number of leading digits that make up the integer part after shifting.
        let keep: i64 = i64::try_from(total).unwrap_or(i64::MAX).saturating_add(shift.min(0));
        let mut acc: u128 = 0;
        let mut round_up = false;
        for (idx, &d) in all.enumerate() {
            let idx = i64::try_from(idx).unwrap_or(i64::MAX);
            if idx < keep {
                acc = acc
                    .checked_mul(10)
                    .and_then(|a| a.checked_add(u128::from(d - b'0')))
                    .ok_or(DecimalError::TooLarge)?;
            } else {
                // Only the first dropped digit decides: >= 5 rounds the magnitude up.
                if idx == keep {
                    round_up = d >= b'5';
                }
                break;
            }
        }
        if shift > 0 {
            if acc != 0 {
                let p = u32::try_from(shift).map_err(|_| DecimalError::TooLarge)?;
                let mul = 10u128.checked_pow(p).ok_or(DecimalError::TooLarge)?;
                acc = acc.checked_mul(mul).ok_or(DecimalError::TooLarge)?;
            }
        } else if round_up {
            acc = acc.checked_add(1).ok_or(DecimalError::TooLarge)?;
        }
        Ok(acc)
    }

    /// The value in units of `10^-scale`, which must be non-negative and fit a `u64`.
    ///
    /// A positive value that rounds to zero units is refused with
    /// [`DecimalError::RoundsToZero`] only by [`Decimal::to_positive_scaled_u64`];
    /// here it is simply zero.
    pub fn to_scaled_u64(&self, scale: u32) -> Result<u64, DecimalError> {
        if self.is_negative() {
            return Err(DecimalError::Negative);
        }
        let m = self.scaled_magnitude(scale)?;
        u64::try_from(m).map_err(|_| DecimalError::TooLarge)
    }

    /// Like [`Decimal::to_scaled_u64`], but a nonzero value that rounds to zero is refused.
    pub fn to_positive_scaled_u64(&self, scale: u32) -> Result<u64, DecimalError> {
        let v = self.to_scaled_u64(scale)?;
        if v == 0 && !self.is_zero() {
            return Err(DecimalError::RoundsToZero);
        }
        Ok(v)
    }

    /// The value in units of `10^-scale`, signed, rounded ties away from zero (`-0.0000000005`
    /// at scale 9 is `-1`).
    pub fn to_scaled_i64(&self, scale: u32) -> Result<i64, DecimalError> {
        let m = i64::try_from(self.scaled_magnitude(scale)?).map_err(|_| DecimalError::TooLarge)?;
        Ok(if self.is_negative() { -m } else { m })
    }

    /// The value as a whole non-negative number (`"3"`, `"3.0"`, `"3e2"`); `1.5` is refused.
    pub fn to_whole_u64(&self) -> Result<u64, DecimalError> {
        if self.is_negative() {
            return Err(DecimalError::Negative);
        }
        // Exact: scale by enough to see every written fractional digit.
        let frac_len = i64::try_from(self.frac_digits.len()).unwrap_or(i64::MAX);
        let needed = frac_len.saturating_sub(self.exponent).max(0);
        if needed > 0 {
            // Any nonzero digit at a fractional position makes it not whole.
            let total = self.int_digits.len() + self.frac_digits.len();
            let first_frac = i64::try_from(total).unwrap_or(i64::MAX) - needed;
            for (idx, &d) in self.int_digits.iter().chain(self.frac_digits).enumerate() {
                if i64::try_from(idx).unwrap_or(i64::MAX) >= first_frac && d != b'0' {
                    return Err(DecimalError::NotWhole);
                }
            }
        }
        let m = self.scaled_magnitude(0)?;
        u64::try_from(m).map_err(|_| DecimalError::TooLarge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_ties_away_from_zero() {
        assert_eq!(DurationMs::parse_seconds("1.0005"), Ok(DurationMs(1001)));
        assert_eq!(DurationMs::parse_seconds("1.0004999"), Ok(DurationMs(1000)));
        assert_eq!(Fixed9::parse("0.8"), Ok(Fixed9(800_000_000)));
        assert_eq!(Fixed9::parse("0.0000000005"), Ok(Fixed9(1)));
        assert_eq!(Fixed9::parse("1e-1"), Ok(Fixed9(100_000_000)));
    }
}
