//! The hashing of docs/format.md §3: a salt's seed and a key's bucket, bit for bit the
//! same in every binding.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The number of buckets: one per 0.001 % of users.
pub const BUCKETS: u32 = 100_000;

/// The hash seed of a salt, computed once per flag or `in_bucket` condition at load.
#[inline]
pub(crate) fn seed(salt: &str) -> u64 {
    xxh3_64(salt.as_bytes())
}

#[inline]
pub(crate) fn bucket_bytes(seed: u64, key: &[u8]) -> u32 {
    let h = xxh3_64_with_seed(key, seed);
    ((u128::from(h) * u128::from(BUCKETS)) >> 64) as u32
}
