//! Which share of a sweep this process runs: `--shard I/N`, or `--shard auto` / `auto/N`,
//! which reads the index (and, for Slurm, the count) from the batch engine's environment.
//!
//! Pure: the environment is passed in as a lookup function, so every engine's variables
//! are tested without touching the process's environment.

/// One engine's array-task variable, in the order `auto` looks for them.
pub const AUTO_VARIABLES: [&str; 3] = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

/// A resolved shard: the 0-based index, the count, and where they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index, below `count`.
    pub index: usize,
    /// How many shards the sweep is split into (at least 1).
    pub count: usize,
    /// `None` for `--shard I/N`; the engine and the variables read for `auto`
    /// (`"Slurm (SLURM_ARRAY_TASK_ID=3, ...)"`).
    pub from: Option<String>,
}

impl Shard {
    /// The whole sweep in one process.
    #[must_use]
    pub fn whole() -> Shard {
        Shard { index: 0, count: 1, from: None }
    }

    /// True for `--shard auto`: the engine may run this index again (a retry, a requeue, a
    /// replaced pod), so an existing folder of this very shard is resumed, not restarted.
    #[must_use]
    pub fn is_auto(&self) -> bool {
        self.from.is_some()
    }
}

/// Shard `i` of `n` (0-based): parsed from `I/N`.
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (a, b) = text
        .split_once('/')
        .ok_or("expected I/N, e.g. 0/4 (the 0-based shard index, then the shard count), or auto")?;
    let i: usize = a.trim().parse().map_err(|_| format!("`{a}` is not a shard index"))?;
    let n: usize = b.trim().parse().map_err(|_| format!("`{b}` is not a shard count"))?;
    if n == 0 {
        return Err("the shard count must be at least 1".into());
    }
    if i >= n {
        return Err(format!(
            "shard index {i} must be below the shard count {n} (indices are 0-based: 0/{n} to {}/{n})",
            n - 1
        ));
    }
    Ok((i, n))
}

/// Reads `--shard TEXT`: `I/N`, `auto` or `auto/N`, the latter two from `env`.
///
/// - Slurm: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_MIN`, `_MAX`, `_STEP` and `_COUNT`.
///   The index is `(ID - MIN) / STEP`, so an array may start at 1 or any number and have a
///   step (`--array=1-16`, `--array=0-30:2`); an array of listed indices that are not evenly
///   spaced (`--array=1,2,7`) is refused. `auto/N` must then agree with the array's size.
/// - Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`) and AWS Batch array job
///   (`AWS_BATCH_JOB_ARRAY_INDEX`): 0-based indices; the count must be given as `auto/N`,
///   since neither engine exports it.
///
/// Two engines' variables at once are refused (which one is meant cannot be known), and so is
/// `auto` with none of them, naming the variables looked for.
pub fn resolve_shard(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
    let text = text.trim();
    let Some(rest) = text.strip_prefix("auto") else {
        let (index, count) = parse_shard(text)?;
        return Ok(Shard { index, count, from: None });
    };
    let given = match rest {
        "" => None,
        r => {
            let n = r.strip_prefix('/').ok_or_else(|| format!("expected auto or auto/N, found `{text}`"))?;
            let n: usize = n.trim().parse().map_err(|_| format!("`{n}` in `{text}` is not a shard count"))?;
            if n == 0 {
                return Err("the shard count in auto/N must be at least 1".into());
            }
            Some(n)
        }
    };
    let present: Vec<&str> = AUTO_VARIABLES.iter().copied().filter(|v| env(v).is_some()).collect();
    match present.as_slice() {
        [] => Err(format!(
            "none of {} is set, so this is not a task of a Slurm array, a Kubernetes Indexed Job or an AWS Batch array job; give the shard as --shard I/N",
            AUTO_VARIABLES.join(", ")
        )),
        ["SLURM_ARRAY_TASK_ID"] => slurm(env, given),
        [var] => {
            let engine = if *var == "JOB_COMPLETION_INDEX" { "Kubernetes Indexed Job" } else { "AWS Batch array job" };
            let article = if *var == "JOB_COMPLETION_INDEX" { "a" } else { "an" };
            let raw = env(var).unwrap_or_default();
            let index = number(var, &raw)?;
            let Some(count) = given else {
                return Err(format!(
                    "{var}={raw} gives the index but {article} {engine} does not export the number of tasks; give it as --shard auto/N (N = the job's {})",
                    if *var == "JOB_COMPLETION_INDEX" { "completions" } else { "array size" }
                ));
            };
            if index >= count {
                return Err(format!(
                    "{var}={index} is not below the shard count {count} (indices are 0-based); is N the job's {}?",
                    if *var == "JOB_COMPLETION_INDEX" { "completions" } else { "array size" }
                ));
            }
            Ok(Shard { index, count, from: Some(format!("{engine} ({var}={raw})")) })
        }
        many => Err(format!(
            "{} are all set, so which engine runs this task is ambiguous; give the shard as --shard I/N",
            many.join(" and ")
        )),
    }
}

