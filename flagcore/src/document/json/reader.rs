//! The fast path of [`Json::parse`]: a reader for documents as tools and people write them.

use std::borrow::Cow;

use bumpalo::Bump;

use super::{Json, JsonVec, Number, Stacks};

/// The bytes that end the plain run of a string: a quote, a backslash, a control character.
static SPECIAL_IN_STRING: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Deeper documents go to serde_json, whose own bound (128) then decides.
const READER_DEPTH: usize = 100;

/// Eight spaces as one little-endian word.
const SPACES: u64 = u64::from_le_bytes([b' '; 8]);

/// The eight bytes at `at` as one little-endian word (the first byte lowest), if there
/// are eight.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// Moves the items of `stack` from `start` on into a vector of their exact size in
/// `arena`, with one copy of their bytes: moved one by one (`extend`, `from_iter_in`),
/// they were a sixth of reading a large snapshot.
#[inline]
fn take_from<'a, T>(stack: &mut Vec<T>, start: usize, arena: &'a Bump) -> JsonVec<'a, T> {
    let start = start.min(stack.len());
    let count = stack.len() - start;
    let mut taken = JsonVec::with_capacity_in(count, arena);
    // SAFETY: `taken` has room for `count` items and the two vectors do not overlap; the
    // items are copied, then owned by `taken` alone: `stack` forgets them (`set_len` to
    // `start`, which is at most its length, so its first `start` items stay initialised)
    // with nothing in between that could panic and drop them twice.
    unsafe {
        std::ptr::copy_nonoverlapping(stack.as_ptr().add(start), taken.as_mut_ptr(), count);
        taken.set_len(count);
        stack.set_len(start);
    }
    taken
}

/// The reader for documents as tools and people write them: a recursive descent over the
/// text straight into the arena, several times cheaper than serde_json's visitor calls.
/// It declines (`None`) anything it might read differently from serde_json, which then
/// reads the document instead, so both give the same tree and the same errors.
pub(super) struct Reader<'a, 's> {
    pub(super) text: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) at: usize,
    pub(super) arena: &'a Bump,
    pub(super) stacks: &'s mut Stacks<'a>,
    /// The deepest level read so far (1 for the document itself).
    pub(super) deepest: usize,
}

