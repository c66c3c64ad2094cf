//! `sweep --shard auto` on batch engines: the index from each engine's environment, shards
//! that a retry or requeue resumes, the files in deploy/, and a real Slurm array with a
//! dependent merge (when a Slurm cluster is running: `scripts/slurm-cluster start`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scaler_formats::manifest::yaml::{self, YNode, YValue};
use scaler_sim::sweep::shard::{expand_out, resolve_shard, AUTO_VARIABLES};
use scaler_sim::sweep::Shard;

use crate::bin;

/// `resolve_shard(arg)` in an environment of `vars`: `Ok((index, count))` or an error
/// holding every one of the given fragments.
fn check(vars: &[(&str, &str)], arg: &str, expect: Result<(usize, usize), &[&str]>) {
    let env = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_string());
    let got = resolve_shard(arg, &env);
    match (got, expect) {
        (Ok(s), Ok((i, n))) => assert_eq!((s.index, s.count), (i, n), "{arg} in {vars:?}"),
        (Err(e), Err(parts)) => {
            for p in parts {
                assert!(e.contains(p), "{arg} in {vars:?}: `{e}` lacks `{p}`");
            }
        }
        (got, want) => panic!("{arg} in {vars:?}: got {got:?}, want {want:?}"),
    }
}

fn slurm(id: &str, min: &str, max: &str, step: &str, count: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SLURM_ARRAY_TASK_ID", id.into()),
        ("SLURM_ARRAY_TASK_MIN", min.into()),
        ("SLURM_ARRAY_TASK_MAX", max.into()),
        ("SLURM_ARRAY_TASK_STEP", step.into()),
        ("SLURM_ARRAY_TASK_COUNT", count.into()),
        ("SLURM_ARRAY_JOB_ID", "77".into()),
    ]
}

