//! Which pod may open a connection to which, by the rendered NetworkPolicies, evaluated as the Kubernetes
//! API defines them (a pod selected by no policy of a direction is open in it; a selected one admits only
//! what some rule allows). An `ipBlock` is taken to match any peer, which can only make the checks stricter.

use serde_json::{Map, Value};

use super::manifests::{Rendered, selects};

/// The namespace the manifests live in.
const NAMESPACE: &str = "fdi";

/// A pod the overlay runs (one per workload, and the PostgreSQL instances of a CloudNativePG Cluster).
pub struct Pod {
    pub name: String,
    pub labels: Map<String, Value>,
    pub ports: Vec<(String, u16)>,
}

/// Who opens a connection.
pub enum Peer<'a> {
    /// A pod of the namespace.
    Pod(&'a Pod),
    /// A pod in another namespace labelled so.
    Elsewhere(Map<String, Value>),
}

/// The pods of `rendered`.
pub fn pods(rendered: &Rendered) -> Vec<Pod> {
    let mut pods: Vec<Pod> = rendered
        .workloads()
        .map(|w| Pod {
            name: w.name().to_owned(),
            labels: w.pod_labels().clone(),
            ports: w.ports(),
        })
        .collect();
    // The operator makes these pods; their labels and ports are CloudNativePG's.
    for cluster in rendered.all("Cluster") {
        let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
        let mut labels = Map::new();
        labels.insert("cnpg.io/cluster".into(), Value::from(name));
        pods.push(Pod {
            name: format!("{name} (CloudNativePG)"),
            labels,
            ports: vec![("postgresql".into(), 5432), ("status".into(), 8000)],
        });
    }
    pods
}

/// Whether `source` may connect to `target` on `port`: its egress and the target's ingress both allow it.
pub fn connects(rendered: &Rendered, source: &Peer, target: &Pod, port: u16) -> bool {
    let leaves = match source {
        Peer::Pod(pod) => allowed(rendered, pod, "Egress", &Peer::Pod(target), target, port),
        Peer::Elsewhere(_) => true,
    };
    leaves && allowed(rendered, target, "Ingress", source, target, port)
}

/// Whether the policies of `subject` in `direction` let `peer` through on `port` of `destination`.
fn allowed(rendered: &Rendered, subject: &Pod, direction: &str, peer: &Peer, destination: &Pod, port: u16) -> bool {
    let (rules_key, peers_key) = if direction == "Ingress" {
        ("ingress", "from")
    } else {
        ("egress", "to")
    };
    let policies: Vec<&Value> = rendered
        .all("NetworkPolicy")
        .filter(|p| selects(&p["spec"]["podSelector"], &subject.labels) && has_type(p, direction))
        .collect();
    if policies.is_empty() {
        return true;
    }
    policies
        .iter()
        .filter_map(|p| p["spec"][rules_key].as_array())
        .flatten()
        .any(|rule| {
            let peers_match = rule[peers_key]
                .as_array()
                .is_none_or(|peers| peers.is_empty() || peers.iter().any(|p| peer_matches(rendered, p, peer)));
            peers_match && port_matches(&rule["ports"], destination, port)
        })
}

fn has_type(policy: &Value, direction: &str) -> bool {
    match policy["spec"]["policyTypes"].as_array() {
        Some(types) => types.iter().any(|t| t == direction),
        None => direction == "Ingress" || policy["spec"]["egress"].is_array(),
    }
}

fn peer_matches(rendered: &Rendered, selector: &Value, peer: &Peer) -> bool {
    if selector["ipBlock"].is_object() {
        return true;
    }
    let empty = Map::new();
    let (namespace_labels, pod_labels) = match peer {
        Peer::Pod(pod) => (own_namespace_labels(rendered), &pod.labels),
        Peer::Elsewhere(labels) => (labels.clone(), &empty),
    };
    let namespace_ok = match &selector["namespaceSelector"] {
        Value::Null => matches!(peer, Peer::Pod(_)),
        namespace => selects(namespace, &namespace_labels),
    };
    let pod_ok = match &selector["podSelector"] {
        Value::Null => true,
        pods => selects(pods, pod_labels),
    };
    namespace_ok && pod_ok
}

fn own_namespace_labels(rendered: &Rendered) -> Map<String, Value> {
    let mut labels = rendered
        .get("Namespace", NAMESPACE)
        .and_then(|n| n["metadata"]["labels"].as_object())
        .cloned()
        .unwrap_or_default();
    labels.insert("kubernetes.io/metadata.name".into(), Value::from(NAMESPACE));
    labels
}

fn port_matches(ports: &Value, destination: &Pod, port: u16) -> bool {
    let Some(ports) = ports.as_array().filter(|p| !p.is_empty()) else {
        return true;
    };
    ports.iter().any(|p| match &p["port"] {
        Value::Null => true,
        Value::Number(n) => n.as_u64() == Some(u64::from(port)),
        Value::String(name) => destination.ports.iter().any(|(n, number)| n == name && *number == port),
        _ => false,
    })
}
