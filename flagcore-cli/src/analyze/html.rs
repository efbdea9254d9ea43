//! `flagcore analyze --html`: one self-contained page (no script, no external resource)
//! with the results' tables and two charts drawn by plotters as inline SVG: each variant's
//! mean with its 95% interval, and the exposures per variant over time.

use std::collections::BTreeMap;
use std::fmt::Write;

use plotters::prelude::*;

use super::{number, p_value, Analysis};
use crate::html::escape;

/// The timeline keeps at most this many bins, doubling their width when it has more, so
/// its memory is bounded whatever the span of the exposures.
const MAX_BINS: usize = 4096;
/// The chart shows at most this many points per variant.
const CHART_BINS: i64 = 120;
const SECOND: i64 = 1_000_000_000;

/// Exposures per variant over time, in bins of `width` ns aligned on the Unix epoch.
pub(crate) struct Timeline {
    width: i64,
    variants: usize,
    bins: BTreeMap<i64, Vec<u64>>,
}

impl Timeline {
    pub(crate) fn new(variants: usize) -> Timeline {
        Timeline {
            width: SECOND,
            variants,
            bins: BTreeMap::new(),
        }
    }

    pub(crate) fn add(&mut self, time: i64, variant: u16) {
        let variants = self.variants;
        let bin = self
            .bins
            .entry(time.div_euclid(self.width))
            .or_insert_with(|| vec![0; variants]);
        bin[variant as usize] += 1;
        if self.bins.len() > MAX_BINS {
            self.coarsen(MAX_BINS / 2);
        }
    }

    /// Doubles the bin width until at most `limit` bins are left.
    fn coarsen(&mut self, limit: usize) {
        while self.bins.len() > limit {
            self.width = self.width.saturating_mul(2);
            let mut merged: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
            for (index, counts) in std::mem::take(&mut self.bins) {
                let bin = merged
                    .entry(index.div_euclid(2))
                    .or_insert_with(|| vec![0; counts.len()]);
                for (sum, count) in bin.iter_mut().zip(counts) {
                    *sum += count;
                }
            }
            self.bins = merged;
        }
    }

    /// The bins for the chart: at most `CHART_BINS` over the span, empty ones included,
    /// as (start in ns, counts per variant), and their width in ns.
    fn for_chart(&self) -> (i64, Vec<(i64, Vec<u64>)>) {
        let (Some(&first), Some(&last)) = (self.bins.keys().next(), self.bins.keys().next_back())
        else {
            return (self.width, Vec::new());
        };
        // Merge 2^k of the kept bins into one, the smallest k that leaves few enough.
        let mut factor = 1i64;
        while (last.div_euclid(factor) - first.div_euclid(factor)) >= CHART_BINS {
            factor *= 2;
        }
        let mut merged: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
        for (index, counts) in &self.bins {
            let bin = merged
                .entry(index.div_euclid(factor))
                .or_insert_with(|| vec![0; self.variants]);
            for (sum, count) in bin.iter_mut().zip(counts) {
                *sum += count;
            }
        }
        let width = self.width.saturating_mul(factor);
        let bins = (first.div_euclid(factor)..=last.div_euclid(factor))
            .map(|index| {
                let counts = merged
                    .remove(&index)
                    .unwrap_or_else(|| vec![0; self.variants]);
                (index.saturating_mul(width), counts)
            })
            .collect();
        (width, bins)
    }
}

/// Colours per variant, in the report's order (the control first).
const COLOURS: [RGBColor; 8] = [
    RGBColor(96, 96, 96),
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
];

fn colour(position: usize) -> RGBColor {
    COLOURS[position % COLOURS.len()]
}

