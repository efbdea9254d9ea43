//! Clause validation: the operator by name, and its values parsed for that operator.

use std::fmt::Write;

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
        let values = &mut self.clause_values;
        values.clear();
        if let Some(list) = fields.get("values") {
            values.push(' ');
            push_json(values, list);
        }
        let mut text = String::with_capacity(attribute.len() + 1 + op.name().len() + values.len());
        text.push_str(attribute);
        text.push(' ');
        text.push_str(op.name());
        text.push_str(values);
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

/// Appends `value` as compact JSON text exactly as serde_json writes it: the arrays, strings,
/// integers and booleans of a valid clause by hand (serde_json's serializer was a tenth of
/// validating a clause), anything else through serde_json.
fn push_json(out: &mut String, value: &Json) {
    match value {
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json(out, item);
            }
            out.push(']');
        }
        Json::String(s) => push_json_string(out, s),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(Number::Int(i)) => {
            let _ = write!(out, "{i}");
        }
        Json::Number(Number::BigUint(u)) => {
            let _ = write!(out, "{u}");
        }
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

/// Appends `s` as a JSON string with serde_json's escapes: `\"`, `\\`, the short forms of
/// backspace, form feed, newline, carriage return and tab, `\u00xx` for other control
/// characters, everything else as it is.
fn push_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices end on character boundaries.
        out.push_str(s.get(plain..i).unwrap_or_default());
        plain = i + 1;
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(s.get(plain..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::json::JsonArena;

    #[test]
    fn clause_values_are_written_as_serde_json_writes_them() {
        let control: String = (0u8..0x20).map(char::from).collect();
        let text = serde_json::to_string(&serde_json::json!([
            control,
            "plain",
            "",
            "quote \" backslash \\ slash / del \u{7f} caf\u{e9} \u{1F600}",
            "\u{e9}\n",
            0,
            -12,
            9223372036854775807i64,
            18446744073709551615u64,
            1.5,
            -0.0,
            1e300,
            true,
            false,
            null,
            [],
            [["a"], {"k": "v", "e": "\t"}],
        ]))
        .unwrap();
        let arena = JsonArena::new();
        let json = Json::parse(text.as_bytes(), &arena).unwrap();
        let mut written = String::new();
        push_json(&mut written, &json);
        assert_eq!(written, serde_json::to_string(&json).unwrap());
    }
}
