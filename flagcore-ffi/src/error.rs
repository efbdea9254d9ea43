//! Result codes, and the thread's last error: its message and validation problems.

use std::cell::RefCell;
use std::ffi::{c_char, CStr};

use flagcore_engine::ValidationError;

use crate::panic::ffi_boundary;
use crate::ptr::{fc_str, write_out};

/// What a call did: `FC_RESULT_OK`, or why it failed.
///
/// Codes are numbered in blocks: 1xx the caller's arguments, 2xx snapshots and the store,
/// 3xx bugs in flagcore. Each has a stable name (`fc_result_code`), the same string the
/// Rust, Python and Go bindings use. New codes may be added within a block; a code's
/// number and name never change. After a failure, `fc_last_error_message` says more.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fc_result {
    /// Success.
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL (`null_pointer`).
    NullPointer = 100,
    /// A string argument is not valid UTF-8 (`invalid_utf8`).
    InvalidUtf8 = 101,
    /// An argument is out of its domain: an unknown enum value, a length above
    /// `PTRDIFF_MAX` (`invalid_argument`).
    InvalidArgument = 102,
    /// A context has more attributes than `FC_MAX_ATTRIBUTES` (`too_many_attributes`).
    TooManyAttributes = 103,
    /// The caller's buffer is too small; the needed size was written to the length
    /// out-parameter (`insufficient_size`).
    InsufficientSize = 104,
    /// An index past the end of a list (`out_of_range`).
    OutOfRange = 105,
    /// The snapshot is invalid; the store keeps serving the previous one. The last error
    /// lists every problem (`invalid_snapshot`).
    InvalidSnapshot = 200,
    /// The snapshot's `version` is not newer than the serving one; refused
    /// (`stale_snapshot`).
    StaleSnapshot = 201,
    /// A file could not be read (`io`).
    Io = 202,
    /// No snapshot has been loaded yet (`not_ready`).
    NotReady = 203,
    /// Called from a subscription or exposure callback of the same store
    /// (`fc_store_subscribe`, `fc_store_track_exposures`), for a function that waits for
    /// what the callback's caller holds (the store's writer lock, the tracking thread): it
    /// would deadlock, so it did nothing (`reentrant_call`).
    ReentrantCall = 204,
    /// flagcore panicked; the call had no effect that can be relied on. A bug: please
    /// report it with the last error message (`panic`).
    Panic = 300,
    /// An error this version of the C ABI has no code for (`internal`).
    Internal = 301,
}

impl fc_result {
    /// The stable name of this code.
    pub fn code(self) -> &'static str {
        // The names are ASCII, so the conversion cannot fail.
        self.c_code().to_str().unwrap_or("internal")
    }

    /// The stable name of this code, NUL-terminated.
    pub fn c_code(self) -> &'static CStr {
        match self {
            fc_result::Ok => c"ok",
            fc_result::NullPointer => c"null_pointer",
            fc_result::InvalidUtf8 => c"invalid_utf8",
            fc_result::InvalidArgument => c"invalid_argument",
            fc_result::TooManyAttributes => c"too_many_attributes",
            fc_result::InsufficientSize => c"insufficient_size",
            fc_result::OutOfRange => c"out_of_range",
            fc_result::InvalidSnapshot => c"invalid_snapshot",
            fc_result::StaleSnapshot => c"stale_snapshot",
            fc_result::Io => c"io",
            fc_result::NotReady => c"not_ready",
            fc_result::ReentrantCall => c"reentrant_call",
            fc_result::Panic => c"panic",
            fc_result::Internal => c"internal",
        }
    }

    const ALL: [fc_result; 14] = [
        fc_result::Ok,
        fc_result::NullPointer,
        fc_result::InvalidUtf8,
        fc_result::InvalidArgument,
        fc_result::TooManyAttributes,
        fc_result::InsufficientSize,
        fc_result::OutOfRange,
        fc_result::InvalidSnapshot,
        fc_result::StaleSnapshot,
        fc_result::Io,
        fc_result::NotReady,
        fc_result::ReentrantCall,
        fc_result::Panic,
        fc_result::Internal,
    ];
}

