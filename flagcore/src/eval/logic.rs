//! flagd flags (docs/format.md §9): their targeting evaluated as flagd evaluates its
//! JsonLogic, with JavaScript's comparisons, flagd's custom operations and `fractional`'s
//! MurmurHash3 buckets.
//!
//! Values live on the stack: strings are borrowed from the plan or the context, and those
//! an evaluation builds (`cat`, numbers written out) go into a fixed scratch buffer used
//! as a stack, so an evaluation allocates nothing. A string that would outgrow it makes
//! the targeting fail like an operator error.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use super::context::EvaluationContext;
use super::details::{Decision, ErrorCode, Reason};
use super::{clock, Evaluator, Trace};
use crate::document::logic::{
    Arithmetic, Broken, Compare, FlagdFlag, Fractional, Node, NodeId, SemVerOp, Targeting, VarPath,
};
use crate::primitives::cbor;
use crate::primitives::murmur3::{murmur3_32, murmur3_32_of};
use crate::primitives::semver::{OwnedVersion, Version};
use crate::primitives::value::Value;

/// Bytes of strings one evaluation may build; a `cat` result beyond this makes the
/// targeting fail (documented in docs/format.md §9.4).
pub(crate) const SCRATCH_BYTES: usize = 1024;

impl<T: Trace> Evaluator<'_, '_, T> {
    /// Evaluates flagd flag `index`: flagd's order, not the native steps of §4.
    #[inline(never)]
    pub(super) fn flagd(&mut self, index: u32, flagd: &FlagdFlag) -> Decision {
        let flag = &self.plan.flags[index as usize];
        // A broken flag answers with its error even when disabled: its `state` may be
        // what is broken. Either way the caller's default is served.
        match &flagd.targeting {
            Targeting::Broken(Broken::Parse) => return Decision::error(ErrorCode::ParseError),
            Targeting::Broken(Broken::General) => return Decision::error(ErrorCode::General),
            _ => {}
        }
        let killed = self.plan.runtime.is_killed(index);
        if !flag.enabled || killed {
            self.trace.disabled(index, killed);
            return Decision::fallback(Reason::Disabled);
        }
        let logic = match &flagd.targeting {
            Targeting::Logic(logic) => logic,
            _ => return default_variant(flagd, Reason::Static),
        };
        let mut run = Run {
            nodes: &logic.nodes,
            ctx: self.ctx,
            flag_key: &flag.name,
            scratch: Scratch::new(),
        };
        // An operator error makes the whole targeting null, as in flagd: the default
        // variant serves rather than whichever branch a `false` would have chosen.
        let result = run.eval(logic.root);
        let failed = result.is_err();
        let name = match result.unwrap_or(Val::Null) {
            Val::Null => {
                self.trace.flagd_targeting(None, failed);
                return default_variant(flagd, Reason::Default);
            }
            Val::Array(_) => return Decision::error(ErrorCode::General),
            other => match run
                .stringify(other)
                .and_then(|v| run.text(&v).ok_or(Failed))
            {
                Ok(name) => name,
                Err(Failed) => return Decision::error(ErrorCode::General),
            },
        };
        self.trace.flagd_targeting(Some(name), false);
        if name.is_empty() {
            return match flagd.default_variant {
                None => Decision::fallback(Reason::Default),
                Some(_) => Decision::error(ErrorCode::General),
            };
        }
        match flag.variant_names.iter().position(|n| **n == *name) {
            Some(v) => Decision::served(v as u32, Reason::TargetingMatch),
            None => Decision::error(ErrorCode::General),
        }
    }
}

fn default_variant(flagd: &FlagdFlag, reason: Reason) -> Decision {
    match flagd.default_variant {
        Some(v) => Decision::served(v, reason),
        None => Decision::fallback(Reason::Default),
    }
}

/// An operator's arguments were unusable (flagd's operators return null then), or a
/// built string outgrew the scratch buffer.
#[derive(Debug, Clone, Copy)]
struct Failed;

type Eval<'e> = Result<Val<'e>, Failed>;

