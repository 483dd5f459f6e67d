//! The HTTP API (`/healthz`, `/v1/cert.pem`, `POST /v1/verify`, `POST /v1/rotate`: see
//! [`crate::api`]) and the metrics endpoint. Every route is counted in
//! `http_requests_total{path,code,method}` and `http_request_duration_seconds{path,method}`,
//! with `path` from the route table ([`API_ROUTES`], [`METRICS_ROUTES`]; anything else is
//! `other`), never the raw URL.
//!
//! Both listeners run on hyper's HTTP/1 server with limits ([`Limits`]), because
//! `axum::serve` keeps every connection for as long as the client likes (a thousand clients that
//! send half a request head hold a thousand descriptors, forever):
//!
//! * **Header read timeout** (10 s): a request head must be complete within it. hyper starts
//!   the timer whenever the connection waits for a head, on accept and again after each
//!   response, so it is also the keep-alive idle timeout.
//! * **I/O timeout** (30 s): a connection on which no byte moves either way for that long is
//!   closed (a stalled request body, a client that stops reading its response). It waits
//!   while a handler works on a request whose body is in ([`ConnInfo::working`]): that time
//!   is bounded by `--write-timeout` instead.
//! * **Connection cap** (256 per listener). A connection that arrives at the cap is accepted
//!   and makes room by closing the connection that has been idle longest: one with no request
//!   in progress (fresh, keep-alive, or still sending its head). Only when every connection is
//!   serving a request does the accept loop wait, and newcomers wait in the kernel's accept
//!   backlog. So idle or slow clients never hold more than the cap of descriptors, and cannot
//!   lock out a probe: a client that sends its request at once is served long before it
//!   becomes the oldest idle connection. (Closing newcomers instead, or leaving them in the
//!   backlog, would let 256 idle connections block `/healthz` for up to the header timeout.)

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tracing::{error, info, trace};

use crate::api::{self, Api};
use crate::metrics::Metrics;

/// The API listener's routes: the only values of the metrics' `path` label, with `other`.
pub const API_ROUTES: [&str; 5] = [
    "/healthz",
    "/v1/cert.pem",
    "/v1/verify",
    "/v1/rotate",
    "/v1/keys",
];
/// The metrics listener's routes.
pub const METRICS_ROUTES: [&str; 1] = ["/metrics"];
/// The `path` label of a request that matched no route.
pub const OTHER_ROUTE: &str = "other";

/// Per-listener connection limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a complete request head, counted from accept and from each response.
    pub header_read_timeout: Duration,
    /// Time without a byte read or written after which a connection is closed.
    pub io_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(30),
            max_connections: 256,
        }
    }
}

/// The largest request head (and write buffer) per connection. hyper's default, about 400 KiB,
/// would let the 256 connections of a listener buffer 100 MiB of half-sent heads.
const MAX_BUF_SIZE: usize = 64 * 1024;

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain")], "ok\n")
}

async fn cert(State(api): State<Arc<Api>>) -> impl IntoResponse {
    match api.keys.get().newest_cert_pem.clone() {
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
) -> io::Result<(TcpListener, TcpListener)> {
    let api = listen(api_addr)?;
    let metrics = listen(metrics_addr)?;
    info!(api = %api.local_addr()?, metrics = %metrics.local_addr()?, "listening");
    Ok((api, metrics))
}

/// Connections the kernel completes and queues for accept (clamped to `net.core.somaxconn`).
/// `TcpListener::bind` asks for 1024, which a burst of 3000 loopback connections overflowed 5
/// to 7 times on the 2-core test machine (with `axum::serve` too): each overflow drops a SYN,
/// which the client, a health probe included, sends again only after 1 s. With 4096: none.
const BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    match listen_on(addr) {
        // `:8080` is `[::]:8080`, which takes IPv4 too (as Go's listener); a host without IPv6
        // gets IPv4 alone.
        Err(e) if addr.ip() == std::net::Ipv6Addr::UNSPECIFIED => {
            let v4 = SocketAddr::from(([0, 0, 0, 0], addr.port()));
            listen_on(v4).map_err(|_| e)
        }
        other => other,
    }
}

