//! Clause operators compiled to an enum, and how each one tests a context value.

use std::cmp::Ordering;

use super::hash::{same_bytes, StrMap};
use super::pattern::Pattern;
use crate::document::{Operands, Operator, Scalar};
use crate::primitives::semver::{OwnedVersion, Version};
use crate::primitives::time::{millis_to_nanos, parse_rfc3339};
use crate::primitives::value::Value;

/// A compiled clause test.
#[derive(Debug, Clone)]
#[repr(u8)]
pub(crate) enum Test {
    Exists,
    /// `eq`/`in` (`negate == false`) and `neq`/`not_in` (`negate == true`).
    Equals {
        set: ValueSet,
        negate: bool,
    },
    StartsWith(Box<[Box<str>]>),
    EndsWith(Box<[Box<str>]>),
    Contains(Box<[Box<str>]>),
    Matches(Box<[Pattern]>),
    Number {
        order: Order,
        values: Box<[Number]>,
    },
    Semver {
        order: Order,
        versions: Box<[OwnedVersion]>,
    },
    /// `before` (`after == false`) or `after`, against Unix nanoseconds.
    Time {
        after: bool,
        instants: Box<[i128]>,
    },
}

/// How the attribute must relate to a value: `attribute OP value`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Order {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Order {
    #[inline]
    fn holds(self, attribute_vs_value: Ordering) -> bool {
        match self {
            Order::Eq => attribute_vs_value == Ordering::Equal,
            Order::Lt => attribute_vs_value == Ordering::Less,
            Order::Lte => attribute_vs_value != Ordering::Greater,
            Order::Gt => attribute_vs_value == Ordering::Greater,
            Order::Gte => attribute_vs_value != Ordering::Less,
        }
    }
}

/// A JSON number in a clause, compared exactly across integers and floats.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn of(value: Value<'_>) -> Option<Number> {
        match value {
            Value::Int(i) => Some(Number::Int(i)),
            Value::Float(f) => Some(Number::Float(f)),
            _ => None,
        }
    }

    /// Exact numeric order (no rounding of large integers); `None` only for NaN.
    pub(crate) fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (Number::Float(a), Number::Float(b)) => a.partial_cmp(&b),
            (Number::Int(a), Number::Float(b)) => compare_int_float(a, b),
            (Number::Float(a), Number::Int(b)) => compare_int_float(b, a).map(Ordering::reverse),
        }
    }
}

fn compare_int_float(int: i64, float: f64) -> Option<Ordering> {
    if float.is_nan() {
        return None;
    }
    // 2^63 is exact as f64; beyond the i64 range the float decides by sign.
    if float >= 9_223_372_036_854_775_808.0 {
        return Some(Ordering::Less);
    }
    if float < -9_223_372_036_854_775_808.0 {
        return Some(Ordering::Greater);
    }
    let whole = float.trunc();
    let order = int.cmp(&(whole as i64));
    if order != Ordering::Equal {
        return Some(order);
    }
    let fraction = float - whole;
    Some(if fraction > 0.0 {
        Ordering::Less
    } else if fraction < 0.0 {
        Ordering::Greater
    } else {
        Ordering::Equal
    })
}

/// The values of an `eq`/`in` clause, split by type so a lookup only looks where a match
/// is possible; long string lists are hashed.
#[derive(Debug, Clone)]
pub(crate) struct ValueSet {
    strings: StrMap<()>,
    numbers: Box<[Number]>,
    has_true: bool,
    has_false: bool,
}

impl ValueSet {
    fn new(scalars: Vec<Scalar>) -> ValueSet {
        let mut strings = Vec::new();
        let mut numbers = Vec::new();
        let (mut has_true, mut has_false) = (false, false);
        for scalar in scalars {
            match scalar {
                Scalar::Str(s) => strings.push((s.into_boxed_str(), ())),
                Scalar::Int(i) => numbers.push(Number::Int(i)),
                Scalar::Float(f) => numbers.push(Number::Float(f)),
                Scalar::Bool(true) => has_true = true,
                Scalar::Bool(false) => has_false = true,
            }
        }
        ValueSet {
            strings: StrMap::new(strings),
            numbers: numbers.into_boxed_slice(),
            has_true,
            has_false,
        }
    }

