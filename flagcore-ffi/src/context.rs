//! The evaluation context as C builds it: a targeting key and an array of attributes, all
//! borrowed, turned into a [`flagcore::EvaluationContext`] on the stack.

use std::ffi::c_char;
use std::mem::MaybeUninit;

use flagcore_engine::{EvaluationContext, Value};

use crate::error::{fc_result, Failure};
use crate::panic::{ffi_boundary, ffi_result};
use crate::ptr::{opaque_handle, out_arg, str_arg, write_out, Handle};

/// The most attributes one context may have; more is `FC_RESULT_TOO_MANY_ATTRIBUTES`. The
/// evaluation call converts the attributes in a fixed array on its stack, never on the heap.
pub const FC_MAX_ATTRIBUTES: usize = 64;

/// The type of an attribute's value: which field of `fc_attribute` holds it.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fc_value_kind {
    /// `string_value`/`string_len`: UTF-8 text.
    String = 0,
    /// `int_value`: a signed 64-bit integer.
    Int = 1,
    /// `float_value`: a double.
    Float = 2,
    /// `bool_value`.
    Bool = 3,
}

/// One attribute of an evaluation context, built by the caller. Only the field that `kind`
/// names is read. Every pointer is borrowed for the duration of the call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_attribute {
    /// The attribute's name, UTF-8 (`key` is reserved for the targeting key and ignored
    /// here).
    pub name: *const c_char,
    /// `name`'s length in bytes.
    pub name_len: usize,
    /// An `fc_value_kind`: which value field is set. Any other number is
    /// `FC_RESULT_INVALID_ARGUMENT`.
    pub kind: u32,
    /// The value when `kind` is `FC_VALUE_KIND_STRING`, UTF-8 (NULL allowed when
    /// `string_len` is 0).
    pub string_value: *const c_char,
    /// `string_value`'s length in bytes.
    pub string_len: usize,
    /// The value when `kind` is `FC_VALUE_KIND_INT`.
    pub int_value: i64,
    /// The value when `kind` is `FC_VALUE_KIND_FLOAT`.
    pub float_value: f64,
    /// The value when `kind` is `FC_VALUE_KIND_BOOL`.
    pub bool_value: bool,
}

/// Who is asking: a targeting key and attributes, built by the caller, borrowed for the
/// duration of the call. A NULL `fc_context *` means no key and no attributes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_context {
    /// The targeting key, UTF-8; NULL for a context without one (then targets and rollouts
    /// by `key` cannot match). The empty key is a non-NULL pointer with `key_len` 0.
    pub key: *const c_char,
    /// `key`'s length in bytes.
    pub key_len: usize,
    /// `attributes_len` attributes (NULL allowed when `attributes_len` is 0). When a name
    /// appears twice, the first wins.
    pub attributes: *const fc_attribute,
    /// At most `FC_MAX_ATTRIBUTES`.
    pub attributes_len: usize,
    /// A context prepared with `fc_prepared_context_new`, or NULL. When set, the other
    /// fields are ignored and the evaluation skips checking and converting them: the fast
    /// path for a context evaluated against many flags.
    pub prepared: *const fc_prepared_context,
}

/// A context checked and copied once (`fc_prepared_context_new`), for evaluations that then
/// cost no conversion at all: pass it as the `prepared` field of an `fc_context`. It owns
/// copies of its strings (no borrowing), is immutable, may be used by any number of
/// threads at once, and is freed with `fc_prepared_context_free`.
#[allow(non_camel_case_types)]
pub struct fc_prepared_context {
    _private: [u8; 0],
}

opaque_handle!(fc_prepared_context => Prepared, "prepared context");

/// An owned copy of a context, laid out as evaluations read it.
///
/// `key` and `attributes` borrow from `_arena`, one string holding every string of the
/// context. The arena is complete before anything borrows it, and nothing touches it again
/// until the whole `Prepared` is dropped; moving a `String` moves its pointer, not its
/// heap buffer. The `'static` is a private fiction: [`Prepared::context`] hands the borrows
/// out only with the lifetime of `&self`.
#[derive(Debug)]
pub struct Prepared {
    key: Option<&'static str>,
    attributes: Vec<(&'static str, Value<'static>)>,
    _arena: String,
}

