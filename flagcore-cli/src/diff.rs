//! `flagcore diff`: the blast radius of a snapshot change (docs/format.md §7.7), printed
//! for people or as JSON, with an optional gate on the share of contexts a flag moves.

use std::path::Path;

use flagcore::diff::{self, ChangeKind, Contexts, DiffError, DiffReport, FlagDiff, Options};

use crate::{parse_now, read, Failure};

/// What `flagcore diff` was asked.
pub(crate) struct Args<'a> {
    pub old: &'a Path,
    pub new: &'a Path,
    pub contexts: Option<&'a Path>,
    pub users: u64,
    /// `--now` as written (checked here, so the report can quote it).
    pub now: Option<&'a str>,
    pub json: bool,
    pub max_changed: Option<f64>,
}

pub(crate) fn run(args: &Args<'_>) -> Result<(), Failure> {
    if args.users == 0 {
        return Err(Failure::Usage("--users must be at least 1".into()));
    }
    let mut options = Options::new();
    if let Some(now) = args.now {
        options = options.now(parse_now(now).map_err(|e| Failure::Usage(format!("--now: {e}")))?);
    }
    // Every input is read before anything is compared: an unreadable one is exit 2.
    let old = read(args.old)?;
    let new = read(args.new)?;
    let listed = match args.contexts {
        Some(path) => {
            let contexts = diff::read_contexts(&read(path)?)
                .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
            if contexts.is_empty() {
                return Err(Failure::Usage(format!(
                    "{}: no contexts in the file",
                    path.display()
                )));
            }
            Some(contexts)
        }
        None => None,
    };
    let contexts = match &listed {
        Some(contexts) => Contexts::Listed(contexts),
        None => Contexts::Synthetic(args.users),
    };
    let report = diff::diff(&old, &new, contexts, &options).map_err(|e| invalid(args, e))?;

    if args.json {
        println!("{}", report.to_json());
    } else {
        print_text(args, &report);
    }

    let mut failures = Vec::new();
    if !report.version_increases() {
        failures.push(format!(
            "{}: version {} is not greater than {}'s {}: a store serving OLD refuses NEW as stale",
            args.new.display(),
            report.new_version,
            args.old.display(),
            report.old_version
        ));
    }
    if let Some(percent) = args.max_changed {
        for flag in report.flags.iter().filter(|f| f.moves_more_than(percent)) {
            failures.push(format!(
                "flag `{}` moves {} of {} contexts ({}), more than --max-changed {percent}%",
                flag.flag,
                flag.changed,
                flag.evaluated,
                share(flag)
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::Check(failures.join("\n")))
    }
}

/// Invalid snapshots as `flagcore validate` reports them: `FILE: PATH: message`.
fn invalid(args: &Args<'_>, error: DiffError) -> Failure {
    match error {
        DiffError::Invalid { old, new } => {
            let mut lines = Vec::new();
            for (path, invalid) in [(args.old, old), (args.new, new)] {
                for error in invalid.iter().flat_map(|i| i.errors()) {
                    lines.push(format!("{}: {error}", path.display()));
                }
            }
            Failure::Check(lines.join("\n"))
        }
        other => Failure::Check(other.to_string()),
    }
}

fn share(flag: &FlagDiff) -> String {
    if flag.evaluated == 0 {
        return "0%".into();
    }
    let percent = flag.changed as f64 * 100.0 / flag.evaluated as f64;
    format!("{}%", trim(format!("{percent:.3}")))
}

/// `44.870` → `44.87`, `100.000` → `100`.
fn trim(number: String) -> String {
    if number.contains('.') {
        number
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    } else {
        number
    }
}

fn print_text(args: &Args<'_>, report: &DiffReport) {
    let contexts = match args.contexts {
        Some(path) => format!("{} contexts from {}", report.contexts, path.display()),
        None => format!(
            "{} synthetic keys (user-0 .. user-{}) without attributes",
            report.contexts,
            report.contexts.saturating_sub(1)
        ),
    };
    let instant = args.now.unwrap_or("the current time");
    println!(
        "version {} -> {}; {contexts}, as of {instant}",
        report.old_version, report.new_version
    );
    let count = |change: ChangeKind| report.flags.iter().filter(|f| f.change == change).count();
    let moving = report.flags.iter().filter(|f| f.changed > 0).count();
    println!(
        "flags: {} added, {} removed, {} changed, {} unchanged; {moving} move contexts",
        count(ChangeKind::Added),
        count(ChangeKind::Removed),
        count(ChangeKind::Changed),
        count(ChangeKind::Unchanged),
    );
    for flag in &report.flags {
        if flag.change == ChangeKind::Unchanged && flag.changed == 0 {
            continue;
        }
        println!();
        println!(
            "{}: {}; {} of {} contexts move ({})",
            flag.flag,
            flag.change,
            flag.changed,
            flag.evaluated,
            share(flag)
        );
        for change in &flag.structural {
            println!("  {}: {}", change.path, change.what);
        }
        for transition in &flag.transitions {
            let name = |variant: &Option<String>, absent: bool| match variant {
                Some(name) => name.clone(),
                None if absent => "(absent)".into(),
                None => "(default)".into(),
            };
            println!(
                "  {} -> {}: {}",
                name(&transition.from, flag.change == ChangeKind::Added),
                name(&transition.to, flag.change == ChangeKind::Removed),
                transition.count
            );
        }
    }
    if !report.segments.is_empty() {
        println!();
        println!(
            "segments of NEW: contexts in each under NEW, and those of them that moved on any flag"
        );
        let width = report
            .segments
            .iter()
            .map(|s| s.segment.len())
            .max()
            .unwrap_or(0);
        for segment in &report.segments {
            println!(
                "  {:<width$}  {:<9}  {:>10} in  {:>10} moved",
                segment.segment, segment.change, segment.contexts, segment.changed
            );
            for change in &segment.structural {
                println!("    {}: {}", change.path, change.what);
            }
        }
    }
    if !report.removed_segments.is_empty() {
        println!();
        println!("segments removed: {}", report.removed_segments.join(", "));
    }
}
