//! [`Server`]: one domain's HTTP and gRPC listeners, run side by side until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use nova_auth::service::ServiceGate;
use nova_auth::{Authenticator, JwksAuthenticator};
use nova_core::SystemClock;
use nova_core::config::{ConfigError, NovaConfig};
use nova_kv::edge::{EdgeGuard, EdgeLimits};
use nova_kv::{InProcessRateLimiter, RateLimiter};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::grpc::{BUILTIN_GRPC_SERVICES, GrpcMetricsLayer, set_health};
use crate::http::{DEFAULT_BODY_LIMIT, EdgeState, HttpState, app};
use crate::ports::resolve_ports;
use crate::readiness::{Checks, ReadinessCheck, all_ok};
use crate::services::ServiceSpec;

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A port variable is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener could not be bound (port in use, permission, bad address).
    #[error("cannot bind the {what} listener on {addr}: {source}")]
    Bind {
        /// `HTTP` or `gRPC`.
        what: &'static str,
        /// The address tried.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The reflection service could not be built from the descriptor sets.
    #[error("gRPC reflection: {0}")]
    Reflection(String),
    /// The HTTP server failed.
    #[error("HTTP server: {0}")]
    Http(#[source] std::io::Error),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Grpc(#[from] tonic::transport::Error),
    /// A rate-limit variable is invalid.
    #[error("{0}")]
    Limits(String),
}

/// Default timeout of each readiness check.
pub const DEFAULT_READINESS_TIMEOUT: Duration = Duration::from_secs(2);
/// Default period at which readiness is re-checked to update the gRPC health status.
pub const DEFAULT_READINESS_INTERVAL: Duration = Duration::from_secs(10);

/// Builder for one service's server; see the [crate docs](crate) for an example.
pub struct Server {
    spec: ServiceSpec,
    config: NovaConfig,
    http: Router,
    streamed: Router,
    grpc: RoutesBuilder,
    grpc_names: Vec<String>,
    descriptor_sets: Vec<&'static [u8]>,
    checks: Checks,
    readiness_interval: Duration,
    body_limit: usize,
    shutdown_grace: Duration,
    shutdown_delay: Duration,
    limiter: Arc<dyn RateLimiter>,
    limits: Result<EdgeLimits, String>,
    service_auth: Arc<dyn Authenticator>,
}

impl Server {
    /// A server for `spec` configured by `config` (bind address, ports, shutdown grace).
    /// Installs the global Prometheus recorder if none is installed yet.
    pub fn new(spec: &ServiceSpec, config: &NovaConfig) -> Self {
        nova_core::telemetry::prometheus();
        crate::metrics::describe_metrics();
        Self {
            spec: *spec,
            config: config.clone(),
            http: Router::new(),
            streamed: Router::new(),
            grpc: RoutesBuilder::default(),
            grpc_names: Vec::new(),
            descriptor_sets: Vec::new(),
            checks: Checks {
                checks: Vec::new(),
                timeout: DEFAULT_READINESS_TIMEOUT,
            },
            readiness_interval: DEFAULT_READINESS_INTERVAL,
            body_limit: DEFAULT_BODY_LIMIT,
            shutdown_grace: config.shutdown_grace,
            shutdown_delay: Duration::ZERO,
            limiter: Arc::new(InProcessRateLimiter::new(SystemClock::shared())),
            limits: EdgeLimits::from_config(config).map_err(|e| e.message().to_owned()),
            // Service tokens verify like user tokens, from identity's published keys.
            service_auth: Arc::new(JwksAuthenticator::from_config(config)),
        }
    }

    /// The rate limiter behind the edge limits every HTTP request is handed
    /// ([`nova_kv::edge::Edge`]); default: an in-process one. Pass the process's shared
    /// limiter (Redis in scale-out) so REST and GraphQL charge the same buckets.
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// Verifies the service tokens internal RPCs require with `auth` instead of
    /// identity's published keys (`IDENTITY_JWKS_URL`).
    pub fn service_authenticator(mut self, auth: Arc<dyn Authenticator>) -> Self {
        self.service_auth = auth;
        self
    }

    /// Merges the domain's HTTP routes (they get the shared middleware too).
    pub fn http_routes(mut self, router: Router) -> Self {
        self.http = self.http.merge(router);
        self
    }

    /// Merges routes that read their request body as a stream and enforce their own,
    /// larger caps (media uploads): the server's body limit does not apply to them; the
    /// rest of the middleware does.
    pub fn streamed_routes(mut self, router: Router) -> Self {
        self.streamed = self.streamed.merge(router);
        self
    }

    /// Adds a tonic service (e.g. `IdentityServiceServer::new(svc)`); its name is
    /// advertised by reflection and reported by the health service.
    pub fn add_grpc_service<S>(mut self, service: S) -> Self
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.grpc_names.push(S::NAME.to_owned());
        self.grpc.add_service(service);
        self
    }

    /// Registers an extra encoded `FileDescriptorSet` for reflection (services whose
    /// protos are not in `nova-proto`). `nova-proto`'s and gRPC health's are built in.
    pub fn grpc_descriptor_set(mut self, encoded: &'static [u8]) -> Self {
        self.descriptor_sets.push(encoded);
        self
    }

    /// Adds a readiness check, reported under `name` (e.g. `postgres`).
    pub fn readiness_check(
        mut self,
        name: impl Into<String>,
        check: Arc<dyn ReadinessCheck>,
    ) -> Self {
        self.checks.checks.push((name.into(), check));
        self
    }

    /// How long each readiness check may take (default 2 s).
    pub fn readiness_timeout(mut self, timeout: Duration) -> Self {
        self.checks.timeout = timeout;
        self
    }

    /// How often readiness is re-run to update the gRPC health status (default 10 s).
    pub fn readiness_interval(mut self, interval: Duration) -> Self {
        self.readiness_interval = interval;
        self
    }

    /// Largest accepted request body in bytes (default 1 MiB); larger ones get 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long in-flight requests may run after shutdown starts (default:
    /// `NOVA_SHUTDOWN_GRACE_SECONDS`).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// How long to keep accepting connections after shutdown starts while `/api/v1/ready`
    /// already answers 503 and gRPC health says `NOT_SERVING` (default 0). A few seconds
    /// let a load balancer (Kubernetes endpoints) stop routing here before the listeners
    /// close.
    pub fn shutdown_delay(mut self, delay: Duration) -> Self {
        self.shutdown_delay = delay;
        self
    }

    /// The complete HTTP application (built-in endpoints, domain routes, middleware),
    /// for in-process tests with `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> Router {
        app(
            self.http_state(),
            self.edge_state(),
            self.http.clone(),
            self.streamed.clone(),
            self.body_limit,
        )
    }

    fn edge_state(&self) -> EdgeState {
        let limits = self.limits.clone().unwrap_or_default();
        EdgeState {
            trusted: Arc::new(self.config.trusted_proxies.clone()),
            guard: EdgeGuard::new(self.limiter.clone(), limits),
        }
    }

    fn http_state(&self) -> Arc<HttpState> {
        Arc::new(HttpState {
            service: self.spec.name,
            checks: self.checks.clone(),
            shutting_down: AtomicBool::new(false),
        })
    }

    /// Binds the listeners (ports from [`resolve_ports`]) without serving yet, so callers
    /// can learn ephemeral ports.
    pub async fn bind(self) -> Result<BoundServer, ServeError> {
        if let Err(e) = &self.limits {
            return Err(ServeError::Limits(e.clone()));
        }
        let ports = resolve_ports(&self.spec, &self.config)?;
        let ip = self.config.bind_addr;
        let http = bind("HTTP", SocketAddr::new(ip, ports.http)).await?;
        let grpc = match ports.grpc {
            Some(port) => Some(bind("gRPC", SocketAddr::new(ip, port)).await?),
            None => {
                if !self.grpc_names.is_empty() {
                    tracing::warn!(
                        service = self.spec.name,
                        "gRPC services added to a service without a gRPC port are not served"
                    );
                }
                None
            }
        };
        Ok(BoundServer {
            server: self,
            http,
            grpc,
        })
    }

    /// Binds and serves until `shutdown` completes, then drains (see [`BoundServer::serve_until`]).
    pub async fn serve_until<F>(self, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.bind().await?.serve_until(shutdown).await
    }

    /// Binds and serves until SIGTERM or SIGINT ([`shutdown_signal`](crate::shutdown_signal)).
    pub async fn serve(self) -> Result<(), ServeError> {
        self.serve_until(crate::shutdown_signal()).await
    }
}

