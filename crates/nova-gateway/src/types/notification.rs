//! Notifications: the list, its folder, the filtering policy, and the actors of a group.

use async_graphql::{ComplexObject, Context, Enum, SimpleObject};
use nova_core::{Error, Page};
use nova_notification::{Folder, NotificationApi};
use std::sync::Arc;

use super::{User, load_users};
use crate::context::RequestCtx;
use crate::error::{GqlResult, IntoGql};
use crate::paging::{PageInfo, PageRequest};
use crate::ports::Notification;

#[ComplexObject]
impl Notification {
    /// The latest few actors, newest first (those the caller may no longer see are left
    /// out); `count` says how many there are in all.
    async fn actors(&self, ctx: &Context<'_>) -> GqlResult<Vec<User>> {
        load_users(ctx, &self.actor_ids).await
    }
}

/// Which notifications.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum NotificationFolder {
    /// The notifications list.
    #[default]
    Inbox,
    /// What the caller's policy filtered (accounts they do not follow, ...).
    Requests,
}

impl From<NotificationFolder> for Folder {
    fn from(f: NotificationFolder) -> Self {
        match f {
            NotificationFolder::Inbox => Folder::Inbox,
            NotificationFolder::Requests => Folder::Requests,
        }
    }
}

/// The caller's notification filters.
#[derive(SimpleObject)]
pub(crate) struct NotificationPolicy {
    /// Notifications from accounts the caller does not follow go to `REQUESTS`.
    pub filter_not_following: bool,
}

/// A page of notifications.
#[derive(SimpleObject)]
pub(crate) struct NotificationConnection {
    /// The notifications, newest activity first.
    pub edges: Vec<NotificationEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// One notification in a page.
#[derive(SimpleObject)]
pub(crate) struct NotificationEdge {
    /// Resume after this one.
    pub cursor: String,
    /// The notification.
    pub node: Notification,
}

impl NotificationConnection {
    /// From a domain page (fetched with `req.fetch()`).
    pub fn from_page(req: &PageRequest, page: Page<nova_notification::Notification>) -> Self {
        let window = req.window(page.items, page.end_cursor, page.has_next_page);
        Self {
            edges: window
                .edges
                .into_iter()
                .map(|(cursor, n)| NotificationEdge {
                    cursor,
                    node: n.into(),
                })
                .collect(),
            page_info: window.page_info,
        }
    }
}

/// The notification domain, or `UNAVAILABLE` where this gateway has none.
pub(crate) fn notification_api(call: &RequestCtx) -> GqlResult<Arc<dyn NotificationApi>> {
    call.domains
        .notification
        .clone()
        .ok_or_else(|| Error::unavailable("notifications are not served here"))
        .gql()
}
