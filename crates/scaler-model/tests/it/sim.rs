//! The simulator against hand-computed scenarios, one per clause of SPEC section 6,
//! and against queueing theory.

use std::path::{Path, PathBuf};

use scaler_core::{Action, Reason, TimeMs};
use scaler_formats::scenario::{self, Overrides, Scenario};
use scaler_formats::tomldoc::Doc;
use scaler_model::{simulate, ModelError, Summary, Task, TickRow, VecSource};

/// A scenario from TOML text (no trace file: tasks are given in memory).
pub fn scenario(toml_text: &str) -> Scenario {
    let doc = Doc::parse(Path::new("inline.toml"), toml_text.to_string()).unwrap();
    let o = Overrides { trace: Some(PathBuf::from("inline.csv")), ..Overrides::default() };
    scenario::from_doc(&doc, &o).unwrap_or_else(|e| panic!("{e}"))
}

/// Tasks from `(arrival_s, duration_s)` text pairs.
pub fn tasks(pairs: &[(&str, &str)]) -> Vec<Task> {
    pairs
        .iter()
        .map(|(a, d)| Task {
            arrival_ms: TimeMs::parse_seconds(a).unwrap().as_ms(),
            duration_ms: TimeMs::parse_seconds(d).unwrap().as_ms(),
        })
        .collect()
}

