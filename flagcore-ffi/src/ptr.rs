//! Crossing the boundary: borrowed strings, out-parameters and opaque handles.

use std::ffi::{c_char, c_void};

use crate::error::{fc_result, Failure};

/// A borrowed UTF-8 string: `len` bytes at `ptr`, not NUL-terminated. `ptr` is NULL (and
/// `len` 0) for an absent value, and never NULL for a present one, even an empty one.
/// Whoever lends it says how long it stays valid.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fc_str {
    /// The first byte, or NULL for none.
    pub ptr: *const c_char,
    /// The length in bytes.
    pub len: usize,
}

impl fc_str {
    /// No string.
    pub const NONE: fc_str = fc_str {
        ptr: std::ptr::null(),
        len: 0,
    };

    /// Lends `s` (the pointer of an empty `&str` is dangling but never NULL).
    pub fn new(s: &str) -> fc_str {
        fc_str {
            ptr: s.as_ptr().cast(),
            len: s.len(),
        }
    }

    /// Lends `s`, or nothing.
    pub fn from_option(s: Option<&str>) -> fc_str {
        s.map_or(fc_str::NONE, fc_str::new)
    }
}

/// A caller's `user_data`, carried to whichever thread calls the caller's callback back.
pub(crate) struct UserData(*mut c_void);

// SAFETY: flagcore never dereferences the pointer; it only hands it back to the caller's
// callback, on whatever thread calls it. The functions taking a callback
// (`fc_store_on_guardrail_trip`, `fc_store_subscribe`) document that the callback, with
// this pointer, must be safe to call from any thread, which is the whole of what Send and
// Sync ask here.
unsafe impl Send for UserData {}
// SAFETY: as for Send: sharing the wrapper only lets threads read the pointer's value.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(user_data: *mut c_void) -> UserData {
        UserData(user_data)
    }

    /// The pointer (a method, so that a closure captures the whole `Send` wrapper, not
    /// its field).
    pub(crate) fn get(&self) -> *mut c_void {
        self.0
    }
}

/// Writes `value` to the out-parameter `out`, without reading or dropping what was there.
///
/// # Safety
///
/// `out` must be non-NULL, aligned and valid for a write of one `T`.
#[inline]
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: this function's contract: `out` is non-NULL, aligned and valid for a write
    // of one `T`. `write` does not read or drop the old value, which C may have left
    // uninitialised.
    unsafe { out.write(value) }
}

/// Checks an out-parameter is not NULL.
#[inline]
pub(crate) fn out_arg<T>(out: *mut T, what: &str) -> Result<*mut T, Failure> {
    if out.is_null() {
        Err(Failure::null(what))
    } else {
        Ok(out)
    }
}

/// Borrows `len` bytes at `ptr`. NULL is accepted for an empty slice.
///
/// # Safety
///
/// Unless NULL, `ptr` must be valid for reads of `len` bytes, unchanged, for `'a`.
#[inline]
pub(crate) unsafe fn bytes_arg<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::null(what))
        };
    }
    if len > isize::MAX as usize {
        return Err(too_long(what, len));
    }
    // SAFETY: `ptr` is non-NULL and `len <= isize::MAX` (both checked above), and this
    // function's contract makes `ptr` valid for reads of `len` bytes that stay unchanged for
    // `'a`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows `len` bytes at `ptr` as UTF-8 text. NULL is accepted for an empty string.
///
/// # Safety
///
/// As for [`bytes_arg`].
#[inline(always)]
pub(crate) unsafe fn str_arg<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    // Attribute names and values are nearly always ASCII: that case is checked inline, with
    // no call and no `Result` in memory (a context of six attributes crosses the boundary
    // with a dozen strings). Anything else takes the general path, which also reports the
    // errors.
    if !ptr.is_null() && len <= isize::MAX as usize {
        // SAFETY: `ptr` is non-NULL and `len <= isize::MAX` (both checked by the `if`), and
        // this function's contract makes `ptr` valid for reads of `len` bytes that stay
        // unchanged for `'a`.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
        if is_ascii(bytes) {
            // SAFETY: ASCII is valid UTF-8.
            return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
    }
    // SAFETY: `checked_str_arg` asks what this function's callers promise: unless NULL,
    // `ptr` is valid for reads of `len` bytes that do not change during `'a`.
    unsafe { checked_str_arg(ptr, len, what) }
}

