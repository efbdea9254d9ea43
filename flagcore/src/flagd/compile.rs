//! JsonLogic, as flagd flags write their `targeting`, compiled into [`Logic`] nodes.
//!
//! Compilation fails, and the flag is broken (`PARSE_ERROR`, as flagd answers), on what
//! flagd cannot evaluate whichever branch runs: an unknown operator, a `$ref` to an
//! evaluator that does not exist, evaluators that refer to themselves. Wrong arguments to
//! a known operator are not compile errors: flagd finds them only when the operator
//! runs, so the evaluator does too.

use std::collections::HashMap;

use crate::document::json::{Json, Number};
use crate::document::logic::{
    Arithmetic, Compare, Fractional, LiteralBuckets, Logic, Node, NodeId, SemVerOp, VarPath,
};
use crate::primitives::semver::Version;

/// Compiles expressions against one document's `$evaluators`, sharing each evaluator's
/// nodes between the places that `$ref` it.
pub(crate) struct Compiler<'j, 'd> {
    evaluators: &'j HashMap<&'j str, &'j Json<'d>>,
    /// `fractional` buckets by the CBOR encoding of its key (`FractionalVersion::V3`).
    cbor: bool,
    nodes: Vec<Node>,
    compiled_refs: HashMap<&'j str, NodeId>,
    /// Evaluators being compiled, innermost last, to find cycles.
    expanding: Vec<&'j str>,
}

impl<'j, 'd> Compiler<'j, 'd> {
    pub(crate) fn new(evaluators: &'j HashMap<&'j str, &'j Json<'d>>, cbor: bool) -> Self {
        Compiler {
            evaluators,
            cbor,
            nodes: Vec::new(),
            compiled_refs: HashMap::new(),
            expanding: Vec::new(),
        }
    }

    /// Compiles a flag's whole `targeting`.
    pub(crate) fn targeting(mut self, json: &'j Json<'d>) -> Result<Logic, String> {
        let root = self.expression(json)?;
        Ok(Logic {
            nodes: self.nodes.into_boxed_slice(),
            root,
        })
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        (self.nodes.len() - 1) as NodeId
    }

    fn expression(&mut self, json: &'j Json<'d>) -> Result<NodeId, String> {
        let node = match json {
            Json::Null => Node::Null,
            Json::Bool(b) => Node::Bool(*b),
            Json::Number(n) => Node::Number(n.as_f64()),
            Json::String(s) => Node::String(s.as_ref().into()),
            Json::Array(items) => Node::Array(self.all(items)?),
            Json::Object(members) => match &members[..] {
                [(op, args)] => return self.operation(op, args),
                [] => return Err("an empty object is not an operation".into()),
                _ => {
                    return Err(format!(
                        "an operation is an object with one key; this one has {}",
                        members.len()
                    ))
                }
            },
        };
        Ok(self.push(node))
    }