/// The whole page.
pub(crate) fn render(analysis: &Analysis, timeline: &Timeline) -> Result<String, String> {
    let report = &analysis.report;
    let means = means_chart(analysis)?;
    let exposures = exposures_chart(analysis, timeline)?;
    let mut page = String::new();
    let title = format!(
        "flagcore analyze: {} / {}",
        escape(&report.flag),
        escape(&report.metric)
    );
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Flag <code>{}</code>, metric <code>{}</code></h1>\n",
        escape(&report.flag),
        escape(&report.metric)
    );
    let _ = writeln!(
        page,
        "<p class=\"meta\">{} units analysed from {} exposures; {} excluded (exposed to more \
         than one variant). Control: <code>{}</code>. Snapshot version {}.</p>",
        analysis.units,
        analysis.exposure_lines,
        report.excluded_units,
        escape(&report.control),
        analysis.snapshot_version
    );
    let srm = &report.srm;
    let verdict = match (srm.p_value, srm.ok) {
        (None, _) => "<div id=\"srm-verdict\" class=\"banner\">No unit's first exposure was a \
                      SPLIT: no sample-ratio check.</div>"
            .to_owned(),
        (Some(p), true) => format!(
            "<div id=\"srm-verdict\" class=\"banner ok\">Sample ratio as expected \
             (chi-square p = {}).</div>",
            p_value(p)
        ),
        (Some(p), false) => format!(
            "<div id=\"srm-verdict\" class=\"banner bad\">SAMPLE RATIO MISMATCH \
             (chi-square p = {}): the split is broken. Do not trust the comparison below.</div>",
            p_value(p)
        ),
    };
    page.push_str(&verdict);
    page.push('\n');

    page.push_str("<h2>Mean per variant, with 95% intervals</h2>\n");
    let _ = writeln!(page, "<figure id=\"means-chart\">{means}</figure>");
    page.push_str(
        "<table id=\"variants\"><tr><th>variant</th><th>units</th><th>mean</th>\
         <th>95% interval</th></tr>\n",
    );
    for row in &report.variants {
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.variant),
            row.units,
            optional(row.mean),
            interval(row.ci95)
        );
    }
    page.push_str("</table>\n");

    page.push_str("<h2>Against the control (Welch)</h2>\n");
    page.push_str(
        "<table id=\"comparisons\"><tr><th>variant</th><th>control</th><th>difference</th>\
         <th>95% interval</th><th>p-value</th></tr>\n",
    );
    for row in &report.comparisons {
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            escape(&row.variant),
            escape(&row.control),
            optional(row.difference),
            interval(row.ci95),
            row.p_value.map_or("–".to_owned(), p_value)
        );
    }
    page.push_str("</table>\n");

    page.push_str("<h2>Sample ratio</h2>\n");
    let _ = writeln!(
        page,
        "<p>{} units whose first exposure was a SPLIT, served by {} split(s) (rollouts and \
         schedule steps); expected counts from SNAPSHOT's weights.</p>",
        analysis.srm.units, analysis.srm.splits
    );
    page.push_str(
        "<table id=\"srm\"><tr><th>variant</th><th>observed</th><th>expected</th>\
         <th>expected share</th></tr>\n",
    );
    for (variant, observed, share) in &analysis.srm.rows {
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code></td><td>{observed}</td><td>{}</td><td>{}</td></tr>",
            escape(variant),
            number(share * analysis.srm.units as f64),
            number(*share)
        );
    }
    page.push_str("</table>\n");
    if let (Some(chi2), Some(p)) = (srm.chi2, srm.p_value) {
        let _ = writeln!(
            page,
            "<p>chi-square {} with {} degree(s) of freedom, p = {}.</p>",
            number(chi2),
            analysis.srm.df,
            p_value(p)
        );
    }

    page.push_str("<h2>Exposures over time</h2>\n");
    let _ = writeln!(
        page,
        "<figure id=\"exposures-chart\">{}<figcaption>{}</figcaption></figure>",
        exposures.0, exposures.1
    );
    page.push_str(
        "<footer>Written by <code>flagcore analyze</code>; docs/format.md §7.9 says how \
         each figure is computed.</footer>\n</body>\n</html>\n",
    );
    Ok(page)
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em auto;max-width:60em;color:#222}\
code{font-size:95%}table{border-collapse:collapse;margin:1em 0}\
th,td{border:1px solid #ccc;padding:.3em .7em;text-align:right}\
th:first-child,td:first-child{text-align:left}\
.meta{color:#555}.banner{padding:.8em 1em;border-radius:4px;background:#eee;font-weight:bold}\
.ok{background:#e3f4e3;color:#1d5e1d}.bad{background:#fbe3e3;color:#8a1111;font-size:120%}\
figure{margin:1em 0}figcaption{color:#555;font-size:90%}figure svg{max-width:100%;height:auto}footer{margin-top:3em;color:#777}";

/// Each variant's mean and interval, with the control's mean as a grey reference line.
fn means_chart(analysis: &Analysis) -> Result<String, String> {
    let rows = &analysis.report.variants;
    let mut low = f64::INFINITY;
    let mut high = f64::NEG_INFINITY;
    for row in rows {
        let (lo, hi) = row
            .ci95
            .map(|[lo, hi]| (lo, hi))
            .or(row.mean.map(|m| (m, m)))
            .unwrap_or((f64::NAN, f64::NAN));
        if lo.is_finite() && hi.is_finite() {
            low = low.min(lo);
            high = high.max(hi);
        }
    }
    if !low.is_finite() {
        (low, high) = (0.0, 1.0);
    }
    let pad = ((high - low) * 0.15).max(high.abs().max(1.0) * 1e-6);
    let (low, high) = (low - pad, high + pad);
    let columns = rows.len() as i32;
    let names: Vec<String> = rows.iter().map(|r| r.variant.clone()).collect();
    let label = |x: &i32| {
        usize::try_from(*x)
            .ok()
            .and_then(|i| names.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(draw)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(-1..columns, low..high)
            .map_err(draw)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels((columns + 2) as usize)
            .x_label_formatter(&label)
            .y_desc(format!("mean {} per unit", analysis.report.metric))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(draw)?;
        if let Some(control) = rows.first().and_then(|r| r.mean) {
            chart
                .draw_series(LineSeries::new(
                    [(-1, control), (columns, control)],
                    RGBColor(170, 170, 170),
                ))
                .map_err(draw)?;
        }
        for (position, row) in rows.iter().enumerate() {
            let Some(mean) = row.mean else { continue };
            let style = colour(position).stroke_width(2);
            let x = position as i32;
            if let Some([lo, hi]) = row.ci95 {
                chart
                    .draw_series(std::iter::once(ErrorBar::new_vertical(
                        x, lo, mean, hi, style, 18,
                    )))
                    .map_err(draw)?;
            }
            chart
                .draw_series(std::iter::once(Circle::new(
                    (x, mean),
                    5,
                    colour(position).filled(),
                )))
                .map_err(draw)?;
        }
        root.present().map_err(draw)?;
    }
    Ok(svg)
}

/// Exposure lines per variant per bin, and the chart's caption.
fn exposures_chart(analysis: &Analysis, timeline: &Timeline) -> Result<(String, String), String> {
    let (width, bins) = timeline.for_chart();
    let seconds = |ns: i64| ns.div_euclid(SECOND);
    let (start, end) = match (bins.first(), bins.last()) {
        (Some(first), Some(last)) => (
            seconds(first.0),
            seconds(last.0 + width).max(seconds(first.0) + 1),
        ),
        _ => (0, 1),
    };
    // Bins are 2^k seconds wide, an awkward unit to read, so the chart shows each bin's
    // count as a rate per second, minute, hour or day.
    let (per, unit) = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ]
    .into_iter()
    .find(|(s, _)| width >= s * SECOND)
    .unwrap_or((1, "second"));
    let rate = |count: u64| count as f64 * (per * SECOND) as f64 / width as f64;
    let peak = bins
        .iter()
        .flat_map(|(_, counts)| counts.iter().map(|&c| rate(c)))
        .fold(0.0f64, f64::max)
        .max(1.0);
    let short = end - start < 600;
    let label = |s: &i64| utc(*s, short);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(draw)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(start..end, 0.0..peak * 1.1)
            .map_err(draw)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .x_label_formatter(&label)
            .x_desc("time (UTC)")
            .y_desc(format!("exposures per {unit}"))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(draw)?;
        for (position, row) in analysis.report.variants.iter().enumerate() {
            let Some(index) = analysis.variant_index(&row.variant) else {
                continue;
            };
            let points = bins
                .iter()
                .map(|(t, counts)| (seconds(*t + width / 2), rate(counts[index])));
            chart
                .draw_series(LineSeries::new(points, colour(position).stroke_width(2)))
                .map_err(draw)?
                .label(row.variant.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour(position).stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(draw)?;
        root.present().map_err(draw)?;
    }
    let caption = format!(
        "Exposures of each variant (every exposure line, not only first ones), as a rate per \
         {unit} over bins of {} s.",
        width / SECOND
    );
    Ok((svg, caption))
}

fn draw<E: std::fmt::Display>(error: E) -> String {
    format!("drawing the chart: {error}")
}

/// `2026-12-02 06:00` (UTC) for Unix seconds; the time with seconds when `short`.
fn utc(seconds: i64, short: bool) -> String {
    let since = std::time::Duration::from_secs(seconds.unsigned_abs());
    let time = if seconds < 0 {
        std::time::UNIX_EPOCH - since
    } else {
        std::time::UNIX_EPOCH + since
    };
    // `2026-12-02T06:40:00.000Z`
    let text = flagcore::format_rfc3339(time);
    if short {
        text[11..19].to_owned()
    } else {
        format!("{} {}", &text[..10], &text[11..16])
    }
}

fn optional(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), number)
}

fn interval(ci: Option<[f64; 2]>) -> String {
    ci.map_or("–".to_owned(), |[lo, hi]| {
        format!("[{}, {}]", number(lo), number(hi))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_civil_dates() {
        assert_eq!(utc(0, false), "1970-01-01 00:00");
        assert_eq!(utc(1_796_193_600, false), "2026-12-02 06:40");
        assert_eq!(utc(951_782_400, false), "2000-02-29 00:00");
        assert_eq!(utc(-1, true), "23:59:59");
    }

    #[test]
    fn timeline_stays_bounded_and_keeps_every_exposure() {
        let mut timeline = Timeline::new(2);
        for i in 0..100_000i64 {
            timeline.add(i * 37 * SECOND, (i % 2) as u16);
        }
        assert!(timeline.bins.len() <= MAX_BINS);
        let total: u64 = timeline.bins.values().flatten().sum();
        assert_eq!(total, 100_000);
        let (width, bins) = timeline.for_chart();
        assert!(bins.len() as i64 <= CHART_BINS, "{}", bins.len());
        assert!(bins.windows(2).all(|w| w[1].0 - w[0].0 == width));
        assert_eq!(bins.iter().flat_map(|b| &b.1).sum::<u64>(), 100_000);
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
