//! What a service reports back to its store and what it hears from it: outcomes for the
//! guardrails (and their trips), exposure tracking, and change subscriptions.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use super::{notify_kill_listeners, notify_killed, Store};
use crate::change::{Change, SubscriptionId};
use crate::exposure::{ExposureOptions, ExposureSink, ExposureStats};
use crate::guardrail::GuardrailStatus;
use crate::kill::{Kill, KillListener};
use crate::runtime::evidence::Observation;

impl Store {
    /// Reports what the application saw after serving `variant` of `flag`, as evidence for
    /// the flag's guardrails (docs/format.md §2.13). When a guardrail's sequential test
    /// finds the watched variants worse than its bound allows, the store kills the flag
    /// as [`kill`](Store::kill) does, with a reason that starts with `guardrail` and carries
    /// the evidence; [`revive`](Store::revive) lifts it and resets the evidence.
    ///
    /// Lock-free and allocation-free: a few atomic additions and the test's arithmetic.
    /// Only the one observation that trips a guardrail records the kill (the writer lock,
    /// the kill listeners, the [`on_guardrail_trip`](Store::on_guardrail_trip) callback).
    /// An unknown flag or variant is ignored and counted
    /// ([`observations_ignored`](Store::observations_ignored)); a killed or disabled flag
    /// gathers no evidence.
    ///
    /// ```
    /// use flagcore::{Observation, Store};
    ///
    /// let store = Store::from_bytes(br#"{"version": 1, "flags": {"checkout": {
    ///   "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    ///   "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 10},
    ///                                         {"variant": "off", "weight": 90}]}},
    ///   "guardrails": [{"id": "errors", "watch": ["on"], "baseline": "off",
    ///                   "max_increase": 0.01}]}}}"#)?;
    /// for i in 0..20_000 {
    ///     let (variant, failed) = if i % 10 == 0 { ("on", i % 50 == 0) } else { ("off", i % 100 == 1) };
    ///     store.observe("checkout", variant, if failed { Observation::error() } else { Observation::success() });
    /// }
    /// let kills = store.kills();
    /// assert!(kills[0].reason.starts_with("guardrail errors: "), "{}", kills[0].reason);
    /// assert!(store.guardrails()[0].tripped);
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub fn observe(&self, flag: &str, variant: &str, observation: Observation) {
        let outcome = self.with_plan(|plan| {
            let index = plan.index.get(flag)?;
            let f = plan.flags.get(index as usize)?;
            let v = f.variant_names.iter().position(|n| **n == *variant)?;
            // A killed flag gathers no evidence.
            if !f.enabled || plan.runtime.is_killed(index) {
                return Some(None);
            }
            let tripped = f
                .guardrails
                .iter()
                .find(|g| g.observe(v as u32, &observation));
            Some(tripped.map(|g| g.reason()))
        });
        match outcome {
            None => {
                self.observations_ignored.fetch_add(1, Ordering::Relaxed);
            }
            Some(Some(reason)) => self.trip(flag, reason),
            Some(None) => {}
        }
    }

    /// Kills `flag` for a tripped guardrail, and tells the kill listeners and the trip
    /// callback.
    #[cold]
    fn trip(&self, flag: &str, reason: String) {
        let kill = Kill {
            flag: flag.to_owned(),
            reason,
            at: SystemTime::now(),
        };
        #[cfg(feature = "cache")]
        log::warn!("flag `{flag}` killed: {}", kill.reason);
        let mut state = self.lock();
        let was_killed = state
            .kills
            .insert(kill.flag.clone(), kill.clone())
            .is_some();
        state.guardrail_trips += 1;
        self.set_killed(flag, true);
        notify_kill_listeners(&state);
        if !was_killed {
            notify_killed(&state, &self.current.load(), vec![flag.to_owned()]);
        }
        let listener = state.trip_listener.clone();
        drop(state);
        if let Some(listener) = listener {
            listener(std::slice::from_ref(&kill));
        }
    }

    /// Calls `callback` with the kill each time a guardrail trips (to propagate it to the
    /// rest of a fleet, say), on the thread whose observation tripped it, after the kill
    /// took effect. Replaces any earlier callback.
    pub fn on_guardrail_trip(&self, callback: impl Fn(&Kill) + Send + Sync + 'static) {
        let listener: KillListener =
            Arc::new(move |kills: &[Kill]| kills.iter().for_each(&callback));
        self.lock().trip_listener = Some(listener);
    }

    /// Every guardrail of the serving snapshot, with its evidence and state.
    pub fn guardrails(&self) -> Vec<GuardrailStatus> {
        let plan = self.current.load();
        plan.flags
            .iter()
            .flat_map(|f| f.guardrails.iter().map(move |g| GuardrailStatus::new(f, g)))
            .collect()
    }

    /// How many guardrails have tripped since the store was created.
    pub fn guardrail_trips(&self) -> u64 {
        self.lock().guardrail_trips
    }

    /// How many [`observe`](Store::observe) calls named an unknown flag or variant.
    pub fn observations_ignored(&self) -> u64 {
        self.observations_ignored.load(Ordering::Relaxed)
    }

