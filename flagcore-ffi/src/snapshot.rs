//! `fc_snapshot`: one consistent view of a store, and the typed evaluations with details.

use std::ffi::c_char;

use flagcore_engine::{Details, EvaluationContext, MetadataValue, Snapshot};

use crate::buffer::{write_json, Buffer};
use crate::context::{fc_context, with_context};
use crate::details::fc_details;
use crate::error::{fc_result, Failure};
use crate::panic::{ffi_boundary, ffi_result};
use crate::ptr::{bytes_arg, fc_str, opaque_handle, out_arg, str_arg, write_out, Handle};

/// One consistent view of a store's serving snapshot (a `flagcore::Snapshot`: a
/// reference to the compiled plan). Every evaluation through it sees the same snapshot
/// version, even while the store is updated; kills made after it was taken still apply.
/// Strings lent by evaluations through it stay valid until `fc_snapshot_free`. Take one
/// per request (`fc_store_snapshot`), not for long: an old snapshot stays in memory
/// while a view of it exists. It may be used from several threads at once, and freed on
/// any thread; it may outlive its store.
#[allow(non_camel_case_types)]
pub struct fc_snapshot {
    _private: [u8; 0],
}

opaque_handle!(fc_snapshot => Snapshot, "snapshot");

/// Frees a snapshot view; NULL is a no-op.
///
/// # Safety
///
/// `snapshot` must be NULL or a live handle from `fc_store_snapshot`, in use on no other
/// thread, and is invalid afterwards, as is every string lent through it.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_free(snapshot: *mut fc_snapshot) {
    ffi_boundary! {
        // SAFETY: as the `# Safety` section requires, `snapshot` is NULL (a no-op) or a handle
        // `fc_store_snapshot` returned, not freed yet and used by no other thread now or later, so
        // `free` may take the `Snapshot` box back and drop it.
        unsafe { fc_snapshot::free(snapshot) }
    }
}

/// The snapshot's `version` into `*out_version`; `FC_RESULT_NOT_READY` when no snapshot
/// was loaded when the view was taken.
///
/// # Safety
///
/// `snapshot` must be NULL or live; `out_version` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_version(
    snapshot: *const fc_snapshot,
    out_version: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `snapshot` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_snapshot` returned that `fc_snapshot_free` has not freed, so
        // the `Snapshot` box it points at stays alive for this call.
        let snapshot = unsafe { fc_snapshot::borrow(snapshot)? };
        let out_version = out_arg(out_version, "out_version")?;
        let version = snapshot
            .version()
            .ok_or_else(|| Failure::new(fc_result::NotReady, "no snapshot is loaded"))?;
        // SAFETY: `out_version` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_version, version) };
        Ok(())
    }
}

/// Evaluates through `get` after checking the arguments every typed evaluation shares.
///
/// # Safety
///
/// `snapshot` NULL or live for `'s`; `flag` valid for `flag_len` bytes; `ctx` as
/// [`with_context`] requires.
#[inline]
pub(crate) unsafe fn evaluate<'s, T>(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    get: impl FnOnce(&'s Snapshot, &str, &EvaluationContext<'_>) -> Details<'s, T>,
) -> Result<Details<'s, T>, Failure> {
    // SAFETY: `snapshot` is NULL, which `borrow` refuses, or, as this function's `# Safety`
    // contract requires, a handle `fc_store_snapshot` returned that `fc_snapshot_free` has not
    // freed, so the `Snapshot` box it points at stays alive for this call.
    let snapshot = unsafe { fc_snapshot::borrow(snapshot)? };
    // SAFETY: as this function's `# Safety` contract requires, `flag` is valid for reads of
    // `flag_len` bytes that do not change during this call (NULL is refused unless `flag_len` is
    // 0); the `&str` is not kept past the call.
    let flag = unsafe { str_arg(flag, flag_len, "flag")? };
    // SAFETY: this function's contract is `with_context`'s: `ctx` is NULL or a valid
    // `fc_context` whose pointers are valid for their lengths during this call.
    unsafe { with_context(ctx, |ctx| get(snapshot, flag, ctx)) }
}

/// Writes the details out when the caller asked for them.
///
/// # Safety
///
/// `out_details` NULL or valid for a write.
#[inline]
unsafe fn write_details<T>(out_details: *mut fc_details, details: &Details<'_, T>) {
    if !out_details.is_null() {
        // SAFETY: `out_details` is non-NULL (checked just above) and, as this function's `# Safety`
        // contract requires, aligned and valid for a write of what it points to; `write_out`
        // neither reads nor drops the old value.
        unsafe { write_out(out_details, fc_details::new(details)) };
    }
}

