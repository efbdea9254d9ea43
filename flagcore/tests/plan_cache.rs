//! The per-thread plan cache behind `Store::bool`, `int`, `float` and `with_plan`: a plan
//! in use is never dropped under its reader, whatever the reader does, and reads made while
//! the thread exits still answer.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use flagcore::{EvaluationContext, Store};

fn snapshot(version: u64) -> Vec<u8> {
    format!(
        r#"{{"version": {version}, "flags": {{
            "a": {{"variants": {{"v": {version}, "zero": 0}}, "enabled": true,
                  "off_variant": "zero", "fallthrough": {{"variant": "v"}}}}}}}}"#
    )
    .into_bytes()
}

const CTX: EvaluationContext<'static> = EvaluationContext::new("user");

#[test]
fn a_plan_in_use_outlives_nested_reads_updates_and_reaping() {
    let store = Store::from_bytes(&snapshot(1)).unwrap();
    // Cache version 1 on this thread first, so that `with_plan` lends the cached plan.
    assert_eq!(store.int("a", &CTX, -1), 1);
    let seen = store.with_plan(|plan| {
        let mut seen = Vec::new();
        for version in 2..=4 {
            store.update(&snapshot(version)).unwrap();
            // A nested read must see the new plan without replacing the one lent here.
            seen.push(store.int("a", &CTX, -1));
            seen.push(store.with_plan(|inner| inner.int("a", &CTX, -1)));
            // Reaping drops every retired plan no one holds: the lent one must be held.
            store.take_metrics();
            seen.push(plan.int("a", &CTX, -1));
        }
        seen
    });
    assert_eq!(seen, [2, 2, 1, 3, 3, 1, 4, 4, 1]);
    // Back outside, the cache moves on to the serving plan.
    assert_eq!(store.int("a", &CTX, -1), 4);
}

#[test]
fn a_panicking_read_leaves_the_cache_usable() {
    let store = Store::from_bytes(&snapshot(1)).unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.with_plan(|_| panic!("a reader's bug"));
    }));
    assert!(caught.is_err());
    store.update(&snapshot(2)).unwrap();
    assert_eq!(store.int("a", &CTX, -1), 2);
    store.update(&snapshot(3)).unwrap();
    assert_eq!(store.int("a", &CTX, -1), 3);
}

/// Reads the store from a thread-local's destructor, that is while the thread exits and
/// possibly after the plan cache's own thread-locals are gone.
struct ReadsOnExit(Arc<Store>);

impl Drop for ReadsOnExit {
    fn drop(&mut self) {
        let store = &self.0;
        assert_eq!(store.int("a", &CTX, -1), store.version().unwrap() as i64);
        store
            .update(&snapshot(store.version().unwrap() + 1))
            .unwrap();
        assert_eq!(store.int("a", &CTX, -1), store.version().unwrap() as i64);
        assert_eq!(
            store.with_plan(|plan| plan.int("a", &CTX, -1)),
            store.version().unwrap() as i64
        );
    }
}

thread_local! {
    static ON_EXIT: std::cell::RefCell<Option<ReadsOnExit>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn reads_while_the_thread_exits_answer() {
    let store = Arc::new(Store::from_bytes(&snapshot(1)).unwrap());
    let reader = Arc::clone(&store);
    std::thread::spawn(move || {
        // Registered before and after the cache's thread-locals are first used, so that
        // one of the two destructors runs after the cache's.
        ON_EXIT.with(|slot| *slot.borrow_mut() = Some(ReadsOnExit(Arc::clone(&reader))));
        assert_eq!(reader.int("a", &CTX, -1), 1);
        thread_local! {
            static LATE: std::cell::RefCell<Option<ReadsOnExit>> =
                const { std::cell::RefCell::new(None) };
        }
        LATE.with(|slot| *slot.borrow_mut() = Some(ReadsOnExit(reader)));
    })
    .join()
    .unwrap();
    assert_eq!(store.version(), Some(3));
    assert_eq!(store.int("a", &CTX, -1), 3);
}
