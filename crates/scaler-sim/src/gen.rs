//! `scaler-sim gen`: synthetic workload traces, seeded.
//!
//! The arrival rate is `base * product(multipliers) + sum(spikes)`, where the
//! components are given as `name:key=value,...`:
//!
//! | component | meaning |
//! | --- | --- |
//! | `poisson:rate=R` | the base rate, R tasks per second (default 1) |
//! | `diurnal:period=86400,ratio=4,peak=50400` | a cosine day with peak-to-trough `ratio`, mean 1, highest at `peak` s into the period |
//! | `weekly:weekend=0.6,period=604800,weekend_start=432000` | days from `weekend_start` to the period's end run at `weekend` |
//! | `ramp:from=1,to=3,start=0,end=SPAN` | a linear multiplier from `from` to `to` over `[start, end]` |
//! | `flash:at=T,height=H,decay=D` | a spike adding `H * base` at `T`, decaying with time constant `D` s |
//! | `onoff:on=300,off=900,high=5,low=0.2` | a two-state Markov chain (mean sojourns `on`, `off` s) multiplying by `high` or `low`: a Markov-modulated Poisson process |
//!
//! Arrivals are drawn per bin of `bin_s` seconds: a Poisson count with the
//! rate at the bin's middle, placed uniformly inside the bin.

use std::io::Write;
use std::path::Path;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

use scaler_formats::error::{InputError, SimError};
use scaler_formats::fmtnum::{push_ms_as_seconds, push_u64};
use scaler_formats::output::{write_atomically, Chunked};
use scaler_formats::scenario::DurationDist;
use scaler_model::random::{seconds_to_ms, stream_rng, streams, DurationSampler};

/// One modulation of the arrival rate.
#[derive(Clone, Debug, PartialEq)]
pub enum Component {
    /// The base rate (tasks per second).
    Poisson {
        /// Tasks per second.
        rate: f64,
    },
    /// A cosine daily cycle with mean 1.
    Diurnal {
        /// Period, s.
        period: f64,
        /// Peak-to-trough ratio (>= 1).
        ratio: f64,
        /// Offset of the peak into the period, s.
        peak: f64,
    },
    /// A weekly cycle: a multiplier for the weekend part of each period.
    Weekly {
        /// The weekend multiplier.
        weekend: f64,
        /// Period, s.
        period: f64,
        /// Offset into the period where the weekend starts, s.
        weekend_start: f64,
    },
    /// A linear ramp multiplier.
    Ramp {
        /// Multiplier at `start`.
        from: f64,
        /// Multiplier at `end`.
        to: f64,
        /// Ramp start, s.
        start: f64,
        /// Ramp end, s.
        end: f64,
    },
    /// An additive spike with exponential decay.
    Flash {
        /// When it starts, s.
        at: f64,
        /// Height, in multiples of the base rate.
        height: f64,
        /// Decay time constant, s.
        decay: f64,
    },
    /// A two-state Markov-modulated multiplier.
    OnOff {
        /// Mean time on, s.
        on: f64,
        /// Mean time off, s.
        off: f64,
        /// Multiplier while on.
        high: f64,
        /// Multiplier while off.
        low: f64,
    },
}

/// Which file to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `arrival_s,duration_s`.
    Tasks,
    /// `timestamp_s,arrivals[,mean_duration_s]`.
    Rates,
}

/// Durations for generated tasks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GenDuration {
    /// Every task runs this many seconds.
    Constant(f64),
    /// From a distribution.
    Dist(DurationDist),
}

impl GenDuration {
    fn mean_s(&self) -> f64 {
        match *self {
            GenDuration::Constant(v) => v,
            GenDuration::Dist(DurationDist::Exponential { mean_s })
            | GenDuration::Dist(DurationDist::LogNormal { mean_s, .. })
            | GenDuration::Dist(DurationDist::Pareto { mean_s, .. }) => mean_s,
            GenDuration::Dist(DurationDist::Uniform { min_s, max_s }) => (min_s + max_s) / 2.0,
        }
    }
}

/// A whole generation request.
#[derive(Clone, Debug)]
pub struct GenSpec {
    /// The rate's components.
    pub components: Vec<Component>,
    /// Length of the trace, s.
    pub span_s: f64,
    /// Bin width, s.
    pub bin_s: f64,
    /// Task or rate form.
    pub form: Form,
    /// Task durations (required for the task form).
    pub duration: Option<GenDuration>,
    /// Seed.
    pub seed: u64,
    /// At most this many bins (`span / bin`): the work and, for rates, the rows.
    pub max_bins: u64,
    /// At most this many tasks, expected (the rate's integral over the span).
    pub max_tasks: u64,
}

