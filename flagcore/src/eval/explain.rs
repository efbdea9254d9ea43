//! `explain`: an evaluation that also records, for a person, the path it took.

use super::context::EvaluationContext;
use super::details::{ErrorCode, Reason};
use super::{SegmentWhy, Trace};
use crate::plan::{ConditionPlan, Plan, ServePlan, Values};

/// The full story of one evaluation: the value whatever the flag's type, the details, and
/// each step the evaluation took (prerequisites, target, rules, conditions, segments).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The flag asked for.
    pub flag: String,
    /// The value served as JSON; `null` when no variant was served.
    pub value: serde_json::Value,
    /// The variant served, if any.
    pub variant: Option<String>,
    /// Why.
    pub reason: Reason,
    /// What went wrong, if anything.
    pub error_code: Option<ErrorCode>,
    /// The rule that decided, if one did.
    pub rule_index: Option<usize>,
    /// That rule's `id`.
    pub rule_id: Option<String>,
    /// True when an individual target decided.
    pub target: bool,
    /// The index of that target in the flag's `targets`.
    pub target_index: Option<usize>,
    /// The bucket when a rollout decided.
    pub bucket: Option<u32>,
    /// The schedule step in force when a scheduled rollout decided.
    pub step: Option<usize>,
    /// The path the evaluation took, one line per step, indented for prerequisites.
    pub steps: Vec<String>,
}

/// Records steps as text while the evaluator runs.
struct Recorder<'p> {
    plan: &'p Plan,
    /// The flag being evaluated at each prerequisite depth.
    flags: Vec<u32>,
    steps: Vec<String>,
}

impl Recorder<'_> {
    fn push(&mut self, line: String) {
        let indent = "  ".repeat(self.flags.len().saturating_sub(1));
        self.steps.push(format!("{indent}{line}"));
    }

    fn current(&self) -> &crate::plan::FlagPlan {
        let index = self.flags.last().copied().unwrap_or_default();
        &self.plan.flags[index as usize]
    }

    fn describe(&self, condition: &ConditionPlan) -> String {
        match condition {
            ConditionPlan::InSegment(s) => {
                format!("in_segment {}", self.plan.segments[s.index as usize].name)
            }
            ConditionPlan::NotInSegment(s) => {
                format!(
                    "not_in_segment {}",
                    self.plan.segments[s.index as usize].name
                )
            }
            ConditionPlan::InBucket { by, from, to, .. } => format!(
                "in_bucket by {} [{}%, {}%)",
                by.name(),
                f64::from(*from) / 1000.0,
                f64::from(*to) / 1000.0
            ),
            ConditionPlan::Clause { text, .. } => text.to_string(),
        }
    }
}

impl Trace for Recorder<'_> {
    fn disabled(&mut self, flag: u32, killed: bool) {
        let name = &self.plan.flags[flag as usize].name;
        let flag = &self.plan.flags[flag as usize];
        let why = match (killed, &flag.flagd) {
            (true, _) => "killed at runtime",
            (false, Some(_)) => "disabled in the flagd document (state: DISABLED)",
            (false, None) => "disabled in the snapshot (enabled: false)",
        };
        let serving = match flag.off_variant {
            Some(_) => "its off_variant",
            None => "the caller's default",
        };
        self.push(format!("flag {name} is {why}: serving {serving}"));
    }

    fn flagd_targeting(&mut self, returned: Option<&str>, failed: bool) {
        self.push(match (returned, failed) {
            (_, true) => {
                "flagd targeting: an operator's arguments were unusable, so it returned null"
                    .to_owned()
            }
            (None, _) => "flagd targeting returned null".to_owned(),
            (Some(name), _) => format!("flagd targeting returned `{name}`"),
        });
    }

    fn target(&mut self, _flag: u32, target: u32) {
        self.push(format!("the targeting key is listed in targets[{target}]"));
    }

    fn enter_prerequisite(&mut self, prerequisite: u32) {
        let name = self.plan.flags[prerequisite as usize].name.clone();
        self.push(format!("prerequisite {name}: evaluating"));
        self.flags.push(prerequisite);
    }

    fn leave_prerequisite(&mut self) {
        self.flags.pop();
    }

    fn prerequisite(&mut self, flag: u32, prerequisite: u32, served: Option<u32>, passed: bool) {
        let flag = &self.plan.flags[flag as usize];
        let required = flag
            .prerequisites
            .iter()
            .find(|(p, _)| *p == prerequisite)
            .map_or(0, |(_, v)| *v);
        let pre = &self.plan.flags[prerequisite as usize];
        let served = served.map_or("no variant".to_owned(), |v| {
            format!("variant {}", pre.variant_names[v as usize])
        });
        let verdict = if passed { "passed" } else { "FAILED" };
        self.push(format!(
            "prerequisite {}: served {served}, requires {}: {verdict}",
            pre.name, pre.variant_names[required as usize]
        ));
    }

    fn condition(&mut self, rule: u32, condition: u32, held: bool) {
        let flag = self.current();
        let Some(rule_plan) = flag.rules.get(rule as usize) else {
            return;
        };
        let text = flag
            .conditions_of(rule_plan, true)
            .get(condition as usize)
            .map(|c| self.describe(c))
            .unwrap_or_default();
        let id = rule_plan
            .id
            .as_deref()
            .map_or(String::new(), |id| format!(" ({id})"));
        let verdict = if held { "holds" } else { "does not hold" };
        self.push(format!(
            "rule {rule}{id}: condition {condition} `{text}` {verdict}"
        ));
    }

    fn segment(&mut self, segment: u32, why: SegmentWhy) {
        let name = &self.plan.segments[segment as usize].name;
        let verdict = match why {
            SegmentWhy::Excluded => "not a member (key excluded)".to_owned(),
            SegmentWhy::Included => "member (key included)".to_owned(),
            SegmentWhy::Rule(i) => format!("member (segment rule {i} holds)"),
            SegmentWhy::NoRule => "not a member (no segment rule holds)".to_owned(),
        };
        self.push(format!("segment {name}: {verdict}"));
    }

    fn rollout_skipped(&mut self, rule: u32) {
        self.push(format!(
            "rule {rule}: its rollout attribute is absent or not a string/integer: next rule"
        ));
    }

    fn schedule_step(&mut self, flag: u32, rule: Option<u32>, step: Option<u32>) {
        let flag = &self.plan.flags[flag as usize];
        let (owner, serve) = match rule {
            Some(i) => (format!("rule {i}"), &flag.rules[i as usize].serve),
            None => ("fallthrough".to_owned(), &flag.fallthrough),
        };
        let ServePlan::Rollout { schedule, .. } = serve else {
            return;
        };
        let line = match step {
            Some(s) => format!(
                "{owner}: schedule step {s} (from {}) is in force",
                schedule[s as usize].at_text
            ),
            None => format!(
                "{owner}: before the first schedule step ({}): the rollout's own split serves",
                schedule.first().map_or("", |s| &*s.at_text)
            ),
        };
        self.push(line);
    }
}

