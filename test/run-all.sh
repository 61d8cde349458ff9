#!/usr/bin/env bash
# Every test, in order: build, format, both typechecks, lint, unit tests, Electronegativity,
# then the lab (real sshd, dockerd, PostgreSQL, Caddy, S3, Chromium) for integration and e2e tests.
# The lab is torn down even when tests fail, and then checked to have left nothing behind.
# Needs root on Debian 12 for the lab (it creates network namespaces and users).
set -uo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
results=test-results
rm -rf "$results"; mkdir -p "$results"
status=0
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAILED: $*"; status=1; }

step build;            npm run -s build || fail build
step format;           npx prettier --check . || fail "format (run: npx prettier --write .)"
step typecheck;        { npx tsc -p tsconfig.node.json --noEmit && npx tsc -p tsconfig.web.json --noEmit && npx tsc -p tsconfig.e2e.json --noEmit; } || fail typecheck
step lint;             npx eslint . || fail lint
step unit;             npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$results/unit.json" || fail "unit tests"
step electronegativity; node scripts/electronegativity.mjs || fail electronegativity

lab_down() {
  if [ "${OHITORI_KEEP_LAB:-}" = 1 ]; then echo "OHITORI_KEEP_LAB=1: the lab stays up"; return; fi
  step "lab down"
  bash test/lab/down.sh || fail "lab down"
  bash test/lab/check-clean.sh || fail "lab left something behind"
}
if [ "${OHITORI_SKIP_LAB:-}" = 1 ]; then
  echo "OHITORI_SKIP_LAB=1: integration tests not run"
  suites=("$results/unit.json" "$results/e2e.json")
else
  step "lab up"
  if bash test/lab/up.sh; then
    trap lab_down EXIT
    step integration; npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$results/integration.json" || fail "integration tests"
  else
    fail "lab up"
  fi
  suites=("$results/unit.json" "$results/integration.json" "$results/e2e.json")
fi
step e2e;              npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json="$results/e2e.json" || fail "e2e tests"
# Down here rather than only in the EXIT trap, so a lab that leaves something behind fails the run.
if [ "${OHITORI_SKIP_LAB:-}" != 1 ]; then trap - EXIT; lab_down; fi

step "clean tree"
dirty=$(git status --porcelain --untracked-files=all -- . ':!test-results' 2>/dev/null)
if [ -n "$dirty" ]; then echo "$dirty"; fail "the build or tests left the tree dirty"; fi

step summary
node scripts/test-summary.mjs "${suites[@]}" || status=1
exit $status
