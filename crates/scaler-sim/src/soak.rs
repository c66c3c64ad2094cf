//! `scaler-sim soak SCENARIO --runs N`: many seeds with faults on (swarm mode: each run
//! draws its own fault rates from its seed), checking the simulator's invariants after
//! every run (task conservation, bounds, monotone cost, worker lives against the
//! integral of live workers). A broken run is reported with the command that replays it.

use std::path::Path;

use rayon::prelude::*;

use scaler_formats::error::SimError;
use scaler_formats::scenario::Scenario;
use scaler_model::{simulate, Faults};

/// What a soak found.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// Runs made.
    pub runs: u64,
    /// Runs whose invariants held.
    pub held: u64,
    /// Simulated hours of the runs that held.
    pub simulated_hours: f64,
    /// Tasks completed in them.
    pub tasks: u64,
    /// Fault totals: crashes, retries, provisioning failures, missing and stale observations, failed scalings.
    pub crashes: u64,
    /// Task runs lost to crashes and run again.
    pub retries: u64,
    /// Workers that never became ready.
    pub provision_failures: u64,
    /// Observations dropped.
    pub missing_observations: u64,
    /// Observations with stale values.
    pub stale_observations: u64,
    /// Scaling calls that failed.
    pub scaling_failures: u64,
    /// `(seed, error)` of the runs that broke an invariant.
    pub failures: Vec<(u64, String)>,
}

/// The failures a report keeps (those of the lowest seeds); the rest are counted.
pub const KEPT_FAILURES: usize = 100;

/// What some of the runs found; partials combine in any order to the same report.
#[derive(Default)]
struct Partial {
    held: u64,
    /// Simulated time of the runs that held, in ms (an integer, so the sum is exact in any order).
    simulated_ms: u128,
    tasks: u64,
    faults: [u64; 6],
    failures: Vec<(u64, String)>,
}

impl Partial {
    fn merge(mut self, other: Partial) -> Partial {
        self.held += other.held;
        self.simulated_ms += other.simulated_ms;
        self.tasks += other.tasks;
        for (a, b) in self.faults.iter_mut().zip(other.faults) {
            *a += b;
        }
        self.failures.extend(other.failures);
        self.failures.sort_by_key(|(s, _)| *s);
        self.failures.truncate(KEPT_FAILURES);
        self
    }
}

/// Runs `runs` seeds from `first_seed` with swarm faults, in parallel. Memory does not grow
/// with `runs`: results are folded as they come (the report keeps the first
/// [`KEPT_FAILURES`] failures by seed and counts the rest), and the report is the same
/// whatever the thread count or completion order.
///
/// `progress()` is called after each run, from the thread that ran it.
pub fn soak(
    sc: &Scenario,
    runs: u64,
    first_seed: u64,
    threads: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<SoakReport, SimError> {
    let trace = scaler_formats::trace::load(&sc.trace)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SimError::invariant(format!("thread pool: {e}")))?;
    let total = pool.install(|| {
        (0..runs)
            .into_par_iter()
            .map(|i| {
                let seed = first_seed.wrapping_add(i);
                let mut params = sc.params(seed);
                params.faults = Faults::swarm(seed);
                let mut p = Partial::default();
                match simulate(params, &mut trace.source(seed), |_| Ok::<(), SimError>(())) {
                    Ok(s) => {
                        p.held = 1;
                        // end_time_s is whole milliseconds: exact as an integer.
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let ms = (s.end_time_s * 1000.0).round().max(0.0) as u128;
                        p.simulated_ms = ms;
                        p.tasks = s.tasks;
                        let f = &s.faults;
                        p.faults = [
                            f.crashes,
                            f.retries,
                            f.provision_failures,
                            f.missing_observations,
                            f.stale_observations,
                            f.scaling_failures,
                        ];
                    }
                    Err(e) => p.failures.push((seed, e.to_string())),
                }
                progress();
                p
            })
            .fold(Partial::default, Partial::merge)
            .reduce(Partial::default, Partial::merge)
    });
    #[allow(clippy::cast_precision_loss)]
    let simulated_hours = total.simulated_ms as f64 / 3_600_000.0;
    let [crashes, retries, provision_failures, missing_observations, stale_observations, scaling_failures] =
        total.faults;
    Ok(SoakReport {
        runs,
        held: total.held,
        simulated_hours,
        tasks: total.tasks,
        crashes,
        retries,
        provision_failures,
        missing_observations,
        stale_observations,
        scaling_failures,
        failures: total.failures,
    })
}

/// The soak's report for the terminal.
#[must_use]
pub fn report_text(rep: &SoakReport, scenario: &Path) -> String {
    let mut t = format!(
        "{} runs, {} held, {:.1} simulated hours, {} tasks completed\n",
        rep.runs, rep.held, rep.simulated_hours, rep.tasks
    );
    t.push_str(&format!(
        "faults injected: {} crashes ({} task runs retried), {} provisioning failures, {} missing and {} stale observations, {} failed scaling calls\n",
        rep.crashes, rep.retries, rep.provision_failures, rep.missing_observations, rep.stale_observations, rep.scaling_failures
    ));
    for (seed, e) in &rep.failures {
        t.push_str(&format!(
            "FAILED seed {seed}: {e}\n  replay: scaler-sim run {} --seed {seed} --set faults.swarm=true\n",
            scenario.display()
        ));
    }
    let failed = rep.runs - rep.held;
    if failed > rep.failures.len() as u64 {
        t.push_str(&format!("... and {} more failed seeds\n", failed - rep.failures.len() as u64));
    }
    t
}
