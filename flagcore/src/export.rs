//! Metrics export in the Prometheus text exposition format (version 0.0.4).
//!
//! Counting happens on the evaluation path, in the plan's atomics, without allocating.
//! Everything here runs when a monitoring system scrapes, never while evaluating.

use std::fmt::Write;
use std::sync::{Mutex, PoisonError};
use std::time::UNIX_EPOCH;

use crate::metrics::Metrics;
use crate::store::Store;

impl Metrics {
    /// Adds `other`'s counts to these (to keep running totals of
    /// [`take_metrics`](Store::take_metrics) deltas).
    pub fn merge(&mut self, other: &Metrics) {
        for (flag, counts) in &other.flags {
            let entry = self.flags.entry(flag.clone()).or_default();
            entry.defaults += counts.defaults;
            for (variant, n) in &counts.variants {
                *entry.variants.entry(variant.clone()).or_default() += n;
            }
        }
    }

    /// These counts in the Prometheus text format: `flagcore_evaluations_total{flag,variant}`
    /// and `flagcore_evaluation_defaults_total{flag}` (the caller's default served: type
    /// mismatch, missing bucketing key), both counters.
    ///
    /// Prometheus counters only grow, and [`take_metrics`](Store::take_metrics) returns the
    /// counts *since the last call*: render running totals (kept with
    /// [`merge`](Metrics::merge), or by a [`MetricsExporter`], which does it for you).
    ///
    /// ```
    /// use flagcore::{EvaluationContext, Metrics, Store};
    ///
    /// let store = Store::from_bytes(br#"{"version": 1, "flags": {"f": {
    ///     "variants": {"on": true, "off": false}, "enabled": true,
    ///     "off_variant": "off", "fallthrough": {"variant": "on"}}}}"#)?;
    /// store.bool("f", &EvaluationContext::new("u1"), false);
    /// store.bool("f", &EvaluationContext::new("u2"), false);
    ///
    /// let mut totals = Metrics::default();
    /// totals.merge(&store.take_metrics());
    /// assert!(totals.to_prometheus().contains(r#"flagcore_evaluations_total{flag="f",variant="on"} 2"#));
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        self.write_prometheus(&mut out);
        out
    }

    fn write_prometheus(&self, out: &mut String) {
        out.push_str(
            "# HELP flagcore_evaluations_total Flag evaluations, by flag and the variant served.\n",
        );
        out.push_str("# TYPE flagcore_evaluations_total counter\n");
        for (flag, counts) in &self.flags {
            let flag = escape_label(flag);
            for (variant, n) in &counts.variants {
                let _ = writeln!(
                    out,
                    "flagcore_evaluations_total{{flag=\"{flag}\",variant=\"{}\"}} {n}",
                    escape_label(variant)
                );
            }
        }
        out.push_str("# HELP flagcore_evaluation_defaults_total Flag evaluations that served the caller's default (an error).\n");
        out.push_str("# TYPE flagcore_evaluation_defaults_total counter\n");
        for (flag, counts) in &self.flags {
            if counts.defaults > 0 {
                let _ = writeln!(
                    out,
                    "flagcore_evaluation_defaults_total{{flag=\"{}\"}} {}",
                    escape_label(flag),
                    counts.defaults
                );
            }
        }
    }
}

/// Serves a store's metrics to a Prometheus scraper: keeps running totals of the
/// evaluation counts, and adds the runtime kills in force and the serving version.
///
/// It takes the counts with [`Store::take_metrics`], so let it be the only taker.
/// Append `source::statuses_to_prometheus`
/// (features `file`/`http`) for the sources' reloads and failures.
///
/// ```
/// use flagcore::{EvaluationContext, MetricsExporter, Store};
///
/// let store = Store::from_bytes(br#"{"version": 7, "flags": {"f": {
///     "variants": {"on": true, "off": false}, "enabled": true,
///     "off_variant": "off", "fallthrough": {"variant": "on"}}}}"#)?;
/// let exporter = MetricsExporter::new();
/// store.bool("f", &EvaluationContext::new("u1"), false);
/// exporter.scrape(&store);
/// store.kill("f", "incident 7");
/// store.bool("f", &EvaluationContext::new("u1"), false);
///
/// let page = exporter.scrape(&store); // serve this at /metrics
/// assert!(page.contains(r#"flagcore_evaluations_total{flag="f",variant="on"} 1"#));
/// assert!(page.contains(r#"flagcore_evaluations_total{flag="f",variant="off"} 1"#));
/// assert!(page.contains("flagcore_kills_active 1\n"));
/// assert!(page.contains("flagcore_snapshot_version 7\n"));
/// # Ok::<(), flagcore::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct MetricsExporter {
    totals: Mutex<Metrics>,
}

impl MetricsExporter {
    /// An exporter with every total at zero.
    pub fn new() -> MetricsExporter {
        MetricsExporter::default()
    }