    /// Records an exposure for every top-level evaluation of a flag with
    /// `"exposures": true` that serves a variant, and delivers them to `sink` in batches on
    /// a background thread, repeats of one unit, flag and variant within the
    /// deduplication window left out (docs/format.md §5.7). Calling it again replaces the
    /// sink (after the old one got everything queued before) and the options, but not the
    /// queue's capacity.
    ///
    /// Evaluating threads pay for a compact record handed to a bounded queue: no lock, no
    /// I/O, no allocation for keys up to 47 bytes, never a wait; when the queue is full
    /// the exposure is dropped and counted ([`exposure_stats`](Store::exposure_stats)).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use flagcore::{EvaluationContext, ExposureOptions, Store};
    ///
    /// let store = Store::from_bytes(br#"{"version": 1, "flags": {"checkout": {
    ///   "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    ///   "exposures": true,
    ///   "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 50},
    ///                                         {"variant": "off", "weight": 50}]}}}}}"#)?;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = Arc::clone(&seen);
    /// store.track_exposures(move |batch: &[flagcore::Exposure]| {
    ///     sink.lock().unwrap().extend(batch.iter().map(|e| e.to_json_line()));
    /// }, ExposureOptions::new())?;
    /// for _ in 0..3 {
    ///     store.bool("checkout", &EvaluationContext::new("u-1"), false);
    /// }
    /// store.flush_exposures();
    /// let seen = seen.lock().unwrap();
    /// assert_eq!(seen.len(), 1, "one exposure: the repeats are deduplicated");
    /// assert!(seen[0].contains(r#""flag":"checkout""#) && seen[0].contains(r#""unit":"u-1""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn track_exposures(
        &self,
        sink: impl ExposureSink,
        options: ExposureOptions,
    ) -> std::io::Result<()> {
        let _writer = self.lock();
        let plan = self.current.load_full();
        self.tracker
            .start(&self.exposures, plan, Box::new(sink), options)
    }

    /// Delivers every exposure queued before this call to the sink and flushes it (a file
    /// sink syncs its file). Waits for the tracking thread; not for an evaluating thread.
    pub fn flush_exposures(&self) {
        self.tracker.flush(&self.exposures);
    }

    /// Stops tracking exposures until the next [`track_exposures`](Store::track_exposures):
    /// evaluations record nothing more, everything queued is delivered, and the sink is
    /// flushed and dropped.
    pub fn stop_exposures(&self) {
        self.tracker.pause(&self.exposures);
    }

    /// What exposure tracking has done: accepted, delivered, deduplicated and dropped
    /// exposures, and sink errors.
    pub fn exposure_stats(&self) -> ExposureStats {
        self.tracker.stats(&self.exposures)
    }

    /// Calls `subscriber` after each change of what the store serves, with the new version
    /// and the flags that changed: an [`update`](Store::update) (flags added, removed,
    /// defined differently, or using a segment or prerequisite that is; computed once, at
    /// the swap), and each [`kill`](Store::kill), [`revive`](Store::revive),
    /// [`restore_kills`](Store::restore_kills) or guardrail trip that changes a flag's
    /// kill. Whatever feeds the store (Rust code, a source, a binding), subscribers hear
    /// of it: the OpenFeature providers emit their configuration-changed events from it.
    ///
    /// Like a kill listener, it runs on the thread that made the change while the writer
    /// lock is held: it must be quick and must not call this store's writing methods.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let flag = |enabled: bool| format!(r#"{{"variants": {{"on": true, "off": false}},
    ///     "enabled": {enabled}, "off_variant": "off", "fallthrough": {{"variant": "on"}}}}"#);
    /// let store = flagcore::Store::from_bytes(format!(
    ///     r#"{{"version": 1, "flags": {{"a": {}, "b": {}}}}}"#, flag(true), flag(true)).as_bytes())?;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = Arc::clone(&seen);
    /// store.subscribe(move |change| log.lock().unwrap().push(change.clone()));
    ///
    /// store.update(format!(r#"{{"version": 2, "flags": {{"a": {}, "b": {}}}}}"#,
    ///     flag(true), flag(false)).as_bytes())?;
    /// store.kill("a", "incident");
    /// let seen = seen.lock().unwrap();
    /// assert_eq!((seen[0].version, seen[0].flags.clone()), (Some(2), vec!["b".to_owned()]));
    /// assert_eq!(seen[1].flags, ["a"]);
    /// # Ok::<(), flagcore::Error>(())
    /// ```
    pub fn subscribe(
        &self,
        subscriber: impl Fn(&Change) + Send + Sync + 'static,
    ) -> SubscriptionId {
        let mut state = self.lock();
        let id = state.next_listener;
        state.next_listener += 1;
        state.subscribers.push((id, Arc::new(subscriber)));
        SubscriptionId(id)
    }

    /// Ends a subscription made with [`subscribe`](Store::subscribe); returns whether it
    /// was there.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        let mut state = self.lock();
        let before = state.subscribers.len();
        state.subscribers.retain(|(n, _)| *n != id.0);
        state.subscribers.len() != before
    }

    /// The store's process-wide unique id.
    #[cfg(feature = "cache")]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}
