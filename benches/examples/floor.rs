//! The floor under `profile static` and `profile_handle static`, for
//! `valgrind --tool=callgrind`: `floor name|handle [N]` evaluates a static boolean flag
//! `N` times with only the work no implementation of flagcore's guarantees can skip, on a
//! store of its own built the way flagcore's is. Per evaluation:
//!
//! - the store's serving plan id (one Acquire load), compared with the plan id the thread
//!   cached (a swap is seen by the next evaluation; no reference count is touched);
//! - by name: the name's length class, its words, one multiply, one slot of the index and
//!   its three words compared; through a handle: the handle's plan id and index;
//! - the flag's record, packed into one word (answer, counter slot, "served without
//!   evaluating"), where flagcore's `FlagPlan` spreads these over five fields;
//! - the kill bit (a kill is seen by the next evaluation);
//! - counting: whether it is on, the thread's shard (claimed before the loop, so no
//!   "unclaimed" test), one plain add;
//! - the loop itself, with `black_box` on the flag as `profile` has.
//!
//! Indexing keeps its bounds checks, as safe library code would. The difference between
//! runs of 100,000 and 200,000 evaluations, over 100,000, is the count per evaluation.

use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// An index slot: the name's words (all of a name up to 16 bytes) and the flag index + 1.
#[derive(Clone, Copy, Default)]
struct Slot {
    head: u64,
    tail: u64,
    len: u32,
    index: u32,
}

/// A plan reduced to what a static flag's evaluation reads.
struct Plan {
    id: u64,
    slots: Box<[Slot]>,
    mask: usize,
    /// Per flag: bit 63 = served without evaluating, bits 32.. = counter slot, bit 0 = value.
    records: Box<[u64]>,
    killed: Box<[AtomicBool]>,
    counting: AtomicBool,
    counts: Box<[AtomicU64]>,
    stride: usize,
}

struct Store {
    current: ArcSwap<Plan>,
    current_id: AtomicU64,
}

thread_local! {
    /// The plan id and address the thread last read; the `Arc` lives in `HELD`.
    static CACHED: Cell<(u64, *const Plan)> = const { Cell::new((0, std::ptr::null())) };
    static HELD: Cell<Option<Arc<Plan>>> = const { Cell::new(None) };
    static SHARD: Cell<u8> = const { Cell::new(0) };
}

fn words(name: &[u8]) -> (u64, u64) {
    let len = name.len();
    let read8 = |at: usize| u64::from_le_bytes(name[at..at + 8].try_into().unwrap_or_default());
    let read4 = |at: usize| {
        u64::from(u32::from_le_bytes(
            name[at..at + 4].try_into().unwrap_or_default(),
        ))
    };
    if len > 8 {
        (read8(0), read8(len - 8))
    } else if len >= 4 {
        (read4(0) | read4(len - 4) << 32, 0)
    } else if len > 0 {
        (
            u64::from(name[0]) | u64::from(name[len / 2]) << 8 | u64::from(name[len - 1]) << 16,
            0,
        )
    } else {
        (0, 0)
    }
}

fn slot_of(head: u64, tail: u64, len: usize, mask: usize) -> usize {
    let h = (head ^ tail.rotate_left(32) ^ (len as u64) << 58).wrapping_mul(MULTIPLIER);
    (h ^ h >> 32) as usize & mask
}

impl Plan {
    /// One flag per name, each static with value `true`; names up to 16 bytes.
    fn new(id: u64, names: &[&str]) -> Plan {
        let mask = (names.len() * 2).next_power_of_two().max(8) - 1;
        let mut slots = vec![Slot::default(); mask + 1].into_boxed_slice();
        for (i, name) in names.iter().enumerate() {
            let (head, tail) = words(name.as_bytes());
            let mut at = slot_of(head, tail, name.len(), mask);
            while slots[at].index != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = Slot {
                head,
                tail,
                len: name.len() as u32,
                index: i as u32 + 1,
            };
        }
        let stride = names.len().div_ceil(8) * 8;
        Plan {
            id,
            slots,
            mask,
            records: (0..names.len() as u64)
                .map(|i| 1 << 63 | i << 32 | 1)
                .collect(),
            killed: names.iter().map(|_| AtomicBool::new(false)).collect(),
            counting: AtomicBool::new(true),
            counts: (0..stride * 9).map(|_| AtomicU64::new(0)).collect(),
            stride,
        }
    }