/// Runs the simulator in memory.
pub fn sim(toml_text: &str, tasks: Vec<Task>) -> (Vec<TickRow>, Summary) {
    let sc = scenario(toml_text);
    let mut rows = Vec::new();
    let params = sc.params(sc.seed);
    let summary = simulate(params, &mut VecSource::new(tasks), |r| {
        rows.push(*r);
        Ok::<(), ModelError>(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    (rows, summary)
}

fn row_at(rows: &[TickRow], t_s: u64) -> &TickRow {
    rows.iter().find(|r| r.time.as_ms() == t_s * 1000).unwrap_or_else(|| panic!("no tick at {t_s} s"))
}

/// `current ready provisioning draining pending running utilization action target reason`
fn state(r: &TickRow) -> String {
    format!(
        "{} {} {} {} {} {} {} {} {} {}",
        r.current_workers,
        r.ready,
        r.provisioning,
        r.draining,
        r.pending_tasks,
        r.running_tasks,
        r.worker_utilization,
        r.decision.action,
        r.decision.target_workers,
        r.decision.reason
    )
}

const FIXED_ONE: &str = "[scaler]\nmin_workers = 1\nmax_workers = 1\n";

#[test]
fn fifo_waits_percentiles_and_billing_rounding() {
    // One worker: A 0-10, B waits 0-10 then runs 10-20, C waits 5-20 then runs 20-21.
    let cfg = format!(
        "{FIXED_ONE}[cluster]\nbilling_increment_s = 10\nbilling_minimum_s = 0\nprice_per_worker_hour = 3.6\nslo_wait_s = 10\n"
    );
    let (rows, s) = sim(&cfg, tasks(&[("0", "10"), ("0", "10"), ("5", "1")]));
    assert_eq!(s.tasks, 3);
    assert_eq!(s.end_time_s, 21.0);
    assert_eq!((s.wait_p50_s, s.wait_p95_s, s.wait_p99_s, s.wait_max_s), (10.0, 15.0, 15.0, 15.0));
    assert!((s.wait_mean_s - 25.0 / 3.0).abs() < 1e-12);
    assert!((s.slo_violation_ratio - 1.0 / 3.0).abs() < 1e-12, "only the 15 s wait is above 10 s");
    assert_eq!(s.worker_seconds, 21.0);
    assert_eq!(s.billed_worker_seconds, 30.0, "21 s rounded up to a multiple of 10");
    assert!((s.cost - 0.03).abs() < 1e-12, "30 s at 3.6 per hour");
    assert_eq!(rows.len(), 1, "only tick 0 is <= end_time 21 with a 60 s interval");
    // Little's law holds exactly on a sample path: integral of queue length = sum of waits.
    assert!((s.mean_queue_length - 25.0 / 21.0).abs() < 1e-12);
}

#[test]
fn billing_minimum_applies_even_to_a_zero_length_life() {
    let cfg = "[scaler]\nmin_workers = 1\nmax_workers = 4\n[cluster]\ninitial_workers = 3\nbilling_minimum_s = 60\nprice_per_worker_hour = 3.6\n";
    // Empty trace: end_time 0; tick 0 sees utilization 0 and removes max(1, floor(3 * 25 %)) = 1 worker.
    let (rows, s) = sim(cfg, Vec::new());
    assert_eq!(rows.len(), 1);
    assert_eq!(state(&rows[0]), "2 2 0 0 0 0 0 scale_down 2 utilization_low");
    assert_eq!((s.tasks, s.end_time_s, s.worker_seconds), (0, 0.0, 0.0));
    assert_eq!(s.billed_worker_seconds, 180.0, "three lives of 0 s, each billed the 60 s minimum");
    assert_eq!((s.mean_workers, s.max_workers), (2.0, 2), "the value after tick 0 when end_time is 0");
    assert_eq!((s.wait_mean_s, s.wait_p99_s, s.slo_violation_ratio), (0.0, 0.0, 0.0));
}

#[test]
fn scale_down_removes_provisioning_then_idle_then_busy_newest_first() {
    let cfg = "[scaler]\nmin_workers = 1\nmax_workers = 20\nscale_up_threshold = 0.5\nscale_down_threshold = 0.25\n\
               cooldown_period = 0\nmetrics_window = 1\nevaluation_interval = 10\nutilization_aggregate = \"latest\"\n\
               scale_up_step = { percent = 0, min = 2 }\nscale_down_step = { percent = 0, min = 12 }\n\
               [cluster]\ninitial_workers = 10\nprovision_delay_s = 1000\nprice_per_worker_hour = 3.6\n";
    // w0 runs a long task; w1..w9 short ones; the 11th task waits.
    let mut t = vec![("0", "100")];
    t.extend(std::iter::repeat_n(("0", "5"), 9));
    t.push(("0", "15"));
    let (rows, s) = sim(cfg, tasks(&t));
    // Tick 0: 10 of 10 busy, 1 pending: two workers requested (ids 10, 11), ready only at 1000 s.
    assert_eq!(state(row_at(&rows, 0)), "12 10 2 0 1 10 1 scale_up 12 utilization_high");
    // At 5 s w1..w9 finish and the waiting task goes to w1 (the lowest free id), running to 20 s.
    // Tick 10: 2 of 10 ready busy (0.2 < 0.25): remove 11 = provisioning 11, 10; idle 9..2; busy w1 drains.
    assert_eq!(state(row_at(&rows, 10)), "1 1 0 1 0 2 1 scale_down 1 utilization_low");
    // w1 terminates when its task ends at 20 s.
    assert_eq!(state(row_at(&rows, 20)), "1 1 0 0 0 1 1 hold 1 no_pending_tasks");
    // The run ends with w0's task at 100 s, and the tick at 100 s comes after that completion.
    let last = rows.last().unwrap();
    assert_eq!(last.time.as_ms(), 100_000);
    assert_eq!(state(last), "1 1 0 0 0 0 0 hold 1 at_min_workers");
    assert_eq!(s.end_time_s, 100.0);
    // Lives: w0 100 s, w1 20 s, w2..w9 10 s each, w10 and w11 cancelled at 10 s.
    assert_eq!(s.worker_seconds, 100.0 + 20.0 + 8.0 * 10.0 + 2.0 * 10.0);
    assert_eq!((s.scale_ups, s.scale_downs, s.workers_requested), (1, 1, 12));
    // current_workers: 12 on [0, 10), 1 on [10, 100].
    assert_eq!((s.mean_workers, s.max_workers), ((12.0 * 10.0 + 90.0) / 100.0, 12));
    assert_eq!((s.wait_max_s, s.tasks), (5.0, 11));
}

#[test]
fn zero_provisioning_delay_makes_workers_ready_at_the_tick() {
    let cfg = "[scaler]\nmin_workers = 1\nmax_workers = 5\n[cluster]\nprovision_delay_s = 0\n";
    let (rows, s) = sim(cfg, tasks(&[("0", "50"), ("0", "50"), ("0", "50")]));
    // Tick 0: 1 of 1 busy, 2 pending: up to 2; the new worker is ready at once and takes a task.
    assert_eq!(state(&rows[0]), "2 2 0 0 1 2 1 scale_up 2 utilization_high");
    assert_eq!(s.wait_p50_s, 0.0);
    assert_eq!(s.wait_max_s, 50.0);
}

#[test]
fn same_instant_order_completions_then_arrivals_then_fifo_dispatch() {
    // At 10 s: A completes (step 2), C arrives (step 3), and B, queued earlier, is dispatched first.
    let (_, s) = sim(FIXED_ONE, tasks(&[("0", "10"), ("5", "10"), ("10", "10")]));
    // Waits: A 0, B 5, C 10.
    assert_eq!((s.wait_max_s, s.wait_p50_s), (10.0, 5.0));
    assert_eq!(s.end_time_s, 30.0);
}

#[test]
fn provisioning_ends_before_the_tick_at_the_same_instant() {
    // A worker requested at tick 0 with a 60 s delay is ready at 60 s, before tick 60 observes.
    let cfg = "[scaler]\nmin_workers = 1\nmax_workers = 2\ncooldown_period = 600\n[cluster]\nprovision_delay_s = 60\n";
    let (rows, _) = sim(cfg, tasks(&[("0", "100"), ("0", "100")]));
    assert_eq!(state(row_at(&rows, 0)), "2 1 1 0 1 1 1 scale_up 2 utilization_high");
    // At 60 s: ready (step 1), the waiting task dispatched (step 4), then the tick.
    assert_eq!(state(row_at(&rows, 60)), "2 2 0 0 0 2 1 hold 2 cooldown");
}

#[test]
fn zero_duration_tasks_complete_at_dispatch_and_are_never_seen_running() {
    let (rows, s) = sim(FIXED_ONE, tasks(&[("0", "0"), ("0", "0"), ("0", "10")]));
    assert_eq!(s.wait_max_s, 0.0, "each zero task frees the slot for the next within the instant");
    assert_eq!(state(&rows[0]), "1 1 0 0 0 1 1 hold 1 no_pending_tasks");
    // With two slots, the first pass places both zero tasks; the long one waits for the second pass, same instant.
    let cfg = format!("{FIXED_ONE}[cluster]\nslots_per_worker = 2\n");
    let (rows, s) = sim(&cfg, tasks(&[("0", "0"), ("0", "0"), ("0", "10")]));
    assert_eq!(s.wait_max_s, 0.0);
    assert_eq!(state(&rows[0]), "1 1 0 0 0 1 0.5 hold 1 within_band");
    // A run of only zero-duration tasks ends at the last arrival.
    let (_, s) = sim(FIXED_ONE, tasks(&[("0", "0"), ("7.5", "0")]));
    assert_eq!((s.end_time_s, s.tasks, s.worker_seconds), (7.5, 2, 7.5));
}

#[test]
fn utilization_with_no_ready_worker_is_one_when_tasks_wait() {
    // min_workers = 0: no worker at all; pending work reads as utilization 1.0 and scales up.
    let cfg =
        "[scaler]\nmin_workers = 0\nmax_workers = 3\nscale_up_threshold = 0.9\n[cluster]\nprovision_delay_s = 30\n";
    let (rows, s) = sim(cfg, tasks(&[("0", "5")]));
    assert_eq!(state(&rows[0]), "1 0 1 0 1 0 1 scale_up 1 utilization_high");
    assert_eq!(rows[0].observation.worker_utilization().to_string(), "1");
    assert_eq!(s.wait_max_s, 30.0);
    assert_eq!(s.end_time_s, 35.0);
}

#[test]
fn nearest_rank_percentiles() {
    // One worker, 20 one-second tasks at 0: waits 0, 1, ..., 19.
    let t: Vec<(&str, &str)> = std::iter::repeat_n(("0", "1"), 20).collect();
    let (_, s) = sim(FIXED_ONE, tasks(&t));
    // p50 = ceil(0.5 * 20) = 10th smallest = 9; p95 = 19th = 18; p99 = ceil(19.8) = 20th = 19.
    assert_eq!((s.wait_p50_s, s.wait_p95_s, s.wait_p99_s, s.wait_max_s), (9.0, 18.0, 19.0, 19.0));
    assert_eq!(s.wait_mean_s, 9.5);
}

#[test]
fn draining_workers_are_not_current_but_are_billed() {
    // max 1 with 3 busy initial workers: rule 3 drains w2 and w1 (busy, newest first).
    let cfg = "[scaler]\nmin_workers = 0\nmax_workers = 1\nscale_up_threshold = 0.9\n[cluster]\ninitial_workers = 3\n";
    let (rows, s) = sim(cfg, tasks(&[("0", "10"), ("0", "20"), ("0", "30")]));
    assert_eq!(state(&rows[0]), "1 1 0 2 0 3 1 scale_down 1 above_max_workers");
    assert_eq!(rows[0].decision.reason, Reason::AboveMaxWorkers);
    // w0 lives to the end (30 s: rule 3 kept it, the last completion is w2's at 30 s); w1 to 20 s, w2 to 30 s.
    assert_eq!(s.worker_seconds, 30.0 + 20.0 + 30.0);
    assert_eq!(s.max_workers, 1);
}

/// Erlang C: probability of waiting in an M/M/c queue with offered load `a`.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut sum = 0.0;
    let mut term = 1.0;
    for k in 0..c {
        if k > 0 {
            term *= a / f64::from(k);
        }
        sum += term;
    }
    let last = term * a / f64::from(c);
    let rho = a / f64::from(c);
    let top = last / (1.0 - rho);
    top / (sum + top)
}

#[test]
fn mm4_at_load_0_8_matches_erlang_c_and_littles_law() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp};
    let (c, mean_service_s, load) = (4u32, 10.0, 0.8);
    let lambda = load * f64::from(c) / mean_service_s;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let inter = Exp::new(lambda).unwrap();
    let service = Exp::new(1.0 / mean_service_s).unwrap();
    let n = 400_000;
    let mut t = 0.0;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        t += inter.sample(&mut rng);
        let d: f64 = service.sample(&mut rng);
        v.push(Task { arrival_ms: (t * 1000.0).round() as u64, duration_ms: (d * 1000.0).round() as u64 });
    }
    let cfg = "[scaler]\nmin_workers = 4\nmax_workers = 4\n[cluster]\nslo_wait_s = 1000\n";
    let (_, s) = sim(cfg, v);
    let a = lambda * mean_service_s;
    let expected_wait = erlang_c(c, a) / (f64::from(c) / mean_service_s - lambda);
    let rel = (s.wait_mean_s - expected_wait).abs() / expected_wait;
    assert!(
        rel < 0.05,
        "mean wait {} s vs Erlang C {expected_wait} s ({:.1} % off), seed 7",
        s.wait_mean_s,
        rel * 100.0
    );
    let lambda_hat = s.tasks as f64 / s.end_time_s;
    let little = lambda_hat * s.wait_mean_s;
    let rel = (s.mean_queue_length - little).abs() / little;
    assert!(rel < 0.02, "mean queue {} vs Little's law {little} ({:.2} % off)", s.mean_queue_length, rel * 100.0);
    assert_eq!(s.scale_ups + s.scale_downs, 0);
}

