//! Typed reading of CSV fields, with errors that name the value and the rule.

use std::io::BufRead;

use scaler_core::{Decimal, DecimalError, DurationMs, Fixed9, TimeMs};

use crate::csvio::CsvReader;
use crate::error::InputError;

fn rule(e: DecimalError, what: &str) -> String {
    match e {
        DecimalError::NotANumber => format!("must be {what}"),
        other => other.to_string(),
    }
}

/// A time in seconds, `>= 0`, rounded to ms.
pub fn time<R: BufRead>(r: &CsvReader<R>, i: usize) -> Result<TimeMs, InputError> {
    let t = r.get(i)?;
    TimeMs::parse_seconds(t).map_err(|e| r.field_error(i, format!("{t:?} {}", rule(e, "a number of seconds"))))
}

/// A duration in seconds, `>= 0`, rounded to ms; a positive value that rounds to 0 ms is refused.
pub fn duration<R: BufRead>(r: &CsvReader<R>, i: usize) -> Result<DurationMs, InputError> {
    let t = r.get(i)?;
    DurationMs::parse_seconds(t).map_err(|e| match e {
        DecimalError::RoundsToZero => r.field_error(i, format!("{t:?} is a positive duration that rounds to 0 ms")),
        e => r.field_error(i, format!("{t:?} {}", rule(e, "a number of seconds"))),
    })
}

/// A whole count, `>= 0`.
pub fn count<R: BufRead>(r: &CsvReader<R>, i: usize) -> Result<u64, InputError> {
    let t = r.get(i)?;
    Decimal::parse(t)
        .and_then(|d| d.to_whole_u64())
        .map_err(|e| r.field_error(i, format!("{t:?} {}", rule(e, "a whole number"))))
}

/// A whole count that fits 32 bits.
pub fn count_u32<R: BufRead>(r: &CsvReader<R>, i: usize) -> Result<u32, InputError> {
    let n = count(r, i)?;
    u32::try_from(n).map_err(|_| r.field_error(i, format!("{n} is too large (at most {})", u32::MAX)))
}

/// A ratio between 0 and 1, rounded to 9 places.
pub fn utilization<R: BufRead>(r: &CsvReader<R>, i: usize) -> Result<Fixed9, InputError> {
    let t = r.get(i)?;
    let u = Fixed9::parse(t).map_err(|e| r.field_error(i, format!("{t:?} {}", rule(e, "a number between 0 and 1"))))?;
    if u > Fixed9::ONE {
        return Err(r.field_error(i, format!("{t:?} is above 1 (a utilization is between 0 and 1)")));
    }
    Ok(u)
}
