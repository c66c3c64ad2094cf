//! The metrics window: half-open edge, ordering, refusals.

use scaler_core::{ClockError, DurationMs, MetricsWindow, ObservationError, TimeMs};

use crate::obs;

fn window(len_s: u64) -> MetricsWindow {
    MetricsWindow::new(DurationMs::from_secs(len_s))
}

#[test]
fn half_open_edge() {
    let mut w = window(300);
    w.observe(obs("0", 1, 0, "0.5")).unwrap();
    w.observe(obs("0.001", 1, 0, "0.7")).unwrap();
    // At t = 299.999 both are in; at t = 300 the sample exactly 300 s old has left.
    let s = w.summary_at(TimeMs(299_999)).unwrap().unwrap();
    assert_eq!(s.count(), 2);
    let s = w.summary_at(TimeMs(300_000)).unwrap().unwrap();
    assert_eq!(s.count(), 1);
    assert_eq!(s.value(scaler_core::Aggregate::Max).to_string(), "0.7");
    assert!(w.summary_at(TimeMs(300_001)).unwrap().is_none());
}

#[test]
fn out_of_order_is_refused_and_window_unchanged() {
    let mut w = window(300);
    w.observe(obs("10", 1, 0, "0.5")).unwrap();
    let before = format!("{w:?}");
    let err = w.observe(obs("9.999", 1, 0, "0.9")).unwrap_err();
    assert!(matches!(err, ObservationError::OutOfOrder { .. }), "{err}");
    assert_eq!(format!("{w:?}"), before);
    // Equal timestamps are fine.
    w.observe(obs("10", 2, 0, "0.9")).unwrap();
    assert_eq!(w.summary_at(TimeMs(10_000)).unwrap().unwrap().newest().current_workers, 2);
}

#[test]
fn time_must_not_go_backwards() {
    let mut w = window(300);
    w.observe(obs("10", 1, 0, "0.5")).unwrap();
    assert!(matches!(w.advance(TimeMs(9_000)), Err(ClockError::BeforeNewestObservation { .. })));
    w.advance(TimeMs(20_000)).unwrap();
    assert!(matches!(w.advance(TimeMs(19_999)), Err(ClockError::Backwards { .. })));
}

#[test]
fn max_and_min_follow_evictions() {
    let mut w = window(3);
    let utils = ["0.9", "0.1", "0.5", "0.3", "0.2", "0.8"];
    for (i, u) in utils.iter().enumerate() {
        w.observe(obs(&i.to_string(), 1, 0, u)).unwrap();
        let s = w.summary_at(TimeMs(i as u64 * 1000)).unwrap().unwrap();
        // The window holds samples i-2..=i.
        let lo = i.saturating_sub(2);
        let vals: Vec<f64> = utils[lo..=i].iter().map(|v| v.parse().unwrap()).collect();
        let max = vals.iter().cloned().fold(f64::MIN, f64::max);
        let min = vals.iter().cloned().fold(f64::MAX, f64::min);
        assert_eq!(s.count() as usize, vals.len());
        assert_eq!(s.value(scaler_core::Aggregate::Max).to_f64(), max, "at {i}");
        assert_eq!(s.value(scaler_core::Aggregate::Min).to_f64(), min, "at {i}");
    }
}

#[test]
fn no_allocation_growth_once_warm_is_bounded_by_window_size() {
    // Steady state: one sample per second into a 100 s window holds 100 samples.
    let mut w = window(100);
    for i in 0..10_000u64 {
        w.observe(obs(&i.to_string(), 1, 0, if i % 2 == 0 { "0.25" } else { "0.75" })).unwrap();
        w.advance(TimeMs(i * 1000)).unwrap();
        assert!(w.len() <= 100);
    }
    assert_eq!(w.summary().unwrap().value(scaler_core::Aggregate::Mean).to_string(), "0.5");
}
