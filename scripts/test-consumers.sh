#!/usr/bin/env bash
# Installs flagcore the way each ecosystem's users do (README.md, "Install") and uses it
# from a temporary directory outside the repository, with nothing from the checkout on
# any path but what was installed:
#
#   C       `make install` into a prefix: versioned libflagcore.so (soname checked), .a,
#           header and flagcore.pc; a program built with `pkg-config --cflags --libs`
#           (and one linked statically), run against the prefix.
#   Go      a module outside the repository using the package (a `replace` to a copy of
#           it, as `go get` would fetch it) over pkg-config and the installed library:
#           `go vet`, `go test -race` (its own tests, the package's examples, the
#           OpenFeature provider) and a program.
#   Python  `maturin sdist`; the sdist built into a wheel the way `pip install` builds it
#           (build isolation), linked against glibc 2.17 with zig: `auditwheel show` must
#           say manylinux_2_17 or older, the wheel abi3; installed into a fresh virtualenv
#           with openfeature-sdk, it evaluates the example and serves OpenFeature.
#   Rust    `cargo package` of flagcore and flagcore-cli (both verified by building the
#           packaged sources), and `cargo install --path flagcore-cli` (a debug build).
#
# KEEP_WORK=1 keeps the temporary directory for a look afterwards.
#
# Every consumer evaluates the same flag of examples/snapshot.json for the same context and
# must print what the installed `flagcore explain --json` says.
#
# Reuses what scripts/test-all.sh built (libflagcore in release, the CLI in debug); the
# wheel is the one Rust build of its own (another target directory: zig links it).
# Third-party crates compiled there are reused from run to run; flagcore's own crates are
# compiled from the sdist's copies (another path, so other artifacts).
# Needs Rust, Python 3 with venv, Go, gcc and make; installs pkg-config with apt-get if it
# is missing. Usage: scripts/test-consumers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never
unset GOFLAGS CGO_CFLAGS CGO_LDFLAGS PKG_CONFIG_PATH LD_LIBRARY_PATH PYTHONPATH
export GOWORK=off

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS
lap=$SECONDS
took() { printf '    (%s: %d s)\n' "$1" $((SECONDS - lap)); lap=$SECONDS; }
fail() { echo "FAILED: $*" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/flagcore-install.XXXXXX")"
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
case "$WORK" in "$ROOT"/*) fail "the temporary directory $WORK is inside the repository" ;; esac
TARGET_DIR=$(cargo metadata --no-deps --format-version 1 | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)

if ! command -v pkg-config >/dev/null; then
    as_root=()
    [ "$(id -u)" = 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pkg-config >/dev/null
fi

cp examples/snapshot.json "$WORK/snapshot.json"
FLAG=new-checkout
KEY=u-erik
# country=DE, beta_opt_in=true, app_version=2.4.1, account_id=acct-1027 in every consumer.
CLI_ATTRS=(--attr country=DE --attr beta_opt_in=true --attr app_version=2.4.1 --attr account_id=acct-1027)

# --- Rust -------------------------------------------------------------------------------

step "Rust: cargo package -p flagcore -p flagcore-cli (each verified by a build)"
# The dependent is verified against the packaged flagcore, not the path, as crates.io would
# build it. The warnings listed are the tests and examples left out on purpose (include).
# The CLI is verified against the packaged flagcore as a registry crate, which cargo
# takes to be immutable by version: an earlier run's build of it (under target/debug, and
# unpacked under CARGO_HOME) would be reused, not this checkout's. Remove both; later
# steps run the binaries already built.
find "$TARGET_DIR/debug/.fingerprint" "$TARGET_DIR/debug/deps" -maxdepth 1 \
    -regextype posix-extended -regex '.*/(lib)?flagcore-[0-9a-f]{16}(\.[a-z]+)?' \
    -exec rm -rf {} + 2>/dev/null || true
rm -rf "$TARGET_DIR/package" "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/flagcore-[0-9]*
cargo package -p flagcore -p flagcore-cli --allow-dirty >"$WORK/package.log" 2>&1 ||
    { cat "$WORK/package.log"; fail "cargo package"; }
grep -Ev "^\s+Compiling |^warning: ignoring (test|example) " "$WORK/package.log" || true
for crate in flagcore flagcore-cli; do
    file="$TARGET_DIR/package/$crate-$(sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1).crate"
    test -f "$file" || fail "cargo package made no $file"
    tar -xzf "$file" -C "$WORK"
done
python3 - "$WORK"/flagcore-[0-9]* "$WORK"/flagcore-cli-[0-9]* <<'EOF'
import pathlib, sys, tomllib
for root in map(pathlib.Path, sys.argv[1:]):
    manifest = tomllib.loads((root / "Cargo.toml").read_text())
    package = manifest["package"]
    for field in ("description", "license", "repository", "readme", "keywords", "categories"):
        assert package.get(field), f"{root.name}: no {field}"
    assert (root / package["readme"]).is_file(), f"{root.name}: no {package['readme']}"
    for name, dep in manifest.get("dependencies", {}).items():
        assert "path" not in dep, f"{root.name}: dependency {name} keeps a path"
    print(f"{root.name}: {sum(1 for p in root.rglob('*') if p.is_file())} files, metadata complete")
EOF
took "cargo package"

step "Rust: cargo install --path flagcore-cli"
# --debug: test-all.sh has built the CLI's debug profile (for the schema and serve tests),
# so this installs it without a build; a user's `cargo install` compiles the same sources
# with optimisations, which no suite here needs.
cargo install --quiet --debug --locked --path flagcore-cli --root "$WORK/cargo" --target-dir "$TARGET_DIR"
FLAGCORE="$WORK/cargo/bin/flagcore"
(cd "$WORK" && "$FLAGCORE" validate snapshot.json)
EXPECTED=$(cd "$WORK" && "$FLAGCORE" explain snapshot.json "$FLAG" --key "$KEY" "${CLI_ATTRS[@]}" --json |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print("value=%s variant=%s reason=%s rule=%s bucket=%s"
                % (str(d["value"]).lower(), d["variant"], d["reason"], d["rule_id"], d["bucket"]))')
echo "installed flagcore explain: $EXPECTED"
took "cargo install"

expect() {  # expect WHO OUTPUT
    [ "$2" = "$EXPECTED" ] || fail "$1 printed '$2', the CLI '$EXPECTED'"
    echo "$1: $2"
}

# --- C ----------------------------------------------------------------------------------

step "C: make -C flagcore-ffi all install PREFIX=<temporary>"
PREFIX="$WORK/prefix"
make --no-print-directory -C flagcore-ffi all install PREFIX="$PREFIX" TARGET_DIR="$TARGET_DIR"
(cd "$PREFIX" && find . \( -type f -o -type l \) | sort)
test "$(readlink "$PREFIX/lib/libflagcore.so")" = libflagcore.so.0.1.0 || fail "libflagcore.so link"
test "$(readlink "$PREFIX/lib/libflagcore.so.0.1")" = libflagcore.so.0.1.0 || fail "libflagcore.so.0.1 link"
soname=$(readelf -d "$PREFIX/lib/libflagcore.so.0.1.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
test "$soname" = libflagcore.so.0.1 || fail "soname is '$soname', not libflagcore.so.0.1"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
echo "pkg-config: flagcore $(pkg-config --modversion flagcore): $(pkg-config --cflags --libs flagcore)"

# A program linked to the shared library records its soname, and loads it from the prefix.
# (Outputs are read whole before grep -q: with pipefail, a grep that stops reading early
# fails the pipeline when the writer gets SIGPIPE.)
loads_from_prefix() {
    local needed loaded
    needed=$(readelf -d "$1")
    loaded=$(LD_LIBRARY_PATH="$PREFIX/lib" ldd "$1")
    grep -q 'NEEDED.*\[libflagcore.so.0.1\]' <<<"$needed" || fail "$1 does not need libflagcore.so.0.1"
    grep -q "libflagcore.so.0.1 => $PREFIX/lib/libflagcore.so.0.1 " <<<"$loaded" ||
        fail "$1 does not load libflagcore.so.0.1 from $PREFIX/lib"
}

mkdir "$WORK/c-app"
cat >"$WORK/c-app/app.c" <<'EOF'
/* A program using the installed library: evaluates one flag of the snapshot named by argv[1]. */
#include <flagcore.h>
#include <stdio.h>
#include <string.h>

#define S(literal) literal, (sizeof(literal) - 1)

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    fc_store *store = NULL;
    if (fc_store_new_from_file(argv[1], strlen(argv[1]), &store) != FC_RESULT_OK) {
        char message[1024];
        size_t len = 0;
        fc_last_error_message(message, sizeof message, &len);
        fprintf(stderr, "%s\n", message);
        return 1;
    }
    fc_attribute attrs[] = {
        {.name = S("country"), .kind = FC_VALUE_KIND_STRING, .string_value = S("DE")},
        {.name = S("beta_opt_in"), .kind = FC_VALUE_KIND_BOOL, .bool_value = true},
        {.name = S("app_version"), .kind = FC_VALUE_KIND_STRING, .string_value = S("2.4.1")},
        {.name = S("account_id"), .kind = FC_VALUE_KIND_STRING, .string_value = S("acct-1027")},
    };
    fc_context ctx = {.key = S("u-erik"), .attributes = attrs, .attributes_len = 4};
    fc_snapshot *view = NULL;
    fc_details d;
    bool value = false;
    if (fc_store_snapshot(store, &view) != FC_RESULT_OK ||
        fc_snapshot_bool(view, S("new-checkout"), &ctx, false, &value, &d) != FC_RESULT_OK)
        return 1;
    printf("value=%s variant=%.*s reason=%s rule=%.*s bucket=%d\n", value ? "true" : "false",
           (int)d.variant.len, d.variant.ptr, fc_reason_name(d.reason), (int)d.rule_id.len,
           d.rule_id.ptr, (int)d.bucket);
    fc_snapshot_free(view);
    fc_store_free(store);
    return 0;
}
EOF
cd "$WORK/c-app"
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
cc -std=c11 -Wall -Wextra -Werror -o app app.c $(pkg-config --cflags --libs flagcore)
loads_from_prefix ./app
expect "C (shared, LD_LIBRARY_PATH)" "$(LD_LIBRARY_PATH="$PREFIX/lib" ./app "$WORK/snapshot.json")"
# shellcheck disable=SC2046
cc -std=c11 -o app-rpath app.c $(pkg-config --cflags --libs flagcore) \
    -Wl,-rpath,"$(pkg-config --variable=libdir flagcore)"
expect "C (shared, rpath)" "$(./app-rpath "$WORK/snapshot.json")"
# Static: the archive itself, then the system libraries the .pc file's Libs.private names.
# shellcheck disable=SC2046
cc -std=c11 -o app-static app.c $(pkg-config --cflags flagcore) "$PREFIX/lib/libflagcore.a" \
    $(pkg-config --static --libs-only-l flagcore | sed 's/-lflagcore//')
if grep -q libflagcore <<<"$(ldd ./app-static)"; then fail "app-static loads libflagcore"; fi
expect "C (static)" "$(./app-static "$WORK/snapshot.json")"
cd "$ROOT"
took "C"

# --- Go ---------------------------------------------------------------------------------

step "Go: a module outside the repository, over pkg-config and the installed library"
GOPKG=github.com/flagcore/flagcore/flagcore-ffi/go
# The package as a module download has it (sources, go.mod, go.sum, the provider; no
# nested modules such as bench/), less the tests that read the repository's vectors but
# for the examples; no header, no library.
mkdir -p "$WORK/go/flagcore" "$WORK/go/app"
(cd flagcore-ffi/go && find . -type f \( -name '*.go' ! -name '*_test.go' -o -name example_test.go \
    -o -name go.mod -o -name go.sum \) -print | xargs cp --parents -t "$WORK/go/flagcore")
find "$WORK/go/flagcore" -mindepth 2 -name go.mod -printf '%h\n' | xargs -r rm -rf
cd "$WORK/go/app"
cat >go.mod <<EOF
module example.com/flagapp

go 1.26.0

require $GOPKG v0.1.0

replace $GOPKG => ../flagcore
EOF
cat >main.go <<'EOF'
// A program using the installed package: evaluates one flag of the snapshot named by os.Args[1].
package main

import (
	"fmt"
	"os"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

func main() {
	store, err := flagcore.NewStoreFromFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer store.Close()
	ctx, err := newContext()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer ctx.Close()
	d, err := store.BoolDetails("new-checkout", false, ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("value=%t variant=%s reason=%s rule=%s bucket=%d\n", d.Value, d.Variant, d.Reason, d.RuleID, d.Bucket)
}

func newContext() (*flagcore.Context, error) {
	return flagcore.NewContext("u-erik",
		flagcore.String("country", "DE"), flagcore.Bool("beta_opt_in", true),
		flagcore.String("app_version", "2.4.1"), flagcore.String("account_id", "acct-1027"))
}
EOF
cat >app_test.go <<'EOF'
package main

import (
	"context"
	"os"
	"sync"
	"testing"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
	"github.com/flagcore/flagcore/flagcore-ffi/go/provider"
	"github.com/open-feature/go-sdk/openfeature"
)

func load(t *testing.T) *flagcore.Store {
	t.Helper()
	store, err := flagcore.NewStoreFromFile(os.Getenv("SNAPSHOT"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// Readers on several goroutines while another kills and revives: the race detector
// watches the package's side of the cgo boundary.
func TestConcurrentEvaluationAndKills(t *testing.T) {
	store := load(t)
	ctx, err := newContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				d, err := store.BoolDetails("new-checkout", false, ctx)
				if err != nil || (d.Variant != "on" && d.Variant != "off") {
					t.Errorf("%+v %v", d, err)
					return
				}
			}
		}()
	}
	for range 50 {
		if err := store.Kill("new-checkout", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Revive("new-checkout"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if !store.Bool("new-checkout", false, ctx) {
		t.Fatal("new-checkout is off after the last revive")
	}
}

func TestOpenFeatureProvider(t *testing.T) {
	store := load(t)
	if err := openfeature.SetProviderAndWait(provider.New(store)); err != nil {
		t.Fatal(err)
	}
	defer openfeature.Shutdown()
	client := openfeature.NewDefaultClient()
	erik := openfeature.NewEvaluationContext("u-erik", map[string]any{
		"country": "DE", "beta_opt_in": true, "app_version": "2.4.1", "account_id": "acct-1027"})
	d, err := client.BooleanValueDetails(context.Background(), "new-checkout", false, erik)
	if err != nil || !d.Value || d.Variant != "on" || d.Reason != openfeature.SplitReason {
		t.Fatalf("%+v %v", d, err)
	}
	if v, _ := client.BooleanValue(context.Background(), "no-such-flag", true, erik); !v {
		t.Fatal("an unknown flag did not serve the default")
	}
}
EOF
export LD_LIBRARY_PATH="$PREFIX/lib"
go mod tidy
go vet ./...
SNAPSHOT="$WORK/snapshot.json" go test -race -count=1 . "$GOPKG"
go build -o app .
loads_from_prefix ./app
expect "Go" "$(./app "$WORK/snapshot.json")"
unset LD_LIBRARY_PATH
cd "$ROOT"
took "Go"

# --- Python -----------------------------------------------------------------------------

step "Python: sdist, then a manylinux_2_17 abi3 wheel built from it with zig"
PIP=(install --quiet --disable-pip-version-check)
python3 -m venv "$WORK/tools"
"$WORK/tools/bin/pip" "${PIP[@]}" "maturin>=1.9.4,<2" ziglang auditwheel
"$WORK/tools/bin/maturin" sdist --manifest-path flagcore-py/Cargo.toml --out "$WORK/sdist"
SDIST=$(echo "$WORK"/sdist/flagcore-*.tar.gz)
test -f "$SDIST" || fail "maturin sdist made no sdist"
# pip builds an sdist in an isolated environment with the build-system's maturin;
# MATURIN_PEP517_ARGS passes it the zig link, and `zig` comes from the ziglang package.
# cargo-zigbuild caches wrapper scripts that name this run's zig: a cache of its own
# (XDG_CACHE_HOME) keeps an earlier run's wrappers, naming a deleted zig, out of it.
ZIG_DIR=$("$WORK/tools/bin/python" -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')
(cd "$WORK" && PATH="$ZIG_DIR:$PATH" CARGO_TARGET_DIR="$TARGET_DIR" XDG_CACHE_HOME="$WORK/cache" \
    MATURIN_PEP517_ARGS="--zig --compatibility manylinux2014" \
    "$WORK/tools/bin/pip" wheel --quiet --disable-pip-version-check --no-deps \
    --wheel-dir "$WORK/wheels" "$SDIST")
WHEEL=$(echo "$WORK"/wheels/flagcore-*.whl)
test -f "$WHEEL" || fail "no wheel built from $SDIST"
echo "sdist: $(basename "$SDIST") -> wheel: $(basename "$WHEEL")"
case "$(basename "$WHEEL")" in *-abi3-*) ;; *) fail "the wheel is not abi3" ;; esac
"$WORK/tools/bin/auditwheel" show "$WHEEL" | tee "$WORK/auditwheel.txt"
python3 - "$WORK/auditwheel.txt" <<'EOF'
import re, sys
text = " ".join(open(sys.argv[1]).read().split())
m = re.search(r'consistent with the following platform tag: "manylinux_2_(\d+)_x86_64"', text)
assert m, "auditwheel named no manylinux tag"
assert int(m.group(1)) <= 17, f"manylinux_2_{m.group(1)} needs a newer glibc than 2.17"
EOF
took "Python wheel"

step "Python: the wheel in a fresh virtualenv, with openfeature-sdk"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" "${PIP[@]}" "$WHEEL[openfeature]"
cat >"$WORK/check.py" <<'EOF'
import pathlib, sys

import flagcore
from flagcore.openfeature import FlagcoreProvider
from openfeature import api
from openfeature.evaluation_context import EvaluationContext

root = pathlib.Path(sys.argv[1])
assert root not in pathlib.Path(flagcore.__file__).resolve().parents, flagcore.__file__

attrs = {"country": "DE", "beta_opt_in": True, "app_version": "2.4.1", "account_id": "acct-1027"}
store = flagcore.Store.from_file("snapshot.json")
d = store.bool_details("new-checkout", False, key="u-erik", attrs=attrs)
print(f"value={str(d.value).lower()} variant={d.variant} reason={d.reason} rule={d.rule_id} bucket={d.bucket}")

provider = FlagcoreProvider(path="snapshot.json")
api.set_provider_and_wait(provider)
client = api.get_client()
od = client.get_boolean_details("new-checkout", False, EvaluationContext("u-erik", attrs))
assert (od.value, od.variant, od.reason) == (True, "on", "SPLIT"), od
assert client.get_boolean_value("no-such-flag", True) is True
api.shutdown()
EOF
expect "Python" "$(cd "$WORK" && "$WORK/venv/bin/python" -P check.py "$ROOT")"
took "Python install"

printf '\ninstall tests passed in %d s\n' $((SECONDS - started))
