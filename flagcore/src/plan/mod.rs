//! The compiled evaluation plan: a [`Document`] turned into dense indices, interned
//! variants, operators as enums and precomputed hash seeds, so that evaluation parses
//! nothing and allocates nothing.

pub(crate) mod guardrail;
pub(crate) mod hash;
mod inline;
pub(crate) mod op;
mod pattern;
pub(crate) mod tag;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::document::logic::{FlagdFlag, Targeting};
use crate::document::{Condition, Document, Flag, MetadataValue, Serve, Split, ValueKind};
use crate::primitives::hashing::seed;
use crate::runtime::direct::Direct;
use crate::runtime::Runtime;
use guardrail::GuardrailPlan;
use hash::{NameIndex, StrMap};
use inline::Bodies;
use op::Test;

/// A compiled snapshot: what every evaluation reads. Its rules are immutable; what changes
/// while it serves (runtime kills, evaluation counts) is in its `runtime`, and guardrail
/// evidence is shared with later plans.
///
/// Reach one through a [`Snapshot`](crate::Snapshot) (which dereferences to it) or, for
/// the shortest path, inside [`Store::with_plan`](crate::Store::with_plan); the typed
/// getters, details and `explain` live here.
pub struct Plan {
    /// Distinguishes plans for [`FlagHandle`](crate::FlagHandle) caches and the store's
    /// per-thread cache; unique in the process.
    pub(crate) id: u64,
    /// `id` as a [`FlagHandle`](crate::FlagHandle) caches it (`tag::tag_of`).
    pub(crate) handle_tag: u64,
    pub(crate) version: u64,
    /// False for the placeholder a store serves before its first snapshot.
    pub(crate) ready: bool,
    pub(crate) index: NameIndex,
    pub(crate) flags: Box<[FlagPlan]>,
    pub(crate) segments: Box<[SegmentPlan]>,
    /// What changes while the plan serves: runtime kills and evaluation counts.
    pub(crate) runtime: Runtime,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("version", &self.version)
            .field("ready", &self.ready)
            .field("flags", &self.flags.len())
            .field("segments", &self.segments.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub(crate) struct FlagPlan {
    pub name: Box<str>,
    pub kind: ValueKind,
    pub values: Values,
    pub variant_names: Box<[Box<str>]>,
    pub enabled: bool,
    /// Served when disabled or a prerequisite fails; `None`: the caller's default.
    pub off_variant: Option<u32>,
    pub seed: u64,
    /// (prerequisite flag, the variant it must serve).
    pub prerequisites: Box<[(u32, u32)]>,
    /// Targeting key → (variant, index of the target).
    pub targets: StrMap<(u32, u32)>,
    pub rules: Box<[RulePlan]>,
    pub fallthrough: ServePlan,
    /// No targets and no rules, so the fallthrough is all there is (reason `STATIC`).
    pub is_static: bool,
    /// The variant served (reason `STATIC`) when it cannot depend on the context (an
    /// enabled flag with no prerequisites, targets or rules, and a fixed fallthrough), so
    /// evaluation can skip straight to it unless the flag is killed.
    pub constant: Option<u32>,
    /// Set when the flag's answer is one clause away (`SingleRule`).
    pub single: Option<SingleRule>,
    pub description: Option<Box<str>>,
    pub metadata: Box<[(Box<str>, MetadataValue)]>,
    pub counter_base: u32,
    pub guardrails: Box<[GuardrailPlan]>,
    /// Evaluations that serve a variant are recorded as exposures (while tracking is on).
    pub exposures: bool,
    /// A flag loaded from a flagd document evaluates this instead of the native steps.
    pub flagd: Option<Box<FlagdFlag>>,
}

/// The shape of most rule-based flags: enabled, without prerequisites, targets, exposure
/// tracking or flagd targeting, one rule whose conditions (segments inlined) are one clause
/// and serve a variant, and a fixed fallthrough. Its value is the rule's first clause's
/// verdict, read without the evaluator (the getters' `single_rule`).
#[derive(Debug)]
pub(crate) struct SingleRule {
    /// The rule's clause, moved here from the rule: the getter reaches it in the flag
    /// itself, where through the rule and its conditions it took two dependent loads
    /// (measured: a `matches` flag 12.7 -> 11.1 ns). Read the rule's conditions through
    /// [`FlagPlan::conditions_of`].
    pub clause: ConditionPlan,
    /// Served when the clause holds.
    pub held: u32,
    /// Served otherwise (the fallthrough).
    pub otherwise: u32,
}

impl FlagPlan {
    /// The flag as a [`SingleRule`], its rule's clause moved into it, when it has that
    /// shape; else `None`, the flag unchanged.
    fn take_single_rule(&mut self) -> Option<SingleRule> {
        let plain = self.enabled
            && self.flagd.is_none()
            && self.prerequisites.is_empty()
            && self.targets.is_empty()
            && !self.exposures;
        let (ServePlan::Variant(otherwise), [rule]) = (&self.fallthrough, &mut *self.rules) else {
            return None;
        };
        let (ServePlan::Variant(held), [ConditionPlan::Clause { .. }]) =
            (&rule.serve, &*rule.conditions)
        else {
            return None;
        };
        if !plain {
            return None;
        }
        let clause = std::mem::take(&mut rule.conditions).into_vec().pop()?;
        Some(SingleRule {
            clause,
            held: *held,
            otherwise: *otherwise,
        })
    }

    /// The flag's [`SingleRule`], with its clause's attribute and test, if it has one.
    #[inline(always)]
    pub(crate) fn single_clause(&self) -> Option<(&SingleRule, &Attr, &Test)> {
        let single = self.single.as_ref()?;
        match &single.clause {
            ConditionPlan::Clause { attr, test, .. } => Some((single, attr, test)),
            _ => None,
        }
    }

    /// The conditions of `rule` (one of this flag's): as written when `traced` (so each
    /// segment's verdict can be reported), else with small segments inlined; a
    /// [`SingleRule`]'s clause where it now lives.
    #[inline(always)]
    pub(crate) fn conditions_of<'p>(
        &'p self,
        rule: &'p RulePlan,
        traced: bool,
    ) -> &'p [ConditionPlan] {
        match &self.single {
            Some(single) if !(traced && rule.written.is_some()) => {
                std::slice::from_ref(&single.clause)
            }
            _ => rule.conditions_unless_single(traced),
        }
    }
}

