//! `fc_format`: loading a store from a document in a stated format instead of the detected
//! one, and from several flagd documents merged into one (issue 12).
//!
//! The semantics are the Python binding's (`format=`, `Store.from_files`): a stated format
//! is parsed as that format only, files are all read before any is loaded, and merging no
//! document at all is refused rather than serving an empty flag set.

use std::ffi::c_char;
use std::path::{Path, PathBuf};

use flagcore_engine::flagd::{Format, FractionalVersion};
use flagcore_engine::{Error, Store};

use crate::error::{fc_result, Failure};
use crate::panic::ffi_result;
use crate::ptr::{bytes_arg, fc_str, out_arg, write_out, Handle};
use crate::reentry::outside_callbacks;
use crate::store::{fc_store, give, path_arg};

/// The format of a flag document, for `fc_store_update_as` and the other `_as` functions,
/// passed as a `uint32_t`: any other number is `FC_RESULT_INVALID_ARGUMENT`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fc_format {
    /// Told apart by the content, as `fc_store_update` does: flagd when the document says
    /// so (a flagd `$schema`, `$evaluators`) or has no `version` and flags with a `state`
    /// or a `defaultVariant`; native otherwise.
    Detect = 0,
    /// flagcore's own snapshot format (`docs/format.md` §2), whose `version` must be newer
    /// than the serving one.
    Native = 1,
    /// OpenFeature flagd flag definitions (`docs/format.md` §9). They carry no version:
    /// each one loaded takes the next version after the serving one.
    Flagd = 2,
}

/// The format C named; `None` to detect it.
fn format_arg(format: u32) -> Result<Option<Format>, Failure> {
    match format {
        f if f == fc_format::Detect as u32 => Ok(None),
        f if f == fc_format::Native as u32 => Ok(Some(Format::Native)),
        f if f == fc_format::Flagd as u32 => Ok(Some(Format::Flagd)),
        other => Err(Failure::new(
            fc_result::InvalidArgument,
            format!("`format` is {other}, not an fc_format (0 detect, 1 native, 2 flagd)"),
        )),
    }
}

fn load(store: &Store, bytes: &[u8], format: Option<Format>) -> Result<u64, Error> {
    match format {
        Some(format) => store.update_as(bytes, format),
        None => store.update(bytes),
    }
}

fn load_file(store: &Store, path: &Path, format: Option<Format>) -> Result<u64, Error> {
    match format {
        Some(format) => store.update_as(&read(path)?, format),
        None => store.update_file(path),
    }
}

