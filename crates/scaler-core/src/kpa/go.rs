//! Go's `strconv` and `time` readers, as Knative reads its ConfigMap and annotations:
//! `ParseBool`, `ParseInt(s, 10, 32)`, `ParseFloat(s, 64)` and `time.ParseDuration`.
//!
//! Written from the documented syntax of each (Go's language spec for number literals and
//! the `time` package's duration grammar), so that a value Knative accepts is accepted
//! here with the same meaning, and a value it refuses is refused.

use core::fmt;

/// Why a Go reader refused its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoParseError {
    /// Not the reader's syntax (`strconv.ErrSyntax`).
    #[error("invalid syntax")]
    Syntax,
    /// Well formed, but too large for the type (`strconv.ErrRange`).
    #[error("value out of range")]
    Range,
    /// Not `time.ParseDuration` syntax.
    #[error("invalid duration")]
    Duration,
    /// A duration component without a unit (`"5"`; only `"0"` may have none).
    #[error("missing unit in duration")]
    MissingUnit,
    /// A unit other than `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`.
    #[error("unknown unit in duration")]
    UnknownUnit,
}

/// A Go `time.Duration`: signed nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct GoDuration(pub i64);

impl GoDuration {
    /// One second.
    pub const SECOND: GoDuration = GoDuration(1_000_000_000);

    /// Whole seconds (saturating).
    #[must_use]
    pub const fn from_secs(s: i64) -> GoDuration {
        GoDuration(s.saturating_mul(1_000_000_000))
    }

    /// A [`DurationMs`](crate::DurationMs) as nanoseconds (saturating).
    #[must_use]
    pub fn from_ms(d: crate::DurationMs) -> GoDuration {
        GoDuration(i64::try_from(u128::from(d.0) * 1_000_000).unwrap_or(i64::MAX))
    }

    /// The nanoseconds.
    #[must_use]
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// True when the duration is a whole number of seconds.
    #[must_use]
    pub const fn is_whole_seconds(self) -> bool {
        self.0 % 1_000_000_000 == 0
    }

    /// As the core's milliseconds: a negative duration is zero and a sub-millisecond part
    /// rounds up, so that `elapsed >= d` has the same answer for every whole-millisecond
    /// `elapsed` as it has in nanoseconds.
    #[must_use]
    pub fn to_ms_ceil(self) -> crate::DurationMs {
        if self.0 <= 0 {
            return crate::DurationMs::ZERO;
        }
        let ns = self.0.unsigned_abs();
        crate::DurationMs(ns / 1_000_000 + u64::from(ns % 1_000_000 != 0))
    }

    /// `time.Duration.Round(m)`: to the nearest multiple of `m`, halves away from zero,
    /// saturating instead of overflowing; `m <= 0` leaves the duration as it is.
    #[must_use]
    pub fn round(self, m: GoDuration) -> GoDuration {
        if m.0 <= 0 {
            return self;
        }
        let (d, m) = (i128::from(self.0), i128::from(m.0));
        let r = (d % m).abs();
        let down = if d < 0 { d + r } else { d - r };
        let rounded = if 2 * r < m {
            down
        } else if d < 0 {
            down - m
        } else {
            down + m
        };
        GoDuration(i64::try_from(rounded).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX }))
    }
}

impl fmt::Display for GoDuration {
    /// Nanoseconds written as Go's seconds would read them back (`"1.5s"`, `"-2s"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        let (s, mut frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
        if frac == 0 {
            return write!(f, "{sign}{s}s");
        }
        let mut digits = 9;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        write!(f, "{sign}{s}.{frac:0digits$}s")
    }
}

/// `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`.
pub fn parse_bool(s: &str) -> Result<bool, GoParseError> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(GoParseError::Syntax),
    }
}

/// `strconv.ParseInt(s, 10, 32)`: an optional sign and decimal digits (no underscores in
/// base 10), within `i32`.
pub fn parse_int32(s: &str) -> Result<i32, GoParseError> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(GoParseError::Syntax);
    }
    let mut n: i64 = 0;
    for c in digits.bytes() {
        n = n * 10 + i64::from(c - b'0');
        if n > 1 << 31 {
            return Err(GoParseError::Range);
        }
    }
    let n = if neg { -n } else { n };
    i32::try_from(n).map_err(|_| GoParseError::Range)
}

