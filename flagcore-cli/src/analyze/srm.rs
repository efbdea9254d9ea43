//! The sample-ratio-mismatch check of `flagcore analyze` (docs/format.md §7.9): the flag's
//! rollouts as SNAPSHOT defines them, which split served an exposure (its rule, and the
//! schedule step in force at its time, §4.5), and Pearson's chi-square of the units per
//! variant against the shares those splits promise.
//!
//! A unit exposed under several splits (a ramp's steps) is kept in the analysis only when
//! its bucket served one variant under all of them, and which buckets do depends on the
//! variant: a ramp from 10 % to 50 % `on` moves buckets 10,000–49,999 from `off` to `on`, so
//! units re-exposed after the step are excluded only if they started in `off`. Counting the
//! kept units against the first split's weights would call every such ramp broken; their
//! expected shares are therefore those of the buckets on which all their splits agree.

use serde_json::Value;

use super::stats::chi2_sf;

/// Below this p-value the split is called broken (exit 3).
pub(crate) const BROKEN_BELOW: f64 = 0.001;

/// The flag under analysis, as SNAPSHOT defines it.
pub(crate) struct Experiment {
    pub version: u64,
    /// The flag's variants, in document order.
    pub variants: Vec<String>,
    pub off_variant: String,
    /// Per rule (by index), its rollout or None for a fixed variant; then the fallthrough.
    rollouts: Vec<Option<Rollout>>,
}

/// A rollout: its own split, then one per schedule step.
struct Rollout {
    /// The attribute bucketed (`key` by default): splits of rollouts with one `by` see
    /// one bucket per unit.
    by: String,
    /// `splits[0]` is the rollout's own split, `splits[k]` schedule step k − 1.
    splits: Vec<Split>,
    /// The instant (ns since the Unix epoch) from which step k serves, for k = 0, 1, ...
    starts: Vec<i64>,
}

/// A split's entries in order, as (variant index, weight in units of 0.001 %): entry i
/// serves the buckets from the sum of the weights before it (docs/format.md §3.3).
struct Split(Vec<(u16, u32)>);

impl Split {
    fn weight(&self, variant: u16) -> u32 {
        self.0.iter().filter(|e| e.0 == variant).map(|e| e.1).sum()
    }

    /// The variant serving `bucket`.
    fn variant_at(&self, bucket: u32) -> Option<u16> {
        let mut end = 0;
        self.0.iter().find_map(|&(variant, weight)| {
            end += weight;
            (bucket < end).then_some(variant)
        })
    }

    /// Where one entry's buckets end and the next one's begin.
    fn cuts(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().scan(0, |end, &(_, weight)| {
            *end += weight;
            Some(*end)
        })
    }
}

/// Which split served a SPLIT exposure: the rollout (rule index, or the rule count for the
/// fallthrough) and the split (0 = the rollout's own, k = schedule step k − 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Served {
    pub rollout: u32,
    pub split: u32,
}

impl Experiment {
    /// Reads `flag` out of a snapshot the core has validated, with its variants in
    /// `variants` (the plan's document order).
    pub(crate) fn read(bytes: &[u8], flag: &str, variants: Vec<String>) -> Result<Self, String> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let document: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let version = document["version"].as_u64().unwrap_or(0);
        let definition = &document["flags"][flag];
        if !definition.is_object() {
            return Err(format!("no flag `{flag}` in the snapshot"));
        }
        let off_variant = definition["off_variant"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut experiment = Experiment {
            version,
            variants,
            off_variant,
            rollouts: Vec::new(),
        };
        let rules = definition["rules"].as_array().cloned().unwrap_or_default();
        for rule in &rules {
            let rollout = experiment.rollout(&rule["serve"]["rollout"])?;
            experiment.rollouts.push(rollout);
        }
        let fallthrough = experiment.rollout(&definition["fallthrough"]["rollout"])?;
        experiment.rollouts.push(fallthrough);
        Ok(experiment)
    }

    fn rollout(&self, rollout: &Value) -> Result<Option<Rollout>, String> {
        if !rollout.is_object() {
            return Ok(None);
        }
        let mut splits = vec![self.split(&rollout["split"])];
        let mut starts = Vec::new();
        for step in rollout["schedule"].as_array().into_iter().flatten() {
            let at = step["at"].as_str().unwrap_or_default();
            starts.push(super::input::instant_ns(at).ok_or_else(|| {
                format!("schedule step at `{at}` is outside the years 1678 to 2261")
            })?);
            splits.push(self.split(&step["split"]));
        }
        let by = rollout["by"].as_str().unwrap_or("key").to_owned();
        Ok(Some(Rollout { by, splits, starts }))
    }