fn number(var: &str, raw: &str) -> Result<usize, String> {
    raw.parse().map_err(|_| format!("{var}={raw:?} is not a whole number"))
}

fn slurm(env: &dyn Fn(&str) -> Option<String>, given: Option<usize>) -> Result<Shard, String> {
    let get = |v: &str| -> Result<Option<usize>, String> { env(v).map(|raw| number(v, &raw)).transpose() };
    let id = get("SLURM_ARRAY_TASK_ID")?.expect("present");
    let (Some(min), Some(max)) = (get("SLURM_ARRAY_TASK_MIN")?, get("SLURM_ARRAY_TASK_MAX")?) else {
        return Err(format!(
            "SLURM_ARRAY_TASK_ID={id} is set but SLURM_ARRAY_TASK_MIN or SLURM_ARRAY_TASK_MAX is not (Slurm sets all three in an array task); give the shard as --shard I/N"
        ));
    };
    let step = get("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
    if step == 0 {
        return Err("SLURM_ARRAY_TASK_STEP=0 is not a step".into());
    }
    if min > max || id < min || id > max {
        return Err(format!(
            "SLURM_ARRAY_TASK_ID={id} is outside SLURM_ARRAY_TASK_MIN={min} .. SLURM_ARRAY_TASK_MAX={max}"
        ));
    }
    let span = (max - min) / step + 1;
    if (id - min) % step != 0 {
        return Err(format!(
            "SLURM_ARRAY_TASK_ID={id} is not on the array's step ({min}-{max}:{step}); give the shard as --shard I/N"
        ));
    }
    let count = match get("SLURM_ARRAY_TASK_COUNT")? {
        Some(c) if c != span => {
            return Err(format!(
                "this Slurm array's {c} indices are not evenly spaced from {min} to {max} (step {step}), as with --array=1,2,7, so a task's place in it is unknown; submit a range such as --array=1-{c} (a step and a % limit are fine) or give --shard I/N"
            ))
        }
        _ => span,
    };
    if let Some(n) = given {
        if n != count {
            return Err(format!(
                "auto/{n} does not match this Slurm array, which has {count} tasks ({min}-{max}:{step}); give --shard auto (Slurm exports the count) or submit {n} tasks"
            ));
        }
    }
    let index = (id - min) / step;
    Ok(Shard {
        index,
        count,
        from: Some(format!(
            "Slurm array (SLURM_ARRAY_TASK_ID={id} of {min}-{max}:{step}, SLURM_ARRAY_JOB_ID={})",
            env("SLURM_ARRAY_JOB_ID").unwrap_or_else(|| "?".into())
        )),
    })
}

/// `--out` with `{shard}` replaced by the shard's 0-based index, so one command line serves
/// every task of an array on an engine that does not expand variables (AWS Batch). A
/// `{shard}` without `--shard` is refused: every task would write one folder.
pub fn expand_out(out: &str, shard: Option<&Shard>) -> Result<String, String> {
    if !out.contains("{shard}") {
        return Ok(out.to_string());
    }
    let Some(shard) = shard else {
        return Err(format!("--out {out} has {{shard}} but no --shard was given"));
    };
    Ok(out.replace("{shard}", &shard.index.to_string()))
}
