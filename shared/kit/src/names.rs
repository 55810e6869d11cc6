//! Folding names to a comparable form: Vietnamese (and other Latin) text with
//! or without diacritics, precomposed (NFC) or decomposed (NFD), in any case,
//! compares equal once folded ("Bắc Giang", "bac giang", "BAC  GIANG").

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Folds text to lowercase ASCII words separated by single spaces:
/// diacritics removed (after canonical decomposition, so NFD input folds the
/// same as NFC), `Đ/đ` to `d`, every other non-alphanumeric character a
/// word break.
#[must_use]
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'Đ' | 'đ' | 'Ð' | 'ð' => 'd',
            'Ø' | 'ø' => 'o',
            'Æ' | 'æ' => 'a',
            'ß' => 's',
            _ => c,
        };
        if c.is_alphanumeric() {
            if pending_space && !folded.is_empty() {
                folded.push(' ');
            }
            pending_space = false;
            folded.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    folded
}

/// A URL-safe identifier from a name: folded words joined by hyphens
/// ("Yên Phong II-C" → "yen-phong-ii-c").
#[must_use]
pub fn slugify(text: &str) -> String {
    fold(text).replace(' ', "-")
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a
/// character boundary (slicing or `String::truncate` inside a character panics).
#[must_use]
pub fn prefix_within(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let end = text
        .char_indices()
        .map(|(at, c)| at + c.len_utf8())
        .take_while(|&end| end <= max_bytes)
        .last()
        .unwrap_or(0);
    &text[..end]
}

/// Whether `id` is a valid resource id: 1-63 lowercase ASCII letters, digits
/// and single hyphens, starting with a letter or digit.
#[must_use]
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
}

/// FNV-1a over `bytes`, 64 bits: a digest that stays the same across
/// processes, builds and platforms (unlike the standard library's hasher),
/// for ids and tokens derived from text. Not for security.
#[must_use]
pub fn stable_hash(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diacritics_case_and_spacing_fold_away() {
        assert_eq!(fold("Bắc Giang"), "bac giang");
        assert_eq!(fold("  BAC   GIANG  "), "bac giang");
        assert_eq!(fold("Đà Nẵng"), "da nang");
        assert_eq!(fold("đường"), "duong");
        assert_eq!(fold("Bà Rịa – Vũng Tàu"), "ba ria vung tau");
        assert_eq!(fold("Yên Phong II-C"), "yen phong ii c");
    }

    #[test]
    fn decomposed_input_folds_like_precomposed() {
        let nfd: String = "Bắc Giang Quảng Ninh".nfd().collect();
        assert_ne!(nfd, "Bắc Giang Quảng Ninh");
        assert_eq!(fold(&nfd), fold("Bắc Giang Quảng Ninh"));
    }

    #[test]
    fn prefixes_end_on_character_boundaries() {
        assert_eq!(prefix_within("abc", 5), "abc");
        assert_eq!(prefix_within("abcdef", 3), "abc");
        assert_eq!(prefix_within("", 0), "");
        // Two bytes per Cyrillic letter: 5 bytes hold two letters, not two and a half.
        assert_eq!(prefix_within("Жжжж", 5), "Жж");
        assert_eq!(prefix_within("Ж", 1), "");
        assert_eq!(prefix_within("a😀b", 4), "a");
        assert_eq!(prefix_within("a😀b", 5), "a😀");
        let long = "промышленный".repeat(10);
        assert!(prefix_within(&long, 63).len() <= 63);
    }

    #[test]
    fn stable_hash_is_fnv1a() {
        // The published FNV-1a 64-bit test vectors: ids and page tokens stay valid across builds.
        assert_eq!(stable_hash(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash(*b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn slugs_and_ids() {
        assert_eq!(slugify("KCN Quang Châu"), "kcn-quang-chau");
        assert!(is_valid_id("quang-chau"));
        assert!(!is_valid_id("Quang Chau"));
        assert!(!is_valid_id("-x"));
        assert!(!is_valid_id(&"a".repeat(64)));
    }
}
