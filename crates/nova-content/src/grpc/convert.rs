//! Model ↔ protobuf conversions for the content gRPC adapters: request values that do
//! not parse are `InvalidArgument` naming the field; response values that do not parse
//! are `Internal` (a bug or version skew on the server side).

use nova_core::Page;
use nova_core::{Error, Result, Timestamp, UserId};
use nova_proto::nova::common::v1 as common;
use nova_proto::nova::content::v1 as pb;

use crate::facets::{Facet, FacetKind};
use crate::model::{Edit, MediaAttachment, NewPost, Post, ReplyPolicy, Visibility};
use crate::store::TimelineKind;

/// `Internal`: the content service answered something this client cannot read.
pub(super) fn bad_response(field: &str) -> Error {
    Error::internal(format!(
        "content gRPC response: missing or malformed `{field}`"
    ))
}

pub(super) fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn timestamp_from(t: &prost_types::Timestamp) -> Option<Timestamp> {
    let nanos = u32::try_from(t.nanos).ok()?;
    chrono::DateTime::from_timestamp(t.seconds, nanos)
}

/// An id from a request.
pub(super) fn id_arg<T: std::str::FromStr>(value: &str, field: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::invalid(field, "must be an id (UUID)"))
}

/// An optional id from a request (unset or empty: none).
fn opt_id_arg<T: std::str::FromStr>(value: Option<&str>, field: &str) -> Result<Option<T>> {
    match value {
        None | Some("") => Ok(None),
        Some(v) => id_arg(v, field).map(Some),
    }
}

/// An id from a response.
pub(super) fn id_from<T: std::str::FromStr>(value: &str, field: &str) -> Result<T> {
    value.parse().map_err(|_| bad_response(field))
}

fn opt_id_from<T: std::str::FromStr>(value: Option<&str>, field: &str) -> Result<Option<T>> {
    value.map(|v| id_from(v, field)).transpose()
}

fn visibility(v: Visibility) -> pb::Visibility {
    match v {
        Visibility::Public => pb::Visibility::Public,
        Visibility::Followers => pb::Visibility::Followers,
        Visibility::Mentioned => pb::Visibility::Mentioned,
    }
}

/// `None` for UNSPECIFIED and unknown values.
fn visibility_from(value: i32) -> Option<Visibility> {
    match pb::Visibility::try_from(value).ok()? {
        pb::Visibility::Public => Some(Visibility::Public),
        pb::Visibility::Followers => Some(Visibility::Followers),
        pb::Visibility::Mentioned => Some(Visibility::Mentioned),
        pb::Visibility::Unspecified => None,
    }
}

fn reply_policy(p: ReplyPolicy) -> pb::ReplyPolicy {
    match p {
        ReplyPolicy::Everyone => pb::ReplyPolicy::Everyone,
        ReplyPolicy::Following => pb::ReplyPolicy::Following,
        ReplyPolicy::Mentioned => pb::ReplyPolicy::Mentioned,
        ReplyPolicy::Nobody => pb::ReplyPolicy::Nobody,
    }
}

fn reply_policy_from(value: i32) -> Option<ReplyPolicy> {
    match pb::ReplyPolicy::try_from(value).ok()? {
        pb::ReplyPolicy::Everyone => Some(ReplyPolicy::Everyone),
        pb::ReplyPolicy::Following => Some(ReplyPolicy::Following),
        pb::ReplyPolicy::Mentioned => Some(ReplyPolicy::Mentioned),
        pb::ReplyPolicy::Nobody => Some(ReplyPolicy::Nobody),
        pb::ReplyPolicy::Unspecified => None,
    }
}

pub(super) fn timeline_kind(k: TimelineKind) -> pb::TimelineKind {
    match k {
        TimelineKind::Posts => pb::TimelineKind::Posts,
        TimelineKind::Replies => pb::TimelineKind::Replies,
        TimelineKind::Media => pb::TimelineKind::Media,
    }
}

pub(super) fn timeline_kind_arg(value: i32) -> Result<TimelineKind> {
    match pb::TimelineKind::try_from(value) {
        Ok(pb::TimelineKind::Unspecified | pb::TimelineKind::Posts) => Ok(TimelineKind::Posts),
        Ok(pb::TimelineKind::Replies) => Ok(TimelineKind::Replies),
        Ok(pb::TimelineKind::Media) => Ok(TimelineKind::Media),
        Err(_) => Err(Error::invalid("kind", "must be posts, replies or media")),
    }
}

