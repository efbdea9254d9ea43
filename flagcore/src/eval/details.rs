//! What an evaluation returns besides its value: reason, error code, and what matched.

use std::fmt;

/// Why a value was served, by OpenFeature's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The flag has no targets and no rules: its fallthrough variant.
    Static,
    /// No target or rule matched: the fallthrough variant.
    Default,
    /// A target or a rule with a fixed variant matched.
    TargetingMatch,
    /// A rollout decided by the user's bucket.
    Split,
    /// The flag is disabled in the snapshot or killed at runtime: its `off_variant`.
    Disabled,
    /// A prerequisite did not serve its required variant: the `off_variant`.
    PrerequisiteFailed,
    /// The caller's default was served; see the error code.
    Error,
}

impl Reason {
    /// Every reason, in declaration order (`reason as u8` is its position).
    pub(crate) const ALL: [Reason; 7] = [
        Reason::Static,
        Reason::Default,
        Reason::TargetingMatch,
        Reason::Split,
        Reason::Disabled,
        Reason::PrerequisiteFailed,
        Reason::Error,
    ];

    /// The OpenFeature name, e.g. `"TARGETING_MATCH"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::Default => "DEFAULT",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
            Reason::PrerequisiteFailed => "PREREQUISITE_FAILED",
            Reason::Error => "ERROR",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the caller's default was served, by OpenFeature's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// No snapshot has been loaded yet.
    ProviderNotReady,
    /// The snapshot has no flag of that name.
    FlagNotFound,
    /// The flag's variants are not of the type asked for.
    TypeMismatch,
    /// The fallthrough is a rollout and the context lacks its bucketing attribute.
    TargetingKeyMissing,
    /// A flagd flag's definition or targeting could not be read: an unknown operator, a
    /// `$ref` to a missing evaluator, a malformed flag.
    ParseError,
    /// A flagd flag's targeting named a variant the flag does not have, or its
    /// `defaultVariant` is not one of its variants.
    General,
}

impl ErrorCode {
    /// The OpenFeature name, e.g. `"FLAG_NOT_FOUND"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ProviderNotReady => "PROVIDER_NOT_READY",
            ErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
            ErrorCode::TypeMismatch => "TYPE_MISMATCH",
            ErrorCode::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            ErrorCode::ParseError => "PARSE_ERROR",
            ErrorCode::General => "GENERAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value with the story of how it was chosen. Names borrow from the snapshot, so
/// details cost no allocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Details<'s, T> {
    /// The value served (the caller's default on error).
    pub value: T,
    /// The variant served; `None` when the caller's default was served.
    pub variant: Option<&'s str>,
    /// Why.
    pub reason: Reason,
    /// What went wrong, when the reason is [`Reason::Error`].
    pub error_code: Option<ErrorCode>,
    /// The index of the rule that decided, if one did.
    pub rule_index: Option<usize>,
    /// The `id` of the rule that decided, if it has one.
    pub rule_id: Option<&'s str>,
    /// True when an individual target decided.
    pub target: bool,
    /// The index (in the flag's `targets`) of the target that decided, if one did.
    pub target_index: Option<usize>,
    /// The user's bucket (0..=99,999) when a rollout decided.
    pub bucket: Option<u32>,
    /// The index of the schedule step in force when a scheduled rollout decided; `None`
    /// before its first step, without a schedule, or when no rollout decided.
    pub step: Option<usize>,
}

/// The untyped result of evaluating one flag; getters turn it into [`Details`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub variant: Option<u32>,
    pub reason: Reason,
    pub error_code: Option<ErrorCode>,
    pub rule_index: Option<u32>,
    /// The target that decided, by index.
    pub target: Option<u32>,
    pub bucket: Option<u32>,
    /// The schedule step in force, when a scheduled rollout decided.
    pub step: Option<u32>,
}

impl Decision {
    pub(crate) fn error(code: ErrorCode) -> Decision {
        Decision {
            error_code: Some(code),
            ..Decision::fallback(Reason::Error)
        }
    }

    /// The caller's default, without an error: a disabled flagd flag, or one whose
    /// targeting found no variant and that has no default variant.
    pub(crate) fn fallback(reason: Reason) -> Decision {
        Decision {
            variant: None,
            reason,
            error_code: None,
            rule_index: None,
            target: None,
            bucket: None,
            step: None,
        }
    }

    /// The `off_variant`, or the caller's default when the flag has none.
    pub(crate) fn off(variant: Option<u32>, reason: Reason) -> Decision {
        match variant {
            Some(v) => Decision::served(v, reason),
            None => Decision::fallback(reason),
        }
    }

    pub(crate) fn served(variant: u32, reason: Reason) -> Decision {
        Decision {
            variant: Some(variant),
            reason,
            error_code: None,
            rule_index: None,
            target: None,
            bucket: None,
            step: None,
        }
    }
}
