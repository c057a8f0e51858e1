//! Profile limits, counted in graphemes (what a person sees as one character).

use nova_core::{Error, Result};
use unicode_segmentation::UnicodeSegmentation;

/// Display name limit.
pub const DISPLAY_NAME_MAX: usize = 50;
/// Bio limit.
pub const BIO_MAX: usize = 500;
/// Pronouns limit.
pub const PRONOUNS_MAX: usize = 40;
/// Links per profile.
pub const LINKS_MAX: usize = 5;
/// Characters per link.
pub const LINK_MAX: usize = 200;

/// Graphemes in `s`.
pub fn graphemes(s: &str) -> usize {
    s.graphemes(true).count()
}

/// A trimmed text field of at most `max` graphemes, without control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if graphemes(value) > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

/// Up to [`LINKS_MAX`] absolute http(s) URLs.
pub fn links(values: &[String]) -> Result<Vec<String>> {
    if values.len() > LINKS_MAX {
        return Err(Error::invalid(
            "links",
            format!("at most {LINKS_MAX} links"),
        ));
    }
    values
        .iter()
        .map(|raw| {
            let raw = raw.trim();
            let ok = raw.len() <= LINK_MAX
                && url::Url::parse(raw).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https") && u.host_str().is_some()
                });
            if ok {
                Ok(raw.to_owned())
            } else {
                Err(Error::invalid(
                    "links",
                    "each link must be an http(s) URL of at most 200 characters",
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limits_count_graphemes_not_bytes() {
        // 50 family emoji: many bytes and code points each, one grapheme each.
        let family = "👨‍👩‍👧‍👦".repeat(50);
        assert_eq!(
            text("display_name", &family, DISPLAY_NAME_MAX).unwrap(),
            family
        );
        assert!(text("display_name", &format!("{family}x"), DISPLAY_NAME_MAX).is_err());
        assert_eq!(text("bio", "a\u{0}b", 10).unwrap_err().field(), Some("bio"));
    }

    #[test]
    fn links_must_be_web_urls() {
        assert!(links(&["https://example.com/me".into()]).is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x.org",
            "not a url",
            "https://",
        ] {
            assert_eq!(
                links(&[bad.into()]).unwrap_err().field(),
                Some("links"),
                "{bad}"
            );
        }
        assert!(links(&vec!["https://a.io".to_string(); 6]).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = text("bio", &s, BIO_MAX);
            let _ = links(&[s]);
        }
    }
}
