//! Fixtures shared by the flagcore benchmarks: one snapshot with a flag per shape the
//! benches measure, and a generator of large snapshots for load times.

use flagcore::Value;

/// The attributes of the benchmarks' context: one for each condition of
/// [`shapes_snapshot`], in an order that makes the lookups realistic (not all first).
pub const ATTRIBUTES: [(&str, Value<'static>); 6] = [
    ("email", Value::String("dana@example.com")),
    ("beta_opt_in", Value::Bool(true)),
    ("country", Value::String("c999")),
    ("account_id", Value::String("acct-1027")),
    (
        "user_agent",
        Value::String("Mozilla/5.0 (Linux; Android 14) Mobile"),
    ),
    ("app_version", Value::String("2.5.1")),
];

/// The pattern of the peers bench's `regex` case, without backslashes, which Unleash's
/// constraint grammar would read as escapes of its own.
pub const PEERS_REGEX: &str = "^2[.]4[.][0-9]+$";

/// The values of the peers bench's `long-list` case: 999 that no context has, then `DE`,
/// last, where a scan of the list would find it.
pub fn peers_long_list() -> Vec<String> {
    (0..999)
        .map(|i| format!("c{i}"))
        .chain(["DE".to_owned()])
        .collect()
}

/// The peers bench's rule shapes in flagcore's format: `static`, `country-rollout`
/// (`country in [US, CA, DE]`, then 50% on the key), `segment-semver-rollout` (a `beta`
/// segment, `app_version > 2.3.9`, then 5%), `regex` (`app_version` matches
/// [`PEERS_REGEX`]) and `long-list` (`country` in [`peers_long_list`]).
pub fn peers_snapshot() -> String {
    // The values need no escaping.
    let quoted: Vec<String> = peers_long_list()
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect();
    let list = format!("[{}]", quoted.join(", "));
    format!(
        r#"{{"version": 1,
  "segments": {{"beta": {{"rules": [{{"conditions": [{{"attribute": "beta", "op": "eq", "values": [true]}}]}}]}}}},
  "flags": {{
    "static": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
               "fallthrough": {{"variant": "on"}}}},
    "country-rollout": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "rules": [{{"conditions": [{{"attribute": "country", "op": "in", "values": ["US", "CA", "DE"]}}],
                 "serve": {{"rollout": {{"split": [{{"variant": "on", "weight": 50}}, {{"variant": "off", "weight": 50}}]}}}}}}],
      "fallthrough": {{"variant": "off"}}}},
    "segment-semver-rollout": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "rules": [{{"conditions": [{{"in_segment": "beta"}},
                                {{"attribute": "app_version", "op": "semver_gt", "values": ["2.3.9"]}}],
                 "serve": {{"rollout": {{"split": [{{"variant": "on", "weight": 5}}, {{"variant": "off", "weight": 95}}]}}}}}}],
      "fallthrough": {{"variant": "off"}}}},
    "regex": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "rules": [{{"conditions": [{{"attribute": "app_version", "op": "matches", "values": ["{PEERS_REGEX}"]}}],
                 "serve": {{"variant": "on"}}}}],
      "fallthrough": {{"variant": "off"}}}},
    "long-list": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "rules": [{{"conditions": [{{"attribute": "country", "op": "in", "values": {list}}}],
                 "serve": {{"variant": "on"}}}}],
      "fallthrough": {{"variant": "off"}}}}}}}}"#
    )
}

/// The targeting key of the peers bench's context. The engines bucket with different
/// hashes (flagcore xxh3, Unleash murmur3, LaunchDarkly SHA-1), so one key lands in a
/// rollout's `on` share in one engine and not in another; this key is in the `on` share of
/// both rollouts in all three, so every engine answers `true` to every case by the same
/// path (the rule matches, the rollout serves `on`). `tests/peers.rs` checks it.
pub const PEERS_KEY: &str = "user-69190";

