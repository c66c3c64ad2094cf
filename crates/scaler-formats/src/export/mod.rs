//! `scaler-sim export`: a `[scaler]` configuration written in the format its system reads.
//!
//! Every form is written deterministically (the same configuration gives the same bytes).
//! The Kubernetes forms (`hpa`, `keda`, `kpa`) read back with `import` (or `replay --config
//! X.yaml`) to the same configuration: what the system has no field for (the simulator's
//! `evaluation_interval`, `metrics_window`, ...) is written as `scaler-sim.dev/KEY`
//! annotations, which the cluster ignores, and each export is checked by reading it back
//! before it is returned.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{InputError, SimError};
use crate::manifest::{self, toml_key, toml_string, toml_text, System, Workload, SCALER_ANNOTATION};
use scaler_core::{ConfigValue, PolicyKind, ScalerConfig};

mod yamlw;

use yamlw::{Commented, Y};

/// The formats `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Kubernetes `autoscaling/v2` HorizontalPodAutoscaler (YAML), from `hpa`.
    Hpa,
    /// AWS Application Auto Scaling `PutScalingPolicy` request (JSON), from `step`.
    AwsStep,
    /// KEDA `ScaledObject` (YAML), from `keda` or `queue`.
    Keda,
    /// Knative revision annotations and `config-autoscaler` (YAML), from `kpa`.
    Kpa,
    /// AWS Application Auto Scaling `PutScalingPolicy` request of `PolicyType:
    /// TargetTrackingScaling` (JSON), from `target_tracking`.
    AwsTargetTracking,
    /// Helm values of actions-runner-controller's `gha-runner-scale-set` chart (YAML), from `arc`.
    Arc,
    /// The seed's `AutoScaler(...)` keyword arguments (Python), from `threshold`.
    Python,
    /// The `[scaler]` table itself (TOML), from any policy.
    Toml,
}

impl ExportFormat {
    /// Every format with its command-line name.
    pub const ALL: &'static [(&'static str, ExportFormat)] = &[
        ("hpa", ExportFormat::Hpa),
        ("aws-step", ExportFormat::AwsStep),
        ("aws-target-tracking", ExportFormat::AwsTargetTracking),
        ("arc", ExportFormat::Arc),
        ("keda", ExportFormat::Keda),
        ("kpa", ExportFormat::Kpa),
        ("python", ExportFormat::Python),
        ("toml", ExportFormat::Toml),
    ];

    /// The format named `name` on the command line.
    #[must_use]
    pub fn parse(name: &str) -> Option<ExportFormat> {
        ExportFormat::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The command-line name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        ExportFormat::ALL.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }

    /// The policy this format is written from (`None`: any).
    #[must_use]
    pub fn policy(self) -> Option<&'static str> {
        match self {
            ExportFormat::Hpa => Some("hpa"),
            ExportFormat::AwsStep => Some("step"),
            ExportFormat::AwsTargetTracking => Some("target_tracking"),
            ExportFormat::Arc => Some("arc"),
            ExportFormat::Keda => Some("keda"),
            ExportFormat::Kpa => Some("kpa"),
            ExportFormat::Python => Some("threshold"),
            ExportFormat::Toml => None,
        }
    }

    /// The formats a policy has, `toml` last.
    #[must_use]
    pub fn of_policy(policy: &str) -> Vec<ExportFormat> {
        let mut v: Vec<ExportFormat> =
            ExportFormat::ALL.iter().map(|(_, f)| *f).filter(|f| f.policy() == Some(policy)).collect();
        v.push(ExportFormat::Toml);
        v
    }

    /// The file name `sweep` writes this form of its recommendation to.
    #[must_use]
    pub fn recommended_file(self) -> &'static str {
        match self {
            ExportFormat::Hpa => "recommended-hpa.yaml",
            ExportFormat::AwsStep => "recommended-aws-step.json",
            ExportFormat::AwsTargetTracking => "recommended-aws-target-tracking.json",
            ExportFormat::Arc => "recommended-arc.yaml",
            ExportFormat::Keda => "recommended-keda.yaml",
            ExportFormat::Kpa => "recommended-kpa.yaml",
            ExportFormat::Python => "recommended.py",
            ExportFormat::Toml => "recommended.toml",
        }
    }
}

/// `config` written as `format`; refused (naming the policy and the formats it has) when
/// the configuration's policy has no such form.
pub fn export(format: ExportFormat, config: &ScalerConfig) -> Result<String, SimError> {
    export_for(format, config, &Workload::default())
}

