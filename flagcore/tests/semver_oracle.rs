//! The `semver_*` operators against an independent oracle, the `semver` crate: for random
//! valid and invalid version strings, a clause value is accepted exactly when
//! `semver::Version::parse` accepts it (otherwise `bad_semver` at the value), and a clause
//! holds exactly when the attribute parses and compares to the value as
//! `Version::cmp_precedence` says. SemVer precedence ignores build metadata, as
//! `cmp_precedence` does; `Version`'s `Ord` would not. The parser and comparison are
//! hand-written for speed (`primitives/semver.rs`) and private, so this goes through a
//! `Store`.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Ordering;

use flagcore::{EvaluationContext, Store, ValidationErrorKind, Value};
use proptest::prelude::*;

/// Each operator, with the orderings of `attribute` against `value` for which it holds.
const OPERATORS: [(&str, &[Ordering]); 5] = [
    ("semver_eq", &[Ordering::Equal]),
    ("semver_lt", &[Ordering::Less]),
    ("semver_lte", &[Ordering::Less, Ordering::Equal]),
    ("semver_gt", &[Ordering::Greater]),
    ("semver_gte", &[Ordering::Greater, Ordering::Equal]),
];

/// One flag per operator, named after it: `on` when `v <op> value`, else `off`.
fn snapshot(value: &str) -> String {
    let value = serde_json::to_string(value).unwrap();
    let flags: Vec<String> = OPERATORS
        .iter()
        .map(|(op, _)| {
            format!(
                r#""{op}": {{"variants": {{"on": true, "off": false}}, "enabled": true,
                    "off_variant": "off",
                    "rules": [{{"conditions": [{{"attribute": "v", "op": "{op}", "values": [{value}]}}],
                                "serve": {{"variant": "on"}}}}],
                    "fallthrough": {{"variant": "off"}}}}"#
            )
        })
        .collect();
    format!(r#"{{"version": 1, "flags": {{{}}}}}"#, flags.join(","))
}

/// A major, minor or patch number: mostly valid, some with a leading zero, empty, or
/// beyond `u64`.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (0u64..4).prop_map(|n| n.to_string()),
        1 => Just(u64::MAX.to_string()),
        1 => Just("18446744073709551616".to_owned()),
        1 => "0[0-9]{1,2}",
        1 => "[0-9]{0,3}",
    ]
}

/// A pre-release or build identifier: mostly valid, some numeric with a leading zero,
/// numeric beyond `u64`, empty, or holding a character SemVer does not allow.
fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        24 => valid_identifier(),
        1 => "0[0-9]{1,2}",
        1 => Just(String::new()),
        1 => "[^0-9A-Za-z.+-]",
    ]
}

/// A valid identifier, from a few, so that versions often share a prefix.
fn valid_identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["alpha", "beta", "rc", "A", "Z", "x-y", "-", "0a", "a0"])
            .prop_map(str::to_owned),
        // Numbers of different lengths: 9 < 10 < 100, though not as text.
        4 => prop_oneof![0u64..3, 8u64..12, 98u64..102].prop_map(|n| n.to_string()),
        1 => "[0-9]{19,22}",
        1 => "[0-9A-Za-z-]{1,3}",
    ]
}

fn join(
    major: String,
    minor: String,
    patch: String,
    pre: Option<Vec<String>>,
    build: Option<Vec<String>>,
) -> String {
    let mut text = format!("{major}.{minor}.{patch}");
    if let Some(pre) = pre {
        text = format!("{text}-{}", pre.join("."));
    }
    if let Some(build) = build {
        text = format!("{text}+{}", build.join("."));
    }
    text
}

/// Versions the oracle accepts, and version-shaped strings with an invalid part mixed in,
/// and strings not shaped like versions at all.
fn version() -> impl Strategy<Value = String> {
    let valid = (
        0u64..4,
        0u64..4,
        prop_oneof![3 => 0u64..4, 1 => Just(u64::MAX)],
        prop::option::of(prop::collection::vec(valid_identifier(), 1..4)),
        prop::option::of(prop::collection::vec(valid_identifier(), 1..3)),
    )
        .prop_map(|(major, minor, patch, pre, build)| {
            join(
                major.to_string(),
                minor.to_string(),
                patch.to_string(),
                pre,
                build,
            )
        });
    let shaped = (
        number(),
        number(),
        number(),
        prop::option::of(prop::collection::vec(identifier(), 1..4)),
        prop::option::of(prop::collection::vec(identifier(), 1..3)),
    )
        .prop_map(|(major, minor, patch, pre, build)| join(major, minor, patch, pre, build));
    prop_oneof![
        6 => valid,
        3 => shaped,
        1 => "[0-9a-zA-Z.+ -]{0,16}",
        1 => "\\PC{0,12}",
    ]
}

