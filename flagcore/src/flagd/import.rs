//! `flagcore import flagd`: flagd flags rewritten as a native snapshot, for the flags the
//! native format can express (docs/format.md §9.7).
//!
//! An `if` chain becomes rules in order (a nested chain's conditions joined to its
//! branch's), its conditions clauses (`or` splits a rule in two, `and` joins clauses), and
//! `fractional` a rollout with `"bucketing": "flagd"`, so users keep their buckets. A flag
//! whose targeting computes its variant (`var`, `cat` as a result), compares against the
//! clock, or uses an operation without a native clause is listed with why, not converted.

use std::collections::HashMap;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::{parse_all, Merged};
use crate::document::json::{Json, JsonArena, Number};
use crate::document::logic::{Targeting, VarPath};
use crate::error::{InvalidSnapshot, ValidationError, ValidationErrorKind as Kind};
use crate::limits::Limits;
use crate::primitives::semver::Version;

/// flagd documents rewritten as one native snapshot.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The native snapshot (docs/format.md §2) of every flag that converts, as
    /// pretty-printed JSON.
    pub snapshot: String,
    /// The flags that do not convert: the index of the document that defines each (in the
    /// order given) and one error, with the flag's path and why.
    pub skipped: Vec<(usize, ValidationError)>,
}

/// Rewrites flagd documents (merged as [`Store::update_merged`](crate::Store::update_merged)
/// merges them) as a native snapshot of the given `version`.
///
/// ```
/// let flagd = br#"{"flags": {"welcome": {"state": "ENABLED",
///   "variants": {"on": true, "off": false}, "defaultVariant": "off",
///   "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on"]}}}}"#;
/// let conversion = flagcore::flagd::to_native(&[flagd], 1)?;
/// assert!(conversion.skipped.is_empty());
/// let native = flagcore::Store::from_bytes(conversion.snapshot.as_bytes())?;
/// let attrs = [("email", "ana@example.com".into())];
/// let ctx = flagcore::EvaluationContext::new("ana").with_attributes(&attrs);
/// assert!(native.bool("welcome", &ctx, false));
/// # Ok::<(), flagcore::Error>(())
/// ```
pub fn to_native(documents: &[&[u8]], version: u64) -> Result<Conversion, InvalidSnapshot> {
    let limits = Limits::default();
    let arenas: Vec<JsonArena> = documents.iter().map(|_| JsonArena::new()).collect();
    let trees = parse_all(documents, &arenas, &limits)?;
    let merged = Merged::new(&trees)?;
    let mut flags = Vec::with_capacity(merged.order.len());
    let mut skipped = Vec::new();
    for &name in &merged.order {
        let (file, parsed, problems) = merged.flag(name, false);
        let definition = merged.definitions[name].1;
        let path = format!("flags.{name}");
        let broken = parsed
            .flagd
            .as_ref()
            .is_some_and(|f| matches!(f.targeting, Targeting::Broken(_)));
        if broken {
            skipped.extend(problems.into_iter().take(1).map(|e| (file, e)));
            continue;
        }
        let names: Vec<&str> = parsed.variants.iter().map(|(n, _)| n.as_str()).collect();
        let default = parsed
            .flagd
            .as_ref()
            .and_then(|f| f.default_variant)
            .map(|v| names[v as usize]);
        let mut converter = Converter {
            flag: name,
            names: &names,
            default,
            evaluators: &merged.evaluators,
            salt: None,
            expanding: Vec::new(),
        };
        let targeting = match definition.get("targeting") {
            Some(Json::Object(members)) if !members.is_empty() => {
                converter.chain(definition.get("targeting").unwrap_or(&Json::Null))
            }
            _ => Ok(Chain {
                rules: Vec::new(),
                fallthrough: converter.null_serve(),
            }),
        };
        let chain = match targeting {
            Ok(chain) => chain,
            Err(message) => {
                skipped.push((
                    file,
                    ValidationError::new(Kind::Unsupported, &format!("{path}.targeting"), message),
                ));
                continue;
            }
        };
        let mut out = vec![
            (
                "variants".to_owned(),
                Out::Object(
                    parsed
                        .variants
                        .iter()
                        .map(|(n, v)| (n.clone(), Out::Value(v.clone())))
                        .collect(),
                ),
            ),
            (
                "enabled".to_owned(),
                Out::Value(Value::Bool(parsed.enabled)),
            ),
            // flagd serves the caller's default for a disabled flag.
            ("off_variant".to_owned(), Out::Value(Value::Null)),
        ];
        if let Some(salt) = converter.salt.filter(|salt| salt != name) {
            out.push(("salt".to_owned(), Out::Value(Value::String(salt))));
        }
        if !parsed.metadata.is_empty() {
            let entries = parsed
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), Out::Value(v.to_json())))
                .collect();
            out.push(("metadata".to_owned(), Out::Object(entries)));
        }
        if !chain.rules.is_empty() {
            let rules = chain
                .rules
                .into_iter()
                .map(|rule| {
                    Out::Object(vec![
                        (
                            "conditions".to_owned(),
                            Out::Value(Value::Array(rule.conditions)),
                        ),
                        ("serve".to_owned(), Out::Value(rule.serve)),
                    ])
                })
                .collect();
            out.push(("rules".to_owned(), Out::Array(rules)));
        }
        out.push(("fallthrough".to_owned(), Out::Value(chain.fallthrough)));
        flags.push((name.to_owned(), Out::Object(out)));
    }
    let snapshot = Out::Object(vec![
        ("version".to_owned(), Out::Value(Value::from(version))),
        ("flags".to_owned(), Out::Object(flags)),
    ]);
    let mut text = serde_json::to_string_pretty(&snapshot).unwrap_or_default();
    text.push('\n');
    Ok(Conversion {
        snapshot: text,
        skipped,
    })
}

