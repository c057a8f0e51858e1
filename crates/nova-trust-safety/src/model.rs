//! Reports, queue items, actions, strikes, appeals, audit entries and rules.

use nova_core::{Error, Result, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

nova_core::define_id!(
    /// A report.
    ReportId
);
nova_core::define_id!(
    /// A moderation action.
    ActionId
);
nova_core::define_id!(
    /// An appeal against an action.
    AppealId
);
nova_core::define_id!(
    /// A pre-publish rule.
    RuleId
);
nova_core::define_id!(
    /// An audit log entry.
    AuditId
);

/// Declares a string-coded enum with `as_str` / `parse` (a bad value names `field`).
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and storage code.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// Parses a code; anything else is `InvalidArgument` naming `field`.
            pub fn parse(value: &str, field: &str) -> Result<Self> {
                match value {
                    $($code => Ok($name::$variant),)+
                    _ => Err(Error::invalid(
                        field,
                        format!("must be one of: {}", [$($code),+].join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

coded_enum!(
    /// What a report or an action is about.
    TargetKind {
        /// A post (or reply, quote).
        Post = "post",
        /// An account.
        Account = "account",
        /// A media item.
        Media = "media",
        /// A chat message.
        ChatMessage = "chat_message",
    }
);

/// A reportable, actionable thing: its kind and its id in its own domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    /// What it is.
    pub kind: TargetKind,
    /// Its id (a `PostId`, `UserId`, `MediaId` or `MessageId`).
    pub id: Uuid,
}

impl Target {
    /// A post.
    pub fn post(id: nova_core::PostId) -> Self {
        Self {
            kind: TargetKind::Post,
            id: id.as_uuid(),
        }
    }
    /// An account.
    pub fn account(id: UserId) -> Self {
        Self {
            kind: TargetKind::Account,
            id: id.as_uuid(),
        }
    }
    /// A media item.
    pub fn media(id: nova_core::MediaId) -> Self {
        Self {
            kind: TargetKind::Media,
            id: id.as_uuid(),
        }
    }
    /// A chat message.
    pub fn chat_message(id: nova_core::MessageId) -> Self {
        Self {
            kind: TargetKind::ChatMessage,
            id: id.as_uuid(),
        }
    }
    /// Parses `kind` and `id` as they arrive in a request (fields `target.kind`,
    /// `target.id`).
    pub fn parse(kind: &str, id: &str) -> Result<Self> {
        Ok(Self {
            kind: TargetKind::parse(kind, "target.kind")?,
            id: nova_core::id::parse_uuid(id, "target.id")?,
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

coded_enum!(
    /// Why something is reported: a fixed taxonomy (plus free text).
    ReportReason {
        /// Spam.
        Spam = "spam",
        /// Harassment.
        Harassment = "harassment",
        /// Hate.
        Hate = "hate",
        /// Violence.
        Violence = "violence",
        /// Sexual content involving minors.
        SexualMinors = "sexual_minors",
        /// Self-harm.
        SelfHarm = "self_harm",
        /// Impersonation.
        Impersonation = "impersonation",
        /// Illegal content.
        Illegal = "illegal",
        /// Anything else (free text says what).
        Other = "other",
    }
);

impl ReportReason {
    /// How urgent a report of this kind is (1..=10): the queue's priority factor.
    pub const fn severity(&self) -> i32 {
        match self {
            ReportReason::SexualMinors => 10,
            ReportReason::SelfHarm | ReportReason::Violence => 8,
            ReportReason::Illegal => 7,
            ReportReason::Hate | ReportReason::Harassment => 6,
            ReportReason::Impersonation => 4,
            ReportReason::Spam => 2,
            ReportReason::Other => 1,
        }
    }
}

/// What a reporter of an end-to-end encrypted chat message chose to share: the server
/// cannot read the message, so it keeps only this.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The id of the ciphertext the reporter decrypted.
    pub ciphertext_id: Option<String>,
    /// The decrypted text as the reporter shares it.
    pub shared_text: Option<String>,
}

/// A report as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReport {
    /// What is reported.
    pub target: Target,
    /// Why.
    pub reason: ReportReason,
    /// Free text (≤ 1,000 characters).
    #[serde(default)]
    pub text: String,
    /// Chat message evidence (only for `chat_message` targets).
    #[serde(default)]
    pub evidence: Option<Evidence>,
}

coded_enum!(
    /// Where a report stands.
    ReportStatus {
        /// Waiting in the queue.
        Open = "open",
        /// A moderator acted on the target.
        Actioned = "actioned",
        /// A moderator found nothing to act on.
        Dismissed = "dismissed",
    }
);

/// A report, as its reporter and moderators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The report.
    pub id: ReportId,
    /// Who reported.
    pub reporter: UserId,
    /// What.
    pub target: Target,
    /// Why.
    pub reason: ReportReason,
    /// Free text.
    pub text: String,
    /// Chat evidence the reporter shared.
    pub evidence: Option<Evidence>,
    /// Open, actioned or dismissed.
    pub status: ReportStatus,
    /// What came of it, told to the reporter (e.g. `"actioned:remove"`, `"no_action"`).
    pub outcome: Option<String>,
    /// Filed.
    pub created_at: Timestamp,
    /// Closed.
    pub resolved_at: Option<Timestamp>,
}

/// One target in the moderation queue with its open reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    /// The target.
    pub target: Target,
    /// Open reports on it.
    pub report_count: i64,
    /// The most severe reason among them.
    pub top_reason: ReportReason,
    /// Severity × report count × mean reporter trust.
    pub priority: f64,
    /// The oldest open report.
    pub oldest_report_at: Timestamp,
    /// Seconds since the oldest open report (the SLA clock).
    pub age_seconds: i64,
    /// The moderator working on it.
    pub assignee: Option<UserId>,
    /// Waiting for an admin.
    pub escalated: bool,
}

/// Which part of the queue to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueFilter {
    /// Everything the caller may handle (an admin also sees escalated items).
    #[default]
    All,
    /// Only items assigned to the caller.
    Mine,
    /// Only escalated items (admins).
    Escalated,
}

coded_enum!(
    /// A moderation action. The first four apply to content, the last three to accounts.
    ActionKind {
        /// Attach a label (sensitive, spoiler, misleading).
        Label = "label",
        /// Demote in ranking.
        ReduceReach = "reduce_reach",
        /// Only the author sees it.
        Hide = "hide",
        /// Gone for everyone.
        Remove = "remove",
        /// No reach outside followers.
        Silence = "silence",
        /// Cannot log in or post; content hidden; reversible.
        Suspend = "suspend",
        /// The account is deleted (admins only).
        Delete = "delete",
    }
);

impl ActionKind {
    /// Whether the action applies to accounts (otherwise to content).
    pub const fn on_account(&self) -> bool {
        matches!(
            self,
            ActionKind::Silence | ActionKind::Suspend | ActionKind::Delete
        )
    }
}

coded_enum!(
    /// A label on content (an action, or a rule's outcome).
    ContentLabel {
        /// Sensitive media.
        Sensitive = "sensitive",
        /// Spoiler.
        Spoiler = "spoiler",
        /// Misleading.
        Misleading = "misleading",
    }
);

/// An action as a moderator takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAction {
    /// What it applies to.
    pub target: Target,
    /// What to do.
    pub kind: ActionKind,
    /// The label (only and always for `label`).
    #[serde(default)]
    pub label: Option<ContentLabel>,
    /// The account that gets the strike: the author of content (when known), the account
    /// itself for account targets (filled in when absent).
    #[serde(default)]
    pub subject: Option<UserId>,
    /// Why (shown to the subject; ≤ 1,000 characters).
    pub reason: String,
    /// A note for other moderators (≤ 2,000 characters).
    #[serde(default)]
    pub note: String,
    /// When it lapses by itself.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// An action taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// The action.
    pub id: ActionId,
    /// What it applies to.
    pub target: Target,
    /// Who gets the strike.
    pub subject: Option<UserId>,
    /// What was done.
    pub kind: ActionKind,
    /// The label of a `label` action.
    pub label: Option<ContentLabel>,
    /// Why.
    pub reason: String,
    /// The moderators' note.
    pub note: String,
    /// Who did it.
    pub actor: UserId,
    /// When.
    pub created_at: Timestamp,
    /// When it lapses.
    pub expires_at: Option<Timestamp>,
    /// When it was undone (by reversal or a granted appeal).
    pub reversed_at: Option<Timestamp>,
}

impl Action {
    /// Whether the action holds at `now`.
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.reversed_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

coded_enum!(
    /// Where an appeal stands.
    AppealStatus {
        /// Waiting for a moderator.
        Pending = "pending",
        /// Granted: the action was reversed.
        Granted = "granted",
        /// Denied: the action stays.
        Denied = "denied",
    }
);

/// An appeal against an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    /// The appeal.
    pub id: AppealId,
    /// The action appealed.
    pub action_id: ActionId,
    /// Who appeals (the action's subject).
    pub appellant: UserId,
    /// Their text.
    pub text: String,
    /// Pending, granted or denied.
    pub status: AppealStatus,
    /// The moderator who decided.
    pub decided_by: Option<UserId>,
    /// Their note to the appellant.
    pub decision_note: Option<String>,
    /// Filed.
    pub created_at: Timestamp,
    /// Decided.
    pub decided_at: Option<Timestamp>,
}

/// An action against the caller, with its reason and any appeal: what a user sees of
/// their strikes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strike {
    /// The action.
    pub action: Action,
    /// The appeal against it, if any.
    pub appeal: Option<Appeal>,
}

/// One entry of the append-only audit log: who, when, what, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The entry.
    pub id: AuditId,
    /// When.
    pub at: Timestamp,
    /// Who (absent for the system, e.g. a rule).
    pub actor: Option<UserId>,
    /// What happened, e.g. `report.created`, `action.taken`, `appeal.decided`, `rule.changed`.
    pub action: String,
    /// What it was about (`post:<id>`, `action:<id>`, `rule:<id>`, ...).
    pub subject: String,
    /// Why.
    pub reason: String,
    /// Details as JSON.
    pub detail: String,
}

/// Which audit entries to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Only entries about this subject (`post:<id>`, `action:<id>`, ...).
    #[serde(default)]
    pub subject: Option<String>,
    /// Only entries before this one (paging).
    #[serde(default)]
    pub before: Option<AuditId>,
    /// At most this many (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
}