/// [`str_arg`] for NULL, too long or non-ASCII text, out of line.
///
/// # Safety
///
/// As for [`bytes_arg`].
#[inline(never)]
unsafe fn checked_str_arg<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    // SAFETY: `bytes_arg` asks what this function's callers promise: unless NULL, `ptr` is
    // valid for reads of `len` bytes that do not change during `'a`.
    let bytes = unsafe { bytes_arg(ptr.cast::<u8>(), len, what)? };
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            fc_result::InvalidUtf8,
            format!(
                "`{what}` is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Whether every byte is below 0x80. One length test per class and two overlapping reads
/// cover a string of up to 16 bytes (most names and values) without a loop; a longer one
/// (an email address, a user agent) is read 8 bytes a step, its tail as one overlapping
/// read. Inline, where `from_utf8`'s setup would cost more than the check.
#[inline(always)]
fn is_ascii(bytes: &[u8]) -> bool {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let len = bytes.len();
    let read8 = |at: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_ne_bytes(word)
    };
    let read4 = |at: usize| {
        let mut word = [0u8; 4];
        word.copy_from_slice(&bytes[at..at + 4]);
        u64::from(u32::from_ne_bytes(word))
    };
    let seen = if len > 16 {
        let mut seen = read8(len - 8);
        for chunk in bytes.chunks_exact(8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            seen |= u64::from_ne_bytes(word);
        }
        seen
    } else if len >= 8 {
        read8(0) | read8(len - 8)
    } else if len >= 4 {
        read4(0) | read4(len - 4)
    } else if len > 0 {
        u64::from(bytes[0] | bytes[len / 2] | bytes[len - 1])
    } else {
        0
    };
    seen & HIGH_BITS == 0
}

#[cold]
fn too_long(what: &str, len: usize) -> Failure {
    Failure::new(
        fc_result::InvalidArgument,
        format!("`{what}` has a length of {len} bytes, more than PTRDIFF_MAX"),
    )
}

/// An opaque C type standing for a boxed Rust value.
///
/// # Safety
///
/// Implementors must be zero-sized opaque markers never constructed in Rust, so that a
/// `*mut Self` handed to C is only ever a `Box<Self::Inner>` in disguise.
pub(crate) unsafe trait Handle: Sized {
    /// What the handle points at.
    type Inner;
    /// The handle's name in error messages.
    const WHAT: &'static str;

    /// Boxes `inner` and hands ownership to C.
    fn into_raw(inner: Self::Inner) -> *mut Self {
        Box::into_raw(Box::new(inner)).cast::<Self>()
    }

    /// Borrows the value behind a handle.
    ///
    /// # Safety
    ///
    /// Unless NULL, `ptr` must come from [`Handle::into_raw`] and not be freed during `'a`.
    #[inline]
    unsafe fn borrow<'a>(ptr: *const Self) -> Result<&'a Self::Inner, Failure> {
        // SAFETY: by this function's contract `ptr` is NULL (`as_ref` gives `None`) or was
        // made by `into_raw` from a `Box<Self::Inner>` (the only way to make one, as the
        // trait's contract says) that is not freed during 'a: so it is aligned, points at
        // an initialised `Inner`, and stays valid for 'a. Only shared references are made
        // from it until `free`.
        unsafe { ptr.cast::<Self::Inner>().as_ref() }.ok_or_else(|| Failure::null(Self::WHAT))
    }

    /// Takes ownership back from C and drops the value; NULL is a no-op.
    ///
    /// # Safety
    ///
    /// Unless NULL, `ptr` must come from [`Handle::into_raw`], not be freed already, and not
    /// be in use on another thread.
    unsafe fn free(ptr: *mut Self) {
        if !ptr.is_null() {
            // SAFETY: by this function's contract `ptr` came from `into_raw`, which leaked a
            // `Box<Self::Inner>` cast to `*mut Self`, and has not been freed: rebuilding the
            // box is sound, and since no other thread uses the handle, no reference into it
            // outlives the drop.
            drop(unsafe { Box::from_raw(ptr.cast::<Self::Inner>()) });
        }
    }
}

/// Makes a zero-sized opaque struct (declared by hand, so that cbindgen sees it) the handle
/// of a boxed Rust type.
macro_rules! opaque_handle {
    ($name:ident => $inner:ty, $what:literal) => {
        // SAFETY: a zero-sized marker no Rust code constructs; pointers to it are only ever
        // made by `Handle::into_raw`.
        unsafe impl $crate::ptr::Handle for $name {
            type Inner = $inner;
            const WHAT: &'static str = $what;
        }
    };
}

pub(crate) use opaque_handle;

#[cfg(test)]
mod tests {
    use super::is_ascii;

    #[test]
    fn is_ascii_finds_a_high_byte_at_any_position_of_any_length() {
        for len in 0..70 {
            let text = vec![b'a'; len];
            assert!(is_ascii(&text), "{len}");
            for at in 0..len {
                let mut text = text.clone();
                text[at] = 0xC3;
                assert!(!is_ascii(&text), "{len}, high byte at {at}");
            }
        }
    }
}
