//! The `scaler-sim` command line.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use scaler_formats::import;
use scaler_formats::output_set::OutputDir;
use scaler_formats::replay::{replay, ReplayReport};
use scaler_formats::scenario::{self, read_scaler_config, Overrides};
use scaler_formats::tomldoc::Doc;
use scaler_formats::{InputError, SimError};
use scaler_model::trace::LoadedTrace;
use scaler_model::ModelError;
use scaler_sim::{gen, report, sweep};

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
        /// Scenario or configuration TOML file, whose `[scaler]` table is used (defaults for
        /// absent keys; unknown keys are refused), or a Kubernetes manifest (.yaml / .yml:
        /// HorizontalPodAutoscaler, KEDA ScaledObject, Knative config-autoscaler / Service).
        #[arg(long, value_name = "CFG.toml|MANIFEST.yaml")]
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
    /// timeline.csv, observations.csv, summary.json, the timeline chart and report.html into
    /// the output folder (all or nothing) and prints a summary. The first line printed is the
    /// seed.
    Run {
        /// The scenario file (TOML: [trace], [cluster], [scaler]).
        #[arg(value_name = "SCENARIO.toml")]
        scenario: PathBuf,
        /// Output folder (default: out/<scenario name>/).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        options: ScenarioOptions,
        /// Print the summary (summary.json's object, with the files written) as one JSON
        /// object on standard output instead of the text report.
        #[arg(long)]
        json: bool,
    },
    /// Try many settings of a scenario and recommend one: the cost / latency trade-off.
    ///
    /// The scenario's [sweep] table lists values for scaler.* and cluster.* keys (their
    /// cartesian product is swept), optional seeds, and an objective such as
    /// "minimize cost subject to wait_p95_s <= 30". Writes results.csv, pareto.csv,
    /// recommendation.json, charts (PNG and SVG) and report.html into the output folder.
    /// Settings run in parallel; each finished one is appended to results.partial.csv.
    Sweep {
        /// The scenario file, with a [sweep] table.
        #[arg(value_name = "SCENARIO.toml")]
        scenario: PathBuf,
        /// Output folder (default: out/<scenario name>-sweep/).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Continue an interrupted sweep in the same folder without redoing finished settings.
        #[arg(long)]
        resume: bool,
        /// Run only every N-th setting, starting at I (0-based), then `merge` the shard folders.
        /// `auto` reads the index and count of a Slurm array task (SLURM_ARRAY_TASK_ID, _MIN,
        /// _MAX, _STEP); `auto/N` the index of a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)
        /// or an AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX) with N shards. With auto, a
        /// task run again (a retry, a requeue) resumes its folder. `{shard}` in --out is
        /// replaced by the 0-based index.
        #[arg(long, value_name = "I/N|auto|auto/N")]
        shard: Option<String>,
        /// Worker threads (default: one per core; at most 256).
        #[arg(long, value_name = "N", default_value_t = 0, value_parser = threads_arg)]
        threads: usize,
        /// Print recommendation.json's object (with the files written) as one JSON object on
        /// standard output instead of the text report.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        options: ScenarioOptions,
    },
    /// Run several scaler configurations on one workload and compare them side by side.
    ///
    /// BASE gives the trace and the cluster, and its own [scaler] is the first row,
    /// "(scenario)"; each policy file holds a [scaler] table (policy = "threshold" | "hpa" |
    /// "keda" | "kpa" | "arc" | "step" | "target_tracking" | "queue" | "predictive", and its
    /// settings), alone or in a whole scenario of the same workload (its [trace], [cluster]
    /// and [faults] must read as BASE's). Writes compare.csv, each row's timeline, charts and
    /// report.html into the output folder; progress goes to standard error.
    Compare {
        /// The base scenario (trace and cluster).
        #[arg(value_name = "BASE.toml")]
        base: PathBuf,
        /// Policy files, each with a [scaler] table (or whole scenarios of BASE's workload).
        #[arg(long, value_name = "POLICY.toml", num_args = 1.., required = true)]
        policies: Vec<PathBuf>,
        /// Output folder (default: out/<base name>-compare/).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Use this trace file instead of the base's trace.path.
        #[arg(long, value_name = "FILE.csv")]
        trace: Option<PathBuf>,
        /// Print every policy's summary as one JSON object on standard output instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Run many seeds with faults on and check the simulator's invariants after each.
    ///
    /// Every run draws its own fault rates from its seed (swarm mode): provisioning
    /// failures and jitter, worker crashes, missing and stale observations, failed scaling
    /// calls. Reports the runs and simulated hours that held; a broken run is printed with
    /// the command that replays it, and the exit status is 1.
    Soak {
        /// The scenario file.
        #[arg(value_name = "SCENARIO.toml")]
        scenario: PathBuf,
        /// How many runs.
        #[arg(long, default_value_t = 100)]
        runs: u64,
        /// The first seed (runs use seed, seed + 1, ...).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Worker threads (default: one per core; at most 256).
        #[arg(long, default_value_t = 0, value_parser = threads_arg)]
        threads: usize,
        /// Use this trace file instead of trace.path.
        #[arg(long, value_name = "FILE.csv")]
        trace: Option<PathBuf>,
    },
    /// Combine the folders of a sharded sweep into the files a single sweep writes.
    Merge {
        /// The shard folders (every shard of one sweep, each once).
        #[arg(value_name = "SHARD_DIR", required = true)]
        shards: Vec<PathBuf>,
        /// Output folder.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Print recommendation.json's object as one JSON object instead of the text report.
        #[arg(long)]
        json: bool,
    },
    /// Check a policy against conformance vectors: `conformance hpa FILE.json` evaluates
    /// every Kubernetes HPA test vector in FILE, prints one line per failure and a closing
    /// line `N passed, M failed`, and exits with 1 on any failure.
    Conformance {
        /// The system whose vectors these are: `hpa`, `kpa`, `keda` or `arc`.
        #[arg(value_parser = ["hpa", "kpa", "keda", "arc"])]
        policy: String,
        /// The vectors file (JSON).
        #[arg(value_name = "FILE.json")]
        file: PathBuf,
    },
    /// Redraw the charts and report.html of a sweep or run folder from its files.
    Plot {
        /// A folder written by `sweep`, `merge` or `run`.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Show only this part of the time charts, in hours: --window-h 48,72 (the axis and
        /// the cost totals are the window's; a window outside the data is refused).
        #[arg(long, value_name = "FROM,TO", allow_hyphen_values = true)]
        window_h: Option<String>,
    },
    /// Compare two run folders figure by figure: every metric of their summary.json, both
    /// values and the change from A to B in percent ("new" for a change from 0).
    Diff {
        /// A folder `run` wrote (the reference).
        #[arg(value_name = "RUN_A")]
        a: PathBuf,
        /// Another folder `run` wrote.
        #[arg(value_name = "RUN_B")]
        b: PathBuf,
        /// Print the comparison as one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Turn another system's export into a trace, observations or a [scaler] table.
    ///
    /// FORMAT is one of prometheus, cloudwatch, github-jobs, sacct, csv (time series and
    /// job histories), hpa, keda, kpa (Kubernetes manifests as written). Times are rebased
    /// so that the first sample is at 0; the absolute origin, the counts read and left out
    /// and the output's SHA-256 go to OUTPUT.meta.json beside the output. Prints what it
    /// read and what it left out; bad input is refused with file, line or JSON path, and
    /// the rule, and nothing is written.
    Import {
        /// The input's format.
        #[arg(value_parser = import_formats())]
        format: String,
        /// The input file(s): several pages of one export, or one response per series.
        #[arg(value_name = "INPUT", required = true)]
        inputs: Vec<PathBuf>,
        /// The output file (written atomically; `-` for standard output).
        #[arg(short = 'o', long = "out", value_name = "OUTPUT")]
        out: PathBuf,
        /// What to write: rates, tasks or observations (each format has its default).
        #[arg(long = "as", value_name = "SHAPE", value_parser = ["rates", "tasks", "observations"])]
        shape: Option<String>,
        /// The values already are counts per step (PromQL increase(), a CloudWatch Sum), not
        /// per-second rates.
        #[arg(long)]
        counts: bool,
        /// Keep only the series with this label (repeatable): --select job=api.
        #[arg(long, value_name = "LABEL=VALUE")]
        select: Vec<String>,
        /// Map an output column (repeatable): for observations from prometheus or cloudwatch,
        /// NAME=FILE (one response per column); for csv, NAME=CSV_COLUMN.
        #[arg(long, value_name = "NAME=VALUE")]
        column: Vec<String>,
        /// Accept CloudWatch results whose StatusCode is PartialData.
        #[arg(long)]
        accept_partial: bool,
        /// Keep the GitHub jobs whose runner labels include all of these: --labels self-hosted,linux.
        #[arg(long, value_name = "A,B", value_delimiter = ',')]
        labels: Vec<String>,
        /// csv: the time column.
        #[arg(long, value_name = "NAME")]
        time_column: Option<String>,
        /// csv: how times are written.
        #[arg(long, value_name = "FORMAT", value_parser = ["epoch", "epoch-ms", "iso8601"])]
        time_format: Option<String>,
        /// The zone of ISO 8601 times written without an offset (default UTC): Europe/Paris, +02:00.
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
        /// csv: the value column (--as rates).
        #[arg(long, value_name = "NAME")]
        value_column: Option<String>,
        /// The bin width in seconds, where the input does not fix it.
        #[arg(long, value_name = "SECONDS")]
        step_s: Option<String>,
        /// Print the report as one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write a scenario's (or configuration's) [scaler] table in the format its system reads.
    ///
    /// FORMAT: hpa (autoscaling/v2 HorizontalPodAutoscaler YAML, from policy hpa), aws-step
    /// (PutScalingPolicy JSON, from step), keda (ScaledObject YAML, from keda), kpa
    /// (Knative annotations, from kpa), aws-target-tracking (PutScalingPolicy JSON, from
    /// target_tracking), arc (gha-runner-scale-set Helm values, from arc), python (the seed's
    /// AutoScaler keyword arguments, from threshold), toml (the [scaler] table, complete, from
    /// any policy).
    Export {
        /// The format to write.
        #[arg(value_parser = ["hpa", "aws-step", "aws-target-tracking", "keda", "kpa", "arc", "python", "toml"])]
        format: String,
        /// The scenario or configuration file.
        #[arg(value_name = "SCENARIO")]
        scenario: PathBuf,
        /// The output file (written atomically; default: standard output).
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
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
        /// Output file (written atomically; `-` for standard output).
        #[arg(short = 'o', long = "out", value_name = "FILE.csv")]
        out: PathBuf,
        /// At most this many bins (span / bin), checked before anything is written.
        #[arg(long, value_name = "N", default_value_t = gen::DEFAULT_MAX_BINS)]
        max_bins: u64,
        /// At most this many tasks (the rate's integral over the span), checked before anything is written.
        #[arg(long, value_name = "N", default_value_t = gen::DEFAULT_MAX_TASKS)]
        max_tasks: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Conformance { policy, file } = &cli.command {
        return match scaler_sim::conformance::run_file(policy, file) {
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Ok(outcomes) => {
                let mut failed = 0;
                for o in &outcomes {
                    if let Some(f) = &o.failure {
                        failed += 1;
                        println!("FAIL {} ({}, {}): {f}", o.id, o.kind, o.confidence);
                    }
                }
                println!("{} passed, {failed} failed", outcomes.len() - failed);
                if failed > 0 {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                }
            }
        };
    }
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::INVALID)
        }
    }
}