#[test]
fn decisions_are_those_of_replaying_the_recorded_observations() {
    // Closed loop and open loop agree: the simulator's decisions equal a replay of
    // the observations it recorded, under the same [scaler] table.
    let cfg = "[scaler]\nmin_workers = 1\nmax_workers = 12\ncooldown_period = 45\nmetrics_window = 90\nevaluation_interval = 15\n\
               [cluster]\nprovision_delay_s = 20\n";
    // Alternating quiet (one task per 10 s) and busy (two per second) phases of 300 tasks.
    let mut v = Vec::new();
    let mut x: u64 = 3;
    let mut t = 0u64;
    for i in 0..3000u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        t += if (i / 300) % 2 == 0 { 10_000 } else { 500 };
        v.push(Task { arrival_ms: t, duration_ms: 1000 + (x >> 40) % 20_000 });
    }
    let (rows, _) = sim(cfg, v);
    let sc = scenario(cfg);
    let mut s = scaler_core::Scaler::new(sc.scaler);
    let mut scaled = 0;
    for r in &rows {
        let tick = s.tick(r.time, Some(r.observation)).unwrap();
        if let Some(t) = tick.ticket {
            s.outcome(t, scaler_core::Outcome::Applied).unwrap();
            scaled += 1;
        }
        assert_eq!(tick.decision, r.decision, "at {}", r.time);
    }
    assert!(scaled > 4, "the workload should make the scaler work ({scaled} scalings)");
    assert!(rows.iter().any(|r| r.decision.action == Action::ScaleDown));
}

