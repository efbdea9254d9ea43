//! `flagcore simulate`: the split a flag produces over synthetic users.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use flagcore::EvaluationContext;

use crate::{attrs, load, Failure};

const BAR_WIDTH: u64 = 40;

pub(crate) fn run(
    file: &Path,
    flag: &str,
    users: u64,
    key_prefix: &str,
    raw_attrs: &[String],
    now: Option<SystemTime>,
) -> Result<(), Failure> {
    if users == 0 {
        return Err(Failure::Usage("--users must be at least 1".into()));
    }
    let owned = attrs::parse(raw_attrs)?;
    let store = load(file)?;
    let snapshot = store.snapshot();
    if snapshot.flag_kind(flag).is_none() {
        return Err(Failure::Check(format!(
            "{}: no flag `{flag}`",
            file.display()
        )));
    }
    let attributes = attrs::borrow(&owned);
    // One instant for every user, so a schedule step cannot begin halfway through.
    let now = now.unwrap_or_else(SystemTime::now);
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut key = String::new();
    for i in 0..users {
        key.clear();
        key.push_str(key_prefix);
        key.push_str(&i.to_string());
        let ctx = EvaluationContext::new(&key)
            .with_attributes(&attributes)
            .at(now);
        let e = snapshot.explain(flag, &ctx);
        let variant = e.variant.unwrap_or_else(|| "(default)".to_owned());
        *counts
            .entry((variant, e.reason.as_str().to_owned()))
            .or_default() += 1;
    }
    println!(
        "{flag}: {users} users ({key_prefix}0 .. {key_prefix}{})",
        users - 1
    );
    println!(
        "{:<24} {:<20} {:>10} {:>9}",
        "variant", "reason", "users", "share"
    );
    for ((variant, reason), n) in &counts {
        let share = *n as f64 * 100.0 / users as f64;
        println!("{variant:<24} {reason:<20} {n:>10} {share:>8.3}%");
    }
    println!();
    let mut per_variant: BTreeMap<&str, u64> = BTreeMap::new();
    for ((variant, _), n) in &counts {
        *per_variant.entry(variant).or_default() += n;
    }
    for (variant, n) in per_variant {
        let width = (n * BAR_WIDTH).div_ceil(users) as usize;
        println!("{variant:<24} {}", "#".repeat(width));
    }
    Ok(())
}
