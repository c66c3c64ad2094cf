//! `import hpa|keda|kpa`, manifests in scenarios, `export`, and `sweep`'s recommended files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::run_in;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/manifests").join(name)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn ok(r: &std::process::Output) -> String {
    assert!(
        r.status.success(),
        "stderr: {}\nstdout: {}",
        String::from_utf8_lossy(&r.stderr),
        String::from_utf8_lossy(&r.stdout)
    );
    String::from_utf8_lossy(&r.stdout).into_owned()
}

fn fails(r: &std::process::Output) -> String {
    assert_eq!(r.status.code(), Some(2), "expected a refusal; stdout: {}", String::from_utf8_lossy(&r.stdout));
    String::from_utf8_lossy(&r.stderr).into_owned()
}

fn copy_fixture(dir: &Path, name: &str) {
    std::fs::copy(fixture(name), dir.join(name)).unwrap();
}

fn observations(dir: &Path) {
    std::fs::copy(root().join("traces/example_observations.csv"), dir.join("obs.csv")).unwrap();
}

fn replay(dir: &Path, config: &str) -> String {
    ok(&run_in(dir, &["replay", "--config", config, "--observations", "obs.csv"]))
}

#[test]
fn import_hpa_reads_kubectl_output_and_writes_a_table_replay_accepts() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), "hpa.yaml");
    let out = ok(&run_in(dir.path(), &["import", "hpa", "hpa.yaml", "-o", "hpa.toml"]));
    assert!(out.contains("left out 1: status sections"), "{out}");
    assert!(out.contains("wrote hpa.toml ([scaler] table"), "{out}");
    let t = read(dir.path(), "hpa.toml");
    for line in [
        "policy = \"hpa\"",
        "min_workers = 2  # spec.minReplicas",
        "max_workers = 80  # spec.maxReplicas",
        "evaluation_interval = 15  # default:",
        "[scaler.hpa]",
        "metric = \"utilization\"",
        "target_utilization_percent = 70  # spec.metrics[0].resource.target.averageUtilization",
        "stabilizationWindowSeconds = 300",
    ] {
        assert!(t.contains(line), "missing {line:?} in\n{t}");
    }
    let meta: serde_json::Value = serde_json::from_str(&read(dir.path(), "hpa.toml.meta.json")).unwrap();
    assert_eq!(meta["wrote"], "[scaler] table");
    assert_eq!(meta["read"], 1);
    // Same input twice: byte-identical.
    ok(&run_in(dir.path(), &["import", "hpa", "hpa.yaml", "-o", "again.toml"]));
    assert_eq!(read(dir.path(), "again.toml"), t);
    // The table is a configuration, and the manifest itself is one too, with the same decisions.
    observations(dir.path());
    let a = replay(dir.path(), "hpa.toml");
    assert_eq!(a, replay(dir.path(), "hpa.yaml"));
    assert!(a.lines().count() > 10, "{a}");
}

#[test]
fn import_keda_and_kpa_read_their_objects_and_count_what_they_leave_out() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), "keda.yaml");
    copy_fixture(dir.path(), "kpa.yaml");
    let out = ok(&run_in(dir.path(), &["import", "keda", "keda.yaml", "-o", "keda.toml"]));
    assert!(out.contains("notice: trigger \"rabbitmq\""), "{out}");
    let t = read(dir.path(), "keda.toml");
    for line in [
        "policy = \"keda\"",
        "polling_interval = 30  # spec.pollingInterval",
        "fallback_replicas = 4  # spec.fallback.replicas",
        "threshold = 1  # spec.triggers[0].metadata.value",
        "activation_threshold = 0  # spec.triggers[0].metadata.activationValue",
        "max_workers = 80  # default: the pool's hard ceiling",
    ] {
        assert!(t.contains(line), "missing {line:?} in\n{t}");
    }
    let out = ok(&run_in(dir.path(), &["import", "kpa", "kpa.yaml", "-o", "kpa.toml", "--json"]));
    let meta: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(meta["read"], 2, "{meta}");
    assert_eq!(meta["left_out"]["ConfigMap keys the KPA does not read (such as _example)"], 1, "{meta}");
    let t = read(dir.path(), "kpa.toml");
    for line in [
        "stable-window = \"60s\"",
        "\"autoscaling.knative.dev/target\" = \"10\"",
        "container-concurrency = \"1\"  # spec.template.spec.containerConcurrency",
        "evaluation_interval = 2  # default: the KPA's autoscaler tick",
    ] {
        assert!(t.contains(line), "missing {line:?} in\n{t}");
    }
    observations(dir.path());
    assert_eq!(replay(dir.path(), "kpa.toml"), replay(dir.path(), "kpa.yaml"));
    // The ConfigMap and the Service as two files give the same table (but for the header).
    let both = read(dir.path(), "kpa.yaml");
    let (cm, svc) = both.split_once("\n---\n").unwrap();
    write(dir.path(), "cm.yaml", cm);
    write(dir.path(), "svc.yaml", svc);
    ok(&run_in(dir.path(), &["import", "kpa", "cm.yaml", "svc.yaml", "-o", "two.toml"]));
    let body = |t: &str| t.lines().filter(|l| !l.starts_with('#')).map(|l| l.to_string() + "\n").collect::<String>();
    assert_eq!(body(&read(dir.path(), "two.toml")), body(&t));
    assert!(fails(&run_in(dir.path(), &["import", "kpa", "svc.yaml", "svc.yaml", "-o", "dup.toml"]))
        .contains("holds 2 Knative services or revisions"));
}

