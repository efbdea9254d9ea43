//! `flagcore::diff` against expectations computed here, never from flagcore's own output:
//! buckets from the normative formula (docs/format.md §3.1) with `xxhash-rust` directly,
//! segment matches from the contexts' attributes, structural paths written out by hand.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroUsize;
use std::time::{Duration, SystemTime};

use flagcore::diff::{
    diff, read_contexts, AttributeValue, ChangeKind, Context, Contexts, DiffError, DiffReport,
    FlagDiff, Options, Transition,
};
use serde_json::{json, Value};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// docs/format.md §3.1, written out independently of `flagcore::bucket`.
fn bucket(salt: &str, key: &str) -> u32 {
    let h = xxh3_64_with_seed(key.as_bytes(), xxh3_64(salt.as_bytes()));
    ((u128::from(h) * 100_000) >> 64) as u32
}

fn doc(version: u64, flags: Value, segments: Value) -> Vec<u8> {
    json!({"version": version, "segments": segments, "flags": flags})
        .to_string()
        .into_bytes()
}

fn bool_flag(fallthrough: Value) -> Value {
    json!({"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
           "fallthrough": fallthrough})
}

fn split(on: f64) -> Value {
    json!({"rollout": {"split": [{"variant": "on", "weight": on},
                                 {"variant": "off", "weight": 100.0 - on}]}})
}

fn run(old: &[u8], new: &[u8], contexts: Contexts<'_>) -> DiffReport {
    diff(old, new, contexts, &Options::new()).unwrap()
}

fn flag<'r>(report: &'r DiffReport, name: &str) -> &'r FlagDiff {
    report.flags.iter().find(|f| f.flag == name).unwrap()
}

fn moves(from: Option<&str>, to: Option<&str>, count: u64) -> Transition {
    Transition {
        from: from.map(str::to_owned),
        to: to.map(str::to_owned),
        count,
    }
}

fn keyed(key: &str) -> Context {
    Context {
        key: Some(key.to_owned()),
        attributes: Vec::new(),
    }
}

fn with_country(key: &str, country: &str) -> Context {
    Context {
        key: Some(key.to_owned()),
        attributes: vec![(
            "country".to_owned(),
            AttributeValue::String(country.to_owned()),
        )],
    }
}

fn paths(flag: &FlagDiff) -> Vec<(&str, &str)> {
    flag.structural
        .iter()
        .map(|c| (c.path.as_str(), c.what.as_str()))
        .collect()
}

#[test]
fn a_weight_raised_from_5_to_50_moves_exactly_the_buckets_from_5000_to_50000() {
    let old = doc(1, json!({"canary": bool_flag(split(5.0))}), json!({}));
    let new = doc(2, json!({"canary": bool_flag(split(50.0))}), json!({}));
    let users = 20_000u64;
    let expected = (0..users)
        .filter(|i| (5_000..50_000).contains(&bucket("canary", &format!("user-{i}"))))
        .count() as u64;
    assert!(expected > 8_000, "a sanity check of the sample: {expected}");

    let report = run(&old, &new, Contexts::Synthetic(users));
    let canary = flag(&report, "canary");
    assert_eq!(canary.change, ChangeKind::Changed);
    assert_eq!(canary.evaluated, users);
    assert_eq!(canary.changed, expected);
    assert_eq!(
        canary.transitions,
        [moves(Some("off"), Some("on"), expected)]
    );
    // The gate: the share moved is exactly expected / 200 %, at most 3 decimals.
    let share = expected as f64 / 200.0;
    assert!(!canary.moves_more_than(share));
    assert!(canary.moves_more_than(share - 0.001));
    assert_eq!(
        paths(canary),
        [
            (
                "flags.canary.fallthrough.rollout.split[0].weight",
                "5.0 → 50.0"
            ),
            (
                "flags.canary.fallthrough.rollout.split[1].weight",
                "95.0 → 50.0"
            ),
        ]
    );

    // Exactly those users: each of them moves, and no one else does.
    let (inside, outside): (Vec<Context>, Vec<Context>) = (0..2_000)
        .map(|i| keyed(&format!("user-{i}")))
        .partition(|c| (5_000..50_000).contains(&bucket("canary", c.key.as_deref().unwrap())));
    let report = run(&old, &new, Contexts::Listed(&inside));
    assert_eq!(flag(&report, "canary").changed, inside.len() as u64);
    let report = run(&old, &new, Contexts::Listed(&outside));
    assert_eq!(flag(&report, "canary").changed, 0);
}

