//! Validation: a JSON document → a [`Document`], or every problem found, each with its path.
//!
//! One pass over the whole document collects errors instead of stopping at the first, so an
//! operator fixing a snapshot sees everything at once.

mod graph;
mod operands;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::error::{InvalidSnapshot, ValidationError, ValidationErrorKind as Kind};
use crate::limits::Limits;
use crate::snapshot::json::{Json, JsonArena, Number};
use crate::snapshot::{
    Bound, Condition, Document, Flag, Guardrail, MetadataValue, Rule, Segment, Serve, Split, Step,
    ValueKind,
};

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
    let refuse = |kind, message: String| InvalidSnapshot {
        errors: vec![ValidationError::new(kind, "", message)],
    };
    if bytes.len() > limits.max_document_bytes {
        return Err(refuse(
            Kind::Limit,
            format!(
                "the document is {} bytes, above the limit of {} (max_document_bytes)",
                bytes.len(),
                limits.max_document_bytes
            ),
        ));
    }
    // Editors on some systems start files with a UTF-8 byte-order mark; JSON allows a
    // parser to ignore it.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let arena = JsonArena::new();
    let json = Json::parse(bytes, &arena).map_err(|e| {
        if e.to_string().starts_with("recursion limit exceeded") {
            refuse(Kind::Limit, format!("JSON nested too deeply: {e}"))
        } else {
            refuse(Kind::Syntax, e.to_string())
        }
    })?;
    let depth = json_depth(&json);
    if depth > limits.max_json_depth {
        return Err(refuse(
            Kind::Limit,
            format!(
                "JSON nesting is {depth} levels deep, above the limit of {} (max_json_depth)",
                limits.max_json_depth
            ),
        ));
    }
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

/// What pass one learns of a flag, for references from other flags.
struct FlagHeader<'d> {
    index: usize,
    variants: Vec<&'d str>,
}

#[derive(Default)]
struct Validator<'d> {
    limits: Limits,
    errors: Vec<ValidationError>,
    segments: HashMap<&'d str, usize>,
    flags: HashMap<&'d str, FlagHeader<'d>>,
}