/// The body of the scalar evaluations.
///
/// # Safety
///
/// As for `fc_snapshot_bool`.
#[inline]
unsafe fn scalar<'s, T: Copy>(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    out_value: *mut T,
    out_details: *mut fc_details,
    get: impl FnOnce(&'s Snapshot, &str, &EvaluationContext<'_>) -> Details<'s, T>,
) -> Result<(), Failure> {
    let out_value = out_arg(out_value, "out_value")?;
    // SAFETY: `evaluate`'s contract is part of this function's (that of `fc_snapshot_bool`):
    // `snapshot` NULL or a live `fc_snapshot` for 's, `flag` valid for reads of `flag_len`
    // bytes, `ctx` NULL or a valid `fc_context`.
    let details = unsafe { evaluate(snapshot, flag, flag_len, ctx, get)? };
    // SAFETY: `out_value` is non-NULL (`out_arg` checked it above) and, by this function's
    // contract, valid for a write of a `T`; `out_details` is NULL, which `write_details`
    // skips, or valid for a write of an `fc_details`: `write_details`' contract.
    unsafe {
        write_out(out_value, details.value);
        write_details(out_details, &details);
    }
    Ok(())
}

/// Evaluates boolean flag `flag` for `ctx`.
///
/// On success `*out_value` receives the value (the caller's `default_value` on an
/// evaluation error such as an unknown flag: see the details' `error_code`), and
/// `*out_details`, unless `out_details` is NULL, the details. The evaluation does not
/// allocate.
///
/// # Safety
///
/// `snapshot` must be NULL or live; `flag` valid for `flag_len` bytes; `ctx` NULL or a
/// valid `fc_context`; `out_value` NULL or valid for a write; `out_details` NULL or valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_bool(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_value: bool,
    out_value: *mut bool,
    out_details: *mut fc_details,
) -> fc_result {
    ffi_result! {
        // SAFETY: `scalar`'s contract is this function's `# Safety` section, which the caller
        // upholds: `snapshot` NULL or a live `fc_snapshot`, `flag` valid for reads of
        // `flag_len` bytes, `ctx` NULL or a valid `fc_context`, `out_value` and `out_details`
        // NULL or valid for a write, all for the length of this call.
        unsafe {
            scalar(snapshot, flag, flag_len, ctx, out_value, out_details, |s, flag, ctx| {
                s.bool_details(flag, ctx, default_value)
            })
        }
    }
}

/// Evaluates integer flag `flag` for `ctx`.
///
/// On success `*out_value` receives the value (the caller's `default_value` on an
/// evaluation error such as an unknown flag: see the details' `error_code`), and
/// `*out_details`, unless `out_details` is NULL, the details. The evaluation does not
/// allocate.
///
/// # Safety
///
/// `snapshot` must be NULL or live; `flag` valid for `flag_len` bytes; `ctx` NULL or a
/// valid `fc_context`; `out_value` NULL or valid for a write; `out_details` NULL or valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_int(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_value: i64,
    out_value: *mut i64,
    out_details: *mut fc_details,
) -> fc_result {
    ffi_result! {
        // SAFETY: `scalar`'s contract is this function's `# Safety` section, which the caller
        // upholds: `snapshot` NULL or a live `fc_snapshot`, `flag` valid for reads of
        // `flag_len` bytes, `ctx` NULL or a valid `fc_context`, `out_value` and `out_details`
        // NULL or valid for a write, all for the length of this call.
        unsafe {
            scalar(snapshot, flag, flag_len, ctx, out_value, out_details, |s, flag, ctx| {
                s.int_details(flag, ctx, default_value)
            })
        }
    }
}

/// Evaluates number flag `flag` (an integer flag too) for `ctx`.
///
/// On success `*out_value` receives the value (the caller's `default_value` on an
/// evaluation error such as an unknown flag: see the details' `error_code`), and
/// `*out_details`, unless `out_details` is NULL, the details. The evaluation does not
/// allocate.
///
/// # Safety
///
/// `snapshot` must be NULL or live; `flag` valid for `flag_len` bytes; `ctx` NULL or a
/// valid `fc_context`; `out_value` NULL or valid for a write; `out_details` NULL or valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_float(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_value: f64,
    out_value: *mut f64,
    out_details: *mut fc_details,
) -> fc_result {
    ffi_result! {
        // SAFETY: `scalar`'s contract is this function's `# Safety` section, which the caller
        // upholds: `snapshot` NULL or a live `fc_snapshot`, `flag` valid for reads of
        // `flag_len` bytes, `ctx` NULL or a valid `fc_context`, `out_value` and `out_details`
        // NULL or valid for a write, all for the length of this call.
        unsafe {
            scalar(snapshot, flag, flag_len, ctx, out_value, out_details, |s, flag, ctx| {
                s.float_details(flag, ctx, default_value)
            })
        }
    }
}