/// JSON in the order it was built: `serde_json`'s map would sort the keys.
enum Out {
    Value(Value),
    Object(Vec<(String, Out)>),
    Array(Vec<Out>),
}

impl Serialize for Out {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Value(value) => value.serialize(serializer),
            Out::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Out::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

/// Native rules in order and the fallthrough: what a flagd `targeting` became.
struct Chain {
    rules: Vec<Rule>,
    fallthrough: Value,
}

struct Rule {
    conditions: Vec<Value>,
    serve: Value,
}

/// Conditions in disjunctive form: any of these lists of clauses, each list all holding.
type Alternatives = Vec<Vec<Value>>;

/// `or` of `and`s multiplies out; past this many alternatives a condition is not
/// converted, rather than written as hundreds of rules.
const MAX_ALTERNATIVES: usize = 64;

struct Converter<'a, 'j, 'd> {
    flag: &'a str,
    names: &'a [&'a str],
    default: Option<&'a str>,
    evaluators: &'a HashMap<&'j str, &'j Json<'d>>,
    /// The salt the flag's rollouts need, once a `fractional` has set it.
    salt: Option<String>,
    expanding: Vec<&'a str>,
}

type Converted<T> = Result<T, String>;

impl<'a, 'j: 'a, 'd> Converter<'a, 'j, 'd> {
    /// What a `null` result serves: the default variant, or the caller's default.
    fn null_serve(&self) -> Value {
        serde_json::json!({ "variant": self.default })
    }

    /// An expression with `$ref`s resolved, and the function to call with it.
    fn resolve<T>(
        &mut self,
        json: &'j Json<'d>,
        then: impl FnOnce(&mut Self, &'j Json<'d>) -> Converted<T>,
    ) -> Converted<T> {
        if let Json::Object(members) = json {
            if let [(op, Json::String(name))] = &members[..] {
                if op == "$ref" {
                    let name: &'j str = name;
                    let definition = *self
                        .evaluators
                        .get(name)
                        .ok_or_else(|| format!("`$ref` to undefined evaluator `{name}`"))?;
                    if self.expanding.contains(&name) {
                        return Err(format!("evaluator `{name}` refers to itself"));
                    }
                    self.expanding.push(name);
                    let result = self.resolve(definition, then);
                    self.expanding.pop();
                    return result;
                }
            }
        }
        then(self, json)
    }

    /// A targeting expression whose result names the variant.
    fn chain(&mut self, json: &'j Json<'d>) -> Converted<Chain> {
        self.resolve(json, |this, json| match operation(json) {
            Some(("if" | "?:", args)) => this.if_chain(args),
            Some(("fractional", args)) => Ok(Chain {
                rules: Vec::new(),
                fallthrough: this.fractional(args)?,
            }),
            Some((op, _)) => Err(format!(
                "the variant is computed by `{op}`; the native format serves a named variant, a rollout or the caller's default"
            )),
            None => Ok(Chain {
                rules: Vec::new(),
                fallthrough: this.literal_serve(json)?,
            }),
        })
    }

    fn if_chain(&mut self, args: &'j [Json<'d>]) -> Converted<Chain> {
        let mut rules = Vec::new();
        let mut pairs = args.chunks_exact(2);
        for pair in &mut pairs {
            let alternatives = self.condition(&pair[0])?;
            let branch = self.chain(&pair[1])?;
            for alternative in alternatives {
                for rule in &branch.rules {
                    let mut conditions = alternative.clone();
                    conditions.extend(rule.conditions.iter().cloned());
                    rules.push(Rule {
                        conditions,
                        serve: rule.serve.clone(),
                    });
                }
                rules.push(Rule {
                    conditions: alternative,
                    serve: branch.fallthrough.clone(),
                });
            }
        }
        let fallthrough = match pairs.remainder() {
            [otherwise] => {
                let rest = self.chain(otherwise)?;
                rules.extend(rest.rules);
                rest.fallthrough
            }
            _ => self.null_serve(),
        };
        Ok(Chain { rules, fallthrough })
    }

    /// A literal result: the variant of that name (`null`: the default variant).
    fn literal_serve(&self, json: &Json<'_>) -> Converted<Value> {
        let name = match json {
            Json::Null => return Ok(self.null_serve()),
            Json::String(s) => s.to_string(),
            Json::Bool(b) => b.to_string(),
            Json::Number(Number::Int(i)) => i.to_string(),
            other => {
                return Err(format!(
                    "a branch returns {}, not a variant name",
                    other.type_name()
                ))
            }
        };
        if name.is_empty() && self.default.is_none() {
            return Ok(self.null_serve());
        }
        if self.names.contains(&name.as_str()) {
            Ok(serde_json::json!({ "variant": name }))
        } else {
            Err(format!(
                "a branch returns `{name}`, which is not a variant of flag `{}` (flagd answers GENERAL)",
                self.flag
            ))
        }
    }

    /// flagd's `fractional` as a rollout with flagd bucketing.
    fn fractional(&mut self, args: &'j [Json<'d>]) -> Converted<Value> {
        let (salt, by, buckets) = match args.split_first() {
            Some((Json::Array(_), _)) | None => (self.flag.to_owned(), "key".to_owned(), args),
            Some((key, rest)) => {
                let (salt, by) = self.bucketing_key(key)?;
                (salt, by, rest)
            }
        };
        match &self.salt {
            Some(existing) if *existing != salt => {
                return Err(
                    "two `fractional`s bucket with different keys; a flag has one salt".into(),
                )
            }
            _ => self.salt = Some(salt),
        }
        let mut pairs: Vec<(&'j Json<'d>, Option<&'j Json<'d>>)> = Vec::new();
        if args.first().is_some_and(|a| !matches!(a, Json::Array(_))) && buckets.len() == 1 {
            // flagd reads a keyed `fractional` with one bucket argument as a flat list.
            let Json::Array(flat) = &buckets[0] else {
                return Err("a `fractional` bucket is not a literal array".into());
            };
            for pair in flat.chunks(2) {
                match pair {
                    [name, weight] => pairs.push((name, Some(weight))),
                    _ => return Err("a `fractional` bucket has no weight".into()),
                }
            }
        } else {
            for bucket in buckets {
                match bucket {
                    Json::Array(items) => match &items[..] {
                        [] => {}
                        [name] => pairs.push((name, None)),
                        [name, weight, ..] => pairs.push((name, Some(weight))),
                    },
                    _ => return Err("a `fractional` bucket is not a literal array".into()),
                }
            }
        }
        let mut split = Vec::with_capacity(pairs.len());
        let mut total: u64 = 0;
        for (name, weight) in pairs {
            if matches!(name, Json::Object(_) | Json::Array(_)) {
                return Err("a `fractional` bucket's variant is computed; the native split names its variants".into());
            }
            let variant = match self.literal_serve(name)? {
                Value::Object(mut serve) => serve.remove("variant").unwrap_or_default(),
                _ => Value::Null,
            };
            if variant.is_null() {
                return Err("a `fractional` bucket serves no variant".into());
            }
            let weight = match weight {
                None => 1,
                Some(Json::Number(Number::Int(w))) => (*w).clamp(0, i64::from(i32::MAX)) as u64,
                Some(Json::Number(Number::Float(w))) => w.max(0.0).min(f64::from(i32::MAX)) as u64,
                Some(_) => return Err("a `fractional` weight is not a literal number".into()),
            };
            total += weight;
            split.push(serde_json::json!({ "variant": variant, "weight": weight }));
        }
        if total == 0 || total > i32::MAX as u64 {
            return Err(format!(
                "`fractional` weights sum to {total}, which flagd cannot bucket"
            ));
        }
        let mut rollout = serde_json::Map::new();
        if by != "key" {
            rollout.insert("by".into(), Value::String(by));
        }
        rollout.insert("bucketing".into(), Value::String("flagd".into()));
        rollout.insert("split".into(), Value::Array(split));
        Ok(serde_json::json!({ "rollout": rollout }))
    }

    /// The salt and attribute of a `fractional` bucketing key: `{"var": X}`, or `cat` of a
    /// literal (or the flag key) and `{"var": X}`.
    fn bucketing_key(&mut self, key: &'j Json<'d>) -> Converted<(String, String)> {
        if let Some(attribute) = var(key) {
            return Ok((String::new(), attribute_name(attribute)?));
        }
        if let Some(("cat", [prefix, value])) = operation(key) {
            let salt = match (prefix, var(prefix)) {
                (Json::String(s), _) => s.to_string(),
                (_, Some("$flagd.flagKey")) => self.flag.to_owned(),
                _ => return Err(
                    "a `fractional` key is `cat` of something other than a literal or the flag key"
                        .into(),
                ),
            };
            if let Some(attribute) = var(value) {
                return Ok((salt, attribute_name(attribute)?));
            }
        }
        Err("a `fractional` key other than `var`, or `cat` of a prefix and a `var`".into())
    }

    /// A condition as alternatives of clause lists.
    fn condition(&mut self, json: &'j Json<'d>) -> Converted<Alternatives> {
        self.resolve(json, |this, json| {
            let Some((op, args)) = operation(json) else {
                return match json {
                    Json::Bool(true) => Ok(vec![Vec::new()]),
                    Json::Bool(false) | Json::Null => Ok(Vec::new()),
                    other => Err(format!("{} as a condition", other.type_name())),
                };
            };
            match op {
                "and" => {
                    let mut product: Alternatives = vec![Vec::new()];
                    for arg in args {
                        let alternatives = this.condition(arg)?;
                        let mut next = Vec::new();
                        for left in &product {
                            for right in &alternatives {
                                let mut both = left.clone();
                                both.extend(right.iter().cloned());
                                next.push(both);
                            }
                        }
                        if next.len() > MAX_ALTERNATIVES {
                            return Err(format!("the condition expands to more than {MAX_ALTERNATIVES} rules"));
                        }
                        product = next;
                    }
                    Ok(product)
                }
                "or" => {
                    let mut all = Vec::new();
                    for arg in args {
                        all.extend(this.condition(arg)?);
                    }
                    if all.len() > MAX_ALTERNATIVES {
                        return Err(format!("the condition expands to more than {MAX_ALTERNATIVES} rules"));
                    }
                    Ok(all)
                }
                "!" => match args.first().and_then(operation) {
                    Some(("==" | "===", inner)) => clause(inner, "neq").map(|c| vec![vec![c]]),
                    Some(("!=" | "!==", inner)) => clause(inner, "eq").map(|c| vec![vec![c]]),
                    Some(("in", inner)) => list_clause(inner, "not_in").map(|c| vec![vec![c]]),
                    _ => Err("`!` of something other than `==`, `!=` or `in` of a list".into()),
                },
                "==" | "===" => clause(args, "eq").map(|c| vec![vec![c]]),
                "!=" | "!==" => clause(args, "neq").map(|c| vec![vec![c]]),
                "<" | "<=" | ">" | ">=" => comparison(op, args),
                "in" => match args {
                    [_, Json::Array(_)] => list_clause(args, "in").map(|c| vec![vec![c]]),
                    [Json::String(needle), haystack] => {
                        let attribute = attribute_name(var(haystack).ok_or("`in` of a string and something other than `var`")?)?;
                        Ok(vec![vec![serde_json::json!({
                            "attribute": attribute, "op": "contains", "values": [needle.as_ref()]})]])
                    }
                    _ => Err("`in` of something other than a list or a `var` holding a string".into()),
                },
                "starts_with" | "ends_with" => match args {
                    [subject, Json::String(affix)] => {
                        let attribute = attribute_name(var(subject).ok_or("`starts_with`/`ends_with` of something other than `var`")?)?;
                        Ok(vec![vec![serde_json::json!({
                            "attribute": attribute, "op": op, "values": [affix.as_ref()]})]])
                    }
                    _ => Err(format!("`{op}` with arguments other than a `var` and a string")),
                },
                "sem_ver" => sem_ver(args),
                other => Err(format!("`{other}` has no native condition")),
            }
        })
    }
}

