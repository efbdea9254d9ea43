//! Comparing JSON values the way the format reads them, pairing up the items of two lists
//! (which rule of OLD became which rule of NEW), and showing values to people.

use serde_json::{Number, Value};

/// Equal as the format reads them: numbers by value (`5` and `5.0` are one weight),
/// objects by member whatever their order, arrays item by item.
pub(super) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => same_number(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn same_number(x: &Number, y: &Number) -> bool {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(x), int(y)) {
        (Some(a), Some(b)) => a == b,
        _ => x.as_f64() == y.as_f64(),
    }
}

/// Longest shown value; longer ones are cut with `…` (the path says where to look).
const SHOWN: usize = 120;

/// A value as compact JSON, cut at [`SHOWN`] characters.
pub(super) fn show(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Up to this many keys are named in one line; the rest are counted.
const NAMED_KEYS: usize = 10;

/// `"a", "b", "c"`, or `"a", ... and 12 more`.
pub(super) fn show_keys(keys: &[&str]) -> String {
    let mut text = keys
        .iter()
        .take(NAMED_KEYS)
        .map(|k| Value::from(*k).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > NAMED_KEYS {
        text.push_str(&format!(" and {} more", keys.len() - NAMED_KEYS));
    }
    text
}

/// How the items of an OLD list and a NEW list correspond.
pub(super) struct Matching {
    /// (old index, new index), by new index.
    pub pairs: Vec<(usize, usize)>,
    /// OLD items with no counterpart.
    pub removed: Vec<usize>,
    /// NEW items with no counterpart.
    pub added: Vec<usize>,
}

impl Matching {
    /// Pairs `old` and `new` items: first identical items (in order, so a repeated rule
    /// pairs with its own repeat), then items with the same `key` (a rule's `id`, a
    /// prerequisite's flag, a step's instant), then, with `positional`, what is left
    /// between two pairs, in order (an edited rule stays the rule it was).
    pub fn new(
        old: &[Value],
        new: &[Value],
        key: impl Fn(&Value) -> Option<String>,
        positional: bool,
    ) -> Matching {
        let mut old_of_new: Vec<Option<usize>> = vec![None; new.len()];
        let mut taken = vec![false; old.len()];
        // Identical items; the cursor makes lists shifted by an insertion linear.
        let mut cursor = 0;
        for (j, item) in new.iter().enumerate() {
            let found = (cursor..old.len())
                .chain(0..cursor.min(old.len()))
                .find(|&i| !taken[i] && same(&old[i], item));
            if let Some(i) = found {
                taken[i] = true;
                old_of_new[j] = Some(i);
                cursor = i + 1;
            }
        }
        for (j, item) in new.iter().enumerate() {
            let Some(k) = key(item).filter(|_| old_of_new[j].is_none()) else {
                continue;
            };
            if let Some(i) = (0..old.len()).find(|&i| !taken[i] && key(&old[i]) == Some(k.clone()))
            {
                taken[i] = true;
                old_of_new[j] = Some(i);
            }
        }
        if positional {
            pair_between(&mut old_of_new, &mut taken);
        }
        let pairs = old_of_new
            .iter()
            .enumerate()
            .filter_map(|(j, i)| i.map(|i| (i, j)))
            .collect();
        Matching {
            pairs,
            removed: (0..old.len()).filter(|&i| !taken[i]).collect(),
            added: (0..new.len())
                .filter(|&j| old_of_new[j].is_none())
                .collect(),
        }
    }

    /// The pairs that changed their order relative to the others: the fewest whose move
    /// explains the new order (those outside a longest run kept in order).
    pub fn reordered(&self) -> Vec<(usize, usize)> {
        let olds: Vec<usize> = self.pairs.iter().map(|&(i, _)| i).collect();
        let kept = longest_increasing(&olds);
        self.pairs
            .iter()
            .enumerate()
            .filter(|(p, _)| !kept[*p])
            .map(|(_, pair)| *pair)
            .collect()
    }
}

/// Pairs the unpaired items lying between two consecutive pairs (or the ends), in order.
fn pair_between(old_of_new: &mut [Option<usize>], taken: &mut [bool]) {
    let (mut old_from, mut new_from) = (0, 0);
    let anchors: Vec<(usize, usize)> = old_of_new
        .iter()
        .enumerate()
        .filter_map(|(j, i)| i.map(|i| (i, j)))
        .chain([(taken.len(), old_of_new.len())])
        .collect();
    for (old_to, new_to) in anchors {
        if old_to >= old_from {
            let olds: Vec<usize> = (old_from..old_to).filter(|&i| !taken[i]).collect();
            let news: Vec<usize> = (new_from..new_to)
                .filter(|&j| old_of_new[j].is_none())
                .collect();
            for (i, j) in olds.into_iter().zip(news) {
                taken[i] = true;
                old_of_new[j] = Some(i);
            }
            old_from = old_to + 1;
        }
        new_from = new_to + 1;
    }
}

/// Which items of `values` belong to one longest strictly increasing subsequence.
fn longest_increasing(values: &[usize]) -> Vec<bool> {
    // tails[k]: index in `values` of the smallest last item of an increasing run of k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut before: Vec<Option<usize>> = vec![None; values.len()];
    for (p, &v) in values.iter().enumerate() {
        let k = tails.partition_point(|&t| values[t] < v);
        before[p] = k.checked_sub(1).map(|k| tails[k]);
        if k == tails.len() {
            tails.push(p);
        } else {
            tails[k] = p;
        }
    }
    let mut kept = vec![false; values.len()];
    let mut at = tails.last().copied();
    while let Some(p) = at {
        kept[p] = true;
        at = before[p];
    }
    kept
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn items(names: &[&str]) -> Vec<Value> {
        names.iter().map(|n| json!({ "id": n })).collect()
    }

    #[test]
    fn a_swap_moves_one_item_and_keeps_the_rest() {
        let m = Matching::new(
            &items(&["a", "b", "c"]),
            &items(&["b", "a", "c"]),
            |_| None,
            true,
        );
        assert_eq!(m.pairs, [(1, 0), (0, 1), (2, 2)]);
        assert_eq!(m.reordered().len(), 1);
        assert!(m.added.is_empty() && m.removed.is_empty());
    }

    #[test]
    fn an_insertion_is_an_addition_not_a_reorder() {
        let m = Matching::new(
            &items(&["a", "b"]),
            &items(&["x", "a", "b"]),
            |_| None,
            true,
        );
        assert_eq!(m.pairs, [(0, 1), (1, 2)]);
        assert_eq!(m.added, [0]);
        assert!(m.reordered().is_empty());
    }

    #[test]
    fn an_edited_item_between_pairs_stays_paired() {
        let old = items(&["a", "b", "c"]);
        let new = vec![
            json!({"id": "x"}),
            old[0].clone(),
            json!({"id": "b2"}),
            old[2].clone(),
        ];
        let m = Matching::new(&old, &new, |_| None, true);
        assert_eq!(m.pairs, [(0, 1), (1, 2), (2, 3)]);
        assert_eq!(m.added, [0]);
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(same(
            &json!({"w": 5, "v": [1]}),
            &json!({"v": [1.0], "w": 5.0})
        ));
        assert!(!same(&json!(5), &json!(50)));
        assert!(!same(&json!(u64::MAX), &json!(i64::MAX)));
    }
}
