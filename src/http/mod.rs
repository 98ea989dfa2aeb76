//! HTTP: the only place that knows axum. `app(state)` builds the whole router.

pub mod account;
pub mod account_email;
pub mod admin;
pub mod console;
pub mod extract;
pub mod guard;
pub mod headers;
pub mod limit;
pub mod oidc;
pub mod problem;
pub mod scim;
pub mod unsubscribe;

use crate::config::Config;
use crate::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// The largest request body accepted (bulk operations get their own limits).
pub const MAX_BODY: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// The OpenID Connect provider's caches (keys, tenants, clients).
    pub oidc: Arc<crate::oidc::Provider>,
    /// Counters of endpoints open to anyone (passkey sign-in starts).
    pub limits: Arc<limit::Limiter>,
    /// The bounded queue in front of password hashing at sign-in.
    pub hash_queue: Arc<crate::domain::passwords::HashQueue>,
    /// `trusted_proxies`, parsed.
    pub trusted_proxies: Arc<Vec<crate::limits::Cidr>>,
    /// The queue in front of the log of recent SCIM requests.
    pub scim_log: Arc<scim::log::ScimLog>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        let queue = crate::domain::passwords::HashQueue::new(
            config.sign_in.hash_queue as usize,
            config.sign_in.trusted_hash_queue as usize,
        );
        // `Config::load` refused bad ranges already; one built by hand keeps the good ones.
        let trusted = config
            .trusted_proxies
            .iter()
            .filter_map(|s| match crate::limits::Cidr::parse(s) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::error!(error = %e, "ignoring a trusted proxy");
                    None
                }
            })
            .collect();
        Self {
            scim_log: Arc::new(scim::log::ScimLog::new(store.clone())),
            store,
            config: Arc::new(config),
            oidc: Arc::default(),
            limits: Arc::default(),
            hash_queue: Arc::new(queue),
            trusted_proxies: Arc::new(trusted),
        }
    }

    /// What admin changes that end sessions need for back-channel logout.
    pub fn logout_notifier(&self) -> crate::oidc::logout::Notifier<'_> {
        crate::oidc::logout::Notifier {
            provider: &self.oidc,
            public_url: &self.config.public_url,
        }
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .nest("/t/{tenant}/api/v1", admin::router())
        .nest(
            "/t/{tenant}/scim/v2",
            scim::router().layer(axum::middleware::from_fn_with_state(
                state.clone(),
                scim::log::record,
            )),
        )
        .merge(oidc::router())
        .merge(console::router())
        .merge(account::router())
        .merge(account_email::router())
        .merge(unsubscribe::router())
        .fallback(|| async { problem::Problem::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            problem::Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this endpoint does not take that method",
            )
        })
        // Bodies over the limit are refused by the extractors, so the 413 is problem+json too.
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Hostile bytes (NUL, control characters, bad UTF-8) never reach a handler.
        .layer(axum::middleware::from_fn(guard::refuse_hostile_input))
        // Outermost: every answer, the guard's refusals included, gets the security headers.
        .layer(axum::middleware::map_response_with_state(
            headers::Policy::for_public_url(&state.config.public_url),
            headers::secure,
        ))
        // Spans name the path only: query strings carry secrets (a set-up link, a code).
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
            },
        ))
        .with_state(state)
}

async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// Serves `app` on `listener` until ctrl-c / SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    // A signal that cannot be listened for never arrives: it must not stop the server.
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
