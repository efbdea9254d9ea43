//! Validation: a JSON document → a [`Document`], or every problem found, each with its path.
//!
//! One pass over the whole document collects errors instead of stopping at the first, so an
//! operator fixing a snapshot sees everything at once.

mod flag;
mod graph;
mod guardrails;
mod operands;
mod rollout;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::document::json::{Json, JsonArena, Number};
use crate::document::{Condition, Document, Flag, Segment};
use crate::error::{InvalidSnapshot, ValidationError, ValidationErrorKind as Kind};
use crate::limits::Limits;

/// Rollout weights and bucket bounds are counted in units of 0.001 %.
pub(crate) const UNITS_PER_PERCENT: u32 = 1000;
const TOTAL_UNITS: u32 = 100 * UNITS_PER_PERCENT;
/// Maps up to this many members are checked for repeated names pair by pair.
const SMALL_MAP: usize = 8;

/// Parses and validates a snapshot document.
pub(crate) fn validate_document(
    bytes: &[u8],
    limits: &Limits,
) -> Result<Document, InvalidSnapshot> {
    limits.check_size(bytes)?;
    // Editors on some systems start files with a UTF-8 byte-order mark; JSON allows a
    // parser to ignore it.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let arena = JsonArena::new();
    let (json, depth) = Json::parse_measured(bytes, &arena).map_err(|e| {
        if e.to_string().starts_with("recursion limit exceeded") {
            InvalidSnapshot::at_root(Kind::Limit, format!("JSON nested too deeply: {e}"))
        } else {
            InvalidSnapshot::at_root(Kind::Syntax, e.to_string())
        }
    })?;
    // The parsed tree owns nothing outside the arena (`Json::parse`), which frees it all
    // at once; dropping the tree itself would only walk its 200,000 nodes of a large
    // snapshot (a tenth of the load) to find nothing to free.
    let json = std::mem::ManuallyDrop::new(json);
    limits.check_depth(depth)?;
    let mut validator = Validator {
        limits: *limits,
        ..Validator::default()
    };
    let snapshot = validator.document(&json);
    match snapshot {
        Some(snapshot) if validator.errors.is_empty() => Ok(snapshot),
        _ => {
            if validator.errors.is_empty() {
                validator.error(Kind::WrongType, &Path::Root, "not a valid snapshot");
            }
            Err(InvalidSnapshot {
                errors: validator.errors,
            })
        }
    }
}

/// Where a value sits in the document, built on the stack while walking it and rendered
/// (`flags.checkout.rules[2].serve`) only when there is an error to report: a large
/// snapshot has hundreds of thousands of places and, usually, no errors.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub(crate) fn field(&'a self, name: &'a str) -> Path<'a> {
        Path::Field(self, name)
    }

    pub(crate) fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }

    pub(crate) fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Field(Path::Root, name) => (*name).to_owned(),
            Path::Field(parent, name) => format!("{}.{name}", parent.render()),
            Path::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

/// An object's members as the tree holds them.
type Members<'d> = [(Cow<'d, str>, Json<'d>)];

#[derive(Default)]
struct Validator<'d> {
    limits: Limits,
    errors: Vec<ValidationError>,
    /// Each segment's name → its index (the first of repeated names).
    segments: HashMap<&'d str, usize>,
    /// Each flag's name → its index (the first of repeated names) in `flag_members`.
    flags: HashMap<&'d str, usize>,
    flag_members: &'d Members<'d>,
    /// The variant names of the flag being validated, kept to reuse the allocation.
    variant_names: Vec<&'d str>,
    /// A clause's values as JSON text, kept to reuse the allocation.
    clause_values: String,
}

/// The members of one object, checked for unknown and duplicate keys.
struct Fields<'d> {
    members: &'d Members<'d>,
}

impl<'d> Fields<'d> {
    fn get(&self, name: &str) -> Option<&'d Json<'d>> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

impl<'d> Validator<'d> {
    fn error(&mut self, kind: Kind, path: &Path<'_>, message: impl Into<String>) {
        self.errors
            .push(ValidationError::new(kind, &path.render(), message));
    }

