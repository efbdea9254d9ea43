//! Runtime kills: an operator's override that outlives snapshot reloads.

use std::time::SystemTime;

/// A flag killed at runtime: served its `off_variant` until revived, whatever the
/// snapshots say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    /// The flag (it need not exist in the current snapshot).
    pub flag: String,
    /// Why, as the operator said.
    pub reason: String,
    /// When.
    pub at: SystemTime,
}