impl Prepared {
    fn new(ctx: &EvaluationContext<'_>) -> Prepared {
        // First every string into the arena, remembering where each went...
        let mut arena = String::new();
        let mut place = |s: &str| {
            let start = arena.len();
            arena.push_str(s);
            start..arena.len()
        };
        let key = ctx.key().map(&mut place);
        let attributes: Vec<_> = ctx
            .attributes()
            .iter()
            .map(|(name, value)| {
                let name = place(name);
                let value = match *value {
                    Value::String(s) => Err(place(s)),
                    other => Ok(other),
                };
                (name, value)
            })
            .collect();
        // ...then borrow the finished arena.
        // SAFETY: the arena's buffer is complete and is never written, reallocated or freed
        // before `Prepared` is dropped (see the type's documentation).
        let all: &'static str = unsafe { &*std::ptr::from_ref::<str>(arena.as_str()) };
        // Each range covers one whole string pushed above, so it lies on char boundaries.
        let at = |range: std::ops::Range<usize>| all.get(range).unwrap_or_default();
        Prepared {
            key: key.map(at),
            attributes: attributes
                .into_iter()
                .map(|(name, value)| {
                    let value = match value {
                        Ok(Value::Int(i)) => Value::Int(i),
                        Ok(Value::Float(f)) => Value::Float(f),
                        Ok(Value::Bool(b)) => Value::Bool(b),
                        Ok(Value::String(_)) => Value::String(""),
                        Err(range) => Value::String(at(range)),
                    };
                    (at(name), value)
                })
                .collect(),
            _arena: arena,
        }
    }

    /// The context, borrowing from `self` only.
    #[inline]
    fn context(&self) -> EvaluationContext<'_> {
        let attributes: &[(&str, Value<'_>)] = &self.attributes;
        match self.key {
            Some(key) => EvaluationContext::new(key),
            None => EvaluationContext::anonymous(),
        }
        .with_attributes(attributes)
    }
}

/// Checks the context `ctx` describes (as an evaluation would) and copies it into a new
/// prepared context `*out`. Fails as evaluations do on a bad context.
///
/// # Safety
///
/// `ctx` NULL (an empty context) or valid as for an evaluation; `out` NULL or valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn fc_prepared_context_new(
    ctx: *const fc_context,
    out: *mut *mut fc_prepared_context,
) -> fc_result {
    ffi_result! {
        let out = out_arg(out, "out")?;
        // SAFETY: the `# Safety` section promises what `with_context` needs: `ctx` is NULL
        // or a valid `fc_context` whose pointers are valid for their lengths during this call.
        // `Prepared::new` copies every string it keeps.
        let prepared = unsafe { with_context(ctx, Prepared::new)? };
        // SAFETY: `out` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, aligned and valid for a write of what it points to; `write_out` neither reads
        // nor drops the old value.
        unsafe { write_out(out, fc_prepared_context::into_raw(prepared)) };
        Ok(())
    }
}

/// Frees a prepared context; NULL is a no-op.
///
/// # Safety
///
/// `ctx` NULL or live, in use on no other thread; invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn fc_prepared_context_free(ctx: *mut fc_prepared_context) {
    ffi_boundary! {
        // SAFETY: as the `# Safety` section requires, `ctx` is NULL (a no-op) or a handle
        // `fc_prepared_context_new` returned, not freed yet and used by no other thread now or
        // later, so `free` may take the `Prepared` box back and drop it.
        unsafe { fc_prepared_context::free(ctx) }
    }
}

