//! [`ContentService`]: the content rules over the store and the [`Audience`] port.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::SubsecRound;
use nova_core::Page;
use nova_core::cursor::CursorCodec;
use nova_core::{
    Error, ErrorKind, MediaId, PostId, Principal, Result, SharedClock, SystemClock, Timestamp,
    UserId,
};
use nova_events::{EventEnvelope, RelayWaker};
use nova_proto::nova::content::v1 as events;
use prost::Message;
use sha2::{Digest, Sha256};
use unicode_segmentation::UnicodeSegmentation;

use crate::api::ContentApi;
use crate::attachments::Attachments;
use crate::audience::{Audience, AuthorAccess};
use crate::batch::PostWriter;
use crate::facets::{self, FacetKind};
use crate::model::{Edit, NewPost, Post, ReplyPolicy, Visibility};
use crate::moderation::{Moderation, PublishCheck, Restrictions, Screening};
use crate::store::{AuthorScope, ContentStore, PostInsert, PostRow, TimelineKind};

/// Most ids one batch read (`posts`, gRPC GetPosts) may carry: callers hydrate one page
/// (the gateway's loaders batch 100, a feed page is at most 100 posts).
pub const MAX_GET_POSTS: usize = 200;

/// Limits.
#[derive(Debug, Clone)]
pub struct ContentConfig {
    /// Longest post text, in graphemes.
    pub max_text: usize,
    /// Attachments per post.
    pub max_media: usize,
    /// Deepest reply.
    pub max_depth: i32,
}

impl Default for ContentConfig {
    fn default() -> Self {
        Self {
            max_text: 500,
            max_media: 4,
            max_depth: 64,
        }
    }
}

/// The content service.
pub struct ContentService {
    store: Arc<dyn ContentStore>,
    writer: PostWriter,
    audience: Arc<dyn Audience>,
    cursors: CursorCodec,
    clock: SharedClock,
    config: ContentConfig,
    relay: Option<RelayWaker>,
    publish_check: Option<Arc<dyn PublishCheck>>,
    moderation: Option<Arc<dyn Moderation>>,
    attachments: Option<Arc<dyn Attachments>>,
}

impl ContentService {
    /// A service over its ports; `cursors` authenticates pagination cursors.
    pub fn new(
        store: Arc<dyn ContentStore>,
        audience: Arc<dyn Audience>,
        cursors: CursorCodec,
    ) -> Self {
        Self {
            writer: PostWriter::new(store.clone()),
            store,
            audience,
            cursors,
            clock: SystemClock::shared(),
            config: ContentConfig::default(),
            relay: None,
            publish_check: None,
            moderation: None,
            attachments: None,
        }
    }
    /// Uses `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
    /// Changes the limits.
    pub fn with_config(mut self, config: ContentConfig) -> Self {
        self.config = config;
        self
    }
    /// Wakes the outbox relay after commits with events.
    pub fn with_relay(mut self, relay: RelayWaker) -> Self {
        self.relay = Some(relay);
        self
    }
    /// Screens every new post with `check` before storing it.
    pub fn with_publish_check(mut self, check: Arc<dyn PublishCheck>) -> Self {
        self.publish_check = Some(check);
        self
    }
    /// Reads posts as the moderation `moderation` reports leaves them (hidden: only the
    /// author; removed: nobody; suspended author: only the author).
    pub fn with_moderation(mut self, moderation: Arc<dyn Moderation>) -> Self {
        self.moderation = Some(moderation);
        self
    }
    /// Claims a new post's media through `attachments` (the media domain): only the
    /// author's own ready uploads, each on one post. Without it media ids are stored as
    /// given (tests and tools without a media domain).
    pub fn with_attachments(mut self, attachments: Arc<dyn Attachments>) -> Self {
        self.attachments = Some(attachments);
        self
    }

    fn now(&self) -> Timestamp {
        self.clock.now().trunc_subsecs(6)
    }

