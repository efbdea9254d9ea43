//! [`Snapshot`]: one consistent view of the store, and the typed getters on it.

use std::ops::Deref;
use std::sync::Arc;

use arc_swap::Guard;

use super::bucket::decimal;
use super::clock;
use super::context::EvaluationContext;
use super::details::{Decision, Details, ErrorCode, Reason};
use super::handle::FlagKey;
use super::{clause_holds, NoTrace, Trace};
use crate::document::{MetadataValue, ValueKind};
use crate::plan::{Attr, FlagPlan, Plan, ServePlan, Values};
use crate::primitives::value::Value;
use crate::runtime::direct::Direct;
use crate::runtime::exposures::{Record, Text};

/// A consistent view of one snapshot, taken with [`Store::snapshot`](crate::Store::snapshot).
///
/// Taking one costs a few atomic operations and never blocks; every evaluation through it
/// sees the same snapshot version, even while the store is updated. Kills made after it
/// was taken still apply. Hold it for one request, not for long: an old snapshot stays in
/// memory while a view of it exists.
///
/// ```
/// let store = flagcore::Store::from_bytes(br##"{"version": 1, "flags": {
///   "color": {"variants": {"red": "#f00", "blue": "#00f"}, "enabled": true,
///             "off_variant": "red", "fallthrough": {"variant": "blue"}}}}"##)?;
/// let snapshot = store.snapshot();
/// let ctx = flagcore::EvaluationContext::new("alice");
/// let details = snapshot.string_details("color", &ctx, "#000");
/// assert_eq!(details.value, "#00f");
/// assert_eq!(details.variant, Some("blue"));
/// assert_eq!(details.reason, flagcore::Reason::Static);
/// # Ok::<(), flagcore::Error>(())
/// ```
pub struct Snapshot {
    plan: Guard<Arc<Plan>>,
}

impl Snapshot {
    pub(crate) fn new(plan: Guard<Arc<Plan>>) -> Snapshot {
        Snapshot { plan }
    }
}

/// The getters, details and `explain` are the [`Plan`]'s.
impl Deref for Snapshot {
    type Target = Plan;

    #[inline]
    fn deref(&self) -> &Plan {
        &self.plan
    }
}

/// A value type a flag can be read as.
pub(crate) trait Extract<'s>: Copy {
    /// The kinds of flag the type reads: bit `kind as u8` per accepted [`ValueKind`].
    const KINDS: u8;
    /// [`Self::KINDS`] as a [`Direct`] mask.
    const DIRECT: u64 = Direct::kinds_mask(Self::KINDS);

    fn accepts(kind: ValueKind) -> bool {
        Self::KINDS >> kind as u8 & 1 != 0
    }

    fn extract(values: &'s Values, variant: usize) -> Option<Self>;

    /// The value of flag `index`, served directly as `direct` says.
    #[inline(always)]
    fn direct(plan: &'s Plan, index: u32, direct: Direct) -> Option<Self> {
        Self::extract(&plan.flags.get(index as usize)?.values, direct.variant())
    }
}

impl Extract<'_> for bool {
    const KINDS: u8 = 1 << ValueKind::Bool as u8;
    fn extract(values: &Values, variant: usize) -> Option<bool> {
        match values {
            Values::Bool(v) => v.get(variant).copied(),
            _ => None,
        }
    }
    #[inline(always)]
    fn direct(_: &Plan, _: u32, direct: Direct) -> Option<bool> {
        Some(direct.bool_value())
    }
}

impl<'s> Extract<'s> for &'s str {
    const KINDS: u8 = 1 << ValueKind::String as u8;
    fn extract(values: &'s Values, variant: usize) -> Option<&'s str> {
        match values {
            Values::Str(v) => v.get(variant).map(|s| &**s),
            _ => None,
        }
    }
}

impl Extract<'_> for i64 {
    const KINDS: u8 = 1 << ValueKind::Int as u8;
    fn extract(values: &Values, variant: usize) -> Option<i64> {
        match values {
            Values::Int(v) => v.get(variant).copied(),
            _ => None,
        }
    }
}

impl Extract<'_> for f64 {
    const KINDS: u8 = 1 << ValueKind::Float as u8 | 1 << ValueKind::Int as u8;
    fn extract(values: &Values, variant: usize) -> Option<f64> {
        match values {
            Values::Float(v) => v.get(variant).copied(),
            Values::Int(v) => v.get(variant).map(|i| *i as f64),
            _ => None,
        }
    }
}

impl<'s> Extract<'s> for &'s serde_json::Value {
    const KINDS: u8 = 1 << ValueKind::Json as u8;
    fn extract(values: &'s Values, variant: usize) -> Option<&'s serde_json::Value> {
        match values {
            Values::Json(v) => v.get(variant),
            _ => None,
        }
    }
}

