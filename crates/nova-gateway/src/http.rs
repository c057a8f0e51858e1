//! The gateway's HTTP surface: `POST /graphql` (single or batched JSON), WebSocket
//! subscriptions at `/graphql/ws` (`graphql-transport-ws` and the older `graphql-ws`),
//! and GraphiQL at `GET /` and `GET /graphql` outside production (its assets served from
//! the binary under `/graphiql/assets/`).

use std::sync::Arc;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols};
use async_graphql::{BatchRequest, Data, ServerError};
use async_graphql_axum::GraphQLResponse;
use axum::Router;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use nova_auth::bearer_token;
use nova_core::client::ClientAddr;
use nova_core::{Error, ErrorKind};

use crate::context::RequestCtx;
use crate::error::{query_rejected, server_error};
use crate::graphiql;
use crate::ws::ConnectionCounts;
use crate::{Domains, GatewayOptions, NovaSchema};

struct Gateway {
    schema: NovaSchema,
    /// The same schema with introspection's own depth bound, for introspection-only
    /// documents (none in production, where introspection is off).
    introspection: Option<NovaSchema>,
    domains: Domains,
    options: GatewayOptions,
    /// Open `/graphql/ws` connections per address and per user.
    connections: Arc<ConnectionCounts>,
}

type Shared = State<Arc<Gateway>>;

/// The gateway's routes over `domains`: `POST /graphql`, `GET /graphql/ws`, and (outside
/// production) GraphiQL at `GET /graphql` and `GET /`.
pub fn router(domains: Domains, options: GatewayOptions) -> Router {
    let schema = crate::schema(domains.clone(), options.clone());
    let production = options.production;
    let body_limit = options.query.max_body_bytes;
    let introspection = (!production).then(|| {
        crate::schema_with_depth(
            domains.clone(),
            options.clone(),
            crate::introspection::INTROSPECTION_MAX_DEPTH,
        )
    });
    let state = Arc::new(Gateway {
        schema,
        introspection,
        domains,
        options,
        connections: Arc::new(ConnectionCounts::default()),
    });
    let graphql = if production {
        post(graphql)
    } else {
        post(graphql).get(graphiql::page)
    };
    let mut router = Router::new()
        .route("/graphql", graphql)
        .route("/graphql/ws", get(subscriptions));
    if !production {
        router = router
            .route("/", get(graphiql::page))
            .merge(graphiql::asset_routes());
    }
    router
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// A GraphQL error body with an HTTP status (for requests refused before execution).
fn refuse(status: StatusCode, error: Error) -> Response {
    let body = async_graphql::Response::from_errors(vec![server_error(error)]);
    (status, GraphQLResponse::from(body)).into_response()
}

impl Gateway {
    /// The caller of a request carrying `token` (if any).
    async fn caller(
        &self,
        token: Option<&str>,
        headers: &HeaderMap,
        client: Option<ClientAddr>,
    ) -> Result<RequestCtx, Error> {
        let principal = match token {
            Some(token) => Some(self.domains.auth.authenticate(token).await?),
            None => None,
        };
        let domains = match (&self.domains.with_token, token) {
            (Some(with_token), Some(token)) => with_token(&self.domains, token),
            _ => self.domains.clone(),
        };
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(RequestCtx {
            principal,
            ip: client,
            user_agent: user_agent.chars().take(256).collect(),
            domains,
        })
    }
}

fn header_token(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(bearer_token)
            .map(Some)
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated)),
    }
}

