//! The panic boundary: every `extern "C"` body runs inside [`ffi_boundary!`], which turns a
//! panic into [`fc_result::Panic`](crate::error::fc_result) (or a harmless default for
//! functions that return no result), so a panic never unwinds into C and never aborts the
//! host process.

use std::any::Any;
use std::ptr;

use crate::error::{fc_result, Failure};

/// What a function returns to C when its body panicked.
pub(crate) trait OnPanic {
    fn on_panic() -> Self;
}

impl OnPanic for fc_result {
    fn on_panic() -> Self {
        fc_result::Panic
    }
}

impl OnPanic for () {
    fn on_panic() -> Self {}
}

impl OnPanic for usize {
    fn on_panic() -> Self {
        0
    }
}

impl<T> OnPanic for *const T {
    fn on_panic() -> Self {
        ptr::null()
    }
}

/// Records a caught panic as the thread's last error.
pub(crate) fn record_panic(payload: Box<dyn Any + Send>) {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    // Dropping the payload could itself panic (a payload type with a panicking Drop);
    // leaking it is the safe choice at a boundary that must not unwind.
    let message = format!("internal panic (a bug in flagcore, please report it): {what}");
    std::mem::forget(payload);
    crate::error::set_last_error(Failure::new(fc_result::Panic, message));
}

/// Runs a function body, catching any panic.
///
/// The body is the whole function body; it may `return` early (from the closure the macro
/// wraps it in). A panic is recorded as the thread's last error and the function returns
/// [`OnPanic::on_panic`] for its return type.
macro_rules! ffi_boundary {
    ( $($body:tt)* ) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(ret) => ret,
            Err(payload) => {
                $crate::panic::record_panic(payload);
                $crate::panic::OnPanic::on_panic()
            }
        }
    };
}

/// Runs a function body that returns `Result<(), Failure>`, catching any panic, and turns
/// the outcome into an [`fc_result`], recording a failure as the thread's last error.
macro_rules! ffi_result {
    ( $($body:tt)* ) => {
        $crate::panic::ffi_boundary! {
            let run = || -> ::std::result::Result<(), $crate::error::Failure> { $($body)* };
            match run() {
                Ok(()) => $crate::error::fc_result::Ok,
                Err(failure) => failure.record(),
            }
        }
    };
}

pub(crate) use {ffi_boundary, ffi_result};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error_string;

    extern "C" fn panics_with_result(n: u32) -> fc_result {
        ffi_result! {
            if n > 0 {
                panic!("boom {n}");
            }
            Ok(())
        }
    }

    extern "C" fn panics_with_pointer() -> *const u8 {
        ffi_boundary! {
            panic!("{}", String::from("owned message"));
        }
    }

    #[test]
    fn a_panic_becomes_the_panic_code_and_a_message() {
        assert_eq!(panics_with_result(0), fc_result::Ok);
        assert_eq!(panics_with_result(7), fc_result::Panic);
        let message = last_error_string();
        assert!(message.contains("boom 7"), "{message}");
    }

    #[test]
    fn a_panic_in_a_pointer_function_returns_null() {
        assert!(panics_with_pointer().is_null());
        assert!(last_error_string().contains("owned message"));
    }
}
