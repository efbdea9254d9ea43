//! Strict SemVer 2.0.0 versions, parsed and compared without touching the heap.
//!
//! Context attributes are parsed on every evaluation, so a version borrows its
//! pre-release part from the input instead of splitting it into a `Vec`.

use std::cmp::Ordering;

/// A parsed version borrowing its pre-release identifiers; build metadata is dropped
/// because SemVer precedence ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version<'a> {
    major: u64,
    minor: u64,
    patch: u64,
    /// Dot-separated pre-release identifiers; empty for a release.
    pre: &'a str,
}

/// A version held by a compiled plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnedVersion {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Box<str>,
}

impl OwnedVersion {
    pub(crate) fn as_version(&self) -> Version<'_> {
        Version {
            major: self.major,
            minor: self.minor,
            patch: self.patch,
            pre: &self.pre,
        }
    }
}

impl<'a> Version<'a> {
    /// Parses `MAJOR.MINOR.PATCH[-PRE][+BUILD]`; `None` when it is not valid SemVer 2.0.0.
    /// One pass over the bytes: this runs on every evaluation of a `semver_*` clause.
    #[inline]
    pub(crate) fn parse(text: &'a str) -> Option<Version<'a>> {
        let b = text.as_bytes();
        let mut at = 0;
        let major = numeric(b, &mut at)?;
        expect(b, &mut at, b'.')?;
        let minor = numeric(b, &mut at)?;
        expect(b, &mut at, b'.')?;
        let patch = numeric(b, &mut at)?;
        let mut pre = "";
        if b.get(at) == Some(&b'-') {
            let start = at + 1;
            let end = b[start..]
                .iter()
                .position(|&c| c == b'+')
                .map_or(b.len(), |p| start + p);
            if !identifiers(&b[start..end], true) {
                return None;
            }
            pre = text.get(start..end)?;
            at = end;
        }
        if b.get(at) == Some(&b'+') {
            if !identifiers(&b[at + 1..], false) {
                return None;
            }
            at = b.len();
        }
        (at == b.len()).then_some(Version {
            major,
            minor,
            patch,
            pre,
        })
    }

    /// Parses a version as flagd's `sem_ver` reads one (Go's `golang.org/x/mod/semver`
    /// after flagd prefixes a `v`): an optional leading `v` or `V`, then `MAJOR`,
    /// `MAJOR.MINOR` (the missing parts are zero) or a full SemVer 2.0.0 version.
    pub(crate) fn parse_flagd(text: &'a str) -> Option<Version<'a>> {
        let text = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('V'))
            .unwrap_or(text);
        if let Some(full) = Version::parse(text) {
            return Some(full);
        }
        // The shorthands take no pre-release or build part.
        let b = text.as_bytes();
        let mut at = 0;
        let major = numeric(b, &mut at)?;
        let minor = if at < b.len() {
            expect(b, &mut at, b'.')?;
            numeric(b, &mut at)?
        } else {
            0
        };
        (at == b.len()).then_some(Version {
            major,
            minor,
            patch: 0,
            pre: "",
        })
    }

    /// The major and minor version numbers.
    pub(crate) fn major_minor(&self) -> (u64, u64) {
        (self.major, self.minor)
    }

    /// Same major and minor version (flagd's `~`).
    pub(crate) fn same_minor(&self, other: &Version<'_>) -> bool {
        (self.major, self.minor) == (other.major, other.minor)
    }

    /// Same major version (flagd's `^`).
    pub(crate) fn same_major(&self, other: &Version<'_>) -> bool {
        self.major == other.major
    }

    pub(crate) fn to_owned_version(self) -> OwnedVersion {
        OwnedVersion {
            major: self.major,
            minor: self.minor,
            patch: self.patch,
            pre: self.pre.into(),
        }
    }

    /// SemVer 2.0.0 precedence (§11).
    pub(crate) fn precedence(&self, other: &Version<'_>) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_pre(self.pre, other.pre))
    }
}

/// `MAJOR.MINOR.PATCH[-PRE]`: the version in SemVer 2.0.0 form, without build metadata.
impl std::fmt::Display for Version<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        Ok(())
    }
}

#[inline]
fn expect(b: &[u8], at: &mut usize, byte: u8) -> Option<()> {
    (b.get(*at) == Some(&byte)).then(|| *at += 1)
}

/// A numeric part: digits without a leading zero, fitting in `u64`.
#[inline]
fn numeric(b: &[u8], at: &mut usize) -> Option<u64> {
    let start = *at;
    let mut value: u64 = 0;
    while let Some(&c) = b.get(*at).filter(|c| c.is_ascii_digit()) {
        value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        *at += 1;
    }
    let len = *at - start;
    (len == 1 || (len > 1 && b[start] != b'0')).then_some(value)
}

/// Dot-separated, non-empty `[0-9A-Za-z-]` identifiers; pre-release numeric ones may not
/// have leading zeros.
fn identifiers(b: &[u8], pre_release: bool) -> bool {
    b.split(|&c| c == b'.').all(|id| {
        let valid = !id.is_empty() && id.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-');
        let leading_zero = id.len() > 1 && id[0] == b'0' && id.iter().all(u8::is_ascii_digit);
        valid && !(pre_release && leading_zero)
    })
}

fn is_numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    // A release ranks above any of its pre-releases.
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = compare_identifier(x, y);
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn compare_identifier(x: &str, y: &str) -> Ordering {
    match (is_numeric(x), is_numeric(y)) {
        // Numeric identifiers have no leading zeros, so length orders them first.
        (true, true) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => x.cmp(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version<'_> {
        Version::parse(s).unwrap()
    }

    #[test]
    fn rejects_what_semver_rejects() {
        for bad in [
            "",
            "1",
            "1.2",
            "v1.2.3",
            "01.2.3",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3+",
            "1.2.3.4",
            "1.2.3-a..b",
            "1.2.x",
            " 1.2.3",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn precedence_follows_the_semver_example_chain() {
        // The chain of SemVer 2.0.0 §11.4, strictly increasing.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for pair in chain.windows(2) {
            assert_eq!(
                v(pair[0]).precedence(&v(pair[1])),
                Ordering::Less,
                "{pair:?}"
            );
        }
    }

    #[test]
    fn flagd_reads_a_v_prefix_and_partial_versions() {
        for (text, full) in [
            ("v1.0.0", "1.0.0"),
            ("V2.3.4-rc.1+b", "2.3.4-rc.1"),
            ("1", "1.0.0"),
            ("v1.2", "1.2.0"),
            ("1.2.3+build", "1.2.3"),
        ] {
            let parsed = Version::parse_flagd(text).unwrap();
            assert_eq!(parsed.precedence(&v(full)), Ordering::Equal, "{text}");
        }
        for bad in [
            "",
            "v",
            "2.0.0.0",
            "1.2-rc.1",
            "01",
            "1.",
            "vv1.0.0",
            "not-a-version",
        ] {
            assert!(
                Version::parse_flagd(bad).is_none(),
                "{bad:?} should be invalid"
            );
        }
    }

    #[test]
    fn build_metadata_is_ignored() {
        assert_eq!(v("1.0.0+a").precedence(&v("1.0.0+b.c")), Ordering::Equal);
    }
}