#[test]
fn a_salt_change_rebuckets_and_a_salt_spelled_out_is_no_change() {
    let salted = |salt: &str| {
        let mut f = bool_flag(split(30.0));
        f["salt"] = json!(salt);
        f
    };
    let old = doc(1, json!({"f": bool_flag(split(30.0))}), json!({}));
    let spelled = doc(2, json!({"f": salted("f")}), json!({}));
    let report = run(&old, &spelled, Contexts::Synthetic(1_000));
    assert_eq!(flag(&report, "f").change, ChangeKind::Unchanged);
    assert_eq!(flag(&report, "f").changed, 0);

    let new = doc(2, json!({"f": salted("f-v2")}), json!({}));
    let expected = (0..5_000)
        .filter(|i| {
            let key = format!("user-{i}");
            (bucket("f", &key) < 30_000) != (bucket("f-v2", &key) < 30_000)
        })
        .count() as u64;
    let report = run(&old, &new, Contexts::Synthetic(5_000));
    let f = flag(&report, "f");
    assert_eq!(f.changed, expected);
    assert_eq!(
        paths(f),
        [(
            "flags.f.salt",
            r#""f" (the flag's name) → "f-v2": its rollouts bucket anew"#
        )]
    );
}

fn segment_world(values: Value) -> Vec<u8> {
    doc(
        if values.as_array().unwrap().len() == 1 {
            1
        } else {
            2
        },
        json!({
            "checkout": {
                "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
                "rules": [{"conditions": [{"in_segment": "europe"}], "serve": {"variant": "on"}}],
                "fallthrough": {"variant": "off"}},
            "unrelated": bool_flag(json!({"variant": "on"}))
        }),
        json!({"europe": {"rules": [{"conditions": [
            {"attribute": "country", "op": "in", "values": values}]}]}}),
    )
}

