//! `flagcore analyze`: the first, honest read of a flag's experiment from its exposure log
//! and the outcomes of its units (docs/format.md §7.9): per variant the units, mean and 95%
//! interval; per variant against the control Welch's difference, interval and p-value; and
//! a sample-ratio-mismatch check against SNAPSHOT's splits, which exits 3 when the split is
//! broken.
//!
//! `input` streams the two JSON Lines files into one record per unit, `srm` reads the
//! flag's rollouts and runs the chi-square, `stats` holds the t-based statistics, `html`
//! draws the report.

mod html;
mod input;
mod srm;
mod stats;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::Failure;
use html::Timeline;
use input::{Exposures, UNTRACKED};
use srm::{Experiment, Sample, Srm};
use stats::Summary;

/// `flagcore analyze` arguments.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The snapshot whose rollouts served the exposures (its splits and schedule are the
    /// sample-ratio check's expectation).
    snapshot: PathBuf,
    /// Exposures, JSON Lines: one {"time", "flag", "variant", "reason", "rule_index",
    /// "unit", ...} per line, as the exposure file sink writes them.
    exposures: PathBuf,
    /// Outcomes, JSON Lines: one {"unit", "metric", "value", "time"} per line.
    #[arg(long, value_name = "FILE")]
    outcomes: PathBuf,
    /// The flag whose experiment to analyse.
    #[arg(long)]
    flag: String,
    /// The metric to analyse; may be omitted when OUTCOMES holds one metric.
    #[arg(long)]
    metric: Option<String>,
    /// The variant the others are compared with. Default: the flag's off_variant.
    #[arg(long, value_name = "VARIANT")]
    control: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also write a self-contained HTML report with charts to this file.
    #[arg(long, value_name = "REPORT.html")]
    html: Option<PathBuf>,
}

/// How the run ended when it produced a report.
pub(crate) enum Verdict {
    /// The split looks as SNAPSHOT says (or could not be checked).
    Trusted,
    /// The sample-ratio check failed (p < 0.001): the report is printed, the warning is on
    /// stderr, and the exit code is 3.
    SplitBroken,
}

/// The `--json` object, members in the documented order.
#[derive(Serialize)]
pub(crate) struct Report {
    pub flag: String,
    pub metric: String,
    pub control: String,
    pub excluded_units: u64,
    pub variants: Vec<VariantRow>,
    pub comparisons: Vec<ComparisonRow>,
    pub srm: SrmRow,
}

#[derive(Serialize)]
pub(crate) struct VariantRow {
    pub variant: String,
    pub units: u64,
    pub mean: Option<f64>,
    pub ci95: Option<[f64; 2]>,
}

#[derive(Serialize)]
pub(crate) struct ComparisonRow {
    pub variant: String,
    pub control: String,
    pub difference: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub p_value: Option<f64>,
}

#[derive(Serialize)]
pub(crate) struct SrmRow {
    pub chi2: Option<f64>,
    pub p_value: Option<f64>,
    pub expected: BTreeMap<String, f64>,
    pub ok: bool,
}

/// The report and what the text and HTML forms add to it.
pub(crate) struct Analysis {
    pub report: Report,
    pub srm: Srm,
    /// Units analysed (exposed to one variant).
    pub units: u64,
    pub exposure_lines: u64,
    pub snapshot_version: u64,
    variants: Vec<String>,
}

impl Analysis {
    fn variant_index(&self, name: &str) -> Option<usize> {
        self.variants.iter().position(|v| v == name)
    }
}