/// Evaluates string flag `flag` for `ctx`.
///
/// On success `*out_value` lends the value: the variant's string, valid until the snapshot
/// is freed, or, on an evaluation error, the caller's default (`default_value`, which may
/// be NULL when `default_len` is 0: then an empty string). `*out_details` as for
/// `fc_snapshot_bool`. The evaluation does not allocate.
///
/// # Safety
///
/// As for `fc_snapshot_bool`; `default_value` valid for `default_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_string(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_value: *const c_char,
    default_len: usize,
    out_value: *mut fc_str,
    out_details: *mut fc_details,
) -> fc_result {
    ffi_result! {
        let out_value = out_arg(out_value, "out_value")?;
        // SAFETY: as the `# Safety` section requires, `default_value` is valid for reads of
        // `default_len` bytes that do not change during this call (NULL is refused unless
        // `default_len` is 0); the `&str` is not kept past the call.
        let default = unsafe { str_arg(default_value, default_len, "default_value")? };
        // SAFETY: `evaluate`'s contract is what the `# Safety` section promises for this
        // call: `snapshot` NULL or a live `fc_snapshot`, `flag` valid for reads of
        // `flag_len` bytes, `ctx` NULL or a valid `fc_context`.
        let details = unsafe {
            evaluate(snapshot, flag, flag_len, ctx, |s, flag, ctx| {
                s.string_details(flag, ctx, default)
            })?
        };
        // SAFETY: `out_value` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of an `fc_str`; `out_details` is NULL (skipped)
        // or valid for a write of an `fc_details`. The string lent is the snapshot's, which
        // lives until `fc_snapshot_free`, or the caller's own default.
        unsafe {
            write_out(out_value, fc_str::new(details.value));
            write_details(out_details, &details);
        }
        Ok(())
    }
}

/// Evaluates JSON (object or array) flag `flag` for `ctx`, writing the value as compact
/// JSON text into `buf`.
///
/// The text is the variant's value, or, on an evaluation error, the caller's
/// `default_json` copied as given (not parsed; NULL allowed when `default_len` is 0).
/// `*out_len` receives its length (no NUL is written). When it does not fit in `buf_len`
/// bytes, the result is `FC_RESULT_INSUFFICIENT_SIZE`, `*out_len` still receives the length
/// needed (the one exception to out-parameters written only on success), and nothing else
/// is written: retry with a bigger buffer (the retry counts as a second evaluation in the
/// metrics). `buf` may be NULL with `buf_len` 0 to ask for the size. The evaluation does
/// not allocate.
///
/// # Safety
///
/// As for `fc_snapshot_bool`; `default_json` valid for `default_len` bytes; `buf` NULL or
/// valid for writes of `buf_len` bytes, overlapping no input; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_json(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_json: *const c_char,
    default_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    out_details: *mut fc_details,
) -> fc_result {
    ffi_result! {
        let out_len = out_arg(out_len, "out_len")?;
        // SAFETY: as the `# Safety` section requires, `default_json` is valid for reads of
        // `default_len` bytes that do not change during this call (NULL is refused unless
        // `default_len` is 0); the slice is not kept past the call.
        let default = unsafe { bytes_arg(default_json.cast(), default_len, "default_json")? };
        // SAFETY: as the `# Safety` section requires, `buf` is NULL (refused unless `buf_len` is 0)
        // or valid for writes of `buf_len` bytes, overlapping no input, until this call returns,
        // which outlives the `Buffer`: `Buffer::new`'s contract.
        let mut buffer = unsafe { Buffer::new(buf, buf_len, "buf")? };
        static NO_DEFAULT: serde_json::Value = serde_json::Value::Null;
        // SAFETY: `evaluate`'s contract is what the `# Safety` section promises for this
        // call: `snapshot` NULL or a live `fc_snapshot`, `flag` valid for reads of
        // `flag_len` bytes, `ctx` NULL or a valid `fc_context`.
        let details = unsafe {
            evaluate(snapshot, flag, flag_len, ctx, |s, flag, ctx| {
                s.json_details(flag, ctx, &NO_DEFAULT)
            })?
        };
        match details.variant {
            Some(_) => write_json(&mut buffer, details.value)?,
            None => buffer.push(default),
        }
        // SAFETY: `out_len` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, valid for a write of a `size_t`: `finish`'s contract.
        unsafe { buffer.finish(out_len)? };
        // SAFETY: as the `# Safety` section requires (`fc_snapshot_bool`'s), `out_details` is
        // NULL, which `write_details` skips, or valid for a write of an `fc_details`.
        unsafe { write_details(out_details, &details) };
        Ok(())
    }
}

