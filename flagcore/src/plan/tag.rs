//! How a [`FlagHandle`](crate::FlagHandle) recognises the plan it cached a flag's index
//! for: each plan carries its id shifted above the index bits (`Plan::handle_tag`).

/// The bits of a handle's cached word that hold the flag index.
const SLOT_BITS: u32 = 24;
/// The flag index's part of a handle's cached word.
pub(crate) const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Plans with ids from here on (half a trillion updates) are not cached by handles.
pub(crate) const UNCACHED_IDS: u64 = 1 << (63 - SLOT_BITS);
/// The tag of those plans: no cached word XORs with it to an index.
pub(crate) const UNCACHED_TAG: u64 = 1 << 63;

/// Plan `id` shifted above the flag index, so that a handle's cached word XOR the serving
/// plan's tag is the index exactly when the word was cached for that plan (and more than
/// [`SLOT_MASK`] otherwise): one compare decides and the index needs no masking.
pub(crate) const fn tag_of(id: u64) -> u64 {
    if id < UNCACHED_IDS {
        id << SLOT_BITS
    } else {
        UNCACHED_TAG
    }
}