/// A flag's variant values, one vector per type so a getter reads them without matching
/// on each value.
#[derive(Debug, PartialEq)]
pub(crate) enum Values {
    Bool(Box<[bool]>),
    Str(Box<[Box<str>]>),
    Int(Box<[i64]>),
    Float(Box<[f64]>),
    Json(Box<[serde_json::Value]>),
}

#[derive(Debug)]
pub(crate) struct RulePlan {
    pub id: Option<Box<str>>,
    /// The conditions to evaluate, small segments inlined (`inline.rs`); empty when the
    /// flag's [`SingleRule`] holds its clause. Read through [`FlagPlan::conditions_of`].
    pub conditions: Box<[ConditionPlan]>,
    /// The conditions as written, when inlining changed them.
    pub written: Option<Box<[ConditionPlan]>>,
    pub serve: ServePlan,
}

impl RulePlan {
    /// The conditions to evaluate, for a flag without a [`SingleRule`] (whose clause is
    /// not here): as written when `traced`, else with small segments inlined. The
    /// evaluator's rule loop reads this, having set single-rule flags apart once.
    #[inline(always)]
    pub(crate) fn conditions_unless_single(&self, traced: bool) -> &[ConditionPlan] {
        match &self.written {
            Some(written) if traced => written,
            _ => &self.conditions,
        }
    }
}

#[derive(Debug)]
pub(crate) enum ServePlan {
    Variant(u32),
    /// The caller's default, reason `DEFAULT`.
    CallerDefault,
    /// flagd's bucketing: MurmurHash3 of `salt` followed by the `by` value, mapped onto
    /// the total weight (the last end); points below `ends[i].0` serve `ends[i].1`.
    FlagdRollout {
        salt: Box<str>,
        by: Attr,
        ends: Box<[(u32, u32)]>,
    },
    /// Buckets below `ends[i].0` (and at or above the previous end) serve `ends[i].1`.
    Rollout {
        by: Attr,
        ends: Box<[(u32, u32)]>,
        /// Steps in increasing time order; empty for a rollout without a schedule.
        schedule: Box<[StepPlan]>,
    },
}

/// A schedule step: from `at` (Unix nanoseconds) on, its `ends` replace the rollout's.
#[derive(Debug)]
pub(crate) struct StepPlan {
    pub at: i128,
    /// `at` as written, for `explain`.
    pub at_text: Box<str>,
    pub ends: Box<[(u32, u32)]>,
}

/// Which context attribute a condition or rollout reads.
#[derive(Debug, Clone)]
pub(crate) enum Attr {
    Key,
    Named(Box<str>),
}

impl Attr {
    fn new(name: &str) -> Attr {
        if name == "key" {
            Attr::Key
        } else {
            Attr::Named(name.into())
        }
    }

