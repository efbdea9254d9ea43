//! The wall clock that scheduled rollouts are read against.
//!
//! A schedule step must take effect within a second of its instant, so the evaluator
//! reads a coarse clock: on Linux the kernel's time as of its last tick (a few
//! milliseconds old at most, and a fraction of the cost of a precise read, which this
//! hot path would otherwise pay on every evaluation of a scheduled flag).

use std::time::SystemTime;

/// The current time in Unix nanoseconds, to within a few milliseconds.
#[cfg(target_os = "linux")]
#[inline]
pub(crate) fn now_nanos() -> i128 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a live, writable `timespec` for the whole call, which writes only
    // to it; CLOCK_REALTIME_COARSE is a valid clock id on every Linux since 2.6.32, and a
    // failure (reported by the return value) leaves `now` unread.
    let failed = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut now) } != 0;
    if failed {
        return unix_nanos(SystemTime::now());
    }
    i128::from(now.tv_sec) * 1_000_000_000 + i128::from(now.tv_nsec)
}

/// The current time in Unix nanoseconds.
#[cfg(not(target_os = "linux"))]
#[inline]
pub(crate) fn now_nanos() -> i128 {
    unix_nanos(SystemTime::now())
}

/// Nanoseconds since the Unix epoch, negative before it.
#[inline]
pub(crate) fn unix_nanos(instant: SystemTime) -> i128 {
    match instant.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}
