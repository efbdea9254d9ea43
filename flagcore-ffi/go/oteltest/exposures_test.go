package oteltest

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// "experiment" records exposures: "vip" is targeted to "b", everyone else splits.
const experimentSnapshot = `{"version": 7, "flags": {
  "experiment": {"variants": {"a": true, "b": false}, "enabled": true, "off_variant": "b",
    "exposures": true,
    "targets": [{"variant": "b", "keys": ["vip"]}],
    "fallthrough": {"rollout": {"split": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}}}
}}`

// collector is an OTLP/HTTP logs receiver on loopback: it decodes each POST /v1/logs as
// an ExportLogsServiceRequest and keeps it with its headers.
type collector struct {
	t        *testing.T
	mu       sync.Mutex
	requests []*collogspb.ExportLogsServiceRequest
	headers  []http.Header
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/logs" {
		c.t.Errorf("%s %s, want POST /v1/logs", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		c.t.Errorf("Content-Type %q", ct)
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &collogspb.ExportLogsServiceRequest{}
	if err := proto.Unmarshal(data, req); err != nil {
		c.t.Errorf("decoding the request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.requests = append(c.requests, req)
	c.headers = append(c.headers, r.Header.Clone())
	c.mu.Unlock()
	resp, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

// record is one log record: its event name, attributes (as strings) and resource's.
type record struct {
	event     string
	time      time.Time
	attrs     map[string]string
	resources map[string]string
}

func (c *collector) records() []record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []record
	for _, req := range c.requests {
		for _, rl := range req.GetResourceLogs() {
			resources := attrStrings(rl.GetResource().GetAttributes())
			for _, sl := range rl.GetScopeLogs() {
				for _, lr := range sl.GetLogRecords() {
					out = append(out, record{
						event: lr.GetEventName(), time: time.Unix(0, int64(lr.GetTimeUnixNano())),
						attrs: attrStrings(lr.GetAttributes()), resources: resources,
					})
				}
			}
		}
	}
	return out
}

func attrStrings(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = strconv.FormatInt(v.IntValue, 10)
		default:
			m[kv.GetKey()] = kv.GetValue().String()
		}
	}
	return m
}

func TestExposuresReachAnOTLPCollector(t *testing.T) {
	c := &collector{t: t}
	server := httptest.NewServer(c)
	t.Cleanup(server.Close)
	store, err := flagcore.NewStoreFromBytes([]byte(experimentSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// The header value holds the format's own separators, spaces and a percent sign: the
	// package encodes them, the library decodes them.
	const token = "Bearer a,b=c d 100%"
	err = store.TrackExposures(nil, flagcore.ExposureOptions{
		FlushInterval: time.Minute, // delivered by FlushExposures only
		OTLP: &flagcore.OTLPExporter{
			Endpoint:    server.URL,
			Headers:     map[string]string{"Authorization": token, "X-Tenant": "7"},
			ServiceName: "checkout-api",
			Timeout:     5 * time.Second,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	vip, err := flagcore.NewContext("vip")
	if err != nil {
		t.Fatal(err)
	}
	defer vip.Close()
	user, err := flagcore.NewContext("user-1")
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	targeted, err := store.BoolDetails("experiment", true, vip)
	if err != nil {
		t.Fatal(err)
	}
	split, err := store.BoolDetails("experiment", true, user)
	if err != nil {
		t.Fatal(err)
	}
	store.BoolDetails("experiment", true, user) // a repeat, deduplicated
	if err := store.FlushExposures(); err != nil {
		t.Fatal(err)
	}

	got := c.records()
	if len(got) != 2 {
		t.Fatalf("%d log records, want 2: %+v", len(got), got)
	}
	want := []map[string]string{
		{"feature_flag.key": "experiment", "feature_flag.result.variant": targeted.Variant,
			"feature_flag.result.reason": "targeting_match", "feature_flag.context.id": "vip",
			"feature_flag.version": "7", "feature_flag.provider.name": "flagcore"},
		{"feature_flag.key": "experiment", "feature_flag.result.variant": split.Variant,
			"feature_flag.result.reason": "split", "feature_flag.context.id": "user-1"},
	}
	if targeted.Variant != "b" || split.Reason != flagcore.ReasonSplit {
		t.Fatalf("evaluations: %+v, %+v", targeted, split)
	}
	for i, r := range got {
		if r.event != "feature_flag.evaluation" {
			t.Errorf("record %d: event %q", i, r.event)
		}
		if r.time.Before(start.Add(-time.Second)) || r.time.After(time.Now()) {
			t.Errorf("record %d: time %v, not around %v", i, r.time, start)
		}
		for key, value := range want[i] {
			if r.attrs[key] != value {
				t.Errorf("record %d: %s = %q, want %q (%v)", i, key, r.attrs[key], value, r.attrs)
			}
		}
		if name := r.resources["service.name"]; name != "checkout-api" {
			t.Errorf("record %d: service.name %q", i, name)
		}
	}
	c.mu.Lock()
	for _, h := range c.headers {
		if h.Get("Authorization") != token || h.Get("X-Tenant") != "7" {
			t.Errorf("headers: %v", h)
		}
	}
	c.mu.Unlock()
	stats, err := store.ExposureStats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Delivered != 2 || stats.Deduplicated != 1 || stats.SinkErrors != 0 {
		t.Errorf("stats = %+v", stats)
	}

	// A collector that is gone: the batch is a sink error, and FlushExposures still
	// returns.
	server.Close()
	store.BoolDetails("experiment", true, mustContext(t, "user-2"))
	if err := store.FlushExposures(); err != nil {
		t.Fatal(err)
	}
	if stats, _ := store.ExposureStats(); stats.SinkErrors != 1 || stats.Delivered != 2 {
		t.Errorf("stats after the collector went = %+v", stats)
	}
}

func mustContext(t *testing.T, key string) *flagcore.Context {
	t.Helper()
	ctx, err := flagcore.NewContext(key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctx.Close() })
	return ctx
}

// A value holding a percent escape arrives as given: the C library decodes the
// OTEL_EXPORTER_OTLP_HEADERS format once, and the core escapes `%` for
// opentelemetry-otlp's with_headers, which decodes values again.
func TestAPercentEscapeInAHeaderValueArrivesAsItIs(t *testing.T) {
	c := &collector{t: t}
	server := httptest.NewServer(c)
	t.Cleanup(server.Close)
	store, err := flagcore.NewStoreFromBytes([]byte(experimentSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opts := flagcore.ExposureOptions{OTLP: &flagcore.OTLPExporter{Endpoint: server.URL, Headers: map[string]string{"X-Token": "a%20b"}}}
	if err := store.TrackExposures(nil, opts); err != nil {
		t.Fatal(err)
	}
	store.BoolDetails("experiment", true, mustContext(t, "user-1"))
	if err := store.FlushExposures(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.headers) != 1 || c.headers[0].Get("X-Token") != "a%20b" {
		t.Errorf("headers: %v", c.headers)
	}
}
