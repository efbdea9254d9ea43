//! Bucketing, docs/format.md §3, bit for bit:
//!
//! ```text
//! seed   = xxh3_64(salt)
//! h      = xxh3_64_with_seed(bucket_key, seed)
//! bucket = (h as u128 * 100_000) >> 64        // 0 ..= 99_999
//! ```

pub use crate::primitives::hashing::BUCKETS;
use crate::primitives::hashing::{bucket_bytes, seed};
use crate::primitives::value::Value;

/// The bucket of an attribute value: strings by their bytes, integers by their decimal
/// string; anything else cannot be bucketed.
#[inline]
pub(crate) fn bucket_of(seed: u64, value: &Value<'_>) -> Option<u32> {
    match *value {
        Value::String(s) => Some(bucket_bytes(seed, s.as_bytes())),
        Value::Int(i) => {
            let mut buffer = [0u8; 20];
            Some(bucket_bytes(seed, decimal(i, &mut buffer)))
        }
        Value::Float(_) | Value::Bool(_) => None,
    }
}

/// Writes `i` in decimal into the end of `buffer` (20 bytes fit `i64::MIN`), without the
/// heap that `to_string` would use.
pub(crate) fn decimal(i: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut n = i.unsigned_abs();
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        start -= 1;
        buffer[start] = b'-';
    }
    &buffer[start..]
}

/// The bucket (0..=99,999) that `key` falls in under `salt`, as docs/format.md §3 defines it.
///
/// Two flags that share a salt bucket every key identically:
///
/// ```
/// let b = flagcore::bucket("new-checkout", "alice");
/// assert!(b < flagcore::BUCKETS);
/// assert_eq!(b, flagcore::bucket("new-checkout", "alice"));
/// ```
pub fn bucket(salt: &str, key: &str) -> u32 {
    bucket_bytes(seed(salt), key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_bucket_as_their_decimal_string() {
        let s = seed("salt");
        for i in [0i64, 7, -7, 42, i64::MAX, i64::MIN, 1_000_000] {
            assert_eq!(
                bucket_of(s, &Value::Int(i)),
                Some(bucket_bytes(s, i.to_string().as_bytes())),
                "{i}"
            );
        }
    }

    #[test]
    fn floats_and_booleans_cannot_be_bucketed() {
        assert_eq!(bucket_of(1, &Value::Float(1.0)), None);
        assert_eq!(bucket_of(1, &Value::Bool(true)), None);
    }
}
