//! What one request carries into the resolvers: who calls, from where, and the domains to
//! call for them.

use async_graphql::Context;
use nova_core::client::ClientAddr;
use nova_core::{Error, ErrorKind, Principal};
use nova_identity::model::RequestContext;

use crate::Domains;
use crate::error::{GqlResult, IntoGql};
use crate::loaders::Loaders;

/// The caller of one request (HTTP request or WebSocket connection).
#[derive(Clone)]
pub(crate) struct RequestCtx {
    /// The verified principal, if a bearer token came with the request.
    pub principal: Option<Principal>,
    /// The client's address, if known (nova-runtime's trusted-proxy rule).
    pub ip: Option<ClientAddr>,
    /// `User-Agent`, for sessions.
    pub user_agent: String,
    /// The domains to call for this caller (per-token clients in the distributed shell).
    pub domains: Domains,
}

impl RequestCtx {
    /// The principal, or `Unauthenticated`.
    pub fn require(&self) -> GqlResult<&Principal> {
        self.principal
            .as_ref()
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))
            .gql()
    }

    /// Address and user agent, as identity wants them.
    pub fn request_context(&self) -> RequestContext {
        RequestContext::new(self.ip.map(|c| c.ip()), &self.user_agent)
    }
}

/// The request's caller (always present: the guard extension refuses requests without).
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> GqlResult<&'a RequestCtx> {
    ctx.data::<RequestCtx>()
}

/// The request's DataLoaders.
pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> GqlResult<&'a Loaders> {
    ctx.data::<Loaders>()
}
