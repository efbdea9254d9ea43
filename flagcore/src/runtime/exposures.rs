//! The evaluating side of exposure tracking: a compact record of each exposure, handed to
//! a bounded queue without a lock, an allocation (for keys up to [`INLINE`] bytes) or I/O;
//! when the queue is full the exposure is dropped and counted. The consumer side, which
//! names, deduplicates and delivers them, is `crate::exposure`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// Bytes of a key or unit kept inside the record; longer ones are boxed.
pub(crate) const INLINE: usize = 47;

/// A string kept inline when short, so that most records need no allocation.
#[derive(Debug, Clone)]
pub(crate) enum Text {
    None,
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<str>),
}

impl Text {
    #[inline]
    pub(crate) fn new(text: Option<&str>) -> Text {
        match text {
            None => Text::None,
            Some(text) if text.len() <= INLINE => {
                let mut bytes = [0u8; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                Text::Inline {
                    len: text.len() as u8,
                    bytes,
                }
            }
            Some(text) => Text::Boxed(text.into()),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Text::None => None,
            // Inline bytes were copied from a `&str` whole, so they are UTF-8.
            Text::Inline { len, bytes } => std::str::from_utf8(&bytes[..*len as usize]).ok(),
            Text::Boxed(text) => Some(text),
        }
    }
}

/// One exposure as the evaluating thread records it: indices into its plan, not names.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// Unix milliseconds, from the coarse clock.
    pub at_ms: i64,
    /// The id of the plan the indices refer to.
    pub plan: u64,
    pub flag: u32,
    pub variant: u32,
    pub rule: Option<u32>,
    pub bucket: Option<u32>,
    pub step: Option<u32>,
    /// The reason's position in `Reason`'s declaration.
    pub reason: u8,
    pub key: Text,
    /// The bucketed attribute's value; `Text::None` when it is the key.
    pub unit: Text,
}

/// What travels to the consumer.
#[derive(Debug)]
pub(crate) enum Message {
    Exposure(Record),
    /// Deliver everything received so far, then set the flag and notify.
    Flush(Arc<(Mutex<bool>, Condvar)>),
    Stop,
}

/// A store's exposure queue. Plans hold it so evaluations can reach it; it is inactive
/// (evaluations skip it at the cost of one load) until tracking starts.
#[derive(Debug, Default)]
pub(crate) struct ExposureQueue {
    sender: OnceLock<SyncSender<Message>>,
    active: AtomicBool,
    /// Exposures the queue had no room for (or whose consumer had stopped).
    dropped: AtomicU64,
}

impl ExposureQueue {
    /// Whether exposures are being tracked.
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Hands `record` to the consumer, or counts it dropped; never blocks.
    #[inline]
    pub(crate) fn push(&self, record: Record) {
        let sent = match self.sender.get() {
            Some(tx) => tx.try_send(Message::Exposure(record)).is_ok(),
            None => false,
        };
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Opens the queue with room for `capacity` exposures and returns its receiving end;
    /// `None` when it was opened before (its capacity stays).
    pub(crate) fn open(&self, capacity: usize) -> Option<Receiver<Message>> {
        let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
        self.sender.set(tx).ok()?;
        Some(rx)
    }

    pub(crate) fn set_active(&self, active: bool) {
        self.active.store(active, Ordering::Relaxed);
    }

    /// Sends a control message, waiting for room (never from an evaluating thread).
    pub(crate) fn send_control(&self, message: Message) -> bool {
        self.sender.get().is_some_and(|tx| tx.send(message).is_ok())
    }

    /// Exposures dropped on the evaluating side.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Counts exposures the consumer could not name (their plan was gone).
    pub(crate) fn count_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Whether a consumer can receive (the queue is open and not shut down).
    pub(crate) fn is_open(&self) -> bool {
        self.sender.get().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_inline_and_long_text_boxed() {
        let short = "user-17";
        let long = "x".repeat(INLINE + 1);
        assert!(matches!(Text::new(Some(short)), Text::Inline { .. }));
        assert_eq!(Text::new(Some(short)).as_str(), Some(short));
        assert!(matches!(Text::new(Some(&long)), Text::Boxed(_)));
        assert_eq!(Text::new(Some(&long)).as_str(), Some(long.as_str()));
        assert_eq!(Text::new(None).as_str(), None);
        let edge = "é".repeat(INLINE / 2);
        assert_eq!(Text::new(Some(&edge)).as_str(), Some(edge.as_str()));
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        let queue = ExposureQueue::default();
        let rx = queue.open(1).unwrap();
        assert!(queue.open(8).is_none(), "opened once");
        let record = || Record {
            at_ms: 0,
            plan: 1,
            flag: 0,
            variant: 0,
            rule: None,
            bucket: None,
            step: None,
            reason: 0,
            key: Text::new(Some("k")),
            unit: Text::None,
        };
        queue.push(record());
        assert_eq!(queue.dropped(), 0);
        queue.push(record());
        assert_eq!(queue.dropped(), 1, "no room: dropped, not waited for");
        assert!(matches!(rx.try_recv(), Ok(Message::Exposure(_))));
    }
}