async fn graphql(State(gateway): Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !is_json {
        // Also what keeps cross-site form posts (no preflight) out.
        let error = Error::invalid("content-type", "must be application/json");
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, error);
    }
    // nova-runtime resolved it (trusted proxies only, the same rule as REST).
    let client = ClientAddr::from_extensions(&parts.extensions);
    let caller = match header_token(&parts.headers) {
        Ok(token) => gateway.caller(token, &parts.headers, client).await,
        Err(e) => Err(e),
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, e),
    };
    let limit = gateway.options.query.max_body_bytes;
    let Ok(bytes) = axum::body::to_bytes(Body::new(body), limit).await else {
        let error = query_rejected(format!("request body over {limit} bytes"));
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, error);
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(_) => {
            let error = Error::invalid("body", "not a GraphQL request");
            return refuse(StatusCode::BAD_REQUEST, error);
        }
    };
    let max_batch = gateway.options.query.max_batch;
    if let BatchRequest::Batch(requests) = &batch
        && (requests.len() > max_batch || requests.is_empty())
    {
        let error = query_rejected(format!("a batch holds 1–{max_batch} operations"));
        return refuse(StatusCode::BAD_REQUEST, error);
    }
    let schema = match &gateway.introspection {
        Some(twin) if only_introspection(&batch) => twin,
        _ => &gateway.schema,
    };
    let response = schema.execute_batch(batch.data(caller)).await;
    GraphQLResponse::from(response).into_response()
}

/// Whether every operation of `batch` is introspection-only.
fn only_introspection(batch: &BatchRequest) -> bool {
    match batch {
        BatchRequest::Single(request) => {
            crate::introspection::is_introspection_only(&request.query)
        }
        BatchRequest::Batch(requests) => requests
            .iter()
            .all(|r| crate::introspection::is_introspection_only(&r.query)),
    }
}

async fn subscriptions(
    State(gateway): Shared,
    upgrade: WebSocketUpgrade,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    // The subprotocol, as async-graphql-axum's `GraphQLProtocol` reads it.
    let protocol = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|protocols| {
            protocols
                .split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        let error = Error::invalid(
            "sec-websocket-protocol",
            "graphql-transport-ws or graphql-ws",
        );
        return refuse(StatusCode::BAD_REQUEST, error);
    };
    // nova-runtime resolved it (trusted proxies only, the same rule as REST).
    let client = ClientAddr::from_extensions(&parts.extensions);
    let header = match header_token(&parts.headers) {
        Ok(token) => token.map(str::to_owned),
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, e),
    };
    let limits = gateway.options.query;
    let address = client.map_or_else(|| "unknown".to_owned(), |c| c.bucket());
    let Some(address_slot) = gateway
        .connections
        .acquire(format!("ip:{address}"), limits.max_ws_per_address)
    else {
        let error = Error::new(ErrorKind::RateLimited, "too many open connections");
        return refuse(StatusCode::TOO_MANY_REQUESTS, error);
    };
    let headers = parts.headers;
    // The POST body cap holds for every message, enforced by the codec before any JSON
    // or GraphQL parsing (a larger message closes the connection).
    upgrade
        .max_message_size(limits.max_body_bytes)
        .max_frame_size(limits.max_body_bytes)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| async move {
            let schema = gateway.schema.clone();
            let (session_tx, session_rx) = tokio::sync::oneshot::channel();
            let watch = crate::ws::SessionWatch {
                session: session_rx,
                auth: gateway.domains.auth.clone(),
            };
            let on_init = move |payload: serde_json::Value| async move {
                // Browsers cannot set headers on a WebSocket: the token may come in
                // the `connection_init` payload instead (`{"Authorization": "Bearer …"}`).
                let from_payload = ["Authorization", "authorization"]
                    .iter()
                    .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
                    .and_then(bearer_token)
                    .map(str::to_owned);
                let token = from_payload.or(header);
                let caller = gateway
                    .caller(token.as_deref(), &headers, client)
                    .await
                    .map_err(to_error)?;
                let mut data = Data::default();
                if let Some(principal) = &caller.principal {
                    // Held in the connection's data: released when it closes.
                    let key = format!("user:{}", principal.user_id);
                    let slot = gateway
                        .connections
                        .acquire(key, limits.max_ws_per_user)
                        .ok_or_else(|| {
                            to_error(Error::new(
                                ErrorKind::RateLimited,
                                "too many open connections",
                            ))
                        })?;
                    data.insert(Arc::new(slot));
                    let _ = session_tx.send(principal.session_id);
                }
                data.insert(caller);
                Ok(data)
            };
            crate::ws::serve(stream, schema, protocol, on_init, watch).await;
            drop(address_slot);
        })
}

fn to_error(error: Error) -> async_graphql::Error {
    let e: ServerError = server_error(error);
    async_graphql::Error {
        message: e.message,
        source: None,
        extensions: e.extensions,
    }
}
