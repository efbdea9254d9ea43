//! The targeting of a flagd flag (docs/format.md §9) as the loader leaves it: its JsonLogic
//! as a tree of nodes in one array, `$ref`s inlined and operators resolved, so evaluation
//! (eval/logic.rs) walks enums and parses nothing. Data only, like the rest of `document`.

use std::cmp::Ordering;

use crate::primitives::semver::{OwnedVersion, Version};

/// A node's position in [`Logic::nodes`].
pub(crate) type NodeId = u32;

/// What a flagd flag adds to the native fields of its `Flag`.
#[derive(Debug, PartialEq)]
pub(crate) struct FlagdFlag {
    /// The variant served when targeting is absent or returns null; `None` serves the
    /// caller's default (reason `DEFAULT`).
    pub default_variant: Option<u32>,
    pub targeting: Targeting,
}

/// What a flagd flag's `targeting` compiled to.
#[derive(Debug, PartialEq)]
pub(crate) enum Targeting {
    /// No targeting, or `{}`: the default variant, reason `STATIC`.
    Absent,
    /// An expression whose result names the variant.
    Logic(Logic),
    /// The flag could not be compiled (an unknown operator, a `$ref` to a missing
    /// evaluator, a malformed definition): every evaluation answers with this error, as
    /// flagd does, while the rest of the document serves.
    Broken(Broken),
}

/// The error a broken flagd flag answers with, by OpenFeature's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Broken {
    /// `PARSE_ERROR`: the targeting or the flag's definition cannot be read.
    Parse,
    /// `GENERAL`: the definition reads, but cannot serve (a default variant it lacks).
    General,
}

/// A JsonLogic expression: nodes in one array, children before parents.
#[derive(Debug, PartialEq)]
pub(crate) struct Logic {
    pub nodes: Box<[Node]>,
    pub root: NodeId,
}

/// One JsonLogic operation or literal.
#[derive(Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(f64),
    String(Box<str>),
    /// A literal array; its elements are expressions, evaluated where it is read.
    Array(Box<[NodeId]>),
    /// `var` with a path known at load time.
    Var {
        path: VarPath,
        default: Option<NodeId>,
    },
    /// `var` whose path is itself an expression.
    VarComputed {
        path: NodeId,
        default: Option<NodeId>,
    },
    /// `if` / `?:`: condition, value pairs, then an optional else.
    If(Box<[NodeId]>),
    And(Box<[NodeId]>),
    Or(Box<[NodeId]>),
    /// `!` of the first argument.
    Not(Option<NodeId>),
    /// `!!` of the first argument.
    Truthy(Option<NodeId>),
    Compare(Compare, Box<[NodeId]>),
    In(Box<[NodeId]>),
    Cat(Box<[NodeId]>),
    Arithmetic(Arithmetic, Box<[NodeId]>),
    StartsWith(Box<[NodeId]>),
    EndsWith(Box<[NodeId]>),
    SemVer(Box<[NodeId]>),
    /// `sem_ver` whose operator and target version are literals, read at load.
    SemVerFixed {
        version: NodeId,
        op: SemVerOp,
        target: OwnedVersion,
    },
    Fractional(Fractional),
}

/// `sem_ver`'s operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SemVerOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `~`: same major and minor version.
    SameMinor,
    /// `^`: same major version.
    SameMajor,
}

impl SemVerOp {
    pub(crate) fn parse(op: &str) -> Option<SemVerOp> {
        Some(match op {
            "=" => SemVerOp::Eq,
            "!=" => SemVerOp::Ne,
            "<" => SemVerOp::Lt,
            "<=" => SemVerOp::Le,
            ">" => SemVerOp::Gt,
            ">=" => SemVerOp::Ge,
            "~" => SemVerOp::SameMinor,
            "^" => SemVerOp::SameMajor,
            _ => return None,
        })
    }

    /// Whether `version` relates so to `target`.
    pub(crate) fn holds(self, version: &Version<'_>, target: &Version<'_>) -> bool {
        let order = version.precedence(target);
        match self {
            SemVerOp::Eq => order == Ordering::Equal,
            SemVerOp::Ne => order != Ordering::Equal,
            SemVerOp::Lt => order == Ordering::Less,
            SemVerOp::Le => order != Ordering::Greater,
            SemVerOp::Gt => order == Ordering::Greater,
            SemVerOp::Ge => order != Ordering::Less,
            SemVerOp::SameMinor => version.same_minor(target),
            SemVerOp::SameMajor => version.same_major(target),
        }
    }
}

/// What a `var` path reads.
#[derive(Debug, PartialEq)]
pub(crate) enum VarPath {
    /// `targetingKey`: the context's key (`""` without one, as flagd fills it in).
    TargetingKey,
    /// `$flagd.flagKey`: the name of the flag being evaluated.
    FlagKey,
    /// `$flagd.timestamp`: the evaluation instant in Unix seconds.
    Timestamp,
    /// Any other path: the attribute of that (dotted) name.
    Attribute(Box<str>),
    /// `""`, `$flagd` and other paths naming a whole object: flagcore's flat context has
    /// no object to return, so these read as null.
    Object,
}

impl VarPath {
    /// What `path` reads: one of the paths flagd gives a meaning, or else `None` for the
    /// attribute of that name.
    pub(crate) fn special(path: &str) -> Option<VarPath> {
        Some(match path {
            "targetingKey" => VarPath::TargetingKey,
            "$flagd.flagKey" => VarPath::FlagKey,
            "$flagd.timestamp" => VarPath::Timestamp,
            "" | "$flagd" => VarPath::Object,
            _ => return None,
        })
    }
}

/// The comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    /// `==`: JavaScript's loose equality.
    LooseEq,
    /// `!=`
    LooseNe,
    /// `===`
    StrictEq,
    /// `!==`
    StrictNe,
    /// `<`; with three arguments, `a < b < c`.
    Lt,
    /// `<=`; with three arguments, `a <= b <= c`.
    Le,
    Gt,
    Ge,
}

/// The arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
    Min,
    Max,
}

/// flagd's `fractional`: a bucketing key and weighted buckets.
#[derive(Debug, PartialEq)]
pub(crate) struct Fractional {
    /// The expression giving the bucketing key; `None` buckets by `$flagd.flagKey`
    /// followed by `targetingKey`.
    pub key: Option<NodeId>,
    /// The bucket definitions, each an expression that should give `[name, weight]`.
    pub buckets: Box<[NodeId]>,
    /// flagd reads a keyed `fractional` with a single bucket argument as one flat list,
    /// `[name, weight, name, weight, ...]` (not with CBOR keys).
    pub flat: bool,
    /// flagd's newer bucketing: the key's canonical CBOR encoding is hashed, the default
    /// key is the array `[flagKey, targetingKey]`, and weights are whole numbers.
    pub cbor: bool,
    /// When every bucket is written out (literal names and weights, a valid total): each
    /// bucket's name and exclusive upper end, and the total, so evaluation only hashes and
    /// scans.
    pub literal: Option<LiteralBuckets>,
}

/// A `fractional`'s buckets resolved at load.
#[derive(Debug, PartialEq)]
pub(crate) struct LiteralBuckets {
    /// Each bucket's name and the exclusive upper end of its points.
    pub ends: Box<[(NodeId, u64)]>,
    /// The total weight, between 1 and 2,147,483,647.
    pub total: u64,
}
