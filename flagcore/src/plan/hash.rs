//! String-keyed lookups for the hot path: a word-at-a-time hash for names, and a plain scan
//! for short lists (a handful of string comparisons beats hashing the probe).

use std::hash::Hasher;

/// Lists up to this long are scanned instead of hashed.
const SCAN_LIMIT: usize = 8;

/// Hashes 8 bytes per multiply, for names longer than [`NameIndex`] hashes in one. Flag
/// names and targeting keys are short, so this beats a general-purpose hash severalfold;
/// the keys in a table come from the snapshot, so collision flooding is not a concern.
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
            self.mix(short_word(chunk));
        }
        let rest = chunks.remainder();
        self.mix(short_word(rest) ^ ((rest.len() as u64) << 56));
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

/// Up to 8 bytes as one word, every byte included, without a variable-length copy (which
/// would be a `memcpy` call): overlapping fixed-size reads, as small-input hashes do.
/// Always inlined: a few loads and shifts, which a call would double.
#[inline(always)]
pub(crate) fn short_word(b: &[u8]) -> u64 {
    let len = b.len();
    let read4 = |at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&b[at..at + 4]);
        u64::from(u32::from_le_bytes(w))
    };
    match len {
        0 => 0,
        1..=3 => u64::from(b[0]) | u64::from(b[len / 2]) << 8 | u64::from(b[len - 1]) << 16,
        4..=7 => read4(0) | read4(len - 4) << 32,
        _ => {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[..8]);
            u64::from_le_bytes(w)
        }
    }
}