/// `strconv.ParseFloat(s, 64)`: Go's decimal and hexadecimal float syntax (underscores
/// between digits, `0x` mantissas with a mandatory `p` exponent), `inf`/`infinity` with an
/// optional sign and `nan` without one (case-insensitive), correctly rounded. A finite
/// literal too large for a float64 is [`GoParseError::Range`], as in Go.
pub fn parse_float(s: &str) -> Result<f64, GoParseError> {
    if let Some(x) = special(s) {
        return Ok(x);
    }
    let b = s.as_bytes();
    let (neg, body) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let hex = body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x';
    let underscores = b.contains(&b'_');
    if underscores && !underscore_ok(b) {
        return Err(GoParseError::Syntax);
    }
    let x = if hex { hex_float(&body[2..])? } else { decimal_float(body)? };
    if x.is_infinite() {
        return Err(GoParseError::Range);
    }
    Ok(if neg { -x } else { x })
}

/// Go's `special`: the whole text is `[+-]inf`, `[+-]infinity` or `nan`, any case.
fn special(s: &str) -> Option<f64> {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
        return Some(sign * f64::INFINITY);
    }
    if s.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    None
}

/// Go's rule for underscores in a number: only between digits, or between a base
/// prefix and a digit.
fn underscore_ok(s: &[u8]) -> bool {
    let s = match s.first() {
        Some(b'-' | b'+') => &s[1..],
        _ => s,
    };
    // What came last: '^' start, '0' a digit (or the base prefix), '_', '!' anything else.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = (s[1] | 0x20) == b'x';
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

/// A decimal literal without its sign: digits with at most one `.` (at least one digit),
/// then optionally `e`/`E`, a sign and digits. Underscores were checked by the caller.
fn decimal_float(body: &[u8]) -> Result<f64, GoParseError> {
    let mut clean = alloc::string::String::with_capacity(body.len());
    let mut i = 0;
    let (mut digits, mut dot) = (false, false);
    while i < body.len() {
        match body[i] {
            b'_' => {}
            c @ b'0'..=b'9' => {
                digits = true;
                clean.push(char::from(c));
            }
            b'.' if !dot => {
                dot = true;
                clean.push('.');
            }
            _ => break,
        }
        i += 1;
    }
    if !digits {
        return Err(GoParseError::Syntax);
    }
    if i < body.len() && (body[i] | 0x20) == b'e' {
        clean.push('e');
        i += 1;
        if let Some(&c @ (b'+' | b'-')) = body.get(i) {
            clean.push(char::from(c));
            i += 1;
        }
        if !body.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(GoParseError::Syntax);
        }
        while i < body.len() && (body[i].is_ascii_digit() || body[i] == b'_') {
            if body[i] != b'_' {
                clean.push(char::from(body[i]));
            }
            i += 1;
        }
    }
    if i != body.len() {
        return Err(GoParseError::Syntax);
    }
    // The text is now plain `digits[.digits][e[+-]digits]`, which core's reader rounds
    // correctly (to infinity when too large, as Go before it reports the range error).
    clean.parse::<f64>().map_err(|_| GoParseError::Syntax)
}

