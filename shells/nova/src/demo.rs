//! `nova demo`: a small, realistic network seeded through the domains' own APIs, so a
//! newcomer who opens GraphiQL sees a home feed and trending tags at once.
//!
//! Everything goes through the same calls a client makes (registration hashes real
//! passwords, follows and likes write their events), so the feed and trending consumers
//! build their state from the seeded events exactly as they would in production.
//! Seeding is idempotent: a database that already has the demo users is left alone.

use std::sync::Arc;

use nova_content::ContentApi;
use nova_content::model::NewPost;
use nova_core::{Principal, SessionId};
use nova_identity::IdentityApi;
use nova_identity::model::{RegisterRequest, RequestContext};
use nova_social::SocialApi;
use nova_user::UserApi;
use nova_user::model::ProfileUpdate;

/// Every demo account's password (the demo is for a laptop, never for production).
pub const DEMO_PASSWORD: &str = "nova-demo-password";

/// Username, display name, bio.
const PEOPLE: &[(&str, &str, &str)] = &[
    (
        "ada",
        "Ada Lovelace",
        "Notes on the analytical engine. Poetical science.",
    ),
    (
        "grace",
        "Grace Hopper",
        "Compilers, nanoseconds and asking forgiveness.",
    ),
    ("alan", "Alan Turing", "Morphogenesis on weekends."),
    (
        "margaret",
        "Margaret Hamilton",
        "Software engineering, the original.",
    ),
    ("linus", "Linus Torvalds", "Talk is cheap."),
    ("barbara", "Barbara Liskov", "Substitutable since 1987."),
    ("ken", "Ken Thompson", "Plan 9 from user space."),
    (
        "radia",
        "Radia Perlman",
        "Spanning trees, not spanning excuses.",
    ),
];

/// Who follows whom, by index into [`PEOPLE`]: everyone follows Ada and Grace, and a
/// few smaller circles overlap.
const FOLLOWS: &[(usize, usize)] = &[
    (1, 0),
    (2, 0),
    (3, 0),
    (4, 0),
    (5, 0),
    (6, 0),
    (7, 0),
    (0, 1),
    (2, 1),
    (3, 1),
    (4, 1),
    (5, 1),
    (6, 1),
    (7, 1),
    (0, 2),
    (3, 2),
    (4, 6),
    (6, 4),
    (5, 3),
    (7, 5),
    (0, 3),
    (1, 7),
];

/// Author (index into [`PEOPLE`]) and text; hashtags and mentions are facets.
const POSTS: &[(usize, &str)] = &[
    (
        0,
        "The engine weaves algebraic patterns just as the loom weaves flowers. #rustlang #history",
    ),
    (
        1,
        "A ship in port is safe, but that's not what ships are built for. Ship the #rustlang release! #compilers",
    ),
    (
        2,
        "Can machines think? Let's ask the borrow checker. #rustlang #ai",
    ),
    (
        3,
        "Error handling is not an afterthought; it is the design. #rustlang #reliability",
    ),
    (
        4,
        "New scheduler patch is out, benchmarks inside. #linux #performance",
    ),
    (
        5,
        "Data abstraction is still the best idea we have. #programming #rustlang",
    ),
    (6, "Small tools, composed. #unix #programming"),
    (
        7,
        "Design protocols that heal themselves. #networking #reliability",
    ),
    (
        0,
        "@grace what would you name a compiler for looms? #history",
    ),
    (
        1,
        "Nanoseconds are 30 cm of wire. Mind your latency budgets. #performance",
    ),
    (4, "Reviewing #rustlang in the kernel tree today."),
    (
        3,
        "Apollo guidance lessons: priority scheduling saves missions. #reliability #history",
    ),
];

/// Posts each person likes, by index into [`POSTS`]: every #rustlang post gets likes
/// from at least five distinct accounts, so it passes trending's minimum.
fn likes_of(person: usize) -> Vec<usize> {
    let rustlang = [0, 1, 2, 3, 5, 10];
    let mut liked: Vec<usize> = rustlang
        .iter()
        .copied()
        .filter(|&p| POSTS[p].0 != person)
        .collect();
    liked.push((person * 5 + 4) % POSTS.len());
    liked.sort_unstable();
    liked.dedup();
    liked.retain(|&p| POSTS[p].0 != person);
    liked
}

/// The domain APIs the demo writes through.
pub struct DemoDomains {
    /// Accounts (registration with real password hashing).
    pub identity: Arc<dyn IdentityApi>,
    /// Profiles.
    pub users: Arc<dyn UserApi>,
    /// Follows.
    pub social: Arc<dyn SocialApi>,
    /// Posts and likes.
    pub content: Arc<dyn ContentApi>,
}

