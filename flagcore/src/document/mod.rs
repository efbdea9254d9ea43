//! The snapshot document of docs/format.md §2, as validation leaves it: names checked, operands
//! parsed, weights in integer units. Data only; [`crate::validate`] builds it and
//! [`crate::plan`] compiles it.

pub(crate) mod json;
pub(crate) mod logic;

use regex::Regex;

use crate::primitives::semver::OwnedVersion;

/// A whole validated document, flags and segments in document order.
#[derive(Debug)]
pub(crate) struct Document {
    pub version: u64,
    pub segments: Vec<(String, Segment)>,
    pub flags: Vec<(String, Flag)>,
}

#[derive(Debug)]
pub(crate) struct Segment {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub rules: Vec<Vec<Condition>>,
}

#[derive(Debug)]
pub(crate) struct Flag {
    pub variants: Vec<(String, serde_json::Value)>,
    pub kind: ValueKind,
    pub enabled: bool,
    /// Served when disabled or a prerequisite fails; `None` (`"off_variant": null`) serves
    /// the caller's default.
    pub off_variant: Option<usize>,
    pub salt: Option<String>,
    pub description: Option<String>,
    pub metadata: Vec<(String, MetadataValue)>,
    /// (index of the prerequisite flag in `Snapshot::flags`, required variant name).
    pub prerequisites: Vec<(usize, String)>,
    /// (variant index, keys) per target.
    pub targets: Vec<(usize, Vec<String>)>,
    pub rules: Vec<Rule>,
    pub fallthrough: Serve,
    pub guardrails: Vec<Guardrail>,
    /// Record an exposure for each top-level evaluation that serves a variant.
    pub exposures: bool,
    /// What a flag loaded from a flagd document evaluates instead of the native steps.
    pub flagd: Option<Box<logic::FlagdFlag>>,
}

/// A guardrail as written: an id, the watched variants (indices) and what it bounds.
#[derive(Debug)]
pub(crate) struct Guardrail {
    pub id: String,
    pub watch: Vec<usize>,
    pub bound: Bound,
}

/// What a guardrail bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Bound {
    /// The watched variants' error rate may exceed the baseline variant's by at most
    /// `max_increase` (an absolute difference: `0.01` is one percentage point).
    ErrorIncrease {
        /// The variant compared against, typically the flag's `off_variant`.
        baseline: u32,
        /// The largest acceptable increase of the error rate.
        max_increase: f64,
    },
    /// The watched variants' error rate may be at most `max` (for a variant at 100%).
    ErrorRate {
        /// The largest acceptable error rate.
        max: f64,
    },
    /// The watched variants' `percentile`-th latency may be at most `max_ms`: at most
    /// `1 − percentile/100` of their observations may be slower.
    Latency {
        /// The percentile bounded, between 0 and 100 exclusive (`99` for p99).
        percentile: f64,
        /// The bound, in milliseconds.
        max_ms: f64,
    },
}

/// The single value type of a flag's variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// All variants are booleans.
    Bool,
    /// All variants are strings.
    String,
    /// All variants are integers.
    Int,
    /// All variants are numbers, at least one not an integer.
    Float,
    /// All variants are JSON objects or arrays.
    Json,
}

impl ValueKind {
    /// The kind's name as the docs and error messages use it.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Bool => "boolean",
            ValueKind::String => "string",
            ValueKind::Int => "integer",
            ValueKind::Float => "float",
            ValueKind::Json => "object",
        }
    }
}

/// A value in a flag's `metadata`.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    /// A string value.
    String(String),
    /// A number (integers are exact up to 2^53).
    Number(f64),
    /// A boolean value.
    Bool(bool),
}

impl MetadataValue {
    /// The value as JSON; a whole number within ±2^53 (so exact) as an integer, as the
    /// document most likely wrote it.
    ///
    /// ```
    /// use flagcore::MetadataValue;
    /// assert_eq!(MetadataValue::Number(1234.0).to_json(), serde_json::json!(1234));
    /// assert_eq!(MetadataValue::Number(0.5).to_json(), serde_json::json!(0.5));
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            MetadataValue::String(s) => serde_json::Value::String(s.clone()),
            MetadataValue::Bool(b) => serde_json::Value::Bool(*b),
            MetadataValue::Number(n) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 => {
                serde_json::Value::from(*n as i64)
            }
            MetadataValue::Number(n) => serde_json::Value::from(*n),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub id: Option<String>,
    pub conditions: Vec<Condition>,
    pub serve: Serve,
}

#[derive(Debug)]
pub(crate) enum Serve {
    Variant(usize),
    /// `{"variant": null}`: the caller's default, reason `DEFAULT`.
    CallerDefault,
    /// A rollout bucketed as flagd's `fractional` (`"bucketing": "flagd"`): the MurmurHash3
    /// of the flag's salt followed by the `by` value, over integer weights of any total.
    FlagdRollout {
        by: String,
        /// (variant index, weight), weights summing to between 1 and 2,147,483,647.
        weights: Vec<(usize, u32)>,
    },
    Rollout {
        by: String,
        split: Split,
        /// Later splits, each in force from its instant, in increasing time order.
        schedule: Vec<Step>,
    },
}

/// A schedule step: from `at` on, `split` replaces the rollout's own.
#[derive(Debug)]
pub(crate) struct Step {
    /// Unix nanoseconds.
    pub at: i128,
    /// `at` as written, for `explain`.
    pub at_text: String,
    pub split: Split,
}

/// (variant index, weight in units of 0.001 %), summing to 100,000.
pub(crate) type Split = Vec<(usize, u32)>;

#[derive(Debug)]
pub(crate) enum Condition {
    InSegment(usize),
    NotInSegment(usize),
    InBucket {
        salt: String,
        by: String,
        from: u32,
        to: u32,
    },
    Clause {
        attribute: String,
        op: Operator,
        operands: Operands,
        /// The clause as written, for `explain`.
        text: String,
    },
}

/// Clause operands, already parsed for their operator.
#[derive(Debug)]
pub(crate) enum Operands {
    None,
    Scalars(Vec<Scalar>),
    Strings(Vec<String>),
    Regexes(Vec<Regex>),
    Numbers(Vec<Scalar>),
    Versions(Vec<OwnedVersion>),
    /// Unix nanoseconds.
    Instants(Vec<i128>),
}

/// A scalar clause value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

macro_rules! operators {
    ($($variant:ident => $name:literal,)*) => {
        /// A clause operator of docs/format.md §2.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Operator { $($variant,)* }

        impl Operator {
            pub(crate) const ALL: &'static [Operator] = &[$(Operator::$variant,)*];

            pub(crate) fn name(self) -> &'static str {
                match self { $(Operator::$variant => $name,)* }
            }

            pub(crate) fn from_name(name: &str) -> Option<Operator> {
                match name { $($name => Some(Operator::$variant),)* _ => None }
            }
        }
    };
}

operators! {
    Eq => "eq",
    Neq => "neq",
    In => "in",
    NotIn => "not_in",
    StartsWith => "starts_with",
    EndsWith => "ends_with",
    Contains => "contains",
    Matches => "matches",
    Lt => "lt",
    Lte => "lte",
    Gt => "gt",
    Gte => "gte",
    SemverEq => "semver_eq",
    SemverLt => "semver_lt",
    SemverLte => "semver_lte",
    SemverGt => "semver_gt",
    SemverGte => "semver_gte",
    Before => "before",
    After => "after",
    Exists => "exists",
}
