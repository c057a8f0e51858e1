//! Typed identifiers.
//!
//! Every entity gets its own id type so a `PostId` can never be passed where a `UserId`
//! is expected. All are UUIDv7: they sort by creation time, which keeps B-tree inserts
//! append-mostly and lets cursors order by id alone.

use std::str::FromStr;

use crate::Error;

/// Declares a typed UUIDv7 id.
///
/// ```
/// nova_core::define_id!(
///     /// A widget.
///     WidgetId
/// );
/// let a = WidgetId::new();
/// let b = WidgetId::new();
/// assert!(a < b, "UUIDv7 ids created later sort later");
/// assert_eq!(a, a.to_string().parse().unwrap());
/// ```
#[macro_export]
macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $crate::id::Uuid);

        impl $name {
            /// A fresh, time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self($crate::id::Uuid::now_v7())
            }
            /// Wraps an existing UUID (read from storage or the wire).
            pub const fn from_uuid(uuid: $crate::id::Uuid) -> Self {
                Self(uuid)
            }
            /// The underlying UUID.
            pub const fn as_uuid(&self) -> $crate::id::Uuid {
                self.0
            }
            /// Parses an id that arrived in a request; a bad value is
            /// `InvalidArgument` naming `field`.
            pub fn parse_field(value: &str, field: &str) -> Result<Self, $crate::Error> {
                $crate::id::parse_uuid(value, field).map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse_field(s, "id")
            }
        }

        impl From<$crate::id::Uuid> for $name {
            fn from(uuid: $crate::id::Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for $crate::id::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        $crate::__sqlx_transparent!($name);
    };
}

#[doc(hidden)]
#[cfg(feature = "sqlx")]
#[macro_export]
macro_rules! __sqlx_transparent {
    ($name:ident) => {
        impl<DB: ::sqlx::Database> ::sqlx::Type<DB> for $name
        where
            $crate::id::Uuid: ::sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <$crate::id::Uuid as ::sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <$crate::id::Uuid as ::sqlx::Type<DB>>::compatible(ty)
            }
        }
        impl<'q, DB: ::sqlx::Database> ::sqlx::Encode<'q, DB> for $name
        where
            $crate::id::Uuid: ::sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as ::sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <$crate::id::Uuid as ::sqlx::Encode<'q, DB>>::encode_by_ref(&self.0, buf)
            }
        }
        impl<'r, DB: ::sqlx::Database> ::sqlx::Decode<'r, DB> for $name
        where
            $crate::id::Uuid: ::sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as ::sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                <$crate::id::Uuid as ::sqlx::Decode<'r, DB>>::decode(value).map(Self)
            }
        }
    };
}

#[doc(hidden)]
#[cfg(not(feature = "sqlx"))]
#[macro_export]
macro_rules! __sqlx_transparent {
    ($name:ident) => {};
}

pub use uuid::Uuid;

/// Parses a UUID from client input; the error names `field`.
pub fn parse_uuid(value: &str, field: &str) -> Result<Uuid, Error> {
    Uuid::from_str(value.trim()).map_err(|_| Error::invalid(field, "must be a UUID"))
}

define_id!(
    /// A user account.
    UserId
);
define_id!(
    /// A login session (one per device and login).
    SessionId
);
define_id!(
    /// A device that holds end-to-end encryption keys.
    DeviceId
);
define_id!(
    /// A post (top-level, reply or quote).
    PostId
);
define_id!(
    /// A comment on a post.
    CommentId
);
define_id!(
    /// An uploaded media object.
    MediaId
);
define_id!(
    /// A chat conversation.
    ConversationId
);
define_id!(
    /// A chat message.
    MessageId
);
define_id!(
    /// A domain event (outbox / bus).
    EventId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_time_ordered() {
        let a = UserId::new();
        let b = UserId::new();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a < b);
    }

    #[test]
    fn parse_names_the_field() {
        let err = PostId::parse_field("nope", "post_id").unwrap_err();
        assert_eq!(
            err.kind(),
            &crate::ErrorKind::InvalidArgument {
                field: "post_id".into()
            }
        );
    }

    #[test]
    fn serde_is_a_plain_string() {
        let id = UserId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        let back: UserId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
    }
}