/// [`export`] for the autoscaler `workload` names (a manifest's name, namespace and
/// `scaleTargetRef`, [`crate::manifest::Workload`]): the Kubernetes forms carry them instead of
/// placeholders to edit, so the file applies in the manifest's place.
pub fn export_for(format: ExportFormat, config: &ScalerConfig, workload: &Workload) -> Result<String, SimError> {
    let policy = config.policy().as_str();
    if let Some(p) = format.policy() {
        if p != policy {
            let has: Vec<&str> = ExportFormat::of_policy(policy).iter().map(|f| f.as_str()).collect();
            let why = if format == ExportFormat::Keda && policy == "queue" {
                " (the queue policy's drain-time sizing has no exact ScaledObject form; use policy = \"keda\")"
            } else {
                ""
            };
            return Err(refusal(format!(
                "export {}: is written from policy = \"{p}\", and this configuration's policy is \"{policy}\"{why}; the {policy} policy has: {}",
                format.as_str(),
                has.join(", ")
            )));
        }
    }
    match format {
        ExportFormat::Toml => Ok(toml_table(config)),
        ExportFormat::Hpa => kubernetes(config, System::Hpa, hpa_yaml, workload),
        ExportFormat::Keda => kubernetes(config, System::Keda, keda_yaml, workload),
        ExportFormat::Kpa => kubernetes(config, System::Kpa, kpa_yaml, workload),
        ExportFormat::AwsStep => Ok(aws_step(config)),
        ExportFormat::AwsTargetTracking => Ok(aws_target_tracking(config)),
        ExportFormat::Arc => Ok(arc_values(config)),
        ExportFormat::Python => Ok(python(config)),
    }
}

fn refusal(msg: String) -> SimError {
    InputError::file(Path::new("export"), msg).into()
}

/// The top-level `[scaler]` keys (without the policy's table) and the policy's table, as
/// configuration values.
fn parts(config: &ScalerConfig) -> (Vec<(String, ConfigValue)>, BTreeMap<String, ConfigValue>) {
    let policy = config.policy().as_str();
    let mut top = Vec::new();
    let mut table = BTreeMap::new();
    for (k, text) in config.to_pairs() {
        let v = parse_value(&text);
        if k == policy
            && PolicyKind::from_name(k).is_some()
            && !PolicyKind::from_name(k).is_some_and(|p| p.keys().is_empty())
        {
            if let ConfigValue::Table(t) = v {
                table = t;
                continue;
            }
        }
        top.push((k.to_string(), v));
    }
    (top, table)
}

/// TOML value text (as `to_pairs` writes it) as a configuration value.
fn parse_value(text: &str) -> ConfigValue {
    match crate::tomldoc::Doc::parse(Path::new("value"), format!("v = {text}")) {
        Ok(d) if d.root.len() == 1 => crate::scenario::config_value(&d, "v", &d.root[0].2)
            .unwrap_or_else(|_| ConfigValue::String(text.to_string())),
        _ => ConfigValue::String(text.to_string()),
    }
}

/// The complete `[scaler]` table, any policy.
#[must_use]
pub fn toml_table(config: &ScalerConfig) -> String {
    let (top, table) = parts(config);
    let mut out = String::from("[scaler]\n");
    for (k, v) in &top {
        out.push_str(&format!("{} = {}\n", toml_key(k), toml_text(v)));
    }
    if !table.is_empty() {
        out.push_str(&format!("\n[scaler.{}]\n", config.policy().as_str()));
        for (k, v) in &table {
            out.push_str(&format!("{} = {}\n", toml_key(k), toml_text(v)));
        }
    }
    out
}

/// Writes a Kubernetes form from the policy's table, the annotations and the configuration.
type Writer = fn(&BTreeMap<String, ConfigValue>, &[(String, String)], &ScalerConfig, &Workload) -> String;

/// A Kubernetes form: written without annotations, read back, then written with the
/// `scaler-sim.dev/` annotations of every key that read back differently, and checked.
fn kubernetes(config: &ScalerConfig, system: System, write: Writer, workload: &Workload) -> Result<String, SimError> {
    let (top, table) = parts(config);
    let name = Path::new("(export)");
    let read_back = |text: &str| manifest::from_text(name, text, Some(system)).and_then(|m| m.config());
    let draft = write(&table, &[], config, workload);
    let first = read_back(&draft).map_err(|e| refusal(format!("export {}: {e}", system.policy())))?;
    let (top0, table0) = parts(&first);
    let mut ann: Vec<(String, String)> = Vec::new();
    for (k, v) in &top {
        if k == "policy" {
            continue;
        }
        if top0.iter().find(|(k0, _)| k0 == k).map(|(_, v0)| v0) != Some(v) {
            ann.push((k.clone(), annotation_text(v)));
        }
    }
    for (k, v) in &table {
        if table0.get(k) != Some(v) {
            ann.push((format!("{}.{k}", system.policy()), annotation_text(v)));
        }
    }
    let text = write(&table, &ann, config, workload);
    let back = read_back(&text).map_err(|e| refusal(format!("export {}: {e}", system.policy())))?;
    if &back != config {
        return Err(refusal(format!(
            "export {}: this configuration has no exact {} form (it reads back as:\n{})",
            system.policy(),
            system.what(),
            toml_table(&back)
        )));
    }
    Ok(text)
}

