//! The `matches` operator's patterns: a fully compiled DFA where one is small, the `regex`
//! crate otherwise.
//!
//! A `Regex` answers `is_match` through a cache pool, a search dispatcher and a lazily
//! built DFA: about 260 instructions for `^2[.]4[.][0-9]+$` on `2.4.1`, and 2,100 for
//! `(?i)(iphone|android|mobile)` on a 40-byte user agent. A dense DFA built at load is
//! immutable (no cache, no allocation), so a match is one table lookup per byte from a
//! start state known in advance: about 130 and 390 through `regex-automata`'s own search
//! (each measured alone, in a loop of its own). Building one costs about what
//! `Regex::new` costs for the same pattern (0.25 to 1.3 times here, 60 µs to 3 ms); it is
//! done only for patterns that stay small, and gives up early on the others.
//!
//! The DFA's transitions are then copied into a [`Table`] of our own, with the
//! end-of-input verdict of each state in a column of it (`regex-automata` computes that
//! verdict behind a call: about a fifth of the first pattern's match), and an anchored
//! pattern's literal prefix set apart. Within a single-rule flag's evaluation the first
//! pattern's match went from about 136 instructions to the table's 94, and to 80 with its
//! prefix compared as one word. The copy costs about 0.15 times the DFA's construction
//! (the user-agent pattern: 1.68 M instructions to build the DFA, 0.25 M to copy it,
//! against 3.3 M for `Regex::new`), so a load pays at most about 2.5 times `Regex::new`
//! for its patterns.

use std::collections::{HashMap, HashSet};

use regex::Regex;
use regex_automata::dfa::{dense, Automaton};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::Anchored;

use super::hash::{same_bytes, short_word};

/// Patterns longer than this are not compiled to a DFA.
const MAX_PATTERN_BYTES: usize = 256;
/// A DFA may take this much memory, and its construction this much more; beyond, the
/// pattern is matched by its `Regex`.
const MAX_DFA_BYTES: usize = 16 << 10;
const MAX_DETERMINIZE_BYTES: usize = 32 << 10;
/// A literal prefix is compared in words up to this long (`same_bytes`'s fast cases).
const MAX_PREFIX_BYTES: usize = 16;

/// A compiled `matches` pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    regex: Regex,
    /// In place rather than boxed: one pointer fewer to follow before the first byte.
    dfa: Option<Table>,
}

/// A DFA's transitions in a table of our own: one lookup per byte, and the end-of-input
/// verdict in a column of the table rather than behind a call into `regex-automata`.
#[derive(Debug, Clone)]
struct Table {
    /// Byte → its equivalence class (a column of `next`).
    classes: [u8; 256],
    /// Row `s` (at `s * stride`) holds the state entered on each class, as the index of
    /// its row's start, and in its last column 1 when the haystack matches if it ends in
    /// state `s`, else 0.
    next: Box<[u32]>,
    /// The column of the end-of-input verdict.
    end_of_input: u32,
    start: u32,
    /// Bytes every match begins with (a pattern anchored at `^` and spelled out at first):
    /// compared a word at a time, where the table would take one dependent lookup per
    /// byte; `after_prefix` is the state they lead to.
    prefix: Box<[u8]>,
    /// The prefix as `same_bytes` reads it when it is 8 bytes or shorter.
    prefix_word: u64,
    after_prefix: u32,
    /// Rows are ordered dead states, then match states, then states where the DFA gives
    /// up (quit), then the rest: a state below `special` ends the search.
    dead: u32,
    matched: u32,
    special: u32,
}

impl Pattern {
    /// The pattern of `regex` (already validated), with a DFA when it is small enough.
    pub(crate) fn new(regex: Regex) -> Pattern {
        let dfa = dense_for(regex.as_str()).and_then(|(dfa, start)| Table::new(&dfa, start));
        Pattern { regex, dfa }
    }

    /// Whether the pattern matches anywhere in `haystack`, as `Regex::is_match` says.
    #[inline]
    pub(crate) fn is_match(&self, haystack: &str) -> bool {
        match &self.dfa {
            Some(table) => match table.is_match(haystack.as_bytes()) {
                Some(matched) => matched,
                None => self.regex_match(haystack),
            },
            None => self.regex_match(haystack),
        }
    }

    /// Out of line, so that the table's loop needs few registers and no frame.
    #[inline(never)]
    fn regex_match(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }
}

fn dense_for(pattern: &str) -> Option<(dense::DFA<Vec<u32>>, StateID)> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return None;
    }
    let config = dense::Config::new()
        .dfa_size_limit(Some(MAX_DFA_BYTES))
        .determinize_size_limit(Some(MAX_DETERMINIZE_BYTES))
        // The table copies transitions one by one: no shortcuts through accelerated states.
        .accelerate(false);
    // The defaults match `Regex::new`'s syntax (Unicode, UTF-8); patterns a DFA cannot
    // express (a Unicode word boundary) fail here and keep their `Regex`.
    let dfa = dense::Builder::new()
        .configure(config)
        .build(pattern)
        .ok()?;
    let start = dfa
        .start_state(&start::Config::new().anchored(Anchored::No))
        .ok()?;
    Some((dfa, start))
}