impl<'a> Reader<'a, '_> {
    /// The whole document, or `None` where serde_json must read it.
    pub(super) fn document(&mut self) -> Option<Json<'a>> {
        let json = self.value(1)?;
        self.skip_whitespace();
        (self.at == self.bytes.len()).then_some(json)
    }

    #[inline]
    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'\n' => {
                    self.at += 1;
                    self.skip_indentation();
                }
                _ => return,
            }
        }
    }

    /// Skips the spaces that start a line eight at a time: most of the whitespace of an
    /// indented document.
    fn skip_indentation(&mut self) {
        while let Some(word) = word_at(self.bytes, self.at) {
            let other = word ^ SPACES;
            if other != 0 {
                self.at += (other.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += 8;
        }
    }

    /// The next byte after whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.at).copied()
    }

    fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        self.deepest = self.deepest.max(depth);
        match self.peek()? {
            b'{' if depth < READER_DEPTH => self.object(depth),
            b'[' if depth < READER_DEPTH => self.array(depth),
            b'"' => self.string().map(Json::String),
            b't' => self.literal("true", Json::Bool(true)),
            b'f' => self.literal("false", Json::Bool(false)),
            b'n' => self.literal("null", Json::Null),
            b'-' | b'0'..=b'9' => self.number().map(Json::Number),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str, json: Json<'a>) -> Option<Json<'a>> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            json
        })
    }

    fn array(&mut self, depth: usize) -> Option<Json<'a>> {
        self.at += 1;
        let start = self.stacks.items.len();
        if self.peek()? == b']' {
            self.at += 1;
        } else {
            loop {
                let item = self.value(depth + 1)?;
                self.stacks.items.push(item);
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let items = take_from(&mut self.stacks.items, start, self.arena);
        Some(Json::Array(items))
    }

    fn object(&mut self, depth: usize) -> Option<Json<'a>> {
        self.at += 1;
        let start = self.stacks.members.len();
        if self.peek()? == b'}' {
            self.at += 1;
        } else {
            loop {
                if self.peek()? != b'"' {
                    return None;
                }
                let key = self.string()?;
                if self.peek()? != b':' {
                    return None;
                }
                self.at += 1;
                let value = self.value(depth + 1)?;
                self.stacks.members.push((key, value));
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let members = take_from(&mut self.stacks.members, start, self.arena);
        Some(Json::Object(members))
    }

    /// A string at the opening quote: borrowed from the text when it has no escapes,
    /// else decoded into the arena.
    #[inline]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at + 1;
        let rest = self.bytes.get(start..)?;
        // Names and values are short: a byte loop over a table beats a word-at-a-time scan.
        let len = rest
            .iter()
            .position(|&b| SPECIAL_IN_STRING[usize::from(b)])?;
        self.at = start + len;
        match rest[len] {
            b'"' => {
                let text = self.text.get(start..self.at)?;
                self.at += 1;
                Some(Cow::Borrowed(text))
            }
            b'\\' => self.escaped(start),
            // Control characters must be escaped: serde_json reports them.
            _ => None,
        }
    }

    /// The rest of a string with escapes, from its first backslash at `self.at`.
    #[cold]
    fn escaped(&mut self, start: usize) -> Option<Cow<'a, str>> {
        let mut decoded = String::from(self.text.get(start..self.at)?);
        loop {
            let from = self.at;
            while let Some(&b) = self.bytes.get(self.at) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            decoded.push_str(self.text.get(from..self.at)?);
            match *self.bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(Cow::Borrowed(self.arena.alloc_str(&decoded)));
                }
                b'\\' => {
                    let escape = *self.bytes.get(self.at + 1)?;
                    self.at += 2;
                    decoded.push(match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex = self.text.get(self.at..self.at + 4)?;
                            // A sign would pass `from_str_radix`; JSON has only hex digits.
                            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return None;
                            }
                            self.at += 4;
                            // Surrogates (pairs, or lone ones serde_json refuses) are
                            // left to serde_json.
                            char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                        }
                        _ => return None,
                    });
                }
                _ => return None,
            }
        }
    }

    /// A number, as serde_json reads it: an integer stays exact when it fits 64 bits
    /// (`-0` and negatives below `i64::MIN` become floats), anything with a fraction or
    /// exponent is handed to serde_json itself, so it rounds exactly alike.
    fn number(&mut self) -> Option<Number> {
        let start = self.at;
        let negative = self.bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let digits = self.at;
        let mut magnitude = 0u64;
        while let Some(&b @ b'0'..=b'9') = self.bytes.get(self.at) {
            magnitude = magnitude
                .checked_mul(10)?
                .checked_add(u64::from(b - b'0'))?;
            self.at += 1;
        }
        let count = self.at - digits;
        // One digit at least, and no leading zero.
        if count == 0 || (count > 1 && self.bytes.get(digits) == Some(&b'0')) {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = self.bytes.get(self.at) {
            self.fraction_and_exponent()?;
            let token = self.text.get(start..self.at)?;
            return serde_json::from_str::<f64>(token).ok().map(Number::Float);
        }
        Some(if !negative {
            match i64::try_from(magnitude) {
                Ok(i) => Number::Int(i),
                Err(_) => Number::BigUint(magnitude),
            }
        } else {
            let negated = (magnitude as i64).wrapping_neg();
            if negated >= 0 {
                Number::Float(-(magnitude as f64))
            } else {
                Number::Int(negated)
            }
        })
    }

    /// Skips `(. digits)? ([eE] [+-]? digits)?`, each part with one digit at least.
    fn fraction_and_exponent(&mut self) -> Option<()> {
        let digits = |reader: &mut Self| {
            let from = reader.at;
            while let Some(b'0'..=b'9') = reader.bytes.get(reader.at) {
                reader.at += 1;
            }
            (reader.at > from).then_some(())
        };
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            digits(self)?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            digits(self)?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_from, JsonArena};
    use super::*;

    /// The fast reader must give exactly serde_json's tree, or decline.
    #[test]
    fn the_reader_agrees_with_serde_json() {
        let documents = [
            r#"{"a": [1, -2, 0, -0, 1.5, -0.0, 1e3, 2E-2, 1.25e+2, 9223372036854775807]}"#,
            r#"[9223372036854775808, 18446744073709551615, -9223372036854775808]"#,
            r#"[-9223372036854775809, 18446744073709551616, 0.1, 3.14159265358979323846]"#,
            r#"{"s": "plain", "e": "a\"b\\c\/d\b\f\n\r\t", "u": "\u00e9\u20ac\u0000"}"#,
            "{\"multi\u{e9}byte \u{1F600}\": \"caf\u{e9}\"}",
            r#"{"pair": "\ud83d\ude00"}"#,
            " \t\r\n{ \"a\" : { } , \"b\" : [ ] , \"c\" : [ null , true , false ] } \n",
            "true",
            "\"text\"",
            r#"{"a": 1, "a": 2}"#,
            // Indentation, skipped eight bytes at a time, around longer strings with
            // escapes and multibyte text.
            "{\n                \"a long name, longer than a word\": \"x\\\"yz\",\n\t \"k\": 1}",
            r#"["0123456\n", "01234567\t", "012345678\"", "\u00e9\u00e9\u00e9\u00e9\u00e9x\\"]"#,
            "[\"\u{e9}\u{e9}\u{e9}\u{e9}\u{1F600}\u{1F600}\u{7f}\u{80}\", \"~~~~~~~~~~~~~~~~~\"]",
            "[\n\n        \n                1,\r\n                        \"\"]",
        ];
        // What serde_json alone is given: an escaped surrogate pair, an integer past u64.
        let declined = [r#"{"pair": "\ud83d\ude00"}"#, documents[2]];
        for text in documents {
            let (arena, other) = (JsonArena::new(), JsonArena::new());
            let by_serde = parse_from(serde_json::Deserializer::from_str(text), &other).unwrap();
            let mut stacks = Stacks::default();
            let mut reader = Reader {
                text,
                bytes: text.as_bytes(),
                at: 0,
                arena: &arena.0,
                stacks: &mut stacks,
                deepest: 0,
            };
            let Some(read) = reader.document() else {
                assert!(declined.contains(&text), "{text}: declined");
                continue;
            };
            let read = (read, reader.deepest);
            assert_eq!(read, by_serde, "{text}");
            // -0.0 == 0.0: compare the bits of floats too.
            assert_eq!(format!("{read:?}"), format!("{by_serde:?}"), "{text}");
        }
        let malformed = [
            "",
            "{",
            "[1,]",
            r#"{"a": 1,}"#,
            r#"{"a" 1}"#,
            "01",
            "-",
            "1.",
            "1e",
            ".5",
            "+1",
            "1e400",
            "tru",
            "nul",
            r#""a\u12""#,
            r#""a\u+123""#,
            "\"tab\there\"",
            "\"a string of more than a word\u{1f} with a control character\"",
            "[\"\u{e9}\u{e9}\u{e9}\u{e9}\n\"]",
            "\"unterminated and longer than a word",
            r#""\x""#,
            r#""\ud800""#,
            "[1] [2]",
            "{\"a\": 1} x",
        ];
        for text in malformed {
            let (arena, other) = (JsonArena::new(), JsonArena::new());
            let read = Json::parse(text.as_bytes(), &arena).map_err(|e| e.to_string());
            let by_serde = parse_from(serde_json::Deserializer::from_str(text), &other)
                .map(|(json, _)| json)
                .map_err(|e| e.to_string());
            assert!(by_serde.is_err(), "{text}: serde_json reads it");
            assert_eq!(read, by_serde, "{text}");
        }
    }

    #[test]
    fn depth_counts_levels_as_the_tree_does() {
        for text in ["1", "[]", "[1]", r#"{"a": [[{}]]}"#, "[[1], 2]"] {
            let arena = JsonArena::new();
            let (json, depth) = Json::parse_measured(text.as_bytes(), &arena).unwrap();
            assert_eq!(depth, json.depth(), "{text}");
        }
        let deep = format!("{}{}", "[".repeat(120), "]".repeat(120));
        let arena = JsonArena::new();
        assert_eq!(
            Json::parse_measured(deep.as_bytes(), &arena).unwrap().1,
            120
        );
    }
}
