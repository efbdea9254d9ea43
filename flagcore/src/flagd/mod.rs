//! flagd flag definitions, loaded as they are (docs/format.md §9).
//!
//! [OpenFeature flagd](https://flagd.dev) files hold `flags` with a `state`, `variants`, a
//! `defaultVariant` and `targeting` in JsonLogic, shared `$evaluators` and `metadata`. A
//! [`Store`](crate::Store) loads them wherever it loads a snapshot, telling the two
//! formats apart by their content ([`Format`]); their flags compile into the same plan as
//! native ones and evaluate as flagd evaluates them, `fractional` buckets included, so
//! every user keeps the variant flagd gave them.
//!
//! ```
//! use flagcore::{EvaluationContext, Reason, Store};
//!
//! let store = Store::from_bytes(br#"{
//!   "$schema": "https://flagd.dev/schema/v0/flags.json",
//!   "flags": {"new-welcome": {
//!     "state": "ENABLED",
//!     "variants": {"on": true, "off": false},
//!     "defaultVariant": "off",
//!     "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on"]}}}
//! }"#)?;
//! let attrs = [("email", "ana@example.com".into())];
//! let snapshot = store.snapshot();
//! let details = snapshot.bool_details(
//!     "new-welcome", &EvaluationContext::new("ana").with_attributes(&attrs), false);
//! assert!(details.value);
//! assert_eq!(details.reason, Reason::TargetingMatch);
//! # Ok::<(), flagcore::Error>(())
//! ```
//!
//! One bad flag does not sink a file, as in flagd: a flag with an unknown operator, a
//! `$ref` to a missing evaluator or a malformed definition answers with flagd's error
//! (`PARSE_ERROR` or `GENERAL`) and the others serve. [`validate`](crate::validate) still
//! reports each such flag with its path, so a CI gate catches it.

mod compile;
mod import;

pub use import::{to_native, Conversion};

use std::collections::HashMap;

use crate::document::json::{Json, JsonArena, Number};
use crate::document::logic::{Broken, FlagdFlag, Targeting};
use crate::document::{Document, Flag, MetadataValue, Serve, ValueKind};
use crate::error::{InvalidSnapshot, ValidationError, ValidationErrorKind as Kind};
use crate::limits::Limits;
use compile::Compiler;

/// The format of a flag document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// flagcore's own snapshot format (docs/format.md §2).
    Native,
    /// OpenFeature flagd flag definitions (docs/format.md §9).
    Flagd,
}

impl Format {
    /// The format `bytes` are written in: flagd when the document says so (a flagd
    /// `$schema`, `$evaluators`) or has no `version` and flags with a `state` or a
    /// `defaultVariant`; native otherwise, including when it is not JSON at all.
    ///
    /// ```
    /// use flagcore::flagd::Format;
    ///
    /// let flagd = br#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1},
    ///                                   "defaultVariant": "a"}}}"#;
    /// assert_eq!(Format::detect(flagd), Format::Flagd);
    /// assert_eq!(Format::detect(br#"{"version": 1, "flags": {}}"#), Format::Native);
    /// ```
    pub fn detect(bytes: &[u8]) -> Format {
        let arena = JsonArena::new();
        let flagd = Json::parse(strip_bom(bytes), &arena).is_ok_and(|json| is_flagd(&json));
        if flagd {
            Format::Flagd
        } else {
            Format::Native
        }
    }

    /// The name used on command lines and in bindings: `native` or `flagd`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Flagd => "flagd",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Format, String> {
        match name {
            "native" => Ok(Format::Native),
            "flagd" => Ok(Format::Flagd),
            other => Err(format!(
                "unknown format `{other}`: expected `native` or `flagd`"
            )),
        }
    }
}

/// How flagd's `fractional` turns a bucketing key into a bucket. flagd's conformance suite
/// names the generations; users stay in their buckets only under the one that placed them.
///
/// ```
/// use flagcore::flagd::FractionalVersion;
///
/// assert_eq!(FractionalVersion::default(), FractionalVersion::V2);
/// assert_eq!("v3".parse::<FractionalVersion>(), Ok(FractionalVersion::V3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FractionalVersion {
    /// flagd's current bucketing (the default): MurmurHash3 of the key's UTF-8 bytes (by
    /// default the flag key followed by the targeting key), `hash × total >> 32`
    /// (docs/format.md §9.4.2).
    #[default]
    V2,
    /// flagd's newer bucketing, which flagd's Python core (`openfeature-flagd-core` 2)
    /// uses: MurmurHash3 of the key's canonical CBOR encoding, so numbers and booleans
    /// bucket alike everywhere; the default key is the array `[flagKey, targetingKey]`
    /// and needs a targeting key; weights are whole numbers (§9.4.3).
    V3,
}

