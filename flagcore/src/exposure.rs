//! Exposure events: who was served which variant of a flag that opts in with
//! `"exposures": true` (docs/format.md §2.14, §5.7), named, deduplicated and delivered to
//! a sink on a background thread.
//!
//! Evaluating threads only queue a compact record (`runtime/exposures.rs`); this thread
//! drains the queue every [`ExposureOptions::flush_interval`] (it never blocks on the
//! queue, so that senders never need to wake it), names each record from the plan it was
//! made with, drops repeats of one unit, flag and variant within the deduplication window,
//! and hands batches to the sink.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::eval::details::Reason;
use crate::plan::Plan;
use crate::runtime::exposures::{ExposureQueue, Message, Record};

/// One exposure: a top-level evaluation of a flag with `"exposures": true` that served a
/// variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// When, to the millisecond.
    pub time: SystemTime,
    /// The flag.
    pub flag: String,
    /// The variant served.
    pub variant: String,
    /// Why it was served.
    pub reason: Reason,
    /// The rule that decided, if one did.
    pub rule_index: Option<usize>,
    /// That rule's `id`.
    pub rule_id: Option<String>,
    /// The targeting key, if the context had one.
    pub key: Option<String>,
    /// The experiment's randomisation unit: the value of the rollout's `by` attribute that
    /// was bucketed (an integer as its decimal string), else the targeting key.
    pub unit: Option<String>,
    /// The bucket, when a rollout decided.
    pub bucket: Option<u32>,
    /// The schedule step in force, when a scheduled rollout decided.
    pub step: Option<usize>,
    /// The snapshot version that served it.
    pub version: u64,
}

impl Exposure {
    /// The exposure as one line of JSON (no newline), as the JSON Lines sink writes it:
    /// `time` (RFC 3339, milliseconds, UTC), `flag`, `variant`, `reason`, `rule_index`,
    /// `rule_id`, `key`, `unit`, `bucket`, `step`, `version`.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    ///
    /// let exposure = flagcore::Exposure {
    ///     time: SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_191_200_250),
    ///     flag: "checkout".into(), variant: "on".into(), reason: flagcore::Reason::Split,
    ///     rule_index: None, rule_id: None, key: Some("u-1".into()),
    ///     unit: Some("acct-9".into()), bucket: Some(1234), step: None, version: 7,
    /// };
    /// assert_eq!(exposure.to_json_line(), concat!(
    ///     r#"{"time":"2026-12-02T06:00:00.250Z","flag":"checkout","variant":"on","#,
    ///     r#""reason":"SPLIT","rule_index":null,"rule_id":null,"key":"u-1","unit":"acct-9","#,
    ///     r#""bucket":1234,"step":null,"version":7}"#));
    /// ```
    pub fn to_json_line(&self) -> String {
        /// The line's fields, in the order they are documented and written.
        #[derive(serde::Serialize)]
        struct Line<'a> {
            time: String,
            flag: &'a str,
            variant: &'a str,
            reason: &'a str,
            rule_index: Option<usize>,
            rule_id: Option<&'a str>,
            key: Option<&'a str>,
            unit: Option<&'a str>,
            bucket: Option<u32>,
            step: Option<usize>,
            version: u64,
        }
        let line = Line {
            time: crate::format_rfc3339(self.time),
            flag: &self.flag,
            variant: &self.variant,
            reason: self.reason.as_str(),
            rule_index: self.rule_index,
            rule_id: self.rule_id.as_deref(),
            key: self.key.as_deref(),
            unit: self.unit.as_deref(),
            bucket: self.bucket,
            step: self.step,
            version: self.version,
        };
        // Strings and numbers only: serializing cannot fail.
        serde_json::to_string(&line).unwrap_or_default()
    }
}

/// Where exposures go: called on the tracking thread with each batch, in order.
pub trait ExposureSink: Send + 'static {
    /// Takes a batch. An error is counted and logged; the batch is not retried.
    fn deliver(&mut self, batch: &[Exposure]) -> io::Result<()>;

    /// Makes everything delivered so far durable (a file sink syncs its file).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A closure receives the batches.
