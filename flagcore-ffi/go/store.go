package flagcore

/*
#include <stdint.h>
#include <stdlib.h>
#include "flagcore.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"time"
	"unsafe"
	"weak"
)

// Store holds the serving snapshot of flag rules. Evaluations never block and never see
// a half-applied update; [Store.Update] validates a new document off to the side and swaps
// it in, and an invalid or stale document never replaces the serving one.
//
// A Store is safe for concurrent use by any number of goroutines. Close it when done; a
// cleanup frees it if forgotten, once unreachable. Close must not race with other calls.
type Store struct {
	ptr     *C.fc_store
	cleanup runtime.Cleanup
	// cb and res serve the callbacks from C: guardrail trips (guardrail.go), changes
	// (change.go) and exposures (exposure.go).
	cb  *callbacks
	res storeResources
}

// ownedByStore is what a Store's cleanup frees: nothing in it refers to the Store.
type ownedByStore struct {
	ptr *C.fc_store
	res storeResources
}

func (o ownedByStore) free() {
	C.fc_store_free(o.ptr)
	o.res.free()
}

func newStore(ptr *C.fc_store) *Store {
	s := &Store{ptr: ptr, cb: &callbacks{}}
	s.res = newStoreResources(s.cb)
	s.cleanup = runtime.AddCleanup(s, ownedByStore.free, ownedByStore{ptr, s.res})
	return s
}

// callbacks is what the C library calls back into for a Store: its guardrail trip
// callback, its change subscribers and its exposure function. C reaches it through a
// cgo.Handle to a weak pointer: the functions may refer to the store, and a strong
// reference from the handle table would keep the store reachable forever (and its cleanup
// from running).
type callbacks struct {
	trip      tripState
	changes   changeState
	exposures exposureState
}

// storeResources are the C-side resources of a Store besides the fc_store, freed with
// it. They hold no Go pointer (cgo.Handle is an integer), so a cleanup may own them.
type storeResources struct {
	// userData is C memory holding the handle: the user_data of the callbacks (a
	// pointer, as C wants it, without converting an integer to unsafe.Pointer).
	userData unsafe.Pointer
	handle   cgo.Handle
}

func newStoreResources(cb *callbacks) storeResources {
	handle := cgo.NewHandle(weak.Make(cb))
	userData := C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	*(*C.uintptr_t)(userData) = C.uintptr_t(handle)
	return storeResources{userData: userData, handle: handle}
}

// free releases the resources. The fc_store is already freed, which ended its
// subscriptions and its trip callback with it, so no callback can run (a source may keep
// the engine alive, but no longer calls back).
func (r storeResources) free() {
	if r.userData != nil {
		C.free(r.userData)
		r.handle.Delete()
	}
}

// NewStore returns an empty store: until the first [Store.Update] every evaluation serves
// the caller's default with [ErrorCodeProviderNotReady].
func NewStore() *Store {
	var ptr *C.fc_store
	if err := withDetail(func() C.fc_result { return C.fc_store_new(&ptr) }); err != nil {
		panic(err) // only a bug in flagcore can get here
	}
	return newStore(ptr)
}

// NewStoreFromBytes returns a store serving the snapshot document doc (JSON). An invalid
// document is an [*Error] with code [CodeInvalidSnapshot] listing every problem.
func NewStoreFromBytes(doc []byte) (*Store, error) {
	var ptr *C.fc_store
	err := withDetail(func() C.fc_result {
		p, n := cbytes(doc)
		return C.fc_store_new_from_bytes(p, n, &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newStore(ptr), nil
}

// NewStoreFromFile returns a store serving the snapshot document in the file at path.
func NewStoreFromFile(path string) (*Store, error) {
	var ptr *C.fc_store
	err := withDetail(func() C.fc_result {
		p, n := cstr(path)
		return C.fc_store_new_from_file(p, n, &ptr)
	})
	if err != nil {
		return nil, err
	}
	return newStore(ptr), nil
}

// Close frees the store. It is idempotent; later calls fail with [ErrClosed] (the plain
// getters return the caller's default). Snapshots taken from it stay usable. Exposures
// accepted before it are delivered first ([Store.TrackExposures]).
func (s *Store) Close() error {
	if s.ptr == nil {
		return nil
	}
	s.cleanup.Stop()
	ownedByStore{s.ptr, s.res}.free()
	s.ptr = nil
	return nil
}

// Update validates the snapshot document doc and swaps it in; it returns the new
// version. On error the serving snapshot stays: [ErrInvalidSnapshot] (with every problem
// in the error's ValidationErrors) or [ErrStaleSnapshot] (a version not newer than the
// serving one).
func (s *Store) Update(doc []byte) (uint64, error) {
	if s.ptr == nil {
		return 0, ErrClosed
	}
	var version C.uint64_t
	err := withDetail(func() C.fc_result {
		p, n := cbytes(doc)
		return C.fc_store_update(s.ptr, p, n, &version)
	})
	runtime.KeepAlive(s)
	return uint64(version), err
}

// UpdateFile is [Store.Update] with the document read from the file at path; it may also
// fail with [ErrIO].
func (s *Store) UpdateFile(path string) (uint64, error) {
	if s.ptr == nil {
		return 0, ErrClosed
	}
	var version C.uint64_t
	err := withDetail(func() C.fc_result {
		p, n := cstr(path)
		return C.fc_store_update_file(s.ptr, p, n, &version)
	})
	runtime.KeepAlive(s)
	return uint64(version), err
}

// Version returns the serving snapshot's version, and false before the first snapshot (or
// after Close).
func (s *Store) Version() (uint64, bool) {
	if s.ptr == nil {
		return 0, false
	}
	var version C.uint64_t
	r := C.fc_store_version(s.ptr, &version)
	runtime.KeepAlive(s)
	return uint64(version), r == C.FC_RESULT_OK
}

// Kill switches flag off on every goroutine's next evaluation: it serves its off variant
// with [ReasonDisabled] until [Store.Revive]d, across updates. A flag the snapshot does not
// have can be killed too. reason is kept for [Store.Kills].
func (s *Store) Kill(flag, reason string) error {
	if s.ptr == nil {
		return ErrClosed
	}
	err := withDetail(func() C.fc_result {
		f, fn := cstr(flag)
		r, rn := cstr(reason)
		return C.fc_store_kill(s.ptr, f, fn, r, rn)
	})
	runtime.KeepAlive(s)
	return err
}

// Revive lifts a kill; it reports whether flag was killed.
func (s *Store) Revive(flag string) (bool, error) {
	if s.ptr == nil {
		return false, ErrClosed
	}
	var was C.bool
	err := withDetail(func() C.fc_result {
		f, fn := cstr(flag)
		return C.fc_store_revive(s.ptr, f, fn, &was)
	})
	runtime.KeepAlive(s)
	return bool(was), err
}

// Kill is a runtime kill in force.
type Kill struct {
	Flag   string
	Reason string
	At     time.Time
}

// Kills lists the runtime kills in force, by flag name.
func (s *Store) Kills() ([]Kill, error) {
	if s.ptr == nil {
		return nil, ErrClosed
	}
	var list *C.fc_kills
	if err := withDetail(func() C.fc_result { return C.fc_store_kills(s.ptr, &list) }); err != nil {
		return nil, err
	}
	runtime.KeepAlive(s)
	defer C.fc_kills_free(list)
	n := int(C.fc_kills_len(list))
	kills := make([]Kill, 0, n)
	for i := 0; i < n; i++ {
		var k C.fc_kill
		if r := C.fc_kills_get(list, C.size_t(i), &k); r != C.FC_RESULT_OK {
			return nil, resultError(r, "reading the kill list")
		}
		kills = append(kills, Kill{
			Flag:   gostr(k.flag),
			Reason: gostr(k.reason),
			At:     time.Unix(0, int64(k.at_unix_nanos)),
		})
	}
	return kills, nil
}

// Metrics are evaluation counts by flag name.
type Metrics map[string]FlagCounts

// FlagCounts are the evaluations of one flag.
type FlagCounts struct {
	// Variants counts evaluations by variant served.
	Variants map[string]uint64
	// Defaults counts evaluations that served the caller's default.
	Defaults uint64
}

// Total is the number of evaluations of the flag.
func (c FlagCounts) Total() uint64 {
	total := c.Defaults
	for _, n := range c.Variants {
		total += n
	}
	return total
}

// TakeMetrics returns the evaluation counts since the last call and resets them. Each
// top-level evaluation counts once (prerequisites do not).
func (s *Store) TakeMetrics() (Metrics, error) {
	if s.ptr == nil {
		return nil, ErrClosed
	}
	var list *C.fc_metrics
	if err := withDetail(func() C.fc_result { return C.fc_store_take_metrics(s.ptr, &list) }); err != nil {
		return nil, err
	}
	runtime.KeepAlive(s)
	defer C.fc_metrics_free(list)
	metrics := Metrics{}
	n := int(C.fc_metrics_len(list))
	for i := 0; i < n; i++ {
		var m C.fc_metric
		if r := C.fc_metrics_get(list, C.size_t(i), &m); r != C.FC_RESULT_OK {
			return nil, resultError(r, "reading the metrics")
		}
		flag := gostr(m.flag)
		counts := metrics[flag]
		if m.variant.ptr == nil {
			counts.Defaults += uint64(m.count)
		} else {
			if counts.Variants == nil {
				counts.Variants = map[string]uint64{}
			}
			counts.Variants[gostr(m.variant)] += uint64(m.count)
		}
		metrics[flag] = counts
	}
	return metrics, nil
}

// SetMetricsEnabled turns evaluation counting on (the default) or off.
func (s *Store) SetMetricsEnabled(enabled bool) error {
	if s.ptr == nil {
		return ErrClosed
	}
	r := C.fc_store_set_metrics_enabled(s.ptr, C.bool(enabled))
	runtime.KeepAlive(s)
	return resultError(r, "set_metrics_enabled")
}

// Snapshot takes a consistent view of the serving snapshot: every evaluation through it
// sees the same version, even while the store is updated. Close it when done (per request,
// say): an old snapshot stays in memory while a view of it exists.
func (s *Store) Snapshot() (*Snapshot, error) {
	if s.ptr == nil {
		return nil, ErrClosed
	}
	var ptr *C.fc_snapshot
	r := C.fc_store_snapshot(s.ptr, &ptr)
	runtime.KeepAlive(s)
	if r != C.FC_RESULT_OK {
		return nil, resultError(r, "taking a snapshot")
	}
	return newSnapshot(ptr), nil
}

// evaluationError is the error of an evaluation call that failed.
func evaluationError(r C.fc_result) error {
	switch r {
	case C.FC_RESULT_INVALID_UTF8:
		return &Error{Code: CodeInvalidUTF8, Message: "the flag name or a context string is not valid UTF-8"}
	default:
		return resultError(r, "evaluation failed")
	}
}

// Bool returns the value of boolean flag flag for ctx, or def when it cannot be served
// (unknown flag, another type, no snapshot yet, a closed store): see [Store.BoolDetails]
// for why.
func (s *Store) Bool(flag string, def bool, ctx *Context) bool {
	cctx, err := ctx.c()
	if s.ptr == nil || err != nil {
		return def
	}
	f, fn := cstr(flag)
	var out C.bool
	r := C.fc_store_bool(s.ptr, f, fn, cctx, C.bool(def), &out)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ctx)
	if r != C.FC_RESULT_OK {
		return def
	}
	return bool(out)
}

// Int returns the value of integer flag flag for ctx, or def (see [Store.Bool]).
func (s *Store) Int(flag string, def int64, ctx *Context) int64 {
	cctx, err := ctx.c()
	if s.ptr == nil || err != nil {
		return def
	}
	f, fn := cstr(flag)
	var out C.int64_t
	r := C.fc_store_int(s.ptr, f, fn, cctx, C.int64_t(def), &out)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ctx)
	if r != C.FC_RESULT_OK {
		return def
	}
	return int64(out)
}

// Float returns the value of number flag flag (an integer flag too) for ctx, or def (see
// [Store.Bool]).
func (s *Store) Float(flag string, def float64, ctx *Context) float64 {
	cctx, err := ctx.c()
	if s.ptr == nil || err != nil {
		return def
	}
	f, fn := cstr(flag)
	var out C.double
	r := C.fc_store_float(s.ptr, f, fn, cctx, C.double(def), &out)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ctx)
	if r != C.FC_RESULT_OK {
		return def
	}
	return float64(out)
}

// String returns the value of string flag flag for ctx, or def (see [Store.Bool]).
func (s *Store) String(flag, def string, ctx *Context) string {
	cctx, err := ctx.c()
	if s.ptr == nil || err != nil {
		return def
	}
	f, fn := cstr(flag)
	d, dn := cstr(def)
	var small [128]byte
	buf := small[:]
	for {
		var n C.size_t
		r := C.fc_store_string(s.ptr, f, fn, cctx, d, dn, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
		runtime.KeepAlive(s)
		runtime.KeepAlive(ctx)
		switch {
		case r == C.FC_RESULT_OK:
			return string(buf[:n])
		case r == C.FC_RESULT_INSUFFICIENT_SIZE && int(n) > len(buf):
			buf = make([]byte, n)
		default:
			return def
		}
	}
}

// JSON returns the value of JSON (object or array) flag flag for ctx as JSON text, or def
// (see [Store.Bool]).
func (s *Store) JSON(flag string, def json.RawMessage, ctx *Context) json.RawMessage {
	cctx, err := ctx.c()
	if s.ptr == nil || err != nil {
		return def
	}
	f, fn := cstr(flag)
	var small [512]byte
	buf := small[:]
	for {
		var n C.size_t
		// The default is not passed: when it is served, the caller gets its own slice back.
		r := C.fc_store_json(s.ptr, f, fn, cctx, nil, 0, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
		runtime.KeepAlive(s)
		runtime.KeepAlive(ctx)
		switch {
		case r == C.FC_RESULT_OK && n == 0:
			return def
		case r == C.FC_RESULT_OK:
			return json.RawMessage(append([]byte(nil), buf[:n]...))
		case r == C.FC_RESULT_INSUFFICIENT_SIZE && int(n) > len(buf):
			buf = make([]byte, n)
		default:
			return def
		}
	}
}

// withSnapshot evaluates through a snapshot view taken and freed around f.
func (s *Store) withSnapshot(ctx *Context, f func(*C.fc_snapshot, *C.fc_context) error) error {
	cctx, err := ctx.c()
	if err != nil {
		return err
	}
	if s.ptr == nil {
		return ErrClosed
	}
	var snap *C.fc_snapshot
	r := C.fc_store_snapshot(s.ptr, &snap)
	runtime.KeepAlive(s)
	if r != C.FC_RESULT_OK {
		return resultError(r, "taking a snapshot")
	}
	err = f(snap, cctx)
	C.fc_snapshot_free(snap)
	runtime.KeepAlive(ctx)
	return err
}

// BoolDetails is [Store.Bool] with the details of the evaluation. The error is non-nil
// only when the evaluation could not run (a closed store or context, a flag name that is
// not UTF-8); the details then carry def and [ErrorCodeGeneral].
func (s *Store) BoolDetails(flag string, def bool, ctx *Context) (Details[bool], error) {
	out := failed(def)
	err := s.withSnapshot(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = boolDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// IntDetails is [Store.Int] with details (see [Store.BoolDetails]).
func (s *Store) IntDetails(flag string, def int64, ctx *Context) (Details[int64], error) {
	out := failed(def)
	err := s.withSnapshot(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = intDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// FloatDetails is [Store.Float] with details (see [Store.BoolDetails]).
func (s *Store) FloatDetails(flag string, def float64, ctx *Context) (Details[float64], error) {
	out := failed(def)
	err := s.withSnapshot(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = floatDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// StringDetails is [Store.String] with details (see [Store.BoolDetails]).
func (s *Store) StringDetails(flag, def string, ctx *Context) (Details[string], error) {
	out := failed(def)
	err := s.withSnapshot(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = stringDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// JSONDetails is [Store.JSON] with details (see [Store.BoolDetails]).
func (s *Store) JSONDetails(flag string, def json.RawMessage, ctx *Context) (Details[json.RawMessage], error) {
	out := failed(def)
	err := s.withSnapshot(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = jsonDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}
