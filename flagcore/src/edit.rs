//! Editing a snapshot document as an operator does: kill or revive a flag in the file
//! itself (`enabled`, a note in its `metadata`, the `version` bumped; in a flagd document,
//! its `state`), keeping the order of everything else. The `flagcore kill` and
//! `flagcore revive` commands are built on it.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::document::json::{Json, JsonArena, Number};
use crate::error::{InvalidSnapshot, ValidationError, ValidationErrorKind};
use crate::flagd::{Format, FractionalVersion};
use crate::limits::Limits;

/// A document after an edit, with its version before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The edited document: pretty-printed JSON, members in their original order, ending in
    /// a newline, and valid.
    pub document: Vec<u8>,
    /// The `version` before the edit.
    pub from_version: u64,
    /// The `version` after it (one more).
    pub to_version: u64,
}

/// Why a document could not be edited.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The document is not a valid snapshot; nothing is edited in an invalid one.
    #[error(transparent)]
    Invalid(#[from] InvalidSnapshot),
    /// The document has no flag of that name.
    #[error("no flag `{0}`")]
    UnknownFlag(String),
    /// The `version` is already the largest there is.
    #[error("version cannot grow past {0}")]
    VersionOverflow(u64),
}

/// Sets `enabled` on `flag`: `false` with a kill reason (recorded with the time in the
/// flag's `metadata` as `kill_reason` and `killed_at`, Unix seconds), `true` without one
/// (the note is removed). The version grows by one.
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// let before = br#"{"version": 4, "flags": {"search": {"variants": {"on": true, "off": false},
///   "enabled": true, "off_variant": "off", "fallthrough": {"variant": "on"}}}}"#;
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_191_200);
/// let edited = flagcore::edit::set_enabled(before, "search", Some("p99 > 2s"), now)?;
/// assert_eq!((edited.from_version, edited.to_version), (4, 5));
/// let text = String::from_utf8(edited.document).unwrap();
/// assert!(text.contains(r#""enabled": false"#));
/// assert!(text.contains(r#""kill_reason": "p99 > 2s""#));
/// assert!(text.contains(r#""killed_at": 1796191200"#));
/// # Ok::<(), flagcore::edit::EditError>(())
/// ```
pub fn set_enabled(
    document: &[u8],
    flag: &str,
    kill_reason: Option<&str>,
    now: SystemTime,
) -> Result<Edited, EditError> {
    // A flagd document serves with broken flags (docs/format.md §9.6), so one that loads
    // may be edited: refusing would keep an operator from killing a flag in an incident.
    let flagd = Format::detect(document) == Format::Flagd;
    let check = |bytes: &[u8]| -> Result<u64, EditError> {
        if flagd {
            crate::flagd::load(&[bytes], &Limits::default(), FractionalVersion::V2)?;
            Ok(0)
        } else {
            Ok(crate::validate(bytes)?)
        }
    };
    let from_version = check(document)?;
    // flagd documents have no version to bump.
    let to_version = if flagd {
        from_version
    } else {
        from_version
            .checked_add(1)
            .ok_or(EditError::VersionOverflow(from_version))?
    };
    let arena = JsonArena::new();
    // The document was just validated, so it parses.
    let mut json = Json::parse(document, &arena).map_err(syntax)?;
    let Some(entry) = json.get_mut("flags").and_then(|f| f.get_mut(flag)) else {
        return Err(EditError::UnknownFlag(flag.to_owned()));
    };
    if let Some(enabled) = entry.get_mut("enabled") {
        *enabled = Json::Bool(kill_reason.is_none());
    } else if let Some(state) = entry.get_mut("state") {
        let state_name = if kill_reason.is_some() {
            "DISABLED"
        } else {
            "ENABLED"
        };
        *state = Json::String(state_name.into());
    }
    set_kill_note(entry, kill_reason, now, &arena);
    if let Some(v) = json.get_mut("version") {
        *v = Json::Number(
            i64::try_from(to_version).map_or(Number::BigUint(to_version), Number::Int),
        );
    }
    let mut text = serde_json::to_vec_pretty(&json).map_err(syntax)?;
    text.push(b'\n');
    check(&text)?;
    Ok(Edited {
        document: text,
        from_version,
        to_version,
    })
}

/// A JSON failure on a document that validated: reported as the syntax error it would be.
fn syntax(error: serde_json::Error) -> EditError {
    EditError::Invalid(InvalidSnapshot {
        errors: vec![ValidationError::new(
            ValidationErrorKind::Syntax,
            "",
            error.to_string(),
        )],
    })
}

/// Records the kill reason and time in the flag's metadata (the format's place for
/// operator notes), or removes them on revive.
fn set_kill_note<'a>(
    flag: &mut Json<'a>,
    kill_reason: Option<&str>,
    now: SystemTime,
    arena: &'a JsonArena,
) {
    let Json::Object(members) = flag else {
        return;
    };
    if !members.iter().any(|(k, _)| k == "metadata") {
        if kill_reason.is_none() {
            return;
        }
        members.push(("metadata".into(), Json::Object(arena.vec_from([]))));
    }
    let Some(Json::Object(metadata)) = flag.get_mut("metadata") else {
        return;
    };
    metadata.retain(|(k, _)| k != "kill_reason" && k != "killed_at");
    if let Some(reason) = kill_reason {
        let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        metadata.push(("kill_reason".into(), Json::String(reason.to_owned().into())));
        metadata.push((
            "killed_at".into(),
            Json::Number(Number::Int(seconds as i64)),
        ));
    }
}