    pub(crate) fn name(&self) -> &str {
        match self {
            Attr::Key => "key",
            Attr::Named(name) => name,
        }
    }
}

#[derive(Debug, Clone)]
#[repr(u8)]
pub(crate) enum ConditionPlan {
    InSegment(SegmentRef),
    NotInSegment(SegmentRef),
    InBucket {
        seed: u64,
        by: Attr,
        from: u32,
        to: u32,
    },
    Clause {
        attr: Attr,
        test: Test,
        /// The clause as written, for `explain`.
        text: Box<str>,
    },
}

/// A segment a condition names: its index, and its bit in an evaluation's cache of
/// verdicts (computed here once, not at each check; 0 past the first 64 segments, which
/// are not cached).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SegmentRef {
    pub index: u32,
    pub bit: u64,
}

impl SegmentRef {
    pub(crate) fn new(index: u32) -> SegmentRef {
        SegmentRef {
            index,
            bit: 1u64.checked_shl(index).unwrap_or(0),
        }
    }
}

#[derive(Debug)]
pub(crate) struct SegmentPlan {
    pub name: Box<str>,
    /// Listed keys: `true` when included, `false` when excluded (exclusion wins), so one
    /// lookup settles both lists.
    pub keys: StrMap<bool>,
    /// The rules to evaluate, small segments inlined (`inline.rs`).
    pub rules: Box<[Box<[ConditionPlan]>]>,
    /// The rules as written, when inlining changed them.
    pub written: Option<Box<[Box<[ConditionPlan]>]>>,
}

impl SegmentPlan {
    /// The rules to evaluate: as written when `traced`, else with small segments inlined.
    #[inline(always)]
    pub(crate) fn rules(&self, traced: bool) -> &[Box<[ConditionPlan]>] {
        match &self.written {
            Some(written) if traced => written,
            _ => &self.rules,
        }
    }
}

impl Plan {
    /// The placeholder served before a store's first snapshot.
    pub(crate) fn not_ready() -> Plan {
        let id = next_id();
        Plan {
            id,
            handle_tag: tag::tag_of(id),
            version: 0,
            ready: false,
            index: NameIndex::new(Vec::new()),
            flags: Box::new([]),
            segments: Box::new([]),
            runtime: Runtime::new(std::iter::empty(), 0),
        }
    }

    pub(crate) fn compile(document: Document) -> Plan {
        let mut segments: Box<[SegmentPlan]> = document
            .segments
            .into_iter()
            .map(|(name, segment)| SegmentPlan {
                name: name.into(),
                keys: listed_keys(segment.include, segment.exclude),
                rules: segment
                    .rules
                    .into_iter()
                    .map(|conditions| conditions.into_iter().map(compile_condition).collect())
                    .collect(),
                written: None,
            })
            .collect();
        let bodies = Bodies::of(&segments);
        for segment in segments.iter_mut() {
            let inlined: Vec<_> = segment.rules.iter().map(|r| bodies.flatten(r)).collect();
            if inlined.iter().any(Option::is_some) {
                let rules = segment.rules.iter().zip(inlined);
                let inlined = rules.map(|(r, i)| i.unwrap_or_else(|| r.clone())).collect();
                segment.written = Some(std::mem::replace(&mut segment.rules, inlined));
            }
        }
        // Prerequisites name variants of other flags: resolve them while every flag's
        // variant names are still there to borrow.
        let prerequisites: Vec<Box<[(u32, u32)]>> = document
            .flags
            .iter()
            .map(|(_, flag)| {
                flag.prerequisites
                    .iter()
                    .map(|(p, variant)| {
                        let required = document.flags[*p]
                            .1
                            .variants
                            .iter()
                            .position(|(n, _)| n == variant)
                            .unwrap_or_default();
                        (*p as u32, required as u32)
                    })
                    .collect()
            })
            .collect();
        let mut counter_base = 0u32;
        let mut flags = Vec::with_capacity(document.flags.len());
        for ((name, flag), prerequisites) in document.flags.into_iter().zip(prerequisites) {
            let compiled = compile_flag(name, flag, prerequisites, counter_base, &bodies);
            counter_base += compiled.variant_names.len() as u32 + 1;
            flags.push(compiled);
        }
        let index = NameIndex::new(flags.iter().map(|f| f.name.clone()).collect());
        let id = next_id();
        Plan {
            id,
            handle_tag: tag::tag_of(id),
            version: document.version,
            ready: true,
            index,
            runtime: Runtime::new(flags.iter().map(FlagPlan::direct), counter_base as usize),
            flags: flags.into_boxed_slice(),
            segments,
        }
    }
}

