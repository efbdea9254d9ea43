//! Owned contexts for a diff, and reading them from JSON Lines.

use std::fmt;

use crate::Value;

/// One context to evaluate, owned (a [`crate::EvaluationContext`] borrows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// The targeting key; `None` for a context without one (docs/format.md §4.1).
    pub key: Option<String>,
    /// The attributes, name → value. Of two of one name, the first wins.
    pub attributes: Vec<(String, AttributeValue)>,
}

/// An owned attribute value: the four types of docs/format.md §4.1.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// A string.
    String(String),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl AttributeValue {
    /// The borrowed [`Value`] an evaluation context takes.
    pub fn as_value(&self) -> Value<'_> {
        match self {
            AttributeValue::String(s) => Value::String(s),
            AttributeValue::Int(i) => Value::Int(*i),
            AttributeValue::Float(f) => Value::Float(*f),
            AttributeValue::Bool(b) => Value::Bool(*b),
        }
    }
}

/// A line of a contexts file that is not a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextsError {
    line: usize,
    message: String,
}

impl ContextsError {
    /// The 1-based line number.
    pub fn line(&self) -> usize {
        self.line
    }

    /// What is wrong with it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ContextsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ContextsError {}

/// Reads contexts from JSON Lines: one object per line, `{"key": "u-17", "attrs":
/// {"country": "DE", "beta_opt_in": true, "age": 42}}`.
///
/// `key` is a string, or null or absent for a context without a targeting key; `attrs`
/// (optional) maps names to strings, numbers or booleans. A number written as an integer
/// that fits in 64 signed bits is an integer, any other number a float (as `--attr` reads
/// them, docs/format.md §7.1). Blank lines are skipped; anything else that is not such an
/// object (other members, another value type, invalid JSON) is an error naming its line.
///
/// ```
/// use flagcore::diff::{read_contexts, AttributeValue};
///
/// let contexts = read_contexts(b"{\"key\": \"u-1\", \"attrs\": {\"age\": 42}}\n\n{\"attrs\": {}}\n")?;
/// assert_eq!(contexts.len(), 2);
/// assert_eq!(contexts[0].key.as_deref(), Some("u-1"));
/// assert_eq!(contexts[0].attributes, [("age".to_owned(), AttributeValue::Int(42))]);
/// assert_eq!(contexts[1].key, None);
///
/// let err = read_contexts(b"{\"key\": \"u-1\"}\n{\"key\": 7}\n").unwrap_err();
/// assert_eq!(err.line(), 2);
/// # Ok::<(), flagcore::diff::ContextsError>(())
/// ```
pub fn read_contexts(jsonl: &[u8]) -> Result<Vec<Context>, ContextsError> {
    let jsonl = jsonl.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(jsonl);
    let mut contexts = Vec::new();
    for (i, line) in jsonl.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let fail = |message: String| ContextsError {
            line: i + 1,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_slice(line).map_err(|e| fail(format!("not JSON: {e}")))?;
        contexts.push(context(value).map_err(fail)?);
    }
    Ok(contexts)
}

fn context(value: serde_json::Value) -> Result<Context, String> {
    let serde_json::Value::Object(members) = value else {
        return Err(format!(
            "expected an object {{\"key\": ..., \"attrs\": {{...}}}}, found {}",
            kind(&value)
        ));
    };
    let mut context = Context::default();
    for (name, value) in members {
        match (name.as_str(), value) {
            ("key", serde_json::Value::String(key)) => context.key = Some(key),
            ("key", serde_json::Value::Null) => {}
            ("key", other) => {
                return Err(format!(
                    "`key` must be a string or null, not {}",
                    kind(&other)
                ))
            }
            ("attrs", serde_json::Value::Object(attrs)) => {
                for (name, value) in attrs {
                    let value = attribute(&name, value)?;
                    context.attributes.push((name, value));
                }
            }
            ("attrs", other) => {
                return Err(format!("`attrs` must be an object, not {}", kind(&other)))
            }
            (other, _) => {
                return Err(format!(
                    "unknown member `{other}`; expected `key` and `attrs`"
                ))
            }
        }
    }
    Ok(context)
}

fn attribute(name: &str, value: serde_json::Value) -> Result<AttributeValue, String> {
    Ok(match value {
        serde_json::Value::String(s) => AttributeValue::String(s),
        serde_json::Value::Bool(b) => AttributeValue::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => AttributeValue::Int(i),
            None => AttributeValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        other => {
            return Err(format!(
                "attribute `{name}` must be a string, number or boolean, not {}",
                kind(&other)
            ))
        }
    })
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
