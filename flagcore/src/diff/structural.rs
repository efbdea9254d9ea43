//! The structural half of a diff: two validated documents compared as the format reads
//! them, each difference with its path (docs/format.md §1).
//!
//! Comparisons are semantic where the format says two spellings mean one thing: a
//! default written out (`"rules": []`, `"by": "key"`, a `salt` equal to the flag's name)
//! is no change, numbers compare by value (`5` and `5.0`), targets and segment key lists
//! compare as sets of keys, schedule steps by instant. Variant values compare as
//! written, since `1` and `1.0` make different flag types.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::lists::{same, show, show_keys, Matching};
use super::{ChangeKind, StructuralChange};

/// A validated snapshot document.
pub(super) struct Document {
    pub version: u64,
    root: Value,
}

impl Document {
    pub fn new(root: Value) -> Document {
        Document {
            version: root.get("version").and_then(Value::as_u64).unwrap_or(0),
            root,
        }
    }

    fn members(&self, name: &str) -> Option<&Map<String, Value>> {
        self.root.get(name).and_then(Value::as_object)
    }
}

/// One flag or segment: its name, what happened to it, and how.
pub(super) struct Entry {
    pub name: String,
    pub change: ChangeKind,
    pub structural: Vec<StructuralChange>,
}

pub(super) struct Changes {
    /// Every flag of either document, by name.
    pub flags: Vec<Entry>,
    /// Every segment of NEW, by name.
    pub segments: Vec<Entry>,
    /// The segments only OLD has, by name.
    pub removed_segments: Vec<String>,
}

pub(super) fn compare(old: &Document, new: &Document) -> Changes {
    let flags = entries(
        "flags",
        old.members("flags"),
        new.members("flags"),
        flag_changes,
    );
    let (segments, removed): (Vec<Entry>, Vec<Entry>) = entries(
        "segments",
        old.members("segments"),
        new.members("segments"),
        segment_changes,
    )
    .into_iter()
    .partition(|e| e.change != ChangeKind::Removed);
    Changes {
        flags,
        segments,
        removed_segments: removed.into_iter().map(|e| e.name).collect(),
    }
}

type Compare = fn(&mut Out, &str, &str, &Value, &Value);

fn entries(
    section: &str,
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
    compare: Compare,
) -> Vec<Entry> {
    let empty = Map::new();
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let path = format!("{section}.{name}");
            let mut out = Out::default();
            let change = match (old.get(name), new.get(name)) {
                (Some(o), Some(n)) => {
                    compare(&mut out, &path, name, o, n);
                    if out.0.is_empty() {
                        ChangeKind::Unchanged
                    } else {
                        ChangeKind::Changed
                    }
                }
                (None, _) => {
                    out.push(path, "added".into());
                    ChangeKind::Added
                }
                (_, None) => {
                    out.push(path, "removed".into());
                    ChangeKind::Removed
                }
            };
            Entry {
                name: name.clone(),
                change,
                structural: out.0,
            }
        })
        .collect()
}

#[derive(Default)]
struct Out(Vec<StructuralChange>);

impl Out {
    fn push(&mut self, path: String, what: String) {
        self.0.push(StructuralChange { path, what });
    }

    /// Any value: objects member by member, lists of one length item by item, otherwise
    /// the whole value.
    fn generic(&mut self, path: &str, old: Option<&Value>, new: Option<&Value>) {
        match (old, new) {
            (None, None) => {}
            (None, Some(n)) => self.push(path.into(), format!("added: {}", show(n))),
            (Some(o), None) => self.push(path.into(), format!("removed: {}", show(o))),
            (Some(o), Some(n)) if same(o, n) => {}
            (Some(Value::Object(o)), Some(Value::Object(n))) => {
                let names: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
                for name in names {
                    self.generic(&format!("{path}.{name}"), o.get(name), n.get(name));
                }
            }
            (Some(Value::Array(o)), Some(Value::Array(n))) if o.len() == n.len() => {
                for (i, (o, n)) in o.iter().zip(n).enumerate() {
                    self.generic(&format!("{path}[{i}]"), Some(o), Some(n));
                }
            }
            (Some(Value::Array(o)), Some(Value::Array(n))) if all_scalar(o) && all_scalar(n) => {
                self.push(path.into(), items_added_removed(o, n));
            }
            (Some(o), Some(n)) => self.push(path.into(), format!("{} → {}", show(o), show(n))),
        }
    }

