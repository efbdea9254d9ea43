//! `--attr NAME=VALUE` arguments, read as docs/format.md §7 says: a number or boolean when VALUE
//! parses as one, else a string.

use flagcore::Value;

use crate::Failure;

/// A parsed attribute value that owns its string.
pub(crate) enum Owned {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Owned {
    pub(crate) fn as_value(&self) -> Value<'_> {
        match self {
            Owned::String(s) => Value::String(s),
            Owned::Int(i) => Value::Int(*i),
            Owned::Float(f) => Value::Float(*f),
            Owned::Bool(b) => Value::Bool(*b),
        }
    }
}

pub(crate) fn parse(args: &[String]) -> Result<Vec<(String, Owned)>, Failure> {
    args.iter()
        .map(|arg| {
            let (name, raw) = arg
                .split_once('=')
                .ok_or_else(|| Failure::Usage(format!("--attr {arg:?}: expected NAME=VALUE")))?;
            if name.is_empty() {
                return Err(Failure::Usage(format!(
                    "--attr {arg:?}: empty attribute name"
                )));
            }
            let value = match serde_json::from_str::<serde_json::Value>(raw) {
                Ok(serde_json::Value::Bool(b)) => Owned::Bool(b),
                Ok(serde_json::Value::Number(n)) => match n.as_i64() {
                    Some(i) => Owned::Int(i),
                    None => Owned::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                _ => Owned::String(raw.to_owned()),
            };
            Ok((name.to_owned(), value))
        })
        .collect()
}

/// Borrows parsed attributes as the context wants them.
pub(crate) fn borrow(owned: &[(String, Owned)]) -> Vec<(&str, Value<'_>)> {
    owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_value()))
        .collect()
}