impl FlagPlan {
    /// The flag's [`Direct`] word: its constant variant, unless its evaluations are
    /// recorded as exposures (which only the full path does).
    fn direct(&self) -> Direct {
        let variant = self.constant.filter(|_| !self.exposures);
        let bool_value = match (&self.values, variant) {
            (Values::Bool(values), Some(v)) => values.get(v as usize).copied().unwrap_or(false),
            _ => false,
        };
        let slot = self.counter_base + variant.unwrap_or(0);
        let direct = Direct::new(self.kind as u8, variant, bool_value, slot);
        match self.single {
            Some(_) => direct.with_single_rule(),
            None => direct,
        }
    }
}

/// A process-wide unique plan id.
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn listed_keys(include: Vec<String>, exclude: Vec<String>) -> StrMap<bool> {
    // The first of equal keys wins, so exclusions go first.
    let excluded = exclude.into_iter().map(|k| (k.into_boxed_str(), false));
    let included = include.into_iter().map(|k| (k.into_boxed_str(), true));
    StrMap::new(excluded.chain(included).collect())
}

fn compile_flag(
    name: String,
    flag: Flag,
    prerequisites: Box<[(u32, u32)]>,
    counter_base: u32,
    bodies: &Bodies,
) -> FlagPlan {
    let salt = flag.salt.as_deref().unwrap_or(&name);
    let flag_seed = seed(salt);
    let values = match flag.kind {
        ValueKind::Bool => Values::Bool(
            flag.variants
                .iter()
                .map(|(_, v)| v.as_bool().unwrap_or_default())
                .collect(),
        ),
        ValueKind::String => Values::Str(
            flag.variants
                .iter()
                .map(|(_, v)| v.as_str().unwrap_or_default().into())
                .collect(),
        ),
        ValueKind::Int => Values::Int(
            flag.variants
                .iter()
                .map(|(_, v)| v.as_i64().unwrap_or_default())
                .collect(),
        ),
        ValueKind::Float => Values::Float(
            flag.variants
                .iter()
                .map(|(_, v)| v.as_f64().unwrap_or_default())
                .collect(),
        ),
        ValueKind::Json => Values::Json(flag.variants.iter().map(|(_, v)| v.clone()).collect()),
    };
    let mut targets = Vec::new();
    for (t, (variant, keys)) in flag.targets.into_iter().enumerate() {
        for key in keys {
            targets.push((key.into_boxed_str(), (variant as u32, t as u32)));
        }
    }
    let is_static = targets.is_empty()
        && flag.rules.is_empty()
        && matches!(flag.fallthrough, Serve::Variant(_));
    let constant = match (&flag.flagd, &flag.fallthrough) {
        // A flagd flag without targeting serves its default variant, if it has one.
        (Some(flagd), _) => match flagd.targeting {
            Targeting::Absent if flag.enabled => flagd.default_variant,
            _ => None,
        },
        (None, Serve::Variant(v)) if is_static && flag.enabled && flag.prerequisites.is_empty() => {
            Some(*v as u32)
        }
        _ => None,
    };
    let variant_names: Box<[Box<str>]> = flag
        .variants
        .into_iter()
        .map(|(n, _)| n.into_boxed_str())
        .collect();
    let guardrails = flag
        .guardrails
        .into_iter()
        .map(|g| {
            let watch = g.watch.into_iter().map(|v| v as u32).collect();
            GuardrailPlan::new(g.id, watch, g.bound, &variant_names)
        })
        .collect();
    let mut compiled = FlagPlan {
        kind: flag.kind,
        values,
        variant_names,
        enabled: flag.enabled,
        off_variant: flag.off_variant.map(|v| v as u32),
        seed: flag_seed,
        prerequisites,
        targets: StrMap::new(targets),
        rules: flag
            .rules
            .into_iter()
            .map(|rule| {
                let written: Box<[ConditionPlan]> =
                    rule.conditions.into_iter().map(compile_condition).collect();
                let (conditions, written) = match bodies.flatten(&written) {
                    Some(inlined) => (inlined, Some(written)),
                    None => (written, None),
                };
                RulePlan {
                    id: rule.id.map(String::into_boxed_str),
                    conditions,
                    written,
                    serve: compile_serve(rule.serve, salt),
                }
            })
            .collect(),
        fallthrough: compile_serve(flag.fallthrough, salt),
        is_static,
        constant,
        single: None,
        description: flag.description.map(String::into_boxed_str),
        metadata: flag
            .metadata
            .into_iter()
            .map(|(k, v)| (k.into_boxed_str(), v))
            .collect(),
        counter_base,
        guardrails,
        exposures: flag.exposures,
        flagd: flag.flagd,
        name: name.into_boxed_str(),
    };
    compiled.single = compiled.take_single_rule();
    compiled
}