#[test]
fn idle_workers_are_removed_newest_first() {
    // Which idle worker goes shows in billing: lives are rounded up to 25 s each.
    let cfg = "[scaler]\nmin_workers = 2\nmax_workers = 10\nscale_up_threshold = 0.5\nscale_down_threshold = 0.25\n\
               cooldown_period = 0\nmetrics_window = 1\nevaluation_interval = 10\nutilization_aggregate = \"latest\"\n\
               scale_up_step = { percent = 0, min = 2 }\nscale_down_step = { percent = 0, min = 1 }\n\
               [cluster]\ninitial_workers = 2\nbilling_increment_s = 25\n";
    let (rows, s) = sim(cfg, tasks(&[("10", "15"), ("10", "15"), ("10", "1"), ("50", "1")]));
    // Tick 10: w0, w1 busy, one waiting: w2 and w3 are requested at 10 s and ready at once.
    assert_eq!(state(row_at(&rows, 10)), "4 4 0 0 0 3 0.75 scale_up 4 utilization_high");
    // Tick 30 removes the newest idle worker (w3, requested at 10 s); tick 40 the next (w2).
    assert_eq!(state(row_at(&rows, 30)), "3 3 0 0 0 0 0 scale_down 3 utilization_low");
    assert_eq!(state(row_at(&rows, 40)), "2 2 0 0 0 0 0 scale_down 2 utilization_low");
    // Lives: w3 20 s, w2 30 s, w0 and w1 51 s: billed 25 + 50 + 75 + 75. (Oldest first would bill 200.)
    assert_eq!(s.worker_seconds, 20.0 + 30.0 + 51.0 + 51.0);
    assert_eq!(s.billed_worker_seconds, 225.0);
}

