//! The post query language: free words (typo-tolerant), `"quoted phrases"`, and the
//! operators `from:user`, `#tag`, `@mention`, `lang:xx`, `before:YYYY-MM-DD`,
//! `after:YYYY-MM-DD` and `has:media`. Unknown `word:word` pairs are plain words.

use chrono::{NaiveDate, TimeZone, Utc};
use nova_core::{Error, Timestamp};

/// At most this many words, phrases and operators in one query.
pub const MAX_PARTS: usize = 32;

/// A parsed post query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedQuery {
    /// Free words (each must match, exactly or within the typo distance).
    pub words: Vec<String>,
    /// Quoted phrases (each must match in order).
    pub phrases: Vec<String>,
    /// `from:` usernames (lowercased; any of them).
    pub from: Vec<String>,
    /// `#tags` (lowercased, all required).
    pub hashtags: Vec<String>,
    /// `@mentions` (lowercased usernames, all required).
    pub mentions: Vec<String>,
    /// `lang:` tag (lowercased).
    pub lang: Option<String>,
    /// Created strictly before this instant (`before:` a day means before that day).
    pub before: Option<Timestamp>,
    /// Created at or after this instant (`after:` a day means from the next day on).
    pub after: Option<Timestamp>,
    /// `has:media`.
    pub has_media: bool,
}

impl ParsedQuery {
    /// Whether nothing at all was asked.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.phrases.is_empty()
            && self.from.is_empty()
            && self.hashtags.is_empty()
            && self.mentions.is_empty()
            && self.lang.is_none()
            && self.before.is_none()
            && self.after.is_none()
            && !self.has_media
    }
}

fn day(value: &str, field: &str) -> Result<Timestamp, Error> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| Error::invalid(field, "a date like 2026-01-31"))?;
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| Error::invalid(field, "a date like 2026-01-31"))?;
    Ok(Utc.from_utc_datetime(&midnight))
}

fn clean(token: &str) -> String {
    token
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '_')
        .to_lowercase()
}

/// Parses `query`. Bad operator values (a date that is no date) are errors naming the
/// operator (`before`, `after`); the query as a whole is capped at [`MAX_PARTS`] parts.
pub fn parse(query: &str) -> Result<ParsedQuery, Error> {
    let mut parsed = ParsedQuery::default();
    let mut rest = query;
    let mut parts = 0usize;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        parts += 1;
        if parts > MAX_PARTS {
            return Err(Error::invalid("q", format!("at most {MAX_PARTS} parts")));
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            let phrase = quoted[..end].trim();
            if !phrase.is_empty() {
                parsed.phrases.push(phrase.to_owned());
            }
            rest = quoted.get(end + 1..).unwrap_or("");
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..end];
        rest = &rest[end..];
        if let Some(tag) = token.strip_prefix('#') {
            let tag = clean(tag);
            if !tag.is_empty() {
                parsed.hashtags.push(tag);
            }
        } else if let Some(name) = token.strip_prefix('@') {
            let name = clean(name);
            if !name.is_empty() {
                parsed.mentions.push(name);
            }
        } else if let Some((op, value)) = token.split_once(':')
            && !value.is_empty()
        {
            match op.to_ascii_lowercase().as_str() {
                "from" => parsed.from.push(clean(value.trim_start_matches('@'))),
                "lang" => parsed.lang = Some(value.to_ascii_lowercase()),
                "before" => parsed.before = Some(day(value, "before")?),
                "after" => parsed.after = Some(day(value, "after")? + chrono::Duration::days(1)),
                "has" if value.eq_ignore_ascii_case("media") => parsed.has_media = true,
                _ => parsed.words.push(token.to_owned()),
            }
        } else {
            parsed.words.push(token.to_owned());
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_phrases_and_words() {
        let q =
            parse(r#"rust "async await" from:@Ada #RustLang @Grace lang:EN has:media"#).unwrap();
        assert_eq!(q.words, vec!["rust"]);
        assert_eq!(q.phrases, vec!["async await"]);
        assert_eq!(q.from, vec!["ada"]);
        assert_eq!(q.hashtags, vec!["rustlang"]);
        assert_eq!(q.mentions, vec!["grace"]);
        assert_eq!(q.lang.as_deref(), Some("en"));
        assert!(q.has_media);
    }

    #[test]
    fn dates_bound_whole_days_and_bad_dates_name_the_operator() {
        let q = parse("before:2026-03-02 after:2026-03-01").unwrap();
        assert_eq!(q.before.unwrap().to_rfc3339(), "2026-03-02T00:00:00+00:00");
        assert_eq!(q.after.unwrap().to_rfc3339(), "2026-03-02T00:00:00+00:00");
        let err = parse("before:yesterday").unwrap_err();
        assert_eq!(err.field(), Some("before"));
    }

    #[test]
    fn unclosed_quotes_and_unknown_operators_are_text() {
        let q = parse(r#"see http://x "open phrase"#).unwrap();
        assert_eq!(q.words, vec!["see", "http://x"]);
        assert_eq!(q.phrases, vec!["open phrase"]);
        assert!(parse(&"w ".repeat(MAX_PARTS + 1)).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_fails_cleanly(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }
    }
}