impl std::str::FromStr for FractionalVersion {
    type Err = String;

    fn from_str(name: &str) -> Result<FractionalVersion, String> {
        match name {
            "v2" => Ok(FractionalVersion::V2),
            "v3" => Ok(FractionalVersion::V3),
            other => Err(format!(
                "unknown fractional bucketing `{other}`: expected `v2` or `v3`"
            )),
        }
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn is_flagd(json: &Json<'_>) -> bool {
    let schema_says_flagd =
        matches!(json.get("$schema"), Some(Json::String(s)) if s.contains("flagd"));
    if schema_says_flagd || json.get("$evaluators").is_some() {
        return true;
    }
    let Some(Json::Object(flags)) = json.get("flags") else {
        return false;
    };
    json.get("version").is_none()
        && flags
            .iter()
            .any(|(_, flag)| flag.get("state").is_some() || flag.get("defaultVariant").is_some())
}

/// A loaded flagd document: the flags as a [`Document`] (version 0: flagd files carry
/// none, and the store numbers them), and the problems of flags that serve an error.
pub(crate) struct Loaded {
    pub document: Document,
    pub problems: Vec<ValidationError>,
}

/// Loads one or more flagd documents merged in order, as flagd merges its sources: a
/// later definition of a flag replaces an earlier one, and `$evaluators` are shared.
/// Each flag's metadata is its file's top-level `metadata` overlaid with its own.
///
/// Fails only on what fails a whole document (not JSON, not an object, no `flags`
/// object, beyond the limits); a bad flag is in `problems` and answers with an error.
pub(crate) fn load(
    documents: &[&[u8]],
    limits: &Limits,
    fractional: FractionalVersion,
) -> Result<Loaded, InvalidSnapshot> {
    let arenas: Vec<JsonArena> = documents.iter().map(|_| JsonArena::new()).collect();
    let trees = parse_all(documents, &arenas, limits)?;
    let mut merged = Merged::new(&trees)?;
    limits.check_flags(merged.order.len())?;
    let mut flags = Vec::with_capacity(merged.order.len());
    for &name in &merged.order {
        let (_, flag, broken) = merged.flag(name, fractional == FractionalVersion::V3);
        merged.problems.extend(broken);
        flags.push((name.to_owned(), flag));
    }
    Ok(Loaded {
        document: Document {
            version: 0,
            segments: Vec::new(),
            flags,
        },
        problems: merged.problems,
    })
}

fn parse_all<'a>(
    documents: &[&'a [u8]],
    arenas: &'a [JsonArena],
    limits: &Limits,
) -> Result<Vec<Json<'a>>, InvalidSnapshot> {
    documents
        .iter()
        .zip(arenas)
        .map(|(bytes, arena)| parse(bytes, arena, limits))
        .collect()
}

/// Several parsed flagd documents seen as one, as flagd merges its sources.
struct Merged<'j, 'd> {
    evaluators: HashMap<&'j str, &'j Json<'d>>,
    /// Flag names in the order they were first defined; a later file's definition
    /// replaces an earlier one in place.
    order: Vec<&'j str>,
    /// Name → (index of the file, definition).
    definitions: HashMap<&'j str, (usize, &'j Json<'d>)>,
    /// Each file's top-level `metadata`.
    set_metadata: Vec<Vec<(String, MetadataValue)>>,
    problems: Vec<ValidationError>,
}

impl<'j, 'd> Merged<'j, 'd> {
    /// Flag `name` as read from the file that defines it last: the file's index, the flag,
    /// and its problems.
    fn flag(&self, name: &str, cbor: bool) -> (usize, Flag, Vec<ValidationError>) {
        let (file, definition) = self.definitions[name];
        let (flag, problems) = flag(
            name,
            definition,
            &self.evaluators,
            &self.set_metadata[file],
            &format!("flags.{name}"),
            cbor,
        );
        (file, flag, problems)
    }