/// An annotation's value: a plain string bare, anything else as its TOML text.
fn annotation_text(v: &ConfigValue) -> String {
    match v {
        ConfigValue::String(s) if matches!(parse_value(s), ConfigValue::String(ref t) if t == s) => s.clone(),
        other => toml_text(other),
    }
}

fn annotations(ann: &[(String, String)], extra: Vec<(String, Y)>) -> Option<Y> {
    let mut items = extra;
    items.extend(ann.iter().map(|(k, v)| (format!("{SCALER_ANNOTATION}{k}"), Y::str(v))));
    (!items.is_empty()).then_some(Y::Map(items))
}

fn num(v: &ConfigValue) -> String {
    match v {
        ConfigValue::Number(t) => t.clone(),
        ConfigValue::Integer(i) => i.to_string(),
        ConfigValue::Float(f) => format!("{f}"),
        ConfigValue::String(s) => s.clone(),
        ConfigValue::Bool(b) => b.to_string(),
        other => toml_text(other),
    }
}

/// A `behavior` table (the `hpa` / `keda` policies' shape) as YAML.
fn behavior_yaml(v: &ConfigValue) -> Y {
    match v {
        ConfigValue::Table(t) => {
            let order = ["stabilizationWindowSeconds", "selectPolicy", "policies", "type", "value", "periodSeconds"];
            let mut keys: Vec<&String> = t.keys().collect();
            keys.sort_by_key(|k| order.iter().position(|o| o == k).unwrap_or(order.len()));
            Y::Map(keys.into_iter().map(|k| (k.clone(), behavior_yaml(&t[k]))).collect())
        }
        ConfigValue::Array(a) => Y::Seq(a.iter().map(behavior_yaml).collect()),
        ConfigValue::String(s) => Y::Plain(s.clone()),
        other => Y::Plain(num(other)),
    }
}

const HEADER: &str = "written by scaler-sim export from a [scaler] table; scaler-sim.dev/ annotations hold\n# the simulator's settings the system has no field for (the cluster ignores them).\n";

/// A Kubernetes name or API version as YAML: plain when it cannot read as anything but a
/// string (`web`, `apps/v1`), quoted otherwise (`"123"`, `"true"`).
fn name_y(s: &str) -> Y {
    let plain = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/'))
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        Y::Plain(s.to_string())
    } else {
        Y::str(s)
    }
}

/// `metadata`'s name (and namespace): the workload's, or a placeholder to edit.
fn meta_name(w: &Workload) -> Vec<(String, Y)> {
    let mut m = match &w.name {
        Some(n) => vec![("name".into(), name_y(n))],
        None => vec![("name".into(), Y::Plain("my-app".into())).commented("edit")],
    };
    if let Some(ns) = &w.namespace {
        m.push(("namespace".into(), name_y(ns)));
    }
    m
}

/// `spec.scaleTargetRef`: the workload's, or a placeholder Deployment to edit.
fn target_ref(w: &Workload, what: &'static str) -> (String, Y) {
    match &w.target {
        Some((api, kind, name)) => (
            "scaleTargetRef".into(),
            Y::Map(vec![
                ("apiVersion".into(), name_y(api)),
                ("kind".into(), name_y(kind)),
                ("name".into(), name_y(name)),
            ]),
        ),
        None => (
            "scaleTargetRef".into(),
            Y::Map(vec![
                ("apiVersion".into(), Y::Plain("apps/v1".into())),
                ("kind".into(), Y::Plain("Deployment".into())),
                ("name".into(), Y::Plain("my-app".into())),
            ]),
        )
            .commented(what),
    }
}