    fn all(&mut self, items: &'j [Json<'d>]) -> Result<Box<[NodeId]>, String> {
        items.iter().map(|item| self.expression(item)).collect()
    }

    fn operation(&mut self, op: &'j str, args: &'j Json<'d>) -> Result<NodeId, String> {
        if op == "$ref" {
            return self.reference(args);
        }
        // JsonLogic reads a single argument as a one-element list.
        let args: &'j [Json<'d>] = match args {
            Json::Array(items) => items,
            single => std::slice::from_ref(single),
        };
        let node = match op {
            "var" => self.var(args)?,
            "if" | "?:" => Node::If(self.all(args)?),
            "and" => Node::And(self.all(args)?),
            "or" => Node::Or(self.all(args)?),
            "!" => Node::Not(self.first(args)?),
            "!!" => Node::Truthy(self.first(args)?),
            "==" => Node::Compare(Compare::LooseEq, self.all(args)?),
            "!=" => Node::Compare(Compare::LooseNe, self.all(args)?),
            "===" => Node::Compare(Compare::StrictEq, self.all(args)?),
            "!==" => Node::Compare(Compare::StrictNe, self.all(args)?),
            "<" => Node::Compare(Compare::Lt, self.all(args)?),
            "<=" => Node::Compare(Compare::Le, self.all(args)?),
            ">" => Node::Compare(Compare::Gt, self.all(args)?),
            ">=" => Node::Compare(Compare::Ge, self.all(args)?),
            "in" => Node::In(self.all(args)?),
            "cat" => Node::Cat(self.all(args)?),
            "+" => Node::Arithmetic(Arithmetic::Add, self.all(args)?),
            "-" => Node::Arithmetic(Arithmetic::Subtract, self.all(args)?),
            "*" => Node::Arithmetic(Arithmetic::Multiply, self.all(args)?),
            "/" => Node::Arithmetic(Arithmetic::Divide, self.all(args)?),
            "%" => Node::Arithmetic(Arithmetic::Remainder, self.all(args)?),
            "min" => Node::Arithmetic(Arithmetic::Min, self.all(args)?),
            "max" => Node::Arithmetic(Arithmetic::Max, self.all(args)?),
            "starts_with" => Node::StartsWith(self.all(args)?),
            "ends_with" => Node::EndsWith(self.all(args)?),
            "sem_ver" => self.sem_ver(args)?,
            "fractional" => self.fractional(args)?,
            other => return Err(format!("unknown operator `{other}`")),
        };
        Ok(self.push(node))
    }

    /// `sem_ver`, with its operator and target read now when they are literals that flagd
    /// accepts; anything else is left to evaluation, which reports it as flagd does.
    fn sem_ver(&mut self, args: &'j [Json<'d>]) -> Result<Node, String> {
        if let [version, Json::String(op), Json::String(target)] = args {
            let op = SemVerOp::parse(op);
            let target = Version::parse_flagd(target).map(Version::to_owned_version);
            if let (Some(op), Some(target)) = (op, target) {
                let version = self.expression(version)?;
                return Ok(Node::SemVerFixed {
                    version,
                    op,
                    target,
                });
            }
        }
        Ok(Node::SemVer(self.all(args)?))
    }

    fn first(&mut self, args: &'j [Json<'d>]) -> Result<Option<NodeId>, String> {
        args.first().map(|arg| self.expression(arg)).transpose()
    }

    fn var(&mut self, args: &'j [Json<'d>]) -> Result<Node, String> {
        let default = match args.get(1) {
            Some(default) => Some(self.expression(default)?),
            None => None,
        };
        let path = match args.first() {
            None | Some(Json::Null) => VarPath::Object,
            Some(Json::String(path)) => var_path(path),
            Some(Json::Number(Number::Int(i))) => VarPath::Attribute(i.to_string().into()),
            Some(computed) => {
                return Ok(Node::VarComputed {
                    path: self.expression(computed)?,
                    default,
                })
            }
        };
        Ok(Node::Var { path, default })
    }

    fn fractional(&mut self, args: &'j [Json<'d>]) -> Result<Node, String> {
        // flagd takes a first argument that is a literal array for a bucket, and anything
        // else for the expression giving the bucketing key.
        let (key, buckets) = match args.split_first() {
            Some((Json::Array(_), _)) | None => (None, args),
            Some((key, rest)) => (Some(self.expression(key)?), rest),
        };
        let flat = key.is_some() && buckets.len() == 1 && !self.cbor;
        let buckets = self.all(buckets)?;
        Ok(Node::Fractional(Fractional {
            literal: self.literal_buckets(&buckets, flat),
            flat,
            cbor: self.cbor,
            key,
            buckets,
        }))
    }

    /// The buckets' names and cumulative ends when every name and weight is a literal, read
    /// as the evaluator reads them at run time; `None` leaves them to it (it also reports
    /// a total flagd refuses).
    fn literal_buckets(&self, buckets: &[NodeId], flat: bool) -> Option<LiteralBuckets> {
        let array = |id: NodeId| match self.nodes.get(id as usize) {
            Some(Node::Array(items)) => Some(items),
            _ => None,
        };
        let mut pairs: Vec<(NodeId, Option<NodeId>)> = Vec::new();
        if flat {
            for pair in array(*buckets.first()?)?.chunks(2) {
                pairs.push((pair[0], Some(*pair.get(1)?)));
            }
        } else {
            for &bucket in buckets {
                match &array(bucket)?[..] {
                    [] if !self.cbor => {}
                    [name] => pairs.push((*name, None)),
                    [name, weight] => pairs.push((*name, Some(*weight))),
                    [name, weight, ..] if !self.cbor => pairs.push((*name, Some(*weight))),
                    _ => return None,
                }
            }
        }
        let mut ends = Vec::with_capacity(pairs.len());
        let mut total: u64 = 0;
        for (name, weight) in pairs {
            let scalar = matches!(
                self.nodes.get(name as usize)?,
                Node::Null | Node::Bool(_) | Node::Number(_) | Node::String(_)
            );
            let weight = match weight.map(|w| self.nodes.get(w as usize)) {
                None => 1,
                // `as` saturates: negative weights become 0, fractions round down (with
                // CBOR keys, a fraction is an error the evaluator reports).
                Some(Some(Node::Number(n))) if !self.cbor || n.fract() == 0.0 => *n as u64,
                Some(_) => return None,
            };
            total = total.checked_add(weight)?;
            if !scalar {
                return None;
            }
            ends.push((name, total));
        }
        (total > 0 && total <= i32::MAX as u64).then(|| LiteralBuckets {
            ends: ends.into_boxed_slice(),
            total,
        })
    }

    fn reference(&mut self, name: &'j Json<'d>) -> Result<NodeId, String> {
        let Json::String(name) = name else {
            return Err(format!(
                "`$ref` names an evaluator with a string, not {}",
                name.type_name()
            ));
        };
        let name: &'j str = name;
        if let Some(&id) = self.compiled_refs.get(name) {
            return Ok(id);
        }
        let Some(&definition) = self.evaluators.get(name) else {
            return Err(format!("`$ref` to undefined evaluator `{name}`"));
        };
        if self.expanding.contains(&name) {
            return Err(format!(
                "evaluator `{name}` refers to itself through `$ref`"
            ));
        }
        self.expanding.push(name);
        let id = self.expression(definition);
        self.expanding.pop();
        let id = id.map_err(|e| format!("in evaluator `{name}`: {e}"))?;
        self.compiled_refs.insert(name, id);
        Ok(id)
    }
}

fn var_path(path: &str) -> VarPath {
    VarPath::special(path).unwrap_or_else(|| VarPath::Attribute(path.into()))
}
