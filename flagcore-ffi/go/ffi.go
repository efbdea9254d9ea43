package flagcore

// # How this package crosses into C
//
// The package is a thin cgo layer over the C ABI of flagcore-ffi (include/flagcore.h); all
// evaluation logic lives in the Rust library (linked as link_*.go say), so Go, Rust, Python
// and C agree on every bucket.
//
// Ownership. Each Go type that owns a C object ([Store], [Snapshot], [Context], [Source]) holds a
// single pointer to it. Close frees the C object and sets the pointer to nil, so Close is
// idempotent and later calls return [ErrClosed] (or the caller's default for the plain
// getters). A cleanup registered with runtime.AddCleanup frees an object the program
// forgot to Close once it becomes unreachable; it is a safety net, not the way to manage
// memory: Close stops it. Close must not race with other calls on the same value.
//
// Liveness. Every method that passes a pointer to C calls runtime.KeepAlive on its
// receiver (and on any Context) after the call, so the cleanup cannot run while C is still
// using the object.
//
// Memory crossing the boundary. Go memory handed to C never contains Go pointers (cgo's
// rule): flag names, snapshot documents and output buffers are passed as pointer plus
// length to memory that holds bytes only, and C keeps none of them after the call returns
// (declared with #cgo noescape/nocallback, which also lets the compiler keep them on the
// stack). A Context, whose attribute array holds pointers, is described in C memory (one
// C.malloc holding the fc_context, the fc_attribute array and every string), handed to
// fc_prepared_context_new, which checks and copies it into Rust, and freed: evaluations
// then pass only the prepared context, and convert nothing.
//
// Errors. C functions return an fc_result code; the message and the validation problems
// of a failed call live in C thread-local storage. A goroutine may move between OS threads
// between two cgo calls, so calls whose failures carry detail (updates, loads, kills) run
// with runtime.LockOSThread until the detail is read. Evaluations cannot fail on valid Go
// input but for invalid UTF-8 in a flag name, which is reported from the code alone.
//
// Strings from C (variants, rule ids, kill reasons) are copied into Go strings before the
// C object lending them is freed.
//
// Callbacks. C calls back into Go in two cases. When an observation trips a guardrail
// (guardrail.go), fc_store_observe calls the exported flagcoreGuardrailTrip on the
// observing goroutine; a panic in the user's function is recovered before it could
// unwind through the Rust frames, and raised again by Observe once the C call has
// returned. After each change of a store with subscribers (change.go), whatever made it
// (Update, Kill, Revive, Observe, a Source's thread, the first read of NewFileSource),
// the store calls the exported flagcoreChange under its writer lock; that only copies the
// change into a queue, which a goroutine of its own hands to the subscribers, so that
// user code never runs under the lock, nor on the Rust library's threads. Exposures
// (exposure.go) are the exception: the store's tracking thread calls the exported
// flagcoreExposures with each batch, which calls the TrackExposures function there, so
// that FlushExposures returns once the function has them (a thread the Go runtime did not
// start may call into Go). The callbacks' user_data is C memory holding a cgo.Handle (so
// no integer becomes an unsafe.Pointer) of a weak pointer to the Store's callbacks: they
// may refer to the Store without keeping it reachable from the handle table. The handle
// and its memory are freed after the fc_store, whose freeing ends the subscription, the
// trip callback and the exposure calls, after which C can no longer call back. The C
// functions that may call back are declared neither nocallback (the runtime would abort)
// nor noescape: Go code running during the call may grow, and so move, the goroutine's
// stack, so out-parameters C writes after calling back must not live there
// (fc_store_observe, which writes none, is the exception).

