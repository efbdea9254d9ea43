//! The blast radius of a snapshot change, before it ships: what changed between two
//! snapshots, and which contexts it moves from which variant to which.
//!
//! [`diff`] compares an OLD and a NEW snapshot document in two ways:
//!
//! - **structurally**: flags and segments added, removed or changed, and for a changed one
//!   each change with its path in the format's vocabulary
//!   (`flags.checkout.rules[2].serve.rollout.split[0].weight: 5 → 50`);
//! - **by behaviour**: every flag present in either snapshot is evaluated under OLD and
//!   under NEW for each context (a sample of real traffic, or synthetic targeting keys),
//!   counting the contexts whose served variant changes and each transition
//!   (`off → on: 44871`); then, for each segment of NEW, the contexts in it and how many
//!   of those moved on any flag.
//!
//! The work is spread over every core; no flag is skipped because its definition looks
//! unchanged (a segment or prerequisite it uses may have changed). `flagcore diff` is this
//! function with a command line around it; `docs/format.md` §7.7 describes both.
//!
//! ```
//! use flagcore::diff::{diff, ChangeKind, Contexts, Options};
//!
//! let old = br#"{"version": 1, "flags": {"checkout": {
//!   "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
//!   "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 5},
//!                                         {"variant": "off", "weight": 95}]}}}}}"#;
//! let new = br#"{"version": 2, "flags": {"checkout": {
//!   "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
//!   "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 50},
//!                                         {"variant": "off", "weight": 50}]}}}}}"#;
//!
//! let report = diff(old, new, Contexts::Synthetic(10_000), &Options::new())?;
//! let checkout = &report.flags[0];
//! assert_eq!(checkout.change, ChangeKind::Changed);
//! assert_eq!(checkout.structural[0].path, "flags.checkout.fallthrough.rollout.split[0].weight");
//! assert_eq!(checkout.structural[0].what, "5 → 50");
//! // A canary that grows only moves users in: every move is off → on.
//! assert_eq!(checkout.transitions.len(), 1);
//! assert_eq!(checkout.transitions[0].from.as_deref(), Some("off"));
//! assert_eq!(checkout.transitions[0].count, checkout.changed);
//! // Roughly 45% of 10,000 keys lie in the buckets [5000, 50000).
//! assert!((4_300..4_700).contains(&checkout.changed));
//! # Ok::<(), flagcore::diff::DiffError>(())
//! ```

mod behaviour;
mod contexts;
mod json;
mod lists;
mod structural;

use crate::flagd::Format;
use std::fmt;
use std::num::NonZeroUsize;
use std::time::SystemTime;

pub use contexts::{read_contexts, AttributeValue, Context, ContextsError};

use crate::{InvalidSnapshot, Store};

/// Which contexts to evaluate every flag for.
#[derive(Debug, Clone, Copy)]
pub enum Contexts<'a> {
    /// This many synthetic targeting keys without attributes, named as `flagcore simulate`
    /// names them: `user-0`, `user-1`, ...
    Synthetic(u64),
    /// These contexts, e.g. a sample of real traffic read with [`read_contexts`].
    Listed(&'a [Context]),
}