    fn new(trees: &'j [Json<'d>]) -> Result<Self, InvalidSnapshot> {
        let mut merged = Merged {
            evaluators: HashMap::new(),
            order: Vec::new(),
            definitions: HashMap::new(),
            set_metadata: Vec::with_capacity(trees.len()),
            problems: Vec::new(),
        };
        for (file, tree) in trees.iter().enumerate() {
            match tree.get("$evaluators") {
                None => {}
                Some(Json::Object(members)) => {
                    for (name, definition) in members.iter() {
                        merged.evaluators.insert(name, definition);
                    }
                }
                Some(other) => merged.problems.push(problem(
                    Kind::WrongType,
                    "$evaluators",
                    format!("`$evaluators` must be an object, not {}", other.type_name()),
                )),
            }
            let Some(Json::Object(flags)) = tree.get("flags") else {
                let which = if trees.len() > 1 {
                    format!("document {} of {}: ", file + 1, trees.len())
                } else {
                    String::new()
                };
                return Err(InvalidSnapshot::at_root(
                    Kind::MissingField,
                    format!("{which}a flagd document needs a `flags` object"),
                ));
            };
            for (name, definition) in flags.iter() {
                if merged
                    .definitions
                    .insert(name, (file, definition))
                    .is_none()
                {
                    merged.order.push(name);
                }
            }
            let set = metadata(tree.get("metadata"), "metadata", &mut merged.problems);
            merged.set_metadata.push(set);
        }
        Ok(merged)
    }
}

fn parse<'a>(
    bytes: &'a [u8],
    arena: &'a JsonArena,
    limits: &Limits,
) -> Result<Json<'a>, InvalidSnapshot> {
    limits.check_size(bytes)?;
    let (json, depth) = Json::parse_measured(strip_bom(bytes), arena)
        .map_err(|e| InvalidSnapshot::at_root(Kind::Syntax, e.to_string()))?;
    limits.check_depth(depth)?;
    if !matches!(json, Json::Object(_)) {
        return Err(InvalidSnapshot::at_root(
            Kind::WrongType,
            format!("a flagd document is an object, not {}", json.type_name()),
        ));
    }
    Ok(json)
}

fn problem(kind: Kind, path: &str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(kind, path, message)
}

/// One flag: what it serves, and the problem that breaks it, if any. A broken flag still
/// gets variants of one type when it has them, so type checks answer as for any flag.
fn flag(
    name: &str,
    json: &Json<'_>,
    evaluators: &HashMap<&str, &Json<'_>>,
    set_metadata: &[(String, MetadataValue)],
    path: &str,
    cbor: bool,
) -> (Flag, Vec<ValidationError>) {
    let mut broken: Option<(Broken, ValidationError)> = None;
    let mut fail = |code: Broken, kind: Kind, at: &str, message: String| {
        if broken.is_none() {
            broken = Some((code, problem(kind, at, message)));
        }
    };
    let (variants, kind) = match json.get("variants") {
        Some(Json::Object(members)) if !members.is_empty() => match variant_kind(members) {
            Some(kind) => (
                members
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_value()))
                    .collect(),
                kind,
            ),
            None => {
                fail(
                    Broken::Parse,
                    Kind::MixedTypes,
                    &format!("{path}.variants"),
                    format!("flag `{name}` mixes variant value types"),
                );
                (Vec::new(), ValueKind::Bool)
            }
        },
        Some(Json::Object(_)) => {
            fail(
                Broken::Parse,
                Kind::InvalidValue,
                &format!("{path}.variants"),
                format!("flag `{name}` has no variants"),
            );
            (Vec::new(), ValueKind::Bool)
        }
        other => {
            fail(
                Broken::Parse,
                Kind::MissingField,
                &format!("{path}.variants"),
                format!("flag `{name}` needs a `variants` object{}", found(other)),
            );
            (Vec::new(), ValueKind::Bool)
        }
    };
    let enabled = match json.get("state") {
        Some(Json::String(s)) if s == "ENABLED" => true,
        Some(Json::String(s)) if s == "DISABLED" => false,
        other => {
            fail(
                Broken::Parse,
                Kind::InvalidValue,
                &format!("{path}.state"),
                format!("`state` is `ENABLED` or `DISABLED`{}", found(other)),
            );
            false
        }
    };
    let default_variant = match json.get("defaultVariant") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) if s.is_empty() => None,
        Some(Json::String(s)) => match variants.iter().position(|(n, _)| n == s.as_ref()) {
            Some(i) => Some(i as u32),
            None => {
                fail(
                    Broken::General,
                    Kind::UnknownVariant,
                    &format!("{path}.defaultVariant"),
                    format!(
                        "unknown variant `{s}`; flag `{name}` has: {}",
                        names(&variants)
                    ),
                );
                None
            }
        },
        Some(other) => {
            fail(
                Broken::Parse,
                Kind::WrongType,
                &format!("{path}.defaultVariant"),
                format!(
                    "`defaultVariant` names a variant with a string, not {}",
                    other.type_name()
                ),
            );
            None
        }
    };
    let targeting = match json.get("targeting") {
        None | Some(Json::Null) => Targeting::Absent,
        Some(Json::Object(members)) if members.is_empty() => Targeting::Absent,
        Some(logic @ Json::Object(_)) => match Compiler::new(evaluators, cbor).targeting(logic) {
            Ok(logic) => Targeting::Logic(logic),
            Err(message) => {
                fail(
                    Broken::Parse,
                    Kind::UnknownOperator,
                    &format!("{path}.targeting"),
                    message,
                );
                Targeting::Absent
            }
        },
        Some(other) => {
            fail(
                Broken::Parse,
                Kind::WrongType,
                &format!("{path}.targeting"),
                format!(
                    "`targeting` is a JsonLogic object, not {}",
                    other.type_name()
                ),
            );
            Targeting::Absent
        }
    };
    let mut meta_problems = Vec::new();
    let mut merged: Vec<(String, MetadataValue)> = set_metadata.to_vec();
    for (key, value) in metadata(
        json.get("metadata"),
        &format!("{path}.metadata"),
        &mut meta_problems,
    ) {
        match merged.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => merged.push((key, value)),
        }
    }
    let targeting = match broken {
        Some((code, problem)) => {
            meta_problems.insert(0, problem);
            Targeting::Broken(code)
        }
        None => targeting,
    };
    let flag = Flag {
        variants,
        kind,
        enabled,
        off_variant: None,
        salt: None,
        description: None,
        metadata: merged,
        prerequisites: Vec::new(),
        targets: Vec::new(),
        rules: Vec::new(),
        fallthrough: Serve::Variant(default_variant.unwrap_or(0) as usize),
        guardrails: Vec::new(),
        exposures: false,
        flagd: Some(Box::new(FlagdFlag {
            default_variant,
            targeting,
        })),
    };
    (flag, meta_problems)
}

