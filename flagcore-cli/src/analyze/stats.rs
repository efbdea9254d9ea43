//! The statistics of `flagcore analyze` (docs/format.md §7.9): per-variant means with
//! Student t intervals, Welch's comparison of two variants, and the chi-square tail for the
//! sample-ratio check. The distribution functions are statrs's (regularized incomplete
//! beta and gamma); `tests/analyze/test_analyze.py` checks the results against SciPy.

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

/// The confidence level of every interval.
const LEVEL: f64 = 0.95;

/// One variant's metric values, summarised: what its row and its comparisons need.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Summary {
    pub units: u64,
    /// Mean; 0 when there are no units (then `mean()` is None).
    sum_mean: f64,
    /// Sample variance (n − 1 in the denominator); 0 below 2 units.
    variance: f64,
}

impl Summary {
    /// Summarises values in two passes (mean, then squared deviations from it), as NumPy
    /// and SciPy do, so that a large common offset costs no precision.
    pub(crate) fn of(values: impl Iterator<Item = f64> + Clone) -> Summary {
        let (mut units, mut sum) = (0u64, 0.0);
        for value in values.clone() {
            units += 1;
            sum += value;
        }
        if units == 0 {
            return Summary::default();
        }
        let mean = sum / units as f64;
        let variance = if units < 2 {
            0.0
        } else {
            values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (units - 1) as f64
        };
        Summary {
            units,
            sum_mean: mean,
            variance,
        }
    }

    pub(crate) fn mean(&self) -> Option<f64> {
        (self.units > 0).then_some(self.sum_mean)
    }

    /// The 95% interval of the mean: mean ± t(0.975, n − 1) · s / √n. None below 2 units,
    /// where there is no variance to estimate.
    pub(crate) fn ci95(&self) -> Option<(f64, f64)> {
        if self.units < 2 {
            return None;
        }
        let n = self.units as f64;
        let half = t_quantile(n - 1.0) * (self.variance / n).sqrt();
        Some((self.sum_mean - half, self.sum_mean + half))
    }
}

/// A variant against the control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Comparison {
    /// Variant mean − control mean; None when either has no units.
    pub difference: Option<f64>,
    /// Welch's 95% interval of the difference; None when either has fewer than 2 units.
    pub ci95: Option<(f64, f64)>,
    /// Two-sided p-value of Welch's t-test; None when either has fewer than 2 units.
    pub p_value: Option<f64>,
}

/// Welch's unequal-variance t-test of `variant` against `control`: SciPy's
/// `ttest_ind(variant, control, equal_var=False)` and its `confidence_interval(0.95)`.
pub(crate) fn welch(variant: &Summary, control: &Summary) -> Comparison {
    let difference = match (variant.mean(), control.mean()) {
        (Some(v), Some(c)) => Some(v - c),
        _ => None,
    };
    let Some(difference) = difference.filter(|_| variant.units >= 2 && control.units >= 2) else {
        return Comparison {
            difference,
            ci95: None,
            p_value: None,
        };
    };
    let a = variant.variance / variant.units as f64;
    let b = control.variance / control.units as f64;
    let se = (a + b).sqrt();
    if se == 0.0 {
        // Both variants are constant: the difference is known exactly. SciPy answers NaN
        // (0/0) or an infinite t; the honest p-value is 1 for no difference, 0 for one.
        return Comparison {
            difference: Some(difference),
            ci95: Some((difference, difference)),
            p_value: Some(if difference == 0.0 { 1.0 } else { 0.0 }),
        };
    }
    // Welch–Satterthwaite degrees of freedom.
    let df = (a + b) * (a + b)
        / (a * a / (variant.units - 1) as f64 + b * b / (control.units - 1) as f64);
    let t = difference / se;
    let half = t_quantile(df) * se;
    Comparison {
        difference: Some(difference),
        ci95: Some((difference - half, difference + half)),
        p_value: Some(two_sided_t(t, df)),
    }
}

/// Beyond this many degrees of freedom, Student's t is taken as the normal distribution:
/// they differ by less than 1e-7 there (relative, at the 95% quantile), while statrs's
/// incomplete beta loses digits (1e-6 at df = 1e9) and its inverse stops converging.
const NORMAL_BEYOND: f64 = 1e8;
/// Up to this many degrees of freedom statrs's inverse is good to 1e-12; beyond, Newton
/// steps start from the normal quantile instead.
const INVERSE_UP_TO: f64 = 1e4;

