//! Loader limits: a snapshot beyond them is refused with an error naming the limit and the
//! place, so a hostile or broken document cannot exhaust memory, stack or time.

use crate::error::{InvalidSnapshot, ValidationErrorKind};
/// The limits a store applies when it loads a snapshot. The defaults pass a real
/// 10,000-flag snapshot easily.
///
/// ```
/// let limits = flagcore::Limits { max_flags: 2, ..flagcore::Limits::default() };
/// let store = flagcore::Store::with_limits(limits);
/// let doc = br#"{"version": 1, "flags": {"a": {"variants": {"x": 1}, "enabled": true,
///   "off_variant": "x", "fallthrough": {"variant": "x"}}}}"#;
/// assert!(store.update(doc).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest document, in bytes (default 64 MiB).
    pub max_document_bytes: usize,
    /// The deepest JSON nesting (default 64; at most 128, the parser's own bound).
    pub max_json_depth: usize,
    /// The most flags in one snapshot (default 100,000).
    pub max_flags: usize,
    /// The most segments in one snapshot (default 100,000).
    pub max_segments: usize,
    /// The longest list anywhere: rules, conditions, clause values, target keys, ...
    /// (default 100,000).
    pub max_list_length: usize,
    /// The longest string: names, keys, clause values (default 64 KiB).
    pub max_string_bytes: usize,
    /// The compiled size of one `matches` regex (default 256 KiB).
    pub max_regex_bytes: usize,
    /// The deepest chain of segments within segments, or of prerequisites (default 32).
    pub max_reference_depth: usize,
}

impl Limits {
    /// Refuses a document above `max_document_bytes`, before it is parsed.
    pub(crate) fn check_size(&self, bytes: &[u8]) -> Result<(), InvalidSnapshot> {
        let (size, limit) = (bytes.len(), self.max_document_bytes);
        within(size, limit, || {
            format!("the document is {size} bytes, above the limit of {limit} (max_document_bytes)")
        })
    }

    /// Refuses a parsed document nested deeper than `max_json_depth`.
    pub(crate) fn check_depth(&self, depth: usize) -> Result<(), InvalidSnapshot> {
        let limit = self.max_json_depth;
        within(depth, limit, || {
            format!(
                "JSON nesting is {depth} levels deep, above the limit of {limit} (max_json_depth)"
            )
        })
    }

    /// Refuses a document with more flags than `max_flags`.
    pub(crate) fn check_flags(&self, flags: usize) -> Result<(), InvalidSnapshot> {
        let limit = self.max_flags;
        within(flags, limit, || {
            format!("{flags} flags, above the limit of {limit} (max_flags)")
        })
    }
}

/// `Ok` when `value` is at most `limit`, else a limit error at the document's root.
fn within(
    value: usize,
    limit: usize,
    message: impl FnOnce() -> String,
) -> Result<(), InvalidSnapshot> {
    if value <= limit {
        return Ok(());
    }
    Err(InvalidSnapshot::at_root(
        ValidationErrorKind::Limit,
        message(),
    ))
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 64 << 20,
            max_json_depth: 64,
            max_flags: 100_000,
            max_segments: 100_000,
            max_list_length: 100_000,
            max_string_bytes: 64 << 10,
            max_regex_bytes: 256 << 10,
            max_reference_depth: 32,
        }
    }
}