    /// Takes `store`'s new counts into the running totals and renders the page: evaluation
    /// counters, `flagcore_kills_active`, `flagcore_kill_timestamp_seconds{flag}` per kill,
    /// the guardrails' trips, ignored observations, state and evidence
    /// (`flagcore_guardrail_*`), exposure tracking (`flagcore_exposures_*_total`), and
    /// `flagcore_snapshot_version` (absent before the first snapshot).
    pub fn scrape(&self, store: &Store) -> String {
        let taken = store.take_metrics();
        let mut out = String::new();
        {
            let mut totals = self.totals.lock().unwrap_or_else(PoisonError::into_inner);
            totals.merge(&taken);
            totals.write_prometheus(&mut out);
        }
        let kills = store.kills();
        out.push_str("# HELP flagcore_kills_active Runtime kills in force.\n");
        out.push_str("# TYPE flagcore_kills_active gauge\n");
        let _ = writeln!(out, "flagcore_kills_active {}", kills.len());
        out.push_str(
            "# HELP flagcore_kill_timestamp_seconds When each runtime kill in force was made.\n",
        );
        out.push_str("# TYPE flagcore_kill_timestamp_seconds gauge\n");
        for kill in &kills {
            let seconds = kill
                .at
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let _ = writeln!(
                out,
                "flagcore_kill_timestamp_seconds{{flag=\"{}\"}} {seconds:.3}",
                escape_label(&kill.flag)
            );
        }
        write_guardrails(store, &mut out);
        write_exposures(store, &mut out);
        out.push_str("# HELP flagcore_snapshot_version The serving snapshot's version.\n");
        out.push_str("# TYPE flagcore_snapshot_version gauge\n");
        if let Some(version) = store.version() {
            let _ = writeln!(out, "flagcore_snapshot_version {version}");
        }
        out
    }

    /// The running evaluation totals so far.
    pub fn totals(&self) -> Metrics {
        self.totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Exposure tracking: accepted, delivered, deduplicated and dropped exposures.
fn write_exposures(store: &Store, out: &mut String) {
    let stats = store.exposure_stats();
    for (name, help, value) in [
        (
            "accepted",
            "Exposures taken from the queue.",
            stats.accepted,
        ),
        (
            "delivered",
            "Exposures handed to the sink.",
            stats.delivered,
        ),
        (
            "deduplicated",
            "Repeats of one unit, flag and variant within the window, not delivered.",
            stats.deduplicated,
        ),
        (
            "dropped",
            "Exposures lost because the queue was full or tracking had stopped.",
            stats.dropped,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP flagcore_exposures_{name}_total {help}\n# TYPE flagcore_exposures_{name}_total counter\nflagcore_exposures_{name}_total {value}"
        );
    }
}

/// Guardrail trips, ignored observations, and each guardrail's state and evidence.
fn write_guardrails(store: &Store, out: &mut String) {
    out.push_str(
        "# HELP flagcore_guardrail_trips_total Guardrails that tripped and killed their flag.\n",
    );
    out.push_str("# TYPE flagcore_guardrail_trips_total counter\n");
    let _ = writeln!(
        out,
        "flagcore_guardrail_trips_total {}",
        store.guardrail_trips()
    );
    out.push_str("# HELP flagcore_guardrail_observations_ignored_total Observations of an unknown flag or variant.\n");
    out.push_str("# TYPE flagcore_guardrail_observations_ignored_total counter\n");
    let _ = writeln!(
        out,
        "flagcore_guardrail_observations_ignored_total {}",
        store.observations_ignored()
    );
    let guardrails = store.guardrails();
    out.push_str("# HELP flagcore_guardrail_tripped Whether a guardrail has tripped since its flag was last revived.\n");
    out.push_str("# TYPE flagcore_guardrail_tripped gauge\n");
    for g in &guardrails {
        let _ = writeln!(
            out,
            "flagcore_guardrail_tripped{{flag=\"{}\",guardrail=\"{}\"}} {}",
            escape_label(&g.flag),
            escape_label(&g.id),
            u8::from(g.tripped)
        );
    }
    for (name, help, events) in [
        (
            "flagcore_guardrail_observations_total",
            "Observations a guardrail counts, by variant (reset by a revive).",
            false,
        ),
        (
            "flagcore_guardrail_errors_total",
            "Of them, errors (or requests above a latency bound), by variant.",
            true,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for g in &guardrails {
            for (variant, counts) in g.watched.iter().chain(&g.baseline) {
                let value = if events {
                    counts.events
                } else {
                    counts.observations
                };
                let _ = writeln!(
                    out,
                    "{name}{{flag=\"{}\",guardrail=\"{}\",variant=\"{}\"}} {value}",
                    escape_label(&g.flag),
                    escape_label(&g.id),
                    escape_label(variant)
                );
            }
        }
    }
}

/// A label value as the text format wants it: backslash, double quote and line feed
/// escaped.
pub(crate) fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn defaults_and_variants_render_as_separate_counters() {
        let store = Store::from_bytes(
            br#"{"version": 1, "flags": {"f\"q": {
            "variants": {"on": true, "off": false}, "enabled": true,
            "off_variant": "off", "fallthrough": {"variant": "on"}}}}"#,
        )
        .unwrap();
        let ctx = crate::EvaluationContext::new("u");
        store.bool("f\"q", &ctx, false);
        store.int("f\"q", &ctx, 0); // type mismatch: the caller's default
        let exporter = MetricsExporter::new();
        let page = exporter.scrape(&store);
        assert!(page.contains("flagcore_evaluations_total{flag=\"f\\\"q\",variant=\"on\"} 1\n"));
        assert!(page.contains("flagcore_evaluation_defaults_total{flag=\"f\\\"q\"} 1\n"));
        assert!(page.contains("flagcore_kills_active 0\n"));
        // Counters keep growing across scrapes.
        store.bool("f\"q", &ctx, false);
        let page = exporter.scrape(&store);
        assert!(page.contains("flagcore_evaluations_total{flag=\"f\\\"q\",variant=\"on\"} 2\n"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in page.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