/// A clause value and an attribute: equal, equal but for build metadata, of the same
/// `MAJOR.MINOR.PATCH` with another pre-release, or independent; so that equal precedence
/// and decisions by pre-release come up often.
fn value_and_attribute() -> impl Strategy<Value = (String, String)> {
    (version(), version(), 0..5u8, identifier()).prop_map(|(value, other, how, build)| {
        let core = |v: &str| v.split(['-', '+']).next().unwrap_or("").to_owned();
        let attribute = match how {
            0 => value.clone(),
            1 => format!("{}+{build}", value.split('+').next().unwrap_or("")),
            2 => format!("{}{}", core(&value), &other[core(&other).len()..]),
            _ => other,
        };
        (value, attribute)
    })
}

fn check(value: &str, attribute: &str) -> Result<(), TestCaseError> {
    let doc = snapshot(value);
    let Ok(oracle_value) = semver::Version::parse(value) else {
        // The oracle refuses the value: flagcore must refuse it in every clause, as a
        // bad version at the value.
        let errors = flagcore::validate(doc.as_bytes())
            .err()
            .ok_or_else(|| TestCaseError::fail(format!("{value:?} was accepted")))?;
        let where_: Vec<(String, ValidationErrorKind)> = errors
            .errors()
            .iter()
            .map(|e| (e.path().to_owned(), e.kind()))
            .collect();
        let expected: Vec<(String, ValidationErrorKind)> = OPERATORS
            .iter()
            .map(|(op, _)| {
                (
                    format!("flags.{op}.rules[0].conditions[0].values[0]"),
                    ValidationErrorKind::BadSemver,
                )
            })
            .collect();
        prop_assert_eq!(where_, expected, "{:?}", value);
        return Ok(());
    };
    let store = Store::from_bytes(doc.as_bytes())
        .map_err(|e| TestCaseError::fail(format!("{value:?} was refused: {e}")))?;
    let attrs = [("v", Value::String(attribute))];
    let ctx = EvaluationContext::new("k").with_attributes(&attrs);
    let order = semver::Version::parse(attribute)
        .ok()
        .map(|a| a.cmp_precedence(&oracle_value));
    for (op, holds_for) in OPERATORS {
        let expected = order.is_some_and(|o| holds_for.contains(&o));
        prop_assert_eq!(
            store.bool(op, &ctx, false),
            expected,
            "{:?} {} {:?} (oracle: {:?})",
            attribute,
            op,
            value,
            order
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn semver_operators_agree_with_the_semver_crate((value, attribute) in value_and_attribute()) {
        check(&value, &attribute)?;
    }
}

/// The strategy reaches every branch the property tells apart: values refused and
/// accepted, attributes refused, and each ordering, with and without build metadata.
#[test]
fn the_generated_versions_cover_every_verdict() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut refused, mut unparsed, mut equal_builds) = (0, 0, 0);
    let mut orders = [0; 3];
    for _ in 0..2048 {
        let (value, attribute) = value_and_attribute()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let Ok(v) = semver::Version::parse(&value) else {
            refused += 1;
            continue;
        };
        let Ok(a) = semver::Version::parse(&attribute) else {
            unparsed += 1;
            continue;
        };
        orders[(a.cmp_precedence(&v) as i8 + 1) as usize] += 1;
        equal_builds += u32::from(a.cmp_precedence(&v).is_eq() && a != v);
    }
    assert!(
        refused > 100 && unparsed > 100 && orders.iter().all(|&n| n > 100) && equal_builds > 20,
        "refused {refused}, unparsed {unparsed}, less/equal/greater {orders:?}, \
         equal but for build {equal_builds}"
    );
}

/// Cases worth keeping whatever the random draw: SemVer 2.0.0 §11's precedence chain,
/// numeric identifiers compared as numbers, build metadata ignored, leading zeros refused.
#[test]
fn known_cases_agree_with_the_semver_crate() {
    let chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
        "2.1.10",
    ];
    for value in chain {
        for attribute in chain {
            check(value, attribute).unwrap();
        }
    }
    for (value, attribute) in [
        ("1.0.0+build.1", "1.0.0+build.2"),
        ("1.0.0-rc.1+a", "1.0.0-rc.1"),
        ("1.0.0-99999999999999999999", "1.0.0-100000000000000000000"),
        ("18446744073709551615.0.0", "18446744073709551615.0.0"),
        ("18446744073709551616.0.0", "1.0.0"),
        ("01.0.0", "1.0.0"),
        ("1.0.0-01", "1.0.0"),
        ("1.0.0+01", "1.0.0"),
        ("1.0.0", "1.0"),
        ("1.0.0", " 1.0.0"),
        ("1.0.0", "v1.0.0"),
    ] {
        check(value, attribute).unwrap();
        check(attribute, value).unwrap();
    }
}
