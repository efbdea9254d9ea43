//! The `flagcore` binary end to end: outputs, exit codes, and in-place edits.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn flagcore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flagcore"))
        .args(args)
        .output()
        .unwrap()
}

fn example() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.join("examples/snapshot.json").display().to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn temp_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flagcore-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("snapshot.json");
    std::fs::copy(example(), &path).unwrap();
    path
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn validate_accepts_the_example() {
    let out = flagcore(&["validate", &example()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("valid (version"));
}

#[test]
fn validate_lists_every_error_with_file_and_path_and_exits_1() {
    let path = temp_copy("invalid");
    write(
        &path,
        r#"{"version": 1, "flags": {"f": {"variants": {"on": true, "off": false},
            "enabled": true, "off_variant": "of", "owner": "me",
            "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 99.5}]}}}}}"#,
    );
    let out = flagcore(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let file = path.display();
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            format!("{file}: flags.f.owner: unknown field `owner`; expected one of: variants, enabled, off_variant, salt, description, metadata, prerequisites, targets, rules, fallthrough, guardrails, exposures"),
            format!("{file}: flags.f.off_variant: unknown variant `of`; flag `f` has: on, off"),
            format!("{file}: flags.f.fallthrough.rollout: weights sum to 99.5, not 100"),
        ]
    );
}

#[test]
fn usage_and_io_errors_exit_2_without_a_panic() {
    for args in [
        &["validate"][..],
        &["explain", "x.json"],
        &["explain", "/nonexistent/snapshot.json", "f", "--key", "k"],
        &[
            "explain",
            &example(),
            "new-checkout",
            "--attr",
            "no-equals-sign",
        ],
        &["frobnicate"],
    ] {
        let out = flagcore(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.is_empty());
    }
}

#[test]
fn explain_json_has_exactly_the_specified_fields() {
    let out = flagcore(&[
        "explain",
        &example(),
        "new-checkout",
        "--key",
        "u-dana",
        "--attr",
        "email=dana@shop.example",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut fields: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "bucket",
            "error_code",
            "flag",
            "reason",
            "rule_id",
            "rule_index",
            "step",
            "target",
            "value",
            "variant"
        ]
    );
    assert_eq!(value["flag"], "new-checkout");
}

#[test]
fn explain_text_shows_the_path_taken() {
    let out = flagcore(&[
        "explain",
        &example(),
        "new-checkout",
        "--key",
        "u-mallory",
        "--attr",
        "email=mallory@shop.example",
        "--attr",
        "country=US",
    ]);
    let text = stdout(&out);
    assert!(text.contains("reason:   PREREQUISITE_FAILED"), "{text}");
    assert!(text.contains("prerequisite payments-v2"), "{text}");
    assert!(text.contains("not a member (key excluded)"), "{text}");
}

