//! Typed reading of CSV fields, with errors that name the value and the rule.

use std::io::Read;

use scaler_core::{parse_count, DecimalError, DurationMs, Fixed9, TimeMs};

use crate::csvio::CsvReader;
use crate::error::InputError;

fn fail<R: Read>(r: &CsvReader<R>, i: usize, e: DecimalError, what: &str) -> InputError {
    let text = String::from_utf8_lossy(r.get_bytes(i));
    let rule = match e {
        DecimalError::NotANumber => format!("must be {what}"),
        DecimalError::RoundsToZero => "is a positive duration that rounds to 0 ms".to_string(),
        other => other.to_string(),
    };
    r.field_error(i, format!("{text:?} {rule}"))
}

/// A time in seconds, `>= 0`, rounded to ms.
pub fn time<R: Read>(r: &CsvReader<R>, i: usize) -> Result<TimeMs, InputError> {
    TimeMs::parse_seconds_bytes(r.get_bytes(i)).map_err(|e| fail(r, i, e, "a number of seconds"))
}

/// A duration in seconds, `>= 0`, rounded to ms; a positive value that rounds to 0 ms is refused.
pub fn duration<R: Read>(r: &CsvReader<R>, i: usize) -> Result<DurationMs, InputError> {
    DurationMs::parse_seconds_bytes(r.get_bytes(i)).map_err(|e| fail(r, i, e, "a number of seconds"))
}

/// A whole count, `>= 0`.
pub fn count<R: Read>(r: &CsvReader<R>, i: usize) -> Result<u64, InputError> {
    parse_count(r.get_bytes(i)).map_err(|e| fail(r, i, e, "a whole number"))
}

/// A whole count that fits 32 bits.
pub fn count_u32<R: Read>(r: &CsvReader<R>, i: usize) -> Result<u32, InputError> {
    let n = count(r, i)?;
    u32::try_from(n).map_err(|_| r.field_error(i, format!("{n} is too large (at most {})", u32::MAX)))
}

/// A ratio between 0 and 1, rounded to 9 places.
pub fn utilization<R: Read>(r: &CsvReader<R>, i: usize) -> Result<Fixed9, InputError> {
    let u = Fixed9::parse_bytes(r.get_bytes(i)).map_err(|e| fail(r, i, e, "a number between 0 and 1"))?;
    if u > Fixed9::ONE {
        let text = String::from_utf8_lossy(r.get_bytes(i));
        return Err(r.field_error(i, format!("{text:?} is above 1 (a utilization is between 0 and 1)")));
    }
    Ok(u)
}
