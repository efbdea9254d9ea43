//! `flagcore analyze` end to end (docs/format.md §7.9): the exact `--json` shape, who is
//! counted and who is excluded, the sample-ratio check across rollouts and schedule steps,
//! malformed lines named by number, and every exit code. The statistics themselves are
//! checked against SciPy in `tests/analyze/test_analyze.py`.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn flagcore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flagcore"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A directory of its own per test, so tests run in parallel.
fn dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flagcore-analyze-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `checkout`: rule 0 serves `on` to staff; rule 1 splits Germans 50/50; the fallthrough
/// splits 10/90 (on/off) before 2026-12-02 and 50/50 from then on.
fn snapshot() -> String {
    json!({
        "version": 7,
        "flags": {
            "checkout": {
                "variants": {"off": "old", "on": "new", "green": "green"},
                "enabled": true, "off_variant": "off",
                "rules": [
                    {"id": "staff", "conditions": [{"attribute": "staff", "op": "eq", "values": [true]}],
                     "serve": {"variant": "on"}},
                    {"id": "de", "conditions": [{"attribute": "country", "op": "eq", "values": ["DE"]}],
                     "serve": {"rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}}
                ],
                "fallthrough": {"rollout": {
                    "split": [{"variant": "on", "weight": 10}, {"variant": "off", "weight": 90}],
                    "schedule": [{"at": "2026-12-02T00:00:00Z",
                                  "split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}]}}
            },
            "other": {"variants": {"a": 1, "b": 2}, "enabled": true, "off_variant": "a",
                      "fallthrough": {"variant": "a"}}
        }
    })
    .to_string()
}

/// One exposure line as the file sink writes it.
fn exposure(time: &str, variant: &str, reason: &str, rule: Option<u32>, unit: Value) -> String {
    json!({
        "time": time, "flag": "checkout", "variant": variant, "reason": reason,
        "rule_index": rule, "rule_id": rule.and_then(|r| ["staff", "de"].get(r as usize).copied()),
        "key": unit, "unit": unit, "bucket": if reason == "SPLIT" { json!(1234) } else { Value::Null },
        "version": 7, "step": Value::Null,
    })
    .to_string()
}

fn outcome(unit: Value, metric: &str, value: f64, time: &str) -> String {
    json!({"unit": unit, "metric": metric, "value": value, "time": time}).to_string()
}

fn lines(lines: &[String]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

const DAY1: &str = "2026-12-01T10:00:00.000Z";
const DAY2: &str = "2026-12-02T10:00:00.000Z";

/// Seven units: two under the fallthrough's own split, two under its step 0, one
/// targeted by the staff rule, one split by rule 1, one exposed to both variants.
fn small_experiment(d: &Path) -> (String, String, String) {
    let snap = file(d, "snapshot.json", &snapshot());
    let exposures = lines(&[
        exposure(DAY1, "off", "SPLIT", None, json!("u1")),
        exposure(DAY1, "on", "SPLIT", None, json!("u2")),
        exposure(DAY2, "on", "SPLIT", None, json!("u3")),
        // A unit written as a number is its decimal string: outcomes of "4" are its own.
        exposure(DAY2, "off", "SPLIT", None, json!(4)),
        exposure(DAY2, "on", "TARGETING_MATCH", Some(0), json!("staff-1")),
        exposure(DAY2, "off", "SPLIT", Some(1), json!("de-1")),
        // u5 saw both variants: excluded, whatever order the lines come in.
        exposure("2026-12-02T10:00:02.000Z", "on", "SPLIT", None, json!("u5")),
        exposure(DAY2, "off", "SPLIT", None, json!("u5")),
        // Repeats of one variant are one unit, and the earliest time is its first.
        exposure("2026-12-03T10:00:00.000Z", "on", "SPLIT", None, json!("u2")),
        // Another flag's exposures are read (and checked) but not counted.
        json!({"time": DAY1, "flag": "other", "variant": "a", "reason": "STATIC",
               "rule_index": null, "unit": "u1", "version": 7})
        .to_string(),
    ]);
    let outcomes = lines(&[
        outcome(json!("u1"), "revenue", 3.0, "2026-12-01T11:00:00Z"),
        // Before u1's first exposure: not the experiment's doing, so not counted.
        outcome(json!("u1"), "revenue", 100.0, "2026-12-01T09:59:59.999Z"),
        outcome(json!("u2"), "revenue", 5.0, DAY1),
        outcome(json!("u3"), "revenue", 7.0, "2026-12-03T11:00:00Z"),
        outcome(json!("4"), "revenue", 1.5, "2026-12-03T11:00:00Z"),
        outcome(json!(4), "revenue", 0.5, "2026-12-03T12:00:00Z"),
        outcome(json!("u5"), "revenue", 1000.0, "2026-12-03T11:00:00Z"),
        outcome(json!("nobody"), "revenue", 1000.0, "2026-12-03T11:00:00Z"),
        outcome(json!("u3"), "clicks", 9.0, "2026-12-03T11:00:00Z"),
    ]);
    (
        snap,
        file(d, "exposures.jsonl", &exposures),
        file(d, "outcomes.jsonl", &outcomes),
    )
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn json_has_exactly_the_documented_shape() {
    let d = dir("shape");
    let (snap, exposures, outcomes) = small_experiment(&d);
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--metric",
        "revenue",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "one JSON line: {text}");
    // Members in the documented order.
    let order = [
        "\"flag\"",
        "\"metric\"",
        "\"control\"",
        "\"excluded_units\"",
        "\"variants\"",
        "\"comparisons\"",
        "\"srm\"",
    ];
    let positions: Vec<usize> = order.iter().map(|m| text.find(m).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    let report: Value = serde_json::from_str(&text).unwrap();

    // off: u1 (3; the 100 came before its first exposure), "4" (1.5 + 0.5), de-1 (0).
    // on: u2 (5), u3 (7; clicks are another metric), staff-1 (0).
    let off = [3.0, 2.0, 0.0];
    let on = [5.0, 7.0, 0.0];
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    assert_eq!(report["flag"], "checkout");
    assert_eq!(report["metric"], "revenue");
    assert_eq!(report["control"], "off");
    assert_eq!(report["excluded_units"], 1);
    let variants = report["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2, "green has no units: {variants:?}");
    for (row, (name, values)) in variants.iter().zip([("off", &off), ("on", &on)]) {
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ["ci95", "mean", "units", "variant"]);
        assert_eq!(row["variant"], name);
        assert_eq!(row["units"], 3);
        assert!(close(&row["mean"], mean(values)), "{row}");
        let ci = row["ci95"].as_array().unwrap();
        assert_eq!(ci.len(), 2);
        assert!(ci[0].as_f64().unwrap() < mean(values) && mean(values) < ci[1].as_f64().unwrap());
    }
    let comparisons = report["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 1);
    let c = &comparisons[0];
    let mut keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["ci95", "control", "difference", "p_value", "variant"]
    );
    assert_eq!(
        (c["variant"].as_str(), c["control"].as_str()),
        (Some("on"), Some("off"))
    );
    assert!(close(&c["difference"], mean(&on) - mean(&off)));
    let p = c["p_value"].as_f64().unwrap();
    assert!(p > 0.0 && p < 1.0);

    // SPLIT units: u1 under the own split (on 10%, off 90%); u3 and "4" under step 0
    // (50/50); de-1 under rule 1 (50/50); staff-1 was targeted, u5 excluded. u2 was
    // exposed under both the own split and step 0 and kept (`on` both times): had its
    // bucket been in 10,000-49,999 it would have moved and been excluded, so its shares
    // are those of the buckets on which both splits agree: on 10 and off 50 of 60.
    let srm = &report["srm"];
    let mut keys: Vec<&str> = srm
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["chi2", "expected", "ok", "p_value"]);
    let expected_on = (0.1 + 1.0 / 6.0 + 0.5 + 0.5 + 0.5) / 5.0;
    assert!(close(&srm["expected"]["on"], expected_on), "{srm}");
    assert!(close(&srm["expected"]["off"], 1.0 - expected_on), "{srm}");
    assert_eq!(srm["expected"].as_object().unwrap().len(), 2);
    // Observed: on 2 (u2, u3), off 3 (u1, "4", de-1).
    let (on, off) = (5.0 * expected_on, 5.0 * (1.0 - expected_on));
    let chi2 = (2.0 - on).powi(2) / on + (3.0 - off).powi(2) / off;
    assert!(close(&srm["chi2"], chi2), "{srm}");
    assert_eq!(srm["ok"], true);
}

#[test]
fn text_report_names_the_figures_and_the_check() {
    let d = dir("text");
    let (snap, exposures, outcomes) = small_experiment(&d);
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--metric",
        "revenue",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("flag checkout, metric revenue, control off"),
        "{text}"
    );
    assert!(
        text.contains("6 units from 9 exposures; 1 excluded"),
        "{text}"
    );
    assert!(text.contains("5 units whose first exposure was a SPLIT, served by 3 split(s)"));
    assert!(text.contains(": as expected"), "{text}");
}

#[test]
fn control_can_be_chosen_and_must_be_a_variant() {
    let d = dir("control");
    let (snap, exposures, outcomes) = small_experiment(&d);
    let args = |control: &str| {
        flagcore(&[
            "analyze",
            &snap,
            &exposures,
            "--outcomes",
            &outcomes,
            "--flag",
            "checkout",
            "--metric",
            "revenue",
            "--control",
            control,
            "--json",
        ])
    };
    let out = args("on");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["variants"][0]["variant"], "on");
    assert_eq!(report["comparisons"][0]["variant"], "off");
    assert_eq!(report["comparisons"][0]["control"], "on");

    // green has no units: it is listed as the control with nothing to compare.
    let out = args("green");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["variants"][0],
        json!({"variant": "green", "units": 0, "mean": null, "ci95": null})
    );
    assert_eq!(report["comparisons"][0]["difference"], Value::Null);

    let out = args("blue");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`blue` is not a variant of flag `checkout`"));
}

#[test]
fn fewer_than_two_units_have_no_interval_and_no_test() {
    let d = dir("few");
    let snap = file(&d, "snapshot.json", &snapshot());
    let exposures = file(
        &d,
        "e.jsonl",
        &lines(&[
            exposure(DAY1, "off", "SPLIT", None, json!("a")),
            exposure(DAY1, "off", "SPLIT", None, json!("b")),
            exposure(DAY1, "on", "SPLIT", None, json!("c")),
        ]),
    );
    let outcomes = file(
        &d,
        "o.jsonl",
        &lines(&[outcome(json!("c"), "m", 2.0, DAY2)]),
    );
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["metric"], "m", "the one metric of OUTCOMES");
    assert_eq!(
        report["variants"][1],
        json!({"variant": "on", "units": 1, "mean": 2.0, "ci95": null})
    );
    assert_eq!(
        report["comparisons"][0],
        json!({"variant": "on", "control": "off", "difference": 2.0, "ci95": null, "p_value": null})
    );
}

/// Units bucketed faithfully under the fallthrough: before 2026-12-02 10% on, from then
/// 50%; `lost_on` of every 10 `on` units lose their exposures (a broken logging path).
fn scheduled_experiment(d: &Path, lost_on: u32) -> (String, String, String) {
    let snap = file(d, "snapshot.json", &snapshot());
    let (mut exposures, mut outcomes) = (String::new(), String::new());
    for i in 0..4000u32 {
        let unit = format!("user-{i}");
        let bucket = flagcore::bucket("checkout", &unit);
        let (time, on_units) = if i % 2 == 0 {
            (DAY1, 10_000)
        } else {
            (DAY2, 50_000)
        };
        let variant = if bucket < on_units { "on" } else { "off" };
        if variant == "on" && i % 10 < lost_on {
            continue;
        }
        writeln!(
            exposures,
            "{}",
            exposure(time, variant, "SPLIT", None, json!(unit))
        )
        .unwrap();
        let value = if variant == "on" {
            1.0 + f64::from(i % 3)
        } else {
            f64::from(i % 3)
        };
        writeln!(
            outcomes,
            "{}",
            outcome(json!(unit), "m", value, "2026-12-05T00:00:00Z")
        )
        .unwrap();
    }
    (
        snap,
        file(d, "exposures.jsonl", &exposures),
        file(d, "outcomes.jsonl", &outcomes),
    )
}

#[test]
fn the_schedule_step_in_force_sets_each_units_expected_share() {
    let d = dir("schedule");
    let (snap, exposures, outcomes) = scheduled_experiment(&d, 0);
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // 2000 units at 10% and 2000 at 50%: 30% expected on.
    assert!(
        close(&report["srm"]["expected"]["on"], 0.3),
        "{}",
        report["srm"]
    );
    assert_eq!(report["srm"]["ok"], true);
    let p = report["srm"]["p_value"].as_f64().unwrap();
    assert!(p > 0.001, "{p}");
    // Against one split of the whole (say 10% throughout) the same units would fail:
    // the 30% is the schedule's doing.
    let on = report["variants"][1]["units"].as_u64().unwrap() as f64;
    assert!((on / 4000.0 - 0.3).abs() < 0.03, "{on}");
}

#[test]
fn a_broken_split_warns_loudly_and_exits_3_with_the_json_still_printed() {
    let d = dir("broken");
    let (snap, exposures, outcomes) = scheduled_experiment(&d, 3);
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["srm"]["ok"], false);
    assert!(report["srm"]["p_value"].as_f64().unwrap() < 0.001);
    let err = stderr(&out);
    assert!(
        err.contains("SAMPLE RATIO MISMATCH") && err.contains("THE SPLIT IS BROKEN"),
        "{err}"
    );
    assert!(err.contains("do not trust the comparison"), "{err}");

    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).contains("SAMPLE RATIO MISMATCH, the split is broken"));
}