#[test]
fn simulate_prints_a_table_and_a_histogram() {
    let out = flagcore(&["simulate", &example(), "recommendations", "--users", "500"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("500  100.000%"), "{text}");
    assert!(text.contains('#'));
    let missing = flagcore(&["simulate", &example(), "no-such-flag", "--users", "5"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn kill_and_revive_edit_the_file_and_bump_the_version() {
    let path = temp_copy("kill");
    let file = path.to_str().unwrap();
    let before = flagcore::Store::from_file(&path)
        .unwrap()
        .version()
        .unwrap();
    let out = flagcore(&[
        "kill",
        file,
        "recommendations",
        "--reason",
        "black friday load",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = flagcore::Store::from_file(&path).unwrap();
    assert_eq!(store.version(), Some(before + 1));
    let ctx = flagcore::EvaluationContext::new("u");
    let view = store.snapshot();
    let details = view.bool_details("recommendations", &ctx, true);
    assert_eq!(details.reason, flagcore::Reason::Disabled);
    let metadata = view.flag_metadata("recommendations");
    assert!(metadata.iter().any(|(k, v)| &**k == "kill_reason"
        && *v == flagcore::MetadataValue::String("black friday load".into())));

    let out = flagcore(&["revive", file, "recommendations"]);
    assert_eq!(out.status.code(), Some(0));
    let store = flagcore::Store::from_file(&path).unwrap();
    assert_eq!(store.version(), Some(before + 2));
    assert_ne!(
        store
            .snapshot()
            .bool_details("recommendations", &ctx, true)
            .reason,
        flagcore::Reason::Disabled
    );
    let unknown = flagcore(&["kill", file, "no-such-flag", "--reason", "x"]);
    assert_eq!(unknown.status.code(), Some(1));
}

#[test]
fn kill_refuses_an_invalid_file_and_leaves_it_untouched() {
    let path = temp_copy("kill-invalid");
    let text = r#"{"version": 1, "flags": {"f": {"variants": {}, "enabled": true}}}"#;
    write(&path, text);
    let out = flagcore(&["kill", path.to_str().unwrap(), "f", "--reason", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn validate_checks_every_file_even_past_an_unreadable_one() {
    let path = temp_copy("many");
    let out = flagcore(&["validate", "/nonexistent/a.json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("valid (version"),
        "the readable file is still checked"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/a.json"));
}

/// A ramp: nobody before its first step, half from 2026-12-02T06:00Z, everyone a day later.
const RAMP: &str = r#"{"version": 1, "flags": {"ramp": {
    "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"rollout": {"split": [{"variant": "off", "weight": 100}],
      "schedule": [
        {"at": "2026-12-02T06:00:00Z", "split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]},
        {"at": "2026-12-03T07:00:00+01:00", "split": [{"variant": "on", "weight": 100}]}]}}}}}"#;

#[test]
fn explain_now_reports_the_schedule_step_in_force() {
    let path = temp_copy("ramp-explain");
    write(&path, RAMP);
    let file = path.to_str().unwrap();
    let explain = |now: &str| {
        let out = flagcore(&[
            "explain", file, "ramp", "--key", "u1", "--json", "--now", now,
        ]);
        assert_eq!(out.status.code(), Some(0), "{now}");
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let before = explain("2026-12-02T05:59:59.999Z");
    assert_eq!(
        (before["step"].clone(), before["variant"].clone()),
        (serde_json::Value::Null, "off".into())
    );
    assert_eq!(explain("2026-12-02T06:00:00Z")["step"], 0);
    assert_eq!(explain("2026-12-03T05:59:59Z")["step"], 0);
    let last = explain("2026-12-03T06:00:00Z");
    assert_eq!(
        (last["step"].clone(), last["variant"].clone()),
        (1.into(), "on".into())
    );

    let text = stdout(&flagcore(&[
        "explain",
        file,
        "ramp",
        "--key",
        "u1",
        "--now",
        "2030-01-01T00:00:00+02:00",
    ]));
    assert!(text.contains("step:     1"), "{text}");
    assert!(
        text.contains("schedule step 1 (from 2026-12-03T07:00:00+01:00) is in force"),
        "{text}"
    );

    for bad in ["2026-12-02T06:00:00", "tomorrow", "2026-13-01T00:00:00Z"] {
        let out = flagcore(&["explain", file, "ramp", "--key", "u1", "--now", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn simulate_now_shows_the_split_of_the_step_in_force() {
    let path = temp_copy("ramp-simulate");
    write(&path, RAMP);
    let file = path.to_str().unwrap();
    let share_on = |now: &str| -> f64 {
        let out = flagcore(&["simulate", file, "ramp", "--users", "2000", "--now", now]);
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        text.lines()
            .find(|l| l.starts_with("on "))
            .map_or(0.0, |l| {
                l.split_whitespace().nth(2).unwrap().parse::<f64>().unwrap() / 2000.0
            })
    };
    assert_eq!(share_on("2026-12-01T00:00:00Z"), 0.0);
    let half = share_on("2026-12-02T06:00:00Z");
    assert!((0.45..0.55).contains(&half), "{half}");
    assert_eq!(share_on("2026-12-03T06:00:00Z"), 1.0);
}

#[test]
fn validate_reports_a_schedule_out_of_order_at_its_step() {
    let path = temp_copy("ramp-invalid");
    write(
        &path,
        &RAMP.replace("2026-12-03T07:00:00+01:00", "2026-12-02T07:00:00+01:00"),
    );
    let out = flagcore(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("flags.ramp.fallthrough.rollout.schedule[1].at: step 1 is not after step 0"),
        "{text}"
    );
}

fn flagd_conformance() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    root.join("tests/flagd/flags.json").display().to_string()
}

#[test]
fn validate_reads_flagd_files_and_lists_each_flag_that_answers_an_error() {
    let dir = temp_copy("flagd-valid");
    let good = dir.with_file_name("good.json");
    write(
        &good,
        r#"{"flags": {"f": {"state": "ENABLED", "variants": {"on": true, "off": false},
            "defaultVariant": "off", "targeting": {"if": [{"in": [{"var": "c"}, ["DE"]]}, "on"]}}}}"#,
    );
    let out = flagcore(&["validate", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("{}: valid (flagd)\n", good.display()));
    let file = flagd_conformance();
    let out = flagcore(&["validate", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        [
            format!("{file}: flags.ref-to-nonexistent-evaluator-flag.targeting: `$ref` to undefined evaluator `nonexistent_evaluator`"),
            format!("{file}: flags.error-targeting-flag.targeting: unknown operator `invalid`"),
        ]
    );
}

#[test]
fn explain_shows_a_flagd_bucket_and_what_the_targeting_returned() {
    let file = flagd_conformance();
    let out = flagcore(&[
        "explain",
        &file,
        "fractional-flag",
        "--attr",
        "user.name=queen",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (json["value"].as_str(), json["reason"].as_str()),
        (Some("spades"), Some("TARGETING_MATCH"))
    );
    let out = flagcore(&[
        "explain",
        &file,
        "semver-invalid-version-flag",
        "--attr",
        "version=nope",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("an operator's arguments were unusable"),
        "{text}"
    );
    assert!(text.contains("reason:   DEFAULT"), "{text}");
}

#[test]
fn import_flagd_writes_a_native_snapshot_and_lists_what_it_cannot_convert() {
    let file = flagd_conformance();
    let out = flagcore(&["import", "flagd", &file, "--version", "9"]);
    assert_eq!(out.status.code(), Some(1));
    let snapshot: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snapshot["version"], 9);
    assert_eq!(
        snapshot["flags"]["fractional-flag"]["fallthrough"],
        serde_json::json!({"rollout": {"by": "user.name", "bucketing": "flagd", "split": [
            {"variant": "clubs", "weight": 25}, {"variant": "diamonds", "weight": 25},
            {"variant": "hearts", "weight": 25}, {"variant": "spades", "weight": 25}]}})
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "{file}: flags.timestamp-flag.targeting: a comparison with `$flagd.timestamp`"
        )),
        "{stderr}"
    );
    assert!(stderr.ends_with("17 flag(s) not converted\n"), "{stderr}");
    let converted = temp_copy("flagd-import").with_file_name("native.json");
    std::fs::write(&converted, &out.stdout).unwrap();
    let out = flagcore(&[
        "explain",
        converted.to_str().unwrap(),
        "fractional-flag",
        "--key",
        "k",
        "--attr",
        "user.name=queen",
    ]);
    assert!(
        stdout(&out).contains("value:    \"spades\""),
        "{}",
        stdout(&out)
    );
}

#[test]
fn import_flagd_merges_files_and_exits_0_when_everything_converts() {
    let dir = temp_copy("flagd-merge");
    let (first, second) = (dir.with_file_name("a.json"), dir.with_file_name("b.json"));
    write(
        &first,
        r#"{"flags": {"f": {"state": "ENABLED", "variants": {"x": 1, "y": 2}, "defaultVariant": "x"}}}"#,
    );
    write(
        &second,
        r#"{"flags": {"f": {"state": "ENABLED", "variants": {"x": 1, "y": 2}, "defaultVariant": "y"}}}"#,
    );
    let out = flagcore(&[
        "import",
        "flagd",
        first.to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snapshot: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        snapshot["flags"]["f"]["fallthrough"],
        serde_json::json!({"variant": "y"})
    );
    write(&second, "{");
    let out = flagcore(&[
        "import",
        "flagd",
        first.to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .starts_with(&format!("{}: $: ", second.display())));
    let out = flagcore(&["import", "flagd", "/no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn flagd_fractional_v3_buckets_by_cbor_keys_and_import_refuses_it() {
    let file = flagd_conformance();
    let explain = |extra: &[&str]| {
        let mut args = vec![
            "explain",
            file.as_str(),
            "fractional-flag",
            "--attr",
            "user.name=jack",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = flagcore(&args);
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["value"].clone()
    };
    // flagd's conformance tables: `jack` is in hearts under v2 and diamonds under v3.
    assert_eq!(explain(&[]), "hearts");
    assert_eq!(explain(&["--flagd-fractional", "v2"]), "hearts");
    assert_eq!(explain(&["--flagd-fractional", "v3"]), "diamonds");
    let out = flagcore(&["import", "flagd", &file, "--flagd-fractional", "v3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = flagcore(&[
        "explain",
        &file,
        "fractional-flag",
        "--flagd-fractional",
        "v1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
