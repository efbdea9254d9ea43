package flagcore_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	flagcore "github.com/flagcore/flagcore/flagcore-ffi/go"
)

func sourceSnapshot(version int, variant string) string {
	return fmt.Sprintf(`{"version": %d, "flags": {"checkout": {"variants": {"on": true, "off": false},
  "enabled": true, "off_variant": "off", "fallthrough": {"variant": %q}}}}`, version, variant)
}

// writeAtomically writes the file the way deployment tools do: a temporary file, a rename.
func writeAtomically(t *testing.T, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// eventually waits (at most 5 s) until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFileSourceReloadsAndKeepsTheLastGoodSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snapshot.json")
	writeAtomically(t, path, sourceSnapshot(1, "on"))
	store := flagcore.NewStore()
	defer store.Close()
	source, err := flagcore.NewFileSource(store, path, &flagcore.FileSourceOptions{Debounce: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer source.Close()

	st := source.Status()
	if !st.Healthy || !st.HasVersion || st.Version != 1 || st.Loads != 1 || st.LastError != nil || st.LastSuccess.IsZero() {
		t.Fatalf("after start: %+v", st)
	}
	if !store.Bool("checkout", false, nil) {
		t.Fatal("version 1 serves on")
	}

	writeAtomically(t, path, sourceSnapshot(2, "off"))
	eventually(t, "version 2", func() bool { v, _ := store.Version(); return v == 2 })
	if store.Bool("checkout", true, nil) {
		t.Fatal("version 2 serves off")
	}

	writeAtomically(t, path, `{"version": 3, "flags": {"checkout": {"variants": {}}}}`)
	eventually(t, "the failure", func() bool { return source.Status().ConsecutiveFailures > 0 })
	st = source.Status()
	if st.Healthy || st.Version != 2 || st.LastError == nil || st.LastError.Code != "invalid_snapshot" ||
		st.LastError.Message == "" || st.LastError.At.IsZero() || st.Failures == 0 {
		t.Fatalf("after an invalid file: %+v %+v", st, st.LastError)
	}
	if v, _ := store.Version(); v != 2 || store.Bool("checkout", true, nil) {
		t.Fatalf("the last good snapshot keeps serving, got version %d", v)
	}

	if err := source.Close(); err != nil {
		t.Fatal(err)
	}
	if err := source.Close(); err != nil {
		t.Fatal("Close is idempotent:", err)
	}
	if final := source.Status(); final.Version != 2 || final.ConsecutiveFailures == 0 {
		t.Fatalf("the status at Close: %+v", final)
	}
}

func TestFileSourceOnAClosedStore(t *testing.T) {
	store := flagcore.NewStore()
	store.Close()
	if _, err := flagcore.NewFileSource(store, "snapshot.json", nil); !errors.Is(err, flagcore.ErrClosed) {
		t.Fatalf("got %v", err)
	}
	live := flagcore.NewStore()
	defer live.Close()
	if _, err := flagcore.NewFileSource(live, "", nil); !errors.Is(err, flagcore.ErrInvalidArgument) {
		t.Fatalf("an empty path: got %v", err)
	}
	if _, err := flagcore.NewHTTPSource(live, "http://\xff/", nil); !errors.Is(err, flagcore.ErrInvalidUTF8) {
		t.Fatalf("a URL that is not UTF-8: got %v", err)
	}
}

func TestHTTPSourceWithETagThenServerErrors(t *testing.T) {
	var failing atomic.Bool
	var notModified, sawToken atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer s3cret" && r.Header.Get("X-Team") == "flags" {
			sawToken.Add(1)
		}
		if failing.Load() {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		if r.Header.Get("If-None-Match") == `"v7"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v7"`)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, sourceSnapshot(7, "on"))
	}))
	defer server.Close()

	store := flagcore.NewStore()
	defer store.Close()
	source, err := flagcore.NewHTTPSource(store, server.URL+"/snapshot.json", &flagcore.HTTPSourceOptions{
		Interval:       10 * time.Millisecond,
		BackoffInitial: 10 * time.Millisecond,
		BackoffMax:     20 * time.Millisecond,
		ConnectTimeout: time.Second,
		ReadTimeout:    time.Second,
		BearerToken:    "s3cret",
		Headers:        map[string]string{"X-Team": "flags"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Closed before the server (deferred last, runs first), so no request is in flight.
	defer source.Close()

	st := source.Status()
	if !st.Healthy || st.Version != 7 || st.Loads != 1 {
		t.Fatalf("after start: %+v", st)
	}
	if v, ok := store.Version(); !ok || v != 7 || !store.Bool("checkout", false, nil) {
		t.Fatalf("the store serves version 7, got %d %v", v, ok)
	}
	eventually(t, "a 304", func() bool { return notModified.Load() > 0 && source.Status().Unchanged > 0 })
	if sawToken.Load() == 0 {
		t.Fatal("the bearer token and headers are sent")
	}

	failing.Store(true)
	eventually(t, "the 500s", func() bool { return source.Status().ConsecutiveFailures >= 2 })
	st = source.Status()
	if st.Healthy || st.LastError == nil || st.LastError.Code != "http_status" || st.LastError.HTTPStatus != 500 {
		t.Fatalf("after 500s: %+v %+v", st, st.LastError)
	}
	if v, _ := store.Version(); v != 7 || !store.Bool("checkout", false, nil) {
		t.Fatal("the last good snapshot keeps serving")
	}

	failing.Store(false)
	eventually(t, "the recovery", func() bool { return source.Status().Healthy })
	if err := source.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestForgottenSourceIsStoppedByTheCleanup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snapshot.json")
	writeAtomically(t, path, sourceSnapshot(1, "on"))
	store := flagcore.NewStore()
	defer store.Close()
	func() {
		if _, err := flagcore.NewFileSource(store, path, nil); err != nil {
			t.Fatal(err)
		}
	}()
	// Nothing to observe but the absence of a crash or a race: the cleanup frees it.
	for range 3 {
		runtime.GC()
	}
	if v, _ := store.Version(); v != 1 {
		t.Fatalf("got version %d", v)
	}
}