#[test]
fn targeted_units_are_analysed_but_left_out_of_the_sample_ratio_check() {
    let d = dir("targeted");
    let snap = file(&d, "snapshot.json", &snapshot());
    // 50 staff units all `on` by the rule: a split check over them would scream.
    let mut text: Vec<String> = (0..50)
        .map(|i| {
            exposure(
                DAY1,
                "on",
                "TARGETING_MATCH",
                Some(0),
                json!(format!("staff-{i}")),
            )
        })
        .collect();
    text.push(exposure(DAY1, "off", "SPLIT", Some(1), json!("de-1")));
    text.push(exposure(DAY1, "on", "SPLIT", Some(1), json!("de-2")));
    let exposures = file(&d, "e.jsonl", &lines(&text));
    let outcomes = file(
        &d,
        "o.jsonl",
        &lines(&[outcome(json!("de-1"), "m", 1.0, DAY2)]),
    );
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["variants"][1]["units"], 51);
    assert_eq!(report["srm"]["chi2"], 0.0);
    assert_eq!(report["srm"]["expected"], json!({"on": 0.5, "off": 0.5}));
}

#[test]
fn without_split_exposures_there_is_no_check() {
    let d = dir("nosplit");
    let snap = file(&d, "snapshot.json", &snapshot());
    let exposures = file(
        &d,
        "e.jsonl",
        &lines(&[
            exposure(DAY1, "on", "TARGETING_MATCH", Some(0), json!("s-1")),
            exposure(DAY1, "off", "DISABLED", None, json!("s-2")),
        ]),
    );
    let outcomes = file(
        &d,
        "o.jsonl",
        &lines(&[outcome(json!("s-1"), "m", 1.0, DAY2)]),
    );
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["srm"],
        json!({"chi2": null, "p_value": null, "expected": {}, "ok": true})
    );
    assert!(stderr(&out).contains("no unit's first exposure was a SPLIT"));
}