/// Exit statuses, documented in docs/formats.md ("Exit statuses").
mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// The command ran and found a failure it was asked to look for: a conformance vector
    /// failed, a soak run broke an invariant.
    pub const CHECK_FAILED: u8 = 1;
    /// Bad input or usage (also clap's status), or a file that could not be read or written;
    /// nothing was written.
    pub const INVALID: u8 = 2;
    /// `sweep` or `merge` finished and wrote its files, but no setting meets every
    /// constraint of the objective (the closest one is recommended).
    pub const INFEASIBLE: u8 = 3;
}

/// Prints `value` as one line of JSON on standard output.
fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string(value).expect("JSON values serialize"));
}

fn dispatch(cli: Cli) -> Result<u8, SimError> {
    match cli.command {
        Command::Run { scenario, out, options: ScenarioOptions { set, seed, trace }, json } => {
            let overrides = Overrides { set: set.clone(), trace: trace.clone(), seed };
            let sc = scenario::load(&scenario, &overrides)?;
            if !json {
                println!("seed: {}", sc.seed);
            }
            let out_dir = out.unwrap_or_else(|| Path::new("out").join(&sc.name));
            scaler_formats::output::refuse_outputs_over_inputs(
                &out_dir,
                scaler_sim::run::RUN_OUTPUTS,
                &[scenario.as_path(), sc.trace.path.as_path()],
            )?;
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
            let dir = open_out(&out_dir)?;
            let result = match scaler_sim::run::run_to_dir(&sc, &dir) {
                Ok(r) => r,
                Err(SimError::Model(ModelError::Invariant(what))) => {
                    return Err(SimError::invariant(format!("{what} (replay with: {})", rerun())));
                }
                Err(SimError::Model(ModelError::Stuck(what))) => {
                    return Err(SimError::Model(ModelError::Stuck(format!("{what} (replay with: {})", rerun()))));
                }
                Err(e) => return Err(e),
            };
            let names: Vec<String> = result.files.iter().map(|p| p.display().to_string()).collect();
            if json {
                let mut v: serde_json::Value =
                    serde_json::from_str(&result.summary_json).expect("summary_json writes JSON");
                v["files"] = serde_json::Value::from(names);
                print_json(&v);
                return Ok(exit::OK);
            }
            println!("scenario: {} (trace {})", sc.path.display(), sc.trace.path.display());
            print!("{}", scaler_sim::run::summary_table(&result.summary, &sc));
            println!("wrote {}", names.join(", "));
            Ok(exit::OK)
        }
        Command::Sweep {
            scenario,
            out,
            resume,
            shard,
            threads,
            json,
            options: ScenarioOptions { set, seed, trace },
        } => {
            let mut doc = Doc::read(&scenario)?;
            // The trace made absolute, so that `merge` (which may run elsewhere) reads the
            // same file and the scenario's fingerprint names it alike.
            let trace = trace.map(|t| std::path::absolute(&t).unwrap_or(t));
            let recorded = sweep::SweepOverrides { set: set.clone(), seed, trace: trace.clone() };
            let overrides = Overrides { set, trace, seed };
            scaler_sim::run::apply_sweep_overrides(&mut doc, &overrides)?;
            let base = scenario::from_doc(&doc, &Overrides { set: Vec::new(), ..overrides })?;
            let spec = sweep::parse_spec(&doc, &base)?;
            let resolved = match &shard {
                Some(text) => Some(
                    sweep::resolve_shard(text, &|v| std::env::var(v).ok())
                        .map_err(|m| InputError::file(Path::new(&format!("--shard {text}")), m))?,
                ),
                None => None,
            };
            let out = match out {
                Some(o) => {
                    let text = o.to_string_lossy();
                    PathBuf::from(
                        sweep::shard::expand_out(&text, resolved.as_ref()).map_err(|m| InputError::file(&o, m))?,
                    )
                }
                None => Path::new("out").join(format!("{}-sweep", base.name)),
            };
            // An engine may run a task again (a retry, a requeue, a replaced pod): with
            // `auto` the shard's own folder is resumed, never started again.
            let resume = resume || resolved.as_ref().is_some_and(sweep::Shard::is_auto);
            let resolved = resolved.unwrap_or_else(sweep::Shard::whole);
            let shard = (resolved.index, resolved.count);
            // Refused before anything is printed or written.
            if spec.search != sweep::Search::Grid && shard.1 > 1 {
                return Err(InputError::file(
                    Path::new(&format!("--shard {}/{}", shard.0, shard.1)),
                    "the adaptive search (sweep.search = \"adaptive\") cannot be sharded: each rung picks from the last one's results; run it on one machine, or shard the grid",
                )
                .into());
            }
            scaler_formats::output::refuse_outputs_over_inputs(
                &out,
                &sweep_outputs(),
                &[scenario.as_path(), base.trace.path.as_path()],
            )?;
            // With --json, standard output carries only the JSON object.
            let say = |m: String| if json { eprintln!("{m}") } else { println!("{m}") };
            say(format!("seeds: {:?}", spec.seeds));
            if let Some(from) = &resolved.from {
                say(format!("shard {}/{} from the {from}", shard.0, shard.1));
            }
            say(format!(
                "sweeping {} x {} seed(s) of {} into {}",
                match spec.search {
                    sweep::Search::Grid => format!("{} settings", spec.settings()),
                    sweep::Search::Adaptive { candidates, .. } => format!(
                        "adaptively {} settings",
                        candidates.map_or_else(
                            || if spec.axes.iter().any(|a| a.range.is_some()) {
                                "100 drawn".into()
                            } else {
                                format!("the {}", spec.settings())
                            },
                            |n| format!("{n} drawn")
                        )
                    ),
                },
                spec.seeds.len(),
                scenario.display(),
                out.display()
            ));
            let req = sweep::SweepRequest {
                scenario: scenario.clone(),
                out: out.clone(),
                resume,
                shard,
                threads,
                progress: true,
                overrides: recorded,
            };
            if spec.search != sweep::Search::Grid && resume {
                eprintln!("notice: the adaptive search does not resume: it runs again from the start");
            }
            // Held until the sweep ends: no other command writes this folder meanwhile.
            let dir = open_out(&out)?;
            let (trace, now) = sweep::load_trace(&doc, &spec, &base)?;
            if spec.search != sweep::Search::Grid {
                let run =
                    with_progress(req.progress, "runs", |p| sweep::run_adaptive(&req, &doc, &spec, &trace, &now, p))?;
                return finish_sweep(&dir, &doc, &run.spec, &base, &trace, (run.results, Some(run.report)), json);
            }
            let run = with_progress(req.progress, "settings", |p| {
                sweep::run_shard_report(&req, &doc, &spec, &trace, &now, p)
            })?;
            for n in &run.notices {
                eprintln!("notice: {n}");
            }
            let results = run.results;
            if shard.1 > 1 {
                if json {
                    print_json(&serde_json::json!({
                        "shard": shard.0, "shards": shard.1, "settings_done": results.len(),
                        "out": out.display().to_string(),
                    }));
                    return Ok(exit::OK);
                }
                println!("shard {}/{}: {} settings done in {}", shard.0, shard.1, results.len(), out.display());
                println!("when every shard is done: scaler-sim merge SHARD_DIR... --out DIR");
                return Ok(exit::OK);
            }
            finish_sweep(&dir, &doc, &spec, &base, &trace, (results, None), json)
        }
        Command::Merge { shards, out, json } => {
            let (manifest, partials) = sweep::gather_shards(&shards)?;
            let mut doc = Doc::read(&manifest.scenario)?;
            // The shards' own --set, --seed and --trace, as their sweep.json recorded them.
            let overrides = manifest.overrides.to_overrides();
            scaler_sim::run::apply_sweep_overrides(&mut doc, &overrides)?;
            let base = scenario::from_doc(&doc, &Overrides { set: Vec::new(), ..overrides })?;
            let spec = sweep::parse_spec(&doc, &base)?;
            if spec.search != sweep::Search::Grid {
                return Err(InputError::file(
                    &manifest.scenario,
                    "sweep.search = \"adaptive\": an adaptive search runs on one machine and is never sharded, so there is nothing to merge",
                )
                .into());
            }
            let (trace, now) = sweep::load_trace(&doc, &spec, &base)?;
            sweep::check_manifest_settings(&shards, &manifest, &spec, &now)?;
            let mut all = std::collections::BTreeMap::new();
            for p in &partials {
                for r in sweep::read_results(p, &spec)? {
                    all.insert(r.index, r);
                }
            }
            if let Some(missing) = (0..spec.settings()).find(|i| !all.contains_key(i)) {
                return Err(InputError::file(
                    Path::new("merge"),
                    format!(
                        "setting {missing} is in no shard's results (is a shard unfinished? rerun it with --resume)"
                    ),
                )
                .into());
            }
            let dir = open_out(&out)?;
            if !json {
                println!("seeds: {:?}", spec.seeds);
            }
            finish_sweep(&dir, &doc, &spec, &base, &trace, (all.into_values().collect(), None), json)
        }
        Command::Conformance { .. } => unreachable!("handled in main"),
        Command::Soak { scenario, runs, seed, threads, trace } => {
            let sc = scenario::load(&scenario, &Overrides { trace, ..Overrides::default() })?;
            println!("seeds: {seed}..{}", seed.wrapping_add(runs));
            let total = usize::try_from(runs).unwrap_or(usize::MAX);
            let bar = std::sync::Mutex::new(Progress::new(true, total, 0, "runs"));
            let rep = scaler_sim::soak::soak(&sc, runs, seed, threads, &|| {
                if let Ok(mut b) = bar.lock() {
                    b.tick();
                }
            });
            if let Ok(b) = bar.lock() {
                b.finish();
            }
            let rep = rep?;
            print!("{}", scaler_sim::soak::report_text(&rep, &scenario));
            if !rep.failures.is_empty() {
                eprintln!("error: {} of {} runs broke an invariant (see above)", rep.failures.len(), rep.runs);
                return Ok(exit::CHECK_FAILED);
            }
            Ok(exit::OK)
        }
        Command::Compare { base, policies, out, trace, json } => {
            let overrides = Overrides { trace, ..Overrides::default() };
            let stem = base.file_stem().map_or_else(|| "compare".into(), |s| s.to_string_lossy().into_owned());
            let out = out.unwrap_or_else(|| Path::new("out").join(format!("{stem}-compare")));
            let mut inputs: Vec<&Path> = vec![base.as_path()];
            inputs.extend(policies.iter().map(PathBuf::as_path));
            scaler_formats::output::refuse_outputs_over_inputs(&out, scaler_sim::compare::COMPARE_OUTPUTS, &inputs)?;
            let dir = open_out(&out)?;
            let entries = with_progress(true, "policies", |p| {
                scaler_sim::compare::compare(&base, &policies, &overrides, &dir, p)
            })?;
            if json {
                let list: Vec<serde_json::Value> = entries
                    .iter()
                    .map(|e| {
                        let mut v = serde_json::to_value(&e.summary).expect("plain struct");
                        v["policy"] = serde_json::Value::from(e.name.clone());
                        v
                    })
                    .collect();
                print_json(&serde_json::json!({ "out": out.display().to_string(), "policies": list }));
                return Ok(exit::OK);
            }
            print!("{}", scaler_sim::compare::table(&entries));
            println!("wrote {}", out.display());
            Ok(exit::OK)
        }
        Command::Plot { dir, window_h } => {
            let window = match window_h {
                None => None,
                Some(text) => {
                    let arg = format!("--window-h {text}");
                    let parsed = text
                        .split_once(',')
                        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
                    match parsed {
                        Some((a, b)) if a.is_finite() && b.is_finite() && a < b => Some((a, b)),
                        _ => {
                            return Err(InputError::file(
                                Path::new(&arg),
                                "expected FROM,TO in hours with FROM < TO, e.g. 48,72",
                            )
                            .into())
                        }
                    }
                }
            };
            if !dir.is_dir() {
                return Err(InputError::file(&dir, "is not a folder a run or a sweep wrote").into());
            }
            let out = open_out(&dir)?;
            let files = if dir.join("results.csv").exists() {
                let manifest = std::fs::read_to_string(dir.join("sweep.json"))
                    .ok()
                    .and_then(|t| serde_json::from_str::<sweep::Manifest>(&t).ok());
                let overrides = manifest.as_ref().map(|m| m.overrides.to_overrides()).unwrap_or_default();
                // Read with the scenario reader's size cap (a manifest may name /dev/zero),
                // with the sweep's own --set, --seed and --trace applied again.
                let doc = manifest
                    .and_then(|m| Doc::read(&m.scenario).ok())
                    .and_then(|mut d| scaler_sim::run::apply_sweep_overrides(&mut d, &overrides).ok().map(|()| d));
                let origin = doc
                    .as_ref()
                    .and_then(|d| scenario::from_doc(d, &Overrides { set: Vec::new(), ..overrides.clone() }).ok())
                    .and_then(|sc| scaler_formats::origin::trace_origin(&sc.trace.path).unix_ms());
                let mut set = out.stage(report::SWEEP_CHARTS)?;
                report::plot_sweep(&dir, &mut set, doc.as_ref().map(|d| d.text.as_str()), window, origin)?;
                set.commit()?
            } else if dir.join("timeline.csv").exists() {
                let mut set = out.stage(report::RUN_CHARTS)?;
                // The origin summary.json recorded, if any.
                // A small regular file only (a pipe or a device there is not read).
                let summary_path = dir.join("summary.json");
                let summary_json = std::fs::metadata(&summary_path)
                    .is_ok_and(|m| m.is_file() && m.len() <= 1 << 20)
                    .then(|| std::fs::read_to_string(&summary_path).ok())
                    .flatten();
                let summary = summary_json.as_deref().and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
                let info = report::RunInfo {
                    origin_unix_ms: summary.as_ref().and_then(|v| v["origin_unix_ms"].as_i64()),
                    slots_per_worker: report::slots_from_observations(&dir.join("observations.csv")),
                    summary_json,
                };
                // The title `run` gave it.
                let title = summary
                    .as_ref()
                    .and_then(|v| v["scenario"].as_str())
                    .map_or_else(|| "demand and workers".to_string(), |n| format!("{n}: demand and workers"));
                report::plot_run(&dir.join("timeline.csv"), &mut set, &title, window, &info)?;
                set.commit()?
            } else {
                return Err(InputError::file(&dir, "has neither results.csv (a sweep) nor timeline.csv (a run)").into());
            };
            let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
            println!("wrote {}", names.join(", "));
            Ok(exit::OK)
        }
        Command::Diff { a, b, json } => {
            let (ra, rb) = (scaler_sim::diff::read_run(&a)?, scaler_sim::diff::read_run(&b)?);
            if json {
                // A closed pipe is an error (exit 2), not a panic.
                let text = serde_json::to_string(&scaler_sim::diff::json(&ra, &rb)).expect("JSON values serialize");
                emit(&(text + "\n"), true)?;
            } else {
                emit(&scaler_sim::diff::text(&ra, &rb), true)?;
            }
            Ok(exit::OK)
        }
        Command::Gen { patterns, span_s, form, bin_s, duration, seed, out, max_bins, max_tasks } => {
            let form = if form == "rates" { gen::Form::Rates } else { gen::Form::Tasks };
            let components = patterns.iter().map(|p| gen::parse_component(p, span_s)).collect::<Result<Vec<_>, _>>()?;
            let duration = duration.as_deref().map(gen::parse_duration).transpose()?;
            let bin_s = bin_s.unwrap_or(if form == gen::Form::Rates { 60.0 } else { 1.0 });
            let spec = gen::GenSpec { components, span_s, bin_s, form, duration, seed, max_bins, max_tasks };
            // When the trace goes to standard output (`-o -`, `/dev/stdout`), messages go to stderr.
            let to_file =
                matches!(scaler_formats::output::resolve_output(&out)?, scaler_formats::output::Target::File(_));
            let say = |m: String| if to_file { println!("{m}") } else { eprintln!("{m}") };
            say(format!("seed: {seed}"));
            let report = gen::generate(&spec, &out)?;
            say(format!("wrote {} ({} rows, {} tasks)", out.display(), report.rows, report.tasks));
            Ok(exit::OK)
        }
        Command::Import {
            format,
            inputs,
            out,
            shape,
            counts,
            select,
            column,
            accept_partial,
            labels,
            time_column,
            time_format,
            time_zone,
            value_column,
            step_s,
            json,
        } => {
            let format = import::Format::parse(&format).expect("clap checked the format");
            if labels.iter().any(|l| l.trim().is_empty()) {
                let arg = format!("--labels {}", labels.join(","));
                return Err(InputError::file(Path::new(&arg), "a label is empty: --labels self-hosted,linux").into());
            }
            let opts = import::ImportOptions {
                shape: shape.as_deref().and_then(import::Shape::parse),
                counts,
                select: pairs("--select", &select)?,
                columns: pairs("--column", &column)?,
                accept_partial,
                labels,
                time_column,
                time_format: time_format.as_deref().and_then(import::TimeFormat::parse),
                time_zone,
                value_column,
                step_s,
            };
            import_command(format, &opts, &inputs, &out, json).map(|()| exit::OK)
        }
        Command::Export { format, scenario, out } => {
            let format = scaler_formats::export::ExportFormat::parse(&format).expect("clap checked the format");
            let cfg = read_scaler_config(&scenario)?;
            // A manifest's name, namespace and scale target are kept, so the file replaces it.
            let workload = scenario::workload_of(&scenario)?;
            let text = scaler_formats::export::export_for(format, &cfg, &workload)?;
            match out {
                None => emit(&text, true).map(|()| exit::OK),
                Some(o) => {
                    scaler_formats::output::refuse_input_as_output(&o, &[scenario.as_path()])?;
                    scaler_formats::output::write_atomically(&o, |w| {
                        w.write_all(text.as_bytes()).map_err(|e| SimError::io(&o, "write", e))
                    })?;
                    emit(&format!("wrote {}\n", o.display()), true).map(|()| exit::OK)
                }
            }
        }
        Command::Replay { config, observations, out, skip_invalid } => {
            let cfg = read_scaler_config(&config)?;
            if let Some(o) = &out {
                scaler_formats::output::refuse_input_as_output(o, &[observations.as_path(), config.as_path()])?;
            }
            // `--out -` is standard output, written only once the whole input validated.
            let out = out.filter(|o| o.as_os_str() != "-");
            let report = match &out {
                Some(path) => scaler_formats::output::write_atomically(path, |w| {
                    replay(&cfg, &observations, w, path, skip_invalid)
                })?,
                None => {
                    // Validate everything first, so that invalid input writes nothing.
                    replay(&cfg, &observations, &mut std::io::sink(), Path::new("-"), skip_invalid)?;
                    let stdout = std::io::stdout();
                    let mut lock = std::io::BufWriter::new(stdout.lock());
                    let r = replay(&cfg, &observations, &mut lock, Path::new("<stdout>"), skip_invalid)?;
                    lock.flush().map_err(|e| SimError::io(Path::new("<stdout>"), "write", e))?;
                    r
                }
            };
            report_skips(&report);
            Ok(exit::OK)
        }
    }
}