macro_rules! getters {
    ($($(#[$doc:meta])* $name:ident, $details:ident: $t:ty;)*) => {
        $(
            $(#[$doc])*
            // One macro serves borrowed (`&'s str`) and plain (`bool`) types alike.
            #[allow(clippy::needless_lifetimes)]
            #[inline]
            pub fn $name<'s>(&'s self, flag: impl FlagKey, ctx: &EvaluationContext<'_>, default: $t) -> $t {
                self.value(flag, ctx, default)
            }

            /// Like the plain getter, with the reason, variant and what matched.
            #[allow(clippy::needless_lifetimes)]
            #[inline]
            pub fn $details<'s>(
                &'s self,
                flag: impl FlagKey,
                ctx: &EvaluationContext<'_>,
                default: $t,
            ) -> Details<'s, $t> {
                self.details(flag, ctx, default)
            }
        )*
    };
}

impl Plan {
    /// The snapshot's `version`, or `None` before the first snapshot is loaded.
    pub fn version(&self) -> Option<u64> {
        self.ready.then_some(self.version)
    }

    /// The names of all flags, in document order.
    pub fn flag_names(&self) -> impl Iterator<Item = &str> {
        self.flags.iter().map(|f| &*f.name)
    }

    /// A flag's `description`, if the flag exists and has one.
    pub fn flag_description(&self, flag: &str) -> Option<&str> {
        self.flag(flag).and_then(|f| f.description.as_deref())
    }

    /// A flag's `metadata` (owner, ticket, expiry, ...), empty when it has none.
    pub fn flag_metadata(&self, flag: &str) -> &[(Box<str>, MetadataValue)] {
        self.flag(flag).map_or(&[], |f| &f.metadata)
    }

    /// The value type of a flag's variants.
    pub fn flag_kind(&self, flag: &str) -> Option<ValueKind> {
        self.flag(flag).map(|f| f.kind)
    }

    /// The names of a flag's variants, in document order.
    pub fn variant_names(&self, flag: &str) -> impl Iterator<Item = &str> {
        self.flag(flag)
            .into_iter()
            .flat_map(|f| f.variant_names.iter().map(|n| &**n))
    }

    #[inline]
    fn flag(&self, name: &str) -> Option<&FlagPlan> {
        let index = self.index.get(name)?;
        self.flags.get(index as usize)
    }

    getters! {
        /// The value of a boolean flag, or `default`.
        bool, bool_details: bool;
        /// The value of a string flag, or `default`.
        string, string_details: &'s str;
        /// The value of an integer flag, or `default`.
        int, int_details: i64;
        /// The value of a number flag (integer flags too), or `default`.
        float, float_details: f64;
        /// The value of a JSON (object or array) flag, or `default`.
        json, json_details: &'s serde_json::Value;
    }

    /// The value alone, without building `Details`. A flag whose answer cannot depend on
    /// the context is served first from its [`Direct`] word; everything else goes through
    /// `resolve`. Both count as `resolve` does. (Moving the second path out of line saves
    /// static flags 3 more instructions and costs every rule-based flag 20.)
    #[inline]
    fn value<'s, T: Extract<'s>>(
        &'s self,
        flag: impl FlagKey,
        ctx: &EvaluationContext<'_>,
        default: T,
    ) -> T {
        // The placeholder plan has no flags: not ready, like not found, serves `default`.
        let Some(index) = flag.index_in(self) else {
            return default;
        };
        let direct = self.runtime.direct(index);
        if direct.serves(T::DIRECT) {
            self.runtime.counters.count(direct.counter_slot());
            return T::direct(self, index, direct).unwrap_or(default);
        }
        if direct.single_rule() && !direct.killed() {
            if let Some(value) = self.single_rule(index, ctx, default) {
                return value;
            }
        }
        self.evaluated_value(index, ctx, default)
    }

    #[inline]
    fn evaluated_value<'s, T: Extract<'s>>(
        &'s self,
        index: u32,
        ctx: &EvaluationContext<'_>,
        default: T,
    ) -> T {
        // The flag's direct word said no: a constant answer would be found again (or, for
        // a flag that records exposures, served the same by the evaluation).
        let shortcut = Shortcut::Evaluate;
        let (found, outcome) = resolve(self, Some(index), ctx, T::accepts, shortcut, &mut NoTrace);
        found
            .zip(outcome.variant)
            .and_then(|(f, v)| T::extract(&f.values, v as usize))
            .unwrap_or(default)
    }

    /// The value of a [`SingleRule`](crate::plan::SingleRule) flag (its direct word says
    /// so, and that it is not killed), read without the evaluator: its clause decides
    /// between the rule's variant and the fallthrough (docs/format.md §4 steps 4–8 for this
    /// shape), counted as `resolve` counts; `None` for any other flag, or one not of a kind
    /// `T` reads. Out of line, so that the static path, inlined where a getter is called,
    /// stays small.
    #[inline(never)]
    fn single_rule<'s, T: Extract<'s>>(
        &'s self,
        index: u32,
        ctx: &EvaluationContext<'_>,
        default: T,
    ) -> Option<T> {
        let flag = self.flags.get(index as usize)?;
        let (single, attr, test) = flag.single_clause()?;
        if !T::accepts(flag.kind) {
            return None;
        }
        let variant = if clause_holds::<true>(ctx, attr, test) {
            single.held
        } else {
            single.otherwise
        };
        self.runtime.counters.count(flag.counter_base + variant);
        Some(T::extract(&flag.values, variant as usize).unwrap_or(default))
    }

