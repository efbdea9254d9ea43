//! Scheduled rollouts (docs/format.md §2): the step in force at an instant, its boundaries
//! to the nanosecond, ramps that only move users in, the current time, kills, validation.
//! Instants are computed with `jiff`, independently of flagcore's own RFC 3339 reader.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use flagcore::{EvaluationContext, Reason, Store};
use jiff::Timestamp;
use proptest::prelude::*;

fn instant(text: &str) -> SystemTime {
    system_time(text.parse::<Timestamp>().unwrap())
}

fn system_time(t: Timestamp) -> SystemTime {
    let nanos = t.as_nanosecond();
    let magnitude = Duration::new(
        (nanos.unsigned_abs() / 1_000_000_000) as u64,
        (nanos.unsigned_abs() % 1_000_000_000) as u32,
    );
    if nanos < 0 {
        SystemTime::UNIX_EPOCH - magnitude
    } else {
        SystemTime::UNIX_EPOCH + magnitude
    }
}

/// A bool flag whose fallthrough ramps `on` through `steps` (RFC 3339, percent of `on`),
/// starting from `first` percent.
fn ramp(first: f64, steps: &[(&str, f64)]) -> String {
    let split = |on: f64| {
        format!(
            r#"[{{"variant": "on", "weight": {on}}}, {{"variant": "off", "weight": {}}}]"#,
            (100_000.0 - on * 1000.0).round() / 1000.0
        )
    };
    let schedule: Vec<String> = steps
        .iter()
        .map(|(at, on)| format!(r#"{{"at": "{at}", "split": {}}}"#, split(*on)))
        .collect();
    format!(
        r#"{{"version": 1, "flags": {{"ramp": {{
            "variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
            "fallthrough": {{"rollout": {{"split": {}, "schedule": [{}]}}}}}}}}}}"#,
        split(first),
        schedule.join(", ")
    )
}

#[test]
fn each_step_is_in_force_from_its_instant_to_the_next() {
    let store = Store::from_bytes(
        ramp(
            0.0,
            &[
                ("2026-12-02T06:00:00Z", 100.0),
                ("2026-12-03T06:00:00.000000001+01:00", 0.0),
            ],
        )
        .as_bytes(),
    )
    .unwrap();
    let snapshot = store.snapshot();
    let at = |text: &str| {
        let ctx = EvaluationContext::new("u-1").at(instant(text));
        let d = snapshot.bool_details("ramp", &ctx, false);
        (d.value, d.step, d.reason)
    };
    assert_eq!(
        at("2026-12-02T05:59:59.999999999Z"),
        (false, None, Reason::Split)
    );
    assert_eq!(at("2026-12-02T06:00:00Z"), (true, Some(0), Reason::Split));
    assert_eq!(
        at("2026-12-02T07:00:00+01:00"),
        (true, Some(0), Reason::Split)
    );
    assert_eq!(at("2026-12-03T05:00:00Z"), (true, Some(0), Reason::Split));
    assert_eq!(
        at("2026-12-03T05:00:00.000000001Z"),
        (false, Some(1), Reason::Split)
    );
    assert_eq!(at("2100-01-01T00:00:00Z"), (false, Some(1), Reason::Split));
    assert_eq!(at("1969-07-20T20:17:40Z"), (false, None, Reason::Split));
}

#[test]
fn without_an_instant_the_current_time_decides() {
    let now = Timestamp::now();
    let past = now - jiff::SignedDuration::from_secs(3600);
    let future = now + jiff::SignedDuration::from_secs(3600);
    let store = Store::from_bytes(
        ramp(
            0.0,
            &[(&past.to_string(), 100.0), (&future.to_string(), 0.0)],
        )
        .as_bytes(),
    )
    .unwrap();
    let snapshot = store.snapshot();
    let d = snapshot.bool_details("ramp", &EvaluationContext::new("u"), false);
    assert_eq!((d.value, d.step), (true, Some(0)));
}

