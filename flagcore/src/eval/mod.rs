//! The evaluator of docs/format.md §4: reads a compiled [`Plan`], never a document, and allocates
//! nothing.

pub(crate) mod bucket;
mod clock;
pub(crate) mod context;
pub(crate) mod details;
pub(crate) mod explain;
pub(crate) mod getters;
pub(crate) mod handle;
mod logic;
mod segments;

use crate::plan::op::Test;
use crate::plan::{
    Attr, ConditionPlan, FlagPlan, Plan, SegmentRef, ServePlan, SingleRule, StepPlan,
};
use crate::primitives::hashing::bucket_bytes;
use crate::primitives::murmur3::murmur3_32_of;
use bucket::bucket_of;
use context::{EvaluationContext, Value};
use details::{Decision, Reason};

pub(crate) use details::ErrorCode;

/// Why a context is or is not in a segment, for `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SegmentWhy {
    Excluded,
    Included,
    Rule(u32),
    NoRule,
}

/// Observes an evaluation step by step. The evaluator is generic over it, so the
/// no-op [`NoTrace`] compiles away and only `explain` pays for tracing.
pub(crate) trait Trace {
    /// Whether the tracer observes anything: evaluations that are not traced may take
    /// shortcuts that skip steps a tracer would report (segments inlined).
    const TRACES: bool = true;
    fn disabled(&mut self, _flag: u32, _killed: bool) {}
    fn target(&mut self, _flag: u32, _target: u32) {}
    fn prerequisite(
        &mut self,
        _flag: u32,
        _prerequisite: u32,
        _served: Option<u32>,
        _passed: bool,
    ) {
    }
    fn enter_prerequisite(&mut self, _prerequisite: u32) {}
    fn leave_prerequisite(&mut self) {}
    fn condition(&mut self, _rule: u32, _condition: u32, _held: bool) {}
    fn segment(&mut self, _segment: u32, _why: SegmentWhy) {}
    fn rollout_skipped(&mut self, _rule: u32) {}
    /// A scheduled rollout of rule `rule` (`None`: the fallthrough) used step `step`
    /// (`None`: its own split, before the first step).
    fn schedule_step(&mut self, _flag: u32, _rule: Option<u32>, _step: Option<u32>) {}
    /// A flagd flag's targeting returned `returned` (`None`: null; `failed`: because an
    /// operator's arguments were unusable).
    fn flagd_targeting(&mut self, _returned: Option<&str>, _failed: bool) {}
}

/// The tracer of every ordinary evaluation: does nothing.
pub(crate) struct NoTrace;

impl Trace for NoTrace {
    const TRACES: bool = false;
}

impl Plan {
    /// Evaluates flag `index` from step 4 of docs/format.md §4 on (the getters did steps 1–3).
    #[inline]
    pub(crate) fn evaluate<T: Trace>(
        &self,
        index: u32,
        ctx: &EvaluationContext<'_>,
        trace: &mut T,
    ) -> Decision {
        Evaluator {
            plan: self,
            ctx,
            trace,
            segments_known: 0,
            segments_in: 0,
            now: None,
        }
        .flag(index)
    }
}

/// One evaluation in progress: the plan, the context, the tracer, and the verdicts of the
/// first 64 segments, which rules and prerequisites often ask about more than once.
struct Evaluator<'e, 'c, T> {
    plan: &'e Plan,
    ctx: &'e EvaluationContext<'c>,
    trace: &'e mut T,
    segments_known: u64,
    segments_in: u64,
    /// The instant schedules are read at (Unix nanoseconds), known once one is needed.
    now: Option<i128>,
}

