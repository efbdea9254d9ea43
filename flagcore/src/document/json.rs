//! An order-preserving JSON tree that keeps duplicate object keys.
//!
//! `serde_json::Value` silently keeps the last of two equal keys, but a snapshot with two
//! flags of one name (a bad merge) must be rejected, and `flagcore kill` must rewrite a
//! file without reordering it. So the loader reads into this tree first.
//!
//! The tree's arrays and objects live in a [`JsonArena`]: a 10,000-flag snapshot has some
//! 200,000 of them, and allocating and freeing each one was a third of the load time.

use std::borrow::Cow;
use std::fmt;

use bumpalo::Bump;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

mod reader;

use reader::Reader;

/// A JSON number as written: integers stay exact, anything else is a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer that fits in `i64`.
    Int(i64),
    /// An integer above `i64::MAX`.
    BigUint(u64),
    /// A number with a fraction or exponent.
    Float(f64),
}

impl Number {
    /// The number as `f64` (lossy above 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::BigUint(u) => u as f64,
            Number::Float(f) => f,
        }
    }
}

/// The vector type of a [`Json`] tree's arrays and objects: a vector in a [`JsonArena`]
/// (`bumpalo`'s), which dereferences to a slice and grows with `push`.
pub type JsonVec<'a, T> = bumpalo::collections::Vec<'a, T>;

/// Where a [`Json`] tree keeps its arrays and objects; they are freed together when the
/// arena is dropped.
#[derive(Debug, Default)]
pub struct JsonArena(Bump);

impl JsonArena {
    /// An empty arena.
    pub fn new() -> JsonArena {
        JsonArena::default()
    }

    /// A vector in this arena holding `items`, for building or extending a tree.
    pub fn vec_from<T>(&self, items: impl IntoIterator<Item = T>) -> JsonVec<'_, T> {
        JsonVec::from_iter_in(items, &self.0)
    }
}

/// One JSON value; objects keep their members in document order, duplicates included.
/// Strings without escapes borrow from the parsed bytes and arrays and objects live in a
/// [`JsonArena`], so parsing a large snapshot allocates little.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(JsonVec<'a, Json<'a>>),
    /// An object, members in document order.
    Object(JsonVec<'a, (Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Parses a document into `arena`, reporting syntax errors with line and column.
    ///
    /// Every string of the tree is borrowed, from `bytes` or from the arena, so the tree
    /// owns no memory outside the arena.
    pub fn parse(bytes: &'a [u8], arena: &'a JsonArena) -> Result<Json<'a>, serde_json::Error> {
        Json::parse_measured(bytes, arena).map(|(json, _)| json)
    }

    /// Like [`Json::parse`], with the tree's nesting depth (1 for a scalar), which the
    /// reader knows without walking the tree again.
    pub fn parse_measured(
        bytes: &'a [u8],
        arena: &'a JsonArena,
    ) -> Result<(Json<'a>, usize), serde_json::Error> {
        // Checking the whole text is UTF-8 at once lets the readers skip checking each
        // string; text that is not is read as bytes, for an error with line and column.
        let Ok(text) = std::str::from_utf8(bytes) else {
            return parse_from(serde_json::Deserializer::from_slice(bytes), arena);
        };
        let mut stacks = Stacks::default();
        let mut reader = Reader {
            text,
            bytes,
            at: 0,
            arena: &arena.0,
            stacks: &mut stacks,
            deepest: 0,
        };
        match reader.document() {
            Some(json) => Ok((json, reader.deepest)),
            // What the fast reader declines (a syntax error, an escaped surrogate, an
            // integer beyond 64 bits, deep nesting), serde_json reads: its error, with line
            // and column, or the value.
            None => parse_from(serde_json::Deserializer::from_str(text), arena),
        }
    }

    /// How deeply the tree nests (1 for a scalar), without recursion.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((node, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            match node {
                Json::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
                Json::Object(members) => {
                    stack.extend(members.iter().map(|(_, v)| (v, depth + 1)));
                }
                _ => {}
            }
        }
        deepest
    }

    /// The name of this value's JSON type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// The first member named `name`, when this is an object.
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A mutable reference to the first member named `name`, when this is an object.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Json<'a>> {
        match self {
            Json::Object(members) => members.iter_mut().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Converts to a `serde_json::Value` (the last of duplicate keys wins).
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => serde_json::Value::Bool(*b),
            Json::Number(Number::Int(i)) => serde_json::Value::from(*i),
            Json::Number(Number::BigUint(u)) => serde_json::Value::from(*u),
            Json::Number(Number::Float(f)) => serde_json::Value::from(*f),
            Json::String(s) => serde_json::Value::String(s.to_string()),
            Json::Array(items) => {
                serde_json::Value::Array(items.iter().map(Json::to_value).collect())
            }
            Json::Object(members) => serde_json::Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

fn parse_from<'a, R: serde_json::de::Read<'a>>(
    mut deserializer: serde_json::Deserializer<R>,
    arena: &'a JsonArena,
) -> Result<(Json<'a>, usize), serde_json::Error> {
    let mut stacks = Stacks::default();
    let json = JsonVisitor {
        stacks: &mut stacks,
        arena: &arena.0,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    let depth = json.depth();
    Ok((json, depth))
}

/// The members of the arrays and objects being read, innermost last. Each container's
/// members are gathered here and moved into the arena, exactly sized, when it closes,
/// instead of each container growing its own vector step by step.
#[derive(Default)]
struct Stacks<'de> {
    items: Vec<Json<'de>>,
    members: Vec<(Cow<'de, str>, Json<'de>)>,
}

/// An object key, borrowed from the input when it has no escapes, else from the arena.
struct KeySeed<'de> {
    arena: &'de Bump,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'de> {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'de> {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(self.arena.alloc_str(v)))
    }
}

