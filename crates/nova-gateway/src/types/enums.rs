//! Enums mirrored from the domains.

use async_graphql::Enum;

macro_rules! mirror {
    ($(#[$m:meta])* $name:ident => $domain:path { $($(#[$vm:meta])* $v:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub(crate) enum $name { $($(#[$vm])* $v),+ }
        impl From<$domain> for $name {
            fn from(v: $domain) -> Self {
                use $domain as D;
                match v { $(D::$v => Self::$v),+ }
            }
        }
        impl From<$name> for $domain {
            fn from(v: $name) -> Self {
                match v { $($name::$v => Self::$v),+ }
            }
        }
    };
}

mirror!(
    /// Who may see a post.
    Visibility => nova_content::Visibility {
        /// Anyone who may see the author.
        Public,
        /// The author's followers.
        Followers,
        /// Only the accounts it mentions.
        Mentioned,
    }
);

mirror!(
    /// Who may reply to a post.
    ReplyPolicy => nova_content::ReplyPolicy {
        /// Anyone who can see the post.
        Everyone,
        /// Accounts the author follows.
        Following,
        /// Accounts the post mentions.
        Mentioned,
        /// Nobody.
        Nobody,
    }
);

mirror!(
    /// How a home feed is ordered.
    FeedMode => nova_feed::FeedMode {
        /// Newest first, followed accounts only.
        Chronological,
        /// Ranked, with a few out-of-network posts.
        Ranked,
    }
);

mirror!(
    /// Why a post is in a feed.
    FeedReason => nova_feed::FeedReason {
        /// The viewer follows the author.
        Following,
        /// A followed author with very many followers.
        Popular,
        /// Out-of-network: trending.
        Trending,
    }
);

mirror!(
    /// Which of an author's posts.
    TimelineKind => nova_content::store::TimelineKind {
        /// Top-level posts and quotes.
        Posts,
        /// Replies.
        Replies,
        /// Posts with media.
        Media,
    }
);

mirror!(
    /// What a follow did.
    FollowOutcome => nova_social::FollowOutcome {
        /// Now following.
        Following,
        /// The account is private: a request waits for approval.
        Requested,
        /// Was already following.
        AlreadyFollowing,
    }
);

mirror!(
    /// Who may send a direct message.
    MessagePolicy => nova_user::MessagePolicy {
        /// Anyone not blocked.
        Everyone,
        /// Only accounts I follow.
        Following,
        /// Nobody.
        Nobody,
    }
);

mirror!(
    /// What a trend is about.
    TrendKind => nova_trending::EntityKind {
        /// A post.
        Post,
        /// A hashtag.
        Hashtag,
        /// An author.
        Creator,
        /// A link.
        Link,
    }
);
