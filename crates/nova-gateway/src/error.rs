//! Nova errors as GraphQL errors: the client-safe message and `extensions.code` from
//! [`nova_core::ErrorKind::graphql_code`] (plus `extensions.field` for bad input). The
//! internal source is logged, never sent.

use async_graphql::{ErrorExtensionValues, ServerError};
use nova_core::Error;

/// Resolver results.
pub(crate) type GqlResult<T> = async_graphql::Result<T>;

/// The GraphQL error for a Nova error.
pub(crate) fn gql(error: Error) -> async_graphql::Error {
    error.log_if_server_error();
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", error.kind().graphql_code());
    if let Some(field) = error.field() {
        extensions.set("field", field);
    }
    async_graphql::Error {
        message: error.message().to_owned(),
        source: None,
        extensions: Some(extensions),
    }
}

/// A request-level error (before execution), with its code.
pub(crate) fn server_error(error: Error) -> ServerError {
    let e = gql(error);
    let mut server = ServerError::new(e.message, None);
    server.extensions = e.extensions;
    server
}

/// `InvalidArgument` on the `query` itself (a limit was exceeded).
pub(crate) fn query_rejected(reason: impl std::fmt::Display) -> Error {
    Error::invalid("query", reason)
}

/// `.gql()` on domain results.
pub(crate) trait IntoGql<T> {
    /// Converts the error with [`gql`].
    fn gql(self) -> GqlResult<T>;
}

impl<T> IntoGql<T> for Result<T, Error> {
    fn gql(self) -> GqlResult<T> {
        self.map_err(gql)
    }
}