/// The quantile t(0.975, df) of Student's t distribution: the half-width of a 95% interval
/// in standard errors.
pub(crate) fn t_quantile(df: f64) -> f64 {
    let tail = (1.0 - LEVEL) / 2.0;
    let z = normal().inverse_cdf(1.0 - tail);
    if df > NORMAL_BEYOND {
        return z;
    }
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else {
        return f64::NAN;
    };
    // statrs's inverse (through its inverse incomplete beta) loses digits as df grows (one
    // left at df = 1e7) and never returns at 3e7, where two variants of millions of units
    // are; its upper tail stays good to 1e-8 there, so Newton steps on it find the root.
    let mut x = if df <= INVERSE_UP_TO {
        t.inverse_cdf(1.0 - tail)
    } else {
        z + (z * z * z + z) / (4.0 * df) // the first Cornish–Fisher term
    };
    for _ in 0..50 {
        let step = (t.sf(x) - tail) / t.pdf(x);
        if !step.is_finite() {
            break;
        }
        x += step;
        if step.abs() <= 1e-14 * x {
            break;
        }
    }
    x
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom, from the upper tail (so a
/// tiny p-value keeps its digits rather than being 1 − 0.999…).
pub(crate) fn two_sided_t(t: f64, df: f64) -> f64 {
    if df > NORMAL_BEYOND {
        return (2.0 * normal().sf(t.abs())).min(1.0);
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * dist.sf(t.abs())).min(1.0),
        Err(_) => f64::NAN,
    }
}

fn normal() -> Normal {
    Normal::standard()
}

/// P(X ≥ x) for the chi-square distribution with `df` degrees of freedom.
pub(crate) fn chi2_sf(x: f64, df: f64) -> f64 {
    match ChiSquared::new(df) {
        Ok(dist) => dist.sf(x),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    // Reference values from SciPy 1.17 (scipy.stats.t.ppf, t.sf, chi2.sf).
    #[test]
    fn distribution_functions_match_scipy() {
        assert!(close(t_quantile(1.0), 12.706204736174694, 1e-9));
        assert!(close(t_quantile(9.0), 2.262157162798205, 1e-9));
        assert!(close(t_quantile(1e5), 1.959987707534609, 1e-9));
        assert!(close(t_quantile(1e6), 1.959966356814107, 1e-9));
        assert!(close(t_quantile(3e7), 1.9599640636157647, 1e-8));
        assert!(close(t_quantile(1e12), 1.959963984540054, 1e-9));
        assert!(close(two_sided_t(2.5, 17.3), 0.02274750017580115, 1e-6));
        assert!(close(
            two_sided_t(12.0, 500.0),
            2.4864512784618514e-29,
            1e-5
        ));
        assert!(close(chi2_sf(3.2, 2.0), 0.2018965179946554, 1e-9));
        assert!(close(chi2_sf(40.0, 1.0), 2.5396285894708634e-10, 1e-6));
    }

    #[test]
    fn welch_matches_a_hand_computation() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 4.0, 6.0, 8.0];
        let (sx, sy) = (
            Summary::of(x.iter().copied()),
            Summary::of(y.iter().copied()),
        );
        assert_eq!(sx.mean(), Some(3.0));
        let c = welch(&sx, &sy);
        assert_eq!(c.difference, Some(-2.0));
        // scipy.stats.ttest_ind(x, y, equal_var=False): t = -1.3587, p = 0.23519
        assert!(
            close(c.p_value.unwrap_or(0.0), 0.235194111389, 1e-9),
            "{c:?}"
        );
    }

    #[test]
    fn too_few_units_give_no_interval() {
        let one = Summary::of([4.0].into_iter());
        let many = Summary::of([1.0, 2.0, 3.0].into_iter());
        assert_eq!(one.ci95(), None);
        let c = welch(&one, &many);
        assert_eq!((c.difference, c.ci95, c.p_value), (Some(2.0), None, None));
        let none = Summary::of(std::iter::empty());
        assert_eq!(welch(&none, &many).difference, None);
    }
}