fn media(m: MediaAttachment) -> pb::MediaAttachment {
    pb::MediaAttachment {
        media_id: m.media_id.to_string(),
        alt_text: m.alt_text,
    }
}

fn media_arg(m: pb::MediaAttachment) -> Result<MediaAttachment> {
    Ok(MediaAttachment {
        media_id: id_arg(&m.media_id, "media")?,
        alt_text: m.alt_text,
    })
}

fn media_from(m: pb::MediaAttachment) -> Result<MediaAttachment> {
    Ok(MediaAttachment {
        media_id: id_from(&m.media_id, "media")?,
        alt_text: m.alt_text,
    })
}

fn facet(f: Facet) -> pb::Facet {
    let kind = match f.kind {
        FacetKind::Hashtag { tag } => pb::facet::Kind::Hashtag(tag),
        FacetKind::Mention { username, user_id } => pb::facet::Kind::Mention(pb::Mention {
            username,
            user_id: user_id.map(|u| u.to_string()),
        }),
        FacetKind::Link { url } => pb::facet::Kind::Link(url),
    };
    pb::Facet {
        start: f.start as u64,
        end: f.end as u64,
        kind: Some(kind),
    }
}

fn facet_from(f: pb::Facet) -> Result<Facet> {
    let kind = match f.kind.ok_or_else(|| bad_response("facets"))? {
        pb::facet::Kind::Hashtag(tag) => FacetKind::Hashtag { tag },
        pb::facet::Kind::Mention(m) => FacetKind::Mention {
            username: m.username,
            user_id: opt_id_from(m.user_id.as_deref(), "facets")?,
        },
        pb::facet::Kind::Link(url) => FacetKind::Link { url },
    };
    let offset = |v: u64| usize::try_from(v).map_err(|_| bad_response("facets"));
    Ok(Facet {
        kind,
        start: offset(f.start)?,
        end: offset(f.end)?,
    })
}

pub(super) fn post(p: Post) -> pb::Post {
    pb::Post {
        access: p.access.as_ref().map(nova_social::grpc::access_to_pb),
        id: p.id.to_string(),
        author_id: p.author_id.to_string(),
        text: p.text,
        facets: p.facets.into_iter().map(facet).collect(),
        media: p.media.into_iter().map(media).collect(),
        language: p.language,
        visibility: visibility(p.visibility) as i32,
        content_warning: p.content_warning,
        reply_to: p.reply_to.map(|id| id.to_string()),
        root_id: p.root_id.map(|id| id.to_string()),
        depth: p.depth,
        quote_of: p.quote_of.map(|id| id.to_string()),
        reply_policy: reply_policy(p.reply_policy) as i32,
        quotes_allowed: p.quotes_allowed,
        like_count: p.like_count,
        reply_count: p.reply_count,
        quote_count: p.quote_count,
        created_at: Some(timestamp(p.created_at)),
        edited_at: p.edited_at.map(timestamp),
        deleted: p.deleted,
        liked_by_viewer: p.liked_by_viewer,
        bookmarked_by_viewer: p.bookmarked_by_viewer,
        labels: p.labels,
        reduced_reach: p.reach.reduced,
        author_silenced: p.reach.followers_only,
    }
}