    #[inline(always)]
    fn contains(&self, value: &Value<'_>) -> bool {
        match *value {
            Value::String(s) => self.strings.get(s).is_some(),
            Value::Bool(b) => {
                if b {
                    self.has_true
                } else {
                    self.has_false
                }
            }
            Value::Int(_) | Value::Float(_) => Number::of(*value).is_some_and(|n| {
                self.numbers
                    .iter()
                    .any(|v| n.compare(*v) == Some(Ordering::Equal))
            }),
        }
    }
}

fn numbers(scalars: Vec<Scalar>) -> Box<[Number]> {
    scalars
        .into_iter()
        .filter_map(|s| match s {
            Scalar::Int(i) => Some(Number::Int(i)),
            Scalar::Float(f) => Some(Number::Float(f)),
            _ => None,
        })
        .collect()
}

fn boxed(strings: Vec<String>) -> Box<[Box<str>]> {
    strings.into_iter().map(String::into_boxed_str).collect()
}

impl Test {
    pub(crate) fn compile(op: Operator, operands: Operands) -> Test {
        let order = match op {
            Operator::Lt | Operator::SemverLt => Order::Lt,
            Operator::Lte | Operator::SemverLte => Order::Lte,
            Operator::Gt | Operator::SemverGt => Order::Gt,
            Operator::Gte | Operator::SemverGte => Order::Gte,
            _ => Order::Eq,
        };
        match (op, operands) {
            (Operator::Eq | Operator::In, Operands::Scalars(s)) => Test::Equals {
                set: ValueSet::new(s),
                negate: false,
            },
            (Operator::Neq | Operator::NotIn, Operands::Scalars(s)) => Test::Equals {
                set: ValueSet::new(s),
                negate: true,
            },
            (Operator::StartsWith, Operands::Strings(s)) => Test::StartsWith(boxed(s)),
            (Operator::EndsWith, Operands::Strings(s)) => Test::EndsWith(boxed(s)),
            (Operator::Contains, Operands::Strings(s)) => Test::Contains(boxed(s)),
            (Operator::Matches, Operands::Regexes(r)) => {
                Test::Matches(r.into_iter().map(Pattern::new).collect())
            }
            (_, Operands::Numbers(n)) => Test::Number {
                order,
                values: numbers(n),
            },
            (_, Operands::Versions(v)) => Test::Semver {
                order,
                versions: v.into_boxed_slice(),
            },
            (op, Operands::Instants(i)) => Test::Time {
                after: op == Operator::After,
                instants: i.into_boxed_slice(),
            },
            // Validation pairs every operator with its operands; `exists` has none.
            _ => Test::Exists,
        }
    }

    /// How many values the test compares against: what a copy of it costs.
    pub(crate) fn operand_count(&self) -> usize {
        match self {
            Test::Exists => 0,
            Test::Equals { set, .. } => {
                set.strings.len()
                    + set.numbers.len()
                    + usize::from(set.has_true)
                    + usize::from(set.has_false)
            }
            Test::StartsWith(v) | Test::EndsWith(v) | Test::Contains(v) => v.len(),
            Test::Matches(patterns) => patterns.len(),
            Test::Number { values, .. } => values.len(),
            Test::Semver { versions, .. } => versions.len(),
            Test::Time { instants, .. } => instants.len(),
        }
    }

    /// [`holds`](Self::holds) for a caller that tests this clause alone (a single-rule
    /// flag): there a pattern's match is inlined as well, with no frame of its own.
    #[inline(always)]
    pub(crate) fn holds_alone(&self, value: &Value<'_>) -> bool {
        match self {
            Test::Matches(patterns) => matches_in(patterns, value),
            _ => self.holds(value),
        }
    }

