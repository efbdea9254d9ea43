//! Any bytes offered as a snapshot: validation answers without panicking, and an accepted
//! document compiles, serves and reports its version. A flagd document serves even with
//! flags that answer errors (which validation lists), as the first version.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let verdict = flagcore::validate(data);
    let flagd = flagcore::flagd::Format::detect(data) == flagcore::flagd::Format::Flagd;
    let store = flagcore::Store::new();
    match store.update(data) {
        Ok(version) => {
            if flagd {
                assert_eq!(version, 1);
            } else {
                assert_eq!(verdict.ok(), Some(version));
            }
            let snapshot = store.snapshot();
            let ctx = flagcore::EvaluationContext::new("fuzz");
            let names: Vec<String> = snapshot.flag_names().map(str::to_owned).collect();
            for name in names {
                let _ = snapshot.explain(&name, &ctx);
            }
        }
        Err(err) => {
            assert!(verdict.is_err());
            assert!(!err.validation_errors().is_empty());
            assert_eq!(store.version(), None);
        }
    }
});
