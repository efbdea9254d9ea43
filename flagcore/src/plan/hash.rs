//! String-keyed lookups for the hot path: a word-at-a-time hash for names, and a plain scan
//! for short lists (a handful of string comparisons beats hashing the probe).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Lists up to this long are scanned instead of hashed.
const SCAN_LIMIT: usize = 8;

/// Builds [`WordHasher`]s.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WordBuild;

impl BuildHasher for WordBuild {
    type Hasher = WordHasher;

    fn build_hasher(&self) -> WordHasher {
        WordHasher(0)
    }
}

/// Hashes 8 bytes per multiply. Flag names and targeting keys are short, so this beats a
/// general-purpose hash severalfold; the keys in a table come from the snapshot, so
/// collision flooding is not a concern.
#[derive(Debug)]
pub(crate) struct WordHasher(u64);

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

impl WordHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown takes its control bits from the top of the hash: fold the low bits in.
        self.0 ^ (self.0 >> 31)
    }
}

/// String equality without a `memcmp` call: names and keys are short, and a call plus
/// its setup costs more than comparing two or three words inline.
#[inline]
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    match a.len() {
        0..=7 => a.iter().zip(b).all(|(x, y)| x == y),
        // Two overlapping words cover every byte.
        8..=16 => {
            let last = a.len() - 8;
            word(a, 0) == word(b, 0) && word(a, last) == word(b, last)
        }
        _ => a == b,
    }
}

/// A map from strings, scanned when short and hashed when long.
#[derive(Debug)]
pub(crate) enum StrMap<V> {
    Scan(Box<[(Box<str>, V)]>),
    Hash(HashMap<Box<str>, V, WordBuild>),
}

impl<V> StrMap<V> {
    /// Builds the map; the first of equal keys wins.
    pub(crate) fn new(entries: Vec<(Box<str>, V)>) -> Self {
        if entries.len() <= SCAN_LIMIT {
            return StrMap::Scan(entries.into_boxed_slice());
        }
        let mut map = HashMap::with_capacity_and_hasher(entries.len(), WordBuild);
        for (key, value) in entries {
            map.entry(key).or_insert(value);
        }
        StrMap::Hash(map)
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        match self {
            StrMap::Scan(entries) => entries.iter().find(|(k, _)| same(k, key)).map(|(_, v)| v),
            StrMap::Hash(map) => map.get(key),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        match self {
            StrMap::Scan(entries) => entries.is_empty(),
            StrMap::Hash(map) => map.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn same_agrees_with_string_equality() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "abcdefg",
            "abcdefh",
            "abcdefgh",
            "abcdefgi",
            "bbcdefgh",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "xbcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "country",
            "beta_opt_in",
            "app_version",
        ];
        for a in words {
            for b in words {
                assert_eq!(same(a, b), a == b, "{a:?} vs {b:?}");
            }
        }
    }
}