/// A refusal names the file, the line and column, the field and the rule, and writes nothing.
fn refused(kind: &str, yaml: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.yaml", yaml);
    let err = fails(&run_in(dir.path(), &["import", kind, "m.yaml", "-o", "out.toml"]));
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in: {err}");
    }
    assert!(!dir.path().join("out.toml").exists(), "an output was written");
    assert!(!dir.path().join("out.toml.meta.json").exists(), "a meta file was written");
}

const HPA_HEAD: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n";

#[test]
fn import_refuses_bad_manifests_with_file_line_column_and_rule() {
    refused(
        "hpa",
        &format!("{HPA_HEAD}  maxReplicas: 0\n"),
        &["m.yaml:7:16: spec.maxReplicas: scaler.max_workers = 0: must be >= 1"],
    );
    refused(
        "hpa",
        &format!("{HPA_HEAD}  minReplicas: 5\n  maxReplicas: 3\n"),
        &["m.yaml:7:16: spec.minReplicas: scaler.min_workers = 5: must be <= max_workers (3)"],
    );
    refused(
        "hpa",
        &format!("{HPA_HEAD}  maxReplicas: \"10\"\n"),
        &["m.yaml:7:16: spec.maxReplicas: must be a number, not the string \"10\""],
    );
    refused(
        "hpa",
        &format!(
            "{HPA_HEAD}  maxReplicas: 10\n  metrics:\n  - type: Resource\n    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 50}}}}\n  - type: Resource\n    resource: {{name: memory, target: {{type: Utilization, averageUtilization: 60}}}}\n"
        ),
        &["m.yaml:9:5: spec.metrics: has 2 metrics: the simulator observes one"],
    );
    refused(
        "hpa",
        &format!(
            "{HPA_HEAD}  maxReplicas: 10\n  metrics:\n  - type: External\n    external:\n      metric: {{name: queue_depth}}\n      target:\n        type: Value\n        value: \"30\"\n"
        ),
        &["m.yaml:13:15: spec.metrics[0].external.target.type: \"Value\": the hpa policy models Pods, Object and External metrics as the tasks in the system per worker"],
    );
    refused(
        "hpa",
        &format!(
            "{HPA_HEAD}  maxReplicas: 10\n  behavior:\n    scaleUp:\n      policies:\n      - {{type: Pods, value: 0, periodSeconds: 15}}\n"
        ),
        &["m.yaml:9:5: spec.behavior: scaler.hpa.behavior.scaleUp.policies[0].value = 0: must be"],
    );
    refused("hpa", "apiVersion: autoscaling/v2\nkind: [1,\n", &["m.yaml:", "invalid YAML"]);
    refused(
        "hpa",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        &["m.yaml: holds no object of this kind: a HorizontalPodAutoscaler"],
    );
    refused(
        "keda",
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: w}\nspec:\n  scaleTargetRef: {name: w}\n  triggers:\n  - type: kafka\n    metadata: {lagThreshold: \"5\"}\n  - type: cron\n    metadata: {desiredReplicas: \"3\"}\n",
        &["m.yaml:7:5: spec.triggers: has 2 triggers"],
    );
    refused(
        "keda",
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: w}\nspec:\n  scaleTargetRef: {name: w}\n  triggers:\n  - type: redis\n    metadata: {listLength: \"five\"}\n",
        &["m.yaml:8:28: spec.triggers[0].metadata.listLength: \"five\" is not a number"],
    );
    refused(
        "keda",
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: w}\nspec:\n  scaleTargetRef: {name: w}\n  minReplicaCount: 5\n  maxReplicaCount: 2\n  triggers:\n  - type: redis\n    metadata: {listLength: \"5\"}\n",
        &["m.yaml:", "minReplicaCount", "scaler.keda"],
    );
    refused(
        "kpa",
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: s}\nspec:\n  template:\n    metadata:\n      annotations:\n        autoscaling.knative.dev/targte: \"10\"\n",
        &["m.yaml:8:41: spec.template.metadata.annotations[\"autoscaling.knative.dev/targte\"]: is not an autoscaling annotation the KPA reads"],
    );
    refused(
        "kpa",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-autoscaler}\ndata:\n  stable-window: \"sixty\"\n",
        &["m.yaml:5:18: data[\"stable-window\"]: scaler.kpa.stable-window"],
    );
    refused(
        "kpa",
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: s}\nspec:\n  template:\n    metadata:\n      annotations:\n        autoscaling.knative.dev/metric: \"rps\"\n",
        &["m.yaml:8:41:", "rps needs the requests arrived each second"],
    );
    // Options that make no sense for a manifest.
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), "hpa.yaml");
    let err = fails(&run_in(dir.path(), &["import", "hpa", "hpa.yaml", "-o", "o.toml", "--counts"]));
    assert!(err.contains("--counts does not apply"), "{err}");
    assert!(!dir.path().join("o.toml").exists());
}