#[test]
fn a_segment_rule_change_moves_exactly_the_contexts_that_match() {
    let old = segment_world(json!(["DE"]));
    let new = segment_world(json!(["DE", "FR"]));
    let countries = ["DE", "FR", "US", "FR", "JP", "DE", "FR"];
    let contexts: Vec<Context> = (0..700)
        .map(|i| with_country(&format!("u{i}"), countries[i % countries.len()]))
        .collect();
    let french = contexts
        .iter()
        .filter(|c| c.attributes[0].1 == AttributeValue::String("FR".into()))
        .count() as u64;
    let german = contexts
        .iter()
        .filter(|c| c.attributes[0].1 == AttributeValue::String("DE".into()))
        .count() as u64;

    let report = run(&old, &new, Contexts::Listed(&contexts));
    let checkout = flag(&report, "checkout");
    // The flag's own definition is the same: it moves because the segment changed.
    assert_eq!(checkout.change, ChangeKind::Unchanged);
    assert!(checkout.structural.is_empty());
    assert_eq!(
        checkout.transitions,
        [moves(Some("off"), Some("on"), french)]
    );
    assert_eq!(flag(&report, "unrelated").changed, 0);

    assert_eq!(report.segments.len(), 1);
    let europe = &report.segments[0];
    assert_eq!(europe.segment, "europe");
    assert_eq!(europe.change, ChangeKind::Changed);
    assert_eq!(europe.contexts, german + french);
    assert_eq!(europe.changed, french);
    assert_eq!(europe.structural.len(), 1);
    assert_eq!(
        europe.structural[0].path,
        "segments.europe.rules[0].conditions[0].values"
    );
    assert_eq!(europe.structural[0].what, r#"added: "FR""#);
}

#[test]
fn reordered_rules_that_serve_alike_move_no_one_and_are_reported_as_reordered() {
    let rule = |attribute: &str, value: &str| {
        json!({"conditions": [{"attribute": attribute, "op": "eq", "values": [value]}],
               "serve": {"variant": "on"}})
    };
    let flag_with = |rules: Value| {
        json!({"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
               "rules": rules, "fallthrough": {"variant": "off"}})
    };
    let (a, b) = (rule("country", "DE"), rule("plan", "pro"));
    let old = doc(1, json!({"f": flag_with(json!([a, b]))}), json!({}));
    let new = doc(2, json!({"f": flag_with(json!([b, a]))}), json!({}));
    let contexts: Vec<Context> = ["DE", "US"]
        .iter()
        .flat_map(|country| {
            ["pro", "free"].iter().map(move |plan| Context {
                key: Some(format!("{country}-{plan}")),
                attributes: vec![
                    ("country".into(), AttributeValue::String((*country).into())),
                    ("plan".into(), AttributeValue::String((*plan).into())),
                ],
            })
        })
        .collect();
    let report = run(&old, &new, Contexts::Listed(&contexts));
    let f = flag(&report, "f");
    assert_eq!(f.change, ChangeKind::Changed);
    assert_eq!(f.changed, 0);
    assert!(f.transitions.is_empty());
    assert_eq!(paths(f), [("flags.f.rules[0]", "reordered: was rules[1]")]);
}

#[test]
fn added_and_removed_flags_move_every_context_from_or_to_absent() {
    let old = doc(
        1,
        json!({"gone": bool_flag(split(25.0)), "kept": bool_flag(json!({"variant": "on"}))}),
        json!({}),
    );
    let new = doc(
        2,
        json!({"kept": bool_flag(json!({"variant": "on"})), "fresh": bool_flag(json!({"variant": "off"}))}),
        json!({}),
    );
    let users = 4_000;
    let on = (0..users)
        .filter(|i| bucket("gone", &format!("user-{i}")) < 25_000)
        .count() as u64;
    let report = run(&old, &new, Contexts::Synthetic(users));
    let names: Vec<&str> = report.flags.iter().map(|f| f.flag.as_str()).collect();
    assert_eq!(names, ["fresh", "gone", "kept"]);

    let gone = flag(&report, "gone");
    assert_eq!(gone.change, ChangeKind::Removed);
    assert_eq!(paths(gone), [("flags.gone", "removed")]);
    assert_eq!(
        gone.transitions,
        [
            moves(Some("off"), None, users - on),
            moves(Some("on"), None, on)
        ]
    );
    let fresh = flag(&report, "fresh");
    assert_eq!(fresh.change, ChangeKind::Added);
    assert_eq!(fresh.transitions, [moves(None, Some("off"), users)]);
    let kept = flag(&report, "kept");
    assert_eq!((kept.change, kept.changed), (ChangeKind::Unchanged, 0));
}

#[test]
fn a_default_served_on_error_is_none() {
    // NEW buckets by an attribute the contexts lack: the caller's default, no variant.
    let old = doc(
        1,
        json!({"f": bool_flag(json!({"variant": "on"}))}),
        json!({}),
    );
    let mut by_account = split(50.0);
    by_account["rollout"]["by"] = json!("account_id");
    let new = doc(2, json!({"f": bool_flag(by_account)}), json!({}));
    let report = run(&old, &new, Contexts::Synthetic(300));
    let f = flag(&report, "f");
    assert_eq!(f.transitions, [moves(Some("on"), None, 300)]);
    assert_eq!(
        paths(f),
        [(
            "flags.f.fallthrough",
            r#"variant "on" → rollout [on 50.0, off 50.0]"#
        )]
    );
}

#[test]
fn a_prerequisite_change_moves_the_flags_that_require_it() {
    let dependent = json!({"variants": {"on": true, "off": false}, "enabled": true,
        "off_variant": "off", "prerequisites": [{"flag": "base", "variant": "on"}],
        "fallthrough": {"variant": "on"}});
    let mut killed = bool_flag(json!({"variant": "on"}));
    killed["enabled"] = json!(false);
    let old = doc(
        1,
        json!({"base": bool_flag(json!({"variant": "on"})), "dependent": dependent}),
        json!({}),
    );
    let new = doc(
        2,
        json!({"base": killed, "dependent": dependent}),
        json!({}),
    );
    let report = run(&old, &new, Contexts::Synthetic(100));
    assert_eq!(
        paths(flag(&report, "base")),
        [("flags.base.enabled", "true → false (disabled)")]
    );
    let dependent = flag(&report, "dependent");
    assert_eq!(dependent.change, ChangeKind::Unchanged);
    assert_eq!(dependent.transitions, [moves(Some("on"), Some("off"), 100)]);
}

#[test]
fn a_schedule_step_is_evaluated_as_of_now() {
    let mut ramp = split(10.0);
    ramp["rollout"]["schedule"] = json!([{"at": "2030-01-01T00:00:00Z",
        "split": [{"variant": "on", "weight": 60}, {"variant": "off", "weight": 40}]}]);
    let old = doc(1, json!({"f": bool_flag(split(10.0))}), json!({}));
    let new = doc(2, json!({"f": bool_flag(ramp)}), json!({}));
    let new_year_2030 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000);
    let at = |instant| {
        diff(
            &old,
            &new,
            Contexts::Synthetic(3_000),
            &Options::new().now(instant),
        )
        .unwrap()
    };
    let before = at(new_year_2030 - Duration::from_nanos(1));
    assert_eq!(flag(&before, "f").changed, 0);
    assert_eq!(
        paths(flag(&before, "f")),
        [(
            "flags.f.fallthrough.rollout.schedule[0]",
            "added: from 2030-01-01T00:00:00Z [on 60, off 40]"
        )]
    );
    let expected = (0..3_000)
        .filter(|i| (10_000..60_000).contains(&bucket("f", &format!("user-{i}"))))
        .count() as u64;
    let after = at(new_year_2030);
    assert_eq!(
        flag(&after, "f").transitions,
        [moves(Some("off"), Some("on"), expected)]
    );
}