fn hpa_yaml(
    table: &BTreeMap<String, ConfigValue>,
    ann: &[(String, String)],
    config: &ScalerConfig,
    workload: &Workload,
) -> String {
    let metric = match table.get("metric") {
        Some(ConfigValue::String(s)) if s == "queue" => {
            let avg = table.get("target_average_value").map_or_else(|| "1".to_string(), num);
            Y::Map(vec![
                ("type".into(), Y::Plain("External".into())),
                (
                    "external".into(),
                    Y::Map(vec![
                        (
                            "metric".into(),
                            Y::Map(vec![("name".into(), Y::str("tasks"))
                                .commented("edit: the metric of the tasks in the system (queued + running)")]),
                        ),
                        (
                            "target".into(),
                            Y::Map(vec![
                                ("type".into(), Y::Plain("AverageValue".into())),
                                ("averageValue".into(), Y::str(&milli_quantity(&avg))),
                            ]),
                        ),
                    ]),
                ),
            ])
        }
        _ => Y::Map(vec![
            ("type".into(), Y::Plain("Resource".into())),
            (
                "resource".into(),
                Y::Map(vec![
                    ("name".into(), Y::Plain("cpu".into())),
                    (
                        "target".into(),
                        Y::Map(vec![
                            ("type".into(), Y::Plain("Utilization".into())),
                            (
                                "averageUtilization".into(),
                                Y::Plain(table.get("target_utilization_percent").map_or_else(|| "80".into(), num)),
                            ),
                        ]),
                    ),
                ]),
            ),
        ]),
    };
    let mut spec = vec![
        target_ref(workload, "edit: the workload this scales"),
        if config.min_workers() == 0 {
            ("minReplicas".into(), Y::Plain("0".into())).commented("0 needs Kubernetes' HPAScaleToZero feature gate")
        } else {
            ("minReplicas".into(), Y::Plain(config.min_workers().to_string()))
        },
        ("maxReplicas".into(), Y::Plain(config.max_workers().to_string())),
        ("metrics".into(), Y::Seq(vec![metric])),
    ];
    if let Some(b) = table.get("behavior") {
        spec.push(("behavior".into(), behavior_yaml(b)));
    }
    let mut meta = meta_name(workload);
    if let Some(a) = annotations(ann, Vec::new()) {
        meta.push(("annotations".into(), a));
    }
    let doc = Y::Map(vec![
        ("apiVersion".into(), Y::Plain("autoscaling/v2".into())),
        ("kind".into(), Y::Plain("HorizontalPodAutoscaler".into())),
        ("metadata".into(), Y::Map(meta)),
        ("spec".into(), Y::Map(spec)),
    ]);
    format!("# A Kubernetes HorizontalPodAutoscaler {HEADER}{}", doc.render())
}

/// A decimal with at most 3 places as a Kubernetes quantity (`"1.5"` as `"1500m"`).
fn milli_quantity(text: &str) -> String {
    match text.split_once('.') {
        None => text.to_string(),
        Some((i, f)) => {
            let f = format!("{f:0<3}");
            let v = format!("{i}{f}").trim_start_matches('0').to_string();
            format!("{}m", if v.is_empty() { "0" } else { &v })
        }
    }
}

fn keda_yaml(
    table: &BTreeMap<String, ConfigValue>,
    ann: &[(String, String)],
    _config: &ScalerConfig,
    workload: &Workload,
) -> String {
    let target = match &workload.target {
        Some(_) => target_ref(workload, ""),
        None => ("scaleTargetRef".into(), Y::Map(vec![("name".into(), Y::Plain("my-app".into()))]))
            .commented("edit: the Deployment this scales"),
    };
    let mut spec = vec![target];
    for (key, field) in [
        ("polling_interval", "pollingInterval"),
        ("cooldown_period", "cooldownPeriod"),
        ("initial_cooldown_period", "initialCooldownPeriod"),
        ("min_replica_count", "minReplicaCount"),
        ("max_replica_count", "maxReplicaCount"),
        ("idle_replica_count", "idleReplicaCount"),
    ] {
        if let Some(v) = table.get(key) {
            spec.push((field.into(), Y::Plain(num(v))));
        }
    }
    let mut fb = Vec::new();
    if let Some(v) = table.get("fallback_failure_threshold") {
        fb.push(("failureThreshold".into(), Y::Plain(num(v))));
    }
    if let Some(v) = table.get("fallback_replicas") {
        fb.push(("replicas".into(), Y::Plain(num(v))));
    }
    if let Some(v) = table.get("fallback_behavior") {
        fb.push(("behavior".into(), Y::Plain(num(v))));
    }
    if !fb.is_empty() {
        spec.push(("fallback".into(), Y::Map(fb)));
    }
    if let Some(b) = table.get("behavior") {
        spec.push((
            "advanced".into(),
            Y::Map(vec![("horizontalPodAutoscalerConfig".into(), Y::Map(vec![("behavior".into(), behavior_yaml(b))]))]),
        ));
    }
    let mut meta = vec![
        ("serverAddress".into(), Y::str("http://prometheus.monitoring:9090")).commented("edit"),
        ("query".into(), Y::str("sum(tasks_queued) + sum(tasks_running)")).commented("edit: the tasks in the system"),
        ("threshold".into(), Y::str(&table.get("threshold").map_or_else(|| "1".into(), num))),
    ];
    if let Some(a) = table.get("activation_threshold") {
        meta.push(("activationThreshold".into(), Y::str(&num(a))));
    }
    let mut trigger =
        vec![("type".into(), Y::Plain("prometheus".into())).commented("edit: any scaler of the tasks in the system")];
    if let Some(mt) = table.get("metric_type") {
        trigger.push(("metricType".into(), Y::Plain(num(mt))));
    }
    trigger.push(("metadata".into(), Y::Map(meta)));
    spec.push(("triggers".into(), Y::Seq(vec![Y::Map(trigger)])));
    let paused = matches!(table.get("paused"), Some(ConfigValue::Bool(true)));
    let extra = if paused { vec![("autoscaling.keda.sh/paused".to_string(), Y::str("true"))] } else { Vec::new() };
    let ann: Vec<(String, String)> = ann.iter().filter(|(k, _)| k != "keda.paused").cloned().collect();
    let mut m = meta_name(workload);
    if let Some(a) = annotations(&ann, extra) {
        m.push(("annotations".into(), a));
    }
    let doc = Y::Map(vec![
        ("apiVersion".into(), Y::Plain("keda.sh/v1alpha1".into())),
        ("kind".into(), Y::Plain("ScaledObject".into())),
        ("metadata".into(), Y::Map(m)),
        ("spec".into(), Y::Map(spec)),
    ]);
    format!("# A KEDA ScaledObject {HEADER}{}", doc.render())
}

