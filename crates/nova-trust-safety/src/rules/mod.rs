//! The pre-publish rule engine: stored [`Rule`]s compiled into matchers that answer in
//! microseconds.
//!
//! - keywords: two Aho–Corasick automata, one over the [normalized](normalize::normalize)
//!   text and one over its [folded](normalize::fold) skeleton (rules with `fold`), whole
//!   words only;
//! - regexes: one size-limited [`regex::RegexSet`] (linear time) over the normalized text;
//! - link domains: a hash map looked up with each suffix of each host in the text, the
//!   longest listed suffix deciding between allow and block;
//! - media: a [`phash::HashIndex`] (multi-index hashing) over every listed hash.
//!
//! The stateful rules (velocity, duplicate spam) are applied by the service with these
//! parameters; [`CompiledRules::match_content`] is the pure, synchronous part.

pub mod links;
pub mod normalize;
pub mod phash;

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use nova_core::{Error, Result};
use regex::{RegexBuilder, RegexSet, RegexSetBuilder};
use sha2::{Digest, Sha256};

use crate::model::{Rule, RuleBody, RuleId, RuleOutcome, Verdict, VerdictKind};

/// Largest compiled program of one regex rule.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Largest compiled program of all regex rules together.
const REGEX_SET_SIZE_LIMIT: usize = 64 * 1024 * 1024;
/// Largest Hamming distance a media rule may allow (beyond it unrelated images match).
pub const MAX_MEDIA_DISTANCE: u32 = 16;

/// What the service needs to know about a rule when it matched.
#[derive(Debug, Clone)]
struct RuleMeta {
    id: RuleId,
    name: String,
    outcome: RuleOutcome,
    public_reason: String,
}

/// A new-account velocity rule.
#[derive(Debug, Clone, Copy)]
pub struct VelocityRule {
    /// Index of the rule (for [`CompiledRules::verdict`]).
    pub index: u32,
    /// The rule's id.
    pub id: RuleId,
    /// Accounts younger than this are limited.
    pub new_account_seconds: i64,
    /// Publishes per window.
    pub max_posts: u32,
    /// The window.
    pub window_seconds: i64,
    /// No links while younger than this.
    pub no_links_seconds: i64,
}

/// A duplicate-spam rule.
#[derive(Debug, Clone, Copy)]
pub struct DuplicateRule {
    /// Index of the rule.
    pub index: u32,
    /// Distinct accounts at which it triggers.
    pub accounts: u32,
    /// The window.
    pub window_seconds: i64,
    /// Shorter normalized texts are ignored.
    pub min_chars: u32,
}

/// Every enabled rule, compiled.
#[derive(Debug, Default)]
pub struct CompiledRules {
    rules: Vec<RuleMeta>,
    plain: Option<(AhoCorasick, Vec<u32>)>,
    folded: Option<(AhoCorasick, Vec<u32>)>,
    regexes: Option<(RegexSet, Vec<u32>)>,
    domains: HashMap<String, u32>,
    media: Option<(phash::HashIndex<u32>, u32, Vec<u32>)>,
    velocity: Vec<VelocityRule>,
    duplicate: Vec<DuplicateRule>,
}

/// Rules that matched one piece of content (indexes into the compiled set).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hits(Vec<u32>);

