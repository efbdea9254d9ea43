package flagcore

/*
#include <stdlib.h>
#include "flagcore.h"
*/
import "C"

import (
	"math"
	"runtime"
	"time"
	"unsafe"
)

// Source keeps a [Store] fed from a snapshot file ([NewFileSource]) or an http(s) URL
// ([NewHTTPSource]) on a background thread of the Rust library, and says how that goes
// ([Source.Status]).
//
// A failing source never empties the store: an invalid document, a half-written file, a
// 5xx, a timeout or a refused connection leave the last good snapshot serving; the
// failure shows in the status and the source retries (on the next change of the file;
// after an exponential backoff with jitter for a URL).
//
// The source holds its own reference to the store's engine, so closing the Store first
// is safe: the source keeps feeding the engine until it is closed. Close the Source when
// done (a cleanup stops and frees a forgotten one once unreachable); Close must not race
// with other calls on the same Source. Status may be called from any goroutine.
type Source struct {
	ptr     *C.fc_source
	cleanup runtime.Cleanup
	// final is the status when the source was closed.
	final SourceStatus
}

// FileSourceOptions configures [NewFileSource]; the zero value (or nil) is the defaults.
type FileSourceOptions struct {
	// Debounce is how long the file must be quiet after a change before it is read
	// (default 50ms), so that a file written in several steps is read once.
	Debounce time.Duration
	// PollEvery, when non-zero, polls the file's metadata at this interval instead of
	// using the platform's watcher (for NFS and mounts that send no events).
	PollEvery time.Duration
	// CacheDir, when set, keeps the last good snapshot and the runtime kills on disk, so a
	// restart restores the kills and serves the cached snapshot if the file is unreadable.
	CacheDir string
}

// HTTPSourceOptions configures [NewHTTPSource]; the zero value (or nil) is the defaults,
// and so is each zero field.
type HTTPSourceOptions struct {
	// Interval is how often to poll while the server answers (default 10s). Each poll
	// sends If-None-Match with the last ETag; a 304 parses nothing.
	Interval time.Duration
	// ConnectTimeout bounds resolving and connecting (default 2s).
	ConnectTimeout time.Duration
	// ReadTimeout bounds the response's head, and again its body (default 5s).
	ReadTimeout time.Duration
	// BackoffInitial is the first retry delay after a failure (default 1s), doubling per
	// consecutive failure up to BackoffMax (default 60s), each jittered to half to all of it.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// MaxBodyBytes is the largest body accepted (default 64 MiB).
	MaxBodyBytes int64
	// BearerToken, when set, is sent as "Authorization: Bearer TOKEN".
	BearerToken string
	// Headers are sent with every request.
	Headers map[string]string
	// CacheDir is as in [FileSourceOptions].
	CacheDir string
}

// SourceStatus is the state of a [Source].
type SourceStatus struct {
	// Healthy is true when the last attempt did not fail (and there was one).
	Healthy bool
	// Version is the snapshot version the source last delivered, valid when HasVersion.
	Version    uint64
	HasVersion bool
	// LastSuccess is when the source last answered well (loaded, unchanged or skipped);
	// zero for never.
	LastSuccess time.Time
	// ConsecutiveFailures counts failures since the last good answer: 0 when healthy.
	ConsecutiveFailures int
	// ServingCache is true while the snapshot serving came from the disk cache.
	ServingCache bool
	// LastError is the last failure, kept after a recovery (compare LastError.At with
	// LastSuccess); nil if the source never failed.
	LastError *SourceError
	// Attempts by outcome: a new snapshot applied, nothing new (304, same file content),
	// a version not newer than the serving one, a failure.
	Loads, Unchanged, Skipped, Failures uint64
}

// SourceError is a failure of a [Source].
type SourceError struct {
	// Code is the stable kind, the same string in every binding: "io",
	// "invalid_snapshot", "http_status", "timeout", "connect", "transport", "too_large",
	// "cache", ...
	Code string
	// HTTPStatus is the server's status when Code is "http_status", else 0.
	HTTPStatus int
	// Message says what happened, for people.
	Message string
	// At is when.
	At time.Time
}

func (e *SourceError) Error() string {
	return "flagcore source: " + e.Message + " (" + e.Code + ")"
}

func newSource(ptr *C.fc_source) *Source {
	s := &Source{ptr: ptr}
	s.cleanup = runtime.AddCleanup(s, func(p *C.fc_source) { C.fc_source_free(p) }, ptr)
	return s
}

// NewFileSource loads the snapshot file at path into store and reloads it whenever it
// changes (a native watcher on the file's directory, so files replaced by a rename are
// followed). The first read happens before it returns. A missing or invalid file is not an
// error here: the status reports it, and the next change of the file is read. opts may be
// nil.
func NewFileSource(store *Store, path string, opts *FileSourceOptions) (*Source, error) {
	if store == nil || store.ptr == nil {
		return nil, ErrClosed
	}
	if opts == nil {
		opts = &FileSourceOptions{}
	}
	var alloc cAlloc
	defer alloc.free()
	copts := C.fc_file_source_options{
		debounce_ms: millis(opts.Debounce),
		poll_ms:     millis(opts.PollEvery),
		cache_dir:   alloc.optStr(opts.CacheDir),
	}
	var ptr *C.fc_source
	err := withDetail(func() C.fc_result {
		p, n := cstr(path)
		return C.fc_file_source_start(store.ptr, p, n, &copts, &ptr)
	})
	runtime.KeepAlive(store)
	if err != nil {
		return nil, err
	}
	return newSource(ptr), nil
}

