//! Text plumbing shared by all extractors: accent folding with an offset map
//! back to the original text, sentence and paragraph splitting, word tokens.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Lowercase, strip diacritics and map `đ` to `d`, so that "Bắc Ninh",
/// "Bac Ninh" and "BẮC NINH" all compare equal.
pub fn fold_char(c: char, mut emit: impl FnMut(char)) {
    if c.is_ascii() {
        emit(c.to_ascii_lowercase());
        return;
    }
    match c {
        'đ' | 'Đ' => return emit('d'),
        // Typographic variants that should behave like their ASCII forms.
        '\u{00A0}' | '\u{202F}' | '\u{2009}' => return emit(' '),
        '\u{2019}' | '\u{2018}' => return emit('\''),
        'ø' | 'Ø' => return emit('o'),
        'æ' | 'Æ' => return emit('a'),
        'ß' => return emit('s'),
        _ => {}
    }
    decompose_canonical(c, |d| {
        if !is_combining_mark(d) {
            for l in d.to_lowercase() {
                emit(l);
            }
        }
    });
}

/// Fold a whole string (no offset map).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, |f| out.push(f));
    }
    out
}

/// A folded copy of a text plus, for every folded byte, the byte offset of
/// the original character it came from (and one extra entry for the end).
pub struct Folded {
    pub text: String,
    origin: Vec<usize>,
}

impl Folded {
    pub fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len() + 1);
        for (offset, c) in original.char_indices() {
            fold_char(c, |f| {
                text.push(f);
                while origin.len() < text.len() {
                    origin.push(offset);
                }
            });
        }
        origin.push(original.len());
        Folded { text, origin }
    }

    /// Folded byte offset of an original byte offset (first folded byte
    /// produced by the character at or after it).
    pub fn folded_offset(&self, original_offset: usize) -> usize {
        self.origin.partition_point(|&o| o < original_offset)
    }

    /// The folded text of an original byte range.
    pub fn slice(&self, start: usize, end: usize) -> &str {
        let a = self.folded_offset(start);
        let b = self.folded_offset(end).max(a);
        self.text.get(a..b).unwrap_or("")
    }

    /// Original byte offset for a folded byte offset.
    pub fn original(&self, folded_offset: usize) -> usize {
        self.origin
            .get(folded_offset)
            .copied()
            .unwrap_or_else(|| self.origin.last().copied().unwrap_or(0))
    }
}

/// One sentence of the article, as byte offsets into the original text.
#[derive(Debug, Clone)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub paragraph: usize,
    /// The first line of the article when it looks like a headline.
    pub headline: bool,
}

/// Abbreviations after which a full stop does not end the sentence.
const ABBREVIATIONS: &[&str] = &[
    "co", "ltd", "pte", "inc", "corp", "mio", "mrd", "mr", "mrs", "ms", "dr", "no", "nr", "st", "mill", "ca", "bzw",
    "vs", "etc", "jr", "sr", "tp", "u.s", "e.g", "i.e", "z.b", "ggf", "evt", "bl.a", "jf", "tsd", "prof", "tel",
    "approx",
];

fn word_before(text: &str, dot: usize) -> &str {
    // Abbreviations are short: look back a bounded distance only, so that
    // pathological input ("a.a.a.a...") stays linear.
    let from = floor_boundary(text, dot.saturating_sub(24));
    let head = &text[from..dot];
    let start = head
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '.'))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    &head[start..]
}

fn ends_sentence(text: &str, dot: usize) -> bool {
    let word = word_before(text, dot);
    if word.is_empty() {
        return true;
    }
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    // Initials ("Nguyen V. Anh") and day ordinals ("20. September").
    let chars = word.chars().count();
    if chars == 1 && word.chars().all(char::is_uppercase) {
        return false;
    }
    if chars <= 2 && word.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    true
}

/// Longest sentence handed to the per-sentence analysis.
const MAX_SENTENCE_BYTES: usize = 3000;

/// Split into sentences. Paragraphs are separated by line breaks; inside a
/// paragraph a sentence ends at `.`, `!` or `?` followed by a space and an
/// uppercase letter, digit or opening quote.
pub fn split_sentences(text: &str) -> Vec<Sentence> {
    let mut sentences = Vec::new();
    let mut paragraph = 0usize;
    let mut first_line_seen = false;
    let mut line_start = 0usize;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim();
        if trimmed.is_empty() {
            line_start = line_end;
            continue;
        }
        let is_headline = !first_line_seen && trimmed.len() < 250 && !trimmed.ends_with(['.', '!', '?', ':']);
        first_line_seen = true;
        let base = line_start;
        let mut start = 0usize;
        let bytes = content.as_bytes();
        let mut i = 0usize;
        while i < bytes.len() {
            let b = bytes[i];
            if matches!(b, b'.' | b'!' | b'?') {
                let rest = &content[i + 1..];
                let after_space = rest.trim_start_matches([' ', '\t', '\u{a0}']);
                let had_space = after_space.len() < rest.len();
                let next = after_space.chars().next();
                let boundary = had_space
                    && next.is_some_and(|c| {
                        c.is_uppercase() || c.is_ascii_digit() || matches!(c, '"' | '“' | '«' | '(' | '|')
                    })
                    && (b != b'.' || ends_sentence(content, i));
                if boundary {
                    push_sentence(&mut sentences, base, content, start, i + 1, paragraph, is_headline);
                    start = i + 1;
                }
            }
            // Runaway "sentences" (tables, lists without punctuation) are cut
            // at a space so that per-sentence work stays bounded.
            let length = (i + 1).saturating_sub(start);
            if length > MAX_SENTENCE_BYTES
                && (b == b' ' || length > 2 * MAX_SENTENCE_BYTES)
                && content.is_char_boundary(i + 1)
            {
                push_sentence(&mut sentences, base, content, start, i + 1, paragraph, is_headline);
                start = i + 1;
            }
            i += 1;
        }
        push_sentence(
            &mut sentences,
            base,
            content,
            start,
            content.len(),
            paragraph,
            is_headline,
        );
        paragraph += 1;
        line_start = line_end;
    }
    sentences
}