impl Table {
    /// The states reachable from `start` (the unanchored start state for a haystack that
    /// begins at its first byte, the only kind evaluation searches), renumbered; `None`
    /// when the start state itself is special.
    fn new(dfa: &dense::DFA<Vec<u32>>, start: StateID) -> Option<Table> {
        if dfa.is_special_state(start) {
            return None;
        }
        let byte_classes = dfa.byte_classes();
        let mut classes = [0u8; 256];
        // One byte of each class stands for it when following transitions.
        let mut representative = [None; 256];
        for byte in 0..=255u8 {
            let class = byte_classes.get(byte);
            classes[usize::from(byte)] = class;
            representative[usize::from(class)].get_or_insert(byte);
        }
        // Classes are numbered from 0 without gaps; were one missing, a column would be.
        let class_count = classes.iter().max().map_or(0, |c| usize::from(*c) + 1);
        let representatives: Vec<u8> = representative[..class_count]
            .iter()
            .copied()
            .collect::<Option<_>>()?;
        let stride = class_count + 1;
        // Every state reachable from the start, in the order found.
        let mut states = vec![start];
        let mut found = HashSet::from([start]);
        let mut at = 0;
        while let Some(&state) = states.get(at) {
            for &byte in &representatives {
                let next = dfa.next_state(state, byte);
                if found.insert(next) {
                    states.push(next);
                }
            }
            at += 1;
        }
        let kind = |s: StateID| {
            if dfa.is_dead_state(s) {
                0
            } else if dfa.is_match_state(s) {
                1
            } else if dfa.is_quit_state(s) {
                2
            } else {
                3
            }
        };
        states.sort_by_key(|s| kind(*s));
        let rows: HashMap<StateID, usize> =
            states.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        let row = |s: StateID| u32::try_from(rows.get(&s)? * stride).ok();
        let count = |k| states.iter().filter(|s| kind(**s) <= k).count() * stride;
        let (prefix, after_prefix) = literal_prefix(dfa, start, &classes, &representatives);
        let mut next = Vec::with_capacity(states.len() * stride);
        for &state in &states {
            for &byte in &representatives {
                next.push(row(dfa.next_state(state, byte))?);
            }
            next.push(u32::from(dfa.is_match_state(dfa.next_eoi_state(state))));
        }
        Some(Table {
            classes,
            next: next.into_boxed_slice(),
            end_of_input: u32::try_from(stride - 1).ok()?,
            start: row(start)?,
            prefix_word: short_word(&prefix),
            prefix,
            after_prefix: row(after_prefix)?,
            dead: u32::try_from(count(0)).ok()?,
            matched: u32::try_from(count(1)).ok()?,
            special: u32::try_from(count(2)).ok()?,
        })
    }

    /// `Some(matched)`, or `None` when the DFA gave up (a quit byte) and the `Regex` must
    /// decide.
    #[inline]
    fn is_match(&self, haystack: &[u8]) -> Option<bool> {
        let mut state = self.start;
        let mut rest = haystack;
        // A haystack shorter than the prefix is left to the table, which knows what its
        // end means there.
        if let Some((head, tail)) = haystack.split_at_checked(self.prefix.len()) {
            // Off the prefix, the DFA dies: no match can end within it (its states are
            // not special).
            let same = match head.len() {
                ..=8 => short_word(head) == self.prefix_word,
                _ => same_bytes(head, &self.prefix),
            };
            if !same {
                return Some(false);
            }
            state = self.after_prefix;
            rest = tail;
        }
        // A DFA reports a match one transition late (so a start state is never a match
        // state): entering a match state means a match ended before this byte, and the
        // end-of-input column says whether one ends with the haystack.
        for &byte in rest {
            let class = u32::from(self.classes[usize::from(byte)]);
            state = *self.next.get((state + class) as usize)?;
            if state < self.special {
                return if state < self.dead {
                    Some(false)
                } else if state < self.matched {
                    Some(true)
                } else {
                    None
                };
            }
        }
        Some(*self.next.get((state + self.end_of_input) as usize)? != 0)
    }
}