/// Default of `--max-bins`.
pub const DEFAULT_MAX_BINS: u64 = 100_000_000;
/// Default of `--max-tasks`.
pub const DEFAULT_MAX_TASKS: u64 = 1_000_000_000;

/// Arrivals in one bin above which they are placed on the bin's milliseconds one by one
/// (binomial splitting, O(1) memory) instead of drawn and sorted.
const SORT_PLACEMENT_MAX: u64 = 1 << 16;

fn arg_error(arg: &str, msg: impl Into<String>) -> InputError {
    InputError::file(Path::new(arg), msg)
}

/// Parses `k=v,k=v` into numbers, refusing unknown keys and non-finite or negative values.
fn params(arg: &str, text: &str, known: &[&str]) -> Result<Vec<(String, f64)>, InputError> {
    let mut out = Vec::new();
    if text.is_empty() {
        return Ok(out);
    }
    for kv in text.split(',') {
        let (k, v) = kv.split_once('=').ok_or_else(|| arg_error(arg, format!("`{kv}`: expected key=value")))?;
        let k = k.trim();
        if !known.contains(&k) {
            return Err(arg_error(arg, format!("unknown parameter `{k}`{}", scaler_core::suggest(k, known))));
        }
        let v: f64 = v.trim().parse().map_err(|_| arg_error(arg, format!("{k} = {v}: must be a number")))?;
        if !v.is_finite() || v < 0.0 {
            return Err(arg_error(arg, format!("{k} = {v}: must be a finite number >= 0")));
        }
        out.push((k.to_string(), v));
    }
    Ok(out)
}

fn get(p: &[(String, f64)], k: &str, default: f64) -> f64 {
    p.iter().find(|(n, _)| n == k).map_or(default, |(_, v)| *v)
}

/// Parses one component such as `diurnal:period=86400,ratio=4`; `span_s` provides defaults.
pub fn parse_component(arg: &str, span_s: f64) -> Result<Component, InputError> {
    let (name, rest) = arg.split_once(':').unwrap_or((arg, ""));
    let positive = |v: f64, k: &str| -> Result<f64, InputError> {
        if v > 0.0 {
            Ok(v)
        } else {
            Err(arg_error(arg, format!("{k} must be > 0")))
        }
    };
    Ok(match name {
        "poisson" => {
            let p = params(arg, rest, &["rate"])?;
            Component::Poisson { rate: get(&p, "rate", 1.0) }
        }
        "diurnal" => {
            let p = params(arg, rest, &["period", "ratio", "peak"])?;
            let ratio = get(&p, "ratio", 4.0);
            if ratio < 1.0 {
                return Err(arg_error(arg, "ratio (peak to trough) must be >= 1"));
            }
            Component::Diurnal {
                period: positive(get(&p, "period", 86_400.0), "period")?,
                ratio,
                peak: get(&p, "peak", 50_400.0),
            }
        }
        "weekly" => {
            let p = params(arg, rest, &["weekend", "period", "weekend_start"])?;
            Component::Weekly {
                weekend: get(&p, "weekend", 0.6),
                period: positive(get(&p, "period", 604_800.0), "period")?,
                weekend_start: get(&p, "weekend_start", 432_000.0),
            }
        }
        "ramp" => {
            let p = params(arg, rest, &["from", "to", "start", "end"])?;
            let (start, end) = (get(&p, "start", 0.0), get(&p, "end", span_s));
            if end <= start {
                return Err(arg_error(arg, "end must be after start"));
            }
            Component::Ramp { from: get(&p, "from", 1.0), to: get(&p, "to", 2.0), start, end }
        }
        "flash" => {
            let p = params(arg, rest, &["at", "height", "decay"])?;
            Component::Flash {
                at: get(&p, "at", span_s / 2.0),
                height: get(&p, "height", 10.0),
                decay: positive(get(&p, "decay", 300.0), "decay")?,
            }
        }
        "onoff" => {
            let p = params(arg, rest, &["on", "off", "high", "low"])?;
            Component::OnOff {
                on: positive(get(&p, "on", 300.0), "on")?,
                off: positive(get(&p, "off", 900.0), "off")?,
                high: get(&p, "high", 5.0),
                low: get(&p, "low", 0.2),
            }
        }
        other => {
            return Err(arg_error(
                arg,
                format!(
                    "unknown pattern `{other}`{}",
                    scaler_core::suggest(other, &["poisson", "diurnal", "weekly", "ramp", "flash", "onoff"])
                ),
            ))
        }
    })
}