    fn split(&self, entries: &Value) -> Split {
        let entries = entries
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let variant = self.variant_index(entry["variant"].as_str().unwrap_or_default())?;
                // docs/format.md §3.3: weights become units by round(w × 1000).
                let units = (entry["weight"].as_f64().unwrap_or(0.0) * 1000.0).round() as u32;
                Some((variant, units))
            });
        Split(entries.collect())
    }

    fn split_of(&self, served: Served) -> Option<&Split> {
        let rollout = self.rollouts.get(served.rollout as usize)?.as_ref()?;
        rollout.splits.get(served.split as usize)
    }

    fn by_of(&self, served: Served) -> Option<&str> {
        let rollout = self.rollouts.get(served.rollout as usize)?.as_ref()?;
        Some(&rollout.by)
    }

    /// The expected shares (per variant index) of a kept unit whose first exposure was
    /// served by `first` and whose exposures were served by the splits `all` (`first`
    /// among them): the buckets on which every one of them serves one variant, by that
    /// variant. Units whose splits bucket different attributes, or who also had exposures
    /// that were not SPLITs (`all` None), get `first`'s weights.
    fn shares(&self, first: Served, all: Option<&[Served]>) -> Vec<f64> {
        let mut shares = vec![0.0; self.variants.len()];
        let by = self.by_of(first);
        let splits: Vec<&Split> = match all {
            Some(all) if all.iter().all(|s| self.by_of(*s) == by) => {
                all.iter().filter_map(|s| self.split_of(*s)).collect()
            }
            _ => self.split_of(first).into_iter().collect(),
        };
        let mut cuts: Vec<u32> = splits.iter().flat_map(|s| s.cuts()).collect();
        cuts.push(0);
        cuts.sort_unstable();
        cuts.dedup();
        let mut agreeing = 0.0;
        for window in cuts.windows(2) {
            let (from, to) = (window[0], window[1]);
            let mut served = splits.iter().map(|s| s.variant_at(from));
            let Some(Some(variant)) = served.next() else {
                continue;
            };
            if served.all(|v| v == Some(variant)) {
                shares[variant as usize] += f64::from(to - from);
                agreeing += f64::from(to - from);
            }
        }
        if agreeing > 0.0 {
            shares.iter_mut().for_each(|s| *s /= agreeing);
        }
        shares
    }

    pub(crate) fn variant_index(&self, name: &str) -> Option<u16> {
        self.variants
            .iter()
            .position(|v| v == name)
            .map(|i| i as u16)
    }

    /// The split that served a SPLIT exposure of `variant` by `rule_index` (None: the
    /// fallthrough) at `time` (ns), or why SNAPSHOT cannot have served it.
    pub(crate) fn served(
        &self,
        rule_index: Option<u64>,
        time: i64,
        variant: u16,
    ) -> Result<Served, String> {
        let rules = self.rollouts.len() - 1;
        let (index, place) = match rule_index {
            Some(i) if i as usize >= rules => {
                return Err(format!(
                    "a SPLIT by rules[{i}], but the flag has {rules} rule(s) in SNAPSHOT, \
                     which is not the snapshot that served it"
                ))
            }
            Some(i) => (i as usize, format!("rules[{i}]")),
            None => (rules, "the fallthrough".to_owned()),
        };
        let Some(rollout) = &self.rollouts[index] else {
            return Err(format!(
                "a SPLIT by {place}, which serves a fixed variant in SNAPSHOT, \
                 not the snapshot that served it"
            ));
        };
        // docs/format.md §4.5: the last step whose `at` ≤ the instant, else the own split.
        let split = rollout.starts.partition_point(|&start| start <= time);
        if rollout.splits[split].weight(variant) == 0 {
            let when = match split {
                0 => "own split".to_owned(),
                k => format!("schedule step {}", k - 1),
            };
            return Err(format!(
                "variant `{}` has no share in {place}'s {when}, in force at that time in \
                 SNAPSHOT, which is not the snapshot that served it",
                self.variants[variant as usize]
            ));
        }
        Ok(Served {
            rollout: index as u32,
            split: split as u32,
        })
    }
}

