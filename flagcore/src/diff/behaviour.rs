//! The behavioural half of a diff: every flag evaluated under both plans for every
//! context, on every core, through the public getters and `Plan::in_segment`.
//!
//! Threads take blocks of contexts from a shared counter (so a thread slowed by other
//! work on the machine takes fewer), count into their own tables, and the tables are
//! summed at the end. A context costs no allocation once a thread's buffers have grown.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::{Contexts, Transition};
use crate::{EvaluationContext, Plan, Value, ValueKind};

/// Contexts a thread takes at a time.
const BLOCK: u64 = 512;

/// Transition tables up to this many cells (variants + 1, squared) are dense arrays;
/// flags with more variants count their moves in a map.
const DENSE_CELLS: usize = 1024;

/// The caller's default of a JSON flag; only its variant (none) is read.
static NO_JSON: serde_json::Value = serde_json::Value::Null;

pub(super) struct Job<'a> {
    pub old: &'a Plan,
    pub new: &'a Plan,
    /// Every flag of either plan.
    pub flags: &'a [&'a str],
    /// The segments of the new plan.
    pub segments: &'a [&'a str],
    pub contexts: Contexts<'a>,
    pub now: SystemTime,
    pub threads: usize,
}

pub(super) struct Counts {
    /// Per flag of the job, its moves, largest first.
    pub flags: Vec<Vec<Transition>>,
    /// Per segment of the job: contexts in it under the new plan, and those of them that
    /// moved on any flag.
    pub segments: Vec<(u64, u64)>,
}

/// One flag's variants under both plans, numbered: 0 is "none served", 1.. the names.
struct Table<'p> {
    name: &'p str,
    names: Vec<&'p str>,
    old: Variants<'p>,
    new: Variants<'p>,
    /// Where its cells start in a thread's dense array, or `None`: counted in the map.
    dense: Option<usize>,
}

/// One plan's view of a flag: its type (`None`: the plan lacks it) and each variant name,
/// as the plan's getters return it, with its number.
struct Variants<'p> {
    kind: Option<ValueKind>,
    codes: Vec<(&'p str, u32)>,
    /// For flags with many variants, the same by name.
    by_name: Option<HashMap<&'p str, u32>>,
}

impl<'p> Variants<'p> {
    #[inline]
    fn served(&self, plan: &'p Plan, flag: &str, ctx: &EvaluationContext<'_>) -> Option<&'p str> {
        match self.kind? {
            ValueKind::Bool => plan.bool_details(flag, ctx, false).variant,
            ValueKind::String => plan.string_details(flag, ctx, "").variant,
            ValueKind::Int => plan.int_details(flag, ctx, 0).variant,
            ValueKind::Float => plan.float_details(flag, ctx, 0.0).variant,
            ValueKind::Json => plan.json_details(flag, ctx, &NO_JSON).variant,
        }
    }

    fn code(&self, served: Option<&str>) -> u32 {
        let Some(name) = served else { return 0 };
        if let Some(by_name) = &self.by_name {
            return by_name.get(name).copied().unwrap_or(0);
        }
        // The getters return the plan's own name, so the address usually settles it.
        self.codes
            .iter()
            .find(|(n, _)| std::ptr::eq(*n, name))
            .or_else(|| self.codes.iter().find(|(n, _)| *n == name))
            .map_or(0, |(_, code)| *code)
    }
}

fn tables<'p>(job: &Job<'p>) -> (Vec<Table<'p>>, usize) {
    let mut cells = 0;
    let tables = job
        .flags
        .iter()
        .map(|&name| {
            let mut names: Vec<&'p str> = Vec::new();
            let mut side = |plan: &'p Plan| {
                let kind = plan.flag_kind(name);
                let codes: Vec<(&'p str, u32)> = plan
                    .variant_names(name)
                    .map(|variant| {
                        let code = match names.iter().position(|n| *n == variant) {
                            Some(i) => i + 1,
                            None => {
                                names.push(variant);
                                names.len()
                            }
                        };
                        (variant, code as u32)
                    })
                    .collect();
                let by_name = (codes.len() > 8).then(|| codes.iter().copied().collect());
                Variants {
                    kind,
                    codes,
                    by_name,
                }
            };
            let old = side(job.old);
            let new = side(job.new);
            let dim = names.len() + 1;
            let dense = (dim * dim <= DENSE_CELLS).then(|| {
                cells += dim * dim;
                cells - dim * dim
            });
            Table {
                name,
                names,
                old,
                new,
                dense,
            }
        })
        .collect();
    (tables, cells)
}

/// One thread's counts.
struct Local {
    dense: Vec<u64>,
    /// (flag, from, to) → count, for flags without a dense table.
    sparse: HashMap<(u32, u32, u32), u64>,
    segments: Vec<(u64, u64)>,
}