/// A small deterministic generator for random scenarios.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

#[test]
fn conservation_and_bounds_on_random_scenarios() {
    // The engine itself checks that every task arrives and completes once and that worker
    // lives equal the integral of live workers (an error otherwise); here: many random
    // scenarios must pass those checks and stay within bounds.
    for seed in 0..150u64 {
        let mut r = Lcg(seed);
        let min = r.next(3);
        let max = min + 1 + r.next(8);
        let cfg = format!(
            "[scaler]\nmin_workers = {min}\nmax_workers = {max}\nscale_up_threshold = 0.{}\nscale_down_threshold = 0.{}\n\
             cooldown_period = {}\nmetrics_window = {}\nevaluation_interval = {}\nutilization_aggregate = \"{}\"\n\
             [cluster]\ninitial_workers = {}\nslots_per_worker = {}\nprovision_delay_s = {}\nbilling_increment_s = {}\nbilling_minimum_s = {}\n",
            6 + r.next(4),
            r.next(5),
            r.next(4) * 15,
            1 + r.next(120),
            1 + r.next(30),
            ["mean", "max", "min", "latest"][r.next(4) as usize],
            r.next(max + 3),
            1 + r.next(3),
            r.next(3) * 10,
            1 + r.next(60),
            r.next(120),
        );
        let mut v = Vec::new();
        let mut t = 0;
        for _ in 0..r.next(400) {
            t += r.next(4) * 1000 + r.next(2) * r.next(1000);
            v.push(Task { arrival_ms: t, duration_ms: if r.next(10) == 0 { 0 } else { r.next(40_000) } });
        }
        let n = v.len() as u64;
        let (rows, s) = sim(&cfg, v);
        assert_eq!(s.tasks, n, "seed {seed}: {cfg}");
        assert!(s.max_workers as u64 <= max, "seed {seed}: max_workers {} > {max}", s.max_workers);
        for row in &rows {
            assert!(u64::from(row.current_workers) <= max, "seed {seed} at {}: {}", row.time, row.current_workers);
            assert_eq!(row.current_workers, row.ready + row.provisioning, "seed {seed}");
        }
        assert!(s.billed_worker_seconds >= s.worker_seconds, "seed {seed}");
        assert!(
            s.wait_p50_s <= s.wait_p95_s && s.wait_p95_s <= s.wait_p99_s && s.wait_p99_s <= s.wait_max_s,
            "seed {seed}"
        );
        let costs: Vec<f64> = rows.iter().map(|r| r.cost).collect();
        assert!(costs.windows(2).all(|w| w[0] <= w[1]), "seed {seed}: the cost column never decreases");
        assert!(rows.first().is_some_and(|r| r.time.as_ms() == 0), "seed {seed}: tick 0 always happens");
        assert!(
            rows.last().unwrap().time.as_ms() as f64 <= s.end_time_s * 1000.0 + 0.5,
            "seed {seed}: no tick after end_time"
        );
    }
}

