//! `flagcore diff` end to end: the `--json` shape, the counts against buckets computed with
//! `flagcore::bucket` (the normative formula), the text form, and every exit code.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
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
    let dir = std::env::temp_dir().join(format!("flagcore-diff-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A snapshot with a canary at `on` percent (by the targeting key) and a flag gated on the
/// segment `europe` (countries `countries`).
fn snapshot(version: u64, on: u32, countries: &[&str]) -> String {
    json!({
        "version": version,
        "segments": {"europe": {"rules": [{"conditions": [
            {"attribute": "country", "op": "in", "values": countries}]}]}},
        "flags": {
            "canary": {"variants": {"on": true, "off": false}, "enabled": true,
                "off_variant": "off",
                "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": on},
                                                      {"variant": "off", "weight": 100 - on}]}}},
            "eu-banner": {"variants": {"shown": "yes", "hidden": "no"}, "enabled": true,
                "off_variant": "hidden",
                "rules": [{"conditions": [{"in_segment": "europe"}], "serve": {"variant": "shown"}}],
                "fallthrough": {"variant": "hidden"}}
        }
    })
    .to_string()
}

fn canary_moves(users: u64) -> u64 {
    (0..users)
        .filter(|i| (5_000..50_000).contains(&flagcore::bucket("canary", &format!("user-{i}"))))
        .count() as u64
}