#[test]
fn a_step_takes_effect_within_a_second_on_a_store_that_sees_no_update() {
    let begins = Timestamp::now() + jiff::SignedDuration::from_millis(300);
    let store = Store::from_bytes(ramp(0.0, &[(&begins.to_string(), 100.0)]).as_bytes()).unwrap();
    let ctx = EvaluationContext::new("u");
    assert!(!store.bool("ramp", &ctx, true), "the step has not begun");
    let deadline = system_time(begins) + Duration::from_secs(1);
    while !store.bool("ramp", &ctx, false) {
        assert!(SystemTime::now() < deadline, "the step did not take effect");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(SystemTime::now() >= system_time(begins));
}

#[test]
fn an_empty_schedule_is_no_schedule() {
    let scheduled = Store::from_bytes(ramp(30.0, &[]).as_bytes()).unwrap();
    let plain = Store::from_bytes(
        ramp(30.0, &[])
            .replace(r#", "schedule": []"#, "")
            .as_bytes(),
    )
    .unwrap();
    assert!(!ramp(30.0, &[])
        .replace(r#", "schedule": []"#, "")
        .contains("schedule"));
    let (scheduled, plain) = (scheduled.snapshot(), plain.snapshot());
    for i in 0..500 {
        let key = format!("user-{i}");
        let ctx = EvaluationContext::new(&key);
        let a = scheduled.bool_details("ramp", &ctx, false);
        let b = plain.bool_details("ramp", &ctx, false);
        assert_eq!(a, b);
        assert_eq!(a.step, None);
    }
}

#[test]
fn a_killed_ramp_serves_its_off_variant_whatever_the_step() {
    let store =
        Store::from_bytes(ramp(100.0, &[("2000-01-01T00:00:00Z", 100.0)]).as_bytes()).unwrap();
    store.kill("ramp", "bad canary");
    let snapshot = store.snapshot();
    for at in ["1999-01-01T00:00:00Z", "2030-01-01T00:00:00Z"] {
        let ctx = EvaluationContext::new("u").at(instant(at));
        let d = snapshot.bool_details("ramp", &ctx, true);
        assert_eq!((d.value, d.reason, d.step), (false, Reason::Disabled, None));
    }
}

#[test]
fn explain_says_which_step_served() {
    let store = Store::from_bytes(
        ramp(
            0.0,
            &[
                ("2026-12-02T06:00:00Z", 50.0),
                ("2026-12-03T06:00:00Z", 100.0),
            ],
        )
        .as_bytes(),
    )
    .unwrap();
    let ctx = EvaluationContext::new("u").at(instant("2026-12-03T06:00:00Z"));
    let e = store.snapshot().explain("ramp", &ctx);
    assert_eq!(e.step, Some(1));
    assert!(
        e.steps
            .iter()
            .any(|s| s == "fallthrough: schedule step 1 (from 2026-12-03T06:00:00Z) is in force"),
        "{:?}",
        e.steps
    );
    let early = EvaluationContext::new("u").at(instant("2026-12-01T00:00:00Z"));
    let e = store.snapshot().explain("ramp", &early);
    assert_eq!(e.step, None);
    assert!(e
        .steps
        .iter()
        .any(|s| s.contains("before the first schedule step")));
}

#[test]
fn validation_reports_every_bad_step_with_its_path() {
    let doc = r#"{"version": 1, "flags": {"f": {
        "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
        "rules": [{"conditions": [], "serve": {"rollout": {
            "split": [{"variant": "on", "weight": 100}],
            "schedule": [
              {"at": "2026-12-02T06:00:00Z", "split": [{"variant": "on", "weight": 100}]},
              {"at": "2026-12-02T07:00:00+01:00", "split": [{"variant": "on", "weight": 100}]},
              {"at": "2026-12-02T06:00:00", "split": [{"variant": "on", "weight": 100}]},
              {"at": "2026-12-04T06:00:00Z", "split": [{"variant": "on", "weight": 99.5}]},
              {"at": "2026-12-05T06:00:00Z", "split": [{"variant": "of", "weight": 100}]},
              {"at": "2026-12-06T06:00:00Z"},
              {"at": "2026-12-07T06:00:00Z", "split": [{"variant": "on", "weight": 100}], "note": 1}
            ]}}}],
        "fallthrough": {"variant": "off"}}}}"#;
    let err = flagcore::validate(doc.as_bytes()).unwrap_err();
    let got: Vec<(String, &str)> = err
        .errors()
        .iter()
        .map(|e| (e.path().to_owned(), e.kind().code()))
        .collect();
    let step = |i: usize, rest: &str| format!("flags.f.rules[0].serve.rollout.schedule[{i}]{rest}");
    assert_eq!(
        got,
        [
            (step(1, ".at"), "invalid_value"),
            (step(2, ".at"), "bad_timestamp"),
            (step(3, ""), "weights"),
            (step(4, ".split[0].variant"), "unknown_variant"),
            (step(5, ".split"), "missing_field"),
            (step(6, ".note"), "unknown_field"),
        ]
    );
    assert!(
        err.errors()[0]
            .to_string()
            .contains("step 1 is not after step 0"),
        "{}",
        err.errors()[0]
    );
}