/*
#include <stdlib.h>
#include "flagcore.h"

#cgo noescape fc_store_new
#cgo nocallback fc_store_new
#cgo noescape fc_store_new_from_bytes
#cgo nocallback fc_store_new_from_bytes
#cgo noescape fc_store_new_from_file
#cgo nocallback fc_store_new_from_file
// fc_store_free delivers the exposures still queued, from the tracking thread, which
// calls back into Go while this one waits: no nocallback.
// fc_store_update, fc_store_update_file, fc_store_kill and fc_store_revive call back into
// Go when the store has subscribers (change.go): neither nocallback nor noescape (see the
// design note).
#cgo noescape fc_store_version
#cgo nocallback fc_store_version
#cgo noescape fc_store_snapshot
#cgo nocallback fc_store_snapshot
#cgo noescape fc_store_kills
#cgo nocallback fc_store_kills
#cgo noescape fc_store_take_metrics
#cgo nocallback fc_store_take_metrics
#cgo nocallback fc_store_set_metrics_enabled
#cgo noescape fc_store_bool
#cgo nocallback fc_store_bool
#cgo noescape fc_store_int
#cgo nocallback fc_store_int
#cgo noescape fc_store_float
#cgo nocallback fc_store_float
#cgo noescape fc_store_string
#cgo nocallback fc_store_string
#cgo noescape fc_store_json
#cgo nocallback fc_store_json
#cgo nocallback fc_snapshot_free
#cgo noescape fc_snapshot_version
#cgo nocallback fc_snapshot_version
#cgo noescape fc_snapshot_bool
#cgo nocallback fc_snapshot_bool
#cgo noescape fc_snapshot_int
#cgo nocallback fc_snapshot_int
#cgo noescape fc_snapshot_float
#cgo nocallback fc_snapshot_float
#cgo noescape fc_snapshot_string
#cgo nocallback fc_snapshot_string
#cgo noescape fc_snapshot_json
#cgo nocallback fc_snapshot_json
#cgo noescape fc_snapshot_flag_metadata_len
#cgo nocallback fc_snapshot_flag_metadata_len
#cgo noescape fc_snapshot_flag_metadata
#cgo nocallback fc_snapshot_flag_metadata
#cgo noescape fc_prepared_context_new
#cgo nocallback fc_prepared_context_new
#cgo nocallback fc_prepared_context_free
#cgo noescape fc_kills_get
#cgo nocallback fc_kills_get
#cgo noescape fc_metrics_get
#cgo nocallback fc_metrics_get
// fc_store_observe may call back into Go (the guardrail trip callback, subscribers): no
// nocallback. It stays noescape, so that an observation does not allocate: C reads the
// names before it calls back, and keeps no pointer.
#cgo noescape fc_store_observe
#cgo noescape fc_store_guardrail_trips
#cgo nocallback fc_store_guardrail_trips
#cgo noescape fc_store_observations_ignored
#cgo nocallback fc_store_observations_ignored
#cgo noescape fc_store_guardrails
#cgo nocallback fc_store_guardrails
#cgo noescape fc_guardrails_get
#cgo nocallback fc_guardrails_get
#cgo nocallback fc_guardrails_free
#cgo nocallback fc_store_on_guardrail_trip
#cgo noescape fc_store_subscribe
#cgo nocallback fc_store_subscribe
// fc_store_track_exposures* and fc_store_flush_exposures wait for the tracking thread,
// which calls back into Go: neither nocallback nor noescape.
#cgo noescape fc_store_exposure_stats
#cgo nocallback fc_store_exposure_stats
#cgo noescape fc_last_error_message
#cgo nocallback fc_last_error_message
#cgo noescape fc_last_error_validation
#cgo nocallback fc_last_error_validation
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Version is the version of the linked flagcore library.
func Version() string {
	return C.GoString(C.fc_version())
}

// cstr lends the bytes of s to C for the duration of one call (see the design note).
func cstr(s string) (*C.char, C.size_t) {
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// cbytes lends the bytes of b to C for the duration of one call.
func cbytes(b []byte) (*C.uint8_t, C.size_t) {
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

// gostr copies a string lent by C; "" for an absent one.
func gostr(s C.fc_str) string {
	if s.ptr == nil {
		return ""
	}
	return C.GoStringN(s.ptr, C.int(s.len))
}

// withDetail runs call, a cgo call whose failure carries a message in C thread-local
// storage, on one OS thread, and turns a failure into an *Error with its detail.
func withDetail(call func() C.fc_result) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	result := call()
	if result == C.FC_RESULT_OK {
		return nil
	}
	return lastError(result)
}

// lastError reads the thread's last error. The caller has locked the OS thread since the
// failing call.
func lastError(result C.fc_result) *Error {
	err := &Error{Code: codeOf(result)}
	if n := C.fc_last_error_length(); n > 0 {
		buf := make([]byte, int(n)+1)
		var written C.size_t
		if C.fc_last_error_message((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &written) == C.FC_RESULT_OK {
			err.Message = string(buf[:written])
		}
	}
	count := int(C.fc_last_error_validation_len())
	for i := 0; i < count; i++ {
		var v C.fc_validation_error
		if C.fc_last_error_validation(C.size_t(i), &v) != C.FC_RESULT_OK {
			break
		}
		err.ValidationErrors = append(err.ValidationErrors, ValidationError{
			Path:    gostr(v.path),
			Message: gostr(v.message),
			Code:    gostr(v.code),
		})
	}
	return err
}

// resultError turns a failed code into an *Error without detail (for calls that did not
// lock their thread).
func resultError(result C.fc_result, what string) error {
	if result == C.FC_RESULT_OK {
		return nil
	}
	return &Error{Code: codeOf(result), Message: what}
}

func codeOf(result C.fc_result) Code {
	return Code(C.GoString(C.fc_result_code(C.uint32_t(result))))
}