fn import_formats() -> Vec<&'static str> {
    import::Format::ALL.iter().map(|(n, _)| *n).collect()
}

/// `NAME=VALUE` arguments of `flag`, split at the first `=`.
fn pairs(flag: &str, args: &[String]) -> Result<Vec<(String, String)>, SimError> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
            _ => Err(InputError::file(Path::new(&format!("{flag} {a}")), "expected NAME=VALUE").into()),
        })
        .collect()
}

/// A writer that hashes what passes through it (the output's SHA-256 goes into its meta file).
struct Hashing<'w, W: Write> {
    inner: &'w mut W,
    hash: sha2::Sha256,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn import_command(
    format: import::Format,
    opts: &import::ImportOptions,
    inputs: &[PathBuf],
    out: &Path,
    json: bool,
) -> Result<(), SimError> {
    use sha2::Digest;
    let input_refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    scaler_formats::output::refuse_input_as_output(out, &input_refs)?;
    let to_file = matches!(scaler_formats::output::resolve_output(out)?, scaler_formats::output::Target::File(_));
    if json && !to_file {
        return Err(InputError::file(out, "--json prints the report on standard output: give -o a file").into());
    }
    let meta_path = scaler_formats::origin::meta_path(out);
    if to_file {
        // The meta file is written too: it must not be an input, and must be a regular file
        // or nothing (a folder or a pipe there is refused before anything is written).
        scaler_formats::output::refuse_input_as_output(&meta_path, &input_refs)?;
        if !matches!(scaler_formats::output::resolve_output(&meta_path)?, scaler_formats::output::Target::File(_)) {
            return Err(InputError::file(&meta_path, "is not a regular file: the import's meta file goes here").into());
        }
    }
    let (report, sha) = if to_file {
        scaler_formats::output::write_atomically(out, |w| {
            let mut h = Hashing { inner: w, hash: sha2::Sha256::new() };
            let r = import::import(format, opts, inputs, &mut h, out)?;
            Ok((r, Some(format!("{:x}", h.hash.finalize()))))
        })?
    } else {
        // Standard output or a pipe: the whole output is built first, so that bad input
        // writes nothing and every input is read once (a pipe cannot be read twice).
        let mut buf = Vec::new();
        let r = import::import(format, opts, inputs, &mut buf, out)?;
        scaler_formats::output::write_atomically(out, |w| {
            w.write_all(&buf).map_err(|e| SimError::io(out, "write", e))
        })?;
        (r, None)
    };
    let meta = import_meta(format, inputs, &report, sha.as_deref());
    if sha.is_some() {
        let text = serde_json::to_string_pretty(&meta).expect("JSON values serialize") + "\n";
        scaler_formats::output::write_atomically(&meta_path, |w| {
            w.write_all(text.as_bytes()).map_err(|e| SimError::io(&meta_path, "write", e))
        })?;
    }
    if json {
        return emit(&(serde_json::to_string(&meta).expect("JSON values serialize") + "\n"), true);
    }
    let mut text = format!("read {} record(s) from {} file(s)\n", report.read, inputs.len());
    for (why, n) in &report.left_out {
        text.push_str(&format!("left out {n}: {why}\n"));
    }
    for n in &report.notices {
        text.push_str(&format!("notice: {n}\n"));
    }
    if let Some(o) = &meta["origin"].as_str() {
        text.push_str(&format!("origin (time 0): {o}\n"));
    }
    text.push_str(&format!("wrote {} ({}, {} row(s))\n", out.display(), report.wrote, report.written));
    // The report goes to standard output, unless the data did.
    emit(&text, to_file)
}