/// The attributes of the peers bench's context (every engine gets the same).
pub const PEERS_ATTRIBUTES: [(&str, Value<'static>); 3] = [
    ("country", Value::String("DE")),
    ("beta", Value::Bool(true)),
    ("app_version", Value::String("2.4.1")),
];

/// A snapshot with one flag per benchmarked shape.
pub fn shapes_snapshot() -> String {
    let countries: Vec<String> = (0..1000).map(|i| format!("\"c{i}\"")).collect();
    format!(
        r#"{{
  "version": 1,
  "segments": {{
    "internal": {{"include": ["alice"], "rules": [{{"conditions": [
      {{"attribute": "email", "op": "ends_with", "values": ["@corp.example"]}}]}}]}},
    "beta": {{"rules": [{{"conditions": [{{"attribute": "beta_opt_in", "op": "eq", "values": [true]}}]}}]}},
    "customer": {{"rules": [{{"conditions": [{{"not_in_segment": "internal"}}]}}]}},
    "beta-customer": {{"rules": [{{"conditions": [{{"in_segment": "beta"}}, {{"in_segment": "customer"}}]}}]}}
  }},
  "flags": {{
    "static": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
                "fallthrough": {{"variant": "on"}}}},
    "static-string": {{"variants": {{"a": "alpha", "b": "beta"}}, "enabled": true, "off_variant": "a",
                "fallthrough": {{"variant": "b"}}}},
    "static-json": {{"variants": {{"a": {{"limit": 10}}, "b": {{"limit": 20}}}}, "enabled": true,
                "off_variant": "a", "fallthrough": {{"variant": "b"}}}},
    "killed": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
                "fallthrough": {{"variant": "on"}}}},
    "targets": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
                "targets": [{{"variant": "on", "keys": ["bob", "carol", "dave", "erin", "frank"]}}],
                "fallthrough": {{"variant": "off"}}}},
    "three-rules": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "rules": [
        {{"id": "staff", "conditions": [{{"in_segment": "internal"}}], "serve": {{"variant": "on"}}}},
        {{"id": "blocked", "conditions": [{{"attribute": "country", "op": "in", "values": ["KP", "IR", "SY"]}}],
          "serve": {{"variant": "off"}}}},
        {{"id": "canary", "conditions": [{{"in_segment": "beta-customer"}}],
          "serve": {{"rollout": {{"by": "account_id", "split": [{{"variant": "on", "weight": 5}}, {{"variant": "off", "weight": 95}}]}}}}}}
      ],
      "fallthrough": {{"variant": "off"}}}},
    "long-in": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "rules": [{{"conditions": [{{"attribute": "country", "op": "in", "values": [{countries}]}}], "serve": {{"variant": "on"}}}}],
      "fallthrough": {{"variant": "off"}}}},
    "matches": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "rules": [{{"conditions": [{{"attribute": "user_agent", "op": "matches", "values": ["(?i)(iphone|android|mobile)"]}}], "serve": {{"variant": "on"}}}}],
      "fallthrough": {{"variant": "off"}}}},
    "semver": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "rules": [{{"conditions": [{{"attribute": "app_version", "op": "semver_gte", "values": ["2.4.0"]}}], "serve": {{"variant": "on"}}}}],
      "fallthrough": {{"variant": "off"}}}},
    "rollout": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "fallthrough": {{"rollout": {{"split": [{{"variant": "on", "weight": 50}}, {{"variant": "off", "weight": 50}}]}}}}}},
    "scheduled": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off", "salt": "rollout",
      "fallthrough": {{"rollout": {{"split": [{{"variant": "on", "weight": 1}}, {{"variant": "off", "weight": 99}}],
        "schedule": [
          {{"at": "2000-01-01T00:00:00Z", "split": [{{"variant": "on", "weight": 5}}, {{"variant": "off", "weight": 95}}]}},
          {{"at": "2001-01-01T00:00:00Z", "split": [{{"variant": "on", "weight": 50}}, {{"variant": "off", "weight": 50}}]}},
          {{"at": "2999-01-01T00:00:00Z", "split": [{{"variant": "on", "weight": 100}}]}}]}}}}}},
    "tracked": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off", "salt": "rollout",
      "exposures": true,
      "fallthrough": {{"rollout": {{"split": [{{"variant": "on", "weight": 50}}, {{"variant": "off", "weight": 50}}]}}}}}},
    "guarded": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off", "salt": "rollout",
      "fallthrough": {{"rollout": {{"split": [{{"variant": "on", "weight": 50}}, {{"variant": "off", "weight": 50}}]}}}},
      "guardrails": [{{"id": "errors", "watch": ["on"], "baseline": "off", "max_increase": 0.01}}]}},
    "chain-3": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "prerequisites": [{{"flag": "chain-2", "variant": "on"}}], "fallthrough": {{"variant": "on"}}}},
    "chain-2": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "prerequisites": [{{"flag": "chain-1", "variant": "on"}}], "fallthrough": {{"variant": "on"}}}},
    "chain-1": {{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
      "fallthrough": {{"variant": "on"}}}}
  }}
}}"#,
        countries = countries.join(",")
    )
}

/// A snapshot of `flags` flags and `segments` segments, each flag with a segment rule, a
/// clause and a rollout, as a large real deployment would have.
pub fn generated_snapshot(flags: usize, segments: usize) -> String {
    let mut out = String::from("{\"version\": 1, \"segments\": {");
    for s in 0..segments {
        if s > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#""seg-{s}": {{"include": ["user-{s}"], "rules": [{{"conditions": [
                {{"attribute": "plan", "op": "in", "values": ["p{s}", "enterprise"]}}]}}]}}"#
        ));
    }
    out.push_str("}, \"flags\": {");
    for f in 0..flags {
        if f > 0 {
            out.push(',');
        }
        let seg = f % segments.max(1);
        out.push_str(&format!(
            r#""flag-{f}": {{"variants": {{"on": true, "off": false}}, "enabled": true,
                "off_variant": "off", "metadata": {{"owner": "team-{seg}"}},
                "rules": [
                  {{"id": "seg", "conditions": [{{"in_segment": "seg-{seg}"}}], "serve": {{"variant": "on"}}}},
                  {{"conditions": [{{"attribute": "app_version", "op": "semver_gte", "values": ["1.{f}.0"]}}],
                    "serve": {{"rollout": {{"split": [{{"variant": "on", "weight": 10}}, {{"variant": "off", "weight": 90}}]}}}}}}],
                "fallthrough": {{"variant": "off"}}}}"#
        ));
    }
    out.push_str("}}");
    out
}