    /// A member of both objects, compared generically.
    fn member(&mut self, path: &str, name: &str, old: &Value, new: &Value) {
        self.generic(&format!("{path}.{name}"), old.get(name), new.get(name));
    }
}

fn all_scalar(items: &[Value]) -> bool {
    items.iter().all(|v| !v.is_array() && !v.is_object())
}

/// Two lists of values (a clause's `values`) told apart by what one has and the other
/// lacks: `added: "IT", "ES"; removed: "FR"`.
fn items_added_removed(old: &[Value], new: &[Value]) -> String {
    let missing = |from: &[Value], other: &[Value]| -> Vec<String> {
        let mut left: Vec<&Value> = other.iter().collect();
        from.iter()
            .filter(|v| match left.iter().position(|w| same(v, w)) {
                Some(i) => {
                    left.swap_remove(i);
                    false
                }
                None => true,
            })
            .map(show)
            .collect()
    };
    let (added, removed) = (missing(new, old), missing(old, new));
    match (added.is_empty(), removed.is_empty()) {
        (false, true) => format!("added: {}", added.join(", ")),
        (true, false) => format!("removed: {}", removed.join(", ")),
        (false, false) => format!(
            "added: {}; removed: {}",
            added.join(", "),
            removed.join(", ")
        ),
        (true, true) => format!("reordered: {}", show(&Value::from(new.to_vec()))),
    }
}

fn list<'v>(value: &'v Value, name: &str) -> &'v [Value] {
    value
        .get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text<'v>(value: &'v Value, name: &str) -> Option<&'v str> {
    value.get(name).and_then(Value::as_str)
}

/// A flag's fields, in the order of docs/format.md §2.2.
fn flag_changes(out: &mut Out, path: &str, name: &str, old: &Value, new: &Value) {
    variants(out, &format!("{path}.variants"), old, new);
    match (old.get("enabled"), new.get("enabled")) {
        (Some(Value::Bool(true)), Some(Value::Bool(false))) => {
            out.push(format!("{path}.enabled"), "true → false (disabled)".into())
        }
        (Some(Value::Bool(false)), Some(Value::Bool(true))) => {
            out.push(format!("{path}.enabled"), "false → true (enabled)".into())
        }
        _ => {}
    }
    out.member(path, "off_variant", old, new);
    let salt = |flag: &Value| match text(flag, "salt") {
        Some(salt) => Value::from(salt).to_string(),
        None => format!("{} (the flag's name)", Value::from(name)),
    };
    if text(old, "salt").unwrap_or(name) != text(new, "salt").unwrap_or(name) {
        let what = format!("{} → {}: its rollouts bucket anew", salt(old), salt(new));
        out.push(format!("{path}.salt"), what);
    }
    out.member(path, "description", old, new);
    out.member(path, "metadata", old, new);
    // A flagd flag's own members (docs/format.md §9.2); absent from native flags.
    out.member(path, "state", old, new);
    out.member(path, "defaultVariant", old, new);
    out.member(path, "targeting", old, new);
    prerequisites(out, &format!("{path}.prerequisites"), old, new);
    targets(out, &format!("{path}.targets"), old, new);
    rules(out, &format!("{path}.rules"), old, new);
    if let (Some(o), Some(n)) = (old.get("fallthrough"), new.get("fallthrough")) {
        serve(out, &format!("{path}.fallthrough"), o, n);
    }
}

