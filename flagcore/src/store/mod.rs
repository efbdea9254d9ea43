//! [`Store`]: the serving snapshot behind `arc-swap`, updates, kills and metrics.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;

mod feedback;

use crate::change::{changed_flags, with_dependents, Change, Subscriber};
use crate::document::Document;
use crate::error::Error;
use crate::eval::context::EvaluationContext;
use crate::eval::getters::Snapshot;
use crate::eval::handle::FlagKey;
use crate::exposure::Tracker;
use crate::flagd::{self, Format, FractionalVersion};
use crate::guardrail::carry_evidence;
use crate::kill::{Kill, KillListener, KillListenerId};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::plan::Plan;
use crate::runtime::exposures::ExposureQueue;
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
    /// Unique in the process, so that what other modules keep about a store (the status
    /// of the sources feeding it) can name it.
    #[cfg(feature = "cache")]
    id: u64,
    limits: Limits,
    current: ArcSwap<Plan>,
    /// The id of the plan in `current`, set after each swap, so a thread can tell whether
    /// the plan it cached is still the one serving.
    current_id: AtomicU64,
    /// Observations of an unknown flag or variant (see [`Store::observe`]).
    observations_ignored: AtomicU64,
    /// Exposures queued by evaluations, shared with every plan of this store.
    exposures: Arc<ExposureQueue>,
    /// The thread that names and delivers them.
    tracker: Tracker,
    writer: Mutex<WriterState>,
    /// flagd documents bucket `fractional` by CBOR keys (`FractionalVersion::V3`).
    flagd_cbor: AtomicBool,
}

/// How many stores' plans a thread caches at once (by store address).
const CACHED_STORES: usize = 4;

/// One store's plan as the thread last read it: the plan's id (0 = none) and address.
#[derive(Clone, Copy)]
struct CachedPlan {
    id: u64,
    plan: *const Plan,
}

impl CachedPlan {
    const NONE: CachedPlan = CachedPlan {
        id: 0,
        plan: std::ptr::null(),
    };
}

/// Owns the `Arc`s behind a thread's [`CACHED_PLANS`], one per slot.
struct HeldPlans([Cell<Option<Arc<Plan>>>; CACHED_STORES]);

/// The `Arc`s go when the thread exits; the addresses must go first, so that a read made
/// later in the thread's exit (from another thread-local's destructor) misses.
impl Drop for HeldPlans {
    fn drop(&mut self) {
        CACHED_PLANS.with(|cached| cached.iter().for_each(|c| c.set(CachedPlan::NONE)));
    }
}

thread_local! {
    /// Per thread, the plan it last read from up to [`CACHED_STORES`] stores. A reader
    /// whose cached plan is still serving uses it after one load and compare: plain data,
    /// constant-initialised and without a destructor, so reading it costs no state check,
    /// no borrow flag and no reference count, where an `arc-swap` load costs several
    /// atomic operations.
    ///
    /// Invariant: a slot whose `id` is not 0 points at the plan its [`HELD_PLANS`] slot
    /// holds, so the plan is alive while the slot says so.
    static CACHED_PLANS: [Cell<CachedPlan>; CACHED_STORES] =
        const { [const { Cell::new(CachedPlan::NONE) }; CACHED_STORES] };
    /// The plans [`CACHED_PLANS`] points at. The store's writer keeps every replaced plan
    /// until no thread holds it, so dropping one here never frees it.
    static HELD_PLANS: HeldPlans = const { HeldPlans([const { Cell::new(None) }; CACHED_STORES]) };
    /// How many [`Store::with_plan`] closures are running on the thread. While one runs,
    /// its plan may come from the cache, so no read may replace a cached plan.
    static READING: Cell<u32> = const { Cell::new(0) };
}

/// Marks a [`Store::with_plan`] closure as running, until dropped (by a panic too).
struct Reading;

impl Reading {
    #[inline]
    fn enter() -> Reading {
        READING.set(READING.get() + 1);
        Reading
    }
}

