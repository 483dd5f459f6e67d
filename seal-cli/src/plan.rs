//! The validated plan: which mode runs, with what. Every flag combination is checked here,
//! in kubeseal's dispatch order, before any input is read or any output is written.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use shared::Scope;

use crate::cli::{Cli, ClusterFlags, EditArgs, KeyAccess, KeysArgs, ReEncryptArgs};
use crate::cluster::Controller;
use crate::io::{Sink, Source};
use crate::kubeconfig;
use crate::print::Format;

/// Where the sealing certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertSource {
    /// `--cert`: a path or URL, offline (no cluster is contacted).
    Given(String),
    /// The controller, through the API server's service proxy.
    Controller,
}

/// The certificates `Mode::Seal` seals with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certs {
    /// Without a cluster name: the last `--cert` (pflag's rule), or the controller. The output
    /// is `Plan::output`.
    One(CertSource),
    /// `--cert NAME=FILE|URL`, once per cluster: the input is sealed once for each, into each
    /// cluster's own output (`Plan::output` is not used).
    Clusters(Vec<Cluster>),
}

/// One cluster of `--cert NAME=FILE|URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    /// The certificate's path or URL, offline.
    pub cert: String,
    /// `-w` with `{cluster}` replaced by the name; stdout only when it is the only cluster.
    pub output: Sink,
}

/// Why the `--cert` values do not make a plan.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertFlagError {
    #[error(
        "--cert: cannot mix values with a cluster name (NAME=FILE|URL) and without one \
         ({unnamed:?})"
    )]
    Mixed { unnamed: String },
    #[error("--cert: cluster {name:?} is given twice")]
    DuplicateCluster { name: String },
    #[error("--cert {name}=: no certificate file or URL for cluster {name:?}")]
    NoCertificate { name: String },
    #[error(
        "several clusters need -w with {{cluster}} (--cert NAME=...), e.g. -w \
         'sealed/{{cluster}}/secret.yaml'"
    )]
    NeedsPattern,
    #[error("--cert NAME=FILE|URL (a cluster name) works only for sealing, not with {mode}")]
    NotSealing { mode: &'static str },
}

/// The `--cert` values, read: kubeseal's one certificate, or one per named cluster.
#[derive(Debug, PartialEq, Eq)]
enum CertFlag {
    Unnamed(Option<String>),
    /// `(name, path or URL)`, in the order given.
    Named(Vec<(String, String)>),
}

impl CertFlag {
    fn parse(values: Vec<String>) -> Result<CertFlag, CertFlagError> {
        if !values.iter().any(|v| cluster_name(v).is_some()) {
            // pflag: a repeated flag takes its last value; an empty one means unset.
            return Ok(CertFlag::Unnamed(non_empty(values.into_iter().last())));
        }
        let mut named: Vec<(String, String)> = Vec::with_capacity(values.len());
        for value in &values {
            let Some((name, cert)) = cluster_name(value) else {
                return Err(CertFlagError::Mixed {
                    unnamed: value.clone(),
                });
            };
            if cert.is_empty() {
                return Err(CertFlagError::NoCertificate { name: name.into() });
            }
            // The last one winning, as pflag would, could hide a typo in a long command.
            if named.iter().any(|(n, _)| n == name) {
                return Err(CertFlagError::DuplicateCluster { name: name.into() });
            }
            named.push((name.into(), cert.into()));
        }
        Ok(CertFlag::Named(named))
    }
}

/// `NAME=REST` splits into a cluster name and a certificate when NAME is a DNS label,
/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`. A label holds no `:` or `/`, so a URL (`https://x/c?a=b`,
/// `file:///a=b.pem`) or a path with a directory (`./a=b.pem`) is never read as named; a file
/// in the current directory whose name has an `=` is given as `./a=b.pem`.
fn cluster_name(value: &str) -> Option<(&str, &str)> {
    let (name, rest) = value.split_once('=')?;
    let bytes = name.as_bytes();
    let inner = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let label = bytes.first().is_some_and(inner)
        && bytes.last().is_some_and(inner)
        && bytes.iter().all(|b| inner(b) || *b == b'-');
    label.then_some((name, rest))
}