    #[inline(always)]
    fn index(&self, name: &str) -> Option<usize> {
        let (head, tail) = words(name.as_bytes());
        let mut at = slot_of(head, tail, name.len(), self.mask);
        loop {
            let slot = self.slots.get(at)?;
            if slot.index == 0 {
                return None;
            }
            if slot.head == head && slot.tail == tail && slot.len as usize == name.len() {
                return Some(slot.index as usize - 1);
            }
            at = (at + 1) & self.mask;
        }
    }

    #[inline(always)]
    fn bool(&self, index: usize, default: bool) -> bool {
        let Some(&record) = self.records.get(index) else {
            return default;
        };
        let killed = self
            .killed
            .get(index)
            .is_none_or(|k| k.load(Ordering::Acquire));
        if record >> 63 == 0 || killed {
            return default; // evaluation proper: not part of the floor
        }
        if self.counting.load(Ordering::Relaxed) {
            let at = usize::from(SHARD.get()) * self.stride + (record >> 32 & 0x7fff_ffff) as usize;
            if let Some(c) = self.counts.get(at) {
                c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
            }
        }
        record & 1 == 1
    }
}

/// A handle: plan id in the high 40 bits, index in the low 24.
struct Handle(AtomicU64);

impl Store {
    #[inline(always)]
    fn read<R>(&self, read: impl FnOnce(&Plan) -> R) -> R {
        let serving = self.current_id.load(Ordering::Acquire);
        let (id, mut plan) = CACHED.get();
        if id != serving {
            plan = self.refresh();
        }
        // SAFETY: the cached address is that of the plan `HELD` holds, and only `refresh`
        // (never reached inside `read`) replaces it.
        read(unsafe { &*plan })
    }

    #[cold]
    #[inline(never)]
    fn refresh(&self) -> *const Plan {
        let plan = self.current.load_full();
        let address = Arc::as_ptr(&plan);
        CACHED.set((plan.id, address));
        drop(HELD.replace(Some(plan)));
        address
    }

    #[inline(always)]
    fn bool_by_name(&self, name: &str, default: bool) -> bool {
        self.read(|plan| match plan.index(name) {
            Some(index) => plan.bool(index, default),
            None => default,
        })
    }

    #[inline(always)]
    fn bool_by_handle(&self, handle: &Handle, default: bool) -> bool {
        self.read(|plan| {
            let cached = handle.0.load(Ordering::Relaxed);
            let index = if cached >> 24 == plan.id {
                (cached & 0xff_ffff) as usize
            } else {
                let Some(index) = plan.index("static") else {
                    return default;
                };
                handle
                    .0
                    .store(plan.id << 24 | index as u64, Ordering::Relaxed);
                index
            };
            plan.bool(index, default)
        })
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let how = args.next().unwrap_or_else(|| "name".to_owned());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    // The flag names of `profile`'s snapshot that its static case sits among.
    let names = [
        "static",
        "killed",
        "targets",
        "three-rules",
        "long-in",
        "matches",
        "semver",
        "chain-3",
    ];
    let store = Store {
        current: ArcSwap::from_pointee(Plan::new(1, &names)),
        current_id: AtomicU64::new(1),
    };
    // A swap, as a store that has been updated once has seen.
    store.current.store(Arc::new(Plan::new(2, &names)));
    store.current_id.store(2, Ordering::Release);
    // The thread's counter shard, claimed once (opaque, so the loop reads it as flagcore's does).
    SHARD.set(black_box(0));
    let flag = "static".to_owned();
    let handle = Handle(AtomicU64::new(0));
    let mut on = 0u64;
    match how.as_str() {
        "handle" => {
            for _ in 0..n {
                on += u64::from(store.bool_by_handle(black_box(&handle), false));
            }
        }
        _ => {
            for _ in 0..n {
                on += u64::from(store.bool_by_name(black_box(&flag), false));
            }
        }
    }
    println!("{how}: {on} of {n} on");
}
