// Package oteltest checks that the Go OpenFeature provider works with OpenFeature's
// OpenTelemetry conventions: an OpenTelemetry hook on the OpenFeature client records each
// evaluation as a `feature_flag.evaluation` span event whose attributes carry flagcore's
// variant and reason. It is a module of its own so that the package's users and `go test
// ./...` never download the OpenTelemetry SDK; flagcore-ffi/scripts/test.sh runs it.
//
//	cargo build --release -p flagcore-ffi
//	cd flagcore-ffi/go/oteltest && go test -tags flagcore_static ./...
package oteltest
