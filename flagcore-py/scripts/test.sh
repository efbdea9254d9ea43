#!/usr/bin/env bash
# Builds the flagcore wheel, installs it into a virtualenv, checks the hand-written stubs
# against it (mypy.stubtest) and runs the Python test suite.
#
# Usage: VENV=/path/to/venv flagcore-py/scripts/test.sh
#   VENV defaults to <repo>/.venv (created, with tests/requirements.txt, if missing).
#   scripts/test-all.sh sets VENV to a virtualenv that already has those requirements.
# Cargo builds in the default target directory (or $CARGO_TARGET_DIR if you set one),
# so the release artifacts of `cargo bench --no-run` are reused.
set -euo pipefail

CRATE="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$CRATE/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PIP=(python -m pip install --quiet --disable-pip-version-check)

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/${PIP[0]}" "${PIP[@]:1}" -r "$ROOT/tests/requirements.txt"
fi
PY="$VENV/bin/python"

echo "--- installing maturin, openfeature-sdk, its OpenTelemetry hook, mypy into $VENV"
# openfeature-hooks-opentelemetry and opentelemetry-sdk: tests/test_otel.py, the provider
# under OpenFeature's own OpenTelemetry hook; opentelemetry-proto: tests/test_otlp.py, the
# OTLP receiver decoding what the exposure sink and OtelMetrics send.
# openfeature-flagd-core: flagd's own Python evaluator, the oracle of tests/test_flagd_core.py.
"$PY" "${PIP[@]:1}" "maturin>=1.9.4,<2" "openfeature-sdk>=0.8" "mypy>=1.10" \
    "openfeature-hooks-opentelemetry>=0.3" "opentelemetry-sdk>=1.30" "opentelemetry-proto>=1.30" \
    "openfeature-flagd-core>=2,<3"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "--- building the wheel (maturin, release)"
"$VENV/bin/maturin" build --release --quiet \
    --manifest-path "$CRATE/Cargo.toml" \
    --interpreter "$PY" \
    --out "$WORK/wheels"
"$PY" "${PIP[@]:1}" --force-reinstall --no-deps "$WORK"/wheels/flagcore-*.whl

# From an empty directory, so that nothing in the checkout shadows the installed package
# and the tools' caches stay out of the tree.
cd "$WORK"
export MYPY_CACHE_DIR="$WORK/mypy-cache"

echo "--- mypy.stubtest flagcore (the .pyi against the built module)"
"$PY" -m mypy.stubtest flagcore

echo "--- mypy --strict -p flagcore"
"$PY" -m mypy --strict --no-error-summary -p flagcore

echo "--- pytest flagcore-py/tests"
"$PY" -m pytest -q -p no:cacheprovider "$CRATE/tests"