/// A failed call: its code, a message for people, and the validation problems when a
/// snapshot was invalid.
#[derive(Debug)]
pub(crate) struct Failure {
    code: fc_result,
    message: String,
    validation: Vec<ValidationError>,
}

impl Failure {
    pub(crate) fn new(code: fc_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            validation: Vec::new(),
        }
    }

    #[cold]
    pub(crate) fn null(what: &str) -> Failure {
        Failure::new(fc_result::NullPointer, format!("`{what}` is NULL"))
    }

    /// Makes this the thread's last error and returns its code.
    pub(crate) fn record(self) -> fc_result {
        let code = self.code;
        set_last_error(self);
        code
    }
}

impl From<flagcore_engine::Error> for Failure {
    fn from(error: flagcore_engine::Error) -> Failure {
        let code = match &error {
            flagcore_engine::Error::Invalid(_) => fc_result::InvalidSnapshot,
            flagcore_engine::Error::Stale { .. } => fc_result::StaleSnapshot,
            flagcore_engine::Error::Io { .. } => fc_result::Io,
            _ => fc_result::Internal,
        };
        Failure {
            code,
            message: error.to_string(),
            validation: error.validation_errors().to_vec(),
        }
    }
}

thread_local! {
    /// The last failure on this thread. Its strings stay put until the next failure on this
    /// thread replaces it, which is what lets `fc_last_error_validation` lend them out.
    static LAST_ERROR: RefCell<Option<Failure>> = const { RefCell::new(None) };
}

pub(crate) fn set_last_error(failure: Failure) {
    // During thread teardown the slot may be gone; the code alone must then do.
    let _ = LAST_ERROR.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = Some(failure);
        }
    });
}

fn with_last_error<R>(f: impl Fn(Option<&Failure>) -> R) -> R {
    LAST_ERROR
        .try_with(|last| match last.try_borrow() {
            Ok(last) => f(last.as_ref()),
            Err(_) => f(None),
        })
        .unwrap_or_else(|_| f(None))
}

#[cfg(test)]
pub(crate) fn last_error_string() -> String {
    with_last_error(|last| last.map(|f| f.message.clone()).unwrap_or_default())
}

/// One problem of an invalid snapshot, lent by `fc_last_error_validation`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fc_validation_error {
    /// Where: `flags.checkout.rules[2].serve.rollout`, or `$` for the whole document.
    pub path: fc_str,
    /// What, for a person: `weights sum to 99.5, not 100`.
    pub message: fc_str,
    /// The problem's stable kind, e.g. `weights` or `unknown_variant`.
    pub code: fc_str,
}

/// The stable name of result code `result` (e.g. `"invalid_snapshot"`), as a static
/// NUL-terminated string; `"unknown"` for a number that is no `fc_result`.
#[no_mangle]
pub extern "C" fn fc_result_code(result: u32) -> *const c_char {
    ffi_boundary! {
        let name = match fc_result::ALL.iter().find(|r| **r as u32 == result) {
            Some(r) => r.c_code(),
            None => c"unknown",
        };
        name.as_ptr().cast::<c_char>()
    }
}

/// The length in bytes of the thread's last error message (without a NUL terminator); 0
/// when no call on this thread has failed yet.
#[no_mangle]
pub extern "C" fn fc_last_error_length() -> usize {
    ffi_boundary! {
        with_last_error(|last| last.map_or(0, |f| f.message.len()))
    }
}