#[test]
fn import_quantities_tolerances_v1_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "q.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: autoscaling/v2\n  kind: HorizontalPodAutoscaler\n  metadata: {name: q}\n  spec:\n    maxReplicas: 10\n    metrics:\n    - type: External\n      external:\n        metric: {name: tasks}\n        target: {type: AverageValue, averageValue: 1500m}\n    behavior:\n      scaleUp:\n        tolerance: 50m\n",
    );
    ok(&run_in(dir.path(), &["import", "hpa", "q.yaml", "-o", "q.toml"]));
    let t = read(dir.path(), "q.toml");
    assert!(t.contains("metric = \"queue\""), "{t}");
    assert!(t.contains("target_average_value = 1.5  # spec.metrics[0].external.target.averageValue"), "{t}");
    assert!(t.contains("tolerance_up = 0.05  # spec.behavior.scaleUp.tolerance"), "{t}");
    write(
        dir.path(),
        "v1.yaml",
        "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec:\n  maxReplicas: 4\n  targetCPUUtilizationPercentage: 55\n",
    );
    ok(&run_in(dir.path(), &["import", "hpa", "v1.yaml", "-o", "v1.toml"]));
    let t = read(dir.path(), "v1.toml");
    assert!(t.contains("min_workers = 1  # spec.minReplicas (default 1)"), "{t}");
    assert!(t.contains("target_utilization_percent = 55"), "{t}");
}

/// Each exportable policy: export → import → the same decisions on the example observations.
#[test]
fn export_then_import_gives_the_same_decisions_for_every_policy() {
    let dir = tempfile::tempdir().unwrap();
    observations(dir.path());
    for policy in ["hpa", "keda", "kpa", "step", "threshold", "queue", "predictive"] {
        let original = format!("{policy}.toml");
        std::fs::copy(root().join("sims/policies").join(&original), dir.path().join(&original)).unwrap();
        let want = replay(dir.path(), &original);
        // toml, every policy.
        let toml_out = format!("{policy}-exported.toml");
        ok(&run_in(dir.path(), &["export", "toml", &original, "-o", &toml_out]));
        assert_eq!(replay(dir.path(), &toml_out), want, "{policy}: export toml");
        // And the system's own form, read back directly and through import.
        let form = match policy {
            "hpa" | "keda" | "kpa" => policy,
            _ => continue,
        };
        let yaml = format!("{policy}-exported.yaml");
        ok(&run_in(dir.path(), &["export", form, &original, "-o", &yaml]));
        assert_eq!(replay(dir.path(), &yaml), want, "{policy}: export {form}, replay --config the YAML");
        let imported = format!("{policy}-imported.toml");
        ok(&run_in(dir.path(), &["import", form, &yaml, "-o", &imported]));
        assert_eq!(replay(dir.path(), &imported), want, "{policy}: export {form}, import {form}");
        // Exporting the imported table again gives the same YAML, byte for byte.
        let again = ok(&run_in(dir.path(), &["export", form, &imported]));
        assert_eq!(again, read(dir.path(), &yaml), "{policy}: export is not stable");
    }
}