/// The members of one object, checked for unknown and duplicate keys.
struct Fields<'d> {
    members: &'d [(Cow<'d, str>, Json<'d>)],
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
        for (i, (key, _)) in members.iter().enumerate() {
            if !allowed.contains(&key.as_ref()) {
                self.error(
                    Kind::UnknownField,
                    &path.field(key),
                    format!(
                        "unknown field `{key}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            } else if members[..i].iter().any(|(k, _)| k == key) {
                self.duplicate_key(path, key);
            }
        }
        Some(Fields { members })
    }

    /// Checks a name → value map for duplicate names; returns its members.
    fn map(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> &'d [(Cow<'d, str>, Json<'d>)] {
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

    fn count(
        &mut self,
        members: &[(Cow<'d, str>, Json<'d>)],
        path: &Path<'_>,
        limit: usize,
        name: &str,
    ) {
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
        let mut out = Vec::new();
        for (i, item) in self.array(value, path).iter().enumerate() {
            if let Some(s) = self.string(item, &path.index(i)) {
                out.push(s.to_owned());
            }
        }
        out
    }

    /// A percentage with at most 3 decimals, in units of 0.001 %.
    fn percent_units(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Option<u32> {
        let Json::Number(number) = value else {
            self.wrong_type(path, "a number", value);
            return None;
        };
        let percent = number.as_f64();
        if !(0.0..=100.0).contains(&percent) {
            self.error(
                Kind::InvalidValue,
                path,
                format!("{percent} is not a percentage between 0 and 100"),
            );
            return None;
        }
        let scaled = percent * f64::from(UNITS_PER_PERCENT);
        let units = scaled.round();
        if (scaled - units).abs() > 1e-6 {
            self.error(
                Kind::Weights,
                path,
                format!("{percent} has more than 3 decimals"),
            );
            return None;
        }
        Some(units as u32)
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
        let segment_members = fields
            .get("segments")
            .map_or(&[][..], |s| self.map(s, &Path::Root.field("segments")));
        let flag_members = self
            .required(&fields, &Path::Root, "flags")
            .map_or(&[][..], |f| self.map(f, &Path::Root.field("flags")));

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
        // Pass one: names, so that references may point forwards.
        for (i, (name, _)) in segment_members.iter().enumerate() {
            self.segments.entry(name).or_insert(i);
        }
        for (i, (name, flag)) in flag_members.iter().enumerate() {
            let variants = match flag.get("variants") {
                Some(Json::Object(members)) => members.iter().map(|(k, _)| k.as_ref()).collect(),
                _ => Vec::new(),
            };
            self.flags
                .entry(name)
                .or_insert(FlagHeader { index: i, variants });
        }

        let segments: Vec<(String, Segment)> = segment_members
            .iter()
            .filter_map(|(name, value)| {
                let segment = self.segment(value, &Path::Root.field("segments").field(name))?;
                Some((name.to_string(), segment))
            })
            .collect();
        let flags: Vec<(String, Flag)> = flag_members
            .iter()
            .filter_map(|(name, value)| {
                let flag = self.flag(name, value, &Path::Root.field("flags").field(name))?;
                Some((name.to_string(), flag))
            })
            .collect();
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
            for (i, rule) in self.array(list, &rules_path).iter().enumerate() {
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

    fn flag(&mut self, name: &str, value: &'d Json<'d>, path: &Path<'_>) -> Option<Flag> {
        let fields = self.object(
            value,
            path,
            &[
                "variants",
                "enabled",
                "off_variant",
                "salt",
                "description",
                "metadata",
                "prerequisites",
                "targets",
                "rules",
                "fallthrough",
                "guardrails",
            ],
        )?;
        let (variants, kind) = match self.required(&fields, path, "variants") {
            Some(v) => self.variants(v, &path.field("variants")),
            None => (Vec::new(), None),
        };
        let names: Vec<&str> = variants.iter().map(|(n, _)| n.as_str()).collect();
        let enabled = self
            .required(&fields, path, "enabled")
            .and_then(|v| match v {
                Json::Bool(b) => Some(*b),
                other => {
                    self.wrong_type(&path.field("enabled"), "a boolean", other);
                    None
                }
            });
        let off_variant = self
            .required(&fields, path, "off_variant")
            .and_then(|v| self.variant_ref(v, &path.field("off_variant"), name, &names));
        let salt = self.optional_string(&fields, path, "salt");
        let description = self.optional_string(&fields, path, "description");
        let metadata = fields
            .get("metadata")
            .map(|m| self.metadata(m, &path.field("metadata")))
            .unwrap_or_default();
        let prerequisites = fields
            .get("prerequisites")
            .map(|p| self.prerequisites(p, &path.field("prerequisites")))
            .unwrap_or_default();
        let targets = fields
            .get("targets")
            .map(|t| self.targets(t, &path.field("targets"), name, &names))
            .unwrap_or_default();
        let mut rules = Vec::new();
        if let Some(list) = fields.get("rules") {
            let rules_path = path.field("rules");
            for (i, rule) in self.array(list, &rules_path).iter().enumerate() {
                if let Some(rule) = self.rule(rule, &rules_path.index(i), name, &names) {
                    rules.push(rule);
                }
            }
        }
        let fallthrough = self
            .required(&fields, path, "fallthrough")
            .and_then(|f| self.serve(f, &path.field("fallthrough"), name, &names));
        let guardrails = fields
            .get("guardrails")
            .map(|g| self.guardrails(g, &path.field("guardrails"), name, &names))
            .unwrap_or_default();
        Some(Flag {
            kind: kind?,
            variants,
            enabled: enabled?,
            off_variant: off_variant?,
            salt,
            description,
            metadata,
            prerequisites,
            targets,
            rules,
            fallthrough: fallthrough?,
            guardrails,
        })
    }

    /// A flag's `guardrails`: each with a unique id, watched variants and one bound.
    fn guardrails(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Vec<Guardrail> {
        let mut out: Vec<Guardrail> = Vec::new();
        for (i, item) in self.array(value, path).iter().enumerate() {
            let item_path = path.index(i);
            let Some(fields) = self.object(
                item,
                &item_path,
                &[
                    "id",
                    "description",
                    "watch",
                    "baseline",
                    "max_increase",
                    "max_error_rate",
                    "latency_percentile",
                    "max_latency_ms",
                ],
            ) else {
                continue;
            };
            let id_path = item_path.field("id");
            let id = self
                .required(&fields, &item_path, "id")
                .and_then(|id| self.string(id, &id_path));
            if let Some(id) = id {
                if out.iter().any(|g| g.id == id) {
                    self.error(
                        Kind::DuplicateKey,
                        &id_path,
                        format!("guardrail id `{id}` is used twice in flag `{flag}`"),
                    );
                }
            }
            let _ = self.optional_string(&fields, &item_path, "description");
            let watch_path = item_path.field("watch");
            let mut watch = Vec::new();
            if let Some(list) = self.required(&fields, &item_path, "watch") {
                let items = self.array(list, &watch_path);
                if items.is_empty() && matches!(list, Json::Array(_)) {
                    self.error(
                        Kind::InvalidValue,
                        &watch_path,
                        "a guardrail watches at least one variant",
                    );
                }
                for (j, v) in items.iter().enumerate() {
                    let Some(v) = self.variant_ref(v, &watch_path.index(j), flag, names) else {
                        continue;
                    };
                    if watch.contains(&v) {
                        self.error(
                            Kind::InvalidValue,
                            &watch_path.index(j),
                            format!("variant `{}` is watched twice", names[v]),
                        );
                    }
                    watch.push(v);
                }
            }
            let bound = self.guardrail_bound(&fields, &item_path, flag, names, &watch);
            if let (Some(id), Some(bound), false) = (id, bound, watch.is_empty()) {
                out.push(Guardrail {
                    id: id.to_owned(),
                    watch,
                    bound,
                });
            }
        }
        out
    }

    /// The one bound a guardrail sets: against a baseline variant, an error rate, or a
    /// latency percentile.
    fn guardrail_bound(
        &mut self,
        fields: &Fields<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
        watch: &[usize],
    ) -> Option<Bound> {
        let given = |name| fields.get(name).is_some();
        let forms = [
            given("baseline") || given("max_increase"),
            given("max_error_rate"),
            given("latency_percentile") || given("max_latency_ms"),
        ];
        match forms.iter().filter(|f| **f).count() {
            0 => {
                self.error(
                    Kind::MissingField,
                    path,
                    "a guardrail needs `baseline` with `max_increase`, `max_error_rate`, \
                     or `latency_percentile` with `max_latency_ms`",
                );
                return None;
            }
            1 => {}
            _ => {
                self.error(
                    Kind::InvalidValue,
                    path,
                    "a guardrail sets one bound: `baseline` with `max_increase`, \
                     `max_error_rate`, or `latency_percentile` with `max_latency_ms`",
                );
                return None;
            }
        }
        let mut number = |name: &str, valid: fn(f64) -> bool, what: &str| {
            let field = path.field(name);
            let value = self.required(fields, path, name)?;
            let Json::Number(n) = value else {
                self.wrong_type(&field, "a number", value);
                return None;
            };
            let n = n.as_f64();
            if !valid(n) {
                self.error(Kind::InvalidValue, &field, format!("{n} is not {what}"));
                return None;
            }
            Some(n)
        };
        let rate = |n: f64| (0.0..1.0).contains(&n);
        if forms[1] {
            let max = number("max_error_rate", rate, "a rate from 0 up to 1 (excluded)")?;
            return Some(Bound::ErrorRate { max });
        }
        if forms[2] {
            let percentile = number(
                "latency_percentile",
                |n| n > 0.0 && n < 100.0,
                "a percentile above 0 and below 100",
            );
            let max_ms = number(
                "max_latency_ms",
                |n| n > 0.0 && n.is_finite(),
                "a number of milliseconds above 0",
            );
            return Some(Bound::Latency {
                percentile: percentile?,
                max_ms: max_ms?,
            });
        }
        let max_increase = number(
            "max_increase",
            rate,
            "an increase of the rate from 0 up to 1 (excluded)",
        );
        let baseline_path = path.field("baseline");
        let baseline = self
            .required(fields, path, "baseline")
            .and_then(|b| self.variant_ref(b, &baseline_path, flag, names));
        if let Some(b) = baseline.filter(|b| watch.contains(b)) {
            self.error(
                Kind::InvalidValue,
                &baseline_path,
                format!("the baseline `{}` is also watched", names[b]),
            );
            return None;
        }
        Some(Bound::ErrorIncrease {
            baseline: baseline? as u32,
            max_increase: max_increase?,
        })
    }

    fn variants(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
    ) -> (Vec<(String, serde_json::Value)>, Option<ValueKind>) {
        let members = self.map(value, path);
        if members.is_empty() {
            if matches!(value, Json::Object(_)) {
                self.error(
                    Kind::InvalidValue,
                    path,
                    "a flag needs at least one variant",
                );
            }
            return (Vec::new(), None);
        }
        let mut kinds: Vec<(ValueKind, &str)> = Vec::with_capacity(members.len());
        let mut variants = Vec::with_capacity(members.len());
        for (name, v) in members {
            let kind = match v {
                Json::Bool(_) => ValueKind::Bool,
                Json::String(_) => ValueKind::String,
                Json::Number(Number::Int(_)) => ValueKind::Int,
                Json::Number(Number::Float(_)) => ValueKind::Float,
                Json::Array(_) | Json::Object(_) => ValueKind::Json,
                Json::Number(Number::BigUint(_)) => {
                    self.error(
                        Kind::InvalidValue,
                        &path.field(name),
                        "integer out of the signed 64-bit range",
                    );
                    continue;
                }
                Json::Null => {
                    self.error(
                        Kind::WrongType,
                        &path.field(name),
                        "a variant value is a boolean, string, number, object or array, not null",
                    );
                    continue;
                }
            };
            kinds.push((kind, name));
            variants.push((name.to_string(), v.to_value()));
        }
        if variants.len() != members.len() {
            return (variants, None);
        }
        let numeric = |k: ValueKind| matches!(k, ValueKind::Int | ValueKind::Float);
        let first = kinds[0].0;
        let mixed = kinds
            .iter()
            .find(|(k, _)| *k != first && !(numeric(*k) && numeric(first)));
        if let Some((other, other_name)) = mixed {
            self.error(
                Kind::MixedTypes,
                path,
                format!(
                    "variants mix value types: `{}` is {}, `{other_name}` is {}",
                    kinds[0].1,
                    first.name(),
                    other.name()
                ),
            );
            return (variants, None);
        }
        let kind = if kinds.iter().any(|(k, _)| *k == ValueKind::Float) {
            ValueKind::Float
        } else {
            first
        };
        (variants, Some(kind))
    }

    fn variant_ref(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Option<usize> {
        let name = self.string(value, path)?;
        let found = names.iter().position(|n| *n == name);
        if found.is_none() && !names.is_empty() {
            self.error(
                Kind::UnknownVariant,
                path,
                format!(
                    "unknown variant `{name}`; flag `{flag}` has: {}",
                    names.join(", ")
                ),
            );
        }
        found
    }

    fn metadata(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Vec<(String, MetadataValue)> {
        let members = self.map(value, path);
        let mut out = Vec::with_capacity(members.len());
        for (key, v) in members {
            let entry = match v {
                Json::String(s) => MetadataValue::String(s.to_string()),
                Json::Number(n) => MetadataValue::Number(n.as_f64()),
                Json::Bool(b) => MetadataValue::Bool(*b),
                other => {
                    self.wrong_type(&path.field(key), "a string, number or boolean", other);
                    continue;
                }
            };
            out.push((key.to_string(), entry));
        }
        out
    }

    fn prerequisites(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, item) in self.array(value, path).iter().enumerate() {
            let item_path = path.index(i);
            let Some(fields) = self.object(item, &item_path, &["flag", "variant"]) else {
                continue;
            };
            let flag = self
                .required(&fields, &item_path, "flag")
                .and_then(|f| self.string(f, &item_path.field("flag")));
            let variant = self
                .required(&fields, &item_path, "variant")
                .and_then(|v| self.string(v, &item_path.field("variant")));
            let (Some(flag), Some(variant)) = (flag, variant) else {
                continue;
            };
            let Some(header) = self.flags.get(flag) else {
                self.error(
                    Kind::UndefinedFlag,
                    &item_path.field("flag"),
                    format!("prerequisite flag `{flag}` is not defined"),
                );
                continue;
            };
            let target = header.index;
            if !header.variants.is_empty() && !header.variants.contains(&variant) {
                let known = header.variants.join(", ");
                self.error(
                    Kind::UnknownVariant,
                    &item_path.field("variant"),
                    format!("unknown variant `{variant}`; flag `{flag}` has: {known}"),
                );
                continue;
            }
            out.push((target, variant.to_owned()));
        }
        out
    }

    fn targets(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Vec<(usize, Vec<String>)> {
        let mut out = Vec::new();
        // Where each key was first targeted: (target, key) indices, rendered on a repeat.
        let mut seen: HashMap<&'d str, (usize, usize)> = HashMap::new();
        for (i, item) in self.array(value, path).iter().enumerate() {
            let item_path = path.index(i);
            let Some(fields) = self.object(item, &item_path, &["variant", "keys"]) else {
                continue;
            };
            let variant = self
                .required(&fields, &item_path, "variant")
                .and_then(|v| self.variant_ref(v, &item_path.field("variant"), flag, names));
            let keys_path = item_path.field("keys");
            let mut keys = Vec::new();
            if let Some(list) = self.required(&fields, &item_path, "keys") {
                for (j, key) in self.array(list, &keys_path).iter().enumerate() {
                    let key_path = keys_path.index(j);
                    let Some(key) = self.string(key, &key_path) else {
                        continue;
                    };
                    if let Some(&(t, k)) = seen.get(key) {
                        let first = path.index(t);
                        let first = first.field("keys");
                        let first = first.index(k).render();
                        let message = format!("key `{key}` is already targeted at {first}");
                        self.error(Kind::DuplicateTarget, &key_path, message);
                        continue;
                    }
                    seen.insert(key, (i, j));
                    keys.push(key.to_owned());
                }
            }
            if let Some(variant) = variant {
                out.push((variant, keys));
            }
        }
        out
    }

    fn rule(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Option<Rule> {
        let fields = self.object(value, path, &["id", "description", "conditions", "serve"])?;
        let id = self.optional_string(&fields, path, "id");
        self.optional_string(&fields, path, "description");
        let conditions = self
            .required(&fields, path, "conditions")
            .map(|c| self.conditions(c, &path.field("conditions")));
        let serve = self
            .required(&fields, path, "serve")
            .and_then(|s| self.serve(s, &path.field("serve"), flag, names));
        Some(Rule {
            id,
            conditions: conditions?,
            serve: serve?,
        })
    }

    fn serve(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Option<Serve> {
        let fields = self.object(value, path, &["variant", "rollout"])?;
        match (fields.get("variant"), fields.get("rollout")) {
            (Some(variant), None) => self
                .variant_ref(variant, &path.field("variant"), flag, names)
                .map(Serve::Variant),
            (None, Some(rollout)) => self.rollout(rollout, &path.field("rollout"), flag, names),
            (Some(_), Some(_)) => {
                self.error(
                    Kind::InvalidValue,
                    path,
                    "a serve has either `variant` or `rollout`, not both",
                );
                None
            }
            (None, None) => {
                self.error(
                    Kind::MissingField,
                    path,
                    "a serve needs `variant` or `rollout`",
                );
                None
            }
        }
    }

    fn rollout(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Option<Serve> {
        let fields = self.object(value, path, &["by", "split", "schedule"])?;
        let by = self
            .optional_string(&fields, path, "by")
            .unwrap_or_else(|| "key".to_owned());
        let split = self
            .required(&fields, path, "split")
            .and_then(|list| self.split(list, path, flag, names));
        let schedule = match fields.get("schedule") {
            Some(steps) => self.schedule(steps, &path.field("schedule"), flag, names),
            None => Some(Vec::new()),
        };
        Some(Serve::Rollout {
            by,
            split: split?,
            schedule: schedule?,
        })
    }

    /// The `split` of `owner` (a rollout or one of its schedule steps); errors about the
    /// sum of the weights name `owner`, as for a rollout without a schedule.
    fn split(
        &mut self,
        list: &'d Json<'d>,
        owner: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Option<Split> {
        let split_path = owner.field("split");
        let items = self.array(list, &split_path);
        if items.is_empty() && matches!(list, Json::Array(_)) {
            self.error(
                Kind::Weights,
                &split_path,
                "a split needs at least one variant",
            );
            return None;
        }
        let mut split = Vec::with_capacity(items.len());
        let mut total = 0u32;
        let mut complete = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = split_path.index(i);
            let Some(entry) = self.object(item, &item_path, &["variant", "weight"]) else {
                complete = false;
                continue;
            };
            let variant = self
                .required(&entry, &item_path, "variant")
                .and_then(|v| self.variant_ref(v, &item_path.field("variant"), flag, names));
            let weight = self
                .required(&entry, &item_path, "weight")
                .and_then(|w| self.percent_units(w, &item_path.field("weight")));
            // An unknown variant is its own error; its weight still counts in the sum.
            match (variant, weight) {
                (Some(variant), Some(weight)) => split.push((variant, weight)),
                (None, Some(weight)) => total += weight,
                _ => complete = false,
            }
        }
        if !complete {
            return None;
        }
        total += split.iter().map(|(_, w)| w).sum::<u32>();
        if total != TOTAL_UNITS {
            let percent = f64::from(total) / f64::from(UNITS_PER_PERCENT);
            self.error(
                Kind::Weights,
                owner,
                format!("weights sum to {percent}, not 100"),
            );
            return None;
        }
        (split.len() == items.len()).then_some(split)
    }

    /// A rollout's `schedule`: steps whose instants strictly increase, each with a split.
    fn schedule(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Option<Vec<Step>> {
        let items = self.array(value, path);
        let mut steps = Vec::with_capacity(items.len());
        let mut complete = matches!(value, Json::Array(_));
        let mut previous: Option<i128> = None;
        for (i, item) in items.iter().enumerate() {
            let step_path = path.index(i);
            let Some(entry) = self.object(item, &step_path, &["at", "split"]) else {
                complete = false;
                continue;
            };
            let at_path = step_path.field("at");
            let at = self
                .required(&entry, &step_path, "at")
                .and_then(|at| self.string(at, &at_path))
                .and_then(|text| {
                    let at = crate::plan::time::parse_rfc3339(text).map(|at| (at, text));
                    if at.is_none() {
                        self.error(
                            Kind::BadTimestamp,
                            &at_path,
                            format!(
                                "`{text}` is not an RFC 3339 timestamp \
                                 (YYYY-MM-DDTHH:MM:SS[.fraction] with Z or ±HH:MM)"
                            ),
                        );
                    }
                    at
                });
            if let (Some((at, _)), Some(before)) = (at, previous) {
                if at <= before {
                    self.error(
                        Kind::InvalidValue,
                        &at_path,
                        format!(
                            "step {i} is not after step {}: steps must be in increasing time order",
                            i - 1
                        ),
                    );
                    complete = false;
                }
            }
            if let Some((at, _)) = at {
                previous = Some(at);
            }
            let split = self
                .required(&entry, &step_path, "split")
                .and_then(|list| self.split(list, &step_path, flag, names));
            match (at, split) {
                (Some((at, at_text)), Some(split)) => steps.push(Step {
                    at,
                    at_text: at_text.to_owned(),
                    split,
                }),
                _ => complete = false,
            }
        }
        complete.then_some(steps)
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
        if !matches!(value, Json::Object(_)) {
            self.wrong_type(path, "an object", value);
            return None;
        }
        if value.get("in_segment").is_some() {
            let fields = self.object(value, path, &["in_segment"])?;
            let name = fields.get("in_segment")?;
            return self
                .segment_ref(name, &path.field("in_segment"))
                .map(Condition::InSegment);
        }
        if value.get("not_in_segment").is_some() {
            let fields = self.object(value, path, &["not_in_segment"])?;
            let name = fields.get("not_in_segment")?;
            return self
                .segment_ref(name, &path.field("not_in_segment"))
                .map(Condition::NotInSegment);
        }
        if value.get("in_bucket").is_some() {
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

/// The nesting depth of a tree, without recursion.
fn json_depth(json: &Json) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(json, 1usize)];
    while let Some((node, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match node {
            Json::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Json::Object(members) => stack.extend(members.iter().map(|(_, v)| (v, depth + 1))),
            _ => {}
        }
    }
    deepest
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
