//! Reading the two JSON Lines inputs of `flagcore analyze` (docs/format.md §7.9) as
//! streams: memory grows with the units exposed, never with the lines. Every line is
//! checked; the first malformed one stops the run with its line number.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::Path;
use std::time::UNIX_EPOCH;

use indicatif::{ProgressBar, ProgressStyle};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::html::Timeline;
use super::srm::{Experiment, Served};
use crate::Failure;

/// What one unit (the experiment's randomisation unit) did, kept from its first exposure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit {
    /// The instant of its first (earliest) exposure, ns since the Unix epoch.
    pub first: i64,
    /// The variant of that exposure (an index into `Experiment::variants`).
    pub variant: u16,
    /// Exposed to more than one variant: left out of the analysis.
    pub mixed: bool,
    /// The split that served the first exposure, when it was a SPLIT: an index into
    /// `Exposures::splits`.
    pub first_split: Option<u16>,
    /// The splits that served any of its exposures, one bit per index below 63, and
    /// [`UNTRACKED`] for an exposure that was not a SPLIT or a split beyond those.
    pub seen: u64,
    /// The sum of the metric's outcome values at or after `first`.
    pub value: f64,
}

/// See [`Unit::seen`].
pub(crate) const UNTRACKED: u64 = 1 << 63;

/// The units exposed to the flag, by unit.
pub(crate) type Units = HashMap<Box<str>, Unit>;

/// The flag's exposures, reduced to units.
pub(crate) struct Exposures {
    pub units: Units,
    /// The flag's exposure lines.
    pub lines: u64,
    /// The distinct splits (rollout and step) that served SPLIT exposures.
    pub splits: Vec<Served>,
    /// The smallest and largest snapshot `version` among them.
    pub versions: Option<(u64, u64)>,
    /// Exposure lines whose unit is null (no targeting key and no rollout): they cannot
    /// be joined with outcomes, so they are counted and left out.
    pub without_unit: u64,
}

/// One line of EXPOSURES. Fields the analysis does not need (`key`, `rule_id`, `bucket`,
/// `step`) and unknown ones are not read: the sink may add fields.
#[derive(Deserialize)]
struct ExposureLine<'a> {
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    flag: Cow<'a, str>,
    #[serde(borrow)]
    variant: Cow<'a, str>,
    #[serde(borrow)]
    reason: Cow<'a, str>,
    rule_index: RuleIndex,
    #[serde(borrow)]
    unit: UnitId<'a>,
    #[serde(default)]
    version: Option<u64>,
}

/// One line of OUTCOMES.
#[derive(Deserialize)]
struct OutcomeLine<'a> {
    #[serde(borrow)]
    unit: UnitId<'a>,
    #[serde(borrow)]
    metric: Cow<'a, str>,
    value: f64,
    #[serde(borrow)]
    time: Cow<'a, str>,
}

/// Reads EXPOSURES: each unit's first exposure of `experiment`'s flag, whether it saw
/// more than one variant, and the exposures per variant over time into `timeline`.
pub(crate) fn read_exposures(
    path: &Path,
    flag: &str,
    experiment: &Experiment,
    timeline: &mut Timeline,
) -> Result<Exposures, Failure> {
    let mut exposures = Exposures {
        units: HashMap::new(),
        lines: 0,
        splits: Vec::new(),
        versions: None,
        without_unit: 0,
    };
    let mut number = String::new();
    each_line(path, "exposures", |bytes| {
        let line: ExposureLine = serde_json::from_slice(bytes).map_err(malformed)?;
        if line.flag != flag {
            return Ok(());
        }
        let time = instant(&line.time, "time")?;
        let variant = experiment.variant_index(&line.variant).ok_or_else(|| {
            Failure::Check(format!(
                "variant `{}` is not a variant of flag `{flag}` in SNAPSHOT",
                line.variant
            ))
        })?;
        let split = if line.reason == "SPLIT" {
            let served = experiment
                .served(line.rule_index.0, time, variant)
                .map_err(Failure::Check)?;
            let index = match exposures.splits.iter().position(|s| *s == served) {
                Some(index) => index,
                None => {
                    exposures.splits.push(served);
                    exposures.splits.len() - 1
                }
            };
            u16::try_from(index).ok()
        } else {
            None
        };
        let bit = match split {
            Some(index) if index < 63 => 1u64 << index,
            _ => UNTRACKED,
        };
        exposures.lines += 1;
        if let Some(version) = line.version {
            let (low, high) = exposures.versions.unwrap_or((version, version));
            exposures.versions = Some((low.min(version), high.max(version)));
        }
        timeline.add(time, variant);
        let Some(key) = line.unit.as_str(&mut number) else {
            exposures.without_unit += 1;
            return Ok(());
        };
        match exposures.units.get_mut(key) {
            Some(unit) => {
                unit.mixed |= unit.variant != variant;
                unit.seen |= bit;
                // "First" is the earliest time; of two at the same instant, the first read.
                if time < unit.first {
                    unit.first = time;
                    unit.variant = variant;
                    unit.first_split = split;
                }
            }
            None => {
                let unit = Unit {
                    first: time,
                    variant,
                    mixed: false,
                    first_split: split,
                    seen: bit,
                    value: 0.0,
                };
                exposures.units.insert(key.into(), unit);
            }
        }
        Ok(())
    })?;
    Ok(exposures)
}

