//! Command-line flags, named as the reference controller's, each also settable as
//! `SEALED_SECRETS_<FLAG>` (a flag on the command line wins).

use std::net::SocketAddr;
use std::time::Duration;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use time::OffsetDateTime;

#[derive(Debug, Parser)]
#[command(
    name = "unsealer",
    disable_version_flag = true,
    about = "Unseals SealedSecrets into Secrets; a drop-in for the Bitnami controller"
)]
pub struct Config {
    /// Print `<name> version: v<version>` (`controller version: ...` under the reference's
    /// binary name, as scripts and the reference's suite expect) and exit.
    #[arg(long)]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Prefix (generateName) of the key Secrets; a Secret named exactly this is loaded too.
    #[arg(long, env = "SEALED_SECRETS_KEY_PREFIX", default_value = "sealed-secrets-key", value_parser = parse_key_prefix)]
    pub key_prefix: String,

    /// Size in bits of generated keys (2048, 3072 or 4096).
    #[arg(long, env = "SEALED_SECRETS_KEY_SIZE", default_value_t = 4096)]
    pub key_size: u32,

    /// Validity of generated certificates.
    #[arg(long, env = "SEALED_SECRETS_KEY_TTL", default_value = "87600h", value_parser = parse_duration)]
    pub key_ttl: Duration,

    /// Common name of generated certificates.
    #[arg(long, env = "SEALED_SECRETS_MY_CN", default_value = "")]
    pub my_cn: String,

    /// A new key every period; 0 turns renewal off.
    #[arg(long, alias = "rotate-period", env = "SEALED_SECRETS_KEY_RENEW_PERIOD", default_value = "720h", value_parser = parse_duration)]
    pub key_renew_period: Duration,

    /// RFC 1123Z time: if the newest key is older, a new one is made at start.
    /// Empty (the reference's default): no cutoff.
    #[arg(long, env = "SEALED_SECRETS_KEY_CUTOFF_TIME", default_value = "", value_parser = parse_cutoff)]
    pub key_cutoff_time: Cutoff,