/// String equality without a `memcmp` call: names and keys are short, and a call plus
/// its setup costs more than comparing two or three words inline. Always inlined: as a
/// call (which the compiler chose once a caller grew) it cost a short-list hit 30
/// instructions more.
#[inline(always)]
pub(crate) fn same(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same`] for bytes: for a prefix or suffix test, which may cut a string mid-character.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match a.len() {
        // Equal lengths, so equal words mean equal bytes.
        0..=8 => short_word(a) == short_word(b),
        // Two overlapping words cover every byte.
        9..=16 => {
            let last = a.len() - 8;
            short_word(&a[..8]) == short_word(&b[..8])
                && short_word(&a[last..]) == short_word(&b[last..])
        }
        _ => a == b,
    }
}

/// The bit of [`StrMap::Scan`]'s length mask for `key`.
#[inline(always)]
fn length_bit(key: &str) -> u64 {
    1 << key.len().min(63)
}

/// A map from strings, scanned when short and hashed when long.
#[derive(Debug, Clone)]
pub(crate) enum StrMap<V> {
    /// `lengths` has bit `min(len, 63)` set for each key's length: most probes that miss
    /// differ in length from every key, and one bit test turns them away without a scan.
    Scan {
        entries: Box<[(Box<str>, V)]>,
        lengths: u64,
    },
    /// The keys in a [`NameIndex`] (whose probe compares a key of up to 16 bytes as three
    /// words, where a general map calls a hasher and `memcmp`), the values beside it.
    Hash { index: NameIndex, values: Box<[V]> },
}

impl<V> StrMap<V> {
    /// Builds the map; the first of equal keys wins.
    pub(crate) fn new(entries: Vec<(Box<str>, V)>) -> Self {
        if entries.len() <= SCAN_LIMIT {
            let lengths = entries.iter().fold(0, |m, (k, _)| m | length_bit(k));
            return StrMap::Scan {
                entries: entries.into_boxed_slice(),
                lengths,
            };
        }
        let (keys, values): (Vec<Box<str>>, Vec<V>) = entries.into_iter().unzip();
        StrMap::Hash {
            index: NameIndex::new(keys),
            values: values.into_boxed_slice(),
        }
    }

    /// Always inlined: segment and clause checks call it on the evaluation path, where a
    /// call frame costs as much as a short scan.
    #[inline(always)]
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        match self {
            StrMap::Scan { entries, lengths } => {
                if lengths & length_bit(key) == 0 {
                    return None;
                }
                // As `EvaluationContext::named_ref`: lengths first, in a plain loop.
                for (k, v) in entries.iter() {
                    if k.len() == key.len() && same(k, key) {
                        return Some(v);
                    }
                }
                None
            }
            StrMap::Hash { index, values } => values.get(index.get(key)? as usize),
        }
    }

    /// How many keys the map holds.
    pub(crate) fn len(&self) -> usize {
        match self {
            StrMap::Scan { entries, .. } => entries.len(),
            StrMap::Hash { values, .. } => values.len(),
        }
    }

    /// Whether the map holds no key.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both maps answer every key alike (for change notices, not evaluation).
    pub(crate) fn same_entries(&self, other: &StrMap<V>) -> bool
    where
        V: PartialEq,
    {
        fn keys<V>(map: &StrMap<V>) -> Vec<&str> {
            match map {
                StrMap::Scan { entries, .. } => entries.iter().map(|(k, _)| &**k).collect(),
                StrMap::Hash { index, .. } => index.names.iter().map(|k| &**k).collect(),
            }
        }
        // Every key of either answers alike in both: no count to compare, which a key
        // listed twice (included and excluded, exclusion winning) would throw off.
        let (mine, theirs) = (keys(self), keys(other));
        mine.iter()
            .chain(&theirs)
            .all(|k| self.get(k) == other.get(k))
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn maps_with_the_same_answers_have_the_same_entries() {
        use super::StrMap;
        let keys = |extra: &[(&str, bool)]| {
            let mut entries: Vec<(Box<str>, bool)> =
                (0..12).map(|i| (format!("k{i}").into(), true)).collect();
            entries.extend(extra.iter().map(|(k, v)| ((*k).into(), *v)));
            StrMap::new(entries)
        };
        // `x` excluded first, then included too: the first entry wins, as without it.
        let listed_twice = keys(&[("x", false), ("x", true)]);
        let listed_once = keys(&[("x", false)]);
        assert!(listed_twice.same_entries(&listed_once));
        assert!(listed_once.same_entries(&listed_twice));
        assert!(!listed_once.same_entries(&keys(&[("x", true)])));
        assert!(!listed_once.same_entries(&keys(&[])));
        let short =
            |e: &[(&str, bool)]| StrMap::new(e.iter().map(|(k, v)| ((*k).into(), *v)).collect());
        assert!(short(&[("a", false), ("a", true)]).same_entries(&short(&[("a", false)])));
    }

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

    /// The length mask turns away only keys of a length no entry has: long keys share its
    /// last bit, so among them the scan decides.
    #[test]
    fn a_short_map_finds_every_key_whatever_its_length() {
        use super::StrMap;
        let long = |n: usize| "k".repeat(n);
        let keys = ["", "a", "bob", &long(62), &long(63), &long(64), &long(100)];
        let map = StrMap::new(keys.iter().map(|k| ((*k).into(), k.len())).collect());
        assert!(matches!(map, StrMap::Scan { .. }));
        for key in keys {
            assert_eq!(map.get(key), Some(&key.len()), "{} bytes", key.len());
        }
        for absent in [
            "ab",
            "bo",
            "bobs",
            &long(61),
            &long(65),
            &long(200),
            "x".repeat(63).as_str(),
        ] {
            assert_eq!(map.get(absent), None, "{} bytes", absent.len());
        }
    }
}

/// Flag name → flag index: open addressing over slots at most half full. A slot holds the
/// name's length and first and last 8 bytes, so names up to 16 bytes (most flag names)
/// compare without reading the name from elsewhere in memory: the name lookup is most of
/// the cost of evaluating a simple flag by name, and each dependent load counts.
#[derive(Debug, Clone)]
pub(crate) struct NameIndex {
    slots: Box<[NameSlot]>,
    names: Box<[Box<str>]>,
    mask: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct NameSlot {
    words: Words,
    /// Index + 1; 0 marks an empty slot.
    index: u32,
}

/// A name's length with its first and last 8 bytes, which for up to 16 bytes is all of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Words {
    head: u64,
    tail: u64,
    len: u32,
}

impl Words {
    /// Overlapping fixed-size reads by length class, one branch per class: 9 to 16 bytes,
    /// 4 to 8, 1 to 3 (the classes of flag names, most common first).
    #[inline(always)]
    fn of(name: &[u8]) -> Words {
        let len = name.len();
        let read8 = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&name[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let read4 = |at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&name[at..at + 4]);
            u64::from(u32::from_le_bytes(w))
        };
        let (head, tail) = if len > 8 {
            (read8(0), read8(len - 8))
        } else if len >= 4 {
            (read4(0) | read4(len - 4) << 32, 0)
        } else {
            (short_word(name), 0)
        };
        Words {
            head,
            tail,
            // Names beyond 4 GiB (far past any limit) only share a bucket; the full
            // comparison still decides.
            len: len as u32,
        }
    }

    /// The name's words and hash: one multiply for a complete name, folded so that the
    /// low bits (the slot) depend on every input bit; the whole name through
    /// [`WordHasher`] for a longer one. The names come from the snapshot, so collision
    /// flooding is not a concern. (Tested on the name's `usize` length, which the
    /// compiler knows from the length class in [`Words::of`], saving a branch.)
    #[inline(always)]
    fn key(name: &[u8]) -> (Words, u64) {
        let words = Words::of(name);
        let h = if name.len() <= 16 {
            (words.head ^ words.tail.rotate_left(32) ^ (name.len() as u64) << 58)
                .wrapping_mul(MULTIPLIER)
        } else {
            let mut hasher = WordHasher(name.len() as u64);
            hasher.write(name);
            hasher.0
        };
        (words, h ^ h >> 32)
    }
}

impl NameIndex {
    /// Indexes `names`; the first of equal names wins.
    pub(crate) fn new(names: Vec<Box<str>>) -> NameIndex {
        let capacity = (names.len() * 2).next_power_of_two().max(8);
        let mask = capacity - 1;
        let mut slots = vec![NameSlot::default(); capacity].into_boxed_slice();
        for (i, name) in names.iter().enumerate() {
            let (words, hash) = Words::key(name.as_bytes());
            let mut at = hash as usize & mask;
            loop {
                let slot = slots[at];
                if slot.index == 0 {
                    slots[at] = NameSlot {
                        words,
                        index: i as u32 + 1,
                    };
                    break;
                }
                if slot.words == words && names[slot.index as usize - 1] == *name {
                    break;
                }
                at = (at + 1) & mask;
            }
        }
        NameIndex {
            slots,
            names: names.into_boxed_slice(),
            mask,
        }
    }

    #[inline(always)]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        let (words, hash) = Words::key(name.as_bytes());
        let mut at = hash as usize & self.mask;
        loop {
            let slot = self.slots.get(at)?;
            if slot.index == 0 {
                return None;
            }
            // Equal words of a complete name are equal names; a longer one compares whole.
            // (The `usize` length, not `complete`, so the compiler knows it per class.)
            if slot.words == words
                && (name.len() <= 16 || **self.names.get(slot.index as usize - 1)? == *name)
            {
                return Some(slot.index - 1);
            }
            at = (at + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod name_index_tests {
    use super::NameIndex;

    #[test]
    fn finds_every_name_and_nothing_else() {
        let names: Vec<Box<str>> = (0..1000).map(|i| format!("flag-{i}").into()).collect();
        let index = NameIndex::new(names);
        for i in 0..1000u32 {
            assert_eq!(index.get(&format!("flag-{i}")), Some(i));
        }
        for miss in ["", "flag-1000", "flag-", "flag-01"] {
            assert_eq!(index.get(miss), None, "{miss}");
        }
        assert_eq!(NameIndex::new(Vec::new()).get("x"), None);
    }

    #[test]
    fn long_names_that_share_their_ends_are_told_apart() {
        let names = [
            "checkout-flow-v2-middle-a-end-of-name",
            "checkout-flow-v2-middle-b-end-of-name",
            "sixteen-bytes-ab",
            "sixteen-bytes-ac",
            "nine-byte",
            "",
        ];
        let index = NameIndex::new(names.iter().map(|n| Box::from(*n)).collect());
        for (i, name) in names.iter().enumerate() {
            assert_eq!(index.get(name), Some(i as u32), "{name}");
        }
        for miss in [
            "checkout-flow-v2-middle-c-end-of-name",
            "sixteen-bytes-ad",
            "nine-bytf",
            "nine-byte ",
        ] {
            assert_eq!(index.get(miss), None, "{miss}");
        }
    }
}
