//! The key format: `fdi_{key_id}_{secret}`, its generation from the OS's
//! randomness, and the Argon2id hash that is all the database keeps.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// What every key starts with, so a leaked one is recognisable (secret scanners, logs).
const PREFIX: &str = "fdi_";
/// Hex characters of a key id (64 random bits).
const KEY_ID_CHARS: usize = 16;
/// Random bytes of a secret (256 bits).
const SECRET_BYTES: usize = 32;

/// Why a key could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Randomness(getrandom::Error),
    /// Hashing failed.
    #[error("cannot hash the key: {0}")]
    Hash(argon2::password_hash::Error),
}

/// A key just made: the token to hand out once, and what to store.
#[derive(Clone)]
pub struct NewKey {
    /// The public key id.
    pub key_id: String,
    /// The whole key, `fdi_{key_id}_{secret}`; shown once, never stored.
    pub token: String,
    /// The Argon2id hash of the token (PHC string format), stored.
    pub secret_hash: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Makes a new key.
///
/// # Errors
/// When the OS gives no randomness or hashing fails.
pub fn generate() -> Result<NewKey, KeyError> {
    let mut id = [0u8; KEY_ID_CHARS / 2];
    let mut secret = [0u8; SECRET_BYTES];
    let mut salt = [0u8; 16];
    for buffer in [&mut id[..], &mut secret[..], &mut salt[..]] {
        getrandom::fill(buffer).map_err(KeyError::Randomness)?;
    }
    let key_id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("{PREFIX}{key_id}_{}", URL_SAFE_NO_PAD.encode(secret));
    let secret_hash = hash_with_salt(&token, &salt)?;
    Ok(NewKey {
        key_id,
        token,
        secret_hash,
    })
}

/// The Argon2id hash the key table keeps of `token`, a key made elsewhere
/// (e.g. kept in a Kubernetes Secret), with a new salt.
///
/// # Errors
/// When the OS gives no randomness or hashing fails.
pub fn hash(token: &str) -> Result<String, KeyError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(KeyError::Randomness)?;
    hash_with_salt(token, &salt)
}

fn hash_with_salt(token: &str, salt: &[u8]) -> Result<String, KeyError> {
    let salt = SaltString::encode_b64(salt).map_err(KeyError::Hash)?;
    Ok(Argon2::default()
        .hash_password(token.as_bytes(), &salt)
        .map_err(KeyError::Hash)?
        .to_string())
}

/// The key id of a token in the key format, or `None` for anything else.
#[must_use]
pub fn parse_token(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(PREFIX)?;
    let key_id = rest.get(..KEY_ID_CHARS)?;
    let secret = rest.get(KEY_ID_CHARS..)?.strip_prefix('_')?;
    let well_formed = key_id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && secret.len() == URL_SAFE_NO_PAD.encode([0u8; SECRET_BYTES]).len()
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then_some(key_id)
}

/// Whether `token` is the key whose hash is `secret_hash` (constant-time in the comparison, as Argon2 is).
#[must_use]
pub fn verify(token: &str, secret_hash: &str) -> bool {
    PasswordHash::new(secret_hash).is_ok_and(|hash| Argon2::default().verify_password(token.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_verify_and_tampered_keys_do_not() {
        let key = generate().unwrap();
        assert_eq!(parse_token(&key.token), Some(key.key_id.as_str()));
        assert!(key.secret_hash.starts_with("$argon2id$"));
        assert!(!key.secret_hash.contains(&key.token));
        assert!(verify(&key.token, &key.secret_hash));
        let mut tampered = key.token.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(parse_token(&tampered), Some(key.key_id.as_str()));
        assert!(!verify(&tampered, &key.secret_hash));
        assert_ne!(generate().unwrap().token, key.token);
        assert!(!format!("{key:?}").contains(&key.token));
    }

    #[test]
    fn only_the_key_format_parses() {
        for text in [
            "",
            "fdi_",
            "Bearer x",
            "fdi_0123456789abcdef",
            "fdi_0123456789ABCDEF_x",
            "fdi_0123456789abcdef_short",
        ] {
            assert_eq!(parse_token(text), None, "{text}");
        }
    }
}
