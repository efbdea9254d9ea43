//! Clause validation: the operator by name, and its values parsed for that operator.

use regex::RegexBuilder;

use super::{Path, Validator};
use crate::document::json::{Json, Number};
use crate::document::{Condition, Operands, Operator, Scalar};
use crate::error::ValidationErrorKind as Kind;
use crate::primitives::semver::Version;
use crate::primitives::time::parse_rfc3339;

impl<'d> Validator<'d> {
    pub(super) fn clause(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Option<Condition> {
        let fields = self.object(value, path, &["attribute", "op", "values"])?;
        let attribute = self
            .required(&fields, path, "attribute")
            .and_then(|a| self.string(a, &path.field("attribute")));
        let op_path = path.field("op");
        let op = self
            .required(&fields, path, "op")
            .and_then(|o| self.string(o, &op_path))
            .and_then(|name| {
                let op = Operator::from_name(name);
                if op.is_none() {
                    let known: Vec<&str> = Operator::ALL.iter().map(|o| o.name()).collect();
                    self.error(
                        Kind::UnknownOperator,
                        &op_path,
                        format!(
                            "unknown operator `{name}`; expected one of: {}",
                            known.join(", ")
                        ),
                    );
                }
                op
            });
        let (attribute, op) = (attribute?, op?);
        let values_path = path.field("values");
        let operands = if op == Operator::Exists {
            // `exists` takes no values; an empty list says the same.
            let has_values = match fields.get("values") {
                None => false,
                Some(Json::Array(items)) => !items.is_empty(),
                Some(_) => true,
            };
            if has_values {
                self.error(Kind::InvalidValue, &values_path, "`exists` takes no values");
                return None;
            }
            Operands::None
        } else {
            let list = self.required(&fields, path, "values")?;
            if !matches!(list, Json::Array(_)) {
                self.wrong_type(&values_path, "an array", list);
                return None;
            }
            let items = self.array(list, &values_path);
            self.operands(op, items, &values_path)?
        };
        // The values are written into a buffer kept from clause to clause, so the text is
        // allocated once at its exact size (compiling keeps it without reallocating), and
        // pushed piece by piece: `format!` was a measurable part of loading thousands.
        let mut values_text = std::mem::take(&mut self.clause_values);
        values_text.clear();
        if let Some(values) = fields.get("values") {
            values_text.push(b' ');
            // Writing a tree into a vector cannot fail; only the space stays if it did.
            if serde_json::to_writer(&mut values_text, values).is_err() {
                values_text.truncate(1);
            }
        }
        let values = std::str::from_utf8(&values_text).unwrap_or_default();
        let mut text = String::with_capacity(attribute.len() + 1 + op.name().len() + values.len());
        text.push_str(attribute);
        text.push(' ');
        text.push_str(op.name());
        text.push_str(values);
        self.clause_values = values_text;
        Some(Condition::Clause {
            attribute: attribute.to_owned(),
            op,
            operands,
            text,
        })
    }

    fn operands(
        &mut self,
        op: Operator,
        items: &'d [Json<'d>],
        path: &Path<'_>,
    ) -> Option<Operands> {
        let errors_before = self.errors.len();
        let operands = match op {
            Operator::Eq | Operator::Neq | Operator::In | Operator::NotIn => {
                Operands::Scalars(self.each(items, path, |v, item, p| {
                    v.scalar(item, p, "a string, number or boolean")
                }))
            }
            Operator::StartsWith | Operator::EndsWith | Operator::Contains => {
                Operands::Strings(self.each(items, path, |v, item, p| {
                    v.string(item, p).map(str::to_owned)
                }))
            }
            Operator::Matches => Operands::Regexes(self.each(items, path, |v, item, p| {
                let pattern = v.string(item, p)?;
                let compiled = RegexBuilder::new(pattern)
                    .size_limit(v.limits.max_regex_bytes)
                    .build();
                match compiled {
                    Ok(regex) => Some(regex),
                    Err(e) => {
                        let message = format!("invalid regex `{pattern}`: {e}");
                        v.error(Kind::BadRegex, p, message);
                        None
                    }
                }
            })),
            Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte => {
                Operands::Numbers(self.each(items, path, |v, item, p| match item {
                    Json::Number(_) => v.scalar(item, p, "a number"),
                    other => {
                        v.wrong_type(p, "a number", other);
                        None
                    }
                }))
            }
            Operator::SemverEq
            | Operator::SemverLt
            | Operator::SemverLte
            | Operator::SemverGt
            | Operator::SemverGte => Operands::Versions(self.each(items, path, |v, item, p| {
                let text = v.string(item, p)?;
                let version = Version::parse(text).map(Version::to_owned_version);
                if version.is_none() {
                    v.error(
                        Kind::BadSemver,
                        p,
                        format!("`{text}` is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH)"),
                    );
                }
                version
            })),
            Operator::Before | Operator::After => {
                Operands::Instants(self.each(items, path, |v, item, p| match item {
                    Json::String(text) => {
                        let instant = parse_rfc3339(text);
                        if instant.is_none() {
                            v.error(
                                Kind::BadTimestamp,
                                p,
                                format!("`{text}` is not an RFC 3339 timestamp"),
                            );
                        }
                        instant
                    }
                    Json::Number(n) => crate::primitives::time::millis_to_nanos(n.as_f64()),
                    other => {
                        v.wrong_type(p, "an RFC 3339 timestamp or Unix milliseconds", other);
                        None
                    }
                }))
            }
            Operator::Exists => Operands::None,
        };
        (self.errors.len() == errors_before).then_some(operands)
    }

    /// Each item parsed, in a vector of exactly their number, so compiling keeps it
    /// without reallocating (when none failed, the only case that is compiled).
    fn each<T>(
        &mut self,
        items: &'d [Json<'d>],
        path: &Path<'_>,
        mut parse: impl FnMut(&mut Self, &'d Json<'d>, &Path<'_>) -> Option<T>,
    ) -> Vec<T> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(parsed) = parse(self, item, &path.index(i)) {
                out.push(parsed);
            }
        }
        out
    }

    fn scalar(&mut self, item: &'d Json<'d>, path: &Path<'_>, expected: &str) -> Option<Scalar> {
        match item {
            Json::String(s) => Some(Scalar::Str(s.to_string())),
            Json::Bool(b) => Some(Scalar::Bool(*b)),
            Json::Number(Number::Int(i)) => Some(Scalar::Int(*i)),
            Json::Number(n) => Some(Scalar::Float(n.as_f64())),
            other => {
                self.wrong_type(path, expected, other);
                None
            }
        }
    }
}