fn listen_on(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As TcpListener::bind does: a restarted controller can bind while old connections linger.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves both listeners with the default [`Limits`] until `shutdown` resolves, then lets the
/// requests in progress finish.
pub async fn serve(
    api_listener: TcpListener,
    metrics_listener: TcpListener,
    api: Arc<Api>,
    metrics_state: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + Clone + 'static,
) -> io::Result<()> {
    let api_router = Router::new()
        .route(API_ROUTES[0], get(healthz))
        .route(API_ROUTES[1], get(cert))
        .route(API_ROUTES[2], post(api::verify))
        .route(API_ROUTES[3], post(api::rotate))
        .route(API_ROUTES[4], get(api::keys))
        .with_state(api);
    let api_router = instrumented(api_router, &API_ROUTES, metrics_state.clone());
    let metrics_router = Router::new()
        .route(METRICS_ROUTES[0], get(metrics))
        .with_state(metrics_state.clone());
    let metrics_router = instrumented(metrics_router, &METRICS_ROUTES, metrics_state);
    let limits = Limits::default();
    tokio::try_join!(
        serve_listener(api_listener, api_router, limits, shutdown.clone()),
        serve_listener(metrics_listener, metrics_router, limits, shutdown),
    )?;
    Ok(())
}

/// `router` with every request counted and timed under its route of `routes`.
pub fn instrumented(
    router: Router,
    routes: &'static [&'static str],
    metrics: Arc<Metrics>,
) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request<axum::body::Body>, next: Next| {
            let metrics = metrics.clone();
            async move {
                let path = route_label(routes, request.uri().path());
                let method = method_label(request.method());
                let started = std::time::Instant::now();
                let response: Response = next.run(request).await;
                metrics.http_request(
                    path,
                    method,
                    response.status().as_u16(),
                    started.elapsed().as_secs_f64(),
                );
                response
            }
        },
    ))
}

/// The route of the table that `path` is, or [`OTHER_ROUTE`].
pub fn route_label(routes: &'static [&'static str], path: &str) -> &'static str {
    routes
        .iter()
        .copied()
        .find(|r| *r == path)
        .unwrap_or(OTHER_ROUTE)
}

/// The method as the reference's promhttp names it: lower case, `unknown` beyond the standard
/// ones (so a client cannot add series with made-up methods).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "get",
        Method::PUT => "put",
        Method::HEAD => "head",
        Method::POST => "post",
        Method::DELETE => "delete",
        Method::CONNECT => "connect",
        Method::OPTIONS => "options",
        Method::TRACE => "trace",
        Method::PATCH => "patch",
        _ => "unknown",
    }
}

/// What a handler may know of its connection (a request extension).
#[derive(Clone)]
pub struct ConnInfo {
    peer: Option<SocketAddr>,
    activity: Activity,
}

impl ConnInfo {
    /// The peer's address.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Holds off the connection's I/O timeout until dropped: the request's body is in and the
    /// handler is working (its own deadline bounds that).
    pub fn working(&self) -> Working {
        self.activity.working.fetch_add(1, Ordering::Relaxed);
        Working(self.activity.clone())
    }
}

/// See [`ConnInfo::working`].
pub struct Working(Activity);