/// Parses a duration such as `exponential:mean=30`, `lognormal:mean=30,cv=2`,
/// `pareto:mean=30,alpha=2.5`, `uniform:min=1,max=9` or `constant:value=30`.
pub fn parse_duration(arg: &str) -> Result<GenDuration, InputError> {
    let d = parse_duration_unchecked(arg)?;
    if let GenDuration::Dist(dist) = d {
        // Validate by constructing: the sampler's own constructor is the rule.
        dist.check().map_err(|e| {
            let key = e.key.strip_suffix("_s").unwrap_or(e.key);
            arg_error(arg, format!("{key} = {}: {}", e.shown_value(), e.rule))
        })?;
    }
    Ok(d)
}

fn parse_duration_unchecked(arg: &str) -> Result<GenDuration, InputError> {
    let (name, rest) = arg.split_once(':').unwrap_or((arg, ""));
    let need = |p: &[(String, f64)], k: &str| -> Result<f64, InputError> {
        let v =
            p.iter().find(|(n, _)| n == k).map(|(_, v)| *v).ok_or_else(|| arg_error(arg, format!("needs {k}=...")))?;
        if v > 0.0 {
            Ok(v)
        } else {
            Err(arg_error(arg, format!("{k} must be > 0")))
        }
    };
    Ok(match name {
        "constant" => {
            let p = params(arg, rest, &["value"])?;
            GenDuration::Constant(get(&p, "value", 0.0))
        }
        "exponential" => {
            GenDuration::Dist(DurationDist::Exponential { mean_s: need(&params(arg, rest, &["mean"])?, "mean")? })
        }
        "lognormal" => {
            let p = params(arg, rest, &["mean", "cv"])?;
            GenDuration::Dist(DurationDist::LogNormal { mean_s: need(&p, "mean")?, cv: need(&p, "cv")? })
        }
        "pareto" => {
            let p = params(arg, rest, &["mean", "alpha"])?;
            let alpha = need(&p, "alpha")?;
            if alpha <= 1.0 {
                return Err(arg_error(arg, "alpha must be > 1 (the mean is infinite otherwise)"));
            }
            GenDuration::Dist(DurationDist::Pareto { mean_s: need(&p, "mean")?, alpha })
        }
        "uniform" => {
            let p = params(arg, rest, &["min", "max"])?;
            let (min_s, max_s) = (get(&p, "min", 0.0), get(&p, "max", 0.0));
            if max_s < min_s {
                return Err(arg_error(arg, "max must be >= min"));
            }
            GenDuration::Dist(DurationDist::Uniform { min_s, max_s })
        }
        other => {
            return Err(arg_error(
                arg,
                format!(
                    "unknown distribution `{other}`{}",
                    scaler_core::suggest(other, &["constant", "exponential", "lognormal", "pareto", "uniform"])
                ),
            ))
        }
    })
}

/// The rate function, with the on/off chain's state advanced lazily in time order.
struct Rate {
    base: f64,
    components: Vec<Component>,
    onoff_state: Option<(bool, f64)>,
    rng: ChaCha8Rng,
}

