package flagcore

/*
#include "flagcore.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"unsafe"
)

// Snapshot is one consistent view of a store's snapshot, taken with [Store.Snapshot]:
// every evaluation through it sees the same version, even while the store is updated
// (kills made later still apply). Use one per request and Close it; it is safe for
// concurrent use, and Close must not race with its use.
type Snapshot struct {
	ptr     *C.fc_snapshot
	cleanup runtime.Cleanup
}

func newSnapshot(ptr *C.fc_snapshot) *Snapshot {
	s := &Snapshot{ptr: ptr}
	s.cleanup = runtime.AddCleanup(s, func(p *C.fc_snapshot) { C.fc_snapshot_free(p) }, ptr)
	return s
}

// Close frees the view; it is idempotent.
func (s *Snapshot) Close() {
	if s.ptr == nil {
		return
	}
	s.cleanup.Stop()
	C.fc_snapshot_free(s.ptr)
	s.ptr = nil
}

// Version returns the snapshot's version, and false when no snapshot was loaded when the
// view was taken (or after Close).
func (s *Snapshot) Version() (uint64, bool) {
	if s.ptr == nil {
		return 0, false
	}
	var version C.uint64_t
	r := C.fc_snapshot_version(s.ptr, &version)
	runtime.KeepAlive(s)
	return uint64(version), r == C.FC_RESULT_OK
}

// Metadata returns flag's metadata (owner, ticket, expiry, ...): strings, float64
// numbers and booleans; empty for an unknown flag.
func (s *Snapshot) Metadata(flag string) (map[string]any, error) {
	if s.ptr == nil {
		return nil, ErrClosed
	}
	defer runtime.KeepAlive(s)
	f, fn := cstr(flag)
	var n C.size_t
	if r := C.fc_snapshot_flag_metadata_len(s.ptr, f, fn, &n); r != C.FC_RESULT_OK {
		return nil, evaluationError(r)
	}
	metadata := make(map[string]any, int(n))
	for i := C.size_t(0); i < n; i++ {
		var e C.fc_metadata_entry
		if r := C.fc_snapshot_flag_metadata(s.ptr, f, fn, i, &e); r != C.FC_RESULT_OK {
			return nil, evaluationError(r)
		}
		switch e.kind {
		case C.FC_METADATA_KIND_STRING:
			metadata[gostr(e.name)] = gostr(e.string_value)
		case C.FC_METADATA_KIND_NUMBER:
			metadata[gostr(e.name)] = float64(e.number_value)
		case C.FC_METADATA_KIND_BOOL:
			metadata[gostr(e.name)] = bool(e.bool_value)
		}
	}
	return metadata, nil
}

func (s *Snapshot) eval(ctx *Context, f func(*C.fc_snapshot, *C.fc_context) error) error {
	cctx, err := ctx.c()
	if err != nil {
		return err
	}
	if s.ptr == nil {
		return ErrClosed
	}
	err = f(s.ptr, cctx)
	runtime.KeepAlive(s)
	runtime.KeepAlive(ctx)
	return err
}

// BoolDetails evaluates boolean flag flag for ctx, with details (see [Store.BoolDetails]).
func (s *Snapshot) BoolDetails(flag string, def bool, ctx *Context) (Details[bool], error) {
	out := failed(def)
	err := s.eval(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = boolDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// IntDetails evaluates integer flag flag for ctx, with details.
func (s *Snapshot) IntDetails(flag string, def int64, ctx *Context) (Details[int64], error) {
	out := failed(def)
	err := s.eval(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = intDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// FloatDetails evaluates number flag flag (an integer flag too) for ctx, with details.
func (s *Snapshot) FloatDetails(flag string, def float64, ctx *Context) (Details[float64], error) {
	out := failed(def)
	err := s.eval(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = floatDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// StringDetails evaluates string flag flag for ctx, with details.
func (s *Snapshot) StringDetails(flag, def string, ctx *Context) (Details[string], error) {
	out := failed(def)
	err := s.eval(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = stringDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// JSONDetails evaluates JSON (object or array) flag flag for ctx, with details; the value
// is JSON text (def itself when the default is served).
func (s *Snapshot) JSONDetails(flag string, def json.RawMessage, ctx *Context) (Details[json.RawMessage], error) {
	out := failed(def)
	err := s.eval(ctx, func(snap *C.fc_snapshot, cctx *C.fc_context) (err error) {
		out, err = jsonDetails(snap, flag, def, cctx)
		return err
	})
	return out, err
}

// The evaluations proper, on a live C snapshot; callers keep it and the context alive.

func boolDetails(snap *C.fc_snapshot, flag string, def bool, ctx *C.fc_context) (Details[bool], error) {
	f, fn := cstr(flag)
	var out C.bool
	var d C.fc_details
	if r := C.fc_snapshot_bool(snap, f, fn, ctx, C.bool(def), &out, &d); r != C.FC_RESULT_OK {
		return failed(def), evaluationError(r)
	}
	return details(bool(out), &d), nil
}

func intDetails(snap *C.fc_snapshot, flag string, def int64, ctx *C.fc_context) (Details[int64], error) {
	f, fn := cstr(flag)
	var out C.int64_t
	var d C.fc_details
	if r := C.fc_snapshot_int(snap, f, fn, ctx, C.int64_t(def), &out, &d); r != C.FC_RESULT_OK {
		return failed(def), evaluationError(r)
	}
	return details(int64(out), &d), nil
}

func floatDetails(snap *C.fc_snapshot, flag string, def float64, ctx *C.fc_context) (Details[float64], error) {
	f, fn := cstr(flag)
	var out C.double
	var d C.fc_details
	if r := C.fc_snapshot_float(snap, f, fn, ctx, C.double(def), &out, &d); r != C.FC_RESULT_OK {
		return failed(def), evaluationError(r)
	}
	return details(float64(out), &d), nil
}

func stringDetails(snap *C.fc_snapshot, flag, def string, ctx *C.fc_context) (Details[string], error) {
	f, fn := cstr(flag)
	var out C.fc_str
	var d C.fc_details
	// The default is not passed: when it is served (no variant), def itself is returned.
	if r := C.fc_snapshot_string(snap, f, fn, ctx, nil, 0, &out, &d); r != C.FC_RESULT_OK {
		return failed(def), evaluationError(r)
	}
	value := def
	if d.variant.ptr != nil {
		value = gostr(out)
	}
	return details(value, &d), nil
}

func jsonDetails(snap *C.fc_snapshot, flag string, def json.RawMessage, ctx *C.fc_context) (Details[json.RawMessage], error) {
	f, fn := cstr(flag)
	var small [512]byte
	buf := small[:]
	for {
		var n C.size_t
		var d C.fc_details
		r := C.fc_snapshot_json(snap, f, fn, ctx, nil, 0, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n, &d)
		switch {
		case r == C.FC_RESULT_OK:
			value := def
			if d.variant.ptr != nil {
				value = json.RawMessage(append([]byte(nil), buf[:n]...))
			}
			return details(value, &d), nil
		case r == C.FC_RESULT_INSUFFICIENT_SIZE && int(n) > len(buf):
			buf = make([]byte, n)
		default:
			return failed(def), evaluationError(r)
		}
	}
}
