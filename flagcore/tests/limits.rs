//! Each loader limit refuses a document beyond it with an error naming the limit and the
//! place, and the serving snapshot stays.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flagcore::{Limits, Store};

fn flag(name: &str) -> String {
    format!(
        r#""{name}": {{"variants": {{"on": true, "off": false}}, "enabled": true,
            "off_variant": "off", "fallthrough": {{"variant": "on"}}}}"#
    )
}

fn refused(limits: Limits, doc: &str) -> (String, String) {
    let store = Store::with_limits(limits);
    store
        .update(br#"{"version": 0, "flags": {}}"#)
        .expect("an empty snapshot fits every limit");
    let err = store.update(doc.as_bytes()).expect_err("over the limit");
    assert_eq!(store.version(), Some(0), "the serving snapshot must stay");
    let first = &err.validation_errors()[0];
    assert_eq!(first.kind().code(), "limit", "{first}");
    (first.path().to_owned(), first.message().to_owned())
}

#[test]
fn document_size() {
    let limits = Limits {
        max_document_bytes: 100,
        ..Limits::default()
    };
    let doc = format!(r#"{{"version": 1, "flags": {{{}}}}}"#, flag("a"));
    let (path, message) = refused(limits, &doc);
    assert_eq!(path, "$");
    assert!(message.contains("max_document_bytes"), "{message}");
}

#[test]
fn json_depth_configured_and_parser_bound() {
    let limits = Limits {
        max_json_depth: 4,
        ..Limits::default()
    };
    let doc = r#"{"version": 1, "flags": {"a": {"variants": {"x": {"deep": [1]}},
        "enabled": true, "off_variant": "x", "fallthrough": {"variant": "x"}}}}"#;
    let (_, message) = refused(limits, doc);
    assert!(message.contains("max_json_depth"), "{message}");
    let hostile = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (_, message) = refused(Limits::default(), &hostile);
    assert!(message.contains("nested too deeply"), "{message}");
}

#[test]
fn flag_and_segment_counts() {
    let limits = Limits {
        max_flags: 1,
        max_segments: 1,
        ..Limits::default()
    };
    let doc = format!(
        r#"{{"version": 1, "flags": {{{}, {}}}}}"#,
        flag("a"),
        flag("b")
    );
    let (path, message) = refused(limits, &doc);
    assert_eq!(path, "flags");
    assert!(message.contains("max_flags"), "{message}");
    let doc = r#"{"version": 1, "segments": {"s": {}, "t": {}}, "flags": {}}"#;
    let (path, _) = refused(limits, doc);
    assert_eq!(path, "segments");
}

#[test]
fn list_length_and_string_length() {
    let limits = Limits {
        max_list_length: 3,
        max_string_bytes: 8,
        ..Limits::default()
    };
    let doc =
        r#"{"version": 1, "segments": {"s": {"include": ["a", "b", "c", "d"]}}, "flags": {}}"#;
    let (path, message) = refused(limits, doc);
    assert_eq!(path, "segments.s.include");
    assert!(message.contains("max_list_length"), "{message}");
    let doc = r#"{"version": 1, "segments": {"s": {"include": ["a-very-long-key"]}}, "flags": {}}"#;
    let (path, message) = refused(limits, doc);
    assert_eq!(path, "segments.s.include[0]");
    assert!(message.contains("max_string_bytes"), "{message}");
}

#[test]
fn regex_compiled_size() {
    let limits = Limits {
        max_regex_bytes: 1000,
        ..Limits::default()
    };
    let doc = r#"{"version": 1, "segments": {"s": {"rules": [{"conditions": [
        {"attribute": "ua", "op": "matches", "values": ["\\w{1000}"]}]}]}}, "flags": {}}"#;
    let store = Store::with_limits(limits);
    let err = store.update(doc.as_bytes()).unwrap_err();
    let first = &err.validation_errors()[0];
    assert_eq!(first.path(), "segments.s.rules[0].conditions[0].values[0]");
    assert_eq!(first.kind().code(), "bad_regex");
    assert!(first.message().contains("size limit"), "{first}");
}

#[test]
fn segment_nesting_depth() {
    let limits = Limits {
        max_reference_depth: 3,
        ..Limits::default()
    };
    let segments: Vec<String> = (0..5)
        .map(|i| {
            if i == 4 {
                format!(r#""s{i}": {{}}"#)
            } else {
                format!(
                    r#""s{i}": {{"rules": [{{"conditions": [{{"in_segment": "s{}"}}]}}]}}"#,
                    i + 1
                )
            }
        })
        .collect();
    let doc = format!(
        r#"{{"version": 1, "segments": {{{}}}, "flags": {{}}}}"#,
        segments.join(",")
    );
    let (path, message) = refused(limits, &doc);
    assert_eq!(path, "segments.s1");
    assert!(message.contains("max_reference_depth"), "{message}");
}

#[test]
fn a_ten_thousand_flag_snapshot_fits_the_defaults() {
    let flags: Vec<String> = (0..10_000).map(|i| flag(&format!("flag-{i}"))).collect();
    let doc = format!(r#"{{"version": 1, "flags": {{{}}}}}"#, flags.join(","));
    assert!(Store::from_bytes(doc.as_bytes()).is_ok());
}
