//! Segments inlined into the conditions that name them, for evaluations that are not
//! traced.
//!
//! A segment with no listed keys and a single rule holds exactly when that rule's
//! conditions all hold, so `in_segment` of it can be replaced by those conditions (an
//! `and` inside an `and`). Asking the segment costs a call, a verdict cache and a loop of
//! its own; its conditions in place cost only themselves. `explain` still evaluates the
//! conditions as written, so that it can name each segment's verdict.

use super::{ConditionPlan, SegmentPlan};

/// A segment's conditions are copied into the rules that name it only when they are this
/// few, each comparing against at most [`MAX_OPERANDS`] values, so that a plan grows by a
/// small constant factor at most.
const MAX_CONDITIONS: usize = 4;
const MAX_OPERANDS: usize = 8;

/// Per segment, the conditions that stand in for `in_segment` of it, when it has any.
pub(crate) struct Bodies(Box<[Option<Box<[ConditionPlan]>>]>);

impl Bodies {
    /// The bodies of `segments`, each inlined segment's own `in_segment`s inlined too.
    /// Segments form no cycle (validation rejects them), so the recursion ends.
    pub(crate) fn of(segments: &[SegmentPlan]) -> Bodies {
        let mut known: Vec<Option<Option<Box<[ConditionPlan]>>>> = vec![None; segments.len()];
        for s in 0..segments.len() {
            body(s, segments, &mut known);
        }
        Bodies(known.into_iter().map(Option::flatten).collect())
    }

    /// `conditions` with every inlinable `in_segment` replaced by the segment's body, or
    /// `None` when there is none to replace.
    pub(crate) fn flatten(&self, conditions: &[ConditionPlan]) -> Option<Box<[ConditionPlan]>> {
        flatten_with(conditions, |s| self.0.get(s).and_then(Option::as_deref))
    }
}

fn flatten_with<'b>(
    conditions: &[ConditionPlan],
    body_of: impl Fn(usize) -> Option<&'b [ConditionPlan]>,
) -> Option<Box<[ConditionPlan]>> {
    let inlined = |c: &ConditionPlan| match c {
        ConditionPlan::InSegment(s) => body_of(s.index as usize),
        _ => None,
    };
    if !conditions.iter().any(|c| inlined(c).is_some()) {
        return None;
    }
    let mut flat = Vec::with_capacity(conditions.len());
    for condition in conditions {
        match inlined(condition) {
            Some(body) => flat.extend(body.iter().cloned()),
            None => flat.push(condition.clone()),
        }
    }
    Some(flat.into_boxed_slice())
}

/// Segment `s`'s body, computed once into `known`.
fn body(
    s: usize,
    segments: &[SegmentPlan],
    known: &mut Vec<Option<Option<Box<[ConditionPlan]>>>>,
) -> Option<Box<[ConditionPlan]>> {
    if let Some(Some(done)) = known.get(s) {
        return done.clone();
    }
    let segment = segments.get(s)?;
    let result = match &*segment.rules {
        [rule] if segment.keys.is_empty() => {
            for condition in rule.iter() {
                if let ConditionPlan::InSegment(inner) = condition {
                    body(inner.index as usize, segments, known);
                }
            }
            let flat = flatten_with(rule, |inner| {
                known
                    .get(inner)
                    .and_then(|k| k.as_ref())
                    .and_then(Option::as_deref)
            })
            .unwrap_or_else(|| rule.clone());
            small(&flat).then_some(flat)
        }
        _ => None,
    };
    if let Some(slot) = known.get_mut(s) {
        *slot = Some(result.clone());
    }
    result
}

fn small(conditions: &[ConditionPlan]) -> bool {
    conditions.len() <= MAX_CONDITIONS
        && conditions.iter().all(|c| match c {
            ConditionPlan::Clause { test, .. } => test.operand_count() <= MAX_OPERANDS,
            _ => true,
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::Store;

    /// Whether each of the flag `f`'s rules has an inlined form.
    fn inlined(doc: &str) -> Vec<bool> {
        let store = Store::from_bytes(doc.as_bytes()).unwrap();
        let snapshot = store.snapshot();
        let flag = &snapshot.flags[snapshot.index.get("f").unwrap() as usize];
        flag.rules.iter().map(|r| r.written.is_some()).collect()
    }

    fn doc(segments: &str, conditions: &[&str]) -> String {
        let rules: Vec<String> = conditions
            .iter()
            .map(|c| format!(r#"{{"conditions": [{c}], "serve": {{"variant": "on"}}}}"#))
            .collect();
        format!(
            r#"{{"version": 1, "segments": {{{segments}}}, "flags": {{"f": {{
              "variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
              "rules": [{}], "fallthrough": {{"variant": "off"}}}}}}}}"#,
            rules.join(",")
        )
    }

    #[test]
    fn only_small_single_rule_segments_without_keys_are_inlined() {
        let clause = r#"{"attribute": "a", "op": "eq", "values": [1]}"#;
        let long: Vec<String> = (0..9).map(|i| i.to_string()).collect();
        let segments = format!(
            r#""one": {{"rules": [{{"conditions": [{clause}]}}]}},
               "keyed": {{"include": ["k"], "rules": [{{"conditions": [{clause}]}}]}},
               "two": {{"rules": [{{"conditions": [{clause}]}}, {{"conditions": [{clause}]}}]}},
               "wide": {{"rules": [{{"conditions": [{clause}, {clause}, {clause}, {clause}, {clause}]}}]}},
               "long": {{"rules": [{{"conditions": [{{"attribute": "a", "op": "in", "values": [{}]}}]}}]}},
               "outer": {{"rules": [{{"conditions": [{{"in_segment": "one"}}]}}]}}"#,
            long.join(",")
        );
        let rules = [
            r#"{"in_segment": "one"}"#,
            r#"{"in_segment": "keyed"}"#,
            r#"{"in_segment": "two"}"#,
            r#"{"in_segment": "wide"}"#,
            r#"{"in_segment": "long"}"#,
            r#"{"in_segment": "outer"}"#,
            r#"{"not_in_segment": "one"}"#,
        ];
        assert_eq!(
            inlined(&doc(&segments, &rules)),
            [true, false, false, false, false, true, false]
        );
    }
}
