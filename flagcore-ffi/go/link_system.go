//go:build flagcore_system

package flagcore

// With -tags flagcore_system the package links the flagcore library that CGO_LDFLAGS
// names, and finds flagcore.h where CGO_CFLAGS says, without pkg-config: to link an
// installed libflagcore.a into a self-contained binary, or a build in another target
// directory (flagcore-ffi/scripts/test.sh does that when CARGO_TARGET_DIR is set):
//
//	CGO_CFLAGS=-I/usr/local/include/flagcore CGO_LDFLAGS=/usr/local/lib/libflagcore.a go build -tags flagcore_system
//	CGO_CFLAGS=-I$REPO/flagcore-ffi/include CGO_LDFLAGS=/path/to/libflagcore.a go test -tags flagcore_system ./...

// #cgo LDFLAGS: -ldl -lm -lpthread
import "C"
