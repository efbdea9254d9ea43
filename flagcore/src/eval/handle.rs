//! Pre-resolved flags: a [`FlagHandle`] remembers where its flag sits in the serving plan,
//! so a hot call site skips the name lookup.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::plan::tag::{SLOT_MASK, UNCACHED_TAG};
use crate::plan::Plan;

/// A flag name with its position in the last snapshot it was used with. Create one per
/// call site (a `static` or a field) and pass `&handle` wherever a getter takes a flag name.
/// After a snapshot update the first evaluation looks the name up again and remembers the
/// new position; the answer is always the one the name would give.
///
/// ```
/// use flagcore::{EvaluationContext, FlagHandle, Store};
///
/// static SEARCH_V2: FlagHandle = FlagHandle::new("search-v2");
///
/// let store = Store::from_bytes(br#"{"version": 1, "flags": {"search-v2": {
///     "variants": {"on": true, "off": false}, "enabled": true,
///     "off_variant": "off", "fallthrough": {"variant": "on"}}}}"#)?;
/// let snapshot = store.snapshot();
/// assert!(snapshot.bool(&SEARCH_V2, &EvaluationContext::new("u"), false));
/// # Ok::<(), flagcore::Error>(())
/// ```
#[derive(Debug)]
pub struct FlagHandle {
    name: &'static str,
    /// The plan's [`tag_of`] with the flag index in the low 24 bits; 0 (no plan's tag)
    /// until the flag is first found.
    cached: AtomicU64,
}

impl FlagHandle {
    /// A handle for the flag named `name`.
    pub const fn new(name: &'static str) -> FlagHandle {
        FlagHandle {
            name,
            cached: AtomicU64::new(0),
        }
    }

    /// The flag's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Something that names a flag: a `&str`, or a [`FlagHandle`] that also remembers where
/// the flag is. Sealed: implemented by flagcore only.
pub trait FlagKey: sealed::Sealed {
    /// The flag's name.
    fn flag_name(&self) -> &str;

    #[doc(hidden)]
    fn index_in(&self, plan: &Plan) -> Option<u32>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for str {}
    impl Sealed for String {}
    impl Sealed for super::FlagHandle {}
    impl<T: Sealed + ?Sized> Sealed for &T {}
}

impl FlagKey for str {
    fn flag_name(&self) -> &str {
        self
    }

    #[inline]
    fn index_in(&self, plan: &Plan) -> Option<u32> {
        plan.index.get(self)
    }
}

impl FlagKey for String {
    fn flag_name(&self) -> &str {
        self
    }

    #[inline]
    fn index_in(&self, plan: &Plan) -> Option<u32> {
        self.as_str().index_in(plan)
    }
}

impl FlagKey for FlagHandle {
    fn flag_name(&self) -> &str {
        self.name
    }

    #[inline]
    fn index_in(&self, plan: &Plan) -> Option<u32> {
        let tag = plan.handle_tag;
        // Relaxed suffices: the cache is one word checked against the plan's tag, so a
        // value written for another plan only costs a fresh lookup.
        let cached = self.cached.load(Ordering::Relaxed) ^ tag;
        if cached <= SLOT_MASK {
            return Some(cached as u32);
        }
        let index = self.name.index_in(plan)?;
        // Only a found flag is cached, so that a hit needs no test for "not found" (a
        // handle of a missing flag looks it up each time, on the error path). Plans past
        // `UNCACHED_IDS` or flags beyond 2^24 go uncached.
        if u64::from(index) <= SLOT_MASK && tag != UNCACHED_TAG {
            self.cached.store(tag | u64::from(index), Ordering::Relaxed);
        }
        Some(index)
    }
}

impl<T: FlagKey + ?Sized> FlagKey for &T {
    fn flag_name(&self) -> &str {
        (**self).flag_name()
    }

    #[inline]
    fn index_in(&self, plan: &Plan) -> Option<u32> {
        (**self).index_in(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tag::{tag_of, UNCACHED_IDS};

    #[test]
    fn a_cached_word_answers_only_for_its_own_plan() {
        let ids = [1, 2, 3, 1 << 20, UNCACHED_IDS - 1];
        for cached_for in ids {
            for index in [0, 1, SLOT_MASK] {
                let word = tag_of(cached_for) | index;
                for serving in ids.into_iter().chain([UNCACHED_IDS, u64::MAX]) {
                    let hit = word ^ tag_of(serving);
                    assert_eq!(
                        hit <= SLOT_MASK,
                        serving == cached_for,
                        "{cached_for} {serving}"
                    );
                    if serving == cached_for {
                        assert_eq!(hit, index);
                    }
                }
            }
        }
        // An empty handle matches no plan, nor a plan too late to be cached.
        assert!(ids.into_iter().all(|id| tag_of(id) > SLOT_MASK));
        assert!(tag_of(UNCACHED_IDS) ^ tag_of(UNCACHED_IDS - 1) > SLOT_MASK);
    }
}
