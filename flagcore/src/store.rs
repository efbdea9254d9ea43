//! [`Store`]: the serving snapshot behind `arc-swap`, updates, kills and metrics.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;

use crate::error::Error;
use crate::eval::context::EvaluationContext;
use crate::eval::getters::Snapshot;
use crate::eval::handle::FlagKey;
use crate::kill::{Kill, KillListener, KillListenerId};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::plan::Plan;
use crate::validate::validate_document;

/// Holds the serving snapshot. Readers never block and never see a half-applied update;
/// writers (update, kill, revive) take a short lock among themselves.
///
/// `Store` is `Send + Sync`: share it with an `Arc` or a `static`.
///
/// ```
/// use flagcore::{EvaluationContext, Store};
///
/// let store = Store::new();
/// let ctx = EvaluationContext::new("alice");
/// assert!(!store.bool("search-v2", &ctx, false)); // nothing loaded yet: the default
///
/// store.update(br#"{"version": 1, "flags": {"search-v2": {
///     "variants": {"on": true, "off": false}, "enabled": true,
///     "off_variant": "off", "fallthrough": {"variant": "on"}}}}"#)?;
/// assert!(store.bool("search-v2", &ctx, false));
///
/// store.kill("search-v2", "latency spike");
/// assert!(!store.bool("search-v2", &ctx, true)); // its off_variant
/// # Ok::<(), flagcore::Error>(())
/// ```
pub struct Store {
    limits: Limits,
    current: ArcSwap<Plan>,
    writer: Mutex<WriterState>,
}

#[derive(Default)]
struct WriterState {
    kills: BTreeMap<String, Kill>,
    /// Replaced plans that readers may still hold. The writer keeps a reference so that the
    /// last one is always dropped here, never on an evaluating thread.
    retired: Vec<Arc<Plan>>,
    /// Counts drained from plans no longer serving.
    metrics: Metrics,
    counting_disabled: bool,
    /// Told the kills after each change (a disk cache persists them, say).
    kill_listeners: Vec<(u64, KillListener)>,
    next_listener: u64,
    /// The status keepers of the sources feeding this store, for [`Store::status`]; a
    /// source that is dropped drops out.
    #[cfg(feature = "cache")]
    sources: Vec<std::sync::Weak<crate::source::Reporter>>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// An empty store: every evaluation serves the caller's default with
    /// `PROVIDER_NOT_READY` until the first [`update`](Store::update).
    pub fn new() -> Store {
        Store::with_limits(Limits::default())
    }

    /// An empty store that refuses snapshots beyond `limits`.
    pub fn with_limits(limits: Limits) -> Store {
        Store {
            limits,
            current: ArcSwap::from_pointee(Plan::not_ready()),
            writer: Mutex::new(WriterState::default()),
        }
    }

