//! The content digest of a bulk load, shared by the server and the loader so
//! both compute it the same way: a chain over every row of the load in
//! offset order, `chain = sha256(previous chain || sha256(row))`, where a
//! row is the protobuf encoding of its `EventInput` as sent. The chain of an
//! empty load is the empty string; otherwise it is 64 lowercase hex digits.

use fdi_proto::ingest::EventInput;
use prost::Message;
use sha2::{Digest, Sha256};

/// ErrorInfo reason of a stream whose rows do not match the load it resumes.
pub const LOAD_CONTENT_MISMATCH: &str = "LOAD_CONTENT_MISMATCH";

/// A load's running content digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentChain(Option<[u8; 32]>);

impl ContentChain {
    /// The chain of an empty load.
    #[must_use]
    pub fn new() -> Self {
        Self(None)
    }

    /// Extends the chain by one row.
    pub fn push(&mut self, row: &EventInput) {
        let row_digest = Sha256::digest(row.encode_to_vec());
        let mut hasher = Sha256::new();
        if let Some(previous) = &self.0 {
            hasher.update(previous);
        }
        hasher.update(row_digest);
        self.0 = Some(hasher.finalize().into());
    }

    /// Extends the chain by rows in order.
    pub fn extend<'a>(&mut self, rows: impl IntoIterator<Item = &'a EventInput>) {
        for row in rows {
            self.push(row);
        }
    }

    /// The chain as text: empty for an empty load, else 64 lowercase hex digits.
    #[must_use]
    pub fn to_hex(&self) -> String {
        use std::fmt::Write;
        self.0.map_or_else(String::new, |bytes| {
            bytes.iter().fold(String::with_capacity(64), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
        })
    }

    /// The chain from its text (as [`Self::to_hex`] writes it); `None` when malformed.
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.is_empty() {
            return Some(Self(None));
        }
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(Some(bytes)))
    }

    /// The chain as stored (empty for an empty load).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.map_or_else(Vec::new, |b| b.to_vec())
    }

    /// The chain from its stored bytes; `None` when malformed.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() {
            return Some(Self(None));
        }
        <[u8; 32]>::try_from(bytes).ok().map(|b| Self(Some(b)))
    }
}