/// Copies the message of the last failed call on this thread into `buf`.
///
/// At most `len - 1` bytes are copied, cut at a UTF-8 character boundary, and followed by a
/// NUL; `*out_n` receives the number of bytes copied, NUL not included. The message of an
/// invalid snapshot has one line per problem (`  PATH: MESSAGE`). A message longer than
/// the buffer is truncated (size the buffer with `fc_last_error_length() + 1`). With no
/// failure yet, the message is empty. Calls that succeed leave the last error alone, and
/// this function never replaces it.
///
/// Returns `FC_RESULT_NULL_POINTER` when `buf` or `out_n` is NULL.
///
/// # Safety
///
/// `buf` must be valid for writes of `len` bytes and `out_n` for one `size_t`.
#[no_mangle]
pub unsafe extern "C" fn fc_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> fc_result {
    ffi_boundary! {
        if buf.is_null() || out_n.is_null() {
            return fc_result::NullPointer;
        }
        with_last_error(|last| {
            let message = last.map_or("", |f| f.message.as_str());
            let mut n = message.len().min(len.saturating_sub(1));
            while !message.is_char_boundary(n) {
                n -= 1;
            }
            if len > 0 {
                // SAFETY: `buf` is non-NULL (checked above) and, as the `# Safety` section
                // requires, valid for writes of `len` bytes, and `n + 1 <= len`; the message
                // is Rust memory, so the ranges cannot overlap.
                unsafe {
                    std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
                    buf.add(n).write(0);
                }
            }
            // SAFETY: `out_n` is non-NULL (checked above) and, as the `# Safety` section
            // requires, valid for a write of one `size_t`.
            unsafe { write_out(out_n, n) };
        });
        fc_result::Ok
    }
}

/// The number of validation problems of the last failed call on this thread: non-zero only
/// when it failed with `FC_RESULT_INVALID_SNAPSHOT`.
#[no_mangle]
pub extern "C" fn fc_last_error_validation_len() -> usize {
    ffi_boundary! {
        with_last_error(|last| last.map_or(0, |f| f.validation.len()))
    }
}

/// Lends problem `index` of the last failed call on this thread (see
/// `fc_last_error_validation_len`).
///
/// The strings in `*out` stay valid until the next call on this thread that fails; copy
/// them before. Returns `FC_RESULT_OUT_OF_RANGE` past the last problem; this function never
/// replaces the last error.
///
/// # Safety
///
/// `out` must be NULL or valid for a write of one `fc_validation_error`.
#[no_mangle]
pub unsafe extern "C" fn fc_last_error_validation(
    index: usize,
    out: *mut fc_validation_error,
) -> fc_result {
    ffi_boundary! {
        if out.is_null() {
            return fc_result::NullPointer;
        }
        with_last_error(|last| {
            let Some(error) = last.and_then(|f| f.validation.get(index)) else {
                return fc_result::OutOfRange;
            };
            let lent = fc_validation_error {
                path: fc_str::new(error.path()),
                message: fc_str::new(error.message()),
                code: fc_str::new(error.kind().code()),
            };
            // SAFETY: `out` is non-NULL (checked above) and, as the `# Safety` section
            // requires, valid for a write of one `fc_validation_error`. The strings lent live
            // in this thread's last error, which only a later failure replaces.
            unsafe { write_out(out, lent) };
            fc_result::Ok
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_name_through_the_c_function() {
        for result in fc_result::ALL {
            let name = fc_result_code(result as u32);
            // SAFETY: fc_result_code returns a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(name) };
            assert_eq!(name.to_str(), Ok(result.code()));
        }
        // SAFETY: for an unknown number too, fc_result_code returns a static NUL-terminated
        // string ("unknown").
        let unknown = unsafe { std::ffi::CStr::from_ptr(fc_result_code(999)) };
        assert_eq!(unknown.to_str(), Ok("unknown"));
    }

    #[test]
    fn messages_are_truncated_at_a_char_boundary_and_nul_terminated() {
        set_last_error(Failure::new(fc_result::Io, "ab\u{e9}cd"));
        assert_eq!(fc_last_error_length(), 6);
        let mut buf = [0x55_i8; 4];
        let mut n = 99;
        // SAFETY: the buffer and `n` are valid for writes.
        let result = unsafe { fc_last_error_message(buf.as_mut_ptr(), 4, &mut n) };
        assert_eq!(result, fc_result::Ok);
        assert_eq!(n, 2, "é is two bytes and does not fit in 3");
        assert_eq!(&buf[..3], &[b'a' as i8, b'b' as i8, 0]);
        let mut empty = [0_i8; 0];
        // SAFETY: a zero-length buffer is never written.
        let result = unsafe { fc_last_error_message(empty.as_mut_ptr(), 0, &mut n) };
        assert_eq!((result, n), (fc_result::Ok, 0));
    }
}