impl Contexts<'_> {
    /// How many contexts there are.
    pub fn len(&self) -> u64 {
        match self {
            Contexts::Synthetic(n) => *n,
            Contexts::Listed(contexts) => contexts.len() as u64,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How to run a [`diff`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    now: Option<SystemTime>,
    threads: Option<NonZeroUsize>,
}

impl Options {
    /// The defaults: evaluate as of the current time, on every core.
    pub fn new() -> Options {
        Options::default()
    }

    /// Evaluates every context under both snapshots as of `instant`, so scheduled
    /// rollouts serve the step in force then. Default: the current time, read once.
    pub fn now(mut self, instant: SystemTime) -> Options {
        self.now = Some(instant);
        self
    }

    /// Evaluates on this many threads. Default: the available parallelism.
    pub fn threads(mut self, threads: NonZeroUsize) -> Options {
        self.threads = Some(threads);
        self
    }
}

/// What a flag's or a segment's own definition did between the two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Only NEW has it.
    Added,
    /// Only OLD has it.
    Removed,
    /// Both have it, with different definitions (see its `structural` list).
    Changed,
    /// Both have it, with the same definition. A flag may still move contexts when a
    /// segment or a prerequisite it uses changed.
    Unchanged,
}

impl ChangeKind {
    /// `"added"`, `"removed"`, `"changed"` or `"unchanged"`, as `--json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
            ChangeKind::Unchanged => "unchanged",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between two definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructuralChange {
    /// Where, in the format's path notation (docs/format.md §1): the place in NEW, or in
    /// OLD for something NEW no longer has.
    pub path: String,
    /// What changed there, for people: `5 → 50`, `added: ...`, `moved from rules[0]`.
    pub what: String,
}

/// How many contexts moved from one served variant to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The variant served under OLD; `None` when none was (the flag is absent, or the
    /// caller's default was served on an error such as `TARGETING_KEY_MISSING`).
    pub from: Option<String>,
    /// The variant served under NEW; `None` as for `from`.
    pub to: Option<String>,
    /// How many contexts made this move.
    pub count: u64,
}

/// One flag present in either snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagDiff {
    /// The flag's name.
    pub flag: String,
    /// What its own definition did.
    pub change: ChangeKind,
    /// How many contexts it was evaluated for (all of them).
    pub evaluated: u64,
    /// How many of those were served a different variant under NEW than under OLD.
    pub changed: u64,
    /// Each move (`from` ≠ `to`) with its count, largest first.
    pub transitions: Vec<Transition>,
    /// The differences of its definition; empty when `change` is `Unchanged`.
    pub structural: Vec<StructuralChange>,
}

impl FlagDiff {
    /// Whether more than `percent` % of the evaluated contexts moved (the
    /// `--max-changed` gate). `percent` counts to 0.001 %, like the format's percentages
    /// (docs/format.md §1), and the comparison is exact: 450 of 1,000 is not more than 45.
    pub fn moves_more_than(&self, percent: f64) -> bool {
        // Units of 0.001 %: 100 % is 100,000.
        let units = (percent.clamp(0.0, 100.0) * 1000.0).round() as u128;
        u128::from(self.changed) * 100_000 > units * u128::from(self.evaluated)
    }
}

/// One segment of NEW.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDiff {
    /// The segment's name.
    pub segment: String,
    /// What its own definition did (`Added` or `Changed` or `Unchanged`).
    pub change: ChangeKind,
    /// How many contexts are in it under NEW.
    pub contexts: u64,
    /// How many of those moved on any flag.
    pub changed: u64,
    /// The differences of its definition.
    pub structural: Vec<StructuralChange>,
}

/// The result of a [`diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffReport {
    /// OLD's `version`.
    pub old_version: u64,
    /// NEW's `version`.
    pub new_version: u64,
    /// How many contexts were evaluated.
    pub contexts: u64,
    /// Every flag of either snapshot, by name.
    pub flags: Vec<FlagDiff>,
    /// Every segment of NEW, by name.
    pub segments: Vec<SegmentDiff>,
    /// The segments only OLD has, by name.
    pub removed_segments: Vec<String>,
}

impl DiffReport {
    /// Whether NEW's version is greater than OLD's. When it is not, a store serving OLD
    /// refuses NEW as stale (docs/format.md §5.1), and `flagcore diff` fails.
    pub fn version_increases(&self) -> bool {
        self.new_version > self.old_version
    }

    /// The report as `flagcore diff --json` prints it (docs/format.md §7.7): exactly
    /// `old_version`, `new_version`, `flags` and `segments`, on one line.
    pub fn to_json(&self) -> String {
        json::report(self)
    }
}

/// Which of the two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The snapshot serving now.
    Old,
    /// The snapshot about to replace it.
    New,
}