/// The result of the check.
#[derive(Debug, Clone)]
pub(crate) struct Srm {
    /// Units whose first exposure was a SPLIT (the check's sample).
    pub units: u64,
    /// Per variant listed in a serving split: its name, observed units and expected share.
    pub rows: Vec<(String, u64, f64)>,
    pub chi2: Option<f64>,
    pub df: u32,
    pub p_value: Option<f64>,
    /// The distinct splits (rollout and step) that served the units' first exposures.
    pub splits: usize,
}

impl Srm {
    /// False when the p-value is below [`BROKEN_BELOW`].
    pub(crate) fn ok(&self) -> bool {
        self.p_value.is_none_or(|p| p >= BROKEN_BELOW)
    }
}

/// The kept units whose first exposure was a SPLIT, grouped by what sets their expected
/// shares: the split of the first exposure, and all the splits of their exposures (None
/// when one was not a SPLIT), with how many units each group has.
pub(crate) type Sample = Vec<(Served, Option<Vec<Served>>, u64)>;

/// Pearson's chi-square of `observed` (units per variant index) against the sum of the
/// units' expected shares.
pub(crate) fn check(experiment: &Experiment, sample: &Sample, observed: &[u64]) -> Srm {
    let k = experiment.variants.len();
    let mut expected = vec![0.0f64; k];
    let mut listed = vec![false; k];
    let mut units = 0u64;
    let mut firsts: Vec<Served> = Vec::new();
    for (first, all, count) in sample {
        let shares = experiment.shares(*first, all.as_deref());
        for (v, share) in shares.iter().enumerate() {
            expected[v] += *count as f64 * share;
        }
        for split in all.iter().flatten().chain(std::iter::once(first)) {
            for &(v, _) in experiment.split_of(*split).map_or(&[][..], |s| &s.0) {
                listed[v as usize] = true;
            }
        }
        if !firsts.contains(first) {
            firsts.push(*first);
        }
        units += count;
    }
    let rows: Vec<(String, u64, f64)> = (0..k)
        .filter(|&v| listed[v])
        .map(|v| {
            let share = if units == 0 {
                0.0
            } else {
                expected[v] / units as f64
            };
            (experiment.variants[v].clone(), observed[v], share)
        })
        .collect();
    if units == 0 {
        return Srm {
            units,
            rows,
            chi2: None,
            df: 0,
            p_value: None,
            splits: 0,
        };
    }
    // A kept unit's variant always has a share (its splits agree on its bucket), so the
    // variants without one add nothing.
    let mut chi2 = 0.0;
    let mut categories = 0u32;
    for v in (0..k).filter(|&v| expected[v] > 0.0) {
        let difference = observed[v] as f64 - expected[v];
        chi2 += difference * difference / expected[v];
        categories += 1;
    }
    let df = categories.saturating_sub(1);
    let p_value = if df == 0 {
        1.0
    } else {
        chi2_sf(chi2, f64::from(df))
    };
    Srm {
        units,
        rows,
        chi2: Some(chi2),
        df,
        p_value: Some(p_value),
        splits: firsts.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment() -> Experiment {
        let snapshot = serde_json::json!({"version": 1, "flags": {"f": {
            "variants": {"off": 0, "on": 1}, "enabled": true, "off_variant": "off",
            "fallthrough": {"rollout": {
                "split": [{"variant": "on", "weight": 10}, {"variant": "off", "weight": 90}],
                "schedule": [{"at": "2030-01-01T00:00:00Z",
                              "split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}]}}}}});
        Experiment::read(
            snapshot.to_string().as_bytes(),
            "f",
            vec!["off".into(), "on".into()],
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_unit_seen_under_both_steps_of_a_ramp_is_kept_only_on_the_agreeing_buckets() {
        let e = experiment();
        let own = Served {
            rollout: 0,
            split: 0,
        };
        let step = Served {
            rollout: 0,
            split: 1,
        };
        assert_eq!(e.shares(own, Some(&[own])), vec![0.9, 0.1]);
        assert_eq!(e.shares(step, Some(&[step])), vec![0.5, 0.5]);
        // Buckets 0–9,999 serve `on` under both, 50,000–99,999 `off`: 10 and 50 of the 60
        // agreeing thousandths.
        let both = e.shares(own, Some(&[own, step]));
        assert!((both[0] - 50.0 / 60.0).abs() < 1e-12 && (both[1] - 10.0 / 60.0).abs() < 1e-12);
        // With an exposure that was not a SPLIT, the first split's weights.
        assert_eq!(e.shares(own, None), vec![0.9, 0.1]);
    }
}