/// What the run does. kubeseal's flags are modes; the first one that applies wins.
#[derive(Debug, PartialEq, Eq)]
pub enum Mode {
    Version,
    RecoveryUnseal {
        keys: Vec<PathBuf>,
    },
    /// `--validate`: ask the controller whether it can decrypt each input SealedSecret.
    Validate,
    /// `--re-encrypt`: have the controller re-seal each input SealedSecret with its newest key.
    ReEncrypt,
    FetchCert {
        cert: CertSource,
    },
    MergeInto {
        cert: CertSource,
        file: PathBuf,
    },
    Raw {
        cert: CertSource,
        from_file: Option<PathBuf>,
    },
    Seal {
        certs: Certs,
    },
}

impl Mode {
    /// The flag that chose the mode; `None` for plain sealing and `--version`.
    fn flag(&self) -> Option<&'static str> {
        match self {
            Mode::Version | Mode::Seal { .. } => None,
            Mode::RecoveryUnseal { .. } => Some("--recovery-unseal"),
            Mode::Validate => Some("--validate"),
            Mode::ReEncrypt => Some("--re-encrypt"),
            Mode::FetchCert { .. } => Some("--fetch-cert"),
            Mode::MergeInto { .. } => Some("--merge-into"),
            Mode::Raw { .. } => Some("--raw"),
        }
    }
}

/// Each named cluster with its output: `-w` with every `{cluster}` replaced by its name. One
/// cluster may go to stdout, or to a `-w` without `{cluster}`; several need the placeholder,
/// or they would all write one file.
fn clusters(
    named: &[(String, String)],
    pattern: Option<&str>,
) -> Result<Vec<Cluster>, CertFlagError> {
    const PLACEHOLDER: &str = "{cluster}";
    if named.len() > 1 && !pattern.is_some_and(|p| p.contains(PLACEHOLDER)) {
        return Err(CertFlagError::NeedsPattern);
    }
    Ok(named
        .iter()
        .map(|(name, cert)| Cluster {
            name: name.clone(),
            cert: cert.clone(),
            output: match pattern {
                Some(p) => Sink::File(PathBuf::from(p.replace(PLACEHOLDER, name))),
                None => Sink::Stdout,
            },
        })
        .collect())
}

/// What is done to every input Secret before it is sealed (kubeseal's per-Secret steps), and
/// what a `--raw` value is bound to. Flags fill it; `--merge-into` then sets the file's name
/// and namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretOptions {
    /// `--name` (with `--merge-into`, the file's name): replaces the input's name.
    pub name: Option<String>,
    /// `-n`: must agree with a namespace the input already has; fills an empty one.
    pub namespace: Option<String>,
    /// With `--merge-into`, the file's namespace: replaces the input's. Never from a flag.
    pub forced_namespace: Option<String>,
    /// `--scope`: a value other than strict rewrites the input's scope annotations.
    pub scope: Scope,
    /// `--allow-empty-data`: a Secret with no data and no stringData is sealed too.
    pub allow_empty_data: bool,
}

/// A run, fully decided from the flags: nothing is read or written until it exists.
#[derive(Debug)]
pub struct Plan {
    pub mode: Mode,
    pub input: Source,
    pub output: Sink,
    pub format: Format,
    /// Whether the format was asked for (`-o`, or a `.yaml`/`.json` output file) rather than
    /// defaulted: `--merge-into` keeps its file's own format otherwise.
    pub format_explicit: bool,
    pub secret: SecretOptions,
    /// Where a Secret without a namespace, or `--raw` without `-n`, finds one; and, in the
    /// cluster modes, which cluster and user to talk to.
    pub kubeconfig: kubeconfig::Selection,
    /// `--controller-name`, `--controller-namespace`: the controller's Service.
    pub controller: Controller,
    /// `--request-timeout`; `None` (also for `0`) means the default.
    pub request_timeout: Option<Duration>,
    /// `--recovery-private-key` without `--recovery-unseal`: worth a warning.
    pub ignored_recovery_keys: bool,
}

