//! Kubernetes manifests as written (YAML): HorizontalPodAutoscaler, KEDA ScaledObject,
//! Knative's `config-autoscaler` ConfigMap and revision annotations, read into the
//! `[scaler]` configuration they describe.
//!
//! A manifest is read as `kubectl get ... -o yaml` prints it: `status`, `metadata` (but
//! its annotations) and `managedFields` are ignored; a `kind: List` of one object is that
//! object; a multi-document file (`---`) may hold several objects (Knative's ConfigMap and
//! a Service), and objects of kinds the system does not read are left out and counted.
//!
//! Each field maps to the `[scaler]` key of the policy that models it ([`Manifest::entries`],
//! with the field's YAML path, line and column); what a manifest cannot say but the
//! simulator needs (the sync period, the metrics window) gets a stated default
//! ([`Manifest::defaults`]). Annotations `scaler-sim.dev/KEY: "VALUE"` set any other
//! `[scaler]` key (`scaler-sim.dev/evaluation_interval: "30"`,
//! `scaler-sim.dev/hpa.respect_cooldown: "true"`): `export` writes them so that a manifest
//! reads back to the configuration it came from; the cluster ignores them.

pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scaler_core::{ConfigBuilder, ConfigError, ConfigValue, PolicyKind, ScalerConfig};

use crate::error::{InputError, Location};
use yaml::{YNode, YValue};

/// The annotation prefix of the simulator's own settings.
pub const SCALER_ANNOTATION: &str = "scaler-sim.dev/";

/// The system a manifest configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// A Kubernetes HorizontalPodAutoscaler (policy `hpa`).
    Hpa,
    /// A KEDA ScaledObject (policy `keda`).
    Keda,
    /// Knative's autoscaler: `config-autoscaler` and a revision's annotations (policy `kpa`).
    Kpa,
}

impl System {
    /// The policy that models it.
    #[must_use]
    pub fn policy(self) -> &'static str {
        match self {
            System::Hpa => "hpa",
            System::Keda => "keda",
            System::Kpa => "kpa",
        }
    }

    /// What the system's manifest is, for messages.
    #[must_use]
    pub fn what(self) -> &'static str {
        match self {
            System::Hpa => "a HorizontalPodAutoscaler (autoscaling/v2 or v1)",
            System::Keda => "a KEDA ScaledObject (keda.sh/v1alpha1)",
            System::Kpa => "Knative's config-autoscaler ConfigMap and/or a Service, Configuration or Revision",
        }
    }

    /// The `[scaler]` keys the simulator needs that the system's manifest cannot say, with
    /// their defaults and why.
    #[must_use]
    pub fn defaults(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            System::Hpa => &[
                (
                    "evaluation_interval",
                    "15",
                    "the HPA controller's sync period (--horizontal-pod-autoscaler-sync-period)",
                ),
                ("metrics_window", "15", "metrics-server's resolution: the HPA reads its newest sample"),
            ],
            System::Keda => &[
                ("evaluation_interval", "15", "the sync period of the HPA KEDA creates"),
                ("metrics_window", "15", "metrics-server's resolution: the HPA reads its newest sample"),
            ],
            System::Kpa => &[
                ("evaluation_interval", "2", "the KPA's autoscaler tick"),
                ("metrics_window", "60", "Knative's default stable window"),
                ("min_workers", "0", "the pool's hard floor: let the KPA scale to zero (min-scale bounds it)"),
                ("max_workers", "1000", "the pool's hard ceiling: Knative has none by default (max-scale bounds it)"),
            ],
        }
    }
}

/// One `[scaler]` key a manifest gives, and where it says it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key: a top-level key (`max_workers`) or `POLICY.KEY` (`hpa.behavior`).
    pub key: String,
    /// The value.
    pub value: ConfigValue,
    /// The manifest file.
    pub file: PathBuf,
    /// The field's path in its document (`spec.maxReplicas`).
    pub at: String,
    /// The field's line.
    pub line: u64,
    /// The field's column.
    pub col: u64,
}

impl Entry {
    /// An error about this entry: at its line and column, naming the field.
    #[must_use]
    pub fn error(&self, message: impl std::fmt::Display) -> InputError {
        InputError {
            path: self.file.clone(),
            location: Location::LineCol(self.line, self.col),
            message: format!("{}: {message}", self.at),
        }
    }
}

/// What a manifest's autoscaler is and scales, as written (`metadata.name`,
/// `metadata.namespace`, `spec.scaleTargetRef`): an export of a tuned setting keeps them, so
/// that it applies in the manifest's place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    /// The autoscaler object's name (the Knative Service's, for Knative).
    pub name: Option<String>,
    /// Its namespace.
    pub namespace: Option<String>,
    /// What it scales: `(apiVersion, kind, name)` of `spec.scaleTargetRef` (HPA, KEDA).
    pub target: Option<(String, String, String)>,
}

/// A manifest read into `[scaler]` keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// What the autoscaler is and scales (for exports that replace it).
    pub workload: Workload,
    /// The system.
    pub system: System,
    /// The objects read, for messages (`HorizontalPodAutoscaler default/web`).
    pub objects: Vec<String>,
    /// The keys the manifest gives (the policy first), in field order.
    pub entries: Vec<Entry>,
    /// Defaults for keys the manifest does not give: key, value (TOML text), why.
    pub defaults: Vec<(String, String, String)>,
    /// Documents read.
    pub documents: u64,
    /// Documents or fields left out, by reason.
    pub left_out: Vec<(String, u64)>,
    /// Anything else the user should know.
    pub notices: Vec<String>,
}

/// Whether a configuration path names a manifest (by its extension, `.yaml` or `.yml`).
#[must_use]
pub fn is_manifest_path(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// A document and the file it came from.
struct Doc<'a> {
    file: &'a Path,
    node: &'a YNode,
}

/// Reads the manifest(s) in `files` for `system` (`None`: the system of the objects found).
pub fn read(files: &[PathBuf], system: Option<System>) -> Result<Manifest, InputError> {
    let mut parsed = Vec::new();
    for f in files {
        let (_, docs) = yaml::read(f)?;
        parsed.push((f.as_path(), docs));
    }
    from_docs(&parsed, files, system)
}

/// Reads manifest text named `path` in errors (as [`read`] reads a file).
pub fn from_text(path: &Path, text: &str, system: Option<System>) -> Result<Manifest, InputError> {
    let docs = yaml::parse(path, text)?;
    from_docs(&[(path, docs)], &[path.to_path_buf()], system)
}