    /// Ends the reposts between `a` and `b` either way (they blocked one another), each
    /// with its `repost.removed` event; how many ended. Called by
    /// [`BlockedPairs`](crate::consumer::BlockedPairs) on `block.created`: the graph owns
    /// the block, content owns the reposts.
    pub async fn end_reposts_between(&self, a: UserId, b: UserId) -> Result<u64> {
        let mut ended = 0;
        for (user, post, author) in self.store.reposts_between(a, b).await? {
            let event = self.event(
                nova_events::types::REPOST_REMOVED,
                post,
                &repost_changed(user, post, author, ""),
            );
            if self.store.remove_repost(user, post, &[event]).await? {
                ended += 1;
            }
        }
        if ended > 0 {
            self.wake();
        }
        Ok(ended)
    }

    fn event(&self, event_type: &str, post: PostId, payload: &impl Message) -> EventEnvelope {
        EventEnvelope::new(
            event_type,
            post.to_string(),
            self.now(),
            payload.encode_to_vec(),
        )
    }

    fn wake(&self) {
        if let Some(relay) = &self.relay {
            relay.wake();
        }
    }

    /// The rows of `ids` the viewer may see, with their mentions, in the order asked.
    async fn visible_rows(
        &self,
        viewer: Option<UserId>,
        ids: &[PostId],
        keep_tombstones: bool,
    ) -> Result<Vec<PostRow>> {
        Ok(self
            .visible_rows_with_access(viewer, ids, keep_tombstones)
            .await?
            .0)
    }

    /// The moderation in force on the live rows among `rows` (none without a
    /// moderation port).
    async fn restrictions(&self, rows: &[PostRow]) -> Result<Restrictions> {
        let Some(moderation) = &self.moderation else {
            return Ok(Restrictions::default());
        };
        let live: Vec<&PostRow> = rows.iter().filter(|r| r.deleted_at.is_none()).collect();
        if live.is_empty() {
            return Ok(Restrictions::default());
        }
        let posts: Vec<PostId> = live.iter().map(|r| r.id).collect();
        let mut authors: Vec<UserId> = live.iter().map(|r| r.author_id).collect();
        authors.sort();
        authors.dedup();
        moderation.restrictions(&posts, &authors).await
    }

    /// [`Self::visible_rows`], social's answer for their authors (to travel with the
    /// posts) and the moderation in force on them (labels and reach for the views).
    async fn visible_rows_with_access(
        &self,
        viewer: Option<UserId>,
        ids: &[PostId],
        keep_tombstones: bool,
    ) -> Result<(Vec<PostRow>, Vec<AuthorAccess>, Restrictions)> {
        if ids.is_empty() {
            return Ok((Vec::new(), Vec::new(), Restrictions::default()));
        }
        let rows = self.store.posts(ids).await?;
        let mut authors: Vec<UserId> = rows.iter().map(|r| r.author_id).collect();
        authors.sort();
        authors.dedup();
        let access = self.audience.access(viewer, &authors).await?;
        let mention_posts: Vec<PostId> = rows
            .iter()
            .filter(|r| r.visibility == "mentioned")
            .map(|r| r.id)
            .collect();
        let mentions = self.store.mentions(&mention_posts).await?;
        let mut visible: Vec<PostRow> = rows
            .into_iter()
            .filter(|r| {
                if r.deleted_at.is_some() {
                    return keep_tombstones;
                }
                let a = access.iter().find(|a| a.author == r.author_id);
                let mentioned = viewer.is_some_and(|v| mentions.contains(&(r.id, v)));
                a.is_some_and(|a| may_see(viewer, r, a, mentioned))
            })
            .collect();
        let held = self.restrictions(&visible).await?;
        // A moderated post reads like a missing one, tombstones aside.
        visible.retain(|r| r.deleted_at.is_some() || held.allows(viewer, r.id, r.author_id));
        visible.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
        Ok((visible, access, held))
    }