impl<T: Trace> Evaluator<'_, '_, T> {
    fn flag(&mut self, index: u32) -> Decision {
        let plan = self.plan;
        let flag = &plan.flags[index as usize];
        if let Some(flagd) = &flag.flagd {
            return self.flagd(index, flagd);
        }
        let killed = plan.runtime.is_killed(index);
        if !flag.enabled || killed {
            self.trace.disabled(index, killed);
            return Decision::off(flag.off_variant, Reason::Disabled);
        }
        for &(prerequisite, required) in flag.prerequisites.iter() {
            self.trace.enter_prerequisite(prerequisite);
            let served = self.flag(prerequisite).variant;
            self.trace.leave_prerequisite();
            let passed = served == Some(required);
            self.trace.prerequisite(index, prerequisite, served, passed);
            if !passed {
                return Decision::off(flag.off_variant, Reason::PrerequisiteFailed);
            }
        }
        if let Some(key) = self.ctx.key() {
            if let Some(&(variant, target)) = flag.targets.get(key) {
                self.trace.target(index, target);
                let mut outcome = Decision::served(variant, Reason::TargetingMatch);
                outcome.target = Some(target);
                return outcome;
            }
        }
        // Checked once here, not in the loop (where it cost every rule-based flag 20
        // instructions): a single-rule flag's clause lives in the flag, not in its rule.
        if let Some(single) = &flag.single {
            return self.single_rule(flag, single);
        }
        for (i, rule) in flag.rules.iter().enumerate() {
            let i = i as u32;
            if !self.all_hold(rule.conditions_unless_single(T::TRACES), i) {
                continue;
            }
            let mut outcome = match &rule.serve {
                ServePlan::Variant(v) => Decision::served(*v, Reason::TargetingMatch),
                ServePlan::CallerDefault => Decision::fallback(Reason::Default),
                ServePlan::Rollout { by, ends, schedule } => match self.bucket(flag.seed, by) {
                    Some(b) => self.rollout(index, Some(i), ends, schedule, b),
                    None => {
                        self.trace.rollout_skipped(i);
                        continue;
                    }
                },
                ServePlan::FlagdRollout { salt, by, ends } => {
                    match self.flagd_split(salt, by, ends) {
                        Some(v) => Decision::served(v, Reason::Split),
                        None => {
                            self.trace.rollout_skipped(i);
                            continue;
                        }
                    }
                }
            };
            outcome.rule_index = Some(i);
            return outcome;
        }
        match &flag.fallthrough {
            ServePlan::Variant(v) => Decision::served(
                *v,
                if flag.is_static {
                    Reason::Static
                } else {
                    Reason::Default
                },
            ),
            ServePlan::CallerDefault => Decision::fallback(Reason::Default),
            ServePlan::Rollout { by, ends, schedule } => match self.bucket(flag.seed, by) {
                Some(b) => self.rollout(index, None, ends, schedule, b),
                None => Decision::error(ErrorCode::TargetingKeyMissing),
            },
            ServePlan::FlagdRollout { salt, by, ends } => match self.flagd_split(salt, by, ends) {
                Some(v) => Decision::served(v, Reason::Split),
                None => Decision::error(ErrorCode::TargetingKeyMissing),
            },
        }
    }

    /// Steps 7 and 8 for a [`SingleRule`](crate::plan::SingleRule) flag (it has no
    /// prerequisites or targets): its rule's variant if the clause holds, else the
    /// fallthrough's. Out of line: the getters answer these flags without the evaluator,
    /// which sees them only for details, `explain` or a caller asking the wrong type.
    #[inline(never)]
    fn single_rule(&mut self, flag: &FlagPlan, single: &SingleRule) -> Decision {
        let held = match flag.rules.first() {
            Some(rule) => self.all_hold(flag.conditions_of(rule, T::TRACES), 0),
            None => false,
        };
        if held {
            let mut outcome = Decision::served(single.held, Reason::TargetingMatch);
            outcome.rule_index = Some(0);
            outcome
        } else {
            Decision::served(single.otherwise, Reason::Default)
        }
    }

    /// The variant a rollout with flagd bucketing serves: the MurmurHash3 (x86, 32 bits,
    /// seed 0) of the salt followed by the `by` value, mapped onto the total weight as
    /// flagd's `fractional` maps it; `None` when the context lacks the attribute.
    #[inline(never)]
    fn flagd_split(&self, salt: &str, by: &Attr, ends: &[(u32, u32)]) -> Option<u32> {
        let mut digits = [0u8; 20];
        let value: &[u8] = match attribute(self.ctx, by)? {
            Value::String(s) => s.as_bytes(),
            Value::Int(i) => bucket::decimal(i, &mut digits),
            _ => return None,
        };
        let hash = murmur3_32_of(&[salt.as_bytes(), value], 0);
        let total = ends.last().map_or(0, |(end, _)| *end);
        let point = (u64::from(hash) * u64::from(total)) >> 32;
        ends.iter()
            .find(|(end, _)| point < u64::from(*end))
            .map(|(_, v)| *v)
    }

    /// The variant whose bucket range holds `bucket`, in the split in force: the last
    /// schedule step that has begun, else the rollout's own.
    #[inline(always)]
    fn rollout(
        &mut self,
        flag: u32,
        rule: Option<u32>,
        ends: &[(u32, u32)],
        schedule: &[StepPlan],
        bucket: u32,
    ) -> Decision {
        let (ends, step) = if schedule.is_empty() {
            (ends, None)
        } else {
            self.step_in_force(flag, rule, ends, schedule)
        };
        // Ends are increasing and the last is 100,000 > every bucket, so one always matches.
        let variant = ends
            .iter()
            .find(|(end, _)| bucket < *end)
            .map_or(0, |(_, v)| *v);
        let mut outcome = Decision::served(variant, Reason::Split);
        outcome.bucket = Some(bucket);
        outcome.step = step;
        outcome
    }

