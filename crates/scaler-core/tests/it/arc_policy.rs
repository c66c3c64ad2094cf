//! The `arc` policy: the listener's sizing and patch ids, and the EphemeralRunnerSet's rules
//! (create, ignore a scale-down, delete idle runners only on a forced patch), as sequences.

use scaler_core::{DurationMs, Observation, PoolCounts, Scaler, TimeMs};

use crate::{cfg, try_cfg};

const BASE: &str =
    "policy = \"arc\"\nmin_workers = 0\nmax_workers = 50\nmetrics_window = 1\nevaluation_interval = 10\n";

/// One decision every 10 s on `(workers, ready, busy, pending, running)`, every scaling
/// applied; returns `target reason` per decision.
fn check(table: &str, points: &[(u32, u32, u64, u64, u64)], expect: &[&str]) {
    let mut s = Scaler::new(cfg(&format!("{BASE}[arc]\n{table}")));
    let got: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, &(n, ready, busy, pending, running))| {
            let now = TimeMs(i as u64 * 10_000);
            let counts = PoolCounts { ready_workers: ready, busy_slots: busy, total_slots: u64::from(ready) };
            let o = Observation::with_counts(now, n, pending, running, DurationMs::from_secs(60), counts).unwrap();
            let tick = s.tick(now, Some(o)).unwrap();
            if let Some(k) = tick.ticket {
                s.outcome(k, scaler_core::Outcome::Applied).unwrap();
            }
            format!("{} {}", tick.decision.target_workers, tick.decision.reason)
        })
        .collect();
    assert_eq!(got, expect, "{table}");
}

#[test]
fn runners_are_min_runners_plus_assigned_jobs_capped_and_never_scaled_down_while_jobs_move() {
    check(
        "min_runners = 2\nmax_runners = 6",
        &[
            (0, 0, 0, 0, 0), // the first call: 2 idle runners
            (2, 2, 0, 3, 0), // 3 jobs queued: 2 + 3
            (5, 2, 2, 1, 2), // two started: still 2 + 3
            (5, 5, 3, 3, 3), // 3 more queued: 2 + 6, capped at 6
            (6, 6, 3, 0, 3), // the queue went: 2 + 3 = 5 < 6, but jobs moved: ignored
            (4, 4, 1, 0, 1), // two finished and exited: 3 wanted, 4 there: ignored
        ],
        &[
            "2 arc_create",
            "5 arc_create",
            "5 arc_steady",
            "6 arc_create",
            "6 arc_scale_down_ignored",
            "4 arc_scale_down_ignored",
        ],
    );
}

#[test]
fn idle_runners_are_deleted_only_on_a_forced_patch_and_never_those_starting_or_busy() {
    check(
        "min_runners = 1",
        &[
            (4, 3, 0, 0, 0), // first call (patch 0, initial): 1 wanted, 4 there; not forced
            (4, 3, 0, 0, 0), // quiet at minRunners, as before: forced; 3 idle, 1 starting: delete 3
            (1, 0, 0, 0, 0), // the one still starting stays
            (1, 1, 0, 0, 0),
        ],
        &["4 arc_scale_down_ignored", "1 arc_delete_idle", "1 arc_steady", "1 arc_steady"],
    );
    // A job event since the last call (a runner finished and exited) spoils the force.
    check(
        "min_runners = 1",
        &[(4, 4, 1, 0, 1), (3, 3, 0, 0, 0), (3, 3, 0, 0, 0)],
        &["4 arc_scale_down_ignored", "3 arc_scale_down_ignored", "1 arc_delete_idle"],
    );
}

#[test]
fn bounds_are_checked_as_the_listener_checks_them() {
    let e = try_cfg(&format!("{BASE}[arc]\nmin_runners = 5\nmax_runners = 2")).unwrap_err();
    assert!(e.contains("MinRunners \"5\" cannot be greater than MaxRunners \"2\""), "{e}");
    let e = try_cfg(&format!("{BASE}[arc]\nmin_runners = -1")).unwrap_err();
    assert!(e.contains("arc.min_runners") && e.contains(">= 0"), "{e}");
    let e = try_cfg(&format!("{BASE}[arc]\nminRunners = 1")).unwrap_err();
    assert!(e.contains("unknown key"), "{e}");
    // Unset maxRunners is MaxInt32: max_workers bounds the pool.
    check("min_runners = 0", &[(0, 0, 0, 80, 0)], &["50 arc_create"]);
}