// ---------------------------------------------------------------------------------------
// Rules before publishing

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "label")]
pub enum RuleOutcome {
    /// Let it through (allow-list rules: an allowed link domain).
    Allow,
    /// Publish it with a label.
    Label(ContentLabel),
    /// Keep it back for a moderator.
    Hold,
    /// Refuse it with the rule's public reason.
    Reject,
}

impl RuleOutcome {
    /// Storage code.
    pub fn code(&self) -> String {
        match self {
            RuleOutcome::Allow => "allow".into(),
            RuleOutcome::Label(l) => format!("label:{l}"),
            RuleOutcome::Hold => "hold".into(),
            RuleOutcome::Reject => "reject".into(),
        }
    }

    /// Parses a storage or wire code; anything else names `field`.
    pub fn parse(value: &str, field: &str) -> Result<Self> {
        match value {
            "allow" => Ok(RuleOutcome::Allow),
            "hold" => Ok(RuleOutcome::Hold),
            "reject" => Ok(RuleOutcome::Reject),
            other => match other.strip_prefix("label:") {
                Some(l) => Ok(RuleOutcome::Label(ContentLabel::parse(l, field)?)),
                None => Err(Error::invalid(
                    field,
                    "must be allow, hold, reject or label:<sensitive|spoiler|misleading>",
                )),
            },
        }
    }