/// The operator and arguments of a one-key object (one argument read as a list of one).
fn operation<'j, 'd>(json: &'j Json<'d>) -> Option<(&'j str, &'j [Json<'d>])> {
    let Json::Object(members) = json else {
        return None;
    };
    let [(op, args)] = &members[..] else {
        return None;
    };
    let args = match args {
        Json::Array(items) => &items[..],
        single => std::slice::from_ref(single),
    };
    Some((op, args))
}

/// The path of a `var` with a literal path.
fn var<'j>(json: &'j Json<'_>) -> Option<&'j str> {
    match operation(json)? {
        ("var", [Json::String(path), ..]) => Some(path),
        _ => None,
    }
}

/// The native attribute a `var` path reads: `targetingKey` is the context's key.
fn attribute_name(path: &str) -> Converted<String> {
    match VarPath::special(path) {
        None => Ok(path.into()),
        Some(VarPath::TargetingKey) => Ok("key".into()),
        Some(_) => Err(format!("`var` of `{path}` has no native attribute")),
    }
}

fn literal(json: &Json<'_>) -> Option<Value> {
    match json {
        Json::String(s) => Some(Value::String(s.to_string())),
        Json::Bool(b) => Some(Value::Bool(*b)),
        Json::Number(Number::Int(i)) => Some(Value::from(*i)),
        Json::Number(Number::Float(f)) => Some(Value::from(*f)),
        _ => None,
    }
}

/// `==` / `!=` of a `var` and a literal, either way round.
fn clause(args: &[Json<'_>], op: &str) -> Converted<Value> {
    let (path, value) = match args {
        [a, b] => match (var(a), var(b)) {
            (Some(path), None) => (path, literal(b)),
            (None, Some(path)) => (path, literal(a)),
            _ => (
                None.ok_or("a comparison of two `var`s or of no `var`")?,
                None,
            ),
        },
        _ => return Err("a comparison without two arguments".into()),
    };
    let value = value.ok_or("a comparison with something other than a literal")?;
    Ok(serde_json::json!({ "attribute": attribute_name(path)?, "op": op, "values": [value] }))
}

/// `in` of a `var` and a list of literals.
fn list_clause(args: &[Json<'_>], op: &str) -> Converted<Value> {
    let [subject, Json::Array(items)] = args else {
        return Err("`in` of something other than a `var` and a list".into());
    };
    let path = var(subject).ok_or("`in` of something other than a `var` and a list")?;
    let values: Option<Vec<Value>> = items.iter().map(literal).collect();
    let values = values.ok_or("`in` of a list with something other than literals")?;
    Ok(serde_json::json!({ "attribute": attribute_name(path)?, "op": op, "values": values }))
}

/// `<`, `<=`, `>`, `>=` of a `var` and a number, either way round; three arguments bound
/// the middle one on both sides.
fn comparison(op: &str, args: &[Json<'_>]) -> Converted<Alternatives> {
    let native = |op: &str, flipped: bool| match (op, flipped) {
        ("<", false) | (">", true) => "lt",
        ("<=", false) | (">=", true) => "lte",
        (">", false) | ("<", true) => "gt",
        _ => "gte",
    };
    let number = |json: &Json<'_>| match json {
        Json::Number(n) => Some(serde_json::json!(match n {
            Number::Int(i) => Value::from(*i),
            other => Value::from(other.as_f64()),
        })),
        _ => None,
    };
    let one = |a: &Json<'_>, b: &Json<'_>| -> Converted<Value> {
        if var(a) == Some("$flagd.timestamp") || var(b) == Some("$flagd.timestamp") {
            return Err("a comparison with `$flagd.timestamp`, the evaluation time, which no native attribute holds".into());
        }
        let (path, bound, flipped) = match (var(a), var(b)) {
            (Some(path), None) => (path, number(b), false),
            (None, Some(path)) => (path, number(a), true),
            _ => {
                return Err(format!(
                    "`{op}` of something other than a `var` and a number"
                ))
            }
        };
        let bound = bound.ok_or(format!(
            "`{op}` of a `var` and something other than a number"
        ))?;
        Ok(
            serde_json::json!({ "attribute": attribute_name(path)?, "op": native(op, flipped), "values": [bound] }),
        )
    };
    match args {
        [a, b] => Ok(vec![vec![one(a, b)?]]),
        [a, b, c] if matches!(op, "<" | "<=") => Ok(vec![vec![one(a, b)?, one(b, c)?]]),
        _ => Err(format!("`{op}` with {} arguments", args.len())),
    }
}

/// `sem_ver` of a `var`, an operator and a version: `~` and `^` become a range.
fn sem_ver(args: &[Json<'_>]) -> Converted<Alternatives> {
    let [subject, Json::String(op), Json::String(target)] = args else {
        return Err(
            "`sem_ver` with arguments other than a `var`, an operator and a version".into(),
        );
    };
    let attribute = attribute_name(var(subject).ok_or("`sem_ver` of something other than `var`")?)?;
    let version =
        Version::parse_flagd(target).ok_or(format!("`{target}` is not a version flagd reads"))?;
    let text = version.to_string();
    let (major, minor) = version.major_minor();
    let clause =
        |op: &str, v: &str| serde_json::json!({ "attribute": attribute, "op": op, "values": [v] });
    Ok(match op.as_ref() {
        "=" => vec![vec![clause("semver_eq", &text)]],
        "!=" => vec![vec![clause("semver_lt", &text)], vec![clause("semver_gt", &text)]],
        "<" => vec![vec![clause("semver_lt", &text)]],
        "<=" => vec![vec![clause("semver_lte", &text)]],
        ">" => vec![vec![clause("semver_gt", &text)]],
        ">=" => vec![vec![clause("semver_gte", &text)]],
        // `-0` is the lowest pre-release, so the range holds every pre-release too.
        "~" => {
            let next = minor.checked_add(1).ok_or("a minor version without a next one")?;
            vec![vec![
                clause("semver_gte", &format!("{major}.{minor}.0-0")),
                clause("semver_lt", &format!("{major}.{next}.0-0")),
            ]]
        }
        "^" => {
            let next = major.checked_add(1).ok_or("a major version without a next one")?;
            vec![vec![
                clause("semver_gte", &format!("{major}.0.0-0")),
                clause("semver_lt", &format!("{next}.0.0-0")),
            ]]
        }
        other => return Err(format!("`sem_ver` operator `{other}` is not one flagd defines (it answers with the default variant)")),
    })
}
