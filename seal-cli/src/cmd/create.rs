//! `seal create generic|tls|docker-registry NAME`: the Secret is built in memory from the
//! values, as `kubectl create secret` builds it, and only its SealedSecret is written. That
//! replaces `kubectl create secret ... --dry-run=client -o yaml | kubeseal` and the plaintext
//! files people keep for it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use shared::Scope;
use shared::unseal::secret_key_problem;
use zeroize::Zeroizing;

use crate::cli::{CreateCommand, CreateFlags};
use crate::io::{self, Limit, Sensitivity, Sink};
use crate::plan::{CertSource, SecretOptions, connection, non_empty};
use crate::print::{self, Format};

/// `KEY=VALUE` of `flag`, split at the first `=`.
fn pair<'a>(flag: &str, text: &'a str) -> Result<(&'a str, &'a str)> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k, v)),
        _ => bail!(
            "{flag} {:?}: expected KEY=VALUE",
            shared::text::escape(text)
        ),
    }
}

/// Adds one item, refusing a bad or repeated key.
fn put(
    data: &mut BTreeMap<String, ByteString>,
    key: &str,
    value: Vec<u8>,
    from: &str,
) -> Result<()> {
    if let Some(problem) = secret_key_problem(key) {
        bail!("{from}: key {:?} {problem}", shared::text::escape(key));
    }
    if data.insert(key.to_owned(), ByteString(value)).is_some() {
        bail!("{from}: key {:?} given twice", shared::text::escape(key));
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    io::read_file(path, Limit::INPUT)
}

/// `kubectl create secret generic`'s sources, in its order: files, literals, env files.
fn generic_data(
    from_literal: &[String],
    from_file: &[String],
    from_env_file: &[PathBuf],
) -> Result<BTreeMap<String, ByteString>> {
    let combined = !from_file.is_empty() || !from_literal.is_empty();
    if !from_env_file.is_empty() && combined {
        // As kubectl refuses it.
        bail!("--from-env-file cannot be combined with --from-file or --from-literal");
    }
    let mut data = BTreeMap::new();
    for spec in from_file {
        let (key, path) = match spec.split_once('=') {
            Some((k, p)) if !k.is_empty() => (k.to_owned(), PathBuf::from(p)),
            _ => {
                let path = PathBuf::from(spec);
                let key = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        anyhow!("--from-file {spec:?}: no file name to use as the key")
                    })?;
                (key, path)
            }
        };
        put(&mut data, &key, read(&path)?, "--from-file")?;
    }
    for literal in from_literal {
        let (key, value) = pair("--from-literal", literal)?;
        put(&mut data, key, value.as_bytes().to_vec(), "--from-literal")?;
    }
    for path in from_env_file {
        let text = Zeroizing::new(read(path)?);
        let text = std::str::from_utf8(&text)
            .map_err(|_| anyhow!("--from-env-file {}: not UTF-8", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let from = format!("--from-env-file {} line {}", path.display(), n + 1);
            // The line is not quoted in the error: it holds a value. (kubectl reads a bare KEY
            // from its own environment; here that is refused, as a file should say it all.)
            let (key, value) = line
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| anyhow!("{from}: expected KEY=VALUE"))?;
            put(&mut data, key, value.as_bytes().to_vec(), &from)?;
        }
    }
    Ok(data)
}

/// kubectl's `.dockerconfigjson`, byte for byte as Go marshals its struct:
/// `{"auths":{SERVER:{"username","password","email","auth"}}}`, the email left out when empty,
/// strings escaped as Go's encoding/json does (HTML characters too).
fn docker_config(server: &str, user: &str, password: &str, email: Option<&str>) -> Vec<u8> {
    let auth = shared::go::base64_encode(format!("{user}:{password}").as_bytes());
    let mut out = b"{\"auths\":{".to_vec();
    let field = |out: &mut Vec<u8>, name: &str, value: &str, first: bool| {
        if !first {
            out.push(b',');
        }
        shared::go::json_string(name.as_bytes(), true, out);
        out.push(b':');
        shared::go::json_string(value.as_bytes(), true, out);
    };
    shared::go::json_string(server.as_bytes(), true, &mut out);
    out.extend_from_slice(b":{");
    field(&mut out, "username", user, true);
    field(&mut out, "password", password, false);
    if let Some(email) = email.filter(|e| !e.is_empty()) {
        field(&mut out, "email", email, false);
    }
    field(&mut out, "auth", &auth, false);
    out.extend_from_slice(b"}}}");
    out
}

