//! Command-line flags, spelled as kubeseal spells them so `alias kubeseal=seal` works.
//!
//! Every flag can also come from `SEALED_SECRETS_<FLAG>` (upper case, `-` as `_`), as in
//! kubeseal; a flag given on the command line wins. Boolean flags take `--flag` (true) or
//! `--flag=<value>` (pflag's forms), and a value, on the command line or from the environment,
//! is read as Go's `strconv.ParseBool` reads it (`go_bool`): `1 t T TRUE true True` and
//! `0 f F FALSE false False`, nothing else (not yes/no/on/off).

use std::time::Duration;

use clap::{ArgAction, Parser};

/// Encrypts a Kubernetes Secret into a SealedSecret that only the cluster's controller can
/// decrypt.
///
/// Reads a Secret (JSON or YAML, several documents allowed) from --secret-file or stdin and
/// writes the SealedSecret to --sealed-secret-file or stdout. The certificate comes from the
/// controller, through the Kubernetes API server's service proxy (kubeconfig, --context and
/// the other connection flags below), or from --cert <file|url>, offline.
#[derive(Debug, Parser)]
// `args_override_self`: a repeated flag takes its last value, as pflag does
// (`--kubeconfig a --kubeconfig b` reads b); list flags still collect every value.
#[command(
    name = "seal",
    disable_version_flag = true,
    max_term_width = 100,
    args_override_self = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Certificate / public key file or URL (file://, http://, https://) to seal with, offline.
    /// Without it, the certificate is fetched from the controller. Given twice, the last one
    /// wins. Several clusters: --cert NAME=FILE|URL, once per cluster, and -w with {cluster}.
    // Every value is kept, for the named form; `plan` keeps only the last unnamed one.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE|URL")]
    pub cert: Vec<String>,

    /// How long each request to the cluster, or fetching --cert from an http(s) URL, may take
    /// (kubectl's syntax: 5s, 1m, 1m30s, or a bare number of seconds; 0 means the default,
    /// 30s).
    #[arg(
        long,
        env = "SEALED_SECRETS_REQUEST_TIMEOUT",
        value_name = "DURATION",
        value_parser = parse_request_timeout
    )]
    pub request_timeout: Option<Duration>,

    /// Scope of the sealed values: strict, namespace-wide or cluster-wide. A value other
    /// than strict rewrites the input's scope annotations; strict keeps an annotation the
    /// input already has.
    #[arg(
        long,
        env = "SEALED_SECRETS_SCOPE",
        default_value = "strict",
        value_name = "SCOPE"
    )]
    pub scope: String,

    /// Output format: json or yaml (default json; an output file ending in .yaml or .yml
    /// means yaml).
    #[arg(
        short = 'o',
        long,
        env = "SEALED_SECRETS_FORMAT",
        value_name = "FORMAT"
    )]
    pub format: Option<String>,

    /// Input file (default stdin).
    #[arg(
        short = 'f',
        long,
        env = "SEALED_SECRETS_SECRET_FILE",
        value_name = "FILE"
    )]
    pub secret_file: Option<String>,

    /// Output file (default stdout). Written atomically, and only if the run succeeds.
    #[arg(
        short = 'w',
        long,
        env = "SEALED_SECRETS_SEALED_SECRET_FILE",
        value_name = "FILE"
    )]
    pub sealed_secret_file: Option<String>,

    /// Encrypt one raw value (from --from-file or the input) and print the bare base64.
    #[arg(long, env = "SEALED_SECRETS_RAW", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = go_bool,
          value_name = "BOOL", hide_default_value = true, hide_possible_values = true)]
    pub raw: bool,

    /// Name of the sealed secret: needed by --raw with the strict scope; overrides the
    /// input's name otherwise.
    #[arg(long, env = "SEALED_SECRETS_NAME", value_name = "NAME")]
    pub name: Option<String>,

    /// Namespace of the sealed secret. It must agree with the input's namespace; an input
    /// without one takes it (else the kubeconfig context's namespace, else "default").
    #[arg(
        short = 'n',
        long,
        env = "SEALED_SECRETS_NAMESPACE",
        value_name = "NAMESPACE"
    )]
    pub namespace: Option<String>,

    /// With --raw: the value to encrypt, as [key=]path (the key is ignored).
    #[arg(long, env = "SEALED_SECRETS_FROM_FILE", value_name = "[KEY=]PATH")]
    pub from_file: Vec<String>,

    /// Seal the input and merge its items into this existing SealedSecret file, in place.
    #[arg(long, env = "SEALED_SECRETS_MERGE_INTO", value_name = "FILE")]
    pub merge_into: Option<String>,

    /// Allow a Secret with no data and no stringData.
    #[arg(long, env = "SEALED_SECRETS_ALLOW_EMPTY_DATA", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = go_bool,
          value_name = "BOOL", hide_default_value = true, hide_possible_values = true)]
    pub allow_empty_data: bool,

    /// Decrypt a SealedSecret offline with --recovery-private-key and print the Secret.
    #[arg(long, env = "SEALED_SECRETS_RECOVERY_UNSEAL", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = go_bool,
          value_name = "BOOL", hide_default_value = true, hide_possible_values = true)]
    pub recovery_unseal: bool,

    /// Private key file for --recovery-unseal: a PEM key, a Secret with tls.key, or a List
    /// of such Secrets (a key backup). Repeatable and comma-separated.
    #[arg(
        long,
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub recovery_private_key: Vec<String>,

    /// Print the certificate (the controller's, or the one given with --cert), e.g. to seal
    /// offline later with --cert.
    #[arg(long, env = "SEALED_SECRETS_FETCH_CERT", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = go_bool,
          value_name = "BOOL", hide_default_value = true, hide_possible_values = true)]
    pub fetch_cert: bool,

    /// Ask the controller whether it can decrypt the input's SealedSecrets. Prints nothing;
    /// fails with "unable to decrypt sealed secret: <name>" if it cannot.
    #[arg(long, env = "SEALED_SECRETS_VALIDATE", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = go_bool,
          value_name = "BOOL", hide_default_value = true, hide_possible_values = true)]
    pub validate: bool,

    /// Have the controller re-encrypt the input's SealedSecrets with its newest key (alias
    /// --rotate). With -f and no -w, the input file is rewritten in place (atomically).
    #[arg(long, alias = "rotate", env = "SEALED_SECRETS_RE_ENCRYPT", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = go_bool,
          value_name = "BOOL", hide_default_value = true, hide_possible_values = true)]
    pub re_encrypt: bool,

    /// Print the version and exit.
    #[arg(long, action = ArgAction::SetTrue)]
    pub version: bool,

    /// Log verbosity on stderr (klog's -v): 0 warnings only, 1-2 info, 3-5 debug, 6+ trace.
    #[arg(
        short = 'v',
        long = "v",
        env = "SEALED_SECRETS_V",
        default_value_t = 0,
        value_name = "LEVEL"
    )]
    pub verbosity: u8,

    #[command(flatten)]
    pub cluster: ClusterFlags,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `seal`'s own commands, beside kubeseal's flags (which work without a command).
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    #[command(subcommand)]
    Create(Box<CreateCommand>),
    ReEncrypt(Box<ReEncryptArgs>),
    Keys(Box<KeysArgs>),
    Lint(LintArgs),
    Edit(Box<EditArgs>),
    /// Prints a shell completion script: `source <(seal completion bash)`, or into the shell's
    /// completion directory (zsh: `_seal` on $fpath; fish: `seal.fish`).
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Prints the manual page (roff): `seal man > seal.1; man -l seal.1`.
    Man,
}