impl Drop for Reading {
    #[inline]
    fn drop(&mut self) {
        READING.set(READING.get() - 1);
    }
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
    /// Told each kill a guardrail makes.
    trip_listener: Option<KillListener>,
    /// Told which flags each update, kill and revive changed.
    subscribers: Vec<(u64, Subscriber)>,
    /// Guardrail trips since the store was created.
    guardrail_trips: u64,
    next_listener: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// A store that tracked exposures delivers what it had queued before it goes.
impl Drop for Store {
    fn drop(&mut self) {
        self.tracker.stop(&self.exposures);
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
        let plan = Plan::not_ready();
        #[cfg(feature = "cache")]
        static NEXT_STORE: AtomicU64 = AtomicU64::new(1);
        Store {
            #[cfg(feature = "cache")]
            id: NEXT_STORE.fetch_add(1, Ordering::Relaxed),
            limits,
            current_id: AtomicU64::new(plan.id),
            current: ArcSwap::from_pointee(plan),
            observations_ignored: AtomicU64::new(0),
            exposures: Arc::default(),
            tracker: Tracker::default(),
            writer: Mutex::new(WriterState::default()),
            flagd_cbor: AtomicBool::new(false),
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
    ///
    /// The document may be a native snapshot or flagd flag definitions, told apart by
    /// their content ([`Format::detect`]); a flagd document has no `version`, so each one
    /// loaded becomes the next version after the serving one.
    pub fn update(&self, bytes: &[u8]) -> Result<u64, Error> {
        let (document, format) = match validate_document(bytes, &self.limits) {
            Ok(document) => (document, Format::Native),
            Err(_) if Format::detect(bytes) == Format::Flagd => {
                (self.load_flagd(&[bytes])?, Format::Flagd)
            }
            Err(native) => return Err(native.into()),
        };
        self.swap_in(document, format)
    }

    /// Like [`update`](Store::update), reading `bytes` in the format given instead of the
    /// one detected.
    ///
    /// ```
    /// use flagcore::{flagd::Format, Store};
    ///
    /// let store = Store::new();
    /// let flagd = br#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": "A"},
    ///                                   "defaultVariant": "a"}}}"#;
    /// assert!(store.update_as(flagd, Format::Native).is_err());
    /// assert_eq!(store.update_as(flagd, Format::Flagd)?, 1);
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub fn update_as(&self, bytes: &[u8], format: Format) -> Result<u64, Error> {
        let document = match format {
            Format::Native => validate_document(bytes, &self.limits)?,
            Format::Flagd => self.load_flagd(&[bytes])?,
        };
        self.swap_in(document, format)
    }

    /// Loads several flagd documents as one, merged as flagd merges its sources: a later
    /// definition of a flag replaces an earlier one and `$evaluators` are shared; each
    /// flag keeps its own file's top-level `metadata`.
    ///
    /// ```
    /// let store = flagcore::Store::new();
    /// store.update_merged(&[
    ///     br#"{"flags": {"a": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x"}}}"#,
    ///     br#"{"flags": {"a": {"state": "ENABLED", "variants": {"y": 2}, "defaultVariant": "y"}}}"#,
    /// ])?;
    /// assert_eq!(store.int("a", &flagcore::EvaluationContext::anonymous(), 0), 2);
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub fn update_merged(&self, documents: &[&[u8]]) -> Result<u64, Error> {
        let document = self.load_flagd(documents)?;
        self.swap_in(document, Format::Flagd)
    }

    /// Buckets flagd's `fractional` in flagd documents loaded from now on as `version`
    /// does (the default is [`FractionalVersion::V2`], flagd's current bucketing); a team
    /// whose flagd SDK buckets by CBOR keys sets [`FractionalVersion::V3`] before loading.
    ///
    /// ```
    /// use flagcore::flagd::FractionalVersion;
    /// use flagcore::{EvaluationContext, Store};
    ///
    /// let store = Store::new();
    /// store.set_flagd_fractional(FractionalVersion::V3);
    /// store.update(br#"{"flags": {"coin": {"state": "ENABLED", "defaultVariant": "heads",
    ///   "variants": {"heads": "heads", "tails": "tails"},
    ///   "targeting": {"fractional": [["heads", 1], ["tails", 1]]}}}}"#)?;
    /// let anonymous = store.snapshot();
    /// // The CBOR default key needs a targeting key: without one, the default variant.
    /// let d = anonymous.string_details("coin", &EvaluationContext::anonymous(), "?");
    /// assert_eq!(d.reason, flagcore::Reason::Default);
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub fn set_flagd_fractional(&self, version: FractionalVersion) {
        self.flagd_cbor
            .store(version == FractionalVersion::V3, Ordering::Relaxed);
    }

    fn load_flagd(&self, documents: &[&[u8]]) -> Result<Document, Error> {
        let version = if self.flagd_cbor.load(Ordering::Relaxed) {
            FractionalVersion::V3
        } else {
            FractionalVersion::V2
        };
        Ok(flagd::load(documents, &self.limits, version)?.document)
    }

    /// Compiles `document` and swaps it in; a native one must be newer than the serving
    /// snapshot.
    fn swap_in(&self, document: Document, format: Format) -> Result<u64, Error> {
        let mut plan = Plan::compile(document);
        let mut state = self.lock();
        let current = self.current.load();
        if format == Format::Flagd {
            plan.version = if current.ready {
                current.version + 1
            } else {
                1
            };
        }
        if current.ready && plan.version <= current.version {
            return Err(Error::Stale {
                offered: plan.version,
                current: current.version,
            });
        }
        carry_evidence(&mut plan, &current);
        drop(current);
        plan.runtime.exposures = Arc::clone(&self.exposures);
        for flag in state.kills.keys() {
            if let Some(i) = plan.index.get(flag.as_str()) {
                plan.runtime.set_killed(i, true);
            }
        }
        plan.runtime.counters.set_enabled(!state.counting_disabled);
        let version = plan.version;
        let id = plan.id;
        let new = Arc::new(plan);
        if self.exposures.is_open() {
            self.tracker.note_plan(Arc::clone(&new));
        }
        let old = self.current.swap(Arc::clone(&new));
        // Release pairs with the readers' Acquire: whoever sees the new id sees the plan.
        self.current_id.store(id, Ordering::Release);
        if !state.subscribers.is_empty() {
            let flags = changed_flags(&old, &new);
            notify_subscribers(&state, Some(version), flags);
        }
        drop(new);
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
        self.current.load().version()
    }

    /// A consistent view of the serving snapshot, for typed getters with details.
    #[inline]
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.current.load())
    }

