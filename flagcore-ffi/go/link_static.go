//go:build !flagcore_system

package flagcore

// By default the package links the static library that
// `cargo build --release -p flagcore-ffi` leaves in the repository's target/ directory.
// Build with -tags flagcore_system to link an installed libflagcore instead (see
// link_system.go).

// #cgo CFLAGS: -I${SRCDIR}/../include
// #cgo LDFLAGS: ${SRCDIR}/../../target/release/libflagcore.a -ldl -lm -lpthread
import "C"
