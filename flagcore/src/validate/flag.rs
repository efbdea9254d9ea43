//! A flag: its variants and their one value type, the references to them, metadata,
//! prerequisites, targets, rules and guardrails.

use std::collections::HashMap;

use super::{Path, Validator};
use crate::document::json::{Json, Number};
use crate::document::{Flag, MetadataValue, Rule, ValueKind};
use crate::error::ValidationErrorKind as Kind;

impl<'d> Validator<'d> {
    pub(super) fn flag(
        &mut self,
        name: &str,
        value: &'d Json<'d>,
        path: &Path<'_>,
    ) -> Option<Flag> {
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
                "exposures",
            ],
        )?;
        // The names borrow from the document, in a vector kept from flag to flag.
        let mut names = std::mem::take(&mut self.variant_names);
        names.clear();
        let (variants, kind) = match self.required(&fields, path, "variants") {
            Some(v) => self.variants(v, &path.field("variants"), &mut names),
            None => (Vec::new(), None),
        };
        let enabled = self
            .required(&fields, path, "enabled")
            .and_then(|v| match v {
                Json::Bool(b) => Some(*b),
                other => {
                    self.wrong_type(&path.field("enabled"), "a boolean", other);
                    None
                }
            });
        // `null`: the caller's default, as flagd serves a disabled flag.
        let off_variant = self
            .required(&fields, path, "off_variant")
            .and_then(|v| match v {
                Json::Null => Some(None),
                v => self
                    .variant_ref(v, &path.field("off_variant"), name, &names)
                    .map(Some),
            });
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
            let items = self.array(list, &rules_path);
            // Exactly sized, so compiling reuses the allocation instead of shrinking it.
            rules.reserve_exact(items.len());
            for (i, rule) in items.iter().enumerate() {
                if let Some(rule) = self.rule(rule, &rules_path.index(i), name, &names) {
                    rules.push(rule);
                }
            }
        }
        let fallthrough = self
            .required(&fields, path, "fallthrough")
            .and_then(|f| self.serve(f, &path.field("fallthrough"), name, &names));
        let exposures = match fields.get("exposures") {
            None => Some(false),
            Some(Json::Bool(b)) => Some(*b),
            Some(other) => {
                self.wrong_type(&path.field("exposures"), "a boolean", other);
                None
            }
        };
        let guardrails = fields
            .get("guardrails")
            .map(|g| self.guardrails(g, &path.field("guardrails"), name, &names))
            .unwrap_or_default();
        self.variant_names = names;
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
            exposures: exposures?,
            flagd: None,
        })
    }

    /// The variants and their one value type; `names` receives the names of those with a
    /// usable value, in order.
    fn variants(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        names: &mut Vec<&'d str>,
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
        let numeric = |k: ValueKind| matches!(k, ValueKind::Int | ValueKind::Float);
        // The first variant's type, the first variant of another type, and whether any
        // is a float: what the checks below need, without a list of every type.
        let mut first: Option<(ValueKind, &str)> = None;
        let mut mixed: Option<(ValueKind, &str)> = None;
        let mut any_float = false;
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
            match first {
                None => first = Some((kind, name)),
                Some((f, _)) if mixed.is_none() && kind != f && !(numeric(kind) && numeric(f)) => {
                    mixed = Some((kind, name));
                }
                Some(_) => {}
            }
            any_float |= kind == ValueKind::Float;
            names.push(name);
            variants.push((name.to_string(), v.to_value()));
        }
        let Some((first, first_name)) = first else {
            return (variants, None);
        };
        if variants.len() != members.len() {
            return (variants, None);
        }
        if let Some((other, other_name)) = mixed {
            self.error(
                Kind::MixedTypes,
                path,
                format!(
                    "variants mix value types: `{first_name}` is {}, `{other_name}` is {}",
                    first.name(),
                    other.name()
                ),
            );
            return (variants, None);
        }
        let kind = if any_float { ValueKind::Float } else { first };
        (variants, Some(kind))
    }

    pub(super) fn variant_ref(
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
            let Some(&target) = self.flags.get(flag) else {
                self.error(
                    Kind::UndefinedFlag,
                    &item_path.field("flag"),
                    format!("prerequisite flag `{flag}` is not defined"),
                );
                continue;
            };
            let variants = match self.flag_members[target].1.get("variants") {
                Some(Json::Object(members)) => &members[..],
                _ => &[],
            };
            if !variants.is_empty() && !variants.iter().any(|(k, _)| k == variant) {
                let known: Vec<&str> = variants.iter().map(|(k, _)| k.as_ref()).collect();
                let known = known.join(", ");
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
}