/// Writes `text` to standard output (`stdout`) or standard error; a standard output that
/// cannot be written (a closed pipe, a full disk) is an error, not a panic.
fn emit(text: &str, stdout: bool) -> Result<(), SimError> {
    if !stdout {
        eprint!("{text}");
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes()).and_then(|()| o.flush()).map_err(|e| SimError::io(Path::new("<stdout>"), "write", e))
}

/// The meta file of an import: what it read, wrote and left out, and the absolute origin.
fn import_meta(
    format: import::Format,
    inputs: &[PathBuf],
    report: &import::ImportReport,
    sha: Option<&str>,
) -> serde_json::Value {
    let origin = report.origin_unix_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_string()));
    let left_out: serde_json::Map<String, serde_json::Value> =
        report.left_out.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(*v))).collect();
    serde_json::json!({
        "format": format.as_str(),
        "inputs": inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "wrote": report.wrote,
        "read": report.read,
        "written": report.written,
        "left_out": left_out,
        "origin": origin,
        "origin_unix_ms": report.origin_unix_ms,
        "notices": report.notices,
        "sha256": sha,
    })
}

/// The most worker threads a command starts: more only cost memory and scheduling on any
/// machine this runs on (each simulation is single-threaded and CPU-bound).
const MAX_THREADS: usize = 256;