/// The controller's Service and the kubeconfig selection from the connection flags; the
/// controller flags must not be empty when the run talks to the cluster.
pub fn connection(
    c: ClusterFlags,
    talks_to_cluster: bool,
) -> Result<(Controller, kubeconfig::Selection)> {
    let controller = Controller {
        name: c.controller_name,
        namespace: c.controller_namespace,
    };
    if talks_to_cluster {
        if controller.name.is_empty() {
            bail!("--controller-name must not be empty");
        }
        if controller.namespace.is_empty() {
            bail!("--controller-namespace must not be empty");
        }
    }
    let kubeconfig = kubeconfig::Selection {
        path: non_empty(c.kubeconfig).map(PathBuf::from),
        context: non_empty(c.context),
        cluster: non_empty(c.cluster),
        user: non_empty(c.user),
        overrides: kubeconfig::Overrides {
            server: non_empty(c.server),
            tls_server_name: non_empty(c.tls_server_name),
            certificate_authority: non_empty(c.certificate_authority),
            insecure_skip_tls_verify: c.insecure_skip_tls_verify,
            proxy_url: non_empty(c.proxy_url),
            token: non_empty(c.token),
            client_certificate: non_empty(c.client_certificate),
            client_key: non_empty(c.client_key),
            impersonate: non_empty(c.as_user),
            impersonate_uid: non_empty(c.as_uid),
            impersonate_groups: c.as_group.into_iter().filter(|g| !g.is_empty()).collect(),
            username: non_empty(c.username),
            password: non_empty(c.password),
        },
    };
    Ok((controller, kubeconfig))
}

/// The controller of `seal`'s own commands, through the API server's service proxy.
#[derive(Debug)]
pub struct Remote {
    pub kubeconfig: Box<kubeconfig::Selection>,
    pub controller: Controller,
    pub request_timeout: Option<Duration>,
}

/// The key files of `--recovery-private-key` (offline), and, without them, the controller.
fn key_access(access: KeyAccess) -> Result<(Vec<PathBuf>, Option<Duration>, Option<Remote>)> {
    let files: Vec<PathBuf> = access
        .recovery_private_key
        .into_iter()
        .filter(|k| !k.is_empty())
        .map(PathBuf::from)
        .collect();
    let request_timeout = access.connection.request_timeout.filter(|t| !t.is_zero());
    let remote = if files.is_empty() {
        let (controller, kubeconfig) = connection(access.connection.cluster, true)?;
        Some(Remote {
            kubeconfig: Box::new(kubeconfig),
            controller,
            request_timeout,
        })
    } else {
        None
    };
    Ok((files, request_timeout, remote))
}

/// `seal re-encrypt`, decided from its flags.
#[derive(Debug)]
pub struct ReEncryptPlan {
    pub paths: Vec<PathBuf>,
    pub dry_run: bool,
    pub via: Rotator,
}

/// Who re-encrypts.
#[derive(Debug)]
pub enum Rotator {
    /// The controller's `/v1/rotate`, through the service proxy.
    Controller(Remote),
    /// Offline: the newest key's certificate, and the private keys that open the objects.
    Offline {
        cert: String,
        keys: Vec<PathBuf>,
        request_timeout: Option<Duration>,
    },
}

impl TryFrom<ReEncryptArgs> for ReEncryptPlan {
    type Error = anyhow::Error;

    fn try_from(args: ReEncryptArgs) -> Result<ReEncryptPlan> {
        let cert = non_empty(args.cert);
        let (keys, request_timeout, remote) = key_access(args.access)?;
        let via = match (cert, remote) {
            (Some(cert), None) => Rotator::Offline {
                cert,
                keys,
                request_timeout,
            },
            (Some(_), Some(_)) => bail!(
                "--cert without --recovery-private-key: re-encrypting offline needs the keys that \
                 open the SealedSecrets"
            ),
            (None, None) => bail!(
                "--recovery-private-key without --cert: re-encrypting offline needs the \
                 certificate of the key to re-encrypt to"
            ),
            (None, Some(remote)) => Rotator::Controller(remote),
        };
        Ok(ReEncryptPlan {
            paths: args.paths,
            dry_run: args.dry_run,
            via,
        })
    }
}

/// `seal keys`, decided from its flags.
#[derive(Debug)]
pub struct KeysPlan {
    pub json: bool,
    pub from: KeySource,
}