fn pairs(flag: &str, list: &[String]) -> Result<Option<BTreeMap<String, String>>> {
    let mut map = BTreeMap::new();
    for item in list {
        let (k, v) = pair(flag, item)?;
        map.insert(k.to_owned(), v.to_owned());
    }
    Ok(Some(map).filter(|m| !m.is_empty()))
}

pub fn run(command: CreateCommand) -> Result<()> {
    let (name, secret_type, data, common): (String, String, _, CreateFlags) = match command {
        CreateCommand::Generic {
            name,
            from_literal,
            from_file,
            from_env_file,
            secret_type,
            common,
        } => (
            name,
            non_empty(secret_type).unwrap_or_else(|| "Opaque".to_owned()),
            generic_data(&from_literal, &from_file, &from_env_file)?,
            common,
        ),
        CreateCommand::Tls {
            name,
            cert,
            key,
            common,
        } => {
            let mut data = BTreeMap::new();
            put(&mut data, "tls.crt", read(&cert)?, "--cert")?;
            put(&mut data, "tls.key", read(&key)?, "--key")?;
            (name, "kubernetes.io/tls".to_owned(), data, common)
        }
        CreateCommand::DockerRegistry {
            name,
            docker_server,
            docker_username,
            docker_password,
            docker_email,
            common,
        } => {
            let config = docker_config(
                &docker_server,
                &docker_username,
                &docker_password,
                docker_email.as_deref(),
            );
            let mut data = BTreeMap::new();
            put(&mut data, ".dockerconfigjson", config, "--docker-server")?;
            (
                name,
                "kubernetes.io/dockerconfigjson".to_owned(),
                data,
                common,
            )
        }
    };
    let scope: Scope = common.scope.parse()?;
    let output = match common.sealed_secret_file {
        Some(path) => Sink::File(path),
        None => Sink::Stdout,
    };
    let format = match (&output, non_empty(common.format)) {
        (_, Some(f)) => Format::parse(&f)?,
        (Sink::File(p), None) => Format::from_extension(p).unwrap_or(Format::Json),
        (Sink::Stdout, None) => Format::Json,
    };
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name),
            labels: pairs("--label", &common.label)?,
            annotations: pairs("--annotation", &common.annotation)?,
            ..ObjectMeta::default()
        },
        type_: Some(secret_type),
        data: Some(data),
        ..Secret::default()
    };
    let source = match non_empty(common.sealing_cert) {
        Some(c) => CertSource::Given(c),
        None => CertSource::Controller,
    };
    let talks = source == CertSource::Controller;
    let (controller, kubeconfig) = connection(common.connection.cluster, talks)?;
    let timeout = common.connection.request_timeout.filter(|t| !t.is_zero());
    let (pem, shown) = super::certificate_from(&source, &kubeconfig, &controller, timeout)?;
    let cert = super::seal::checked_cert(&pem, &shown)?;
    let options = SecretOptions {
        name: None,
        namespace: non_empty(common.namespace),
        forced_namespace: None,
        scope,
        allow_empty_data: false,
    };
    let sealed =
        super::seal::seal_all(vec![secret], &options, &kubeconfig, &cert).context("sealing")?;
    let docs: Vec<_> = sealed.iter().map(print::sealed_secret_node).collect();
    output.write(&print::render(&docs, format)?, Sensitivity::Public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_is_kubectls() {
        // Without an email, and Go's escaping of HTML characters.
        assert_eq!(
            String::from_utf8(docker_config("r", "u<", "p", None)).unwrap(),
            r#"{"auths":{"r":{"username":"u\u003c","password":"p","auth":"dTw6cA=="}}}"#
        );
        assert_eq!(
            String::from_utf8(docker_config("r.example", "u", "p", Some("e@x"))).unwrap(),
            r#"{"auths":{"r.example":{"username":"u","password":"p","email":"e@x","auth":"dTpw"}}}"#
        );
    }
}
