//! The one typed reader of configuration values: every number goes through the exact
//! decimal reader ([`Decimal`]), and every error names the key, the value and the rule.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::config::{ConfigError, ConfigValue};
use crate::units::{Decimal, DecimalError, DurationMs, Fixed9};

fn decimal<'v>(key: &str, value: &ConfigValue, text: &'v Option<String>) -> Result<Decimal<'v>, ConfigError> {
    let t = text.as_deref().ok_or_else(|| ConfigError::invalid(key, value, "must be a number"))?;
    Decimal::parse(t).map_err(|e| ConfigError::invalid(key, value, e.to_string()))
}

/// A whole number `>= 0` that fits 32 bits; `rule` is the message for a negative value.
pub(crate) fn whole(key: &str, value: &ConfigValue, rule: &str) -> Result<u32, ConfigError> {
    let text = value.number_text();
    let d = decimal(key, value, &text)?;
    let n = d.to_whole_u64().map_err(|e| match e {
        DecimalError::NotWhole => ConfigError::invalid(key, value, "must be a whole number"),
        DecimalError::Negative => ConfigError::invalid(key, value, rule),
        other => ConfigError::invalid(key, value, other.to_string()),
    })?;
    u32::try_from(n).map_err(|_| ConfigError::invalid(key, value, format!("must be at most {}", u32::MAX)))
}

/// A whole number `>= min` that fits 32 bits.
pub(crate) fn whole_at_least(key: &str, value: &ConfigValue, min: u32) -> Result<u32, ConfigError> {
    let rule = format!("must be a whole number >= {min}");
    let n = whole(key, value, &rule)?;
    if n < min {
        return Err(ConfigError::invalid(key, value, rule));
    }
    Ok(n)
}

/// A signed whole number that fits 32 bits (a step adjustment).
pub(crate) fn signed_whole(key: &str, value: &ConfigValue) -> Result<i64, ConfigError> {
    let text = value.number_text();
    let d = decimal(key, value, &text)?;
    let magnitude = match d.to_scaled_i64(0) {
        Ok(v) => v,
        Err(e) => return Err(ConfigError::invalid(key, value, e.to_string())),
    };
    // Whole: the value at scale 0 equals the value at scale 9 divided by 10^9.
    let fine = d.to_scaled_i64(9).map_err(|e| ConfigError::invalid(key, value, e.to_string()))?;
    if fine != magnitude.saturating_mul(1_000_000_000) {
        return Err(ConfigError::invalid(key, value, "must be a whole number"));
    }
    if i32::try_from(magnitude).is_err() {
        return Err(ConfigError::invalid(key, value, "must fit a 32-bit integer"));
    }
    Ok(magnitude)
}

/// A non-negative decimal with 9 places; `rule` is the message for a negative value.
pub(crate) fn fixed(key: &str, value: &ConfigValue, rule: &str) -> Result<Fixed9, ConfigError> {
    let text = value.number_text();
    let d = decimal(key, value, &text)?;
    d.to_scaled_u64(9).map(Fixed9::from_units).map_err(|e| match e {
        DecimalError::Negative => ConfigError::invalid(key, value, rule),
        other => ConfigError::invalid(key, value, other.to_string()),
    })
}

/// A decimal in `[0, 1]` with 9 places.
pub(crate) fn unit_interval(key: &str, value: &ConfigValue, positive: bool) -> Result<Fixed9, ConfigError> {
    let rule = if positive { "must be > 0 and <= 1" } else { "must be between 0 and 1" };
    let f = fixed(key, value, rule)?;
    if f > Fixed9::ONE || (positive && f == Fixed9::ZERO) {
        return Err(ConfigError::invalid(key, value, rule));
    }
    Ok(f)
}

/// A signed decimal in units of `10^-9` (a step bound such as `-0.1`).
pub(crate) fn signed_fixed(key: &str, value: &ConfigValue) -> Result<i64, ConfigError> {
    let text = value.number_text();
    let d = decimal(key, value, &text)?;
    d.to_scaled_i64(9).map_err(|e| ConfigError::invalid(key, value, e.to_string()))
}

