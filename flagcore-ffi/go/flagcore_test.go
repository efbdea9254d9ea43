package flagcore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

const testSnapshot = `{"version": 2, "flags": {
  "search": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "metadata": {"owner": "search-team", "ticket": 42, "temporary": true},
    "rules": [{"id": "staff", "conditions": [{"attribute": "email", "op": "ends_with",
      "values": ["@corp.example"]}], "serve": {"variant": "on"}}],
    "fallthrough": {"variant": "off"}},
  "color": {"variants": {"red": "#f00", "blue": "#00f"}, "enabled": true,
    "off_variant": "red", "fallthrough": {"variant": "blue"}},
  "limit": {"variants": {"low": 10, "high": 9007199254740993}, "enabled": true,
    "off_variant": "low", "fallthrough": {"variant": "high"}},
  "ratio": {"variants": {"low": 0.25, "high": 0.75}, "enabled": true,
    "off_variant": "low", "fallthrough": {"variant": "high"}},
  "limits": {"variants": {"a": {"max": 10, "name": "café"}}, "enabled": true,
    "off_variant": "a", "fallthrough": {"variant": "a"}}
}}`

func mustStore(t testing.TB) *flagcore.Store {
	t.Helper()
	store, err := flagcore.NewStoreFromBytes([]byte(testSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func mustContext(t testing.TB, key string, attrs ...flagcore.Attribute) *flagcore.Context {
	t.Helper()
	ctx, err := flagcore.NewContext(key, attrs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctx.Close)
	return ctx
}

func TestVersion(t *testing.T) {
	if v := flagcore.Version(); v == "" {
		t.Fatal("empty version")
	}
}

func TestTypedGetters(t *testing.T) {
	store := mustStore(t)
	staff := mustContext(t, "bob", flagcore.String("email", "bob@corp.example"))
	if !store.Bool("search", false, staff) {
		t.Error("staff should get search")
	}
	if store.Bool("search", true, nil) {
		t.Error("a nil context falls through to off")
	}
	if got := store.String("color", "#000", nil); got != "#00f" {
		t.Errorf("color = %q", got)
	}
	if got := store.Int("limit", 0, nil); got != 9007199254740993 {
		t.Errorf("limit = %d (integers above 2^53 must be exact)", got)
	}
	if got := store.Float("ratio", 0, nil); got != 0.75 {
		t.Errorf("ratio = %v", got)
	}
	if got := store.Float("limit", 0, nil); got != 9007199254740992 {
		t.Errorf("float of an int flag = %v", got)
	}
	if got := string(store.JSON("limits", json.RawMessage(`{}`), nil)); got != `{"max":10,"name":"café"}` {
		t.Errorf("limits = %s", got)
	}
	if got := string(store.JSON("color", json.RawMessage(`[1]`), nil)); got != `[1]` {
		t.Errorf("type mismatch should serve the default, got %s", got)
	}
	long := strings.Repeat("x", 1000)
	if got := store.String("nope", long, nil); got != long {
		t.Error("unknown flag should serve the default")
	}

	d, err := store.BoolDetails("search", false, staff)
	if err != nil {
		t.Fatal(err)
	}
	want := flagcore.Details[bool]{Value: true, Variant: "on", Reason: flagcore.ReasonTargetingMatch,
		RuleIndex: 0, RuleID: "staff", Bucket: -1, Step: -1}
	if d != want {
		t.Errorf("details = %+v, want %+v", d, want)
	}
	di, _ := store.IntDetails("search", 5, nil)
	if di.Value != 5 || di.Reason != flagcore.ReasonError || di.ErrorCode != flagcore.ErrorCodeTypeMismatch || di.Variant != "" {
		t.Errorf("type mismatch details = %+v", di)
	}
	ds, _ := store.StringDetails("nope", "dflt", nil)
	if ds.Value != "dflt" || ds.ErrorCode != flagcore.ErrorCodeFlagNotFound {
		t.Errorf("unknown flag details = %+v", ds)
	}
	dj, _ := store.JSONDetails("limits", nil, nil)
	if string(dj.Value) != `{"max":10,"name":"café"}` || dj.Reason != flagcore.ReasonStatic {
		t.Errorf("json details = %+v", dj)
	}
	df, _ := store.FloatDetails("ratio", 0, nil)
	if df.Value != 0.75 || df.Variant != "high" {
		t.Errorf("float details = %+v", df)
	}
}

func TestScheduleStep(t *testing.T) {
	// `ramped` is past its first step (2020) and before its second (2099); `pending` is
	// before its only step (2098).
	store, err := flagcore.NewStoreFromBytes([]byte(`{"version": 1, "flags": {
  "ramped": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"rollout": {"split": [{"variant": "off", "weight": 100}], "schedule": [
      {"at": "2020-01-01T00:00:00Z", "split": [{"variant": "on", "weight": 100}]},
      {"at": "2099-01-01T00:00:00Z", "split": [{"variant": "off", "weight": 100}]}]}}},
  "pending": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"rollout": {"split": [{"variant": "off", "weight": 100}], "schedule": [
      {"at": "2098-01-01T00:00:00Z", "split": [{"variant": "on", "weight": 100}]}]}}}
}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := mustContext(t, "u1")
	d, err := store.BoolDetails("ramped", false, ctx)
	if err != nil || !d.Value || d.Reason != flagcore.ReasonSplit || d.Step != 0 || d.Bucket < 0 {
		t.Errorf("ramped = %+v, %v", d, err)
	}
	d, err = store.BoolDetails("pending", true, ctx)
	if err != nil || d.Value || d.Reason != flagcore.ReasonSplit || d.Step != -1 || d.Bucket < 0 {
		t.Errorf("pending = %+v, %v", d, err)
	}
	// No rollout decided (no targeting key): no step.
	d, err = store.BoolDetails("ramped", true, nil)
	if err != nil || d.ErrorCode != flagcore.ErrorCodeTargetingKeyMissing || d.Step != -1 {
		t.Errorf("no key = %+v, %v", d, err)
	}
}

func TestNotReady(t *testing.T) {
	store := flagcore.NewStore()
	defer store.Close()
	if _, ok := store.Version(); ok {
		t.Error("an empty store has no version")
	}
	d, err := store.BoolDetails("search", true, nil)
	if err != nil || d.Value != true || d.ErrorCode != flagcore.ErrorCodeProviderNotReady {
		t.Errorf("details = %+v, %v", d, err)
	}
}

func TestInvalidAndStaleUpdatesKeepServing(t *testing.T) {
	store := mustStore(t)
	_, err := store.Update([]byte(`{"version": 3, "flags": {"search": {"variants": {"on": true, "off": false},
	  "enabled": true, "off_variant": "of", "fallthrough": {"rollout": {"split": [
	  {"variant": "on", "weight": 50}, {"variant": "off", "weight": 49}]}}}}}`))
	if !errors.Is(err, flagcore.ErrInvalidSnapshot) {
		t.Fatalf("err = %v", err)
	}
	var e *flagcore.Error
	if !errors.As(err, &e) || len(e.ValidationErrors) != 2 {
		t.Fatalf("want two validation errors, got %#v", err)
	}
	if e.ValidationErrors[0].Path != "flags.search.off_variant" || e.ValidationErrors[0].Code != "unknown_variant" {
		t.Errorf("first problem = %+v", e.ValidationErrors[0])
	}
	if e.ValidationErrors[1].Code != "weights" || !strings.Contains(e.Error(), "2 errors") {
		t.Errorf("second problem = %+v; message %q", e.ValidationErrors[1], e.Error())
	}
	if errors.Is(err, flagcore.ErrStaleSnapshot) {
		t.Error("an invalid snapshot is not stale")
	}
	_, err = store.Update([]byte(`{"version": 1, "flags": {}}`))
	if !errors.Is(err, flagcore.ErrStaleSnapshot) || !strings.Contains(err.Error(), "stale") {
		t.Errorf("err = %v", err)
	}
	_, err = store.Update([]byte("{\n  \"version\": ,"))
	if !errors.Is(err, flagcore.ErrInvalidSnapshot) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("syntax error = %v", err)
	}
	if v, ok := store.Version(); !ok || v != 2 {
		t.Errorf("version = %d, %v", v, ok)
	}
	if got := store.String("color", "", nil); got != "#00f" {
		t.Errorf("the old snapshot must keep serving, got %q", got)
	}
	if _, err := flagcore.NewStoreFromBytes([]byte(`[]`)); !errors.Is(err, flagcore.ErrInvalidSnapshot) {
		t.Errorf("err = %v", err)
	}
}

func TestFiles(t *testing.T) {
	if _, err := flagcore.NewStoreFromFile("/nonexistent/flags.json"); !errors.Is(err, flagcore.ErrIO) {
		t.Errorf("err = %v", err)
	}
	path := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(path, []byte(testSnapshot), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := flagcore.NewStoreFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.UpdateFile(path); !errors.Is(err, flagcore.ErrStaleSnapshot) {
		t.Errorf("err = %v", err)
	}
}

func TestBadInput(t *testing.T) {
	store := mustStore(t)
	bad := "sea\xffrch"
	if got := store.Bool(bad, true, nil); got != true {
		t.Error("an invalid flag name serves the default")
	}
	d, err := store.BoolDetails(bad, true, nil)
	if !errors.Is(err, flagcore.ErrInvalidUTF8) || d.Value != true || d.ErrorCode != flagcore.ErrorCodeGeneral {
		t.Errorf("details = %+v, err = %v", d, err)
	}
	// Contexts are checked when built.
	if _, err := flagcore.NewContext("bob", flagcore.String("email", "\xff")); !errors.Is(err, flagcore.ErrInvalidUTF8) {
		t.Errorf("err = %v", err)
	}
	if _, err := flagcore.NewContext("b\xffb"); !errors.Is(err, flagcore.ErrInvalidUTF8) {
		t.Errorf("err = %v", err)
	}
	if err := store.Kill("x", "\xff"); !errors.Is(err, flagcore.ErrInvalidUTF8) {
		t.Errorf("err = %v", err)
	}
	attrs := make([]flagcore.Attribute, flagcore.MaxAttributes+1)
	for i := range attrs {
		attrs[i] = flagcore.Int(fmt.Sprint("a", i), i)
	}
	if _, err := flagcore.NewContext("k", attrs...); !errors.Is(err, flagcore.ErrTooManyAttributes) {
		t.Errorf("err = %v", err)
	}
	if _, err := flagcore.NewContext("k", attrs[:flagcore.MaxAttributes]...); err != nil {
		t.Errorf("err = %v", err)
	}
	// Empty strings are fine everywhere.
	empty := mustContext(t, "", flagcore.String("", ""))
	if store.String("", "d", empty) != "d" {
		t.Error("the empty flag name is just an unknown flag")
	}
}

func TestContextFromMap(t *testing.T) {
	store := mustStore(t)
	ctx, err := flagcore.NewContextFromMap("bob", true, map[string]any{
		"email": "bob@corp.example", "age": 42, "big": uint64(1) << 63, "score": float32(0.5),
		"beta": true, "n": json.Number("12"), "when": time.Unix(1, 0), "nested": map[string]any{},
		"nothing": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	if !store.Bool("search", false, ctx) {
		t.Error("email attribute should match")
	}
	anon, err := flagcore.NewContextFromMap("", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if store.Bool("search", true, anon) {
		t.Error("an empty context falls through")
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	store, err := flagcore.NewStoreFromBytes([]byte(testSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ctx := mustContext(t, "bob")
	store.Close()
	store.Close()
	if !store.Bool("search", true, nil) {
		t.Error("a closed store serves the default")
	}
	if _, err := store.Update([]byte(testSnapshot)); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("err = %v", err)
	}
	if _, err := store.BoolDetails("search", true, nil); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("err = %v", err)
	}
	// A snapshot outlives its store.
	if d, err := snap.StringDetails("color", "", ctx); err != nil || d.Value != "#00f" {
		t.Errorf("details = %+v, %v", d, err)
	}
	if v, ok := snap.Version(); !ok || v != 2 {
		t.Errorf("version = %d", v)
	}
	snap.Close()
	snap.Close()
	if _, err := snap.BoolDetails("search", true, nil); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("err = %v", err)
	}
	ctx.Close()
	ctx.Close()
	live := mustStore(t)
	if _, err := live.BoolDetails("search", true, ctx); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("a closed context: err = %v", err)
	}
}

func TestCleanupFreesForgottenObjects(t *testing.T) {
	for i := 0; i < 100; i++ {
		store, _ := flagcore.NewStoreFromBytes([]byte(testSnapshot))
		snap, _ := store.Snapshot()
		ctx, _ := flagcore.NewContext("k", flagcore.String("a", "b"))
		_, _ = snap.BoolDetails("search", false, ctx)
	}
	runtime.GC()
	runtime.GC()
}

func TestKillsMetricsMetadata(t *testing.T) {
	store := mustStore(t)
	if _, err := store.TakeMetrics(); err != nil {
		t.Fatal(err)
	}
	store.Bool("search", false, nil)
	if err := store.Kill("search", "incident 1234"); err != nil {
		t.Fatal(err)
	}
	_ = store.Kill("ghost", "not there yet")
	d, _ := store.BoolDetails("search", true, nil)
	if d.Value || d.Reason != flagcore.ReasonDisabled || d.Variant != "off" {
		t.Errorf("killed details = %+v", d)
	}
	kills, err := store.Kills()
	if err != nil || len(kills) != 2 || kills[1].Flag != "search" || kills[1].Reason != "incident 1234" ||
		time.Since(kills[1].At) > time.Minute {
		t.Errorf("kills = %+v, %v", kills, err)
	}
	if was, _ := store.Revive("search"); !was {
		t.Error("search was killed")
	}
	if was, _ := store.Revive("search"); was {
		t.Error("search is no longer killed")
	}
	metrics, err := store.TakeMetrics()
	if err != nil {
		t.Fatal(err)
	}
	if c := metrics["search"]; c.Variants["off"] != 2 || c.Total() != 2 {
		t.Errorf("metrics = %+v", metrics)
	}
	if err := store.SetMetricsEnabled(false); err != nil {
		t.Fatal(err)
	}
	store.Bool("search", false, nil)
	if metrics, _ := store.TakeMetrics(); len(metrics) != 0 {
		t.Errorf("metrics off, yet %+v", metrics)
	}

	snap, _ := store.Snapshot()
	defer snap.Close()
	md, err := snap.Metadata("search")
	if err != nil || md["owner"] != "search-team" || md["ticket"] != 42.0 || md["temporary"] != true {
		t.Errorf("metadata = %v, %v", md, err)
	}
	if md, _ := snap.Metadata("nope"); len(md) != 0 {
		t.Errorf("metadata of an unknown flag = %v", md)
	}
}

// Readers on many goroutines while a writer swaps snapshots, kills and takes metrics:
// each view answers consistently with its own version, and every evaluation is counted
// once. Run with -race.
func TestConcurrentReadersAndWriter(t *testing.T) {
	doc := func(v int) []byte {
		return []byte(fmt.Sprintf(`{"version": %d, "flags": {
		  "echo": {"variants": {"current": "v%d", "old": "stale"}, "enabled": true, "off_variant": "old",
		    "fallthrough": {"variant": "current"}},
		  "switch": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
		    "fallthrough": {"variant": "on"}}}}`, v, v))
	}
	store, err := flagcore.NewStoreFromBytes(doc(1))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var done atomic.Bool
	var evaluations atomic.Uint64
	var wg, running sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		running.Add(1)
		go func(r int) {
			defer wg.Done()
			var started sync.Once
			defer started.Do(running.Done)
			ctx, err := flagcore.NewContext(fmt.Sprint("user-", r), flagcore.Int("n", r))
			if err != nil {
				t.Error(err)
				return
			}
			defer ctx.Close()
			var n uint64
			for !done.Load() {
				snap, err := store.Snapshot()
				if err != nil {
					t.Error(err)
					return
				}
				version, _ := snap.Version()
				d, err := snap.StringDetails("echo", "none", ctx)
				snap.Close()
				if err != nil || d.Value != fmt.Sprint("v", version) {
					t.Errorf("view of version %d served %q (%v)", version, d.Value, err)
					return
				}
				store.Bool("switch", false, ctx)
				n++
				started.Do(running.Done)
			}
			evaluations.Add(n)
		}(r)
	}
	running.Wait() // every reader has evaluated once: the swaps below race with them
	var counted uint64
	for v := 2; v <= 200; v++ {
		if _, err := store.Update(doc(v)); err != nil {
			t.Fatal(err)
		}
		if v%7 == 0 {
			_ = store.Kill("switch", "flapping")
		}
		if v%7 == 3 {
			_, _ = store.Revive("switch")
		}
		if v%20 == 0 {
			m, err := store.TakeMetrics()
			if err != nil {
				t.Fatal(err)
			}
			counted += m["echo"].Total()
		}
	}
	done.Store(true)
	wg.Wait()
	m, _ := store.TakeMetrics()
	counted += m["echo"].Total()
	if evaluations.Load() == 0 || counted != evaluations.Load() {
		t.Errorf("%d evaluations, %d counted", evaluations.Load(), counted)
	}
}