#[test]
fn export_forms_parse_and_refuse_policies_without_them() {
    let dir = tempfile::tempdir().unwrap();
    for p in ["step", "threshold", "hpa"] {
        std::fs::copy(root().join("sims/policies").join(format!("{p}.toml")), dir.path().join(format!("{p}.toml")))
            .unwrap();
    }
    let json = ok(&run_in(dir.path(), &["export", "aws-step", "step.toml"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let out = &v["ScaleOutPolicy"]["StepScalingPolicyConfiguration"];
    assert_eq!(v["ScaleOutPolicy"]["PolicyType"], "StepScaling");
    assert_eq!(out["AdjustmentType"], "ChangeInCapacity");
    assert_eq!(out["Cooldown"], 120);
    assert_eq!(out["StepAdjustments"][1]["MetricIntervalLowerBound"], 10);
    assert_eq!(out["StepAdjustments"][1]["MetricIntervalUpperBound"], 20);
    assert_eq!(out["StepAdjustments"][2]["ScalingAdjustment"], 4);
    assert!(out["StepAdjustments"][2].get("MetricIntervalUpperBound").is_none());
    let inn = &v["ScaleInPolicy"]["StepScalingPolicyConfiguration"];
    assert_eq!(inn["StepAdjustments"][0]["MetricIntervalLowerBound"], -10);
    assert_eq!(v["ScaleOutAlarm"]["Threshold"], 75);
    assert_eq!(v["ScaleOutAlarm"]["ComparisonOperator"], "GreaterThanThreshold");
    assert_eq!(v["ScaleInAlarm"]["Threshold"], 30);
    assert_eq!(v["ScaleInAlarm"]["ComparisonOperator"], "LessThanThreshold");
    let py = ok(&run_in(dir.path(), &["export", "python", "threshold.toml"]));
    assert!(py.contains("autoscaler = AutoScaler(\n    worker_registry,\n    task_distributor,\n    cloud_manager,\n    min_workers=2,\n    max_workers=80,\n    scale_up_threshold=0.8,\n    scale_down_threshold=0.3,\n    cooldown_period=300,\n    metrics_window=300,\n)"), "{py}");
    let err = fails(&run_in(dir.path(), &["export", "hpa", "step.toml", "-o", "x.yaml"]));
    assert!(
        err.contains("export hpa: is written from policy = \"hpa\"")
            && err.contains("the step policy has: aws-step, toml"),
        "{err}"
    );
    assert!(!dir.path().join("x.yaml").exists());
    let err = fails(&run_in(dir.path(), &["export", "python", "hpa.toml"]));
    assert!(err.contains("the hpa policy has: hpa, toml"), "{err}");
}

#[test]
fn a_scenario_may_point_at_a_manifest_and_set_only_what_it_does_not() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path(), "hpa.yaml");
    std::fs::create_dir(dir.path().join("s")).unwrap();
    std::fs::rename(dir.path().join("hpa.yaml"), dir.path().join("s/hpa.yaml")).unwrap();
    let trace = "arrival_s,duration_s\n0,30\n1,30\n2,30\n5,30\n9,30\n30,20\n31,20\n60,10\n";
    write(&dir.path().join("s"), "t.csv", trace);
    let scenario = "[trace]\npath = \"t.csv\"\n\n[cluster]\nprovision_delay_s = 10\n\n[scaler]\nmanifest = \"hpa.yaml\"\nevaluation_interval = 30\n";
    write(&dir.path().join("s"), "m.toml", scenario);
    let out = ok(&run_in(dir.path(), &["run", "s/m.toml", "--out", "o1"]));
    assert!(out.contains("seed"), "{out}");
    // A key the manifest sets too is refused, naming both places.
    write(&dir.path().join("s"), "c.toml", &format!("{scenario}max_workers = 9\n"));
    let err = fails(&run_in(dir.path(), &["run", "s/c.toml", "--out", "o2"]));
    assert!(err.contains("s/c.toml:10:1: scaler.max_workers is set both here and by the manifest"), "{err}");
    assert!(err.contains("hpa.yaml:41:16 (spec.maxReplicas)"), "{err}");
    assert!(!dir.path().join("o2").exists());
    // --set overrides the manifest (what a sweep does).
    ok(&run_in(dir.path(), &["run", "s/m.toml", "--out", "o3", "--set", "scaler.min_workers=3"]));
    let t = read(&dir.path().join("o3"), "timeline.csv");
    assert!(t.lines().nth(1).is_some_and(|l| l.contains(",3,") || l.contains(",3")), "{}", &t[..t.len().min(300)]);
    // A bad value in the manifest is refused at its line and column, through the scenario.
    let bad = read(&dir.path().join("s"), "hpa.yaml").replace("averageUtilization: 70", "averageUtilization: 0");
    write(&dir.path().join("s"), "hpa.yaml", &bad);
    let err = fails(&run_in(dir.path(), &["run", "s/m.toml", "--out", "o4"]));
    assert!(err.contains("hpa.yaml:46:29: spec.metrics[0].resource.target.averageUtilization"), "{err}");
    // A missing manifest names the scenario's key.
    write(&dir.path().join("s"), "n.toml", &scenario.replace("hpa.yaml", "nope.yaml"));
    let err = fails(&run_in(dir.path(), &["run", "s/n.toml", "--out", "o5"]));
    assert!(err.contains("s/n.toml:8:12: scaler.manifest = \"nope.yaml\""), "{err}");
    write(&dir.path().join("s"), "z.toml", &scenario.replace("hpa.yaml", "/dev/zero"));
    let err = fails(&run_in(dir.path(), &["run", "s/z.toml", "--out", "o6"]));
    assert!(err.contains("s/z.toml:8:12: scaler.manifest = \"/dev/zero\": is not a regular file"), "{err}");
}

fn sweep_trace() -> String {
    let mut t = String::from("arrival_s,duration_s\n");
    let mut x: u64 = 7;
    let mut at = 0u64;
    for i in 0..1200u64 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        at += if (i / 200) % 2 == 0 { 2500 } else { 500 };
        t.push_str(&format!("{}.{:03},{}\n", at / 1000, at % 1000, 3 + (x >> 40) % 20));
    }
    t
}