/// Why [`diff`] could not compare the two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiffError {
    /// One or both snapshots are invalid: every error of each (at least one is `Some`).
    Invalid {
        /// OLD's errors, if it is invalid.
        old: Option<InvalidSnapshot>,
        /// NEW's errors, if it is invalid.
        new: Option<InvalidSnapshot>,
    },
    /// A snapshot the loader accepted could not be read as a JSON value for the
    /// structural comparison (a number beyond what a 64-bit float holds).
    Unreadable {
        /// Which snapshot.
        side: Side,
        /// What the JSON reader said.
        message: String,
    },
}

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiffError::Invalid { old, new } => {
                let mut first = true;
                for (name, invalid) in [("OLD", old), ("NEW", new)] {
                    if let Some(invalid) = invalid {
                        if !first {
                            f.write_str("\n")?;
                        }
                        first = false;
                        write!(f, "{name}: {invalid}")?;
                    }
                }
                Ok(())
            }
            DiffError::Unreadable { side, message } => {
                let name = if *side == Side::Old { "OLD" } else { "NEW" };
                write!(f, "{name}: {message}")
            }
        }
    }
}

impl std::error::Error for DiffError {}

/// Compares snapshot documents `old` and `new`: structurally, and by evaluating every flag
/// of either for each of `contexts` under both (see the [module](self) documentation).
///
/// Both documents are validated as a store would load them; an invalid one is
/// [`DiffError::Invalid`] with every error of each. A `version` that does not increase is
/// not an error here: the report says so ([`DiffReport::version_increases`]).
pub fn diff(
    old: &[u8],
    new: &[u8],
    contexts: Contexts<'_>,
    options: &Options,
) -> Result<DiffReport, DiffError> {
    let (old_store, new_store) = match (load(old), load(new)) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            return Err(DiffError::Invalid {
                old: old.err(),
                new: new.err(),
            })
        }
    };
    let old_document = document(old, Side::Old)?;
    let new_document = document(new, Side::New)?;
    let changes = structural::compare(&old_document, &new_document);

    let old_plan = old_store.snapshot();
    let new_plan = new_store.snapshot();
    let now = options.now.unwrap_or_else(SystemTime::now);
    let threads = options
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let flag_names: Vec<&str> = changes.flags.iter().map(|f| f.name.as_str()).collect();
    let segment_names: Vec<&str> = changes.segments.iter().map(|s| s.name.as_str()).collect();
    let counts = behaviour::run(behaviour::Job {
        old: &old_plan,
        new: &new_plan,
        flags: &flag_names,
        segments: &segment_names,
        contexts,
        now,
        threads,
    });

    let evaluated = contexts.len();
    let flags = changes
        .flags
        .into_iter()
        .zip(counts.flags)
        .map(|(flag, moves)| FlagDiff {
            change: flag.change,
            evaluated,
            changed: moves.iter().map(|t| t.count).sum(),
            transitions: moves,
            structural: flag.structural,
            flag: flag.name,
        })
        .collect();
    let segments = changes
        .segments
        .into_iter()
        .zip(counts.segments)
        .map(|(segment, (members, moved))| SegmentDiff {
            change: segment.change,
            contexts: members,
            changed: moved,
            structural: segment.structural,
            segment: segment.name,
        })
        .collect();
    // A flagd document has no version: a store numbers it after the one it serves.
    let flagd = |bytes: &[u8]| Format::detect(bytes) == Format::Flagd;
    let old_version = if flagd(old) { 1 } else { old_document.version };
    let new_version = if flagd(new) {
        old_version + 1
    } else {
        new_document.version
    };
    Ok(DiffReport {
        old_version,
        new_version,
        contexts: evaluated,
        flags,
        segments,
        removed_segments: changes.removed_segments,
    })
}

/// A store holding `bytes`, counting nothing (the diff's evaluations are no traffic).
fn load(bytes: &[u8]) -> Result<Store, InvalidSnapshot> {
    let store = Store::new();
    store.set_metrics_enabled(false);
    match store.update(bytes) {
        Ok(_) => Ok(store),
        Err(crate::Error::Invalid(invalid)) => Err(invalid),
        // A fresh store has no version to be stale against, and bytes need no I/O.
        Err(other) => Err(InvalidSnapshot {
            errors: vec![crate::ValidationError::new(
                crate::ValidationErrorKind::InvalidValue,
                "$",
                other.to_string(),
            )],
        }),
    }
}

/// The validated document as a JSON value, for the structural comparison.
fn document(bytes: &[u8], side: Side) -> Result<structural::Document, DiffError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice::<serde_json::Value>(bytes)
        .map_err(|e| DiffError::Unreadable {
            side,
            message: e.to_string(),
        })
        .map(structural::Document::new)
}
