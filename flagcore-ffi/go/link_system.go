//go:build flagcore_system

package flagcore

// With -tags flagcore_system the package links the flagcore library that CGO_LDFLAGS
// names, and finds flagcore.h where CGO_CFLAGS says:
//
//	CGO_CFLAGS=-I/usr/local/include CGO_LDFLAGS="-L/usr/local/lib -lflagcore" go build -tags flagcore_system
//	CGO_CFLAGS=-I$REPO/flagcore-ffi/include CGO_LDFLAGS=/path/to/libflagcore.a go test -tags flagcore_system ./...

// #cgo LDFLAGS: -ldl -lm -lpthread
import "C"
