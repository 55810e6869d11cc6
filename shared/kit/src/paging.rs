//! AIP-158 pagination: validated page sizes and opaque page tokens that carry
//! the last key seen and a fingerprint of the query they belong to.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use tonic::Status;

use crate::status::invalid_argument;

/// Resolves a requested page size: absent means `default`; 0, negative or
/// above `max` is INVALID_ARGUMENT.
///
/// # Errors
/// INVALID_ARGUMENT on `page_size` when out of range.
pub fn page_size(requested: Option<i32>, default: usize, max: usize) -> Result<usize, Status> {
    match requested {
        None => Ok(default),
        Some(size) if size >= 1 && usize::try_from(size).is_ok_and(|size| size <= max) => {
            Ok(usize::try_from(size).unwrap_or(default))
        }
        Some(size) => Err(invalid_argument(
            "page_size",
            format!("is {size}; it must be between 1 and {max} (leave it out for {default})"),
        )),
    }
}

/// A page token: the key after which the next page starts, bound to the
/// query (filters) it was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    /// The last key of the previous page.
    pub after: String,
}

const VERSION: &str = "p1";

/// Fingerprint of a query's filters, so a token cannot be replayed against a different query.
#[must_use]
pub fn fingerprint(parts: &[&str]) -> u64 {
    // FNV-1a: stable across processes and versions, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

impl PageToken {
    /// Encodes the token for a query with the given filter fingerprint.
    #[must_use]
    pub fn encode(after: &str, query_fingerprint: u64) -> String {
        URL_SAFE_NO_PAD.encode(format!("{VERSION}|{query_fingerprint:016x}|{after}"))
    }

    /// Decodes a token; an empty token is the first page (`None`).
    ///
    /// # Errors
    /// INVALID_ARGUMENT on `page_token` when the token is not one this RPC issued for this query.
    pub fn decode(token: &str, query_fingerprint: u64) -> Result<Option<Self>, Status> {
        if token.is_empty() {
            return Ok(None);
        }
        let invalid = || {
            invalid_argument(
                "page_token",
                "is not a token this RPC issued; pass the next_page_token of the previous response unchanged",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.splitn(3, '|');
        let (Some(VERSION), Some(fingerprint_hex), Some(after)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        if u64::from_str_radix(fingerprint_hex, 16).map_err(|_| invalid())? != query_fingerprint {
            return Err(invalid_argument(
                "page_token",
                "was issued for a different query; keep the filters unchanged while paging",
            ));
        }
        Ok(Some(Self {
            after: after.to_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None, 50, 100).unwrap(), 50);
        assert_eq!(page_size(Some(7), 50, 100).unwrap(), 7);
        assert_eq!(page_size(Some(100), 50, 100).unwrap(), 100);
        for bad in [0, -1, 101, 1_000_000] {
            let status = page_size(Some(bad), 50, 100).unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip_and_bind_to_the_query() {
        let query = fingerprint(&["provinces", "include_merged=true"]);
        let token = PageToken::encode("bac-ninh", query);
        assert_eq!(PageToken::decode(&token, query).unwrap().unwrap().after, "bac-ninh");
        assert!(PageToken::decode("", query).unwrap().is_none());
        assert!(PageToken::decode(&token, fingerprint(&["other"])).is_err());
        assert!(PageToken::decode("not a token!", query).is_err());
        assert!(PageToken::decode(&URL_SAFE_NO_PAD.encode("p1|zz|x"), query).is_err());
    }
}
