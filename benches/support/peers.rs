//! The peers bench's setup, shared by `benches/peers.rs` (which times it) and
//! `tests/peers.rs` (which CI runs): the three engines loaded with the same rule
//! shapes, one context written in each engine's form, the check that the engines give the
//! same answers, and a counting allocator for allocations per evaluation.
//!
//! The answers are checked before anything is timed: an engine that answered differently
//! would be measured on another path (a rule that did not match, a flag it could not
//! find), and its figure would compare nothing.

// A bench or test with a broken fixture should stop at once. The bench and the test each
// use part of this module.
#![allow(clippy::expect_used, dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;

use flagcore::{EvaluationContext, Reason, Store, Value};
use launchdarkly_server_sdk_evaluation as ld;
use unleash_yggdrasil as ygg;

/// The cases, each a flag of the same name in every engine.
pub const CASES: [&str; 5] = [
    "static",
    "country-rollout",
    "segment-semver-rollout",
    "regex",
    "long-list",
];

struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator may run while thread-locals are being torn down.
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every method forwards to the system allocator unchanged; the bookkeeping
// touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap allocations per call of `f` on this thread, averaged over many calls, after one
/// call that may fill the thread's caches. Counted per thread, so that tests running
/// beside it do not count.
pub fn allocations_per_call(mut f: impl FnMut()) -> f64 {
    const CALLS: u64 = 10_000;
    f();
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    for _ in 0..CALLS {
        f();
    }
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(|n| n.get()) as f64 / CALLS as f64
}

/// The cases in Unleash's format; yggdrasil reads `REGEX` constraints with the `regex`
/// crate and `IN` lists as given.
fn unleash_features() -> String {
    let list = serde_json::to_string(&flagcore_benches::peers_long_list()).expect("a list");
    let regex = flagcore_benches::PEERS_REGEX;
    format!(
        r#"{{"version": 2, "features": [
  {{"name": "static", "enabled": true, "strategies": [{{"name": "default", "parameters": {{}}}}]}},
  {{"name": "country-rollout", "enabled": true, "strategies": [{{"name": "flexibleRollout",
     "parameters": {{"rollout": "50", "stickiness": "userId", "groupId": "country-rollout"}},
     "constraints": [{{"contextName": "country", "operator": "IN", "values": ["US", "CA", "DE"]}}]}}]}},
  {{"name": "segment-semver-rollout", "enabled": true, "strategies": [{{"name": "flexibleRollout",
     "parameters": {{"rollout": "5", "stickiness": "userId", "groupId": "segment-semver-rollout"}},
     "segments": [1],
     "constraints": [{{"contextName": "appVersion", "operator": "SEMVER_GT", "value": "2.3.9"}}]}}]}},
  {{"name": "regex", "enabled": true, "strategies": [{{"name": "default", "parameters": {{}},
     "constraints": [{{"contextName": "appVersion", "operator": "REGEX", "value": "{regex}"}}]}}]}},
  {{"name": "long-list", "enabled": true, "strategies": [{{"name": "default", "parameters": {{}},
     "constraints": [{{"contextName": "country", "operator": "IN", "values": {list}}}]}}]}}],
  "segments": [{{"id": 1, "constraints": [{{"contextName": "beta", "operator": "IN", "values": ["true"]}}]}}]}}"#
    )
}

fn ld_flag(key: &str, rules: &str, fallthrough: u32) -> ld::Flag {
    let json = format!(
        r#"{{"key": "{key}", "version": 1, "on": true, "targets": [], "contextTargets": [],
            "rules": [{rules}], "prerequisites": [], "fallthrough": {{"variation": {fallthrough}}},
            "offVariation": 1, "variations": [true, false], "salt": "{key}",
            "clientSide": false, "trackEvents": false, "trackEventsFallthrough": false}}"#
    );
    serde_json::from_str(&json).expect("valid LaunchDarkly flag")
}

fn ld_rollout(on_weight: u32) -> String {
    format!(
        r#"{{"variations": [{{"variation": 0, "weight": {on_weight}}}, {{"variation": 1, "weight": {}}}]}}"#,
        100_000 - on_weight
    )
}

/// LaunchDarkly's store trait hands out owned flags and segments; a map is its simplest
/// fair implementation.
pub struct LdStore {
    pub flags: HashMap<String, ld::Flag>,
    segments: HashMap<String, ld::Segment>,
}