/// `--threads N`: a whole number from 0 (one per core) to [`MAX_THREADS`].
fn threads_arg(text: &str) -> Result<usize, String> {
    let n: usize = text.parse().map_err(|_| format!("{text:?} is not a whole number of threads"))?;
    if n > MAX_THREADS {
        return Err(format!("{n} threads is more than the {MAX_THREADS} allowed (0 means one per core)"));
    }
    Ok(n)
}

/// The files `sweep` writes into its output folder: the partial results and the manifest,
/// then the set it commits at the end.
fn sweep_outputs() -> Vec<&'static str> {
    let mut names = vec!["results.partial.csv", "sweep.json"];
    names.extend(sweep::SWEEP_DATA);
    names.extend(report::SWEEP_CHARTS);
    names
}

fn finish_sweep(
    dir: &OutputDir,
    doc: &Doc,
    spec: &sweep::SweepSpec,
    base: &scenario::Scenario,
    trace: &LoadedTrace,
    // The settings that ran, and the adaptive search's report (`None`: the grid).
    (results, search): (Vec<sweep::SettingResult>, Option<sweep::SearchReport>),
    json: bool,
) -> Result<u8, SimError> {
    let names: Vec<&str> = sweep::SWEEP_DATA.iter().chain(report::SWEEP_CHARTS).copied().collect();
    let mut set = dir.stage(&names)?;
    let outcome = sweep::finalize_search(&mut set, doc, spec, base, trace, results, search)?;
    let staged = set.staging().to_path_buf();
    let origin = scaler_formats::origin::trace_origin(&base.trace.path).unix_ms();
    report::plot_sweep(&staged, &mut set, Some(&doc.text), None, origin)?;
    let files: Vec<String> = set.commit()?.iter().map(|p| p.display().to_string()).collect();
    // A sweep whose recommendation breaks a constraint still wrote everything; its status says so.
    let code = if outcome.feasible { exit::OK } else { exit::INFEASIBLE };
    if json {
        let text = sweep::recommendation_json(spec, base, &outcome)?;
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("recommendation_json writes JSON");
        v["files"] = serde_json::Value::from(files);
        print_json(&v);
        return Ok(code);
    }
    print!("{}", sweep::recommendation_text(spec, base, &outcome));
    println!("wrote {}", files.join(", "));
    if code == exit::INFEASIBLE {
        eprintln!("no setting meets every constraint of the objective: exit status {code}");
    }
    Ok(code)
}