fn from_docs(
    parsed: &[(&Path, Vec<YNode>)],
    files: &[PathBuf],
    system: Option<System>,
) -> Result<Manifest, InputError> {
    // Every object, a `List`'s items included.
    let mut docs: Vec<Doc<'_>> = Vec::new();
    let mut documents = 0u64;
    for (file, ds) in parsed {
        for d in ds {
            if d.value == YValue::Null {
                continue;
            }
            documents += 1;
            if str_at(d, "kind") == Some("List") {
                if let Some(YValue::Seq(items)) = d.get("items").map(|n| &n.value) {
                    docs.extend(items.iter().map(|node| Doc { file, node }));
                    continue;
                }
            }
            docs.push(Doc { file, node: d });
        }
    }
    let first = files.first().map_or(Path::new("manifest"), PathBuf::as_path);
    let system = match system {
        Some(s) => s,
        None => {
            let found: Vec<System> = docs.iter().filter_map(|d| system_of(d.node)).collect();
            match found.first() {
                Some(s) if found.iter().all(|o| o == s) => *s,
                Some(_) => {
                    return Err(InputError::file(
                        first,
                        "holds objects of several autoscalers (HPA, KEDA, Knative): give one system's manifest",
                    ))
                }
                None => {
                    return Err(InputError::file(
                        first,
                        "holds no HorizontalPodAutoscaler, KEDA ScaledObject, Knative config-autoscaler ConfigMap, Service, Configuration or Revision",
                    ))
                }
            }
        }
    };
    let (mine, others): (Vec<Doc<'_>>, Vec<Doc<'_>>) =
        docs.into_iter().partition(|d| system_of(d.node) == Some(system));
    if mine.is_empty() {
        return Err(InputError::file(first, format!("holds no object of this kind: {}", system.what())));
    }
    let mut m = Manifest {
        workload: Workload::default(),
        system,
        objects: Vec::new(),
        entries: Vec::new(),
        defaults: Vec::new(),
        documents,
        left_out: Vec::new(),
        notices: Vec::new(),
    };
    if !others.is_empty() {
        m.left_out.push(("objects of other kinds".into(), others.len() as u64));
    }
    let statuses = mine.iter().filter(|d| d.node.get("status").is_some()).count() as u64;
    if statuses > 0 {
        m.left_out.push(("status sections (what the cluster observed, not settings)".into(), statuses));
    }
    let mut r = Reader { m: &mut m, file: first };
    match system {
        System::Hpa | System::Keda => {
            if let [one] = mine.as_slice() {
                r.file = one.file;
                r.object(one.node);
                if system == System::Hpa {
                    r.hpa(one.node)?;
                } else {
                    r.keda(one.node)?;
                }
                r.annotations(one.node.get("metadata"))?;
            } else {
                let names: Vec<String> = mine.iter().map(|d| object_name(d.node)).collect();
                return Err(InputError::file(
                    first,
                    format!(
                        "holds {} objects of this kind ({}): the simulator runs one autoscaler; give one (kubectl get ... NAME -o yaml)",
                        names.len(),
                        names.join(", ")
                    ),
                ));
            }
        }
        System::Kpa => r.kpa(&mine)?,
    }
    // Defaults for what the manifest does not say.
    let carried: Vec<String> = m.entries.iter().map(|e| e.key.clone()).collect();
    for (k, v, why) in system.defaults() {
        if !carried.iter().any(|c| c == k) {
            m.defaults.push(((*k).to_string(), (*v).to_string(), (*why).to_string()));
        }
    }
    if system == System::Keda {
        // The pool's bounds are the ScaledObject's counts (KEDA's defaults 0 and 100).
        let count = |key: &str, dflt: &str| {
            m.entries
                .iter()
                .find(|e| e.key == key)
                .and_then(|e| match &e.value {
                    ConfigValue::Number(t) => Some(t.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| dflt.to_string())
        };
        let (lo, hi) = (count("keda.min_replica_count", "0"), count("keda.max_replica_count", "100"));
        for (k, v, why) in [
            ("min_workers", lo, "the pool's hard floor: the ScaledObject's minReplicaCount (KEDA's default 0)"),
            ("max_workers", hi, "the pool's hard ceiling: the ScaledObject's maxReplicaCount (KEDA's default 100)"),
        ] {
            if !carried.iter().any(|c| c == k) {
                m.defaults.push((k.to_string(), v, why.to_string()));
            }
        }
    }
    Ok(m)
}

/// The system an object belongs to, by kind (and name for ConfigMaps).
fn system_of(d: &YNode) -> Option<System> {
    let api = str_at(d, "apiVersion").unwrap_or("");
    match str_at(d, "kind")? {
        "HorizontalPodAutoscaler" if api.starts_with("autoscaling/") => Some(System::Hpa),
        "ScaledObject" if api.starts_with("keda.sh/") => Some(System::Keda),
        "Service" | "Configuration" | "Revision" if api.starts_with("serving.knative.dev/") => Some(System::Kpa),
        "ConfigMap" => {
            let name = d.get("metadata").and_then(|m| str_at(m, "name"));
            matches!(name, Some("config-autoscaler" | "config-deployment")).then_some(System::Kpa)
        }
        _ => None,
    }
}

fn str_at<'a>(d: &'a YNode, key: &str) -> Option<&'a str> {
    d.get(key).and_then(YNode::as_str)
}