/// Lists the sealing keys: fingerprint, created, expires, state (the key label: active,
/// compromised, ...), whether it seals new SealedSecrets, and how many SealedSecrets still need
/// it (as the controller counted them; "-" while it has not looked at all of them). From the
/// controller (`/v1/keys`, public information only), or offline from a key backup.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub struct KeysArgs {
    /// Output format: table (default) or json.
    #[arg(
        short = 'o',
        long,
        env = "SEALED_SECRETS_FORMAT",
        value_name = "FORMAT"
    )]
    pub format: Option<String>,

    #[command(flatten)]
    pub access: KeyAccess,
}

/// Makes a SealedSecret directly from values, as `kubectl create secret` makes a Secret: no
/// plaintext file is ever written.
#[derive(Debug, clap::Subcommand)]
pub enum CreateCommand {
    /// From literals, files and env files (`kubectl create secret generic`).
    Generic {
        /// The Secret's name.
        name: String,
        /// KEY=VALUE; repeatable.
        #[arg(long, value_name = "KEY=VALUE")]
        from_literal: Vec<String>,
        /// [KEY=]PATH: the file's contents under KEY (default the file's name); repeatable.
        #[arg(long, value_name = "[KEY=]PATH")]
        from_file: Vec<String>,
        /// A file of KEY=VALUE lines (blank lines and `#` comments skipped); repeatable.
        #[arg(long, value_name = "PATH")]
        from_env_file: Vec<std::path::PathBuf>,
        /// The Secret's type (default Opaque).
        #[arg(long = "type", value_name = "TYPE")]
        secret_type: Option<String>,
        #[command(flatten)]
        common: CreateFlags,
    },
    /// A `kubernetes.io/tls` Secret from a certificate and its key (`kubectl create secret tls`).
    Tls {
        name: String,
        /// The TLS certificate (PEM), as tls.crt.
        #[arg(long, value_name = "PATH")]
        cert: std::path::PathBuf,
        /// The TLS private key (PEM), as tls.key.
        #[arg(long, value_name = "PATH")]
        key: std::path::PathBuf,
        #[command(flatten)]
        common: CreateFlags,
    },
    /// A `kubernetes.io/dockerconfigjson` Secret (`kubectl create secret docker-registry`).
    DockerRegistry {
        name: String,
        #[arg(
            long,
            default_value = "https://index.docker.io/v1/",
            value_name = "SERVER"
        )]
        docker_server: String,
        #[arg(long, value_name = "USER")]
        docker_username: String,
        #[arg(long, value_name = "PASSWORD")]
        docker_password: String,
        #[arg(long, value_name = "EMAIL")]
        docker_email: Option<String>,
        #[command(flatten)]
        common: CreateFlags,
    },
}