/// Opens an output folder (locked while the command runs), saying what it cleaned up.
fn open_out(path: &Path) -> Result<OutputDir, SimError> {
    let dir = OutputDir::open(path)?;
    if let Some(n) = dir.recovery().notice(path) {
        eprintln!("notice: {n}");
    }
    Ok(dir)
}

/// `run`'s and `sweep`'s changes to the scenario from the command line.
#[derive(clap::Args, Debug)]
struct ScenarioOptions {
    /// Override a scenario key, validated like the file: --set scaler.cooldown_period=120
    /// (repeatable; values are TOML, a bare word is a string). A sweep applies it to every
    /// setting, and it is part of the sweep's fingerprint (--resume refuses a folder swept
    /// without it).
    #[arg(long = "set", value_name = "TABLE.KEY=VALUE")]
    set: Vec<String>,
    /// The seed for every random choice (overrides trace.seed; a sweep refuses it when
    /// [sweep] lists seeds).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Use this trace file instead of trace.path (relative to the working folder).
    #[arg(long, value_name = "FILE.csv")]
    trace: Option<PathBuf>,
}

/// Runs `work` with a progress callback that draws a [`Progress`] of `what` (made at the
/// first call, which gives the total), finished when `work` returns.
fn with_progress<T>(enabled: bool, what: &'static str, work: impl FnOnce(&mut dyn FnMut(usize, usize)) -> T) -> T {
    let mut bar: Option<Progress> = None;
    let out = work(&mut |done, total| match &mut bar {
        None => bar = Some(Progress::new(enabled, total, done, what)),
        Some(b) => b.tick(),
    });
    if let Some(b) = &bar {
        b.finish();
    }
    out
}