/// Runs analyze on EXPOSURES lines (a valid one, then `bad` as line 3 after a blank line)
/// and returns the exit code and stderr.
fn with_bad_exposure(test: &str, bad: &str) -> (Option<i32>, String) {
    let d = dir(test);
    let snap = file(&d, "snapshot.json", &snapshot());
    let text = format!(
        "{}\n\n{bad}\n",
        exposure(DAY1, "off", "SPLIT", None, json!("a"))
    );
    let exposures = file(&d, "e.jsonl", &text);
    let outcomes = file(
        &d,
        "o.jsonl",
        &lines(&[outcome(json!("a"), "m", 1.0, DAY2)]),
    );
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
    ]);
    let err = stderr(&out);
    assert!(err.contains(&format!("{exposures}: line 3: ")), "{err}");
    (out.status.code(), err)
}

#[test]
fn a_malformed_exposure_line_stops_the_run_with_its_line_number() {
    let cases = [
        ("not-json", "{\"time\": ", "EOF while parsing"),
        (
            "missing",
            r#"{"time": "2026-12-01T10:00:00Z", "flag": "checkout", "variant": "on", "reason": "SPLIT", "unit": "b"}"#,
            "missing field `rule_index`",
        ),
        (
            "float-unit",
            &exposure(DAY1, "on", "SPLIT", None, json!(1.5)),
            "unit 1.5 has a fraction",
        ),
        (
            "time",
            &exposure("yesterday", "on", "SPLIT", None, json!("b")),
            "`time` `yesterday` is not an RFC 3339 timestamp",
        ),
        (
            "variant",
            &exposure(DAY1, "purple", "SPLIT", None, json!("b")),
            "variant `purple` is not a variant of flag `checkout`",
        ),
        // SNAPSHOT's rule 0 serves a fixed variant: it cannot have split anyone.
        (
            "fixed",
            &exposure(DAY1, "on", "SPLIT", Some(0), json!("b")),
            "a SPLIT by rules[0], which serves a fixed variant",
        ),
        (
            "no-rule",
            &exposure(DAY1, "on", "SPLIT", Some(5), json!("b")),
            "a SPLIT by rules[5], but the flag has 2 rule(s)",
        ),
        (
            "green",
            &exposure(DAY1, "green", "SPLIT", None, json!("b")),
            "variant `green` has no share in the fallthrough's own split",
        ),
    ];
    for (test, line, message) in cases {
        let (code, err) = with_bad_exposure(test, line);
        assert_eq!(code, Some(1), "{test}: {err}");
        assert!(err.contains(message), "{test}: {err}");
    }
}