impl<F: FnMut(&[Exposure]) + Send + 'static> ExposureSink for F {
    fn deliver(&mut self, batch: &[Exposure]) -> io::Result<()> {
        self(batch);
        Ok(())
    }
}

/// A JSON Lines file, one exposure per line, appended; when a line would take it past
/// `max_bytes`, the file is renamed `PATH.1` (older ones `PATH.2`, ... up to `keep`) and
/// a new one begins.
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: BufWriter<File>,
    written: u64,
}

impl JsonLinesSink {
    /// Appends to `path` (created if missing), rotating at `max_bytes` and keeping `keep`
    /// rotated files.
    pub fn open(path: impl Into<PathBuf>, max_bytes: u64, keep: usize) -> io::Result<Self> {
        let path = path.into();
        let file = append(&path)?;
        let written = file.metadata()?.len();
        Ok(JsonLinesSink {
            path,
            max_bytes,
            keep,
            file: BufWriter::new(file),
            written,
        })
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let numbered = |n: usize| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for n in (1..self.keep).rev() {
                if numbered(n).exists() {
                    std::fs::rename(numbered(n), numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = BufWriter::new(append(&self.path)?);
        self.written = 0;
        Ok(())
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl ExposureSink for JsonLinesSink {
    fn deliver(&mut self, batch: &[Exposure]) -> io::Result<()> {
        for exposure in batch {
            let mut line = exposure.to_json_line();
            line.push('\n');
            if self.written > 0 && self.written + line.len() as u64 > self.max_bytes {
                self.rotate()?;
            }
            self.file.write_all(line.as_bytes())?;
            self.written += line.len() as u64;
        }
        self.file.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()
    }
}

/// How exposures are queued and deduplicated.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExposureOptions {
    /// Exposures the queue holds before evaluating threads drop new ones (fixed when
    /// tracking first starts on a store). Default 16,384.
    pub capacity: usize,
    /// Units remembered for deduplication (least recently seen forgotten first).
    /// Default 100,000; 0 turns deduplication off.
    pub dedup_size: usize,
    /// A repeat of one unit, flag and variant within this long is dropped as a duplicate.
    /// Default 10 minutes.
    pub dedup_window: Duration,
    /// How often the tracking thread drains the queue. Default 100 ms.
    pub flush_interval: Duration,
}

impl Default for ExposureOptions {
    fn default() -> Self {
        ExposureOptions {
            capacity: 16_384,
            dedup_size: 100_000,
            dedup_window: Duration::from_secs(600),
            flush_interval: Duration::from_millis(100),
        }
    }
}

impl ExposureOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// With a queue of `capacity` exposures.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// With deduplication over `size` units for `window`.
    pub fn dedup(mut self, size: usize, window: Duration) -> Self {
        self.dedup_size = size;
        self.dedup_window = window;
        self
    }

    /// Draining the queue every `interval`.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }
}

/// What exposure tracking has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExposureStats {
    /// Exposures taken from the queue.
    pub accepted: u64,
    /// Of them, handed to the sink.
    pub delivered: u64,
    /// Of them, repeats within the deduplication window, not delivered.
    pub deduplicated: u64,
    /// Exposures lost: the queue was full (the sink fell behind), tracking had stopped, or
    /// the snapshot that made them was gone before they were named.
    pub dropped: u64,
    /// Batches the sink refused (their exposures are not counted as delivered).
    pub sink_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    delivered: AtomicU64,
    deduplicated: AtomicU64,
    sink_errors: AtomicU64,
}

/// Plans whose records the tracking thread may still have to name, newest last.
const PLANS_KEPT: usize = 8;

/// A store's exposure tracking: the consumer thread and what it shares with the store.
#[derive(Default)]
pub(crate) struct Tracker {
    plans: Arc<Mutex<VecDeque<Arc<Plan>>>>,
    sink: Arc<Mutex<Option<Box<dyn ExposureSink>>>>,
    options: Arc<Mutex<ExposureOptions>>,
    counters: Arc<Counters>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker").finish_non_exhaustive()
    }
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tracker {
    /// Starts (or re-targets) tracking into `sink`, with `plan` serving now.
    pub(crate) fn start(
        &self,
        queue: &Arc<ExposureQueue>,
        plan: Arc<Plan>,
        sink: Box<dyn ExposureSink>,
        options: ExposureOptions,
    ) -> io::Result<()> {
        self.note_plan(plan);
        // The sink being replaced gets everything queued before this call.
        self.flush(queue);
        let replaced = lock(&self.sink).replace(sink);
        *lock(&self.options) = options.clone();
        if let Some(rx) = queue.open(options.capacity.max(1)) {
            let consumer = Consumer {
                rx,
                queue: Arc::clone(queue),
                plans: Arc::clone(&self.plans),
                sink: Arc::clone(&self.sink),
                options: Arc::clone(&self.options),
                counters: Arc::clone(&self.counters),
                seen: Dedup::default(),
                last_plan: None,
            };
            let thread = std::thread::Builder::new()
                .name("flagcore-exposures".into())
                .spawn(move || consumer.run())?;
            *lock(&self.thread) = Some(thread);
        }
        queue.set_active(true);
        if let Some(mut old) = replaced {
            let _ = old.flush();
        }
        Ok(())
    }

    /// Remembers a plan that records may refer to.
    pub(crate) fn note_plan(&self, plan: Arc<Plan>) {
        let mut plans = lock(&self.plans);
        plans.push_back(plan);
        while plans.len() > PLANS_KEPT {
            plans.pop_front();
        }
    }

    /// Delivers everything queued before this call and flushes the sink.
    pub(crate) fn flush(&self, queue: &ExposureQueue) {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        if !queue.send_control(Message::Flush(Arc::clone(&done))) {
            return;
        }
        if let Some(thread) = lock(&self.thread).as_ref() {
            thread.thread().unpark();
        }
        let (flag, signal) = &*done;
        let mut flushed = lock(flag);
        while !*flushed {
            flushed = signal.wait(flushed).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Stops tracking until the next `start`: evaluations record nothing more, everything
    /// queued is delivered, and the sink is flushed and dropped. The thread stays, idle.
    pub(crate) fn pause(&self, queue: &ExposureQueue) {
        queue.set_active(false);
        self.flush(queue);
        let sink = lock(&self.sink).take();
        if let Some(mut sink) = sink {
            let _ = sink.flush();
        }
    }

    /// Stops tracking for good (the store is going): evaluations record nothing more,
    /// everything queued is delivered first, and the thread ends.
    pub(crate) fn stop(&self, queue: &ExposureQueue) {
        queue.set_active(false);
        self.flush(queue);
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            queue.send_control(Message::Stop);
            thread.thread().unpark();
            let _ = thread.join();
        }
    }

    pub(crate) fn stats(&self, queue: &ExposureQueue) -> ExposureStats {
        let c = &self.counters;
        ExposureStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            deduplicated: c.deduplicated.load(Ordering::Relaxed),
            dropped: queue.dropped(),
            sink_errors: c.sink_errors.load(Ordering::Relaxed),
        }
    }
}

/// The tracking thread's state.
struct Consumer {
    rx: Receiver<Message>,
    queue: Arc<ExposureQueue>,
    plans: Arc<Mutex<VecDeque<Arc<Plan>>>>,
    sink: Arc<Mutex<Option<Box<dyn ExposureSink>>>>,
    options: Arc<Mutex<ExposureOptions>>,
    counters: Arc<Counters>,
    seen: Dedup,
    /// The plan the last record was made with: most records share it.
    last_plan: Option<Arc<Plan>>,
}

impl Consumer {
    fn run(mut self) {
        let mut batch = Vec::new();
        loop {
            let interval = lock(&self.options).flush_interval;
            std::thread::park_timeout(interval);
            loop {
                match self.rx.try_recv() {
                    Ok(Message::Exposure(record)) => {
                        // Read per record: `track_exposures` replaces the options after
                        // its flush and before anything evaluated later is queued, so a
                        // record received now sees the options in force when it was made
                        // (a copy taken on waking could predate the replacement).
                        let options = lock(&self.options).clone();
                        if let Some(exposure) = self.name(&record, &options) {
                            batch.push(exposure);
                        }
                    }
                    Ok(Message::Flush(done)) => {
                        self.deliver(&mut batch, true);
                        let (flag, signal) = &*done;
                        *lock(flag) = true;
                        signal.notify_all();
                    }
                    Ok(Message::Stop) | Err(TryRecvError::Disconnected) => {
                        self.deliver(&mut batch, true);
                        return;
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
            self.deliver(&mut batch, false);
        }
    }

    /// Names a record from its plan, or counts it dropped; `None` for a duplicate too.
    fn name(&mut self, record: &Record, options: &ExposureOptions) -> Option<Exposure> {
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        if self.last_plan.as_ref().is_none_or(|p| p.id != record.plan) {
            self.last_plan = lock(&self.plans)
                .iter()
                .rev()
                .find(|p| p.id == record.plan)
                .cloned();
        }
        let plan = self.last_plan.as_ref();
        let named = plan.as_ref().and_then(|plan| {
            let flag = plan.flags.get(record.flag as usize)?;
            let variant = flag.variant_names.get(record.variant as usize)?;
            let rule_id = record
                .rule
                .and_then(|i| flag.rules.get(i as usize))
                .and_then(|r| r.id.as_deref());
            let key = record.key.as_str();
            let unit = record.unit.as_str().or(key);
            Some(Exposure {
                time: UNIX_EPOCH + Duration::from_millis(record.at_ms.max(0) as u64),
                flag: flag.name.to_string(),
                variant: variant.to_string(),
                reason: Reason::ALL
                    .get(record.reason as usize)
                    .copied()
                    .unwrap_or(Reason::Split),
                rule_index: record.rule.map(|i| i as usize),
                rule_id: rule_id.map(str::to_owned),
                key: key.map(str::to_owned),
                unit: unit.map(str::to_owned),
                bucket: record.bucket,
                step: record.step.map(|s| s as usize),
                version: plan.version,
            })
        });
        let Some(exposure) = named else {
            self.queue.count_dropped(1);
            return None;
        };
        if self.seen.repeat(
            &exposure,
            record.at_ms,
            options.dedup_size,
            options.dedup_window,
        ) {
            self.counters.deduplicated.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(exposure)
    }

    /// Hands `batch` to the sink (and flushes it when `durable`).
    fn deliver(&mut self, batch: &mut Vec<Exposure>, durable: bool) {
        let mut sink = lock(&self.sink);
        let Some(sink) = sink.as_mut() else {
            batch.clear();
            return;
        };
        if !batch.is_empty() {
            match sink.deliver(batch) {
                Ok(()) => {
                    self.counters
                        .delivered
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                Err(_) => {
                    self.counters.sink_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            batch.clear();
        }
        if durable && sink.flush().is_err() {
            self.counters.sink_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The units exposed lately, per flag and variant: a hash of the three, with the time of
/// the exposure delivered; the oldest are forgotten first. A repeat does not renew the
/// window, so a unit seen all day is reported once per window.
#[derive(Default)]
struct Dedup {
    last_seen: HashMap<u64, i64>,
    order: VecDeque<(u64, i64)>,
}

impl Dedup {
    /// Whether this unit was exposed to this flag and variant within `window` before
    /// `at_ms`; if not, remembers it now.
    fn repeat(&mut self, exposure: &Exposure, at_ms: i64, size: usize, window: Duration) -> bool {
        use std::hash::{Hash, Hasher};
        if size == 0 {
            return false;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&exposure.flag, &exposure.variant, &exposure.unit).hash(&mut hasher);
        let id = hasher.finish();
        let window_ms = window.as_millis() as i64;
        if self
            .last_seen
            .get(&id)
            .is_some_and(|seen| at_ms - seen < window_ms)
        {
            return true;
        }
        self.last_seen.insert(id, at_ms);
        self.order.push_back((id, at_ms));
        while let Some(&(old, seen)) = self.order.front() {
            // An entry is stale when its unit was remembered again later.
            let latest = self.last_seen.get(&old) == Some(&seen);
            if latest && at_ms - seen < window_ms && self.last_seen.len() <= size {
                break;
            }
            self.order.pop_front();
            if latest {
                self.last_seen.remove(&old);
            }
        }
        false
    }
}
