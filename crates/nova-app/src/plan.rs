//! Which domains each Nova process serves. Adding a service is a [`Part`] (with the
//! variable naming where it runs) and one [`Plan`] line; its construction and what it
//! mounts live in `build.rs`.

/// A domain (or the GraphQL gateway) a process may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// Accounts, sessions, tokens (nova-identity).
    Identity,
    /// Profiles and settings (nova-user).
    Users,
    /// Follow / block / mute edges (nova-graph; internal, no viewer authorization).
    Graph,
    /// Follows, requests, blocks, mutes, viewer access (nova-social).
    Social,
    /// Posts, likes, bookmarks, reposts (nova-content).
    Content,
    /// Scoring (nova-ranking).
    Ranking,
    /// Trends (nova-trending; hosted by ranking-service).
    Trending,
    /// Home timelines (nova-feed).
    Feed,
    /// Full-text search of users, posts and hashtags (nova-search).
    Search,
    /// Grouped in-app notifications (nova-notification).
    Notification,
    /// Reports, moderation, appeals, audit, pre-publish rules (nova-trust-safety).
    TrustSafety,
    /// Engagement analytics and insights (nova-analytics).
    Analytics,
    /// End-to-end encrypted chat and its key directory (nova-chat, nova-e2ee).
    Chat,
    /// Uploads, image processing, object storage, signed delivery (nova-media).
    Media,
    /// The GraphQL API over all of the above (nova-gateway).
    Gateway,
}

impl Part {
    /// Every part, in construction order (each after the parts it [`needs`](Self::needs)).
    pub const ALL: [Part; 15] = [
        Part::Identity,
        // After identity: its routes verify tokens with identity when it runs here.
        Part::TrustSafety,
        // Before users and content, which claim profile pictures and post media in it.
        Part::Media,
        Part::Users,
        Part::Graph,
        Part::Social,
        Part::Content,
        Part::Ranking,
        Part::Trending,
        Part::Feed,
        Part::Search,
        Part::Notification,
        Part::Analytics,
        Part::Chat,
        Part::Gateway,
    ];

    /// The variable naming the gRPC address of the service hosting this part when it
    /// runs elsewhere, and that service's registry name (the k8s default host).
    pub fn remote(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Part::Identity => ("IDENTITY_SERVICE_URL", "identity-service"),
            Part::Users => ("USER_SERVICE_URL", "user-service"),
            Part::Graph => ("GRAPH_SERVICE_URL", "graph-service"),
            Part::Social => ("SOCIAL_SERVICE_URL", "social-service"),
            Part::Content => ("CONTENT_SERVICE_URL", "content-service"),
            Part::Feed => ("FEED_SERVICE_URL", "feed-service"),
            Part::Search => ("SEARCH_SERVICE_URL", "search-service"),
            Part::Notification => ("NOTIFICATION_SERVICE_URL", "notification-service"),
            Part::TrustSafety => ("TRUST_SAFETY_SERVICE_URL", "trust-safety-service"),
            Part::Analytics => ("ANALYTICS_SERVICE_URL", "analytics-service"),
            Part::Chat => ("CHAT_SERVICE_URL", "realtime-chat-service"),
            Part::Media => ("MEDIA_SERVICE_URL", "media-service"),
            Part::Ranking | Part::Trending => ("RANKING_SERVICE_URL", "ranking-service"),
            Part::Gateway => return None,
        })
    }

    /// The parts this one is built over (each in-process, or remote when its variable
    /// is set).
    pub fn needs(self) -> &'static [Part] {
        match self {
            Part::TrustSafety
            | Part::Identity
            | Part::Graph
            | Part::Ranking
            | Part::Trending
            | Part::Analytics
            | Part::Media => &[],
            // Avatars and banners are the user's own uploads, claimed in media.
            Part::Users => &[Part::Media],
            Part::Social => &[Part::Graph, Part::Users],
            // Posts are checked before publishing and read as moderation leaves them;
            // their media are the author's own uploads, claimed in media.
            Part::Content => &[
                Part::Social,
                Part::Graph,
                Part::Users,
                Part::TrustSafety,
                Part::Media,
            ],
            Part::Feed => &[Part::Content, Part::Graph, Part::Ranking, Part::Trending],
            Part::Search => &[Part::Content, Part::Social, Part::Users],
            // Who may notify whom: social's answer (blocks, block lists, mutes, follows)
            // and trust & safety's (suspended, silenced accounts; removed, hidden posts).
            Part::Notification => &[Part::Social, Part::TrustSafety],
            // Who may message whom, and the key directory's block check: social's answer;
            // suspended accounts neither write nor are written to (trust & safety).
            Part::Chat => &[Part::Social, Part::TrustSafety],
            Part::Gateway => &[
                Part::Identity,
                Part::Users,
                Part::Graph,
                Part::Social,
                Part::Content,
                Part::Feed,
                Part::Trending,
                Part::Search,
                Part::Notification,
                Part::TrustSafety,
                Part::Analytics,
                Part::Chat,
                Part::Media,
            ],
        }
    }
}

