//! The schema's object, input and enum types.

mod account;
mod chat;
mod enums;
mod feed;
mod insights;
mod media;
mod moderation;
mod notification;
mod post;
mod search;
mod user;

pub(crate) use account::*;
pub(crate) use chat::*;
pub(crate) use enums::*;
pub(crate) use feed::*;
pub(crate) use insights::*;
pub(crate) use media::*;
pub(crate) use moderation::*;
pub(crate) use notification::*;
pub(crate) use post::*;
pub(crate) use search::*;
pub(crate) use user::*;

use async_graphql::ID;
use nova_core::Error;

use crate::error::{GqlResult, IntoGql};

/// Parses an `ID` argument into a typed id (`InvalidArgument` naming `field`).
pub(crate) fn parse_id<T: std::str::FromStr>(id: &ID, field: &str) -> GqlResult<T> {
    id.parse::<T>()
        .map_err(|_| Error::invalid(field, "not a valid id"))
        .gql()
}
