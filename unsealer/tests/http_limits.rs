//! The unsealer's two HTTP listeners against a flood of idle and half-sent connections: the
//! real binary with its real limits (10 s header-read timeout, 256 connections per listener),
//! under the real cluster, on 127.0.0.1 only.
//!
//! Run: `tests/cluster/with-cluster.sh cargo test -p unsealer --test http_limits`.
//! `HTTP_LIMITS_FLOOD=N` changes the number of idle and of half-header connections sent to the
//! API port (default 1000 each), e.g. to measure memory at 10,000.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use support::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// The unsealer's defaults (`unsealer/src/http.rs`, `Limits::default`).
const CAP: usize = 256;
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Descriptors beyond the baseline and the caps that the check tolerates (the listeners'
/// connection being accepted while another makes room, a kube client reconnecting).
const FD_SLACK: usize = 16;
/// Half a request head: the header line never ends.
const HALF: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

fn fds(pid: u32) -> Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("reading /proc/{pid}/fd"))?
        .count())
}

fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

/// Samples the process's descriptor count and RSS until stopped; returns the maxima.
struct Sampler {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Result<(usize, u64)>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let (mut max_fds, mut max_rss) = (0, 0);
            loop {
                max_fds = max_fds.max(fds(pid)?);
                max_rss = max_rss.max(rss_kib(pid)?);
                if flag.load(Ordering::Relaxed) {
                    return Ok((max_fds, max_rss));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Sampler { stop, task }
    }

    async fn finish(self) -> Result<(usize, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await?
    }
}

/// Opens `n` connections to `addr`, one after the other, each sending `first` (maybe nothing)
/// and then watched by a task that resolves to when the server closed it (at most `limit`
/// after it was opened).
async fn open(
    addr: SocketAddr,
    n: usize,
    first: &[u8],
    limit: Duration,
) -> Result<Vec<JoinHandle<Option<Duration>>>> {
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = timeout(Duration::from_secs(5), TcpStream::connect(addr))
            .await
            .with_context(|| format!("connection {i} to {addr} not established in 5 s"))??;
        let opened = Instant::now();
        if !first.is_empty() {
            s.write_all(first).await?;
        }
        conns.push(tokio::spawn(closed_after(s, opened, limit)));
    }
    Ok(conns)
}

/// Waits (at most `limit`) for the server to close the connection; how long after `opened` it
/// did. What the server sends first (an error response) is read and ignored; a reset counts.
async fn closed_after(mut s: TcpStream, opened: Instant, limit: Duration) -> Option<Duration> {
    let mut buf = [0u8; 1024];
    let deadline = opened + limit;
    loop {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            s.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(opened.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

async fn close_times(tasks: Vec<JoinHandle<Option<Duration>>>) -> Result<Vec<Option<Duration>>> {
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await?);
    }
    Ok(out)
}

/// `GET path` on a fresh connection (`Connection: close`) within 2 s; the status line and body.
async fn probe(addr: SocketAddr, path: &str) -> Result<(String, String, Duration)> {
    let started = Instant::now();
    let got = timeout(Duration::from_secs(2), async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
        let mut response = Vec::new();
        s.read_to_end(&mut response).await?;
        anyhow::Ok(String::from_utf8_lossy(&response).into_owned())
    })
    .await
    .with_context(|| format!("GET {path} on {addr}: no response in 2 s"))??;
    let took = started.elapsed();
    let (head, body) = got
        .split_once("\r\n\r\n")
        .with_context(|| format!("GET {path}: not an HTTP response: {got:?}"))?;
    let status = head.lines().next().unwrap_or_default().to_owned();
    Ok((status, body.to_owned(), took))
}

/// Probes `/healthz` `n` times, every `every`, asserting each answer; the slowest answer.
async fn probe_healthz(api: SocketAddr, n: usize, every: Duration) -> Result<Duration> {
    let mut slowest = Duration::ZERO;
    for i in 0..n {
        let (status, body, took) = probe(api, "/healthz")
            .await
            .with_context(|| format!("probe {i}"))?;
        ensure!(
            status == "HTTP/1.1 200 OK" && body == "ok\n",
            "probe {i}: {status} {body:?}"
        );
        slowest = slowest.max(took);
        tokio::time::sleep(every).await;
    }
    Ok(slowest)
}

fn summary(times: &[Option<Duration>]) -> (usize, usize, usize, Duration) {
    let open = times.iter().filter(|t| t.is_none()).count();
    let early = times
        .iter()
        .flatten()
        .filter(|t| **t < HEADER_TIMEOUT - Duration::from_millis(500))
        .count();
    let timed_out = times.len() - open - early;
    let last = times.iter().flatten().max().copied().unwrap_or_default();
    (early, timed_out, open, last)
}

