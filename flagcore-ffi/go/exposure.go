package flagcore

/*
#include "flagcore.h"

// Exported by exposure_export.go.
extern void flagcoreExposures(void *user_data, fc_exposure *batch, size_t len);

// The C callback the store calls: the exported Go function, with the const that cgo's
// export leaves out.
static void flagcore_exposures(void *user_data, const fc_exposure *batch, size_t len) {
	flagcoreExposures(user_data, (fc_exposure *)batch, len);
}

static fc_exposure_callback flagcore_exposures_callback(void) {
	return flagcore_exposures;
}
*/
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Exposure is one exposure: a top-level evaluation of a flag with "exposures": true that
// served a variant (docs/format.md §2.14, §5.7).
type Exposure struct {
	// Time is when, to the millisecond (from a coarse clock: a few milliseconds).
	Time time.Time
	// Flag is the flag evaluated.
	Flag string
	// Variant is the variant served.
	Variant string
	// Reason says why it was served.
	Reason Reason
	// RuleIndex is the index (0-based) of the rule that decided, or -1 (a target or the
	// fallthrough decided).
	RuleIndex int
	// RuleID is that rule's id; "" when no rule decided or it has none.
	RuleID string
	// Key is the targeting key; "" for a context without one.
	Key string
	// Unit is the experiment's randomisation unit: the value of the rollout's `by`
	// attribute that was bucketed (an integer as its decimal string) when a rollout
	// decided, else the targeting key.
	Unit string
	// Bucket is the bucket (0..=99999) when a rollout decided, or -1.
	Bucket int
	// Step is the schedule step in force when a scheduled rollout decided, or -1.
	Step int
	// Version is the snapshot version that served it.
	Version uint64
}

// ExposureOptions say how exposures are queued and deduplicated, and whether they go to
// a JSON Lines file. The zero value means the defaults.
type ExposureOptions struct {
	// Capacity is how many exposures the queue holds before evaluations drop new ones
	// (and count them); 0 for 16384. Fixed by the store's first TrackExposures.
	Capacity int
	// DedupSize is how many units deduplication remembers, the least recently seen
	// forgotten first; 0 for 100000.
	DedupSize int
	// DedupWindow is how long a repeat of one unit, flag and variant is dropped as a
	// duplicate (a repeat does not renew it); 0 for 10 minutes.
	DedupWindow time.Duration
	// NoDedup delivers every exposure, repeats included.
	NoDedup bool
	// FlushInterval is how often the tracking thread drains the queue; 0 for 100 ms.
	FlushInterval time.Duration
	// JSONLines, when set, appends the exposures to a file, one JSON object per line,
	// instead of calling a function.
	JSONLines *JSONLinesFile
}

// JSONLinesFile is a file exposures are appended to, one per line, with the fields of
// docs/format.md §5.7: time (RFC 3339, UTC, milliseconds), flag, variant, reason,
// rule_index, rule_id, key, unit, bucket, step, version (null when absent).
type JSONLinesFile struct {
	// Path is the file, created if missing.
	Path string
	// MaxBytes rotates the file when a line would take it past this size: it is renamed
	// Path.1 (older ones Path.2, ... up to Keep of them) and a new one begins. 0 never
	// rotates.
	MaxBytes int64
	// Keep is how many rotated files are kept; 0 keeps none.
	Keep int
}

// ExposureStats is what exposure tracking has done since the store was created.
type ExposureStats struct {
	// Accepted are the exposures taken from the queue.
	Accepted uint64
	// Delivered are those of them handed to the function or file.
	Delivered uint64
	// Deduplicated are those of them dropped as repeats within the window.
	Deduplicated uint64
	// Dropped are exposures lost: the queue was full (the sink fell behind), or the
	// snapshot that made them was gone before they were named.
	Dropped uint64
	// SinkErrors are batches the file refused.
	SinkErrors uint64
}