/// Reads every file before loading any, so that one that cannot be read leaves the serving
/// snapshot as it was.
fn load_files(store: &Store, paths: &[PathBuf]) -> Result<u64, Error> {
    let documents = paths
        .iter()
        .map(|path| read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let documents: Vec<&[u8]> = documents.iter().map(Vec::as_slice).collect();
    store.update_merged(&documents)
}

/// The file at `path`, failing as the core's `update_file` does (`FC_RESULT_IO`, naming
/// the file).
fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Borrows an array of `len` strings at `ptr`: at least one, since merging nothing would
/// serve an empty flag set (every flag `FLAG_NOT_FOUND`).
///
/// # Safety
///
/// Unless NULL, `ptr` must point at `len` initialised `fc_str`s, unchanged during `'a`.
unsafe fn array_arg<'a>(
    ptr: *const fc_str,
    len: usize,
    what: &str,
) -> Result<&'a [fc_str], Failure> {
    if len == 0 {
        return Err(Failure::new(
            fc_result::InvalidArgument,
            format!("`{what}` is empty: merging needs at least one flagd document"),
        ));
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if len > isize::MAX as usize / std::mem::size_of::<fc_str>() {
        return Err(Failure::new(
            fc_result::InvalidArgument,
            format!("`{what}_len` is too large"),
        ));
    }
    // SAFETY: `ptr` is non-NULL and the array's size fits in `isize` (both checked above),
    // and this function's contract makes it point at `len` initialised, aligned `fc_str`s
    // that stay unchanged during `'a`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The documents of an `fc_str` array, borrowed.
///
/// # Safety
///
/// As for [`array_arg`], and each element's `ptr` valid for reads of its `len` bytes,
/// unchanged during `'a`.
unsafe fn documents_arg<'a>(ptr: *const fc_str, len: usize) -> Result<Vec<&'a [u8]>, Failure> {
    // SAFETY: this function's contract includes `array_arg`'s.
    let documents = unsafe { array_arg(ptr, len, "documents")? };
    documents
        .iter()
        .enumerate()
        .map(|(i, document)| {
            // SAFETY: as this function's contract requires, `document.ptr` is valid for reads
            // of `document.len` bytes that do not change during `'a` (NULL is refused unless
            // `document.len` is 0).
            unsafe {
                bytes_arg(
                    document.ptr.cast(),
                    document.len,
                    &format!("documents[{i}]"),
                )
            }
        })
        .collect()
}

/// The paths of an `fc_str` array, copied.
///
/// # Safety
///
/// As for [`array_arg`], and each element's `ptr` valid for reads of its `len` bytes
/// during the call.
unsafe fn paths_arg(ptr: *const fc_str, len: usize) -> Result<Vec<PathBuf>, Failure> {
    // SAFETY: this function's contract includes `array_arg`'s, for the duration of this
    // call, which the slice does not outlive.
    let paths = unsafe { array_arg(ptr, len, "paths")? };
    paths
        .iter()
        .enumerate()
        .map(|(i, path)| {
            // SAFETY: as this function's contract requires, `path.ptr` is valid for reads of
            // `path.len` bytes during this call (NULL is refused unless `path.len` is 0);
            // `path_arg` copies them into a `PathBuf`.
            unsafe { path_arg(path.ptr, path.len, &format!("paths[{i}]")) }
        })
        .collect()
}

/// Writes the new version to an optional out-parameter.
///
/// # Safety
///
/// `out_version` must be NULL or valid for a write.
unsafe fn give_version(out_version: *mut u64, version: u64) {
    if !out_version.is_null() {
        // SAFETY: `out_version` is non-NULL (checked just above) and, as this function's
        // contract requires, aligned and valid for a write; `write_out` neither reads nor
        // drops the old value.
        unsafe { write_out(out_version, version) };
    }
}

/// Like `fc_store_new_from_bytes`, reading the document in `format` (an `fc_format`):
/// `FC_FORMAT_NATIVE` or `FC_FORMAT_FLAGD` parse it as that format only, `FC_FORMAT_DETECT`
/// as `fc_store_new_from_bytes` does. Any other number is `FC_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `bytes` must be valid for `len` bytes; `out_store` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_new_from_bytes_as(
    bytes: *const u8,
    len: usize,
    format: u32,
    out_store: *mut *mut fc_store,
) -> fc_result {
    ffi_result! {
        let out_store = out_arg(out_store, "out_store")?;
        let format = format_arg(format)?;
        // SAFETY: as the `# Safety` section requires, `bytes` is valid for reads of `len` bytes
        // that do not change during this call (NULL is refused unless `len` is 0); the slice is not
        // kept past the call.
        let bytes = unsafe { bytes_arg(bytes, len, "bytes")? };
        let store = Store::new();
        load(&store, bytes, format)?;
        // SAFETY: `out_store` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(store, out_store) };
        Ok(())
    }
}

/// Like `fc_store_new_from_file`, reading the document in `format` (an `fc_format`), as
/// `fc_store_new_from_bytes_as` does.
///
/// # Safety
///
/// `path` must be valid for `path_len` bytes; `out_store` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_new_from_file_as(
    path: *const c_char,
    path_len: usize,
    format: u32,
    out_store: *mut *mut fc_store,
) -> fc_result {
    ffi_result! {
        let out_store = out_arg(out_store, "out_store")?;
        let format = format_arg(format)?;
        // SAFETY: as the `# Safety` section requires, `path` is valid for reads of `path_len` bytes
        // during this call (NULL is refused unless `path_len` is 0); `path_arg` copies them into a
        // `PathBuf`.
        let path = unsafe { path_arg(path, path_len, "path")? };
        let store = Store::new();
        load_file(&store, &path, format)?;
        // SAFETY: `out_store` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(store, out_store) };
        Ok(())
    }
}

/// Creates a store serving the `documents_len` flagd documents of `documents` merged in
/// order, as flagd merges its sources: a later document's definition of a flag replaces an
/// earlier one, `$evaluators` are shared, and each flag keeps its own document's top-level
/// `metadata`. Its version is 1. No document (`documents_len` 0) is
/// `FC_RESULT_INVALID_ARGUMENT`; a NULL element with a length, `FC_RESULT_NULL_POINTER`;
/// a document that is not a flagd document (not JSON, not UTF-8, no `flags` object),
/// `FC_RESULT_INVALID_SNAPSHOT`.
///
/// # Safety
///
/// `documents` NULL or valid for `documents_len` `fc_str`s, each valid for its length;
/// `out_store` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_new_merged(
    documents: *const fc_str,
    documents_len: usize,
    out_store: *mut *mut fc_store,
) -> fc_result {
    ffi_result! {
        let out_store = out_arg(out_store, "out_store")?;
        // SAFETY: as the `# Safety` section requires, `documents` is NULL (refused) or points at
        // `documents_len` `fc_str`s whose bytes stay valid and unchanged during this call; the
        // slices are not kept past it.
        let documents = unsafe { documents_arg(documents, documents_len)? };
        let store = Store::new();
        store.update_merged(&documents)?;
        // SAFETY: `out_store` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(store, out_store) };
        Ok(())
    }
}