/// A progress bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    total: usize,
    done: usize,
    what: &'static str,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// A progress display of `total` `what` (settings, policies, runs), `done` already.
    fn new(enabled: bool, total: usize, done: usize, what: &'static str) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (enabled && tty).then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "{{bar:40}} {{pos}}/{{len}} {what}  {{elapsed}} elapsed, ETA {{eta}}"
                ))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_position(done as u64);
            b
        });
        Progress { bar, plain: enabled && !tty, total, done, what, started: Instant::now(), last_line: Instant::now() }
    }

    fn tick(&mut self) {
        self.done += 1;
        if let Some(b) = &self.bar {
            b.inc(1);
        } else if self.plain && (self.last_line.elapsed().as_secs() >= 10 || self.done == self.total) {
            self.last_line = Instant::now();
            let el = self.started.elapsed().as_secs_f64();
            #[allow(clippy::cast_precision_loss)]
            let frac = self.done as f64 / self.total.max(1) as f64;
            let eta = if frac > 0.0 { el / frac - el } else { 0.0 };
            let verb = if self.what == "settings" { "swept" } else { "ran" };
            eprintln!(
                "{verb} {}/{} {} ({:.0} %), {el:.0} s elapsed, ETA {eta:.0} s",
                self.done,
                self.total,
                self.what,
                frac * 100.0
            );
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn report_skips(r: &ReplayReport) {
    if let Some(e) = &r.torn_last_row {
        eprintln!("skipped a torn last row (no line end, as a crash leaves it): {e}");
    }
    if r.skipped > 0 {
        let first = r.first_skipped.as_ref().map(|e| format!("; first: {e}")).unwrap_or_default();
        eprintln!("skipped {} invalid row(s){first}", r.skipped);
    }
}