    /// How the newest (sealing) key is chosen.
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_ORDER_PRIORITY",
        value_enum,
        default_value = "CertNotBefore"
    )]
    pub key_order_priority: KeyOrder,

    /// Accept the deprecated v1 `spec.data` format.
    #[arg(long, env = "SEALED_SECRETS_ACCEPT_DEPRECATED_V1_DATA", action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub accept_deprecated_v1_data: bool,

    /// Watch SealedSecrets in all namespaces; false: only the controller's own.
    #[arg(long, env = "SEALED_SECRETS_ALL_NAMESPACES", action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub all_namespaces: bool,

    /// Comma-separated namespaces to watch besides the controller's own (narrows the watch).
    #[arg(
        long,
        env = "SEALED_SECRETS_ADDITIONAL_NAMESPACES",
        value_delimiter = ','
    )]
    pub additional_namespaces: Vec<String>,

    /// Write `.status` on SealedSecrets.
    #[arg(long, env = "SEALED_SECRETS_UPDATE_STATUS", action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub update_status: bool,

    /// Retries of a failure that may heal (a conflict, a server error), with capped backoff;
    /// after that many the object waits until it or the keys change. Failures that no retry
    /// cures are not retried at all, and an unreachable API server is retried until it is back.
    #[arg(long, env = "SEALED_SECRETS_MAX_UNSEAL_RETRIES", default_value_t = 5)]
    pub max_unseal_retries: u32,

    /// Watch only SealedSecrets (and Secrets) with these labels (a Kubernetes label selector).
    #[arg(long, env = "SEALED_SECRETS_LABEL_SELECTOR", value_parser = parse_selector)]
    pub label_selector: Option<String>,

    /// Labels added to generated key Secrets: `k=v,k=v`.
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_LABELS", default_value = "", value_parser = parse_pairs)]
    pub privatekey_labels: Pairs,

    /// Annotations added to generated key Secrets: `k=v,k=v`.
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_ANNOTATIONS", default_value = "", value_parser = parse_pairs)]
    pub privatekey_annotations: Pairs,

    /// Do not watch Secrets, so deleted Secrets are not recreated (less memory and RBAC).
    #[arg(long, env = "SEALED_SECRETS_SKIP_RECREATE", action = ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub skip_recreate: bool,

    /// When a Secret the controller wrote changes its data, restart (as `kubectl rollout
    /// restart`) the Deployments, StatefulSets and DaemonSets of its namespace whose pods read
    /// it and that carry `sealedsecrets.bitnami.com/restart-on-change: "true"`. Needs `list`
    /// and `patch` on those kinds.
    #[arg(long, env = "SEALED_SECRETS_RESTART_CONSUMERS", action = ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub restart_consumers: bool,

    /// Accepted for compatibility, no effect: Secrets always go with their SealedSecret by
    /// ownerReference garbage collection.
    #[arg(long, env = "SEALED_SECRETS_OLD_GC_BEHAVIOR", action = ArgAction::Set, num_args = 0..=1, default_value_t = false, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub old_gc_behavior: bool,

    /// Accepted for compatibility, no effect: the client is not throttled here (the reference's
    /// 5 requests a second made a first sync of 1,000 objects take 10 minutes); the work in
    /// flight is bounded instead.
    #[arg(long, env = "SEALED_SECRETS_KUBECLIENT_QPS", default_value_t = 5.0)]
    pub kubeclient_qps: f32,

    /// Accepted for compatibility, no effect (see --kubeclient-qps).
    #[arg(long, env = "SEALED_SECRETS_KUBECLIENT_BURST", default_value_t = 10)]
    pub kubeclient_burst: u32,

    /// Elect a leader on a Lease in the controller's namespace: every replica serves the HTTP
    /// API, only the leader reconciles and manages keys. Off: this replica always leads.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT", action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub leader_elect: bool,

    /// Name of the Lease.
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECT_LEASE_NAME",
        default_value = "sealed-secrets-controller"
    )]
    pub leader_elect_lease_name: String,

    /// How long the lease holds without renewal: the longest a failover takes.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub leader_elect_lease_duration: Duration,

    /// Info and debug lines to stdout, warnings and errors to stderr (false: all to stderr).
    #[arg(long, env = "SEALED_SECRETS_LOG_INFO_STDOUT", action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub log_info_stdout: bool,

    /// Accepted for compatibility: key Secrets are always watched (in the own namespace only).
    #[arg(long, env = "SEALED_SECRETS_WATCH_FOR_SECRETS", action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true", value_parser = shared::go::parse_bool)]
    pub watch_for_secrets: bool,

    /// HTTP API address (`/healthz`, `/v1/cert.pem`).
    #[arg(long, env = "SEALED_SECRETS_LISTEN_ADDR", default_value = ":8080", value_parser = parse_addr)]
    pub listen_addr: SocketAddr,

    /// Sustained requests a second each client may send to `/v1/verify` and to `/v1/rotate`
    /// (each path counted apart; a client is the last `X-Forwarded-For` entry, else the peer).
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: u32,

    /// Requests a client may send beyond the rate in one burst (as the reference: a burst of 2
    /// admits 3 requests at once).
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT_BURST", default_value_t = 2)]
    pub rate_limit_burst: u32,

    /// Time to receive the body of a `/v1/verify` or `/v1/rotate` request; 0: no limit but the
    /// 30 s I/O timeout. (The request head must always arrive within 10 s.)
    #[arg(long, env = "SEALED_SECRETS_READ_TIMEOUT", default_value = "2m", value_parser = parse_duration)]
    pub read_timeout: Duration,

    /// Time to answer a `/v1/verify` or `/v1/rotate` request once its body is in (waiting for
    /// a core included); past it the answer is 503. 0: no limit.
    #[arg(long, env = "SEALED_SECRETS_WRITE_TIMEOUT", default_value = "2m", value_parser = parse_duration)]
    pub write_timeout: Duration,

    /// Metrics address (`/metrics`).
    #[arg(long, env = "SEALED_SECRETS_LISTEN_METRICS_ADDR", default_value = ":8081", value_parser = parse_addr)]
    pub listen_metrics_addr: SocketAddr,

    /// Log format.
    #[arg(
        long,
        env = "SEALED_SECRETS_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// Log level (trace, debug, info, warn, error); RUST_LOG overrides it.
    #[arg(long, env = "SEALED_SECRETS_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Namespace of the key Secrets (default: POD_NAMESPACE, the service-account namespace, `kube-system`).
    #[arg(long, env = "SEALED_SECRETS_NAMESPACE")]
    pub namespace: Option<String>,

    /// Kubeconfig to use instead of the in-cluster configuration.
    #[arg(long)]
    pub kubeconfig: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the SealedSecret CustomResourceDefinition as YAML.
    Crd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyOrder {
    #[value(name = "CertNotBefore")]
    CertNotBefore,
    #[value(name = "SecretCreationTimestamp")]
    SecretCreationTimestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Go duration syntax as the reference takes it (`720h`, `1h30m`, `0`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s).map_err(|e| format!("invalid duration {s:?}: {e}"))
}

/// `--key-cutoff-time`: a time, or none when the flag is empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cutoff(pub Option<OffsetDateTime>);

fn parse_cutoff(s: &str) -> Result<Cutoff, String> {
    if s.trim().is_empty() {
        return Ok(Cutoff(None));
    }
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc2822)
        .map(|t| Cutoff(Some(t)))
        .map_err(|e| {
            format!("invalid RFC1123Z time {s:?} (like \"Mon, 02 Jan 2006 15:04:05 -0700\"): {e}")
        })
}

fn parse_key_prefix(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 245
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "invalid key prefix {s:?}: use [a-z0-9-], at most 245 characters"
        ))
    }
}

