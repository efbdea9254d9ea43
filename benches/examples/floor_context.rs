//! The floor under converting a C context per call, for `valgrind --tool=callgrind`:
//! `floor_context [N]` converts the C ABI bench's context (a key and six attributes, as
//! `flagcore-ffi/benches/ffi.rs` builds it) `N` times doing only what no conversion can
//! skip: per string, its pointer and length loaded, a NULL test and a read of every byte
//! for the ASCII test (a `&str` must be UTF-8); per attribute, its kind dispatched and the
//! converted pair stored. No error reporting, no evaluation. The difference between runs
//! of 100,000 and 200,000, over 100,000, is the count per conversion, to set beside
//! `fc_store_bool` with a prepared context (which converts nothing).

use std::hint::black_box;

use flagcore::Value;

/// `fc_attribute`'s layout (flagcore-ffi/src/context.rs).
#[repr(C)]
#[derive(Clone, Copy)]
struct Attribute {
    name: *const u8,
    name_len: usize,
    kind: u32,
    string_value: *const u8,
    string_len: usize,
    int_value: i64,
    float_value: f64,
    bool_value: bool,
}

/// Whether every byte is below 0x80, with the fewest reads: `flagcore-ffi`'s test.
#[inline(always)]
fn is_ascii(bytes: &[u8]) -> bool {
    let read8 = |at: usize| u64::from_ne_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
    let read4 = |at: usize| {
        u64::from(u32::from_ne_bytes(
            bytes[at..at + 4].try_into().unwrap_or_default(),
        ))
    };
    let len = bytes.len();
    let seen = if len > 16 {
        let mut seen = read8(len - 8);
        for chunk in bytes.chunks_exact(8) {
            seen |= u64::from_ne_bytes(chunk.try_into().unwrap_or_default());
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
    seen & 0x8080_8080_8080_8080 == 0
}

/// # Safety
///
/// `ptr` valid for reads of `len` bytes while the result is used.
#[inline(always)]
unsafe fn text<'a>(ptr: *const u8, len: usize) -> &'a str {
    if ptr.is_null() {
        return "";
    }
    // SAFETY: the caller's promise.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    if is_ascii(bytes) {
        // SAFETY: ASCII is UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    } else {
        ""
    }
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut attributes: Vec<Attribute> = flagcore_benches::ATTRIBUTES
        .iter()
        .map(|(name, value)| {
            let (kind, s) = match value {
                Value::String(s) => (0, *s),
                _ => (3, ""),
            };
            Attribute {
                name: name.as_ptr(),
                name_len: name.len(),
                kind,
                string_value: s.as_ptr(),
                string_len: s.len(),
                int_value: 0,
                float_value: 0.0,
                bool_value: true,
            }
        })
        .collect();
    attributes.truncate(6);
    let key = "user-17";
    let mut seen = 0usize;
    for _ in 0..n {
        let attributes = black_box(&attributes);
        let (key_ptr, key_len) = black_box((key.as_ptr(), key.len()));
        let mut out = [("", Value::Bool(false)); 6];
        // SAFETY: every pointer points into a live `&'static str`, with its length.
        let key = unsafe { text(key_ptr, key_len) };
        for (slot, a) in out.iter_mut().zip(attributes.iter()) {
            // SAFETY: as above.
            let name = unsafe { text(a.name, a.name_len) };
            let value = match a.kind {
                // SAFETY: as above.
                0 => Value::String(unsafe { text(a.string_value, a.string_len) }),
                1 => Value::Int(a.int_value),
                2 => Value::Float(a.float_value),
                _ => Value::Bool(a.bool_value),
            };
            *slot = (name, value);
        }
        black_box((key, &out));
        seen += out.len();
    }
    println!("{seen} attributes converted");
}