#[test]
fn the_counts_do_not_depend_on_the_number_of_threads() {
    let old = segment_world(json!(["DE"]));
    let new = segment_world(json!(["DE", "FR"]));
    let contexts: Vec<Context> = (0..3_000)
        .map(|i| with_country(&format!("u{i}"), ["DE", "FR", "US"][i % 3]))
        .collect();
    let with = |threads: usize| {
        let options = Options::new().threads(NonZeroUsize::new(threads).unwrap());
        diff(&old, &new, Contexts::Listed(&contexts), &options).unwrap()
    };
    let one = with(1);
    assert_eq!(one, with(3));
    assert_eq!(one, with(8));
    assert_eq!(flag(&one, "checkout").changed, 1_000);
}

#[test]
fn a_version_that_does_not_increase_is_reported() {
    let f = json!({"f": bool_flag(json!({"variant": "on"}))});
    for (old, new, increases) in [(7, 8, true), (7, 7, false), (7, 6, false)] {
        let report = run(
            &doc(old, f.clone(), json!({})),
            &doc(new, f.clone(), json!({})),
            Contexts::Synthetic(1),
        );
        assert_eq!((report.old_version, report.new_version), (old, new));
        assert_eq!(report.version_increases(), increases);
    }
}

#[test]
fn invalid_snapshots_are_refused_with_every_error_of_each() {
    let good = doc(
        1,
        json!({"f": bool_flag(json!({"variant": "on"}))}),
        json!({}),
    );
    let bad = br#"{"version": 2, "flags": {"f": {"variants": {"on": true}, "enabled": true,
        "off_variant": "of", "fallthrough": {"variant": "on"}}}}"#;
    let err = diff(&good, bad, Contexts::Synthetic(1), &Options::new()).unwrap_err();
    let DiffError::Invalid { old, new } = &err else {
        panic!("{err:?}")
    };
    assert!(old.is_none());
    let errors = new.as_ref().unwrap().errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path(), "flags.f.off_variant");

    let err = diff(b"{", bad, Contexts::Synthetic(1), &Options::new()).unwrap_err();
    let DiffError::Invalid { old, new } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(old.as_ref().unwrap().errors()[0].kind().code(), "syntax");
    assert!(new.is_some());
    assert!(err.to_string().starts_with("OLD: invalid snapshot"));
}