    async fn visible_row(&self, viewer: Option<UserId>, id: PostId) -> Result<PostRow> {
        self.visible_rows(viewer, &[id], false)
            .await?
            .pop()
            .ok_or_else(Error::not_found)
    }

    /// The posts of `rows` as `viewer` sees them, carrying the labels and reach `held`
    /// reports (`None`: asked here).
    async fn views(
        &self,
        viewer: Option<UserId>,
        rows: Vec<PostRow>,
        held: Option<Restrictions>,
    ) -> Result<Vec<Post>> {
        let held = match held {
            Some(held) => held,
            None => self.restrictions(&rows).await?,
        };
        let ids: Vec<PostId> = rows.iter().map(|r| r.id).collect();
        let (liked, bookmarked) = match viewer {
            Some(v) => self.store.viewer_flags(v, &ids).await?,
            None => (Vec::new(), Vec::new()),
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let (labels, reach) = (held.labels(r.id), held.reach(r.id, r.author_id));
                let mut post = view(r, &liked, &bookmarked);
                if !post.deleted {
                    post.labels = labels;
                    post.reach = reach;
                }
                post
            })
            .collect())
    }

    /// Facets with mentions resolved; mentions of users the author may not interact with
    /// stay unresolved (no link, no notification, no access).
    async fn facets(
        &self,
        author: UserId,
        text: &str,
    ) -> Result<(Vec<facets::Facet>, Vec<UserId>, Vec<String>)> {
        let mut found = facets::extract(text);
        let names: Vec<String> = found
            .iter()
            .filter_map(|f| match &f.kind {
                FacetKind::Mention { username, .. } => Some(username.clone()),
                _ => None,
            })
            .collect();
        if names.is_empty() {
            let tags = facets::hashtags(&found);
            return Ok((found, Vec::new(), tags));
        }
        let resolved = self.audience.resolve(&names).await?;
        let ids: Vec<UserId> = resolved.iter().map(|(_, id)| *id).collect();
        let access = self.audience.access(Some(author), &ids).await?;
        let mut mentions = Vec::new();
        for facet in &mut found {
            if let FacetKind::Mention { username, user_id } = &mut facet.kind
                && let Some((_, id)) = resolved
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(username))
                && access.iter().any(|a| a.author == *id && a.can_interact)
            {
                *user_id = Some(*id);
                if !mentions.contains(id) {
                    mentions.push(*id);
                }
            }
        }
        let tags = facets::hashtags(&found);
        Ok((found, mentions, tags))
    }

    fn check_text(&self, text: &str, has_media: bool) -> Result<()> {
        if text.graphemes(true).count() > self.config.max_text {
            return Err(Error::invalid(
                "text",
                format!("must be at most {} characters", self.config.max_text),
            ));
        }
        if text.trim().is_empty() && !has_media {
            return Err(Error::invalid("text", "is required"));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(Error::invalid(
                "text",
                "must not contain control characters",
            ));
        }
        Ok(())
    }

    async fn own_row(&self, principal: &Principal, id: PostId) -> Result<PostRow> {
        let row = self.visible_row(Some(principal.user_id), id).await?;
        if row.author_id != principal.user_id {
            return Err(Error::from_kind(ErrorKind::PermissionDenied));
        }
        Ok(row)
    }

    fn page(&self, posts: Vec<Post>, first: usize, more: bool) -> Result<Page<Post>> {
        let end_cursor = posts
            .last()
            .map(|p| self.cursors.encode(&p.id))
            .transpose()?;
        Ok(Page {
            items: posts.into_iter().take(first).collect(),
            end_cursor,
            has_next_page: more,
        })
    }
}