/// The longest run of bytes (up to [`MAX_PREFIX_BYTES`]) the DFA must read first from
/// `start`: each step's state has one way out that does not die, a class of one byte, into
/// a state that is not special. Returns the bytes and the state after them.
fn literal_prefix(
    dfa: &dense::DFA<Vec<u32>>,
    start: StateID,
    classes: &[u8; 256],
    representatives: &[u8],
) -> (Box<[u8]>, StateID) {
    let mut prefix = Vec::new();
    let mut state = start;
    while prefix.len() < MAX_PREFIX_BYTES {
        let mut live = representatives
            .iter()
            .map(|&byte| (byte, dfa.next_state(state, byte)))
            .filter(|(_, next)| !dfa.is_dead_state(*next));
        let (Some((byte, next)), None) = (live.next(), live.next()) else {
            break;
        };
        let class = classes[usize::from(byte)];
        let alone = classes.iter().filter(|c| **c == class).count() == 1;
        if !alone || dfa.is_special_state(next) {
            break;
        }
        prefix.push(byte);
        state = next;
    }
    (prefix.into_boxed_slice(), state)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Every haystack is matched as the `regex` crate matches it, DFA or not.
    #[test]
    fn matches_as_the_regex_crate_does() {
        let patterns = [
            "^2[.]4[.][0-9]+$",
            "(?i)(iphone|android|mobile)",
            "",
            "^$",
            "a*",
            "^abc",
            "abc$",
            r"\d{3}-\d{4}",
            r"^[^@]+@corp\.example$",
            "é+",
            r"(?m)^x$",
            r"\bword\b",
            r"(?-u:\b)ab(?-u:\b)",
            "[[:alpha:]]{2,}[0-9]",
            "(a|b)*c",
            "^https://",
            "^ab|^a$",
            "^a(b|c)d",
            "^é",
            "^abcdefghijklmnopqrstuvwxyz",
            "^2[.]4[.]",
        ];
        let haystacks = [
            "",
            "2.4.1",
            "2.4.10",
            "x2.4.1",
            "2.4.",
            "2.4.1\n",
            "Mozilla/5.0 (Linux; Android 14) Mobile",
            "IPHONE",
            "abc",
            "xabc",
            "abcx",
            "555-1234",
            "a@corp.example",
            "a@corp.examplex",
            "ééé",
            "e\u{301}",
            "y\nx\nz",
            "a word here",
            "swordfish",
            "ab",
            " ab ",
            "zz9",
            "ababac",
            "\u{10FFFF}",
            "a",
            "abd",
            "acd",
            "https://x",
            "http",
            "é",
            "éa",
            "abcdefghijklmnopqrstuvwxyz!",
            "abcdefghijklmnopq",
            "2.4.",
            "2.4",
            "2.5.1",
        ];
        let mut without_dfa = Vec::new();
        for pattern in patterns {
            let regex = Regex::new(pattern).unwrap();
            let compiled = Pattern::new(regex.clone());
            if compiled.dfa.is_none() {
                without_dfa.push(pattern);
            }
            for haystack in haystacks {
                assert_eq!(
                    compiled.is_match(haystack),
                    regex.is_match(haystack),
                    "{pattern:?} on {haystack:?}"
                );
            }
        }
        // A Unicode word boundary has no DFA, and Unicode `\d` repeated outgrows the limit.
        assert_eq!(without_dfa, [r"\d{3}-\d{4}", r"\bword\b"]);
    }

    proptest::proptest! {
        /// Random haystacks, including non-ASCII and newlines, on patterns with a DFA.
        #[test]
        fn random_haystacks_match_as_the_regex_crate_does(
            pattern in proptest::sample::select(vec![
                "^2[.]4[.][0-9]+$", "(?i)(iphone|android|mobile)", "^[^@]+@corp\\.example$",
                "(?m)^x$", "é+", "(a|b)*c", "(?-u:\\b)ab(?-u:\\b)", "[[:alpha:]]{2,}[0-9]",
                "^2[.]4", "^mo(b|x)", "^é.", "^x@corp",
            ]),
            haystack in "[a-z0-9.@éÉ\n x-]{0,24}|(?i)mobile|2\\.4\\.[0-9]{1,3}",
        ) {
            let regex = Regex::new(pattern).unwrap();
            let compiled = Pattern::new(regex.clone());
            proptest::prop_assert!(compiled.dfa.is_some());
            proptest::prop_assert_eq!(compiled.is_match(&haystack), regex.is_match(&haystack));
        }
    }

    /// The prefix shortcut is taken where a pattern spells its start out, and only there.
    #[test]
    fn anchored_literal_starts_are_compared_as_words() {
        let prefix = |pattern: &str| {
            let compiled = Pattern::new(Regex::new(pattern).unwrap());
            compiled.dfa.map(|table| table.prefix.to_vec()).unwrap()
        };
        assert_eq!(prefix("^2[.]4[.][0-9]+$"), b"2.4.");
        assert_eq!(prefix("^https://"), b"https://");
        assert_eq!(prefix("^a(b|c)d"), b"a");
        assert_eq!(prefix("^é"), "é".as_bytes());
        assert_eq!(prefix("^abcdefghijklmnopqrstuvwxyz"), b"abcdefghijklmnop");
        assert_eq!(prefix("2[.]4"), b"");
        assert_eq!(prefix("(?i)^abc"), b"");
        assert_eq!(prefix("^[ab]c"), b"");
    }

    #[test]
    fn large_patterns_keep_their_regex() {
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert!(Pattern::new(Regex::new(&long).unwrap()).dfa.is_none());
        // Small to write, too large to determinize.
        let wide = Pattern::new(Regex::new(r"[a-z]{2}[0-9]{1,40}x\w{30}").unwrap());
        assert!(wide.dfa.is_none());
        assert!(wide.is_match(&format!("ab7x{}", "w".repeat(30))));
    }
}