#[test]
fn a_malformed_outcome_line_stops_the_run_with_its_line_number() {
    let d = dir("bad-outcome");
    let snap = file(&d, "snapshot.json", &snapshot());
    let exposures = file(
        &d,
        "e.jsonl",
        &lines(&[exposure(DAY1, "off", "SPLIT", None, json!("a"))]),
    );
    for (name, bad, message) in [
        (
            "value",
            r#"{"unit": "a", "metric": "m", "value": "1", "time": "2026-12-02T00:00:00Z"}"#,
            "invalid type: string \"1\", expected f64",
        ),
        (
            "time",
            r#"{"unit": "a", "metric": "m", "value": 1}"#,
            "missing field `time`",
        ),
        (
            "unit",
            r#"{"unit": null, "metric": "m", "value": 1, "time": "2026-12-02T00:00:00Z"}"#,
            "`unit` is null",
        ),
    ] {
        let outcomes = file(
            &d,
            &format!("{name}.jsonl"),
            &format!("{}\n{bad}\n", outcome(json!("a"), "m", 1.0, DAY2)),
        );
        let out = flagcore(&[
            "analyze",
            &snap,
            &exposures,
            "--outcomes",
            &outcomes,
            "--flag",
            "checkout",
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(&format!("{outcomes}: line 2: ")) && err.contains(message),
            "{name}: {err}"
        );
    }
}

#[test]
fn the_metric_may_be_omitted_only_when_outcomes_hold_one() {
    let d = dir("metric");
    let (snap, exposures, outcomes) = small_experiment(&d);
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("line 9: a second metric, `clicks` after `revenue`"),
        "{err}"
    );
    assert!(err.contains("--metric"), "{err}");

    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--metric",
        "clicks",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["variants"][1]["mean"], 3.0,
        "u3's 9 clicks over three `on` units"
    );

    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--metric",
        "signups",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no outcome of metric `signups`; it holds `revenue`, `clicks`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exit_codes_for_bad_inputs() {
    let d = dir("exits");
    let (snap, exposures, outcomes) = small_experiment(&d);
    let run = |args: &[&str]| {
        let mut all = vec!["analyze"];
        all.extend_from_slice(args);
        flagcore(&all)
    };
    // A flag the snapshot lacks, an invalid snapshot: 1.
    let out = run(&[&snap, &exposures, "--outcomes", &outcomes, "--flag", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no flag named `nope`"));
    let invalid = file(&d, "invalid.json", r#"{"version": 1, "flags": {"f": {}}}"#);
    let out = run(&[&invalid, &exposures, "--outcomes", &outcomes, "--flag", "f"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("flags.f"), "{}", stderr(&out));
    // No exposure of the flag: 1.
    let out = run(&[
        &snap,
        &outcomes,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let empty = file(&d, "empty.jsonl", "");
    let out = run(&[&snap, &empty, "--outcomes", &outcomes, "--flag", "checkout"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no exposure of flag `checkout`"));
    // Files that cannot be read, a missing --outcomes: 2.
    let missing = d.join("missing.jsonl").display().to_string();
    for args in [
        vec![
            snap.as_str(),
            missing.as_str(),
            "--outcomes",
            &outcomes,
            "--flag",
            "checkout",
        ],
        vec![
            snap.as_str(),
            exposures.as_str(),
            "--outcomes",
            &missing,
            "--flag",
            "checkout",
        ],
        vec![
            missing.as_str(),
            exposures.as_str(),
            "--outcomes",
            &outcomes,
            "--flag",
            "checkout",
        ],
        vec![snap.as_str(), exposures.as_str(), "--flag", "checkout"],
    ] {
        assert_eq!(run(&args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn html_report_is_self_contained_with_both_charts() {
    let d = dir("html");
    let (snap, exposures, outcomes) = scheduled_experiment(&d, 0);
    let report = d.join("report.html").display().to_string();
    let out = flagcore(&[
        "analyze",
        &snap,
        &exposures,
        "--outcomes",
        &outcomes,
        "--flag",
        "checkout",
        "--html",
        &report,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 2);
    assert!(page.contains("id=\"means-chart\"") && page.contains("id=\"exposures-chart\""));
    assert!(
        !page.contains("src=") && !page.contains("href="),
        "no external resource"
    );
    assert!(page.contains("Sample ratio as expected"));
}
