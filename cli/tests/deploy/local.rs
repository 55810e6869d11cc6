//! A rendered workload's containers as local processes, configured exactly as the manifests say: the
//! command and arguments, the environment (values, ConfigMaps and Secrets), the files of mounted Secrets.
//! Only what a cluster gives differently is mapped: every Service's name and port to a free localhost port,
//! every listen address to that port, mount paths to folders here, and Secrets to the test's values.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use serde_json::Value;

use super::manifests::{Rendered, Workload, service_selects};

/// Secret values by (Secret, key).
pub type Secrets = HashMap<(String, String), String>;

pub struct Local<'a> {
    rendered: &'a Rendered,
    secrets: &'a Secrets,
    dir: PathBuf,
    /// (workload, container port) → the localhost port standing for it.
    ports: HashMap<(String, u16), u16>,
}

impl<'a> Local<'a> {
    pub fn new(rendered: &'a Rendered, secrets: &'a Secrets, dir: &Path) -> Self {
        let ports = rendered
            .workloads()
            .flat_map(|w| {
                w.ports()
                    .into_iter()
                    .map(move |(_, port)| ((w.name().to_owned(), port), crate::common::free_port()))
            })
            .collect();
        Self {
            rendered,
            secrets,
            dir: dir.to_owned(),
            ports,
        }
    }

    /// The localhost port standing for `port` (a number or a port name) of `workload`.
    pub fn port(&self, workload: Workload, port: &Value) -> u16 {
        let number = workload
            .resolve_port(port)
            .unwrap_or_else(|| panic!("{}: no port {port}", workload.name()));
        self.ports[&(workload.name().to_owned(), number)]
    }

    /// The process `container` of `workload` is, ready to spawn, its output going to a log file.
    pub fn command(&self, workload: Workload, container: &Value) -> (Command, PathBuf) {
        let replacements = self.replacements(workload, container);
        let rewrite = |text: &str| {
            replacements
                .iter()
                .fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
        };
        let words: Vec<String> = [&container["command"], &container["args"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|w| rewrite(w.as_str().expect("command words are strings")))
            .collect();
        let (program, rest) = words.split_first().expect("every container names its command");
        let mut command = binary(program);
        command.args(rest).env_clear();
        for (key, value) in self.environment(container) {
            command.env(key, rewrite(&value));
        }
        let log = self.dir.join(format!(
            "{}-{}.log",
            workload.name(),
            container["name"].as_str().unwrap_or("container")
        ));
        let file = std::fs::File::create(&log).unwrap();
        command
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file));
        (command, log)
    }

    /// The container's environment: its ConfigMaps and Secrets (`envFrom`), then `env`, as Kubernetes
    /// builds it (later entries win).
    fn environment(&self, container: &Value) -> Vec<(String, String)> {
        let mut environment = Vec::new();
        for source in container["envFrom"].as_array().into_iter().flatten() {
            if let Some(name) = source["configMapRef"]["name"].as_str() {
                for (key, value) in self.rendered.config_map(name) {
                    environment.push((key.clone(), value.as_str().unwrap_or_default().to_owned()));
                }
            }
            assert!(source["secretRef"].is_null(), "the manifests take Secrets key by key");
        }
        for variable in container["env"].as_array().into_iter().flatten() {
            let name = variable["name"].as_str().unwrap().to_owned();
            let value = match (&variable["value"], &variable["valueFrom"]) {
                (Value::String(value), _) => value.clone(),
                (_, from) if from["secretKeyRef"].is_object() => self.secret(&from["secretKeyRef"]).to_owned(),
                (_, from) if from["configMapKeyRef"].is_object() => {
                    let reference = &from["configMapKeyRef"];
                    let map = self.rendered.config_map(reference["name"].as_str().unwrap());
                    map[reference["key"].as_str().unwrap()].as_str().unwrap().to_owned()
                }
                other => panic!("{name}: a source this test does not map: {other:?}"),
            };
            environment.push((name, value));
        }
        environment
    }

    fn secret(&self, reference: &Value) -> &str {
        let (name, key) = (
            reference["name"].as_str().unwrap().to_owned(),
            reference["key"].as_str().unwrap().to_owned(),
        );
        self.secrets
            .get(&(name.clone(), key.clone()))
            .unwrap_or_else(|| panic!("the manifests read Secret {name} key {key}, which the test does not know"))
    }

    /// What to rewrite in the container's words and values, longest first: Service addresses, its own
    /// listen addresses, and the paths of mounted Secrets.
    fn replacements(&self, workload: Workload, container: &Value) -> Vec<(String, String)> {
        let mut replacements = Vec::new();
        for service in self.rendered.all("Service") {
            let Some(backend) = self
                .rendered
                .workloads()
                .find(|w| service_selects(service, w.pod_labels()))
            else {
                continue;
            };
            let name = service["metadata"]["name"].as_str().unwrap();
            for port in service["spec"]["ports"].as_array().into_iter().flatten() {
                let local = self.port(backend, &port["targetPort"]);
                let number = port["port"].as_u64().unwrap();
                for host in [
                    name.to_owned(),
                    format!("{name}.fdi"),
                    format!("{name}.fdi.svc"),
                    format!("{name}.fdi.svc.cluster.local"),
                ] {
                    replacements.push((format!("{host}:{number}"), format!("localhost:{local}")));
                }
            }
        }
        for (_, port) in workload.ports() {
            let local = self.ports[&(workload.name().to_owned(), port)];
            replacements.push((format!("0.0.0.0:{port}"), format!("127.0.0.1:{local}")));
        }
        for (mount, folder) in self.mount_secrets(workload, container) {
            replacements.push((mount, folder.display().to_string()));
        }
        replacements.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        replacements
    }

    /// Writes the Secrets `container` mounts into folders here; (mount path, folder) of each.
    fn mount_secrets(&self, workload: Workload, container: &Value) -> Vec<(String, PathBuf)> {
        let volumes = workload.pod()["volumes"].as_array().cloned().unwrap_or_default();
        let mut mounts = Vec::new();
        for mount in container["volumeMounts"].as_array().into_iter().flatten() {
            let volume = volumes
                .iter()
                .find(|v| v["name"] == mount["name"])
                .expect("a mounted volume");
            let Some(secret) = volume["secret"]["secretName"].as_str() else {
                continue;
            };
            let folder = self.dir.join(workload.name()).join(volume["name"].as_str().unwrap());
            std::fs::create_dir_all(&folder).unwrap();
            let keys: Vec<_> = self.secrets.iter().filter(|((name, _), _)| name == secret).collect();
            assert!(
                !keys.is_empty(),
                "the manifests mount Secret {secret}, which the test does not know"
            );
            for ((_, key), value) in keys {
                std::fs::write(folder.join(key), value).unwrap();
            }
            mounts.push((mount["mountPath"].as_str().unwrap().to_owned(), folder));
        }
        mounts
    }
}

/// The image's `/usr/local/bin/{name}` as built for this test: `fdi`, or for a service `fdi serve {service}`,
/// which runs it exactly as its own binary does (the same settings, read the same way). A service binary
/// beside `fdi` may be left from an older build; `fdi` is always this build's.
pub fn binary(program: &str) -> Command {
    let name = program
        .strip_prefix("/usr/local/bin/")
        .unwrap_or_else(|| panic!("`{program}` is not one of the image's binaries"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_fdi"));
    if name != "fdi" {
        let service = name
            .strip_prefix("fdi-")
            .unwrap_or_else(|| panic!("the image has no binary {name}"));
        command.args(["serve", service]);
    }
    command
}
