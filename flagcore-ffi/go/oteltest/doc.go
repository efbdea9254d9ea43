// Package oteltest checks that the Go OpenFeature provider works with OpenFeature's
// OpenTelemetry conventions: an OpenTelemetry hook on the OpenFeature client records each
// evaluation as a `feature_flag.evaluation` span event whose attributes carry flagcore's
// variant and reason. It also checks the exposures flagcore.OTLPExporter sends: a loopback
// OTLP/HTTP receiver decodes each ExportLogsServiceRequest (with
// go.opentelemetry.io/proto/otlp) and looks for the flag, variant and reason attributes
// and the request headers. It is a module of its own so that the package's users and
// `go test ./...` never download the OpenTelemetry SDK or protobuf;
// flagcore-ffi/scripts/test.sh runs it.
//
//	cargo build --release -p flagcore-ffi
//	cd flagcore-ffi/go/oteltest && go test -tags flagcore_static ./...
package oteltest
