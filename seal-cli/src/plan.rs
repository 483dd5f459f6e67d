//! The validated plan: which mode runs, with what. Every flag combination is checked here,
//! in kubeseal's dispatch order, before any input is read or any output is written.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use shared::Scope;

use crate::cli::Cli;
use crate::io::{Sink, Source};
use crate::kubeconfig;
use crate::print::Format;

/// What the run does. kubeseal's flags are modes; the first one that applies wins.
#[derive(Debug, PartialEq, Eq)]
pub enum Mode {
    Version,
    RecoveryUnseal {
        keys: Vec<PathBuf>,
    },
    FetchCert {
        cert: String,
    },
    MergeInto {
        cert: String,
        file: PathBuf,
    },
    Raw {
        cert: String,
        from_file: Option<PathBuf>,
    },
    Seal {
        cert: String,
    },
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
    /// Where a Secret without a namespace, or `--raw` without `-n`, finds one.
    pub kubeconfig: kubeconfig::Selection,
    /// `--request-timeout`; `None` (also for `0`) means the default.
    pub request_timeout: Option<Duration>,
    /// `--recovery-private-key` without `--recovery-unseal`: worth a warning.
    pub ignored_recovery_keys: bool,
}

/// kubeseal treats an empty flag value as unset; so does `SEALED_SECRETS_CERT=`.
fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

const NO_CLUSTER: &str = "needs a cluster, which this version of seal does not support yet";

impl TryFrom<Cli> for Plan {
    type Error = anyhow::Error;

    fn try_from(cli: Cli) -> Result<Plan> {
        let output = match non_empty(cli.sealed_secret_file) {
            Some(p) => Sink::File(PathBuf::from(p)),
            None => Sink::Stdout,
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
        let cert = non_empty(cli.cert);
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
        let need_cert = |what: &str| match &cert {
            Some(c) => Ok(c.clone()),
            None => bail!(
                "{what} without --cert {NO_CLUSTER} (it would fetch the certificate from the controller); \
                 pass --cert <file|url> with the controller's certificate"
            ),
        };
        let ignored_recovery_keys = !keys.is_empty() && !cli.recovery_unseal;
        let mode = if cli.version {
            Mode::Version
        } else if cli.recovery_unseal {
            if keys.is_empty() {
                bail!("--recovery-unseal requires --recovery-private-key");
            }
            Mode::RecoveryUnseal { keys }
        } else if cli.validate {
            bail!(
                "--validate {NO_CLUSTER}; to check a SealedSecret offline, use --recovery-unseal with the private key"
            );
        } else if cli.re_encrypt {
            bail!(
                "--re-encrypt {NO_CLUSTER}; to re-seal offline, unseal with --recovery-unseal and seal again with --cert <file|url>"
            );
        } else if cli.fetch_cert {
            Mode::FetchCert {
                cert: need_cert("--fetch-cert")?,
            }
        } else if let Some(file) = non_empty(cli.merge_into) {
            Mode::MergeInto {
                cert: need_cert("sealing")?,
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
                cert: need_cert("sealing")?,
                from_file,
            }
        } else {
            Mode::Seal {
                cert: need_cert("sealing")?,
            }
        };

        Ok(Plan {
            mode,
            input: match non_empty(cli.secret_file) {
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
            kubeconfig: kubeconfig::Selection {
                path: non_empty(cli.cluster.kubeconfig).map(PathBuf::from),
                context: non_empty(cli.cluster.context),
            },
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
    fn cluster_modes_say_so() {
        for args in [&["--validate"][..], &["--re-encrypt"], &["--rotate"], &[]] {
            let err = plan(args).unwrap_err().to_string();
            assert!(err.contains("needs a cluster"), "{err}");
            assert!(err.contains("not support yet"), "{err}");
        }
        assert!(
            plan(&[])
                .unwrap_err()
                .to_string()
                .contains("--cert <file|url>")
        );
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
    fn from_file_key_is_dropped() {
        let p = plan(&["--cert", "c", "--raw", "--from-file", "password=/tmp/p"]).unwrap();
        assert_eq!(
            p.mode,
            Mode::Raw {
                cert: "c".into(),
                from_file: Some("/tmp/p".into())
            }
        );
    }
}