/// What every `seal create` takes beside the values.
#[derive(Debug, clap::Args)]
pub struct CreateFlags {
    /// The namespace (default the kubeconfig context's, else "default").
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// KEY=VALUE labels on the Secret; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// KEY=VALUE annotations on the Secret; repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// Scope: strict, namespace-wide or cluster-wide.
    #[arg(long, default_value = "strict", value_name = "SCOPE")]
    pub scope: String,
    /// Output format: json or yaml (default json; a -w file ending in .yaml means yaml).
    #[arg(short = 'o', long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Output file (default stdout), written atomically.
    #[arg(short = 'w', long, value_name = "FILE")]
    pub sealed_secret_file: Option<std::path::PathBuf>,
    /// The sealing certificate (file or URL), offline; without it, the controller's.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE|URL")]
    pub sealing_cert: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// Checks files and directories for CI and pre-commit: fails, naming the file and the document,
/// on a plain Secret with data (unless allowed), a malformed SealedSecret (bad base64, an item
/// too short to be a ciphertext, a scope annotation with a value other than "true" or "false"),
/// a strict or namespace-wide SealedSecret without the name or namespace it was sealed for, and,
/// with --cert, a certificate that has expired or expires within --warn-expiry. Directories are
/// searched for *.yaml, *.yml and *.json, skipping dot-names; files there that are not YAML or
/// JSON (Helm templates) are skipped. Offline: nothing is decrypted.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub struct LintArgs {
    /// Files and directories to check.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// A plain Secret that may stay in the repository: NAMESPACE/NAME, or NAME for any
    /// namespace. Repeatable and comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "[NAMESPACE/]NAME")]
    pub allow: Vec<String>,

    /// The sealing certificate (file or URL) whose expiry to check.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE|URL")]
    pub cert: Option<String>,

    /// With --cert: fail when the certificate expires within this long (e.g. 720h).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_request_timeout)]
    pub warn_expiry: Duration,
}

/// Opens a SealedSecret's items in an editor and seals what changed, in place.
///
/// The editor ($KUBE_EDITOR, else $EDITOR, else vi; a command with arguments, such as
/// EDITOR="code --wait", is split as a shell splits it) shows the items as YAML: under
/// stringData as text, under data as base64. With --recovery-private-key the values are
/// decrypted; without it each shows as <sealed>: leave it to keep the item, write a new value
/// in its place to seal that, or delete the line to remove the item. New lines add items.
///
/// On save only the changed and new items are sealed, for the scope of the SealedSecret's own
/// metadata; every other ciphertext, the rest of the file and its other documents stay byte
/// for byte, and the file is replaced atomically. Nothing is written if the editor fails or
/// nothing changed. The text lives in a directory only you can enter (0700), in memory where
/// possible ($XDG_RUNTIME_DIR, /dev/shm), and is removed afterwards.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub struct EditArgs {
    /// The file holding the SealedSecret (YAML or JSON).
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,

    /// Which SealedSecret of a file that holds several: NAME, or NAMESPACE/NAME.
    #[arg(long, value_name = "[NAMESPACE/]NAME")]
    pub name: Option<String>,

    /// The sealing certificate (file or URL), offline; without it, the controller's.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE|URL")]
    pub cert: Option<String>,

    #[command(flatten)]
    pub access: KeyAccess,
}

