//! Text normalization for matching: Unicode compatibility decomposition with the
//! combining marks dropped and lower case ([`normalize`]), and on top of that folding of
//! look-alike letters and leet-speak digits ([`fold`]), so "ṡpam", "ＳＰＡＭ", "ѕраm" and
//! "sp4m" all become "spam".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower case, NFKD without combining marks (ASCII text is only lower-cased).
pub fn normalize(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        for l in c.to_lowercase() {
            out.push(l);
        }
    }
    out
}

/// [`normalize`], then confusables and leet-speak folded to ASCII letters.
pub fn fold(text: &str) -> String {
    let mut out = normalize(text);
    if out.bytes().any(needs_fold_byte) || !out.is_ascii() {
        let mut folded = String::with_capacity(out.len());
        let mut chars = out.chars().peekable();
        while let Some(c) = chars.next() {
            // A leet symbol stands for a letter only inside a word ("sp@m", "$pam"), so
            // "spam!" keeps its word boundary.
            let symbol = matches!(c, '@' | '$' | '!' | '|' | '+');
            if symbol && !chars.peek().is_some_and(|n| n.is_alphanumeric()) {
                folded.push(c);
            } else {
                folded.push(fold_char(c));
            }
        }
        out = folded;
    }
    out
}

fn needs_fold_byte(b: u8) -> bool {
    matches!(
        b,
        b'0' | b'1' | b'3' | b'4' | b'5' | b'7' | b'8' | b'@' | b'$' | b'!' | b'|' | b'+'
    )
}

/// One character's skeleton: common Cyrillic and Greek look-alikes of Latin letters
/// (a subset of Unicode's confusables.txt) and leet digits/symbols.
fn fold_char(c: char) -> char {
    match c {
        // leet
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '8' => 'b',
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' => 'e',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'ԁ' => 'd',
        'ɡ' => 'g',
        'ո' => 'n',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        // Latin look-alikes that NFKD keeps
        'ı' => 'i',
        'ł' => 'l',
        'ø' => 'o',
        'đ' => 'd',
        'ß' => 's',
        other => other,
    }
}

/// Whether `text[start..end]` stands as whole words: no letter or digit right before or
/// after it.
pub fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_fold_to_the_same_skeleton() {
        for variant in [
            "spam",
            "SPAM",
            "ṡpam",
            "ＳＰＡＭ",
            "sp4m",
            "ѕраm",
            "$p@m",
            "śpäm",
        ] {
            assert_eq!(fold(variant), "spam", "{variant}");
        }
    }

    #[test]
    fn trailing_symbols_are_punctuation() {
        assert_eq!(fold("spam! $pam wow!!"), "spam! spam wow!!");
    }

    #[test]
    fn normalize_keeps_digits() {
        assert_eq!(normalize("Sp4m ṡ"), "sp4m s");
    }

    #[test]
    fn whole_words() {
        let t = "scunthorpe spam, spammer";
        assert!(whole_word(t, 11, 15));
        assert!(!whole_word(t, 17, 21));
    }
}
