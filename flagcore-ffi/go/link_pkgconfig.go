//go:build !flagcore_static && !flagcore_system

package flagcore

// By default the package links the flagcore C library installed on the system, as cgo
// bindings of C libraries do: pkg-config finds flagcore.pc, which names the header's
// directory and the library. Install it first, from a checkout of the repository:
//
//	cargo build --release -p flagcore-ffi && sudo make -C flagcore-ffi install   # /usr/local
//	sudo ldconfig                                   # so programs find libflagcore.so.0.1
//
// For another prefix, point pkg-config at it when building and the loader when running:
//
//	make -C flagcore-ffi install PREFIX=$HOME/.local
//	PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig go build ./...
//	LD_LIBRARY_PATH=$HOME/.local/lib ./app
//
// Other ways to link: link_static.go (-tags flagcore_static, the repository's own build,
// for developing the package) and link_system.go (-tags flagcore_system, flags from
// CGO_CFLAGS and CGO_LDFLAGS, e.g. to link an installed libflagcore.a).

// #cgo pkg-config: flagcore
import "C"