/// A non-negative decimal in thousandths (Kubernetes' milli-units), rounded ties away from zero.
pub(crate) fn milli(key: &str, value: &ConfigValue, positive: bool) -> Result<i64, ConfigError> {
    let text = value.number_text();
    let d = decimal(key, value, &text)?;
    let rule = if positive { "must be > 0" } else { "must be >= 0" };
    if d.is_negative() || (positive && d.is_zero()) {
        return Err(ConfigError::invalid(key, value, rule));
    }
    let m = d.to_positive_scaled_u64(3).map_err(|e| match e {
        DecimalError::RoundsToZero => ConfigError::invalid(key, value, "is positive but rounds to 0 thousandths"),
        other => ConfigError::invalid(key, value, other.to_string()),
    })?;
    i64::try_from(m).map_err(|_| ConfigError::invalid(key, value, "is too large"))
}

/// A setting of a system that computes in IEEE float64 (Kubernetes' tolerance): validated
/// by the exact decimal reader, then held as the float64 nearest to the decimal as written,
/// which is the value Go's `strconv.ParseFloat` gives that system.
pub(crate) fn float64(key: &str, value: &ConfigValue) -> Result<f64, ConfigError> {
    let text = value.number_text();
    let d = decimal(key, value, &text)?;
    if d.is_negative() {
        return Err(ConfigError::invalid(key, value, "must be >= 0"));
    }
    let t = text.as_deref().unwrap_or_default();
    let x: f64 = t.parse().map_err(|_| ConfigError::invalid(key, value, "must be a number"))?;
    if !x.is_finite() {
        return Err(ConfigError::invalid(key, value, "must be a finite number"));
    }
    Ok(x)
}

/// Seconds, rounded to ms; `positive` refuses 0; a positive value that rounds to 0 ms is refused.
///
/// A string is a duration with units (`"90s"`, `"5m"`, `"1h30m"`: [`DurationMs::parse_with_units`]).
pub(crate) fn seconds(key: &str, value: &ConfigValue, positive: bool) -> Result<DurationMs, ConfigError> {
    if let ConfigValue::String(s) = value {
        let d = DurationMs::parse_with_units(s).map_err(|e| ConfigError::invalid(key, value, e.to_string()))?;
        if positive && d.as_ms() == 0 {
            return Err(ConfigError::invalid(key, value, "must be > 0 seconds"));
        }
        return Ok(d);
    }
    if !matches!(value, ConfigValue::Integer(_) | ConfigValue::Float(_) | ConfigValue::Number(_)) {
        return Err(ConfigError::invalid(
            key,
            value,
            "must be a number of seconds or a duration such as \"90s\", \"5m\", \"1h30m\"",
        ));
    }
    let text = value.number_text();
    let d = decimal(key, value, &text)?;
    let rule = if positive { "must be > 0 seconds" } else { "must be >= 0 seconds" };
    if d.is_negative() || (positive && d.is_zero()) {
        return Err(ConfigError::invalid(key, value, rule));
    }
    d.to_positive_scaled_u64(3).map(DurationMs).map_err(|e| match e {
        DecimalError::RoundsToZero => ConfigError::invalid(key, value, "is positive but rounds to 0 ms"),
        other => ConfigError::invalid(key, value, other.to_string()),
    })
}

/// `true` or `false`.
pub(crate) fn boolean(key: &str, v: &ConfigValue) -> Result<bool, ConfigError> {
    match v {
        ConfigValue::Bool(b) => Ok(*b),
        _ => Err(ConfigError::invalid(key, v, "must be true or false")),
    }
}

/// One of the named options.
pub(crate) fn one_of<T: Copy>(key: &str, value: &ConfigValue, options: &[(&str, T)]) -> Result<T, ConfigError> {
    let names = || options.iter().map(|(n, _)| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
    match value {
        ConfigValue::String(s) => options
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, v)| *v)
            .ok_or_else(|| ConfigError::invalid(key, value, format!("must be one of {}", names()))),
        _ => Err(ConfigError::invalid(key, value, format!("must be one of {}", names()))),
    }
}

/// An unknown key, with a suggestion among `known` for its last part.
pub(crate) fn unknown(key: &str, known: &[&str]) -> ConfigError {
    let sub = key.rsplit('.').next().unwrap_or(key);
    ConfigError::UnknownKey { key: key.to_string(), hint: crate::config::suggest(sub, known) }
}

/// A table's entries, or an error saying what shape was expected.
pub(crate) fn table<'v>(
    key: &str,
    value: &'v ConfigValue,
    shape: &str,
) -> Result<&'v alloc::collections::BTreeMap<String, ConfigValue>, ConfigError> {
    match value {
        ConfigValue::Table(t) => Ok(t),
        _ => Err(ConfigError::invalid(key, value, format!("must be a table like {shape}"))),
    }
}