/// Where `seal keys` reads the keys.
#[derive(Debug)]
pub enum KeySource {
    Controller(Remote),
    Backup(Vec<PathBuf>),
}

impl TryFrom<KeysArgs> for KeysPlan {
    type Error = anyhow::Error;

    fn try_from(args: KeysArgs) -> Result<KeysPlan> {
        let json = match non_empty(args.format).as_deref() {
            None | Some("table") => false,
            Some("json") => true,
            Some(other) => bail!("unsupported output format: {other} (table or json)"),
        };
        let (files, _, remote) = key_access(args.access)?;
        let from = match remote {
            Some(remote) => KeySource::Controller(remote),
            None => KeySource::Backup(files),
        };
        Ok(KeysPlan { json, from })
    }
}

/// `seal edit`, decided from its flags.
#[derive(Debug)]
pub struct EditPlan {
    pub file: PathBuf,
    /// `--name`: `NAME` or `NAMESPACE/NAME`.
    pub name: Option<String>,
    /// Where new values are sealed for: `--cert`, else the controller (key backups only open
    /// the values shown).
    pub cert: CertSource,
    /// `--recovery-private-key`: the keys that open the values shown.
    pub keys: Vec<PathBuf>,
    pub kubeconfig: Box<kubeconfig::Selection>,
    pub controller: Controller,
    pub request_timeout: Option<Duration>,
}

impl TryFrom<EditArgs> for EditPlan {
    type Error = anyhow::Error;

    fn try_from(args: EditArgs) -> Result<EditPlan> {
        let cert = match non_empty(args.cert) {
            Some(c) => CertSource::Given(c),
            None => CertSource::Controller,
        };
        let keys = args
            .access
            .recovery_private_key
            .into_iter()
            .filter(|k| !k.is_empty())
            .map(PathBuf::from)
            .collect();
        let (controller, kubeconfig) = connection(
            args.access.connection.cluster,
            cert == CertSource::Controller,
        )?;
        let name = non_empty(args.name);
        if let Some(n) = &name
            && (n.split('/').count() > 2 || n.split('/').any(str::is_empty))
        {
            bail!("--name {n:?}: expected NAME or NAMESPACE/NAME");
        }
        Ok(EditPlan {
            file: args.file,
            name,
            cert,
            keys,
            kubeconfig: Box::new(kubeconfig),
            controller,
            request_timeout: args
                .access
                .connection
                .request_timeout
                .filter(|t| !t.is_zero()),
        })
    }
}

/// kubeseal treats an empty flag value as unset; so does `SEALED_SECRETS_CERT=`.
pub fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

impl TryFrom<Cli> for Plan {
    type Error = anyhow::Error;