// TrackExposures makes the store record an exposure for every top-level evaluation of a
// flag with "exposures": true that serves a variant, through any of its methods or of its
// snapshots, and hand them in batches to fn, or, with opts.JSONLines and a nil fn, append
// them to that file. Repeats of one unit, flag and variant within the deduplication
// window are left out (and counted). Calling it again replaces the function or file and
// the options (but not the capacity): everything accepted before the call goes to the one
// replaced first.
//
// An evaluation pays for a compact record handed to a bounded queue: no lock, no I/O, no
// allocation for keys and units up to 47 bytes, never a wait. When the queue is full (fn
// fell behind) the exposure is dropped and counted ([Store.ExposureStats]).
//
// fn runs on the store's tracking thread (one the C library starts), one batch at a time,
// every opts.FlushInterval and on [Store.FlushExposures]; the slice is fn's to keep. It may
// evaluate, but the store's writing methods, FlushExposures and TrackExposures fail inside
// it with [CodeReentrantCall] (they would wait for that thread), and it must not wait for
// a goroutine calling them, nor Close the store. It should be quick: new exposures wait
// in the queue while it runs. A panic in fn ends the program, as in any goroutine.
//
// Close delivers everything accepted before it to fn, which is not called afterwards. A
// store the program forgot to Close drops what is still queued when its cleanup frees it.
func (s *Store) TrackExposures(fn func([]Exposure), opts ExposureOptions) error {
	if s.ptr == nil {
		return ErrClosed
	}
	file := opts.JSONLines
	if (fn == nil) == (file == nil) {
		return &Error{Code: CodeInvalidArgument, Message: "TrackExposures needs a function or opts.JSONLines, and not both"}
	}
	if opts.Capacity < 0 || opts.DedupSize < 0 || opts.DedupWindow < 0 || opts.FlushInterval < 0 ||
		(file != nil && (file.MaxBytes < 0 || file.Keep < 0)) {
		return &Error{Code: CodeInvalidArgument, Message: "TrackExposures: negative option"}
	}
	c := C.fc_exposure_options{
		capacity:          C.size_t(opts.Capacity),
		dedup_size:        C.size_t(opts.DedupSize),
		dedup_window_ms:   C.uint64_t(opts.DedupWindow.Milliseconds()),
		flush_interval_ms: C.uint64_t(opts.FlushInterval.Milliseconds()),
		no_dedup:          C.bool(opts.NoDedup),
	}
	exposures := &s.cb.exposures
	exposures.track.Lock()
	defer exposures.track.Unlock()
	// The function replaced gets everything accepted before this call.
	if err := s.FlushExposures(); err != nil {
		return err
	}
	var err error
	if file != nil {
		err = withDetail(func() C.fc_result {
			p, n := cstr(file.Path)
			return C.fc_store_track_exposures_json_lines(s.ptr, p, n, C.uint64_t(file.MaxBytes), C.size_t(file.Keep), &c)
		})
		if err == nil {
			exposures.fn.Store(nil)
		}
	} else {
		previous := exposures.fn.Swap(&fn)
		err = withDetail(func() C.fc_result {
			return C.fc_store_track_exposures(s.ptr, C.flagcore_exposures_callback(), s.res.userData, &c)
		})
		if err != nil {
			exposures.fn.Store(previous)
		}
	}
	runtime.KeepAlive(s)
	return err
}

// FlushExposures delivers every exposure queued before the call and waits until fn has
// returned with them (or the file is written and synced); it returns at once when the
// store tracks no exposures.
func (s *Store) FlushExposures() error {
	if s.ptr == nil {
		return ErrClosed
	}
	err := withDetail(func() C.fc_result { return C.fc_store_flush_exposures(s.ptr) })
	runtime.KeepAlive(s)
	return err
}

// ExposureStats returns what exposure tracking has done since the store was created (all
// zero before [Store.TrackExposures]).
func (s *Store) ExposureStats() (ExposureStats, error) {
	if s.ptr == nil {
		return ExposureStats{}, ErrClosed
	}
	var st C.fc_exposure_stats
	r := C.fc_store_exposure_stats(s.ptr, &st)
	runtime.KeepAlive(s)
	return ExposureStats{
		Accepted:     uint64(st.accepted),
		Delivered:    uint64(st.delivered),
		Deduplicated: uint64(st.deduplicated),
		Dropped:      uint64(st.dropped),
		SinkErrors:   uint64(st.sink_errors),
	}, resultError(r, "reading the exposure statistics")
}

// exposureState is what the exposure callback of a store needs (a part of its
// [callbacks]).
type exposureState struct {
	fn atomic.Pointer[func([]Exposure)]
	// track serializes TrackExposures; the callback never takes it.
	track sync.Mutex
}
