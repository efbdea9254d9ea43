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

/// Names a listener added with [`Store::add_kill_listener`](crate::Store::add_kill_listener),
/// to remove it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KillListenerId(pub(crate) u64);

/// A function told the full list of runtime kills after each change.
pub(crate) type KillListener = std::sync::Arc<dyn Fn(&[Kill]) + Send + Sync>;