/// The visibility rule, for one post and one viewer.
/// The payload of `repost.created` / `repost.removed` (the message social published
/// before reposts moved here, so consumers read both alike).
fn repost_changed(
    user: UserId,
    post: PostId,
    author: UserId,
    visibility: &str,
) -> nova_proto::nova::social::v1::RepostChanged {
    nova_proto::nova::social::v1::RepostChanged {
        user_id: user.to_string(),
        post_id: post.to_string(),
        author_id: author.to_string(),
        visibility: visibility.to_owned(),
    }
}

fn may_see(viewer: Option<UserId>, row: &PostRow, access: &AuthorAccess, mentioned: bool) -> bool {
    if !access.exists {
        return false;
    }
    if viewer == Some(row.author_id) {
        return true;
    }
    if !access.can_interact || (access.author_private && !access.viewer_follows) {
        return false;
    }
    match Visibility::parse(&row.visibility) {
        Visibility::Public => true,
        Visibility::Followers => access.viewer_follows,
        Visibility::Mentioned => mentioned,
    }
}

fn view(r: PostRow, liked: &[PostId], bookmarked: &[PostId]) -> Post {
    if r.deleted_at.is_some() {
        return tombstone(r);
    }
    Post {
        liked_by_viewer: liked.contains(&r.id),
        bookmarked_by_viewer: bookmarked.contains(&r.id),
        id: r.id,
        author_id: r.author_id,
        text: r.text,
        facets: serde_json::from_str(&r.facets).unwrap_or_default(),
        media: serde_json::from_str(&r.media).unwrap_or_default(),
        language: r.language,
        visibility: Visibility::parse(&r.visibility),
        content_warning: r.content_warning,
        reply_to: r.reply_to,
        root_id: r.root_id,
        depth: r.depth,
        quote_of: r.quote_of,
        reply_policy: ReplyPolicy::parse(&r.reply_policy),
        quotes_allowed: r.quotes_allowed,
        like_count: r.like_count,
        reply_count: r.reply_count,
        quote_count: r.quote_count,
        created_at: r.created_at,
        edited_at: r.edited_at,
        deleted: r.deleted_at.is_some(),
        access: None,
        labels: Vec::new(),
        reach: Default::default(),
    }
}

/// A deleted post as anyone sees it in its thread: where it was (id, parent, root,
/// depth, replies) and nothing about it. Tombstones are kept whatever their visibility
/// (the thread's shape needs them), so who wrote it, for whom, and what it was must not
/// show.
fn tombstone(r: PostRow) -> Post {
    Post {
        id: r.id,
        author_id: UserId::from_uuid(nova_core::id::Uuid::nil()),
        text: String::new(),
        facets: Vec::new(),
        media: Vec::new(),
        language: None,
        visibility: Visibility::Public,
        content_warning: None,
        reply_to: r.reply_to,
        root_id: r.root_id,
        depth: r.depth,
        quote_of: None,
        reply_policy: ReplyPolicy::Nobody,
        quotes_allowed: false,
        like_count: 0,
        reply_count: r.reply_count,
        quote_count: 0,
        created_at: r.created_at,
        edited_at: None,
        deleted: true,
        liked_by_viewer: false,
        bookmarked_by_viewer: false,
        access: None,
        labels: Vec::new(),
        reach: Default::default(),
    }
}

/// The payload of `like.created` / `like.removed`: who, which post, and the post's
/// hashtags and language (trending counts a like for each tag of the post).
fn like_changed(principal: &Principal, row: &PostRow) -> events::LikeChanged {
    let found: Vec<facets::Facet> = serde_json::from_str(&row.facets).unwrap_or_default();
    events::LikeChanged {
        post_id: row.id.to_string(),
        post_author_id: row.author_id.to_string(),
        user_id: principal.user_id.to_string(),
        hashtags: facets::hashtags(&found),
        language: row.language.clone().unwrap_or_default(),
        visibility: row.visibility.clone(),
    }
}