/// A hexadecimal mantissa and its mandatory binary exponent, after `0x`: rounded to the
/// nearest float64, ties to even, with subnormals.
fn hex_float(body: &[u8]) -> Result<f64, GoParseError> {
    let mut mant: u64 = 0;
    let mut exp2: i64 = 0;
    let mut sticky = false;
    let (mut digits, mut dot) = (false, false);
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        let d = match c {
            b'_' => {
                i += 1;
                continue;
            }
            b'.' if !dot => {
                dot = true;
                i += 1;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            _ if (c | 0x20).is_ascii_hexdigit() && c.is_ascii_alphabetic() => (c | 0x20) - b'a' + 10,
            _ => break,
        };
        digits = true;
        if mant >> 60 == 0 {
            mant = (mant << 4) | u64::from(d);
            if dot {
                exp2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !dot {
                exp2 += 4;
            }
        }
        i += 1;
    }
    if !digits || i >= body.len() || (body[i] | 0x20) != b'p' {
        return Err(GoParseError::Syntax);
    }
    i += 1;
    let neg_exp = match body.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if !body.get(i).is_some_and(u8::is_ascii_digit) {
        return Err(GoParseError::Syntax);
    }
    let mut e: i64 = 0;
    while i < body.len() && (body[i].is_ascii_digit() || body[i] == b'_') {
        if body[i] != b'_' && e < 100_000 {
            e = e * 10 + i64::from(body[i] - b'0');
        }
        i += 1;
    }
    if i != body.len() {
        return Err(GoParseError::Syntax);
    }
    if mant == 0 {
        return Ok(0.0);
    }
    exp2 += if neg_exp { -e } else { e };
    // Normalise: the top bit of `mant` is bit 63, the value is 1.f * 2^top.
    let lz = i64::from(mant.leading_zeros());
    mant <<= lz;
    let top = exp2 - lz + 63;
    if top > 1023 {
        return Ok(f64::INFINITY);
    }
    // Bits dropped below the 53 kept (more for a subnormal).
    let shift = if top >= -1022 { 11 } else { 11 + (-1022 - top) };
    if shift > 65 {
        return Ok(0.0);
    }
    let wide = u128::from(mant);
    let mut kept = (wide >> shift) as u64;
    let rem = wide & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if rem > half || (rem == half && (sticky || kept & 1 == 1)) {
        kept += 1;
    }
    if top >= -1022 {
        let (kept, top) = if kept == 1 << 53 { (kept >> 1, top + 1) } else { (kept, top) };
        if top > 1023 {
            return Ok(f64::INFINITY);
        }
        let biased = u64::try_from(top + 1023).unwrap_or(0);
        Ok(f64::from_bits((biased << 52) | (kept & ((1 << 52) - 1))))
    } else {
        // A subnormal (or, rounded up to 2^52, the smallest normal: the same bits).
        Ok(f64::from_bits(kept))
    }
}

/// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` with units `ns`, `us` (`µs`,
/// `μs`), `ms`, `s`, `m`, `h`, or the bare `"0"`. A fraction is converted through float64
/// per component, as Go does; overflow of `i64` nanoseconds is an error.
pub fn parse_duration(s: &str) -> Result<GoDuration, GoParseError> {
    const LIMIT: u64 = 1 << 63;
    let b = s.as_bytes();
    let (neg, mut rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if rest == b"0" {
        return Ok(GoDuration(0));
    }
    if rest.is_empty() {
        return Err(GoParseError::Duration);
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !(rest[0] == b'.' || rest[0].is_ascii_digit()) {
            return Err(GoParseError::Duration);
        }
        // The whole part.
        let mut whole: u64 = 0;
        let mut i = 0;
        while i < rest.len() && rest[i].is_ascii_digit() {
            if whole > LIMIT / 10 {
                return Err(GoParseError::Duration);
            }
            whole = whole * 10 + u64::from(rest[i] - b'0');
            if whole > LIMIT {
                return Err(GoParseError::Duration);
            }
            i += 1;
        }
        let pre = i > 0;
        rest = &rest[i..];
        // The fraction: digits kept while they fit, the rest ignored.
        let (mut frac, mut scale, mut post) = (0u64, 1.0f64, false);
        if rest.first() == Some(&b'.') {
            rest = &rest[1..];
            let mut j = 0;
            let mut overflow = false;
            while j < rest.len() && rest[j].is_ascii_digit() {
                if !overflow {
                    if frac > (LIMIT - 1) / 10 {
                        overflow = true;
                    } else {
                        let next = frac * 10 + u64::from(rest[j] - b'0');
                        if next > LIMIT {
                            overflow = true;
                        } else {
                            frac = next;
                            scale *= 10.0;
                        }
                    }
                }
                j += 1;
            }
            post = j > 0;
            rest = &rest[j..];
        }
        if !pre && !post {
            return Err(GoParseError::Duration);
        }
        let unit_len = rest.iter().position(|&c| c == b'.' || c.is_ascii_digit()).unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(GoParseError::MissingUnit);
        }
        let unit: u64 = match &rest[..unit_len] {
            b"ns" => 1,
            // `µs` is U+00B5 (micro sign), `μs` U+03BC (Greek mu), both accepted by Go.
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return Err(GoParseError::UnknownUnit),
        };
        rest = &rest[unit_len..];
        if whole > LIMIT / unit {
            return Err(GoParseError::Duration);
        }
        let mut v = whole * unit;
        if frac > 0 {
            // Go: float64(f) * (float64(unit) / scale), truncated; at most 3.6e12 here.
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let part = (frac as f64 * (unit as f64 / scale)) as u64;
            v = v.saturating_add(part);
            if v > LIMIT {
                return Err(GoParseError::Duration);
            }
        }
        total = total.saturating_add(v);
        if total > LIMIT {
            return Err(GoParseError::Duration);
        }
    }
    if neg {
        // total <= 2^63, so its negation fits.
        return Ok(GoDuration(i64::try_from(total).map_or(i64::MIN, |t| -t)));
    }
    i64::try_from(total).map(GoDuration).map_err(|_| GoParseError::Duration)
}