/// Each kind of change, with the path and text a reviewer reads.
#[test]
fn structural_reports_name_each_change_with_its_path() {
    let base = json!({
        "variants": {"on": "ON", "off": "OFF"},
        "enabled": true, "off_variant": "off",
        "description": "checkout v2",
        "metadata": {"owner": "payments"},
        "prerequisites": [{"flag": "base", "variant": "on"}],
        "targets": [{"variant": "on", "keys": ["alice", "bob"]}],
        "rules": [
            {"id": "staff", "conditions": [{"in_segment": "staff"}], "serve": {"variant": "on"}},
            {"id": "canary", "conditions": [
                {"attribute": "country", "op": "in", "values": ["DE"]},
                {"attribute": "app_version", "op": "semver_gte", "values": ["2.4.0"]}],
             "serve": {"rollout": {"by": "account_id",
                "split": [{"variant": "on", "weight": 5}, {"variant": "off", "weight": 95}],
                "schedule": [{"at": "2030-03-01T09:00:00Z",
                    "split": [{"variant": "on", "weight": 10}, {"variant": "off", "weight": 90}]}]}}}
        ],
        "fallthrough": {"variant": "off"}
    });
    let others = json!({"base": bool_flag(json!({"variant": "on"})),
                        "other": bool_flag(json!({"variant": "on"}))});
    let segments = json!({"staff": {"include": ["alice"], "rules": []}});
    let check = |edit: &dyn Fn(&mut Value), expected: &[(&str, &str)]| {
        let mut changed = base.clone();
        edit(&mut changed);
        let mut old_flags = others.clone();
        old_flags["f"] = base.clone();
        let mut new_flags = others.clone();
        new_flags["f"] = changed;
        let report = run(
            &doc(1, old_flags, segments.clone()),
            &doc(2, new_flags, segments.clone()),
            Contexts::Synthetic(1),
        );
        let f = flag(&report, "f");
        assert_eq!(paths(f), expected, "{expected:?}");
        let change = if expected.is_empty() {
            ChangeKind::Unchanged
        } else {
            ChangeKind::Changed
        };
        assert_eq!(f.change, change);
    };

    check(&|_| {}, &[]);
    // Defaults written out, and numbers written another way, are no change.
    check(
        &|f| {
            f["rules"][1]["serve"]["rollout"]["split"][0]["weight"] = json!(5.0);
            f["salt"] = json!("f");
        },
        &[],
    );
    check(
        &|f| f["enabled"] = json!(false),
        &[("flags.f.enabled", "true → false (disabled)")],
    );
    check(
        &|f| f["off_variant"] = json!("on"),
        &[("flags.f.off_variant", r#""off" → "on""#)],
    );
    check(
        &|f| f["variants"]["on"] = json!("ON2"),
        &[("flags.f.variants.on", r#""ON" → "ON2""#)],
    );
    check(
        &|f| f["variants"]["mid"] = json!("MID"),
        &[("flags.f.variants.mid", r#"added: "MID""#)],
    );
    check(
        &|f| f["description"] = json!("v3"),
        &[("flags.f.description", r#""checkout v2" → "v3""#)],
    );
    check(
        &|f| f["metadata"]["ticket"] = json!("PAY-1"),
        &[("flags.f.metadata.ticket", r#"added: "PAY-1""#)],
    );
    check(
        &|f| f["prerequisites"][0]["variant"] = json!("off"),
        &[("flags.f.prerequisites[0].variant", r#""on" → "off""#)],
    );
    check(
        &|f| {
            f["prerequisites"] =
                json!([{"flag": "base", "variant": "on"}, {"flag": "other", "variant": "on"}])
        },
        &[(
            "flags.f.prerequisites[1]",
            r#"added: requires other = "on""#,
        )],
    );
    check(
        &|f| f["prerequisites"] = json!([]),
        &[(
            "flags.f.prerequisites[0]",
            r#"removed: required base = "on""#,
        )],
    );
    check(
        &|f| f["targets"][0]["variant"] = json!("off"),
        &[("flags.f.targets[0].variant", r#""on" → "off""#)],
    );
    check(
        &|f| f["targets"] = json!([{"variant": "on", "keys": ["alice"]}, {"variant": "off", "keys": ["bob", "carol"]}]),
        &[
            ("flags.f.targets[1].keys", r#"added: "carol" → "off""#),
            ("flags.f.targets[1].keys", r#""bob": "on" → "off""#),
        ],
    );
    check(
        &|f| f["targets"][0]["keys"] = json!(["alice"]),
        &[("flags.f.targets[0].keys", r#"removed: "bob" (served "on")"#)],
    );
    check(
        &|f| {
            let rules = f["rules"].as_array_mut().unwrap();
            rules.insert(0, json!({"conditions": [], "serve": {"variant": "off"}}));
        },
        &[(
            "flags.f.rules[0]",
            r#"added: {"conditions":[],"serve":{"variant":"off"}}"#,
        )],
    );
    check(
        &|f| {
            f["rules"].as_array_mut().unwrap().remove(0);
        },
        &[(
            "flags.f.rules[0]",
            r#"removed: {"conditions":[{"in_segment":"staff"}],"id":"staff","serve":{"variant":"on"}}"#,
        )],
    );
    check(
        &|f| f["rules"].as_array_mut().unwrap().swap(0, 1),
        &[("flags.f.rules[0]", "reordered: was rules[1]")],
    );
    check(
        &|f| f["rules"][0]["id"] = json!("employees"),
        &[("flags.f.rules[0].id", r#""staff" → "employees""#)],
    );
    check(
        &|f| f["rules"][1]["conditions"][0]["values"] = json!(["DE", "AT"]),
        &[("flags.f.rules[1].conditions[0].values", r#"added: "AT""#)],
    );
    check(
        &|f| f["rules"][1]["conditions"][0]["values"] = json!(["AT", "CH", "DE", "DE"]),
        &[(
            "flags.f.rules[1].conditions[0].values",
            r#"added: "AT", "CH", "DE""#,
        )],
    );
    check(
        &|f| f["rules"][1]["conditions"][0]["values"] = json!(["FR", "AT"]),
        &[(
            "flags.f.rules[1].conditions[0].values",
            r#"added: "FR", "AT"; removed: "DE""#,
        )],
    );
    check(
        &|f| {
            f["rules"][1]["conditions"]
                .as_array_mut()
                .unwrap()
                .swap(0, 1)
        },
        &[(
            "flags.f.rules[1].conditions[0]",
            "reordered: was conditions[1]",
        )],
    );
    check(
        &|f| f["rules"][1]["conditions"][1]["op"] = json!("semver_gt"),
        &[(
            "flags.f.rules[1].conditions[1].op",
            r#""semver_gte" → "semver_gt""#,
        )],
    );
    check(
        &|f| f["rules"][0]["conditions"][0] = json!({"not_in_segment": "staff"}),
        &[(
            "flags.f.rules[0].conditions[0]",
            r#"{"in_segment":"staff"} → {"not_in_segment":"staff"}"#,
        )],
    );
    check(
        &|f| {
            let conditions = f["rules"][1]["conditions"].as_array_mut().unwrap();
            conditions.push(json!({"attribute": "beta", "op": "exists"}));
        },
        &[(
            "flags.f.rules[1].conditions[2]",
            r#"added: {"attribute":"beta","op":"exists"}"#,
        )],
    );
    check(
        &|f| {
            f["rules"][1]["conditions"]
                .as_array_mut()
                .unwrap()
                .remove(0);
        },
        &[(
            "flags.f.rules[1].conditions[0]",
            r#"removed: {"attribute":"country","op":"in","values":["DE"]}"#,
        )],
    );
    check(
        &|f| f["rules"][0]["serve"]["variant"] = json!("off"),
        &[("flags.f.rules[0].serve.variant", r#""on" → "off""#)],
    );
    check(
        &|f| {
            let split = &mut f["rules"][1]["serve"]["rollout"]["split"];
            split[0]["weight"] = json!(50);
            split[1]["weight"] = json!(50);
        },
        &[
            ("flags.f.rules[1].serve.rollout.split[0].weight", "5 → 50"),
            ("flags.f.rules[1].serve.rollout.split[1].weight", "95 → 50"),
        ],
    );
    check(
        &|f| {
            f["rules"][1]["serve"]["rollout"]["split"] = json!([{"variant": "on", "weight": 100}]);
        },
        &[(
            "flags.f.rules[1].serve.rollout.split",
            "[on 5, off 95] → [on 100]",
        )],
    );
    check(
        &|f| {
            f["rules"][1]["serve"]["rollout"]
                .as_object_mut()
                .unwrap()
                .remove("by");
        },
        &[(
            "flags.f.rules[1].serve.rollout.by",
            r#""account_id" → "key""#,
        )],
    );
    check(
        &|f| {
            let split = &mut f["rules"][1]["serve"]["rollout"]["schedule"][0]["split"];
            split[0]["weight"] = json!(20);
            split[1]["weight"] = json!(80);
        },
        &[
            (
                "flags.f.rules[1].serve.rollout.schedule[0].split[0].weight",
                "10 → 20",
            ),
            (
                "flags.f.rules[1].serve.rollout.schedule[0].split[1].weight",
                "90 → 80",
            ),
        ],
    );
    // One instant written another way is the same step.
    check(
        &|f| {
            f["rules"][1]["serve"]["rollout"]["schedule"][0]["at"] =
                json!("2030-03-01T10:00:00+01:00")
        },
        &[],
    );
    check(
        &|f| f["rules"][1]["serve"]["rollout"]["schedule"][0]["at"] = json!("2030-03-02T09:00:00Z"),
        &[(
            "flags.f.rules[1].serve.rollout.schedule[0].at",
            r#""2030-03-01T09:00:00Z" → "2030-03-02T09:00:00Z""#,
        )],
    );
    check(
        &|f| f["rules"][1]["serve"]["rollout"]["schedule"] = json!([]),
        &[(
            "flags.f.rules[1].serve.rollout.schedule[0]",
            "removed: from 2030-03-01T09:00:00Z [on 10, off 90]",
        )],
    );
    check(
        &|f| f["fallthrough"] = json!({"variant": "on"}),
        &[("flags.f.fallthrough.variant", r#""off" → "on""#)],
    );
}

#[test]
fn segment_structure_is_reported_and_removed_segments_are_listed() {
    let flags = json!({"f": bool_flag(json!({"variant": "on"}))});
    let old = doc(
        1,
        flags.clone(),
        json!({
            "staff": {"include": ["alice", "bob"], "exclude": ["mallory"],
                      "rules": [{"conditions": [{"attribute": "email", "op": "ends_with", "values": ["@corp"]}]},
                                {"conditions": [{"attribute": "role", "op": "eq", "values": ["admin"]}]}]},
            "legacy": {"include": ["zed"]}
        }),
    );
    let new = doc(
        2,
        flags,
        json!({
            "staff": {"include": ["alice", "carol"],
                      "rules": [{"conditions": [{"attribute": "role", "op": "eq", "values": ["admin"]}]},
                                {"conditions": [{"attribute": "email", "op": "ends_with", "values": ["@corp"]}]}]},
            "beta": {"rules": [{"conditions": []}]}
        }),
    );
    let report = run(&old, &new, Contexts::Synthetic(10));
    assert_eq!(report.removed_segments, ["legacy"]);
    let names: Vec<&str> = report.segments.iter().map(|s| s.segment.as_str()).collect();
    assert_eq!(names, ["beta", "staff"]);
    assert_eq!(report.segments[0].change, ChangeKind::Added);
    // A rule without conditions holds for everyone.
    assert_eq!(report.segments[0].contexts, 10);
    let staff = &report.segments[1];
    let structural: Vec<(&str, &str)> = staff
        .structural
        .iter()
        .map(|c| (c.path.as_str(), c.what.as_str()))
        .collect();
    assert_eq!(
        structural,
        [
            ("segments.staff.include", r#"added: "carol""#),
            ("segments.staff.include", r#"removed: "bob""#),
            ("segments.staff.exclude", r#"removed: "mallory""#),
            ("segments.staff.rules[0]", "reordered: was rules[1]"),
        ]
    );
}

#[test]
fn the_json_form_has_exactly_the_documented_members() {
    let old = segment_world(json!(["DE"]));
    let new = segment_world(json!(["DE", "FR"]));
    let contexts = [with_country("a", "FR"), with_country("b", "DE")];
    let report = run(&old, &new, Contexts::Listed(&contexts));
    let value: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(
        value,
        json!({
            "old_version": 1, "new_version": 2,
            "flags": [
                {"flag": "checkout", "change": "unchanged", "evaluated": 2, "changed": 1,
                 "transitions": [{"from": "off", "to": "on", "count": 1}], "structural": []},
                {"flag": "unrelated", "change": "unchanged", "evaluated": 2, "changed": 0,
                 "transitions": [], "structural": []}
            ],
            "segments": [{"segment": "europe", "contexts": 2, "changed": 1}]
        })
    );
}

#[test]
fn contexts_files_are_read_strictly_and_errors_name_their_line() {
    let contexts = read_contexts(
        "\u{feff}{\"key\": \"a\", \"attrs\": {\"n\": 1, \"big\": 18446744073709551615, \"x\": 1.5, \"b\": false, \"s\": \"DE\"}}\r\n\n   \n{\"key\": null}\n{}"
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(contexts.len(), 3);
    let mut attributes = contexts[0].attributes.clone();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        attributes,
        [
            ("b".to_owned(), AttributeValue::Bool(false)),
            (
                "big".to_owned(),
                AttributeValue::Float(18446744073709551615.0)
            ),
            ("n".to_owned(), AttributeValue::Int(1)),
            ("s".to_owned(), AttributeValue::String("DE".into())),
            ("x".to_owned(), AttributeValue::Float(1.5)),
        ]
    );
    assert_eq!(
        (contexts[1].key.as_deref(), contexts[2].key.as_deref()),
        (None, None)
    );

    for (text, line, message) in [
        ("{\"key\": \"a\"}\n{\"key\": \"b\"\n", 2, "not JSON"),
        ("\n\n[1]\n", 3, "expected an object"),
        (
            "{\"key\": 7}",
            1,
            "`key` must be a string or null, not a number",
        ),
        (
            "{\"attrs\": []}",
            1,
            "`attrs` must be an object, not an array",
        ),
        (
            "{\"key\": \"a\", \"attributes\": {}}",
            1,
            "unknown member `attributes`",
        ),
        (
            "{\"attrs\": {\"tags\": [\"x\"]}}",
            1,
            "attribute `tags` must be a string, number or boolean, not an array",
        ),
        (
            "{\"attrs\": {\"n\": null}}",
            1,
            "attribute `n` must be a string, number or boolean, not null",
        ),
    ] {
        let err = read_contexts(text.as_bytes()).unwrap_err();
        assert_eq!(err.line(), line, "{text:?}");
        assert!(
            err.message().contains(message),
            "{text:?}: {}",
            err.message()
        );
        assert!(err.to_string().starts_with(&format!("line {line}: ")));
    }
}