    /// A store serving the snapshot in `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Store, Error> {
        let store = Store::new();
        store.update(bytes)?;
        Ok(store)
    }

    /// A store serving the snapshot in the file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Store, Error> {
        let store = Store::new();
        store.update_file(path)?;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, WriterState> {
        // A writer that panicked left the state consistent (every change is one step), so
        // a poisoned lock is still usable.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Validates and compiles `bytes` off to the side, then swaps it in; returns the new
    /// version. On any error the serving snapshot stays, and the error says why: every
    /// validation problem, or a stale `version` (not newer than the serving one).
    pub fn update(&self, bytes: &[u8]) -> Result<u64, Error> {
        let document = validate_document(bytes, &self.limits)?;
        let plan = Plan::compile(document);
        let mut state = self.lock();
        let current = self.current.load();
        if current.ready && plan.version <= current.version {
            return Err(Error::Stale {
                offered: plan.version,
                current: current.version,
            });
        }
        drop(current);
        for flag in state.kills.keys() {
            if let Some(i) = plan.index.get(flag.as_str()) {
                plan.killed[i as usize].store(true, Ordering::Release);
            }
        }
        plan.count_evaluations
            .store(!state.counting_disabled, Ordering::Relaxed);
        let version = plan.version;
        let old = self.current.swap(Arc::new(plan));
        state.retired.push(old);
        reap(&mut state);
        Ok(version)
    }

    /// Reads the file at `path` and [`update`](Store::update)s from it.
    pub fn update_file(&self, path: impl AsRef<Path>) -> Result<u64, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.update(&bytes)
    }

    /// The serving snapshot's version, or `None` before the first one.
    pub fn version(&self) -> Option<u64> {
        let plan = self.current.load();
        plan.ready.then_some(plan.version)
    }

    /// A consistent view of the serving snapshot, for typed getters with details.
    #[inline]
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.current.load())
    }

    /// The value of boolean flag `flag` for `ctx`, or `default`.
    #[inline]
    pub fn bool(&self, flag: impl FlagKey, ctx: &EvaluationContext<'_>, default: bool) -> bool {
        self.snapshot().bool(flag, ctx, default)
    }

    /// The value of integer flag `flag` for `ctx`, or `default`.
    #[inline]
    pub fn int(&self, flag: impl FlagKey, ctx: &EvaluationContext<'_>, default: i64) -> i64 {
        self.snapshot().int(flag, ctx, default)
    }

    /// The value of number flag `flag` for `ctx`, or `default`.
    #[inline]
    pub fn float(&self, flag: impl FlagKey, ctx: &EvaluationContext<'_>, default: f64) -> f64 {
        self.snapshot().float(flag, ctx, default)
    }

    /// Kills `flag` on every thread's next evaluation: it serves its `off_variant` with
    /// reason `DISABLED` until [`revive`](Store::revive)d, across snapshot updates. A flag
    /// the snapshot lacks can be killed too, and is served killed once it appears.
    pub fn kill(&self, flag: &str, reason: &str) {
        let mut state = self.lock();
        state.kills.insert(
            flag.to_owned(),
            Kill {
                flag: flag.to_owned(),
                reason: reason.to_owned(),
                at: SystemTime::now(),
            },
        );
        self.set_killed(flag, true);
        notify_kill_listeners(&state);
    }

    /// Lifts a runtime kill; returns whether `flag` was killed.
    pub fn revive(&self, flag: &str) -> bool {
        let mut state = self.lock();
        let was_killed = state.kills.remove(flag).is_some();
        self.set_killed(flag, false);
        if was_killed {
            notify_kill_listeners(&state);
        }
        was_killed
    }

    /// The runtime kills in force, by flag name.
    pub fn kills(&self) -> Vec<Kill> {
        self.lock().kills.values().cloned().collect()
    }

    /// Restores kills (from a disk cache, say) with their original reasons and times.
    pub fn restore_kills(&self, kills: impl IntoIterator<Item = Kill>) {
        let mut state = self.lock();
        for kill in kills {
            self.set_killed(&kill.flag, true);
            state.kills.insert(kill.flag.clone(), kill);
        }
        notify_kill_listeners(&state);
    }

    /// Calls `listener` with every runtime kill in force after each [`kill`](Store::kill),
    /// effective [`revive`](Store::revive) and [`restore_kills`](Store::restore_kills),
    /// in the order the changes happened. This is how a disk cache keeps kills across
    /// restarts, whoever makes them (Rust code, a binding, a kills file).
    ///
    /// The listener runs on the thread that made the change, while the store's writer
    /// lock is held (so that listeners see changes in order): it must be quick and must
    /// not call this store's writing methods (`kill`, `revive`, `update`, `kills`,
    /// `take_metrics`, ...), which would deadlock. Evaluations are never blocked by it.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let store = flagcore::Store::new();
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = Arc::clone(&seen);
    /// let id = store.add_kill_listener(move |kills| {
    ///     log.lock().unwrap().push(kills.iter().map(|k| k.flag.clone()).collect::<Vec<_>>());
    /// });
    /// store.kill("search-v2", "p99 latency");
    /// store.revive("search-v2");
    /// assert!(store.remove_kill_listener(id));
    /// assert_eq!(*seen.lock().unwrap(), [vec!["search-v2".to_owned()], vec![]]);
    /// ```
    pub fn add_kill_listener(
        &self,
        listener: impl Fn(&[Kill]) + Send + Sync + 'static,
    ) -> KillListenerId {
        let mut state = self.lock();
        let id = state.next_listener;
        state.next_listener += 1;
        state.kill_listeners.push((id, Arc::new(listener)));
        KillListenerId(id)
    }

    /// Removes a listener added with [`add_kill_listener`](Store::add_kill_listener);
    /// returns whether it was there.
    pub fn remove_kill_listener(&self, id: KillListenerId) -> bool {
        let mut state = self.lock();
        let before = state.kill_listeners.len();
        state.kill_listeners.retain(|(n, _)| *n != id.0);
        state.kill_listeners.len() != before
    }

    /// Callers hold the writer lock, so no update can publish a plan in between.
    fn set_killed(&self, flag: &str, killed: bool) {
        let plan = self.current.load();
        if let Some(i) = plan.index.get(flag) {
            // Release pairs with the evaluator's Acquire.
            plan.killed[i as usize].store(killed, Ordering::Release);
        }
    }

    /// The state of every source feeding this store (file, HTTP, kills file), in the
    /// order they started: last success, last error, version, consecutive failures.
    #[cfg(feature = "cache")]
    pub fn status(&self) -> Vec<crate::source::Status> {
        let mut state = self.lock();
        state.sources.retain(|s| s.strong_count() > 0);
        state
            .sources
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .map(|reporter| reporter.status())
            .collect()
    }

    #[cfg(feature = "cache")]
    pub(crate) fn register_source(&self, reporter: &Arc<crate::source::Reporter>) {
        let mut state = self.lock();
        state.sources.retain(|s| s.strong_count() > 0);
        state.sources.push(Arc::downgrade(reporter));
    }

    /// Turns evaluation counting on (the default) or off.
    pub fn set_metrics_enabled(&self, enabled: bool) {
        let mut state = self.lock();
        state.counting_disabled = !enabled;
        self.current
            .load()
            .count_evaluations
            .store(enabled, Ordering::Relaxed);
    }

    /// The evaluation counts since the last call, per flag and variant; resets them.
    pub fn take_metrics(&self) -> Metrics {
        let mut state = self.lock();
        reap(&mut state);
        let mut metrics = std::mem::take(&mut state.metrics);
        for plan in &state.retired {
            metrics.drain(plan);
        }
        metrics.drain(&self.current.load());
        metrics
    }
}

fn notify_kill_listeners(state: &WriterState) {
    if state.kill_listeners.is_empty() {
        return;
    }
    let kills: Vec<Kill> = state.kills.values().cloned().collect();
    for (_, listener) in &state.kill_listeners {
        listener(&kills);
    }
}

/// Drops retired plans no reader holds any more, keeping their counts.
fn reap(state: &mut WriterState) {
    let WriterState {
        retired, metrics, ..
    } = state;
    retired.retain(|plan| {
        if Arc::strong_count(plan) > 1 {
            return true;
        }
        metrics.drain(plan);
        false
    });
}