#[test]
fn sweep_writes_a_recommended_scenario_that_reproduces_its_figures_and_the_policy_form() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("in")).unwrap();
    write(&dir.path().join("in"), "t.csv", &sweep_trace());
    write(
        &dir.path().join("in"),
        "s.toml",
        "[trace]\npath = \"t.csv\"\nseed = 5\n[cluster]\nprovision_delay_s = 20\nslo_wait_s = 10\n\
         [scaler]\npolicy = \"hpa\"\nmin_workers = 1\nmax_workers = 40\nmetrics_window = 30\nevaluation_interval = 15\n\
         [scaler.hpa]\ntarget_utilization_percent = 70\n\
         [sweep]\nobjective = \"minimize cost subject to wait_p95_s <= 30\"\n\
         scaler.hpa.target_utilization_percent = [50, 80]\ncluster.provision_delay_s = [10, 30]\n",
    );
    ok(&run_in(dir.path(), &["sweep", "in/s.toml", "--out", "sw"]));
    let sw = dir.path().join("sw");
    let rec: serde_json::Value = serde_json::from_str(&read(&sw, "recommendation.json")).unwrap();
    assert!(rec["recommended"].is_object(), "{rec}");
    let t = read(&sw, "recommended.toml");
    assert!(!t.lines().any(|l| l.starts_with("[sweep]")), "{t}");
    assert!(t.contains("seed = 5"), "{t}");
    // Run from the output folder: the trace path resolves from there.
    ok(&run_in(&sw, &["run", "recommended.toml", "--out", "r"]));
    let summary: serde_json::Value = serde_json::from_str(&read(&sw.join("r"), "summary.json")).unwrap();
    let metrics = rec["recommended"]["metrics"].as_object().unwrap();
    assert!(metrics.len() > 10);
    for (k, v) in metrics {
        assert_eq!(summary[k].as_f64(), v.as_f64(), "{k}: run recommended.toml differs from recommendation.json");
    }
    // The swept values are the recommended ones.
    let params = rec["recommended"]["params"].as_object().unwrap();
    let pct = params["scaler.hpa.target_utilization_percent"].as_str().unwrap();
    assert!(t.contains(&format!("target_utilization_percent = {pct}")), "{t}");
    let delay = params["cluster.provision_delay_s"].as_str().unwrap();
    assert!(t.contains(&format!("provision_delay_s = {delay}\n")), "{t}");
    // The HPA form reads back to the same decisions as the scenario.
    assert!(t.contains("# Its hpa form: recommended-hpa.yaml."), "{t}");
    let yaml = read(&sw, "recommended-hpa.yaml");
    assert!(yaml.contains("kind: HorizontalPodAutoscaler"), "{yaml}");
    observations(&sw);
    assert_eq!(replay(&sw, "recommended-hpa.yaml"), replay(&sw, "recommended.toml"));
    assert!(!sw.join("recommended.py").exists() && !sw.join("recommended-keda.yaml").exists());
}

#[test]
fn a_sweep_over_a_manifest_scenario_overrides_the_manifest_values() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.csv", &sweep_trace());
    std::fs::copy(root().join("sims/policies/web-hpa.yaml"), dir.path().join("web-hpa.yaml")).unwrap();
    write(
        dir.path(),
        "ms.toml",
        "[trace]\npath = \"t.csv\"\n[cluster]\nprovision_delay_s = 20\n[scaler]\nmanifest = \"web-hpa.yaml\"\npolicy = \"hpa\"\n\
         [sweep]\nobjective = \"minimize cost subject to wait_p95_s <= 30\"\n\
         scaler.hpa.target_utilization_percent = [50, 80]\nscaler.min_workers = [1, 3]\n",
    );
    ok(&run_in(dir.path(), &["sweep", "ms.toml", "--out", "sw"]));
    let results = read(&dir.path().join("sw"), "results.csv");
    let waits: Vec<&str> = results.lines().skip(1).map(|l| l.split(',').nth(5).unwrap()).collect();
    assert_eq!(waits.len(), 4, "{results}");
    assert_ne!(waits[0], waits[2], "target_utilization_percent did not apply:\n{results}");
    assert_ne!(waits[0], waits[1], "min_workers did not apply:\n{results}");
    let rec: serde_json::Value = serde_json::from_str(&read(&dir.path().join("sw"), "recommendation.json")).unwrap();
    assert_eq!(rec["baseline"]["params"]["scaler.hpa.target_utilization_percent"], "65", "{rec}");
    // The recommended HPA replaces the manifest: its name, namespace and target are kept.
    let rec_hpa = read(&dir.path().join("sw"), "recommended-hpa.yaml");
    assert!(rec_hpa.contains("metadata:\n  name: web\n  namespace: shop\n"), "{rec_hpa}");
    assert!(
        rec_hpa.contains("scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n"),
        "{rec_hpa}"
    );
    assert!(!rec_hpa.contains("my-app"), "{rec_hpa}");
    let r = run_in(dir.path(), &["export", "hpa", "web-hpa.yaml"]);
    assert!(String::from_utf8_lossy(&r.stdout).contains("  name: web\n  namespace: shop\n"));
    // Without `policy` beside `manifest`, the manifest's policy is the one the axes apply to.
    let text = std::fs::read_to_string(dir.path().join("ms.toml")).unwrap().replace("policy = \"hpa\"\n", "");
    write(dir.path(), "ms.toml", &text);
    ok(&run_in(dir.path(), &["sweep", "ms.toml", "--out", "sw2"]));
    assert_eq!(read(&dir.path().join("sw2"), "results.csv"), results);
    // The manifest is part of the scenario: resuming after editing it is refused.
    let m = std::fs::read_to_string(dir.path().join("web-hpa.yaml")).unwrap();
    let edited = m.replacen("maxReplicas: 30", "maxReplicas: 31", 1);
    assert_ne!(edited, m);
    write(dir.path(), "web-hpa.yaml", &edited);
    let r = run_in(dir.path(), &["sweep", "ms.toml", "--out", "sw2", "--resume"]);
    let e = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{e}");
    assert!(
        e.contains("ms.toml changed since this sweep started") && e.contains("covering the manifest it names"),
        "{e}"
    );
}