fn object_name(d: &YNode) -> String {
    let meta = d.get("metadata");
    let name = meta.and_then(|m| str_at(m, "name")).unwrap_or("(unnamed)");
    let kind = str_at(d, "kind").unwrap_or("object");
    match meta.and_then(|m| str_at(m, "namespace")) {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// A block of YAML pasted into a TOML string (`behavior = """` then the block as Kubernetes
/// prints it), as the configuration value it writes: numbers keep their text, and a single
/// top-level key named like the setting (`behavior:`, pasted with its key) is unwrapped.
/// `path` names the block in errors (its lines are the block's own).
pub fn pasted_yaml(path: &Path, setting: &str, text: &str) -> Result<ConfigValue, InputError> {
    let docs = yaml::parse(path, text)?;
    let [one] = docs.as_slice() else {
        return Err(InputError::file(path, "must be one YAML document"));
    };
    let mut node = one;
    if let YValue::Map(m) = &one.value {
        if let [(k, inner)] = m.as_slice() {
            if k == setting {
                node = inner;
            }
        }
    }
    if !matches!(node.value, YValue::Map(_)) {
        return Err(InputError::file(
            path,
            format!("must be a YAML mapping (the {setting} block), not {}", node.value.kind()),
        ));
    }
    config_value(node).ok_or_else(|| InputError::file(path, "is empty"))
}

/// A YAML value as a configuration value (numbers as their text).
fn config_value(n: &YNode) -> Option<ConfigValue> {
    Some(match &n.value {
        YValue::Null => return None,
        YValue::Bool(b) => ConfigValue::Bool(*b),
        YValue::Number(t) => ConfigValue::Number(t.clone()),
        YValue::Str(s) => ConfigValue::String(s.clone()),
        YValue::Seq(items) => ConfigValue::Array(items.iter().map(config_value).collect::<Option<_>>()?),
        YValue::Map(m) => {
            let mut t = BTreeMap::new();
            for (k, v) in m {
                if let Some(cv) = config_value(v) {
                    t.insert(k.clone(), cv);
                }
            }
            ConfigValue::Table(t)
        }
    })
}

/// A Kubernetes quantity (`"500m"`, `"1.5"`, `"2k"`, `"1Ki"`) as exact decimal text.
#[must_use]
pub fn quantity(text: &str) -> Option<String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    // An exponent (`1e3`) is a suffix too.
    let (mult, shift): (u128, i32) = match suffix {
        "" => (1, 0),
        "n" => (1, -9),
        "u" => (1, -6),
        "m" => (1, -3),
        "k" => (1, 3),
        "M" => (1, 6),
        "G" => (1, 9),
        "T" => (1, 12),
        "P" => (1, 15),
        "E" => (1, 18),
        "Ki" => (1 << 10, 0),
        "Mi" => (1 << 20, 0),
        "Gi" => (1 << 30, 0),
        "Ti" => (1 << 40, 0),
        s if s.starts_with(['e', 'E']) => (1, s[1..].parse::<i32>().ok().filter(|e| e.abs() <= 18)?),
        _ => return None,
    };
    let (neg, num) = match num.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, num.strip_prefix('+').unwrap_or(num)),
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || int.len() + frac.len() > 30
    {
        return None;
    }
    let digits: u128 = format!("{int}{frac}").parse().ok()?;
    let value = digits.checked_mul(mult)?;
    // value * 10^(shift - frac.len())
    let exp = shift - i32::try_from(frac.len()).ok()?;
    let mut s = value.to_string();
    if exp >= 0 {
        if value != 0 {
            s.push_str(&"0".repeat(usize::try_from(exp).ok()?));
        }
    } else {
        let places = usize::try_from(-exp).ok()?;
        if s.len() <= places {
            s = format!("{}{s}", "0".repeat(places + 1 - s.len()));
        }
        s.insert(s.len() - places, '.');
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    Some(if neg && s != "0" { format!("-{s}") } else { s })
}

struct Reader<'m, 'f> {
    m: &'m mut Manifest,
    file: &'f Path,
}

impl<'f> Reader<'_, 'f> {
    fn err(&self, n: &YNode, at: &str, msg: impl std::fmt::Display) -> InputError {
        InputError {
            path: self.file.to_path_buf(),
            location: Location::LineCol(n.line, n.col),
            message: format!("{at}: {msg}"),
        }
    }

    /// Refuses a field of the mapping `node` (at `at`) that is not one of `known`, as the API
    /// server's strict validation does: a typo (`minReplica`) must not fall back to a default.
    fn only_fields(&self, node: &YNode, at: &str, known: &[&str]) -> Result<(), InputError> {
        if let YValue::Map(m) = &node.value {
            for (k, v) in m {
                if !known.contains(&k.as_str()) {
                    let hint = scaler_core::suggest(k, known).replace("known keys", "known fields");
                    return Err(self.err(v, &format!("{at}.{k}"), format!("is not a field of {at}{hint}")));
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, key: &str, value: ConfigValue, at: &str, n: &YNode) -> Result<(), InputError> {
        if let Some(prev) = self.m.entries.iter().find(|e| e.key == key) {
            return Err(self.err(
                n,
                at,
                format!(
                    "sets scaler.{key}, which {} at {}:{} already sets: give it once",
                    prev.at, prev.line, prev.col
                ),
            ));
        }
        self.m.entries.push(Entry {
            key: key.to_string(),
            value,
            file: self.file.to_path_buf(),
            at: at.to_string(),
            line: n.line,
            col: n.col,
        });
        Ok(())
    }

    /// A number field (a Kubernetes int32 or a quantity string where `quantity`).
    fn number(
        &mut self,
        key: &str,
        parent: &YNode,
        field: &str,
        at: &str,
        quantity_ok: bool,
    ) -> Result<bool, InputError> {
        let Some(n) = parent.get_some(field) else { return Ok(false) };
        let at = format!("{at}.{field}");
        let text = match &n.value {
            YValue::Number(t) => t.clone(),
            YValue::Str(s) if quantity_ok => quantity(s).ok_or_else(|| {
                self.err(n, &at, format!("{s:?} is not a Kubernetes quantity (such as \"500m\", \"2\", \"1k\")"))
            })?,
            YValue::Str(s) => return Err(self.err(n, &at, format!("must be a number, not the string {s:?}"))),
            other => return Err(self.err(n, &at, format!("must be a number, not {}", other.kind()))),
        };
        self.push(key, ConfigValue::Number(text), &at, n)?;
        Ok(true)
    }

    fn object(&mut self, d: &YNode) {
        self.m.objects.push(object_name(d));
        // The first autoscaler object names the workload (a ConfigMap is cluster-wide).
        if self.m.workload.name.is_some() || str_at(d, "kind") == Some("ConfigMap") {
            return;
        }
        let meta = d.get("metadata");
        self.m.workload.name = meta.and_then(|m| str_at(m, "name")).map(str::to_string);
        self.m.workload.namespace = meta.and_then(|m| str_at(m, "namespace")).map(str::to_string);
        let target = d.get("spec").and_then(|s| s.get("scaleTargetRef"));
        self.m.workload.target = target.and_then(|t| {
            let name = str_at(t, "name")?.to_string();
            let api = str_at(t, "apiVersion").unwrap_or("apps/v1").to_string();
            let kind = str_at(t, "kind").unwrap_or("Deployment").to_string();
            Some((api, kind, name))
        });
    }

    fn spec<'d>(&self, d: &'d YNode) -> Result<&'d YNode, InputError> {
        match d.get("spec") {
            Some(s) if matches!(s.value, YValue::Map(_)) => Ok(s),
            Some(s) => Err(self.err(s, "spec", format!("must be a mapping, not {}", s.value.kind()))),
            None => Err(self.err(d, "spec", "is missing: the object's settings")),
        }
    }

    /// `metadata.annotations` `scaler-sim.dev/KEY` (and, for KEDA, its pause annotations).
    fn annotations(&mut self, meta: Option<&YNode>) -> Result<(), InputError> {
        self.annotations_at(meta.and_then(|m| m.get("annotations")), "metadata.annotations")
    }

    fn annotations_at(&mut self, ann: Option<&YNode>, at: &str) -> Result<(), InputError> {
        let Some(ann) = ann else { return Ok(()) };
        let YValue::Map(items) = &ann.value else {
            return Err(self.err(ann, at, format!("must be a mapping, not {}", ann.value.kind())));
        };
        for (k, v) in items {
            let Some(key) = k.strip_prefix(SCALER_ANNOTATION) else { continue };
            let here = format!("{at}[{k:?}]");
            let text = match &v.value {
                YValue::Str(s) | YValue::Number(s) => s.clone(),
                YValue::Bool(b) => b.to_string(),
                other => return Err(self.err(v, &here, format!("an annotation is a string, not {}", other.kind()))),
            };
            let value = toml_value(&text);
            if key == "policy" {
                return Err(self.err(v, &here, "the policy is the manifest's kind; it cannot be an annotation"));
            }
            self.push(key, value, &here, v)?;
        }
        Ok(())
    }

    fn hpa(&mut self, d: &YNode) -> Result<(), InputError> {
        let api = str_at(d, "apiVersion").unwrap_or("");
        if !matches!(api, "autoscaling/v2" | "autoscaling/v2beta2" | "autoscaling/v1") {
            let n = d.get("apiVersion").unwrap_or(d);
            return Err(self.err(n, "apiVersion", format!("{api:?}: must be autoscaling/v2 (or autoscaling/v1)")));
        }
        let spec = self.spec(d)?;
        if api == "autoscaling/v1" {
            self.only_fields(
                spec,
                "spec",
                &["scaleTargetRef", "minReplicas", "maxReplicas", "targetCPUUtilizationPercentage"],
            )?;
        } else {
            self.only_fields(spec, "spec", &["scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior"])?;
        }
        self.push("policy", ConfigValue::String("hpa".into()), "kind", d.get("kind").unwrap_or(d))?;
        if !self.number("min_workers", spec, "minReplicas", "spec", false)? {
            // Kubernetes' default.
            self.push("min_workers", ConfigValue::Number("1".into()), "spec.minReplicas (default 1)", spec)?;
        }
        if !self.number("max_workers", spec, "maxReplicas", "spec", false)? {
            return Err(self.err(spec, "spec.maxReplicas", "is missing: Kubernetes requires it"));
        }
        if api == "autoscaling/v1" {
            self.push("hpa.metric", ConfigValue::String("utilization".into()), "spec", spec)?;
            if !self.number("hpa.target_utilization_percent", spec, "targetCPUUtilizationPercentage", "spec", false)? {
                self.push(
                    "hpa.target_utilization_percent",
                    ConfigValue::Number("80".into()),
                    "spec.targetCPUUtilizationPercentage (default 80)",
                    spec,
                )?;
            }
            return Ok(());
        }
        match spec.get_some("metrics") {
            None => {
                // Kubernetes' default: 80 % CPU.
                self.push("hpa.metric", ConfigValue::String("utilization".into()), "spec.metrics (default)", spec)?;
                self.push(
                    "hpa.target_utilization_percent",
                    ConfigValue::Number("80".into()),
                    "spec.metrics (default: cpu at 80 %)",
                    spec,
                )?;
            }
            Some(ms) => {
                let YValue::Seq(list) = &ms.value else {
                    return Err(self.err(ms, "spec.metrics", format!("must be a list, not {}", ms.value.kind())));
                };
                match list.as_slice() {
                    [one] => self.hpa_metric(one, "spec.metrics[0]")?,
                    [] => return Err(self.err(ms, "spec.metrics", "is empty: give one metric")),
                    _ => {
                        return Err(self.err(
                            ms,
                            "spec.metrics",
                            format!(
                                "has {} metrics: the simulator observes one (the pool's utilization or its tasks), so keep the one that decides",
                                list.len()
                            ),
                        ))
                    }
                }
            }
        }
        if let Some(b) = spec.get_some("behavior") {
            self.behavior("hpa", b, "spec.behavior")?;
        }
        Ok(())
    }

    fn hpa_metric(&mut self, m: &YNode, at: &str) -> Result<(), InputError> {
        let ty = str_at(m, "type").unwrap_or("");
        let source_key = match ty {
            "Resource" => "resource",
            "ContainerResource" => "containerResource",
            "Pods" => "pods",
            "Object" => "object",
            "External" => "external",
            other => {
                let n = m.get("type").unwrap_or(m);
                return Err(self.err(
                    n,
                    &format!("{at}.type"),
                    format!("{other:?}: must be Resource, ContainerResource, Pods, Object or External"),
                ));
            }
        };
        let src_at = format!("{at}.{source_key}");
        let src = m.get_some(source_key).ok_or_else(|| self.err(m, &src_at, "is missing"))?;
        let target_at = format!("{src_at}.target");
        let target = src.get_some("target").ok_or_else(|| self.err(src, &target_at, "is missing"))?;
        let tty = str_at(target, "type").unwrap_or("");
        if ty == "Resource" || ty == "ContainerResource" {
            let name = str_at(src, "name").unwrap_or("");
            if name != "cpu" && name != "memory" {
                let n = src.get("name").unwrap_or(src);
                return Err(self.err(n, &format!("{src_at}.name"), format!("{name:?}: must be cpu or memory")));
            }
            if tty != "Utilization" {
                let n = target.get("type").unwrap_or(target);
                return Err(self.err(
                    n,
                    &format!("{target_at}.type"),
                    format!(
                        "{tty:?}: a resource metric is modelled as the workers' utilization against a request; give type: Utilization with averageUtilization"
                    ),
                ));
            }
            self.push("hpa.metric", ConfigValue::String("utilization".into()), &src_at, src)?;
            if !self.number("hpa.target_utilization_percent", target, "averageUtilization", &target_at, false)? {
                return Err(self.err(target, &format!("{target_at}.averageUtilization"), "is missing"));
            }
            return Ok(());
        }
        // Pods, Object, External: the tasks in the system per worker.
        if tty != "AverageValue" {
            let n = target.get("type").unwrap_or(target);
            return Err(self.err(
                n,
                &format!("{target_at}.type"),
                format!(
                    "{tty:?}: the hpa policy models Pods, Object and External metrics as the tasks in the system per worker, an AverageValue target; give type: AverageValue with averageValue"
                ),
            ));
        }
        self.push("hpa.metric", ConfigValue::String("queue".into()), &src_at, src)?;
        if !self.number("hpa.target_average_value", target, "averageValue", &target_at, true)? {
            return Err(self.err(target, &format!("{target_at}.averageValue"), "is missing"));
        }
        self.m.notices.push(format!(
            "{src_at} is read as the tasks in the system (pending + running) per worker, the one such metric the simulator observes"
        ));
        Ok(())
    }

    /// `behavior` verbatim into `POLICY.behavior`; a direction's `tolerance` (a quantity) into
    /// `POLICY.tolerance_up` / `tolerance_down`.
    fn behavior(&mut self, policy: &str, b: &YNode, at: &str) -> Result<(), InputError> {
        let Some(ConfigValue::Table(mut t)) = config_value(b) else {
            return Err(self.err(b, at, format!("must be a mapping, not {}", b.value.kind())));
        };
        for (dir, key) in [("scaleUp", "tolerance_up"), ("scaleDown", "tolerance_down")] {
            let Some(ConfigValue::Table(rules)) = t.get_mut(dir) else { continue };
            if let Some(tol) = rules.remove("tolerance") {
                let n = b.get(dir).and_then(|d| d.get("tolerance")).unwrap_or(b);
                let here = format!("{at}.{dir}.tolerance");
                let text = match &tol {
                    ConfigValue::Number(x) => Some(x.clone()),
                    ConfigValue::String(s) => quantity(s),
                    _ => None,
                }
                .ok_or_else(|| self.err(n, &here, "must be a quantity such as \"0.05\" or \"50m\""))?;
                self.push(&format!("{policy}.{key}"), ConfigValue::Number(text), &here, n)?;
            }
        }
        self.push(&format!("{policy}.behavior"), ConfigValue::Table(t), at, b)
    }

    fn keda(&mut self, d: &YNode) -> Result<(), InputError> {
        let spec = self.spec(d)?;
        self.only_fields(
            spec,
            "spec",
            &[
                "scaleTargetRef",
                "pollingInterval",
                "cooldownPeriod",
                "initialCooldownPeriod",
                "idleReplicaCount",
                "minReplicaCount",
                "maxReplicaCount",
                "fallback",
                "advanced",
                "triggers",
            ],
        )?;
        self.push("policy", ConfigValue::String("keda".into()), "kind", d.get("kind").unwrap_or(d))?;
        for (field, key) in [
            ("pollingInterval", "keda.polling_interval"),
            ("cooldownPeriod", "keda.cooldown_period"),
            ("initialCooldownPeriod", "keda.initial_cooldown_period"),
            ("minReplicaCount", "keda.min_replica_count"),
            ("maxReplicaCount", "keda.max_replica_count"),
            ("idleReplicaCount", "keda.idle_replica_count"),
        ] {
            self.number(key, spec, field, "spec", false)?;
        }
        if let Some(fb) = spec.get_some("fallback") {
            self.number("keda.fallback_failure_threshold", fb, "failureThreshold", "spec.fallback", false)?;
            self.number("keda.fallback_replicas", fb, "replicas", "spec.fallback", false)?;
            if let Some(b) = fb.get_some("behavior") {
                let v = config_value(b).unwrap_or(ConfigValue::Bool(false));
                self.push("keda.fallback_behavior", v, "spec.fallback.behavior", b)?;
            }
        }
        if let Some(adv) = spec.get_some("advanced") {
            if let Some(sm) = adv.get_some("scalingModifiers") {
                return Err(self.err(
                    sm,
                    "spec.advanced.scalingModifiers",
                    "combine several triggers' metrics; the simulator observes one (the tasks in the system): remove it",
                ));
            }
            if let Some(b) = adv.get_some("horizontalPodAutoscalerConfig").and_then(|h| h.get_some("behavior")) {
                self.behavior("keda", b, "spec.advanced.horizontalPodAutoscalerConfig.behavior")?;
            }
        }
        let triggers = spec
            .get_some("triggers")
            .ok_or_else(|| self.err(spec, "spec.triggers", "is missing: KEDA requires one"))?;
        let YValue::Seq(list) = &triggers.value else {
            return Err(self.err(triggers, "spec.triggers", format!("must be a list, not {}", triggers.value.kind())));
        };
        let [trig] = list.as_slice() else {
            return Err(self.err(
                triggers,
                "spec.triggers",
                format!(
                    "has {} triggers: the simulator observes one metric (the tasks in the system), so keep the one that decides",
                    list.len()
                ),
            ));
        };
        let at = "spec.triggers[0]";
        let ty = str_at(trig, "type").unwrap_or("");
        if matches!(ty, "cpu" | "memory") {
            let n = trig.get("type").unwrap_or(trig);
            return Err(self.err(
                n,
                &format!("{at}.type"),
                format!("{ty:?}: KEDA's {ty} scaler is a Resource metric of the HPA; import it as an HPA (import hpa)"),
            ));
        }
        if let Some(mt) = trig.get_some("metricType") {
            let v = config_value(mt).unwrap_or(ConfigValue::Bool(false));
            if mt.as_str() == Some("Utilization") {
                return Err(self.err(
                    mt,
                    &format!("{at}.metricType"),
                    "\"Utilization\" applies to cpu and memory only; the keda policy models AverageValue and Value",
                ));
            }
            self.push("keda.metric_type", v, &format!("{at}.metricType"), mt)?;
        }
        let meta_at = format!("{at}.metadata");
        let meta = trig.get_some("metadata").ok_or_else(|| self.err(trig, &meta_at, "is missing"))?;
        let found = THRESHOLD_KEYS.iter().find(|k| meta.get_some(k).is_some());
        let Some(tk) = found else {
            return Err(self.err(
                meta,
                &meta_at,
                format!("has none of the target keys the simulator reads ({})", THRESHOLD_KEYS.join(", ")),
            ));
        };
        self.metadata_number("keda.threshold", meta, tk, &meta_at)?;
        if let Some(ak) = ACTIVATION_KEYS.iter().find(|k| meta.get_some(k).is_some()) {
            self.metadata_number("keda.activation_threshold", meta, ak, &meta_at)?;
        }
        if !ty.is_empty() {
            self.m.notices.push(format!(
                "trigger {ty:?} ({meta_at}.{tk}) is read as the tasks in the system (pending + running), the one such metric the simulator observes"
            ));
        }
        // KEDA's pause annotations.
        if let Some(YValue::Map(items)) = d.get("metadata").and_then(|m| m.get("annotations")).map(|a| &a.value) {
            for (k, v) in items {
                let here = format!("metadata.annotations[{k:?}]");
                match k.as_str() {
                    "autoscaling.keda.sh/paused" => {
                        // As KEDA reads it: strconv.ParseBool, and a value that is not a
                        // boolean at all also pauses ("the user wants it paused").
                        let on = match &v.value {
                            YValue::Str(s) => scaler_core::kpa::go::parse_bool(s).unwrap_or(true),
                            YValue::Bool(b) => *b,
                            _ => true,
                        };
                        self.push("keda.paused", ConfigValue::Bool(on), &here, v)?;
                    }
                    k if k.starts_with("autoscaling.keda.sh/paused") => {
                        return Err(self.err(
                            v,
                            &here,
                            "the keda policy models autoscaling.keda.sh/paused only (paused-replicas and the one-direction pauses are not modelled)",
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// A trigger metadata value: KEDA's metadata are strings (`"5"`); numbers are accepted too.
    fn metadata_number(&mut self, key: &str, meta: &YNode, field: &str, at: &str) -> Result<(), InputError> {
        let n = meta.get(field).unwrap_or(meta);
        let here = format!("{at}.{field}");
        let text = match &n.value {
            YValue::Number(t) => t.clone(),
            YValue::Str(s) => quantity(s).ok_or_else(|| self.err(n, &here, format!("{s:?} is not a number")))?,
            other => return Err(self.err(n, &here, format!("must be a number (as a string), not {}", other.kind()))),
        };
        self.push(key, ConfigValue::Number(text), &here, n)
    }

    fn kpa(&mut self, docs: &[Doc<'f>]) -> Result<(), InputError> {
        let first = docs.first().map(|d| d.node);
        if let Some(d) = first {
            self.file = docs[0].file;
            self.push("policy", ConfigValue::String("kpa".into()), "kind", d.get("kind").unwrap_or(d))?;
        }
        let revisions = docs.iter().filter(|d| str_at(d.node, "kind") != Some("ConfigMap")).count();
        if revisions > 1 {
            let names: Vec<String> = docs
                .iter()
                .filter(|d| str_at(d.node, "kind") != Some("ConfigMap"))
                .map(|d| object_name(d.node))
                .collect();
            return Err(InputError::file(
                docs[0].file,
                format!(
                    "holds {revisions} Knative services or revisions ({}): the simulator runs one; give one",
                    names.join(", ")
                ),
            ));
        }
        let known = PolicyKind::Kpa.keys();
        let mut ignored = 0u64;
        for d in docs {
            self.file = d.file;
            self.object(d.node);
            let kind = str_at(d.node, "kind").unwrap_or("");
            let meta = d.node.get("metadata");
            if kind == "ConfigMap" {
                let name = meta.and_then(|m| str_at(m, "name")).unwrap_or("");
                let Some(data) = d.node.get_some("data") else { continue };
                let YValue::Map(items) = &data.value else {
                    return Err(self.err(data, "data", format!("must be a mapping, not {}", data.value.kind())));
                };
                for (k, v) in items {
                    let here = format!("data[{k:?}]");
                    let text = match &v.value {
                        YValue::Str(s) | YValue::Number(s) => s.clone(),
                        YValue::Bool(b) => b.to_string(),
                        other => {
                            return Err(self.err(
                                v,
                                &here,
                                format!("a ConfigMap value is a string, not {}", other.kind()),
                            ))
                        }
                    };
                    if name == "config-deployment" {
                        if k == "progress-deadline" {
                            self.push("kpa.progress-deadline", ConfigValue::String(text), &here, v)?;
                        } else {
                            ignored += 1;
                        }
                        continue;
                    }
                    if k == "pod-autoscaler-class" {
                        self.class(&text, v, &here)?;
                        continue;
                    }
                    if known.contains(&k.as_str()) && !k.contains('/') {
                        self.push(&format!("kpa.{k}"), ConfigValue::String(text), &here, v)?;
                    } else {
                        // `_example` and keys the KPA does not read.
                        ignored += 1;
                    }
                }
                self.annotations(meta)?;
                continue;
            }
            // Service / Configuration: spec.template; Revision: the object itself.
            let (ann_owner, spec_owner, base) = if kind == "Revision" {
                (meta, d.node.get("spec"), "")
            } else {
                let tmpl = d.node.get("spec").and_then(|s| s.get("template"));
                (tmpl.and_then(|t| t.get("metadata")), tmpl.and_then(|t| t.get("spec")), "spec.template.")
            };
            self.annotations(meta)?;
            if let Some(ann) = ann_owner.and_then(|m| m.get("annotations")) {
                let at = format!("{base}metadata.annotations");
                let YValue::Map(items) = &ann.value else {
                    return Err(self.err(ann, &at, format!("must be a mapping, not {}", ann.value.kind())));
                };
                for (k, v) in items {
                    let here = format!("{at}[{k:?}]");
                    let text = match &v.value {
                        YValue::Str(s) | YValue::Number(s) => s.clone(),
                        YValue::Bool(b) => b.to_string(),
                        other => {
                            return Err(self.err(v, &here, format!("an annotation is a string, not {}", other.kind())))
                        }
                    };
                    if let Some(bare) = k.strip_prefix("autoscaling.knative.dev/") {
                        if bare == "class" {
                            self.class(&text, v, &here)?;
                            continue;
                        }
                        let name = legacy_annotation(bare).unwrap_or(bare);
                        let full = format!("autoscaling.knative.dev/{name}");
                        if !known.contains(&full.as_str()) {
                            let names: Vec<&str> =
                                known.iter().filter_map(|k| k.strip_prefix("autoscaling.knative.dev/")).collect();
                            return Err(self.err(
                                v,
                                &here,
                                format!("is not an autoscaling annotation the KPA reads (known: {})", names.join(", ")),
                            ));
                        }
                        self.push(&format!("kpa.{full}"), ConfigValue::String(text), &here, v)?;
                    } else if k == "serving.knative.dev/progress-deadline" {
                        self.push("kpa.serving.knative.dev/progress-deadline", ConfigValue::String(text), &here, v)?;
                    }
                }
                if !base.is_empty() {
                    // The template's own scaler-sim.dev annotations.
                    self.annotations_at(Some(ann), &at)?;
                }
            }
            if let Some(cc) = spec_owner.and_then(|s| s.get_some("containerConcurrency")) {
                let at = format!("{base}spec.containerConcurrency");
                let text = match &cc.value {
                    YValue::Number(t) => t.clone(),
                    other => return Err(self.err(cc, &at, format!("must be a whole number, not {}", other.kind()))),
                };
                self.push("kpa.container-concurrency", ConfigValue::String(text), &at, cc)?;
            }
        }
        if ignored > 0 {
            self.m.left_out.push(("ConfigMap keys the KPA does not read (such as _example)".into(), ignored));
        }
        Ok(())
    }

    fn class(&self, text: &str, v: &YNode, at: &str) -> Result<(), InputError> {
        if text == scaler_core::kpa::KPA_CLASS {
            Ok(())
        } else {
            Err(self.err(
                v,
                at,
                format!(
                    "{text:?}: only the KPA ({}) is modelled; for the HPA class import the HPA",
                    scaler_core::kpa::KPA_CLASS
                ),
            ))
        }
    }
}

/// Knative's older camelCase annotation names, still accepted upstream.
fn legacy_annotation(bare: &str) -> Option<&'static str> {
    Some(match bare {
        "minScale" => "min-scale",
        "maxScale" => "max-scale",
        "initialScale" => "initial-scale",
        "targetUtilizationPercentage" => "target-utilization-percentage",
        "targetBurstCapacity" => "target-burst-capacity",
        "panicWindowPercentage" => "panic-window-percentage",
        "panicThresholdPercentage" => "panic-threshold-percentage",
        "scaleDownDelay" => "scale-down-delay",
        "scaleToZeroPodRetentionPeriod" => "scale-to-zero-pod-retention-period",
        "activationScale" => "activation-scale",
        _ => return None,
    })
}

/// The trigger metadata keys read as the target, in order: the common scalers' names
/// (`value` for prometheus and metrics-api, `targetValue` for metrics-api and http,
/// `threshold` for prometheus' older form, `queueLength` for azure-queue and rabbitmq,
/// `listLength` for redis lists, `lagThreshold` for kafka, `targetQueueLength` for
/// activemq, `messageCount` for aws-sqs's `queueLength` sibling, `desiredReplicas` for cron).
pub const THRESHOLD_KEYS: &[&str] = &[
    "value",
    "targetValue",
    "threshold",
    "queueLength",
    "listLength",
    "lagThreshold",
    "targetQueueLength",
    "messageCount",
    "targetPipelinesQueueLength",
    "desiredReplicas",
];

/// The trigger metadata keys read as the activation target.
pub const ACTIVATION_KEYS: &[&str] = &[
    "activationValue",
    "activationTargetValue",
    "activationThreshold",
    "activationQueueLength",
    "activationListLength",
    "activationLagThreshold",
    "activationTargetQueueLength",
    "activationMessageCount",
];

/// An annotation's text as a TOML value (`30` a number, `true` a boolean,
/// `{ percent = 50, min = 1 }` a table); any other text is a string.
fn toml_value(text: &str) -> ConfigValue {
    match crate::tomldoc::Doc::parse(Path::new("annotation"), format!("v = {text}")) {
        Ok(d) if d.root.len() == 1 => {
            let node = &d.root[0].2;
            crate::scenario::config_value(&d, "v", node).unwrap_or_else(|_| ConfigValue::String(text.to_string()))
        }
        _ => ConfigValue::String(text.to_string()),
    }
}

/// Where each key of a configuration being built was set, to place a refusal.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// `(key, where)`; the newest last.
    set: Vec<(String, Source)>,
}

/// Where a key was set.
#[derive(Clone, Debug)]
enum Source {
    Entry(Entry),
    Default(PathBuf, String),
    Other(InputErrorAt),
}

/// A place given by a caller (a TOML key of the scenario).
#[derive(Clone, Debug)]
pub struct InputErrorAt {
    /// The file.
    pub path: PathBuf,
    /// The place.
    pub location: Location,
}

impl Sources {
    /// Records that `key` was set at `at`.
    pub fn other(&mut self, key: &str, at: InputErrorAt) {
        self.set.push((key.to_string(), Source::Other(at)));
    }

    /// The refusal of `e`, at the place that set its key (the newest setter of the longest
    /// matching key), or `None` when no recorded key matches.
    #[must_use]
    pub fn locate(&self, e: &ConfigError) -> Option<InputError> {
        let k = e.key();
        let matches =
            |key: &str| k == key || k.strip_prefix(key).is_some_and(|r| r.starts_with('.') || r.starts_with('['));
        let (_, src) = self.set.iter().rev().filter(|(key, _)| matches(key)).max_by_key(|(key, _)| key.len())?;
        let msg = e.clone().prefixed("scaler.").to_string();
        Some(match src {
            Source::Entry(en) => en.error(msg),
            Source::Default(file, why) => {
                InputError::file(file, format!("{msg} (a default: {why}; set it beside `manifest`)"))
            }
            Source::Other(at) => InputError { path: at.path.clone(), location: at.location.clone(), message: msg },
        })
    }
}

impl Manifest {
    /// The entry that gives `key`, if the manifest gives it.
    #[must_use]
    pub fn carries(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The file the manifest was read from (its first).
    #[must_use]
    pub fn file(&self) -> &Path {
        self.entries.first().map_or(Path::new("manifest"), |e| e.file.as_path())
    }

    /// Sets the manifest's keys (the policy, the defaults, then its entries) into `b`,
    /// recording where each came from; `skip` names the defaults the caller sets itself.
    pub fn apply(&self, b: &mut ConfigBuilder, sources: &mut Sources, skip: &[String]) -> Result<(), InputError> {
        let mut set = |b: &mut ConfigBuilder, key: &str, v: &ConfigValue, src: Source| -> Result<(), InputError> {
            sources.set.push((key.to_string(), src));
            b.set(key, v).map(|_| ()).map_err(|e| {
                sources.locate(&e).unwrap_or_else(|| InputError::file(self.file(), e.prefixed("scaler.").to_string()))
            })
        };
        let (policy, rest): (Vec<&Entry>, Vec<&Entry>) = self.entries.iter().partition(|e| e.key == "policy");
        for e in policy {
            set(b, &e.key, &e.value, Source::Entry(e.clone()))?;
        }
        for (k, v, why) in &self.defaults {
            if skip.iter().any(|s| s == k) {
                continue;
            }
            set(b, k, &ConfigValue::Number(v.clone()), Source::Default(self.file().to_path_buf(), why.clone()))?;
        }
        for e in rest {
            set(b, &e.key, &e.value, Source::Entry(e.clone()))?;
        }
        Ok(())
    }

    /// The configuration the manifest describes, validated (a refusal names the field).
    pub fn config(&self) -> Result<ScalerConfig, InputError> {
        let mut b = ScalerConfig::builder();
        let mut sources = Sources::default();
        self.apply(&mut b, &mut sources, &[])?;
        b.build().map_err(|e| {
            sources.locate(&e).unwrap_or_else(|| InputError::file(self.file(), e.prefixed("scaler.").to_string()))
        })
    }

    /// The `[scaler]` table (TOML) the manifest describes, with its defaults commented.
    #[must_use]
    pub fn to_toml(&self, command: &str) -> String {
        let mut out = format!(
            "# The [scaler] table of {} ({}),\n# written by `{command}`.\n# Keys marked \"default\" are not in the manifest: the value is the system's\n# behaviour or what the simulator needs; edit them here.\n[scaler]\n",
            self.file().display(),
            self.objects.join(", ")
        );
        let policy = self.system.policy();
        let mut sub = String::new();
        for e in &self.entries {
            let name = match e.key.split_once('.') {
                Some((head, rest)) if head == policy => toml_key(rest),
                _ => e.key.split('.').map(toml_key).collect::<Vec<_>>().join("."),
            };
            let line = format!("{name} = {}  # {}\n", toml_text(&e.value), e.at.replace('\n', " "));
            match e.key.split_once('.') {
                Some((head, _)) if head == policy => sub.push_str(&line),
                _ => out.push_str(&line),
            }
        }
        for (k, v, why) in &self.defaults {
            out.push_str(&format!("{k} = {v}  # default: {why}\n"));
        }
        if !sub.is_empty() {
            out.push_str(&format!("\n[scaler.{policy}]\n{sub}"));
        }
        out
    }
}

/// A TOML key, quoted when it is not a bare key.
#[must_use]
pub fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        toml_string(k)
    }
}

/// A TOML basic string.
#[must_use]
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A configuration value as TOML text (inline tables and arrays).
#[must_use]
pub fn toml_text(v: &ConfigValue) -> String {
    match v {
        ConfigValue::Bool(b) => b.to_string(),
        ConfigValue::Integer(i) => i.to_string(),
        ConfigValue::Float(x) => format!("{x:?}"),
        ConfigValue::Number(t) => t.clone(),
        ConfigValue::String(s) => toml_string(s),
        ConfigValue::Array(a) => format!("[{}]", a.iter().map(toml_text).collect::<Vec<_>>().join(", ")),
        ConfigValue::Table(t) => {
            if t.is_empty() {
                return "{}".to_string();
            }
            let items: Vec<String> = t.iter().map(|(k, v)| format!("{} = {}", toml_key(k), toml_text(v))).collect();
            format!("{{ {} }}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_read_exactly() {
        for (q, want) in [
            ("500m", Some("0.5")),
            ("1500m", Some("1.5")),
            ("2", Some("2")),
            ("1.25", Some("1.25")),
            ("1k", Some("1000")),
            ("1Ki", Some("1024")),
            ("1.5Mi", Some("1572864")),
            ("3e2", Some("300")),
            ("0.1m", Some("0.0001")),
            ("-2", Some("-2")),
            ("", None),
            ("m", None),
            ("1.2.3", None),
            ("5x", None),
            ("1e", None),
        ] {
            assert_eq!(quantity(q).as_deref(), want, "{q:?}");
        }
    }

    #[test]
    fn the_system_is_found_from_the_objects_and_mixed_systems_are_refused() {
        let hpa =
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec: {maxReplicas: 3}\n";
        let m = from_text(Path::new("a.yaml"), hpa, None).unwrap();
        assert_eq!(m.system, System::Hpa);
        assert_eq!(m.config().unwrap().max_workers(), 3);
        let keda = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: k}\nspec:\n  triggers: [{type: redis, metadata: {listLength: \"5\"}}]\n";
        let e = from_text(Path::new("b.yaml"), &format!("{hpa}---\n{keda}"), None).unwrap_err().to_string();
        assert!(e.contains("b.yaml: holds objects of several autoscalers"), "{e}");
        // Asked for one system, the other's objects are left out and counted.
        let m = from_text(Path::new("b.yaml"), &format!("{hpa}---\n{keda}"), Some(System::Keda)).unwrap();
        assert_eq!(m.left_out, vec![("objects of other kinds".to_string(), 1)]);
        assert_eq!(m.config().unwrap().policy().as_str(), "keda");
    }

    #[test]
    fn annotations_set_other_keys_and_may_not_repeat_a_field() {
        let base = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: a\n  annotations:\n";
        let ok = format!("{base}    scaler-sim.dev/evaluation_interval: \"30\"\n    scaler-sim.dev/scale_up_step: \"{{ percent = 10, min = 2 }}\"\nspec: {{maxReplicas: 3}}\n");
        let c = from_text(Path::new("a.yaml"), &ok, None).unwrap().config().unwrap();
        assert_eq!(c.evaluation_interval().as_ms(), 30_000);
        assert_eq!(c.scale_up_step().min(), 2);
        let dup = format!("{base}    scaler-sim.dev/max_workers: \"9\"\nspec: {{maxReplicas: 3}}\n");
        let e = from_text(Path::new("a.yaml"), &dup, None).unwrap_err().to_string();
        assert!(e.contains("a.yaml:6:33: metadata.annotations[\"scaler-sim.dev/max_workers\"]: sets scaler.max_workers, which spec.maxReplicas at 7:21 already sets"), "{e}");
    }
}