/// What one binary runs.
#[derive(Debug)]
pub struct Plan {
    /// The binary's name (errors start with it).
    pub service: &'static str,
    /// The registry entry whose ports it answers on.
    pub spec: &'static str,
    /// The parts it serves (HTTP routes, gRPC services when the spec has a gRPC port,
    /// event consumers).
    pub serves: &'static [Part],
    /// Parts it always runs in-process, even when their `*_SERVICE_URL` is set.
    pub local: &'static [Part],
    /// Every part in this one process (the all-in-one): on SQLite no other process
    /// writes, so hot reads may be cached in memory.
    pub all_in_one: bool,
    /// No storage of its own: every part it needs is remote, its variable defaulting to
    /// the Kubernetes service name (the gateway).
    pub stateless: bool,
}

impl Plan {
    const fn service(service: &'static str, serves: &'static [Part]) -> Self {
        Plan {
            service,
            spec: service,
            serves,
            local: &[],
            all_in_one: false,
            stateless: false,
        }
    }

    /// The plan of `service`.
    pub fn of(service: &str) -> Result<&'static Plan, String> {
        PLANS
            .iter()
            .find(|p| p.service == service)
            .ok_or_else(|| format!("no composition plan for {service}"))
    }
}

/// Every Nova binary.
pub const PLANS: &[Plan] = &[
    Plan {
        service: "nova",
        spec: "graphql-gateway",
        serves: &Part::ALL,
        local: &Part::ALL,
        all_in_one: true,
        stateless: false,
    },
    Plan::service("identity-service", &[Part::Identity]),
    Plan::service("user-service", &[Part::Users]),
    Plan::service("graph-service", &[Part::Graph]),
    Plan::service("social-service", &[Part::Social]),
    Plan::service("content-service", &[Part::Content]),
    // The feed reads posts for viewers in background work (fan-out backfill, rebuilds)
    // where no caller token exists to forward to content-service: content runs here.
    Plan {
        local: &[Part::Content],
        ..Plan::service("feed-service", &[Part::Feed])
    },
    Plan::service("ranking-service", &[Part::Ranking, Part::Trending]),
    // The index consumer reads posts as their authors see them (no caller token exists
    // in background work): content runs here, like in feed-service.
    Plan {
        local: &[Part::Content],
        ..Plan::service("search-service", &[Part::Search])
    },
    Plan::service("notification-service", &[Part::Notification]),
    Plan::service("trust-safety-service", &[Part::TrustSafety]),
    Plan::service("analytics-service", &[Part::Analytics]),
    Plan::service("realtime-chat-service", &[Part::Chat]),
    Plan::service("media-service", &[Part::Media]),
    Plan {
        stateless: true,
        ..Plan::service("graphql-gateway", &[Part::Gateway])
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plan_names_a_registered_service() {
        for plan in PLANS {
            assert!(
                nova_runtime::ServiceSpec::by_name(plan.spec).is_some(),
                "{}",
                plan.spec
            );
        }
    }

    #[test]
    fn parts_are_built_after_what_they_need() {
        for (i, part) in Part::ALL.iter().enumerate() {
            for need in part.needs() {
                assert!(Part::ALL[..i].contains(need), "{part:?} needs {need:?}");
            }
        }
    }

    #[test]
    fn every_part_but_the_gateway_has_a_service_variable() {
        for part in Part::ALL {
            assert_eq!(part.remote().is_none(), part == Part::Gateway, "{part:?}");
        }
    }
}
