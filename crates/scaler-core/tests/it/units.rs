//! Exact decimal reading.

use scaler_core::{Decimal, DecimalError, DurationMs, Fixed9, TimeMs};

#[test]
fn decimal_forms() {
    let cases: &[(&str, Result<u64, DecimalError>)] = &[
        ("1", Ok(1000)),
        ("1.5", Ok(1500)),
        ("+2", Ok(2000)),
        ("1.0005", Ok(1001)),
        ("1.00049", Ok(1000)),
        ("0.0015", Ok(2)),
        ("1e3", Ok(1_000_000)),
        ("2.5E-3", Ok(3)),
        (".5", Ok(500)),
        ("5.", Ok(5000)),
        ("-0", Ok(0)),
        ("-1", Err(DecimalError::Negative)),
        ("", Err(DecimalError::NotANumber)),
        ("NaN", Err(DecimalError::NotANumber)),
        ("inf", Err(DecimalError::NotANumber)),
        ("1,5", Err(DecimalError::NotANumber)),
        ("1e", Err(DecimalError::NotANumber)),
        ("99999999999999999999999", Err(DecimalError::TooLarge)),
        ("1e400", Err(DecimalError::TooLarge)),
        ("1e-400", Ok(0)),
    ];
    for (text, expect) in cases {
        assert_eq!(TimeMs::parse_seconds(text).map(|t| t.0), *expect, "{text:?}");
    }
}

#[test]
fn positive_duration_rounding_to_zero_is_refused() {
    assert_eq!(DurationMs::parse_seconds("0.0004"), Err(DecimalError::RoundsToZero));
    assert_eq!(DurationMs::parse_seconds("0.0005"), Ok(DurationMs(1)));
    assert_eq!(DurationMs::parse_seconds("0"), Ok(DurationMs(0)));
}

#[test]
fn whole_numbers() {
    let w = |t: &str| Decimal::parse(t).unwrap().to_whole_u64();
    assert_eq!(w("3"), Ok(3));
    assert_eq!(w("3.000"), Ok(3));
    assert_eq!(w("3e2"), Ok(300));
    assert_eq!(w("1.5e1"), Ok(15));
    assert_eq!(w("1.5"), Err(DecimalError::NotWhole));
    assert_eq!(w("15e-1"), Err(DecimalError::NotWhole));
    assert_eq!(w("-2"), Err(DecimalError::Negative));
}

#[test]
fn fixed9_display_and_conversion() {
    assert_eq!(Fixed9::parse("0.8").unwrap().to_string(), "0.8");
    assert_eq!(Fixed9::parse("0.1234567894").unwrap().to_string(), "0.123456789");
    assert_eq!(Fixed9::parse("0.1234567895").unwrap().to_string(), "0.12345679");
    assert_eq!(Fixed9::from_ratio(1, 3).to_string(), "0.333333333");
    assert_eq!(Fixed9::from_ratio(2, 3).to_string(), "0.666666667");
    assert_eq!(Fixed9::from_f64(0.8), Fixed9::parse("0.8").ok());
    assert_eq!(Fixed9::from_f64(f64::NAN), None);
    assert_eq!(Fixed9::from_f64(-0.1), None);
    assert_eq!(TimeMs(1500).to_string(), "1.5");
    assert_eq!(TimeMs(60_000).to_string(), "60");
    assert_eq!(TimeMs(1).to_string(), "0.001");
}

mod fast_path {
    use proptest::prelude::*;
    use scaler_core::{parse_count, Decimal, DurationMs, Fixed9, TimeMs};

    proptest! {
        /// The one-pass readers behind the typed byte parsers agree with the general
        /// decimal reader on every input.
        #[test]
        fn byte_parsers_match_decimal(text in "[+-]?[0-9]{0,22}(\\.[0-9]{0,12})?([eE][+-]?[0-9]{1,3})?") {
            let d = Decimal::parse(&text);
            prop_assert_eq!(TimeMs::parse_seconds_bytes(text.as_bytes()), d.and_then(|d| d.to_scaled_u64(3)).map(TimeMs), "{}", text);
            prop_assert_eq!(DurationMs::parse_seconds_bytes(text.as_bytes()), d.and_then(|d| d.to_positive_scaled_u64(3)).map(DurationMs), "{}", text);
            prop_assert_eq!(Fixed9::parse_bytes(text.as_bytes()), d.and_then(|d| d.to_scaled_u64(9)).map(Fixed9::from_units), "{}", text);
        }

        #[test]
        fn parse_count_matches_decimal(text in "[+-]?[0-9]{0,22}(\\.[0-9]{0,3})?") {
            let slow = Decimal::parse(&text).and_then(|d| d.to_whole_u64());
            prop_assert_eq!(parse_count(text.as_bytes()), slow, "{}", text);
        }
    }
}

#[test]
fn durations_with_units() {
    use scaler_core::DurationTextError as E;
    let cases: &[(&str, Result<u64, E>)] = &[
        ("90s", Ok(90_000)),
        ("5m", Ok(300_000)),
        ("1h30m", Ok(5_400_000)),
        ("1.5h", Ok(5_400_000)),
        ("250ms", Ok(250)),
        ("1m30s250ms", Ok(90_250)),
        ("2d", Ok(172_800_000)),
        ("0s", Ok(0)),
        ("0.0005s", Ok(1)),
        ("0.00049s", Err(E::RoundsToZero)),
        ("1.0000000001s", Ok(1000)),
        (" 90s ", Ok(90_000)),
        ("+90s", Ok(90_000)),
        ("-5m", Err(E::Negative)),
        ("90", Err(E::MissingUnit)),
        ("1h30", Err(E::MissingUnit)),
        ("90x", Err(E::UnknownUnit)),
        ("90 s", Err(E::UnknownUnit)),
        ("5M", Err(E::UnknownUnit)),
        ("s", Err(E::Malformed)),
        ("", Err(E::Malformed)),
        ("1..5s", Err(E::Malformed)),
        ("99999999999999999999h", Err(E::TooLarge)),
    ];
    for (text, expect) in cases {
        assert_eq!(DurationMs::parse_with_units(text).map(|d| d.as_ms()), *expect, "{text:?}");
    }
}

#[test]
fn config_durations_accept_units_and_say_what_they_take() {
    use scaler_core::{ConfigValue, ScalerConfig};
    let s = |t: &str| ConfigValue::String(t.to_string());
    let cfg =
        ScalerConfig::from_pairs([("cooldown_period", &s("2m")), ("metrics_window", &s("1h30m"))]).expect("valid");
    assert_eq!(cfg.cooldown_period().as_ms(), 120_000);
    assert_eq!(cfg.metrics_window().as_ms(), 5_400_000);
    let err = ScalerConfig::from_pairs([("cooldown_period", &s("120"))]).expect_err("no unit").to_string();
    assert!(err.contains("cooldown_period") && err.contains("\"120\"") && err.contains("needs a unit"), "{err}");
    let err = ScalerConfig::from_pairs([("metrics_window", &s("0s"))]).expect_err("zero").to_string();
    assert!(err.contains("must be > 0 seconds"), "{err}");
    let err = ScalerConfig::from_pairs([("cooldown_period", &ConfigValue::Bool(true))]).expect_err("bool").to_string();
    assert!(err.contains("duration such as \"90s\""), "{err}");
}
