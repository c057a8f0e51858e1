//! Link domains found in text, without any network fetch: `https://a.example/x`,
//! `www.example.com`, and bare `example.com/path` words.

/// Calls `f` with the lower-cased host of every link in `text`.
pub fn for_each_host(text: &str, mut f: impl FnMut(&str)) {
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')'))
    {
        if let Some(host) = host_of(word) {
            if host.bytes().any(|b| b.is_ascii_uppercase()) {
                f(&host.to_ascii_lowercase());
            } else {
                f(host);
            }
        }
    }
}

/// Whether `text` has any link.
pub fn has_link(text: &str) -> bool {
    let mut any = false;
    for_each_host(text, |_| any = true);
    any
}

fn host_of(word: &str) -> Option<&str> {
    // Cheap reject: a host needs a dot.
    if !word.contains('.') {
        return None;
    }
    let word =
        word.trim_matches(|c: char| matches!(c, ',' | ';' | '!' | '?' | '\'' | '[' | ']' | '.'));
    let (rest, schemed) = match word.find("://") {
        Some(i) => (&word[i + 3..], true),
        None => (word, false),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    // user:pass@ is not part of the host; an `@` in a bare word is an e-mail address.
    let rest = match authority.rfind('@') {
        Some(i) if schemed => &authority[i + 1..],
        Some(_) => return None,
        None => authority,
    };
    let end = rest.find(':').unwrap_or(rest.len());
    let host = rest[..end].trim_end_matches('.');
    valid_host(host).then_some(host)
}

fn valid_host(host: &str) -> bool {
    let mut labels = 0;
    let mut last = "";
    for label in host.split('.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.len() >= 2 && last.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Every suffix of `host` at a label boundary, longest first: `a.b.c`, `b.c`, `c`.
pub fn suffixes(host: &str) -> impl Iterator<Item = &str> {
    std::iter::once(host).chain(host.match_indices('.').map(move |(i, _)| &host[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_host(text, |h| out.push(h.to_owned()));
        out
    }

    #[test]
    fn finds_hosts_in_text() {
        assert_eq!(
            hosts(
                "see https://Spam.Example.com/x?y, www.b.org. or c.net/path and mail me@d.com v1.2 end."
            ),
            vec!["spam.example.com", "www.b.org", "c.net"]
        );
        assert_eq!(
            hosts("https://x.com/@user and b.io/@a"),
            vec!["x.com", "b.io"]
        );
        assert_eq!(hosts("http://user:pw@e.io:8080/"), vec!["e.io"]);
        assert!(!has_link("no links here. really"));
    }

    #[test]
    fn suffixes_at_label_boundaries() {
        assert_eq!(
            suffixes("a.b.c").collect::<Vec<_>>(),
            vec!["a.b.c", "b.c", "c"]
        );
    }
}