    /// Whether a present attribute passes the test. The string and set tests are inlined
    /// into the evaluator; the heavier ones are calls, so they do not widen its frame.
    #[inline(always)]
    pub(crate) fn holds(&self, value: &Value<'_>) -> bool {
        match self {
            Test::Exists => true,
            Test::Equals { set, negate } => set.contains(value) != *negate,
            Test::StartsWith(prefixes) => match *value {
                Value::String(s) => starts_with_any(s, prefixes),
                _ => false,
            },
            Test::EndsWith(suffixes) => match *value {
                Value::String(s) => ends_with_any(s, suffixes),
                _ => false,
            },
            Test::Contains(parts) => contains_any(parts, value),
            Test::Matches(patterns) => matches_any(patterns, value),
            Test::Number { order, values } => number_holds(*order, values, value),
            Test::Semver { order, versions } => semver_holds(*order, versions, value),
            Test::Time { after, instants } => time_holds(*after, instants, value),
        }
    }
}

// The prefix and suffix tests are plain loops, always inlined: the compiler left `any`
// and its closure out of line (a call per clause) once a caller grew.
#[inline(always)]
fn starts_with_any(s: &str, prefixes: &[Box<str>]) -> bool {
    let s = s.as_bytes();
    for p in prefixes {
        if s.get(..p.len())
            .is_some_and(|head| same_bytes(head, p.as_bytes()))
        {
            return true;
        }
    }
    false
}

#[inline(always)]
fn ends_with_any(s: &str, suffixes: &[Box<str>]) -> bool {
    let s = s.as_bytes();
    for p in suffixes {
        let tail = s.len().checked_sub(p.len()).and_then(|at| s.get(at..));
        if tail.is_some_and(|tail| same_bytes(tail, p.as_bytes())) {
            return true;
        }
    }
    false
}

#[inline(never)]
fn contains_any(parts: &[Box<str>], value: &Value<'_>) -> bool {
    as_str(value).is_some_and(|s| parts.iter().any(|p| s.contains(&**p)))
}

#[inline(never)]
fn matches_any(patterns: &[Pattern], value: &Value<'_>) -> bool {
    matches_in(patterns, value)
}

#[inline(always)]
fn matches_in(patterns: &[Pattern], value: &Value<'_>) -> bool {
    let Value::String(s) = *value else {
        return false;
    };
    for pattern in patterns {
        if pattern.is_match(s) {
            return true;
        }
    }
    false
}

#[inline(never)]
fn number_holds(order: Order, values: &[Number], value: &Value<'_>) -> bool {
    Number::of(*value).is_some_and(|n| {
        values
            .iter()
            .any(|v| n.compare(*v).is_some_and(|o| order.holds(o)))
    })
}

#[inline(never)]
fn semver_holds(order: Order, versions: &[OwnedVersion], value: &Value<'_>) -> bool {
    as_str(value)
        .and_then(Version::parse)
        .is_some_and(|attribute| {
            versions
                .iter()
                .any(|v| order.holds(attribute.precedence(&v.as_version())))
        })
}

#[inline(never)]
fn time_holds(after: bool, instants: &[i128], value: &Value<'_>) -> bool {
    instant(*value).is_some_and(|t| instants.iter().any(|v| if after { t > *v } else { t < *v }))
}

fn as_str<'a>(value: &Value<'a>) -> Option<&'a str> {
    match *value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn instant(value: Value<'_>) -> Option<i128> {
    match value {
        Value::String(s) => parse_rfc3339(s),
        Value::Int(ms) => Some(i128::from(ms) * 1_000_000),
        Value::Float(ms) => millis_to_nanos(ms),
        Value::Bool(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_floats_compare_exactly() {
        let cmp = |a: Number, b: Number| a.compare(b);
        assert_eq!(
            cmp(Number::Int(1), Number::Float(1.0)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            cmp(Number::Int(1), Number::Float(1.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp(Number::Float(-1.5), Number::Int(-1)),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp(Number::Int(-2), Number::Float(-1.5)),
            Some(Ordering::Less)
        );
        // 2^53 + 1 is not representable as f64; it must still be above 2^53.
        let big = (1i64 << 53) + 1;
        assert_eq!(
            cmp(Number::Int(big), Number::Float((1i64 << 53) as f64)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp(Number::Int(i64::MAX), Number::Float(1e19)),
            Some(Ordering::Less)
        );
    }
}