#[test]
fn hostile_manifests_are_refused_without_exhausting_memory_or_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = if i == 1 { "a".to_string() } else { format!("b{}", i - 1) };
        laughs.push_str(&format!("b{i}: &b{i} [{}]\n", vec![format!("*{prev}"); 10].join(", ")));
    }
    let cases: Vec<(&str, String)> = vec![
        ("deep.yaml", "[".repeat(100_000)),
        ("laughs.yaml", laughs),
        ("big.yaml", format!("# {}\n", "x".repeat(5 << 20))),
        ("nan.yaml", format!("{HPA_HEAD}  maxReplicas: .nan\n")),
        ("bin.yaml", "\u{0}\u{1}kind: \u{7f}".to_string()),
    ];
    for (name, text) in &cases {
        write(dir.path(), name, text);
    }
    std::fs::write(dir.path().join("bytes.yaml"), b"\xff\xfe\x00kind").unwrap();
    std::fs::create_dir(dir.path().join("d.yaml")).unwrap();
    let expect = [
        ("deep.yaml", "deep.yaml:1:"),
        ("laughs.yaml", "alias expansion exceeded"),
        ("big.yaml", "big.yaml: is larger than 4 MiB"),
        ("nan.yaml", "nan.yaml:7:16: spec.maxReplicas: scaler.max_workers = .nan"),
        ("bin.yaml", "bin.yaml"),
        ("bytes.yaml", "bytes.yaml: is not UTF-8 text"),
        ("d.yaml", "d.yaml: is a directory"),
    ];
    for (name, want) in expect {
        let r = crate::run_limited(
            dir.path(),
            &["import", "hpa", name, "-o", "out.toml"],
            512,
            std::time::Duration::from_secs(60),
        );
        let err = fails(&r);
        assert!(err.contains(want), "{name}: expected {want:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!dir.path().join("out.toml").exists());
        // The same through replay --config.
        let r = run_in(dir.path(), &["replay", "--config", name, "--observations", "none.csv"]);
        assert!(fails(&r).contains(name));
    }
}