/// Variant values as written: `1` and `1.0` are different values (§2.3).
fn variants(out: &mut Out, path: &str, old: &Value, new: &Value) {
    let empty = Map::new();
    let members = |v: &Value| v.get("variants").and_then(Value::as_object).cloned();
    let (o, n) = (members(old), members(new));
    let (o, n) = (o.as_ref().unwrap_or(&empty), n.as_ref().unwrap_or(&empty));
    let names: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    for name in names {
        let what = match (o.get(name), n.get(name)) {
            (None, Some(v)) => format!("added: {}", show(v)),
            (Some(v), None) => format!("removed: {}", show(v)),
            (Some(a), Some(b)) if a != b => format!("{} → {}", show(a), show(b)),
            _ => continue,
        };
        out.push(format!("{path}.{name}"), what);
    }
}

fn prerequisites(out: &mut Out, path: &str, old: &Value, new: &Value) {
    let (o, n) = (list(old, "prerequisites"), list(new, "prerequisites"));
    let requires = |p: &Value| {
        format!(
            "{} = {}",
            text(p, "flag").unwrap_or("?"),
            show(p.get("variant").unwrap_or(&Value::Null))
        )
    };
    let m = Matching::new(o, n, |p| text(p, "flag").map(str::to_owned), false);
    for &(i, j) in &m.pairs {
        out.generic(
            &format!("{path}[{j}].variant"),
            o[i].get("variant"),
            n[j].get("variant"),
        );
    }
    for (i, j) in m.reordered() {
        out.push(
            format!("{path}[{j}]"),
            format!("reordered: was prerequisites[{i}]"),
        );
    }
    for &j in &m.added {
        out.push(
            format!("{path}[{j}]"),
            format!("added: requires {}", requires(&n[j])),
        );
    }
    for &i in &m.removed {
        out.push(
            format!("{path}[{i}]"),
            format!("removed: required {}", requires(&o[i])),
        );
    }
}

/// Targets as a map of keys to variants: a key added, removed or served another variant.
fn targets(out: &mut Out, path: &str, old: &Value, new: &Value) {
    let (o, n) = (list(old, "targets"), list(new, "targets"));
    // The same keys target by target: only variants can differ, say so per target.
    if o.len() == n.len() && o.iter().zip(n).all(|(a, b)| keys(a) == keys(b)) {
        for (j, (a, b)) in o.iter().zip(n).enumerate() {
            out.generic(
                &format!("{path}[{j}].variant"),
                a.get("variant"),
                b.get("variant"),
            );
        }
        return;
    }
    let (before, after) = (served(o), served(n));
    // (target index, variant before: None when added) → keys, in key order.
    let mut changed: BTreeMap<(usize, Option<&str>), Vec<&str>> = BTreeMap::new();
    for (&key, &(variant, t)) in &after {
        match before.get(key) {
            None => changed.entry((t, None)).or_default().push(key),
            Some(&(was, _)) if was != variant => {
                changed.entry((t, Some(was))).or_default().push(key)
            }
            Some(_) => {}
        }
    }
    for ((t, was), keys) in changed {
        let variant = Value::from(text(&n[t], "variant").unwrap_or("?"));
        let what = match was {
            None => format!("added: {} → {variant}", show_keys(&keys)),
            Some(was) => format!("{}: {} → {variant}", show_keys(&keys), Value::from(was)),
        };
        out.push(format!("{path}[{t}].keys"), what);
    }
    let mut removed: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (&key, &(_, t)) in &before {
        if !after.contains_key(key) {
            removed.entry(t).or_default().push(key);
        }
    }
    for (t, keys) in removed {
        let variant = Value::from(text(&o[t], "variant").unwrap_or("?"));
        let what = format!("removed: {} (served {variant})", show_keys(&keys));
        out.push(format!("{path}[{t}].keys"), what);
    }
}

