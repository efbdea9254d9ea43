package flagcore_test

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

// "checkout" serves "on" to everyone. Its guardrail "budget" trips at the 100th
// observation of "on" (the fewest it decides on) when every other one failed; "errors"
// compares "on" with the baseline "off".
const guardedSnapshot = `{"version": 1, "flags": {
  "checkout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"variant": "on"},
    "guardrails": [
      {"id": "budget", "watch": ["on"], "max_error_rate": 0.05},
      {"id": "errors", "watch": ["on"], "baseline": "off", "max_increase": 0.01}]},
  "plain": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"variant": "on"}}
}}`

func guardedStore(t testing.TB) *flagcore.Store {
	t.Helper()
	store, err := flagcore.NewStoreFromBytes([]byte(guardedSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func observe(t testing.TB, store *flagcore.Store, flag, variant string, failed bool, latency time.Duration) {
	t.Helper()
	if err := store.Observe(flag, variant, failed, latency); err != nil {
		t.Fatalf("Observe(%q, %q): %v", flag, variant, err)
	}
}

// tripBudget makes "budget" trip: 100 observations of "on", every other one failed.
func tripBudget(t testing.TB, store *flagcore.Store) {
	t.Helper()
	for i := 1; i <= 100; i++ {
		observe(t, store, "checkout", "on", i%2 == 1, flagcore.NoLatency)
	}
}

func guardrail(t testing.TB, store *flagcore.Store, id string) flagcore.GuardrailStatus {
	t.Helper()
	all, err := store.Guardrails()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range all {
		if g.ID == id {
			return g
		}
	}
	t.Fatalf("no guardrail %q in %+v", id, all)
	return flagcore.GuardrailStatus{}
}

func TestGuardrailStatus(t *testing.T) {
	store := guardedStore(t)
	observe(t, store, "checkout", "on", true, 1500*time.Microsecond)
	observe(t, store, "checkout", "on", false, flagcore.NoLatency)
	observe(t, store, "checkout", "off", false, 0)
	all, err := store.Guardrails()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("%d guardrails: %+v", len(all), all)
	}
	budget, errorsRail := all[0], all[1]
	if budget.Flag != "checkout" || budget.ID != "budget" || budget.Bound != "max_error_rate 0.05" {
		t.Errorf("budget = %+v", budget)
	}
	want := []flagcore.VariantCounts{{Variant: "on", Observations: 2, Events: 1}}
	if len(budget.Watched) != 1 || budget.Watched[0] != want[0] || budget.Baseline != nil {
		t.Errorf("budget evidence = %+v, baseline %+v", budget.Watched, budget.Baseline)
	}
	if budget.Tripped || budget.LikelihoodRatio != 0 {
		t.Errorf("budget decided on 2 observations: %+v", budget)
	}
	if errorsRail.ID != "errors" || errorsRail.Bound != "max_increase 0.01 over off" {
		t.Errorf("errors = %+v", errorsRail)
	}
	baseline := flagcore.VariantCounts{Variant: "off", Observations: 1, Events: 0}
	if errorsRail.Baseline == nil || *errorsRail.Baseline != baseline || errorsRail.Watched[0] != want[0] {
		t.Errorf("errors evidence = %+v, baseline %+v", errorsRail.Watched, errorsRail.Baseline)
	}

	empty := flagcore.NewStore()
	defer empty.Close()
	if all, err := empty.Guardrails(); err != nil || len(all) != 0 {
		t.Errorf("no snapshot: %+v, %v", all, err)
	}
}

func TestObserveIgnoresUnknownFlagsAndVariants(t *testing.T) {
	store := guardedStore(t)
	observe(t, store, "no-such-flag", "on", true, flagcore.NoLatency)
	observe(t, store, "checkout", "maybe", true, flagcore.NoLatency)
	observe(t, store, "", "", false, flagcore.NoLatency)
	observe(t, store, "plain", "on", true, time.Millisecond) // known: not ignored, no evidence
	if n, err := store.ObservationsIgnored(); n != 3 || err != nil {
		t.Errorf("ObservationsIgnored = %d, %v; want 3", n, err)
	}
	if g := guardrail(t, store, "budget"); g.Watched[0].Observations != 0 {
		t.Errorf("evidence from ignored observations: %+v", g)
	}
	err := store.Observe("checkout", "o\xff", false, flagcore.NoLatency)
	if !errors.Is(err, flagcore.ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if n, _ := store.ObservationsIgnored(); n != 3 {
		t.Errorf("a refused observation was counted: %d", n)
	}
}

func TestGuardrailTripKillsTheFlag(t *testing.T) {
	store := guardedStore(t)
	var calls atomic.Int32
	var seen flagcore.Kill
	var killsInCallback []flagcore.Kill
	err := store.OnGuardrailTrip(func(k flagcore.Kill) {
		if calls.Add(1) == 1 {
			seen = k
			killsInCallback, _ = store.Kills() // no lock is held: must not deadlock
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 100; i++ {
		observe(t, store, "checkout", "on", i%2 == 1, flagcore.NoLatency)
	}
	if calls.Load() != 0 || !store.Bool("checkout", false, nil) {
		t.Fatal("tripped before its 100th observation")
	}
	observe(t, store, "checkout", "on", false, flagcore.NoLatency)
	if calls.Load() != 1 {
		t.Fatalf("callback called %d times, want 1", calls.Load())
	}
	if seen.Flag != "checkout" || !strings.HasPrefix(seen.Reason, "guardrail budget: 50.0% errors, 100 observations") {
		t.Errorf("callback kill = %+v", seen)
	}
	if len(killsInCallback) != 1 {
		t.Errorf("kills seen by the callback = %+v", killsInCallback)
	}
	if store.Bool("checkout", true, nil) {
		t.Error("a tripped flag serves its off variant")
	}
	kills, err := store.Kills()
	if err != nil || len(kills) != 1 || kills[0].Flag != "checkout" || !strings.HasPrefix(kills[0].Reason, "guardrail") {
		t.Errorf("Kills = %+v, %v", kills, err)
	}
	if n, err := store.GuardrailTrips(); n != 1 || err != nil {
		t.Errorf("GuardrailTrips = %d, %v", n, err)
	}
	g := guardrail(t, store, "budget")
	if !g.Tripped || g.LikelihoodRatio < 100 || g.Watched[0] != (flagcore.VariantCounts{Variant: "on", Observations: 100, Events: 50}) {
		t.Errorf("budget after the trip = %+v", g)
	}

	// A killed flag gathers no evidence and trips no more.
	for i := 0; i < 50; i++ {
		observe(t, store, "checkout", "on", true, flagcore.NoLatency)
	}
	if g := guardrail(t, store, "budget"); g.Watched[0].Observations != 100 || calls.Load() != 1 {
		t.Errorf("observations of a killed flag counted: %+v, %d calls", g, calls.Load())
	}

	// A revive resets the evidence; without a callback, trips still kill and count.
	if was, err := store.Revive("checkout"); !was || err != nil {
		t.Fatalf("Revive = %v, %v", was, err)
	}
	if g := guardrail(t, store, "budget"); g.Tripped || g.Watched[0].Observations != 0 || g.Watched[0].Events != 0 {
		t.Errorf("budget after a revive = %+v", g)
	}
	if err := store.OnGuardrailTrip(nil); err != nil {
		t.Fatal(err)
	}
	tripBudget(t, store)
	if store.Bool("checkout", true, nil) || calls.Load() != 1 {
		t.Errorf("second trip: served on, or called a removed callback (%d calls)", calls.Load())
	}
	if n, _ := store.GuardrailTrips(); n != 2 {
		t.Errorf("GuardrailTrips = %d, want 2", n)
	}
}

func TestGuardrailCallbackPanicIsRaisedByObserve(t *testing.T) {
	store := guardedStore(t)
	boom := errors.New("boom")
	if err := store.OnGuardrailTrip(func(flagcore.Kill) { panic(boom) }); err != nil {
		t.Fatal(err)
	}
	defer func() {
		p := recover()
		err, ok := p.(error)
		if !ok || !errors.Is(err, boom) || !strings.Contains(err.Error(), "trip callback panicked: boom") {
			t.Fatalf("recovered %v", p)
		}
		// The kill took effect before the callback ran; the store goes on working.
		if store.Bool("checkout", true, nil) {
			t.Error("the flag was not killed")
		}
		observe(t, store, "checkout", "off", false, flagcore.NoLatency)
	}()
	tripBudget(t, store)
	t.Fatal("Observe did not panic")
}

func TestObserveConcurrently(t *testing.T) {
	store := guardedStore(t)
	var calls atomic.Int32
	if err := store.OnGuardrailTrip(func(flagcore.Kill) { calls.Add(1) }); err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 4, 2000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := store.Observe("checkout", "on", i%2 == 0, time.Duration(i)*time.Microsecond); err != nil {
					t.Error(err)
					return
				}
				if err := store.Observe("checkout", "gone", false, flagcore.NoLatency); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d callbacks; exactly one observation trips", calls.Load())
	}
	if n, _ := store.ObservationsIgnored(); n != goroutines*each {
		t.Errorf("ObservationsIgnored = %d", n)
	}
}

func TestGuardrailsOnAClosedStore(t *testing.T) {
	store := guardedStore(t)
	if err := store.OnGuardrailTrip(func(flagcore.Kill) {}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if err := store.Observe("checkout", "on", true, flagcore.NoLatency); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("Observe after Close: %v", err)
	}
	if _, err := store.Guardrails(); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("Guardrails after Close: %v", err)
	}
	if _, err := store.GuardrailTrips(); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("GuardrailTrips after Close: %v", err)
	}
	if _, err := store.ObservationsIgnored(); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("ObservationsIgnored after Close: %v", err)
	}
	if err := store.OnGuardrailTrip(nil); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("OnGuardrailTrip after Close: %v", err)
	}
}

// A trip callback that refers to its store does not keep a forgotten store alive: the
// handle C holds reaches the callback through a weak pointer only.
func TestForgottenStoreWithACallbackIsCollected(t *testing.T) {
	collected := make(chan struct{})
	func() {
		store, err := flagcore.NewStoreFromBytes([]byte(guardedSnapshot))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.OnGuardrailTrip(func(flagcore.Kill) { _, _ = store.Kills() }); err != nil {
			t.Fatal(err)
		}
		runtime.AddCleanup(store, func(done chan struct{}) { close(done) }, collected)
	}()
	waitCollected(t, collected)
}

// waitCollected runs the collector until collected is closed (by a cleanup); fails after
// 10 s.
func waitCollected(t *testing.T, collected <-chan struct{}) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-deadline:
			t.Fatal("the store was never collected")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
