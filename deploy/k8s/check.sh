#!/usr/bin/env bash
# Checks the Kubernetes manifests as CI does: renders every overlay (`kubectl kustomize`), validates each
# object against the Kubernetes schemas (kubernetes-validate, strict: no unknown fields) for the oldest and
# newest versions we support, and runs checkov on the rendered manifests with zero failed checks (each skip
# is an annotation on its object, with its reason). The project's own policy, network and start-up tests are
# cargo tests (cli/tests/deploy.rs). Installs its tools (PyPI, pinned) into .tools/deploy-venv when missing (the
# deployment's tools, kept apart from the tests' .tools/venv: checkov brings about a hundred packages).
set -euo pipefail
cd "$(dirname "$0")/../.."

KUBERNETES_VALIDATE_VERSION=1.37.0
CHECKOV_VERSION=3.3.30
# Oldest and newest Kubernetes the manifests are validated for (native gRPC probes are GA since 1.27).
KUBERNETES_VERSIONS=(1.30.0 1.37.0)

command -v kubectl >/dev/null || { echo "kubectl (with kustomize) is needed: https://kubernetes.io/docs/tasks/tools/" >&2; exit 1; }
venv=.tools/deploy-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip_pinned() { # package version
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null; then
    echo "==> installing $1 $2 (PyPI) into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$1==$2"
  fi
}
pip_pinned kubernetes-validate "$KUBERNETES_VALIDATE_VERSION"
pip_pinned checkov "$CHECKOV_VERSION"

rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  echo "==> kubectl kustomize $overlay"
  kubectl kustomize "$overlay" > "$rendered/$name.yaml"
  echo "    $(grep -c '^kind:' "$rendered/$name.yaml") objects"
done

for version in "${KUBERNETES_VERSIONS[@]}"; do
  echo "==> kubernetes-validate --strict, Kubernetes $version"
  # Custom resources (CloudNativePG's Cluster) have no schema here: reported as a warning, not validated.
  "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "$rendered"/*.yaml
done

echo "==> checkov (kubernetes) on the rendered overlays"
"$venv/bin/checkov" -d "$rendered" --framework kubernetes --compact --quiet --skip-download
