//! The one number formatter of every file written: exact decimals of `scaler-core`'s
//! integer units (fast, no `fmt` machinery on the hot path), money, and floats in
//! their shortest round-trip form.

use scaler_core::Fixed9;

/// Appends a whole number.
pub fn push_u64(buf: &mut Vec<u8>, n: u64) {
    let mut b = itoa::Buffer::new();
    buf.extend_from_slice(b.format(n).as_bytes());
}

/// Appends `value / 10^scale` with no trailing fractional zeros.
fn push_scaled(buf: &mut Vec<u8>, value: u64, scale: u32) {
    let unit = 10u64.pow(scale);
    push_u64(buf, value / unit);
    let frac = value % unit;
    if frac == 0 {
        return;
    }
    // Zero-padded to `scale` digits, then trailing zeros dropped.
    let mut b = itoa::Buffer::new();
    let digits = b.format(frac).as_bytes();
    let pad = scale as usize - digits.len();
    let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
    buf.push(b'.');
    buf.extend(std::iter::repeat_n(b'0', pad));
    buf.extend_from_slice(&digits[..end]);
}

/// Appends milliseconds as decimal seconds (`1500` → `1.5`).
pub fn push_ms_as_seconds(buf: &mut Vec<u8>, ms: u64) {
    push_scaled(buf, ms, 3);
}

/// Appends a fixed-point number (`800000000` units → `0.8`).
pub fn push_fixed9(buf: &mut Vec<u8>, v: Fixed9) {
    push_scaled(buf, v.units(), 9);
}

/// A cost with at most 9 decimals and no trailing zeros.
#[must_use]
pub fn format_money(x: f64) -> String {
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A number in its shortest round-trip form (`3`, `0.25`).
#[must_use]
pub fn fmt_num(v: f64) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_display() {
        for ms in [0u64, 1, 10, 999, 1000, 1500, 60_000, 123_456_789, u64::MAX] {
            let mut b = Vec::new();
            push_ms_as_seconds(&mut b, ms);
            assert_eq!(String::from_utf8(b).unwrap(), scaler_core::TimeMs(ms).to_string());
        }
        for u in [0u64, 1, 800_000_000, 1_000_000_000, 333_333_333, u64::MAX] {
            let mut b = Vec::new();
            push_fixed9(&mut b, Fixed9::from_units(u));
            assert_eq!(String::from_utf8(b).unwrap(), Fixed9::from_units(u).to_string());
        }
    }
}