#[test]
fn provisioning_workers_are_cancelled_newest_first() {
    // w4 is requested at tick 0 (rule 2), w5 at tick 10; tick 30 cancels one of them. Newest
    // first cancels w5, so w4 becomes ready at 100 s (oldest first would leave w5, ready at 110 s).
    let cfg = "[scaler]\nmin_workers = 5\nmax_workers = 10\nscale_up_threshold = 0.5\nscale_down_threshold = 0.25\n\
               cooldown_period = 0\nmetrics_window = 1\nevaluation_interval = 10\nutilization_aggregate = \"latest\"\n\
               scale_up_step = { percent = 0, min = 1 }\nscale_down_step = { percent = 0, min = 1 }\n\
               [cluster]\ninitial_workers = 4\nprovision_delay_s = 100\n";
    let mut t: Vec<(&str, &str)> = std::iter::repeat_n(("0", "12"), 6).collect();
    t.push(("120", "1"));
    let (rows, _) = sim(cfg, tasks(&t));
    assert_eq!(state(row_at(&rows, 0)), "5 4 1 0 2 4 1 scale_up 5 below_min_workers");
    assert_eq!(state(row_at(&rows, 10)), "6 4 2 0 2 4 1 scale_up 6 utilization_high");
    assert_eq!(state(row_at(&rows, 30)), "5 4 1 0 0 0 0 scale_down 5 utilization_low");
    assert_eq!(state(row_at(&rows, 100)), "5 5 0 0 0 0 0 hold 5 at_min_workers");
}

fn sim_faults(
    toml_text: &str,
    tasks: Vec<Task>,
    faults: scaler_model::Faults,
    seed: u64,
) -> Result<(Vec<TickRow>, Summary), String> {
    let sc = scenario(toml_text);
    let mut rows = Vec::new();
    let mut params = sc.params(seed);
    params.faults = faults;
    let s = simulate(params, &mut VecSource::new(tasks), |r| {
        rows.push(*r);
        Ok::<(), ModelError>(())
    })
    .map_err(|e| e.to_string())?;
    Ok((rows, s))
}