impl Rate {
    /// Expected arrivals in the bin `[start, start + width)` ms: the rate at its middle times
    /// its width (calls must come in time order).
    fn per_bin(&mut self, start: u64, width: u64) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let mid_s = (start as f64 + width as f64 / 2.0) / 1000.0;
        #[allow(clippy::cast_precision_loss)]
        let lambda = self.at(mid_s) * width as f64 / 1000.0;
        lambda
    }

    /// The rate of `spec`'s components, its on/off chain drawn from `rng`.
    fn new(spec: &GenSpec, rng: ChaCha8Rng) -> Rate {
        let base = spec
            .components
            .iter()
            .find_map(|c| if let Component::Poisson { rate } = c { Some(*rate) } else { None })
            .unwrap_or(1.0);
        Rate { base, components: spec.components.clone(), onoff_state: None, rng }
    }

    /// Tasks per second at time `t` (calls must come in non-decreasing `t`).
    fn at(&mut self, t: f64) -> f64 {
        let mut mult = 1.0;
        let mut add = 0.0;
        for c in &self.components {
            match *c {
                Component::Poisson { .. } => {}
                Component::Diurnal { period, ratio, peak } => {
                    let b = (ratio - 1.0) / (ratio + 1.0);
                    mult *= 1.0 + b * (std::f64::consts::TAU * (t - peak) / period).cos();
                }
                Component::Weekly { weekend, period, weekend_start } => {
                    if t.rem_euclid(period) >= weekend_start {
                        mult *= weekend;
                    }
                }
                Component::Ramp { from, to, start, end } => {
                    let x = ((t - start) / (end - start)).clamp(0.0, 1.0);
                    mult *= from + (to - from) * x;
                }
                Component::Flash { at, height, decay } => {
                    if t >= at {
                        add += height * self.base * (-(t - at) / decay).exp();
                    }
                }
                Component::OnOff { on, off, high, low } => {
                    let (mut is_on, mut until) = self.onoff_state.unwrap_or((false, 0.0));
                    while until <= t {
                        is_on = !is_on;
                        let gap = t - until;
                        if gap > on + off {
                            // Many switches before `t` (sojourns short against the bins): draw
                            // the state at `t` from the chain's exact transition law instead of
                            // stepping through every switch (which could take forever), then
                            // its residual sojourn, memoryless.
                            let (rate_on, rate_off) = (1.0 / on, 1.0 / off);
                            let pi_on = rate_off / (rate_on + rate_off);
                            let decay = (-(rate_on + rate_off) * gap).exp();
                            let p_on = if is_on { pi_on + (1.0 - pi_on) * decay } else { pi_on - pi_on * decay };
                            let u: f64 = self.rng.random();
                            is_on = u < p_on;
                            until = t;
                        }
                        let mean = if is_on { on } else { off };
                        let u: f64 = self.rng.random();
                        until += -mean * (1.0 - u).ln();
                    }
                    self.onoff_state = Some((is_on, until));
                    mult *= if is_on { high } else { low };
                }
            }
        }
        (self.base * mult + add).max(0.0)
    }
}

/// What `gen` wrote.
#[derive(Debug, Default)]
pub struct GenReport {
    /// Tasks generated.
    pub tasks: u64,
    /// Rows written.
    pub rows: u64,
}

/// Generates the trace into `out` (atomically).
pub fn generate(spec: &GenSpec, out: &Path) -> Result<GenReport, SimError> {
    if spec.form == Form::Tasks && spec.duration.is_none() {
        return Err(
            arg_error("--duration", "the task form needs task durations, e.g. --duration exponential:mean=30").into()
        );
    }
    if !(spec.span_s > 0.0 && spec.bin_s > 0.0 && spec.bin_s.is_finite() && spec.span_s.is_finite()) {
        return Err(arg_error("--span-s", "span and bin must be > 0").into());
    }
    if let Some(GenDuration::Dist(d)) = spec.duration {
        // Before the output file is opened, so that nothing is written for a refused spec.
        d.check().map_err(|e| arg_error("--duration", e.to_string()))?;
    }
    // Bounded work and output, checked before anything is written.
    let bin_ms = seconds_to_ms(spec.bin_s).max(1);
    let span_ms = seconds_to_ms(spec.span_s);
    let bins = span_ms.div_ceil(bin_ms);
    if bins > spec.max_bins {
        return Err(arg_error(
            "--span-s",
            format!(
                "{} s in bins of {} s is {bins} bins; at most {} (raise the limit with --max-bins)",
                spec.span_s, spec.bin_s, spec.max_bins
            ),
        )
        .into());
    }
    let expected = expected_tasks(spec, bin_ms, span_ms);
    #[allow(clippy::cast_precision_loss)]
    if !expected.is_finite() || expected > spec.max_tasks as f64 {
        return Err(arg_error(
            "pattern",
            format!(
                "the rate would make about {expected:.3e} tasks; at most {} (raise the limit with --max-tasks)",
                spec.max_tasks
            ),
        )
        .into());
    }
    write_atomically(out, |w| generate_to(spec, w, out))
}

/// Writes one task row arriving at `at_ms`, its duration constant or drawn.
fn push_task<W: Write>(
    o: &mut Chunked<'_, W>,
    at_ms: u64,
    constant_ms: Option<u64>,
    sampler: &mut Option<DurationSampler>,
    report: &mut GenReport,
) -> Result<(), SimError> {
    let d = match (constant_ms, sampler) {
        (Some(c), _) => c,
        (None, Some(s)) => s.sample_ms(),
        (None, None) => 0,
    };
    push_ms_as_seconds(&mut o.buf, at_ms);
    o.buf.push(b',');
    push_ms_as_seconds(&mut o.buf, d);
    o.buf.push(b'\n');
    report.rows += 1;
    o.maybe_flush()
}