pub(crate) fn run(args: &Args) -> Result<Verdict, Failure> {
    let store = crate::load(&args.snapshot)?;
    let variants: Vec<String> = store
        .snapshot()
        .variant_names(&args.flag)
        .map(str::to_owned)
        .collect();
    if variants.is_empty() {
        return Err(Failure::Check(format!(
            "{}: no flag named `{}`",
            args.snapshot.display(),
            args.flag
        )));
    }
    let bytes = crate::read(&args.snapshot)?;
    let experiment = Experiment::read(&bytes, &args.flag, variants)
        .map_err(|e| Failure::Check(format!("{}: {e}", args.snapshot.display())))?;
    let control = args
        .control
        .clone()
        .unwrap_or_else(|| experiment.off_variant.clone());
    if experiment.variant_index(&control).is_none() {
        return Err(Failure::Usage(format!(
            "--control: `{control}` is not a variant of flag `{}` (its variants: {})",
            args.flag,
            experiment.variants.join(", ")
        )));
    }
    // Fail on an unreadable OUTCOMES before the long pass over EXPOSURES.
    std::fs::File::open(&args.outcomes)
        .map_err(|e| Failure::Usage(format!("{}: {e}", args.outcomes.display())))?;

    let mut timeline = Timeline::new(experiment.variants.len());
    let mut exposures =
        input::read_exposures(&args.exposures, &args.flag, &experiment, &mut timeline)?;
    if exposures.units.is_empty() {
        return Err(Failure::Check(format!(
            "{}: no exposure of flag `{}`",
            args.exposures.display(),
            args.flag
        )));
    }
    let metric =
        input::read_outcomes(&args.outcomes, args.metric.as_deref(), &mut exposures.units)?;
    let analysis = analyse(&experiment, &exposures, &args.flag, &metric, &control);

    if args.json {
        let json = serde_json::to_string(&analysis.report)
            .map_err(|e| Failure::Usage(format!("writing the report: {e}")))?;
        println!("{json}");
    } else {
        print_text(&analysis);
    }
    if let Some(path) = &args.html {
        let page = html::render(&analysis, &timeline).map_err(Failure::Usage)?;
        std::fs::write(path, page)
            .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    }
    if let Some((low, high)) = exposures.versions {
        if (low, high) != (experiment.version, experiment.version) {
            let served = if low == high {
                format!("version {low}")
            } else {
                format!("versions {low} to {high}")
            };
            eprintln!(
                "note: the exposures were served by snapshot {served}, SNAPSHOT is version {}: \
                 the sample-ratio check expects SNAPSHOT's splits",
                experiment.version
            );
        }
    }
    if exposures.without_unit > 0 {
        eprintln!(
            "note: {} exposure(s) of `{}` have a null unit (no targeting key, no rollout) \
             and are left out",
            exposures.without_unit, args.flag
        );
    }
    if analysis.srm.units == 0 {
        eprintln!("note: no unit's first exposure was a SPLIT, so there is no sample-ratio check");
    }
    if analysis.report.srm.ok {
        return Ok(Verdict::Trusted);
    }
    let srm = &analysis.report.srm;
    eprintln!(
        "\n!! SAMPLE RATIO MISMATCH in flag `{}`: THE SPLIT IS BROKEN.\n\
         !! The units per variant do not match SNAPSHOT's weights (chi-square {}, p = {} < {}).\n\
         !! Some variant lost or gained units (an exposure logging, redirect or eligibility \
         bug):\n!! do not trust the comparison of means.\n",
        args.flag,
        srm.chi2.map_or("-".into(), number),
        srm.p_value.map_or("-".into(), p_value),
        srm::BROKEN_BELOW
    );
    Ok(Verdict::SplitBroken)
}

/// Reduces the units to the report: the control first, then every other variant with
/// units, in the flag's order.
fn analyse(
    experiment: &Experiment,
    exposures: &Exposures,
    flag: &str,
    metric: &str,
    control: &str,
) -> Analysis {
    let units = &exposures.units;
    let k = experiment.variants.len();
    let mut counts = vec![0u64; k];
    let mut split_units = vec![0u64; k];
    // Kept SPLIT units by (first split, splits seen): what sets their expected shares.
    let mut groups: BTreeMap<(u16, u64), u64> = BTreeMap::new();
    let mut excluded = 0u64;
    for unit in units.values() {
        if unit.mixed {
            excluded += 1;
            continue;
        }
        counts[unit.variant as usize] += 1;
        if let Some(first) = unit.first_split {
            split_units[unit.variant as usize] += 1;
            *groups.entry((first, unit.seen)).or_default() += 1;
        }
    }
    let split = |index: u16| exposures.splits[usize::from(index)];
    let sample: Sample = groups
        .into_iter()
        .map(|((first, seen), count)| {
            let all = (seen & UNTRACKED == 0).then(|| {
                (0..63u16)
                    .filter(|i| seen & (1 << i) != 0)
                    .map(split)
                    .collect()
            });
            (split(first), all, count)
        })
        .collect();
    let control_index = experiment.variant_index(control).map_or(0, usize::from);
    let order: Vec<usize> = std::iter::once(control_index)
        .chain((0..k).filter(|&v| v != control_index && counts[v] > 0))
        .collect();
    let summaries: Vec<Summary> = order
        .iter()
        .map(|&v| {
            Summary::of(
                units
                    .values()
                    .filter(move |u| !u.mixed && usize::from(u.variant) == v)
                    .map(|u| u.value),
            )
        })
        .collect();
    let variants = order
        .iter()
        .zip(&summaries)
        .map(|(&v, summary)| VariantRow {
            variant: experiment.variants[v].clone(),
            units: summary.units,
            mean: summary.mean(),
            ci95: summary.ci95().map(|(lo, hi)| [lo, hi]),
        })
        .collect();
    let comparisons = order
        .iter()
        .zip(&summaries)
        .skip(1)
        .map(|(&v, summary)| {
            let c = stats::welch(summary, &summaries[0]);
            ComparisonRow {
                variant: experiment.variants[v].clone(),
                control: control.to_owned(),
                difference: c.difference,
                ci95: c.ci95.map(|(lo, hi)| [lo, hi]),
                p_value: c.p_value,
            }
        })
        .collect();
    let srm = srm::check(experiment, &sample, &split_units);
    let report = Report {
        flag: flag.to_owned(),
        metric: metric.to_owned(),
        control: control.to_owned(),
        excluded_units: excluded,
        variants,
        comparisons,
        srm: SrmRow {
            chi2: srm.chi2,
            p_value: srm.p_value,
            expected: srm
                .rows
                .iter()
                .map(|(v, _, share)| (v.clone(), *share))
                .collect(),
            ok: srm.ok(),
        },
    };
    Analysis {
        report,
        units: counts.iter().sum(),
        srm,
        exposure_lines: exposures.lines,
        snapshot_version: experiment.version,
        variants: experiment.variants.clone(),
    }
}

