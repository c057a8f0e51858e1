//! Facet extraction: hashtags, @mentions and links, as byte ranges of the post text.
//!
//! A scanner over `char_indices`, so every range starts and ends on a character
//! boundary whatever the input (the proptests check it on arbitrary Unicode). A token
//! only starts after the text start, whitespace or punctuation, so `a#b` and
//! `me@example.com` are not facets.

use serde::{Deserialize, Serialize};

/// One facet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FacetKind {
    /// `#tag` (the tag is stored lowercased, without `#`).
    Hashtag {
        /// The tag.
        tag: String,
    },
    /// `@username` (resolved to a user id when the account exists).
    Mention {
        /// The username as written, without `@`.
        username: String,
        /// The user, once resolved.
        user_id: Option<nova_core::UserId>,
    },
    /// An http(s) link.
    Link {
        /// The URL.
        url: String,
    },
}

/// A facet and where it sits in the text (byte offsets, end exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facet {
    /// What it is.
    pub kind: FacetKind,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

const MAX_TAG_CHARS: usize = 100;
const MAX_USERNAME_CHARS: usize = 30;
const MAX_URL_BYTES: usize = 2048;

fn boundary_before(text: &str, at: usize) -> bool {
    text[..at].chars().next_back().is_none_or(|c| {
        c.is_whitespace() || (c.is_ascii_punctuation() && c != '@' && c != '#' && c != '/')
    })
}

/// Extracts facets in order of appearance; mentions come back unresolved.
pub fn extract(text: &str) -> Vec<Facet> {
    let mut facets = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' | '@' if boundary_before(text, i) => {
                let body_start = i + c.len_utf8();
                let mut end = body_start;
                let mut count = 0;
                while let Some(&(j, d)) = chars.peek() {
                    let allowed = if c == '#' {
                        d.is_alphanumeric() || d == '_'
                    } else {
                        d.is_ascii_alphanumeric() || d == '_'
                    };
                    if !allowed {
                        break;
                    }
                    end = j + d.len_utf8();
                    count += 1;
                    chars.next();
                }
                let body = &text[body_start..end];
                let kind = match c {
                    // A tag needs a letter: "#1" is a number, not a tag.
                    '#' if count > 0
                        && count <= MAX_TAG_CHARS
                        && body.chars().any(char::is_alphabetic) =>
                    {
                        Some(FacetKind::Hashtag {
                            tag: body.to_lowercase(),
                        })
                    }
                    '@' if (3..=MAX_USERNAME_CHARS).contains(&count) => Some(FacetKind::Mention {
                        username: body.to_owned(),
                        user_id: None,
                    }),
                    _ => None,
                };
                if let Some(kind) = kind {
                    facets.push(Facet {
                        kind,
                        start: i,
                        end,
                    });
                }
            }
            'h' if boundary_before(text, i)
                && (text[i..].starts_with("https://") || text[i..].starts_with("http://")) =>
            {
                let mut end = i + c.len_utf8();
                let mut last_char = c;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_whitespace() || d.is_control() {
                        break;
                    }
                    end = j + d.len_utf8();
                    last_char = d;
                    chars.next();
                }
                // Sentence punctuation after a link is not part of it.
                while end > i
                    && matches!(
                        last_char,
                        '.' | ',' | ';' | ':' | '!' | '?' | ')' | '"' | '\''
                    )
                {
                    end -= last_char.len_utf8();
                    last_char = text[..end].chars().next_back().unwrap_or(' ');
                }
                let url = &text[i..end];
                if url.len() <= MAX_URL_BYTES
                    && url::Url::parse(url).is_ok_and(|u| u.host_str().is_some())
                {
                    facets.push(Facet {
                        kind: FacetKind::Link {
                            url: url.to_owned(),
                        },
                        start: i,
                        end,
                    });
                }
            }
            _ => {}
        }
    }
    facets
}

/// The distinct hashtags of `facets`.
pub fn hashtags(facets: &[Facet]) -> Vec<String> {
    let mut tags: Vec<String> = facets
        .iter()
        .filter_map(|f| match &f.kind {
            FacetKind::Hashtag { tag } => Some(tag.clone()),
            _ => None,
        })
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kinds(text: &str) -> Vec<(String, &str)> {
        extract(text)
            .into_iter()
            .map(|f| {
                let label = match f.kind {
                    FacetKind::Hashtag { tag } => format!("#{tag}"),
                    FacetKind::Mention { username, .. } => format!("@{username}"),
                    FacetKind::Link { url } => url,
                };
                (label, &text[f.start..f.end])
            })
            .collect()
    }

    #[test]
    fn finds_tags_mentions_and_links() {
        let found = kinds(
            "Hello @alice! #RustLang and #日本語 see https://nova.example/a?b=1. me@example.com a#b #1",
        );
        assert_eq!(
            found,
            vec![
                ("@alice".to_string(), "@alice"),
                ("#rustlang".to_string(), "#RustLang"),
                ("#日本語".to_string(), "#日本語"),
                (
                    "https://nova.example/a?b=1".to_string(),
                    "https://nova.example/a?b=1"
                ),
            ]
        );
    }

    #[test]
    fn emoji_and_combining_marks_keep_ranges_right() {
        let text = "👩‍💻 #café\u{301} @bob_1 (https://x.org/é)";
        for f in extract(text) {
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        }
        assert_eq!(hashtags(&extract(text)), vec!["café".to_string()]);
    }

    proptest! {
        #[test]
        fn ranges_are_on_char_boundaries_and_in_order(text in "\\PC{0,200}") {
            let facets = extract(&text);
            let mut last_end = 0;
            for f in &facets {
                prop_assert!(f.start < f.end && f.end <= text.len());
                prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                prop_assert!(f.start >= last_end);
                last_end = f.end;
            }
        }

        #[test]
        fn arbitrary_unicode_never_panics(text in any::<String>()) {
            let _ = extract(&text);
        }

        #[test]
        fn tags_are_found_wherever_they_sit(prefix in "[a-z ]{0,20}", tag in "[a-zA-Z][a-zA-Z0-9_]{0,20}") {
            let text = format!("{prefix} #{tag} end");
            prop_assert!(hashtags(&extract(&text)).contains(&tag.to_lowercase()));
        }
    }
}
