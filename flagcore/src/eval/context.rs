//! The evaluation context: a targeting key and attributes, borrowed from the caller.

use std::time::SystemTime;

pub use crate::primitives::value::Value;

/// Who is asking: an optional targeting key plus attributes, all borrowed.
///
/// The attribute name `key` always means the targeting key; an attribute of that name in
/// the list is never read. When a name appears twice, the first wins.
///
/// ```
/// use flagcore::{EvaluationContext, Value};
///
/// let attrs = [("country", Value::from("DE")), ("age", Value::from(42))];
/// let ctx = EvaluationContext::new("alice").with_attributes(&attrs);
/// assert_eq!(ctx.get("key"), Some(Value::String("alice")));
/// assert_eq!(ctx.get("age"), Some(Value::Int(42)));
/// assert_eq!(ctx.get("plan"), None);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluationContext<'a> {
    key: Option<&'a str>,
    attributes: &'a [(&'a str, Value<'a>)],
    /// The instant scheduled rollouts are evaluated at; `None`: the current time.
    as_of: Option<SystemTime>,
}

impl<'a> EvaluationContext<'a> {
    /// A context for the targeting key `key`, with no attributes.
    pub const fn new(key: &'a str) -> Self {
        EvaluationContext {
            key: Some(key),
            attributes: &[],
            as_of: None,
        }
    }

    /// A context without a targeting key (targets and key rollouts cannot match it).
    pub const fn anonymous() -> Self {
        EvaluationContext {
            key: None,
            attributes: &[],
            as_of: None,
        }
    }

    /// The same context with these attributes.
    pub const fn with_attributes(self, attributes: &'a [(&'a str, Value<'a>)]) -> Self {
        EvaluationContext {
            key: self.key,
            attributes,
            as_of: self.as_of,
        }
    }

    /// The same context evaluated as of `instant`: a scheduled rollout serves the step in
    /// force then, so a reviewer can see who is in at a step before it happens. Without
    /// it, scheduled rollouts read the current time.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use flagcore::{EvaluationContext, Store};
    ///
    /// let store = Store::from_bytes(br#"{"version": 1, "flags": {"ramp": {
    ///   "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    ///   "fallthrough": {"rollout": {"split": [{"variant": "off", "weight": 100}],
    ///     "schedule": [{"at": "2030-01-01T00:00:00Z",
    ///                   "split": [{"variant": "on", "weight": 100}]}]}}}}}"#)?;
    /// let new_year_2030 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000);
    /// let before = EvaluationContext::new("u1").at(new_year_2030 - Duration::from_secs(1));
    /// let after = EvaluationContext::new("u1").at(new_year_2030);
    /// let snapshot = store.snapshot();
    /// assert_eq!(snapshot.bool_details("ramp", &before, true).step, None);
    /// assert!(!snapshot.bool("ramp", &before, true));
    /// assert_eq!(snapshot.bool_details("ramp", &after, false).step, Some(0));
    /// assert!(snapshot.bool("ramp", &after, false));
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub const fn at(self, instant: SystemTime) -> Self {
        EvaluationContext {
            as_of: Some(instant),
            ..self
        }
    }

    /// The instant given with [`at`](Self::at), if any.
    pub fn as_of(&self) -> Option<SystemTime> {
        self.as_of
    }

    /// The targeting key, if any.
    pub fn key(&self) -> Option<&'a str> {
        self.key
    }

    /// The attributes as given.
    pub fn attributes(&self) -> &'a [(&'a str, Value<'a>)] {
        self.attributes
    }

    /// The value of attribute `name` (`key` is the targeting key).
    #[inline]
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        if name == "key" {
            return self.key.map(Value::String);
        }
        self.named(name)
    }

    #[inline]
    pub(crate) fn named(&self, name: &str) -> Option<Value<'a>> {
        self.named_ref(name).copied()
    }

    /// The value of attribute `name` where the caller put it: a clause tests it there,
    /// without copying it (through the stack, as a copy of the enum goes). Always inlined:
    /// a call costs more than the scan of a short list.
    #[inline(always)]
    pub(crate) fn named_ref(&self, name: &str) -> Option<&'a Value<'a>> {
        // Lengths first, in a plain loop: most names differ in length, and `find` on the
        // slice iterator kept two pointers per step. (`same` compares lengths too; leaving
        // the test to it costs three rules 18 instructions, measured.)
        let attributes = self.attributes;
        for (n, value) in attributes {
            if n.len() == name.len() && crate::plan::hash::same(n, name) {
                return Some(value);
            }
        }
        None
    }
}