/// The one value type of a flag's variants; integers and floats together are floats.
fn variant_kind(members: &[(std::borrow::Cow<'_, str>, Json<'_>)]) -> Option<ValueKind> {
    let mut kind: Option<ValueKind> = None;
    for (_, value) in members {
        let this = match value {
            Json::Bool(_) => ValueKind::Bool,
            Json::String(_) => ValueKind::String,
            Json::Number(Number::Int(_)) => ValueKind::Int,
            Json::Number(_) => ValueKind::Float,
            Json::Object(_) | Json::Array(_) => ValueKind::Json,
            Json::Null => return None,
        };
        kind = Some(match (kind, this) {
            (None, k) => k,
            (Some(a), b) if a == b => a,
            (Some(ValueKind::Int | ValueKind::Float), ValueKind::Int | ValueKind::Float) => {
                ValueKind::Float
            }
            _ => return None,
        });
    }
    kind
}

fn metadata(
    json: Option<&Json<'_>>,
    path: &str,
    problems: &mut Vec<ValidationError>,
) -> Vec<(String, MetadataValue)> {
    let Some(json) = json else {
        return Vec::new();
    };
    let Json::Object(members) = json else {
        problems.push(problem(
            Kind::WrongType,
            path,
            format!("`metadata` is an object, not {}", json.type_name()),
        ));
        return Vec::new();
    };
    let mut entries = Vec::with_capacity(members.len());
    for (key, value) in members.iter() {
        let value = match value {
            Json::String(s) => MetadataValue::String(s.to_string()),
            Json::Number(n) => MetadataValue::Number(n.as_f64()),
            Json::Bool(b) => MetadataValue::Bool(*b),
            other => {
                problems.push(problem(
                    Kind::WrongType,
                    &format!("{path}.{key}"),
                    format!(
                        "metadata values are strings, numbers or booleans, not {}",
                        other.type_name()
                    ),
                ));
                continue;
            }
        };
        entries.push((key.to_string(), value));
    }
    entries
}

fn found(json: Option<&Json<'_>>) -> String {
    json.map(|j| format!(", not {}", j.type_name()))
        .unwrap_or_default()
}

fn names(variants: &[(String, serde_json::Value)]) -> String {
    variants
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
