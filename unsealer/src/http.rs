//! The HTTP API (`/healthz`, `/v1/cert.pem`) and the metrics endpoint. The rest of the
//! reference's API (`/v1/verify`, `/v1/rotate`) comes with the CLI's cluster modes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tracing::info;

use crate::keyring::KeyStore;
use crate::metrics::Metrics;

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain")], "ok\n")
}

async fn cert(State(keys): State<KeyStore>) -> impl IntoResponse {
    match keys.get().newest_cert_pem.clone() {
        Some(pem) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            pem,
        ),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            "cannot get certificate\n".to_owned(),
        ),
    }
}

async fn metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}

/// Binds both listeners first, so a taken port fails start-up instead of a background task.
pub async fn bind(
    api_addr: SocketAddr,
    metrics_addr: SocketAddr,
) -> std::io::Result<(tokio::net::TcpListener, tokio::net::TcpListener)> {
    let api = tokio::net::TcpListener::bind(api_addr).await?;
    let metrics = tokio::net::TcpListener::bind(metrics_addr).await?;
    info!(api = %api.local_addr()?, metrics = %metrics.local_addr()?, "listening");
    Ok((api, metrics))
}

pub async fn serve(
    api: tokio::net::TcpListener,
    metrics_listener: tokio::net::TcpListener,
    keys: KeyStore,
    metrics_state: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + Clone + 'static,
) -> std::io::Result<()> {
    let api_router = Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/cert.pem", get(cert))
        .with_state(keys);
    let metrics_router = Router::new()
        .route("/metrics", get(metrics))
        .with_state(metrics_state);
    let a = axum::serve(api, api_router).with_graceful_shutdown(shutdown.clone());
    let m = axum::serve(metrics_listener, metrics_router).with_graceful_shutdown(shutdown);
    tokio::try_join!(async { a.await }, async { m.await })?;
    Ok(())
}
