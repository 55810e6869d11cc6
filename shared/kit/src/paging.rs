//! AIP-158 pagination: validated page sizes and opaque page tokens that carry
//! the last key seen and a fingerprint of the query they belong to.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use tonic::Status;

use crate::{names::stable_hash, status::invalid_argument};

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
    // Each part ends with a byte no UTF-8 text has, so ["ab", "c"] and ["a", "bc"] differ.
    stable_hash(parts.iter().flat_map(|part| part.bytes().chain(std::iter::once(0xff))))
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

/// The default and largest page size of one list RPC.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Page size when the request leaves it out.
    pub default: usize,
    /// Largest page size accepted.
    pub max: usize,
}

impl PageLimits {
    /// Checks a request's page size before its filters are resolved, so a
    /// request wrong in both is told about the page size first; the token
    /// is checked once the filters are known ([`PageSize::for_query`]).
    ///
    /// # Errors
    /// INVALID_ARGUMENT on `page_size`.
    pub fn check(self, page_size_field: Option<i32>, page_token: &str) -> Result<PageSize<'_>, Status> {
        page_size(page_size_field, self.default, self.max)?;
        Ok(PageSize {
            requested: page_size_field,
            page_token,
            limits: self,
        })
    }
}

/// A request's page size, checked; its token waits for the query's filters.
#[derive(Debug, Clone, Copy)]
pub struct PageSize<'a> {
    requested: Option<i32>,
    page_token: &'a str,
    limits: PageLimits,
}

impl PageSize<'_> {
    /// The page of the query whose resolved filters are `query`.
    ///
    /// # Errors
    /// INVALID_ARGUMENT on `page_token`.
    pub fn for_query(self, query: &[&str]) -> Result<PageRequest, Status> {
        PageRequest::new(self.requested, self.page_token, self.limits, query)
    }
}

/// A list request's paging, validated: the page size, the key the page
/// starts after, and the query fingerprint its tokens carry.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Rows on the page.
    pub size: usize,
    /// The last key of the previous page; `None` on the first page.
    pub after: Option<String>,
    query: u64,
}

impl PageRequest {
    /// Validates `page_size` and `page_token` of a request whose filters are `query`.
    ///
    /// # Errors
    /// INVALID_ARGUMENT on `page_size` or `page_token`.
    pub fn new(
        page_size_field: Option<i32>,
        page_token: &str,
        limits: PageLimits,
        query: &[&str],
    ) -> Result<Self, Status> {
        let size = page_size(page_size_field, limits.default, limits.max)?;
        let query = fingerprint(query);
        let after = PageToken::decode(page_token, query)?.map(|token| token.after);
        Ok(Self { size, after, query })
    }

    /// The start key parsed as a number (sequence or id paging); `None` on the first page.
    ///
    /// # Errors
    /// INVALID_ARGUMENT on `page_token` when the key is not a number.
    pub fn after_number(&self) -> Result<Option<i64>, Status> {
        self.after
            .as_deref()
            .map(|after| {
                after
                    .parse::<i64>()
                    .map_err(|_| invalid_argument("page_token", "is corrupt"))
            })
            .transpose()
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    #[must_use]
    pub fn fetch_limit(&self) -> i64 {
        i64::try_from(self.size + 1).unwrap_or(i64::MAX)
    }

    /// The page of a list computed whole (e.g. a ranking), paged by
    /// position, and the next page's token (empty on the last page).
    ///
    /// # Errors
    /// INVALID_ARGUMENT on `page_token` when its position is not one this RPC issued.
    pub fn slice<T>(&self, items: Vec<T>) -> Result<(Vec<T>, String), Status> {
        let offset = usize::try_from(self.after_number()?.unwrap_or(0))
            .map_err(|_| invalid_argument("page_token", "is corrupt"))?;
        let end = offset.saturating_add(self.size);
        let token = if end < items.len() {
            PageToken::encode(&end.to_string(), self.query)
        } else {
            String::new()
        };
        Ok((items.into_iter().skip(offset).take(self.size).collect(), token))
    }

    /// Cuts the fetched rows to the page and issues the next page's token
    /// (empty on the last page) from the key of the page's last row.
    #[must_use]
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, String) {
        if rows.len() <= self.size {
            return (rows, String::new());
        }
        rows.truncate(self.size);
        let token = rows
            .last()
            .map(|last| PageToken::encode(&key(last), self.query))
            .unwrap_or_default();
        (rows, token)
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

    #[test]
    fn page_requests_cut_pages_and_chain_tokens() {
        let limits = PageLimits { default: 2, max: 10 };
        let first = PageRequest::new(None, "", limits, &["items"]).unwrap();
        assert_eq!((first.size, first.after.clone(), first.fetch_limit()), (2, None, 3));
        let (page, token) = first.finish(vec![1, 2, 3], ToString::to_string);
        assert_eq!(page, vec![1, 2]);
        let second = PageRequest::new(None, &token, limits, &["items"]).unwrap();
        assert_eq!(second.after_number().unwrap(), Some(2));
        let (page, token) = second.finish(vec![3], ToString::to_string);
        assert_eq!((page, token), (vec![3], String::new()));
        assert!(
            PageRequest::new(
                None,
                &first.finish(vec![1, 2, 3], ToString::to_string).1,
                limits,
                &["other"]
            )
            .is_err()
        );
        assert!(PageRequest::new(Some(11), "", limits, &["items"]).is_err());
    }

    #[test]
    fn page_sizes_are_checked_before_tokens_and_whole_lists_slice() {
        let limits = PageLimits { default: 2, max: 10 };
        let status = limits.check(Some(0), "garbage").unwrap_err();
        assert!(status.message().contains("page_size") || format!("{status:?}").contains("page_size"));
        assert!(limits.check(None, "garbage").unwrap().for_query(&["items"]).is_err());
        let page = limits.check(None, "").unwrap().for_query(&["items"]).unwrap();
        let (first, token) = page.slice(vec![1, 2, 3, 4, 5]).unwrap();
        assert_eq!(first, vec![1, 2]);
        let page = limits.check(None, &token).unwrap().for_query(&["items"]).unwrap();
        let (second, token) = page.slice(vec![1, 2, 3, 4, 5]).unwrap();
        assert_eq!(second, vec![3, 4]);
        let page = limits.check(None, &token).unwrap().for_query(&["items"]).unwrap();
        assert_eq!(page.slice(vec![1, 2, 3, 4, 5]).unwrap(), (vec![5], String::new()));
    }
}