    fn wrong_type(&mut self, path: &Path<'_>, expected: &str, found: &Json) {
        self.error(
            Kind::WrongType,
            path,
            format!("expected {expected}, found {}", found.type_name()),
        );
    }

    /// Checks that `value` is an object with no unknown or duplicate keys.
    fn object(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        allowed: &[&str],
    ) -> Option<Fields<'d>> {
        let Json::Object(members) = value else {
            self.wrong_type(path, "an object", value);
            return None;
        };
        debug_assert!(allowed.len() <= 64, "one bit per allowed field");
        // The allowed fields seen so far, one bit each: a repeat is a bit already set,
        // without comparing the key with every member before it.
        let mut seen = 0u64;
        for (key, _) in members.iter() {
            match allowed.iter().position(|a| *a == key.as_ref()) {
                None => self.error(
                    Kind::UnknownField,
                    &path.field(key),
                    format!(
                        "unknown field `{key}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                ),
                Some(i) => {
                    let bit = 1u64 << (i % 64);
                    if seen & bit != 0 {
                        self.duplicate_key(path, key);
                    }
                    seen |= bit;
                }
            }
        }
        Some(Fields { members })
    }

    /// Checks a name → value map for duplicate names; returns its members.
    fn map(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> &'d Members<'d> {
        let Json::Object(members) = value else {
            self.wrong_type(path, "an object", value);
            return &[];
        };
        // Maps hold up to every flag of a snapshot: find repeats with a set, not by pairs,
        // unless the map is small (a flag's variants or metadata), where pairs are cheaper
        // than building a set.
        let mut seen = (members.len() > SMALL_MAP)
            .then(|| std::collections::HashSet::with_capacity(members.len()));
        for (i, (key, _)) in members.iter().enumerate() {
            let repeated = match &mut seen {
                Some(seen) => !seen.insert(key.as_ref()),
                None => members[..i].iter().any(|(k, _)| k == key),
            };
            if key.len() > self.limits.max_string_bytes {
                self.too_long(&path.field("<key>"), key.len());
            } else if repeated {
                self.duplicate_key(path, key);
            }
        }
        members
    }

    /// Like [`Validator::map`] for the flags or segments, which may be many: the set that
    /// finds repeated names is kept as `index`, each name's first index, for references.
    fn named(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        index: &mut HashMap<&'d str, usize>,
    ) -> &'d Members<'d> {
        let Json::Object(members) = value else {
            self.wrong_type(path, "an object", value);
            return &[];
        };
        index.reserve(members.len());
        for (i, (key, _)) in members.iter().enumerate() {
            let repeated = match index.entry(key) {
                std::collections::hash_map::Entry::Occupied(_) => true,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(i);
                    false
                }
            };
            if key.len() > self.limits.max_string_bytes {
                self.too_long(&path.field("<key>"), key.len());
            } else if repeated {
                self.duplicate_key(path, key);
            }
        }
        members
    }

    fn count(&mut self, members: &Members<'d>, path: &Path<'_>, limit: usize, name: &str) {
        if members.len() > limit {
            let len = members.len();
            self.error(
                Kind::Limit,
                path,
                format!(
                    "{len} {}, above the limit of {limit} ({name})",
                    path.render()
                ),
            );
        }
    }

    fn duplicate_key(&mut self, path: &Path<'_>, key: &str) {
        self.error(
            Kind::DuplicateKey,
            &path.field(key),
            format!("duplicate key `{key}`: it is defined more than once"),
        );
    }

    fn required(
        &mut self,
        fields: &Fields<'d>,
        path: &Path<'_>,
        name: &str,
    ) -> Option<&'d Json<'d>> {
        let value = fields.get(name);
        if value.is_none() {
            self.error(
                Kind::MissingField,
                &path.field(name),
                format!("missing required field `{name}`"),
            );
        }
        value
    }

    fn string(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Option<&'d str> {
        match value {
            Json::String(s) if s.len() > self.limits.max_string_bytes => {
                self.too_long(path, s.len());
                None
            }
            Json::String(s) => Some(s),
            other => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    fn too_long(&mut self, path: &Path<'_>, len: usize) {
        let limit = self.limits.max_string_bytes;
        self.error(
            Kind::Limit,
            path,
            format!("a string of {len} bytes, above the limit of {limit} (max_string_bytes)"),
        );
    }

    fn array(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> &'d [Json<'d>] {
        match value {
            Json::Array(items) if items.len() > self.limits.max_list_length => {
                let (len, limit) = (items.len(), self.limits.max_list_length);
                self.error(
                    Kind::Limit,
                    path,
                    format!("a list of {len} items, above the limit of {limit} (max_list_length)"),
                );
                &[]
            }
            Json::Array(items) => items,
            other => {
                self.wrong_type(path, "an array", other);
                &[]
            }
        }
    }

    fn optional_string(
        &mut self,
        fields: &Fields<'d>,
        path: &Path<'_>,
        name: &str,
    ) -> Option<String> {
        let value = fields.get(name)?;
        self.string(value, &path.field(name)).map(str::to_owned)
    }

    fn string_list(&mut self, value: Option<&'d Json<'d>>, path: &Path<'_>) -> Vec<String> {
        let Some(value) = value else {
            return Vec::new();
        };
        let items = self.array(value, path);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = self.string(item, &path.index(i)) {
                out.push(s.to_owned());
            }
        }
        out
    }

    fn document(&mut self, json: &'d Json<'d>) -> Option<Document> {
        let fields = self.object(json, &Path::Root, &["version", "segments", "flags"])?;
        let version = self
            .required(&fields, &Path::Root, "version")
            .and_then(|v| match v {
                Json::Number(Number::Int(i)) if *i >= 0 => Some(*i as u64),
                Json::Number(Number::BigUint(u)) => Some(*u),
                other => {
                    self.error(
                        Kind::InvalidValue,
                        &Path::Root.field("version"),
                        format!("expected an integer >= 0, found {}", describe(other)),
                    );
                    None
                }
            });
        // The names are indexed as they are checked, so that references may point
        // forwards.
        let mut index = std::mem::take(&mut self.segments);
        let segment_members = fields.get("segments").map_or(&[][..], |s| {
            self.named(s, &Path::Root.field("segments"), &mut index)
        });
        self.segments = index;
        let mut index = std::mem::take(&mut self.flags);
        let flag_members = self
            .required(&fields, &Path::Root, "flags")
            .map_or(&[][..], |f| {
                self.named(f, &Path::Root.field("flags"), &mut index)
            });
        self.flags = index;
        self.flag_members = flag_members;

        self.count(
            segment_members,
            &Path::Root.field("segments"),
            self.limits.max_segments,
            "max_segments",
        );
        self.count(
            flag_members,
            &Path::Root.field("flags"),
            self.limits.max_flags,
            "max_flags",
        );
        if !self.errors.is_empty() {
            return None;
        }
        // Sized up front: grown step by step, the flags were copied a dozen times over.
        let mut segments: Vec<(String, Segment)> = Vec::with_capacity(segment_members.len());
        for (name, value) in segment_members {
            if let Some(segment) = self.segment(value, &Path::Root.field("segments").field(name)) {
                segments.push((name.to_string(), segment));
            }
        }
        let mut flags: Vec<(String, Flag)> = Vec::with_capacity(flag_members.len());
        for (name, value) in flag_members {
            if let Some(flag) = self.flag(name, value, &Path::Root.field("flags").field(name)) {
                flags.push((name.to_string(), flag));
            }
        }
        if !self.errors.is_empty() {
            return None;
        }
        let depth = self.limits.max_reference_depth;
        graph::check_segments(&segments, depth, &mut self.errors);
        graph::check_prerequisites(&flags, depth, &mut self.errors);
        Some(Document {
            version: version?,
            segments,
            flags,
        })
    }

    fn segment(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Option<Segment> {
        let fields = self.object(value, path, &["description", "include", "exclude", "rules"])?;
        self.optional_string(&fields, path, "description");
        let include = self.string_list(fields.get("include"), &path.field("include"));
        let exclude = self.string_list(fields.get("exclude"), &path.field("exclude"));
        let mut rules = Vec::new();
        if let Some(list) = fields.get("rules") {
            let rules_path = path.field("rules");
            let items = self.array(list, &rules_path);
            rules.reserve_exact(items.len());
            for (i, rule) in items.iter().enumerate() {
                let rule_path = rules_path.index(i);
                let Some(rule_fields) =
                    self.object(rule, &rule_path, &["description", "conditions"])
                else {
                    continue;
                };
                self.optional_string(&rule_fields, &rule_path, "description");
                if let Some(conditions) = self.required(&rule_fields, &rule_path, "conditions") {
                    rules.push(self.conditions(conditions, &rule_path.field("conditions")));
                }
            }
        }
        Some(Segment {
            include,
            exclude,
            rules,
        })
    }

    fn conditions(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Vec<Condition> {
        let items = self.array(value, path);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(condition) = self.condition(item, &path.index(i)) {
                out.push(condition);
            }
        }
        out
    }

    fn segment_ref(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Option<usize> {
        let name = self.string(value, path)?;
        let found = self.segments.get(name).copied();
        if found.is_none() {
            self.error(
                Kind::UndefinedSegment,
                path,
                format!("segment `{name}` is not defined"),
            );
        }
        found
    }

    fn condition(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Option<Condition> {
        let Json::Object(members) = value else {
            self.wrong_type(path, "an object", value);
            return None;
        };
        // The kind of condition from one look at its keys, not one per kind.
        let (mut in_segment, mut not_in_segment, mut in_bucket) = (false, false, false);
        for (key, _) in members.iter() {
            match key.as_ref() {
                "in_segment" => in_segment = true,
                "not_in_segment" => not_in_segment = true,
                "in_bucket" => in_bucket = true,
                _ => {}
            }
        }
        if in_segment {
            let fields = self.object(value, path, &["in_segment"])?;
            let name = fields.get("in_segment")?;
            return self
                .segment_ref(name, &path.field("in_segment"))
                .map(Condition::InSegment);
        }
        if not_in_segment {
            let fields = self.object(value, path, &["not_in_segment"])?;
            let name = fields.get("not_in_segment")?;
            return self
                .segment_ref(name, &path.field("not_in_segment"))
                .map(Condition::NotInSegment);
        }
        if in_bucket {
            let fields = self.object(value, path, &["in_bucket"])?;
            return self.in_bucket(fields.get("in_bucket")?, &path.field("in_bucket"));
        }
        self.clause(value, path)
    }

    fn in_bucket(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Option<Condition> {
        let fields = self.object(value, path, &["salt", "by", "from", "to"])?;
        let salt = self
            .required(&fields, path, "salt")
            .and_then(|s| self.string(s, &path.field("salt")));
        let by = self
            .optional_string(&fields, path, "by")
            .unwrap_or_else(|| "key".to_owned());
        let from = self
            .required(&fields, path, "from")
            .and_then(|f| self.percent_units(f, &path.field("from")));
        let to = self
            .required(&fields, path, "to")
            .and_then(|t| self.percent_units(t, &path.field("to")));
        let (salt, from, to) = (salt?, from?, to?);
        if from > to {
            self.error(
                Kind::InvalidValue,
                path,
                format!(
                    "`from` ({}) is above `to` ({})",
                    f64::from(from) / 1000.0,
                    f64::from(to) / 1000.0
                ),
            );
            return None;
        }
        Some(Condition::InBucket {
            salt: salt.to_owned(),
            by,
            from,
            to,
        })
    }
}

/// A value for a message: short ones in full, others by type.
fn describe(value: &Json) -> String {
    match value {
        Json::Number(Number::Int(i)) => i.to_string(),
        Json::Number(Number::Float(f)) => f.to_string(),
        Json::String(s) if s.len() <= 40 => format!("\"{s}\""),
        other => other.type_name().to_owned(),
    }
}