/// Reads OUTCOMES: adds each outcome of the metric to its unit when it happened at or
/// after the unit's first exposure. Without `metric`, OUTCOMES must hold one metric.
/// Returns the metric.
pub(crate) fn read_outcomes(
    path: &Path,
    metric: Option<&str>,
    units: &mut Units,
) -> Result<String, Failure> {
    let mut chosen: Option<(String, u64)> = metric.map(|m| (m.to_owned(), 0));
    let mut others: Vec<String> = Vec::new();
    let mut number = String::new();
    each_line(path, "outcomes", |bytes| {
        let line: OutcomeLine = serde_json::from_slice(bytes).map_err(malformed)?;
        let time = instant(&line.time, "time")?;
        match &mut chosen {
            None => chosen = Some((line.metric.clone().into_owned(), 0)),
            Some((name, _)) if *name == line.metric => {}
            Some((name, _)) if metric.is_none() => {
                return Err(Failure::Usage(format!(
                    "a second metric, `{}` after `{name}`: OUTCOMES holds more than one, \
                     so name one with --metric",
                    line.metric
                )))
            }
            Some(_) => {
                if others.len() < 10 && !others.iter().any(|o| *o == line.metric) {
                    others.push(line.metric.into_owned());
                }
                return Ok(());
            }
        }
        if let Some((_, count)) = &mut chosen {
            *count += 1;
        }
        let key = line.unit.as_str(&mut number).ok_or_else(|| {
            Failure::Check("`unit` is null: an outcome needs the unit it happened to".into())
        })?;
        if let Some(unit) = units.get_mut(key) {
            if time >= unit.first {
                unit.value += line.value;
            }
        }
        Ok(())
    })?;
    match chosen {
        Some((name, count)) if count > 0 => Ok(name),
        Some((name, _)) => {
            let seen = if others.is_empty() {
                "it holds no outcomes".to_owned()
            } else {
                format!("it holds {}", quoted(&others))
            };
            Err(Failure::Usage(format!(
                "{}: no outcome of metric `{name}`; {seen}",
                path.display()
            )))
        }
        None => Err(Failure::Usage(format!(
            "{}: no outcomes, so no metric to analyse",
            path.display()
        ))),
    }
}

fn quoted(names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    names.join(", ")
}

/// Calls `handle` with each non-blank line of the file; a failure it returns is prefixed
/// with the file and the 1-based line number. A progress bar (by bytes) shows on a
/// terminal.
fn each_line(
    path: &Path,
    what: &'static str,
    mut handle: impl FnMut(&[u8]) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::Usage(format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(io)?;
    let progress = Progress::start(what, file.metadata().map(|m| m.len()).unwrap_or(0));
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buffer = Vec::with_capacity(4096);
    let (mut number, mut offset) = (0u64, 0u64);
    loop {
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer).map_err(io)?;
        if read == 0 {
            break;
        }
        number += 1;
        offset += read as u64;
        if number % 65_536 == 0 {
            progress.at(offset);
        }
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        handle(&buffer).map_err(|failure| {
            let prefix = |m: String| format!("{}: line {number}: {m}", path.display());
            match failure {
                Failure::Check(m) => Failure::Check(prefix(m)),
                Failure::Usage(m) => Failure::Usage(prefix(m)),
            }
        })?;
    }
    progress.finish();
    Ok(())
}

