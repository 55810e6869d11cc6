//! The project's own policy for its manifests: what every pod, every service and the namespace must have
//! (deploy/README.md, "What the manifests guarantee"). Each rule yields a violation naming the object.

use serde_json::Value;

use super::manifests::{Rendered, Workload, selects, service_selects};

/// What an overlay promises beyond the rules every overlay keeps.
pub struct Expect {
    /// Replicas of each service.
    pub replicas: u64,
    /// Whether the services serve TLS only (and reflection is off).
    pub tls: bool,
}

/// Every violation of the policy in `rendered`; empty when it holds.
pub fn violations(rendered: &Rendered, expect: &Expect) -> Vec<String> {
    let mut found = Vec::new();
    namespace(rendered, &mut found);
    for workload in rendered.workloads() {
        pod_security(rendered, workload, &mut found);
        for container in workload.containers() {
            container_rules(workload, container, &mut found);
        }
        if workload.kind() == "Deployment" {
            probes_present(workload, &mut found);
        }
    }
    let services: Vec<Workload> = rendered.services().collect();
    if services.len() != 3 {
        found.push(format!("{} service Deployments, not 3", services.len()));
    }
    for service in services {
        service_rules(rendered, service, expect, &mut found);
    }
    if !rendered.all("NetworkPolicy").any(is_default_deny) {
        found.push("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)".into());
    }
    found
}

fn namespace(rendered: &Rendered, found: &mut Vec<String>) {
    let Some(namespace) = rendered.get("Namespace", "fdi") else {
        found.push("no Namespace fdi".into());
        return;
    };
    if namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] != "restricted" {
        found.push("Namespace fdi does not enforce the restricted Pod Security Standard".into());
    }
    for object in &rendered.objects {
        let kind = object["kind"].as_str().unwrap_or_default();
        if kind != "Namespace" && object["metadata"]["namespace"] != "fdi" {
            found.push(format!("{kind} {} is not in namespace fdi", object["metadata"]["name"]));
        }
    }
}

fn pod_security(rendered: &Rendered, workload: Workload, found: &mut Vec<String>) {
    let (pod, name) = (workload.pod(), workload.name());
    let context = &pod["securityContext"];
    if context["runAsNonRoot"] != true {
        found.push(format!("{name}: the pod does not set runAsNonRoot"));
    }
    if context["runAsUser"].as_u64().is_none_or(|uid| uid < 10000) {
        found.push(format!(
            "{name}: the pod does not run as a numeric user of 10000 or more"
        ));
    }
    if context["seccompProfile"]["type"] != "RuntimeDefault" {
        found.push(format!("{name}: the pod has no RuntimeDefault seccomp profile"));
    }
    if pod["automountServiceAccountToken"] != false {
        found.push(format!("{name}: the pod mounts a service account token"));
    }
    if let Some(account) = pod["serviceAccountName"].as_str()
        && rendered
            .get("ServiceAccount", account)
            .is_none_or(|a| a["automountServiceAccountToken"] != false)
    {
        found.push(format!(
            "{name}: ServiceAccount {account} is missing or automounts its token"
        ));
    }
    if pod["hostNetwork"] == true || pod["hostPID"] == true || pod["hostIPC"] == true {
        found.push(format!("{name}: the pod shares a host namespace"));
    }
}

fn container_rules(workload: Workload, container: &Value, found: &mut Vec<String>) {
    let name = format!("{}/{}", workload.name(), container["name"].as_str().unwrap_or("?"));
    let image = container["image"].as_str().unwrap_or_default();
    if !is_pinned(image) {
        found.push(format!("{name}: image `{image}` is not pinned to a version or digest"));
    }
    for (bound, resource) in [
        ("requests", "cpu"),
        ("requests", "memory"),
        ("limits", "cpu"),
        ("limits", "memory"),
    ] {
        if container["resources"][bound][resource].is_null() {
            found.push(format!("{name}: no {bound}.{resource}"));
        }
    }
    let context = &container["securityContext"];
    if context["allowPrivilegeEscalation"] != false {
        found.push(format!("{name}: privilege escalation is not forbidden"));
    }
    if context["privileged"] == true {
        found.push(format!("{name}: privileged"));
    }
    if context["readOnlyRootFilesystem"] != true {
        found.push(format!("{name}: the root filesystem is writable"));
    }
    let drops_all = context["capabilities"]["drop"]
        .as_array()
        .is_some_and(|drop| drop.iter().any(|c| c == "ALL"));
    if !drops_all
        || context["capabilities"]["add"]
            .as_array()
            .is_some_and(|add| !add.is_empty())
    {
        found.push(format!("{name}: does not drop every capability"));
    }
}