fn compile_serve(serve: Serve, salt: &str) -> ServePlan {
    match serve {
        Serve::Variant(v) => ServePlan::Variant(v as u32),
        Serve::CallerDefault => ServePlan::CallerDefault,
        Serve::FlagdRollout { by, weights } => ServePlan::FlagdRollout {
            salt: salt.into(),
            by: Attr::new(&by),
            ends: bucket_ends(weights),
        },
        Serve::Rollout {
            by,
            split,
            schedule,
        } => ServePlan::Rollout {
            by: Attr::new(&by),
            ends: bucket_ends(split),
            schedule: schedule
                .into_iter()
                .map(|step| StepPlan {
                    at: step.at,
                    at_text: step.at_text.into_boxed_str(),
                    ends: bucket_ends(step.split),
                })
                .collect(),
        },
    }
}

/// Turns weights into the exclusive upper bucket of each variant, in split order.
fn bucket_ends(split: Split) -> Box<[(u32, u32)]> {
    let mut end = 0u32;
    split
        .into_iter()
        .map(|(variant, weight)| {
            end += weight;
            (end, variant as u32)
        })
        .collect()
}

fn compile_condition(condition: Condition) -> ConditionPlan {
    match condition {
        Condition::InSegment(s) => ConditionPlan::InSegment(SegmentRef::new(s as u32)),
        Condition::NotInSegment(s) => ConditionPlan::NotInSegment(SegmentRef::new(s as u32)),
        Condition::InBucket { salt, by, from, to } => ConditionPlan::InBucket {
            seed: seed(&salt),
            by: Attr::new(&by),
            from,
            to,
        },
        Condition::Clause {
            attribute,
            op,
            operands,
            text,
        } => ConditionPlan::Clause {
            attr: Attr::new(&attribute),
            test: Test::compile(op, operands),
            text: text.into_boxed_str(),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::Store;

    /// Whether the flag `f` of a snapshot with `segments` and `f`'s body is a `SingleRule`.
    fn single(segments: &str, flag: &str) -> bool {
        let doc = format!(
            r#"{{"version": 1, "segments": {{{segments}}}, "flags": {{"f": {{
              "variants": {{"on": true, "off": false}}, "off_variant": "off", {flag}}}}}}}"#
        );
        let store = Store::from_bytes(doc.as_bytes()).unwrap();
        let snapshot = store.snapshot();
        let index = snapshot.index.get("f").unwrap();
        snapshot.flags[index as usize].single.is_some()
    }

    #[test]
    fn one_rule_of_one_clause_and_nothing_else_is_a_single_rule() {
        let clause = r#"{"attribute": "a", "op": "eq", "values": [1]}"#;
        let segments = format!(
            r#""one": {{"rules": [{{"conditions": [{clause}]}}]}},
               "keyed": {{"include": ["k"], "rules": [{{"conditions": [{clause}]}}]}}"#
        );
        let rule = |conditions: &str, serve: &str| {
            format!(r#""rules": [{{"conditions": [{conditions}], "serve": {serve}}}]"#)
        };
        let on = r#"{"variant": "on"}"#;
        let fall = r#""fallthrough": {"variant": "off""#;
        let flag = |body: String| format!(r#""enabled": true, {body}, {fall}}}"#);
        assert!(single(&segments, &flag(rule(clause, on))));
        // A segment that inlines to one clause.
        assert!(single(
            &segments,
            &flag(rule(r#"{"in_segment": "one"}"#, on))
        ));

        assert!(!single(
            &segments,
            &flag(rule(&format!("{clause}, {clause}"), on))
        ));
        assert!(!single(
            &segments,
            &flag(rule(r#"{"in_segment": "keyed"}"#, on))
        ));
        let rollout = r#"{"rollout": {"split": [{"variant": "on", "weight": 100}]}}"#;
        assert!(!single(&segments, &flag(rule(clause, rollout))));
        let targets = r#""targets": [{"variant": "on", "keys": ["k"]}]"#;
        assert!(!single(
            &segments,
            &flag(format!("{targets}, {}", rule(clause, on)))
        ));
        let disabled = format!(r#""enabled": false, {}, {fall}}}"#, rule(clause, on));
        assert!(!single(&segments, &disabled));
        let exposed = format!(r#""exposures": true, {}"#, rule(clause, on));
        assert!(!single(&segments, &flag(exposed)));
    }
}