async fn bind(
    what: &'static str,
    addr: SocketAddr,
) -> Result<(TcpListener, SocketAddr), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { what, addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { what, addr, source })?;
    Ok((listener, local))
}

/// A [`Server`] whose listeners are bound.
pub struct BoundServer {
    server: Server,
    http: (TcpListener, SocketAddr),
    grpc: Option<(TcpListener, SocketAddr)>,
}

impl BoundServer {
    /// The address the HTTP listener is bound to.
    pub fn http_addr(&self) -> SocketAddr {
        self.http.1
    }

    /// The address the gRPC listener is bound to (`None` for the gateway).
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc.as_ref().map(|(_, addr)| *addr)
    }

    /// Serves HTTP and gRPC until `shutdown` completes. Then `/api/v1/ready` answers 503
    /// and the gRPC health status turns `NOT_SERVING`; after the shutdown delay (default
    /// 0) both listeners close (new connections are refused) and in-flight requests get
    /// up to the shutdown grace to finish.
    pub async fn serve_until<F>(self, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let BoundServer { server, http, grpc } = self;
        let service = server.spec.name;
        let prometheus = nova_core::telemetry::prometheus();
        let state = server.http_state();
        let http_app = app(
            state.clone(),
            server.edge_state(),
            server.http,
            server.streamed,
            server.body_limit,
        );

        let (reporter, health_service) = tonic_health::server::health_reporter();
        let health_names: Vec<String> = [String::new(), service.to_owned()]
            .into_iter()
            .chain(server.grpc_names.iter().cloned())
            .collect();
        set_health(&reporter, &health_names, ServingStatus::NotServing).await;
        let ready = all_ok(&server.checks.run().await);
        if ready {
            set_health(&reporter, &health_names, ServingStatus::Serving).await;
        } else {
            tracing::warn!(
                service,
                "readiness checks failing at startup; gRPC health is NOT_SERVING"
            );
        }

        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        {
            let (state, reporter, names) = (state.clone(), reporter.clone(), health_names.clone());
            let delay = server.shutdown_delay;
            tasks.spawn(async move {
                shutdown.await;
                tracing::info!(service, ?delay, "shutdown requested; reporting not ready");
                state.shutting_down.store(true, Ordering::SeqCst);
                set_health(&reporter, &names, ServingStatus::NotServing).await;
                tokio::time::sleep(delay).await;
                tracing::info!(service, "closing listeners; draining in-flight requests");
                let _ = stop_tx.send(true);
            });
        }
        {
            let (state, reporter, names) = (state.clone(), reporter.clone(), health_names.clone());
            let interval = server.readiness_interval;
            tasks.spawn(async move {
                loop {
                    tokio::time::sleep(interval).await;
                    let status = if all_ok(&state.checks.run().await) {
                        ServingStatus::Serving
                    } else {
                        ServingStatus::NotServing
                    };
                    if state.shutting_down.load(Ordering::SeqCst) {
                        break;
                    }
                    set_health(&reporter, &names, status).await;
                }
            });
        }
        tasks.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                prometheus.run_upkeep();
            }
        });

        let http_addr = http.1;
        let http_fut = {
            let stop = stopped(stop_rx.clone());
            async move {
                // The peer address reaches handlers (`ConnectInfo`): per-IP rate limits
                // need it when no proxy sets X-Forwarded-For.
                let app = http_app.into_make_service_with_connect_info::<std::net::SocketAddr>();
                axum::serve(http.0, app)
                    .with_graceful_shutdown(stop)
                    .await
                    .map_err(ServeError::Http)
            }
        };
        let grpc_addr = grpc.as_ref().map(|g| g.1);
        let grpc_fut = match grpc {
            Some((listener, _)) => Some(grpc_server(
                service,
                server.grpc,
                reflection_names(&server.grpc_names),
                server.descriptor_sets,
                health_service,
                listener,
                stopped(stop_rx.clone()),
                server.service_auth.clone(),
            )?),
            None => None,
        };
        tracing::info!(service, http = %http_addr, grpc = ?grpc_addr, "listening");

        let serving = async move {
            match grpc_fut {
                Some(grpc_fut) => tokio::try_join!(http_fut, grpc_fut).map(|_| ()),
                None => http_fut.await,
            }
        };
        let grace = server.shutdown_grace;
        let deadline = async move {
            stopped(stop_rx).await;
            tokio::time::sleep(grace).await;
        };
        let result = tokio::select! {
            result = serving => result,
            () = deadline => {
                tracing::warn!(service, ?grace, "shutdown grace elapsed; abandoning in-flight requests");
                Ok(())
            }
        };
        tasks.abort_all();
        tracing::info!(service, "stopped");
        result
    }
}