impl DemoDomains {
    /// The demo's domains out of the all-in-one's.
    pub fn of(d: &nova_app::Domains) -> Result<Self, String> {
        let missing = |part: &str| format!("demo: nova runs no {part} domain");
        Ok(Self {
            identity: d.identity.clone().ok_or_else(|| missing("identity"))?,
            users: d.users.clone().ok_or_else(|| missing("user"))?,
            social: d.social.clone().ok_or_else(|| missing("social"))?,
            content: d.content.clone().ok_or_else(|| missing("content"))?,
        })
    }

    /// Seeds the demo network and says what it did on stdout.
    pub async fn seed_and_report(&self) -> Result<(), String> {
        let seeded = seed(self).await?;
        if seeded.accounts == 0 {
            println!("nova demo: the demo network is already there");
        } else {
            println!(
                "nova demo: seeded {} accounts, {} follows, {} posts, {} likes; log in as ada, grace, alan, ... with password {}",
                seeded.accounts, seeded.follows, seeded.posts, seeded.likes, DEMO_PASSWORD
            );
        }
        Ok(())
    }
}

/// What the demo did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSeed {
    /// Accounts created (0 when the demo was already there).
    pub accounts: usize,
    /// Follows made.
    pub follows: usize,
    /// Posts created.
    pub posts: usize,
    /// Likes given.
    pub likes: usize,
}

/// Seeds the demo network unless its first account already exists.
pub async fn seed(d: &DemoDomains) -> Result<DemoSeed, String> {
    let mut done = DemoSeed {
        accounts: 0,
        follows: 0,
        posts: 0,
        likes: 0,
    };
    if d.users.profile_by_username(PEOPLE[0].0).await.is_ok() {
        return Ok(done);
    }
    let ctx = RequestContext::default();
    let mut people = Vec::with_capacity(PEOPLE.len());
    for (username, name, bio) in PEOPLE {
        let account = d
            .identity
            .register(
                RegisterRequest {
                    email: format!("{username}@demo.nova.invalid"),
                    username: (*username).to_owned(),
                    password: DEMO_PASSWORD.to_owned(),
                },
                &ctx,
            )
            .await
            .map_err(|e| format!("demo: registering {username}: {e}"))?;
        // In one process the domains trust a principal; a session id is all it needs.
        let principal = Principal::user(account.id, SessionId::new());
        let update = ProfileUpdate {
            display_name: Some((*name).to_owned()),
            bio: Some((*bio).to_owned()),
            ..ProfileUpdate::default()
        };
        d.users
            .update_profile(&principal, update)
            .await
            .map_err(|e| format!("demo: profile of {username}: {e}"))?;
        people.push(principal);
        done.accounts += 1;
    }
    for &(follower, followee) in FOLLOWS {
        d.social
            .follow(&people[follower], people[followee].user_id)
            .await
            .map_err(|e| format!("demo: follow: {e}"))?;
        done.follows += 1;
    }
    let mut posts = Vec::with_capacity(POSTS.len());
    for &(author, text) in POSTS {
        let post = d
            .content
            .create_post(
                &people[author],
                NewPost {
                    text: text.to_owned(),
                    language: Some("en".to_owned()),
                    ..NewPost::default()
                },
            )
            .await
            .map_err(|e| format!("demo: post by {}: {e}", PEOPLE[author].0))?;
        posts.push(post.id);
        done.posts += 1;
    }
    for (person, principal) in people.iter().enumerate() {
        for post in likes_of(person) {
            d.content
                .like(principal, posts[post])
                .await
                .map_err(|e| format!("demo: like: {e}"))?;
            done.likes += 1;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rustlang_post_is_liked_by_at_least_five_accounts_and_nobody_likes_their_own() {
        for (index, (author, text)) in POSTS.iter().enumerate() {
            let likers = (0..PEOPLE.len())
                .filter(|&p| likes_of(p).contains(&index))
                .count();
            assert!(likes_of(*author).iter().all(|&p| POSTS[p].0 != *author));
            if text.contains("#rustlang") {
                assert!(likers >= 5, "post {index} has {likers} likers");
            }
        }
    }

    #[test]
    fn follows_refer_to_real_people_and_never_to_oneself() {
        assert!(
            FOLLOWS
                .iter()
                .all(|&(a, b)| a != b && a < PEOPLE.len() && b < PEOPLE.len())
        );
    }
}
