//! `--tokens FILE`: the operators allowed to kill and revive, as JSON Lines of
//! `{"name": OPERATOR, "token_sha256": HEX}`. Only digests are kept; a presented token is
//! hashed and compared with every digest in constant time.

use std::path::Path;

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Failure;

/// The operators and the SHA-256 of each one's token.
pub(crate) struct Tokens {
    operators: Vec<(String, [u8; 32])>,
}

impl Tokens {
    /// Reads a tokens file; any line that is not an operator is a usage error naming it.
    pub(crate) fn load(path: &Path) -> Result<Tokens, Failure> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("--tokens {}: {e}", path.display())))?;
        let mut operators = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let operator = parse_line(line).map_err(|message| {
                Failure::Usage(format!(
                    "--tokens {}: line {}: {message}",
                    path.display(),
                    index + 1
                ))
            })?;
            operators.push(operator);
        }
        if operators.is_empty() {
            return Err(Failure::Usage(format!(
                "--tokens {}: no operator in the file",
                path.display()
            )));
        }
        Ok(Tokens { operators })
    }

    /// The operator whose token the request bears (`Authorization: Bearer TOKEN`).
    pub(crate) fn operator(&self, headers: &HeaderMap) -> Option<&str> {
        let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return None;
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every digest is compared, each in constant time, so the time taken says nothing
        // about which operator (if any) matched or how much of a digest did.
        let mut found = None;
        for (name, expected) in &self.operators {
            let same = bool::from(expected.ct_eq(&digest));
            if same && found.is_none() {
                found = Some(name.as_str());
            }
        }
        found
    }
}

fn parse_line(line: &str) -> Result<(String, [u8; 32]), String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let serde_json::Value::Object(members) = value else {
        return Err("expected {\"name\": OPERATOR, \"token_sha256\": HEX}".into());
    };
    if let Some(unknown) = members
        .keys()
        .find(|k| *k != "name" && *k != "token_sha256")
    {
        return Err(format!(
            "unknown field `{unknown}` (a tokens file holds only name and token_sha256)"
        ));
    }
    let name = match members.get("name") {
        Some(serde_json::Value::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => return Err("`name` must be a non-empty string".into()),
    };
    let digest = match members.get("token_sha256") {
        Some(serde_json::Value::String(hex)) => parse_digest(hex).ok_or_else(|| {
            "`token_sha256` must be 64 hexadecimal digits (the SHA-256 of the token)".to_owned()
        })?,
        _ => return Err("`token_sha256` must be a string".into()),
    };
    Ok((name, digest))
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (out, pair) in digest.iter_mut().zip(bytes.chunks(2)) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        *out = u8::try_from(high * 16 + low).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tokens(lines: &[(&str, &str)]) -> Tokens {
        Tokens {
            operators: lines
                .iter()
                .map(|(name, token)| ((*name).to_owned(), Sha256::digest(token.as_bytes()).into()))
                .collect(),
        }
    }

    fn bearer(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn a_token_names_its_operator() {
        let t = tokens(&[("ana", "s3cret-a"), ("bo", "s3cret-b")]);
        assert_eq!(t.operator(&bearer("Bearer s3cret-b")), Some("bo"));
        assert_eq!(t.operator(&bearer("bearer s3cret-a")), Some("ana"));
        assert_eq!(t.operator(&bearer("Bearer s3cret-c")), None);
        assert_eq!(t.operator(&bearer("Basic s3cret-a")), None);
        assert_eq!(t.operator(&bearer("Bearer ")), None);
        assert_eq!(t.operator(&HeaderMap::new()), None);
    }

    #[test]
    fn lines_are_checked() {
        let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let (name, parsed) =
            parse_line(&format!(r#"{{"name": "ana", "token_sha256": "{digest}"}}"#)).unwrap();
        assert_eq!(name, "ana");
        assert_eq!(parsed, <[u8; 32]>::from(Sha256::digest(b"test")));
        assert!(parse_line(r#"{"name": "ana", "token_sha256": "abc"}"#).is_err());
        assert!(parse_line(r#"{"name": "", "token_sha256": "abc"}"#).is_err());
        assert!(parse_line(&format!(
            r#"{{"name": "ana", "token": "x", "token_sha256": "{digest}"}}"#
        ))
        .is_err());
        assert!(parse_line("[]").is_err());
    }
}
