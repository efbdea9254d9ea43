//! Change notices: which flags a snapshot update, a kill or a revive changed, computed
//! once when it happens, for subscribers such as the OpenFeature providers' configuration
//! change events.

use std::collections::HashSet;

use crate::plan::{Attr, ConditionPlan, FlagPlan, Plan, SegmentPlan, ServePlan};

/// What changed in a store, as [`Store::subscribe`](crate::Store::subscribe) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The serving snapshot's version after the change.
    pub version: Option<u64>,
    /// The flags whose definition or runtime kill changed, by name, sorted: added and
    /// removed flags, killed and revived ones, flags whose own definition changed, and
    /// flags that use a segment or prerequisite that changed (what they serve may change).
    pub flags: Vec<String>,
}

/// Names a subscription made with [`Store::subscribe`](crate::Store::subscribe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionId(pub(crate) u64);

/// A function told each change.
pub(crate) type Subscriber = std::sync::Arc<dyn Fn(&Change) + Send + Sync>;

/// The flags whose behaviour may differ between `old` and `new`: added, removed, defined
/// differently, or depending (through segments or prerequisites) on something that is.
pub(crate) fn changed_flags(old: &Plan, new: &Plan) -> Vec<String> {
    let changed_segments = changed_segments(old, new);
    let mut changed: Vec<bool> = new
        .flags
        .iter()
        .map(|flag| {
            let before = old
                .index
                .get(&flag.name)
                .and_then(|i| old.flags.get(i as usize));
            before.is_none_or(|before| !same_flag(old, before, new, flag))
                || uses_segment(flag, &changed_segments)
        })
        .collect();
    spread_to_dependents(new, &mut changed);
    let mut names: Vec<String> = new
        .flags
        .iter()
        .zip(&changed)
        .filter(|(_, c)| **c)
        .map(|(f, _)| f.name.to_string())
        .chain(
            old.flags
                .iter()
                .filter(|f| new.index.get(&f.name).is_none())
                .map(|f| f.name.to_string()),
        )
        .collect();
    names.sort_unstable();
    names
}

/// `flags` (killed or revived) and the flags of `plan` that depend on them through
/// prerequisites, sorted: what they serve may change with them.
pub(crate) fn with_dependents(plan: &Plan, mut flags: Vec<String>) -> Vec<String> {
    let mut changed: Vec<bool> = plan
        .flags
        .iter()
        .map(|f| flags.iter().any(|name| **name == *f.name))
        .collect();
    spread_to_dependents(plan, &mut changed);
    for (flag, _) in plan.flags.iter().zip(&changed).filter(|(_, c)| **c) {
        if !flags.iter().any(|name| **name == *flag.name) {
            flags.push(flag.name.to_string());
        }
    }
    flags.sort_unstable();
    flags
}

/// Marks every flag whose prerequisite is marked, until nothing moves: a flag whose
/// prerequisite changed may serve differently.
fn spread_to_dependents(plan: &Plan, changed: &mut [bool]) {
    loop {
        let mut spread = false;
        for (i, flag) in plan.flags.iter().enumerate() {
            if !changed[i] && flag.prerequisites.iter().any(|(p, _)| changed[*p as usize]) {
                changed[i] = true;
                spread = true;
            }
        }
        if !spread {
            return;
        }
    }
}

/// Indices (in `new`) of the segments defined differently from `old`, or using one that is.
fn changed_segments(old: &Plan, new: &Plan) -> HashSet<u32> {
    fn by_name<'p>(plan: &'p Plan, name: &str) -> Option<&'p SegmentPlan> {
        plan.segments.iter().find(|s| *s.name == *name)
    }
    let mut changed: HashSet<u32> = new
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| by_name(old, &s.name).is_none_or(|o| !same_segment(old, o, new, s)))
        .map(|(i, _)| i as u32)
        .collect();
    loop {
        let before = changed.len();
        for (i, segment) in new.segments.iter().enumerate() {
            if segment
                .rules(true)
                .iter()
                .flatten()
                .any(|c| in_changed(c, &changed))
            {
                changed.insert(i as u32);
            }
        }
        if changed.len() == before {
            return changed;
        }
    }
}

fn in_changed(condition: &ConditionPlan, changed: &HashSet<u32>) -> bool {
    matches!(condition, ConditionPlan::InSegment(s) | ConditionPlan::NotInSegment(s) if changed.contains(&s.index))
}

