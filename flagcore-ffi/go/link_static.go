//go:build flagcore_static

package flagcore

// With -tags flagcore_static, for developing the package inside the repository, it links
// the static library that `cargo build --release -p flagcore-ffi` leaves in the
// repository's target/ directory, and the header beside it (flagcore-ffi/scripts/test.sh
// builds this way):
//
//	cargo build --release -p flagcore-ffi
//	cd flagcore-ffi/go && go test -tags flagcore_static ./...
//
// Without a tag the package links the installed library (link_pkgconfig.go).

// #cgo CFLAGS: -I${SRCDIR}/../include
// #cgo LDFLAGS: ${SRCDIR}/../../target/release/libflagcore.a -ldl -lm -lpthread
import "C"
