//! What an evaluation returns besides its value, as C reads it.

use std::ffi::{c_char, CStr};

use flagcore_engine::{Details, ErrorCode, Reason};

use crate::panic::ffi_boundary;
use crate::ptr::fc_str;

/// Why a value was served, by OpenFeature's names (`fc_reason_name`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fc_reason {
    /// The flag has no targets and no rules: its fallthrough variant.
    Static = 0,
    /// No target or rule matched: the fallthrough variant.
    Default = 1,
    /// A target, or a rule serving a fixed variant, matched.
    TargetingMatch = 2,
    /// A rollout decided by the user's bucket.
    Split = 3,
    /// The flag is disabled in the snapshot or killed at runtime: its `off_variant`.
    Disabled = 4,
    /// A prerequisite did not serve its required variant: the `off_variant`.
    PrerequisiteFailed = 5,
    /// The caller's default was served; `error_code` says why.
    Error = 6,
}

/// Why the caller's default was served, by OpenFeature's names (`fc_error_code_name`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fc_error_code {
    /// No error.
    None = 0,
    /// No snapshot has been loaded yet.
    ProviderNotReady = 1,
    /// The snapshot has no flag of that name.
    FlagNotFound = 2,
    /// The flag's variants are not of the type asked for.
    TypeMismatch = 3,
    /// The fallthrough is a rollout and the context lacks its bucketing attribute.
    TargetingKeyMissing = 4,
    /// A flagd flag's targeting named a variant the flag lacks or its default variant is
    /// not one of its variants; also any error this version of the C ABI has no code for.
    General = 5,
    /// A flagd flag's definition or targeting could not be read (an unknown operator, a
    /// `$ref` to a missing evaluator, a malformed flag).
    ParseError = 6,
}

/// The details of one evaluation. Strings are borrowed from the `fc_snapshot` evaluated
/// and stay valid until it is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_details {
    /// The variant served; NULL when the caller's default was served.
    pub variant: fc_str,
    /// Why.
    pub reason: fc_reason,
    /// What went wrong when `reason` is `FC_REASON_ERROR`, else `FC_ERROR_CODE_NONE`.
    pub error_code: fc_error_code,
    /// The index (0-based) of the rule that decided, or -1.
    pub rule_index: i64,
    /// The `id` of the rule that decided; NULL when no rule decided or it has no id.
    pub rule_id: fc_str,
    /// True when an individual target decided.
    pub target: bool,
    /// The user's bucket (0..=99999) when a rollout decided, or -1.
    pub bucket: i32,
    /// The index (0-based) of the schedule step in force when a scheduled rollout decided,
    /// or -1: before its first step, without a schedule, or when no rollout decided.
    pub step: i32,
}

impl fc_details {
    pub(crate) fn new<T>(details: &Details<'_, T>) -> fc_details {
        fc_details {
            variant: fc_str::from_option(details.variant),
            reason: reason(details.reason),
            error_code: error_code(details.error_code),
            rule_index: details
                .rule_index
                .and_then(|i| i64::try_from(i).ok())
                .unwrap_or(-1),
            rule_id: fc_str::from_option(details.rule_id),
            target: details.target,
            bucket: details
                .bucket
                .and_then(|b| i32::try_from(b).ok())
                .unwrap_or(-1),
            step: details
                .step
                .and_then(|s| i32::try_from(s).ok())
                .unwrap_or(-1),
        }
    }
}

pub(crate) fn reason(reason: Reason) -> fc_reason {
    match reason {
        Reason::Static => fc_reason::Static,
        Reason::Default => fc_reason::Default,
        Reason::TargetingMatch => fc_reason::TargetingMatch,
        Reason::Split => fc_reason::Split,
        Reason::Disabled => fc_reason::Disabled,
        Reason::PrerequisiteFailed => fc_reason::PrerequisiteFailed,
        Reason::Error => fc_reason::Error,
    }
}

fn error_code(code: Option<ErrorCode>) -> fc_error_code {
    match code {
        None => fc_error_code::None,
        Some(ErrorCode::ProviderNotReady) => fc_error_code::ProviderNotReady,
        Some(ErrorCode::FlagNotFound) => fc_error_code::FlagNotFound,
        Some(ErrorCode::TypeMismatch) => fc_error_code::TypeMismatch,
        Some(ErrorCode::TargetingKeyMissing) => fc_error_code::TargetingKeyMissing,
        Some(ErrorCode::ParseError) => fc_error_code::ParseError,
        Some(_) => fc_error_code::General,
    }
}

const REASONS: [(fc_reason, &CStr); 7] = [
    (fc_reason::Static, c"STATIC"),
    (fc_reason::Default, c"DEFAULT"),
    (fc_reason::TargetingMatch, c"TARGETING_MATCH"),
    (fc_reason::Split, c"SPLIT"),
    (fc_reason::Disabled, c"DISABLED"),
    (fc_reason::PrerequisiteFailed, c"PREREQUISITE_FAILED"),
    (fc_reason::Error, c"ERROR"),
];

const ERROR_CODES: [(fc_error_code, &CStr); 7] = [
    (fc_error_code::None, c""),
    (fc_error_code::ProviderNotReady, c"PROVIDER_NOT_READY"),
    (fc_error_code::FlagNotFound, c"FLAG_NOT_FOUND"),
    (fc_error_code::TypeMismatch, c"TYPE_MISMATCH"),
    (fc_error_code::TargetingKeyMissing, c"TARGETING_KEY_MISSING"),
    (fc_error_code::General, c"GENERAL"),
    (fc_error_code::ParseError, c"PARSE_ERROR"),
];

/// The OpenFeature name of an `fc_reason` (e.g. `"TARGETING_MATCH"`), a static
/// NUL-terminated string; `"UNKNOWN"` for another number.
#[no_mangle]
pub extern "C" fn fc_reason_name(reason: u32) -> *const c_char {
    ffi_boundary! {
        REASONS
            .iter()
            .find(|(r, _)| *r as u32 == reason)
            .map_or(c"UNKNOWN", |(_, name)| name)
            .as_ptr()
    }
}

/// The OpenFeature name of an `fc_error_code` (e.g. `"FLAG_NOT_FOUND"`; `""` for
/// `FC_ERROR_CODE_NONE`), a static NUL-terminated string; `"UNKNOWN"` for another number.
#[no_mangle]
pub extern "C" fn fc_error_code_name(code: u32) -> *const c_char {
    ffi_boundary! {
        ERROR_CODES
            .iter()
            .find(|(c, _)| *c as u32 == code)
            .map_or(c"UNKNOWN", |(_, name)| name)
            .as_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_core() {
        for (r, name) in REASONS {
            let core = [
                Reason::Static,
                Reason::Default,
                Reason::TargetingMatch,
                Reason::Split,
                Reason::Disabled,
                Reason::PrerequisiteFailed,
                Reason::Error,
            ]
            .into_iter()
            .find(|c| reason(*c) == r);
            assert_eq!(core.map(Reason::as_str), name.to_str().ok());
        }
        for code in [
            ErrorCode::ProviderNotReady,
            ErrorCode::FlagNotFound,
            ErrorCode::TypeMismatch,
            ErrorCode::TargetingKeyMissing,
            ErrorCode::ParseError,
            ErrorCode::General,
        ] {
            let ours = error_code(Some(code));
            let name = ERROR_CODES
                .iter()
                .find(|(c, _)| *c == ours)
                .map(|(_, n)| *n);
            assert_eq!(name.and_then(|n| n.to_str().ok()), Some(code.as_str()));
        }
    }
}
