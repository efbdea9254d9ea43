//! Serves: a fixed variant, or a rollout with its split, its schedule, and weights in
//! units of 0.001 %.

use super::{Path, Validator, TOTAL_UNITS, UNITS_PER_PERCENT};
use crate::document::json::{Json, Number};
use crate::document::{Serve, Split, Step};
use crate::error::ValidationErrorKind as Kind;

impl<'d> Validator<'d> {
    /// A percentage with at most 3 decimals, in units of 0.001 %.
    pub(super) fn percent_units(&mut self, value: &'d Json<'d>, path: &Path<'_>) -> Option<u32> {
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

    pub(super) fn serve(
        &mut self,
        value: &'d Json<'d>,
        path: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Option<Serve> {
        let fields = self.object(value, path, &["variant", "rollout"])?;
        match (fields.get("variant"), fields.get("rollout")) {
            (Some(Json::Null), None) => Some(Serve::CallerDefault),
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
        let fields = self.object(value, path, &["by", "split", "schedule", "bucketing"])?;
        let by = self
            .optional_string(&fields, path, "by")
            .unwrap_or_else(|| "key".to_owned());
        match self.optional_string(&fields, path, "bucketing").as_deref() {
            None | Some("flagcore") => {}
            Some("flagd") => {
                if fields.get("schedule").is_some() {
                    self.error(
                        Kind::InvalidValue,
                        &path.field("schedule"),
                        "a rollout with flagd bucketing has no schedule",
                    );
                    return None;
                }
                let weights = self
                    .required(&fields, path, "split")
                    .and_then(|list| self.flagd_split(list, path, flag, names))?;
                return Some(Serve::FlagdRollout { by, weights });
            }
            Some(other) => {
                self.error(
                    Kind::InvalidValue,
                    &path.field("bucketing"),
                    format!("unknown bucketing `{other}`: expected `flagcore` or `flagd`"),
                );
                return None;
            }
        }
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

    /// The split of a rollout with flagd bucketing: whole, non-negative weights, as flagd's
    /// `fractional` takes them, with a total between 1 and 2,147,483,647.
    fn flagd_split(
        &mut self,
        list: &'d Json<'d>,
        owner: &Path<'_>,
        flag: &str,
        names: &[&str],
    ) -> Option<Vec<(usize, u32)>> {
        let split_path = owner.field("split");
        let items = self.array(list, &split_path);
        let mut weights = Vec::with_capacity(items.len());
        let mut total: u64 = 0;
        for (i, item) in items.iter().enumerate() {
            let item_path = split_path.index(i);
            let entry = self.object(item, &item_path, &["variant", "weight"])?;
            let variant = self
                .required(&entry, &item_path, "variant")
                .and_then(|v| self.variant_ref(v, &item_path.field("variant"), flag, names));
            let weight = match self.required(&entry, &item_path, "weight") {
                Some(Json::Number(Number::Int(w))) if (0..=i64::from(i32::MAX)).contains(w) => {
                    Some(*w as u32)
                }
                Some(other) => {
                    self.error(
                        Kind::Weights,
                        &item_path.field("weight"),
                        format!(
                            "with flagd bucketing a weight is a whole number from 0 to 2147483647, not {}",
                            other.type_name()
                        ),
                    );
                    None
                }
                None => None,
            };
            total += u64::from(weight.unwrap_or(0));
            weights.push((variant?, weight?));
        }
        if total == 0 || total > i32::MAX as u64 {
            self.error(
                Kind::Weights,
                owner,
                format!("flagd weights sum to {total}, not between 1 and 2147483647"),
            );
            return None;
        }
        Some(weights)
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
                    let at = crate::primitives::time::parse_rfc3339(text).map(|at| (at, text));
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
}