/// A JsonLogic value during evaluation.
#[derive(Debug, Clone, Copy)]
enum Val<'e> {
    Null,
    Bool(bool),
    Number(f64),
    Str(&'e str),
    /// A string in the scratch buffer: `len` bytes from `start`.
    Built {
        start: usize,
        len: usize,
    },
    /// A literal array of the targeting; its elements are evaluated when read.
    Array(&'e [NodeId]),
}

/// The scratch buffer, used as a stack: a value built during an evaluation sits above
/// every value still in use, so an operation may drop what its arguments left above its
/// own result. Its bytes are zeroed only when a first string is built: most targetings
/// build none, and clearing 1 KiB would cost them more than their own evaluation.
struct Scratch {
    bytes: Option<[u8; SCRATCH_BYTES]>,
    len: usize,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            bytes: None,
            len: 0,
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(), Failed> {
        let end = self
            .len
            .checked_add(bytes.len())
            .filter(|&e| e <= SCRATCH_BYTES)
            .ok_or(Failed)?;
        let buffer = match &mut self.bytes {
            Some(buffer) => buffer,
            empty => empty.insert([0; SCRATCH_BYTES]),
        };
        buffer[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn get(&self, start: usize, len: usize) -> Option<&[u8]> {
        self.bytes.as_ref()?.get(start..start + len)
    }

    /// Moves `len` bytes from `start` down to `to` and drops everything above them.
    fn move_down(&mut self, start: usize, len: usize, to: usize) {
        if let Some(buffer) = &mut self.bytes {
            buffer.copy_within(start..start + len, to);
        }
        self.len = to + len;
    }
}

impl fmt::Write for Scratch {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes()).map_err(|Failed| fmt::Error)
    }
}

/// One evaluation of a targeting expression.
struct Run<'e, 'c> {
    nodes: &'e [Node],
    ctx: &'e EvaluationContext<'c>,
    flag_key: &'e str,
    scratch: Scratch,
}

impl<'e, 'c: 'e> Run<'e, 'c> {
    fn eval(&mut self, id: NodeId) -> Eval<'e> {
        let nodes: &'e [Node] = self.nodes;
        let Some(node) = nodes.get(id as usize) else {
            return Err(Failed);
        };
        Ok(match node {
            Node::Null => Val::Null,
            Node::Bool(b) => Val::Bool(*b),
            Node::Number(n) => Val::Number(*n),
            Node::String(s) => Val::Str(s),
            Node::Array(items) => Val::Array(items),
            Node::Var { path, default } => match self.var(path) {
                Some(value) => value,
                None => self.optional(*default)?,
            },
            Node::VarComputed { path, default } => {
                let path = self.eval(*path)?;
                let path = self.stringify(path)?;
                let found = match self.text(&path) {
                    Some(text) => self.var_named(text),
                    None => None,
                };
                match found {
                    Some(value) => value,
                    None => self.optional(*default)?,
                }
            }
            Node::If(args) => return self.conditional(args),
            Node::And(args) => return self.all_or_any(args, false),
            Node::Or(args) => return self.all_or_any(args, true),
            Node::Not(arg) => {
                let value = self.optional(*arg)?;
                Val::Bool(!self.truthy(&value))
            }
            Node::Truthy(arg) => {
                let value = self.optional(*arg)?;
                Val::Bool(self.truthy(&value))
            }
            Node::Compare(op, args) => Val::Bool(self.compare(*op, args)?),
            Node::In(args) => Val::Bool(self.contains(args)?),
            Node::Cat(args) => return self.cat(args),
            Node::Arithmetic(op, args) => return self.arithmetic(*op, args),
            Node::StartsWith(args) => return self.affix(args, |s, a| s.starts_with(a)),
            Node::EndsWith(args) => return self.affix(args, |s, a| s.ends_with(a)),
            Node::SemVer(args) => return self.sem_ver(args),
            Node::SemVerFixed {
                version,
                op,
                target,
            } => return self.sem_ver_fixed(*version, *op, target),
            Node::Fractional(fractional) => return self.fractional(fractional),
        })
    }

    fn optional(&mut self, id: Option<NodeId>) -> Eval<'e> {
        match id {
            Some(id) => self.eval(id),
            None => Ok(Val::Null),
        }
    }

    fn arg(&mut self, args: &[NodeId], i: usize) -> Eval<'e> {
        self.optional(args.get(i).copied())
    }

    fn var(&self, path: &VarPath) -> Option<Val<'e>> {
        match path {
            VarPath::TargetingKey => Some(Val::Str(self.targeting_key())),
            VarPath::FlagKey => Some(Val::Str(self.flag_key)),
            VarPath::Timestamp => Some(Val::Number(self.timestamp())),
            VarPath::Attribute(name) => self.attribute(name),
            VarPath::Object => None,
        }
    }

    /// `var` with a path computed during evaluation, read as a path written in the
    /// targeting would be.
    fn var_named(&self, path: &str) -> Option<Val<'e>> {
        match VarPath::special(path) {
            Some(special) => self.var(&special),
            None => self.attribute(path),
        }
    }

    /// flagd fills in an empty targeting key when the context has none.
    fn targeting_key(&self) -> &'e str {
        match self.ctx.key() {
            Some(key) => key,
            None => match self.ctx.named("targetingKey") {
                Some(Value::String(key)) => key,
                _ => "",
            },
        }
    }

    fn timestamp(&self) -> f64 {
        let nanos = match self.ctx.as_of() {
            Some(instant) => clock::unix_nanos(instant),
            None => clock::now_nanos(),
        };
        nanos.div_euclid(1_000_000_000) as f64
    }

    fn attribute(&self, name: &str) -> Option<Val<'e>> {
        Some(match self.ctx.named(name)? {
            Value::String(s) => Val::Str(s),
            Value::Int(i) => Val::Number(i as f64),
            Value::Float(f) => Val::Number(f),
            Value::Bool(b) => Val::Bool(b),
        })
    }

    fn text<'s>(&'s self, value: &Val<'e>) -> Option<&'s str> {
        match *value {
            Val::Str(s) => Some(s),
            Val::Built { start, len } => std::str::from_utf8(self.scratch.get(start, len)?).ok(),
            _ => None,
        }
    }

    /// The value as JavaScript's `String()` writes it, for values that are not strings
    /// already; arrays stay arrays.
    fn stringify(&mut self, value: Val<'e>) -> Eval<'e> {
        let start = self.scratch.len;
        match value {
            Val::Str(_) | Val::Built { .. } | Val::Array(_) => return Ok(value),
            Val::Null => self.scratch.push(b"null")?,
            Val::Bool(b) => self.scratch.push(if b { b"true" } else { b"false" })?,
            Val::Number(n) => write_number(&mut self.scratch, n)?,
        }
        Ok(Val::Built {
            start,
            len: self.scratch.len - start,
        })
    }

    /// JsonLogic's truthiness: JavaScript's, except that an empty array is false.
    fn truthy(&self, value: &Val<'e>) -> bool {
        match *value {
            Val::Null => false,
            Val::Bool(b) => b,
            Val::Number(n) => n != 0.0 && !n.is_nan(),
            Val::Str(s) => !s.is_empty(),
            Val::Built { len, .. } => len > 0,
            Val::Array(items) => !items.is_empty(),
        }
    }

    fn conditional(&mut self, args: &[NodeId]) -> Eval<'e> {
        let mut pairs = args.chunks_exact(2);
        for pair in &mut pairs {
            let condition = self.eval(pair[0])?;
            if self.truthy(&condition) {
                return self.eval(pair[1]);
            }
        }
        match pairs.remainder() {
            [otherwise] => self.eval(*otherwise),
            _ => Ok(Val::Null),
        }
    }

    /// `and` (`any` false) returns the first falsy value or the last; `or` the first
    /// truthy value or the last.
    fn all_or_any(&mut self, args: &[NodeId], any: bool) -> Eval<'e> {
        let mut last = Val::Null;
        for &arg in args {
            last = self.eval(arg)?;
            if self.truthy(&last) == any {
                return Ok(last);
            }
        }
        Ok(last)
    }

    fn compare(&mut self, op: Compare, args: &[NodeId]) -> Result<bool, Failed> {
        let a = self.arg(args, 0)?;
        let b = self.arg(args, 1)?;
        Ok(match op {
            Compare::LooseEq => self.loose_eq(&a, &b),
            Compare::LooseNe => !self.loose_eq(&a, &b),
            Compare::StrictEq => self.strict_eq(&a, &b),
            Compare::StrictNe => !self.strict_eq(&a, &b),
            Compare::Gt => self.order(&a, &b) == Some(Ordering::Greater),
            Compare::Ge => matches!(
                self.order(&a, &b),
                Some(Ordering::Greater | Ordering::Equal)
            ),
            Compare::Lt | Compare::Le => {
                let holds = |order: Option<Ordering>| match op {
                    Compare::Lt => order == Some(Ordering::Less),
                    _ => matches!(order, Some(Ordering::Less | Ordering::Equal)),
                };
                // With a third argument, `a < b < c`.
                if args.len() >= 3 {
                    let c = self.arg(args, 2)?;
                    holds(self.order(&a, &b)) && holds(self.order(&b, &c))
                } else {
                    holds(self.order(&a, &b))
                }
            }
        })
    }

    /// JavaScript's `==` on JSON values.
    fn loose_eq(&self, a: &Val<'e>, b: &Val<'e>) -> bool {
        match (a, b) {
            (Val::Null, Val::Null) => true,
            (Val::Null, _) | (_, Val::Null) => false,
            (Val::Bool(x), _) => self.loose_eq(&Val::Number(f64::from(u8::from(*x))), b),
            (_, Val::Bool(y)) => self.loose_eq(a, &Val::Number(f64::from(u8::from(*y)))),
            (Val::Array(_), _) | (_, Val::Array(_)) => false,
            (Val::Number(x), Val::Number(y)) => x == y,
            (Val::Number(x), text) | (text, Val::Number(x)) => {
                self.text(text).is_some_and(|t| to_number(t) == *x)
            }
            _ => self.text(a) == self.text(b),
        }
    }

    /// JavaScript's `===` on JSON values.
    fn strict_eq(&self, a: &Val<'e>, b: &Val<'e>) -> bool {
        match (a, b) {
            (Val::Null, Val::Null) => true,
            (Val::Bool(x), Val::Bool(y)) => x == y,
            (Val::Number(x), Val::Number(y)) => x == y,
            (Val::Array(x), Val::Array(y)) => std::ptr::eq(*x, *y),
            _ => matches!((self.text(a), self.text(b)), (Some(x), Some(y)) if x == y),
        }
    }

    /// JavaScript's relational comparison: strings by their characters, anything else
    /// as numbers (`None` when one is not a number).
    fn order(&self, a: &Val<'e>, b: &Val<'e>) -> Option<Ordering> {
        if let (Some(x), Some(y)) = (self.text(a), self.text(b)) {
            return Some(x.cmp(y));
        }
        self.number(a).partial_cmp(&self.number(b))
    }

    /// JavaScript's `Number()` of a value.
    fn number(&self, value: &Val<'e>) -> f64 {
        match value {
            Val::Null => 0.0,
            Val::Bool(b) => f64::from(u8::from(*b)),
            Val::Number(n) => *n,
            Val::Array(_) => f64::NAN,
            text => self.text(text).map_or(f64::NAN, to_number),
        }
    }

    /// `in`: a substring of a string, or an element (`===`) of an array.
    fn contains(&mut self, args: &[NodeId]) -> Result<bool, Failed> {
        let needle = self.arg(args, 0)?;
        let haystack = self.arg(args, 1)?;
        match haystack {
            Val::Array(items) => {
                for &item in items {
                    let item = self.eval(item)?;
                    if self.strict_eq(&needle, &item) {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Val::Str(_) | Val::Built { .. } => {
                let needle = self.stringify(needle)?;
                Ok(match (self.text(&needle), self.text(&haystack)) {
                    (Some(n), Some(h)) => h.contains(n),
                    _ => false,
                })
            }
            _ => Ok(false),
        }
    }

    fn cat(&mut self, args: &[NodeId]) -> Eval<'e> {
        let start = self.scratch.len;
        for &arg in args {
            let end = self.scratch.len;
            let value = self.eval(arg)?;
            self.append(end, value)?;
        }
        Ok(Val::Built {
            start,
            len: self.scratch.len - start,
        })
    }

    /// Writes `value` as `cat` joins it at `end`, the end of the string being built;
    /// whatever evaluating it left above `end` is dropped.
    fn append(&mut self, end: usize, value: Val<'e>) -> Result<(), Failed> {
        match value {
            Val::Built { start, len } => self.scratch.move_down(start, len, end),
            Val::Str(s) => {
                self.scratch.len = end;
                self.scratch.push(s.as_bytes())?;
            }
            // `cat` joins like JavaScript's `Array.join`: null as nothing.
            Val::Null => self.scratch.len = end,
            Val::Bool(_) | Val::Number(_) => {
                self.scratch.len = end;
                self.stringify(value)?;
            }
            Val::Array(items) => {
                self.scratch.len = end;
                for (i, &item) in items.iter().enumerate() {
                    if i > 0 {
                        self.scratch.push(b",")?;
                    }
                    let at = self.scratch.len;
                    let item = self.eval(item)?;
                    self.append(at, item)?;
                }
            }
        }
        Ok(())
    }

    fn arithmetic(&mut self, op: Arithmetic, args: &[NodeId]) -> Eval<'e> {
        let mut numbers = args.iter();
        let mut next = |run: &mut Self| -> Result<Option<f64>, Failed> {
            match numbers.next() {
                Some(&id) => {
                    let value = run.eval(id)?;
                    Ok(Some(run.number(&value)))
                }
                None => Ok(None),
            }
        };
        let first = next(self)?;
        let result = match op {
            Arithmetic::Add | Arithmetic::Multiply => {
                let add = op == Arithmetic::Add;
                let mut total = first.unwrap_or(if add { 0.0 } else { 1.0 });
                while let Some(n) = next(self)? {
                    total = if add { total + n } else { total * n };
                }
                total
            }
            Arithmetic::Subtract => match (first, next(self)?) {
                (Some(a), Some(b)) => a - b,
                (Some(a), None) => -a,
                _ => return Ok(Val::Null),
            },
            Arithmetic::Divide | Arithmetic::Remainder => match (first, next(self)?) {
                (Some(a), Some(b)) if op == Arithmetic::Divide => a / b,
                (Some(a), Some(b)) => a % b,
                _ => return Ok(Val::Null),
            },
            Arithmetic::Min | Arithmetic::Max => {
                let Some(mut best) = first else {
                    return Ok(Val::Null);
                };
                while let Some(n) = next(self)? {
                    best = if n.is_nan() || best.is_nan() {
                        f64::NAN
                    } else if op == Arithmetic::Min {
                        best.min(n)
                    } else {
                        best.max(n)
                    };
                }
                best
            }
        };
        Ok(Val::Number(result))
    }

    /// `starts_with` / `ends_with`: exactly two strings, else an operator error.
    fn affix(&mut self, args: &[NodeId], test: fn(&str, &str) -> bool) -> Eval<'e> {
        let [subject, affix] = args else {
            return Err(Failed);
        };
        let subject = self.eval(*subject)?;
        let affix = self.eval(*affix)?;
        match (self.text(&subject), self.text(&affix)) {
            (Some(s), Some(a)) => Ok(Val::Bool(test(s, a))),
            _ => Err(Failed),
        }
    }

    /// `sem_ver`: a version (a string, or a number written out), an operator and a
    /// version to compare with; anything unreadable is an operator error.
    fn sem_ver(&mut self, args: &[NodeId]) -> Eval<'e> {
        let [version, op, target] = args else {
            return Err(Failed);
        };
        let version = self.eval(*version)?;
        let version = self.version_text(version)?;
        let op = self.eval(*op)?;
        let target = self.eval(*target)?;
        let target = self.version_text(target)?;
        let (Some(version), Some(op), Some(target)) =
            (self.text(&version), self.text(&op), self.text(&target))
        else {
            return Err(Failed);
        };
        let version = Version::parse_flagd(version).ok_or(Failed)?;
        let target = Version::parse_flagd(target).ok_or(Failed)?;
        let op = SemVerOp::parse(op).ok_or(Failed)?;
        Ok(Val::Bool(op.holds(&version, &target)))
    }

    /// `sem_ver` with the operator and target read at load.
    fn sem_ver_fixed(&mut self, version: NodeId, op: SemVerOp, target: &OwnedVersion) -> Eval<'e> {
        let version = self.eval(version)?;
        let version = self.version_text(version)?;
        let version = self.text(&version).ok_or(Failed)?;
        let version = Version::parse_flagd(version).ok_or(Failed)?;
        Ok(Val::Bool(op.holds(&version, &target.as_version())))
    }

    fn version_text(&mut self, value: Val<'e>) -> Eval<'e> {
        match value {
            Val::Number(_) => self.stringify(value),
            Val::Str(_) | Val::Built { .. } => Ok(value),
            _ => Err(Failed),
        }
    }

    /// flagd's `fractional`: the bucketing key's MurmurHash3 (x86, 32 bits, seed 0) mapped
    /// onto the total weight, `hash × total >> 32`, and the bucket whose weights cover it.
    fn fractional(&mut self, fractional: &'e Fractional) -> Eval<'e> {
        let mark = self.scratch.len;
        let hash = match fractional.key {
            _ if fractional.cbor => self.cbor_key_hash(fractional.key)?,
            Some(key) => {
                let key = self.eval(key)?;
                murmur3_32(self.text(&key).ok_or(Failed)?.as_bytes(), 0)
            }
            None => murmur3_32_of(
                &[self.flag_key.as_bytes(), self.targeting_key().as_bytes()],
                0,
            ),
        };
        self.scratch.len = mark;
        if let Some(literal) = &fractional.literal {
            let point = (u64::from(hash) * literal.total) >> 32;
            let (name, _) = literal
                .ends
                .iter()
                .find(|(_, end)| point < *end)
                .ok_or(Failed)?;
            return self.eval(*name);
        }
        // Weights first (checking every name), then the chosen bucket's name: two passes
        // over the definitions instead of a list of them.
        let mut total: u64 = 0;
        self.each_bucket(fractional, |_, weight| {
            total = total.checked_add(weight).ok_or(Failed)?;
            Ok(false)
        })?;
        if total == 0 || total > i32::MAX as u64 {
            return Err(Failed);
        }
        let point = (u64::from(hash) * total) >> 32;
        let mut end = 0u64;
        let mut chosen = None;
        self.each_bucket(fractional, |name, weight| {
            end += weight;
            if point < end {
                chosen = Some(name);
                return Ok(true);
            }
            Ok(false)
        })?;
        let name = chosen.ok_or(Failed)?;
        self.scratch.len = mark;
        self.eval(name)
    }

    /// The MurmurHash3 of the bucketing key's canonical CBOR encoding (flagd's newer
    /// bucketing): `[flagKey, targetingKey]` by default, which needs a targeting key, else
    /// the key expression's value, which may be a string, a number or a boolean.
    fn cbor_key_hash(&mut self, key: Option<NodeId>) -> Result<u32, Failed> {
        let (mut first, mut second) = ([0u8; 9], [0u8; 9]);
        let Some(key) = key else {
            let targeting_key = self.targeting_key();
            if targeting_key.is_empty() {
                return Err(Failed);
            }
            let parts: [&[u8]; 5] = [
                &[cbor::PAIR],
                cbor::head(cbor::TEXT, self.flag_key.len() as u64, &mut first),
                self.flag_key.as_bytes(),
                cbor::head(cbor::TEXT, targeting_key.len() as u64, &mut second),
                targeting_key.as_bytes(),
            ];
            return Ok(murmur3_32_of(&parts, 0));
        };
        // An integer attribute is encoded exactly, not through a float: keys are often ids
        // beyond 2^53.
        if let Some(Node::Var {
            path: VarPath::Attribute(name),
            ..
        }) = self.nodes.get(key as usize)
        {
            if let Some(Value::Int(i)) = self.ctx.named(name) {
                let encoded = match u64::try_from(i) {
                    Ok(unsigned) => cbor::head(0, unsigned, &mut first),
                    Err(_) => cbor::head(1, (-1 - i128::from(i)) as u64, &mut first),
                };
                return Ok(murmur3_32(encoded, 0));
            }
        }
        let value = self.eval(key)?;
        Ok(match value {
            Val::Number(n) => murmur3_32(cbor::number(n, &mut first), 0),
            Val::Bool(b) => murmur3_32(&cbor::BOOLEANS[usize::from(b)..=usize::from(b)], 0),
            Val::Str(_) | Val::Built { .. } => {
                let text = self.text(&value).ok_or(Failed)?;
                let head = cbor::head(cbor::TEXT, text.len() as u64, &mut first);
                murmur3_32_of(&[head, text.as_bytes()], 0)
            }
            Val::Null | Val::Array(_) => return Err(Failed),
        })
    }

    /// Calls `visit` with each bucket's name expression and weight, until it returns true.
    /// A bucket is `[name, weight]` (`[name]`: weight 1); a negative weight counts as 0
    /// and a fractional one is rounded down, as flagd reads them.
    fn each_bucket(
        &mut self,
        fractional: &'e Fractional,
        mut visit: impl FnMut(NodeId, u64) -> Result<bool, Failed>,
    ) -> Result<(), Failed> {
        let mark = self.scratch.len;
        let buckets = &fractional.buckets;
        if buckets.is_empty() {
            return Err(Failed);
        }
        if fractional.flat {
            let Val::Array(items) = self.eval(buckets[0])? else {
                return Err(Failed);
            };
            for pair in items.chunks(2) {
                let [name, weight] = pair else {
                    return Err(Failed);
                };
                let weight = self.bucket_weight(Some(*weight), *name, false)?;
                self.scratch.len = mark;
                if visit(*name, weight)? {
                    return Ok(());
                }
            }
            return Ok(());
        }
        for &bucket in buckets.iter() {
            let Val::Array(items) = self.eval(bucket)? else {
                return Err(Failed);
            };
            // flagd's CBOR bucketing takes only `[name]` and `[name, weight]`.
            if fractional.cbor && !(1..=2).contains(&items.len()) {
                return Err(Failed);
            }
            let Some(&name) = items.first() else {
                continue;
            };
            let weight = self.bucket_weight(items.get(1).copied(), name, fractional.cbor)?;
            self.scratch.len = mark;
            if visit(name, weight)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// A bucket's weight; with CBOR bucketing (`whole`) a fraction is an error, as flagd
    /// takes only integers there.
    fn bucket_weight(
        &mut self,
        weight: Option<NodeId>,
        name: NodeId,
        whole: bool,
    ) -> Result<u64, Failed> {
        if matches!(self.eval(name)?, Val::Array(_)) {
            return Err(Failed);
        }
        match weight {
            None => Ok(1),
            Some(weight) => match self.eval(weight)? {
                Val::Number(n) if whole && n.fract() != 0.0 => Err(Failed),
                // `as` saturates: negative weights become 0, fractions round down.
                Val::Number(n) => Ok(n as u64),
                _ => Err(Failed),
            },
        }
    }
}

/// JavaScript's `Number()` of a string.
fn to_number(text: &str) -> f64 {
    let text = text.trim();
    if text.is_empty() {
        return 0.0;
    }
    match text {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).map_or(f64::NAN, |n| n as f64);
    }
    // Rust reads `inf` and `NaN`, which JavaScript does not.
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        text.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// A number as JavaScript's `String()` writes it, for the magnitudes flag rules use:
/// integers without a fraction, others in their shortest round-trip form.
fn write_number(out: &mut Scratch, n: f64) -> Result<(), Failed> {
    let written = if n.is_nan() {
        out.write_str("NaN")
    } else if n.is_infinite() {
        out.write_str(if n > 0.0 { "Infinity" } else { "-Infinity" })
    } else if n == 0.0 {
        // Both zeros are "0".
        out.write_str("0")
    } else {
        write!(out, "{n}")
    };
    written.map_err(|fmt::Error| Failed)
}