    /// The bucket ends of the schedule step in force, and its index; the rollout's own
    /// ends before the first step. Out of line: most rollouts have no schedule.
    #[inline(never)]
    fn step_in_force<'p>(
        &mut self,
        flag: u32,
        rule: Option<u32>,
        ends: &'p [(u32, u32)],
        schedule: &'p [StepPlan],
    ) -> (&'p [(u32, u32)], Option<u32>) {
        let now = self.now();
        let step = schedule.iter().rposition(|step| step.at <= now);
        self.trace.schedule_step(flag, rule, step.map(|i| i as u32));
        match step {
            Some(i) => (&schedule[i].ends, Some(i as u32)),
            None => (ends, None),
        }
    }

    /// The evaluation instant: the context's, else the clock's, read once per evaluation
    /// and only by flags that have a schedule.
    fn now(&mut self) -> i128 {
        *self.now.get_or_insert_with(|| match self.ctx.as_of() {
            Some(instant) => clock::unix_nanos(instant),
            None => clock::now_nanos(),
        })
    }

    #[inline(always)]
    fn bucket(&self, seed: u64, by: &Attr) -> Option<u32> {
        match by {
            Attr::Key => self.ctx.key().map(|key| bucket_bytes(seed, key.as_bytes())),
            Attr::Named(name) => bucket_of(seed, self.ctx.named_ref(name)?),
        }
    }

    #[inline]
    fn all_hold(&mut self, conditions: &[ConditionPlan], rule: u32) -> bool {
        for (j, condition) in conditions.iter().enumerate() {
            let held = self.holds(condition);
            self.trace.condition(rule, j as u32, held);
            if !held {
                return false;
            }
        }
        true
    }

    /// Inlined into the rule loops for clauses, the common case; segment checks, which
    /// may recurse, stay out of line so the loops keep a small frame.
    #[inline(always)]
    fn holds(&mut self, condition: &ConditionPlan) -> bool {
        match condition {
            ConditionPlan::Clause { attr, test, .. } => clause_holds::<false>(self.ctx, attr, test),
            ConditionPlan::InSegment(s) => self.in_segment(*s),
            ConditionPlan::NotInSegment(s) => !self.in_segment(*s),
            ConditionPlan::InBucket { seed, by, from, to } => self
                .bucket(*seed, by)
                .is_some_and(|b| *from <= b && b < *to),
        }
    }

    /// A verdict already known is read in place; only a new one costs a call.
    #[inline(always)]
    fn in_segment(&mut self, segment: SegmentRef) -> bool {
        if self.segments_known & segment.bit != 0 {
            return self.segments_in & segment.bit != 0;
        }
        self.segment_verdict(segment.index, segment.bit)
    }

    #[inline(never)]
    fn segment_verdict(&mut self, index: u32, bit: u64) -> bool {
        let segment = &self.plan.segments[index as usize];
        let why = self.segment_why(segment);
        self.trace.segment(index, why);
        let member = matches!(why, SegmentWhy::Included | SegmentWhy::Rule(_));
        self.segments_known |= bit;
        if member {
            self.segments_in |= bit;
        }
        member
    }

    fn segment_why(&mut self, segment: &crate::plan::SegmentPlan) -> SegmentWhy {
        if let Some(key) = self.ctx.key() {
            match segment.keys.get(key) {
                Some(false) => return SegmentWhy::Excluded,
                Some(true) => return SegmentWhy::Included,
                None => {}
            }
        }
        // Conditions inside a segment are not traced one by one: the segment's verdict is.
        let rules = segment.rules(T::TRACES);
        // The most common segment, one rule of one clause, without the loops' set-up.
        if let [rule] = rules {
            if let [ConditionPlan::Clause { attr, test, .. }] = &**rule {
                return match clause_holds::<false>(self.ctx, attr, test) {
                    true => SegmentWhy::Rule(0),
                    false => SegmentWhy::NoRule,
                };
            }
        }
        for (i, rule) in rules.iter().enumerate() {
            if rule.iter().all(|c| self.holds(c)) {
                return SegmentWhy::Rule(i as u32);
            }
        }
        SegmentWhy::NoRule
    }
}

/// Whether a clause holds: the attribute, tested where the caller's context holds it; a
/// clause on an absent attribute is false. `ALONE`: the clause is all the caller tests,
/// so a pattern match is inlined too ([`Test::holds_alone`]).
#[inline(always)]
pub(crate) fn clause_holds<const ALONE: bool>(
    ctx: &EvaluationContext<'_>,
    attr: &Attr,
    test: &Test,
) -> bool {
    let key;
    let value = match attr {
        Attr::Key => match ctx.key() {
            Some(k) => {
                key = Value::String(k);
                &key
            }
            None => return false,
        },
        Attr::Named(name) => match ctx.named_ref(name) {
            Some(value) => value,
            None => return false,
        },
    };
    if ALONE {
        test.holds_alone(value)
    } else {
        test.holds(value)
    }
}

#[inline]
fn attribute<'a>(ctx: &EvaluationContext<'a>, attr: &Attr) -> Option<Value<'a>> {
    match attr {
        Attr::Key => ctx.key().map(Value::String),
        Attr::Named(name) => ctx.named(name),
    }
}
