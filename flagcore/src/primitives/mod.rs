//! The leaves every layer shares: attribute values, SemVer and RFC 3339 readers, and the
//! bucketing hash. They depend on nothing else in the crate, so every module may use them
//! and the layers above stay one-way (docs/architecture.md).

pub(crate) mod cbor;
pub(crate) mod hashing;
pub(crate) mod murmur3;
pub(crate) mod semver;
pub(crate) mod time;
pub(crate) mod value;