impl Hits {
    /// Records a match of rule `index`.
    pub fn add(&mut self, index: u32) {
        if !self.0.contains(&index) {
            self.0.push(index);
        }
    }
    /// Whether nothing matched.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Checks a rule body on its own (on save), naming the offending field.
pub fn validate(body: &RuleBody) -> Result<()> {
    match body {
        RuleBody::Keywords { phrases, .. } => {
            if phrases.is_empty() || phrases.len() > 100_000 {
                return Err(Error::invalid(
                    "body.phrases",
                    "must hold 1 to 100,000 phrases",
                ));
            }
            if phrases
                .iter()
                .any(|p| normalize::normalize(p).trim().is_empty())
            {
                return Err(Error::invalid(
                    "body.phrases",
                    "must not hold empty phrases",
                ));
            }
        }
        RuleBody::Regex { pattern } => {
            if pattern.len() > 4096 {
                return Err(Error::invalid(
                    "body.pattern",
                    "must be at most 4,096 bytes",
                ));
            }
            RegexBuilder::new(pattern)
                .case_insensitive(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| Error::invalid("body.pattern", regex_error(&e)))?;
        }
        RuleBody::Domains { domains } => {
            if domains.is_empty() || domains.len() > 1_000_000 {
                return Err(Error::invalid(
                    "body.domains",
                    "must hold 1 to 1,000,000 domains",
                ));
            }
            if let Some(bad) = domains.iter().find(|d| clean_domain(d).is_none()) {
                return Err(Error::invalid(
                    "body.domains",
                    format!("{bad:?} is not a domain name"),
                ));
            }
        }
        RuleBody::Velocity {
            new_account_seconds,
            max_posts,
            window_seconds,
            no_links_seconds,
        } => {
            if *new_account_seconds <= 0 {
                return Err(Error::invalid(
                    "body.new_account_seconds",
                    "must be positive",
                ));
            }
            if *max_posts == 0 {
                return Err(Error::invalid("body.max_posts", "must be at least 1"));
            }
            if *window_seconds <= 0 {
                return Err(Error::invalid("body.window_seconds", "must be positive"));
            }
            if *no_links_seconds < 0 {
                return Err(Error::invalid(
                    "body.no_links_seconds",
                    "must not be negative",
                ));
            }
        }
        RuleBody::Duplicate {
            accounts,
            window_seconds,
            ..
        } => {
            if *accounts < 2 {
                return Err(Error::invalid("body.accounts", "must be at least 2"));
            }
            if *window_seconds <= 0 {
                return Err(Error::invalid("body.window_seconds", "must be positive"));
            }
        }
        RuleBody::MediaHashes {
            hashes,
            max_distance,
        } => {
            if hashes.is_empty() || hashes.len() > 10_000_000 {
                return Err(Error::invalid(
                    "body.hashes",
                    "must hold 1 to 10,000,000 hashes",
                ));
            }
            if *max_distance > MAX_MEDIA_DISTANCE {
                return Err(Error::invalid(
                    "body.max_distance",
                    format!("must be at most {MAX_MEDIA_DISTANCE}"),
                ));
            }
        }
    }
    Ok(())
}

fn regex_error(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(_) => "compiles to a program over the size limit".into(),
        other => format!("is not a valid regex: {other}"),
    }
}

/// A domain as listed: lower case, no scheme, no trailing dot.
fn clean_domain(domain: &str) -> Option<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    ok.then_some(d)
}

impl CompiledRules {
    /// Compiles the enabled `rules`.
    pub fn compile(rules: &[Rule]) -> Result<Self> {
        let mut out = CompiledRules::default();
        let mut plain: (Vec<String>, Vec<u32>) = Default::default();
        let mut folded: (Vec<String>, Vec<u32>) = Default::default();
        let mut regexes: (Vec<&str>, Vec<u32>) = Default::default();
        let mut media: (Vec<(u64, u32)>, u32, Vec<u32>) = Default::default();
        for rule in rules.iter().filter(|r| r.enabled) {
            let index = u32::try_from(out.rules.len())
                .map_err(|_| Error::invalid("rules", "too many rules"))?;
            out.rules.push(RuleMeta {
                id: rule.id,
                name: rule.name.clone(),
                outcome: rule.outcome,
                public_reason: rule.public_reason.clone(),
            });
            media.2.push(0);
            match &rule.body {
                RuleBody::Keywords { phrases, fold } => {
                    for p in phrases {
                        let (list, map) = if *fold { &mut folded } else { &mut plain };
                        let p = if *fold {
                            normalize::fold(p)
                        } else {
                            normalize::normalize(p)
                        };
                        list.push(p.trim().to_owned());
                        map.push(index);
                    }
                }
                RuleBody::Regex { pattern } => {
                    regexes.0.push(pattern);
                    regexes.1.push(index);
                }
                RuleBody::Domains { domains } => {
                    for d in domains.iter().filter_map(|d| clean_domain(d)) {
                        // An allow entry beats a block entry for the same domain.
                        match out.domains.get(&d) {
                            Some(&other)
                                if out.rules[other as usize].outcome == RuleOutcome::Allow => {}
                            _ => {
                                out.domains.insert(d, index);
                            }
                        }
                    }
                }
                RuleBody::Velocity {
                    new_account_seconds,
                    max_posts,
                    window_seconds,
                    no_links_seconds,
                } => out.velocity.push(VelocityRule {
                    index,
                    id: rule.id,
                    new_account_seconds: *new_account_seconds,
                    max_posts: *max_posts,
                    window_seconds: *window_seconds,
                    no_links_seconds: *no_links_seconds,
                }),
                RuleBody::Duplicate {
                    accounts,
                    window_seconds,
                    min_chars,
                } => out.duplicate.push(DuplicateRule {
                    index,
                    accounts: *accounts,
                    window_seconds: *window_seconds,
                    min_chars: *min_chars,
                }),
                RuleBody::MediaHashes {
                    hashes,
                    max_distance,
                } => {
                    media.0.extend(hashes.iter().map(|&h| (h, index)));
                    media.1 = media.1.max(*max_distance);
                    media.2[index as usize] = *max_distance;
                }
            }
        }
        out.plain = automaton(plain)?;
        out.folded = automaton(folded)?;
        if !regexes.0.is_empty() {
            let set = RegexSetBuilder::new(&regexes.0)
                .case_insensitive(true)
                .size_limit(REGEX_SET_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SET_SIZE_LIMIT)
                .build()
                .map_err(|e| Error::invalid("body.pattern", regex_error(&e)))?;
            out.regexes = Some((set, regexes.1));
        }
        if !media.0.is_empty() {
            out.media = Some((phash::HashIndex::new(&media.0), media.1, media.2));
        }
        Ok(out)
    }