/// How `seal`'s own commands reach the keys: through the controller (the connection flags), or
/// offline from key backups.
#[derive(Debug, clap::Args)]
pub struct KeyAccess {
    /// Offline: key backup files (a PEM key, a key Secret, or a List of them, as `kubectl get
    /// secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml` gives). Repeatable and
    /// comma-separated.
    #[arg(
        long,
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub recovery_private_key: Vec<String>,

    #[command(flatten)]
    pub connection: Connection,
}

/// How `seal`'s own commands reach the controller: the request timeout and kubeseal's
/// connection flags.
#[derive(Debug, clap::Args)]
pub struct Connection {
    /// How long each request to the cluster may take (as for sealing).
    #[arg(
        long,
        env = "SEALED_SECRETS_REQUEST_TIMEOUT",
        value_name = "DURATION",
        value_parser = parse_request_timeout
    )]
    pub request_timeout: Option<Duration>,

    #[command(flatten)]
    pub cluster: ClusterFlags,
}

/// Re-encrypts every SealedSecret in the given files and directories to the newest key, in
/// place: through the controller (`/v1/rotate`, one request per SealedSecret), or offline with
/// --cert (the newest key's certificate) and --recovery-private-key (the keys that open them).
///
/// Only values not already sealed for the newest key change; everything else in each file
/// (other documents, comments, layout) stays byte for byte, and a file with nothing to change
/// is not written. A directory is searched for *.yaml, *.yml and *.json files, skipping names
/// that start with a dot. Nothing is written unless every SealedSecret was re-encrypted; each
/// file is replaced atomically.
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub struct ReEncryptArgs {
    /// Files and directories to re-encrypt.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// List what would change, and write nothing.
    #[arg(long, env = "SEALED_SECRETS_DRY_RUN", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = go_bool,
          value_name = "BOOL", hide_default_value = true, hide_possible_values = true)]
    pub dry_run: bool,

    /// Offline: the certificate (file or URL) of the key to re-encrypt to. Needs
    /// --recovery-private-key (the keys that open the SealedSecrets).
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE|URL")]
    pub cert: Option<String>,

    #[command(flatten)]
    pub access: KeyAccess,
}