fn uses_segment(flag: &FlagPlan, changed: &HashSet<u32>) -> bool {
    !changed.is_empty()
        && flag
            .rules
            .iter()
            .flat_map(|r| flag.conditions_of(r, true))
            .any(|c| in_changed(c, changed))
}

fn same_flag(old_plan: &Plan, old: &FlagPlan, new_plan: &Plan, new: &FlagPlan) -> bool {
    fn prerequisite(plan: &Plan, (flag, variant): (u32, u32)) -> (&str, &str) {
        let f = &plan.flags[flag as usize];
        (&f.name, &f.variant_names[variant as usize])
    }
    old.kind == new.kind
        && old.variant_names == new.variant_names
        && old.values == new.values
        && old.enabled == new.enabled
        && old.exposures == new.exposures
        && old.off_variant == new.off_variant
        && old.flagd == new.flagd
        && old.seed == new.seed
        && old.description == new.description
        && old.metadata == new.metadata
        && old.prerequisites.len() == new.prerequisites.len()
        && old
            .prerequisites
            .iter()
            .zip(new.prerequisites.iter())
            .all(|(a, b)| prerequisite(old_plan, *a) == prerequisite(new_plan, *b))
        && old.targets.same_entries(&new.targets)
        && old.rules.len() == new.rules.len()
        && old.rules.iter().zip(new.rules.iter()).all(|(a, b)| {
            a.id == b.id
                && same_serve(&a.serve, &b.serve)
                && same_conditions(
                    old_plan,
                    old.conditions_of(a, true),
                    new_plan,
                    new.conditions_of(b, true),
                )
        })
        && same_serve(&old.fallthrough, &new.fallthrough)
        && old.guardrails.len() == new.guardrails.len()
        && old
            .guardrails
            .iter()
            .zip(new.guardrails.iter())
            .all(|(a, b)| a.definition == b.definition)
}

fn same_segment(old_plan: &Plan, old: &SegmentPlan, new_plan: &Plan, new: &SegmentPlan) -> bool {
    old.keys.same_entries(&new.keys)
        && old.rules(true).len() == new.rules(true).len()
        && old
            .rules(true)
            .iter()
            .zip(new.rules(true))
            .all(|(a, b)| same_conditions(old_plan, a, new_plan, b))
}

fn same_conditions(
    old_plan: &Plan,
    old: &[ConditionPlan],
    new_plan: &Plan,
    new: &[ConditionPlan],
) -> bool {
    fn segment(plan: &Plan, s: u32) -> &str {
        &plan.segments[s as usize].name
    }
    old.len() == new.len()
        && old.iter().zip(new).all(|pair| match pair {
            (ConditionPlan::InSegment(a), ConditionPlan::InSegment(b))
            | (ConditionPlan::NotInSegment(a), ConditionPlan::NotInSegment(b)) => {
                segment(old_plan, a.index) == segment(new_plan, b.index)
            }
            (
                ConditionPlan::InBucket { seed, by, from, to },
                ConditionPlan::InBucket {
                    seed: seed2,
                    by: by2,
                    from: from2,
                    to: to2,
                },
            ) => (seed, by.name(), from, to) == (seed2, by2.name(), from2, to2),
            // The clause's text holds its operator and values as written.
            (
                ConditionPlan::Clause { attr, text, .. },
                ConditionPlan::Clause {
                    attr: attr2,
                    text: text2,
                    ..
                },
            ) => attr.name() == attr2.name() && text == text2,
            _ => false,
        })
}

fn same_serve(old: &ServePlan, new: &ServePlan) -> bool {
    match (old, new) {
        (ServePlan::Variant(a), ServePlan::Variant(b)) => a == b,
        (ServePlan::CallerDefault, ServePlan::CallerDefault) => true,
        (
            ServePlan::FlagdRollout { salt, by, ends },
            ServePlan::FlagdRollout {
                salt: salt2,
                by: by2,
                ends: ends2,
            },
        ) => salt == salt2 && same_attr(by, by2) && ends == ends2,
        (
            ServePlan::Rollout { by, ends, schedule },
            ServePlan::Rollout {
                by: by2,
                ends: ends2,
                schedule: schedule2,
            },
        ) => {
            same_attr(by, by2)
                && ends == ends2
                && schedule.len() == schedule2.len()
                && schedule
                    .iter()
                    .zip(schedule2.iter())
                    .all(|(a, b)| a.at == b.at && a.ends == b.ends)
        }
        _ => false,
    }
}

fn same_attr(a: &Attr, b: &Attr) -> bool {
    a.name() == b.name()
}