fn push_sentence(
    out: &mut Vec<Sentence>,
    base: usize,
    line: &str,
    start: usize,
    end: usize,
    paragraph: usize,
    headline: bool,
) {
    let piece = &line[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if piece.trim().is_empty() {
        return;
    }
    out.push(Sentence {
        start: base + start + lead,
        end: base + end - trail,
        paragraph,
        headline,
    });
}

/// A word token (maximal run of alphanumeric characters) with its byte span.
#[derive(Debug, Clone)]
pub struct Token<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
}

pub fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            out.push(Token {
                start: s,
                end: i,
                text: &text[s..i],
            });
        }
    }
    if let Some(s) = start {
        out.push(Token {
            start: s,
            end: text.len(),
            text: &text[s..],
        });
    }
    out
}

/// Clamp a byte offset down to the nearest char boundary.
pub fn floor_boundary(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Strip diacritics but keep letter case ("Nhơn Trạch" -> "Nhon Trach").
pub fn fold_keep_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            _ => decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    out.push(d);
                }
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_strips_diacritics_and_maps_d_bar() {
        assert_eq!(fold("Bắc Ninh"), "bac ninh");
        assert_eq!(fold("ĐỒNG NAI"), "dong nai");
        assert_eq!(fold("første halvår"), "forste halvar");
        assert_eq!(fold("Vĩnh Phúc"), "vinh phuc");
    }

    #[test]
    fn folded_offsets_map_back() {
        let original = "Đà Nẵng có 5 dự án";
        let folded = Folded::new(original);
        let at = folded.text.find("5").expect("digit");
        assert_eq!(&original[folded.original(at)..folded.original(at + 1)], "5");
        assert_eq!(folded.slice(0, original.len()), folded.text);
    }

    #[test]
    fn sentences_respect_abbreviations_and_ordinals() {
        let text =
            "Headline here\nThe firm Foo Co., Ltd. Invested $5 million. Bis zum 20. September stieg es. Next one!";
        let pieces: Vec<&str> = split_sentences(text).iter().map(|s| &text[s.start..s.end]).collect();
        assert_eq!(
            pieces,
            vec![
                "Headline here",
                "The firm Foo Co., Ltd. Invested $5 million.",
                "Bis zum 20. September stieg es.",
                "Next one!"
            ]
        );
        assert!(split_sentences(text)[0].headline);
    }
}

/// The evidence of a figure at `span` in the sentence `start..end` of
/// `text`: the whole sentence when it is at most `max` bytes long, else the
/// `max` bytes around the figure (cut on character boundaries) with "…"
/// where the sentence was cut.
pub(crate) fn evidence(text: &str, (start, end): (usize, usize), span: [usize; 2], max: usize) -> String {
    let Some(sentence) = text.get(start..end) else {
        return String::new();
    };
    if sentence.len() <= max {
        return sentence.to_owned();
    }
    let middle = (span[0] / 2 + span[1] / 2).clamp(start, end);
    let mut from = middle.saturating_sub(max / 2).max(start);
    let mut to = from.saturating_add(max).min(end);
    from = from.max(to.saturating_sub(max));
    while !text.is_char_boundary(from) {
        from += 1;
    }
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    let mut clipped = String::with_capacity(to.saturating_sub(from) + 6);
    if from > start {
        clipped.push('…');
    }
    clipped.push_str(text.get(from..to).unwrap_or(""));
    if to < end {
        clipped.push('…');
    }
    clipped
}

#[cfg(test)]
mod evidence_tests {
    use super::evidence;

    #[test]
    fn short_sentences_are_whole_and_long_ones_are_clipped_around_the_figure() {
        let text = "Đồng Nai drew 5 billion USD. Then more.";
        let end = text.find(" Then").unwrap();
        assert_eq!(evidence(text, (0, end), [0, 1], 100), "Đồng Nai drew 5 billion USD.");
        let long = format!("{}Ninh Binh drew 920 million USD{}", "ấ".repeat(400), "x".repeat(400));
        let at = long.find("920").unwrap();
        let clipped = evidence(&long, (0, long.len()), [at, at + 15], 40);
        assert!(clipped.starts_with('…') && clipped.ends_with('…'), "{clipped}");
        assert!(clipped.contains("920 million"), "{clipped}");
        assert!(clipped.len() <= 40 + 6, "{}", clipped.len());
    }
}
