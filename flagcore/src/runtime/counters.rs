//! Evaluation counts, per flag and variant, in atomics the evaluating threads add to
//! without a lock or an allocation.

use std::cell::Cell;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Counter shards a thread can own outright: its owner counts with a plain load and store,
/// no locked instruction. Threads beyond these share one more shard and count atomically.
pub(crate) const OWNED_SHARDS: usize = 8;

/// Which owned shards some live thread holds, one bit each.
static SHARDS_CLAIMED: AtomicU32 = AtomicU32::new(0);

/// A thread's counter shard, given back when the thread exits.
struct ShardClaim(usize);

impl ShardClaim {
    fn claim() -> ShardClaim {
        let mut claimed = SHARDS_CLAIMED.load(Ordering::Acquire);
        loop {
            let free = (!claimed).trailing_zeros() as usize;
            if free >= OWNED_SHARDS {
                return ShardClaim(OWNED_SHARDS);
            }
            // Acquire pairs with the Release of the thread that gave the shard back, so its
            // last plain stores are seen before this thread adds to them.
            match SHARDS_CLAIMED.compare_exchange_weak(
                claimed,
                claimed | 1 << free,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => return ShardClaim(free),
                Err(now) => claimed = now,
            }
        }
    }
}

impl Drop for ShardClaim {
    fn drop(&mut self) {
        // Whatever this thread counts from now on (in other thread-local destructors) goes
        // to the shared shard.
        SHARD.set(OWNED_SHARDS as u8);
        if self.0 < OWNED_SHARDS {
            SHARDS_CLAIMED.fetch_and(!(1 << self.0), Ordering::Release);
        }
    }
}

/// Marks a thread that has not counted yet.
const UNCLAIMED: u8 = u8::MAX;
/// [`UNCLAIMED`] as a shard number.
const UNCLAIMED_SHARD: usize = UNCLAIMED as usize;

thread_local! {
    /// The calling thread's shard, once known. Constant-initialised and without a
    /// destructor, so reading it is one load with no state check: it is read on every
    /// evaluation, where the lazily claimed `CLAIM` would cost a check and a branch.
    static SHARD: Cell<u8> = const { Cell::new(UNCLAIMED) };
    /// Holds the thread's claim, and gives the shard back when the thread exits.
    static CLAIM: ShardClaim = ShardClaim::claim();
}

/// The thread's first count: claims its shard.
#[cold]
fn first_shard() -> usize {
    // A thread that is exiting has given its shard back: it counts in the shared one.
    let shard = CLAIM.try_with(|c| c.0).unwrap_or(OWNED_SHARDS);
    // `OWNED_SHARDS` (8) fits a byte.
    SHARD.set(shard as u8);
    shard
}

/// The evaluation counts of one plan: one slot per flag and variant (and one per flag for
/// the caller's default), in [`OWNED_SHARDS`] copies `stride` apart, so threads counting
/// the same flag do not fight over one cache line, and one shared copy.
#[derive(Debug)]
pub(crate) struct Counters {
    owned: Box<[AtomicU64]>,
    shared: Box<[AtomicU64]>,
    stride: usize,
    /// Per slot, the sum over shards already handed out by [`Counters::drain`]. Owned
    /// shards cannot be reset under their owner's plain stores, so cells only grow and
    /// draining subtracts this.
    taken: Mutex<Box<[u64]>>,
    enabled: AtomicBool,
}

impl Counters {
    pub(crate) fn new(slots: usize) -> Counters {
        // Whole cache lines per shard (8 counters of 8 bytes).
        let stride = slots.div_ceil(8) * 8;
        let zeros = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        Counters {
            owned: zeros(stride * OWNED_SHARDS),
            shared: zeros(stride),
            stride,
            taken: Mutex::new(vec![0; stride].into_boxed_slice()),
            enabled: AtomicBool::new(true),
        }
    }

    /// Counts one evaluation in `slot`.
    #[inline]
    pub(crate) fn count(&self, slot: u32) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        // One test serves the common case: an owned shard. Slots are below the stride,
        // so the shared shard (`OWNED_SHARDS`) and a thread's first count (`UNCLAIMED`)
        // both index past the owned shards.
        let shard = usize::from(SHARD.get());
        if let Some(counter) = self.owned.get(shard * self.stride + slot as usize) {
            // Only this thread writes this shard, so load-and-store loses nothing.
            counter.store(
                counter.load(Ordering::Relaxed).wrapping_add(1),
                Ordering::Relaxed,
            );
        } else {
            self.count_shared(shard, slot);
        }
    }

    /// Counts in the shared shard; on the thread's first count, claims its shard first
    /// (and counts there if it got an owned one).
    #[cold]
    fn count_shared(&self, shard: usize, slot: u32) {
        if shard == UNCLAIMED_SHARD && first_shard() < OWNED_SHARDS {
            return self.count(slot);
        }
        if let Some(counter) = self.shared.get(slot as usize) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Turns counting on or off.
    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// The counts of `slots` since they were last drained.
    pub(crate) fn drain(&self, slots: RangeInclusive<usize>) -> Vec<u64> {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        slots
            .map(|at| {
                let total = (0..OWNED_SHARDS)
                    .filter_map(|shard| self.owned.get(shard * self.stride + at))
                    .chain(self.shared.get(at))
                    .map(|cell| cell.load(Ordering::Relaxed))
                    .fold(0u64, u64::wrapping_add);
                let Some(before) = taken.get_mut(at) else {
                    return 0;
                };
                let new = total.wrapping_sub(*before);
                *before = total;
                new
            })
            .collect()
    }
}
