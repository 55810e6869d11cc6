//! The rendered manifests of an overlay (`kubectl kustomize`), as JSON values, and what the checks ask of them.

use std::{path::PathBuf, process::Command};

use serde_json::{Map, Value};

/// The repository's root.
pub fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every object of one rendered overlay.
#[derive(Clone)]
pub struct Rendered {
    pub objects: Vec<Value>,
}

impl Rendered {
    /// `kubectl kustomize deploy/k8s/overlays/{overlay}`, read as JSON (PyYAML of the project's tool folder).
    pub fn overlay(overlay: &str) -> Self {
        let dir = repository().join("deploy/k8s/overlays").join(overlay);
        let yaml = Command::new("kubectl").arg("kustomize").arg(&dir).output().expect(
            "kubectl (with kustomize) renders the manifests; install it (https://kubernetes.io/docs/tasks/tools/)",
        );
        assert!(
            yaml.status.success(),
            "kubectl kustomize {}: {}",
            dir.display(),
            String::from_utf8_lossy(&yaml.stderr)
        );
        Self::from_yaml(&yaml.stdout)
    }

    /// Objects from a YAML stream.
    pub fn from_yaml(yaml: &[u8]) -> Self {
        let python = repository().join(".tools/venv/bin/python");
        let mut child = Command::new(&python)
            .args([
                "-c",
                "import json, sys, yaml; json.dump([o for o in yaml.safe_load_all(sys.stdin) if o], sys.stdout)",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} (run cli/test.sh --install-only): {e}", python.display()));
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), yaml).unwrap();
        drop(child.stdin.take());
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "PyYAML could not read the manifests");
        let objects: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        assert!(!objects.is_empty(), "the overlay rendered nothing");
        Self { objects }
    }

    /// The objects of `kind`.
    pub fn all<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects.iter().filter(move |o| o["kind"] == kind)
    }

    /// The object of `kind` named `name`.
    pub fn get(&self, kind: &str, name: &str) -> Option<&Value> {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
    }

    /// The workloads that run pods: Deployments and Jobs, with their pod specs.
    pub fn workloads(&self) -> impl Iterator<Item = Workload<'_>> {
        self.objects
            .iter()
            .filter(|o| o["kind"] == "Deployment" || o["kind"] == "Job")
            .map(|object| Workload { object })
    }

    /// The Deployments of FDI Atlas's own services (named `fdi-…`).
    pub fn services(&self) -> impl Iterator<Item = Workload<'_>> {
        self.workloads()
            .filter(|w| w.kind() == "Deployment" && w.name().starts_with("fdi-"))
    }

    /// One key of a ConfigMap's data.
    pub fn config_map(&self, name: &str) -> &Map<String, Value> {
        self.get("ConfigMap", name)
            .and_then(|c| c["data"].as_object())
            .unwrap_or_else(|| panic!("no ConfigMap {name}"))
    }
}

/// A Deployment or Job.
#[derive(Clone, Copy)]
pub struct Workload<'a> {
    pub object: &'a Value,
}

impl<'a> Workload<'a> {
    pub fn kind(&self) -> &'a str {
        self.object["kind"].as_str().unwrap_or_default()
    }

    pub fn name(&self) -> &'a str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }

    pub fn pod(&self) -> &'a Value {
        &self.object["spec"]["template"]["spec"]
    }

    pub fn pod_labels(&self) -> &'a Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.object["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// Init containers, then containers: the order a pod runs them in.
    pub fn containers(&self) -> Vec<&'a Value> {
        let pod = self.pod();
        [&pod["initContainers"], &pod["containers"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .collect()
    }

    /// The main container (the first of `containers`).
    pub fn main_container(&self) -> &'a Value {
        &self.pod()["containers"][0]
    }

    /// Every (name, number) port of the pod's containers.
    pub fn ports(&self) -> Vec<(String, u16)> {
        self.containers()
            .iter()
            .filter_map(|c| c["ports"].as_array())
            .flatten()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default().to_owned(),
                    u16::try_from(p["containerPort"].as_u64().unwrap_or_default()).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The number of the container port named `name`, or `port` itself when it is a number.
    pub fn resolve_port(&self, port: &Value) -> Option<u16> {
        match port {
            Value::Number(number) => number.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(name) => self.ports().into_iter().find(|(n, _)| n == name).map(|(_, p)| p),
            _ => None,
        }
    }
}

/// Whether a Kubernetes label selector (`matchLabels`, `matchExpressions`) selects `labels`; an empty
/// selector selects everything.
pub fn selects(selector: &Value, labels: &Map<String, Value>) -> bool {
    let by_labels = selector["matchLabels"]
        .as_object()
        .is_none_or(|wanted| wanted.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let by_expressions = selector["matchExpressions"].as_array().is_none_or(|expressions| {
        expressions.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&Value> = e["values"].as_array().map(|v| v.iter().collect()).unwrap_or_default();
            match e["operator"].as_str() {
                Some("In") => labels.get(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => labels.get(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => labels.contains_key(key),
                Some("DoesNotExist") => !labels.contains_key(key),
                _ => false,
            }
        })
    });
    by_labels && by_expressions
}

/// Whether a Service's selector (a plain map of labels, unlike a label selector) selects `labels`.
pub fn service_selects(service: &Value, labels: &Map<String, Value>) -> bool {
    service["spec"]["selector"]
        .as_object()
        .is_some_and(|wanted| !wanted.is_empty() && wanted.iter().all(|(k, v)| labels.get(k) == Some(v)))
}
