//! The no-progress guard stops only runs that truly cannot progress: long gaps, long tasks
//! and unlucky faults run to completion; a run that nothing can ever move is stopped with a
//! message that says what is stuck.

use scaler_model::{simulate, Faults, ModelError, Summary, Task, VecSource};

use crate::sim::scenario;

const DAY_MS: u64 = 86_400_000;

fn run(toml_text: &str, tasks: Vec<Task>, faults: Faults) -> Result<Summary, ModelError> {
    let sc = scenario(toml_text);
    let mut params = sc.params(1);
    params.faults = faults;
    simulate(params, &mut VecSource::new(tasks), |_| Ok::<(), ModelError>(()))
}

const ONE_WORKER: &str = "[scaler]\nmin_workers = 1\nmax_workers = 4\nevaluation_interval = 15\n[cluster]\ninitial_workers = 1\nprovision_delay_s = 30\n";

#[test]
fn two_tasks_31_days_apart_run_to_completion() {
    let tasks =
        vec![Task { arrival_ms: 0, duration_ms: 10_000 }, Task { arrival_ms: 31 * DAY_MS, duration_ms: 10_000 }];
    let s = run(ONE_WORKER, tasks, Faults::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.tasks, 2);
    assert_eq!(s.end_time_s, (31 * 86_400 + 10) as f64);
    assert_eq!((s.wait_mean_s, s.wait_max_s), (0.0, 0.0));
}

#[test]
fn one_31_day_task_runs_to_completion() {
    let s = run(ONE_WORKER, vec![Task { arrival_ms: 0, duration_ms: 31 * DAY_MS }], Faults::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((s.tasks, s.end_time_s, s.wait_max_s), (1, (31 * 86_400) as f64, 0.0));
}

#[test]
fn a_long_gap_with_scale_to_zero_waits_for_a_new_worker() {
    // No worker is alive in the 40-day gap, but a task arrives later: not stuck.
    let toml = "[scaler]\npolicy = \"queue\"\nmin_workers = 0\nmax_workers = 4\nscale_up_threshold = 0.9\nevaluation_interval = 15\n\
                [scaler.queue]\nidle_grace_s = 60\n[cluster]\ninitial_workers = 1\nprovision_delay_s = 30\n";
    let tasks =
        vec![Task { arrival_ms: 0, duration_ms: 1000 }, Task { arrival_ms: 40 * DAY_MS + 5000, duration_ms: 1000 }];
    let s = run(toml, tasks, Faults::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.tasks, 2);
    // Arrives at +5 s, the tick at +15 s scales up, ready 30 s later: waited 40 s.
    assert_eq!(s.wait_max_s, 40.0);
    assert_eq!(s.end_time_s, (40 * 86_400 + 46) as f64);
}

#[test]
fn provisioning_that_usually_fails_is_retried_until_a_worker_starts() {
    let toml = "[scaler]\nmin_workers = 1\nmax_workers = 2\ncooldown_period = 15\nevaluation_interval = 15\n[cluster]\ninitial_workers = 0\nprovision_delay_s = 30\n";
    let f = Faults { provision_failure: 0.97, ..Faults::default() };
    let s = run(toml, vec![Task { arrival_ms: 0, duration_ms: 1000 }], f).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.tasks, 1);
    assert!(s.faults.provision_failures > 0);
}

#[test]
fn provisioning_that_always_fails_is_stopped_saying_what_is_stuck() {
    let toml = "[scaler]\nmin_workers = 1\nmax_workers = 3\nevaluation_interval = 15\n[cluster]\ninitial_workers = 0\n";
    let f = Faults { provision_failure: 1.0, ..Faults::default() };
    let tasks = vec![Task { arrival_ms: 0, duration_ms: 1000 }, Task { arrival_ms: 0, duration_ms: 1000 }];
    let e = run(toml, tasks, f).unwrap_err();
    assert!(matches!(e, ModelError::Stuck(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "the run cannot progress: 2 tasks wait at 0 ms with no worker alive or provisioning and no task arriving later, \
         and no worker can ever start: every provisioning fails (provision_failure = 1)"
    );
    // Scaling calls that always fail: the pool starts empty and can never grow.
    let toml = "[scaler]\nmin_workers = 0\nmax_workers = 3\npolicy = \"queue\"\nscale_up_threshold = 0.9\n[cluster]\ninitial_workers = 0\n";
    let f = Faults { scaling_failure: 1.0, ..Faults::default() };
    let e = run(toml, vec![Task { arrival_ms: DAY_MS, duration_ms: 1000 }], f).unwrap_err().to_string();
    assert!(e.contains("every scaling call fails (scaling_failure = 1)"), "{e}");
}

#[test]
fn a_scaler_that_holds_forever_with_tasks_waiting_is_stopped() {
    // From zero workers the queue policy wakes only above 5 tasks; 3 wait, nothing else comes.
    let toml = "[scaler]\npolicy = \"queue\"\nmin_workers = 0\nmax_workers = 4\nscale_up_threshold = 0.9\nevaluation_interval = 15\n\
                [scaler.queue]\nactivation_threshold = 5\nidle_grace_s = 60\n[cluster]\ninitial_workers = 0\n";
    let tasks = (0..3).map(|_| Task { arrival_ms: 1000, duration_ms: 1000 }).collect();
    let e = run(toml, tasks, Faults::default()).unwrap_err();
    assert!(matches!(e, ModelError::Stuck(_)), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("3 tasks wait") && e.contains("the scaler has not scaled up for 10000 ticks"), "{e}");
    assert!(e.contains("its last reason: below_activation"), "{e}");
}

#[test]
fn a_task_that_crashes_make_impossible_is_stopped() {
    let f = Faults { crash_rate_per_hour: 1.0, ..Faults::default() };
    let e = run(ONE_WORKER, vec![Task { arrival_ms: 0, duration_ms: 31 * DAY_MS }], f).unwrap_err().to_string();
    assert!(
        e.starts_with("the run cannot progress: a task of 2678400 s can never complete: with crash_rate_per_hour = 1 its worker is expected to crash 744 times"),
        "{e}"
    );
    // A long task with rare crashes still runs (expected 0.7 crashes per attempt).
    let f = Faults { crash_rate_per_hour: 0.001, ..Faults::default() };
    let s =
        run(ONE_WORKER, vec![Task { arrival_ms: 0, duration_ms: 31 * DAY_MS }], f).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.tasks, 1);
}
