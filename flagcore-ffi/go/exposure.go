package flagcore

/*
#include <stdlib.h>
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
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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
// a JSON Lines file or an OpenTelemetry collector. The zero value means the defaults.
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
	// OTLP, when set, sends the exposures to an OpenTelemetry collector, instead of
	// calling a function or writing a file.
	OTLP *OTLPExporter
}

// OTLPExporter is an OpenTelemetry collector exposures are sent to over OTLP/HTTP
// (protobuf): each exposure is a `feature_flag.evaluation` event, a log record posted to
// Endpoint/v1/logs, with the attributes of OpenTelemetry's semantic conventions for
// feature flags: `feature_flag.key` (the flag), `feature_flag.result.variant`,
// `feature_flag.result.reason` (lower case: "split", "targeting_match", ...),
// `feature_flag.context.id` (the unit, absent when there is none),
// `feature_flag.version` (the snapshot version, a string), `feature_flag.provider.name`
// ("flagcore"), and flagcore's own: `flagcore.targeting_key`, `flagcore.rule_index`,
// `flagcore.rule_id`, `flagcore.bucket`, `flagcore.step` when they apply. The record's
// timestamp is the exposure's time.
//
// Each batch is exported on the tracking thread before the next is taken, transient
// failures retried by the exporter: [ExposureStats].Delivered counts what the collector
// accepted, and a batch it refused or that could not be sent counts in SinkErrors, its
// exposures lost. [Store.FlushExposures] returns once the collector has answered.
type OTLPExporter struct {
	// Endpoint is the collector's OTLP/HTTP base URL, e.g. "http://localhost:4318".
	Endpoint string
	// Headers are extra request headers (authentication, say); the exporter adds those
	// of OTEL_EXPORTER_OTLP_HEADERS. A name must be an HTTP token; a value, printable
	// ASCII, spaces and tabs (the exporter's HTTP client fails every request with
	// anything else). Commas, equals signs and percent signs need no escaping: the
	// package encodes the values for the C library.
	Headers map[string]string
	// ServiceName is the resource's `service.name`; "" for the SDK's
	// (OTEL_SERVICE_NAME, else "unknown_service").
	ServiceName string
	// Timeout is how long one request may take; 0 for 10 seconds. It is rounded up to
	// the millisecond.
	Timeout time.Duration
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
	// SinkErrors are batches the file or the collector refused (or that could not be
	// sent to it).
	SinkErrors uint64
}

// TrackExposures makes the store record an exposure for every top-level evaluation of a
// flag with "exposures": true that serves a variant, through any of its methods or of its
// snapshots, and hand them in batches to fn, or, with a nil fn, append them to the file
// of opts.JSONLines ([JSONLinesFile]) or send them to the OpenTelemetry collector of
// opts.OTLP ([OTLPExporter]): exactly one of the three, or it fails with
// [CodeInvalidArgument]. Repeats of one unit, flag and variant within the deduplication
// window are left out (and counted). Calling it again replaces the function, file or
// collector and the options (but not the capacity): everything accepted before the call
// goes to the one replaced first.
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
	file, otlp := opts.JSONLines, opts.OTLP
	if sinks := btoi(fn != nil) + btoi(file != nil) + btoi(otlp != nil); sinks != 1 {
		return &Error{Code: CodeInvalidArgument, Message: "TrackExposures needs exactly one of a function, opts.JSONLines and opts.OTLP"}
	}
	if opts.Capacity < 0 || opts.DedupSize < 0 || opts.DedupWindow < 0 || opts.FlushInterval < 0 ||
		(file != nil && (file.MaxBytes < 0 || file.Keep < 0)) || (otlp != nil && otlp.Timeout < 0) {
		return &Error{Code: CodeInvalidArgument, Message: "TrackExposures: negative option"}
	}
	var headers string
	if otlp != nil {
		if otlp.Endpoint == "" {
			return &Error{Code: CodeInvalidArgument, Message: "TrackExposures: opts.OTLP.Endpoint is empty"}
		}
		var err error
		if headers, err = otlpHeaders(otlp.Headers); err != nil {
			return err
		}
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
	switch {
	case file != nil:
		err = withDetail(func() C.fc_result {
			p, n := cstr(file.Path)
			return C.fc_store_track_exposures_json_lines(s.ptr, p, n, C.uint64_t(file.MaxBytes), C.size_t(file.Keep), &c)
		})
		if err == nil {
			exposures.fn.Store(nil)
		}
	case otlp != nil:
		// fc_otlp_options holds pointers, so its strings live in C memory (cgo's rule:
		// Go memory handed to C holds no Go pointers), freed once the call has copied
		// them.
		strs := C.CBytes([]byte(headers + otlp.ServiceName))
		defer C.free(strs)
		timeoutMs := otlp.Timeout / time.Millisecond
		if otlp.Timeout%time.Millisecond != 0 {
			timeoutMs++ // rounded up: 0 would be the default
		}
		o := C.fc_otlp_options{timeout_ms: C.uint64_t(timeoutMs)}
		if headers != "" {
			o.headers, o.headers_len = (*C.char)(strs), C.size_t(len(headers))
		}
		if otlp.ServiceName != "" {
			o.service_name = (*C.char)(unsafe.Add(strs, len(headers)))
			o.service_name_len = C.size_t(len(otlp.ServiceName))
		}
		err = withDetail(func() C.fc_result {
			p, n := cstr(otlp.Endpoint)
			return C.fc_store_track_exposures_otlp(s.ptr, p, n, &o, &c)
		})
		if err == nil {
			exposures.fn.Store(nil)
		}
	default:
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
// returned with them (or the file is written and synced, or the collector has answered);
// it returns at once when the store tracks no exposures.
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

// btoi is 1 for true, 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// otlpHeaders writes headers in the format of OTEL_EXPORTER_OTLP_HEADERS, which the C
// library reads: name=value pairs separated by commas, the values percent-encoded (every
// byte but ASCII letters, digits and -._~), in the order of the names. A name must be an
// HTTP token (which holds no comma, equals sign or space, and is sent as it is); a value,
// printable ASCII, space or tab.
func otlpHeaders(headers map[string]string) (string, error) {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		value := headers[name]
		if !isToken(name) {
			return "", &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("TrackExposures: opts.OTLP.Headers: %q is not a header name", name)}
		}
		if strings.ContainsFunc(value, func(r rune) bool { return r != '\t' && (r < ' ' || r >= 0x7f) }) {
			return "", &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("TrackExposures: opts.OTLP.Headers: the value of %q is not printable ASCII", name)}
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
		b.WriteByte('=')
		for i := 0; i < len(value); i++ {
			switch c := value[i]; {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
				b.WriteByte(c)
			default:
				b.WriteByte('%')
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			}
		}
	}
	return b.String(), nil
}

// isToken says whether s is an HTTP token (RFC 9110 §5.6.2), as a header name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