#[test]
fn auto_shards_resolve_from_each_engine() {
    let s = |v: &[(&'static str, String)]| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    type Expect = Result<(usize, usize), &'static [&'static str]>;
    type Vars = Vec<(&'static str, String)>;
    let cases: Vec<(Vars, &str, Expect)> = vec![
        // Slurm: 1-based, 0-based, with a step, the count checked against auto/N.
        (s(&slurm("1", "1", "4", "1", "4")), "auto", Ok((0, 4))),
        (s(&slurm("4", "1", "4", "1", "4")), "auto", Ok((3, 4))),
        (s(&slurm("0", "0", "15", "1", "16")), "auto", Ok((0, 16))),
        (s(&slurm("6", "0", "9", "3", "4")), "auto", Ok((2, 4))),
        (s(&slurm("6", "0", "9", "3", "4")), "auto/4", Ok((2, 4))),
        (s(&slurm("3", "1", "4", "1", "4")), "auto/8", Err(&["auto/8", "has 4 tasks"])),
        (s(&slurm("7", "1", "7", "1", "3")), "auto", Err(&["not evenly spaced", "--array=1-3"])),
        (s(&slurm("5", "0", "9", "3", "4")), "auto", Err(&["not on the array's step"])),
        (s(&slurm("x", "1", "4", "1", "4")), "auto", Err(&["SLURM_ARRAY_TASK_ID=\"x\" is not a whole number"])),
        (
            vec![("SLURM_ARRAY_TASK_ID", "2".into())],
            "auto",
            Err(&["SLURM_ARRAY_TASK_MIN or SLURM_ARRAY_TASK_MAX is not"]),
        ),
        // Kubernetes and AWS Batch: 0-based, the count from auto/N.
        (vec![("JOB_COMPLETION_INDEX", "3".into())], "auto/8", Ok((3, 8))),
        (
            vec![("JOB_COMPLETION_INDEX", "3".into())],
            "auto",
            Err(&["does not export", "--shard auto/N", "completions"]),
        ),
        (vec![("JOB_COMPLETION_INDEX", "8".into())], "auto/8", Err(&["not below the shard count 8"])),
        (vec![("JOB_COMPLETION_INDEX", " 3".into())], "auto/8", Err(&["\" 3\" is not a whole number"])),
        (vec![("AWS_BATCH_JOB_ARRAY_INDEX", "0".into())], "auto/2", Ok((0, 2))),
        (vec![("AWS_BATCH_JOB_ARRAY_INDEX", "5".into())], "auto", Err(&["AWS Batch", "array size"])),
        // Nothing, or two engines at once.
        (vec![], "auto", Err(&["SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX", "--shard I/N"])),
        (
            vec![("JOB_COMPLETION_INDEX", "1".into()), ("AWS_BATCH_JOB_ARRAY_INDEX", "1".into())],
            "auto/4",
            Err(&["ambiguous"]),
        ),
        (vec![], "auto/0", Err(&["at least 1"])),
        (vec![], "autox", Err(&["expected auto or auto/N"])),
        // The explicit form is unchanged and ignores the environment.
        (s(&slurm("1", "1", "4", "1", "4")), "2/3", Ok((2, 3))),
    ];
    for (vars, arg, expect) in cases {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        check(&vars, arg, expect);
    }
    let sh = Shard { index: 2, count: 4, from: Some("x".into()) };
    assert_eq!(expand_out("/data/shard-{shard}", Some(&sh)).unwrap(), "/data/shard-2");
    assert_eq!(expand_out("/data/plain", None).unwrap(), "/data/plain");
    assert!(expand_out("/data/shard-{shard}", None).unwrap_err().contains("no --shard"));
}

const SCENARIO: &str = "[trace]\npath = \"t.csv\"\n\
[cluster]\nprovision_delay_s = 20\nprice_per_worker_hour = 1\nslo_wait_s = 10\n\
[scaler]\nmin_workers = 1\nmax_workers = 40\ncooldown_period = 60\nmetrics_window = 60\nevaluation_interval = 15\n\
[sweep]\nobjective = \"minimize cost subject to wait_p95_s <= 20\"\n\
scaler.scale_up_threshold = [0.6, 0.8]\nscaler.cooldown_period = [30, 120]\nscaler.scale_down_threshold = [0.2, 0.3]\n";

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SCENARIO).unwrap();
    let t = crate::bursty_trace(11, 1500, 250, [3000, 600], false);
    std::fs::write(dir.path().join("t.csv"), t).unwrap();
    dir
}

/// `scaler-sim ARGS` in `dir` with exactly `vars` of the engines' variables set.
fn run_env(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin());
    c.args(args).current_dir(dir);
    for v in AUTO_VARIABLES.iter().chain(&[
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_MAX",
        "SLURM_ARRAY_TASK_STEP",
        "SLURM_ARRAY_TASK_COUNT",
    ]) {
        c.env_remove(v);
    }
    c.envs(vars.iter().copied());
    c.output().expect("run scaler-sim")
}

fn slurm_task(id: usize, tasks: usize) -> Vec<(&'static str, String)> {
    let (id, max, count) = (id.to_string(), tasks.to_string(), tasks.to_string());
    slurm(&id, "1", &max, "1", &count)
}

/// Every file of a one-machine sweep, compared byte for byte with the merged folder's.
fn assert_same_files(one: &Path, merged: &Path) {
    let mut names: Vec<PathBuf> = std::fs::read_dir(one).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let mut compared = 0;
    for p in names {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        // A sweep's own bookkeeping: a merged folder has no partial results or manifest.
        if name == "results.partial.csv" || name == "sweep.json" {
            continue;
        }
        let a = std::fs::read(&p).unwrap();
        let b = std::fs::read(merged.join(&name)).unwrap_or_else(|e| panic!("merged {name}: {e}"));
        assert!(a == b, "{name} differs between the one-machine sweep and the merge");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} files compared");
}

#[test]
fn auto_shards_resume_on_retry_and_merge_like_one_machine() {
    let dir = setup();
    let d = dir.path();
    let r = run_env(d, &["sweep", "s.toml", "--out", "one"], &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // A 1-based Slurm array of 3 tasks, each writing shard-{index}.
    for id in 1..=3 {
        let vars = slurm_task(id, 3);
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = run_env(d, &["sweep", "s.toml", "--shard", "auto", "--out", "sweep/shard-{shard}"], &vars);
        let stdout = String::from_utf8_lossy(&r.stdout);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(
            stdout.contains(&format!("shard {}/3 from the Slurm array (SLURM_ARRAY_TASK_ID={id}", id - 1)),
            "{stdout}"
        );
    }
    // A requeued task: its finished folder is resumed, nothing is recomputed or rewritten.
    let partial = d.join("sweep/shard-1/results.partial.csv");
    let before = std::fs::read(&partial).unwrap();
    let vars = slurm_task(2, 3);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(d, &["sweep", "s.toml", "--shard", "auto", "--out", "sweep/shard-{shard}"], &vars);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read(&partial).unwrap(), before, "a retried shard changed its results");
    // A task killed mid-row: the torn row is dropped and its setting runs again.
    let text = String::from_utf8(before.clone()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let torn = &lines[2][..lines[2].len() / 2];
    lines.truncate(2);
    std::fs::write(&partial, format!("{}\n{torn}", lines.join("\n"))).unwrap();
    let r = run_env(d, &["sweep", "s.toml", "--shard", "auto", "--out", "sweep/shard-{shard}"], &vars);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("dropped a torn last row"));
    let mut again: Vec<String> =
        String::from_utf8(std::fs::read(&partial).unwrap()).unwrap().lines().map(String::from).collect();
    let mut was: Vec<String> = text.lines().map(String::from).collect();
    again.sort();
    was.sort();
    assert_eq!(again, was, "the resumed shard's rows differ from the first run's");
    // The merge equals the one-machine sweep, file for file.
    let r = run_env(d, &["merge", "sweep/shard-0", "sweep/shard-1", "sweep/shard-2", "--out", "merged"], &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_same_files(&d.join("one"), &d.join("merged"));
    // A Kubernetes Indexed Job of 3: the same folders, so its shards are resumed as finished.
    for i in 0..3 {
        let idx = i.to_string();
        let r = run_env(
            d,
            &["sweep", "s.toml", "--shard", "auto/3", "--out", "sweep/shard-{shard}"],
            &[("JOB_COMPLETION_INDEX", &idx)],
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(String::from_utf8_lossy(&r.stdout).contains("Kubernetes Indexed Job (JOB_COMPLETION_INDEX="));
    }
    // A retry after the scenario changed is refused, the folder left as it was.
    std::fs::write(d.join("s.toml"), SCENARIO.replace("max_workers = 40", "max_workers = 41")).unwrap();
    let before = std::fs::read(d.join("sweep/shard-0/results.partial.csv")).unwrap();
    let vars = slurm_task(1, 3);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_env(d, &["sweep", "s.toml", "--shard", "auto", "--out", "sweep/shard-{shard}"], &vars);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("changed since this sweep started"));
    assert_eq!(std::fs::read(d.join("sweep/shard-0/results.partial.csv")).unwrap(), before);
    // No engine's variable: refused before any work, naming what was looked for.
    let r = run_env(d, &["sweep", "s.toml", "--shard", "auto", "--out", "never-{shard}"], &[]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX"), "{err}");
    let r = run_env(d, &["sweep", "s.toml", "--out", "never-{shard}"], &[]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("has {shard} but no --shard was given"));
    assert!(!d.join("never-{shard}").exists() && !d.join("never-0").exists());
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sequence of strings at `node`, or a panic naming what is there instead.
fn strings(node: &YNode) -> Vec<String> {
    match &node.value {
        YValue::Seq(items) => items.iter().map(|n| n.as_str().expect("a string").to_string()).collect(),
        other => panic!("expected a list of strings at line {}, found {}", node.line, other.kind()),
    }
}

fn container(doc: &YNode) -> &YNode {
    let containers = doc
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("spec"))
        .and_then(|s| s.get("containers"))
        .expect("spec.template.spec.containers");
    match &containers.value {
        YValue::Seq(c) => &c[0],
        _ => panic!("containers is not a list"),
    }
}

#[test]
fn deploy_files_are_valid_and_name_the_variable_their_shard_reads() {
    let deploy = repo().join("deploy");
    // Kubernetes: every file parses; the Indexed Job passes --shard auto/N with N = completions,
    // names JOB_COMPLETION_INDEX, and mounts the volume the merge Job mounts.
    let (_, docs) = yaml::read(&deploy.join("kubernetes/sweep.yaml")).unwrap();
    assert_eq!(docs.len(), 1);
    let job = &docs[0];
    assert_eq!(job.get("kind").and_then(YNode::as_str), Some("Job"));
    let spec = job.get("spec").unwrap();
    assert_eq!(spec.get("completionMode").and_then(YNode::as_str), Some("Indexed"));
    let completions = match &spec.get("completions").unwrap().value {
        YValue::Number(n) => n.clone(),
        other => panic!("completions is {}", other.kind()),
    };
    let c = container(job);
    let args = strings(c.get("args").unwrap());
    let at = args.iter().position(|a| a == "--shard").expect("--shard");
    assert_eq!(args[at + 1], format!("auto/{completions}"), "the shard count must equal completions");
    assert!(args.iter().any(|a| a.contains("{shard}")), "{args:?}");
    let env = match &c.get("env").unwrap().value {
        YValue::Seq(e) => {
            e.iter().map(|n| n.get("name").and_then(YNode::as_str).unwrap().to_string()).collect::<Vec<_>>()
        }
        _ => panic!("env is not a list"),
    };
    assert!(env.iter().any(|n| n == "JOB_COMPLETION_INDEX" && AUTO_VARIABLES.contains(&n.as_str())), "{env:?}");
    let (_, merge) = yaml::read(&deploy.join("kubernetes/merge-job.yaml")).unwrap();
    let cmd = strings(container(&merge[0]).get("command").unwrap()).join(" ");
    assert!(cmd.contains("scaler-sim merge /data/sweep/shard-* --out /data/sweep/merged"), "{cmd}");
    let (_, vol) = yaml::read(&deploy.join("kubernetes/volume.yaml")).unwrap();
    assert_eq!(vol[0].get("kind").and_then(YNode::as_str), Some("PersistentVolumeClaim"));
    // AWS Batch: both job definitions parse as JSON; the sweep's command passes the shard
    // parameter, whose default is auto/N, and its tag names the variable.
    let def: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(deploy.join("aws-batch/sweep-job-definition.json")).unwrap())
            .unwrap();
    let cmd: Vec<&str> =
        def["containerProperties"]["command"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(cmd[..2], ["scaler-sim", "sweep"]);
    let at = cmd.iter().position(|a| *a == "--shard").unwrap();
    assert_eq!(cmd[at + 1], "Ref::shard");
    assert!(def["parameters"]["shard"].as_str().unwrap().starts_with("auto/"));
    assert!(def["parameters"]["out"].as_str().unwrap().contains("{shard}"));
    let var = def["tags"]["scaler/shard-index-variable"].as_str().unwrap();
    assert_eq!(var, "AWS_BATCH_JOB_ARRAY_INDEX");
    assert!(AUTO_VARIABLES.contains(&var));
    let merge: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(deploy.join("aws-batch/merge-job-definition.json")).unwrap())
            .unwrap();
    assert!(merge["containerProperties"]["command"][2].as_str().unwrap().contains("scaler-sim merge"));
    // Slurm and the submit scripts are valid shell; the array script reads SLURM_ARRAY_TASK_ID
    // through --shard auto, and names it.
    for f in ["slurm/sweep.sbatch", "slurm/merge.sbatch", "slurm/submit.sh", "kubernetes/run.sh", "aws-batch/submit.sh"]
    {
        let st = Command::new("bash").arg("-n").arg(deploy.join(f)).status().unwrap();
        assert!(st.success(), "{f} is not valid bash");
    }
    let sbatch = std::fs::read_to_string(deploy.join("slurm/sweep.sbatch")).unwrap();
    assert!(
        sbatch.contains("--shard auto ")
            && sbatch.contains("SLURM_ARRAY_TASK_ID")
            && sbatch.contains("#SBATCH --requeue")
    );
}

/// A real Slurm cluster (`scripts/slurm-cluster start`, which `.ci/run` runs): `sinfo`
/// answers. `None`, with the reason, when there is none.
fn slurm_cluster() -> Result<(), String> {
    match Command::new("sinfo").args(["-h", "-o", "%T"]).output() {
        Err(e) => Err(format!("no Slurm on this machine (sinfo: {e})")),
        Ok(o) if !o.status.success() => {
            let err = String::from_utf8_lossy(&o.stderr).into_owned();
            let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
            Err(format!("no Slurm cluster answers (sinfo: {last})"))
        }
        Ok(o) => {
            let states = String::from_utf8_lossy(&o.stdout).into_owned();
            if states.lines().any(|l| matches!(l.trim(), "idle" | "mixed" | "allocated")) {
                Ok(())
            } else {
                Err(format!("the Slurm cluster has no node up (sinfo: {})", states.trim()))
            }
        }
    }
}

#[test]
fn a_sweep_runs_as_a_slurm_array_with_a_dependent_merge() {
    if let Err(why) = slurm_cluster() {
        // In CI the cluster is started by .ci/run, which sets SCALER_SLURM_REQUIRED: a cluster
        // that did not come up is a failure there, not a skip.
        assert!(std::env::var_os("SCALER_SLURM_REQUIRED").is_none(), "SCALER_SLURM_REQUIRED is set but {why}");
        crate::skip_notice(
            &format!("the Slurm job-array sweep ({why}; `scripts/slurm-cluster start` runs one)"),
            "SLURM_CONF",
        );
        return;
    }
    let dir = setup();
    let d = dir.path();
    let r = run_env(d, &["sweep", "s.toml", "--out", "one"], &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // The shipped script: a 1-based array of 4 tasks, then the merge after it (afterok).
    let out = Command::new(repo().join("deploy/slurm/submit.sh"))
        .args(["s.toml", "sweep", "4", "--wait"])
        .current_dir(d)
        .env("SCALER_SIM", bin())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let logs: String = std::fs::read_dir(d.join("sweep/logs"))
        .map(|r| {
            r.flatten()
                .map(|e| {
                    format!("{}:\n{}\n", e.path().display(), std::fs::read_to_string(e.path()).unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(out.status.success(), "{stdout}\n{}\n{logs}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("(4 tasks)") && stdout.contains("merged:"), "{stdout}");
    for i in 0..4 {
        let log = std::fs::read_dir(d.join("sweep/logs"))
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(&format!("_{}.out", i + 1)))
            .expect("a task log");
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(text.contains(&format!("shard {i}/4 from the Slurm array (SLURM_ARRAY_TASK_ID={}", i + 1)), "{text}");
    }
    assert_same_files(&d.join("one"), &d.join("sweep/merged"));
}

#[test]
fn shards_swept_with_set_seed_and_trace_merge_like_one_machine_with_them() {
    let dir = setup();
    let d = dir.path();
    std::fs::copy(d.join("t.csv"), d.join("other.csv")).unwrap();
    let opts = ["--set", "cluster.provision_delay_s=40", "--seed", "9", "--trace", "other.csv"];
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(&opts).map(|s| (*s).to_string()).collect() };
    let args = with(&["sweep", "s.toml", "--out", "one"]);
    let r = run_env(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
    for i in 0..2 {
        let shard = format!("{i}/2");
        let args = with(&["sweep", "s.toml", "--shard", &shard, "--out", "sweep/shard-{shard}"]);
        let r = run_env(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
        assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sweep/shard-0/sweep.json")).unwrap()).unwrap();
    assert_eq!(manifest["overrides"]["seed"], 9);
    assert_eq!(manifest["overrides"]["set"][0], "cluster.provision_delay_s=40");
    assert!(Path::new(manifest["overrides"]["trace"].as_str().unwrap()).is_absolute());
    let r = run_env(d, &["merge", "sweep/shard-0", "sweep/shard-1", "--out", "merged"], &[]);
    assert!(matches!(r.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&r.stderr));
    assert_same_files(&d.join("one"), &d.join("merged"));
    // The overrides changed the sweep: without them the results differ.
    let r = run_env(d, &["sweep", "s.toml", "--out", "plain"], &[]);
    assert!(matches!(r.status.code(), Some(0 | 3)));
    assert_ne!(
        std::fs::read(d.join("plain/results.csv")).unwrap(),
        std::fs::read(d.join("merged/results.csv")).unwrap()
    );
    // A shard swept with other overrides belongs to another sweep.
    let r = run_env(d, &["sweep", "s.toml", "--shard", "1/2", "--out", "odd", "--seed", "9"], &[]);
    assert!(matches!(r.status.code(), Some(0 | 3)));
    let r = run_env(d, &["merge", "sweep/shard-0", "odd", "--out", "never"], &[]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("belongs to another sweep"), "{err}");
}