impl Drop for Working {
    fn drop(&mut self) {
        // The I/O timeout counts again from now.
        self.0.touch();
        self.0.working.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The accept loop of one listener.
pub async fn serve_listener(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Slots::new(limits.max_connections);
    // Dropped at shutdown: every connection then finishes its request and closes.
    let (stop, stopped) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok((stream, peer)) => (stream, peer),
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Most likely out of descriptors (EMFILE): wait for some to close, as hyper
                // and axum do.
                error!(error = %e, "accepting a connection");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    () = &mut shutdown => break,
                }
            }
        };
        let slot = tokio::select! {
            slot = slots.acquire() => slot,
            () = &mut shutdown => break,
        };
        tokio::spawn(connection(
            stream,
            peer,
            router.clone(),
            limits,
            slot,
            slots.clone(),
            stopped.clone(),
        ));
    }
    drop(listener);
    drop(stop);
    // Each connection holds a slot until it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.permits.acquire_many(all).await;
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One connection, from accept to close.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    slot: OwnedSemaphorePermit,
    slots: Arc<Slots>,
    mut stopped: watch::Receiver<()>,
) {
    let _slot = slot;
    let _ = stream.set_nodelay(true);
    let conn = Conn::new(slots);
    let activity = Activity::new();
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let info = ConnInfo {
        peer: Some(peer),
        activity: activity.clone(),
    };
    let service = {
        let router = TowerToHyperService::new(router);
        let conn = conn.clone();
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(info.clone());
            conn.busy();
            let response = hyper::service::Service::call(&router, request);
            let conn = conn.clone();
            async move {
                let response = response.await;
                conn.idle();
                response
            }
        })
    };
    let http = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_BUF_SIZE)
        .serve_connection(io, service);
    let mut http = std::pin::pin!(http);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = http.as_mut() => {
                if let Err(e) = result {
                    trace!(error = %e, "connection closed");
                }
                return;
            }
            () = conn.evict.notified() => {
                trace!("closing the connection idle longest, to make room");
                return;
            }
            () = activity.stalled(limits.io_timeout) => {
                trace!("no I/O on the connection; closing it");
                return;
            }
            _ = stopped.changed(), if !stopping => {
                stopping = true;
                if conn.is_idle() {
                    return;
                }
                http.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The connection slots of a listener, and its connections without a request in progress,
/// oldest first.
struct Slots {
    permits: Arc<Semaphore>,
    idle: Mutex<IdleQueue>,
    /// Wakes an accept loop that waits because every connection is busy.
    became_idle: Notify,
}

#[derive(Default)]
struct IdleQueue {
    next: u64,
    /// Idle since (a sequence number) → the connection's eviction signal.
    by_age: BTreeMap<u64, Arc<Notify>>,
}

impl Slots {
    fn new(max_connections: usize) -> Arc<Slots> {
        Arc::new(Slots {
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
            idle: Mutex::new(IdleQueue::default()),
            became_idle: Notify::new(),
        })
    }

    fn queue(&self) -> MutexGuard<'_, IdleQueue> {
        // The queue stays consistent under a panic elsewhere: carry on with it.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a connection just accepted: a free one, or the one of the connection idle
    /// longest, which is closed for it. With every connection busy, waits for one to finish.
    async fn acquire(&self) -> OwnedSemaphorePermit {
        loop {
            if let Ok(slot) = self.permits.clone().try_acquire_owned() {
                return slot;
            }
            let oldest = self.queue().by_age.pop_first();
            if let Some((_, evict)) = oldest {
                evict.notify_one();
                // Its task ends and gives the slot back (or another connection's does).
                return self
                    .permits
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
            }
            let idle = self.became_idle.notified();
            tokio::select! {
                slot = self.permits.clone().acquire_owned() => {
                    return slot.expect("the semaphore is never closed");
                }
                () = idle => {}
            }
        }
    }
}

/// A connection's place in the idle queue.
struct Conn {
    slots: Arc<Slots>,
    evict: Arc<Notify>,
    /// Its key in [`IdleQueue::by_age`] while no request is in progress.
    queued: Mutex<Option<u64>>,
}

impl Conn {
    fn new(slots: Arc<Slots>) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            slots,
            evict: Arc::new(Notify::new()),
            queued: Mutex::new(None),
        });
        conn.idle();
        conn
    }

    fn queued(&self) -> MutexGuard<'_, Option<u64>> {
        self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// No request in progress: evictable, newest in the queue.
    fn idle(&self) {
        let mut queued = self.queued();
        let mut queue = self.slots.queue();
        if let Some(old) = queued.take() {
            queue.by_age.remove(&old);
        }
        let key = queue.next;
        queue.next += 1;
        queue.by_age.insert(key, self.evict.clone());
        *queued = Some(key);
        drop(queue);
        self.slots.became_idle.notify_one();
    }

    /// A request in progress: not evictable.
    fn busy(&self) {
        if let Some(key) = self.queued().take() {
            self.slots.queue().by_age.remove(&key);
        }
    }

    fn is_idle(&self) -> bool {
        self.queued().is_some()
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.busy();
    }
}

