#!/usr/bin/env bash
# Tests of the C ABI and the Go package, from a clean clone: builds libflagcore once with
# cargo (release, into target/ at the repository root), checks the committed header is
# current, runs the C tests under AddressSanitizer and UndefinedBehaviorSanitizer, then
# `go vet` and `go test -race` of flagcore-ffi/go (shared vectors, bad input, concurrency,
# exposures, the OpenFeature provider; in a module of its own, the OpenTelemetry hook).
# Needs Rust, Go, gcc and make; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

step "cargo build --release -p flagcore-ffi (libflagcore.a, libflagcore.so)"
cargo build --release -p flagcore-ffi
# target/ unless the caller's environment or cargo configuration says otherwise.
TARGET_DIR=$(cargo metadata --no-deps --format-version 1 | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
LIB="$TARGET_DIR/release/libflagcore.a"
test -f "$LIB" || { echo "missing $LIB" >&2; exit 1; }
# Without a tag the Go package links an installed libflagcore (pkg-config); these tests link
# this checkout's build: target/release/libflagcore.a (flagcore_static), or the library
# in another target directory (flagcore_system).
if [ "$TARGET_DIR" != "$ROOT/target" ]; then
    export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=flagcore_system"
    export CGO_CFLAGS="-I$ROOT/flagcore-ffi/include" CGO_LDFLAGS="$LIB"
else
    export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=flagcore_static"
fi

step "include/flagcore.h matches the sources (cbindgen)"
cargo test -p flagcore-ffi --test header

step "C tests under AddressSanitizer + UBSan"
make -C flagcore-ffi/tests/c clean >/dev/null
make -C flagcore-ffi/tests/c test ROOT="$ROOT" LIB="$LIB"

step "go vet"
cd "$ROOT/flagcore-ffi/go"
go vet ./...

step "go test -race"
go test -race -count=1 ./...

step "go test -race: OpenFeature's OpenTelemetry conventions over the provider (module oteltest)"
(cd oteltest && go vet ./... && go test -race -count=1 ./...)

step "Go benchmarks compile (not run)"
go test -run '^$' -bench '^$' ./... >/dev/null
(cd bench && go vet ./...)

printf '\nflagcore-ffi: all suites passed\n'