struct JsonVisitor<'s, 'de> {
    stacks: &'s mut Stacks<'de>,
    arena: &'de Bump,
}

impl<'de> DeserializeSeed<'de> for JsonVisitor<'_, 'de> {
    type Value = Json<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonVisitor<'_, 'de> {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(Number::Int(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(match i64::try_from(v) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::BigUint(v),
        }))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(Json::Number(Number::Float(v)))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(self.arena.alloc_str(v))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let JsonVisitor { stacks, arena } = self;
        let start = stacks.items.len();
        while let Some(item) = seq.next_element_seed(JsonVisitor {
            stacks: &mut *stacks,
            arena,
        })? {
            stacks.items.push(item);
        }
        let items = JsonVec::from_iter_in(stacks.items.drain(start..), arena);
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let JsonVisitor { stacks, arena } = self;
        let start = stacks.members.len();
        while let Some(key) = map.next_key_seed(KeySeed { arena })? {
            let value = map.next_value_seed(JsonVisitor {
                stacks: &mut *stacks,
                arena,
            })?;
            stacks.members.push((key, value));
        }
        let members = JsonVec::from_iter_in(stacks.members.drain(start..), arena);
        Ok(Json::Object(members))
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(Number::Int(i)) => serializer.serialize_i64(*i),
            Json::Number(Number::BigUint(u)) => serializer.serialize_u64(*u),
            Json::Number(Number::Float(f)) => serializer.serialize_f64(*f),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_kept_in_the_arena_and_a_repeated_key_is_kept_twice() {
        let arena = JsonArena::new();
        let doc = Json::parse(br#"{"a": [1, 2], "a": true}"#, &arena).unwrap();
        let expected = Json::Array(
            arena.vec_from([Json::Number(Number::Int(1)), Json::Number(Number::Int(2))]),
        );
        assert_eq!(doc.get("a"), Some(&expected));
        let Json::Object(members) = &doc else {
            panic!("{doc:?}")
        };
        assert_eq!(members.len(), 2, "validation reports the duplicate");
    }

    #[test]
    fn invalid_utf8_is_a_syntax_error_with_its_position() {
        let arena = JsonArena::new();
        let err = Json::parse(b"{\"a\":\n \"x\xFFy\"}", &arena).unwrap_err();
        assert_eq!((err.line(), err.column()), (2, 4), "{err}");
    }

    #[test]
    fn strings_keep_escapes_and_multibyte_text() {
        let arena = JsonArena::new();
        let doc = Json::parse(
            "{\"k\\u00e9y\": [\"caf\u{e9}\", \"a\\nb\"]}".as_bytes(),
            &arena,
        )
        .unwrap();
        let Json::Object(members) = &doc else {
            panic!("{doc:?}")
        };
        assert_eq!(members[0].0, "k\u{e9}y");
        let Json::Array(items) = &members[0].1 else {
            panic!("{doc:?}")
        };
        assert_eq!(
            items[..],
            [
                Json::String("caf\u{e9}".into()),
                Json::String("a\nb".into())
            ]
        );
    }

    #[test]
    fn trailing_text_is_an_error() {
        let arena = JsonArena::new();
        assert!(Json::parse(b"{} x", &arena).is_err());
    }
}