impl ld::Store for LdStore {
    fn flag(&self, key: &str) -> Option<ld::Flag> {
        self.flags.get(key).cloned()
    }

    fn segment(&self, key: &str) -> Option<ld::Segment> {
        self.segments.get(key).cloned()
    }
}

fn ld_store() -> LdStore {
    let static_flag = ld_flag("static", "", 0);
    let country = ld_flag(
        "country-rollout",
        &format!(
            r#"{{"id": "r0", "trackEvents": false, "clauses": [{{"attribute": "country", "op": "in",
                "values": ["US", "CA", "DE"], "negate": false}}], "rollout": {}}}"#,
            ld_rollout(50_000)
        ),
        1,
    );
    let segment = ld_flag(
        "segment-semver-rollout",
        &format!(
            r#"{{"id": "r0", "trackEvents": false, "clauses": [
                {{"attribute": "key", "op": "segmentMatch", "values": ["beta"], "negate": false}},
                {{"attribute": "app_version", "op": "semVerGreaterThan", "values": ["2.3.9"], "negate": false}}],
                "rollout": {}}}"#,
            ld_rollout(5_000)
        ),
        1,
    );
    let regex = ld_flag(
        "regex",
        &format!(
            r#"{{"id": "r0", "trackEvents": false, "clauses": [{{"attribute": "app_version",
                "op": "matches", "values": ["{}"], "negate": false}}], "variation": 0}}"#,
            flagcore_benches::PEERS_REGEX
        ),
        1,
    );
    let long_list = ld_flag(
        "long-list",
        &format!(
            r#"{{"id": "r0", "trackEvents": false, "clauses": [{{"attribute": "country",
                "op": "in", "values": {}, "negate": false}}], "variation": 0}}"#,
            serde_json::to_string(&flagcore_benches::peers_long_list()).expect("a list")
        ),
        1,
    );
    let beta: ld::Segment = serde_json::from_str(
        r#"{"key": "beta", "included": [], "excluded": [], "includedContexts": [],
            "excludedContexts": [], "rules": [{"clauses": [{"attribute": "beta", "op": "in",
            "values": [true], "negate": false}]}], "salt": "beta", "version": 1}"#,
    )
    .expect("valid LaunchDarkly segment");
    LdStore {
        flags: [static_flag, country, segment, regex, long_list]
            .into_iter()
            .map(|f| (f.key.clone(), f))
            .collect(),
        segments: [("beta".to_owned(), beta)].into_iter().collect(),
    }
}

/// The three engines, each loaded with every case.
pub struct Engines {
    pub flagcore: Store,
    pub yggdrasil: ygg::EngineState,
    pub launchdarkly: LdStore,
}

impl Engines {
    pub fn new() -> Engines {
        let flagcore = Store::from_bytes(flagcore_benches::peers_snapshot().as_bytes())
            .expect("valid snapshot");
        let yggdrasil = ygg::EngineState::default();
        let features: ygg::ClientFeatures =
            serde_json::from_str(&unleash_features()).expect("valid Unleash features");
        yggdrasil.take_state(ygg::UpdateMessage::FullResponse(features));
        Engines {
            flagcore,
            yggdrasil,
            launchdarkly: ld_store(),
        }
    }

    /// The LaunchDarkly flag of `case`, fetched once outside the timed loop.
    pub fn ld_flag(&self, case: &str) -> &ld::Flag {
        self.launchdarkly
            .flags
            .get(case)
            .expect("every case is a LaunchDarkly flag")
    }

    /// Each engine's answer to `case` for `ctx`, with what decided it where the engine
    /// says.
    pub fn answers(&self, case: &str, ctx: &PeerContext) -> Answers {
        let snapshot = self.flagcore.snapshot();
        let flagcore = snapshot.bool_details(case, &ctx.flagcore(), false);
        let launchdarkly = ld::evaluate(
            &self.launchdarkly,
            self.ld_flag(case),
            &ctx.launchdarkly,
            None,
        );
        Answers {
            flagcore: flagcore.value,
            flagcore_reason: flagcore.reason,
            flagcore_rule: flagcore.rule_index,
            yggdrasil: self.yggdrasil.is_enabled(case, &ctx.yggdrasil, &None),
            launchdarkly: match launchdarkly.value {
                Some(ld::FlagValue::Bool(b)) => Some(*b),
                _ => None,
            },
            launchdarkly_reason: launchdarkly.reason,
        }
    }

