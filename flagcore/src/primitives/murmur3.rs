//! MurmurHash3 x86_32, the hash flagd's `fractional` buckets with (seed 0), so users keep
//! the buckets flagd gave them.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// The 32-bit MurmurHash3 of `bytes` with `seed`, as in Austin Appleby's reference
/// `MurmurHash3_x86_32`.
pub(crate) fn murmur3_32(bytes: &[u8], seed: u32) -> u32 {
    murmur3_32_of(&[bytes], seed)
}

/// The 32-bit MurmurHash3 of the concatenation of `parts`, read in place: flagd hashes a
/// flag key followed by a targeting key, and concatenating them first would need a
/// buffer.
pub(crate) fn murmur3_32_of(parts: &[&[u8]], seed: u32) -> u32 {
    let mut h = seed;
    let mut block = [0u8; 4];
    let mut filled = 0;
    let mut len = 0usize;
    for part in parts {
        len += part.len();
        for &byte in *part {
            block[filled] = byte;
            filled += 1;
            if filled == 4 {
                h ^= mix(u32::from_le_bytes(block));
                h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
                filled = 0;
            }
        }
    }
    if filled > 0 {
        let mut k = 0u32;
        for (i, &byte) in block[..filled].iter().enumerate() {
            k |= u32::from(byte) << (8 * i);
        }
        h ^= mix(k);
    }
    // The reference mixes in the length as a 32-bit int: longer inputs wrap.
    h ^= len as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[inline]
fn mix(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

#[cfg(test)]
mod tests {
    use super::{murmur3_32, murmur3_32_of};

    /// Keys whose hashes the flagd conformance suite found by exhaustive search to sit on
    /// the boundaries of the 32-bit range.
    #[test]
    fn hashes_the_boundary_keys_of_flagds_suite() {
        assert_eq!(murmur3_32(b"ejOoVL", 0), 0);
        assert_eq!(murmur3_32(b"bY9fO-", 0), 1);
        assert_eq!(murmur3_32(b"SI7p-", 0), 2_147_483_647);
        assert_eq!(murmur3_32(b"6LvT0", 0), 2_147_483_648);
        assert_eq!(murmur3_32(b"ceQdGm", 0), u32::MAX);
    }

    #[test]
    fn hashing_parts_is_hashing_their_concatenation() {
        let text = b"fractional-flagjon@company.com";
        for split in 0..=text.len() {
            let (a, b) = text.split_at(split);
            assert_eq!(
                murmur3_32_of(&[a, b], 7),
                murmur3_32(text, 7),
                "split at {split}"
            );
        }
    }

    /// The reference implementation's published verification values (SMHasher).
    #[test]
    fn matches_reference_values() {
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmur3_32(b"", 0xffff_ffff), 0x81f1_6f39);
        assert_eq!(murmur3_32(b"\0\0\0\0", 0), 0x2362_f9de);
        assert_eq!(murmur3_32(b"Hello, world!", 1234), 0xfaf6_cdb3);
        assert_eq!(
            murmur3_32(b"The quick brown fox jumps over the lazy dog", 0x9747_b28c),
            0x2fa8_26cd
        );
    }
}