/// Creates a store serving the flagd files at the `paths_len` `paths` (each `len` bytes,
/// not NUL-terminated) merged in order, as `fc_store_new_merged` merges documents. Every
/// file is read before any is loaded; one that cannot be read is `FC_RESULT_IO` naming it.
/// No path is `FC_RESULT_INVALID_ARGUMENT`, and so is an empty one.
///
/// # Safety
///
/// `paths` NULL or valid for `paths_len` `fc_str`s, each valid for its length;
/// `out_store` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_new_from_files(
    paths: *const fc_str,
    paths_len: usize,
    out_store: *mut *mut fc_store,
) -> fc_result {
    ffi_result! {
        let out_store = out_arg(out_store, "out_store")?;
        // SAFETY: as the `# Safety` section requires, `paths` is NULL (refused) or points at
        // `paths_len` `fc_str`s whose bytes stay valid during this call; `paths_arg` copies them.
        let paths = unsafe { paths_arg(paths, paths_len)? };
        let store = Store::new();
        load_files(&store, &paths)?;
        // SAFETY: `out_store` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(store, out_store) };
        Ok(())
    }
}

/// Like `fc_store_update`, reading the document in `format` (an `fc_format`):
/// `FC_FORMAT_NATIVE` or `FC_FORMAT_FLAGD` parse it as that format only, so a flagd
/// document stated as native (or a document with no `flags` object stated as flagd) is
/// `FC_RESULT_INVALID_SNAPSHOT`; `FC_FORMAT_DETECT` is `fc_store_update`. Any other
/// number is `FC_RESULT_INVALID_ARGUMENT`. On failure the serving snapshot stays.
///
/// # Safety
///
/// `store` NULL or live; `bytes` valid for `len` bytes; `out_version` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_store_update_as(
    store: *const fc_store,
    bytes: *const u8,
    len: usize,
    format: u32,
    out_version: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_update_as")?;
        let format = format_arg(format)?;
        // SAFETY: as the `# Safety` section requires, `bytes` is valid for reads of `len` bytes
        // that do not change during this call (NULL is refused unless `len` is 0); the slice is not
        // kept past the call.
        let bytes = unsafe { bytes_arg(bytes, len, "bytes")? };
        let version = load(store, bytes, format)?;
        // SAFETY: as the `# Safety` section requires, `out_version` is NULL or valid for a write.
        unsafe { give_version(out_version, version) };
        Ok(())
    }
}

/// Like `fc_store_update_as`, reading the document from the file at `path` (`path_len`
/// bytes, not NUL-terminated); may also fail with `FC_RESULT_IO`.
///
/// # Safety
///
/// `store` NULL or live; `path` valid for `path_len` bytes; `out_version` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_store_update_file_as(
    store: *const fc_store,
    path: *const c_char,
    path_len: usize,
    format: u32,
    out_version: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_update_file_as")?;
        let format = format_arg(format)?;
        // SAFETY: as the `# Safety` section requires, `path` is valid for reads of `path_len` bytes
        // during this call (NULL is refused unless `path_len` is 0); `path_arg` copies them into a
        // `PathBuf`.
        let path = unsafe { path_arg(path, path_len, "path")? };
        let version = load_file(store, &path, format)?;
        // SAFETY: as the `# Safety` section requires, `out_version` is NULL or valid for a write.
        unsafe { give_version(out_version, version) };
        Ok(())
    }
}

/// Validates the `documents_len` flagd documents of `documents` merged as
/// `fc_store_new_merged` merges them, and swaps the result in; `*out_version` (unless
/// NULL) receives the new version, the next after the serving one. On failure the serving
/// snapshot stays, with `fc_store_new_merged`'s codes.
///
/// # Safety
///
/// `store` NULL or live; `documents` NULL or valid for `documents_len` `fc_str`s, each
/// valid for its length; `out_version` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_store_update_merged(
    store: *const fc_store,
    documents: *const fc_str,
    documents_len: usize,
    out_version: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_update_merged")?;
        // SAFETY: as the `# Safety` section requires, `documents` is NULL (refused) or points at
        // `documents_len` `fc_str`s whose bytes stay valid and unchanged during this call; the
        // slices are not kept past it.
        let documents = unsafe { documents_arg(documents, documents_len)? };
        let version = store.update_merged(&documents)?;
        // SAFETY: as the `# Safety` section requires, `out_version` is NULL or valid for a write.
        unsafe { give_version(out_version, version) };
        Ok(())
    }
}