fn keys(target: &Value) -> BTreeSet<&str> {
    list(target, "keys")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// Each targeted key → (its variant, its target's index).
fn served(targets: &[Value]) -> BTreeMap<&str, (&str, usize)> {
    let mut map = BTreeMap::new();
    for (t, target) in targets.iter().enumerate() {
        let variant = text(target, "variant").unwrap_or("?");
        for key in keys(target) {
            map.entry(key).or_insert((variant, t));
        }
    }
    map
}

/// A flag's rules: paired by sameness, then `id`, then place (§2.5).
fn rules(out: &mut Out, path: &str, old: &Value, new: &Value) {
    let (o, n) = (list(old, "rules"), list(new, "rules"));
    let id = |r: &Value| text(r, "id").map(str::to_owned);
    let m = Matching::new(o, n, id, true);
    for (i, j) in m.reordered() {
        out.push(format!("{path}[{j}]"), format!("reordered: was rules[{i}]"));
    }
    for &(i, j) in &m.pairs {
        let (a, b, at) = (&o[i], &n[j], format!("{path}[{j}]"));
        out.member(&at, "id", a, b);
        out.member(&at, "description", a, b);
        conditions(out, &format!("{at}.conditions"), a, b);
        if let (Some(a), Some(b)) = (a.get("serve"), b.get("serve")) {
            serve(out, &format!("{at}.serve"), a, b);
        }
    }
    added_removed(out, path, o, n, &m);
}

fn added_removed(out: &mut Out, path: &str, old: &[Value], new: &[Value], m: &Matching) {
    for &j in &m.added {
        out.push(format!("{path}[{j}]"), format!("added: {}", show(&new[j])));
    }
    for &i in &m.removed {
        out.push(
            format!("{path}[{i}]"),
            format!("removed: {}", show(&old[i])),
        );
    }
}

/// A rule's conditions (all must hold, so their order changes nothing served).
fn conditions(out: &mut Out, path: &str, old: &Value, new: &Value) {
    let (o, n) = (list(old, "conditions"), list(new, "conditions"));
    let m = Matching::new(o, n, |_| None, true);
    for (i, j) in m.reordered() {
        out.push(
            format!("{path}[{j}]"),
            format!("reordered: was conditions[{i}]"),
        );
    }
    for &(i, j) in &m.pairs {
        let (a, b, at) = (&o[i], &n[j], format!("{path}[{j}]"));
        let form = |c: &Value| c.as_object().map(|c| c.keys().cloned().collect::<Vec<_>>());
        if form(a) == form(b) {
            out.generic(&at, Some(a), Some(b));
        } else if !same(a, b) {
            // Another form of condition (§2.8): member by member would read as noise.
            out.push(at, format!("{} → {}", show(a), show(b)));
        }
    }
    added_removed(out, path, o, n, &m);
}

/// A rule's `serve` or a flag's `fallthrough` (§2.4).
fn serve(out: &mut Out, path: &str, old: &Value, new: &Value) {
    match (old.get("rollout"), new.get("rollout")) {
        (None, None) => out.member(path, "variant", old, new),
        (Some(a), Some(b)) => rollout(out, &format!("{path}.rollout"), a, b),
        _ => out.push(
            path.into(),
            format!("{} → {}", describe_serve(old), describe_serve(new)),
        ),
    }
}

fn describe_serve(serve: &Value) -> String {
    match serve.get("rollout") {
        Some(rollout) => format!("rollout {}", describe_split(list(rollout, "split"))),
        None => format!(
            "variant {}",
            show(serve.get("variant").unwrap_or(&Value::Null))
        ),
    }
}

/// `[on 5, off 95]`.
fn describe_split(split: &[Value]) -> String {
    let parts: Vec<String> = split
        .iter()
        .map(|part| {
            let weight = part
                .get("weight")
                .map_or_else(String::new, Value::to_string);
            format!("{} {weight}", text(part, "variant").unwrap_or("?"))
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn rollout(out: &mut Out, path: &str, old: &Value, new: &Value) {
    let by = |r: &Value| text(r, "by").unwrap_or("key").to_owned();
    if by(old) != by(new) {
        let what = format!("{} → {}", Value::from(by(old)), Value::from(by(new)));
        out.push(format!("{path}.by"), what);
    }
    split(
        out,
        &format!("{path}.split"),
        list(old, "split"),
        list(new, "split"),
    );
    let (o, n) = (list(old, "schedule"), list(new, "schedule"));
    let instant = |step: &Value| {
        let at = text(step, "at")?;
        let since = crate::parse_rfc3339(at)?.duration_since(std::time::UNIX_EPOCH);
        // Steps before 1970 are keyed by their text; the format compares instants.
        Some(since.map_or_else(|_| at.to_owned(), |d| d.as_nanos().to_string()))
    };
    let m = Matching::new(o, n, instant, true);
    for &(i, j) in &m.pairs {
        let at = format!("{path}.schedule[{j}]");
        if instant(&o[i]) != instant(&n[j]) {
            out.member(&at, "at", &o[i], &n[j]);
        }
        split(
            out,
            &format!("{at}.split"),
            list(&o[i], "split"),
            list(&n[j], "split"),
        );
    }
    let step = |s: &Value| {
        format!(
            "from {} {}",
            text(s, "at").unwrap_or("?"),
            describe_split(list(s, "split"))
        )
    };
    for &j in &m.added {
        out.push(
            format!("{path}.schedule[{j}]"),
            format!("added: {}", step(&n[j])),
        );
    }
    for &i in &m.removed {
        out.push(
            format!("{path}.schedule[{i}]"),
            format!("removed: {}", step(&o[i])),
        );
    }
}

/// A split entry by entry while it keeps its length (so `split[0].weight: 5 → 50`),
/// else as a whole.
fn split(out: &mut Out, path: &str, old: &[Value], new: &[Value]) {
    if old.len() == new.len() {
        for (i, (a, b)) in old.iter().zip(new).enumerate() {
            out.member(&format!("{path}[{i}]"), "variant", a, b);
            out.member(&format!("{path}[{i}]"), "weight", a, b);
        }
    } else {
        let what = format!("{} → {}", describe_split(old), describe_split(new));
        out.push(path.into(), what);
    }
}

/// A segment's fields, in the order of docs/format.md §2.7.
fn segment_changes(out: &mut Out, path: &str, _name: &str, old: &Value, new: &Value) {
    out.member(path, "description", old, new);
    for field in ["include", "exclude"] {
        let keys = |v: &Value| -> BTreeSet<String> {
            list(v, field)
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let (before, after) = (keys(old), keys(new));
        let added: Vec<&str> = after.difference(&before).map(String::as_str).collect();
        let removed: Vec<&str> = before.difference(&after).map(String::as_str).collect();
        if !added.is_empty() {
            out.push(
                format!("{path}.{field}"),
                format!("added: {}", show_keys(&added)),
            );
        }
        if !removed.is_empty() {
            let what = format!("removed: {}", show_keys(&removed));
            out.push(format!("{path}.{field}"), what);
        }
    }
    // Any rule puts a context in the segment, so their order changes no membership.
    let (o, n) = (list(old, "rules"), list(new, "rules"));
    let m = Matching::new(o, n, |_| None, true);
    for (i, j) in m.reordered() {
        out.push(
            format!("{path}.rules[{j}]"),
            format!("reordered: was rules[{i}]"),
        );
    }
    for &(i, j) in &m.pairs {
        let at = format!("{path}.rules[{j}]");
        out.member(&at, "description", &o[i], &n[j]);
        conditions(out, &format!("{at}.conditions"), &o[i], &n[j]);
    }
    added_removed(out, &format!("{path}.rules"), o, n, &m);
}
