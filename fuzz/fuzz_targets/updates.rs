//! Interleaved updates (valid, stale and broken documents), kills, revives and
//! evaluations: versions only grow, a refused update changes nothing, and a kill holds
//! across every reload until revived.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

use flagcore::{EvaluationContext, Reason, Store};

#[derive(Arbitrary, Debug)]
enum Op {
    Update {
        version: u8,
        enabled: bool,
        flag: u8,
    },
    Broken(Vec<u8>),
    Kill(u8),
    Revive(u8),
    Evaluate(u8),
}

const FLAGS: [&str; 3] = ["a", "b", "c"];

fn document(version: u8, enabled: bool, flag: u8) -> String {
    let name = FLAGS[usize::from(flag) % FLAGS.len()];
    format!(
        r#"{{"version": {version}, "flags": {{"{name}": {{"variants": {{"on": true, "off": false}},
            "enabled": {enabled}, "off_variant": "off", "fallthrough": {{"variant": "on"}}}}}}}}"#
    )
}

fuzz_target!(|ops: Vec<Op>| {
    let store = Store::new();
    let mut killed = [false; 3];
    let ctx = EvaluationContext::new("user");
    for op in ops {
        let before = store.version();
        match op {
            Op::Update {
                version,
                enabled,
                flag,
            } => {
                let result = store.update(document(version, enabled, flag).as_bytes());
                match (result, before) {
                    (Ok(v), Some(b)) => assert!(v > b),
                    (Ok(_), None) => {}
                    (Err(e), Some(b)) => {
                        assert_eq!(e.code(), "stale_snapshot");
                        assert!(u64::from(version) <= b);
                        assert_eq!(store.version(), before);
                    }
                    (Err(e), None) => panic!("a valid first document was refused: {e}"),
                }
            }
            Op::Broken(bytes) => {
                if store.update(&bytes).is_err() {
                    assert_eq!(store.version(), before);
                }
            }
            Op::Kill(i) => {
                let i = usize::from(i) % FLAGS.len();
                store.kill(FLAGS[i], "fuzz");
                killed[i] = true;
            }
            Op::Revive(i) => {
                let i = usize::from(i) % FLAGS.len();
                assert_eq!(store.revive(FLAGS[i]), killed[i]);
                killed[i] = false;
            }
            Op::Evaluate(i) => {
                let i = usize::from(i) % FLAGS.len();
                let snapshot = store.snapshot();
                let details = snapshot.bool_details(FLAGS[i], &ctx, true);
                if killed[i] && details.variant.is_some() {
                    assert_eq!(details.reason, Reason::Disabled);
                    assert!(!details.value);
                }
            }
        }
        assert_eq!(store.kills().len(), killed.iter().filter(|k| **k).count());
    }
});