/// `:8080` (Go's any-address form) or `host:port`.
/// `k=v` pairs, comma-separated, as the reference's `--privatekey-labels`.
pub type Pairs = Vec<(String, String)>;

fn parse_pairs(s: &str) -> Result<Pairs, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("{:?} is not key=value", shared::text::escape(p)))?;
            let k = k.trim();
            if k.is_empty() {
                return Err(format!("{:?} has an empty key", shared::text::escape(p)));
            }
            Ok((k.to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// A label selector, checked for the characters selectors may hold.
fn parse_selector(s: &str) -> Result<String, String> {
    let ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " -_./=!,()".contains(c));
    if ok {
        Ok(s.trim().to_owned())
    } else {
        Err(format!(
            "{:?} is not a label selector",
            shared::text::escape(s)
        ))
    }
}

/// A listen address as Go takes it: `:8080` means every address, IPv6 and IPv4 (the listener
/// falls back to IPv4 alone where there is no IPv6).
fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') {
        format!("[::]{s}")
    } else {
        s.to_owned()
    };
    full.parse()
        .map_err(|e| format!("invalid address {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_values_parse() {
        assert_eq!(
            parse_duration("720h").unwrap(),
            Duration::from_secs(720 * 3600)
        );
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_addr(":8080").unwrap().port(), 8080);
        assert!(parse_addr(":8080").unwrap().ip().is_unspecified());
        assert!(parse_addr("127.0.0.1:1").unwrap().ip().is_loopback());
        assert!(
            parse_cutoff("Mon, 02 Jan 2006 15:04:05 -0700")
                .unwrap()
                .0
                .is_some()
        );
        assert_eq!(parse_cutoff(""), Ok(Cutoff(None)));
        assert!(parse_cutoff("soon").is_err());
        assert!(parse_key_prefix("Bad_Prefix").is_err());
    }

    #[test]
    fn bool_flags_take_go_syntax() {
        let c = Config::try_parse_from([
            "unsealer",
            "--all-namespaces=false",
            "--update-status",
            "false",
        ])
        .unwrap();
        assert!(!c.all_namespaces);
        assert!(!c.update_status);
        assert!(c.accept_deprecated_v1_data);
        let c = Config::try_parse_from([
            "unsealer",
            "--additional-namespaces",
            "a,b",
            "--rotate-period",
            "0",
        ])
        .unwrap();
        assert_eq!(c.additional_namespaces, ["a", "b"]);
        assert_eq!(c.key_renew_period, Duration::ZERO);
        // Go's strconv.ParseBool, as the reference's flags: T and 0 yes, yes and on no.
        let c = Config::try_parse_from(["unsealer", "--update-status=0", "--all-namespaces=T"])
            .unwrap();
        assert!(!c.update_status && c.all_namespaces);
        assert!(Config::try_parse_from(["unsealer", "--update-status=yes"]).is_err());
        // The reference's other flags are accepted.
        let c = Config::try_parse_from([
            "unsealer",
            "--label-selector=team=a,tier!=x",
            "--privatekey-labels=owner=ops, env=prod",
            "--privatekey-annotations=",
            "--skip-recreate",
            "--old-gc-behavior=false",
            "--kubeclient-qps=20",
            "--kubeclient-burst=40",
            "--log-info-stdout=false",
            "--max-unseal-retries=3",
        ])
        .unwrap();
        assert_eq!(c.label_selector.as_deref(), Some("team=a,tier!=x"));
        assert_eq!(
            c.privatekey_labels,
            [
                ("owner".into(), "ops".into()),
                ("env".into(), "prod".into())
            ]
        );
        assert!(c.privatekey_annotations.is_empty());
        assert!(c.skip_recreate && !c.log_info_stdout);
        assert!(Config::try_parse_from(["unsealer", "--privatekey-labels=novalue"]).is_err());
        assert!(Config::try_parse_from(["unsealer", "--label-selector=a;b"]).is_err());
    }

    #[test]
    fn http_api_flags_take_the_reference_defaults() {
        let c = Config::try_parse_from(["unsealer"]).unwrap();
        assert_eq!((c.rate_limit, c.rate_limit_burst), (2, 2));
        assert_eq!(c.read_timeout, Duration::from_secs(120));
        assert_eq!(c.write_timeout, Duration::from_secs(120));
        let c = Config::try_parse_from([
            "unsealer",
            "--rate-limit=5",
            "--rate-limit-burst=0",
            "--read-timeout=10s",
            "--write-timeout=0",
        ])
        .unwrap();
        assert_eq!((c.rate_limit, c.rate_limit_burst), (5, 0));
        assert_eq!(c.read_timeout, Duration::from_secs(10));
        assert_eq!(c.write_timeout, Duration::ZERO);
        // The reference divides by the rate: 0 crashes it. Refused here.
        assert!(Config::try_parse_from(["unsealer", "--rate-limit=0"]).is_err());
    }
}