    /// Number of enabled rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The velocity rules.
    pub fn velocity(&self) -> &[VelocityRule] {
        &self.velocity
    }

    /// The duplicate-spam rules.
    pub fn duplicate(&self) -> &[DuplicateRule] {
        &self.duplicate
    }

    /// Applies the stateless rules (keywords, regexes, domains, media hashes).
    pub fn match_content(&self, text: &str, media_hashes: &[u64], hits: &mut Hits) {
        if !text.is_empty() {
            let normalized = normalize::normalize(text);
            if let Some((ac, map)) = &self.plain {
                keyword_hits(ac, map, &normalized, hits);
            }
            if let Some((ac, map)) = &self.folded {
                keyword_hits(ac, map, &normalize::fold(text), hits);
            }
            if let Some((set, map)) = &self.regexes
                && set.is_match(&normalized)
            {
                for i in set.matches(&normalized).iter() {
                    hits.add(map[i]);
                }
            }
            if !self.domains.is_empty() {
                links::for_each_host(text, |host| {
                    if let Some(&rule) = links::suffixes(host).find_map(|s| self.domains.get(s)) {
                        hits.add(rule);
                    }
                });
            }
        }
        if let Some((index, max, per_rule)) = &self.media {
            for &query in media_hashes {
                index.search(query, *max, |_, rule, d| {
                    if d <= per_rule[rule as usize] {
                        hits.add(rule);
                    }
                    true
                });
            }
        }
    }

    /// Combines the outcomes of the matched rules: reject beats hold beats label beats allow.
    pub fn verdict(&self, hits: &Hits) -> Verdict {
        let mut verdict = Verdict::allow();
        let mut worst = 0u8;
        for &i in &hits.0 {
            let Some(rule) = self.rules.get(i as usize) else {
                continue;
            };
            verdict.rules.push(rule.id);
            metrics::counter!("nova_trust_safety_rule_hits_total", "rule" => rule.name.clone())
                .increment(1);
            if let RuleOutcome::Label(l) = rule.outcome
                && !verdict.labels.contains(&l)
            {
                verdict.labels.push(l);
            }
            let rank = rule.outcome.rank();
            if rank > worst {
                worst = rank;
                if rule.outcome == RuleOutcome::Reject {
                    verdict.reason = Some(rule.public_reason.clone());
                }
            }
        }
        verdict.kind = match worst {
            3 => VerdictKind::Reject,
            2 => VerdictKind::Hold,
            1 => VerdictKind::Label,
            _ => VerdictKind::Allow,
        };
        verdict
    }
}

fn automaton(patterns: (Vec<String>, Vec<u32>)) -> Result<Option<(AhoCorasick, Vec<u32>)>> {
    if patterns.0.is_empty() {
        return Ok(None);
    }
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        // A full DFA: one table lookup per byte (the default picks a slower NFA for
        // more than a few hundred patterns); 10,000 phrases take some tens of MB.
        .kind(Some(AhoCorasickKind::DFA))
        .build(&patterns.0)
        .map_err(|e| Error::invalid("body.phrases", format!("cannot be compiled: {e}")))?;
    Ok(Some((ac, patterns.1)))
}

fn keyword_hits(ac: &AhoCorasick, map: &[u32], text: &str, hits: &mut Hits) {
    for m in ac.find_overlapping_iter(text) {
        if normalize::whole_word(text, m.start(), m.end()) {
            hits.add(map[m.pattern().as_usize()]);
        }
    }
}

/// The duplicate-spam key of a text: a hash of its folded skeleton with whitespace and
/// punctuation squeezed out (so trivially varied copies collide), and its length.
pub fn duplicate_key(text: &str) -> ([u8; 16], usize) {
    let letters: String = normalize::normalize(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let mut hasher = Sha256::new();
    let mut chars = 0usize;
    for c in normalize::fold(&letters).chars() {
        let mut buf = [0u8; 4];
        hasher.update(c.encode_utf8(&mut buf).as_bytes());
        chars += 1;
    }
    let digest = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    (key, chars)
}