/// A malformed line (exit 1), described without serde's position in the one-line
/// document, which would read as a line number.
fn malformed(error: serde_json::Error) -> Failure {
    let text = error.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    Failure::Check(format!("{message} (column {})", error.column()))
}

fn instant(text: &str, field: &str) -> Result<i64, Failure> {
    instant_ns(text).ok_or_else(|| {
        Failure::Check(format!(
            "`{field}` `{text}` is not an RFC 3339 timestamp with an offset"
        ))
    })
}

/// An RFC 3339 timestamp (docs/format.md §2.10) as ns since the Unix epoch; None when it
/// is not one, or beyond the ±292 years an i64 holds.
pub(crate) fn instant_ns(text: &str) -> Option<i64> {
    let time = flagcore::parse_rfc3339(text)?;
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).ok(),
        Err(before) => i64::try_from(before.duration().as_nanos()).ok().map(|n| -n),
    }
}

/// A `rule_index` that must be present, as a number or null.
struct RuleIndex(Option<u64>);

impl<'de> Deserialize<'de> for RuleIndex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Index;
        impl Visitor<'_> for Index {
            type Value = RuleIndex;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rule index (an integer ≥ 0) or null")
            }
            fn visit_unit<E>(self) -> Result<RuleIndex, E> {
                Ok(RuleIndex(None))
            }
            fn visit_none<E>(self) -> Result<RuleIndex, E> {
                Ok(RuleIndex(None))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RuleIndex, E> {
                Ok(RuleIndex(Some(v)))
            }
        }
        // deserialize_any, not deserialize_option: a missing field is an error, not null.
        deserializer.deserialize_any(Index)
    }
}

/// A unit as written: a string, or an integer standing for its decimal string (as
/// bucketing reads it, docs/format.md §3.2); null in an exposure without one.
enum UnitId<'a> {
    Text(Cow<'a, str>),
    Signed(i64),
    Unsigned(u64),
    Null,
}

impl UnitId<'_> {
    fn as_str<'s>(&'s self, scratch: &'s mut String) -> Option<&'s str> {
        use std::fmt::Write;
        scratch.clear();
        match self {
            UnitId::Text(text) => return Some(text),
            UnitId::Signed(n) => write!(scratch, "{n}").ok()?,
            UnitId::Unsigned(n) => write!(scratch, "{n}").ok()?,
            UnitId::Null => return None,
        }
        Some(scratch)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for UnitId<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Id;
        impl<'de> Visitor<'de> for Id {
            type Value = UnitId<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a unit: a string or an integer")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<UnitId<'de>, E> {
                Ok(UnitId::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<UnitId<'de>, E> {
                Ok(UnitId::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<UnitId<'de>, E> {
                Ok(UnitId::Text(Cow::Owned(v)))
            }
            fn visit_unit<E>(self) -> Result<UnitId<'de>, E> {
                Ok(UnitId::Null)
            }
            fn visit_i64<E>(self, v: i64) -> Result<UnitId<'de>, E> {
                Ok(UnitId::Signed(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<UnitId<'de>, E> {
                Ok(UnitId::Unsigned(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<UnitId<'de>, E> {
                Err(E::custom(format_args!(
                    "unit {v} has a fraction or an exponent: a unit is a string or an integer"
                )))
            }
        }
        deserializer.deserialize_any(Id)
    }
}

/// A progress bar on stderr, only when stderr is a terminal.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn start(what: &'static str, bytes: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let style = ProgressStyle::with_template(
            "{prefix:>9} [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        Progress(Some(
            ProgressBar::new(bytes).with_style(style).with_prefix(what),
        ))
    }

    fn at(&self, offset: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(offset);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