/// Names reflection advertises: the domain services and the built-in ones.
fn reflection_names(domain: &[String]) -> Vec<String> {
    domain
        .iter()
        .cloned()
        .chain(BUILTIN_GRPC_SERVICES.iter().map(|s| (*s).to_owned()))
        .collect()
}

/// Resolves once the stop flag is set (or its sender is gone).
async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Builds the tonic server future: domain services, health, reflection, metrics layer.
#[allow(clippy::too_many_arguments)] // one caller; each is a distinct part of the server
fn grpc_server(
    service: &'static str,
    mut routes: RoutesBuilder,
    advertised: Vec<String>,
    extra_sets: Vec<&'static [u8]>,
    health: impl tower::Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<tonic::body::Body>,
        Error = std::convert::Infallible,
        Future: Send + 'static,
    > + NamedService
    + Clone
    + Send
    + Sync
    + 'static,
    listener: TcpListener,
    stop: impl Future<Output = ()> + Send + 'static,
    gate: Arc<dyn Authenticator>,
) -> Result<impl Future<Output = Result<(), ServeError>> + Send, ServeError> {
    // Both reflection versions: grpcurl speaks v1; grpcio's Python client, Postman and
    // evans still ask v1alpha. The builder is consumed by each build.
    let configure = || {
        let mut reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(nova_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
        for set in &extra_sets {
            reflection = reflection.register_encoded_file_descriptor_set(set);
        }
        for name in &advertised {
            reflection = reflection.with_service_name(name.clone());
        }
        reflection
    };
    let reflection = configure()
        .build_v1()
        .map_err(|e| ServeError::Reflection(e.to_string()))?;
    let reflection_v1alpha = configure()
        .build_v1alpha()
        .map_err(|e| ServeError::Reflection(e.to_string()))?;
    routes.add_service(reflection_v1alpha);
    routes.add_service(health).add_service(reflection);
    let router = tonic::transport::Server::builder()
        .trace_fn(
            move |req| tracing::info_span!("grpc_request", service, method = %req.uri().path()),
        )
        .layer(GrpcMetricsLayer::new(service))
        // Internal RPCs only for callers with a service token (nova_auth::service).
        .layer(ServiceGate::new(gate))
        .add_routes(routes.routes());
    Ok(async move {
        router
            .serve_with_incoming_shutdown(TcpIncoming::from(listener), stop)
            .await
            .map_err(ServeError::Grpc)
    })
}