    fn try_from(cli: Cli) -> Result<Plan> {
        let secret_file = non_empty(cli.secret_file);
        // Which mode wins is decided below; --re-encrypt's in-place rewrite must be known
        // here, where the output decides the format.
        let re_encrypts = !cli.version && !cli.recovery_unseal && !cli.validate && cli.re_encrypt;
        let sealed_secret_file = non_empty(cli.sealed_secret_file);
        let output = match &sealed_secret_file {
            Some(p) => Sink::File(PathBuf::from(p)),
            // kubeseal rewrites the input file of --re-encrypt when there is no -w.
            None => match (&secret_file, re_encrypts) {
                (Some(input), true) => Sink::File(PathBuf::from(input)),
                _ => Sink::Stdout,
            },
        };
        let explicit_format = non_empty(cli.format)
            .map(|f| Format::parse(&f))
            .transpose()?;
        let file_format = match &output {
            Sink::File(p) => Format::from_extension(p),
            Sink::Stdout => None,
        };
        // An output file named .yaml/.yml forces YAML, as in kubeseal.
        let (format, format_explicit) = match (file_format, explicit_format) {
            (Some(Format::Yaml), _) => (Format::Yaml, true),
            (_, Some(f)) => (f, true),
            _ => (Format::Json, false),
        };
        let scope: Scope = cli.scope.parse()?;
        let cert_flag = CertFlag::parse(cli.cert)?;
        let cert = match &cert_flag {
            CertFlag::Unnamed(cert) => cert.clone(),
            CertFlag::Named(_) => None,
        };
        let from_file: Vec<String> = cli
            .from_file
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        let keys: Vec<PathBuf> = cli
            .recovery_private_key
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();

        if !from_file.is_empty() && !cli.raw {
            bail!("--from-file requires --raw");
        }
        let cert_source = match &cert {
            Some(c) => CertSource::Given(c.clone()),
            None => CertSource::Controller,
        };
        let ignored_recovery_keys = !keys.is_empty() && !cli.recovery_unseal;
        let mode = if cli.version {
            Mode::Version
        } else if cli.recovery_unseal {
            // No key: the unseal fails as kubeseal's does, naming the items no key opened.
            Mode::RecoveryUnseal { keys }
        } else if cli.validate {
            Mode::Validate
        } else if cli.re_encrypt {
            Mode::ReEncrypt
        } else if cli.fetch_cert {
            Mode::FetchCert {
                cert: cert_source.clone(),
            }
        } else if let Some(file) = non_empty(cli.merge_into) {
            Mode::MergeInto {
                cert: cert_source.clone(),
                file: PathBuf::from(file),
            }
        } else if cli.raw {
            if from_file.len() > 1 {
                bail!("--raw takes at most one --from-file");
            }
            let from_file = from_file.first().map(|spec| {
                // kubectl's [key=]path: the key names nothing here, only the value is sealed.
                let path = spec.split_once('=').map_or(spec.as_str(), |(_, p)| p);
                PathBuf::from(path)
            });
            Mode::Raw {
                cert: cert_source.clone(),
                from_file,
            }
        } else {
            let certs = match cert_flag {
                CertFlag::Unnamed(_) => Certs::One(cert_source.clone()),
                CertFlag::Named(ref named) => {
                    Certs::Clusters(clusters(named, sealed_secret_file.as_deref())?)
                }
            };
            Mode::Seal { certs }
        };
        if matches!(cert_flag, CertFlag::Named(_))
            && let Some(flag) = mode.flag()
        {
            return Err(CertFlagError::NotSealing { mode: flag }.into());
        }

        let talks_to_cluster = match &mode {
            Mode::Validate | Mode::ReEncrypt => true,
            Mode::Version | Mode::RecoveryUnseal { .. } => false,
            Mode::Seal {
                certs: Certs::Clusters(_),
            } => false,
            _ => cert_source == CertSource::Controller,
        };
        let (controller, kubeconfig) = connection(cli.cluster, talks_to_cluster)?;

        Ok(Plan {
            mode,
            input: match secret_file {
                Some(p) => Source::File(PathBuf::from(p)),
                None => Source::Stdin,
            },
            output,
            format,
            format_explicit,
            secret: SecretOptions {
                name: non_empty(cli.name),
                namespace: non_empty(cli.namespace),
                forced_namespace: None,
                scope,
                allow_empty_data: cli.allow_empty_data,
            },
            kubeconfig,
            controller,
            request_timeout: cli.request_timeout.filter(|t| !t.is_zero()),
            ignored_recovery_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn plan(args: &[&str]) -> Result<Plan> {
        let mut argv = vec!["seal"];
        argv.extend_from_slice(args);
        Plan::try_from(Cli::try_parse_from(argv).unwrap())
    }

    #[test]
    fn yaml_output_file_forces_yaml() {
        let p = plan(&["--cert", "c.pem", "-o", "json", "-w", "out.yml"]).unwrap();
        assert_eq!(p.format, Format::Yaml);
        let p = plan(&["--cert", "c.pem", "-w", "out.txt"]).unwrap();
        assert_eq!(p.format, Format::Json);
    }

    #[test]
    fn unknown_format_is_refused() {
        let err = plan(&["--cert", "c.pem", "-o", "xml"])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "unsupported output format: xml");
    }

    #[test]
    fn from_file_needs_raw() {
        let err = plan(&["--cert", "c.pem", "--from-file", "a"])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "--from-file requires --raw");
    }

    #[test]
    fn without_cert_the_certificate_comes_from_the_controller() {
        for (args, mode) in [
            (
                &[][..],
                Mode::Seal {
                    certs: Certs::One(CertSource::Controller),
                },
            ),
            (
                &["--fetch-cert"],
                Mode::FetchCert {
                    cert: CertSource::Controller,
                },
            ),
            (&["--validate"], Mode::Validate),
            (&["--re-encrypt"], Mode::ReEncrypt),
            (&["--rotate"], Mode::ReEncrypt),
            (&["--cert", "c", "--validate"], Mode::Validate),
        ] {
            assert_eq!(plan(args).unwrap().mode, mode, "{args:?}");
        }
        let p = plan(&[]).unwrap();
        assert_eq!(
            p.controller,
            Controller {
                name: "sealed-secrets-controller".into(),
                namespace: "kube-system".into()
            }
        );
        let err = plan(&["--controller-name="]).unwrap_err().to_string();
        assert_eq!(err, "--controller-name must not be empty");
        // Offline, the controller flags do not matter.
        plan(&["--cert", "c", "--controller-namespace="]).unwrap();
    }

    #[test]
    fn re_encrypt_rewrites_the_input_file_without_w() {
        let p = plan(&["--re-encrypt", "-f", "in.yaml"]).unwrap();
        assert_eq!(p.output, Sink::File("in.yaml".into()));
        assert_eq!(
            p.format,
            Format::Yaml,
            "from the file's extension, as kubeseal"
        );
        let p = plan(&["--re-encrypt", "-f", "in.json", "-w", "out.json"]).unwrap();
        assert_eq!(p.output, Sink::File("out.json".into()));
        let p = plan(&["--re-encrypt"]).unwrap();
        assert_eq!(p.output, Sink::Stdout);
        // Only --re-encrypt rewrites its input; a mode that wins over it does not.
        let p = plan(&["--validate", "--re-encrypt", "-f", "in.yaml"]).unwrap();
        assert_eq!(p.output, Sink::Stdout);
    }

    #[test]
    fn connection_flags_reach_the_kubeconfig_selection() {
        let p = plan(&[
            "--context",
            "c",
            "--cluster",
            "k",
            "--user",
            "u",
            "-s",
            "https://x:1",
            "--token",
            "t",
            "--as",
            "a",
            "--as-group",
            "g1",
            "--as-group=g2",
            "--as-uid",
            "9",
            "--certificate-authority",
            "ca",
            "--client-certificate",
            "cc",
            "--client-key",
            "ck",
            "--insecure-skip-tls-verify",
            "--tls-server-name",
            "n",
            "--proxy-url",
            "http://p:3128",
            "--username",
            "bob",
            "--password",
            "pw",
        ])
        .unwrap();
        let sel = p.kubeconfig;
        assert_eq!(
            (
                sel.context.as_deref(),
                sel.cluster.as_deref(),
                sel.user.as_deref()
            ),
            (Some("c"), Some("k"), Some("u"))
        );
        let o = sel.overrides;
        assert_eq!(o.server.as_deref(), Some("https://x:1"));
        assert_eq!(o.token.as_deref(), Some("t"));
        assert_eq!(o.impersonate.as_deref(), Some("a"));
        assert_eq!(o.impersonate_groups, ["g1", "g2"]);
        assert_eq!(o.impersonate_uid.as_deref(), Some("9"));
        assert_eq!(o.certificate_authority.as_deref(), Some("ca"));
        assert_eq!(o.client_certificate.as_deref(), Some("cc"));
        assert_eq!(o.client_key.as_deref(), Some("ck"));
        assert!(o.insecure_skip_tls_verify);
        assert_eq!(o.tls_server_name.as_deref(), Some("n"));
        assert_eq!(o.proxy_url.as_deref(), Some("http://p:3128"));
        assert_eq!(o.username.as_deref(), Some("bob"));
        assert_eq!(o.password.as_deref(), Some("pw"));
        let debug = format!("{o:?}");
        assert!(!debug.contains("\"t\"") && !debug.contains("pw"), "{debug}");
    }

    #[test]
    fn dispatch_order_follows_kubeseal() {
        let p = plan(&[
            "--cert",
            "c",
            "--raw",
            "--merge-into",
            "m.yaml",
            "--fetch-cert",
        ])
        .unwrap();
        assert!(matches!(p.mode, Mode::FetchCert { .. }));
        let p = plan(&["--cert", "c", "--raw", "--merge-into", "m.yaml"]).unwrap();
        assert!(matches!(p.mode, Mode::MergeInto { .. }));
        let p = plan(&[
            "--recovery-unseal",
            "--recovery-private-key",
            "k",
            "--validate",
        ])
        .unwrap();
        assert!(matches!(p.mode, Mode::RecoveryUnseal { .. }));
    }

    #[test]
    fn per_secret_options_come_from_the_flags() {
        let p = plan(&[
            "--cert",
            "c",
            "--name",
            "n",
            "-n",
            "ns",
            "--scope",
            "namespace-wide",
            "--allow-empty-data",
        ])
        .unwrap();
        assert_eq!(
            p.secret,
            SecretOptions {
                name: Some("n".into()),
                namespace: Some("ns".into()),
                forced_namespace: None,
                scope: Scope::NamespaceWide,
                allow_empty_data: true,
            }
        );
        // Empty values are unset, as in kubeseal.
        let p = plan(&["--cert", "c", "--name=", "-n", ""]).unwrap();
        assert_eq!((p.secret.name, p.secret.namespace), (None, None));
    }

    #[test]
    fn edit_takes_a_name_and_a_certificate_or_the_controller() {
        let edit = |args: &[&str]| {
            let mut argv = vec!["seal", "edit", "f.yaml"];
            argv.extend_from_slice(args);
            match Cli::try_parse_from(argv).unwrap().command {
                Some(crate::cli::Command::Edit(args)) => EditPlan::try_from(*args),
                other => panic!("{other:?}"),
            }
        };
        let p = edit(&["--name", "team-a/api", "--recovery-private-key", "k1,k2"]).unwrap();
        assert_eq!(p.name.as_deref(), Some("team-a/api"));
        assert_eq!(p.cert, CertSource::Controller);
        assert_eq!(p.keys, [PathBuf::from("k1"), PathBuf::from("k2")]);
        let p = edit(&["--cert", "c.pem", "--controller-name="]).unwrap();
        assert_eq!(p.cert, CertSource::Given("c.pem".into()));
        for bad in ["a/b/c", "/api", "team-a/"] {
            let err = edit(&["--name", bad]).unwrap_err().to_string();
            assert_eq!(
                err,
                format!("--name {bad:?}: expected NAME or NAMESPACE/NAME")
            );
        }
        let err = edit(&["--controller-name="]).unwrap_err().to_string();
        assert_eq!(err, "--controller-name must not be empty");
    }

    #[test]
    fn from_file_key_is_dropped() {
        let p = plan(&["--cert", "c", "--raw", "--from-file", "password=/tmp/p"]).unwrap();
        assert_eq!(
            p.mode,
            Mode::Raw {
                cert: CertSource::Given("c".into()),
                from_file: Some("/tmp/p".into())
            }
        );
    }

    #[test]
    fn a_cluster_name_is_a_dns_label_before_the_first_equals_sign() {
        for (value, want) in [
            (
                "prod=https://x/cert.pem",
                Some(("prod", "https://x/cert.pem")),
            ),
            ("staging=./staging.pem", Some(("staging", "./staging.pem"))),
            ("eu-1=a=b.pem", Some(("eu-1", "a=b.pem"))),
            ("0=c.pem", Some(("0", "c.pem"))),
            ("prod=", Some(("prod", ""))),
            ("https://x/cert?a=b", None),
            ("file:///tmp/a=b.pem", None),
            ("./a=b.pem", None),
            ("dir/a=b.pem", None),
            ("/abs/a=b.pem", None),
            ("C:\\certs\\a=b.pem", None),
            ("Prod=c.pem", None),
            ("-prod=c.pem", None),
            ("prod-=c.pem", None),
            ("pro_d=c.pem", None),
            ("a.b=c.pem", None),
            ("=c.pem", None),
            ("c.pem", None),
        ] {
            assert_eq!(cluster_name(value), want, "{value:?}");
        }
    }

    fn clusters_of(args: &[&str]) -> Vec<(String, String, Sink)> {
        match plan(args).unwrap().mode {
            Mode::Seal {
                certs: Certs::Clusters(c),
            } => c.into_iter().map(|c| (c.name, c.cert, c.output)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn named_certs_seal_once_per_cluster_into_the_w_pattern() {
        let got = clusters_of(&[
            "--cert",
            "prod=https://x/c?a=b",
            "--cert",
            "staging=./s.pem",
            "-w",
            "sealed/{cluster}/db-{cluster}.yaml",
        ]);
        assert_eq!(
            got,
            [
                (
                    "prod".into(),
                    "https://x/c?a=b".into(),
                    Sink::File("sealed/prod/db-prod.yaml".into())
                ),
                (
                    "staging".into(),
                    "./s.pem".into(),
                    Sink::File("sealed/staging/db-staging.yaml".into())
                ),
            ]
        );
        // One cluster: stdout, or a -w without the placeholder.
        assert_eq!(
            clusters_of(&["--cert", "prod=c.pem"]),
            [("prod".into(), "c.pem".into(), Sink::Stdout)]
        );
        assert_eq!(
            clusters_of(&["--cert", "prod=c.pem", "-w", "out.yaml"]),
            [("prod".into(), "c.pem".into(), Sink::File("out.yaml".into()))]
        );
        // Offline: the controller flags do not matter.
        plan(&["--cert", "a=c.pem", "--controller-name="]).unwrap();
    }

    #[test]
    fn unnamed_certs_keep_pflags_last_value() {
        for (args, want) in [
            (&["--cert", "a.pem", "--cert", "b.pem"][..], "b.pem"),
            (
                &["--cert", "https://x/c?a=b", "--cert", "./a=b.pem"],
                "./a=b.pem",
            ),
            (&["--cert", "./a=b.pem"], "./a=b.pem"),
        ] {
            assert_eq!(
                plan(args).unwrap().mode,
                Mode::Seal {
                    certs: Certs::One(CertSource::Given(want.into()))
                },
                "{args:?}"
            );
        }
        // The last one empty: unset, as pflag and kubeseal.
        assert_eq!(
            plan(&["--cert", "a.pem", "--cert="]).unwrap().mode,
            Mode::Seal {
                certs: Certs::One(CertSource::Controller)
            }
        );
    }

    #[test]
    fn bad_named_certs_are_refused_in_one_line() {
        let err = |args: &[&str]| plan(args).unwrap_err().to_string();
        assert_eq!(
            err(&["--cert", "prod=a.pem", "--cert", "./b.pem"]),
            "--cert: cannot mix values with a cluster name (NAME=FILE|URL) and without one \
             (\"./b.pem\")"
        );
        assert_eq!(
            err(&["--cert", "b.pem", "--cert", "prod=a.pem"]),
            "--cert: cannot mix values with a cluster name (NAME=FILE|URL) and without one \
             (\"b.pem\")"
        );
        assert_eq!(
            err(&[
                "--cert",
                "prod=a.pem",
                "--cert",
                "prod=b.pem",
                "-w",
                "{cluster}"
            ]),
            "--cert: cluster \"prod\" is given twice"
        );
        assert_eq!(
            err(&["--cert", "prod="]),
            "--cert prod=: no certificate file or URL for cluster \"prod\""
        );
        for w in [&[][..], &["-w", "sealed.yaml"]] {
            let mut args = vec!["--cert", "a=a.pem", "--cert", "b=b.pem"];
            args.extend_from_slice(w);
            assert_eq!(
                err(&args),
                "several clusters need -w with {cluster} (--cert NAME=...), e.g. -w \
                 'sealed/{cluster}/secret.yaml'"
            );
        }
        for (flag, extra) in [
            ("--fetch-cert", &[][..]),
            ("--raw", &["--name", "n", "-n", "ns"]),
            ("--merge-into", &["m.yaml"]),
            ("--validate", &[]),
            ("--re-encrypt", &[]),
            ("--recovery-unseal", &[]),
        ] {
            let mut args = vec!["--cert", "prod=a.pem", flag];
            args.extend_from_slice(extra);
            assert_eq!(
                err(&args),
                format!(
                    "--cert NAME=FILE|URL (a cluster name) works only for sealing, not with {flag}"
                ),
                "{args:?}"
            );
        }
        // --version wins over everything, as in kubeseal.
        assert_eq!(
            plan(&["--cert", "a=b", "--version"]).unwrap().mode,
            Mode::Version
        );
    }
}
