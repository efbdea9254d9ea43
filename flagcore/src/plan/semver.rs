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
    pub(crate) fn parse(text: &'a str) -> Option<Version<'a>> {
        let (core_and_pre, build) = match text.split_once('+') {
            Some((head, build)) => (head, Some(build)),
            None => (text, None),
        };
        if let Some(build) = build {
            if !build.split('.').all(is_identifier) {
                return None;
            }
        }
        let (core, pre) = match core_and_pre.split_once('-') {
            Some((core, pre)) => (core, pre),
            None => (core_and_pre, ""),
        };
        if core_and_pre.len() != core.len() {
            let valid_pre = pre.split('.').all(|id| {
                is_identifier(id) && (!is_numeric(id) || id == "0" || !id.starts_with('0'))
            });
            if !valid_pre {
                return None;
            }
        }
        let mut parts = core.split('.');
        let major = numeric_part(parts.next()?)?;
        let minor = numeric_part(parts.next()?)?;
        let patch = numeric_part(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
            pre,
        })
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

fn is_identifier(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

fn numeric_part(part: &str) -> Option<u64> {
    if !is_numeric(part) || (part.len() > 1 && part.starts_with('0')) {
        return None;
    }
    part.parse().ok()
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
    fn build_metadata_is_ignored() {
        assert_eq!(v("1.0.0+a").precedence(&v("1.0.0+b.c")), Ordering::Equal);
    }
}