    /// Calls `read` with the serving plan: the cheapest way to evaluate, for anything that
    /// borrows from the plan (string values, details) and is done with it in `read`.
    ///
    /// The plan comes from a per-thread cache that costs one load and compare while the
    /// serving snapshot stays the same. Every call sees the latest completed update and
    /// kill. The cache keeps the plan it last saw from each of a few stores in memory until
    /// the thread next reads that store or exits. `read` may read stores itself.
    ///
    /// ```
    /// let store = flagcore::Store::from_bytes(br##"{"version": 1, "flags": {"color": {
    ///     "variants": {"red": "#f00", "blue": "#00f"}, "enabled": true,
    ///     "off_variant": "red", "fallthrough": {"variant": "blue"}}}}"##)?;
    /// let ctx = flagcore::EvaluationContext::new("alice");
    /// let color = store.with_plan(|plan| plan.string("color", &ctx, "#000").to_owned());
    /// assert_eq!(color, "#00f");
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    #[inline]
    pub fn with_plan<R>(&self, read: impl FnOnce(&Plan) -> R) -> R {
        // SAFETY: while `read` runs, `Reading` stops every read on this thread from
        // replacing a cached plan, so whatever `read` does, the plan it holds stays cached.
        unsafe {
            self.read_plan(|plan| {
                let _reading = Reading::enter();
                read(plan)
            })
        }
    }

    /// Calls `read` with the serving plan, from the thread's cache when it is still the
    /// serving one (the hit: two loads and a compare, no atomic read-modify-write).
    ///
    /// # Safety
    ///
    /// `read` must not replace a cached plan of this thread: it reads no store, or enters
    /// a [`Reading`] first. Otherwise a nested read could drop the cache's `Arc` of the plan
    /// `read` holds, and the writer could free it.
    #[inline(always)]
    unsafe fn read_plan<R>(&self, read: impl FnOnce(&Plan) -> R) -> R {
        // Acquire pairs with the Release in `swap_in`: whoever sees the new id sees the plan.
        let serving = self.current_id.load(Ordering::Acquire);
        let slot = self.cache_slot();
        let cached = CACHED_PLANS.with(|cached| cached[slot].get());
        // `read` is called once, below, so that it is inlined once with its captures in
        // registers; only the rare uncached read keeps an `arc-swap` guard.
        let uncached;
        let plan: &Plan = if cached.id == serving {
            // SAFETY: `serving` is a plan id, never 0, so by the invariant of
            // `CACHED_PLANS` the plan is held by `HELD_PLANS`. Only `refresh` on this thread
            // replaces it, and the caller promises that `read` does not get there; so the
            // plan outlives `read`.
            unsafe { &*cached.plan }
        } else if let Some(plan) = self.refresh(slot) {
            // SAFETY: as above; `refresh` just cached the plan.
            unsafe { &*plan }
        } else {
            uncached = self.current.load();
            &uncached
        };
        read(plan)
    }