fn kpa_yaml(
    table: &BTreeMap<String, ConfigValue>,
    ann: &[(String, String)],
    _config: &ScalerConfig,
    workload: &Workload,
) -> String {
    let mut data = Vec::new();
    let mut rev = Vec::new();
    let mut progress = None;
    let mut cc = None;
    for (k, v) in table {
        let text = num(v);
        if k.starts_with("autoscaling.knative.dev/") || k == "serving.knative.dev/progress-deadline" {
            rev.push((k.clone(), Y::str(&text)));
        } else if k == "container-concurrency" {
            cc = Some(text);
        } else if k == "progress-deadline" {
            progress = Some(text);
        } else {
            data.push((k.clone(), Y::str(&text)));
        }
    }
    let mut out = format!("# Knative's autoscaler: {HEADER}");
    let cm = |name: &str, data: Vec<(String, Y)>| {
        Y::Map(vec![
            ("apiVersion".into(), Y::Plain("v1".into())),
            ("kind".into(), Y::Plain("ConfigMap".into())),
            (
                "metadata".into(),
                Y::Map(vec![
                    ("name".into(), Y::Plain(name.into())),
                    ("namespace".into(), Y::Plain("knative-serving".into())),
                ]),
            ),
            ("data".into(), Y::Map(data)),
        ])
    };
    if !data.is_empty() {
        out.push_str("# config-autoscaler is cluster-wide: these keys apply to every revision.\n");
        out.push_str(&cm("config-autoscaler", data).render());
        out.push_str("---\n");
    }
    if let Some(p) = progress {
        out.push_str(&cm("config-deployment", vec![("progress-deadline".into(), Y::str(&p))]).render());
        out.push_str("---\n");
    }
    let mut tmeta = Vec::new();
    if !rev.is_empty() {
        tmeta.push(("annotations".into(), Y::Map(rev)));
    }
    let mut tspec = Vec::new();
    if let Some(c) = cc {
        tspec.push(("containerConcurrency".into(), if c.parse::<i64>().is_ok() { Y::Plain(c) } else { Y::str(&c) }));
    }
    tspec.push((
        "containers".into(),
        Y::Seq(vec![Y::Map(vec![("image".into(), Y::str("registry.example/my-app:latest")).commented("edit")])]),
    ));
    let mut template = Vec::new();
    if !tmeta.is_empty() {
        template.push(("metadata".into(), Y::Map(tmeta)));
    }
    template.push(("spec".into(), Y::Map(tspec)));
    let mut meta = meta_name(workload);
    if let Some(a) = annotations(ann, Vec::new()) {
        meta.push(("annotations".into(), a));
    }
    let svc = Y::Map(vec![
        ("apiVersion".into(), Y::Plain("serving.knative.dev/v1".into())),
        ("kind".into(), Y::Plain("Service".into())),
        ("metadata".into(), Y::Map(meta)),
        ("spec".into(), Y::Map(vec![("template".into(), Y::Map(template))])),
    ]);
    out.push_str(&svc.render());
    out
}

/// A decimal utilization (`0.75`) or bound (`-0.1`) in CloudWatch percent (`75`, `-10`), exactly.
fn percent(text: &str) -> String {
    let (neg, t) = text.strip_prefix('-').map_or((false, text), |r| (true, r));
    let (i, f) = t.split_once('.').unwrap_or((t, ""));
    let f = format!("{f:0<2}");
    let (whole, frac) = f.split_at(2);
    let int = format!("{i}{whole}").trim_start_matches('0').to_string();
    let int = if int.is_empty() { "0".to_string() } else { int };
    let frac = frac.trim_end_matches('0');
    let v = if frac.is_empty() { int } else { format!("{int}.{frac}") };
    if neg && v != "0" {
        format!("-{v}")
    } else {
        v
    }
}