fn request_hash(post: &NewPost) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(&NewPost {
        idempotency_key: None,
        ..post.clone()
    })
    .map_err(Error::internal)?;
    Ok(Sha256::digest(json).to_vec())
}

fn language(tag: Option<&str>) -> Result<Option<String>> {
    match tag.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t)
            if t.len() <= 35
                && t.split('-').all(|p| {
                    !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric())
                }) =>
        {
            Ok(Some(t.to_owned()))
        }
        Some(_) => Err(Error::invalid(
            "language",
            "must be a BCP 47 tag such as en or pt-BR",
        )),
    }
}

#[async_trait]
impl ContentApi for ContentService {
    async fn create_post(&self, principal: &Principal, new: NewPost) -> Result<Post> {
        let me = principal.user_id;
        self.check_text(&new.text, !new.media.is_empty())?;
        if new.media.len() > self.config.max_media {
            return Err(Error::invalid(
                "media",
                format!("at most {} attachments", self.config.max_media),
            ));
        }
        if new.media.iter().any(|m| m.alt_text.chars().count() > 1500) {
            return Err(Error::invalid(
                "media",
                "alt text must be at most 1500 characters",
            ));
        }
        if new
            .content_warning
            .as_deref()
            .is_some_and(|cw| cw.chars().count() > 200)
        {
            return Err(Error::invalid(
                "content_warning",
                "must be at most 200 characters",
            ));
        }
        let lang = language(new.language.as_deref())?;
        if let Some(key) = &new.idempotency_key {
            if key.is_empty() || key.len() > 128 {
                return Err(Error::invalid(
                    "idempotency_key",
                    "must be 1 to 128 characters",
                ));
            }
            if let Some(existing) = self.store.by_idempotency_key(me, key).await? {
                if existing.request_hash.as_deref() != Some(request_hash(&new)?.as_slice()) {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        "idempotency_key: already used for a different post",
                    ));
                }
                return Ok(self.views(Some(me), vec![existing], None).await?.remove(0));
            }
        }
        // Screened after the idempotency look-up: a retried request is not checked twice.
        let (mut labels, mut held) = (None, None);
        if let Some(check) = &self.publish_check {
            match check.screen(me, &new.text).await? {
                Screening::Allow => {}
                Screening::Reject(reason) => return Err(Error::invalid("text", reason)),
                Screening::Hold(reason) => held = Some(reason),
                Screening::Label(l) if !l.is_empty() => labels = Some(l.join(", ")),
                Screening::Label(_) => {}
            }
        }
        let (facets, mentions, tags) = self.facets(me, &new.text).await?;
        let (mut root, mut depth, mut parent_author) = (None, 0, None);
        let mut parent_visibility = String::new();
        if let Some(parent_id) = new.reply_to {
            let parent = self
                .visible_row(Some(me), parent_id)
                .await
                .map_err(|_| Error::invalid("reply_to", "no such post"))?;
            // Only the policy in force is asked about (one look-up, or none).
            let allowed = parent.author_id == me
                || match ReplyPolicy::parse(&parent.reply_policy) {
                    ReplyPolicy::Everyone => true,
                    ReplyPolicy::Following => self
                        .audience
                        .access(Some(me), &[parent.author_id])
                        .await?
                        .first()
                        .is_some_and(|a| a.author_follows_viewer),
                    ReplyPolicy::Mentioned => self
                        .store
                        .mentions(&[parent.id])
                        .await?
                        .contains(&(parent.id, me)),
                    ReplyPolicy::Nobody => false,
                };
            if !allowed {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    "reply_to: the author limits who can reply",
                ));
            }
            if parent.depth + 1 > self.config.max_depth {
                return Err(Error::invalid("reply_to", "the thread is too deep"));
            }
            root = Some(parent.root_id.unwrap_or(parent.id));
            depth = parent.depth + 1;
            parent_author = Some(parent.author_id);
            parent_visibility = parent.visibility.clone();
        }
        let mut quote_author = None;
        if let Some(quoted_id) = new.quote_of {
            let quoted = self
                .visible_row(Some(me), quoted_id)
                .await
                .map_err(|_| Error::invalid("quote_of", "no such post"))?;
            if !quoted.quotes_allowed && quoted.author_id != me {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    "quote_of: the author does not allow quotes",
                ));
            }
            quote_author = Some(quoted.author_id);
        }
        let now = self.now();
        let id = PostId::new();
        // Held before it is stored: nobody else ever sees it until a moderator releases it.
        if let (Some(reason), Some(check)) = (&held, &self.publish_check) {
            check.hold(id, me, reason).await?;
        }
        if let (false, Some(attachments)) = (new.media.is_empty(), &self.attachments) {
            let ids: Vec<MediaId> = new.media.iter().map(|m| m.media_id).collect();
            if let Err(e) = attachments.attach(me, id, &ids).await {
                // A concurrent retry with the same key claimed them for its post first:
                // answer like a repeat (the same path as a lost insert race below, so a
                // different body under that key is still a conflict).
                if let Some(key) = &new.idempotency_key
                    && self.store.by_idempotency_key(me, key).await?.is_some()
                {
                    return self.create_post(principal, new).await;
                }
                return Err(match e.kind() {
                    ErrorKind::InvalidArgument { .. } => Error::invalid(
                        "media",
                        "every media id must be your own upload, ready, and not attached elsewhere",
                    ),
                    _ => e,
                });
            }
        }
        let row = PostRow {
            id,
            author_id: me,
            text: new.text.clone(),
            facets: serde_json::to_string(&facets).map_err(Error::internal)?,
            media: serde_json::to_string(&new.media).map_err(Error::internal)?,
            language: lang.clone(),
            visibility: new.visibility.as_str().to_owned(),
            content_warning: new
                .content_warning
                .clone()
                .filter(|c| !c.trim().is_empty())
                .or(labels),
            reply_to: new.reply_to,
            root_id: root,
            depth,
            quote_of: new.quote_of,
            reply_policy: new.reply_policy.as_str().to_owned(),
            quotes_allowed: new.quotes_allowed,
            like_count: 0,
            reply_count: 0,
            quote_count: 0,
            created_at: now,
            edited_at: None,
            deleted_at: None,
            idempotency_key: new.idempotency_key.clone(),
            request_hash: new
                .idempotency_key
                .as_ref()
                .map(|_| request_hash(&new))
                .transpose()?,
        };
        let payload = events::PostCreated {
            post_id: row.id.to_string(),
            author_id: me.to_string(),
            visibility: row.visibility.clone(),
            hashtags: tags.clone(),
            mention_ids: mentions.iter().map(ToString::to_string).collect(),
            reply_to_id: row.reply_to.map(|p| p.to_string()).unwrap_or_default(),
            reply_to_author_id: parent_author.map(|a| a.to_string()).unwrap_or_default(),
            root_id: row.root_id.map(|p| p.to_string()).unwrap_or_default(),
            quote_of_id: row.quote_of.map(|p| p.to_string()).unwrap_or_default(),
            language: lang.unwrap_or_default(),
            created_at_micros: now.timestamp_micros(),
            has_media: !new.media.is_empty(),
            reply_to_visibility: parent_visibility,
            quote_of_author_id: quote_author.map(|a| a.to_string()).unwrap_or_default(),
        };
        let mut outbox = vec![self.event(nova_events::types::POST_CREATED, row.id, &payload)];
        if row.reply_to.is_some() {
            outbox.push(self.event(nova_events::types::COMMENT_CREATED, row.id, &payload));
        }
        // Just created: nobody has liked or bookmarked it yet, no need to ask.
        let post = view(row.clone(), &[], &[]);
        let insert = PostInsert {
            row,
            mentions,
            hashtags: tags,
            events: outbox,
        };
        match self.writer.insert(insert).await {
            // A concurrent request with the same key won: answer like a repeat.
            Err(e) if e.kind() == &ErrorKind::Conflict && new.idempotency_key.is_some() => {
                return self.create_post(principal, new).await;
            }
            other => other?,
        }
        self.wake();
        Ok(post)
    }

    async fn post(&self, viewer: Option<&Principal>, id: PostId) -> Result<Post> {
        let viewer = viewer.map(|p| p.user_id);
        let (rows, _, held) = self.visible_rows_with_access(viewer, &[id], false).await?;
        let row = rows.into_iter().next().ok_or_else(Error::not_found)?;
        Ok(self.views(viewer, vec![row], Some(held)).await?.remove(0))
    }

    async fn posts(&self, viewer: Option<&Principal>, ids: &[PostId]) -> Result<Vec<Post>> {
        nova_core::error::cap("post_ids", ids.len(), MAX_GET_POSTS)?;
        let viewer = viewer.map(|p| p.user_id);
        let (rows, access, held) = self.visible_rows_with_access(viewer, ids, false).await?;
        let mut posts = self.views(viewer, rows, Some(held)).await?;
        for post in &mut posts {
            post.access = access.iter().find(|a| a.author == post.author_id).copied();
        }
        Ok(posts)
    }

    async fn edit_post(&self, principal: &Principal, id: PostId, text: &str) -> Result<Post> {
        let row = self.own_row(principal, id).await?;
        let media: Vec<crate::model::MediaAttachment> =
            serde_json::from_str(&row.media).unwrap_or_default();
        self.check_text(text, !media.is_empty())?;
        let (facets, mentions, tags) = self.facets(principal.user_id, text).await?;
        let event = self.event(
            nova_events::types::POST_EDITED,
            id,
            &events::PostEdited {
                post_id: id.to_string(),
                author_id: principal.user_id.to_string(),
                hashtags: tags.clone(),
            },
        );
        let facets_json = serde_json::to_string(&facets).map_err(Error::internal)?;
        self.store
            .edit(
                id,
                principal.user_id,
                text,
                &facets_json,
                &tags,
                &mentions,
                self.now(),
                &[event],
            )
            .await?;
        self.wake();
        self.post(Some(principal), id).await
    }

    async fn edit_history(&self, viewer: Option<&Principal>, id: PostId) -> Result<Vec<Edit>> {
        self.visible_row(viewer.map(|p| p.user_id), id).await?;
        self.store.edits(id).await
    }

    async fn delete_post(&self, principal: &Principal, id: PostId) -> Result<()> {
        self.own_row(principal, id).await?;
        let event = self.event(
            nova_events::types::POST_DELETED,
            id,
            &events::PostDeleted {
                post_id: id.to_string(),
                author_id: principal.user_id.to_string(),
            },
        );
        self.store.delete(id, self.now(), &[event]).await?;
        self.wake();
        Ok(())
    }

    async fn like(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let row = &self.visible_row(Some(principal.user_id), id).await?;
        let event = self.event(
            nova_events::types::LIKE_CREATED,
            id,
            &like_changed(principal, row),
        );
        let liked = self
            .store
            .like(principal.user_id, id, self.now(), &[event])
            .await?;
        self.wake();
        Ok(liked)
    }

    async fn unlike(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let rows = self.store.posts(&[id]).await?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        let event = self.event(
            nova_events::types::LIKE_REMOVED,
            id,
            &like_changed(principal, row),
        );
        let unliked = self.store.unlike(principal.user_id, id, &[event]).await?;
        self.wake();
        Ok(unliked)
    }

    async fn repost(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let me = principal.user_id;
        // Seeing the post includes "no block either way" with its author.
        let row = self.visible_row(Some(me), id).await?;
        let author = row.author_id;
        // The visibility travels with the event: trending must not count reposts of
        // posts that are not public.
        let event = self.event(
            nova_events::types::REPOST_CREATED,
            id,
            &repost_changed(me, id, author, &row.visibility),
        );
        let created = self
            .store
            .add_repost(me, id, author, self.now(), &[event])
            .await?;
        self.wake();
        Ok(created)
    }

    async fn unrepost(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let me = principal.user_id;
        let Some(author) = self.store.repost_author(me, id).await? else {
            return Ok(false);
        };
        let event = self.event(
            nova_events::types::REPOST_REMOVED,
            id,
            &repost_changed(me, id, author, ""),
        );
        let removed = self.store.remove_repost(me, id, &[event]).await?;
        self.wake();
        Ok(removed)
    }

    async fn bookmark(&self, principal: &Principal, id: PostId) -> Result<bool> {
        self.visible_row(Some(principal.user_id), id).await?;
        self.store.bookmark(principal.user_id, id, self.now()).await
    }

    async fn unbookmark(&self, principal: &Principal, id: PostId) -> Result<bool> {
        self.store.unbookmark(principal.user_id, id).await
    }

    async fn bookmarks(&self, principal: &Principal, first: u32) -> Result<Vec<Post>> {
        let ids = self
            .store
            .bookmarks(principal.user_id, first.clamp(1, 100))
            .await?;
        self.posts(Some(principal), &ids).await
    }

    async fn thread(
        &self,
        viewer: Option<&Principal>,
        root: PostId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Post>> {
        let viewer = viewer.map(|p| p.user_id);
        self.visible_row(viewer, root).await?;
        let first = first.clamp(1, 100) as usize;
        let after: Option<PostId> = self.cursors.decode_opt(after)?;
        let rows = self.store.thread(root, after, first as u32 + 1).await?;
        let more = rows.len() > first;
        let ids: Vec<PostId> = rows.iter().take(first).map(|r| r.id).collect();
        let (visible, _, held) = self.visible_rows_with_access(viewer, &ids, true).await?;
        let posts = self.views(viewer, visible, Some(held)).await?;
        // The cursor follows the last row read, seen or not, so hidden replies never stall a page.
        let end_cursor = ids.last().map(|id| self.cursors.encode(id)).transpose()?;
        Ok(Page {
            items: posts,
            end_cursor,
            has_next_page: more,
        })
    }

    async fn author_timeline(
        &self,
        viewer: Option<&Principal>,
        author: UserId,
        kind: TimelineKind,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Post>> {
        let viewer_id = viewer.map(|p| p.user_id);
        let access = self.audience.access(viewer_id, &[author]).await?;
        let a = access.first().copied().ok_or_else(Error::not_found)?;
        let own = viewer_id == Some(author);
        if !a.exists || (!own && (!a.can_interact || (a.author_private && !a.viewer_follows))) {
            return Err(Error::not_found());
        }
        let scope = AuthorScope {
            followers: a.viewer_follows,
            all: own,
        };
        let first = first.clamp(1, 100) as usize;
        let before: Option<PostId> = self.cursors.decode_opt(after)?;
        let rows = self
            .store
            .author_posts(author, kind, scope, viewer_id, before, first as u32 + 1)
            .await?;
        let more = rows.len() > first;
        let mut rows: Vec<PostRow> = rows.into_iter().take(first).collect();
        let last_read = rows.last().map(|r| r.id);
        // Moderated posts drop out of the author's timeline as they do everywhere.
        let held = self.restrictions(&rows).await?;
        rows.retain(|r| r.deleted_at.is_some() || held.allows(viewer_id, r.id, r.author_id));
        let posts = self.views(viewer_id, rows, Some(held)).await?;
        let mut page = self.page(posts, first, more)?;
        // The cursor follows the last row read, seen or not, so moderated posts never
        // stall a page.
        page.end_cursor = last_read.map(|id| self.cursors.encode(&id)).transpose()?;
        Ok(page)
    }
}