/// `registry/name:version` or `…@sha256:…`; never `latest`, never untagged.
fn is_pinned(image: &str) -> bool {
    if let Some((_, digest)) = image.split_once("@sha256:") {
        return digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let name = image.rsplit('/').next().unwrap_or(image);
    name.split_once(':')
        .is_some_and(|(_, tag)| !tag.is_empty() && tag != "latest")
}

fn probes_present(workload: Workload, found: &mut Vec<String>) {
    for container in workload.pod()["containers"].as_array().into_iter().flatten() {
        for probe in ["readinessProbe", "livenessProbe"] {
            if container[probe].is_null() {
                found.push(format!("{}: no {probe}", workload.name()));
            }
        }
    }
}

/// A service: gRPC probes on its health port, a named `grpc` port behind a Service, a PDB, an HPA, spread
/// across nodes, its ConfigMap, a writable /tmp, and the overlay's replicas and transport.
fn service_rules(rendered: &Rendered, service: Workload, expect: &Expect, found: &mut Vec<String>) {
    let name = service.name();
    let container = service.main_container();
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        if container[probe]["grpc"]["port"].as_u64().is_none() {
            found.push(format!("{name}: the {probe} is not a native gRPC probe"));
        }
    }
    if service.resolve_port(&Value::from("grpc")).is_none() {
        found.push(format!("{name}: no container port named grpc"));
    }
    if !rendered.all("Service").any(|s| fronts(s, service)) {
        found.push(format!("{name}: no Service with a port named grpc in front of it"));
    }
    if !rendered
        .all("PodDisruptionBudget")
        .any(|p| selects(&p["spec"]["selector"], service.pod_labels()))
    {
        found.push(format!("{name}: no PodDisruptionBudget"));
    }
    let replicas = service.object["spec"]["replicas"].as_u64().unwrap_or(1);
    if replicas != expect.replicas {
        found.push(format!("{name}: {replicas} replicas, not {}", expect.replicas));
    }
    let scaled = rendered
        .all("HorizontalPodAutoscaler")
        .find(|h| h["spec"]["scaleTargetRef"]["kind"] == "Deployment" && h["spec"]["scaleTargetRef"]["name"] == name);
    match scaled {
        None => found.push(format!("{name}: no HorizontalPodAutoscaler")),
        Some(hpa) if hpa["spec"]["minReplicas"].as_u64() != Some(replicas) => {
            found.push(format!(
                "{name}: the HPA's minReplicas is not the Deployment's replicas"
            ));
        }
        Some(_) => {}
    }
    let spread = service.pod()["topologySpreadConstraints"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["topologyKey"] == "kubernetes.io/hostname"));
    if !spread {
        found.push(format!("{name}: not spread across nodes"));
    }
    writable_tmp(service, found);
    transport(rendered, service, expect, found);
}

fn fronts(service: &Value, workload: Workload) -> bool {
    service_selects(service, workload.pod_labels())
        && service["spec"]["ports"].as_array().is_some_and(|ports| {
            ports
                .iter()
                .any(|p| p["name"] == "grpc" && workload.resolve_port(&p["targetPort"]).is_some())
        })
}

fn writable_tmp(service: Workload, found: &mut Vec<String>) {
    let mounted = service.main_container()["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["mountPath"] == "/tmp");
    let is_empty_dir = mounted.is_some_and(|m| {
        service.pod()["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["name"] == m["name"] && v["emptyDir"].is_object())
    });
    if !is_empty_dir {
        found.push(format!("{}: no emptyDir at /tmp", service.name()));
    }
}

/// The settings of the service's ConfigMap: TLS and no reflection, or plaintext said out loud.
fn transport(rendered: &Rendered, service: Workload, expect: &Expect, found: &mut Vec<String>) {
    let name = service.name();
    let Some(config) = service.main_container()["envFrom"][0]["configMapRef"]["name"].as_str() else {
        found.push(format!("{name}: takes no ConfigMap"));
        return;
    };
    let Some(settings) = rendered.get("ConfigMap", config).and_then(|c| c["data"].as_object()) else {
        found.push(format!("{name}: ConfigMap {config} is not in the overlay"));
        return;
    };
    let setting = |key: &str| settings.get(key).and_then(Value::as_str).unwrap_or_default();
    if expect.tls {
        if setting("FDI_TLS_CERT").is_empty() || setting("FDI_TLS_KEY").is_empty() {
            found.push(format!("{name}: no TLS certificate"));
        }
        if setting("FDI_ALLOW_PLAINTEXT") == "true" {
            found.push(format!("{name}: plaintext allowed"));
        }
        if setting("FDI_REFLECTION") != "false" {
            found.push(format!("{name}: reflection is served"));
        }
    } else if setting("FDI_ALLOW_PLAINTEXT") != "true" && setting("FDI_TLS_CERT").is_empty() {
        found.push(format!(
            "{name}: neither a certificate nor plaintext allowed: it would not start"
        ));
    }
    if setting("FDI_HEALTH_ADDR").is_empty() {
        found.push(format!("{name}: no plaintext health port for the kubelet's probes"));
    }
}

fn is_default_deny(policy: &Value) -> bool {
    let spec = &policy["spec"];
    let types = spec["policyTypes"].as_array();
    spec["podSelector"].as_object().is_some_and(serde_json::Map::is_empty)
        && types.is_some_and(|t| t.iter().any(|t| t == "Ingress") && t.iter().any(|t| t == "Egress"))
        && spec["ingress"].as_array().is_none_or(Vec::is_empty)
        && spec["egress"].as_array().is_none_or(Vec::is_empty)
}