impl Local {
    fn visit(&mut self, job: &Job<'_>, tables: &[Table<'_>], ctx: &EvaluationContext<'_>) {
        let mut moved = false;
        for (f, table) in tables.iter().enumerate() {
            let from = table.old.served(job.old, table.name, ctx);
            let to = table.new.served(job.new, table.name, ctx);
            if from != to {
                moved = true;
                self.record(f, table, from, to);
            }
        }
        for (counts, name) in self.segments.iter_mut().zip(job.segments) {
            if job.new.in_segment(name, ctx) == Some(true) {
                counts.0 += 1;
                counts.1 += u64::from(moved);
            }
        }
    }

    #[cold]
    fn record(&mut self, flag: usize, table: &Table<'_>, from: Option<&str>, to: Option<&str>) {
        let (from, to) = (table.old.code(from), table.new.code(to));
        match table.dense {
            Some(start) => {
                let dim = table.names.len() + 1;
                self.dense[start + from as usize * dim + to as usize] += 1;
            }
            None => *self.sparse.entry((flag as u32, from, to)).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Local) {
        for (mine, theirs) in self.dense.iter_mut().zip(other.dense) {
            *mine += theirs;
        }
        for (cell, count) in other.sparse {
            *self.sparse.entry(cell).or_default() += count;
        }
        for (mine, theirs) in self.segments.iter_mut().zip(other.segments) {
            mine.0 += theirs.0;
            mine.1 += theirs.1;
        }
    }
}

pub(super) fn run(job: Job<'_>) -> Counts {
    let (tables, cells) = tables(&job);
    let total = job.contexts.len();
    let fresh = || Local {
        dense: vec![0; cells],
        sparse: HashMap::new(),
        segments: vec![(0, 0); job.segments.len()],
    };
    let next = AtomicU64::new(0);
    let threads = job.threads.clamp(1, total.div_ceil(BLOCK).max(1) as usize);
    let mut sum = fresh();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads)
            .map(|_| scope.spawn(|| work(&job, &tables, &next, fresh())))
            .collect();
        let mine = work(&job, &tables, &next, fresh());
        sum.merge(mine);
        for worker in workers {
            match worker.join() {
                Ok(local) => sum.merge(local),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    Counts {
        flags: tables
            .iter()
            .enumerate()
            .map(|(f, table)| transitions(f, table, &sum))
            .collect(),
        segments: sum.segments,
    }
}

/// Evaluates blocks of contexts until none is left.
fn work(job: &Job<'_>, tables: &[Table<'_>], next: &AtomicU64, mut local: Local) -> Local {
    let total = job.contexts.len();
    let mut key = String::new();
    let mut attributes: Vec<(&str, Value<'_>)> = Vec::new();
    loop {
        // Relaxed: the counter only hands out disjoint blocks; the results travel back
        // through `join`, which synchronizes.
        let start = next.fetch_add(BLOCK, Ordering::Relaxed);
        if start >= total {
            return local;
        }
        let end = (start + BLOCK).min(total);
        match job.contexts {
            Contexts::Synthetic(_) => {
                for i in start..end {
                    key.clear();
                    // Writing to a String cannot fail.
                    let _ = write!(key, "user-{i}");
                    let ctx = EvaluationContext::new(&key).at(job.now);
                    local.visit(job, tables, &ctx);
                }
            }
            Contexts::Listed(contexts) => {
                for context in &contexts[start as usize..end as usize] {
                    attributes.clear();
                    attributes.extend(
                        context
                            .attributes
                            .iter()
                            .map(|(name, value)| (name.as_str(), value.as_value())),
                    );
                    let base = match &context.key {
                        Some(key) => EvaluationContext::new(key),
                        None => EvaluationContext::anonymous(),
                    };
                    let ctx = base.with_attributes(&attributes).at(job.now);
                    local.visit(job, tables, &ctx);
                }
            }
        }
    }
}

fn transitions(flag: usize, table: &Table<'_>, sum: &Local) -> Vec<Transition> {
    let name = |code: u32| {
        code.checked_sub(1)
            .and_then(|i| table.names.get(i as usize))
            .map(|n| (*n).to_owned())
    };
    let dim = table.names.len() + 1;
    let mut moves: Vec<Transition> = Vec::new();
    let mut push = |from: u32, to: u32, count: u64| {
        if count > 0 && from != to {
            moves.push(Transition {
                from: name(from),
                to: name(to),
                count,
            });
        }
    };
    match table.dense {
        Some(start) => {
            for (cell, &count) in sum.dense[start..start + dim * dim].iter().enumerate() {
                push((cell / dim) as u32, (cell % dim) as u32, count);
            }
        }
        None => {
            for (&(f, from, to), &count) in &sum.sparse {
                if f as usize == flag {
                    push(from, to, count);
                }
            }
        }
    }
    moves.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.from.cmp(&b.from))
            .then_with(|| a.to.cmp(&b.to))
    });
    moves
}
