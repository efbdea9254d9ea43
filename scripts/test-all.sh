#!/usr/bin/env bash
# Runs every suite of the repository: Rust (fmt, clippy, unit, integration, doc tests,
# benches compiled), the shared vectors' generator check, Python, C and Go.
# Usage: scripts/test-all.sh        (from anywhere; installs what it needs)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --features flagcore/file,flagcore/http,flagcore/otel -- -D warnings

step "cargo test (unit, integration, doc tests)"
# The features by name: the sources' tests (file_source, http_source) require them, and
# cargo skips a target whose features are off without a word. Today the CLI and the
# bindings turn them on anyway; this keeps the tests running if that changes. `otel` (its
# tests post to an OTLP receiver on 127.0.0.1) is on nowhere else.
cargo test --workspace --features flagcore/file,flagcore/http,flagcore/otel

step "cargo doc (warnings are errors)"
# flagcore-ffi's library is also named `flagcore` (its C name), so it is documented apart.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -q -p flagcore -p flagcore-cli --features flagcore/file,flagcore/http,flagcore/otel
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -q -p flagcore-ffi --target-dir target/doc-ffi

step "benches compile (not run)"
cargo bench --workspace --no-run

step "Python virtualenv with the test tools"
VENV="$ROOT/.venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/tests/requirements.txt"
export VENV

step "test vectors match their independent generator"
"$VENV/bin/python" tests/vectors/generate.py --check

step "JSON Schema, and explain --json against the independent reference"
cargo build -q -p flagcore-cli
FLAGCORE_BIN="$ROOT/target/debug/flagcore" "$VENV/bin/python" -m pytest -q tests/schema tests/cli

for suite in flagcore-py/scripts/test.sh flagcore-ffi/scripts/test.sh; do
    step "$suite"
    bash "$suite"
done

step "installed as users install it: C, Go, Python, Rust, from outside the repository"
# After the suites above: it installs the libflagcore of flagcore-ffi's suite and the CLI
# built for the schema tests, and builds one wheel of its own.
bash scripts/test-consumers.sh

step "the release workflow (.github/workflows/release.yml) passes actionlint"
# It builds the platforms this machine cannot (aarch64, musl, macOS, Windows), so it never
# runs here; actionlint checks its syntax, expressions and action inputs.
GOBIN="$ROOT/target/tools" go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
"$ROOT/target/tools/actionlint" .github/workflows/release.yml

step "flagcore serve: the OFREP provider, the HTTP source, the console in a browser, a load"
# Debian's headless browser and its driver for the console test, wrk for the bounded load
# test on loopback. The tests fail (not skip) without them when CI is set.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v wrk >/dev/null || missing+=(wrk)
if [ "${#missing[@]}" -gt 0 ]; then
    as_root=()
    [ "$(id -u)" = 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# After the Python suite, which installed the wheel whose HttpSource polls the server.
# `-P`: the checkout's flagcore/ directory must not shadow the installed package.
FLAGCORE_BIN="$ROOT/target/debug/flagcore" "$VENV/bin/python" -P -m pytest -q -p no:cacheprovider tests/serve

step "flagcore analyze: the statistics against SciPy, the HTML report in headless Chromium"
# The browser and its driver are the serve step's (above): without them the browser test
# fails, not skips, when CI is set.
FLAGCORE_BIN="$ROOT/target/debug/flagcore" "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/analyze

step "Miri: the C ABI's unsafe code (unit tests and the evaluation path)"
# A machine without Miri fails here rather than passing with the unsafe code unchecked.
if ! rustup component add --toolchain nightly miri rust-src; then
    echo "FAILED: could not install Miri with rustup (nightly, components miri rust-src)" >&2
    exit 1
fi
# Leak checks are left to LeakSanitizer in the C suite: Miri counts the thread-local
# last-error message of the test threads as leaked.
MIRIFLAGS="-Zmiri-ignore-leaks" cargo +nightly miri test -p flagcore-ffi --lib --test no_alloc

step "fuzz smoke: each target for ${FUZZ_SECONDS:-20} s"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
scripts/fuzz-seeds.sh
for target in loader evaluate updates flagd; do
    log="$(mktemp)"
    if ! (cd fuzz && cargo +nightly fuzz run "$target" -- -max_total_time="${FUZZ_SECONDS:-20}") >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz target $target failed"
        exit 1
    fi
    echo "$target: $(grep -E '^Done' "$log")"
done

printf '\nall suites passed\n'
