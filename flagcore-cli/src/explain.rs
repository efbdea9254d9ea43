//! `flagcore explain`: one evaluation, and the path it took.

use std::path::Path;
use std::time::SystemTime;

use flagcore::EvaluationContext;
use serde_json::json;

use crate::{attrs, load, Failure};

pub(crate) fn run(
    file: &Path,
    flag: &str,
    key: Option<&str>,
    raw_attrs: &[String],
    as_json: bool,
    now: Option<SystemTime>,
) -> Result<(), Failure> {
    let owned = attrs::parse(raw_attrs)?;
    let store = load(file)?;
    let attributes = attrs::borrow(&owned);
    let mut ctx = match key {
        Some(key) => EvaluationContext::new(key),
        None => EvaluationContext::anonymous(),
    }
    .with_attributes(&attributes);
    if let Some(now) = now {
        ctx = ctx.at(now);
    }
    let snapshot = store.snapshot();
    if snapshot.flag_kind(flag).is_none() {
        eprintln!("flagcore: {}: no flag named `{flag}`", file.display());
    }
    let e = snapshot.explain(flag, &ctx);
    if as_json {
        println!("{}", to_json(&e));
        return Ok(());
    }
    println!("flag:     {}", e.flag);
    println!("value:    {}", e.value);
    println!(
        "variant:  {}",
        e.variant
            .as_deref()
            .unwrap_or("(none: the caller's default)")
    );
    match e.error_code {
        Some(code) => println!("reason:   {} ({code})", e.reason),
        None => println!("reason:   {}", e.reason),
    }
    if let Some(i) = e.rule_index {
        match &e.rule_id {
            Some(id) => println!("rule:     {i} ({id})"),
            None => println!("rule:     {i}"),
        }
    }
    if e.target {
        println!("target:   the targeting key is listed");
    }
    if let Some(bucket) = e.bucket {
        println!(
            "bucket:   {bucket} of 100000 ({:.3}%)",
            f64::from(bucket) / 1000.0
        );
    }
    if let Some(step) = e.step {
        println!("step:     {step} (of the rollout's schedule)");
    }
    println!("path:");
    for step in &e.steps {
        println!("  {step}");
    }
    println!("  => {}", conclusion(&e));
    Ok(())
}

/// The `explain --json` object: exactly the fields docs/format.md §7 lists.
pub(crate) fn to_json(e: &flagcore::Explanation) -> serde_json::Value {
    json!({
        "flag": e.flag,
        "value": e.value,
        "variant": e.variant,
        "reason": e.reason.as_str(),
        "error_code": e.error_code.map(|c| c.as_str()),
        "rule_index": e.rule_index,
        "rule_id": e.rule_id,
        "target": e.target,
        "bucket": e.bucket,
        "step": e.step,
    })
}

fn conclusion(e: &flagcore::Explanation) -> String {
    use flagcore::Reason;
    let variant = e.variant.as_deref().unwrap_or("-");
    if e.variant.is_none() && e.reason != Reason::Error {
        return format!("{}: the caller's default is served", e.reason);
    }
    match e.reason {
        Reason::Static => format!("no targets or rules: fallthrough variant {variant}"),
        Reason::Default => format!("no target or rule matched: fallthrough variant {variant}"),
        Reason::TargetingMatch if e.target => format!("target match: variant {variant}"),
        Reason::TargetingMatch => format!("rule match: variant {variant}"),
        Reason::Split => format!("rollout: variant {variant}"),
        Reason::Disabled => format!("disabled: off_variant {variant}"),
        Reason::PrerequisiteFailed => format!("a prerequisite failed: off_variant {variant}"),
        Reason::Error => "error: the caller's default is served".to_owned(),
    }
}
