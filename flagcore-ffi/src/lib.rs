//! The C ABI of flagcore: `include/flagcore.h`, generated from this crate by cbindgen.
//!
//! The conventions (ownership, NULL, out-parameters, strings, threads) are in `README.md`.
//! Every `extern "C"` function runs its body inside the panic boundary of [`panic`], so no
//! panic crosses into C; arguments are checked (NULL, UTF-8, lengths) and reported as
//! [`fc_result`] codes, never crashes. Evaluation converts the caller's context on the
//! stack and does not allocate.

#![deny(missing_docs)]

mod buffer;
mod change;
mod context;
mod details;
mod error;
mod exposure;
mod format;
mod guardrail;
mod lists;
mod panic;
mod ptr;
mod reentry;
mod snapshot;
mod source;
mod store;

use std::ffi::c_char;

pub use change::{fc_change, fc_change_callback, fc_store_subscribe, fc_store_unsubscribe};
pub use context::{
    fc_attribute, fc_context, fc_prepared_context, fc_prepared_context_free,
    fc_prepared_context_new, fc_value_kind, FC_MAX_ATTRIBUTES,
};
pub use details::{fc_details, fc_error_code, fc_error_code_name, fc_reason, fc_reason_name};
pub use error::{
    fc_last_error_length, fc_last_error_message, fc_last_error_validation,
    fc_last_error_validation_len, fc_result, fc_result_code, fc_validation_error,
};
pub use exposure::{
    fc_exposure, fc_exposure_callback, fc_exposure_options, fc_exposure_stats,
    fc_store_exposure_stats, fc_store_flush_exposures, fc_store_track_exposures,
    fc_store_track_exposures_json_lines,
};
pub use format::{
    fc_flagd_fractional, fc_format, fc_store_new_from_bytes_as, fc_store_new_from_file_as,
    fc_store_new_from_files, fc_store_new_merged, fc_store_set_flagd_fractional,
    fc_store_update_as, fc_store_update_file_as, fc_store_update_files, fc_store_update_merged,
};
pub use guardrail::{
    fc_guardrail, fc_guardrail_trip_callback, fc_guardrails, fc_guardrails_free, fc_guardrails_get,
    fc_guardrails_len, fc_store_guardrail_trips, fc_store_guardrails,
    fc_store_observations_ignored, fc_store_observe, fc_store_on_guardrail_trip, fc_variant_counts,
};
pub use lists::{
    fc_kill, fc_kills, fc_kills_free, fc_kills_get, fc_kills_len, fc_metric, fc_metrics,
    fc_metrics_free, fc_metrics_get, fc_metrics_len, fc_store_kills, fc_store_take_metrics,
};
pub use ptr::fc_str;
pub use snapshot::{
    fc_metadata_entry, fc_metadata_kind, fc_snapshot, fc_snapshot_bool, fc_snapshot_flag_metadata,
    fc_snapshot_flag_metadata_len, fc_snapshot_float, fc_snapshot_free, fc_snapshot_int,
    fc_snapshot_json, fc_snapshot_string, fc_snapshot_version,
};
pub use source::{
    fc_file_source_options, fc_file_source_start, fc_http_header, fc_http_source_options,
    fc_http_source_start, fc_source, fc_source_error, fc_source_error_name, fc_source_free,
    fc_source_last_error_message, fc_source_state, fc_source_status, fc_source_stop,
};
pub use store::{
    fc_store, fc_store_bool, fc_store_float, fc_store_free, fc_store_int, fc_store_json,
    fc_store_kill, fc_store_new, fc_store_new_from_bytes, fc_store_new_from_file, fc_store_revive,
    fc_store_set_metrics_enabled, fc_store_snapshot, fc_store_string, fc_store_update,
    fc_store_update_file, fc_store_version,
};

/// The library's version (`"0.1.0"`), a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn fc_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

// A snapshot view may be used and freed on any thread, and a store shared between threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<flagcore_engine::Snapshot>();
    send_sync::<flagcore_engine::Store>();
    send_sync::<source::Source>();
    send_sync::<store::StoreHandle>();
};
