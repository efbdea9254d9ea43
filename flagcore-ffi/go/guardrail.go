package flagcore

/*
#include "flagcore.h"

// Exported by guardrail_export.go.
extern void flagcoreGuardrailTrip(void *user_data, fc_kill *kill);

// The C callback the store calls: the exported Go function, with the const that cgo's
// export leaves out.
static void flagcore_guardrail_trip(void *user_data, const fc_kill *kill) {
	flagcoreGuardrailTrip(user_data, (fc_kill *)kill);
}

static fc_guardrail_trip_callback flagcore_guardrail_trip_callback(void) {
	return flagcore_guardrail_trip;
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// NoLatency, as the latency of [Store.Observe], says the request's latency was not
// measured.
const NoLatency time.Duration = -1

// Observe reports what the application saw after serving variant of flag: a failed
// request (failed), and how long it took (latency, or [NoLatency]; microseconds count).
// This is the evidence of the flag's guardrails: when one finds the watched variants
// worse than its bound allows, the store kills the flag ([Store.Kills] lists the kill,
// its reason starting with "guardrail") and calls the [Store.OnGuardrailTrip] callback.
//
// An unknown flag or variant is not an error: nothing is recorded, and
// [Store.ObservationsIgnored] counts it. Neither is a killed or disabled flag, nor a
// variant no guardrail compares: they add no evidence. The error is non-nil only for a
// closed store or a name that is not UTF-8. Like an evaluation, Observe takes no lock
// and does not allocate.
func (s *Store) Observe(flag, variant string, failed bool, latency time.Duration) error {
	if s.ptr == nil {
		return ErrClosed
	}
	micros := int64(-1)
	if latency >= 0 {
		micros = latency.Microseconds()
	}
	f, fn := cstr(flag)
	v, vn := cstr(variant)
	r := C.fc_store_observe(s.ptr, f, fn, v, vn, C.bool(failed), C.int64_t(micros))
	runtime.KeepAlive(s)
	if p := s.cb.trip.panicked.Load(); p != nil && s.cb.trip.panicked.CompareAndSwap(p, nil) {
		panic(p)
	}
	switch r {
	case C.FC_RESULT_OK:
		return nil
	case C.FC_RESULT_INVALID_UTF8:
		return &Error{Code: CodeInvalidUTF8, Message: "the flag or variant name is not valid UTF-8"}
	default:
		return resultError(r, "observe failed")
	}
}

// GuardrailTrips returns how many guardrails have tripped since the store was created.
func (s *Store) GuardrailTrips() (uint64, error) {
	if s.ptr == nil {
		return 0, ErrClosed
	}
	var n C.uint64_t
	r := C.fc_store_guardrail_trips(s.ptr, &n)
	runtime.KeepAlive(s)
	return uint64(n), resultError(r, "reading the guardrail trips")
}

// ObservationsIgnored returns how many [Store.Observe] calls named an unknown flag or
// variant.
func (s *Store) ObservationsIgnored() (uint64, error) {
	if s.ptr == nil {
		return 0, ErrClosed
	}
	var n C.uint64_t
	r := C.fc_store_observations_ignored(s.ptr, &n)
	runtime.KeepAlive(s)
	return uint64(n), resultError(r, "reading the ignored observations")
}

// VariantCounts is the evidence of one variant a guardrail compares.
type VariantCounts struct {
	Variant string
	// Observations reported since the evidence started (or a revive reset it).
	Observations uint64
	// Events are the errors among them (for a latency bound: the requests slower than it).
	Events uint64
}

// GuardrailStatus is the state of one guardrail, as [Store.Guardrails] lists it.
type GuardrailStatus struct {
	// Flag is the flag it guards.
	Flag string
	// ID is its id.
	ID string
	// Bound says what it bounds, for people: "max_increase 0.01 over off",
	// "max_error_rate 0.05" or "p99 at most 250 ms".
	Bound string
	// Watched are the watched variants and their evidence, in watch order.
	Watched []VariantCounts
	// Baseline is the baseline variant and its evidence; nil for a bound without one.
	Baseline *VariantCounts
	// LikelihoodRatio is the sequential test's likelihood ratio that the bound is
	// exceeded; the guardrail trips at 100.
	LikelihoodRatio float64
	// Tripped says whether it has tripped (and killed its flag) since the flag was last
	// revived.
	Tripped bool
}

// Guardrails lists every guardrail of the serving snapshot with its evidence and state,
// in the document order of their flags (none before the first snapshot).
func (s *Store) Guardrails() ([]GuardrailStatus, error) {
	if s.ptr == nil {
		return nil, ErrClosed
	}
	var list *C.fc_guardrails
	if err := withDetail(func() C.fc_result { return C.fc_store_guardrails(s.ptr, &list) }); err != nil {
		return nil, err
	}
	runtime.KeepAlive(s)
	defer C.fc_guardrails_free(list)
	n := int(C.fc_guardrails_len(list))
	out := make([]GuardrailStatus, 0, n)
	for i := 0; i < n; i++ {
		var g C.fc_guardrail
		if r := C.fc_guardrails_get(list, C.size_t(i), &g); r != C.FC_RESULT_OK {
			return nil, resultError(r, "reading the guardrail list")
		}
		status := GuardrailStatus{
			Flag:            gostr(g.flag),
			ID:              gostr(g.id),
			Bound:           gostr(g.bound),
			LikelihoodRatio: float64(g.likelihood_ratio),
			Tripped:         bool(g.tripped),
		}
		for _, w := range unsafe.Slice(g.watched, int(g.watched_len)) {
			status.Watched = append(status.Watched, variantCounts(w))
		}
		if g.baseline.variant.ptr != nil {
			baseline := variantCounts(g.baseline)
			status.Baseline = &baseline
		}
		out = append(out, status)
	}
	return out, nil
}

func variantCounts(c C.fc_variant_counts) VariantCounts {
	return VariantCounts{
		Variant:      gostr(c.variant),
		Observations: uint64(c.observations),
		Events:       uint64(c.events),
	}
}

// OnGuardrailTrip makes fn be called with the kill each time a guardrail of the store
// trips (to tell the rest of a fleet, say), replacing any earlier function; nil stops
// the calls.
//
// fn runs on the goroutine whose [Store.Observe] tripped the guardrail, before that call
// returns and after the kill took effect; it may call the store's methods (but Close).
// It may run on several goroutines at once when guardrails of several flags trip
// together, and should be quick: it delays that observation. A panic in fn does not
// unwind through the C library: it is recovered there and raised again by the Observe
// call that tripped.
//
// The store keeps fn until Close; fn may refer to the store.
func (s *Store) OnGuardrailTrip(fn func(Kill)) error {
	if s.ptr == nil {
		return ErrClosed
	}
	if fn == nil {
		s.cb.trip.fn.Store(nil)
		return nil
	}
	s.cb.trip.fn.Store(&fn)
	var err error
	s.cb.trip.register.Do(func() {
		err = withDetail(func() C.fc_result {
			return C.fc_store_on_guardrail_trip(s.ptr, C.flagcore_guardrail_trip_callback(), s.res.userData)
		})
	})
	runtime.KeepAlive(s)
	return err
}

// tripState is what the trip callback of a store needs (a part of its [callbacks]).
type tripState struct {
	fn       atomic.Pointer[func(Kill)]
	panicked atomic.Pointer[tripPanic]
	register sync.Once
}

// tripPanic is a panic of the trip callback, recovered before it could unwind through C.
type tripPanic struct {
	value any
	stack []byte
}

func (p *tripPanic) Error() string {
	return fmt.Sprintf("flagcore: the guardrail trip callback panicked: %v\n\n%s", p.value, p.stack)
}

// Unwrap gives the panic value when it is an error.
func (p *tripPanic) Unwrap() error {
	err, _ := p.value.(error)
	return err
}