fn print_text(analysis: &Analysis) {
    let report = &analysis.report;
    println!(
        "flag {}, metric {}, control {}",
        report.flag, report.metric, report.control
    );
    println!(
        "{} units from {} exposures; {} excluded (exposed to more than one variant)",
        analysis.units, analysis.exposure_lines, report.excluded_units
    );
    let width = report
        .variants
        .iter()
        .map(|v| v.variant.len())
        .chain(analysis.srm.rows.iter().map(|r| r.0.len()))
        .max()
        .unwrap_or(0)
        .max(8);
    println!();
    println!(
        "{:<width$}  {:>10}  {:>12}  95% interval",
        "variant", "units", "mean"
    );
    for row in &report.variants {
        println!(
            "{:<width$}  {:>10}  {:>12}  {}",
            row.variant,
            row.units,
            row.mean.map_or("-".into(), number),
            row.ci95.map_or("-".into(), |[lo, hi]| format!(
                "[{}, {}]",
                number(lo),
                number(hi)
            ))
        );
    }
    if !report.comparisons.is_empty() {
        println!();
        println!(
            "{:<width$}  {:>12}  {:<28}  p-value (Welch)",
            format!("vs {}", report.control),
            "difference",
            "95% interval"
        );
        for row in &report.comparisons {
            println!(
                "{:<width$}  {:>12}  {:<28}  {}",
                row.variant,
                row.difference.map_or("-".into(), signed),
                row.ci95.map_or("-".into(), |[lo, hi]| format!(
                    "[{}, {}]",
                    number(lo),
                    number(hi)
                )),
                row.p_value.map_or("-".into(), p_value)
            );
        }
    }
    let srm = &analysis.srm;
    println!();
    if srm.units == 0 {
        println!("sample ratio: no unit's first exposure was a SPLIT; not checked");
        return;
    }
    println!(
        "sample ratio: {} units whose first exposure was a SPLIT, served by {} split(s)",
        srm.units, srm.splits
    );
    println!(
        "{:<width$}  {:>10}  {:>12}  expected share",
        "variant", "observed", "expected"
    );
    for (variant, observed, share) in &srm.rows {
        println!(
            "{:<width$}  {:>10}  {:>12}  {}",
            variant,
            observed,
            number(share * srm.units as f64),
            number(*share)
        );
    }
    if let (Some(chi2), Some(p)) = (srm.chi2, srm.p_value) {
        println!(
            "chi-square {} ({} df), p = {}: {}",
            number(chi2),
            srm.df,
            p_value(p),
            if report.srm.ok {
                "as expected"
            } else {
                "SAMPLE RATIO MISMATCH, the split is broken"
            }
        );
    }
}

/// A figure for people: six significant digits, no exponent for ordinary magnitudes.
pub(crate) fn number(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..=12).contains(&magnitude) {
        return format!("{x:.5e}");
    }
    let decimals = (5 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", number(x))
    } else {
        number(x)
    }
}

/// A p-value for people: four decimals, or an exponent below 0.0001.
pub(crate) fn p_value(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}