#[tokio::test]
async fn slow_clients_are_shed_and_healthz_keeps_answering() -> Result<()> {
    let Some(env) = Env::start("http-limits").await? else {
        return Ok(());
    };
    let flood: usize = match std::env::var("HTTP_LIMITS_FLOOD") {
        Ok(n) => n.parse().context("HTTP_LIMITS_FLOOD")?,
        Err(_) => 1000,
    };
    let ctl = env.unsealer(&[]).await?;
    let pid = ctl.pid().context("the unsealer has exited")?;
    let api: SocketAddr = ([127, 0, 0, 1], ctl.port).into();
    let metrics: SocketAddr = ([127, 0, 0, 1], ctl.metrics_port).into();
    // Let start-up settle (watches open, first key loaded), then take the baseline.
    probe_healthz(api, 3, Duration::from_millis(200)).await?;
    let (base_fds, base_rss) = (fds(pid)?, rss_kib(pid)?);
    eprintln!("baseline: {base_fds} descriptors, RSS {} KiB", base_rss);

    // --- 1. Flood both listeners past their caps: idle connections first, then half heads. ---
    let sampler = Sampler::start(pid);
    let flood_started = Instant::now();
    let probes = {
        // /healthz answers all through the flood and while it is held.
        tokio::spawn(probe_healthz(api, 15, Duration::from_millis(300)))
    };
    let limit = HEADER_TIMEOUT + Duration::from_secs(15);
    let api_idle = open(api, flood, b"", limit).await?;
    let api_half = open(api, flood, HALF, limit).await?;
    let metrics_idle = open(metrics, 300, b"", limit).await?;
    let metrics_half = open(metrics, 300, HALF, limit).await?;
    let opened_in = flood_started.elapsed();
    eprintln!(
        "opened {} connections to the API port and 600 to the metrics port in {opened_in:?}",
        2 * flood
    );
    let slowest = probes.await??;
    let (status, body, _) = probe(metrics, "/metrics").await?;
    ensure!(
        status == "HTTP/1.1 200 OK" && body.contains("sealed_secrets_controller_"),
        "/metrics during the flood: {status}\n{body}"
    );

    let api_idle = close_times(api_idle).await?;
    let api_half = close_times(api_half).await?;
    let metrics_idle = close_times(metrics_idle).await?;
    let metrics_half = close_times(metrics_half).await?;
    let (max_fds, max_rss) = sampler.finish().await?;
    eprintln!(
        "during the flood: at most {max_fds} descriptors (baseline {base_fds}), RSS at most {} KiB \
         (baseline {base_rss}); slowest /healthz {slowest:?}",
        max_rss
    );
    for (what, times) in [
        ("API idle", &api_idle),
        ("API half-header", &api_half),
        ("metrics idle", &metrics_idle),
        ("metrics half-header", &metrics_half),
    ] {
        let (early, timed_out, open, last) = summary(times);
        eprintln!(
            "{what}: {early} closed early to make room, {timed_out} closed by the header \
             timeout, {open} still open after {limit:?}; last closed {last:?} after opening"
        );
        ensure!(
            open == 0,
            "{what}: {open} connections still open {limit:?} after they were opened"
        );
    }
    ensure!(
        max_fds <= base_fds + 2 * (CAP + 1) + FD_SLACK,
        "{max_fds} descriptors open during the flood: more than the baseline {base_fds} + 2 × \
         ({CAP} + 1) + {FD_SLACK}"
    );
    // The newest half heads outlived the flood: those were closed by the timeout itself.
    let (_, api_timed_out, _, _) = summary(&api_half);
    let (_, metrics_timed_out, _, _) = summary(&metrics_half);
    ensure!(
        api_timed_out >= CAP / 2 && metrics_timed_out >= CAP / 2,
        "too few half-header connections lived to the header timeout: API {api_timed_out}, \
         metrics {metrics_timed_out}"
    );
    let settled = fds(pid)?;
    ensure!(
        settled <= base_fds + 4,
        "{settled} descriptors after the flood (baseline {base_fds})"
    );

    // --- 2. Under the cap, timed: half heads, silent connections and an idle keep-alive
    // connection are all closed by the server at the header timeout, not before. ---
    let half = open(metrics, 100, HALF, limit).await?;
    let silent = open(metrics, 100, b"", limit).await?;
    let mut kept = TcpStream::connect(api).await?;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await?;
    let mut buf = [0u8; 1024];
    let n = timeout(Duration::from_secs(2), kept.read(&mut buf)).await??;
    ensure!(
        buf[..n].starts_with(b"HTTP/1.1 200 OK"),
        "keep-alive request: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let kept = vec![tokio::spawn(closed_after(kept, Instant::now(), limit))];
    // Still answering while they are held.
    probe_healthz(api, 5, Duration::from_millis(500)).await?;
    let during = fds(pid)?;
    ensure!(
        during >= base_fds + 200,
        "the 200 connections should be open now: {during} descriptors (baseline {base_fds})"
    );
    for (what, times) in [
        ("half-header", close_times(half).await?),
        ("silent", close_times(silent).await?),
        ("idle keep-alive", close_times(kept).await?),
    ] {
        let first = times.iter().flatten().min().copied();
        let last = times.iter().flatten().max().copied();
        eprintln!("{what}: closed between {first:?} and {last:?} after opening");
        for (i, t) in times.iter().enumerate() {
            match t {
                None => bail!("{what} connection {i} still open after {limit:?}"),
                Some(t) if *t < HEADER_TIMEOUT - Duration::from_millis(200) => {
                    bail!("{what} connection {i} closed after {t:?}, before the header timeout")
                }
                Some(t) if *t > HEADER_TIMEOUT + Duration::from_secs(5) => {
                    bail!("{what} connection {i} closed only after {t:?}")
                }
                Some(_) => {}
            }
        }
    }
    let after = fds(pid)?;
    ensure!(
        after <= base_fds + 4,
        "{after} descriptors at the end (baseline {base_fds})"
    );
    env.finish().await
}