pub(super) fn post_from(p: pb::Post) -> Result<Post> {
    let author_id: UserId = id_from(&p.author_id, "author_id")?;
    let access = match &p.access {
        Some(a) if a.author_id != p.author_id => return Err(bad_response("access")),
        Some(a) => Some(nova_social::grpc::access_from_pb(author_id, a)),
        None => None,
    };
    Ok(Post {
        access,
        id: id_from(&p.id, "id")?,
        author_id,
        text: p.text,
        facets: p
            .facets
            .into_iter()
            .map(facet_from)
            .collect::<Result<_>>()?,
        media: p.media.into_iter().map(media_from).collect::<Result<_>>()?,
        language: p.language,
        visibility: visibility_from(p.visibility).ok_or_else(|| bad_response("visibility"))?,
        content_warning: p.content_warning,
        reply_to: opt_id_from(p.reply_to.as_deref(), "reply_to")?,
        root_id: opt_id_from(p.root_id.as_deref(), "root_id")?,
        depth: p.depth,
        quote_of: opt_id_from(p.quote_of.as_deref(), "quote_of")?,
        reply_policy: reply_policy_from(p.reply_policy)
            .ok_or_else(|| bad_response("reply_policy"))?,
        quotes_allowed: p.quotes_allowed,
        like_count: p.like_count,
        reply_count: p.reply_count,
        quote_count: p.quote_count,
        created_at: p
            .created_at
            .as_ref()
            .and_then(timestamp_from)
            .ok_or_else(|| bad_response("created_at"))?,
        edited_at: match &p.edited_at {
            None => None,
            Some(t) => Some(timestamp_from(t).ok_or_else(|| bad_response("edited_at"))?),
        },
        deleted: p.deleted,
        liked_by_viewer: p.liked_by_viewer,
        bookmarked_by_viewer: p.bookmarked_by_viewer,
        labels: p.labels,
        reach: crate::moderation::Reach {
            reduced: p.reduced_reach,
            followers_only: p.author_silenced,
        },
    })
}

pub(super) fn posts_from(posts: Vec<pb::Post>) -> Result<Vec<Post>> {
    posts.into_iter().map(post_from).collect()
}

pub(super) fn new_post(n: NewPost) -> pb::CreatePostRequest {
    pb::CreatePostRequest {
        text: n.text,
        media: n.media.into_iter().map(media).collect(),
        language: n.language,
        visibility: visibility(n.visibility) as i32,
        content_warning: n.content_warning,
        reply_to: n.reply_to.map(|id| id.to_string()),
        quote_of: n.quote_of.map(|id| id.to_string()),
        reply_policy: reply_policy(n.reply_policy) as i32,
        quotes_allowed: Some(n.quotes_allowed),
        idempotency_key: n.idempotency_key,
    }
}

/// A request's post; unspecified enums take the same defaults as the REST body.
pub(super) fn new_post_arg(r: pb::CreatePostRequest) -> Result<NewPost> {
    let visibility = match r.visibility {
        0 => Visibility::default(),
        v => visibility_from(v).ok_or_else(|| {
            Error::invalid("visibility", "must be public, followers or mentioned")
        })?,
    };
    let reply_policy = match r.reply_policy {
        0 => ReplyPolicy::default(),
        v => reply_policy_from(v).ok_or_else(|| {
            Error::invalid(
                "reply_policy",
                "must be everyone, following, mentioned or nobody",
            )
        })?,
    };
    Ok(NewPost {
        text: r.text,
        media: r.media.into_iter().map(media_arg).collect::<Result<_>>()?,
        language: r.language,
        visibility,
        content_warning: r.content_warning,
        reply_to: opt_id_arg(r.reply_to.as_deref(), "reply_to")?,
        quote_of: opt_id_arg(r.quote_of.as_deref(), "quote_of")?,
        reply_policy,
        quotes_allowed: r.quotes_allowed.unwrap_or(true),
        idempotency_key: r.idempotency_key,
    })
}

pub(super) fn edit(e: Edit) -> pb::Edit {
    pb::Edit {
        edited_at: Some(timestamp(e.edited_at)),
        editor_id: e.editor_id.to_string(),
        previous_text: e.previous_text,
    }
}

pub(super) fn edit_from(e: pb::Edit) -> Result<Edit> {
    Ok(Edit {
        edited_at: e
            .edited_at
            .as_ref()
            .and_then(timestamp_from)
            .ok_or_else(|| bad_response("edited_at"))?,
        editor_id: id_from(&e.editor_id, "editor_id")?,
        previous_text: e.previous_text,
    })
}

pub(super) fn page(p: Page<Post>) -> pb::PostPage {
    pb::PostPage {
        posts: p.items.into_iter().map(post).collect(),
        page_info: Some(common::PageInfo {
            end_cursor: p.end_cursor.unwrap_or_default(),
            has_next_page: p.has_next_page,
        }),
    }
}

pub(super) fn page_from(p: pb::PostPage) -> Result<Page<Post>> {
    let info = p.page_info.ok_or_else(|| bad_response("page_info"))?;
    Ok(Page {
        items: posts_from(p.posts)?,
        end_cursor: (!info.end_cursor.is_empty()).then_some(info.end_cursor),
        has_next_page: info.has_next_page,
    })
}
