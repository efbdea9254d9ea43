//! Copying text into a caller's buffer, snprintf-style: what fits is written, and the
//! full length is always known, so a caller can retry with a buffer big enough.

use std::ffi::c_char;
use std::io;

use crate::error::{fc_result, Failure};
use crate::ptr::write_out;

/// Writes into `len` bytes at `ptr` and counts every byte offered, fitting or not.
pub(crate) struct Buffer {
    ptr: *mut u8,
    cap: usize,
    len: usize,
}

impl Buffer {
    /// A buffer over the caller's memory. NULL is accepted with `cap` 0 (a size query).
    ///
    /// # Safety
    ///
    /// Unless NULL, `ptr` must be valid for writes of `cap` bytes for the buffer's life.
    pub(crate) unsafe fn new(ptr: *mut c_char, cap: usize, what: &str) -> Result<Buffer, Failure> {
        if ptr.is_null() && cap != 0 {
            return Err(Failure::null(what));
        }
        Ok(Buffer {
            ptr: ptr.cast(),
            cap,
            len: 0,
        })
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if end <= self.cap {
            // SAFETY: `ptr` is valid for `cap` bytes (the promise of `new`), `len..end` lies
            // within it, and `bytes` is Rust memory or the caller's input, which the caller
            // does not alias with its output buffer (documented on every function).
            unsafe {
                std::ptr::copy(bytes.as_ptr(), self.ptr.add(self.len), bytes.len());
            }
        }
        self.len = end;
    }

    /// Reports the length: `Ok` when everything fitted, else `FC_RESULT_INSUFFICIENT_SIZE`;
    /// `*out_len` receives the full length either way.
    ///
    /// # Safety
    ///
    /// `out_len` must be non-NULL and valid for a write.
    pub(crate) unsafe fn finish(self, out_len: *mut usize) -> Result<(), Failure> {
        // SAFETY: this function's contract: `out_len` is non-NULL and valid for a write of
        // a `usize` (every caller checks it with `out_arg` first).
        unsafe { write_out(out_len, self.len) };
        if self.len <= self.cap {
            Ok(())
        } else {
            Err(Failure::new(
                fc_result::InsufficientSize,
                format!(
                    "the buffer holds {} bytes; {} are needed",
                    self.cap, self.len
                ),
            ))
        }
    }
}

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.push(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Serialises a JSON value into the buffer, compactly, without allocating.
pub(crate) fn write_json(buffer: &mut Buffer, value: &serde_json::Value) -> Result<(), Failure> {
    serde_json::to_writer(buffer, value).map_err(|e| {
        Failure::new(
            fc_result::Internal,
            format!("serialising a JSON value: {e}"),
        )
    })
}
