//! One word per flag that says whether a getter can answer without evaluating, and with
//! what: the whole of a static flag's read but the count.
//!
//! A static flag is the most common flag there is, and its evaluation by name is a few
//! dozen instructions; reading its answer from the flag's full record (kind, constant
//! variant, exposure tracking and counter slot in four fields of a record of hundreds of
//! bytes, each tested apart, the kill bit in an array of its own, and the value behind
//! the `Values` enum) cost a third of them. The runtime keeps the word in an atomic and
//! folds a kill into it, so that one load and one test decide.

/// A flag's answer when it cannot depend on the context, packed:
///
/// - bit 63: killed at runtime;
/// - bit 62: a flag whose answer is one clause away (the plan's `SingleRule`), which the
///   getters read without the evaluator;
/// - bit 61: served without evaluating while not killed (an enabled flag with a constant
///   variant and no exposure tracking);
/// - bits 56..=60: the flag's value kind, one-hot (bit `56 + kind as u8`), set only while
///   bit 61 is set and bit 63 is not, so that one test asks "served directly, and as this
///   type?";
/// - bit 55: the value, for a boolean flag;
/// - bits 52..=54: the value kind (`kind as u8`), to set the one-hot bit again on revival;
/// - bits 32..=51: the variant;
/// - bits 0..=31: the flag's evaluation counter slot for that variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Direct(u64);

const KILLED: u64 = 1 << 63;
const SINGLE_RULE: u64 = 1 << 62;
const SERVED: u64 = 1 << 61;
const ONE_HOT_SHIFT: u32 = 56;
const ONE_HOT: u64 = 0b1_1111 << ONE_HOT_SHIFT;
const BOOL_BIT: u64 = 1 << 55;
const KIND_SHIFT: u32 = 52;
const VARIANT_SHIFT: u32 = 32;
const VARIANT_MASK: u64 = (1 << 20) - 1;

impl Direct {
    /// The word of a live flag of value kind `kind` (`ValueKind as u8`, below 5), served
    /// as `variant` without evaluating, or evaluated when `variant` is `None` or does not
    /// fit. (The kind is a number so that the runtime needs nothing of the document.)
    pub(crate) fn new(kind: u8, variant: Option<u32>, bool_value: bool, slot: u32) -> Direct {
        let kind = kind & 0b111;
        let kind_bits = u64::from(kind) << KIND_SHIFT;
        match variant {
            Some(v) if u64::from(v) <= VARIANT_MASK && kind < 5 => Direct(
                SERVED
                    | 1 << (ONE_HOT_SHIFT + u32::from(kind))
                    | if bool_value { BOOL_BIT } else { 0 }
                    | kind_bits
                    | u64::from(v) << VARIANT_SHIFT
                    | u64::from(slot),
            ),
            _ => Direct(kind_bits),
        }
    }

    /// The same word, marking a flag whose answer is one clause away.
    pub(crate) fn with_single_rule(self) -> Direct {
        Direct(self.0 | SINGLE_RULE)
    }

    /// Whether the flag's answer is one clause away.
    #[inline(always)]
    pub(crate) fn single_rule(self) -> bool {
        self.0 & SINGLE_RULE != 0
    }

    /// The word as stored.
    pub(crate) fn from_word(word: u64) -> Direct {
        Direct(word)
    }

    /// The word to store.
    pub(crate) fn word(self) -> u64 {
        self.0
    }

    /// The same flag, killed at runtime or revived.
    pub(crate) fn with_killed(self, killed: bool) -> Direct {
        if killed {
            Direct(self.0 & !ONE_HOT | KILLED)
        } else if self.0 & SERVED != 0 {
            let kind = (self.0 >> KIND_SHIFT & 0b111) as u32;
            Direct(self.0 & !KILLED | 1 << (ONE_HOT_SHIFT + kind))
        } else {
            Direct(self.0 & !KILLED)
        }
    }

    /// Whether the flag is killed at runtime.
    #[inline(always)]
    pub(crate) fn killed(self) -> bool {
        self.0 & KILLED != 0
    }

    /// The mask of [`Direct::serves`] for a getter that accepts `kinds` (a bit per
    /// `ValueKind as u8`).
    pub(crate) const fn kinds_mask(kinds: u8) -> u64 {
        (kinds as u64) << ONE_HOT_SHIFT
    }

    /// Whether the flag is served without evaluating to a getter whose
    /// [`kinds_mask`](Self::kinds_mask) is `mask`: not killed, and of a kind it reads.
    #[inline(always)]
    pub(crate) fn serves(self, mask: u64) -> bool {
        self.0 & mask != 0
    }

    /// The value of a boolean flag served directly.
    #[inline(always)]
    pub(crate) fn bool_value(self) -> bool {
        self.0 & BOOL_BIT != 0
    }

    /// The variant served.
    #[inline(always)]
    pub(crate) fn variant(self) -> usize {
        (self.0 >> VARIANT_SHIFT & VARIANT_MASK) as usize
    }

    /// The evaluation counter slot of the variant served.
    #[inline(always)]
    pub(crate) fn counter_slot(self) -> u32 {
        self.0 as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::ValueKind;

    const BOOL: u64 = Direct::kinds_mask(1 << ValueKind::Bool as u8);
    const NUMBER: u64 = Direct::kinds_mask(1 << ValueKind::Float as u8 | 1 << ValueKind::Int as u8);
    const JSON: u64 = Direct::kinds_mask(1 << ValueKind::Json as u8);

    #[test]
    fn a_served_flag_answers_only_getters_of_its_kind() {
        let direct = Direct::new(ValueKind::Int as u8, Some(3), false, 41);
        assert!(direct.serves(NUMBER));
        assert!(!direct.serves(BOOL));
        assert_eq!(direct.variant(), 3);
        assert_eq!(direct.counter_slot(), 41);
    }

    #[test]
    fn a_flag_that_must_be_evaluated_answers_no_getter() {
        let evaluate = Direct::new(ValueKind::Bool as u8, None, true, 7);
        assert!(!evaluate.serves(BOOL));
        assert!(!evaluate.serves(NUMBER));
        assert!(!evaluate.with_killed(true).with_killed(false).serves(BOOL));
    }

    #[test]
    fn a_killed_flag_answers_no_getter_until_revived() {
        let direct = Direct::new(ValueKind::Json as u8, Some(2), false, 9);
        let killed = direct.with_killed(true);
        assert!(killed.killed() && !killed.serves(JSON));
        assert_eq!(killed.with_killed(true), killed);
        let revived = killed.with_killed(false);
        assert_eq!(revived, direct);
        assert!(!revived.killed() && revived.serves(JSON));
        let single = Direct::new(ValueKind::Bool as u8, None, false, 0).with_single_rule();
        assert!(single.with_killed(true).single_rule() && single.with_killed(true).killed());
        assert_eq!(single.with_killed(true).with_killed(false), single);
    }

    #[test]
    fn fields_keep_apart_at_their_limits() {
        let direct = Direct::new(ValueKind::Bool as u8, Some((1 << 20) - 1), true, u32::MAX);
        assert!(direct.serves(BOOL) && direct.bool_value() && !direct.killed());
        assert_eq!(direct.variant(), (1 << 20) - 1);
        assert_eq!(direct.counter_slot(), u32::MAX);
        assert_eq!(direct.with_killed(true).with_killed(false), direct);
        assert!(!Direct::new(ValueKind::Bool as u8, Some(3), false, u32::MAX).bool_value());
        assert!(!Direct::new(ValueKind::Bool as u8, Some(1 << 20), true, 0).serves(BOOL));
    }
}