/// Reads any flag's value as JSON, so `explain` need not know the type.
#[derive(Clone, Copy)]
struct AnyValue;

impl Plan {
    /// Evaluates `flag` whatever its type and records the path the evaluation took.
    ///
    /// ```
    /// let store = flagcore::Store::from_bytes(br#"{"version": 1, "flags": {
    ///   "beta": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    ///            "rules": [{"id": "testers", "conditions": [
    ///               {"attribute": "email", "op": "ends_with", "values": ["@corp.example"]}],
    ///               "serve": {"variant": "on"}}],
    ///            "fallthrough": {"variant": "off"}}}}"#)?;
    /// let attrs = [("email", flagcore::Value::from("ann@corp.example"))];
    /// let ctx = flagcore::EvaluationContext::new("ann").with_attributes(&attrs);
    /// let explanation = store.snapshot().explain("beta", &ctx);
    /// assert_eq!(explanation.rule_id.as_deref(), Some("testers"));
    /// assert!(explanation.steps[0].contains("holds"));
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub fn explain(&self, flag: &str, ctx: &EvaluationContext<'_>) -> Explanation {
        let plan = self;
        let top = plan.index.get(flag).unwrap_or_default();
        let mut recorder = Recorder {
            plan,
            flags: vec![top],
            steps: Vec::new(),
        };
        let details = self.details_traced(flag, ctx, AnyValue, &mut recorder);
        let value = details
            .variant
            .and_then(|variant| {
                let f = &plan.flags[plan.index.get(flag)? as usize];
                let i = f.variant_names.iter().position(|n| &**n == variant)?;
                Some(json_value(&f.values, i))
            })
            .unwrap_or(serde_json::Value::Null);
        let mut steps = recorder.steps;
        if let (Some(i), Some(f)) = (details.rule_index, plan.index.get(flag)) {
            let flag = &plan.flags[f as usize];
            if flag.conditions_of(&flag.rules[i], true).is_empty() {
                steps.push(format!("rule {i}: has no conditions, so it holds"));
            }
        }
        Explanation {
            flag: flag.to_owned(),
            value,
            variant: details.variant.map(str::to_owned),
            reason: details.reason,
            error_code: details.error_code,
            rule_index: details.rule_index,
            rule_id: details.rule_id.map(str::to_owned),
            target: details.target,
            target_index: details.target_index,
            bucket: details.bucket,
            step: details.step,
            steps,
        }
    }
}

impl super::getters::Extract<'_> for AnyValue {
    /// Every kind (`ValueKind` has five).
    const KINDS: u8 = 0b1_1111;
    fn extract(_: &Values, _: usize) -> Option<AnyValue> {
        Some(AnyValue)
    }
}

fn json_value(values: &Values, i: usize) -> serde_json::Value {
    match values {
        Values::Bool(v) => serde_json::Value::from(v[i]),
        Values::Str(v) => serde_json::Value::from(&*v[i]),
        Values::Int(v) => serde_json::Value::from(v[i]),
        Values::Float(v) => serde_json::Value::from(v[i]),
        Values::Json(v) => v[i].clone(),
    }
}
