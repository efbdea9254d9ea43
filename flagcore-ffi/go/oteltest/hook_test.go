package oteltest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
	"github.com/flagcore/flagcore/flagcore-ffi/go/provider"
	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/telemetry"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const snapshot = `{"version": 7, "flags": {
  "checkout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "targets": [{"variant": "on", "keys": ["vip"]}],
    "rules": [{"id": "beta-half", "conditions": [{"attribute": "beta", "op": "eq", "values": [true]}],
      "serve": {"rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}}],
    "fallthrough": {"variant": "off"}},
  "dormant": {"variants": {"on": true, "off": false}, "enabled": false, "off_variant": "off",
    "fallthrough": {"variant": "on"}},
  "needs-checkout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "prerequisites": [{"flag": "checkout", "variant": "on"}], "fallthrough": {"variant": "on"}}
}}`

// tracesHook records each evaluation as a `feature_flag.evaluation` event on the span in
// the evaluation's context, with the attributes OpenFeature's telemetry package derives
// by the OpenTelemetry semantic conventions: what the go-sdk-contrib traces hook
// (hooks/open-telemetry) does, whose module the Go module proxy does not serve here.
type tracesHook struct {
	openfeature.UnimplementedHook
}

func (tracesHook) Finally(ctx context.Context, hookContext openfeature.HookContext, details openfeature.InterfaceEvaluationDetails, _ openfeature.HookHints) {
	event := telemetry.CreateEvaluationEvent(hookContext, details)
	attrs := make([]attribute.KeyValue, 0, len(event.Attributes))
	for key, value := range event.Attributes {
		switch v := value.(type) {
		case string:
			attrs = append(attrs, attribute.String(key, v))
		case bool:
			attrs = append(attrs, attribute.Bool(key, v))
		case int64:
			attrs = append(attrs, attribute.Int64(key, v))
		case float64:
			attrs = append(attrs, attribute.Float64(key, v))
		default:
			attrs = append(attrs, attribute.String(key, fmt.Sprint(v)))
		}
	}
	trace.SpanFromContext(ctx).AddEvent(event.Name, trace.WithAttributes(attrs...))
}

func TestTheOpenTelemetryHookSeesFlagcoresVariantAndReason(t *testing.T) {
	store, err := flagcore.NewStoreFromBytes([]byte(snapshot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := openfeature.SetNamedProviderAndWait(t.Name(), provider.New(store)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(openfeature.Shutdown)
	client := openfeature.NewClient(t.Name())
	client.AddHooks(tracesHook{})

	spans := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("flagcore-test")

	cases := []struct {
		flag, key string
		attrs     map[string]any
		reason    string
	}{
		{"checkout", "user-17", map[string]any{"beta": true}, "split"},
		{"checkout", "vip", nil, "targeting_match"},
		{"checkout", "user-3", nil, "default"},
		{"dormant", "user-3", nil, "disabled"},
		{"needs-checkout", "user-3", nil, "prerequisite_failed"},
	}
	for _, c := range cases {
		t.Run(c.flag+"/"+c.reason, func(t *testing.T) {
			// What flagcore itself serves, for comparison.
			ctx, err := flagcore.NewContextFromMap(c.key, true, c.attrs)
			if err != nil {
				t.Fatal(err)
			}
			defer ctx.Close()
			want, err := store.BoolDetails(c.flag, false, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ToLower(string(want.Reason)) != c.reason {
				t.Fatalf("flagcore served %s, the case expects %s", want.Reason, c.reason)
			}

			spanCtx, span := tracer.Start(context.Background(), "request")
			_, err = client.BooleanValueDetails(spanCtx, c.flag, false, openfeature.NewEvaluationContext(c.key, c.attrs))
			span.End()
			if err != nil {
				t.Fatal(err)
			}
			ended := spans.Ended()
			events := ended[len(ended)-1].Events()
			if len(events) != 1 || events[0].Name != "feature_flag.evaluation" {
				t.Fatalf("span events = %+v", events)
			}
			got := map[string]string{}
			for _, kv := range events[0].Attributes {
				got[string(kv.Key)] = kv.Value.Emit()
			}
			for key, value := range map[string]string{
				"feature_flag.key":            c.flag,
				"feature_flag.result.variant": want.Variant,
				"feature_flag.result.reason":  c.reason,
				"feature_flag.provider.name":  provider.Name,
				"feature_flag.context.id":     c.key,
			} {
				if got[key] != value {
					t.Errorf("%s = %q, want %q (event attributes %v)", key, got[key], value, got)
				}
			}
			if _, ok := got["error.type"]; ok {
				t.Errorf("error.type on a successful evaluation: %v", got)
			}
		})
	}
}