/// Flags kubeseal uses to reach the cluster: the controller's Service, and client-go's
/// kubeconfig overrides, with client-go's meaning. Unused in the offline modes (--cert,
/// --recovery-unseal), which contact no cluster; there the kubeconfig is read only for the
/// context's namespace.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Cluster connection")]
pub struct ClusterFlags {
    /// Name of the controller's Service.
    #[arg(
        long,
        env = "SEALED_SECRETS_CONTROLLER_NAME",
        default_value = "sealed-secrets-controller",
        value_name = "NAME"
    )]
    pub controller_name: String,

    /// Namespace of the controller's Service.
    #[arg(
        long,
        env = "SEALED_SECRETS_CONTROLLER_NAMESPACE",
        default_value = "kube-system",
        value_name = "NAMESPACE"
    )]
    pub controller_namespace: String,

    /// Path to the kubeconfig file (default $KUBECONFIG, a colon-separated list merged as
    /// kubectl merges it, else ~/.kube/config).
    #[arg(long, env = "SEALED_SECRETS_KUBECONFIG", value_name = "FILE")]
    pub kubeconfig: Option<String>,

    /// The kubeconfig context to use.
    #[arg(long, env = "SEALED_SECRETS_CONTEXT", value_name = "NAME")]
    pub context: Option<String>,

    /// The kubeconfig cluster to use.
    #[arg(long, env = "SEALED_SECRETS_CLUSTER", value_name = "NAME")]
    pub cluster: Option<String>,

    /// The kubeconfig user to use.
    #[arg(long, env = "SEALED_SECRETS_USER", value_name = "NAME")]
    pub user: Option<String>,

    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, env = "SEALED_SECRETS_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// If provided, this name is used to validate the server's certificate (default: the
    /// server's host name).
    #[arg(long, env = "SEALED_SECRETS_TLS_SERVER_NAME", value_name = "NAME")]
    pub tls_server_name: Option<String>,

    /// Path to a cert file for the certificate authority.
    #[arg(
        long,
        env = "SEALED_SECRETS_CERTIFICATE_AUTHORITY",
        value_name = "FILE"
    )]
    pub certificate_authority: Option<String>,

    /// If true, the server's certificate is not checked for validity. This makes HTTPS
    /// connections insecure.
    #[arg(long, env = "SEALED_SECRETS_INSECURE_SKIP_TLS_VERIFY", action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_value = "false", default_missing_value = "true",
          value_parser = go_bool, value_name = "BOOL", hide_default_value = true,
          hide_possible_values = true)]
    pub insecure_skip_tls_verify: bool,

    /// If provided, this URL (http, https or socks5) is used to connect through a proxy.
    #[arg(long, env = "SEALED_SECRETS_PROXY_URL", value_name = "URL")]
    pub proxy_url: Option<String>,

    /// Bearer token for authentication to the API server.
    #[arg(
        long,
        env = "SEALED_SECRETS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// Path to a client certificate file for TLS.
    #[arg(long, env = "SEALED_SECRETS_CLIENT_CERTIFICATE", value_name = "FILE")]
    pub client_certificate: Option<String>,

    /// Path to a client key file for TLS.
    #[arg(long, env = "SEALED_SECRETS_CLIENT_KEY", value_name = "FILE")]
    pub client_key: Option<String>,

    /// Username to impersonate for the operation.
    #[arg(long = "as", env = "SEALED_SECRETS_AS", value_name = "USER")]
    pub as_user: Option<String>,

    /// Group to impersonate for the operation; repeat it for several groups. Needs --as.
    #[arg(long, env = "SEALED_SECRETS_AS_GROUP", value_name = "GROUP", action = ArgAction::Append)]
    pub as_group: Vec<String>,

    /// UID to impersonate for the operation. Needs --as.
    #[arg(long, env = "SEALED_SECRETS_AS_UID", value_name = "UID")]
    pub as_uid: Option<String>,

    /// Username for basic authentication to the API server.
    #[arg(long, env = "SEALED_SECRETS_USERNAME", value_name = "NAME")]
    pub username: Option<String>,

    /// Password for basic authentication to the API server.
    #[arg(
        long,
        env = "SEALED_SECRETS_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// Accepted for kubectl compatibility: seal never asks the API server for compressed
    /// responses.
    #[arg(long, env = "SEALED_SECRETS_DISABLE_COMPRESSION", action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_value = "false", default_missing_value = "true",
          value_parser = go_bool, value_name = "BOOL", hide_default_value = true,
          hide_possible_values = true)]
    pub disable_compression: bool,
}

/// The value parser of every boolean flag and `SEALED_SECRETS_*` boolean: Go's
/// `strconv.ParseBool` ([`shared::go::parse_bool`]), which pflag uses for `--flag=<value>` and
/// kubeseal for its environment. The reason is clap's own wording; clap's message already
/// quotes the value.
fn go_bool(s: &str) -> Result<bool, &'static str> {
    shared::go::parse_bool(s).map_err(|_| "value was not a boolean")
}

/// `--request-timeout` as client-go's `ParseTimeout` reads it: a bare non-negative integer is
/// seconds, anything else is a Go duration (`1h2m3.5s`, `500ms`). Empty means unset, like `0`.
fn parse_request_timeout(s: &str) -> Result<Duration, String> {
    if s.is_empty() {
        return Ok(Duration::ZERO);
    }
    let digits = s.strip_prefix('+').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Go's Duration holds about 292 years.
        return digits
            .parse::<u64>()
            .ok()
            .filter(|secs| *secs <= i64::MAX as u64 / 1_000_000_000)
            .map(Duration::from_secs)
            .ok_or_else(|| "timeout too large".to_owned());
    }
    parse_go_duration(s).map_err(|reason| {
        format!(
            "{reason}: give a number of seconds, or a number with a unit (e.g. 5s, 1m, 1m30s, 500ms)"
        )
    })
}

