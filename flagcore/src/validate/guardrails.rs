//! A flag's `guardrails`: ids, watched variants and one bound each.

use super::{Fields, Path, Validator};
use crate::document::json::Json;
use crate::document::{Bound, Guardrail};
use crate::error::ValidationErrorKind as Kind;

impl<'d> Validator<'d> {
    /// A flag's `guardrails`: each with a unique id, watched variants and one bound.
    pub(super) fn guardrails(
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
}