/// When a connection last moved a byte, in milliseconds since it was accepted, and how many
/// handlers work on it with the body in ([`ConnInfo::working`]).
#[derive(Clone)]
struct Activity {
    since: Instant,
    last_ms: Arc<AtomicU64>,
    working: Arc<AtomicUsize>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            since: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
            working: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Resolves once no byte has moved for `limit` while no handler was working.
    async fn stalled(&self, limit: Duration) {
        loop {
            if self.working.load(Ordering::Relaxed) > 0 {
                tokio::time::sleep(limit).await;
                continue;
            }
            let last = self.since + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let due = last + limit;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}

/// A stream that records [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    //! The limits against a real socket on 127.0.0.1, with short timeouts. The real binary's
    //! defaults are tested under the cluster in `tests/http_limits.rs`.

    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::time::{Instant, timeout};

    use super::{Limits, serve_listener};

    const GET: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const HALF: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

    fn router() -> Router {
        Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(600)).await;
                    "slow\n"
                }),
            )
            .route("/echo", axum::routing::post(|body: String| async { body }))
            .route(
                "/work",
                axum::routing::post(|request: axum::extract::Request| async move {
                    let _working = request
                        .extensions()
                        .get::<super::ConnInfo>()
                        .expect("every request carries its connection")
                        .working();
                    tokio::time::sleep(Duration::from_millis(900)).await;
                    "done\n"
                }),
            )
    }

    /// Starts a server; the returned sender shuts it down, the handle ends after that.
    async fn start(
        limits: Limits,
    ) -> (
        std::net::SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_listener(listener, router(), limits, async {
            let _ = rx.await;
        }));
        (addr, tx, server)
    }

    fn limits(max_connections: usize) -> Limits {
        Limits {
            header_read_timeout: Duration::from_millis(400),
            io_timeout: Duration::from_secs(5),
            max_connections,
        }
    }

    /// Reads until the server closes; the response bytes (a reset counts as closed).
    async fn read_to_close(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + within;
        loop {
            match timeout(deadline - Instant::now(), s.read(&mut buf)).await {
                Err(_) => return None,
                Ok(Ok(0)) => return Some(out),
                Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(out),
                Ok(Err(e)) => panic!("read: {e}"),
            }
        }
    }

    /// Whether the server still holds `s` open (no EOF within a short wait).
    async fn still_open(s: &mut TcpStream) -> bool {
        read_to_close(s, Duration::from_millis(100)).await.is_none()
    }

    async fn get_healthz(addr: std::net::SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let body = read_to_close(&mut s, Duration::from_secs(2))
            .await
            .expect("the response within 2 s");
        String::from_utf8_lossy(&body).into_owned()
    }

    #[tokio::test]
    async fn half_headers_and_idle_keep_alive_are_closed_after_the_header_timeout() {
        let (addr, _stop, _server) = start(limits(16)).await;
        let started = Instant::now();
        let mut half = TcpStream::connect(addr).await.unwrap();
        half.write_all(HALF).await.unwrap();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut kept = TcpStream::connect(addr).await.unwrap();
        kept.write_all(GET).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = kept.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
        for s in [&mut half, &mut silent, &mut kept] {
            read_to_close(s, Duration::from_secs(3))
                .await
                .expect("closed by the server");
        }
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(350) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn a_stalled_request_body_is_cut_by_the_io_timeout() {
        let (addr, _stop, _server) = start(Limits {
            header_read_timeout: Duration::from_secs(30),
            io_timeout: Duration::from_millis(400),
            max_connections: 4,
        })
        .await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf")
            .await
            .unwrap();
        let started = Instant::now();
        read_to_close(&mut s, Duration::from_secs(3))
            .await
            .expect("closed by the server");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(350) && took < Duration::from_secs(2),
            "{took:?}"
        );
        // A body that keeps coming is not cut.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
        for b in [b"a", b"b", b"c", b"d"] {
            tokio::time::sleep(Duration::from_millis(250)).await;
            s.write_all(b).await.unwrap();
        }
        let body = read_to_close(&mut s, Duration::from_secs(2)).await.unwrap();
        assert!(
            body.ends_with(b"abcd"),
            "{:?}",
            String::from_utf8_lossy(&body)
        );
    }

    /// A handler that works on a request whose body is in holds the I/O timeout off; the
    /// timeout counts again once it answers.
    #[tokio::test]
    async fn the_io_timeout_waits_for_a_working_handler() {
        let (addr, _stop, _server) = start(Limits {
            header_read_timeout: Duration::from_secs(30),
            io_timeout: Duration::from_millis(300),
            max_connections: 4,
        })
        .await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /work HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 1024];
        let n = timeout(Duration::from_secs(3), s.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
        assert!(started.elapsed() >= Duration::from_millis(850));
        // Then idle: cut after the I/O timeout, as before.
        read_to_close(&mut s, Duration::from_secs(2))
            .await
            .expect("closed by the server");
    }

    #[test]
    fn metric_labels_come_from_the_route_table() {
        use super::{API_ROUTES, OTHER_ROUTE, method_label, route_label};
        assert_eq!(route_label(&API_ROUTES, "/v1/verify"), "/v1/verify");
        assert_eq!(route_label(&API_ROUTES, "/v1/verify/"), OTHER_ROUTE);
        assert_eq!(route_label(&API_ROUTES, "/anything/at/all"), OTHER_ROUTE);
        assert_eq!(method_label(&axum::http::Method::POST), "post");
        let brew = axum::http::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&brew), "unknown");
    }

    #[tokio::test]
    async fn over_the_cap_the_connection_idle_longest_makes_room() {
        let (addr, _stop, _server) = start(Limits {
            header_read_timeout: Duration::from_secs(30),
            ..limits(4)
        })
        .await;
        let mut conns = Vec::new();
        for _ in 0..10 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(HALF).await.unwrap();
            conns.push(s);
            // The order of arrival is the order of age.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut open = Vec::new();
        for s in &mut conns {
            open.push(still_open(s).await);
        }
        assert_eq!(
            open,
            [
                false, false, false, false, false, false, true, true, true, true
            ]
        );
        // A probe still gets through (and displaces the oldest of the four).
        assert!(get_healthz(addr).await.starts_with("HTTP/1.1 200"));
        assert!(!still_open(&mut conns[6]).await);
        assert!(still_open(&mut conns[9]).await);
    }

    #[tokio::test]
    async fn requests_in_progress_are_not_displaced() {
        let (addr, _stop, _server) = start(limits(2)).await;
        let mut slow = Vec::new();
        for _ in 0..2 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            slow.push(s);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        // Waits for a slot: both are serving a request.
        let probe = get_healthz(addr).await;
        assert!(probe.starts_with("HTTP/1.1 200"), "{probe}");
        assert!(started.elapsed() >= Duration::from_millis(300));
        for s in &mut slow {
            let body = read_to_close(s, Duration::from_secs(2)).await.unwrap();
            assert!(body.starts_with(b"HTTP/1.1 200"));
            assert!(body.ends_with(b"slow\n"));
        }
    }

    #[tokio::test]
    async fn shutdown_closes_idle_connections_and_finishes_requests() {
        let (addr, stop, server) = start(Limits {
            header_read_timeout: Duration::from_secs(30),
            ..limits(8)
        })
        .await;
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.send(()).unwrap();
        read_to_close(&mut idle, Duration::from_millis(300))
            .await
            .expect("an idle connection closes at once");
        let body = read_to_close(&mut slow, Duration::from_secs(2))
            .await
            .unwrap();
        assert!(body.ends_with(b"slow\n"), "{body:?}");
        timeout(Duration::from_secs(2), server)
            .await
            .expect("the server returns once its connections are done")
            .unwrap()
            .unwrap();
        assert!(TcpStream::connect(addr).await.is_err());
    }

    /// `:8080` (here `[::]:0`) answers on IPv4 and IPv6 alike, as Go's listener does.
    #[tokio::test]
    async fn the_unspecified_address_takes_ipv4_and_ipv6() {
        let listener = super::listen(std::net::SocketAddr::from((
            std::net::Ipv6Addr::UNSPECIFIED,
            0,
        )))
        .unwrap();
        let port = listener.local_addr().unwrap().port();
        for addr in ["127.0.0.1", "[::1]"] {
            let target = format!("{addr}:{port}");
            let connect = tokio::net::TcpStream::connect(&target);
            let (connected, accepted) = tokio::join!(connect, listener.accept());
            assert!(connected.is_ok() && accepted.is_ok(), "{target}");
        }
    }
}
