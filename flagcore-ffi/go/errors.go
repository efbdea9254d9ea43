package flagcore

import (
	"fmt"
	"strings"
)

// Code is the stable name of an error kind, the same string in Rust, Python, C and Go
// (the C ABI's fc_result_code).
type Code string

// The codes an [Error] can carry.
const (
	CodeNullPointer       Code = "null_pointer"
	CodeInvalidUTF8       Code = "invalid_utf8"
	CodeInvalidArgument   Code = "invalid_argument"
	CodeTooManyAttributes Code = "too_many_attributes"
	CodeInsufficientSize  Code = "insufficient_size"
	CodeOutOfRange        Code = "out_of_range"
	CodeInvalidSnapshot   Code = "invalid_snapshot"
	CodeStaleSnapshot     Code = "stale_snapshot"
	CodeIO                Code = "io"
	CodeNotReady          Code = "not_ready"
	CodePanic             Code = "panic"
	CodeInternal          Code = "internal"
	// CodeReentrantCall: a function of a store was called from inside one of its change
	// callbacks in C, where it would deadlock. Go's subscribers never see it: they run on
	// a goroutine of their own ([Store.Subscribe]). The function of
	// [Store.TrackExposures] does, for the store's writing methods, FlushExposures and
	// TrackExposures.
	CodeReentrantCall Code = "reentrant_call"
	// CodeClosed is Go's own: the Store, Snapshot or Context was closed.
	CodeClosed Code = "closed"
)

// Sentinels for errors.Is: an *Error matches the sentinel of its Code.
//
//	if errors.Is(err, flagcore.ErrStaleSnapshot) { ... }
var (
	ErrInvalidSnapshot   = &Error{Code: CodeInvalidSnapshot}
	ErrStaleSnapshot     = &Error{Code: CodeStaleSnapshot}
	ErrIO                = &Error{Code: CodeIO}
	ErrNotReady          = &Error{Code: CodeNotReady}
	ErrInvalidUTF8       = &Error{Code: CodeInvalidUTF8}
	ErrInvalidArgument   = &Error{Code: CodeInvalidArgument}
	ErrTooManyAttributes = &Error{Code: CodeTooManyAttributes}
	ErrClosed            = &Error{Code: CodeClosed}
	ErrPanic             = &Error{Code: CodePanic}
	ErrInternal          = &Error{Code: CodeInternal}
)

// Error is what flagcore's calls fail with. Use errors.Is with a sentinel (ErrStaleSnapshot,
// ...) to test the kind, or errors.As for the message and the validation problems.
type Error struct {
	// Code is the stable kind.
	Code Code
	// Message says what went wrong, for people; for an invalid snapshot, one line per
	// problem.
	Message string
	// ValidationErrors lists every problem of an invalid snapshot, in document order.
	ValidationErrors []ValidationError
}

// ValidationError is one problem found in a snapshot document.
type ValidationError struct {
	// Path is where: flags.checkout.rules[2].serve.rollout, or $ for the whole document.
	Path string
	// Message is what, for people: "weights sum to 99.5, not 100".
	Message string
	// Code is the problem's stable kind, e.g. "weights" or "unknown_variant".
	Code string
}

func (e ValidationError) String() string {
	return e.Path + ": " + e.Message
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "flagcore: " + string(e.Code)
	}
	if strings.HasPrefix(e.Message, string(e.Code)) {
		return "flagcore: " + e.Message
	}
	return fmt.Sprintf("flagcore: %s: %s", e.Code, e.Message)
}

// Is reports whether target is the sentinel of e's code (an *Error with the same Code and
// no message).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.ValidationErrors == nil && t.Code == e.Code
}