/// The rate's integral over the span (the expected task count), from a copy of the rate
/// with its own random stream (so the trace's draws are unchanged).
fn expected_tasks(spec: &GenSpec, bin_ms: u64, span_ms: u64) -> f64 {
    let mut rate = Rate::new(spec, stream_rng(spec.seed, streams::GENERATE ^ 0x5eed));
    bins(bin_ms, span_ms).map(|(start, width)| rate.per_bin(start, width)).sum()
}

/// The bins `(start ms, width ms)` of a span: `bin_ms` wide, the last one cut at the span's end.
fn bins(bin_ms: u64, span_ms: u64) -> impl Iterator<Item = (u64, u64)> {
    (0..span_ms.div_ceil(bin_ms)).map(move |k| {
        let start = k * bin_ms;
        (start, bin_ms.min(span_ms - start))
    })
}

fn generate_to<W: Write>(spec: &GenSpec, w: &mut W, out: &Path) -> Result<GenReport, SimError> {
    let mut rate = Rate::new(spec, stream_rng(spec.seed, streams::GENERATE));
    let mut place_rng = stream_rng(spec.seed, streams::ARRIVALS);
    let mut sampler = match spec.duration {
        Some(GenDuration::Dist(d)) => Some(
            DurationSampler::try_new(d, stream_rng(spec.seed, streams::DURATIONS))
                .map_err(|e| arg_error("--duration", e.to_string()))?,
        ),
        _ => None,
    };
    let constant_ms = match spec.duration {
        Some(GenDuration::Constant(v)) => Some(seconds_to_ms(v)),
        _ => None,
    };
    let mut o = Chunked::new(w, out);
    match (spec.form, spec.duration) {
        (Form::Tasks, _) => o.buf.extend_from_slice(b"arrival_s,duration_s\n"),
        (Form::Rates, Some(_)) => o.buf.extend_from_slice(b"timestamp_s,arrivals,mean_duration_s\n"),
        (Form::Rates, None) => o.buf.extend_from_slice(b"timestamp_s,arrivals\n"),
    }
    let mean_ms = spec.duration.map(|d| seconds_to_ms(d.mean_s()));
    let bin_ms = seconds_to_ms(spec.bin_s).max(1);
    let span_ms = seconds_to_ms(spec.span_s);
    let mut report = GenReport::default();
    let mut offsets: Vec<u64> = Vec::new();
    for (start, width) in bins(bin_ms, span_ms) {
        let lambda = rate.per_bin(start, width);
        let count: u64 = if lambda > 0.0 {
            let d = Poisson::new(lambda).map_err(|e| arg_error("pattern", format!("rate {lambda} per bin: {e}")))?;
            let x: f64 = d.sample(&mut place_rng);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let c = x as u64;
            c
        } else {
            0
        };
        match spec.form {
            Form::Rates => {
                push_ms_as_seconds(&mut o.buf, start);
                o.buf.push(b',');
                push_u64(&mut o.buf, count);
                if let Some(m) = mean_ms {
                    o.buf.push(b',');
                    push_ms_as_seconds(&mut o.buf, m);
                }
                o.buf.push(b'\n');
                report.rows += 1;
            }
            Form::Tasks if count > SORT_PLACEMENT_MAX => {
                // Each millisecond of the bin takes Binomial(remaining, 1 / slots left): the
                // same law as placing every arrival uniformly, in O(1) memory.
                let mut remaining = count;
                for j in 0..width {
                    if remaining == 0 {
                        break;
                    }
                    #[allow(clippy::cast_precision_loss)]
                    let p = 1.0 / (width - j) as f64;
                    let here = if p >= 1.0 {
                        remaining
                    } else {
                        rand_distr::Binomial::new(remaining, p)
                            .map_err(|e| arg_error("pattern", format!("placing {remaining} arrivals: {e}")))?
                            .sample(&mut place_rng)
                    };
                    remaining -= here;
                    for _ in 0..here {
                        push_task(&mut o, start + j, constant_ms, &mut sampler, &mut report)?;
                    }
                }
            }
            Form::Tasks => {
                offsets.clear();
                for _ in 0..count {
                    let u: f64 = place_rng.random();
                    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    offsets.push(((u * width as f64) as u64).min(width - 1));
                }
                offsets.sort_unstable();
                for &off in &offsets {
                    push_task(&mut o, start + off, constant_ms, &mut sampler, &mut report)?;
                }
            }
        }
        report.tasks += count;
        o.maybe_flush()?;
    }
    o.flush()?;
    Ok(report)
}
