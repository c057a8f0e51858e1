//! The text analyzer of post text, names and bios: words split on anything that is not
//! a letter, digit or `_`, runs of CJK characters (Han, Hiragana, Katakana, Hangul) as
//! overlapping bigrams (a lone character as itself), so Chinese and Japanese text needs
//! no dictionary to be findable; then lowercased and stemmed as English.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under.
pub const ANALYZER: &str = "nova_text";

/// The analyzer of [`ANALYZER`].
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(CjkBigramTokenizer)
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Whether `c` is written without spaces between words (CJK scripts).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B–F, compatibility supplement
}

/// Words, and CJK runs as bigrams.
#[derive(Debug, Clone, Copy, Default)]
pub struct CjkBigramTokenizer;

/// The tokens of one text, computed up front (texts are short).
pub struct CjkTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut push = |from: usize, to: usize| {
        out.push(Token {
            offset_from: from,
            offset_to: to,
            position: out.len(),
            text: text[from..to].to_owned(),
            position_length: 1,
        });
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i + 1).map_or(text.len(), |(o, _)| *o);
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if is_cjk(c) {
            let mut j = i;
            while j + 1 < chars.len() && is_cjk(chars[j + 1].1) {
                j += 1;
            }
            if j == i {
                push(start, end_of(i));
            } else {
                for (k, (offset, _)) in chars.iter().enumerate().take(j).skip(i) {
                    push(*offset, end_of(k + 1));
                }
            }
            i = j + 1;
        } else if c.is_alphanumeric() || c == '_' {
            let mut j = i;
            while j + 1 < chars.len() && {
                let n = chars[j + 1].1;
                (n.is_alphanumeric() || n == '_') && !is_cjk(n)
            } {
                j += 1;
            }
            push(start, end_of(j));
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

impl Tokenizer for CjkBigramTokenizer {
    type TokenStream<'a> = CjkTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CjkTokenStream {
        CjkTokenStream {
            tokens: tokens(text),
            next: 0,
        }
    }
}

impl TokenStream for CjkTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self
            .next
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self
            .next
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

/// The analyzed terms of `text` (what the index holds for it).
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_and_stemmed_and_cjk_runs_become_bigrams() {
        let mut a = analyzer();
        assert_eq!(
            terms(&mut a, "Running Rust_lang!"),
            vec!["run", "rust_lang"]
        );
        assert_eq!(
            terms(&mut a, "東京タワー"),
            vec!["東京", "京タ", "タワ", "ワー"]
        );
        assert_eq!(terms(&mut a, "我 and 你好"), vec!["我", "and", "你好"]);
        assert_eq!(terms(&mut a, "Rust语言"), vec!["rust", "语言"]);
        assert!(terms(&mut a, " ... ").is_empty());
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "héllo 世界和平";
        for t in tokens(text) {
            assert_eq!(&text[t.offset_from..t.offset_to], t.text);
        }
    }
}