// NewHTTPSource polls the http(s) URL url and loads each new snapshot into store. The
// first poll happens before it returns (waiting at most the timeouts); an unreachable
// server is not an error here but shows in the status, and is retried. opts may be nil.
func NewHTTPSource(store *Store, url string, opts *HTTPSourceOptions) (*Source, error) {
	if store == nil || store.ptr == nil {
		return nil, ErrClosed
	}
	if opts == nil {
		opts = &HTTPSourceOptions{}
	}
	var alloc cAlloc
	defer alloc.free()
	copts := C.fc_http_source_options{
		connect_timeout_ms: millis(opts.ConnectTimeout),
		read_timeout_ms:    millis(opts.ReadTimeout),
		backoff_initial_ms: millis(opts.BackoffInitial),
		backoff_max_ms:     millis(opts.BackoffMax),
		bearer_token:       alloc.optStr(opts.BearerToken),
		cache_dir:          alloc.optStr(opts.CacheDir),
	}
	if opts.MaxBodyBytes > 0 {
		copts.max_body_bytes = C.uint64_t(opts.MaxBodyBytes)
	}
	if len(opts.Headers) > 0 {
		size := C.size_t(len(opts.Headers)) * C.size_t(unsafe.Sizeof(C.fc_http_header{}))
		array := (*C.fc_http_header)(alloc.malloc(size))
		headers := unsafe.Slice(array, len(opts.Headers))
		i := 0
		for name, value := range opts.Headers {
			headers[i] = C.fc_http_header{name: alloc.str(name), value: alloc.str(value)}
			i++
		}
		copts.headers = array
		copts.headers_len = C.size_t(len(opts.Headers))
	}
	var ptr *C.fc_source
	err := withDetail(func() C.fc_result {
		u, n := cstr(url)
		return C.fc_http_source_start(store.ptr, u, n, millis(opts.Interval), &copts, &ptr)
	})
	runtime.KeepAlive(store)
	if err != nil {
		return nil, err
	}
	return newSource(ptr), nil
}

// Status returns the source's state. After Close it returns the state at Close.
func (s *Source) Status() SourceStatus {
	if s.ptr == nil {
		return s.final
	}
	var st C.fc_source_state
	if C.fc_source_status(s.ptr, &st) != C.FC_RESULT_OK {
		runtime.KeepAlive(s)
		return SourceStatus{}
	}
	status := SourceStatus{
		Healthy:             bool(st.healthy),
		Version:             uint64(st.version),
		HasVersion:          bool(st.has_version),
		LastSuccess:         fromUnixMs(st.last_success_unix_ms),
		ConsecutiveFailures: int(st.consecutive_failures),
		ServingCache:        bool(st.serving_cache),
		Loads:               uint64(st.loads),
		Unchanged:           uint64(st.unchanged),
		Skipped:             uint64(st.skipped),
		Failures:            uint64(st.failures),
	}
	if st.last_error != C.FC_SOURCE_ERROR_NONE {
		status.LastError = &SourceError{
			Code:       C.GoString(C.fc_source_error_name(C.uint32_t(st.last_error))),
			HTTPStatus: int(st.last_error_http_status),
			Message:    s.lastErrorMessage(),
			At:         fromUnixMs(st.last_error_unix_ms),
		}
	}
	runtime.KeepAlive(s)
	return status
}

// lastErrorMessage reads the message of the last failure (growing the buffer while a
// newer, longer message arrives).
func (s *Source) lastErrorMessage() string {
	buf := make([]byte, 256)
	for range 4 {
		var n C.size_t
		r := C.fc_source_last_error_message(s.ptr, (*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.size_t(len(buf)), &n)
		switch r {
		case C.FC_RESULT_OK:
			return string(buf[:n])
		case C.FC_RESULT_INSUFFICIENT_SIZE:
			buf = make([]byte, int(n))
		default:
			return ""
		}
	}
	return ""
}

// Close stops the source and waits for its thread (for an HTTP source, at most one
// request's timeouts), then frees it; the store keeps serving what it has. It is
// idempotent; [Source.Status] then returns the state at Close.
func (s *Source) Close() error {
	if s.ptr == nil {
		return nil
	}
	s.cleanup.Stop()
	C.fc_source_stop(s.ptr)
	s.final = s.Status()
	C.fc_source_free(s.ptr)
	s.ptr = nil
	return nil
}

func fromUnixMs(ms C.uint64_t) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}

// millis converts a duration to whole milliseconds for C: 0 stays 0 (the default), a
// positive duration is at least 1 ms.
func millis(d time.Duration) C.uint32_t {
	if d <= 0 {
		return 0
	}
	ms := d.Milliseconds()
	switch {
	case ms < 1:
		return 1
	case ms > math.MaxUint32:
		return math.MaxUint32
	}
	return C.uint32_t(ms)
}

// cAlloc holds C memory for the strings of an options struct: cgo forbids handing C a Go
// struct that points at Go memory.
type cAlloc struct {
	ptrs []unsafe.Pointer
}

func (a *cAlloc) malloc(size C.size_t) unsafe.Pointer {
	p := C.malloc(size)
	if p == nil {
		panic("flagcore: out of memory")
	}
	a.ptrs = append(a.ptrs, p)
	return p
}

// str copies s into C memory (never NULL, even for "").
func (a *cAlloc) str(s string) C.fc_str {
	p := a.malloc(C.size_t(len(s) + 1))
	copy(unsafe.Slice((*byte)(p), len(s)+1), s)
	return C.fc_str{ptr: (*C.char)(p), len: C.size_t(len(s))}
}

// optStr is str, or an absent string (NULL) for "".
func (a *cAlloc) optStr(s string) C.fc_str {
	if s == "" {
		return C.fc_str{}
	}
	return a.str(s)
}

func (a *cAlloc) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
}
