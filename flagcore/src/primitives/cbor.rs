//! The canonical CBOR (RFC 8949 §4.2.1, as Python's `cbor2` writes with `canonical=True`)
//! of the scalar values flagd's newer `fractional` hashes: a key is hashed as its CBOR
//! encoding, so that strings, numbers and booleans bucket alike in every language.
//!
//! Only heads are written here, into a caller's small buffer; a string's bytes follow its
//! head unchanged, so nothing is copied or allocated.

/// A data item's head: major type and argument, in the shortest form.
pub(crate) fn head(major: u8, argument: u64, out: &mut [u8; 9]) -> &[u8] {
    let major = major << 5;
    let len = match argument {
        0..=23 => {
            out[0] = major | argument as u8;
            1
        }
        24..=0xff => {
            out[0] = major | 24;
            out[1] = argument as u8;
            2
        }
        0x100..=0xffff => {
            out[0] = major | 25;
            out[1..3].copy_from_slice(&(argument as u16).to_be_bytes());
            3
        }
        0x1_0000..=0xffff_ffff => {
            out[0] = major | 26;
            out[1..5].copy_from_slice(&(argument as u32).to_be_bytes());
            5
        }
        _ => {
            out[0] = major | 27;
            out[1..9].copy_from_slice(&argument.to_be_bytes());
            9
        }
    };
    &out[..len]
}

/// Major type of a text string.
pub(crate) const TEXT: u8 = 3;
/// The head of an array of two items.
pub(crate) const PAIR: u8 = 0x82;
/// `false`, `true`.
pub(crate) const BOOLEANS: [u8; 2] = [0xf4, 0xf5];

/// A number as flagd's `fractional` encodes it: a float without a fraction that fits in
/// 64 bits as an integer, anything else as the shortest float that holds it exactly.
pub(crate) fn number(x: f64, out: &mut [u8; 9]) -> &[u8] {
    if x.fract() == 0.0 && (0.0..=18_446_744_073_709_551_615.0).contains(&x) {
        return head(0, x as u64, out);
    }
    if x.fract() == 0.0 && (-9_223_372_036_854_775_808.0..0.0).contains(&x) {
        // A negative integer n is major type 1 with argument -1 - n.
        return head(1, (-1.0 - x) as u64, out);
    }
    if let Some(half) = half(x) {
        out[0] = 0xf9;
        out[1..3].copy_from_slice(&half.to_be_bytes());
        return &out[..3];
    }
    let single = x as f32;
    if f64::from(single) == x {
        out[0] = 0xfa;
        out[1..5].copy_from_slice(&single.to_bits().to_be_bytes());
        return &out[..5];
    }
    out[0] = 0xfb;
    out[1..9].copy_from_slice(&x.to_bits().to_be_bytes());
    &out[..9]
}

/// The IEEE half-precision bits of `x` when it holds `x` exactly (NaN as the canonical
/// quiet NaN).
fn half(x: f64) -> Option<u16> {
    if x.is_nan() {
        return Some(0x7e00);
    }
    let sign = if x.is_sign_negative() { 0x8000u16 } else { 0 };
    if x.is_infinite() {
        return Some(sign | 0x7c00);
    }
    let magnitude = x.abs();
    if magnitude == 0.0 {
        return Some(sign);
    }
    // Subnormal halves are multiples of 2^-24 below 2^-14.
    if magnitude < 2f64.powi(-14) {
        let units = magnitude * 2f64.powi(24);
        return (units.fract() == 0.0).then_some(sign | units as u16);
    }
    let bits = magnitude.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mantissa = bits & ((1 << 52) - 1);
    if exponent > 15 || mantissa & ((1 << 42) - 1) != 0 {
        return None;
    }
    Some(sign | (((exponent + 15) as u16) << 10) | (mantissa >> 42) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(x: f64) -> Vec<u8> {
        number(x, &mut [0; 9]).to_vec()
    }

    /// Encodings from RFC 8949 Appendix A (with floats in their shortest exact form).
    #[test]
    fn matches_the_rfcs_examples() {
        assert_eq!(encoded(0.0), [0x00]);
        assert_eq!(encoded(-0.0), [0x00]);
        assert_eq!(encoded(23.0), [0x17]);
        assert_eq!(encoded(24.0), [0x18, 0x18]);
        assert_eq!(encoded(1000.0), [0x19, 0x03, 0xe8]);
        assert_eq!(encoded(1_000_000.0), [0x1a, 0x00, 0x0f, 0x42, 0x40]);
        assert_eq!(
            encoded(1e12),
            [0x1b, 0x00, 0x00, 0x00, 0xe8, 0xd4, 0xa5, 0x10, 0x00]
        );
        assert_eq!(encoded(-1.0), [0x20]);
        assert_eq!(encoded(-1000.0), [0x39, 0x03, 0xe7]);
        assert_eq!(encoded(1.5), [0xf9, 0x3e, 0x00]);
        assert_eq!(encoded(65504.5), [0xfa, 0x47, 0x7f, 0xe0, 0x80]);
        assert_eq!(encoded(5.960464477539063e-8), [0xf9, 0x00, 0x01]);
        assert_eq!(encoded(0.00006103515625), [0xf9, 0x04, 0x00]);
        assert_eq!(
            encoded(-4.1),
            [0xfb, 0xc0, 0x10, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66]
        );
        assert_eq!(
            encoded(1e300),
            [0xfb, 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c]
        );
        assert_eq!(encoded(100000.5), [0xfa, 0x47, 0xc3, 0x50, 0x40]);
        assert_eq!(encoded(f64::INFINITY), [0xf9, 0x7c, 0x00]);
        assert_eq!(encoded(f64::NEG_INFINITY), [0xf9, 0xfc, 0x00]);
        assert_eq!(encoded(f64::NAN), [0xf9, 0x7e, 0x00]);
        assert_eq!(head(TEXT, 5, &mut [0; 9]), [0x65]);
        assert_eq!(head(TEXT, 24, &mut [0; 9]), [0x78, 24]);
        assert_eq!(head(4, 2, &mut [0; 9]), [PAIR]);
    }
}
