//! Segment membership asked directly (docs/format.md §4.3), for tools that report per
//! cohort, such as `flagcore::diff`. The answer comes from the evaluator's own segment
//! logic, so it is the verdict an `in_segment` condition would see.

use super::context::EvaluationContext;
use super::{Evaluator, NoTrace};
use crate::plan::{Plan, SegmentRef};

impl Plan {
    /// Whether `ctx` is in the segment named `name` (docs/format.md §4.3): its key not
    /// excluded, and included or matched by one of the segment's rules. `None` when the
    /// snapshot has no segment of that name (and before the first snapshot).
    ///
    /// Allocates nothing; the segment is found by a scan of the segment names, so a caller
    /// asking about every segment for many contexts pays that scan per call.
    ///
    /// ```
    /// use flagcore::{EvaluationContext, Store, Value};
    ///
    /// let store = Store::from_bytes(br#"{"version": 1,
    ///   "segments": {"beta": {"exclude": ["mallory"], "rules": [{"conditions": [
    ///       {"attribute": "beta_opt_in", "op": "eq", "values": [true]}]}]}},
    ///   "flags": {}}"#)?;
    /// let snapshot = store.snapshot();
    /// let opted_in = [("beta_opt_in", Value::Bool(true))];
    /// let alice = EvaluationContext::new("alice").with_attributes(&opted_in);
    /// let mallory = EvaluationContext::new("mallory").with_attributes(&opted_in);
    /// assert_eq!(snapshot.in_segment("beta", &alice), Some(true));
    /// assert_eq!(snapshot.in_segment("beta", &mallory), Some(false)); // exclusion wins
    /// assert_eq!(snapshot.in_segment("beta", &EvaluationContext::new("bob")), Some(false));
    /// assert_eq!(snapshot.in_segment("gamma", &alice), None);
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub fn in_segment(&self, name: &str, ctx: &EvaluationContext<'_>) -> Option<bool> {
        let index = self.segments.iter().position(|s| *s.name == *name)?;
        let index = u32::try_from(index).ok()?;
        let mut evaluator = Evaluator {
            plan: self,
            ctx,
            trace: &mut NoTrace,
            segments_known: 0,
            segments_in: 0,
            now: None,
        };
        Some(evaluator.in_segment(SegmentRef::new(index)))
    }
}