/// The type of a flag's `metadata` value.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fc_metadata_kind {
    /// `string_value`.
    String = 0,
    /// `number_value`.
    Number = 1,
    /// `bool_value`.
    Bool = 2,
}

/// One `metadata` entry of a flag (owner, ticket, expiry, ...), lent by the snapshot: its
/// strings stay valid until the snapshot is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_metadata_entry {
    /// The entry's name.
    pub name: fc_str,
    /// Which value field is set.
    pub kind: fc_metadata_kind,
    /// The value when `kind` is `FC_METADATA_KIND_STRING` (else NULL).
    pub string_value: fc_str,
    /// The value when `kind` is `FC_METADATA_KIND_NUMBER`.
    pub number_value: f64,
    /// The value when `kind` is `FC_METADATA_KIND_BOOL`.
    pub bool_value: bool,
}

/// The number of `metadata` entries of flag `flag` into `*out_len` (0 for an unknown flag).
///
/// # Safety
///
/// `snapshot` NULL or live; `flag` valid for `flag_len` bytes; `out_len` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_flag_metadata_len(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    out_len: *mut usize,
) -> fc_result {
    ffi_result! {
        // SAFETY: `snapshot` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_snapshot` returned that `fc_snapshot_free` has not freed, so
        // the `Snapshot` box it points at stays alive for this call.
        let snapshot = unsafe { fc_snapshot::borrow(snapshot)? };
        // SAFETY: as the `# Safety` section requires, `flag` is valid for reads of `flag_len` bytes
        // that do not change during this call (NULL is refused unless `flag_len` is 0); the `&str`
        // is not kept past the call.
        let flag = unsafe { str_arg(flag, flag_len, "flag")? };
        let out_len = out_arg(out_len, "out_len")?;
        // SAFETY: `out_len` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, aligned and valid for a write of what it points to; `write_out` neither reads
        // nor drops the old value.
        unsafe { write_out(out_len, snapshot.flag_metadata(flag).len()) };
        Ok(())
    }
}

/// Lends `metadata` entry `index` of flag `flag` (in document order) into `*out`;
/// `FC_RESULT_OUT_OF_RANGE` past the last one.
///
/// # Safety
///
/// `snapshot` NULL or live; `flag` valid for `flag_len` bytes; `out` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_snapshot_flag_metadata(
    snapshot: *const fc_snapshot,
    flag: *const c_char,
    flag_len: usize,
    index: usize,
    out: *mut fc_metadata_entry,
) -> fc_result {
    ffi_result! {
        // SAFETY: `snapshot` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_snapshot` returned that `fc_snapshot_free` has not freed, so
        // the `Snapshot` box it points at stays alive for this call.
        let snapshot = unsafe { fc_snapshot::borrow(snapshot)? };
        // SAFETY: as the `# Safety` section requires, `flag` is valid for reads of `flag_len` bytes
        // that do not change during this call (NULL is refused unless `flag_len` is 0); the `&str`
        // is not kept past the call.
        let flag = unsafe { str_arg(flag, flag_len, "flag")? };
        let out = out_arg(out, "out")?;
        let metadata = snapshot.flag_metadata(flag);
        let (name, value) = metadata.get(index).ok_or_else(|| {
            Failure::new(
                fc_result::OutOfRange,
                format!("flag `{flag}` has {} metadata entries; no index {index}", metadata.len()),
            )
        })?;
        let mut entry = fc_metadata_entry {
            name: fc_str::new(name),
            kind: fc_metadata_kind::String,
            string_value: fc_str::NONE,
            number_value: 0.0,
            bool_value: false,
        };
        match value {
            MetadataValue::String(s) => entry.string_value = fc_str::new(s),
            MetadataValue::Number(n) => {
                entry.kind = fc_metadata_kind::Number;
                entry.number_value = *n;
            }
            MetadataValue::Bool(b) => {
                entry.kind = fc_metadata_kind::Bool;
                entry.bool_value = *b;
            }
        }
        // SAFETY: `out` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, aligned and valid for a write of what it points to; `write_out` neither reads
        // nor drops the old value.
        unsafe { write_out(out, entry) };
        Ok(())
    }
}
