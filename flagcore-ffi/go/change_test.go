package flagcore_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

// changes subscribes to store and returns the channel its changes arrive on.
func changes(t *testing.T, store *flagcore.Store) (<-chan flagcore.Change, func()) {
	t.Helper()
	got := make(chan flagcore.Change, 16)
	unsubscribe, err := store.Subscribe(func(c flagcore.Change) { got <- c })
	if err != nil {
		t.Fatal(err)
	}
	return got, unsubscribe
}

func next(t *testing.T, got <-chan flagcore.Change) flagcore.Change {
	t.Helper()
	select {
	case c := <-got:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no change arrived")
		return flagcore.Change{}
	}
}

func expect(t *testing.T, got <-chan flagcore.Change, version uint64, flags ...string) {
	t.Helper()
	c := next(t, got)
	if flags == nil {
		flags = []string{}
	}
	if c.Flags == nil {
		c.Flags = []string{}
	}
	if !c.HasVersion || c.Version != version || !reflect.DeepEqual(c.Flags, flags) {
		t.Errorf("change = %+v, want version %d and flags %v", c, version, flags)
	}
}

func none(t *testing.T, got <-chan flagcore.Change) {
	t.Helper()
	select {
	case c := <-got:
		t.Errorf("unexpected change %+v", c)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestSubscribeHearsUpdatesKillsAndRevives(t *testing.T) {
	store := mustStore(t)
	got, unsubscribe := changes(t, store)

	// Only "color" is defined differently; "extra" is new.
	doc := strings.Replace(testSnapshot, `"version": 2`, `"version": 3`, 1)
	doc = strings.Replace(doc, `"off_variant": "red", "fallthrough": {"variant": "blue"}`,
		`"off_variant": "red", "fallthrough": {"variant": "red"}`, 1)
	doc = strings.Replace(doc, `"flags": {`, `"flags": {
  "extra": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"variant": "on"}},`, 1)
	if _, err := store.Update([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	expect(t, got, 3, "color", "extra")
	// Refused updates change nothing and tell nothing.
	if _, err := store.Update([]byte(doc)); !errors.Is(err, flagcore.ErrStaleSnapshot) {
		t.Fatalf("stale update: %v", err)
	}
	if err := store.Kill("search", "incident"); err != nil {
		t.Fatal(err)
	}
	expect(t, got, 3, "search")
	if err := store.Kill("search", "again"); err != nil { // already killed: no change
		t.Fatal(err)
	}
	if was, err := store.Revive("search"); err != nil || !was {
		t.Fatalf("revive = %v, %v", was, err)
	}
	expect(t, got, 3, "search")
	none(t, got)

	unsubscribe()
	unsubscribe() // idempotent
	if err := store.Kill("color", "after"); err != nil {
		t.Fatal(err)
	}
	none(t, got)
}

func TestSubscribersMayCallTheStore(t *testing.T) {
	store := mustStore(t)
	kills := make(chan []flagcore.Kill, 4)
	unsubscribe, err := store.Subscribe(func(c flagcore.Change) {
		// Not under the store's lock: writing from here neither deadlocks nor fails.
		if c.Flags[0] == "search" {
			if err := store.Kill("color", "follows search"); err != nil {
				t.Error(err)
			}
		}
		k, err := store.Kills()
		if err != nil {
			t.Error(err)
		}
		kills <- k
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	if err := store.Kill("search", "incident"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{2, 2} { // after "search": both killed; after "color": same
		select {
		case k := <-kills:
			if len(k) != want {
				t.Errorf("kills seen = %+v", k)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no change arrived")
		}
	}
}

func TestSubscribeHearsAFileSourceAndAGuardrailTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snapshot.json")
	writeAtomically(t, path, guardedSnapshot)
	store := flagcore.NewStore()
	defer store.Close()
	got, unsubscribe := changes(t, store)
	defer unsubscribe()
	source, err := flagcore.NewFileSource(store, path, &flagcore.FileSourceOptions{Debounce: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer source.Close()
	expect(t, got, 1, "checkout", "plain") // the first read, inside NewFileSource

	// A reload on the source's own thread, which C calls back from.
	reloaded := strings.Replace(guardedSnapshot, `"version": 1`, `"version": 2`, 1)
	reloaded = strings.Replace(reloaded, `"plain": {"variants": {"on": true, "off": false}, "enabled": true`,
		`"plain": {"variants": {"on": true, "off": false}, "enabled": false`, 1)
	writeAtomically(t, path, reloaded)
	expect(t, got, 2, "plain")

	tripBudget(t, store) // the kill happens inside Observe
	expect(t, got, 2, "checkout")
}

func TestCloseEndsSubscriptionsWhileASourceFeedsTheEngine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snapshot.json")
	writeAtomically(t, path, sourceSnapshot(1, "on"))
	store := flagcore.NewStore()
	got, _ := changes(t, store)
	source, err := flagcore.NewFileSource(store, path, &flagcore.FileSourceOptions{Debounce: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer source.Close()
	expect(t, got, 1, "checkout")
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	writeAtomically(t, path, sourceSnapshot(2, "off"))
	eventually(t, "the reload", func() bool { return source.Status().Loads == 2 })
	none(t, got)
	if _, err := store.Subscribe(func(flagcore.Change) {}); !errors.Is(err, flagcore.ErrClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
}

func TestSubscribeNeedsAFunction(t *testing.T) {
	store := mustStore(t)
	if _, err := store.Subscribe(nil); !errors.Is(err, flagcore.ErrInvalidArgument) {
		t.Errorf("Subscribe(nil) = %v", err)
	}
}

func TestForgottenStoreWithASubscriberIsCollected(t *testing.T) {
	collected := make(chan struct{})
	func() {
		store := flagcore.NewStore()
		if _, err := store.Subscribe(func(flagcore.Change) { _, _ = store.Kills() }); err != nil {
			t.Fatal(err)
		}
		if err := store.Kill("x", "before it is forgotten"); err != nil {
			t.Fatal(err)
		}
		runtime.AddCleanup(store, func(done chan struct{}) { close(done) }, collected)
	}()
	waitCollected(t, collected)
}
