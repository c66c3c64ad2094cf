//! The `scaler-sim` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scaler_sim::gen;
use scaler_sim::replay::{replay, ReplayReport};
use scaler_sim::scenario::{self, read_scaler_config, Overrides};
use scaler_sim::SimError;

/// Replay and simulate auto-scaling decisions on recorded or synthetic workloads.
#[derive(Parser)]
#[command(name = "scaler-sim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What would the scaler have decided on these recorded metrics?
    ///
    /// Feeds every row of an observations CSV through the engine (open loop: the
    /// decisions do not change the metrics), deciding at each row's timestamp, and
    /// writes one decision per row. Every scaling is assumed to succeed, so the
    /// cooldown starts at the decision. Exit status 2 on invalid input, with
    /// nothing written.
    Replay {
        /// Scenario or configuration TOML file; its `[scaler]` table is used
        /// (defaults for absent keys; unknown keys are refused).
        #[arg(long, value_name = "CFG.toml")]
        config: PathBuf,
        /// Observations CSV: timestamp_s,current_workers,pending_tasks,running_tasks,
        /// avg_task_duration_s,worker_utilization (any column order, extra columns ignored).
        #[arg(long, value_name = "OBS.csv")]
        observations: PathBuf,
        /// Write the decisions CSV here (atomically: a complete file or none).
        /// Without it, decisions go to standard output, after the whole input has been validated.
        #[arg(long, value_name = "DECISIONS.csv")]
        out: Option<PathBuf>,
        /// Skip invalid rows (bad values, wrong field count, out-of-order timestamps)
        /// instead of stopping; their count is reported on standard error.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Simulate a worker pool under a scenario's workload and scaler, closed loop.
    ///
    /// Replays the scenario's trace on a virtual clock: workers provision, become ready,
    /// take tasks from a FIFO queue and drain; the scaler decides at every tick. Writes
    /// timeline.csv, observations.csv and summary.json into the output folder (all or
    /// nothing) and prints a summary. The first line printed is the seed.
    Run {
        /// The scenario file (TOML: [trace], [cluster], [scaler]).
        #[arg(value_name = "SCENARIO.toml")]
        scenario: PathBuf,
        /// Output folder (default: out/<scenario name>/).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Override a scenario key, validated like the file: --set scaler.cooldown_period=120
        /// (repeatable; values are TOML, a bare word is a string).
        #[arg(long = "set", value_name = "TABLE.KEY=VALUE")]
        set: Vec<String>,
        /// The seed for every random choice (overrides trace.seed).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Use this trace file instead of trace.path (relative to the working folder).
        #[arg(long, value_name = "FILE.csv")]
        trace: Option<PathBuf>,
    },
    /// Generate a synthetic workload trace (task or rate form), seeded.
    ///
    /// PATTERN components multiply the base rate (spikes add to it):
    ///   poisson:rate=R                      base rate, tasks per second (default 1)
    ///   diurnal:period=86400,ratio=4,peak=50400   daily cosine, peak-to-trough ratio
    ///   weekly:weekend=0.6,period=604800,weekend_start=432000
    ///   ramp:from=1,to=3,start=0,end=SPAN   linear multiplier
    ///   flash:at=T,height=H,decay=D         spike of H x base at T, decaying over D s
    ///   onoff:on=300,off=900,high=5,low=0.2 Markov-modulated bursts
    /// Example: scaler-sim gen poisson:rate=2 diurnal:ratio=4 flash:at=40000,height=8 --span-s 86400
    ///          --duration exponential:mean=30 -o traces/day.csv
    Gen {
        /// Rate components (see above); at least one.
        #[arg(value_name = "PATTERN", required = true)]
        patterns: Vec<String>,
        /// Length of the trace in seconds.
        #[arg(long, value_name = "SECONDS")]
        span_s: f64,
        /// "tasks" (arrival_s,duration_s) or "rates" (timestamp_s,arrivals).
        #[arg(long, default_value = "tasks", value_parser = ["tasks", "rates"])]
        form: String,
        /// Bin width in seconds (default 1 for tasks, 60 for rates).
        #[arg(long, value_name = "SECONDS")]
        bin_s: Option<f64>,
        /// Task durations: constant:value=S, exponential:mean=S, lognormal:mean=S,cv=C,
        /// pareto:mean=S,alpha=A, uniform:min=S,max=S. Required for tasks; for rates it
        /// adds a mean_duration_s column.
        #[arg(long, value_name = "DIST")]
        duration: Option<String>,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (written atomically).
        #[arg(short = 'o', long = "out", value_name = "FILE.csv")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), SimError> {
    match cli.command {
        Command::Run { scenario, out, set, seed, trace } => {
            let overrides = Overrides { set: set.clone(), trace: trace.clone(), seed };
            let sc = scenario::load(&scenario, &overrides)?;
            println!("seed: {}", sc.seed);
            let out_dir = out.unwrap_or_else(|| Path::new("out").join(&sc.name));
            let rerun = || {
                let mut cmd = format!("scaler-sim run {} --seed {}", scenario.display(), sc.seed);
                for s in &set {
                    cmd.push_str(&format!(" --set {s}"));
                }
                if let Some(t) = &trace {
                    cmd.push_str(&format!(" --trace {}", t.display()));
                }
                cmd
            };
            let result = match scaler_sim::run::run_to_dir(&sc, &out_dir) {
                Ok(r) => r,
                Err(SimError::Invariant(what)) => {
                    return Err(SimError::Invariant(format!("{what} (replay with: {})", rerun())));
                }
                Err(e) => return Err(e),
            };
            println!("scenario: {} (trace {})", sc.path.display(), sc.trace.path.display());
            print!("{}", scaler_sim::run::summary_table(&result.summary, &sc));
            let names: Vec<String> = result.files.iter().map(|p| p.display().to_string()).collect();
            println!("wrote {}", names.join(", "));
            Ok(())
        }
        Command::Gen { patterns, span_s, form, bin_s, duration, seed, out } => {
            let form = if form == "rates" { gen::Form::Rates } else { gen::Form::Tasks };
            let components = patterns.iter().map(|p| gen::parse_component(p, span_s)).collect::<Result<Vec<_>, _>>()?;
            let duration = duration.as_deref().map(gen::parse_duration).transpose()?;
            let bin_s = bin_s.unwrap_or(if form == gen::Form::Rates { 60.0 } else { 1.0 });
            let spec = gen::GenSpec { components, span_s, bin_s, form, duration, seed };
            println!("seed: {seed}");
            let report = gen::generate(&spec, &out)?;
            println!("wrote {} ({} rows, {} tasks)", out.display(), report.rows, report.tasks);
            Ok(())
        }
        Command::Replay { config, observations, out, skip_invalid } => {
            let cfg = read_scaler_config(&config)?;
            let report = match &out {
                Some(path) => {
                    scaler_sim::output::write_atomically(path, |w| replay(&cfg, &observations, w, path, skip_invalid))?
                }
                None => {
                    // Validate everything first, so that invalid input writes nothing.
                    replay(&cfg, &observations, &mut std::io::sink(), Path::new("-"), skip_invalid)?;
                    let stdout = std::io::stdout();
                    let mut lock = std::io::BufWriter::new(stdout.lock());
                    let r = replay(&cfg, &observations, &mut lock, Path::new("<stdout>"), skip_invalid)?;
                    lock.flush().map_err(|e| SimError::io(Path::new("<stdout>"), e))?;
                    r
                }
            };
            report_skips(&report);
            Ok(())
        }
    }
}

fn report_skips(r: &ReplayReport) {
    if r.skipped > 0 {
        let first = r.first_skipped.as_ref().map(|e| format!("; first: {e}")).unwrap_or_default();
        eprintln!("skipped {} invalid row(s){first}", r.skipped);
    }
}