/// Go's `time.ParseDuration`, without negative values: `[+]0` or a sequence of decimal
/// numbers, each with an optional fraction and a unit (ns, us, µs, ms, s, m, h).
fn parse_go_duration(s: &str) -> Result<Duration, String> {
    const MAX_NANOS: u128 = i64::MAX as u128; // Go's Duration is an int64 of nanoseconds.
    if s.starts_with('-') {
        return Err("negative timeout".to_owned());
    }
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err("empty duration".to_owned());
    }
    let digits_len = |t: &str| t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (int, r) = rest.split_at(digits_len(rest));
        let (frac, r) = match r.strip_prefix('.') {
            Some(r) => r.split_at(digits_len(r)),
            None => ("", r),
        };
        if int.is_empty() && frac.is_empty() {
            return Err("invalid duration".to_owned());
        }
        let unit_len = r
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(r.len());
        let (unit, r) = r.split_at(unit_len);
        let nanos_per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err("missing unit in duration".to_owned()),
            _ => return Err(format!("unknown unit {unit:?} in duration")),
        };
        let too_large = || "duration too large".to_owned();
        let whole: u128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| too_large())?
        };
        // Digits past the 18th are below a nanosecond even for hours.
        let frac = &frac[..frac.len().min(18)];
        let part: u128 = if frac.is_empty() {
            0
        } else {
            let scale = 10u128.pow(u32::try_from(frac.len()).unwrap_or(18));
            frac.parse::<u128>().map_err(|_| too_large())? * nanos_per_unit / scale
        };
        total = whole
            .checked_mul(nanos_per_unit)
            .and_then(|n| n.checked_add(part))
            .and_then(|n| n.checked_add(total))
            .filter(|n| *n <= MAX_NANOS)
            .ok_or_else(too_large)?;
        rest = r;
    }
    Ok(Duration::from_nanos(
        u64::try_from(total).unwrap_or(u64::MAX),
    ))
}