/// JSON string.
fn js(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn aws_step(config: &ScalerConfig) -> String {
    let (_, t) = parts(config);
    let text = |k: &str| t.get(k).map_or_else(String::new, num);
    let adjustment_type = text("adjustment_type");
    let steps = |k: &str| -> String {
        let Some(ConfigValue::Array(a)) = t.get(k) else { return "[]".into() };
        let items: Vec<String> = a
            .iter()
            .map(|s| {
                let ConfigValue::Table(s) = s else { return "{}".to_string() };
                let mut f = Vec::new();
                if let Some(l) = s.get("lower") {
                    f.push(format!("\"MetricIntervalLowerBound\": {}", percent(&num(l))));
                }
                if let Some(u) = s.get("upper") {
                    f.push(format!("\"MetricIntervalUpperBound\": {}", percent(&num(u))));
                }
                f.push(format!("\"ScalingAdjustment\": {}", s.get("adjustment").map_or_else(|| "0".into(), num)));
                format!("        {{ {} }}", f.join(", "))
            })
            .collect();
        format!("[\n{}\n      ]", items.join(",\n"))
    };
    let stat = match config.utilization_aggregate().as_str() {
        "max" => "Maximum",
        "min" => "Minimum",
        // The newest sample: CloudWatch has no such statistic; the mean of one period is closest.
        _ => "Average",
    };
    let mut extra = String::new();
    let mag = text("min_adjustment_magnitude");
    if adjustment_type == "PercentChangeInCapacity" && mag != "0" && !mag.is_empty() {
        extra = format!(",\n      \"MinAdjustmentMagnitude\": {mag}");
    }
    let policy = |name: &str, side: &str| {
        format!(
            "{{\n    \"PolicyName\": {},\n    \"ServiceNamespace\": \"ecs\",\n    \"ResourceId\": \"service/my-cluster/my-service\",\n    \"ScalableDimension\": \"ecs:service:DesiredCount\",\n    \"PolicyType\": \"StepScaling\",\n    \"StepScalingPolicyConfiguration\": {{\n      \"AdjustmentType\": {},\n      \"StepAdjustments\": {},\n      \"Cooldown\": {},\n      \"MetricAggregationType\": \"{stat}\"{extra}\n    }}\n  }}",
            js(name),
            js(&adjustment_type),
            steps(side),
            config.cooldown_period()
        )
    };
    let alarm = |name: &str, th: &str, op: &str, policy: &str| {
        format!(
            "{{\n    \"AlarmName\": {},\n    \"Namespace\": \"AWS/ECS\",\n    \"MetricName\": \"CPUUtilization\",\n    \"Statistic\": \"{stat}\",\n    \"Period\": {},\n    \"EvaluationPeriods\": 1,\n    \"Threshold\": {},\n    \"ComparisonOperator\": \"{op}\",\n    \"AlarmActions\": [\"(the PolicyARN PutScalingPolicy returns for {policy})\"]\n  }}",
            js(name),
            config.metrics_window(),
            percent(&text(th))
        )
    };
    format!(
        "{{\n  \"_comment\": \"scaler-sim export aws-step: two PutScalingPolicy requests (Application Auto Scaling) and the CloudWatch PutMetricAlarm fields of the alarm that triggers each; edit ServiceNamespace, ResourceId and ScalableDimension for your target. Bounds and thresholds are percent utilization. The simulator evaluates every {} s; warmup_period = {} s has no Application Auto Scaling field (EC2 Auto Scaling's EstimatedInstanceWarmup).\",\n  \"RegisterScalableTarget\": {{ \"MinCapacity\": {}, \"MaxCapacity\": {} }},\n  \"ScaleOutPolicy\": {},\n  \"ScaleInPolicy\": {},\n  \"ScaleOutAlarm\": {},\n  \"ScaleInAlarm\": {}\n}}\n",
        config.evaluation_interval(),
        config.warmup_period(),
        config.min_workers(),
        config.max_workers(),
        policy("scaler-scale-out", "scale_out"),
        policy("scaler-scale-in", "scale_in"),
        alarm("scaler-scale-out-alarm", "upper_threshold", "GreaterThanThreshold", "scaler-scale-out"),
        alarm("scaler-scale-in-alarm", "lower_threshold", "LessThanThreshold", "scaler-scale-in"),
    )
}

/// The `target_tracking` policy as Application Auto Scaling requests: `RegisterScalableTarget`
/// for the bounds and `PutScalingPolicy` with its `TargetTrackingScalingPolicyConfiguration`.
/// AWS fixes its alarms (3 datapoints above the target, 15 below 90 % of it); a configuration
/// that models other ones is written with a warning, since AWS has no field for them.
fn aws_target_tracking(config: &ScalerConfig) -> String {
    use serde_json::{json, Value};
    let (_, t) = parts(config);
    let text = |k: &str| t.get(k).map_or_else(String::new, num);
    let number = |s: String| serde_json::from_str::<Value>(&s).unwrap_or(Value::String(s));
    let seconds = |k: &str| {
        // Cooldowns are whole seconds at AWS; the table's value is in seconds.
        let v = text(k);
        number(v)
    };
    let metric = if text("metric") == "backlog_per_worker" {
        json!({ "CustomizedMetricSpecification": {
            "MetricName": "BacklogPerTask", "Namespace": "MyService", "Statistic": "Average",
            "_comment": "publish (queued + running jobs) / running tasks as this metric, as AWS's SQS backlog-per-instance pattern does"
        }})
    } else {
        json!({ "PredefinedMetricSpecification": { "PredefinedMetricType": "ECSServiceAverageCPUUtilization" } })
    };
    let mut cfg = json!({
        "TargetValue": number(text("target_value")),
        "ScaleOutCooldown": seconds("scale_out_cooldown"),
        "ScaleInCooldown": seconds("scale_in_cooldown"),
        "DisableScaleIn": text("disable_scale_in") == "true",
    });
    if let (Value::Object(c), Value::Object(m)) = (&mut cfg, metric) {
        c.extend(m);
    }
    let aws_alarms =
        text("scale_out_datapoints") == "3" && text("scale_in_datapoints") == "15" && text("scale_in_ratio") == "0.9";
    let mut comment = format!(
        "scaler-sim export aws-target-tracking: Application Auto Scaling requests; edit ServiceNamespace, ResourceId and ScalableDimension for your target. The simulator decided every {} s on a {} s window.",
        config.evaluation_interval(),
        config.metrics_window()
    );
    if !aws_alarms {
        comment.push_str(&format!(
            " WARNING: this setting models alarms of {} datapoints above the target and {} below {} of it; AWS's are 3, 15 and 0.9, and cannot be changed.",
            text("scale_out_datapoints"),
            text("scale_in_datapoints"),
            text("scale_in_ratio")
        ));
    }
    let target = json!({
        "ServiceNamespace": "ecs",
        "ResourceId": "service/my-cluster/my-service",
        "ScalableDimension": "ecs:service:DesiredCount",
    });
    let mut register = target.clone();
    let mut put = target;
    if let Value::Object(r) = &mut register {
        r.insert("MinCapacity".into(), config.min_workers().into());
        r.insert("MaxCapacity".into(), config.max_workers().into());
    }
    if let Value::Object(p) = &mut put {
        p.insert("PolicyName".into(), "scaler-target-tracking".into());
        p.insert("PolicyType".into(), "TargetTrackingScaling".into());
        p.insert("TargetTrackingScalingPolicyConfiguration".into(), cfg);
    }
    let doc = json!({ "_comment": comment, "RegisterScalableTarget": register, "PutScalingPolicy": put });
    serde_json::to_string_pretty(&doc).expect("JSON values serialize") + "\n"
}

/// The `arc` policy as the values of actions-runner-controller's `gha-runner-scale-set` Helm
/// chart (`minRunners`, `maxRunners`; the rest of a scale set's values are the user's).
fn arc_values(config: &ScalerConfig) -> String {
    let (_, t) = parts(config);
    let mut m = vec![
        ("githubConfigUrl".into(), Y::str("https://github.com/my-org/my-repo")).commented("edit"),
        ("githubConfigSecret".into(), Y::Plain("my-github-secret".into())).commented("edit"),
    ];
    m.push(("minRunners".into(), Y::Plain(t.get("min_runners").map_or_else(|| "0".into(), num))));
    match t.get("max_runners") {
        Some(v) => m.push(("maxRunners".into(), Y::Plain(num(v)))),
        None => m.push(
            ("maxRunners".into(), Y::Plain(config.max_workers().to_string()))
                .commented("the pool's max_workers: ARC's own default is unbounded"),
        ),
    }
    format!(
        "# Helm values for actions-runner-controller's gha-runner-scale-set chart, written by scaler-sim export arc\n# (helm upgrade --install my-runners oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set -f THIS_FILE).\n{}",
        Y::Map(m).render()
    )
}

fn python(config: &ScalerConfig) -> String {
    let mut out = String::from(
        "# The seed's AutoScaler with the settings of a [scaler] table (policy = \"threshold\"),\n# written by scaler-sim export python.\n",
    );
    let defaults = ScalerConfig::default();
    let (top, _) = parts(config);
    let (dtop, _) = parts(&defaults);
    let args = [
        "min_workers",
        "max_workers",
        "scale_up_threshold",
        "scale_down_threshold",
        "cooldown_period",
        "metrics_window",
    ];
    for (k, v) in &top {
        if args.contains(&k.as_str()) || k == "policy" {
            continue;
        }
        if dtop.iter().find(|(dk, _)| dk == k).map(|(_, dv)| dv) != Some(v) {
            out.push_str(&format!(
                "# not an AutoScaler argument: {k} = {} (set it where your loop runs)\n",
                toml_text(v)
            ));
        }
    }
    out.push_str("autoscaler = AutoScaler(\n    worker_registry,\n    task_distributor,\n    cloud_manager,\n");
    for (k, v) in &top {
        if args.contains(&k.as_str()) {
            out.push_str(&format!("    {k}={},\n", num(v)));
        }
    }
    out.push_str(")\n");
    out
}

/// A quoted TOML string (re-exported for writers of scenario files).
#[must_use]
pub fn toml_quoted(s: &str) -> String {
    toml_string(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> ScalerConfig {
        let doc = crate::tomldoc::Doc::parse(Path::new("t.toml"), toml.to_string()).unwrap();
        crate::scenario::scaler_config(&doc).unwrap()
    }

    /// Export, read back as the manifest, get the same configuration; export again, the same bytes.
    fn round_trip(format: ExportFormat, system: System, toml: &str) -> String {
        let cfg = config(toml);
        let text = export(format, &cfg).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let back = manifest::from_text(Path::new("x.yaml"), &text, Some(system)).and_then(|m| m.config()).unwrap();
        assert_eq!(back, cfg, "{text}");
        assert_eq!(export(format, &back).unwrap(), text);
        // The complete table reads back too.
        assert_eq!(config(&toml_table(&cfg)), cfg);
        text
    }

    #[test]
    fn every_kubernetes_form_reads_back_to_the_same_configuration() {
        let t = round_trip(
            ExportFormat::Hpa,
            System::Hpa,
            "[scaler]\npolicy = \"hpa\"\nmin_workers = 0\nmax_workers = 7\nscale_up_threshold = 0.9\nutilization_aggregate = \"max\"\n\
             [scaler.hpa]\nmetric = \"queue\"\ntarget_average_value = 2.5\ntolerance_up = 0.05\nrespect_cooldown = true\ndownscale_stabilization_s = 60\n",
        );
        assert!(
            t.contains("averageValue: \"2500m\"") && t.contains("scaler-sim.dev/hpa.respect_cooldown: \"true\""),
            "{t}"
        );
        assert!(t.contains("scaler-sim.dev/utilization_aggregate: \"max\""), "{t}");
        round_trip(ExportFormat::Hpa, System::Hpa, "[scaler]\npolicy = \"hpa\"\nmax_workers = 3\n");
        let t = round_trip(
            ExportFormat::Keda,
            System::Keda,
            "[scaler]\npolicy = \"keda\"\nmin_workers = 1\nmax_workers = 50\n[scaler.keda]\nidle_replica_count = 0\nmin_replica_count = 2\n\
             max_replica_count = 40\nmetric_type = \"Value\"\nthreshold = 12.5\nactivation_threshold = 3\npaused = true\n\
             fallback_failure_threshold = 2\nfallback_replicas = 5\nfallback_behavior = \"currentReplicasIfHigher\"\nscale_up_limit_factor = 3\n",
        );
        assert!(t.contains("autoscaling.keda.sh/paused: \"true\"") && t.contains("threshold: \"12.5\""), "{t}");
        round_trip(ExportFormat::Keda, System::Keda, "[scaler]\npolicy = \"keda\"\n");
        let t = round_trip(
            ExportFormat::Kpa,
            System::Kpa,
            "[scaler]\npolicy = \"kpa\"\nmin_workers = 1\nmax_workers = 9\nevaluation_interval = 4\n[scaler.kpa]\n\"stable-window\" = \"30s\"\n\
             \"progress-deadline\" = \"120s\"\n\"autoscaling.knative.dev/min-scale\" = \"1\"\n\"container-concurrency\" = 4\n",
        );
        assert!(t.contains("name: config-deployment") && t.contains("containerConcurrency: 4"), "{t}");
        round_trip(ExportFormat::Kpa, System::Kpa, "[scaler]\npolicy = \"kpa\"\n");
    }

    #[test]
    fn forms_of_other_policies_are_refused_naming_the_formats_they_have() {
        let cfg = config("[scaler]\npolicy = \"queue\"\n");
        let e = export(ExportFormat::Keda, &cfg).unwrap_err().to_string();
        assert!(e.contains("no exact ScaledObject form") && e.contains("the queue policy has: toml"), "{e}");
        let e = export(ExportFormat::AwsStep, &config("[scaler]\n")).unwrap_err().to_string();
        assert!(e.contains("the threshold policy has: python, toml"), "{e}");
    }

    #[test]
    fn percents_and_milli_quantities_are_exact() {
        assert_eq!(percent("0.75"), "75");
        assert_eq!(percent("-0.1"), "-10");
        assert_eq!(percent("0.123456789"), "12.3456789");
        assert_eq!(percent("0"), "0");
        assert_eq!(milli_quantity("1.5"), "1500m");
        assert_eq!(milli_quantity("0.001"), "1m");
        assert_eq!(milli_quantity("3"), "3");
    }
}