/// Runs `f` with the context `ctx` describes, converted without heap allocation.
///
/// # Safety
///
/// Unless NULL, `ctx` must point at a valid `fc_context` whose pointers are valid for their
/// lengths for the duration of the call.
#[inline]
pub(crate) unsafe fn with_context<R>(
    ctx: *const fc_context,
    f: impl FnOnce(&EvaluationContext<'_>) -> R,
) -> Result<R, Failure> {
    // SAFETY: this function's contract: `ctx` is NULL (`as_ref` gives `None`) or points at
    // an aligned, initialised `fc_context` that stays valid and unchanged during the call.
    let Some(ctx) = (unsafe { ctx.as_ref() }) else {
        return Ok(f(&EvaluationContext::anonymous()));
    };
    if !ctx.prepared.is_null() {
        // SAFETY: `ctx.prepared` is non-NULL (checked just above) and, as an `fc_context` is
        // only valid if it is, a handle `fc_prepared_context_new` returned that
        // `fc_prepared_context_free` has not freed: the `Prepared` box stays alive for the
        // call, and `f` borrows the context no longer.
        let prepared = unsafe { fc_prepared_context::borrow(ctx.prepared)? };
        return Ok(f(&prepared.context()));
    }
    let key = if ctx.key.is_null() {
        if ctx.key_len != 0 {
            return Err(Failure::null("ctx->key"));
        }
        None
    } else {
        // SAFETY: `ctx.key` is non-NULL (checked above) and, as this function's contract
        // says of a valid `fc_context`, valid for reads of `key_len` bytes that do not
        // change during the call; the key is borrowed only by `f`'s context.
        Some(unsafe { str_arg(ctx.key, ctx.key_len, "ctx->key")? })
    };
    let count = ctx.attributes_len;
    if count > FC_MAX_ATTRIBUTES {
        return Err(Failure::new(
            fc_result::TooManyAttributes,
            format!("the context has {count} attributes, more than FC_MAX_ATTRIBUTES ({FC_MAX_ATTRIBUTES})"),
        ));
    }
    if ctx.attributes.is_null() && count != 0 {
        return Err(Failure::null("ctx->attributes"));
    }
    // Uninitialised, so that a call pays only for the attributes it has, not for the
    // whole array (2.5 KiB).
    let mut storage: [MaybeUninit<(&str, Value<'_>)>; FC_MAX_ATTRIBUTES] =
        [const { MaybeUninit::uninit() }; FC_MAX_ATTRIBUTES];
    for (i, slot) in storage.iter_mut().enumerate().take(count) {
        // SAFETY: `ctx.attributes` is non-NULL (checked above: `count > 0` here) and, as
        // this function's contract says of a valid `fc_context`, points at `count` aligned,
        // initialised `fc_attribute`s that do not change during the call; `i < count`.
        let attribute = unsafe { &*ctx.attributes.add(i) };
        slot.write(convert(attribute)?);
    }
    // SAFETY: the first `count` elements were initialised by the loop above (which returns
    // early on any error), `count <= FC_MAX_ATTRIBUTES`, and `MaybeUninit<T>` has the
    // layout of `T`.
    let attributes: &[(&str, Value<'_>)] =
        unsafe { std::slice::from_raw_parts(storage.as_ptr().cast(), count) };
    let context = match key {
        Some(key) => EvaluationContext::new(key),
        None => EvaluationContext::anonymous(),
    }
    .with_attributes(attributes);
    Ok(f(&context))
}

/// One C attribute as a Rust one, borrowing its strings. Always inlined into the loop of
/// `with_context`: out of line, each attribute paid a call frame and its result went
/// through memory (84 instructions per attribute, against about 30 inline).
#[inline(always)]
fn convert<'a>(attribute: &fc_attribute) -> Result<(&'a str, Value<'a>), Failure> {
    // SAFETY: `attribute` is one of a valid `fc_context`'s attributes (`with_context`, the
    // only caller, takes it from one), so `name` is valid for reads of `name_len` bytes
    // that do not change during the call (NULL is refused unless `name_len` is 0), which
    // is as long as the returned pair is used.
    let name = unsafe { str_arg(attribute.name, attribute.name_len, "attribute name")? };
    let value = match attribute.kind {
        k if k == fc_value_kind::String as u32 => {
            // SAFETY: as for `name`: an attribute of kind `FC_VALUE_KIND_STRING` of a valid
            // `fc_context` has `string_value` valid for reads of `string_len` bytes during
            // the call.
            Value::String(unsafe {
                str_arg(
                    attribute.string_value,
                    attribute.string_len,
                    "attribute value",
                )?
            })
        }
        k if k == fc_value_kind::Int as u32 => Value::Int(attribute.int_value),
        k if k == fc_value_kind::Float as u32 => Value::Float(attribute.float_value),
        k if k == fc_value_kind::Bool as u32 => Value::Bool(attribute.bool_value),
        other => {
            return Err(Failure::new(
                fc_result::InvalidArgument,
                format!("attribute `{name}` has kind {other}, not an fc_value_kind"),
            ))
        }
    };
    Ok((name, value))
}
