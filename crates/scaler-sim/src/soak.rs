//! `scaler-sim soak SCENARIO --runs N`: many seeds with faults on (swarm mode: each run
//! draws its own fault rates from its seed), checking the simulator's invariants after
//! every run (task conservation, bounds, monotone cost, worker lives against the
//! integral of live workers). A broken run is reported with the command that replays it.

use std::path::Path;
use std::sync::mpsc;

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

/// Runs `runs` seeds from `first_seed` with swarm faults, in parallel.
pub fn soak(sc: &Scenario, runs: u64, first_seed: u64, threads: usize) -> Result<SoakReport, SimError> {
    let trace = scaler_formats::trace::load(&sc.trace)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SimError::invariant(format!("thread pool: {e}")))?;
    let (tx, rx) = mpsc::channel();
    let seeds: Vec<u64> = (0..runs).map(|i| first_seed.wrapping_add(i)).collect();
    pool.install(|| {
        seeds.par_iter().for_each_with(tx, |tx, &seed| {
            let mut params = sc.params(seed);
            params.faults = Faults::swarm(seed);
            let r = simulate(params, &mut trace.source(seed), |_| Ok::<(), SimError>(()));
            let _ = tx.send((seed, r));
        });
    });
    let mut results: Vec<(u64, Result<scaler_model::Summary, SimError>)> = rx.into_iter().collect();
    results.sort_by_key(|(s, _)| *s);
    let mut rep = SoakReport { runs, ..SoakReport::default() };
    for (seed, r) in results {
        match r {
            Ok(s) => {
                rep.held += 1;
                rep.simulated_hours += s.end_time_s / 3600.0;
                rep.tasks += s.tasks;
                rep.crashes += s.faults.crashes;
                rep.retries += s.faults.retries;
                rep.provision_failures += s.faults.provision_failures;
                rep.missing_observations += s.faults.missing_observations;
                rep.stale_observations += s.faults.stale_observations;
                rep.scaling_failures += s.faults.scaling_failures;
            }
            Err(e) => rep.failures.push((seed, e.to_string())),
        }
    }
    Ok(rep)
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
    t
}
