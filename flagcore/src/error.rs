//! Errors: what went wrong loading a snapshot, each validation problem with its path.

use std::fmt;

/// What kind of problem a [`ValidationError`] reports. Each kind has one stable code
/// string ([`ValidationErrorKind::code`]), the same in every binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValidationErrorKind {
    /// The document is not JSON; the message gives line and column.
    Syntax,
    /// A field the format does not define.
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A value of the wrong JSON type.
    WrongType,
    /// Two members of one object share a key (two flags of one name, say).
    DuplicateKey,
    /// A variant name the flag does not define.
    UnknownVariant,
    /// A flag's variants mix value types.
    MixedTypes,
    /// Rollout weights that do not sum to 100 or have more than 3 decimals.
    Weights,
    /// An operator the format does not define.
    UnknownOperator,
    /// A regex that does not compile.
    BadRegex,
    /// A version that is not SemVer 2.0.0.
    BadSemver,
    /// A timestamp that is not RFC 3339.
    BadTimestamp,
    /// A reference to a segment that is not defined.
    UndefinedSegment,
    /// A prerequisite naming a flag that is not defined.
    UndefinedFlag,
    /// Segments or prerequisites that refer to themselves, directly or not.
    Cycle,
    /// A targeting key listed in more than one place of one flag.
    DuplicateTarget,
    /// A value out of its allowed range or otherwise unusable.
    InvalidValue,
    /// A document beyond one of the loader's size limits.
    Limit,
    /// A flagd flag that `flagcore import flagd` cannot express in the native format.
    Unsupported,
}

impl ValidationErrorKind {
    /// The stable code of this kind, e.g. `"unknown_variant"`.
    ///
    /// ```
    /// use flagcore::ValidationErrorKind;
    /// assert_eq!(ValidationErrorKind::Weights.code(), "weights");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            ValidationErrorKind::Syntax => "syntax",
            ValidationErrorKind::UnknownField => "unknown_field",
            ValidationErrorKind::MissingField => "missing_field",
            ValidationErrorKind::WrongType => "wrong_type",
            ValidationErrorKind::DuplicateKey => "duplicate_key",
            ValidationErrorKind::UnknownVariant => "unknown_variant",
            ValidationErrorKind::MixedTypes => "mixed_types",
            ValidationErrorKind::Weights => "weights",
            ValidationErrorKind::UnknownOperator => "unknown_operator",
            ValidationErrorKind::BadRegex => "bad_regex",
            ValidationErrorKind::BadSemver => "bad_semver",
            ValidationErrorKind::BadTimestamp => "bad_timestamp",
            ValidationErrorKind::UndefinedSegment => "undefined_segment",
            ValidationErrorKind::UndefinedFlag => "undefined_flag",
            ValidationErrorKind::Cycle => "cycle",
            ValidationErrorKind::DuplicateTarget => "duplicate_target",
            ValidationErrorKind::InvalidValue => "invalid_value",
            ValidationErrorKind::Limit => "limit",
            ValidationErrorKind::Unsupported => "unsupported",
        }
    }
}

/// One problem found in a snapshot, with the place it was found.
///
/// ```
/// let err = flagcore::validate(br#"{"version": 1, "flags": {}, "extra": 0}"#).unwrap_err();
/// assert_eq!(err.errors()[0].path(), "extra");
/// assert_eq!(err.errors()[0].kind().code(), "unknown_field");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub(crate) path: String,
    pub(crate) message: String,
    pub(crate) kind: ValidationErrorKind,
}

impl InvalidSnapshot {
    /// One error about the whole document (path `$`).
    pub(crate) fn at_root(kind: ValidationErrorKind, message: impl Into<String>) -> Self {
        InvalidSnapshot {
            errors: vec![ValidationError::new(kind, "", message)],
        }
    }
}

impl ValidationError {
    pub(crate) fn new(kind: ValidationErrorKind, path: &str, message: impl Into<String>) -> Self {
        ValidationError {
            path: if path.is_empty() {
                "$".into()
            } else {
                path.into()
            },
            message: message.into(),
            kind,
        }
    }

    /// Where: `flags.checkout.rules[2].serve.rollout`, or `$` for the whole document.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What, for a person: `weights sum to 99.5, not 100`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The kind, with its stable code.
    pub fn kind(&self) -> ValidationErrorKind {
        self.kind
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a snapshot (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSnapshot {
    pub(crate) errors: Vec<ValidationError>,
}

impl InvalidSnapshot {
    /// The problems, in document order.
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }
}

impl fmt::Display for InvalidSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        write!(
            f,
            "invalid snapshot ({count} error{}):",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.errors {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidSnapshot {}

/// Why the store refused a snapshot or a source failed. The serving snapshot is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The document is invalid; every problem is listed.
    #[error(transparent)]
    Invalid(#[from] InvalidSnapshot),
    /// The document's `version` is not newer than the serving one.
    #[error("stale snapshot: version {offered} is not newer than the serving version {current}")]
    Stale {
        /// The refused document's version.
        offered: u64,
        /// The serving snapshot's version.
        current: u64,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The stable code of this error: `invalid_snapshot`, `stale_snapshot` or `io`.
    ///
    /// ```
    /// let store = flagcore::Store::new();
    /// let err = store.update(b"{").unwrap_err();
    /// assert_eq!(err.code(), "invalid_snapshot");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid_snapshot",
            Error::Stale { .. } => "stale_snapshot",
            Error::Io { .. } => "io",
        }
    }

    /// The validation problems, when the snapshot was invalid.
    pub fn validation_errors(&self) -> &[ValidationError] {
        match self {
            Error::Invalid(invalid) => invalid.errors(),
            _ => &[],
        }
    }
}