/// Reads the flagd files at the `paths_len` `paths` and swaps them in merged, as
/// `fc_store_new_from_files` does; `*out_version` (unless NULL) receives the new version.
/// On any failure, a file that cannot be read included, the serving snapshot stays.
///
/// # Safety
///
/// `store` NULL or live; `paths` NULL or valid for `paths_len` `fc_str`s, each valid for
/// its length; `out_version` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_store_update_files(
    store: *const fc_store,
    paths: *const fc_str,
    paths_len: usize,
    out_version: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_update_files")?;
        // SAFETY: as the `# Safety` section requires, `paths` is NULL (refused) or points at
        // `paths_len` `fc_str`s whose bytes stay valid during this call; `paths_arg` copies them.
        let paths = unsafe { paths_arg(paths, paths_len)? };
        let version = load_files(store, &paths)?;
        // SAFETY: as the `# Safety` section requires, `out_version` is NULL or valid for a write.
        unsafe { give_version(out_version, version) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error_string;

    const FLAGD: &[u8] = br#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1, "b": 2},
                                              "defaultVariant": "a"}}}"#;
    const LATER: &[u8] = br#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1, "b": 2},
                                              "defaultVariant": "b"}}}"#;

    fn value_of_f(store: *const fc_store) -> i64 {
        let mut value = 0;
        // SAFETY: `store` is a live handle; the name is a static string; `value` is a local.
        let r = unsafe {
            crate::store::fc_store_int(store, c"f".as_ptr(), 1, std::ptr::null(), -1, &mut value)
        };
        assert_eq!(r, fc_result::Ok);
        value
    }

    #[test]
    fn an_unknown_format_is_an_invalid_argument_and_changes_nothing() {
        let mut store = std::ptr::null_mut();
        // SAFETY: the document is a static slice; `store` is a local.
        let r = unsafe { fc_store_new_from_bytes_as(FLAGD.as_ptr(), FLAGD.len(), 7, &mut store) };
        assert_eq!(r, fc_result::InvalidArgument);
        assert!(store.is_null());
        assert!(
            last_error_string().contains("not an fc_format"),
            "{}",
            last_error_string()
        );
    }

    #[test]
    fn later_documents_win_and_a_refused_merge_keeps_the_serving_snapshot() {
        let documents = [
            fc_str {
                ptr: FLAGD.as_ptr().cast(),
                len: FLAGD.len(),
            },
            fc_str {
                ptr: LATER.as_ptr().cast(),
                len: LATER.len(),
            },
        ];
        let mut store = std::ptr::null_mut();
        // SAFETY: the array and its documents are static data; `store` is a local.
        let r = unsafe { fc_store_new_merged(documents.as_ptr(), 2, &mut store) };
        assert_eq!(r, fc_result::Ok);
        assert_eq!(value_of_f(store), 2);

        let broken = [
            documents[0],
            fc_str {
                ptr: c"[]".as_ptr(),
                len: 2,
            },
        ];
        let mut version = 0;
        // SAFETY: `store` is live; the array and its documents are static data.
        let r = unsafe { fc_store_update_merged(store, broken.as_ptr(), 2, &mut version) };
        assert_eq!(r, fc_result::InvalidSnapshot);
        assert_eq!(value_of_f(store), 2);
        // SAFETY: `store` is live; a NULL array with no length is refused before any read.
        let r = unsafe { fc_store_update_merged(store, std::ptr::null(), 0, &mut version) };
        assert_eq!(r, fc_result::InvalidArgument);
        // SAFETY: `store` came from `fc_store_new_merged` and is not used again.
        unsafe { crate::store::fc_store_free(store) };
    }
}

/// How flagd's `fractional` buckets in flagd documents a store loads, for
/// `fc_store_set_flagd_fractional`, passed as a `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fc_flagd_fractional {
    /// flagd's current bucketing (the default): MurmurHash3 of the key's UTF-8 bytes
    /// (`docs/format.md` §9.4.2).
    V2 = 2,
    /// flagd's newer bucketing, by the key's canonical CBOR encoding, as flagd's Python
    /// core 2.x buckets (`docs/format.md` §9.4.3).
    V3 = 3,
}

/// Sets how `fractional` buckets in the flagd documents `store` loads from now on
/// (`FC_FLAGD_FRACTIONAL_V2`, the default, or `FC_FLAGD_FRACTIONAL_V3`); what it serves
/// now is unchanged. Any other number is `FC_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `store` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fc_store_set_flagd_fractional(
    store: *const fc_store,
    version: u32,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        let version = match version {
            v if v == fc_flagd_fractional::V2 as u32 => FractionalVersion::V2,
            v if v == fc_flagd_fractional::V3 as u32 => FractionalVersion::V3,
            other => {
                return Err(Failure::new(
                    fc_result::InvalidArgument,
                    format!("`version` is {other}, not an fc_flagd_fractional (2 or 3)"),
                ))
            }
        };
        store.set_flagd_fractional(version);
        Ok(())
    }
}
