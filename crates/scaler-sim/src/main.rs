//! The `scaler-sim` command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scaler_sim::replay::{replay, ReplayReport};
use scaler_sim::scenario::read_scaler_config;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<(), SimError> {
    match cli.command {
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