    /// Severity order used to combine outcomes: reject > hold > label > allow.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            RuleOutcome::Allow => 0,
            RuleOutcome::Label(_) => 1,
            RuleOutcome::Hold => 2,
            RuleOutcome::Reject => 3,
        }
    }
}

/// What a rule looks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RuleBody {
    /// Words or phrases (whole words, case-insensitive, Unicode-normalized).
    Keywords {
        /// The phrases.
        phrases: Vec<String>,
        /// Also match confusable and leet-speak variants ("ṡpam", "sp4m", "ѕраm").
        #[serde(default)]
        fold: bool,
    },
    /// A regular expression over the lower-cased, normalized text (linear-time, size-limited).
    Regex {
        /// The pattern (`regex` crate syntax).
        pattern: String,
    },
    /// Link domains (a domain covers its subdomains), found in URLs in the text only.
    Domains {
        /// The domains.
        domains: Vec<String>,
    },
    /// Limits on new accounts.
    Velocity {
        /// Accounts younger than this are limited.
        new_account_seconds: i64,
        /// At most this many publishes per `window_seconds` ...
        max_posts: u32,
        /// ... window.
        window_seconds: i64,
        /// No links at all while the account is younger than this (0: off).
        #[serde(default)]
        no_links_seconds: i64,
    },
    /// The same normalized text from many accounts within a window.
    Duplicate {
        /// Distinct accounts at which it triggers.
        accounts: u32,
        /// The window.
        window_seconds: i64,
        /// Shorter texts are ignored ("ok", "thanks").
        #[serde(default)]
        min_chars: u32,
    },
    /// Perceptual hashes (64-bit pHash/dHash) of known-bad media.
    MediaHashes {
        /// The hashes.
        hashes: Vec<u64>,
        /// Matches within this Hamming distance (≤ 16).
        max_distance: u32,
    },
}