#[test]
fn target_tracking_and_arc_export_what_aws_and_actions_runner_controller_read() {
    let dir = tempfile::tempdir().unwrap();
    let tt = root().join("sims/policies/target_tracking.toml");
    let r = run_in(dir.path(), &["export", "aws-target-tracking", tt.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let p = &v["PutScalingPolicy"];
    assert_eq!(p["PolicyType"], "TargetTrackingScaling");
    let c = &p["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(
        (c["TargetValue"].as_f64(), c["ScaleOutCooldown"].as_f64(), c["DisableScaleIn"].as_bool()),
        (Some(70.0), Some(300.0), Some(false))
    );
    assert_eq!(v["RegisterScalableTarget"]["MaxCapacity"], 80);
    assert!(!v["_comment"].as_str().unwrap().contains("WARNING"));
    // Alarms AWS cannot be given are said so, not silently dropped.
    let text = std::fs::read_to_string(&tt).unwrap().replace("scale_out_datapoints = 3", "scale_out_datapoints = 5");
    write(dir.path(), "tt5.toml", &text);
    let r = run_in(dir.path(), &["export", "aws-target-tracking", "tt5.toml"]);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(v["_comment"].as_str().unwrap().contains("WARNING: this setting models alarms of 5 datapoints"), "{v}");
    let backlog = text.replace("metric = \"utilization\"", "metric = \"backlog_per_worker\"");
    write(dir.path(), "ttb.toml", &backlog);
    let r = run_in(dir.path(), &["export", "aws-target-tracking", "ttb.toml"]);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let c = &v["PutScalingPolicy"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(c["CustomizedMetricSpecification"]["MetricName"], "BacklogPerTask", "{v}");
    // ARC: the scale set's Helm values.
    let arc = root().join("sims/policies/arc.toml");
    let r = run_in(dir.path(), &["export", "arc", arc.to_str().unwrap(), "-o", "values.yaml"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let y = read(dir.path(), "values.yaml");
    assert!(y.contains("\nminRunners: 2\nmaxRunners: 80\n") && y.contains("githubConfigUrl:"), "{y}");
    // Each from its own policy only.
    let r = run_in(dir.path(), &["export", "arc", tt.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("the target_tracking policy has: aws-target-tracking, toml"));
}

#[test]
fn the_tuning_guides_hpa_example_recommends_what_the_guide_says() {
    // docs/tuning.md, "From a Prometheus export to a pasted HPA manifest", step 4 and 5.
    let dir = tempfile::tempdir().unwrap();
    let sc = root().join("sims/web_hpa_tuning.toml");
    let r = run_in(dir.path(), &["sweep", sc.to_str().unwrap(), "--out", "w", "--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["recommended"]["setting"], 20, "{v}");
    let hpa = read(&dir.path().join("w"), "recommended-hpa.yaml");
    assert!(hpa.contains("  name: web\n  namespace: shop\n") && hpa.contains("  minReplicas: 4\n"), "{hpa}");
    assert!(hpa.contains("        averageUtilization: 75\n"), "{hpa}");
    // Some settings break the constraint: it binds.
    let results = read(&dir.path().join("w"), "results.csv");
    let header: Vec<&str> = results.lines().next().unwrap().split(',').collect();
    let p99 = header.iter().position(|h| *h == "wait_p99_s").unwrap();
    let over =
        results.lines().skip(1).filter(|l| l.split(',').nth(p99).unwrap().parse::<f64>().unwrap() > 0.25).count();
    assert!(over > 0 && over < 27, "{over} of 27 settings break the constraint");
}

#[test]
fn a_behavior_block_pasted_as_yaml_reads_as_the_inline_table() {
    let dir = tempfile::tempdir().unwrap();
    let head = "[scaler]\npolicy = \"hpa\"\nmin_workers = 1\nmax_workers = 20\nevaluation_interval = 15\nmetrics_window = 60\n[scaler.hpa]\ntarget_utilization_percent = 60\n";
    let inline = format!(
        "{head}behavior = {{ scaleDown = {{ stabilizationWindowSeconds = 30, policies = [{{ type = \"Pods\", value = 1, periodSeconds = 60 }}] }}, scaleUp = {{ selectPolicy = \"Min\", policies = [{{ type = \"Pods\", value = 2, periodSeconds = 15 }}, {{ type = \"Percent\", value = 50, periodSeconds = 15 }}] }} }}\n"
    );
    // As `kubectl get hpa -o yaml` prints it, with its key, pasted between triple quotes.
    let pasted = format!(
        "{head}behavior = \"\"\"\nbehavior:\n  scaleDown:\n    stabilizationWindowSeconds: 30\n    policies:\n    - type: Pods\n      value: 1\n      periodSeconds: 60\n  scaleUp:\n    selectPolicy: Min\n    policies:\n    - {{type: Pods, value: 2, periodSeconds: 15}}\n    - {{type: Percent, value: 50, periodSeconds: 15}}\n\"\"\"\n"
    );
    write(dir.path(), "inline.toml", &inline);
    write(dir.path(), "pasted.toml", &pasted);
    write(dir.path(), "bare.toml", &pasted.replace("behavior:\n  scaleDown", "scaleDown").replace("\n  ", "\n"));
    let obs = root().join("traces/example_observations.csv");
    let mut outs = Vec::new();
    for cfg in ["inline.toml", "pasted.toml", "bare.toml"] {
        let r = run_in(dir.path(), &["replay", "--config", cfg, "--observations", obs.to_str().unwrap()]);
        assert!(r.status.success(), "{cfg}: {}", String::from_utf8_lossy(&r.stderr));
        outs.push(r.stdout);
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
    // (and the behavior matters on these observations: without it the decisions differ)
    write(dir.path(), "none.toml", head);
    let r = run_in(dir.path(), &["replay", "--config", "none.toml", "--observations", obs.to_str().unwrap()]);
    assert_ne!(r.stdout, outs[0]);
    // A broken block is located: the TOML string's place, then the line inside the block.
    write(dir.path(), "bad.toml", &pasted.replace("value: 1\n", "value: [1\n"));
    let r = run_in(dir.path(), &["replay", "--config", "bad.toml", "--observations", obs.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{e}");
    assert!(e.contains("bad.toml:9:12: scaler.hpa.behavior (its YAML, by the block's own lines)"), "{e}");
}

#[test]
fn review_findings_stay_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let prom = root().join("traces/prometheus_web_requests_1d.json");
    let prom = prom.to_str().unwrap();
    // The meta file must not overwrite an input, nor be a folder or a pipe; nothing is written.
    std::fs::copy(prom, p.join("q.csv.meta.json")).unwrap();
    let r = run_in(p, &["import", "prometheus", "q.csv.meta.json", "-o", "q.csv"]);
    assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!p.join("q.csv").exists());
    assert_eq!(std::fs::read(p.join("q.csv.meta.json")).unwrap(), std::fs::read(prom).unwrap());
    std::fs::create_dir(p.join("mm.csv.meta.json")).unwrap();
    let r = run_in(p, &["import", "prometheus", prom, "-o", "mm.csv"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(!p.join("mm.csv").exists(), "nothing written when the meta file cannot be");
    let fifo = std::process::Command::new("mkfifo").arg(p.join("ff.csv.meta.json")).status();
    if fifo.is_ok_and(|s| s.success()) {
        let r = crate::run_limited(p, &["import", "prometheus", prom, "-o", "ff.csv"], 1024, Duration::from_secs(60));
        assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(!p.join("ff.csv").exists());
        // A pipe as a trace's meta file does not block a run: the origin is just unknown.
        std::fs::copy(root().join("traces/web_requests_1d_rates.csv"), p.join("t.csv")).unwrap();
        std::process::Command::new("mkfifo").arg(p.join("t.csv.meta.json")).status().unwrap();
        write(p, "s.toml", "[trace]\npath = \"t.csv\"\nduration_s = 1\n[scaler]\nmax_workers = 5\n");
        let r = crate::run_limited(p, &["run", "s.toml", "--out", "o"], 2048, Duration::from_secs(120));
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    // `-o -` reads a pipe once.
    let mut child = std::process::Command::new(crate::bin())
        .args(["import", "prometheus", "/dev/stdin", "-o", "-"])
        .current_dir(p)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(prom).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &data));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, std::fs::read(root().join("traces/web_requests_1d_rates.csv")).unwrap());
    // A UTF-8 byte-order mark before a JSON response is skipped, as before CSV and YAML.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(std::fs::read(prom).unwrap());
    std::fs::write(p.join("bom.json"), bom).unwrap();
    ok(&run_in(p, &["import", "prometheus", "bom.json", "-o", "bom.csv"]));
    assert_eq!(read(p, "bom.csv"), std::fs::read_to_string(root().join("traces/web_requests_1d_rates.csv")).unwrap());
    // A standard output that cannot be written is an error (exit 2), never a panic.
    let hpa = root().join("sims/policies/hpa.toml");
    let full = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("\"{}\" export hpa \"{}\" > /dev/full", crate::bin().display(), hpa.display()))
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(2), "{}", String::from_utf8_lossy(&full.stderr));
    assert!(String::from_utf8_lossy(&full.stderr).contains("<stdout>: cannot write"));
    // KEDA pauses as KEDA reads its annotation: strconv.ParseBool, and a non-boolean pauses too.
    let keda = std::fs::read_to_string(fixture("keda.yaml")).unwrap();
    for (value, paused) in [("\"1\"", true), ("\"T\"", true), ("\"yes\"", true), ("\"false\"", false), ("\"0\"", false)]
    {
        let text = keda.replacen(
            "  namespace: jobs\n",
            &format!("  namespace: jobs\n  annotations:\n    autoscaling.keda.sh/paused: {value}\n"),
            1,
        );
        write(p, "k.yaml", &text);
        ok(&run_in(p, &["import", "keda", "k.yaml", "-o", "k.toml"]));
        assert!(read(p, "k.toml").contains(&format!("paused = {paused}")), "{value}: {}", read(p, "k.toml"));
    }
    // An empty label is refused, not read as no filter.
    let r = run_in(p, &["import", "github-jobs", "bom.json", "--labels", ",,", "-o", "j.csv"]);
    assert!(r.status.code() == Some(2) && String::from_utf8_lossy(&r.stderr).contains("a label is empty"));
    // A misspelt field is refused, not defaulted.
    let hpa_yaml = std::fs::read_to_string(fixture("hpa.yaml")).unwrap();
    write(p, "h.yaml", &hpa_yaml.replacen("minReplicas:", "minReplica:", 1));
    let r = run_in(p, &["import", "hpa", "h.yaml", "-o", "h.toml"]);
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(
        r.status.code() == Some(2)
            && e.contains("spec.minReplica: is not a field of spec (did you mean `minReplicas`?)"),
        "{e}"
    );
    assert!(!p.join("h.toml").exists());
}