#[test]
fn json_has_exactly_the_documented_shape_and_the_expected_counts() {
    let d = dir("json");
    let old = file(&d, "old.json", &snapshot(1, 5, &["DE"]));
    let new = file(&d, "new.json", &snapshot(2, 50, &["DE"]));
    let out = flagcore(&["diff", &old, &new, "--users", "5000", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let moved = canary_moves(5_000);
    assert_eq!(
        report,
        json!({
            "old_version": 1, "new_version": 2,
            "flags": [
                {"flag": "canary", "change": "changed", "evaluated": 5000, "changed": moved,
                 "transitions": [{"from": "off", "to": "on", "count": moved}],
                 "structural": [
                    {"path": "flags.canary.fallthrough.rollout.split[0].weight", "what": "5 → 50"},
                    {"path": "flags.canary.fallthrough.rollout.split[1].weight", "what": "95 → 50"}]},
                {"flag": "eu-banner", "change": "unchanged", "evaluated": 5000, "changed": 0,
                 "transitions": [], "structural": []}
            ],
            // Synthetic keys have no attributes: no one is in `europe`.
            "segments": [{"segment": "europe", "contexts": 0, "changed": 0}]
        })
    );
}

#[test]
fn contexts_from_a_file_count_per_segment() {
    let d = dir("contexts");
    let old = file(&d, "old.json", &snapshot(1, 5, &["DE"]));
    let new = file(&d, "new.json", &snapshot(2, 5, &["DE", "FR"]));
    let lines: Vec<String> = ["DE", "FR", "US", "FR"]
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"key": format!("k{i}"), "attrs": {"country": c}}).to_string())
        .collect();
    let contexts = file(&d, "contexts.jsonl", &(lines.join("\n") + "\n"));
    let out = flagcore(&["diff", &old, &new, "--contexts", &contexts, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let banner = &report["flags"][1];
    assert_eq!(banner["flag"], "eu-banner");
    assert_eq!(banner["change"], "unchanged");
    assert_eq!(banner["evaluated"], 4);
    assert_eq!(
        banner["transitions"],
        json!([{"from": "hidden", "to": "shown", "count": 2}])
    );
    assert_eq!(
        report["segments"],
        json!([{"segment": "europe", "contexts": 3, "changed": 2}])
    );
}

#[test]
fn text_names_the_changes_and_the_moves() {
    let d = dir("text");
    let old = file(&d, "old.json", &snapshot(1, 5, &["DE"]));
    let new = file(&d, "new.json", &snapshot(2, 50, &["DE"]));
    let out = flagcore(&[
        "diff",
        &old,
        &new,
        "--users",
        "2000",
        "--now",
        "2026-12-01T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let moved = canary_moves(2_000);
    assert!(text.starts_with("version 1 -> 2; 2000 synthetic keys (user-0 .. user-1999) without attributes, as of 2026-12-01T00:00:00Z\n"), "{text}");
    assert!(text.contains("flags: 0 added, 0 removed, 1 changed, 1 unchanged; 1 move contexts\n"));
    assert!(text.contains(&format!("canary: changed; {moved} of 2000 contexts move")));
    assert!(text.contains("  flags.canary.fallthrough.rollout.split[0].weight: 5 → 50\n"));
    assert!(text.contains(&format!("  off -> on: {moved}\n")));
    // A flag that neither changed nor moved is only counted.
    assert!(!text.contains("eu-banner:"));
}

#[test]
fn max_changed_fails_only_above_the_share() {
    let d = dir("gate");
    let old = file(&d, "old.json", &snapshot(1, 5, &["DE"]));
    let new = file(&d, "new.json", &snapshot(2, 50, &["DE"]));
    let moved = canary_moves(1_000);
    let share = moved as f64 / 10.0;
    let at = |percent: f64| {
        flagcore(&[
            "diff",
            &old,
            &new,
            "--users",
            "1000",
            "--max-changed",
            &percent.to_string(),
        ])
    };
    let out = at(share);
    assert_eq!(
        out.status.code(),
        Some(0),
        "exactly the share passes: {}",
        stderr(&out)
    );
    let out = at(share - 0.1);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("flag `canary` moves {moved} of 1000 contexts")),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("canary: changed"),
        "the report is printed too"
    );
    assert_eq!(at(100.0).status.code(), Some(0));
}

#[test]
fn a_version_that_does_not_increase_fails() {
    let d = dir("stale");
    let old = file(&d, "old.json", &snapshot(5, 5, &["DE"]));
    for version in [5, 4] {
        let new = file(&d, "new.json", &snapshot(version, 5, &["DE"]));
        let out = flagcore(&["diff", &old, &new, "--users", "10", "--json"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains(&format!("version {version} is not greater than")),
            "{}",
            stderr(&out)
        );
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(report["new_version"], version);
    }
}

#[test]
fn invalid_snapshots_are_reported_like_validate_does() {
    let d = dir("invalid");
    let old = file(&d, "old.json", "{");
    let new = file(
        &d,
        "new.json",
        r#"{"version": 2, "flags": {"f": {"variants": {"on": true}, "enabled": true,
            "off_variant": "of", "fallthrough": {"variant": "on"}}}}"#,
    );
    let out = flagcore(&["diff", &old, &new, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    let lines: Vec<String> = stderr(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{old}: $: ")), "{lines:?}");
    assert_eq!(
        lines[1],
        format!("{new}: flags.f.off_variant: unknown variant `of`; flag `f` has: on")
    );
}

#[test]
fn usage_and_input_errors_exit_2() {
    let d = dir("usage");
    let good = file(&d, "good.json", &snapshot(1, 5, &["DE"]));
    let newer = file(&d, "newer.json", &snapshot(2, 5, &["DE"]));
    let bad_line = file(
        &d,
        "bad.jsonl",
        "{\"key\": \"a\"}\n{\"key\": \"b\", \"attrs\": {\"tags\": [1]}}\n",
    );
    let empty = file(&d, "empty.jsonl", "\n");
    let missing = d.join("missing.json").display().to_string();
    for (args, message) in [
        (vec!["diff", &good], "required"),
        (vec!["diff", &missing, &newer], "missing.json"),
        (
            vec!["diff", &good, &newer, "--contexts", &missing],
            "missing.json",
        ),
        (
            vec!["diff", &good, &newer, "--contexts", &bad_line],
            "bad.jsonl: line 2: attribute `tags`",
        ),
        (
            vec!["diff", &good, &newer, "--contexts", &empty],
            "no contexts",
        ),
        (
            vec![
                "diff",
                &good,
                &newer,
                "--contexts",
                &bad_line,
                "--users",
                "5",
            ],
            "cannot be used with",
        ),
        (
            vec!["diff", &good, &newer, "--users", "0"],
            "--users must be at least 1",
        ),
        (vec!["diff", &good, &newer, "--now", "tomorrow"], "RFC 3339"),
        (
            vec!["diff", &good, &newer, "--max-changed", "150"],
            "percentage",
        ),
        (
            vec!["diff", &good, &newer, "--max-changed", "lots"],
            "percentage",
        ),
    ] {
        let out = flagcore(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
}