impl RuleBody {
    /// The kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            RuleBody::Keywords { .. } => "keywords",
            RuleBody::Regex { .. } => "regex",
            RuleBody::Domains { .. } => "domains",
            RuleBody::Velocity { .. } => "velocity",
            RuleBody::Duplicate { .. } => "duplicate",
            RuleBody::MediaHashes { .. } => "media_hashes",
        }
    }
}

/// A rule as a moderator writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleDraft {
    /// The rule to change; `None` creates one.
    #[serde(default)]
    pub id: Option<RuleId>,
    /// A name for moderators.
    pub name: String,
    /// What it looks for.
    pub body: RuleBody,
    /// What it does.
    pub outcome: RuleOutcome,
    /// The reason the user is shown when it rejects (required for `reject`).
    #[serde(default)]
    pub public_reason: String,
    /// Off rules are kept but not applied.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The rule.
    pub id: RuleId,
    /// Its version (1 on creation, +1 per change).
    pub version: i32,
    /// Its name.
    pub name: String,
    /// What it looks for.
    pub body: RuleBody,
    /// What it does.
    pub outcome: RuleOutcome,
    /// The reason shown to the user.
    pub public_reason: String,
    /// Applied or not.
    pub enabled: bool,
    /// Who changed it last.
    pub updated_by: UserId,
    /// When.
    pub updated_at: Timestamp,
}

/// Where the checked content will appear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// A post, reply or quote.
    #[default]
    Post,
    /// Chat metadata (group names, topics).
    ChatMetadata,
    /// Profile text.
    Profile,
    /// Media.
    Media,
}

/// Content to check before publishing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckInput {
    /// The author.
    pub author: Option<UserId>,
    /// When the author's account was created (for the new-account rules).
    #[serde(default)]
    pub account_created_at: Option<Timestamp>,
    /// Where it will appear.
    #[serde(default)]
    pub surface: Surface,
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Perceptual hashes of attached media.
    #[serde(default)]
    pub media_hashes: Vec<u64>,
}

/// The decision on checked content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Publish.
    Allow,
    /// Publish with labels.
    Label,
    /// Keep back for review.
    Hold,
    /// Refuse, telling the user why.
    Reject,
}

/// The answer of a pre-publish check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The decision (the strictest outcome of every rule that matched).
    pub kind: VerdictKind,
    /// The public reason of the rejecting rule.
    pub reason: Option<String>,
    /// Labels to attach.
    pub labels: Vec<ContentLabel>,
    /// The rules that matched (allow rules included).
    pub rules: Vec<RuleId>,
}

impl Verdict {
    /// Publish, nothing matched.
    pub fn allow() -> Self {
        Self {
            kind: VerdictKind::Allow,
            reason: None,
            labels: Vec::new(),
            rules: Vec::new(),
        }
    }
}