    /// Panics, naming every case and each engine's answer, unless the three engines give
    /// the same value for every case.
    pub fn assert_agree(&self, ctx: &PeerContext) {
        let mut disagreements = String::new();
        for case in CASES {
            let answers = self.answers(case, ctx);
            if !answers.agree() {
                let _ = writeln!(disagreements, "  {case}: {answers}");
            }
        }
        assert!(
            disagreements.is_empty(),
            "the engines answer differently for {ctx}, so their timings would compare \
             different work:\n{disagreements}"
        );
    }

    /// Panics unless evaluating each case through `Store::bool` allocates nothing on the
    /// heap.
    pub fn assert_flagcore_allocates_nothing(&self, ctx: &PeerContext) {
        let fc_ctx = ctx.flagcore();
        let mut allocating = String::new();
        for case in CASES {
            let per_call = allocations_per_call(|| {
                black_box(self.flagcore.bool(black_box(case), &fc_ctx, false));
            });
            if per_call != 0.0 {
                let _ = writeln!(
                    allocating,
                    "  {case}: {per_call} allocations per evaluation"
                );
            }
        }
        assert!(
            allocating.is_empty(),
            "flagcore must not allocate on evaluation (docs/format.md §4.9), but for \
             {ctx}:\n{allocating}"
        );
    }
}

/// What each engine answered for one case and one context.
#[derive(Debug)]
pub struct Answers {
    pub flagcore: bool,
    pub flagcore_reason: Reason,
    pub flagcore_rule: Option<usize>,
    pub yggdrasil: bool,
    /// `None` when LaunchDarkly served no boolean (an evaluation error).
    pub launchdarkly: Option<bool>,
    pub launchdarkly_reason: ld::Reason,
}

impl Answers {
    pub fn agree(&self) -> bool {
        self.launchdarkly == Some(self.flagcore) && self.yggdrasil == self.flagcore
    }
}

impl std::fmt::Display for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "flagcore={} ({:?}, rule {:?}), yggdrasil={}, launchdarkly={:?} ({:?})",
            self.flagcore,
            self.flagcore_reason,
            self.flagcore_rule,
            self.yggdrasil,
            self.launchdarkly,
            self.launchdarkly_reason
        )
    }
}

/// One context in each engine's form, built once, outside any timed loop. Attribute names
/// and values are flagcore's; Unleash calls the version `appVersion` and takes every
/// property as a string.
pub struct PeerContext {
    pub key: &'static str,
    pub attributes: [(&'static str, Value<'static>); 3],
    pub yggdrasil: ygg::Context,
    pub launchdarkly: ld::Context,
}

impl PeerContext {
    /// The context every engine is timed with.
    pub fn measured() -> PeerContext {
        PeerContext::new(
            flagcore_benches::PEERS_KEY,
            flagcore_benches::PEERS_ATTRIBUTES,
        )
    }

    pub fn new(key: &'static str, attributes: [(&'static str, Value<'static>); 3]) -> PeerContext {
        let mut properties = HashMap::new();
        let mut launchdarkly = ld::ContextBuilder::new(key);
        for (name, value) in attributes {
            let unleash_name = match name {
                "app_version" => "appVersion",
                other => other,
            };
            let (text, ld_value) = match value {
                Value::String(s) => (s.to_owned(), ld::AttributeValue::String(s.to_owned())),
                Value::Bool(b) => (b.to_string(), ld::AttributeValue::Bool(b)),
                Value::Int(i) => (i.to_string(), ld::AttributeValue::Number(i as f64)),
                Value::Float(x) => (x.to_string(), ld::AttributeValue::Number(x)),
            };
            properties.insert(unleash_name.to_owned(), text);
            launchdarkly.set_value(name, ld_value);
        }
        PeerContext {
            key,
            attributes,
            yggdrasil: ygg::Context {
                user_id: Some(key.to_owned()),
                properties: Some(properties),
                ..ygg::Context::default()
            },
            launchdarkly: launchdarkly.build().expect("valid LaunchDarkly context"),
        }
    }

    pub fn flagcore(&self) -> EvaluationContext<'_> {
        EvaluationContext::new(self.key).with_attributes(&self.attributes)
    }
}

impl std::fmt::Display for PeerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "key {:?} with {:?}", self.key, self.attributes)
    }
}