    /// Which cache slot this store uses. Stores live apart in memory; a multiplicative
    /// hash spreads their addresses.
    #[inline(always)]
    fn cache_slot(&self) -> usize {
        ((self as *const Store as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 62) as usize
            % CACHED_STORES
    }

    /// The miss: caches the serving plan in `slot` and returns its address, or `None` when
    /// the slot may not change (inside a `with_plan` closure, whose plan may be the one in
    /// the slot) or the thread is exiting. Out of line, so the hit path stays small.
    #[cold]
    #[inline(never)]
    fn refresh(&self, slot: usize) -> Option<*const Plan> {
        if READING.get() != 0 {
            return None;
        }
        HELD_PLANS
            .try_with(|held| {
                let plan = self.current.load_full();
                let cached = CachedPlan {
                    id: plan.id,
                    plan: Arc::as_ptr(&plan),
                };
                // Address and `Arc` change together, keeping `CACHED_PLANS`'s invariant
                // (on this thread, with no read in between). The old `Arc` is dropped
                // after both, and the writer still holds the plan it points at.
                let old = held.0[slot].replace(Some(plan));
                CACHED_PLANS.with(|c| c[slot].set(cached));
                drop(old);
                cached.plan
            })
            .ok()
    }

    /// The value of boolean flag `flag` for `ctx`, or `default`.
    #[inline]
    pub fn bool(&self, flag: impl FlagKey, ctx: &EvaluationContext<'_>, default: bool) -> bool {
        // SAFETY: evaluating reads no store.
        unsafe { self.read_plan(|plan| plan.bool(flag, ctx, default)) }
    }

    /// The value of integer flag `flag` for `ctx`, or `default`.
    #[inline]
    pub fn int(&self, flag: impl FlagKey, ctx: &EvaluationContext<'_>, default: i64) -> i64 {
        // SAFETY: evaluating reads no store.
        unsafe { self.read_plan(|plan| plan.int(flag, ctx, default)) }
    }

    /// The value of number flag `flag` for `ctx`, or `default`.
    #[inline]
    pub fn float(&self, flag: impl FlagKey, ctx: &EvaluationContext<'_>, default: f64) -> f64 {
        // SAFETY: evaluating reads no store.
        unsafe { self.read_plan(|plan| plan.float(flag, ctx, default)) }
    }

    /// Kills `flag` on every thread's next evaluation: it serves its `off_variant` with
    /// reason `DISABLED` until [`revive`](Store::revive)d, across snapshot updates. A flag
    /// the snapshot lacks can be killed too, and is served killed once it appears.
    pub fn kill(&self, flag: &str, reason: &str) {
        let mut state = self.lock();
        let was_killed = state
            .kills
            .insert(
                flag.to_owned(),
                Kill {
                    flag: flag.to_owned(),
                    reason: reason.to_owned(),
                    at: SystemTime::now(),
                },
            )
            .is_some();
        self.set_killed(flag, true);
        notify_kill_listeners(&state);
        if !was_killed {
            notify_killed(&state, &self.current.load(), vec![flag.to_owned()]);
        }
    }

    /// Lifts a runtime kill (an operator's or a guardrail's); returns whether `flag` was
    /// killed. Reviving a killed flag also resets its guardrails' evidence.
    pub fn revive(&self, flag: &str) -> bool {
        let mut state = self.lock();
        let was_killed = state.kills.remove(flag).is_some();
        self.set_killed(flag, false);
        if was_killed {
            let plan = self.current.load();
            if let Some(f) = plan
                .index
                .get(flag)
                .and_then(|i| plan.flags.get(i as usize))
            {
                for guardrail in f.guardrails.iter() {
                    guardrail.evidence.reset();
                }
            }
            notify_kill_listeners(&state);
            notify_killed(&state, &plan, vec![flag.to_owned()]);
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
        let mut newly_killed = Vec::new();
        for kill in kills {
            self.set_killed(&kill.flag, true);
            let flag = kill.flag.clone();
            if state.kills.insert(kill.flag.clone(), kill).is_none() {
                newly_killed.push(flag);
            }
        }
        notify_kill_listeners(&state);
        if !newly_killed.is_empty() {
            notify_killed(&state, &self.current.load(), newly_killed);
        }
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
            plan.runtime.set_killed(i, killed);
        }
    }

    /// Turns evaluation counting on (the default) or off.
    pub fn set_metrics_enabled(&self, enabled: bool) {
        let mut state = self.lock();
        state.counting_disabled = !enabled;
        self.current.load().runtime.counters.set_enabled(enabled);
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

/// Tells subscribers that `flags` were killed or revived, with the flags depending on them.
fn notify_killed(state: &WriterState, plan: &Plan, flags: Vec<String>) {
    if !state.subscribers.is_empty() {
        notify_subscribers(state, plan.version(), with_dependents(plan, flags));
    }
}

fn notify_subscribers(state: &WriterState, version: Option<u64>, flags: Vec<String>) {
    if state.subscribers.is_empty() {
        return;
    }
    let change = Change { version, flags };
    for (_, subscriber) in &state.subscribers {
        subscriber(&change);
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
