//! The sealing certificate given with `--cert`: from a file, a `file://` URL or an http(s)
//! URL, without any cluster (the controller's comes through `cluster`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use shared::Certificate;
use time::OffsetDateTime;

use crate::io::{self, Limit};

/// How long fetching `--cert` from an http(s) URL may take without `--request-timeout` (or
/// with `0`, kubectl's "no explicit timeout"): DNS, connecting, TLS, the request and the
/// whole body. A certificate is a few KiB, so a server that has not sent it by then is stuck.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting (and the TLS handshake) may take, within the overall timeout: an
/// address that silently drops packets fails after this rather than the full timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate's bytes, as given. `request_timeout` is `--request-timeout`, `None` for
/// the default.
pub fn fetch(source: &str, request_timeout: Option<Duration>) -> Result<Vec<u8>> {
    match url_scheme(source) {
        None => io::read_file(Path::new(source), Limit::CERT),
        Some(scheme) => match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                let rest = &source[scheme.len() + 3..];
                // file:///abs/path and file://localhost/abs/path both name /abs/path.
                let path = rest.strip_prefix("localhost").unwrap_or(rest);
                io::read_file(Path::new(path), Limit::CERT)
            }
            "http" | "https" => fetch_http(source, request_timeout),
            other => bail!("cannot fetch {source:?}: unsupported protocol scheme {other:?}"),
        },
    }
}

/// The URL scheme, if `s` is a URL. A one-letter scheme is a Windows drive (`C:\...`), as in
/// kubeseal, so it is a path.
fn url_scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    let valid = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

fn fetch_http(url: &str, request_timeout: Option<Duration>) -> Result<Vec<u8>> {
    let total = request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
    let connect = total.min(CONNECT_TIMEOUT);
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    // Proxy settings come from HTTP(S)_PROXY / NO_PROXY, as Go's default transport reads them.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_connect(Some(connect))
        // End to end, redirects and the body included.
        .timeout_global(Some(total))
        .build()
        .into();
    let failed = |e: ureq::Error| -> anyhow::Error {
        let timed_out = match &e {
            ureq::Error::Timeout(ureq::Timeout::Connect) => Some(("connecting ", connect)),
            ureq::Error::Timeout(_) => Some(("", total)),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => Some(("", total)),
            _ => None,
        };
        match (timed_out, e) {
            (Some((phase, after)), _) => {
                let hint = if request_timeout.is_some() {
                    " (--request-timeout)"
                } else {
                    " (the default; --request-timeout sets it)"
                };
                anyhow!(
                    "cannot fetch {url:?}: timed out {phase}after {}{hint}",
                    go_duration(after)
                )
            }
            (None, ureq::Error::BodyExceedsLimit(_)) => anyhow!(
                "cannot fetch {url:?}: larger than {}, the limit for {}",
                Limit::CERT,
                Limit::CERT.what
            ),
            (None, e) => anyhow!("cannot fetch {url:?}: {e}"),
        }
    };
    let mut response = agent.get(url).call().map_err(failed)?;
    let status = response.status();
    if status != ureq::http::StatusCode::OK {
        let text = match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        };
        bail!("cannot fetch {url:?}: {text}");
    }
    response
        .body_mut()
        .with_config()
        .limit(Limit::CERT.bytes)
        .read_to_vec()
        .map_err(failed)
}

/// A duration as Go prints one, for the common cases: `30s`, `1m30s`, `1.5s`, `500ms`.
pub fn go_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let secs = d.as_secs();
    let frac = d.subsec_millis();
    let seconds = if frac == 0 {
        format!("{}s", secs % 60)
    } else {
        let text = format!("{}.{frac:03}", secs % 60);
        format!("{}s", text.trim_end_matches('0'))
    };
    match (secs / 3600, secs / 60 % 60) {
        (0, 0) => seconds,
        (0, m) => format!("{m}m{seconds}"),
        (h, m) => format!("{h}h{m}m{seconds}"),
    }
}

/// Parses the first certificate and refuses an expired one, as kubeseal does before sealing.
pub fn parse_for_sealing(pem: &[u8], source: &str, now: OffsetDateTime) -> Result<Certificate> {
    let cert = Certificate::from_pem(pem).map_err(|e| anyhow!("certificate {source}: {e}"))?;
    if cert.is_expired_at(now) {
        bail!(
            "failed to encrypt using an expired certificate on {}",
            go_date(cert.not_after())
        );
    }
    Ok(cert)
}

/// Go's `"January 2, 2006"` layout, which kubeseal uses for the expiry date.
fn go_date(t: OffsetDateTime) -> String {
    format!("{} {}, {}", t.month(), t.day(), t.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_drive_letters() {
        assert_eq!(url_scheme("https://x/cert.pem"), Some("https"));
        assert_eq!(url_scheme("file:///tmp/c.pem"), Some("file"));
        assert_eq!(url_scheme("C://temp/c.pem"), None);
        assert_eq!(url_scheme("certs/c.pem"), None);
        assert_eq!(url_scheme("dir with ://odd/name"), None);
    }

    #[test]
    fn go_duration_layout() {
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
    }

    #[test]
    fn go_date_layout() {
        let t = OffsetDateTime::from_unix_timestamp(2_111_328_000).unwrap();
        assert_eq!(go_date(t), "November 26, 2036");
    }
}
