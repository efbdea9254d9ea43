//! The `matches` operator's patterns: a fully compiled DFA where one is small, the `regex`
//! crate otherwise.
//!
//! A `Regex` answers `is_match` through a cache pool, a search dispatcher and a lazily
//! built DFA: about 260 instructions for `^2[.]4[.][0-9]+$` on `2.4.1`, and 2,100 for
//! `(?i)(iphone|android|mobile)` on a 40-byte user agent. A dense DFA built at load is
//! immutable (no cache, no allocation), so a match is one table lookup per byte from a
//! start state known in advance: about 130 and 390 (each measured alone, in a loop of
//! its own). Building one costs about what `Regex::new` costs for the same pattern (0.25
//! to 1.3 times here, 60 µs to 3 ms), so a
//! load pays at most about twice for its patterns; it is done only for patterns that stay
//! small, and gives up early on the others.

use regex::Regex;
use regex_automata::dfa::{dense, Automaton};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::Anchored;

/// Patterns longer than this are not compiled to a DFA.
const MAX_PATTERN_BYTES: usize = 256;
/// A DFA may take this much memory, and its construction this much more; beyond, the
/// pattern is matched by its `Regex`.
const MAX_DFA_BYTES: usize = 16 << 10;
const MAX_DETERMINIZE_BYTES: usize = 32 << 10;

/// A compiled `matches` pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    regex: Regex,
    dfa: Option<Box<Dense>>,
}

#[derive(Debug, Clone)]
struct Dense {
    dfa: dense::DFA<Vec<u32>>,
    /// The unanchored start state for a haystack that begins at its first byte (no look-
    /// behind), the only kind evaluation searches.
    start: StateID,
}

impl Pattern {
    /// The pattern of `regex` (already validated), with a DFA when it is small enough.
    pub(crate) fn new(regex: Regex) -> Pattern {
        let dfa = dense_for(regex.as_str()).map(Box::new);
        Pattern { regex, dfa }
    }

    /// Whether the pattern matches anywhere in `haystack`, as `Regex::is_match` says.
    #[inline]
    pub(crate) fn is_match(&self, haystack: &str) -> bool {
        match &self.dfa {
            Some(dense) => dense
                .is_match(haystack)
                .unwrap_or_else(|| self.regex.is_match(haystack)),
            None => self.regex.is_match(haystack),
        }
    }
}

fn dense_for(pattern: &str) -> Option<Dense> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return None;
    }
    let config = dense::Config::new()
        .dfa_size_limit(Some(MAX_DFA_BYTES))
        .determinize_size_limit(Some(MAX_DETERMINIZE_BYTES))
        // The search below takes no shortcuts through accelerated states.
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
    Some(Dense { dfa, start })
}

impl Dense {
    /// `Some(matched)`, or `None` when the DFA gave up (a quit byte) and the `Regex` must
    /// decide.
    #[inline]
    fn is_match(&self, haystack: &str) -> Option<bool> {
        let dfa = &self.dfa;
        let mut state = self.start;
        // A DFA reports a match one transition late (so a start state is never a match
        // state): entering a match state means a match ended before this byte, and the
        // end-of-input transition reports one that ends with the haystack.
        for &byte in haystack.as_bytes() {
            state = dfa.next_state(state, byte);
            if dfa.is_special_state(state) {
                if dfa.is_match_state(state) {
                    return Some(true);
                }
                if dfa.is_dead_state(state) {
                    return Some(false);
                }
                if dfa.is_quit_state(state) {
                    return None;
                }
            }
        }
        Some(dfa.is_match_state(dfa.next_eoi_state(state)))
    }
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
            ]),
            haystack in "[a-z0-9.@éÉ\n x-]{0,24}|(?i)mobile|2\\.4\\.[0-9]{1,3}",
        ) {
            let regex = Regex::new(pattern).unwrap();
            let compiled = Pattern::new(regex.clone());
            proptest::prop_assert!(compiled.dfa.is_some());
            proptest::prop_assert_eq!(compiled.is_match(&haystack), regex.is_match(&haystack));
        }
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
