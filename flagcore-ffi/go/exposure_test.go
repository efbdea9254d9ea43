package flagcore_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

// "experiment" records exposures: a target ("vip"), a rule whose rollout is by the
// attribute "account", and a fallthrough rollout by the targeting key. "plain" does not.
const experimentSnapshot = `{"version": 7, "flags": {
  "experiment": {"variants": {"a": true, "b": false}, "enabled": true, "off_variant": "b",
    "exposures": true,
    "targets": [{"variant": "b", "keys": ["vip"]}],
    "rules": [{"id": "beta", "conditions": [{"attribute": "beta", "op": "eq", "values": [true]}],
      "serve": {"rollout": {"by": "account", "split": [{"variant": "a", "weight": 50},
                                                     {"variant": "b", "weight": 50}]}}}],
    "fallthrough": {"rollout": {"split": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}}},
  "plain": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"variant": "on"}}
}}`

func experimentStore(t testing.TB) *flagcore.Store {
	t.Helper()
	store, err := flagcore.NewStoreFromBytes([]byte(experimentSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// recorder collects the batches TrackExposures delivers.
type recorder struct {
	mu        sync.Mutex
	exposures []flagcore.Exposure
	// What the store said inside the function.
	flushInside, updateInside error
}

func (r *recorder) sink(store *flagcore.Store) func([]flagcore.Exposure) {
	return func(batch []flagcore.Exposure) {
		flushErr := store.FlushExposures()
		_, updateErr := store.Update([]byte(experimentSnapshot))
		r.mu.Lock()
		defer r.mu.Unlock()
		r.exposures = append(r.exposures, batch...)
		r.flushInside, r.updateInside = flushErr, updateErr
	}
}

func (r *recorder) got() []flagcore.Exposure {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]flagcore.Exposure(nil), r.exposures...)
}

// evaluate evaluates "experiment" for key ("" without one); account >= 0 puts the context
// in the beta rule, whose rollout is by that attribute.
func evaluate(t testing.TB, store *flagcore.Store, key string, account int) flagcore.Details[bool] {
	t.Helper()
	attrs := []flagcore.Attribute{flagcore.Bool("beta", account >= 0), flagcore.Int("account", account)}
	var ctx *flagcore.Context
	var err error
	if key == "" {
		ctx, err = flagcore.NewAnonymousContext(attrs...)
	} else {
		ctx, err = flagcore.NewContext(key, attrs...)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	d, err := store.BoolDetails("experiment", false, ctx)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestExposuresArriveWithTheirFieldsDeduplicated(t *testing.T) {
	store := experimentStore(t)
	evaluate(t, store, "before", -1) // not tracking yet: nothing recorded
	rec := &recorder{}
	// Drained only on demand: what arrives, arrives through FlushExposures.
	err := store.TrackExposures(rec.sink(store), flagcore.ExposureOptions{FlushInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	byAccount := evaluate(t, store, "user-1", 1027)
	byKey := evaluate(t, store, "user-2", -1)
	evaluate(t, store, "vip", -1)
	for range 4 {
		evaluate(t, store, "user-1", 1027) // repeats
	}
	store.Bool("plain", false, nil)   // not opted in
	store.Bool("missing", false, nil) // the caller's default
	time.Sleep(30 * time.Millisecond)
	if n := len(rec.got()); n != 0 {
		t.Fatalf("%d exposures before the flush", n)
	}
	if err := store.FlushExposures(); err != nil {
		t.Fatal(err)
	}
	got := rec.got()
	if len(got) != 3 {
		t.Fatalf("got %d exposures, want 3: %+v", len(got), got)
	}
	first := got[0]
	want := flagcore.Exposure{
		Time: first.Time, Flag: "experiment", Variant: byAccount.Variant, Reason: flagcore.ReasonSplit,
		RuleIndex: 0, RuleID: "beta", Key: "user-1", Unit: "1027", Bucket: byAccount.Bucket, Step: -1,
		Version: 7,
	}
	if first != want {
		t.Errorf("exposure = %+v\nwant       %+v", first, want)
	}
	if first.Time.Before(start.Add(-time.Second)) || first.Time.After(time.Now()) {
		t.Errorf("time %v, not around %v", first.Time, start)
	}
	if e := got[1]; e.Unit != "user-2" || e.Key != "user-2" || e.RuleIndex != -1 || e.RuleID != "" ||
		e.Bucket != byKey.Bucket || e.Variant != byKey.Variant || e.Reason != flagcore.ReasonSplit {
		t.Errorf("fallthrough exposure = %+v (details %+v)", e, byKey)
	}
	if e := got[2]; e.Reason != flagcore.ReasonTargetingMatch || e.Variant != "b" || e.Unit != "vip" || e.Bucket != -1 {
		t.Errorf("targeted exposure = %+v", e)
	}
	stats, err := store.ExposureStats()
	if err != nil {
		t.Fatal(err)
	}
	if want := (flagcore.ExposureStats{Accepted: 7, Delivered: 3, Deduplicated: 4}); stats != want {
		t.Errorf("stats = %+v, want %+v", stats, want)
	}
	// Inside the function, what would wait for its thread fails instead of hanging.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for name, err := range map[string]error{"FlushExposures": rec.flushInside, "Update": rec.updateInside} {
		var fe *flagcore.Error
		if !errors.As(err, &fe) || fe.Code != flagcore.CodeReentrantCall {
			t.Errorf("%s inside the function: %v, want %s", name, err, flagcore.CodeReentrantCall)
		}
	}
}

func TestExposuresWithoutDedupAndOnClose(t *testing.T) {
	store, err := flagcore.NewStoreFromBytes([]byte(experimentSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts := flagcore.ExposureOptions{NoDedup: true, FlushInterval: time.Minute}
	if err := store.TrackExposures(rec.sink(store), opts); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		evaluate(t, store, "user-1", -1)
	}
	// Close delivers what is still queued before it returns.
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.got()); n != 3 {
		t.Errorf("%d exposures after Close, want 3", n)
	}
	if err := store.FlushExposures(); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("FlushExposures after Close: %v", err)
	}
}

func TestReplacingTheFunctionHandsItWhatCameBefore(t *testing.T) {
	store := experimentStore(t)
	first, second := &recorder{}, &recorder{}
	opts := flagcore.ExposureOptions{FlushInterval: time.Minute}
	if err := store.TrackExposures(first.sink(store), opts); err != nil {
		t.Fatal(err)
	}
	evaluate(t, store, "user-1", -1)
	if err := store.TrackExposures(second.sink(store), opts); err != nil {
		t.Fatal(err)
	}
	evaluate(t, store, "user-2", -1)
	if err := store.FlushExposures(); err != nil {
		t.Fatal(err)
	}
	if a, b := first.got(), second.got(); len(a) != 1 || a[0].Key != "user-1" || len(b) != 1 || b[0].Key != "user-2" {
		t.Errorf("first got %+v, second got %+v", a, b)
	}
}

func TestExposuresToAJSONLinesFile(t *testing.T) {
	store := experimentStore(t)
	path := filepath.Join(t.TempDir(), "exposures.jsonl")
	opts := flagcore.ExposureOptions{FlushInterval: time.Minute, JSONLines: &flagcore.JSONLinesFile{Path: path}}
	if err := store.TrackExposures(nil, opts); err != nil {
		t.Fatal(err)
	}
	d := evaluate(t, store, "user-1", 9)
	evaluate(t, store, "", 10)
	evaluate(t, store, "user-1", 9) // a repeat
	if err := store.FlushExposures(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %v", len(lines), lines)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"flag": "experiment", "variant": d.Variant, "reason": "SPLIT", "rule_index": 0.0,
		"rule_id": "beta", "key": "user-1", "unit": "9", "bucket": float64(d.Bucket), "step": nil,
		"version": 7.0,
	}
	for field, value := range want {
		if first[field] != value {
			t.Errorf("%s = %#v, want %#v (line %s)", field, first[field], value, lines[0])
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, first["time"].(string)); err != nil {
		t.Errorf("time: %v", err)
	}
	if !json.Valid([]byte(lines[1])) || !containsAll(lines[1], `"key":null`, `"unit":"10"`) {
		t.Errorf("anonymous line: %s", lines[1])
	}
	// A function and a file at once, or neither, is refused.
	var fe *flagcore.Error
	if err := store.TrackExposures(func([]flagcore.Exposure) {}, opts); !errors.As(err, &fe) || fe.Code != flagcore.CodeInvalidArgument {
		t.Errorf("both: %v", err)
	}
	if err := store.TrackExposures(nil, flagcore.ExposureOptions{}); !errors.As(err, &fe) || fe.Code != flagcore.CodeInvalidArgument {
		t.Errorf("neither: %v", err)
	}
	bad := flagcore.ExposureOptions{JSONLines: &flagcore.JSONLinesFile{Path: filepath.Join(path, "no", "such")}}
	if err := store.TrackExposures(nil, bad); !errors.As(err, &fe) || fe.Code != flagcore.CodeIO {
		t.Errorf("unopenable file: %v", err)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
	}
	return lines
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !json.Valid([]byte(s)) || !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestOTLPOptionsAreChecked(t *testing.T) {
	store := experimentStore(t)
	// Nothing listens on port 1: refusals must come before any request.
	otlp := func(o flagcore.OTLPExporter) flagcore.ExposureOptions {
		if o.Endpoint == "" {
			o.Endpoint = "http://127.0.0.1:1"
		}
		return flagcore.ExposureOptions{OTLP: &o}
	}
	both := otlp(flagcore.OTLPExporter{})
	both.JSONLines = &flagcore.JSONLinesFile{Path: filepath.Join(t.TempDir(), "x.jsonl")}
	cases := []struct {
		name string
		fn   func([]flagcore.Exposure)
		opts flagcore.ExposureOptions
		want string // in the message
	}{
		{"with a function", func([]flagcore.Exposure) {}, otlp(flagcore.OTLPExporter{}), "exactly one"},
		{"with a file", nil, both, "exactly one"},
		{"no endpoint", nil, flagcore.ExposureOptions{OTLP: &flagcore.OTLPExporter{}}, "Endpoint is empty"},
		{"a bad endpoint", nil, otlp(flagcore.OTLPExporter{Endpoint: "not a url"}), "endpoint"},
		{"a negative timeout", nil, otlp(flagcore.OTLPExporter{Timeout: -time.Second}), "negative"},
		{"a name with a comma", nil, otlp(flagcore.OTLPExporter{Headers: map[string]string{"a,b": "1"}}), `"a,b" is not a header name`},
		{"a name with =", nil, otlp(flagcore.OTLPExporter{Headers: map[string]string{"a=b": "1"}}), "not a header name"},
		{"an empty name", nil, otlp(flagcore.OTLPExporter{Headers: map[string]string{"": "1"}}), "not a header name"},
		{"a value with a newline", nil, otlp(flagcore.OTLPExporter{Headers: map[string]string{"x": "a\r\nb: c"}}), `the value of "x" is not printable ASCII`},
		{"a value not ASCII", nil, otlp(flagcore.OTLPExporter{Headers: map[string]string{"x": "é"}}), "not printable ASCII"},
		{"a value not UTF-8", nil, otlp(flagcore.OTLPExporter{Headers: map[string]string{"x": "\xff"}}), "not printable ASCII"},
	}
	for _, c := range cases {
		err := store.TrackExposures(c.fn, c.opts)
		var fe *flagcore.Error
		if !errors.As(err, &fe) || fe.Code != flagcore.CodeInvalidArgument || !strings.Contains(fe.Message, c.want) {
			t.Errorf("%s: %v, want %s with %q", c.name, err, flagcore.CodeInvalidArgument, c.want)
		}
	}
	// Values with the format's own separators, percent signs and spaces are encoded for it,
	// and a timeout under a millisecond is not taken for the default.
	good := otlp(flagcore.OTLPExporter{
		Headers:     map[string]string{"Authorization": "Bearer a,b=c%20 d", "x-tenant": " 100%\t7 ", "x-empty": ""},
		ServiceName: "checkout-api",
		Timeout:     time.Microsecond,
	})
	good.FlushInterval = time.Minute
	if err := store.TrackExposures(nil, good); err != nil {
		t.Fatal(err)
	}
	// Back to a function: the collector is replaced.
	if err := store.TrackExposures(func([]flagcore.Exposure) {}, flagcore.ExposureOptions{}); err != nil {
		t.Fatal(err)
	}
}