    #[inline]
    fn details<'s, T: Extract<'s>>(
        &'s self,
        flag: impl FlagKey,
        ctx: &EvaluationContext<'_>,
        default: T,
    ) -> Details<'s, T> {
        self.details_traced(flag, ctx, default, &mut NoTrace)
    }

    #[inline]
    pub(crate) fn details_traced<'s, T: Extract<'s>, R: Trace>(
        &'s self,
        flag: impl FlagKey,
        ctx: &EvaluationContext<'_>,
        default: T,
        trace: &mut R,
    ) -> Details<'s, T> {
        let plan: &'s Plan = self;
        // The placeholder plan has no flags, so the lookup finds none; `resolve` reports it.
        let index = flag.index_in(plan);
        let shortcut = Shortcut::ConstantFirst;
        let (found, outcome) = resolve(plan, index, ctx, T::accepts, shortcut, trace);
        let served = found.zip(outcome.variant).and_then(|(f, v)| {
            let value = T::extract(&f.values, v as usize)?;
            Some((f, v, value))
        });
        match served {
            Some((f, v, value)) => Details {
                value,
                variant: f.variant_names.get(v as usize).map(|n| &**n),
                reason: outcome.reason,
                error_code: outcome.error_code,
                rule_index: outcome.rule_index.map(|i| i as usize),
                rule_id: outcome
                    .rule_index
                    .and_then(|i| f.rules.get(i as usize))
                    .and_then(|r| r.id.as_deref()),
                target: outcome.target.is_some(),
                target_index: outcome.target.map(|t| t as usize),
                bucket: outcome.bucket,
                step: outcome.step.map(|s| s as usize),
            },
            None => Details {
                value: default,
                variant: None,
                reason: outcome.reason,
                error_code: outcome.error_code,
                rule_index: None,
                rule_id: None,
                target: false,
                target_index: None,
                bucket: None,
                step: None,
            },
        }
    }
}

/// Whether [`resolve`] looks for a constant answer before evaluating.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shortcut {
    /// Serve a flag's constant variant (unless killed) without evaluating.
    ConstantFirst,
    /// Evaluate: the caller knows the flag has no constant answer to serve.
    Evaluate,
}

/// Steps 1–3 of docs/format.md §4, then the evaluation, then the count.
#[inline]
fn resolve<'s, R: Trace>(
    plan: &'s Plan,
    index: Option<u32>,
    ctx: &EvaluationContext<'_>,
    accepts: fn(ValueKind) -> bool,
    shortcut: Shortcut,
    trace: &mut R,
) -> (Option<&'s FlagPlan>, Decision) {
    // The placeholder plan has no flags, so a flag was found only in a ready plan.
    let Some(index) = index else {
        let code = if plan.ready {
            ErrorCode::FlagNotFound
        } else {
            ErrorCode::ProviderNotReady
        };
        return (None, Decision::error(code));
    };
    let flag = &plan.flags[index as usize];
    let outcome = if !accepts(flag.kind) {
        Decision::error(ErrorCode::TypeMismatch)
    } else if let Some(variant) = flag
        .constant
        .filter(|_| shortcut == Shortcut::ConstantFirst && !plan.runtime.is_killed(index))
    {
        Decision::served(variant, Reason::Static)
    } else {
        plan.evaluate(index, ctx, trace)
    };
    let slot = outcome.variant.unwrap_or(flag.variant_names.len() as u32);
    plan.runtime.counters.count(flag.counter_base + slot);
    if flag.exposures && outcome.variant.is_some() && plan.runtime.exposures.is_active() {
        record_exposure(plan, index, flag, ctx, &outcome);
    }
    (Some(flag), outcome)
}

/// Queues an exposure of `flag`: the targeting key, and the unit bucketed when a rollout
/// decided (its `by` attribute, an integer as its decimal string). Out of line: only
/// flags that opt in get here.
#[inline(never)]
fn record_exposure(
    plan: &Plan,
    index: u32,
    flag: &FlagPlan,
    ctx: &EvaluationContext<'_>,
    decision: &Decision,
) {
    let serve = match decision.rule_index {
        Some(i) => flag.rules.get(i as usize).map(|r| &r.serve),
        None => Some(&flag.fallthrough),
    };
    let by = match serve {
        Some(ServePlan::Rollout {
            by: Attr::Named(name),
            ..
        }) if decision.bucket.is_some() => ctx.named(name),
        _ => None,
    };
    let mut digits = [0u8; 20];
    let unit = match by {
        Some(Value::String(s)) => Text::new(Some(s)),
        Some(Value::Int(i)) => Text::new(std::str::from_utf8(decimal(i, &mut digits)).ok()),
        _ => Text::None,
    };
    plan.runtime.exposures.push(Record {
        at_ms: (clock::now_nanos() / 1_000_000) as i64,
        plan: plan.id,
        flag: index,
        variant: decision.variant.unwrap_or_default(),
        rule: decision.rule_index,
        bucket: decision.bucket,
        step: decision.step,
        reason: decision.reason as u8,
        key: Text::new(ctx.key()),
        unit,
    });
}