/// A clap parse error as one line, without the `error: ` prefix: clap's message, then any
/// `tip:` it gives, joined by `; `. The usage block and the "For more information, try
/// '--help'" line are dropped: every error of the CLI is one line. Values the message quotes
/// are kept as given (newlines included) for `main` to escape.
pub fn usage_error_line(e: clap::Error) -> String {
    use clap::CommandFactory as _;
    use clap::error::{ContextKind, ContextValue};
    // The usage was rendered, styled, when the error was made; it is cut off below.
    let usage = match e.get(ContextKind::Usage) {
        Some(ContextValue::StyledStr(usage)) => Some(usage.ansi().to_string()),
        _ => None,
    };
    // Rendered with plain styles, the rest holds no escape codes of clap's own, and nothing
    // of the values is stripped.
    let e = e.with_cmd(&Cli::command().styles(clap::builder::Styles::plain()));
    let text = e.render().ansi().to_string();
    let mut text = text.trim_end();
    text = text
        .strip_suffix("For more information, try '--help'.")
        .unwrap_or(text)
        .trim_end();
    // clap prints a usage only from the error's context, after the message.
    if let Some(rest) = usage.and_then(|u| text.strip_suffix(u.trim_end())) {
        text = rest.trim_end();
    }
    let text = text.strip_prefix("error: ").unwrap_or(text);
    text.replace("\n\n  tip: ", "; tip: ")
        .replace("\n  tip: ", "; tip: ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn pflag_style_booleans() {
        let cli = Cli::try_parse_from([
            "seal",
            "--raw",
            "--allow-empty-data=false",
            "--fetch-cert=true",
        ])
        .unwrap();
        assert!(cli.raw);
        assert!(!cli.allow_empty_data);
        assert!(cli.fetch_cert);
    }

    /// Every boolean, whether on the command line or (through the same value parser) from
    /// `SEALED_SECRETS_*`, takes Go's syntax and nothing else.
    #[test]
    fn booleans_take_gos_syntax_only() {
        let cmd = Cli::command();
        let bools: Vec<_> = cmd
            .get_arguments()
            .filter(|a| a.get_num_args() == Some(clap::builder::ValueRange::new(0..=1)))
            .collect();
        let names: Vec<_> = bools.iter().filter_map(|a| a.get_long()).collect();
        assert_eq!(
            names,
            [
                "raw",
                "allow-empty-data",
                "recovery-unseal",
                "fetch-cert",
                "validate",
                "re-encrypt",
                "insecure-skip-tls-verify",
                "disable-compression"
            ]
        );
        for arg in bools {
            let long = arg.get_long().unwrap();
            let parse = |value: Option<&str>| {
                let flag = match value {
                    Some(v) => format!("--{long}={v}"),
                    None => format!("--{long}"),
                };
                cmd.clone()
                    .try_get_matches_from(["seal", flag.as_str()])
                    .map(|m| *m.get_one::<bool>(arg.get_id().as_str()).unwrap())
            };
            assert!(parse(None).unwrap(), "--{long}");
            for t in ["1", "t", "T", "TRUE", "true", "True"] {
                assert!(parse(Some(t)).unwrap(), "--{long}={t}");
            }
            for f in ["0", "f", "F", "FALSE", "false", "False"] {
                assert!(!parse(Some(f)).unwrap(), "--{long}={f}");
            }
            for bad in ["yes", "no", "on", "off", "y", "n", "tRUE", "", "2"] {
                let err = parse(Some(bad)).unwrap_err();
                assert_eq!(
                    err.kind(),
                    clap::error::ErrorKind::ValueValidation,
                    "--{long}={bad:?}"
                );
            }
        }
        // clap's own boolean flags read yes/no/on/off from the environment: none has one.
        for arg in cmd.get_arguments() {
            if matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
                assert!(arg.get_env().is_none(), "{:?}", arg.get_id());
            }
        }
    }

    #[test]
    fn recovery_keys_repeat_and_split_on_commas() {
        let cli = Cli::try_parse_from([
            "seal",
            "--recovery-private-key",
            "a.pem,b.pem",
            "--recovery-private-key=c.yaml",
        ])
        .unwrap();
        assert_eq!(cli.recovery_private_key, ["a.pem", "b.pem", "c.yaml"]);
    }

    #[test]
    fn a_repeated_flag_takes_the_last_value() {
        let cli = Cli::try_parse_from([
            "seal",
            "--kubeconfig",
            "a",
            "--kubeconfig",
            "b",
            "--raw",
            "--raw=false",
        ])
        .unwrap();
        assert_eq!(cli.cluster.kubeconfig.as_deref(), Some("b"));
        assert!(!cli.raw);
    }

    #[test]
    fn request_timeouts_in_kubectl_syntax() {
        let ok = |s: &str| parse_request_timeout(s).unwrap();
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok(""), Duration::ZERO);
        assert_eq!(ok("5"), Duration::from_secs(5));
        assert_eq!(ok("5s"), Duration::from_secs(5));
        assert_eq!(ok("1m"), Duration::from_secs(60));
        assert_eq!(ok("1h2m3.5s"), Duration::from_millis(3_723_500));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("1.s"), Duration::from_secs(1));
        assert_eq!(ok("10us"), Duration::from_micros(10));
        assert_eq!(ok("10\u{b5}s"), Duration::from_micros(10));
        assert_eq!(ok("+2s"), Duration::from_secs(2));
        assert!(parse_request_timeout("9999999999999").is_err());
        for bad in [
            "-1s",
            "-1",
            "s",
            "5x",
            "1h5",
            ".s",
            "1.2.3s",
            "abc",
            "9999999999h",
        ] {
            assert!(parse_request_timeout(bad).is_err(), "{bad:?}");
        }
        let err = parse_request_timeout("5x").unwrap_err();
        assert!(err.contains("unknown unit \"x\""), "{err}");
        let cli = Cli::try_parse_from(["seal", "--request-timeout", "1m30s"]).unwrap();
        assert_eq!(cli.request_timeout, Some(Duration::from_secs(90)));
    }

    #[test]
    fn usage_errors_are_one_line() {
        let line = |args: &[&str]| {
            let mut argv = vec!["seal"];
            argv.extend_from_slice(args);
            usage_error_line(Cli::try_parse_from(argv).unwrap_err())
        };
        assert_eq!(line(&["--bogus"]), "unexpected argument '--bogus' found");
        assert_eq!(
            line(&["--cer", "c.pem"]),
            "unexpected argument '--cer' found; tip: a similar argument exists: '--cert'"
        );
        assert_eq!(
            line(&["--cert"]),
            "a value is required for '--cert <FILE|URL>' but none was supplied"
        );
        assert_eq!(
            line(&["-v", "\u{1b}[1m\n\nUsage: x"]),
            "invalid value '\u{1b}[1m\n\nUsage: x' for '--v <LEVEL>': invalid digit found in string"
        );
    }

    #[test]
    fn rotate_is_an_alias_of_re_encrypt() {
        assert!(
            Cli::try_parse_from(["seal", "--rotate"])
                .unwrap()
                .re_encrypt
        );
    }
}
