//! String-keyed lookups for the hot path: xxh3 hashing, and a plain scan for short lists
//! (a handful of string comparisons beats hashing the probe).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Lists up to this long are scanned instead of hashed.
const SCAN_LIMIT: usize = 8;

/// Builds [`Xxh3Hasher`]s.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Xxh3Build;

impl BuildHasher for Xxh3Build {
    type Hasher = Xxh3Hasher;

    fn build_hasher(&self) -> Xxh3Hasher {
        Xxh3Hasher(0)
    }
}

/// A `Hasher` over xxh3, which is already a dependency and fast on short keys.
#[derive(Debug)]
pub(crate) struct Xxh3Hasher(u64);

impl Hasher for Xxh3Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxh3_64_with_seed(bytes, self.0);
    }

    fn write_u8(&mut self, byte: u8) {
        // `str` hashing ends with a 0xff marker byte; folding it in cheaply is enough.
        self.0 = self.0.rotate_left(8) ^ u64::from(byte);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map from strings, scanned when short and hashed when long.
#[derive(Debug)]
pub(crate) enum StrMap<V> {
    Scan(Box<[(Box<str>, V)]>),
    Hash(HashMap<Box<str>, V, Xxh3Build>),
}

impl<V> StrMap<V> {
    /// Builds the map; the first of equal keys wins.
    pub(crate) fn new(entries: Vec<(Box<str>, V)>) -> Self {
        if entries.len() <= SCAN_LIMIT {
            return StrMap::Scan(entries.into_boxed_slice());
        }
        let mut map = HashMap::with_capacity_and_hasher(entries.len(), Xxh3Build);
        for (key, value) in entries {
            map.entry(key).or_insert(value);
        }
        StrMap::Hash(map)
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        match self {
            StrMap::Scan(entries) => entries.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
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