fn busy_trace(n: u64) -> Vec<Task> {
    let mut x: u64 = 5;
    (0..n)
        .map(|i| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            Task { arrival_ms: i * 700, duration_ms: 1000 + (x >> 40) % 30_000 }
        })
        .collect()
}

const FAULTY: &str = "[scaler]\nmin_workers = 2\nmax_workers = 30\ncooldown_period = 60\nmetrics_window = 60\nevaluation_interval = 15\n[cluster]\nprovision_delay_s = 30\n";

#[test]
fn crashed_workers_tasks_run_again_and_complete_exactly_once() {
    let f = scaler_model::Faults { crash_rate_per_hour: 6.0, ..Default::default() };
    let (_, s) = sim_faults(FAULTY, busy_trace(3000), f, 3).unwrap();
    // The engine checks arrivals == completions and lives == integral of live workers.
    assert_eq!(s.tasks, 3000);
    assert!(s.faults.crashes > 5, "{} crashes", s.faults.crashes);
    assert!(
        s.faults.retries > 0 && s.faults.retries <= s.faults.crashes,
        "one-slot workers lose at most one task per crash: {} retries, {} crashes",
        s.faults.retries,
        s.faults.crashes
    );
    let (_, clean) = sim_faults(FAULTY, busy_trace(3000), Default::default(), 3).unwrap();
    assert_eq!((clean.faults.crashes, clean.faults.retries), (0, 0));
    assert!(s.worker_seconds != clean.worker_seconds, "crashes change the pool");
}

#[test]
fn provisioning_failures_jitter_and_failed_calls_are_survived_and_counted() {
    let f = scaler_model::Faults {
        provision_failure: 0.5,
        provision_jitter: 1.0,
        scaling_failure: 0.3,
        ..Default::default()
    };
    let (rows, s) = sim_faults(FAULTY, busy_trace(2000), f, 9).unwrap();
    assert_eq!(s.tasks, 2000);
    assert!(s.faults.provision_failures > 0 && s.faults.scaling_failures > 0, "{s:?}");
    assert!(rows.iter().all(|r| r.current_workers <= 30));
    // A failed scaling call starts no cooldown: right after it, the scaler may act again.
    let mut retried = false;
    for w in rows.windows(2) {
        if w[0].decision.is_scaling()
            && w[0].current_workers == w[0].decision.current_workers
            && w[1].decision.is_scaling()
        {
            retried = true;
        }
    }
    assert!(retried, "a failed scaling was retried at the next tick");
}

#[test]
fn missing_and_stale_observations_leave_the_window_short_or_old() {
    let f = scaler_model::Faults { missing_observation: 0.3, stale_metrics: 0.3, ..Default::default() };
    let (rows, s) = sim_faults(FAULTY, busy_trace(1500), f, 4).unwrap();
    assert!(s.faults.missing_observations > 0 && s.faults.stale_observations > 0);
    let unobserved = rows.iter().filter(|r| !r.observed).count() as u64;
    assert_eq!(unobserved, s.faults.missing_observations);
    // Each fault has its own random stream: adding another fault leaves these draws alone.
    let f2 = scaler_model::Faults {
        missing_observation: 0.3,
        stale_metrics: 0.3,
        crash_rate_per_hour: 2.0,
        ..Default::default()
    };
    let (rows2, _) = sim_faults(FAULTY, busy_trace(1500), f2, 4).unwrap();
    let first = |rs: &[TickRow]| rs.iter().take(40).map(|r| r.observed).collect::<Vec<_>>();
    assert_eq!(first(&rows), first(&rows2));
}

#[test]
fn swarm_runs_hold_their_invariants() {
    for seed in 0..40u64 {
        let f = scaler_model::Faults::swarm(seed);
        let r = sim_faults(FAULTY, busy_trace(800), f.clone(), seed);
        assert!(r.is_ok(), "seed {seed} with {f:?}: {}", r.unwrap_err());
    }
}