/// Instants around the steps of a four-step ramp, in increasing order.
fn ramp_instants() -> Vec<SystemTime> {
    let mut out = Vec::new();
    for day in 1..=6 {
        for offset in [-1i64, 0, 1] {
            let t = format!("2026-12-0{day}T06:00:00Z")
                .parse::<Timestamp>()
                .unwrap()
                + jiff::SignedDuration::from_nanos(offset);
            out.push(system_time(t));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A ramp that only grows its first variant never moves a user out of it as time goes on.
    #[test]
    fn a_growing_ramp_only_moves_users_in(
        mut weights in prop::collection::vec(0u32..=100_000, 5),
        keys in prop::collection::vec("[a-zA-Z0-9@.-]{0,24}", 1..40),
    ) {
        weights.sort_unstable();
        let percent = |units: u32| f64::from(units) / 1000.0;
        let days = ["2026-12-02T06:00:00Z", "2026-12-03T06:00:00Z", "2026-12-04T06:00:00Z",
                    "2026-12-05T06:00:00Z"];
        let steps: Vec<(&str, f64)> =
            days.iter().zip(&weights[1..]).map(|(d, w)| (*d, percent(*w))).collect();
        let store = Store::from_bytes(ramp(percent(weights[0]), &steps).as_bytes()).unwrap();
        let snapshot = store.snapshot();
        for key in &keys {
            let mut was_on = false;
            for at in ramp_instants() {
                let ctx = EvaluationContext::new(key).at(at);
                let on = snapshot.bool("ramp", &ctx, false);
                prop_assert!(on || !was_on, "{key} moved out at {at:?}");
                was_on = on;
            }
        }
    }

    /// flagcore reads RFC 3339 as jiff does, to the nanosecond, in any offset.
    #[test]
    fn rfc3339_agrees_with_jiff(
        seconds in -62_135_596_800i64..253_402_300_799,
        nanos in 0u32..1_000_000_000,
        digits in 0usize..=9,
        offset_minutes in -1439i32..=1439,
    ) {
        let scale = 10u32.pow(9 - digits as u32);
        let nanos = nanos / scale * scale;
        let t = Timestamp::new(seconds, nanos as i32).unwrap();
        let offset = jiff::tz::Offset::from_seconds(offset_minutes * 60).unwrap();
        let local = offset.to_datetime(t);
        let fraction = if digits == 0 {
            String::new()
        } else {
            format!(".{:09}", nanos)[..=digits].to_owned()
        };
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let text = format!(
            "{}{fraction}{sign}{:02}:{:02}",
            local.strftime("%Y-%m-%dT%H:%M:%S"),
            offset_minutes.abs() / 60,
            offset_minutes.abs() % 60
        );
        prop_assert_eq!(flagcore::parse_rfc3339(&text), Some(system_time(t)), "{}", text);
    }
}
