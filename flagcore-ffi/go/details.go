package flagcore

// #include "flagcore.h"
import "C"

// Reason says why a value was served, by OpenFeature's names.
type Reason string

// The reasons.
const (
	ReasonStatic             Reason = "STATIC"
	ReasonDefault            Reason = "DEFAULT"
	ReasonTargetingMatch     Reason = "TARGETING_MATCH"
	ReasonSplit              Reason = "SPLIT"
	ReasonDisabled           Reason = "DISABLED"
	ReasonPrerequisiteFailed Reason = "PREREQUISITE_FAILED"
	ReasonError              Reason = "ERROR"
)

// ErrorCode says why the caller's default was served, by OpenFeature's names; "" for none.
type ErrorCode string

// The error codes.
const (
	ErrorCodeNone                ErrorCode = ""
	ErrorCodeProviderNotReady    ErrorCode = "PROVIDER_NOT_READY"
	ErrorCodeFlagNotFound        ErrorCode = "FLAG_NOT_FOUND"
	ErrorCodeTypeMismatch        ErrorCode = "TYPE_MISMATCH"
	ErrorCodeTargetingKeyMissing ErrorCode = "TARGETING_KEY_MISSING"
	// ErrorCodeGeneral: the evaluation could not run (a closed store, a flag name that is
	// not UTF-8; the error returned with the details says more), or a flagd flag's
	// targeting named a variant the flag lacks.
	ErrorCodeGeneral ErrorCode = "GENERAL"
	// ErrorCodeParseError: a flagd flag's definition or targeting could not be read (an
	// unknown operator, a $ref to a missing evaluator, a malformed flag).
	ErrorCodeParseError ErrorCode = "PARSE_ERROR"
)

// Details is a value with the story of how it was chosen.
type Details[T any] struct {
	// Value is the value served: the caller's default on an error.
	Value T
	// Variant is the name of the variant served; "" when the caller's default was served.
	Variant string
	// Reason says why.
	Reason Reason
	// ErrorCode says what went wrong when Reason is ReasonError.
	ErrorCode ErrorCode
	// RuleIndex is the index (0-based) of the rule that decided, or -1.
	RuleIndex int
	// RuleID is the id of the rule that decided, if it has one.
	RuleID string
	// Target is true when an individual target decided.
	Target bool
	// Bucket is the user's bucket (0..=99999) when a rollout decided, or -1.
	Bucket int
	// Step is the index (0-based) of the schedule step in force when a scheduled rollout
	// decided, or -1: before its first step, without a schedule, or when no rollout decided.
	Step int
}

var reasons = [...]Reason{
	C.FC_REASON_STATIC:              ReasonStatic,
	C.FC_REASON_DEFAULT:             ReasonDefault,
	C.FC_REASON_TARGETING_MATCH:     ReasonTargetingMatch,
	C.FC_REASON_SPLIT:               ReasonSplit,
	C.FC_REASON_DISABLED:            ReasonDisabled,
	C.FC_REASON_PREREQUISITE_FAILED: ReasonPrerequisiteFailed,
	C.FC_REASON_ERROR:               ReasonError,
}

var errorCodes = [...]ErrorCode{
	C.FC_ERROR_CODE_NONE:                  ErrorCodeNone,
	C.FC_ERROR_CODE_PROVIDER_NOT_READY:    ErrorCodeProviderNotReady,
	C.FC_ERROR_CODE_FLAG_NOT_FOUND:        ErrorCodeFlagNotFound,
	C.FC_ERROR_CODE_TYPE_MISMATCH:         ErrorCodeTypeMismatch,
	C.FC_ERROR_CODE_TARGETING_KEY_MISSING: ErrorCodeTargetingKeyMissing,
	C.FC_ERROR_CODE_GENERAL:               ErrorCodeGeneral,
	C.FC_ERROR_CODE_PARSE_ERROR:           ErrorCodeParseError,
}

// details copies C details, whose strings the snapshot still lends.
func details[T any](value T, d *C.fc_details) Details[T] {
	out := Details[T]{
		Value:     value,
		Variant:   gostr(d.variant),
		Reason:    ReasonError,
		ErrorCode: ErrorCodeGeneral,
		RuleIndex: int(d.rule_index),
		RuleID:    gostr(d.rule_id),
		Target:    bool(d.target),
		Bucket:    int(d.bucket),
		Step:      int(d.step),
	}
	if int(d.reason) < len(reasons) {
		out.Reason = reasons[d.reason]
	}
	if int(d.error_code) < len(errorCodes) {
		out.ErrorCode = errorCodes[d.error_code]
	}
	return out
}

// failed is the details of an evaluation that could not run.
func failed[T any](def T) Details[T] {
	return Details[T]{Value: def, Reason: ReasonError, ErrorCode: ErrorCodeGeneral, RuleIndex: -1, Bucket: -1, Step: -1}
}
